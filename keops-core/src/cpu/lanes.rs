//! The CPU lowering of every IR operation, on lane packs: one function per operation, shared by the
//! macro's generated tile bodies (called with constant operations and fixed-size arrays, so everything
//! folds and unrolls) and the run-time interpreter ([`eval_op`]).
//!
//! Operands are slices of packs, one pack per vector component; element-wise operations broadcast an
//! operand of length 1. Semantics follow [`keops_ir::ops`] (the reference) lane by lane.

use keops_ir::{Binary, Op, Ternary, Unary};

use super::simd::{flat, flat_mut};
use crate::{Pack, Real};

#[inline(always)]
fn pick<P: Copy>(a: &[P], k: usize) -> P {
    if a.len() == 1 { a[0] } else { a[k] }
}

/// `x^m` by repeated squaring; unrolled when `m` is a constant.
#[inline(always)]
fn powi<T: Real>(x: T, m: i32) -> T {
    let mut e = m.unsigned_abs();
    let mut base = x;
    let mut acc = T::one();
    while e > 0 {
        if e & 1 == 1 {
            acc *= base;
        }
        base = base * base;
        e >>= 1;
    }
    if m < 0 { T::one() / acc } else { acc }
}

/// One lane of an element-wise unary operation.
#[inline(always)]
pub fn unary_scalar<T: Real>(u: Unary, x: T) -> T {
    let zero = T::zero();
    let one = T::one();
    match u {
        Unary::Minus => -x,
        Unary::Exp => x.exp(),
        Unary::Log => x.log(),
        Unary::XLogX => {
            let v = x * x.log();
            if x == zero { zero } else { v }
        }
        Unary::Sin => x.sin(),
        Unary::Cos => x.cos(),
        Unary::SinXDivX => {
            let v = x.sin() / x;
            if x == zero { one } else { v }
        }
        Unary::Asin => x.asin(),
        Unary::Acos => x.acos(),
        Unary::Atan => x.atan(),
        Unary::Sqrt => x.sqrt(),
        Unary::Rsqrt => {
            let v = one / x.sqrt();
            if x == zero { zero } else { v }
        }
        Unary::Inv => one / x,
        Unary::Square => x * x,
        Unary::Abs => x.abs(),
        Unary::Sign => {
            let p = if x > zero { one } else { zero };
            let n = if x < zero { one } else { zero };
            p - n
        }
        Unary::Step => {
            if x < zero {
                zero
            } else {
                one
            }
        }
        Unary::ReLU => {
            if x < zero {
                zero
            } else {
                x
            }
        }
        Unary::Floor => x.floor(),
        Unary::Pow(m) => powi(x, m),
        Unary::Round(d) => {
            if d == 0 {
                x.round()
            } else {
                let s = T::from_f64(10f64.powi(d));
                (x * s).round() / s
            }
        }
        Unary::ClampInt(a, b) => {
            let (a, b) = (T::from_f64(a as f64), T::from_f64(b as f64));
            let hi = if x > b { b } else { x };
            if x < a { a } else { hi }
        }
        Unary::DiffClampInt(a, b) => {
            let (a, b) = (T::from_f64(a as f64), T::from_f64(b as f64));
            if x < a || x > b { zero } else { one }
        }
    }
}

/// One lane of an element-wise binary operation.
#[inline(always)]
pub fn binary_scalar<T: Real>(b: Binary, x: T, y: T) -> T {
    let (zero, one) = (T::zero(), T::one());
    match b {
        Binary::Add => x + y,
        Binary::Subtract => x - y,
        Binary::Mult => x * y,
        Binary::Divide => x / y,
        Binary::Powf => x.powf(y),
        Binary::Atan2 => x.atan2(y),
        Binary::Equal => {
            if x == y {
                one
            } else {
                zero
            }
        }
        Binary::NotEqual => {
            if x != y {
                one
            } else {
                zero
            }
        }
        Binary::LessThan => {
            if x < y {
                one
            } else {
                zero
            }
        }
        Binary::LessOrEqual => {
            if x <= y {
                one
            } else {
                zero
            }
        }
    }
}

/// One lane of an element-wise ternary operation.
#[inline(always)]
pub fn ternary_scalar<T: Real>(t: Ternary, x: T, y: T, z: T) -> T {
    match t {
        Ternary::Clamp => {
            let hi = if x > z { z } else { x };
            if x < y { y } else { hi }
        }
        Ternary::IfElse => {
            if x >= T::zero() {
                y
            } else {
                z
            }
        }
        Ternary::Mod => x - y * ((x - z) / y).floor(),
    }
}

/// `out = u(a)`, element-wise.
#[inline(always)]
pub fn unary<P: Pack>(u: Unary, out: &mut [P], a: &[P]) {
    for (o, x) in out.iter_mut().zip(a) {
        *o = x.unary(u);
    }
}

/// `out = b(x, y)`, element-wise with broadcasting (`b` is expected to be a constant: generated code).
#[inline(always)]
pub fn binary<P: Pack>(b: Binary, out: &mut [P], x: &[P], y: &[P]) {
    for (k, o) in out.iter_mut().enumerate() {
        *o = pick(x, k).binary(b, pick(y, k));
    }
}

/// `out = t(x, y, z)`, element-wise with broadcasting.
#[inline(always)]
pub fn ternary<P: Pack>(t: Ternary, out: &mut [P], x: &[P], y: &[P], z: &[P]) {
    for (k, o) in out.iter_mut().enumerate() {
        *o = pick(x, k).ternary(t, pick(y, k), pick(z, k));
    }
}

/// A scalar constant.
#[inline(always)]
pub fn constant<P: Pack>(out: &mut [P], c: f64) {
    out[0] = P::splat(<P::Scalar as Real>::from_f64(c));
}

/// The zero vector.
#[inline(always)]
pub fn zero<P: Pack>(out: &mut [P]) {
    out.fill(P::zero());
}

/// `Σ_k a_k`.
#[inline(always)]
pub fn sum<P: Pack>(out: &mut [P], a: &[P]) {
    let mut s = a[0];
    for x in &a[1..] {
        s = s.add(*x);
    }
    out[0] = s;
}

/// A scalar replicated.
#[inline(always)]
pub fn sum_t<P: Pack>(out: &mut [P], a: &[P]) {
    out.fill(a[0]);
}

/// `max_k a_k` (`MAX`) or `min_k a_k`, first of ties, and its index when `ARG`.
#[inline(always)]
pub fn extremum<P: Pack, const MAX: bool, const ARG: bool>(out: &mut [P], a: &[P]) {
    let mut best = a[0];
    let mut arg = P::zero();
    for (k, x) in a.iter().enumerate().skip(1) {
        x.extremum_step::<MAX>(&mut best, &mut arg, <P::Scalar as Real>::from_usize(k));
    }
    out[0] = if ARG { arg } else { best };
}

/// `Σ_k a_k b_k`.
#[inline(always)]
pub fn scalprod<P: Pack>(out: &mut [P], a: &[P], b: &[P]) {
    let mut s = a[0].mul(b[0]);
    for k in 1..a.len() {
        s = a[k].mul_add(b[k], s);
    }
    out[0] = s;
}

/// `out_k = a[idx_k]`.
#[inline(always)]
pub fn select<P: Pack>(out: &mut [P], a: &[P], idx: &[u32]) {
    for (o, &k) in out.iter_mut().zip(idx) {
        *o = a[k as usize];
    }
}

/// Zeros with `out[idx_k] = a_k`.
#[inline(always)]
pub fn place<P: Pack>(out: &mut [P], a: &[P], idx: &[u32]) {
    out.fill(P::zero());
    for (x, &k) in a.iter().zip(idx) {
        out[k as usize] = *x;
    }
}

/// `[a, b]`.
#[inline(always)]
pub fn concat<P: Pack>(out: &mut [P], a: &[P], b: &[P]) {
    out[..a.len()].copy_from_slice(a);
    out[a.len()..].copy_from_slice(b);
}

/// One-hot encoding of `(int)(a + 0.5)` (truncated toward zero; out of range: all zeros).
#[inline(always)]
pub fn one_hot<P: Pack>(out: &mut [P], a: &[P]) {
    for (c, o) in out.iter_mut().enumerate() {
        *o = a[0].one_hot_lane(<P::Scalar as Real>::from_usize(c));
    }
}

/// `out[o] += a[ia] · b[ib]` over the terms.
#[inline(always)]
pub fn tensordot<P: Pack>(out: &mut [P], a: &[P], b: &[P], terms: &[[u32; 3]]) {
    out.fill(P::zero());
    for &[o, ia, ib] in terms {
        let (o, ia, ib) = (o as usize, ia as usize, ib as usize);
        out[o] = a[ia].mul_add(b[ib], out[o]);
    }
}

/// Evaluates any non-variable operation (the interpreter's entry point; the macro calls the functions
/// above directly).
#[inline(always)]
pub fn eval_op<P: Pack>(op: &Op, out: &mut [P], args: &[&[P]]) {
    match op {
        Op::Var(_) => unreachable!("variables are loaded by the caller"),
        Op::Const(c) => constant(out, c.0),
        Op::Zero => zero(out),
        Op::Unary(u) => unary(*u, out, args[0]),
        Op::Binary(b) => binary(*b, out, args[0], args[1]),
        Op::Ternary(t) => ternary(*t, out, args[0], args[1], args[2]),
        Op::Sum => sum(out, args[0]),
        Op::SumT => sum_t(out, args[0]),
        Op::Max => extremum::<P, true, false>(out, args[0]),
        Op::Min => extremum::<P, false, false>(out, args[0]),
        Op::ArgMax => extremum::<P, true, true>(out, args[0]),
        Op::ArgMin => extremum::<P, false, true>(out, args[0]),
        Op::Scalprod => scalprod(out, args[0], args[1]),
        Op::Select(idx) => select(out, args[0], idx),
        Op::Place(idx) => place(out, args[0], idx),
        Op::Concat => concat(out, args[0], args[1]),
        Op::OneHot => one_hot(out, args[0]),
        Op::TensorDot(terms) => tensordot(out, args[0], args[1], terms),
    }
}

/// An argument of [`eval_op_block`]: pack `b`'s `dim` values start at `data[b · stride]` (`stride` is
/// `dim` for values computed in the block, the inner dimension for inner variables read in place, 0
/// for outer variables and parameters).
#[derive(Clone, Copy, Debug)]
pub struct BlockArg<'a, P> {
    /// The values.
    pub data: &'a [P],
    /// Components per pack.
    pub dim: usize,
    /// Distance between consecutive packs' values.
    pub stride: usize,
}

impl<'a, P> BlockArg<'a, P> {
    /// Pack `b`'s values.
    #[inline(always)]
    pub fn at(&self, b: usize) -> &'a [P] {
        &self.data[b * self.stride..b * self.stride + self.dim]
    }
    #[inline(always)]
    fn contiguous(&self, dim: usize) -> bool {
        self.dim == dim && self.stride == dim
    }
}

/// Pack `b`'s slice of argument `i` (empty if there is no such argument).
#[inline(always)]
fn block_arg<'a, P>(args: &[BlockArg<'a, P>], i: usize, b: usize) -> &'a [P] {
    match args.get(i) {
        Some(a) => a.at(b),
        None => &[],
    }
}

/// [`eval_op`] on `nb` packs at once (the interpreter's unit of work): `out` holds `nb` blocks of `dim`
/// packs. The operation is dispatched once.
#[inline(always)]
pub fn eval_op_block<P: Pack>(
    op: &Op,
    out: &mut [P],
    dim: usize,
    args: &[BlockArg<'_, P>],
    nb: usize,
) {
    macro_rules! each {
        (|$o:ident, $a:ident| $body:expr) => {
            for b in 0..nb {
                // Opaque index: keeps LLVM from vectorising across packs (with gathers) instead of across lanes.
                let b = std::hint::black_box(b);
                let $o = &mut out[b * dim..(b + 1) * dim];
                let $a = [block_arg(args, 0, b), block_arg(args, 1, b), block_arg(args, 2, b)];
                $body;
            }
        };
    }
    match op {
        Op::Var(_) => unreachable!("variables are loaded by the caller"),
        Op::Const(c) => each!(|o, _a| constant(o, c.0)),
        Op::Zero => out.fill(P::zero()),
        Op::Unary(u) if args[0].contiguous(dim) => unary_many(*u, out, &args[0].data[..dim * nb]),
        Op::Unary(u) => each!(|o, a| unary(*u, o, a[0])),
        Op::Binary(bop) => binary_block(*bop, out, dim, args[0], args[1], nb),
        Op::Ternary(t) => ternary_block(*t, out, dim, args[0], args[1], args[2], nb),
        Op::Sum => each!(|o, a| sum(o, a[0])),
        Op::SumT => each!(|o, a| sum_t(o, a[0])),
        Op::Max => each!(|o, a| extremum::<P, true, false>(o, a[0])),
        Op::Min => each!(|o, a| extremum::<P, false, false>(o, a[0])),
        Op::ArgMax => each!(|o, a| extremum::<P, true, true>(o, a[0])),
        Op::ArgMin => each!(|o, a| extremum::<P, false, true>(o, a[0])),
        Op::Scalprod => each!(|o, a| scalprod(o, a[0], a[1])),
        Op::Select(idx) => each!(|o, a| select(o, a[0], idx)),
        Op::Place(idx) => each!(|o, a| place(o, a[0], idx)),
        Op::Concat => each!(|o, a| concat(o, a[0], a[1])),
        Op::OneHot => each!(|o, a| one_hot(o, a[0])),
        Op::TensorDot(terms) => each!(|o, a| tensordot(o, a[0], a[1], terms)),
    }
}

/// `out_k = u(a_k)` over many packs, the operation dispatched once (a run-time `u` in the interpreter:
/// each arm is a loop specialised for one operation).
#[inline(always)]
pub fn unary_many<P: Pack>(u: Unary, out: &mut [P], a: &[P]) {
    let (out, a) = (flat_mut(out), flat(a));
    macro_rules! each {
        ($op:expr) => {
            for (o, x) in out.iter_mut().zip(a) {
                *o = unary_scalar($op, *x);
            }
        };
    }
    match u {
        Unary::Minus => each!(Unary::Minus),
        Unary::Exp => each!(Unary::Exp),
        Unary::Log => each!(Unary::Log),
        Unary::XLogX => each!(Unary::XLogX),
        Unary::Sin => each!(Unary::Sin),
        Unary::Cos => each!(Unary::Cos),
        Unary::SinXDivX => each!(Unary::SinXDivX),
        Unary::Asin => each!(Unary::Asin),
        Unary::Acos => each!(Unary::Acos),
        Unary::Atan => each!(Unary::Atan),
        Unary::Sqrt => each!(Unary::Sqrt),
        Unary::Rsqrt => each!(Unary::Rsqrt),
        Unary::Inv => each!(Unary::Inv),
        Unary::Square => each!(Unary::Square),
        Unary::Abs => each!(Unary::Abs),
        Unary::Sign => each!(Unary::Sign),
        Unary::Step => each!(Unary::Step),
        Unary::ReLU => each!(Unary::ReLU),
        Unary::Floor => each!(Unary::Floor),
        Unary::Pow(m) => each!(Unary::Pow(m)),
        Unary::Round(d) => each!(Unary::Round(d)),
        Unary::ClampInt(lo, hi) => each!(Unary::ClampInt(lo, hi)),
        Unary::DiffClampInt(lo, hi) => each!(Unary::DiffClampInt(lo, hi)),
    }
}

/// `b` over a block of `nb` packs with broadcasting (arguments given as (values, dimension); `out` has
/// `nb` blocks of `dim`), the operation dispatched once.
#[inline(always)]
pub fn binary_block<P: Pack>(
    b: Binary,
    out: &mut [P],
    dim: usize,
    x: BlockArg<'_, P>,
    y: BlockArg<'_, P>,
    nb: usize,
) {
    macro_rules! each {
        ($op:expr) => {
            if x.contiguous(dim) && y.contiguous(dim) {
                let n = dim * nb;
                for ((o, p), q) in flat_mut(out).iter_mut().zip(flat(&x.data[..n])).zip(flat(&y.data[..n])) {
                    *o = binary_scalar($op, *p, *q);
                }
            } else {
                for k in 0..nb {
                    // Opaque index: keeps LLVM from vectorising across packs (with gathers) instead of across lanes.
                    let k = std::hint::black_box(k);
                    binary($op, &mut out[k * dim..(k + 1) * dim], x.at(k), y.at(k));
                }
            }
        };
    }
    match b {
        Binary::Add => each!(Binary::Add),
        Binary::Subtract => each!(Binary::Subtract),
        Binary::Mult => each!(Binary::Mult),
        Binary::Divide => each!(Binary::Divide),
        Binary::Powf => each!(Binary::Powf),
        Binary::Atan2 => each!(Binary::Atan2),
        Binary::Equal => each!(Binary::Equal),
        Binary::NotEqual => each!(Binary::NotEqual),
        Binary::LessThan => each!(Binary::LessThan),
        Binary::LessOrEqual => each!(Binary::LessOrEqual),
    }
}

/// `t` over a block of `nb` packs with broadcasting, dispatched once (see [`binary_block`]).
#[inline(always)]
pub fn ternary_block<P: Pack>(
    t: Ternary,
    out: &mut [P],
    dim: usize,
    x: BlockArg<'_, P>,
    y: BlockArg<'_, P>,
    z: BlockArg<'_, P>,
    nb: usize,
) {
    macro_rules! each {
        ($op:expr) => {
            for k in 0..nb {
                // Opaque index: keeps LLVM from vectorising across packs (with gathers) instead of across lanes.
                let k = std::hint::black_box(k);
                ternary($op, &mut out[k * dim..(k + 1) * dim], x.at(k), y.at(k), z.at(k));
            }
        };
    }
    match t {
        Ternary::Clamp => each!(Ternary::Clamp),
        Ternary::IfElse => each!(Ternary::IfElse),
        Ternary::Mod => each!(Ternary::Mod),
    }
}

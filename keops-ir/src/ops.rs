//! The operation table: every primitive operation of the IR with its name, parameters, dimension rule
//! and reference semantics (scalar `f64`, edge cases included), defined once.
//!
//! Element-wise operations are grouped by arity in [`Unary`], [`Binary`] and [`Ternary`], each generated
//! by one table below; the vector operations are the other variants of [`Op`]. The surface language
//! (norms, distances, complex numbers, `Kron`, ...) expands into these in [`crate::check`]. Every back end
//! matches on [`Op`] exhaustively, so adding an operation here makes the compiler list every place
//! that needs a lowering.

use std::fmt;
use std::hash::{Hash, Hasher};

macro_rules! elementwise_ops {
    (
        $(#[$edoc:meta])* enum $enum:ident ($($arg:ident),+);
        $( $(#[$doc:meta])* $name:ident $( ( $($p:ident : $pt:ty),+ ) )? => $body:expr; )*
    ) => {
        $(#[$edoc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $enum {
            $( $(#[$doc])* $name $( ( $($pt),+ ) )? ),*
        }

        impl $enum {
            /// Every operation of this table with placeholder parameters (for table-driven tests).
            pub const ALL: &'static [$enum] = &[ $( $enum::$name $( ( $( elementwise_ops!(@zero $pt) ),+ ) )? ),* ];

            /// The KeOps name of the operation.
            pub fn name(&self) -> &'static str {
                match self { $( $enum::$name { .. } => stringify!($name) ),* }
            }

            /// Reference semantics on `f64` scalars (KeOps' edge cases included).
            #[allow(unused_variables, clippy::redundant_closure_call)]
            pub fn eval(&self, $($arg: f64),+) -> f64 {
                match *self {
                    $( $enum::$name $( ( $($p),+ ) )? => $body ),*
                }
            }
        }
    };
    (@zero $t:ty) => { 0 };
}

elementwise_ops! {
    /// Element-wise functions of one argument (output dimension = input dimension).
    enum Unary (x);
    /// `-x`.
    Minus => -x;
    /// `e^x`.
    Exp => x.exp();
    /// Natural logarithm.
    Log => x.ln();
    /// `x log x`, 0 at 0.
    XLogX => if x == 0.0 { 0.0 } else { x * x.ln() };
    /// Sine.
    Sin => x.sin();
    /// Cosine.
    Cos => x.cos();
    /// `sin(x)/x`, 1 at 0.
    SinXDivX => if x == 0.0 { 1.0 } else { x.sin() / x };
    /// Arc sine.
    Asin => x.asin();
    /// Arc cosine.
    Acos => x.acos();
    /// Arc tangent.
    Atan => x.atan();
    /// Square root.
    Sqrt => x.sqrt();
    /// `1/sqrt(x)`, 0 at 0 (KeOps).
    Rsqrt => if x == 0.0 { 0.0 } else { 1.0 / x.sqrt() };
    /// `1/x`.
    Inv => 1.0 / x;
    /// `x²`.
    Square => x * x;
    /// `|x|`.
    Abs => x.abs();
    /// -1, 0 or 1 (`Sign(0) = 0`; NaN gives 0, as KeOps' `(x>0)-(x<0)`).
    Sign => if x > 0.0 { 1.0 } else if x < 0.0 { -1.0 } else { 0.0 };
    /// 0 for `x < 0`, else 1 (`Step(0) = 1`).
    Step => if x < 0.0 { 0.0 } else { 1.0 };
    /// `max(x, 0)`, written `x < 0 ? 0 : x`.
    ReLU => if x < 0.0 { 0.0 } else { x };
    /// Largest integer not above `x`.
    Floor => x.floor();
    /// `x^m` for an integer `m`.
    Pow(m: i32) => x.powi(m);
    /// Rounds to `d` decimals, halves away from zero: `round(x·10^d)/10^d`.
    Round(d: i32) => if d == 0 { x.round() } else { let s = 10f64.powi(d); (x * s).round() / s };
    /// `x` clamped to the integers `[a, b]`: `x < a ? a : (x > b ? b : x)`.
    ClampInt(a: i32, b: i32) => if x < a as f64 { a as f64 } else if x > b as f64 { b as f64 } else { x };
    /// Derivative of `ClampInt`: 1 inside `[a, b]`, else 0.
    DiffClampInt(a: i32, b: i32) => if x < a as f64 || x > b as f64 { 0.0 } else { 1.0 };
}

elementwise_ops! {
    /// Element-wise functions of two arguments; a dimension-1 operand broadcasts.
    enum Binary (x, y);
    /// `x + y`.
    Add => x + y;
    /// `x - y`.
    Subtract => x - y;
    /// `x * y`.
    Mult => x * y;
    /// `x / y`.
    Divide => x / y;
    /// `x^y` for a real exponent.
    Powf => x.powf(y);
    /// Four-quadrant arc tangent of `x / y`.
    Atan2 => x.atan2(y);
    /// 1 if `x == y`, else 0.
    Equal => if x == y { 1.0 } else { 0.0 };
    /// 1 if `x != y`, else 0.
    NotEqual => if x != y { 1.0 } else { 0.0 };
    /// 1 if `x < y`, else 0.
    LessThan => if x < y { 1.0 } else { 0.0 };
    /// 1 if `x <= y`, else 0.
    LessOrEqual => if x <= y { 1.0 } else { 0.0 };
}

elementwise_ops! {
    /// Element-wise functions of three arguments; dimension-1 operands broadcast.
    enum Ternary (x, y, z);
    /// `x` clamped to `[y, z]`: `x < y ? y : (x > z ? z : x)`.
    Clamp => if x < y { y } else if x > z { z } else { x };
    /// `x >= 0 ? y : z`.
    IfElse => if x >= 0.0 { y } else { z };
    /// `x - y·floor((x - z)/y)` (KeOps' `Mod(x, n, d)`: the sign follows `n`).
    Mod => x - y * ((x - z) / y).floor();
}

/// A scalar constant, compared and hashed by bit pattern so the IR can share equal constants.
#[derive(Clone, Copy, Debug)]
pub struct Cst(pub f64);

impl PartialEq for Cst {
    fn eq(&self, o: &Self) -> bool {
        self.0.to_bits() == o.0.to_bits()
    }
}
impl Eq for Cst {}
impl Hash for Cst {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.0.to_bits().hash(h)
    }
}

/// A primitive IR operation. The node's output dimension is stored on the node; the rules below say how
/// it relates to the arguments' dimensions (`d(a)`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// The input variable at call position `k` (`Ir::vars[k]`).
    Var(u32),
    /// A scalar constant (dimension 1).
    Const(Cst),
    /// The zero vector of the node's dimension.
    Zero,
    /// Element-wise, output `d(a)`.
    Unary(Unary),
    /// Element-wise with broadcasting, output `max(d(a), d(b))`.
    Binary(Binary),
    /// Element-wise with broadcasting, output the largest dimension.
    Ternary(Ternary),
    /// `Σ_k a_k`, dimension 1.
    Sum,
    /// A scalar replicated to the node's dimension.
    SumT,
    /// `max_k a_k` (first of ties; NaN entries after the first are skipped), dimension 1.
    Max,
    /// `min_k a_k`, dimension 1.
    Min,
    /// Index of the first maximum, as a float, dimension 1.
    ArgMax,
    /// Index of the first minimum, as a float, dimension 1.
    ArgMin,
    /// `Σ_k a_k b_k` for equal dimensions, dimension 1.
    Scalprod,
    /// `out_k = a[idx_k]`: `Elem`, `Extract`, real and imaginary parts, complex broadcasting.
    Select(Vec<u32>),
    /// Zeros of the node's dimension with `out[idx_k] = a_k`: `ElemT`, `ExtractT`, `Real2Complex`, ...
    Place(Vec<u32>),
    /// `[a, b]`, dimension `d(a) + d(b)`.
    Concat,
    /// Zeros of the node's dimension with a 1 at `(int)(a + 0.5)` (truncated toward zero; out of range: none).
    OneHot,
    /// A bilinear contraction `out[o] += a[ia] · b[ib]` over a list of `[o, ia, ib]` terms: `TensorDot`,
    /// `MatVecMult`, `VecMatMult`, `TensorProd`, `Kron`.
    TensorDot(Vec<[u32; 3]>),
}

impl Op {
    /// The name used in IR dumps (KeOps' spelling where one exists).
    pub fn name(&self) -> &'static str {
        match self {
            Op::Var(_) => "Var",
            Op::Const(_) => "Const",
            Op::Zero => "Zero",
            Op::Unary(u) => u.name(),
            Op::Binary(b) => b.name(),
            Op::Ternary(t) => t.name(),
            Op::Sum => "Sum",
            Op::SumT => "SumT",
            Op::Max => "Max",
            Op::Min => "Min",
            Op::ArgMax => "ArgMax",
            Op::ArgMin => "ArgMin",
            Op::Scalprod => "Scalprod",
            Op::Select(_) => "Select",
            Op::Place(_) => "Place",
            Op::Concat => "Concat",
            Op::OneHot => "OneHot",
            Op::TensorDot(_) => "TensorDot",
        }
    }

    /// Reference semantics: writes the value of the operation into `out` (the node's dimension), given
    /// its arguments' values. `Var` nodes are not evaluated here.
    pub fn eval(&self, args: &[&[f64]], out: &mut [f64]) {
        let at = |a: &[f64], k: usize| if a.len() == 1 { a[0] } else { a[k] };
        match self {
            Op::Var(_) => unreachable!("variables are read, not evaluated"),
            Op::Const(c) => out.fill(c.0),
            Op::Zero => out.fill(0.0),
            Op::Unary(u) => {
                for (o, &x) in out.iter_mut().zip(args[0]) {
                    *o = u.eval(x);
                }
            }
            Op::Binary(b) => {
                for (k, o) in out.iter_mut().enumerate() {
                    *o = b.eval(at(args[0], k), at(args[1], k));
                }
            }
            Op::Ternary(t) => {
                for (k, o) in out.iter_mut().enumerate() {
                    *o = t.eval(at(args[0], k), at(args[1], k), at(args[2], k));
                }
            }
            Op::Sum => out[0] = args[0].iter().sum(),
            Op::SumT => out.fill(args[0][0]),
            Op::Max | Op::ArgMax => {
                let (mut best, mut arg) = (args[0][0], 0);
                for (k, &v) in args[0].iter().enumerate().skip(1) {
                    if v > best {
                        best = v;
                        arg = k;
                    }
                }
                out[0] = if matches!(self, Op::Max) {
                    best
                } else {
                    arg as f64
                };
            }
            Op::Min | Op::ArgMin => {
                let (mut best, mut arg) = (args[0][0], 0);
                for (k, &v) in args[0].iter().enumerate().skip(1) {
                    if v < best {
                        best = v;
                        arg = k;
                    }
                }
                out[0] = if matches!(self, Op::Min) {
                    best
                } else {
                    arg as f64
                };
            }
            Op::Scalprod => out[0] = args[0].iter().zip(args[1]).map(|(a, b)| a * b).sum(),
            Op::Select(idx) => {
                for (o, &k) in out.iter_mut().zip(idx) {
                    *o = args[0][k as usize];
                }
            }
            Op::Place(idx) => {
                out.fill(0.0);
                for (&v, &k) in args[0].iter().zip(idx) {
                    out[k as usize] = v;
                }
            }
            Op::Concat => {
                let n = args[0].len();
                out[..n].copy_from_slice(args[0]);
                out[n..].copy_from_slice(args[1]);
            }
            Op::OneHot => {
                out.fill(0.0);
                let k = (args[0][0] + 0.5).trunc();
                if k >= 0.0 && k < out.len() as f64 {
                    out[k as usize] = 1.0;
                }
            }
            Op::TensorDot(terms) => {
                out.fill(0.0);
                for &[o, a, b] in terms {
                    out[o as usize] += args[0][a as usize] * args[1][b as usize];
                }
            }
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Var(k) => write!(f, "Var#{k}"),
            Op::Const(c) => write!(f, "{}", c.0),
            Op::Unary(Unary::Pow(m)) => write!(f, "Pow[{m}]"),
            Op::Unary(Unary::Round(d)) => write!(f, "Round[{d}]"),
            Op::Unary(Unary::ClampInt(a, b)) => write!(f, "ClampInt[{a},{b}]"),
            Op::Unary(Unary::DiffClampInt(a, b)) => write!(f, "DiffClampInt[{a},{b}]"),
            Op::Select(idx) | Op::Place(idx) => write!(f, "{}{:?}", self.name(), idx),
            Op::TensorDot(t) => write!(f, "TensorDot[{} terms]", t.len()),
            _ => write!(f, "{}", self.name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edge_values_follow_keops() {
        assert_eq!(Unary::Rsqrt.eval(0.0), 0.0);
        assert_eq!(Unary::Sign.eval(0.0), 0.0);
        assert_eq!(Unary::Sign.eval(-0.0), 0.0);
        assert_eq!(Unary::Sign.eval(-2.0), -1.0);
        assert_eq!(Unary::Step.eval(0.0), 1.0);
        assert_eq!(Unary::Step.eval(-1e-300), 0.0);
        assert_eq!(Unary::XLogX.eval(0.0), 0.0);
        assert_eq!(Unary::SinXDivX.eval(0.0), 1.0);
        assert_eq!(Unary::ReLU.eval(-3.0), 0.0);
        assert_eq!(Unary::Round(2).eval(2.675), 2.68);
        assert_eq!(Unary::Round(0).eval(-2.5), -3.0);
        assert_eq!(Unary::ClampInt(-1, 2).eval(5.0), 2.0);
        assert_eq!(Ternary::IfElse.eval(0.0, 1.0, 2.0), 1.0);
        assert_eq!(Ternary::IfElse.eval(-0.1, 1.0, 2.0), 2.0);
        assert_eq!(Ternary::Mod.eval(5.5, 2.0, 0.0), 1.5);
        assert_eq!(Ternary::Mod.eval(-5.5, 2.0, 0.0), 0.5);
        assert_eq!(Ternary::Mod.eval(5.5, -2.0, 0.0), -0.5);
        assert_eq!(Ternary::Clamp.eval(3.0, 0.0, 1.0), 1.0);
        assert_eq!(Binary::LessOrEqual.eval(1.0, 1.0), 1.0);
        assert_eq!(Binary::LessThan.eval(1.0, 1.0), 0.0);
    }

    #[test]
    fn vector_ops_keep_first_of_ties_and_check_one_hot_bounds() {
        let mut out = [0.0];
        Op::ArgMax.eval(&[&[1.0, 3.0, 3.0]], &mut out);
        assert_eq!(out[0], 1.0);
        Op::ArgMin.eval(&[&[2.0, 1.0, 1.0]], &mut out);
        assert_eq!(out[0], 1.0);
        let mut oh = [9.0; 3];
        Op::OneHot.eval(&[&[1.5]], &mut oh);
        assert_eq!(oh, [0.0, 0.0, 1.0]);
        Op::OneHot.eval(&[&[-0.6]], &mut oh);
        assert_eq!(oh, [1.0, 0.0, 0.0]);
        Op::OneHot.eval(&[&[7.0]], &mut oh);
        assert_eq!(oh, [0.0, 0.0, 0.0]);
    }

    #[test]
    fn every_elementwise_op_has_a_distinct_name() {
        let mut names: Vec<&str> = Unary::ALL.iter().map(|o| o.name()).collect();
        names.extend(Binary::ALL.iter().map(|o| o.name()));
        names.extend(Ternary::ALL.iter().map(|o| o.name()));
        let n = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), n);
    }
}

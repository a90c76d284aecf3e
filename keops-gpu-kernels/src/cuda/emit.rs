//! IR → CUDA C: the device function `keops_formula` that evaluates a kernel's formula (then its weight
//! formula) for one (i, j) pair, with every dimension a constant.
//!
//! Each IR node becomes a local array `vN[dim]` (variables are pointers into the staged rows instead),
//! filled by straight-line code or a constant-bound loop; the semantics of every operation are those of
//! [`keops_ir::ops`] (the reference evaluator), edge cases included, in `float` or `double`. Constants are
//! printed exactly: the shortest decimal that reads back as the same value of the kernel's type, or its
//! bit pattern when it is not finite.

use std::fmt::{self, Write};

use keops_ir::{Binary, Kernel, Layout, NodeId, Op, Slot, Ternary, Unary};

use crate::Dtype;

/// Loops over at most this many components carry `#pragma unroll`; longer ones stay loops.
pub(crate) const UNROLL: usize = 64;

/// `v` as a literal of `dtype`: exact (the shortest decimal that rounds back to the same value of that
/// type), in parentheses when negative; infinities and NaN through their bit patterns.
pub(crate) fn literal(dtype: Dtype, v: f64) -> String {
    match dtype {
        Dtype::F64 if v.is_finite() => paren(format!("{v:e}")),
        Dtype::F64 => format!("__longlong_as_double((long long)0x{:016x}ULL)", v.to_bits()),
        Dtype::F32 => {
            let f = v as f32;
            if f.is_finite() {
                paren(format!("{f:e}f"))
            } else {
                format!("__int_as_float((int)0x{:08x}U)", f.to_bits())
            }
        }
    }
}

fn paren(s: String) -> String {
    if s.starts_with('-') {
        format!("({s})")
    } else {
        s
    }
}

/// The CUDA math function `name` (its `double` spelling) for `dtype`: `exp` → `expf` in `float`, or
/// the hardware intrinsic (`__expf`) where one exists when `fast` (`float` only).
pub(crate) fn math(dtype: Dtype, fast: bool, name: &str) -> String {
    match dtype {
        Dtype::F32 if fast && matches!(name, "exp" | "log" | "sin" | "cos" | "pow") => {
            format!("__{name}f")
        }
        Dtype::F32 => format!("{name}f"),
        Dtype::F64 => name.to_string(),
    }
}

/// A C expression for `u(x)`; `x` is an operand read (evaluated more than once where needed).
pub(crate) fn unary_expr(dtype: Dtype, fast: bool, u: Unary, x: &str) -> String {
    let l = |v: f64| literal(dtype, v);
    let f = |name: &str| math(dtype, fast, name);
    let (zero, one) = (l(0.0), l(1.0));
    match u {
        Unary::Minus => format!("-{x}"),
        Unary::Exp => format!("{}({x})", f("exp")),
        Unary::Log => format!("{}({x})", f("log")),
        Unary::XLogX => format!("({x} == {zero} ? {zero} : {x} * {}({x}))", f("log")),
        Unary::Sin => format!("{}({x})", f("sin")),
        Unary::Cos => format!("{}({x})", f("cos")),
        Unary::SinXDivX => format!("({x} == {zero} ? {one} : {}({x}) / {x})", f("sin")),
        Unary::Asin => format!("{}({x})", f("asin")),
        Unary::Acos => format!("{}({x})", f("acos")),
        Unary::Atan => format!("{}({x})", f("atan")),
        Unary::Sqrt => format!("{}({x})", f("sqrt")),
        Unary::Rsqrt => format!("({x} == {zero} ? {zero} : {}({x}))", f("rsqrt")),
        Unary::Inv => format!("{one} / {x}"),
        Unary::Square => format!("{x} * {x}"),
        Unary::Abs => format!("{}({x})", f("fabs")),
        Unary::Sign => format!(
            "({x} > {zero} ? {one} : ({x} < {zero} ? {} : {zero}))",
            l(-1.0)
        ),
        Unary::Step => format!("({x} < {zero} ? {zero} : {one})"),
        Unary::ReLU => format!("({x} < {zero} ? {zero} : {x})"),
        Unary::Floor => format!("{}({x})", f("floor")),
        Unary::Pow(m) => format!("keops_powi({x}, {m})"),
        Unary::Round(0) => format!("{}({x})", f("round")),
        Unary::Round(d) => {
            let s = l(10f64.powi(d));
            format!("{}({x} * {s}) / {s}", f("round"))
        }
        Unary::ClampInt(a, b) => {
            let (a, b) = (l(a as f64), l(b as f64));
            format!("({x} < {a} ? {a} : ({x} > {b} ? {b} : {x}))")
        }
        Unary::DiffClampInt(a, b) => {
            let (a, b) = (l(a as f64), l(b as f64));
            format!("(({x} < {a} || {x} > {b}) ? {zero} : {one})")
        }
    }
}

/// A C expression for `b(x, y)`.
pub(crate) fn binary_expr(dtype: Dtype, fast: bool, b: Binary, x: &str, y: &str) -> String {
    let (zero, one) = (literal(dtype, 0.0), literal(dtype, 1.0));
    let test = |op: &str| format!("({x} {op} {y} ? {one} : {zero})");
    match b {
        Binary::Add => format!("{x} + {y}"),
        Binary::Subtract => format!("{x} - {y}"),
        Binary::Mult => format!("{x} * {y}"),
        Binary::Divide => format!("{x} / {y}"),
        Binary::Powf => format!("{}({x}, {y})", math(dtype, fast, "pow")),
        Binary::Atan2 => format!("{}({x}, {y})", math(dtype, fast, "atan2")),
        Binary::Equal => test("=="),
        Binary::NotEqual => test("!="),
        Binary::LessThan => test("<"),
        Binary::LessOrEqual => test("<="),
    }
}

/// A C expression for `t(x, y, z)`.
pub(crate) fn ternary_expr(dtype: Dtype, t: Ternary, x: &str, y: &str, z: &str) -> String {
    match t {
        Ternary::Clamp => format!("({x} < {y} ? {y} : ({x} > {z} ? {z} : {x}))"),
        Ternary::IfElse => format!("({x} >= {} ? {y} : {z})", literal(dtype, 0.0)),
        Ternary::Mod => format!(
            "{x} - {y} * {}(({x} - {z}) / {y})",
            math(dtype, false, "floor")
        ),
    }
}

/// Helpers shared by every kernel, guarded so that several kernels' sources concatenate into one
/// program.
pub(crate) const PRELUDE: &str = r#"#ifndef KEOPS_RS_PRELUDE_1
#define KEOPS_RS_PRELUDE_1
// x^m by repeated squaring, as the CPU back end (m is a constant: the loop unrolls).
__device__ __forceinline__ float keops_powi(float x, int m) {
  unsigned int e = m < 0 ? 0u - (unsigned int)m : (unsigned int)m;
  float b = x, a = 1.0f;
  while (e) { if (e & 1u) a *= b; b *= b; e >>= 1; }
  return m < 0 ? 1.0f / a : a;
}
__device__ __forceinline__ double keops_powi(double x, int m) {
  unsigned int e = m < 0 ? 0u - (unsigned int)m : (unsigned int)m;
  double b = x, a = 1.0;
  while (e) { if (e & 1u) a *= b; b *= b; e >>= 1; }
  return m < 0 ? 1.0 / a : a;
}
#endif
"#;

/// Writes the device function
/// `__device__ void keops_formula(const T* outer, const T* inner, const T* params, T* out)`: `outer`,
/// `inner` and `params` hold one row of each slot of `layout`; `out` receives F (`kernel.dim()` values)
/// then, with a weight formula, g (`kernel.dim2()` values).
pub(crate) fn formula_function(
    w: &mut String,
    kernel: &Kernel,
    layout: &Layout,
    dtype: Dtype,
    fast: bool,
) -> fmt::Result {
    let t = dtype.c_type();
    writeln!(
        w,
        "__device__ __forceinline__ void keops_formula(const {t}* __restrict__ outer, \
         const {t}* __restrict__ inner, const {t}* __restrict__ params, {t}* __restrict__ out) {{"
    )?;
    let ir = &kernel.ir;
    for (n, node) in ir.nodes.iter().enumerate() {
        let dim = node.dim;
        let arg = |k: usize| node.args[k];
        let adim = |k: usize| ir.node(node.args[k]).dim;
        match &node.op {
            Op::Var(v) => {
                let (slot, off) = layout.vars[*v as usize];
                let base = match slot {
                    Slot::Outer => "outer",
                    Slot::Inner => "inner",
                    Slot::Param => "params",
                };
                let name = &ir.vars[*v as usize].name;
                writeln!(w, "  const {t}* v{n} = {base} + {off}; // {name}")?;
                continue;
            }
            Op::Const(c) => {
                writeln!(w, "  const {t} v{n}[1] = {{ {} }};", literal(dtype, c.0))?;
                continue;
            }
            _ => writeln!(w, "  {t} v{n}[{dim}]; // {}", node.op)?,
        }
        match &node.op {
            Op::Var(_) | Op::Const(_) => unreachable!("handled above"),
            Op::Zero => fill(w, n, dim, &literal(dtype, 0.0))?,
            Op::Unary(u) => elementwise(w, n, dim, &[(arg(0), adim(0))], |x| {
                unary_expr(dtype, fast, *u, &x[0])
            })?,
            Op::Binary(b) => {
                elementwise(w, n, dim, &[(arg(0), adim(0)), (arg(1), adim(1))], |x| {
                    binary_expr(dtype, fast, *b, &x[0], &x[1])
                })?
            }
            Op::Ternary(tt) => elementwise(
                w,
                n,
                dim,
                &[(arg(0), adim(0)), (arg(1), adim(1)), (arg(2), adim(2))],
                |x| ternary_expr(dtype, *tt, &x[0], &x[1], &x[2]),
            )?,
            Op::Sum => {
                let a = arg(0).0;
                writeln!(w, "  {{ {t} s = v{a}[0];")?;
                range_loop(w, 1, adim(0), &format!("s += v{a}[k];"))?;
                writeln!(w, "  v{n}[0] = s; }}")?;
            }
            Op::SumT => fill(w, n, dim, &format!("v{}[0]", arg(0).0))?,
            Op::Max | Op::Min | Op::ArgMax | Op::ArgMin => {
                let a = arg(0).0;
                let cmp = if matches!(node.op, Op::Max | Op::ArgMax) {
                    ">"
                } else {
                    "<"
                };
                if matches!(node.op, Op::Max | Op::Min) {
                    writeln!(w, "  {{ {t} best = v{a}[0];")?;
                    range_loop(
                        w,
                        1,
                        adim(0),
                        &format!("if (v{a}[k] {cmp} best) best = v{a}[k];"),
                    )?;
                    writeln!(w, "  v{n}[0] = best; }}")?;
                } else {
                    writeln!(w, "  {{ {t} best = v{a}[0]; int arg = 0;")?;
                    range_loop(
                        w,
                        1,
                        adim(0),
                        &format!("if (v{a}[k] {cmp} best) {{ best = v{a}[k]; arg = k; }}"),
                    )?;
                    writeln!(w, "  v{n}[0] = ({t})arg; }}")?;
                }
            }
            Op::Scalprod => {
                let (a, b) = (arg(0).0, arg(1).0);
                writeln!(w, "  {{ {t} s = v{a}[0] * v{b}[0];")?;
                range_loop(w, 1, adim(0), &format!("s += v{a}[k] * v{b}[k];"))?;
                writeln!(w, "  v{n}[0] = s; }}")?;
            }
            Op::Select(idx) => {
                let a = arg(0).0;
                match progression(idx) {
                    Some((s, 1)) => loop_k(w, dim, &format!("v{n}[k] = v{a}[{s} + k];"))?,
                    _ => {
                        for (k, i) in idx.iter().enumerate() {
                            writeln!(w, "  v{n}[{k}] = v{a}[{i}];")?;
                        }
                    }
                }
            }
            Op::Place(idx) => {
                let a = arg(0).0;
                fill(w, n, dim, &literal(dtype, 0.0))?;
                match progression(idx) {
                    Some((s, 1)) => loop_k(w, idx.len(), &format!("v{n}[{s} + k] = v{a}[k];"))?,
                    _ => {
                        for (k, i) in idx.iter().enumerate() {
                            writeln!(w, "  v{n}[{i}] = v{a}[{k}];")?;
                        }
                    }
                }
            }
            Op::Concat => {
                let (a, b) = (arg(0).0, arg(1).0);
                let da = adim(0);
                loop_k(w, da, &format!("v{n}[k] = v{a}[k];"))?;
                loop_k(w, adim(1), &format!("v{n}[{da} + k] = v{b}[k];"))?;
            }
            Op::OneHot => {
                let a = arg(0).0;
                let (zero, one) = (literal(dtype, 0.0), literal(dtype, 1.0));
                writeln!(
                    w,
                    "  {{ const {t} h = {}(v{a}[0] + {});",
                    math(dtype, false, "trunc"),
                    literal(dtype, 0.5)
                )?;
                range_loop(
                    w,
                    0,
                    dim,
                    &format!("v{n}[k] = (h == ({t})k) ? {one} : {zero};"),
                )?;
                writeln!(w, "  }}")?;
            }
            Op::TensorDot(terms) => {
                let (a, b) = (arg(0).0, arg(1).0);
                fill(w, n, dim, &literal(dtype, 0.0))?;
                for [o, ia, ib] in terms {
                    writeln!(w, "  v{n}[{o}] += v{a}[{ia}] * v{b}[{ib}];")?;
                }
            }
        }
    }
    let f = kernel.formula.0;
    let d = kernel.dim();
    loop_k(w, d, &format!("out[k] = v{f}[k];"))?;
    if let Some(NodeId(g)) = kernel.formula2 {
        loop_k(w, kernel.dim2(), &format!("out[{d} + k] = v{g}[k];"))?;
    }
    writeln!(w, "}}")
}

/// `(start, step)` when `idx` is an arithmetic progression of at least two terms.
fn progression(idx: &[u32]) -> Option<(u32, i64)> {
    if idx.len() < 2 {
        return None;
    }
    let step = idx[1] as i64 - idx[0] as i64;
    idx.windows(2)
        .all(|p| p[1] as i64 - p[0] as i64 == step)
        .then_some((idx[0], step))
}

fn pragma(w: &mut String, len: usize) -> fmt::Result {
    if len <= UNROLL {
        writeln!(w, "  #pragma unroll")
    } else {
        Ok(())
    }
}

/// `for (k = start; k < end; k++) body` (nothing when empty; the body alone when one iteration).
fn range_loop(w: &mut String, start: usize, end: usize, body: &str) -> fmt::Result {
    match end.saturating_sub(start) {
        0 => Ok(()),
        1 => writeln!(w, "  {{ const int k = {start}; {body} }}"),
        len => {
            pragma(w, len)?;
            writeln!(w, "  for (int k = {start}; k < {end}; k++) {{ {body} }}")
        }
    }
}

fn loop_k(w: &mut String, len: usize, body: &str) -> fmt::Result {
    range_loop(w, 0, len, body)
}

fn fill(w: &mut String, n: usize, dim: usize, value: &str) -> fmt::Result {
    loop_k(w, dim, &format!("v{n}[k] = {value};"))
}

/// `vN[k] = expr(args)` for every component, a dimension-1 argument broadcasting.
fn elementwise(
    w: &mut String,
    n: usize,
    dim: usize,
    args: &[(NodeId, usize)],
    expr: impl Fn(&[String]) -> String,
) -> fmt::Result {
    let k = if dim == 1 { "0" } else { "k" };
    let ops: Vec<String> = args
        .iter()
        .map(|&(a, d)| {
            if d == 1 {
                format!("v{}[0]", a.0)
            } else {
                format!("v{}[{k}]", a.0)
            }
        })
        .collect();
    loop_k(w, dim, &format!("v{n}[k] = {};", expr(&ops)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_are_exact_and_typed() {
        assert_eq!(literal(Dtype::F64, 0.1), "1e-1");
        assert_eq!(literal(Dtype::F64, -2.5), "(-2.5e0)");
        assert_eq!(
            literal(Dtype::F64, 1.0 / 3.0).parse::<f64>().unwrap(),
            1.0 / 3.0
        );
        assert_eq!(literal(Dtype::F32, 0.1), "1e-1f");
        let third = literal(Dtype::F32, 1.0 / 3.0);
        assert_eq!(
            third.trim_end_matches('f').parse::<f32>().unwrap(),
            1.0f32 / 3.0
        );
        assert_eq!(
            literal(Dtype::F64, f64::INFINITY),
            "__longlong_as_double((long long)0x7ff0000000000000ULL)"
        );
        assert_eq!(
            literal(Dtype::F32, 1e300),
            "__int_as_float((int)0x7f800000U)"
        );
        assert_eq!(
            literal(Dtype::F32, f64::NEG_INFINITY),
            "__int_as_float((int)0xff800000U)"
        );
        assert_eq!(literal(Dtype::F64, -0.0), "(-0e0)");
        assert!(
            literal(Dtype::F64, f64::NAN).starts_with("__longlong_as_double((long long)0x7ff8")
        );
        assert_eq!(literal(Dtype::F64, 5e-324), "5e-324");
    }

    #[test]
    fn edge_semantics_are_spelled_out() {
        assert_eq!(
            unary_expr(Dtype::F32, false, Unary::Rsqrt, "x"),
            "(x == 0e0f ? 0e0f : rsqrtf(x))"
        );
        assert_eq!(
            unary_expr(Dtype::F64, false, Unary::Sign, "x"),
            "(x > 0e0 ? 1e0 : (x < 0e0 ? (-1e0) : 0e0))"
        );
        assert_eq!(
            unary_expr(Dtype::F64, false, Unary::Step, "x"),
            "(x < 0e0 ? 0e0 : 1e0)"
        );
        assert_eq!(
            unary_expr(Dtype::F32, false, Unary::XLogX, "x"),
            "(x == 0e0f ? 0e0f : x * logf(x))"
        );
        assert_eq!(
            unary_expr(Dtype::F32, false, Unary::SinXDivX, "x"),
            "(x == 0e0f ? 1e0f : sinf(x) / x)"
        );
        assert_eq!(
            unary_expr(Dtype::F64, false, Unary::Round(2), "x"),
            "round(x * 1e2) / 1e2"
        );
        assert_eq!(
            unary_expr(Dtype::F64, false, Unary::Round(0), "x"),
            "round(x)"
        );
        assert_eq!(
            ternary_expr(Dtype::F64, Ternary::IfElse, "x", "y", "z"),
            "(x >= 0e0 ? y : z)"
        );
        assert_eq!(
            ternary_expr(Dtype::F32, Ternary::Mod, "x", "n", "d"),
            "x - n * floorf((x - d) / n)"
        );
        assert_eq!(
            binary_expr(Dtype::F32, false, Binary::Powf, "x", "y"),
            "powf(x, y)"
        );
        assert_eq!(unary_expr(Dtype::F32, true, Unary::Exp, "x"), "__expf(x)");
        assert_eq!(unary_expr(Dtype::F64, true, Unary::Exp, "x"), "exp(x)");
    }

    #[test]
    fn progressions() {
        assert_eq!(progression(&[2, 3, 4]), Some((2, 1)));
        assert_eq!(progression(&[0, 2, 4]), Some((0, 2)));
        assert_eq!(progression(&[1, 0]), Some((1, -1)));
        assert_eq!(progression(&[3]), None);
        assert_eq!(progression(&[0, 1, 3]), None);
    }
}

//! Syntax tree → IR: names resolved, arities and integer parameters checked, dimensions inferred with
//! KeOps' broadcasting rule, the surface operations (norms, distances, complex numbers, tensor algebra)
//! expanded into the primitives of [`crate::ops`]. All errors of a formula are collected; the first is
//! returned with the others in its notes.

use crate::ast::{BinOp, Expr, ExprKind};
use crate::ir::{Builder, Cat, NodeId, VarInfo};
use crate::ops::{Binary, Op, Ternary, Unary};
use crate::{ErrorKind, FormulaError, Span};

/// Operations of the surface language that are not element-wise table entries, with their signature:
/// number of formula arguments, then integer parameters (`None`: a variable number of integer lists).
const SURFACE: &[(&str, usize, Option<usize>)] = &[
    ("Sum", 1, Some(0)),
    ("SumT", 1, Some(1)),
    ("Max", 1, Some(0)),
    ("Min", 1, Some(0)),
    ("ArgMax", 1, Some(0)),
    ("ArgMin", 1, Some(0)),
    ("Elem", 1, Some(1)),
    ("ElemT", 1, Some(2)),
    ("Extract", 1, Some(2)),
    ("ExtractT", 1, Some(2)),
    ("Concat", 2, Some(0)),
    ("OneHot", 1, Some(1)),
    ("Scalprod", 2, Some(0)),
    ("SqNorm2", 1, Some(0)),
    ("Norm2", 1, Some(0)),
    ("Normalize", 1, Some(0)),
    ("SqDist", 2, Some(0)),
    ("WeightedSqNorm", 2, Some(0)),
    ("WeightedSqDist", 3, Some(0)),
    ("SqNormIso", 2, Some(0)),
    ("SqNormDiag", 2, Some(0)),
    ("SymSqNorm", 2, Some(0)),
    ("MatVecMult", 2, Some(0)),
    ("VecMatMult", 2, Some(0)),
    ("TensorProd", 2, Some(0)),
    ("TensorDot", 2, None),
    ("Kron", 2, None),
    ("IntCst", 0, Some(1)),
    ("RatCst", 0, Some(2)),
    ("IntInv", 0, Some(1)),
    ("Zero", 0, Some(1)),
    ("Pow", 1, Some(1)),
    ("Round", 1, Some(1)),
    ("ClampInt", 1, Some(2)),
    ("DiffClampInt", 1, Some(2)),
    ("Factorize", 2, Some(0)),
    ("ComplexReal", 1, Some(0)),
    ("ComplexImag", 1, Some(0)),
    ("ComplexAbs", 1, Some(0)),
    ("ComplexSquareAbs", 1, Some(0)),
    ("ComplexAngle", 1, Some(0)),
    ("Real2Complex", 1, Some(0)),
    ("Imag2Complex", 1, Some(0)),
    ("ComplexExp1j", 1, Some(0)),
    ("Conj", 1, Some(0)),
    ("ComplexExp", 1, Some(0)),
    ("ComplexAdd", 2, Some(0)),
    ("ComplexSubtract", 2, Some(0)),
    ("ComplexMult", 2, Some(0)),
    ("ComplexDivide", 2, Some(0)),
    ("ComplexSum", 1, Some(0)),
    ("ComplexSumT", 1, Some(1)),
    ("ComplexRealScal", 2, Some(0)),
];

/// The largest dimension of any variable or node. The IR indexes vector entries with `u32`, and the
/// bilinear operations (`TensorDot`, `TensorProd`, `Kron`, ...) list their terms, so dimensions and term
/// counts are bounded instead of overflowing or exhausting memory.
pub const MAX_DIM: usize = 1 << 24;

/// The most terms a bilinear operation (`TensorDot` and the operations expanded into it) may have.
const MAX_TERMS: usize = 1 << 24;

/// KeOps operations this version recognises but does not implement yet.
const UNSUPPORTED: &[&str] = &[
    "BSpline",
    "SoftDTW_SqDist",
    "Grad",
    "Diff",
    "GradMatrix",
    "Divergence",
    "Laplacian",
    "TraceOperator",
    "AdjointOperator",
    "Grad_WithSavedForward",
    "Diff_WithSavedForward",
];

/// Every operation name the formula language accepts (for suggestions and docs).
pub fn op_names() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = SURFACE.iter().map(|s| s.0).collect();
    v.extend(
        Unary::ALL
            .iter()
            .filter(|u| unary_by_name(u.name()).is_some())
            .map(|u| u.name()),
    );
    v.extend(Binary::ALL.iter().map(|b| b.name()));
    v.extend(Ternary::ALL.iter().map(|t| t.name()));
    v.extend(UNSUPPORTED);
    v.sort();
    v.dedup();
    v
}

/// Parameterless element-wise unary operations by name.
fn unary_by_name(name: &str) -> Option<Unary> {
    Unary::ALL.iter().copied().find(|u| {
        u.name() == name
            && !matches!(
                u,
                Unary::Pow(_) | Unary::Round(_) | Unary::ClampInt(..) | Unary::DiffClampInt(..)
            )
    })
}

fn binary_by_name(name: &str) -> Option<Binary> {
    Binary::ALL.iter().copied().find(|b| b.name() == name)
}

fn ternary_by_name(name: &str) -> Option<Ternary> {
    Ternary::ALL.iter().copied().find(|t| t.name() == name)
}

/// An integer parameter or a list of them.
enum Param {
    Int(i64, Span),
    List(Vec<i64>, Span),
}

impl Param {
    fn span(&self) -> Span {
        match self {
            Param::Int(_, s) | Param::List(_, s) => *s,
        }
    }
}

/// The checker's state: the source text (for spans and operand names), the IR builder and the
/// collected errors.
pub(crate) struct Checker<'a> {
    src: &'a str,
    pub(crate) b: Builder,
    errors: Vec<FormulaError>,
}

type Res = Option<NodeId>;

impl<'a> Checker<'a> {
    pub(crate) fn new(src: &'a str, b: Builder) -> Self {
        Checker {
            src,
            b,
            errors: Vec::new(),
        }
    }

    pub(crate) fn set_source(&mut self, src: &'a str) {
        self.src = src;
    }

    /// The collected errors as one (first + notes), or `Ok` if none.
    pub(crate) fn take_errors(&mut self) -> Result<(), FormulaError> {
        if self.errors.is_empty() {
            return Ok(());
        }
        let mut errs = std::mem::take(&mut self.errors).into_iter();
        let mut first = errs.next().expect("non-empty");
        for e in errs.take(9) {
            first.notes.push(format!("also: {}", e.message));
        }
        Err(first)
    }

    fn error(&mut self, kind: ErrorKind, span: Span, msg: impl Into<String>) -> Res {
        self.errors
            .push(FormulaError::new(kind, span, msg).in_source(self.src));
        None
    }

    fn error_label(
        &mut self,
        kind: ErrorKind,
        span: Span,
        msg: impl Into<String>,
        label: impl Into<String>,
    ) -> Res {
        self.errors.push(
            FormulaError::new(kind, span, msg)
                .with_label(label)
                .in_source(self.src),
        );
        None
    }

    fn text(&self, e: &Expr) -> &str {
        self.src.get(e.span.range()).unwrap_or("?").trim()
    }

    /// Checks an expression.
    pub(crate) fn expr(&mut self, e: &Expr) -> Res {
        match &e.kind {
            ExprKind::Int(v) => Some(self.b.constant_node(*v as f64)),
            ExprKind::Float(v) => Some(self.b.constant_node(*v)),
            ExprKind::Ident(name) => self.ident(name, e.span),
            ExprKind::Neg(a) => {
                let a = self.expr(a)?;
                Some(self.b.unary(Unary::Minus, a))
            }
            ExprKind::Binary {
                op,
                op_span,
                lhs,
                rhs,
            } => self.binop(*op, *op_span, lhs, rhs, e.span),
            ExprKind::Call {
                name,
                name_span,
                args,
            } => self.call(name, *name_span, args, e.span),
            ExprKind::List(_) => self.error_label(
                ErrorKind::Parse,
                e.span,
                "a list is not a formula",
                "integer lists are only parameters of `TensorDot` and `Kron`",
            ),
        }
    }

    fn ident(&mut self, name: &str, span: Span) -> Res {
        if let Some(v) = self.b.vars().iter().find(|v| v.name == name) {
            let index = v.index;
            return Some(self.b.var(index));
        }
        if op_names().contains(&name) {
            return self.error_label(
                ErrorKind::UnknownVariable,
                span,
                format!("`{name}` is an operation, not a variable"),
                format!("call it: `{name}(...)`"),
            );
        }
        let listed: Vec<String> = self
            .b
            .vars()
            .iter()
            .map(|v| format!("`{}` ({}, {})", v.name, v.cat, v.dim))
            .collect();
        let mut label = if listed.is_empty() {
            "no aliases are declared".to_string()
        } else {
            format!("aliases are {}", listed.join(", "))
        };
        let names: Vec<&str> = self.b.vars().iter().map(|v| v.name.as_str()).collect();
        if let Some(s) = suggest(name, &names) {
            label = format!("did you mean `{s}`? {label}");
        }
        self.error_label(
            ErrorKind::UnknownVariable,
            span,
            format!("unknown variable `{name}`"),
            label,
        )
    }

    fn elementwise_dim(
        &mut self,
        what: &str,
        args: &[(NodeId, &Expr)],
        span: Span,
    ) -> Option<usize> {
        let d = args.iter().map(|(n, _)| self.b.dim(*n)).max().unwrap_or(1);
        if args.iter().all(|(n, _)| {
            let k = self.b.dim(*n);
            k == d || k == 1
        }) {
            return Some(d);
        }
        let parts: Vec<String> = args
            .iter()
            .map(|(n, e)| format!("{} (`{}`)", self.b.dim(*n), self.text(e)))
            .collect();
        let msg = if args.len() == 2 {
            format!(
                "dimension mismatch in `{what}`: left is {}, right is {}",
                parts[0], parts[1]
            )
        } else {
            format!(
                "dimension mismatch in `{what}`: operands are {}",
                parts.join(", ")
            )
        };
        self.error_label(
            ErrorKind::Dimension,
            span,
            msg,
            "element-wise operands need equal dimensions, or dimension 1 to broadcast",
        );
        None
    }

    fn binop(&mut self, op: BinOp, op_span: Span, lhs: &Expr, rhs: &Expr, span: Span) -> Res {
        match op {
            BinOp::Eq | BinOp::Ne => {
                let f = if op == BinOp::Eq { "Equal" } else { "NotEqual" };
                return self.error_label(
                    ErrorKind::Parse,
                    op_span,
                    format!("`{}` is not an operator of KeOps formulas", op.symbol()),
                    format!("write `{f}(f, g)`"),
                );
            }
            BinOp::Xor => {
                return self.error_label(
                    ErrorKind::Parse,
                    op_span,
                    "`^` is not an operator of KeOps formulas",
                    "write `f ** n` for an integer power or `Powf(f, g)`",
                );
            }
            BinOp::Pow => {
                if let Some(m) = int_literal(rhs) {
                    let l = self.expr(lhs)?;
                    return Some(match m {
                        2 => self.b.unary(Unary::Square, l),
                        m if i32::try_from(m).is_ok() => self.b.unary(Unary::Pow(m as i32), l),
                        _ => {
                            return self.error(
                                ErrorKind::Parameter,
                                rhs.span,
                                "exponent out of range",
                            );
                        }
                    });
                }
                let l = self.expr(lhs);
                let r = self.expr(rhs);
                let (l, r) = (l?, r?);
                self.elementwise_dim("**", &[(l, lhs), (r, rhs)], span)?;
                return Some(self.b.binary(Binary::Powf, l, r));
            }
            _ => {}
        }
        let l = self.expr(lhs);
        let r = self.expr(rhs);
        let (l, r) = (l?, r?);
        let sym = op.symbol();
        match op {
            BinOp::Dot => self.scalprod(l, lhs, r, rhs, "|", span),
            _ => {
                let (b, x, y) = match op {
                    BinOp::Add => (Binary::Add, l, r),
                    BinOp::Sub => (Binary::Subtract, l, r),
                    BinOp::Mul => (Binary::Mult, l, r),
                    BinOp::Div => (Binary::Divide, l, r),
                    BinOp::Lt => (Binary::LessThan, l, r),
                    BinOp::Le => (Binary::LessOrEqual, l, r),
                    BinOp::Gt => (Binary::LessThan, r, l),
                    BinOp::Ge => (Binary::LessOrEqual, r, l),
                    BinOp::Pow | BinOp::Dot | BinOp::Eq | BinOp::Ne | BinOp::Xor => {
                        unreachable!("handled above")
                    }
                };
                self.elementwise_dim(sym, &[(l, lhs), (r, rhs)], span)?;
                self.binary(b, x, y, span)
            }
        }
    }

    fn binary(&mut self, b: Binary, x: NodeId, y: NodeId, span: Span) -> Res {
        if b == Binary::Divide && matches!(self.b.node(y).op, Op::Zero) {
            return self.error(
                ErrorKind::Dimension,
                span,
                "division by zero (the divisor simplifies to 0)",
            );
        }
        Some(self.b.binary(b, x, y))
    }

    fn scalprod(
        &mut self,
        l: NodeId,
        le: &Expr,
        r: NodeId,
        re: &Expr,
        what: &str,
        span: Span,
    ) -> Res {
        let (dl, dr) = (self.b.dim(l), self.b.dim(r));
        if dl == dr {
            return Some(self.b.scalprod(l, r));
        }
        if dl == 1 || dr == 1 {
            let (s, v) = if dl == 1 { (l, r) } else { (r, l) };
            let sv = self.b.sum(v);
            return Some(self.b.binary(Binary::Mult, s, sv));
        }
        self.error_label(
            ErrorKind::Dimension,
            span,
            format!(
                "dimension mismatch in `{what}`: left is {dl} (`{}`), right is {dr} (`{}`)",
                self.text(le),
                self.text(re)
            ),
            "a dot product needs equal dimensions",
        )
    }

    fn call(&mut self, name: &str, name_span: Span, args: &[Expr], span: Span) -> Res {
        match name {
            "Var" => return self.bare_var(args, span),
            "Vi" | "Vj" | "Pm" | "Vx" | "Vy" => {
                return self.error_label(
                    ErrorKind::UnknownOp,
                    name_span,
                    format!("`{name}(...)` declares a variable and cannot appear in a formula"),
                    format!("declare an alias such as `x = {name}(3)` and use `x`, or write `Var(index, dim, cat)`"),
                );
            }
            _ => {}
        }
        if UNSUPPORTED.contains(&name) {
            return self.error_label(
                ErrorKind::Unsupported,
                name_span,
                format!("`{name}` is not supported yet"),
                "this KeOps operation is planned but not implemented in this version",
            );
        }
        let sig: Option<(usize, Option<usize>)> = if unary_by_name(name).is_some() {
            Some((1, Some(0)))
        } else if binary_by_name(name).is_some() {
            Some((2, Some(0)))
        } else if ternary_by_name(name).is_some() {
            Some((3, Some(0)))
        } else {
            SURFACE.iter().find(|s| s.0 == name).map(|s| (s.1, s.2))
        };
        let Some((nf, np)) = sig else {
            let label = match suggest(name, &op_names()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => "not a KeOps operation".to_string(),
            };
            return self.error_label(
                ErrorKind::UnknownOp,
                name_span,
                format!("unknown operation `{name}`"),
                label,
            );
        };
        let arity_ok = match np {
            Some(p) => args.len() == nf + p,
            None => args.len() >= nf,
        };
        if !arity_ok {
            let expected = match np {
                Some(0) => format!("{nf} argument(s)"),
                Some(p) => format!("{} argument(s): {nf} formula(s) and {p} integer(s)", nf + p),
                None => format!("{nf} formulas and integer lists"),
            };
            return self.error_label(
                ErrorKind::Arity,
                span,
                format!("`{name}` takes {expected}, got {}", args.len()),
                format!("wrong number of arguments to `{name}`"),
            );
        }
        // Formula arguments first (all checked, so every error is reported), then parameters.
        let nodes: Vec<Res> = args[..nf].iter().map(|a| self.expr(a)).collect();
        let mut params = Vec::new();
        for a in &args[nf..] {
            if let Some(v) = int_literal(a) {
                params.push(Param::Int(v, a.span));
            } else if let ExprKind::List(items) = &a.kind {
                let mut vals = Vec::new();
                for it in items {
                    match int_literal(it) {
                        Some(v) => vals.push(v),
                        None => {
                            return self.error(
                                ErrorKind::Parameter,
                                it.span,
                                "expected an integer in the list",
                            );
                        }
                    }
                }
                params.push(Param::List(vals, a.span));
            } else {
                return self.error_label(
                    ErrorKind::Parameter,
                    a.span,
                    format!("`{name}` expects an integer here"),
                    "integer parameters must be literal integers",
                );
            }
        }
        let nodes: Vec<NodeId> = nodes.into_iter().collect::<Option<_>>()?;
        let fargs: Vec<(NodeId, &Expr)> = nodes.iter().copied().zip(args.iter()).collect();
        self.build(name, &fargs, &params, span)
    }

    fn int_param(&mut self, p: &Param, what: &str, min: i64) -> Option<i64> {
        match p {
            Param::Int(v, s) if *v >= min => Some(*v),
            Param::Int(_, s) => {
                self.error(
                    ErrorKind::Parameter,
                    *s,
                    format!("{what} must be at least {min}"),
                );
                None
            }
            Param::List(_, s) => {
                self.error(
                    ErrorKind::Parameter,
                    *s,
                    format!("{what} must be an integer, not a list"),
                );
                None
            }
        }
    }

    fn list_param(&mut self, p: &Param, what: &str) -> Option<Vec<usize>> {
        match p {
            Param::List(v, s) => {
                if v.iter().any(|&x| x < 0) {
                    self.error(
                        ErrorKind::Parameter,
                        *s,
                        format!("{what} must hold non-negative integers"),
                    );
                    return None;
                }
                Some(v.iter().map(|&x| x as usize).collect())
            }
            Param::Int(_, s) => {
                self.error(
                    ErrorKind::Parameter,
                    *s,
                    format!("{what} must be a list such as `[2, 3]`"),
                );
                None
            }
        }
    }

    fn dim_error(&mut self, span: Span, msg: String) -> Res {
        self.error(ErrorKind::Dimension, span, msg)
    }

    /// An output dimension (`None`: its computation overflowed) if it is at most [`MAX_DIM`].
    fn out_dim(&mut self, name: &str, d: Option<usize>, span: Span) -> Option<usize> {
        match d {
            Some(d) if d <= MAX_DIM => Some(d),
            _ => {
                let d = d.map_or_else(|| "overflows".to_string(), |d| format!("would be {d}"));
                self.dim_error(
                    span,
                    format!("`{name}`: the output dimension {d}, more than the maximum {MAX_DIM}"),
                );
                None
            }
        }
    }

    /// A dimension parameter: at least `min`, at most [`MAX_DIM`].
    fn dim_param(&mut self, p: &Param, min: i64) -> Option<usize> {
        let d = self.int_param(p, "the dimension", min)?;
        if d as u64 > MAX_DIM as u64 {
            self.error(
                ErrorKind::Parameter,
                p.span(),
                format!("the dimension must be at most {MAX_DIM}, got {d}"),
            );
            return None;
        }
        Some(d as usize)
    }

    fn need_scalar(&mut self, name: &str, a: (NodeId, &Expr), span: Span) -> Option<()> {
        let d = self.b.dim(a.0);
        if d != 1 {
            self.dim_error(
                span,
                format!(
                    "`{name}` needs a scalar argument, got dimension {d} (`{}`)",
                    self.text(a.1)
                ),
            );
            return None;
        }
        Some(())
    }

    fn need_even(&mut self, name: &str, a: (NodeId, &Expr), span: Span) -> Option<()> {
        let d = self.b.dim(a.0);
        if !d.is_multiple_of(2) {
            self.dim_error(
                span,
                format!("`{name}` needs a complex argument (even dimension: re, im pairs), got {d} (`{}`)", self.text(a.1)),
            );
            return None;
        }
        Some(())
    }

    /// Builds a surface operation from checked arguments.
    fn build(&mut self, name: &str, f: &[(NodeId, &Expr)], p: &[Param], span: Span) -> Res {
        if let Some(u) = unary_by_name(name) {
            return Some(self.b.unary(u, f[0].0));
        }
        if let Some(bop) = binary_by_name(name) {
            self.elementwise_dim(name, f, span)?;
            return self.binary(bop, f[0].0, f[1].0, span);
        }
        if let Some(t) = ternary_by_name(name) {
            let d = self.elementwise_dim(name, f, span)?;
            let args = f.iter().map(|a| a.0).collect();
            return Some(self.b.raw(Op::Ternary(t), args, d));
        }
        let b = &mut self.b;
        let x = f.first().map(|a| a.0).unwrap_or(NodeId(0));
        let dx = f.first().map(|a| b.dim(a.0)).unwrap_or(0);
        match name {
            "Sum" => Some(b.sum(x)),
            "SumT" => {
                let d = self.dim_param(&p[0], 1)?;
                self.need_scalar(name, f[0], span)?;
                Some(self.b.sum_t(x, d))
            }
            "Max" | "Min" | "ArgMax" | "ArgMin" => {
                let op = match name {
                    "Max" => Op::Max,
                    "Min" => Op::Min,
                    "ArgMax" => Op::ArgMax,
                    _ => Op::ArgMin,
                };
                if dx == 1 {
                    return Some(if matches!(op, Op::ArgMax | Op::ArgMin) {
                        b.zero(1)
                    } else {
                        x
                    });
                }
                Some(b.raw(op, vec![x], 1))
            }
            "Elem" => {
                let m = self.int_param(&p[0], "the index", 0)? as usize;
                if m >= dx {
                    return self.error(
                        ErrorKind::Parameter,
                        p[0].span(),
                        format!(
                            "index {m} out of range for `{}` of dimension {dx}",
                            self.text(f[0].1)
                        ),
                    );
                }
                Some(self.b.select(x, vec![m as u32]))
            }
            "ElemT" => {
                let n = self.dim_param(&p[0], 1)?;
                let m = self.int_param(&p[1], "the index", 0)? as usize;
                self.need_scalar(name, f[0], span)?;
                if m >= n {
                    return self.error(
                        ErrorKind::Parameter,
                        p[1].span(),
                        format!("index {m} out of range for dimension {n}"),
                    );
                }
                Some(self.b.place(x, vec![m as u32], n))
            }
            "Extract" => {
                let s = self.int_param(&p[0], "the start", 0)? as usize;
                let d = self.dim_param(&p[1], 1)?;
                if s + d > dx {
                    return self.error(
                        ErrorKind::Parameter,
                        p[0].span().join(p[1].span()),
                        format!(
                            "`Extract` of [{s}, {}) out of range for `{}` of dimension {dx}",
                            s + d,
                            self.text(f[0].1)
                        ),
                    );
                }
                Some(self.b.select(x, (s as u32..(s + d) as u32).collect()))
            }
            "ExtractT" => {
                let s = self.int_param(&p[0], "the start", 0)? as usize;
                let d = self.dim_param(&p[1], 1)?;
                if s + dx > d {
                    return self.error(
                        ErrorKind::Parameter,
                        p[0].span().join(p[1].span()),
                        format!("`ExtractT` places dimension {dx} at {s}: out of range for dimension {d}"),
                    );
                }
                Some(self.b.place(x, (s as u32..(s + dx) as u32).collect(), d))
            }
            "Concat" => {
                let d = dx.checked_add(b.dim(f[1].0));
                let d = self.out_dim(name, d, span)?;
                Some(self.b.raw(Op::Concat, vec![x, f[1].0], d))
            }
            "OneHot" => {
                let d = self.dim_param(&p[0], 1)?;
                self.need_scalar(name, f[0], span)?;
                Some(self.b.raw(Op::OneHot, vec![x], d))
            }
            "Scalprod" => self.scalprod(x, f[0].1, f[1].0, f[1].1, "Scalprod", span),
            "SqNorm2" => Some(self.sqnorm2(x)),
            "Norm2" => {
                let s = self.sqnorm2(x);
                Some(self.b.unary(Unary::Sqrt, s))
            }
            "Normalize" => {
                let s = self.sqnorm2(x);
                let r = self.b.unary(Unary::Rsqrt, s);
                Some(self.b.binary(Binary::Mult, r, x))
            }
            "SqDist" => {
                self.elementwise_dim(name, f, span)?;
                let d = self.b.binary(Binary::Subtract, x, f[1].0);
                Some(self.sqnorm2(d))
            }
            "WeightedSqNorm" | "SqNormIso" | "SqNormDiag" | "SymSqNorm" => {
                self.weighted_sqnorm(name, f[0], f[1].0, f[1].1, span)
            }
            "WeightedSqDist" => {
                self.elementwise_dim(name, &f[1..], span)?;
                let d = self.b.binary(Binary::Subtract, f[1].0, f[2].0);
                self.weighted_sqnorm("WeightedSqDist", f[0], d, f[1].1, span)
            }
            "MatVecMult" => {
                let n = b.dim(f[1].0);
                if !dx.is_multiple_of(n) {
                    return self.dim_error(
                        span,
                        format!("`MatVecMult`: the matrix has dimension {dx}, not a multiple of the vector's {n}"),
                    );
                }
                let m = dx / n;
                let terms = (0..m)
                    .flat_map(|i| (0..n).map(move |k| [i as u32, (i * n + k) as u32, k as u32]))
                    .collect();
                Some(self.b.tensordot(x, f[1].0, terms, m))
            }
            "VecMatMult" => {
                let n = dx;
                let da = b.dim(f[1].0);
                if !da.is_multiple_of(n) {
                    return self.dim_error(
                        span,
                        format!("`VecMatMult`: the matrix has dimension {da}, not a multiple of the vector's {n}"),
                    );
                }
                let m = da / n;
                let terms = (0..m)
                    .flat_map(|i| (0..n).map(move |k| [i as u32, k as u32, (k * m + i) as u32]))
                    .collect();
                Some(self.b.tensordot(x, f[1].0, terms, m))
            }
            "TensorProd" => {
                let n = b.dim(f[1].0);
                let d = self.out_dim(name, dx.checked_mul(n), span)?;
                let terms = (0..dx)
                    .flat_map(|k| (0..n).map(move |l| [(k * n + l) as u32, k as u32, l as u32]))
                    .collect();
                Some(self.b.tensordot(x, f[1].0, terms, d))
            }
            "TensorDot" => self.tensordot(f, p, span),
            "Kron" => self.kron(f, p, span),
            "IntCst" => {
                let v = self.int_param(&p[0], "the value", i64::MIN)?;
                Some(self.b.constant_node(v as f64))
            }
            "RatCst" => {
                let n = self.int_param(&p[0], "the numerator", i64::MIN)?;
                let d = self.int_param(&p[1], "the denominator", i64::MIN)?;
                if d == 0 {
                    return self.error(
                        ErrorKind::Parameter,
                        p[1].span(),
                        "the denominator of `RatCst` is 0",
                    );
                }
                Some(self.b.constant_node(n as f64 / d as f64))
            }
            "IntInv" => {
                let n = self.int_param(&p[0], "the value", i64::MIN)?;
                if n == 0 {
                    return self.error(
                        ErrorKind::Parameter,
                        p[0].span(),
                        "`IntInv(0)` divides by zero",
                    );
                }
                Some(self.b.constant_node(1.0 / n as f64))
            }
            "Zero" => {
                let d = self.dim_param(&p[0], 1)?;
                Some(self.b.zero(d))
            }
            "Pow" => {
                let m = self.int_param(&p[0], "the exponent", i32::MIN as i64)?;
                let m = i32::try_from(m).ok().or_else(|| {
                    self.error(ErrorKind::Parameter, p[0].span(), "exponent out of range");
                    None
                })?;
                Some(if m == 2 {
                    self.b.unary(Unary::Square, x)
                } else {
                    self.b.unary(Unary::Pow(m), x)
                })
            }
            "Round" => {
                let d = self
                    .int_param(&p[0], "the number of decimals", -300)?
                    .min(300) as i32;
                Some(self.b.unary(Unary::Round(d), x))
            }
            "ClampInt" | "DiffClampInt" => {
                let lo = self.int_param(&p[0], "the lower bound", i32::MIN as i64)?;
                let hi = self.int_param(&p[1], "the upper bound", i32::MIN as i64)?;
                let (Ok(lo), Ok(hi)) = (i32::try_from(lo), i32::try_from(hi)) else {
                    return self.error(
                        ErrorKind::Parameter,
                        p[0].span().join(p[1].span()),
                        "bound out of range",
                    );
                };
                let u = if name == "ClampInt" {
                    Unary::ClampInt(lo, hi)
                } else {
                    Unary::DiffClampInt(lo, hi)
                };
                Some(self.b.unary(u, x))
            }
            "Factorize" => Some(x),
            _ => self.complex(name, f, p, span),
        }
    }

    fn sqnorm2(&mut self, x: NodeId) -> NodeId {
        let s = self.b.unary(Unary::Square, x);
        self.b.sum(s)
    }

    fn weighted_sqnorm(
        &mut self,
        name: &str,
        s: (NodeId, &Expr),
        x: NodeId,
        xe: &Expr,
        span: Span,
    ) -> Res {
        let (ds, dx) = (self.b.dim(s.0), self.b.dim(x));
        let iso = ds == 1 && matches!(name, "WeightedSqNorm" | "WeightedSqDist" | "SqNormIso");
        let diag = ds == dx && matches!(name, "WeightedSqNorm" | "WeightedSqDist" | "SqNormDiag");
        let full = dx.checked_mul(dx) == Some(ds)
            && matches!(name, "WeightedSqNorm" | "WeightedSqDist" | "SymSqNorm");
        if iso {
            let n = self.sqnorm2(x);
            return Some(self.b.binary(Binary::Mult, s.0, n));
        }
        if diag {
            let sq = self.b.unary(Unary::Square, x);
            let w = self.b.binary(Binary::Mult, s.0, sq);
            return Some(self.b.sum(w));
        }
        if full {
            let terms = (0..dx)
                .flat_map(|k| (0..dx).map(move |l| [(k * dx + l) as u32, k as u32, l as u32]))
                .collect();
            let t = self.b.tensordot(x, x, terms, dx * dx);
            return Some(self.b.scalprod(s.0, t));
        }
        self.dim_error(
            span,
            format!(
                "dimension mismatch in `{name}`: the weight `{}` has dimension {ds}, the vector `{}` has {dx}",
                self.text(s.1),
                self.text(xe)
            ),
        )
        .or_else(|| {
            if let Some(e) = self.errors.last_mut() {
                e.label = format!("the weight must have dimension 1, {dx} or {}", dx * dx);
            }
            None
        })
    }

    fn tensordot(&mut self, f: &[(NodeId, &Expr)], p: &[Param], span: Span) -> Res {
        if !(p.len() == 4 || p.len() == 5) {
            return self.error_label(
                ErrorKind::Arity,
                span,
                format!(
                    "`TensorDot` takes 2 formulas and 4 or 5 integer lists, got {} list(s)",
                    p.len()
                ),
                "TensorDot(f, g, dims_f, dims_g, contract_f, contract_g[, permute])",
            );
        }
        let dimsf = self.list_param(&p[0], "the dimensions of f")?;
        let dimsg = self.list_param(&p[1], "the dimensions of g")?;
        let cf = self.list_param(&p[2], "the contracted axes of f")?;
        let cg = self.list_param(&p[3], "the contracted axes of g")?;
        let perm = if p.len() == 5 {
            Some(self.list_param(&p[4], "the permutation")?)
        } else {
            None
        };
        let (df, dg) = (self.b.dim(f[0].0), self.b.dim(f[1].0));
        let bad = |c: &mut Self, msg: String| c.dim_error(span, format!("`TensorDot`: {msg}"));
        if product(&dimsf) != Some(df) {
            return bad(
                self,
                format!(
                    "dimensions {dimsf:?} do not multiply to {df}, the dimension of `{}`",
                    self.text(f[0].1)
                ),
            );
        }
        if product(&dimsg) != Some(dg) {
            return bad(
                self,
                format!(
                    "dimensions {dimsg:?} do not multiply to {dg}, the dimension of `{}`",
                    self.text(f[1].1)
                ),
            );
        }
        if cf.len() != cg.len()
            || cf.iter().any(|&a| a >= dimsf.len())
            || cg.iter().any(|&a| a >= dimsg.len())
            || has_dup(&cf)
            || has_dup(&cg)
        {
            return bad(
                self,
                "contracted axes must be distinct, in range and of equal sizes".into(),
            );
        }
        let csizes: Vec<usize> = cf.iter().map(|&a| dimsf[a]).collect();
        let gsizes: Vec<usize> = cg.iter().map(|&a| dimsg[a]).collect();
        if csizes != gsizes {
            return bad(
                self,
                format!("the contracted axes have sizes {csizes:?} in f and {gsizes:?} in g"),
            );
        }
        let keep_f: Vec<usize> = (0..dimsf.len()).filter(|a| !cf.contains(a)).collect();
        let keep_g: Vec<usize> = (0..dimsg.len()).filter(|a| !cg.contains(a)).collect();
        let kept: Vec<usize> = keep_f
            .iter()
            .map(|&a| dimsf[a])
            .chain(keep_g.iter().map(|&a| dimsg[a]))
            .collect();
        let nk = kept.len();
        let perm = perm.unwrap_or_else(|| (0..nk).collect());
        let mut sorted = perm.clone();
        sorted.sort();
        if sorted != (0..nk).collect::<Vec<_>>() {
            return bad(
                self,
                format!("the permutation must be a permutation of 0..{nk}"),
            );
        }
        let mut out_shape = vec![0; nk];
        for (k, &pk) in perm.iter().enumerate() {
            out_shape[pk] = kept[k];
        }
        // Both products are bounded by df·dg (no overflow); the terms are the output entries times the
        // contracted ones.
        let dout = self.out_dim("TensorDot", product(&out_shape), span)?;
        if product(&csizes)
            .and_then(|c| c.checked_mul(dout))
            .is_none_or(|t| t > MAX_TERMS)
        {
            return bad(
                self,
                format!("more than {MAX_TERMS} products to sum: write it as several operations"),
            );
        }
        let mut terms = Vec::new();
        for_each_index(&kept, |kidx| {
            for_each_index(&csizes, |cidx| {
                let mut fi = vec![0; dimsf.len()];
                let mut gi = vec![0; dimsg.len()];
                for (t, &a) in keep_f.iter().enumerate() {
                    fi[a] = kidx[t];
                }
                for (t, &a) in keep_g.iter().enumerate() {
                    gi[a] = kidx[keep_f.len() + t];
                }
                for (t, (&a, &c)) in cf.iter().zip(&cg).enumerate() {
                    fi[a] = cidx[t];
                    gi[c] = cidx[t];
                }
                let mut oidx = vec![0; nk];
                for (k, &pk) in perm.iter().enumerate() {
                    oidx[pk] = kidx[k];
                }
                terms.push([
                    flat(&oidx, &out_shape) as u32,
                    flat(&fi, &dimsf) as u32,
                    flat(&gi, &dimsg) as u32,
                ]);
            });
        });
        Some(self.b.tensordot(f[0].0, f[1].0, terms, dout))
    }

    fn kron(&mut self, f: &[(NodeId, &Expr)], p: &[Param], span: Span) -> Res {
        if p.len() != 2 {
            return self.error_label(
                ErrorKind::Arity,
                span,
                format!(
                    "`Kron` takes 2 formulas and 2 integer lists, got {} list(s)",
                    p.len()
                ),
                "Kron(f, g, dims_f, dims_g)",
            );
        }
        let dimsf = self.list_param(&p[0], "the dimensions of f")?;
        let dimsg = self.list_param(&p[1], "the dimensions of g")?;
        let (df, dg) = (self.b.dim(f[0].0), self.b.dim(f[1].0));
        if dimsf.len() != dimsg.len() || product(&dimsf) != Some(df) || product(&dimsg) != Some(dg)
        {
            return self.dim_error(
                span,
                format!("`Kron`: dimensions {dimsf:?} and {dimsg:?} must have the same length and multiply to {df} and {dg}"),
            );
        }
        let d = self.out_dim("Kron", df.checked_mul(dg), span)?;
        let out_shape: Vec<usize> = dimsf.iter().zip(&dimsg).map(|(a, b)| a * b).collect();
        let mut terms = Vec::new();
        for_each_index(&dimsf, |fi| {
            for_each_index(&dimsg, |gi| {
                let o: Vec<usize> = fi
                    .iter()
                    .zip(gi)
                    .zip(&dimsg)
                    .map(|((a, b), n)| a * n + b)
                    .collect();
                terms.push([
                    flat(&o, &out_shape) as u32,
                    flat(fi, &dimsf) as u32,
                    flat(gi, &dimsg) as u32,
                ]);
            });
        });
        Some(self.b.tensordot(f[0].0, f[1].0, terms, d))
    }

    fn re(&mut self, x: NodeId, n: usize) -> NodeId {
        self.b.select(
            x,
            (0..n)
                .map(|k| (2 * (k % (self.b.dim(x) / 2))) as u32)
                .collect(),
        )
    }

    fn im(&mut self, x: NodeId, n: usize) -> NodeId {
        self.b.select(
            x,
            (0..n)
                .map(|k| (2 * (k % (self.b.dim(x) / 2)) + 1) as u32)
                .collect(),
        )
    }

    fn interleave(&mut self, re: NodeId, im: NodeId) -> NodeId {
        let n = self.b.dim(re).max(self.b.dim(im));
        let re = self
            .b
            .place(re, (0..n).map(|k| 2 * k as u32).collect(), 2 * n);
        let im = self
            .b
            .place(im, (0..n).map(|k| 2 * k as u32 + 1).collect(), 2 * n);
        self.b.binary(Binary::Add, re, im)
    }

    /// Complex operations on interleaved (re, im) pairs, expanded into selections and real arithmetic.
    fn complex(&mut self, name: &str, f: &[(NodeId, &Expr)], p: &[Param], span: Span) -> Res {
        use Binary::{Add, Mult, Subtract};
        let x = f[0].0;
        match name {
            "Real2Complex" | "Imag2Complex" | "ComplexExp1j" => {
                let d = self.b.dim(x);
                self.out_dim(name, d.checked_mul(2), span)?;
                return Some(match name {
                    "Real2Complex" => {
                        self.b
                            .place(x, (0..d).map(|k| 2 * k as u32).collect(), 2 * d)
                    }
                    "Imag2Complex" => {
                        self.b
                            .place(x, (0..d).map(|k| 2 * k as u32 + 1).collect(), 2 * d)
                    }
                    _ => {
                        let c = self.b.unary(Unary::Cos, x);
                        let s = self.b.unary(Unary::Sin, x);
                        self.interleave(c, s)
                    }
                });
            }
            "ComplexRealScal" => {
                self.need_scalar(name, f[0], span)?;
                self.need_even(name, f[1], span)?;
                return Some(self.b.binary(Mult, x, f[1].0));
            }
            _ => {}
        }
        self.need_even(name, f[0], span)?;
        let n = self.b.dim(x) / 2;
        let unary_result = match name {
            "ComplexReal" => Some(self.re(x, n)),
            "ComplexImag" => Some(self.im(x, n)),
            "ComplexSquareAbs" | "ComplexAbs" => {
                let (r, i) = (self.re(x, n), self.im(x, n));
                let (r2, i2) = (
                    self.b.unary(Unary::Square, r),
                    self.b.unary(Unary::Square, i),
                );
                let s = self.b.binary(Add, r2, i2);
                Some(if name == "ComplexAbs" {
                    self.b.unary(Unary::Sqrt, s)
                } else {
                    s
                })
            }
            "ComplexAngle" => {
                let (r, i) = (self.re(x, n), self.im(x, n));
                Some(self.b.binary(Binary::Atan2, i, r))
            }
            "Conj" => {
                let (r, i) = (self.re(x, n), self.im(x, n));
                let mi = self.b.unary(Unary::Minus, i);
                Some(self.interleave(r, mi))
            }
            "ComplexExp" => {
                let (r, i) = (self.re(x, n), self.im(x, n));
                let e = self.b.unary(Unary::Exp, r);
                let (c, s) = (self.b.unary(Unary::Cos, i), self.b.unary(Unary::Sin, i));
                let (ec, es) = (self.b.binary(Mult, e, c), self.b.binary(Mult, e, s));
                Some(self.interleave(ec, es))
            }
            "ComplexSum" => {
                let (r, i) = (self.re(x, n), self.im(x, n));
                let (sr, si) = (self.b.sum(r), self.b.sum(i));
                Some(self.interleave(sr, si))
            }
            "ComplexSumT" => {
                let d = self.dim_param(&p[0], 2)?;
                if n != 1 || d % 2 != 0 {
                    return self.dim_error(span, format!("`ComplexSumT` replicates one complex number (dimension 2) to an even dimension, got {} to {d}", 2 * n));
                }
                Some(self.b.select(x, (0..d).map(|k| (k % 2) as u32).collect()))
            }
            _ => None,
        };
        if unary_result.is_some() {
            return unary_result;
        }
        // Binary complex operations: complex broadcasting of a single complex number.
        let y = f[1].0;
        self.need_even(name, f[1], span)?;
        let m = self.b.dim(y) / 2;
        if !(n == m || n == 1 || m == 1) {
            return self.dim_error(
                span,
                format!(
                    "dimension mismatch in `{name}`: {} (`{}`) and {} (`{}`) complex numbers",
                    n,
                    self.text(f[0].1),
                    m,
                    self.text(f[1].1)
                ),
            );
        }
        let k = n.max(m);
        let (xr, xi, yr, yi) = (self.re(x, k), self.im(x, k), self.re(y, k), self.im(y, k));
        Some(match name {
            "ComplexAdd" | "ComplexSubtract" => {
                let op = if name == "ComplexAdd" { Add } else { Subtract };
                let (r, i) = (self.b.binary(op, xr, yr), self.b.binary(op, xi, yi));
                self.interleave(r, i)
            }
            "ComplexMult" => {
                let (a, b2) = (self.b.binary(Mult, xr, yr), self.b.binary(Mult, xi, yi));
                let (c, d) = (self.b.binary(Mult, xr, yi), self.b.binary(Mult, xi, yr));
                let (r, i) = (self.b.binary(Subtract, a, b2), self.b.binary(Add, c, d));
                self.interleave(r, i)
            }
            "ComplexDivide" => {
                let (a, b2) = (self.b.binary(Mult, xr, yr), self.b.binary(Mult, xi, yi));
                let (c, d) = (self.b.binary(Mult, xi, yr), self.b.binary(Mult, xr, yi));
                let (nr, ni) = (self.b.binary(Add, a, b2), self.b.binary(Subtract, c, d));
                let (yr2, yi2) = (
                    self.b.unary(Unary::Square, yr),
                    self.b.unary(Unary::Square, yi),
                );
                let den = self.b.binary(Add, yr2, yi2);
                let (r, i) = (
                    self.b.binary(Binary::Divide, nr, den),
                    self.b.binary(Binary::Divide, ni, den),
                );
                self.interleave(r, i)
            }
            _ => unreachable!("every complex name of SURFACE is handled: {name}"),
        })
    }

    fn bare_var(&mut self, args: &[Expr], span: Span) -> Res {
        let nums: Option<Vec<i64>> = args.iter().map(int_literal).collect();
        let Some([ind, dim, cat]) = nums.as_deref().and_then(|v| <[i64; 3]>::try_from(v).ok())
        else {
            return self.error_label(
                ErrorKind::Arity,
                span,
                "`Var` takes three integers",
                "Var(index, dim, cat) with cat 0 (i), 1 (j) or 2 (parameter)",
            );
        };
        let Some(cat) = (cat >= 0).then(|| Cat::from_number(cat as u64)).flatten() else {
            return self.error(
                ErrorKind::Alias,
                span,
                "the category of `Var` must be 0 (i), 1 (j) or 2 (parameter)",
            );
        };
        if ind < 0 || dim < 1 {
            return self.error(
                ErrorKind::Alias,
                span,
                "`Var` needs a non-negative index and a dimension of at least 1",
            );
        }
        if dim as u64 > MAX_DIM as u64 {
            return self.error(
                ErrorKind::Alias,
                span,
                format!("the dimension of `Var` must be at most {MAX_DIM}"),
            );
        }
        let (ind, dim) = (ind as usize, dim as usize);
        if let Some(v) = self.b.vars().iter().find(|v| v.index == ind) {
            if v.dim != dim || v.cat != cat {
                let msg = format!(
                    "`Var({ind},{dim},{})` conflicts with alias `{}` = {}({ind}, {})",
                    cat.number(),
                    v.name,
                    v.cat,
                    v.dim
                );
                return self.error(ErrorKind::Alias, span, msg);
            }
        } else {
            self.b.add_var(VarInfo {
                name: format!("Var({ind},{dim},{})", cat.number()),
                index: ind,
                dim,
                cat,
            });
        }
        Some(self.b.var(ind))
    }
}

/// The product of dimensions, `None` if it overflows or if one is 0.
fn product(v: &[usize]) -> Option<usize> {
    v.iter().try_fold(
        1usize,
        |acc, &d| if d == 0 { None } else { acc.checked_mul(d) },
    )
}

fn has_dup(v: &[usize]) -> bool {
    let mut s = v.to_vec();
    s.sort();
    s.windows(2).any(|w| w[0] == w[1])
}

fn flat(idx: &[usize], shape: &[usize]) -> usize {
    idx.iter().zip(shape).fold(0, |acc, (&i, &n)| acc * n + i)
}

fn for_each_index(shape: &[usize], mut f: impl FnMut(&[usize])) {
    let mut idx = vec![0; shape.len()];
    if shape.contains(&0) {
        return;
    }
    loop {
        f(&idx);
        let mut k = shape.len();
        loop {
            if k == 0 {
                return;
            }
            k -= 1;
            idx[k] += 1;
            if idx[k] < shape[k] {
                break;
            }
            idx[k] = 0;
        }
    }
}

/// An integer literal, possibly negated.
fn int_literal(e: &Expr) -> Option<i64> {
    match &e.kind {
        ExprKind::Int(v) => i64::try_from(*v).ok(),
        ExprKind::Neg(inner) => int_literal(inner).map(|v| -v),
        _ => None,
    }
}

/// The closest name, for "did you mean" hints: the same name in another case, or one within an edit
/// distance of a third of the name's length (at least 1), as rustc does; none by distance for names of
/// one or two letters, where every other short name would be "close".
pub(crate) fn suggest<'n>(name: &str, candidates: &[&'n str]) -> Option<&'n str> {
    let len = name.chars().count();
    let limit = if len <= 2 { 0 } else { len.max(3) / 3 };
    candidates
        .iter()
        .map(|c| (levenshtein(&name.to_lowercase(), &c.to_lowercase()), *c))
        .filter(|(d, c)| if *d == 0 { *c != name } else { *d <= limit })
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

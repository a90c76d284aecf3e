//! The untyped syntax tree, every node spanned. `Display` prints it back as a formula that parses to the
//! same tree.

use std::fmt;

use crate::Span;

/// A binary operator of the surface syntax.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `**`
    Pow,
    /// `|` (dot product)
    Dot,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `==` (rejected: structural comparison in KeOps)
    Eq,
    /// `!=` (rejected)
    Ne,
    /// `^` (rejected)
    Xor,
}

impl BinOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Pow => "**",
            BinOp::Dot => "|",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Xor => "^",
        }
    }
}

/// An expression kind.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// An integer literal.
    Int(u64),
    /// A float literal.
    Float(f64),
    /// A name.
    Ident(String),
    /// `name(args)`.
    Call {
        /// The operation name.
        name: String,
        /// Span of the name alone.
        name_span: Span,
        /// Arguments.
        args: Vec<Expr>,
    },
    /// `-a`.
    Neg(Box<Expr>),
    /// `a op b`.
    Binary {
        /// The operator.
        op: BinOp,
        /// Span of the operator token.
        op_span: Span,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
    },
    /// `[a, b, ...]` (integer lists of `TensorDot` and `Kron`).
    List(Vec<Expr>),
}

/// An expression and its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Where it is.
    pub span: Span,
}

impl Expr {
    /// Structural equality ignoring spans (for round-trip tests).
    pub fn same_shape(&self, o: &Expr) -> bool {
        use ExprKind::*;
        match (&self.kind, &o.kind) {
            (Int(a), Int(b)) => a == b,
            (Float(a), Float(b)) => a.to_bits() == b.to_bits(),
            (Ident(a), Ident(b)) => a == b,
            (
                Call {
                    name: a, args: x, ..
                },
                Call {
                    name: b, args: y, ..
                },
            ) => a == b && x.len() == y.len() && x.iter().zip(y).all(|(p, q)| p.same_shape(q)),
            (Neg(a), Neg(b)) => a.same_shape(b),
            (
                Binary {
                    op: o1,
                    lhs: l1,
                    rhs: r1,
                    ..
                },
                Binary {
                    op: o2,
                    lhs: l2,
                    rhs: r2,
                    ..
                },
            ) => o1 == o2 && l1.same_shape(l2) && r1.same_shape(r2),
            (List(a), List(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(p, q)| p.same_shape(q))
            }
            _ => false,
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExprKind::Int(v) => write!(f, "{v}"),
            // `1e999` is how an infinite literal is written (the lexer reads it as `inf`).
            ExprKind::Float(v) if *v == f64::INFINITY => write!(f, "1e999"),
            ExprKind::Float(v) => write!(f, "{v:?}"),
            ExprKind::Ident(s) => write!(f, "{s}"),
            ExprKind::Call { name, args, .. } => {
                write!(f, "{name}(")?;
                for (k, a) in args.iter().enumerate() {
                    if k > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{a}")?;
                }
                write!(f, ")")
            }
            ExprKind::Neg(a) => write!(f, "(-{a})"),
            ExprKind::Binary { op, lhs, rhs, .. } => write!(f, "({lhs} {} {rhs})", op.symbol()),
            ExprKind::List(items) => {
                write!(f, "[")?;
                for (k, a) in items.iter().enumerate() {
                    if k > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{a}")?;
                }
                write!(f, "]")
            }
        }
    }
}

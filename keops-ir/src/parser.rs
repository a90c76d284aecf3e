//! Tokens → syntax tree, with Python's precedence as KeOps formulas have it:
//! `**` > unary `-` > `* /` > `+ -` > `^` > `|` > comparisons.
//!
//! Binary operators are parsed by precedence climbing, so one level of parentheses costs a handful of
//! stack frames; the depth of the tree is bounded (see [`MAX_TREE_DEPTH`]) because every later pass
//! (checking, printing, dropping the tree) recurses over it.

use crate::ast::{BinOp, Expr, ExprKind};
use crate::lexer::{Tok, Token, tokenize};
use crate::{ErrorKind, FormulaError, Span};

/// The deepest syntax tree accepted. Each operator of a chain such as `a + b + c` is one level, as is
/// each call, list and unary minus.
pub const MAX_TREE_DEPTH: usize = 128;

/// The deepest parser recursion accepted (nested parentheses, calls, lists, unary signs). Printing a
/// tree costs at most 3 levels of recursion per tree level (`(-a)`, `(a ** b)`), so any accepted
/// formula, printed, parses again.
const MAX_DEPTH: usize = 3 * MAX_TREE_DEPTH + 8;

/// Parses a whole formula.
///
/// ```
/// use keops_ir::parser::parse;
/// let e = parse("x - y | x - y").unwrap();
/// assert_eq!(e.to_string(), "((x - y) | (x - y))");
/// ```
pub fn parse(src: &str) -> Result<Expr, FormulaError> {
    let tokens = tokenize(src)?;
    let mut p = Parser {
        tokens,
        pos: 0,
        src_len: src.len(),
        depth: 0,
    };
    let (e, _) = p.expr().map_err(|e| e.in_source(src))?;
    if let Some(t) = p.peek() {
        let err = match t.tok {
            Tok::RParen => error(t.span, "unbalanced `)`", "no matching `(`"),
            _ => error(
                t.span,
                "unexpected token after the end of the formula",
                "expected an operator",
            ),
        };
        return Err(err.in_source(src));
    }
    Ok(e)
}

/// An expression and the depth of its tree (a leaf has depth 1). Errors are boxed to keep the frames of
/// the recursive functions small.
type Parsed = Result<(Expr, usize), Box<FormulaError>>;

/// A parse error (out of line: building one takes stack space the recursive frames should not hold).
#[cold]
#[inline(never)]
fn error(span: Span, message: &str, label: &str) -> Box<FormulaError> {
    let e = FormulaError::new(ErrorKind::Parse, span, message);
    Box::new(if label.is_empty() {
        e
    } else {
        e.with_label(label)
    })
}

#[cold]
#[inline(never)]
fn too_deep(span: Span) -> Box<FormulaError> {
    error(
        span,
        "formula nested too deeply",
        &format!(
            "more than {MAX_TREE_DEPTH} levels (each operator of a chain such as `a + b + c` counts)"
        ),
    )
}

#[cold]
#[inline(never)]
fn unbalanced(open_span: Span, open_s: &str) -> Box<FormulaError> {
    error(open_span, &format!("unbalanced `{open_s}`"), "never closed")
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    src_len: usize,
    /// Current recursion depth (nested `expr` and `unary` calls).
    depth: usize,
}

/// The binary operator a token stands for, with its precedence (higher binds tighter; `**` is handled
/// apart, above unary minus).
fn binop(tok: &Tok) -> Option<(BinOp, u8)> {
    Some(match tok {
        Tok::Lt => (BinOp::Lt, 0),
        Tok::Le => (BinOp::Le, 0),
        Tok::Gt => (BinOp::Gt, 0),
        Tok::Ge => (BinOp::Ge, 0),
        Tok::EqEq => (BinOp::Eq, 0),
        Tok::Ne => (BinOp::Ne, 0),
        Tok::Bar => (BinOp::Dot, 1),
        Tok::Caret => (BinOp::Xor, 2),
        Tok::Plus => (BinOp::Add, 3),
        Tok::Minus => (BinOp::Sub, 3),
        Tok::Star => (BinOp::Mul, 4),
        Tok::Slash => (BinOp::Div, 4),
        _ => return None,
    })
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn peek_is(&self, tok: &Tok) -> bool {
        self.peek().is_some_and(|t| &t.tok == tok)
    }

    fn eof_span(&self) -> Span {
        Span::new(self.src_len, self.src_len)
    }

    /// The span of the next token (or the end of the formula).
    fn here(&self) -> Span {
        self.peek().map_or(self.eof_span(), |t| t.span)
    }

    /// Skips the next token, returning its span.
    fn skip(&mut self) -> Span {
        let span = self.here();
        self.pos += 1;
        span
    }

    fn binary(
        (lhs, dl): (Expr, usize),
        op: BinOp,
        op_span: Span,
        (rhs, dr): (Expr, usize),
    ) -> Parsed {
        let depth = 1 + dl.max(dr);
        if depth > MAX_TREE_DEPTH {
            return Err(too_deep(op_span));
        }
        let span = lhs.span.join(rhs.span);
        Ok((
            Expr {
                kind: ExprKind::Binary {
                    op,
                    op_span,
                    lhs: Box::new(lhs),
                    rhs: Box::new(rhs),
                },
                span,
            },
            depth,
        ))
    }

    /// A whole expression (the loosest precedence), one level of recursion.
    fn expr(&mut self) -> Parsed {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(error(self.here(), "formula nested too deeply", ""));
        }
        let r = self.climb(0);
        self.depth -= 1;
        r
    }

    /// Binary operators of precedence `min` and above, left-associative.
    fn climb(&mut self, min: u8) -> Parsed {
        let mut lhs = self.unary()?;
        while let Some((op, prec)) = self.peek().and_then(|t| binop(&t.tok)) {
            if prec < min {
                break;
            }
            let op_span = self.skip();
            let rhs = self.climb(prec + 1)?;
            lhs = Self::binary(lhs, op, op_span, rhs)?;
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> Parsed {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(error(self.here(), "formula nested too deeply", ""));
        }
        let r = if self.peek_is(&Tok::Minus) {
            let start = self.skip();
            self.unary().and_then(|(arg, d)| {
                if d + 1 > MAX_TREE_DEPTH {
                    return Err(too_deep(start));
                }
                let span = start.join(arg.span);
                Ok((
                    Expr {
                        kind: ExprKind::Neg(Box::new(arg)),
                        span,
                    },
                    d + 1,
                ))
            })
        } else if self.peek_is(&Tok::Plus) {
            self.skip();
            self.unary()
        } else {
            self.power()
        };
        self.depth -= 1;
        r
    }

    fn power(&mut self) -> Parsed {
        let base = self.primary()?;
        if self.peek_is(&Tok::Pow) {
            let op_span = self.skip();
            let exp = self.unary()?;
            return Self::binary(base, BinOp::Pow, op_span, exp);
        }
        Ok(base)
    }

    fn primary(&mut self) -> Parsed {
        let Some(t) = self.tokens.get(self.pos) else {
            return Err(error(
                self.eof_span(),
                "unexpected end of formula",
                "expected an operand",
            ));
        };
        let span = t.span;
        self.pos += 1;
        match &t.tok {
            Tok::Int(v) => Ok((
                Expr {
                    kind: ExprKind::Int(*v),
                    span,
                },
                1,
            )),
            Tok::Float(v) => Ok((
                Expr {
                    kind: ExprKind::Float(*v),
                    span,
                },
                1,
            )),
            Tok::Ident(name) => {
                let name = name.clone();
                if self.peek_is(&Tok::LParen) {
                    let open = self.skip();
                    let (args, close, d) = self.list_until(Tok::RParen, open, "(", ")")?;
                    let call = Expr {
                        kind: ExprKind::Call {
                            name,
                            name_span: span,
                            args,
                        },
                        span: span.join(close),
                    };
                    Ok((call, d + 1))
                } else {
                    Ok((
                        Expr {
                            kind: ExprKind::Ident(name),
                            span,
                        },
                        1,
                    ))
                }
            }
            Tok::LParen => {
                let (inner, d) = self.expr()?;
                match self.peek() {
                    Some(c) if c.tok == Tok::RParen => {
                        let close = self.skip();
                        Ok((
                            Expr {
                                kind: inner.kind,
                                span: span.join(close),
                            },
                            d,
                        ))
                    }
                    Some(c) => Err(error(
                        c.span,
                        "expected `)`",
                        "to close the `(` opened before",
                    )),
                    None => Err(unbalanced(span, "(")),
                }
            }
            Tok::LBracket => {
                let (items, close, d) = self.list_until(Tok::RBracket, span, "[", "]")?;
                Ok((
                    Expr {
                        kind: ExprKind::List(items),
                        span: span.join(close),
                    },
                    d + 1,
                ))
            }
            Tok::RParen => Err(error(span, "unbalanced `)`", "expected an operand")),
            _ => Err(error(
                span,
                "expected an operand",
                "a variable, a number, an operation or `(`",
            )),
        }
    }

    /// Comma-separated expressions up to `close` (a trailing comma is allowed): the items, the span of
    /// the closing token, and the depth of the deepest item (0 for none); the caller adds its own level.
    fn list_until(
        &mut self,
        close: Tok,
        open_span: Span,
        open_s: &str,
        close_s: &str,
    ) -> Result<(Vec<Expr>, Span, usize), Box<FormulaError>> {
        let mut items = Vec::new();
        let mut depth = 0;
        if self.peek_is(&close) {
            return Ok((items, self.skip(), depth));
        }
        loop {
            if self.peek().is_none() {
                return Err(unbalanced(open_span, open_s));
            }
            let (item, d) = self.expr()?;
            if d + 1 > MAX_TREE_DEPTH {
                return Err(too_deep(open_span));
            }
            items.push(item);
            depth = depth.max(d);
            match self.peek() {
                Some(t) if t.tok == close => return Ok((items, self.skip(), depth)),
                Some(t) if t.tok == Tok::Comma => {
                    self.skip();
                    if self.peek_is(&close) {
                        return Ok((items, self.skip(), depth));
                    }
                }
                Some(t) => return Err(error(t.span, &format!("expected `,` or `{close_s}`"), "")),
                None => return Err(unbalanced(open_span, open_s)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> String {
        parse(s).unwrap().to_string()
    }

    #[test]
    fn precedence_is_pythons() {
        assert_eq!(p("a + b * c"), "(a + (b * c))");
        assert_eq!(p("-x ** 2"), "(-(x ** 2))");
        assert_eq!(p("x ** -1"), "(x ** (-1))");
        assert_eq!(p("a - b - c"), "((a - b) - c)");
        assert_eq!(p("x - y | x + y"), "((x - y) | (x + y))");
        assert_eq!(p("a + b < c | d"), "((a + b) < (c | d))");
        assert_eq!(p("Exp(-SqDist(x, y)) * a"), "(Exp((-SqDist(x, y))) * a)");
        assert_eq!(
            p("TensorDot(x, y, [2, 3], [3], [1], [0])"),
            "TensorDot(x, y, [2, 3], [3], [1], [0])"
        );
    }

    #[test]
    fn errors_point_at_the_problem() {
        let e = parse("Exp(x").unwrap_err();
        assert_eq!(e.span, Span::new(3, 4));
        assert!(e.message.contains("unbalanced"));
        let e = parse("(x + y").unwrap_err();
        assert_eq!(e.span, Span::new(0, 1));
        let e = parse("x + y)").unwrap_err();
        assert_eq!(e.span, Span::new(5, 6));
        let e = parse("x + ").unwrap_err();
        assert_eq!(e.span, Span::new(4, 4));
        let e = parse("x y").unwrap_err();
        assert_eq!(e.span, Span::new(2, 3));
        let e = parse("Exp(x,, y)").unwrap_err();
        assert_eq!(e.span, Span::new(6, 7));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let s = "(".repeat(5000) + "x" + &")".repeat(5000);
        assert!(parse(&s).is_err());
        let s = "-".repeat(5000) + "x";
        assert!(parse(&s).is_err());
    }

    #[test]
    fn print_parse_round_trip() {
        for s in [
            "Exp(-SqDist(x,y))*a",
            "x**2/3 - -y",
            "IfElse(x-1, y, 2.5e-3) | Concat(x,y)",
            "a<=b",
            "[1,[2]]",
        ] {
            let e = parse(s).unwrap();
            let again = parse(&e.to_string()).unwrap();
            assert!(e.same_shape(&again), "{s}");
        }
    }
}

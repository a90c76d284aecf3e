//! Tokens → syntax tree, with Python's precedence as KeOps formulas have it:
//! `**` > unary `-` > `* /` > `+ -` > `^` > `|` > comparisons.

use crate::ast::{BinOp, Expr, ExprKind};
use crate::lexer::{Tok, Token, tokenize};
use crate::{ErrorKind, FormulaError, Span};

/// Parses a whole formula.
///
/// ```
/// use keops_ir::parser::parse;
/// let e = parse("x - y | x - y").unwrap();
/// assert_eq!(e.to_string(), "((x - y) | (x - y))");
/// ```
pub fn parse(src: &str) -> Result<Expr, FormulaError> {
    let tokens = tokenize(src)?;
    let mut p = Parser { tokens, pos: 0, src_len: src.len(), depth: 0 };
    let (e, _) = p.expr().map_err(|e| e.in_source(src))?;
    if let Some(t) = p.peek() {
        let err = match t.tok {
            Tok::RParen => FormulaError::new(ErrorKind::Parse, t.span, "unbalanced `)`")
                .with_label("no matching `(`"),
            _ => FormulaError::new(ErrorKind::Parse, t.span, "unexpected token after the end of the formula")
                .with_label("expected an operator"),
        };
        return Err(err.in_source(src));
    }
    Ok(e)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    src_len: usize,
    /// Current recursion depth (nested `expr` and `unary` calls).
    depth: usize,
}

/// The deepest syntax tree accepted: every later pass (checking, printing, dropping) recurses over the
/// tree, so a long chain such as `x + x + ... + x` must be bounded too, not only nested parentheses.
const MAX_TREE_DEPTH: usize = 128;

/// The deepest parser recursion accepted (redundant parentheses, unary signs). A printed tree costs at
/// most 3 levels per tree level (`(-a)`), so any accepted tree, printed, parses again.
const MAX_DEPTH: usize = 3 * MAX_TREE_DEPTH + 8;

/// An expression and the depth of its tree (a leaf has depth 1).
type Parsed = Result<(Expr, usize), FormulaError>;

fn too_deep(span: Span) -> FormulaError {
    FormulaError::new(ErrorKind::Parse, span, "formula nested too deeply")
        .with_label(format!("more than {MAX_TREE_DEPTH} levels (each operator of a chain such as `a + b + c` counts)"))
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn eof_span(&self) -> Span {
        Span::new(self.src_len, self.src_len)
    }

    fn bump(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn eat(&mut self, tok: &Tok) -> bool {
        if self.peek().is_some_and(|t| &t.tok == tok) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn binary((lhs, dl): (Expr, usize), op: BinOp, op_span: Span, (rhs, dr): (Expr, usize)) -> Parsed {
        let depth = 1 + dl.max(dr);
        if depth > MAX_TREE_DEPTH {
            return Err(too_deep(op_span));
        }
        let span = lhs.span.join(rhs.span);
        Ok((Expr { kind: ExprKind::Binary { op, op_span, lhs: Box::new(lhs), rhs: Box::new(rhs) }, span }, depth))
    }

    fn expr(&mut self) -> Parsed {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            let span = self.peek().map(|t| t.span).unwrap_or(self.eof_span());
            return Err(FormulaError::new(ErrorKind::Parse, span, "formula nested too deeply"));
        }
        let r = self.comparison();
        self.depth -= 1;
        r
    }

    fn comparison(&mut self) -> Parsed {
        let mut lhs = self.bor()?;
        loop {
            let op = match self.peek().map(|t| &t.tok) {
                Some(Tok::Lt) => BinOp::Lt,
                Some(Tok::Le) => BinOp::Le,
                Some(Tok::Gt) => BinOp::Gt,
                Some(Tok::Ge) => BinOp::Ge,
                Some(Tok::EqEq) => BinOp::Eq,
                Some(Tok::Ne) => BinOp::Ne,
                _ => return Ok(lhs),
            };
            let span = self.bump().map(|t| t.span).unwrap_or_default();
            let rhs = self.bor()?;
            lhs = Self::binary(lhs, op, span, rhs)?;
        }
    }

    fn bor(&mut self) -> Parsed {
        let mut lhs = self.bxor()?;
        while self.peek().is_some_and(|t| t.tok == Tok::Bar) {
            let span = self.bump().map(|t| t.span).unwrap_or_default();
            let rhs = self.bxor()?;
            lhs = Self::binary(lhs, BinOp::Dot, span, rhs)?;
        }
        Ok(lhs)
    }

    fn bxor(&mut self) -> Parsed {
        let mut lhs = self.sum()?;
        while self.peek().is_some_and(|t| t.tok == Tok::Caret) {
            let span = self.bump().map(|t| t.span).unwrap_or_default();
            let rhs = self.sum()?;
            lhs = Self::binary(lhs, BinOp::Xor, span, rhs)?;
        }
        Ok(lhs)
    }

    fn sum(&mut self) -> Parsed {
        let mut lhs = self.term()?;
        loop {
            let op = match self.peek().map(|t| &t.tok) {
                Some(Tok::Plus) => BinOp::Add,
                Some(Tok::Minus) => BinOp::Sub,
                _ => return Ok(lhs),
            };
            let span = self.bump().map(|t| t.span).unwrap_or_default();
            let rhs = self.term()?;
            lhs = Self::binary(lhs, op, span, rhs)?;
        }
    }

    fn term(&mut self) -> Parsed {
        let mut lhs = self.unary()?;
        loop {
            let op = match self.peek().map(|t| &t.tok) {
                Some(Tok::Star) => BinOp::Mul,
                Some(Tok::Slash) => BinOp::Div,
                _ => return Ok(lhs),
            };
            let span = self.bump().map(|t| t.span).unwrap_or_default();
            let rhs = self.unary()?;
            lhs = Self::binary(lhs, op, span, rhs)?;
        }
    }

    fn unary(&mut self) -> Parsed {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            let span = self.peek().map(|t| t.span).unwrap_or(self.eof_span());
            return Err(FormulaError::new(ErrorKind::Parse, span, "formula nested too deeply"));
        }
        let r = if self.peek().is_some_and(|t| t.tok == Tok::Minus) {
            let start = self.bump().map(|t| t.span).unwrap_or_default();
            let (arg, d) = self.unary()?;
            if d + 1 > MAX_TREE_DEPTH {
                return Err(too_deep(start));
            }
            let span = start.join(arg.span);
            Ok((Expr { kind: ExprKind::Neg(Box::new(arg)), span }, d + 1))
        } else if self.peek().is_some_and(|t| t.tok == Tok::Plus) {
            self.bump();
            self.unary()
        } else {
            self.power()
        };
        self.depth -= 1;
        r
    }

    fn power(&mut self) -> Parsed {
        let base = self.primary()?;
        if self.peek().is_some_and(|t| t.tok == Tok::Pow) {
            let span = self.bump().map(|t| t.span).unwrap_or_default();
            let exp = self.unary()?;
            return Self::binary(base, BinOp::Pow, span, exp);
        }
        Ok(base)
    }

    fn primary(&mut self) -> Parsed {
        let Some(t) = self.bump() else {
            return Err(FormulaError::new(ErrorKind::Parse, self.eof_span(), "unexpected end of formula")
                .with_label("expected an operand"));
        };
        match t.tok {
            Tok::Int(v) => Ok((Expr { kind: ExprKind::Int(v), span: t.span }, 1)),
            Tok::Float(v) => Ok((Expr { kind: ExprKind::Float(v), span: t.span }, 1)),
            Tok::Ident(name) => {
                if self.peek().is_some_and(|p| p.tok == Tok::LParen) {
                    let open = self.bump().map(|t| t.span).unwrap_or_default();
                    let (args, close, d) = self.list_until(Tok::RParen, open, "(", ")")?;
                    let call = Expr { kind: ExprKind::Call { name, name_span: t.span, args }, span: t.span.join(close) };
                    Ok((call, d + 1))
                } else {
                    Ok((Expr { kind: ExprKind::Ident(name), span: t.span }, 1))
                }
            }
            Tok::LParen => {
                let (inner, d) = self.expr()?;
                match self.bump() {
                    Some(c) if c.tok == Tok::RParen => Ok((Expr { kind: inner.kind, span: t.span.join(c.span) }, d)),
                    Some(c) => Err(FormulaError::new(ErrorKind::Parse, c.span, "expected `)`")
                        .with_label("to close the `(` opened before")),
                    None => Err(FormulaError::new(ErrorKind::Parse, t.span, "unbalanced `(`")
                        .with_label("never closed")),
                }
            }
            Tok::LBracket => {
                let (items, close, d) = self.list_until(Tok::RBracket, t.span, "[", "]")?;
                Ok((Expr { kind: ExprKind::List(items), span: t.span.join(close) }, d + 1))
            }
            Tok::RParen => Err(FormulaError::new(ErrorKind::Parse, t.span, "unbalanced `)`")
                .with_label("expected an operand")),
            _ => Err(FormulaError::new(ErrorKind::Parse, t.span, "expected an operand")
                .with_label("a variable, a number, an operation or `(`")),
        }
    }

    /// Comma-separated expressions up to `close`: the items, the closing span, and the depth of the
    /// deepest item (0 for none); the caller adds its own level and checks the limit.
    fn list_until(
        &mut self,
        close: Tok,
        open_span: Span,
        open_s: &str,
        close_s: &str,
    ) -> Result<(Vec<Expr>, Span, usize), FormulaError> {
        let mut items = Vec::new();
        let mut depth = 0;
        if let Some(t) = self.peek() {
            if t.tok == close {
                let span = t.span;
                self.pos += 1;
                return Ok((items, span, depth));
            }
        }
        loop {
            if self.peek().is_none() {
                return Err(FormulaError::new(ErrorKind::Parse, open_span, format!("unbalanced `{open_s}`"))
                    .with_label("never closed"));
            }
            let (item, d) = self.expr()?;
            if d + 1 > MAX_TREE_DEPTH {
                return Err(too_deep(open_span));
            }
            items.push(item);
            depth = depth.max(d);
            match self.bump() {
                Some(t) if t.tok == close => return Ok((items, t.span, depth)),
                Some(t) if t.tok == Tok::Comma => {
                    if self.eat(&close) {
                        let span = self.tokens[self.pos - 1].span;
                        return Ok((items, span, depth));
                    }
                }
                Some(t) => {
                    return Err(FormulaError::new(
                        ErrorKind::Parse,
                        t.span,
                        format!("expected `,` or `{close_s}`"),
                    ));
                }
                None => {
                    return Err(FormulaError::new(
                        ErrorKind::Parse,
                        open_span,
                        format!("unbalanced `{open_s}`"),
                    )
                    .with_label("never closed"));
                }
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
        assert_eq!(p("TensorDot(x, y, [2, 3], [3], [1], [0])"), "TensorDot(x, y, [2, 3], [3], [1], [0])");
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
        for s in ["Exp(-SqDist(x,y))*a", "x**2/3 - -y", "IfElse(x-1, y, 2.5e-3) | Concat(x,y)", "a<=b", "[1,[2]]"] {
            let e = parse(s).unwrap();
            let again = parse(&e.to_string()).unwrap();
            assert!(e.same_shape(&again), "{s}");
        }
    }
}

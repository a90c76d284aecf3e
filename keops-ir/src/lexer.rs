//! Formula text → tokens with byte spans. Never panics.

use crate::{ErrorKind, FormulaError, Span};

/// A token kind.
#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    /// A name: operation, alias or `Var`.
    Ident(String),
    /// An integer literal.
    Int(u64),
    /// A float literal (beyond KeOps, which rejects them).
    Float(f64),
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `[`
    LBracket,
    /// `]`
    RBracket,
    /// `,`
    Comma,
    /// `+`
    Plus,
    /// `-`
    Minus,
    /// `*`
    Star,
    /// `/`
    Slash,
    /// `**`
    Pow,
    /// `|`
    Bar,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `==`
    EqEq,
    /// `!=`
    Ne,
    /// `^`
    Caret,
    /// `=` (aliases only)
    Assign,
}

/// A token and where it is.
#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    /// What it is.
    pub tok: Tok,
    /// Where it is.
    pub span: Span,
}

/// Splits `src` into tokens.
///
/// ```
/// use keops_ir::lexer::{tokenize, Tok};
/// let t = tokenize("x**2 | y").unwrap();
/// assert_eq!(t.iter().map(|t| t.tok.clone()).collect::<Vec<_>>(),
///            vec![Tok::Ident("x".into()), Tok::Pow, Tok::Int(2), Tok::Bar, Tok::Ident("y".into())]);
/// ```
pub fn tokenize(src: &str) -> Result<Vec<Token>, FormulaError> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            out.push(Token {
                tok: Tok::Ident(src[start..i].to_string()),
                span: Span::new(start, i),
            });
            continue;
        }
        if c.is_ascii_digit() || (c == b'.' && bytes.get(i + 1).is_some_and(|b| b.is_ascii_digit()))
        {
            let mut is_float = false;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            if i < bytes.len() && bytes[i] == b'.' {
                is_float = true;
                i += 1;
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
            }
            if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
                let mut k = i + 1;
                if k < bytes.len() && (bytes[k] == b'+' || bytes[k] == b'-') {
                    k += 1;
                }
                if k < bytes.len() && bytes[k].is_ascii_digit() {
                    is_float = true;
                    i = k;
                    while i < bytes.len() && bytes[i].is_ascii_digit() {
                        i += 1;
                    }
                }
            }
            if i < bytes.len() && (bytes[i].is_ascii_alphabetic() || bytes[i] == b'_') {
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                return Err(FormulaError::new(
                    ErrorKind::Lex,
                    Span::new(start, i),
                    format!("malformed number `{}`", &src[start..i]),
                )
                .in_source(src));
            }
            let text = &src[start..i];
            let span = Span::new(start, i);
            let tok = if is_float {
                match text.parse::<f64>() {
                    Ok(v) => Tok::Float(v),
                    Err(_) => {
                        return Err(FormulaError::new(
                            ErrorKind::Lex,
                            span,
                            format!("malformed number `{text}`"),
                        )
                        .in_source(src));
                    }
                }
            } else {
                match text.parse::<u64>() {
                    Ok(v) => Tok::Int(v),
                    Err(_) => {
                        return Err(FormulaError::new(
                            ErrorKind::Lex,
                            span,
                            format!("integer `{text}` is too large"),
                        )
                        .in_source(src));
                    }
                }
            };
            out.push(Token { tok, span });
            continue;
        }
        // Bytes, not `&src[i..i + 2]`: that would panic inside a multi-byte character.
        let (tok, len) = match bytes.get(i..i + 2) {
            Some(b"**") => (Tok::Pow, 2),
            Some(b"<=") => (Tok::Le, 2),
            Some(b">=") => (Tok::Ge, 2),
            Some(b"==") => (Tok::EqEq, 2),
            Some(b"!=") => (Tok::Ne, 2),
            _ => match c {
                b'(' => (Tok::LParen, 1),
                b')' => (Tok::RParen, 1),
                b'[' => (Tok::LBracket, 1),
                b']' => (Tok::RBracket, 1),
                b',' => (Tok::Comma, 1),
                b'+' => (Tok::Plus, 1),
                b'-' => (Tok::Minus, 1),
                b'*' => (Tok::Star, 1),
                b'/' => (Tok::Slash, 1),
                b'|' => (Tok::Bar, 1),
                b'<' => (Tok::Lt, 1),
                b'>' => (Tok::Gt, 1),
                b'^' => (Tok::Caret, 1),
                b'=' => (Tok::Assign, 1),
                _ => {
                    let ch = src[i..].chars().next().unwrap_or('?');
                    return Err(FormulaError::new(
                        ErrorKind::Lex,
                        Span::new(i, i + ch.len_utf8()),
                        format!("unexpected character `{ch}`"),
                    )
                    .in_source(src));
                }
            },
        };
        out.push(Token {
            tok,
            span: Span::new(i, i + len),
        });
        i += len;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_operators() {
        let t: Vec<Tok> = tokenize("1.5e-3*x-2 ** .5 >= y")
            .unwrap()
            .into_iter()
            .map(|t| t.tok)
            .collect();
        assert_eq!(
            t,
            vec![
                Tok::Float(1.5e-3),
                Tok::Star,
                Tok::Ident("x".into()),
                Tok::Minus,
                Tok::Int(2),
                Tok::Pow,
                Tok::Float(0.5),
                Tok::Ge,
                Tok::Ident("y".into())
            ]
        );
    }

    #[test]
    fn bad_characters_are_spanned() {
        let e = tokenize("x + $y").unwrap_err();
        assert_eq!(e.span, Span::new(4, 5));
        assert_eq!(e.kind, ErrorKind::Lex);
        let e = tokenize("3x").unwrap_err();
        assert_eq!(e.span, Span::new(0, 2));
        let e = tokenize("é").unwrap_err();
        assert_eq!(e.span, Span::new(0, 2));
        let e = tokenize(" ꬉ").unwrap_err();
        assert_eq!(e.span, Span::new(1, 4));
        let e = tokenize("x*é").unwrap_err();
        assert_eq!(e.span, Span::new(2, 4));
    }
}

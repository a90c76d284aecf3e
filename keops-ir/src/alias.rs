//! Aliases: `x = Vi(3)`, `y = Vj(1, 3)`, `p = Pm(2)`, `a = Var(2, 2, 1)`.

use crate::ir::{Cat, VarInfo};
use crate::lexer::{Tok, tokenize};
use crate::{ErrorKind, FormulaError, Span};

/// One alias: a name bound to an input variable.
///
/// ```
/// use keops_ir::{Alias, Cat};
/// let a = Alias::parse("y = Vj(1, 3)").unwrap();
/// assert_eq!((a.name.as_str(), a.index, a.dim, a.cat), ("y", Some(1), 3, Cat::Vj));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alias {
    /// The name used in the formula.
    pub name: String,
    /// Explicit call position, or `None` for the alias's position in the list.
    pub index: Option<usize>,
    /// Vector dimension.
    pub dim: usize,
    /// i, j or parameter.
    pub cat: Cat,
}

impl Alias {
    /// An alias with an implicit index.
    pub fn new(name: impl Into<String>, cat: Cat, dim: usize) -> Self {
        Alias {
            name: name.into(),
            index: None,
            dim,
            cat,
        }
    }

    /// Parses `name = Vi(dim)`, `Vi(index, dim)`, `Vj(..)`, `Pm(..)` (also the spellings `Vx`/`Vy` and
    /// `Var(index, dim, cat)`). Errors carry the alias text as their source.
    pub fn parse(text: &str) -> Result<Alias, FormulaError> {
        let toks = tokenize(text)?;
        let end = Span::new(text.len(), text.len());
        let bad = |span: Span, msg: &str| {
            FormulaError::new(ErrorKind::Alias, span, msg.to_string())
                .with_label("expected `name = Vi(dim)`, `Vj(dim)`, `Pm(dim)` or `Vi(index, dim)`")
                .in_source(text)
        };
        let sp = |k: usize| toks.get(k).map(|t| t.span).unwrap_or(end);
        let Some(Tok::Ident(name)) = toks.first().map(|t| &t.tok) else {
            return Err(bad(sp(0), "an alias starts with a name"));
        };
        if toks.get(1).map(|t| &t.tok) != Some(&Tok::Assign) {
            return Err(bad(sp(1), "expected `=` after the alias name"));
        }
        let Some(Tok::Ident(kind)) = toks.get(2).map(|t| &t.tok) else {
            return Err(bad(sp(2), "expected `Vi`, `Vj` or `Pm`"));
        };
        let cat = match kind.as_str() {
            "Vi" | "Vx" => Some(Cat::Vi),
            "Vj" | "Vy" => Some(Cat::Vj),
            "Pm" => Some(Cat::Pm),
            "Var" => None,
            _ => return Err(bad(sp(2), &format!("unknown variable kind `{kind}`"))),
        };
        if toks.get(3).map(|t| &t.tok) != Some(&Tok::LParen) {
            return Err(bad(sp(3), "expected `(`"));
        }
        let mut nums = Vec::new();
        let mut k = 4;
        loop {
            match toks.get(k).map(|t| &t.tok) {
                Some(Tok::Int(v)) => nums.push((*v, sp(k))),
                _ => return Err(bad(sp(k), "expected a non-negative integer")),
            }
            k += 1;
            match toks.get(k).map(|t| &t.tok) {
                Some(Tok::Comma) => k += 1,
                Some(Tok::RParen) => break,
                _ => return Err(bad(sp(k), "expected `,` or `)`")),
            }
        }
        if k + 1 != toks.len() {
            return Err(bad(sp(k + 1), "unexpected text after the alias"));
        }
        let (index, dim, cat) = match (cat, nums.as_slice()) {
            (Some(c), [(d, ds)]) => (None, (*d, *ds), c),
            (Some(c), [(i, _), (d, ds)]) => (Some(*i as usize), (*d, *ds), c),
            (None, [(i, _), (d, ds), (c, cs)]) => {
                let Some(cat) = Cat::from_number(*c) else {
                    return Err(FormulaError::new(
                        ErrorKind::Alias,
                        *cs,
                        "category must be 0 (Vi), 1 (Vj) or 2 (Pm)",
                    )
                    .in_source(text));
                };
                (Some(*i as usize), (*d, *ds), cat)
            }
            _ => return Err(bad(sp(2).join(sp(k)), "wrong number of arguments")),
        };
        if dim.0 == 0 {
            return Err(
                FormulaError::new(ErrorKind::Alias, dim.1, "dimension must be at least 1")
                    .in_source(text),
            );
        }
        Ok(Alias {
            name: name.clone(),
            index,
            dim: dim.0 as usize,
            cat,
        })
    }
}

/// Numbers aliases into variables: an alias without an explicit index takes its position in the list.
/// Duplicate names or indices are errors (spans are empty: the caller knows where each alias is).
pub fn resolve(aliases: &[Alias]) -> Result<Vec<VarInfo>, FormulaError> {
    let mut vars: Vec<VarInfo> = Vec::with_capacity(aliases.len());
    for (pos, a) in aliases.iter().enumerate() {
        if a.dim == 0 {
            return Err(FormulaError::new(
                ErrorKind::Alias,
                Span::default(),
                format!("alias `{}` has dimension 0", a.name),
            ));
        }
        if a.dim > crate::check::MAX_DIM {
            return Err(FormulaError::new(
                ErrorKind::Alias,
                Span::default(),
                format!(
                    "alias `{}` has dimension {}, more than the maximum {}",
                    a.name,
                    a.dim,
                    crate::check::MAX_DIM
                ),
            ));
        }
        if vars.iter().any(|v| v.name == a.name) {
            return Err(FormulaError::new(
                ErrorKind::Alias,
                Span::default(),
                format!("duplicate alias `{}`", a.name),
            ));
        }
        let index = a.index.unwrap_or(pos);
        if let Some(other) = vars.iter().find(|v| v.index == index) {
            return Err(FormulaError::new(
                ErrorKind::Alias,
                Span::default(),
                format!(
                    "aliases `{}` and `{}` both have index {index}",
                    other.name, a.name
                ),
            ));
        }
        vars.push(VarInfo {
            name: a.name.clone(),
            index,
            dim: a.dim,
            cat: a.cat,
        });
    }
    Ok(vars)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings() {
        assert_eq!(
            Alias::parse("x=Vi(3)").unwrap(),
            Alias::new("x", Cat::Vi, 3)
        );
        assert_eq!(
            Alias::parse(" p = Pm(2) ").unwrap(),
            Alias::new("p", Cat::Pm, 2)
        );
        assert_eq!(
            Alias::parse("y = Vy(4)").unwrap(),
            Alias::new("y", Cat::Vj, 4)
        );
        let v = Alias::parse("b = Var(2, 1, 1)").unwrap();
        assert_eq!((v.index, v.dim, v.cat), (Some(2), 1, Cat::Vj));
    }

    #[test]
    fn malformed_aliases_are_spanned() {
        let e = Alias::parse("x = Vk(3)").unwrap_err();
        assert_eq!(e.span, Span::new(4, 6));
        let e = Alias::parse("x = Vi(0)").unwrap_err();
        assert_eq!(e.span, Span::new(7, 8));
        assert!(Alias::parse("x Vi(3)").is_err());
        assert!(Alias::parse("x = Vi(1, 2, 3)").is_err());
        assert!(Alias::parse("x = Vi(3) y").is_err());
        assert!(Alias::parse("x = Var(0, 3, 7)").is_err());
    }

    #[test]
    fn numbering_and_duplicates() {
        let v = resolve(&[Alias::new("x", Cat::Vi, 3), Alias::new("y", Cat::Vj, 3)]).unwrap();
        assert_eq!((v[0].index, v[1].index), (0, 1));
        assert!(resolve(&[Alias::new("x", Cat::Vi, 3), Alias::new("x", Cat::Vj, 3)]).is_err());
        let mut y = Alias::new("y", Cat::Vj, 3);
        y.index = Some(0);
        assert!(resolve(&[Alias::new("x", Cat::Vi, 3), y]).is_err());
    }
}

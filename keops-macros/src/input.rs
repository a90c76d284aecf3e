//! The macro body: `pub struct Name { formula: "...", aliases: [...], reduction: Sum, axis: 1 }`, or the
//! expression form `keops!(formula = "...", aliases = [...], ...)`.

use keops_ir::{Alias, Cat, Reduction};
use proc_macro2::{Span, TokenStream};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Attribute, Ident, LitInt, LitStr, Token, Visibility, bracketed, parenthesized};

/// An alias as written, with the spans of its parts.
pub struct AliasInput {
    pub alias: Alias,
    pub name_span: Span,
    pub span: Span,
}

/// What a generated type computes.
pub enum Mode {
    /// A Genred reduction.
    Reduce(Reduction),
    /// A kernel solve for the named variable.
    Solve(Ident),
}

/// The parsed macro input.
pub struct KeopsInput {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    /// `None` for the expression form.
    pub name: Option<Ident>,
    pub formula: LitStr,
    pub formula2: Option<LitStr>,
    pub aliases: Vec<AliasInput>,
    pub mode: Mode,
    pub axis: usize,
    pub krate: syn::Path,
}

impl KeopsInput {
    /// The aliases as the front end wants them.
    pub fn ir_aliases(&self) -> Vec<Alias> {
        self.aliases.iter().map(|a| a.alias.clone()).collect()
    }
}

fn parse_alias(input: ParseStream<'_>) -> syn::Result<AliasInput> {
    let name: Ident = input.parse()?;
    input.parse::<Token![=]>()?;
    let kind: Ident = input.parse()?;
    let content;
    let paren = parenthesized!(content in input);
    let nums: Punctuated<LitInt, Token![,]> = Punctuated::parse_terminated(&content)?;
    let span = name
        .span()
        .join(paren.span.close())
        .unwrap_or_else(|| name.span());
    let vals: Vec<(usize, &LitInt)> = nums
        .iter()
        .map(|n| n.base10_parse::<usize>().map(|v| (v, n)))
        .collect::<syn::Result<_>>()?;
    let cat = match kind.to_string().as_str() {
        "Vi" | "Vx" => Some(Cat::Vi),
        "Vj" | "Vy" => Some(Cat::Vj),
        "Pm" => Some(Cat::Pm),
        "Var" => None,
        other => {
            return Err(syn::Error::new(
                kind.span(),
                format!("unknown variable kind `{other}`: expected `Vi`, `Vj` or `Pm`"),
            ));
        }
    };
    let (index, dim, cat) = match (cat, vals.as_slice()) {
        (Some(c), [d]) => (None, *d, c),
        (Some(c), [i, d]) => (Some(i.0), *d, c),
        (None, [i, d, c]) => {
            let cat = Cat::from_number(c.0 as u64).ok_or_else(|| {
                syn::Error::new(c.1.span(), "category must be 0 (Vi), 1 (Vj) or 2 (Pm)")
            })?;
            (Some(i.0), *d, cat)
        }
        _ => {
            return Err(syn::Error::new(
                paren.span.join(),
                format!("`{kind}` takes (dim) or (index, dim)"),
            ));
        }
    };
    if dim.0 == 0 {
        return Err(syn::Error::new(
            dim.1.span(),
            "dimension must be at least 1",
        ));
    }
    Ok(AliasInput {
        alias: Alias {
            name: name.to_string(),
            index,
            dim: dim.0,
            cat,
        },
        name_span: name.span(),
        span,
    })
}

fn parse_reduction(input: ParseStream<'_>) -> syn::Result<(Reduction, Span)> {
    let name: Ident = input.parse()?;
    let mut k = None;
    let mut span = name.span();
    if input.peek(syn::token::Paren) {
        let content;
        let p = parenthesized!(content in input);
        let lit: LitInt = content.parse()?;
        k = Some(lit.base10_parse::<usize>()?);
        span = name.span().join(p.span.close()).unwrap_or(span);
    }
    let text = name.to_string();
    match Reduction::from_name(&text, k) {
        Some(r) => Ok((r, span)),
        None => {
            let msg = match (Reduction::from_name(&text, Some(1)), k) {
                (Some(_), None) => format!("`{text}` needs K: write `{text}(k)`"),
                _ if Reduction::from_name(&text, None).is_some() => format!("`{text}` takes no K"),
                _ => format!(
                    "unknown reduction `{text}`; expected one of {}",
                    Reduction::NAMES.join(", ")
                ),
            };
            Err(syn::Error::new(span, msg))
        }
    }
}

impl Parse for KeopsInput {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let (vis, name, body, item_form) = if input.peek(Token![struct]) || input.peek(Token![pub])
        {
            let vis: Visibility = input.parse()?;
            input.parse::<Token![struct]>()?;
            let name: Ident = input.parse()?;
            let content;
            syn::braced!(content in input);
            let body: TokenStream = content.parse()?;
            (vis, Some(name), body, true)
        } else {
            (Visibility::Inherited, None, input.parse()?, false)
        };
        let span = Span::call_site();
        let parser = move |s: ParseStream<'_>| parse_body(s, item_form);
        let fields = syn::parse::Parser::parse2(parser, body)?;
        let formula = fields
            .formula
            .ok_or_else(|| syn::Error::new(span, "missing `formula`"))?;
        let aliases = fields
            .aliases
            .ok_or_else(|| syn::Error::new(span, "missing `aliases`"))?;
        let axis = fields.axis.ok_or_else(|| {
            syn::Error::new(
                span,
                "missing `axis`: 1 reduces over j (one output row per i), 0 over i",
            )
        })?;
        let mode = match (fields.reduction, fields.solve) {
            (Some(r), None) => Mode::Reduce(r.0),
            (None, Some(v)) => Mode::Solve(v),
            (None, None) => {
                return Err(syn::Error::new(
                    span,
                    "missing `reduction` (or `solve` for a kernel solve)",
                ));
            }
            (Some(r), Some(_)) => {
                return Err(syn::Error::new(
                    r.1,
                    "`reduction` and `solve` exclude each other: a solve is always a `Sum`",
                ));
            }
        };
        if let (Some(f2), Mode::Solve(_)) = (&fields.formula2, &mode) {
            return Err(syn::Error::new(f2.span(), "a solve takes no `formula2`"));
        }
        Ok(KeopsInput {
            attrs,
            vis,
            name,
            formula,
            formula2: fields.formula2,
            aliases,
            mode,
            axis,
            krate: fields.krate.unwrap_or_else(|| syn::parse_quote!(::keops)),
        })
    }
}

#[derive(Default)]
struct Fields {
    formula: Option<LitStr>,
    formula2: Option<LitStr>,
    aliases: Option<Vec<AliasInput>>,
    reduction: Option<(Reduction, Span)>,
    solve: Option<Ident>,
    axis: Option<usize>,
    krate: Option<syn::Path>,
}

fn parse_body(input: ParseStream<'_>, item_form: bool) -> syn::Result<Fields> {
    let mut f = Fields::default();
    let mut seen: Vec<String> = Vec::new();
    while !input.is_empty() {
        let key: Ident = if input.peek(Token![crate]) {
            let k: Token![crate] = input.parse()?;
            Ident::new("crate", k.span)
        } else {
            input.parse()?
        };
        let k = key.to_string();
        if seen.contains(&k) {
            return Err(syn::Error::new(key.span(), format!("duplicate key `{k}`")));
        }
        seen.push(k.clone());
        if item_form {
            input.parse::<Token![:]>()?;
        } else {
            input.parse::<Token![=]>()?;
        }
        match k.as_str() {
            "formula" => f.formula = Some(input.parse()?),
            "formula2" => f.formula2 = Some(input.parse()?),
            "aliases" => {
                let content;
                bracketed!(content in input);
                let list = Punctuated::<AliasInput, Token![,]>::parse_terminated_with(
                    &content,
                    parse_alias,
                )?;
                f.aliases = Some(list.into_iter().collect());
            }
            "reduction" => f.reduction = Some(parse_reduction(input)?),
            "solve" => f.solve = Some(input.parse()?),
            "axis" => {
                let lit: LitInt = input.parse()?;
                let v = lit.base10_parse::<usize>()?;
                if v > 1 {
                    return Err(syn::Error::new(
                        lit.span(),
                        "`axis` must be 0 (reduce over i) or 1 (reduce over j)",
                    ));
                }
                f.axis = Some(v);
            }
            "crate" => f.krate = Some(input.parse()?),
            "grad" => {
                return Err(syn::Error::new(key.span(), "`grad` is not supported yet"));
            }
            _ => {
                return Err(syn::Error::new(
                    key.span(),
                    format!(
                        "unknown key `{k}`; expected `formula`, `formula2`, `aliases`, `reduction`, `solve`, `axis` or `crate`"
                    ),
                ));
            }
        }
        if input.is_empty() {
            break;
        }
        input.parse::<Token![,]>()?;
    }
    Ok(f)
}

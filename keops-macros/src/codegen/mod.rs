//! Checked input → tokens.

mod api;
mod fallback;
mod tile;

use std::collections::HashSet;

use keops_ir::{Kernel, Reduction};
use proc_macro2::TokenStream;

pub use fallback::fallback;

use crate::diagnostics::formula_error;
use crate::input::{KeopsInput, Mode};

/// Checks the input with the front end and generates the type, or the spanned errors.
pub fn expand(input: &KeopsInput) -> Result<TokenStream, syn::Error> {
    // Alias-level errors, spanned on the alias tokens.
    let mut names = HashSet::new();
    let mut indices = HashSet::new();
    for (pos, a) in input.aliases.iter().enumerate() {
        if !names.insert(a.alias.name.clone()) {
            return Err(syn::Error::new(
                a.name_span,
                format!("duplicate alias `{}`", a.alias.name),
            ));
        }
        let index = a.alias.index.unwrap_or(pos);
        if !indices.insert(index) {
            return Err(syn::Error::new(
                a.span,
                format!("two aliases have index {index}"),
            ));
        }
    }
    let reduction = match input.mode {
        Mode::Reduce(r) => r,
        Mode::Solve(_) => Reduction::Sum,
    };
    let formula2 = input.formula2.as_ref().map(|l| l.value());
    let formula = input.formula.value();
    let kernel = Kernel::build(
        &formula,
        formula2.as_deref(),
        &input.ir_aliases(),
        reduction,
        input.axis,
    )
    .map_err(|e| match (&input.formula2, e.source == formula) {
        (Some(f2), false) => formula_error(&e, f2),
        _ => formula_error(&e, &input.formula),
    })?;
    let slot = match &input.mode {
        Mode::Solve(v) => Some(kernel.check_solve(&v.to_string(), &formula).map_err(|e| {
            let mut err = formula_error(&e, &input.formula);
            err.combine(syn::Error::new(v.span(), format!("solved variable `{v}`")));
            err
        })?),
        Mode::Reduce(..) => None,
    };
    let items = api::generate(input, &kernel, slot);
    Ok(if api::is_expression(input) {
        api::wrap_expression(items)
    } else {
        items
    })
}

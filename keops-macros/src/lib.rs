//! The `keops!` procedural macro: a formula string checked by the keops-ir front end at compile time and
//! lowered to a zero-sized type with a straight-line tile body. Use it through the `keops` crate.
//!
//! The macro is thin: [`input`] parses the body with syn, keops-ir checks the formula, [`codegen`]
//! quotes the result; formula errors become `compile_error!`s inside the string literal.

mod codegen;
mod diagnostics;
mod input;
mod spans;

use proc_macro::TokenStream;

/// Defines a kernel type from a formula. See the `keops` crate for the syntax and examples.
#[proc_macro]
pub fn keops(tokens: TokenStream) -> TokenStream {
    let input = match syn::parse::<input::KeopsInput>(tokens) {
        Ok(i) => i,
        Err(e) => return codegen::fallback(e, None).into(),
    };
    match codegen::expand(&input) {
        Ok(ts) => ts.into(),
        Err(e) => codegen::fallback(e, Some(&input)).into(),
    }
}

//! Formula errors → `syn::Error`s at the span inside the literal.

use keops_ir::FormulaError;
use syn::LitStr;

use crate::spans::subspan;

/// Converts a front-end error; the message carries the caret diagram and notes, so it reads the same
/// whether or not the compiler narrows the span.
pub fn formula_error(err: &FormulaError, lit: &LitStr) -> syn::Error {
    let span = if err.source.is_empty() || err.source == lit.value() {
        subspan(lit, err.span.range())
    } else {
        lit.span()
    };
    let mut msg = err.message.clone();
    let diagram = err.caret_diagram();
    if !diagram.is_empty() {
        msg.push('\n');
        msg.push_str(&diagram);
    } else if !err.label.is_empty() {
        msg.push_str(&format!(" ({})", err.label));
    }
    for n in &err.notes {
        msg.push_str("\n    note: ");
        msg.push_str(n);
    }
    syn::Error::new(span, msg)
}

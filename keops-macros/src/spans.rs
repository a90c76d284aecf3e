//! Formula byte ranges → spans inside the string literal.

use proc_macro2::Span;
use syn::LitStr;

/// The span of `range` inside the literal's value, when the compiler can narrow spans (nightly) and the
/// literal has no escapes; otherwise the whole literal (the caret diagram in the message still points).
pub fn subspan(lit: &LitStr, range: std::ops::Range<usize>) -> Span {
    let token = lit.token();
    let text = token.to_string();
    let offset = if let Some(rest) = text.strip_prefix('r') {
        1 + rest.chars().take_while(|&c| c == '#').count() + 1
    } else if text.starts_with('"') && !text.contains('\\') {
        1
    } else {
        return lit.span();
    };
    let (start, end) = (
        range.start + offset,
        range.end.max(range.start + 1) + offset,
    );
    token
        .subspan(start..end.min(text.len()))
        .unwrap_or_else(|| lit.span())
}

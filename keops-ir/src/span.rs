//! Byte ranges inside a formula string.

use std::ops::Range;

/// A byte range `[start, end)` in the formula text, carried by every token, AST node and error.
///
/// ```
/// use keops_ir::Span;
/// let s = Span::new(2, 5).join(Span::new(7, 9));
/// assert_eq!(s.range(), 2..9);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Span {
    /// First byte.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
}

impl Span {
    /// A span from byte offsets.
    pub fn new(start: usize, end: usize) -> Self {
        Span {
            start: start as u32,
            end: end as u32,
        }
    }
    /// The smallest span covering both.
    pub fn join(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
    /// As a `Range<usize>`, to slice the formula.
    pub fn range(self) -> Range<usize> {
        self.start as usize..self.end as usize
    }
}

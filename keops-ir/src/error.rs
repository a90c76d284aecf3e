//! Formula errors: what went wrong, where in the formula, and what the user can do.

use std::fmt;

use crate::Span;

/// The class of a formula error (one trybuild ui case per class).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A character that starts no token, or a malformed number.
    Lex,
    /// A token in the wrong place, unbalanced parentheses, a missing operand.
    Parse,
    /// An operation name that does not exist.
    UnknownOp,
    /// A name that is neither an alias nor an operation.
    UnknownVariable,
    /// Wrong number of arguments to an operation.
    Arity,
    /// A bad integer parameter (out of range, not an integer, ...).
    Parameter,
    /// Incompatible dimensions.
    Dimension,
    /// A malformed, duplicated or inconsistent alias.
    Alias,
    /// A valid KeOps operation this version does not implement yet.
    Unsupported,
    /// The reduction, its parameter or the axis do not fit the formula.
    Reduction,
    /// A solve formula that is not linear in the solved variable.
    NotLinear,
}

/// A formula error with the span it points at.
///
/// `Display` renders the formula with a caret line under the span:
///
/// ```
/// use keops_ir::{Alias, Kernel, Reduction};
/// let aliases = [Alias::parse("x = Vi(3)").unwrap(), Alias::parse("y = Vj(3)").unwrap()];
/// let err = Kernel::build("Exp(-SqDist(x, z))", None, &aliases, Reduction::Sum, 1).unwrap_err();
/// assert_eq!(&"Exp(-SqDist(x, z))"[err.span.range()], "z");
/// assert!(err.to_string().contains("unknown variable `z`"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormulaError {
    /// The class of error.
    pub kind: ErrorKind,
    /// One line, rustc style (lowercase, no trailing period).
    pub message: String,
    /// Where in the formula.
    pub span: Span,
    /// Text printed after the caret (a hint), possibly empty.
    pub label: String,
    /// Further errors in the same formula and extra hints.
    pub notes: Vec<String>,
    /// The formula text the span refers to (empty when the error is not about the formula text).
    pub source: String,
}

impl FormulaError {
    /// A new error of `kind` at `span`.
    pub fn new(kind: ErrorKind, span: Span, message: impl Into<String>) -> Self {
        FormulaError {
            kind,
            message: message.into(),
            span,
            label: String::new(),
            notes: Vec::new(),
            source: String::new(),
        }
    }
    /// Adds the hint printed after the caret.
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }
    /// Adds a note.
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }
    /// Attaches the formula text the span refers to.
    pub fn in_source(mut self, source: &str) -> Self {
        if self.source.is_empty() {
            self.source = source.to_string();
        }
        self
    }
    /// The caret diagram alone: the formula, then `^^^` under the span and the label.
    pub fn caret_diagram(&self) -> String {
        if self.source.is_empty() {
            return String::new();
        }
        let start = (self.span.start as usize).min(self.source.len());
        let end = (self.span.end as usize).clamp(start, self.source.len());
        let pad = self.source[..start].chars().count();
        let width = self.source[start..end].chars().count().max(1);
        let mut s = format!(
            "    {}\n    {}{}",
            self.source,
            " ".repeat(pad),
            "^".repeat(width)
        );
        if !self.label.is_empty() {
            s.push(' ');
            s.push_str(&self.label);
        }
        s
    }
}

impl fmt::Display for FormulaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)?;
        let diagram = self.caret_diagram();
        if !diagram.is_empty() {
            write!(f, "\n{diagram}")?;
        } else if !self.label.is_empty() {
            write!(f, " ({})", self.label)?;
        }
        for n in &self.notes {
            write!(f, "\n    note: {n}")?;
        }
        Ok(())
    }
}

impl std::error::Error for FormulaError {}

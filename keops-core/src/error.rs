//! The one error type of the run time.

use keops_ir::FormulaError;

use crate::solve::SolveReport;

/// Everything that can go wrong in a call, a solve or a formula built at run time.
///
/// Bad input is always reported here, never by a panic. NaN and inf in Genred inputs are not errors (they
/// propagate, as in KeOps); the solvers reject them with [`Error::NonFinite`].
///
/// ```
/// use keops_core::Error;
/// let e = Error::Shape { arg: "x".into(), expected: "3 columns".into(), got: "2 columns".into() };
/// assert_eq!(e.to_string(), "wrong shape for `x`: expected 3 columns, got 2 columns");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The formula (or its aliases, reduction or axis) is invalid; the message shows the formula with a
    /// caret line under the span.
    #[error("{0}")]
    Formula(#[from] FormulaError),
    /// An input has the wrong number of rows or columns, or sizes disagree.
    #[error("wrong shape for `{arg}`: expected {expected}, got {got}")]
    Shape {
        /// The argument (alias name).
        arg: String,
        /// What was expected.
        expected: String,
        /// What was passed.
        got: String,
    },
    /// A solver input holds NaN or infinity.
    #[error("non-finite value in `{arg}` at row {row}")]
    NonFinite {
        /// The argument (alias name, or `alpha`).
        arg: String,
        /// The first offending row.
        row: usize,
    },
    /// An option or parameter is out of its domain.
    #[error("invalid option: {0}")]
    InvalidOption(String),
    /// Block-sparse ranges are malformed or out of bounds.
    #[error("invalid ranges: {0}")]
    Ranges(String),
    /// The GPU back end was asked for but no usable device, driver or NVRTC was found.
    #[error("no GPU available: {0}")]
    NoGpu(String),
    /// NVRTC rejected a generated kernel; the log holds the compiler output and the source.
    #[error("GPU kernel compilation failed:\n{log}")]
    GpuCompile {
        /// Compiler log followed by the generated source.
        log: String,
    },
    /// A CUDA driver call failed.
    #[error("GPU launch failed: {0}")]
    GpuLaunch(String),
    /// A solve stopped without converging (see the report's per-column status).
    #[error("solve did not converge\n{0}")]
    Solve(Box<SolveReport>),
    /// The preconditioner could not be built.
    #[error("preconditioner failed: {0}")]
    Preconditioner(String),
    /// Reading or writing a file failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

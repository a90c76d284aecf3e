//! The command line's failures and their exit codes.

use std::fmt;
use std::process::ExitCode;

/// Why a command failed, which decides the exit code.
#[derive(Debug)]
pub enum Failure {
    /// Exit code 2: a usage, formula, I/O or shape error (the message says which).
    Input(String),
    /// Exit code 1: a numerical failure, such as a solve that did not converge.
    Numerical(String),
}

impl Failure {
    /// The process exit code: 2 for [`Failure::Input`], 1 for [`Failure::Numerical`].
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Failure::Input(_) => ExitCode::from(2),
            Failure::Numerical(_) => ExitCode::from(1),
        }
    }

    /// Adds a line under the message (`note: ...`).
    pub fn with_note(self, note: impl fmt::Display) -> Self {
        match self {
            Failure::Input(m) => Failure::Input(format!("{m}\nnote: {note}")),
            Failure::Numerical(m) => Failure::Numerical(format!("{m}\nnote: {note}")),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Input(m) | Failure::Numerical(m) => f.write_str(m),
        }
    }
}

impl From<keops_core::Error> for Failure {
    /// A solve that did not converge is numerical (exit 1); every other library error is about the input
    /// (exit 2): formula, shape, non-finite solver input, option, GPU availability, I/O.
    fn from(e: keops_core::Error) -> Self {
        match e {
            keops_core::Error::Solve(_) => Failure::Numerical(e.to_string()),
            _ => Failure::Input(e.to_string()),
        }
    }
}

/// Shorthand for an input failure (exit code 2).
pub fn input(msg: impl Into<String>) -> Failure {
    Failure::Input(msg.into())
}

//! What a solve did: per-column status, iterations, residuals, totals.

use std::fmt;
use std::time::Duration;

/// How the iteration for one right-hand-side column ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SolveStatus {
    /// The true residual `‖b − A a‖` met the tolerance.
    Converged,
    /// The iteration cap was reached first.
    MaxIterations,
    /// The recursive residual met the tolerance but the true residual did not, repeatedly: the
    /// precision floor of the scalar type was reached.
    Stagnated,
    /// A dot product or norm became NaN or infinite at this iteration (or the step size
    /// `r'z / p'Ap` had no finite positive value).
    NonFinite {
        /// The iteration (1-based) where it happened; 0: during the set-up before the first step (the
        /// initial residual `b − A x0` or the first preconditioner application).
        iter: usize,
    },
    /// `p'Ap < alpha·|p|²` beyond rounding: the kernel is not positive semi-definite.
    NegativeCurvature {
        /// The iteration (1-based) where it happened.
        iter: usize,
    },
    /// `r'z ≤ 0` with the preconditioner: it is not positive definite.
    IndefinitePreconditioner {
        /// The iteration (1-based) where it happened; 0: at the first application, before any step.
        iter: usize,
    },
    /// The column of `b` is exactly zero; the answer is exactly zero.
    ZeroRhs,
    /// The progress callback asked to stop.
    Stopped,
}

impl fmt::Display for SolveStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SolveStatus::Converged => write!(f, "converged"),
            SolveStatus::MaxIterations => write!(f, "iteration cap reached"),
            SolveStatus::Stagnated => write!(f, "stagnated (precision floor)"),
            SolveStatus::NonFinite { iter } => write!(f, "non-finite value at iteration {iter}"),
            SolveStatus::NegativeCurvature { iter } => {
                write!(
                    f,
                    "negative curvature at iteration {iter} (kernel not positive semi-definite)"
                )
            }
            SolveStatus::IndefinitePreconditioner { iter } => {
                write!(f, "indefinite preconditioner at iteration {iter}")
            }
            SolveStatus::ZeroRhs => write!(f, "zero right-hand side"),
            SolveStatus::Stopped => write!(f, "stopped by callback"),
        }
    }
}

/// The outcome for one right-hand-side column.
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnReport {
    /// How the iteration ended.
    pub status: SolveStatus,
    /// Iterations spent on this column.
    pub iterations: usize,
    /// `‖b_j − A a_j‖ / ‖b_j‖`, recomputed from scratch at the end (0 for a zero column).
    pub true_relres: f64,
    /// The recursively updated residual norm over `‖b_j‖` at the end.
    pub recursive_relres: f64,
}

/// Setup and application cost of a preconditioner.
#[derive(Clone, Debug, PartialEq)]
pub struct PrecondReport {
    /// The rank actually used.
    pub rank: usize,
    /// Time spent building it.
    pub setup: Duration,
    /// Time spent applying it over the whole solve.
    pub apply: Duration,
}

/// What a solve did.
///
/// ```
/// use keops_core::{ColumnReport, SolveReport, SolveStatus};
/// let rep = SolveReport {
///     columns: vec![ColumnReport { status: SolveStatus::Converged, iterations: 12,
///                                  true_relres: 1e-9, recursive_relres: 1e-9 }],
///     matvecs: 13, elapsed: std::time::Duration::from_millis(5), preconditioner: None,
/// };
/// assert!(rep.converged());
/// assert_eq!(rep.iterations(), 12);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct SolveReport {
    /// One entry per column of `b`.
    pub columns: Vec<ColumnReport>,
    /// Operator applications (each serves all active columns).
    pub matvecs: usize,
    /// Wall time of the solve.
    pub elapsed: Duration,
    /// The preconditioner's costs, if one was used.
    pub preconditioner: Option<PrecondReport>,
}

impl SolveReport {
    /// Every column converged (or was an exact zero right-hand side).
    pub fn converged(&self) -> bool {
        self.columns
            .iter()
            .all(|c| matches!(c.status, SolveStatus::Converged | SolveStatus::ZeroRhs))
    }
    /// The largest iteration count over the columns.
    pub fn iterations(&self) -> usize {
        self.columns.iter().map(|c| c.iterations).max().unwrap_or(0)
    }
}

impl fmt::Display for SolveReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "solve: {} column(s), {} matvec(s), {:.3?}",
            self.columns.len(),
            self.matvecs,
            self.elapsed
        )?;
        for (j, c) in self.columns.iter().enumerate() {
            writeln!(
                f,
                "  column {j}: {}, {} iteration(s), true rel. residual {:.3e}, recursive {:.3e}",
                c.status, c.iterations, c.true_relres, c.recursive_relres
            )?;
        }
        if let Some(p) = &self.preconditioner {
            writeln!(
                f,
                "  preconditioner: rank {}, setup {:.3?}, apply {:.3?}",
                p.rank, p.setup, p.apply
            )?;
        }
        Ok(())
    }
}

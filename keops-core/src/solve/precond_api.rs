//! The interface between the conjugate-gradient solver and a preconditioner.

use std::time::Duration;

use ndarray::{ArrayView2, ArrayViewMut2};

use crate::solve::PrecondReport;
use crate::{Error, Real};

/// An approximate inverse of the system matrix: `z ≈ (alpha·Id + K)^-1 r`, applied column by column to an
/// `n × k` block of residuals.
///
/// The solver ([`crate::solve::solve`]) runs preconditioned CG with it: every iteration applies it once to
/// the residuals of the columns still iterating (gathered into one contiguous block, so `k` varies from call
/// to call). It must act as the same symmetric positive definite matrix `M` on every column and at every
/// call; `r'z ≤ 0` for some column ends that column with
/// [`SolveStatus::IndefinitePreconditioner`](crate::solve::SolveStatus::IndefinitePreconditioner).
/// An error returned by `apply` aborts the solve and is passed to the caller.
///
/// A Jacobi (diagonal) preconditioner for a dense matrix:
///
/// ```
/// use keops_core::{Error, Precond, PrecondReport};
/// use ndarray::{Array1, ArrayView2, ArrayViewMut2, Axis, array};
///
/// /// `z_i = r_i / (alpha + K_ii)`.
/// struct Jacobi(Array1<f64>);
/// impl Precond<f64> for Jacobi {
///     fn apply(&self, r: ArrayView2<'_, f64>, mut z: ArrayViewMut2<'_, f64>) -> Result<(), Error> {
///         for ((mut zrow, rrow), d) in z.rows_mut().into_iter().zip(r.rows()).zip(&self.0) {
///             zrow.assign(&(&rrow / *d));
///         }
///         Ok(())
///     }
/// }
/// let k = array![[2.0, 1.0], [1.0, 4.0]];
/// let alpha = 0.5;
/// let jac = Jacobi(k.diag().mapv(|d| d + alpha));
/// let mut z = array![[0.0], [0.0]];
/// jac.apply(array![[5.0], [9.0]].view(), z.view_mut()).unwrap();
/// assert_eq!(z, array![[2.0], [2.0]]);
/// assert_eq!(jac.report().rank, 0);
/// ```
pub trait Precond<T: Real>: Sync {
    /// Writes `z = M r` for an `n × k` block `r` (`z` has the same shape, and its contents on entry are
    /// unspecified).
    fn apply(&self, r: ArrayView2<'_, T>, z: ArrayViewMut2<'_, T>) -> Result<(), Error>;

    /// The rank used and the time spent building the preconditioner.
    ///
    /// The solver replaces the `apply` field with the time it measured around its own calls to
    /// [`Precond::apply`] before storing the result in
    /// [`SolveReport::preconditioner`](crate::solve::SolveReport::preconditioner). The default reports rank
    /// 0 and no setup time.
    ///
    /// ```
    /// use keops_core::{Error, Precond};
    /// use ndarray::{ArrayView2, ArrayViewMut2};
    /// struct Identity;
    /// impl Precond<f32> for Identity {
    ///     fn apply(&self, r: ArrayView2<'_, f32>, mut z: ArrayViewMut2<'_, f32>) -> Result<(), Error> {
    ///         z.assign(&r);
    ///         Ok(())
    ///     }
    /// }
    /// assert_eq!(Identity.report().setup, std::time::Duration::ZERO);
    /// ```
    fn report(&self) -> PrecondReport {
        PrecondReport {
            rank: 0,
            setup: Duration::ZERO,
            apply: Duration::ZERO,
        }
    }
}

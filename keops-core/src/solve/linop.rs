//! The linear operator a kernel solve inverts.

use ndarray::{ArrayView2, ArrayViewMut2};

use crate::{Error, Real};

/// A square linear operator `v ↦ K v` on `n × dv` blocks of right-hand sides, e.g. a Genred sum
/// `(K v)_i = Σ_j k(x_i, x_j) v_j` that is linear in `v`.
///
/// The solvers add `alpha · v` themselves; `apply` computes `K v` only.
///
/// ```
/// use keops_core::{Error, LinOp};
/// use ndarray::{ArrayView2, ArrayViewMut2, array};
/// /// `K = 2 Id`.
/// struct Twice(usize);
/// impl LinOp<f64> for Twice {
///     fn nrows(&self) -> usize { self.0 }
///     fn apply(&self, v: ArrayView2<'_, f64>, mut out: ArrayViewMut2<'_, f64>) -> Result<(), Error> {
///         out.assign(&(&v * 2.0));
///         Ok(())
///     }
/// }
/// let mut out = array![[0.0], [0.0]];
/// Twice(2).apply(array![[1.0], [3.0]].view(), out.view_mut()).unwrap();
/// assert_eq!(out, array![[2.0], [6.0]]);
/// ```
pub trait LinOp<T: Real>: Sync {
    /// The size `n` of the system (rows of `v` and of `K v`).
    fn nrows(&self) -> usize;
    /// Writes `K v` into `out` (same shape as `v`: `n × dv`).
    fn apply(&self, v: ArrayView2<'_, T>, out: ArrayViewMut2<'_, T>) -> Result<(), Error>;

    /// `Some(w)` if `apply` only accepts `n × w` blocks (a formula of fixed dimension): the solver then
    /// passes every column in its own place, zeros for columns it does not need. `None` (the default):
    /// any subset of columns, gathered.
    fn block_width(&self) -> Option<usize> {
        None
    }
}

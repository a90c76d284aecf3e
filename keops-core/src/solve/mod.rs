//! Kernel solves: `(alpha·Id + K) a = b` for a symmetric positive semi-definite kernel matrix `K` given as
//! a [`LinOp`] (typically a Genred sum `(K v)_i = Σ_j k(x_i, x_j) v_j`).
//!
//! Two entry points:
//!
//! - [`solve_seed`]: pykeops' `KernelSolve` conjugate gradient (x0 = 0, one step size for the whole block,
//!   stop when the RMS of the recursive residual is below `eps`), with an iteration cap and failure checks
//!   added. The generated `call(…, alpha, eps)` of a `solve:` type runs it.
//! - [`solve`]: the safe solver behind `solver()`. Every column of `b` runs its own (preconditioned) CG to a
//!   relative tolerance `‖b_j − A a_j‖ ≤ max(rtol·‖b_j‖, atol)`, convergence is confirmed on the true
//!   residual, and a [`SolveReport`] says how each column ended. Configured by [`SolverConfig`].
//!
//! # Numerical rules
//!
//! Shared by both:
//!
//! - **Arithmetic.** Vectors are stored in `T`; every inner product and norm accumulates in `f64`, and the
//!   updates `x += s·p`, `r -= s·(K p + alpha·p)`, `p = z + beta·p` are evaluated in `f64` and rounded once
//!   to `T`. `alpha` stays an `f64` throughout. [`LinOp::apply`] and [`Precond::apply`] always receive a
//!   standard-layout (row-major, contiguous) `n × k` block and a zero-filled output of the same shape.
//! - **Scaling.** The right-hand side is multiplied by a power of two `2^-e` (per column in [`solve`], one
//!   for the whole block in [`solve_seed`]) so that its largest entry lies in `[1, 2)`; the solution is
//!   multiplied back by `2^e`. Scaling by a power of two is exact, so `b` with entries of order `1e-300` or
//!   `1e300` (in `f64`) runs exactly the same iterations as `b` of order 1, and nothing underflows or
//!   overflows in the norms. Tolerances that are absolute (`atol`, the seed's `eps`) are scaled the same way.
//! - **Curvature test.** `K` is positive semi-definite, so `p'(alpha·Id + K)p ≥ alpha·|p|²`, i.e.
//!   `p'Kp ≥ 0`. A step is rejected as negative curvature when
//!   `p'Kp < −1e3 · eps_T · ‖K‖_est · |p|²`, where `eps_T` is the machine epsilon of `T` and `‖K‖_est` is the
//!   largest `‖K q‖ / ‖q‖` over all directions `q` applied so far, this iteration's included (a lower bound
//!   of `‖K‖₂` that is usually close after a couple of iterations). The slack covers the rounding of the
//!   matvec itself (of order `eps_T·‖K‖·|p|²`), which a slack relative to `|p'Kp|` alone would not: in a
//!   near-null direction of an ill-conditioned `K` the computed `p'Kp` is pure rounding noise. Since
//!   `‖K p‖·|p| ≥ |p'Kp|`, the rule is never stricter than `p'Kp < −1e3·eps_T·|p'Kp|`. A step with
//!   `p'(alpha·Id + K)p ≤ 0` that passes the test (only possible with `alpha = 0` and `K p ≈ 0`) has no
//!   finite step size and is reported as non-finite.
//! - **Iteration numbers** in statuses are 1-based; 0 means the set-up before the first step (the initial
//!   residual `b − A x0` or the first preconditioner application).
//!
//! [`solve`] only: a column whose recursive residual meets its tolerance is **confirmed** by recomputing
//! `b_j − A a_j` (one batched matvec for all candidates of an iteration). If the true residual misses the
//! tolerance, it replaces the recursive one and the column restarts (`p = M r`). Each failed confirmation
//! counts as a stall unless its true residual is below half the smallest true residual of the earlier
//! failed confirmations (then the count restarts at 1); at 3 stalls the column ends as
//! [`SolveStatus::Stagnated`]. So `Converged` is only ever reported with a freshly computed residual.
//!
//! # Example
//!
//! ```
//! use keops_core::{Error, LinOp, SolverConfig, solve, solve_seed};
//! use ndarray::{Array2, ArrayView2, ArrayViewMut2, array};
//!
//! /// A dense kernel matrix as the operator.
//! struct Dense(Array2<f64>);
//! impl LinOp<f64> for Dense {
//!     fn nrows(&self) -> usize { self.0.nrows() }
//!     fn apply(&self, v: ArrayView2<'_, f64>, mut out: ArrayViewMut2<'_, f64>) -> Result<(), Error> {
//!         out.assign(&self.0.dot(&v));
//!         Ok(())
//!     }
//! }
//! let k = Dense(array![[1.0, 0.6, 0.1], [0.6, 1.0, 0.6], [0.1, 0.6, 1.0]]);
//! let b = array![[1.0], [0.0], [-1.0]];
//! let seed = solve_seed(&k, b.view(), 0.1, 1e-8, "b").unwrap();
//! let sol = solve(&k, b.view(), &mut SolverConfig::new().alpha(0.1).rtol(1e-8), "b").unwrap();
//! assert!(sol.report.converged());
//! assert!((&seed - &sol.a).iter().all(|d| d.abs() < 1e-6));
//! ```

mod builder;
mod cg;
mod linop;
mod precond_api;
mod report;

pub use builder::{
    DEFAULT_ALPHA, DEFAULT_RTOL, Progress, ProgressCallback, Solution, SolverConfig,
    default_max_iter,
};
pub use cg::{solve, solve_seed};
pub use linop::LinOp;
pub use precond_api::Precond;
pub use report::{ColumnReport, PrecondReport, SolveReport, SolveStatus};

//! The configuration of the safe solver ([`crate::solve::solve`]): a by-value builder, the progress record
//! handed to the callback, and the solution type.

use std::fmt;
use std::ops::ControlFlow;
use std::time::Duration;

use ndarray::{Array2, ArrayView2};

use crate::solve::{LinOp, Precond, SolveReport};
use crate::{Error, Real};

/// The ridge used when [`SolverConfig::alpha`] is not called: `1e-10`, pykeops' default for
/// `KernelSolve.__call__(alpha=...)`.
pub const DEFAULT_ALPHA: f64 = 1e-10;

/// The relative tolerance used when neither [`SolverConfig::rtol`] nor [`SolverConfig::atol`] is called.
pub const DEFAULT_RTOL: f64 = 1e-6;

/// The default iteration cap for a system of `n` rows: `min(10·n, 10 000)`, and at least 1.
///
/// Used by [`crate::solve::solve_seed`] and by [`crate::solve::solve`] when
/// [`SolverConfig::max_iter`] is not called.
///
/// ```
/// use keops_core::default_max_iter;
/// assert_eq!(default_max_iter(0), 1);
/// assert_eq!(default_max_iter(50), 500);
/// assert_eq!(default_max_iter(1_000_000), 10_000);
/// ```
pub fn default_max_iter(n: usize) -> usize {
    n.saturating_mul(10).clamp(1, 10_000)
}

/// What the progress callback sees after each iteration of [`crate::solve::solve`].
///
/// ```
/// use keops_core::{LinOp, Error, Progress, SolverConfig, solve};
/// use ndarray::{ArrayView2, ArrayViewMut2, array};
/// use std::ops::ControlFlow;
/// # struct Diag(Vec<f64>);
/// # impl LinOp<f64> for Diag {
/// #     fn nrows(&self) -> usize { self.0.len() }
/// #     fn apply(&self, v: ArrayView2<'_, f64>, mut out: ArrayViewMut2<'_, f64>) -> Result<(), Error> {
/// #         for (i, d) in self.0.iter().enumerate() { for c in 0..v.ncols() { out[[i, c]] = d * v[[i, c]]; } }
/// #         Ok(())
/// #     }
/// # }
/// let op = Diag(vec![1.0, 2.0, 3.0]);
/// let mut seen = Vec::new();
/// let mut cfg = SolverConfig::new().alpha(1.0).callback(|p: &Progress| {
///     seen.push((p.iteration, p.active_columns));
///     ControlFlow::Continue(())
/// });
/// let sol = solve(&op, array![[1.0], [1.0], [1.0]].view(), &mut cfg, "b").unwrap();
/// drop(cfg);
/// assert!(sol.report.converged());
/// assert_eq!(seen.last().unwrap().1, 0); // no column left after the last iteration
/// assert_eq!(seen[0].0, 1);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Progress {
    /// The iteration just finished (1-based).
    pub iteration: usize,
    /// Operator applications so far (confirmations of convergence included).
    pub matvecs: usize,
    /// Columns still iterating after this iteration.
    pub active_columns: usize,
    /// The largest recursive relative residual `‖r_j‖ / ‖b_j‖` over the columns still iterating (0 when
    /// none is left).
    pub max_relres: f64,
    /// Wall time since the solve started.
    pub elapsed: Duration,
}

/// The result of [`crate::solve::solve`]: the solution and what the solve did.
///
/// ```
/// use keops_core::{Solution, SolveReport};
/// use ndarray::Array2;
/// let sol = Solution::<f64> {
///     a: Array2::zeros((2, 1)),
///     report: SolveReport { columns: vec![], matvecs: 0, elapsed: Default::default(), preconditioner: None },
/// };
/// assert_eq!(sol.a.dim(), (2, 1));
/// ```
#[derive(Clone, Debug)]
pub struct Solution<T> {
    /// The solution `a` of `(alpha·Id + K) a = b`, the shape of `b`.
    pub a: Array2<T>,
    /// Per-column status, iterations and residuals, matvec count, time.
    pub report: SolveReport,
}

/// The progress callback type: called once per iteration, [`ControlFlow::Break`] stops the solve.
pub type ProgressCallback<'o> = Box<dyn FnMut(&Progress) -> ControlFlow<()> + 'o>;

/// Options of the safe conjugate-gradient solver [`crate::solve::solve`], as a by-value builder.
///
/// The system is `(alpha·Id + K) a = b`, column by column; column `j` stops when the true residual meets
/// `‖b_j − A a_j‖ ≤ max(rtol·‖b_j‖, atol)` (2-norms, `A = alpha·Id + K`).
///
/// | option | default |
/// |---|---|
/// | `alpha` | [`DEFAULT_ALPHA`] = 1e-10 (pykeops' default) |
/// | `rtol`, `atol` | `rtol` = [`DEFAULT_RTOL`] = 1e-6 and `atol` = 0 when neither is set; when only one is set, the other is 0 |
/// | `max_iter` | [`default_max_iter`]`(n)` = `min(10·n, 10 000)`, at least 1 |
/// | `x0` | zero |
/// | `callback` | none |
/// | `strict` | off: a column that did not converge is reported in the [`SolveReport`], not as an error |
/// | preconditioner | none (plain CG) |
///
/// Values are checked by [`crate::solve::solve`], before the first operator application, not by the
/// setters: `alpha` must be finite and ≥ 0; `rtol` and `atol` finite and ≥ 0, not both 0; `x0` the shape of
/// `b` and finite. `max_iter(0)` is allowed: the result is `x0` (or zero), each column `Converged` if its
/// initial residual already meets the tolerance, `MaxIterations` otherwise.
///
/// ```
/// use keops_core::{Error, LinOp, SolveStatus, SolverConfig};
/// use ndarray::{Array2, ArrayView2, ArrayViewMut2, array};
///
/// /// A dense symmetric positive semi-definite `K`.
/// struct Dense(Array2<f64>);
/// impl LinOp<f64> for Dense {
///     fn nrows(&self) -> usize { self.0.nrows() }
///     fn apply(&self, v: ArrayView2<'_, f64>, mut out: ArrayViewMut2<'_, f64>) -> Result<(), Error> {
///         out.assign(&self.0.dot(&v));
///         Ok(())
///     }
/// }
/// let k = Dense(array![[2.0, 1.0, 0.0], [1.0, 2.0, 1.0], [0.0, 1.0, 2.0]]);
/// let b = array![[1.0, 0.0], [2.0, 0.0], [3.0, 0.0]];
/// let sol = SolverConfig::new().alpha(0.5).rtol(1e-10).max_iter(50).solve(&k, b.view()).unwrap();
/// // (0.5 Id + K) a = b, the second column of b is zero
/// let res = &b - &(&k.0.dot(&sol.a) + &(0.5 * &sol.a));
/// assert!(res.column(0).iter().all(|r| r.abs() < 1e-9));
/// assert_eq!(sol.report.columns[0].status, SolveStatus::Converged);
/// assert_eq!(sol.report.columns[1].status, SolveStatus::ZeroRhs);
/// assert_eq!(sol.a.column(1).to_vec(), vec![0.0; 3]);
/// ```
pub struct SolverConfig<'o, T: Real> {
    alpha: f64,
    rtol: Option<f64>,
    atol: Option<f64>,
    max_iter: Option<usize>,
    x0: Option<ArrayView2<'o, T>>,
    callback: Option<ProgressCallback<'o>>,
    strict: bool,
    precond: Option<Box<dyn Precond<T> + 'o>>,
}

impl<T: Real> Default for SolverConfig<'_, T> {
    fn default() -> Self {
        Self {
            alpha: DEFAULT_ALPHA,
            rtol: None,
            atol: None,
            max_iter: None,
            x0: None,
            callback: None,
            strict: false,
            precond: None,
        }
    }
}

impl<T: Real> fmt::Debug for SolverConfig<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SolverConfig")
            .field("alpha", &self.alpha)
            .field("rtol", &self.rtol)
            .field("atol", &self.atol)
            .field("max_iter", &self.max_iter)
            .field("x0", &self.x0.as_ref().map(|x| x.dim()))
            .field("callback", &self.callback.is_some())
            .field("strict", &self.strict)
            .field("preconditioner", &self.precond.is_some())
            .finish()
    }
}

impl<'o, T: Real> SolverConfig<'o, T> {
    /// The defaults (see the table on [`SolverConfig`]); the same as `SolverConfig::default()`.
    ///
    /// ```
    /// use keops_core::SolverConfig;
    /// let cfg = SolverConfig::<f64>::new();
    /// assert_eq!(cfg.alpha_value(), 1e-10);
    /// assert_eq!(cfg.tolerances(), (1e-6, 0.0));
    /// assert_eq!(cfg.max_iter_value(), None);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// The ridge `alpha ≥ 0` of `A = alpha·Id + K`.
    ///
    /// ```
    /// use keops_core::SolverConfig;
    /// assert_eq!(SolverConfig::<f32>::new().alpha(0.1).alpha_value(), 0.1);
    /// ```
    pub fn alpha(mut self, alpha: f64) -> Self {
        self.alpha = alpha;
        self
    }

    /// The relative tolerance: column `j` converges when `‖b_j − A a_j‖ ≤ max(rtol·‖b_j‖, atol)`.
    ///
    /// ```
    /// use keops_core::SolverConfig;
    /// assert_eq!(SolverConfig::<f64>::new().rtol(1e-8).tolerances(), (1e-8, 0.0));
    /// ```
    pub fn rtol(mut self, rtol: f64) -> Self {
        self.rtol = Some(rtol);
        self
    }

    /// The absolute tolerance on `‖b_j − A a_j‖` (see [`SolverConfig::rtol`]).
    ///
    /// ```
    /// use keops_core::SolverConfig;
    /// assert_eq!(SolverConfig::<f64>::new().atol(1e-3).tolerances(), (0.0, 1e-3));
    /// assert_eq!(SolverConfig::<f64>::new().atol(1e-3).rtol(1e-5).tolerances(), (1e-5, 1e-3));
    /// ```
    pub fn atol(mut self, atol: f64) -> Self {
        self.atol = Some(atol);
        self
    }

    /// The iteration cap (per column; one iteration applies the operator once for all active columns).
    ///
    /// ```
    /// use keops_core::SolverConfig;
    /// assert_eq!(SolverConfig::<f64>::new().max_iter(500).max_iter_value(), Some(500));
    /// ```
    pub fn max_iter(mut self, max_iter: usize) -> Self {
        self.max_iter = Some(max_iter);
        self
    }

    /// A starting point (warm start), the shape of `b`; the default is zero.
    ///
    /// ```
    /// use keops_core::SolverConfig;
    /// use ndarray::array;
    /// let x0 = array![[1.0], [2.0]];
    /// let cfg = SolverConfig::new().x0(x0.view());
    /// assert_eq!(cfg.x0_value().unwrap().dim(), (2, 1));
    /// ```
    pub fn x0(mut self, x0: ArrayView2<'o, T>) -> Self {
        self.x0 = Some(x0);
        self
    }

    /// A progress callback, called once after every iteration; returning [`ControlFlow::Break`] ends every
    /// column still iterating with [`SolveStatus::Stopped`](crate::solve::SolveStatus::Stopped).
    ///
    /// ```
    /// use keops_core::{Progress, SolverConfig};
    /// use std::ops::ControlFlow;
    /// let cfg = SolverConfig::<f64>::new().callback(|p: &Progress| {
    ///     if p.iteration >= 100 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    /// });
    /// assert!(cfg.has_callback());
    /// ```
    pub fn callback(mut self, f: impl FnMut(&Progress) -> ControlFlow<()> + 'o) -> Self {
        self.callback = Some(Box::new(f));
        self
    }

    /// Strict mode: a column that ends other than `Converged` or `ZeroRhs` makes the solve return
    /// `Err(Error::Solve(report))` instead of `Ok(Solution)`.
    ///
    /// ```
    /// use keops_core::SolverConfig;
    /// assert!(SolverConfig::<f64>::new().strict().is_strict());
    /// ```
    pub fn strict(mut self) -> Self {
        self.strict = true;
        self
    }

    /// Preconditioned CG with `precond` as `M ≈ (alpha·Id + K)^-1` (built for the same `alpha`).
    ///
    /// ```
    /// use keops_core::{Error, Precond, SolverConfig};
    /// use ndarray::{ArrayView2, ArrayViewMut2};
    /// struct Scale(f64);
    /// impl Precond<f64> for Scale {
    ///     fn apply(&self, r: ArrayView2<'_, f64>, mut z: ArrayViewMut2<'_, f64>) -> Result<(), Error> {
    ///         z.assign(&(&r * self.0));
    ///         Ok(())
    ///     }
    /// }
    /// let cfg = SolverConfig::new().preconditioner_op(Box::new(Scale(0.5)));
    /// assert!(cfg.preconditioner_ref().is_some());
    /// ```
    pub fn preconditioner_op(mut self, precond: Box<dyn Precond<T> + 'o>) -> Self {
        self.precond = Some(precond);
        self
    }

    /// The ridge `alpha` as set (not yet validated).
    ///
    /// ```
    /// use keops_core::SolverConfig;
    /// assert_eq!(SolverConfig::<f64>::new().alpha(2.0).alpha_value(), 2.0);
    /// ```
    pub fn alpha_value(&self) -> f64 {
        self.alpha
    }

    /// The tolerances `(rtol, atol)` the solve will use: `(1e-6, 0)` when neither was set, 0 for the one
    /// not set otherwise (not yet validated).
    ///
    /// ```
    /// use keops_core::SolverConfig;
    /// assert_eq!(SolverConfig::<f64>::new().tolerances(), (1e-6, 0.0));
    /// ```
    pub fn tolerances(&self) -> (f64, f64) {
        match (self.rtol, self.atol) {
            (None, None) => (DEFAULT_RTOL, 0.0),
            (r, a) => (r.unwrap_or(0.0), a.unwrap_or(0.0)),
        }
    }

    /// The iteration cap as set; `None` means [`default_max_iter`] of the system size.
    ///
    /// ```
    /// use keops_core::SolverConfig;
    /// assert_eq!(SolverConfig::<f64>::new().max_iter_value(), None);
    /// ```
    pub fn max_iter_value(&self) -> Option<usize> {
        self.max_iter
    }

    /// The warm start, if any.
    ///
    /// ```
    /// use keops_core::SolverConfig;
    /// assert!(SolverConfig::<f64>::new().x0_value().is_none());
    /// ```
    pub fn x0_value(&self) -> Option<ArrayView2<'o, T>> {
        self.x0
    }

    /// Whether a progress callback is set.
    ///
    /// ```
    /// use keops_core::SolverConfig;
    /// assert!(!SolverConfig::<f64>::new().has_callback());
    /// ```
    pub fn has_callback(&self) -> bool {
        self.callback.is_some()
    }

    /// Whether strict mode is on.
    ///
    /// ```
    /// use keops_core::SolverConfig;
    /// assert!(!SolverConfig::<f64>::new().is_strict());
    /// ```
    pub fn is_strict(&self) -> bool {
        self.strict
    }

    /// The preconditioner, if any.
    ///
    /// ```
    /// use keops_core::SolverConfig;
    /// assert!(SolverConfig::<f64>::new().preconditioner_ref().is_none());
    /// ```
    pub fn preconditioner_ref(&self) -> Option<&(dyn Precond<T> + 'o)> {
        self.precond.as_deref()
    }

    /// Runs [`crate::solve::solve`] with this configuration, naming the right-hand side `b` in errors.
    ///
    /// ```
    /// use keops_core::{Error, LinOp, SolverConfig};
    /// use ndarray::{ArrayView2, ArrayViewMut2, array};
    /// struct Zero(usize);
    /// impl LinOp<f64> for Zero {
    ///     fn nrows(&self) -> usize { self.0 }
    ///     fn apply(&self, _: ArrayView2<'_, f64>, mut out: ArrayViewMut2<'_, f64>) -> Result<(), Error> {
    ///         out.fill(0.0);
    ///         Ok(())
    ///     }
    /// }
    /// // K = 0: (2 Id) a = b
    /// let sol = SolverConfig::new().alpha(2.0).solve(&Zero(2), array![[2.0], [4.0]].view()).unwrap();
    /// assert!((sol.a[[1, 0]] - 2.0).abs() < 1e-12);
    /// ```
    pub fn solve(&mut self, op: &dyn LinOp<T>, b: ArrayView2<'_, T>) -> Result<Solution<T>, Error> {
        crate::solve::solve(op, b, self, "b")
    }

    /// The preconditioner and the callback at once, for the solver.
    #[allow(clippy::type_complexity)]
    pub(crate) fn precond_and_callback(
        &mut self,
    ) -> (
        Option<&(dyn Precond<T> + 'o)>,
        Option<&mut ProgressCallback<'o>>,
    ) {
        (self.precond.as_deref(), self.callback.as_mut())
    }
}

//! Conjugate gradients for `(alpha·Id + K) a = b` with a symmetric positive semi-definite `K` given as a
//! [`LinOp`]: the seed's block CG ([`solve_seed`]) and the safe per-column, optionally preconditioned CG
//! ([`solve`]).
//!
//! The numerical rules are documented on the [`mod@crate::solve`] module.

use std::time::{Duration, Instant};

use ndarray::{Array2, ArrayView1, ArrayView2, Zip};

use crate::solve::{
    ColumnReport, LinOp, Precond, Progress, Solution, SolveReport, SolveStatus, SolverConfig,
    default_max_iter,
};
use crate::{Error, Real};

/// The curvature test's slack factor, in units of `eps_T·‖K‖_est·|p|²` (see the [`mod@crate::solve`] docs).
pub(crate) const CURVATURE_SLACK: f64 = 1e3;

/// Failed confirmations without progress after which a column ends as [`SolveStatus::Stagnated`].
pub(crate) const MAX_STALLS: usize = 3;

/// A failed confirmation counts as progress (and restarts the stall count) when its true residual is below
/// this fraction of the best true residual of the earlier failed confirmations.
pub(crate) const STALL_PROGRESS: f64 = 0.5;

/// Solves `(alpha·Id + K) a = b` with pykeops' `KernelSolve` conjugate gradient (keops-semantics.md §8.2),
/// plus an iteration cap and failure checks.
///
/// The algorithm is the seed's: `x0 = 0`, one conjugate-gradient run for the whole block `b` (one step size
/// and one `beta` shared by all entries, inner products over all `numel(b)` entries), stopping when the
/// recursively updated residual satisfies `‖r‖_F² < numel(b)·eps²` (its RMS is below `eps`). If `b` already
/// satisfies that test, the result is all zeros, as in pykeops. Where pykeops would loop forever, this
/// returns: an empty `b` gives zeros, and an exactly zero residual stops the loop with the current iterate.
///
/// Unlike pykeops, the loop is capped at [`default_max_iter`]`(n)` = `min(10·n, 10 000)` iterations, and a
/// non-finite inner product, a step with negative curvature (see the [`mod@crate::solve`] docs for the
/// rounding slack), or the cap return `Err(Error::Solve(report))`: the same status on every column, the
/// report's `iterations` the iteration where it stopped, its residuals recomputed (one more matvec).
///
/// Errors before any matvec: `b` not `n` rows → [`Error::Shape`] naming `b_name`; NaN or infinity in `b`
/// → [`Error::NonFinite`] with the first offending row; `alpha` negative or not finite, `eps ≤ 0` or not
/// finite → [`Error::InvalidOption`]. An error of `op.apply` is returned as is.
///
/// ```
/// use keops_core::{Error, LinOp, solve_seed};
/// use ndarray::{Array2, ArrayView2, ArrayViewMut2, array};
///
/// struct Dense(Array2<f64>);
/// impl LinOp<f64> for Dense {
///     fn nrows(&self) -> usize { self.0.nrows() }
///     fn apply(&self, v: ArrayView2<'_, f64>, mut out: ArrayViewMut2<'_, f64>) -> Result<(), Error> {
///         out.assign(&self.0.dot(&v));
///         Ok(())
///     }
/// }
/// let k = Dense(array![[1.0, 0.5], [0.5, 1.0]]);
/// let b = array![[1.0], [2.0]];
/// let a = solve_seed(&k, b.view(), 0.1, 1e-10, "b").unwrap();
/// let res = &b - &(&k.0.dot(&a) + &(0.1 * &a));
/// assert!(res.iter().all(|r| r.abs() < 1e-9));
/// // RMS(b) below eps: zeros, as in pykeops
/// assert_eq!(solve_seed(&k, (1e-3 * &b).view(), 0.1, 1e-2, "b").unwrap(), Array2::<f64>::zeros((2, 1)));
/// ```
pub fn solve_seed<T: Real>(
    op: &dyn LinOp<T>,
    b: ArrayView2<'_, T>,
    alpha: T,
    eps: T,
    b_name: &str,
) -> Result<Array2<T>, Error> {
    let start = Instant::now();
    let n = op.nrows();
    check_b_rows(n, &b, b_name)?;
    let alpha = alpha.to_f64();
    check_alpha(alpha)?;
    let eps = eps.to_f64();
    if !(eps.is_finite() && eps > 0.0) {
        return Err(Error::InvalidOption(format!(
            "`eps` must be finite and > 0, got {eps}"
        )));
    }
    if let Some(row) = first_nonfinite_row(&b) {
        return Err(Error::NonFinite {
            arg: b_name.to_string(),
            row,
        });
    }
    let (n, m) = b.dim();
    let numel = n * m;
    let maxabs = max_abs(b.iter());
    if numel == 0 || maxabs == 0.0 {
        return Ok(Array2::zeros((n, m)));
    }
    let e = exponent(maxabs);
    let bs = Array2::from_shape_fn((n, m), |(i, j)| T::from_f64(ldexp(b[[i, j]].to_f64(), -e)));
    let eps_s = ldexp(eps, -e);
    let delta = numel as f64 * eps_s * eps_s;
    let eps_t = T::EPSILON.to_f64();

    let mut x = Array2::<T>::zeros((n, m));
    let mut r = bs.clone();
    let mut p = r.clone();
    let mut q = Array2::<T>::zeros((n, m));
    let mut nr2 = dot(r.iter(), r.iter());
    if nr2 < delta {
        return Ok(Array2::zeros((n, m)));
    }
    let cap = default_max_iter(n);
    let mut sigma = 0.0f64;
    let mut matvecs = 0usize;

    let mut stopped = (SolveStatus::MaxIterations, cap);
    for k in 1..=cap {
        q.fill(T::zero());
        op.apply(p.view(), q.view_mut())?;
        matvecs += 1;
        let pp = dot(p.iter(), p.iter());
        let pkp = dot(p.iter(), q.iter());
        let kq2 = dot(q.iter(), q.iter());
        if !(pp.is_finite() && pkp.is_finite() && kq2.is_finite()) {
            stopped = (SolveStatus::NonFinite { iter: k }, k);
            break;
        }
        if pp > 0.0 {
            sigma = sigma.max((kq2 / pp).sqrt());
        }
        if pkp < -CURVATURE_SLACK * eps_t * sigma * pp {
            stopped = (SolveStatus::NegativeCurvature { iter: k }, k);
            break;
        }
        let pap = pkp + alpha * pp;
        let step = nr2 / pap;
        if !(pap > 0.0 && step.is_finite()) {
            stopped = (SolveStatus::NonFinite { iter: k }, k);
            break;
        }
        Zip::from(&mut x)
            .and(&mut r)
            .and(&p)
            .and(&q)
            .for_each(|x, r, &p, &q| {
                let p = p.to_f64();
                *x = T::from_f64(x.to_f64() + step * p);
                *r = T::from_f64(r.to_f64() - step * (q.to_f64() + alpha * p));
            });
        let nr2new = dot(r.iter(), r.iter());
        if !nr2new.is_finite() {
            stopped = (SolveStatus::NonFinite { iter: k }, k);
            break;
        }
        // `nr2new == 0`: the exact solution (pykeops would divide 0 by 0 here when `delta` is 0).
        if nr2new < delta || nr2new == 0.0 {
            return Ok(x.mapv(|v| T::from_f64(ldexp(v.to_f64(), e))));
        }
        let beta = nr2new / nr2;
        Zip::from(&mut p)
            .and(&r)
            .for_each(|p, &r| *p = T::from_f64(r.to_f64() + beta * p.to_f64()));
        nr2 = nr2new;
    }

    // Failure: recompute the true residual per column for the report.
    let (status, iterations) = stopped;
    let mut kx = Array2::<T>::zeros((n, m));
    op.apply(x.view(), kx.view_mut())?;
    matvecs += 1;
    let columns = (0..m)
        .map(|j| {
            let bn = norm(bs.column(j).iter());
            let tn = true_residual_norm(bs.column(j), x.column(j), kx.column(j), alpha);
            ColumnReport {
                status,
                iterations,
                true_relres: ratio(tn, bn),
                recursive_relres: ratio(norm(r.column(j).iter()), bn),
            }
        })
        .collect();
    Err(Error::Solve(Box::new(SolveReport {
        columns,
        matvecs,
        elapsed: start.elapsed(),
        preconditioner: None,
    })))
}

/// Solves `(alpha·Id + K) a = b` column by column with (preconditioned) conjugate gradients and reports how
/// every column ended.
///
/// Each column `j` of `b` runs its own CG (own step sizes, own `beta`) until
/// `‖b_j − A a_j‖ ≤ max(rtol·‖b_j‖, atol)` (2-norms, `A = alpha·Id + K`), checked on a freshly recomputed
/// residual before the column is declared [`SolveStatus::Converged`]; finished columns are frozen. Each
/// iteration applies `op` once to the block of columns still iterating, and once more to the candidates for
/// convergence, if any. The options (`alpha`, tolerances, cap, warm start, callback, preconditioner, strict
/// mode) come from `cfg`, see [`SolverConfig`]; the numerical rules (scaling, curvature test, confirmation
/// and stagnation) are in the [`mod@crate::solve`] docs.
///
/// How a column ends ([`SolveStatus`]): `Converged`; `ZeroRhs` (a zero column of `b`: the answer is exactly
/// 0, no iterations, whatever `x0`); `MaxIterations`; `Stagnated` (confirmation failed repeatedly: the
/// precision floor of `T`); `NonFinite { iter }`; `NegativeCurvature { iter }`;
/// `IndefinitePreconditioner { iter }` (`r'z ≤ 0`); `Stopped` (the callback returned
/// [`ControlFlow::Break`](std::ops::ControlFlow::Break)). Every column's `true_relres` is recomputed at the
/// end (one more batched matvec for the columns whose last iterate was not checked already);
/// `report.matvecs` counts every application of `op`.
///
/// Errors before the first matvec: `b` not `n` rows → [`Error::Shape`] naming `b_name`; `x0` not the shape
/// of `b` → [`Error::Shape`] naming `x0`; `alpha` negative or not finite, `rtol`/`atol` negative or not
/// finite, or both 0 → [`Error::InvalidOption`]; NaN or infinity in `b` (or `x0`) → [`Error::NonFinite`]
/// with the first offending row. Errors of `op.apply` or of the preconditioner are returned as is. With
/// [`SolverConfig::strict`], a column ending other than `Converged` or `ZeroRhs` turns the result into
/// `Err(Error::Solve(report))`; otherwise the solution is returned and the report tells the truth.
///
/// ```
/// use keops_core::{Error, LinOp, SolveStatus, SolverConfig, solve};
/// use ndarray::{Array2, ArrayView2, ArrayViewMut2, array};
///
/// struct Dense(Array2<f64>);
/// impl LinOp<f64> for Dense {
///     fn nrows(&self) -> usize { self.0.nrows() }
///     fn apply(&self, v: ArrayView2<'_, f64>, mut out: ArrayViewMut2<'_, f64>) -> Result<(), Error> {
///         out.assign(&self.0.dot(&v));
///         Ok(())
///     }
/// }
/// let k = Dense(array![[1.0, 0.5, 0.2], [0.5, 1.0, 0.5], [0.2, 0.5, 1.0]]);
/// // two right-hand sides of very different scales: each meets its own relative tolerance
/// let b = array![[1.0, 1e-20], [2.0, -3e-20], [3.0, 2e-20]];
/// let mut cfg = SolverConfig::new().alpha(0.1).rtol(1e-10);
/// let sol = solve(&k, b.view(), &mut cfg, "b").unwrap();
/// assert!(sol.report.converged());
/// for j in 0..2 {
///     let bj = b.column(j);
///     let res = &bj - &(&k.0.dot(&sol.a.column(j)) + &(0.1 * &sol.a.column(j)));
///     assert!(res.dot(&res).sqrt() <= 1e-10 * bj.dot(&bj).sqrt());
/// }
///
/// // K = −Id is not positive semi-definite
/// let neg = Dense(-Array2::<f64>::eye(3));
/// let sol = solve(&neg, b.view(), &mut SolverConfig::new().alpha(0.1), "b").unwrap();
/// assert_eq!(sol.report.columns[0].status, SolveStatus::NegativeCurvature { iter: 1 });
/// assert!(matches!(
///     solve(&neg, b.view(), &mut SolverConfig::new().alpha(0.1).strict(), "b"),
///     Err(Error::Solve(_))
/// ));
/// ```
pub fn solve<T: Real>(
    op: &dyn LinOp<T>,
    b: ArrayView2<'_, T>,
    cfg: &mut SolverConfig<'_, T>,
    b_name: &str,
) -> Result<Solution<T>, Error> {
    let start = Instant::now();
    let n = op.nrows();
    let m = b.ncols();

    // ---- validation, before any matvec ----
    check_b_rows(n, &b, b_name)?;
    let x0 = cfg.x0_value();
    if let Some(x0) = &x0
        && x0.dim() != b.dim()
    {
        return Err(Error::Shape {
            arg: "x0".to_string(),
            expected: format!("{n} × {m} (the shape of `{b_name}`)"),
            got: format!("{} × {}", x0.nrows(), x0.ncols()),
        });
    }
    let alpha = cfg.alpha_value();
    check_alpha(alpha)?;
    let (rtol, atol) = cfg.tolerances();
    check_tolerance("rtol", rtol)?;
    check_tolerance("atol", atol)?;
    if rtol == 0.0 && atol == 0.0 {
        return Err(Error::InvalidOption(
            "`rtol` and `atol` are both 0, a tolerance that can never be met: set one of them > 0"
                .to_string(),
        ));
    }
    if let Some(row) = first_nonfinite_row(&b) {
        return Err(Error::NonFinite {
            arg: b_name.to_string(),
            row,
        });
    }
    if let Some(row) = x0.as_ref().and_then(first_nonfinite_row) {
        return Err(Error::NonFinite {
            arg: "x0".to_string(),
            row,
        });
    }
    let max_iter = cfg.max_iter_value().unwrap_or_else(|| default_max_iter(n));
    let strict = cfg.is_strict();
    let (precond, mut callback) = cfg.precond_and_callback();

    let mut run = Run {
        op,
        precond,
        n,
        eps_t: T::EPSILON.to_f64(),
        sigma: 0.0,
        matvecs: 0,
        precond_time: Duration::ZERO,
    };

    // ---- set-up: scaled columns, initial residuals and directions ----
    let mut cols: Vec<Col<T>> = (0..m)
        .map(|j| Col::new(b.column(j), x0.as_ref().map(|x| x.column(j)), rtol, atol))
        .collect();
    let warm: Vec<usize> = (0..m)
        .filter(|&j| cols[j].status.is_none() && cols[j].x.iter().any(|v| *v != T::zero()))
        .collect();
    if !warm.is_empty() {
        let kx = run.apply(&cols, &warm, |c| &c.x)?;
        for (c, &j) in warm.iter().enumerate() {
            let col = &mut cols[j];
            let mut t = Vec::with_capacity(n);
            let tn = residual_into(&col.b, &col.x, kx.column(c), alpha, &mut t);
            col.r = t;
            col.rnorm = norm(col.r.iter());
            col.true_rnorm = Some(tn);
        }
    }
    let mut first = Vec::new();
    for (j, col) in cols.iter_mut().enumerate() {
        if col.status.is_some() {
            continue;
        }
        if !col.rnorm.is_finite() {
            col.status = Some(SolveStatus::NonFinite { iter: 0 });
        } else if col.true_rnorm.is_some_and(|t| t <= col.tol) {
            col.status = Some(SolveStatus::Converged);
        } else {
            first.push((j, true));
        }
    }
    run.directions(&mut cols, &first, 0)?;

    // ---- iterations ----
    let mut k = 0;
    while k < max_iter {
        let act: Vec<usize> = (0..m).filter(|&j| cols[j].status.is_none()).collect();
        if act.is_empty() {
            break;
        }
        k += 1;
        let kp = run.apply(&cols, &act, |c| &c.p)?;
        let stats: Vec<(f64, f64, f64)> = act
            .iter()
            .enumerate()
            .map(|(c, &j)| {
                let p = &cols[j].p;
                let q = kp.column(c);
                (
                    dot(p.iter(), p.iter()),
                    dot(p.iter(), q.iter()),
                    dot(q.iter(), q.iter()),
                )
            })
            .collect();
        for &(pp, _, kq2) in &stats {
            if pp > 0.0 && pp.is_finite() && kq2.is_finite() {
                run.sigma = run.sigma.max((kq2 / pp).sqrt());
            }
        }
        let mut confirm = Vec::new();
        let mut next = Vec::new();
        for (c, (&j, &(pp, pkp, kq2))) in act.iter().zip(&stats).enumerate() {
            let col = &mut cols[j];
            col.iterations = k;
            if !(pp.is_finite() && pkp.is_finite() && kq2.is_finite()) {
                col.status = Some(SolveStatus::NonFinite { iter: k });
                continue;
            }
            if pkp < -CURVATURE_SLACK * run.eps_t * run.sigma * pp {
                col.status = Some(SolveStatus::NegativeCurvature { iter: k });
                continue;
            }
            let pap = pkp + alpha * pp;
            let step = col.rz / pap;
            if !(pap > 0.0 && step.is_finite()) {
                col.status = Some(SolveStatus::NonFinite { iter: k });
                continue;
            }
            let q = kp.column(c);
            for (((x, r), &p), &q) in col
                .x
                .iter_mut()
                .zip(col.r.iter_mut())
                .zip(&col.p)
                .zip(q.iter())
            {
                let p = p.to_f64();
                *x = T::from_f64(x.to_f64() + step * p);
                *r = T::from_f64(r.to_f64() - step * (q.to_f64() + alpha * p));
            }
            col.true_rnorm = None;
            col.rnorm = norm(col.r.iter());
            if !col.rnorm.is_finite() {
                col.status = Some(SolveStatus::NonFinite { iter: k });
            } else if col.rnorm <= col.tol || col.rnorm == 0.0 {
                confirm.push(j);
            } else {
                next.push((j, false));
            }
        }

        // Confirm candidates on the true residual.
        if !confirm.is_empty() {
            let kx = run.apply(&cols, &confirm, |c| &c.x)?;
            for (c, &j) in confirm.iter().enumerate() {
                let col = &mut cols[j];
                let mut t = Vec::with_capacity(n);
                let tn = residual_into(&col.b, &col.x, kx.column(c), alpha, &mut t);
                col.true_rnorm = Some(tn);
                if !tn.is_finite() {
                    col.status = Some(SolveStatus::NonFinite { iter: k });
                } else if tn <= col.tol {
                    col.status = Some(SolveStatus::Converged);
                } else {
                    col.r = t;
                    col.rnorm = norm(col.r.iter());
                    if tn < STALL_PROGRESS * col.best_failed {
                        col.best_failed = tn;
                        col.stalls = 1;
                    } else {
                        col.stalls += 1;
                    }
                    if col.stalls >= MAX_STALLS {
                        col.status = Some(SolveStatus::Stagnated);
                    } else {
                        next.push((j, true));
                    }
                }
            }
        }
        next.sort_unstable();
        run.directions(&mut cols, &next, k)?;

        if let Some(cb) = callback.as_mut() {
            let active: Vec<&Col<T>> = cols.iter().filter(|c| c.status.is_none()).collect();
            let progress = Progress {
                iteration: k,
                matvecs: run.matvecs,
                active_columns: active.len(),
                max_relres: active
                    .iter()
                    .map(|c| ratio(c.rnorm, c.bnorm))
                    .fold(0.0, f64::max),
                elapsed: start.elapsed(),
            };
            if cb(&progress).is_break() {
                for col in cols.iter_mut().filter(|c| c.status.is_none()) {
                    col.status = Some(SolveStatus::Stopped);
                }
            }
        }
    }
    for col in cols.iter_mut().filter(|c| c.status.is_none()) {
        col.status = Some(SolveStatus::MaxIterations);
    }

    // ---- true residuals of the iterates not checked yet ----
    let unchecked: Vec<usize> = (0..m)
        .filter(|&j| cols[j].status != Some(SolveStatus::ZeroRhs) && cols[j].true_rnorm.is_none())
        .collect();
    if !unchecked.is_empty() {
        let kx = run.apply(&cols, &unchecked, |c| &c.x)?;
        for (c, &j) in unchecked.iter().enumerate() {
            let col = &mut cols[j];
            let mut t = Vec::with_capacity(n);
            col.true_rnorm = Some(residual_into(&col.b, &col.x, kx.column(c), alpha, &mut t));
        }
    }

    // ---- unscale, report ----
    let mut a = Array2::<T>::zeros((n, m));
    let mut columns = Vec::with_capacity(m);
    for (j, col) in cols.iter().enumerate() {
        let status = col.status.unwrap_or(SolveStatus::MaxIterations);
        if status == SolveStatus::ZeroRhs {
            columns.push(ColumnReport {
                status,
                iterations: 0,
                true_relres: 0.0,
                recursive_relres: 0.0,
            });
            continue;
        }
        for (dst, &x) in a.column_mut(j).iter_mut().zip(&col.x) {
            *dst = T::from_f64(ldexp(x.to_f64(), col.e));
        }
        columns.push(ColumnReport {
            status,
            iterations: col.iterations,
            true_relres: ratio(col.true_rnorm.unwrap_or(f64::NAN), col.bnorm),
            recursive_relres: ratio(col.rnorm, col.bnorm),
        });
    }
    let preconditioner = precond.map(|p| {
        let mut rep = p.report();
        rep.apply = run.precond_time;
        rep
    });
    let report = SolveReport {
        columns,
        matvecs: run.matvecs,
        elapsed: start.elapsed(),
        preconditioner,
    };
    if strict && !report.converged() {
        return Err(Error::Solve(Box::new(report)));
    }
    Ok(Solution { a, report })
}

/// One right-hand-side column of [`solve`], in scaled units (`b_j · 2^-e`).
struct Col<T> {
    /// The scaling exponent: the column was multiplied by `2^-e`.
    e: i32,
    /// `‖b̃_j‖`.
    bnorm: f64,
    /// `max(rtol·‖b̃_j‖, atol·2^-e)`.
    tol: f64,
    b: Vec<T>,
    x: Vec<T>,
    r: Vec<T>,
    /// `M r` (empty without a preconditioner: `z = r`).
    z: Vec<T>,
    p: Vec<T>,
    /// `r'z` of the current direction.
    rz: f64,
    /// The norm of the (recursive) residual `r`.
    rnorm: f64,
    /// `‖b̃_j − A x̃_j‖` for the current `x̃_j`, if computed.
    true_rnorm: Option<f64>,
    status: Option<SolveStatus>,
    iterations: usize,
    stalls: usize,
    best_failed: f64,
}

impl<T: Real> Col<T> {
    fn new(b: ArrayView1<'_, T>, x0: Option<ArrayView1<'_, T>>, rtol: f64, atol: f64) -> Self {
        let maxabs = max_abs(b.iter());
        let mut col = Col {
            e: 0,
            bnorm: 0.0,
            tol: 0.0,
            b: Vec::new(),
            x: Vec::new(),
            r: Vec::new(),
            z: Vec::new(),
            p: Vec::new(),
            rz: 0.0,
            rnorm: 0.0,
            true_rnorm: Some(0.0),
            status: Some(SolveStatus::ZeroRhs),
            iterations: 0,
            stalls: 0,
            best_failed: f64::INFINITY,
        };
        if maxabs == 0.0 {
            return col;
        }
        let e = exponent(maxabs);
        col.e = e;
        col.b = b
            .iter()
            .map(|v| T::from_f64(ldexp(v.to_f64(), -e)))
            .collect();
        col.bnorm = norm(col.b.iter());
        col.tol = (rtol * col.bnorm).max(ldexp(atol, -e));
        col.x = match x0 {
            Some(x0) => x0
                .iter()
                .map(|v| T::from_f64(ldexp(v.to_f64(), -e)))
                .collect(),
            None => vec![T::zero(); b.len()],
        };
        col.r = col.b.clone();
        col.rnorm = col.bnorm;
        col.true_rnorm = Some(col.bnorm);
        col.status = None;
        col
    }
}

/// The shared state of one [`solve`] call: the operator, the preconditioner and the counters.
struct Run<'a, 'o, T: Real> {
    op: &'a dyn LinOp<T>,
    precond: Option<&'a (dyn Precond<T> + 'o)>,
    n: usize,
    eps_t: f64,
    /// `‖K‖_est`: the largest `‖K q‖ / ‖q‖` seen.
    sigma: f64,
    matvecs: usize,
    precond_time: Duration,
}

impl<T: Real> Run<'_, '_, T> {
    /// Applies `K` to the vectors `field(col)` of the listed columns, gathered into one `n × k` block.
    fn apply(
        &mut self,
        cols: &[Col<T>],
        list: &[usize],
        field: impl Fn(&Col<T>) -> &Vec<T>,
    ) -> Result<Array2<T>, Error> {
        self.matvecs += 1;
        if let Some(w) = self.op.block_width() {
            // The operator takes every column in its own place: the others are zero (K is linear).
            let mut v = Array2::<T>::zeros((self.n, w));
            let g = gather(self.n, cols, list, field);
            for (c, &j) in list.iter().enumerate() {
                v.column_mut(j).assign(&g.column(c));
            }
            let mut full = Array2::<T>::zeros((self.n, w));
            self.op.apply(v.view(), full.view_mut())?;
            let mut out = Array2::<T>::zeros((self.n, list.len()));
            for (c, &j) in list.iter().enumerate() {
                out.column_mut(c).assign(&full.column(j));
            }
            return Ok(out);
        }
        let v = gather(self.n, cols, list, field);
        let mut out = Array2::<T>::zeros(v.dim());
        self.op.apply(v.view(), out.view_mut())?;
        Ok(out)
    }

    /// New search directions for the listed columns `(j, restart)`: `z = M r`, then `p = z` (restart) or
    /// `p = z + (r'z / r'z_old)·p`. Checks `r'z` (finite, > 0) and sets the status on failure.
    fn directions(
        &mut self,
        cols: &mut [Col<T>],
        list: &[(usize, bool)],
        iter: usize,
    ) -> Result<(), Error> {
        if list.is_empty() {
            return Ok(());
        }
        if let Some(pc) = self.precond {
            let idx: Vec<usize> = list.iter().map(|&(j, _)| j).collect();
            let r = gather(self.n, cols, &idx, |c| &c.r);
            let mut z = Array2::<T>::zeros(r.dim());
            let t0 = Instant::now();
            let res = pc.apply(r.view(), z.view_mut());
            self.precond_time += t0.elapsed();
            res?;
            for (c, &j) in idx.iter().enumerate() {
                cols[j].z = z.column(c).to_vec();
            }
        }
        let has_precond = self.precond.is_some();
        for &(j, restart) in list {
            let col = &mut cols[j];
            let z: &[T] = if has_precond { &col.z } else { &col.r };
            let rz = dot(col.r.iter(), z.iter());
            if !rz.is_finite() {
                col.status = Some(SolveStatus::NonFinite { iter });
                continue;
            }
            if rz <= 0.0 {
                col.status = Some(if has_precond {
                    SolveStatus::IndefinitePreconditioner { iter }
                } else {
                    SolveStatus::NonFinite { iter }
                });
                continue;
            }
            if restart || col.p.is_empty() {
                col.p = z.to_vec();
            } else {
                let beta = rz / col.rz;
                for (p, &z) in col.p.iter_mut().zip(z) {
                    *p = T::from_f64(z.to_f64() + beta * p.to_f64());
                }
            }
            col.rz = rz;
        }
        Ok(())
    }
}

/// The listed columns' vectors as one standard-layout `n × k` block.
fn gather<T: Real>(
    n: usize,
    cols: &[Col<T>],
    list: &[usize],
    field: impl Fn(&Col<T>) -> &Vec<T>,
) -> Array2<T> {
    let vs: Vec<&[T]> = list.iter().map(|&j| field(&cols[j]).as_slice()).collect();
    Array2::from_shape_fn((n, vs.len()), |(i, c)| vs[c][i])
}

/// Writes `t = b − (K x + alpha·x)` (evaluated in `f64`, rounded to `T`) and returns `‖t‖` computed before
/// rounding.
fn residual_into<T: Real>(
    b: &[T],
    x: &[T],
    kx: ArrayView1<'_, T>,
    alpha: f64,
    t: &mut Vec<T>,
) -> f64 {
    t.clear();
    let mut s = 0.0;
    for ((&b, &x), &kx) in b.iter().zip(x).zip(kx.iter()) {
        let v = b.to_f64() - (kx.to_f64() + alpha * x.to_f64());
        s += v * v;
        t.push(T::from_f64(v));
    }
    s.sqrt()
}

/// `‖b − (K x + alpha·x)‖` in `f64`.
fn true_residual_norm<T: Real>(
    b: ArrayView1<'_, T>,
    x: ArrayView1<'_, T>,
    kx: ArrayView1<'_, T>,
    alpha: f64,
) -> f64 {
    b.iter()
        .zip(x.iter())
        .zip(kx.iter())
        .map(|((&b, &x), &kx)| {
            let v = b.to_f64() - (kx.to_f64() + alpha * x.to_f64());
            v * v
        })
        .sum::<f64>()
        .sqrt()
}

/// `Σ a_i b_i`, accumulated in `f64`.
fn dot<'a, T: Real>(a: impl Iterator<Item = &'a T>, b: impl Iterator<Item = &'a T>) -> f64 {
    a.zip(b)
        .fold(0.0, |s, (&x, &y)| s + x.to_f64() * y.to_f64())
}

/// `‖a‖₂`, accumulated in `f64`.
fn norm<'a, T: Real>(a: impl Iterator<Item = &'a T> + Clone) -> f64 {
    dot(a.clone(), a).sqrt()
}

/// `max |a_i|` in `f64` (inputs are finite).
fn max_abs<'a, T: Real>(a: impl Iterator<Item = &'a T>) -> f64 {
    a.fold(0.0, |m, v| m.max(v.to_f64().abs()))
}

/// `num / den`, with `0 / 0 = 0` and `x / 0 = inf`.
fn ratio(num: f64, den: f64) -> f64 {
    if den == 0.0 {
        if num == 0.0 { 0.0 } else { f64::INFINITY }
    } else {
        num / den
    }
}

/// `2^k` for `k` in `[-1022, 1023]`.
fn pow2(k: i32) -> f64 {
    debug_assert!((-1022..=1023).contains(&k));
    f64::from_bits(((k + 1023) as u64) << 52)
}

/// `x · 2^k` for `|k| ≤ 2044`, in two exact steps (one rounding at most, when the result is subnormal).
fn ldexp(x: f64, k: i32) -> f64 {
    let h = k / 2;
    x * pow2(h) * pow2(k - h)
}

/// The exponent `e` with `2^e ≤ m < 2^(e+1)`, for a finite `m > 0` (subnormals included).
fn exponent(m: f64) -> i32 {
    let bits = m.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    if biased == 0 {
        let mant = bits & ((1u64 << 52) - 1);
        63 - mant.leading_zeros() as i32 - 1074
    } else {
        biased - 1023
    }
}

fn check_b_rows<T: Real>(n: usize, b: &ArrayView2<'_, T>, b_name: &str) -> Result<(), Error> {
    if b.nrows() != n {
        return Err(Error::Shape {
            arg: b_name.to_string(),
            expected: format!("{n} rows (the size of the operator)"),
            got: format!("{} rows", b.nrows()),
        });
    }
    Ok(())
}

fn check_alpha(alpha: f64) -> Result<(), Error> {
    if alpha.is_nan() {
        Err(Error::InvalidOption(
            "`alpha` is NaN; it must be a finite number ≥ 0".to_string(),
        ))
    } else if alpha.is_infinite() {
        Err(Error::InvalidOption(format!(
            "`alpha` is {alpha}; it must be a finite number ≥ 0"
        )))
    } else if alpha < 0.0 {
        Err(Error::InvalidOption(format!(
            "`alpha` is {alpha}; it must be ≥ 0 (a negative ridge makes alpha·Id + K indefinite)"
        )))
    } else {
        Ok(())
    }
}

fn check_tolerance(name: &str, v: f64) -> Result<(), Error> {
    if !v.is_finite() || v < 0.0 {
        return Err(Error::InvalidOption(format!(
            "`{name}` is {v}; it must be a finite number ≥ 0"
        )));
    }
    Ok(())
}

fn first_nonfinite_row<T: Real>(a: &ArrayView2<'_, T>) -> Option<usize> {
    a.rows()
        .into_iter()
        .position(|row| row.iter().any(|v| !v.is_finite()))
}

#[cfg(test)]
mod tests {
    use std::ops::ControlFlow;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use ndarray::{Array2, ArrayView2, ArrayViewMut2};
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use super::*;
    use crate::solve::PrecondReport;

    /// A dense matrix as the operator; counts and records the width of every application.
    struct Dense<T> {
        k: Array2<T>,
        widths: Mutex<Vec<usize>>,
    }

    impl<T: Real> Dense<T> {
        fn new(k: Array2<T>) -> Self {
            Dense {
                k,
                widths: Mutex::new(Vec::new()),
            }
        }
        fn calls(&self) -> usize {
            self.widths.lock().unwrap().len()
        }
    }

    impl<T: Real> LinOp<T> for Dense<T> {
        fn nrows(&self) -> usize {
            self.k.nrows()
        }
        fn apply(&self, v: ArrayView2<'_, T>, mut out: ArrayViewMut2<'_, T>) -> Result<(), Error> {
            self.widths.lock().unwrap().push(v.ncols());
            // the solvers promise standard-layout blocks and a zeroed output
            assert!(v.is_standard_layout() && out.is_standard_layout());
            assert!(out.iter().all(|x| *x == T::zero()));
            out.assign(&self.k.dot(&v));
            Ok(())
        }
    }

    /// `K v` with every entry of `K v` rounded to `f32`: an `f64` operator with an `f32` precision floor.
    struct RoundedToF32(Array2<f64>);
    impl LinOp<f64> for RoundedToF32 {
        fn nrows(&self) -> usize {
            self.0.nrows()
        }
        fn apply(
            &self,
            v: ArrayView2<'_, f64>,
            mut out: ArrayViewMut2<'_, f64>,
        ) -> Result<(), Error> {
            out.assign(&self.0.dot(&v).mapv(|x| x as f32 as f64));
            Ok(())
        }
    }

    /// Returns NaN from the `after`-th call on (0-based); `K = Id` before.
    struct NanOp {
        n: usize,
        after: usize,
        calls: AtomicUsize,
    }
    impl LinOp<f64> for NanOp {
        fn nrows(&self) -> usize {
            self.n
        }
        fn apply(
            &self,
            v: ArrayView2<'_, f64>,
            mut out: ArrayViewMut2<'_, f64>,
        ) -> Result<(), Error> {
            if self.calls.fetch_add(1, Ordering::SeqCst) >= self.after {
                out.fill(f64::NAN);
            } else {
                out.assign(&v);
            }
            Ok(())
        }
    }

    /// Fails on every call.
    struct Failing(usize);
    impl LinOp<f64> for Failing {
        fn nrows(&self) -> usize {
            self.0
        }
        fn apply(&self, _: ArrayView2<'_, f64>, _: ArrayViewMut2<'_, f64>) -> Result<(), Error> {
            Err(Error::InvalidOption("boom".into()))
        }
    }

    /// `z = s·M r` with a dense `M`; `s` turns to `flip_sign` from call `flip_after` on.
    struct DensePrecond {
        m: Array2<f64>,
        flip_after: usize,
        calls: AtomicUsize,
    }
    impl Precond<f64> for DensePrecond {
        fn apply(
            &self,
            r: ArrayView2<'_, f64>,
            mut z: ArrayViewMut2<'_, f64>,
        ) -> Result<(), Error> {
            let s = if self.calls.fetch_add(1, Ordering::SeqCst) >= self.flip_after {
                -1.0
            } else {
                1.0
            };
            z.assign(&(self.m.dot(&r) * s));
            Ok(())
        }
        fn report(&self) -> PrecondReport {
            PrecondReport {
                rank: self.m.nrows(),
                setup: Duration::from_millis(1),
                apply: Duration::ZERO,
            }
        }
    }

    fn rng(seed: u64) -> StdRng {
        StdRng::seed_from_u64(seed)
    }

    /// Gaussian kernel matrix `exp(−|x_i − x_j|² / (2 s²))` of `n` uniform points in the unit cube.
    fn gaussian(n: usize, s: f64, seed: u64) -> Array2<f64> {
        let mut g = rng(seed);
        let x = Array2::from_shape_fn((n, 3), |_| g.random::<f64>());
        Array2::from_shape_fn((n, n), |(i, j)| {
            let d2: f64 = (0..3).map(|d| (x[[i, d]] - x[[j, d]]).powi(2)).sum();
            (-d2 / (2.0 * s * s)).exp()
        })
    }

    fn random_b(n: usize, m: usize, seed: u64) -> Array2<f64> {
        let mut g = rng(seed);
        Array2::from_shape_fn((n, m), |_| g.random::<f64>() * 2.0 - 1.0)
    }

    /// `(alpha·Id + K)^-1 b` by Cholesky, in f64.
    fn dense_solve(k: &Array2<f64>, alpha: f64, b: &Array2<f64>) -> Array2<f64> {
        let n = k.nrows();
        let a = k + &(Array2::<f64>::eye(n) * alpha);
        let mut l = Array2::<f64>::zeros((n, n));
        for i in 0..n {
            for j in 0..=i {
                let mut s = a[[i, j]];
                for q in 0..j {
                    s -= l[[i, q]] * l[[j, q]];
                }
                l[[i, j]] = if i == j { s.sqrt() } else { s / l[[j, j]] };
            }
        }
        let mut x = b.clone();
        for mut col in x.columns_mut() {
            for i in 0..n {
                let s: f64 = (0..i).map(|q| l[[i, q]] * col[q]).sum();
                col[i] = (col[i] - s) / l[[i, i]];
            }
            for i in (0..n).rev() {
                let s: f64 = (i + 1..n).map(|q| l[[q, i]] * col[q]).sum();
                col[i] = (col[i] - s) / l[[i, i]];
            }
        }
        x
    }

    /// `(alpha·Id + K)^-1` by Cholesky.
    fn dense_inverse(k: &Array2<f64>, alpha: f64) -> Array2<f64> {
        dense_solve(k, alpha, &Array2::eye(k.nrows()))
    }

    /// `‖b_j − (alpha·Id + K) a_j‖ / ‖b_j‖` in f64, independently of the solver.
    fn relres(k: &Array2<f64>, alpha: f64, a: &Array2<f64>, b: &Array2<f64>, j: usize) -> f64 {
        let aj = a.column(j);
        let bj = b.column(j);
        let r = &bj - &(k.dot(&aj) + &aj * alpha);
        r.dot(&r).sqrt() / bj.dot(&bj).sqrt()
    }

    /// pykeops' loop, transcribed literally (operations.py), with a guard against hangs.
    fn pykeops_cg(k: &Array2<f64>, b: &Array2<f64>, alpha: f64, eps: f64) -> Array2<f64> {
        let delta = b.len() as f64 * eps * eps;
        let mut a = Array2::<f64>::zeros(b.dim());
        let mut r = b.clone();
        let mut nr2 = (&r * &r).sum();
        if nr2 < delta {
            return a;
        }
        let mut p = r.clone();
        for _ in 0..10_000 {
            let mp = k.dot(&p) + &p * alpha;
            let alp = nr2 / (&p * &mp).sum();
            a = a + &p * alp;
            r = r - &mp * alp;
            let nr2new = (&r * &r).sum();
            if nr2new < delta {
                return a;
            }
            p = &r + &(&p * (nr2new / nr2));
            nr2 = nr2new;
        }
        panic!("reference CG did not stop")
    }

    fn max_abs_diff(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
        (a - b).iter().fold(0.0, |m, v| m.max(v.abs()))
    }

    fn max_abs_of(a: &Array2<f64>) -> f64 {
        a.iter().fold(0.0, |m, v| m.max(v.abs()))
    }

    fn statuses(r: &SolveReport) -> Vec<SolveStatus> {
        r.columns.iter().map(|c| c.status).collect()
    }

    fn solve_err(r: Result<Solution<f64>, Error>) -> String {
        match r {
            Err(e) => format!("{e:?}"),
            Ok(_) => panic!("expected an error"),
        }
    }

    // ---------------------------------------------------------------- solve_seed

    #[test]
    fn seed_matches_pykeops_loop_and_dense_solve() {
        let k = gaussian(120, 0.25, 1);
        let b = random_b(120, 3, 2);
        let op = Dense::new(k.clone());
        let a = solve_seed(&op, b.view(), 0.1, 1e-10, "b").unwrap();
        let reference = pykeops_cg(&k, &b, 0.1, 1e-10);
        assert!(max_abs_diff(&a, &reference) <= 1e-9 * max_abs_of(&reference));
        let exact = dense_solve(&k, 0.1, &b);
        assert!(max_abs_diff(&a, &exact) <= 1e-7 * max_abs_of(&exact));
        let res = &b - &(k.dot(&a) + &a * 0.1);
        let rms = ((&res * &res).sum() / res.len() as f64).sqrt();
        assert!(rms < 1e-9, "rms residual {rms}");
    }

    #[test]
    fn seed_shares_one_step_size_across_columns() {
        // One step size for the whole block: a column 1e6 times smaller than the other is under-solved
        // relative to its own norm, exactly as pykeops' loop does it.
        let k = gaussian(80, 0.3, 3);
        let mut b = random_b(80, 2, 4);
        b.column_mut(1).mapv_inplace(|v| v * 1e-6);
        let op = Dense::new(k.clone());
        let a = solve_seed(&op, b.view(), 1.0, 1e-4, "b").unwrap();
        let reference = pykeops_cg(&k, &b, 1.0, 1e-4);
        for j in 0..2 {
            let scale = reference
                .column(j)
                .iter()
                .fold(0.0f64, |m, v| m.max(v.abs()));
            let d = (&a.column(j) - &reference.column(j))
                .iter()
                .fold(0.0f64, |m, v| m.max(v.abs()));
            assert!(d <= 1e-9 * scale, "column {j}: {d} vs {scale}");
        }
        assert!(relres(&k, 1.0, &a, &b, 1) > 5.0 * relres(&k, 1.0, &a, &b, 0));
    }

    #[test]
    fn seed_returns_zeros_when_b_is_below_eps() {
        let k = gaussian(30, 0.3, 5);
        let b = random_b(30, 2, 6) * 1e-9;
        let op = Dense::new(k);
        let a = solve_seed(&op, b.view(), 0.1, 1e-6, "b").unwrap();
        assert_eq!(a, Array2::<f64>::zeros((30, 2)));
        assert_eq!(op.calls(), 0);
        // empty b: zeros, not a hang
        let empty = Array2::<f64>::zeros((30, 0));
        assert_eq!(
            solve_seed(&op, empty.view(), 0.1, 1e-6, "b").unwrap().dim(),
            (30, 0)
        );
    }

    #[test]
    fn seed_rejects_bad_input_before_any_matvec() {
        let op = Dense::new(gaussian(20, 0.3, 7));
        let b = random_b(20, 2, 8);
        let mut nan_b = b.clone();
        nan_b[[13, 1]] = f64::NAN;
        let e = solve_seed(&op, nan_b.view(), 0.1, 1e-6, "rhs").unwrap_err();
        assert!(
            matches!(e, Error::NonFinite { ref arg, row: 13 } if arg == "rhs"),
            "{e:?}"
        );
        let short = random_b(19, 2, 8);
        let e = solve_seed(&op, short.view(), 0.1, 1e-6, "rhs").unwrap_err();
        assert!(
            matches!(e, Error::Shape { ref arg, .. } if arg == "rhs"),
            "{e:?}"
        );
        for (alpha, eps, word) in [
            (-0.1, 1e-6, "alpha"),
            (f64::NAN, 1e-6, "alpha"),
            (f64::INFINITY, 1e-6, "alpha"),
            (0.1, 0.0, "eps"),
            (0.1, -1e-6, "eps"),
            (0.1, f64::NAN, "eps"),
        ] {
            match solve_seed(&op, b.view(), alpha, eps, "b") {
                Err(Error::InvalidOption(msg)) => assert!(msg.contains(word), "{msg}"),
                other => panic!("alpha {alpha}, eps {eps}: {other:?}"),
            }
        }
        assert_eq!(op.calls(), 0);
    }

    #[test]
    fn seed_negative_curvature() {
        let op = Dense::new(-gaussian(40, 0.3, 9));
        let b = random_b(40, 2, 10);
        match solve_seed(&op, b.view(), 0.1, 1e-8, "b") {
            Err(Error::Solve(rep)) => {
                assert_eq!(
                    statuses(&rep),
                    vec![SolveStatus::NegativeCurvature { iter: 1 }; 2]
                );
                assert!(rep.matvecs >= 1);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn seed_nan_operator_stops() {
        let b = random_b(10, 1, 11);
        for (after, iter) in [(0, 1), (3, 4)] {
            let op = NanOp {
                n: 10,
                after,
                calls: AtomicUsize::new(0),
            };
            match solve_seed(&op, b.view(), 0.0, 1e-300, "b") {
                Err(Error::Solve(rep)) if after == 0 => {
                    assert_eq!(statuses(&rep), vec![SolveStatus::NonFinite { iter }]);
                }
                // K = Id converges in one step, before the NaNs of the 4th call
                Ok(a) if after == 3 => assert!(max_abs_diff(&a, &b) < 1e-12),
                other => panic!("{other:?}"),
            }
        }
        // NaN at the 3rd matvec of a system that needs many iterations
        struct LateNan(Dense<f64>, AtomicUsize);
        impl LinOp<f64> for LateNan {
            fn nrows(&self) -> usize {
                self.0.nrows()
            }
            fn apply(
                &self,
                v: ArrayView2<'_, f64>,
                mut out: ArrayViewMut2<'_, f64>,
            ) -> Result<(), Error> {
                self.0.apply(v, out.view_mut())?;
                if self.1.fetch_add(1, Ordering::SeqCst) >= 2 {
                    out[[0, 0]] = f64::NAN;
                }
                Ok(())
            }
        }
        let op = LateNan(Dense::new(gaussian(50, 0.3, 13)), AtomicUsize::new(0));
        let b = random_b(50, 1, 14);
        match solve_seed(&op, b.view(), 0.01, 1e-12, "b") {
            Err(Error::Solve(rep)) => {
                assert_eq!(statuses(&rep), vec![SolveStatus::NonFinite { iter: 3 }])
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn seed_iteration_cap() {
        // eps² underflows to 0 after scaling: the stop test can never pass
        let n = 30;
        let op = Dense::new(gaussian(n, 0.3, 15));
        let b = random_b(n, 1, 16);
        match solve_seed(&op, b.view(), 0.1, 1e-200, "b") {
            Err(Error::Solve(rep)) => {
                assert_eq!(statuses(&rep), vec![SolveStatus::MaxIterations]);
                assert_eq!(rep.iterations(), default_max_iter(n));
                assert_eq!(rep.matvecs, default_max_iter(n) + 1);
                assert!(rep.columns[0].true_relres < 1e-10);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn seed_scaled_b_and_eps_scale_the_answer() {
        let k = gaussian(60, 0.3, 17);
        let b = random_b(60, 2, 18);
        let op = Dense::new(k);
        let a = solve_seed(&op, b.view(), 0.1, 1e-9, "b").unwrap();
        for s in [1e-30, 1e30, 1e-300, 1e300] {
            let bs = &b * s;
            let as_ = solve_seed(&op, bs.view(), 0.1, 1e-9 * s, "b").unwrap();
            assert!(
                max_abs_diff(&(as_ / s), &a) <= 1e-9 * max_abs_of(&a),
                "scale {s}"
            );
        }
    }

    // ---------------------------------------------------------------- solve

    #[test]
    fn solve_columns_of_different_scales_each_converge() {
        let n = 100;
        let k = gaussian(n, 0.25, 20);
        let mut b = random_b(n, 3, 21);
        b.column_mut(1).mapv_inplace(|v| v * 1e4);
        b.column_mut(2).mapv_inplace(|v| v * 1e-4);
        let op = Dense::new(k.clone());
        let sol = solve(
            &op,
            b.view(),
            &mut SolverConfig::new().alpha(0.1).rtol(1e-8),
            "b",
        )
        .unwrap();
        assert_eq!(statuses(&sol.report), vec![SolveStatus::Converged; 3]);
        let exact = dense_solve(&k, 0.1, &b);
        for j in 0..3 {
            let rr = relres(&k, 0.1, &sol.a, &b, j);
            assert!(rr <= 1e-8, "column {j}: {rr}");
            assert!((rr - sol.report.columns[j].true_relres).abs() <= 1e-3 * rr + 1e-15);
            let ej = exact.column(j);
            let err = (&sol.a.column(j) - &ej)
                .iter()
                .fold(0.0f64, |m, v| m.max(v.abs()));
            assert!(
                err <= 1e-5 * ej.iter().fold(0.0f64, |m, v| m.max(v.abs())),
                "column {j}"
            );
        }
        // one apply per iteration for all active columns, plus confirmations; widths shrink to the active set
        let widths = op.widths.lock().unwrap().clone();
        assert_eq!(widths.len(), sol.report.matvecs);
        assert_eq!(widths[0], 3);
        assert!(sol.report.matvecs > sol.report.iterations());
        assert!(sol.report.matvecs <= 2 * sol.report.iterations() + 1);
    }

    #[test]
    fn solve_converged_means_true_residual_below_tolerance() {
        for seed in 0..4 {
            let n = 60 + 20 * seed as usize;
            let k = gaussian(n, 0.2 + 0.05 * seed as f64, 30 + seed);
            let b = random_b(n, 2, 40 + seed);
            for rtol in [1e-4, 1e-8, 1e-12] {
                let op = Dense::new(k.clone());
                let sol = solve(
                    &op,
                    b.view(),
                    &mut SolverConfig::new().alpha(0.05).rtol(rtol),
                    "b",
                )
                .unwrap();
                for j in 0..2 {
                    let rr = relres(&k, 0.05, &sol.a, &b, j);
                    if sol.report.columns[j].status == SolveStatus::Converged {
                        assert!(
                            rr <= rtol * (1.0 + 1e-6),
                            "seed {seed}, rtol {rtol}, column {j}: {rr}"
                        );
                    }
                }
                if rtol >= 1e-8 {
                    assert!(sol.report.converged(), "{}", sol.report);
                }
            }
        }
        // f32 with a reachable tolerance
        let k = gaussian(80, 0.25, 50);
        let b = random_b(80, 2, 51);
        let op = Dense::new(k.mapv(|v| v as f32));
        let b32 = b.mapv(|v| v as f32);
        let sol = solve(
            &op,
            b32.view(),
            &mut SolverConfig::new().alpha(0.1).rtol(1e-4),
            "b",
        )
        .unwrap();
        assert!(sol.report.converged(), "{}", sol.report);
        let a64 = sol.a.mapv(|v| v as f64);
        let b64 = b32.mapv(|v| v as f64);
        let k64 = op.k.mapv(|v| v as f64);
        for j in 0..2 {
            assert!(relres(&k64, 0.1, &a64, &b64, j) <= 1e-4 * 1.001);
        }
    }

    #[test]
    fn solve_rejects_bad_input_before_any_matvec() {
        let n = 20;
        let op = Dense::new(gaussian(n, 0.3, 60));
        let b = random_b(n, 2, 61);
        let mut nan_b = b.clone();
        nan_b[[7, 0]] = f64::NAN;
        let e = solve(&op, nan_b.view(), &mut SolverConfig::new(), "b").unwrap_err();
        assert!(
            matches!(e, Error::NonFinite { ref arg, row: 7 } if arg == "b"),
            "{e:?}"
        );
        let mut inf_b = b.clone();
        inf_b[[11, 1]] = f64::NEG_INFINITY;
        inf_b[[15, 0]] = f64::NAN;
        let e = solve(&op, inf_b.view(), &mut SolverConfig::new(), "b").unwrap_err();
        assert!(matches!(e, Error::NonFinite { row: 11, .. }), "{e:?}");

        let short = random_b(n + 1, 2, 62);
        let e = solve(&op, short.view(), &mut SolverConfig::new(), "rhs").unwrap_err();
        assert!(
            matches!(e, Error::Shape { ref arg, .. } if arg == "rhs"),
            "{e:?}"
        );
        let x0 = random_b(n, 3, 63);
        let e = solve(&op, b.view(), &mut SolverConfig::new().x0(x0.view()), "b").unwrap_err();
        assert!(
            matches!(e, Error::Shape { ref arg, .. } if arg == "x0"),
            "{e:?}"
        );
        let mut x0 = random_b(n, 2, 64);
        x0[[4, 1]] = f64::INFINITY;
        let e = solve(&op, b.view(), &mut SolverConfig::new().x0(x0.view()), "b").unwrap_err();
        assert!(
            matches!(e, Error::NonFinite { ref arg, row: 4 } if arg == "x0"),
            "{e:?}"
        );

        let bad: Vec<(SolverConfig<'_, f64>, &str)> = vec![
            (SolverConfig::new().alpha(-1e-3), "alpha"),
            (SolverConfig::new().alpha(f64::NAN), "alpha"),
            (SolverConfig::new().alpha(f64::INFINITY), "alpha"),
            (SolverConfig::new().rtol(-1e-6), "rtol"),
            (SolverConfig::new().rtol(f64::NAN), "rtol"),
            (SolverConfig::new().atol(f64::INFINITY), "atol"),
            (SolverConfig::new().atol(-1.0).rtol(1e-6), "atol"),
            (SolverConfig::new().rtol(0.0), "both 0"),
            (SolverConfig::new().rtol(0.0).atol(0.0), "both 0"),
        ];
        for (mut cfg, word) in bad {
            match solve(&op, b.view(), &mut cfg, "b") {
                Err(Error::InvalidOption(msg)) => assert!(msg.contains(word), "{msg}"),
                other => panic!("{cfg:?}: {}", solve_err(other)),
            }
        }
        assert_eq!(op.calls(), 0);
        // atol alone is a valid tolerance
        assert!(
            solve(
                &op,
                b.view(),
                &mut SolverConfig::new().alpha(0.1).atol(1e-6),
                "b"
            )
            .is_ok()
        );
    }

    #[test]
    fn solve_max_iter_and_strict() {
        let n = 60;
        let k = gaussian(n, 0.25, 70);
        let b = random_b(n, 2, 71);
        let op = Dense::new(k.clone());
        let sol = solve(
            &op,
            b.view(),
            &mut SolverConfig::new().alpha(0.01).rtol(1e-12).max_iter(3),
            "b",
        )
        .unwrap();
        assert_eq!(statuses(&sol.report), vec![SolveStatus::MaxIterations; 2]);
        assert_eq!(sol.report.iterations(), 3);
        for j in 0..2 {
            let rr = relres(&k, 0.01, &sol.a, &b, j);
            assert!((sol.report.columns[j].true_relres - rr).abs() <= 1e-6 * rr);
        }
        // 3 iterations + the final true residual
        assert_eq!(sol.report.matvecs, 4);
        match solve(
            &op,
            b.view(),
            &mut SolverConfig::new()
                .alpha(0.01)
                .rtol(1e-12)
                .max_iter(3)
                .strict(),
            "b",
        ) {
            Err(Error::Solve(rep)) => {
                assert_eq!(statuses(&rep), vec![SolveStatus::MaxIterations; 2])
            }
            other => panic!("{}", solve_err(other)),
        }
        // strict and converged: Ok
        assert!(
            solve(
                &op,
                b.view(),
                &mut SolverConfig::new().alpha(0.1).strict(),
                "b"
            )
            .is_ok()
        );

        // max_iter(0): x0 (or zero) comes back, no matvec without x0
        let calls = op.calls();
        let sol = solve(
            &op,
            b.view(),
            &mut SolverConfig::new().alpha(0.1).max_iter(0),
            "b",
        )
        .unwrap();
        assert_eq!(op.calls(), calls);
        assert_eq!(sol.report.matvecs, 0);
        assert_eq!(sol.a, Array2::<f64>::zeros((n, 2)));
        assert_eq!(statuses(&sol.report), vec![SolveStatus::MaxIterations; 2]);
        assert_eq!(sol.report.columns[0].true_relres, 1.0);
        let exact = dense_solve(&k, 0.1, &b);
        let sol = solve(
            &op,
            b.view(),
            &mut SolverConfig::new().alpha(0.1).max_iter(0).x0(exact.view()),
            "b",
        )
        .unwrap();
        assert_eq!(statuses(&sol.report), vec![SolveStatus::Converged; 2]);
        assert_eq!(sol.report.matvecs, 1);
    }

    #[test]
    fn solve_negative_curvature() {
        let op = Dense::new(-gaussian(50, 0.3, 80));
        let b = random_b(50, 3, 81);
        let sol = solve(&op, b.view(), &mut SolverConfig::new().alpha(0.1), "b").unwrap();
        assert_eq!(
            statuses(&sol.report),
            vec![SolveStatus::NegativeCurvature { iter: 1 }; 3]
        );
        assert!(matches!(
            solve(
                &op,
                b.view(),
                &mut SolverConfig::new().alpha(0.1).strict(),
                "b"
            ),
            Err(Error::Solve(_))
        ));
        // f32 too
        let op32 = Dense::new(op.k.mapv(|v| v as f32));
        let b32 = b.mapv(|v| v as f32);
        let sol = solve(&op32, b32.view(), &mut SolverConfig::new().alpha(0.1), "b").unwrap();
        assert_eq!(
            statuses(&sol.report),
            vec![SolveStatus::NegativeCurvature { iter: 1 }; 3]
        );
    }

    #[test]
    fn solve_psd_kernel_with_zero_alpha_is_not_negative_curvature() {
        // Gaussian K with a wide bandwidth: numerically singular; alpha = 0. Rounding must not be mistaken
        // for negative curvature.
        for (s, seed) in [(0.5, 85u64), (1.0, 86)] {
            let k = gaussian(80, s, seed);
            let b = random_b(80, 2, seed + 10);
            let op = Dense::new(k.clone());
            let sol = solve(
                &op,
                b.view(),
                &mut SolverConfig::new().alpha(0.0).rtol(1e-10).max_iter(300),
                "b",
            )
            .unwrap();
            for c in &sol.report.columns {
                assert!(
                    !matches!(c.status, SolveStatus::NegativeCurvature { .. }),
                    "{}",
                    sol.report
                );
            }
            let op32 = Dense::new(k.mapv(|v| v as f32));
            let b32 = b.mapv(|v| v as f32);
            let sol = solve(
                &op32,
                b32.view(),
                &mut SolverConfig::new().alpha(1e-10).rtol(1e-6),
                "b",
            )
            .unwrap();
            for c in &sol.report.columns {
                assert!(
                    !matches!(c.status, SolveStatus::NegativeCurvature { .. }),
                    "{}",
                    sol.report
                );
            }
        }
    }

    #[test]
    fn solve_nan_operator_reports_non_finite() {
        let b = random_b(10, 2, 90);
        let op = NanOp {
            n: 10,
            after: 0,
            calls: AtomicUsize::new(0),
        };
        let sol = solve(
            &op,
            b.view(),
            &mut SolverConfig::new().alpha(0.0).max_iter(50),
            "b",
        )
        .unwrap();
        assert_eq!(
            statuses(&sol.report),
            vec![SolveStatus::NonFinite { iter: 1 }; 2]
        );
        assert!(op.calls.load(Ordering::SeqCst) <= 2);
        assert!(sol.a.iter().all(|v| *v == 0.0));
        // NaN from the initial residual of a warm start
        let op = NanOp {
            n: 10,
            after: 0,
            calls: AtomicUsize::new(0),
        };
        let x0 = random_b(10, 2, 91);
        let sol = solve(
            &op,
            b.view(),
            &mut SolverConfig::new().x0(x0.view()).max_iter(50),
            "b",
        )
        .unwrap();
        assert_eq!(
            statuses(&sol.report),
            vec![SolveStatus::NonFinite { iter: 0 }; 2]
        );
        // NaN later
        let k = gaussian(40, 0.3, 92);
        struct LateNan(Array2<f64>, AtomicUsize);
        impl LinOp<f64> for LateNan {
            fn nrows(&self) -> usize {
                self.0.nrows()
            }
            fn apply(
                &self,
                v: ArrayView2<'_, f64>,
                mut out: ArrayViewMut2<'_, f64>,
            ) -> Result<(), Error> {
                out.assign(&self.0.dot(&v));
                if self.1.fetch_add(1, Ordering::SeqCst) >= 4 {
                    out.fill(f64::NAN);
                }
                Ok(())
            }
        }
        let op = LateNan(k, AtomicUsize::new(0));
        let b = random_b(40, 2, 93);
        let sol = solve(
            &op,
            b.view(),
            &mut SolverConfig::new().alpha(0.001).rtol(1e-12).max_iter(100),
            "b",
        )
        .unwrap();
        assert_eq!(
            statuses(&sol.report),
            vec![SolveStatus::NonFinite { iter: 5 }; 2]
        );
        assert!(sol.a.iter().all(|v| v.is_finite()));
        assert!(sol.report.columns.iter().all(|c| c.true_relres.is_nan()));
    }

    #[test]
    fn solve_propagates_operator_errors() {
        let b = random_b(5, 1, 95);
        let e = solve(&Failing(5), b.view(), &mut SolverConfig::new(), "b").unwrap_err();
        assert!(matches!(e, Error::InvalidOption(ref m) if m == "boom"));
        let e = solve_seed(&Failing(5), b.view(), 0.1, 1e-6, "b").unwrap_err();
        assert!(matches!(e, Error::InvalidOption(ref m) if m == "boom"));
    }

    #[test]
    fn solve_zero_rhs() {
        let n = 30;
        let k = gaussian(n, 0.3, 100);
        let op = Dense::new(k.clone());
        let b = Array2::<f64>::zeros((n, 2));
        let x0 = random_b(n, 2, 101);
        let sol = solve(
            &op,
            b.view(),
            &mut SolverConfig::new().x0(x0.view()).strict(),
            "b",
        )
        .unwrap();
        assert_eq!(statuses(&sol.report), vec![SolveStatus::ZeroRhs; 2]);
        assert_eq!(sol.a, b);
        assert_eq!(sol.report.matvecs, 0);
        assert_eq!(op.calls(), 0);
        assert!(sol.report.converged());

        // one zero column among others
        let mut b = random_b(n, 3, 102);
        b.column_mut(1).fill(0.0);
        let sol = solve(
            &op,
            b.view(),
            &mut SolverConfig::new().alpha(0.1).rtol(1e-9),
            "b",
        )
        .unwrap();
        assert_eq!(
            statuses(&sol.report),
            vec![
                SolveStatus::Converged,
                SolveStatus::ZeroRhs,
                SolveStatus::Converged
            ]
        );
        assert!(sol.a.column(1).iter().all(|v| *v == 0.0));
        assert_eq!(sol.report.columns[1].iterations, 0);
        assert!(op.widths.lock().unwrap().iter().all(|&w| w <= 2));
        for j in [0, 2] {
            assert!(relres(&k, 0.1, &sol.a, &b, j) <= 1e-9);
        }

        // an empty system
        struct Empty;
        impl LinOp<f64> for Empty {
            fn nrows(&self) -> usize {
                0
            }
            fn apply(
                &self,
                _: ArrayView2<'_, f64>,
                _: ArrayViewMut2<'_, f64>,
            ) -> Result<(), Error> {
                Ok(())
            }
        }
        let b = Array2::<f64>::zeros((0, 2));
        let sol = solve(&Empty, b.view(), &mut SolverConfig::new(), "b").unwrap();
        assert_eq!(statuses(&sol.report), vec![SolveStatus::ZeroRhs; 2]);
        assert_eq!(
            solve_seed(&Empty, b.view(), 0.1, 1e-6, "b").unwrap().dim(),
            (0, 2)
        );
    }

    /// `v · 2^k`, exactly.
    fn times_pow2(v: &Array2<f64>, k: i32) -> Array2<f64> {
        v.mapv(|x| ldexp(x, k))
    }

    fn columns_of(r: &SolveReport) -> Vec<(SolveStatus, usize)> {
        r.columns.iter().map(|c| (c.status, c.iterations)).collect()
    }

    #[test]
    fn solve_extreme_scales_same_iterations() {
        let n = 80;
        let k = gaussian(n, 0.25, 110);
        let b = random_b(n, 2, 111);
        let op = Dense::new(k.clone());
        let cfg = || SolverConfig::new().alpha(0.1).rtol(1e-8);
        let base = solve(&op, b.view(), &mut cfg(), "b").unwrap();
        assert!(base.report.converged());
        // Scaling by a power of two (2^±100 ≈ 1e±30, 2^±997 ≈ 1e±300) runs exactly the same iterations:
        // the same statuses, iteration counts, matvecs and, once scaled back, the same bits.
        for p in [-100, 100, -997, 997] {
            let sol = solve(&op, times_pow2(&b, p).view(), &mut cfg(), "b").unwrap();
            assert_eq!(columns_of(&sol.report), columns_of(&base.report), "2^{p}");
            assert_eq!(sol.report.matvecs, base.report.matvecs, "2^{p}");
            assert_eq!(times_pow2(&sol.a, -p), base.a, "2^{p}");
        }
        // b·1e-30 etc.: b·s differs from b by a rounding in every entry, so compare with the order-1 vector
        // holding the same mantissas (b·s·2^-e, exact), which gives exactly the same run; and with b itself
        // up to that rounding.
        for s in [1e-30, 1e30, 1e-300, 1e300] {
            let bs = &b * s;
            let sol = solve(&op, bs.view(), &mut cfg(), "b").unwrap();
            assert_eq!(
                statuses(&sol.report),
                vec![SolveStatus::Converged; 2],
                "scale {s}"
            );
            let e = exponent(s);
            let twin = solve(&op, times_pow2(&bs, -e).view(), &mut cfg(), "b").unwrap();
            assert_eq!(
                columns_of(&sol.report),
                columns_of(&twin.report),
                "scale {s}"
            );
            assert_eq!(times_pow2(&sol.a, -e), twin.a, "scale {s}");
            assert!(sol.a.iter().any(|v| *v != 0.0));
            let back = &sol.a / s;
            assert!(
                max_abs_diff(&back, &base.a) <= 1e-6 * max_abs_of(&base.a),
                "scale {s}"
            );
            for j in 0..2 {
                assert!(
                    relres(&k, 0.1, &(&sol.a / s), &b, j) <= 1.01e-8,
                    "scale {s}"
                );
            }
        }
        // f32: 2^±100 exactly the same run; 1e±30 solved, not zeroed
        let op32 = Dense::new(k.mapv(|v| v as f32));
        let b32 = b.mapv(|v| v as f32);
        let cfg32 = || SolverConfig::new().alpha(0.1).rtol(1e-4);
        let base = solve(&op32, b32.view(), &mut cfg32(), "b").unwrap();
        assert!(base.report.converged());
        for p in [-100, 100] {
            let f = ldexp(1.0, p) as f32;
            let sol = solve(&op32, (&b32 * f).view(), &mut cfg32(), "b").unwrap();
            assert_eq!(
                columns_of(&sol.report),
                columns_of(&base.report),
                "f32 2^{p}"
            );
            assert_eq!(sol.a.mapv(|v| v / f), base.a, "f32 2^{p}");
        }
        for s in [1e-30f32, 1e30] {
            let sol = solve(&op32, (&b32 * s).view(), &mut cfg32(), "b").unwrap();
            assert!(sol.report.converged(), "f32 scale {s}");
            assert!(sol.report.columns.iter().all(|c| c.true_relres <= 1e-4));
            assert!(sol.a.iter().any(|v| *v != 0.0));
        }
    }

    #[test]
    fn solve_f32_infeasible_tolerance_never_converges() {
        let n = 60;
        let k = gaussian(n, 0.25, 120);
        let op = Dense::new(k.mapv(|v| v as f32));
        let b = random_b(n, 2, 121).mapv(|v| v as f32);
        let sol = solve(
            &op,
            b.view(),
            &mut SolverConfig::new().alpha(0.1).rtol(1e-12),
            "b",
        )
        .unwrap();
        for c in &sol.report.columns {
            assert!(
                matches!(
                    c.status,
                    SolveStatus::Stagnated | SolveStatus::MaxIterations
                ),
                "{}",
                sol.report
            );
            assert!(c.true_relres > 1e-12);
        }
        assert!(sol.report.iterations() <= default_max_iter(n));
        assert!(matches!(
            solve(
                &op,
                b.view(),
                &mut SolverConfig::new().alpha(0.1).rtol(1e-12).strict(),
                "b"
            ),
            Err(Error::Solve(_))
        ));
    }

    #[test]
    fn solve_precision_floor_stagnates_instead_of_false_convergence() {
        // The operator rounds K v to f32: the recursive residual goes on shrinking, the true one cannot.
        let n = 60;
        let k = gaussian(n, 0.25, 125);
        let op = RoundedToF32(k.clone());
        let b = random_b(n, 2, 126);
        let sol = solve(
            &op,
            b.view(),
            &mut SolverConfig::new().alpha(0.1).rtol(1e-13),
            "b",
        )
        .unwrap();
        for (j, c) in sol.report.columns.iter().enumerate() {
            assert_eq!(c.status, SolveStatus::Stagnated, "{}", sol.report);
            assert!(c.true_relres > 1e-13);
            assert!(relres(&k, 0.1, &sol.a, &b, j) > 1e-13);
        }
    }

    #[test]
    fn solve_callback_can_stop() {
        let n = 60;
        let op = Dense::new(gaussian(n, 0.25, 130));
        let b = random_b(n, 2, 131);
        let mut seen = Vec::new();
        let mut cfg = SolverConfig::new()
            .alpha(0.01)
            .rtol(1e-12)
            .callback(|p: &Progress| {
                seen.push(p.clone());
                if p.iteration == 3 {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            });
        let sol = solve(&op, b.view(), &mut cfg, "b").unwrap();
        drop(cfg);
        assert_eq!(statuses(&sol.report), vec![SolveStatus::Stopped; 2]);
        assert_eq!(sol.report.iterations(), 3);
        assert_eq!(
            seen.iter().map(|p| p.iteration).collect::<Vec<_>>(),
            vec![1, 2, 3]
        );
        assert_eq!(
            seen.iter().map(|p| p.matvecs).collect::<Vec<_>>(),
            vec![1, 2, 3]
        );
        assert!(
            seen.iter()
                .all(|p| p.active_columns == 2 && p.max_relres > 0.0 && p.max_relres.is_finite())
        );
        assert!(seen.windows(2).all(|w| w[0].elapsed <= w[1].elapsed));
        // Stopped with strict is an error
        let mut cfg = SolverConfig::new()
            .alpha(0.01)
            .strict()
            .callback(|_: &Progress| ControlFlow::Break(()));
        assert!(matches!(
            solve(&op, b.view(), &mut cfg, "b"),
            Err(Error::Solve(_))
        ));
    }

    #[test]
    fn solve_warm_start() {
        let n = 80;
        let k = gaussian(n, 0.25, 140);
        let b = random_b(n, 2, 141);
        let op = Dense::new(k.clone());
        let exact = dense_solve(&k, 0.1, &b);
        let sol = solve(
            &op,
            b.view(),
            &mut SolverConfig::new().alpha(0.1).rtol(1e-8).x0(exact.view()),
            "b",
        )
        .unwrap();
        assert_eq!(statuses(&sol.report), vec![SolveStatus::Converged; 2]);
        assert!(sol.report.iterations() <= 1);
        let cold = solve(
            &op,
            b.view(),
            &mut SolverConfig::new().alpha(0.1).rtol(1e-8),
            "b",
        )
        .unwrap();
        let near = &exact + &(random_b(n, 2, 142) * 1e-4);
        let warm = solve(
            &op,
            b.view(),
            &mut SolverConfig::new().alpha(0.1).rtol(1e-8).x0(near.view()),
            "b",
        )
        .unwrap();
        assert!(warm.report.converged());
        assert!(warm.report.iterations() < cold.report.iterations());
        for j in 0..2 {
            assert!(relres(&k, 0.1, &warm.a, &b, j) <= 1e-8);
        }
    }

    #[test]
    fn solve_preconditioned() {
        let n = 80;
        let k = gaussian(n, 0.25, 150);
        let b = random_b(n, 3, 151);
        let op = Dense::new(k.clone());
        // the exact inverse: one iteration
        let inv = DensePrecond {
            m: dense_inverse(&k, 0.1),
            flip_after: usize::MAX,
            calls: AtomicUsize::new(0),
        };
        let sol = solve(
            &op,
            b.view(),
            &mut SolverConfig::new()
                .alpha(0.1)
                .rtol(1e-8)
                .preconditioner_op(Box::new(inv)),
            "b",
        )
        .unwrap();
        assert_eq!(statuses(&sol.report), vec![SolveStatus::Converged; 3]);
        assert_eq!(sol.report.iterations(), 1);
        let pr = sol.report.preconditioner.clone().unwrap();
        assert_eq!(pr.rank, n);
        assert_eq!(pr.setup, Duration::from_millis(1));
        for j in 0..3 {
            assert!(relres(&k, 0.1, &sol.a, &b, j) <= 1e-8);
        }
        // Jacobi: converges, true residual below the tolerance
        let jac = Array2::from_diag(&k.diag().mapv(|d| 1.0 / (d + 0.1)));
        let pc = DensePrecond {
            m: jac,
            flip_after: usize::MAX,
            calls: AtomicUsize::new(0),
        };
        let sol = solve(
            &op,
            b.view(),
            &mut SolverConfig::new()
                .alpha(0.1)
                .rtol(1e-9)
                .preconditioner_op(Box::new(pc)),
            "b",
        )
        .unwrap();
        assert!(sol.report.converged(), "{}", sol.report);
        for j in 0..3 {
            assert!(relres(&k, 0.1, &sol.a, &b, j) <= 1e-9);
        }
    }

    #[test]
    fn solve_indefinite_preconditioner() {
        let n = 40;
        let k = gaussian(n, 0.25, 160);
        let b = random_b(n, 2, 161);
        let op = Dense::new(k.clone());
        let neg = DensePrecond {
            m: Array2::eye(n),
            flip_after: 0,
            calls: AtomicUsize::new(0),
        };
        let sol = solve(
            &op,
            b.view(),
            &mut SolverConfig::new()
                .alpha(0.1)
                .preconditioner_op(Box::new(neg)),
            "b",
        )
        .unwrap();
        assert_eq!(
            statuses(&sol.report),
            vec![SolveStatus::IndefinitePreconditioner { iter: 0 }; 2]
        );
        assert_eq!(sol.report.matvecs, 0);
        // turns indefinite at the 3rd application (after iteration 2)
        let late = DensePrecond {
            m: Array2::eye(n),
            flip_after: 2,
            calls: AtomicUsize::new(0),
        };
        let sol = solve(
            &op,
            b.view(),
            &mut SolverConfig::new()
                .alpha(0.01)
                .rtol(1e-12)
                .preconditioner_op(Box::new(late)),
            "b",
        )
        .unwrap();
        assert_eq!(
            statuses(&sol.report),
            vec![SolveStatus::IndefinitePreconditioner { iter: 2 }; 2]
        );
        assert_eq!(sol.report.iterations(), 2);
        // a preconditioner error is passed on
        struct Broken;
        impl Precond<f64> for Broken {
            fn apply(
                &self,
                _: ArrayView2<'_, f64>,
                _: ArrayViewMut2<'_, f64>,
            ) -> Result<(), Error> {
                Err(Error::Preconditioner("broken".into()))
            }
        }
        let e = solve(
            &op,
            b.view(),
            &mut SolverConfig::new().preconditioner_op(Box::new(Broken)),
            "b",
        )
        .unwrap_err();
        assert!(matches!(e, Error::Preconditioner(_)));
    }

    #[test]
    fn solve_non_contiguous_b() {
        let n = 50;
        let k = gaussian(n, 0.25, 170);
        let op = Dense::new(k.clone());
        let big = random_b(n, 4, 171);
        // every other column, and a transposed (column-major) view
        let view = big.slice(ndarray::s![.., ..;2]);
        let sol = solve(
            &op,
            view,
            &mut SolverConfig::new().alpha(0.1).rtol(1e-9),
            "b",
        )
        .unwrap();
        let owned = view.to_owned();
        for j in 0..2 {
            assert!(relres(&k, 0.1, &sol.a, &owned, j) <= 1e-9);
        }
        let t = random_b(2, n, 172);
        let sol2 = solve(
            &op,
            t.t(),
            &mut SolverConfig::new().alpha(0.1).rtol(1e-9),
            "b",
        )
        .unwrap();
        let tt = t.t().to_owned();
        for j in 0..2 {
            assert!(relres(&k, 0.1, &sol2.a, &tt, j) <= 1e-9);
        }
        let a = solve_seed(&op, t.t(), 0.1, 1e-10, "b").unwrap();
        let reference = solve_seed(&op, tt.view(), 0.1, 1e-10, "b").unwrap();
        assert_eq!(a, reference);
    }
}

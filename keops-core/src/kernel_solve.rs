//! Kernel solves over a Genred formula: the operator `v ↦ Σ_j k(x_i, y_j) v_j` built from a formula linear
//! in the solved variable, input validation, and the two entry points used by generated and run-time
//! solve types.

use ndarray::{Array2, ArrayView2, ArrayViewMut2};

use crate::cpu::driver::{Family, Signature, SumFamily, TileFormula, prepare};
use crate::solve::{LinOp, Solution, SolverConfig, solve, solve_seed};
use crate::{Cat, Error, Options, Real};

/// The operator `K v` of a formula linear in argument `slot`: one Genred `Sum` per application.
pub struct KernelOp<'a, T: Real, F> {
    f: &'a F,
    sig: Signature<'a>,
    args: Vec<ArrayView2<'a, T>>,
    slot: usize,
    opts: Options<'a>,
    n: usize,
}

impl<'a, T: Real, F: TileFormula<T>> KernelOp<'a, T, F> {
    /// The operator; `args[slot]` holds the right-hand side (it fixes the size).
    pub fn new(
        f: &'a F,
        sig: Signature<'a>,
        args: &'a [ArrayView2<'_, T>],
        slot: usize,
        opts: Options<'a>,
    ) -> Self {
        let n = args[slot].nrows();
        KernelOp {
            f,
            sig,
            args: args.iter().map(|a| a.view()).collect(),
            slot,
            opts,
            n,
        }
    }
}

impl<T: Real, F: TileFormula<T>> LinOp<T> for KernelOp<'_, T, F> {
    fn nrows(&self) -> usize {
        self.n
    }
    fn block_width(&self) -> Option<usize> {
        Some(self.sig.vars[self.slot].dim)
    }
    fn apply(&self, v: ArrayView2<'_, T>, mut out: ArrayViewMut2<'_, T>) -> Result<(), Error> {
        let mut args: Vec<ArrayView2<'_, T>> =
            self.args.iter().map(|a| a.view().reborrow()).collect();
        args[self.slot] = v.reborrow();
        let p = prepare(&self.sig, &args, &self.opts)?;
        let res = match self.opts.threads {
            None => SumFamily::run(self.f, &p),
            Some(t) => rayon::ThreadPoolBuilder::new()
                .num_threads(t)
                .build()
                .map_err(|e| Error::InvalidOption(format!("cannot start {t} threads: {e}")))?
                .install(|| SumFamily::run(self.f, &p)),
        };
        let vals = res.values.expect("a sum has values");
        if vals.dim() != out.dim() {
            return Err(Error::Shape {
                arg: self.sig.vars[self.slot].name.to_string(),
                expected: format!("{:?} (the shape of K v)", vals.dim()),
                got: format!("{:?}", out.dim()),
            });
        }
        out.assign(&vals);
        Ok(())
    }
}

/// Rejects NaN and infinity in the solve's inputs other than the right-hand side (the solver checks that
/// one), and checks that the right-hand side is indexed like the rows of `K v`.
pub fn validate<T: Real>(
    sig: &Signature<'_>,
    args: &[ArrayView2<'_, T>],
    slot: usize,
) -> Result<(), Error> {
    if args.len() != sig.vars.len() {
        return Err(Error::Shape {
            arg: "arguments".into(),
            expected: format!("{} arguments", sig.vars.len()),
            got: format!("{}", args.len()),
        });
    }
    for (k, (v, a)) in sig.vars.iter().zip(args).enumerate() {
        if k == slot {
            continue;
        }
        if let Some((row, _)) = a
            .indexed_iter()
            .find(|(_, x)| !x.is_finite())
            .map(|(ix, x)| (ix.0, *x))
        {
            return Err(Error::NonFinite {
                arg: v.name.to_string(),
                row,
            });
        }
    }
    // K v has one row per output row: the other index's count must equal the solved variable's rows.
    let out_cat = if sig.axis == 1 { Cat::Vi } else { Cat::Vj };
    let rows = sig
        .vars
        .iter()
        .zip(args)
        .find(|(v, _)| v.cat == out_cat)
        .map_or(1, |(_, a)| a.nrows());
    let b = &args[slot];
    if b.ncols() != sig.vars[slot].dim {
        return Err(Error::Shape {
            arg: sig.vars[slot].name.to_string(),
            expected: format!("{} columns", sig.vars[slot].dim),
            got: format!("{} columns", b.ncols()),
        });
    }
    if b.nrows() != rows {
        return Err(Error::Shape {
            arg: sig.vars[slot].name.to_string(),
            expected: format!("{rows} rows (K is square: as many rows as the output of K v)"),
            got: format!("{} rows", b.nrows()),
        });
    }
    Ok(())
}

/// pykeops' `KernelSolve` semantics (see [`solve_seed`]), the right-hand side in `args[slot]`.
pub fn seed_solve<T: Real, F: TileFormula<T>>(
    f: &F,
    sig: &Signature<'_>,
    args: &[ArrayView2<'_, T>],
    slot: usize,
    alpha: T,
    eps: T,
    opts: &Options<'_>,
) -> Result<Array2<T>, Error> {
    validate(sig, args, slot)?;
    let op = KernelOp::new(f, *sig, args, slot, *opts);
    solve_seed(&op, args[slot], alpha, eps, sig.vars[slot].name)
}

/// The safe per-column solver (see [`solve`]), the right-hand side in `args[slot]`.
pub fn safe_solve<T: Real, F: TileFormula<T>>(
    f: &F,
    sig: &Signature<'_>,
    args: &[ArrayView2<'_, T>],
    slot: usize,
    cfg: &mut SolverConfig<'_, T>,
    opts: &Options<'_>,
) -> Result<Solution<T>, Error> {
    validate(sig, args, slot)?;
    let op = KernelOp::new(f, *sig, args, slot, *opts);
    solve(&op, args[slot], cfg, sig.vars[slot].name)
}

//! Formulas given as strings at run time: no compiler needed, the tile interpreter runs them.

use keops_ir::{Alias, FormulaError, Kernel, Reduction};
use ndarray::{Array2, ArrayView2};

use std::ops::ControlFlow;

use crate::cpu::driver::{RawOutput, Signature, ValuesIndices, VarSpec, prepare, run_any};
use crate::interp::Interpreter;
use crate::solve::{Progress, Solution, SolverConfig};
use crate::{Error, Options, Real};

/// A Genred built at run time from strings.
///
/// ```
/// use keops_core::{Genred, Reduction};
/// use ndarray::array;
/// // pykeops' smoke test: SqNorm2(x - y) summed over i.
/// let g = Genred::new("SqNorm2(x - y)", &["x = Vi(3)", "y = Vj(3)"], Reduction::Sum, 0).unwrap();
/// let x = array![[1.0f64, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]];
/// let y = array![[3.0f64, 4.0, 5.0], [6.0, 7.0, 8.0]];
/// let out = g.call(&[x.view(), y.view()]).unwrap();
/// assert_eq!(out.column(0).to_vec(), vec![63.0, 90.0]);
/// ```
#[derive(Clone, Debug)]
pub struct Genred {
    formula: String,
    aliases: Vec<Alias>,
    interp: Interpreter,
    /// `SumSoftMaxWeight` before `with_formula2`: the error every call returns.
    missing_weights: Option<FormulaError>,
}

impl Genred {
    /// Parses and checks `formula` with `aliases` (`"x = Vi(3)"`, ...) for `reduction` over `axis`
    /// (1: over j, 0: over i).
    pub fn new(
        formula: &str,
        aliases: &[&str],
        reduction: Reduction,
        axis: usize,
    ) -> Result<Genred, Error> {
        let aliases = aliases
            .iter()
            .map(|a| Alias::parse(a))
            .collect::<Result<Vec<_>, _>>()?;
        let mut missing_weights = None;
        let kernel = if reduction == Reduction::SumSoftMaxWeight {
            // The weights come with `with_formula2`: check the formula now (as the exponent of a
            // LogSumExp: a scalar) and refuse calls until then.
            let k = Kernel::build(formula, None, &aliases, Reduction::LogSumExp, axis)?;
            missing_weights = Kernel::build(formula, None, &aliases, reduction, axis).err();
            k
        } else {
            Kernel::build(formula, None, &aliases, reduction, axis)?
        };
        Ok(Genred {
            missing_weights,
            formula: formula.to_string(),
            aliases,
            interp: Interpreter::new(kernel),
        })
    }

    /// Adds the weight formula of `LogSumExp` / `SumSoftMaxWeight`.
    pub fn with_formula2(self, formula2: &str) -> Result<Genred, Error> {
        let k = self.interp.kernel();
        let reduction = if self.missing_weights.is_some() {
            Reduction::SumSoftMaxWeight
        } else {
            k.reduction
        };
        let kernel = Kernel::build(
            &self.formula,
            Some(formula2),
            &self.aliases,
            reduction,
            k.axis,
        )?;
        Ok(Genred {
            interp: Interpreter::new(kernel),
            missing_weights: None,
            ..self
        })
    }

    /// The checked kernel (its IR can be printed).
    pub fn kernel(&self) -> &Kernel {
        self.interp.kernel()
    }

    /// Runs with options; values and/or indices as the reduction has them.
    pub fn call_raw<T: Real>(
        &self,
        opts: &Options<'_>,
        args: &[ArrayView2<'_, T>],
    ) -> Result<RawOutput<T>, Error> {
        if let Some(e) = &self.missing_weights {
            return Err(Error::Formula(e.clone()));
        }
        let k = self.interp.kernel();
        let vars: Vec<VarSpec<'_>> =
            k.ir.vars
                .iter()
                .map(|v| VarSpec {
                    name: &v.name,
                    cat: v.cat,
                    dim: v.dim,
                })
                .collect();
        let sig = Signature {
            vars: &vars,
            reduction: k.reduction,
            axis: k.axis,
            dim: k.dim(),
            dim2: k.dim2(),
            weighted: k.formula2.is_some(),
        };
        let p = prepare(&sig, args, opts)?;
        match p_threads(opts) {
            None => Ok(run_any(&self.interp, &p)),
            Some(n) => rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .map(|pool| pool.install(|| run_any(&self.interp, &p)))
                .map_err(|e| Error::InvalidOption(format!("cannot start {n} threads: {e}"))),
        }
    }

    /// The values of a value reduction.
    pub fn call<T: Real>(&self, args: &[ArrayView2<'_, T>]) -> Result<Array2<T>, Error> {
        self.call_with(&Options::default(), args)
    }

    /// [`Genred::call`] with options.
    pub fn call_with<T: Real>(
        &self,
        opts: &Options<'_>,
        args: &[ArrayView2<'_, T>],
    ) -> Result<Array2<T>, Error> {
        match self.call_raw(opts, args)? {
            RawOutput {
                values: Some(v),
                indices: None,
            } => Ok(v),
            RawOutput {
                values: Some(_),
                indices: Some(_),
            } => Err(self.wrong_kind("call_values_indices")),
            _ => Err(self.wrong_kind("call_indices")),
        }
    }

    /// The indices of an Arg-type reduction.
    pub fn call_indices<T: Real>(
        &self,
        args: &[ArrayView2<'_, T>],
    ) -> Result<Array2<usize>, Error> {
        let out = self.call_raw(&Options::default(), args)?;
        match (out.indices, out.values) {
            (Some(i), None) => Ok(i),
            _ => Err(self.wrong_kind(if self.kernel().reduction.has_indices() {
                "call_values_indices"
            } else {
                "call"
            })),
        }
    }

    /// Values and indices of `Min_ArgMin`, `Max_ArgMax`, `KMin_ArgKMin`.
    pub fn call_values_indices<T: Real>(
        &self,
        args: &[ArrayView2<'_, T>],
    ) -> Result<ValuesIndices<T>, Error> {
        let out = self.call_raw(&Options::default(), args)?;
        match (out.values, out.indices) {
            (Some(values), Some(indices)) => Ok(ValuesIndices { values, indices }),
            _ => Err(self.wrong_kind(if self.kernel().reduction.has_indices() {
                "call_indices"
            } else {
                "call"
            })),
        }
    }

    fn wrong_kind(&self, use_instead: &str) -> Error {
        Error::InvalidOption(format!(
            "the `{}` reduction does not return this: use `{use_instead}`",
            self.kernel().reduction
        ))
    }
}

fn p_threads(opts: &Options<'_>) -> Option<usize> {
    opts.threads
}

/// A kernel solve built at run time: `(alpha·Id + K) a = b` where `K a` is the formula summed over the
/// reduced axis, linear in the variable named `var`; `b` is passed in that variable's place.
///
/// ```
/// use keops_core::KernelSolve;
/// use ndarray::Array2;
/// let ks = KernelSolve::new("Exp(-SqDist(x, y)) * a", &["x = Vi(2)", "y = Vj(2)", "a = Vj(1)"], "a", 1).unwrap();
/// let x = Array2::from_shape_fn((30, 2), |(i, k)| (i * (k + 1)) as f64 / 30.0);
/// let b = Array2::from_shape_fn((30, 1), |(i, _)| (i % 3) as f64);
/// let sol = ks.solver().alpha(0.5).rtol(1e-10).solve(&[x.view(), x.view(), b.view()]).unwrap();
/// assert!(sol.report.converged());
/// let seed = ks.call(&[x.view(), x.view(), b.view()], 0.5, 1e-10).unwrap();
/// assert!((&seed - &sol.a).iter().all(|d| d.abs() < 1e-6));
/// ```
#[derive(Clone, Debug)]
pub struct KernelSolve {
    genred: Genred,
    slot: usize,
}

impl KernelSolve {
    /// Parses and checks the formula; it must be linear in `var`, which must be indexed by the reduced
    /// axis, with the formula's dimension.
    pub fn new(
        formula: &str,
        aliases: &[&str],
        var: &str,
        axis: usize,
    ) -> Result<KernelSolve, Error> {
        let genred = Genred::new(formula, aliases, Reduction::Sum, axis)?;
        let slot = genred.kernel().check_solve(var, formula)?;
        Ok(KernelSolve { genred, slot })
    }

    /// The checked kernel.
    pub fn kernel(&self) -> &Kernel {
        self.genred.kernel()
    }

    /// pykeops' semantics (x0 = 0, stop when `‖r‖² < numel(b)·eps²`), capped and checked; the
    /// right-hand side in the solved variable's slot of `args`.
    pub fn call<T: Real>(
        &self,
        args: &[ArrayView2<'_, T>],
        alpha: T,
        eps: T,
    ) -> Result<Array2<T>, Error> {
        self.with_signature(|sig| {
            crate::kernel_solve::seed_solve(
                &self.genred.interp,
                sig,
                args,
                self.slot,
                alpha,
                eps,
                &Options::default(),
            )
        })
    }

    /// The safe solver builder.
    pub fn solver<'o, T: Real>(&'o self) -> Solver<'o, T> {
        Solver {
            ks: self,
            cfg: SolverConfig::new(),
            opts: Options::default(),
        }
    }

    fn with_signature<R>(&self, f: impl FnOnce(&Signature<'_>) -> R) -> R {
        let k = self.kernel();
        let vars: Vec<VarSpec<'_>> =
            k.ir.vars
                .iter()
                .map(|v| VarSpec {
                    name: &v.name,
                    cat: v.cat,
                    dim: v.dim,
                })
                .collect();
        let sig = Signature {
            vars: &vars,
            reduction: Reduction::Sum,
            axis: k.axis,
            dim: k.dim(),
            dim2: 1,
            weighted: false,
        };
        f(&sig)
    }
}

/// The builder of [`KernelSolve::solver`]: tolerances, cap, warm start, callback, options.
pub struct Solver<'o, T: Real> {
    ks: &'o KernelSolve,
    cfg: SolverConfig<'o, T>,
    opts: Options<'o>,
}

impl<'o, T: Real> Solver<'o, T> {
    /// The ridge `alpha`.
    pub fn alpha(self, alpha: f64) -> Self {
        Self {
            cfg: self.cfg.alpha(alpha),
            ..self
        }
    }
    /// Relative tolerance per column.
    pub fn rtol(self, rtol: f64) -> Self {
        Self {
            cfg: self.cfg.rtol(rtol),
            ..self
        }
    }
    /// Absolute tolerance per column.
    pub fn atol(self, atol: f64) -> Self {
        Self {
            cfg: self.cfg.atol(atol),
            ..self
        }
    }
    /// Iteration cap.
    pub fn max_iter(self, max_iter: usize) -> Self {
        Self {
            cfg: self.cfg.max_iter(max_iter),
            ..self
        }
    }
    /// Warm start.
    pub fn x0(self, x0: ArrayView2<'o, T>) -> Self {
        Self {
            cfg: self.cfg.x0(x0),
            ..self
        }
    }
    /// Options of every matvec.
    pub fn options(self, opts: &Options<'o>) -> Self {
        Self {
            opts: *opts,
            ..self
        }
    }
    /// Progress callback; `ControlFlow::Break(())` stops.
    pub fn callback(self, f: impl FnMut(&Progress) -> ControlFlow<()> + 'o) -> Self {
        Self {
            cfg: self.cfg.callback(f),
            ..self
        }
    }
    /// Any column not converged is an error.
    pub fn strict(self) -> Self {
        Self {
            cfg: self.cfg.strict(),
            ..self
        }
    }
    /// Solves; the right-hand side in the solved variable's slot of `args`.
    pub fn solve(mut self, args: &[ArrayView2<'_, T>]) -> Result<Solution<T>, Error> {
        let ks = self.ks;
        let opts = self.opts;
        ks.with_signature(|sig| {
            crate::kernel_solve::safe_solve(
                &ks.genred.interp,
                sig,
                args,
                ks.slot,
                &mut self.cfg,
                &opts,
            )
        })
    }
}

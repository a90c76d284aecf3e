//! The three subcommands: `reduce`, `solve`, `check`.

use std::fmt::Write as _;
use std::io::Write as _;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::time::Instant;

use keops_core::interp::Interpreter;
use keops_core::{
    Backend, Cat, Genred, KernelSolve, Options, Progress, Reduction, Signature, VarSpec,
};
use keops_ir::{Kernel, OutputKind};
use ndarray::{Array2, ArrayView2};

use crate::cli::{
    BackendArg, CheckArgs, FormulaArgs, ReduceArgs, ReductionArgs, RunArgs, SolveArgs,
};
use crate::error::{Failure, input};
use crate::npy::{self, Data, Dtype, Float, Vector};
use crate::progress::with_progress;

/// Where an input came from, for error notes.
struct Source {
    name: String,
    path: PathBuf,
    shape: Vec<usize>,
}

/// Prints a line on stdout; a closed stdout (a pipe whose reader left) is not an error worth a panic.
fn say(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// The reduction named by `--reduction` (and `--k`), with a message listing the valid names otherwise.
fn reduction(args: &ReductionArgs) -> Result<Reduction, Failure> {
    let spelled = args.reduction.trim();
    let (name, k) = match spelled.strip_suffix(')').and_then(|s| s.split_once('(')) {
        Some((name, k)) => {
            let k: usize = k.trim().parse().map_err(|_| {
                input(format!(
                    "invalid K in reduction `{spelled}`: expected e.g. `KMin(3)`"
                ))
            })?;
            if args.k.is_some_and(|k2| k2 != k) {
                return Err(input(format!(
                    "`{spelled}` and `--k {}` disagree",
                    args.k.unwrap_or(k)
                )));
            }
            (name.trim(), Some(k))
        }
        None => (spelled, args.k),
    };
    if let Some(r) = Reduction::from_name(name, k) {
        return Ok(r);
    }
    let k_family = Reduction::from_name(name, Some(1)).is_some();
    let plain = Reduction::from_name(name, None).is_some();
    Err(input(if k_family {
        format!("the `{name}` reduction needs K: pass `--k K` (e.g. `--reduction {name} --k 3`)")
    } else if plain {
        format!("the `{name}` reduction takes no K (`--k`)")
    } else {
        format!(
            "unknown reduction `{name}`: expected one of {}",
            Reduction::NAMES.join(", ")
        )
    }))
}

fn alias_strs(f: &FormulaArgs) -> Vec<&str> {
    f.aliases.iter().map(String::as_str).collect()
}

fn options(run: &RunArgs) -> Options<'static> {
    let backend = match run.backend {
        BackendArg::Auto => Backend::Auto,
        BackendArg::Cpu => Backend::Cpu,
        BackendArg::Gpu => Backend::Gpu { device: 0 },
    };
    let opts = Options::new().backend(backend);
    match run.threads {
        Some(n) => opts.threads(n as usize),
        None => opts,
    }
}

/// Matches `--input` entries with the kernel's variables and reads the files, in call order.
fn load_inputs(
    kernel: &Kernel,
    run: &RunArgs,
    solved: Option<&str>,
) -> Result<(Vec<Data>, Vec<Source>), Failure> {
    let vars = &kernel.ir.vars;
    let names: Vec<&str> = vars.iter().map(|v| v.name.as_str()).collect();
    let mut paths: Vec<Option<&PathBuf>> = vec![None; vars.len()];
    for (name, path) in &run.inputs {
        let slot = names
            .iter()
            .position(|n| n == name)
            .or_else(|| name.parse::<usize>().ok().filter(|k| *k < vars.len()));
        let Some(slot) = slot else {
            let mut f = input(format!(
                "`--input {name}={}`: the formula has no variable `{name}` (its variables: {})",
                path.display(),
                names.join(", ")
            ));
            if let Some(var) = solved {
                f = f.with_note(format!(
                    "the right-hand side goes in the solved variable's slot: `--input {var}={}`",
                    path.display()
                ));
            }
            return Err(f);
        };
        if paths[slot].is_some() {
            return Err(input(format!(
                "variable `{}` is given twice (--input)",
                names[slot]
            )));
        }
        paths[slot] = Some(path);
    }
    let missing: Vec<String> = vars
        .iter()
        .zip(&paths)
        .filter(|(_, p)| p.is_none())
        .map(|(v, _)| {
            let what = if Some(v.name.as_str()) == solved {
                ", the right-hand side"
            } else {
                ""
            };
            format!(
                "`{}` ({}({}){what}): pass `--input {}=FILE.npy`",
                v.name, v.cat, v.dim, v.name
            )
        })
        .collect();
    if !missing.is_empty() {
        return Err(input(format!("missing input for {}", missing.join("; "))));
    }
    let mut data = Vec::with_capacity(vars.len());
    let mut sources = Vec::with_capacity(vars.len());
    for (v, p) in vars.iter().zip(paths) {
        let Some(path) = p else { continue };
        let d = npy::read(path)?;
        sources.push(Source {
            name: v.name.clone(),
            path: path.clone(),
            shape: d.shape().to_vec(),
        });
        data.push(d);
    }
    Ok((data, sources))
}

/// The dtype of the computation: `--dtype`, else the inputs' (which must agree).
fn pick_dtype(data: &[Data], sources: &[Source], forced: Option<Dtype>) -> Result<Dtype, Failure> {
    if let Some(d) = forced {
        return Ok(d);
    }
    let Some(first) = data.first() else {
        return Ok(Dtype::F64);
    };
    match data.iter().position(|d| d.dtype() != first.dtype()) {
        None => Ok(first.dtype()),
        Some(k) => Err(input(format!(
            "inputs disagree on dtype: `{}` (for `{}`) is {} but `{}` (for `{}`) is {}; pass --dtype f32 or \
             --dtype f64 to convert",
            sources[0].path.display(),
            sources[0].name,
            first.dtype(),
            sources[k].path.display(),
            sources[k].name,
            data[k].dtype()
        ))),
    }
}

/// The inputs as matrices of `T`, 1-D files as rows (`Pm`) or columns (`Vi`/`Vj`).
fn matrices<T: Float>(
    data: Vec<Data>,
    kernel: &Kernel,
    sources: &[Source],
) -> Result<Vec<Array2<T>>, Failure> {
    data.into_iter()
        .zip(&kernel.ir.vars)
        .zip(sources)
        .map(|((d, v), s)| {
            let as_vector = if v.cat == Cat::Pm {
                Vector::Row
            } else {
                Vector::Column
            };
            npy::to_matrix(T::convert(d), as_vector, &s.path)
        })
        .collect()
}

/// A library error, with a note naming the file behind the argument it blames.
fn explain(e: keops_core::Error, sources: &[Source]) -> Failure {
    let arg = match &e {
        keops_core::Error::Shape { arg, .. } | keops_core::Error::NonFinite { arg, .. } => {
            Some(arg.clone())
        }
        _ => None,
    };
    let note = arg
        .and_then(|a| sources.iter().find(|s| s.name == a))
        .map(|s| {
            format!(
                "`{}` was read from `{}`, shape {:?}",
                s.name,
                s.path.display(),
                s.shape
            )
        });
    let f = Failure::from(e);
    match note {
        Some(n) => f.with_note(n),
        None => f,
    }
}

/// `keops reduce`.
pub fn reduce(a: &ReduceArgs) -> Result<(), Failure> {
    let red = reduction(&a.reduction)?;
    let mut g = Genred::new(
        &a.formula.formula,
        &alias_strs(&a.formula),
        red,
        usize::from(a.axis),
    )?;
    if let Some(f2) = &a.reduction.formula2 {
        g = g.with_formula2(f2)?;
    }
    let (data, sources) = load_inputs(g.kernel(), &a.run, None)?;
    match pick_dtype(&data, &sources, a.run.dtype)? {
        Dtype::F32 => reduce_typed::<f32>(a, &g, data, &sources),
        Dtype::F64 => reduce_typed::<f64>(a, &g, data, &sources),
    }
}

fn reduce_typed<T: Float>(
    a: &ReduceArgs,
    g: &Genred,
    data: Vec<Data>,
    sources: &[Source],
) -> Result<(), Failure> {
    let arrays = matrices::<T>(data, g.kernel(), sources)?;
    let views: Vec<ArrayView2<'_, T>> = arrays.iter().map(|x| x.view()).collect();
    let out = g
        .call_raw::<T>(&options(&a.run), &views)
        .map_err(|e| explain(e, sources))?;
    let k = g.kernel();
    let over = if k.axis == 1 { "j" } else { "i" };
    let out_path = &a.run.out;
    let mut report = String::new();
    match (out.values, out.indices) {
        (Some(v), idx) => {
            npy::write(out_path, &v)?;
            let _ = writeln!(
                report,
                "{}: {} × {} {} ({} over {over})",
                out_path.display(),
                v.nrows(),
                v.ncols(),
                T::DTYPE,
                k.reduction
            );
            if let Some(i) = idx {
                let ipath = a
                    .indices_out
                    .clone()
                    .unwrap_or_else(|| npy::indices_path(out_path));
                npy::write_indices(&ipath, &i)?;
                let _ = writeln!(
                    report,
                    "{}: {} × {} int64 indices",
                    ipath.display(),
                    i.nrows(),
                    i.ncols()
                );
            }
        }
        (None, Some(i)) => {
            npy::write_indices(out_path, &i)?;
            let _ = writeln!(
                report,
                "{}: {} × {} int64 indices ({} over {over})",
                out_path.display(),
                i.nrows(),
                i.ncols(),
                k.reduction
            );
        }
        (None, None) => {
            return Err(input(format!(
                "the `{}` reduction returned nothing",
                k.reduction
            )));
        }
    }
    say(&report);
    Ok(())
}

/// `keops solve`.
pub fn solve(a: &SolveArgs) -> Result<(), Failure> {
    let aliases = alias_strs(&a.formula);
    let ks = KernelSolve::new(&a.formula.formula, &aliases, &a.var, usize::from(a.axis))?;
    let (data, sources) = load_inputs(ks.kernel(), &a.run, Some(&a.var))?;
    match pick_dtype(&data, &sources, a.run.dtype)? {
        Dtype::F32 => solve_typed::<f32>(a, &ks, data, &sources),
        Dtype::F64 => solve_typed::<f64>(a, &ks, data, &sources),
    }
}

fn solve_typed<T: Float>(
    a: &SolveArgs,
    ks: &KernelSolve,
    data: Vec<Data>,
    sources: &[Source],
) -> Result<(), Failure> {
    let arrays = matrices::<T>(data, ks.kernel(), sources)?;
    let views: Vec<ArrayView2<'_, T>> = arrays.iter().map(|x| x.view()).collect();
    let slot = ks
        .kernel()
        .ir
        .vars
        .iter()
        .position(|v| v.name == a.var)
        .ok_or_else(|| input(format!("the solved variable `{}` is not an alias", a.var)))?;
    let opts = options(&a.run);
    if let Some(eps) = a.eps {
        let start = Instant::now();
        let sol = with_progress("conjugate gradient (seed stopping rule)", |_| {
            seed_solve(ks, &views, slot, a.alpha, eps, &opts)
        })
        .map_err(|e| explain(e, sources))?;
        let elapsed = start.elapsed();
        npy::write(&a.run.out, &sol)?;
        let (rms, rel) =
            true_residual(a, &views, slot, sol.view(), &opts).map_err(|e| explain(e, sources))?;
        say(&format!(
            "seed solve (x0 = 0, stop when the RMS of the recursive residual < eps = {eps:e}): {} × {} {}, \
             {elapsed:.3?}\n  true residual b − (alpha·Id + K) a: RMS {rms:.3e}, relative (Frobenius) {rel:.3e}\n\
             {}: solution written\n",
            sol.nrows(),
            sol.ncols(),
            T::DTYPE,
            a.run.out.display()
        ));
        return Ok(());
    }
    let mut solver = ks.solver::<T>().alpha(a.alpha).options(&opts);
    if let Some(r) = a.rtol {
        solver = solver.rtol(r);
    }
    if let Some(t) = a.atol {
        solver = solver.atol(t);
    }
    if let Some(m) = a.max_iter {
        solver = solver.max_iter(m);
    }
    let sol = with_progress("conjugate gradient", |bar| {
        let bar = bar.clone();
        solver
            .callback(move |p: &Progress| {
                bar.set_message(format!(
                    "conjugate gradient: iteration {}, {} column(s) left, max relative residual {:.2e}",
                    p.iteration, p.active_columns, p.max_relres
                ));
                ControlFlow::Continue(())
            })
            .solve(&views)
    })
    .map_err(|e| explain(e, sources))?;
    npy::write(&a.run.out, &sol.a)?;
    say(&format!(
        "{}{}: solution written ({} × {} {})\n",
        sol.report,
        a.run.out.display(),
        sol.a.nrows(),
        sol.a.ncols(),
        T::DTYPE
    ));
    if sol.report.converged() {
        Ok(())
    } else {
        Err(Failure::Numerical(format!(
            "the solve did not converge (see the report above); the last iterate was written to `{}`",
            a.run.out.display()
        )))
    }
}

/// pykeops' `KernelSolve` semantics with the CLI's options (back end, threads), which
/// `KernelSolve::call` does not take.
fn seed_solve<T: Float>(
    ks: &KernelSolve,
    views: &[ArrayView2<'_, T>],
    slot: usize,
    alpha: f64,
    eps: f64,
    opts: &Options<'_>,
) -> Result<Array2<T>, keops_core::Error> {
    let kernel = ks.kernel();
    let vars: Vec<VarSpec<'_>> = kernel
        .ir
        .vars
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
        axis: kernel.axis,
        dim: kernel.dim(),
        dim2: 1,
        weighted: false,
    };
    let interp = Interpreter::new(kernel.clone());
    keops_core::kernel_solve::seed_solve(
        &interp,
        &sig,
        views,
        slot,
        T::from_f64(alpha),
        T::from_f64(eps),
        opts,
    )
}

/// RMS and relative Frobenius norm of `b − (alpha·Id + K) a`, recomputed with one Genred sum.
fn true_residual<T: Float>(
    a: &SolveArgs,
    views: &[ArrayView2<'_, T>],
    slot: usize,
    sol: ArrayView2<'_, T>,
    opts: &Options<'_>,
) -> Result<(f64, f64), keops_core::Error> {
    let g = Genred::new(
        &a.formula.formula,
        &alias_strs(&a.formula),
        Reduction::Sum,
        usize::from(a.axis),
    )?;
    let mut args: Vec<ArrayView2<'_, T>> = views.iter().map(|v| v.view()).collect();
    let b = views[slot].view();
    args[slot] = sol.view();
    let ka = g.call_with::<T>(opts, &args)?;
    let (mut r2, mut b2) = (0.0f64, 0.0f64);
    for ((bi, ai), ki) in b.iter().zip(sol.iter()).zip(ka.iter()) {
        let r = bi.to_f64() - a.alpha * ai.to_f64() - ki.to_f64();
        r2 += r * r;
        b2 += bi.to_f64() * bi.to_f64();
    }
    let numel = b.len().max(1) as f64;
    let rel = if b2 > 0.0 {
        (r2 / b2).sqrt()
    } else {
        r2.sqrt()
    };
    Ok(((r2 / numel).sqrt(), rel))
}

/// `keops check`.
pub fn check(a: &CheckArgs) -> Result<(), Failure> {
    let red = reduction(&a.reduction)?;
    let formula = &a.formula.formula;
    let mut g = Genred::new(formula, &alias_strs(&a.formula), red, usize::from(a.axis))?;
    if let Some(f2) = &a.reduction.formula2 {
        g = g.with_formula2(f2)?;
    }
    let k = g.kernel();
    let solve_line = match &a.var {
        Some(var) => {
            k.check_solve(var, formula)
                .map_err(keops_core::Error::from)?;
            Some(format!(
                "solve for `{var}`: ok (linear in `{var}`; K {var} has the shape of {var})\n"
            ))
        }
        None => None,
    };
    let mut s = String::new();
    let parsed = |f: &str| {
        keops_ir::parser::parse(f)
            .map(|e| e.to_string())
            .unwrap_or_else(|_| f.to_string())
    };
    let _ = writeln!(s, "formula:   {}", parsed(formula));
    if let Some(f2) = &a.reduction.formula2 {
        let _ = writeln!(s, "formula2:  {}", parsed(f2));
    }
    let (out_rows, over) = if k.axis == 1 { ("M", "j") } else { ("N", "i") };
    let _ = writeln!(
        s,
        "reduction: {} over {over} (axis {})",
        k.reduction, k.axis
    );
    let _ = writeln!(s, "variables:");
    for v in &k.ir.vars {
        let rows = match v.cat {
            Cat::Vi => "M × ".to_string(),
            Cat::Vj => "N × ".to_string(),
            Cat::Pm => String::new(),
        };
        let shape = if v.cat == Cat::Pm {
            format!("{} value(s)", v.dim)
        } else {
            format!("{rows}{}", v.dim)
        };
        let _ = writeln!(
            s,
            "  {:>2}  {:<8} {}  dim {:<3}  input: {shape}",
            v.index, v.name, v.cat, v.dim
        );
    }
    let _ = writeln!(s, "formula dimension: {}", k.dim());
    let cols = k.out_cols();
    let detail = match k.reduction.k() {
        Some(kk) => format!(" (K·D = {kk}·{}, k-major)", k.dim()),
        None if k.formula2.is_some() => " (the weights' dimension)".to_string(),
        None => String::new(),
    };
    let rows_of = if k.axis == 1 {
        "the rows of the Vi inputs"
    } else {
        "the rows of the Vj inputs"
    };
    let shape = format!("{out_rows} × {cols}{detail}, {out_rows} = {rows_of} (1 if none)");
    let what = match k.reduction.output_kind() {
        OutputKind::Values => format!("values, {shape}"),
        OutputKind::Indices => format!("int64 indices, {shape}"),
        OutputKind::ValuesIndices => {
            format!("values and int64 indices (OUT and OUT.indices.npy), each {shape}")
        }
    };
    let _ = writeln!(s, "output:    {what}");
    if let Some(line) = solve_line {
        s.push_str(&line);
    }
    let _ = writeln!(s, "IR ({} nodes):", k.ir.nodes.len());
    let _ = write!(s, "{}", k.ir);
    say(&s);
    Ok(())
}

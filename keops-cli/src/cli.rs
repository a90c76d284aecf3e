//! The command-line arguments (clap derive). Their doc comments are the `--help` text a terminal shows
//! as written, so reduction names stay bare (no Markdown backticks).
#![allow(
    clippy::doc_markdown,
    reason = "doc comments here are --help text, printed as written"
)]

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::npy::Dtype;

/// KeOps kernel operations over .npy files: reductions, kernel solves and formula checks.
#[derive(Debug, Parser)]
#[command(
    name = "keops",
    version,
    after_help = "Exit codes: 0 success; 1 numerical failure (a solve that did not converge); \
                  2 usage, formula, I/O or shape error."
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Computes a Genred reduction `out_i = Red_j F(x_i, y_j, ...)` (axis 1) or over i (axis 0).
    ///
    /// Writes the result to --out: the values for value reductions (Sum, Min, Max, KMin, LogSumExp,
    /// SumSoftMaxWeight), the indices as int64 for ArgMin, ArgMax and ArgKMin. Min_ArgMin, Max_ArgMax and
    /// KMin_ArgKMin write the values to --out and the indices (int64) to --indices-out, by default the
    /// --out path with `.npy` replaced by `.indices.npy` (out.npy -> out.indices.npy). KMin-type outputs
    /// have K·D columns, k-major (pykeops' layout).
    #[command(after_help = INPUT_HELP)]
    Reduce(ReduceArgs),
    /// Solves `(alpha·Id + K) a = b` by conjugate gradients, where `K a` is the formula summed over the
    /// reduced axis and linear in the variable named by --var.
    ///
    /// The right-hand side b is given in the solved variable's slot: `--var a --input a=b.npy`. The
    /// solution (the shape of b) goes to --out.
    ///
    /// --eps runs pykeops' KernelSolve semantics (x0 = 0, stop when the RMS of the recursive residual is
    /// below eps, so a b with RMS below eps gives zeros; at most min(10·N, 10000) iterations) and prints
    /// the true residual of the result. --rtol/--atol run the safe solver: each column stops when
    /// ‖b_j − A a_j‖ ≤ max(rtol·‖b_j‖, atol) on the recomputed residual; it prints the solve report, and
    /// if a column did not converge it still writes the last iterate and exits with code 1.
    /// A progress line appears on stderr (when it is a terminal) for solves longer than a second.
    #[command(after_help = INPUT_HELP)]
    Solve(SolveArgs),
    /// Parses and checks a formula without running it: prints the parsed formula, the variables with
    /// their dimensions and categories, the output shape rule and the IR.
    Check(CheckArgs),
}

const INPUT_HELP: &str = "Inputs: one `--input NAME=FILE.npy` per alias (NAME may also be the \
call position 0, 1, ...). Files hold float32 or float64, C or Fortran order, either byte order; Vi \
inputs are M × D, Vj inputs N × D, Pm inputs D values. 1-D files are read as a column (N,) -> N × 1 for \
a Vi/Vj of dimension 1, and as a row (D,) -> 1 × D for a Pm; a 0-D file is 1 × 1. All inputs must have \
the same dtype, which is the dtype of the computation and of the output, unless --dtype converts them.";

/// The formula and its aliases, shared by every subcommand.
#[derive(Debug, Args)]
pub struct FormulaArgs {
    /// The formula, in KeOps syntax, e.g. "Exp(-SqDist(x,y))*a".
    #[arg(long, value_name = "FORMULA")]
    pub formula: String,
    /// An alias, e.g. "x=Vi(3)", "y=Vj(3)", "p=Pm(1)" or "x=Vi(0,3)"; repeat for each variable, in call
    /// order.
    #[arg(long = "alias", value_name = "NAME=Vi(D)")]
    pub aliases: Vec<String>,
}

/// The reduction and its parameters.
#[derive(Debug, Args)]
pub struct ReductionArgs {
    /// The reduction: Sum, Min, Max, ArgMin, ArgMax, Min_ArgMin, Max_ArgMax, KMin, ArgKMin, KMin_ArgKMin,
    /// LogSumExp, SumSoftMaxWeight (K-type reductions need --k, or the spelling "KMin(3)").
    #[arg(long, value_name = "NAME", default_value = "Sum")]
    pub reduction: String,
    /// The K of KMin, ArgKMin and KMin_ArgKMin.
    #[arg(long, value_name = "K")]
    pub k: Option<usize>,
    /// The weight formula g of LogSumExp (log Σ_j exp(F) g_j) and SumSoftMaxWeight (required there).
    #[arg(long, value_name = "FORMULA")]
    pub formula2: Option<String>,
}

/// Inputs, output and run options of `reduce` and `solve`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// An input file for a variable: NAME=FILE.npy (repeat for each alias).
    #[arg(long = "input", value_name = "NAME=FILE.npy", value_parser = parse_input)]
    pub inputs: Vec<(String, PathBuf)>,
    /// The output file (.npy).
    #[arg(long, value_name = "FILE.npy")]
    pub out: PathBuf,
    /// Converts every input to this dtype (default: the inputs' own, which must agree).
    #[arg(long, value_enum)]
    pub dtype: Option<Dtype>,
    /// Where to run: auto (the GPU when this build has one, else the CPU), cpu, or gpu (device 0).
    #[arg(long, value_enum, default_value_t = BackendArg::Auto)]
    pub backend: BackendArg,
    /// Worker threads on the CPU (default: all cores).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub threads: Option<u32>,
}

/// The `--backend` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BackendArg {
    /// The GPU when usable, else the CPU.
    Auto,
    /// The CPU.
    Cpu,
    /// CUDA device 0 (an error when this build or this machine has none).
    Gpu,
}

/// Arguments of `keops reduce`.
#[derive(Debug, Args)]
pub struct ReduceArgs {
    /// The formula and aliases.
    #[command(flatten)]
    pub formula: FormulaArgs,
    /// The reduction.
    #[command(flatten)]
    pub reduction: ReductionArgs,
    /// 1: reduce over j (one output row per i); 0: reduce over i (one output row per j).
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=1))]
    pub axis: u8,
    /// Inputs, output, options.
    #[command(flatten)]
    pub run: RunArgs,
    /// Where the indices of Min_ArgMin, Max_ArgMax and KMin_ArgKMin go (default: OUT.indices.npy).
    #[arg(long, value_name = "FILE.npy")]
    pub indices_out: Option<PathBuf>,
}

/// Arguments of `keops solve`.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("tolerance").args(["eps", "rtol", "atol"]).required(true).multiple(true))]
pub struct SolveArgs {
    /// The formula and aliases.
    #[command(flatten)]
    pub formula: FormulaArgs,
    /// The solved variable (the formula must be linear in it); its --input holds the right-hand side b.
    #[arg(long, value_name = "NAME")]
    pub var: String,
    /// 1: K sums over j (the solved variable is a Vj); 0: over i (a Vi).
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=1))]
    pub axis: u8,
    /// The ridge alpha of (alpha·Id + K) (the default is pykeops').
    #[arg(long, default_value = "1e-10", allow_negative_numbers = true)]
    pub alpha: f64,
    /// pykeops' stopping rule: RMS of the recursive residual below EPS (x0 = 0, fixed iteration cap).
    #[arg(long, allow_negative_numbers = true, conflicts_with_all = ["rtol", "atol", "max_iter"])]
    pub eps: Option<f64>,
    /// The safe solver's relative tolerance per column (atol defaults to 0).
    #[arg(long, allow_negative_numbers = true)]
    pub rtol: Option<f64>,
    /// The safe solver's absolute tolerance per column (rtol defaults to 0 when only --atol is given).
    #[arg(long, allow_negative_numbers = true)]
    pub atol: Option<f64>,
    /// The safe solver's iteration cap (default min(10·N, 10000)).
    #[arg(long, value_name = "N")]
    pub max_iter: Option<usize>,
    /// Inputs, output, options.
    #[command(flatten)]
    pub run: RunArgs,
}

/// Arguments of `keops check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The formula and aliases.
    #[command(flatten)]
    pub formula: FormulaArgs,
    /// The reduction.
    #[command(flatten)]
    pub reduction: ReductionArgs,
    /// 1: reduce over j; 0: reduce over i.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(0..=1))]
    pub axis: u8,
    /// Also checks that the formula can be solved for this variable (linear in it, right category and
    /// dimension).
    #[arg(long, value_name = "NAME")]
    pub var: Option<String>,
}

/// Parses `NAME=FILE.npy` (the file name may itself contain `=`).
fn parse_input(s: &str) -> Result<(String, PathBuf), String> {
    let (name, path) = s
        .split_once('=')
        .ok_or_else(|| format!("expected NAME=FILE.npy, got `{s}`"))?;
    let name = name.trim();
    if name.is_empty() {
        return Err(format!("no variable name before `=` in `{s}`"));
    }
    if path.is_empty() {
        return Err(format!("no file after `=` in `{s}`"));
    }
    Ok((name.to_string(), PathBuf::from(path)))
}

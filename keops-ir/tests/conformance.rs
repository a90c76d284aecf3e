//! Conformance of the front end and the reference evaluator with pykeops 2.3.
//!
//! Every case of `tests/data/ops.json` (real pykeops 2.3 outputs, float64, CPU, copied into the
//! repository from the shared `cases/`, whose README describes the layout) goes through `Alias::parse`,
//! `Reduction::from_name`, `Kernel::build` and `reference::genred`:
//!
//! - a case with an `output` must build and match it (relative tolerance 1e-12, absolute 1e-12 near 0,
//!   NaN equals NaN, infinities exact, indices exact);
//! - a case with an `error` must fail too, with the `ErrorKind` listed in [`ERRORS`];
//! - the cases in [`DELIBERATE`] are where we differ from pykeops on purpose (its defects, or where we
//!   accept more); each is checked as its entry says, usually against an exact value computed here
//!   independently of keops-ir.
//!
//! Also pykeops' smoke test (`[63, 90]`) and the seed data in `tests/data/seed-N1000/`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use keops_ir::{Alias, ErrorKind, FormulaError, Kernel, OutputKind, Reduction, reference};
use serde_json::Value;

const RTOL: f64 = 1e-12;
const ATOL: f64 = 1e-12;

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/data")
}

// ---------------------------------------------------------------------------------------------------
// The cases

/// One case of ops.json.
struct Case {
    name: String,
    formula: String,
    formula2: Option<String>,
    aliases: Vec<String>,
    reduction: String,
    axis: usize,
    k: Option<usize>,
    args: Option<Vec<String>>,
    inputs: serde_json::Map<String, Value>,
    output: Option<Vec<Vec<f64>>>,
    error: Option<String>,
}

fn num(v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().expect("a number"),
        Value::String(s) => match s.as_str() {
            "inf" => f64::INFINITY,
            "-inf" => f64::NEG_INFINITY,
            "nan" => f64::NAN,
            _ => panic!("not a number: {s:?}"),
        },
        _ => panic!("not a number: {v}"),
    }
}

fn table(v: &Value) -> Vec<Vec<f64>> {
    v.as_array()
        .expect("a list of rows")
        .iter()
        .map(|r| r.as_array().expect("a row").iter().map(num).collect())
        .collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("a list")
        .iter()
        .map(|s| s.as_str().expect("a string").to_string())
        .collect()
}

impl Case {
    fn from_json(v: &Value) -> Case {
        let s = |k: &str| v[k].as_str().map(str::to_string);
        Case {
            name: s("name").expect("name"),
            formula: s("formula").expect("formula"),
            formula2: s("formula2"),
            aliases: strings(&v["aliases"]),
            reduction: s("reduction").expect("reduction"),
            axis: v["axis"].as_u64().expect("axis") as usize,
            k: v["k"].as_u64().map(|k| k as usize),
            args: v.get("args").map(strings),
            inputs: v["inputs"].as_object().expect("inputs").clone(),
            output: v.get("output").map(table),
            error: s("error"),
        }
    }

    /// The argument names in call order: `args` when present, else the alias names in order.
    fn call_order(&self) -> Vec<String> {
        match &self.args {
            Some(a) => a.clone(),
            None => self
                .aliases
                .iter()
                .map(|a| a.split('=').next().unwrap_or("").trim().to_string())
                .collect(),
        }
    }

    /// An input as rows (a parameter is one row).
    fn rows(&self, name: &str) -> Vec<Vec<f64>> {
        let v = &self.inputs[name];
        match v.as_array().and_then(|a| a.first()) {
            Some(Value::Array(_)) => table(v),
            _ => vec![v.as_array().expect("a list").iter().map(num).collect()],
        }
    }

    /// An input flattened row-major.
    fn flat(&self, name: &str) -> Vec<f64> {
        self.rows(name).concat()
    }
}

fn load_cases() -> Vec<Case> {
    let path = data_dir().join("ops.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let json: Value = serde_json::from_str(&text).expect("ops.json is JSON");
    json["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(Case::from_json)
        .collect()
}

// ---------------------------------------------------------------------------------------------------
// Building and running

/// Why a case did not build.
#[derive(Debug)]
enum Failure {
    /// An alias did not parse.
    Alias(FormulaError),
    /// `Reduction::from_name` returned `None`.
    NoSuchReduction,
    /// `Kernel::build` failed.
    Build(FormulaError),
}

impl Failure {
    fn kind(&self) -> Option<ErrorKind> {
        match self {
            Failure::Alias(e) | Failure::Build(e) => Some(e.kind),
            Failure::NoSuchReduction => None,
        }
    }

    fn describe(&self) -> String {
        match self {
            Failure::Alias(e) => format!("alias error {:?}: {}", e.kind, e.message),
            Failure::NoSuchReduction => "Reduction::from_name -> None".to_string(),
            Failure::Build(e) => format!("build error {:?}: {}", e.kind, e.message),
        }
    }
}

fn build(case: &Case) -> Result<Kernel, Failure> {
    let aliases: Vec<Alias> = case
        .aliases
        .iter()
        .map(|a| Alias::parse(a))
        .collect::<Result<_, _>>()
        .map_err(Failure::Alias)?;
    let red = Reduction::from_name(&case.reduction, case.k).ok_or(Failure::NoSuchReduction)?;
    Kernel::build(
        &case.formula,
        case.formula2.as_deref(),
        &aliases,
        red,
        case.axis,
    )
    .map_err(Failure::Build)
}

/// An output in the layout of ops.json (values, then indices as floats, per row), with a flag per
/// column saying whether it holds an index (compared exactly).
struct Table {
    rows: Vec<Vec<f64>>,
    index_col: Vec<bool>,
}

/// Runs the reference evaluator on the case's inputs, in call order.
fn run(case: &Case, kernel: &Kernel) -> Result<Table, String> {
    let order = case.call_order();
    if order.len() != kernel.ir.vars.len() {
        return Err(format!(
            "{} call arguments but the kernel has {} variables",
            order.len(),
            kernel.ir.vars.len()
        ));
    }
    let mut data = Vec::new();
    for (k, (v, name)) in kernel.ir.vars.iter().zip(&order).enumerate() {
        if v.index != k || &v.name != name {
            return Err(format!(
                "variable {k} is `{}` (index {}), the call passes `{name}`",
                v.name, v.index
            ));
        }
        let flat = case.flat(name);
        if !flat.len().is_multiple_of(v.dim) {
            return Err(format!(
                "input `{name}` has {} values, not a multiple of its dimension {}",
                flat.len(),
                v.dim
            ));
        }
        data.push(flat);
    }
    let refs: Vec<&[f64]> = data.iter().map(Vec::as_slice).collect();
    Ok(to_table(kernel, &reference::genred(kernel, &refs)))
}

fn to_table(kernel: &Kernel, out: &reference::RefOutput) -> Table {
    let kind = kernel.reduction.output_kind();
    let mut rows = Vec::with_capacity(out.rows);
    for r in 0..out.rows {
        let mut row = Vec::new();
        if let Some(v) = &out.values {
            row.extend_from_slice(&v[r * out.cols..(r + 1) * out.cols]);
        }
        if let Some(ix) = &out.indices {
            row.extend(
                ix[r * out.cols..(r + 1) * out.cols]
                    .iter()
                    .map(|&i| i as f64),
            );
        }
        rows.push(row);
    }
    let index_col = match kind {
        OutputKind::Values => vec![false; out.cols],
        OutputKind::Indices => vec![true; out.cols],
        OutputKind::ValuesIndices => [vec![false; out.cols], vec![true; out.cols]].concat(),
    };
    Table { rows, index_col }
}

fn close(want: f64, got: f64) -> bool {
    if want.is_nan() || got.is_nan() {
        return want.is_nan() && got.is_nan();
    }
    if want.is_infinite() || got.is_infinite() {
        return want == got;
    }
    let diff = (want - got).abs();
    diff <= ATOL || diff <= RTOL * want.abs().max(got.abs())
}

/// Compares with an expected table; `Err` describes the first mismatches.
fn compare(want: &[Vec<f64>], got: &Table) -> Result<(), String> {
    if want.len() != got.rows.len() {
        return Err(format!(
            "expected {} rows, got {}",
            want.len(),
            got.rows.len()
        ));
    }
    let mut bad = Vec::new();
    for (r, (w, g)) in want.iter().zip(&got.rows).enumerate() {
        if w.len() != g.len() {
            return Err(format!(
                "row {r}: expected {} columns, got {}",
                w.len(),
                g.len()
            ));
        }
        for (c, (&a, &b)) in w.iter().zip(g).enumerate() {
            let ok = if got.index_col[c] {
                a == b
            } else {
                close(a, b)
            };
            if !ok {
                bad.push(format!("[{r}][{c}] expected {a:e}, got {b:e}"));
            }
        }
    }
    if bad.is_empty() {
        Ok(())
    } else {
        let n = bad.len();
        bad.truncate(4);
        Err(format!("{n} mismatching entries: {}", bad.join("; ")))
    }
}

// ---------------------------------------------------------------------------------------------------
// Exact values, computed here without keops-ir, for the deliberate differences

/// `out[i] = Σ_j f(i, j)` over `ni × nj` pairs.
fn sum_ij(ni: usize, nj: usize, f: impl Fn(usize, usize) -> Vec<f64>) -> Vec<Vec<f64>> {
    (0..ni)
        .map(|i| {
            let mut acc = f(i, 0);
            for j in 1..nj {
                for (a, v) in acc.iter_mut().zip(f(i, j)) {
                    *a += v;
                }
            }
            acc
        })
        .collect()
}

fn zip_with(a: &[f64], b: &[f64], f: impl Fn(f64, f64) -> f64) -> Vec<f64> {
    a.iter().zip(b).map(|(&p, &q)| f(p, q)).collect()
}

fn sqdist(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(p, q)| (p - q) * (p - q)).sum()
}

/// `Σ_j f(x_i, y_j)` element-wise over Vi `x` and Vj `y`.
fn sum_xy(case: &Case, f: impl Fn(f64, f64) -> f64) -> Vec<Vec<f64>> {
    let (x, y) = (case.rows("x"), case.rows("y"));
    sum_ij(x.len(), y.len(), |i, j| zip_with(&x[i], &y[j], &f))
}

/// `RatCst(1,3)*x*y`.
fn exact_ratcst_third(c: &Case) -> Vec<Vec<f64>> {
    sum_xy(c, |x, y| x * y / 3.0)
}

/// `x/3+y`.
fn exact_div_three(c: &Case) -> Vec<Vec<f64>> {
    sum_xy(c, |x, y| x / 3.0 + y)
}

/// `x*IntInv(3)` with no j variable (N = 1).
fn exact_times_third(c: &Case) -> Vec<Vec<f64>> {
    c.rows("x").iter().map(|r| vec![r[0] / 3.0]).collect()
}

/// `Powf(x,y)`.
fn exact_powf(c: &Case) -> Vec<Vec<f64>> {
    sum_xy(c, f64::powf)
}

/// `Powf(x+y,p)` with a parameter p.
fn exact_powf_pm(c: &Case) -> Vec<Vec<f64>> {
    let p = c.rows("p")[0][0];
    sum_xy(c, |x, y| (x + y).powf(p))
}

/// `Powf(x,y)*w`, x and y of category i, w one j row.
fn exact_powf_edge(c: &Case) -> Vec<Vec<f64>> {
    let (x, y, w) = (c.rows("x"), c.rows("y"), c.rows("w"));
    sum_ij(x.len(), w.len(), |i, j| {
        vec![x[i][0].powf(y[i][0]) * w[j][0]]
    })
}

/// `LogSumExp` of `Log(x*y)`: `log Σ_j x_i y_j` (`-inf` when every term is 0).
fn exact_lse_log_xy(c: &Case) -> Vec<Vec<f64>> {
    let (x, y) = (c.rows("x"), c.rows("y"));
    x.iter()
        .map(|xi| vec![y.iter().map(|yj| xi[0] * yj[0]).sum::<f64>().ln()])
        .collect()
}

/// `SqDist(x,y)` summed over j (the `Vx`/`Vy` spelling).
fn exact_sqdist_sum(c: &Case) -> Vec<Vec<f64>> {
    let (x, y) = (c.rows("x"), c.rows("y"));
    sum_ij(x.len(), y.len(), |i, j| vec![sqdist(&x[i], &y[j])])
}

/// `SqDist(x,y)*b` summed over j (the `a = Var(...)` spelling).
fn exact_sqdist_b_sum(c: &Case) -> Vec<Vec<f64>> {
    let (x, y, b) = (c.rows("x"), c.rows("y"), c.rows("b"));
    sum_ij(x.len(), y.len(), |i, j| {
        vec![sqdist(&x[i], &y[j]) * b[j][0]]
    })
}

/// `2.5*x+y`.
fn exact_float_literal(c: &Case) -> Vec<Vec<f64>> {
    sum_xy(c, |x, y| 2.5 * x + y)
}

/// `x+0.5-y`.
fn exact_float_literal_add(c: &Case) -> Vec<Vec<f64>> {
    sum_xy(c, |x, y| x + 0.5 - y)
}

/// `(x-y)**0.5` (NaN for negative differences).
fn exact_float_pow(c: &Case) -> Vec<Vec<f64>> {
    sum_xy(c, |x, y| (x - y).sqrt())
}

/// `2**(x-y)`.
fn exact_rpow(c: &Case) -> Vec<Vec<f64>> {
    sum_xy(c, |x, y| (x - y).exp2())
}

/// The K smallest `SqDist(x_i, y_j)` over j with their indices (ties by index), values then indices.
fn exact_kmin_sqdist(c: &Case, k: usize) -> Vec<Vec<f64>> {
    let (x, y) = (c.rows("x"), c.rows("y"));
    x.iter()
        .map(|xi| {
            let mut d: Vec<(f64, usize)> = y
                .iter()
                .enumerate()
                .map(|(j, yj)| (sqdist(xi, yj), j))
                .collect();
            d.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let d = &d[..k];
            d.iter()
                .map(|p| p.0)
                .chain(d.iter().map(|p| p.1 as f64))
                .collect()
        })
        .collect()
}

fn exact_min_argmin_sqdist(c: &Case) -> Vec<Vec<f64>> {
    exact_kmin_sqdist(c, 1)
}

fn exact_kmin2_argkmin_sqdist(c: &Case) -> Vec<Vec<f64>> {
    exact_kmin_sqdist(c, c.k.expect("k"))
}

// ---------------------------------------------------------------------------------------------------
// The deliberate differences and the expected errors

/// How a case of [`DELIBERATE`] is checked.
enum Check {
    /// Built and compared with an exact value computed in this file, not with pykeops' output (which,
    /// when present, must differ from ours: otherwise the entry is stale).
    Exact(fn(&Case) -> Vec<Vec<f64>>),
    /// `Kernel::build` (or alias parsing) fails with this kind.
    Fails(ErrorKind),
    /// `Reduction::from_name` returns `None`.
    NoSuchReduction,
    /// The reference evaluator matches pykeops; the difference is elsewhere (see the reason).
    AsKeops,
}

/// One deliberate difference from pykeops 2.3 (keops-semantics.md §13, cases/README.md).
struct Deliberate {
    name: &'static str,
    check: Check,
    reason: &'static str,
}

/// Every case where keops-rs differs from pykeops 2.3 on purpose, with the reason.
#[rustfmt::skip]
const DELIBERATE: &[Deliberate] = &[
    // KeOps emits rational constants and calls powf in float32, even in float64 kernels.
    Deliberate { name: "const/RatCst-third", check: Check::Exact(exact_ratcst_third), reason: "KeOps' RatCst(1,3) is a float32 literal; ours is the f64 quotient" },
    Deliberate { name: "const/RatCst-div-int", check: Check::Exact(exact_div_three), reason: "KeOps turns x/3 into a float32 RatCst(1,3)*x; we divide in f64" },
    Deliberate { name: "edge/RatCst-third-exact", check: Check::Exact(exact_times_third), reason: "KeOps' IntInv(3) is a float32 literal (3*IntInv(3) = 1.0000000298)" },
    Deliberate { name: "op/Powf", check: Check::Exact(exact_powf), reason: "KeOps calls float32 powf in float64 kernels" },
    Deliberate { name: "op/Powf-pm", check: Check::Exact(exact_powf_pm), reason: "KeOps calls float32 powf in float64 kernels" },
    Deliberate { name: "edge/Powf", check: Check::Exact(exact_powf_edge), reason: "KeOps calls float32 powf (Powf(2, 0.5) = 1.41421353816986)" },
    // LogSumExp: KeOps computes exp(-inf - -inf) = NaN when a row starts with -inf terms.
    Deliberate { name: "red-edge/LogSumExp-all-neg-inf", check: Check::Exact(exact_lse_log_xy), reason: "KeOps gives NaN when the first terms are -inf; log(0) is -inf" },
    Deliberate { name: "red-edge/LogSumExp-some-neg-inf", check: Check::Exact(exact_lse_log_xy), reason: "KeOps gives NaN when the first terms are -inf; the -inf terms add nothing" },
    // Raw accumulators of the internal reductions are not a user-facing reduction here.
    Deliberate { name: "red/LogSumExpWeight-axis1", check: Check::NoSuchReduction, reason: "KeOps returns the raw (max, sums) accumulator; use LogSumExp with formula2" },
    Deliberate { name: "red/Max_SumShiftExp-raw", check: Check::NoSuchReduction, reason: "internal KeOps reduction (raw accumulator), not offered" },
    Deliberate { name: "red/Max_SumShiftExpWeight-raw", check: Check::NoSuchReduction, reason: "internal KeOps reduction (raw accumulator), not offered" },
    // K > N: the reference pads as KeOps does; the run-time API refuses Arg-type K > N instead.
    Deliberate { name: "red-edge/KMin-K-gt-N", check: Check::AsKeops, reason: "reference pads with inf like KeOps; the runtime returns Error::Shape for K > N" },
    Deliberate { name: "red-edge/ArgKMin-K-gt-N", check: Check::AsKeops, reason: "reference pads with index 0 like KeOps; the runtime returns Error::Shape for K > N" },
    Deliberate { name: "red-edge/KMin_ArgKMin-K-gt-N", check: Check::AsKeops, reason: "reference pads with inf / index 0 like KeOps; the runtime returns Error::Shape for K > N" },
    // Not implemented yet.
    Deliberate { name: "op/SoftDTW_SqDist", check: Check::Fails(ErrorKind::Unsupported), reason: "SoftDTW_SqDist is not implemented yet" },
    Deliberate { name: "op/BSpline-order2", check: Check::Fails(ErrorKind::Unsupported), reason: "BSpline is not implemented yet (KeOps cannot compile it in float64)" },
    Deliberate { name: "op/BSpline-order0", check: Check::Fails(ErrorKind::Unsupported), reason: "BSpline is not implemented yet (KeOps cannot compile it in float64)" },
    Deliberate { name: "autodiff/Grad", check: Check::Fails(ErrorKind::Unsupported), reason: "symbolic differentiation is not implemented yet" },
    Deliberate { name: "autodiff/Grad-axis0", check: Check::Fails(ErrorKind::Unsupported), reason: "symbolic differentiation is not implemented yet" },
    Deliberate { name: "autodiff/Diff", check: Check::Fails(ErrorKind::Unsupported), reason: "symbolic differentiation is not implemented yet" },
    Deliberate { name: "autodiff/GradMatrix", check: Check::Fails(ErrorKind::Unsupported), reason: "symbolic differentiation is not implemented yet" },
    Deliberate { name: "autodiff/Divergence", check: Check::Fails(ErrorKind::Unsupported), reason: "symbolic differentiation is not implemented yet" },
    Deliberate { name: "autodiff/Laplacian", check: Check::Fails(ErrorKind::Unsupported), reason: "symbolic differentiation is not implemented yet" },
    Deliberate { name: "autodiff/TraceOperator", check: Check::Fails(ErrorKind::Unsupported), reason: "linear operators are not implemented yet" },
    Deliberate { name: "autodiff/AdjointOperator", check: Check::Fails(ErrorKind::Unsupported), reason: "linear operators are not implemented yet" },
    // Spellings KeOps documents but rejects at call time: we accept them.
    Deliberate { name: "syntax/Vx-Vy", check: Check::Exact(exact_sqdist_sum), reason: "documented Vx/Vy alias spellings fail in pykeops 2.3; we accept them" },
    Deliberate { name: "syntax/Var-alias", check: Check::Exact(exact_sqdist_b_sum), reason: "documented `a = Var(ind,dim,cat)` aliases fail in pykeops 2.3; we accept them" },
    // Where we accept more than KeOps (DESIGN.md: float literals, Powf via **, underscore-less names).
    Deliberate { name: "error/float-literal", check: Check::Exact(exact_float_literal), reason: "float literals are constants of the scalar type" },
    Deliberate { name: "error/float-literal-add", check: Check::Exact(exact_float_literal_add), reason: "float literals are constants of the scalar type" },
    Deliberate { name: "error/float-pow", check: Check::Exact(exact_float_pow), reason: "f ** 0.5 means Powf(f, 0.5) (KeOps' __pow__ raises)" },
    Deliberate { name: "error/rpow", check: Check::Exact(exact_rpow), reason: "2 ** f means Powf(2, f) (KeOps has no __rpow__)" },
    Deliberate { name: "error/MinArgMin-name", check: Check::Exact(exact_min_argmin_sqdist), reason: "MinArgMin is accepted as Min_ArgMin (pykeops accepts the name, then fails)" },
    Deliberate { name: "error/KMinArgKMin-name", check: Check::Exact(exact_kmin2_argkmin_sqdist), reason: "KMinArgKMin is accepted as KMin_ArgKMin (pykeops accepts the name, then fails)" },
];

/// What each `error` case of ops.json must give here (besides those in [`DELIBERATE`]).
enum Expect {
    Kind(ErrorKind),
    NoSuchReduction,
}

#[rustfmt::skip]
const ERRORS: &[(&str, Expect)] = &[
    ("error/dim-mismatch-mult", Expect::Kind(ErrorKind::Dimension)),
    ("error/dim-mismatch-add", Expect::Kind(ErrorKind::Dimension)),
    ("error/unknown-op", Expect::Kind(ErrorKind::UnknownOp)),
    ("error/unknown-variable", Expect::Kind(ErrorKind::UnknownVariable)),
    ("error/GaussKernel", Expect::Kind(ErrorKind::UnknownOp)),
    ("error/GradFromPos", Expect::Kind(ErrorKind::UnknownOp)),
    ("error/Ind", Expect::Kind(ErrorKind::Parameter)),
    ("error/xor", Expect::Kind(ErrorKind::Parse)),
    ("error/python-eq", Expect::Kind(ErrorKind::Parse)),
    ("error/Rational", Expect::Kind(ErrorKind::UnknownOp)),
    ("error/divide-by-zero", Expect::Kind(ErrorKind::Dimension)),
    ("error/Elem-out-of-range", Expect::Kind(ErrorKind::Parameter)),
    ("error/Extract-out-of-range", Expect::Kind(ErrorKind::Parameter)),
    ("error/ExtractT-out-of-range", Expect::Kind(ErrorKind::Parameter)),
    ("error/Scalprod-dims", Expect::Kind(ErrorKind::Dimension)),
    ("error/SqDist-dims", Expect::Kind(ErrorKind::Dimension)),
    ("error/MatVecMult-dims", Expect::Kind(ErrorKind::Dimension)),
    ("error/TensorDot-dims", Expect::Kind(ErrorKind::Dimension)),
    ("error/SumT-vector", Expect::Kind(ErrorKind::Dimension)),
    ("error/OneHot-vector", Expect::Kind(ErrorKind::Dimension)),
    ("error/ElemT-vector", Expect::Kind(ErrorKind::Dimension)),
    ("error/WeightedSqNorm-bad-weight", Expect::Kind(ErrorKind::Dimension)),
    ("error/Complex-odd-dim", Expect::Kind(ErrorKind::Dimension)),
    ("error/BSpline-vector-x", Expect::Kind(ErrorKind::Unsupported)),
    ("error/Grad-wrt-Pm-no-e", Expect::Kind(ErrorKind::Unsupported)),
    ("error/Laplacian-vector", Expect::Kind(ErrorKind::Unsupported)),
    ("error/TraceOperator-MatVecMult", Expect::Kind(ErrorKind::Unsupported)),
    ("error/LogSumExp-vector-formula", Expect::Kind(ErrorKind::Reduction)),
    ("error/SumSoftMaxWeight-vector-formula", Expect::Kind(ErrorKind::Reduction)),
    ("error/LogSumExpWeight-no-formula2", Expect::NoSuchReduction),
    ("error/unknown-reduction", Expect::NoSuchReduction),
    ("error/KMin-no-k", Expect::NoSuchReduction),
    ("error/axis-2", Expect::Kind(ErrorKind::Reduction)),
    ("error/explicit-index-gap", Expect::Kind(ErrorKind::Alias)),
];

// ---------------------------------------------------------------------------------------------------
// The tests

#[derive(Default)]
struct Tally {
    passed: usize,
    deliberate: usize,
    errors: usize,
    failures: Vec<String>,
}

/// Checks one case of [`DELIBERATE`].
fn check_deliberate(case: &Case, d: &Deliberate, t: &mut Tally) -> Result<(), String> {
    let built = build(case);
    match (&d.check, built) {
        (Check::Fails(kind), Err(f)) if f.kind() == Some(*kind) => Ok(()),
        (Check::Fails(kind), Err(f)) => {
            Err(format!("expected a {kind:?} error, got {}", f.describe()))
        }
        (Check::Fails(kind), Ok(_)) => Err(format!("expected a {kind:?} error, but it built")),
        (Check::NoSuchReduction, Err(Failure::NoSuchReduction)) => {
            assert!(Reduction::from_name(&case.reduction, case.k).is_none());
            Ok(())
        }
        (Check::NoSuchReduction, other) => Err(format!(
            "expected Reduction::from_name to refuse `{}`, got {:?}",
            case.reduction,
            other.err()
        )),
        (_, Err(f)) => Err(format!("expected it to build, got {}", f.describe())),
        (Check::AsKeops, Ok(k)) => {
            let want = case
                .output
                .as_ref()
                .ok_or("no pykeops output to compare with")?;
            compare(want, &run(case, &k)?)
        }
        (Check::Exact(exact), Ok(k)) => {
            let got = run(case, &k)?;
            let want = exact(case);
            compare(&want, &got).map_err(|e| format!("against the exact value: {e}"))?;
            if let Some(keops) = &case.output {
                // The difference must be real (or the entry is stale), and pykeops' value must be the
                // exact one up to its defect: float32 rounding, or NaN where the exact value is not.
                if compare(keops, &got).is_ok() {
                    t.failures.push(format!(
                        "{}: stale DELIBERATE entry: ours matches pykeops",
                        case.name
                    ));
                }
                for (w, k) in want.iter().flatten().zip(keops.iter().flatten()) {
                    let f32_close = (w - k).abs() <= 1e-6 * w.abs().max(1.0);
                    if !(f32_close || k.is_nan() || w == k) {
                        return Err(format!(
                            "pykeops gives {k:e} where the exact value is {w:e}: not the known defect"
                        ));
                    }
                }
            }
            Ok(())
        }
    }
}

#[test]
fn ops_json_conformance() {
    let cases = load_cases();
    assert_eq!(cases.len(), 312, "ops.json holds 312 cases");
    let by_name: BTreeMap<&str, &Case> = cases.iter().map(|c| (c.name.as_str(), c)).collect();
    for d in DELIBERATE {
        assert!(
            by_name.contains_key(d.name),
            "DELIBERATE names an unknown case {}",
            d.name
        );
        assert!(!d.reason.is_empty());
    }
    for (name, _) in ERRORS {
        assert!(
            by_name.get(name).is_some_and(|c| c.error.is_some()),
            "ERRORS names {name}, not an error case"
        );
    }
    let mut t = Tally::default();
    for case in &cases {
        if let Some(d) = DELIBERATE.iter().find(|d| d.name == case.name) {
            match check_deliberate(case, d, &mut t) {
                Ok(()) => t.deliberate += 1,
                Err(e) => t
                    .failures
                    .push(format!("{} (deliberate: {}): {e}", case.name, d.reason)),
            }
            continue;
        }
        if let Some(msg) = &case.error {
            let Some((_, expect)) = ERRORS.iter().find(|(n, _)| *n == case.name) else {
                t.failures.push(format!(
                    "{}: pykeops errors ({msg}); add the expected kind to ERRORS",
                    case.name
                ));
                continue;
            };
            match (expect, build(case)) {
                (Expect::Kind(kind), Err(f)) if f.kind() == Some(*kind) => t.errors += 1,
                (Expect::NoSuchReduction, Err(Failure::NoSuchReduction)) => t.errors += 1,
                (Expect::Kind(kind), Err(f)) => t.failures.push(format!(
                    "{}: expected a {kind:?} error, got {}",
                    case.name,
                    f.describe()
                )),
                (Expect::NoSuchReduction, Err(f)) => t.failures.push(format!(
                    "{}: expected Reduction::from_name to refuse it, got {}",
                    case.name,
                    f.describe()
                )),
                (_, Ok(_)) => t.failures.push(format!(
                    "{}: pykeops errors ({msg}) but it built",
                    case.name
                )),
            }
            continue;
        }
        let want = case
            .output
            .as_ref()
            .expect("a case has an output or an error");
        let res = build(case)
            .map_err(|f| format!("does not build: {}", f.describe()))
            .and_then(|k| run(case, &k))
            .and_then(|got| compare(want, &got));
        match res {
            Ok(()) => t.passed += 1,
            Err(e) => t.failures.push(format!(
                "{} (`{}`, {}): {e}",
                case.name, case.formula, case.reduction
            )),
        }
    }
    println!(
        "ops.json conformance: {} cases: {} passed against pykeops, {} deliberate differences checked, {} errors matched, {} failures",
        cases.len(),
        t.passed,
        t.deliberate,
        t.errors,
        t.failures.len()
    );
    println!("deliberate differences from pykeops 2.3:");
    for d in DELIBERATE {
        println!("  {:<36} {}", d.name, d.reason);
    }
    assert!(
        t.failures.is_empty(),
        "{} failing cases:\n  {}",
        t.failures.len(),
        t.failures.join("\n  ")
    );
    assert_eq!(t.passed + t.deliberate + t.errors, cases.len());
}

/// pykeops' installation smoke test (`pykeops/numpy/test_install.py`).
#[test]
fn smoke_63_90() {
    let aliases = ["x = Vi(3)", "y = Vj(3)"].map(|a| Alias::parse(a).unwrap());
    let k = Kernel::build("SqNorm2(x - y)", None, &aliases, Reduction::Sum, 0).unwrap();
    let x: Vec<f64> = (1..=9).map(f64::from).collect();
    let y: Vec<f64> = (3..=8).map(f64::from).collect();
    let out = reference::genred(&k, &[&x, &y]);
    assert_eq!((out.rows, out.cols), (2, 1));
    assert_eq!(out.values.unwrap(), vec![63.0, 90.0]);
    assert!(out.indices.is_none());
}

// ---------------------------------------------------------------------------------------------------
// The seed data

/// A little-endian float64 C-order `.npy` file (format 1.0 or 2.0): its shape and values.
fn read_npy(path: &std::path::Path) -> (Vec<usize>, Vec<f64>) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    assert_eq!(
        &bytes[..6],
        b"\x93NUMPY",
        "{}: not a .npy file",
        path.display()
    );
    let (hlen, hstart) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => panic!("{}: unknown .npy version {v}", path.display()),
    };
    let header = std::str::from_utf8(&bytes[hstart..hstart + hlen]).expect("an ASCII header");
    assert!(
        header.contains("'descr': '<f8'"),
        "{}: not little-endian float64: {header}",
        path.display()
    );
    assert!(
        header.contains("'fortran_order': False"),
        "{}: not C order: {header}",
        path.display()
    );
    let shape_at = header.find("'shape': (").expect("a shape") + "'shape': (".len();
    let shape_end = shape_at + header[shape_at..].find(')').expect("a closing parenthesis");
    let shape: Vec<usize> = header[shape_at..shape_end]
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().expect("a dimension"))
        .collect();
    let data = &bytes[hstart + hlen..];
    let n: usize = shape.iter().product();
    assert_eq!(
        data.len(),
        8 * n,
        "{}: {} data bytes for shape {shape:?}",
        path.display(),
        data.len()
    );
    let values = data
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
        .collect();
    (shape, values)
}

/// The reference on the seed inputs `(x, x, b)` against pykeops' `Exp(-Norm2(x - y)) * a` and
/// `Exp(-SqDist(x,y)) * a`, Sum over j (axis 1), N = 1000: relative Frobenius error < 1e-12.
///
/// All 1000 rows (10⁶ kernel evaluations per formula) take about a second in the test profile, so no
/// subset is needed.
#[test]
fn seed_n1000_matches_pykeops() {
    let dir = data_dir().join("seed-N1000");
    let (xs, x) = read_npy(&dir.join("x.npy"));
    let (bs, b) = read_npy(&dir.join("b.npy"));
    assert_eq!((xs, bs), (vec![1000, 3], vec![1000, 2]));
    let aliases = ["x = Vi(3)", "y = Vj(3)", "a = Vj(2)"].map(|a| Alias::parse(a).unwrap());
    for (formula, file) in [
        ("Exp(-Norm2(x - y)) * a", "K_exp_x_x_b.npy"),
        ("Exp(-SqDist(x,y)) * a", "K_gauss_x_x_b.npy"),
    ] {
        let (ks, want) = read_npy(&dir.join(file));
        assert_eq!(ks, vec![1000, 2]);
        let k = Kernel::build(formula, None, &aliases, Reduction::Sum, 1).unwrap();
        let out = reference::genred(&k, &[&x, &x, &b]);
        assert_eq!((out.rows, out.cols), (1000, 2));
        let got = out.values.unwrap();
        let err: f64 = want
            .iter()
            .zip(&got)
            .map(|(w, g)| (w - g) * (w - g))
            .sum::<f64>()
            .sqrt();
        let norm: f64 = want.iter().map(|w| w * w).sum::<f64>().sqrt();
        println!("{formula}: relative Frobenius error {:.3e}", err / norm);
        assert!(
            err / norm < 1e-12,
            "{formula}: relative error {:e}",
            err / norm
        );
    }
}

//! The run-time interpreter (`keops::Genred`) against the reference evaluator: every operation of the
//! formula language (the cases of `tests/data/ops.json`), random-data kernels with every reduction on
//! both axes at every SIMD level, `with_formula2`, and the typed calls `call_indices` /
//! `call_values_indices` with their wrong-kind errors.

use std::panic::{AssertUnwindSafe, catch_unwind};

use keops::{Error, Genred, Options, Real, Reduction, ValuesIndices};
use keops_ir::{Cat, ErrorKind, Kernel};
use ndarray::Array2;
use serde_json::Value;

use crate::support::*;

// ---------------------------------------------------------------------------------------------------
// ops.json

/// A runnable case of `ops.json`.
struct OpCase {
    name: String,
    genred: Genred,
    inputs: Vec<Array2<f64>>,
}

fn num(v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().expect("a finite number"),
        Value::String(s) => match s.as_str() {
            "inf" => f64::INFINITY,
            "-inf" => f64::NEG_INFINITY,
            "nan" => f64::NAN,
            other => panic!("not a number: {other}"),
        },
        other => panic!("not a number: {other}"),
    }
}

/// A JSON input: a list of rows (`Vi`/`Vj`) or a flat list (`Pm`: one row).
fn array(v: &Value) -> Array2<f64> {
    let list = v.as_array().expect("an input is a list");
    if list.first().is_some_and(Value::is_array) {
        let rows: Vec<Vec<f64>> = list
            .iter()
            .map(|r| r.as_array().expect("a row").iter().map(num).collect())
            .collect();
        let cols = rows.first().map_or(0, Vec::len);
        Array2::from_shape_vec((rows.len(), cols), rows.concat()).expect("rectangular input")
    } else {
        Array2::from_shape_vec((1, list.len()), list.iter().map(num).collect())
            .expect("a flat list")
    }
}

/// Loads the cases of `ops.json` that our front end accepts and whose reduction passes `keep`. Returns
/// the runnable cases, the names of the skipped ones with the reason (error cases, reduction names we do
/// not have, unsupported ops), and the cases our front end rejected although pykeops accepts them.
fn load_ops(keep: impl Fn(Reduction) -> bool) -> (Vec<OpCase>, Vec<String>, Vec<String>) {
    let path = data_path("ops.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let root: Value = serde_json::from_str(&text).expect("ops.json is JSON");
    let mut cases = Vec::new();
    let mut skipped = Vec::new();
    let mut rejected = Vec::new();
    for c in root["cases"].as_array().expect("a list of cases") {
        let name = c["name"].as_str().expect("a name").to_string();
        if c.get("error").is_some() {
            skipped.push(format!("{name}: pykeops error case"));
            continue;
        }
        let formula = c["formula"].as_str().expect("a formula");
        let aliases: Vec<&str> = c["aliases"]
            .as_array()
            .expect("aliases")
            .iter()
            .map(|a| a.as_str().expect("an alias"))
            .collect();
        let k = c.get("k").and_then(Value::as_u64).map(|k| k as usize);
        let red_name = c["reduction"].as_str().expect("a reduction");
        let Some(red) = Reduction::from_name(red_name, k) else {
            skipped.push(format!("{name}: reduction `{red_name}` is not ours"));
            continue;
        };
        if !keep(red) {
            continue;
        }
        let axis = c["axis"].as_u64().expect("an axis") as usize;
        let built = Genred::new(formula, &aliases, red, axis).and_then(|g| {
            match c.get("formula2").and_then(Value::as_str) {
                Some(f2) => g.with_formula2(f2),
                None => Ok(g),
            }
        });
        let genred = match built {
            Ok(g) => g,
            Err(Error::Formula(e)) if e.kind == ErrorKind::Unsupported => {
                skipped.push(format!("{name}: unsupported: {}", e.message));
                continue;
            }
            Err(e) => {
                eprintln!("{name}: `{formula}` was rejected: {e}");
                rejected.push(name);
                continue;
            }
        };
        let inputs_obj = c["inputs"].as_object().expect("inputs");
        let args: Option<Vec<&str>> = c.get("args").map(|a| {
            a.as_array()
                .expect("args")
                .iter()
                .map(|s| s.as_str().expect("an arg"))
                .collect()
        });
        let inputs = genred
            .kernel()
            .ir
            .vars
            .iter()
            .map(|v| {
                let key = if inputs_obj.contains_key(&v.name) {
                    v.name.as_str()
                } else {
                    args.as_ref()
                        .and_then(|a| a.get(v.index).copied())
                        .unwrap_or_else(|| panic!("{name}: no input for `{}`", v.name))
                };
                let a = array(&inputs_obj[key]);
                assert_eq!(
                    a.ncols(),
                    v.dim,
                    "{name}: input `{key}` has {} columns, alias says {}",
                    a.ncols(),
                    v.dim
                );
                if v.cat == Cat::Pm {
                    assert_eq!(a.nrows(), 1, "{name}: parameter `{key}`");
                }
                a
            })
            .collect();
        cases.push(OpCase {
            name,
            genred,
            inputs,
        });
    }
    (cases, skipped, rejected)
}

/// The f32 tolerance of an `ops.json` case: 1e-4 relative (∞-norm of the output) by default: the
/// interpreter evaluates in f32, the reference in f64 on the same f32-rounded inputs, rounded to f32 at
/// the end. Looser tolerances, each with its reason:
fn f32_tol(name: &str) -> f64 {
    match name {
        // `Round(x, 2)` is discontinuous: f32(0.145) = 0.14499999583 and the exact 100·x = 14.4999996
        // rounds to 14, but the f32 product 100·x rounds to exactly 14.5 (half an ulp away), which
        // rounds to 15. One entry is off by one unit of the last decimal kept, 0.01 of an output whose
        // largest entry is 2.68: allow that (3.8e-3), not more.
        "edge/Round-2" => 4e-3,
        _ => 1e-4,
    }
}

/// The f64 tolerance of an `ops.json` case: 1e-12 relative (∞-norm of the output); no exceptions.
fn f64_tol(_name: &str) -> f64 {
    1e-12
}

fn run_case<T: Real>(case: &OpCase, rtol: f64) {
    let g = &case.genred;
    let k = g.kernel();
    check_backend::<T>(&case.name, k, &case.inputs, &simd_opts(), rtol, &|o, a| {
        call_genred(g, o, a)
    });
}

/// Runs the cases of `ops.json` whose reduction passes `keep` in f64 and f32 at every SIMD level;
/// collects the failures so that one run names them all.
fn check_ops_json(keep: impl Fn(Reduction) -> bool, min_cases: usize) {
    let (cases, skipped, rejected) = load_ops(keep);
    for s in &skipped {
        eprintln!("skipped {s}");
    }
    // A front end that rejected everything would "pass": require the bulk of the file to be there.
    assert!(
        cases.len() + rejected.len() >= min_cases,
        "only {} cases of ops.json kept",
        cases.len() + rejected.len()
    );
    let mut failed: Vec<String> = rejected
        .iter()
        .map(|n| format!("{n}: rejected by Genred::new"))
        .collect();
    for case in &cases {
        for (dtype, res) in [
            (
                "f64",
                catch_unwind(AssertUnwindSafe(|| {
                    run_case::<f64>(case, f64_tol(&case.name))
                })),
            ),
            (
                "f32",
                catch_unwind(AssertUnwindSafe(|| {
                    run_case::<f32>(case, f32_tol(&case.name))
                })),
            ),
        ] {
            if res.is_err() {
                failed.push(format!(
                    "{} [{dtype}] `{}`",
                    case.name,
                    case.genred.kernel().reduction
                ));
            }
        }
    }
    assert!(
        failed.is_empty(),
        "{} failing ops.json cases (messages above):\n  {}",
        failed.len(),
        failed.join("\n  ")
    );
}

#[test]
fn every_op_of_ops_json_matches_reference() {
    // SumSoftMaxWeight cases: see `softmax_cases_of_ops_json_match_reference`.
    check_ops_json(|r| r != Reduction::SumSoftMaxWeight, 200);
}

#[test]
fn softmax_cases_of_ops_json_match_reference() {
    check_ops_json(|r| r == Reduction::SumSoftMaxWeight, 4);
}

// ---------------------------------------------------------------------------------------------------
// Random data: kernels, every reduction, both axes, every SIMD level

/// The reductions of [`Reduction::ALL`] plus K = 3 and K = 1 for the K family.
fn all_reductions() -> Vec<Reduction> {
    let mut v = Reduction::ALL.to_vec();
    v.extend([
        Reduction::KMin(3),
        Reduction::ArgKMin(1),
        Reduction::KMinArgKMin(3),
    ]);
    v
}

/// The run-time Genred of a kernel family for a reduction: the D = 2 kernel `K(x, y) * b` for the
/// vectorised reductions, the scalar exponent `-d(x, y)` (with weights `b` for the weighted ones) for
/// `LogSumExp` and `SumSoftMaxWeight`. `b` is indexed by the reduced axis.
fn kernel_genred(dist: &str, red: Reduction, axis: usize, weighted_lse: bool) -> Genred {
    let b = if axis == 1 { "b = Vj(2)" } else { "b = Vi(2)" };
    let aliases = ["x = Vi(3)", "y = Vj(3)", b];
    match red {
        Reduction::LogSumExp | Reduction::SumSoftMaxWeight => {
            let g = Genred::new(&format!("-{dist}"), &aliases, red, axis).expect("valid formula");
            if weighted_lse || red == Reduction::SumSoftMaxWeight {
                g.with_formula2("b").expect("valid weights")
            } else {
                g
            }
        }
        _ => Genred::new(&format!("Exp(-{dist}) * b"), &aliases, red, axis).expect("valid formula"),
    }
}

fn random_inputs(k: &Kernel, m: usize, n: usize, seed: u64) -> Vec<Array2<f64>> {
    let mut r = rng(seed);
    k.ir.vars
        .iter()
        .map(|v| match v.cat {
            Cat::Vi => randn(&mut r, m, v.dim),
            Cat::Vj => randn(&mut r, n, v.dim),
            Cat::Pm => uniform(&mut r, 1, v.dim, 0.5, 1.5),
        })
        .collect()
}

/// The Gaussian and exponential kernels with the given reductions, both axes, every SIMD level (and
/// every sum scheme for sum-type reductions), f64 and f32.
fn check_kernels(reductions: &[Reduction]) {
    let sizes = [
        (37, 53),
        (53, 37),
        (37, 5),
        (5, 37),
        (29, 1),
        (1, 29),
        (40, 33),
    ];
    let mut seed = 100;
    for dist in ["SqDist(x, y)", "Norm2(x - y)"] {
        for &red in reductions {
            for axis in [0, 1] {
                for weighted in [false, true] {
                    if weighted && red != Reduction::LogSumExp {
                        continue;
                    }
                    let g = kernel_genred(dist, red, axis, weighted);
                    let k = g.kernel();
                    let opts = opts_for(red);
                    for &(m, n) in &sizes {
                        seed += 1;
                        let inputs = random_inputs(k, m, n, seed);
                        let what =
                            format!("{dist} {red} axis {axis} weighted {weighted} M={m} N={n}");
                        let run64 = |o: &Options<'_>, a: &[Array2<f64>]| call_genred(&g, o, a);
                        let run32 = |o: &Options<'_>, a: &[Array2<f32>]| call_genred(&g, o, a);
                        check_backend::<f64>(&what, k, &inputs, &opts, tol::<f64>(), &run64);
                        check_backend::<f32>(&what, k, &inputs, &opts, tol::<f32>(), &run32);
                    }
                }
            }
        }
    }
}

#[test]
fn kernels_with_every_reduction_both_axes_every_simd_level() {
    // SumSoftMaxWeight: see `softmax_kernels_match_reference`.
    let reds: Vec<Reduction> = all_reductions()
        .into_iter()
        .filter(|&r| r != Reduction::SumSoftMaxWeight)
        .collect();
    check_kernels(&reds);
}

#[test]
fn softmax_kernels_match_reference() {
    check_kernels(&[Reduction::SumSoftMaxWeight]);
    let al = ["x = Vi(3)", "y = Vj(3)", "b = Vj(2)"];
    let inputs = random_inputs(
        &kernel(
            "-SqDist(x, y)",
            Some("b"),
            &al,
            Reduction::SumSoftMaxWeight,
            1,
        ),
        37,
        53,
        6,
    );
    let g = Genred::new("-SqDist(x, y)", &al, Reduction::SumSoftMaxWeight, 1)
        .and_then(|g| g.with_formula2("b"));
    let g = g.unwrap_or_else(|e| panic!("SumSoftMaxWeight with `b`: {e}"));
    assert_eq!(g.kernel().out_cols(), 2);
    let want = kernel(
        "-SqDist(x, y)",
        Some("b"),
        &al,
        Reduction::SumSoftMaxWeight,
        1,
    );
    let run = |o: &Options<'_>, a: &[Array2<f64>]| call_genred(&g, o, a);
    check_backend::<f64>(
        "SumSoftMaxWeight formula2 b",
        &want,
        &inputs,
        &sum_opts(),
        1e-12,
        &run,
    );
}

#[test]
fn wide_and_long_formulas() {
    // Dimensions above the unrolling thresholds, a parameter matrix, nested ops, a deep expression.
    let specs: [(&str, &[&str]); 4] = [
        (
            "Exp(-SqDist(x, y)) * b",
            &["x = Vi(17)", "y = Vj(17)", "b = Vj(5)"],
        ),
        (
            "MatVecMult(A, x - y) * Exp(-Norm2(x - y))",
            &["x = Vi(4)", "y = Vj(4)", "A = Pm(12)"],
        ),
        (
            "Log(1 + SqDist(x, y)) * Cos(Sum(x * y)) + Sqrt(1 + Abs(Elem(x, 0) - Elem(y, 1)))",
            &["x = Vi(3)", "y = Vj(3)"],
        ),
        (
            "Concat(Exp(-SqDist(x, y)) * b, Inv(1 + SqNorm2(x + y)))",
            &["x = Vi(2)", "y = Vj(2)", "b = Vj(3)"],
        ),
    ];
    for (formula, aliases) in specs {
        for axis in [0, 1] {
            let g = Genred::new(formula, aliases, Reduction::Sum, axis).expect("valid formula");
            let k = g.kernel();
            let inputs = random_inputs(k, 41, 23, 77);
            let run64 = |o: &Options<'_>, a: &[Array2<f64>]| call_genred(&g, o, a);
            let run32 = |o: &Options<'_>, a: &[Array2<f32>]| call_genred(&g, o, a);
            let what = format!("{formula} axis {axis}");
            check_backend::<f64>(&what, k, &inputs, &simd_opts(), tol::<f64>(), &run64);
            check_backend::<f32>(&what, k, &inputs, &simd_opts(), tol::<f32>(), &run32);
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// with_formula2, typed calls

#[test]
fn with_formula2_adds_weights() {
    let al = ["x = Vi(3)", "y = Vj(3)", "b = Vj(2)"];
    let inputs = random_inputs(
        &kernel("-SqDist(x, y)", Some("b"), &al, Reduction::LogSumExp, 1),
        37,
        53,
        5,
    );
    for (red, f2) in [
        (Reduction::LogSumExp, "b"),
        (Reduction::LogSumExp, "Exp(b) * 2"),
    ] {
        let g = Genred::new("-SqDist(x, y)", &al, red, 1).and_then(|g| g.with_formula2(f2));
        let g = g.unwrap_or_else(|e| panic!("{red} with `{f2}`: {e}"));
        assert_eq!(g.kernel().out_cols(), 2);
        let want = kernel("-SqDist(x, y)", Some(f2), &al, red, 1);
        let run = |o: &Options<'_>, a: &[Array2<f64>]| call_genred(&g, o, a);
        check_backend::<f64>(
            &format!("{red} formula2 {f2}"),
            &want,
            &inputs,
            &sum_opts(),
            1e-12,
            &run,
        );
    }
    // weights on a reduction that takes none: a formula error
    let e = Genred::new("SqDist(x, y)", &al, Reduction::Sum, 1)
        .unwrap()
        .with_formula2("b")
        .unwrap_err();
    assert!(
        matches!(&e, Error::Formula(f) if f.kind == ErrorKind::Reduction),
        "{e:?}"
    );
    // an invalid weight formula is reported against its own text
    let e = Genred::new("-SqDist(x, y)", &al, Reduction::LogSumExp, 1)
        .unwrap()
        .with_formula2("b + z")
        .unwrap_err();
    match &e {
        Error::Formula(f) => {
            assert_eq!(f.kind, ErrorKind::UnknownVariable, "{e}");
            assert_eq!(&"b + z"[f.span.range()], "z", "{e}");
            assert!(e.to_string().contains("    b + z\n        ^"), "{e}");
        }
        other => panic!("expected a formula error, got {other:?}"),
    }
}

#[test]
fn typed_calls_and_wrong_kind_errors() {
    let al = ["x = Vi(3)", "y = Vj(3)"];
    let mut r = rng(9);
    let (x, y) = (randn(&mut r, 37, 3), randn(&mut r, 53, 3));
    let args = [x.view(), y.view()];
    let k_of = |red| kernel("SqDist(x, y)", None, &al, red, 1);
    let inputs = [x.clone(), y.clone()];
    let invalid = |r: Result<(), Error>, what: &str| {
        assert!(
            matches!(r, Err(Error::InvalidOption(_))),
            "{what}: expected Error::InvalidOption, got {r:?}"
        )
    };

    // values
    let sum = Genred::new("SqDist(x, y)", &al, Reduction::Sum, 1).unwrap();
    let v = sum.call(&args).unwrap();
    assert_out(
        "Sum via call",
        &k_of(Reduction::Sum),
        &inputs,
        &Out::V(v),
        1e-12,
    );
    invalid(sum.call_indices(&args).map(drop), "Sum via call_indices");
    invalid(
        sum.call_values_indices(&args).map(drop),
        "Sum via call_values_indices",
    );

    // indices
    for red in [Reduction::ArgMin, Reduction::ArgMax, Reduction::ArgKMin(4)] {
        let g = Genred::new("SqDist(x, y)", &al, red, 1).unwrap();
        let i = g.call_indices(&args).unwrap();
        assert_out(
            &format!("{red} via call_indices"),
            &k_of(red),
            &inputs,
            &Out::<f64>::I(i),
            1e-12,
        );
        invalid(g.call(&args).map(drop), &format!("{red} via call"));
        invalid(
            g.call_with(&Options::new(), &args).map(drop),
            &format!("{red} via call_with"),
        );
        invalid(
            g.call_values_indices(&args).map(drop),
            &format!("{red} via call_values_indices"),
        );
    }

    // both
    for red in [
        Reduction::MinArgMin,
        Reduction::MaxArgMax,
        Reduction::KMinArgKMin(4),
    ] {
        let g = Genred::new("SqDist(x, y)", &al, red, 1).unwrap();
        let vi: ValuesIndices<f64> = g.call_values_indices(&args).unwrap();
        assert_eq!(vi.values.dim(), vi.indices.dim());
        assert_out(
            &format!("{red} via call_values_indices"),
            &k_of(red),
            &inputs,
            &Out::VI(vi),
            1e-12,
        );
        // (`call` on these: see `call_on_a_values_indices_reduction_is_a_wrong_kind_error`)
        invalid(
            g.call_indices(&args).map(drop),
            &format!("{red} via call_indices"),
        );
    }

    // f32 through the same API
    let (x32, y32) = (to_t::<f32>(&x), to_t::<f32>(&y));
    let g = Genred::new("SqDist(x, y)", &al, Reduction::KMinArgKMin(2), 1).unwrap();
    let vi = g.call_values_indices(&[x32.view(), y32.view()]).unwrap();
    let seen = [rounded::<f32>(&x), rounded::<f32>(&y)];
    assert_out(
        "KMin_ArgKMin f32",
        &k_of(Reduction::KMinArgKMin(2)),
        &seen,
        &Out::VI(vi),
        1e-5,
    );

    // a parameter as a slice view (1 × D) or a column (D × 1)
    let g = Genred::new(
        "Exp(-Sum(p) * SqDist(x, y))",
        &["x = Vi(3)", "y = Vj(3)", "p = Pm(2)"],
        Reduction::Sum,
        1,
    )
    .unwrap();
    let p = [0.25f64, 0.5];
    let row = g
        .call(&[
            x.view(),
            y.view(),
            ndarray::ArrayView2::from_shape((1, 2), &p[..]).unwrap(),
        ])
        .unwrap();
    let col = g
        .call(&[
            x.view(),
            y.view(),
            ndarray::ArrayView2::from_shape((2, 1), &p[..]).unwrap(),
        ])
        .unwrap();
    assert_eq!(row, col);
}

#[test]
fn call_on_a_values_indices_reduction_is_a_wrong_kind_error() {
    let al = ["x = Vi(3)", "y = Vj(3)"];
    let mut r = rng(10);
    let (x, y) = (randn(&mut r, 7, 3), randn(&mut r, 9, 3));
    for red in [
        Reduction::MinArgMin,
        Reduction::MaxArgMax,
        Reduction::KMinArgKMin(2),
    ] {
        let g = Genred::new("SqDist(x, y)", &al, red, 1).unwrap();
        let res = g.call(&[x.view(), y.view()]);
        assert!(
            matches!(res, Err(Error::InvalidOption(_))),
            "{red} via call: expected Error::InvalidOption, got {res:?}"
        );
        let res = g.call_with(&Options::new(), &[x.view(), y.view()]);
        assert!(
            matches!(res, Err(Error::InvalidOption(_))),
            "{red} via call_with: expected Error::InvalidOption, got {res:?}"
        );
    }
}

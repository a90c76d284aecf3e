//! Error paths: wrong shapes at run time (generated and run-time types), formula errors with their caret
//! line, the GPU back end without the `cuda` feature, invalid options, and inputs left untouched.

use keops::prelude::*;
use keops::{FormulaError, KernelSolve};
use keops_ir::ErrorKind;
use ndarray::{Array1, Array2, s};

use crate::genred::{ArgKMin1, Gauss1, Lse1, Min1, MinArgMin1, Sum0};
use crate::solve::ExpSolve;
use crate::support::*;

/// Asserts `Error::Shape` naming `arg`.
fn shape<T: std::fmt::Debug>(r: Result<T, Error>, arg: &str, what: &str) {
    match r {
        Err(Error::Shape {
            arg: a,
            expected,
            got,
        }) => {
            assert_eq!(a, arg, "{what}: expected {expected}, got {got}");
            let msg = Error::Shape {
                arg: a.clone(),
                expected,
                got,
            }
            .to_string();
            assert!(
                msg.contains(&format!("`{arg}`")),
                "{what}: the message names the argument: {msg}"
            );
        }
        other => panic!("{what}: expected Error::Shape for `{arg}`, got {other:?}"),
    }
}

fn invalid<T: std::fmt::Debug>(r: Result<T, Error>, what: &str) {
    assert!(
        matches!(r, Err(Error::InvalidOption(_))),
        "{what}: expected Error::InvalidOption, got {r:?}"
    );
}

struct Data {
    x: Array2<f64>,
    y: Array2<f64>,
    a: Array2<f64>,
    b: Array2<f64>,
}

fn data() -> Data {
    let mut r = rng(31);
    Data {
        x: randn(&mut r, 9, 3),
        y: randn(&mut r, 11, 3),
        a: randn(&mut r, 11, 2),
        b: randn(&mut r, 9, 2),
    }
}

// ---------------------------------------------------------------------------------------------------
// Shapes

#[test]
fn generated_types_reject_wrong_shapes() {
    let Data { x, y, a, b } = data();
    let p1 = [0.5f64];
    let w3 = [1.0f64, 0.5, 0.25];
    // Vj row counts disagree (y: 11, a: 10)
    shape(
        Gauss1.call(&x, &y, a.slice(s![..10, ..])),
        "a",
        "Gauss1, rows of a",
    );
    // Vi row counts disagree (x: 9, b: 8)
    shape(
        Sum0.call(&x, &y, b.slice(s![..8, ..]), &p1[..]),
        "b",
        "Sum0, rows of b",
    );
    // wrong column counts
    shape(
        Gauss1.call(x.slice(s![.., ..2]), &y, &a),
        "x",
        "Gauss1, columns of x",
    );
    shape(
        Gauss1.call(&x, &y, b.slice(s![.., ..1])),
        "a",
        "Gauss1, columns of a",
    );
    shape(Gauss1.call(&x, &a, &a), "y", "Gauss1, a 2-column y");
    let rows4: Vec<[f64; 4]> = vec![[0.0; 4]; 9];
    shape(
        Min1.call(&rows4[..], &y, &w3[..]),
        "x",
        "Min1, [f64; 4] rows for x",
    );
    // parameters of the wrong length
    shape(
        Sum0.call(&x, &y, &b, &[0.5f64, 1.0][..]),
        "p",
        "Sum0, Pm(1) given 2 values",
    );
    shape(
        Sum0.call(&x, &y, &b, &Array1::<f64>::zeros(0)),
        "p",
        "Sum0, Pm(1) given 0 values",
    );
    shape(
        Min1.call(&x, &y, &w3[..2]),
        "w",
        "Min1, Pm(3) given 2 values",
    );
    shape(
        Min1.call(&x, &y, &Array2::<f64>::ones((3, 3))),
        "w",
        "Min1, Pm(3) given 3×3",
    );
    // the same in f32, and for index and values+indices types
    let (x32, y32) = (to_t::<f32>(&x), to_t::<f32>(&y));
    shape(
        Min1.call(&x32, y32.slice(s![.., ..2]), &[1.0f32; 3][..]),
        "y",
        "Min1 f32, columns of y",
    );
    shape(
        ArgKMin1.call(&x, &y, &w3[..1]),
        "w",
        "ArgKMin1, Pm(3) given 1 value",
    );
    shape(
        MinArgMin1.call(&x, y.slice(s![.., 1..]), &w3[..]),
        "y",
        "MinArgMin1, columns of y",
    );
    shape(
        Lse1.call(&x, &y, &[1.0f64, 2.0][..]),
        "p",
        "Lse1, Pm(1) given 2 values",
    );
}

#[test]
fn runtime_genred_rejects_wrong_shapes() {
    let Data { x, y, a, b } = data();
    let g = Genred::new(
        "Exp(-SqDist(x, y)) * a",
        &["x = Vi(3)", "y = Vj(3)", "a = Vj(2)"],
        Reduction::Sum,
        1,
    )
    .unwrap();
    shape(
        g.call(&[x.view(), y.view(), a.slice(s![..10, ..])]),
        "a",
        "rows of a",
    );
    shape(
        g.call(&[x.view(), y.view(), b.view()]),
        "a",
        "a with 9 rows against y's 11",
    );
    shape(
        g.call(&[x.slice(s![.., ..2]), y.view(), a.view()]),
        "x",
        "columns of x",
    );
    // wrong number of arguments
    shape(
        g.call(&[x.view(), y.view()]),
        "arguments",
        "2 arguments for 3",
    );
    shape(
        g.call(&[x.view(), y.view(), a.view(), a.view()]),
        "arguments",
        "4 arguments for 3",
    );
    shape(g.call::<f64>(&[]), "arguments", "no arguments");
    // Vi disagreement and parameters
    let g = Genred::new(
        "Exp(-p * SqDist(x, y)) * b",
        &["x = Vi(3)", "y = Vj(3)", "b = Vi(2)", "p = Pm(1)"],
        Reduction::Sum,
        0,
    )
    .unwrap();
    let p = Array2::from_elem((1, 1), 0.5);
    shape(
        g.call(&[x.view(), y.view(), b.slice(s![..8, ..]), p.view()]),
        "b",
        "rows of b",
    );
    let p2 = Array2::from_elem((1, 2), 0.5);
    shape(
        g.call(&[x.view(), y.view(), b.view(), p2.view()]),
        "p",
        "Pm(1) given 2 values",
    );
    // indices and values+indices calls check shapes the same way
    let g = Genred::new(
        "SqDist(x, y)",
        &["x = Vi(3)", "y = Vj(3)"],
        Reduction::ArgMin,
        1,
    )
    .unwrap();
    shape(
        g.call_indices(&[x.view(), y.slice(s![.., ..2])]),
        "y",
        "ArgMin, columns of y",
    );
    shape(
        g.call_indices(&[x.view()]),
        "arguments",
        "ArgMin, 1 argument",
    );
    let g = Genred::new(
        "SqDist(x, y)",
        &["x = Vi(3)", "y = Vj(3)"],
        Reduction::KMinArgKMin(2),
        1,
    )
    .unwrap();
    shape(
        g.call_values_indices(&[x.slice(s![.., ..1]), y.view()]),
        "x",
        "KMin_ArgKMin, columns of x",
    );
    // K > N for an Arg-type reduction
    shape(
        g.call_values_indices(&[x.view(), y.slice(s![..1, ..])]),
        "reduced axis",
        "KMin_ArgKMin(2) over 1 row",
    );
}

// ---------------------------------------------------------------------------------------------------
// Formula errors

/// The caret line a formula error must show: the formula indented by 4, then `^` under the span.
fn assert_caret(e: &Error, formula: &str, token: &str, kind: ErrorKind) {
    let Error::Formula(f) = e else {
        panic!("`{formula}`: expected Error::Formula, got {e:?}")
    };
    let f: &FormulaError = f;
    assert_eq!(f.kind, kind, "`{formula}`: {e}");
    assert_eq!(
        &formula[f.span.range()],
        token,
        "`{formula}`: the span points at the wrong text: {e}"
    );
    let msg = e.to_string();
    let pad = formula[..f.span.start as usize].chars().count();
    let carets = "^".repeat(token.chars().count().max(1));
    let diagram = format!("    {formula}\n    {}{carets}", " ".repeat(pad));
    assert!(
        msg.contains(&diagram),
        "`{formula}`: no caret line under `{token}` in:\n{msg}"
    );
    assert!(
        msg.starts_with(&f.message),
        "`{formula}`: the message comes first:\n{msg}"
    );
}

#[test]
fn formula_errors_show_a_caret_line() {
    let al = ["x = Vi(3)", "y = Vj(3)", "b = Vj(2)"];
    let cases: [(&str, &str, ErrorKind); 6] = [
        ("Exp(-SqDist(x, z))", "z", ErrorKind::UnknownVariable),
        ("Exp(-Foo(x, y))", "Foo", ErrorKind::UnknownOp),
        ("Exp(-SqDist(x, y)) * x * b", "x * b", ErrorKind::Dimension),
        ("Exp(-SqDist(x, y) * b", "", ErrorKind::Parse),
        ("Exp(x, y)", "Exp(x, y)", ErrorKind::Arity),
        ("SqDist(x, y) $ b", "$", ErrorKind::Lex),
    ];
    for (formula, token, kind) in cases {
        let e = Genred::new(formula, &al, Reduction::Sum, 1).unwrap_err();
        let Error::Formula(f) = &e else {
            panic!("`{formula}`: expected Error::Formula, got {e:?}")
        };
        assert_eq!(f.kind, kind, "`{formula}`: {e}");
        // Where the exact token is known, the caret must sit under it; for the others, under the span.
        let token = if token.is_empty() || formula.get(f.span.range()) != Some(token) {
            assert!(
                !matches!(
                    kind,
                    ErrorKind::UnknownVariable | ErrorKind::UnknownOp | ErrorKind::Lex
                ),
                "`{formula}`: {e}"
            );
            formula.get(f.span.range()).unwrap_or("")
        } else {
            token
        };
        assert_caret(&e, formula, token, kind);
    }
    // the reduction does not fit the formula: the caret spans the formula
    let e = Genred::new("SqDist(x, y) * b", &al, Reduction::LogSumExp, 1).unwrap_err();
    assert_caret(
        &e,
        "SqDist(x, y) * b",
        "SqDist(x, y) * b",
        ErrorKind::Reduction,
    );
    // a bad alias: the caret is under the alias text
    let e = Genred::new("x", &["x = Vk(3)"], Reduction::Sum, 1).unwrap_err();
    assert_caret(&e, "x = Vk(3)", "Vk", ErrorKind::Alias);
    // axis out of range
    let e = Genred::new("SqDist(x, y)", &al, Reduction::Sum, 2).unwrap_err();
    assert!(
        matches!(&e, Error::Formula(f) if f.kind == ErrorKind::Reduction),
        "{e:?}"
    );
    // solves: not linear, and a variable that is not an alias
    let e = KernelSolve::new("Exp(-SqDist(x, y)) * b * b", &al, "b", 1).unwrap_err();
    assert!(
        matches!(&e, Error::Formula(f) if f.kind == ErrorKind::NotLinear),
        "{e:?}"
    );
    assert!(
        e.to_string()
            .contains("    Exp(-SqDist(x, y)) * b * b\n    ^"),
        "{e}"
    );
    let e = KernelSolve::new("Exp(-SqDist(x, y)) * b", &al, "c", 1).unwrap_err();
    assert!(
        matches!(&e, Error::Formula(f) if f.kind == ErrorKind::UnknownVariable),
        "{e:?}"
    );
}

// ---------------------------------------------------------------------------------------------------
// Back end and options

#[test]
fn gpu_backend_without_cuda_is_no_gpu() {
    let Data { x, y, a, .. } = data();
    let gpu = Options::new().backend(Backend::Gpu { device: 0 });
    let r = Gauss1.call_with(&gpu, &x, &y, &a);
    assert!(matches!(r, Err(Error::NoGpu(_))), "generated: {r:?}");
    let g = Genred::new(
        "Exp(-SqDist(x, y)) * a",
        &["x = Vi(3)", "y = Vj(3)", "a = Vj(2)"],
        Reduction::Sum,
        1,
    )
    .unwrap();
    let r = g.call_with(&gpu, &[x.view(), y.view(), a.view()]);
    assert!(matches!(r, Err(Error::NoGpu(_))), "runtime: {r:?}");
    let r = ExpSolve
        .solver()
        .alpha(0.1)
        .options(&gpu)
        .solve(&x, &x, a.slice(s![..9, ..]));
    assert!(matches!(r, Err(Error::NoGpu(_))), "solver: {r:?}");
    // Cpu and Auto run (and agree)
    let cpu = Gauss1
        .call_with(&Options::new().backend(Backend::Cpu), &x, &y, &a)
        .unwrap();
    let auto = Gauss1.call(&x, &y, &a).unwrap();
    assert!(same_bits(&cpu, &auto));
}

#[test]
fn invalid_options_are_rejected() {
    let Data { x, y, a, .. } = data();
    let w3 = [1.0f64, 0.5, 0.25];
    invalid(
        Gauss1.call_with(&Options::new().threads(0), &x, &y, &a),
        "generated, threads(0)",
    );
    invalid(
        Min1.call_with(
            &Options::new().sum_scheme(SumScheme::Kahan),
            &x,
            &y,
            &w3[..],
        ),
        "Min, Kahan",
    );
    invalid(
        Min1.call_with(
            &Options::new().sum_scheme(SumScheme::Block),
            &x,
            &y,
            &w3[..],
        ),
        "Min, Block",
    );
    invalid(
        Min1.call_with(
            &Options::new().accumulator(Accumulator::F64),
            &x,
            &y,
            &w3[..],
        ),
        "Min, f64 accumulator",
    );
    invalid(
        ArgKMin1.call_with(
            &Options::new().sum_scheme(SumScheme::Kahan),
            &x,
            &y,
            &w3[..],
        ),
        "ArgKMin, Kahan",
    );
    // the defaults, and Direct, are fine on Min
    Min1.call_with(
        &Options::new().sum_scheme(SumScheme::Direct),
        &x,
        &y,
        &w3[..],
    )
    .unwrap();
    Min1.call_with(&Options::new().threads(3), &x, &y, &w3[..])
        .unwrap();

    let g = Genred::new(
        "SqDist(x, y)",
        &["x = Vi(3)", "y = Vj(3)"],
        Reduction::Min,
        1,
    )
    .unwrap();
    let args = [x.view(), y.view()];
    invalid(
        g.call_with(&Options::new().threads(0), &args),
        "runtime, threads(0)",
    );
    invalid(
        g.call_with(&Options::new().sum_scheme(SumScheme::Kahan), &args),
        "runtime Min, Kahan",
    );
    invalid(
        g.call_with(&Options::new().accumulator(Accumulator::F64), &args),
        "runtime Min, f64 accumulator",
    );
    let r = ExpSolve
        .solver()
        .alpha(0.1)
        .options(&Options::new().threads(0))
        .solve(&x, &x, a.slice(s![..9, ..]));
    invalid(r, "solver, threads(0)");
}

// ---------------------------------------------------------------------------------------------------
// Inputs are never modified

#[test]
fn inputs_are_not_modified() {
    let Data { mut x, y, a, b } = data();
    x[[2, 1]] = f64::NAN; // NaN payloads must survive too
    let w3 = [1.0f64, 0.5, 0.25];
    let (x0, y0, a0, b0, w0) = (x.clone(), y.clone(), a.clone(), b.clone(), w3);
    let unchanged = |what: &str| {
        assert!(
            same_bits(&x, &x0) && same_bits(&y, &y0) && same_bits(&a, &a0) && same_bits(&b, &b0),
            "{what}"
        );
        assert!(
            w3.iter().zip(&w0).all(|(p, q)| p.to_bits() == q.to_bits()),
            "{what}"
        );
    };
    for (_, o) in sum_opts() {
        Gauss1.call_with(&o, &x, &y, &a).unwrap();
    }
    unchanged("Gauss1");
    MinArgMin1.call(&x, &y, &w3[..]).unwrap();
    ArgKMin1.call(x.view(), &y, &w3[..]).unwrap();
    unchanged("Min/ArgKMin types");
    let g = Genred::new(
        "Exp(-SqDist(x, y)) * a",
        &["x = Vi(3)", "y = Vj(3)", "a = Vj(2)"],
        Reduction::Sum,
        1,
    )
    .unwrap();
    g.call(&[x.view(), y.view(), a.view()]).unwrap();
    unchanged("runtime Genred");

    // solves: x, b (and x0) untouched, also when the solve fails
    let mut r = rng(32);
    let (xs, bs) = (randn(&mut r, 40, 3), randn(&mut r, 40, 2));
    let (xs0, bs0) = (xs.clone(), bs.clone());
    let guess = Array2::<f64>::from_elem((40, 2), 0.5);
    let guess0 = guess.clone();
    ExpSolve
        .solver()
        .alpha(0.1)
        .x0(guess.view())
        .solve(&xs, &xs, &bs)
        .unwrap();
    ExpSolve.call(&xs, &xs, &bs, 0.1, 1e-6).unwrap();
    let _ = ExpSolve
        .solver()
        .alpha(0.1)
        .max_iter(1)
        .strict()
        .solve(&xs, &xs, &bs);
    let ks = KernelSolve::new(
        "Exp(-Norm2(x - y)) * a",
        &["x = Vi(3)", "y = Vj(3)", "a = Vj(2)"],
        "a",
        1,
    )
    .unwrap();
    ks.solver()
        .alpha(0.1)
        .solve(&[xs.view(), xs.view(), bs.view()])
        .unwrap();
    assert!(
        same_bits(&xs, &xs0) && same_bits(&bs, &bs0) && same_bits(&guess, &guess0),
        "solves modified an input"
    );
    unchanged("nothing else touched");
}

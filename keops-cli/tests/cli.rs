//! End-to-end tests of the `keops` binary: .npy files generated into a temporary folder, the binary run
//! with `std::process::Command`, results compared with direct computations, and every error path checked
//! for its exit code and message.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ndarray::{Array1, Array2, ArrayD};
use ndarray_npy::{read_npy, write_npy};

/// A fresh folder for one test, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Scratch {
        let dir =
            std::env::temp_dir().join(format!("keops-cli-test-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the scratch folder");
        Scratch(dir)
    }
    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
    /// Writes an array with ndarray-npy and returns `name=path` for `--input`.
    fn npy<A: ndarray_npy::WritableElement, D: ndarray::Dimension>(
        &self,
        file: &str,
        a: &ndarray::Array<A, D>,
    ) -> PathBuf {
        let p = self.path(file);
        write_npy(&p, a).expect("write a .npy file");
        p
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `--input name=path`.
fn inp(name: &str, p: &Path) -> String {
    format!("{name}={}", p.display())
}

fn keops(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_keops"))
        .args(args)
        .output()
        .expect("run the keops binary")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts the exit code and that stderr contains every piece; returns stderr.
#[track_caller]
fn expect_fail(o: &Output, code: i32, pieces: &[&str]) -> String {
    let err = stderr(o);
    assert_eq!(
        o.status.code(),
        Some(code),
        "exit code; stderr:\n{err}\nstdout:\n{}",
        stdout(o)
    );
    for p in pieces {
        assert!(err.contains(p), "stderr lacks {p:?}:\n{err}");
    }
    assert!(!err.contains("panicked"), "a panic:\n{err}");
    err
}

#[track_caller]
fn expect_ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}; stderr:\n{}",
        o.status.code(),
        stderr(o)
    );
    stdout(o)
}

/// Deterministic pseudo-random points.
fn points(n: usize, d: usize, seed: f64) -> Array2<f64> {
    Array2::from_shape_fn((n, d), |(i, k)| {
        ((i as f64 + 1.0) * (seed + 0.37 * k as f64 + 1.3)).sin()
    })
}

/// `Σ_j exp(-|x_i - y_j|²) a_j`, directly.
fn gauss_conv(x: &Array2<f64>, y: &Array2<f64>, a: &Array2<f64>) -> Array2<f64> {
    let mut out = Array2::zeros((x.nrows(), a.ncols()));
    for i in 0..x.nrows() {
        for j in 0..y.nrows() {
            let d2: f64 = x
                .row(i)
                .iter()
                .zip(y.row(j))
                .map(|(p, q)| (p - q) * (p - q))
                .sum();
            let k = (-d2).exp();
            for c in 0..a.ncols() {
                out[[i, c]] += k * a[[j, c]];
            }
        }
    }
    out
}

fn max_abs_diff(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
    assert_eq!(a.dim(), b.dim());
    a.iter()
        .zip(b)
        .map(|(p, q)| (p - q).abs())
        .fold(0.0, f64::max)
}

/// Writes a .npy file by hand: any descriptor, order, shape and data bytes (also inconsistent ones).
fn raw_npy(path: &Path, descr: &str, fortran: bool, shape: &[usize], data: &[u8]) {
    raw_npy_at(path, descr, fortran, shape, data, (64, 0));
}

/// [`raw_npy`] with the data starting at an offset `o` with `o % modulus == rest` (numpy: (64, 0)).
fn raw_npy_at(
    path: &Path,
    descr: &str,
    fortran: bool,
    shape: &[usize],
    data: &[u8],
    (modulus, rest): (usize, usize),
) {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let order = if fortran { "True" } else { "False" };
    let mut dict = format!("{{'descr': '{descr}', 'fortran_order': {order}, 'shape': {shape}, }}");
    while (10 + dict.len() + 1) % modulus != rest {
        dict.push(' ');
    }
    dict.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(
        &u16::try_from(dict.len())
            .expect("short header")
            .to_le_bytes(),
    );
    bytes.extend_from_slice(dict.as_bytes());
    bytes.extend_from_slice(data);
    std::fs::write(path, bytes).expect("write a raw .npy file");
}

const GAUSS: &str = "Exp(-SqDist(x,y))*a";

/// The reduce arguments of the Gaussian convolution, with the three inputs.
fn gauss_args(x: &Path, y: &Path, a: &Path, out: &Path) -> Vec<String> {
    [
        "reduce",
        "--formula",
        GAUSS,
        "--alias",
        "x=Vi(3)",
        "--alias",
        "y=Vj(3)",
        "--alias",
        "a=Vj(2)",
        "--reduction",
        "Sum",
        "--axis",
        "1",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([
        "--input".into(),
        inp("x", x),
        "--input".into(),
        inp("y", y),
        "--input".into(),
        inp("a", a),
        "--out".into(),
        out.display().to_string(),
    ])
    .collect()
}

/// The position of the value of `--input NAME=...` in `args`.
fn input_pos(args: &[String], name: &str) -> usize {
    let prefix = format!("{name}=");
    (1..args.len())
        .find(|&k| args[k - 1] == "--input" && args[k].starts_with(&prefix))
        .expect("an --input")
}

fn run(args: &[String]) -> Output {
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    keops(&refs)
}

#[test]
fn reduce_sum_matches_direct_computation() {
    let s = Scratch::new("reduce-sum");
    let (x, y, a) = (points(20, 3, 0.1), points(31, 3, 0.7), points(31, 2, 1.9));
    let (px, py, pa) = (s.npy("x.npy", &x), s.npy("y.npy", &y), s.npy("a.npy", &a));
    let out = s.path("out.npy");
    let so = expect_ok(&run(&gauss_args(&px, &py, &pa, &out)));
    assert!(so.contains("20 × 2 float64"), "{so}");
    let got: Array2<f64> = read_npy(&out).expect("read the output");
    let want = gauss_conv(&x, &y, &a);
    assert!(max_abs_diff(&got, &want) < 1e-12, "{got} vs {want}");

    // Threads and the CPU back end give the same numbers.
    let mut args = gauss_args(&px, &py, &pa, &out);
    args.extend(["--threads", "2", "--backend", "cpu"].map(String::from));
    expect_ok(&run(&args));
    let got2: Array2<f64> = read_npy(&out).expect("read the output");
    assert!(max_abs_diff(&got2, &want) < 1e-12);

    // Axis 0: reduce over i, one row per j.
    let b = points(20, 2, 2.3);
    let pb = s.npy("b.npy", &b);
    let o = keops(&[
        "reduce",
        "--formula",
        "Exp(-SqDist(x,y))*b",
        "--alias",
        "x=Vi(3)",
        "--alias",
        "y=Vj(3)",
        "--alias",
        "b=Vi(2)",
        "--axis",
        "0",
        "--input",
        &inp("x", &px),
        "--input",
        &inp("y", &py),
        "--input",
        &inp("b", &pb),
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    expect_ok(&o);
    let got0: Array2<f64> = read_npy(&out).expect("read the output");
    let want0 = gauss_conv(&y, &x, &b);
    assert!(max_abs_diff(&got0, &want0) < 1e-12);
}

#[test]
fn reduce_dtypes_layouts_and_vectors() {
    let s = Scratch::new("reduce-dtypes");
    let (x, y, a) = (points(9, 3, 0.2), points(12, 3, 0.5), points(12, 2, 1.1));
    let want = gauss_conv(&x, &y, &a);
    let out = s.path("out.npy");

    // f32 inputs: an f32 output close to the f64 result.
    let (px, py, pa) = (
        s.npy("x32.npy", &x.mapv(|v| v as f32)),
        s.npy("y32.npy", &y.mapv(|v| v as f32)),
        s.npy("a32.npy", &a.mapv(|v| v as f32)),
    );
    let so = expect_ok(&run(&gauss_args(&px, &py, &pa, &out)));
    assert!(so.contains("float32"), "{so}");
    let got: Array2<f32> = read_npy(&out).expect("an f32 output");
    assert!(max_abs_diff(&got.mapv(f64::from), &want) < 1e-4);

    // Mixed dtypes with --dtype f64: computed in f64.
    let py64 = s.npy("y.npy", &y);
    let mut args = gauss_args(&px, &py64, &pa, &out);
    args.extend(["--dtype", "f64"].map(String::from));
    expect_ok(&run(&args));
    let got: Array2<f64> = read_npy(&out).expect("an f64 output");
    let want_rounded = gauss_conv(
        &x.mapv(|v| v as f32 as f64),
        &y,
        &a.mapv(|v| v as f32 as f64),
    );
    assert!(max_abs_diff(&got, &want_rounded) < 1e-12);

    // Fortran order and big-endian files read the same.
    let fx = s.path("x_fortran.npy");
    let col_major: Vec<u8> = x.t().iter().flat_map(|v| v.to_le_bytes()).collect();
    raw_npy(&fx, "<f8", true, &[9, 3], &col_major);
    let by = s.path("y_big.npy");
    let big: Vec<u8> = y.iter().flat_map(|v| v.to_be_bytes()).collect();
    raw_npy(&by, ">f8", false, &[12, 3], &big);
    let pa64 = s.npy("a.npy", &a);
    expect_ok(&run(&gauss_args(&fx, &by, &pa64, &out)));
    let got: Array2<f64> = read_npy(&out).expect("read the output");
    assert!(max_abs_diff(&got, &want) < 1e-12);

    // Data that starts at an offset of 4 modulo 8 (a header padded to 4 bytes only) reads the same.
    let ma = s.path("a_misaligned.npy");
    let a_bytes: Vec<u8> = a.iter().flat_map(|v| v.to_le_bytes()).collect();
    raw_npy_at(&ma, "<f8", false, &[12, 2], &a_bytes, (8, 4));
    assert_eq!(
        (std::fs::read(&ma).expect("read").len() - a_bytes.len()) % 8,
        4
    );
    expect_ok(&run(&gauss_args(&fx, &by, &ma, &out)));
    let got: Array2<f64> = read_npy(&out).expect("read the output");
    assert!(max_abs_diff(&got, &want) < 1e-12);

    // 1-D files: a Pm parameter as (D,) and a Vj of dimension 1 as (N,).
    let sigma = Array1::from(vec![0.5f64]);
    let w = Array1::from_shape_fn(12, |j| 1.0 + j as f64);
    let (ps, pw) = (s.npy("sigma.npy", &sigma), s.npy("w.npy", &w));
    let o = keops(&[
        "reduce",
        "--formula",
        "Exp(-SqDist(x,y)*s)*w",
        "--alias",
        "x=Vi(3)",
        "--alias",
        "y=Vj(3)",
        "--alias",
        "s=Pm(1)",
        "--alias",
        "w=Vj(1)",
        "--axis",
        "1",
        "--input",
        &inp("x", &fx),
        "--input",
        &inp("y", &py64),
        "--input",
        &inp("s", &ps),
        "--input",
        &inp("3", &pw),
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    expect_ok(&o);
    let got: Array2<f64> = read_npy(&out).expect("read the output");
    let want_w = gauss_conv(
        &(&x * 0.5f64.sqrt()),
        &(&y * 0.5f64.sqrt()),
        &w.clone().insert_axis(ndarray::Axis(1)),
    );
    assert!(max_abs_diff(&got, &want_w) < 1e-12);
}

#[test]
fn reduce_index_reductions_write_int64() {
    let s = Scratch::new("reduce-indices");
    let x = points(7, 2, 0.3);
    let y = points(10, 2, 0.9);
    let (px, py) = (s.npy("x.npy", &x), s.npy("y.npy", &y));
    let out = s.path("out.npy");
    let base = |red: &[&str]| {
        let mut v: Vec<String> = [
            "reduce",
            "--formula",
            "SqDist(x,y)",
            "--alias",
            "x=Vi(2)",
            "--alias",
            "y=Vj(2)",
        ]
        .map(String::from)
        .to_vec();
        v.extend(red.iter().map(|s| s.to_string()));
        v.extend([
            "--axis".into(),
            "1".into(),
            "--input".into(),
            inp("x", &px),
            "--input".into(),
            inp("y", &py),
        ]);
        v.extend(["--out".into(), out.display().to_string()]);
        v
    };
    let d2 = |i: usize, j: usize| -> f64 {
        x.row(i)
            .iter()
            .zip(y.row(j))
            .map(|(p, q)| (p - q) * (p - q))
            .sum()
    };
    let ranked = |i: usize| {
        let mut js: Vec<usize> = (0..10).collect();
        js.sort_by(|&a, &b| d2(i, a).total_cmp(&d2(i, b)));
        js
    };

    // ArgKMin: indices only, int64, in --out.
    expect_ok(&run(&base(&["--reduction", "ArgKMin", "--k", "3"])));
    let idx: Array2<i64> = read_npy(&out).expect("int64 indices");
    assert_eq!(idx.dim(), (7, 3));
    for i in 0..7 {
        let want: Vec<i64> = ranked(i)[..3].iter().map(|&j| j as i64).collect();
        assert_eq!(idx.row(i).to_vec(), want);
    }

    // Min_ArgMin: values in --out, indices in out.indices.npy.
    let so = expect_ok(&run(&base(&["--reduction", "Min_ArgMin"])));
    assert!(so.contains("out.indices.npy"), "{so}");
    let vals: Array2<f64> = read_npy(&out).expect("values");
    let idx: Array2<i64> = read_npy(s.path("out.indices.npy")).expect("indices");
    for i in 0..7 {
        let j = ranked(i)[0];
        assert_eq!(idx[[i, 0]], j as i64);
        assert!((vals[[i, 0]] - d2(i, j)).abs() < 1e-12);
    }

    // KMin(2) spelled with parentheses, indices of KMin_ArgKMin to a chosen path.
    let ip = s.path("nn.npy");
    let mut args = base(&["--reduction", "KMin_ArgKMin(2)"]);
    args.extend(["--indices-out".into(), ip.display().to_string()]);
    expect_ok(&run(&args));
    let idx: Array2<i64> = read_npy(&ip).expect("indices");
    assert_eq!(idx.dim(), (7, 2));
    let vals: Array2<f64> = read_npy(&out).expect("values");
    assert!((vals[[0, 1]] - d2(0, ranked(0)[1])).abs() < 1e-12);
}

/// Dense `(alpha·Id + K) a` for the Gaussian kernel on x, to check residuals.
fn apply_gauss(x: &Array2<f64>, a: &Array2<f64>, alpha: f64) -> Array2<f64> {
    gauss_conv(x, x, a) + alpha * a
}

fn rel_residual(x: &Array2<f64>, b: &Array2<f64>, a: &Array2<f64>, alpha: f64) -> f64 {
    let r = b - &apply_gauss(x, a, alpha);
    let n = |m: &Array2<f64>| m.iter().map(|v| v * v).sum::<f64>().sqrt();
    n(&r) / n(b)
}

fn solve_args(px: &Path, pb: &Path, out: &Path, tol: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = [
        "solve",
        "--formula",
        GAUSS,
        "--alias",
        "x=Vi(3)",
        "--alias",
        "y=Vj(3)",
        "--alias",
        "a=Vj(2)",
        "--var",
        "a",
        "--axis",
        "1",
        "--alpha",
        "0.5",
    ]
    .map(String::from)
    .to_vec();
    v.extend(tol.iter().map(|s| s.to_string()));
    v.extend([
        "--input".into(),
        inp("x", px),
        "--input".into(),
        inp("y", px),
        "--input".into(),
        inp("a", pb),
        "--out".into(),
        out.display().to_string(),
    ]);
    v
}

#[test]
fn solve_end_to_end() {
    let s = Scratch::new("solve");
    let x = points(60, 3, 0.4);
    let b = points(60, 2, 3.1);
    let (px, pb) = (s.npy("x.npy", &x), s.npy("b.npy", &b));
    let out = s.path("a.npy");

    // The safe solver: report on stdout, relative residual below rtol.
    let so = expect_ok(&run(&solve_args(&px, &pb, &out, &["--rtol", "1e-10"])));
    assert!(
        so.contains("column 0: converged") && so.contains("column 1: converged"),
        "{so}"
    );
    let a: Array2<f64> = read_npy(&out).expect("the solution");
    assert_eq!(a.dim(), (60, 2));
    assert!(rel_residual(&x, &b, &a, 0.5) < 1e-9);

    // The seed semantics: the true residual is printed.
    let so = expect_ok(&run(&solve_args(
        &px,
        &pb,
        &out,
        &["--eps", "1e-10", "--threads", "1"],
    )));
    assert!(so.contains("true residual"), "{so}");
    let a2: Array2<f64> = read_npy(&out).expect("the solution");
    assert!(rel_residual(&x, &b, &a2, 0.5) < 1e-8);
    assert!(max_abs_diff(&a, &a2) < 1e-6);

    // f32 inputs solve in f32.
    let (px32, pb32) = (
        s.npy("x32.npy", &x.mapv(|v| v as f32)),
        s.npy("b32.npy", &b.mapv(|v| v as f32)),
    );
    expect_ok(&run(&solve_args(&px32, &pb32, &out, &["--rtol", "1e-5"])));
    let a32: Array2<f32> = read_npy(&out).expect("an f32 solution");
    assert!(
        rel_residual(
            &x.mapv(|v| v as f32 as f64),
            &b.mapv(|v| v as f32 as f64),
            &a32.mapv(f64::from),
            0.5
        ) < 1e-4
    );
}

#[test]
fn solve_not_converged_exits_1_with_report() {
    let s = Scratch::new("solve-cap");
    let x = points(60, 3, 0.4);
    let b = points(60, 2, 3.1);
    let (px, pb) = (s.npy("x.npy", &x), s.npy("b.npy", &b));
    let out = s.path("a.npy");
    let o = run(&solve_args(
        &px,
        &pb,
        &out,
        &["--rtol", "1e-12", "--max-iter", "1"],
    ));
    expect_fail(&o, 1, &["did not converge", "last iterate"]);
    assert!(
        stdout(&o).contains("iteration cap reached"),
        "{}",
        stdout(&o)
    );
    assert!(out.exists(), "the last iterate is written");
}

#[test]
fn check_prints_formula_variables_shape_and_ir() {
    let o = keops(&[
        "check",
        "--formula",
        "Exp(-SqDist(x,y))*a",
        "--alias",
        "x=Vi(3)",
        "--alias",
        "y=Vj(3)",
        "--alias",
        "a=Vj(2)",
        "--var",
        "a",
    ]);
    let so = expect_ok(&o);
    for piece in [
        "formula:",
        "SqDist",
        "Sum over j (axis 1)",
        "x        Vi  dim 3",
        "y        Vj  dim 3",
        "a        Vj  dim 2",
        "formula dimension: 2",
        "output:    values, M × 2",
        "solve for `a`: ok",
        "IR (",
        "%0: dim",
    ] {
        assert!(so.contains(piece), "stdout lacks {piece:?}:\n{so}");
    }
    let o = keops(&[
        "check",
        "--formula",
        "SqDist(x,y)",
        "--alias",
        "x=Vi(3)",
        "--alias",
        "y=Vj(3)",
        "--reduction",
        "KMin_ArgKMin",
        "--k",
        "4",
        "--axis",
        "0",
    ]);
    let so = expect_ok(&o);
    assert!(
        so.contains("values and int64 indices") && so.contains("N × 4 (K·D = 4·1, k-major)"),
        "{so}"
    );
}

#[test]
fn errors_in_arguments_formula_and_reduction() {
    // A bad formula: exit 2, the formula and a caret line under the unknown name.
    let o = keops(&[
        "check",
        "--formula",
        "Exp(-SqDist(x,z))",
        "--alias",
        "x=Vi(3)",
        "--alias",
        "y=Vj(3)",
    ]);
    let err = expect_fail(&o, 2, &["unknown variable `z`", "Exp(-SqDist(x,z))"]);
    let caret_line = err
        .lines()
        .find(|l| l.trim_start().starts_with('^'))
        .expect("a caret line");
    let formula_line = err
        .lines()
        .find(|l| l.contains("Exp(-SqDist(x,z))"))
        .expect("the formula line");
    assert_eq!(
        caret_line.find('^'),
        formula_line.find('z'),
        "the caret sits under `z`:\n{err}"
    );

    // A bad alias.
    let o = keops(&["check", "--formula", "x", "--alias", "x=Vk(3)"]);
    expect_fail(&o, 2, &["unknown variable kind `Vk`", "^"]);

    // Unknown reduction, a K reduction without K, K on a plain one.
    let o = keops(&[
        "check",
        "--formula",
        "x",
        "--alias",
        "x=Vi(3)",
        "--reduction",
        "Median",
    ]);
    expect_fail(&o, 2, &["unknown reduction `Median`", "Sum, Min, Max"]);
    let o = keops(&[
        "check",
        "--formula",
        "x",
        "--alias",
        "x=Vi(3)",
        "--reduction",
        "KMin",
    ]);
    expect_fail(&o, 2, &["`KMin` reduction needs K"]);
    let o = keops(&[
        "check",
        "--formula",
        "x",
        "--alias",
        "x=Vi(3)",
        "--reduction",
        "Sum",
        "--k",
        "2",
    ]);
    expect_fail(&o, 2, &["takes no K"]);

    // --eps and --rtol exclude each other; a tolerance is required; axis is 0 or 1 (clap: exit 2).
    let o = keops(&[
        "solve",
        "--formula",
        "x",
        "--alias",
        "x=Vj(1)",
        "--var",
        "x",
        "--axis",
        "1",
        "--eps",
        "1e-6",
        "--rtol",
        "1e-6",
        "--out",
        "a.npy",
    ]);
    expect_fail(&o, 2, &["cannot be used with"]);
    let o = keops(&[
        "solve",
        "--formula",
        "x",
        "--alias",
        "x=Vj(1)",
        "--var",
        "x",
        "--axis",
        "1",
        "--out",
        "a.npy",
    ]);
    expect_fail(&o, 2, &["--eps"]);
    let o = keops(&[
        "check",
        "--formula",
        "x",
        "--alias",
        "x=Vi(3)",
        "--axis",
        "2",
    ]);
    expect_fail(&o, 2, &["--axis"]);
    let o = keops(&[
        "reduce",
        "--formula",
        "x",
        "--alias",
        "x=Vi(3)",
        "--axis",
        "1",
        "--input",
        "x.npy",
        "--out",
        "o.npy",
    ]);
    expect_fail(&o, 2, &["expected NAME=FILE.npy"]);

    // A formula not linear in the solved variable.
    let o = keops(&[
        "solve",
        "--formula",
        "Exp(-SqDist(x,y))*a*a",
        "--alias",
        "x=Vi(3)",
        "--alias",
        "y=Vj(3)",
        "--alias",
        "a=Vj(1)",
        "--var",
        "a",
        "--axis",
        "1",
        "--rtol",
        "1e-6",
        "--out",
        "a.npy",
    ]);
    expect_fail(&o, 2, &["linear"]);
}

#[test]
fn errors_in_inputs() {
    let s = Scratch::new("input-errors");
    let (x, y, a) = (points(5, 3, 0.1), points(6, 3, 0.2), points(6, 2, 0.3));
    let (px, py, pa) = (s.npy("x.npy", &x), s.npy("y.npy", &y), s.npy("a.npy", &a));
    let out = s.path("out.npy");

    // Missing input.
    let mut args = gauss_args(&px, &py, &pa, &out);
    let k = input_pos(&args, "y");
    args.drain(k - 1..=k);
    expect_fail(
        &run(&args),
        2,
        &["missing input for `y` (Vj(3))", "--input y=FILE.npy"],
    );

    // An input for no variable; twice the same variable.
    let mut args = gauss_args(&px, &py, &pa, &out);
    args.extend(["--input".into(), inp("z", &px)]);
    expect_fail(&run(&args), 2, &["no variable `z`", "x, y, a"]);
    let mut args = gauss_args(&px, &py, &pa, &out);
    args.extend(["--input".into(), inp("0", &px)]);
    expect_fail(&run(&args), 2, &["`x` is given twice"]);

    // Wrong column count; rows that disagree between y and a.
    let p2 = s.npy("x2.npy", &points(5, 2, 0.1));
    let err = expect_fail(
        &run(&gauss_args(&p2, &py, &pa, &out)),
        2,
        &["wrong shape for `x`", "3 columns", "2 columns"],
    );
    assert!(
        err.contains("x2.npy") && err.contains("[5, 2]"),
        "names the file and its shape:\n{err}"
    );
    let pa7 = s.npy("a7.npy", &points(7, 2, 0.3));
    expect_fail(
        &run(&gauss_args(&px, &py, &pa7, &out)),
        2,
        &["wrong shape for `a`", "6 rows", "7 rows", "a7.npy"],
    );

    // A 3-D array, and a 1-D array for a variable of dimension 3.
    let p3 = s.npy("x3.npy", &ArrayD::<f64>::zeros(vec![2, 2, 3]));
    expect_fail(
        &run(&gauss_args(&p3, &py, &pa, &out)),
        2,
        &["x3.npy", "3 dimensions"],
    );
    let p1 = s.npy("x1.npy", &Array1::<f64>::zeros(5));
    expect_fail(
        &run(&gauss_args(&p1, &py, &pa, &out)),
        2,
        &["wrong shape for `x`", "x1.npy", "[5]"],
    );

    // Dtype mismatch names both files.
    let p32 = s.npy("y32.npy", &y.mapv(|v| v as f32));
    expect_fail(
        &run(&gauss_args(&px, &p32, &pa, &out)),
        2,
        &[
            "disagree on dtype",
            "x.npy",
            "y32.npy",
            "float32",
            "--dtype",
        ],
    );

    // Unreadable files: missing, a folder, not .npy, truncated data, truncated header, an absurd header
    // shape, integers.
    let nowhere = s.path("nowhere.npy");
    expect_fail(
        &run(&gauss_args(&nowhere, &py, &pa, &out)),
        2,
        &["cannot read", "nowhere.npy"],
    );
    expect_fail(&run(&gauss_args(&s.0, &py, &pa, &out)), 2, &["cannot read"]);
    let junk = s.path("junk.npy");
    std::fs::write(&junk, b"x,y,z\n1,2,3\n").expect("write");
    expect_fail(
        &run(&gauss_args(&junk, &py, &pa, &out)),
        2,
        &["junk.npy", "is not a valid .npy file"],
    );
    let bytes = std::fs::read(&px).expect("read");
    let cut = s.path("cut.npy");
    std::fs::write(&cut, &bytes[..bytes.len() - 12]).expect("write");
    expect_fail(
        &run(&gauss_args(&cut, &py, &pa, &out)),
        2,
        &["cut.npy", "is truncated", "12 byte(s)"],
    );
    let cut_head = s.path("cut_head.npy");
    std::fs::write(&cut_head, &bytes[..30]).expect("write");
    expect_fail(
        &run(&gauss_args(&cut_head, &py, &pa, &out)),
        2,
        &["cut_head.npy"],
    );
    let huge = s.path("huge.npy");
    raw_npy(&huge, "<f8", false, &[1 << 40, 3], &[0u8; 24]);
    expect_fail(
        &run(&gauss_args(&huge, &py, &pa, &out)),
        2,
        &["huge.npy", "truncated"],
    );
    raw_npy(&huge, ">f4", true, &[3, 1 << 40], &[0u8; 24]);
    expect_fail(
        &run(&gauss_args(&huge, &py, &pa, &out)),
        2,
        &["huge.npy", "truncated"],
    );
    let trailing = s.path("trailing.npy");
    raw_npy(&trailing, "<f8", false, &[1, 3], &[0u8; 32]);
    expect_fail(
        &run(&gauss_args(&trailing, &py, &pa, &out)),
        2,
        &["trailing.npy", "8 byte(s) follow"],
    );
    let ints = s.npy("ints.npy", &Array2::<i64>::zeros((5, 3)));
    expect_fail(
        &run(&gauss_args(&ints, &py, &pa, &out)),
        2,
        &["ints.npy", "<i8", "expected float32"],
    );

    // An output that cannot be written.
    let bad_out = s.path("no/such/folder/out.npy");
    expect_fail(
        &run(&gauss_args(&px, &py, &pa, &bad_out)),
        2,
        &["cannot write", "out.npy"],
    );

    // The GPU back end in a build without one.
    let mut args = gauss_args(&px, &py, &pa, &out);
    args.extend(["--backend", "gpu"].map(String::from));
    let o = run(&args);
    if !o.status.success() {
        expect_fail(&o, 2, &["GPU"]);
    }
}

#[test]
fn solve_input_errors() {
    let s = Scratch::new("solve-errors");
    let x = points(20, 3, 0.4);
    let b = points(20, 2, 3.1);
    let (px, pb) = (s.npy("x.npy", &x), s.npy("b.npy", &b));
    let out = s.path("a.npy");

    // The right-hand side under another name: a hint at the solved variable's slot.
    let mut args = solve_args(&px, &pb, &out, &["--rtol", "1e-6"]);
    let k = input_pos(&args, "a");
    args[k] = inp("b", &pb);
    expect_fail(&run(&args), 2, &["no variable `b`", "--input a="]);

    // The right-hand side missing.
    let mut args = solve_args(&px, &pb, &out, &["--rtol", "1e-6"]);
    args.drain(k - 1..=k);
    expect_fail(
        &run(&args),
        2,
        &["missing input for `a`", "right-hand side"],
    );

    // A right-hand side with the wrong row count.
    let pb7 = s.npy("b7.npy", &points(7, 2, 3.1));
    expect_fail(
        &run(&solve_args(&px, &pb7, &out, &["--rtol", "1e-6"])),
        2,
        &["wrong shape for `a`", "b7.npy"],
    );

    // NaN in the points.
    let mut xn = x.clone();
    xn[[3, 1]] = f64::NAN;
    let pxn = s.npy("xnan.npy", &xn);
    expect_fail(
        &run(&solve_args(&pxn, &pb, &out, &["--eps", "1e-6"])),
        2,
        &["non-finite value in `x` at row 3", "xnan.npy"],
    );

    // A negative alpha, a negative tolerance.
    let mut args = solve_args(&px, &pb, &out, &["--rtol", "1e-6"]);
    let k = args.iter().position(|s| s == "--alpha").expect("alpha") + 1;
    args[k] = "-1".into();
    expect_fail(&run(&args), 2, &["alpha"]);
    expect_fail(
        &run(&solve_args(&px, &pb, &out, &["--eps", "-1"])),
        2,
        &["eps"],
    );
}

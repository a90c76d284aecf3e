//! Kernel solves: the seed case against the dense Cholesky solution and pykeops' `KernelSolve` output, the
//! run-time `KernelSolve` against the generated type, and every failure mode with its exact status or
//! error and a bounded number of iterations.

use keops::prelude::*;
use keops::{KernelSolve, SolveStatus};
use ndarray::{Array2, s};

use crate::support::*;

keops! {
    /// The seed's solve: `(alpha Id + K) a = b` with `K = Exp(-|x_i - x_j|)`.
    pub struct ExpSolve {
        formula: "Exp(-Norm2(x - y)) * a",
        aliases: [x = Vi(3), y = Vj(3), a = Vj(2)],
        solve: a,
        axis: 1,
    }
}

const FORMULA: &str = "Exp(-Norm2(x - y)) * a";
const ALIASES: [&str; 3] = ["x = Vi(3)", "y = Vj(3)", "a = Vj(2)"];

fn seed() -> (Array2<f64>, Array2<f64>) {
    (read_npy("seed-N1000/x.npy"), read_npy("seed-N1000/b.npy"))
}

/// The first `n` seed points and right-hand sides (smaller solves for the failure modes).
fn seed_head(n: usize) -> (Array2<f64>, Array2<f64>) {
    let (x, b) = seed();
    (
        x.slice(s![..n, ..]).to_owned(),
        b.slice(s![..n, ..]).to_owned(),
    )
}

fn statuses(rep: &SolveReport) -> Vec<SolveStatus> {
    rep.columns.iter().map(|c| c.status).collect()
}

// ---------------------------------------------------------------------------------------------------
// The seed

#[test]
fn seed_solver_matches_dense_cholesky() {
    let (x, b) = seed();
    let a_direct = read_npy("seed-N1000/a_direct.npy");
    let sol = ExpSolve
        .solver()
        .alpha(0.1)
        .rtol(1e-9)
        .solve(&x, &x, &b)
        .unwrap();
    let rep = &sol.report;
    assert!(rep.converged(), "{rep}");
    assert_eq!(statuses(rep), vec![SolveStatus::Converged; 2], "{rep}");
    for c in &rep.columns {
        assert!(c.true_relres <= 1e-9, "{rep}");
        assert!(c.iterations > 0 && c.iterations <= 1000, "{rep}");
    }
    assert!(rep.matvecs >= rep.iterations(), "{rep}");
    // κ ≈ 1.8e3 at N = 1000: a relative residual of 1e-9 bounds the error by ~2e-6 (observed far less)
    let e = rel_fro(&sol.a, &a_direct);
    eprintln!("seed solver(): {e:.2e} from the dense solution\n{rep}");
    assert!(
        e < 1e-6,
        "relative Frobenius error against the dense Cholesky solution: {e:e}\n{rep}"
    );
}

#[test]
fn seed_call_matches_pykeops() {
    let (x, b) = seed();
    let a_keops = read_npy("seed-N1000/a_keops.npy");
    let a = ExpSolve.call(&x, &x, &b, 0.1, 1e-6).unwrap();
    let e = rel_fro(&a, &a_keops);
    eprintln!("seed call(): {e:.2e} from pykeops' solution");
    assert!(
        e < 1e-5,
        "relative Frobenius error against pykeops' KernelSolve: {e:e}"
    );
    // and it solves the system as well as pykeops did (meta.json: relres 8.3e-7)
    let a_direct = read_npy("seed-N1000/a_direct.npy");
    let e = rel_fro(&a, &a_direct);
    assert!(
        e < 1e-5,
        "relative Frobenius error against the dense solution: {e:e}"
    );
}

#[test]
fn runtime_kernel_solve_matches_the_generated_type() {
    let (x, b) = seed_head(400);
    let ks = KernelSolve::new(FORMULA, &ALIASES, "a", 1).unwrap();
    let args = [x.view(), x.view(), b.view()];

    let rt = ks.solver().alpha(0.1).rtol(1e-10).solve(&args).unwrap();
    let gen_ = ExpSolve
        .solver()
        .alpha(0.1)
        .rtol(1e-10)
        .solve(&x, &x, &b)
        .unwrap();
    assert!(
        rt.report.converged() && gen_.report.converged(),
        "{}\n{}",
        rt.report,
        gen_.report
    );
    let e = rel_fro(&rt.a, &gen_.a);
    assert!(e < 1e-8, "solver(): runtime vs generated: {e:e}");

    let rt = ks.call(&args, 0.1, 1e-8).unwrap();
    let gen_ = ExpSolve.call(&x, &x, &b, 0.1, 1e-8).unwrap();
    let e = rel_fro(&rt, &gen_);
    assert!(e < 1e-8, "call(): runtime vs generated: {e:e}");

    // f32 through both
    let (x32, b32) = (to_t::<f32>(&x), to_t::<f32>(&b));
    let rt = ks
        .solver()
        .alpha(0.1)
        .rtol(1e-4)
        .solve(&[x32.view(), x32.view(), b32.view()])
        .unwrap();
    let gen_ = ExpSolve
        .solver()
        .alpha(0.1)
        .rtol(1e-4)
        .solve(&x32, &x32, &b32)
        .unwrap();
    assert!(
        rt.report.converged() && gen_.report.converged(),
        "{}\n{}",
        rt.report,
        gen_.report
    );
    let e = rel_fro(&to_f64(&rt.a), &to_f64(&gen_.a));
    assert!(e < 1e-3, "f32 solver(): runtime vs generated: {e:e}");
    let e = rel_fro(&to_f64(&gen_.a), &gen_solve_f64(&x, &b));
    assert!(e < 1e-3, "f32 solver() vs f64: {e:e}");
}

fn gen_solve_f64(x: &Array2<f64>, b: &Array2<f64>) -> Array2<f64> {
    ExpSolve
        .solver()
        .alpha(0.1)
        .rtol(1e-10)
        .solve(x, x, b)
        .unwrap()
        .a
}

// ---------------------------------------------------------------------------------------------------
// Rejected input: before any matvec, with the exact error

#[test]
fn nan_in_x_or_y_is_rejected_with_its_row() {
    let (x, b) = seed_head(200);
    let mut xn = x.clone();
    xn[[17, 2]] = f64::NAN;
    let non_finite = |r: Result<(), Error>, arg: &str, row: usize, what: &str| match r {
        Err(Error::NonFinite { arg: a, row: r }) => {
            assert_eq!((a.as_str(), r), (arg, row), "{what}")
        }
        other => panic!("{what}: expected Error::NonFinite, got {other:?}"),
    };
    non_finite(
        ExpSolve.solver().alpha(0.1).solve(&xn, &xn, &b).map(drop),
        "x",
        17,
        "solver, NaN in x",
    );
    non_finite(
        ExpSolve.call(&xn, &xn, &b, 0.1, 1e-6).map(drop),
        "x",
        17,
        "call, NaN in x",
    );
    non_finite(
        ExpSolve.solver().alpha(0.1).solve(&x, &xn, &b).map(drop),
        "y",
        17,
        "solver, NaN in y",
    );
    let mut xi = x.clone();
    xi[[150, 0]] = f64::INFINITY;
    non_finite(
        ExpSolve.call(&xi, &xi, &b, 0.1, 1e-6).map(drop),
        "x",
        150,
        "call, inf in x",
    );
    let ks = KernelSolve::new(FORMULA, &ALIASES, "a", 1).unwrap();
    non_finite(
        ks.solver()
            .alpha(0.1)
            .solve(&[xn.view(), xn.view(), b.view()])
            .map(drop),
        "x",
        17,
        "runtime solver, NaN in x",
    );
    // f32 as well
    let (xn32, b32) = (to_t::<f32>(&xn), to_t::<f32>(&b));
    non_finite(
        ExpSolve.call(&xn32, &xn32, &b32, 0.1, 1e-3).map(drop),
        "x",
        17,
        "f32 call, NaN in x",
    );
}

#[test]
fn nan_in_b_is_rejected_with_its_row() {
    let (x, b) = seed_head(200);
    let mut bn = b.clone();
    bn[[5, 1]] = f64::NAN;
    // `b` is passed in the solved variable's place: the error names that alias, `a`.
    for (what, r) in [
        (
            "solver",
            ExpSolve.solver().alpha(0.1).solve(&x, &x, &bn).map(drop),
        ),
        ("call", ExpSolve.call(&x, &x, &bn, 0.1, 1e-6).map(drop)),
    ] {
        match r {
            Err(Error::NonFinite { arg, row }) => {
                assert_eq!((arg.as_str(), row), ("a", 5), "{what}")
            }
            other => panic!("{what}: expected Error::NonFinite, got {other:?}"),
        }
    }
    bn[[5, 1]] = 0.0;
    bn[[199, 0]] = f64::NEG_INFINITY;
    match ExpSolve.solver().alpha(0.1).solve(&x, &x, &bn) {
        Err(Error::NonFinite { arg, row }) => assert_eq!((arg.as_str(), row), ("a", 199)),
        other => panic!("expected Error::NonFinite, got {other:?}"),
    }
}

#[test]
fn invalid_alpha_is_rejected() {
    let (x, b) = seed_head(50);
    let invalid = |r: Result<(), Error>, what: &str| {
        assert!(
            matches!(r, Err(Error::InvalidOption(_))),
            "{what}: expected Error::InvalidOption, got {r:?}"
        )
    };
    for alpha in [-0.1, -1e-300, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        invalid(
            ExpSolve.solver().alpha(alpha).solve(&x, &x, &b).map(drop),
            &format!("solver alpha {alpha}"),
        );
        invalid(
            ExpSolve.call(&x, &x, &b, alpha, 1e-6).map(drop),
            &format!("call alpha {alpha}"),
        );
        let ks = KernelSolve::new(FORMULA, &ALIASES, "a", 1).unwrap();
        invalid(
            ks.call(&[x.view(), x.view(), b.view()], alpha, 1e-6)
                .map(drop),
            &format!("runtime call alpha {alpha}"),
        );
    }
    // invalid tolerances too
    for (what, r) in [
        (
            "rtol -1",
            ExpSolve
                .solver()
                .alpha(0.1)
                .rtol(-1.0)
                .solve(&x, &x, &b)
                .map(drop),
        ),
        (
            "rtol NaN",
            ExpSolve
                .solver()
                .alpha(0.1)
                .rtol(f64::NAN)
                .solve(&x, &x, &b)
                .map(drop),
        ),
        (
            "rtol 0 atol 0",
            ExpSolve
                .solver()
                .alpha(0.1)
                .rtol(0.0)
                .atol(0.0)
                .solve(&x, &x, &b)
                .map(drop),
        ),
        ("eps 0", ExpSolve.call(&x, &x, &b, 0.1, 0.0).map(drop)),
        (
            "eps NaN",
            ExpSolve.call(&x, &x, &b, 0.1, f64::NAN).map(drop),
        ),
    ] {
        invalid(r, what);
    }
}

#[test]
fn shape_mismatch_is_rejected() {
    let (x, b) = seed_head(60);
    let shape = |r: Result<(), Error>, arg: &str, what: &str| match r {
        Err(Error::Shape { arg: a, .. }) => assert_eq!(a, arg, "{what}"),
        other => panic!("{what}: expected Error::Shape, got {other:?}"),
    };
    let b_short = b.slice(s![..59, ..]);
    shape(
        ExpSolve
            .solver()
            .alpha(0.1)
            .solve(&x, &x, b_short)
            .map(drop),
        "a",
        "solver, b rows",
    );
    shape(
        ExpSolve.call(&x, &x, b_short, 0.1, 1e-6).map(drop),
        "a",
        "call, b rows",
    );
    for cols in [1, 3] {
        let bc = Array2::<f64>::ones((60, cols));
        shape(
            ExpSolve.call(&x, &x, &bc, 0.1, 1e-6).map(drop),
            "a",
            &format!("call, b with {cols} columns"),
        );
    }
    // (solver() with b of the wrong width: see `solver_with_b_of_wrong_width_is_a_shape_error`)
    let x2 = x.slice(s![.., ..2]);
    shape(
        ExpSolve.solver().alpha(0.1).solve(x2, &x, &b).map(drop),
        "x",
        "solver, x columns",
    );
    shape(
        ExpSolve.call(&x, x2, &b, 0.1, 1e-6).map(drop),
        "y",
        "call, y columns",
    );
    // K must be square: x and y with different row counts
    let y_short = x.slice(s![..40, ..]);
    let r = ExpSolve
        .solver()
        .alpha(0.1)
        .solve(&x, y_short, &b)
        .map(drop);
    assert!(
        matches!(r, Err(Error::Shape { .. })),
        "solver, y rows: {r:?}"
    );
    // runtime: wrong number of arguments
    let ks = KernelSolve::new(FORMULA, &ALIASES, "a", 1).unwrap();
    shape(
        ks.solver()
            .alpha(0.1)
            .solve(&[x.view(), b.view()])
            .map(drop),
        "arguments",
        "runtime solver, 2 args",
    );
    shape(
        ks.call(&[x.view(), x.view(), b.view(), b.view()], 0.1, 1e-6)
            .map(drop),
        "arguments",
        "runtime call, 4 args",
    );
}

#[test]
fn solver_with_b_of_wrong_width_is_a_shape_error() {
    let (x, _) = seed_head(60);
    for cols in [1, 3] {
        let b = Array2::<f64>::ones((60, cols));
        match ExpSolve.solver().alpha(0.1).solve(&x, &x, &b) {
            Err(Error::Shape { arg, .. }) => assert_eq!(arg, "a", "{cols} columns"),
            other => panic!("b with {cols} columns: expected Error::Shape, got {other:?}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// Numerical failure modes: the exact status, bounded iterations

#[test]
fn max_iter_exhausted() {
    let (x, b) = seed_head(300);
    let sol = ExpSolve
        .solver()
        .alpha(0.1)
        .rtol(1e-12)
        .max_iter(3)
        .solve(&x, &x, &b)
        .unwrap();
    assert_eq!(
        statuses(&sol.report),
        vec![SolveStatus::MaxIterations; 2],
        "{}",
        sol.report
    );
    assert!(
        sol.report.columns.iter().all(|c| c.iterations == 3),
        "{}",
        sol.report
    );
    assert!(!sol.report.converged());
    assert!(
        sol.a.iter().all(|v| v.is_finite()) && sol.a.iter().any(|v| *v != 0.0),
        "the iterate is returned"
    );
    // strict: an error carrying the report
    match ExpSolve
        .solver()
        .alpha(0.1)
        .rtol(1e-12)
        .max_iter(3)
        .strict()
        .solve(&x, &x, &b)
    {
        Err(Error::Solve(rep)) => {
            assert_eq!(statuses(&rep), vec![SolveStatus::MaxIterations; 2], "{rep}");
            assert_eq!(rep.iterations(), 3);
        }
        other => panic!("strict: expected Error::Solve, got {other:?}"),
    }
}

#[test]
fn indefinite_kernel_reports_negative_curvature() {
    let (x, b) = seed_head(200);
    let ks = KernelSolve::new("-Exp(-SqDist(x, y)) * a", &ALIASES, "a", 1).unwrap();
    let args = [x.view(), x.view(), b.view()];
    let sol = ks.solver().alpha(0.1).rtol(1e-8).solve(&args).unwrap();
    for c in &sol.report.columns {
        assert!(
            matches!(c.status, SolveStatus::NegativeCurvature { iter } if (1..=5).contains(&iter)),
            "{}",
            sol.report
        );
        assert!(c.iterations <= 5, "{}", sol.report);
    }
    assert!(!sol.report.converged());
    assert!(matches!(
        ks.solver().alpha(0.1).strict().solve(&args),
        Err(Error::Solve(_))
    ));
    // the seed semantics stop too, with an error
    match ks.call(&args, 0.1, 1e-6) {
        Err(Error::Solve(rep)) => assert!(
            rep.columns
                .iter()
                .all(|c| matches!(c.status, SolveStatus::NegativeCurvature { .. })),
            "{rep}"
        ),
        other => panic!("call: expected Error::Solve, got {other:?}"),
    }
}

#[test]
fn zero_rhs_gives_exact_zeros() {
    let (x, _) = seed_head(100);
    let z = Array2::<f64>::zeros((100, 2));
    let sol = ExpSolve.solver().alpha(0.1).solve(&x, &x, &z).unwrap();
    assert_eq!(
        statuses(&sol.report),
        vec![SolveStatus::ZeroRhs; 2],
        "{}",
        sol.report
    );
    assert!(sol.report.converged());
    assert_eq!(sol.report.iterations(), 0);
    assert!(
        sol.a.iter().all(|v| v.to_bits() == 0),
        "exact +0.0 expected: {:?}",
        sol.a
    );
    let a = ExpSolve.call(&x, &x, &z, 0.1, 1e-6).unwrap();
    assert!(a.iter().all(|v| *v == 0.0));
    // strict is fine with zero right-hand sides
    assert!(
        ExpSolve
            .solver()
            .alpha(0.1)
            .strict()
            .solve(&x, &x, &z)
            .is_ok()
    );
}

#[test]
fn one_zero_column_among_others() {
    let (x, mut b) = seed_head(200);
    b.column_mut(1).fill(0.0);
    let sol = ExpSolve
        .solver()
        .alpha(0.1)
        .rtol(1e-9)
        .solve(&x, &x, &b)
        .unwrap();
    assert_eq!(
        statuses(&sol.report),
        vec![SolveStatus::Converged, SolveStatus::ZeroRhs],
        "{}",
        sol.report
    );
    assert_eq!(sol.report.columns[1].iterations, 0);
    assert!(
        sol.a.column(1).iter().all(|v| *v == 0.0),
        "the zero column's solution is exactly 0"
    );
    // column 0 equals the single-column solve
    let b0 = b.slice(s![.., ..1]).to_owned();
    let ks = KernelSolve::new(FORMULA, &["x = Vi(3)", "y = Vj(3)", "a = Vj(1)"], "a", 1).unwrap();
    let one = ks
        .solver()
        .alpha(0.1)
        .rtol(1e-9)
        .solve(&[x.view(), x.view(), b0.view()])
        .unwrap();
    let col0 = sol.a.slice(s![.., ..1]).to_owned();
    let e = rel_fro(&col0, &one.a);
    assert!(e < 1e-7, "column 0 vs its own solve: {e:e}");
}

#[test]
fn tiny_rhs_is_solved_not_zeroed() {
    let (x, b) = seed_head(300);
    let tiny = b.mapv(|v| v * 1e-30);
    let sol = ExpSolve
        .solver()
        .alpha(0.1)
        .rtol(1e-9)
        .solve(&x, &x, &tiny)
        .unwrap();
    assert!(sol.report.converged(), "{}", sol.report);
    assert!(sol.a.iter().any(|v| *v != 0.0), "tiny b returned as zeros");
    let normal = ExpSolve
        .solver()
        .alpha(0.1)
        .rtol(1e-9)
        .solve(&x, &x, &b)
        .unwrap();
    let e = rel_fro(&sol.a.mapv(|v| v * 1e30), &normal.a);
    assert!(
        e < 1e-7,
        "tiny b solved {e:e} away from the scaled normal solution"
    );
    // the seed semantics (absolute RMS stop) return zeros here, as pykeops does: documented
    let seed = ExpSolve.call(&x, &x, &tiny, 0.1, 1e-6).unwrap();
    assert!(
        seed.iter().all(|v| *v == 0.0),
        "call() with RMS(b) < eps returns zeros"
    );
}

#[test]
fn f32_with_an_infeasible_tolerance_never_converges() {
    let (x, b) = seed_head(300);
    let (x32, b32) = (to_t::<f32>(&x), to_t::<f32>(&b));
    let sol = ExpSolve
        .solver()
        .alpha(0.1)
        .rtol(1e-12)
        .max_iter(400)
        .solve(&x32, &x32, &b32)
        .unwrap();
    eprintln!("f32, rtol 1e-12:\n{}", sol.report);
    for c in &sol.report.columns {
        assert!(
            matches!(
                c.status,
                SolveStatus::Stagnated | SolveStatus::MaxIterations
            ),
            "rtol 1e-12 in f32 reported {:?}\n{}",
            c.status,
            sol.report
        );
        assert!(c.iterations <= 400, "{}", sol.report);
        // the iterate is still a good f32 solution
        assert!(c.true_relres < 1e-3, "{}", sol.report);
    }
    assert!(!sol.report.converged());
    assert!(matches!(
        ExpSolve
            .solver()
            .alpha(0.1)
            .rtol(1e-12)
            .max_iter(400)
            .strict()
            .solve(&x32, &x32, &b32),
        Err(Error::Solve(_))
    ));
}

//! The seed example: solve `(alpha·Id + K_xx) a = b` for the exponential kernel `K = exp(-|x - y|)`
//! on N random points in 3-D with two right-hand sides, by conjugate gradients, without storing K.
//!
//! `cargo run --release --example kernel_solve -- [--n 10000] [--f32 | --f64]`

use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use keops::prelude::*;
use ndarray::Array2;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, StandardNormal};

keops! {
    /// `(alpha Id + K_xx)^-1 b` for `K(x, y) = exp(-|x - y|)`.
    pub struct ExpSolve {
        formula: "Exp(-Norm2(x - y)) * a",
        aliases: [x = Vi(3), y = Vj(3), a = Vj(2)],
        solve: a,
        axis: 1,
    }
}

keops! {
    /// `K_xy a`: the same kernel as a sum, to measure residuals.
    pub struct ExpConv {
        formula: "Exp(-Norm2(x - y)) * a",
        aliases: [x = Vi(3), y = Vj(3), a = Vj(2)],
        reduction: Sum,
        axis: 1,
    }
}

struct Args {
    n: usize,
    f32: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        n: 10_000,
        f32: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--n" => {
                let v = it.next().ok_or("--n needs a value")?;
                args.n = v.parse().map_err(|_| format!("--n: not a number: {v}"))?;
            }
            "--f32" => args.f32 = true,
            "--f64" => args.f32 = false,
            "-h" | "--help" => {
                println!("usage: kernel_solve [--n N] [--f32 | --f64]");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument `{other}` (try --help)")),
        }
    }
    Ok(args)
}

fn randn<T: Real>(rng: &mut StdRng, rows: usize, cols: usize) -> Array2<T> {
    Array2::from_shape_simple_fn((rows, cols), || {
        let v: f64 = StandardNormal.sample(rng);
        T::from_f64(v)
    })
}

fn run<T: Real>(n: usize) -> Result<(), Error> {
    let (alpha, eps) = (0.1, 1e-6);
    let mut rng = StdRng::seed_from_u64(0);
    let x: Array2<T> = randn(&mut rng, n, 3);
    let b: Array2<T> = randn(&mut rng, n, 2);
    println!(
        "Kernel solve, N = {n}, D = 3, Dv = 2, {}: (0.1 Id + exp(-|x - y|)) a = b",
        T::NAME
    );

    // The seed's call: pykeops' stopping rule ||r||² < numel(b)·eps², x0 = 0.
    let t0 = Instant::now();
    let a = ExpSolve.call(&x, &x, &b, T::from_f64(alpha), T::from_f64(eps))?;
    let seed_time = t0.elapsed();
    let ka = ExpConv.call(&x, &x, &a)?;
    let res = &ka + &a.mapv(|v| v * T::from_f64(alpha)) - &b;
    let mean_abs: f64 = res.iter().map(|r| r.to_f64().abs()).sum::<f64>() / n as f64;
    println!(
        "seed call   (eps = {eps:e}): {:.3} s",
        seed_time.as_secs_f64()
    );
    println!(
        "  mean absolute residual, summed over columns (the seed's \"Mean squared error\" line): {mean_abs:.3e}"
    );

    // The safe solver: per-column relative tolerance, true residuals, a report; progress after 1 s.
    let start = Instant::now();
    let mut last = Duration::ZERO;
    let sol = ExpSolve
        .solver()
        .alpha(alpha)
        .rtol(if T::NAME == "f32" { 1e-5 } else { 1e-8 })
        .callback(|p| {
            if p.elapsed >= last + Duration::from_secs(1) {
                last = p.elapsed;
                eprint!(
                    "\r  iteration {:>5}, max relative residual {:.2e}   ",
                    p.iteration, p.max_relres
                );
            }
            ControlFlow::Continue(())
        })
        .solve(&x, &x, &b)?;
    if last > Duration::ZERO {
        eprintln!();
    }
    println!(
        "solver()    (rtol = {:e}): {:.3} s, {} iterations",
        if T::NAME == "f32" { 1e-5 } else { 1e-8 },
        start.elapsed().as_secs_f64(),
        sol.report.iterations()
    );
    print!("{}", sol.report);
    let diff = (&sol.a - &a)
        .iter()
        .map(|d| d.to_f64().powi(2))
        .sum::<f64>()
        .sqrt()
        / a.iter().map(|d| d.to_f64().powi(2)).sum::<f64>().sqrt();
    println!("relative difference between the two solutions: {diff:.2e}");
    Ok(())
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    let res = if args.f32 {
        run::<f32>(args.n)
    } else {
        run::<f64>(args.n)
    };
    if let Err(e) = res {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

//! Gaussian kernel sum `out_i = Σ_j exp(-|x_i - y_j|²) b_j` on random points, timed.
//!
//! `cargo run --release --example gaussian_conv -- [--n 100000] [--f32 | --f64]`

use std::time::Instant;

use keops::prelude::*;
use ndarray::Array2;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, StandardNormal};

keops! {
    /// `Σ_j exp(-|x_i - y_j|²) b_j`
    pub struct GaussConv {
        formula: "Exp(-SqDist(x, y)) * b",
        aliases: [x = Vi(3), y = Vj(3), b = Vj(2)],
        reduction: Sum,
        axis: 1,
    }
}

fn randn<T: Real>(rng: &mut StdRng, rows: usize, cols: usize) -> Array2<T> {
    Array2::from_shape_simple_fn((rows, cols), || T::from_f64(StandardNormal.sample(rng)))
}

fn run<T: Real>(n: usize) -> Result<(), Error> {
    let mut rng = StdRng::seed_from_u64(1);
    let x: Array2<T> = randn(&mut rng, n, 3);
    let y: Array2<T> = randn(&mut rng, n, 3);
    let b: Array2<T> = randn(&mut rng, n, 2);
    GaussConv.call(&x, &y, &b)?; // warm-up
    let t0 = Instant::now();
    let out = GaussConv.call(&x, &y, &b)?;
    let dt = t0.elapsed().as_secs_f64();
    println!(
        "Gaussian sum, M = N = {n}, D = 3, Dv = 2, {}: {dt:.3} s, {:.3e} kernel entries/s (out[0] = [{:.6}, {:.6}])",
        T::NAME,
        (n as f64) * (n as f64) / dt,
        out[[0, 0]],
        out[[0, 1]]
    );
    Ok(())
}

fn main() {
    let mut n = 100_000;
    let mut f32 = false;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--n" => {
                n = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or_else(|| usage())
            }
            "--f32" => f32 = true,
            "--f64" => f32 = false,
            _ => usage(),
        }
    }
    let res = if f32 { run::<f32>(n) } else { run::<f64>(n) };
    if let Err(e) = res {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn usage() -> ! {
    eprintln!("usage: gaussian_conv [--n N] [--f32 | --f64]");
    std::process::exit(2);
}

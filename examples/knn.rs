//! K nearest neighbours with `ArgKMin` on squared distances: for each query point, the indices of its K
//! closest reference points, without a distance matrix.
//!
//! `cargo run --release --example knn -- [--n 100000] [--k 8]`

use std::time::Instant;

use keops::prelude::*;
use ndarray::Array2;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, StandardNormal};

keops! {
    /// Indices of the 8 nearest `y_j` of each `x_i`.
    pub struct Knn {
        formula: "SqDist(x, y)",
        aliases: [x = Vi(3), y = Vj(3)],
        reduction: ArgKMin(8),
        axis: 1,
    }
}

fn main() -> Result<(), Error> {
    let mut n = 100_000usize;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        if a == "--n" {
            n = it.next().and_then(|v| v.parse().ok()).unwrap_or(n);
        }
    }
    let mut rng = StdRng::seed_from_u64(2);
    let mut randn =
        |rows| Array2::<f32>::from_shape_simple_fn((rows, 3), || StandardNormal.sample(&mut rng));
    let queries = randn(n / 10);
    let points = randn(n);
    let t0 = Instant::now();
    let idx = Knn.call(&queries, &points)?;
    let dt = t0.elapsed().as_secs_f64();
    println!(
        "8-NN of {} queries among {n} points (f32): {dt:.3} s, {:.3e} distances/s",
        queries.nrows(),
        queries.nrows() as f64 * n as f64 / dt
    );
    let q = queries.row(0);
    println!("query 0 = {q}");
    for &j in idx.row(0).iter().take(3) {
        let p = points.row(j);
        let d2: f32 = q.iter().zip(p.iter()).map(|(a, b)| (a - b) * (a - b)).sum();
        println!("  neighbour {j:>6}: {p}, squared distance {d2:.5}");
    }
    Ok(())
}

//! Genred throughput on the CPU: kernel entries per second (M·N / time) for the exponential and Gaussian
//! kernels (D = 3, Dv = 2), f32 and f64, against the hand-vectorised C++ loop of
//! `../shared/peers/ceiling_probe.cpp` measured in the same run, plus the run-time interpreter and the
//! peak memory of a reduction with a million rows on one side.
//!
//! `cargo bench --bench genred [-- --n 100000 --reps 3 --quick]`

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use keops::prelude::*;
use ndarray::Array2;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, StandardNormal};

keops! {
    /// The seed's kernel.
    pub struct ExpK {
        formula: "Exp(-Norm2(x - y)) * a",
        aliases: [x = Vi(3), y = Vj(3), a = Vj(2)],
        reduction: Sum,
        axis: 1,
    }
}

keops! {
    /// The Gaussian kernel.
    pub struct GaussK {
        formula: "Exp(-SqDist(x, y)) * a",
        aliases: [x = Vi(3), y = Vj(3), a = Vj(2)],
        reduction: Sum,
        axis: 1,
    }
}

const FORMULAS: [(&str, &str); 2] = [
    ("exp  ", "Exp(-Norm2(x - y)) * a"),
    ("gauss", "Exp(-SqDist(x, y)) * a"),
];

fn randn<T: Real>(rng: &mut StdRng, rows: usize, cols: usize) -> Array2<T> {
    Array2::from_shape_simple_fn((rows, cols), || T::from_f64(StandardNormal.sample(rng)))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn time(reps: usize, mut f: impl FnMut()) -> f64 {
    f();
    median(
        (0..reps)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64()
            })
            .collect(),
    )
}

/// Entries/s of the generated kernel (`kernel` 0: exp, 1: Gaussian) and of the interpreter.
fn ours<T: Real>(kernel: usize, n: usize, reps: usize) -> (f64, f64) {
    let mut rng = StdRng::seed_from_u64(0);
    let x: Array2<T> = randn(&mut rng, n, 3);
    let a: Array2<T> = randn(&mut rng, n, 2);
    let entries = (n * n) as f64;
    let t = time(reps, || {
        let r = if kernel == 0 {
            ExpK.call(&x, &x, &a)
        } else {
            GaussK.call(&x, &x, &a)
        };
        std::hint::black_box(r.expect("valid inputs"));
    });
    let g = Genred::new(
        FORMULAS[kernel].1,
        &["x = Vi(3)", "y = Vj(3)", "a = Vj(2)"],
        Reduction::Sum,
        1,
    )
    .expect("valid formula");
    let ti = time(reps, || {
        std::hint::black_box(
            g.call(&[x.view(), x.view(), a.view()])
                .expect("valid inputs"),
        );
    });
    (entries / t, entries / ti)
}

/// Runs the C++ probe (compiled here with g++ if the source is present) and parses its four lines.
fn probe(n: usize, reps: usize) -> Option<Vec<f64>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/peers/ceiling_probe.cpp");
    if !src.exists() {
        println!("probe: {} is missing; no peer numbers", src.display());
        return None;
    }
    let bin = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/ceiling_probe");
    if !bin.exists() {
        let ok = Command::new("g++")
            .args(["-O3", "-march=native", "-ffast-math", "-fopenmp"])
            .arg(&src)
            .arg("-o")
            .arg(&bin)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !ok {
            println!("probe: g++ failed or is missing; no peer numbers");
            return None;
        }
    }
    let out = Command::new(&bin)
        .args([n.to_string(), reps.to_string()])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let rates: Vec<f64> = text
        .lines()
        .filter_map(|l| {
            l.split_whitespace().find_map(|w| {
                if w.contains("e+") {
                    w.parse().ok()
                } else {
                    None
                }
            })
        })
        .collect();
    (rates.len() == 4).then_some(rates)
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse::<f64>().ok())
            })
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn main() {
    let mut sizes = vec![10_000usize, 100_000];
    let mut reps = 3;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--n" => sizes = vec![it.next().and_then(|v| v.parse().ok()).expect("--n N")],
            "--reps" => reps = it.next().and_then(|v| v.parse().ok()).expect("--reps R"),
            "--quick" => sizes = vec![10_000],
            _ => {}
        }
    }
    println!("threads: {}", rayon::current_num_threads());
    for &n in &sizes {
        let peer = probe(n, reps);
        println!("\nN = M = {n}, D = 3, Dv = 2 (entries/s, median of {reps})");
        println!(
            "{:<6} {:<5} {:>11} {:>11} {:>7} {:>11} {:>9}",
            "dtype", "kern", "keops-rs", "C++ probe", "ratio", "interp", "interp/gen"
        );
        for (d, dtype) in ["f32", "f64"].iter().enumerate() {
            for (k, (name, _)) in FORMULAS.iter().enumerate() {
                let (gen_rate, interp_rate) = if d == 0 {
                    ours::<f32>(k, n, reps)
                } else {
                    ours::<f64>(k, n, reps)
                };
                // The probe prints f32 exp, f32 gauss, f64 exp, f64 gauss.
                let p = peer.as_ref().map(|p| p[2 * d + k]);
                println!(
                    "{dtype:<6} {name:<5} {gen_rate:>11.3e} {:>11} {:>7} {interp_rate:>11.3e} {:>9.2}",
                    p.map_or("-".into(), |p| format!("{p:.3e}")),
                    p.map_or("-".into(), |p| format!("{:.2}", gen_rate / p)),
                    interp_rate / gen_rate
                );
            }
        }
    }
    // Memory: a million rows on each side in turn; no M×N storage.
    let base = peak_rss_mib();
    let mut rng = StdRng::seed_from_u64(3);
    let big: Array2<f32> = randn(&mut rng, 1_000_000, 3);
    let big_a: Array2<f32> = randn(&mut rng, 1_000_000, 2);
    let small: Array2<f32> = randn(&mut rng, 1_000, 3);
    let small_a: Array2<f32> = randn(&mut rng, 1_000, 2);
    let inputs = peak_rss_mib();
    let t = Instant::now();
    GaussK.call(&big, &small, &small_a).expect("valid");
    GaussK.call(&small, &big, &big_a).expect("valid");
    println!(
        "\nmemory: M = 1e6 × N = 1e3 and M = 1e3 × N = 1e6 (f32, {:.2} s): peak RSS {:.0} MiB \
         (before inputs {base:.0} MiB, inputs {:.0} MiB; an M×N matrix would be 3815 MiB)",
        t.elapsed().as_secs_f64(),
        peak_rss_mib(),
        inputs - base
    );
}

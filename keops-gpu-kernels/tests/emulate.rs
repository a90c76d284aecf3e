//! The emitted kernels compute what the reference evaluator computes, checked without a GPU: the CUDA C
//! of the whole coverage set ([`samples::coverage`]) is compiled as host C++ with a few shims (`__device__`
//! and friends, `__syncthreads()` as a barrier, `rsqrtf`, the bit-cast intrinsics) and every launch is
//! emulated block by block, one host thread per CUDA thread. Small blocks (4 threads) and sizes that
//! leave partial tiles and idle threads (M = 6, N = 11) exercise the tiling; inputs drawn from a small set
//! of dyadic values give exact zeros, halves and many ties, so the edge cases and the first-index tie
//! rules are compared exactly. Results must match [`reference::genred`] (values within a tolerance per
//! type, NaN = NaN; indices exactly, or in `f32` an index whose value ties in `f32`).
//!
//! This checks the printed C semantics, not NVIDIA's math library or the hardware: `tests/nvrtc.rs`
//! checks that the same source compiles for the GPU, and a run on a GPU closes the loop. Needs a C++17
//! compiler (`$CXX`, else `c++`); without one the test says it was skipped and passes.

use std::fmt::Write as _;
use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::Instant;

use keops_gpu_kernels::samples::{self, Case};
use keops_gpu_kernels::{CudaKernel, Dtype, OutputKind, cuda_program};
use keops_ir::reference;
use keops_ir::{Cat, Kernel, Slot};

const SHIMS: &str = r#"
#include <cmath>
#include <math.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>
#include <mutex>
#include <condition_variable>

struct keops_dim3 { unsigned int x, y, z; };
static keops_dim3 blockIdx, blockDim;
static thread_local keops_dim3 threadIdx;

struct keops_barrier_t {
  std::mutex m; std::condition_variable cv; unsigned n, count = 0, gen = 0;
  explicit keops_barrier_t(unsigned n) : n(n) {}
  void wait() {
    std::unique_lock<std::mutex> l(m);
    unsigned g = gen;
    if (++count == n) { count = 0; gen++; cv.notify_all(); } else { cv.wait(l, [&] { return g != gen; }); }
  }
};
static keops_barrier_t* keops_barrier;
static inline void __syncthreads() { keops_barrier->wait(); }
static inline float keops_int_as_float(int i) { float f; std::memcpy(&f, &i, 4); return f; }
static inline double keops_longlong_as_double(long long i) { double f; std::memcpy(&f, &i, 8); return f; }
static inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
static inline double rsqrt(double x) { return 1.0 / sqrt(x); }
#define __int_as_float keops_int_as_float
#define __longlong_as_double keops_longlong_as_double
#define __expf expf
#define __logf logf
#define __sinf sinf
#define __cosf cosf
#define __powf powf
#define __device__
#define __global__
#define __forceinline__ inline
#define __shared__
#define __align__(n) __attribute__((aligned(n)))
#define __launch_bounds__(...)
alignas(16) unsigned char keops_smem[1 << 20];
"#;

const MAIN: &str = r#"
template <class T> using keops_fn = void (*)(long long, long long, const T*, const T*, const T*, T*, long long*);

template <class T>
static void launch(keops_fn<T> k, unsigned grid, unsigned block, long long rows, long long red, const T* o,
                   const T* in, const T* p, T* v, long long* idx) {
  blockDim = {block, 1, 1};
  for (unsigned b = 0; b < grid; b++) {
    blockIdx = {b, 0, 0};
    keops_barrier_t bar(block);
    keops_barrier = &bar;
    std::vector<std::thread> ts;
    for (unsigned t = 0; t < block; t++) ts.emplace_back([=] { threadIdx = {t, 0, 0}; k(rows, red, o, in, p, v, idx); });
    for (auto& th : ts) th.join();
  }
}

static std::string token() {
  char buf[128];
  if (std::scanf("%127s", buf) != 1) { std::fprintf(stderr, "unexpected end of input\n"); std::exit(2); }
  return buf;
}
static long long integer() { return std::atoll(token().c_str()); }

template <class T> static std::vector<T> read(long long n) {
  std::vector<T> v(n);
  for (long long k = 0; k < n; k++) v[k] = (T)std::strtod(token().c_str(), nullptr);
  return v;
}

template <class T> static void run(keops_fn<T> k, const char* fmt) {
  long long rows = integer(), red = integer(), block = integer(), grid = integer();
  long long no = integer(), ni = integer(), np = integer(), nv = integer(), nx = integer();
  std::vector<T> o = read<T>(no), in = read<T>(ni), p = read<T>(np);
  std::vector<T> v(nv, (T)12345.5);
  std::vector<long long> x(nx, -7);
  launch<T>(k, (unsigned)grid, (unsigned)block, rows, red, no ? o.data() : nullptr, ni ? in.data() : nullptr,
            np ? p.data() : nullptr, nv ? v.data() : nullptr, nx ? x.data() : nullptr);
  std::printf("OUT");
  for (auto a : v) std::printf(fmt, (double)a);
  for (auto a : x) std::printf(" %lld", a);
  std::printf("\n");
}

int main() {
  long long cases = integer();
  for (long long c = 0; c < cases; c++) {
    std::string name = token();
    bool found = false;
    for (const auto& e : keops_table) {
      if (name != e.name) continue;
      found = true;
      if (e.f32) run<float>(e.f32, " %.9g"); else run<double>(e.f64, " %.17g");
      break;
    }
    if (!found) { std::fprintf(stderr, "unknown kernel %s\n", name.c_str()); return 2; }
  }
  std::fflush(stdout);
  return 0;
}
"#;

/// The C++ translation unit: shims, every kernel, a table of entry points, the driver.
fn harness(kernels: &[CudaKernel]) -> String {
    let mut s = String::from(SHIMS);
    s.push_str(&cuda_program(kernels));
    s.push_str(
        "typedef void (*keops_f32)(long long, long long, const float*, const float*, const float*, float*, long long*);\n\
         typedef void (*keops_f64)(long long, long long, const double*, const double*, const double*, double*, long long*);\n\
         struct keops_entry { const char* name; keops_f32 f32; keops_f64 f64; };\n\
         static const keops_entry keops_table[] = {\n",
    );
    let mut seen = std::collections::HashSet::new();
    for k in kernels.iter().filter(|k| seen.insert(&k.name)) {
        let (a, b) = match k.dtype {
            Dtype::F32 => (format!("&{}", k.name), "nullptr".to_string()),
            Dtype::F64 => ("nullptr".to_string(), format!("&{}", k.name)),
        };
        writeln!(s, "  {{\"{}\", {a}, {b}}},", k.name).unwrap();
    }
    s.push_str("};\n");
    s.push_str(MAIN);
    s
}

/// Inputs from a small set of dyadic values (exact in `f32`): zeros, halves, repeated values.
const VALUES: [f64; 10] = [-2.0, -1.5, -1.0, -0.5, 0.0, 0.25, 0.5, 1.0, 1.5, 2.5];

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as usize
    }
}

const M: usize = 6;
const N: usize = 11;
const BLOCK: u32 = 4;

/// One case's inputs, per variable in call order.
fn inputs(kernel: &Kernel, seed: u64) -> Vec<Vec<f64>> {
    let mut rng = Lcg(seed);
    kernel
        .ir
        .vars
        .iter()
        .map(|v| {
            let rows = match v.cat {
                Cat::Vi => M,
                Cat::Vj => N,
                Cat::Pm => 1,
            };
            (0..rows * v.dim)
                .map(|_| VALUES[rng.next() % VALUES.len()])
                .collect()
        })
        .collect()
}

/// The request line for one case.
fn request(out: &mut String, c: &CudaKernel, kernel: &Kernel, vars: &[Vec<f64>]) {
    let l = &c.layout;
    let (rows, red) = if kernel.axis == 1 { (M, N) } else { (N, M) };
    let mut outer = vec![0.0; rows * l.outer_dim];
    let mut inner = vec![0.0; red * l.inner_dim];
    let mut params = vec![0.0; l.param_dim];
    for (k, v) in kernel.ir.vars.iter().enumerate() {
        let (slot, off) = l.vars[k];
        let (buf, width) = match slot {
            Slot::Outer => (&mut outer, l.outer_dim),
            Slot::Inner => (&mut inner, l.inner_dim),
            Slot::Param => (&mut params, l.param_dim),
        };
        for (r, row) in vars[k].chunks(v.dim).enumerate() {
            buf[r * width + off..r * width + off + v.dim].copy_from_slice(row);
        }
    }
    let n = rows * c.out_cols;
    let (nv, nx) = match c.output {
        OutputKind::Values => (n, 0),
        OutputKind::Indices => (0, n),
        OutputKind::ValuesIndices => (n, n),
    };
    let grid = rows.div_ceil(BLOCK as usize);
    write!(
        out,
        "{} {rows} {red} {BLOCK} {grid} {} {} {} {nv} {nx}",
        c.name,
        outer.len(),
        inner.len(),
        params.len()
    )
    .unwrap();
    for x in outer.iter().chain(&inner).chain(&params) {
        write!(out, " {x:e}").unwrap();
    }
    out.push('\n');
}

fn parse_value(s: &str) -> f64 {
    if s.contains("nan") {
        f64::NAN
    } else {
        s.parse().unwrap_or_else(|_| panic!("bad value `{s}`"))
    }
}

/// F's component `d` at output row `r`, reduced index `t`, in `f64`.
fn formula_value(kernel: &Kernel, vars: &[Vec<f64>], r: usize, t: usize, d: usize) -> f64 {
    let (i, j) = if kernel.axis == 1 { (r, t) } else { (t, r) };
    let rows: Vec<&[f64]> = kernel
        .ir
        .vars
        .iter()
        .enumerate()
        .map(|(k, v)| {
            let at = match v.cat {
                Cat::Vi => i,
                Cat::Vj => j,
                Cat::Pm => 0,
            };
            &vars[k][at * v.dim..(at + 1) * v.dim]
        })
        .collect();
    reference::eval(&kernel.ir, kernel.formula, &rows)[d]
}

/// Checks one case's output line against the reference; returns the problems found.
fn check(case: &Case, c: &CudaKernel, vars: &[Vec<f64>], line: &str) -> Vec<String> {
    let kernel = &case.kernel;
    let slices: Vec<&[f64]> = vars.iter().map(|v| v.as_slice()).collect();
    let want = reference::genred(kernel, &slices);
    let mut tokens = line.split_whitespace();
    assert_eq!(
        tokens.next(),
        Some("OUT"),
        "{}: bad output line",
        case.label
    );
    let n = want.rows * want.cols;
    let got_values: Vec<f64> = match c.output {
        OutputKind::Indices => vec![],
        _ => tokens.by_ref().take(n).map(parse_value).collect(),
    };
    let got_indices: Vec<i64> = match c.output {
        OutputKind::Values => vec![],
        _ => tokens.map(|t| t.parse().unwrap()).collect(),
    };
    let (rtol, atol) = match case.dtype {
        Dtype::F32 => (2e-5, 1e-5),
        Dtype::F64 => (1e-12, 1e-12),
    };
    let same = |a: f64, b: f64| {
        (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= atol + rtol * a.abs().max(b.abs())
    };
    // Two values tie in `f32` (an `f32` kernel may break such a tie either way). In `f64` the host
    // computes the formula as the reference does (same libm, same order), so indices must match exactly,
    // ties included: that checks the first-index rules.
    let tie = |a: f64, b: f64| case.dtype == Dtype::F32 && a as f32 == b as f32;
    let mut problems = Vec::new();
    if let Some(values) = &want.values {
        assert_eq!(got_values.len(), n, "{}: value count", case.label);
        for (e, (&g, &w)) in got_values.iter().zip(values).enumerate() {
            if g == 12345.5 || !same(g, w) {
                problems.push(format!(
                    "value [{}, {}]: got {g:e}, reference {w:e}",
                    e / want.cols,
                    e % want.cols
                ));
            }
        }
    }
    if let Some(indices) = &want.indices {
        assert_eq!(got_indices.len(), n, "{}: index count", case.label);
        let d = kernel.dim();
        for (e, (&g, &w)) in got_indices.iter().zip(indices).enumerate() {
            let (r, col) = (e / want.cols, e % want.cols);
            let ok = g as usize == w || {
                let red = if kernel.axis == 1 { N } else { M };
                g >= 0 && (g as usize) < red && {
                    let comp = col % d;
                    tie(
                        formula_value(kernel, vars, r, g as usize, comp),
                        formula_value(kernel, vars, r, w, comp),
                    )
                }
            };
            if !ok {
                problems.push(format!("index [{r}, {col}]: got {g}, reference {w}"));
            }
        }
    }
    problems
}

fn compiler() -> Option<String> {
    let cxx = std::env::var("CXX")
        .ok()
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "c++".to_string());
    Command::new(&cxx)
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|_| cxx)
}

#[test]
fn emulated_kernels_match_the_reference() {
    let Some(cxx) = compiler() else {
        println!("skipped: no C++ compiler (set CXX)");
        return;
    };
    let cases = samples::coverage();
    let kernels: Vec<CudaKernel> = cases.iter().map(Case::cuda).collect();
    let dir = std::env::temp_dir().join(format!("keops-emulate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("harness.cpp");
    let bin = dir.join("harness");
    std::fs::write(&src, harness(&kernels)).unwrap();
    let t = Instant::now();
    let out = Command::new(&cxx)
        .args(["-std=c++17", "-O1", "-pthread", "-w", "-o"])
        .arg(&bin)
        .arg(&src)
        .output()
        .expect("run the C++ compiler");
    assert!(
        out.status.success(),
        "{cxx} failed on {}:\n{}",
        src.display(),
        String::from_utf8_lossy(&out.stderr)
            .lines()
            .take(60)
            .collect::<Vec<_>>()
            .join("\n")
    );
    let compile_time = t.elapsed();

    let mut input = format!("{}\n", cases.len());
    let mut all_vars = Vec::new();
    for (n, (case, c)) in cases.iter().zip(&kernels).enumerate() {
        let vars = inputs(&case.kernel, n as u64 + 1);
        request(&mut input, c, &case.kernel, &vars);
        all_vars.push(vars);
    }
    let t = Instant::now();
    let mut child = Command::new(&bin)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "the emulator failed ({})", out.status);
    let run_time = t.elapsed();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), cases.len());

    let mut failed = 0;
    for ((case, c), (vars, line)) in cases.iter().zip(&kernels).zip(all_vars.iter().zip(&lines)) {
        let problems = check(case, c, vars, line);
        if !problems.is_empty() {
            failed += 1;
            println!(
                "FAIL {} ({}): {} problems",
                case.label,
                c.name,
                problems.len()
            );
            for p in problems.iter().take(6) {
                println!("    {p}");
            }
        }
    }
    println!(
        "{} kernels emulated against the reference: C++ build {:.1} s, run {:.2} s, {failed} failed",
        cases.len(),
        compile_time.as_secs_f64(),
        run_time.as_secs_f64()
    );
    if failed == 0 {
        let _ = std::fs::remove_dir_all(&dir);
    } else {
        println!("harness kept in {}", dir.display());
    }
    assert_eq!(failed, 0, "{failed} kernels disagree with the reference");
}

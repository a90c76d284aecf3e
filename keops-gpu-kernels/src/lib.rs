//! KeOps' GPU back end: CUDA C printed from the formula IR of [`keops_ir`].
//!
//! [`cuda_source`] turns a checked [`Kernel`] into one self-contained CUDA C translation unit holding a
//! `GPU_1D` reduction kernel (KeOps' scheme: one thread per output row, the reduced rows staged in
//! shared memory one tile of `blockDim.x` rows at a time). This crate is pure Rust and needs no CUDA to
//! build: compiling the source (NVRTC) and launching it belong to the launcher. Without a GPU, two tests
//! check the sources of [`samples::coverage`] (every operation, every reduction, both types, every sum
//! scheme): `tests/nvrtc.rs` compiles them with NVRTC and `ptxas` from the PyPI wheels (see
//! `scripts/nvrtc-check.sh`), and `tests/emulate.rs` compiles them as host C++ and emulates the
//! launches against [`keops_ir::reference`].
//!
//! ```
//! use keops_gpu_kernels::{CudaOptions, Dtype, cuda_source};
//! use keops_ir::{Alias, Kernel, Reduction};
//!
//! let aliases = ["x = Vi(3)", "y = Vj(3)", "b = Vj(2)"].map(|a| Alias::parse(a).unwrap());
//! let k = Kernel::build("Exp(-SqDist(x, y)) * b", None, &aliases, Reduction::Sum, 1).unwrap();
//! let cuda = cuda_source(&k, Dtype::F32, &CudaOptions::new());
//! assert!(cuda.name.starts_with("keops_sum_f32_"));
//! assert!(cuda.source.contains(&format!("extern \"C\" __global__ void __launch_bounds__(192, 1) {}(", cuda.name)));
//! assert!(cuda.source.contains("expf("));
//! assert_eq!((cuda.block, cuda.shared_bytes), (192, 192 * 5 * 4)); // y and b: 5 floats per row
//! assert_eq!(cuda.launch_dims(1000).unwrap().grid, 6);
//! ```
//!
//! # The launch contract
//!
//! Every kernel has the same parameter list (`T` is `float` or `double`, [`CudaKernel::dtype`]):
//!
//! ```c
//! extern "C" __global__ void __launch_bounds__(BLOCK, 1) NAME(
//!     const long long rows,  // output rows: M for axis 1, N for axis 0
//!     const long long red,   // reduced rows: N for axis 1, M for axis 0
//!     const T* outer,        // rows × outer_dim, row-major
//!     const T* inner,        // red × inner_dim, row-major
//!     const T* params,       // param_dim values
//!     T* values,             // rows × out_cols, row-major (or null)
//!     long long* indices);   // rows × out_cols, row-major (or null)
//! ```
//!
//! - **Inputs**, as [`Kernel::layout`] says ([`CudaKernel::layout`]): the variables of the output's index
//!   (`Vi` for axis 1, `Vj` for axis 0) are packed into `outer`, one row per output row holding those
//!   variables' rows concatenated in call order (variable `k` at offset `layout.vars[k].1`); the variables
//!   of the reduced index likewise into `inner`; the parameters concatenated into `params`. A slot of
//!   dimension 0 is never read (pass null). Axis 0 needs nothing else: the roles of i and j swap through
//!   the layout.
//! - **Outputs**: `values` receives the values (`T`), `indices` the indices (`long long`, i.e. `i64`, in
//!   `0..red`), both `rows × out_cols` row-major in the layout of the CPU back end (`KMin` family:
//!   k-major, `out[q * D + d]`). Which of the two a reduction writes is [`CudaKernel::output`]
//!   ([`OutputKind`]); the other may be null. Every entry of the `rows` output rows is written (with the
//!   neutral value when `red == 0`), so no memset is needed.
//! - **Grid, block, shared memory**: [`CudaKernel::launch_dims`]: `block` threads per block (at most
//!   [`CudaKernel::block`], the kernel's `__launch_bounds__`), `ceil(rows / block)` blocks,
//!   `block × inner_dim × sizeof(T)` bytes of dynamic shared memory. Don't launch when `rows == 0`.
//! - **Compiling**: the sources are C++17 for NVRTC without headers ([`NVRTC_OPTIONS`]), plus the
//!   launcher's `--gpu-architecture=sm_XX`. Several kernels' sources concatenate into one program
//!   ([`cuda_program`]).
//!
//! # Semantics
//!
//! Every operation follows [`keops_ir::ops`] (the reference evaluator), edge cases included:
//! `Rsqrt(0) = 0`, `Sign(0) = 0`, `Step(0) = 1`, `XLogX(0) = 0`, `SinXDivX(0) = 1`, `IfElse` tests `>= 0`,
//! `Mod` takes the sign of `n`, `Round` halves away from zero, `OneHot` is bounds-checked; integer powers
//! by repeated squaring as on the CPU. Constants are exact in the kernel's type (KeOps prints them as
//! `float` even in `double` kernels). Reductions follow [`keops_ir::reference`]: `Min`/`Max` keep the
//! first index of ties, the `KMin` family inserts with a strict `<`, `LogSumExp`/`SumSoftMaxWeight` keep
//! a running maximum and skip `-inf` terms. Indices are exact integers (KeOps carries them as floats).
//!
//! Not here yet: the `GPU_2D` scheme (j split across blocks, then a combine pass), KeOps' chunked mode
//! for large dimensions (a formula of dimension 300 works, with per-thread arrays in local memory),
//! block-sparse ranges, and the polynomial `exp` for the Gaussian fast path.

mod cuda {
    pub(crate) mod emit;
    pub(crate) mod skeleton;
}
pub mod samples;

use std::fmt;

pub use keops_ir::{Kernel, Layout, OutputKind, Reduction, Slot};

use crate::cuda::skeleton::{Plan, kernel_source};

/// NVRTC options the emitted sources are written for (the launcher adds `--gpu-architecture=sm_XX`).
pub const NVRTC_OPTIONS: &[&str] = &["--std=c++17"];

/// Largest dynamic shared memory a block gets without an opt-in (48 KiB).
pub const SHARED_LIMIT: usize = 48 * 1024;

/// The scalar type of a kernel's inputs and outputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dtype {
    /// `f32` (`float`).
    F32,
    /// `f64` (`double`).
    F64,
}

impl Dtype {
    /// The C type name: `float` or `double`.
    pub fn c_type(self) -> &'static str {
        match self {
            Dtype::F32 => "float",
            Dtype::F64 => "double",
        }
    }

    /// Bytes per value.
    pub fn size(self) -> usize {
        match self {
            Dtype::F32 => 4,
            Dtype::F64 => 8,
        }
    }
}

impl fmt::Display for Dtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Dtype::F32 => "f32",
            Dtype::F64 => "f64",
        })
    }
}

/// How sum-type reductions (`Sum`, `LogSumExp`, `SumSoftMaxWeight`) add their terms; other reductions
/// ignore it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SumScheme {
    /// `Block` for sum-type reductions (as KeOps).
    #[default]
    Auto,
    /// Every term into the accumulator.
    Direct,
    /// Each thread sums a tile of `blockDim.x` terms in the data type, then adds that partial sum to its
    /// accumulator (KeOps' `block_sum` on `GPU_1D`).
    Block,
    /// Kahan-compensated summation in the accumulator type.
    Kahan,
}

/// The precision of sum accumulators.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Accumulator {
    /// The data type.
    #[default]
    Same,
    /// `double`, also for `f32` data (KeOps' `dtype_acc="float64"`).
    F64,
}

/// Code-generation options; `CudaOptions::new()` is the default: automatic sum scheme, accumulator in
/// the data type, blocks of 192 threads (KeOps' `CUDA_BLOCK_SIZE`), no fast math.
///
/// ```
/// use keops_gpu_kernels::{Accumulator, CudaOptions, SumScheme};
/// let o = CudaOptions::new().sum_scheme(SumScheme::Kahan).accumulator(Accumulator::F64).block(256);
/// assert_eq!((o.sum_scheme, o.accumulator, o.block, o.fast_math), (SumScheme::Kahan, Accumulator::F64, 256, false));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct CudaOptions {
    /// How sums add their terms.
    pub sum_scheme: SumScheme,
    /// The precision of sum accumulators.
    pub accumulator: Accumulator,
    /// Threads per block wanted (1 to 1024); lowered so a tile of inner rows fits [`SHARED_LIMIT`].
    pub block: u32,
    /// `float` kernels call the hardware intrinsics (`__expf`, `__logf`, `__sinf`, `__cosf`, `__powf`):
    /// faster, less accurate. Off by default; `double` kernels never use them.
    pub fast_math: bool,
}

impl Default for CudaOptions {
    fn default() -> Self {
        CudaOptions {
            sum_scheme: SumScheme::Auto,
            accumulator: Accumulator::Same,
            block: 192,
            fast_math: false,
        }
    }
}

impl CudaOptions {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets [`CudaOptions::sum_scheme`].
    pub fn sum_scheme(mut self, s: SumScheme) -> Self {
        self.sum_scheme = s;
        self
    }
    /// Sets [`CudaOptions::accumulator`].
    pub fn accumulator(mut self, a: Accumulator) -> Self {
        self.accumulator = a;
        self
    }
    /// Sets [`CudaOptions::block`].
    pub fn block(mut self, threads: u32) -> Self {
        self.block = threads;
        self
    }
    /// Sets [`CudaOptions::fast_math`].
    pub fn fast_math(mut self, on: bool) -> Self {
        self.fast_math = on;
        self
    }
}

/// One generated kernel: its name, its source and what the launcher needs to know (see the crate docs
/// for the launch contract).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CudaKernel {
    /// The `extern "C" __global__` entry point: `keops_<reduction>_<dtype>_<16 hex digits>`, the digits an
    /// FNV-1a hash of the source, so equal kernels share a name and different ones (formula, reduction,
    /// axis, type, options) differ.
    pub name: String,
    /// A complete CUDA C translation unit (C++17, no headers).
    pub source: String,
    /// The data type.
    pub dtype: Dtype,
    /// Threads per block: the most the kernel may be launched with (its `__launch_bounds__`).
    pub block: u32,
    /// Dynamic shared memory for a block of [`CudaKernel::block`] threads, in bytes.
    pub shared_bytes: u32,
    /// Where each variable sits in the `outer`, `inner` and `params` buffers.
    pub layout: Layout,
    /// Columns of the output ([`Kernel::out_cols`]).
    pub out_cols: usize,
    /// Whether `values`, `indices` or both are written.
    pub output: OutputKind,
}

/// Grid and block for a launch, and the dynamic shared memory it needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LaunchDims {
    /// Blocks (`grid.x`).
    pub grid: u32,
    /// Threads per block (`block.x`).
    pub block: u32,
    /// Dynamic shared memory per block, in bytes.
    pub shared_bytes: u32,
}

impl CudaKernel {
    /// Dynamic shared memory for blocks of `block` threads: one tile of inner rows.
    pub fn shared_bytes_for(&self, block: u32) -> u32 {
        (block as usize * self.layout.inner_dim * self.dtype.size()) as u32
    }

    /// The launch for `rows` output rows with [`CudaKernel::block`] threads per block, or `None` when
    /// the grid would exceed CUDA's limit of 2³¹ − 1 blocks. The grid is 0 when `rows == 0`: skip the
    /// launch then.
    pub fn launch_dims(&self, rows: usize) -> Option<LaunchDims> {
        let grid = rows.div_ceil(self.block as usize);
        Some(LaunchDims {
            grid: u32::try_from(grid).ok().filter(|&g| g <= i32::MAX as u32)?,
            block: self.block,
            shared_bytes: self.shared_bytes,
        })
    }
}

/// Generates the `GPU_1D` kernel of `kernel` for `dtype`.
///
/// Infallible for a checked [`Kernel`]. Options that do not apply are ignored: the sum scheme and the
/// accumulator for reductions that are not sums, the `double` accumulator for `f64` data, fast math
/// for `f64` data (so they do not change the name either).
///
/// ```
/// use keops_gpu_kernels::{CudaOptions, Dtype, OutputKind, cuda_source};
/// use keops_ir::{Alias, Kernel, Reduction};
///
/// // 3 nearest neighbours over i (axis 0): one output row per j.
/// let aliases = ["x = Vi(2)", "y = Vj(2)"].map(|a| Alias::parse(a).unwrap());
/// let k = Kernel::build("SqDist(x, y)", None, &aliases, Reduction::KMinArgKMin(3), 0).unwrap();
/// let cuda = cuda_source(&k, Dtype::F64, &CudaOptions::new());
/// assert!(cuda.name.starts_with("keops_kmin_argkmin3_f64_"));
/// assert_eq!((cuda.out_cols, cuda.output), (3, OutputKind::ValuesIndices));
/// // y is the outer variable, x the inner one.
/// assert_eq!((cuda.layout.outer_dim, cuda.layout.inner_dim), (2, 2));
/// ```
pub fn cuda_source(kernel: &Kernel, dtype: Dtype, opts: &CudaOptions) -> CudaKernel {
    let layout = kernel.layout();
    let sum = kernel.reduction.is_sum_type();
    let scheme = match opts.sum_scheme {
        _ if !sum => SumScheme::Direct,
        SumScheme::Auto => SumScheme::Block,
        s => s,
    };
    let accumulator = if sum && dtype == Dtype::F32 {
        opts.accumulator
    } else {
        Accumulator::Same
    };
    let block = block_size(opts.block, layout.inner_dim * dtype.size());
    let plan = Plan {
        kernel,
        layout: &layout,
        dtype,
        scheme,
        accumulator,
        block,
        fast_math: opts.fast_math && dtype == Dtype::F32,
    };
    let emit = |name: &str| {
        let mut s = String::new();
        kernel_source(&mut s, name, &plan).expect("writing to a String cannot fail");
        s
    };
    let tag: String = kernel
        .reduction
        .to_string()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect::<String>()
        .to_ascii_lowercase();
    let name = format!(
        "keops_{tag}_{dtype}_{:016x}",
        fnv1a(emit("keops_kernel").as_bytes())
    );
    let source = emit(&name);
    CudaKernel {
        name,
        source,
        dtype,
        block,
        shared_bytes: (block as usize * layout.inner_dim * dtype.size()) as u32,
        out_cols: kernel.out_cols(),
        output: kernel.reduction.output_kind(),
        layout,
    }
}

/// One program holding several kernels: their sources concatenated (a kernel listed twice, by name,
/// once). Compile it once and look each kernel up by [`CudaKernel::name`].
///
/// ```
/// use keops_gpu_kernels::{CudaOptions, Dtype, cuda_program, cuda_source};
/// use keops_ir::{Alias, Kernel, Reduction};
///
/// let aliases = ["x = Vi(3)", "y = Vj(3)"].map(|a| Alias::parse(a).unwrap());
/// let k = Kernel::build("SqDist(x, y)", None, &aliases, Reduction::Min, 1).unwrap();
/// let (a, b) = (cuda_source(&k, Dtype::F32, &CudaOptions::new()), cuda_source(&k, Dtype::F64, &CudaOptions::new()));
/// let program = cuda_program([&a, &b, &a]);
/// assert_eq!(program.matches("__global__").count(), 2);
/// assert_eq!(program.matches("#define KEOPS_RS_PRELUDE_1").count(), 2); // guarded: defined once
/// ```
pub fn cuda_program<'a>(kernels: impl IntoIterator<Item = &'a CudaKernel>) -> String {
    let mut seen = std::collections::HashSet::new();
    let mut out = String::new();
    for k in kernels {
        if seen.insert(k.name.as_str()) {
            out.push_str(&k.source);
        }
    }
    out
}

/// `requested` threads (clamped to 1..=1024), lowered so that a tile of `row_bytes`-byte rows fits in
/// [`SHARED_LIMIT`] (to a multiple of 32 when at least 32).
fn block_size(requested: u32, row_bytes: usize) -> u32 {
    let b = requested.clamp(1, 1024);
    if row_bytes == 0 {
        return b;
    }
    let cap = (SHARED_LIMIT / row_bytes).max(1) as u32;
    if b <= cap {
        b
    } else if cap >= 32 {
        cap / 32 * 32
    } else {
        cap
    }
}

/// 64-bit FNV-1a: a stable hash (the standard library's is not promised stable across releases).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use keops_ir::{Alias, Binary, Op, Ternary, Unary};

    fn build(
        formula: &str,
        formula2: Option<&str>,
        aliases: &[&str],
        red: Reduction,
        axis: usize,
    ) -> Kernel {
        let al: Vec<Alias> = aliases.iter().map(|a| Alias::parse(a).unwrap()).collect();
        Kernel::build(formula, formula2, &al, red, axis).unwrap()
    }

    fn gaussian(red: Reduction) -> Kernel {
        build(
            "Exp(-SqDist(x, y)) * b",
            None,
            &["x = Vi(3)", "y = Vj(3)", "b = Vj(2)"],
            red,
            1,
        )
    }

    #[test]
    fn gaussian_sum_source_has_the_contract() {
        let k = cuda_source(&gaussian(Reduction::Sum), Dtype::F32, &CudaOptions::new());
        let s = &k.source;
        assert!(s.contains(&format!("namespace {}_ns {{", k.name)));
        assert!(s.contains("__device__ __forceinline__ void keops_formula(const float* __restrict__ outer, const float* __restrict__ inner, const float* __restrict__ params, float* __restrict__ out)"));
        assert!(s.contains("const long long rows, const long long red,"));
        assert!(s.contains("float* __restrict__ values, long long* __restrict__ indices)"));
        assert!(s.contains("const float* v0 = outer + 0; // x"));
        assert!(s.contains("const float* v1 = inner + 0; // y"));
        assert!(s.contains("inner + 3; // b"));
        assert!(s.contains("expf("));
        let body = &s[s.find("namespace").unwrap()..];
        assert!(
            !body.contains("double"),
            "no double in an f32 kernel with the default accumulator:\n{s}"
        );
        assert!(s.contains("blk[k] += f[k];"), "block scheme by default");
        assert!(s.contains("tile[e] = inner[j0 * 5 + e];"));
        assert!(s.contains("values[o + k] = (float)acc[k];"));
        assert_eq!(k.layout.outer_dim, 3);
        assert_eq!(k.layout.inner_dim, 5);
        assert_eq!(k.output, OutputKind::Values);
        let d = cuda_source(&gaussian(Reduction::Sum), Dtype::F64, &CudaOptions::new());
        assert!(d.source.contains("exp(") && !d.source.contains("expf("));
        assert_eq!(d.shared_bytes, 192 * 5 * 8);
        assert_ne!(k.name, d.name);
    }

    #[test]
    fn names_are_deterministic_and_follow_what_changes_the_code() {
        let g = gaussian(Reduction::Sum);
        let o = CudaOptions::new();
        let a = cuda_source(&g, Dtype::F32, &o);
        assert_eq!(a, cuda_source(&g, Dtype::F32, &o));
        assert_eq!(
            a.name,
            cuda_source(&g, Dtype::F32, &o.sum_scheme(SumScheme::Block)).name
        );
        let mut names = std::collections::HashSet::new();
        for s in [SumScheme::Direct, SumScheme::Block, SumScheme::Kahan] {
            for acc in [Accumulator::Same, Accumulator::F64] {
                names.insert(cuda_source(&g, Dtype::F32, &o.sum_scheme(s).accumulator(acc)).name);
            }
        }
        assert_eq!(names.len(), 6);
        // Options that don't apply don't change the kernel.
        let m = gaussian(Reduction::Min);
        assert_eq!(
            cuda_source(&m, Dtype::F32, &o).name,
            cuda_source(
                &m,
                Dtype::F32,
                &o.sum_scheme(SumScheme::Kahan).accumulator(Accumulator::F64)
            )
            .name
        );
        assert_eq!(
            cuda_source(&g, Dtype::F64, &o).name,
            cuda_source(
                &g,
                Dtype::F64,
                &o.accumulator(Accumulator::F64).fast_math(true)
            )
            .name
        );
        let fast = cuda_source(&g, Dtype::F32, &o.fast_math(true));
        assert!(fast.source.contains("__expf(") && fast.name != a.name);
    }

    #[test]
    fn sum_schemes_and_accumulators() {
        let g = gaussian(Reduction::Sum);
        let o = CudaOptions::new();
        let direct = cuda_source(&g, Dtype::F32, &o.sum_scheme(SumScheme::Direct)).source;
        assert!(direct.contains("acc[k] += (float)f[k];") && !direct.contains("blk"));
        let kahan = cuda_source(
            &g,
            Dtype::F32,
            &o.sum_scheme(SumScheme::Kahan).accumulator(Accumulator::F64),
        )
        .source;
        assert!(kahan.contains("double cmp[2];"));
        assert!(kahan.contains("cmp[k] = (u - acc[k]) - y;"));
        let block64 = cuda_source(&g, Dtype::F32, &o.accumulator(Accumulator::F64)).source;
        assert!(block64.contains("float blk[2];") && block64.contains("double acc[2];"));
        assert!(block64.contains("acc[k] += (double)blk[k];"));
    }

    #[test]
    fn reductions_write_their_layouts() {
        let o = CudaOptions::new();
        let argmin = cuda_source(&gaussian(Reduction::ArgMin), Dtype::F32, &o);
        assert!(
            argmin
                .source
                .contains("if (f[k] < best[k]) { best[k] = f[k]; arg[k] = j; }")
        );
        assert!(
            argmin.source.contains("indices[o + k] = arg[k];")
                && !argmin.source.contains("values[")
        );
        let kmin = cuda_source(&gaussian(Reduction::KMinArgKMin(3)), Dtype::F64, &o);
        assert_eq!(kmin.out_cols, 6);
        assert!(kmin.source.contains(
            "values[o + q * 2 + k] = kv[k * 3 + q]; indices[o + q * 2 + k] = ki[k * 3 + q];"
        ));
        assert!(kmin.source.contains("shift = shift || x < kv[at];"));
        assert!(
            kmin.source
                .contains("bool shift = false; long long xj = j;")
        );
        let lse = build(
            "-SqDist(x, y)",
            Some("b"),
            &["x = Vi(3)", "y = Vj(3)", "b = Vj(2)"],
            Reduction::LogSumExp,
            1,
        );
        let lse = cuda_source(&lse, Dtype::F32, &o).source;
        assert!(lse.contains("values[o + k] = (float)((float)m + logf(s[k]));"));
        assert!(
            lse.contains("(float)(f[1 + k])"),
            "weights follow F in the formula output:\n{lse}"
        );
        let soft = build(
            "-SqDist(x, y)",
            Some("b"),
            &["x = Vi(3)", "y = Vj(3)", "b = Vj(2)"],
            Reduction::SumSoftMaxWeight,
            1,
        );
        assert!(
            cuda_source(&soft, Dtype::F64, &o)
                .source
                .contains("values[o + k] = (double)(s[k] / den);")
        );
    }

    #[test]
    fn axis_zero_swaps_outer_and_inner() {
        let k = build(
            "SqDist(x, y) * a",
            None,
            &["x = Vi(3)", "y = Vj(3)", "a = Vi(1)"],
            Reduction::Sum,
            0,
        );
        let c = cuda_source(&k, Dtype::F32, &CudaOptions::new());
        assert!(c.source.contains("const float* v0 = inner + 0; // x"));
        assert!(c.source.contains("= outer + 0; // y"));
        assert!(c.source.contains("= inner + 3; // a"));
        assert_eq!(
            (c.layout.outer_dim, c.layout.inner_dim, c.shared_bytes),
            (3, 4, 192 * 4 * 4)
        );
    }

    #[test]
    fn params_and_empty_slots() {
        let k = build(
            "Sum(x * p)",
            None,
            &["x = Vi(3)", "p = Pm(3)"],
            Reduction::Sum,
            1,
        );
        let c = cuda_source(&k, Dtype::F64, &CudaOptions::new());
        assert_eq!(c.shared_bytes, 0);
        assert!(c.source.contains("pm[k] = params[k];"));
        assert!(
            c.source
                .contains("keops_formula(xi, (const double*)nullptr, pm, f);")
        );
        assert!(!c.source.contains("__syncthreads"));
    }

    #[test]
    fn block_size_fits_shared_memory() {
        assert_eq!(block_size(192, 12), 192);
        assert_eq!(block_size(192, 8 * 300), 20);
        assert_eq!(block_size(1024, 8 * 10), 608);
        assert_eq!(block_size(5000, 0), 1024);
        assert_eq!(block_size(0, 4), 1);
        assert_eq!(block_size(192, 100_000), 1);
        let k = build(
            "Exp(-SqDist(x, y))",
            None,
            &["x = Vi(300)", "y = Vj(300)"],
            Reduction::Sum,
            1,
        );
        let c = cuda_source(&k, Dtype::F64, &CudaOptions::new());
        assert_eq!((c.block, c.shared_bytes), (20, 20 * 300 * 8));
        assert!(c.source.contains("__launch_bounds__(20, 1)"));
        assert_eq!(
            c.launch_dims(41).unwrap(),
            LaunchDims {
                grid: 3,
                block: 20,
                shared_bytes: 48000
            }
        );
        assert_eq!(c.launch_dims(0).unwrap().grid, 0);
        assert_eq!(c.launch_dims(20 << 31), None);
    }

    #[test]
    fn every_op_and_every_reduction_is_emitted() {
        let mut seen = std::collections::HashSet::<String>::new();
        for (label, k) in samples::every_op() {
            for dtype in [Dtype::F32, Dtype::F64] {
                let c = cuda_source(&k, dtype, &CudaOptions::new());
                assert!(c.source.contains("keops_formula"), "{label}");
            }
            for n in &k.ir.nodes {
                seen.insert(samples::op_kind(&n.op).to_string());
                match n.op {
                    Op::Unary(u) => drop(seen.insert(format!("Unary::{}", u.name()))),
                    Op::Binary(b) => drop(seen.insert(format!("Binary::{}", b.name()))),
                    Op::Ternary(t) => drop(seen.insert(format!("Ternary::{}", t.name()))),
                    _ => {}
                }
            }
        }
        for u in Unary::ALL {
            assert!(
                seen.contains(&format!("Unary::{}", u.name())),
                "{u:?} not covered"
            );
        }
        for b in Binary::ALL {
            assert!(
                seen.contains(&format!("Binary::{}", b.name())),
                "{b:?} not covered"
            );
        }
        for t in Ternary::ALL {
            assert!(
                seen.contains(&format!("Ternary::{}", t.name())),
                "{t:?} not covered"
            );
        }
        for kind in samples::OP_KINDS {
            assert!(seen.contains(*kind), "Op::{kind} not covered");
        }
        let mut reds = std::collections::HashSet::new();
        for axis in [0, 1] {
            for (label, k) in samples::every_reduction(axis) {
                reds.insert(std::mem::discriminant(&k.reduction));
                let c = cuda_source(&k, Dtype::F32, &CudaOptions::new());
                assert_eq!(c.output, k.reduction.output_kind(), "{label}");
            }
        }
        assert_eq!(reds.len(), Reduction::ALL.len());
    }

    #[test]
    fn constants_are_exact() {
        let k = build("x * 0.1 + 3", None, &["x = Vi(1)"], Reduction::Sum, 1);
        let d = cuda_source(&k, Dtype::F64, &CudaOptions::new()).source;
        assert!(d.contains("= { 1e-1 };") && d.contains("= { 3e0 };"), "{d}");
        let f = cuda_source(&k, Dtype::F32, &CudaOptions::new()).source;
        assert!(f.contains("= { 1e-1f };"), "{f}");
    }
}

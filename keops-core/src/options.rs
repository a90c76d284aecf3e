//! Call options: back end, threads, summation scheme, accumulator, SIMD level, block-sparse ranges.

/// Where a reduction runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Backend {
    /// The GPU when one is usable (feature `cuda`), else the CPU.
    #[default]
    Auto,
    /// The CPU: tiled, SIMD, all cores.
    Cpu,
    /// CUDA device number `device` (`Error::NoGpu` when unavailable).
    Gpu {
        /// The device ordinal.
        device: usize,
    },
}

/// How sums are accumulated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SumScheme {
    /// `Block` for sum-type reductions, `Direct` otherwise (as KeOps).
    #[default]
    Auto,
    /// One running accumulator per output entry (per SIMD lane).
    Direct,
    /// Partial sums per j-tile, added into the accumulator after each tile.
    Block,
    /// Kahan-compensated summation.
    Kahan,
}

/// The precision of sum accumulators.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Accumulator {
    /// The data type.
    #[default]
    Same,
    /// `f64`, also for `f32` data.
    F64,
}

/// The instruction set of the CPU kernels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Simd {
    /// The best the CPU supports (checked at run time).
    #[default]
    Auto,
    /// AVX-512 (F, VL, DQ) with FMA.
    Avx512,
    /// AVX2 with FMA.
    Avx2,
    /// No target features beyond the compile-time baseline.
    Scalar,
}

/// Options of a call, as a builder; `Options::new()` is the default (`Auto` everything).
///
/// ```
/// use keops_core::{Options, Backend, SumScheme, Accumulator, Simd};
/// let opts = Options::new().backend(Backend::Cpu).threads(2).sum_scheme(SumScheme::Kahan)
///     .accumulator(Accumulator::F64).simd(Simd::Scalar);
/// assert_eq!(opts.threads, Some(2));
/// ```
#[derive(Clone, Copy, Debug, Default)]
#[non_exhaustive]
pub struct Options<'r> {
    /// Where to run.
    pub backend: Backend,
    /// Worker threads (`None`: all cores, rayon's global pool).
    pub threads: Option<usize>,
    /// Summation scheme.
    pub sum_scheme: SumScheme,
    /// Sum accumulator precision.
    pub accumulator: Accumulator,
    /// CPU instruction set.
    pub simd: Simd,
    /// Block-sparse ranges (reserved: not yet supported; a call with ranges returns `Error::Ranges`).
    pub ranges: Option<&'r Ranges>,
}

/// Block-sparse ranges (KeOps' 6-tuple); not yet implemented, kept so `Options` has its pinned shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ranges {
    _private: (),
}

impl<'r> Options<'r> {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets the back end.
    pub fn backend(mut self, backend: Backend) -> Self {
        self.backend = backend;
        self
    }
    /// Sets the number of worker threads.
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = Some(threads);
        self
    }
    /// Sets the summation scheme.
    pub fn sum_scheme(mut self, scheme: SumScheme) -> Self {
        self.sum_scheme = scheme;
        self
    }
    /// Sets the accumulator precision.
    pub fn accumulator(mut self, acc: Accumulator) -> Self {
        self.accumulator = acc;
        self
    }
    /// Sets the CPU instruction set.
    pub fn simd(mut self, simd: Simd) -> Self {
        self.simd = simd;
        self
    }
    /// Sets block-sparse ranges.
    pub fn ranges(mut self, ranges: &'r Ranges) -> Self {
        self.ranges = Some(ranges);
        self
    }
}

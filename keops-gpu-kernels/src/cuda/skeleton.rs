//! The `GPU_1D` reduction kernel around `keops_formula` (KeOps' scheme): one thread per output row, blocks
//! of `blockDim.x` threads, the reduced rows staged in shared memory one tile of `blockDim.x` rows at a
//! time, per-thread accumulators for the reduction, the output written row-major.
//!
//! The emitted entry point (see the crate docs for the launch contract):
//!
//! ```c
//! extern "C" __global__ void __launch_bounds__(BLOCK, 1) NAME(
//!     const long long rows, const long long red,
//!     const T* __restrict__ outer, const T* __restrict__ inner, const T* __restrict__ params,
//!     T* __restrict__ values, long long* __restrict__ indices);
//! ```

use std::fmt::{self, Write};

use keops_ir::{Kernel, Layout, Reduction};

use crate::cuda::emit::{PRELUDE, UNROLL, formula_function, literal, math};
use crate::{Accumulator, Dtype, SumScheme};

/// What the skeleton needs besides the kernel.
pub(crate) struct Plan<'a> {
    pub kernel: &'a Kernel,
    pub layout: &'a Layout,
    pub dtype: Dtype,
    /// `Direct`, `Block` or `Kahan` (never `Auto`); only read for sum-type reductions.
    pub scheme: SumScheme,
    pub accumulator: Accumulator,
    /// `__launch_bounds__(block, 1)`: the largest block the kernel may be launched with. (The explicit
    /// minimum of one block per multiprocessor matters: with `__launch_bounds__(192)` alone, ptxas 13.0
    /// caps the Gaussian `double` kernel at 56 registers and spills.)
    pub block: u32,
    /// `float` hardware intrinsics (`__expf`, ...).
    pub fast_math: bool,
}

/// Writes the whole translation unit: prelude, the formula in its own namespace, the entry point.
pub(crate) fn kernel_source(w: &mut String, name: &str, p: &Plan<'_>) -> fmt::Result {
    let k = p.kernel;
    writeln!(w, "// keops-rs GPU_1D kernel `{name}`")?;
    writeln!(
        w,
        "// reduction {} over {} (axis {}), {}, sum scheme {:?}, accumulator {:?}, fast math {}",
        k.reduction,
        if k.axis == 1 { "j" } else { "i" },
        k.axis,
        p.dtype.c_type(),
        p.scheme,
        p.accumulator,
        p.fast_math
    )?;
    for line in k.ir.to_string().lines() {
        writeln!(w, "//   {line}")?;
    }
    w.push_str(PRELUDE);
    writeln!(w, "namespace {name}_ns {{")?;
    formula_function(w, k, p.layout, p.dtype, p.fast_math)?;
    writeln!(w, "}} // namespace {name}_ns")?;
    let mut e = String::new();
    entry(&mut e, name, p)?;
    unroll_constant_loops(w, &e);
    Ok(())
}

/// Copies `src` into `w`, with `#pragma unroll` before every `for (int k = 0; k < N; k++)` whose
/// constant N is at most [`UNROLL`] (so the per-thread arrays it walks live in registers).
fn unroll_constant_loops(w: &mut String, src: &str) {
    let mut prev_pragma = false;
    for line in src.lines() {
        let body = line.trim_start();
        let ind = &line[..line.len() - body.len()];
        if !prev_pragma && constant_trip_count(body).is_some_and(|n| n <= UNROLL) {
            w.push_str(ind);
            w.push_str("#pragma unroll\n");
        }
        prev_pragma = body.starts_with("#pragma unroll");
        w.push_str(line);
        w.push('\n');
    }
}

/// N in a line starting `for (int v = 0; v < N; v++)`.
fn constant_trip_count(line: &str) -> Option<usize> {
    let rest = line.strip_prefix("for (int ")?;
    let (var, rest) = rest.split_once(" = 0; ")?;
    let rest = rest.strip_prefix(var)?.strip_prefix(" < ")?;
    let (n, rest) = rest.split_once("; ")?;
    rest.starts_with(&format!("{var}++)"))
        .then(|| n.parse().ok())
        .flatten()
}

/// The accumulator type of sums: the data type, or `double`.
fn acc_type(p: &Plan<'_>) -> &'static str {
    match p.accumulator {
        Accumulator::F64 => "double",
        Accumulator::Same => p.dtype.c_type(),
    }
}

fn acc_dtype(p: &Plan<'_>) -> Dtype {
    match p.accumulator {
        Accumulator::F64 => Dtype::F64,
        Accumulator::Same => p.dtype,
    }
}

fn entry(w: &mut String, name: &str, p: &Plan<'_>) -> fmt::Result {
    let t = p.dtype.c_type();
    let (od, id, pd) = (p.layout.outer_dim, p.layout.inner_dim, p.layout.param_dim);
    let k = p.kernel;
    let fout = k.dim() + if k.formula2.is_some() { k.dim2() } else { 0 };
    writeln!(
        w,
        "extern \"C\" __global__ void __launch_bounds__({block}, 1) {name}(\n\
         \x20   const long long rows, const long long red,\n\
         \x20   const {t}* __restrict__ outer, const {t}* __restrict__ inner, const {t}* __restrict__ params,\n\
         \x20   {t}* __restrict__ values, long long* __restrict__ indices) {{",
        block = p.block
    )?;
    writeln!(
        w,
        "  extern __shared__ __align__(16) unsigned char keops_smem[];"
    )?;
    writeln!(w, "  {t}* const tile = reinterpret_cast<{t}*>(keops_smem);")?;
    writeln!(
        w,
        "  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;"
    )?;
    let pm = if pd > 0 {
        writeln!(w, "  {t} pm[{pd}];")?;
        writeln!(w, "  for (int k = 0; k < {pd}; k++) pm[k] = params[k];")?;
        "pm".to_string()
    } else {
        format!("(const {t}*)nullptr")
    };
    let xi = if od > 0 {
        writeln!(w, "  {t} xi[{od}];")?;
        writeln!(w, "  if (i < rows) {{")?;
        writeln!(
            w,
            "    for (int k = 0; k < {od}; k++) xi[k] = outer[i * {od} + k];"
        )?;
        writeln!(w, "  }}")?;
        "xi".to_string()
    } else {
        format!("(const {t}*)nullptr")
    };
    let yj = if id > 0 {
        format!("tile + jr * {id}")
    } else {
        format!("(const {t}*)nullptr")
    };
    let acc = Acc::new(p);
    acc.declare(w)?;
    writeln!(w, "  for (long long j0 = 0; j0 < red; j0 += blockDim.x) {{")?;
    writeln!(w, "    const long long rem = red - j0;")?;
    writeln!(
        w,
        "    const int nt = rem < (long long)blockDim.x ? (int)rem : (int)blockDim.x;"
    )?;
    if id > 0 {
        writeln!(
            w,
            "    for (int e = threadIdx.x; e < nt * {id}; e += blockDim.x) tile[e] = inner[j0 * {id} + e];"
        )?;
        writeln!(w, "    __syncthreads();")?;
    }
    writeln!(w, "    if (i < rows) {{")?;
    acc.tile_start(w)?;
    writeln!(w, "      for (int jr = 0; jr < nt; jr++) {{")?;
    writeln!(w, "        {t} f[{fout}];")?;
    writeln!(w, "        {name}_ns::keops_formula({xi}, {yj}, {pm}, f);")?;
    if k.reduction.has_indices() {
        writeln!(w, "        const long long j = j0 + jr;")?;
    }
    acc.push(w)?;
    writeln!(w, "      }}")?;
    acc.tile_end(w)?;
    writeln!(w, "    }}")?;
    if id > 0 {
        writeln!(w, "    __syncthreads();")?;
    }
    writeln!(w, "  }}")?;
    writeln!(w, "  if (i < rows) {{")?;
    writeln!(w, "    const long long o = i * {};", k.out_cols())?;
    acc.finish(w)?;
    writeln!(w, "  }}")?;
    writeln!(w, "}}")
}

/// The per-thread state of one reduction and the code that updates it.
struct Acc<'a> {
    p: &'a Plan<'a>,
    /// Data type.
    t: &'static str,
    /// Sum accumulator type.
    a: &'static str,
    /// F's dimension.
    d: usize,
}

impl<'a> Acc<'a> {
    fn new(p: &'a Plan<'a>) -> Self {
        Acc {
            p,
            t: p.dtype.c_type(),
            a: acc_type(p),
            d: p.kernel.dim(),
        }
    }

    fn lit(&self, v: f64) -> String {
        literal(self.p.dtype, v)
    }

    fn alit(&self, v: f64) -> String {
        literal(acc_dtype(self.p), v)
    }

    fn declare(&self, w: &mut String) -> fmt::Result {
        let (t, a, d) = (self.t, self.a, self.d);
        let inf = self.lit(f64::INFINITY);
        let ninf = self.lit(f64::NEG_INFINITY);
        match self.p.kernel.reduction {
            Reduction::Sum => {
                writeln!(w, "  {a} acc[{d}];")?;
                writeln!(
                    w,
                    "  for (int k = 0; k < {d}; k++) acc[k] = {};",
                    self.alit(0.0)
                )?;
                if self.p.scheme == SumScheme::Kahan {
                    writeln!(w, "  {a} cmp[{d}];")?;
                    writeln!(
                        w,
                        "  for (int k = 0; k < {d}; k++) cmp[k] = {};",
                        self.alit(0.0)
                    )?;
                }
            }
            Reduction::Min | Reduction::Max => {
                let init = if self.p.kernel.reduction == Reduction::Min {
                    inf
                } else {
                    ninf
                };
                writeln!(w, "  {t} best[{d}];")?;
                writeln!(w, "  for (int k = 0; k < {d}; k++) best[k] = {init};")?;
            }
            Reduction::ArgMin | Reduction::MinArgMin => {
                writeln!(w, "  {t} best[{d}]; long long arg[{d}];")?;
                writeln!(
                    w,
                    "  for (int k = 0; k < {d}; k++) {{ best[k] = {inf}; arg[k] = 0; }}"
                )?;
            }
            Reduction::ArgMax | Reduction::MaxArgMax => {
                writeln!(w, "  {t} best[{d}]; long long arg[{d}];")?;
                writeln!(
                    w,
                    "  for (int k = 0; k < {d}; k++) {{ best[k] = {ninf}; arg[k] = 0; }}"
                )?;
            }
            Reduction::KMin(kk) | Reduction::ArgKMin(kk) | Reduction::KMinArgKMin(kk) => {
                let n = kk * d;
                writeln!(
                    w,
                    "  // the K smallest per component, ascending, component-major: kv[d * {kk} + q]"
                )?;
                if self.p.kernel.reduction.has_indices() {
                    writeln!(w, "  {t} kv[{n}]; long long ki[{n}];")?;
                    writeln!(
                        w,
                        "  for (int k = 0; k < {n}; k++) {{ kv[k] = {inf}; ki[k] = 0; }}"
                    )?;
                } else {
                    writeln!(w, "  {t} kv[{n}];")?;
                    writeln!(w, "  for (int k = 0; k < {n}; k++) kv[k] = {inf};")?;
                }
            }
            Reduction::LogSumExp | Reduction::SumSoftMaxWeight => {
                let d2 = self.p.kernel.dim2();
                let z = self.alit(0.0);
                let soft = self.p.kernel.reduction == Reduction::SumSoftMaxWeight;
                writeln!(
                    w,
                    "  // running maximum m; s = sum exp(F - m) g (g = 1 without weights); den = sum exp(F - m)"
                )?;
                writeln!(w, "  {t} m = {ninf};")?;
                writeln!(w, "  {a} s[{d2}];")?;
                writeln!(w, "  for (int k = 0; k < {d2}; k++) s[k] = {z};")?;
                if soft {
                    writeln!(w, "  {a} den = {z};")?;
                }
                if self.p.scheme == SumScheme::Kahan {
                    writeln!(w, "  {a} cs[{d2}];")?;
                    writeln!(w, "  for (int k = 0; k < {d2}; k++) cs[k] = {z};")?;
                    if soft {
                        writeln!(w, "  {a} cden = {z};")?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Block scheme: the per-tile partials, in the data type.
    fn tile_start(&self, w: &mut String) -> fmt::Result {
        if self.p.scheme != SumScheme::Block {
            return Ok(());
        }
        let (t, d) = (self.t, self.d);
        let z = self.lit(0.0);
        match self.p.kernel.reduction {
            Reduction::Sum => {
                writeln!(w, "      {t} blk[{d}];")?;
                writeln!(w, "      for (int k = 0; k < {d}; k++) blk[k] = {z};")
            }
            Reduction::LogSumExp | Reduction::SumSoftMaxWeight => {
                let d2 = self.p.kernel.dim2();
                writeln!(
                    w,
                    "      {t} bm = {}; {t} bs[{d2}];",
                    self.lit(f64::NEG_INFINITY)
                )?;
                if self.p.kernel.reduction == Reduction::SumSoftMaxWeight {
                    writeln!(w, "      {t} bden = {z};")?;
                }
                writeln!(w, "      for (int k = 0; k < {d2}; k++) bs[k] = {z};")
            }
            _ => Ok(()),
        }
    }

    /// The weight `g` of term `k` of a `LogSumExp`/`SumSoftMaxWeight` (1 without a weight formula).
    fn weight(&self, k: &str) -> String {
        if self.p.kernel.formula2.is_some() {
            format!("f[{} + {k}]", self.d)
        } else {
            self.lit(1.0)
        }
    }

    fn push(&self, w: &mut String) -> fmt::Result {
        let (t, a, d) = (self.t, self.a, self.d);
        let ind = "        ";
        match self.p.kernel.reduction {
            Reduction::Sum => match self.p.scheme {
                SumScheme::Direct | SumScheme::Auto => {
                    writeln!(w, "{ind}for (int k = 0; k < {d}; k++) acc[k] += ({a})f[k];")
                }
                SumScheme::Block => {
                    writeln!(w, "{ind}for (int k = 0; k < {d}; k++) blk[k] += f[k];")
                }
                SumScheme::Kahan => writeln!(
                    w,
                    "{ind}for (int k = 0; k < {d}; k++) {{ const {a} y = ({a})f[k] - cmp[k]; \
                     const {a} u = acc[k] + y; cmp[k] = (u - acc[k]) - y; acc[k] = u; }}"
                ),
            },
            Reduction::Min => writeln!(
                w,
                "{ind}for (int k = 0; k < {d}; k++) if (f[k] < best[k]) best[k] = f[k];"
            ),
            Reduction::Max => writeln!(
                w,
                "{ind}for (int k = 0; k < {d}; k++) if (f[k] > best[k]) best[k] = f[k];"
            ),
            Reduction::ArgMin | Reduction::MinArgMin => writeln!(
                w,
                "{ind}for (int k = 0; k < {d}; k++) if (f[k] < best[k]) {{ best[k] = f[k]; arg[k] = j; }}"
            ),
            Reduction::ArgMax | Reduction::MaxArgMax => writeln!(
                w,
                "{ind}for (int k = 0; k < {d}; k++) if (f[k] > best[k]) {{ best[k] = f[k]; arg[k] = j; }}"
            ),
            Reduction::KMin(kk) | Reduction::ArgKMin(kk) | Reduction::KMinArgKMin(kk) => {
                // Insertion with strict `<` (an equal value goes after the ones kept): from the first
                // position where x is smaller, every later entry shifts down by one.
                writeln!(w, "{ind}for (int k = 0; k < {d}; k++) {{")?;
                writeln!(w, "{ind}  {t} x = f[k];")?;
                writeln!(w, "{ind}  if (x < kv[k * {kk} + {}]) {{", kk - 1)?;
                let idx = self.p.kernel.reduction.has_indices();
                let (xj, swap_j) = if idx {
                    (
                        " long long xj = j;",
                        " const long long tj = ki[at]; ki[at] = xj; xj = tj;",
                    )
                } else {
                    ("", "")
                };
                writeln!(w, "{ind}    bool shift = false;{xj}")?;
                writeln!(w, "{ind}    for (int q = 0; q < {kk}; q++) {{")?;
                writeln!(w, "{ind}      const int at = k * {kk} + q;")?;
                writeln!(w, "{ind}      shift = shift || x < kv[at];")?;
                writeln!(
                    w,
                    "{ind}      if (shift) {{ const {t} tv = kv[at]; kv[at] = x; x = tv;{swap_j} }}"
                )?;
                writeln!(w, "{ind}    }}")?;
                writeln!(w, "{ind}  }}")?;
                writeln!(w, "{ind}}}")
            }
            Reduction::LogSumExp | Reduction::SumSoftMaxWeight => {
                let block = self.p.scheme == SumScheme::Block;
                let (m, s, den) = if block {
                    ("bm", "bs", "bden")
                } else {
                    ("m", "s", "den")
                };
                // In the block scheme the tile's partials are in the data type.
                let at = if block { t } else { a };
                let kahan = self.p.scheme == SumScheme::Kahan;
                writeln!(w, "{ind}{{ const {t} x = f[0];")?;
                writeln!(
                    w,
                    "{ind}  if (x != {}) {{ // exp(-inf) adds nothing",
                    self.lit(f64::NEG_INFINITY)
                )?;
                writeln!(w, "{ind}    const bool up = x > {m};")?;
                writeln!(
                    w,
                    "{ind}    const {at} e = ({at}){}(up ? {m} - x : x - {m});",
                    math(self.p.dtype, self.p.fast_math, "exp")
                )?;
                self.update_sums(w, &format!("{ind}    "), at, (s, den), "e", "up", kahan)?;
                writeln!(w, "{ind}    {m} = up ? x : {m};")?;
                writeln!(w, "{ind}  }}")?;
                writeln!(w, "{ind}}}")
            }
        }
    }

    /// The rescale-and-add step of the running-max sums: `s = up ? s * e + w : s + w * e` for the sums
    /// `s[g]` (weights `w`) and `den` (weight 1), compensated with Kahan.
    #[allow(clippy::too_many_arguments)]
    fn update_sums(
        &self,
        w: &mut String,
        ind: &str,
        at: &str,
        (s, den): (&str, &str),
        e: &str,
        up: &str,
        kahan: bool,
    ) -> fmt::Result {
        let d2 = self.p.kernel.dim2();
        let soft = self.p.kernel.reduction == Reduction::SumSoftMaxWeight;
        let one = if at == "double" {
            literal(Dtype::F64, 1.0)
        } else {
            self.lit(1.0)
        };
        if kahan {
            // Rescale sum and compensation, then add the term with compensation.
            let add = |sum: &str, c: &str, term: &str| {
                format!(
                    "{{ if ({up}) {{ {sum} *= {e}; {c} *= {e}; }} const {at} y = ({term}) - {c}; \
                     const {at} u = {sum} + y; {c} = (u - {sum}) - y; {sum} = u; }}"
                )
            };
            let term = |wk: String| format!("{up} ? ({at})({wk}) : ({at})({wk}) * {e}");
            writeln!(
                w,
                "{ind}for (int k = 0; k < {d2}; k++) {}",
                add("s[k]", "cs[k]", &term(self.weight("k")))
            )?;
            if soft {
                writeln!(
                    w,
                    "{ind}{}",
                    add("den", "cden", &format!("{up} ? {one} : {e}"))
                )?;
            }
        } else {
            let wk = self.weight("k");
            writeln!(
                w,
                "{ind}for (int k = 0; k < {d2}; k++) {s}[k] = {up} ? {s}[k] * {e} + ({at})({wk}) : {s}[k] + ({at})({wk}) * {e};"
            )?;
            if soft {
                writeln!(w, "{ind}{den} = {up} ? {den} * {e} + {one} : {den} + {e};")?;
            }
        }
        Ok(())
    }

    /// Block scheme: merges the tile's partials into the accumulators.
    fn tile_end(&self, w: &mut String) -> fmt::Result {
        if self.p.scheme != SumScheme::Block {
            return Ok(());
        }
        let (a, d) = (self.a, self.d);
        let ind = "      ";
        match self.p.kernel.reduction {
            Reduction::Sum => writeln!(
                w,
                "{ind}for (int k = 0; k < {d}; k++) acc[k] += ({a})blk[k];"
            ),
            Reduction::LogSumExp | Reduction::SumSoftMaxWeight => {
                let d2 = self.p.kernel.dim2();
                let soft = self.p.kernel.reduction == Reduction::SumSoftMaxWeight;
                // A tile whose max stayed -inf holds zeros (or NaN, which must propagate): add it as is.
                writeln!(w, "{ind}if (bm == {}) {{", self.lit(f64::NEG_INFINITY))?;
                writeln!(
                    w,
                    "{ind}  for (int k = 0; k < {d2}; k++) s[k] += ({a})bs[k];"
                )?;
                if soft {
                    writeln!(w, "{ind}  den += ({a})bden;")?;
                }
                writeln!(w, "{ind}}} else {{")?;
                writeln!(w, "{ind}  const bool up = bm > m;")?;
                writeln!(
                    w,
                    "{ind}  const {a} e = ({a}){}(up ? m - bm : bm - m);",
                    math(self.p.dtype, self.p.fast_math, "exp")
                )?;
                writeln!(
                    w,
                    "{ind}  for (int k = 0; k < {d2}; k++) s[k] = up ? s[k] * e + ({a})bs[k] : s[k] + ({a})bs[k] * e;"
                )?;
                if soft {
                    writeln!(
                        w,
                        "{ind}  den = up ? den * e + ({a})bden : den + ({a})bden * e;"
                    )?;
                }
                writeln!(w, "{ind}  m = up ? bm : m;")?;
                writeln!(w, "{ind}}}")
            }
            _ => Ok(()),
        }
    }

    fn finish(&self, w: &mut String) -> fmt::Result {
        let (t, a, d) = (self.t, self.a, self.d);
        let ind = "    ";
        match self.p.kernel.reduction {
            Reduction::Sum => writeln!(
                w,
                "{ind}for (int k = 0; k < {d}; k++) values[o + k] = ({t})acc[k];"
            ),
            Reduction::Min | Reduction::Max => writeln!(
                w,
                "{ind}for (int k = 0; k < {d}; k++) values[o + k] = best[k];"
            ),
            Reduction::ArgMin | Reduction::ArgMax => {
                writeln!(
                    w,
                    "{ind}for (int k = 0; k < {d}; k++) indices[o + k] = arg[k];"
                )
            }
            Reduction::MinArgMin | Reduction::MaxArgMax => writeln!(
                w,
                "{ind}for (int k = 0; k < {d}; k++) {{ values[o + k] = best[k]; indices[o + k] = arg[k]; }}"
            ),
            Reduction::KMin(kk) | Reduction::ArgKMin(kk) | Reduction::KMinArgKMin(kk) => {
                // k-major output: out[q * D + d] = kv[d * K + q].
                let red = self.p.kernel.reduction;
                let body = match red {
                    Reduction::KMin(_) => "values[o + q * D_ + k] = kv[k * K_ + q];",
                    Reduction::ArgKMin(_) => "indices[o + q * D_ + k] = ki[k * K_ + q];",
                    _ => {
                        "values[o + q * D_ + k] = kv[k * K_ + q]; indices[o + q * D_ + k] = ki[k * K_ + q];"
                    }
                };
                let body = body
                    .replace("D_", &d.to_string())
                    .replace("K_", &kk.to_string());
                writeln!(w, "{ind}for (int q = 0; q < {kk}; q++)")?;
                writeln!(w, "{ind}  for (int k = 0; k < {d}; k++) {{ {body} }}")
            }
            Reduction::LogSumExp => {
                let d2 = self.p.kernel.dim2();
                let log = math(acc_dtype(self.p), false, "log");
                writeln!(
                    w,
                    "{ind}for (int k = 0; k < {d2}; k++) values[o + k] = ({t})(({a})m + {log}(s[k]));"
                )
            }
            Reduction::SumSoftMaxWeight => {
                let d2 = self.p.kernel.dim2();
                writeln!(
                    w,
                    "{ind}for (int k = 0; k < {d2}; k++) values[o + k] = ({t})(s[k] / den);"
                )
            }
        }
    }
}

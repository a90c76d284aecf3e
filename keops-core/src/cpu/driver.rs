//! The tiled parallel CPU loop.
//!
//! Non-generic work (validation, sizes, packing the inputs, output assembly) is done once per call,
//! generic over the scalar type only. The loop itself is generic over the formula ([`TileFormula`],
//! the only thing the macro generates) and the row accumulator: output rows are split into blocks
//! across rayon's threads; for each tile of the reduced index (sized to stay in L1), every row of the
//! block evaluates the formula against the tile's packs of `LANES` reduced rows, laid out as structure
//! of arrays, and accumulates lane-wise. The inputs are copied once into that layout (O((M + N)·D)
//! memory); nothing of size M×N is ever stored.

use keops_ir::{Cat, Layout, Reduction, Slot};
use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

use super::accum::{Extremum, KMin, LogSumExp, RowAcc, SumF64, SumKahan, SumLanes};
use super::simd::{Level, Task, dispatch, resolve};
use crate::{Accumulator, Backend, Error, Options, Pack, Real, SumScheme};

/// A formula evaluated on packs: one output row (`outer`: that row's variables, splat) against one pack
/// of `LANES` reduced rows (`inner`: one pack per component of the inner variables), parameters splat.
/// `out` receives F's components, then those of the weight formula if any.
pub trait TileFormula<T: Real>: Sync {
    /// Scratch packs `eval` and `eval_block` need for a block of `nb` packs (the interpreter's node
    /// values; 0 for generated code).
    fn scratch_len(&self, _nb: usize) -> usize {
        0
    }
    /// Evaluates the formula.
    fn eval(
        &self,
        outer: &[T::Pack],
        inner: &[T::Pack],
        params: &[T::Pack],
        scratch: &mut [T::Pack],
        out: &mut [T::Pack],
    );
    /// Evaluates the formula on `nb` consecutive packs: `inner` holds `nb` packs of `inner_dim`
    /// components each, `out` receives `nb` blocks of the output's components.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn eval_block(
        &self,
        outer: &[T::Pack],
        inner: &[T::Pack],
        inner_dim: usize,
        nb: usize,
        params: &[T::Pack],
        scratch: &mut [T::Pack],
        out: &mut [T::Pack],
    ) {
        let od = out.len() / nb.max(1);
        for k in 0..nb {
            self.eval(
                outer,
                &inner[k * inner_dim..(k + 1) * inner_dim],
                params,
                scratch,
                &mut out[k * od..(k + 1) * od],
            );
        }
    }
    /// The hot loop of `Sum`: adds F over every full pack of `inner` (packs of `inner_dim` components)
    /// into the lane accumulators `acc` (F's dimension). Generated code overrides it to keep the
    /// accumulators in registers.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn sum_packs(
        &self,
        outer: &[T::Pack],
        inner: &[T::Pack],
        inner_dim: usize,
        params: &[T::Pack],
        scratch: &mut [T::Pack],
        out: &mut [T::Pack],
        acc: &mut [T::Pack],
    ) {
        let np = inner.len() / inner_dim.max(1);
        let od = out.len() / BLOCK;
        let mut q = 0;
        while q < np {
            let nb = BLOCK.min(np - q);
            self.eval_block(
                outer,
                &inner[q * inner_dim..(q + nb) * inner_dim],
                inner_dim,
                nb,
                params,
                scratch,
                &mut out[..nb * od],
            );
            for k in 0..nb {
                // Opaque index: keeps LLVM from vectorising across packs (with gathers) instead of across lanes.
                let k = std::hint::black_box(k);
                for (a, o) in acc.iter_mut().zip(&out[k * od..(k + 1) * od]) {
                    *a = a.add(*o);
                }
            }
            q += nb;
        }
    }
}

/// Packs evaluated together by `eval_block` (the interpreter's dispatch is paid once per block).
pub const BLOCK: usize = 32;

/// One argument of a kernel: name, category, dimension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VarSpec<'a> {
    /// The alias name (used in error messages).
    pub name: &'a str,
    /// i, j or parameter.
    pub cat: Cat,
    /// Vector dimension.
    pub dim: usize,
}

/// What a kernel computes, as far as the driver needs to know.
#[derive(Clone, Copy, Debug)]
pub struct Signature<'a> {
    /// Arguments in call order.
    pub vars: &'a [VarSpec<'a>],
    /// The reduction.
    pub reduction: Reduction,
    /// 1: over j; 0: over i.
    pub axis: usize,
    /// Dimension of F.
    pub dim: usize,
    /// Dimension of the weight formula (1 if none).
    pub dim2: usize,
    /// Whether there is a weight formula.
    pub weighted: bool,
}

/// A reduction's result: values and/or indices, `rows × cols`.
#[derive(Clone, Debug, PartialEq)]
pub struct RawOutput<T> {
    /// Values (absent for Arg-type reductions).
    pub values: Option<Array2<T>>,
    /// Indices (for Arg-type reductions).
    pub indices: Option<Array2<usize>>,
}

/// Values and indices of the `Min_ArgMin`, `Max_ArgMax` and `KMin_ArgKMin` reductions.
///
/// ```
/// use keops_core::ValuesIndices;
/// use ndarray::array;
/// let vi = ValuesIndices { values: array![[0.5f64]], indices: array![[3usize]] };
/// assert_eq!(vi.indices[[0, 0]], 3);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ValuesIndices<T> {
    /// The values.
    pub values: Array2<T>,
    /// The indices into the reduced axis.
    pub indices: Array2<usize>,
}

impl<T> RawOutput<T> {
    /// The values.
    pub fn into_values(self) -> Array2<T> {
        self.values.expect("a value reduction has values")
    }
    /// The indices.
    pub fn into_indices(self) -> Array2<usize> {
        self.indices.expect("an index reduction has indices")
    }
    /// Both.
    pub fn into_pair(self) -> ValuesIndices<T> {
        ValuesIndices {
            values: self.values.expect("a value reduction has values"),
            indices: self.indices.expect("an index reduction has indices"),
        }
    }
}

/// Inputs checked and packed for the loop.
pub struct Prepared<T: Real> {
    rows: usize,
    nred: usize,
    cols: usize,
    dim: usize,
    dim2: usize,
    weighted: bool,
    reduction: Reduction,
    scheme: SumScheme,
    accumulator: Accumulator,
    level: Level,
    threads: Option<usize>,
    outer_dim: usize,
    inner_dim: usize,
    outer: Vec<T>,
    inner: Vec<T::Pack>,
    params: Vec<T::Pack>,
}

fn shape_err(arg: &str, expected: String, got: String) -> Error {
    Error::Shape {
        arg: arg.to_string(),
        expected,
        got,
    }
}

/// Checks the arguments against the signature and the options, and packs the data.
pub fn prepare<T: Real>(
    sig: &Signature<'_>,
    args: &[ArrayView2<'_, T>],
    opts: &Options<'_>,
) -> Result<Prepared<T>, Error> {
    match opts.backend {
        Backend::Auto | Backend::Cpu => {}
        Backend::Gpu { .. } => {
            return Err(Error::NoGpu(
                "this build has no GPU back end (enable the `cuda` feature)".into(),
            ));
        }
    }
    if opts.ranges.is_some() {
        return Err(Error::Ranges(
            "block-sparse ranges are not supported yet".into(),
        ));
    }
    if opts.threads == Some(0) {
        return Err(Error::InvalidOption("`threads` must be at least 1".into()));
    }
    let sum_type = sig.reduction.is_sum_type();
    if !sum_type && matches!(opts.sum_scheme, SumScheme::Block | SumScheme::Kahan) {
        return Err(Error::InvalidOption(format!(
            "sum scheme `{:?}` applies to sum-type reductions only, not `{}`",
            opts.sum_scheme, sig.reduction
        )));
    }
    if !sum_type && opts.accumulator == Accumulator::F64 {
        return Err(Error::InvalidOption(format!(
            "an f64 accumulator applies to sum-type reductions only, not `{}`",
            sig.reduction
        )));
    }
    let level = resolve(opts.simd)?;
    if args.len() != sig.vars.len() {
        return Err(shape_err(
            "arguments",
            format!("{} arguments", sig.vars.len()),
            format!("{}", args.len()),
        ));
    }
    // Sizes: the first Vi gives M, the first Vj gives N (1 if none), as KeOps.
    let mut m = None;
    let mut n = None;
    for (v, a) in sig.vars.iter().zip(args) {
        let (r, c) = a.dim();
        match v.cat {
            Cat::Pm => {
                if r * c != v.dim || (r != 1 && c != 1) {
                    return Err(shape_err(
                        v.name,
                        format!("a parameter of {} values", v.dim),
                        format!("{r}×{c}"),
                    ));
                }
            }
            cat => {
                if c != v.dim {
                    return Err(shape_err(
                        v.name,
                        format!("{} columns", v.dim),
                        format!("{c} columns"),
                    ));
                }
                let size = if cat == Cat::Vi { &mut m } else { &mut n };
                match *size {
                    None => *size = Some((r, v.name)),
                    Some((r0, first)) if r0 != r => {
                        let what = if cat == Cat::Vi { "i" } else { "j" };
                        return Err(shape_err(
                            v.name,
                            format!("{r0} rows (like `{first}`, indexed by {what})"),
                            format!("{r} rows"),
                        ));
                    }
                    Some(_) => {}
                }
            }
        }
    }
    let (m, n) = (m.map_or(1, |s| s.0), n.map_or(1, |s| s.0));
    let (rows, nred) = if sig.axis == 1 { (m, n) } else { (n, m) };
    if sig.reduction.has_indices() {
        let k = sig.reduction.k().unwrap_or(1);
        if nred < k {
            let what = if sig.axis == 1 { "j" } else { "i" };
            return Err(shape_err(
                "reduced axis",
                format!("at least {k} {what} row(s) for `{}`", sig.reduction),
                format!("{nred}"),
            ));
        }
        if nred > u32::MAX as usize {
            return Err(shape_err(
                "reduced axis",
                "at most 2^32 rows for indices".into(),
                format!("{nred}"),
            ));
        }
    }
    let cats: Vec<(Cat, usize)> = sig.vars.iter().map(|v| (v.cat, v.dim)).collect();
    let layout = Layout::new(&cats, sig.axis);
    let w = <T::Pack as Pack>::LANES;
    let npacks = nred.div_ceil(w);
    let mut outer = vec![T::zero(); rows * layout.outer_dim];
    let mut inner = vec![T::Pack::zero(); npacks * layout.inner_dim];
    let mut params = vec![T::Pack::zero(); layout.param_dim];
    for (a, &(slot, off)) in args.iter().zip(&layout.vars) {
        match slot {
            Slot::Param => {
                for (k, v) in a.iter().enumerate() {
                    params[off + k] = T::Pack::splat(*v);
                }
            }
            Slot::Outer => {
                for (r, row) in a.rows().into_iter().enumerate() {
                    for (c, v) in row.iter().enumerate() {
                        outer[r * layout.outer_dim + off + c] = *v;
                    }
                }
            }
            Slot::Inner => {
                let d = a.ncols();
                for q in 0..npacks {
                    for c in 0..d {
                        let p = &mut inner[q * layout.inner_dim + off + c];
                        for l in 0..w {
                            // Lanes past the end repeat the last row, so they evaluate to finite values
                            // (they are never accumulated).
                            let r = (q * w + l).min(nred.saturating_sub(1));
                            p.as_mut_slice()[l] = a[[r, c]];
                        }
                    }
                }
            }
        }
    }
    Ok(Prepared {
        rows,
        nred,
        cols: sig.reduction.out_cols(sig.dim, sig.dim2),
        dim: sig.dim,
        dim2: sig.dim2,
        weighted: sig.weighted,
        reduction: sig.reduction,
        scheme: opts.sum_scheme,
        accumulator: opts.accumulator,
        level,
        threads: opts.threads,
        outer_dim: layout.outer_dim,
        inner_dim: layout.inner_dim,
        outer,
        inner,
        params,
    })
}

/// A family of reductions sharing one accumulator type (so a generated kernel instantiates the loop for
/// its own reduction only).
pub trait Family {
    /// Runs the loop for the prepared call.
    fn run<T: Real, F: TileFormula<T>>(f: &F, p: &Prepared<T>) -> RawOutput<T>;
}

/// `Sum`.
pub struct SumFamily;
/// `Min`, `ArgMin`, `Min_ArgMin`.
pub struct MinFamily;
/// `Max`, `ArgMax`, `Max_ArgMax`.
pub struct MaxFamily;
/// `KMin`, `ArgKMin`, `KMin_ArgKMin`.
pub struct KMinFamily;
/// `LogSumExp`, `SumSoftMaxWeight`.
pub struct LogSumExpFamily;

impl Family for SumFamily {
    fn run<T: Real, F: TileFormula<T>>(f: &F, p: &Prepared<T>) -> RawOutput<T> {
        let (d, f64t) = (p.dim, p.accumulator == Accumulator::F64);
        match (p.scheme, p.accumulator) {
            (SumScheme::Direct, Accumulator::Same) => {
                run_loop(f, p, || SumLanes::<T, false>::new(d, false))
            }
            (SumScheme::Direct, Accumulator::F64) => run_loop(f, p, || SumF64::<T>::new(d)),
            (SumScheme::Kahan, _) => run_loop(f, p, || SumKahan::<T>::new(d)),
            (SumScheme::Auto | SumScheme::Block, _) => {
                run_loop(f, p, || SumLanes::<T, true>::new(d, f64t))
            }
        }
    }
}

impl Family for MinFamily {
    fn run<T: Real, F: TileFormula<T>>(f: &F, p: &Prepared<T>) -> RawOutput<T> {
        run_loop(f, p, || Extremum::<T, false>::new(p.dim))
    }
}

impl Family for MaxFamily {
    fn run<T: Real, F: TileFormula<T>>(f: &F, p: &Prepared<T>) -> RawOutput<T> {
        run_loop(f, p, || Extremum::<T, true>::new(p.dim))
    }
}

impl Family for KMinFamily {
    fn run<T: Real, F: TileFormula<T>>(f: &F, p: &Prepared<T>) -> RawOutput<T> {
        let k = p.reduction.k().unwrap_or(1);
        run_loop(f, p, || KMin::<T>::new(p.dim, k))
    }
}

impl Family for LogSumExpFamily {
    fn run<T: Real, F: TileFormula<T>>(f: &F, p: &Prepared<T>) -> RawOutput<T> {
        let softmax = p.reduction == Reduction::SumSoftMaxWeight;
        run_loop(f, p, || {
            LogSumExp::<T>::new(p.dim, p.dim2, p.weighted, softmax)
        })
    }
}

/// Runs a prepared call with the family matching its reduction (the run-time interpreter's entry).
pub fn run_any<T: Real, F: TileFormula<T>>(f: &F, p: &Prepared<T>) -> RawOutput<T> {
    match p.reduction {
        Reduction::Sum => SumFamily::run(f, p),
        Reduction::Min | Reduction::ArgMin | Reduction::MinArgMin => MinFamily::run(f, p),
        Reduction::Max | Reduction::ArgMax | Reduction::MaxArgMax => MaxFamily::run(f, p),
        Reduction::KMin(_) | Reduction::ArgKMin(_) | Reduction::KMinArgKMin(_) => {
            KMinFamily::run(f, p)
        }
        Reduction::LogSumExp | Reduction::SumSoftMaxWeight => LogSumExpFamily::run(f, p),
    }
}

/// The whole call for a generated kernel of family `Fam`.
pub fn genred<T: Real, F: TileFormula<T>, Fam: Family>(
    f: &F,
    sig: &Signature<'_>,
    args: &[ArrayView2<'_, T>],
    opts: &Options<'_>,
) -> Result<RawOutput<T>, Error> {
    let p = prepare(sig, args, opts)?;
    with_threads(p.threads, || Fam::run(f, &p))
}

fn with_threads<R: Send>(
    threads: Option<usize>,
    work: impl FnOnce() -> R + Send,
) -> Result<R, Error> {
    match threads {
        None => Ok(work()),
        Some(n) => {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .map_err(|e| Error::InvalidOption(format!("cannot start {n} threads: {e}")))?;
            Ok(pool.install(work))
        }
    }
}

/// Rows per parallel task and packs per tile.
fn blocking<T: Real>(p: &Prepared<T>) -> (usize, usize) {
    let threads = rayon::current_num_threads().max(1);
    let rows_per_block = p.rows.div_ceil(threads * 8).clamp(1, 64);
    let pack_bytes = std::mem::size_of::<T::Pack>() * p.inner_dim.max(1);
    let tile = (32 * 1024 / pack_bytes).clamp(4, 1024);
    (rows_per_block, tile)
}

struct Block<'a, T: Real, F, A, M> {
    f: &'a F,
    p: &'a Prepared<T>,
    r0: usize,
    values: &'a mut [T],
    indices: &'a mut [usize],
    make: &'a M,
    tile: usize,
    _a: std::marker::PhantomData<A>,
}

impl<T: Real, F: TileFormula<T>, A: RowAcc<T>, M: Fn() -> A> Task for Block<'_, T, F, A, M> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        let p = self.p;
        let w = <T::Pack as Pack>::LANES;
        let nrows = self.values.len().checked_div(p.cols).unwrap_or(0);
        let mut accs: Vec<A> = (0..nrows).map(|_| (self.make)()).collect();
        let mut outer = vec![T::Pack::zero(); p.outer_dim];
        let mut scratch = vec![T::Pack::zero(); self.f.scratch_len(BLOCK)];
        let od = p.dim + if p.weighted { p.dim2 } else { 0 };
        let mut out = vec![T::Pack::zero(); od * BLOCK];
        let npacks = p.nred.div_ceil(w);
        let full = p.nred / w;
        let id = p.inner_dim;
        let mut t0 = 0;
        while t0 < npacks {
            let t1 = (t0 + self.tile).min(npacks);
            let tf = t1.min(full);
            for (r, acc) in accs.iter_mut().enumerate() {
                let row = self.r0 + r;
                for (o, v) in outer
                    .iter_mut()
                    .zip(&p.outer[row * p.outer_dim..(row + 1) * p.outer_dim])
                {
                    *o = T::Pack::splat(*v);
                }
                if tf > t0 {
                    let inner = &p.inner[t0 * id..tf * id];
                    if let Some(lanes) = acc.sum_lanes() {
                        self.f.sum_packs(
                            &outer,
                            inner,
                            id,
                            &p.params,
                            &mut scratch,
                            &mut out,
                            lanes,
                        );
                    } else {
                        let mut q = t0;
                        while q < tf {
                            let nb = BLOCK.min(tf - q);
                            let blk = &p.inner[q * id..(q + nb) * id];
                            self.f.eval_block(
                                &outer,
                                blk,
                                id,
                                nb,
                                &p.params,
                                &mut scratch,
                                &mut out[..nb * od],
                            );
                            for k in 0..nb {
                                acc.push(&out[k * od..(k + 1) * od], (q + k) * w);
                            }
                            q += nb;
                        }
                    }
                }
                if t1 > full {
                    let q = full;
                    self.f.eval(
                        &outer,
                        &p.inner[q * id..(q + 1) * id],
                        &p.params,
                        &mut scratch,
                        &mut out[..od],
                    );
                    acc.push_partial(&out[..od], q * w, p.nred - q * w);
                }
                acc.end_tile();
            }
            t0 = t1;
        }
        let c = p.cols;
        for (r, acc) in accs.iter_mut().enumerate() {
            acc.finish(
                &mut self.values[r * c..(r + 1) * c],
                &mut self.indices[r * c..(r + 1) * c],
            );
        }
    }
}

fn run_loop<T: Real, F: TileFormula<T>, A: RowAcc<T>>(
    f: &F,
    p: &Prepared<T>,
    make: impl Fn() -> A + Sync,
) -> RawOutput<T> {
    let (rows, cols) = (p.rows, p.cols);
    let mut values = vec![T::zero(); rows * cols];
    let mut indices = vec![0usize; rows * cols];
    let (rpb, tile) = blocking(p);
    if rows > 0 && cols > 0 {
        values
            .par_chunks_mut(rpb * cols)
            .zip(indices.par_chunks_mut(rpb * cols))
            .enumerate()
            .for_each(|(b, (vals, idx))| {
                let task = Block {
                    f,
                    p,
                    r0: b * rpb,
                    values: vals,
                    indices: idx,
                    make: &make,
                    tile,
                    _a: std::marker::PhantomData,
                };
                dispatch(p.level, task);
            });
    }
    let kind = p.reduction.output_kind();
    use keops_ir::OutputKind::*;
    RawOutput {
        values: matches!(kind, Values | ValuesIndices)
            .then(|| Array2::from_shape_vec((rows, cols), values).expect("rows × cols values")),
        indices: matches!(kind, Indices | ValuesIndices)
            .then(|| Array2::from_shape_vec((rows, cols), indices).expect("rows × cols indices")),
    }
}

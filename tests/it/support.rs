//! Shared helpers of the integration tests: seeded random data, dtype conversions, the oracle
//! (`keops_ir::reference::genred`) wrapped for `ndarray` inputs, comparisons with a relative tolerance
//! per dtype (NaN == NaN, infinities exact), an index check that accepts either index of a tie, and a tiny
//! `.npy` reader (little-endian f64, C order, format v1).

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;

use keops::{Accumulator, Error, Genred, Options, Real, Reduction, Simd, SumScheme, ValuesIndices};
use keops_ir::reference::{self, RefOutput};
use keops_ir::{Alias, Cat, Kernel};
use ndarray::Array2;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, StandardNormal, Uniform};

// ---------------------------------------------------------------------------------------------------
// Random data

/// A seeded generator (tests are deterministic).
pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

/// `rows × cols` standard normal entries.
pub fn randn(rng: &mut StdRng, rows: usize, cols: usize) -> Array2<f64> {
    Array2::from_shape_simple_fn((rows, cols), || StandardNormal.sample(rng))
}

/// `rows × cols` entries uniform in `[lo, hi)`.
pub fn uniform(rng: &mut StdRng, rows: usize, cols: usize, lo: f64, hi: f64) -> Array2<f64> {
    let u = Uniform::new(lo, hi).expect("lo < hi");
    Array2::from_shape_simple_fn((rows, cols), || u.sample(rng))
}

// ---------------------------------------------------------------------------------------------------
// Conversions

/// `f64` data in the scalar type `T`.
pub fn to_t<T: Real>(a: &Array2<f64>) -> Array2<T> {
    a.mapv(T::from_f64)
}

/// Back to `f64`.
pub fn to_f64<T: Real>(a: &Array2<T>) -> Array2<f64> {
    a.mapv(|v| v.to_f64())
}

/// The data rounded to `T` and back (what the reference must see when checking a `T` back end).
pub fn rounded<T: Real>(a: &Array2<f64>) -> Array2<f64> {
    to_f64(&to_t::<T>(a))
}

/// Row-major copy.
pub fn flat(a: &Array2<f64>) -> Vec<f64> {
    a.iter().copied().collect()
}

/// `Vec<[T; D]>` rows of a `n × D` array (for the `&[[T; D]]` input form).
pub fn rows_of<T: Real, const D: usize>(a: &Array2<T>) -> Vec<[T; D]> {
    assert_eq!(a.ncols(), D);
    a.rows()
        .into_iter()
        .map(|r| std::array::from_fn(|k| r[k]))
        .collect()
}

/// Bitwise equality of two arrays (NaN payloads included): "the call did not modify its input".
pub fn same_bits<T: Real>(a: &Array2<T>, b: &Array2<T>) -> bool {
    a.dim() == b.dim()
        && a.iter()
            .zip(b.iter())
            .all(|(x, y)| x.to_f64().to_bits() == y.to_f64().to_bits())
}

/// The default relative tolerance of a dtype: 1e-12 in `f64`, 1e-5 in `f32` (against the reference on
/// the `f32`-rounded inputs).
pub fn tol<T: Real>() -> f64 {
    if is_f32::<T>() { 1e-5 } else { 1e-12 }
}

/// Whether `T` is `f32`.
pub fn is_f32<T: Real>() -> bool {
    T::NAME == "f32"
}

// ---------------------------------------------------------------------------------------------------
// The oracle

/// A kernel as the front end builds it (panics on a formula error: test specs are valid).
pub fn kernel(
    formula: &str,
    formula2: Option<&str>,
    aliases: &[&str],
    red: Reduction,
    axis: usize,
) -> Kernel {
    let al: Vec<Alias> = aliases
        .iter()
        .map(|a| Alias::parse(a).expect("valid alias"))
        .collect();
    Kernel::build(formula, formula2, &al, red, axis).unwrap_or_else(|e| panic!("{formula}: {e}"))
}

/// The reference reduction on `f64` inputs in call order (parameters as one row).
pub fn run_ref(k: &Kernel, inputs: &[Array2<f64>]) -> RefOutput {
    let flats: Vec<Vec<f64>> = inputs.iter().map(flat).collect();
    let views: Vec<&[f64]> = flats.iter().map(|v| v.as_slice()).collect();
    reference::genred(k, &views)
}

/// The formula's value for the pair (i, j), by the reference evaluator.
pub fn formula_at(k: &Kernel, inputs: &[Array2<f64>], i: usize, j: usize) -> Vec<f64> {
    let rows: Vec<Vec<f64>> =
        k.ir.vars
            .iter()
            .zip(inputs)
            .map(|(v, a)| {
                let r = match v.cat {
                    Cat::Vi => i,
                    Cat::Vj => j,
                    Cat::Pm => 0,
                };
                if v.cat == Cat::Pm {
                    a.iter().copied().collect()
                } else {
                    a.row(r).to_vec()
                }
            })
            .collect();
    let views: Vec<&[f64]> = rows.iter().map(|v| v.as_slice()).collect();
    reference::eval(&k.ir, k.formula, &views)
}

/// Sizes (rows of the output, size of the reduced axis) as KeOps infers them.
pub fn out_and_reduced(k: &Kernel, inputs: &[Array2<f64>]) -> (usize, usize) {
    let rows = |cat: Cat| {
        k.ir.vars
            .iter()
            .find(|v| v.cat == cat)
            .map_or(1, |v| inputs[v.index].nrows())
    };
    let (m, n) = (rows(Cat::Vi), rows(Cat::Vj));
    if k.axis == 1 { (m, n) } else { (n, m) }
}

// ---------------------------------------------------------------------------------------------------
// Outputs of any reduction

/// What a call returned: values, indices, or both.
#[derive(Debug)]
pub enum Out<T> {
    /// A value reduction.
    V(Array2<T>),
    /// An Arg-type reduction.
    I(Array2<usize>),
    /// `Min_ArgMin`, `Max_ArgMax`, `KMin_ArgKMin`.
    VI(ValuesIndices<T>),
}

/// Wraps any reduction's result in [`Out`].
pub trait IntoOut<T> {
    /// The wrapped result.
    fn into_out(self) -> Out<T>;
}
impl IntoOut<f64> for Array2<f64> {
    fn into_out(self) -> Out<f64> {
        Out::V(self)
    }
}
impl IntoOut<f32> for Array2<f32> {
    fn into_out(self) -> Out<f32> {
        Out::V(self)
    }
}
impl<T> IntoOut<T> for Array2<usize> {
    fn into_out(self) -> Out<T> {
        Out::I(self)
    }
}
impl<T> IntoOut<T> for ValuesIndices<T> {
    fn into_out(self) -> Out<T> {
        Out::VI(self)
    }
}

/// Runs a run-time Genred, whatever its output kind.
pub fn call_genred<T: Real>(
    g: &Genred,
    opts: &Options<'_>,
    args: &[Array2<T>],
) -> Result<Out<T>, Error> {
    let views: Vec<_> = args.iter().map(|a| a.view()).collect();
    let raw = g.call_raw(opts, &views)?;
    Ok(match (raw.values, raw.indices) {
        (Some(v), None) => Out::V(v),
        (None, Some(i)) => Out::I(i),
        (Some(values), Some(indices)) => Out::VI(ValuesIndices { values, indices }),
        (None, None) => panic!("a call returned neither values nor indices"),
    })
}

// ---------------------------------------------------------------------------------------------------
// Comparisons

/// Compares `got` with `want` (same length): NaN must match NaN, infinities must match exactly, and the
/// finite entries must satisfy `|g - w| <= rtol · max(|w|, floor)` where `floor = floor_frac · max|w|`
/// over the finite entries of `want` (`floor_frac = 1`: the ∞-norm relative error of the whole output,
/// the right measure for sums with cancellation; smaller: closer to element-wise).
/// Returns the worst ratio `|g - w| / max(|w|, floor)`; panics with the first offending entry.
pub fn assert_close_floor(
    what: &str,
    got: &[f64],
    want: &[f64],
    rtol: f64,
    floor_frac: f64,
) -> f64 {
    assert_eq!(
        got.len(),
        want.len(),
        "{what}: {} values, expected {}",
        got.len(),
        want.len()
    );
    let maxw = want
        .iter()
        .filter(|w| w.is_finite())
        .fold(0.0f64, |m, w| m.max(w.abs()));
    let floor = (floor_frac * maxw).max(f64::MIN_POSITIVE);
    let mut worst = 0.0f64;
    for (k, (&g, &w)) in got.iter().zip(want).enumerate() {
        if w.is_nan() || g.is_nan() {
            assert!(
                w.is_nan() && g.is_nan(),
                "{what}: entry {k}: got {g:e}, expected {w:e}"
            );
            continue;
        }
        if w.is_infinite() || g.is_infinite() {
            assert_eq!(g, w, "{what}: entry {k}: got {g:e}, expected {w:e}");
            continue;
        }
        let r = (g - w).abs() / w.abs().max(floor);
        assert!(
            r <= rtol,
            "{what}: entry {k}: got {g:e}, expected {w:e} (relative error {r:.3e} > {rtol:.1e})"
        );
        worst = worst.max(r);
    }
    worst
}

/// [`assert_close_floor`] with the ∞-norm relative error of the whole output.
pub fn assert_close(what: &str, got: &[f64], want: &[f64], rtol: f64) -> f64 {
    assert_close_floor(what, got, want, rtol, 1.0)
}

/// `‖got − want‖_F / ‖want‖_F`.
pub fn rel_fro(got: &Array2<f64>, want: &Array2<f64>) -> f64 {
    assert_eq!(got.dim(), want.dim());
    let num: f64 = got.iter().zip(want).map(|(g, w)| (g - w) * (g - w)).sum();
    let den: f64 = want.iter().map(|w| w * w).sum();
    (num / den).sqrt()
}

/// Checks indices against the reference's: equal, or the formula has (within `rtol`) the same value at
/// both indices (a tie, or a near-tie after rounding to the back end's dtype). For the K family, the
/// indices kept for one output row and component must also be distinct.
pub fn assert_indices(
    what: &str,
    k: &Kernel,
    inputs: &[Array2<f64>],
    got: &Array2<usize>,
    want: &[usize],
    rtol: f64,
) {
    let (rows, nred) = out_and_reduced(k, inputs);
    let cols = k.out_cols();
    assert_eq!(got.dim(), (rows, cols), "{what}: index shape");
    let d = k.dim();
    for r in 0..rows {
        for c in 0..cols {
            let (g, w) = (got[[r, c]], want[r * cols + c]);
            assert!(
                g < nred,
                "{what}: index {g} at ({r}, {c}) out of range 0..{nred}"
            );
            if g == w {
                continue;
            }
            let comp = c % d;
            let at = |t: usize| {
                let (i, j) = if k.axis == 1 { (r, t) } else { (t, r) };
                formula_at(k, inputs, i, j)[comp]
            };
            let (fg, fw) = (at(g), at(w));
            assert!(
                (fg - fw).abs() <= rtol * fg.abs().max(fw.abs()),
                "{what}: index at ({r}, {c}) is {g} (F = {fg:e}), expected {w} (F = {fw:e}): not a tie"
            );
        }
        if let Some(kk) = k.reduction.k() {
            for comp in 0..d {
                let mut seen: Vec<usize> = (0..kk).map(|q| got[[r, q * d + comp]]).collect();
                seen.sort();
                seen.dedup();
                assert_eq!(
                    seen.len(),
                    kk,
                    "{what}: repeated index in row {r}, component {comp}"
                );
            }
        }
    }
}

/// Checks a back end's output against the reference run on `inputs` (already rounded to the back
/// end's dtype), its values rounded to that dtype, with relative tolerance `rtol` (∞-norm relative for
/// values; ties for indices).
/// Returns the worst relative error of the values (0 for indices only).
pub fn assert_out<T: Real>(
    what: &str,
    k: &Kernel,
    inputs: &[Array2<f64>],
    got: &Out<T>,
    rtol: f64,
) -> f64 {
    let want = run_ref(k, inputs);
    // The exact result rounded to T (for f32: values beyond its range become ±inf, tiny ones 0).
    let want_t: Option<Vec<f64>> = want
        .values
        .as_ref()
        .map(|v| v.iter().map(|&w| T::from_f64(w).to_f64()).collect());
    let check_values = |v: &Array2<T>| {
        assert_eq!(v.dim(), (want.rows, want.cols), "{what}: value shape");
        let g: Vec<f64> = v.iter().map(|x| x.to_f64()).collect();
        assert_close(what, &g, want_t.as_ref().expect("reference values"), rtol)
    };
    let worst = match got {
        Out::V(v) => {
            assert!(
                want.indices.is_none(),
                "{what}: values returned for an index reduction"
            );
            check_values(v)
        }
        Out::I(i) => {
            assert!(
                want.values.is_none(),
                "{what}: indices only for a value reduction"
            );
            assert_indices(
                what,
                k,
                inputs,
                i,
                want.indices.as_ref().expect("reference indices"),
                rtol,
            );
            0.0
        }
        Out::VI(vi) => {
            let w = check_values(&vi.values);
            assert_indices(
                what,
                k,
                inputs,
                &vi.indices,
                want.indices.as_ref().expect("reference indices"),
                rtol,
            );
            w
        }
    };
    if std::env::var_os("KEOPS_TEST_VERBOSE").is_some() {
        eprintln!("{what}: worst relative error {worst:.2e}");
    }
    worst
}

/// Whether a call on these sizes must fail with `Error::Shape` (Arg-type reductions need at least K
/// rows on the reduced axis).
pub fn expects_shape_error(k: &Kernel, inputs: &[Array2<f64>]) -> bool {
    let (_, nred) = out_and_reduced(k, inputs);
    k.reduction.has_indices() && nred < k.reduction.k().unwrap_or(1)
}

/// A back end under test: options and argument arrays in, any reduction's output back.
pub type RunFn<'a, T> = &'a dyn Fn(&Options<'_>, &[Array2<T>]) -> Result<Out<T>, Error>;

/// Runs `run` (a back end in dtype `T`) on `inputs` with every option set of `opts` and checks each
/// result against the reference on the `T`-rounded inputs with `rtol`.
pub fn check_backend<T: Real>(
    what: &str,
    k: &Kernel,
    inputs: &[Array2<f64>],
    opts: &[(String, Options<'static>)],
    rtol: f64,
    run: RunFn<'_, T>,
) {
    let args: Vec<Array2<T>> = inputs.iter().map(to_t::<T>).collect();
    let seen: Vec<Array2<f64>> = inputs.iter().map(rounded::<T>).collect();
    for (name, o) in opts {
        let what = format!("{what} [{} {name}]", T::NAME);
        let res = run(o, &args);
        if expects_shape_error(k, inputs) {
            assert!(
                matches!(res, Err(Error::Shape { .. })),
                "{what}: expected Error::Shape, got {res:?}"
            );
            continue;
        }
        let out = res.unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_out(&what, k, &seen, &out, rtol);
    }
}

// ---------------------------------------------------------------------------------------------------
// Options

/// The SIMD levels this CPU supports (`Scalar` always; `Avx2`, `Avx512` when a probe call does not
/// return `Error::InvalidOption`), then `Auto`.
pub fn simd_levels() -> &'static [Simd] {
    static LEVELS: OnceLock<Vec<Simd>> = OnceLock::new();
    LEVELS.get_or_init(|| {
        let g = Genred::new("x * y", &["x = Vi(1)", "y = Vj(1)"], Reduction::Sum, 1)
            .expect("probe formula");
        let x = Array2::<f64>::ones((3, 1));
        let mut out = vec![Simd::Scalar];
        for s in [Simd::Avx2, Simd::Avx512] {
            match g.call_with(&Options::new().simd(s), &[x.view(), x.view()]) {
                Ok(_) => out.push(s),
                Err(Error::InvalidOption(msg)) => eprintln!("skipping {s:?}: {msg}"),
                Err(e) => panic!("probe for {s:?}: unexpected error {e}"),
            }
        }
        out.push(Simd::Auto);
        out
    })
}

/// One option set per supported SIMD level.
pub fn simd_opts() -> Vec<(String, Options<'static>)> {
    simd_levels()
        .iter()
        .map(|&s| (format!("{s:?}"), Options::new().simd(s)))
        .collect()
}

/// Every sum scheme (Direct, Block, Kahan; Direct and Block with an f64 accumulator) at every
/// supported SIMD level, plus the defaults: for `Sum` (and the other sum-type reductions).
pub fn sum_opts() -> Vec<(String, Options<'static>)> {
    let mut v = vec![("default".to_string(), Options::new())];
    for &s in simd_levels() {
        for (name, o) in [
            ("Direct", Options::new().sum_scheme(SumScheme::Direct)),
            ("Block", Options::new().sum_scheme(SumScheme::Block)),
            ("Kahan", Options::new().sum_scheme(SumScheme::Kahan)),
            (
                "Direct+F64",
                Options::new()
                    .sum_scheme(SumScheme::Direct)
                    .accumulator(Accumulator::F64),
            ),
            (
                "Block+F64",
                Options::new()
                    .sum_scheme(SumScheme::Block)
                    .accumulator(Accumulator::F64),
            ),
            ("threads(1)", Options::new().threads(1)),
        ] {
            v.push((format!("{s:?} {name}"), o.simd(s)));
        }
    }
    v
}

/// The options to test a reduction with: every sum scheme for sum-type reductions, every SIMD level
/// otherwise.
pub fn opts_for(red: Reduction) -> Vec<(String, Options<'static>)> {
    if red.is_sum_type() {
        sum_opts()
    } else {
        simd_opts()
    }
}

// ---------------------------------------------------------------------------------------------------
// Files

/// `tests/data/<rel>`.
pub fn data_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(rel)
}

/// Reads a `.npy` file holding little-endian f64 in C order (format version 1.x); 1-D arrays come back
/// as one column.
pub fn read_npy(rel: &str) -> Array2<f64> {
    let path = data_path(rel);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    parse_npy(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The parser behind [`read_npy`].
pub fn parse_npy(bytes: &[u8]) -> Result<Array2<f64>, String> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err("not a .npy file".into());
    }
    if bytes[6] != 1 {
        return Err(format!(
            "unsupported .npy version {}.{}",
            bytes[6], bytes[7]
        ));
    }
    let hlen = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let header = std::str::from_utf8(bytes.get(10..10 + hlen).ok_or("truncated header")?)
        .map_err(|e| e.to_string())?;
    let field = |key: &str| -> Result<&str, String> {
        let at = header
            .find(&format!("'{key}'"))
            .ok_or(format!("no '{key}' in header {header}"))?;
        let rest = &header[at + key.len() + 2..];
        let colon = rest.find(':').ok_or("malformed header")?;
        Ok(rest[colon + 1..].trim_start())
    };
    if !field("descr")?.starts_with("'<f8'") {
        return Err(format!("dtype is not little-endian f64: {header}"));
    }
    if !field("fortran_order")?.starts_with("False") {
        return Err("Fortran order is not supported".into());
    }
    let shape_txt = field("shape")?;
    let close = shape_txt.find(')').ok_or("malformed shape")?;
    let dims: Vec<usize> = shape_txt[1..close]
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<usize>().map_err(|e| e.to_string()))
        .collect::<Result<_, _>>()?;
    let (rows, cols) = match dims.as_slice() {
        [] => (1, 1),
        [n] => (*n, 1),
        [r, c] => (*r, *c),
        _ => return Err(format!("{}-D arrays are not supported", dims.len())),
    };
    let data = &bytes[10 + hlen..];
    if data.len() != rows * cols * 8 {
        return Err(format!("{} data bytes for shape {rows}×{cols}", data.len()));
    }
    let vals: Vec<f64> = data
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
        .collect();
    Array2::from_shape_vec((rows, cols), vals).map_err(|e| e.to_string())
}

//! The `keops!` Genred types against the reference evaluator: every reduction, f32 and f64, sizes that
//! are not multiples of the SIMD width (and a reduced side of 1), every SIMD level the CPU has, every sum
//! scheme, every input form; pykeops' smoke case; the seed kernels against pykeops' outputs; empty
//! sides; NaN propagation.
//!
//! Each `keops!` type costs compile time (its loop is instantiated per dtype, SIMD level and
//! accumulator), so: every reduction has a type over j (axis 1); over i (axis 0) there is one type per
//! reduction family, the values-and-indices member where the family has one (`Min_ArgMin`,
//! `Max_ArgMax`, `KMin_ArgKMin`: their loop is the one `Min`/`ArgMin`/... run, and they check values
//! and indices at once), plus weighted `LogSumExp` and `SumSoftMaxWeight`. The run-time interpreter
//! (`runtime.rs`) runs every reduction on both axes.

use keops::prelude::*;
use keops_ir::{Cat, Kernel};
use ndarray::{Array1, Array2, s};

use crate::support::*;

// ---------------------------------------------------------------------------------------------------
// The types (one per reduction and axis; the formula strings are repeated in `Spec`s for the oracle).

/// A formula as the oracle sees it.
struct Spec {
    formula: &'static str,
    formula2: Option<&'static str>,
    aliases: &'static [&'static str],
    red: Reduction,
    axis: usize,
}

impl Spec {
    fn kernel(&self) -> Kernel {
        kernel(
            self.formula,
            self.formula2,
            self.aliases,
            self.red,
            self.axis,
        )
    }
    fn with(&self, red: Reduction, axis: usize) -> Spec {
        Spec { red, axis, ..*self }
    }
}

const GAUSS: Spec = Spec {
    formula: "Exp(-SqDist(x, y)) * a",
    formula2: None,
    aliases: &["x = Vi(3)", "y = Vj(3)", "a = Vj(2)"],
    red: Reduction::Sum,
    axis: 1,
};
const EXPK: Spec = Spec {
    formula: "Exp(-Norm2(x - y)) * a",
    ..GAUSS
};
const SUM0: Spec = Spec {
    formula: "Exp(-p * SqDist(x, y)) * b",
    formula2: None,
    aliases: &["x = Vi(3)", "y = Vj(3)", "b = Vi(2)", "p = Pm(1)"],
    red: Reduction::Sum,
    axis: 0,
};
/// D = 3, for the vectorised Min/Max/KMin families.
const VEC3: Spec = Spec {
    formula: "Sin(x * y) + w * SqDist(x, y)",
    formula2: None,
    aliases: &["x = Vi(3)", "y = Vj(3)", "w = Pm(3)"],
    red: Reduction::Min,
    axis: 1,
};
const LSE: Spec = Spec {
    formula: "-p * SqDist(x, y)",
    formula2: None,
    aliases: &["x = Vi(3)", "y = Vj(3)", "p = Pm(1)"],
    red: Reduction::LogSumExp,
    axis: 1,
};
const LSEW1: Spec = Spec {
    formula2: Some("a"),
    aliases: &["x = Vi(3)", "y = Vj(3)", "a = Vj(2)", "p = Pm(1)"],
    ..LSE
};
const LSEW0: Spec = Spec {
    formula2: Some("a"),
    aliases: &["x = Vi(3)", "y = Vj(3)", "a = Vi(2)", "p = Pm(1)"],
    axis: 0,
    ..LSE
};

keops! { pub struct Gauss1 { formula: "Exp(-SqDist(x, y)) * a", aliases: [x = Vi(3), y = Vj(3), a = Vj(2)], reduction: Sum, axis: 1 } }
keops! { pub struct ExpK1 { formula: "Exp(-Norm2(x - y)) * a", aliases: [x = Vi(3), y = Vj(3), a = Vj(2)], reduction: Sum, axis: 1 } }
keops! { pub struct Sum0 { formula: "Exp(-p * SqDist(x, y)) * b", aliases: [x = Vi(3), y = Vj(3), b = Vi(2), p = Pm(1)], reduction: Sum, axis: 0 } }
keops! { pub struct Smoke { formula: "SqNorm2(x - y)", aliases: [x = Vi(3), y = Vj(3)], reduction: Sum, axis: 0 } }

keops! { pub struct Min1 { formula: "Sin(x * y) + w * SqDist(x, y)", aliases: [x = Vi(3), y = Vj(3), w = Pm(3)], reduction: Min, axis: 1 } }
keops! { pub struct Max1 { formula: "Sin(x * y) + w * SqDist(x, y)", aliases: [x = Vi(3), y = Vj(3), w = Pm(3)], reduction: Max, axis: 1 } }
keops! { pub struct ArgMin1 { formula: "Sin(x * y) + w * SqDist(x, y)", aliases: [x = Vi(3), y = Vj(3), w = Pm(3)], reduction: ArgMin, axis: 1 } }
keops! { pub struct ArgMax1 { formula: "Sin(x * y) + w * SqDist(x, y)", aliases: [x = Vi(3), y = Vj(3), w = Pm(3)], reduction: ArgMax, axis: 1 } }
keops! { pub struct MinArgMin1 { formula: "Sin(x * y) + w * SqDist(x, y)", aliases: [x = Vi(3), y = Vj(3), w = Pm(3)], reduction: Min_ArgMin, axis: 1 } }
keops! { pub struct MaxArgMax1 { formula: "Sin(x * y) + w * SqDist(x, y)", aliases: [x = Vi(3), y = Vj(3), w = Pm(3)], reduction: Max_ArgMax, axis: 1 } }
keops! { pub struct KMin1 { formula: "Sin(x * y) + w * SqDist(x, y)", aliases: [x = Vi(3), y = Vj(3), w = Pm(3)], reduction: KMin(3), axis: 1 } }
keops! { pub struct ArgKMin1 { formula: "Sin(x * y) + w * SqDist(x, y)", aliases: [x = Vi(3), y = Vj(3), w = Pm(3)], reduction: ArgKMin(3), axis: 1 } }
keops! { pub struct KMinArgKMin1 { formula: "Sin(x * y) + w * SqDist(x, y)", aliases: [x = Vi(3), y = Vj(3), w = Pm(3)], reduction: KMin_ArgKMin(3), axis: 1 } }

keops! { pub struct MinArgMin0 { formula: "Sin(x * y) + w * SqDist(x, y)", aliases: [x = Vi(3), y = Vj(3), w = Pm(3)], reduction: Min_ArgMin, axis: 0 } }
keops! { pub struct MaxArgMax0 { formula: "Sin(x * y) + w * SqDist(x, y)", aliases: [x = Vi(3), y = Vj(3), w = Pm(3)], reduction: Max_ArgMax, axis: 0 } }
keops! { pub struct KMinArgKMin0 { formula: "Sin(x * y) + w * SqDist(x, y)", aliases: [x = Vi(3), y = Vj(3), w = Pm(3)], reduction: KMin_ArgKMin(3), axis: 0 } }

keops! { pub struct Lse1 { formula: "-p * SqDist(x, y)", aliases: [x = Vi(3), y = Vj(3), p = Pm(1)], reduction: LogSumExp, axis: 1 } }
keops! { pub struct LseW1 { formula: "-p * SqDist(x, y)", aliases: [x = Vi(3), y = Vj(3), a = Vj(2), p = Pm(1)], reduction: LogSumExp, formula2: "a", axis: 1 } }
keops! { pub struct SoftMax1 { formula: "-p * SqDist(x, y)", aliases: [x = Vi(3), y = Vj(3), a = Vj(2), p = Pm(1)], reduction: SumSoftMaxWeight, formula2: "a", axis: 1 } }
keops! { pub struct LseW0 { formula: "-p * SqDist(x, y)", aliases: [x = Vi(3), y = Vj(3), a = Vi(2), p = Pm(1)], reduction: LogSumExp, formula2: "a", axis: 0 } }
keops! { pub struct SoftMax0 { formula: "-p * SqDist(x, y)", aliases: [x = Vi(3), y = Vj(3), a = Vi(2), p = Pm(1)], reduction: SumSoftMaxWeight, formula2: "a", axis: 0 } }

// ---------------------------------------------------------------------------------------------------
// Drivers

/// (M, N): not multiples of 8 or 16, a reduced side below 16 and of 1 on each axis, one exact multiple.
const SIZES: [(usize, usize); 7] = [
    (37, 53),
    (37, 7),
    (37, 1),
    (7, 37),
    (1, 37),
    (33, 16),
    (16, 17),
];

/// Random inputs for a kernel: normal `Vi`/`Vj` data, parameters uniform in [0.5, 1.5) (positive
/// bandwidths keep `Exp(-p·d²)` bounded).
pub fn inputs_for(k: &Kernel, m: usize, n: usize, seed: u64) -> Vec<Array2<f64>> {
    let mut r = rng(seed);
    k.ir.vars
        .iter()
        .map(|v| match v.cat {
            Cat::Vi => randn(&mut r, m, v.dim),
            Cat::Vj => randn(&mut r, n, v.dim),
            Cat::Pm => uniform(&mut r, 1, v.dim, 0.5, 1.5),
        })
        .collect()
}

/// Checks a `keops!` type in f64 and f32 on every size of [`SIZES`] with the options of its reduction.
/// `|o, a| expr` calls the type with options `o` on the argument arrays `a` (type-checked once per dtype).
macro_rules! check_type {
    ($spec:expr, |$o:ident, $a:ident| $call:expr) => {{
        let spec: &Spec = &$spec;
        let k = spec.kernel();
        let opts = opts_for(spec.red);
        for (t, &(m, n)) in SIZES.iter().enumerate() {
            let inputs = inputs_for(&k, m, n, 1000 + t as u64);
            let what = format!(
                "{} {} axis {} M={m} N={n}",
                spec.formula, spec.red, spec.axis
            );
            check_backend::<f64>(
                &what,
                &k,
                &inputs,
                &opts,
                tol::<f64>(),
                &|$o: &Options<'_>, $a: &[Array2<f64>]| $call.map(IntoOut::into_out),
            );
            check_backend::<f32>(
                &what,
                &k,
                &inputs,
                &opts,
                tol::<f32>(),
                &|$o: &Options<'_>, $a: &[Array2<f32>]| $call.map(IntoOut::into_out),
            );
        }
    }};
}

// ---------------------------------------------------------------------------------------------------
// Every reduction, both axes

#[test]
fn sum_types_match_reference() {
    check_type!(GAUSS, |o, a| Gauss1.call_with(o, &a[0], &a[1], &a[2]));
    check_type!(EXPK, |o, a| ExpK1.call_with(o, &a[0], &a[1], &a[2]));
    check_type!(SUM0, |o, a| Sum0.call_with(o, &a[0], &a[1], &a[2], &a[3]));
}

#[test]
fn min_max_types_match_reference() {
    use Reduction::*;
    check_type!(VEC3.with(Min, 1), |o, a| Min1
        .call_with(o, &a[0], &a[1], &a[2]));
    check_type!(VEC3.with(Max, 1), |o, a| Max1
        .call_with(o, &a[0], &a[1], &a[2]));
    check_type!(VEC3.with(ArgMin, 1), |o, a| ArgMin1
        .call_with(o, &a[0], &a[1], &a[2]));
    check_type!(VEC3.with(ArgMax, 1), |o, a| ArgMax1
        .call_with(o, &a[0], &a[1], &a[2]));
    check_type!(VEC3.with(MinArgMin, 1), |o, a| MinArgMin1
        .call_with(o, &a[0], &a[1], &a[2]));
    check_type!(VEC3.with(MaxArgMax, 1), |o, a| MaxArgMax1
        .call_with(o, &a[0], &a[1], &a[2]));
    check_type!(VEC3.with(MinArgMin, 0), |o, a| MinArgMin0
        .call_with(o, &a[0], &a[1], &a[2]));
    check_type!(VEC3.with(MaxArgMax, 0), |o, a| MaxArgMax0
        .call_with(o, &a[0], &a[1], &a[2]));
}

#[test]
fn kmin_types_match_reference() {
    use Reduction::*;
    check_type!(VEC3.with(KMin(3), 1), |o, a| KMin1
        .call_with(o, &a[0], &a[1], &a[2]));
    check_type!(VEC3.with(ArgKMin(3), 1), |o, a| ArgKMin1
        .call_with(o, &a[0], &a[1], &a[2]));
    check_type!(VEC3.with(KMinArgKMin(3), 1), |o, a| KMinArgKMin1
        .call_with(o, &a[0], &a[1], &a[2]));
    check_type!(VEC3.with(KMinArgKMin(3), 0), |o, a| KMinArgKMin0
        .call_with(o, &a[0], &a[1], &a[2]));
}

#[test]
fn logsumexp_types_match_reference() {
    use Reduction::*;
    check_type!(LSE, |o, a| Lse1.call_with(o, &a[0], &a[1], &a[2]));
    check_type!(LSEW1, |o, a| LseW1.call_with(o, &a[0], &a[1], &a[2], &a[3]));
    check_type!(LSEW1.with(SumSoftMaxWeight, 1), |o, a| SoftMax1
        .call_with(o, &a[0], &a[1], &a[2], &a[3]));
    check_type!(LSEW0, |o, a| LseW0.call_with(o, &a[0], &a[1], &a[2], &a[3]));
    check_type!(LSEW0.with(SumSoftMaxWeight, 0), |o, a| SoftMax0
        .call_with(o, &a[0], &a[1], &a[2], &a[3]));
}

// ---------------------------------------------------------------------------------------------------
// Input forms

// `&x.view()` on purpose: the `&ArrayView2` input form.
#[allow(clippy::needless_borrows_for_generic_args)]
fn input_forms<T: Real>() {
    let k = SUM0.kernel();
    let inputs = inputs_for(&k, 37, 21, 7);
    let [x, y, b, p] = [0, 1, 2, 3].map(|i| to_t::<T>(&inputs[i]));
    let want = Sum0.call(&x, &y, &b, &p).unwrap();
    let seen: Vec<Array2<f64>> = inputs.iter().map(rounded::<T>).collect();
    assert_out(
        &format!("Sum0 [{}]", T::NAME),
        &k,
        &seen,
        &Out::V(want.clone()),
        tol::<T>(),
    );

    let (xr, yr) = (rows_of::<T, 3>(&x), rows_of::<T, 3>(&y));
    let br = rows_of::<T, 2>(&b);
    let pv: Vec<T> = p.iter().copied().collect();
    let p1: Array1<T> = Array1::from(pv.clone());
    let same = |got: Array2<T>, form: &str| {
        assert!(same_bits(&got, &want), "{} input form {form}", T::NAME)
    };
    same(
        Sum0.call(x.view(), y.view(), b.view(), p.view()).unwrap(),
        "ArrayView2",
    );
    same(
        Sum0.call(&x.view(), &y.view(), &b.view(), &p.view())
            .unwrap(),
        "&ArrayView2",
    );
    same(
        Sum0.call(&xr[..], &yr[..], &br[..], &pv[..]).unwrap(),
        "&[[T; D]] and &[T]",
    );
    same(
        Sum0.call(&x, &yr[..], b.view(), &p1).unwrap(),
        "mixed, &Array1 for Pm",
    );
    same(Sum0.call(&x, &y, &b, &pv).unwrap(), "&Vec<T> for Pm");
    // a parameter given as a column (d × 1) is accepted too
    let pcol = Array2::from_shape_vec((1, 1), pv.clone()).unwrap();
    same(Sum0.call(&x, &y, &b, &pcol).unwrap(), "Pm as 1×1");
    // non-contiguous views: every other row of a larger array
    let big = to_t::<T>(&randn(&mut rng(8), 74, 3));
    let mut xs = big.clone();
    xs.slice_mut(s![0..;2, ..]).assign(&x);
    let strided = xs.slice(s![0..;2, ..]);
    same(Sum0.call(strided, &y, &b, &p).unwrap(), "strided view");
    let xt = x.t().to_owned();
    same(
        Sum0.call(xt.t(), &y, &b, &p).unwrap(),
        "transposed (column-major) view",
    );
}

#[test]
fn every_input_form_gives_the_same_result() {
    input_forms::<f64>();
    input_forms::<f32>();
}

// ---------------------------------------------------------------------------------------------------
// Known values

#[test]
fn pykeops_smoke_case() {
    let x = Array2::from_shape_vec((3, 3), (1..=9).map(f64::from).collect()).unwrap();
    let y = Array2::from_shape_vec((2, 3), (3..=8).map(f64::from).collect()).unwrap();
    let out = Smoke.call(&x, &y).unwrap();
    assert_eq!(out, ndarray::array![[63.0], [90.0]]);
    let out32 = Smoke
        .call(&x.mapv(|v| v as f32), &y.mapv(|v| v as f32))
        .unwrap();
    assert_eq!(out32, ndarray::array![[63.0f32], [90.0]]);
    for (name, o) in sum_opts() {
        assert_eq!(
            Smoke.call_with(&o, &x, &y).unwrap(),
            ndarray::array![[63.0], [90.0]],
            "{name}"
        );
    }
}

#[test]
fn seed_kernels_match_pykeops() {
    let x = read_npy("seed-N1000/x.npy");
    let b = read_npy("seed-N1000/b.npy");
    assert_eq!((x.dim(), b.dim()), ((1000, 3), (1000, 2)));
    let k_exp = read_npy("seed-N1000/K_exp_x_x_b.npy");
    let k_gauss = read_npy("seed-N1000/K_gauss_x_x_b.npy");
    for (name, o) in simd_opts() {
        let e = rel_fro(&ExpK1.call_with(&o, &x, &x, &b).unwrap(), &k_exp);
        assert!(
            e < 1e-12,
            "Exp(-Norm2(x - y)) * a, f64 {name}: relative Frobenius error {e:e}"
        );
        let g = rel_fro(&Gauss1.call_with(&o, &x, &x, &b).unwrap(), &k_gauss);
        assert!(
            g < 1e-12,
            "Exp(-SqDist(x, y)) * a, f64 {name}: relative Frobenius error {g:e}"
        );
    }
    // f32: the rounding of the inputs alone perturbs K by ~1e-7 relative (|∂ exp(-r)/∂x| ≤ 1).
    let (x32, b32) = (to_t::<f32>(&x), to_t::<f32>(&b));
    let e = rel_fro(&to_f64(&ExpK1.call(&x32, &x32, &b32).unwrap()), &k_exp);
    assert!(
        e < 1e-5,
        "Exp(-Norm2(x - y)) * a, f32: relative Frobenius error {e:e}"
    );
    let g = rel_fro(&to_f64(&Gauss1.call(&x32, &x32, &b32).unwrap()), &k_gauss);
    assert!(
        g < 1e-5,
        "Exp(-SqDist(x, y)) * a, f32: relative Frobenius error {g:e}"
    );
}

// ---------------------------------------------------------------------------------------------------
// Edge cases

fn empty_sides<T: Real>() {
    let e = |r: &Result<Array2<usize>, Error>| matches!(r, Err(Error::Shape { .. }));
    let p3 = [T::from_f64(1.0); 3];
    let p1 = [T::from_f64(1.0)];
    let x = to_t::<T>(&randn(&mut rng(3), 5, 3));
    let a = to_t::<T>(&randn(&mut rng(4), 5, 2));
    let x0 = Array2::<T>::zeros((0, 3));
    let a0 = Array2::<T>::zeros((0, 2));

    // M = 0: no output rows, for every reduction over j
    assert_eq!(Gauss1.call(&x0, &x, &a).unwrap().dim(), (0, 2));
    assert_eq!(Min1.call(&x0, &x, &p3[..]).unwrap().dim(), (0, 3));
    assert_eq!(ArgMin1.call(&x0, &x, &p3[..]).unwrap().dim(), (0, 3));
    assert_eq!(
        KMinArgKMin1.call(&x0, &x, &p3[..]).unwrap().indices.dim(),
        (0, 9)
    );
    assert_eq!(Lse1.call(&x0, &x, &p1[..]).unwrap().dim(), (0, 1));
    assert_eq!(SoftMax1.call(&x0, &x, &a, &p1[..]).unwrap().dim(), (0, 2));
    // N = 0 with axis 0: no output rows either
    assert_eq!(Sum0.call(&x, &x0, &a, &p1[..]).unwrap().dim(), (0, 2));
    assert_eq!(
        MinArgMin0.call(&x, &x0, &p3[..]).unwrap().values.dim(),
        (0, 3)
    );

    // N = 0 (reduced side empty): the neutral elements
    let s = Gauss1.call(&x, &x0, &a0).unwrap();
    assert_eq!(s.dim(), (5, 2));
    assert!(
        s.iter().all(|v| *v == T::from_f64(0.0)),
        "Sum over nothing: {s:?}"
    );
    let m = Min1.call(&x, &x0, &p3[..]).unwrap();
    assert_eq!(m.dim(), (5, 3));
    assert!(
        m.iter().all(|v| *v == T::infinity()),
        "Min over nothing: {m:?}"
    );
    let mx = Max1.call(&x, &x0, &p3[..]).unwrap();
    assert!(
        mx.iter().all(|v| *v == T::neg_infinity()),
        "Max over nothing: {mx:?}"
    );
    let km = KMin1.call(&x, &x0, &p3[..]).unwrap();
    assert_eq!(km.dim(), (5, 9));
    assert!(
        km.iter().all(|v| *v == T::infinity()),
        "KMin over nothing: {km:?}"
    );
    let l = Lse1.call(&x, &x0, &p1[..]).unwrap();
    assert_eq!(l.dim(), (5, 1));
    assert!(
        l.iter().all(|v| *v == T::neg_infinity()),
        "LogSumExp over nothing: {l:?}"
    );
    let l = LseW1.call(&x, &x0, &a0, &p1[..]).unwrap();
    assert!(
        l.iter().all(|v| *v == T::neg_infinity()),
        "weighted LogSumExp over nothing: {l:?}"
    );
    // M = 0 with axis 0 is the same, seen from the other side
    let s = Sum0.call(&x0, &x, &a0, &p1[..]).unwrap();
    assert!(
        s.dim() == (5, 2) && s.iter().all(|v| *v == T::from_f64(0.0)),
        "Sum over nothing (axis 0): {s:?}"
    );

    // Arg-type reductions over an empty side: Error::Shape
    assert!(e(&ArgMin1.call(&x, &x0, &p3[..])), "ArgMin over nothing");
    assert!(e(&ArgMax1.call(&x, &x0, &p3[..])), "ArgMax over nothing");
    assert!(e(&ArgKMin1.call(&x, &x0, &p3[..])), "ArgKMin over nothing");
    assert!(
        matches!(MinArgMin0.call(&x0, &x, &p3[..]), Err(Error::Shape { .. })),
        "Min_ArgMin over nothing (axis 0)"
    );
    assert!(
        matches!(MinArgMin1.call(&x, &x0, &p3[..]), Err(Error::Shape { .. })),
        "Min_ArgMin over nothing"
    );
    assert!(
        matches!(MaxArgMax0.call(&x0, &x, &p3[..]), Err(Error::Shape { .. })),
        "Max_ArgMax over nothing"
    );
    assert!(
        matches!(
            KMinArgKMin1.call(&x, &x0, &p3[..]),
            Err(Error::Shape { .. })
        ),
        "KMin_ArgKMin over nothing"
    );
    // ... and with fewer than K rows
    let x2 = x.slice(s![0..2, ..]);
    assert!(e(&ArgKMin1.call(&x, x2, &p3[..])), "ArgKMin(3) over 2 rows");
    assert!(
        matches!(KMinArgKMin0.call(x2, &x, &p3[..]), Err(Error::Shape { .. })),
        "KMin_ArgKMin(3) over 2 rows"
    );
}

#[test]
fn empty_sides_give_neutral_elements_or_shape_errors() {
    empty_sides::<f64>();
    empty_sides::<f32>();
}

fn nan_propagates<T: Real>() {
    let k = GAUSS.kernel();
    let mut inputs = inputs_for(&k, 37, 53, 11);
    inputs[0][[3, 1]] = f64::NAN; // x_3
    inputs[2][[5, 0]] = f64::NAN; // a_5, first column
    let seen: Vec<Array2<f64>> = inputs.iter().map(rounded::<T>).collect();
    let args: Vec<Array2<T>> = inputs.iter().map(to_t::<T>).collect();
    for (name, o) in sum_opts() {
        let out = Gauss1.call_with(&o, &args[0], &args[1], &args[2]).unwrap();
        for i in 0..37 {
            // row 3 is all NaN; column 0 is NaN everywhere (a_5 reaches every row); the rest is finite
            assert!(out[[i, 0]].is_nan(), "{name}: ({i}, 0) = {:?}", out[[i, 0]]);
            assert_eq!(
                out[[i, 1]].is_nan(),
                i == 3,
                "{name}: ({i}, 1) = {:?}",
                out[[i, 1]]
            );
        }
        assert_out(
            &format!("Sum with NaN [{} {name}]", T::NAME),
            &k,
            &seen,
            &Out::V(out),
            tol::<T>(),
        );
    }

    // Min and Max skip NaN terms (strict comparisons, as KeOps): a NaN y_j drops out of every row.
    let k = VEC3.kernel();
    let mut inputs = inputs_for(&k, 37, 53, 12);
    inputs[1][[4, 2]] = f64::NAN; // y_4
    inputs[1][[50, 0]] = f64::NAN; // y_50, in the last, partial pack
    let seen: Vec<Array2<f64>> = inputs.iter().map(rounded::<T>).collect();
    let args: Vec<Array2<T>> = inputs.iter().map(to_t::<T>).collect();
    for (name, o) in simd_opts() {
        let m = Min1.call_with(&o, &args[0], &args[1], &args[2]).unwrap();
        assert!(
            m.iter().all(|v| v.is_finite()),
            "{name}: Min did not skip NaN terms"
        );
        assert_out(
            &format!("Min with NaN [{} {name}]", T::NAME),
            &k,
            &seen,
            &Out::V(m),
            tol::<T>(),
        );
        let vk = VEC3.with(Reduction::Max, 1).kernel();
        let mx = Max1.call_with(&o, &args[0], &args[1], &args[2]).unwrap();
        assert!(
            mx.iter().all(|v| v.is_finite()),
            "{name}: Max did not skip NaN terms"
        );
        assert_out(
            &format!("Max with NaN [{} {name}]", T::NAME),
            &vk,
            &seen,
            &Out::V(mx),
            tol::<T>(),
        );
        let vk = VEC3.with(Reduction::MinArgMin, 1).kernel();
        let mi = MinArgMin1
            .call_with(&o, &args[0], &args[1], &args[2])
            .unwrap();
        assert!(
            mi.indices.iter().all(|&j| j != 4 && j != 50),
            "{name}: an index of a NaN term was returned"
        );
        assert_out(
            &format!("Min_ArgMin with NaN [{} {name}]", T::NAME),
            &vk,
            &seen,
            &Out::VI(mi),
            tol::<T>(),
        );
    }
}

#[test]
fn nan_in_an_input_propagates_and_min_skips_it() {
    nan_propagates::<f64>();
    nan_propagates::<f32>();
}

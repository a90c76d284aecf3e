//! Branch-free, auto-vectorisable scalar math for `f32` and `f64`.
//!
//! Every function here is a plain scalar `fn(f32) -> f32` / `fn(f64) -> f64` written so that a loop over a
//! fixed-size lane array, e.g. `for l in 0..16 { out[l] = exp_f32(a[l]) }`, compiles to straight-line SIMD
//! code when it is inlined into a `#[target_feature(enable = "avx512f")]` (or `avx2,fma`) function. The
//! standard library functions (`f32::exp`, `f64::sin`, ...) are calls into libm, which LLVM cannot
//! vectorise, so a kernel using them runs one lane at a time.
//!
//! The approach is the one of SLEEF and glibc's libmvec, using the classic fdlibm / musl algorithms
//! and coefficients:
//!
//! * **range reduction** with constants split into a few parts whose products with the (small) integer
//!   multiplier are exact (Cody-Waite), so the reduced argument is accurate without FMA;
//! * a **polynomial or rational approximation** on the reduced interval, evaluated by Horner's rule.
//!   `exp` (the hot function of every kernel) uses fused multiply-adds (`mul_add`): inside the AVX2 and
//!   AVX-512 kernels they are single `vfmadd` instructions, 15 % faster end to end; at the `Scalar`
//!   level of an x86 CPU without FMA they go through libm's correctly rounded `fma` (slow, but the same
//!   bits, so every SIMD level gives identical results). The other functions use plain `a * b + c`;
//! * **reconstruction** with bit manipulation (`to_bits` / `from_bits`): powers of two are built in the
//!   exponent field, integers are obtained by adding `1.5 * 2^23` / `1.5 * 2^52` (round-to-nearest in the
//!   FPU, the integer lands in the low mantissa bits), small integers are turned into floats the same way;
//! * **no data-dependent branches**: every special case (NaN, infinities, zeros, domain errors,
//!   overflow/underflow, subnormals) and every interval choice is computed on all lanes and chosen with
//!   `if c { a } else { b }` between already computed values, which LLVM turns into blends. All integer
//!   arithmetic wraps, so lanes holding garbage (e.g. the bits of a NaN) never trap.
//!
//! There are no tables, no loops and no calls: only `+ - * /`, `sqrt`, `abs`, `copysign`, comparisons and
//! bit operations, which all have vector instructions on AVX2 and AVX-512.
//!
//! The `f32` versions of `sin`, `cos`, `atan`, `atan2`, `asin`, `acos` and `powf` widen to `f64`
//! internally (one rounding at the end): it costs two vector registers per 16 lanes instead of one, but
//! gives results within about half an ulp with short polynomials. `exp_f32` and `log_f32` are pure `f32`.
//!
//! Accuracy figures in the function docs are maximum errors in ulps measured by the tests in this file
//! (dense sweeps of the useful range, at least 100 000 points each, plus random bit patterns) against the
//! standard library: for `f32` against the `f64` function rounded to `f32`, for `f64` against the `f64`
//! function itself (glibc on x86-64 Linux), and for the hardest `sin` / `cos` reductions against 600-bit
//! reference values. Results do not depend on the instruction set: the vectorised loops give the same
//! bits as the scalar calls.
//!
//! Vectorisation was checked on the generated assembly: inside `avx512f` functions, loops over 16 `f32` or
//! 8 `f64` lanes compile to `zmm` code for every function, and inside `avx2,fma` functions to `ymm` code,
//! with no calls and no branches. (With only 4 `f64` lanes under AVX2, LLVM fully unrolls the loop and its
//! SLP vectoriser leaves `log_f64`, `asin_f64` and `acos_f64` scalar: keep `f64` packs at 8 lanes.)

use std::f32::consts as c32;
use std::f64::consts as c64;

/// `1.5 * 2^23`: `v + RND_F32 - RND_F32` rounds `|v| < 2^22` to the nearest integer, and the integer sits in
/// the low mantissa bits of `v + RND_F32`.
const RND_F32: f32 = 12_582_912.0;
/// `1.5 * 2^52`, the `f64` counterpart of [`RND_F32`].
const RND_F64: f64 = 6_755_399_441_055_744.0;
/// `2^52`.
const TWO52: f64 = 4_503_599_627_370_496.0;
/// `2^53`.
const TWO53: f64 = 9_007_199_254_740_992.0;

/// `x` with the low 32 bits of its mantissa cleared (fdlibm's `SET_LOW_WORD(x, 0)`): a value with at most
/// 21 significant bits, so that products of two such values are exact.
#[inline(always)]
fn high_part(x: f64) -> f64 {
    f64::from_bits(x.to_bits() & 0xffff_ffff_0000_0000)
}

// ---------------------------------------------------------------------------------------------------------
// exp
// ---------------------------------------------------------------------------------------------------------

/// `e^x` for `f32`, branch-free.
///
/// Reduction `x = k ln2 + r`, `k = round(x / ln2)`, `|r| <= ln2 / 2`, with `ln2` split in a 15-bit head
/// (so `k * ln2_hi` is exact) and a tail. Then `e^r = 1 + r + r^2 p(r)` with the degree-5 Cephes minimax
/// polynomial `p`, summed as `1 + (hi + (r^2 p(r) - lo))` where `r = hi - lo` to keep the reduction error out
/// of the leading terms. Finally `e^x = e^r * 2^k1 * 2^k2`, `k1 = floor(k / 2)`, `k2 = k - k1`, both powers
/// built in the exponent field: two factors so that results in the subnormal range are rounded once,
/// gradually.
///
/// Special values: `x > 88.7228` gives `+inf` (`exp(+inf) = +inf`), `x < -103.9721` gives `0`
/// (`exp(-inf) = 0`), subnormal results in between, `NaN -> NaN`.
///
/// Measured accuracy: at most 1 ulp over `[-104, 89]` (against `f64::exp` rounded to `f32`).
#[inline(always)]
pub fn exp_f32(x: f32) -> f32 {
    const LN2_HI: f32 = 6.931_457_5e-1; // 0x3f317200, 15 significant bits
    const LN2_LO: f32 = 1.428_606_8e-6; // 0x35bfbe8e
    const _: () = assert!(LN2_HI.to_bits() == 0x3f31_7200 && LN2_LO.to_bits() == 0x35bf_be8e);
    // Clamp so that k stays in [-150, 128]; NaN passes through (comparisons are false).
    let xc = if x > 89.0 { 89.0 } else { x };
    let xc = if xc < -104.0 { -104.0 } else { xc };
    let t = xc * c32::LOG2_E + RND_F32;
    let kf = t - RND_F32;
    let hi = xc - kf * LN2_HI; // exact
    let lo = kf * LN2_LO;
    let r = hi - lo;
    // Horner with fused multiply-adds (one rounding per step; vfmadd inside the AVX2/AVX-512 kernels).
    let p = 1.987_569_1e-4f32
        .mul_add(r, 1.398_199_9e-3)
        .mul_add(r, 8.333_452e-3)
        .mul_add(r, 4.166_579_6e-2)
        .mul_add(r, 1.666_666_6e-1)
        .mul_add(r, 0.5);
    let y = 1.0 + (hi + (r * r * p - lo));
    // k + 256 in [106, 384]; biased exponents of 2^floor(k/2) and 2^ceil(k/2).
    let kb = t
        .to_bits()
        .wrapping_sub(RND_F32.to_bits())
        .wrapping_add(256);
    let e1 = (kb >> 1).wrapping_sub(1);
    let e2 = kb.wrapping_sub(kb >> 1).wrapping_sub(1);
    y * f32::from_bits(e1 << 23) * f32::from_bits(e2 << 23)
}

/// `e^x` for `f64`, branch-free.
///
/// Reduction `x = k ln2 + r`, `k = round(x / ln2)`, `|r| <= ln2 / 2`, with `ln2` split in a 32-bit head (so
/// `k * ln2_hi` is exact for every `|k| <= 1076`) and a tail. Then `e^r = 1 + r + r^2 p(r)` where `p` is the
/// Taylor polynomial of `(e^r - 1 - r) / r^2` up to `r^11 / 13!` (truncation error below `6e-18`
/// relative), summed as `1 + (hi + (r^2 p(r) - lo))` with `r = hi - lo`. Finally
/// `e^x = e^r * 2^k1 * 2^k2`, `k1 = floor(k / 2)`, `k2 = k - k1`, both powers built in the exponent field so
/// that subnormal results are rounded once.
///
/// Special values: `x > 709.7827` gives `+inf` (`exp(+inf) = +inf`), `x < -745.1332` gives `0`
/// (`exp(-inf) = 0`), subnormal results in between, `NaN -> NaN`.
///
/// Measured accuracy: at most 1 ulp over `[-746, 710]` (against `f64::exp`).
#[inline(always)]
pub fn exp_f64(x: f64) -> f64 {
    const LN2_HI: f64 = 6.931_471_803_691_238e-1; // 0x3fe62e42fee00000
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10; // 0x3dea39ef35793c76
    const _: () = assert!(
        LN2_HI.to_bits() == 0x3fe6_2e42_fee0_0000 && LN2_LO.to_bits() == 0x3dea_39ef_3579_3c76
    );
    // Clamp so that k stays in [-1077, 1025]; NaN passes through.
    let xc = if x > 710.0 { 710.0 } else { x };
    let xc = if xc < -746.0 { -746.0 } else { xc };
    let t = xc * c64::LOG2_E + RND_F64;
    let kf = t - RND_F64;
    let hi = xc - kf * LN2_HI; // exact
    let lo = kf * LN2_LO;
    let r = hi - lo;
    // Horner with fused multiply-adds, innermost first: 1/13!, 1/12!, ..., 1/3!, 1/2.
    let p = r.mul_add(1.605_904_383_682_161_3e-10, 2.087_675_698_786_81e-9);
    let p = r.mul_add(p, 2.505_210_838_544_172e-8);
    let p = r.mul_add(p, 2.755_731_922_398_589e-7);
    let p = r.mul_add(p, 2.755_731_922_398_589_3e-6);
    let p = r.mul_add(p, 2.480_158_730_158_73e-5);
    let p = r.mul_add(p, 1.984_126_984_126_984e-4);
    let p = r.mul_add(p, 1.388_888_888_888_889e-3);
    let p = r.mul_add(p, 8.333_333_333_333_333e-3);
    let p = r.mul_add(p, 4.166_666_666_666_666_4e-2);
    let p = r.mul_add(p, 1.666_666_666_666_666_6e-1);
    let p = r.mul_add(p, 0.5);
    let y = 1.0 + (hi + (r * r * p - lo));
    // k + 2048 in [971, 3073]; biased exponents of 2^floor(k/2) and 2^ceil(k/2).
    let kb = t
        .to_bits()
        .wrapping_sub(RND_F64.to_bits())
        .wrapping_add(2048);
    let e1 = (kb >> 1).wrapping_sub(1);
    let e2 = kb.wrapping_sub(kb >> 1).wrapping_sub(1);
    y * f64::from_bits(e1 << 52) * f64::from_bits(e2 << 52)
}

// ---------------------------------------------------------------------------------------------------------
// log
// ---------------------------------------------------------------------------------------------------------

/// Natural logarithm `ln x` for `f32`, branch-free.
///
/// Subnormal inputs are first multiplied by `2^25`. The bits give `x = 2^k m` with `m` in
/// `[sqrt(1/2), sqrt(2))`; with `f = m - 1` (exact) and `s = f / (2 + f)`,
/// `ln m = 2 atanh(s) = f - f^2/2 + s (f^2/2 + R(s^2))`, `R` the fdlibm degree-4 minimax polynomial, and
/// `ln x = (((s (f^2/2 + R) + k ln2_lo) - f^2/2) + f) + k ln2_hi` with a 17-bit head `ln2_hi`.
///
/// Special values: `ln 1 = +0` exactly, `ln(±0) = -inf`, `ln(x < 0) = NaN`, `ln(+inf) = +inf`,
/// `NaN -> NaN`.
///
/// Measured accuracy: at most 1 ulp over all positive finite `f32` (subnormals included).
#[inline(always)]
pub fn log_f32(x: f32) -> f32 {
    const LN2_HI: f32 = 6.931_381e-1; // 0x3f317180
    const LN2_LO: f32 = 9.058_001e-6; // 0x3717f7d1
    const _: () = assert!(LN2_HI.to_bits() == 0x3f31_7180 && LN2_LO.to_bits() == 0x3717_f7d1);
    const LG1: f32 = 6.666_666e-1; // 0xaaaaaa.0p-24
    const LG2: f32 = 4.000_097_2e-1; // 0xccce13.0p-25
    const LG3: f32 = 2.849_878_7e-1; // 0x91e9ee.0p-25
    const LG4: f32 = 2.427_907_9e-1; // 0xf89e26.0p-26
    let sub = x < f32::MIN_POSITIVE;
    let xs = if sub { x * 33_554_432.0 } else { x };
    // Move the mantissa to [sqrt(1/2), sqrt(2)) and the biased exponent k + 127 to kb.
    let ix = xs.to_bits().wrapping_add(0x3f80_0000 - 0x3f35_04f3);
    let kb = ix >> 23;
    let m = f32::from_bits((ix & 0x007f_ffff).wrapping_add(0x3f35_04f3));
    // k as a float: 2^23 + kb - (2^23 + 127 [+ 25]), all exact.
    let off = if sub { 8_388_760.0 } else { 8_388_735.0 };
    let dk = f32::from_bits(0x4b00_0000 | (kb & 0x1ff)) - off;
    let f = m - 1.0;
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (LG2 + w * LG4);
    let t2 = z * (LG1 + w * LG3);
    let r = t2 + t1;
    let hfsq = 0.5 * f * f;
    let res = s * (hfsq + r) + dk * LN2_LO - hfsq + f + dk * LN2_HI;
    let res = if x == f32::INFINITY { x } else { res };
    let res = if x < 0.0 { f32::NAN } else { res };
    let res = if x == 0.0 { f32::NEG_INFINITY } else { res };
    if x.is_nan() { x + x } else { res }
}

/// Natural logarithm `ln x` for `f64`, branch-free.
///
/// Subnormal inputs are first multiplied by `2^54`. The bits give `x = 2^k m` with `m` in
/// `[sqrt(1/2), sqrt(2))`; with `f = m - 1` (exact) and `s = f / (2 + f)`,
/// `ln m = 2 atanh(s) = f - f^2/2 + s (f^2/2 + R(s^2))`, `R` the fdlibm degree-7 minimax polynomial
/// (error below `2^-58.45`), and `ln x = (((s (f^2/2 + R) + k ln2_lo) - f^2/2) + f) + k ln2_hi` with a
/// 32-bit head `ln2_hi` (so `k ln2_hi` is exact).
///
/// Special values: `ln 1 = +0` exactly, `ln(±0) = -inf`, `ln(x < 0) = NaN`, `ln(+inf) = +inf`,
/// `NaN -> NaN`.
///
/// Measured accuracy: at most 1 ulp over all positive finite `f64` (subnormals included).
#[inline(always)]
pub fn log_f64(x: f64) -> f64 {
    const LN2_HI: f64 = 6.931_471_803_691_238e-1; // 0x3fe62e42fee00000
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10; // 0x3dea39ef35793c76
    const _: () = assert!(
        LN2_HI.to_bits() == 0x3fe6_2e42_fee0_0000 && LN2_LO.to_bits() == 0x3dea_39ef_3579_3c76
    );
    const LG1: f64 = 6.666_666_666_666_735e-1;
    const LG2: f64 = 3.999_999_999_940_942e-1;
    const LG3: f64 = 2.857_142_874_366_239e-1;
    const LG4: f64 = 2.222_219_843_214_978_4e-1;
    const LG5: f64 = 1.818_357_216_161_805e-1;
    const LG6: f64 = 1.531_383_769_920_937_3e-1;
    const LG7: f64 = 1.479_819_860_511_658_6e-1;
    let sub = x < f64::MIN_POSITIVE;
    let xs = if sub { x * 18_014_398_509_481_984.0 } else { x };
    // Move the mantissa to [sqrt(1/2), sqrt(2)) and the biased exponent k + 1023 to kb.
    let ix = xs
        .to_bits()
        .wrapping_add(0x3ff0_0000_0000_0000 - 0x3fe6_a09e_0000_0000);
    let kb = ix >> 52;
    let m = f64::from_bits((ix & 0x000f_ffff_ffff_ffff).wrapping_add(0x3fe6_a09e_0000_0000));
    // k as a float: 2^52 + kb - (2^52 + 1023 [+ 54]), all exact.
    let off = if sub {
        4_503_599_627_371_573.0
    } else {
        4_503_599_627_371_519.0
    };
    let dk = f64::from_bits(0x4330_0000_0000_0000 | (kb & 0xfff)) - off;
    let f = m - 1.0;
    let hfsq = 0.5 * f * f;
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (LG2 + w * (LG4 + w * LG6));
    let t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
    let r = t2 + t1;
    let res = s * (hfsq + r) + dk * LN2_LO - hfsq + f + dk * LN2_HI;
    let res = if x == f64::INFINITY { x } else { res };
    let res = if x < 0.0 { f64::NAN } else { res };
    let res = if x == 0.0 { f64::NEG_INFINITY } else { res };
    if x.is_nan() { x + x } else { res }
}

// ---------------------------------------------------------------------------------------------------------
// sin, cos
// ---------------------------------------------------------------------------------------------------------

/// First 22 bits of `pi/2` (rounded up): `k * PIO2_1` is exact for `|k| < 2^31`.
const PIO2_1: f64 = 1.570_796_489_715_576_2; // 0x3ff921fb80000000
/// Next 22 bits (negative): `pi/2 - PIO2_1` rounded to 22 bits.
const PIO2_2: f64 = -1.629_206_849_429_465_4e-7; // 0xbe85dde980000000
/// Next 22 bits of what is left.
const PIO2_3: f64 = 5.390_302_529_957_765e-15; // 0x3cf8469880000000
/// Next 22 bits of what is left.
const PIO2_4: f64 = 3.282_003_668_243_402_6e-22; // 0x3b78cc5180000000
/// Tail, 53 bits: `pi/2 - PIO2_1 - ... - PIO2_4` (what is left is `7e-46`).
const PIO2_5: f64 = -1.253_699_020_693_249_9e-29; // 0xb9efc8f8cbb5bf6c

const _: () = assert!(PIO2_1.to_bits() == 0x3ff9_21fb_8000_0000);
const _: () = assert!(PIO2_2.to_bits() == 0xbe85_dde9_8000_0000);
const _: () = assert!(PIO2_3.to_bits() == 0x3cf8_4698_8000_0000);
const _: () = assert!(PIO2_4.to_bits() == 0x3b78_cc51_8000_0000);
const _: () = assert!(PIO2_5.to_bits() == 0xb9ef_c8f8_cbb5_bf6c);

/// Cody-Waite reduction of `ax >= 0` (or NaN) by `pi/2`: returns `(r, rr, q)` with
/// `ax = k pi/2 + r + rr`, `|r| <= pi/4`, `|rr| <= ulp(r)/2`, and `q` whose two low bits are `k mod 4`.
///
/// `k = round(ax * 2/pi)`; `pi/2 = c1 + c2 + c3 + c4 + c5` with four 22-bit parts (so every `k ci` is
/// exact for `k < 2^31`, i.e. `ax < 3.37e9`) and a 53-bit tail, about 140 bits of `pi/2`. `ax - k c1 - k c2`
/// is exact; `k c3` and `k c4` are subtracted with exact two-term sums (a subtraction that cancels is exact,
/// one that does not leaves a small relative error, carried in the low part), so the absolute error of
/// `r + rr` is about `k 2^-141` even for the arguments closest to a multiple of `pi/2` (`|r|` down to
/// `2^-61`). Past `k = 2^31` the products are rounded and the reduction degrades; where it is off by more
/// than the polynomials' range (`|r| > 0.8`, only for `ax > 2^31 pi/2`) `r` is replaced by 0 so the result
/// stays finite and in `[-1, 1]`. Infinities and NaN give `r = NaN`.
#[inline(always)]
fn rem_pio2(ax: f64) -> (f64, f64, u64) {
    let t = ax * c64::FRAC_2_PI + RND_F64;
    let kf = t - RND_F64;
    let a = ax - kf * PIO2_1; // exact
    let b = a - kf * PIO2_2; // exact
    let w3 = kf * PIO2_3; // exact
    let c = b - w3;
    let cc = (b - c) - w3;
    let w4 = kf * PIO2_4; // exact
    let d = c - w4;
    let dd = (c - d) - w4;
    let lo = (cc + dd) - kf * PIO2_5;
    let r = d + lo;
    let rr = lo - (r - d);
    // Out of range (including overflowed products, which give NaN) for finite ax only.
    let in_range = r.abs() <= 0.8;
    let bad = !in_range & (ax < f64::INFINITY);
    (
        if bad { 0.0 } else { r },
        if bad { 0.0 } else { rr },
        t.to_bits(),
    )
}

/// fdlibm `__kernel_sin`: `sin(x + y)` for `|x| <= pi/4`, `|y|` below half an ulp of `x`.
#[inline(always)]
fn k_sin(x: f64, y: f64) -> f64 {
    const S1: f64 = -1.666_666_666_666_663_2e-1;
    const S2: f64 = 8.333_333_333_322_49e-3;
    const S3: f64 = -1.984_126_982_985_795e-4;
    const S4: f64 = 2.755_731_370_707_006_8e-6;
    const S5: f64 = -2.505_076_025_340_686_3e-8;
    const S6: f64 = 1.589_690_995_211_55e-10;
    let z = x * x;
    let w = z * z;
    let r = S2 + z * (S3 + z * S4) + z * w * (S5 + z * S6);
    let v = z * x;
    x - ((z * (0.5 * y - v * r) - y) - v * S1)
}

/// fdlibm `__kernel_cos`: `cos(x + y)` for `|x| <= pi/4`, `|y|` below half an ulp of `x`.
#[inline(always)]
fn k_cos(x: f64, y: f64) -> f64 {
    const C1: f64 = 4.166_666_666_666_66e-2;
    const C2: f64 = -1.388_888_888_887_411e-3;
    const C3: f64 = 2.480_158_728_947_673e-5;
    const C4: f64 = -2.755_731_435_139_066_3e-7;
    const C5: f64 = 2.087_572_321_298_175e-9;
    const C6: f64 = -1.135_964_755_778_819_5e-11;
    let z = x * x;
    let w = z * z;
    let r = z * (C1 + z * (C2 + z * C3)) + w * w * (C4 + z * (C5 + z * C6));
    let hz = 0.5 * z;
    let w = 1.0 - hz;
    w + (((1.0 - w) - hz) + (z * r - x * y))
}

/// musl `__sindf`: `sin x` for `|x| <= pi/4`, accurate to `2^-37.5`, enough for an `f32` result.
#[inline(always)]
fn k_sin_f32(x: f64) -> f64 {
    const S1: f64 = -1.666_666_664_162_652_4e-1;
    const S2: f64 = 8.333_329_385_889_463e-3;
    const S3: f64 = -1.983_933_483_609_663_2e-4;
    const S4: f64 = 2.718_311_493_989_822e-6;
    let z = x * x;
    let w = z * z;
    let r = S3 + z * S4;
    let s = z * x;
    (x + s * (S1 + z * S2)) + s * w * r
}

/// musl `__cosdf`: `cos x` for `|x| <= pi/4`, accurate to `2^-34.1`, enough for an `f32` result.
#[inline(always)]
fn k_cos_f32(x: f64) -> f64 {
    const C0: f64 = -4.999_999_972_510_31e-1;
    const C1: f64 = 4.166_662_332_373_906e-2;
    const C2: f64 = -1.388_676_377_460_993e-3;
    const C3: f64 = 2.439_044_879_627_741e-5;
    let z = x * x;
    let w = z * z;
    let r = C2 + z * C3;
    ((1.0 + z * C0) + w * C1) + (w * z) * r
}

/// Sine for `f32`, branch-free (computed in `f64`).
///
/// `sin x = sign(x) sin|x|`; `|x| = k pi/2 + r`, `k = round(|x| 2/pi)`, by Cody-Waite reduction in `f64`
/// with `pi/2` split in five parts (four of 22 bits, whose products with `k` are exact for `k < 2^31`, and a
/// 53-bit tail); then, by quadrant `k mod 4`, `sin|x| = sin r, cos r, -sin r, -cos r` with the musl
/// `__sindf` / `__cosdf` polynomials (degree 9 and 8) and a final rounding to `f32`. Both polynomials are
/// evaluated on every lane and the quadrant is chosen with selects.
///
/// Special values: `sin(±0) = ±0`, `sin(±inf) = NaN`, `NaN -> NaN`. Subnormals are returned unchanged.
///
/// Measured accuracy: at most 1 ulp for `|x| <= 1e4` and for `|x| <= 1e6`; the reduction is accurate up to
/// `|x| = 2^31 pi/2 = 3.37e9` (1 ulp measured at 1e9 to 3e9). Beyond, the result degrades but stays finite
/// and in `[-1, 1]`.
#[inline(always)]
pub fn sin_f32(x: f32) -> f32 {
    let (r, _, q) = rem_pio2((x as f64).abs());
    let s = k_sin_f32(r);
    let c = k_cos_f32(r);
    let v = if q & 1 != 0 { c } else { s };
    let v = if (q & 2 != 0) != x.is_sign_negative() {
        -v
    } else {
        v
    };
    v as f32
}

/// Cosine for `f32`, branch-free (computed in `f64`).
///
/// `cos x = cos|x|`; `|x| = k pi/2 + r`, `k = round(|x| 2/pi)`, by Cody-Waite reduction in `f64` with
/// `pi/2` split in five parts (four of 22 bits, whose products with `k` are exact for `k < 2^31`, and a
/// 53-bit tail); then, by quadrant `k mod 4`, `cos|x| = cos r, -sin r, -cos r, sin r` with the musl
/// `__cosdf` / `__sindf` polynomials and a final rounding to `f32`. Both polynomials are evaluated on every
/// lane and the quadrant is chosen with selects.
///
/// Special values: `cos(±0) = 1`, `cos(±inf) = NaN`, `NaN -> NaN`.
///
/// Measured accuracy: at most 1 ulp for `|x| <= 1e4` and for `|x| <= 1e6`; the reduction is accurate up to
/// `|x| = 2^31 pi/2 = 3.37e9` (1 ulp measured at 1e9 to 3e9). Beyond, the result degrades but stays finite
/// and in `[-1, 1]`.
#[inline(always)]
pub fn cos_f32(x: f32) -> f32 {
    let (r, _, q) = rem_pio2((x as f64).abs());
    let s = k_sin_f32(r);
    let c = k_cos_f32(r);
    let v = if q & 1 != 0 { s } else { c };
    let v = if q.wrapping_add(1) & 2 != 0 { -v } else { v };
    v as f32
}

/// Sine for `f64`, branch-free.
///
/// `sin x = sign(x) sin|x|`; `|x| = k pi/2 + r + rr`, `k = round(|x| 2/pi)`, by Cody-Waite reduction with
/// `pi/2` split in five parts (four of 22 bits, whose products with `k` are exact for `k < 2^31`, and a
/// 53-bit tail: about 140 bits of `pi/2`), the remainder kept as a two-term sum `r + rr`; then, by quadrant
/// `k mod 4`, `sin|x| = sin, cos, -sin, -cos` of `r + rr` with the fdlibm kernels (degree-13 and degree-14
/// minimax polynomials with a first-order `rr` correction). Both kernels are evaluated on every lane and the
/// quadrant is chosen with selects.
///
/// Special values: `sin(±0) = ±0`, `sin(±inf) = NaN`, `NaN -> NaN`. Subnormals are returned unchanged.
///
/// Measured accuracy: at most 1 ulp for `|x| <= 1e6` and for `1e6 <= |x| <= 1e9`, including the arguments
/// closest to a multiple of `pi/2` below `2^31 pi/2 = 3.37e9` (checked against 600-bit references). Past
/// `3.37e9` the reduction degrades (no Payne-Hanek); results stay finite and in `[-1, 1]`.
#[inline(always)]
pub fn sin_f64(x: f64) -> f64 {
    let (r, rr, q) = rem_pio2(x.abs());
    let s = k_sin(r, rr);
    let c = k_cos(r, rr);
    let v = if q & 1 != 0 { c } else { s };
    if (q & 2 != 0) != x.is_sign_negative() {
        -v
    } else {
        v
    }
}

/// Cosine for `f64`, branch-free.
///
/// `cos x = cos|x|`; `|x| = k pi/2 + r + rr`, `k = round(|x| 2/pi)`, by the Cody-Waite reduction of
/// [`sin_f64`] (five-part split of `pi/2`, exact products for `k < 2^31`); then, by quadrant `k mod 4`,
/// `cos|x| = cos, -sin, -cos, sin` of `r + rr` with the fdlibm kernels. Both kernels are evaluated on every
/// lane and the quadrant is chosen with selects.
///
/// Special values: `cos(±0) = 1`, `cos(±inf) = NaN`, `NaN -> NaN`.
///
/// Measured accuracy: at most 1 ulp for `|x| <= 1e6` and for `1e6 <= |x| <= 1e9`, including the arguments
/// closest to a multiple of `pi/2` below `3.37e9`. Same range caveats as [`sin_f64`].
#[inline(always)]
pub fn cos_f64(x: f64) -> f64 {
    let (r, rr, q) = rem_pio2(x.abs());
    let s = k_sin(r, rr);
    let c = k_cos(r, rr);
    let v = if q & 1 != 0 { s } else { c };
    if q.wrapping_add(1) & 2 != 0 { -v } else { v }
}

// ---------------------------------------------------------------------------------------------------------
// atan, atan2
// ---------------------------------------------------------------------------------------------------------

/// `atan(ax)` for `ax >= 0` (or NaN), fdlibm's algorithm with its interval choice made by selects.
///
/// `ax` is mapped to `|t| <= 7/16` by one of `t = ax` (`ax < 7/16`), `(2ax - 1) / (2 + ax)` (around 1/2),
/// `(ax - 1) / (ax + 1)` (around 1), `(ax - 1.5) / (1 + 1.5 ax)` (around 3/2), `-1 / ax` (`ax >= 39/16`),
/// written as one `(a ax - b) / (c + d ax)` with selected coefficients; then
/// `atan(ax) = atan(c_i) + t - t T(t^2)` with `atan(c_i)` in two parts. `FULL` selects the fdlibm `f64`
/// polynomial (11 terms) or the fdlibm `f32` one (5 terms, for `f32` results).
#[inline(always)]
fn atan_pos<const FULL: bool>(ax: f64) -> f64 {
    // Cap at 2^66 (atan is pi/2 to double precision there); NaN passes through.
    let ax = if ax > 7.378_697_629_483_821e19 {
        7.378_697_629_483_821e19
    } else {
        ax
    };
    let c0 = ax < 0.4375;
    let c1 = ax < 0.6875;
    let c2 = ax < 1.1875;
    let c3 = ax < 2.4375;
    let sel = |v0: f64, v1: f64, v2: f64, v3: f64, v4: f64| {
        let v = if c3 { v3 } else { v4 };
        let v = if c2 { v2 } else { v };
        let v = if c1 { v1 } else { v };
        if c0 { v0 } else { v }
    };
    let a = sel(1.0, 2.0, 1.0, 1.0, 0.0);
    let b = sel(0.0, 1.0, 1.0, 1.5, 1.0);
    let c = sel(1.0, 2.0, 1.0, 1.0, 0.0);
    let d = sel(0.0, 1.0, 1.0, 1.5, 1.0);
    let hi = sel(
        0.0,
        4.636_476_090_008_061e-1,
        c64::FRAC_PI_4,
        9.827_937_232_473_29e-1,
        c64::FRAC_PI_2,
    );
    let lo = sel(
        0.0,
        2.269_877_745_296_168_7e-17,
        3.061_616_997_868_383e-17,
        1.390_331_103_123_099_8e-17,
        6.123_233_995_736_766e-17,
    );
    let t = (a * ax - b) / (c + d * ax);
    let z = t * t;
    let w = z * z;
    let (s1, s2) = if FULL {
        const AT0: f64 = 3.333_333_333_333_293e-1;
        const AT1: f64 = -1.999_999_999_987_648_3e-1;
        const AT2: f64 = 1.428_571_427_250_346_6e-1;
        const AT3: f64 = -1.111_111_040_546_235_6e-1;
        const AT4: f64 = 9.090_887_133_436_507e-2;
        const AT5: f64 = -7.691_876_205_044_83e-2;
        const AT6: f64 = 6.661_073_137_387_531e-2;
        const AT7: f64 = -5.833_570_133_790_573_5e-2;
        const AT8: f64 = 4.976_877_994_615_932_4e-2;
        const AT9: f64 = -3.653_157_274_421_691_6e-2;
        const AT10: f64 = 1.628_582_011_536_578_2e-2;
        (
            z * (AT0 + w * (AT2 + w * (AT4 + w * (AT6 + w * (AT8 + w * AT10))))),
            w * (AT1 + w * (AT3 + w * (AT5 + w * (AT7 + w * AT9)))),
        )
    } else {
        const AT0: f64 = 3.333_332_8e-1_f32 as f64;
        const AT1: f64 = -1.999_915_8e-1_f32 as f64;
        const AT2: f64 = 1.425_363_6e-1_f32 as f64;
        const AT3: f64 = -1.064_801_74e-1_f32 as f64;
        const AT4: f64 = 6.168_760_7e-2_f32 as f64;
        (z * (AT0 + w * (AT2 + w * AT4)), w * (AT1 + w * AT3))
    };
    hi - ((t * (s1 + s2) - lo) - t)
}

/// `atan2(y, x)` in `f64` arithmetic, see [`atan2_f64`]; `FULL` as in [`atan_pos`].
#[inline(always)]
fn atan2_core<const FULL: bool>(y: f64, x: f64) -> f64 {
    const PI_LO: f64 = 1.224_646_799_147_353_2e-16;
    const PIO2_LO: f64 = 6.123_233_995_736_766e-17;
    let ax = x.abs();
    let ay = y.abs();
    // Angle of (ax, ay) = swap ? pi/2 - atan(ax/ay) : atan(ay/ax), ratio in [0, 1].
    let swap = ay > ax;
    let num = if swap { ax } else { ay };
    let den = if swap { ay } else { ax };
    let a = atan_pos::<FULL>(num / den);
    let xneg = x.is_sign_negative();
    // x < 0 reflects: pi - angle. Result = base_hi + (±a + base_lo), base in {0, pi/2, pi}.
    let base_hi = if swap {
        c64::FRAC_PI_2
    } else if xneg {
        c64::PI
    } else {
        0.0
    };
    let base_lo = if swap {
        PIO2_LO
    } else if xneg {
        PI_LO
    } else {
        0.0
    };
    let sa = if swap != xneg { -a } else { a };
    let res = base_hi + (sa + base_lo);
    // 0/0 and inf/inf.
    let both_zero = (ax == 0.0) & (ay == 0.0);
    let both_inf = (ax == f64::INFINITY) & (ay == f64::INFINITY);
    let res = if both_zero {
        if xneg { c64::PI } else { 0.0 }
    } else {
        res
    };
    let res = if both_inf {
        if xneg {
            3.0 * c64::FRAC_PI_4
        } else {
            c64::FRAC_PI_4
        }
    } else {
        res
    };
    res.copysign(y)
}

/// Arctangent for `f32`, branch-free (computed in `f64`).
///
/// `atan x = sign(x) atan|x|`, `|x|` reduced to `|t| <= 7/16` by one of five rational maps chosen with
/// selects (`t = |x|`, `(2|x| - 1)/(2 + |x|)`, `(|x| - 1)/(|x| + 1)`, `(|x| - 1.5)/(1 + 1.5|x|)`,
/// `-1/|x|`), `atan|x| = atan(c) + t - t T(t^2)` with the fdlibm `f32` polynomial `T` (5 terms), and a
/// final rounding to `f32`.
///
/// Special values: `atan(±0) = ±0`, `atan(±inf) = ±pi/2`, `NaN -> NaN`.
///
/// Measured accuracy: at most 1 ulp over all finite `f32`.
#[inline(always)]
pub fn atan_f32(x: f32) -> f32 {
    (atan_pos::<false>((x as f64).abs()) as f32).copysign(x)
}

/// Arctangent for `f64`, branch-free.
///
/// `atan x = sign(x) atan|x|`, `|x|` reduced to `|t| <= 7/16` by one of five rational maps chosen with
/// selects (`t = |x|`, `(2|x| - 1)/(2 + |x|)`, `(|x| - 1)/(|x| + 1)`, `(|x| - 1.5)/(1 + 1.5|x|)`,
/// `-1/|x|`), then `atan|x| = atan(c) + t - t T(t^2)` with `atan(c)` in two parts and the fdlibm `f64`
/// polynomial `T` (11 terms).
///
/// Special values: `atan(±0) = ±0`, `atan(±inf) = ±pi/2`, `NaN -> NaN`.
///
/// Measured accuracy: at most 1 ulp over all finite `f64`.
#[inline(always)]
pub fn atan_f64(x: f64) -> f64 {
    atan_pos::<true>(x.abs()).copysign(x)
}

/// Two-argument arctangent `atan2(y, x)` (angle of the point `(x, y)`, in `[-pi, pi]`) for `f32`,
/// branch-free (computed in `f64`).
///
/// With `t = min(|x|,|y|) / max(|x|,|y|)` in `[0, 1]` (exact enough in `f64`),
/// `atan2(y, x) = sign(y) (b ± atan t)` where `b` is `0`, `pi/2` or `pi` by octant, chosen with selects,
/// and `atan` is [`atan_f32`]'s kernel; one final rounding to `f32`.
///
/// Special values as `f32::atan2`: `atan2(±0, +0) = ±0`, `atan2(±0, -0) = ±pi`,
/// `atan2(±0, x<0) = ±pi`, `atan2(±0, x>0) = ±0`, `atan2(y≠0, ±0) = ±pi/2` (sign of `y`),
/// `atan2(±inf, +inf) = ±pi/4`, `atan2(±inf, -inf) = ±3pi/4`, `atan2(±inf, finite) = ±pi/2`,
/// `atan2(±finite, +inf) = ±0`, `atan2(±finite, -inf) = ±pi`, NaN in either argument gives NaN.
///
/// Measured accuracy: at most 1 ulp over all quadrants.
#[inline(always)]
pub fn atan2_f32(y: f32, x: f32) -> f32 {
    atan2_core::<false>(y as f64, x as f64) as f32
}

/// Two-argument arctangent `atan2(y, x)` (angle of the point `(x, y)`, in `[-pi, pi]`) for `f64`,
/// branch-free.
///
/// With `t = min(|x|,|y|) / max(|x|,|y|)` in `[0, 1]`, `atan2(y, x) = sign(y) (b_hi + (±atan t + b_lo))`
/// where `b = b_hi + b_lo` is `0`, `pi/2` or `pi` by octant, chosen with selects, and `atan` is
/// [`atan_f64`]'s kernel.
///
/// Special values as `f64::atan2`: `atan2(±0, +0) = ±0`, `atan2(±0, -0) = ±pi`,
/// `atan2(±0, x<0) = ±pi`, `atan2(±0, x>0) = ±0`, `atan2(y≠0, ±0) = ±pi/2` (sign of `y`),
/// `atan2(±inf, +inf) = ±pi/4`, `atan2(±inf, -inf) = ±3pi/4`, `atan2(±inf, finite) = ±pi/2`,
/// `atan2(±finite, +inf) = ±0`, `atan2(±finite, -inf) = ±pi`, NaN in either argument gives NaN.
///
/// Measured accuracy: at most 2 ulp over all quadrants (the division `t = min/max` adds up to half an ulp to
/// the error of `atan`).
#[inline(always)]
pub fn atan2_f64(y: f64, x: f64) -> f64 {
    atan2_core::<true>(y, x)
}

// ---------------------------------------------------------------------------------------------------------
// asin, acos
// ---------------------------------------------------------------------------------------------------------

/// fdlibm's rational approximation `R(z) = (asin(sqrt z) - sqrt z) / sqrt z`, `f64` coefficients.
#[inline(always)]
fn asin_r_f64(z: f64) -> f64 {
    const PS0: f64 = 1.666_666_666_666_666_6e-1;
    const PS1: f64 = -3.255_658_186_224_009e-1;
    const PS2: f64 = 2.012_125_321_348_629_3e-1;
    const PS3: f64 = -4.005_553_450_067_941e-2;
    const PS4: f64 = 7.915_349_942_898_145e-4;
    const PS5: f64 = 3.479_331_075_960_212e-5;
    const QS1: f64 = -2.403_394_911_734_414;
    const QS2: f64 = 2.020_945_760_233_505_7;
    const QS3: f64 = -6.882_839_716_054_533e-1;
    const QS4: f64 = 7.703_815_055_590_194e-2;
    let p = z * (PS0 + z * (PS1 + z * (PS2 + z * (PS3 + z * (PS4 + z * PS5)))));
    let q = 1.0 + z * (QS1 + z * (QS2 + z * (QS3 + z * QS4)));
    p / q
}

/// musl's short rational `R(z)` for `f32` results (evaluated in `f64`).
#[inline(always)]
fn asin_r_f32(z: f64) -> f64 {
    const PS0: f64 = 1.666_658_7e-1_f32 as f64;
    const PS1: f64 = -4.274_342_2e-2_f32 as f64;
    const PS2: f64 = -8.656_363e-3_f32 as f64;
    const QS1: f64 = -7.066_296_3e-1_f32 as f64;
    let p = z * (PS0 + z * (PS1 + z * PS2));
    let q = 1.0 + z * QS1;
    p / q
}

/// Arcsine for `f32`, branch-free (computed in `f64`).
///
/// For `|x| < 1/2`: `asin x = x + x R(x^2)`; for `|x| >= 1/2`: with `z = (1 - |x|)/2`, `s = sqrt z`,
/// `asin|x| = pi/2 - 2 (s + s R(z))`; `R` is musl's short rational approximation for `f32`. Both forms are
/// computed on every lane (sharing one evaluation of `R`) and chosen with selects; one final rounding to
/// `f32`.
///
/// Special values: `asin(±0) = ±0`, `asin(±1) = ±pi/2`, `|x| > 1` and NaN give NaN.
///
/// Measured accuracy: at most 1 ulp over `[-1, 1]`.
#[inline(always)]
pub fn asin_f32(x: f32) -> f32 {
    let xd = x as f64;
    let ax = xd.abs();
    let small = ax < 0.5;
    let z = if small { xd * xd } else { (1.0 - ax) * 0.5 };
    let r = asin_r_f32(z);
    let s = z.sqrt();
    let big = (c64::FRAC_PI_2 - 2.0 * (s + s * r)).copysign(xd);
    let res = if small { xd + xd * r } else { big };
    let res = if ax > 1.0 { f64::NAN } else { res };
    res as f32
}

/// Arcsine for `f64`, branch-free.
///
/// fdlibm's algorithm: for `|x| < 1/2`, `asin x = x + x R(x^2)` with a (6, 4) rational `R`; for
/// `|x| >= 1/2`, with `z = (1 - |x|)/2`, `s = sqrt z`, `asin|x| = pi/2 - 2 (s + s R(z))`, computed for
/// `|x| < 0.975` as `pi/4 - (2 s R(z) - (pio2_lo - 2c) - (pi/4 - 2f))` with `s = f + c` split so that `f*f`
/// is exact. All forms are computed on every lane (sharing one `R` and one `sqrt`) and chosen with
/// selects.
///
/// Special values: `asin(±0) = ±0`, `asin(±1) = ±pi/2`, `|x| > 1` and NaN give NaN.
///
/// Measured accuracy: at most 1 ulp over `[-1, 1]`.
#[inline(always)]
pub fn asin_f64(x: f64) -> f64 {
    const PIO2_HI: f64 = c64::FRAC_PI_2;
    const PIO2_LO: f64 = 6.123_233_995_736_766e-17;
    const PIO4_HI: f64 = c64::FRAC_PI_4;
    let ax = x.abs();
    let small = ax < 0.5;
    let z = if small { x * x } else { (1.0 - ax) * 0.5 };
    let r = asin_r_f64(z);
    let s = z.sqrt();
    // |x| > 0.975
    let near1 = PIO2_HI - (2.0 * (s + s * r) - PIO2_LO);
    // 0.5 <= |x| <= 0.975: s = f + c with f*f exact.
    let f = high_part(s);
    let c = (z - f * f) / (s + f);
    let mid = PIO4_HI - (2.0 * s * r - (PIO2_LO - 2.0 * c) - (PIO4_HI - 2.0 * f));
    let big = if ax >= f64::from_bits(0x3fef_3333_0000_0000) {
        near1
    } else {
        mid
    };
    let res = if small { x + x * r } else { big.copysign(x) };
    if ax > 1.0 { f64::NAN } else { res }
}

/// Arccosine for `f32`, branch-free (computed in `f64`).
///
/// For `|x| < 1/2`: `acos x = pi/2 - (x + x R(x^2))`; for `x <= -1/2`: `acos x = 2 (pi/2 - (s + s R(z)))`;
/// for `x >= 1/2`: `acos x = 2 (s + s R(z))`, with `z = (1 - |x|)/2`, `s = sqrt z` and musl's short
/// rational `R` for `f32`. All forms are computed on every lane and chosen with selects; one final
/// rounding to `f32`.
///
/// Special values: `acos(1) = +0`, `acos(-1) = pi`, `acos(±0) = pi/2`, `|x| > 1` and NaN give NaN.
///
/// Measured accuracy: at most 1 ulp over `[-1, 1]`.
#[inline(always)]
pub fn acos_f32(x: f32) -> f32 {
    let xd = x as f64;
    let ax = xd.abs();
    let small = ax < 0.5;
    let z = if small { xd * xd } else { (1.0 - ax) * 0.5 };
    let r = asin_r_f32(z);
    let s = z.sqrt();
    let a = s + s * r; // asin(sqrt z)
    let big = if xd < 0.0 {
        2.0 * (c64::FRAC_PI_2 - a)
    } else {
        2.0 * a
    };
    let res = if small {
        c64::FRAC_PI_2 - (xd + xd * r)
    } else {
        big
    };
    let res = if ax > 1.0 { f64::NAN } else { res };
    res as f32
}

/// Arccosine for `f64`, branch-free.
///
/// fdlibm's algorithm: for `|x| < 1/2`, `acos x = pi/2 - (x - (pio2_lo - x R(x^2)))`; for `x <= -1/2`,
/// `acos x = 2 (pi/2 - (s + (s R(z) - pio2_lo)))`; for `x >= 1/2`, `acos x = 2 (f + (s R(z) + c))`, with
/// `z = (1 - |x|)/2`, `s = sqrt z = f + c` split so that `f*f` is exact, and the (6, 4) rational `R` of
/// [`asin_f64`]. All forms are computed on every lane and chosen with selects.
///
/// Special values: `acos(1) = +0`, `acos(-1) = pi`, `acos(±0) = pi/2`, `|x| > 1` and NaN give NaN.
///
/// Measured accuracy: at most 1 ulp over `[-1, 1]`.
#[inline(always)]
pub fn acos_f64(x: f64) -> f64 {
    const PIO2_HI: f64 = c64::FRAC_PI_2;
    const PIO2_LO: f64 = 6.123_233_995_736_766e-17;
    let ax = x.abs();
    let small = ax < 0.5;
    let z = if small { x * x } else { (1.0 - ax) * 0.5 };
    let r = asin_r_f64(z);
    let s = z.sqrt();
    let res_small = PIO2_HI - (x - (PIO2_LO - x * r));
    let res_neg = 2.0 * (PIO2_HI - (s + (r * s - PIO2_LO)));
    let f = high_part(s);
    let c = (z - f * f) / (s + f);
    let res_pos = 2.0 * (f + (r * s + c));
    let res = if x < 0.0 { res_neg } else { res_pos };
    let res = if small { res_small } else { res };
    let res = if x == 1.0 { 0.0 } else { res }; // c = 0/0 there
    if ax > 1.0 { f64::NAN } else { res }
}

// ---------------------------------------------------------------------------------------------------------
// powf
// ---------------------------------------------------------------------------------------------------------

/// `log2(ax) = t1 + t2` in extra precision (about 70 bits) for finite `ax > 0`, `t1` with 21 significant
/// bits; fdlibm `e_pow.c` with its interval choice made by selects. Other inputs give finite garbage.
#[inline(always)]
fn log2_ext(ax: f64) -> (f64, f64) {
    const DP_H: f64 = 5.849_624_872_207_642e-1; // log2(1.5) head, 0x3fe2b80340000000
    const DP_L: f64 = 1.350_039_202_129_749e-8;
    const L1: f64 = 5.999_999_999_999_946e-1;
    const L2: f64 = 4.285_714_285_785_502e-1;
    const L3: f64 = 3.333_333_298_183_774_3e-1;
    const L4: f64 = 2.727_281_238_085_34e-1;
    const L5: f64 = 2.306_607_457_755_617_5e-1;
    const L6: f64 = 2.069_750_178_003_384_2e-1;
    const CP: f64 = 9.617_966_939_259_756e-1; // 2/(3 ln2)
    const CP_H: f64 = 9.617_967_009_544_373e-1;
    const CP_L: f64 = -7.028_461_650_952_758e-9;
    const _: () =
        assert!(DP_H.to_bits() == 0x3fe2_b803_4000_0000 && CP_H.to_bits() == 0x3fee_c709_e000_0000);
    let sub = ax < f64::MIN_POSITIVE;
    let axs = if sub { ax * TWO53 } else { ax };
    let bits = axs.to_bits();
    let hx = bits >> 32;
    let j = hx & 0x000f_ffff;
    // Mantissa intervals: [1, sqrt(3/2)] -> around 1, (sqrt(3/2), sqrt(3)) -> around 1.5,
    // [sqrt(3), 2) -> halve and go around 1.
    let k1 = (j > 0x3988e) & (j < 0xbb67a);
    let up = j >= 0xbb67a;
    let ix = (j | 0x3ff0_0000).wrapping_sub(if up { 0x0010_0000 } else { 0 });
    let axn = f64::from_bits((ix << 32) | (bits & 0xffff_ffff));
    // Exponent n as a float, all exact.
    let off = TWO52 + 1023.0 + if sub { 53.0 } else { 0.0 } - if up { 1.0 } else { 0.0 };
    let nf = f64::from_bits(0x4330_0000_0000_0000 | ((hx >> 20) & 0x7ff)) - off;
    let bp = if k1 { 1.5 } else { 1.0 };
    let dp_h = if k1 { DP_H } else { 0.0 };
    let dp_l = if k1 { DP_L } else { 0.0 };
    // ss = s_h + s_l = (axn - bp) / (axn + bp)
    let u = axn - bp;
    let v = 1.0 / (axn + bp);
    let ss = u * v;
    let s_h = high_part(ss);
    let t_h = f64::from_bits(
        (((ix >> 1) | 0x2000_0000)
            .wrapping_add(0x0008_0000)
            .wrapping_add(if k1 { 1 << 18 } else { 0 }))
            << 32,
    );
    let t_l = axn - (t_h - bp);
    let s_l = v * ((u - s_h * t_h) - s_h * t_l);
    // log(axn / bp) = 2 ss + 2/3 ss^3 + ...
    let s2 = ss * ss;
    let r = s2 * s2 * (L1 + s2 * (L2 + s2 * (L3 + s2 * (L4 + s2 * (L5 + s2 * L6)))));
    let r = r + s_l * (s_h + ss);
    let s2 = s_h * s_h;
    let t_h = high_part(3.0 + s2 + r);
    let t_l = r - ((t_h - 3.0) - s2);
    let u = s_h * t_h;
    let v = s_l * t_h + t_l * ss;
    let p_h = high_part(u + v);
    let p_l = v - (p_h - u);
    let z_h = CP_H * p_h;
    let z_l = CP_L * p_h + p_l * CP + dp_l;
    let t1 = high_part(((z_h + z_l) + dp_h) + nf);
    let t2 = z_l - (((t1 - nf) - dp_h) - z_h);
    (t1, t2)
}

/// `2^(y (t1 + t2))` in extra precision, fdlibm `e_pow.c` with the scaling done by two exponent-field
/// factors (gradual underflow) and over/underflow by selects.
#[inline(always)]
fn exp2_ext(y: f64, t1: f64, t2: f64) -> f64 {
    const P1: f64 = 1.666_666_666_666_660_2e-1;
    const P2: f64 = -2.777_777_777_701_559_3e-3;
    const P3: f64 = 6.613_756_321_437_934e-5;
    const P4: f64 = -1.653_390_220_546_525_2e-6;
    const P5: f64 = 4.138_136_797_057_238_5e-8;
    const LG2_H: f64 = 6.931_471_824_645_996e-1; // 0x3fe62e4300000000
    const LG2_L: f64 = -1.904_654_299_957_768e-9;
    const _: () = assert!(LG2_H.to_bits() == 0x3fe6_2e43_0000_0000);
    // (y1 + y2) (t1 + t2) = p_h + p_l with p_h exact.
    let y1 = high_part(y);
    let p_l = (y - y1) * t1 + y * t2;
    let p_h = y1 * t1;
    let z = p_l + p_h;
    let zc = if z > 1100.0 { 1100.0 } else { z };
    let zc = if zc < -1100.0 { -1100.0 } else { zc };
    let tn = zc + RND_F64;
    let n = tn - RND_F64;
    let p_h = p_h - n; // exact
    let t = high_part(p_l + p_h);
    let u = t * LG2_H;
    let v = (p_l - (t - p_h)) * c64::LN_2 + t * LG2_L;
    let z2 = u + v;
    let w = v - (z2 - u);
    let t = z2 * z2;
    let t1 = z2 - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
    let r = (z2 * t1) / (t1 - 2.0) - (w + z2 * w);
    let e = 1.0 - (r - z2);
    let kb = tn
        .to_bits()
        .wrapping_sub(RND_F64.to_bits())
        .wrapping_add(2048);
    let e1 = (kb >> 1).wrapping_sub(1);
    let e2 = kb.wrapping_sub(kb >> 1).wrapping_sub(1);
    let res = e * f64::from_bits(e1 << 52) * f64::from_bits(e2 << 52);
    let res = if z > 1100.0 { f64::INFINITY } else { res };
    if z < -1100.0 { 0.0 } else { res }
}

/// Applies the IEEE 754 / C99 special cases of `pow` to `mag`, the value of `|x|^y` computed for finite
/// `|x| > 0` and finite `y`.
#[inline(always)]
fn pow_special(x: f64, y: f64, mag: f64) -> f64 {
    let ax = x.abs();
    let ay = y.abs();
    // Integer / odd-integer classification of y.
    let big = ay >= TWO52; // integers (even beyond 2^53), or inf
    let tt = if big { ay } else { ay + TWO52 }; // 2^52 + round(|y|)
    let is_int = big | ((tt - TWO52) == ay);
    let odd = ((tt.to_bits() & 1) != 0) & (tt < TWO53) & is_int;
    let m = mag;
    let m = if ax == 0.0 {
        if y < 0.0 { f64::INFINITY } else { 0.0 }
    } else {
        m
    };
    let m = if ax == f64::INFINITY {
        if y < 0.0 { 0.0 } else { f64::INFINITY }
    } else {
        m
    };
    let y_inf = if ax == 1.0 {
        1.0
    } else if (ax < 1.0) != (y < 0.0) {
        0.0
    } else {
        f64::INFINITY
    };
    let m = if ay == f64::INFINITY { y_inf } else { m };
    let m = if x.is_sign_negative() & odd { -m } else { m };
    let m = if (x < 0.0) & (x > f64::NEG_INFINITY) & !is_int {
        f64::NAN
    } else {
        m
    };
    let m = if x.is_nan() | y.is_nan() { f64::NAN } else { m };
    let m = if y == 1.0 { x } else { m };
    if (y == 0.0) | (x == 1.0) { 1.0 } else { m }
}

/// Power `x^y` for `f32`, branch-free (computed in `f64`).
///
/// `|x|^y = exp(y ln|x|)` with [`log_f64`] and [`exp_f64`] on the widened arguments: the `f64` product
/// `y ln|x|` is accurate to about `2^-45` relative for every non-overflowing `f32` result, far below an
/// `f32` ulp. Then the special cases of [`powf_f64`] (identical to `f32::powf`); one final rounding.
///
/// Special values as `f32::powf`: `x^±0 = 1` and `1^y = 1` (even for NaN), `x^1 = x`;
/// `(±0)^y` is `+inf` / `±inf` for `y < 0` and `+0` / `±0` for `y > 0` (signed for odd integer `y`);
/// `(±inf)^y` likewise with `0` and `inf` swapped; `x < 0` gives NaN unless `y` is an integer, then the sign
/// is `(-1)^y`; `(-1)^±inf = 1`, `|x| < 1` gives `x^+inf = 0`, `x^-inf = +inf`, `|x| > 1` the reverse;
/// other NaN arguments give NaN.
///
/// Measured accuracy: 0 ulp (correctly rounded) on every test point: `x` in `(1e-3, 1e3)` with `y` in
/// `(-10, 10)`, `x` in `(1.6e-38, 6e37)` with `y` in `(-100, 100)` (results from 0 to inf, subnormals
/// included), `x < 0` with integer `y`. The bound is half an ulp plus about `2^-20` ulp.
#[inline(always)]
pub fn powf_f32(x: f32, y: f32) -> f32 {
    let xd = x as f64;
    let yd = y as f64;
    let mag = exp_f64(yd * log_f64(xd.abs()));
    pow_special(xd, yd, mag) as f32
}

/// Power `x^y` for `f64`, branch-free.
///
/// fdlibm's `e_pow.c` without branches: `log2|x| = t1 + t2` is computed in extra precision (about 70 bits)
/// from `s = (m - b)/(m + b)`, `b` in `{1, 1.5}` chosen by select, with 21-bit heads obtained by clearing
/// low mantissa bits (exact products without FMA); `y log2|x| = p_h + p_l` with `p_h` exact; then
/// `2^(p_h + p_l) = 2^n 2^f`, `n = round(p_h + p_l)`, with fdlibm's rational approximation of `2^f` and two
/// exponent-field factors for `2^n` (gradual underflow). Overflow gives `inf`, underflow `0`.
///
/// Special values as `f64::powf`: `x^±0 = 1` and `1^y = 1` (even for NaN), `x^1 = x`;
/// `(±0)^y` is `+inf` / `±inf` for `y < 0` and `+0` / `±0` for `y > 0` (signed for odd integer `y`);
/// `(±inf)^y` likewise with `0` and `inf` swapped; `x < 0` gives NaN unless `y` is an integer, then the sign
/// is `(-1)^y`; `(-1)^±inf = 1`, `|x| < 1` gives `x^+inf = 0`, `x^-inf = +inf`, `|x| > 1` the reverse;
/// other NaN arguments give NaN.
///
/// Measured accuracy: at most 1 ulp for `x` in `(1e-3, 1e3)` with `y` in `(-10, 10)`, for `x` in
/// `(1e-304, 1e304)` with `y` in `(-2, 2)` (results from 0 to inf, subnormals included), for `x < 0` with
/// integer `y`, and for `x` within `1e-6` of 1 with `|y| < 1e8`.
#[inline(always)]
pub fn powf_f64(x: f64, y: f64) -> f64 {
    let ax = x.abs();
    let (t1, t2) = log2_ext(ax);
    let mag = exp2_ext(y, t1, t2);
    pow_special(x, y, mag)
}

// ---------------------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    /// Monotone integer key of an `f32` (±0 map to 0).
    fn key32(x: f32) -> i64 {
        let b = x.to_bits();
        let m = (b & 0x7fff_ffff) as i64;
        if b >> 31 != 0 { -m } else { m }
    }

    fn key64(x: f64) -> i128 {
        let b = x.to_bits();
        let m = (b & 0x7fff_ffff_ffff_ffff) as i128;
        if b >> 63 != 0 { -m } else { m }
    }

    /// Distance in ulps; NaN matches NaN only.
    fn ulp32(got: f32, want: f32) -> u64 {
        match (got.is_nan(), want.is_nan()) {
            (true, true) => 0,
            (false, false) => (key32(got) - key32(want)).unsigned_abs(),
            _ => u64::MAX,
        }
    }

    fn ulp64(got: f64, want: f64) -> u64 {
        match (got.is_nan(), want.is_nan()) {
            (true, true) => 0,
            (false, false) => {
                u64::try_from((key64(got) - key64(want)).unsigned_abs()).unwrap_or(u64::MAX)
            }
            _ => u64::MAX,
        }
    }

    /// Deterministic xorshift generator for random sweeps.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        /// Uniform in [0, 1).
        fn unit(&mut self) -> f64 {
            (self.next() >> 11) as f64 * (1.0 / 9_007_199_254_740_992.0)
        }
    }

    const N: usize = 100_000;

    /// The sweeps below pass the maximum error measured on x86-64 Linux (glibc), the `f64` ones against the
    /// platform's `f64` functions. Those are not correctly rounded everywhere (glibc's `sin` is off by up to
    /// 2 ulp on some of the hard cases below, other libms are looser), so `f64` comparisons with the
    /// platform allow one more ulp. The `f32` comparisons (with the `f64` result rounded to `f32`) and the
    /// ones with 600-bit reference values are exact.
    const LIBM_SLACK: u64 = 1;

    /// Points of `[lo, hi]`: `N` evenly spaced, `N` random; `log` spaces them logarithmically (`lo > 0`).
    fn points(lo: f64, hi: f64, log: bool, seed: u64) -> Vec<f64> {
        let mut rng = Rng(seed);
        let map = |u: f64| {
            if log {
                (lo.ln() + u * (hi.ln() - lo.ln())).exp()
            } else {
                lo + u * (hi - lo)
            }
        };
        let mut v: Vec<f64> = (0..N).map(|i| map(i as f64 / (N - 1) as f64)).collect();
        v.extend((0..N).map(|_| map(rng.unit())));
        v
    }

    fn sweep32(
        name: &str,
        f: impl Fn(f32) -> f32,
        reference: impl Fn(f64) -> f64,
        pts: &[f64],
        max_ulp: u64,
    ) {
        let mut worst = (0u64, 0f32);
        for &p in pts {
            let x = p as f32;
            let e = ulp32(f(x), reference(x as f64) as f32);
            if e > worst.0 {
                worst = (e, x);
            }
        }
        println!(
            "{name}: max {} ulp at x = {:e} over {} points",
            worst.0,
            worst.1,
            pts.len()
        );
        assert!(
            worst.0 <= max_ulp,
            "{name}: {} ulp at {:e}: got {:e}, want {:e}",
            worst.0,
            worst.1,
            f(worst.1),
            reference(worst.1 as f64) as f32
        );
    }

    fn sweep64(
        name: &str,
        f: impl Fn(f64) -> f64,
        reference: impl Fn(f64) -> f64,
        pts: &[f64],
        max_ulp: u64,
    ) {
        let mut worst = (0u64, 0f64);
        for &x in pts {
            let e = ulp64(f(x), reference(x));
            if e > worst.0 {
                worst = (e, x);
            }
        }
        println!(
            "{name}: max {} ulp at x = {:e} over {} points",
            worst.0,
            worst.1,
            pts.len()
        );
        assert!(
            worst.0 <= max_ulp + LIBM_SLACK,
            "{name}: {} ulp at {:e}: got {:e}, want {:e}",
            worst.0,
            worst.1,
            f(worst.1),
            reference(worst.1)
        );
    }

    /// Two-argument sweep over `pts` pairs.
    fn sweep2_32(
        name: &str,
        f: impl Fn(f32, f32) -> f32,
        reference: impl Fn(f64, f64) -> f64,
        pts: &[(f64, f64)],
        max_ulp: u64,
    ) {
        let mut worst = (0u64, 0f32, 0f32);
        for &(a, b) in pts {
            let (a, b) = (a as f32, b as f32);
            let e = ulp32(f(a, b), reference(a as f64, b as f64) as f32);
            if e > worst.0 {
                worst = (e, a, b);
            }
        }
        println!(
            "{name}: max {} ulp at ({:e}, {:e}) over {} points",
            worst.0,
            worst.1,
            worst.2,
            pts.len()
        );
        assert!(
            worst.0 <= max_ulp,
            "{name}: {} ulp at ({:e}, {:e})",
            worst.0,
            worst.1,
            worst.2
        );
    }

    fn sweep2_64(
        name: &str,
        f: impl Fn(f64, f64) -> f64,
        reference: impl Fn(f64, f64) -> f64,
        pts: &[(f64, f64)],
        max_ulp: u64,
    ) {
        let mut worst = (0u64, 0f64, 0f64);
        for &(a, b) in pts {
            let e = ulp64(f(a, b), reference(a, b));
            if e > worst.0 {
                worst = (e, a, b);
            }
        }
        println!(
            "{name}: max {} ulp at ({:e}, {:e}) over {} points",
            worst.0,
            worst.1,
            worst.2,
            pts.len()
        );
        assert!(
            worst.0 <= max_ulp + LIBM_SLACK,
            "{name}: {} ulp at ({:e}, {:e})",
            worst.0,
            worst.1,
            worst.2
        );
    }

    fn pairs(n: usize, seed: u64, mut mk: impl FnMut(&mut Rng) -> (f64, f64)) -> Vec<(f64, f64)> {
        let mut rng = Rng(seed);
        (0..n).map(|_| mk(&mut rng)).collect()
    }

    fn same32(a: f32, b: f32) -> bool {
        (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits()
    }

    fn same64(a: f64, b: f64) -> bool {
        (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits()
    }

    // ---- exp ----

    #[test]
    fn vmath_exp_f32_sweep() {
        sweep32(
            "exp_f32",
            exp_f32,
            f64::exp,
            &points(-104.0, 89.0, false, 1),
            1,
        );
        sweep32(
            "exp_f32 small",
            exp_f32,
            f64::exp,
            &points(-1.0, 1.0, false, 2),
            1,
        );
        // Subnormal results.
        sweep32(
            "exp_f32 subnormal",
            exp_f32,
            f64::exp,
            &points(-104.0, -87.0, false, 3),
            1,
        );
    }

    #[test]
    fn vmath_exp_f64_sweep() {
        sweep64(
            "exp_f64",
            exp_f64,
            f64::exp,
            &points(-746.0, 710.0, false, 4),
            1,
        );
        sweep64(
            "exp_f64 small",
            exp_f64,
            f64::exp,
            &points(-1.0, 1.0, false, 5),
            1,
        );
        sweep64(
            "exp_f64 subnormal",
            exp_f64,
            f64::exp,
            &points(-746.0, -708.0, false, 6),
            1,
        );
    }

    #[test]
    fn vmath_exp_edges() {
        for x in [0.0f32, -0.0, 1e-45, -1e-45, f32::MIN_POSITIVE, 1.0, -1.0] {
            assert!(
                same32(exp_f32(x), (x as f64).exp() as f32),
                "exp_f32({x:e})"
            );
        }
        assert_eq!(exp_f32(0.0), 1.0);
        assert_eq!(exp_f32(-0.0), 1.0);
        assert_eq!(exp_f32(f32::INFINITY), f32::INFINITY);
        assert_eq!(exp_f32(f32::NEG_INFINITY), 0.0);
        assert!(exp_f32(f32::NAN).is_nan());
        // Overflow threshold ln(FLT_MAX) = 88.72284.
        for x in [88.72283f32, 88.72284, 88.7229, -87.3, -103.97, -103.98] {
            assert!(
                same32(exp_f32(x), (x as f64).exp() as f32),
                "exp_f32({x:e})"
            );
        }
        assert!(exp_f32(88.72283).is_finite());
        assert_eq!(exp_f32(88.72284), f32::INFINITY);
        assert_eq!(exp_f32(100.0), f32::INFINITY);
        assert_eq!(exp_f32(f32::MAX), f32::INFINITY);
        // Underflow threshold: exp(-103.972084) is the smallest subnormal.
        assert_eq!(exp_f32(-103.97), f32::from_bits(1));
        assert_eq!(exp_f32(-103.98), 0.0);
        assert_eq!(exp_f32(-87.0), (-87.0f64).exp() as f32);
        assert_eq!(exp_f32(-200.0), 0.0);
        assert_eq!(exp_f32(f32::MIN), 0.0);

        for x in [0.0f64, -0.0, 5e-324, -5e-324, f64::MIN_POSITIVE, 1.0, -1.0] {
            assert!(
                ulp64(exp_f64(x), x.exp()) <= 1 + LIBM_SLACK,
                "exp_f64({x:e})"
            );
        }
        assert_eq!(exp_f64(0.0), 1.0);
        assert_eq!(exp_f64(f64::INFINITY), f64::INFINITY);
        assert_eq!(exp_f64(f64::NEG_INFINITY), 0.0);
        assert!(exp_f64(f64::NAN).is_nan());
        assert!(exp_f64(709.78).is_finite());
        assert!(ulp64(exp_f64(709.782712893384), 709.782712893384f64.exp()) <= 1 + LIBM_SLACK);
        assert_eq!(exp_f64(709.79), f64::INFINITY);
        assert_eq!(exp_f64(1000.0), f64::INFINITY);
        assert_eq!(exp_f64(f64::MAX), f64::INFINITY);
        assert_eq!(exp_f64(-745.13), f64::from_bits(1));
        assert_eq!(exp_f64(-745.14), 0.0);
        assert_eq!(exp_f64(-1000.0), 0.0);
        assert_eq!(exp_f64(f64::MIN), 0.0);
        assert!(ulp64(exp_f64(-740.0), (-740.0f64).exp()) <= 1 + LIBM_SLACK);
    }

    // ---- log ----

    #[test]
    fn vmath_log_f32_sweep() {
        sweep32(
            "log_f32 (0.5, 2)",
            log_f32,
            f64::ln,
            &points(0.5, 2.0, false, 7),
            1,
        );
        sweep32(
            "log_f32 full",
            log_f32,
            f64::ln,
            &points(1e-45, 3.4e38, true, 8),
            1,
        );
        sweep32(
            "log_f32 subnormal",
            log_f32,
            f64::ln,
            &points(1e-45, 1.2e-38, true, 9),
            1,
        );
        // Every f32 in [1 - 2^-10, 1 + 2^-10] (cancellation region).
        let near1: Vec<f64> = (0.999f32.to_bits()..1.001f32.to_bits())
            .map(|b| f32::from_bits(b) as f64)
            .collect();
        sweep32("log_f32 near 1", log_f32, f64::ln, &near1, 1);
    }

    #[test]
    fn vmath_log_f64_sweep() {
        sweep64(
            "log_f64 (0.5, 2)",
            log_f64,
            f64::ln,
            &points(0.5, 2.0, false, 10),
            1,
        );
        sweep64(
            "log_f64 full",
            log_f64,
            f64::ln,
            &points(5e-324, 1.7e308, true, 11),
            1,
        );
        sweep64(
            "log_f64 subnormal",
            log_f64,
            f64::ln,
            &points(5e-324, 2.2e-308, true, 12),
            1,
        );
        sweep64(
            "log_f64 near 1",
            log_f64,
            f64::ln,
            &points(1.0 - 1e-6, 1.0 + 1e-6, false, 13),
            1,
        );
    }

    #[test]
    fn vmath_log_edges() {
        assert_eq!(log_f32(1.0).to_bits(), 0.0f32.to_bits());
        assert_eq!(log_f32(0.0), f32::NEG_INFINITY);
        assert_eq!(log_f32(-0.0), f32::NEG_INFINITY);
        assert!(log_f32(-1.0).is_nan());
        assert!(log_f32(-1e-45).is_nan());
        assert!(log_f32(f32::NEG_INFINITY).is_nan());
        assert_eq!(log_f32(f32::INFINITY), f32::INFINITY);
        assert!(log_f32(f32::NAN).is_nan());
        for x in [
            1e-45f32,
            2e-45,
            1e-40,
            1.1754942e-38,
            f32::MIN_POSITIVE,
            f32::MAX,
            2.0,
            0.5,
            10.0,
        ] {
            assert!(
                ulp32(log_f32(x), (x as f64).ln() as f32) <= 1,
                "log_f32({x:e})"
            );
        }
        assert_eq!(log_f64(1.0).to_bits(), 0.0f64.to_bits());
        assert_eq!(log_f64(0.0), f64::NEG_INFINITY);
        assert_eq!(log_f64(-0.0), f64::NEG_INFINITY);
        assert!(log_f64(-1.0).is_nan());
        assert!(log_f64(-5e-324).is_nan());
        assert!(log_f64(f64::NEG_INFINITY).is_nan());
        assert_eq!(log_f64(f64::INFINITY), f64::INFINITY);
        assert!(log_f64(f64::NAN).is_nan());
        for x in [
            5e-324f64,
            1e-320,
            f64::from_bits(0x000f_ffff_ffff_ffff),
            f64::MIN_POSITIVE,
            f64::MAX,
            2.0,
            0.5,
            10.0,
        ] {
            assert!(
                ulp64(log_f64(x), x.ln()) <= 1 + LIBM_SLACK,
                "log_f64({x:e})"
            );
        }
    }

    // ---- sin, cos ----

    #[test]
    fn vmath_sincos_f32_sweep() {
        let small = points(-4.0, 4.0, false, 14);
        let mid = points(-1e4, 1e4, false, 15);
        let large = points(-1e6, 1e6, false, 16);
        sweep32("sin_f32 |x|<=4", sin_f32, f64::sin, &small, 1);
        sweep32("cos_f32 |x|<=4", cos_f32, f64::cos, &small, 1);
        sweep32("sin_f32 |x|<=1e4", sin_f32, f64::sin, &mid, 1);
        sweep32("cos_f32 |x|<=1e4", cos_f32, f64::cos, &mid, 1);
        sweep32("sin_f32 |x|<=1e6", sin_f32, f64::sin, &large, 1);
        sweep32("cos_f32 |x|<=1e6", cos_f32, f64::cos, &large, 1);
        let huge = points(1e6, 3.3e9, true, 35);
        sweep32("sin_f32 1e6..3.3e9", sin_f32, f64::sin, &huge, 1);
        sweep32("cos_f32 1e6..3.3e9", cos_f32, f64::cos, &huge, 1);
        let tiny = points(1e-45, 1e-3, true, 17);
        sweep32("sin_f32 tiny", sin_f32, f64::sin, &tiny, 1);
        sweep32("cos_f32 tiny", cos_f32, f64::cos, &tiny, 1);
    }

    #[test]
    fn vmath_sincos_f64_sweep() {
        let small = points(-4.0, 4.0, false, 18);
        let large = points(-1e6, 1e6, false, 19);
        sweep64("sin_f64 |x|<=4", sin_f64, f64::sin, &small, 1);
        sweep64("cos_f64 |x|<=4", cos_f64, f64::cos, &small, 1);
        sweep64("sin_f64 |x|<=1e6", sin_f64, f64::sin, &large, 1);
        sweep64("cos_f64 |x|<=1e6", cos_f64, f64::cos, &large, 1);
        let huge = points(1e6, 3.3e9, true, 20);
        sweep64("sin_f64 1e6..3.3e9", sin_f64, f64::sin, &huge, 1);
        sweep64("cos_f64 1e6..3.3e9", cos_f64, f64::cos, &huge, 1);
        let tiny = points(1e-300, 1e-3, true, 21);
        sweep64("sin_f64 tiny", sin_f64, f64::sin, &tiny, 1);
        sweep64("cos_f64 tiny", cos_f64, f64::cos, &tiny, 1);
    }

    #[test]
    fn vmath_sincos_edges() {
        assert_eq!(sin_f32(0.0).to_bits(), 0.0f32.to_bits());
        assert_eq!(sin_f32(-0.0).to_bits(), (-0.0f32).to_bits());
        assert_eq!(cos_f32(0.0), 1.0);
        assert_eq!(cos_f32(-0.0), 1.0);
        assert_eq!(sin_f32(1e-45), 1e-45);
        assert_eq!(sin_f32(-1e-45), -1e-45);
        assert_eq!(sin_f32(f32::MIN_POSITIVE), f32::MIN_POSITIVE);
        for x in [f32::INFINITY, f32::NEG_INFINITY, f32::NAN] {
            assert!(sin_f32(x).is_nan() && cos_f32(x).is_nan());
        }
        assert_eq!(sin_f64(0.0).to_bits(), 0.0f64.to_bits());
        assert_eq!(sin_f64(-0.0).to_bits(), (-0.0f64).to_bits());
        assert_eq!(cos_f64(0.0), 1.0);
        assert_eq!(cos_f64(-0.0), 1.0);
        assert_eq!(sin_f64(5e-324), 5e-324);
        assert_eq!(sin_f64(-5e-324), -5e-324);
        assert_eq!(sin_f64(f64::MIN_POSITIVE), f64::MIN_POSITIVE);
        for x in [f64::INFINITY, f64::NEG_INFINITY, f64::NAN] {
            assert!(sin_f64(x).is_nan() && cos_f64(x).is_nan());
        }
        // The doubles closest to a multiple of pi/2 below 2^31 pi/2 (|r| from 2^-60.5 to 2^-52, found with the
        // continued fraction of pi/2) and their neighbours: (x, sin x, cos x) bits, correctly rounded values
        // computed with 600-bit arithmetic (the platform libm is off by an ulp or two on some of them).
        let hard: [(u64, u64, u64); 45] = [
            (0x4046c6cbc45dc8dd, 0x3ff0000000000000, 0x3cffff494f2539b3),
            (0x4046c6cbc45dc8de, 0x3ff0000000000000, 0xbc26d61b58c99c43),
            (0x4046c6cbc45dc8df, 0x3ff0000000000000, 0xbd00005b586d6326),
            (0x416b951f1572eba4, 0xbff0000000000000, 0xbe200000003ea9ea),
            (0x416b951f1572eba5, 0xbff0000000000000, 0xbc3f54f5227a4e84),
            (0x416b951f1572eba6, 0xbff0000000000000, 0x3e1fffffff82ac2b),
            (0x417b951f1572eba4, 0x3e300000003ea9ea, 0xbff0000000000000),
            (0x417b951f1572eba5, 0x3c4f54f5227a4e84, 0xbff0000000000000),
            (0x417b951f1572eba6, 0xbe2fffffff82ac2b, 0xbff0000000000000),
            (0x418b951f1572eba4, 0xbe400000003ea9ea, 0x3ff0000000000000),
            (0x418b951f1572eba5, 0xbc5f54f5227a4e84, 0x3ff0000000000000),
            (0x418b951f1572eba6, 0x3e3fffffff82ac2b, 0x3ff0000000000000),
            (0x419b951f1572eba4, 0xbe500000003ea9ea, 0x3fefffffffffffff),
            (0x419b951f1572eba5, 0xbc6f54f5227a4e84, 0x3ff0000000000000),
            (0x419b951f1572eba6, 0x3e4fffffff82ac2b, 0x3fefffffffffffff),
            (0x41ab951f1572eba4, 0xbe600000003ea9ea, 0x3feffffffffffffc),
            (0x41ab951f1572eba5, 0xbc7f54f5227a4e84, 0x3ff0000000000000),
            (0x41ab951f1572eba6, 0x3e5fffffff82ac2a, 0x3feffffffffffffc),
            (0x41bb951f1572eba4, 0xbe700000003ea9e8, 0x3feffffffffffff0),
            (0x41bb951f1572eba5, 0xbc8f54f5227a4e84, 0x3ff0000000000000),
            (0x41bb951f1572eba6, 0x3e6fffffff82ac26, 0x3feffffffffffff0),
            (0x41cb951f1572eba4, 0xbe800000003ea9e0, 0x3fefffffffffffc0),
            (0x41cb951f1572eba5, 0xbc9f54f5227a4e84, 0x3ff0000000000000),
            (0x41cb951f1572eba6, 0x3e7fffffff82ac16, 0x3fefffffffffffc0),
            (0x41c55202aefde313, 0xbfefffffffffffc0, 0xbe7fffffff779c48),
            (0x41c55202aefde314, 0xbff0000000000000, 0x3ca10c745b9374bc),
            (0x41c55202aefde315, 0xbfefffffffffffc0, 0x3e800000004431c7),
            (0x4174456bdcf64b07, 0xbff0000000000000, 0xbe2fffffe333afb7),
            (0x4174456bdcf64b08, 0xbff0000000000000, 0x3caccc504881522d),
            (0x4174456bdcf64b09, 0xbff0000000000000, 0x3e3000000e662824),
            (0x4139eb7148f354d5, 0x3ff0000000000000, 0x3defffff8bd41735),
            (0x4139eb7148f354d6, 0x3ff0000000000000, 0xbc8d0afa32c646ca),
            (0x4139eb7148f354d7, 0x3ff0000000000000, 0xbdf000003a15f466),
            (0x41139c6fd67805a6, 0xbff0000000000000, 0xbdd00000cc477f0c),
            (0x41139c6fd67805a7, 0xbff0000000000000, 0xbc8988efe18ff83f),
            (0x41139c6fd67805a8, 0xbff0000000000000, 0x3dcffffe677101e7),
            (0x41239c6fd67805a6, 0x3de00000cc477f0c, 0xbff0000000000000),
            (0x41239c6fd67805a7, 0x3c9988efe18ff83f, 0xbff0000000000000),
            (0x41239c6fd67805a8, 0xbddffffe677101e7, 0xbff0000000000000),
            (0x41339c6fd67805a6, 0xbdf00000cc477f0c, 0x3ff0000000000000),
            (0x41339c6fd67805a7, 0xbca988efe18ff83f, 0x3ff0000000000000),
            (0x41339c6fd67805a8, 0x3deffffe677101e7, 0x3ff0000000000000),
            (0x40e67e57cdd4dc53, 0xbff0000000000000, 0xbd9fffd8d215995a),
            (0x40e67e57cdd4dc54, 0xbff0000000000000, 0x3ca396f53352c401),
            (0x40e67e57cdd4dc55, 0xbff0000000000000, 0x3da0001396f53353),
        ];
        for (x, s, c) in hard {
            let (x, s, c) = (f64::from_bits(x), f64::from_bits(s), f64::from_bits(c));
            for (x, s) in [(x, s), (-x, -s)] {
                assert!(
                    ulp64(sin_f64(x), s) <= 1,
                    "sin_f64({x:e}) = {:e}, want {s:e}",
                    sin_f64(x)
                );
                assert!(
                    ulp64(cos_f64(x), c) <= 1,
                    "cos_f64({x:e}) = {:e}, want {c:e}",
                    cos_f64(x)
                );
            }
        }
        // Doubles nearest to multiples of pi/2 (|r| about an ulp of x).
        let mut rng = Rng(98);
        let ks = (1..300u64).chain((0..3000).map(|_| rng.next() % 2_000_000_000));
        for k in ks {
            let x = k as f64 * std::f64::consts::FRAC_PI_2;
            assert!(
                ulp64(sin_f64(x), x.sin()) <= 1 + LIBM_SLACK,
                "sin_f64({x:e})"
            );
            assert!(
                ulp64(cos_f64(x), x.cos()) <= 1 + LIBM_SLACK,
                "cos_f64({x:e})"
            );
            let xf = x as f32;
            assert!(
                ulp32(sin_f32(xf), (xf as f64).sin() as f32) <= 1,
                "sin_f32({xf:e})"
            );
            assert!(
                ulp32(cos_f32(xf), (xf as f64).cos() as f32) <= 1,
                "cos_f32({xf:e})"
            );
        }
        // Huge arguments: finite, within [-1, 1].
        let mut rng = Rng(99);
        let mut huge32 = vec![f32::MAX, -f32::MAX, 1e10, 3.4e9, 1e20, 1e30, 16_777_216.0];
        let mut huge64 = vec![
            f64::MAX,
            -f64::MAX,
            1e10,
            3.4e9,
            1e15,
            1e20,
            1e100,
            1e300,
            9_007_199_254_740_992.0,
        ];
        for _ in 0..10_000 {
            huge32.push(f32::from_bits(
                (rng.next() as u32 & 0x7f7f_ffff) | 0x4f00_0000,
            ));
            huge64.push(f64::from_bits(
                (rng.next() & 0x7fef_ffff_ffff_ffff) | 0x41e0_0000_0000_0000,
            ));
        }
        for x in huge32 {
            for v in [sin_f32(x), cos_f32(x), sin_f32(-x), cos_f32(-x)] {
                assert!(v.is_finite() && v.abs() <= 1.0, "sin/cos_f32({x:e}) = {v}");
            }
        }
        for x in huge64 {
            for v in [sin_f64(x), cos_f64(x), sin_f64(-x), cos_f64(-x)] {
                assert!(v.is_finite() && v.abs() <= 1.0, "sin/cos_f64({x:e}) = {v}");
            }
        }
        // Still accurate at 1e9 (f32 values are exact doubles).
        for x in [1e9f32, 2e9, 3e9, -1e9] {
            assert!(ulp32(sin_f32(x), (x as f64).sin() as f32) <= 1);
            assert!(ulp32(cos_f32(x), (x as f64).cos() as f32) <= 1);
        }
    }

    // ---- atan, atan2 ----

    #[test]
    fn vmath_atan_sweep() {
        let lin = points(-10.0, 10.0, false, 22);
        sweep32("atan_f32 |x|<=10", atan_f32, f64::atan, &lin, 1);
        sweep64("atan_f64 |x|<=10", atan_f64, f64::atan, &lin, 1);
        let wide = points(1e-300, 1e300, true, 23);
        sweep64("atan_f64 wide", atan_f64, f64::atan, &wide, 1);
        let wide32 = points(1e-45, 3.4e38, true, 24);
        sweep32("atan_f32 wide", atan_f32, f64::atan, &wide32, 1);
    }

    #[test]
    fn vmath_atan2_sweep() {
        // Random angles and radii in all quadrants, plus random independent coordinates.
        let mk = |r: &mut Rng| {
            let ang = (r.unit() * 2.0 - 1.0) * std::f64::consts::PI;
            let rad = (r.unit() * 40.0 - 20.0).exp();
            (rad * ang.sin(), rad * ang.cos())
        };
        let p = pairs(2 * N, 25, mk);
        sweep2_32("atan2_f32 angles", atan2_f32, f64::atan2, &p, 1);
        sweep2_64("atan2_f64 angles", atan2_f64, f64::atan2, &p, 2);
        let mk2 = |r: &mut Rng| {
            let a = (r.unit() * 2.0 - 1.0) * (r.unit() * 60.0 - 30.0).exp();
            let b = (r.unit() * 2.0 - 1.0) * (r.unit() * 60.0 - 30.0).exp();
            (a, b)
        };
        let p = pairs(2 * N, 26, mk2);
        sweep2_32("atan2_f32 mixed", atan2_f32, f64::atan2, &p, 1);
        sweep2_64("atan2_f64 mixed", atan2_f64, f64::atan2, &p, 2);
    }

    #[test]
    fn vmath_atan_edges() {
        assert_eq!(atan_f32(0.0).to_bits(), 0.0f32.to_bits());
        assert_eq!(atan_f32(-0.0).to_bits(), (-0.0f32).to_bits());
        assert_eq!(atan_f32(f32::INFINITY), std::f32::consts::FRAC_PI_2);
        assert_eq!(atan_f32(f32::NEG_INFINITY), -std::f32::consts::FRAC_PI_2);
        assert_eq!(atan_f32(1e-45), 1e-45);
        assert!(atan_f32(f32::NAN).is_nan());
        assert_eq!(atan_f64(0.0).to_bits(), 0.0f64.to_bits());
        assert_eq!(atan_f64(-0.0).to_bits(), (-0.0f64).to_bits());
        assert_eq!(atan_f64(f64::INFINITY), std::f64::consts::FRAC_PI_2);
        assert_eq!(atan_f64(f64::NEG_INFINITY), -std::f64::consts::FRAC_PI_2);
        assert_eq!(atan_f64(5e-324), 5e-324);
        assert_eq!(atan_f64(1e300), std::f64::consts::FRAC_PI_2);
        assert!(atan_f64(f64::NAN).is_nan());

        let specials64 = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            5e-324,
            -5e-324,
            1e300,
            -1e300,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ];
        for &y in &specials64 {
            for &x in &specials64 {
                let (got, want) = (atan2_f64(y, x), y.atan2(x));
                assert!(
                    same64(got, want)
                        || (ulp64(got, want) <= 1 + LIBM_SLACK
                            && got.is_sign_negative() == want.is_sign_negative()),
                    "atan2_f64({y:e}, {x:e}) = {got:e}, want {want:e}"
                );
                let (yf, xf) = (y as f32, x as f32);
                let (got, want) = (atan2_f32(yf, xf), yf.atan2(xf));
                assert!(
                    same32(got, want)
                        || (ulp32(got, want) <= 1
                            && got.is_sign_negative() == want.is_sign_negative()),
                    "atan2_f32({yf:e}, {xf:e}) = {got:e}, want {want:e}"
                );
            }
        }
    }

    // ---- asin, acos ----

    #[test]
    fn vmath_asin_acos_sweep() {
        let p = points(-1.0, 1.0, false, 27);
        sweep32("asin_f32", asin_f32, f64::asin, &p, 1);
        sweep32("acos_f32", acos_f32, f64::acos, &p, 1);
        sweep64("asin_f64", asin_f64, f64::asin, &p, 1);
        sweep64("acos_f64", acos_f64, f64::acos, &p, 1);
        // Near ±1 (sqrt branch) and near 0.
        let n1 = points(1e-12, 0.1, true, 28)
            .into_iter()
            .flat_map(|d| [1.0 - d, d - 1.0])
            .collect::<Vec<_>>();
        sweep64("asin_f64 near 1", asin_f64, f64::asin, &n1, 1);
        sweep64("acos_f64 near 1", acos_f64, f64::acos, &n1, 1);
        sweep32("asin_f32 near 1", asin_f32, f64::asin, &n1, 1);
        sweep32("acos_f32 near 1", acos_f32, f64::acos, &n1, 1);
        let tiny = points(1e-300, 0.5, true, 29);
        sweep64("asin_f64 tiny", asin_f64, f64::asin, &tiny, 1);
        sweep64("acos_f64 tiny", acos_f64, f64::acos, &tiny, 1);
    }

    #[test]
    fn vmath_asin_acos_edges() {
        use std::f32::consts as c32;
        use std::f64::consts as c64;
        assert_eq!(asin_f32(1.0), c32::FRAC_PI_2);
        assert_eq!(asin_f32(-1.0), -c32::FRAC_PI_2);
        assert_eq!(asin_f32(0.0).to_bits(), 0.0f32.to_bits());
        assert_eq!(asin_f32(-0.0).to_bits(), (-0.0f32).to_bits());
        assert_eq!(asin_f32(1e-45), 1e-45);
        assert_eq!(acos_f32(1.0).to_bits(), 0.0f32.to_bits());
        assert_eq!(acos_f32(-1.0), c32::PI);
        assert_eq!(acos_f32(0.0), c32::FRAC_PI_2);
        for x in [
            1.000_000_1f32,
            -1.000_000_1,
            2.0,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
        ] {
            assert!(asin_f32(x).is_nan() && acos_f32(x).is_nan(), "{x}");
        }
        assert_eq!(asin_f64(1.0), c64::FRAC_PI_2);
        assert_eq!(asin_f64(-1.0), -c64::FRAC_PI_2);
        assert_eq!(asin_f64(0.0).to_bits(), 0.0f64.to_bits());
        assert_eq!(asin_f64(-0.0).to_bits(), (-0.0f64).to_bits());
        assert_eq!(asin_f64(5e-324), 5e-324);
        assert_eq!(acos_f64(1.0).to_bits(), 0.0f64.to_bits());
        assert_eq!(acos_f64(-1.0), c64::PI);
        assert_eq!(acos_f64(0.0), c64::FRAC_PI_2);
        assert_eq!(acos_f64(5e-324), c64::FRAC_PI_2);
        for x in [
            1.000_000_000_000_000_2f64,
            -1.000_000_000_000_000_2,
            2.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ] {
            assert!(asin_f64(x).is_nan() && acos_f64(x).is_nan(), "{x}");
        }
        for x in [
            0.5f64,
            -0.5,
            0.975,
            -0.975,
            0.9749999,
            1.0 - 1e-16,
            -1.0 + 1e-16,
        ] {
            assert!(
                ulp64(asin_f64(x), x.asin()) <= 1 + LIBM_SLACK,
                "asin_f64({x})"
            );
            assert!(
                ulp64(acos_f64(x), x.acos()) <= 1 + LIBM_SLACK,
                "acos_f64({x})"
            );
        }
    }

    // ---- powf ----

    #[test]
    fn vmath_powf_sweep() {
        let mk = |r: &mut Rng| ((r.unit() * 2.0 - 1.0) * 1e3f64.ln(), r.unit() * 20.0 - 10.0);
        let p: Vec<(f64, f64)> = pairs(2 * N, 30, mk)
            .into_iter()
            .map(|(lx, y)| (lx.exp(), y))
            .collect();
        sweep2_32("powf_f32 (1e-3,1e3)x(-10,10)", powf_f32, f64::powf, &p, 0);
        sweep2_64("powf_f64 (1e-3,1e3)x(-10,10)", powf_f64, f64::powf, &p, 1);
        // Wide: any magnitude of the result, including over/underflow and subnormal results.
        let mk = |r: &mut Rng| ((r.unit() * 2.0 - 1.0) * 700.0, r.unit() * 4.0 - 2.0);
        let p: Vec<(f64, f64)> = pairs(N, 31, mk)
            .into_iter()
            .map(|(lx, y)| (lx.exp(), y))
            .collect();
        sweep2_64("powf_f64 wide", powf_f64, f64::powf, &p, 1);
        let mk = |r: &mut Rng| ((r.unit() * 2.0 - 1.0) * 87.0, r.unit() * 200.0 - 100.0);
        let p: Vec<(f64, f64)> = pairs(N, 32, mk)
            .into_iter()
            .map(|(lx, y)| (lx.exp(), y))
            .collect();
        sweep2_32("powf_f32 wide", powf_f32, f64::powf, &p, 1);
        // Negative bases with integer exponents.
        let mk = |r: &mut Rng| (-(r.unit() * 10.0), (r.unit() * 40.0 - 20.0).round());
        let p = pairs(N, 33, mk);
        sweep2_32("powf_f32 x<0, int y", powf_f32, f64::powf, &p, 1);
        sweep2_64("powf_f64 x<0, int y", powf_f64, f64::powf, &p, 1);
        // x near 1 with large y.
        let mk = |r: &mut Rng| {
            (
                1.0 + (r.unit() * 2.0 - 1.0) * 1e-6,
                (r.unit() * 2.0 - 1.0) * 1e8,
            )
        };
        let p = pairs(N, 34, mk);
        sweep2_64("powf_f64 x~1, large y", powf_f64, f64::powf, &p, 1);
    }

    #[test]
    fn vmath_powf_edges() {
        let inf = f64::INFINITY;
        let vals = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.5,
            -0.5,
            2.0,
            -2.0,
            3.0,
            -3.0,
            2.5,
            -2.5,
            1e-310,
            -1e-310,
            1e300,
            -1e300,
            0.999,
            1.001,
            9007199254740993.0,
            -9007199254740991.0,
            4503599627370497.0,
            1e20,
            -1e20,
            inf,
            -inf,
            f64::NAN,
        ];
        for &x in &vals {
            for &y in &vals {
                let (got, want) = (powf_f64(x, y), x.powf(y));
                assert!(
                    same64(got, want)
                        || (ulp64(got, want) <= 1 + LIBM_SLACK
                            && got.is_sign_negative() == want.is_sign_negative()),
                    "powf_f64({x:e}, {y:e}) = {got:e}, want {want:e}"
                );
                let (xf, yf) = (x as f32, y as f32);
                let (got, want) = (powf_f32(xf, yf), xf.powf(yf));
                assert!(
                    same32(got, want)
                        || (ulp32(got, want) <= 1
                            && got.is_sign_negative() == want.is_sign_negative()),
                    "powf_f32({xf:e}, {yf:e}) = {got:e}, want {want:e}"
                );
            }
        }
        // Exact cases.
        assert_eq!(powf_f64(2.0, 10.0), 1024.0);
        assert_eq!(powf_f64(2.0, -1074.0), 5e-324);
        assert_eq!(powf_f64(2.0, 1023.0), 2f64.powi(1023));
        assert_eq!(powf_f64(2.0, 1024.0), inf);
        assert_eq!(powf_f64(-2.0, 3.0), -8.0);
        assert_eq!(powf_f64(10.0, 2.0), 100.0);
        assert_eq!(powf_f32(2.0, -149.0), 1e-45);
        assert_eq!(powf_f32(2.0, 128.0), f32::INFINITY);
        assert_eq!(powf_f32(-2.0, 3.0), -8.0);
        assert_eq!(powf_f32(f32::NAN, 0.0), 1.0);
        assert_eq!(powf_f32(1.0, f32::NAN), 1.0);
        assert!(powf_f32(-8.0, 1.0 / 3.0).is_nan());
    }

    // ---- random bit patterns over the whole range ----

    #[test]
    fn vmath_random_bits() {
        let mut rng = Rng(4242);
        let mut worst = [0u64; 16];
        for _ in 0..N {
            let b = rng.next();
            let x = f32::from_bits(b as u32);
            let xd = x as f64;
            let y = f32::from_bits((b >> 32) as u32);
            let d = f64::from_bits(b);
            let e = f64::from_bits(b.rotate_left(17));
            let errs = [
                ulp32(exp_f32(x), xd.exp() as f32),
                ulp32(log_f32(x), xd.ln() as f32),
                ulp32(atan_f32(x), xd.atan() as f32),
                ulp32(asin_f32(x), xd.asin() as f32),
                ulp32(acos_f32(x), xd.acos() as f32),
                ulp32(atan2_f32(y, x), (y as f64).atan2(xd) as f32),
                if xd.abs() < 1e9 {
                    ulp32(sin_f32(x), xd.sin() as f32)
                } else {
                    0
                },
                if xd.abs() < 1e9 {
                    ulp32(cos_f32(x), xd.cos() as f32)
                } else {
                    0
                },
                ulp64(exp_f64(d), d.exp()),
                ulp64(log_f64(d), d.ln()),
                ulp64(atan_f64(d), d.atan()),
                ulp64(asin_f64(d), d.asin()),
                ulp64(acos_f64(d), d.acos()),
                ulp64(atan2_f64(e, d), e.atan2(d)),
                if d.abs() < 1e9 {
                    ulp64(sin_f64(d), d.sin())
                } else {
                    0
                },
                if d.abs() < 1e9 {
                    ulp64(cos_f64(d), d.cos())
                } else {
                    0
                },
            ];
            for (w, e) in worst.iter_mut().zip(errs) {
                *w = (*w).max(e);
            }
        }
        println!(
            "random bits, max ulp (exp log atan asin acos atan2 sin cos, f32 then f64): {worst:?}"
        );
        let bound = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 1, 1];
        for (i, (w, b)) in worst.iter().zip(bound).enumerate() {
            let b = if i < 8 { b } else { b + LIBM_SLACK };
            assert!(*w <= b, "function #{i}: {w} ulp");
        }
    }

    // ---- API: lane loop equals element-wise calls ----

    #[test]
    fn vmath_lane_loop_matches_scalar() {
        let a: [f32; 16] = std::array::from_fn(|l| l as f32 * 7.3 - 50.0);
        let mut o = [0f32; 16];
        for l in 0..16 {
            o[l] = exp_f32(a[l]);
        }
        for l in 0..16 {
            assert_eq!(o[l].to_bits(), exp_f32(a[l]).to_bits());
        }
        let b: [f64; 8] = std::array::from_fn(|l| l as f64 * 3.1 + 0.25);
        let mut p = [0f64; 8];
        for l in 0..8 {
            p[l] = log_f64(b[l]) + sin_f64(b[l]);
        }
        for l in 0..8 {
            assert_eq!(p[l].to_bits(), (log_f64(b[l]) + sin_f64(b[l])).to_bits());
        }
    }
}

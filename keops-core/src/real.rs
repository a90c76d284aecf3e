//! The scalar types kernels run on (`f32`, `f64`) and their SIMD lane packs.
//!
//! [`Real`] is sealed: only `f32` and `f64` implement it. Every scalar function a kernel needs is a method
//! of [`Real`] backed by the branch-free polynomials of [`crate::cpu::vmath`], so a loop over the lanes of a
//! [`Pack`] compiles to vector instructions inside the target-feature functions of [`crate::cpu::simd`].

use std::fmt::{Debug, Display};
use std::ops::{AddAssign, DivAssign, MulAssign, Neg, SubAssign};

use keops_ir::{Binary, Ternary, Unary};

use crate::cpu::lanes::{binary_scalar, ternary_scalar, unary_scalar};
use crate::cpu::vmath;

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// A floating-point scalar a kernel can run on: `f32` or `f64`.
///
/// ```
/// use keops_core::Real;
/// fn gaussian<T: Real>(d2: T) -> T { (-d2).exp() }
/// assert!((gaussian(1.0f64) - (-1.0f64).exp()).abs() < 1e-15);
/// ```
pub trait Real:
    sealed::Sealed
    + ndarray::LinalgScalar
    + ndarray::ScalarOperand
    + Neg<Output = Self>
    + PartialOrd
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + Send
    + Sync
    + Debug
    + Display
    + Default
    + 'static
{
    /// The lane pack the CPU kernels evaluate formulas on (16 lanes of `f32`, 8 of `f64`).
    type Pack: Pack<Scalar = Self>;
    /// `"f32"` or `"f64"`.
    const NAME: &'static str;
    /// The number of mantissa bits, for tolerances.
    const EPSILON: Self;
    /// Rounds an `f64` to this type.
    fn from_f64(x: f64) -> Self;
    /// Widens to `f64` (exact).
    fn to_f64(self) -> f64;
    /// Converts an index to this type (exact below 2^24 for `f32`, 2^53 for `f64`).
    fn from_usize(i: usize) -> Self;
    /// Positive infinity.
    fn infinity() -> Self;
    /// Negative infinity.
    fn neg_infinity() -> Self;
    /// A quiet NaN.
    fn nan() -> Self;
    /// Neither infinite nor NaN.
    fn is_finite(self) -> bool;
    /// Is NaN.
    fn is_nan(self) -> bool;
    /// Absolute value.
    fn abs(self) -> Self;
    /// Square root (correctly rounded; a single instruction).
    fn sqrt(self) -> Self;
    /// Largest integer not above `self`.
    fn floor(self) -> Self;
    /// Nearest integer, halves away from zero.
    fn round(self) -> Self;
    /// Integer part (rounds toward zero).
    fn trunc(self) -> Self;
    /// `e^self`, vectorisable polynomial ([`vmath`]).
    fn exp(self) -> Self;
    /// Natural logarithm, vectorisable polynomial.
    fn log(self) -> Self;
    /// Sine, vectorisable polynomial.
    fn sin(self) -> Self;
    /// Cosine, vectorisable polynomial.
    fn cos(self) -> Self;
    /// Arc tangent, vectorisable polynomial.
    fn atan(self) -> Self;
    /// Arc sine, vectorisable polynomial.
    fn asin(self) -> Self;
    /// Arc cosine, vectorisable polynomial.
    fn acos(self) -> Self;
    /// Four-quadrant arc tangent of `self / x`.
    fn atan2(self, x: Self) -> Self;
    /// `self^y` for a real exponent.
    fn powf(self, y: Self) -> Self;
    /// The larger of two values (NaN-ignoring, as `f64::max`).
    fn max(self, o: Self) -> Self;
    /// The smaller of two values (NaN-ignoring, as `f64::min`).
    fn min(self, o: Self) -> Self;
}

macro_rules! impl_real {
    ($t:ident, $pack:ident, $lanes:literal, $exp:ident, $log:ident, $sin:ident, $cos:ident, $atan:ident,
     $asin:ident, $acos:ident, $atan2:ident, $powf:ident) => {
        impl Real for $t {
            type Pack = $pack;
            const NAME: &'static str = stringify!($t);
            const EPSILON: Self = $t::EPSILON;
            #[inline(always)]
            fn from_f64(x: f64) -> Self {
                x as $t
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn from_usize(i: usize) -> Self {
                i as $t
            }
            #[inline(always)]
            fn infinity() -> Self {
                $t::INFINITY
            }
            #[inline(always)]
            fn neg_infinity() -> Self {
                $t::NEG_INFINITY
            }
            #[inline(always)]
            fn nan() -> Self {
                $t::NAN
            }
            #[inline(always)]
            fn is_finite(self) -> bool {
                $t::is_finite(self)
            }
            #[inline(always)]
            fn is_nan(self) -> bool {
                $t::is_nan(self)
            }
            #[inline(always)]
            fn abs(self) -> Self {
                $t::abs(self)
            }
            #[inline(always)]
            fn sqrt(self) -> Self {
                $t::sqrt(self)
            }
            #[inline(always)]
            fn floor(self) -> Self {
                $t::floor(self)
            }
            #[inline(always)]
            fn round(self) -> Self {
                $t::round(self)
            }
            #[inline(always)]
            fn trunc(self) -> Self {
                $t::trunc(self)
            }
            #[inline(always)]
            fn exp(self) -> Self {
                vmath::$exp(self)
            }
            #[inline(always)]
            fn log(self) -> Self {
                vmath::$log(self)
            }
            #[inline(always)]
            fn sin(self) -> Self {
                vmath::$sin(self)
            }
            #[inline(always)]
            fn cos(self) -> Self {
                vmath::$cos(self)
            }
            #[inline(always)]
            fn atan(self) -> Self {
                vmath::$atan(self)
            }
            #[inline(always)]
            fn asin(self) -> Self {
                vmath::$asin(self)
            }
            #[inline(always)]
            fn acos(self) -> Self {
                vmath::$acos(self)
            }
            #[inline(always)]
            fn atan2(self, x: Self) -> Self {
                vmath::$atan2(self, x)
            }
            #[inline(always)]
            fn powf(self, y: Self) -> Self {
                vmath::$powf(self, y)
            }
            #[inline(always)]
            fn max(self, o: Self) -> Self {
                $t::max(self, o)
            }
            #[inline(always)]
            fn min(self, o: Self) -> Self {
                $t::min(self, o)
            }
        }

        /// A pack of lanes of the scalar type, the unit the CPU kernels evaluate formulas on.
        #[derive(Clone, Copy, Debug, PartialEq)]
        #[repr(C, align(64))]
        pub struct $pack(pub [$t; $lanes]);

        impl Pack for $pack {
            type Scalar = $t;
            const LANES: usize = $lanes;
            #[inline(always)]
            fn splat(x: $t) -> Self {
                Self([x; $lanes])
            }
            #[inline(always)]
            fn as_slice(&self) -> &[$t] {
                &self.0
            }
            #[inline(always)]
            fn as_mut_slice(&mut self) -> &mut [$t] {
                &mut self.0
            }
            #[inline(always)]
            fn add(self, b: Self) -> Self {
                let mut o = self;
                for l in 0..$lanes {
                    o.0[l] = self.0[l] + b.0[l];
                }
                o
            }
            #[inline(always)]
            fn sub(self, b: Self) -> Self {
                let mut o = self;
                for l in 0..$lanes {
                    o.0[l] = self.0[l] - b.0[l];
                }
                o
            }
            #[inline(always)]
            fn mul(self, b: Self) -> Self {
                let mut o = self;
                for l in 0..$lanes {
                    o.0[l] = self.0[l] * b.0[l];
                }
                o
            }
            #[inline(always)]
            fn mul_add(self, b: Self, c: Self) -> Self {
                let mut o = self;
                for l in 0..$lanes {
                    o.0[l] = self.0[l] * b.0[l] + c.0[l];
                }
                o
            }
            #[inline(always)]
            fn unary(self, u: Unary) -> Self {
                let mut o = self;
                for l in 0..$lanes {
                    o.0[l] = unary_scalar::<$t>(u, self.0[l]);
                }
                o
            }
            #[inline(always)]
            fn binary(self, b: Binary, y: Self) -> Self {
                let mut o = self;
                for l in 0..$lanes {
                    o.0[l] = binary_scalar::<$t>(b, self.0[l], y.0[l]);
                }
                o
            }
            #[inline(always)]
            fn ternary(self, t: Ternary, y: Self, z: Self) -> Self {
                let mut o = self;
                for l in 0..$lanes {
                    o.0[l] = ternary_scalar::<$t>(t, self.0[l], y.0[l], z.0[l]);
                }
                o
            }
            #[inline(always)]
            fn extremum_step<const MAX: bool>(self, best: &mut Self, arg: &mut Self, k: $t) {
                for l in 0..$lanes {
                    let v = self.0[l];
                    let better = if MAX { v > best.0[l] } else { v < best.0[l] };
                    best.0[l] = if better { v } else { best.0[l] };
                    arg.0[l] = if better { k } else { arg.0[l] };
                }
            }
            #[inline(always)]
            fn one_hot_lane(self, c: $t) -> Self {
                let mut o = self;
                for l in 0..$lanes {
                    o.0[l] = if (self.0[l] + 0.5).trunc() == c {
                        1.0
                    } else {
                        0.0
                    };
                }
                o
            }
        }
    };
}

/// A fixed-width pack of scalar lanes. Every method is a fixed loop over the lanes of an
/// `#[inline(always)]` scalar function (no closures, which LLVM may leave out of line and so compile
/// without the target features); inside the target-feature functions of [`crate::cpu::simd`] those
/// loops compile to AVX-512 or AVX2 vectors.
///
/// ```
/// use keops_core::{Pack, Real};
/// use keops_ir::Unary;
/// let p = <f32 as Real>::Pack::splat(2.0);
/// assert!(p.mul(p).as_slice().iter().all(|&v| v == 4.0));
/// assert!(p.unary(Unary::Square).as_slice().iter().all(|&v| v == 4.0));
/// ```
pub trait Pack: Copy + Send + Sync + Debug + 'static {
    /// The lane type.
    type Scalar: Real<Pack = Self>;
    /// Number of lanes.
    const LANES: usize;
    /// Every lane set to `x`.
    fn splat(x: Self::Scalar) -> Self;
    /// The lanes as a slice.
    fn as_slice(&self) -> &[Self::Scalar];
    /// The lanes as a mutable slice.
    fn as_mut_slice(&mut self) -> &mut [Self::Scalar];
    /// `a + b`.
    fn add(self, b: Self) -> Self;
    /// `a - b`.
    fn sub(self, b: Self) -> Self;
    /// `a · b`.
    fn mul(self, b: Self) -> Self;
    /// `a · b + c` (two roundings: the result does not depend on FMA hardware).
    fn mul_add(self, b: Self, c: Self) -> Self;
    /// An element-wise unary operation, lane by lane.
    fn unary(self, u: Unary) -> Self;
    /// An element-wise binary operation, lane by lane.
    fn binary(self, b: Binary, y: Self) -> Self;
    /// An element-wise ternary operation, lane by lane.
    fn ternary(self, t: Ternary, y: Self, z: Self) -> Self;
    /// Where `self` beats `best` strictly (greater if `MAX`, else smaller): `best = self`, `arg = k`.
    fn extremum_step<const MAX: bool>(self, best: &mut Self, arg: &mut Self, k: Self::Scalar);
    /// 1 where `trunc(self + 0.5) == c`, else 0.
    fn one_hot_lane(self, c: Self::Scalar) -> Self;
    /// All lanes zero.
    #[inline(always)]
    fn zero() -> Self {
        Self::splat(<Self::Scalar as num_traits::Zero>::zero())
    }
}

impl_real!(
    f32, F32x16, 16, exp_f32, log_f32, sin_f32, cos_f32, atan_f32, asin_f32, acos_f32, atan2_f32,
    powf_f32
);
impl_real!(
    f64, F64x8, 8, exp_f64, log_f64, sin_f64, cos_f64, atan_f64, asin_f64, acos_f64, atan2_f64,
    powf_f64
);

//! Run-time instruction-set dispatch: the only `unsafe` of the CPU engine.
//!
//! The kernels are written once, lane-wise over [`crate::Pack`]s, and marked `#[inline(always)]`; a
//! [`Task`] is run inside a function compiled with AVX-512 or AVX2 target features, into which it is
//! inlined, so the same source becomes vector code for the CPU at hand. No `-C target-cpu=native`
//! needed.
#![allow(unsafe_code)]

use crate::{Error, Simd};

/// The instruction set a call runs with, after checking the CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// AVX-512 F/VL/DQ/BW with FMA.
    Avx512,
    /// AVX2 with FMA.
    Avx2,
    /// The compile-time baseline.
    Scalar,
}

fn has_avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512vl")
            && std::arch::is_x86_feature_detected!("avx512dq")
            && std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Resolves the requested level against the CPU; asking for an unsupported one is an error.
pub fn resolve(simd: Simd) -> Result<Level, Error> {
    match simd {
        Simd::Auto if has_avx512() => Ok(Level::Avx512),
        Simd::Auto if has_avx2() => Ok(Level::Avx2),
        Simd::Auto | Simd::Scalar => Ok(Level::Scalar),
        Simd::Avx512 if has_avx512() => Ok(Level::Avx512),
        Simd::Avx2 if has_avx2() => Ok(Level::Avx2),
        Simd::Avx512 | Simd::Avx2 => Err(Error::InvalidOption(format!(
            "`Simd::{simd:?}` is not supported by this CPU"
        ))),
    }
}

/// A unit of work to be compiled for each instruction set: `run` must be `#[inline(always)]`.
pub trait Task {
    /// The result.
    type Output;
    /// Does the work.
    fn run(self) -> Self::Output;
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl,avx512dq,avx512bw,avx2,fma")]
unsafe fn run_avx512<K: Task>(k: K) -> K::Output {
    k.run()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn run_avx2<K: Task>(k: K) -> K::Output {
    k.run()
}

/// Runs `k` compiled for `level` (obtained from [`resolve`], so the CPU supports it).
#[inline]
pub fn dispatch<K: Task>(level: Level, k: K) -> K::Output {
    match level {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `resolve` returned Avx512 only after detecting every enabled feature.
        Level::Avx512 => unsafe { run_avx512(k) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `resolve` returned Avx2 only after detecting AVX2 and FMA.
        Level::Avx2 => unsafe { run_avx2(k) },
        _ => k.run(),
    }
}

/// The lanes of a slice of packs as one flat slice of scalars, for loops the compiler vectorises over
/// contiguous memory (a loop over packs may instead be vectorised across packs, with gathers).
#[inline(always)]
pub fn flat<P: crate::Pack>(packs: &[P]) -> &[P::Scalar] {
    assert_eq!(
        std::mem::size_of::<P>(),
        P::LANES * std::mem::size_of::<P::Scalar>()
    );
    // SAFETY: `Pack` is only implemented by `F32x16` and `F64x8` (its `Scalar` must be a sealed `Real`
    // whose `Pack` is the type itself), both `#[repr(C)]` wrappers of `[Scalar; LANES]` without
    // padding (checked above); the pointer is valid for `len · LANES` scalars and suitably aligned.
    unsafe {
        std::slice::from_raw_parts(packs.as_ptr().cast::<P::Scalar>(), packs.len() * P::LANES)
    }
}

/// [`flat`] for a mutable slice.
#[inline(always)]
pub fn flat_mut<P: crate::Pack>(packs: &mut [P]) -> &mut [P::Scalar] {
    assert_eq!(
        std::mem::size_of::<P>(),
        P::LANES * std::mem::size_of::<P::Scalar>()
    );
    // SAFETY: as in `flat`; the borrow is exclusive.
    unsafe {
        std::slice::from_raw_parts_mut(
            packs.as_mut_ptr().cast::<P::Scalar>(),
            packs.len() * P::LANES,
        )
    }
}

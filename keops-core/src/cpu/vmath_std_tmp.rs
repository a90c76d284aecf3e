//! TEMPORARY std-based stand-in until the polynomial vmath lands.
#![allow(missing_docs)]
#[inline(always)] pub fn exp_f32(x: f32) -> f32 { x.exp() }
#[inline(always)] pub fn log_f32(x: f32) -> f32 { x.ln() }
#[inline(always)] pub fn sin_f32(x: f32) -> f32 { x.sin() }
#[inline(always)] pub fn cos_f32(x: f32) -> f32 { x.cos() }
#[inline(always)] pub fn atan_f32(x: f32) -> f32 { x.atan() }
#[inline(always)] pub fn asin_f32(x: f32) -> f32 { x.asin() }
#[inline(always)] pub fn acos_f32(x: f32) -> f32 { x.acos() }
#[inline(always)] pub fn atan2_f32(y: f32, x: f32) -> f32 { y.atan2(x) }
#[inline(always)] pub fn powf_f32(x: f32, y: f32) -> f32 { x.powf(y) }
#[inline(always)] pub fn exp_f64(x: f64) -> f64 { x.exp() }
#[inline(always)] pub fn log_f64(x: f64) -> f64 { x.ln() }
#[inline(always)] pub fn sin_f64(x: f64) -> f64 { x.sin() }
#[inline(always)] pub fn cos_f64(x: f64) -> f64 { x.cos() }
#[inline(always)] pub fn atan_f64(x: f64) -> f64 { x.atan() }
#[inline(always)] pub fn asin_f64(x: f64) -> f64 { x.asin() }
#[inline(always)] pub fn acos_f64(x: f64) -> f64 { x.acos() }
#[inline(always)] pub fn atan2_f64(y: f64, x: f64) -> f64 { y.atan2(x) }
#[inline(always)] pub fn powf_f64(x: f64, y: f64) -> f64 { x.powf(y) }

//! The keops-rs run time on the CPU: the tiled SIMD Genred driver, the vector math, the reductions, the
//! run-time formula interpreter and the conjugate-gradient solver.
//!
//! Users reach all of this through the `keops` facade crate and its `keops!` macro; this crate is the
//! engine the generated code calls into.

pub mod cpu;
mod error;
mod input;
pub mod interp;
pub mod kernel_solve;
mod options;
mod real;
mod runtime;
pub mod solve;

pub use cpu::driver::{RawOutput, Signature, TileFormula, ValuesIndices, VarSpec};
pub use error::Error;
pub use input::Input;
pub use keops_ir::{Cat, FormulaError, Reduction};
pub use options::{Accumulator, Backend, Options, Ranges, Simd, SumScheme};
pub use real::{F32x16, F64x8, Pack, Real};
pub use runtime::{Genred, KernelSolve, Solver};
pub use solve::*;

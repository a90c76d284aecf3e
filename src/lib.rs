//! # keops
//!
//! KeOps (kernel operations) in Rust: write a kernel formula once, get Genred reductions
//! `out_i = Red_j F(x_i, y_j, …)` and kernel solves `(alpha·Id + K) a = b`, without ever storing the
//! M×N kernel matrix.
//!
//! The [`keops!`] macro checks the formula at `cargo build` (errors point inside the string) and
//! generates a zero-sized type whose `call` runs a tiled, SIMD, multi-threaded CPU loop:
//!
//! ```
//! use keops::prelude::*;
//! use ndarray::array;
//!
//! keops! {
//!     /// `Σ_j exp(-|x_i - y_j|) a_j`
//!     pub struct ExpConv {
//!         formula: "Exp(-Norm2(x - y)) * a",
//!         aliases: [x = Vi(3), y = Vj(3), a = Vj(2)],
//!         reduction: Sum,
//!         axis: 1,
//!     }
//! }
//!
//! let x = array![[0.0f64, 0.0, 0.0], [1.0, 0.0, 0.0]];
//! let a = array![[1.0f64, 2.0], [3.0, 4.0]];
//! let out = ExpConv.call(&x, &x, &a).unwrap();
//! let e = (-1.0f64).exp();
//! assert!((out[[0, 0]] - (1.0 + 3.0 * e)).abs() < 1e-12);
//! assert!((out[[1, 1]] - (2.0 * e + 4.0)).abs() < 1e-12);
//! ```
//!
//! Formulas known only at run time go through [`Genred`] (an interpreter over the same IR, no compiler
//! needed). Kernel solves are `keops!` types with `solve: a`:
//!
//! ```
//! use keops::prelude::*;
//! use ndarray::Array2;
//!
//! keops! {
//!     /// `(alpha Id + K_xx)^-1 b` for the exponential kernel.
//!     pub struct ExpSolve {
//!         formula: "Exp(-Norm2(x - y)) * a",
//!         aliases: [x = Vi(3), y = Vj(3), a = Vj(2)],
//!         solve: a,
//!         axis: 1,
//!     }
//! }
//!
//! let x = Array2::from_shape_fn((50, 3), |(i, k)| ((i * 7 + k * 3) % 11) as f64 / 11.0);
//! let b = Array2::from_shape_fn((50, 2), |(i, k)| ((i + k) % 5) as f64 - 2.0);
//! let sol = ExpSolve.solver().alpha(0.1).rtol(1e-10).solve(&x, &x, &b).unwrap();
//! assert!(sol.report.converged());
//! ```

pub use keops_core::*;
pub use keops_macros::keops;

/// Everything a user of the macro needs: `use keops::prelude::*;`.
pub mod prelude {
    pub use keops_core::{
        Accumulator, Backend, Error, Genred, Input, Options, Real, Reduction, Simd, Solution,
        SolveReport, SolveStatus, SumScheme, ValuesIndices,
    };
    pub use keops_macros::keops;
}

/// Paths the generated code uses. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use keops_core::cpu::driver::{
        Family, KMinFamily, LogSumExpFamily, MaxFamily, MinFamily, SumFamily, genred,
    };
    pub use keops_core::cpu::lanes;
    pub use keops_core::kernel_solve::{safe_solve, seed_solve};
    pub use keops_core::{
        Cat, Error, Input, Options, Pack, Progress, Real, Reduction, Signature, Solution,
        SolverConfig, TileFormula, ValuesIndices, VarSpec,
    };
    pub use keops_ir::{Binary, Ternary, Unary};
    pub use ndarray::{Array2, ArrayView2};
}

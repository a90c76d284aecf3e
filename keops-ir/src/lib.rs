//! The KeOps formula front end and IR.
//!
//! A formula such as `"Exp(-SqDist(x, y)) * a"` with aliases `x = Vi(3)`, `y = Vj(3)`, `a = Vj(2)` goes
//! through [`lexer`] → [`parser`] (an [`ast::Expr`] with spans) → [`check`] (names, arities, dimensions,
//! surface operations expanded) → [`Ir`], a typed DAG of the primitive operations of [`ops`], shared
//! sub-expressions once. [`Kernel`] bundles the IR with its reduction and axis. Every back end (the
//! macro's CPU code generator, the run-time tile interpreter, the CUDA emitter) reads a [`Kernel`] and
//! nothing else; [`reference`](mod@reference) evaluates one in plain `f64` as the oracle of all tests.
//!
//! Errors are [`FormulaError`]s carrying the byte span inside the formula:
//!
//! ```
//! use keops_ir::{Alias, Kernel, Reduction};
//! let aliases = ["x = Vi(3)", "y = Vj(3)", "b = Vj(2)"].map(|a| Alias::parse(a).unwrap());
//! let err = Kernel::build("x * b", None, &aliases, Reduction::Sum, 1).unwrap_err();
//! assert_eq!(err.message, "dimension mismatch in `*`: left is 3 (`x`), right is 2 (`b`)");
//! ```

pub mod alias;
pub mod ast;
pub mod check;
mod error;
pub mod ir;
mod kernel;
pub mod lexer;
pub mod ops;
pub mod parser;
mod reduction;
pub mod reference;
mod span;

pub use alias::Alias;
pub use error::{ErrorKind, FormulaError};
pub use ir::{Cat, Deps, Ir, Node, NodeId, VarInfo};
pub use kernel::{Kernel, Layout, Slot};
pub use ops::{Binary, Op, Ternary, Unary};
pub use reduction::{OutputKind, Reduction};
pub use span::Span;

//! Integration tests of the `keops` crate, in one binary (compile time is the budget): the `keops!`
//! types (`genred`), the run-time interpreter (`runtime`), kernel solves (`solve`) and error paths
//! (`errors`). Every result is compared with the reference evaluator `keops_ir::reference::genred` on the
//! same data (for `f32`: on the `f32`-rounded inputs).

mod errors;
mod genred;
mod runtime;
mod solve;
mod support;

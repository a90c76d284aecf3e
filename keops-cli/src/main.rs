//! `keops`: kernel reductions and kernel solves over `.npy` files, with formulas given on the command
//! line (no compiler needed: the run-time interpreter of `keops-core` evaluates them).
//!
//! ```text
//! keops reduce --formula "Exp(-SqDist(x,y))*a" --alias "x=Vi(3)" --alias "y=Vj(3)" --alias "a=Vj(2)" \
//!     --reduction Sum --axis 1 --input x=x.npy --input y=y.npy --input a=a.npy --out out.npy
//! keops solve --formula "Exp(-SqDist(x,y))*a" --alias "x=Vi(3)" --alias "y=Vj(3)" --alias "a=Vj(2)" \
//!     --var a --axis 1 --alpha 0.1 --rtol 1e-8 --input x=x.npy --input y=x.npy --input a=b.npy --out sol.npy
//! keops check --formula "Exp(-SqDist(x,y))*a" --alias "x=Vi(3)" --alias "y=Vj(3)" --alias "a=Vj(2)"
//! ```
//!
//! Exit codes: 0 success; 1 numerical failure (a solve that did not converge: the report says which
//! columns); 2 usage, formula, I/O or shape error.

mod cli;
mod commands;
mod error;
mod npy;
mod progress;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let res = match cli.command {
        Command::Reduce(a) => commands::reduce(&a),
        Command::Solve(a) => commands::solve(&a),
        Command::Check(a) => commands::check(&a),
    };
    match res {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("error: {f}");
            f.exit_code()
        }
    }
}

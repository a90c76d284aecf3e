//! The reference evaluator: scalar `f64`, no tiling, no cleverness. It is the semantics, executable, and
//! the oracle every back end is tested against.

use crate::ir::{Cat, Ir, NodeId};
use crate::ops::Op;
use crate::{Kernel, Reduction};

/// The result of a reference reduction: `rows × cols` values and/or indices, row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct RefOutput {
    /// Output rows (M for axis 1, N for axis 0).
    pub rows: usize,
    /// Output columns ([`Kernel::out_cols`]).
    pub cols: usize,
    /// Values, if the reduction has them.
    pub values: Option<Vec<f64>>,
    /// Indices, if the reduction has them.
    pub indices: Option<Vec<usize>>,
}

/// Evaluates every node of `ir` for one (i, j) pair; `vars[k]` is variable k's row (its `dim` values).
/// Returns the values of all nodes.
pub fn eval_nodes(ir: &Ir, vars: &[&[f64]]) -> Vec<Vec<f64>> {
    let mut vals: Vec<Vec<f64>> = Vec::with_capacity(ir.nodes.len());
    for node in &ir.nodes {
        let mut out = vec![0.0; node.dim];
        match node.op {
            Op::Var(k) => out.copy_from_slice(vars[k as usize]),
            ref op => {
                let args: Vec<&[f64]> = node
                    .args
                    .iter()
                    .map(|a| vals[a.index()].as_slice())
                    .collect();
                op.eval(&args, &mut out);
            }
        }
        vals.push(out);
    }
    vals
}

/// Evaluates one node for one (i, j) pair.
pub fn eval(ir: &Ir, node: NodeId, vars: &[&[f64]]) -> Vec<f64> {
    eval_nodes(ir, vars).swap_remove(node.index())
}

/// The number of rows of each category as KeOps infers them: the first `Vi` variable gives M, the first
/// `Vj` gives N, and 1 if there is none. `inputs[k]` holds variable k row-major.
pub fn sizes(ir: &Ir, inputs: &[&[f64]]) -> (usize, usize) {
    let rows = |cat: Cat| {
        ir.vars
            .iter()
            .find(|v| v.cat == cat)
            .map_or(1, |v| inputs[v.index].len() / v.dim)
    };
    (rows(Cat::Vi), rows(Cat::Vj))
}

/// Runs the reduction of `kernel` on `inputs` (variable k row-major in `inputs[k]`; parameters as one
/// row). Sequential over the reduced index, so ties keep the lowest index.
///
/// ```
/// use keops_ir::{Alias, Kernel, Reduction, reference};
/// // pykeops' smoke test: SqNorm2(x - y) summed over i.
/// let al = ["x = Vi(3)", "y = Vj(3)"].map(|a| Alias::parse(a).unwrap());
/// let k = Kernel::build("SqNorm2(x - y)", None, &al, Reduction::Sum, 0).unwrap();
/// let x: Vec<f64> = (1..=9).map(f64::from).collect();
/// let y: Vec<f64> = (3..=8).map(f64::from).collect();
/// let out = reference::genred(&k, &[&x, &y]);
/// assert_eq!(out.values.unwrap(), vec![63.0, 90.0]);
/// ```
pub fn genred(kernel: &Kernel, inputs: &[&[f64]]) -> RefOutput {
    let ir = &kernel.ir;
    let (m, n) = sizes(ir, inputs);
    let (rows, red) = if kernel.axis == 1 { (m, n) } else { (n, m) };
    let dim = kernel.dim();
    let dim2 = kernel.dim2();
    let cols = kernel.out_cols();
    let red_kind = kernel.reduction;
    let mut values = vec![0.0; rows * cols];
    let mut indices = vec![0usize; rows * cols];
    let row_of = |k: usize, i: usize, j: usize| -> &[f64] {
        let v = &ir.vars[k];
        let r = match v.cat {
            Cat::Vi => i,
            Cat::Vj => j,
            Cat::Pm => 0,
        };
        &inputs[k][r * v.dim..(r + 1) * v.dim]
    };
    for r in 0..rows {
        let mut acc = Acc::new(red_kind, dim, dim2);
        for t in 0..red {
            let (i, j) = if kernel.axis == 1 { (r, t) } else { (t, r) };
            let rows_k: Vec<&[f64]> = (0..ir.vars.len()).map(|k| row_of(k, i, j)).collect();
            let vals = eval_nodes(ir, &rows_k);
            let f = &vals[kernel.formula.index()];
            let g = kernel.formula2.map(|g| vals[g.index()].as_slice());
            acc.push(f, g, t);
        }
        acc.finish(
            &mut values[r * cols..(r + 1) * cols],
            &mut indices[r * cols..(r + 1) * cols],
        );
    }
    let kind = red_kind.output_kind();
    use crate::OutputKind::*;
    RefOutput {
        rows,
        cols,
        values: matches!(kind, Values | ValuesIndices).then_some(values),
        indices: matches!(kind, Indices | ValuesIndices).then_some(indices),
    }
}

/// The accumulator of one output row.
struct Acc {
    red: Reduction,
    dim: usize,
    /// `Sum` / `Min` / `Max` / `LogSumExp`'s running sums; `KMin`: K values per component
    /// (component-major).
    v: Vec<f64>,
    /// Arg indices (same layout as `v`).
    idx: Vec<usize>,
    /// `LogSumExp` / `SumSoftMaxWeight`: the running maximum; `SumSoftMaxWeight`: `v` holds the weighted
    /// sums, `den` the plain one.
    max: f64,
    den: f64,
}

impl Acc {
    fn new(red: Reduction, dim: usize, dim2: usize) -> Acc {
        let (n, init) = match red {
            Reduction::Sum => (dim, 0.0),
            Reduction::Min | Reduction::ArgMin | Reduction::MinArgMin => (dim, f64::INFINITY),
            Reduction::Max | Reduction::ArgMax | Reduction::MaxArgMax => (dim, f64::NEG_INFINITY),
            Reduction::KMin(k) | Reduction::ArgKMin(k) | Reduction::KMinArgKMin(k) => {
                (k * dim, f64::INFINITY)
            }
            Reduction::LogSumExp | Reduction::SumSoftMaxWeight => (dim2, 0.0),
        };
        Acc {
            red,
            dim,
            v: vec![init; n],
            idx: vec![0; n],
            max: f64::NEG_INFINITY,
            den: 0.0,
        }
    }

    fn push(&mut self, f: &[f64], g: Option<&[f64]>, t: usize) {
        match self.red {
            Reduction::Sum => {
                for (a, x) in self.v.iter_mut().zip(f) {
                    *a += x;
                }
            }
            Reduction::Min | Reduction::ArgMin | Reduction::MinArgMin => {
                for (d, &x) in f.iter().enumerate().take(self.dim) {
                    if x < self.v[d] {
                        self.v[d] = x;
                        self.idx[d] = t;
                    }
                }
            }
            Reduction::Max | Reduction::ArgMax | Reduction::MaxArgMax => {
                for (d, &x) in f.iter().enumerate().take(self.dim) {
                    if x > self.v[d] {
                        self.v[d] = x;
                        self.idx[d] = t;
                    }
                }
            }
            Reduction::KMin(k) | Reduction::ArgKMin(k) | Reduction::KMinArgKMin(k) => {
                for (d, &x) in f.iter().enumerate().take(self.dim) {
                    let vals = &mut self.v[d * k..(d + 1) * k];
                    let idx = &mut self.idx[d * k..(d + 1) * k];
                    // Insertion with strict `<`: an equal value goes after the ones already kept.
                    if let Some(p) = (0..k).find(|&p| x < vals[p]) {
                        for q in (p + 1..k).rev() {
                            vals[q] = vals[q - 1];
                            idx[q] = idx[q - 1];
                        }
                        vals[p] = x;
                        idx[p] = t;
                    }
                }
            }
            Reduction::LogSumExp | Reduction::SumSoftMaxWeight => {
                let x = f[0];
                let one = [1.0];
                let w = g.unwrap_or(&one);
                if x == f64::NEG_INFINITY {
                    // exp(-inf) = 0: the term adds nothing (KeOps gives NaN when it comes first).
                    return;
                }
                if x > self.max {
                    let s = (self.max - x).exp();
                    for a in &mut self.v {
                        *a *= s;
                    }
                    self.den *= s;
                    self.max = x;
                }
                let e = (x - self.max).exp();
                for (a, wk) in self.v.iter_mut().zip(w) {
                    *a += e * wk;
                }
                self.den += e;
            }
        }
    }

    fn finish(self, values: &mut [f64], indices: &mut [usize]) {
        match self.red {
            Reduction::KMin(k) | Reduction::ArgKMin(k) | Reduction::KMinArgKMin(k) => {
                // Stored component-major; the output is k-major: out[k·D + d].
                for d in 0..self.dim {
                    for q in 0..k {
                        values[q * self.dim + d] = self.v[d * k + q];
                        indices[q * self.dim + d] = self.idx[d * k + q];
                    }
                }
            }
            Reduction::LogSumExp => {
                for (o, s) in values.iter_mut().zip(&self.v) {
                    *o = self.max + s.ln();
                }
            }
            Reduction::SumSoftMaxWeight => {
                for (o, s) in values.iter_mut().zip(&self.v) {
                    *o = s / self.den;
                }
            }
            _ => {
                values.copy_from_slice(&self.v);
                indices.copy_from_slice(&self.idx);
            }
        }
    }
}

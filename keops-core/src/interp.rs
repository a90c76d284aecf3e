//! The run-time tile interpreter: evaluates a checked [`Kernel`]'s IR node by node on lane packs, with
//! the same per-operation lowerings as generated code ([`crate::cpu::lanes`]). Interpretation costs one
//! dispatch per node per pack of `LANES` entries.

use keops_ir::{Kernel, Layout, Op, Slot};

use crate::Real;
use crate::cpu::driver::TileFormula;
use crate::cpu::lanes::eval_op_block;

/// A kernel ready to be interpreted.
#[derive(Clone, Debug)]
pub struct Interpreter {
    kernel: Kernel,
    layout: Layout,
    /// Offset of each node's value in the scratch buffer.
    offsets: Vec<usize>,
    scratch: usize,
}

impl Interpreter {
    /// Prepares `kernel` for interpretation.
    pub fn new(kernel: Kernel) -> Self {
        let layout = kernel.layout();
        let mut offsets = Vec::with_capacity(kernel.ir.nodes.len());
        let mut total = 0;
        for n in &kernel.ir.nodes {
            offsets.push(total);
            total += n.dim;
        }
        Interpreter {
            kernel,
            layout,
            offsets,
            scratch: total,
        }
    }

    /// The kernel.
    pub fn kernel(&self) -> &Kernel {
        &self.kernel
    }
}

impl<T: Real> TileFormula<T> for Interpreter {
    fn scratch_len(&self, nb: usize) -> usize {
        self.scratch * nb.max(1)
    }

    #[inline(always)]
    fn eval(
        &self,
        outer: &[T::Pack],
        inner: &[T::Pack],
        params: &[T::Pack],
        scratch: &mut [T::Pack],
        out: &mut [T::Pack],
    ) {
        let id = inner.len();
        <Self as TileFormula<T>>::eval_block(self, outer, inner, id, 1, params, scratch, out);
    }

    /// Node by node over the whole block: node `k`'s values for pack `b` sit at
    /// `offsets[k]·nb + b·dim_k`, so one dispatch serves `nb` packs.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn eval_block(
        &self,
        outer: &[T::Pack],
        inner: &[T::Pack],
        inner_dim: usize,
        nb: usize,
        params: &[T::Pack],
        scratch: &mut [T::Pack],
        out: &mut [T::Pack],
    ) {
        let nodes = &self.kernel.ir.nodes;
        for (k, node) in nodes.iter().enumerate() {
            let d = node.dim;
            let off = self.offsets[k] * nb;
            let (before, after) = scratch.split_at_mut(off);
            let dst = &mut after[..d * nb];
            if let Op::Var(v) = node.op {
                let (slot, at) = self.layout.vars[v as usize];
                for b in 0..nb {
                    let src = match slot {
                        Slot::Outer => &outer[at..at + d],
                        Slot::Inner => &inner[b * inner_dim + at..b * inner_dim + at + d],
                        Slot::Param => &params[at..at + d],
                    };
                    dst[b * d..(b + 1) * d].copy_from_slice(src);
                }
                continue;
            }
            let empty: &[T::Pack] = &[];
            let mut args = [(empty, 0usize); 3];
            for (a, id) in args.iter_mut().zip(&node.args) {
                let o = self.offsets[id.index()] * nb;
                let da = nodes[id.index()].dim;
                *a = (&before[o..o + da * nb], da);
            }
            eval_op_block(&node.op, dst, d, &args[..node.args.len()], nb);
        }
        let od = out.len() / nb.max(1);
        let f = self.kernel.formula;
        let d = nodes[f.index()].dim;
        let fo = self.offsets[f.index()] * nb;
        let g = self
            .kernel
            .formula2
            .map(|g| (self.offsets[g.index()] * nb, nodes[g.index()].dim));
        for b in 0..nb {
            out[b * od..b * od + d].copy_from_slice(&scratch[fo + b * d..fo + (b + 1) * d]);
            if let Some((go, dg)) = g {
                if od >= d + dg {
                    out[b * od + d..b * od + d + dg]
                        .copy_from_slice(&scratch[go + b * dg..go + (b + 1) * dg]);
                }
            }
        }
    }
}

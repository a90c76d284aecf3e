//! The run-time tile interpreter: evaluates a checked [`Kernel`]'s IR node by node on lane packs, with
//! the same per-operation lowerings as generated code ([`crate::cpu::lanes`]). Interpretation costs one
//! dispatch per node per pack of `LANES` entries.

use keops_ir::{Kernel, Layout, Op, Slot};

use crate::cpu::driver::TileFormula;
use crate::cpu::lanes::eval_op;
use crate::{Pack, Real};

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
        Interpreter { kernel, layout, offsets, scratch: total }
    }

    /// The kernel.
    pub fn kernel(&self) -> &Kernel {
        &self.kernel
    }
}

impl<T: Real> TileFormula<T> for Interpreter {
    fn scratch_len(&self) -> usize {
        self.scratch
    }

    #[inline(always)]
    fn eval(&self, outer: &[T::Pack], inner: &[T::Pack], params: &[T::Pack], scratch: &mut [T::Pack], out: &mut [T::Pack]) {
        let nodes = &self.kernel.ir.nodes;
        for (k, node) in nodes.iter().enumerate() {
            let off = self.offsets[k];
            let (before, after) = scratch.split_at_mut(off);
            let dst = &mut after[..node.dim];
            if let Op::Var(v) = node.op {
                let (slot, at) = self.layout.vars[v as usize];
                let src = match slot {
                    Slot::Outer => outer,
                    Slot::Inner => inner,
                    Slot::Param => params,
                };
                dst.copy_from_slice(&src[at..at + node.dim]);
                continue;
            }
            let empty: &[T::Pack] = &[];
            let mut args = [empty; 3];
            for (a, id) in args.iter_mut().zip(&node.args) {
                let o = self.offsets[id.index()];
                *a = &before[o..o + nodes[id.index()].dim];
            }
            eval_op(&node.op, dst, &args[..node.args.len()]);
        }
        let f = self.kernel.formula;
        let d = nodes[f.index()].dim;
        out[..d].copy_from_slice(&scratch[self.offsets[f.index()]..self.offsets[f.index()] + d]);
        if let Some(g) = self.kernel.formula2 {
            let dg = nodes[g.index()].dim;
            if out.len() >= d + dg {
                out[d..d + dg].copy_from_slice(&scratch[self.offsets[g.index()]..self.offsets[g.index()] + dg]);
            }
        }
        let _ = <T::Pack as Pack>::LANES;
    }
}

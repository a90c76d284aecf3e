//! The run-time tile interpreter: evaluates a checked [`Kernel`]'s IR node by node on lane packs, with
//! the same per-operation lowerings as generated code ([`crate::cpu::lanes`]). Interpretation costs one
//! dispatch per node per pack of `LANES` entries.

use keops_ir::{Kernel, Layout, Op, Slot};

use crate::cpu::driver::{BLOCK, TileFormula};
use crate::cpu::lanes::{BlockArg, eval_op_block};
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

/// The inputs of one block.
struct Sources<'a, P> {
    outer: &'a [P],
    inner: &'a [P],
    inner_dim: usize,
    params: &'a [P],
    nb: usize,
}

impl Interpreter {
    /// Where node `k`'s values are: variables are read in place, computed nodes live in `scratch`.
    #[inline(always)]
    fn node_arg<'a, P>(&self, k: usize, src: &Sources<'a, P>, scratch: &'a [P]) -> BlockArg<'a, P> {
        let node = &self.kernel.ir.nodes[k];
        let d = node.dim;
        match node.op {
            Op::Var(v) => {
                let (slot, at) = self.layout.vars[v as usize];
                match slot {
                    Slot::Outer => BlockArg {
                        data: &src.outer[at..at + d],
                        dim: d,
                        stride: 0,
                    },
                    Slot::Param => BlockArg {
                        data: &src.params[at..at + d],
                        dim: d,
                        stride: 0,
                    },
                    Slot::Inner => BlockArg {
                        data: &src.inner[at..],
                        dim: d,
                        stride: src.inner_dim,
                    },
                }
            }
            _ => {
                let o = self.offsets[k] * src.nb;
                BlockArg {
                    data: &scratch[o..o + d * src.nb],
                    dim: d,
                    stride: d,
                }
            }
        }
    }

    /// Evaluates every computed node over the block into `scratch`.
    #[inline(always)]
    fn eval_nodes<P: crate::Pack>(&self, src: &Sources<'_, P>, scratch: &mut [P]) {
        let (nodes, nb) = (&self.kernel.ir.nodes, src.nb);
        for (k, node) in nodes.iter().enumerate() {
            if let Op::Var(_) = node.op {
                continue;
            }
            let d = node.dim;
            let (before, after) = scratch.split_at_mut(self.offsets[k] * nb);
            let empty = BlockArg {
                data: &[],
                dim: 0,
                stride: 0,
            };
            let mut args = [empty; 3];
            for (a, id) in args.iter_mut().zip(&node.args) {
                *a = self.node_arg(id.index(), src, before);
            }
            eval_op_block(
                &node.op,
                &mut after[..d * nb],
                d,
                &args[..node.args.len()],
                nb,
            );
        }
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

    /// The `Sum` loop: blocks of packs evaluated node by node, F added into the lanes straight from
    /// where it was computed.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn sum_packs(
        &self,
        outer: &[T::Pack],
        inner: &[T::Pack],
        inner_dim: usize,
        params: &[T::Pack],
        scratch: &mut [T::Pack],
        _out: &mut [T::Pack],
        acc: &mut [T::Pack],
    ) {
        let np = inner.len() / inner_dim.max(1);
        let mut q = 0;
        while q < np {
            let nb = BLOCK.min(np - q);
            let blk = &inner[q * inner_dim..(q + nb) * inner_dim];
            let src = Sources {
                outer,
                inner: blk,
                inner_dim,
                params,
                nb,
            };
            self.eval_nodes(&src, scratch);
            let f = self.node_arg(self.kernel.formula.index(), &src, scratch);
            // Component by component with two running sums in registers (no store-to-load chain).
            for (c, a) in acc.iter_mut().enumerate() {
                let (mut s0, mut s1) = (*a, T::Pack::zero());
                let mut b = 0;
                while b + 1 < nb {
                    s0 = s0.add(f.at(b)[c]);
                    s1 = s1.add(f.at(b + 1)[c]);
                    b += 2;
                }
                if b < nb {
                    s0 = s0.add(f.at(b)[c]);
                }
                *a = s0.add(s1);
            }
            q += nb;
        }
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
        let src = Sources {
            outer,
            inner,
            inner_dim,
            params,
            nb,
        };
        self.eval_nodes(&src, scratch);
        let od = out.len() / nb.max(1);
        let f = self.node_arg(self.kernel.formula.index(), &src, scratch);
        let g = self
            .kernel
            .formula2
            .map(|g| self.node_arg(g.index(), &src, scratch));
        for b in 0..nb {
            let fb = &f.data[b * f.stride..b * f.stride + f.dim];
            out[b * od..b * od + f.dim].copy_from_slice(fb);
            if let Some(g) = g.filter(|g| od >= f.dim + g.dim) {
                let gb = &g.data[b * g.stride..b * g.stride + g.dim];
                out[b * od + f.dim..b * od + f.dim + g.dim].copy_from_slice(gb);
            }
        }
    }
}

//! The IR: a typed DAG of primitive operations with a known dimension on every node, shared
//! sub-expressions stored once, in topological order. The only input of every back end.

use std::collections::HashMap;
use std::fmt;

use crate::ops::{Binary, Cst, Op, Unary};

/// Index of a node in [`Ir::nodes`]; arguments always have smaller indices than their users.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u32);

impl NodeId {
    /// As a `usize` index.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// The category of a variable: indexed by i, by j, or a parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cat {
    /// `Vi`: one row per i (category 0).
    Vi,
    /// `Vj`: one row per j (category 1).
    Vj,
    /// `Pm`: a single vector (category 2).
    Pm,
}

impl Cat {
    /// KeOps' category number (0, 1, 2).
    pub fn number(self) -> u32 {
        match self {
            Cat::Vi => 0,
            Cat::Vj => 1,
            Cat::Pm => 2,
        }
    }
    /// From KeOps' category number.
    pub fn from_number(n: u64) -> Option<Cat> {
        match n {
            0 => Some(Cat::Vi),
            1 => Some(Cat::Vj),
            2 => Some(Cat::Pm),
            _ => None,
        }
    }
}

impl fmt::Display for Cat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Cat::Vi => "Vi",
            Cat::Vj => "Vj",
            Cat::Pm => "Pm",
        })
    }
}

/// An input variable of a formula: its alias name, call position, dimension and category.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct VarInfo {
    /// The alias name (or `Var(ind,dim,cat)` for a bare variable in the formula).
    pub name: String,
    /// Position among the call's arguments.
    pub index: usize,
    /// Vector dimension.
    pub dim: usize,
    /// i, j or parameter.
    pub cat: Cat,
}

/// Which indices a node's value depends on (for hoisting i-only work out of the j loop).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Deps {
    /// Depends on an i-indexed variable.
    pub i: bool,
    /// Depends on a j-indexed variable.
    pub j: bool,
}

/// One node of the DAG.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Node {
    /// The operation.
    pub op: Op,
    /// Argument nodes (all earlier in [`Ir::nodes`]).
    pub args: Vec<NodeId>,
    /// Output dimension.
    pub dim: usize,
    /// Index dependencies.
    pub deps: Deps,
}

/// A checked formula DAG with its variables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ir {
    /// Nodes in topological order.
    pub nodes: Vec<Node>,
    /// Variables in call order (`vars[k].index == k`).
    pub vars: Vec<VarInfo>,
}

impl Ir {
    /// The node behind an id.
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.index()]
    }
}

impl fmt::Display for Ir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (k, n) in self.nodes.iter().enumerate() {
            let args: Vec<String> = n.args.iter().map(|a| format!("%{}", a.0)).collect();
            let what = match &n.op {
                Op::Var(v) => {
                    let v = &self.vars[*v as usize];
                    format!("{} = {}({}, {})", v.name, v.cat, v.index, v.dim)
                }
                op => format!("{op}({})", args.join(", ")),
            };
            writeln!(f, "%{k}: dim {} = {what}", n.dim)?;
        }
        Ok(())
    }
}

/// Builds an [`Ir`] node by node, sharing equal nodes and applying local simplifications (constant
/// folding, `x - x → 0`, zero absorption, `-(-x) → x`). Dimension rules are checked by the caller
/// ([`crate::check`]); the builder keeps them as invariants.
#[derive(Clone, Debug, Default)]
pub struct Builder {
    nodes: Vec<Node>,
    memo: HashMap<(Op, Vec<NodeId>, usize), NodeId>,
    vars: Vec<VarInfo>,
}

impl Builder {
    /// A builder over the given variables.
    pub fn new(vars: Vec<VarInfo>) -> Self {
        Builder {
            nodes: Vec::new(),
            memo: HashMap::new(),
            vars,
        }
    }

    /// The variables.
    pub fn vars(&self) -> &[VarInfo] {
        &self.vars
    }

    /// Adds a variable (a bare `Var(ind,dim,cat)` met in the formula); returns its position.
    pub fn add_var(&mut self, v: VarInfo) -> usize {
        self.vars.push(v);
        self.vars.len() - 1
    }

    /// The dimension of a node.
    pub fn dim(&self, id: NodeId) -> usize {
        self.nodes[id.index()].dim
    }

    /// The node behind an id.
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.index()]
    }

    fn is_zero(&self, id: NodeId) -> bool {
        match self.node(id).op {
            Op::Zero => true,
            Op::Const(c) => c.0 == 0.0,
            _ => false,
        }
    }

    fn constant(&self, id: NodeId) -> Option<f64> {
        match self.node(id).op {
            Op::Const(c) => Some(c.0),
            Op::Zero if self.dim(id) == 1 => Some(0.0),
            _ => None,
        }
    }

    /// Adds a node as is (after sharing); no simplification.
    pub fn raw(&mut self, op: Op, args: Vec<NodeId>, dim: usize) -> NodeId {
        let key = (op, args, dim);
        if let Some(&id) = self.memo.get(&key) {
            return id;
        }
        let (op, args, dim) = key.clone();
        let mut deps = Deps::default();
        if let Op::Var(v) = op {
            match self
                .vars
                .iter()
                .find(|x| x.index == v as usize)
                .map(|x| x.cat)
                .unwrap_or(Cat::Pm)
            {
                Cat::Vi => deps.i = true,
                Cat::Vj => deps.j = true,
                Cat::Pm => {}
            }
        }
        for a in &args {
            let d = self.nodes[a.index()].deps;
            deps.i |= d.i;
            deps.j |= d.j;
        }
        let id = NodeId(self.nodes.len() as u32);
        self.nodes.push(Node {
            op,
            args,
            dim,
            deps,
        });
        self.memo.insert(key, id);
        id
    }

    /// The variable at call position `index` (it must be among [`Builder::vars`]).
    pub fn var(&mut self, index: usize) -> NodeId {
        let dim = self
            .vars
            .iter()
            .find(|v| v.index == index)
            .map_or(1, |v| v.dim);
        self.raw(Op::Var(index as u32), vec![], dim)
    }

    /// A scalar constant (`0` becomes `Zero(1)`).
    pub fn constant_node(&mut self, c: f64) -> NodeId {
        if c == 0.0 && c.is_sign_positive() {
            return self.zero(1);
        }
        self.raw(Op::Const(Cst(c)), vec![], 1)
    }

    /// The zero vector of dimension `d`.
    pub fn zero(&mut self, d: usize) -> NodeId {
        self.raw(Op::Zero, vec![], d)
    }

    /// An element-wise unary operation, simplified.
    pub fn unary(&mut self, u: Unary, a: NodeId) -> NodeId {
        let d = self.dim(a);
        if let Some(c) = self.constant(a) {
            return self.constant_node(u.eval(c));
        }
        if matches!(self.node(a).op, Op::Zero) {
            let v = u.eval(0.0);
            if v == 0.0 {
                return self.zero(d);
            }
        }
        if u == Unary::Minus
            && let Op::Unary(Unary::Minus) = self.node(a).op
        {
            return self.node(a).args[0];
        }
        if u == Unary::Pow(1) {
            return a;
        }
        self.raw(Op::Unary(u), vec![a], d)
    }

    /// An element-wise binary operation with broadcasting (dims equal or one of them 1), simplified.
    pub fn binary(&mut self, b: Binary, x: NodeId, y: NodeId) -> NodeId {
        let (dx, dy) = (self.dim(x), self.dim(y));
        let d = dx.max(dy);
        if let (Some(cx), Some(cy)) = (self.constant(x), self.constant(y)) {
            return self.constant_node(b.eval(cx, cy));
        }
        match b {
            Binary::Add => {
                if self.is_zero(y) && dx == d {
                    return x;
                }
                if self.is_zero(x) && dy == d {
                    return y;
                }
            }
            Binary::Subtract => {
                if x == y {
                    return self.zero(d);
                }
                if self.is_zero(y) && dx == d {
                    return x;
                }
                if self.is_zero(x) && dy == d {
                    return self.unary(Unary::Minus, y);
                }
            }
            Binary::Mult => {
                if self.is_zero(x) || self.is_zero(y) {
                    return self.zero(d);
                }
                if self.constant(x) == Some(1.0) && dy == d {
                    return y;
                }
                if self.constant(y) == Some(1.0) && dx == d {
                    return x;
                }
                if self.constant(x) == Some(-1.0) && dy == d {
                    return self.unary(Unary::Minus, y);
                }
                if x == y {
                    return self.unary(Unary::Square, x);
                }
            }
            Binary::Divide => {
                if self.constant(y) == Some(1.0) && dx == d {
                    return x;
                }
                if self.is_zero(x) && !self.is_zero(y) {
                    return self.zero(d);
                }
            }
            _ => {}
        }
        self.raw(Op::Binary(b), vec![x, y], d)
    }

    /// `Σ_k a_k`.
    pub fn sum(&mut self, a: NodeId) -> NodeId {
        if self.dim(a) == 1 {
            return a;
        }
        if matches!(self.node(a).op, Op::Zero) {
            return self.zero(1);
        }
        self.raw(Op::Sum, vec![a], 1)
    }

    /// `a | b` (equal dims).
    pub fn scalprod(&mut self, a: NodeId, b: NodeId) -> NodeId {
        if self.is_zero(a) || self.is_zero(b) {
            return self.zero(1);
        }
        if a == b {
            let s = self.unary(Unary::Square, a);
            return self.sum(s);
        }
        self.raw(Op::Scalprod, vec![a, b], 1)
    }

    /// `out_k = a[idx_k]`.
    pub fn select(&mut self, a: NodeId, idx: Vec<u32>) -> NodeId {
        let d = idx.len();
        if matches!(self.node(a).op, Op::Zero) {
            return self.zero(d);
        }
        if idx.iter().enumerate().all(|(k, &i)| k == i as usize) && d == self.dim(a) {
            return a;
        }
        if self.dim(a) == 1 && idx.iter().all(|&i| i == 0) && d == 1 {
            return a;
        }
        self.raw(Op::Select(idx), vec![a], d)
    }

    /// Zeros of dimension `dim` with `out[idx_k] = a_k`.
    pub fn place(&mut self, a: NodeId, idx: Vec<u32>, dim: usize) -> NodeId {
        if matches!(self.node(a).op, Op::Zero) {
            return self.zero(dim);
        }
        if idx.iter().enumerate().all(|(k, &i)| k == i as usize) && dim == self.dim(a) {
            return a;
        }
        self.raw(Op::Place(idx), vec![a], dim)
    }

    /// Replicates a scalar to dimension `d`.
    pub fn sum_t(&mut self, a: NodeId, d: usize) -> NodeId {
        if d == 1 {
            return a;
        }
        if matches!(self.node(a).op, Op::Zero) {
            return self.zero(d);
        }
        self.raw(Op::SumT, vec![a], d)
    }

    /// A bilinear contraction with output dimension `d`.
    pub fn tensordot(&mut self, a: NodeId, b: NodeId, terms: Vec<[u32; 3]>, d: usize) -> NodeId {
        if self.is_zero(a) || self.is_zero(b) || terms.is_empty() {
            return self.zero(d);
        }
        self.raw(Op::TensorDot(terms), vec![a, b], d)
    }

    /// Finishes: keeps only the nodes reachable from `roots`, renumbered, and returns the new roots.
    pub fn finish(self, roots: &[NodeId]) -> (Ir, Vec<NodeId>) {
        let mut live = vec![false; self.nodes.len()];
        let mut stack: Vec<NodeId> = roots.to_vec();
        while let Some(n) = stack.pop() {
            if !live[n.index()] {
                live[n.index()] = true;
                stack.extend(self.nodes[n.index()].args.iter().copied());
            }
        }
        let mut remap = vec![NodeId(u32::MAX); self.nodes.len()];
        let mut nodes = Vec::new();
        for (k, node) in self.nodes.into_iter().enumerate() {
            if live[k] {
                remap[k] = NodeId(nodes.len() as u32);
                let args = node.args.iter().map(|a| remap[a.index()]).collect();
                nodes.push(Node { args, ..node });
            }
        }
        let roots = roots.iter().map(|r| remap[r.index()]).collect();
        let mut vars = self.vars;
        vars.sort_by_key(|v| v.index);
        (Ir { nodes, vars }, roots)
    }
}

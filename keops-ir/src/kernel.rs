//! A complete Genred definition: the checked formula(s), the reduction and the axis.

use crate::alias::{Alias, resolve};
use crate::check::Checker;
use crate::ir::{Builder, Cat, Ir, NodeId};
use crate::ops::{Binary, Op, Ternary, Unary};
use crate::parser::parse;
use crate::{ErrorKind, FormulaError, Reduction, Span};

/// A checked Genred: `out = Red_{axis} F` with an optional weight formula (`formula2`).
///
/// `axis = 1` reduces over j (the output has one row per i), `axis = 0` over i (one row per j), as in
/// pykeops.
///
/// ```
/// use keops_ir::{Alias, Kernel, Reduction};
/// let aliases = ["x = Vi(3)", "y = Vj(3)", "a = Vj(2)"].map(|a| Alias::parse(a).unwrap());
/// let k = Kernel::build("Exp(-Norm2(x - y)) * a", None, &aliases, Reduction::Sum, 1).unwrap();
/// assert_eq!(k.dim(), 2);
/// assert_eq!(k.out_cols(), 2);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Kernel {
    /// The DAG holding both formulas.
    pub ir: Ir,
    /// The formula F.
    pub formula: NodeId,
    /// The weight formula g of `LogSumExp` / `SumSoftMaxWeight`.
    pub formula2: Option<NodeId>,
    /// The reduction.
    pub reduction: Reduction,
    /// 1: reduce over j; 0: reduce over i.
    pub axis: usize,
}

/// Where each variable's values sit for a back end that walks output rows ("outer") and reduces over the
/// other index ("inner").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Per variable (call position): its slot and offset within that slot.
    pub vars: Vec<(Slot, usize)>,
    /// Total dimension of the outer variables (concatenated).
    pub outer_dim: usize,
    /// Total dimension of the inner variables.
    pub inner_dim: usize,
    /// Total dimension of the parameters.
    pub param_dim: usize,
}

/// Which block a variable belongs to in a [`Layout`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    /// Indexed by the output row (i for axis 1).
    Outer,
    /// Indexed by the reduced index (j for axis 1).
    Inner,
    /// A parameter.
    Param,
}

impl Layout {
    /// The layout of variables given as (category, dimension) in call order, for a reduction over
    /// `axis`: each slot holds its variables concatenated in call order.
    pub fn new(vars: &[(Cat, usize)], axis: usize) -> Layout {
        let outer = if axis == 1 { Cat::Vi } else { Cat::Vj };
        let (mut o, mut i, mut p) = (0, 0, 0);
        let vars = vars
            .iter()
            .map(|&(cat, dim)| {
                let (slot, off) = match cat {
                    Cat::Pm => (Slot::Param, &mut p),
                    c if c == outer => (Slot::Outer, &mut o),
                    _ => (Slot::Inner, &mut i),
                };
                let at = *off;
                *off += dim;
                (slot, at)
            })
            .collect();
        Layout {
            vars,
            outer_dim: o,
            inner_dim: i,
            param_dim: p,
        }
    }
}

impl Kernel {
    /// Parses and checks `formula` (and `formula2`) against `aliases` for `reduction` over `axis`.
    pub fn build(
        formula: &str,
        formula2: Option<&str>,
        aliases: &[Alias],
        reduction: Reduction,
        axis: usize,
    ) -> Result<Kernel, FormulaError> {
        let vars = resolve(aliases)?;
        let whole = Span::new(0, formula.len());
        if axis > 1 {
            return Err(FormulaError::new(
                ErrorKind::Reduction,
                whole,
                format!("axis must be 0 or 1, got {axis}"),
            )
            .with_label("1 reduces over j, 0 over i"));
        }
        let ast = parse(formula)?;
        let mut ck = Checker::new(formula, Builder::new(vars));
        let root = ck.expr(&ast);
        ck.take_errors()?;
        let root = root.expect("no error means a node");
        let mut root2 = None;
        if let Some(f2) = formula2 {
            let ast2 = parse(f2)?;
            ck.set_source(f2);
            let r2 = ck.expr(&ast2);
            ck.take_errors()?;
            root2 = r2;
        }
        let dim = ck.b.dim(root);
        let red_err = |msg: String, label: &str| {
            Err(FormulaError::new(ErrorKind::Reduction, whole, msg)
                .with_label(label)
                .in_source(formula))
        };
        match reduction {
            Reduction::LogSumExp | Reduction::SumSoftMaxWeight if dim != 1 => {
                return red_err(
                    format!("`{reduction}` needs a scalar formula, this one has dimension {dim}"),
                    "the formula is the exponent",
                );
            }
            Reduction::SumSoftMaxWeight if formula2.is_none() => {
                return red_err(
                    "`SumSoftMaxWeight` needs a weight formula (`formula2`)".into(),
                    "the weights g of sum_j exp(F) g_j / sum_j exp(F)",
                );
            }
            Reduction::LogSumExp | Reduction::SumSoftMaxWeight => {}
            _ if formula2.is_some() => {
                return red_err(
                    format!("`{reduction}` takes no weight formula (`formula2`)"),
                    "only LogSumExp and SumSoftMaxWeight have weights",
                );
            }
            _ => {}
        }
        if reduction.k() == Some(0) {
            return red_err(
                format!("`{reduction}` needs K >= 1"),
                "K is the number of values kept",
            );
        }
        let mut indices: Vec<usize> = ck.b.vars().iter().map(|v| v.index).collect();
        indices.sort();
        if let Some(missing) = (0..indices.len()).find(|k| indices[*k] != *k) {
            return Err(FormulaError::new(
                ErrorKind::Alias,
                whole,
                format!(
                    "variable indices must be 0..{}: index {missing} is missing",
                    indices.len()
                ),
            )
            .with_label("explicit indices such as `Vi(2, 3)` leave a gap")
            .in_source(formula));
        }
        let mut roots = vec![root];
        roots.extend(root2);
        let (ir, roots) = ck.b.finish(&roots);
        Ok(Kernel {
            ir,
            formula: roots[0],
            formula2: roots.get(1).copied(),
            reduction,
            axis,
        })
    }

    /// Dimension of F.
    pub fn dim(&self) -> usize {
        self.ir.node(self.formula).dim
    }

    /// Dimension of the weight formula (1 without one).
    pub fn dim2(&self) -> usize {
        self.formula2.map_or(1, |f| self.ir.node(f).dim)
    }

    /// Columns of the output.
    pub fn out_cols(&self) -> usize {
        self.reduction.out_cols(self.dim(), self.dim2())
    }

    /// The category indexing output rows (`Vi` for axis 1).
    pub fn outer_cat(&self) -> Cat {
        if self.axis == 1 { Cat::Vi } else { Cat::Vj }
    }

    /// The layout of variables for a back end.
    pub fn layout(&self) -> Layout {
        let vars: Vec<(Cat, usize)> = self.ir.vars.iter().map(|v| (v.cat, v.dim)).collect();
        Layout::new(&vars, self.axis)
    }

    /// For `solve: name`: checks that the formula is a `Sum` linear in `name`, that `name` is indexed by the
    /// reduced index and that the output dimension equals its dimension; returns its call position.
    pub fn check_solve(&self, name: &str, formula: &str) -> Result<usize, FormulaError> {
        let whole = Span::new(0, formula.len());
        let err = |kind, msg: String, label: &str| {
            Err(FormulaError::new(kind, whole, msg)
                .with_label(label)
                .in_source(formula))
        };
        let Some(v) = self.ir.vars.iter().find(|v| v.name == name) else {
            return err(
                ErrorKind::UnknownVariable,
                format!("the solved variable `{name}` is not an alias"),
                "`solve:` names one of the aliases",
            );
        };
        if self.reduction != Reduction::Sum {
            return err(
                ErrorKind::Reduction,
                "a solve needs the `Sum` reduction".into(),
                "K a is a sum over j",
            );
        }
        let inner = if self.axis == 1 { Cat::Vj } else { Cat::Vi };
        if v.cat != inner {
            return err(
                ErrorKind::NotLinear,
                format!(
                    "the solved variable `{name}` is {}, but the reduction runs over {inner}",
                    v.cat
                ),
                "K a sums over the solved variable's index",
            );
        }
        if self.dim() != v.dim {
            return err(
                ErrorKind::Dimension,
                format!(
                    "the formula has dimension {}, but the solved variable `{name}` has {}",
                    self.dim(),
                    v.dim
                ),
                "K a must have the shape of a",
            );
        }
        match linearity(&self.ir, self.formula, v.index) {
            Lin::Linear => Ok(v.index),
            Lin::Const => err(
                ErrorKind::NotLinear,
                format!("the formula does not depend on the solved variable `{name}`"),
                "KernelSolve needs K a, linear in a",
            ),
            Lin::NonLinear => err(
                ErrorKind::NotLinear,
                format!("the formula is not linear in the solved variable `{name}`"),
                "KernelSolve needs K a, linear in a (e.g. `Exp(-SqDist(x, y)) * a`)",
            ),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Lin {
    Const,
    Linear,
    NonLinear,
}

/// How each node depends on variable `v`: not at all, linearly, or otherwise.
fn linearity(ir: &Ir, root: NodeId, v: usize) -> Lin {
    let mut lin = Vec::with_capacity(ir.nodes.len());
    for node in &ir.nodes {
        let a: Vec<Lin> = node.args.iter().map(|x| lin[x.index()]).collect();
        let all_const = a.iter().all(|&l| l == Lin::Const);
        let l = if all_const {
            match node.op {
                Op::Var(k) if k as usize == v => Lin::Linear,
                _ => Lin::Const,
            }
        } else if a.contains(&Lin::NonLinear) {
            Lin::NonLinear
        } else {
            // At least one Linear argument, none NonLinear.
            let linear_in_all = a.iter().all(|&l| l == Lin::Linear);
            let one_linear = a.iter().filter(|&&l| l == Lin::Linear).count() == 1;
            match &node.op {
                Op::Unary(Unary::Minus) | Op::Sum | Op::SumT | Op::Select(_) | Op::Place(_) => {
                    Lin::Linear
                }
                Op::Binary(Binary::Add | Binary::Subtract) | Op::Concat if linear_in_all => {
                    Lin::Linear
                }
                Op::Binary(Binary::Mult) | Op::Scalprod | Op::TensorDot(_) if one_linear => {
                    Lin::Linear
                }
                Op::Binary(Binary::Divide) if a[0] == Lin::Linear && a[1] == Lin::Const => {
                    Lin::Linear
                }
                Op::Ternary(Ternary::IfElse)
                    if a[0] == Lin::Const && a[1] != Lin::NonLinear && a[2] != Lin::NonLinear =>
                {
                    // Both branches must be linear (a constant branch would make it affine).
                    if a[1] == Lin::Linear && a[2] == Lin::Linear {
                        Lin::Linear
                    } else {
                        Lin::NonLinear
                    }
                }
                _ => Lin::NonLinear,
            }
        };
        lin.push(l);
    }
    lin[root.index()]
}

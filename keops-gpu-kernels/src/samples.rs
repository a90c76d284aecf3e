//! Small kernels that together use every IR operation and every reduction: the coverage set of the
//! back-end tests (the NVRTC/ptxas check in `tests/nvrtc.rs`, GPU conformance runs).
//!
//! The operation kernels are built node by node ([`keops_ir::ir::Builder::raw`], so nothing is folded
//! away) over `x = Vi(3)`, `y = Vj(3)`, `s = Vj(1)`, `p = Pm(2)`, and reduced with `Sum` over j. The
//! element-wise operations come from the tables [`Unary::ALL`], [`Binary::ALL`], [`Ternary::ALL`], with
//! meaningful integer parameters.
//!
//! ```
//! let ops = keops_gpu_kernels::samples::every_op();
//! assert!(ops.iter().any(|(label, _)| label == "Exp"));
//! assert_eq!(keops_gpu_kernels::samples::every_reduction(1).len(), 13);
//! ```

use keops_ir::ir::{Builder, Cat, NodeId, VarInfo};
use keops_ir::ops::Cst;
use keops_ir::{Alias, Binary, Kernel, Op, Reduction, Ternary, Unary};

use crate::{Accumulator, CudaKernel, CudaOptions, Dtype, SumScheme, cuda_source};

/// One kernel of the coverage set with the type and options to generate it with.
#[derive(Clone, Debug)]
pub struct Case {
    /// What it covers, e.g. `"Exp f32"` or `"LogSumExp weighted axis 0 f64 Kahan acc Same"`.
    pub label: String,
    /// The kernel.
    pub kernel: Kernel,
    /// The data type.
    pub dtype: Dtype,
    /// The options.
    pub options: CudaOptions,
}

impl Case {
    /// The generated kernel.
    pub fn cuda(&self) -> CudaKernel {
        cuda_source(&self.kernel, self.dtype, &self.options)
    }
}

/// The coverage set of the back-end checks: for `f32` and `f64`, every kernel of [`every_op`] (plus a
/// fast-math variant in `f32` where it changes the code), every kernel of [`every_reduction`] over both
/// axes, the sum-type ones with each of the three sum schemes and, in `f32`, both accumulators.
pub fn coverage() -> Vec<Case> {
    let mut out = Vec::new();
    let plain = CudaOptions::new();
    for dtype in [Dtype::F32, Dtype::F64] {
        let mut push = |label: String, kernel: &Kernel, options: CudaOptions| {
            out.push(Case {
                label,
                kernel: kernel.clone(),
                dtype,
                options,
            })
        };
        for (label, k) in every_op() {
            push(format!("{label} {dtype}"), &k, plain);
            let fast = plain.fast_math(true);
            let intrinsics = ["__expf(", "__logf(", "__sinf(", "__cosf(", "__powf("];
            let src = cuda_source(&k, dtype, &fast).source;
            if dtype == Dtype::F32 && intrinsics.iter().any(|f| src.contains(f)) {
                push(format!("{label} {dtype} fast math"), &k, fast);
            }
        }
        let accumulators: &[Accumulator] = if dtype == Dtype::F32 {
            &[Accumulator::Same, Accumulator::F64]
        } else {
            &[Accumulator::Same]
        };
        for axis in [0, 1] {
            for (label, k) in every_reduction(axis) {
                if !k.reduction.is_sum_type() {
                    push(format!("{label} {dtype}"), &k, plain);
                    continue;
                }
                for scheme in [SumScheme::Direct, SumScheme::Block, SumScheme::Kahan] {
                    for &acc in accumulators {
                        let o = plain.sum_scheme(scheme).accumulator(acc);
                        push(format!("{label} {dtype} {scheme:?} acc {acc:?}"), &k, o);
                    }
                }
            }
        }
    }
    out
}

/// The names [`op_kind`] gives, one per variant of [`Op`].
pub const OP_KINDS: &[&str] = &[
    "Var",
    "Const",
    "Zero",
    "Unary",
    "Binary",
    "Ternary",
    "Sum",
    "SumT",
    "Max",
    "Min",
    "ArgMax",
    "ArgMin",
    "Scalprod",
    "Select",
    "Place",
    "Concat",
    "OneHot",
    "TensorDot",
];

/// The variant of an operation, as a name from [`OP_KINDS`] (an exhaustive match: a new variant of
/// [`Op`] must be added here, and then to [`every_op`]).
pub fn op_kind(op: &Op) -> &'static str {
    match op {
        Op::Var(_) => "Var",
        Op::Const(_) => "Const",
        Op::Zero => "Zero",
        Op::Unary(_) => "Unary",
        Op::Binary(_) => "Binary",
        Op::Ternary(_) => "Ternary",
        Op::Sum => "Sum",
        Op::SumT => "SumT",
        Op::Max => "Max",
        Op::Min => "Min",
        Op::ArgMax => "ArgMax",
        Op::ArgMin => "ArgMin",
        Op::Scalprod => "Scalprod",
        Op::Select(_) => "Select",
        Op::Place(_) => "Place",
        Op::Concat => "Concat",
        Op::OneHot => "OneHot",
        Op::TensorDot(_) => "TensorDot",
    }
}

/// The parameterised variants of `u` worth testing (exhaustive over [`Unary`]).
fn unary_variants(u: Unary) -> Vec<Unary> {
    match u {
        Unary::Pow(_) => vec![Unary::Pow(3), Unary::Pow(-2), Unary::Pow(0)],
        Unary::Round(_) => vec![Unary::Round(0), Unary::Round(2), Unary::Round(-1)],
        Unary::ClampInt(..) => vec![Unary::ClampInt(-1, 2)],
        Unary::DiffClampInt(..) => vec![Unary::DiffClampInt(-1, 2)],
        Unary::Minus
        | Unary::Exp
        | Unary::Log
        | Unary::XLogX
        | Unary::Sin
        | Unary::Cos
        | Unary::SinXDivX
        | Unary::Asin
        | Unary::Acos
        | Unary::Atan
        | Unary::Sqrt
        | Unary::Rsqrt
        | Unary::Inv
        | Unary::Square
        | Unary::Abs
        | Unary::Sign
        | Unary::Step
        | Unary::ReLU
        | Unary::Floor => vec![u],
    }
}

/// The shared variables: `x = Vi(3)`, `y = Vj(3)`, `s = Vj(1)`, `p = Pm(2)`.
struct Vars {
    b: Builder,
    x: NodeId,
    y: NodeId,
    s: NodeId,
    p: NodeId,
}

fn vars() -> Vars {
    let info = |name: &str, index, dim, cat| VarInfo {
        name: name.into(),
        index,
        dim,
        cat,
    };
    let mut b = Builder::new(vec![
        info("x", 0, 3, Cat::Vi),
        info("y", 1, 3, Cat::Vj),
        info("s", 2, 1, Cat::Vj),
        info("p", 3, 2, Cat::Pm),
    ]);
    let (x, y, s, p) = (b.var(0), b.var(1), b.var(2), b.var(3));
    Vars { b, x, y, s, p }
}

fn finish(b: Builder, f: NodeId) -> Kernel {
    let (ir, roots) = b.finish(&[f]);
    Kernel {
        ir,
        formula: roots[0],
        formula2: None,
        reduction: Reduction::Sum,
        axis: 1,
    }
}

/// One `Sum` kernel per primitive operation (each element-wise operation of the tables, each other
/// variant of [`Op`]), labelled with the operation; plus a few kernels for constants that need care and
/// for large dimensions.
pub fn every_op() -> Vec<(String, Kernel)> {
    let mut out = Vec::new();
    for u in Unary::ALL.iter().flat_map(|&u| unary_variants(u)) {
        let Vars { mut b, x, y, .. } = vars();
        let d = b.raw(Op::Binary(Binary::Subtract), vec![x, y], 3);
        let f = b.raw(Op::Unary(u), vec![d], 3);
        out.push((Op::Unary(u).to_string(), finish(b, f)));
    }
    for &op in Binary::ALL {
        // Equal dimensions, then a dimension-1 operand broadcast on each side.
        let Vars { mut b, x, y, s, .. } = vars();
        let f1 = b.raw(Op::Binary(op), vec![x, y], 3);
        let f2 = b.raw(Op::Binary(op), vec![x, s], 3);
        let f3 = b.raw(Op::Binary(op), vec![s, y], 3);
        let c = b.raw(Op::Concat, vec![f1, f2], 6);
        let f = b.raw(Op::Concat, vec![c, f3], 9);
        out.push((op.name().to_string(), finish(b, f)));
    }
    for &op in Ternary::ALL {
        let Vars { mut b, x, y, s, .. } = vars();
        let d = b.raw(Op::Binary(Binary::Subtract), vec![x, y], 3);
        let f1 = b.raw(Op::Ternary(op), vec![d, x, y], 3);
        let f2 = b.raw(Op::Ternary(op), vec![x, s, d], 3);
        let f = b.raw(Op::Concat, vec![f1, f2], 6);
        out.push((op.name().to_string(), finish(b, f)));
    }
    let mut push = |label: &str, build: &dyn Fn(&mut Builder, &Vars) -> NodeId| {
        let mut v = vars();
        let mut b = std::mem::take(&mut v.b);
        let f = build(&mut b, &v);
        out.push((label.to_string(), finish(b, f)));
    };
    push("Var", &|b, v| b.raw(Op::Concat, vec![v.y, v.p], 5));
    push("Const", &|b, v| {
        // Values whose printing needs care: a non-terminating binary fraction, subnormal, beyond f32,
        // infinities, NaN, negative zero.
        let mut acc = v.s;
        for c in [
            2.5,
            -0.1,
            1.0 / 3.0,
            1e-310,
            1e300,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            -0.0,
        ] {
            let k = b.raw(Op::Const(Cst(c)), vec![], 1);
            let t = b.raw(Op::Binary(Binary::Mult), vec![v.s, k], 1);
            acc = b.raw(Op::Binary(Binary::Add), vec![acc, t], 1);
        }
        acc
    });
    push("Zero", &|b, v| {
        let z = b.raw(Op::Zero, vec![], 3);
        b.raw(Op::Binary(Binary::Add), vec![v.x, z], 3)
    });
    for (label, op) in [
        ("Sum", Op::Sum),
        ("Max", Op::Max),
        ("Min", Op::Min),
        ("ArgMax", Op::ArgMax),
        ("ArgMin", Op::ArgMin),
    ] {
        push(label, &|b, v| {
            let d = b.raw(Op::Binary(Binary::Subtract), vec![v.x, v.y], 3);
            b.raw(op.clone(), vec![d], 1)
        });
    }
    push("SumT", &|b, v| {
        let d = b.raw(Op::Binary(Binary::Mult), vec![v.x, v.y], 3);
        let s = b.raw(Op::Sum, vec![d], 1);
        b.raw(Op::SumT, vec![s], 4)
    });
    push("Scalprod", &|b, v| b.raw(Op::Scalprod, vec![v.x, v.y], 1));
    push("Select", &|b, v| {
        let a = b.raw(Op::Select(vec![2, 0, 2]), vec![v.y], 3);
        let c = b.raw(Op::Select(vec![1, 2]), vec![v.x], 2);
        b.raw(Op::Concat, vec![a, c], 5)
    });
    push("Place", &|b, v| {
        let a = b.raw(Op::Place(vec![3, 0]), vec![v.p], 4);
        let c = b.raw(Op::Place(vec![1, 2, 3]), vec![v.y], 5);
        b.raw(Op::Concat, vec![a, c], 9)
    });
    push("Concat", &|b, v| b.raw(Op::Concat, vec![v.x, v.s], 4));
    push("OneHot", &|b, v| {
        let d = b.raw(Op::Binary(Binary::Subtract), vec![v.x, v.y], 3);
        let s = b.raw(Op::Sum, vec![d], 1);
        b.raw(Op::OneHot, vec![s], 5)
    });
    push("TensorDot", &|b, v| {
        let terms = (0..3)
            .flat_map(|i| (0..3).map(move |j| [3 * i + j, i, j]))
            .collect();
        b.raw(Op::TensorDot(terms), vec![v.x, v.y], 9)
    });
    // Dimensions above the unrolling limit: loops stay loops.
    let al = ["x = Vi(100)", "y = Vj(100)"].map(|a| Alias::parse(a).expect("a valid alias"));
    let big = Kernel::build("Exp(-SqDist(x, y)) * (x - y)", None, &al, Reduction::Sum, 1)
        .expect("a valid formula");
    out.push(("large dimension".to_string(), big));
    out
}

/// Every reduction of [`Reduction::ALL`] (K = 2 for the K family) over `axis`, on the Gaussian kernel
/// `Exp(-SqDist(x, y)) * b` with `x = Vi(3)`, `y = Vj(3)`, `b = Vj(2)` (on `Vi(2)` for `axis = 0`, so that
/// `b` is always on the reduced side), or on its exponent `-SqDist(x, y)` for `LogSumExp` (without, then
/// with the weights `b`) and `SumSoftMaxWeight` (weights `b`): 13 kernels.
pub fn every_reduction(axis: usize) -> Vec<(String, Kernel)> {
    let b = if axis == 1 { "b = Vj(2)" } else { "b = Vi(2)" };
    let al = ["x = Vi(3)", "y = Vj(3)", b].map(|a| Alias::parse(a).expect("a valid alias"));
    let mut out = Vec::new();
    for red in Reduction::ALL {
        let (f, f2) = match red {
            Reduction::LogSumExp | Reduction::SumSoftMaxWeight => ("-SqDist(x, y)", Some("b")),
            _ => ("Exp(-SqDist(x, y)) * b", None),
        };
        if red == Reduction::LogSumExp {
            let k = Kernel::build(f, None, &al, red, axis).expect("a valid kernel");
            out.push((format!("{red} axis {axis}"), k));
        }
        let k = Kernel::build(f, f2, &al, red, axis).expect("a valid kernel");
        let label = if f2.is_some() {
            format!("{red} weighted axis {axis}")
        } else {
            format!("{red} axis {axis}")
        };
        out.push((label, k));
    }
    out
}

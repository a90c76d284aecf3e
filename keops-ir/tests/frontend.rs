//! The front end: every operation parses, prints, parses again and builds; every class of error has its
//! kind, span and message; the element-wise operations follow KeOps' semantics at their edge points
//! through the whole pipeline (`Kernel::build` + `reference::eval`); the builder simplifies; `check_solve`
//! accepts exactly the linear formulas; and no input string makes the parser or the checker panic.

use keops_ir::check::op_names;
use keops_ir::parser::{self, parse};
use keops_ir::{
    Alias, Binary, Cat, ErrorKind, FormulaError, Kernel, Op, Reduction, Ternary, Unary, reference,
};
use proptest::prelude::*;

/// The aliases most tests use.
const ALIASES: &[&str] = &[
    "x = Vi(3)",
    "y = Vj(3)",
    "b = Vj(2)",
    "s = Vi(1)",
    "t = Vj(1)",
    "c = Vi(4)",
    "d = Vj(4)",
    "u = Vj(2)",
    "w = Pm(3)",
    "A = Pm(9)",
    "k = Pm(7)",
    "e = Vi(3)",
];

fn aliases(list: &[&str]) -> Vec<Alias> {
    list.iter()
        .map(|a| Alias::parse(a).unwrap_or_else(|e| panic!("alias {a}: {e}")))
        .collect()
}

fn build(formula: &str) -> Result<Kernel, FormulaError> {
    Kernel::build(formula, None, &aliases(ALIASES), Reduction::Sum, 1)
}

/// Asserts that `formula` fails with `kind` at the span whose text is `span_text`; returns the error.
#[track_caller]
fn fails(formula: &str, kind: ErrorKind, span_text: &str) -> FormulaError {
    fails_with(build(formula), formula, kind, span_text)
}

#[track_caller]
fn fails_with(
    res: Result<Kernel, FormulaError>,
    formula: &str,
    kind: ErrorKind,
    span_text: &str,
) -> FormulaError {
    let err = match res {
        Ok(_) => panic!("`{formula}` built, expected a {kind:?} error"),
        Err(e) => e,
    };
    assert_eq!(err.kind, kind, "`{formula}`: {err}");
    let at = formula
        .get(err.span.range())
        .unwrap_or_else(|| panic!("`{formula}`: span {:?} out of range", err.span));
    assert_eq!(at, span_text, "`{formula}`: span of {err}");
    err
}

// ---------------------------------------------------------------------------------------------------
// Every operation: one call with the right arity, its output dimension

/// Arguments of one valid call of `name` over [`ALIASES`] and the output dimension, or `None` for the
/// operations that are recognised but not implemented (`Err` holds their arguments).
fn example(name: &str) -> Option<Result<(&'static str, usize), &'static str>> {
    let unary = |n: &str| Unary::ALL.iter().any(|u| u.name() == n);
    Some(Ok(match name {
        "Pow" => ("x, 3", 3),
        "Round" => ("x, 2", 3),
        "ClampInt" | "DiffClampInt" => ("x, -1, 1", 3),
        n if unary(n) => ("x", 3),
        "Powf" => ("x, s", 3),
        n if Binary::ALL.iter().any(|b| b.name() == n) => ("x, y", 3),
        "Clamp" => ("x, s, y", 3),
        n if Ternary::ALL.iter().any(|t| t.name() == n) => ("x, y, s", 3),
        "Sum" | "Max" | "Min" | "ArgMax" | "ArgMin" | "SqNorm2" | "Norm2" => ("x", 1),
        "Normalize" => ("x", 3),
        "SumT" => ("s, 4", 4),
        "Elem" => ("x, 1", 1),
        "ElemT" => ("s, 4, 2", 4),
        "Extract" => ("x, 1, 2", 2),
        "ExtractT" => ("x, 1, 5", 5),
        "Concat" => ("x, b", 5),
        "OneHot" => ("s, 4", 4),
        "Scalprod" | "SqDist" => ("x, y", 1),
        "WeightedSqNorm" | "SqNormDiag" => ("w, x", 1),
        "WeightedSqDist" => ("A, x, y", 1),
        "SqNormIso" => ("s, x", 1),
        "SymSqNorm" => ("A, x", 1),
        "MatVecMult" => ("A, x", 3),
        "VecMatMult" => ("x, A", 3),
        "TensorProd" => ("x, b", 6),
        "TensorDot" => ("x, y, [3], [3], [0], [0]", 1),
        "Kron" => ("x, b, [3], [2]", 6),
        "IntCst" => ("3", 1),
        "RatCst" => ("1, 3", 1),
        "IntInv" => ("4", 1),
        "Zero" => ("3", 3),
        "Factorize" => ("x, y", 3),
        "ComplexReal" | "ComplexImag" | "ComplexAbs" | "ComplexSquareAbs" | "ComplexAngle" => {
            ("c", 2)
        }
        "Real2Complex" | "Imag2Complex" | "ComplexExp1j" => ("x", 6),
        "Conj" | "ComplexExp" => ("c", 4),
        "ComplexAdd" | "ComplexSubtract" | "ComplexDivide" => ("c, d", 4),
        "ComplexMult" => ("c, u", 4),
        "ComplexSum" => ("c", 2),
        "ComplexSumT" => ("u, 6", 6),
        "ComplexRealScal" => ("s, c", 4),
        "BSpline" => return Some(Err("k, s, 2")),
        "SoftDTW_SqDist" => return Some(Err("x, y, s")),
        "Grad" => return Some(Err("SqDist(x, y), x, s")),
        "Diff" => return Some(Err("SqDist(x, y), x, e")),
        "GradMatrix" | "Laplacian" => return Some(Err("SqDist(x, y), x")),
        "Divergence" => return Some(Err("x - y, x")),
        "TraceOperator" => return Some(Err("x * e, e")),
        "AdjointOperator" => return Some(Err("y * e, e, x")),
        "Grad_WithSavedForward" | "Diff_WithSavedForward" => return Some(Err("x, y, s, t")),
        _ => return None,
    }))
}

#[test]
fn every_operation_round_trips_and_builds() {
    let names = op_names();
    assert!(names.len() > 80, "{} operations", names.len());
    let missing: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| example(n).is_none())
        .collect();
    assert!(missing.is_empty(), "no example call for {missing:?}");
    for name in names {
        let (args, expected) = match example(name) {
            Some(Ok((args, dim))) => (args, Some(dim)),
            Some(Err(args)) => (args, None),
            None => unreachable!(),
        };
        let call = format!("{name}({args})");
        let ast = parse(&call).unwrap_or_else(|e| panic!("`{call}`: {e}"));
        let printed = ast.to_string();
        let again =
            parse(&printed).unwrap_or_else(|e| panic!("`{call}` printed as `{printed}`: {e}"));
        assert!(
            ast.same_shape(&again),
            "`{call}` printed as `{printed}` parses differently"
        );
        match expected {
            Some(dim) => {
                let k = build(&call).unwrap_or_else(|e| panic!("`{call}`: {e}"));
                assert_eq!(k.dim(), dim, "`{call}`: output dimension");
                validate(&k);
                let k2 = build(&printed).unwrap_or_else(|e| panic!("`{printed}`: {e}"));
                assert_eq!(
                    k, k2,
                    "`{call}` and its printed form `{printed}` build different kernels"
                );
            }
            None => {
                let e = fails(&call, ErrorKind::Unsupported, name);
                assert_eq!(e.message, format!("`{name}` is not supported yet"));
            }
        }
    }
}

#[test]
fn formulas_round_trip_through_printing() {
    for f in [
        "Exp(-SqDist(x, y)) * b",
        "x - y | x - y",
        "-x ** 2 + y",
        "x ** -2 / 3 - -y",
        "(x < y) + (x <= y) - (x > y) * (x >= y)",
        "IfElse(x - 1, y, 2.5e-3) | Concat(x, y)",
        "TensorDot(x, y, [3], [3], [], [], [1, 0])",
        "1e999 * x",
        "2 ** (x - y)",
        "+x - +y",
        "Var(0, 3, 0) + Var(12, 3, 1)",
    ] {
        let e = parse(f).unwrap_or_else(|err| panic!("`{f}`: {err}"));
        let printed = e.to_string();
        let again =
            parse(&printed).unwrap_or_else(|err| panic!("`{f}` printed as `{printed}`: {err}"));
        assert!(e.same_shape(&again), "`{f}` printed as `{printed}`");
        if let Ok(k) = build(f) {
            assert_eq!(k, build(&printed).unwrap(), "`{f}` vs `{printed}`");
        }
    }
}

/// A chain such as `x + x + ... + x` is as deep as it is long: deep trees are an error, never a stack
/// overflow, and every tree the parser accepts can be printed and parsed again.
#[test]
fn deep_formulas_are_errors_and_accepted_ones_round_trip() {
    let limit = parser::MAX_TREE_DEPTH;
    let deep = |n: usize| {
        [
            format!("x{}", " + x".repeat(n)),
            format!("{}x{}", "Exp(".repeat(n), ")".repeat(n)),
            format!("{}x", "-".repeat(n)),
            format!("x{}", " ** s".repeat(n)),
            format!("x{}", " ** -s".repeat(n / 2)),
            format!("{}x{}", "(-".repeat(n), ")".repeat(n)),
        ]
    };
    for f in deep(limit - 1) {
        let e = parse(&f).unwrap_or_else(|err| panic!("{} bytes: {err}", f.len()));
        let printed = e.to_string();
        let again = parse(&printed)
            .unwrap_or_else(|err| panic!("printed form of {} bytes: {err}", f.len()));
        assert!(e.same_shape(&again));
        assert_eq!(build(&f).is_ok(), build(&printed).is_ok());
    }
    for n in [limit, 10 * limit, 100_000] {
        for f in deep(n) {
            let err = parse(&f).unwrap_err();
            assert_eq!(
                (err.kind, err.message.as_str()),
                (ErrorKind::Parse, "formula nested too deeply")
            );
            assert_eq!(build(&f).unwrap_err().kind, ErrorKind::Parse);
        }
    }
    // Redundant parentheses cost parser recursion, not tree depth.
    let f = format!("{}x{}", "(".repeat(100), ")".repeat(100));
    assert!(build(&f).is_ok());
    let f = format!("{}x{}", "(".repeat(100_000), ")".repeat(100_000));
    assert_eq!(parse(&f).unwrap_err().message, "formula nested too deeply");
}

// ---------------------------------------------------------------------------------------------------
// Dimension errors, one per class of operation

#[test]
fn dimension_errors_name_both_dimensions() {
    use ErrorKind::{Dimension, Parameter};
    // (formula, kind, span text, the exact message)
    let cases: &[(&str, ErrorKind, &str, &str)] = &[
        (
            "x * b",
            Dimension,
            "x * b",
            "dimension mismatch in `*`: left is 3 (`x`), right is 2 (`b`)",
        ),
        (
            "Exp(x + b)",
            Dimension,
            "x + b",
            "dimension mismatch in `+`: left is 3 (`x`), right is 2 (`b`)",
        ),
        (
            "x - (b)",
            Dimension,
            "x - (b)",
            "dimension mismatch in `-`: left is 3 (`x`), right is 2 (`(b)`)",
        ),
        (
            "Add(x, b)",
            Dimension,
            "Add(x, b)",
            "dimension mismatch in `Add`: left is 3 (`x`), right is 2 (`b`)",
        ),
        (
            "Atan2(b, y)",
            Dimension,
            "Atan2(b, y)",
            "dimension mismatch in `Atan2`: left is 2 (`b`), right is 3 (`y`)",
        ),
        (
            "x ** b",
            Dimension,
            "x ** b",
            "dimension mismatch in `**`: left is 3 (`x`), right is 2 (`b`)",
        ),
        (
            "x < b",
            Dimension,
            "x < b",
            "dimension mismatch in `<`: left is 3 (`x`), right is 2 (`b`)",
        ),
        (
            "IfElse(x, b, s)",
            Dimension,
            "IfElse(x, b, s)",
            "dimension mismatch in `IfElse`: operands are 3 (`x`), 2 (`b`), 1 (`s`)",
        ),
        (
            "Clamp(s, x, b)",
            Dimension,
            "Clamp(s, x, b)",
            "dimension mismatch in `Clamp`: operands are 1 (`s`), 3 (`x`), 2 (`b`)",
        ),
        (
            "Mod(x, y, u)",
            Dimension,
            "Mod(x, y, u)",
            "dimension mismatch in `Mod`: operands are 3 (`x`), 3 (`y`), 2 (`u`)",
        ),
        (
            "Scalprod(x, b)",
            Dimension,
            "Scalprod(x, b)",
            "dimension mismatch in `Scalprod`: left is 3 (`x`), right is 2 (`b`)",
        ),
        (
            "x | b",
            Dimension,
            "x | b",
            "dimension mismatch in `|`: left is 3 (`x`), right is 2 (`b`)",
        ),
        (
            "SqDist(x, b)",
            Dimension,
            "SqDist(x, b)",
            "dimension mismatch in `SqDist`: left is 3 (`x`), right is 2 (`b`)",
        ),
        (
            "MatVecMult(A, b)",
            Dimension,
            "MatVecMult(A, b)",
            "`MatVecMult`: the matrix has dimension 9, not a multiple of the vector's 2",
        ),
        (
            "VecMatMult(b, A)",
            Dimension,
            "VecMatMult(b, A)",
            "`VecMatMult`: the matrix has dimension 9, not a multiple of the vector's 2",
        ),
        (
            "TensorDot(x, y, [2, 2], [3], [1], [0])",
            Dimension,
            "TensorDot(x, y, [2, 2], [3], [1], [0])",
            "`TensorDot`: dimensions [2, 2] do not multiply to 3, the dimension of `x`",
        ),
        (
            "TensorDot(x, c, [3], [2, 2], [0], [0])",
            Dimension,
            "TensorDot(x, c, [3], [2, 2], [0], [0])",
            "`TensorDot`: the contracted axes have sizes [3] in f and [2] in g",
        ),
        (
            "Kron(x, b, [3], [3])",
            Dimension,
            "Kron(x, b, [3], [3])",
            "`Kron`: dimensions [3] and [3] must have the same length and multiply to 3 and 2",
        ),
        (
            "WeightedSqNorm(A, b)",
            Dimension,
            "WeightedSqNorm(A, b)",
            "dimension mismatch in `WeightedSqNorm`: the weight `A` has dimension 9, the vector `b` has 2",
        ),
        (
            "SymSqNorm(w, x)",
            Dimension,
            "SymSqNorm(w, x)",
            "dimension mismatch in `SymSqNorm`: the weight `w` has dimension 3, the vector `x` has 3",
        ),
        (
            "Elem(x, 3)",
            Parameter,
            "3",
            "index 3 out of range for `x` of dimension 3",
        ),
        (
            "Extract(x, 2, 2)",
            Parameter,
            "2, 2",
            "`Extract` of [2, 4) out of range for `x` of dimension 3",
        ),
        (
            "ExtractT(x, 2, 4)",
            Parameter,
            "2, 4",
            "`ExtractT` places dimension 3 at 2: out of range for dimension 4",
        ),
        (
            "ElemT(s, 3, 3)",
            Parameter,
            "3",
            "index 3 out of range for dimension 3",
        ),
        (
            "SumT(x, 3)",
            Dimension,
            "SumT(x, 3)",
            "`SumT` needs a scalar argument, got dimension 3 (`x`)",
        ),
        (
            "OneHot(x, 3)",
            Dimension,
            "OneHot(x, 3)",
            "`OneHot` needs a scalar argument, got dimension 3 (`x`)",
        ),
        (
            "ElemT(x, 4, 1)",
            Dimension,
            "ElemT(x, 4, 1)",
            "`ElemT` needs a scalar argument, got dimension 3 (`x`)",
        ),
        (
            "ComplexMult(x, y)",
            Dimension,
            "ComplexMult(x, y)",
            "`ComplexMult` needs a complex argument (even dimension: re, im pairs), got 3 (`x`)",
        ),
        (
            "ComplexMult(c, x)",
            Dimension,
            "ComplexMult(c, x)",
            "`ComplexMult` needs a complex argument (even dimension: re, im pairs), got 3 (`x`)",
        ),
        (
            "ComplexReal(s)",
            Dimension,
            "ComplexReal(s)",
            "`ComplexReal` needs a complex argument (even dimension: re, im pairs), got 1 (`s`)",
        ),
        (
            "ComplexRealScal(u, c)",
            Dimension,
            "ComplexRealScal(u, c)",
            "`ComplexRealScal` needs a scalar argument, got dimension 2 (`u`)",
        ),
        (
            "ComplexAdd(c, Real2Complex(x))",
            Dimension,
            "ComplexAdd(c, Real2Complex(x))",
            "dimension mismatch in `ComplexAdd`: 2 (`c`) and 3 (`Real2Complex(x)`) complex numbers",
        ),
        (
            "ComplexSumT(c, 4)",
            Dimension,
            "ComplexSumT(c, 4)",
            "`ComplexSumT` replicates one complex number (dimension 2) to an even dimension, got 4 to 4",
        ),
    ];
    for &(f, kind, span, msg) in cases {
        let e = fails(f, kind, span);
        assert_eq!(e.message, msg, "`{f}`");
        assert_eq!(e.source, f, "`{f}`: the error carries the formula");
    }
    // The element-wise mismatch explains the broadcasting rule.
    let e = fails("x * b", Dimension, "x * b");
    assert_eq!(
        e.label,
        "element-wise operands need equal dimensions, or dimension 1 to broadcast"
    );
    assert!(e.to_string().contains("    x * b\n    ^^^^^"), "{e}");
    // Reductions that need a scalar formula.
    for red in [Reduction::LogSumExp, Reduction::SumSoftMaxWeight] {
        let res = Kernel::build("x * y", Some("b"), &aliases(ALIASES), red, 1);
        let e = fails_with(res, "x * y", ErrorKind::Reduction, "x * y");
        assert_eq!(
            e.message,
            format!("`{red}` needs a scalar formula, this one has dimension 3")
        );
    }
}

// ---------------------------------------------------------------------------------------------------
// Other errors, with spans

#[test]
fn errors_carry_spans_and_hints() {
    let e = fails("Exp(-Exq(x))", ErrorKind::UnknownOp, "Exq");
    assert_eq!(e.message, "unknown operation `Exq`");
    assert_eq!(e.label, "did you mean `Exp`?");
    let e = fails("Foo(x)", ErrorKind::UnknownOp, "Foo");
    assert_eq!(e.label, "not a KeOps operation");
    let e = fails("x * z", ErrorKind::UnknownVariable, "z");
    assert_eq!(e.message, "unknown variable `z`");
    assert!(
        e.label.contains("`x` (Vi, 3)") && e.label.contains("`y` (Vj, 3)"),
        "{}",
        e.label
    );
    let e = fails("Exp * x", ErrorKind::UnknownVariable, "Exp");
    assert_eq!(e.message, "`Exp` is an operation, not a variable");

    let e = fails("Exp(x, y)", ErrorKind::Arity, "Exp(x, y)");
    assert_eq!(e.message, "`Exp` takes 1 argument(s), got 2");
    let e = fails("Pow(x)", ErrorKind::Arity, "Pow(x)");
    assert_eq!(
        e.message,
        "`Pow` takes 2 argument(s): 1 formula(s) and 1 integer(s), got 1"
    );
    let e = fails("SqDist(x)", ErrorKind::Arity, "SqDist(x)");
    assert_eq!(e.message, "`SqDist` takes 2 argument(s), got 1");
    fails("Var(1, 2)", ErrorKind::Arity, "Var(1, 2)");

    let e = fails("Elem(x, -1)", ErrorKind::Parameter, "-1");
    assert_eq!(e.message, "the index must be at least 0");
    let e = fails("Pow(x, y)", ErrorKind::Parameter, "y");
    assert_eq!(e.message, "`Pow` expects an integer here");
    let e = fails(
        "TensorDot(x, y, [3], [3], [0.5], [0])",
        ErrorKind::Parameter,
        "0.5",
    );
    assert_eq!(e.message, "expected an integer in the list");
    fails("SumT(s, [2])", ErrorKind::Parameter, "[2]");
    fails("RatCst(1, 0)", ErrorKind::Parameter, "0");
    fails("Round(x, 2.5)", ErrorKind::Parameter, "2.5");

    let e = fails("Exp(x", ErrorKind::Parse, "(");
    assert_eq!(e.message, "unbalanced `(`");
    let e = fails("(x + y", ErrorKind::Parse, "(");
    assert_eq!(e.message, "unbalanced `(`");
    let e = fails("x + y)", ErrorKind::Parse, ")");
    assert_eq!(e.message, "unbalanced `)`");
    let e = fails("Exp(x]", ErrorKind::Parse, "]");
    assert_eq!(e.message, "expected `,` or `)`");
    let e = fails("x + ", ErrorKind::Parse, "");
    assert_eq!(e.message, "unexpected end of formula");
    fails("x y", ErrorKind::Parse, "y");

    let e = fails("x == y", ErrorKind::Parse, "==");
    assert_eq!(e.message, "`==` is not an operator of KeOps formulas");
    assert_eq!(e.label, "write `Equal(f, g)`");
    let e = fails("x != y", ErrorKind::Parse, "!=");
    assert_eq!(e.label, "write `NotEqual(f, g)`");
    let e = fails("x ^ y", ErrorKind::Parse, "^");
    assert_eq!(e.message, "`^` is not an operator of KeOps formulas");
    let e = fails("[1, 2] * x", ErrorKind::Parse, "[1, 2]");
    assert_eq!(e.message, "a list is not a formula");
    let e = fails("Exp(Vi(3)) * x", ErrorKind::UnknownOp, "Vi");
    assert_eq!(
        e.message,
        "`Vi(...)` declares a variable and cannot appear in a formula"
    );
    let e = fails("x + $y", ErrorKind::Lex, "$");
    assert_eq!(e.message, "unexpected character `$`");
    fails("3x", ErrorKind::Lex, "3x");
    fails("x / (y - y)", ErrorKind::Dimension, "x / (y - y)");

    // Several errors: the first, the others in the notes.
    let e = fails("Foo(x) + z", ErrorKind::UnknownOp, "Foo");
    assert_eq!(e.notes, vec!["also: unknown variable `z`".to_string()]);

    // Alias errors.
    let f = "SqDist(x, y)";
    let e = Kernel::build(
        f,
        None,
        &aliases(&["x = Vi(3)", "x = Vj(3)"]),
        Reduction::Sum,
        1,
    )
    .unwrap_err();
    assert_eq!(
        (e.kind, e.message.as_str()),
        (ErrorKind::Alias, "duplicate alias `x`")
    );
    assert_eq!(e.span.range(), 0..0, "alias errors are not in the formula");
    let e = Kernel::build(
        f,
        None,
        &aliases(&["x = Vi(0, 3)", "y = Vj(0, 3)"]),
        Reduction::Sum,
        1,
    )
    .unwrap_err();
    assert_eq!(
        (e.kind, e.message.as_str()),
        (ErrorKind::Alias, "aliases `x` and `y` both have index 0")
    );
    let res = Kernel::build(
        f,
        None,
        &aliases(&["x = Vi(0, 3)", "y = Vj(2, 3)"]),
        Reduction::Sum,
        1,
    );
    let e = fails_with(res, f, ErrorKind::Alias, f);
    assert_eq!(
        e.message,
        "variable indices must be 0..2: index 1 is missing"
    );
    let e = Alias::parse("x = Vk(3)").unwrap_err();
    assert_eq!(
        (e.kind, &"x = Vk(3)"[e.span.range()]),
        (ErrorKind::Alias, "Vk")
    );
    let e = Alias::parse("x = Vi(0)").unwrap_err();
    assert_eq!(
        (e.kind, &"x = Vi(0)"[e.span.range()]),
        (ErrorKind::Alias, "0")
    );
    let res = Kernel::build(
        "Var(0, 2, 1) + x",
        None,
        &aliases(&["x = Vi(3)"]),
        Reduction::Sum,
        1,
    );
    let e = fails_with(res, "Var(0, 2, 1) + x", ErrorKind::Alias, "Var(0, 2, 1)");
    assert_eq!(
        e.message,
        "`Var(0,2,1)` conflicts with alias `x` = Vi(0, 3)"
    );

    // Reduction errors.
    let al = aliases(&["x = Vi(3)", "y = Vj(3)", "b = Vj(2)"]);
    let e = fails_with(
        Kernel::build(f, None, &al, Reduction::Sum, 2),
        f,
        ErrorKind::Reduction,
        f,
    );
    assert_eq!(e.message, "axis must be 0 or 1, got 2");
    let e = fails_with(
        Kernel::build(f, None, &al, Reduction::KMin(0), 1),
        f,
        ErrorKind::Reduction,
        f,
    );
    assert_eq!(e.message, "`KMin(0)` needs K >= 1");
    fails_with(
        Kernel::build(f, None, &al, Reduction::ArgKMin(0), 0),
        f,
        ErrorKind::Reduction,
        f,
    );
    let e = fails_with(
        Kernel::build(f, Some("b"), &al, Reduction::Sum, 1),
        f,
        ErrorKind::Reduction,
        f,
    );
    assert_eq!(e.message, "`Sum` takes no weight formula (`formula2`)");
    let e = fails_with(
        Kernel::build(f, None, &al, Reduction::SumSoftMaxWeight, 1),
        f,
        ErrorKind::Reduction,
        f,
    );
    assert_eq!(
        e.message,
        "`SumSoftMaxWeight` needs a weight formula (`formula2`)"
    );
    // An error in formula2 points into formula2.
    let e = Kernel::build(f, Some("Exp(b) * z"), &al, Reduction::LogSumExp, 1).unwrap_err();
    assert_eq!(
        (e.kind, &"Exp(b) * z"[e.span.range()]),
        (ErrorKind::UnknownVariable, "z")
    );
    assert_eq!(e.source, "Exp(b) * z");
    // Reduction names.
    for name in [
        "Median",
        "LogSumExpWeight",
        "Max_SumShiftExp",
        "Max_SumShiftExpWeight",
        "KMin_ArgKMin_",
    ] {
        assert_eq!(Reduction::from_name(name, None), None, "{name}");
        assert_eq!(Reduction::from_name(name, Some(2)), None, "{name}");
    }
    assert_eq!(Reduction::from_name("KMin", None), None);
    assert_eq!(Reduction::from_name("Sum", Some(2)), None);
    for r in Reduction::ALL {
        let name = r.to_string();
        let name = name.split('(').next().unwrap();
        assert_eq!(Reduction::from_name(name, r.k()), Some(r), "{name}");
        assert!(Reduction::NAMES.contains(&name), "{name}");
    }
    assert_eq!(
        Reduction::from_name("MinArgMin", None),
        Some(Reduction::MinArgMin)
    );
    assert_eq!(
        Reduction::from_name("KMinArgKMin", Some(3)),
        Some(Reduction::KMinArgKMin(3))
    );
    assert_eq!(
        Reduction::from_name("SoftMax", None),
        Some(Reduction::SumSoftMaxWeight)
    );
}

#[test]
fn huge_parameters_and_dimensions_are_errors() {
    for f in [
        "SumT(s, 9223372036854775807)",
        "Zero(4294967296)",
        "ElemT(s, 4294967296, 0)",
        "OneHot(s, 4294967296)",
        "ExtractT(x, 0, 4294967296)",
        "Extract(SumT(s, 4294967296), 0, 4294967296)",
        "Concat(SumT(s, 9223372036854775807), Concat(SumT(s, 9223372036854775807), SumT(s, 9223372036854775807)))",
        "TensorProd(SumT(s, 4294967296), SumT(s, 4294967296))",
        "TensorProd(SumT(s, 70000), SumT(s, 70000))",
        "TensorDot(x, y, [4294967296, 4294967296], [3], [1], [0])",
        "TensorDot(x, y, [3, 6148914691236517206], [3], [0], [0])",
        "Kron(x, y, [4294967296, 4294967296], [1, 3])",
        "Real2Complex(SumT(s, 9223372036854775807))",
        "ComplexSumT(u, 9223372036854775806)",
        "WeightedSqNorm(x, SumT(s, 4294967296))",
        "Elem(SumT(s, 4294967297), 4294967296)",
        "TensorDot(SumT(s, 65536), SumT(s, 65536), [2048, 32], [32, 2048], [1], [0])",
        // 5 · 7378697629483820647 wraps around to 3 in 64 bits.
        "TensorDot(x, SumT(s, 5), [5, 7378697629483820647], [5], [0], [0])",
        "Real2Complex(SumT(s, 16777216))",
        "Concat(SumT(s, 16777216), s)",
        "SumT(s, 16777217)",
    ] {
        match build(f) {
            Err(e) => assert!(
                matches!(e.kind, ErrorKind::Dimension | ErrorKind::Parameter),
                "`{f}`: {:?} {}",
                e.kind,
                e.message
            ),
            Ok(k) => panic!("`{f}` built, dimension {}", k.dim()),
        }
    }
    let e = Kernel::build(
        "x",
        None,
        &aliases(&["x = Vi(18446744073709551615)"]),
        Reduction::Sum,
        1,
    )
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Alias);
    let e = fails(
        "Var(0, 4294967296, 0)",
        ErrorKind::Alias,
        "Var(0, 4294967296, 0)",
    );
    assert!(e.message.contains("dimension"), "{}", e.message);
    // Large but reasonable dimensions are fine.
    assert_eq!(build("SumT(s, 100000)").unwrap().dim(), 100_000);
    assert_eq!(
        build("TensorProd(SumT(s, 1000), SumT(s, 1000))")
            .unwrap()
            .dim(),
        1_000_000
    );
}

// ---------------------------------------------------------------------------------------------------
// Element-wise operations at their edge points, through the whole pipeline

const EDGE: &[f64] = &[
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    -0.5,
    1.5,
    2.5,
    -2.5,
    3.0,
    2.675,
    1e300,
    -1e300,
    1e-300,
    -1e-300,
    5e-324,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::NAN,
];

/// Equal, NaN equal to NaN, `0 == -0`, or within a couple of ulps (libm functions may be evaluated
/// through another path, e.g. `powi` against `powf`).
fn same(want: f64, got: f64) -> bool {
    if want.is_nan() || got.is_nan() {
        return want.is_nan() && got.is_nan();
    }
    want == got || (want.is_finite() && (want - got).abs() <= 4.0 * f64::EPSILON * want.abs())
}

/// KeOps' semantics of the unary operations (keops-semantics.md §2.4; `keopscore/utils/math_functions.py`),
/// written out here independently of `Unary::eval`.
fn unary_spec(u: Unary, x: f64) -> f64 {
    match u {
        Unary::Minus => -x,
        Unary::Exp => x.exp(),
        Unary::Log => x.ln(),
        Unary::XLogX => {
            if x == 0.0 {
                0.0
            } else {
                x * x.ln()
            }
        }
        Unary::Sin => x.sin(),
        Unary::Cos => x.cos(),
        Unary::SinXDivX => {
            if x == 0.0 {
                1.0
            } else {
                x.sin() / x
            }
        }
        Unary::Asin => x.asin(),
        Unary::Acos => x.acos(),
        Unary::Atan => x.atan(),
        Unary::Sqrt => x.sqrt(),
        Unary::Rsqrt => {
            if x == 0.0 {
                0.0
            } else {
                1.0 / x.sqrt()
            }
        }
        Unary::Inv => 1.0 / x,
        Unary::Square => x * x,
        Unary::Abs => x.abs(),
        // (x>0) ? 1 : ((x<0) ? -1 : 0): NaN gives 0.
        Unary::Sign => f64::from(u8::from(x > 0.0)) - f64::from(u8::from(x < 0.0)),
        // x<0 ? 0 : 1: NaN gives 1.
        Unary::Step => {
            if x < 0.0 {
                0.0
            } else {
                1.0
            }
        }
        Unary::ReLU => {
            if x < 0.0 {
                0.0
            } else {
                x
            }
        }
        Unary::Floor => x.floor(),
        Unary::Pow(m) => x.powf(f64::from(m)),
        Unary::Round(0) => x.round(),
        Unary::Round(d) => (x * 10f64.powi(d)).round() / 10f64.powi(d),
        Unary::ClampInt(a, b) => {
            let (a, b) = (f64::from(a), f64::from(b));
            if x < a {
                a
            } else if x > b {
                b
            } else {
                x
            }
        }
        Unary::DiffClampInt(a, b) => {
            let (a, b) = (f64::from(a), f64::from(b));
            if x < a || x > b { 0.0 } else { 1.0 }
        }
    }
}

fn binary_spec(b: Binary, x: f64, y: f64) -> f64 {
    let flag = |c: bool| if c { 1.0 } else { 0.0 };
    match b {
        Binary::Add => x + y,
        Binary::Subtract => x - y,
        Binary::Mult => x * y,
        Binary::Divide => x / y,
        Binary::Powf => x.powf(y),
        Binary::Atan2 => x.atan2(y),
        Binary::Equal => flag(x == y),
        Binary::NotEqual => flag(x != y),
        Binary::LessThan => flag(x < y),
        Binary::LessOrEqual => flag(x <= y),
    }
}

fn ternary_spec(t: Ternary, x: f64, y: f64, z: f64) -> f64 {
    match t {
        Ternary::Clamp => {
            if x < y {
                y
            } else if x > z {
                z
            } else {
                x
            }
        }
        Ternary::IfElse => {
            if x >= 0.0 {
                y
            } else {
                z
            }
        }
        Ternary::Mod => x - y * ((x - z) / y).floor(),
    }
}

/// Every unary operation with the parameters worth testing, and how it is written.
fn unary_cases() -> Vec<(Unary, String)> {
    let mut v = Vec::new();
    for &u in Unary::ALL {
        match u {
            Unary::Pow(_) => {
                v.extend([-2, -1, 0, 1, 2, 3, 7].map(|m| (Unary::Pow(m), format!("Pow(x, {m})"))))
            }
            Unary::Round(_) => {
                v.extend([-1, 0, 2].map(|d| (Unary::Round(d), format!("Round(x, {d})"))))
            }
            Unary::ClampInt(..) => v.push((Unary::ClampInt(-1, 2), "ClampInt(x, -1, 2)".into())),
            Unary::DiffClampInt(..) => {
                v.push((Unary::DiffClampInt(-1, 2), "DiffClampInt(x, -1, 2)".into()))
            }
            u => v.push((u, format!("{}(x)", u.name()))),
        }
    }
    v
}

/// Evaluates a kernel's formula once: `vars[k]` is the row of variable k.
fn eval(k: &Kernel, vars: &[&[f64]]) -> Vec<f64> {
    reference::eval(&k.ir, k.formula, vars)
}

#[test]
fn unary_operations_at_edge_points() {
    let al = aliases(&["x = Vi(1)"]);
    let alv = aliases(&["x = Vi(19)"]);
    assert_eq!(EDGE.len(), 19);
    let mut bad = Vec::new();
    for (u, f) in unary_cases() {
        let k = Kernel::build(&f, None, &al, Reduction::Sum, 1)
            .unwrap_or_else(|e| panic!("`{f}`: {e}"));
        for &x in EDGE {
            let (want, got) = (unary_spec(u, x), eval(&k, &[&[x]])[0]);
            if !same(want, got) {
                bad.push(format!("{f} at {x:e}: want {want:e}, got {got:e}"));
            }
        }
        // The same on a vector, and constant-folded from a literal (when the point has one).
        let kv = Kernel::build(&f, None, &alv, Reduction::Sum, 1).unwrap();
        let got = eval(&kv, &[EDGE]);
        for (&x, &g) in EDGE.iter().zip(&got) {
            if !same(unary_spec(u, x), g) {
                bad.push(format!("{f} at {x:e} in a vector: got {g:e}"));
            }
        }
        for (x, lit) in [
            (0.0, "0"),
            (-0.0, "-0"),
            (1.0, "1"),
            (-1.0, "-1"),
            (0.5, "0.5"),
            (-2.5, "-2.5"),
        ]
        .into_iter()
        .chain([
            (2.675, "2.675"),
            (1e300, "1e300"),
            (-1e-300, "-1e-300"),
            (f64::INFINITY, "1e999"),
        ]) {
            let fl = f.replacen("(x", &format!("({lit}"), 1);
            let k = Kernel::build(&fl, None, &[], Reduction::Sum, 1)
                .unwrap_or_else(|e| panic!("`{fl}`: {e}"));
            assert!(
                k.ir.nodes.len() <= 1,
                "`{fl}` is not folded to one constant:\n{}",
                k.ir
            );
            let got = eval(&k, &[])[0];
            if !same(unary_spec(u, x), got) {
                bad.push(format!(
                    "{fl} folded: want {:e}, got {got:e}",
                    unary_spec(u, x)
                ));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "{} mismatches:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

/// The points keops-semantics.md §2.4 and §13 name, one by one.
#[test]
fn keops_edge_semantics() {
    let al = aliases(&["x = Vi(1)", "y = Vj(1)", "z = Pm(1)"]);
    let at = |f: &str, x: f64| {
        let k =
            Kernel::build(f, None, &al, Reduction::Sum, 1).unwrap_or_else(|e| panic!("`{f}`: {e}"));
        eval(&k, &[&[x], &[0.0], &[0.0]])[0]
    };
    let nan = f64::NAN;
    #[rustfmt::skip]
    let points: &[(&str, f64, f64)] = &[
        ("Rsqrt(x)", 0.0, 0.0), ("Rsqrt(x)", -0.0, 0.0), ("Rsqrt(x)", 4.0, 0.5), ("Rsqrt(x)", -1.0, nan),
        ("Sign(x)", 0.0, 0.0), ("Sign(x)", -0.0, 0.0), ("Sign(x)", nan, 0.0), ("Sign(x)", -1e-300, -1.0),
        ("Step(x)", 0.0, 1.0), ("Step(x)", -0.0, 1.0), ("Step(x)", -1e-300, 0.0), ("Step(x)", nan, 1.0),
        ("ReLU(x)", -2.0, 0.0), ("ReLU(x)", 2.0, 2.0), ("ReLU(x)", nan, nan),
        ("XLogX(x)", 0.0, 0.0), ("XLogX(x)", -0.0, 0.0), ("XLogX(x)", 1.0, 0.0), ("XLogX(x)", -1.0, nan),
        ("SinXDivX(x)", 0.0, 1.0), ("SinXDivX(x)", -0.0, 1.0), ("SinXDivX(x)", 1e-300, 1.0),
        ("Inv(x)", 0.0, f64::INFINITY), ("Inv(x)", -0.0, f64::NEG_INFINITY),
        ("Pow(x, -1)", 0.0, f64::INFINITY), ("Pow(x, 0)", 0.0, 1.0), ("Pow(x, 3)", -2.0, -8.0),
        ("x ** 0.5", 4.0, 2.0), ("x ** 2", -3.0, 9.0), ("2 ** x", 3.0, 8.0),
        ("Floor(x)", -0.5, -1.0), ("Floor(x)", -1e-300, -1.0),
        ("Round(x, 0)", 0.5, 1.0), ("Round(x, 0)", -0.5, -1.0), ("Round(x, 0)", 2.5, 3.0), ("Round(x, 0)", -2.5, -3.0),
        ("Round(x, 0)", 0.49999999999999994, 0.0), ("Round(x, 2)", 2.675, 2.68), ("Round(x, 2)", 1.005, 1.0),
        ("Round(x, 2)", 0.145, 0.14), ("Round(x, -1)", 15.0, 20.0), ("Round(x, -1)", 14.9, 10.0),
        ("ClampInt(x, -1, 2)", 5.0, 2.0), ("ClampInt(x, -1, 2)", -1.5, -1.0), ("ClampInt(x, -1, 2)", nan, nan),
        ("DiffClampInt(x, -1, 2)", 2.0, 1.0), ("DiffClampInt(x, -1, 2)", 2.5, 0.0), ("DiffClampInt(x, -1, 2)", nan, 1.0),
        ("IfElse(x, 1, 2)", 0.0, 1.0), ("IfElse(x, 1, 2)", -0.0, 1.0), ("IfElse(x, 1, 2)", -1e-300, 2.0),
        ("IfElse(x, 1, 2)", nan, 2.0),
        ("Mod(x, 3, 0)", -1.0, 2.0), ("Mod(x, -3, 0)", 1.0, -2.0), ("Mod(x, 3, -1)", 5.0, -1.0),
        ("Mod(x, 2, 1)", 2.5, 2.5), ("Mod(x, 0, 0)", 1.0, nan),
        ("Clamp(x, -1, 1)", 2.0, 1.0), ("Clamp(x, 1, -1)", 0.0, 1.0), ("Clamp(x, 1, -1)", 2.0, -1.0),
        ("Equal(x, 0)", -0.0, 1.0), ("NotEqual(x, x + y)", nan, 1.0), ("LessOrEqual(x, 1)", 1.0, 1.0),
        ("LessThan(x, 1)", 1.0, 0.0), ("x > 1", 2.0, 1.0), ("x >= 1", 1.0, 1.0), ("x < 1", 1.0, 0.0),
        ("Atan2(x, -1)", 0.0, std::f64::consts::PI), ("Atan2(x, -1)", -0.0, -std::f64::consts::PI),
        ("Sum(OneHot(x, 4) * IntCst(1))", 0.0, 1.0), ("ArgMax(OneHot(x, 4))", 2.5, 3.0),
        ("ArgMax(OneHot(x, 4))", 0.49, 0.0), ("ArgMax(OneHot(x, 4))", 0.5, 1.0), ("ArgMax(OneHot(x, 4))", -0.6, 0.0),
        ("Sum(OneHot(x, 4))", 3.5, 0.0), ("Sum(OneHot(x, 4))", -1.6, 0.0), ("Sum(OneHot(x, 4))", nan, 0.0),
        ("ArgMax(OneHot(x, 4))", -1.0, 0.0), ("Sum(OneHot(x, 4))", -1.0, 1.0),
        ("Norm2(Normalize(SumT(x, 3)))", 0.0, 0.0), ("Norm2(Normalize(SumT(x, 3)))", 1e-200, 0.0),
        ("Norm2(Normalize(SumT(x, 3)))", 1e200, 0.0), ("Norm2(Normalize(SumT(x, 3)))", -2.0, 1.0),
        ("x * 0 + 1", f64::INFINITY, 1.0), ("x - x", nan, 0.0),
    ];
    let mut bad = Vec::new();
    for &(f, x, want) in points {
        let got = at(f, x);
        if !same(want, got) {
            bad.push(format!("{f} at x = {x:e}: want {want:e}, got {got:e}"));
        }
    }
    assert!(
        bad.is_empty(),
        "{} mismatches:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

#[test]
fn binary_and_ternary_operations_at_edge_points() {
    let pts: &[f64] = &[
        0.0,
        -0.0,
        1.0,
        -1.0,
        2.5,
        -3.0,
        0.5,
        1e300,
        1e-300,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
    ];
    let al = aliases(&["x = Vi(1)", "y = Vj(1)", "z = Pm(1)"]);
    let mut bad = Vec::new();
    let kernel = |f: &str| {
        Kernel::build(f, None, &al, Reduction::Sum, 1).unwrap_or_else(|e| panic!("`{f}`: {e}"))
    };
    for &b in Binary::ALL {
        let name = b.name();
        // The function form and, where there is one, the operator (`>` and `>=` swap their operands).
        let mut forms = vec![(format!("{name}(x, y)"), false)];
        match b {
            Binary::Add => forms.push(("x + y".into(), false)),
            Binary::Subtract => forms.push(("x - y".into(), false)),
            Binary::Mult => forms.push(("x * y".into(), false)),
            Binary::Divide => forms.push(("x / y".into(), false)),
            Binary::Powf => forms.push(("x ** y".into(), false)),
            Binary::LessThan => forms.extend([("x < y".into(), false), ("y > x".into(), false)]),
            Binary::LessOrEqual => {
                forms.extend([("x <= y".into(), false), ("y >= x".into(), false)])
            }
            _ => {}
        }
        forms.push((format!("{name}(y, x)"), true));
        for (f, swapped) in forms {
            let k = kernel(&f);
            for &x in pts {
                for &y in pts {
                    let want = if swapped {
                        binary_spec(b, y, x)
                    } else {
                        binary_spec(b, x, y)
                    };
                    let got = eval(&k, &[&[x], &[y], &[0.0]])[0];
                    if !same(want, got) {
                        bad.push(format!(
                            "{f} at x = {x:e}, y = {y:e}: want {want:e}, got {got:e}"
                        ));
                    }
                }
            }
        }
        // Broadcasting a scalar against a vector, both ways.
        let alv = aliases(&["v = Vi(12)", "y = Vj(1)"]);
        for (f, scalar_first) in [
            (format!("{name}(v, y)"), false),
            (format!("{name}(y, v)"), true),
        ] {
            let k = Kernel::build(&f, None, &alv, Reduction::Sum, 1).unwrap();
            assert_eq!(k.dim(), 12, "`{f}`");
            for &y in pts {
                let got = eval(&k, &[pts, &[y]]);
                for (&x, &g) in pts.iter().zip(&got) {
                    let want = if scalar_first {
                        binary_spec(b, y, x)
                    } else {
                        binary_spec(b, x, y)
                    };
                    if !same(want, g) {
                        bad.push(format!(
                            "{f} at v = {x:e}, y = {y:e}: want {want:e}, got {g:e}"
                        ));
                    }
                }
            }
        }
    }
    let tpts: &[f64] = &[
        -1.0,
        0.0,
        -0.0,
        0.5,
        2.0,
        -3.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
    ];
    for &t in Ternary::ALL {
        let f = format!("{}(x, y, z)", t.name());
        let k = kernel(&f);
        for &x in tpts {
            for &y in tpts {
                for &z in tpts {
                    let (want, got) = (ternary_spec(t, x, y, z), eval(&k, &[&[x], &[y], &[z]])[0]);
                    if !same(want, got) {
                        bad.push(format!(
                            "{f} at ({x:e}, {y:e}, {z:e}): want {want:e}, got {got:e}"
                        ));
                    }
                }
            }
        }
        // A vector first operand with scalar others.
        let alv = aliases(&["v = Vi(9)", "y = Vj(1)", "z = Pm(1)"]);
        let fv = format!("{}(v, y, z)", t.name());
        let k = Kernel::build(&fv, None, &alv, Reduction::Sum, 1).unwrap();
        for (&y, &z) in tpts.iter().zip(tpts.iter().rev()) {
            for (&x, &g) in tpts.iter().zip(&eval(&k, &[tpts, &[y], &[z]])) {
                if !same(ternary_spec(t, x, y, z), g) {
                    bad.push(format!("{fv} at ({x:e}, {y:e}, {z:e}): got {g:e}"));
                }
            }
        }
    }
    // Constant folding agrees with evaluation.
    let lits = [
        (0.0, "0"),
        (-0.0, "-0"),
        (1.0, "1"),
        (-2.5, "-2.5"),
        (0.5, "0.5"),
        (f64::INFINITY, "1e999"),
    ];
    for &b in Binary::ALL {
        for (x, lx) in lits {
            for (y, ly) in lits {
                if b == Binary::Divide && y == 0.0 {
                    continue; // a division by a zero constant is an error (KeOps too)
                }
                let f = format!("{}({lx}, {ly})", b.name());
                let k = Kernel::build(&f, None, &[], Reduction::Sum, 1)
                    .unwrap_or_else(|e| panic!("`{f}`: {e}"));
                assert_eq!(k.ir.nodes.len(), 1, "`{f}` is not folded:\n{}", k.ir);
                let (want, got) = (binary_spec(b, x, y), eval(&k, &[])[0]);
                if !same(want, got) {
                    bad.push(format!("{f} folded: want {want:e}, got {got:e}"));
                }
            }
        }
    }
    assert!(
        bad.is_empty(),
        "{} mismatches:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------------
// Simplification and sharing

fn count(k: &Kernel, pred: impl Fn(&Op) -> bool) -> usize {
    k.ir.nodes.iter().filter(|n| pred(&n.op)).count()
}

#[test]
fn the_builder_simplifies_and_shares() {
    let root = |f: &str| {
        let k = build(f).unwrap_or_else(|e| panic!("`{f}`: {e}"));
        let n = k.ir.node(k.formula).clone();
        (k, n)
    };
    let (k, n) = root("x - x");
    assert_eq!((&n.op, n.dim), (&Op::Zero, 3), "{}", k.ir);
    let (k, n) = root("(x - x) * y");
    assert_eq!(
        count(&k, |o| matches!(o, Op::Binary(Binary::Mult))),
        0,
        "{}",
        k.ir
    );
    assert_eq!((&n.op, n.dim), (&Op::Zero, 3));
    let (k, _) = root("SqDist(x, y) + SqDist(x, y)");
    assert_eq!(count(&k, |o| matches!(o, Op::Sum)), 1, "{}", k.ir);
    assert_eq!(
        count(&k, |o| matches!(o, Op::Binary(Binary::Subtract))),
        1,
        "{}",
        k.ir
    );
    assert_eq!(count(&k, |o| matches!(o, Op::Var(_))), 2, "{}", k.ir);
    let (k, _) = root("Exp(-SqDist(x, y)) * b + Exp(-SqDist(x,y)) * b");
    assert_eq!(
        count(&k, |o| matches!(o, Op::Unary(Unary::Exp))),
        1,
        "{}",
        k.ir
    );
    let (k, _) = root("2 * 3 * x");
    let consts: Vec<f64> =
        k.ir.nodes
            .iter()
            .filter_map(|n| {
                if let Op::Const(c) = n.op {
                    Some(c.0)
                } else {
                    None
                }
            })
            .collect();
    assert_eq!(consts, vec![6.0], "{}", k.ir);
    let (k, _) = root("x * (2 + 3) - 4 / 2");
    assert_eq!(count(&k, |o| matches!(o, Op::Const(_))), 2, "{}", k.ir);
    for (f, what) in [
        ("-(-x)", "x"),
        ("x * 1", "x"),
        ("1 * x", "x"),
        ("x + 0", "x"),
        ("0 + x", "x"),
        ("x - 0", "x"),
    ]
    .into_iter()
    .chain([
        ("x / 1", "x"),
        ("Pow(x, 1)", "x"),
        ("x ** 1", "x"),
        ("Sum(s)", "s"),
        ("Factorize(x, y)", "x"),
    ])
    .chain([
        ("Extract(x, 0, 3)", "x"),
        ("Elem(s, 0)", "s"),
        ("SumT(s, 1)", "s"),
        ("+x", "x"),
    ]) {
        let (k, n) = root(f);
        assert_eq!(k.ir.nodes.len(), 1, "`{f}`:\n{}", k.ir);
        let Op::Var(v) = n.op else {
            panic!("`{f}` is not a variable:\n{}", k.ir)
        };
        assert_eq!(k.ir.vars[v as usize].name, what, "`{f}`");
    }
    for (f, op) in [
        ("x * x", Op::Unary(Unary::Square)),
        ("x ** 2", Op::Unary(Unary::Square)),
        ("Pow(x, 2)", Op::Unary(Unary::Square)),
        ("-1 * x", Op::Unary(Unary::Minus)),
        ("0 - x", Op::Unary(Unary::Minus)),
        ("x ** 3", Op::Unary(Unary::Pow(3))),
        ("x ** 0.5", Op::Binary(Binary::Powf)),
    ] {
        let (k, n) = root(f);
        assert_eq!(n.op, op, "`{f}`:\n{}", k.ir);
    }
    let (k, n) = root("Scalprod(x, x)");
    assert_eq!(n.op, Op::Sum, "{}", k.ir);
    assert_eq!(k.ir.node(n.args[0]).op, Op::Unary(Unary::Square));
    let (k, n) = root("x * 0 + y");
    assert!(matches!(n.op, Op::Var(_)), "{}", k.ir);
    let (k, n) = root("0 / x");
    assert_eq!((n.op, n.dim), (Op::Zero, 3), "{}", k.ir);
    let (_, n) = root("ArgMax(s)");
    assert_eq!((n.op, n.dim), (Op::Zero, 1));
    // Unused aliases stay variables of the kernel (they keep their call positions), unused nodes go.
    let (k, _) = root("x");
    assert_eq!(k.ir.vars.len(), ALIASES.len());
    assert_eq!(k.ir.nodes.len(), 1);
    // Nodes are in topological order; dependencies follow the variables.
    let (k, n) = root("Exp(-SqDist(x, y)) * b + Sum(w) * s");
    for (i, node) in k.ir.nodes.iter().enumerate() {
        assert!(node.args.iter().all(|a| a.index() < i), "{}", k.ir);
    }
    assert!(n.deps.i && n.deps.j);
    let (_, n) = root("Sum(w) * s");
    assert!(n.deps.i && !n.deps.j);
    let (_, n) = root("Sum(w) + 1");
    assert!(!n.deps.i && !n.deps.j);
}

#[test]
fn check_solve_accepts_exactly_linear_formulas() {
    let al = aliases(&[
        "x = Vi(3)",
        "y = Vj(3)",
        "a = Vj(2)",
        "b = Vj(2)",
        "g = Pm(1)",
        "s = Vi(2)",
    ]);
    let solve = |f: &str, name: &str, axis: usize| {
        let k = Kernel::build(f, None, &al, Reduction::Sum, axis)
            .unwrap_or_else(|e| panic!("`{f}`: {e}"));
        k.check_solve(name, f)
    };
    for f in [
        "Exp(-SqDist(x, y)) * a",
        "Exp(-Norm2(x - y)) * a",
        "Exp(-g * SqDist(x, y)) * a + 2 * a",
        "a * Exp(-SqDist(x, y)) - a / 3",
        "-(a * Exp(-SqDist(x, y)))",
        "Elem(a, 1) * b + Elem(a, 0) * s",
        "Concat(Elem(a, 0), Elem(a, 1) * g)",
        "SumT((a | b), 2)",
        "MatVecMult(TensorProd(b, b), a)",
        "IfElse(Sum(x), a, -a)",
    ] {
        assert_eq!(
            solve(f, "a", 1).unwrap_or_else(|e| panic!("`{f}`: {e}")),
            2,
            "`{f}`"
        );
    }
    for (f, name, axis, kind) in [
        ("Exp(a)", "a", 1, ErrorKind::NotLinear),
        ("a * a", "a", 1, ErrorKind::NotLinear),
        ("a + 1", "a", 1, ErrorKind::NotLinear),
        ("Exp(-SqDist(x, y)) * a + b", "a", 1, ErrorKind::NotLinear),
        ("Exp(-SqDist(x, y)) * b", "a", 1, ErrorKind::NotLinear),
        ("TensorProd(Elem(a, 0), a)", "a", 1, ErrorKind::NotLinear),
        ("a / Elem(a, 0)", "a", 1, ErrorKind::NotLinear),
        ("Abs(a)", "a", 1, ErrorKind::NotLinear),
        ("IfElse(Elem(a, 0), a, -a)", "a", 1, ErrorKind::NotLinear),
        ("Exp(-SqDist(x, y)) * s", "s", 1, ErrorKind::NotLinear),
        ("Exp(-SqDist(x, y)) * a", "a", 0, ErrorKind::NotLinear),
        ("Exp(-SqDist(x, y)) * Sum(a)", "a", 1, ErrorKind::Dimension),
        ("Exp(-SqDist(x, y)) * a", "z", 1, ErrorKind::UnknownVariable),
    ] {
        let e = solve(f, name, axis).expect_err(f);
        assert_eq!(
            e.kind, kind,
            "`{f}` solving `{name}` over axis {axis}: {}",
            e.message
        );
        assert_eq!(e.span.range(), 0..f.len());
    }
    let k = Kernel::build("Exp(-SqDist(x, y)) * a", None, &al, Reduction::Max, 1).unwrap();
    assert_eq!(
        k.check_solve("a", "Exp(-SqDist(x, y)) * a")
            .unwrap_err()
            .kind,
        ErrorKind::Reduction
    );
}

// ---------------------------------------------------------------------------------------------------
// No input makes the front end panic

const TOKENS: &[&str] = &[
    "x",
    "y",
    "b",
    "s",
    "c",
    "u",
    "w",
    "A",
    "z",
    "(",
    ")",
    "(",
    ")",
    "[",
    "]",
    ",",
    ",",
    "+",
    "-",
    "-",
    "*",
    "/",
    "**",
    "|",
    "<",
    "<=",
    ">",
    ">=",
    "==",
    "!=",
    "^",
    "=",
    "0",
    "1",
    "2",
    "3",
    "-1",
    "2.5",
    "1e999",
    "1e-3",
    ".5",
    "99999999999999999999",
    "4294967296",
    "9223372036854775807",
    "Exp",
    "Sum",
    "SumT",
    "Elem",
    "ElemT",
    "Extract",
    "ExtractT",
    "Concat",
    "OneHot",
    "TensorDot",
    "Kron",
    "MatVecMult",
    "VecMatMult",
    "TensorProd",
    "Var",
    "Vi",
    "Pow",
    "Powf",
    "IfElse",
    "Clamp",
    "Mod",
    "SqDist",
    "WeightedSqNorm",
    "SymSqNorm",
    "ComplexMult",
    "ComplexSumT",
    "ComplexDivide",
    "Real2Complex",
    "Conj",
    "Zero",
    "IntCst",
    "RatCst",
    "IntInv",
    "Round",
    "ClampInt",
    "Grad",
    "Foo",
    "Factorize",
    "Max",
    "ArgMin",
    "Normalize",
    "Scalprod",
    "Log",
    "Rsqrt",
];

fn token_soup() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(prop::sample::select(TOKENS), 0..40),
        any::<bool>(),
    )
        .prop_map(|(toks, spaced)| toks.join(if spaced { " " } else { "" }))
}

/// Builds `src` for a few reductions, evaluates what builds (when small), and checks that printing the
/// syntax tree and parsing it again changes nothing.
fn front_end_never_panics(src: &str) -> Result<(), TestCaseError> {
    let al = aliases(ALIASES);
    let parsed = parse(src);
    let built = Kernel::build(src, None, &al, Reduction::Sum, 1);
    for (red, f2) in [
        (Reduction::LogSumExp, None),
        (Reduction::KMin(2), None),
        (Reduction::SumSoftMaxWeight, Some(src)),
    ] {
        let _ = Kernel::build(src, f2, &al, red, 0);
    }
    if let Ok(k) = &built {
        validate(k);
    }
    if let Ok(k) = &built
        && k.ir.nodes.iter().all(|n| n.dim <= 4096)
    {
        let rows: Vec<Vec<f64>> =
            k.ir.vars
                .iter()
                .map(|v| (0..v.dim).map(|i| i as f64 - 1.5).collect())
                .collect();
        let rows: Vec<&[f64]> = rows.iter().map(Vec::as_slice).collect();
        let out = reference::eval(&k.ir, k.formula, &rows);
        prop_assert_eq!(out.len(), k.dim());
    }

    if let Ok(e) = &parsed {
        let printed = e.to_string();
        let again = parse(&printed);
        prop_assert!(
            again.is_ok(),
            "`{}` printed as `{}` does not parse: {:?}",
            src,
            printed,
            again.err()
        );
        prop_assert!(
            e.same_shape(&again.unwrap()),
            "`{}` printed as `{}`",
            src,
            printed
        );
        match (
            &built,
            Kernel::build(&printed, None, &al, Reduction::Sum, 1),
        ) {
            (Ok(a), Ok(b)) => prop_assert_eq!(a, &b, "`{}` vs `{}`", src, printed),
            (Err(a), Err(b)) => prop_assert_eq!(a.kind, b.kind, "`{}` vs `{}`", src, printed),
            (a, b) => prop_assert!(
                false,
                "`{}` gives {:?}, printed `{}` gives {:?}",
                src,
                a.is_ok(),
                printed,
                b.is_ok()
            ),
        }
    } else {
        prop_assert!(built.is_err());
    }
    Ok(())
}

/// Checks the invariants every back end relies on: topological order, variables in call order, each
/// node's dimension consistent with its operation and arguments, indices in range, no duplicate node,
/// no unreachable node, index dependencies propagated.
fn validate(k: &Kernel) {
    let ir = &k.ir;
    let dims: Vec<usize> = ir.nodes.iter().map(|n| n.dim).collect();
    for (i, v) in ir.vars.iter().enumerate() {
        assert_eq!(v.index, i, "variables in call order:\n{ir}");
    }
    let mut seen = std::collections::HashSet::new();
    let mut used = vec![false; ir.nodes.len()];
    for r in std::iter::once(k.formula).chain(k.formula2) {
        used[r.index()] = true;
    }
    for (i, n) in ir.nodes.iter().enumerate().rev() {
        if used[i] {
            for a in &n.args {
                used[a.index()] = true;
            }
        }
    }
    for (i, n) in ir.nodes.iter().enumerate() {
        let ctx = || format!("node %{i} ({}):\n{ir}", n.op);
        assert!(used[i], "unreachable {}", ctx());
        assert!(n.args.iter().all(|a| a.index() < i), "order: {}", ctx());
        assert!(seen.insert((&n.op, &n.args, n.dim)), "duplicate {}", ctx());
        assert!(n.dim >= 1, "empty {}", ctx());
        let ad: Vec<usize> = n.args.iter().map(|a| dims[a.index()]).collect();
        let arity = match &n.op {
            Op::Var(_) | Op::Const(_) | Op::Zero => 0,
            Op::Unary(_)
            | Op::Sum
            | Op::SumT
            | Op::Max
            | Op::Min
            | Op::ArgMax
            | Op::ArgMin
            | Op::Select(_)
            | Op::Place(_)
            | Op::OneHot => 1,
            Op::Binary(_) | Op::Scalprod | Op::Concat | Op::TensorDot(_) => 2,
            Op::Ternary(_) => 3,
        };
        assert_eq!(ad.len(), arity, "arity of {}", ctx());
        let ok = match &n.op {
            Op::Var(v) => ir.vars.get(*v as usize).is_some_and(|v| v.dim == n.dim),
            Op::Const(_) => n.dim == 1,
            Op::Zero => true,
            Op::Unary(_) => ad[0] == n.dim,
            Op::Binary(_) | Op::Ternary(_) => {
                ad.iter().all(|&d| d == n.dim || d == 1) && ad.iter().max() == Some(&n.dim)
            }
            Op::Sum | Op::Max | Op::Min | Op::ArgMax | Op::ArgMin => n.dim == 1,
            Op::SumT | Op::OneHot => ad[0] == 1,
            Op::Scalprod => ad[0] == ad[1] && n.dim == 1,
            Op::Select(idx) => idx.len() == n.dim && idx.iter().all(|&j| (j as usize) < ad[0]),
            Op::Place(idx) => {
                let mut sorted = idx.clone();
                sorted.sort();
                sorted.dedup();
                idx.len() == ad[0]
                    && sorted.len() == idx.len()
                    && idx.iter().all(|&j| (j as usize) < n.dim)
            }
            Op::Concat => n.dim == ad[0] + ad[1],
            Op::TensorDot(terms) => terms.iter().all(|&[o, a, b]| {
                (o as usize) < n.dim && (a as usize) < ad[0] && (b as usize) < ad[1]
            }),
        };
        assert!(ok, "dimensions {ad:?} -> {} of {}", n.dim, ctx());
        let (mut di, mut dj) = (false, false);
        if let Op::Var(v) = n.op {
            di = ir.vars[v as usize].cat == Cat::Vi;
            dj = ir.vars[v as usize].cat == Cat::Vj;
        }
        for a in &n.args {
            di |= ir.node(*a).deps.i;
            dj |= ir.node(*a).deps.j;
        }
        assert_eq!((n.deps.i, n.deps.j), (di, dj), "dependencies of {}", ctx());
    }
}

/// Syntactically valid formulas over [`ALIASES`], most of them well-typed.
fn formula() -> impl Strategy<Value = String> {
    const LEAVES: &[&str] = &[
        "x",
        "y",
        "b",
        "s",
        "t",
        "c",
        "d",
        "u",
        "w",
        "A",
        "e",
        "0",
        "1",
        "2",
        "-1",
        "2.5",
        "0.5",
        "Var(12, 2, 1)",
    ];
    const UNARY: &[&str] = &[
        "Exp",
        "Log",
        "Sqrt",
        "Rsqrt",
        "Inv",
        "Abs",
        "Sign",
        "Step",
        "ReLU",
        "Floor",
        "XLogX",
        "SinXDivX",
        "Minus",
        "Square",
        "Sum",
        "Max",
        "ArgMin",
        "SqNorm2",
        "Norm2",
        "Normalize",
        "ComplexReal",
        "ComplexAbs",
        "ComplexAngle",
        "Real2Complex",
        "Imag2Complex",
        "ComplexExp1j",
        "Conj",
        "ComplexExp",
        "ComplexSum",
    ];
    const BINARY: &[&str] = &[
        "Add",
        "Subtract",
        "Mult",
        "Divide",
        "Powf",
        "Atan2",
        "Equal",
        "LessThan",
        "Scalprod",
        "SqDist",
        "Concat",
        "MatVecMult",
        "VecMatMult",
        "TensorProd",
        "WeightedSqNorm",
        "SymSqNorm",
        "SqNormIso",
        "SqNormDiag",
        "ComplexAdd",
        "ComplexMult",
        "ComplexDivide",
        "ComplexRealScal",
        "Factorize",
    ];
    const WITH_INT: &[&str] = &["Pow", "Round", "SumT", "OneHot", "Elem", "ComplexSumT"];
    const WITH_TWO_INTS: &[&str] = &["ClampInt", "Extract", "ExtractT", "ElemT"];
    const TERNARY: &[&str] = &["IfElse", "Clamp", "Mod", "WeightedSqDist"];
    const OPS: &[&str] = &["+", "-", "*", "/", "|", "<", ">=", "**"];
    let leaf = prop::sample::select(LEAVES).prop_map(str::to_string);
    leaf.prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            (inner.clone(), prop::sample::select(OPS), inner.clone())
                .prop_map(|(a, o, b)| format!("({a} {o} {b})")),
            inner.clone().prop_map(|a| format!("-{a}")),
            (prop::sample::select(UNARY), inner.clone()).prop_map(|(f, a)| format!("{f}({a})")),
            (prop::sample::select(BINARY), inner.clone(), inner.clone())
                .prop_map(|(f, a, b)| format!("{f}({a}, {b})")),
            (prop::sample::select(WITH_INT), inner.clone(), -1i32..7)
                .prop_map(|(f, a, n)| format!("{f}({a}, {n})")),
            (
                prop::sample::select(WITH_TWO_INTS),
                inner.clone(),
                -1i32..4,
                0i32..7
            )
                .prop_map(|(f, a, n, m)| format!("{f}({a}, {n}, {m})")),
            (
                prop::sample::select(TERNARY),
                inner.clone(),
                inner.clone(),
                inner.clone()
            )
                .prop_map(|(f, a, b, c)| format!("{f}({a}, {b}, {c})")),
            (
                inner.clone(),
                inner.clone(),
                1usize..4,
                1usize..4,
                any::<bool>()
            )
                .prop_map(|(a, b, p, q, dot)| {
                    if dot {
                        format!("TensorDot({a}, {b}, [{p}, {q}], [{q}], [1], [0])")
                    } else {
                        format!("Kron({a}, {b}, [{p}], [{q}])")
                    }
                }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn generated_formulas_check_consistently(src in formula()) {
        prop_assert!(parse(&src).is_ok(), "`{}` does not parse", src);
        front_end_never_panics(&src)?;
    }

    #[test]
    fn arbitrary_strings_never_panic(src in any::<String>()) {
        front_end_never_panics(&src)?;
    }

    #[test]
    fn printable_strings_never_panic(src in "[ -~]{0,60}") {
        front_end_never_panics(&src)?;
    }

    #[test]
    fn token_soups_never_panic(src in token_soup()) {
        front_end_never_panics(&src)?;
    }

    #[test]
    fn aliases_never_panic(src in "[ -~]{0,30}", soup in token_soup()) {
        let _ = Alias::parse(&src);
        let _ = Alias::parse(&format!("x = {soup}"));
    }
}

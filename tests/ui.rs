//! Compile-time error messages of the `keops!` macro: one case per class of error, `.stderr` snapshots
//! reviewed by hand (`TRYBUILD=overwrite cargo test --test ui` to regenerate, then read the diff).

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/lex/*.rs");
    t.compile_fail("tests/ui/parse/*.rs");
    t.compile_fail("tests/ui/alias/*.rs");
    t.compile_fail("tests/ui/ops/*.rs");
    t.compile_fail("tests/ui/dims/*.rs");
    t.compile_fail("tests/ui/solve/*.rs");
    t.compile_fail("tests/ui/reduction/*.rs");
    t.compile_fail("tests/ui/macro-syntax/*.rs");
    t.compile_fail("tests/ui/fallback/*.rs");
    t.pass("tests/ui/pass/*.rs");
}

//! What the type system must refuse: sending an uninitialized loan, a
//! payload that is not ZeroCopySend, a sample used after its port is gone.

#[test]
fn misuse_does_not_compile() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}

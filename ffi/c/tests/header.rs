//! The checked-in `include/icefloe.h` is what cbindgen makes of the
//! sources now (`ICEFLOE_BLESS=1 cargo test -p icefloe-c --test header`
//! writes it).

#[test]
fn the_checked_in_header_is_current() {
    let generated = include_str!(concat!(env!("OUT_DIR"), "/icefloe.h"));
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/include/icefloe.h");
    if std::env::var_os("ICEFLOE_BLESS").is_some() {
        std::fs::write(path, generated).expect("include/icefloe.h is writable");
    }
    let checked_in = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "ffi/c/include/icefloe.h is stale: run `ICEFLOE_BLESS=1 cargo test -p icefloe-c --test header` and commit it"
    );
}

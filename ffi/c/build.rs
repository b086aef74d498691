//! Generates `icefloe.h` from the crate's `extern "C"` items into OUT_DIR;
//! `tests/header.rs` fails when the checked-in `include/icefloe.h` differs
//! (`ICEFLOE_BLESS=1 cargo test -p icefloe-c --test header` updates it).

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("icefloe.h");
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    let config = cbindgen::Config::from_file(format!("{dir}/cbindgen.toml")).expect("cbindgen.toml is readable");
    cbindgen::Builder::new()
        .with_config(config)
        .with_src(format!("{dir}/src/lib.rs"))
        .generate()
        .expect("the C header generates")
        .write_to_file(out);
}

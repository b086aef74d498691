//! What the fuzz targets share: a prefix of their own in `/dev/shm`, the
//! segments under it, and a hostile peer's writes into them.
//!
//! Every target builds real services with the Linux platform, lets the
//! ports use them, then writes what the fuzzer chose into the live shared
//! memory (the service segment, the data segments) through a mapping of
//! its own, as a corrupt or hostile process would, and drives the ports
//! again. Whatever the bytes, the library must answer with values or
//! errors: a panic, a crash, a hang or a read outside a mapping is a find.

use std::os::unix::fs::FileExt;

/// This process's prefix (fuzz runs in parallel do not meet).
pub fn prefix() -> String {
    format!("fz{}_", std::process::id())
}

/// A node under [`prefix`].
pub fn node() -> icefloe_linux::Node {
    icefloe_linux::NodeBuilder::new().prefix(&prefix()).unwrap().create().unwrap()
}

/// Names under the prefix in `/dev/shm`, services (`…s`) first.
pub fn segments() -> Vec<String> {
    let p = prefix();
    let mut names: Vec<String> = std::fs::read_dir("/dev/shm")
        .map(|d| {
            d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).filter(|n| n.starts_with(&p)).collect()
        })
        .unwrap_or_default();
    names.sort_by_key(|n| (!n.ends_with('s'), n.clone()));
    names
}

/// Removes everything under the prefix (after each input).
pub fn scrub() {
    for n in segments() {
        let _ = std::fs::remove_file(format!("/dev/shm/{n}"));
    }
}

/// Applies a hostile peer's writes: the input read as records of 8 bytes
/// (segment selector, 24-bit word offset, 32-bit value), each written at
/// a 4-aligned offset past the header of one of the live segments.
/// Returns how many.
pub fn corrupt(input: &[u8]) -> usize {
    let names = segments();
    if names.is_empty() {
        return 0;
    }
    let files: Vec<(std::fs::File, u64)> = names
        .iter()
        .filter_map(|n| {
            let f = std::fs::OpenOptions::new().read(true).write(true).open(format!("/dev/shm/{n}")).ok()?;
            let len = f.metadata().ok()?.len();
            (len >= 4).then_some((f, len))
        })
        .collect();
    if files.is_empty() {
        return 0;
    }
    let mut n = 0;
    for rec in input.chunks_exact(8) {
        let (f, len) = &files[rec[0] as usize % files.len()];
        // Past the 64-byte header: a header that is not ready only makes
        // an opener wait for its creator (`open_segment` covers the rest).
        if *len <= 64 {
            continue;
        }
        let off = 64 + u64::from(u32::from_le_bytes([rec[1], rec[2], rec[3], 0])) * 4 % ((len - 64) / 4 * 4);
        if f.write_all_at(&rec[4..8], off).is_ok() {
            n += 1;
        }
    }
    n
}

/// A payload the targets send through `[u8]` slices and decode again
/// (postcard frames).
#[derive(Debug, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct Frame<'a> {
    pub seq: u32,
    pub name: &'a str,
    pub values: [u16; 4],
}

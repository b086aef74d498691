//! Shared memory and files the peer (iceoryx2) keeps after its processes
//! end: the run removes what it created (what was not there before).

use std::collections::BTreeSet;
use std::path::PathBuf;

fn places() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir("/dev/shm")
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("iox2_"))
        .map(|e| e.path())
        .collect();
    for dir in ["/tmp/iceoryx2/nodes", "/tmp/iceoryx2/services"] {
        v.extend(std::fs::read_dir(dir).into_iter().flatten().flatten().map(|e| e.path()));
    }
    v
}

/// What exists now.
pub fn snapshot() -> BTreeSet<PathBuf> {
    places().into_iter().collect()
}

/// Removes what exists now but did not at `before`.
pub fn remove_new(before: &BTreeSet<PathBuf>) {
    for p in places() {
        if !before.contains(&p) {
            let _ = if p.is_dir() { std::fs::remove_dir_all(&p) } else { std::fs::remove_file(&p) };
        }
    }
    for dir in ["/tmp/iceoryx2/nodes", "/tmp/iceoryx2/services", "/tmp/iceoryx2"] {
        let _ = std::fs::remove_dir(dir); // only if empty
    }
}

//! The core's platform conformance suite against the QNX platform's POSIX
//! part, on this host.

/// What a check left in the shared-memory directory under its prefix: nothing.
fn nothing_left(prefix: &str) {
    let left: Vec<_> = std::fs::read_dir("/dev/shm")
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
        .collect();
    assert!(left.is_empty(), "the check left segments behind: {left:?}");
}

/// This run's part of every check's prefix: `q` and the process id.
fn base() -> String {
    format!("q{}", std::process::id() % 10_000)
}

// One test per check of the suite.
icefloe_core::conformance_tests!(icefloe_qnx::Qnx, base(), nothing_left);

//! The core's platform conformance suite against the QNX platform's POSIX
//! part, on this host.

use icefloe_core::platform::Platform;

/// What a check left under its prefix, as the platform lists it (in
/// `/dev/shmem` on QNX, `/dev/shm` here): nothing.
fn nothing_left(prefix: &str) {
    let mut left = Vec::new();
    icefloe_qnx::Qnx::shm_list(prefix, &mut |name| {
        left.push(name.to_owned());
        true
    })
    .unwrap();
    assert!(left.is_empty(), "the check left segments behind: {left:?}");
}

/// This run's part of every check's prefix: `q` and the process id.
fn base() -> String {
    format!("q{}", std::process::id() % 10_000)
}

// One test per check of the suite.
icefloe_core::conformance_tests!(icefloe_qnx::Qnx, base(), nothing_left);

//! The core's platform conformance suite against Linux.

mod common;

/// What a check left in the shared-memory directory under its prefix: nothing.
fn nothing_left(prefix: &str) {
    let left = common::shm_left(prefix);
    assert!(left.is_empty(), "the check left segments behind: {left:?}");
}

/// This run's part of every check's prefix: `c` and the process id.
fn base() -> String {
    format!("c{}", std::process::id() % 10_000)
}

// One test per check of the suite.
icefloe_core::conformance_tests!(icefloe_linux::Linux, base(), nothing_left);

#[test]
fn futex_wakes_a_waiter_in_another_thread() {
    use icefloe_core::platform::{Platform, WaitOutcome};
    use icefloe_core::sync::SignalWord;
    use icefloe_linux::Linux;
    use std::sync::atomic::Ordering;
    use std::time::Duration;
    let word = SignalWord::new(0);
    std::thread::scope(|s| {
        let waiter = s.spawn(|| loop {
            if word.load(Ordering::SeqCst) == 1 {
                return true;
            }
            if Linux::signal_wait(&word, 0, Some(Duration::from_secs(20))) == WaitOutcome::TimedOut {
                return false;
            }
        });
        std::thread::sleep(Duration::from_millis(20));
        word.store(1, Ordering::SeqCst);
        Linux::signal_wake_all(&word);
        assert!(waiter.join().unwrap(), "waiter was not woken within 20 s");
    });
}

//! Crash points: named places in the protocols where a test can make the
//! process die (feature `crash-points`, for tests only).
//!
//! Every protocol step that spans several writes to shared memory or to the
//! OS (create a segment, record it, publish a slot; unlink segments, free a
//! slot) has a point between its writes. A test child process installs a
//! hook with `set_hook` that kills the process (SIGKILL) at the point it
//! was told, and the test then checks that a cleanup by another process
//! recovers everything: that is how each documented crash window is shown
//! closed (see the recovery argument in the docs of `shm`, "Crash recovery, step by step").
//!
//! Without the feature the points compile to nothing.

#[cfg(feature = "crash-points")]
static HOOK: spin::Once<fn(&'static str)> = spin::Once::new();

/// Installs the function every crash point calls with its name (once per
/// process; later calls are ignored).
#[cfg(feature = "crash-points")]
pub fn set_hook(hook: fn(&'static str)) {
    HOOK.call_once(|| hook);
}

/// Calls the hook, if one is installed, with the point's name.
#[cfg(feature = "crash-points")]
#[inline(never)]
pub fn hit(point: &'static str) {
    if let Some(hook) = HOOK.get() {
        hook(point);
    }
}

/// Every crash point, for tests that visit them all.
pub const POINTS: &[&str] = &[
    "shm.created_unsized",
    "sender.open.claimed",
    "sender.open.recorded",
    "sender.segment.created",
    "sender.grow.recorded",
    "sender.grow.created",
    "sender.drop.leaving",
    "sender.drop.unlinked",
    "cleanup.node.dead",
    "cleanup.port.read",
    "cleanup.port.unlinked",
    "node.claimed",
    "cleanup.node.ports_done",
    "destroy.marked",
    "destroy.data_unlinked",
];

/// A named crash point (nothing without the feature `crash-points`).
macro_rules! crash_point {
    ($name:literal) => {
        #[cfg(feature = "crash-points")]
        $crate::crash::hit($name);
    };
}
pub(crate) use crash_point;

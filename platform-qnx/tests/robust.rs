//! The robust process-shared mutex the QNX platform's liveness is built
//! on, across processes on this host: a holder SIGKILLed in the middle of
//! an update does not block the next locker, the guarded state it left
//! half-written is repaired, and the mutex goes on working.
#![cfg(target_os = "linux")]
// The guarded state is plain atomics in a test segment.
#![allow(clippy::disallowed_types)]

#[path = "../../platform-linux/tests/common/mod.rs"]
mod common;

use common::{arg, listen, role, say, Peer};
use icefloe_core::platform::{Access, Permissions, Platform, SharedMemory};
use icefloe_qnx::robust::{Robust, RobustError, RobustMutex, Taken};
use icefloe_qnx::Qnx;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// What the mutex guards: `a == b` whenever nobody holds the lock;
/// `in_progress` says an update was under way.
#[repr(C)]
struct Pair {
    in_progress: AtomicU32,
    a: AtomicU32,
    b: AtomicU32,
}

#[repr(C)]
struct Shared {
    guarded: Robust<Pair>,
    bare: RobustMutex,
}

fn segment_name(tag: &str) -> String {
    format!("rb{}_{tag}", std::process::id() % 100_000)
}

fn shared(shm: &impl SharedMemory) -> &Shared {
    assert!(shm.len() >= std::mem::size_of::<Shared>());
    // SAFETY: the segment is at least that large and 64-aligned; every
    // field is an atomic or a process-shared mutex.
    unsafe { &*shm.as_ptr().cast::<Shared>() }
}

/// Unlinks the test's segment when the test ends, also when it fails.
struct Unlink(String);

impl Drop for Unlink {
    fn drop(&mut self) {
        let _ = Qnx::shm_unlink(&self.0);
    }
}

/// A fresh segment holding an unlocked `Shared` with `a == b == 7`.
fn create(name: &str) -> <Qnx as Platform>::Shm {
    let shm = Qnx::shm_create(name, 4096, Permissions::OwnerOnly).unwrap();
    let at = shm.as_ptr().cast::<Shared>();
    let pair = Pair { in_progress: AtomicU32::new(0), a: AtomicU32::new(7), b: AtomicU32::new(7) };
    // SAFETY: fresh, zero-filled, aligned memory nobody else has opened.
    unsafe {
        Robust::init(std::ptr::addr_of_mut!((*at).guarded), pair).unwrap();
        RobustMutex::init(std::ptr::addr_of_mut!((*at).bare)).unwrap();
    }
    shm
}

#[test]
fn child() {
    let Some(role) = role() else { return };
    let shm = Qnx::shm_open(&arg("SEGMENT"), Access::ReadWrite).unwrap();
    let s = shared(&shm);
    match role.as_str() {
        // Takes the guarded lock, writes half an update, and is killed.
        "half_update" => {
            let guard = s.guarded.lock(|_| panic!("nobody died yet")).unwrap();
            guard.in_progress.store(1, Ordering::SeqCst);
            guard.a.fetch_add(1, Ordering::SeqCst);
            say("holding", "");
            listen("never");
        }
        // Takes the bare mutex and is killed.
        "hold_bare" => {
            assert_eq!(s.bare.lock(), Ok(Taken::Acquired));
            say("holding", "");
            listen("never");
        }
        other => panic!("unknown role {other}"),
    }
}

#[test]
fn a_holder_killed_mid_update_leaves_a_lock_that_recovers_its_state() {
    let name = segment_name("mid");
    let _unlink = Unlink(name.clone());
    let shm = create(&name);
    let s = shared(&shm);
    let mut holder = Peer::spawn("child", "half_update", "unused_", &[("SEGMENT", name.clone())]);
    holder.expect("holding");
    assert_eq!(s.guarded.try_lock(|_| {}).err(), Some(RobustError::Busy), "the child's lock is not held");
    std::thread::scope(|scope| {
        // A locker waiting while the holder dies is let in.
        let waiter = scope.spawn(|| {
            let mut seen = None;
            let guard = s
                .guarded
                .lock(|p| {
                    seen = Some((
                        p.in_progress.load(Ordering::SeqCst),
                        p.a.load(Ordering::SeqCst),
                        p.b.load(Ordering::SeqCst),
                    ));
                    // Roll the half-done update back.
                    if p.in_progress.load(Ordering::SeqCst) == 1 {
                        p.a.store(p.b.load(Ordering::SeqCst), Ordering::SeqCst);
                        p.in_progress.store(0, Ordering::SeqCst);
                    }
                })
                .expect("the lock of a dead holder");
            let state = (guard.recovered(), guard.a.load(Ordering::SeqCst), guard.b.load(Ordering::SeqCst));
            (seen, state)
        });
        std::thread::sleep(Duration::from_millis(100));
        holder.kill9();
        let (seen, (recovered, a, b)) = waiter.join().unwrap();
        assert_eq!(seen, Some((1, 8, 7)), "the repair did not see what the dead holder left");
        assert!(recovered, "the owner's death was not reported");
        assert_eq!((a, b), (7, 7), "the guarded state was not recovered");
    });
    holder.reap();
    // Consistent again: plain locking, nothing to recover.
    for _ in 0..3 {
        let guard = s.guarded.lock(|_| panic!("recovered twice")).unwrap();
        assert!(!guard.recovered());
        guard.a.fetch_add(1, Ordering::SeqCst);
        guard.b.fetch_add(1, Ordering::SeqCst);
    }
    let guard = s.guarded.try_lock(|_| panic!("recovered twice")).unwrap();
    assert_eq!((guard.a.load(Ordering::SeqCst), guard.b.load(Ordering::SeqCst)), (10, 10));
    drop(guard);
    drop(shm);
    Qnx::shm_unlink(&name).unwrap();
    assert!(Qnx::shm_open(&name, Access::ReadOnly).is_err());
}

#[test]
fn a_dead_owners_mutex_released_without_being_made_consistent_is_lost_for_good() {
    // What `Robust` guards against (it always makes the mutex consistent):
    // the OS's own rule, seen here so that a change of it shows.
    let name = segment_name("lost");
    let _unlink = Unlink(name.clone());
    let shm = create(&name);
    let s = shared(&shm);
    let mut holder = Peer::spawn("child", "hold_bare", "unused_", &[("SEGMENT", name.clone())]);
    holder.expect("holding");
    holder.kill9();
    holder.reap();
    assert_eq!(s.bare.try_lock(), Ok(Taken::OwnerDied));
    s.bare.unlock();
    assert_eq!(s.bare.try_lock(), Err(RobustError::NotRecoverable));
    // (A blocking `lock` of it waits forever on glibc 2.36 instead of
    // failing: the liveness checks only ever `try_lock`.)
    drop(shm);
    Qnx::shm_unlink(&name).unwrap();
    assert!(Qnx::shm_open(&name, Access::ReadOnly).is_err());
}

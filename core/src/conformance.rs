//! The platform conformance suite: every platform crate runs it against its
//! implementation (in its tests, with the `conformance` feature), so that all
//! backends behave alike.
//!
//! Each check panics with a message naming the broken promise. `prefix` must
//! be unique to the run (tests run in parallel) and valid for segment names.

use crate::platform::{Access, Liveness, Permissions, Platform, SharedMemory, ShmError, WaitOutcome};
use crate::sync::{Ordering, SignalWord};
use core::time::Duration;
use heapless::String;

fn name(prefix: &str, suffix: &str) -> String<31> {
    let mut s = String::new();
    s.push_str(prefix).expect("prefix fits");
    s.push_str(suffix).expect("suffix fits");
    s
}

/// One `#[test]` per check against `$platform`, so that the first broken
/// promise does not hide the others: `icefloe_core::conformance_tests!(Linux,
/// base(), nothing_left)` in a platform crate's tests. `$base` (a `&str`, or
/// anything that derefs to one, evaluated in each test) names the run, for
/// example by its process id; each test adds the check's initials to it
/// ([`check_prefix`]), so they run in parallel, and `$after(prefix)` runs
/// after each (to check nothing is left). The expansion needs no `std`.
#[macro_export]
macro_rules! conformance_tests {
    ($platform:ty, $base:expr, $after:expr) => {
        $crate::conformance_tests!(@one $platform, $base, $after, shared_memory, "sm", prefix);
        $crate::conformance_tests!(@one $platform, $base, $after, discovery, "di", prefix);
        $crate::conformance_tests!(@one $platform, $base, $after, signal, "sg");
        $crate::conformance_tests!(@one $platform, $base, $after, liveness, "lv");
        $crate::conformance_tests!(@one $platform, $base, $after, clock, "ck");
        $crate::conformance_tests!(@one $platform, $base, $after, events, "ev", prefix);
        $crate::conformance_tests!(@one $platform, $base, $after, waitset, "ws", prefix);
    };
    (@one $platform:ty, $base:expr, $after:expr, $check:ident, $tag:literal $(, $arg:ident)?) => {
        #[test]
        fn $check() {
            let base = $base;
            let prefix = $crate::conformance::check_prefix(&base, $tag);
            $(let $arg: &str = &prefix;)?
            $crate::conformance::$check::<$platform>($($arg)?);
            ($after)(prefix.as_str());
        }
    };
}

/// The segment prefix of one check: `base`, the check's `tag`, `_`.
pub fn check_prefix(base: &str, tag: &str) -> String<31> {
    let mut s = name(base, tag);
    s.push('_').expect("prefix fits");
    s
}

/// Runs every check (in one test, for platforms that run one test per
/// process, as the FreeRTOS simulator does).
pub fn run_all<P: Platform>(prefix: &str) {
    shared_memory::<P>(prefix);
    discovery::<P>(prefix);
    signal::<P>();
    liveness::<P>();
    clock::<P>();
    events::<P>(prefix);
    waitset::<P>(prefix);
}

/// Create is exclusive and zero-fills; open sees the same bytes; read-only
/// mappings work; unlink removes the name but not existing mappings.
pub fn shared_memory<P: Platform>(prefix: &str) {
    let n = name(prefix, "cshm");
    let _ = P::shm_unlink(&n);
    let a = P::shm_create(&n, 8192, Permissions::OwnerOnly).expect("create");
    assert!(a.len() >= 8192, "mapping shorter than requested");
    assert_eq!(a.as_ptr() as usize % 64, 0, "mapping not 64-byte aligned");
    // SAFETY: the mapping is valid for `len` bytes while `a` lives.
    let bytes = unsafe { core::slice::from_raw_parts_mut(a.as_ptr(), a.len()) };
    assert!(bytes.iter().all(|&b| b == 0), "new segment not zero-filled");
    bytes[100] = 0xab;
    assert!(
        matches!(P::shm_create(&n, 8192, Permissions::OwnerOnly), Err(ShmError::AlreadyExists)),
        "create is not exclusive"
    );
    let b = P::shm_open(&n, Access::ReadWrite).expect("open");
    assert!(b.len() >= 8192);
    // SAFETY: as above for `b`.
    assert_eq!(unsafe { *b.as_ptr().add(100) }, 0xab, "open does not see the creator's bytes");
    let c = P::shm_open(&n, Access::ReadOnly).expect("open read-only");
    // SAFETY: as above for `c`.
    assert_eq!(unsafe { *c.as_ptr().add(100) }, 0xab);
    P::shm_unlink(&n).expect("unlink");
    assert!(matches!(P::shm_open(&n, Access::ReadWrite), Err(ShmError::DoesNotExist)), "unlinked name still opens");
    assert_eq!(P::shm_unlink(&n), Err(ShmError::DoesNotExist));
    // SAFETY: existing mappings stay valid after unlink.
    assert_eq!(unsafe { *a.as_ptr().add(100) }, 0xab, "unlink broke an existing mapping");
    assert!(matches!(P::shm_open(&name(prefix, "none"), Access::ReadOnly), Err(ShmError::DoesNotExist)));
    assert!(P::shm_create("bad/name", 64, Permissions::OwnerOnly).is_err(), "invalid name accepted");
}

/// Listing finds exactly the segments under a prefix.
pub fn discovery<P: Platform>(prefix: &str) {
    let names = [name(prefix, "da"), name(prefix, "db")];
    let held: [P::Shm; 2] = names.clone().map(|n| P::shm_create(&n, 64, Permissions::OwnerOnly).expect("create"));
    let mut found = 0;
    let mut foreign = 0;
    P::shm_list(prefix, &mut |n| {
        if names.iter().any(|m| m.as_str() == n) {
            found += 1;
        } else if !n.starts_with(prefix) {
            foreign += 1;
        }
        true
    })
    .expect("list");
    assert_eq!(found, 2, "listing missed a segment");
    assert_eq!(foreign, 0, "listing returned a name outside the prefix");
    for n in &names {
        P::shm_unlink(n).expect("unlink");
    }
    drop(held);
}

/// A wait on a word that differs returns at once; a wait on an unchanged
/// word times out.
pub fn signal<P: Platform>() {
    let w = SignalWord::new(5);
    assert_eq!(P::signal_wait(&w, 4, Some(Duration::from_secs(5))), WaitOutcome::Woken, "wait on changed word blocked");
    let t0 = P::now();
    assert_eq!(P::signal_wait(&w, 5, Some(Duration::from_millis(20))), WaitOutcome::TimedOut);
    assert!(P::now() - t0 >= Duration::from_millis(15), "timed wait returned early");
    w.store(6, Ordering::SeqCst);
    P::signal_wake_all(&w);
    // Waiting on several words: any that differs ends it; none, it times out.
    let (a, b) = (SignalWord::new(1), SignalWord::new(2));
    assert_eq!(
        P::signal_wait_any(&[(&a, 1), (&b, 3)], Some(Duration::from_secs(5))),
        WaitOutcome::Woken,
        "wait on several words blocked though one differed"
    );
    let t0 = P::now();
    assert_eq!(P::signal_wait_any(&[(&a, 1), (&b, 2)], Some(Duration::from_millis(20))), WaitOutcome::TimedOut);
    assert!(P::now() - t0 >= Duration::from_millis(15), "timed wait on several words returned early");
}

/// This participant is alive; an id never handed out is not.
pub fn liveness<P: Platform>() {
    let me = P::liveness_self();
    assert_eq!(P::liveness_check(me), Liveness::Alive);
    assert_eq!(P::liveness_self(), me, "liveness id not stable");
    let mut other = me;
    other.0[1] ^= 0x5a5a;
    assert_ne!(P::liveness_check(other), Liveness::Alive, "a reused id with another start is alive");
}

/// Time is monotonic and sleeping takes at least the time asked.
pub fn clock<P: Platform>() {
    let a = P::now();
    P::sleep(Duration::from_millis(5)).expect("no termination request");
    let b = P::now();
    assert!(b >= a + Duration::from_millis(5), "sleep returned early or clock not monotonic");
}

/// Events through this platform's shared memory and waits: notifications
/// coalesce with counts, a timed wait with nothing pending times out, an id
/// out of range is refused, and the service leaves nothing behind. (Waking a
/// sleeper from another thread or task needs threads: each platform's own
/// tests do that.)
pub fn events<P: Platform>(prefix: &str) {
    use crate::{EventId, NodeBuilder, NotifierNotifyError, ServiceName};
    use core::borrow::Borrow;
    {
        let node = NodeBuilder::<P>::new().prefix(prefix).expect("prefix").create().expect("node");
        let event = node
            .service_builder(&ServiceName::new("conformance/event").expect("name"))
            .event()
            .event_id_max_value(15)
            .create()
            .expect("event service");
        let event: &crate::Event<P> = event.borrow();
        let listener = event.listener_builder().create().expect("listener");
        let notifier = event.notifier_builder().default_event_id(EventId::new(3)).create().expect("notifier");
        assert_eq!(notifier.notify(), Ok(1), "the listener was not reached");
        assert_eq!(notifier.notify(), Ok(1));
        assert_eq!(notifier.notify_with_custom_event_id(EventId::new(15)), Ok(1));
        assert_eq!(
            notifier.notify_with_custom_event_id(EventId::new(16)),
            Err(NotifierNotifyError::EventIdOutOfBounds)
        );
        let mut got = [(0u32, 0u32); 4];
        let mut n = 0;
        let delivered = listener
            .timed_wait(Duration::from_secs(5), |e| {
                got[n] = (e.id.as_value(), e.count);
                n += 1;
            })
            .expect("wait");
        assert_eq!(delivered, 2);
        assert_eq!(&got[..n], &[(3, 2), (15, 1)], "notifications did not coalesce into counts");
        let t0 = P::now();
        assert_eq!(listener.timed_wait(Duration::from_millis(20), |_| panic!("nothing was sent")), Ok(0));
        assert!(P::now() - t0 >= Duration::from_millis(15), "a timed wait returned early");
    }
    let mut left = 0;
    P::shm_list(prefix, &mut |_| {
        left += 1;
        true
    })
    .expect("list");
    assert_eq!(left, 0, "the event service left segments behind");
}

/// A WaitSet on this platform: a pending listener fires at once, an
/// interval fires after its period, a timeout with nothing due calls nothing.
pub fn waitset<P: Platform>(prefix: &str) {
    use crate::{CallbackProgression, NodeBuilder, ServiceName, WaitSet, WaitSetRunResult};
    use core::borrow::Borrow;
    {
        let node = NodeBuilder::<P>::new().prefix(prefix).expect("prefix").create().expect("node");
        let event = node
            .service_builder(&ServiceName::new("conformance/waitset").expect("name"))
            .event()
            .create()
            .expect("event service");
        let event: &crate::Event<P> = event.borrow();
        let listener = event.listener_builder().create().expect("listener");
        let notifier = event.notifier_builder().create().expect("notifier");
        let waitset = WaitSet::<P, 4>::new();
        let on_listener = waitset.attach_notification(&listener).expect("attach listener");
        notifier.notify().expect("notify");
        let mut hits = 0;
        let r = waitset
            .wait_and_process_once_with_timeout(
                |id| {
                    assert!(id.has_event_from(&on_listener));
                    hits += 1;
                    CallbackProgression::Continue
                },
                Duration::from_secs(5),
            )
            .expect("run");
        assert_eq!((r, hits), (WaitSetRunResult::AllEventsHandled, 1), "a pending listener did not fire");
        listener.try_wait(|_| {}).expect("take");
        let t0 = P::now();
        let r = waitset
            .wait_and_process_once_with_timeout(|_| panic!("nothing was due"), Duration::from_millis(20))
            .expect("run");
        assert_eq!(r, WaitSetRunResult::AllEventsHandled);
        assert!(P::now() - t0 >= Duration::from_millis(15), "a WaitSet timeout ended early");
        let tick = waitset.attach_interval(Duration::from_millis(10)).expect("attach interval");
        let t0 = P::now();
        let mut ticked = false;
        waitset
            .wait_and_process_once_with_timeout(
                |id| {
                    ticked |= id.has_event_from(&tick);
                    CallbackProgression::Stop
                },
                Duration::from_secs(5),
            )
            .expect("run");
        assert!(ticked, "the interval did not fire");
        assert!(P::now() - t0 >= Duration::from_millis(8), "the interval fired early");
    }
}

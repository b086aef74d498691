//! Events: coalescing, limits, created/dropped/dead events, deadlines,
//! waking across threads and processes, no system call without a sleeper,
//! and a ping-pong stress across two processes.

mod common;

use common::*;
use icefloe_linux::prelude::*;
use icefloe_linux::{futex_calls, ListenerCreateError, NotifierCreateError, ServiceCreateError, ServiceOpenError};
use std::sync::mpsc;
use std::time::Duration;

const WATCHDOG: Duration = Duration::from_secs(20);

fn name(s: &str) -> ServiceName {
    ServiceName::new(s).unwrap()
}

fn drain(listener: &Listener) -> Vec<(u32, u32)> {
    let mut got = Vec::new();
    listener.try_wait(|e| got.push((e.id.as_value(), e.count))).unwrap();
    got
}

#[test]
fn notifications_coalesce_per_id_with_counts_and_reach_every_listener() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let event = node.service_builder(&name("ev")).event().create().unwrap();
        assert_eq!((event.max_notifiers(), event.max_listeners(), event.max_nodes()), (16, 16, 36));
        assert_eq!(event.event_id_max_value(), 255);
        let a = event.listener_builder().create().unwrap();
        let b = event.listener_builder().create().unwrap();
        let notifier = event.notifier_builder().default_event_id(EventId::new(4)).create().unwrap();
        for _ in 0..3 {
            assert_eq!(notifier.notify().unwrap(), 2, "both listeners reached");
        }
        notifier.notify_with_custom_event_id(EventId::new(255)).unwrap();
        notifier.notify_with_custom_event_id(EventId::new(0)).unwrap();
        assert_eq!(drain(&a), [(0, 1), (4, 3), (255, 1)]);
        assert_eq!(drain(&a), [], "collected events are gone");
        assert_eq!(drain(&b), [(0, 1), (4, 3), (255, 1)], "each listener counts on its own");
        drop(b);
        assert_eq!(notifier.notify().unwrap(), 1);
        // A listener created later does not see earlier notifications.
        let late = event.listener_builder().create().unwrap();
        assert_eq!(drain(&late), []);
        assert_eq!(drain(&a), [(4, 1)]);
    }
    assert_clean(&prefix);
}

#[test]
fn ids_out_of_range_and_slot_limits_are_typed_errors() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let event = node
            .service_builder(&name("ev"))
            .event()
            .event_id_max_value(9)
            .max_notifiers(1)
            .max_listeners(1)
            .create()
            .unwrap();
        let listener = event.listener_builder().create().unwrap();
        assert_eq!(event.listener_builder().create().err(), Some(ListenerCreateError::ExceedsMaxSupportedListeners));
        assert_eq!(
            event.notifier_builder().default_event_id(EventId::new(10)).create().err(),
            Some(NotifierCreateError::EventIdOutOfBounds)
        );
        let notifier = event.notifier_builder().create().unwrap();
        assert_eq!(event.notifier_builder().create().err(), Some(NotifierCreateError::ExceedsMaxSupportedNotifiers));
        assert_eq!(
            notifier.notify_with_custom_event_id(EventId::new(10)),
            Err(NotifierNotifyError::EventIdOutOfBounds)
        );
        assert_eq!(drain(&listener), [], "a refused id sends nothing");
        notifier.notify_with_custom_event_id(EventId::new(9)).unwrap();
        assert_eq!(drain(&listener), [(9, 1)]);
        // QoS out of range at creation.
        let bad = |b: icefloe_core::EventBuilder<'_, Linux>| b.create().err();
        assert_eq!(
            bad(node.service_builder(&name("bad1")).event().event_id_max_value(3).notifier_dead_event(EventId::new(4))),
            Some(ServiceCreateError::InvalidQos("notifier_dead_event"))
        );
        assert_eq!(
            bad(node.service_builder(&name("bad2")).event().max_listeners(0)),
            Some(ServiceCreateError::InvalidQos("max_listeners"))
        );
        assert_eq!(
            bad(node.service_builder(&name("bad3")).event().event_id_max_value(1 << 20)),
            Some(ServiceCreateError::InvalidQos("event_id_max_value"))
        );
    }
    assert_clean(&prefix);
}

#[test]
fn created_and_dropped_notifiers_announce_themselves() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let event = node
            .service_builder(&name("ev"))
            .event()
            .notifier_created_event(EventId::new(1))
            .notifier_dropped_event(EventId::new(2))
            .create()
            .unwrap();
        let listener = event.listener_builder().create().unwrap();
        let n1 = event.notifier_builder().create().unwrap();
        let n2 = event.notifier_builder().create().unwrap();
        assert_eq!(drain(&listener), [(1, 2)]);
        drop(n1);
        assert_eq!(drain(&listener), [(2, 1)]);
        n2.notify().unwrap();
        drop(n2);
        assert_eq!(drain(&listener), [(0, 1), (2, 1)]);
    }
    assert_clean(&prefix);
}

#[test]
fn opening_with_other_event_qos_is_refused_variant_by_variant() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let _event = node
            .service_builder(&name("ev"))
            .event()
            .max_notifiers(2)
            .max_listeners(3)
            .max_nodes(4)
            .event_id_max_value(7)
            .notifier_created_event(EventId::new(1))
            .notifier_dead_event(EventId::new(3))
            .deadline(Duration::from_secs(1))
            .create()
            .unwrap();
        let open = || node.service_builder(&name("ev")).event();
        use ServiceOpenError as E;
        assert_eq!(open().max_notifiers(3).open().err(), Some(E::DoesNotSupportRequestedAmountOfNotifiers(cap(2, 3))));
        assert_eq!(open().max_listeners(4).open().err(), Some(E::DoesNotSupportRequestedAmountOfListeners(cap(3, 4))));
        assert_eq!(open().max_nodes(5).open().err(), Some(E::DoesNotSupportRequestedAmountOfNodes(cap(4, 5))));
        assert_eq!(open().event_id_max_value(8).open().err(), Some(E::DoesNotSupportRequestedMaxEventId(cap(7, 8))));
        assert_eq!(
            open().notifier_created_event(EventId::new(2)).open().err(),
            Some(E::IncompatibleNotifierCreatedEvent)
        );
        assert_eq!(open().disable_notifier_created_event().open().err(), Some(E::IncompatibleNotifierCreatedEvent));
        assert_eq!(
            open().notifier_dropped_event(EventId::new(2)).open().err(),
            Some(E::IncompatibleNotifierDroppedEvent)
        );
        assert_eq!(open().notifier_dead_event(EventId::new(2)).open().err(), Some(E::IncompatibleNotifierDeadEvent));
        assert_eq!(open().deadline(Duration::from_secs(2)).open().err(), Some(E::IncompatibleDeadline));
        assert_eq!(open().disable_deadline().open().err(), Some(E::IncompatibleDeadline));
        // What matches opens; smaller requests are fine.
        let same = open()
            .max_notifiers(2)
            .max_listeners(1)
            .event_id_max_value(7)
            .notifier_created_event(EventId::new(1))
            .disable_notifier_dropped_event()
            .notifier_dead_event(EventId::new(3))
            .deadline(Duration::from_secs(1))
            .open()
            .unwrap();
        assert_eq!(same.deadline(), Some(Duration::from_secs(1)));
        assert_eq!(same.notifier_dead_event(), Some(EventId::new(3)));
        // Another pattern of the same name is another service.
        assert_eq!(node.service_builder(&name("ev")).publish_subscribe::<u64>().open().err(), Some(E::DoesNotExist));
    }
    assert_clean(&prefix);
}

#[test]
fn a_deadline_is_reported_when_missed_and_not_otherwise() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let strict =
            node.service_builder(&name("strict")).event().deadline(Duration::from_millis(10)).create().unwrap();
        let relaxed =
            node.service_builder(&name("relaxed")).event().deadline(Duration::from_secs(60)).create().unwrap();
        let listener = strict.listener_builder().create().unwrap();
        let late = strict.notifier_builder().create().unwrap();
        let timely = relaxed.notifier_builder().create().unwrap();
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(late.notify(), Err(NotifierNotifyError::MissedDeadline { delivered: 1 }));
        assert_eq!(drain(&listener), [(0, 1)], "a late notification still goes out");
        assert_eq!(timely.notify(), Ok(0));
        assert_eq!(timely.notify(), Ok(0));
        assert_eq!(late.deadline(), Some(Duration::from_millis(10)));
    }
    assert_clean(&prefix);
}

#[test]
fn a_sleeping_listener_wakes_on_a_notification_from_another_thread() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let event = node.service_builder(&name("ev")).event().create().unwrap();
        let listener = event.listener_builder().create().unwrap();
        // Nothing pending: a timed wait times out with nothing.
        assert_eq!(listener.timed_wait(Duration::from_millis(20), |_| panic!("no event was sent")).unwrap(), 0);
        std::thread::scope(|s| {
            let (tx, rx) = mpsc::channel();
            let listener = &listener;
            s.spawn(move || {
                let mut got = Vec::new();
                let n = listener.blocking_wait(|e| got.push((e.id.as_value(), e.count))).unwrap();
                tx.send((n, got)).unwrap();
            });
            let notifier = event.notifier_builder().default_event_id(EventId::new(3)).create().unwrap();
            // Give the listener time to fall asleep (the test passes either way).
            std::thread::sleep(Duration::from_millis(50));
            notifier.notify().unwrap();
            let (n, got) = rx.recv_timeout(WATCHDOG).expect("watchdog: the sleeping listener was not woken");
            assert_eq!((n, got), (1, vec![(3, 1)]));
        });
    }
    assert_clean(&prefix);
}

#[test]
fn a_notification_nobody_sleeps_on_makes_no_system_call() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let event = node.service_builder(&name("ev")).event().create().unwrap();
        let listener = event.listener_builder().create().unwrap();
        let notifier = event.notifier_builder().create().unwrap();
        // Other tests of this binary run in parallel threads and may make
        // futex calls of their own; this one's count is its own only if it
        // runs alone, so it is checked in a child process.
        if role().as_deref() != Some("quiet") {
            let mut child = Peer::spawn("a_notification_nobody_sleeps_on_makes_no_system_call", "quiet", &prefix, &[]);
            child.expect("done");
            assert!(child.wait(WATCHDOG), "the child's checks failed (its output is above)");
            return;
        }
        let before = futex_calls();
        for _ in 0..10_000 {
            notifier.notify().unwrap();
        }
        assert_eq!(futex_calls(), before, "a notification with nobody asleep made a system call");
        assert_eq!(drain(&listener), [(0, 10_000)]);
        // With a sleeper, the notification wakes it: one wake call.
        std::thread::scope(|s| {
            let (tx, rx) = mpsc::channel();
            let listener = &listener;
            s.spawn(move || {
                let n = listener.timed_wait(WATCHDOG, |_| {}).unwrap();
                tx.send(n).unwrap();
            });
            eventually(WATCHDOG, "the listener to sleep", || (futex_calls().waits > before.waits).then_some(()));
            std::thread::sleep(Duration::from_millis(20));
            notifier.notify().unwrap();
            assert_eq!(rx.recv_timeout(WATCHDOG).expect("watchdog: listener not woken"), 1);
        });
        assert!(futex_calls().wakes > before.wakes, "the sleeper was woken without a wake call?");
        say("done", "");
    }
    if role().is_none() {
        assert_clean(&prefix);
    }
}

/// Round trips of the ping-pong: 500,000 (a million notify/wait pairs);
/// ten times as many with `ICEFLOE_STRESS=1`.
fn rounds() -> u32 {
    if std::env::var("ICEFLOE_STRESS").is_ok() {
        5_000_000
    } else {
        500_000
    }
}

/// Ping-pong: the parent notifies id 1 and sleeps until the child answers
/// id 2, `rounds()` times (two notify/wait pairs per round); the child
/// waits without a timeout, so a lost wake-up hangs, and the parent's
/// watchdog fails the test.
#[test]
fn ping_pong_across_processes_loses_no_wake_up() {
    if role().as_deref() == Some("pong") {
        let prefix = arg("ICEFLOE_TEST_PREFIX");
        let node = node(&prefix);
        let ping = node.service_builder(&name("ping")).event().open().unwrap();
        let pong = node.service_builder(&name("pong")).event().open().unwrap();
        let listener = ping.listener_builder().create().unwrap();
        let notifier = pong.notifier_builder().default_event_id(EventId::new(2)).create().unwrap();
        say("ready", "");
        let n: u32 = arg("ROUNDS").parse().unwrap();
        let mut seen = 0u32;
        while seen < n {
            listener
                .blocking_wait(|e| {
                    assert_eq!(e.id.as_value(), 1);
                    seen += e.count;
                })
                .unwrap();
            notifier.notify().unwrap();
        }
        assert_eq!(seen, n, "more pings than sent");
        say("done", seen);
        return;
    }
    if role().is_some() {
        return;
    }
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let ping = node.service_builder(&name("ping")).event().create().unwrap();
        let pong = node.service_builder(&name("pong")).event().create().unwrap();
        let listener = pong.listener_builder().create().unwrap();
        let notifier = ping.notifier_builder().default_event_id(EventId::new(1)).create().unwrap();
        let n = rounds();
        let mut child =
            Peer::spawn("ping_pong_across_processes_loses_no_wake_up", "pong", &prefix, &[("ROUNDS", n.to_string())]);
        child.expect("ready");
        let started = std::time::Instant::now();
        for round in 0..n {
            assert_eq!(notifier.notify().unwrap(), 1);
            let mut answered = 0;
            while answered == 0 {
                let got = listener
                    .timed_wait(WATCHDOG, |e| {
                        assert_eq!(e.id.as_value(), 2);
                        answered += e.count;
                    })
                    .unwrap();
                assert!(got > 0, "watchdog: no answer to ping {round} within {WATCHDOG:?} (lost wake-up)");
            }
            assert_eq!(answered, 1, "one answer per ping");
        }
        let elapsed = started.elapsed();
        assert_eq!(child.expect("done"), n.to_string());
        assert!(child.wait(WATCHDOG));
        println!("{n} ping-pong rounds across two processes in {elapsed:?}");
    }
    assert_clean(&prefix);
}

/// A notifier killed with SIGKILL: once its node is cleaned up, every
/// listener gets the service's `notifier_dead_event`, and its slot is free.
#[test]
fn a_killed_notifier_sends_its_dead_event_on_cleanup() {
    if role().as_deref() == Some("doomed") {
        let prefix = arg("ICEFLOE_TEST_PREFIX");
        let node = node(&prefix);
        let event = node.service_builder(&name("ev")).event().open().unwrap();
        let notifier = event.notifier_builder().create().unwrap();
        notifier.notify_with_custom_event_id(EventId::new(5)).unwrap();
        say("ready", "");
        listen("never");
        return;
    }
    if role().is_some() {
        return;
    }
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let event = node
            .service_builder(&name("ev"))
            .event()
            .max_notifiers(1)
            .notifier_created_event(EventId::new(1))
            .notifier_dead_event(EventId::new(9))
            .create()
            .unwrap();
        let listener = event.listener_builder().create().unwrap();
        let mut child = Peer::spawn("a_killed_notifier_sends_its_dead_event_on_cleanup", "doomed", &prefix, &[]);
        child.expect("ready");
        assert_eq!(drain(&listener), [(1, 1), (5, 1)]);
        assert_eq!(event.notifier_builder().create().err(), Some(NotifierCreateError::ExceedsMaxSupportedNotifiers));
        std::thread::scope(|s| {
            let (tx, rx) = mpsc::channel();
            let listener = &listener;
            s.spawn(move || {
                let mut got = Vec::new();
                listener.blocking_wait(|e| got.push((e.id.as_value(), e.count))).unwrap();
                tx.send(got).unwrap();
            });
            child.kill9();
            let cleaned = eventually(WATCHDOG, "the dead notifier's node to be cleaned", || {
                let c = node.cleanup_dead_nodes();
                (c.cleanups > 0).then_some(c.cleanups)
            });
            assert_eq!(cleaned, 1);
            let got = rx.recv_timeout(WATCHDOG).expect("watchdog: the dead event did not wake the listener");
            assert_eq!(got, [(9, 1)]);
        });
        child.reap();
        // Its slot is free again.
        let again = event.notifier_builder().create().unwrap();
        assert_eq!(drain(&listener), [(1, 1)]);
        drop(again);
    }
    assert_clean(&prefix);
}

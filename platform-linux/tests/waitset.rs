//! WaitSet: the right attachment fires among many, deadlines missed and
//! not, interval cadence, capacity and misuse errors, stop requests,
//! attaching from a callback, Ctrl-C.

mod common;

use common::*;
use icefloe_linux::prelude::*;
use icefloe_linux::{WaitSetAttachmentError, WaitSetRunError};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const WATCHDOG: Duration = Duration::from_secs(20);

fn name(s: &str) -> ServiceName {
    ServiceName::new(s).unwrap()
}

#[test]
fn among_many_attachments_the_one_that_was_sent_to_fires() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let events: Vec<Event> =
            (0..6).map(|i| node.service_builder(&name(&format!("ev{i}"))).event().create().unwrap()).collect();
        let listeners: Vec<Listener> = events.iter().map(|e| e.listener_builder().create().unwrap()).collect();
        let ps = node.service_builder(&name("ps")).publish_subscribe::<u64>().create().unwrap();
        let subscriber = ps.subscriber_builder().create().unwrap();
        let rr = node.service_builder(&name("rr")).request_response::<u64, u64>().create().unwrap();
        let server = rr.server_builder().create().unwrap();
        let client = rr.client_builder().create().unwrap();
        let pending = client.send_copy(1).unwrap();

        let waitset = WaitSet::<16>::new();
        let lguards: Vec<_> = listeners.iter().map(|l| waitset.attach_notification(l).unwrap()).collect();
        let sguard = waitset.attach_notification(&subscriber).unwrap();
        let rguard = waitset.attach_notification(&server).unwrap();
        assert_eq!(waitset.len(), 8);

        // The request the client sent: the server fires, nothing else.
        let mut fired = Vec::new();
        waitset
            .wait_and_process_once_with_timeout(
                |id| {
                    fired.push(id);
                    CallbackProgression::Continue
                },
                WATCHDOG,
            )
            .unwrap();
        assert_eq!(fired.len(), 1);
        assert!(fired[0].has_event_from(&rguard) && !fired[0].has_missed_deadline(&rguard));
        let request = server.receive().unwrap().unwrap();
        let pguard = waitset.attach_notification(&pending).unwrap();

        std::thread::scope(|s| {
            let (tx, rx) = mpsc::channel::<usize>();
            let (events, ps) = (&events, &ps);
            s.spawn(move || {
                let notifiers: Vec<_> = events.iter().map(|e| e.notifier_builder().create().unwrap()).collect();
                let publisher = ps.publisher_builder().create().unwrap();
                for which in rx {
                    std::thread::sleep(Duration::from_millis(5));
                    if which < notifiers.len() {
                        notifiers[which].notify().unwrap();
                    } else {
                        publisher.send_copy(which as u64).unwrap();
                    }
                }
            });
            for which in [3usize, 0, 5, 6, 2, 6, 1, 4] {
                tx.send(which).unwrap();
                let mut fired = Vec::new();
                let started = Instant::now();
                while fired.is_empty() {
                    waitset
                        .wait_and_process_once_with_timeout(
                            |id| {
                                fired.push(id);
                                CallbackProgression::Continue
                            },
                            WATCHDOG,
                        )
                        .unwrap();
                    assert!(started.elapsed() < WATCHDOG, "watchdog: nothing fired for attachment {which}");
                }
                assert_eq!(fired.len(), 1, "exactly one attachment fires for {which}");
                if which < 6 {
                    assert!(fired[0].has_event_from(&lguards[which]), "listener {which} did not fire");
                    assert!(lguards.iter().enumerate().all(|(i, g)| i == which || !fired[0].has_event_from(g)));
                    listeners[which].try_wait(|_| {}).unwrap();
                } else {
                    assert!(fired[0].has_event_from(&sguard), "the subscriber did not fire");
                    assert_eq!(*subscriber.receive().unwrap().unwrap(), 6);
                }
            }
            drop(tx);
        });
        // The response, then the end of the stream, wake the pending response.
        request.send_copy(10).unwrap();
        let mut fired = Vec::new();
        waitset
            .wait_and_process_once(|id| {
                fired.push(id);
                CallbackProgression::Continue
            })
            .unwrap();
        assert!(fired.len() == 1 && fired[0].has_event_from(&pguard));
        assert_eq!(*pending.receive().unwrap().unwrap(), 10);
        drop(request);
        fired.clear();
        waitset
            .wait_and_process_once(|id| {
                fired.push(id);
                CallbackProgression::Continue
            })
            .unwrap();
        assert!(fired.len() == 1 && fired[0].has_event_from(&pguard), "the stream's end does not fire");
        drop(pguard);
        drop(lguards);
        drop((sguard, rguard));
        assert!(waitset.is_empty());
    }
    assert_clean(&prefix);
}

#[test]
fn a_deadline_fires_when_missed_and_not_when_kept() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let event = node.service_builder(&name("ev")).event().create().unwrap();
        let listener = event.listener_builder().create().unwrap();
        let notifier = event.notifier_builder().create().unwrap();
        let waitset = WaitSet::<4>::new();
        let guard = waitset.attach_deadline(&listener, Duration::from_millis(100)).unwrap();
        // Kept: a notification comes well within the deadline.
        notifier.notify().unwrap();
        let mut fired = Vec::new();
        waitset
            .wait_and_process_once(|id| {
                fired.push(id);
                CallbackProgression::Continue
            })
            .unwrap();
        assert!(fired.len() == 1 && fired[0].has_event_from(&guard) && !fired[0].has_missed_deadline(&guard));
        listener.try_wait(|_| {}).unwrap();
        // Missed: silence for longer than the deadline.
        fired.clear();
        let started = Instant::now();
        waitset
            .wait_and_process_once_with_timeout(
                |id| {
                    fired.push(id);
                    CallbackProgression::Continue
                },
                WATCHDOG,
            )
            .unwrap();
        assert!(fired.len() == 1 && fired[0].has_missed_deadline(&guard), "the missed deadline did not fire");
        assert!(started.elapsed() >= Duration::from_millis(90), "the deadline fired before it was missed");
        assert!(started.elapsed() < WATCHDOG);
    }
    assert_clean(&prefix);
}

#[test]
fn an_interval_keeps_its_cadence() {
    let waitset = WaitSet::<2>::new();
    let guard = waitset.attach_interval(Duration::from_millis(20)).unwrap();
    let started = Instant::now();
    let mut ticks = 0;
    let result = waitset
        .wait_and_process(|id| {
            assert!(id.has_event_from(&guard));
            ticks += 1;
            if ticks == 25 {
                CallbackProgression::Stop
            } else {
                CallbackProgression::Continue
            }
        })
        .unwrap();
    let elapsed = started.elapsed();
    assert_eq!(result, WaitSetRunResult::StopRequest);
    // 25 ticks of 20 ms: never early; late by at most what a loaded 2-core
    // machine may add (generous).
    assert!(elapsed >= Duration::from_millis(480), "25 ticks of 20 ms in {elapsed:?}: too fast");
    assert!(elapsed < Duration::from_secs(5), "25 ticks of 20 ms in {elapsed:?}: far too slow");
}

#[test]
fn capacity_duplicates_and_emptiness_are_typed_errors() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let event = node.service_builder(&name("ev")).event().create().unwrap();
        let a = event.listener_builder().create().unwrap();
        let b = event.listener_builder().create().unwrap();
        let waitset = WaitSet::<2>::new();
        assert_eq!(
            waitset.wait_and_process_once(|_| CallbackProgression::Continue),
            Err(WaitSetRunError::NoAttachments)
        );
        let ga = waitset.attach_notification(&a).unwrap();
        assert_eq!(waitset.attach_notification(&a).err(), Some(WaitSetAttachmentError::AlreadyAttached));
        assert_eq!(
            waitset.attach_deadline(&a, Duration::from_secs(1)).err(),
            Some(WaitSetAttachmentError::AlreadyAttached)
        );
        let _gb = waitset.attach_notification(&b).unwrap();
        assert_eq!(
            waitset.attach_interval(Duration::from_secs(1)).err(),
            Some(WaitSetAttachmentError::InsufficientCapacity)
        );
        drop(ga);
        let _again = waitset.attach_notification(&a).unwrap();
        assert_eq!(waitset.capacity(), 2);
    }
    assert_clean(&prefix);
}

#[test]
fn a_callback_may_stop_the_run_and_attach_more() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let event = node.service_builder(&name("ev")).event().create().unwrap();
        let listener = event.listener_builder().create().unwrap();
        let notifier = event.notifier_builder().create().unwrap();
        let waitset = WaitSet::<4>::new();
        let tick = waitset.attach_interval(Duration::from_millis(5)).unwrap();
        let mut later = None;
        let mut listener_fired = false;
        notifier.notify().unwrap();
        let result = waitset
            .wait_and_process(|id| {
                if id.has_event_from(&tick) && later.is_none() {
                    // Attaching from inside the callback works.
                    later = Some(waitset.attach_notification(&listener).unwrap());
                    return CallbackProgression::Continue;
                }
                if later.as_ref().is_some_and(|g| id.has_event_from(g)) {
                    listener_fired = true;
                    listener.try_wait(|_| {}).unwrap();
                    return CallbackProgression::Stop;
                }
                CallbackProgression::Continue
            })
            .unwrap();
        assert_eq!(result, WaitSetRunResult::StopRequest);
        assert!(listener_fired);
    }
    assert_clean(&prefix);
}

#[test]
fn ctrl_c_ends_wait_and_process() {
    if role().as_deref() == Some("waiter") {
        let prefix = arg("ICEFLOE_TEST_PREFIX");
        let node = node(&prefix);
        let event = node.service_builder(&name("ev")).event().open().unwrap();
        let listener = event.listener_builder().create().unwrap();
        let waitset = WaitSet::<2>::new();
        // Either a port, or (ONLY_TIMER) nothing but a long interval.
        let _g = if std::env::var("ONLY_TIMER").is_ok() {
            waitset.attach_interval(Duration::from_secs(3600)).unwrap()
        } else {
            waitset.attach_notification(&listener).unwrap()
        };
        say("ready", std::process::id());
        let r = waitset.wait_and_process(|_| CallbackProgression::Continue);
        say("ended", format!("{r:?}"));
        return;
    }
    if role().is_some() {
        return;
    }
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let _event = node.service_builder(&name("ev")).event().create().unwrap();
        for only_timer in [false, true] {
            let args: &[(&str, String)] = if only_timer { &[("ONLY_TIMER", String::new())] } else { &[] };
            let mut child = Peer::spawn("ctrl_c_ends_wait_and_process", "waiter", &prefix, args);
            child.expect("ready");
            std::thread::sleep(Duration::from_millis(100));
            child.signal(libc::SIGINT);
            assert_eq!(child.expect("ended"), "Ok(Interrupt)", "only a timer attached: {only_timer}");
            assert!(child.wait(WATCHDOG));
        }
    }
    assert_clean(&prefix);
}

#[test]
fn an_attachment_kept_as_a_token_fires_until_detached() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let event = node.service_builder(&name("token")).event().create().unwrap();
        let listener = event.listener_builder().create().unwrap();
        let notifier = event.notifier_builder().create().unwrap();
        let waitset = WaitSet::<4>::new();
        let token = waitset.attach_notification(&listener).unwrap().into_token();
        let tick = waitset.attach_interval(Duration::from_secs(3600)).unwrap().into_token();
        assert_eq!(waitset.len(), 2, "a token keeps its attachment");
        notifier.notify().unwrap();
        let mut fired = Vec::new();
        waitset
            .wait_and_process_once_with_timeout(
                |id| {
                    fired.push((id.has_event_from_token(&token), id.has_event_from_token(&tick), id.token() == token));
                    CallbackProgression::Continue
                },
                WATCHDOG,
            )
            .unwrap();
        assert_eq!(fired, vec![(true, false, true)]);
        listener.try_wait(|_| {}).unwrap();
        assert!(waitset.detach(token));
        assert!(!waitset.detach(token), "detached once");
        assert_eq!(waitset.len(), 1);
        notifier.notify().unwrap();
        let mut calls = 0;
        waitset
            .wait_and_process_once_with_timeout(
                |_| {
                    calls += 1;
                    CallbackProgression::Continue
                },
                Duration::from_millis(50),
            )
            .unwrap();
        assert_eq!(calls, 0, "a detached listener wakes nothing");
        // The listener can be attached again.
        let again = waitset.attach_notification(&listener).unwrap();
        drop(again);
    }
    assert_clean(&prefix);
}

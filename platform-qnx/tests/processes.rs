//! The QNX platform's POSIX part across real processes on this host:
//! publish-subscribe and request-response with blocking waits on both
//! sides (every wake crosses processes through the sleeper slots),
//! Ctrl-C ending a blocked wait, and peers killed with SIGKILL detected by
//! their robust-mutex liveness records, also from another PID namespace.
//!
//! Each test re-runs this binary as child processes: the `child` test does
//! nothing unless `ICEFLOE_TEST_ROLE` is set.
#![cfg(target_os = "linux")]

#[path = "../../platform-linux/tests/common/mod.rs"]
mod common;

use common::{arg, assert_clean, listen, role, say, unique_prefix, Peer};
use icefloe_core::platform::{Liveness, LivenessId, Platform};
use icefloe_qnx::prelude::*;
use icefloe_qnx::{BackpressureStrategy, Qnx};
use std::time::{Duration, Instant};

const WATCHDOG: Duration = Duration::from_secs(60);

fn node(prefix: &str) -> Node {
    NodeBuilder::new().prefix(prefix).unwrap().create().unwrap()
}

fn stream() -> ServiceName {
    ServiceName::new("qnx/stream").unwrap()
}

fn calls() -> ServiceName {
    ServiceName::new("qnx/calls").unwrap()
}

/// A small queue without overflow: a fast publisher must wait for the
/// subscriber to make room, so wakes run both ways.
fn stream_service(node: &Node) -> PublishSubscribe<u64> {
    node.service_builder(&stream())
        .publish_subscribe::<u64>()
        .subscriber_max_buffer_size(4)
        .enable_safe_overflow(false)
        .open_or_create()
        .unwrap()
}

fn calls_service(node: &Node) -> RequestResponse<[u8], u64> {
    node.service_builder(&calls())
        .request_response::<[u8], u64>()
        .max_active_requests_per_client(2)
        .max_response_buffer_size(4)
        .enable_safe_overflow_for_responses(false)
        .open_or_create()
        .unwrap()
}

#[test]
fn child() {
    let Some(role) = role() else { return };
    let prefix = arg("ICEFLOE_TEST_PREFIX");
    let node = node(&prefix);
    match role.as_str() {
        // Publishes 0..N, waiting (blocking backpressure) whenever the
        // subscriber's queue is full.
        "publisher" => {
            let n: u64 = arg("N").parse().unwrap();
            let service = stream_service(&node);
            let publisher = service
                .publisher_builder()
                .backpressure_strategy(BackpressureStrategy::RetryUntilDelivered)
                .create()
                .unwrap();
            let deadline = Instant::now() + WATCHDOG;
            while service.number_of_subscribers() == 0 {
                assert!(Instant::now() < deadline, "no subscriber came");
                std::thread::sleep(Duration::from_millis(1));
            }
            for i in 0..n {
                assert_eq!(publisher.send_copy(i).unwrap(), 1, "sample {i} reached no subscriber");
            }
            let calls = icefloe_qnx::wake_calls();
            assert!(calls.posts > 0, "no send woke the sleeping subscriber: {calls:?}");
            assert_eq!(calls.polls, 0, "a wait fell back to polling: {calls:?}");
            say("done", n);
        }
        // Answers every request of `len` bytes with three responses: the
        // byte sum, the length, and the request's first byte.
        "server" => {
            let n: u64 = arg("N").parse().unwrap();
            let service = calls_service(&node);
            let server = service.server_builder().create().unwrap();
            say("ready", "");
            for _ in 0..n {
                let request = server.blocking_receive().unwrap();
                let data: &[u8] = &request;
                let sum: u64 = data.iter().map(|b| u64::from(*b)).sum();
                let (len, first) = (data.len() as u64, u64::from(data.first().copied().unwrap_or(0)));
                for v in [sum, len, first] {
                    request.send_copy(v).unwrap();
                }
            }
            say("done", n);
        }
        // Blocks in a receive nobody answers until SIGINT ends it.
        "blocked" => {
            let service = stream_service(&node);
            let sub = service.subscriber_builder().create().unwrap();
            say("ready", std::process::id());
            let outcome = sub.blocking_receive().map(|s| *s);
            match outcome {
                Err(ReceiveError::Interrupt) => say("interrupted", ""),
                other => panic!("a blocked receive ended with {other:?}"),
            }
        }
        // Sleeps in a receive until killed.
        "asleep" => {
            let service = stream_service(&node);
            let sub = service.subscriber_builder().create().unwrap();
            say("ready", "");
            let _ = sub.blocking_receive().map(|s| *s);
            panic!("woken, but nobody sends");
        }
        // Tells the parent its liveness id, then waits to be killed.
        "alive" => {
            let LivenessId([a, b, c]) = Qnx::liveness_self();
            say("id", format!("{a} {b} {c}"));
            listen("never");
        }
        other => panic!("unknown role {other}"),
    }
}

#[test]
fn samples_cross_processes_with_blocking_waits_on_both_sides() {
    let prefix = unique_prefix();
    const N: u64 = 20_000;
    {
        let node = node(&prefix);
        let service = stream_service(&node);
        let sub = service.subscriber_builder().create().unwrap();
        let publisher = Peer::spawn("child", "publisher", &prefix, &[("N", N.to_string())]);
        for expected in 0..N {
            let sample = sub.timed_receive(WATCHDOG).unwrap().unwrap_or_else(|| panic!("watchdog: sample {expected}"));
            assert_eq!(*sample, expected, "samples lost, duplicated or reordered");
        }
        assert!(publisher.wait(WATCHDOG), "the publisher failed");
        assert!(sub.receive().unwrap().is_none(), "more samples than were sent");
        // The waits slept in the service segment's slots, not polled.
        let calls = icefloe_qnx::wake_calls();
        assert!(calls.sleeps > 0, "the subscriber never slept: {calls:?}");
        assert_eq!(calls.polls, 0, "a wait fell back to polling: {calls:?}");
    }
    assert_clean(&prefix);
}

#[test]
fn requests_get_streams_of_three_responses_across_processes() {
    let prefix = unique_prefix();
    const N: u64 = 500;
    {
        let node = node(&prefix);
        let service = calls_service(&node);
        let client = service
            .client_builder()
            .initial_max_slice_len(1)
            .allocation_strategy(AllocationStrategy::PowerOfTwo)
            .create()
            .unwrap();
        let mut server = Peer::spawn("child", "server", &prefix, &[("N", N.to_string())]);
        server.expect("ready");
        for round in 1..=N {
            let len = (round * round % 70_000) as usize + 1;
            let mut request =
                client.loan_slice_uninit(len).unwrap().write_from_fn(|i| ((i as u64 + round) % 251) as u8);
            let expected_sum: u64 = (0..len).map(|i| (i as u64 + round) % 251).sum();
            let _ = &mut request;
            let pending = request.send().unwrap();
            let mut got = Vec::new();
            while got.len() < 3 {
                let r = pending.timed_receive(WATCHDOG).unwrap().unwrap_or_else(|| panic!("watchdog: round {round}"));
                got.push(*r);
            }
            assert_eq!(got, vec![expected_sum, len as u64, round % 251], "round {round}: wrong responses");
        }
        assert!(server.wait(WATCHDOG), "the server failed");
    }
    assert_clean(&prefix);
}

#[test]
fn ctrl_c_ends_a_receive_blocked_in_another_process() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let _service = stream_service(&node);
        let mut blocked = Peer::spawn("child", "blocked", &prefix, &[]);
        blocked.expect("ready");
        // Let it reach its sleep.
        std::thread::sleep(Duration::from_millis(200));
        blocked.signal(libc::SIGINT);
        blocked.expect("interrupted");
        assert!(blocked.wait(WATCHDOG), "the interrupted child failed");
    }
    assert_clean(&prefix);
}

fn parse_id(s: &str) -> LivenessId {
    let v: Vec<u32> = s.split_whitespace().map(|w| w.parse().unwrap()).collect();
    LivenessId([v[0], v[1], v[2]])
}

fn record_exists(id: LivenessId) -> bool {
    let [pid, a, b] = id.0;
    std::path::Path::new(&format!("/dev/shm/icefloe_qlive_{pid}_{a:08x}{b:08x}")).exists()
}

fn alive_then_killed(mut peer: Peer) {
    let id = parse_id(&peer.expect("id"));
    assert!(record_exists(id), "the child made no liveness record");
    assert_eq!(Qnx::liveness_check(id), Liveness::Alive, "a running child is not alive");
    peer.kill9();
    peer.reap();
    // In a PID namespace the reaped child is `unshare`, whose SIGKILL
    // reaches the test process in it a moment later: until then it runs.
    let deadline = Instant::now() + WATCHDOG;
    loop {
        match Qnx::liveness_check(id) {
            Liveness::Dead => break,
            Liveness::Alive => assert!(Instant::now() < deadline, "a SIGKILLed child stays alive"),
            other => panic!("a SIGKILLed child is {other:?}"),
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    assert!(!record_exists(id), "the dead child's record was not removed");
    assert_eq!(Qnx::liveness_check(id), Liveness::Dead, "a removed record does not mean dead");
}

#[test]
fn a_sigkilled_process_is_dead_by_its_robust_mutex() {
    let prefix = unique_prefix();
    alive_then_killed(Peer::spawn("child", "alive", &prefix, &[]));
}

#[test]
fn a_process_in_another_pid_namespace_is_told_alive_and_dead() {
    let prefix = unique_prefix();
    alive_then_killed(Peer::spawn_in_pid_namespace("child", "alive", &prefix));
}

#[test]
fn a_killed_publishers_node_is_reclaimed_and_its_segments_go() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let service = stream_service(&node);
        let sub = service.subscriber_builder().create().unwrap();
        // It publishes until its queue to us is full, then blocks.
        let mut publisher = Peer::spawn("child", "publisher", &prefix, &[("N", "1000".into())]);
        let first = sub.timed_receive(WATCHDOG).unwrap().expect("watchdog: the first sample");
        assert_eq!(*first, 0);
        drop(first);
        publisher.kill9();
        publisher.reap();
        let deadline = Instant::now() + WATCHDOG;
        loop {
            if node.cleanup_dead_nodes().cleanups == 1 {
                break;
            }
            assert!(Instant::now() < deadline, "the killed publisher's node was never reclaimed");
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(service.number_of_publishers(), 0, "the dead publisher's port is still there");
        // What it had sent stays readable or is passed over, never an error.
        while let Some(s) = sub.receive().unwrap() {
            assert!(*s < 1000);
        }
    }
    assert_clean(&prefix);
}

#[test]
fn slots_of_sleepers_killed_in_their_sleep_are_taken_over() {
    // More sleepers killed asleep than a segment has slots: were their
    // slots (robust mutexes held by the dead) not taken over, the last
    // sleepers would find none and poll.
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let service = stream_service(&node);
        let polls_before = icefloe_qnx::wake_calls().polls;
        for _ in 0..icefloe_qnx::park::SLOTS + 5 {
            let mut asleep = Peer::spawn("child", "asleep", &prefix, &[]);
            asleep.expect("ready");
            std::thread::sleep(Duration::from_millis(20));
            asleep.kill9();
            asleep.reap();
        }
        node.cleanup_dead_nodes();
        // A sleeper here and a publisher in another process still meet.
        let sub = service.subscriber_builder().create().unwrap();
        let publisher = Peer::spawn("child", "publisher", &prefix, &[("N", "50".into())]);
        for expected in 0..50 {
            let s = sub.timed_receive(WATCHDOG).unwrap().unwrap_or_else(|| panic!("watchdog: sample {expected}"));
            assert_eq!(*s, expected);
        }
        assert!(publisher.wait(WATCHDOG), "the publisher failed");
        assert_eq!(icefloe_qnx::wake_calls().polls, polls_before, "a sleeper found no free slot and polled");
    }
    assert_clean(&prefix);
}

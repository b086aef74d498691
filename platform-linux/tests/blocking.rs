//! Blocking receive on subscribers, servers and pending responses: woken by
//! the send, never by polling; a send nobody waits for makes no system
//! call; timeouts; Ctrl-C; a dead server ends a waiting stream; a million
//! send/receive pairs across two processes.

mod common;

use common::*;
use icefloe_linux::futex_calls;
use icefloe_linux::prelude::*;
use std::sync::mpsc;
use std::time::Duration;

const WATCHDOG: Duration = Duration::from_secs(20);

fn name(s: &str) -> ServiceName {
    ServiceName::new(s).unwrap()
}

#[test]
fn a_sleeping_subscriber_wakes_on_a_send_and_a_timed_receive_times_out() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let service = node.service_builder(&name("ps")).publish_subscribe::<u64>().create().unwrap();
        let publisher = service.publisher_builder().create().unwrap();
        let subscriber = service.subscriber_builder().create().unwrap();
        assert!(subscriber.timed_receive(Duration::from_millis(20)).unwrap().is_none());
        std::thread::scope(|s| {
            let (tx, rx) = mpsc::channel();
            s.spawn(move || {
                let got = *subscriber.blocking_receive().unwrap();
                let next = subscriber.timed_receive(WATCHDOG).unwrap().map(|s| *s);
                tx.send((got, next)).unwrap();
            });
            std::thread::sleep(Duration::from_millis(50));
            assert_eq!(publisher.send_copy(41).unwrap(), 1);
            std::thread::sleep(Duration::from_millis(50));
            assert_eq!(publisher.send_copy(42).unwrap(), 1);
            let got = rx.recv_timeout(WATCHDOG).expect("watchdog: the sleeping subscriber was not woken");
            assert_eq!(got, (41, Some(42)));
        });
    }
    assert_clean(&prefix);
}

#[test]
fn a_sleeping_server_and_a_sleeping_pending_response_wake_on_sends() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let service = node.service_builder(&name("rr")).request_response::<u64, u64>().create().unwrap();
        let server = service.server_builder().create().unwrap();
        let client = service.client_builder().create().unwrap();
        assert!(server.timed_receive(Duration::from_millis(20)).unwrap().is_none());
        std::thread::scope(|s| {
            let (tx, rx) = mpsc::channel();
            s.spawn(move || {
                // Serves two requests, each with two responses, sleeping in between.
                for _ in 0..2 {
                    let request = server.blocking_receive().unwrap();
                    std::thread::sleep(Duration::from_millis(30));
                    request.send_copy(*request * 10).unwrap();
                    std::thread::sleep(Duration::from_millis(30));
                    request.send_copy(*request * 10 + 1).unwrap();
                    std::thread::sleep(Duration::from_millis(30));
                }
                tx.send(()).unwrap();
            });
            for v in [3u64, 4] {
                std::thread::sleep(Duration::from_millis(30));
                let pending = client.send_copy(v).unwrap();
                let mut got = Vec::new();
                while let Some(r) = pending.blocking_receive().unwrap() {
                    got.push(*r);
                }
                assert_eq!(got, [v * 10, v * 10 + 1], "the stream, then its end");
                assert!(pending.timed_receive(Duration::from_millis(10)).unwrap().is_none());
            }
            rx.recv_timeout(WATCHDOG).expect("watchdog: the server did not finish");
        });
    }
    assert_clean(&prefix);
}

#[test]
fn a_send_nobody_waits_for_makes_no_system_call() {
    let prefix = match role().as_deref() {
        Some("quiet_send") => arg("ICEFLOE_TEST_PREFIX"),
        Some(_) => return,
        None => {
            let prefix = unique_prefix();
            let mut child = Peer::spawn("a_send_nobody_waits_for_makes_no_system_call", "quiet_send", &prefix, &[]);
            child.expect("done");
            assert!(child.wait(WATCHDOG), "the child's checks failed (its output is above)");
            assert_clean(&prefix);
            return;
        }
    };
    // In a child process: other tests' futex calls do not count here.
    let node = node(&prefix);
    let service = node.service_builder(&name("ps")).publish_subscribe::<u64>().create().unwrap();
    let publisher = service.publisher_builder().create().unwrap();
    let subscriber = service.subscriber_builder().create().unwrap();
    let rr = node.service_builder(&name("rr")).request_response::<u64, u64>().create().unwrap();
    let server = rr.server_builder().create().unwrap();
    let client = rr.client_builder().create().unwrap();
    let before = futex_calls();
    for i in 0..10_000u64 {
        publisher.send_copy(i).unwrap();
        assert_eq!(*subscriber.receive().unwrap().unwrap(), i);
        let pending = client.send_copy(i).unwrap();
        let request = server.receive().unwrap().unwrap();
        request.send_copy(i + 1).unwrap();
        drop(request);
        assert_eq!(*pending.receive().unwrap().unwrap(), i + 1);
    }
    assert_eq!(futex_calls(), before, "a send or response with nobody asleep made a system call");
    // With a sleeper: the send wakes it.
    std::thread::scope(|s| {
        let (tx, rx) = mpsc::channel();
        s.spawn(move || tx.send(*subscriber.timed_receive(WATCHDOG).unwrap().unwrap()).unwrap());
        eventually(WATCHDOG, "the subscriber to sleep", || (futex_calls().waits > before.waits).then_some(()));
        std::thread::sleep(Duration::from_millis(20));
        publisher.send_copy(7).unwrap();
        assert_eq!(rx.recv_timeout(WATCHDOG).expect("watchdog: subscriber not woken"), 7);
    });
    assert!(futex_calls().wakes > before.wakes);
    say("done", "");
}

/// Child: a subscriber sleeping in `blocking_receive`, woken by a sample,
/// then sleeping again until Ctrl-C ends the wait.
fn sleeping_subscriber(old_kernel_path: bool) {
    if old_kernel_path {
        icefloe_linux::use_futex_wait_fallback();
    }
    let prefix = arg("ICEFLOE_TEST_PREFIX");
    let node = node(&prefix);
    let service = node.service_builder(&name("ps")).publish_subscribe::<u64>().open().unwrap();
    let subscriber = service.subscriber_builder().create().unwrap();
    say("ready", std::process::id());
    let first = subscriber.blocking_receive().map(|s| *s);
    say("got", format!("{first:?}"));
    let r = subscriber.blocking_receive().map(|s| *s);
    say("ended", format!("{r:?}"));
}

/// Parent: wakes the child's sleeping subscriber with a sample, then ends
/// its second sleep with SIGINT.
fn wake_then_ctrl_c(test: &str, role: &str) {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let service = node.service_builder(&name("ps")).publish_subscribe::<u64>().create().unwrap();
        let publisher = service.publisher_builder().create().unwrap();
        let mut child = Peer::spawn(test, role, &prefix, &[]);
        child.expect("ready");
        eventually(WATCHDOG, "the subscriber to connect", || (publisher.send_copy(7).unwrap() == 1).then_some(()));
        assert_eq!(child.expect("got"), "Ok(7)");
        std::thread::sleep(Duration::from_millis(100));
        child.signal(libc::SIGINT);
        assert_eq!(child.expect("ended"), "Err(Interrupt)");
        assert!(child.wait(WATCHDOG));
    }
    assert_clean(&prefix);
}

#[test]
fn ctrl_c_ends_a_blocking_receive() {
    match role().as_deref() {
        Some("sleeper") => sleeping_subscriber(false),
        Some(_) => {}
        None => wake_then_ctrl_c("ctrl_c_ends_a_blocking_receive", "sleeper"),
    }
}

/// Kernels before 5.16 have no `futex_waitv`: waits then sleep on one word
/// at a time with a backstop against a missed Ctrl-C. The same wake-up and
/// the same Ctrl-C, through that path.
#[test]
fn without_futex_waitv_sends_wake_and_ctrl_c_ends_a_blocking_receive() {
    match role().as_deref() {
        Some("old_kernel_sleeper") => sleeping_subscriber(true),
        Some(_) => {}
        None => {
            wake_then_ctrl_c("without_futex_waitv_sends_wake_and_ctrl_c_ends_a_blocking_receive", "old_kernel_sleeper")
        }
    }
}

#[test]
fn a_dead_server_ends_a_waiting_stream_once_cleaned_up() {
    if role().as_deref() == Some("doomed_server") {
        let prefix = arg("ICEFLOE_TEST_PREFIX");
        let node = node(&prefix);
        let rr = node.service_builder(&name("rr")).request_response::<u64, u64>().open().unwrap();
        let server = rr.server_builder().create().unwrap();
        say("ready", "");
        let request = server.timed_receive(WATCHDOG).unwrap().expect("a request");
        request.send_copy(1).unwrap();
        say("answered", "");
        listen("never");
        return;
    }
    if role().is_some() {
        return;
    }
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let rr = node.service_builder(&name("rr")).request_response::<u64, u64>().create().unwrap();
        let client = rr.client_builder().create().unwrap();
        let mut child =
            Peer::spawn("a_dead_server_ends_a_waiting_stream_once_cleaned_up", "doomed_server", &prefix, &[]);
        child.expect("ready");
        let pending = eventually(WATCHDOG, "the server to connect", || {
            let p = client.send_copy(5).unwrap();
            (p.number_of_server_connections() == 1).then_some(p)
        });
        child.expect("answered");
        assert_eq!(*pending.blocking_receive().unwrap().unwrap(), 1);
        // The waiting happens here; another thread kills the server and
        // cleans up after it.
        std::thread::scope(|s| {
            let node = &node;
            let killer = s.spawn(move || {
                std::thread::sleep(Duration::from_millis(50));
                child.kill9();
                eventually(WATCHDOG, "the dead server to be cleaned", || {
                    (node.cleanup_dead_nodes().cleanups > 0).then_some(())
                });
                child
            });
            let started = std::time::Instant::now();
            let end = pending.timed_receive(WATCHDOG).unwrap().map(|r| *r);
            assert_eq!(end, None);
            assert!(!pending.is_connected());
            assert!(started.elapsed() < WATCHDOG, "watchdog: the end of the stream did not wake the waiter");
            killer.join().unwrap().reap();
        });
    }
    assert_clean(&prefix);
}

/// 500,000 round trips (a million send/blocking-receive pairs) across two
/// processes; ten times as many with `ICEFLOE_STRESS=1`.
#[test]
fn ping_pong_of_samples_across_processes_loses_no_wake_up() {
    let rounds: u64 = if std::env::var("ICEFLOE_STRESS").is_ok() { 5_000_000 } else { 500_000 };
    if role().as_deref() == Some("echo") {
        let prefix = arg("ICEFLOE_TEST_PREFIX");
        let node = node(&prefix);
        let ping = node.service_builder(&name("ping")).publish_subscribe::<u64>().open().unwrap();
        let pong = node.service_builder(&name("pong")).publish_subscribe::<u64>().open().unwrap();
        let subscriber = ping.subscriber_builder().create().unwrap();
        let publisher = pong.publisher_builder().create().unwrap();
        say("ready", "");
        for i in 0..rounds {
            let v = *subscriber.blocking_receive().unwrap();
            assert_eq!(v, i, "a ping lost or out of order");
            while publisher.send_copy(v).unwrap() == 0 {
                std::thread::yield_now();
            }
        }
        say("done", rounds);
        return;
    }
    if role().is_some() {
        return;
    }
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let ping = node.service_builder(&name("ping")).publish_subscribe::<u64>().create().unwrap();
        let pong = node.service_builder(&name("pong")).publish_subscribe::<u64>().create().unwrap();
        let publisher = ping.publisher_builder().create().unwrap();
        let subscriber = pong.subscriber_builder().create().unwrap();
        let mut child = Peer::spawn(
            "ping_pong_of_samples_across_processes_loses_no_wake_up",
            "echo",
            &prefix,
            &[("ROUNDS", rounds.to_string())],
        );
        child.expect("ready");
        let started = std::time::Instant::now();
        for i in 0..rounds {
            while publisher.send_copy(i).unwrap() == 0 {
                std::thread::yield_now();
            }
            let v = subscriber.timed_receive(WATCHDOG).unwrap();
            let v = v.unwrap_or_else(|| panic!("watchdog: no echo of {i} within {WATCHDOG:?} (lost wake-up)"));
            assert_eq!(*v, i);
        }
        let elapsed = started.elapsed();
        assert_eq!(child.expect("done"), rounds.to_string());
        assert!(child.wait(WATCHDOG));
        println!("{rounds} sample round trips with blocking receives across two processes in {elapsed:?}");
    }
    assert_clean(&prefix);
}

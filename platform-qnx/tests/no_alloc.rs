//! Steady state on the QNX platform's POSIX part performs zero heap
//! allocations: loan → send → receive → drop, and blocking receives woken
//! through the sleeper slots from another thread, counted by a counting
//! global allocator on both threads.

#[path = "../../platform-linux/tests/common/counting.rs"]
mod counting;

use counting::counted;
use icefloe_qnx::prelude::*;
use std::time::Duration;

fn service(node: &Node, name: &str) -> PublishSubscribe<u64> {
    node.service_builder(&ServiceName::new(name).unwrap()).publish_subscribe::<u64>().create().unwrap()
}

#[test]
fn steady_state_and_blocking_wakes_allocate_nothing() {
    let prefix = format!("qa{}_", std::process::id() % 100_000);
    {
        let node = NodeBuilder::new().prefix(&prefix).unwrap().create().unwrap();
        // The counter counts: prove it.
        assert_eq!(counted(|| drop(std::hint::black_box(vec![1u8; 16]))), 1, "the counting allocator does not count");

        let (ping, pong) = (service(&node, "ping"), service(&node, "pong"));
        let rounds = 5_000u64;
        std::thread::scope(|s| {
            let (ping, pong) = (&ping, &pong);
            let echo = s.spawn(move || {
                let sub = ping.subscriber_builder().create().unwrap();
                let publisher = pong.publisher_builder().create().unwrap();
                // Warm up (connections are made on the first send and receive).
                let first = *sub.timed_receive(Duration::from_secs(20)).unwrap().expect("warm-up ping");
                publisher.send_copy(first).unwrap();
                counted(|| {
                    for _ in 0..rounds {
                        let v = *sub.timed_receive(Duration::from_secs(20)).unwrap().expect("watchdog: a ping");
                        publisher.send_copy(v).unwrap();
                    }
                })
            });
            let publisher = ping.publisher_builder().create().unwrap();
            let sub = pong.subscriber_builder().create().unwrap();
            // Warm up until the echo thread answers.
            loop {
                publisher.send_copy(u64::MAX).unwrap();
                if sub.timed_receive(Duration::from_millis(10)).unwrap().is_some() {
                    break;
                }
            }
            while sub.receive().unwrap().is_some() {}
            let sleeps_before = icefloe_qnx::wake_calls().sleeps;
            let here = counted(|| {
                for i in 0..rounds {
                    let mut sample = publisher.loan_uninit().unwrap().write_payload(i);
                    let _ = &mut sample;
                    sample.send().unwrap();
                    loop {
                        let got = *sub.timed_receive(Duration::from_secs(20)).unwrap().expect("watchdog: a pong");
                        if got == i {
                            break;
                        }
                    }
                }
            });
            let there = echo.join().unwrap();
            assert!(icefloe_qnx::wake_calls().sleeps > sleeps_before, "no receive slept: the test woke nobody");
            assert_eq!((here, there), (0, 0), "heap allocations in {rounds} blocking round trips (this thread, echo)");
        });
    }
    let left: Vec<_> = std::fs::read_dir("/dev/shm")
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

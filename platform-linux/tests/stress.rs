//! Subscribers killed with SIGKILL at random moments while a publisher
//! streams: after every kill the publisher gets every chunk back, and the
//! survivors keep receiving in order. Three rounds by default; set
//! `ICEFLOE_STRESS=1` for 200.

mod common;

use common::*;
use icefloe_linux::prelude::*;
use std::time::{Duration, Instant};

const WATCHDOG: Duration = Duration::from_secs(60);

fn svc() -> ServiceName {
    ServiceName::new("stress").unwrap()
}

#[test]
fn child() {
    let Some(role) = role() else { return };
    let prefix = arg("ICEFLOE_TEST_PREFIX");
    let node = NodeBuilder::new().prefix(&prefix).unwrap().create().unwrap();
    assert_eq!(role, "receiver");
    let service = node.service_builder(&svc()).publish_subscribe::<[u64]>().open().unwrap();
    let sub = service.subscriber_builder().create().unwrap();
    say("ready", "");
    // Receive forever, checking each sample is internally consistent and
    // sequence numbers only go up; hold a sample now and then.
    let mut last = 0u64;
    let mut held = Vec::new();
    let mut count = 0u64;
    let deadline = Instant::now() + WATCHDOG;
    loop {
        assert!(Instant::now() < deadline, "watchdog: no end marker");
        match sub.receive() {
            Ok(Some(s)) => {
                let seq = s[0];
                if seq == u64::MAX {
                    break;
                }
                count += 1;
                assert!(s.iter().all(|&v| v == seq), "torn sample");
                assert!(seq > last, "sequence went back: {seq} after {last}");
                last = seq;
                if seq % 3 == 0 && held.is_empty() {
                    held.push(s);
                } else {
                    held.clear();
                }
            }
            Ok(None) => std::thread::yield_now(),
            Err(e) => panic!("receive failed: {e:?}"),
        }
    }
    drop(held);
    say("done", count);
}

#[test]
fn subscribers_killed_at_random_never_cost_the_publisher_a_chunk() {
    let rounds = if std::env::var("ICEFLOE_STRESS").is_ok() { 200 } else { 3 };
    let prefix = unique_prefix();
    {
        let node = NodeBuilder::new().prefix(&prefix).unwrap().create().unwrap();
        let service = node.service_builder(&svc()).publish_subscribe::<[u64]>().max_subscribers(4).create().unwrap();
        let publisher = service
            .publisher_builder()
            .allocation_strategy(icefloe_linux::AllocationStrategy::PowerOfTwo)
            .max_slice_len(4096)
            .create()
            .unwrap();
        let total_at_start = publisher.chunk_stats().total;
        let mut seq = 1u64;
        let mut rng = 0x2545_f491_4f6c_dd1du64 ^ u64::from(std::process::id());
        let mut next = || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let mut survivor = Peer::spawn("child", "receiver", &prefix, &[]);
        survivor.expect("ready");
        for round in 0..rounds {
            let mut victims: Vec<Peer> = (0..2).map(|_| Peer::spawn("child", "receiver", &prefix, &[])).collect();
            for v in &mut victims {
                v.expect("ready");
            }
            let sends = 50 + next() % 500;
            for _ in 0..sends {
                let len = 1 + (next() % 4096) as usize;
                let s = publisher.loan_slice_uninit(len).unwrap().write_from_fn(|_| seq);
                s.send().unwrap();
                seq += 1;
            }
            for mut v in victims {
                v.kill9();
                v.reap();
            }
            let cleaned = node.cleanup_dead_nodes();
            assert_eq!(cleaned.cleanups, 2, "round {round}: both killed subscribers must be cleaned");
            // Everything but what the survivor may hold or have queued is back.
            let stats = eventually(WATCHDOG, "chunks to come back", || {
                let st = publisher.chunk_stats();
                (st.total - st.free <= 2 + 2).then_some(st)
            });
            assert!(stats.segments <= 8);
        }
        publisher.send_slice_copy(&[u64::MAX]).unwrap();
        let received: u64 = survivor.expect("done").parse().unwrap();
        assert!(received > 0, "the surviving subscriber received nothing");
        assert!(survivor.wait(WATCHDOG), "the surviving subscriber failed a check");
        let stats = publisher.chunk_stats();
        assert_eq!(stats.free, stats.total, "chunks lost after all subscribers died");
        assert!(total_at_start >= 1);
    }
    assert_clean(&prefix);
}

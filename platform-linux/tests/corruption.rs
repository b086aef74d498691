//! A peer that writes garbage: random bytes written into a live service
//! segment and a live data segment make the ports return errors or mark the
//! connection corrupt, never panic, never crash, never read outside a
//! mapping (a crash would kill this test process).

mod common;

use common::*;
use icefloe_core::shm::data::{DataLayout, DataSizing};
use icefloe_core::shm::service::ServiceLayout;
use icefloe_linux::prelude::*;
use std::os::unix::fs::FileExt;

fn segment(prefix: &str, kind: char) -> std::fs::File {
    let name = shm_left(prefix).into_iter().find(|n| n.ends_with(kind)).expect("segment exists");
    std::fs::OpenOptions::new().read(true).write(true).open(format!("/dev/shm/{name}")).unwrap()
}

/// Warnings the library logged in this process that contain `what`
/// (the test's logger keeps every line; installed on first use).
fn logged(what: &str) -> Vec<String> {
    use std::sync::Mutex;
    static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());
    struct Keep;
    impl log::Log for Keep {
        fn enabled(&self, m: &log::Metadata<'_>) -> bool {
            m.target() == "icefloe"
        }
        fn log(&self, r: &log::Record<'_>) {
            if self.enabled(r.metadata()) {
                LINES.lock().unwrap().push(format!("{} {}", r.level(), r.args()));
            }
        }
        fn flush(&self) {}
    }
    static KEEP: Keep = Keep;
    if log::set_logger(&KEEP).is_ok() {
        log::set_max_level(log::LevelFilter::Info);
    }
    LINES.lock().unwrap().iter().filter(|l| l.contains(what)).cloned().collect()
}

/// A `u64` service with a publisher and a subscriber that have exchanged
/// one sample (so both ends of their connection are in use).
fn connected(prefix: &str) -> (Node, PublishSubscribe<u64>, Publisher<u64>, Subscriber<u64>) {
    let node = node(prefix);
    let service = node.service_builder(&ServiceName::new("c").unwrap()).publish_subscribe::<u64>().create().unwrap();
    let publisher = service.publisher_builder().create().unwrap();
    let subscriber = service.subscriber_builder().create().unwrap();
    publisher.send_copy(1).unwrap();
    assert_eq!(*subscriber.receive().unwrap().unwrap(), 1);
    (node, service, publisher, subscriber)
}

/// xorshift64*: reproducible garbage.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

#[test]
fn corrupt_submission_queue_is_reported() {
    logged("");
    let prefix = unique_prefix();
    {
        let (_node, service, publisher, subscriber) = connected(&prefix);
        publisher.send_copy(2).unwrap();
        assert_eq!(subscriber.corrupt_connections(), 0);
        // The tail counter of connection (0, 0) jumps far past its head.
        let l = ServiceLayout::of(service.static_config());
        let tail = l.conns_off + l.submission_off + 64;
        segment(&prefix, 's').write_all_at(&0x7fff_0000u32.to_le_bytes(), tail as u64).unwrap();
        assert_eq!(subscriber.receive().err(), Some(ReceiveError::ConnectionCorrupted));
        // Marked: later receives skip the connection instead of failing
        // again, and the port counts it (a monitor can read it), with one
        // warning through the log shim.
        assert!(subscriber.receive().unwrap().is_none());
        assert_eq!(subscriber.corrupt_connections(), 1);
        // (Only lines about this publisher: other tests of this process
        // corrupt connections too.)
        let warnings = logged(&format!("sending port {:x} marked corrupt", publisher.id()));
        assert_eq!(warnings.len(), 1, "one warning for the marked connection: {warnings:?}");
        assert!(warnings[0].contains("submission queue"), "{warnings:?}");
    }
    assert_clean(&prefix);
}

#[test]
fn sample_claiming_an_impossible_length_is_refused() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let service =
            node.service_builder(&ServiceName::new("c").unwrap()).publish_subscribe::<[u8]>().create().unwrap();
        let publisher = service.publisher_builder().initial_max_slice_len(16).create().unwrap();
        let subscriber = service.subscriber_builder().create().unwrap();
        publisher.send_slice_copy(&[1, 2, 3]).unwrap();
        let l = DataLayout::new(DataSizing {
            chunk_count: publisher.chunk_stats().total,
            connections: 8,
            history: 0,
            capacity: 16,
            elem: (1, 1),
            user_header: (0, 1),
        })
        .unwrap();
        let data = segment(&prefix, 'd');
        for i in 0..l.chunk_count {
            data.write_all_at(&1_000_000u32.to_le_bytes(), l.chunk_offset(i) as u64).unwrap();
        }
        assert_eq!(subscriber.receive().err(), Some(ReceiveError::CorruptedSample));
        // The bad sample went back to the publisher; the port still works.
        assert_eq!(publisher.send_slice_copy(&[4, 5]).unwrap(), 1);
        assert_eq!(&*subscriber.receive().unwrap().unwrap(), &[4, 5]);
    }
    assert_clean(&prefix);
}

fn exercise(publisher: &Publisher<u64>, subscriber: &Subscriber<u64>, rounds: u64) {
    for i in 0..rounds {
        let _ = publisher.send_copy(i);
        let _ = publisher.loan_uninit().map(|s| s.write_payload(i));
        for _ in 0..3 {
            if let Ok(Some(s)) = subscriber.receive() {
                let _ = *s;
            }
        }
        let _ = subscriber.has_samples();
        let _ = publisher.chunk_stats();
    }
}

#[test]
fn random_garbage_in_live_segments_never_crashes() {
    for seed in 1..=40u64 {
        let prefix = unique_prefix();
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        {
            let node = node(&prefix);
            let name = ServiceName::new("garbage").unwrap();
            let service = node.service_builder(&name).publish_subscribe::<u64>().history_size(2).create().unwrap();
            let publisher = service.publisher_builder().create().unwrap();
            let subscriber = service.subscriber_builder().create().unwrap();
            exercise(&publisher, &subscriber, 10);
            let kind = if seed % 2 == 0 { 's' } else { 'd' };
            let file = segment(&prefix, kind);
            let len = file.metadata().unwrap().len();
            // Sprinkle words, then overwrite one whole random stretch.
            for _ in 0..64 {
                let off = (rng.next() % len) & !3;
                let _ = file.write_all_at(&(rng.next() as u32).to_le_bytes(), off);
            }
            let start = rng.next() % len;
            let stretch: Vec<u8> = (0..(len - start).min(4096)).map(|_| rng.next() as u8).collect();
            file.write_all_at(&stretch, start).unwrap();
            exercise(&publisher, &subscriber, 50);
            // New ports and a second opener must not panic either.
            let _ = service.subscriber_builder().create().map(|s| s.receive().map(|o| o.map(|x| *x)));
            let _ = service.publisher_builder().create().map(|p| p.send_copy(7));
            let _ = node.service_builder(&name).publish_subscribe::<u64>().open();
            let _ = node.cleanup_dead_nodes();
        }
        // Garbage may have hidden what to remove; take it away by hand.
        scrub(&prefix);
    }
}

#[test]
fn stored_name_differing_from_the_requested_is_a_hash_collision() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let name = ServiceName::new("collide").unwrap();
        let _service = node.service_builder(&name).publish_subscribe::<u64>().create().unwrap();
        // Make the stored full name differ, as another name with the same
        // hash would: the first byte of the name ("c") becomes "x".
        let at = ServiceLayout::static_offset() + 10 * 4;
        segment(&prefix, 's').write_all_at(b"x", at as u64).unwrap();
        assert_eq!(
            node.service_builder(&name).publish_subscribe::<u64>().open().err(),
            Some(icefloe_linux::ServiceOpenError::HashCollision)
        );
    }
    assert_clean(&prefix);
}

#[test]
fn creator_killed_before_sizing_its_segment_is_recovered_from() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let name = ServiceName::new("half-made").unwrap();
        let seg = {
            let _s = node.service_builder(&name).publish_subscribe::<u64>().create().unwrap();
            shm_left(&prefix).into_iter().find(|n| n.ends_with('s')).unwrap()
        };
        assert!(!shm_left(&prefix).contains(&seg), "the service went with its last handle");
        // What a creator killed between shm_open and ftruncate leaves.
        std::fs::File::create(format!("/dev/shm/{seg}")).unwrap();
        assert_eq!(
            node.service_builder(&name).publish_subscribe::<u64>().open().err(),
            Some(icefloe_linux::ServiceOpenError::DoesNotExist)
        );
        let service = node.service_builder(&name).publish_subscribe::<u64>().create().expect("stale leftover replaced");
        let publisher = service.publisher_builder().create().unwrap();
        let subscriber = service.subscriber_builder().create().unwrap();
        publisher.send_copy(3).unwrap();
        assert_eq!(*subscriber.receive().unwrap().unwrap(), 3);
    }
    assert_clean(&prefix);
}

#[test]
fn corrupt_completion_queue_is_counted_at_the_publisher() {
    logged("");
    let prefix = unique_prefix();
    {
        let (_node, service, publisher, _subscriber) = connected(&prefix);
        assert_eq!(publisher.corrupt_connections(), 0);
        // The subscriber's returns claim a head far past anything pushed.
        let l = ServiceLayout::of(service.static_config());
        let head = l.conns_off + l.completion_off;
        segment(&prefix, 's').write_all_at(&0x7fff_0000u32.to_le_bytes(), head as u64).unwrap();
        let _ = publisher.send_copy(2);
        let _ = publisher.send_copy(3);
        assert_eq!(publisher.corrupt_connections(), 1, "the connection is marked and counted");
        assert!(!logged("connection 0 of a sending port marked corrupt").is_empty(), "and a warning logged");
    }
    assert_clean(&prefix);
}

//! Liveness across PID namespaces: a node in a container that shares
//! `/dev/shm` but not the PID namespace (Docker with `--ipc=host`, a pod)
//! is alive to a cleaner outside while it runs, and dead once killed.
//! Needs `unshare` (util-linux) and the right to make namespaces (root, as
//! CI runs): where they are refused, the test fails and says so.

mod common;

use common::*;
use icefloe_linux::prelude::*;
use std::time::{Duration, Instant};

const WATCHDOG: Duration = Duration::from_secs(30);

fn service_name() -> ServiceName {
    ServiceName::new("ns/pose").unwrap()
}

/// The child: a publisher in its own PID namespace, one sample every 2 ms.
fn namespaced_publisher() {
    let prefix = std::env::var("ICEFLOE_TEST_PREFIX").unwrap();
    let node = node(&prefix);
    let service =
        node.service_builder(&service_name()).publish_subscribe::<u64>().max_publishers(1).open_or_create().unwrap();
    let publisher = service.publisher_builder().create().unwrap();
    say("ready", std::process::id());
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut n = 0u64;
    while Instant::now() < deadline {
        n += 1;
        let _ = publisher.send_copy(n);
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn a_publisher_in_its_own_pid_namespace_is_alive_to_a_cleaner_outside_until_killed() {
    if role().as_deref() == Some("ns_publisher") {
        return namespaced_publisher();
    }
    let prefix = unique_prefix();
    let mut peer = Peer::spawn_in_pid_namespace(
        "a_publisher_in_its_own_pid_namespace_is_alive_to_a_cleaner_outside_until_killed",
        "ns_publisher",
        &prefix,
    );
    let pid_inside: u32 = peer.expect("ready").parse().expect("the child's pid");
    assert_eq!(pid_inside, 1, "the child runs as PID 1 of a namespace of its own (unshare refused?)");
    {
        let node = node(&prefix);
        let service = node.service_builder(&service_name()).publish_subscribe::<u64>().open().unwrap();
        let subscriber = service.subscriber_builder().create().unwrap();
        // Its PID (1) means nothing here: the cleaner must not take it for dead.
        assert_eq!(node.cleanup_dead_nodes().cleanups, 0, "a live node in another PID namespace was cleaned");
        assert_eq!(service.cleanup_dead_nodes(), 0);
        let mut got = Vec::new();
        let deadline = Instant::now() + WATCHDOG;
        while got.len() < 5 {
            assert!(Instant::now() < deadline, "samples stopped arriving: {got:?}");
            if let Some(s) = subscriber.receive().unwrap() {
                got.push(*s);
            } else {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        assert!(got.windows(2).all(|w| w[0] < w[1]), "in order: {got:?}");
        assert_eq!(service.number_of_publishers(), 1);

        // Killed, it is dead: cleaned, and its slot serves a new publisher.
        peer.kill9();
        peer.reap();
        let deadline = Instant::now() + WATCHDOG;
        let mut cleaned = 0;
        while cleaned == 0 {
            assert!(Instant::now() < deadline, "the killed node was never cleaned");
            cleaned = service.cleanup_dead_nodes();
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(cleaned, 1);
        assert_eq!(service.number_of_publishers(), 0);
        let publisher = service.publisher_builder().create().expect("the dead publisher's slot is free again");
        // What the dead publisher had queued is still readable; then the new one's.
        while subscriber.receive().unwrap().is_some() {}
        assert_eq!(publisher.send_copy(7).unwrap(), 1, "the new publisher reaches the subscriber");
        assert_eq!(subscriber.receive().unwrap().map(|s| *s), Some(7));
    }
    assert_clean(&prefix);
}

//! Every crash window the protocols have, closed: a child process is
//! SIGKILLed at each named crash point (`icefloe_core::crash`, feature
//! `crash-points`) while it creates, grows, drops, cleans or destroys; then
//! a cleanup by another node must leave nothing behind (no segment in
//! `/dev/shm`, no port or node slot taken) and the service must work again
//! in full (its only publisher slot, its node slots, growing slices with
//! every byte checked).
//!
//! Run: `cargo test -p icefloe-linux --features crash-points --test crash_points`.

mod common;

use common::*;
use icefloe_linux::prelude::*;
use icefloe_linux::AllocationStrategy;
use std::time::Duration;

const WATCHDOG: Duration = Duration::from_secs(30);
const TEST: &str = "a_process_killed_at_any_crash_point_leaves_nothing_a_cleanup_does_not_recover";

fn svc() -> ServiceName {
    ServiceName::new("crash/frames").unwrap()
}

/// The service every scenario uses: one publisher slot, three node slots.
fn open_service(node: &Node) -> PublishSubscribe<[u8]> {
    node.service_builder(&svc())
        .publish_subscribe::<[u8]>()
        .max_publishers(1)
        .max_subscribers(2)
        .max_nodes(3)
        .open_or_create()
        .expect("the service opens (or is made again)")
}

fn growing_publisher(service: &PublishSubscribe<[u8]>) -> Publisher<[u8]> {
    service
        .publisher_builder()
        .initial_max_slice_len(16)
        .allocation_strategy(AllocationStrategy::PowerOfTwo)
        .max_slice_len(1 << 20)
        .create()
        .expect("the one publisher slot is free")
}

fn byte(i: usize, len: usize) -> u8 {
    ((i * 7 + len) % 251) as u8
}

/// Sends slices of 16 B, 1 kB and 100 kB (the publisher grows twice) and
/// keeps the first sample the subscriber gets, so that the oldest segment
/// stays alive while newer ones are made.
fn grow_holding_the_first<'s>(
    publisher: &Publisher<[u8]>,
    subscriber: &'s Subscriber<[u8]>,
) -> Option<Sample<'s, [u8]>> {
    let mut first = None;
    for len in [16usize, 1000, 100_000] {
        publisher.loan_slice_uninit(len).unwrap().write_from_fn(|i| byte(i, len)).send().unwrap();
        let got = subscriber.receive().unwrap();
        first = first.or(got);
    }
    first
}

/// Child: kills its own process (SIGKILL) at the `ICEFLOE_CRASH_NTH`-th
/// visit of crash point `ICEFLOE_CRASH_AT`.
#[allow(clippy::disallowed_types)] // test bookkeeping: a plain atomic
fn install_crash_hook() {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::OnceLock;
    static TARGET: OnceLock<(String, u32)> = OnceLock::new();
    static VISITS: AtomicU32 = AtomicU32::new(0);
    TARGET.get_or_init(|| (arg("ICEFLOE_CRASH_AT"), arg("ICEFLOE_CRASH_NTH").parse().unwrap()));
    icefloe_core::crash::set_hook(|point| {
        let (at, nth) = TARGET.get().expect("set before the hook");
        if point == at && VISITS.fetch_add(1, Ordering::SeqCst) + 1 == *nth {
            if std::env::var("ICEFLOE_PAUSE").is_ok() {
                // Not a kill: a slow process, stopped there for a while.
                say("paused", point);
                std::thread::sleep(Duration::from_millis(1500));
                return;
            }
            // SAFETY: kill(2) on our own process; touches no memory.
            unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
        }
    });
}

/// Child, scenario "sender": creates the service, a growing publisher and
/// a subscriber that holds the first sample (so an old segment stays alive
/// while the port grows), grows twice, then drops the publisher and the
/// service. Killed wherever its crash point says.
fn sender_child() {
    install_crash_hook();
    let node = node(&arg("ICEFLOE_TEST_PREFIX"));
    let service = open_service(&node);
    let subscriber = service.subscriber_builder().create().unwrap();
    let publisher = growing_publisher(&service);
    let held = grow_holding_the_first(&publisher, &subscriber);
    drop(publisher);
    drop(held);
    drop(subscriber);
    drop(service);
    say("finished", "");
}

/// Child, scenario "victim": a publisher that grew and a subscriber, then
/// waits to be killed by the parent.
fn victim_child() {
    let node = node(&arg("ICEFLOE_TEST_PREFIX"));
    let service = open_service(&node);
    let subscriber = service.subscriber_builder().create().unwrap();
    let publisher = growing_publisher(&service);
    let _held = grow_holding_the_first(&publisher, &subscriber);
    say("ready", "");
    std::thread::sleep(Duration::from_secs(60));
}

/// Child, scenario "cleaner": cleans the dead victim up, killed half-way.
fn cleaner_child() {
    install_crash_hook();
    let node = node(&arg("ICEFLOE_TEST_PREFIX"));
    node.cleanup_dead_nodes();
    say("finished", "");
}

/// Child, scenario "creator": makes the service and holds it until told.
fn creator_child() {
    let node = node(&arg("ICEFLOE_TEST_PREFIX"));
    let service = open_service(&node);
    say("ready", "");
    listen("exit");
    drop(service);
}

/// Child, scenario "opener": opens the creator's service (killed while it
/// takes its node slot).
fn opener_child() {
    install_crash_hook();
    let node = node(&arg("ICEFLOE_TEST_PREFIX"));
    let _service = open_service(&node);
    say("finished", "");
}

/// After the crash: the cleanup that opening the service runs recovers
/// everything, and the service's own removal (its last user leaving) takes
/// every segment with it. (`Node::cleanup_dead_nodes` is not called: its
/// sweep of dead senders' segments would hide a protocol that leaks.)
fn check_recovered(prefix: &str, case: &str) {
    let node = node(prefix);
    {
        let service = open_service(&node);
        // Every node slot but ours is free again.
        let others: Vec<Node> = (0..2).map(|_| common::node(prefix)).collect();
        let handles: Vec<_> = others.iter().map(open_service).collect();
        let subscriber = handles.first().unwrap_or(&service).subscriber_builder().create().unwrap();
        let publisher = growing_publisher(&service);
        for len in [10usize, 5000, 200_000] {
            assert_eq!(publisher.loan_slice_uninit(len).unwrap().write_from_fn(|i| byte(i, len)).send().unwrap(), 1);
            let s = subscriber.receive().unwrap().unwrap_or_else(|| panic!("{case}: nothing arrived"));
            assert_eq!(s.len(), len, "{case}");
            assert!(s.iter().enumerate().all(|(i, b)| *b == byte(i, len)), "{case}: corrupted bytes");
        }
    }
    drop(node);
    // Services and data segments are gone without any sweep. A child
    // killed before it held a node slot (while its node record, or the
    // service, was being made) leaves its node record, which no service
    // names: that one, and only that one, is for the prefix's sweep.
    assert!(segments(prefix).is_empty() || wait_services_gone(prefix), "{case}: left: {:?}", shm_left(prefix));
    let records = shm_left(prefix);
    assert!(records.len() <= 1, "{case}: node records left: {records:?}");
    if !records.is_empty() {
        common::node(prefix).cleanup_dead_nodes();
    }
    let left = shm_left(prefix);
    assert!(left.is_empty() || wait_clean(prefix), "{case}: left in /dev/shm: {left:?}");
}

fn wait_services_gone(prefix: &str) -> bool {
    std::panic::catch_unwind(|| assert_services_gone(prefix)).is_ok()
}

fn wait_clean(prefix: &str) -> bool {
    std::panic::catch_unwind(|| assert_clean(prefix)).is_ok()
}

/// Runs child `role` with the crash point, and checks it died there.
fn crash_child(prefix: &str, role: &str, at: &str, nth: u32) {
    let peer = Peer::spawn(
        TEST,
        role,
        prefix,
        &[("ICEFLOE_CRASH_AT", at.to_string()), ("ICEFLOE_CRASH_NTH", nth.to_string())],
    );
    let status = peer.wait_status(WATCHDOG);
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGKILL), "{at} #{nth} was not reached by the {role} child: {status:?}");
}

#[test]
fn a_slow_cleaner_does_not_take_a_new_nodes_port_for_the_dead_ones() {
    // A cleaner finds a node dead, then is descheduled. Meanwhile another
    // cleans that node up, and a new node takes the same node slot and the
    // same port slot. The slow cleaner must not take the new port (which
    // names the same node slot index) for the dead node's: before the fix
    // it freed the new publisher's slot and unlinked its segment.
    if role().as_deref() == Some("slow_cleaner") {
        install_crash_hook();
        let node = node(&arg("ICEFLOE_TEST_PREFIX"));
        node.cleanup_dead_nodes();
        say("finished", "");
        return;
    }
    if role().is_some() {
        return;
    }
    let prefix = unique_prefix();
    {
        // A node that keeps the service alive throughout (node slot 0).
        let keeper = node(&prefix);
        let kept = open_service(&keeper);
        let mut victim = Peer::spawn(TEST, "victim", &prefix, &[]);
        victim.expect("ready");
        victim.kill9();
        victim.reap();
        let mut slow = Peer::spawn(
            "a_slow_cleaner_does_not_take_a_new_nodes_port_for_the_dead_ones",
            "slow_cleaner",
            &prefix,
            &[
                ("ICEFLOE_CRASH_AT", "cleanup.node.dead".to_string()),
                ("ICEFLOE_CRASH_NTH", "1".to_string()),
                ("ICEFLOE_PAUSE", "1".to_string()),
            ],
        );
        slow.expect("paused");
        // While it sleeps: the dead node is cleaned by opening, and this
        // node takes its node slot and its (only) publisher slot.
        let node = node(&prefix);
        let service = open_service(&node);
        let publisher = growing_publisher(&service);
        slow.expect("finished");
        assert!(slow.wait(WATCHDOG));
        assert_eq!(service.number_of_publishers(), 1, "the slow cleaner freed the new publisher's slot");
        let subscriber = service.subscriber_builder().create().unwrap();
        assert_eq!(publisher.loan_slice_uninit(100).unwrap().write_from_fn(|i| byte(i, 100)).send().unwrap(), 1);
        let s = subscriber.receive().unwrap().expect("the new publisher's segment is still there");
        assert!(s.iter().enumerate().all(|(i, b)| *b == byte(i, 100)));
        drop(s);
        drop((subscriber, publisher, service, node, kept, keeper));
    }
    assert_clean(&prefix);
}

#[test]
fn a_process_killed_at_any_crash_point_leaves_nothing_a_cleanup_does_not_recover() {
    match role().as_deref() {
        Some("sender") => return sender_child(),
        Some("victim") => return victim_child(),
        Some("cleaner") => return cleaner_child(),
        Some("opener") => return opener_child(),
        Some("creator") => return creator_child(),
        _ => {}
    }
    let sender_points: &[(&str, u32)] = &[
        // Creating the service segment, then the first data segment, then a
        // grown one: killed between creating a segment and sizing it.
        ("shm.created_unsized", 1),
        ("shm.created_unsized", 2),
        ("shm.created_unsized", 3),
        ("shm.created_unsized", 4),
        ("node.claimed", 1),
        ("sender.open.claimed", 1),
        ("sender.open.recorded", 1),
        ("sender.segment.created", 1),
        ("sender.segment.created", 2),
        ("sender.grow.recorded", 1),
        ("sender.grow.created", 1),
        ("sender.grow.created", 2),
        ("sender.drop.leaving", 1),
        ("sender.drop.unlinked", 1),
        ("destroy.marked", 1),
        ("destroy.data_unlinked", 1),
    ];
    let mut visited = std::collections::BTreeSet::new();
    for &(at, nth) in sender_points {
        let prefix = unique_prefix();
        crash_child(&prefix, "sender", at, nth);
        check_recovered(&prefix, &format!("sender killed at {at} #{nth}"));
        visited.insert(at);
    }
    for &(at, nth) in &[
        ("cleanup.node.dead", 1),
        ("cleanup.port.read", 1),
        ("cleanup.port.unlinked", 1),
        ("cleanup.port.unlinked", 2),
        ("cleanup.node.ports_done", 1),
    ] {
        let prefix = unique_prefix();
        let mut victim = Peer::spawn(TEST, "victim", &prefix, &[]);
        victim.expect("ready");
        victim.kill9();
        victim.reap();
        crash_child(&prefix, "cleaner", at, nth);
        check_recovered(&prefix, &format!("cleaner killed at {at} #{nth}"));
        visited.insert(at);
    }
    {
        // Killed after claiming a node slot, before writing its identity:
        // the slot names its previous occupant (here the creator, as every
        // unused slot does) and is freed once that process has ended.
        let prefix = unique_prefix();
        let mut creator = Peer::spawn(TEST, "creator", &prefix, &[]);
        creator.expect("ready");
        crash_child(&prefix, "opener", "node.claimed", 1);
        creator.tell("exit");
        assert!(creator.wait(WATCHDOG));
        check_recovered(&prefix, "opener killed at node.claimed #1");
    }
    let missing: Vec<_> = icefloe_core::crash::POINTS.iter().filter(|p| !visited.contains(*p)).collect();
    assert!(missing.is_empty(), "crash points no case visits: {missing:?}");
}

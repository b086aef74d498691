//! What goes wrong between hosts: two bridges on one host, a stalled
//! subscriber, a bridge killed.

mod common;
use common::*;
use icefloe_linux::ServiceName;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Sends `probe` until `subscriber` gets one, then drains until quiet.
fn until_crossing(publisher: &icefloe_linux::Publisher<u64>, subscriber: &icefloe_linux::Subscriber<u64>, probe: u64) {
    let deadline = Instant::now() + WATCHDOG;
    loop {
        assert!(Instant::now() < deadline, "nothing crossed within the watchdog");
        publisher.send_copy(probe).unwrap();
        if subscriber.timed_receive(Duration::from_millis(100)).unwrap().is_some_and(|s| *s == probe) {
            break;
        }
    }
}

fn drain(subscriber: &icefloe_linux::Subscriber<u64>) -> BTreeMap<u64, u32> {
    let mut got = BTreeMap::new();
    while let Some(s) = subscriber.timed_receive(Duration::from_millis(700)).unwrap() {
        *got.entry(*s).or_default() += 1;
    }
    got
}

#[test]
fn two_bridges_on_one_host_forward_once_and_never_in_circles() {
    let (a, b) = pair();
    let services = ["loop"];
    let _b = b.bridge(&[], &services);
    let a1 = a.bridge(&[&b], &services);
    let a2 = a.bridge_on(free_port(), &[&b, &a], &services, &[]);
    // The older of the two forwards, the other stands by.
    let standing_by = |br: &Bridge| br.log_text().contains("standing by");
    assert!(wait_until(WATCHDOG, || standing_by(&a1) || standing_by(&a2)), "neither bridge of host A stands by");
    std::thread::sleep(Duration::from_millis(500));
    assert!(!(standing_by(&a1) && standing_by(&a2)), "both bridges of host A stand by");
    let name = ServiceName::new("loop").unwrap();
    let (na, nb) = (a.node(), b.node());
    let sa = na.service_builder(&name).publish_subscribe::<u64>().subscriber_max_buffer_size(256).create().unwrap();
    let sb =
        nb.service_builder(&name).publish_subscribe::<u64>().subscriber_max_buffer_size(256).open_or_create().unwrap();
    let (pa, sub_a) = (sa.publisher_builder().create().unwrap(), sa.subscriber_builder().create().unwrap());
    let (pb, sub_b) = (sb.publisher_builder().create().unwrap(), sb.subscriber_builder().create().unwrap());
    until_crossing(&pa, &sub_b, u64::MAX);
    until_crossing(&pb, &sub_a, u64::MAX - 1);
    drain(&sub_a);
    drain(&sub_b);
    for i in 0..50u64 {
        pa.send_copy(i).unwrap();
        pb.send_copy(1000 + i).unwrap();
        std::thread::sleep(Duration::from_millis(2));
    }
    let (got_a, got_b) = (drain(&sub_a), drain(&sub_b));
    let both: BTreeMap<u64, u32> = (0..50).chain(1000..1050).map(|v| (v, 1)).collect();
    assert_eq!(got_a, both, "host A sees its own and B's samples once each");
    assert_eq!(got_b, both, "host B sees its own and A's samples once each");
    // Nothing circulates: a second of silence stays silent.
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(drain(&sub_a), BTreeMap::new());
    assert_eq!(drain(&sub_b), BTreeMap::new());
}

#[test]
fn a_stalled_subscriber_does_not_stall_another_service() {
    let (a, b) = pair();
    let _ba = a.bridge(&[&b], &["s/*"]);
    let bb = b.bridge(&[&a], &["s/*"]);
    let (slow, fast) = (ServiceName::new("s/slow").unwrap(), ServiceName::new("s/fast").unwrap());
    let (na, nb) = (a.node(), b.node());
    // Host A's services queue up to 64 samples per subscriber (the
    // exporting bridge's among them), so a busy core does not overwrite.
    let slow_a = na.service_builder(&slow).publish_subscribe::<u64>().subscriber_max_buffer_size(64).create().unwrap();
    let fast_a = na.service_builder(&fast).publish_subscribe::<u64>().subscriber_max_buffer_size(64).create().unwrap();
    // Host B's slow subscriber keeps a queue of 2 that never drains, and its
    // service does not overwrite: whoever sends to it must wait or skip.
    let slow_b = nb
        .service_builder(&slow)
        .publish_subscribe::<u64>()
        .subscriber_max_buffer_size(2)
        .enable_safe_overflow(false)
        .create()
        .unwrap();
    let fast_b = nb.service_builder(&fast).publish_subscribe::<u64>().subscriber_max_buffer_size(512).create().unwrap();
    let _stalled = slow_b.subscriber_builder().create().unwrap();
    let fast_sub = fast_b.subscriber_builder().create().unwrap();
    let (slow_pub, fast_pub) =
        (slow_a.publisher_builder().create().unwrap(), fast_a.publisher_builder().create().unwrap());
    until_crossing(&fast_pub, &fast_sub, u64::MAX);
    assert!(wait_until(WATCHDOG, || slow_b.number_of_publishers() > 0), "host B's bridge never imported s/slow");
    drain(&fast_sub);
    let n = 300u64;
    let mut got = Vec::new();
    for i in 0..n {
        slow_pub.send_copy(i).unwrap();
        fast_pub.send_copy(i).unwrap();
        std::thread::sleep(Duration::from_millis(1));
        while let Some(s) = fast_sub.receive().unwrap() {
            got.push(*s);
        }
    }
    let deadline = Instant::now() + WATCHDOG;
    while got.len() < n as usize && Instant::now() < deadline {
        if let Some(s) = fast_sub.timed_receive(Duration::from_millis(100)).unwrap() {
            got.push(*s);
        }
    }
    assert_eq!(got, (0..n).collect::<Vec<_>>(), "s/fast got every sample, in order, while s/slow stalled");
    // The stalled service's losses are counted and reported (on SIGTERM).
    let mut bb = bb;
    bb.stop();
    let log = bb.log_text();
    let line = log
        .lines()
        .find(|l| l.contains("s/slow PublishSubscribe import"))
        .unwrap_or_else(|| panic!("no counters for s/slow: {log}"));
    let dropped: u64 =
        line.split(", ").find_map(|p| p.strip_suffix(" dropped (queue full)")).and_then(|v| v.parse().ok()).unwrap();
    assert!(dropped > 0, "the stalled service's queue should have dropped samples: {line}");
    let fast_line = log.lines().find(|l| l.contains("s/fast PublishSubscribe import")).unwrap();
    assert!(fast_line.contains(" 0 dropped"), "the fast service lost nothing: {fast_line}");
}

#[test]
fn a_killed_bridge_is_dropped_by_the_other_side_and_a_restart_works() {
    let (a, b) = pair();
    let mut ba = a.bridge(&[&b], &["k"]);
    let bb = b.bridge(&[&a], &["k"]);
    let name = ServiceName::new("k").unwrap();
    let (na, nb) = (a.node(), b.node());
    let sa = na.service_builder(&name).publish_subscribe::<u64>().create().unwrap();
    let sb = nb.service_builder(&name).publish_subscribe::<u64>().open_or_create().unwrap();
    let (pa, local_sub) = (sa.publisher_builder().create().unwrap(), sa.subscriber_builder().create().unwrap());
    let sub_b = sb.subscriber_builder().create().unwrap();
    until_crossing(&pa, &sub_b, 1);
    assert_eq!(sb.number_of_publishers(), 1, "host B's bridge stands in for A's publisher");
    ba.kill();
    // Zenoh's liveliness tells B that A's bridge went: its stand-in
    // publisher vanishes from B's discovery.
    assert!(wait_until(WATCHDOG, || sb.number_of_publishers() == 0), "B still shows the dead bridge's publisher");
    assert!(bb.wait_log("import ends"));
    // Host A's own traffic is unharmed by its dead bridge's subscriber.
    drain_all(&local_sub);
    for i in 10..20u64 {
        pa.send_copy(i).unwrap();
        assert_eq!(local_sub.timed_receive(WATCHDOG).unwrap().map(|s| *s), Some(i));
    }
    // A new bridge on host A (a new port: the old one may linger) takes over.
    let _ba2 = a.bridge_on(free_port(), &[&b], &["k"], &[]);
    until_crossing(&pa, &sub_b, 2);
    drain_all(&local_sub);
}

fn drain_all(s: &icefloe_linux::Subscriber<u64>) {
    while s.receive().unwrap().is_some() {}
}

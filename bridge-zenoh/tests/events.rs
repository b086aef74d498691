//! Events across two bridges, and a type mismatch that is refused.

mod common;
use common::*;
use icefloe_linux::{EventId, ServiceName};
use std::time::{Duration, Instant};

#[test]
fn event_ids_cross_and_nothing_comes_back() {
    let (a, b) = pair();
    let _ba = a.bridge(&[&b], &["door/*"]);
    let _bb = b.bridge(&[&a], &["door/*"]);
    let name = ServiceName::new("door/open").unwrap();
    let (na, nb) = (a.node(), b.node());
    let ea = na.service_builder(&name).event().event_id_max_value(1000).create().unwrap();
    let notifier = ea.notifier_builder().create().unwrap();
    let local_listener = ea.listener_builder().create().unwrap();
    let eb = nb.service_builder(&name).event().event_id_max_value(1000).open_or_create().unwrap();
    let listener = eb.listener_builder().create().unwrap();
    // Host B has a notifier too, so both bridges export and import: what
    // one injects, the other must not send back.
    let notifier_b = eb.notifier_builder().create().unwrap();
    // Probe with id 0 until the bridges found each other.
    let deadline = Instant::now() + WATCHDOG;
    loop {
        assert!(Instant::now() < deadline, "no event crossed within the watchdog");
        notifier.notify_with_custom_event_id(EventId::new(0)).unwrap();
        let mut got = false;
        listener.timed_wait(Duration::from_millis(100), |_| got = true).unwrap();
        if got {
            break;
        }
    }
    // And the other way round, so both directions are live.
    loop {
        assert!(Instant::now() < deadline, "no event crossed back within the watchdog");
        notifier_b.notify_with_custom_event_id(EventId::new(1000)).unwrap();
        let mut got = false;
        local_listener.timed_wait(Duration::from_millis(100), |e| got |= e.id.as_value() == 1000).unwrap();
        if got {
            break;
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    listener.try_wait(|_| {}).unwrap();
    local_listener.try_wait(|_| {}).unwrap();
    let ids = [1u32, 7, 42, 999];
    for id in ids {
        notifier.notify_with_custom_event_id(EventId::new(id)).unwrap();
    }
    let mut seen = Vec::new();
    let deadline = Instant::now() + WATCHDOG;
    while seen.len() < ids.len() && Instant::now() < deadline {
        listener.timed_wait(Duration::from_millis(100), |e| seen.push(e.id.as_value())).unwrap();
    }
    seen.sort();
    assert_eq!(seen, ids, "every id crossed once");
    // Host A's own listener sees its notifier's events once each, and
    // nothing that went out comes back through the other bridge.
    std::thread::sleep(Duration::from_millis(500));
    let mut local = Vec::new();
    local_listener.try_wait(|e| local.push((e.id.as_value(), e.count))).unwrap();
    local.sort();
    assert_eq!(local, ids.map(|id| (id, 1)), "no echo");
    let mut late = Vec::new();
    listener.try_wait(|e| late.push(e.id.as_value())).unwrap();
    assert_eq!(late, Vec::<u32>::new(), "no event twice");
}

#[test]
fn a_type_mismatch_is_logged_and_no_bytes_cross() {
    let (a, b) = pair();
    let ba = a.bridge(&[&b], &["pose"]);
    let bb = b.bridge(&[&a], &["pose"]);
    let name = ServiceName::new("pose").unwrap();
    let (na, nb) = (a.node(), b.node());
    let sa = na.service_builder(&name).publish_subscribe::<u64>().create().unwrap();
    let publisher = sa.publisher_builder().create().unwrap();
    let sb = nb.service_builder(&name).publish_subscribe::<u32>().create().unwrap();
    let subscriber = sb.subscriber_builder().create().unwrap();
    assert!(bb.wait_log("type mismatch"), "host B's bridge never said why it does not bridge");
    assert!(bb.log_text().contains("pose"), "the log names the service");
    for i in 0..20u64 {
        publisher.send_copy(i).unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(subscriber.timed_receive(Duration::from_millis(500)).unwrap().is_none(), "bytes of another type crossed");
    assert_eq!(sb.number_of_publishers(), 0, "no bridge publisher stands in for a service of other types");
    let _ = ba;
}

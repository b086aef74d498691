//! Publish-subscribe between separate processes: delivery, history,
//! overflow and backpressure, slices, and peers killed with SIGKILL.
//!
//! Each test re-runs this binary as child processes: the `child` test below
//! does nothing unless `ICEFLOE_TEST_ROLE` is set.

mod common;

use common::*;
use icefloe_linux::prelude::*;
use std::time::{Duration, Instant};

const WATCHDOG: Duration = Duration::from_secs(60);

fn svc() -> ServiceName {
    ServiceName::new("proc/test").unwrap()
}

/// A slice publisher that starts at one byte and grows by powers of two.
fn growing_from_one(service: &PublishSubscribe<[u8]>) -> Publisher<[u8]> {
    service
        .publisher_builder()
        .initial_max_slice_len(1)
        .allocation_strategy(icefloe_linux::AllocationStrategy::PowerOfTwo)
        .create()
        .unwrap()
}

/// Receives until `n` samples arrived or the watchdog fires.
fn receive_n<T: Copy + ZeroCopySend>(sub: &Subscriber<T>, n: usize) -> Vec<T> {
    let deadline = Instant::now() + WATCHDOG;
    let mut got = Vec::with_capacity(n);
    while got.len() < n {
        match sub.receive().expect("receive") {
            Some(s) => got.push(*s),
            None => {
                assert!(Instant::now() < deadline, "watchdog: only {} of {n} samples arrived", got.len());
                std::thread::sleep(Duration::from_micros(50));
            }
        }
    }
    got
}

#[test]
fn child() {
    let Some(role) = role() else { return };
    let prefix = arg("ICEFLOE_TEST_PREFIX");
    let node = node(&prefix);
    match role.as_str() {
        // A publisher that starts small, sends one byte, then grows into a
        // new segment and sends from it, and waits to be killed.
        "pub_grow_send" => {
            let service = node.service_builder(&svc()).publish_subscribe::<[u8]>().open().unwrap();
            let publisher = growing_from_one(&service);
            let deadline = Instant::now() + WATCHDOG;
            while publisher.loan_slice_uninit(1).unwrap().write_from_fn(|_| 1).send().unwrap() == 0 {
                assert!(Instant::now() < deadline, "no subscriber connected");
                std::thread::sleep(Duration::from_millis(1));
            }
            say("first", "");
            listen("grow");
            assert_eq!(publisher.loan_slice_uninit(4096).unwrap().write_from_fn(|_| 2).send().unwrap(), 1);
            say("sent", "");
            std::thread::sleep(Duration::from_secs(60));
        }
        // A node that joins no service, killed by the parent.
        "bare_node" => {
            say("ready", std::process::id());
            std::thread::sleep(Duration::from_secs(60));
        }
        // Receives `N` u64 samples and checks they are 0..N in order.
        "sub_sequence" => {
            let n: usize = arg("N").parse().unwrap();
            let service = node.service_builder(&svc()).publish_subscribe::<u64>().open().unwrap();
            let sub = service.subscriber_builder().create().unwrap();
            say("ready", "");
            let got = receive_n(&sub, n);
            assert_eq!(got, (0..n as u64).collect::<Vec<_>>(), "samples lost, duplicated or reordered");
            say("done", n);
        }
        // Receives N samples from each of two publishers (value = pub * 1e6 + seq).
        "sub_two_publishers" => {
            let n: usize = arg("N").parse().unwrap();
            let service = node.service_builder(&svc()).publish_subscribe::<u64>().open().unwrap();
            let sub = service.subscriber_builder().create().unwrap();
            say("ready", "");
            let got = receive_n(&sub, 2 * n);
            for p in 0..2u64 {
                let mine: Vec<u64> = got.iter().filter(|v| **v / 1_000_000 == p).map(|v| v % 1_000_000).collect();
                assert_eq!(mine, (0..n as u64).collect::<Vec<_>>(), "publisher {p}'s samples out of order or missing");
            }
            say("done", "");
        }
        "pub_numbered" => {
            let n: u64 = arg("N").parse().unwrap();
            let id: u64 = arg("ID").parse().unwrap();
            let service = node.service_builder(&svc()).publish_subscribe::<u64>().open().unwrap();
            let publisher = service.publisher_builder().create().unwrap();
            for i in 0..n {
                assert_eq!(publisher.send_copy(id * 1_000_000 + i).unwrap(), 2, "a subscriber was not reached");
            }
            say("done", "");
        }
        // Says ready, waits for "go", then receives what is there.
        "sub_after_go" => {
            let expect: Vec<u64> = arg("EXPECT").split(',').map(|v| v.parse().unwrap()).collect();
            let service = node.service_builder(&svc()).publish_subscribe::<u64>().open().unwrap();
            let sub = service.subscriber_builder().create().unwrap();
            say("ready", "");
            listen("go");
            if let Ok(ms) = std::env::var("DELAY_MS") {
                std::thread::sleep(Duration::from_millis(ms.parse().unwrap()));
            }
            let got = receive_n(&sub, expect.len());
            std::thread::sleep(Duration::from_millis(50));
            assert!(sub.receive().unwrap().is_none(), "more samples than expected");
            assert_eq!(got, expect);
            say("done", "");
        }
        "sub_slices" => {
            let lens: Vec<usize> = arg("LENS").split(',').map(|v| v.parse().unwrap()).collect();
            let service = node.service_builder(&svc()).publish_subscribe::<[u8]>().open().unwrap();
            let sub = service.subscriber_builder().create().unwrap();
            say("ready", "");
            let deadline = Instant::now() + WATCHDOG;
            for &len in &lens {
                let s = loop {
                    if let Some(s) = sub.receive().unwrap() {
                        break s;
                    }
                    assert!(Instant::now() < deadline, "watchdog");
                    std::thread::sleep(Duration::from_micros(50));
                };
                assert_eq!(s.len(), len);
                assert!(s.iter().enumerate().all(|(i, &b)| b == ((i + len) % 251) as u8), "slice of {len} corrupted");
            }
            say("done", "");
        }
        // Takes two samples, holds them, and waits to be killed.
        "sub_hold" => {
            let service = node.service_builder(&svc()).publish_subscribe::<u64>().open().unwrap();
            let sub = service.subscriber_builder().create().unwrap();
            say("ready", "");
            let a = receive_n_held(&sub);
            say("holding", a);
            loop {
                std::thread::sleep(Duration::from_secs(1));
            }
        }
        // Creates the service and a publisher, loans a sample, waits to be killed.
        "pub_hold_loan" => {
            let service = node.service_builder(&svc()).publish_subscribe::<u64>().open_or_create().unwrap();
            let publisher = service.publisher_builder().create().unwrap();
            let loan = publisher.loan_uninit().unwrap();
            say("loaned", "");
            std::thread::sleep(Duration::from_secs(600));
            drop(loan);
        }
        // Holds a loan in a first segment, grows into a second, waits to be killed.
        "pub_grow_hold" => {
            let service = node.service_builder(&svc()).publish_subscribe::<[u8]>().open_or_create().unwrap();
            let publisher = service
                .publisher_builder()
                .allocation_strategy(icefloe_linux::AllocationStrategy::BestFit)
                .create()
                .unwrap();
            let small = publisher.loan_slice_uninit(1).unwrap();
            let big = publisher.loan_slice_uninit(1000).unwrap();
            say("grown", publisher.chunk_stats().segments);
            std::thread::sleep(Duration::from_secs(600));
            drop((small, big));
        }
        // Loops on node.wait until a termination request ends it.
        "wait_loop" => {
            say("ready", "");
            let deadline = Instant::now() + WATCHDOG;
            let err = loop {
                if let Err(e) = node.wait(Duration::from_millis(10)) {
                    break e;
                }
                assert!(Instant::now() < deadline, "watchdog: no termination request arrived");
            };
            say("ended", format!("{err:?}"));
        }
        other => panic!("unknown role {other}"),
    }
}

fn receive_n_held(sub: &Subscriber<u64>) -> usize {
    let deadline = Instant::now() + WATCHDOG;
    let mut held = Vec::new();
    while held.len() < 2 {
        if let Some(s) = sub.receive().unwrap() {
            held.push(s);
        } else {
            assert!(Instant::now() < deadline, "watchdog");
            std::thread::sleep(Duration::from_micros(50));
        }
    }
    let n = held.len();
    std::mem::forget(held); // keep holding them until killed
    n
}

#[test]
fn one_publisher_three_subscriber_processes() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let service = node
            .service_builder(&svc())
            .publish_subscribe::<u64>()
            .enable_safe_overflow(false)
            .subscriber_max_buffer_size(16)
            .create()
            .unwrap();
        let publisher = service
            .publisher_builder()
            .backpressure_strategy(BackpressureStrategy::RetryUntilDelivered)
            .create()
            .unwrap();
        let n = 2000u64;
        let mut peers: Vec<Peer> =
            (0..3).map(|_| Peer::spawn("child", "sub_sequence", &prefix, &[("N", n.to_string())])).collect();
        for p in &mut peers {
            p.expect("ready");
        }
        for i in 0..n {
            assert_eq!(publisher.send_copy(i).unwrap(), 3, "sample {i} did not reach all three subscribers");
        }
        for mut p in peers {
            assert_eq!(p.expect("done"), n.to_string());
            assert!(p.wait(WATCHDOG), "a subscriber process failed");
        }
    }
    assert_clean(&prefix);
}

#[test]
fn two_publisher_processes_to_two_subscriber_processes() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let _service = node
            .service_builder(&svc())
            .publish_subscribe::<u64>()
            .max_publishers(2)
            .enable_safe_overflow(false)
            .subscriber_max_buffer_size(8)
            .create()
            .unwrap();
        let n = 1000;
        let mut subs: Vec<Peer> =
            (0..2).map(|_| Peer::spawn("child", "sub_two_publishers", &prefix, &[("N", n.to_string())])).collect();
        for s in &mut subs {
            s.expect("ready");
        }
        let pubs: Vec<Peer> = (0..2)
            .map(|id| Peer::spawn("child", "pub_numbered", &prefix, &[("N", n.to_string()), ("ID", id.to_string())]))
            .collect();
        for mut p in pubs {
            p.expect("done");
            assert!(p.wait(WATCHDOG), "a publisher process failed");
        }
        for mut s in subs {
            s.expect("done");
            assert!(s.wait(WATCHDOG), "a subscriber process failed");
        }
    }
    assert_clean(&prefix);
}

fn overflow_case(overflow: bool, strategy: BackpressureStrategy, sends: &[u64], expect: &str, delivered: &[usize]) {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let service = node
            .service_builder(&svc())
            .publish_subscribe::<u64>()
            .enable_safe_overflow(overflow)
            .subscriber_max_buffer_size(2)
            .create()
            .unwrap();
        let publisher = service.publisher_builder().backpressure_strategy(strategy).create().unwrap();
        let mut args = vec![("EXPECT", expect.to_string())];
        if strategy == BackpressureStrategy::RetryUntilDelivered && !overflow {
            args.push(("DELAY_MS", "200".to_string()));
        }
        let mut sub = Peer::spawn("child", "sub_after_go", &prefix, &args);
        sub.expect("ready");
        if strategy == BackpressureStrategy::RetryUntilDelivered && !overflow {
            sub.tell("go"); // the subscriber drains while we block
        }
        let got: Vec<usize> = sends.iter().map(|&v| publisher.send_copy(v).unwrap()).collect();
        assert_eq!(got, delivered);
        sub.tell("go");
        sub.expect("done");
        assert!(sub.wait(WATCHDOG));
    }
    assert_clean(&prefix);
}

#[test]
fn safe_overflow_drops_the_oldest() {
    overflow_case(true, BackpressureStrategy::RetryUntilDelivered, &[1, 2, 3, 4, 5], "4,5", &[1; 5]);
}

#[test]
fn discard_data_drops_the_newest() {
    overflow_case(false, BackpressureStrategy::DiscardData, &[1, 2, 3, 4, 5], "1,2", &[1, 1, 0, 0, 0]);
}

#[test]
fn retry_until_delivered_loses_nothing() {
    overflow_case(false, BackpressureStrategy::RetryUntilDelivered, &[1, 2, 3, 4, 5, 6], "1,2,3,4,5,6", &[1; 6]);
}

#[test]
fn late_subscriber_process_receives_history() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let service = node
            .service_builder(&svc())
            .publish_subscribe::<u64>()
            .history_size(3)
            .subscriber_max_buffer_size(3)
            .create()
            .unwrap();
        let publisher = service.publisher_builder().create().unwrap();
        for v in 1..=5 {
            assert_eq!(publisher.send_copy(v).unwrap(), 0);
        }
        let mut sub = Peer::spawn("child", "sub_after_go", &prefix, &[("EXPECT", "3,4,5".to_string())]);
        sub.expect("ready");
        publisher.update_connections();
        sub.tell("go");
        sub.expect("done");
        assert!(sub.wait(WATCHDOG));
    }
    assert_clean(&prefix);
}

#[test]
fn slices_cross_processes_intact() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let service =
            node.service_builder(&svc()).publish_subscribe::<[u8]>().enable_safe_overflow(false).create().unwrap();
        // The publisher starts small and grows as the slices do: the
        // subscriber maps each new segment on first sight.
        let publisher = service
            .publisher_builder()
            .initial_max_slice_len(1)
            .allocation_strategy(icefloe_linux::AllocationStrategy::PowerOfTwo)
            .max_slice_len(1 << 20)
            .create()
            .unwrap();
        let lens = [0usize, 1, 7, 4096, 65_537, 3, 1 << 20, 100];
        let list = lens.iter().map(|l| l.to_string()).collect::<Vec<_>>().join(",");
        let mut sub = Peer::spawn("child", "sub_slices", &prefix, &[("LENS", list)]);
        sub.expect("ready");
        for len in lens {
            let s = publisher.loan_slice_uninit(len).unwrap().write_from_fn(|i| ((i + len) % 251) as u8);
            assert_eq!(s.send().unwrap(), 1);
        }
        sub.expect("done");
        assert!(sub.wait(WATCHDOG));
        assert!(publisher.number_of_growths() >= 4);
    }
    assert_clean(&prefix);
}

#[test]
fn killed_subscriber_chunks_are_reclaimed() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let service =
            node.service_builder(&svc()).publish_subscribe::<u64>().subscriber_max_buffer_size(4).create().unwrap();
        let publisher = service.publisher_builder().create().unwrap();
        let total = publisher.chunk_stats().total;
        let mut sub = Peer::spawn("child", "sub_hold", &prefix, &[]);
        sub.expect("ready");
        for v in 0..4 {
            assert_eq!(publisher.send_copy(v).unwrap(), 1);
        }
        sub.expect("holding");
        publisher.send_copy(4).unwrap();
        publisher.send_copy(5).unwrap();
        assert_eq!(publisher.chunk_stats().free, total - 6, "2 held + 4 queued should be out");
        sub.kill9();
        let cleaned = eventually(WATCHDOG, "the dead subscriber to be cleaned", || {
            let c = node.cleanup_dead_nodes();
            (c.cleanups > 0).then_some(c.cleanups)
        });
        assert_eq!(cleaned, 1);
        sub.reap();
        assert_eq!(publisher.chunk_stats().free, total, "chunks of the dead subscriber not reclaimed");
        // A restarted subscriber works.
        let mut again = Peer::spawn("child", "sub_after_go", &prefix, &[("EXPECT", "77".to_string())]);
        again.expect("ready");
        assert_eq!(publisher.send_copy(77).unwrap(), 1);
        again.tell("go");
        again.expect("done");
        assert!(again.wait(WATCHDOG));
    }
    assert_clean(&prefix);
}

#[test]
fn killed_publisher_service_can_be_created_again() {
    let prefix = unique_prefix();
    {
        let mut p = Peer::spawn("child", "pub_hold_loan", &prefix, &[]);
        p.expect("loaned");
        assert_eq!(segments(&prefix).len(), 2, "service and data segment expected");
        p.kill9();
        p.reap();
        let node = node(&prefix);
        let service = node
            .service_builder(&svc())
            .publish_subscribe::<u64>()
            .create()
            .expect("a service whose only node died can be created again");
        let publisher = service.publisher_builder().create().unwrap();
        let subscriber = service.subscriber_builder().create().unwrap();
        publisher.send_copy(9).unwrap();
        assert_eq!(*subscriber.receive().unwrap().unwrap(), 9);
        assert_eq!(segments(&prefix).len(), 2, "the dead publisher's data segment was not removed");
        assert_eq!(shm_left(&prefix).len(), 3, "and of node records only this one's is left");
    }
    assert_clean(&prefix);
}

fn signal_ends_wait(signal: libc::c_int, expect: &str) {
    let prefix = unique_prefix();
    let mut p = Peer::spawn("child", "wait_loop", &prefix, &[]);
    p.expect("ready");
    p.signal(signal);
    assert_eq!(p.expect("ended"), expect);
    assert!(p.wait(WATCHDOG), "the process did not end cleanly after signal {signal}");
    assert_clean(&prefix);
}

#[test]
fn sigint_ends_node_wait_with_interrupt() {
    signal_ends_wait(libc::SIGINT, "Interrupt");
}

#[test]
fn sigterm_ends_node_wait_with_termination_request() {
    signal_ends_wait(libc::SIGTERM, "TerminationRequest");
}

#[test]
fn killed_growing_publisher_leaves_no_segment_behind() {
    let prefix = unique_prefix();
    {
        let mut p = Peer::spawn("child", "pub_grow_hold", &prefix, &[]);
        assert_eq!(p.expect("grown"), "2");
        assert_eq!(segments(&prefix).len(), 3, "service and two data segments expected");
        p.kill9();
        p.reap();
        let node = node(&prefix);
        let cleaned = node.cleanup_dead_nodes();
        assert_eq!(cleaned.cleanups, 1);
    }
    assert_clean(&prefix);
}

/// The service of the test below: room for one server.
fn churn_service(node: &Node) -> RequestResponse<u64, u64> {
    node.service_builder(&ServiceName::new("churn/slots").unwrap())
        .request_response::<u64, u64>()
        .max_servers(1)
        .open_or_create()
        .unwrap()
}

/// The child of the test below: creates and drops servers in a loop until
/// it is killed.
fn server_churner(prefix: &str) {
    let node = node(prefix);
    let service = churn_service(&node);
    say("ready", "");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while std::time::Instant::now() < deadline {
        if let Ok(server) = service.server_builder().create() {
            drop(server);
        }
    }
}

#[test]
fn a_port_killed_while_it_is_created_leaves_no_slot_taken() {
    // Issue 14, finding 1: a server SIGKILLed inside its creation (after
    // claiming its slot, before writing its owner) left the slot taken for
    // good. Kills land at random points of the churn; each is followed by a
    // cleanup, after which the one server slot must be free again.
    if let Some("churner") = role().as_deref() {
        return server_churner(&std::env::var("ICEFLOE_TEST_PREFIX").unwrap());
    }
    let prefix = unique_prefix();
    let node = node(&prefix);
    let service = churn_service(&node);
    for round in 0..40u64 {
        let mut peer = Peer::spawn("a_port_killed_while_it_is_created_leaves_no_slot_taken", "churner", &prefix, &[]);
        peer.expect("ready");
        std::thread::sleep(Duration::from_micros(200 + (round * 7919) % 3000));
        peer.kill9();
        peer.reap();
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        let mut cleaned = 0;
        while cleaned == 0 {
            assert!(std::time::Instant::now() < deadline, "round {round}: the killed node was never cleaned");
            cleaned = service.cleanup_dead_nodes();
        }
        let server = service.server_builder().create();
        assert!(server.is_ok(), "round {round}: the slot stayed taken: {:?}", server.err());
    }
}

#[test]
fn a_receiver_passes_over_what_a_killed_sender_sent_from_a_segment_gone_with_it() {
    // Issue 14, finding 5: a subscriber got `UnableToMapPublishersDataSegment`
    // (and its connection was marked corrupt) for a sample whose publisher
    // had been SIGKILLed and cleaned up before the subscriber mapped the
    // segment the sample lay in. Nobody is at fault and nothing can be read:
    // the sample is passed over quietly, what came from the segment the
    // subscriber had mapped is still read, and the next publisher is heard.
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let service = node.service_builder(&svc()).publish_subscribe::<[u8]>().max_publishers(1).create().unwrap();
        let subscriber = service.subscriber_builder().create().unwrap();
        let mut p = Peer::spawn("child", "pub_grow_send", &prefix, &[]);
        p.expect("first");
        let first = eventually(WATCHDOG, "the first sample", || subscriber.receive().unwrap());
        assert_eq!(&*first, &[1u8][..]);
        drop(first);
        p.tell("grow");
        p.expect("sent");
        p.kill9();
        p.reap();
        assert_eq!(node.cleanup_dead_nodes().cleanups, 1);
        assert!(matches!(subscriber.receive(), Ok(None)), "the sample from the unlinked segment is passed over");
        let publisher = service.publisher_builder().create().unwrap();
        let deadline = Instant::now() + WATCHDOG;
        loop {
            assert!(Instant::now() < deadline, "the new publisher never reached the subscriber");
            publisher.update_connections();
            if publisher.loan_slice_uninit(1).unwrap().write_from_fn(|_| 3).send().unwrap() == 1 {
                break;
            }
            assert!(subscriber.receive().unwrap().is_none());
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(&*subscriber.receive().unwrap().expect("the new publisher's sample"), &[3u8][..]);
    }
    assert_clean(&prefix);
}

#[test]
fn a_receiver_passes_over_what_a_departed_sender_sent_from_a_segment_it_took_along() {
    // The same without a crash: a publisher grows, sends from its new
    // segment (which the subscriber has not mapped) and is dropped before
    // the subscriber looked.
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let service = node.service_builder(&svc()).publish_subscribe::<[u8]>().create().unwrap();
        let subscriber = service.subscriber_builder().create().unwrap();
        {
            let publisher = growing_from_one(&service);
            assert_eq!(publisher.loan_slice_uninit(1).unwrap().write_from_fn(|_| 1).send().unwrap(), 1);
            assert_eq!(&*subscriber.receive().unwrap().expect("the first sample"), &[1u8][..]);
            assert_eq!(publisher.loan_slice_uninit(4096).unwrap().write_from_fn(|_| 2).send().unwrap(), 1);
        }
        assert!(matches!(subscriber.receive(), Ok(None)), "passed over, not an error");
        let publisher = service.publisher_builder().initial_max_slice_len(2).create().unwrap();
        assert_eq!(publisher.loan_slice_uninit(2).unwrap().write_from_fn(|_| 3).send().unwrap(), 1);
        assert_eq!(&*subscriber.receive().unwrap().expect("the next publisher's sample"), &[3u8, 3][..]);
    }
    assert_clean(&prefix);
}

#[test]
fn a_killed_process_that_joined_no_service_leaves_no_liveness_record() {
    // Its record in /dev/shm (`icefloe_live_<pid>_…`) is not named by any
    // service, so no service's cleanup meets it: `cleanup_dead_nodes`
    // sweeps the records of dead processes.
    let prefix = unique_prefix();
    let mut p = Peer::spawn("child", "bare_node", &prefix, &[]);
    let pid = p.expect("ready");
    let records = || shm_left(&format!("icefloe_live_{pid}_"));
    assert_eq!(records().len(), 1, "the child's liveness record");
    p.kill9();
    p.reap();
    assert_eq!(records().len(), 1, "a SIGKILLed process cannot remove its record");
    node(&prefix).cleanup_dead_nodes();
    assert!(records().is_empty(), "the dead process's record was not swept: {:?}", records());
    assert_clean(&prefix);
}

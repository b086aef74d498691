//! icefloe between FreeRTOS tasks on the POSIX simulator: publish-subscribe
//! and request-response with slices growing up to `max_slice_len`, a task
//! deleted while holding samples, limits, and an arena too small.

mod common;

use common::*;
use icefloe_core::platform::Platform;
use icefloe_core::sync::{Ordering, SignalWord};
use icefloe_core::{
    AllocationStrategy, EventId, LoanError, NodeBuilder, PublisherCreateError, ServiceCreateError, ServiceName,
    SubscriberCreateError,
};
use icefloe_freertos::{FreeRtos, ARENA_BYTES};
use std::mem::ManuallyDrop;

type Node = icefloe_core::Node<FreeRtos>;

fn node() -> Node {
    NodeBuilder::<FreeRtos>::new().create().expect("node")
}

fn name(s: &str) -> ServiceName {
    ServiceName::new(s).expect("service name")
}

fn assert_arena_empty(what: &str) {
    assert_eq!(FreeRtos::free_bytes(), ARENA_BYTES, "{what} left segments in the arena");
}

// ---- publish-subscribe between two tasks -------------------------------

const ROUNDS: u32 = 48;
const MAX_LEN: usize = 256;
static PS_READY: SignalWord = SignalWord::new(0);
static PS_SENT: SignalWord = SignalWord::new(0);
static PS_ACK: SignalWord = SignalWord::new(0);
static PS_DONE: SignalWord = SignalWord::new(0);

fn len_of(n: u32) -> usize {
    ((n * n) as usize).min(MAX_LEN)
}

fn pubsub_service(node: &Node) -> icefloe_core::PublishSubscribe<FreeRtos, [u32]> {
    node.service_builder(&name("fr/pose"))
        .publish_subscribe::<[u32]>()
        .max_publishers(1)
        .max_subscribers(2)
        .max_nodes(4)
        .open_or_create()
        .expect("pose service")
}

fn publisher_task() {
    guarded(|| {
        let node = node();
        let service = pubsub_service(&node);
        let publisher = service
            .publisher_builder()
            .initial_max_slice_len(4)
            .allocation_strategy(AllocationStrategy::PowerOfTwo)
            .max_slice_len(MAX_LEN as u32)
            .create()
            .expect("publisher");
        wait_for(&PS_READY, 1);
        for n in 1..=ROUNDS {
            let sample = publisher.loan_slice_uninit(len_of(n)).expect("loan").write_from_fn(|i| n * 1000 + i as u32);
            assert_eq!(sample.send().expect("send"), 1, "round {n} reached no subscriber");
            announce(&PS_SENT, n);
            wait_for(&PS_ACK, n);
        }
        assert!(publisher.number_of_growths() >= 5, "slices of 1..256 from 4 should grow 6 times");
    });
    // After the task's ports and node are gone.
    bump(&PS_DONE);
}

fn subscriber_task() {
    guarded(|| {
        let node = node();
        let service = pubsub_service(&node);
        let subscriber = service.subscriber_builder().create().expect("subscriber");
        announce(&PS_READY, 1);
        for n in 1..=ROUNDS {
            wait_for(&PS_SENT, n);
            let sample = subscriber.receive().expect("receive").expect("a sample per round");
            assert_eq!(sample.len(), len_of(n));
            assert!(sample.iter().enumerate().all(|(i, &v)| v == n * 1000 + i as u32), "round {n} content");
            drop(sample);
            announce(&PS_ACK, n);
        }
    });
    // After the task's ports and node are gone.
    bump(&PS_DONE);
}

fn publish_subscribe_between_tasks() {
    spawn(c"sub", 2, subscriber_task);
    spawn(c"pub", 2, publisher_task);
    wait_for(&PS_DONE, 2);
    assert_arena_empty("publish-subscribe");
}

// ---- request-response with growing slices between two tasks ------------

const MAX_REQUEST: usize = 512;
static RR_READY: SignalWord = SignalWord::new(0);
static RR_DONE: SignalWord = SignalWord::new(0);
static RR_SERVED: SignalWord = SignalWord::new(0);

fn rr_service(node: &Node) -> icefloe_core::RequestResponse<FreeRtos, [u8], [u8]> {
    node.service_builder(&name("fr/rr"))
        .request_response::<[u8], [u8]>()
        .max_clients(1)
        .max_servers(1)
        .max_nodes(4)
        .max_active_requests_per_client(2)
        .open_or_create()
        .expect("rr service")
}

fn byte(i: usize, n: u32) -> u8 {
    ((i + n as usize) % 251) as u8
}

fn server_task() {
    guarded(|| {
        let node = node();
        let service = rr_service(&node);
        let server = service
            .server_builder()
            .initial_max_slice_len(8)
            .allocation_strategy(AllocationStrategy::PowerOfTwo)
            .max_slice_len(MAX_REQUEST as u32)
            .create()
            .expect("server");
        announce(&RR_READY, 1);
        let mut served = 0;
        while served < ROUNDS {
            let Some(request) = server.receive().expect("receive") else {
                FreeRtos::signal_wait(&RR_READY, RR_READY.load(Ordering::Acquire), Some(WATCHDOG));
                continue;
            };
            served += 1;
            let n = u32::from(request[0]);
            assert!(request.iter().enumerate().all(|(i, &b)| b == byte(i, n)), "request {served} content");
            // A stream of two responses: the request's length, then half.
            for len in [request.len(), request.len() / 2 + 1] {
                request
                    .loan_slice_uninit(len)
                    .expect("response loan")
                    .write_from_fn(|i| byte(i, n + 1))
                    .send()
                    .expect("respond");
            }
            drop(request);
            announce(&RR_SERVED, served);
        }
        assert!(server.number_of_growths() >= 4, "responses of 1..512 bytes from 8 should grow");
    });
    // After the task's ports and node are gone.
    bump(&RR_DONE);
}

fn client_task() {
    guarded(|| {
        let node = node();
        let service = rr_service(&node);
        let client = service
            .client_builder()
            .initial_max_slice_len(8)
            .allocation_strategy(AllocationStrategy::PowerOfTwo)
            .max_slice_len(MAX_REQUEST as u32)
            .create()
            .expect("client");
        wait_for(&RR_READY, 1);
        for n in 1..=ROUNDS {
            let len = ((n * n) as usize).min(MAX_REQUEST);
            // Byte 0 carries the round (below 251), so the server knows `n`.
            let request = client.loan_slice_uninit(len).expect("request loan").write_from_fn(|i| byte(i, n));
            let pending = request.send().expect("send request");
            bump(&RR_READY);
            wait_for(&RR_SERVED, n);
            for expected in [len, len / 2 + 1] {
                let response = pending.receive().expect("receive response").expect("a response");
                assert_eq!(response.len(), expected, "round {n}");
                assert!(response.iter().enumerate().all(|(i, &b)| b == byte(i, n + 1)), "round {n} response content");
            }
            assert!(pending.receive().expect("receive").is_none(), "a third response");
            assert!(!pending.is_connected(), "the stream did not end with the request");
        }
        assert_eq!(client.loan_slice_uninit(MAX_REQUEST + 1).err(), Some(LoanError::ExceedsMaxLoanSize));
        assert!(client.number_of_growths() >= 4, "requests of 1..512 bytes from 8 should grow");
    });
    // After the task's ports and node are gone.
    bump(&RR_DONE);
}

fn request_response_between_tasks() {
    spawn(c"server", 2, server_task);
    spawn(c"client", 2, client_task);
    wait_for(&RR_DONE, 2);
    assert_arena_empty("request-response");
}

// ---- a task deleted while it holds samples -----------------------------

static VICTIM: SignalWord = SignalWord::new(0);

/// Holds two samples and then sleeps until deleted. Nothing here has drop
/// glue, as in a real task whose memory simply stops being used: the
/// deletion leaves every object undropped.
fn victim_task() {
    let node = ManuallyDrop::new(node());
    let service = ManuallyDrop::new(
        node.service_builder(&name("fr/victim")).publish_subscribe::<u64>().open().expect("victim service"),
    );
    let subscriber = ManuallyDrop::new(service.subscriber_builder().create().expect("victim subscriber"));
    announce(&VICTIM, 1);
    wait_for(&VICTIM, 2);
    let held = [0, 1].map(|_| ManuallyDrop::new(subscriber.receive().ok().flatten()));
    announce(&VICTIM, if held.iter().all(|s| s.is_some()) { 3 } else { 100 });
    loop {
        icefloe_freertos::task::delay_ticks(1000);
    }
}

fn deleted_task_is_cleaned_up() {
    {
        let node = node();
        let service = node
            .service_builder(&name("fr/victim"))
            .publish_subscribe::<u64>()
            .subscriber_max_buffer_size(4)
            .create()
            .unwrap();
        let publisher = service.publisher_builder().create().unwrap();
        let total = publisher.chunk_stats().total;
        let victim = spawn(c"victim", 2, victim_task);
        wait_for(&VICTIM, 1);
        for v in 0..4 {
            assert_eq!(publisher.send_copy(v).unwrap(), 1);
        }
        announce(&VICTIM, 2);
        wait_for(&VICTIM, 3);
        assert_eq!(VICTIM.load(Ordering::Acquire), 3, "the victim did not get its two samples");
        publisher.send_copy(4).unwrap();
        publisher.send_copy(5).unwrap();
        assert_eq!(publisher.chunk_stats().free, total - 6, "2 held + 4 queued should be out");
        assert_eq!(node.cleanup_dead_nodes().cleanups, 0, "a live task was cleaned up");

        victim.delete();
        assert_eq!(node.cleanup_dead_nodes().cleanups, 1, "the deleted task's node was not cleaned up");
        assert_eq!(publisher.chunk_stats().free, total, "chunks the deleted task held were not reclaimed");
        assert_eq!(publisher.send_copy(6).unwrap(), 0, "the deleted task's subscriber still counts");
        assert!(FreeRtos::free_bytes() < ARENA_BYTES);
    }
    // Its mappings of the service segment are given back with the rest.
    assert_arena_empty("the deleted task");
}

// ---- limits and an arena too small ---------------------------------------

fn limits_are_typed_errors() {
    {
        let node = node();
        let service = node
            .service_builder(&name("fr/limits"))
            .publish_subscribe::<[u8]>()
            .max_publishers(1)
            .max_subscribers(1)
            .create()
            .unwrap();
        let publisher = service.publisher_builder().max_slice_len(64).create().unwrap();
        assert_eq!(
            service.publisher_builder().create().err(),
            Some(PublisherCreateError::ExceedsMaxSupportedPublishers)
        );
        let _subscriber = service.subscriber_builder().create().unwrap();
        assert_eq!(
            service.subscriber_builder().create().err(),
            Some(SubscriberCreateError::ExceedsMaxSupportedSubscribers)
        );
        assert_eq!(publisher.loan_slice_uninit(65).err(), Some(LoanError::ExceedsMaxLoanSize));
        let a = publisher.loan_slice_uninit(1).unwrap();
        let b = publisher.loan_slice_uninit(1).unwrap();
        assert_eq!(publisher.loan_slice_uninit(1).err(), Some(LoanError::ExceedsMaxLoans));
        drop((a, b));
    }
    assert_arena_empty("the limits check");
}

fn an_arena_too_small_fails_at_creation() {
    {
        let node = node();
        // A service segment larger than the arena.
        let big = node
            .service_builder(&name("fr/huge"))
            .publish_subscribe::<u64>()
            .max_subscribers(64)
            .max_publishers(16)
            .subscriber_max_buffer_size(64);
        assert!(big.footprint().unwrap().service_segment > ARENA_BYTES);
        assert_eq!(big.create().err(), Some(ServiceCreateError::InsufficientResources));
        // A service that fits, with a publisher whose data segment does not:
        // refused when the publisher is created, not at its first loan.
        let service = node.service_builder(&name("fr/wide")).publish_subscribe::<[u8; 16 * 1024]>().create().unwrap();
        let free = FreeRtos::free_bytes();
        assert!(matches!(
            service.publisher_builder().create().err(),
            Some(PublisherCreateError::UnableToCreateDataSegment(
                icefloe_core::platform::ShmError::InsufficientResources
            ))
        ));
        assert_eq!(FreeRtos::free_bytes(), free, "a refused publisher kept arena bytes");
        // A slice publisher allowed to grow past the arena: the growth that
        // does not fit is refused with a typed error, nothing is lost.
        let slices =
            node.service_builder(&name("fr/grow")).publish_subscribe::<[u8]>().max_slice_len(1 << 20).create().unwrap();
        let publisher = slices
            .publisher_builder()
            .allocation_strategy(AllocationStrategy::BestFit)
            .max_slice_len(1 << 20)
            .create()
            .unwrap();
        let subscriber = slices.subscriber_builder().create().unwrap();
        assert_eq!(publisher.loan_slice_uninit(ARENA_BYTES).err(), Some(LoanError::OutOfMemory));
        publisher.loan_slice_uninit(100).unwrap().write_from_fn(|i| i as u8).send().unwrap();
        assert_eq!(subscriber.receive().unwrap().unwrap().len(), 100);
    }
    assert_arena_empty("the arena-size check");
}

// ---- events between tasks ----------------------------------------------

static EV_STATE: SignalWord = SignalWord::new(0);
static EV_SEEN: SignalWord = SignalWord::new(0);

fn event_service(node: &Node) -> icefloe_core::Event<FreeRtos> {
    node.service_builder(&name("fr/bell"))
        .event()
        .max_notifiers(2)
        .max_listeners(2)
        .max_nodes(4)
        .event_id_max_value(31)
        .notifier_dead_event(EventId::new(31))
        .open_or_create()
        .expect("event service")
}

/// Sleeps in `blocking_wait` (a task notification) until events arrive;
/// records the ids and counts it got, as `id * 1000 + count`, one batch at
/// a time, until it sees the dead event.
fn listener_task() {
    guarded(|| {
        let node = node();
        let event = event_service(&node);
        let listener = event.listener_builder().create().expect("listener");
        announce(&EV_STATE, 1);
        let mut done = false;
        while !done {
            let mut batch = 0u32;
            listener
                .blocking_wait(|e| {
                    batch = batch * 100_000 + e.id.as_value() * 1000 + e.count;
                    done |= e.id.as_value() == 31;
                })
                .expect("blocking wait");
            announce(&EV_SEEN, batch);
            wait_for(&EV_STATE, EV_STATE.load(Ordering::Acquire) + 1);
        }
    });
    bump(&EV_DONE);
}

static DOOMED: SignalWord = SignalWord::new(0);
static EV_DONE: SignalWord = SignalWord::new(0);

/// A notifier that is deleted while it lives (its node never dropped).
fn doomed_notifier_task() {
    let node = ManuallyDrop::new(node());
    let event = ManuallyDrop::new(event_service(&node));
    let notifier = ManuallyDrop::new(event.notifier_builder().create().expect("doomed notifier"));
    let _ = notifier.notify_with_custom_event_id(EventId::new(5));
    announce(&DOOMED, 1);
    loop {
        icefloe_freertos::task::delay_ticks(1000);
    }
}

fn events_between_tasks() {
    {
        let node = node();
        let event = event_service(&node);
        // The listener runs at a higher priority: each notification wakes it
        // at once, from its sleep on a task notification.
        spawn(c"listener", 3, listener_task);
        wait_for(&EV_STATE, 1);
        let notifier = event.notifier_builder().default_event_id(EventId::new(7)).create().unwrap();
        // The listener's loop: sleep in `blocking_wait`, report the batch in
        // EV_SEEN, then hold until EV_STATE moves on.
        let go_on = || announce(&EV_STATE, EV_STATE.load(Ordering::Acquire) + 1);
        for round in 1..=5u32 {
            EV_SEEN.store(0, Ordering::Release);
            if round > 1 {
                go_on();
            }
            assert_eq!(notifier.notify().unwrap(), 1);
            wait_for(&EV_SEEN, 1);
            assert_eq!(EV_SEEN.load(Ordering::Acquire), 7001, "round {round}: one notification of id 7");
        }
        // Two notifications while the listener holds (not waiting) coalesce.
        notifier.notify_with_custom_event_id(EventId::new(2)).unwrap();
        notifier.notify_with_custom_event_id(EventId::new(2)).unwrap();
        EV_SEEN.store(0, Ordering::Release);
        go_on();
        wait_for(&EV_SEEN, 1);
        assert_eq!(EV_SEEN.load(Ordering::Acquire), 2002, "two notifications of id 2 coalesce into a count of 2");
        // A notifier task that is deleted: cleanup sends the dead event.
        let doomed = spawn(c"doomed", 2, doomed_notifier_task);
        wait_for(&DOOMED, 1);
        EV_SEEN.store(0, Ordering::Release);
        go_on();
        wait_for(&EV_SEEN, 1);
        assert_eq!(EV_SEEN.load(Ordering::Acquire), 5001);
        EV_SEEN.store(0, Ordering::Release);
        go_on();
        doomed.delete();
        assert_eq!(node.cleanup_dead_nodes().cleanups, 1, "the deleted notifier's node was not cleaned up");
        wait_for(&EV_SEEN, 1);
        assert_eq!(EV_SEEN.load(Ordering::Acquire), 31_001, "the dead event did not reach the listener");
        go_on();
        wait_for(&EV_DONE, 1);
    }
    assert_arena_empty("the event scenario");
}

// ---- blocking receive and a WaitSet between tasks -----------------------

static BR_GOT: SignalWord = SignalWord::new(0);
static BR_DONE: SignalWord = SignalWord::new(0);

fn blocking_service(node: &Node) -> icefloe_core::PublishSubscribe<FreeRtos, u32, ()> {
    node.service_builder(&name("fr/block"))
        .publish_subscribe::<u32>()
        .max_publishers(1)
        .max_subscribers(1)
        .max_nodes(4)
        .open_or_create()
        .expect("blocking service")
}

/// Sleeps in `blocking_receive` for 3 samples, then in a WaitSet (the
/// subscriber with a deadline) for 3 more; reports each value in BR_GOT.
fn sleeping_subscriber_task() {
    guarded(|| {
        let node = node();
        let service = blocking_service(&node);
        let subscriber = service.subscriber_builder().create().expect("subscriber");
        announce(&BR_GOT, 1);
        for _ in 0..3 {
            let v = *subscriber.blocking_receive().expect("blocking receive");
            announce(&BR_GOT, v);
        }
        let waitset = icefloe_core::WaitSet::<FreeRtos, 2>::new();
        let guard = waitset.attach_deadline(&subscriber, WATCHDOG).expect("attach");
        let mut got = 0;
        while got < 3 {
            waitset
                .wait_and_process_once(|id| {
                    assert!(id.has_event_from(&guard), "the deadline was missed");
                    while let Some(s) = subscriber.receive().expect("receive") {
                        announce(&BR_GOT, *s);
                        got += 1;
                    }
                    icefloe_core::CallbackProgression::Continue
                })
                .expect("waitset");
        }
    });
    bump(&BR_DONE);
}

fn blocking_receive_between_tasks() {
    {
        let node = node();
        let service = blocking_service(&node);
        let publisher = service.publisher_builder().create().unwrap();
        // The subscriber runs at a higher priority: each send wakes it at
        // once from its sleep on a task notification.
        spawn(c"sleeper", 3, sleeping_subscriber_task);
        wait_for(&BR_GOT, 1);
        for v in 10..16u32 {
            assert_eq!(publisher.send_copy(v).unwrap(), 1);
            wait_for(&BR_GOT, v);
            assert_eq!(BR_GOT.load(Ordering::Acquire), v, "the sleeping subscriber did not take {v} at once");
        }
        wait_for(&BR_DONE, 1);
    }
    assert_arena_empty("the blocking-receive scenario");
}

fn body() {
    blocking_receive_between_tasks();
    events_between_tasks();
    publish_subscribe_between_tasks();
    request_response_between_tasks();
    deleted_task_is_cleaned_up();
    limits_are_typed_errors();
    an_arena_too_small_fails_at_creation();
}

#[test]
fn icefloe_between_freertos_tasks() {
    run(body);
}

//! A live receiver that stops consuming must not stall its sender forever:
//! with `RetryUntilDelivered` and a `backpressure_timeout`, the send gives
//! up on that receiver (the others still get everything, in order), and an
//! `unable_to_deliver_handler` is told which receiver stalls and decides.
//! Without either, the sender waits as iceoryx2's does (tested in
//! `processes.rs`: `retry_until_delivered_loses_nothing`).

mod common;

use common::*;
use icefloe_linux::prelude::*;
use icefloe_linux::{UnableToDeliverAction, UnableToDeliverInfo};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WATCHDOG: Duration = Duration::from_secs(30);

fn stalling_service(node: &Node, name: &str) -> PublishSubscribe<u64> {
    node.service_builder(&ServiceName::new(name).unwrap())
        .publish_subscribe::<u64>()
        .enable_safe_overflow(false)
        .subscriber_max_buffer_size(2)
        .create()
        .unwrap()
}

/// A subscriber on another thread that takes `n` samples and returns them.
fn consume(service: &PublishSubscribe<u64>, n: usize) -> std::thread::JoinHandle<Vec<u64>> {
    let subscriber = service.subscriber_builder().create().unwrap();
    std::thread::spawn(move || {
        let deadline = Instant::now() + WATCHDOG;
        let mut got = Vec::new();
        while got.len() < n {
            assert!(Instant::now() < deadline, "the healthy subscriber got only {got:?}");
            match subscriber.receive().unwrap() {
                Some(s) => got.push(*s),
                None => std::thread::sleep(Duration::from_micros(100)),
            }
        }
        got
    })
}

#[test]
fn a_stalled_subscriber_is_passed_over_after_the_backpressure_timeout() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let service = stalling_service(&node, "bp/timeout");
        let stalled = service.subscriber_builder().create().unwrap();
        // Generous: the healthy subscriber must never be given up on, even
        // when this machine deschedules its thread for a while.
        let publisher = service.publisher_builder().backpressure_timeout(Duration::from_secs(1)).create().unwrap();
        let healthy = consume(&service, 5);
        let mut delivered = Vec::new();
        for v in 0..5u64 {
            // Returns: the stalled subscriber is given up on for this sample.
            delivered.push(publisher.send_copy(v).unwrap());
        }
        assert_eq!(healthy.join().unwrap(), (0..5).collect::<Vec<_>>(), "the healthy subscriber got everything");
        // The stalled one holds what its queue held; nothing was lost from
        // it that it had room for, and the counts say who got what.
        assert_eq!(*stalled.receive().unwrap().unwrap(), 0);
        assert_eq!(*stalled.receive().unwrap().unwrap(), 1);
        assert_eq!(&delivered[..2], &[2, 2]);
        assert!(delivered[2..].iter().all(|d| *d == 1), "{delivered:?}");
    }
    assert_clean(&prefix);
}

static ASKED: Mutex<Vec<(u64, Duration)>> = Mutex::new(Vec::new());

/// Waits twice, then gives up on the receiver.
fn patient(info: &UnableToDeliverInfo) -> UnableToDeliverAction {
    let mut asked = ASKED.lock().unwrap();
    asked.push((info.receiver_id, info.waited));
    if asked.len() % 3 == 0 {
        UnableToDeliverAction::DiscardSample
    } else {
        UnableToDeliverAction::Retry
    }
}

#[test]
fn the_handler_is_told_which_subscriber_stalls_and_decides() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let service = stalling_service(&node, "bp/handler");
        let stalled = service.subscriber_builder().create().unwrap();
        let publisher = service
            .publisher_builder()
            .backpressure_timeout(Duration::from_millis(10))
            .unable_to_deliver_handler(patient)
            .create()
            .unwrap();
        for v in 0..2u64 {
            assert_eq!(publisher.send_copy(v).unwrap(), 1);
        }
        assert!(ASKED.lock().unwrap().is_empty(), "no handler call while the queue had room");
        // Full now: the handler is asked three times (retry, retry, give up).
        assert_eq!(publisher.send_copy(2).unwrap(), 0);
        let asked = ASKED.lock().unwrap().clone();
        assert_eq!(asked.len(), 3, "{asked:?}");
        assert!(asked.iter().all(|(id, _)| *id == stalled.id()), "the handler names the stalled subscriber");
        assert!(asked.windows(2).all(|w| w[0].1 < w[1].1), "each call has waited longer: {asked:?}");
        assert!(asked[0].1 >= Duration::from_millis(10), "asked only after the timeout: {asked:?}");
        // Once it consumes, it is served again without asking.
        drop(stalled.receive().unwrap());
        assert_eq!(publisher.send_copy(3).unwrap(), 1);
        assert_eq!(ASKED.lock().unwrap().len(), 3);
    }
    assert_clean(&prefix);
}

#[test]
fn a_server_passes_over_a_client_that_stops_taking_responses() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let service = node
            .service_builder(&ServiceName::new("bp/rpc").unwrap())
            .request_response::<u64, u64>()
            .enable_safe_overflow_for_responses(false)
            .max_response_buffer_size(2)
            .create()
            .unwrap();
        let client = service.client_builder().create().unwrap();
        let server = service.server_builder().backpressure_timeout(Duration::from_millis(20)).create().unwrap();
        let pending = client.send_copy(7).unwrap();
        let request = eventually(WATCHDOG, "the request", || server.receive().unwrap());
        // The client never takes a response: the third one is given up on
        // after the timeout instead of blocking the server for good.
        for v in 0..3u64 {
            request.send_copy(v).unwrap();
        }
        assert_eq!(*pending.receive().unwrap().unwrap(), 0);
        assert_eq!(*pending.receive().unwrap().unwrap(), 1);
        assert!(pending.receive().unwrap().is_none());
    }
    assert_clean(&prefix);
}

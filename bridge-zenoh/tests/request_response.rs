//! Request-response with response streams across two bridges.

// The server thread's stop flag is a plain process atomic.
#![allow(clippy::disallowed_types)]

mod common;
use common::*;
use icefloe_linux::{AllocationStrategy, ServiceName};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[test]
fn a_three_response_stream_crosses_as_three_responses_then_ends() {
    let (a, b) = pair();
    let _ba = a.bridge(&[&b], &["calc"]);
    let _bb = b.bridge(&[&a], &["calc"]);
    let name = ServiceName::new("calc").unwrap();
    // The server on host A answers request k (k bytes) with three responses
    // of k, 2k and 3k bytes, then ends the stream.
    let stop = Arc::new(AtomicBool::new(false));
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let server_thread = {
        let (stop, prefix) = (stop.clone(), a.prefix.clone());
        let name = name.clone();
        std::thread::spawn(move || {
            let node = icefloe_linux::NodeBuilder::new().prefix(&prefix).unwrap().create().unwrap();
            let service = node
                .service_builder(&name)
                .request_response::<[u8], [u8]>()
                .request_max_slice_len(1 << 20)
                .response_max_slice_len(3 << 20)
                .max_response_buffer_size(8) // a stream of 3 fits in flight
                .create()
                .unwrap();
            let server = service.server_builder().allocation_strategy(AllocationStrategy::PowerOfTwo).create().unwrap();
            ready_tx.send(()).unwrap();
            while !stop.load(Ordering::Relaxed) {
                let Some(request) = server.timed_receive(Duration::from_millis(20)).unwrap() else { continue };
                let k = request.payload().len();
                assert!(request.payload().iter().enumerate().all(|(i, &v)| v == byte(i, k)), "request bytes");
                for m in 1..=3 {
                    let r = request.loan_slice_uninit(k * m).unwrap().write_from_fn(|i| byte(i, k * m + m));
                    r.send().unwrap();
                }
            }
        })
    };
    ready_rx.recv_timeout(WATCHDOG).unwrap();
    let nb = b.node();
    let service = nb
        .service_builder(&name)
        .request_response::<[u8], [u8]>()
        .request_max_slice_len(1 << 20)
        .response_max_slice_len(3 << 20)
        .max_response_buffer_size(8)
        .open_or_create()
        .unwrap();
    let client = service.client_builder().allocation_strategy(AllocationStrategy::PowerOfTwo).create().unwrap();
    // Wait until host B's bridge stands in for the remote server.
    assert!(wait_until(WATCHDOG, || service.number_of_servers() > 0), "the remote server never showed up on host B");
    for k in [8usize, 1000, 65_536, 1 << 20] {
        let pending = client.loan_slice_uninit(k).unwrap().write_from_fn(|i| byte(i, k)).send().unwrap();
        let mut lens = Vec::new();
        let deadline = Instant::now() + WATCHDOG;
        while pending.is_connected() || pending.has_response() {
            assert!(Instant::now() < deadline, "the stream for {k} B never ended: got {lens:?}");
            if let Some(r) = pending.receive().unwrap() {
                let m = lens.len() + 1;
                let len = r.payload().len();
                assert!(
                    r.payload().iter().enumerate().all(|(i, &v)| v == byte(i, len + m)),
                    "response {m} of {k}: {len} B after {lens:?}"
                );
                lens.push(len);
            } else {
                std::thread::sleep(Duration::from_micros(200));
            }
        }
        assert_eq!(lens, [k, 2 * k, 3 * k], "three responses, in order, then the end of the stream");
    }
    stop.store(true, Ordering::Relaxed);
    server_thread.join().unwrap();
}

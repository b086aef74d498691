//! Request-response under a hostile peer: a client with pending requests
//! (growing slices), a server holding an active request, then the fuzzer's
//! writes land in the live service segment (listening words and disconnect
//! hints, response connections, "ended" marks, per-channel queues) and the
//! data segments (request tags, lengths), and both sides are driven again.
#![no_main]

use icefloe_fuzz::{corrupt, node, scrub, Frame};
use icefloe_linux::prelude::*;
use icefloe_linux::AllocationStrategy;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, writes)) = data.split_first() else { return };
    let name = ServiceName::new("fz/rpc").unwrap();
    let node = node();
    let Ok(service) = node
        .service_builder(&name)
        .request_response::<[u8], [u8]>()
        .max_clients(2)
        .max_servers(2)
        .max_active_requests_per_client(3)
        .max_response_buffer_size(2)
        .enable_safe_overflow_for_requests(flags & 1 == 0)
        .enable_safe_overflow_for_responses(flags & 2 == 0)
        .create()
    else {
        scrub();
        return;
    };
    let grow = AllocationStrategy::PowerOfTwo;
    // Bounded waits: a queue the fuzzer's words make look full for good
    // would otherwise hold a `RetryUntilDelivered` client forever (the
    // documented default, as in iceoryx2; the server is this same thread).
    let client = service
        .client_builder()
        .initial_max_slice_len(8)
        .allocation_strategy(grow)
        .backpressure_timeout(std::time::Duration::from_millis(2))
        .create()
        .unwrap();
    let server = service
        .server_builder()
        .initial_max_slice_len(8)
        .allocation_strategy(grow)
        .backpressure_strategy(BackpressureStrategy::DiscardData)
        .create()
        .unwrap();
    let frame = Frame { seq: 2, name: "ask", values: [5, 6, 7, 8] };
    let first = client.send_serialized(&frame).ok();
    let second = client.loan_slice_uninit(200).ok().and_then(|l| l.write_from_fn(|i| i as u8).send().ok());
    let active = server.receive().ok().flatten();
    if let Some(a) = &active {
        let _ = a.loan_slice_uninit(64).map(|r| r.write_from_fn(|i| i as u8).send());
    }

    corrupt(writes);

    for _ in 0..3 {
        match server.receive() {
            Ok(Some(request)) => {
                let _ = request.deserialize::<Frame>();
                let _ = (request.is_connected(), request.has_disconnect_hint(), request.len());
                let _ = request.loan_slice_uninit(request.len().min(4096)).map(|r| r.write_from_fn(|i| i as u8).send());
            }
            Ok(None) => break,
            Err(_) => {}
        }
    }
    if let Some(a) = &active {
        let _ = a.send_slice_copy(&[1, 2, 3]);
        let _ = a.is_connected();
    }
    drop(active);
    for pending in [&first, &second].into_iter().flatten() {
        for _ in 0..3 {
            match pending.receive() {
                Ok(Some(r)) => {
                    let _ = r.iter().map(|b| u32::from(*b)).sum::<u32>();
                }
                Ok(None) => break,
                Err(_) => {}
            }
        }
        let _ = (pending.is_connected(), pending.has_response(), pending.payload().len());
        pending.set_disconnect_hint();
    }
    drop((first, second));
    if let Ok(l) = client.loan_slice_uninit(3000) {
        let _ = l.write_from_fn(|i| i as u8).send();
    }
    let _ = (client.chunk_stats(), server.chunk_stats(), client.corrupt_connections(), server.corrupt_connections());
    let _ = service.cleanup_dead_nodes();
    drop((client, server, service, node));
    scrub();
});

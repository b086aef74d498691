//! Publish-subscribe under a hostile peer: a publisher (growing slices),
//! two subscribers (one holding a sample) and history are set going, then
//! the fuzzer's writes land in the live service segment (tables, connection
//! words, submission and completion queues and their hints) and data
//! segments (chunk headers, lengths, reference counts, in-flight bitsets,
//! history ring), and every port is driven again: receive (and decode
//! postcard frames), loan and send, stats, cleanup, a late subscriber, a
//! second opener.
#![no_main]

use icefloe_fuzz::{corrupt, node, scrub, Frame};
use icefloe_linux::prelude::*;
use icefloe_linux::AllocationStrategy;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, writes)) = data.split_first() else { return };
    let name = ServiceName::new("fz/pubsub").unwrap();
    let node = node();
    let Ok(service) = node
        .service_builder(&name)
        .publish_subscribe::<[u8]>()
        .max_publishers(2)
        .max_subscribers(3)
        .history_size(2)
        .subscriber_max_buffer_size(4)
        .enable_safe_overflow(flags & 1 == 0)
        .create()
    else {
        scrub();
        return;
    };
    let publisher = service
        .publisher_builder()
        .initial_max_slice_len(16)
        .allocation_strategy(AllocationStrategy::PowerOfTwo)
        .max_slice_len(1 << 16)
        .backpressure_strategy(BackpressureStrategy::DiscardData)
        .create()
        .unwrap();
    let first = service.subscriber_builder().create().unwrap();
    let second = service.subscriber_builder().create().unwrap();
    let frame = Frame { seq: 1, name: "pose", values: [1, 2, 3, 4] };
    let _ = publisher.send_serialized(&frame);
    let _ = publisher.loan_slice_uninit(300).map(|l| l.write_from_fn(|i| i as u8).send());
    let held = first.receive().ok().flatten();

    corrupt(writes);

    for s in [&first, &second] {
        for _ in 0..4 {
            match s.receive() {
                Ok(Some(sample)) => {
                    let _ = sample.iter().map(|b| u32::from(*b)).sum::<u32>();
                    let _ = sample.deserialize::<Frame>();
                }
                Ok(None) => break,
                Err(_) => {}
            }
        }
        let _ = s.corrupt_connections();
    }
    drop(held);
    for len in [8usize, 100, 5000] {
        if let Ok(loan) = publisher.loan_slice_uninit(len) {
            let _ = loan.write_from_fn(|i| i as u8).send();
        }
    }
    let _ = (publisher.chunk_stats(), publisher.corrupt_connections());
    let _ = service.cleanup_dead_nodes();
    if let Ok(late) = service.subscriber_builder().create() {
        let _ = publisher.send_serialized(&frame);
        let _ = late.receive().map(|s| s.map(|s| s.len()));
    }
    let other = icefloe_fuzz::node();
    let _ = other.service_builder(&name).publish_subscribe::<[u8]>().open();
    drop((first, second, publisher, service, other, node));
    scrub();
});

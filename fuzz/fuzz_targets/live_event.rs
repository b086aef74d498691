//! Events under a hostile peer: notifiers and listeners (alone and in a
//! WaitSet) are set going, the fuzzer's writes land in the live service
//! segment (listener wake words, summary bitmaps, counters, port tables),
//! and every port is driven again.
#![no_main]

use icefloe_fuzz::{corrupt, node, scrub};
use icefloe_linux::prelude::*;
use libfuzzer_sys::fuzz_target;
use std::time::Duration;

fuzz_target!(|data: &[u8]| {
    let name = ServiceName::new("fz/event").unwrap();
    let node = node();
    let Ok(service) =
        node.service_builder(&name).event().max_notifiers(2).max_listeners(2).event_id_max_value(40).create()
    else {
        scrub();
        return;
    };
    let notifier = service.notifier_builder().create().unwrap();
    let listener = service.listener_builder().create().unwrap();
    let other = service.listener_builder().create().unwrap();
    let _ = notifier.notify_with_custom_event_id(EventId::new(3));

    corrupt(data);

    for id in [0u32, 3, 40, 41] {
        let _ = notifier.notify_with_custom_event_id(EventId::new(id));
    }
    let mut seen = 0usize;
    let _ = listener.try_wait(|e| seen = seen.wrapping_add(e.id.as_value() as usize).wrapping_add(e.count as usize));
    let _ = listener.timed_wait(Duration::from_micros(10), |_| {});
    let waitset = WaitSet::<2>::new();
    if let Ok(_guard) = waitset.attach_notification(&other) {
        let _ = waitset.wait_and_process_once_with_timeout(
            |_| {
                let _ = other.try_wait(|_| {});
                CallbackProgression::Continue
            },
            Duration::from_micros(10),
        );
    }
    let _ = service.cleanup_dead_nodes();
    let _ = service.notifier_builder().create();
    drop((notifier, listener, other, service, node));
    scrub();
});

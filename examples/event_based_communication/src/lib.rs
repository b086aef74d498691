//! Event-based communication: a publisher and a subscriber that sleep in a
//! WaitSet until there is something to do. The publisher's WaitSet holds an
//! interval (send one sample per tick); the subscriber's holds its
//! subscriber with a deadline (wake when samples arrive, or when the
//! publisher has been silent for too long). Neither polls.

#[cfg(not(feature = "qnx"))]
pub use icefloe_linux as icefloe;
#[cfg(feature = "qnx")]
pub use icefloe_qnx as icefloe;

use icefloe::prelude::*;
use std::time::Duration;

/// The service both programs use.
pub const SERVICE: &str = "examples/event_based_communication";

/// The payload: a counter and a reading.
#[derive(Debug, Clone, Copy, ZeroCopySend)]
#[repr(C)]
// The platform crate is picked by feature: name its core for the derive.
#[icefloe(crate = "crate::icefloe::icefloe_core")]
pub struct Reading {
    /// Counts from 1.
    pub counter: u64,
    /// A made-up measurement.
    pub value: f64,
}

/// The last reading the publisher sends: the subscriber stops on it.
pub const LAST: u64 = u64::MAX;

fn open(node: &Node) -> Result<PublishSubscribe<Reading>, Box<dyn std::error::Error>> {
    Ok(node
        .service_builder(&ServiceName::new(SERVICE)?)
        .publish_subscribe::<Reading>()
        .subscriber_max_buffer_size(8)
        .open_or_create()?)
}

/// Sends a reading every `period` (`count` of them, or until Ctrl-C), then
/// the [`LAST`] one. Sleeps in a WaitSet between ticks.
pub fn run_publisher(count: Option<u64>, period: Duration) -> Result<(), Box<dyn std::error::Error>> {
    let node = NodeBuilder::new().name(NodeName::new("publisher")?).create()?;
    let service = open(&node)?;
    let publisher = service.publisher_builder().create()?;
    let waitset = WaitSet::<2>::new();
    let tick = waitset.attach_interval(period)?;
    let mut counter = 0u64;
    let result = waitset.wait_and_process(|id| {
        if !id.has_event_from(&tick) {
            return CallbackProgression::Continue;
        }
        counter += 1;
        let reading = Reading { counter, value: counter as f64 * 0.5 };
        match publisher.send_copy(reading) {
            Ok(n) => println!("publisher: sent {counter} to {n} subscriber(s)"),
            Err(e) => println!("publisher: {e}"),
        }
        if count.is_some_and(|n| counter >= n) {
            CallbackProgression::Stop
        } else {
            CallbackProgression::Continue
        }
    })?;
    publisher.send_copy(Reading { counter: LAST, value: 0.0 })?;
    println!("publisher: {result:?} after {counter} reading(s)");
    Ok(())
}

/// Sleeps until readings arrive (printing them) or the publisher is silent
/// for longer than `deadline`; stops on [`LAST`] or Ctrl-C. Returns how many
/// readings arrived.
pub fn run_subscriber(deadline: Duration) -> Result<u64, Box<dyn std::error::Error>> {
    let node = NodeBuilder::new().name(NodeName::new("subscriber")?).create()?;
    let service = open(&node)?;
    let subscriber = service.subscriber_builder().create()?;
    let waitset = WaitSet::<2>::new();
    let guard = waitset.attach_deadline(&subscriber, deadline)?;
    println!("subscriber: ready");
    let mut received = 0u64;
    let result = waitset.wait_and_process(|id| {
        if id.has_missed_deadline(&guard) {
            println!("subscriber: nothing for {deadline:?}");
            return CallbackProgression::Continue;
        }
        while let Ok(Some(sample)) = subscriber.receive() {
            if sample.counter == LAST {
                return CallbackProgression::Stop;
            }
            received += 1;
            println!("subscriber: reading {} = {}", sample.counter, sample.value);
        }
        CallbackProgression::Continue
    })?;
    println!("subscriber: {result:?} after {received} reading(s)");
    Ok(received)
}

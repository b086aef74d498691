//! The publish-subscribe dynamic-data example: a publisher sends byte
//! slices of `min(1_000_000, n²)` bytes in round `n` (byte `i` is
//! `(i + n) % 255`); its data segment grows (`PowerOfTwo`) as they do.
//! Subscribers check every slice and print its size.

#[cfg(not(feature = "qnx"))]
pub use icefloe_linux as icefloe;
#[cfg(feature = "qnx")]
pub use icefloe_qnx as icefloe;

use icefloe::prelude::*;
use std::time::Duration;

/// The service both programs use.
pub const SERVICE: &str = "examples/dynamic_publish_subscribe";

/// The slice length of round `n`.
pub fn len_of(n: u64) -> usize {
    n.saturating_mul(n).min(1_000_000) as usize
}

/// Byte `i` of round `n`.
pub fn byte(i: usize, n: u64) -> u8 {
    ((i as u64 + n) % 255) as u8
}

/// Reads `--NAME N` from the command line.
pub fn arg(flag: &str) -> Result<Option<u64>, std::num::ParseIntError> {
    std::env::args().skip_while(|a| a != flag).nth(1).map(|n| n.parse()).transpose()
}

fn open(node: &Node) -> Result<PublishSubscribe<[u8]>, Box<dyn std::error::Error>> {
    Ok(node
        .service_builder(&ServiceName::new(SERVICE)?)
        .publish_subscribe::<[u8]>()
        .subscriber_max_buffer_size(16)
        // A full subscriber queue makes the publisher wait instead of
        // dropping the oldest slice: every subscriber sees every round.
        .enable_safe_overflow(false)
        .open_or_create()?)
}

/// Publishes round after round until Ctrl-C or `count` rounds (a bounded
/// run counts only rounds that reached a subscriber).
pub fn run_publisher(count: Option<u64>, period: Duration, print_every: u64) -> Result<(), Box<dyn std::error::Error>> {
    let node = NodeBuilder::new().name(NodeName::new("publisher")?).create()?;
    let service = open(&node)?;
    let publisher = service
        .publisher_builder()
        .initial_max_slice_len(16)
        .allocation_strategy(AllocationStrategy::PowerOfTwo)
        .create()?;
    let mut n = 1u64;
    while count.is_none_or(|c| n <= c) && node.wait(period).is_ok() {
        let len = len_of(n);
        let reached = publisher.loan_slice_uninit(len)?.write_from_fn(|i| byte(i, n)).send()?;
        if reached == 0 && count.is_some() {
            // A bounded run waits for its subscriber rather than count
            // rounds nobody saw.
            continue;
        }
        if n.is_multiple_of(print_every.max(1)) {
            println!(
                "publisher: sent {len} bytes to {reached} subscriber(s) (segment holds {})",
                publisher.current_max_slice_len()
            );
        }
        n += 1;
    }
    println!("publisher: done after {} sample(s), {} growth(s)", n - 1, publisher.number_of_growths());
    Ok(())
}

/// Checks and prints every slice until Ctrl-C or `count` samples.
pub fn run_subscriber(count: Option<u64>, print_every: u64) -> Result<(), Box<dyn std::error::Error>> {
    let node = NodeBuilder::new().name(NodeName::new("subscriber")?).create()?;
    let service = open(&node)?;
    let subscriber = service.subscriber_builder().create()?;
    let mut received = 0u64;
    while count.is_none_or(|c| received < c) && node.wait(Duration::from_millis(1)).is_ok() {
        while let Some(sample) = subscriber.receive()? {
            let first = u64::from(sample.first().copied().unwrap_or(0));
            if !sample.iter().enumerate().all(|(i, b)| *b == byte(i, first)) {
                return Err(format!("subscriber: a slice of {} bytes is not filled as sent", sample.len()).into());
            }
            received += 1;
            if received.is_multiple_of(print_every.max(1)) {
                println!("subscriber: received {} bytes", sample.len());
            }
        }
    }
    println!("subscriber: done after {received} sample(s)");
    Ok(())
}

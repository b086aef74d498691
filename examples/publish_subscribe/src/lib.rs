//! The publish-subscribe example: a publisher and a subscriber of a
//! `RobotState`, as two programs (`publisher`, `subscriber`) and as one
//! command that runs both (`publish_subscribe`).

#[cfg(not(feature = "qnx"))]
pub use icefloe_linux as icefloe;
#[cfg(feature = "qnx")]
pub use icefloe_qnx as icefloe;

use icefloe::prelude::*;
use std::time::Duration;

/// A made-up robot state: what a controller might publish at 10 Hz.
#[derive(Debug, Clone, Copy, Default, ZeroCopySend)]
#[repr(C)]
// The platform crate is picked by feature: name its core for the derive.
#[icefloe(crate = "crate::icefloe::icefloe_core")]
pub struct RobotState {
    /// Sequence number.
    pub counter: u64,
    /// Position in metres.
    pub position: [f64; 3],
    /// Battery charge in percent.
    pub battery: f32,
}

/// The service both programs use.
pub const SERVICE: &str = "examples/robot_state";

/// Reads `--count N` from the command line.
pub fn count_arg() -> Result<Option<u64>, std::num::ParseIntError> {
    std::env::args().skip_while(|a| a != "--count").nth(1).map(|n| n.parse()).transpose()
}

/// Publishes a `RobotState` every `period` until Ctrl-C or `count` samples.
pub fn run_publisher(count: Option<u64>, period: Duration) -> Result<(), Box<dyn std::error::Error>> {
    let node = NodeBuilder::new().name(NodeName::new("publisher")?).create()?;
    let service =
        node.service_builder(&ServiceName::new(SERVICE)?).publish_subscribe::<RobotState>().open_or_create()?;
    let publisher = service.publisher_builder().create()?;

    let mut counter = 0u64;
    while node.wait(period).is_ok() && count.is_none_or(|n| counter < n) {
        let t = counter as f64 * 0.1;
        // Loan a chunk of shared memory, write the payload in place, send
        // an 8-byte reference to it.
        let sample = publisher.loan_uninit()?.write_payload(RobotState {
            counter,
            position: [t.cos(), t.sin(), 0.0],
            battery: 100.0 - t as f32,
        });
        let receivers = sample.send()?;
        println!("publisher: sent counter {counter} to {receivers} subscriber(s)");
        counter += 1;
    }
    println!("publisher: done after {counter} sample(s)");
    Ok(())
}

/// Prints every `RobotState` received until Ctrl-C or `count` samples.
pub fn run_subscriber(count: Option<u64>) -> Result<(), Box<dyn std::error::Error>> {
    let node = NodeBuilder::new().name(NodeName::new("subscriber")?).create()?;
    let service =
        node.service_builder(&ServiceName::new(SERVICE)?).publish_subscribe::<RobotState>().open_or_create()?;
    let subscriber = service.subscriber_builder().create()?;

    let mut received = 0u64;
    while node.wait(Duration::from_millis(10)).is_ok() && count.is_none_or(|n| received < n) {
        while let Some(sample) = subscriber.receive()? {
            let s = *sample;
            println!(
                "subscriber: received counter {} position [{:.2}, {:.2}, {:.2}] battery {:.1}%",
                s.counter, s.position[0], s.position[1], s.position[2], s.battery
            );
            received += 1;
        }
    }
    println!("subscriber: done after {received} sample(s)");
    Ok(())
}

//! Publishes a `RobotState` ten times a second until Ctrl-C (or for
//! `--count N` samples).

use example_publish_subscribe::{RobotState, SERVICE};
use icefloe_linux::prelude::*;
use std::time::Duration;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let count: Option<u64> = std::env::args().skip_while(|a| a != "--count").nth(1).map(|n| n.parse()).transpose()?;
    let node = NodeBuilder::new().name(NodeName::new("publisher")?).create()?;
    let service =
        node.service_builder(&ServiceName::new(SERVICE)?).publish_subscribe::<RobotState>().open_or_create()?;
    let publisher = service.publisher_builder().create()?;

    let mut counter = 0u64;
    while node.wait(Duration::from_millis(100)).is_ok() && count.is_none_or(|n| counter < n) {
        let mut sample = publisher.loan_uninit()?;
        let t = counter as f64 * 0.1;
        sample.payload_mut().write(RobotState {
            counter,
            position: [t.cos(), t.sin(), 0.0],
            battery: 100.0 - t as f32,
        });
        // SAFETY: the payload was written on the line above.
        let sample = unsafe { sample.assume_init() };
        let receivers = sample.send()?;
        println!("sent counter {counter} to {receivers} subscriber(s)");
        counter += 1;
    }
    println!("publisher: done");
    Ok(())
}

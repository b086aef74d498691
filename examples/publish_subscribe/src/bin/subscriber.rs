//! Prints every `RobotState` it receives until Ctrl-C (or until `--count N`
//! samples arrived).

use example_publish_subscribe::{RobotState, SERVICE};
use icefloe_linux::prelude::*;
use std::time::Duration;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let count: Option<u64> = std::env::args().skip_while(|a| a != "--count").nth(1).map(|n| n.parse()).transpose()?;
    let node = NodeBuilder::new().name(NodeName::new("subscriber")?).create()?;
    let service =
        node.service_builder(&ServiceName::new(SERVICE)?).publish_subscribe::<RobotState>().open_or_create()?;
    let subscriber = service.subscriber_builder().create()?;

    let mut received = 0u64;
    while node.wait(Duration::from_millis(10)).is_ok() && count.is_none_or(|n| received < n) {
        while let Some(sample) = subscriber.receive()? {
            let s = *sample;
            println!(
                "received counter {} position [{:.2}, {:.2}, {:.2}] battery {:.1}%",
                s.counter, s.position[0], s.position[1], s.position[2], s.battery
            );
            received += 1;
        }
    }
    println!("subscriber: received {received} sample(s)");
    Ok(())
}

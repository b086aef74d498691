//! The Rust side of the Python publish-subscribe test: a subscriber of a
//! `#[repr(C)]` struct that a Python `ctypes.Structure` of the same layout
//! and type name publishes. `pubsub_peer <prefix> <service> <count>` prints
//! `ready`, then each sample as `x y funky`, and exits after `count`.

use icefloe_linux::prelude::*;
use std::time::{Duration, Instant};

/// iceoryx2's example type, as its Python example declares it.
#[derive(Debug, Clone, Copy, ZeroCopySend)]
#[repr(C)]
struct TransmissionData {
    x: i32,
    y: i32,
    funky: f64,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, prefix, service, count] = &args[..] else {
        return Err("usage: pubsub_peer <prefix> <service> <count>".into());
    };
    let count: usize = count.parse()?;
    let node = NodeBuilder::new().prefix(prefix)?.create()?;
    let service =
        node.service_builder(&ServiceName::new(service)?).publish_subscribe::<TransmissionData>().open_or_create()?;
    let subscriber = service.subscriber_builder().create()?;
    println!("ready");
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut got = 0;
    while got < count {
        if Instant::now() > deadline {
            return Err("subscriber: timed out".into());
        }
        while let Some(s) = subscriber.receive()? {
            println!("{} {} {}", s.x, s.y, s.funky);
            got += 1;
        }
        node.wait(Duration::from_millis(1))?;
    }
    Ok(())
}

//! The event example: a notifier wakes a listener with event ids, no
//! payload. The listener sleeps (a futex in shared memory) until
//! notifications arrive; notifications of one id that arrive while it is
//! busy coalesce into one activation with a count.

#[cfg(not(feature = "qnx"))]
pub use icefloe_linux as icefloe;
#[cfg(feature = "qnx")]
pub use icefloe_qnx as icefloe;

use icefloe::prelude::*;
use std::time::Duration;

/// The service both programs use.
pub const SERVICE: &str = "examples/event";

/// The id the notifier sends last, to say it is done.
pub const BYE: u32 = 255;

fn open(node: &Node) -> Result<Event, Box<dyn std::error::Error>> {
    Ok(node.service_builder(&ServiceName::new(SERVICE)?).event().open_or_create()?)
}

/// Sends event ids `0, 1, 2, …` (modulo 8) once per `period`, `count` times
/// (or until Ctrl-C), then [`BYE`].
pub fn run_notifier(count: Option<u64>, period: Duration) -> Result<(), Box<dyn std::error::Error>> {
    let node = NodeBuilder::new().name(NodeName::new("notifier")?).create()?;
    let event = open(&node)?;
    let notifier = event.notifier_builder().create()?;
    let mut sent = 0u64;
    while count.is_none_or(|n| sent < n) && node.wait(period).is_ok() {
        let id = EventId::new((sent % 8) as u32);
        let reached = notifier.notify_with_custom_event_id(id)?;
        println!("notifier: sent event {} to {reached} listener(s)", id.as_value());
        sent += 1;
    }
    notifier.notify_with_custom_event_id(EventId::new(BYE))?;
    println!("notifier: done after {sent} event(s)");
    Ok(())
}

/// Sleeps until events arrive and prints each `(id, count)`, until the
/// notifier says [`BYE`] or Ctrl-C; returns how many notifications arrived.
pub fn run_listener() -> Result<u64, Box<dyn std::error::Error>> {
    let node = NodeBuilder::new().name(NodeName::new("listener")?).create()?;
    let event = open(&node)?;
    let listener = event.listener_builder().create()?;
    println!("listener: ready");
    let mut received = 0u64;
    let mut bye = false;
    while !bye {
        let result = listener.blocking_wait(|e| {
            if e.id.as_value() == BYE {
                bye = true;
            } else {
                received += u64::from(e.count);
                println!("listener: event {} ({}x)", e.id.as_value(), e.count);
            }
        });
        if let Err(e) = result {
            println!("listener: {e}");
            break;
        }
    }
    println!("listener: done after {received} notification(s)");
    Ok(received)
}

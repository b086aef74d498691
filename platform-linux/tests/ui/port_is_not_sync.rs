// A port is Send, not Sync: loans, sends and receives update its
// process-local bookkeeping without a lock, so two threads may not share it.
use icefloe_linux::prelude::*;

fn main() {
    let node = NodeBuilder::new().create().unwrap();
    let service = node.service_builder(&ServiceName::new("ui/sync").unwrap()).publish_subscribe::<u64>().create().unwrap();
    let publisher = service.publisher_builder().create().unwrap();
    std::thread::scope(|s| {
        s.spawn(|| publisher.send_copy(1));
        s.spawn(|| publisher.send_copy(2));
    });
}

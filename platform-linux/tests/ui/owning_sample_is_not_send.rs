// A sample that owns its subscriber (through `Shared`) still stays on the
// subscriber's thread: returning its chunk updates the subscriber's
// lock-free, process-local bookkeeping.
use icefloe_linux::prelude::*;

fn main() {
    let node = NodeBuilder::new().create().unwrap();
    let service = node.service_builder(&ServiceName::new("ui/own").unwrap()).publish_subscribe::<u64>().create().unwrap();
    let subscriber = Shared::new(service.subscriber_builder().create().unwrap());
    let sample = Subscriber::receive_via(&subscriber).unwrap().unwrap();
    std::thread::spawn(move || drop(sample));
}

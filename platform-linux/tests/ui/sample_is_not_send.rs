use icefloe_linux::prelude::*;

fn main() {
    let node = NodeBuilder::new().create().unwrap();
    let service = node.service_builder(&ServiceName::new("x").unwrap()).publish_subscribe::<u64>().create().unwrap();
    let subscriber = service.subscriber_builder().create().unwrap();
    let sample = subscriber.receive().unwrap().unwrap();
    std::thread::scope(|s| {
        s.spawn(move || drop(sample));
    });
}

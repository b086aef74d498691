use icefloe_linux::prelude::*;

fn main() {
    let node = NodeBuilder::new().create().unwrap();
    let service = node.service_builder(&ServiceName::new("x").unwrap()).publish_subscribe::<u64>().create().unwrap();
    let sample = {
        let subscriber = service.subscriber_builder().create().unwrap();
        subscriber.receive().unwrap()
    };
    drop(sample);
}

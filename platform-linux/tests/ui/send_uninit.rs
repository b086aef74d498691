use icefloe_linux::prelude::*;

fn main() {
    let node = NodeBuilder::new().create().unwrap();
    let service = node.service_builder(&ServiceName::new("x").unwrap()).publish_subscribe::<u64>().create().unwrap();
    let publisher = service.publisher_builder().create().unwrap();
    let sample = publisher.loan_uninit().unwrap();
    sample.send().unwrap();
}

use icefloe_linux::prelude::*;

fn main() {
    let node = NodeBuilder::new().create().unwrap();
    let _ = node.service_builder(&ServiceName::new("x").unwrap()).publish_subscribe::<String>().create();
}

//! A service segment of the fuzzer's making, under the name a real
//! publish-subscribe service would have: opening it must check the static
//! config, the layout and every table before trusting them, and the
//! cleanup that opening runs must survive garbage node and port tables
//! (liveness ids, port ids, segment ranges). The header is made valid and
//! ready (its checks are plain compares, unit-tested; a header "in
//! creation" only makes the opener wait), its size word left as given.
#![no_main]

use icefloe_fuzz::{node, scrub};
use icefloe_linux::prelude::*;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn service_name() -> ServiceName {
    ServiceName::new("fz/open").unwrap()
}

/// The segment name the service has under this process's prefix.
fn segment_path() -> &'static str {
    static PATH: OnceLock<String> = OnceLock::new();
    PATH.get_or_init(|| {
        let node = node();
        let service = node.service_builder(&service_name()).publish_subscribe::<u64>().create().unwrap();
        let name = icefloe_fuzz::segments().into_iter().find(|n| n.ends_with('s')).unwrap();
        drop(service);
        format!("/dev/shm/{name}")
    })
}

fuzz_target!(|data: &[u8]| {
    use icefloe_core::shm::header::{HEADER_WORDS, LAYOUT_VERSION, MAGIC};
    use icefloe_core::shm::service::KIND_SERVICE;
    let path = segment_path();
    let mut image = data.to_vec();
    image.resize(image.len().max(HEADER_WORDS * 4), 0);
    let word = |i: usize, v: u32, image: &mut Vec<u8>| image[i * 4..i * 4 + 4].copy_from_slice(&v.to_le_bytes());
    word(0, MAGIC[0], &mut image);
    word(1, MAGIC[1], &mut image);
    word(2, LAYOUT_VERSION, &mut image);
    word(3, KIND_SERVICE, &mut image);
    word(6, 0x5245_4459, &mut image); // ready
    if std::fs::write(path, &image).is_err() {
        return;
    }
    let node = node();
    if let Ok(service) = node.service_builder(&service_name()).publish_subscribe::<u64>().open() {
        let _ = (service.number_of_publishers(), service.number_of_subscribers(), service.static_config());
        let subscriber = service.subscriber_builder().create();
        let publisher = service.publisher_builder().create();
        if let Ok(p) = &publisher {
            let _ = p.send_copy(7);
            let _ = p.chunk_stats();
        }
        if let Ok(s) = &subscriber {
            for _ in 0..3 {
                let _ = s.receive().map(|got| got.map(|v| *v));
            }
            let _ = s.corrupt_connections();
        }
        let _ = service.cleanup_dead_nodes();
    }
    let _ = node.cleanup_dead_nodes();
    drop(node);
    scrub();
});

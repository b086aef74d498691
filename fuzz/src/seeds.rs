//! Writes the seed corpus from real segments: for `open_segment` the
//! service segment images of live services (publish-subscribe with ports,
//! history and a held sample, in a few sizes), for the `live_*` targets a
//! few write lists that hit each part of their segments (queue indices,
//! connection words, chunk headers).
//!
//! `cargo run --manifest-path fuzz/Cargo.toml --bin seeds -- fuzz/seeds`

use icefloe_fuzz::{node, scrub, segments};
use icefloe_linux::prelude::*;

fn image_of_service(out: &std::path::Path, tag: &str, subscribers: u32, history: u32) {
    let node = node();
    let service = node
        .service_builder(&ServiceName::new("fz/open").unwrap())
        .publish_subscribe::<u64>()
        .max_subscribers(subscribers)
        .history_size(history)
        .create()
        .unwrap();
    let publisher = service.publisher_builder().create().unwrap();
    let subscribers: Vec<_> = (0..subscribers.min(2)).map(|_| service.subscriber_builder().create().unwrap()).collect();
    for v in 0..3 {
        publisher.send_copy(v).unwrap();
    }
    let held = subscribers.first().and_then(|s| s.receive().unwrap());
    let name = segments().into_iter().find(|n| n.ends_with('s')).unwrap();
    let image = std::fs::read(format!("/dev/shm/{name}")).unwrap();
    std::fs::write(out.join(format!("service_{tag}")), image).unwrap();
    drop(held);
    drop((subscribers, publisher, service, node));
    scrub();
}

/// Seeds of `views`: a live service's segment and its publisher's data
/// segment, behind the 16 bytes the target reads first (where to split,
/// cached queue indices, a reference into the data segment).
fn views_seeds(out: &std::path::Path) {
    let node = node();
    for (i, subscribers) in [1u32, 3].into_iter().enumerate() {
        let service = node
            .service_builder(&ServiceName::new(&format!("fz/views{i}")).unwrap())
            .publish_subscribe::<[u8]>()
            .max_subscribers(subscribers)
            .history_size(1)
            .create()
            .unwrap();
        let publisher = service.publisher_builder().initial_max_slice_len(64).create().unwrap();
        let subs: Vec<_> = (0..subscribers).map(|_| service.subscriber_builder().create().unwrap()).collect();
        for n in 0..3u8 {
            publisher.loan_slice_uninit(40).unwrap().write_from_fn(|j| j as u8 ^ n).send().unwrap();
        }
        let held = subs[0].receive().unwrap();
        let read = |suffix: char| {
            let name = segments().into_iter().find(|n| n.ends_with(suffix)).unwrap();
            std::fs::read(format!("/dev/shm/{name}")).unwrap()
        };
        let (service_image, data_image) = (read('s'), read('d'));
        let mut seed = Vec::new();
        seed.extend_from_slice(&(service_image.len() as u32).to_le_bytes());
        seed.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0]);
        seed.extend_from_slice(&service_image);
        seed.extend_from_slice(&data_image);
        std::fs::write(out.join(format!("service_and_data_{i}")), seed).unwrap();
        drop(held);
        drop((subs, publisher, service));
    }
    drop(node);
    scrub();
}

/// Records of (selector, word offset, value) as `corrupt` reads them.
fn writes(records: &[(u8, u32, u32)]) -> Vec<u8> {
    let mut v = vec![0u8]; // flags byte of the live targets
    for &(seg, word, value) in records {
        v.push(seg);
        v.extend_from_slice(&word.to_le_bytes()[..3]);
        v.extend_from_slice(&value.to_le_bytes());
    }
    v
}

fn main() {
    let root = std::path::PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "fuzz/seeds".into()));
    let open = root.join("open_segment");
    std::fs::create_dir_all(&open).unwrap();
    image_of_service(&open, "small", 1, 0);
    image_of_service(&open, "history", 2, 4);
    image_of_service(&open, "wide", 8, 1);
    let views = root.join("views");
    std::fs::create_dir_all(&views).unwrap();
    views_seeds(&views);
    for target in ["live_pubsub", "live_request_response", "live_event"] {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir).unwrap();
        // Words near the start of each segment (header, config, tables),
        // in the middle (connections, queues) and in chunk headers.
        let seeds: [&[(u8, u32, u32)]; 4] = [
            &[(0, 20, u32::MAX), (0, 21, 0x7fff_0000)],
            &[(0, 300, 5), (0, 301, 1 << 30), (1, 16, 0xffff)],
            &[(1, 40, 123_456), (1, 41, 0), (2, 64, 7)],
            &[(0, 1000, 0x0001_0001), (0, 1001, 0x0002_0002), (1, 100, u32::MAX)],
        ];
        for (i, s) in seeds.iter().enumerate() {
            std::fs::write(dir.join(format!("seed_{i}")), writes(s)).unwrap();
        }
    }
    println!("seeds written under {}", root.display());
}

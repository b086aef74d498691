//! Publish-subscribe across two bridges.

mod common;
use common::*;
use icefloe_linux::{AllocationStrategy, ServiceName};
use std::time::{Duration, Instant};

const MAX: usize = 16 << 20;

#[test]
fn samples_from_8_bytes_to_16_mib_cross_with_their_header_and_length() {
    let (a, b) = pair();
    let _ba = a.bridge(&[&b], &["cam/*"]);
    let _bb = b.bridge(&[&a], &["cam/*"]);
    let name = ServiceName::new("cam/front").unwrap();
    let (na, nb) = (a.node(), b.node());
    let sa = na
        .service_builder(&name)
        .publish_subscribe::<[u8]>()
        .user_header::<u64>()
        .max_slice_len(MAX as u32)
        .create()
        .unwrap();
    let publisher = sa.publisher_builder().allocation_strategy(AllocationStrategy::PowerOfTwo).create().unwrap();
    let sb = nb
        .service_builder(&name)
        .publish_subscribe::<[u8]>()
        .user_header::<u64>()
        .max_slice_len(MAX as u32)
        .open_or_create()
        .unwrap();
    let subscriber = sb.subscriber_builder().create().unwrap();
    // Until the bridges found each other, probes get lost; then each size
    // crosses once, in order, with every byte checked.
    let deadline = Instant::now() + WATCHDOG;
    let first = loop {
        assert!(Instant::now() < deadline, "no sample crossed within the watchdog");
        let mut s = publisher.loan_slice_uninit(8).unwrap();
        *s.user_header_mut() = 0;
        s.write_from_fn(|i| byte(i, 8)).send().unwrap();
        if let Some(s) = subscriber.timed_receive(Duration::from_millis(100)).unwrap() {
            break s.len();
        }
    };
    assert_eq!(first, 8);
    while subscriber.timed_receive(Duration::from_millis(300)).unwrap().is_some() {}
    for (n, len) in [8usize, 100, 4096, 65_536, 1 << 20, 5_000_001, MAX].into_iter().enumerate() {
        let mut s = publisher.loan_slice_uninit(len).unwrap();
        *s.user_header_mut() = 0xfeed_0000 + n as u64;
        s.write_from_fn(|i| byte(i, len)).send().unwrap();
        let got = subscriber.timed_receive(WATCHDOG).unwrap().unwrap_or_else(|| panic!("{len} B did not cross"));
        assert_eq!(got.len(), len);
        assert_eq!(*got.user_header(), 0xfeed_0000 + n as u64);
        let bad = got.payload().iter().enumerate().find(|&(i, &v)| v != byte(i, len));
        assert_eq!(bad, None, "{len} B: first wrong byte");
    }
}

//! The bridge as a library (`Bridge::start` in one's own process), its
//! errors, its counters, and a hostile peer that writes garbage.

mod common;
use common::{free_port, shm_left, WATCHDOG};
use icefloe_linux::{NodeBuilder, ServiceName};
use icefloe_zenoh::wire::{self, Attachment, Keys};
use icefloe_zenoh::{Bridge, BridgeConfig, BridgeError, Direction, ZenohConfig};
use std::time::{Duration, Instant};
use zenoh::bytes::ZBytes;
use zenoh::Wait;

fn config(prefix: &str, domain: &str, listen: u16, connect: &[u16]) -> BridgeConfig {
    let mut c = BridgeConfig::new("lib/*");
    c.prefix = prefix.to_owned();
    c.domain = domain.to_owned();
    c.zenoh = ZenohConfig::Loopback { listen: Some(listen), connect: connect.to_vec() };
    c
}

fn unique(tag: &str) -> String {
    format!("l{}{tag}_", std::process::id() % 100_000)
}

#[test]
fn bad_configurations_are_refused_with_a_reason() {
    let mut c = config(&unique("e"), "d", free_port(), &[]);
    c.domain = "has/slash".into();
    let e = Bridge::start(c.clone()).err().expect("a domain with a slash is refused");
    assert!(matches!(e, BridgeError::InvalidDomain(_)), "{e}");
    assert!(e.to_string().contains("has/slash"), "{e}");
    c.domain = "d".into();
    c.prefix = "no spaces allowed".into();
    assert!(matches!(Bridge::start(c.clone()), Err(BridgeError::InvalidPrefix(_))));
    c.prefix = unique("e");
    c.services.clear();
    assert!(matches!(Bridge::start(c.clone()), Err(BridgeError::NoServices)));
    c.services = vec!["*".into()];
    c.zenoh = ZenohConfig::Json5("{ this is not json5".into());
    let e = Bridge::start(c).err().expect("broken JSON5 is refused");
    assert!(matches!(e, BridgeError::ZenohConfig(_)), "{e}");
}

#[test]
fn two_embedded_bridges_carry_samples_and_count_them() {
    let (pa, pb) = (unique("a"), unique("b"));
    let (port_a, port_b) = (free_port(), free_port());
    let domain = pa.trim_end_matches('_').to_owned();
    let ba = Bridge::start(config(&pa, &domain, port_a, &[])).unwrap();
    let bb = Bridge::start(config(&pb, &domain, port_b, &[port_a])).unwrap();
    assert_ne!(ba.host_id(), bb.host_id(), "two prefixes are two hosts");
    let name = ServiceName::new("lib/counted").unwrap();
    {
        let na = NodeBuilder::new().prefix(&pa).unwrap().create().unwrap();
        let nb = NodeBuilder::new().prefix(&pb).unwrap().create().unwrap();
        // A deeper buffer than the default 2, for the exporting bridge too.
        let sa = na.service_builder(&name).publish_subscribe::<u64>().subscriber_max_buffer_size(16).create().unwrap();
        let publisher = sa.publisher_builder().create().unwrap();
        let sb = nb.service_builder(&name).publish_subscribe::<u64>().subscriber_max_buffer_size(16).create().unwrap();
        let subscriber = sb.subscriber_builder().create().unwrap();
        let deadline = Instant::now() + WATCHDOG;
        let mut got = Vec::new();
        let mut n = 0u64;
        while got.len() < 10 {
            assert!(Instant::now() < deadline, "samples did not cross: {got:?}");
            if got.is_empty() {
                publisher.send_copy(n).unwrap(); // probes until the first arrives
                n += 1;
            }
            if let Some(s) = subscriber.timed_receive(Duration::from_millis(100)).unwrap() {
                if got.is_empty() {
                    for k in 0..9 {
                        publisher.send_copy(1000 + k).unwrap();
                    }
                }
                got.push(*s);
            }
        }
        assert_eq!(got[1..], (1000..1009).collect::<Vec<_>>());
        // A counter moves just after its send: wait for it.
        let stat =
            |b: &Bridge, d: Direction| b.stats().into_iter().find(|s| s.name == "lib/counted" && s.direction == d);
        let counted = |b: &Bridge, d: Direction| stat(b, d).is_some_and(|s| s.forwarded >= 10);
        let deadline = Instant::now() + WATCHDOG;
        while !(counted(&ba, Direction::Export) && counted(&bb, Direction::Import)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let (out, into) = (stat(&ba, Direction::Export).unwrap(), stat(&bb, Direction::Import).unwrap());
        assert!(out.forwarded >= 10 && into.forwarded >= 10, "{out:?} {into:?}");
        assert_eq!(into.bytes, into.forwarded * 8);
        assert_eq!((into.refused, into.failed, into.dropped_overflow), (0, 0, 0));
    }
    ba.stop();
    bb.stop();
    assert_eq!(shm_left(&pa), Vec::<String>::new(), "a stopped bridge leaves nothing");
    assert_eq!(shm_left(&pb), Vec::<String>::new());
}

#[test]
fn a_hostile_peer_gets_nothing_written_and_is_counted() {
    let pb = unique("h");
    let (port_b, port_z) = (free_port(), free_port());
    let domain = pb.trim_end_matches('_').to_owned();
    let bb = Bridge::start(config(&pb, &domain, port_b, &[])).unwrap();
    let name = ServiceName::new("lib/target").unwrap();
    let nb = NodeBuilder::new().prefix(&pb).unwrap().create().unwrap();
    let sb = nb.service_builder(&name).publish_subscribe::<[u8]>().max_slice_len(64).create().unwrap();
    let subscriber = sb.subscriber_builder().create().unwrap();
    // A raw Zenoh peer pretends to be a bridge exporting the service with
    // the right type hash, then sends what no bridge would.
    let zc = icefloe_zenoh::loopback_config(Some(port_z), &[port_b]).unwrap();
    let z = zenoh::open(zc).wait().unwrap();
    let keys = Keys::new(&domain);
    let hash = wire::type_hash(sb.static_config());
    let _token = z
        .liveliness()
        .declare_token(keys.export_token(7, 7, icefloe_linux::MessagingPattern::PublishSubscribe, "lib/target", hash))
        .wait()
        .unwrap();
    assert!(
        (0..6000).any(|_| {
            std::thread::sleep(Duration::from_millis(10));
            sb.number_of_publishers() > 0
        }),
        "the bridge never imported the announced service"
    );
    let key = keys.data(icefloe_linux::MessagingPattern::PublishSubscribe, "lib/target", hash);
    let att =
        |elements: u32, hops: u8| Attachment { hops, host: 7, bridge: 7, elements, header_len: 0 }.encode().to_vec();
    let put = |payload: Vec<u8>, a: Option<Vec<u8>>| {
        let b = z.put(&key, payload);
        match a {
            Some(a) => b.attachment(ZBytes::from(a)).wait().unwrap(),
            None => b.wait().unwrap(),
        }
    };
    // Good probes until one crosses: the path is live both ways.
    let deadline = Instant::now() + WATCHDOG;
    loop {
        assert!(Instant::now() < deadline, "no good sample crossed within the watchdog");
        put(vec![41; 8], Some(att(8, 1)));
        if subscriber.timed_receive(Duration::from_millis(100)).unwrap().is_some() {
            break;
        }
    }
    while subscriber.timed_receive(Duration::from_millis(300)).unwrap().is_some() {}
    let stat = || bb.stats().into_iter().find(|s| s.name == "lib/target" && s.direction == Direction::Import).unwrap();
    let before = stat();
    assert_eq!(before.refused, 0);
    put(vec![1; 8], None); // no attachment
    put(vec![1; 8], Some(b"garbage".to_vec())); // not an attachment
    put(vec![1; 8], Some(att(9, 1))); // 9 elements announced, 8 bytes sent
    put(vec![1; 100], Some(att(100, 1))); // longer than the service's 64
    put(vec![1; 8], Some(att(8, 200))); // too many hops
    put(vec![42; 8], Some(att(8, 1))); // the one good sample
    let got = subscriber.timed_receive(WATCHDOG).unwrap().expect("the good sample crossed");
    assert_eq!(got.payload(), &[42; 8]);
    drop(got);
    assert!(subscriber.timed_receive(Duration::from_millis(300)).unwrap().is_none(), "only the good sample is written");
    let s = stat();
    assert_eq!((s.refused, s.forwarded - before.forwarded), (5, 1), "{s:?}");
    drop(subscriber);
    drop(sb);
    drop(nb);
    bb.stop();
    assert_eq!(shm_left(&pb), Vec::<String>::new());
}

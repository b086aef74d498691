//! Discovery from Rust: node records, service listings and details, node
//! states (alive, dead, undefined, inaccessible), untyped opens, and
//! garbage where a record or a service should be.

mod common;

use common::{assert_clean, role, unique_prefix, Peer};
use icefloe_linux::icefloe_core::discovery::DiscoveryError;
use icefloe_linux::{
    list_nodes, list_services, CallbackProgression, MessagingPattern, Node, NodeBuilder, NodeName, NodeState, Prefix,
    Service, ServiceName, ServiceOpenError,
};
use std::time::Duration;

fn prefix(p: &str) -> Prefix {
    Prefix::new(p).unwrap()
}

fn named(p: &str, name: &str) -> Node {
    NodeBuilder::new().prefix(p).unwrap().name(NodeName::new(name).unwrap()).create().unwrap()
}

#[test]
fn a_node_is_listed_while_it_lives_and_its_record_goes_with_it() {
    let p = unique_prefix();
    let a = named(&p, "alpha");
    let b = named(&p, "beta");
    let nodes = list_nodes(&prefix(&p)).unwrap();
    assert_eq!(nodes.len(), 2);
    let alpha = nodes.iter().find(|n| n.id() == a.id()).expect("alpha listed");
    assert_eq!(alpha.name().unwrap().as_str(), "alpha");
    assert_eq!(alpha.state(), NodeState::Alive);
    assert_eq!(alpha.liveness(), a.liveness());
    assert_eq!(Node::details(&prefix(&p), b.id()).unwrap().name().unwrap().as_str(), "beta");
    // Stopping early stops.
    let mut seen = 0;
    Node::list(&prefix(&p), |_| {
        seen += 1;
        CallbackProgression::Stop
    })
    .unwrap();
    assert_eq!(seen, 1);
    assert_eq!(
        alpha.remove_stale_resources().unwrap_err(),
        DiscoveryError::NodeNotDead(NodeState::Alive),
        "a live node's resources are not touched"
    );
    drop(a);
    assert!(Node::details(&prefix(&p), alpha.id()).is_none());
    assert_eq!(list_nodes(&prefix(&p)).unwrap().len(), 1);
    drop(b);
    assert_clean(&p);
}

#[test]
fn services_are_listed_with_their_types_ports_and_nodes() {
    let p = unique_prefix();
    let node = named(&p, "owner");
    let name = ServiceName::new("disc/pubsub").unwrap();
    let service = node.service_builder(&name).publish_subscribe::<[u32]>().history_size(3).create().unwrap();
    let publisher = service.publisher_builder().create().unwrap();
    let subscriber = service.subscriber_builder().create().unwrap();
    let ev = node.service_builder(&ServiceName::new("disc/ev").unwrap()).event().create().unwrap();

    let all = list_services(&prefix(&p)).unwrap();
    assert_eq!(all.len(), 2);
    let d = Service::details(&prefix(&p), &name, MessagingPattern::PublishSubscribe).unwrap().unwrap();
    assert_eq!(d.name(), &name);
    assert_eq!(d.pattern(), MessagingPattern::PublishSubscribe);
    assert_eq!(d.static_config().payload.name.as_str(), "u32");
    assert!(d.static_config().payload_is_slice());
    assert_eq!(d.static_config().history_size, 3);
    assert_eq!(d.port_counts(), (1, 1));
    let mut ports = Vec::new();
    d.ports(|port| ports.push(port));
    assert_eq!(ports.len(), 2);
    assert!(ports.iter().all(|port| port.node_id == node.id() && port.node_state == NodeState::Alive));
    assert_eq!(ports[0].port_id, publisher.id());
    assert!(d.has_node(node.id()));
    assert!(d.footprint() > d.segment_name().len() as u64, "service and data segment bytes");
    assert!(Service::does_exist(&prefix(&p), &name, MessagingPattern::PublishSubscribe).unwrap());
    assert!(!Service::does_exist(&prefix(&p), &name, MessagingPattern::Event).unwrap(), "another pattern");
    // The node's services, from its record.
    let info = Node::details(&prefix(&p), node.id()).unwrap();
    let mut mine = Vec::new();
    info.services(|s| {
        mine.push(s.name().as_str().to_owned());
        CallbackProgression::Continue
    })
    .unwrap();
    mine.sort();
    assert_eq!(mine, ["disc/ev", "disc/pubsub"]);
    drop((publisher, subscriber, service, ev, d, all, node));
    assert!(!Service::does_exist(&prefix(&p), &name, MessagingPattern::PublishSubscribe).unwrap());
    assert_clean(&p);
}

#[test]
fn an_untyped_subscriber_reads_the_bytes_a_typed_publisher_sent() {
    let p = unique_prefix();
    let node = named(&p, "typed");
    let name = ServiceName::new("disc/untyped").unwrap();
    let service = node.service_builder(&name).publish_subscribe::<u64>().user_header::<u32>().create().unwrap();
    let publisher = service.publisher_builder().create().unwrap();
    let other = named(&p, "tool");
    let d = Service::details(&prefix(&p), &name, MessagingPattern::PublishSubscribe).unwrap().unwrap();
    let untyped = other.service_builder(&name).publish_subscribe_untyped(d.static_config()).open().unwrap();
    let subscriber = untyped.subscriber_builder().create().unwrap();
    let mut s = publisher.loan_uninit().unwrap();
    *s.user_header_mut() = 0xfeed_beef;
    s.write_payload(0x0102_0304_0506_0708).send().unwrap();
    let got = subscriber.receive().unwrap().expect("a sample");
    assert_eq!(got.payload_bytes(), 0x0102_0304_0506_0708u64.to_ne_bytes());
    assert_eq!(got.user_header_bytes(), 0xfeed_beefu32.to_ne_bytes());
    assert_eq!(got.origin(), publisher.id());
    drop(got);
    // A description that no longer matches is refused like a typed open.
    let mut wrong = d.static_config().clone();
    wrong.payload.size = 4;
    wrong.payload.align = 4;
    assert_eq!(
        other.service_builder(&name).publish_subscribe_untyped(&wrong).open().err(),
        Some(ServiceOpenError::IncompatiblePayloadSize)
    );
    drop((subscriber, untyped, d, publisher, service, other, node));
    assert_clean(&p);
}

/// A child: a node (joining a service when its role says so), its id said,
/// then waiting to be killed.
#[test]
fn discovery_child() {
    let joins = match role().as_deref() {
        Some("discovery_child") => true,
        Some("lonely_child") => false,
        _ => return,
    };
    let p = std::env::var("ICEFLOE_TEST_PREFIX").unwrap();
    let node = named(&p, if joins { "doomed" } else { "lonely" });
    let service = joins.then(|| {
        node.service_builder(&ServiceName::new("disc/crash").unwrap())
            .publish_subscribe::<u8>()
            .open_or_create()
            .unwrap()
    });
    let _publisher = service.as_ref().map(|s| s.publisher_builder().create().unwrap());
    common::say("ready", node.id());
    std::thread::sleep(Duration::from_secs(30));
}

#[test]
fn a_killed_node_is_dead_and_its_entry_cleans_up_after_it() {
    if role().is_some() {
        return;
    }
    let p = unique_prefix();
    let mut child = Peer::spawn("discovery_child", "discovery_child", &p, &[]);
    let id: u64 = child.expect("ready").parse().unwrap();
    child.kill9();
    child.reap();
    let info = Node::details(&prefix(&p), id).expect("the dead node's record stays until cleaned");
    assert_eq!(info.state(), NodeState::Dead);
    assert_eq!(info.name().unwrap().as_str(), "doomed");
    let d = Service::details(&prefix(&p), &ServiceName::new("disc/crash").unwrap(), MessagingPattern::PublishSubscribe)
        .unwrap()
        .unwrap();
    let mut states = Vec::new();
    d.nodes(|n| states.push(n.state));
    assert_eq!(states, [NodeState::Dead]);
    drop(d);
    let cleaned = info.remove_stale_resources().unwrap();
    assert_eq!(cleaned.cleanups, 1);
    assert!(Node::details(&prefix(&p), id).is_none(), "the record went");
    assert!(list_services(&prefix(&p)).unwrap().is_empty(), "its last node dead, the service went");
    assert_clean(&p);
}

#[test]
fn garbage_records_and_services_are_reported_not_trusted() {
    let p = unique_prefix();
    // A record-shaped name with garbage inside; a service segment of garbage.
    let node = named(&p, "real");
    let record = format!("/dev/shm/{}aaaaaaaaaaaabn", &*p);
    std::fs::write(&record, vec![0; 300]).unwrap();
    let nodes = list_nodes(&prefix(&p)).unwrap();
    assert_eq!(nodes.len(), 2);
    let junk = nodes.iter().find(|n| n.id() != node.id()).unwrap();
    assert_eq!(junk.state(), NodeState::Undefined);
    assert!(junk.name().is_none());
    let name = ServiceName::new("disc/garbage").unwrap();
    let service = node.service_builder(&name).publish_subscribe::<u8>().create().unwrap();
    let seg = Service::details(&prefix(&p), &name, MessagingPattern::PublishSubscribe).unwrap().unwrap().segment_name();
    let path = format!("/dev/shm/{seg}");
    let good = std::fs::read(&path).unwrap();
    let mut bad = good.clone();
    bad[16 * 4..].iter_mut().for_each(|b| *b = 0xff);
    std::fs::write(&path, &bad).unwrap();
    assert_eq!(
        Service::details(&prefix(&p), &name, MessagingPattern::PublishSubscribe).err(),
        Some(ServiceOpenError::ServiceInCorruptedState)
    );
    assert!(list_services(&prefix(&p)).unwrap().is_empty(), "a corrupt service is left out of the listing");
    std::fs::write(&path, &good).unwrap();
    assert_eq!(list_services(&prefix(&p)).unwrap().len(), 1);
    std::fs::remove_file(&record).unwrap();
    drop((service, node));
    assert_clean(&p);
}

#[test]
fn a_dead_node_that_joined_no_service_is_swept_with_its_record() {
    if role().is_some() {
        return;
    }
    let p = unique_prefix();
    let mut child = Peer::spawn("discovery_child", "lonely_child", &p, &[]);
    let id: u64 = child.expect("ready").parse().unwrap();
    child.kill9();
    child.reap();
    assert_eq!(Node::details(&prefix(&p), id).unwrap().state(), NodeState::Dead);
    let cleaner = named(&p, "cleaner");
    cleaner.cleanup_dead_nodes();
    assert!(Node::details(&prefix(&p), id).is_none());
    drop(cleaner);
    assert_clean(&p);
}

#[test]
fn the_config_value_sets_defaults_and_cleanup_on_creation() {
    if role().is_some() {
        return;
    }
    let p = unique_prefix();
    let mut config = icefloe_linux::config::Config { prefix: prefix(&p), ..Default::default() };
    config.publish_subscribe.max_publishers = 5;
    config.request_response.max_servers = 3;
    config.event.event_id_max_value = 12;
    config.cleanup.on_node_creation = true;
    let node = NodeBuilder::new().config(&config).create().unwrap();
    assert_eq!(node.prefix().as_str(), &*p);
    let ps = node.service_builder(&ServiceName::new("cfg/ps").unwrap()).publish_subscribe::<u8>().create().unwrap();
    let rr = node.service_builder(&ServiceName::new("cfg/rr").unwrap()).request_response::<u8, u8>().create().unwrap();
    let ev = node.service_builder(&ServiceName::new("cfg/ev").unwrap()).event().create().unwrap();
    let details = |n: &str, m| Service::details(&prefix(&p), &ServiceName::new(n).unwrap(), m).unwrap().unwrap();
    assert_eq!(details("cfg/ps", MessagingPattern::PublishSubscribe).static_config().max_publishers, 5);
    assert_eq!(details("cfg/rr", MessagingPattern::RequestResponse).static_config().max_subscribers, 3);
    assert_eq!(
        details("cfg/ev", MessagingPattern::Event).static_config().event.as_ref().unwrap().event_id_max_value,
        12
    );
    // A set knob still wins over the config.
    let ps2 = node
        .service_builder(&ServiceName::new("cfg/ps2").unwrap())
        .publish_subscribe::<u8>()
        .max_publishers(1)
        .create()
        .unwrap();
    assert_eq!(details("cfg/ps2", MessagingPattern::PublishSubscribe).static_config().max_publishers, 1);
    // A node created with cleanup on creation removes a dead one's record.
    let mut child = Peer::spawn("discovery_child", "lonely_child", &p, &[]);
    let id: u64 = child.expect("ready").parse().unwrap();
    child.kill9();
    child.reap();
    assert!(Node::details(&prefix(&p), id).is_some());
    let second = NodeBuilder::new().config(&config).create().unwrap();
    assert!(Node::details(&prefix(&p), id).is_none(), "cleaned when the second node was created");
    drop((ps, ps2, rr, ev, node, second));
    assert_clean(&p);
}

#[test]
fn an_untyped_client_talks_to_a_typed_server_in_bytes() {
    if role().is_some() {
        return;
    }
    let p = unique_prefix();
    let node = named(&p, "server");
    let name = ServiceName::new("disc/rr-untyped").unwrap();
    let service = node.service_builder(&name).request_response::<[u8], u64>().create().unwrap();
    let server = service.server_builder().create().unwrap();
    let tool = named(&p, "tool");
    let d = Service::details(&prefix(&p), &name, MessagingPattern::RequestResponse).unwrap().unwrap();
    let untyped = tool.service_builder(&name).request_response_untyped(d.static_config()).open().unwrap();
    let client = untyped.client_builder().initial_max_slice_len(16).create().unwrap();
    let mut request = client.loan_slice_uninit(3).unwrap();
    for (b, v) in request.payload_bytes_mut().iter_mut().zip([1u8, 2, 3]) {
        b.write(v);
    }
    // SAFETY: every byte of the three elements was written just above.
    let pending = unsafe { request.assume_init() }.send().unwrap();
    let active = server.receive().unwrap().expect("the request");
    assert_eq!(&*active, &[1, 2, 3]);
    active.send_copy(0x1122_3344_5566_7788).unwrap();
    drop(active);
    let response = pending.receive().unwrap().expect("the response");
    assert_eq!(response.payload_bytes(), 0x1122_3344_5566_7788u64.to_ne_bytes());
    drop(response);
    drop(pending);
    drop((client, untyped, d, server, service, tool, node));
    assert_clean(&p);
}

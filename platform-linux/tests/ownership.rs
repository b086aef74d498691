//! Ports own their service on Linux: they can be stored, returned and moved
//! to `'static` threads, and what they hand out can own its port too.

mod common;

use common::{assert_clean, assert_services_gone, node, segments, ShmGuard};
use icefloe_linux::prelude::*;
use icefloe_linux::{ClientBuilder, Shared};
use std::time::Duration;

/// A component as applications write it: node, service and ports in one
/// struct, made by a function and returned.
struct Telemetry {
    publisher: Publisher<u64>,
    subscriber: Subscriber<u64>,
    client: Client<u64, u64>,
    server: Server<u64, u64>,
    notifier: Notifier,
    listener: Listener,
    // The node last: ports do not borrow it, any order works.
    _node: Node,
}

fn telemetry(prefix: &str) -> Telemetry {
    let node = node(prefix);
    let pubsub =
        node.service_builder(&ServiceName::new("own/telemetry").unwrap()).publish_subscribe::<u64>().create().unwrap();
    let rr =
        node.service_builder(&ServiceName::new("own/rr").unwrap()).request_response::<u64, u64>().create().unwrap();
    let event = node.service_builder(&ServiceName::new("own/event").unwrap()).event().create().unwrap();
    Telemetry {
        publisher: pubsub.publisher_builder().create().unwrap(),
        subscriber: pubsub.subscriber_builder().create().unwrap(),
        client: rr.client_builder().create().unwrap(),
        server: rr.server_builder().create().unwrap(),
        notifier: event.notifier_builder().create().unwrap(),
        listener: event.listener_builder().create().unwrap(),
        _node: node,
    }
    // `pubsub`, `rr` and `event` (the local handles) end here; the ports
    // keep the services.
}

#[test]
fn a_struct_owning_node_services_and_ports_is_returned_from_a_function() {
    let guard = ShmGuard::new();
    let t = telemetry(guard.prefix());
    assert_eq!(t.publisher.send_copy(41).unwrap(), 1);
    assert_eq!(*t.subscriber.receive().unwrap().expect("a sample"), 41);

    let pending = t.client.send_copy(6).unwrap();
    let request = t.server.receive().unwrap().expect("a request");
    request.send_copy(*request * 7).unwrap();
    drop(request);
    assert_eq!(*pending.receive().unwrap().expect("a response"), 42);

    assert_eq!(t.notifier.notify(), Ok(1));
    let mut heard = 0;
    t.listener.try_wait(|_| heard += 1).unwrap();
    assert_eq!(heard, 1);
    drop(pending);
    drop(t);
    assert_clean(guard.prefix());
}

#[test]
fn a_publisher_moved_into_a_static_thread_keeps_sending() {
    let guard = ShmGuard::new();
    let node = node(guard.prefix());
    let service =
        node.service_builder(&ServiceName::new("own/thread").unwrap()).publish_subscribe::<u64>().create().unwrap();
    let subscriber = service.subscriber_builder().create().unwrap();
    let publisher = service.publisher_builder().create().unwrap();
    drop(service);
    let sender = std::thread::spawn(move || {
        // `publisher` is owned by this thread: no scope, no borrow.
        for i in 0..10u64 {
            while publisher.send_copy(i).unwrap() == 0 {
                std::thread::yield_now();
            }
        }
        publisher
    });
    let mut got = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while got.last() != Some(&9) {
        assert!(std::time::Instant::now() < deadline, "only {got:?} arrived");
        match subscriber.timed_receive(Duration::from_millis(10)).unwrap() {
            Some(s) => got.push(*s),
            None => continue,
        }
    }
    // With safe overflow a slow subscriber may lose the oldest; what it has
    // is in order and ends with the last.
    assert!(got.windows(2).all(|w| w[0] < w[1]), "{got:?}");
    let publisher = sender.join().unwrap();
    drop((publisher, subscriber, node));
    assert_clean(guard.prefix());
}

#[test]
fn a_port_outlives_the_local_variable_of_its_service_and_the_last_one_removes_it() {
    let guard = ShmGuard::new();
    let node = node(guard.prefix());
    let name = ServiceName::new("own/outlive").unwrap();
    let subscriber = {
        let service = node.service_builder(&name).publish_subscribe::<[u8]>().create().unwrap();
        service.subscriber_builder().create().unwrap()
    };
    // The service is still there: a second handle opens it.
    let service = node.service_builder(&name).publish_subscribe::<[u8]>().open().expect("kept alive by the port");
    let publisher = service.publisher_builder().initial_max_slice_len(4).create().unwrap();
    drop(service);
    publisher.send_slice_copy(b"four").unwrap();
    assert_eq!(&*subscriber.receive().unwrap().expect("a sample"), b"four");
    assert!(!segments(guard.prefix()).is_empty());
    drop(publisher);
    assert!(!segments(guard.prefix()).is_empty(), "the subscriber still holds the service");
    drop(subscriber);
    // The last handle (here: a port's) removes the service as before.
    assert_services_gone(guard.prefix());
    assert!(matches!(
        node.service_builder(&name).publish_subscribe::<[u8]>().open(),
        Err(icefloe_linux::ServiceOpenError::DoesNotExist)
    ));
    drop(node);
    assert_clean(guard.prefix());
}

/// What bindings do: wrap a port in `Shared` and get samples, loans,
/// pending responses and active requests that own their port (no lifetime).
#[test]
fn shared_ports_hand_out_owning_samples_loans_and_requests() {
    let guard = ShmGuard::new();
    let node = node(guard.prefix());
    let pubsub =
        node.service_builder(&ServiceName::new("own/bind").unwrap()).publish_subscribe::<[u8]>().create().unwrap();
    let publisher = Shared::new(pubsub.publisher_builder().initial_max_slice_len(16).create().unwrap());
    let subscriber = Shared::new(pubsub.subscriber_builder().create().unwrap());
    drop(pubsub);

    let loan: icefloe_linux::icefloe_core::ChunkMutUninit<Shared<Publisher<[u8]>>, [u8], ()> =
        Publisher::loan_slice_uninit_via(&publisher, 5).unwrap();
    assert_eq!(Shared::handle_count(&publisher), 2, "the loan holds the publisher");
    assert_eq!(loan.write_from_slice(b"hello").send(), Ok(1));
    assert_eq!(Shared::handle_count(&publisher), 1, "a sent loan lets go of it");

    fn keep(s: &Shared<Subscriber<[u8]>>) -> icefloe_linux::icefloe_core::Sample<Shared<Subscriber<[u8]>>, [u8], ()> {
        Subscriber::receive_via(s).unwrap().expect("a sample")
    }
    let sample = keep(&subscriber);
    drop(subscriber); // the sample keeps its subscriber
    assert_eq!(&*sample, b"hello");
    drop(sample);

    let rr = node
        .service_builder(&ServiceName::new("own/bind_rr").unwrap())
        .request_response::<u64, [u8]>()
        .create()
        .unwrap();
    let client: Shared<Client<u64, [u8]>> = Shared::new(ClientBuilder::new(rr.clone()).create().unwrap());
    let server = Shared::new(rr.server_builder().initial_max_slice_len(8).create().unwrap());
    drop(rr);
    let pending = Shared::new(Client::loan_uninit_via(&client).unwrap().write_payload(3).send().unwrap());
    let request = Server::receive_via(&server).unwrap().expect("a request");
    drop(server); // the active request keeps its server
    let request = Shared::new(request);
    let response = icefloe_linux::icefloe_core::ActiveRequest::loan_slice_uninit_via(&request, 3).unwrap();
    drop(request); // the loan keeps the active request
    response.write_from_slice(b"abc").send().unwrap();
    let got = icefloe_linux::icefloe_core::PendingResponse::receive_via(&pending).unwrap().expect("a response");
    drop(client); // the pending response keeps the client
    assert_eq!(&*got, b"abc");
    drop((got, pending, publisher, node));
    assert_clean(guard.prefix());
}

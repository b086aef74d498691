//! Request-response within one process: streams, channels, limits, errors,
//! growth.

mod common;

use common::*;
use icefloe_linux::prelude::*;
use icefloe_linux::{ClientCreateError, ServerCreateError, ServiceOpenError};

fn name(s: &str) -> ServiceName {
    ServiceName::new(s).unwrap()
}

#[test]
fn a_request_gets_a_stream_of_responses_then_the_stream_ends() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let service = node
            .service_builder(&name("rr"))
            .request_response::<u64, u64>()
            .request_user_header::<u32>()
            .response_user_header::<u16>()
            .max_response_buffer_size(4)
            .create()
            .unwrap();
        let server = service.server_builder().create().unwrap();
        let client = service.client_builder().create().unwrap();
        let mut request = client.loan_uninit().unwrap();
        *request.user_header_mut() = 77;
        let pending = request.write_payload(6).send().unwrap();
        assert_eq!(pending.number_of_server_connections(), 1);
        assert!(pending.is_connected());
        assert!(pending.receive().unwrap().is_none());
        assert!(server.has_requests());
        let active = server.receive().unwrap().unwrap();
        assert_eq!((*active, *active.user_header(), active.origin()), (6, 77, client.id()));
        assert!(active.is_connected());
        for i in 0..3 {
            let mut response = active.loan_uninit().unwrap();
            *response.user_header_mut() = i as u16;
            response.write_payload(*active * 10 + i).send().unwrap();
        }
        assert!(pending.has_response());
        drop(active);
        assert!(!pending.is_connected(), "the server ended the stream");
        for i in 0..3 {
            let response = pending.receive().unwrap().unwrap();
            assert_eq!((*response, *response.user_header(), response.origin()), (60 + i, i as u16, server.id()));
        }
        assert!(pending.receive().unwrap().is_none());
        assert!(!pending.has_response());
    }
    assert_clean(&prefix);
}

#[test]
fn each_pending_response_sees_only_its_own_responses() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let service = node.service_builder(&name("rr")).request_response::<u64, u64>().create().unwrap();
        let server = service.server_builder().create().unwrap();
        let client = service.client_builder().create().unwrap();
        let a = client.send_copy(1).unwrap();
        let b = client.send_copy(2).unwrap();
        let c = client.send_copy(3).unwrap();
        assert_eq!(client.active_requests(), 3);
        let requests: Vec<_> = (0..3).map(|_| server.receive().unwrap().unwrap()).collect();
        for r in requests.iter().rev() {
            r.send_copy(**r * 100).unwrap();
        }
        assert_eq!(*c.receive().unwrap().unwrap(), 300);
        assert_eq!(*a.receive().unwrap().unwrap(), 100);
        assert!(a.receive().unwrap().is_none());
        assert_eq!(*b.receive().unwrap().unwrap(), 200);
        drop(requests);
        for p in [&a, &b, &c] {
            assert!(!p.is_connected());
        }
    }
    assert_clean(&prefix);
}

#[test]
fn a_reused_channel_never_sees_responses_meant_for_its_previous_request() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let service = node
            .service_builder(&name("rr"))
            .request_response::<u64, u64>()
            .max_active_requests_per_client(2)
            .create()
            .unwrap();
        let server = service.server_builder().create().unwrap();
        let client = service.client_builder().create().unwrap();
        let first = client.send_copy(1).unwrap();
        let old = server.receive().unwrap().unwrap();
        drop(first);
        assert!(!old.is_connected(), "the client stopped listening");
        // Sent to nobody: dropped quietly, not an error.
        old.send_copy(111).unwrap();
        // Channel 0 again (the first free one), while the server still
        // holds the old request.
        let second = client.send_copy(2).unwrap();
        let new = server.receive().unwrap().unwrap();
        assert_eq!(*new, 2);
        old.send_copy(112).unwrap();
        new.send_copy(222).unwrap();
        assert_eq!(*second.receive().unwrap().unwrap(), 222);
        assert!(second.receive().unwrap().is_none());
        drop(old);
        assert!(second.is_connected(), "the old request's end does not end the new stream");
        drop(new);
        assert!(!second.is_connected());
        let stats = server.chunk_stats();
        assert_eq!(stats.free, stats.total, "every response chunk came back");
    }
    assert_clean(&prefix);
}

#[test]
fn several_clients_and_two_servers() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let service = node.service_builder(&name("rr")).request_response::<u64, u64>().create().unwrap();
        let servers = [service.server_builder().create().unwrap(), service.server_builder().create().unwrap()];
        let clients: Vec<_> = (0..4).map(|_| service.client_builder().create().unwrap()).collect();
        let pendings: Vec<_> = clients.iter().enumerate().map(|(i, c)| c.send_copy(i as u64).unwrap()).collect();
        for p in &pendings {
            assert_eq!(p.number_of_server_connections(), 2);
        }
        for (k, server) in servers.iter().enumerate() {
            let mut seen = 0;
            while let Some(r) = server.receive().unwrap() {
                r.send_copy(*r * 10 + k as u64).unwrap();
                seen += 1;
            }
            assert_eq!(seen, 4);
        }
        for (i, p) in pendings.iter().enumerate() {
            let mut got: Vec<u64> = std::iter::from_fn(|| p.receive().unwrap().map(|r| *r)).collect();
            got.sort();
            assert_eq!(got, vec![i as u64 * 10, i as u64 * 10 + 1]);
            assert!(!p.is_connected());
        }
    }
    assert_clean(&prefix);
}

#[test]
fn limits_return_typed_errors() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let service = node
            .service_builder(&name("rr"))
            .request_response::<u64, u64>()
            .max_clients(1)
            .max_servers(1)
            .max_active_requests_per_client(2)
            .max_loaned_requests(1)
            .max_borrowed_responses_per_pending_response(1)
            .create()
            .unwrap();
        let client = service.client_builder().create().unwrap();
        let server = service.server_builder().max_loaned_responses_per_request(1).create().unwrap();
        assert_eq!(service.client_builder().create().err(), Some(ClientCreateError::ExceedsMaxSupportedClients));
        assert_eq!(service.server_builder().create().err(), Some(ServerCreateError::ExceedsMaxSupportedServers));

        let loan = client.loan_uninit().unwrap();
        assert_eq!(client.loan_uninit().err(), Some(LoanError::ExceedsMaxLoans));
        drop(loan);

        let a = client.send_copy(1).unwrap();
        let b = client.send_copy(2).unwrap();
        assert_eq!(client.send_copy(3).err(), Some(RequestSendError::ExceedsMaxActiveRequests));
        let stats = client.chunk_stats();
        assert_eq!(stats.free, stats.total - 2, "the refused request's chunk came back");

        let ra = server.receive().unwrap().unwrap();
        let rb = server.receive().unwrap().unwrap();
        let response = ra.loan_uninit().unwrap();
        assert_eq!(ra.loan_uninit().err(), Some(LoanError::ExceedsMaxLoans));
        response.write_payload(10).send().unwrap();
        ra.send_copy(11).unwrap();
        let held = a.receive().unwrap().unwrap();
        assert_eq!(a.receive().err(), Some(ReceiveError::ExceedsMaxBorrows));
        drop(held);
        assert_eq!(*a.receive().unwrap().unwrap(), 11);

        // The server holds both of this client's requests; a third waits.
        drop(a);
        let c = client.send_copy(3).unwrap();
        assert_eq!(server.receive().err(), Some(ReceiveError::ExceedsMaxBorrows));
        drop(rb);
        assert_eq!(*server.receive().unwrap().unwrap(), 3);
        drop((b, c, ra));
    }
    assert_clean(&prefix);
}

#[test]
fn open_checks_types_and_qos() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let _service = node
            .service_builder(&name("rr"))
            .request_response::<u64, [u8]>()
            .max_clients(3)
            .enable_fire_and_forget_requests(false)
            .create()
            .unwrap();
        let open = || node.service_builder(&name("rr"));
        fn e<T>(r: Result<T, ServiceOpenError>) -> Option<ServiceOpenError> {
            r.err()
        }
        assert_eq!(e(open().request_response::<u32, [u8]>().open()), Some(ServiceOpenError::IncompatiblePayloadType));
        assert_eq!(e(open().request_response::<u64, [u16]>().open()), Some(ServiceOpenError::IncompatibleResponseType));
        assert_eq!(e(open().request_response::<u64, u8>().open()), Some(ServiceOpenError::IncompatibleResponseType));
        assert_eq!(
            e(open().request_response::<u64, [u8]>().response_user_header::<u8>().open()),
            Some(ServiceOpenError::IncompatibleResponseUserHeader)
        );
        assert_eq!(
            e(open().request_response::<u64, [u8]>().enable_fire_and_forget_requests(true).open()),
            Some(ServiceOpenError::IncompatibleFireAndForgetBehavior)
        );
        assert_eq!(
            e(open().request_response::<u64, [u8]>().enable_safe_overflow_for_responses(false).open()),
            Some(ServiceOpenError::IncompatibleOverflowBehaviorForResponses)
        );
        assert_eq!(
            e(open().request_response::<u64, [u8]>().max_clients(4).open()),
            Some(ServiceOpenError::DoesNotSupportRequestedAmountOfClients(cap(3, 4)))
        );
        assert_eq!(
            e(open().request_response::<u64, [u8]>().max_active_requests_per_client(5).open()),
            Some(ServiceOpenError::DoesNotSupportRequestedAmountOfActiveRequestsPerClient(cap(4, 5)))
        );
        assert_eq!(
            e(open().request_response::<u64, [u8]>().max_response_buffer_size(3).open()),
            Some(ServiceOpenError::DoesNotSupportRequestedResponseBufferSize(cap(2, 3)))
        );
        // A publish-subscribe service of the same name is another service.
        assert_eq!(
            node.service_builder(&name("rr")).publish_subscribe::<u64>().open().err(),
            Some(ServiceOpenError::DoesNotExist)
        );
        let ok = open().request_response::<u64, [u8]>().max_clients(2).open().unwrap();
        assert_eq!((ok.max_clients(), ok.max_servers(), ok.max_active_requests_per_client()), (3, 2, 4));
    }
    assert_clean(&prefix);
}

#[test]
fn fire_and_forget_decides_whether_abandoned_requests_are_served() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        for (k, fire_and_forget) in [true, false].into_iter().enumerate() {
            let service = node
                .service_builder(&name(&format!("rr{k}")))
                .request_response::<u64, u64>()
                .enable_fire_and_forget_requests(fire_and_forget)
                .create()
                .unwrap();
            let server = service.server_builder().create().unwrap();
            let client = service.client_builder().create().unwrap();
            drop(client.send_copy(5).unwrap());
            let kept = client.send_copy(6).unwrap();
            let first = server.receive().unwrap().unwrap();
            if fire_and_forget {
                assert_eq!(*first, 5);
                assert!(!first.is_connected());
                first.send_copy(50).unwrap();
            } else {
                assert_eq!(*first, 6, "the abandoned request is discarded unseen");
            }
            drop(first);
            let stats = client.chunk_stats();
            assert!(stats.free >= stats.total - 1);
            drop(kept);
        }
    }
    assert_clean(&prefix);
}

#[test]
fn a_full_response_queue_keeps_the_newest_under_safe_overflow() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let service = node.service_builder(&name("rr")).request_response::<u64, u64>().create().unwrap();
        let server = service.server_builder().create().unwrap();
        let client = service.client_builder().create().unwrap();
        let pending = client.send_copy(0).unwrap();
        let active = server.receive().unwrap().unwrap();
        for i in 0..5 {
            active.send_copy(i).unwrap();
        }
        assert_eq!(*pending.receive().unwrap().unwrap(), 3);
        assert_eq!(*pending.receive().unwrap().unwrap(), 4);
        assert!(pending.receive().unwrap().is_none());
        drop(active);
        let stats = server.chunk_stats();
        assert_eq!(stats.free, stats.total);
    }
    assert_clean(&prefix);
}

#[test]
fn a_displaced_request_is_not_waited_for() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let service = node
            .service_builder(&name("rr"))
            .request_response::<u64, u64>()
            .max_active_requests_per_client(1)
            .create()
            .unwrap();
        let server = service.server_builder().create().unwrap();
        let client = service.client_builder().create().unwrap();
        drop(client.send_copy(1).unwrap());
        let second = client.send_copy(2).unwrap();
        drop(second);
        let third = client.send_copy(3).unwrap();
        // The queue holds one request: 1 and then 2 were displaced.
        let r = server.receive().unwrap().unwrap();
        assert_eq!(*r, 3);
        assert!(third.is_connected());
        drop(r);
        assert!(!third.is_connected());
        assert!(server.receive().unwrap().is_none());
    }
    assert_clean(&prefix);
}

#[test]
fn slices_grow_on_both_sides_and_older_ones_stay_readable() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let service = node
            .service_builder(&name("rr"))
            .request_response::<[u8], [u8]>()
            .max_clients(1)
            .max_servers(1)
            .max_active_requests_per_client(8)
            .create()
            .unwrap();
        for strategy in [AllocationStrategy::BestFit, AllocationStrategy::PowerOfTwo] {
            let client = service
                .client_builder()
                .initial_max_slice_len(16)
                .allocation_strategy(strategy)
                .max_slice_len(1 << 20)
                .create()
                .unwrap();
            let server =
                service.server_builder().initial_max_slice_len(16).allocation_strategy(strategy).create().unwrap();
            let fill = |_len: usize, salt: usize| move |i: usize| ((i + salt) % 255) as u8;
            let mut pendings = Vec::new();
            let mut held = Vec::new();
            for (round, len) in [16usize, 100, 4096, 65_536, 1 << 20].into_iter().enumerate() {
                let pending = client.loan_slice_uninit(len).unwrap().write_from_fn(fill(len, round)).send().unwrap();
                let request = server.receive().unwrap().unwrap();
                assert!(request.iter().enumerate().all(|(i, b)| *b == fill(len, round)(i)));
                request.loan_slice_uninit(len).unwrap().write_from_fn(fill(len, round + 1)).send().unwrap();
                held.push(request);
                pendings.push((len, round, pending));
            }
            assert!(client.number_of_growths() >= 4 && server.number_of_growths() >= 4);
            assert_eq!(
                client.loan_slice_uninit((1 << 20) + 1).err(),
                Some(LoanError::ExceedsMaxLoanSize),
                "past max_slice_len"
            );
            // Every response, in old and new segments alike, reads right.
            for (len, round, pending) in &pendings {
                let r = pending.receive().unwrap().unwrap();
                assert_eq!(r.len(), *len);
                assert!(r.iter().enumerate().all(|(i, b)| *b == fill(*len, round + 1)(i)));
            }
            // Requests held by the server still read right, too.
            for (request, (len, round, _)) in held.iter().zip(&pendings) {
                assert!(request.iter().enumerate().all(|(i, b)| *b == fill(*len, *round)(i)));
            }
            drop(held);
            drop(pendings);
            assert_eq!(client.chunk_stats().segments, 1, "old request segments retired");
            assert_eq!(server.chunk_stats().segments, 1, "old response segments retired");
        }
    }
    assert_clean(&prefix);
}

#[test]
fn static_strategy_refuses_longer_slices() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let service = node.service_builder(&name("rr")).request_response::<[u8], [u8]>().create().unwrap();
        let client = service.client_builder().initial_max_slice_len(8).create().unwrap();
        let server = service.server_builder().initial_max_slice_len(4).create().unwrap();
        assert_eq!(client.loan_slice(9).err(), Some(LoanError::ExceedsMaxLoanSize));
        let pending = client.send_slice_copy(&[1; 8]).unwrap();
        let request = server.receive().unwrap().unwrap();
        assert_eq!(request.loan_slice(5).err(), Some(LoanError::ExceedsMaxLoanSize));
        request.send_slice_copy(&[2; 4]).unwrap();
        assert_eq!(&*pending.receive().unwrap().unwrap(), &[2; 4]);
    }
    assert_clean(&prefix);
}

#[test]
fn ten_thousand_growths_of_a_server() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let service = node
            .service_builder(&name("rr"))
            .request_response::<u8, [u8]>()
            .max_clients(1)
            .max_servers(1)
            .max_active_requests_per_client(1)
            .create()
            .unwrap();
        let client = service.client_builder().create().unwrap();
        let server = service
            .server_builder()
            .allocation_strategy(AllocationStrategy::BestFit)
            .override_response_preallocation(|_| 2)
            .create()
            .unwrap();
        for len in 1..=10_000usize {
            let pending = client.send_copy((len % 251) as u8).unwrap();
            let request = server.receive().unwrap().unwrap();
            request.loan_slice_uninit(len).unwrap().write_from_fn(|i| (i % 7) as u8).send().unwrap();
            drop(request);
            let response = pending.receive().unwrap().unwrap();
            assert_eq!(response.len(), len);
            assert_eq!(response[len - 1], ((len - 1) % 7) as u8);
        }
        assert_eq!(server.number_of_growths(), 9_999);
    }
    assert_clean(&prefix);
}

#[test]
fn steady_round_trips_return_every_chunk() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let service = node.service_builder(&name("rr")).request_response::<u64, u64>().create().unwrap();
        let server = service.server_builder().create().unwrap();
        let client = service.client_builder().create().unwrap();
        for i in 0..10_000u64 {
            let pending = client.send_copy(i).unwrap();
            let request = server.receive().unwrap().unwrap();
            request.send_copy(*request + 1).unwrap();
            request.send_copy(*request + 2).unwrap();
            drop(request);
            assert_eq!(*pending.receive().unwrap().unwrap(), i + 1);
            assert_eq!(*pending.receive().unwrap().unwrap(), i + 2);
            assert!(!pending.is_connected());
        }
        let (c, s) = (client.chunk_stats(), server.chunk_stats());
        assert_eq!((c.free, s.free), (c.total, s.total));
    }
    assert_clean(&prefix);
}

#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
enum Query<'a> {
    Lookup { key: &'a str, limit: u32 },
    Ping,
}

#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct Answer {
    values: Vec<u64>,
}

#[test]
fn postcard_requests_and_responses() {
    use icefloe_linux::icefloe_core::serialize::{DecodeError, SerializeSendError};
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let service = node.service_builder(&name("rr")).request_response::<[u8], [u8]>().create().unwrap();
        let client = service
            .client_builder()
            .initial_max_slice_len(8)
            .allocation_strategy(AllocationStrategy::PowerOfTwo)
            .create()
            .unwrap();
        let server = service.server_builder().initial_max_slice_len(8).max_slice_len(64).create().unwrap();
        let query = Query::Lookup { key: "camera/front", limit: 3 };
        let pending = client.send_serialized(&query).unwrap();
        let request = server.receive().unwrap().unwrap();
        assert_eq!(request.deserialize::<Query<'_>>().unwrap(), query);
        // The server's `Static` segment holds 8 bytes: growth is refused.
        let big = Answer { values: (0..20).collect() };
        assert!(matches!(request.send_serialized(&big), Err(SerializeSendError::TooLarge { .. })));
        request.send_serialized(&Answer { values: vec![] }).unwrap();
        drop(request);
        assert_eq!(pending.receive().unwrap().unwrap().deserialize::<Answer>().unwrap(), Answer { values: vec![] });
        drop(pending);
        let pending = client.send_serialized(&Query::Ping).unwrap();
        let request = server.receive().unwrap().unwrap();
        assert_eq!(request.deserialize::<Query<'_>>().unwrap(), Query::Ping);
        request.send_slice_copy(&[0xff; 4]).unwrap();
        assert_eq!(pending.receive().unwrap().unwrap().deserialize::<Answer>().err(), Some(DecodeError));
    }
    assert_clean(&prefix);
}

#[test]
fn a_disconnect_hint_reaches_the_server_and_responses_still_arrive() {
    let prefix = common::unique_prefix();
    {
        let node = common::node(&prefix);
        let service = node
            .service_builder(&ServiceName::new("rr/hint").unwrap())
            .request_response::<u64, u64>()
            .create()
            .unwrap();
        let client = service.client_builder().create().unwrap();
        let server = service.server_builder().create().unwrap();
        let pending = client.send_copy(1).unwrap();
        let other = client.send_copy(2).unwrap();
        let request = server.receive().unwrap().expect("a request");
        let untouched = server.receive().unwrap().expect("another request");
        assert!(!request.has_disconnect_hint());
        pending.set_disconnect_hint();
        assert!(request.has_disconnect_hint(), "the server sees the client's hint");
        assert!(!untouched.has_disconnect_hint(), "only for that request");
        assert!(request.is_connected(), "a hint is not a disconnect");
        request.send_copy(10).unwrap();
        assert_eq!(*pending.receive().unwrap().expect("a response after the hint"), 10);
        drop(pending);
        assert!(!request.is_connected() && !request.has_disconnect_hint(), "gone is gone, not hinted");
        drop((request, untouched, other));
        // A hint on a later request of the same channel starts clear.
        let again = client.send_copy(3).unwrap();
        let r = server.receive().unwrap().expect("a request");
        assert!(!r.has_disconnect_hint());
        drop((r, again));
    }
    common::assert_clean(&prefix);
}

#[test]
fn a_client_limits_its_own_pending_requests_below_the_service() {
    let prefix = common::unique_prefix();
    {
        let node = common::node(&prefix);
        let service = node
            .service_builder(&ServiceName::new("rr/active").unwrap())
            .request_response::<u64, u64>()
            .max_active_requests_per_client(4)
            .create()
            .unwrap();
        let client = service.client_builder().max_active_requests(2).create().unwrap();
        assert_eq!(client.max_active_requests(), 2);
        let _server = service.server_builder().create().unwrap();
        let a = client.send_copy(1).unwrap();
        let b = client.send_copy(2).unwrap();
        assert_eq!(client.send_copy(3).err(), Some(icefloe_linux::RequestSendError::ExceedsMaxActiveRequests));
        drop(a);
        let c = client.send_copy(4).unwrap();
        drop((b, c));
        for bad in [0, 5] {
            assert_eq!(
                service.client_builder().max_active_requests(bad).create().err(),
                Some(icefloe_linux::ClientCreateError::InvalidConfig),
                "{bad}"
            );
        }
        assert_eq!(service.client_builder().create().unwrap().max_active_requests(), 4, "default: the service's");
    }
    common::assert_clean(&prefix);
}

#[test]
fn a_pending_response_reads_the_request_it_sent_until_it_goes() {
    let prefix = common::unique_prefix();
    {
        let node = common::node(&prefix);
        let service = node
            .service_builder(&ServiceName::new("rr/sent").unwrap())
            .request_response::<[u8], u64>()
            .create()
            .unwrap();
        let client = service.client_builder().initial_max_slice_len(8).create().unwrap();
        let server = service.server_builder().create().unwrap();
        let pending = client.send_slice_copy(b"question").unwrap();
        let request = server.receive().unwrap().expect("a request");
        request.send_copy(42).unwrap();
        drop(request); // the server is done with it; the pending response still reads it
        assert_eq!(pending.payload(), b"question");
        assert_eq!(pending.request_len(), 8);
        assert_eq!(*pending.receive().unwrap().expect("a response"), 42);
        // With no server at all, the request is still there to read.
        drop(server);
        let unanswered = client.send_slice_copy(b"anyone?!").unwrap();
        assert_eq!(unanswered.number_of_server_connections(), 0);
        assert_eq!(unanswered.payload(), b"anyone?!");
        drop((pending, unanswered));
        // Every request chunk came back: the client can loan all it has again.
        let loans: Vec<_> = (0..2).map(|_| client.loan_slice_uninit(8).unwrap()).collect();
        drop(loans);
        for _ in 0..100 {
            drop(client.send_slice_copy(b"12345678").unwrap());
        }
    }
    common::assert_clean(&prefix);
}

#[test]
fn a_client_in_a_reused_slot_is_not_told_its_predecessors_stream_ended() {
    // Found by the kill -9 campaign of issue 14 (no crash needed): client B,
    // in the slot client A left, got "stream ended" at once for its first
    // request, because its tags restarted where A's had, and the server had
    // marked A's first request ended.
    let prefix = common::unique_prefix();
    {
        let node = common::node(&prefix);
        let service = node
            .service_builder(&ServiceName::new("rr/reused").unwrap())
            .request_response::<u64, u64>()
            .max_clients(1)
            .create()
            .unwrap();
        let server = service.server_builder().create().unwrap();
        for round in 0..20u64 {
            let a = service.client_builder().create().unwrap();
            drop(a.send_copy(round).unwrap());
            drop(a);
            while let Some(r) = server.receive().unwrap() {
                drop(r); // marks the old request's stream ended
            }
            let b = service.client_builder().create().unwrap();
            let pending = b.send_copy(round + 100).unwrap();
            assert!(pending.is_connected(), "round {round}: a new client's first request looks ended");
            let request = server.receive().unwrap().expect("B's request");
            assert_eq!(*request, round + 100);
            request.send_copy(round).unwrap();
            assert_eq!(pending.receive().unwrap().map(|r| *r), Some(round), "round {round}");
        }
    }
    common::assert_clean(&prefix);
}

//! Steady state loan → send → receive → drop performs zero heap
//! allocations, counted by a counting global allocator.

use icefloe_linux::prelude::*;
#[path = "common/counting.rs"]
mod counting;

use counting::{ALLOCATIONS, COUNTING};
use std::sync::atomic::Ordering;

#[test]
fn steady_state_allocates_nothing() {
    let prefix = format!("a{}_", std::process::id() % 100_000);
    {
        let node = NodeBuilder::new().prefix(&prefix).unwrap().create().unwrap();
        let service =
            node.service_builder(&ServiceName::new("alloc").unwrap()).publish_subscribe::<[u8]>().create().unwrap();
        let publisher = service.publisher_builder().initial_max_slice_len(4096).create().unwrap();
        let subscriber = service.subscriber_builder().create().unwrap();
        let fixed =
            node.service_builder(&ServiceName::new("alloc2").unwrap()).publish_subscribe::<u64>().create().unwrap();
        let p2 = fixed.publisher_builder().create().unwrap();
        let s2 = fixed.subscriber_builder().create().unwrap();
        // Warm up: connections are made on the first send and receive.
        p2.send_copy(0).unwrap();
        drop(s2.receive().unwrap());
        publisher.send_slice_copy(&[0]).unwrap();
        drop(subscriber.receive().unwrap());

        // The counter sees this thread's allocations: prove it does.
        COUNTING.with(|c| c.set(true));
        let probe = ALLOCATIONS.load(Ordering::SeqCst);
        drop(std::hint::black_box(vec![1u8; 16]));
        assert_eq!(ALLOCATIONS.load(Ordering::SeqCst), probe + 1, "the counting allocator does not count");
        let before = ALLOCATIONS.load(Ordering::SeqCst);
        let mut checksum = 0u64;
        for i in 0..10_000usize {
            let sample = publisher.loan_slice_uninit(i % 4096).unwrap().write_from_fn(|k| (k + i) as u8);
            assert_eq!(sample.send().unwrap(), 1);
            let got = subscriber.receive().unwrap().unwrap();
            checksum += got.len() as u64;
            drop(got);
            let s = p2.loan_uninit().unwrap().write_payload(i as u64);
            s.send().unwrap();
            checksum += *s2.receive().unwrap().unwrap();
        }
        let during = ALLOCATIONS.load(Ordering::SeqCst) - before;
        COUNTING.with(|c| c.set(false));
        assert!(checksum > 0);
        assert_eq!(during, 0, "{during} heap allocations in 20,000 steady-state round trips");
    }
}

#[test]
fn request_response_round_trips_allocate_nothing_even_after_growth() {
    let prefix = format!("b{}_", std::process::id() % 100_000);
    {
        let node = NodeBuilder::new().prefix(&prefix).unwrap().create().unwrap();
        let service = node
            .service_builder(&ServiceName::new("alloc_rr").unwrap())
            .request_response::<[u8], [u8]>()
            .create()
            .unwrap();
        let client = service
            .client_builder()
            .initial_max_slice_len(16)
            .allocation_strategy(icefloe_linux::AllocationStrategy::PowerOfTwo)
            .create()
            .unwrap();
        let server = service
            .server_builder()
            .initial_max_slice_len(16)
            .allocation_strategy(icefloe_linux::AllocationStrategy::PowerOfTwo)
            .create()
            .unwrap();
        let round = |len: usize| -> u64 {
            let pending = client.loan_slice_uninit(len).unwrap().write_from_fn(|k| k as u8).send().unwrap();
            let request = server.receive().unwrap().unwrap();
            request.loan_slice_uninit(request.len()).unwrap().write_from_fn(|k| (k + 1) as u8).send().unwrap();
            drop(request);
            let response = pending.receive().unwrap().unwrap();
            response.len() as u64
        };
        // Growth settles: both sides reach a segment for 64 KiB.
        for len in [16, 1000, 65_536] {
            round(len);
        }
        COUNTING.with(|c| c.set(true));
        let before = ALLOCATIONS.load(Ordering::SeqCst);
        let mut total = 0;
        for i in 0..10_000usize {
            total += round(i * 7 % 65_536);
        }
        let during = ALLOCATIONS.load(Ordering::SeqCst) - before;
        COUNTING.with(|c| c.set(false));
        assert!(total > 0);
        assert!(client.number_of_growths() >= 2 && server.number_of_growths() >= 2);
        assert_eq!(during, 0, "{during} heap allocations in 10,000 steady-state request-response round trips");
    }
}

#[test]
fn notify_and_wait_allocate_nothing() {
    let prefix = format!("c{}_", std::process::id() % 100_000);
    {
        let node = NodeBuilder::new().prefix(&prefix).unwrap().create().unwrap();
        let event = node.service_builder(&ServiceName::new("alloc_ev").unwrap()).event().create().unwrap();
        let listener = event.listener_builder().create().unwrap();
        let notifier = event.notifier_builder().create().unwrap();
        // Blocking waits woken from another thread: a peer that answers
        // every notification on a second service.
        let back = node.service_builder(&ServiceName::new("alloc_back").unwrap()).event().create().unwrap();
        let back_listener = back.listener_builder().create().unwrap();
        let rounds = 10_000usize;
        std::thread::scope(|s| {
            let (event, back_listener) = (&event, &back_listener);
            s.spawn(move || {
                let answer = event.notifier_builder().default_event_id(EventId::new(1)).create().unwrap();
                let mut seen = 0;
                while seen < rounds {
                    back_listener.blocking_wait(|e| seen += e.count as usize).unwrap();
                    answer.notify().unwrap();
                }
            });
            let ping = back.notifier_builder().create().unwrap();
            COUNTING.with(|c| c.set(true));
            let before = ALLOCATIONS.load(Ordering::SeqCst);
            let mut total = 0u64;
            for i in 0..rounds {
                notifier.notify().unwrap();
                listener.try_wait(|e| total += u64::from(e.count)).unwrap();
                ping.notify().unwrap();
                let mut answered = 0;
                while answered == 0 {
                    listener
                        .timed_wait(std::time::Duration::from_secs(20), |e| {
                            if e.id.as_value() == 1 {
                                answered += 1;
                            }
                        })
                        .unwrap();
                }
                assert!(answered == 1 || i == 0);
            }
            let during = ALLOCATIONS.load(Ordering::SeqCst) - before;
            COUNTING.with(|c| c.set(false));
            assert!(total >= rounds as u64);
            assert_eq!(during, 0, "{during} heap allocations in {rounds} notify/wait rounds");
        });
    }
}

#[test]
fn blocking_receives_and_waitset_runs_allocate_nothing() {
    use std::time::Duration;
    let prefix = format!("d{}_", std::process::id() % 100_000);
    {
        let node = NodeBuilder::new().prefix(&prefix).unwrap().create().unwrap();
        let ps =
            node.service_builder(&ServiceName::new("alloc_ps").unwrap()).publish_subscribe::<u64>().create().unwrap();
        let back = node
            .service_builder(&ServiceName::new("alloc_ps_back").unwrap())
            .publish_subscribe::<u64>()
            .create()
            .unwrap();
        let rounds = 5_000u64;
        std::thread::scope(|s| {
            let (ps, back) = (&ps, &back);
            s.spawn(move || {
                let sub = ps.subscriber_builder().create().unwrap();
                let publisher = back.publisher_builder().create().unwrap();
                for _ in 0..rounds {
                    let v = *sub.blocking_receive().unwrap();
                    while publisher.send_copy(v).unwrap() == 0 {
                        std::thread::yield_now();
                    }
                }
            });
            let publisher = ps.publisher_builder().create().unwrap();
            let subscriber = back.subscriber_builder().create().unwrap();
            let waitset = WaitSet::<4>::new();
            let guard = waitset.attach_deadline(&subscriber, Duration::from_secs(20)).unwrap();
            // Warm up: connections on both sides.
            while publisher.send_copy(0).unwrap() == 0 {
                std::thread::yield_now();
            }
            assert_eq!(*subscriber.timed_receive(Duration::from_secs(20)).unwrap().unwrap(), 0);
            COUNTING.with(|c| c.set(true));
            let before = ALLOCATIONS.load(Ordering::SeqCst);
            for i in 1..rounds {
                while publisher.send_copy(i).unwrap() == 0 {
                    std::thread::yield_now();
                }
                let mut got = None;
                while got.is_none() {
                    waitset
                        .wait_and_process_once(|id| {
                            assert!(id.has_event_from(&guard), "the deadline was missed");
                            got = subscriber.receive().unwrap().map(|s| *s);
                            CallbackProgression::Continue
                        })
                        .unwrap();
                }
                assert_eq!(got, Some(i));
            }
            let during = ALLOCATIONS.load(Ordering::SeqCst) - before;
            COUNTING.with(|c| c.set(false));
            assert_eq!(during, 0, "{during} heap allocations in {rounds} blocking round trips through a WaitSet");
        });
    }
}

/// The owning forms bindings use (`Shared` ports, `_via` loans and
/// receives, owning pending responses and active requests) allocate nothing
/// per message either: holding a port is a reference count, not a box.
#[test]
fn owning_loans_samples_and_requests_allocate_nothing() {
    use icefloe_linux::icefloe_core::{ActiveRequest, PendingResponse};
    use icefloe_linux::Shared;
    let prefix = format!("o{}_", std::process::id() % 100_000);
    {
        let node = NodeBuilder::new().prefix(&prefix).unwrap().create().unwrap();
        let pubsub =
            node.service_builder(&ServiceName::new("own").unwrap()).publish_subscribe::<[u8]>().create().unwrap();
        let publisher = Shared::new(pubsub.publisher_builder().initial_max_slice_len(256).create().unwrap());
        let subscriber = Shared::new(pubsub.subscriber_builder().create().unwrap());
        let rr =
            node.service_builder(&ServiceName::new("own_rr").unwrap()).request_response::<u64, u64>().create().unwrap();
        let client = Shared::new(rr.client_builder().create().unwrap());
        let server = Shared::new(rr.server_builder().create().unwrap());
        let round = |i: usize| -> u64 {
            let loan = Publisher::loan_slice_uninit_via(&publisher, i % 256).unwrap();
            loan.write_from_fn(|k| (k + i) as u8).send().unwrap();
            let sample = Subscriber::receive_via(&subscriber).unwrap().unwrap();
            let mut sum = sample.len() as u64;
            drop(sample);
            let pending = Client::loan_uninit_via(&client).unwrap().write_payload(i as u64).send().unwrap();
            let request = Server::receive_via(&server).unwrap().unwrap();
            ActiveRequest::loan_uninit_via(&&request).unwrap().write_payload(*request + 1).send().unwrap();
            drop(request);
            sum += *PendingResponse::receive_via(&&pending).unwrap().unwrap();
            sum
        };
        round(0);
        COUNTING.with(|c| c.set(true));
        let before = ALLOCATIONS.load(Ordering::SeqCst);
        let mut total = 0;
        for i in 0..10_000usize {
            total += round(i);
        }
        let during = ALLOCATIONS.load(Ordering::SeqCst) - before;
        COUNTING.with(|c| c.set(false));
        assert!(total > 0);
        assert_eq!(during, 0, "{during} heap allocations in 10,000 owning round trips");
    }
}

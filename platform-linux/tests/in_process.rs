//! Publish-subscribe within one process: the protocol, limits and errors.

mod common;

use common::*;
use icefloe_linux::prelude::*;
use icefloe_linux::AllocationStrategy;
use icefloe_linux::{ServiceCreateError, ServiceOpenError};

fn name(s: &str) -> ServiceName {
    ServiceName::new(s).unwrap()
}

#[test]
fn send_and_receive_with_user_header_and_origin() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let service =
            node.service_builder(&name("a")).publish_subscribe::<u64>().user_header::<[u32; 2]>().create().unwrap();
        let publisher = service.publisher_builder().create().unwrap();
        let subscriber = service.subscriber_builder().create().unwrap();
        assert!(subscriber.receive().unwrap().is_none());
        let mut sample = publisher.loan_uninit().unwrap();
        *sample.user_header_mut() = [7, 8];
        assert_eq!(sample.write_payload(42).send().unwrap(), 1);
        assert!(subscriber.has_samples());
        let got = subscriber.receive().unwrap().unwrap();
        assert_eq!(*got, 42);
        assert_eq!(*got.user_header(), [7, 8]);
        assert_eq!(got.origin(), publisher.id());
        drop(got);
        assert!(!subscriber.has_samples());
    }
    assert_clean(&prefix);
}

#[test]
fn chunks_return_to_the_pool() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let service = node.service_builder(&name("a")).publish_subscribe::<u64>().create().unwrap();
        let publisher = service.publisher_builder().create().unwrap();
        let subscriber = service.subscriber_builder().create().unwrap();
        let total = publisher.chunk_stats().total;
        assert_eq!(total, 8 * (2 + 2) + 2);
        for i in 0..10_000u64 {
            publisher.send_copy(i).unwrap();
            assert_eq!(*subscriber.receive().unwrap().unwrap(), i);
        }
        assert_eq!(publisher.chunk_stats().free, total);
    }
    assert_clean(&prefix);
}

#[test]
fn limits_return_typed_errors() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let service = node
            .service_builder(&name("limits"))
            .publish_subscribe::<u64>()
            .max_publishers(1)
            .max_subscribers(1)
            .subscriber_max_borrowed_samples(1)
            .create()
            .unwrap();
        let publisher = service.publisher_builder().max_loaned_samples(1).create().unwrap();
        assert_eq!(
            service.publisher_builder().create().err(),
            Some(icefloe_linux::PublisherCreateError::ExceedsMaxSupportedPublishers)
        );
        let subscriber = service.subscriber_builder().create().unwrap();
        assert_eq!(
            service.subscriber_builder().create().err(),
            Some(icefloe_linux::SubscriberCreateError::ExceedsMaxSupportedSubscribers)
        );
        let loan = publisher.loan_uninit().unwrap();
        assert_eq!(publisher.loan_uninit().err(), Some(LoanError::ExceedsMaxLoans));
        drop(loan);
        publisher.send_copy(1).unwrap();
        publisher.send_copy(2).unwrap();
        let held = subscriber.receive().unwrap().unwrap();
        assert_eq!(subscriber.receive().err(), Some(ReceiveError::ExceedsMaxBorrows));
        drop(held);
        assert_eq!(*subscriber.receive().unwrap().unwrap(), 2);
        assert_eq!(
            node.service_builder(&name("limits")).publish_subscribe::<u64>().create().err(),
            Some(ServiceCreateError::AlreadyExists)
        );
        assert_eq!(
            node.service_builder(&name("q")).publish_subscribe::<u64>().max_publishers(0).create().err(),
            Some(ServiceCreateError::InvalidQos("max_publishers"))
        );
        assert_eq!(
            node.service_builder(&name("q")).publish_subscribe::<u64>().max_publishers(1000).create().err(),
            Some(ServiceCreateError::ExceedsBuildLimit("max_publishers"))
        );
    }
    assert_clean(&prefix);
}

#[test]
fn too_many_nodes() {
    let prefix = unique_prefix();
    {
        let a = node(&prefix);
        let b = node(&prefix);
        let _s = a.service_builder(&name("n")).publish_subscribe::<u8>().max_nodes(1).create().unwrap();
        assert_eq!(
            b.service_builder(&name("n")).publish_subscribe::<u8>().open().err(),
            Some(ServiceOpenError::ExceedsMaxNumberOfNodes)
        );
    }
    assert_clean(&prefix);
}

#[test]
fn open_checks_types_and_qos() {
    #[derive(Debug, Clone, Copy, ZeroCopySend)]
    #[repr(C)]
    struct Other(u64);
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let n = name("types");
        let _s = node
            .service_builder(&n)
            .publish_subscribe::<u64>()
            .user_header::<u32>()
            .max_publishers(2)
            .history_size(1)
            .enable_safe_overflow(true)
            .create()
            .unwrap();
        let open = || node.service_builder(&n).publish_subscribe::<u64>().user_header::<u32>();
        assert!(open().open().is_ok());
        use ServiceOpenError as E;
        assert_eq!(
            node.service_builder(&n).publish_subscribe::<Other>().user_header::<u32>().open().err(),
            Some(E::IncompatiblePayloadType)
        );
        assert_eq!(
            node.service_builder(&n).publish_subscribe::<[u64]>().user_header::<u32>().open().err(),
            Some(E::IncompatiblePayloadType)
        );
        assert_eq!(node.service_builder(&n).publish_subscribe::<u64>().open().err(), Some(E::IncompatibleUserHeader));
        assert_eq!(open().payload_alignment(64).open().err(), Some(E::IncompatiblePayloadAlignment));
        assert_eq!(open().enable_safe_overflow(false).open().err(), Some(E::IncompatibleOverflowBehavior));
        assert_eq!(
            open().max_publishers(3).open().err(),
            Some(E::DoesNotSupportRequestedAmountOfPublishers(cap(2, 3)))
        );
        assert_eq!(
            open().max_subscribers(9).open().err(),
            Some(E::DoesNotSupportRequestedAmountOfSubscribers(cap(8, 9)))
        );
        assert_eq!(open().history_size(2).open().err(), Some(E::DoesNotSupportRequestedMinHistorySize(cap(1, 2))));
        assert_eq!(
            open().subscriber_max_buffer_size(3).open().err(),
            Some(E::DoesNotSupportRequestedMinBufferSize(cap(2, 3)))
        );
        assert_eq!(
            open().subscriber_max_borrowed_samples(3).open().err(),
            Some(E::DoesNotSupportRequestedMinSubscriberBorrowedSamples(cap(2, 3)))
        );
        assert_eq!(open().max_nodes(21).open().err(), Some(E::DoesNotSupportRequestedAmountOfNodes(cap(20, 21))));
        assert_eq!(node.service_builder(&name("nope")).publish_subscribe::<u64>().open().err(), Some(E::DoesNotExist));
        // What a user reads: the setting, the service's value and the one asked for.
        assert_eq!(
            open().max_subscribers(12).open().err().unwrap().to_string(),
            "the service was created with max_subscribers 8; this open asks for 12: ask for at most 8, or recreate \
             the service"
        );
        assert_eq!(
            open().payload_alignment(64).open().err().unwrap().to_string(),
            "the service's payload type has another alignment, or a smaller payload_alignment, than this open asks"
        );
    }
    assert_clean(&prefix);
}

#[test]
fn payload_size_mismatch_is_its_own_error() {
    // Same name, different size: a user renamed nothing but changed layout.
    mod a {
        #[derive(icefloe_linux::ZeroCopySend)]
        #[repr(C)]
        pub struct Pose(pub u32);
    }
    mod b {
        #[derive(icefloe_linux::ZeroCopySend)]
        #[repr(C)]
        pub struct Pose(pub u64);
    }
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let _s = node.service_builder(&name("p")).publish_subscribe::<a::Pose>().create().unwrap();
        assert_eq!(
            node.service_builder(&name("p")).publish_subscribe::<b::Pose>().open().err(),
            Some(ServiceOpenError::IncompatiblePayloadSize)
        );
    }
    assert_clean(&prefix);
}

#[test]
fn names_are_validated() {
    assert_eq!(ServiceName::new("").err(), Some(icefloe_linux::NameError::Empty));
    assert_eq!(ServiceName::new(&"s".repeat(256)).err(), Some(icefloe_linux::NameError::TooLong { max: 255 }));
    assert_eq!(NodeName::new(&"n".repeat(129)).err(), Some(icefloe_linux::NameError::TooLong { max: 128 }));
    assert!(NodeBuilder::new().prefix("bad/prefix").is_err());
}

#[test]
fn slices_of_many_lengths_arrive_intact() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let service = node.service_builder(&name("s")).publish_subscribe::<[u16]>().create().unwrap();
        let publisher = service.publisher_builder().initial_max_slice_len(4096).create().unwrap();
        let subscriber = service.subscriber_builder().create().unwrap();
        for len in [0usize, 1, 7, 64, 1000, 4096] {
            let sample = publisher.loan_slice_uninit(len).unwrap().write_from_fn(|i| (i * 3 + len) as u16);
            sample.send().unwrap();
            let got = subscriber.receive().unwrap().unwrap();
            assert_eq!(got.len(), len);
            assert!(got.iter().enumerate().all(|(i, &v)| v == (i * 3 + len) as u16), "content differs at len {len}");
        }
        assert_eq!(publisher.loan_slice_uninit(4097).err(), Some(LoanError::ExceedsMaxLoanSize));
    }
    assert_clean(&prefix);
}

#[test]
fn open_or_create_and_last_one_out_removes() {
    let prefix = unique_prefix();
    let a = node(&prefix);
    let b = node(&prefix);
    let s1 = a.service_builder(&name("x")).publish_subscribe::<u32>().open_or_create().unwrap();
    let s2 = b.service_builder(&name("x")).publish_subscribe::<u32>().open_or_create().unwrap();
    let p = s1.publisher_builder().create().unwrap();
    let sub = s2.subscriber_builder().create().unwrap();
    p.send_copy(5).unwrap();
    assert_eq!(*sub.receive().unwrap().unwrap(), 5);
    drop((p, sub));
    drop(s1);
    assert!(!segments(&prefix).is_empty(), "service removed while still open");
    drop(s2);
    assert_services_gone(&prefix);
    drop((a, b));
    assert_clean(&prefix);
}

#[test]
fn footprints_match_the_segments_made() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let builder = node.service_builder(&name("fp")).publish_subscribe::<[u8; 100]>().max_publishers(3);
        let fp = builder.footprint().unwrap();
        let service = builder.create().unwrap();
        assert_eq!(service.footprint(), fp);
        let size_of = |kind: char| {
            let n = shm_left(&prefix).into_iter().find(|n| n.ends_with(kind)).unwrap();
            std::fs::metadata(format!("/dev/shm/{n}")).unwrap().len() as usize
        };
        assert_eq!(size_of('s'), fp.service_segment);
        let pb = service.publisher_builder();
        assert_eq!(pb.footprint().unwrap(), fp.default_publisher_data_segment);
        let _publisher = pb.create().unwrap();
        assert_eq!(size_of('d'), fp.default_publisher_data_segment);
        assert_eq!(fp.worst_case_total, fp.service_segment + 3 * fp.default_publisher_data_segment);
        // 34 chunks of at least 100 bytes each.
        assert!(fp.default_publisher_data_segment > 34 * 100);
    }
    assert_clean(&prefix);
}

#[test]
fn segments_are_owner_only_by_default_or_group_shared() {
    use std::os::unix::fs::PermissionsExt;
    for (perm, mode) in [
        (icefloe_core::platform::Permissions::OwnerOnly, 0o600),
        (icefloe_core::platform::Permissions::OwnerAndGroup, 0o660),
    ] {
        let prefix = unique_prefix();
        {
            let node = NodeBuilder::new().prefix(&prefix).unwrap().permissions(perm).create().unwrap();
            let service = node.service_builder(&name("perm")).publish_subscribe::<u8>().create().unwrap();
            let _p = service.publisher_builder().create().unwrap();
            for n in shm_left(&prefix) {
                let m = std::fs::metadata(format!("/dev/shm/{n}")).unwrap().permissions().mode() & 0o777;
                assert_eq!(m, mode, "{n} has mode {m:o}");
            }
        }
        assert_clean(&prefix);
    }
}

fn data_segments(prefix: &str) -> usize {
    shm_left(prefix).iter().filter(|n| n.ends_with('d')).count()
}

#[test]
fn slices_grow_by_power_of_two_up_to_the_ceiling() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let service = node.service_builder(&name("grow")).publish_subscribe::<[u8]>().create().unwrap();
        let publisher = service
            .publisher_builder()
            .initial_max_slice_len(16)
            .allocation_strategy(AllocationStrategy::PowerOfTwo)
            .max_slice_len(1_000_000)
            .create()
            .unwrap();
        let subscriber = service.subscriber_builder().create().unwrap();
        let mut caps = vec![publisher.current_max_slice_len()];
        // The flagship's sizes (counter², capped), every seventh counter to
        // keep the debug-build test quick, and the cap itself.
        for counter in (1..=1001usize).step_by(7).chain([1000]) {
            let len = (counter * counter).min(1_000_000);
            let sample = publisher.loan_slice_uninit(len).unwrap().write_from_fn(|i| ((i + counter) % 255) as u8);
            assert_eq!(sample.send().unwrap(), 1);
            let got = subscriber.receive().unwrap().unwrap();
            assert_eq!(got.len(), len);
            assert!(got.iter().enumerate().all(|(i, &b)| b == ((i + counter) % 255) as u8), "content at {len}");
            if *caps.last().unwrap() != publisher.current_max_slice_len() {
                caps.push(publisher.current_max_slice_len());
            }
        }
        // Powers of two from 16, then the ceiling itself.
        assert_eq!(caps[0], 16);
        assert!(caps.windows(2).all(|w| w[0] < w[1]), "capacities must only grow: {caps:?}");
        assert!(caps[..caps.len() - 1].iter().all(|c| c.is_power_of_two()), "{caps:?}");
        assert_eq!(*caps.last().unwrap(), 1_000_000, "{caps:?}");
        assert_eq!(publisher.number_of_growths(), caps.len() as u64 - 1);
        assert_eq!(publisher.loan_slice_uninit(1_000_001).err(), Some(LoanError::ExceedsMaxLoanSize));
        assert_eq!(publisher.chunk_stats().segments, 1, "retired segments linger");
        assert_eq!(data_segments(&prefix), 1);
    }
    assert_clean(&prefix);
}

#[test]
fn static_strategy_refuses_longer_loans_and_best_fit_grows_exactly() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let service =
            node.service_builder(&name("grow")).publish_subscribe::<[u32]>().max_publishers(2).create().unwrap();
        let fixed = service.publisher_builder().initial_max_slice_len(16).create().unwrap();
        assert!(fixed.loan_slice_uninit(16).is_ok());
        assert_eq!(fixed.loan_slice_uninit(17).err(), Some(LoanError::ExceedsMaxLoanSize));
        let best = service
            .publisher_builder()
            .initial_max_slice_len(4)
            .allocation_strategy(AllocationStrategy::BestFit)
            .max_slice_len(100)
            .create()
            .unwrap();
        drop(best.loan_slice_uninit(37).unwrap());
        assert_eq!(best.current_max_slice_len(), 37);
        assert_eq!(best.loan_slice_uninit(101).err(), Some(LoanError::ExceedsMaxLoanSize));
        assert_eq!(best.current_max_slice_len(), 37);
    }
    assert_clean(&prefix);
}

#[test]
fn samples_in_old_segments_stay_valid_until_returned() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let service = node.service_builder(&name("old")).publish_subscribe::<[u64]>().create().unwrap();
        let publisher = service
            .publisher_builder()
            .initial_max_slice_len(1)
            .allocation_strategy(AllocationStrategy::BestFit)
            .create()
            .unwrap();
        let subscriber = service.subscriber_builder().create().unwrap();
        publisher.send_slice_copy(&[7]).unwrap();
        let held = subscriber.receive().unwrap().unwrap();
        publisher.send_slice_copy(&[1, 2, 3]).unwrap(); // grows
        assert_eq!(publisher.chunk_stats().segments, 2, "the old segment must stay while its sample is held");
        assert_eq!(data_segments(&prefix), 2);
        assert_eq!(&*subscriber.receive().unwrap().unwrap(), &[1, 2, 3]);
        assert_eq!(&*held, &[7], "a held sample changed when the publisher grew");
        drop(held);
        assert_eq!(publisher.chunk_stats().segments, 1, "the old segment is retired once its chunk is back");
        assert_eq!(data_segments(&prefix), 1);
    }
    assert_clean(&prefix);
}

#[test]
fn ten_thousand_growths_keep_working() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let service = node.service_builder(&name("many")).publish_subscribe::<[u8]>().create().unwrap();
        let publisher = service
            .publisher_builder()
            .allocation_strategy(AllocationStrategy::BestFit)
            .max_slice_len(20_000)
            .create()
            .unwrap();
        let subscriber = service.subscriber_builder().create().unwrap();
        for len in 2..=10_001usize {
            let s = publisher.loan_slice_uninit(len).unwrap().write_from_fn(|i| (i ^ len) as u8);
            s.send().unwrap();
            let got = subscriber.receive().unwrap().unwrap();
            assert_eq!(got.len(), len);
            assert_eq!(got[len - 1], ((len - 1) ^ len) as u8);
        }
        assert_eq!(publisher.number_of_growths(), 10_000);
        assert!(publisher.chunk_stats().segments <= 2);
    }
    assert_clean(&prefix);
}

#[test]
fn preallocation_can_be_reduced() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let service = node.service_builder(&name("pre")).publish_subscribe::<[u8; 4096]>().create().unwrap();
        let full = service.publisher_builder().footprint().unwrap();
        let publisher = service.publisher_builder().override_sample_preallocation(|worst| {
            assert_eq!(worst, 8 * (2 + 2) + 2);
            3
        });
        assert!(publisher.footprint().unwrap() < full / 5);
        let publisher = publisher.create().unwrap();
        assert_eq!(publisher.chunk_stats().total, 3);
        let subscriber = service.subscriber_builder().create().unwrap();
        publisher.send_copy([1; 4096]).unwrap();
        publisher.send_copy([2; 4096]).unwrap();
        let (a, b) = (subscriber.receive().unwrap().unwrap(), subscriber.receive().unwrap().unwrap());
        assert_eq!((a[0], b[0]), (1, 2));
        let loan = publisher.loan_uninit().unwrap();
        // Two held by the subscriber, one on loan: the reduced pool is empty.
        assert_eq!(publisher.loan_uninit().err(), Some(LoanError::OutOfMemory));
        drop((loan, a, b));
        assert_eq!(publisher.chunk_stats().free, 3);
        // Clamped to at least one chunk.
        let tiny = service.publisher_builder().override_sample_preallocation(|_| 0);
        assert_eq!(tiny.create().unwrap().chunk_stats().total, 1);
    }
    assert_clean(&prefix);
}

#[test]
fn service_max_slice_len_bounds_every_publisher() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let n = name("ceiling");
        let service = node.service_builder(&n).publish_subscribe::<[u8]>().max_slice_len(1000).create().unwrap();
        assert_eq!(service.static_config().max_slice_len, 1000);
        let publisher = service
            .publisher_builder()
            .allocation_strategy(AllocationStrategy::PowerOfTwo)
            .max_slice_len(1_000_000)
            .create()
            .unwrap();
        assert_eq!(publisher.max_slice_len(), 1000);
        assert!(publisher.loan_slice_uninit(1000).is_ok());
        assert_eq!(publisher.loan_slice_uninit(1001).err(), Some(LoanError::ExceedsMaxLoanSize));
        assert_eq!(
            node.service_builder(&n).publish_subscribe::<[u8]>().max_slice_len(1001).open().err(),
            Some(icefloe_linux::ServiceOpenError::DoesNotSupportRequestedMaxSliceLen(cap(1000, 1001)))
        );
        assert!(node.service_builder(&n).publish_subscribe::<[u8]>().max_slice_len(999).open().is_ok());
    }
    assert_clean(&prefix);
}

#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
enum Command<'a> {
    Stop,
    Move { name: &'a str, path: Vec<(i32, i32)> },
}

#[test]
fn serde_values_travel_through_byte_slices() {
    use icefloe_linux::icefloe_core::serialize::{encoded_len, DecodeError, SerializeSendError};
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let service =
            node.service_builder(&name("serde")).publish_subscribe::<[u8]>().max_publishers(2).create().unwrap();
        let publisher = service
            .publisher_builder()
            .initial_max_slice_len(8)
            .allocation_strategy(AllocationStrategy::PowerOfTwo)
            .max_slice_len(4096)
            .create()
            .unwrap();
        let subscriber = service.subscriber_builder().create().unwrap();
        let path: Vec<(i32, i32)> = (0..100).map(|i| (i, -i)).collect();
        let sent = Command::Move { name: "arm/left", path };
        assert_eq!(publisher.send_serialized(&sent).unwrap(), 1);
        let sample = subscriber.receive().unwrap().unwrap();
        assert_eq!(sample.len(), encoded_len(&sent).unwrap(), "the slice is exactly the encoding");
        assert_eq!(sample.deserialize::<Command<'_>>().unwrap(), sent);
        drop(sample);
        publisher.send_serialized(&Command::Stop).unwrap();
        assert_eq!(subscriber.receive().unwrap().unwrap().deserialize::<Command<'_>>().unwrap(), Command::Stop);
        // Too large for the ceiling.
        let huge = vec![7u8; 5000];
        assert_eq!(publisher.send_serialized(&huge).err(), Some(SerializeSendError::TooLarge { len: 5002 }));
        // Too large for a Static publisher's slices.
        let fixed = service.publisher_builder().initial_max_slice_len(4).create().unwrap();
        assert!(matches!(fixed.send_serialized(&sent), Err(SerializeSendError::TooLarge { .. })));
        // Bytes that are no encoding of the type.
        fixed.send_slice_copy(&[9, 0xff, 0xff]).unwrap();
        assert_eq!(subscriber.receive().unwrap().unwrap().deserialize::<Command<'_>>().err(), Some(DecodeError));
    }
    assert_clean(&prefix);
}

#[test]
fn ports_move_to_other_threads_and_services_are_shared() {
    fn is_send<T: Send>(_: &T) {}
    fn is_sync<T: Sync>(_: &T) {}
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        // No safe overflow: with the default buffer of 2, a receiver thread
        // descheduled for half a millisecond (both cores busy) would lose
        // samples to it and never see all 100; the publisher waits instead.
        let service = node
            .service_builder(&name("threads"))
            .publish_subscribe::<u64>()
            .enable_safe_overflow(false)
            .create()
            .unwrap();
        is_sync(&service);
        let publisher = service.publisher_builder().create().unwrap();
        let subscriber = service.subscriber_builder().create().unwrap();
        is_send(&publisher);
        is_send(&subscriber);
        let service = &service;
        std::thread::scope(|s| {
            let receiver = s.spawn(move || {
                let mut got = Vec::new();
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
                while got.len() < 100 {
                    assert!(std::time::Instant::now() < deadline, "watchdog");
                    if let Some(v) = subscriber.receive().unwrap() {
                        got.push(*v);
                    }
                }
                got
            });
            s.spawn(move || {
                // A second subscriber made in this thread from the shared service.
                let late = service.subscriber_builder().create().unwrap();
                drop(late);
                for i in 0..100u64 {
                    while publisher.send_copy(i).is_err() {}
                    std::thread::sleep(std::time::Duration::from_micros(200));
                }
            });
            let got = receiver.join().unwrap();
            assert_eq!(got, (0..100).collect::<Vec<_>>());
        });
    }
    assert_clean(&prefix);
}

#[test]
fn a_restarted_publisher_reaches_a_subscriber_still_holding_old_samples() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let service = node
            .service_builder(&name("restart"))
            .publish_subscribe::<u64>()
            .max_publishers(1)
            .subscriber_max_buffer_size(4)
            .create()
            .unwrap();
        let subscriber = service.subscriber_builder().create().unwrap();
        let first = service.publisher_builder().create().unwrap();
        first.send_copy(1).unwrap();
        first.send_copy(2).unwrap();
        let held = subscriber.receive().unwrap().unwrap();
        drop(first); // its slot is free; sample 2 is still queued, sample 1 held
        let second = service.publisher_builder().create().expect("the slot is free again");
        // The subscriber still reads the old publisher's queue: no connection yet.
        assert_eq!(second.send_copy(10).unwrap(), 0);
        assert_eq!(*held, 1, "a held sample of a departed publisher stays readable");
        assert_eq!(*subscriber.receive().unwrap().unwrap(), 2, "queued samples of a departed publisher arrive");
        drop(held);
        // Drained: the subscriber lets go, and the new publisher connects.
        assert!(subscriber.receive().unwrap().is_none());
        assert_eq!(second.send_copy(11).unwrap(), 1);
        assert_eq!(*subscriber.receive().unwrap().unwrap(), 11);
        assert_eq!(second.chunk_stats().free, second.chunk_stats().total);
    }
    assert_clean(&prefix);
}

#[test]
fn live_port_counts_follow_creation_and_drop() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let ps = node.service_builder(&name("counts/ps")).publish_subscribe::<u64>().create().unwrap();
        assert_eq!((ps.number_of_publishers(), ps.number_of_subscribers()), (0, 0));
        let p = ps.publisher_builder().create().unwrap();
        let s1 = ps.subscriber_builder().create().unwrap();
        let s2 = ps.subscriber_builder().create().unwrap();
        assert_eq!((ps.number_of_publishers(), ps.number_of_subscribers()), (1, 2));
        drop(s1);
        assert_eq!(ps.number_of_subscribers(), 1);
        let rr = node.service_builder(&name("counts/rr")).request_response::<u64, u64>().create().unwrap();
        let c = rr.client_builder().create().unwrap();
        assert_eq!((rr.number_of_clients(), rr.number_of_servers()), (1, 0));
        let ev = node.service_builder(&name("counts/ev")).event().create().unwrap();
        let l = ev.listener_builder().create().unwrap();
        assert_eq!((ev.number_of_notifiers(), ev.number_of_listeners()), (0, 1));
        drop((p, s2, c, l));
        assert_eq!((ps.number_of_publishers(), ps.number_of_subscribers()), (0, 0));
        assert_eq!((rr.number_of_clients(), ev.number_of_listeners()), (0, 0));
    }
    assert_clean(&prefix);
}

#[test]
fn a_late_subscriber_gets_the_history_it_asks_for() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let service = node
            .service_builder(&name("history/request"))
            .publish_subscribe::<u64>()
            .history_size(3)
            .subscriber_max_buffer_size(4)
            .create()
            .unwrap();
        let publisher = service.publisher_builder().create().unwrap();
        for v in 1..=3 {
            publisher.send_copy(v).unwrap();
        }
        let drain = |s: &Subscriber<u64>| {
            let mut got = Vec::new();
            while let Some(x) = s.receive().unwrap() {
                got.push(*x);
            }
            got
        };
        let all = service.subscriber_builder().create().unwrap();
        let one = service.subscriber_builder().history_request(1).create().unwrap();
        let none = service.subscriber_builder().history_request(0).create().unwrap();
        let more = service.subscriber_builder().history_request(10).create().unwrap();
        publisher.update_connections();
        assert_eq!(drain(&all), vec![1, 2, 3], "default: the service's history");
        assert_eq!(drain(&one), vec![3], "the newest one");
        assert_eq!(drain(&none), Vec::<u64>::new());
        assert_eq!(drain(&more), vec![1, 2, 3], "at most what the service keeps");
    }
    assert_clean(&prefix);
}

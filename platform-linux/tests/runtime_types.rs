//! Services whose payload type is described at run time (`[Opaque]` plus a
//! `TypeDetail`), as the Python and C bindings build them: they open
//! against Rust services of the same name and layout, refuse any other,
//! and carry every byte.

mod common;

use common::{assert_clean, node, unique_prefix};
use icefloe_linux::icefloe_core::zero_copy::InvalidTypeDetail;
use icefloe_linux::icefloe_core::{Opaque, TypeDetail, TypeVariant};
use icefloe_linux::prelude::*;
use icefloe_linux::{ServiceOpenError, ServiceOpenOrCreateError};

#[derive(Debug, Clone, Copy, PartialEq, ZeroCopySend)]
#[repr(C)]
struct Pose {
    x: f64,
    y: f64,
    id: u32,
}

fn pose_detail() -> TypeDetail {
    TypeDetail::new(TypeVariant::FixedSize, "Pose", 24, 8).unwrap()
}

fn bytes_detail() -> TypeDetail {
    TypeDetail::new(TypeVariant::Slice, "u8", 1, 1).unwrap()
}

#[test]
fn a_runtime_typed_publisher_reaches_a_rust_subscriber_of_the_same_layout() {
    let prefix = unique_prefix();
    let node = node(&prefix);
    let name = ServiceName::new("rt/pose").unwrap();
    let rust = node.service_builder(&name).publish_subscribe::<Pose>().create().unwrap();
    let subscriber = rust.subscriber_builder().create().unwrap();

    let opaque =
        node.service_builder(&name).publish_subscribe::<[Opaque]>().payload_type_detail(pose_detail()).open().unwrap();
    let publisher = opaque.publisher_builder().create().unwrap();
    let mut loan = publisher.loan_slice_uninit(1).unwrap();
    let bytes = loan.payload_bytes_mut();
    assert_eq!(bytes.len(), 24, "one element of the recorded size");
    let want = Pose { x: 1.5, y: -2.0, id: 7 };
    let mut raw = [0u8; 24];
    raw[..8].copy_from_slice(&want.x.to_ne_bytes());
    raw[8..16].copy_from_slice(&want.y.to_ne_bytes());
    raw[16..20].copy_from_slice(&want.id.to_ne_bytes());
    for (slot, b) in bytes.iter_mut().zip(raw) {
        slot.write(b);
    }
    // SAFETY: every byte was written above.
    let sample = unsafe { loan.assume_init() };
    assert_eq!(sample.send().unwrap(), 1);
    assert_eq!(*subscriber.receive().unwrap().expect("a sample"), want);

    // And back: a Rust publisher to a runtime-typed subscriber.
    let rust_pub = rust.publisher_builder().create().unwrap();
    let opaque_sub = opaque.subscriber_builder().create().unwrap();
    rust_pub.send_copy(Pose { x: 3.0, y: 4.0, id: 9 }).unwrap();
    let got = opaque_sub.receive().unwrap().expect("a sample");
    assert_eq!(got.len(), 1);
    assert_eq!(&got.payload_bytes()[16..20], &9u32.to_ne_bytes());
    assert_eq!(&got.payload_bytes()[..8], &3.0f64.to_ne_bytes());
    drop(got);
    drop((opaque_sub, rust_pub, publisher, subscriber, opaque, rust, node));
    assert_clean(&prefix);
}

#[test]
fn a_runtime_typed_service_refuses_a_different_name_size_alignment_or_variant() {
    let prefix = unique_prefix();
    let node = node(&prefix);
    let name = ServiceName::new("rt/refuse").unwrap();
    let _rust = node.service_builder(&name).publish_subscribe::<Pose>().create().unwrap();
    let open =
        |d: TypeDetail| node.service_builder(&name).publish_subscribe::<[Opaque]>().payload_type_detail(d).open().err();
    use TypeVariant::*;
    let cases = [
        (TypeDetail::new(FixedSize, "Pos", 24, 8).unwrap(), ServiceOpenError::IncompatiblePayloadType),
        (TypeDetail::new(Slice, "Pose", 24, 8).unwrap(), ServiceOpenError::IncompatiblePayloadType),
        (TypeDetail::new(FixedSize, "Pose", 32, 8).unwrap(), ServiceOpenError::IncompatiblePayloadSize),
        (TypeDetail::new(FixedSize, "Pose", 24, 4).unwrap(), ServiceOpenError::IncompatiblePayloadAlignment),
    ];
    for (detail, want) in cases {
        assert_eq!(open(detail.clone()), Some(want), "{detail:?}");
    }
    assert_eq!(open(pose_detail()), None, "the matching description opens");
    // A description that no type can have is refused before any service.
    assert_eq!(TypeDetail::new(FixedSize, "x", 3, 2), Err(InvalidTypeDetail::Layout));
    assert_eq!(TypeDetail::new(FixedSize, "x", 4, 3), Err(InvalidTypeDetail::Layout));
    assert_eq!(TypeDetail::new(FixedSize, &"n".repeat(300), 4, 4), Err(InvalidTypeDetail::NameTooLong));
}

#[test]
fn a_runtime_typed_client_and_a_rust_server_exchange_growing_byte_slices() {
    let prefix = unique_prefix();
    let node = node(&prefix);
    let name = ServiceName::new("rt/dynamic").unwrap();
    let rust = node.service_builder(&name).request_response::<[u8], [u8]>().open_or_create().unwrap();
    let server = rust
        .server_builder()
        .initial_max_slice_len(1)
        .allocation_strategy(AllocationStrategy::PowerOfTwo)
        .create()
        .unwrap();
    let opaque = node
        .service_builder(&name)
        .request_response::<[Opaque], [Opaque]>()
        .request_type_detail(bytes_detail())
        .response_type_detail(bytes_detail())
        .open_or_create()
        .unwrap();
    let client = opaque
        .client_builder()
        .initial_max_slice_len(1)
        .allocation_strategy(AllocationStrategy::PowerOfTwo)
        .create()
        .unwrap();
    for n in [1usize, 10, 1000, 100_000] {
        let mut loan = client.loan_slice_uninit(n).unwrap();
        for (i, b) in loan.payload_bytes_mut().iter_mut().enumerate() {
            b.write((i % 251) as u8);
        }
        // SAFETY: every byte was written above.
        let pending = unsafe { loan.assume_init() }.send().unwrap();
        let request = server.receive().unwrap().expect("a request");
        assert_eq!(request.len(), n);
        assert!(request.iter().enumerate().all(|(i, &b)| b == (i % 251) as u8));
        request.send_slice_copy(&vec![0xA5; 2 * n]).unwrap();
        drop(request);
        let response = pending.receive().unwrap().expect("a response");
        assert_eq!(response.payload_bytes().len(), 2 * n);
        assert!(response.payload_bytes().iter().all(|&b| b == 0xA5));
    }
    drop((client, server, opaque, rust, node));
    assert_clean(&prefix);
}

#[test]
fn a_rust_client_reaches_a_runtime_typed_server_of_fixed_types() {
    let prefix = unique_prefix();
    let node = node(&prefix);
    let name = ServiceName::new("rt/fixed").unwrap();
    let u64_detail = TypeDetail::new(TypeVariant::FixedSize, "u64", 8, 8).unwrap();
    let opaque = node
        .service_builder(&name)
        .request_response::<[Opaque], [Opaque]>()
        .request_type_detail(u64_detail.clone())
        .response_type_detail(u64_detail)
        .create()
        .unwrap();
    let server = opaque.server_builder().create().unwrap();
    let rust = node.service_builder(&name).request_response::<u64, u64>().open().unwrap();
    let client = rust.client_builder().create().unwrap();
    let pending = client.send_copy(21).unwrap();
    let request = server.receive().unwrap().expect("a request");
    let value = u64::from_ne_bytes(request.payload_bytes().try_into().unwrap());
    let mut loan = request.loan_slice_uninit(1).unwrap();
    for (slot, b) in loan.payload_bytes_mut().iter_mut().zip((value * 2).to_ne_bytes()) {
        slot.write(b);
    }
    // SAFETY: the 8 bytes were written above.
    unsafe { loan.assume_init() }.send().unwrap();
    drop(request);
    assert_eq!(*pending.receive().unwrap().expect("a response"), 42);
    // A fixed-size service takes one element per loan, whatever is asked.
    let again = client.send_copy(1).unwrap();
    let request = server.receive().unwrap().expect("a request");
    assert!(request.loan_slice_uninit(2).is_err());
    drop((request, again));
    let mismatch = node.service_builder(&name).request_response::<u64, u32>().open_or_create();
    assert!(matches!(mismatch, Err(ServiceOpenOrCreateError::Open(ServiceOpenError::IncompatibleResponseType))));
    drop(pending);
    drop((client, server, opaque, rust, node));
    assert_clean(&prefix);
}

#[test]
fn a_runtime_typed_user_header_meets_a_rust_one() {
    let prefix = unique_prefix();
    let node = node(&prefix);
    let name = ServiceName::new("rt/header").unwrap();
    let rust = node.service_builder(&name).publish_subscribe::<[u8]>().user_header::<u64>().create().unwrap();
    let subscriber = rust.subscriber_builder().create().unwrap();
    let u64_detail = TypeDetail::new(TypeVariant::FixedSize, "u64", 8, 8).unwrap();
    let opaque = node
        .service_builder(&name)
        .publish_subscribe::<[Opaque]>()
        .payload_type_detail(bytes_detail())
        .user_header::<Opaque>()
        .user_header_type_detail(u64_detail.clone())
        .open()
        .unwrap();
    let publisher = opaque.publisher_builder().initial_max_slice_len(4).create().unwrap();
    let mut loan = publisher.loan_slice_uninit(3).unwrap();
    assert_eq!(loan.user_header_bytes_mut(), &[0u8; 8], "zeroed at loan, 8 bytes as recorded");
    loan.user_header_bytes_mut().copy_from_slice(&0xDEAD_BEEFu64.to_ne_bytes());
    for (slot, b) in loan.payload_bytes_mut().iter_mut().zip(*b"abc") {
        slot.write(b);
    }
    // SAFETY: the three bytes were written above.
    unsafe { loan.assume_init() }.send().unwrap();
    let sample = subscriber.receive().unwrap().expect("a sample");
    assert_eq!((*sample.user_header(), &sample[..]), (0xDEAD_BEEF, &b"abc"[..]));
    drop(sample);
    // Back, and a header of another description is refused.
    let opaque_sub = opaque.subscriber_builder().create().unwrap();
    let rust_pub = rust.publisher_builder().create().unwrap();
    let mut l = rust_pub.loan_slice_uninit(1).unwrap();
    *l.user_header_mut() = 7;
    l.write_from_fn(|_| 1).send().unwrap();
    assert_eq!(opaque_sub.receive().unwrap().expect("a sample").user_header_bytes(), &7u64.to_ne_bytes());
    let other = node
        .service_builder(&name)
        .publish_subscribe::<[Opaque]>()
        .payload_type_detail(bytes_detail())
        .user_header::<Opaque>()
        .user_header_type_detail(TypeDetail::new(TypeVariant::FixedSize, "u32", 4, 4).unwrap())
        .open();
    assert!(matches!(other, Err(ServiceOpenError::IncompatibleUserHeader)));
    drop((opaque_sub, rust_pub, publisher, subscriber, opaque, rust, node));
    assert_clean(&prefix);
}

#[test]
fn write_payload_bytes_fills_a_runtime_typed_loan_in_one_call() {
    let prefix = unique_prefix();
    let node = node(&prefix);
    let name = ServiceName::new("rt/bytes").unwrap();
    let rust = node.service_builder(&name).publish_subscribe::<[u16]>().max_slice_len(4096).create().unwrap();
    let subscriber = rust.subscriber_builder().create().unwrap();
    let u16_detail = TypeDetail::new(TypeVariant::Slice, "u16", 2, 2).unwrap();
    let opaque =
        node.service_builder(&name).publish_subscribe::<[Opaque]>().payload_type_detail(u16_detail).open().unwrap();
    let publisher = opaque.publisher_builder().allocation_strategy(AllocationStrategy::PowerOfTwo).create().unwrap();
    for n in [0usize, 1, 3, 4096] {
        let values: Vec<u16> = (0..n as u16).map(|i| i.wrapping_mul(257)).collect();
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_ne_bytes()).collect();
        publisher.loan_slice_uninit(n).unwrap().write_payload_bytes(&bytes).send().unwrap();
        let got = subscriber.receive().unwrap().expect("a sample");
        assert_eq!(&*got, &values[..], "{n} elements of 2 bytes");
    }
    // The wrong number of bytes is a bug in the caller: a panic, not a
    // half-written sample.
    let loan = publisher.loan_slice_uninit(3).unwrap();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| loan.write_payload_bytes(&[0u8; 5])));
    assert!(caught.is_err(), "5 bytes for 3 elements of 2 bytes must panic");
    drop(caught);
    assert!(subscriber.receive().unwrap().is_none(), "nothing was sent");
    drop((publisher, subscriber, opaque, rust, node));
    assert_clean(&prefix);
}

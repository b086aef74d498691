//! Publish-subscribe in C: the service, publishers and their loans,
//! subscribers and their samples.

use crate::error::icefloe_error;
use crate::slots::Slots;
use crate::{code, icefloe_node, put, str_arg};
use icefloe_linux::icefloe_core::{ChunkMutUninit, Lender, Opaque, Sample, TypeDetail, TypeVariant};
use icefloe_linux::{AllocationStrategy, PublishSubscribe, ServiceName};
use std::ffi::c_char;
use std::time::Duration;

type Bytes = [Opaque];
type Service = PublishSubscribe<Bytes, Opaque>;
type PublisherPort = icefloe_linux::Publisher<Bytes, Opaque>;
type SubscriberPort = icefloe_linux::Subscriber<Bytes, Opaque>;

/// A payload or user-header type: its name (as the Rust side's
/// `ZeroCopySend` name: `"u8"`, `"Pose"`, …), the size and alignment of one
/// value (of one element for a slice), and whether it is a slice.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct icefloe_type {
    /// The type's name; NULL for a user header means none (Rust's `()`).
    pub name: *const c_char,
    /// Size in bytes (of one element, for a slice).
    pub size: u32,
    /// Alignment in bytes (a power of two up to 4096).
    pub align: u32,
    /// A slice of elements, its length chosen per loan.
    pub is_slice: bool,
}

/// Open, create, or either.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum icefloe_open_mode {
    /// Open an existing service (fails with `…_SERVICE_OPEN_DOES_NOT_EXIST`).
    ICEFLOE_OPEN = 0,
    /// Create a new one (fails with `…_SERVICE_CREATE_ALREADY_EXISTS`).
    ICEFLOE_CREATE = 1,
    /// Open it, or create it if it is not there.
    ICEFLOE_OPEN_OR_CREATE = 2,
}

/// How a publish-subscribe service is opened or created. Start from
/// `icefloe_pubsub_options_default()`; 0 (or -1 for a flag) keeps
/// icefloe's default.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct icefloe_pubsub_options {
    /// The payload type.
    pub payload: icefloe_type,
    /// The user header type (`name` NULL: none).
    pub user_header: icefloe_type,
    /// For slices: the longest slice any port may send, in elements.
    pub max_slice_len: u32,
    /// Publisher slots.
    pub max_publishers: u32,
    /// Subscriber slots.
    pub max_subscribers: u32,
    /// Samples a subscriber's queue holds.
    pub subscriber_max_buffer_size: u32,
    /// Samples a subscriber may hold at once.
    pub subscriber_max_borrowed_samples: u32,
    /// Samples kept for late subscribers.
    pub history_size: u32,
    /// 1: a full queue overwrites its oldest sample; 0: it does not; -1:
    /// the default (1).
    pub enable_safe_overflow: i8,
}

/// The default options: a `u8` slice payload, no user header, icefloe's
/// QoS defaults.
#[no_mangle]
pub extern "C" fn icefloe_pubsub_options_default() -> icefloe_pubsub_options {
    icefloe_pubsub_options {
        payload: icefloe_type { name: c"u8".as_ptr(), size: 1, align: 1, is_slice: true },
        user_header: icefloe_type { name: core::ptr::null(), size: 0, align: 1, is_slice: false },
        max_slice_len: 0,
        max_publishers: 0,
        max_subscribers: 0,
        subscriber_max_buffer_size: 0,
        subscriber_max_borrowed_samples: 0,
        history_size: 0,
        enable_safe_overflow: -1,
    }
}

/// Reads a type description.
///
/// # Safety
///
/// `t.name` is NULL or NUL-terminated.
pub(crate) unsafe fn type_detail(t: &icefloe_type, header: bool) -> Result<TypeDetail, icefloe_error> {
    if header && t.name.is_null() {
        return TypeDetail::of::<()>().map_err(|_| icefloe_error::ICEFLOE_ERROR_TYPE_NAME_TOO_LONG);
    }
    // SAFETY: NULL or NUL-terminated, by the contract.
    let name = unsafe { str_arg(t.name) }?;
    let variant = if t.is_slice && !header { TypeVariant::Slice } else { TypeVariant::FixedSize };
    Ok(TypeDetail::new(variant, name, t.size, t.align)?)
}

/// A publish-subscribe service.
pub struct icefloe_pubsub {
    service: Service,
}

/// Opens or creates the publish-subscribe service `name`; on success
/// `*out` holds it until `icefloe_pubsub_drop`.
///
/// # Safety
///
/// `node` is a live node, `name` NUL-terminated, `options` NULL (the
/// defaults) or valid with NULL or NUL-terminated type names, `out` valid
/// for one pointer write.
#[no_mangle]
pub unsafe extern "C" fn icefloe_pubsub_service(
    node: *const icefloe_node,
    name: *const c_char,
    options: *const icefloe_pubsub_options,
    mode: icefloe_open_mode,
    out: *mut *mut icefloe_pubsub,
) -> icefloe_error {
    code(|| {
        // SAFETY: a live node or NULL, by the contract.
        let node = unsafe { node.as_ref() }.ok_or(icefloe_error::ICEFLOE_ERROR_NULL_ARGUMENT)?;
        // SAFETY: NUL-terminated, by the contract.
        let name = ServiceName::new(unsafe { str_arg(name) }?)?;
        // SAFETY: NULL or valid options, by the contract.
        let o = unsafe { options.as_ref() }.copied().unwrap_or_else(|| icefloe_pubsub_options_default());
        // SAFETY: the type names are NULL or NUL-terminated, by the contract.
        let (payload, header) = unsafe { (type_detail(&o.payload, false)?, type_detail(&o.user_header, true)?) };
        let slice = payload.variant == TypeVariant::Slice;
        let mut b = node
            .node
            .service_builder(&name)
            .publish_subscribe::<Bytes>()
            .payload_type_detail(payload)
            .user_header::<Opaque>()
            .user_header_type_detail(header);
        let set = |v: u32| (v != 0).then_some(v);
        if let (Some(n), true) = (set(o.max_slice_len), slice) {
            b = b.max_slice_len(n);
        }
        if let Some(n) = set(o.max_publishers) {
            b = b.max_publishers(n);
        }
        if let Some(n) = set(o.max_subscribers) {
            b = b.max_subscribers(n);
        }
        if let Some(n) = set(o.subscriber_max_buffer_size) {
            b = b.subscriber_max_buffer_size(n);
        }
        if let Some(n) = set(o.subscriber_max_borrowed_samples) {
            b = b.subscriber_max_borrowed_samples(n);
        }
        if let Some(n) = set(o.history_size) {
            b = b.history_size(n);
        }
        if o.enable_safe_overflow >= 0 {
            b = b.enable_safe_overflow(o.enable_safe_overflow != 0);
        }
        let service = match mode {
            icefloe_open_mode::ICEFLOE_OPEN => b.open()?,
            icefloe_open_mode::ICEFLOE_CREATE => b.create()?,
            icefloe_open_mode::ICEFLOE_OPEN_OR_CREATE => b.open_or_create()?,
        };
        // SAFETY: writable, by the contract.
        unsafe { put(out, icefloe_pubsub { service }) }
    })
}

/// Drops a service handle (ports keep what they need). NULL is ignored.
///
/// # Safety
///
/// `service` is NULL or came from `icefloe_pubsub_service`, not dropped.
#[no_mangle]
pub unsafe extern "C" fn icefloe_pubsub_drop(service: *mut icefloe_pubsub) {
    if !service.is_null() {
        // SAFETY: made by `Box::into_raw`, dropped once.
        drop(unsafe { Box::from_raw(service) });
    }
}

/// How a slice port's memory grows.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum icefloe_allocation_strategy {
    /// Never: a loan longer than `initial_max_slice_len` fails.
    ICEFLOE_STATIC = 0,
    /// To exactly the length asked for.
    ICEFLOE_BEST_FIT = 1,
    /// To the next power of two.
    ICEFLOE_POWER_OF_TWO = 2,
}

/// The Rust strategy a C one names.
pub(crate) fn strategy(s: icefloe_allocation_strategy) -> AllocationStrategy {
    match s {
        icefloe_allocation_strategy::ICEFLOE_STATIC => AllocationStrategy::Static,
        icefloe_allocation_strategy::ICEFLOE_BEST_FIT => AllocationStrategy::BestFit,
        icefloe_allocation_strategy::ICEFLOE_POWER_OF_TWO => AllocationStrategy::PowerOfTwo,
    }
}

/// Where a loan's payload and user header are, to hand to C.
pub(crate) fn pointers<L: Lender>(chunk: &mut ChunkMutUninit<L, Bytes, Opaque>) -> (*mut u8, *mut u8) {
    (chunk.payload_bytes_mut().as_mut_ptr().cast::<u8>(), chunk.user_header_bytes_mut().as_mut_ptr())
}

/// How a publisher is created (0: the default).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct icefloe_publisher_options {
    /// Loans out at once.
    pub max_loaned_samples: u32,
    /// For slices: the length the first data segment is sized for.
    pub initial_max_slice_len: u32,
    /// For slices: how the data segment grows.
    pub allocation_strategy: icefloe_allocation_strategy,
}

/// The default publisher options.
#[no_mangle]
pub extern "C" fn icefloe_publisher_options_default() -> icefloe_publisher_options {
    icefloe_publisher_options {
        max_loaned_samples: 0,
        initial_max_slice_len: 0,
        allocation_strategy: icefloe_allocation_strategy::ICEFLOE_STATIC,
    }
}

/// A publisher, with the loans it has out. The loans borrow the port,
/// which is boxed (its address never changes) and dropped after them
/// (field order): no reference count is touched on the message path.
pub struct icefloe_publisher {
    loans: Slots<ChunkMutUninit<&'static PublisherPort, Bytes, Opaque>>,
    port: Box<PublisherPort>,
}

impl icefloe_publisher {
    fn port(&self) -> &'static PublisherPort {
        // SAFETY: the port is boxed, so its address is stable, and every
        // borrower made here (a loan) lives in `self.loans`, which is
        // dropped before `self.port`; the handle itself is dropped only
        // through `icefloe_publisher_drop`.
        unsafe { &*(&*self.port as *const PublisherPort) }
    }
}

/// A loaned sample: write its payload (and header) through the pointers
/// `icefloe_publisher_loan` gave, then `icefloe_publisher_send` it or
/// `icefloe_publisher_discard` it.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct icefloe_loan {
    /// The loan's slot and generation (0: none).
    pub id: u64,
}

/// Creates a publisher; `*out` holds it until `icefloe_publisher_drop`.
///
/// # Safety
///
/// `service` is a live service handle, `options` NULL or valid, `out`
/// valid for one pointer write.
#[no_mangle]
pub unsafe extern "C" fn icefloe_publisher_create(
    service: *const icefloe_pubsub,
    options: *const icefloe_publisher_options,
    out: *mut *mut icefloe_publisher,
) -> icefloe_error {
    code(|| {
        // SAFETY: live or NULL, by the contract.
        let s = unsafe { service.as_ref() }.ok_or(icefloe_error::ICEFLOE_ERROR_NULL_ARGUMENT)?;
        // SAFETY: NULL or valid, by the contract.
        let o = unsafe { options.as_ref() }.copied().unwrap_or_else(|| icefloe_publisher_options_default());
        let mut b = s.service.publisher_builder().allocation_strategy(strategy(o.allocation_strategy));
        if o.max_loaned_samples != 0 {
            b = b.max_loaned_samples(o.max_loaned_samples);
        }
        if o.initial_max_slice_len != 0 {
            b = b.initial_max_slice_len(o.initial_max_slice_len);
        }
        let port = b.create()?;
        let loans = Slots::new(port.max_loaned_samples() as usize);
        // SAFETY: writable, by the contract.
        unsafe { put(out, icefloe_publisher { loans, port: Box::new(port) }) }
    })
}

/// Drops a publisher and the loans it has out. NULL is ignored.
///
/// # Safety
///
/// `publisher` is NULL or came from `icefloe_publisher_create`, not dropped.
#[no_mangle]
pub unsafe extern "C" fn icefloe_publisher_drop(publisher: *mut icefloe_publisher) {
    if !publisher.is_null() {
        // SAFETY: made by `Box::into_raw`, dropped once.
        drop(unsafe { Box::from_raw(publisher) });
    }
}

/// Loans a sample of `len` elements (1 for a fixed-size payload): `*loan`
/// names it, `*payload` points to `len` × the element size bytes to write,
/// `*header` (if not NULL) to the user header's bytes (zeroed).
///
/// # Safety
///
/// `publisher` is a live publisher; `loan` and `payload` are valid for one
/// write each; `header` is NULL or valid for one write.
#[no_mangle]
pub unsafe extern "C" fn icefloe_publisher_loan(
    publisher: *mut icefloe_publisher,
    len: usize,
    loan: *mut icefloe_loan,
    payload: *mut *mut u8,
    header: *mut *mut u8,
) -> icefloe_error {
    code(|| {
        // SAFETY: live or NULL, by the contract; used from its one thread.
        let p = unsafe { publisher.as_mut() }.ok_or(icefloe_error::ICEFLOE_ERROR_NULL_ARGUMENT)?;
        if loan.is_null() || payload.is_null() {
            return Err(icefloe_error::ICEFLOE_ERROR_NULL_ARGUMENT);
        }
        let mut chunk = p.port().loan_slice_uninit(len)?;
        let ptrs = pointers(&mut chunk);
        // The slot table holds as many loans as the port lends.
        let id = p.loans.insert(chunk).map_err(|_| icefloe_error::ICEFLOE_ERROR_LOAN_EXCEEDS_MAX_LOANS)?;
        // SAFETY: the out-pointers are writable, by the contract (checked
        // non-NULL, `header` where given).
        unsafe { hand_out(id, ptrs, loan, payload, header) };
        Ok(())
    })
}

/// Writes a loan's handle and pointers to the caller's out-parameters.
///
/// # Safety
///
/// `loan` and `payload` are valid for one write each (checked non-NULL by
/// the caller), `header` NULL or valid for one write.
pub(crate) unsafe fn hand_out(
    id: u64,
    (data, head): (*mut u8, *mut u8),
    loan: *mut icefloe_loan,
    payload: *mut *mut u8,
    header: *mut *mut u8,
) {
    // SAFETY: writable, by this function's contract.
    unsafe {
        *loan = icefloe_loan { id };
        *payload = data;
        if !header.is_null() {
            *header = head;
        }
    }
}

/// Sends a loan to every connected subscriber (`*delivered`, if not NULL,
/// says to how many). The loan is consumed, also when the send fails.
///
/// # Safety
///
/// `publisher` is a live publisher; every payload byte of the loan was
/// written; `delivered` is NULL or valid for one write.
#[no_mangle]
pub unsafe extern "C" fn icefloe_publisher_send(
    publisher: *mut icefloe_publisher,
    loan: icefloe_loan,
    delivered: *mut usize,
) -> icefloe_error {
    code(|| {
        // SAFETY: live or NULL, by the contract.
        let p = unsafe { publisher.as_mut() }.ok_or(icefloe_error::ICEFLOE_ERROR_NULL_ARGUMENT)?;
        let chunk = p.loans.take(loan.id).ok_or(icefloe_error::ICEFLOE_ERROR_STALE_HANDLE)?;
        // SAFETY: the caller wrote every payload byte (the contract of this
        // call); the header was zeroed at loan.
        let n = unsafe { chunk.assume_init() }.send()?;
        if !delivered.is_null() {
            // SAFETY: writable, by the contract.
            unsafe { *delivered = n };
        }
        Ok(())
    })
}

/// Returns a loan unsent.
///
/// # Safety
///
/// `publisher` is a live publisher.
#[no_mangle]
pub unsafe extern "C" fn icefloe_publisher_discard(
    publisher: *mut icefloe_publisher,
    loan: icefloe_loan,
) -> icefloe_error {
    code(|| {
        // SAFETY: live or NULL, by the contract.
        let p = unsafe { publisher.as_mut() }.ok_or(icefloe_error::ICEFLOE_ERROR_NULL_ARGUMENT)?;
        p.loans.take(loan.id).map(drop).ok_or(icefloe_error::ICEFLOE_ERROR_STALE_HANDLE)
    })
}

/// A subscriber, with the samples it holds (borrowing the boxed port,
/// dropped before it, as for the publisher).
pub struct icefloe_subscriber {
    samples: Slots<Sample<&'static SubscriberPort, Bytes, Opaque>>,
    port: Box<SubscriberPort>,
}

impl icefloe_subscriber {
    fn port(&self) -> &'static SubscriberPort {
        // SAFETY: as for `icefloe_publisher::port`: boxed, and its
        // borrowers (samples) are dropped first.
        unsafe { &*(&*self.port as *const SubscriberPort) }
    }
}

/// A received sample: read it through the pointers, then
/// `icefloe_subscriber_release` it.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct icefloe_sample {
    /// The sample's slot and generation (0: none received).
    pub id: u64,
    /// The payload's bytes (read-only, valid until released).
    pub payload: *const u8,
    /// Elements in the payload (1 for a fixed-size payload).
    pub len: usize,
    /// Bytes in the payload (`len` × the element size).
    pub bytes: usize,
    /// The user header's bytes (read-only).
    pub header: *const u8,
    /// The sending publisher's id.
    pub origin: u64,
}

/// Creates a subscriber; `*out` holds it until `icefloe_subscriber_drop`.
///
/// # Safety
///
/// `service` is a live service handle, `out` valid for one pointer write.
#[no_mangle]
pub unsafe extern "C" fn icefloe_subscriber_create(
    service: *const icefloe_pubsub,
    out: *mut *mut icefloe_subscriber,
) -> icefloe_error {
    code(|| {
        // SAFETY: live or NULL, by the contract.
        let s = unsafe { service.as_ref() }.ok_or(icefloe_error::ICEFLOE_ERROR_NULL_ARGUMENT)?;
        let port = s.service.subscriber_builder().create()?;
        let samples = Slots::new(s.service.static_config().subscriber_max_borrowed_samples as usize);
        // SAFETY: writable, by the contract.
        unsafe { put(out, icefloe_subscriber { samples, port: Box::new(port) }) }
    })
}

/// Drops a subscriber and the samples it holds. NULL is ignored.
///
/// # Safety
///
/// `subscriber` is NULL or came from `icefloe_subscriber_create`, not dropped.
#[no_mangle]
pub unsafe extern "C" fn icefloe_subscriber_drop(subscriber: *mut icefloe_subscriber) {
    if !subscriber.is_null() {
        // SAFETY: made by `Box::into_raw`, dropped once.
        drop(unsafe { Box::from_raw(subscriber) });
    }
}

/// Takes the next sample, waiting up to `timeout_ns` nanoseconds (0: do
/// not wait). `ICEFLOE_OK` with `sample->id == 0` when none came.
///
/// # Safety
///
/// `subscriber` is a live subscriber; `sample` is valid for one write.
#[no_mangle]
pub unsafe extern "C" fn icefloe_subscriber_receive(
    subscriber: *mut icefloe_subscriber,
    timeout_ns: u64,
    sample: *mut icefloe_sample,
) -> icefloe_error {
    code(|| {
        // SAFETY: live or NULL, by the contract; used from its one thread.
        let s = unsafe { subscriber.as_mut() }.ok_or(icefloe_error::ICEFLOE_ERROR_NULL_ARGUMENT)?;
        if sample.is_null() {
            return Err(icefloe_error::ICEFLOE_ERROR_NULL_ARGUMENT);
        }
        let port = s.port();
        let got = if timeout_ns == 0 { port.receive()? } else { port.timed_receive(Duration::from_nanos(timeout_ns))? };
        let view = match got {
            None => icefloe_sample {
                id: 0,
                payload: core::ptr::null(),
                len: 0,
                bytes: 0,
                header: core::ptr::null(),
                origin: 0,
            },
            Some(x) => {
                let (payload, bytes) = (x.payload_bytes().as_ptr(), x.payload_bytes().len());
                let (header, len, origin) = (x.user_header_bytes().as_ptr(), x.len(), x.origin());
                let id = s.samples.insert(x).map_err(|_| icefloe_error::ICEFLOE_ERROR_RECEIVE_EXCEEDS_MAX_BORROWS)?;
                icefloe_sample { id, payload, len, bytes, header, origin }
            }
        };
        // SAFETY: writable, by the contract.
        unsafe { *sample = view };
        Ok(())
    })
}

/// Returns a sample to its publisher; its pointers are invalid from then on.
///
/// # Safety
///
/// `subscriber` is a live subscriber.
#[no_mangle]
pub unsafe extern "C" fn icefloe_subscriber_release(
    subscriber: *mut icefloe_subscriber,
    sample: icefloe_sample,
) -> icefloe_error {
    code(|| {
        // SAFETY: live or NULL, by the contract.
        let s = unsafe { subscriber.as_mut() }.ok_or(icefloe_error::ICEFLOE_ERROR_NULL_ARGUMENT)?;
        s.samples.take(sample.id).map(drop).ok_or(icefloe_error::ICEFLOE_ERROR_STALE_HANDLE)
    })
}

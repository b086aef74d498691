//! Request-response in C: the service, clients with their request loans,
//! pending responses and received responses, servers with their active
//! requests and response loans.
//!
//! A pending response and an active request live in a fixed slot of their
//! port's table (allocated once, never moved); the responses received
//! through a pending response and the response loans of an active request
//! borrow that slot. They are dropped before what they borrow: ending a
//! pending response that still holds responses is refused, ending an
//! active request returns its unsent loans first, and a port drops its
//! borrowers before the slots they borrow.

use crate::error::icefloe_error;
use crate::pubsub::{
    hand_out, icefloe_allocation_strategy, icefloe_loan, icefloe_open_mode, icefloe_type, pointers, strategy,
    type_detail,
};
use crate::slots::Slots;
use crate::{code, icefloe_node, put, str_arg};
use icefloe_linux::icefloe_core::{self as ice, ChunkMutUninit, Opaque, TypeVariant};
use icefloe_linux::{RequestResponse, ServiceName, Shared};
use std::ffi::c_char;
use std::time::Duration;

type Bytes = [Opaque];
type Service = RequestResponse<Bytes, Bytes, Opaque, Opaque>;
type ClientPort = icefloe_linux::Client<Bytes, Bytes, Opaque, Opaque>;
type ServerPort = icefloe_linux::Server<Bytes, Bytes, Opaque, Opaque>;
type Pending = ice::PendingResponse<Shared<ClientPort>>;
type Active = ice::ActiveRequest<Shared<ServerPort>, Bytes, Opaque>;

/// How a request-response service is opened or created. Start from
/// `icefloe_reqres_options_default()`; 0 (or -1 for a flag) keeps
/// icefloe's default.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct icefloe_reqres_options {
    /// The request payload type.
    pub request: icefloe_type,
    /// The response payload type.
    pub response: icefloe_type,
    /// The request user header (`name` NULL: none).
    pub request_header: icefloe_type,
    /// The response user header (`name` NULL: none).
    pub response_header: icefloe_type,
    /// For slice requests: the longest request, in elements.
    pub request_max_slice_len: u32,
    /// For slice responses: the longest response, in elements.
    pub response_max_slice_len: u32,
    /// Client slots.
    pub max_clients: u32,
    /// Server slots.
    pub max_servers: u32,
    /// Pending responses a client may have at once.
    pub max_active_requests_per_client: u32,
    /// Responses queued per pending response and server.
    pub max_response_buffer_size: u32,
    /// Responses a client may hold at once per pending response.
    pub max_borrowed_responses_per_pending_response: u32,
    /// 1: a full response queue overwrites its oldest; 0: not; -1: default.
    pub enable_safe_overflow_for_responses: i8,
}

fn no_type(slice: bool) -> icefloe_type {
    icefloe_type { name: c"u8".as_ptr(), size: 1, align: 1, is_slice: slice }
}

fn no_header() -> icefloe_type {
    icefloe_type { name: std::ptr::null(), size: 0, align: 1, is_slice: false }
}

/// The default options: `u8` slices both ways, no headers, icefloe's QoS.
#[no_mangle]
pub extern "C" fn icefloe_reqres_options_default() -> icefloe_reqres_options {
    icefloe_reqres_options {
        request: no_type(true),
        response: no_type(true),
        request_header: no_header(),
        response_header: no_header(),
        request_max_slice_len: 0,
        response_max_slice_len: 0,
        max_clients: 0,
        max_servers: 0,
        max_active_requests_per_client: 0,
        max_response_buffer_size: 0,
        max_borrowed_responses_per_pending_response: 0,
        enable_safe_overflow_for_responses: -1,
    }
}

/// A request-response service.
pub struct icefloe_reqres {
    service: Service,
}

/// Opens or creates the request-response service `name`; `*out` holds it
/// until `icefloe_reqres_drop`.
///
/// # Safety
///
/// `node` is a live node, `name` NUL-terminated, `options` NULL or valid
/// with NULL or NUL-terminated type names, `out` valid for one write.
#[no_mangle]
pub unsafe extern "C" fn icefloe_reqres_service(
    node: *const icefloe_node,
    name: *const c_char,
    options: *const icefloe_reqres_options,
    mode: icefloe_open_mode,
    out: *mut *mut icefloe_reqres,
) -> icefloe_error {
    code(|| {
        // SAFETY: live or NULL, by the contract.
        let node = unsafe { node.as_ref() }.ok_or(icefloe_error::ICEFLOE_ERROR_NULL_ARGUMENT)?;
        // SAFETY: NUL-terminated, by the contract.
        let name = ServiceName::new(unsafe { str_arg(name) }?)?;
        // SAFETY: NULL or valid, by the contract.
        let o = unsafe { options.as_ref() }.copied().unwrap_or_else(|| icefloe_reqres_options_default());
        // SAFETY: the type names are NULL or NUL-terminated, by the contract.
        let (req, res, req_h, res_h) = unsafe {
            (
                type_detail(&o.request, false)?,
                type_detail(&o.response, false)?,
                type_detail(&o.request_header, true)?,
                type_detail(&o.response_header, true)?,
            )
        };
        let (req_slice, res_slice) = (req.variant == TypeVariant::Slice, res.variant == TypeVariant::Slice);
        let mut b = node
            .node
            .service_builder(&name)
            .request_response::<Bytes, Bytes>()
            .request_type_detail(req)
            .response_type_detail(res)
            .request_user_header::<Opaque>()
            .request_user_header_type_detail(req_h)
            .response_user_header::<Opaque>()
            .response_user_header_type_detail(res_h);
        let set = |v: u32| (v != 0).then_some(v);
        if let (Some(n), true) = (set(o.request_max_slice_len), req_slice) {
            b = b.request_max_slice_len(n);
        }
        if let (Some(n), true) = (set(o.response_max_slice_len), res_slice) {
            b = b.response_max_slice_len(n);
        }
        if let Some(n) = set(o.max_clients) {
            b = b.max_clients(n);
        }
        if let Some(n) = set(o.max_servers) {
            b = b.max_servers(n);
        }
        if let Some(n) = set(o.max_active_requests_per_client) {
            b = b.max_active_requests_per_client(n);
        }
        if let Some(n) = set(o.max_response_buffer_size) {
            b = b.max_response_buffer_size(n);
        }
        if let Some(n) = set(o.max_borrowed_responses_per_pending_response) {
            b = b.max_borrowed_responses_per_pending_response(n);
        }
        if o.enable_safe_overflow_for_responses >= 0 {
            b = b.enable_safe_overflow_for_responses(o.enable_safe_overflow_for_responses != 0);
        }
        let service = match mode {
            icefloe_open_mode::ICEFLOE_OPEN => b.open()?,
            icefloe_open_mode::ICEFLOE_CREATE => b.create()?,
            icefloe_open_mode::ICEFLOE_OPEN_OR_CREATE => b.open_or_create()?,
        };
        // SAFETY: writable, by the contract.
        unsafe { put(out, icefloe_reqres { service }) }
    })
}

/// Drops a service handle (ports keep what they need). NULL is ignored.
///
/// # Safety
///
/// `service` is NULL or came from `icefloe_reqres_service`, not dropped.
#[no_mangle]
pub unsafe extern "C" fn icefloe_reqres_drop(service: *mut icefloe_reqres) {
    if !service.is_null() {
        // SAFETY: made by `Box::into_raw`, dropped once.
        drop(unsafe { Box::from_raw(service) });
    }
}

/// How a client or a server is created (0: the default).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct icefloe_port_options {
    /// For slices: the length the first data segment is sized for.
    pub initial_max_slice_len: u32,
    /// For slices: how the data segment grows.
    pub allocation_strategy: icefloe_allocation_strategy,
}

/// The default client and server options.
#[no_mangle]
pub extern "C" fn icefloe_port_options_default() -> icefloe_port_options {
    icefloe_port_options { initial_max_slice_len: 0, allocation_strategy: icefloe_allocation_strategy::ICEFLOE_STATIC }
}

/// A request sent and the response stream it opened.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct icefloe_pending {
    /// The pending response's slot and generation.
    pub id: u64,
}

/// Something received (a response, a request): read it through the
/// pointers until it is released.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct icefloe_received {
    /// Its slot and generation (0: nothing received).
    pub id: u64,
    /// The payload's bytes (read-only).
    pub payload: *const u8,
    /// Elements in the payload.
    pub len: usize,
    /// Bytes in the payload.
    pub bytes: usize,
    /// The user header's bytes (read-only).
    pub header: *const u8,
    /// The sender's id.
    pub origin: u64,
}

const NOTHING: icefloe_received =
    icefloe_received { id: 0, payload: std::ptr::null(), len: 0, bytes: 0, header: std::ptr::null(), origin: 0 };

/// A client. Field order is drop order: responses before the pending
/// responses they borrow.
pub struct icefloe_client {
    responses: Slots<(u64, ice::Response<&'static Pending, Bytes, Opaque>)>,
    pending: Slots<Pending>,
    loans: Slots<ChunkMutUninit<Shared<ClientPort>, Bytes, Opaque>>,
    port: Shared<ClientPort>,
}

/// Creates a client; `*out` holds it until `icefloe_client_drop`.
///
/// # Safety
///
/// `service` is a live service, `options` NULL or valid, `out` valid for
/// one write.
#[no_mangle]
pub unsafe extern "C" fn icefloe_client_create(
    service: *const icefloe_reqres,
    options: *const icefloe_port_options,
    out: *mut *mut icefloe_client,
) -> icefloe_error {
    code(|| {
        // SAFETY: live or NULL, by the contract.
        let s = unsafe { service.as_ref() }.ok_or(icefloe_error::ICEFLOE_ERROR_NULL_ARGUMENT)?;
        // SAFETY: NULL or valid, by the contract.
        let o = unsafe { options.as_ref() }.copied().unwrap_or_else(|| icefloe_port_options_default());
        let mut b = s.service.client_builder().allocation_strategy(strategy(o.allocation_strategy));
        if o.initial_max_slice_len != 0 {
            b = b.initial_max_slice_len(o.initial_max_slice_len);
        }
        let port = b.create()?;
        let cfg = s.service.static_config();
        let r = cfg.response.as_ref().ok_or(icefloe_error::ICEFLOE_ERROR_UNKNOWN)?;
        let active = port.max_active_requests() as usize;
        let client = icefloe_client {
            responses: Slots::new(active * r.max_borrowed_responses_per_pending_response as usize),
            pending: Slots::new(active),
            loans: Slots::new(r.max_loaned_requests as usize),
            port: Shared::new(port),
        };
        // SAFETY: writable, by the contract.
        unsafe { put(out, client) }
    })
}

/// Drops a client with everything it holds. NULL is ignored.
///
/// # Safety
///
/// `client` is NULL or came from `icefloe_client_create`, not dropped.
#[no_mangle]
pub unsafe extern "C" fn icefloe_client_drop(client: *mut icefloe_client) {
    if !client.is_null() {
        // SAFETY: made by `Box::into_raw`, dropped once; its fields drop
        // borrowers first.
        drop(unsafe { Box::from_raw(client) });
    }
}

/// Loans a request of `len` elements; see `icefloe_publisher_loan`.
///
/// # Safety
///
/// `client` is live; `loan` and `payload` valid for one write each,
/// `header` NULL or valid for one write.
#[no_mangle]
pub unsafe extern "C" fn icefloe_client_loan(
    client: *mut icefloe_client,
    len: usize,
    loan: *mut icefloe_loan,
    payload: *mut *mut u8,
    header: *mut *mut u8,
) -> icefloe_error {
    code(|| {
        // SAFETY: live or NULL, by the contract; used from its one thread.
        let c = unsafe { client.as_mut() }.ok_or(icefloe_error::ICEFLOE_ERROR_NULL_ARGUMENT)?;
        if loan.is_null() || payload.is_null() {
            return Err(icefloe_error::ICEFLOE_ERROR_NULL_ARGUMENT);
        }
        let mut chunk = ClientPort::loan_slice_uninit_via(&c.port, len)?;
        let ptrs = pointers(&mut chunk);
        let id = c.loans.insert(chunk).map_err(|_| icefloe_error::ICEFLOE_ERROR_LOAN_EXCEEDS_MAX_LOANS)?;
        // SAFETY: writable, by the contract (checked non-NULL where needed).
        unsafe { hand_out(id, ptrs, loan, payload, header) };
        Ok(())
    })
}

/// Sends a request loan to every server; `*pending` names the response
/// stream. The loan is consumed, also when the send fails.
///
/// # Safety
///
/// `client` is live; every payload byte of the loan was written; `pending`
/// is valid for one write.
#[no_mangle]
pub unsafe extern "C" fn icefloe_client_send(
    client: *mut icefloe_client,
    loan: icefloe_loan,
    pending: *mut icefloe_pending,
) -> icefloe_error {
    code(|| {
        // SAFETY: live or NULL, by the contract.
        let c = unsafe { client.as_mut() }.ok_or(icefloe_error::ICEFLOE_ERROR_NULL_ARGUMENT)?;
        if pending.is_null() {
            return Err(icefloe_error::ICEFLOE_ERROR_NULL_ARGUMENT);
        }
        let chunk = c.loans.take(loan.id).ok_or(icefloe_error::ICEFLOE_ERROR_STALE_HANDLE)?;
        // SAFETY: the caller wrote every payload byte (this call's
        // contract); the header was zeroed at loan.
        let p = unsafe { chunk.assume_init() }.send()?;
        let id =
            c.pending.insert(p).map_err(|_| icefloe_error::ICEFLOE_ERROR_REQUEST_SEND_EXCEEDS_MAX_ACTIVE_REQUESTS)?;
        // SAFETY: writable, by the contract.
        unsafe { *pending = icefloe_pending { id } };
        Ok(())
    })
}

/// Returns a request loan unsent.
///
/// # Safety
///
/// `client` is live.
#[no_mangle]
pub unsafe extern "C" fn icefloe_client_discard(client: *mut icefloe_client, loan: icefloe_loan) -> icefloe_error {
    code(|| {
        // SAFETY: live or NULL, by the contract.
        let c = unsafe { client.as_mut() }.ok_or(icefloe_error::ICEFLOE_ERROR_NULL_ARGUMENT)?;
        c.loans.take(loan.id).map(drop).ok_or(icefloe_error::ICEFLOE_ERROR_STALE_HANDLE)
    })
}

/// Takes the next response of `pending`, waiting up to `timeout_ns` (0:
/// not at all); `response->id == 0` when none came. `*connected` (if not
/// NULL) says whether a server may still answer: once it is false and
/// nothing came, the stream has ended.
///
/// # Safety
///
/// `client` is live; `response` valid for one write; `connected` NULL or
/// valid for one write.
#[no_mangle]
pub unsafe extern "C" fn icefloe_client_receive(
    client: *mut icefloe_client,
    pending: icefloe_pending,
    timeout_ns: u64,
    response: *mut icefloe_received,
    connected: *mut bool,
) -> icefloe_error {
    code(|| {
        // SAFETY: live or NULL, by the contract.
        let c = unsafe { client.as_mut() }.ok_or(icefloe_error::ICEFLOE_ERROR_NULL_ARGUMENT)?;
        if response.is_null() {
            return Err(icefloe_error::ICEFLOE_ERROR_NULL_ARGUMENT);
        }
        let p: &Pending = c.pending.get(pending.id).ok_or(icefloe_error::ICEFLOE_ERROR_STALE_HANDLE)?;
        // SAFETY: the pending response lives in a slot of a table that is
        // never resized, and it is taken out (dropped) only when no
        // response borrowing it is held (`icefloe_client_end` refuses
        // otherwise; the client drops responses before pending responses).
        let p: &'static Pending = unsafe { &*(p as *const Pending) };
        let got = if timeout_ns == 0 { p.receive()? } else { p.timed_receive(Duration::from_nanos(timeout_ns))? };
        let view = match got {
            None => NOTHING,
            Some(r) => {
                let (payload, bytes) = (r.payload_bytes().as_ptr(), r.payload_bytes().len());
                let (header, len, origin) = (r.user_header_bytes().as_ptr(), r.payload().len(), r.origin());
                let id = c
                    .responses
                    .insert((pending.id, r))
                    .map_err(|_| icefloe_error::ICEFLOE_ERROR_RECEIVE_EXCEEDS_MAX_BORROWS)?;
                icefloe_received { id, payload, len, bytes, header, origin }
            }
        };
        if !connected.is_null() {
            // SAFETY: writable, by the contract.
            unsafe { *connected = p.is_connected() || p.has_response() };
        }
        // SAFETY: writable, by the contract.
        unsafe { *response = view };
        Ok(())
    })
}

/// Returns a received response; its pointers are invalid from then on.
///
/// # Safety
///
/// `client` is live.
#[no_mangle]
pub unsafe extern "C" fn icefloe_client_release(
    client: *mut icefloe_client,
    response: icefloe_received,
) -> icefloe_error {
    code(|| {
        // SAFETY: live or NULL, by the contract.
        let c = unsafe { client.as_mut() }.ok_or(icefloe_error::ICEFLOE_ERROR_NULL_ARGUMENT)?;
        c.responses.take(response.id).map(drop).ok_or(icefloe_error::ICEFLOE_ERROR_STALE_HANDLE)
    })
}

/// Stops listening to a response stream (iceoryx2: dropping the pending
/// response). Refused while responses of it are held.
///
/// # Safety
///
/// `client` is live.
#[no_mangle]
pub unsafe extern "C" fn icefloe_client_end(client: *mut icefloe_client, pending: icefloe_pending) -> icefloe_error {
    code(|| {
        // SAFETY: live or NULL, by the contract.
        let c = unsafe { client.as_mut() }.ok_or(icefloe_error::ICEFLOE_ERROR_NULL_ARGUMENT)?;
        c.pending.get(pending.id).ok_or(icefloe_error::ICEFLOE_ERROR_STALE_HANDLE)?;
        if c.responses.any(|(owner, _)| *owner == pending.id) {
            return Err(icefloe_error::ICEFLOE_ERROR_PENDING_RESPONSE_HOLDS_RESPONSES);
        }
        c.pending.take(pending.id).map(drop).ok_or(icefloe_error::ICEFLOE_ERROR_STALE_HANDLE)
    })
}

/// A server. Field order is drop order: response loans before the active
/// requests they borrow.
pub struct icefloe_server {
    loans: Slots<(u64, ChunkMutUninit<&'static Active, Bytes, Opaque>)>,
    requests: Slots<Active>,
    port: Shared<ServerPort>,
}

/// Creates a server; `*out` holds it until `icefloe_server_drop`.
///
/// # Safety
///
/// `service` is a live service, `options` NULL or valid, `out` valid for
/// one write.
#[no_mangle]
pub unsafe extern "C" fn icefloe_server_create(
    service: *const icefloe_reqres,
    options: *const icefloe_port_options,
    out: *mut *mut icefloe_server,
) -> icefloe_error {
    code(|| {
        // SAFETY: live or NULL, by the contract.
        let s = unsafe { service.as_ref() }.ok_or(icefloe_error::ICEFLOE_ERROR_NULL_ARGUMENT)?;
        // SAFETY: NULL or valid, by the contract.
        let o = unsafe { options.as_ref() }.copied().unwrap_or_else(|| icefloe_port_options_default());
        let mut b = s.service.server_builder().allocation_strategy(strategy(o.allocation_strategy));
        if o.initial_max_slice_len != 0 {
            b = b.initial_max_slice_len(o.initial_max_slice_len);
        }
        let port = b.create()?;
        let cfg = s.service.static_config();
        // Requests held at once: per client, as many as it may have active.
        let held = (cfg.max_publishers * cfg.subscriber_max_borrowed_samples) as usize;
        let per_request = ice::port::server::DEFAULT_MAX_LOANED_RESPONSES_PER_REQUEST as usize;
        let server = icefloe_server {
            loans: Slots::new(held * per_request),
            requests: Slots::new(held),
            port: Shared::new(port),
        };
        // SAFETY: writable, by the contract.
        unsafe { put(out, server) }
    })
}

/// Drops a server with everything it holds (ending every response stream
/// it had open). NULL is ignored.
///
/// # Safety
///
/// `server` is NULL or came from `icefloe_server_create`, not dropped.
#[no_mangle]
pub unsafe extern "C" fn icefloe_server_drop(server: *mut icefloe_server) {
    if !server.is_null() {
        // SAFETY: made by `Box::into_raw`, dropped once; its fields drop
        // borrowers first.
        drop(unsafe { Box::from_raw(server) });
    }
}

/// Takes the next request, waiting up to `timeout_ns` (0: not at all);
/// `request->id == 0` when none came. Answer it with
/// `icefloe_server_loan` / `icefloe_server_send`, then end its stream
/// with `icefloe_server_end`.
///
/// # Safety
///
/// `server` is live; `request` valid for one write.
#[no_mangle]
pub unsafe extern "C" fn icefloe_server_receive(
    server: *mut icefloe_server,
    timeout_ns: u64,
    request: *mut icefloe_received,
) -> icefloe_error {
    code(|| {
        // SAFETY: live or NULL, by the contract.
        let s = unsafe { server.as_mut() }.ok_or(icefloe_error::ICEFLOE_ERROR_NULL_ARGUMENT)?;
        if request.is_null() {
            return Err(icefloe_error::ICEFLOE_ERROR_NULL_ARGUMENT);
        }
        let got = if timeout_ns == 0 {
            ServerPort::receive_via(&s.port)?
        } else {
            ServerPort::timed_receive_via(&s.port, Duration::from_nanos(timeout_ns))?
        };
        let view = match got {
            None => NOTHING,
            Some(r) => {
                let (payload, bytes) = (r.payload_bytes().as_ptr(), r.payload_bytes().len());
                let (header, len, origin) = (r.user_header_bytes().as_ptr(), r.payload().len(), r.origin());
                let id = s.requests.insert(r).map_err(|_| icefloe_error::ICEFLOE_ERROR_RECEIVE_EXCEEDS_MAX_BORROWS)?;
                icefloe_received { id, payload, len, bytes, header, origin }
            }
        };
        // SAFETY: writable, by the contract.
        unsafe { *request = view };
        Ok(())
    })
}

/// Loans a response of `len` elements to `request`.
///
/// # Safety
///
/// `server` is live; `loan` and `payload` valid for one write each,
/// `header` NULL or valid for one write.
#[no_mangle]
pub unsafe extern "C" fn icefloe_server_loan(
    server: *mut icefloe_server,
    request: icefloe_received,
    len: usize,
    loan: *mut icefloe_loan,
    payload: *mut *mut u8,
    header: *mut *mut u8,
) -> icefloe_error {
    code(|| {
        // SAFETY: live or NULL, by the contract.
        let s = unsafe { server.as_mut() }.ok_or(icefloe_error::ICEFLOE_ERROR_NULL_ARGUMENT)?;
        if loan.is_null() || payload.is_null() {
            return Err(icefloe_error::ICEFLOE_ERROR_NULL_ARGUMENT);
        }
        let r: &Active = s.requests.get(request.id).ok_or(icefloe_error::ICEFLOE_ERROR_STALE_HANDLE)?;
        // SAFETY: the active request lives in a slot of a table that is
        // never resized, and is taken out only after its loans
        // (`icefloe_server_end` drops them first; the server drops loans
        // before requests).
        let r: &'static Active = unsafe { &*(r as *const Active) };
        let mut chunk = r.loan_slice_uninit(len)?;
        let ptrs = pointers(&mut chunk);
        let id =
            s.loans.insert((request.id, chunk)).map_err(|_| icefloe_error::ICEFLOE_ERROR_LOAN_EXCEEDS_MAX_LOANS)?;
        // SAFETY: writable, by the contract (checked non-NULL where needed).
        unsafe { hand_out(id, ptrs, loan, payload, header) };
        Ok(())
    })
}

/// Sends a response loan to the request's client. The loan is consumed,
/// also when the send fails.
///
/// # Safety
///
/// `server` is live; every payload byte of the loan was written.
#[no_mangle]
pub unsafe extern "C" fn icefloe_server_send(server: *mut icefloe_server, loan: icefloe_loan) -> icefloe_error {
    code(|| {
        // SAFETY: live or NULL, by the contract.
        let s = unsafe { server.as_mut() }.ok_or(icefloe_error::ICEFLOE_ERROR_NULL_ARGUMENT)?;
        let (_, chunk) = s.loans.take(loan.id).ok_or(icefloe_error::ICEFLOE_ERROR_STALE_HANDLE)?;
        // SAFETY: the caller wrote every payload byte (this call's
        // contract); the header was zeroed at loan.
        unsafe { chunk.assume_init() }.send()?;
        Ok(())
    })
}

/// Returns a response loan unsent.
///
/// # Safety
///
/// `server` is live.
#[no_mangle]
pub unsafe extern "C" fn icefloe_server_discard(server: *mut icefloe_server, loan: icefloe_loan) -> icefloe_error {
    code(|| {
        // SAFETY: live or NULL, by the contract.
        let s = unsafe { server.as_mut() }.ok_or(icefloe_error::ICEFLOE_ERROR_NULL_ARGUMENT)?;
        s.loans.take(loan.id).map(drop).ok_or(icefloe_error::ICEFLOE_ERROR_STALE_HANDLE)
    })
}

/// Whether the request's client still listens (a response sent when it
/// does not is dropped quietly).
///
/// # Safety
///
/// `server` is live; `connected` valid for one write.
#[no_mangle]
pub unsafe extern "C" fn icefloe_server_is_connected(
    server: *const icefloe_server,
    request: icefloe_received,
    connected: *mut bool,
) -> icefloe_error {
    code(|| {
        // SAFETY: live or NULL, by the contract.
        let s = unsafe { server.as_ref() }.ok_or(icefloe_error::ICEFLOE_ERROR_NULL_ARGUMENT)?;
        let r = s.requests.get(request.id).ok_or(icefloe_error::ICEFLOE_ERROR_STALE_HANDLE)?;
        if connected.is_null() {
            return Err(icefloe_error::ICEFLOE_ERROR_NULL_ARGUMENT);
        }
        // SAFETY: writable, by the contract.
        unsafe { *connected = r.is_connected() };
        Ok(())
    })
}

/// Ends the request's response stream (its unsent loans go back first);
/// the request's pointers are invalid from then on.
///
/// # Safety
///
/// `server` is live.
#[no_mangle]
pub unsafe extern "C" fn icefloe_server_end(server: *mut icefloe_server, request: icefloe_received) -> icefloe_error {
    code(|| {
        // SAFETY: live or NULL, by the contract.
        let s = unsafe { server.as_mut() }.ok_or(icefloe_error::ICEFLOE_ERROR_NULL_ARGUMENT)?;
        s.requests.get(request.id).ok_or(icefloe_error::ICEFLOE_ERROR_STALE_HANDLE)?;
        s.loans.take_where(|(owner, _)| *owner == request.id);
        s.requests.take(request.id).map(drop).ok_or(icefloe_error::ICEFLOE_ERROR_STALE_HANDLE)
    })
}

//! Request-response services: clients send requests, servers answer each
//! with a stream of zero, one or many responses.
//!
//! ```
//! # fn clock() -> core::time::Duration { core::time::Duration::ZERO }
//! # icefloe_core::bare_metal_platform!(Board, arena = 1024 * 1024, segments = 8, clock = clock);
//! # fn main() -> Result<(), Box<dyn core::error::Error>> {
//! use icefloe_core::{NodeBuilder, ServiceName};
//! let node = NodeBuilder::<Board>::new().create()?;
//! let service = node
//!     .service_builder(&ServiceName::new("calc/square")?)
//!     .request_response::<u64, u64>()
//!     .max_active_requests_per_client(8)
//!     .open_or_create()?;
//! let server = service.server_builder().create()?;
//! let client = service.client_builder().create()?;
//! let pending = client.send_copy(7)?;
//! while let Some(request) = server.receive()? {
//!     request.send_copy(*request * *request)?;
//! }
//! let response = pending.receive()?.expect("the server answered");
//! assert_eq!(*response, 49);
//! # Ok(()) }
//! ```
//!
//! How it is built (see [`shm`](crate::shm) for the segment): requests
//! travel exactly as samples do, from each client to every connected server
//! (a client's data segment, one submission and one completion queue per
//! client and server). Responses travel from a server's data segment to a
//! client through one connection per server and client holding one response
//! queue per *channel*: a client has `max_active_requests_per_client`
//! channels, and each pending request occupies one. A request carries its
//! channel and a sequence number (its *tag*) in its chunk header; each
//! response carries the tag of its request, so that a client reusing a
//! channel recognizes and returns, unread, what was meant for an earlier
//! request. A client writes the tag it listens for into its channel word
//! and clears it when the `PendingResponse` is dropped; a server writes
//! "ended" with the tag when the `ActiveRequest` is dropped.

use super::{
    at_least, check_payload, ServiceCore, ServiceCreateError, ServiceOpenError, ServiceOpenOrCreateError, TypeMismatch,
};
use crate::node::Node;
use crate::platform::Platform;
use crate::shm::service::{
    ResponseConfig, StaticConfig, MAX_NODES_LIMIT, MAX_QUEUE_CAPACITY, PATTERN_REQUEST_RESPONSE,
};
use crate::zero_copy::{Opaque, Payload, TypeDetail, TypeVariant, ZeroCopySend};
use core::marker::PhantomData;

/// Default client slots (as iceoryx2): 8.
pub const DEFAULT_MAX_CLIENTS: u32 = 8;
/// Default server slots: 2.
pub const DEFAULT_MAX_SERVERS: u32 = 2;
/// Default node slots: 20.
pub const DEFAULT_MAX_NODES: u32 = 20;
/// Default requests a client may have pending at once: 4.
pub const DEFAULT_MAX_ACTIVE_REQUESTS_PER_CLIENT: u32 = 4;
/// Default request loans a client may have out at once: 2.
pub const DEFAULT_MAX_LOANED_REQUESTS: u32 = 2;
/// Default responses queued per pending response and server: 2.
pub const DEFAULT_MAX_RESPONSE_BUFFER_SIZE: u32 = 2;
/// Default responses a client may hold per pending response: 2.
pub const DEFAULT_MAX_BORROWED_RESPONSES_PER_PENDING_RESPONSE: u32 = 2;

/// Configures a request-response service. Every knob has iceoryx2's meaning
/// and default; on `open`, only the knobs set explicitly are checked (sizes
/// as minimums, flags for equality), the types always.
pub struct RequestResponseBuilder<
    'n,
    P: Platform,
    Req: Payload + ?Sized,
    Res: Payload + ?Sized,
    ReqH: ZeroCopySend,
    ResH: ZeroCopySend,
> {
    node: &'n Node<P>,
    name: crate::name::ServiceName,
    max_clients: Option<u32>,
    max_servers: Option<u32>,
    max_nodes: Option<u32>,
    max_active: Option<u32>,
    max_loaned: Option<u32>,
    buffer: Option<u32>,
    borrowed: Option<u32>,
    overflow_requests: Option<bool>,
    overflow_responses: Option<bool>,
    fire_and_forget: Option<bool>,
    request_alignment: Option<u32>,
    response_alignment: Option<u32>,
    request_max_slice_len: Option<u32>,
    response_max_slice_len: Option<u32>,
    request_type: Option<TypeDetail>,
    response_type: Option<TypeDetail>,
    request_header_type: Option<TypeDetail>,
    response_header_type: Option<TypeDetail>,
    _t: PhantomData<(crate::zero_copy::TypeMarker<Req, ReqH>, crate::zero_copy::TypeMarker<Res, ResH>)>,
}

impl<'n, P: Platform, Req: Payload + ?Sized, Res: Payload + ?Sized> RequestResponseBuilder<'n, P, Req, Res, (), ()> {
    pub(crate) fn new(node: &'n Node<P>, name: crate::name::ServiceName) -> Self {
        Self {
            node,
            name,
            max_clients: None,
            max_servers: None,
            max_nodes: None,
            max_active: None,
            max_loaned: None,
            buffer: None,
            borrowed: None,
            overflow_requests: None,
            overflow_responses: None,
            fire_and_forget: None,
            request_alignment: None,
            response_alignment: None,
            request_max_slice_len: None,
            response_max_slice_len: None,
            request_type: None,
            response_type: None,
            request_header_type: None,
            response_header_type: None,
            _t: PhantomData,
        }
    }
}

impl<P: Platform, Res: Payload + ?Sized, ReqH: ZeroCopySend, ResH: ZeroCopySend>
    RequestResponseBuilder<'_, P, [Opaque], Res, ReqH, ResH>
{
    /// The request type, described at run time (a binding's type): the
    /// service records it and opens only against the same description.
    pub fn request_type_detail(mut self, detail: TypeDetail) -> Self {
        self.request_type = Some(detail);
        self
    }
}

impl<P: Platform, Req: Payload + ?Sized, ReqH: ZeroCopySend, ResH: ZeroCopySend>
    RequestResponseBuilder<'_, P, Req, [Opaque], ReqH, ResH>
{
    /// The response type, described at run time (a binding's type).
    pub fn response_type_detail(mut self, detail: TypeDetail) -> Self {
        self.response_type = Some(detail);
        self
    }
}

impl<P: Platform, Req: Payload + ?Sized, Res: Payload + ?Sized, ResH: ZeroCopySend>
    RequestResponseBuilder<'_, P, Req, Res, Opaque, ResH>
{
    /// The request user header type, described at run time (fixed-size).
    pub fn request_user_header_type_detail(mut self, detail: TypeDetail) -> Self {
        self.request_header_type = Some(detail);
        self
    }
}

impl<P: Platform, Req: Payload + ?Sized, Res: Payload + ?Sized, ReqH: ZeroCopySend>
    RequestResponseBuilder<'_, P, Req, Res, ReqH, Opaque>
{
    /// The response user header type, described at run time (fixed-size).
    pub fn response_user_header_type_detail(mut self, detail: TypeDetail) -> Self {
        self.response_header_type = Some(detail);
        self
    }
}

/// The shared memory a request-response service and its ports take, from
/// QoS and default port settings alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RequestResponseFootprint {
    /// Bytes of the service segment (tables and every connection's queues).
    pub service_segment: usize,
    /// Bytes of one client's first data segment with default port settings.
    pub default_client_data_segment: usize,
    /// Bytes of one server's first data segment with default port settings.
    pub default_server_data_segment: usize,
}

impl<'n, P: Platform, Req: Payload + ?Sized, Res: Payload + ?Sized, ReqH: ZeroCopySend, ResH: ZeroCopySend>
    RequestResponseBuilder<'n, P, Req, Res, ReqH, ResH>
{
    /// Client slots (default [`DEFAULT_MAX_CLIENTS`]).
    pub fn max_clients(mut self, n: u32) -> Self {
        self.max_clients = Some(n);
        self
    }
    /// Server slots (default [`DEFAULT_MAX_SERVERS`]).
    pub fn max_servers(mut self, n: u32) -> Self {
        self.max_servers = Some(n);
        self
    }
    /// Nodes that may have the service open at once (default [`DEFAULT_MAX_NODES`]).
    pub fn max_nodes(mut self, n: u32) -> Self {
        self.max_nodes = Some(n);
        self
    }
    /// Requests a client may have pending at once, each with a live
    /// `PendingResponse` (default [`DEFAULT_MAX_ACTIVE_REQUESTS_PER_CLIENT`]).
    /// One more send fails with
    /// [`RequestSendError::ExceedsMaxActiveRequests`](crate::RequestSendError::ExceedsMaxActiveRequests).
    pub fn max_active_requests_per_client(mut self, n: u32) -> Self {
        self.max_active = Some(n);
        self
    }
    /// Request loans a client may have out at once (default [`DEFAULT_MAX_LOANED_REQUESTS`]).
    pub fn max_loaned_requests(mut self, n: u32) -> Self {
        self.max_loaned = Some(n);
        self
    }
    /// Responses queued per pending response and server (default [`DEFAULT_MAX_RESPONSE_BUFFER_SIZE`]).
    pub fn max_response_buffer_size(mut self, n: u32) -> Self {
        self.buffer = Some(n);
        self
    }
    /// Responses a client may hold at once per pending response (default
    /// [`DEFAULT_MAX_BORROWED_RESPONSES_PER_PENDING_RESPONSE`]).
    pub fn max_borrowed_responses_per_pending_response(mut self, n: u32) -> Self {
        self.borrowed = Some(n);
        self
    }
    /// When a server's request queue for a client is full, drop its oldest
    /// request (true, the default) or apply the client's backpressure.
    pub fn enable_safe_overflow_for_requests(mut self, on: bool) -> Self {
        self.overflow_requests = Some(on);
        self
    }
    /// When a pending response's queue is full, drop its oldest response
    /// (true, the default) or apply the server's backpressure.
    pub fn enable_safe_overflow_for_responses(mut self, on: bool) -> Self {
        self.overflow_responses = Some(on);
        self
    }
    /// Whether servers still receive requests whose `PendingResponse` was
    /// dropped before they took them (true, the default: no request is
    /// lost). When false, such requests are discarded unseen.
    pub fn enable_fire_and_forget_requests(mut self, on: bool) -> Self {
        self.fire_and_forget = Some(on);
        self
    }
    /// Request payload alignment (default: the type's).
    pub fn request_payload_alignment(mut self, align: u32) -> Self {
        self.request_alignment = Some(align);
        self
    }
    /// Response payload alignment (default: the type's).
    pub fn response_payload_alignment(mut self, align: u32) -> Self {
        self.response_alignment = Some(align);
        self
    }
    /// For slice requests: the longest slice any client may send (default
    /// [`DEFAULT_MAX_SLICE_LEN`](crate::service::DEFAULT_MAX_SLICE_LEN)).
    pub fn request_max_slice_len(mut self, n: u32) -> Self {
        self.request_max_slice_len = Some(n);
        self
    }
    /// For slice responses: the longest slice any server may send (default
    /// [`DEFAULT_MAX_SLICE_LEN`](crate::service::DEFAULT_MAX_SLICE_LEN)).
    pub fn response_max_slice_len(mut self, n: u32) -> Self {
        self.response_max_slice_len = Some(n);
        self
    }

    /// A user header of type `H` in every request (default `()`).
    pub fn request_user_header<H: ZeroCopySend>(self) -> RequestResponseBuilder<'n, P, Req, Res, H, ResH> {
        let keep = self.response_header_type.clone();
        RequestResponseBuilder { response_header_type: keep, ..self.retyped() }
    }

    /// A user header of type `H` in every response (default `()`).
    pub fn response_user_header<H: ZeroCopySend>(self) -> RequestResponseBuilder<'n, P, Req, Res, ReqH, H> {
        let keep = self.request_header_type.clone();
        RequestResponseBuilder { request_header_type: keep, ..self.retyped() }
    }

    fn retyped<H1: ZeroCopySend, H2: ZeroCopySend>(self) -> RequestResponseBuilder<'n, P, Req, Res, H1, H2> {
        RequestResponseBuilder {
            node: self.node,
            name: self.name,
            max_clients: self.max_clients,
            max_servers: self.max_servers,
            max_nodes: self.max_nodes,
            max_active: self.max_active,
            max_loaned: self.max_loaned,
            buffer: self.buffer,
            borrowed: self.borrowed,
            overflow_requests: self.overflow_requests,
            overflow_responses: self.overflow_responses,
            fire_and_forget: self.fire_and_forget,
            request_alignment: self.request_alignment,
            response_alignment: self.response_alignment,
            request_max_slice_len: self.request_max_slice_len,
            response_max_slice_len: self.response_max_slice_len,
            request_type: self.request_type,
            response_type: self.response_type,
            request_header_type: None,
            response_header_type: None,
            _t: PhantomData,
        }
    }

    /// The request and response types the service records: the Rust
    /// types', or the ones given at run time.
    fn details(&self) -> Result<(TypeDetail, TypeDetail), crate::zero_copy::TypeNameTooLong> {
        Ok((
            self.request_type.clone().map_or_else(TypeDetail::of_payload::<Req>, Ok)?,
            self.response_type.clone().map_or_else(TypeDetail::of_payload::<Res>, Ok)?,
        ))
    }

    /// The request and response user header types the service records.
    fn header_details(&self) -> Result<(TypeDetail, TypeDetail), crate::zero_copy::TypeNameTooLong> {
        Ok((
            self.request_header_type.clone().map_or_else(TypeDetail::of::<ReqH>, Ok)?,
            self.response_header_type.clone().map_or_else(TypeDetail::of::<ResH>, Ok)?,
        ))
    }

    fn config(&self) -> Result<StaticConfig, ServiceCreateError> {
        let too_long = |_| ServiceCreateError::TypeNameTooLong;
        let (request, response) = self.details().map_err(too_long)?;
        let (request_header, response_header) = self.header_details().map_err(too_long)?;
        if request_header.variant != TypeVariant::FixedSize {
            return Err(ServiceCreateError::InvalidQos("request_user_header"));
        }
        if response_header.variant != TypeVariant::FixedSize {
            return Err(ServiceCreateError::InvalidQos("response_user_header"));
        }
        let (req_slice, res_slice) = (request.variant == TypeVariant::Slice, response.variant == TypeVariant::Slice);
        let d = &self.node.config().request_response;
        let active = self.max_active.unwrap_or(d.max_active_requests_per_client);
        let slice_len = |set: Option<u32>, is_slice: bool| {
            if is_slice {
                set.unwrap_or(crate::service::DEFAULT_MAX_SLICE_LEN)
            } else {
                1
            }
        };
        let r = ResponseConfig {
            payload_alignment: self.response_alignment.unwrap_or(response.align).max(response.align),
            payload: response,
            user_header: response_header,
            max_slice_len: slice_len(self.response_max_slice_len, res_slice),
            max_active_requests_per_client: active,
            max_loaned_requests: self.max_loaned.unwrap_or(d.max_loaned_requests),
            max_response_buffer_size: self.buffer.unwrap_or(d.max_response_buffer_size),
            max_borrowed_responses_per_pending_response: self
                .borrowed
                .unwrap_or(d.max_borrowed_responses_per_pending_response),
            enable_safe_overflow: self.overflow_responses.unwrap_or(d.enable_safe_overflow_for_responses),
            enable_fire_and_forget: self.fire_and_forget.unwrap_or(d.enable_fire_and_forget),
        };
        let cfg = StaticConfig {
            name: self.name.clone(),
            pattern: PATTERN_REQUEST_RESPONSE,
            max_publishers: self.max_clients.unwrap_or(d.max_clients),
            max_subscribers: self.max_servers.unwrap_or(d.max_servers),
            max_nodes: self.max_nodes.unwrap_or(d.max_nodes),
            history_size: 0,
            subscriber_max_buffer_size: active,
            subscriber_max_borrowed_samples: active,
            enable_safe_overflow: self.overflow_requests.unwrap_or(d.enable_safe_overflow_for_requests),
            payload_alignment: self.request_alignment.unwrap_or(request.align).max(request.align),
            payload: request,
            user_header: request_header,
            max_slice_len: slice_len(self.request_max_slice_len, req_slice),
            response: None,
            event: None,
        };
        // A client receives from every server and a server from every
        // client: both tables are bounded by what one receiving port holds.
        if cfg.max_clients() as usize > crate::config::MAX_PUBLISHERS {
            return Err(ServiceCreateError::ExceedsBuildLimit("max_clients"));
        }
        if cfg.max_servers() as usize > crate::config::MAX_PUBLISHERS {
            return Err(ServiceCreateError::ExceedsBuildLimit("max_servers"));
        }
        if active as usize > crate::config::MAX_ACTIVE_REQUESTS {
            return Err(ServiceCreateError::ExceedsBuildLimit("max_active_requests_per_client"));
        }
        let q = 1..=MAX_QUEUE_CAPACITY;
        let align_ok = |a: u32| a.is_power_of_two() && a <= 4096;
        let checks = [
            (cfg.max_clients() >= 1, "max_clients"),
            (cfg.max_servers() >= 1, "max_servers"),
            ((1..=MAX_NODES_LIMIT).contains(&cfg.max_nodes), "max_nodes"),
            (active >= 1, "max_active_requests_per_client"),
            (q.contains(&r.max_loaned_requests), "max_loaned_requests"),
            (q.contains(&r.max_response_buffer_size), "max_response_buffer_size"),
            (q.contains(&r.max_borrowed_responses_per_pending_response), "max_borrowed_responses_per_pending_response"),
            (align_ok(cfg.payload_alignment), "request_payload_alignment"),
            (align_ok(r.payload_alignment), "response_payload_alignment"),
            (cfg.max_slice_len >= 1, "request_max_slice_len"),
            (r.max_slice_len >= 1, "response_max_slice_len"),
        ];
        if let Some((_, field)) = checks.iter().find(|(ok, _)| !ok) {
            return Err(ServiceCreateError::InvalidQos(field));
        }
        Ok(StaticConfig { response: Some(r), ..cfg })
    }

    /// The shared memory the configured service takes, before creating it.
    pub fn footprint(&self) -> Result<RequestResponseFootprint, ServiceCreateError> {
        RequestResponseFootprint::of(&self.config()?)
    }

    fn verify(&self, stored: &StaticConfig) -> Result<(), ServiceOpenError> {
        use ServiceOpenError as E;
        let Some(r) = stored.response.as_ref() else { return Err(E::ServiceInCorruptedState) };
        if stored.max_clients() as usize > crate::config::MAX_PUBLISHERS
            || stored.max_servers() as usize > crate::config::MAX_PUBLISHERS
            || r.max_active_requests_per_client as usize > crate::config::MAX_ACTIVE_REQUESTS
        {
            return Err(E::ExceedsBuildLimit);
        }
        let (want_req, want_res) = self.details().map_err(|_| E::IncompatiblePayloadType)?;
        check_payload(&want_req, &stored.payload, stored.payload_alignment, self.request_alignment).map_err(
            |m| match m {
                TypeMismatch::Type => E::IncompatiblePayloadType,
                TypeMismatch::Size => E::IncompatiblePayloadSize,
                TypeMismatch::Alignment => E::IncompatiblePayloadAlignment,
            },
        )?;
        let (want_req_header, want_res_header) = self.header_details().map_err(|_| E::IncompatibleUserHeader)?;
        if stored.user_header != want_req_header {
            return Err(E::IncompatibleUserHeader);
        }
        check_payload(&want_res, &r.payload, r.payload_alignment, self.response_alignment).map_err(|m| match m {
            TypeMismatch::Type => E::IncompatibleResponseType,
            TypeMismatch::Size => E::IncompatibleResponseSize,
            TypeMismatch::Alignment => E::IncompatibleResponseAlignment,
        })?;
        if r.user_header != want_res_header {
            return Err(E::IncompatibleResponseUserHeader);
        }
        if self.overflow_requests.is_some_and(|v| v != stored.enable_safe_overflow) {
            return Err(E::IncompatibleOverflowBehavior);
        }
        if self.overflow_responses.is_some_and(|v| v != r.enable_safe_overflow) {
            return Err(E::IncompatibleOverflowBehaviorForResponses);
        }
        if self.fire_and_forget.is_some_and(|v| v != r.enable_fire_and_forget) {
            return Err(E::IncompatibleFireAndForgetBehavior);
        }
        if want_req.variant == TypeVariant::Slice {
            at_least(self.request_max_slice_len, stored.max_slice_len, E::DoesNotSupportRequestedMaxSliceLen)?;
        }
        if want_res.variant == TypeVariant::Slice {
            at_least(self.response_max_slice_len, r.max_slice_len, E::DoesNotSupportRequestedMaxResponseSliceLen)?;
        }
        at_least(self.max_clients, stored.max_clients(), E::DoesNotSupportRequestedAmountOfClients)?;
        at_least(self.max_servers, stored.max_servers(), E::DoesNotSupportRequestedAmountOfServers)?;
        at_least(self.max_nodes, stored.max_nodes, E::DoesNotSupportRequestedAmountOfNodes)?;
        at_least(
            self.max_active,
            r.max_active_requests_per_client,
            E::DoesNotSupportRequestedAmountOfActiveRequestsPerClient,
        )?;
        at_least(self.max_loaned, r.max_loaned_requests, E::DoesNotSupportRequestedAmountOfClientRequestLoans)?;
        at_least(self.buffer, r.max_response_buffer_size, E::DoesNotSupportRequestedResponseBufferSize)?;
        at_least(
            self.borrowed,
            r.max_borrowed_responses_per_pending_response,
            E::DoesNotSupportRequestedAmountOfBorrowedResponsesPerPendingResponse,
        )?;
        Ok(())
    }

    /// Creates the service; fails with [`ServiceCreateError::AlreadyExists`]
    /// if a live one exists (a leftover of dead nodes is cleaned and
    /// replaced).
    #[allow(clippy::type_complexity)] // the port's own type parameters
    pub fn create(self) -> Result<P::Hold<RequestResponse<P, Req, Res, ReqH, ResH>>, ServiceCreateError> {
        let cfg = self.config()?;
        RequestResponse::new(ServiceCore::create(self.node, cfg)?)
            .map(Into::into)
            .map_err(|_| ServiceCreateError::InvalidQos("response"))
    }

    /// Opens an existing service, checking types and requested QoS.
    #[allow(clippy::type_complexity)] // the port's own type parameters
    pub fn open(self) -> Result<P::Hold<RequestResponse<P, Req, Res, ReqH, ResH>>, ServiceOpenError> {
        RequestResponse::new(ServiceCore::open(self.node, PATTERN_REQUEST_RESPONSE, &self.name, |c| self.verify(c))?)
            .map(Into::into)
    }

    /// Opens the service, or creates it if it does not exist.
    #[allow(clippy::type_complexity)] // the port's own type parameters
    pub fn open_or_create(self) -> Result<P::Hold<RequestResponse<P, Req, Res, ReqH, ResH>>, ServiceOpenOrCreateError> {
        let core = ServiceCore::open_or_create(
            self.node,
            PATTERN_REQUEST_RESPONSE,
            &self.name,
            || self.config(),
            |c| self.verify(c),
        )?;
        RequestResponse::new(core).map(Into::into).map_err(ServiceOpenOrCreateError::Open)
    }
}

/// A request-response service handle: makes clients and servers. Dropping
/// the last handle of the last node removes the service.
pub struct RequestResponse<
    P: Platform,
    Req: Payload + ?Sized,
    Res: Payload + ?Sized,
    ReqH: ZeroCopySend = (),
    ResH: ZeroCopySend = (),
> {
    pub(crate) core: ServiceCore<P>,
    response: ResponseConfig,
    _t: PhantomData<(crate::zero_copy::TypeMarker<Req, ReqH>, crate::zero_copy::TypeMarker<Res, ResH>)>,
}

impl<P: Platform, Req: Payload + ?Sized, Res: Payload + ?Sized, ReqH: ZeroCopySend, ResH: ZeroCopySend>
    RequestResponse<P, Req, Res, ReqH, ResH>
{
    fn new(core: ServiceCore<P>) -> Result<Self, ServiceOpenError> {
        let response = core.config.response.clone().ok_or(ServiceOpenError::ServiceInCorruptedState)?;
        Ok(Self { core, response, _t: PhantomData })
    }
}

impl<P: Platform, Req: Payload + ?Sized, Res: Payload + ?Sized, ReqH: ZeroCopySend, ResH: ZeroCopySend>
    RequestResponse<P, Req, Res, ReqH, ResH>
{
    /// The service's name.
    pub fn name(&self) -> &crate::name::ServiceName {
        &self.core.config.name
    }

    /// The stored configuration: the request side in the common fields, the
    /// response side in [`StaticConfig::response`].
    pub fn static_config(&self) -> &StaticConfig {
        &self.core.config
    }

    pub(crate) fn response_config(&self) -> &ResponseConfig {
        &self.response
    }

    /// Client slots.
    pub fn max_clients(&self) -> u32 {
        self.core.config.max_clients()
    }

    /// Server slots.
    pub fn max_servers(&self) -> u32 {
        self.core.config.max_servers()
    }

    /// Requests a client may have pending at once.
    pub fn max_active_requests_per_client(&self) -> u32 {
        self.response_config().max_active_requests_per_client
    }

    /// Clients of the service now, in every process.
    pub fn number_of_clients(&self) -> u32 {
        self.core.live_senders()
    }

    /// Servers of the service now, in every process.
    pub fn number_of_servers(&self) -> u32 {
        self.core.live_receivers()
    }

    /// Reclaims what dead nodes left in this service; returns how many dead
    /// nodes were cleaned.
    pub fn cleanup_dead_nodes(&self) -> u32 {
        self.core.cleanup_dead_nodes()
    }

    /// The shared memory this service takes with default ports.
    pub fn footprint(&self) -> Option<RequestResponseFootprint> {
        RequestResponseFootprint::of(&self.core.config).ok()
    }
}

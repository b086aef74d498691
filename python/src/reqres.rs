//! Request-response: the service builder, its port factories, clients,
//! servers, and the loans, requests and responses between them.

use crate::basics::{
    Alignment, AllocationStrategy, BackpressureStrategy, Duration, PortName, RequestHeader, ResponseHeader,
    ServiceName, UniqueClientId, UniqueServerId,
};
use crate::chunk::{Active, Bytes, ClientPort, Header, Pending, RequestResponseService, ServerPort, State};
use crate::errors::*;
use crate::lease::Lease;
use crate::node::Node;
use crate::types::{PayloadType, TypeDetailView};
use icefloe_linux::Shared;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

type Service = RequestResponseService;

/// Configures a request-response service (iceoryx2's knobs and defaults).
#[pyclass(module = "icefloe", unsendable)]
pub struct ServiceBuilderRequestResponse {
    node: Py<Node>,
    name: ServiceName,
    request: PayloadType,
    response: PayloadType,
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
    request_alignment: Option<Alignment>,
    response_alignment: Option<Alignment>,
}

impl ServiceBuilderRequestResponse {
    pub fn new(node: Py<Node>, name: ServiceName, request: PayloadType, response: PayloadType) -> Self {
        Self {
            node,
            name,
            request,
            response,
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
        }
    }

    fn with<R>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(icefloe_linux::RequestResponseBuilder<'_, Bytes, Bytes, Header, Header>) -> R,
    ) -> (R, PayloadType, PayloadType) {
        let node = self.node.borrow(py);
        let mut b = node
            .node
            .service_builder(&self.name.0)
            .request_response::<Bytes, Bytes>()
            .request_type_detail(self.request.detail.clone())
            .response_type_detail(self.response.detail.clone())
            .request_user_header::<Header>()
            .response_user_header::<Header>()
            .request_user_header_type_detail(self.request.header_detail.clone())
            .response_user_header_type_detail(self.response.header_detail.clone());
        macro_rules! set {
            ($($field:ident => $m:ident),*) => {$(if let Some(v) = self.$field { b = b.$m(v); })*};
        }
        set!(max_clients => max_clients, max_servers => max_servers, max_nodes => max_nodes,
            max_active => max_active_requests_per_client, max_loaned => max_loaned_requests,
            buffer => max_response_buffer_size, borrowed => max_borrowed_responses_per_pending_response,
            overflow_requests => enable_safe_overflow_for_requests,
            overflow_responses => enable_safe_overflow_for_responses,
            fire_and_forget => enable_fire_and_forget_requests);
        if let Some(a) = self.request_alignment {
            b = b.request_payload_alignment(a.0);
        }
        if let Some(a) = self.response_alignment {
            b = b.response_payload_alignment(a.0);
        }
        (f(b), self.request.clone_ref(py), self.response.clone_ref(py))
    }
}

macro_rules! knobs {
    ($t:ty { $($name:ident: $field:ident: $v:ty),* $(,)? }) => {
        #[pymethods]
        impl $t {
            $(
                #[doc = concat!("Sets `", stringify!($name), "` (iceoryx2's meaning; on open, a minimum or a flag that must match).")]
                fn $name(mut slf: PyRefMut<'_, Self>, value: $v) -> PyRefMut<'_, Self> {
                    slf.$field = Some(value);
                    slf
                }
            )*
        }
    };
}
pub(crate) use knobs;

knobs!(ServiceBuilderRequestResponse {
    max_clients: max_clients: u32,
    max_servers: max_servers: u32,
    max_nodes: max_nodes: u32,
    max_active_requests_per_client: max_active: u32,
    max_loaned_requests: max_loaned: u32,
    max_response_buffer_size: buffer: u32,
    max_borrowed_responses_per_pending_response: borrowed: u32,
    enable_safe_overflow_for_requests: overflow_requests: bool,
    enable_safe_overflow_for_responses: overflow_responses: bool,
    enable_fire_and_forget_requests: fire_and_forget: bool,
});

#[pymethods]
impl ServiceBuilderRequestResponse {
    /// The request payload's alignment, at least its type's.
    fn request_payload_alignment(mut slf: PyRefMut<'_, Self>, value: Alignment) -> PyRefMut<'_, Self> {
        slf.request_alignment = Some(value);
        slf
    }

    /// The response payload's alignment, at least its type's.
    fn response_payload_alignment(mut slf: PyRefMut<'_, Self>, value: Alignment) -> PyRefMut<'_, Self> {
        slf.response_alignment = Some(value);
        slf
    }

    /// A user header of ctypes type `t` in every request (default none).
    fn request_user_header<'py>(mut slf: PyRefMut<'py, Self>, t: Bound<'py, PyAny>) -> PyResult<PyRefMut<'py, Self>> {
        slf.request.set_header(&t)?;
        Ok(slf)
    }

    /// A user header of ctypes type `t` in every response (default none).
    fn response_user_header<'py>(mut slf: PyRefMut<'py, Self>, t: Bound<'py, PyAny>) -> PyResult<PyRefMut<'py, Self>> {
        slf.response.set_header(&t)?;
        Ok(slf)
    }

    /// Creates the service; raises `RequestResponseCreateError`.
    fn create(&self, py: Python<'_>) -> PyResult<PortFactoryRequestResponse> {
        let (r, request, response) = self.with(py, |b| b.create());
        Ok(PortFactoryRequestResponse { service: r.map_err(raise::<RequestResponseCreateError>)?, request, response })
    }

    /// Opens the service; raises `RequestResponseOpenError` (types or QoS
    /// that do not match say which).
    fn open(&self, py: Python<'_>) -> PyResult<PortFactoryRequestResponse> {
        let (r, request, response) = self.with(py, |b| b.open());
        Ok(PortFactoryRequestResponse { service: r.map_err(raise::<RequestResponseOpenError>)?, request, response })
    }

    /// Opens the service, or creates it; raises `RequestResponseOpenOrCreateError`.
    fn open_or_create(&self, py: Python<'_>) -> PyResult<PortFactoryRequestResponse> {
        let (r, request, response) = self.with(py, |b| b.open_or_create());
        let service = r.map_err(|e| match e {
            icefloe_linux::ServiceOpenOrCreateError::Open(e) => raise::<RequestResponseOpenOrCreateError>(e),
            icefloe_linux::ServiceOpenOrCreateError::Create(e) => raise::<RequestResponseOpenOrCreateError>(e),
            e => raise::<RequestResponseOpenOrCreateError>(e),
        })?;
        Ok(PortFactoryRequestResponse { service, request, response })
    }
}

/// An open request-response service: makes clients and servers.
#[pyclass(module = "icefloe", unsendable)]
pub struct PortFactoryRequestResponse {
    service: Service,
    request: PayloadType,
    response: PayloadType,
}

/// The static configuration of a request-response service.
#[pyclass(module = "icefloe", frozen)]
pub struct StaticConfigRequestResponse {
    #[pyo3(get)]
    max_clients: u32,
    #[pyo3(get)]
    max_servers: u32,
    #[pyo3(get)]
    max_nodes: u32,
    #[pyo3(get)]
    max_active_requests_per_client: u32,
    #[pyo3(get)]
    max_loaned_requests: u32,
    #[pyo3(get)]
    max_response_buffer_size: u32,
    #[pyo3(get)]
    max_borrowed_responses_per_pending_response: u32,
    #[pyo3(get)]
    has_safe_overflow_for_requests: bool,
    #[pyo3(get)]
    has_safe_overflow_for_responses: bool,
    #[pyo3(get)]
    does_support_fire_and_forget_requests: bool,
    #[pyo3(get)]
    request_type: Py<TypeDetailView>,
    #[pyo3(get)]
    response_type: Py<TypeDetailView>,
}

#[pymethods]
impl PortFactoryRequestResponse {
    /// Starts building a client.
    fn client_builder(&self, py: Python<'_>) -> PortFactoryClient {
        PortFactoryClient {
            service: self.service.clone(),
            request: self.request.clone_ref(py),
            response: self.response.clone_ref(py),
            initial: None,
            max_slice_len: None,
            strategy: None,
            backpressure: None,
            prealloc: None,
            port_name: PortName::default(),
            max_active: None,
        }
    }

    /// Starts building a server.
    fn server_builder(&self, py: Python<'_>) -> PortFactoryServer {
        PortFactoryServer {
            service: self.service.clone(),
            request: self.request.clone_ref(py),
            response: self.response.clone_ref(py),
            initial: None,
            max_slice_len: None,
            strategy: None,
            backpressure: None,
            loans: None,
            prealloc: None,
            port_name: PortName::default(),
        }
    }

    /// The ports of the service now, in every process.
    #[getter]
    fn dynamic_config(&self) -> DynamicConfigRequestResponse {
        DynamicConfigRequestResponse {
            number_of_clients: self.service.number_of_clients(),
            number_of_servers: self.service.number_of_servers(),
        }
    }

    /// Reclaims what dead nodes left in this service; returns how many were cleaned.
    fn try_cleanup_dead_nodes(&self) -> u32 {
        self.service.cleanup_dead_nodes()
    }

    /// As `try_cleanup_dead_nodes` (icefloe's cleanup does not wait on others).
    fn blocking_cleanup_dead_nodes(&self, timeout: Duration) -> u32 {
        let _ = timeout;
        self.service.cleanup_dead_nodes()
    }

    /// The service's name.
    #[getter]
    fn name(&self) -> ServiceName {
        ServiceName(self.service.name().clone())
    }

    /// The service's static configuration.
    #[getter]
    fn static_config(&self, py: Python<'_>) -> PyResult<StaticConfigRequestResponse> {
        let c = self.service.static_config();
        let r = c.response.as_ref().expect("a request-response service records its response side");
        Ok(StaticConfigRequestResponse {
            max_clients: c.max_clients(),
            max_servers: c.max_servers(),
            max_nodes: c.max_nodes,
            max_active_requests_per_client: r.max_active_requests_per_client,
            max_loaned_requests: r.max_loaned_requests,
            max_response_buffer_size: r.max_response_buffer_size,
            max_borrowed_responses_per_pending_response: r.max_borrowed_responses_per_pending_response,
            has_safe_overflow_for_requests: c.enable_safe_overflow,
            has_safe_overflow_for_responses: r.enable_safe_overflow,
            does_support_fire_and_forget_requests: r.enable_fire_and_forget,
            request_type: Py::new(py, TypeDetailView::of(&c.payload))?,
            response_type: Py::new(py, TypeDetailView::of(&r.payload))?,
        })
    }
}

/// The ports of a request-response service now.
#[pyclass(module = "icefloe", frozen)]
pub struct DynamicConfigRequestResponse {
    #[pyo3(get)]
    number_of_clients: u32,
    #[pyo3(get)]
    number_of_servers: u32,
}

/// Configures a client.
#[pyclass(module = "icefloe", unsendable)]
pub struct PortFactoryClient {
    service: Service,
    request: PayloadType,
    response: PayloadType,
    initial: Option<u32>,
    max_slice_len: Option<u32>,
    strategy: Option<AllocationStrategy>,
    backpressure: Option<BackpressureStrategy>,
    prealloc: Option<u32>,
    port_name: PortName,
    max_active: Option<u32>,
}

#[pymethods]
impl PortFactoryClient {
    /// Requests this client may have pending at once (at most the service's
    /// `max_active_requests_per_client`, at least 1).
    fn max_active_requests(mut slf: PyRefMut<'_, Self>, value: u32) -> PyRefMut<'_, Self> {
        slf.max_active = Some(value);
        slf
    }
    /// Preallocates at most `value` requests.
    fn override_request_preallocation(mut slf: PyRefMut<'_, Self>, value: u32) -> PyRefMut<'_, Self> {
        slf.prealloc = Some(value);
        slf
    }
    /// Creates the client; raises `ClientCreateError`.
    fn create(&self, py: Python<'_>) -> PyResult<Client> {
        let mut b = self.service.client_builder();
        if let Some(n) = self.initial {
            b = b.initial_max_slice_len(n);
        }
        if let Some(n) = self.max_slice_len {
            b = b.max_slice_len(n);
        }
        if let Some(s) = self.strategy {
            b = b.allocation_strategy(s.into());
        }
        if let Some(s) = self.backpressure {
            b = b.backpressure_strategy(s.into());
        }
        if let Some(n) = self.prealloc {
            b = b.override_request_preallocation(|worst| n.min(worst));
        }
        if let Some(n) = self.max_active {
            b = b.max_active_requests(n);
        }
        let port = b.create().map_err(raise::<ClientCreateError>)?;
        Ok(Client {
            port: Some(Shared::new(port)),
            request: self.request.clone_ref(py),
            response: self.response.clone_ref(py),
            port_name: self.port_name.clone(),
            initial: self.initial.unwrap_or(1),
            backpressure: self.backpressure.unwrap_or(BackpressureStrategy::RetryUntilDelivered),
        })
    }
}

/// Configures a server.
#[pyclass(module = "icefloe", unsendable)]
pub struct PortFactoryServer {
    service: Service,
    request: PayloadType,
    response: PayloadType,
    initial: Option<u32>,
    max_slice_len: Option<u32>,
    strategy: Option<AllocationStrategy>,
    backpressure: Option<BackpressureStrategy>,
    loans: Option<u32>,
    prealloc: Option<u32>,
    port_name: PortName,
}

#[pymethods]
impl PortFactoryServer {
    /// Preallocates at most `value` responses.
    fn override_response_preallocation(mut slf: PyRefMut<'_, Self>, value: u32) -> PyRefMut<'_, Self> {
        slf.prealloc = Some(value);
        slf
    }
    /// Response loans an active request may have out at once.
    fn max_loaned_responses_per_request(mut slf: PyRefMut<'_, Self>, value: u32) -> PyRefMut<'_, Self> {
        slf.loans = Some(value);
        slf
    }
    /// Creates the server; raises `ServerCreateError`.
    fn create(&self, py: Python<'_>) -> PyResult<Server> {
        let mut b = self.service.server_builder();
        if let Some(n) = self.initial {
            b = b.initial_max_slice_len(n);
        }
        if let Some(n) = self.max_slice_len {
            b = b.max_slice_len(n);
        }
        if let Some(s) = self.strategy {
            b = b.allocation_strategy(s.into());
        }
        if let Some(s) = self.backpressure {
            b = b.backpressure_strategy(s.into());
        }
        if let Some(n) = self.loans {
            b = b.max_loaned_responses_per_request(n);
        }
        if let Some(n) = self.prealloc {
            b = b.override_response_preallocation(|worst| n.min(worst));
        }
        let port = b.create().map_err(raise::<ServerCreateError>)?;
        Ok(Server {
            port: Some(Shared::new(port)),
            request: self.request.clone_ref(py),
            response: self.response.clone_ref(py),
            port_name: self.port_name.clone(),
            backpressure: self.backpressure.unwrap_or(BackpressureStrategy::RetryUntilDelivered),
        })
    }
}

/// Sends requests to every server and receives their response streams.
#[pyclass(module = "icefloe", unsendable)]
pub struct Client {
    port: Option<Shared<ClientPort>>,
    request: PayloadType,
    response: PayloadType,
    port_name: PortName,
    initial: u32,
    backpressure: BackpressureStrategy,
}

impl Client {
    fn loan(&self, py: Python<'_>, n: usize) -> PyResult<RequestMutUninit> {
        let port = self.port()?;
        let c = ClientPort::loan_slice_uninit_via(port, n).map_err(raise::<LoanError>)?;
        Ok(RequestMutUninit {
            lease: Lease::new(py, State::RequestUninit(c), self.request.clone_ref(py), "RequestMutUninit", port.id())?,
            response: self.response.clone_ref(py),
        })
    }
}

impl Client {
    fn port(&self) -> PyResult<&Shared<ClientPort>> {
        self.port.as_ref().ok_or_else(|| released("Client", "deleted"))
    }
}

#[pymethods]
impl Client {
    /// The port's name, as given to its builder.
    #[getter]
    fn name(&self) -> PortName {
        self.port_name.clone()
    }
    /// The request length the client's first segment holds.
    fn initial_max_slice_len(&self) -> u32 {
        self.initial
    }
    /// Requests this client may have pending at once.
    #[getter]
    fn max_active_requests(&self) -> PyResult<u32> {
        Ok(self.port()?.max_active_requests())
    }
    /// What the client does when a server's queue is full.
    #[getter]
    fn backpressure_strategy(&self) -> BackpressureStrategy {
        self.backpressure
    }
    /// Loans a request of one fixed-size value; raises `LoanError`.
    fn loan_uninit(&self, py: Python<'_>) -> PyResult<RequestMutUninit> {
        if self.request.is_slice() {
            return Err(PyTypeError::new_err("this service's requests are slices: use loan_slice_uninit(n)"));
        }
        self.loan(py, 1)
    }

    /// Loans a request of `number_of_elements` elements (growing the
    /// client's memory by its allocation strategy); raises `LoanError`.
    fn loan_slice_uninit(&self, py: Python<'_>, number_of_elements: usize) -> PyResult<RequestMutUninit> {
        if !self.request.is_slice() {
            return Err(PyTypeError::new_err("this service's requests are fixed-size: use loan_uninit()"));
        }
        self.loan(py, number_of_elements)
    }

    /// Sends a copy of `value` (a ctypes value of the request type);
    /// raises `LoanError` or `RequestSendError`.
    fn send_copy(&self, py: Python<'_>, value: Bound<'_, PyAny>) -> PyResult<PendingResponse> {
        let n = if self.request.is_slice() {
            py.import("icefloe._payload")?
                .call_method1("slice_len", (&value, self.request.element.bind(py)))?
                .extract()?
        } else {
            1
        };
        let mut loan = self.loan(py, n)?;
        loan.lease.write(py, &value)?;
        let mut request = loan.assume_init(py)?;
        request.send(py)
    }

    /// The client's unique id.
    #[getter]
    fn id(&self) -> PyResult<UniqueClientId> {
        Ok(UniqueClientId(self.port()?.id()))
    }

    /// Releases the client now (its pending responses keep it until they go).
    fn delete(&mut self) {
        self.port = None;
    }
}

/// A request loan whose payload is not yet written.
#[pyclass(module = "icefloe", unsendable)]
pub struct RequestMutUninit {
    lease: Lease,
    response: PayloadType,
}

#[pymethods]
impl RequestMutUninit {
    /// Declares the payload written: the loan becomes a `RequestMut`.
    fn assume_init(&mut self, py: Python<'_>) -> PyResult<RequestMut> {
        let state = self.lease.take_for_init(py)?;
        let State::RequestUninit(c) = state else { unreachable!("a request loan holds a request") };
        // SAFETY: the payload lies in shared memory, mapped from a file:
        // every byte is initialized (zero when new, else what was there),
        // and any bytes are a valid payload of a runtime-typed service.
        let init = unsafe { c.assume_init() };
        let lease = self.lease.pass_on(py, "consumed by assume_init()", "RequestMut");
        lease.chunk.borrow_mut(py).put(State::RequestMut(init));
        Ok(RequestMut { lease, response: self.response.clone_ref(py) })
    }
    /// Writes `value` (a ctypes value of the request type) and returns the
    /// written `RequestMut`.
    fn write_payload(&mut self, py: Python<'_>, value: Bound<'_, PyAny>) -> PyResult<RequestMut> {
        self.lease.write(py, &value)?;
        self.assume_init(py)
    }
    /// Gives the loan back unsent.
    fn delete(&mut self, py: Python<'_>) {
        self.lease.delete(py);
    }
}

/// A written request loan: change it, `send()` it.
#[pyclass(module = "icefloe", unsendable)]
pub struct RequestMut {
    lease: Lease,
    response: PayloadType,
}

#[pymethods]
impl RequestMut {
    /// Sends the request to every connected server; returns the
    /// `PendingResponse` that receives its responses. Raises
    /// `RequestSendError`, `BufferError` while a memoryview of the payload
    /// is alive, `ReleasedObjectError` when already sent.
    fn send(&mut self, py: Python<'_>) -> PyResult<PendingResponse> {
        let state = self.lease.take(py, "sent")?;
        let State::RequestMut(r) = state else { unreachable!("a written request loan holds a request") };
        let pending = Shared::new(r.send().map_err(raise::<RequestSendError>)?);
        let request = self.lease.ty.clone_ref(py);
        let origin = self.lease.origin;
        Ok(PendingResponse {
            lease: Lease::new(py, State::Sent(pending.clone()), request, "PendingResponse", origin)?,
            pending: Some(pending),
            response: self.response.clone_ref(py),
        })
    }
    /// Gives the loan back unsent.
    fn delete(&mut self, py: Python<'_>) {
        self.lease.delete(py);
    }
}

/// A sent request: receives its stream of responses. Deleting it (or
/// dropping the last reference) tells the servers nobody listens.
#[pyclass(module = "icefloe", unsendable)]
pub struct PendingResponse {
    /// The sent request, to read.
    lease: Lease,
    pending: Option<Shared<Pending>>,
    response: PayloadType,
}

impl PendingResponse {
    fn get(&self) -> PyResult<&Shared<Pending>> {
        self.pending.as_ref().ok_or_else(|| released("PendingResponse", "deleted"))
    }
}

#[pymethods]
impl PendingResponse {
    /// The next response, or `None`; raises `ReceiveError`.
    fn receive(&self, py: Python<'_>) -> PyResult<Option<Response>> {
        let p = self.get()?;
        let Some(r) = Pending::receive_via(p).map_err(raise::<ReceiveError>)? else { return Ok(None) };
        let origin = r.origin();
        Ok(Some(Response {
            lease: Lease::new(py, State::Response(r), self.response.clone_ref(py), "Response", origin)?,
        }))
    }
    /// Whether a response is waiting.
    #[getter]
    fn has_response(&self) -> PyResult<bool> {
        Ok(self.get()?.has_response())
    }
    /// Whether the server side still answers (its `ActiveRequest` lives).
    #[getter]
    fn is_connected(&self) -> PyResult<bool> {
        Ok(self.get()?.is_connected())
    }
    /// How many servers the request reached.
    #[getter]
    fn number_of_server_connections(&self) -> PyResult<usize> {
        Ok(self.get()?.number_of_server_connections())
    }
    /// Asks the servers to end the response stream (they see
    /// `has_disconnect_hint`); responses still arrive until they do.
    fn set_disconnect_hint(&self) -> PyResult<()> {
        self.get()?.set_disconnect_hint();
        Ok(())
    }
    /// Ends the request: servers see `is_connected` turn false (once no
    /// memoryview of the request is left).
    fn delete(&mut self, py: Python<'_>) {
        self.pending = None;
        self.lease.delete(py);
    }
}

/// A received response (read-only).
#[pyclass(module = "icefloe", unsendable)]
pub struct Response {
    lease: Lease,
}

#[pymethods]
impl Response {
    /// The sending server's id.
    #[getter]
    fn origin(&self, py: Python<'_>) -> PyResult<UniqueServerId> {
        Ok(UniqueServerId(self.lease.header(py)?.1))
    }
    /// Returns the response's memory to its server (after the last
    /// memoryview of it goes).
    fn delete(&mut self, py: Python<'_>) {
        self.lease.delete(py);
    }
}

/// Receives requests.
#[pyclass(module = "icefloe", unsendable)]
pub struct Server {
    port: Option<Shared<ServerPort>>,
    request: PayloadType,
    response: PayloadType,
    port_name: PortName,
    backpressure: BackpressureStrategy,
}

impl Server {
    fn port(&self) -> PyResult<&Shared<ServerPort>> {
        self.port.as_ref().ok_or_else(|| released("Server", "deleted"))
    }
}

#[pymethods]
impl Server {
    /// The port's name, as given to its builder.
    #[getter]
    fn name(&self) -> PortName {
        self.port_name.clone()
    }
    /// What the server does when a client's response queue is full.
    #[getter]
    fn backpressure_strategy(&self) -> BackpressureStrategy {
        self.backpressure
    }
    /// The next request, or `None`; raises `ReceiveError`.
    fn receive(&self, py: Python<'_>) -> PyResult<Option<ActiveRequest>> {
        let Some(a) = ServerPort::receive_via(self.port()?).map_err(raise::<ReceiveError>)? else { return Ok(None) };
        let origin = a.origin();
        let active = Shared::new(a);
        Ok(Some(ActiveRequest {
            lease: Lease::new(py, State::Request(active.clone()), self.request.clone_ref(py), "ActiveRequest", origin)?,
            active: Some(active),
            server_id: self.port()?.id(),
            response: self.response.clone_ref(py),
        }))
    }
    /// Whether a request is waiting.
    #[getter]
    fn has_requests(&self) -> PyResult<bool> {
        Ok(self.port()?.has_requests())
    }
    /// The server's unique id.
    #[getter]
    fn id(&self) -> PyResult<UniqueServerId> {
        Ok(UniqueServerId(self.port()?.id()))
    }
    /// Releases the server now (its active requests keep it until they go).
    fn delete(&mut self) {
        self.port = None;
    }
}

/// A request a server took: read it, answer with any number of responses;
/// deleting it (or dropping the last reference) ends the stream.
#[pyclass(module = "icefloe", unsendable)]
pub struct ActiveRequest {
    lease: Lease,
    active: Option<Shared<Active>>,
    server_id: u64,
    response: PayloadType,
}

impl ActiveRequest {
    fn get(&self, py: Python<'_>) -> PyResult<&Shared<Active>> {
        self.lease.check(py)?;
        self.active.as_ref().ok_or_else(|| released("ActiveRequest", "deleted"))
    }

    fn loan(&self, py: Python<'_>, n: usize) -> PyResult<ResponseMutUninit> {
        let c = Active::loan_slice_uninit_via(self.get(py)?, n).map_err(raise::<LoanError>)?;
        Ok(ResponseMutUninit {
            lease: Lease::new(
                py,
                State::ResponseUninit(c),
                self.response.clone_ref(py),
                "ResponseMutUninit",
                self.server_id,
            )?,
        })
    }
}

#[pymethods]
impl ActiveRequest {
    /// Loans a response of one fixed-size value; raises `LoanError`.
    fn loan_uninit(&self, py: Python<'_>) -> PyResult<ResponseMutUninit> {
        if self.response.is_slice() {
            return Err(PyTypeError::new_err("this service's responses are slices: use loan_slice_uninit(n)"));
        }
        self.loan(py, 1)
    }
    /// Loans a response of `number_of_elements` elements; raises `LoanError`.
    fn loan_slice_uninit(&self, py: Python<'_>, number_of_elements: usize) -> PyResult<ResponseMutUninit> {
        if !self.response.is_slice() {
            return Err(PyTypeError::new_err("this service's responses are fixed-size: use loan_uninit()"));
        }
        self.loan(py, number_of_elements)
    }
    /// Sends a copy of `value` as a response; raises `LoanError`, `SendError`.
    fn send_copy(&self, py: Python<'_>, value: Bound<'_, PyAny>) -> PyResult<()> {
        let n = if self.response.is_slice() {
            py.import("icefloe._payload")?
                .call_method1("slice_len", (&value, self.response.element.bind(py)))?
                .extract()?
        } else {
            1
        };
        let mut loan = self.loan(py, n)?;
        loan.lease.write(py, &value)?;
        loan.assume_init(py)?.send(py)
    }
    /// Whether the client still listens (its `PendingResponse` lives).
    #[getter]
    fn is_connected(&self, py: Python<'_>) -> PyResult<bool> {
        Ok(self.get(py)?.is_connected())
    }
    /// Whether the client asked for the response stream to end.
    #[getter]
    fn has_disconnect_hint(&self, py: Python<'_>) -> PyResult<bool> {
        Ok(self.get(py)?.has_disconnect_hint())
    }
    /// The requesting client's id.
    #[getter]
    fn origin(&self, py: Python<'_>) -> PyResult<UniqueClientId> {
        Ok(UniqueClientId(self.lease.header(py)?.1))
    }
    /// Ends the response stream (loans already made may still be sent).
    fn delete(&mut self, py: Python<'_>) {
        self.active = None;
        self.lease.delete(py);
    }
}

/// A response loan whose payload is not yet written.
#[pyclass(module = "icefloe", unsendable)]
pub struct ResponseMutUninit {
    lease: Lease,
}

#[pymethods]
impl ResponseMutUninit {
    /// Declares the payload written: the loan becomes a `ResponseMut`.
    fn assume_init(&mut self, py: Python<'_>) -> PyResult<ResponseMut> {
        let state = self.lease.take_for_init(py)?;
        let State::ResponseUninit(c) = state else { unreachable!("a response loan holds a response") };
        // SAFETY: as for requests: shared memory from a mapped file is
        // initialized bytes, and any bytes are a valid runtime-typed payload.
        let init = unsafe { c.assume_init() };
        let lease = self.lease.pass_on(py, "consumed by assume_init()", "ResponseMut");
        lease.chunk.borrow_mut(py).put(State::ResponseMut(init));
        Ok(ResponseMut { lease })
    }
    /// Writes `value` and returns the written `ResponseMut`.
    fn write_payload(&mut self, py: Python<'_>, value: Bound<'_, PyAny>) -> PyResult<ResponseMut> {
        self.lease.write(py, &value)?;
        self.assume_init(py)
    }
    /// Gives the loan back unsent.
    fn delete(&mut self, py: Python<'_>) {
        self.lease.delete(py);
    }
}

/// A written response loan: change it, `send()` it.
#[pyclass(module = "icefloe", unsendable)]
pub struct ResponseMut {
    lease: Lease,
}

#[pymethods]
impl ResponseMut {
    /// Sends the response to the request's client. Raises `SendError`,
    /// `BufferError` while a memoryview of the payload is alive,
    /// `ReleasedObjectError` when already sent.
    fn send(&mut self, py: Python<'_>) -> PyResult<()> {
        let state = self.lease.take(py, "sent")?;
        let State::ResponseMut(r) = state else { unreachable!("a written response loan holds a response") };
        r.send().map_err(raise::<SendError>)
    }
    /// Gives the loan back unsent.
    fn delete(&mut self, py: Python<'_>) {
        self.lease.delete(py);
    }
}

crate::lease::chunk_views!(
    RequestMutUninit,
    RequestMut,
    PendingResponse,
    ActiveRequest,
    ResponseMutUninit,
    ResponseMut,
    Response
);
crate::lease::chunk_headers!(RequestHeader, client_id, UniqueClientId: RequestMutUninit, RequestMut, PendingResponse, ActiveRequest);
crate::lease::chunk_headers!(ResponseHeader, server_id, UniqueServerId: ResponseMutUninit, ResponseMut, Response);
crate::lease::port_name_setter!(PortFactoryClient, PortFactoryServer);
crate::lease::sending_port_knobs!(PortFactoryClient, request);
crate::lease::sending_port_knobs!(PortFactoryServer, response);

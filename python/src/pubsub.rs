//! Publish-subscribe: the service builder, its port factories, publishers,
//! subscribers, loans and samples.

use crate::basics::{
    Alignment, AllocationStrategy, BackpressureStrategy, Duration, HeaderPublishSubscribe, PortName, ServiceName,
    UniquePublisherId,
};
use crate::chunk::{Bytes, Header, PublishSubscribeService, PublisherPort, State, SubscriberPort};
use crate::errors::*;
use crate::lease::Lease;
use crate::node::Node;
use crate::reqres::knobs;
use crate::types::{PayloadType, TypeDetailView};
use icefloe_linux::Shared;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

type Service = PublishSubscribeService;

/// Configures a publish-subscribe service (iceoryx2's knobs and defaults).
#[pyclass(module = "icefloe", unsendable)]
pub struct ServiceBuilderPublishSubscribe {
    node: Py<Node>,
    name: ServiceName,
    payload: PayloadType,
    max_publishers: Option<u32>,
    max_subscribers: Option<u32>,
    max_nodes: Option<u32>,
    history: Option<u32>,
    buffer: Option<u32>,
    borrowed: Option<u32>,
    overflow: Option<bool>,
    alignment: Option<Alignment>,
}

impl ServiceBuilderPublishSubscribe {
    pub fn new(node: Py<Node>, name: ServiceName, payload: PayloadType) -> Self {
        Self {
            node,
            name,
            payload,
            max_publishers: None,
            max_subscribers: None,
            max_nodes: None,
            history: None,
            buffer: None,
            borrowed: None,
            overflow: None,
            alignment: None,
        }
    }

    fn with<R>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(icefloe_linux::PublishSubscribeBuilder<'_, Bytes, Header>) -> R,
    ) -> (R, PayloadType) {
        let node = self.node.borrow(py);
        let mut b = node
            .node
            .service_builder(&self.name.0)
            .publish_subscribe::<Bytes>()
            .payload_type_detail(self.payload.detail.clone())
            .user_header::<Header>()
            .user_header_type_detail(self.payload.header_detail.clone());
        macro_rules! set {
            ($($field:ident => $m:ident),*) => {$(if let Some(v) = self.$field { b = b.$m(v); })*};
        }
        set!(max_publishers => max_publishers, max_subscribers => max_subscribers, max_nodes => max_nodes,
            history => history_size, buffer => subscriber_max_buffer_size,
            borrowed => subscriber_max_borrowed_samples, overflow => enable_safe_overflow);
        if let Some(a) = self.alignment {
            b = b.payload_alignment(a.0);
        }
        (f(b), self.payload.clone_ref(py))
    }
}

knobs!(ServiceBuilderPublishSubscribe {
    max_publishers: max_publishers: u32,
    max_subscribers: max_subscribers: u32,
    max_nodes: max_nodes: u32,
    history_size: history: u32,
    subscriber_max_buffer_size: buffer: u32,
    subscriber_max_borrowed_samples: borrowed: u32,
    enable_safe_overflow: overflow: bool,
});

#[pymethods]
impl ServiceBuilderPublishSubscribe {
    /// The payload's alignment, at least its type's (for SIMD, DMA).
    fn payload_alignment(mut slf: PyRefMut<'_, Self>, value: Alignment) -> PyRefMut<'_, Self> {
        slf.alignment = Some(value);
        slf
    }

    /// A user header of ctypes type `t` in every sample (default none).
    fn user_header<'py>(mut slf: PyRefMut<'py, Self>, t: Bound<'py, PyAny>) -> PyResult<PyRefMut<'py, Self>> {
        slf.payload.set_header(&t)?;
        Ok(slf)
    }

    /// Creates the service; raises `PublishSubscribeCreateError`.
    fn create(&self, py: Python<'_>) -> PyResult<PortFactoryPublishSubscribe> {
        let (r, payload) = self.with(py, |b| b.create());
        Ok(PortFactoryPublishSubscribe { service: r.map_err(raise::<PublishSubscribeCreateError>)?, payload })
    }

    /// Opens the service; raises `PublishSubscribeOpenError`.
    fn open(&self, py: Python<'_>) -> PyResult<PortFactoryPublishSubscribe> {
        let (r, payload) = self.with(py, |b| b.open());
        Ok(PortFactoryPublishSubscribe { service: r.map_err(raise::<PublishSubscribeOpenError>)?, payload })
    }

    /// Opens the service, or creates it; raises `PublishSubscribeOpenOrCreateError`.
    fn open_or_create(&self, py: Python<'_>) -> PyResult<PortFactoryPublishSubscribe> {
        let (r, payload) = self.with(py, |b| b.open_or_create());
        let service = r.map_err(|e| match e {
            icefloe_linux::ServiceOpenOrCreateError::Open(e) => raise::<PublishSubscribeOpenOrCreateError>(e),
            icefloe_linux::ServiceOpenOrCreateError::Create(e) => raise::<PublishSubscribeOpenOrCreateError>(e),
            e => raise::<PublishSubscribeOpenOrCreateError>(e),
        })?;
        Ok(PortFactoryPublishSubscribe { service, payload })
    }
}

/// An open publish-subscribe service: makes publishers and subscribers.
#[pyclass(module = "icefloe", unsendable)]
pub struct PortFactoryPublishSubscribe {
    service: Service,
    payload: PayloadType,
}

/// The static configuration of a publish-subscribe service.
#[pyclass(module = "icefloe", frozen)]
pub struct StaticConfigPublishSubscribe {
    #[pyo3(get)]
    max_publishers: u32,
    #[pyo3(get)]
    max_subscribers: u32,
    #[pyo3(get)]
    max_nodes: u32,
    #[pyo3(get)]
    history_size: u32,
    #[pyo3(get)]
    subscriber_max_buffer_size: u32,
    #[pyo3(get)]
    subscriber_max_borrowed_samples: u32,
    #[pyo3(get)]
    has_safe_overflow: bool,
    #[pyo3(get)]
    payload_type: Py<TypeDetailView>,
}

#[pymethods]
impl PortFactoryPublishSubscribe {
    /// Starts building a publisher.
    fn publisher_builder(&self, py: Python<'_>) -> PortFactoryPublisher {
        PortFactoryPublisher {
            service: self.service.clone(),
            payload: self.payload.clone_ref(py),
            max_loaned: None,
            initial: None,
            max_slice_len: None,
            strategy: None,
            backpressure: None,
            prealloc: None,
            port_name: PortName::default(),
        }
    }

    /// Starts building a subscriber.
    fn subscriber_builder(&self, py: Python<'_>) -> PortFactorySubscriber {
        PortFactorySubscriber {
            service: self.service.clone(),
            payload: self.payload.clone_ref(py),
            port_name: PortName::default(),
            history: None,
        }
    }

    /// The ports of the service now, in every process.
    #[getter]
    fn dynamic_config(&self) -> DynamicConfigPublishSubscribe {
        DynamicConfigPublishSubscribe {
            number_of_publishers: self.service.number_of_publishers(),
            number_of_subscribers: self.service.number_of_subscribers(),
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
    fn static_config(&self, py: Python<'_>) -> PyResult<StaticConfigPublishSubscribe> {
        let c = self.service.static_config();
        Ok(StaticConfigPublishSubscribe {
            max_publishers: c.max_publishers,
            max_subscribers: c.max_subscribers,
            max_nodes: c.max_nodes,
            history_size: c.history_size,
            subscriber_max_buffer_size: c.subscriber_max_buffer_size,
            subscriber_max_borrowed_samples: c.subscriber_max_borrowed_samples,
            has_safe_overflow: c.enable_safe_overflow,
            payload_type: Py::new(py, TypeDetailView::of(&c.payload))?,
        })
    }
}

/// The ports of a publish-subscribe service now.
#[pyclass(module = "icefloe", frozen)]
pub struct DynamicConfigPublishSubscribe {
    #[pyo3(get)]
    number_of_publishers: u32,
    #[pyo3(get)]
    number_of_subscribers: u32,
}

/// Configures a publisher.
#[pyclass(module = "icefloe", unsendable)]
pub struct PortFactoryPublisher {
    service: Service,
    payload: PayloadType,
    max_loaned: Option<u32>,
    initial: Option<u32>,
    max_slice_len: Option<u32>,
    strategy: Option<AllocationStrategy>,
    backpressure: Option<BackpressureStrategy>,
    prealloc: Option<u32>,
    port_name: PortName,
}

#[pymethods]
impl PortFactoryPublisher {
    /// Preallocates at most `value` samples (fewer than the QoS's worst case
    /// saves memory; a loan may then fail while subscribers hold many).
    fn override_sample_preallocation(mut slf: PyRefMut<'_, Self>, value: u32) -> PyRefMut<'_, Self> {
        slf.prealloc = Some(value);
        slf
    }
    /// Loans the publisher may have out at once (default 2).
    fn max_loaned_samples(mut slf: PyRefMut<'_, Self>, value: u32) -> PyRefMut<'_, Self> {
        slf.max_loaned = Some(value);
        slf
    }
    /// Creates the publisher; raises `PublisherCreateError`.
    fn create(&self, py: Python<'_>) -> PyResult<Publisher> {
        let mut b = self.service.publisher_builder();
        if let Some(n) = self.max_loaned {
            b = b.max_loaned_samples(n);
        }
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
            b = b.override_sample_preallocation(|worst| n.min(worst));
        }
        let port = b.create().map_err(raise::<PublisherCreateError>)?;
        Ok(Publisher {
            port: Some(Shared::new(port)),
            payload: self.payload.clone_ref(py),
            port_name: self.port_name.clone(),
            initial: self.initial.unwrap_or(1),
            backpressure: self.backpressure.unwrap_or(BackpressureStrategy::RetryUntilDelivered),
        })
    }
}

/// Configures a subscriber.
#[pyclass(module = "icefloe", unsendable)]
pub struct PortFactorySubscriber {
    service: Service,
    payload: PayloadType,
    port_name: PortName,
    history: Option<u32>,
}

#[pymethods]
impl PortFactorySubscriber {
    /// Samples of each publisher's history wanted on connect (default: the
    /// service's `history_size`; at most that).
    fn history_request(mut slf: PyRefMut<'_, Self>, value: u32) -> PyRefMut<'_, Self> {
        slf.history = Some(value);
        slf
    }

    /// Creates the subscriber; raises `SubscriberCreateError`.
    fn create(&self, py: Python<'_>) -> PyResult<Subscriber> {
        let mut b = self.service.subscriber_builder();
        if let Some(n) = self.history {
            b = b.history_request(n);
        }
        let port = b.create().map_err(raise::<SubscriberCreateError>)?;
        Ok(Subscriber {
            port: Some(Shared::new(port)),
            payload: self.payload.clone_ref(py),
            port_name: self.port_name.clone(),
        })
    }
}

/// Sends samples to every subscriber.
#[pyclass(module = "icefloe", unsendable)]
pub struct Publisher {
    port: Option<Shared<PublisherPort>>,
    payload: PayloadType,
    port_name: PortName,
    initial: u32,
    backpressure: BackpressureStrategy,
}

impl Publisher {
    fn loan(&self, py: Python<'_>, n: usize) -> PyResult<SampleMutUninit> {
        let port = self.port()?;
        let c = PublisherPort::loan_slice_uninit_via(port, n).map_err(raise::<LoanError>)?;
        Ok(SampleMutUninit {
            lease: Lease::new(py, State::SampleUninit(c), self.payload.clone_ref(py), "SampleMutUninit", port.id())?,
        })
    }
}

impl Publisher {
    fn port(&self) -> PyResult<&Shared<PublisherPort>> {
        self.port.as_ref().ok_or_else(|| released("Publisher", "deleted"))
    }
}

#[pymethods]
impl Publisher {
    /// The port's name, as given to its builder.
    #[getter]
    fn name(&self) -> PortName {
        self.port_name.clone()
    }
    /// The slice length the publisher's first segment holds.
    #[getter]
    fn initial_max_slice_len(&self) -> u32 {
        self.initial
    }
    /// What the publisher does when a subscriber's queue is full.
    #[getter]
    fn backpressure_strategy(&self) -> BackpressureStrategy {
        self.backpressure
    }
    /// Loans a sample of one fixed-size value; raises `LoanError`.
    fn loan_uninit(&self, py: Python<'_>) -> PyResult<SampleMutUninit> {
        if self.payload.is_slice() {
            return Err(PyTypeError::new_err("this service's payload is a slice: use loan_slice_uninit(n)"));
        }
        self.loan(py, 1)
    }
    /// Loans a sample of `number_of_elements` elements; raises `LoanError`.
    fn loan_slice_uninit(&self, py: Python<'_>, number_of_elements: usize) -> PyResult<SampleMutUninit> {
        if !self.payload.is_slice() {
            return Err(PyTypeError::new_err("this service's payload is fixed-size: use loan_uninit()"));
        }
        self.loan(py, number_of_elements)
    }
    /// Sends a copy of `value`; returns the subscribers reached. Raises
    /// `LoanError`, `SendError`.
    fn send_copy(&self, py: Python<'_>, value: Bound<'_, PyAny>) -> PyResult<usize> {
        let n = if self.payload.is_slice() {
            py.import("icefloe._payload")?
                .call_method1("slice_len", (&value, self.payload.element.bind(py)))?
                .extract()?
        } else {
            1
        };
        let mut loan = self.loan(py, n)?;
        loan.lease.write(py, &value)?;
        loan.assume_init(py)?.send(py)
    }
    /// Connects subscribers that arrived since the last loan or send.
    fn update_connections(&self) {
        if let Ok(p) = self.port() {
            p.update_connections();
        }
    }
    /// The publisher's unique id.
    #[getter]
    fn id(&self) -> PyResult<UniquePublisherId> {
        Ok(UniquePublisherId(self.port()?.id()))
    }
    /// Releases the publisher now (its loans keep it until they go).
    fn delete(&mut self) {
        self.port = None;
    }
}

/// A sample loan whose payload is not yet written.
#[pyclass(module = "icefloe", unsendable)]
pub struct SampleMutUninit {
    lease: Lease,
}

#[pymethods]
impl SampleMutUninit {
    /// Declares the payload written: the loan becomes a `SampleMut`.
    fn assume_init(&mut self, py: Python<'_>) -> PyResult<SampleMut> {
        let state = self.lease.take_for_init(py)?;
        let State::SampleUninit(c) = state else { unreachable!("a sample loan holds a sample") };
        // SAFETY: shared memory from a mapped file is initialized bytes, and
        // any bytes are a valid payload of a runtime-typed service.
        let init = unsafe { c.assume_init() };
        let lease = self.lease.pass_on(py, "consumed by assume_init()", "SampleMut");
        lease.chunk.borrow_mut(py).put(State::SampleMut(init));
        Ok(SampleMut { lease })
    }
    /// Writes `value` and returns the written `SampleMut`.
    fn write_payload(&mut self, py: Python<'_>, value: Bound<'_, PyAny>) -> PyResult<SampleMut> {
        self.lease.write(py, &value)?;
        self.assume_init(py)
    }
    /// Gives the loan back unsent.
    fn delete(&mut self, py: Python<'_>) {
        self.lease.delete(py);
    }
}

/// A written sample loan: change it, `send()` it.
#[pyclass(module = "icefloe", unsendable)]
pub struct SampleMut {
    lease: Lease,
}

#[pymethods]
impl SampleMut {
    /// Sends the sample to every connected subscriber; returns how many.
    /// Raises `SendError`, `BufferError` while a memoryview of the payload
    /// is alive, `ReleasedObjectError` when already sent.
    fn send(&mut self, py: Python<'_>) -> PyResult<usize> {
        let state = self.lease.take(py, "sent")?;
        let State::SampleMut(s) = state else { unreachable!("a written sample loan holds a sample") };
        s.send().map_err(raise::<SendError>)
    }
    /// Gives the loan back unsent.
    fn delete(&mut self, py: Python<'_>) {
        self.lease.delete(py);
    }
}

/// Receives samples.
#[pyclass(module = "icefloe", unsendable)]
pub struct Subscriber {
    port: Option<Shared<SubscriberPort>>,
    payload: PayloadType,
    port_name: PortName,
}

impl Subscriber {
    fn port(&self) -> PyResult<&Shared<SubscriberPort>> {
        self.port.as_ref().ok_or_else(|| released("Subscriber", "deleted"))
    }
}

#[pymethods]
impl Subscriber {
    /// The subscriber's unique id.
    #[getter]
    fn id(&self) -> PyResult<crate::basics::UniqueSubscriberId> {
        Ok(crate::basics::UniqueSubscriberId(self.port()?.id()))
    }
    /// The port's name, as given to its builder.
    #[getter]
    fn name(&self) -> PortName {
        self.port_name.clone()
    }
    /// The next sample, or `None`; raises `ReceiveError`.
    fn receive(&self, py: Python<'_>) -> PyResult<Option<Sample>> {
        let Some(s) = SubscriberPort::receive_via(self.port()?).map_err(raise::<ReceiveError>)? else {
            return Ok(None);
        };
        let origin = s.origin();
        Ok(Some(Sample { lease: Lease::new(py, State::Sample(s), self.payload.clone_ref(py), "Sample", origin)? }))
    }
    /// Whether a sample is waiting.
    fn has_samples(&self) -> PyResult<bool> {
        Ok(self.port()?.has_samples())
    }
    /// Samples queued for this subscriber.
    #[getter]
    fn buffer_size(&self) -> PyResult<usize> {
        Ok(self.port()?.buffer_size())
    }
    /// Releases the subscriber now (its samples keep it until they go).
    fn delete(&mut self) {
        self.port = None;
    }
}

/// A received sample (read-only).
#[pyclass(module = "icefloe", unsendable)]
pub struct Sample {
    lease: Lease,
}

#[pymethods]
impl Sample {
    /// The sending publisher's id.
    #[getter]
    fn origin(&self, py: Python<'_>) -> PyResult<UniquePublisherId> {
        Ok(UniquePublisherId(self.lease.header(py)?.1))
    }
    /// Returns the sample to its publisher (after the last memoryview of
    /// it goes).
    fn delete(&mut self, py: Python<'_>) {
        self.lease.delete(py);
    }
}

crate::lease::chunk_views!(SampleMutUninit, SampleMut, Sample);
crate::lease::chunk_headers!(HeaderPublishSubscribe, publisher_id, UniquePublisherId: SampleMutUninit, SampleMut, Sample);
crate::lease::port_name_setter!(PortFactoryPublisher, PortFactorySubscriber);
crate::lease::sending_port_knobs!(PortFactoryPublisher, payload);

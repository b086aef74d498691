//! Events: the service builder, notifiers and listeners.

use crate::basics::{Duration, EventActivation, EventId, PortName, ServiceName, UniqueListenerId, UniqueNotifierId};
use crate::errors::*;
use crate::node::{Node, SameThread};
use icefloe_linux::Shared;
use pyo3::prelude::*;

/// Configures an event service (iceoryx2's knobs and defaults).
#[pyclass(module = "icefloe", unsendable)]
pub struct ServiceBuilderEvent {
    node: Py<Node>,
    name: ServiceName,
    max_notifiers: Option<u32>,
    max_listeners: Option<u32>,
    max_nodes: Option<u32>,
    event_id_max_value: Option<u32>,
    created: Option<Option<EventId>>,
    dropped: Option<Option<EventId>>,
    dead: Option<Option<EventId>>,
    deadline: Option<Option<Duration>>,
}

impl ServiceBuilderEvent {
    pub fn new(node: Py<Node>, name: ServiceName) -> Self {
        Self {
            node,
            name,
            max_notifiers: None,
            max_listeners: None,
            max_nodes: None,
            event_id_max_value: None,
            created: None,
            dropped: None,
            dead: None,
            deadline: None,
        }
    }

    fn with<R>(&self, py: Python<'_>, f: impl FnOnce(icefloe_linux::EventBuilder<'_>) -> R) -> R {
        let node = self.node.borrow(py);
        let mut b = node.node.service_builder(&self.name.0).event();
        macro_rules! set {
            ($($field:ident => $m:ident),*) => {$(if let Some(v) = self.$field { b = b.$m(v); })*};
        }
        set!(max_notifiers => max_notifiers, max_listeners => max_listeners, max_nodes => max_nodes,
            event_id_max_value => event_id_max_value);
        b = match self.created {
            Some(Some(id)) => b.notifier_created_event(id.0),
            Some(None) => b.disable_notifier_created_event(),
            None => b,
        };
        b = match self.dropped {
            Some(Some(id)) => b.notifier_dropped_event(id.0),
            Some(None) => b.disable_notifier_dropped_event(),
            None => b,
        };
        b = match self.dead {
            Some(Some(id)) => b.notifier_dead_event(id.0),
            Some(None) => b.disable_notifier_dead_event(),
            None => b,
        };
        b = match self.deadline {
            Some(Some(d)) => b.deadline(d.0),
            Some(None) => b.disable_deadline(),
            None => b,
        };
        f(b)
    }
}

crate::reqres::knobs!(ServiceBuilderEvent {
    max_notifiers: max_notifiers: u32,
    max_listeners: max_listeners: u32,
    max_nodes: max_nodes: u32,
    event_id_max_value: event_id_max_value: u32,
});

#[pymethods]
impl ServiceBuilderEvent {
    /// The event each new notifier emits.
    fn notifier_created_event(mut slf: PyRefMut<'_, Self>, value: EventId) -> PyRefMut<'_, Self> {
        slf.created = Some(Some(value));
        slf
    }
    /// No event when a notifier is created.
    fn disable_notifier_created_event(mut slf: PyRefMut<'_, Self>) -> PyRefMut<'_, Self> {
        slf.created = Some(None);
        slf
    }
    /// The event each notifier emits when it goes.
    fn notifier_dropped_event(mut slf: PyRefMut<'_, Self>, value: EventId) -> PyRefMut<'_, Self> {
        slf.dropped = Some(Some(value));
        slf
    }
    /// No event when a notifier goes.
    fn disable_notifier_dropped_event(mut slf: PyRefMut<'_, Self>) -> PyRefMut<'_, Self> {
        slf.dropped = Some(None);
        slf
    }
    /// The event emitted when a notifier is found dead.
    fn notifier_dead_event(mut slf: PyRefMut<'_, Self>, value: EventId) -> PyRefMut<'_, Self> {
        slf.dead = Some(Some(value));
        slf
    }
    /// No event when a notifier is found dead.
    fn disable_notifier_dead_event(mut slf: PyRefMut<'_, Self>) -> PyRefMut<'_, Self> {
        slf.dead = Some(None);
        slf
    }
    /// The longest time allowed between two notifications.
    fn deadline(mut slf: PyRefMut<'_, Self>, value: Duration) -> PyRefMut<'_, Self> {
        slf.deadline = Some(Some(value));
        slf
    }
    /// No deadline.
    fn disable_deadline(mut slf: PyRefMut<'_, Self>) -> PyRefMut<'_, Self> {
        slf.deadline = Some(None);
        slf
    }

    /// Creates the service; raises `EventCreateError`.
    fn create(&self, py: Python<'_>) -> PyResult<PortFactoryEvent> {
        Ok(PortFactoryEvent { service: self.with(py, |b| b.create()).map_err(raise::<EventCreateError>)? })
    }
    /// Opens the service; raises `EventOpenError`.
    fn open(&self, py: Python<'_>) -> PyResult<PortFactoryEvent> {
        Ok(PortFactoryEvent { service: self.with(py, |b| b.open()).map_err(raise::<EventOpenError>)? })
    }
    /// Opens the service, or creates it; raises `EventOpenOrCreateError`.
    fn open_or_create(&self, py: Python<'_>) -> PyResult<PortFactoryEvent> {
        let service = self.with(py, |b| b.open_or_create()).map_err(|e| match e {
            icefloe_linux::ServiceOpenOrCreateError::Open(e) => raise::<EventOpenOrCreateError>(e),
            icefloe_linux::ServiceOpenOrCreateError::Create(e) => raise::<EventOpenOrCreateError>(e),
            e => raise::<EventOpenOrCreateError>(e),
        })?;
        Ok(PortFactoryEvent { service })
    }
}

/// An open event service: makes notifiers and listeners.
#[pyclass(module = "icefloe", unsendable)]
pub struct PortFactoryEvent {
    service: icefloe_linux::Event,
}

/// The static configuration of an event service.
#[pyclass(module = "icefloe", frozen)]
pub struct StaticConfigEvent {
    #[pyo3(get)]
    max_notifiers: u32,
    #[pyo3(get)]
    max_listeners: u32,
    #[pyo3(get)]
    max_nodes: u32,
    #[pyo3(get)]
    event_id_max_value: u32,
    #[pyo3(get)]
    notifier_created_event: Option<EventId>,
    #[pyo3(get)]
    notifier_dropped_event: Option<EventId>,
    #[pyo3(get)]
    notifier_dead_event: Option<EventId>,
    #[pyo3(get)]
    deadline: Option<Duration>,
}

#[pymethods]
impl PortFactoryEvent {
    /// Starts building a notifier.
    fn notifier_builder(&self) -> PortFactoryNotifier {
        PortFactoryNotifier { service: self.service.clone(), default_id: None, port_name: PortName::default() }
    }
    /// Starts building a listener.
    fn listener_builder(&self) -> PortFactoryListener {
        PortFactoryListener { service: self.service.clone(), port_name: PortName::default() }
    }
    /// The ports of the service now, in every process.
    #[getter]
    fn dynamic_config(&self) -> DynamicConfigEvent {
        DynamicConfigEvent {
            number_of_notifiers: self.service.number_of_notifiers(),
            number_of_listeners: self.service.number_of_listeners(),
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
    fn static_config(&self) -> StaticConfigEvent {
        let s = &self.service;
        StaticConfigEvent {
            max_notifiers: s.max_notifiers(),
            max_listeners: s.max_listeners(),
            max_nodes: s.max_nodes(),
            event_id_max_value: s.event_id_max_value(),
            notifier_created_event: s.notifier_created_event().map(EventId),
            notifier_dropped_event: s.notifier_dropped_event().map(EventId),
            notifier_dead_event: s.notifier_dead_event().map(EventId),
            deadline: s.deadline().map(Duration),
        }
    }
}

/// The ports of an event service now.
#[pyclass(module = "icefloe", frozen)]
pub struct DynamicConfigEvent {
    #[pyo3(get)]
    number_of_notifiers: u32,
    #[pyo3(get)]
    number_of_listeners: u32,
}

/// Configures a notifier.
#[pyclass(module = "icefloe", unsendable)]
pub struct PortFactoryNotifier {
    service: icefloe_linux::Event,
    default_id: Option<EventId>,
    port_name: PortName,
}

#[pymethods]
impl PortFactoryNotifier {
    /// The id `notify()` sends (default 0).
    fn default_event_id(mut slf: PyRefMut<'_, Self>, value: EventId) -> PyRefMut<'_, Self> {
        slf.default_id = Some(value);
        slf
    }
    /// Creates the notifier; raises `NotifierCreateError`.
    fn create(&self) -> PyResult<Notifier> {
        let mut b = self.service.notifier_builder();
        if let Some(id) = self.default_id {
            b = b.default_event_id(id.0);
        }
        Ok(Notifier {
            port: Some(b.create().map_err(raise::<NotifierCreateError>)?),
            port_name: self.port_name.clone(),
        })
    }
}

/// Configures a listener.
#[pyclass(module = "icefloe", unsendable)]
pub struct PortFactoryListener {
    service: icefloe_linux::Event,
    port_name: PortName,
}

#[pymethods]
impl PortFactoryListener {
    /// Creates the listener; raises `ListenerCreateError`.
    fn create(&self) -> PyResult<Listener> {
        let port = self.service.listener_builder().create().map_err(raise::<ListenerCreateError>)?;
        Ok(Listener {
            port: Some(Shared::new(port)),
            port_name: self.port_name.clone(),
            deadline: self.service.deadline().map(Duration),
        })
    }
}

/// Wakes listeners.
#[pyclass(module = "icefloe", unsendable)]
pub struct Notifier {
    port: Option<icefloe_linux::Notifier>,
    port_name: PortName,
}

impl Notifier {
    fn get(&self) -> PyResult<&icefloe_linux::Notifier> {
        self.port.as_ref().ok_or_else(|| released("Notifier", "deleted"))
    }
}

#[pymethods]
impl Notifier {
    /// The port's name, as given to its builder.
    #[getter]
    fn name(&self) -> PortName {
        self.port_name.clone()
    }
    /// Notifies every listener with the default id; returns how many.
    /// Raises `NotifierNotifyError`.
    fn notify(&self) -> PyResult<usize> {
        self.get()?.notify().map_err(raise::<NotifierNotifyError>)
    }
    /// Notifies every listener with `event_id`; returns how many.
    fn notify_with_custom_event_id(&self, event_id: EventId) -> PyResult<usize> {
        self.get()?.notify_with_custom_event_id(event_id.0).map_err(raise::<NotifierNotifyError>)
    }
    /// The service's deadline, if any.
    #[getter]
    fn deadline(&self) -> PyResult<Option<Duration>> {
        Ok(self.get()?.deadline().map(Duration))
    }
    /// The notifier's unique id.
    #[getter]
    fn id(&self) -> PyResult<UniqueNotifierId> {
        Ok(UniqueNotifierId(self.get()?.id()))
    }
    /// Releases the notifier (listeners hear its dropped event, if any).
    fn delete(&mut self) {
        self.port = None;
    }
}

/// Sleeps until notified.
#[pyclass(module = "icefloe", unsendable)]
pub struct Listener {
    port: Option<Shared<icefloe_linux::Listener>>,
    port_name: PortName,
    deadline: Option<Duration>,
}

impl Listener {
    fn get(&self) -> PyResult<&Shared<icefloe_linux::Listener>> {
        self.port.as_ref().ok_or_else(|| released("Listener", "deleted"))
    }

    /// Another handle to the port, for a WaitSet that attaches it.
    pub fn handle(&self) -> PyResult<Shared<icefloe_linux::Listener>> {
        self.get().cloned()
    }
}

fn activations(list: Vec<icefloe_linux::EventActivation>) -> Vec<EventActivation> {
    list.into_iter().map(|a| EventActivation { id: EventId(a.id), count: a.count }).collect()
}

#[pymethods]
impl Listener {
    /// The port's name, as given to its builder.
    #[getter]
    fn name(&self) -> PortName {
        self.port_name.clone()
    }
    /// The service's deadline, if any.
    #[getter]
    fn deadline(&self) -> Option<Duration> {
        self.deadline
    }
    /// Every pending event, without waiting.
    fn try_wait(&self) -> PyResult<Vec<EventActivation>> {
        let mut got = Vec::new();
        self.get()?.try_wait(|a| got.push(a)).map_err(raise::<ListenerWaitError>)?;
        Ok(activations(got))
    }
    /// Waits at most `timeout` (GIL released), then every pending event;
    /// raises `ListenerWaitError` on Ctrl-C or SIGTERM.
    fn timed_wait(&self, py: Python<'_>, timeout: Duration) -> PyResult<Vec<EventActivation>> {
        let port = SameThread(self.get()?);
        let got = py.detach(move || {
            let port = port;
            let mut got = Vec::new();
            port.0.timed_wait(timeout.0, |a| got.push(a)).map(|_| SameThread(got))
        });
        Ok(activations(got.map_err(raise::<ListenerWaitError>)?.0))
    }
    /// Sleeps until events arrive (GIL released); raises
    /// `ListenerWaitError` on Ctrl-C or SIGTERM.
    fn blocking_wait(&self, py: Python<'_>) -> PyResult<Vec<EventActivation>> {
        let port = SameThread(self.get()?);
        let got = py.detach(move || {
            let port = port;
            let mut got = Vec::new();
            port.0.blocking_wait(|a| got.push(a)).map(|_| SameThread(got))
        });
        Ok(activations(got.map_err(raise::<ListenerWaitError>)?.0))
    }
    /// The listener's unique id.
    #[getter]
    fn id(&self) -> PyResult<UniqueListenerId> {
        Ok(UniqueListenerId(self.get()?.id()))
    }
    /// Releases the listener (a WaitSet it is attached to keeps it until
    /// detached).
    fn delete(&mut self) {
        self.port = None;
    }
}

crate::lease::port_name_setter!(PortFactoryNotifier, PortFactoryListener);

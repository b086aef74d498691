//! Nodes, and the service builders they hand out.

use crate::basics::{Duration, NodeName, ServiceName, ServiceType, SignalHandlingMode, UniqueNodeId};
use crate::errors::{raise, NodeCreationFailure, NodeWaitFailure};
use crate::event::ServiceBuilderEvent;
use crate::pubsub::ServiceBuilderPublishSubscribe;
use crate::reqres::ServiceBuilderRequestResponse;
use crate::types::PayloadType;
use pyo3::prelude::*;

/// Moves a value into a closure that runs with the GIL released, on this
/// same thread.
pub(crate) struct SameThread<T>(pub T);
// SAFETY: `Python::detach` runs its closure on the calling thread (it
// releases the GIL around it and takes it back); the value never reaches
// another thread. pyo3 asks for `Send` as a conservative stand-in.
unsafe impl<T> Send for SameThread<T> {}

/// Builds a [`Node`].
#[pyclass(module = "icefloe", unsendable, skip_from_py_object)]
#[derive(Clone)]
pub struct NodeBuilder {
    name: Option<NodeName>,
    mode: SignalHandlingMode,
    prefix: Option<String>,
}

#[pymethods]
impl NodeBuilder {
    /// A builder with defaults: no name, SIGINT/SIGTERM handled by icefloe.
    #[staticmethod]
    fn new() -> Self {
        Self { name: None, mode: SignalHandlingMode::HandleTerminationRequests, prefix: None }
    }

    /// The node's name (not necessarily unique).
    fn name(&self, value: NodeName) -> Self {
        Self { name: Some(value), ..self.clone() }
    }

    /// Whether icefloe takes over SIGINT and SIGTERM (the default), so that
    /// blocking calls end with their error, or leaves them to Python.
    fn signal_handling_mode(&self, value: SignalHandlingMode) -> Self {
        Self { mode: value, ..self.clone() }
    }

    /// The prefix of every shared-memory name the node makes and sees
    /// (`[A-Za-z0-9_]`, default `icefloe_`): nodes with different prefixes
    /// are isolated from each other, as separate iceoryx2 configs are.
    fn prefix(&self, value: String) -> Self {
        Self { prefix: Some(value), ..self.clone() }
    }

    /// Creates the node; raises `NodeCreationFailure`.
    #[pyo3(signature = (service_type = ServiceType::Ipc))]
    fn create(&self, py: Python<'_>, service_type: ServiceType) -> PyResult<Node> {
        let _ = service_type;
        if self.mode == SignalHandlingMode::HandleTerminationRequests {
            // Python's own SIGINT handler would turn the Ctrl-C that ends a
            // wait into a KeyboardInterrupt as well; icefloe's handler
            // replaces the default one (a handler the application set
            // stays, and is called after icefloe's).
            py.import("icefloe._signals")?.call_method0("take_over")?;
        }
        let mut b = icefloe_linux::NodeBuilder::new().signal_handling_mode(match self.mode {
            SignalHandlingMode::HandleTerminationRequests => {
                icefloe_linux::SignalHandlingMode::HandleTerminationRequests
            }
            SignalHandlingMode::Disabled => icefloe_linux::SignalHandlingMode::Disabled,
        });
        if let Some(n) = &self.name {
            b = b.name(n.0.clone());
        }
        if let Some(p) = self.prefix.clone().or_else(|| std::env::var("ICEFLOE_PREFIX").ok().filter(|p| !p.is_empty()))
        {
            b = b.prefix(&p).map_err(raise::<NodeCreationFailure>)?;
        }
        let node = b.create().map_err(raise::<NodeCreationFailure>)?;
        Ok(Node { node, mode: self.mode })
    }
}

/// One participant: registers itself, owns its services' handles, cleans up
/// what dead nodes left.
#[pyclass(module = "icefloe", unsendable)]
pub struct Node {
    pub(crate) node: icefloe_linux::Node,
    mode: SignalHandlingMode,
}

#[pymethods]
impl Node {
    /// Starts building the service `name`.
    fn service_builder(slf: Bound<'_, Self>, name: ServiceName) -> ServiceBuilder {
        ServiceBuilder { node: slf.unbind(), name }
    }

    /// Sleeps for `cycle_time` with the GIL released; raises
    /// `NodeWaitFailure('Interrupt')` on Ctrl-C and
    /// `NodeWaitFailure('TerminationRequest')` on SIGTERM.
    fn wait(&self, py: Python<'_>, cycle_time: Duration) -> PyResult<()> {
        let node = SameThread(&self.node);
        py.detach(move || {
            let node = node;
            node.0.wait(cycle_time.0)
        })
        .map_err(raise::<NodeWaitFailure>)
    }

    /// The node's name.
    #[getter]
    fn name(&self) -> NodeName {
        NodeName(self.node.name().clone())
    }

    /// The node's system-wide unique id.
    #[getter]
    fn id(&self) -> UniqueNodeId {
        UniqueNodeId(self.node.id())
    }

    /// How the node handles SIGINT and SIGTERM.
    #[getter]
    fn signal_handling_mode(&self) -> SignalHandlingMode {
        self.mode
    }

    /// Removes what dead nodes left (services, segments); returns how many
    /// dead nodes were cleaned up.
    fn try_cleanup_dead_nodes(&self) -> u32 {
        self.node.cleanup_dead_nodes().cleanups
    }

    /// As `try_cleanup_dead_nodes` (icefloe's cleanup does not wait on others).
    fn blocking_cleanup_dead_nodes(&self, timeout: Duration) -> u32 {
        let _ = timeout;
        self.node.cleanup_dead_nodes().cleanups
    }

    fn __repr__(&self) -> String {
        format!("Node(name={:?}, id={})", self.node.name().as_str(), self.node.id())
    }
}

/// Starts a service of a messaging pattern.
#[pyclass(module = "icefloe", unsendable)]
pub struct ServiceBuilder {
    node: Py<Node>,
    name: ServiceName,
}

#[pymethods]
impl ServiceBuilder {
    /// Publish-subscribe with payload type `t`: a ctypes type (`c_uint64`, a
    /// `ctypes.Structure`, …) or `Slice[ctype]`.
    fn publish_subscribe(&self, py: Python<'_>, t: Bound<'_, PyAny>) -> PyResult<ServiceBuilderPublishSubscribe> {
        let payload = PayloadType::describe(&t)?;
        Ok(ServiceBuilderPublishSubscribe::new(self.node.clone_ref(py), self.name.clone(), payload))
    }

    /// Request-response with request type `request` and response type
    /// `response`, each a ctypes type or `Slice[ctype]`.
    fn request_response(
        &self,
        py: Python<'_>,
        request: Bound<'_, PyAny>,
        response: Bound<'_, PyAny>,
    ) -> PyResult<ServiceBuilderRequestResponse> {
        let request = PayloadType::describe(&request)?;
        let response = PayloadType::describe(&response)?;
        Ok(ServiceBuilderRequestResponse::new(self.node.clone_ref(py), self.name.clone(), request, response))
    }

    /// Events: notifiers wake listeners with event ids.
    fn event(&self, py: Python<'_>) -> ServiceBuilderEvent {
        ServiceBuilderEvent::new(self.node.clone_ref(py), self.name.clone())
    }
}

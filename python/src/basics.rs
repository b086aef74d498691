//! Values: durations, names, event ids, the enums, the log level.

use crate::errors::{raise, SemanticStringError};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use std::sync::atomic::{AtomicU8, Ordering};

/// A time span (as `datetime.timedelta`, but with iceoryx2's constructors).
#[pyclass(module = "icefloe", frozen, eq, ord, hash, from_py_object)]
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(pub std::time::Duration);

fn non_negative(v: f64) -> PyResult<f64> {
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        Err(PyValueError::new_err(format!("a duration must be finite and not negative, got {v}")))
    }
}

#[pymethods]
impl Duration {
    /// A duration of `secs` seconds.
    #[staticmethod]
    fn from_secs(secs: u64) -> Self {
        Self(std::time::Duration::from_secs(secs))
    }
    /// A duration of `millis` milliseconds.
    #[staticmethod]
    fn from_millis(millis: u64) -> Self {
        Self(std::time::Duration::from_millis(millis))
    }
    /// A duration of `micros` microseconds.
    #[staticmethod]
    fn from_micros(micros: u64) -> Self {
        Self(std::time::Duration::from_micros(micros))
    }
    /// A duration of `nanos` nanoseconds.
    #[staticmethod]
    fn from_nanos(nanos: u64) -> Self {
        Self(std::time::Duration::from_nanos(nanos))
    }
    /// A duration of `secs` seconds, fractional.
    #[staticmethod]
    fn from_secs_f64(secs: f64) -> PyResult<Self> {
        Ok(Self(std::time::Duration::from_secs_f64(non_negative(secs)?)))
    }
    /// Whole seconds.
    fn as_secs(&self) -> u64 {
        self.0.as_secs()
    }
    /// Whole milliseconds.
    fn as_millis(&self) -> u128 {
        self.0.as_millis()
    }
    /// Whole microseconds.
    fn as_micros(&self) -> u128 {
        self.0.as_micros()
    }
    /// Nanoseconds.
    fn as_nanos(&self) -> u128 {
        self.0.as_nanos()
    }
    /// Seconds, fractional.
    fn as_secs_f64(&self) -> f64 {
        self.0.as_secs_f64()
    }
    /// The part below a second, in milliseconds.
    fn subsec_millis(&self) -> u32 {
        self.0.subsec_millis()
    }
    /// The part below a second, in microseconds.
    fn subsec_micros(&self) -> u32 {
        self.0.subsec_micros()
    }
    /// The part below a second, in nanoseconds.
    fn subsec_nanos(&self) -> u32 {
        self.0.subsec_nanos()
    }
    fn __repr__(&self) -> String {
        format!("Duration({:?})", self.0)
    }
}

/// Where a service's resources live: `Ipc` (shared memory, between
/// processes) or `Local` (one process; icefloe serves it from shared memory
/// too, under the node's own prefix).
#[pyclass(module = "icefloe", eq, eq_int, frozen, hash, from_py_object)]
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum ServiceType {
    /// Between processes.
    Ipc,
    /// Within one process.
    Local,
}

/// How a slice port grows its memory when a loan needs more than it has.
#[pyclass(module = "icefloe", eq, eq_int, frozen, hash, from_py_object)]
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum AllocationStrategy {
    /// Grow to the next power of two of what the loan needs.
    PowerOfTwo,
    /// Grow to exactly what the loan needs.
    BestFit,
    /// Never grow.
    Static,
}

impl From<AllocationStrategy> for icefloe_linux::AllocationStrategy {
    fn from(s: AllocationStrategy) -> Self {
        match s {
            AllocationStrategy::PowerOfTwo => Self::PowerOfTwo,
            AllocationStrategy::BestFit => Self::BestFit,
            AllocationStrategy::Static => Self::Static,
        }
    }
}

/// What a sender does when a receiver's queue is full and the service does
/// not overflow safely.
#[pyclass(module = "icefloe", eq, eq_int, frozen, hash, from_py_object)]
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum BackpressureStrategy {
    /// Drop the new data for that receiver.
    DiscardData,
    /// Wait until the receiver makes room.
    RetryUntilDelivered,
}

impl From<BackpressureStrategy> for icefloe_linux::BackpressureStrategy {
    fn from(s: BackpressureStrategy) -> Self {
        match s {
            BackpressureStrategy::DiscardData => Self::DiscardData,
            BackpressureStrategy::RetryUntilDelivered => Self::RetryUntilDelivered,
        }
    }
}

/// Whether a node takes over SIGINT and SIGTERM (the default), so that its
/// waits end with `NodeWaitFailure`, or leaves them to Python.
#[pyclass(module = "icefloe", eq, eq_int, frozen, hash, from_py_object)]
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum SignalHandlingMode {
    /// icefloe records Ctrl-C and SIGTERM; blocking calls end with their error.
    HandleTerminationRequests,
    /// Python keeps its handlers (Ctrl-C raises `KeyboardInterrupt`).
    Disabled,
}

/// The messaging patterns.
#[pyclass(module = "icefloe", eq, eq_int, frozen, hash, from_py_object)]
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum MessagingPattern {
    /// Publish-subscribe.
    PublishSubscribe,
    /// Request-response.
    RequestResponse,
    /// Events.
    Event,
}

/// Fixed-size payloads or slices of elements.
#[pyclass(module = "icefloe", eq, eq_int, frozen, hash, from_py_object)]
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum TypeVariant {
    /// One value per sample.
    FixedSize,
    /// A slice of elements whose length is chosen per loan.
    Dynamic,
}

/// Log levels, least to most severe.
#[pyclass(module = "icefloe", eq, eq_int, frozen, hash, ord, from_py_object)]
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum LogLevel {
    /// Everything.
    Trace,
    /// Debugging detail.
    Debug,
    /// Progress worth knowing.
    Info,
    /// Something unexpected that icefloe handled.
    Warn,
    /// An operation failed.
    Error,
    /// The process cannot go on.
    Fatal,
}

static LOG_LEVEL: AtomicU8 = AtomicU8::new(LogLevel::Info as u8);

const LEVELS: [LogLevel; 6] =
    [LogLevel::Trace, LogLevel::Debug, LogLevel::Info, LogLevel::Warn, LogLevel::Error, LogLevel::Fatal];

/// Sets the log level.
#[pyfunction]
pub fn set_log_level(value: LogLevel) {
    LOG_LEVEL.store(value as u8, Ordering::Relaxed);
}

/// The current log level.
#[pyfunction]
pub fn get_log_level() -> LogLevel {
    LEVELS[usize::from(LOG_LEVEL.load(Ordering::Relaxed)).min(5)]
}

/// Sets the log level from the environment variable `IOX2_LOG_LEVEL` (or
/// `ICEFLOE_LOG_LEVEL`: `trace`, `debug`, `info`, `warn`, `error`, `fatal`,
/// any case), else to `value`.
#[pyfunction]
pub fn set_log_level_from_env_or(value: LogLevel) {
    let from_env = ["ICEFLOE_LOG_LEVEL", "IOX2_LOG_LEVEL"].iter().find_map(|k| {
        let v = std::env::var(k).ok()?.to_ascii_lowercase();
        LEVELS.iter().copied().find(|l| format!("{l:?}").to_ascii_lowercase() == v)
    });
    set_log_level(from_env.unwrap_or(value));
}

/// As `set_log_level_from_env_or(LogLevel.Info)`.
#[pyfunction]
pub fn set_log_level_from_env_or_default() {
    set_log_level_from_env_or(LogLevel::Info);
}

/// A service's name: 1 to 255 bytes of UTF-8, no control characters.
#[pyclass(module = "icefloe", frozen, eq, hash, from_py_object)]
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ServiceName(pub icefloe_linux::ServiceName);

#[pymethods]
impl ServiceName {
    /// Checks and makes a name; raises `SemanticStringError`.
    #[staticmethod]
    fn new(name: &str) -> PyResult<Self> {
        icefloe_linux::ServiceName::new(name).map(Self).map_err(raise::<SemanticStringError>)
    }
    /// The longest name, in bytes.
    #[staticmethod]
    fn max_len() -> usize {
        icefloe_linux::icefloe_core::name::MAX_SERVICE_NAME_LEN
    }
    /// The name (iceoryx2's spelling of `str(name)`).
    #[allow(clippy::inherent_to_string)]
    fn to_string(&self) -> String {
        self.0.as_str().to_owned()
    }
    fn __str__(&self) -> String {
        self.0.as_str().to_owned()
    }
    fn __repr__(&self) -> String {
        format!("ServiceName({:?})", self.0.as_str())
    }
}

/// A node's name (may be empty; names need not be unique).
#[pyclass(module = "icefloe", frozen, eq, hash, from_py_object)]
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct NodeName(pub icefloe_linux::NodeName);

#[pymethods]
impl NodeName {
    /// Checks and makes a name; raises `SemanticStringError`.
    #[staticmethod]
    fn new(name: &str) -> PyResult<Self> {
        icefloe_linux::NodeName::new(name).map(Self).map_err(raise::<SemanticStringError>)
    }
    /// The longest name, in bytes.
    #[staticmethod]
    fn max_len() -> usize {
        icefloe_linux::icefloe_core::name::MAX_NODE_NAME_LEN
    }
    /// The name.
    fn as_str(&self) -> String {
        self.0.as_str().to_owned()
    }
    fn __str__(&self) -> String {
        self.0.as_str().to_owned()
    }
    fn __repr__(&self) -> String {
        format!("NodeName({:?})", self.0.as_str())
    }
}

/// An event's id, `0..=event_id_max_value` of its service.
#[pyclass(module = "icefloe", frozen, eq, hash, ord, from_py_object)]
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventId(pub icefloe_linux::EventId);

#[pymethods]
impl EventId {
    /// The id of value `value`.
    #[staticmethod]
    fn new(value: u32) -> Self {
        Self(icefloe_linux::EventId::new(value))
    }
    /// The id's value.
    #[getter]
    fn as_value(&self) -> u32 {
        self.0.as_value()
    }
    fn __repr__(&self) -> String {
        format!("EventId({})", self.0.as_value())
    }
}

/// One event id a listener heard, and how often since it last heard it.
#[pyclass(module = "icefloe", frozen, skip_from_py_object)]
#[derive(Clone, Copy)]
pub struct EventActivation {
    /// The event id.
    #[pyo3(get)]
    pub id: EventId,
    /// Notifications of this id since it was last delivered.
    #[pyo3(get)]
    pub count: u32,
}

#[pymethods]
impl EventActivation {
    fn __repr__(&self) -> String {
        format!("EventActivation(id=EventId({}), count={})", self.id.0.as_value(), self.count)
    }
}

macro_rules! unique_ids {
    ($($name:ident: $doc:literal),* $(,)?) => {$(
        #[doc = $doc]
        #[pyclass(module = "icefloe", frozen, eq, hash, from_py_object)]
        #[derive(Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name(pub u64);

        #[pymethods]
        impl $name {
            /// The id's value.
            #[getter]
            fn value(&self) -> u64 {
                self.0
            }
            fn __repr__(&self) -> String {
                format!("{}({})", stringify!($name), self.0)
            }
        }
    )*};
}

unique_ids! {
    UniquePublisherId: "The system-wide unique id of a publisher.",
    UniqueSubscriberId: "The system-wide unique id of a subscriber.",
    UniqueClientId: "The system-wide unique id of a client.",
    UniqueServerId: "The system-wide unique id of a server.",
    UniqueNotifierId: "The system-wide unique id of a notifier.",
    UniqueListenerId: "The system-wide unique id of a listener.",
    UniqueNodeId: "The system-wide unique id of a node.",
}

/// What a publish-subscribe sample says of itself.
#[pyclass(module = "icefloe", frozen, skip_from_py_object)]
#[derive(Clone, Copy)]
pub struct HeaderPublishSubscribe {
    /// The payload's element count (1 for fixed-size payloads).
    #[pyo3(get)]
    pub number_of_elements: u64,
    /// The publisher that loaned it.
    #[pyo3(get)]
    pub publisher_id: UniquePublisherId,
}

/// What a request says of itself.
#[pyclass(module = "icefloe", frozen, skip_from_py_object)]
#[derive(Clone, Copy)]
pub struct RequestHeader {
    /// The payload's element count (1 for fixed-size payloads).
    #[pyo3(get)]
    pub number_of_elements: u64,
    /// The client that loaned it.
    #[pyo3(get)]
    pub client_id: UniqueClientId,
}

/// What a response says of itself.
#[pyclass(module = "icefloe", frozen, skip_from_py_object)]
#[derive(Clone, Copy)]
pub struct ResponseHeader {
    /// The payload's element count (1 for fixed-size payloads).
    #[pyo3(get)]
    pub number_of_elements: u64,
    /// The server that loaned it.
    #[pyo3(get)]
    pub server_id: UniqueServerId,
}

/// A port's name (as a node's: not necessarily unique).
#[pyclass(module = "icefloe", frozen, eq, hash, from_py_object)]
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct PortName(pub String);

#[pymethods]
impl PortName {
    /// Checks and makes a name; raises `SemanticStringError`.
    #[staticmethod]
    fn new(name: &str) -> PyResult<Self> {
        icefloe_linux::NodeName::new(name).map_err(raise::<SemanticStringError>)?;
        Ok(Self(name.to_owned()))
    }
    /// The longest name, in bytes.
    #[staticmethod]
    fn max_len() -> usize {
        icefloe_linux::icefloe_core::name::MAX_NODE_NAME_LEN
    }
    /// The name.
    fn as_str(&self) -> String {
        self.0.clone()
    }
    fn __str__(&self) -> String {
        self.0.clone()
    }
    fn __repr__(&self) -> String {
        format!("PortName({:?})", self.0)
    }
}

/// An alignment: a power of two.
#[pyclass(module = "icefloe", frozen, eq, hash, from_py_object)]
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Alignment(pub u32);

#[pymethods]
impl Alignment {
    /// Raises `InvalidAlignmentValue` unless `value` is a power of two up to 4096.
    #[staticmethod]
    fn new(value: u32) -> PyResult<Self> {
        if value.is_power_of_two() && value <= 4096 {
            Ok(Self(value))
        } else {
            Err(crate::errors::InvalidAlignmentValue::new_err(format!(
                "{value} is no alignment: a power of two up to 4096"
            )))
        }
    }
    /// The alignment in bytes.
    fn value(&self) -> u32 {
        self.0
    }
    fn __repr__(&self) -> String {
        format!("Alignment({})", self.0)
    }
}

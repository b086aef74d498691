//! icefloe for Python: the native module `icefloe._icefloe`, with the names
//! and call shapes of iceoryx2's Python API. The package `icefloe` (in
//! `python/icefloe/`) re-exports it and adds what is better written in
//! Python: how ctypes types are described, `Slice`, payload views.
#![deny(unsafe_op_in_unsafe_fn)]
#![allow(missing_docs)] // Python sees the doc comments; the Rust items are internal

mod basics;
mod buffer;
mod chunk;
mod errors;
mod event;
mod lease;
mod node;
mod pubsub;
mod reqres;
mod types;
mod waitset;

use pyo3::prelude::*;

#[pymodule]
fn _icefloe(m: &Bound<'_, PyModule>) -> PyResult<()> {
    use basics::*;
    m.add_class::<Duration>()?;
    m.add_class::<ServiceType>()?;
    m.add_class::<AllocationStrategy>()?;
    m.add_class::<BackpressureStrategy>()?;
    m.add_class::<SignalHandlingMode>()?;
    m.add_class::<MessagingPattern>()?;
    m.add_class::<TypeVariant>()?;
    m.add_class::<LogLevel>()?;
    m.add_class::<ServiceName>()?;
    m.add_class::<NodeName>()?;
    m.add_class::<EventId>()?;
    m.add_class::<EventActivation>()?;
    m.add_class::<UniquePublisherId>()?;
    m.add_class::<UniqueSubscriberId>()?;
    m.add_class::<UniqueClientId>()?;
    m.add_class::<UniqueServerId>()?;
    m.add_class::<UniqueNotifierId>()?;
    m.add_class::<UniqueListenerId>()?;
    m.add_class::<UniqueNodeId>()?;
    m.add_class::<HeaderPublishSubscribe>()?;
    m.add_class::<PortName>()?;
    m.add_class::<Alignment>()?;
    m.add_class::<pubsub::DynamicConfigPublishSubscribe>()?;
    m.add_class::<reqres::DynamicConfigRequestResponse>()?;
    m.add_class::<event::DynamicConfigEvent>()?;
    m.add_class::<RequestHeader>()?;
    m.add_class::<ResponseHeader>()?;
    m.add_function(wrap_pyfunction!(set_log_level, m)?)?;
    m.add_function(wrap_pyfunction!(get_log_level, m)?)?;
    m.add_function(wrap_pyfunction!(set_log_level_from_env_or, m)?)?;
    m.add_function(wrap_pyfunction!(set_log_level_from_env_or_default, m)?)?;
    m.add_class::<node::NodeBuilder>()?;
    m.add_class::<node::Node>()?;
    m.add_class::<node::ServiceBuilder>()?;
    m.add_class::<types::TypeDetailView>()?;
    m.add_class::<chunk::Chunk>()?;
    m.add("_Buffer", buffer::make_type(m.py())?)?;
    {
        use pubsub::*;
        m.add_class::<ServiceBuilderPublishSubscribe>()?;
        m.add_class::<PortFactoryPublishSubscribe>()?;
        m.add_class::<StaticConfigPublishSubscribe>()?;
        m.add_class::<PortFactoryPublisher>()?;
        m.add_class::<PortFactorySubscriber>()?;
        m.add_class::<Publisher>()?;
        m.add_class::<Subscriber>()?;
        m.add_class::<SampleMutUninit>()?;
        m.add_class::<SampleMut>()?;
        m.add_class::<Sample>()?;
    }
    {
        use reqres::*;
        m.add_class::<ServiceBuilderRequestResponse>()?;
        m.add_class::<PortFactoryRequestResponse>()?;
        m.add_class::<StaticConfigRequestResponse>()?;
        m.add_class::<PortFactoryClient>()?;
        m.add_class::<PortFactoryServer>()?;
        m.add_class::<Client>()?;
        m.add_class::<Server>()?;
        m.add_class::<RequestMutUninit>()?;
        m.add_class::<RequestMut>()?;
        m.add_class::<PendingResponse>()?;
        m.add_class::<Response>()?;
        m.add_class::<ActiveRequest>()?;
        m.add_class::<ResponseMutUninit>()?;
        m.add_class::<ResponseMut>()?;
    }
    {
        use event::*;
        m.add_class::<ServiceBuilderEvent>()?;
        m.add_class::<PortFactoryEvent>()?;
        m.add_class::<StaticConfigEvent>()?;
        m.add_class::<PortFactoryNotifier>()?;
        m.add_class::<PortFactoryListener>()?;
        m.add_class::<Notifier>()?;
        m.add_class::<Listener>()?;
    }
    m.add_class::<waitset::WaitSetBuilder>()?;
    m.add_class::<waitset::WaitSet>()?;
    m.add_class::<waitset::WaitSetGuard>()?;
    m.add_class::<waitset::WaitSetAttachmentId>()?;
    m.add_class::<waitset::WaitSetRunResult>()?;
    errors::register(m)?;
    Ok(())
}

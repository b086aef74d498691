//! The exception classes, with iceoryx2's names, and how an icefloe error
//! becomes one: `args[0]` is the variant's name (iceoryx2's messages are
//! the same), `variant` holds it too and `description` the sentence.

use pyo3::exceptions::{PyException, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyModule;
use std::fmt;

macro_rules! exceptions {
    ($($name:ident: $doc:literal),* $(,)?) => {
        $(pyo3::create_exception!(icefloe, $name, PyException, $doc);)*

        /// Adds every exception class to the module.
        pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
            let py = m.py();
            $(m.add(stringify!($name), py.get_type::<$name>())?;)*
            m.add("ReleasedObjectError", py.get_type::<ReleasedObjectError>())?;
            Ok(())
        }
    };
}

exceptions! {
    AllocationGrowError: "A slice loan could not grow its port's memory.",
    ClientCreateError: "A client could not be created.",
    ConfigCreationError: "A configuration could not be created.",
    ConnectionFailure: "A connection to a peer port failed.",
    EventCreateError: "An event service could not be created.",
    EventOpenError: "An event service could not be opened.",
    EventOpenOrCreateError: "An event service could be neither opened nor created.",
    InvalidAlignmentValue: "An alignment is zero or not a power of two.",
    ListenerCreateError: "A listener could not be created.",
    ListenerWaitError: "A listener's wait ended without events (Ctrl-C, SIGTERM).",
    LoanError: "A loan could not be made.",
    NodeCleanupFailure: "A dead node's resources could not be removed.",
    NodeCreationFailure: "A node could not be created.",
    NodeListFailure: "The nodes could not be listed.",
    NodeWaitFailure: "A node's wait ended early (Ctrl-C: 'Interrupt', SIGTERM: 'TerminationRequest').",
    NotifierCreateError: "A notifier could not be created.",
    NotifierNotifyError: "A notification failed.",
    PublishSubscribeCreateError: "A publish-subscribe service could not be created.",
    PublishSubscribeOpenError: "A publish-subscribe service could not be opened.",
    PublishSubscribeOpenOrCreateError: "A publish-subscribe service could be neither opened nor created.",
    PublisherCreateError: "A publisher could not be created.",
    ReceiveError: "A receive failed.",
    RequestResponseCreateError: "A request-response service could not be created.",
    RequestResponseOpenError: "A request-response service could not be opened.",
    RequestResponseOpenOrCreateError: "A request-response service could be neither opened nor created.",
    RequestSendError: "A request could not be sent.",
    SemanticStringError: "A name is empty, too long or holds a character it may not.",
    SendError: "A sample or response could not be sent.",
    ServerCreateError: "A server could not be created.",
    ServiceDetailsError: "A service's details could not be read.",
    ServiceRemoveError: "A service could not be removed.",
    SubscriberCreateError: "A subscriber could not be created.",
    WaitSetAttachmentError: "An attachment could not be added to the WaitSet.",
    WaitSetCreateError: "A WaitSet could not be created.",
    WaitSetRunError: "A WaitSet's wait failed.",
}

pyo3::create_exception!(
    icefloe,
    ReleasedObjectError,
    PyValueError,
    "An object was used after it was consumed (assume_init, send) or deleted. icefloe raises this where iceoryx2's bindings abort the interpreter."
);

/// The variant's name: the Debug text up to its fields.
fn variant_of(e: &impl fmt::Debug) -> String {
    let text = format!("{e:?}");
    let end = text.find(['(', ' ', '{']).unwrap_or(text.len());
    text[..end].to_owned()
}

/// The Python exception of class `E` for icefloe error `e`.
pub fn raise<E: pyo3::PyTypeInfo>(e: impl fmt::Debug + fmt::Display) -> PyErr {
    let variant = variant_of(&e);
    let description = e.to_string();
    Python::attach(|py| {
        let err = PyErr::from_type(py.get_type::<E>(), (variant.clone(),));
        let value = err.value(py);
        let _ = value.setattr("variant", variant);
        let _ = value.setattr("description", description);
        err
    })
}

/// The error for an object used after it was consumed or deleted.
pub fn released(what: &str, how: &str) -> PyErr {
    ReleasedObjectError::new_err(format!("this {what} was {how}; it cannot be used any more"))
}

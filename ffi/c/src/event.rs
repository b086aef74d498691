//! Events in C: the service, notifiers and listeners.

use crate::error::icefloe_error;
use crate::pubsub::icefloe_open_mode;
use crate::{code, icefloe_node, put, str_arg};
use icefloe_linux::{Event, EventId, ListenerWaitError, ServiceName};
use std::ffi::{c_char, c_void};
use std::time::Duration;

/// How an event service is opened or created. Start from
/// `icefloe_event_options_default()`; 0 (or -1) keeps icefloe's default.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct icefloe_event_options {
    /// Notifier slots.
    pub max_notifiers: u32,
    /// Listener slots.
    pub max_listeners: u32,
    /// Node slots.
    pub max_nodes: u32,
    /// The highest event id (ids are `0..=max`); -1: the default (255).
    pub event_id_max_value: i64,
    /// The id every listener gets when a notifier is created; -1: none.
    pub notifier_created_event: i64,
    /// The id every listener gets when a notifier is dropped; -1: none.
    pub notifier_dropped_event: i64,
    /// The id every listener gets when a dead notifier is cleaned up; -1: none.
    pub notifier_dead_event: i64,
    /// The longest a notifier may stay silent, in nanoseconds; 0: no deadline.
    pub deadline_ns: u64,
}

/// The default options: icefloe's (iceoryx2's) event defaults.
#[no_mangle]
pub extern "C" fn icefloe_event_options_default() -> icefloe_event_options {
    icefloe_event_options {
        max_notifiers: 0,
        max_listeners: 0,
        max_nodes: 0,
        event_id_max_value: -1,
        notifier_created_event: -1,
        notifier_dropped_event: -1,
        notifier_dead_event: -1,
        deadline_ns: 0,
    }
}

/// An event id from the C side: `None` for -1, an error for other values
/// outside `u32`.
fn event_id(v: i64) -> Result<Option<EventId>, icefloe_error> {
    match v {
        -1 => Ok(None),
        v => u32::try_from(v)
            .map(|v| Some(EventId::new(v)))
            .map_err(|_| icefloe_error::ICEFLOE_ERROR_NOTIFY_EVENT_ID_OUT_OF_BOUNDS),
    }
}

/// An event service.
pub struct icefloe_event {
    service: Event,
}

/// Opens or creates the event service `name`; `*out` holds it until
/// `icefloe_event_drop`.
///
/// # Safety
///
/// `node` is a live node, `name` NUL-terminated, `options` NULL or valid,
/// `out` valid for one write.
#[no_mangle]
pub unsafe extern "C" fn icefloe_event_service(
    node: *const icefloe_node,
    name: *const c_char,
    options: *const icefloe_event_options,
    mode: icefloe_open_mode,
    out: *mut *mut icefloe_event,
) -> icefloe_error {
    code(|| {
        // SAFETY: live or NULL, by the contract.
        let node = unsafe { node.as_ref() }.ok_or(icefloe_error::ICEFLOE_ERROR_NULL_ARGUMENT)?;
        // SAFETY: NUL-terminated, by the contract.
        let name = ServiceName::new(unsafe { str_arg(name) }?)?;
        // SAFETY: NULL or valid, by the contract.
        let o = unsafe { options.as_ref() }.copied().unwrap_or_else(|| icefloe_event_options_default());
        let mut b = node.node.service_builder(&name).event();
        let set = |v: u32| (v != 0).then_some(v);
        if let Some(n) = set(o.max_notifiers) {
            b = b.max_notifiers(n);
        }
        if let Some(n) = set(o.max_listeners) {
            b = b.max_listeners(n);
        }
        if let Some(n) = set(o.max_nodes) {
            b = b.max_nodes(n);
        }
        if let Some(max) = event_id(o.event_id_max_value)? {
            b = b.event_id_max_value(max.as_value());
        }
        if let Some(id) = event_id(o.notifier_created_event)? {
            b = b.notifier_created_event(id);
        }
        if let Some(id) = event_id(o.notifier_dropped_event)? {
            b = b.notifier_dropped_event(id);
        }
        if let Some(id) = event_id(o.notifier_dead_event)? {
            b = b.notifier_dead_event(id);
        }
        if o.deadline_ns != 0 {
            b = b.deadline(Duration::from_nanos(o.deadline_ns));
        }
        let service = match mode {
            icefloe_open_mode::ICEFLOE_OPEN => b.open()?,
            icefloe_open_mode::ICEFLOE_CREATE => b.create()?,
            icefloe_open_mode::ICEFLOE_OPEN_OR_CREATE => b.open_or_create()?,
        };
        // SAFETY: writable, by the contract.
        unsafe { put(out, icefloe_event { service }) }
    })
}

/// Drops an event service handle. NULL is ignored.
///
/// # Safety
///
/// `service` is NULL or came from `icefloe_event_service`, not dropped.
#[no_mangle]
pub unsafe extern "C" fn icefloe_event_drop(service: *mut icefloe_event) {
    if !service.is_null() {
        // SAFETY: made by `Box::into_raw`, dropped once.
        drop(unsafe { Box::from_raw(service) });
    }
}

/// A notifier.
pub struct icefloe_notifier {
    port: icefloe_linux::Notifier,
}

/// Creates a notifier; `*out` holds it until `icefloe_notifier_drop`.
///
/// # Safety
///
/// `service` is a live event service, `out` valid for one write.
#[no_mangle]
pub unsafe extern "C" fn icefloe_notifier_create(
    service: *const icefloe_event,
    out: *mut *mut icefloe_notifier,
) -> icefloe_error {
    code(|| {
        // SAFETY: live or NULL, by the contract.
        let s = unsafe { service.as_ref() }.ok_or(icefloe_error::ICEFLOE_ERROR_NULL_ARGUMENT)?;
        let port = s.service.notifier_builder().create()?;
        // SAFETY: writable, by the contract.
        unsafe { put(out, icefloe_notifier { port }) }
    })
}

/// Drops a notifier. NULL is ignored.
///
/// # Safety
///
/// `notifier` is NULL or came from `icefloe_notifier_create`, not dropped.
#[no_mangle]
pub unsafe extern "C" fn icefloe_notifier_drop(notifier: *mut icefloe_notifier) {
    if !notifier.is_null() {
        // SAFETY: made by `Box::into_raw`, dropped once.
        drop(unsafe { Box::from_raw(notifier) });
    }
}

/// Wakes every listener with `id`; `*woken` (if not NULL) says how many.
///
/// # Safety
///
/// `notifier` is live; `woken` NULL or valid for one write.
#[no_mangle]
pub unsafe extern "C" fn icefloe_notifier_notify(
    notifier: *const icefloe_notifier,
    id: u32,
    woken: *mut usize,
) -> icefloe_error {
    code(|| {
        // SAFETY: live or NULL, by the contract.
        let n = unsafe { notifier.as_ref() }.ok_or(icefloe_error::ICEFLOE_ERROR_NULL_ARGUMENT)?;
        let count = n.port.notify_with_custom_event_id(EventId::new(id))?;
        if !woken.is_null() {
            // SAFETY: writable, by the contract.
            unsafe { *woken = count };
        }
        Ok(())
    })
}

/// A listener.
pub struct icefloe_listener {
    port: icefloe_linux::Listener,
}

/// Creates a listener; `*out` holds it until `icefloe_listener_drop`.
///
/// # Safety
///
/// `service` is a live event service, `out` valid for one write.
#[no_mangle]
pub unsafe extern "C" fn icefloe_listener_create(
    service: *const icefloe_event,
    out: *mut *mut icefloe_listener,
) -> icefloe_error {
    code(|| {
        // SAFETY: live or NULL, by the contract.
        let s = unsafe { service.as_ref() }.ok_or(icefloe_error::ICEFLOE_ERROR_NULL_ARGUMENT)?;
        let port = s.service.listener_builder().create()?;
        // SAFETY: writable, by the contract.
        unsafe { put(out, icefloe_listener { port }) }
    })
}

/// Drops a listener. NULL is ignored.
///
/// # Safety
///
/// `listener` is NULL or came from `icefloe_listener_create`, not dropped.
#[no_mangle]
pub unsafe extern "C" fn icefloe_listener_drop(listener: *mut icefloe_listener) {
    if !listener.is_null() {
        // SAFETY: made by `Box::into_raw`, dropped once.
        drop(unsafe { Box::from_raw(listener) });
    }
}

/// Called once per pending event id with `context`, the id and how many
/// notifications of it arrived (they coalesce).
pub type icefloe_event_callback = Option<extern "C" fn(context: *mut c_void, id: u32, count: u32)>;

/// Waits up to `timeout_ns` (0: not at all) for events and hands every
/// pending one to `callback`; `*ids` (if not NULL) says how many ids it got.
/// SIGINT or SIGTERM end the wait with `ICEFLOE_ERROR_LISTENER_WAIT_*`.
///
/// # Safety
///
/// `listener` is live; `callback` is NULL or a function that may be called
/// with `context`; `ids` NULL or valid for one write.
#[no_mangle]
pub unsafe extern "C" fn icefloe_listener_wait(
    listener: *const icefloe_listener,
    timeout_ns: u64,
    callback: icefloe_event_callback,
    context: *mut c_void,
    ids: *mut usize,
) -> icefloe_error {
    code(|| {
        // SAFETY: live or NULL, by the contract.
        let l = unsafe { listener.as_ref() }.ok_or(icefloe_error::ICEFLOE_ERROR_NULL_ARGUMENT)?;
        let cb = callback.ok_or(icefloe_error::ICEFLOE_ERROR_NULL_ARGUMENT)?;
        let f = |e: icefloe_linux::EventActivation| cb(context, e.id.as_value(), e.count);
        let got =
            if timeout_ns == 0 { l.port.try_wait(f) } else { l.port.timed_wait(Duration::from_nanos(timeout_ns), f) };
        let n = got.map_err(|e| match e {
            ListenerWaitError::Interrupt => icefloe_error::ICEFLOE_ERROR_LISTENER_WAIT_INTERRUPT,
            ListenerWaitError::TerminationRequest => icefloe_error::ICEFLOE_ERROR_LISTENER_WAIT_TERMINATION_REQUEST,
            _ => icefloe_error::ICEFLOE_ERROR_UNKNOWN,
        })?;
        if !ids.is_null() {
            // SAFETY: writable, by the contract.
            unsafe { *ids = n };
        }
        Ok(())
    })
}

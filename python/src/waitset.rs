//! The WaitSet: one thread sleeps on many listeners, deadlines and
//! intervals at once, with the GIL released.

use crate::basics::{Duration, ServiceType, SignalHandlingMode};
use crate::errors::*;
use crate::event::Listener;
use crate::node::SameThread;
use icefloe_linux::icefloe_core::{self as core, CallbackProgression, Platform, WaitSetToken};
use icefloe_linux::{Linux, Shared};
use pyo3::prelude::*;

/// Attachments a WaitSet holds at most.
pub const CAPACITY: usize = 64;

type Port = icefloe_linux::Listener;

/// Builds a [`WaitSet`].
#[pyclass(module = "icefloe", unsendable)]
pub struct WaitSetBuilder {
    mode: SignalHandlingMode,
}

#[pymethods]
impl WaitSetBuilder {
    /// A builder with defaults (SIGINT/SIGTERM end waits).
    #[staticmethod]
    fn new() -> Self {
        Self { mode: SignalHandlingMode::HandleTerminationRequests }
    }

    /// Whether Ctrl-C and SIGTERM end a wait (`Interrupt`,
    /// `TerminationRequest`), or are left to Python.
    fn signal_handling_mode(mut slf: PyRefMut<'_, Self>, value: SignalHandlingMode) -> PyRefMut<'_, Self> {
        slf.mode = value;
        slf
    }

    /// Creates the WaitSet (room for 64 attachments).
    #[pyo3(signature = (service_type = ServiceType::Ipc))]
    fn create(&self, py: Python<'_>, service_type: ServiceType) -> PyResult<WaitSet> {
        let _ = service_type;
        if self.mode == SignalHandlingMode::HandleTerminationRequests {
            py.import("icefloe._signals")?.call_method0("take_over")?;
            Linux::prepare_termination_handling(icefloe_linux::SignalHandlingMode::HandleTerminationRequests);
        }
        Ok(WaitSet { set: core::WaitSet::new(), held: Vec::new(), mode: self.mode })
    }
}

/// Sleeps on many attachments at once; `wait_and_process` says which fired.
#[pyclass(module = "icefloe", unsendable)]
pub struct WaitSet {
    // Declared first, so dropped first: its entries point at the listeners
    // that `held` keeps.
    set: core::WaitSet<'static, Linux, CAPACITY>,
    /// The listener each notification or deadline attachment points at.
    held: Vec<(WaitSetToken, Shared<Port>)>,
    mode: SignalHandlingMode,
}

impl WaitSet {
    fn attach_port(&mut self, listener: &Listener, deadline: Option<std::time::Duration>) -> PyResult<WaitSetToken> {
        let port = listener.handle()?;
        let target: *const Port = &*port;
        // SAFETY: `port` is a clone of the listener's `Shared` handle (an
        // `Arc`), so its target stays at this address while the clone lives.
        // The clone goes into `held` beside the entry that points at it and
        // leaves `held` only after that entry is detached (`detach`), or
        // after the set itself is dropped (field order): no entry outlives
        // its target.
        let target: &'static Port = unsafe { &*target };
        let guard = match deadline {
            None => self.set.attach_notification(target),
            Some(d) => self.set.attach_deadline(target, d),
        }
        .map_err(raise::<WaitSetAttachmentError>)?;
        let token = guard.into_token();
        self.held.push((token, port));
        Ok(token)
    }

    fn detach(&mut self, token: WaitSetToken) {
        self.set.detach(token);
        self.held.retain(|(t, _)| *t != token);
    }

    fn run(
        &self,
        py: Python<'_>,
        timeout: Option<std::time::Duration>,
    ) -> PyResult<(Vec<WaitSetAttachmentId>, WaitSetRunResult)> {
        let set = SameThread(&self.set);
        let outcome = py.detach(move || {
            let set = set;
            let mut fired = Vec::new();
            let collect = |id: core::WaitSetAttachmentId| {
                fired.push(id);
                CallbackProgression::Continue
            };
            let r = match timeout {
                None => set.0.wait_and_process_once(collect),
                Some(t) => set.0.wait_and_process_once_with_timeout(collect, t),
            };
            r.map(|r| SameThread((fired, r)))
        });
        let (fired, result) = outcome.map_err(raise::<WaitSetRunError>)?.0;
        let ids = fired
            .into_iter()
            .map(|id| {
                let token = id.token();
                WaitSetAttachmentId { token, missed: id.has_missed_deadline_of_token(&token) }
            })
            .collect();
        Ok((ids, result.into()))
    }
}

#[pymethods]
impl WaitSet {
    /// Wakes the WaitSet whenever `attachment` (a listener) has events;
    /// raises `WaitSetAttachmentError`.
    fn attach_notification(slf: Bound<'_, Self>, attachment: PyRef<'_, Listener>) -> PyResult<WaitSetGuard> {
        let token = slf.borrow_mut().attach_port(&attachment, None)?;
        Ok(WaitSetGuard { set: Some(slf.unbind()), token })
    }

    /// As `attach_notification`, and fires `has_missed_deadline` when the
    /// listener stays silent for longer than `deadline`.
    fn attach_deadline(
        slf: Bound<'_, Self>,
        attachment: PyRef<'_, Listener>,
        deadline: Duration,
    ) -> PyResult<WaitSetGuard> {
        let token = slf.borrow_mut().attach_port(&attachment, Some(deadline.0))?;
        Ok(WaitSetGuard { set: Some(slf.unbind()), token })
    }

    /// A timer: fires every `interval`.
    fn attach_interval(slf: Bound<'_, Self>, interval: Duration) -> PyResult<WaitSetGuard> {
        let token = slf.borrow().set.attach_interval(interval.0).map_err(raise::<WaitSetAttachmentError>)?.into_token();
        Ok(WaitSetGuard { set: Some(slf.unbind()), token })
    }

    /// Sleeps (GIL released) until an attachment fires, then returns which
    /// fired and why the wait ended (`Interrupt` on Ctrl-C); raises
    /// `WaitSetRunError` when nothing is attached.
    fn wait_and_process(&self, py: Python<'_>) -> PyResult<(Vec<WaitSetAttachmentId>, WaitSetRunResult)> {
        self.run(py, None)
    }

    /// As `wait_and_process`, at most `timeout`.
    fn wait_and_process_with_timeout(
        &self,
        py: Python<'_>,
        timeout: Duration,
    ) -> PyResult<(Vec<WaitSetAttachmentId>, WaitSetRunResult)> {
        self.run(py, Some(timeout.0))
    }

    /// Attachments in use.
    #[getter]
    fn len(&self) -> usize {
        self.set.len()
    }

    /// Whether nothing is attached.
    #[getter]
    fn is_empty(&self) -> bool {
        self.set.is_empty()
    }

    /// The most attachments it takes.
    #[getter]
    fn capacity(&self) -> usize {
        self.set.capacity()
    }

    /// How it handles SIGINT and SIGTERM.
    #[getter]
    fn signal_handling_mode(&self) -> SignalHandlingMode {
        self.mode
    }

    /// Detaches everything (guards still alive then detach nothing).
    fn delete(&mut self) {
        let tokens: Vec<WaitSetToken> = self.held.iter().map(|(t, _)| *t).collect();
        for t in tokens {
            self.detach(t);
        }
    }
}

/// Keeps an attachment; `delete()` (or dropping the last reference)
/// detaches it.
#[pyclass(module = "icefloe", unsendable)]
pub struct WaitSetGuard {
    set: Option<Py<WaitSet>>,
    token: WaitSetToken,
}

impl WaitSetGuard {
    fn release(&mut self, py: Python<'_>) {
        if let Some(set) = self.set.take() {
            if let Ok(mut set) = set.bind(py).try_borrow_mut() {
                set.detach(self.token);
            }
        }
    }
}

#[pymethods]
impl WaitSetGuard {
    /// Detaches the attachment.
    fn delete(&mut self, py: Python<'_>) {
        self.release(py);
    }
}

impl Drop for WaitSetGuard {
    fn drop(&mut self) {
        if self.set.is_some() {
            Python::attach(|py| self.release(py));
        }
    }
}

/// Which attachment fired.
#[pyclass(module = "icefloe", frozen, skip_from_py_object)]
#[derive(Clone, Copy)]
pub struct WaitSetAttachmentId {
    token: WaitSetToken,
    missed: bool,
}

#[pymethods]
impl WaitSetAttachmentId {
    /// The id `guard`'s attachment fires with.
    #[staticmethod]
    fn from_guard(guard: PyRef<'_, WaitSetGuard>) -> Self {
        Self { token: guard.token, missed: false }
    }
    /// Whether it is `other`'s attachment, with events (or its tick).
    fn has_event_from(&self, other: PyRef<'_, WaitSetGuard>) -> bool {
        self.token == other.token && !self.missed
    }
    /// Whether it is `other`'s deadline attachment, silent for too long.
    fn has_missed_deadline(&self, other: PyRef<'_, WaitSetGuard>) -> bool {
        self.token == other.token && self.missed
    }
    fn __eq__(&self, other: &Self) -> bool {
        self.token == other.token && self.missed == other.missed
    }
    fn __hash__(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.token.hash(&mut h);
        h.finish()
    }
}

/// Why a wait ended.
#[pyclass(module = "icefloe", eq, eq_int, frozen, hash, from_py_object)]
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum WaitSetRunResult {
    /// SIGTERM arrived.
    TerminationRequest,
    /// SIGINT (Ctrl-C) arrived.
    Interrupt,
    /// Stopped on request.
    StopRequest,
    /// Everything that fired was handled, or the timeout passed.
    AllEventsHandled,
}

impl From<core::WaitSetRunResult> for WaitSetRunResult {
    fn from(r: core::WaitSetRunResult) -> Self {
        match r {
            core::WaitSetRunResult::TerminationRequest => Self::TerminationRequest,
            core::WaitSetRunResult::Interrupt => Self::Interrupt,
            core::WaitSetRunResult::StopRequest => Self::StopRequest,
            _ => Self::AllEventsHandled,
        }
    }
}

//! What every object over a chunk shares: the chunk, its payload type, and
//! whether this object was consumed (a loan after `assume_init`, `send`).

use crate::chunk::{Chunk, State};
use crate::errors::released;
use crate::types::PayloadType;
use pyo3::prelude::*;

/// One API object's hold on a chunk.
pub struct Lease {
    pub chunk: Py<Chunk>,
    pub ty: PayloadType,
    /// Set when this object was consumed, with how.
    pub used: Option<&'static str>,
    /// The class name, for messages.
    pub what: &'static str,
    /// The id of the port that loaned the chunk.
    pub origin: u64,
    /// The payload view, made on the first `payload()` and handed out again
    /// (the seed scripts call `payload()` once per byte).
    view: std::cell::OnceCell<Py<PyAny>>,
}

impl Lease {
    /// A lease on a new chunk holding `state`.
    pub fn new(py: Python<'_>, state: State, ty: PayloadType, what: &'static str, origin: u64) -> PyResult<Self> {
        Ok(Self {
            chunk: Py::new(py, Chunk::new(state))?,
            ty,
            used: None,
            what,
            origin,
            view: std::cell::OnceCell::new(),
        })
    }

    /// The same chunk, under another object (the next stage of a loan).
    pub fn pass_on(&mut self, py: Python<'_>, how: &'static str, what: &'static str) -> Self {
        self.used = Some(how);
        Self {
            chunk: self.chunk.clone_ref(py),
            ty: self.ty.clone_ref(py),
            used: None,
            what,
            origin: self.origin,
            view: std::cell::OnceCell::new(),
        }
    }

    /// Refuses an object that was consumed or whose chunk is gone.
    pub fn check(&self, py: Python<'_>) -> PyResult<()> {
        if let Some(how) = self.used {
            return Err(released(self.what, how));
        }
        if !self.chunk.borrow(py).alive() {
            return Err(released(self.what, "deleted (its chunk was returned)"));
        }
        Ok(())
    }

    /// The payload: a `Slice` for slice types, a pointer (`.contents`) for
    /// fixed-size ones; read-only for received chunks.
    pub fn payload<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.check(py)?;
        if let Some(v) = self.view.get() {
            return Ok(v.bind(py).clone());
        }
        let v = view(py, &self.chunk, &self.ty)?;
        let _ = self.view.set(v.clone().unbind());
        Ok(v)
    }

    /// The user header: a pointer (`.contents`) of the header type given to
    /// the service builder; read-only for received chunks.
    pub fn user_header<'py>(&self, py: Python<'py>, header: &Option<Py<PyAny>>) -> PyResult<Bound<'py, PyAny>> {
        self.check(py)?;
        let Some(t) = header else {
            return Err(pyo3::exceptions::PyTypeError::new_err(
                "this service has no user header: give its type to the service builder (`user_header(T)`)",
            ));
        };
        payload_module(py)?.call_method1("header_view", (self.chunk.bind(py), t.bind(py)))
    }

    /// The user header's address.
    pub fn header_ptr(&self, py: Python<'_>) -> PyResult<usize> {
        self.check(py)?;
        Ok(self.chunk.borrow(py).header_memory().0)
    }

    /// Takes the chunk's state for a send: refused while a memoryview of
    /// the payload is alive.
    pub fn take(&mut self, py: Python<'_>, how: &'static str) -> PyResult<State> {
        if let Some(h) = self.used {
            return Err(released(self.what, h));
        }
        let state = self.chunk.borrow_mut(py).take_for_send(self.what)?;
        self.used = Some(how);
        Ok(state)
    }

    /// Takes the chunk's state for `assume_init`, which keeps the memory
    /// (memoryviews of it stay valid).
    pub fn take_for_init(&mut self, py: Python<'_>) -> PyResult<State> {
        if let Some(h) = self.used {
            return Err(released(self.what, h));
        }
        let state = self.chunk.borrow_mut(py).take_state(self.what)?;
        self.used = Some("consumed by assume_init()");
        Ok(state)
    }

    /// `delete()`: gives the chunk back (when its last memoryview goes).
    pub fn delete(&mut self, py: Python<'_>) {
        if self.used.is_none() {
            self.chunk.borrow_mut(py).delete();
            self.used = Some("deleted");
        }
    }

    /// (element count, loaning port's id), for headers.
    pub fn header(&self, py: Python<'_>) -> PyResult<(u64, u64)> {
        self.check(py)?;
        Ok((self.chunk.borrow(py).memory().2 as u64, self.origin))
    }

    /// The payload's address (for code that hands it to C).
    pub fn ptr(&self, py: Python<'_>) -> PyResult<usize> {
        self.check(py)?;
        Ok(self.chunk.borrow(py).memory().0)
    }

    /// Writes a ctypes value into a fixed-size loan.
    pub fn write(&self, py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<()> {
        self.check(py)?;
        payload_module(py)?.call_method1("write", (self.chunk.bind(py), self.ty.element.bind(py), value))?;
        Ok(())
    }
}

fn payload_module(py: Python<'_>) -> PyResult<Bound<'_, PyModule>> {
    py.import("icefloe._payload")
}

/// The payload view of `chunk`.
pub fn view<'py>(py: Python<'py>, chunk: &Py<Chunk>, ty: &PayloadType) -> PyResult<Bound<'py, PyAny>> {
    payload_module(py)?.call_method1("view", (chunk.bind(py), ty.element.bind(py), ty.is_slice()))
}

/// What every object over a chunk (loans, samples, requests, responses, a
/// pending response's request) offers, from its `lease`: the payload view
/// (a `Slice`, or a pointer whose `.contents` is the value; read-only when
/// received), the user header view, and their addresses.
macro_rules! chunk_views {
    ($($t:ty),* $(,)?) => {$(
        #[pyo3::pymethods]
        impl $t {
            /// The payload: a `Slice`, or a pointer (`.contents`); read-only when received.
            fn payload<'py>(&self, py: pyo3::Python<'py>) -> pyo3::PyResult<pyo3::Bound<'py, pyo3::PyAny>> {
                self.lease.payload(py)
            }
            /// The payload's address.
            #[getter]
            fn payload_ptr(&self, py: pyo3::Python<'_>) -> pyo3::PyResult<usize> {
                self.lease.ptr(py)
            }
            /// The user header: a pointer (`.contents`) of the service's header type.
            fn user_header<'py>(&self, py: pyo3::Python<'py>) -> pyo3::PyResult<pyo3::Bound<'py, pyo3::PyAny>> {
                self.lease.user_header(py, &self.lease.ty.header)
            }
            /// The user header's address.
            #[getter]
            fn user_header_ptr(&self, py: pyo3::Python<'_>) -> pyo3::PyResult<usize> {
                self.lease.header_ptr(py)
            }
        }
    )*};
}
pub(crate) use chunk_views;

/// The `header` property of chunk objects: element count and the id of the
/// port that loaned the chunk, as header class `$h` names it.
macro_rules! chunk_headers {
    ($h:ident, $field:ident, $id:ident: $($t:ty),* $(,)?) => {$(
        #[pyo3::pymethods]
        impl $t {
            /// The header: element count and the loaning port's id.
            #[getter]
            fn header(&self, py: pyo3::Python<'_>) -> pyo3::PyResult<$h> {
                let (n, id) = self.lease.header(py)?;
                Ok($h { number_of_elements: n, $field: $id(id) })
            }
        }
    )*};
}
pub(crate) use chunk_headers;

/// `name(PortName)` on port builders (fields `port_name`).
macro_rules! port_name_setter {
    ($($t:ty),* $(,)?) => {$(
        #[pyo3::pymethods]
        impl $t {
            /// The port's name (not necessarily unique).
            fn name(mut slf: pyo3::PyRefMut<'_, Self>, value: crate::basics::PortName) -> pyo3::PyRefMut<'_, Self> {
                slf.port_name = value;
                slf
            }
        }
    )*};
}
pub(crate) use port_name_setter;

/// The slice and backpressure knobs of a sending port's builder (fields
/// `initial`, `max_slice_len`, `strategy`, `backpressure`), the slice ones
/// refused for the fixed-size payload type in field `$ty`.
macro_rules! sending_port_knobs {
    ($t:ty, $ty:ident) => {
        #[pyo3::pymethods]
        impl $t {
            /// For Slice payloads: the first segment's room, in elements.
            fn initial_max_slice_len(
                mut slf: pyo3::PyRefMut<'_, Self>,
                value: u32,
            ) -> pyo3::PyResult<pyo3::PyRefMut<'_, Self>> {
                slf.$ty.slice_only("initial_max_slice_len")?;
                slf.initial = Some(value);
                Ok(slf)
            }
            /// For Slice payloads: the longest slice a loan may grow to.
            fn max_slice_len(
                mut slf: pyo3::PyRefMut<'_, Self>,
                value: u32,
            ) -> pyo3::PyResult<pyo3::PyRefMut<'_, Self>> {
                slf.$ty.slice_only("max_slice_len")?;
                slf.max_slice_len = Some(value);
                Ok(slf)
            }
            /// For Slice payloads: how the port's memory grows.
            fn allocation_strategy(
                mut slf: pyo3::PyRefMut<'_, Self>,
                value: crate::basics::AllocationStrategy,
            ) -> pyo3::PyResult<pyo3::PyRefMut<'_, Self>> {
                slf.$ty.slice_only("allocation_strategy")?;
                slf.strategy = Some(value);
                Ok(slf)
            }
            /// What to do when a receiver's queue is full.
            fn backpressure_strategy(
                mut slf: pyo3::PyRefMut<'_, Self>,
                value: crate::basics::BackpressureStrategy,
            ) -> pyo3::PyRefMut<'_, Self> {
                slf.backpressure = Some(value);
                slf
            }
        }
    };
}
pub(crate) use sending_port_knobs;

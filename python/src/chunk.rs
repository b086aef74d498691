//! One chunk of shared memory as Python holds it: a loan (before and after
//! its payload is written), a received sample, request or response.
//!
//! The Python objects users see (`RequestMutUninit`, `RequestMut`,
//! `Sample`, …) each point at one [`Chunk`]; the loan's two stages share
//! it. Payload views (`Slice`, the pointer of fixed-size payloads) check
//! that their chunk is still theirs on every access, and the buffer
//! protocol (memoryviews, numpy) counts its exports here: a chunk is not
//! sent while a memoryview of it is alive (`BufferError`), and a received
//! chunk deleted while exported is returned when the last export goes.

use crate::errors::released;
use icefloe_linux::icefloe_core::{self as core, ChunkMut, ChunkMutUninit, Opaque};
use icefloe_linux::{Linux, Shared};
use pyo3::exceptions::PyBufferError;
use pyo3::prelude::*;

/// Payloads as the bindings type them: bytes described at run time.
pub type Bytes = [Opaque];

/// User headers as the bindings type them: described at run time (`()`,
/// no bytes, unless the service was given a header type).
pub type Header = Opaque;

pub type PublishSubscribeService = icefloe_linux::PublishSubscribe<Bytes, Header>;
pub type RequestResponseService = icefloe_linux::RequestResponse<Bytes, Bytes, Header, Header>;
pub type PublisherPort = core::Publisher<Linux, Bytes, Header, PublishSubscribeService>;
pub type SubscriberPort = core::Subscriber<Linux, Bytes, Header, PublishSubscribeService>;
pub type ClientPort = core::Client<Linux, Bytes, Bytes, Header, Header, RequestResponseService>;
pub type ServerPort = core::Server<Linux, Bytes, Bytes, Header, Header, RequestResponseService>;
pub type Pending = core::PendingResponse<Shared<ClientPort>>;
pub type Active = core::ActiveRequest<Shared<ServerPort>, Bytes, Header>;

/// What a chunk holds now.
pub enum State {
    /// Returned, sent or never there.
    Gone,
    SampleUninit(ChunkMutUninit<Shared<PublisherPort>, Bytes, Header>),
    SampleMut(ChunkMut<Shared<PublisherPort>, Bytes, Header>),
    Sample(core::Sample<Shared<SubscriberPort>, Bytes, Header>),
    RequestUninit(ChunkMutUninit<Shared<ClientPort>, Bytes, Header>),
    RequestMut(ChunkMut<Shared<ClientPort>, Bytes, Header>),
    Response(core::Response<Shared<Pending>, Bytes, Header>),
    Request(Shared<Active>),
    /// A sent request, as its pending response reads it.
    Sent(Shared<Pending>),
    ResponseUninit(ChunkMutUninit<Shared<Active>, Bytes, Header>),
    ResponseMut(ChunkMut<Shared<Active>, Bytes, Header>),
}

impl State {
    /// (address, bytes) of the user header.
    fn header(&mut self) -> Option<(usize, usize)> {
        fn at(b: &[u8]) -> (usize, usize) {
            (b.as_ptr() as usize, b.len())
        }
        Some(match self {
            State::Gone => return None,
            State::SampleUninit(c) => at(c.user_header_bytes_mut()),
            State::RequestUninit(c) => at(c.user_header_bytes_mut()),
            State::ResponseUninit(c) => at(c.user_header_bytes_mut()),
            State::SampleMut(c) => at(c.user_header_bytes_mut()),
            State::RequestMut(c) => at(c.user_header_bytes_mut()),
            State::ResponseMut(c) => at(c.user_header_bytes_mut()),
            State::Sample(s) => at(s.user_header_bytes()),
            State::Response(r) => at(r.user_header_bytes()),
            State::Request(a) => at(a.user_header_bytes()),
            State::Sent(p) => at(p.user_header_bytes()),
        })
    }

    /// (address, bytes, elements, writable) of the payload.
    fn memory(&mut self) -> Option<(usize, usize, usize, bool)> {
        fn uninit(b: &mut [std::mem::MaybeUninit<u8>]) -> (usize, usize) {
            (b.as_mut_ptr() as usize, b.len())
        }
        Some(match self {
            State::Gone => return None,
            State::SampleUninit(c) => {
                let n = c.len();
                let (p, b) = uninit(c.payload_bytes_mut());
                (p, b, n, true)
            }
            State::RequestUninit(c) => {
                let n = c.len();
                let (p, b) = uninit(c.payload_bytes_mut());
                (p, b, n, true)
            }
            State::ResponseUninit(c) => {
                let n = c.len();
                let (p, b) = uninit(c.payload_bytes_mut());
                (p, b, n, true)
            }
            State::SampleMut(c) => {
                (c.payload_bytes_mut().as_mut_ptr() as usize, c.payload_bytes().len(), c.len(), true)
            }
            State::RequestMut(c) => {
                (c.payload_bytes_mut().as_mut_ptr() as usize, c.payload_bytes().len(), c.len(), true)
            }
            State::ResponseMut(c) => {
                (c.payload_bytes_mut().as_mut_ptr() as usize, c.payload_bytes().len(), c.len(), true)
            }
            State::Sample(s) => (s.payload_bytes().as_ptr() as usize, s.payload_bytes().len(), s.len(), false),
            State::Response(r) => (r.payload_bytes().as_ptr() as usize, r.payload_bytes().len(), r.len(), false),
            State::Request(a) => (a.payload_bytes().as_ptr() as usize, a.payload_bytes().len(), a.len(), false),
            State::Sent(p) => (p.payload_bytes().as_ptr() as usize, p.payload_bytes().len(), p.request_len(), false),
        })
    }
}

/// A chunk and its exports. Internal: users reach it through the objects
/// of the API.
#[pyclass(module = "icefloe", unsendable, name = "_Chunk")]
pub struct Chunk {
    pub state: State,
    /// Live buffer-protocol exports (memoryviews, numpy arrays).
    exports: u32,
    /// Deleted while exported: drop the chunk when the last export goes.
    doomed: bool,
    /// The payload, cached: (address, bytes, elements, writable).
    memory: (usize, usize, usize, bool),
    /// The user header, cached: (address, bytes).
    header: (usize, usize),
}

impl Chunk {
    /// A chunk holding `state`.
    pub fn new(mut state: State) -> Self {
        let memory = state.memory().unwrap_or((0, 0, 0, false));
        let header = state.header().unwrap_or((0, 0));
        Self { state, exports: 0, doomed: false, memory, header }
    }

    /// Whether the chunk is still usable.
    pub fn alive(&self) -> bool {
        !matches!(self.state, State::Gone) && !self.doomed
    }

    /// Takes the state out for a transition (assume_init) or a send:
    /// refused while a memoryview of the payload is alive, because the
    /// memory stops being the sender's.
    pub fn take_for_send(&mut self, what: &str) -> PyResult<State> {
        if !self.alive() {
            return Err(released(what, "already sent or deleted"));
        }
        if self.exports > 0 {
            return Err(PyBufferError::new_err(format!(
                "{} memoryview(s) of this {what}'s payload are still alive; release them \
                 (`mv.release()` or `with memoryview(...) as mv:`) before sending",
                self.exports
            )));
        }
        Ok(std::mem::replace(&mut self.state, State::Gone))
    }

    /// Takes the state out for a transition that keeps the memory.
    pub fn take_state(&mut self, what: &str) -> PyResult<State> {
        if !self.alive() {
            return Err(released(what, "already sent or deleted"));
        }
        Ok(std::mem::replace(&mut self.state, State::Gone))
    }

    /// Replaces the state after a transition that keeps the memory.
    pub fn put(&mut self, state: State) {
        self.state = state;
    }

    /// Returns the chunk now, or when its last export goes.
    pub fn delete(&mut self) {
        if self.exports > 0 {
            self.doomed = true;
        } else {
            self.state = State::Gone;
        }
    }

    /// The payload's (address, bytes, elements, writable).
    pub fn memory(&self) -> (usize, usize, usize, bool) {
        self.memory
    }

    /// The user header's (address, bytes).
    pub fn header_memory(&self) -> (usize, usize) {
        self.header
    }
}

#[pymethods]
impl Chunk {
    /// Whether the payload may still be read (and written, for loans).
    #[getter]
    fn _alive(&self) -> bool {
        self.alive()
    }

    /// The payload's address.
    #[getter]
    fn _ptr(&self) -> usize {
        self.memory.0
    }

    /// The payload's size in bytes.
    #[getter]
    fn _nbytes(&self) -> usize {
        self.memory.1
    }

    /// The payload's element count.
    #[getter]
    fn _len(&self) -> usize {
        self.memory.2
    }

    /// Whether the payload may be written (a loan, not a received chunk).
    #[getter]
    fn _writable(&self) -> bool {
        self.memory.3
    }

    /// The user header's address.
    #[getter]
    fn _header_ptr(&self) -> usize {
        self.header.0
    }

    /// The user header's size in bytes.
    #[getter]
    fn _header_nbytes(&self) -> usize {
        self.header.1
    }
}

impl Chunk {
    /// A buffer export begins: (address, bytes, read-only).
    pub fn buffer_acquire(&mut self) -> PyResult<(usize, usize, bool)> {
        if !self.alive() {
            return Err(released("payload", "returned (sent or deleted)"));
        }
        self.exports += 1;
        Ok((self.memory.0, self.memory.1, !self.memory.3))
    }

    /// A buffer export ends.
    pub fn buffer_release(&mut self) {
        self.exports = self.exports.saturating_sub(1);
        if self.exports == 0 && self.doomed {
            self.state = State::Gone;
        }
    }
}

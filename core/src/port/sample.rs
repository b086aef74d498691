//! Loans and samples: what a sending port writes and a receiving port reads.
//!
//! A loan is a [`ChunkMutUninit`] until its payload is written
//! (`write_payload`, `write_from_fn`, `write_from_slice`, or `unsafe
//! assume_init`); only then is it a [`ChunkMut`], which can be sent. The
//! same two types serve every sending port, under the names users know:
//! [`SampleMutUninit`] / [`SampleMut`] (publisher),
//! [`RequestMutUninit`](crate::RequestMutUninit) / [`RequestMut`](crate::RequestMut) (client),
//! [`ResponseMutUninit`](crate::ResponseMutUninit) / [`ResponseMut`](crate::ResponseMut) (active request).
//! Dropping a loan without sending returns the chunk. A received [`Sample`]
//! returns its chunk to the publisher when dropped.

use super::publisher::Publisher;
use super::subscriber::Subscriber;
use super::SendError;
use crate::platform::Platform;
use crate::zero_copy::{Payload, ZeroCopySend};
use core::fmt;
use core::marker::PhantomData;
use core::mem::MaybeUninit;
use core::ops::{Deref, DerefMut};

pub(crate) mod sealed {
    /// What a loan needs of the port it came from. Sealed: implemented for
    /// references to icefloe's sending ports only.
    pub trait Port: Copy {
        /// The chunk's user header and payload.
        fn parts(&self, slot: usize, index: u32) -> (*mut u8, *mut u8);
        /// Gives back an unsent loan.
        fn discard(&self, slot: usize, index: u32);
    }
}

/// A port that lends chunks: a publisher, a client, or an active request
/// (for its responses). Sealed.
pub trait Lender: sealed::Port {}
impl<L: sealed::Port> Lender for L {}

/// A chunk on loan from a port; returns it on drop unless sent.
pub(crate) struct Loan<L: Lender, T: Payload + ?Sized, H: ZeroCopySend> {
    pub(crate) port: L,
    pub(crate) segment: usize,
    pub(crate) index: u32,
    len: usize,
    header: *mut H,
    payload: *mut T::Element,
    live: bool,
}

impl<L: Lender, T: Payload + ?Sized, H: ZeroCopySend> Loan<L, T, H> {
    pub(crate) fn new(port: L, segment: usize, index: u32, len: usize) -> Self {
        let (header, payload) = port.parts(segment, index);
        let header = header.cast::<H>();
        // SAFETY: `header` points into the loaned chunk, which this loan owns
        // exclusively, aligned for `H`; all-zero bytes are a valid value of
        // every `ZeroCopySend` type made of primitives.
        unsafe { core::ptr::write_bytes(header.cast::<u8>(), 0, core::mem::size_of::<H>()) };
        Self { port, segment, index, len, header, payload: payload.cast(), live: true }
    }

    /// Hands the chunk over: (port, segment slot, index).
    pub(crate) fn take(mut self) -> (L, usize, u32) {
        self.live = false;
        (self.port, self.segment, self.index)
    }
}

impl<L: Lender, T: Payload + ?Sized, H: ZeroCopySend> Drop for Loan<L, T, H> {
    fn drop(&mut self) {
        if self.live {
            self.port.discard(self.segment, self.index);
        }
    }
}

/// A loaned chunk whose payload is not yet written. It cannot be sent.
pub struct ChunkMutUninit<L: Lender, T: Payload + ?Sized, H: ZeroCopySend> {
    pub(crate) loan: Loan<L, T, H>,
}

/// A loaned chunk whose payload is written: read, change, `send`.
pub struct ChunkMut<L: Lender, T: Payload + ?Sized, H: ZeroCopySend> {
    pub(crate) loan: Loan<L, T, H>,
    _t: PhantomData<*const T>,
}

/// A publisher's loaned sample, not yet written.
pub type SampleMutUninit<'a, P, T, H = ()> = ChunkMutUninit<&'a Publisher<'a, P, T, H>, T, H>;
/// A publisher's loaned sample, written: [`send`](ChunkMut::send) it.
pub type SampleMut<'a, P, T, H = ()> = ChunkMut<&'a Publisher<'a, P, T, H>, T, H>;

impl<L: Lender, T: Payload + ?Sized, H: ZeroCopySend> ChunkMutUninit<L, T, H> {
    pub(crate) fn new(loan: Loan<L, T, H>) -> Self {
        Self { loan }
    }

    fn filled(self) -> ChunkMut<L, T, H> {
        ChunkMut { loan: self.loan, _t: PhantomData }
    }

    /// The user header (zeroed at loan).
    pub fn user_header(&self) -> &H {
        // SAFETY: the header was zero-initialized at loan and the chunk is
        // exclusively ours.
        unsafe { &*self.loan.header }
    }

    /// The user header, to write.
    pub fn user_header_mut(&mut self) -> &mut H {
        // SAFETY: as above, and `&mut self` makes the access exclusive.
        unsafe { &mut *self.loan.header }
    }

    /// Declares the payload written.
    ///
    /// # Safety
    ///
    /// Every element of the payload must have been initialized.
    pub unsafe fn assume_init(self) -> ChunkMut<L, T, H> {
        self.filled()
    }
}

impl<L: Lender, T: ZeroCopySend, H: ZeroCopySend> ChunkMutUninit<L, T, H> {
    /// The payload's memory, to write in place.
    pub fn payload_mut(&mut self) -> &mut MaybeUninit<T> {
        // SAFETY: the payload slot lies in our exclusive chunk, aligned for T.
        unsafe { &mut *self.loan.payload.cast::<MaybeUninit<T>>() }
    }

    /// Writes the payload.
    pub fn write_payload(mut self, value: T) -> ChunkMut<L, T, H> {
        self.payload_mut().write(value);
        self.filled()
    }
}

impl<L: Lender, E: ZeroCopySend, H: ZeroCopySend> ChunkMutUninit<L, [E], H> {
    /// The slice's memory, to write in place.
    pub fn payload_mut(&mut self) -> &mut [MaybeUninit<E>] {
        // SAFETY: the chunk holds at least `len` elements (checked at loan),
        // aligned for E, and is exclusively ours.
        unsafe { core::slice::from_raw_parts_mut(self.loan.payload.cast::<MaybeUninit<E>>(), self.loan.len) }
    }

    /// The number of elements loaned.
    pub fn len(&self) -> usize {
        self.loan.len
    }

    /// Whether zero elements were loaned.
    pub fn is_empty(&self) -> bool {
        self.loan.len == 0
    }

    /// Writes element `i` as `f(i)` for every `i`.
    pub fn write_from_fn(mut self, mut f: impl FnMut(usize) -> E) -> ChunkMut<L, [E], H> {
        for (i, slot) in self.payload_mut().iter_mut().enumerate() {
            slot.write(f(i));
        }
        self.filled()
    }

    /// Copies `values` in.
    ///
    /// # Panics
    ///
    /// If `values.len()` differs from the loaned length.
    pub fn write_from_slice(mut self, values: &[E]) -> ChunkMut<L, [E], H>
    where
        E: Copy,
    {
        assert_eq!(values.len(), self.loan.len, "write_from_slice needs exactly the loaned length");
        for (slot, v) in self.payload_mut().iter_mut().zip(values) {
            slot.write(*v);
        }
        self.filled()
    }
}

impl<L: Lender, T: Payload + ?Sized, H: ZeroCopySend> ChunkMut<L, T, H> {
    /// The payload.
    pub fn payload(&self) -> &T {
        // SAFETY: the payload was initialized before this type was made; the
        // chunk is exclusively ours.
        unsafe { T::from_raw_parts(self.loan.payload, self.loan.len) }
    }

    /// The payload, to change.
    pub fn payload_mut(&mut self) -> &mut T {
        // SAFETY: as above; `&mut self` makes the access exclusive.
        unsafe { T::from_raw_parts_mut(self.loan.payload, self.loan.len) }
    }

    /// The user header.
    pub fn user_header(&self) -> &H {
        // SAFETY: zero-initialized at loan, exclusively ours.
        unsafe { &*self.loan.header }
    }

    /// The user header, to change.
    pub fn user_header_mut(&mut self) -> &mut H {
        // SAFETY: as above, exclusive through `&mut self`.
        unsafe { &mut *self.loan.header }
    }
}

impl<'a, P: Platform, T: Payload + ?Sized, H: ZeroCopySend> ChunkMut<&'a Publisher<'a, P, T, H>, T, H> {
    /// Sends the sample to every connected subscriber; returns how many it
    /// reached. No allocation; no system call.
    pub fn send(self) -> Result<usize, SendError> {
        let (publisher, segment, index) = self.loan.take();
        publisher.deliver(segment, index)
    }
}

impl<L: Lender, T: Payload + ?Sized, H: ZeroCopySend> Deref for ChunkMut<L, T, H> {
    type Target = T;
    fn deref(&self) -> &T {
        self.payload()
    }
}

impl<L: Lender, T: Payload + ?Sized, H: ZeroCopySend> DerefMut for ChunkMut<L, T, H> {
    fn deref_mut(&mut self) -> &mut T {
        self.payload_mut()
    }
}

impl<'a, P: Platform, T: Payload + ?Sized, H: ZeroCopySend> sealed::Port for &'a Publisher<'a, P, T, H> {
    fn parts(&self, slot: usize, index: u32) -> (*mut u8, *mut u8) {
        let (h, p) = self.chunk_parts(slot, index);
        (h.cast(), p.cast())
    }
    fn discard(&self, slot: usize, index: u32) {
        Publisher::discard(self, slot, index);
    }
}

/// A received chunk as its holder (a sample, a response, an active
/// request) reads it.
pub(crate) struct Held<T: Payload + ?Sized, H> {
    pub(crate) segment: u32,
    pub(crate) index: u32,
    pub(crate) origin: u64,
    len: usize,
    header: *const H,
    payload: *const T::Element,
}

impl<T: Payload + ?Sized, H> Held<T, H> {
    /// A chunk the receiver accepted.
    pub(crate) fn new(got: &super::receiver::Received) -> Self {
        Self {
            segment: got.segment,
            index: got.index,
            origin: got.origin,
            len: got.len,
            header: got.header.cast(),
            payload: got.payload.cast(),
        }
    }

    pub(crate) fn payload(&self) -> &T {
        // SAFETY: the receiver validated the chunk index and the length
        // against the chunk's capacity (`RecvConn::accept`); the mapping
        // stays while any chunk of it is held; the sender no longer writes
        // a sent chunk.
        unsafe { T::from_raw_parts(self.payload, self.len) }
    }

    pub(crate) fn user_header(&self) -> &H {
        // SAFETY: as for the payload; the header lies within the chunk.
        unsafe { &*self.header }
    }
}

/// A received sample: reads the publisher's chunk in place; returns it on drop.
pub struct Sample<'a, P: Platform, T: Payload + ?Sized, H: ZeroCopySend> {
    pub(crate) subscriber: &'a Subscriber<'a, P, T, H>,
    pub(crate) connection: u32,
    pub(crate) chunk: Held<T, H>,
}

impl<P: Platform, T: Payload + ?Sized, H: ZeroCopySend> Sample<'_, P, T, H> {
    /// The payload.
    pub fn payload(&self) -> &T {
        self.chunk.payload()
    }

    /// The user header.
    pub fn user_header(&self) -> &H {
        self.chunk.user_header()
    }

    /// The sending publisher's id.
    pub fn origin(&self) -> u64 {
        self.chunk.origin
    }
}

impl<P: Platform, T: Payload + ?Sized, H: ZeroCopySend> Deref for Sample<'_, P, T, H> {
    type Target = T;
    fn deref(&self) -> &T {
        self.payload()
    }
}

impl<P: Platform, T: Payload + ?Sized, H: ZeroCopySend> Drop for Sample<'_, P, T, H> {
    fn drop(&mut self) {
        self.subscriber.release(self.connection, self.chunk.segment, self.chunk.index);
    }
}

impl<P: Platform, T: Payload + ?Sized + fmt::Debug, H: ZeroCopySend> fmt::Debug for Sample<'_, P, T, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sample").field("origin", &self.chunk.origin).field("payload", &self.payload()).finish()
    }
}

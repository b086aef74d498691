//! Loans and samples: what a sending port writes and a receiving port reads.
//!
//! A loan is a [`ChunkMutUninit`] until its payload is written
//! (`write_payload`, `write_from_fn`, `write_from_slice`, or `unsafe
//! assume_init`); only then is it a [`ChunkMut`], which can be sent. The
//! same two types serve every sending port, under the names users know:
//! [`SampleMutUninit`](crate::SampleMutUninit) / [`SampleMut`](crate::SampleMut) (publisher),
//! [`RequestMutUninit`](crate::RequestMutUninit) / [`RequestMut`](crate::RequestMut) (client),
//! [`ResponseMutUninit`](crate::ResponseMutUninit) / [`ResponseMut`](crate::ResponseMut) (active request).
//! Dropping a loan without sending returns the chunk. A received [`Sample`]
//! returns its chunk to the publisher when dropped.

use crate::handle::Handle;
use crate::zero_copy::{Opaque, Payload, ZeroCopySend};
use core::fmt;
use core::marker::PhantomData;
use core::mem::MaybeUninit;
use core::ops::{Deref, DerefMut};

pub(crate) mod sealed {
    /// What a loan needs of the port it came from. Sealed: implemented by
    /// icefloe's sending ports only.
    pub trait Port {
        /// The chunk's user header and payload.
        fn parts(&self, slot: usize, index: u32) -> (*mut u8, *mut u8);
        /// Gives back an unsent loan.
        fn discard(&self, slot: usize, index: u32);
        /// The size in bytes of one payload element, as the service records it.
        fn element_size(&self) -> usize;
        /// The size in bytes of the user header, as the service records it.
        fn header_size(&self) -> usize;
        /// What a send returns: receivers reached (a publisher), the
        /// pending response (a client), nothing (an active request).
        type Sent<L>
        where
            L: crate::handle::Handle<Target = Self>;
        /// Why a send failed.
        type Error;
        /// Sends chunk `index` of segment slot `slot`, loaned through `port`.
        fn send<L: crate::handle::Handle<Target = Self>>(
            port: L,
            slot: usize,
            index: u32,
        ) -> Result<Self::Sent<L>, Self::Error>;
    }

    /// What a received chunk needs of the port it came from: a way back.
    /// Sealed: implemented by icefloe's receiving ports only.
    pub trait Receiver {
        /// Returns chunk `index` of `segment`, received on `connection`.
        fn release(&self, connection: u32, segment: u32, index: u32);
        /// The size in bytes of one payload element, as the service records it.
        fn element_size(&self) -> usize;
        /// The size in bytes of the user header, as the service records it.
        fn header_size(&self) -> usize;
    }

    /// What a pending response needs of its client. Sealed.
    pub trait Requester {
        /// Frees `channel`: nobody listens on it any more.
        fn close_channel(&self, channel: u32);
        /// The word servers signal when they send responses.
        fn response_waker(&self) -> Option<crate::shm::event::Waker<'_>>;
        /// Whether the request on `channel` tagged `tag` has a response
        /// waiting or its stream has ended.
        fn request_settled(&self, channel: u32, tag: u32) -> bool;
        /// Sets the disconnect hint of the request on `channel` tagged `tag`.
        fn hint_disconnect(&self, channel: u32, tag: u32);
    }

    /// What an active request needs of its server. Sealed.
    pub trait Responder {
        /// The request (from client slot `client` of generation `gen`,
        /// tagged `tag`, in chunk `index` of `segment`) is done with.
        fn finish(&self, client: u32, gen: u16, tag: u32, segment: u32, index: u32);
        /// The size in bytes of one request element, as the service records it.
        fn element_size(&self) -> usize;
        /// The size in bytes of the request user header, as the service records it.
        fn header_size(&self) -> usize;
    }
}

/// A [`Handle`] to a port that lends chunks: a publisher, a client, or an
/// active request (for its responses). Sealed.
pub trait Lender: Handle<Target: sealed::Port> {}
impl<L: Handle<Target: sealed::Port>> Lender for L {}

/// A [`Handle`] to a receiving port, which a [`Sample`] (of a subscriber)
/// or a [`Response`](crate::Response) (of a pending response) holds. Sealed.
pub trait SampleSource: Handle<Target: sealed::Receiver> {}
impl<R: Handle<Target: sealed::Receiver>> SampleSource for R {}

/// A chunk on loan from a port; returns it on drop unless sent.
pub(crate) struct Loan<L: Lender, T: Payload + ?Sized, H: ZeroCopySend> {
    pub(crate) port: L,
    pub(crate) segment: usize,
    pub(crate) index: u32,
    len: usize,
    header: *mut H,
    payload: *mut T::Element,
}

impl<L: Lender, T: Payload + ?Sized, H: ZeroCopySend> Loan<L, T, H> {
    pub(crate) fn new(port: L, segment: usize, index: u32, len: usize) -> Self {
        let (header, payload) = sealed::Port::parts(&*port, segment, index);
        let header = header.cast::<H>();
        // A header of a type described at run time (`Opaque`, no bytes of
        // its own) has the size the service records.
        let size = if H::DESCRIBED_AT_RUN_TIME { sealed::Port::header_size(&*port) } else { core::mem::size_of::<H>() };
        // SAFETY: `header` points into the loaned chunk, which this loan owns
        // exclusively, aligned for `H`, with room for the header the service
        // records (`size_of::<H>()` for a Rust type, which the service was
        // checked to record); all-zero bytes are a valid value of every
        // `ZeroCopySend` type (its safety contract: every bit pattern is).
        unsafe { core::ptr::write_bytes(header.cast::<u8>(), 0, size) };
        Self { port, segment, index, len, header, payload: payload.cast() }
    }

    /// Hands the chunk over: (port, segment slot, index).
    pub(crate) fn take(self) -> (L, usize, u32) {
        let this = core::mem::ManuallyDrop::new(self);
        // SAFETY: `this` is never dropped or used again, so the handle is
        // moved out exactly once (and the chunk is not given back).
        let port = unsafe { core::ptr::read(&this.port) };
        (port, this.segment, this.index)
    }
}

impl<L: Lender, T: Payload + ?Sized, H: ZeroCopySend> Drop for Loan<L, T, H> {
    fn drop(&mut self) {
        sealed::Port::discard(&*self.port, self.segment, self.index);
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

impl<L: Lender, T: Payload + ?Sized> ChunkMutUninit<L, T, Opaque> {
    /// The user header's bytes, to write (zeroed at loan; the size the
    /// service records).
    pub fn user_header_bytes_mut(&mut self) -> &mut [u8] {
        let size = sealed::Port::header_size(&*self.loan.port);
        // SAFETY: the header lies in our exclusive chunk with room for the
        // recorded size, and was zeroed at loan.
        unsafe { core::slice::from_raw_parts_mut(self.loan.header.cast::<u8>(), size) }
    }
}

impl<L: Lender, T: Payload + ?Sized> ChunkMut<L, T, Opaque> {
    /// The user header's bytes (the size the service records).
    pub fn user_header_bytes(&self) -> &[u8] {
        let size = sealed::Port::header_size(&*self.loan.port);
        // SAFETY: as for the uninitialized loan's header.
        unsafe { core::slice::from_raw_parts(self.loan.header.cast::<u8>(), size) }
    }

    /// The user header's bytes, to change.
    pub fn user_header_bytes_mut(&mut self) -> &mut [u8] {
        let size = sealed::Port::header_size(&*self.loan.port);
        // SAFETY: as above, exclusive through `&mut self`.
        unsafe { core::slice::from_raw_parts_mut(self.loan.header.cast::<u8>(), size) }
    }
}

impl<L: Lender, H: ZeroCopySend> ChunkMutUninit<L, [Opaque], H> {
    /// The payload's memory, to write in place: every byte of the loaned
    /// elements (length × the element size the service records).
    pub fn payload_bytes_mut(&mut self) -> &mut [MaybeUninit<u8>] {
        let bytes = self.loan.len * sealed::Port::element_size(&*self.loan.port);
        // SAFETY: the chunk holds at least `len` elements of the recorded
        // size (checked at loan) and is exclusively ours.
        unsafe { core::slice::from_raw_parts_mut(self.loan.payload.cast::<MaybeUninit<u8>>(), bytes) }
    }

    /// Copies `bytes` in as the whole payload (a bridge or a binding that
    /// received the payload as bytes).
    ///
    /// # Panics
    ///
    /// If `bytes.len()` differs from the loaned length × the element size.
    pub fn write_payload_bytes(mut self, bytes: &[u8]) -> ChunkMut<L, [Opaque], H> {
        let dst = self.payload_bytes_mut();
        assert_eq!(bytes.len(), dst.len(), "write_payload_bytes needs exactly the loaned bytes");
        for (slot, b) in dst.iter_mut().zip(bytes) {
            slot.write(*b);
        }
        self.filled()
    }
}

impl<L: Lender, H: ZeroCopySend> ChunkMut<L, [Opaque], H> {
    /// The payload's bytes (length × the element size the service records).
    pub fn payload_bytes(&self) -> &[u8] {
        let bytes = self.loan.len * sealed::Port::element_size(&*self.loan.port);
        // SAFETY: as for `payload_bytes_mut` of the uninitialized loan; the
        // bytes were declared written by `assume_init`.
        unsafe { core::slice::from_raw_parts(self.loan.payload.cast::<u8>(), bytes) }
    }

    /// The payload's bytes, to change.
    pub fn payload_bytes_mut(&mut self) -> &mut [u8] {
        let bytes = self.loan.len * sealed::Port::element_size(&*self.loan.port);
        // SAFETY: as above; `&mut self` makes the access exclusive.
        unsafe { core::slice::from_raw_parts_mut(self.loan.payload.cast::<u8>(), bytes) }
    }
}

impl<L: Lender, T: Payload + ?Sized, H: ZeroCopySend> ChunkMut<L, T, H> {
    /// Sends the chunk. A publisher's sample goes to every connected
    /// subscriber and the send returns how many it reached (no allocation, no
    /// system call unless a subscriber sleeps in a wait); a client's request
    /// goes to every connected server and the send returns its
    /// [`PendingResponse`](crate::PendingResponse); an active request's response goes to its client.
    #[allow(clippy::type_complexity)] // the lending port says what a send returns
    #[inline]
    pub fn send(self) -> Result<<L::Target as sealed::Port>::Sent<L>, <L::Target as sealed::Port>::Error> {
        let (port, segment, index) = self.loan.take();
        <L::Target as sealed::Port>::send(port, segment, index)
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

/// A chunk a receiver accepted (its reference and length checked): where
/// it is and what it says.
pub(crate) struct Received {
    pub(crate) segment: u32,
    pub(crate) index: u32,
    pub(crate) len: usize,
    pub(crate) origin: u64,
    pub(crate) tag: u32,
    pub(crate) header: *const u8,
    pub(crate) payload: *const u8,
}

/// A request its client still references for the pending response waiting
/// on it, read for as long as `'a` (the pending response's borrow). Made
/// only from a client's channel record, which names a chunk holding `len`
/// written elements that nobody writes any more (the client sent it,
/// servers only read it) and that the record's reference keeps allocated.
pub(crate) struct Sent<'a> {
    header: *const u8,
    payload: *const u8,
    len: usize,
    _holder: PhantomData<&'a ()>,
}

impl<'a> Sent<'a> {
    /// The request in chunk parts `(header, payload, len)`, for as long as
    /// `holder` (the pending response) is borrowed.
    pub(crate) fn new<X>((header, payload, len): (*const u8, *const u8, usize), _holder: &'a X) -> Self {
        Self { header, payload, len, _holder: PhantomData }
    }

    pub(crate) fn payload<T: Payload + ?Sized>(&self) -> &'a T {
        // SAFETY: the record names `len` initialized elements of the
        // client's request type at `payload`, written before the send and
        // not written since; the reference keeps the chunk allocated while
        // the pending response (borrowed for `'a`) lives.
        unsafe { T::from_raw_parts(self.payload.cast(), self.len) }
    }

    pub(crate) fn user_header<H: ZeroCopySend>(&self) -> &'a H {
        // SAFETY: as for `payload`; the header was zeroed at loan and is
        // a valid `H` whatever its bytes (`ZeroCopySend`'s contract).
        unsafe { &*self.header.cast::<H>() }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The payload's bytes, for elements of `element_size` bytes (the size
    /// the service records, which the loan was sized by).
    pub(crate) fn payload_bytes(&self, element_size: usize) -> &'a [u8] {
        // SAFETY: as for `payload`: the chunk holds `len` elements of the
        // recorded size.
        unsafe { core::slice::from_raw_parts(self.payload, self.len * element_size) }
    }

    /// The user header's bytes, `size` as the service records it.
    pub(crate) fn user_header_bytes(&self, size: usize) -> &'a [u8] {
        // SAFETY: as for `user_header`; the chunk has room for the recorded size.
        unsafe { core::slice::from_raw_parts(self.header, size) }
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
    pub(crate) fn new(got: &Received) -> Self {
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

    /// The number of elements.
    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

impl<T: Payload + ?Sized> Held<T, Opaque> {
    /// The user header's bytes, of the size the service records (which the
    /// receiver checked against the sender's layout).
    pub(crate) fn user_header_bytes(&self, size: usize) -> &[u8] {
        // SAFETY: as for `user_header`: the header lies within the chunk,
        // whose layout the receiver validated for this header size.
        unsafe { core::slice::from_raw_parts(self.header.cast::<u8>(), size) }
    }
}

impl<H> Held<[Opaque], H> {
    /// The payload's bytes, for elements of `element_size` bytes (the size
    /// the service records, which the receiver checked the length against).
    pub(crate) fn payload_bytes(&self, element_size: usize) -> &[u8] {
        // SAFETY: as for `payload`: the receiver validated `len` elements of
        // the recorded size against the chunk's capacity.
        unsafe { core::slice::from_raw_parts(self.payload.cast::<u8>(), self.len * element_size) }
    }
}

/// A received sample: reads the publisher's chunk in place; returns it on
/// drop. Holds its subscriber through `R`: `&Subscriber` from
/// [`Subscriber::receive`](crate::Subscriber::receive), or an owning handle from
/// [`Subscriber::receive_via`](crate::Subscriber::receive_via). Not `Send`: it stays on its subscriber's
/// thread, because returning the chunk updates the subscriber's
/// process-local bookkeeping, which has no lock.
pub struct Sample<R: SampleSource, T: Payload + ?Sized, H: ZeroCopySend> {
    pub(crate) connection: u32,
    pub(crate) chunk: Held<T, H>,
    pub(crate) subscriber: R,
}

impl<R: SampleSource, T: Payload + ?Sized, H: ZeroCopySend> Sample<R, T, H> {
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

impl<R: SampleSource, T: Payload + ?Sized> Sample<R, T, Opaque> {
    /// The user header's bytes (the size the service records).
    pub fn user_header_bytes(&self) -> &[u8] {
        self.chunk.user_header_bytes(sealed::Receiver::header_size(&*self.subscriber))
    }
}

impl<R: SampleSource, H: ZeroCopySend> Sample<R, [Opaque], H> {
    /// The payload's bytes (length × the element size the service records).
    pub fn payload_bytes(&self) -> &[u8] {
        self.chunk.payload_bytes(sealed::Receiver::element_size(&*self.subscriber))
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.chunk.len()
    }

    /// Whether the payload has no elements.
    pub fn is_empty(&self) -> bool {
        self.chunk.len() == 0
    }
}

impl<R: SampleSource, T: Payload + ?Sized, H: ZeroCopySend> Deref for Sample<R, T, H> {
    type Target = T;
    fn deref(&self) -> &T {
        self.payload()
    }
}

impl<R: SampleSource, T: Payload + ?Sized, H: ZeroCopySend> Drop for Sample<R, T, H> {
    fn drop(&mut self) {
        sealed::Receiver::release(&*self.subscriber, self.connection, self.chunk.segment, self.chunk.index);
    }
}

impl<R: SampleSource, T: Payload + ?Sized + fmt::Debug, H: ZeroCopySend> fmt::Debug for Sample<R, T, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sample").field("origin", &self.chunk.origin).field("payload", &self.payload()).finish()
    }
}

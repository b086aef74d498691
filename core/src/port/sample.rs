//! Loans and samples: what a publisher writes and a subscriber reads.
//!
//! `loan_uninit` gives a [`SampleMutUninit`], which has no `send`: only after
//! writing the payload (`write_payload`, `write_from_fn`, `write_from_slice`,
//! or `unsafe assume_init`) does it become a [`SampleMut`] that can be sent.
//! Dropping either without sending returns the chunk. A received [`Sample`]
//! returns its chunk to the publisher when dropped.

use super::publisher::Publisher;
use super::subscriber::Subscriber;
use super::SendError;
use crate::platform::Platform;
use crate::zero_copy::{Payload, ZeroCopySend};
use core::fmt;
use core::mem::MaybeUninit;
use core::ops::{Deref, DerefMut};

/// A chunk on loan from a publisher; returns it on drop unless sent.
pub(crate) struct Loan<'a, P: Platform, T: Payload + ?Sized, H: ZeroCopySend> {
    publisher: &'a Publisher<'a, P, T, H>,
    segment: usize,
    index: u32,
    len: usize,
    header: *mut H,
    payload: *mut T::Element,
    live: bool,
}

impl<'a, P: Platform, T: Payload + ?Sized, H: ZeroCopySend> Loan<'a, P, T, H> {
    pub(crate) fn new(publisher: &'a Publisher<'a, P, T, H>, segment: usize, index: u32, len: usize) -> Self {
        let (header, payload) = publisher.chunk_parts(segment, index);
        // SAFETY: `header` points into the loaned chunk, which this loan owns
        // exclusively, aligned for `H`; all-zero bytes are a valid value of
        // every `ZeroCopySend` type made of primitives.
        unsafe { core::ptr::write_bytes(header.cast::<u8>(), 0, core::mem::size_of::<H>()) };
        Self { publisher, segment, index, len, header, payload, live: true }
    }
}

impl<P: Platform, T: Payload + ?Sized, H: ZeroCopySend> Drop for Loan<'_, P, T, H> {
    fn drop(&mut self) {
        if self.live {
            self.publisher.discard(self.segment, self.index);
        }
    }
}

/// A loaned sample whose payload is not yet written. It cannot be sent.
pub struct SampleMutUninit<'a, P: Platform, T: Payload + ?Sized, H: ZeroCopySend> {
    loan: Loan<'a, P, T, H>,
}

/// A loaned sample whose payload is written: read, change, [`send`](Self::send).
pub struct SampleMut<'a, P: Platform, T: Payload + ?Sized, H: ZeroCopySend> {
    loan: Loan<'a, P, T, H>,
}

impl<'a, P: Platform, T: Payload + ?Sized, H: ZeroCopySend> SampleMutUninit<'a, P, T, H> {
    pub(crate) fn new(loan: Loan<'a, P, T, H>) -> Self {
        Self { loan }
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
    pub unsafe fn assume_init(self) -> SampleMut<'a, P, T, H> {
        SampleMut { loan: self.loan }
    }
}

impl<'a, P: Platform, T: ZeroCopySend, H: ZeroCopySend> SampleMutUninit<'a, P, T, H> {
    /// The payload's memory, to write in place.
    pub fn payload_mut(&mut self) -> &mut MaybeUninit<T> {
        // SAFETY: the payload slot lies in our exclusive chunk, aligned for T.
        unsafe { &mut *self.loan.payload.cast::<MaybeUninit<T>>() }
    }

    /// Writes the payload.
    pub fn write_payload(mut self, value: T) -> SampleMut<'a, P, T, H> {
        self.payload_mut().write(value);
        SampleMut { loan: self.loan }
    }
}

impl<'a, P: Platform, E: ZeroCopySend, H: ZeroCopySend> SampleMutUninit<'a, P, [E], H> {
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
    pub fn write_from_fn(mut self, mut f: impl FnMut(usize) -> E) -> SampleMut<'a, P, [E], H> {
        for (i, slot) in self.payload_mut().iter_mut().enumerate() {
            slot.write(f(i));
        }
        SampleMut { loan: self.loan }
    }

    /// Copies `values` in.
    ///
    /// # Panics
    ///
    /// If `values.len()` differs from the loaned length.
    pub fn write_from_slice(mut self, values: &[E]) -> SampleMut<'a, P, [E], H>
    where
        E: Copy,
    {
        assert_eq!(values.len(), self.loan.len, "write_from_slice needs exactly the loaned length");
        for (slot, v) in self.payload_mut().iter_mut().zip(values) {
            slot.write(*v);
        }
        SampleMut { loan: self.loan }
    }
}

impl<'a, P: Platform, T: Payload + ?Sized, H: ZeroCopySend> SampleMut<'a, P, T, H> {
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

    /// Sends the sample to every connected subscriber; returns how many it
    /// reached. No allocation; no system call.
    pub fn send(mut self) -> Result<usize, SendError> {
        self.loan.live = false;
        self.loan.publisher.deliver(self.loan.segment, self.loan.index)
    }
}

impl<P: Platform, T: Payload + ?Sized, H: ZeroCopySend> Deref for SampleMut<'_, P, T, H> {
    type Target = T;
    fn deref(&self) -> &T {
        self.payload()
    }
}

impl<P: Platform, T: Payload + ?Sized, H: ZeroCopySend> DerefMut for SampleMut<'_, P, T, H> {
    fn deref_mut(&mut self) -> &mut T {
        self.payload_mut()
    }
}

/// A received sample: reads the publisher's chunk in place; returns it on drop.
pub struct Sample<'a, P: Platform, T: Payload + ?Sized, H: ZeroCopySend> {
    pub(crate) subscriber: &'a Subscriber<'a, P, T, H>,
    pub(crate) connection: u32,
    pub(crate) segment: u32,
    pub(crate) index: u32,
    pub(crate) len: usize,
    pub(crate) header: *const H,
    pub(crate) payload: *const T::Element,
    pub(crate) origin: u64,
}

impl<P: Platform, T: Payload + ?Sized, H: ZeroCopySend> Sample<'_, P, T, H> {
    /// The payload.
    pub fn payload(&self) -> &T {
        // SAFETY: the subscriber validated the chunk index and the length
        // against the chunk's capacity; the mapping stays while any sample
        // of it is borrowed; the sender no longer writes a sent chunk.
        unsafe { T::from_raw_parts(self.payload, self.len) }
    }

    /// The user header.
    pub fn user_header(&self) -> &H {
        // SAFETY: as for the payload; the header lies within the chunk.
        unsafe { &*self.header }
    }

    /// The sending publisher's id.
    pub fn origin(&self) -> u64 {
        self.origin
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
        self.subscriber.release(self.connection, self.segment, self.index);
    }
}

impl<P: Platform, T: Payload + ?Sized + fmt::Debug, H: ZeroCopySend> fmt::Debug for Sample<'_, P, T, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sample").field("origin", &self.origin).field("payload", &self.payload()).finish()
    }
}

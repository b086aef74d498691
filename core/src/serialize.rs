//! Serde values through loaned byte slices (feature `postcard`).
//!
//! [`Publisher::send_serialized`](crate::Publisher::send_serialized) measures
//! the value's postcard encoding, loans a `[u8]` slice of exactly that
//! length, and encodes straight into the shared memory: no intermediate
//! buffer, no allocation. [`Sample::deserialize`](crate::Sample::deserialize)
//! decodes on receipt (borrowing from the sample for `&str` and `&[u8]`
//! fields). Works on a service of `[u8]` payloads; the encoded length obeys
//! the publisher's slice ceiling and allocation strategy like any loan.
//! Request-response has the same pair: `Client::send_serialized`,
//! `ActiveRequest::deserialize`, `ActiveRequest::send_serialized`,
//! `Response::deserialize`.

use crate::chunk::{ChunkMut, ChunkMutUninit, Lender, Sample, SampleSource};
use crate::handle::Handle;
use crate::platform::Platform;
use crate::port::client::{Client, PendingResponse, Response};
use crate::port::publisher::Publisher;
use crate::port::server::{ActiveRequest, RequestHolder, Server};
use crate::port::{LoanError, RequestSendError, SendError};
use crate::service::publish_subscribe::PublishSubscribe;
use crate::service::request_response::RequestResponse;
use crate::zero_copy::{Payload, ZeroCopySend};
use core::fmt;
use core::mem::MaybeUninit;
use postcard::ser_flavors::Flavor;
use serde::{Deserialize, Serialize};

/// Why a value could not be sent serialized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum SerializeSendError {
    /// The encoding is longer than the publisher may loan (its
    /// `max_slice_len`, or its current length under `Static`); `len` bytes.
    TooLarge {
        /// The encoded length.
        len: usize,
    },
    /// Loaning the slice failed.
    Loan(LoanError),
    /// The value cannot be encoded by postcard (for example, a map of
    /// unknown length).
    Encode,
    /// Sending failed.
    Send(SendError),
    /// A client already has `max_active_requests_per_client` pending responses.
    ExceedsMaxActiveRequests,
}

/// The bytes of a sample are not a postcard encoding of the requested type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DecodeError;

impl fmt::Display for SerializeSendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { len } => write!(f, "encoded value of {len} bytes exceeds the slice ceiling"),
            Self::Loan(e) => write!(f, "loan failed: {e}"),
            Self::Encode => f.write_str("value cannot be encoded with postcard"),
            Self::Send(e) => write!(f, "send failed: {e}"),
            Self::ExceedsMaxActiveRequests => f.write_str("too many pending requests"),
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("sample bytes are not a valid postcard encoding of the requested type")
    }
}

impl core::error::Error for SerializeSendError {}
impl core::error::Error for DecodeError {}

/// Counts bytes without writing them.
struct Count(usize);

impl Flavor for Count {
    type Output = usize;
    fn try_push(&mut self, _: u8) -> postcard::Result<()> {
        self.0 += 1;
        Ok(())
    }
    fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
        self.0 += data.len();
        Ok(())
    }
    fn finalize(self) -> postcard::Result<usize> {
        Ok(self.0)
    }
}

/// Writes into uninitialized memory, refusing to run past its end.
struct Fill<'a> {
    buf: &'a mut [MaybeUninit<u8>],
    at: usize,
}

impl Flavor for Fill<'_> {
    type Output = usize;
    fn try_push(&mut self, b: u8) -> postcard::Result<()> {
        let slot = self.buf.get_mut(self.at).ok_or(postcard::Error::SerializeBufferFull)?;
        slot.write(b);
        self.at += 1;
        Ok(())
    }
    fn finalize(self) -> postcard::Result<usize> {
        Ok(self.at)
    }
}

/// The length of `value`'s postcard encoding.
pub fn encoded_len<V: Serialize + ?Sized>(value: &V) -> Result<usize, SerializeSendError> {
    postcard::serialize_with_flavor(value, Count(0)).map_err(|_| SerializeSendError::Encode)
}

/// Encodes `value` into a loan from `loan` (a loan function of the port)
/// of exactly its encoded length.
fn encode<L: Lender, H: ZeroCopySend, V: Serialize + ?Sized>(
    value: &V,
    loan: impl FnOnce(usize) -> Result<ChunkMutUninit<L, [u8], H>, LoanError>,
) -> Result<ChunkMut<L, [u8], H>, SerializeSendError> {
    let len = encoded_len(value)?;
    let mut loan = loan(len).map_err(|e| match e {
        LoanError::ExceedsMaxLoanSize => SerializeSendError::TooLarge { len },
        other => SerializeSendError::Loan(other),
    })?;
    let written = postcard::serialize_with_flavor(value, Fill { buf: loan.payload_mut(), at: 0 })
        .map_err(|_| SerializeSendError::Encode)?;
    if written != len {
        // A `Serialize` impl that encodes differently twice.
        return Err(SerializeSendError::Encode);
    }
    // SAFETY: the flavor wrote every one of the `len` bytes (checked just
    // above: it writes sequentially from 0 and wrote `len`).
    Ok(unsafe { loan.assume_init() })
}

impl<P: Platform, H: ZeroCopySend, S: Handle<Target = PublishSubscribe<P, [u8], H>>> Publisher<P, [u8], H, S> {
    /// Encodes `value` with postcard directly into a loaned slice of exactly
    /// its length and sends it. Two passes over the value (measure, write),
    /// no copy, no allocation.
    pub fn send_serialized<V: Serialize + ?Sized>(&self, value: &V) -> Result<usize, SerializeSendError> {
        encode(value, |len| self.loan_slice_uninit(len))?.send().map_err(SerializeSendError::Send)
    }
}

impl<R: SampleSource, H: ZeroCopySend> Sample<R, [u8], H> {
    /// Decodes the sample's bytes as a postcard-encoded `V`.
    pub fn deserialize<'s, V: Deserialize<'s>>(&'s self) -> Result<V, DecodeError> {
        postcard::from_bytes(self.payload()).map_err(|_| DecodeError)
    }
}

impl<
        P: Platform,
        Res: Payload + ?Sized,
        ReqH: ZeroCopySend,
        ResH: ZeroCopySend,
        S: Handle<Target = RequestResponse<P, [u8], Res, ReqH, ResH>>,
    > Client<P, [u8], Res, ReqH, ResH, S>
{
    /// Encodes `value` with postcard directly into a loaned request slice
    /// and sends it (see [`Publisher::send_serialized`]).
    pub fn send_serialized<V: Serialize + ?Sized>(
        &self,
        value: &V,
    ) -> Result<PendingResponse<&Self>, SerializeSendError> {
        encode(value, |len| self.loan_slice_uninit(len))?.send().map_err(|e| match e {
            RequestSendError::ExceedsMaxActiveRequests => SerializeSendError::ExceedsMaxActiveRequests,
            RequestSendError::Send(e) => SerializeSendError::Send(e),
        })
    }
}

impl<R, P, Req, ReqH, ResH, S> ActiveRequest<R, Req, ReqH>
where
    R: Handle<Target = Server<P, Req, [u8], ReqH, ResH, S>>,
    P: Platform,
    Req: Payload + ?Sized,
    ReqH: ZeroCopySend,
    ResH: ZeroCopySend,
    S: Handle<Target = RequestResponse<P, Req, [u8], ReqH, ResH>>,
{
    /// Encodes `value` with postcard directly into a loaned response slice
    /// and sends it to the request's client.
    pub fn send_serialized<V: Serialize + ?Sized>(&self, value: &V) -> Result<(), SerializeSendError> {
        encode(value, |len| self.loan_slice_uninit(len))?.send().map_err(SerializeSendError::Send)
    }
}

impl<R: RequestHolder, ReqH: ZeroCopySend> ActiveRequest<R, [u8], ReqH> {
    /// Decodes the request's bytes as a postcard-encoded `V`.
    pub fn deserialize<'s, V: Deserialize<'s>>(&'s self) -> Result<V, DecodeError> {
        postcard::from_bytes(self.payload()).map_err(|_| DecodeError)
    }
}

impl<R: SampleSource, ResH: ZeroCopySend> Response<R, [u8], ResH> {
    /// Decodes the response's bytes as a postcard-encoded `V`.
    pub fn deserialize<'s, V: Deserialize<'s>>(&'s self) -> Result<V, DecodeError> {
        postcard::from_bytes(self.payload()).map_err(|_| DecodeError)
    }
}

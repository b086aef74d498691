//! Ports: publishers and subscribers, and the samples they loan, send,
//! receive and return.
//!
//! All hot-path operations (`loan`, `send`, `receive`, dropping a sample)
//! make no allocation and no system call; they touch the chunk, the queue
//! counters and, when ports come or go, the port tables.

pub mod publisher;
pub(crate) mod receiver;
pub mod sample;
pub(crate) mod sender;
pub mod subscriber;

use crate::platform::ShmError;
use core::fmt;

/// Why a loan failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum LoanError {
    /// The publisher already has `max_loaned_samples` loans out.
    ExceedsMaxLoans,
    /// Every chunk is in use (receivers hold them all).
    OutOfMemory,
    /// The requested slice is longer than the port's maximum slice length.
    ExceedsMaxLoanSize,
}

/// Why a send failed (the sample was still delivered where it could be).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SendError {
    /// Loaning a chunk for `send_copy` failed.
    Loan(LoanError),
    /// A connection turned out corrupt (a peer wrote garbage): it is marked
    /// and no longer served; `delivered` receivers got the sample.
    ConnectionCorrupted {
        /// Receivers the sample reached.
        delivered: usize,
    },
}

/// Why a receive failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ReceiveError {
    /// The subscriber already holds `subscriber_max_borrowed_samples` samples.
    ExceedsMaxBorrows,
    /// A connection's memory is corrupt (a peer wrote garbage); it is marked
    /// and skipped from now on.
    ConnectionCorrupted,
    /// A sample claims a length its chunk cannot hold; it was returned unread.
    CorruptedSample,
    /// A publisher's data segment could not be mapped or failed validation;
    /// that connection is skipped.
    UnableToMapPublishersDataSegment,
}

/// Why a publisher could not be created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PublisherCreateError {
    /// Every publisher slot of the service is taken.
    ExceedsMaxSupportedPublishers,
    /// `max_loaned_samples` is zero or the slice length is zero.
    InvalidConfig,
    /// The data segment would exceed 4 GiB or 2²⁴ chunks.
    DataSegmentTooLarge,
    /// The OS refused the data segment.
    UnableToCreateDataSegment(ShmError),
}

/// Why a subscriber could not be created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SubscriberCreateError {
    /// Every subscriber slot of the service is taken.
    ExceedsMaxSupportedSubscribers,
}

macro_rules! display_as_debug {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(self, f)
            }
        }
        impl core::error::Error for $t {}
    )*};
}
display_as_debug!(LoanError, SendError, ReceiveError, PublisherCreateError, SubscriberCreateError);

impl From<LoanError> for SendError {
    fn from(e: LoanError) -> Self {
        Self::Loan(e)
    }
}

/// What a publisher does when a subscriber's queue is full and safe
/// overflow is off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum BackpressureStrategy {
    /// Wait (spinning, then sleeping briefly) until the subscriber makes
    /// room or goes away. The default, as in iceoryx2.
    #[default]
    RetryUntilDelivered,
    /// Skip that subscriber for this sample.
    DiscardData,
}

/// How a slice port sizes a new data segment when a loan needs more than
/// the current one holds (iceoryx2's names and meanings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum AllocationStrategy {
    /// Never grow: a loan longer than `initial_max_slice_len` fails with
    /// [`LoanError::ExceedsMaxLoanSize`]. The default.
    #[default]
    Static,
    /// Grow to exactly the length asked for.
    BestFit,
    /// Grow to the next power of two at or above the length asked for.
    PowerOfTwo,
}

/// The hard ceiling on a slice port's length, in elements, unless set with
/// `max_slice_len`: 16 Mi elements. Growth never passes it.
pub const DEFAULT_MAX_SLICE_LEN: u32 = 16 * 1024 * 1024;

impl AllocationStrategy {
    /// The capacity of the segment to create for a loan of `len` elements,
    /// given the current capacity and the ceiling; `None` if it may not grow.
    pub fn grow_to(self, current: u32, len: u32, max: u32) -> Option<u32> {
        if len <= current {
            return Some(current);
        }
        if len > max {
            return None;
        }
        match self {
            Self::Static => None,
            Self::BestFit => Some(len),
            Self::PowerOfTwo => Some(len.checked_next_power_of_two().unwrap_or(max).min(max)),
        }
    }
}

//! Ports: publishers and subscribers, clients and servers, and the samples,
//! requests and responses they loan, send, receive and return.
//!
//! All hot-path operations (`loan`, `send`, `receive`, dropping a sample)
//! make no allocation and no system call; they touch the chunk, the queue
//! counters and, when ports come or go, the port tables.

/// The slice knobs of every sending port's builder (publisher, client,
/// server), over its `slices: SliceSettings`: `$what` names the payloads
/// ("samples"), `$ceiling` the service setting that bounds them.
macro_rules! slice_setters {
    ($what:literal, $ceiling:literal) => {
        #[doc = concat!("For slice ", $what, ": the slice length the first data segment is sized for ")]
        #[doc = "(a hint, default 1). With [`AllocationStrategy::Static`](crate::AllocationStrategy::Static) it is"]
        #[doc = "also the longest loan."]
        pub fn initial_max_slice_len(mut self, n: u32) -> Self {
            self.slices.initial_max_slice_len = n;
            self
        }

        #[doc = concat!("For slice ", $what, ": how the data segment grows when a loan needs more ")]
        #[doc = "(default [`AllocationStrategy::Static`](crate::AllocationStrategy::Static): it does not)."]
        pub fn allocation_strategy(mut self, s: crate::AllocationStrategy) -> Self {
            self.slices.strategy = s;
            self
        }

        #[doc = concat!("For slice ", $what, ": the hard ceiling growth never passes, in elements ")]
        #[doc = concat!("(default and upper bound: the service's `", $ceiling, "`, itself by default ")]
        #[doc = "[`DEFAULT_MAX_SLICE_LEN`](crate::port::DEFAULT_MAX_SLICE_LEN)). A longer loan fails with"]
        #[doc = "[`LoanError::ExceedsMaxLoanSize`](crate::LoanError::ExceedsMaxLoanSize) whatever the strategy."]
        pub fn max_slice_len(mut self, n: u32) -> Self {
            self.slices.max_slice_len = n.min(self.slices.ceiling);
            self
        }
    };
}

/// The backpressure knobs of every sending port's builder (publisher,
/// client, server), over its `backpressure: Backpressure`: `$receiver`
/// names who fills up ("subscriber").
macro_rules! backpressure_setters {
    ($receiver:literal) => {
        #[doc = concat!("What to do when a ", $receiver, "'s queue is full and the service has no")]
        #[doc = "safe overflow (default [`BackpressureStrategy::RetryUntilDelivered`](crate::BackpressureStrategy::RetryUntilDelivered))."]
        pub fn backpressure_strategy(mut self, s: crate::BackpressureStrategy) -> Self {
            self.backpressure.strategy = s;
            self
        }

        #[doc = concat!("With `RetryUntilDelivered`: how long one ", $receiver, " may keep its queue full")]
        #[doc = "before the send gives up on it for this payload (or asks the"]
        #[doc = "[`unable_to_deliver_handler`](Self::unable_to_deliver_handler)). Default: no bound, as in"]
        #[doc = "iceoryx2 (a receiver that stops consuming stalls the sender until it goes)."]
        pub fn backpressure_timeout(mut self, timeout: core::time::Duration) -> Self {
            self.backpressure.timeout = Some(timeout);
            self
        }

        #[doc = concat!("With `RetryUntilDelivered`: called with the stalled ", $receiver, "'s id each time")]
        #[doc = "it has kept its queue full for the [`backpressure_timeout`](Self::backpressure_timeout)"]
        #[doc = "(100 ms if none is set); it says whether to wait on or to skip that receiver for this"]
        #[doc = "payload. Without a handler, a timeout skips it. Every skip is logged as a warning."]
        pub fn unable_to_deliver_handler(mut self, handler: crate::port::UnableToDeliverHandler) -> Self {
            self.backpressure.handler = Some(handler);
            self
        }
    };
}

/// What every sending port reports of its data segments, over its
/// `sender`: `$what` names the payloads ("samples").
macro_rules! sender_accessors {
    ($what:literal) => {
        #[doc = concat!("For slice ", $what, ": the longest slice the current data segment holds (growing")]
        #[doc = "strategies raise it up to [`max_slice_len`](Self::max_slice_len))."]
        pub fn current_max_slice_len(&self) -> u32 {
            self.p().sender.current_capacity()
        }

        #[doc = concat!("For slice ", $what, ": the hard ceiling on a loan's length; 1 for fixed payloads.")]
        pub fn max_slice_len(&self) -> u32 {
            self.p().sender.max_slice_len()
        }

        /// How many times the data segment grew.
        pub fn number_of_growths(&self) -> u64 {
            self.p().sender.growths()
        }

        /// Bytes of the live data segments.
        pub fn footprint(&self) -> usize {
            self.p().sender.footprint()
        }
    };
}

pub mod client;
pub mod listener;
pub mod notifier;
pub mod publisher;
pub(crate) mod receiver;
pub use crate::chunk as sample;
pub use crate::service::DEFAULT_MAX_SLICE_LEN;
pub(crate) mod sender;
pub mod server;
pub mod subscriber;

use crate::platform::ShmError;
use core::fmt;

/// Why a loan failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum LoanError {
    /// The port already has as many loans out as it may (a publisher's
    /// `max_loaned_samples`, a client's `max_loaned_requests`, an active
    /// request's `max_loaned_responses_per_request`).
    ExceedsMaxLoans,
    /// Every chunk is in use (receivers hold them all).
    OutOfMemory,
    /// The requested slice is longer than the port's maximum slice length.
    ExceedsMaxLoanSize,
}

/// Why a send failed (the sample was still delivered where it could be).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
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
#[non_exhaustive]
pub enum ReceiveError {
    /// The receiver already holds as many as it may (a subscriber's
    /// `subscriber_max_borrowed_samples`, a pending response's
    /// `max_borrowed_responses_per_pending_response`, a server's
    /// `max_active_requests_per_client` from every client with requests waiting).
    ExceedsMaxBorrows,
    /// A connection's memory is corrupt (a peer wrote garbage); it is marked
    /// and skipped from now on.
    ConnectionCorrupted,
    /// A sample claims a length its chunk cannot hold; it was returned unread.
    CorruptedSample,
    /// A publisher's data segment could not be mapped or failed validation;
    /// that connection is skipped.
    UnableToMapPublishersDataSegment,
    /// A blocking receive was ended by SIGINT (Ctrl-C).
    Interrupt,
    /// A blocking receive was ended by SIGTERM.
    TerminationRequest,
}

impl From<crate::platform::Termination> for ReceiveError {
    fn from(t: crate::platform::Termination) -> Self {
        match t {
            crate::platform::Termination::Interrupt => Self::Interrupt,
            crate::platform::Termination::Terminate => Self::TerminationRequest,
        }
    }
}

/// Why a publisher could not be created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
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
#[non_exhaustive]
pub enum SubscriberCreateError {
    /// Every subscriber slot of the service is taken.
    ExceedsMaxSupportedSubscribers,
}

/// Why a request could not be sent (the chunk is returned).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum RequestSendError {
    /// The client already has `max_active_requests_per_client` pending
    /// responses alive; drop one first.
    ExceedsMaxActiveRequests,
    /// Loaning or delivering failed.
    Send(SendError),
}

impl From<SendError> for RequestSendError {
    fn from(e: SendError) -> Self {
        Self::Send(e)
    }
}

impl From<LoanError> for RequestSendError {
    fn from(e: LoanError) -> Self {
        Self::Send(SendError::Loan(e))
    }
}

/// Why a client could not be created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ClientCreateError {
    /// Every client slot of the service is taken.
    ExceedsMaxSupportedClients,
    /// The slice length is zero.
    InvalidConfig,
    /// The data segment would exceed 4 GiB or 2²⁴ chunks.
    DataSegmentTooLarge,
    /// The OS refused the data segment.
    UnableToCreateDataSegment(ShmError),
}

/// Why a server could not be created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ServerCreateError {
    /// Every server slot of the service is taken.
    ExceedsMaxSupportedServers,
    /// `max_loaned_responses_per_request` or the slice length is zero.
    InvalidConfig,
    /// The data segment would exceed 4 GiB or 2²⁴ chunks.
    DataSegmentTooLarge,
    /// The OS refused the data segment.
    UnableToCreateDataSegment(ShmError),
}

/// Why a notifier could not be created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum NotifierCreateError {
    /// Every notifier slot of the service is taken.
    ExceedsMaxSupportedNotifiers,
    /// The default event id is above the service's `event_id_max_value`.
    EventIdOutOfBounds,
}

/// Why a listener could not be created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ListenerCreateError {
    /// Every listener slot of the service is taken.
    ExceedsMaxSupportedListeners,
}

/// Why a notification failed (or came late).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum NotifierNotifyError {
    /// The id is above the service's `event_id_max_value`: nothing was sent.
    EventIdOutOfBounds,
    /// The notification went out (to this many listeners), but later than
    /// the service's deadline after the previous one.
    MissedDeadline {
        /// Listeners reached.
        delivered: usize,
    },
}

/// Why a wait ended without events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ListenerWaitError {
    /// SIGINT (Ctrl-C) arrived while waiting.
    Interrupt,
    /// SIGTERM arrived while waiting.
    TerminationRequest,
}

/// `Display` (a sentence: what happened and what to do) and
/// `core::error::Error` for each error, from one match per type.
macro_rules! sentences {
    ($($t:ty => |$s:ident, $f:ident| $body:expr;)*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, $f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let $s = self;
                $body
            }
        }
        impl core::error::Error for $t {}
    )*};
}

/// "every `port` slot of the service is taken …", the same for every port.
fn slots_taken(f: &mut fmt::Formatter<'_>, port: &str, knob: &str) -> fmt::Result {
    write!(
        f,
        "every {port} slot of the service is taken (its {knob}): drop a {port}, or create the service with a \
         larger {knob}"
    )
}

/// "the `port`'s data segment would exceed …", the same for every sending port.
fn segment_too_large(f: &mut fmt::Formatter<'_>, port: &str) -> fmt::Result {
    write!(
        f,
        "the {port}'s data segment would exceed 4 GiB or 2^24 chunks: lower the QoS, the slice length or the \
         preallocation"
    )
}

sentences! {
    LoanError => |e, f| f.write_str(match e {
        LoanError::ExceedsMaxLoans => "the port already has as many loans out as it may (max_loaned_samples, \
            max_loaned_requests or max_loaned_responses_per_request): send or drop one first, or raise the limit",
        LoanError::OutOfMemory => "every chunk of the port's data segment is in use (receivers hold them all): \
            let receivers return samples, or size the pool larger",
        LoanError::ExceedsMaxLoanSize => "the requested slice is longer than the port can ever loan (its \
            max_slice_len, or its current length under AllocationStrategy::Static): loan less, or build the port \
            with a larger max_slice_len or a growing strategy",
    });
    SendError => |e, f| match e {
        SendError::Loan(l) => write!(f, "no chunk could be loaned for the send: {l}"),
        SendError::ConnectionCorrupted { delivered } => write!(
            f,
            "a receiver's connection holds garbage (a corrupt or hostile peer); it is no longer served, and \
             {delivered} receiver(s) got the payload"
        ),
    };
    ReceiveError => |e, f| f.write_str(match e {
        ReceiveError::ExceedsMaxBorrows => "the receiver already holds as many samples, responses or requests as \
            it may (subscriber_max_borrowed_samples, max_borrowed_responses_per_pending_response or \
            max_active_requests_per_client): drop one first",
        ReceiveError::ConnectionCorrupted => "a sender's connection holds garbage (a corrupt or hostile peer); it \
            is skipped from now on",
        ReceiveError::CorruptedSample => "a sender's chunk claims a length its memory cannot hold; it was \
            returned unread",
        ReceiveError::UnableToMapPublishersDataSegment => "a sender's data segment could not be mapped or is not \
            what the service says; that sender is skipped",
        ReceiveError::Interrupt => "the wait was interrupted (SIGINT, Ctrl-C)",
        ReceiveError::TerminationRequest => "the wait ended on a termination request (SIGTERM)",
    });
    PublisherCreateError => |e, f| match e {
        PublisherCreateError::ExceedsMaxSupportedPublishers => slots_taken(f, "publisher", "max_publishers"),
        PublisherCreateError::InvalidConfig => {
            f.write_str("the publisher's max_loaned_samples, initial_max_slice_len or max_slice_len is zero")
        }
        PublisherCreateError::DataSegmentTooLarge => segment_too_large(f, "publisher"),
        PublisherCreateError::UnableToCreateDataSegment(s) => write!(f, "the publisher's data segment: {s}"),
    };
    SubscriberCreateError => |_e, f| slots_taken(f, "subscriber", "max_subscribers");
    RequestSendError => |e, f| match e {
        RequestSendError::ExceedsMaxActiveRequests => f.write_str(
            "the client already has max_active_requests_per_client pending responses alive: drop one first",
        ),
        RequestSendError::Send(s) => write!(f, "the request could not be sent: {s}"),
    };
    ClientCreateError => |e, f| match e {
        ClientCreateError::ExceedsMaxSupportedClients => slots_taken(f, "client", "max_clients"),
        ClientCreateError::InvalidConfig => f.write_str("the client's initial_max_slice_len or max_slice_len is zero"),
        ClientCreateError::DataSegmentTooLarge => segment_too_large(f, "client"),
        ClientCreateError::UnableToCreateDataSegment(s) => write!(f, "the client's data segment: {s}"),
    };
    ServerCreateError => |e, f| match e {
        ServerCreateError::ExceedsMaxSupportedServers => slots_taken(f, "server", "max_servers"),
        ServerCreateError::InvalidConfig => f.write_str(
            "the server's max_loaned_responses_per_request, initial_max_slice_len or max_slice_len is zero",
        ),
        ServerCreateError::DataSegmentTooLarge => segment_too_large(f, "server"),
        ServerCreateError::UnableToCreateDataSegment(s) => write!(f, "the server's data segment: {s}"),
    };
    NotifierCreateError => |e, f| match e {
        NotifierCreateError::ExceedsMaxSupportedNotifiers => slots_taken(f, "notifier", "max_notifiers"),
        NotifierCreateError::EventIdOutOfBounds => {
            f.write_str("the notifier's default event id is above the service's event_id_max_value")
        }
    };
    ListenerCreateError => |_e, f| slots_taken(f, "listener", "max_listeners");
    NotifierNotifyError => |e, f| match e {
        NotifierNotifyError::EventIdOutOfBounds => {
            f.write_str("the event id is above the service's event_id_max_value; nothing was sent")
        }
        NotifierNotifyError::MissedDeadline { delivered } => write!(
            f,
            "the notification reached {delivered} listener(s), but later than the service's deadline after the \
             previous one"
        ),
    };
    ListenerWaitError => |e, f| f.write_str(match e {
        ListenerWaitError::Interrupt => "the wait was interrupted (SIGINT, Ctrl-C)",
        ListenerWaitError::TerminationRequest => "the wait ended on a termination request (SIGTERM)",
    });
}

impl From<LoanError> for SendError {
    fn from(e: LoanError) -> Self {
        Self::Loan(e)
    }
}

/// What a publisher does when a subscriber's queue is full and safe
/// overflow is off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum BackpressureStrategy {
    /// Wait (spinning, then sleeping briefly) until the subscriber makes
    /// room or goes away. The default, as in iceoryx2.
    #[default]
    RetryUntilDelivered,
    /// Skip that subscriber for this sample.
    DiscardData,
}

/// A receiver that has kept its queue full for a sender's
/// `backpressure_timeout` (see `unable_to_deliver_handler` on the
/// publisher, client and server builders).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub struct UnableToDeliverInfo {
    /// The stalled receiver's unique port id (`Subscriber::id`,
    /// `Server::id`, `Client::id`).
    pub receiver_id: u64,
    /// How long the send has waited on it so far.
    pub waited: core::time::Duration,
}

/// What a sender does with a stalled receiver (the
/// `unable_to_deliver_handler`'s answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum UnableToDeliverAction {
    /// Wait another `backpressure_timeout` for it.
    Retry,
    /// Skip it for this payload (the others got it; the send goes on).
    DiscardSample,
}

/// Decides about a stalled receiver: a plain function, so that it costs no
/// allocation (keep state in a static if it needs some).
pub type UnableToDeliverHandler = fn(&UnableToDeliverInfo) -> UnableToDeliverAction;

/// A sending port's backpressure settings.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Backpressure {
    pub(crate) strategy: BackpressureStrategy,
    pub(crate) timeout: Option<core::time::Duration>,
    pub(crate) handler: Option<UnableToDeliverHandler>,
}

impl Backpressure {
    /// How long one receiver may keep its queue full before the handler is
    /// asked (or it is skipped); `None`: forever.
    pub(crate) fn limit(&self) -> Option<core::time::Duration> {
        match (self.timeout, self.handler) {
            (Some(t), _) => Some(t),
            (None, Some(_)) => Some(core::time::Duration::from_millis(100)),
            (None, None) => None,
        }
    }
}

/// How a slice port sizes a new data segment when a loan needs more than
/// the current one holds (iceoryx2's names and meanings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
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

/// The slice settings every sending port's builder takes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SliceSettings {
    pub(crate) initial_max_slice_len: u32,
    pub(crate) max_slice_len: u32,
    pub(crate) strategy: AllocationStrategy,
    pub(crate) preallocation: Option<u32>,
    /// The service's ceiling for this direction.
    pub(crate) ceiling: u32,
    /// Whether the payload of this direction is a slice (else one element).
    pub(crate) is_slice: bool,
}

impl SliceSettings {
    pub(crate) fn new(ceiling: u32, is_slice: bool) -> Self {
        Self {
            is_slice,
            initial_max_slice_len: 1,
            max_slice_len: ceiling,
            strategy: AllocationStrategy::Static,
            preallocation: None,
            ceiling,
        }
    }

    /// The first segment's capacity in elements.
    pub(crate) fn capacity(&self) -> u32 {
        if self.is_slice {
            self.initial_max_slice_len.min(self.max_slice_len.max(1))
        } else {
            1
        }
    }

    /// (strategy, ceiling) as the sender uses them.
    pub(crate) fn growth(&self) -> (AllocationStrategy, u32) {
        if self.is_slice {
            (self.strategy, self.max_slice_len.max(self.capacity()))
        } else {
            (AllocationStrategy::Static, 1)
        }
    }

    pub(crate) fn valid(&self) -> bool {
        self.initial_max_slice_len > 0 && self.max_slice_len > 0
    }

    /// `sizing` with the chunk count the preallocation override asked for.
    pub(crate) fn preallocate(&self, mut sizing: crate::shm::data::DataSizing) -> crate::shm::data::DataSizing {
        if let Some(n) = self.preallocation {
            sizing.chunk_count = n.min(sizing.chunk_count);
        }
        sizing
    }

    /// The most shared memory a port can hold at once, given the size of a
    /// segment for a capacity: the first segment if it cannot grow, else
    /// [`MAX_SEGMENTS_PER_PORT`](crate::config::MAX_SEGMENTS_PER_PORT)
    /// segments at `max_slice_len`.
    pub(crate) fn worst_case(&self, size_at: impl Fn(u32) -> Option<usize>) -> Option<usize> {
        if !self.is_slice || self.strategy == AllocationStrategy::Static {
            return size_at(self.capacity());
        }
        size_at(self.max_slice_len)?.checked_mul(crate::config::MAX_SEGMENTS_PER_PORT)
    }
}

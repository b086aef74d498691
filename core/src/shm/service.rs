//! The service segment: static config, node and port tables, connections.
//! See the [module docs](super) for the picture.

use super::queue::Queue;
use super::{LayoutBuilder, Region};
use crate::name::ServiceName;
use crate::platform::LivenessId;
use crate::sync::{load_bytes, load_u64, store_bytes, store_u64, AtomicU32, Ordering};
use crate::zero_copy::{TypeDetail, TypeVariant, MAX_TYPE_NAME_LEN};
use heapless::String;

/// Segment kind word of a service segment.
pub const KIND_SERVICE: u32 = 1;
/// Segment kind word of a data segment.
pub const KIND_DATA: u32 = 2;
/// Messaging pattern: publish-subscribe.
pub const PATTERN_PUBLISH_SUBSCRIBE: u32 = 1;
/// Messaging pattern: request-response.
pub const PATTERN_REQUEST_RESPONSE: u32 = 2;
/// Pattern tag: event (notifiers in the publisher table, listeners in the
/// subscriber table, no data segments).
pub const PATTERN_EVENT: u32 = 3;

/// Upper bounds on shared sizes, so that every layout computation stays far
/// from overflow on 32-bit targets too.
pub const MAX_QUEUE_CAPACITY: u32 = 1 << 16;
/// The most nodes a service may admit.
pub const MAX_NODES_LIMIT: u32 = 4096;

const SLOT_WORDS: usize = 8;
/// Bytes of a type name's slot in shared memory: fixed, whatever the build's
/// `MAX_TYPE_NAME_LEN`, so that builds with different limits agree on the
/// layout (and refuse, with `ExceedsBuildLimit`, names they cannot hold).
const TYPE_NAME_SLOT: usize = 256;
/// Bytes of the service name's slot.
const SERVICE_NAME_SLOT: usize = 256;
const TYPE_WORDS: usize = 4 + TYPE_NAME_SLOT / 4;
const S_PATTERN: usize = 0;
const S_MAX_PUB: usize = 1;
const S_MAX_SUB: usize = 2;
const S_MAX_NODES: usize = 3;
const S_HISTORY: usize = 4;
const S_BUFFER: usize = 5;
const S_BORROWED: usize = 6;
const S_FLAGS: usize = 7;
const S_PAYLOAD_ALIGN: usize = 8;
const S_NAME_LEN: usize = 9;
const S_NAME: usize = 10;
const S_PAYLOAD: usize = S_NAME + SERVICE_NAME_SLOT / 4;
const S_USER_HEADER: usize = S_PAYLOAD + TYPE_WORDS;
const S_MAX_SLICE: usize = S_USER_HEADER + TYPE_WORDS;
// The response side of a request-response service (zero for other patterns).
const R_PRESENT: usize = S_MAX_SLICE + 1;
const R_FLAGS: usize = R_PRESENT + 1;
const R_ALIGN: usize = R_PRESENT + 2;
const R_MAX_SLICE: usize = R_PRESENT + 3;
const R_ACTIVE: usize = R_PRESENT + 4;
const R_LOANED: usize = R_PRESENT + 5;
const R_BUFFER: usize = R_PRESENT + 6;
const R_BORROWED: usize = R_PRESENT + 7;
const R_PAYLOAD: usize = R_PRESENT + 8;
const R_USER_HEADER: usize = R_PAYLOAD + TYPE_WORDS;
// The event side of an event service (zero for other patterns).
const E_PRESENT: usize = R_USER_HEADER + TYPE_WORDS;
const E_MAX_ID: usize = E_PRESENT + 1;
const E_CREATED: usize = E_PRESENT + 2;
const E_DROPPED: usize = E_PRESENT + 3;
const E_DEAD: usize = E_PRESENT + 4;
const E_DEADLINE_FLAG: usize = E_PRESENT + 5;
const E_DEADLINE_LO: usize = E_PRESENT + 6;
const E_DEADLINE_HI: usize = E_PRESENT + 7;
const STATIC_WORDS: usize = E_PRESENT + 8;
/// Stored for an event id that is not configured.
const NO_EVENT: u32 = u32::MAX;

/// The largest `event_id_max_value` a service may have (each listener keeps
/// a counter per id).
pub const MAX_EVENT_ID_LIMIT: u32 = 65_535;

const FLAG_SAFE_OVERFLOW: u32 = 1;
const FLAG_FIRE_AND_FORGET: u32 = 2;

/// The most requests one client may have pending at once, in any build.
pub const MAX_ACTIVE_REQUESTS_LIMIT: u32 = 256;

/// A service's fixed configuration, as stored in its segment.
///
/// For request-response the fields read with the request direction in mind:
/// clients are the "publishers" of requests and servers their
/// "subscribers": `max_publishers` is `max_clients`, `max_subscribers` is
/// `max_servers`, the request queue per client at each server
/// (`subscriber_max_buffer_size`) and the requests a server may hold from one
/// client (`subscriber_max_borrowed_samples`) are both
/// `max_active_requests_per_client`, `enable_safe_overflow` is the one for
/// requests, and `payload`, `user_header`, `max_slice_len` describe the
/// request. [`response`](Self::response) holds the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticConfig {
    /// The service's full name.
    pub name: ServiceName,
    /// The messaging pattern.
    pub pattern: u32,
    /// Publisher slots.
    pub max_publishers: u32,
    /// Subscriber slots.
    pub max_subscribers: u32,
    /// Node slots.
    pub max_nodes: u32,
    /// Samples a publisher keeps for late joiners.
    pub history_size: u32,
    /// Submission queue capacity per connection.
    pub subscriber_max_buffer_size: u32,
    /// Samples a subscriber may hold at once.
    pub subscriber_max_borrowed_samples: u32,
    /// Whether a full submission queue drops its oldest entry.
    pub enable_safe_overflow: bool,
    /// Payload alignment (at least the payload type's).
    pub payload_alignment: u32,
    /// The payload type.
    pub payload: TypeDetail,
    /// The user header type.
    pub user_header: TypeDetail,
    /// For slice payloads: the longest slice any port of the service may
    /// send, in elements (1 for fixed-size payloads).
    pub max_slice_len: u32,
    /// Request-response only: the response side.
    pub response: Option<ResponseConfig>,
    /// Event only: the event side.
    pub event: Option<EventConfig>,
}

/// The event side of an event service (iceoryx2's names). Notifiers use the
/// publisher table (`max_publishers` is `max_notifiers`), listeners the
/// subscriber table (`max_subscribers` is `max_listeners`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventConfig {
    /// The highest event id a notifier may send (ids are `0..=max`).
    pub event_id_max_value: u32,
    /// Sent to every listener when a notifier is created.
    pub notifier_created_event: Option<u32>,
    /// Sent to every listener when a notifier is dropped.
    pub notifier_dropped_event: Option<u32>,
    /// Sent to every listener when a dead notifier is cleaned up.
    pub notifier_dead_event: Option<u32>,
    /// The longest time a notifier may stay silent, in nanoseconds.
    pub deadline_ns: Option<u64>,
}

impl EventConfig {
    /// The first knob out of range (`event_id_max_value` above
    /// [`MAX_EVENT_ID_LIMIT`], an event id above it, a zero deadline).
    pub fn invalid_field(&self) -> Option<&'static str> {
        let id_ok = |id: Option<u32>| id.is_none_or(|i| i <= self.event_id_max_value);
        [
            (self.event_id_max_value <= MAX_EVENT_ID_LIMIT, "event_id_max_value"),
            (id_ok(self.notifier_created_event), "notifier_created_event"),
            (id_ok(self.notifier_dropped_event), "notifier_dropped_event"),
            (id_ok(self.notifier_dead_event), "notifier_dead_event"),
            (self.deadline_ns.is_none_or(|d| d > 0), "deadline"),
        ]
        .into_iter()
        .find_map(|(ok, field)| (!ok).then_some(field))
    }

    /// Ranges that keep the layout sane, and ids within range.
    pub fn is_valid(&self) -> bool {
        self.invalid_field().is_none()
    }
}

/// The response side of a request-response service (iceoryx2's names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseConfig {
    /// The response payload type.
    pub payload: TypeDetail,
    /// The response user header type.
    pub user_header: TypeDetail,
    /// Response payload alignment (at least the type's).
    pub payload_alignment: u32,
    /// For slice responses: the longest slice any server may send.
    pub max_slice_len: u32,
    /// Requests a client may have pending (live `PendingResponse`s) at once;
    /// also the number of response channels per client and server.
    pub max_active_requests_per_client: u32,
    /// Request loans a client may have out at once.
    pub max_loaned_requests: u32,
    /// Responses queued per pending response and server.
    pub max_response_buffer_size: u32,
    /// Responses a client may hold at once per pending response.
    pub max_borrowed_responses_per_pending_response: u32,
    /// Whether a full response queue drops its oldest response.
    pub enable_safe_overflow: bool,
    /// Whether servers still receive requests whose client stopped
    /// listening (dropped its `PendingResponse`) before they were taken.
    pub enable_fire_and_forget: bool,
}

/// The alignments and slice ceiling of one direction's payload and user
/// header are in the ranges that keep layout arithmetic safe.
fn types_valid(payload: &TypeDetail, payload_alignment: u32, user_header: &TypeDetail, max_slice_len: u32) -> bool {
    payload_alignment.is_power_of_two()
        && payload_alignment <= 4096
        && payload_alignment >= payload.align
        && payload.align.is_power_of_two()
        && user_header.align.is_power_of_two()
        && user_header.align <= 4096
        && max_slice_len >= 1
}

impl ResponseConfig {
    fn is_valid(&self) -> bool {
        let q = 1..=MAX_QUEUE_CAPACITY;
        (1..=MAX_ACTIVE_REQUESTS_LIMIT).contains(&self.max_active_requests_per_client)
            && q.contains(&self.max_loaned_requests)
            && q.contains(&self.max_response_buffer_size)
            && q.contains(&self.max_borrowed_responses_per_pending_response)
            && types_valid(&self.payload, self.payload_alignment, &self.user_header, self.max_slice_len)
    }

    /// The capacity of a response connection's completion queue: every
    /// response that can be out on it (queued and borrowed on every
    /// channel), plus one.
    pub fn completion_capacity(&self) -> u32 {
        self.max_active_requests_per_client
            * (self.max_response_buffer_size + self.max_borrowed_responses_per_pending_response)
            + 1
    }
}

/// Why the static config read back from a segment was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigError {
    /// It makes no sense.
    Corrupt,
    /// It holds a name longer than this build's `MAX_TYPE_NAME_LEN` or
    /// `MAX_SERVICE_NAME_LEN` (a build with larger limits made it).
    ExceedsBuildLimit,
}

impl StaticConfig {
    /// Checks the ranges that keep layout arithmetic safe.
    pub fn is_valid(&self) -> bool {
        let q = 1..=MAX_QUEUE_CAPACITY;
        // The largest any build may be configured with (see build.rs): a
        // service from a larger build than ours is valid, just not ours to
        // serve (`ServiceOpenError::ExceedsBuildLimit`).
        (1..=256).contains(&self.max_publishers)
            && (1..=4096).contains(&self.max_subscribers)
            && (1..=MAX_NODES_LIMIT).contains(&self.max_nodes)
            && self.history_size <= MAX_QUEUE_CAPACITY
            && q.contains(&self.subscriber_max_buffer_size)
            && q.contains(&self.subscriber_max_borrowed_samples)
            && types_valid(&self.payload, self.payload_alignment, &self.user_header, self.max_slice_len)
            && match (&self.response, &self.event, self.pattern) {
                (None, None, PATTERN_PUBLISH_SUBSCRIBE) => true,
                (Some(r), None, PATTERN_REQUEST_RESPONSE) => {
                    r.is_valid()
                        && self.history_size == 0
                        && self.subscriber_max_buffer_size == r.max_active_requests_per_client
                        && self.subscriber_max_borrowed_samples == r.max_active_requests_per_client
                }
                (None, Some(e), PATTERN_EVENT) => e.is_valid() && self.history_size == 0,
                _ => false,
            }
    }

    fn write_type(w: &[AtomicU32], t: &TypeDetail) {
        w[0].store(t.variant as u32, Ordering::Relaxed);
        w[1].store(t.size, Ordering::Relaxed);
        w[2].store(t.align, Ordering::Relaxed);
        w[3].store(t.name.len() as u32, Ordering::Relaxed);
        store_bytes(&w[4..TYPE_WORDS], t.name.as_bytes());
    }

    fn read_type(w: &[AtomicU32]) -> Result<TypeDetail, ConfigError> {
        let variant = match w[0].load(Ordering::Relaxed) {
            1 => TypeVariant::FixedSize,
            2 => TypeVariant::Slice,
            _ => return Err(ConfigError::Corrupt),
        };
        let len = w[3].load(Ordering::Relaxed) as usize;
        if len > TYPE_NAME_SLOT {
            return Err(ConfigError::Corrupt);
        }
        if len > MAX_TYPE_NAME_LEN {
            return Err(ConfigError::ExceedsBuildLimit);
        }
        let mut buf = [0u8; MAX_TYPE_NAME_LEN];
        load_bytes(&w[4..TYPE_WORDS], &mut buf[..len]);
        let text = core::str::from_utf8(&buf[..len]).map_err(|_| ConfigError::Corrupt)?;
        let mut name = String::new();
        name.push_str(text).map_err(|_| ConfigError::Corrupt)?;
        Ok(TypeDetail { variant, name, size: w[1].load(Ordering::Relaxed), align: w[2].load(Ordering::Relaxed) })
    }

    /// Writes the config into the static part of a new segment.
    pub fn write(&self, words: &[AtomicU32]) {
        let v = [
            self.pattern,
            self.max_publishers,
            self.max_subscribers,
            self.max_nodes,
            self.history_size,
            self.subscriber_max_buffer_size,
            self.subscriber_max_borrowed_samples,
            if self.enable_safe_overflow { FLAG_SAFE_OVERFLOW } else { 0 },
            self.payload_alignment,
            self.name.as_str().len() as u32,
        ];
        for (w, v) in words.iter().zip(v) {
            w.store(v, Ordering::Relaxed);
        }
        store_bytes(&words[S_NAME..S_PAYLOAD], self.name.as_str().as_bytes());
        Self::write_type(&words[S_PAYLOAD..S_USER_HEADER], &self.payload);
        Self::write_type(&words[S_USER_HEADER..S_MAX_SLICE], &self.user_header);
        words[S_MAX_SLICE].store(self.max_slice_len, Ordering::Relaxed);
        if let Some(e) = &self.event {
            let id = |i: Option<u32>| i.unwrap_or(NO_EVENT);
            let d = e.deadline_ns.unwrap_or(0);
            let v = [
                1,
                e.event_id_max_value,
                id(e.notifier_created_event),
                id(e.notifier_dropped_event),
                id(e.notifier_dead_event),
                u32::from(e.deadline_ns.is_some()),
                d as u32,
                (d >> 32) as u32,
            ];
            for (w, v) in words[E_PRESENT..STATIC_WORDS].iter().zip(v) {
                w.store(v, Ordering::Relaxed);
            }
        }
        if let Some(r) = &self.response {
            let flags = if r.enable_safe_overflow { FLAG_SAFE_OVERFLOW } else { 0 }
                | if r.enable_fire_and_forget { FLAG_FIRE_AND_FORGET } else { 0 };
            let v = [
                1,
                flags,
                r.payload_alignment,
                r.max_slice_len,
                r.max_active_requests_per_client,
                r.max_loaned_requests,
                r.max_response_buffer_size,
                r.max_borrowed_responses_per_pending_response,
            ];
            for (w, v) in words[R_PRESENT..R_PAYLOAD].iter().zip(v) {
                w.store(v, Ordering::Relaxed);
            }
            Self::write_type(&words[R_PAYLOAD..R_USER_HEADER], &r.payload);
            Self::write_type(&words[R_USER_HEADER..STATIC_WORDS], &r.user_header);
        }
    }

    /// Reads and validates a config.
    pub fn read(words: &[AtomicU32]) -> Result<Self, ConfigError> {
        if words.len() < STATIC_WORDS {
            return Err(ConfigError::Corrupt);
        }
        let r = |i: usize| words[i].load(Ordering::Relaxed);
        let name_len = r(S_NAME_LEN) as usize;
        if name_len >= SERVICE_NAME_SLOT {
            return Err(ConfigError::Corrupt);
        }
        if name_len > crate::name::MAX_SERVICE_NAME_LEN {
            return Err(ConfigError::ExceedsBuildLimit);
        }
        let mut buf = [0u8; crate::name::MAX_SERVICE_NAME_LEN];
        load_bytes(&words[S_NAME..S_PAYLOAD], &mut buf[..name_len]);
        let name = core::str::from_utf8(&buf[..name_len]).map_err(|_| ConfigError::Corrupt)?;
        let cfg = Self {
            name: ServiceName::new(name).map_err(|_| ConfigError::Corrupt)?,
            pattern: r(S_PATTERN),
            max_publishers: r(S_MAX_PUB),
            max_subscribers: r(S_MAX_SUB),
            max_nodes: r(S_MAX_NODES),
            history_size: r(S_HISTORY),
            subscriber_max_buffer_size: r(S_BUFFER),
            subscriber_max_borrowed_samples: r(S_BORROWED),
            enable_safe_overflow: r(S_FLAGS) & FLAG_SAFE_OVERFLOW != 0,
            payload_alignment: r(S_PAYLOAD_ALIGN),
            payload: Self::read_type(&words[S_PAYLOAD..S_USER_HEADER])?,
            user_header: Self::read_type(&words[S_USER_HEADER..S_MAX_SLICE])?,
            max_slice_len: r(S_MAX_SLICE),
            response: match r(R_PRESENT) {
                0 => None,
                1 => Some(ResponseConfig {
                    payload: Self::read_type(&words[R_PAYLOAD..R_USER_HEADER])?,
                    user_header: Self::read_type(&words[R_USER_HEADER..STATIC_WORDS])?,
                    payload_alignment: r(R_ALIGN),
                    max_slice_len: r(R_MAX_SLICE),
                    max_active_requests_per_client: r(R_ACTIVE),
                    max_loaned_requests: r(R_LOANED),
                    max_response_buffer_size: r(R_BUFFER),
                    max_borrowed_responses_per_pending_response: r(R_BORROWED),
                    enable_safe_overflow: r(R_FLAGS) & FLAG_SAFE_OVERFLOW != 0,
                    enable_fire_and_forget: r(R_FLAGS) & FLAG_FIRE_AND_FORGET != 0,
                }),
                _ => return Err(ConfigError::Corrupt),
            },
            event: match r(E_PRESENT) {
                0 => None,
                1 => {
                    let id = |i: usize| Some(r(i)).filter(|&v| v != NO_EVENT);
                    Some(EventConfig {
                        event_id_max_value: r(E_MAX_ID),
                        notifier_created_event: id(E_CREATED),
                        notifier_dropped_event: id(E_DROPPED),
                        notifier_dead_event: id(E_DEAD),
                        deadline_ns: match r(E_DEADLINE_FLAG) {
                            0 => None,
                            1 => Some(u64::from(r(E_DEADLINE_LO)) | (u64::from(r(E_DEADLINE_HI)) << 32)),
                            _ => return Err(ConfigError::Corrupt),
                        },
                    })
                }
                _ => return Err(ConfigError::Corrupt),
            },
        };
        if cfg.is_valid() {
            Ok(cfg)
        } else {
            Err(ConfigError::Corrupt)
        }
    }

    /// The capacity of each completion queue: every chunk that can be out on
    /// one connection (queued plus borrowed), plus one.
    pub fn completion_capacity(&self) -> u32 {
        self.subscriber_max_buffer_size + self.subscriber_max_borrowed_samples + 1
    }
}

/// Byte offsets of every part of a service segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceLayout {
    /// Static config.
    pub static_off: usize,
    /// Service state word (own line).
    pub state_off: usize,
    /// Port epoch word (own line).
    pub epoch_off: usize,
    /// Node table.
    pub nodes_off: usize,
    /// Publisher table.
    pub pubs_off: usize,
    /// Subscriber table.
    pub subs_off: usize,
    /// First connection.
    pub conns_off: usize,
    /// Bytes per connection.
    pub conn_stride: usize,
    /// Submission queue offset within a connection.
    pub submission_off: usize,
    /// Completion queue offset within a connection.
    pub completion_off: usize,
    /// Request-response: each client's listening words, one per channel.
    pub channels_off: usize,
    /// Request-response: words per client in the channel area.
    pub channel_words: usize,
    /// Request-response: the first response connection (server × client).
    pub rconns_off: usize,
    /// Bytes per response connection.
    pub rconn_stride: usize,
    /// Offset of the "stream ended" words within a response connection.
    pub ended_off: usize,
    /// Offset of channel 0's submission queue within a response connection.
    pub rsub_off: usize,
    /// Bytes per channel submission queue.
    pub rsub_stride: usize,
    /// Offset of the response completion queue within a response connection.
    pub rcomp_off: usize,
    /// Events: the first listener's event area.
    pub events_off: usize,
    /// Events: bytes per listener (wake line, summary, counters).
    pub event_stride: usize,
    /// Events: summary words per listener.
    pub summary_words: usize,
    /// Data patterns: the wake lines of the subscriber-table ports.
    pub rx_wake_off: usize,
    /// Data patterns: the wake lines of the publisher-table ports.
    pub tx_wake_off: usize,
    /// Total segment size.
    pub size: usize,
}

impl ServiceLayout {
    /// The layout for a (valid) config.
    pub fn of(cfg: &StaticConfig) -> Self {
        let mut b = LayoutBuilder::default();
        b.words(super::header::HEADER_WORDS);
        let static_off = b.words(STATIC_WORDS);
        let state_off = b.words(16);
        let epoch_off = b.words(16);
        let nodes_off = b.words(cfg.max_nodes as usize * SLOT_WORDS);
        let pubs_off = b.words(cfg.max_publishers as usize * SLOT_WORDS);
        let subs_off = b.words(cfg.max_subscribers as usize * SLOT_WORDS);
        // A connection: publisher line, subscriber line, then two queues.
        let submission_off = 128;
        let completion_off = submission_off + Queue::words_for(cfg.subscriber_max_buffer_size) * 4;
        let conn_stride = completion_off + Queue::words_for(cfg.completion_capacity()) * 4;
        // Events have no queues: notifiers write into the listeners' states.
        let n = if cfg.event.is_some() { 0 } else { cfg.max_publishers as usize * cfg.max_subscribers as usize };
        let conns_off = b.add(n * conn_stride, 64);
        // Request-response: per client a line (or more) of channel words;
        // per server and client a response connection: server line,
        // client line, ended words, one submission queue per channel, one
        // completion queue.
        let (k, rbuf, rcomp) = match &cfg.response {
            Some(r) => (r.max_active_requests_per_client as usize, r.max_response_buffer_size, r.completion_capacity()),
            None => (0, 0, 0),
        };
        let channel_words = super::align_up(k, 16);
        let channels_off = b.add(cfg.max_publishers as usize * channel_words * 4 * usize::from(k > 0), 64);
        let ended_off = 128;
        let rsub_off = ended_off + channel_words * 4;
        let rsub_stride = if k > 0 { Queue::words_for(rbuf) * 4 } else { 0 };
        let rcomp_off = rsub_off + k * rsub_stride;
        let rconn_stride = if k > 0 { rcomp_off + Queue::words_for(rcomp) * 4 } else { 0 };
        let rconns_off = b.add(cfg.max_subscribers as usize * cfg.max_publishers as usize * rconn_stride, 64);
        // Events: per listener a wake line, the summary bitmap, the counters.
        let (summary_words, event_stride) = match &cfg.event {
            Some(e) => {
                let sw = super::event::summary_words(e.event_id_max_value);
                let counters = e.event_id_max_value as usize + 1;
                (sw, 64 + super::align_up(sw * 4, 64) + super::align_up(counters * 4, 64))
            }
            None => (0, 0),
        };
        let events_off = b.add(cfg.max_subscribers as usize * event_stride, 64);
        // Data patterns: a wake line per receiving port (subscribers,
        // servers) and per sending port (clients wait for responses there).
        let wakes = usize::from(cfg.event.is_none());
        let rx_wake_off = b.add(cfg.max_subscribers as usize * 64 * wakes, 64);
        let tx_wake_off = b.add(cfg.max_publishers as usize * 64 * wakes, 64);
        Self {
            static_off,
            state_off,
            epoch_off,
            nodes_off,
            pubs_off,
            subs_off,
            conns_off,
            conn_stride,
            submission_off,
            completion_off,
            channels_off,
            channel_words,
            rconns_off,
            rconn_stride,
            ended_off,
            rsub_off,
            rsub_stride,
            rcomp_off,
            events_off,
            event_stride,
            summary_words,
            rx_wake_off,
            tx_wake_off,
            size: b.size(),
        }
    }

    /// Where the static config starts (the same for every config).
    pub fn static_offset() -> usize {
        let mut b = LayoutBuilder::default();
        b.words(super::header::HEADER_WORDS);
        b.words(STATIC_WORDS)
    }
}

// ---- table slots ----------------------------------------------------------

/// Status of a table slot (low 16 bits of its state word).
pub mod status {
    /// Free for the taking.
    pub const FREE: u32 = 0;
    /// Taken, being filled.
    pub const CLAIMED: u32 = 1;
    /// In use.
    pub const ACTIVE: u32 = 2;
}

/// Splits a state word into (generation, status).
pub const fn split_state(v: u32) -> (u16, u32) {
    ((v >> 16) as u16, v & 0xffff)
}

/// Joins generation and status.
pub const fn join_state(generation: u16, st: u32) -> u32 {
    ((generation as u32) << 16) | st
}

/// The next generation: never 0, so that 0 can mean "none".
pub const fn next_generation(g: u16) -> u16 {
    if g == u16::MAX {
        1
    } else {
        g + 1
    }
}

/// A view of one table slot (node or port): 8 words.
#[derive(Clone, Copy)]
pub struct Slot<'a> {
    w: &'a [AtomicU32],
}

impl<'a> Slot<'a> {
    /// The state word (generation and status).
    pub fn state(&self) -> u32 {
        self.w[0].load(Ordering::Acquire)
    }

    /// Claims the slot if free: returns its new generation.
    pub fn try_claim(&self) -> Option<u16> {
        let cur = self.w[0].load(Ordering::Relaxed);
        let (g, st) = split_state(cur);
        if st != status::FREE {
            return None;
        }
        let ng = next_generation(g);
        self.w[0]
            .compare_exchange(cur, join_state(ng, status::CLAIMED), Ordering::AcqRel, Ordering::Relaxed)
            .ok()
            .map(|_| ng)
    }

    /// Marks a claimed slot active (after its fields are written).
    pub fn activate(&self, generation: u16) {
        self.w[0].store(join_state(generation, status::ACTIVE), Ordering::SeqCst);
    }

    /// Frees the slot if it still is `expected` (a state word); true if this
    /// call freed it. Exactly one of several racing callers succeeds.
    pub fn release(&self, expected: u32) -> bool {
        let (g, _) = split_state(expected);
        self.w[0].compare_exchange(expected, join_state(g, status::FREE), Ordering::SeqCst, Ordering::Relaxed).is_ok()
    }

    /// A port leaves its slot: frees it if it still holds generation `g`
    /// (a cleaner may have freed it already), marking it ownerless first.
    pub fn leave(&self, g: u16) {
        let st = self.state();
        if split_state(st).0 == g {
            self.set_field(1, NO_OWNER);
            self.release(st);
        }
    }

    /// Field word `i` (1..8).
    pub fn field(&self, i: usize) -> u32 {
        self.w.get(i).map_or(0, |w| w.load(Ordering::Relaxed))
    }

    /// Sets field word `i`.
    pub fn set_field(&self, i: usize, v: u32) {
        if let Some(w) = self.w.get(i) {
            w.store(v, Ordering::Relaxed);
        }
    }

    /// Node slot: the owner's liveness id.
    pub fn liveness(&self) -> LivenessId {
        LivenessId([self.field(1), self.field(2), self.field(3)])
    }

    /// Node slot: writes the owner's liveness id and node id.
    pub fn set_node(&self, id: LivenessId, node_id: u64) {
        for (i, v) in id.0.iter().enumerate() {
            self.set_field(1 + i, *v);
        }
        store_u64(&self.w[4], &self.w[5], node_id);
    }

    /// Node slot: the node id.
    pub fn node_id(&self) -> u64 {
        load_u64(&self.w[4], &self.w[5])
    }

    /// Port slot: owning node slot index.
    pub fn owner(&self) -> u32 {
        self.field(1)
    }

    /// Port slot: the port id (names its data segment).
    pub fn port_id(&self) -> u64 {
        load_u64(&self.w[2], &self.w[3])
    }

    /// Port slot: writes owner and port id.
    pub fn set_port(&self, owner: u32, port_id: u64) {
        self.set_field(1, owner);
        store_u64(&self.w[2], &self.w[3], port_id);
    }
}

/// Port slot field: the id the port's next data segment will get.
pub const FIELD_NEXT_SEGMENT: usize = 4;
/// Port slot field: the id of the port's oldest data segment still alive.
pub const FIELD_OLDEST_SEGMENT: usize = 5;

/// Field index of a port slot's "owner" word, reset to this on release.
pub const NO_OWNER: u32 = u32::MAX;

/// A view of a whole service segment whose layout was validated.
pub struct ServiceView {
    region: Region,
    layout: ServiceLayout,
    max_pub: u32,
    max_sub: u32,
    max_nodes: u32,
    buffer: u32,
    completion: u32,
    channels: u32,
    rbuffer: u32,
    rcompletion: u32,
    event_max_id: Option<u32>,
    dead_event: Option<u32>,
}

/// Request-response: the response connection from server slot `s` to
/// client slot `c`, with one submission queue per channel (pending request).
#[derive(Clone, Copy)]
pub struct ResponseConnView<'a> {
    /// Written by the server: (its generation ‹16›, client generation it reset the connection for ‹16›).
    pub pub_word: &'a AtomicU32,
    /// Written by the client: (its generation ‹16›, server generation it reads from ‹16›, 0 = none).
    pub sub_word: &'a AtomicU32,
    /// Written by the server, one per channel: the tag of the last request
    /// whose response stream it ended.
    pub ended: &'a [AtomicU32],
    /// Client → server: responses returned.
    pub completion: Queue<'a>,
    words: &'a [AtomicU32],
    sub_at: usize,
    sub_words: usize,
    capacity: u32,
}

impl<'a> ResponseConnView<'a> {
    /// Server → client: the response queue of channel `k`.
    pub fn channel(&self, k: u32) -> Option<Queue<'a>> {
        if k as usize >= self.ended.len() {
            return None;
        }
        let at = self.sub_at + k as usize * self.sub_words;
        Queue::new(self.words.get(at..at + self.sub_words)?, self.capacity)
    }

    /// Channels (the service's `max_active_requests_per_client`).
    pub fn channels(&self) -> u32 {
        self.ended.len() as u32
    }
}

/// One connection between publisher slot `p` and subscriber slot `s`.
#[derive(Clone, Copy)]
pub struct ConnView<'a> {
    /// Written by the publisher: (its generation ‹16›, subscriber generation it reset the connection for ‹16›).
    pub pub_word: &'a AtomicU32,
    /// Written by the subscriber: (its generation ‹16›, publisher generation it reads from ‹16›, 0 = none).
    pub sub_word: &'a AtomicU32,
    /// Publisher → subscriber.
    pub submission: Queue<'a>,
    /// Subscriber → publisher.
    pub completion: Queue<'a>,
}

/// Packs two generations into a connection word.
pub const fn conn_word(own: u16, peer: u16) -> u32 {
    ((own as u32) << 16) | peer as u32
}

impl ServiceView {
    /// A view over `region` for `cfg`; `None` if the region is too small.
    pub fn new(region: Region, cfg: &StaticConfig) -> Option<Self> {
        let layout = ServiceLayout::of(cfg);
        if region.len() < layout.size {
            return None;
        }
        Some(Self {
            region,
            layout,
            max_pub: cfg.max_publishers,
            max_sub: cfg.max_subscribers,
            max_nodes: cfg.max_nodes,
            buffer: cfg.subscriber_max_buffer_size,
            completion: cfg.completion_capacity(),
            channels: cfg.response.as_ref().map_or(0, |r| r.max_active_requests_per_client),
            rbuffer: cfg.response.as_ref().map_or(0, |r| r.max_response_buffer_size),
            rcompletion: cfg.response.as_ref().map_or(0, |r| r.completion_capacity()),
            event_max_id: cfg.event.as_ref().map(|e| e.event_id_max_value),
            dead_event: cfg.event.as_ref().and_then(|e| e.notifier_dead_event),
        })
    }

    /// Events: listener slot `l`'s wake word and event state.
    pub fn listener_event(&self, l: u32) -> Option<(super::event::Waker<'_>, super::event::EventState<'_>)> {
        let max = self.event_max_id?;
        if l >= self.max_sub {
            return None;
        }
        let base = self.layout.events_off + l as usize * self.layout.event_stride;
        let w = self.region.words(base, self.layout.event_stride / 4);
        let summary_at = 16;
        let counters_at = summary_at + super::align_up(self.layout.summary_words * 4, 64) / 4;
        let state = super::event::EventState::new(
            w.get(summary_at..summary_at + self.layout.summary_words)?,
            w.get(counters_at..counters_at + max as usize + 1)?,
        )?;
        Some((super::event::Waker::new(w.first()?), state))
    }

    /// Data patterns: the wake word of subscriber-table port `s` (a
    /// subscriber or a server), signalled when something is queued for it.
    pub fn receiver_waker(&self, s: u32) -> Option<super::event::Waker<'_>> {
        if self.event_max_id.is_some() || s >= self.max_sub {
            return None;
        }
        self.region.words(self.layout.rx_wake_off + s as usize * 64, 1).first().map(super::event::Waker::new)
    }

    /// Data patterns: the wake word of publisher-table port `p` (a client
    /// waits there for responses and stream ends).
    pub fn sender_waker(&self, p: u32) -> Option<super::event::Waker<'_>> {
        if self.event_max_id.is_some() || p >= self.max_pub {
            return None;
        }
        self.region.words(self.layout.tx_wake_off + p as usize * 64, 1).first().map(super::event::Waker::new)
    }

    /// Events: the id sent to listeners when a dead notifier is cleaned up.
    pub fn dead_event(&self) -> Option<u32> {
        self.dead_event
    }

    /// The layout.
    pub fn layout(&self) -> &ServiceLayout {
        &self.layout
    }

    /// Node slots.
    pub fn node_count(&self) -> u32 {
        self.max_nodes
    }

    /// Publisher slots.
    pub fn publisher_count(&self) -> u32 {
        self.max_pub
    }

    /// Subscriber slots.
    pub fn subscriber_count(&self) -> u32 {
        self.max_sub
    }

    /// Service state word: 0 open, [`DESTROYING`] while the last user leaves.
    pub fn state(&self) -> &AtomicU32 {
        &self.region.words(self.layout.state_off, 1)[0]
    }

    /// Incremented whenever a port or connection changes; ports rescan when
    /// it moves. (Read on every loan, send and receive: located once.)
    pub fn epoch(&self) -> &AtomicU32 {
        // SAFETY: `new` checked that the whole layout, this word included,
        // lies within the region; the offset is 64-byte aligned; the region
        // is valid while `self` lives and its words are only used atomically.
        unsafe { &*self.region.base().add(self.layout.epoch_off).cast::<AtomicU32>() }
    }

    fn slot(&self, base: usize, i: u32, n: u32) -> Option<Slot<'_>> {
        (i < n).then(|| Slot { w: self.region.words(base + i as usize * SLOT_WORDS * 4, SLOT_WORDS) })
    }

    /// Node slot `i`.
    pub fn node(&self, i: u32) -> Option<Slot<'_>> {
        self.slot(self.layout.nodes_off, i, self.max_nodes)
    }

    /// Publisher slot `i`.
    pub fn publisher(&self, i: u32) -> Option<Slot<'_>> {
        self.slot(self.layout.pubs_off, i, self.max_pub)
    }

    /// Subscriber slot `i`.
    pub fn subscriber(&self, i: u32) -> Option<Slot<'_>> {
        self.slot(self.layout.subs_off, i, self.max_sub)
    }

    /// The connection between publisher slot `p` and subscriber slot `s`.
    pub fn connection(&self, p: u32, s: u32) -> Option<ConnView<'_>> {
        if p >= self.max_pub || s >= self.max_sub {
            return None;
        }
        let base = self.layout.conns_off + (p as usize * self.max_sub as usize + s as usize) * self.layout.conn_stride;
        let w = self.region.words(base, self.layout.conn_stride / 4);
        let sub_at = self.layout.submission_off / 4;
        let comp_at = self.layout.completion_off / 4;
        Some(ConnView {
            pub_word: w.first()?,
            sub_word: w.get(16)?,
            submission: Queue::new(w.get(sub_at..comp_at)?, self.buffer)?,
            completion: Queue::new(w.get(comp_at..)?, self.completion)?,
        })
    }

    /// Request-response: client slot `c`'s listening words, one per channel
    /// (written by the client: the tag of the request it awaits responses
    /// to on that channel, 0 when none).
    pub fn listening(&self, c: u32) -> Option<&[AtomicU32]> {
        if c >= self.max_pub || self.channels == 0 {
            return None;
        }
        let off = self.layout.channels_off + c as usize * self.layout.channel_words * 4;
        Some(self.region.words(off, self.channels as usize))
    }

    /// Request-response: the response connection from server slot `s` to
    /// client slot `c`.
    pub fn response_connection(&self, s: u32, c: u32) -> Option<ResponseConnView<'_>> {
        if s >= self.max_sub || c >= self.max_pub || self.channels == 0 {
            return None;
        }
        let l = &self.layout;
        let base = l.rconns_off + (s as usize * self.max_pub as usize + c as usize) * l.rconn_stride;
        let w = self.region.words(base, l.rconn_stride / 4);
        let ended_at = l.ended_off / 4;
        Some(ResponseConnView {
            pub_word: w.first()?,
            sub_word: w.get(16)?,
            ended: w.get(ended_at..ended_at + self.channels as usize)?,
            completion: Queue::new(w.get(l.rcomp_off / 4..)?, self.rcompletion)?,
            words: w,
            sub_at: l.rsub_off / 4,
            sub_words: l.rsub_stride / 4,
            capacity: self.rbuffer,
        })
    }

    /// Bumps the epoch so that every port rescans.
    pub fn bump_epoch(&self) {
        self.epoch().fetch_add(1, Ordering::SeqCst);
    }
}

/// Service state: being destroyed by its last user.
pub const DESTROYING: u32 = 1;

#[cfg(test)]
#[cfg(not(loom))]
mod tests {
    use super::*;

    fn cfg() -> StaticConfig {
        StaticConfig {
            name: ServiceName::new("a/b").unwrap(),
            pattern: PATTERN_PUBLISH_SUBSCRIBE,
            max_publishers: 2,
            max_subscribers: 3,
            max_nodes: 4,
            history_size: 1,
            subscriber_max_buffer_size: 2,
            subscriber_max_borrowed_samples: 2,
            enable_safe_overflow: true,
            payload_alignment: 8,
            payload: TypeDetail::of::<u64>().unwrap(),
            user_header: TypeDetail::of::<()>().unwrap(),
            max_slice_len: 1,
            response: None,
            event: None,
        }
    }

    fn rr_cfg() -> StaticConfig {
        StaticConfig {
            pattern: PATTERN_REQUEST_RESPONSE,
            history_size: 0,
            subscriber_max_buffer_size: 3,
            subscriber_max_borrowed_samples: 3,
            response: Some(ResponseConfig {
                payload: TypeDetail::of_payload::<[u8]>().unwrap(),
                user_header: TypeDetail::of::<u32>().unwrap(),
                payload_alignment: 1,
                max_slice_len: 1000,
                max_active_requests_per_client: 3,
                max_loaned_requests: 2,
                max_response_buffer_size: 2,
                max_borrowed_responses_per_pending_response: 2,
                enable_safe_overflow: false,
                enable_fire_and_forget: true,
            }),
            ..cfg()
        }
    }

    #[test]
    fn request_response_config_round_trips() {
        let c = rr_cfg();
        let words: std::vec::Vec<AtomicU32> = (0..STATIC_WORDS).map(|_| AtomicU32::new(0)).collect();
        c.write(&words);
        assert_eq!(StaticConfig::read(&words), Ok(c));
        // A response part on a publish-subscribe service is garbage.
        words[S_PATTERN].store(PATTERN_PUBLISH_SUBSCRIBE, Ordering::Relaxed);
        assert_eq!(StaticConfig::read(&words), Err(ConfigError::Corrupt));
        words[S_PATTERN].store(PATTERN_REQUEST_RESPONSE, Ordering::Relaxed);
        words[R_ACTIVE].store(MAX_ACTIVE_REQUESTS_LIMIT + 1, Ordering::Relaxed);
        assert_eq!(StaticConfig::read(&words), Err(ConfigError::Corrupt));
    }

    fn event_cfg() -> StaticConfig {
        StaticConfig {
            pattern: PATTERN_EVENT,
            history_size: 0,
            event: Some(EventConfig {
                event_id_max_value: 40,
                notifier_created_event: Some(0),
                notifier_dropped_event: None,
                notifier_dead_event: Some(40),
                deadline_ns: Some(5_000_000_000),
            }),
            ..cfg()
        }
    }

    #[test]
    fn event_config_round_trips_and_rejects_garbage() {
        let c = event_cfg();
        let words: std::vec::Vec<AtomicU32> = (0..STATIC_WORDS).map(|_| AtomicU32::new(0)).collect();
        c.write(&words);
        assert_eq!(StaticConfig::read(&words), Ok(c));
        // An id past the maximum, an unknown presence or deadline flag,
        // an event part on another pattern: all garbage.
        for (at, bad) in [(E_DEAD, 41), (E_PRESENT, 2), (E_DEADLINE_FLAG, 7), (E_MAX_ID, MAX_EVENT_ID_LIMIT + 1)] {
            let keep = words[at].load(Ordering::Relaxed);
            words[at].store(bad, Ordering::Relaxed);
            assert_eq!(StaticConfig::read(&words), Err(ConfigError::Corrupt), "word {at} = {bad} accepted");
            words[at].store(keep, Ordering::Relaxed);
        }
        words[S_PATTERN].store(PATTERN_PUBLISH_SUBSCRIBE, Ordering::Relaxed);
        assert_eq!(StaticConfig::read(&words), Err(ConfigError::Corrupt));
    }

    #[test]
    fn listener_event_areas_lie_within_the_segment_and_apart() {
        let c = event_cfg();
        let l = ServiceLayout::of(&c);
        assert_eq!(l.events_off + 3 * l.event_stride, l.size);
        assert_eq!(l.conns_off, l.channels_off, "events have no connections");
        let mem: std::vec::Vec<u64> = std::vec![0; l.size / 8];
        // SAFETY: the vector is valid for `l.size` bytes, 8-aligned, and
        // outlives the region; it is accessed only through atomics.
        let region = unsafe { Region::new(mem.as_ptr() as *mut u8, l.size) };
        let v = ServiceView::new(region, &c).unwrap();
        assert!(v.listener_event(3).is_none());
        let (w0, e0) = v.listener_event(0).unwrap();
        let (w2, e2) = v.listener_event(2).unwrap();
        assert_eq!(e2.max_id(), 40);
        assert!(e2.raise(40) && e2.raise(0));
        assert!(!e0.pending(), "listeners share no counter");
        assert!(!w2.signal() && w0.announce() == 1, "listeners share no wake word");
        let mut got = std::vec::Vec::new();
        e2.collect(&mut |id, n| got.push((id, n)));
        assert_eq!(got, [(0, 1), (40, 1)]);
        assert_eq!(v.dead_event(), Some(40));
    }

    #[test]
    fn response_connections_lie_within_the_segment_and_apart() {
        let c = rr_cfg();
        let l = ServiceLayout::of(&c);
        assert!(l.conns_off + 6 * l.conn_stride <= l.channels_off);
        assert!(l.channels_off + 2 * 64 <= l.rconns_off);
        assert_eq!(l.rconns_off + 6 * l.rconn_stride, l.rx_wake_off);
        assert_eq!((l.rx_wake_off + 3 * 64, l.tx_wake_off + 2 * 64), (l.tx_wake_off, l.size), "one wake line per port");
        assert_eq!(l.rconn_stride % 64, 0);
        let mem: std::vec::Vec<u64> = std::vec![0; l.size / 8];
        // SAFETY: the vector is valid for `l.size` bytes, 8-aligned, and
        // outlives the region; it is accessed only through atomics.
        let region = unsafe { Region::new(mem.as_ptr() as *mut u8, l.size) };
        let v = ServiceView::new(region, &c).unwrap();
        let last = v.response_connection(2, 1).unwrap();
        assert!(last.channel(2).is_some() && last.channel(3).is_none());
        assert!(v.response_connection(3, 0).is_none() && v.response_connection(0, 2).is_none());
        assert_eq!(v.listening(1).unwrap().len(), 3);
        // Queues of neighbouring channels do not share words.
        last.channel(0).unwrap().push(7, &mut 0).unwrap();
        assert_eq!(last.channel(1).unwrap().len(), Ok(0));
        assert_eq!(last.channel(0).unwrap().len(), Ok(1));
    }

    #[test]
    fn static_config_round_trips_and_rejects_garbage() {
        let c = cfg();
        let words: std::vec::Vec<AtomicU32> = (0..STATIC_WORDS).map(|_| AtomicU32::new(0)).collect();
        c.write(&words);
        assert_eq!(StaticConfig::read(&words), Ok(c));
        words[S_MAX_PUB].store(0, Ordering::Relaxed);
        assert_eq!(StaticConfig::read(&words), Err(ConfigError::Corrupt));
        words[S_MAX_PUB].store(1, Ordering::Relaxed);
        words[S_NAME_LEN].store(9999, Ordering::Relaxed);
        assert_eq!(StaticConfig::read(&words), Err(ConfigError::Corrupt));
    }

    #[test]
    fn layout_parts_do_not_overlap() {
        let l = ServiceLayout::of(&cfg());
        assert!(l.static_off < l.state_off && l.state_off < l.epoch_off && l.epoch_off < l.nodes_off);
        assert!(l.nodes_off + 4 * 32 <= l.pubs_off && l.pubs_off + 2 * 32 <= l.subs_off);
        assert!(l.subs_off + 3 * 32 <= l.conns_off);
        assert_eq!(l.conns_off + 6 * l.conn_stride, l.rx_wake_off);
        assert_eq!((l.rx_wake_off + 3 * 64, l.tx_wake_off + 2 * 64), (l.tx_wake_off, l.size), "one wake line per port");
        assert_eq!(l.conn_stride % 64, 0);
    }

    #[test]
    fn slot_claim_release_generations() {
        let words: std::vec::Vec<AtomicU32> = (0..8).map(|_| AtomicU32::new(0)).collect();
        let s = Slot { w: &words };
        let g = s.try_claim().unwrap();
        assert_eq!(g, 1);
        assert!(s.try_claim().is_none());
        s.activate(g);
        let st = s.state();
        assert!(!s.release(join_state(g, status::CLAIMED)));
        assert!(s.release(st));
        assert!(!s.release(st));
        assert_eq!(s.try_claim(), Some(2));
        words[0].store(join_state(u16::MAX, status::FREE), Ordering::Relaxed);
        assert_eq!(s.try_claim(), Some(1));
    }
}

#[cfg(test)]
#[cfg(loom)]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;

    /// Two claimants race for one slot: exactly one wins, and a release
    /// with a stale state word does nothing.
    #[test]
    fn one_claimant_wins() {
        loom::model(|| {
            let m: Arc<std::vec::Vec<AtomicU32>> = Arc::new((0..SLOT_WORDS).map(|_| AtomicU32::new(0)).collect());
            let m2 = m.clone();
            let other = loom::thread::spawn(move || {
                let s = Slot { w: &m2 };
                let g = s.try_claim();
                if let Some(g) = g {
                    s.set_field(1, 7);
                    s.activate(g);
                }
                g.is_some()
            });
            let s = Slot { w: &m };
            let mine = s.try_claim();
            if let Some(g) = mine {
                s.set_field(1, 9);
                s.activate(g);
            }
            let theirs = other.join().unwrap();
            assert!(mine.is_some() ^ theirs, "exactly one claimant must win");
            let st = s.state();
            assert_eq!(split_state(st), (1, status::ACTIVE));
            assert_eq!(s.owner(), if theirs { 7 } else { 9 });
            assert!(!s.release(join_state(2, status::ACTIVE)));
            assert!(s.release(st));
        });
    }
}

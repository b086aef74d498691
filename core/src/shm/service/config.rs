//! The static configuration a creator writes once: pattern, QoS, flags,
//! names and type details, read back and checked on every open.

use super::*;

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
    /// Whether the response payload is a slice.
    pub fn payload_is_slice(&self) -> bool {
        self.payload.variant == TypeVariant::Slice
    }

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
    /// Whether the payload (of requests, for request-response) is a slice.
    pub fn payload_is_slice(&self) -> bool {
        self.payload.variant == TypeVariant::Slice
    }

    /// Request-response: client slots (the senders of requests).
    pub fn max_clients(&self) -> u32 {
        self.max_publishers
    }

    /// Request-response: server slots (the receivers of requests).
    pub fn max_servers(&self) -> u32 {
        self.max_subscribers
    }

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

//! Process-local capacities, fixed at build time.
//!
//! Shared-memory capacities are runtime QoS, but the state a port keeps in
//! its own process is sized at compile time so that nothing allocates.
//! Override with environment variables when building (validated by the
//! build script: a bad value is a build error).

include!(concat!(env!("OUT_DIR"), "/capacities.rs"));

/// How long an opener waits for a service that is still being created.
pub const CREATION_TIMEOUT_MS: u64 = 1000;

use crate::name::Prefix;
use crate::platform::Permissions;

/// What a node takes from an operator's configuration: the prefix,
/// permissions, the cleanup policy and the QoS a service gets for every
/// knob its builder leaves unset. A plain value (the core reads no file;
/// `icefloe-linux` loads one from TOML). Hand it to
/// [`NodeBuilder::config`](crate::NodeBuilder::config).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Config {
    /// The segment-name prefix (default [`DEFAULT_PREFIX`](crate::name::DEFAULT_PREFIX)).
    pub prefix: Prefix,
    /// Who may open the segments a node creates (default owner only).
    pub permissions: Permissions,
    /// When dead nodes' leftovers are reclaimed beyond the cleanup every
    /// service open runs.
    pub cleanup: CleanupPolicy,
    /// Defaults of publish-subscribe services.
    pub publish_subscribe: PublishSubscribeDefaults,
    /// Defaults of request-response services.
    pub request_response: RequestResponseDefaults,
    /// Defaults of event services.
    pub event: EventDefaults,
}

/// When a node reclaims what dead nodes left under its prefix (opening a
/// service always cleans that service).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CleanupPolicy {
    /// Run [`Node::cleanup_dead_nodes`](crate::Node::cleanup_dead_nodes)
    /// when a node is created (iceoryx2's
    /// `cleanup-dead-nodes-on-creation`). Default off: it lists every
    /// segment of the prefix.
    pub on_node_creation: bool,
    /// Run it when a node drops (iceoryx2's
    /// `cleanup-dead-nodes-on-destruction`). Default off.
    pub on_node_drop: bool,
}

/// Publish-subscribe QoS for knobs a builder leaves unset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublishSubscribeDefaults {
    /// `max_publishers`.
    pub max_publishers: u32,
    /// `max_subscribers`.
    pub max_subscribers: u32,
    /// `max_nodes`.
    pub max_nodes: u32,
    /// `history_size`.
    pub history_size: u32,
    /// `subscriber_max_buffer_size`.
    pub subscriber_max_buffer_size: u32,
    /// `subscriber_max_borrowed_samples`.
    pub subscriber_max_borrowed_samples: u32,
    /// `enable_safe_overflow`.
    pub enable_safe_overflow: bool,
}

impl Default for PublishSubscribeDefaults {
    fn default() -> Self {
        use crate::service::publish_subscribe::*;
        Self {
            max_publishers: DEFAULT_MAX_PUBLISHERS,
            max_subscribers: DEFAULT_MAX_SUBSCRIBERS,
            max_nodes: DEFAULT_MAX_NODES,
            history_size: DEFAULT_HISTORY_SIZE,
            subscriber_max_buffer_size: DEFAULT_SUBSCRIBER_MAX_BUFFER_SIZE,
            subscriber_max_borrowed_samples: DEFAULT_SUBSCRIBER_MAX_BORROWED_SAMPLES,
            enable_safe_overflow: DEFAULT_ENABLE_SAFE_OVERFLOW,
        }
    }
}

/// Request-response QoS for knobs a builder leaves unset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestResponseDefaults {
    /// `max_clients`.
    pub max_clients: u32,
    /// `max_servers`.
    pub max_servers: u32,
    /// `max_nodes`.
    pub max_nodes: u32,
    /// `max_active_requests_per_client`.
    pub max_active_requests_per_client: u32,
    /// `max_loaned_requests`.
    pub max_loaned_requests: u32,
    /// `max_response_buffer_size`.
    pub max_response_buffer_size: u32,
    /// `max_borrowed_responses_per_pending_response`.
    pub max_borrowed_responses_per_pending_response: u32,
    /// `enable_safe_overflow_for_requests`.
    pub enable_safe_overflow_for_requests: bool,
    /// `enable_safe_overflow_for_responses`.
    pub enable_safe_overflow_for_responses: bool,
    /// `enable_fire_and_forget`.
    pub enable_fire_and_forget: bool,
}

impl Default for RequestResponseDefaults {
    fn default() -> Self {
        use crate::service::request_response::*;
        Self {
            max_clients: DEFAULT_MAX_CLIENTS,
            max_servers: DEFAULT_MAX_SERVERS,
            max_nodes: DEFAULT_MAX_NODES,
            max_active_requests_per_client: DEFAULT_MAX_ACTIVE_REQUESTS_PER_CLIENT,
            max_loaned_requests: DEFAULT_MAX_LOANED_REQUESTS,
            max_response_buffer_size: DEFAULT_MAX_RESPONSE_BUFFER_SIZE,
            max_borrowed_responses_per_pending_response: DEFAULT_MAX_BORROWED_RESPONSES_PER_PENDING_RESPONSE,
            enable_safe_overflow_for_requests: true,
            enable_safe_overflow_for_responses: true,
            enable_fire_and_forget: true,
        }
    }
}

/// Event QoS for knobs a builder leaves unset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventDefaults {
    /// `max_notifiers`.
    pub max_notifiers: u32,
    /// `max_listeners`.
    pub max_listeners: u32,
    /// `max_nodes`.
    pub max_nodes: u32,
    /// `event_id_max_value`.
    pub event_id_max_value: u32,
}

impl Default for EventDefaults {
    fn default() -> Self {
        use crate::service::event::*;
        Self {
            max_notifiers: DEFAULT_MAX_NOTIFIERS,
            max_listeners: DEFAULT_MAX_LISTENERS,
            max_nodes: DEFAULT_MAX_NODES,
            event_id_max_value: DEFAULT_EVENT_ID_MAX_VALUE,
        }
    }
}

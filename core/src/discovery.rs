//! Discovery: which services and nodes exist under a prefix, who uses them,
//! and what is dead — read from shared memory, without the services' Rust
//! types, allocation-free (callbacks and owned mappings).
//!
//! - [`Service::list`] calls back with the [`ServiceDetails`] of every
//!   service under a prefix: name, pattern, types, QoS, ports and nodes;
//!   [`Service::details`] opens one by name, [`Service::does_exist`] asks.
//! - Every node writes a small record (its id, name and liveness) when it is
//!   created and removes it when it drops; [`Node::list`] reads them back as
//!   [`NodeInfo`] with a [`NodeState`], and a dead node's entry offers
//!   [`NodeInfo::remove_stale_resources`]. The record a crashed node leaves
//!   is removed by the cleanup that reclaims its slots.
//!
//! ```
//! # fn demo<P: icefloe_core::Platform>(node: &icefloe_core::Node<P>) {
//! use icefloe_core::discovery::Service;
//! use icefloe_core::CallbackProgression;
//! let _ = Service::<P>::list(node.prefix(), |s| {
//!     let mut ports = 0;
//!     s.ports(|_| ports += 1);
//!     // s.name(), s.pattern(), s.static_config(), s.nodes(..), s.footprint()
//!     let _ = (s.name(), ports);
//!     CallbackProgression::Continue
//! });
//! # }
//! ```

use crate::name::{segment_name, service_hash, NodeName, Prefix, SegmentKind, ServiceName, ShmName, MAX_NODE_NAME_LEN};
use crate::node::{CleanupState, Node};
use crate::platform::{Access, Liveness, LivenessId, Permissions, Platform, SharedMemory, ShmError};
use crate::service::{Existing, ServiceOpenError, StaticConfig};
use crate::shm::header::{Header, HeaderCheck, HEADER_WORDS};
use crate::shm::service::{
    split_state, state_owner, status, ServiceView, Slot, FIELD_NEXT_SEGMENT, FIELD_OLDEST_SEGMENT, PATTERN_EVENT,
    PATTERN_PUBLISH_SUBSCRIBE, PATTERN_REQUEST_RESPONSE,
};
use crate::shm::Region;
use crate::sync::{load_bytes, load_u64, store_bytes, store_u64, Ordering};
use crate::waitset::CallbackProgression;
use core::fmt;
use core::marker::PhantomData;

/// Segment kind word of a node record.
pub(crate) const KIND_NODE: u32 = 3;
const R_ID: usize = HEADER_WORDS;
const R_NAME_LEN: usize = R_ID + 2;
const R_NAME: usize = R_NAME_LEN + 1;
const RECORD_WORDS: usize = R_NAME + MAX_NODE_NAME_LEN / 4;
/// Bytes of a node record.
pub(crate) const RECORD_SIZE: usize = RECORD_WORDS * 4;

/// The messaging pattern of a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum MessagingPattern {
    /// Publishers and subscribers.
    PublishSubscribe,
    /// Clients and servers.
    RequestResponse,
    /// Notifiers and listeners.
    Event,
}

impl MessagingPattern {
    /// The pattern of a stored pattern word.
    pub fn from_word(w: u32) -> Option<Self> {
        match w {
            PATTERN_PUBLISH_SUBSCRIBE => Some(Self::PublishSubscribe),
            PATTERN_REQUEST_RESPONSE => Some(Self::RequestResponse),
            PATTERN_EVENT => Some(Self::Event),
            _ => None,
        }
    }

    /// The word stored in a service's static config.
    pub fn word(self) -> u32 {
        match self {
            Self::PublishSubscribe => PATTERN_PUBLISH_SUBSCRIBE,
            Self::RequestResponse => PATTERN_REQUEST_RESPONSE,
            Self::Event => PATTERN_EVENT,
        }
    }

    /// The pattern's name in iceoryx2's spelling (`publish_subscribe`,
    /// `request_response`, `event`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PublishSubscribe => "publish_subscribe",
            Self::RequestResponse => "request_response",
            Self::Event => "event",
        }
    }

    /// The two port kinds of the pattern: (sending, receiving).
    pub fn port_kinds(self) -> (PortKind, PortKind) {
        match self {
            Self::PublishSubscribe => (PortKind::Publisher, PortKind::Subscriber),
            Self::RequestResponse => (PortKind::Client, PortKind::Server),
            Self::Event => (PortKind::Notifier, PortKind::Listener),
        }
    }
}

impl fmt::Display for MessagingPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kind of a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum PortKind {
    /// Publish-subscribe: sends samples.
    Publisher,
    /// Publish-subscribe: receives samples.
    Subscriber,
    /// Request-response: sends requests, receives responses.
    Client,
    /// Request-response: receives requests, sends responses.
    Server,
    /// Event: wakes listeners.
    Notifier,
    /// Event: is woken.
    Listener,
}

impl PortKind {
    /// The kind's name in lower case (`publisher`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Publisher => "publisher",
            Self::Subscriber => "subscriber",
            Self::Client => "client",
            Self::Server => "server",
            Self::Notifier => "notifier",
            Self::Listener => "listener",
        }
    }
}

impl fmt::Display for PortKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What is known of a node, with iceoryx2's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum NodeState {
    /// Its process runs.
    Alive,
    /// Its process is gone: what it held can be reclaimed
    /// ([`NodeInfo::remove_stale_resources`], [`Node::cleanup_dead_nodes`]).
    Dead,
    /// Its record cannot be read (another user's, without permission), or
    /// its process cannot be asked (another PID namespace or host): treated
    /// as alive, never reclaimed.
    Inaccessible,
    /// Its record is being written, or makes no sense.
    Undefined,
}

impl NodeState {
    /// The state's name in lower case (`alive`, `dead`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Alive => "alive",
            Self::Dead => "dead",
            Self::Inaccessible => "inaccessible",
            Self::Undefined => "undefined",
        }
    }

    fn of_liveness<P: Platform>(id: LivenessId) -> Self {
        if id.0 == [0; 3] {
            return Self::Undefined;
        }
        match P::liveness_check(id) {
            Liveness::Alive => Self::Alive,
            Liveness::Dead => Self::Dead,
            _ => Self::Inaccessible,
        }
    }
}

impl fmt::Display for NodeState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a listing, or a dead node's cleanup, failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum DiscoveryError {
    /// The platform could not list its segments.
    ListFailed(ShmError),
    /// [`NodeInfo::remove_stale_resources`] on a node that is not dead.
    NodeNotDead(NodeState),
}

impl fmt::Display for DiscoveryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ListFailed(e) => write!(f, "the shared-memory segments could not be listed: {e}"),
            Self::NodeNotDead(s) => {
                write!(f, "the node is {s}, not dead: only a dead node's resources can be removed")
            }
        }
    }
}

impl core::error::Error for DiscoveryError {}

// --- node records -----------------------------------------------------------

/// The segment name of node `id`'s record.
pub(crate) fn record_name(prefix: &Prefix, id: u64) -> ShmName {
    segment_name(prefix, id, SegmentKind::Node)
}

/// Writes node `id`'s record: creator, id, name, then the ready mark.
pub(crate) fn create_record<P: Platform>(
    prefix: &Prefix,
    id: u64,
    name: &NodeName,
    liveness: LivenessId,
    permissions: Permissions,
) -> Result<(), ShmError> {
    let shm = P::shm_create(&record_name(prefix, id), RECORD_SIZE, permissions)?;
    let region = Region::of(&shm);
    let words = region.try_words(0, RECORD_WORDS).ok_or(ShmError::InvalidSize)?;
    let header = Header::new(words).ok_or(ShmError::InvalidSize)?;
    header.begin(liveness);
    store_u64(&words[R_ID], &words[R_ID + 1], id);
    let bytes = name.as_str().as_bytes();
    words[R_NAME_LEN].store(bytes.len() as u32, Ordering::Relaxed);
    store_bytes(&words[R_NAME..], bytes);
    header.publish(KIND_NODE, RECORD_SIZE as u64);
    // The mapping goes; the record stays until the node drops.
    Ok(())
}

/// Removes node `id`'s record if the process that wrote it is dead (a
/// cleaner that reclaimed the node's slots calls it: such a record is
/// finished, the node joined a service after writing it).
pub(crate) fn remove_record_if_dead<P: Platform>(prefix: &Prefix, id: u64) {
    let name = record_name(prefix, id);
    if let RecordState::Written(creator) = record_state::<P>(&name) {
        if NodeState::of_liveness::<P>(creator) == NodeState::Dead {
            let _ = P::shm_unlink(&name);
        }
    }
}

/// Removes the node record at `name` if the process that wrote it is dead,
/// or if it stays unfinished (not sized, or no writer named: its creator
/// was killed right after creating it) for the creation timeout.
pub(crate) fn remove_record_named_if_dead<P: Platform>(name: &str) {
    let start = P::now();
    let timeout = core::time::Duration::from_millis(crate::config::CREATION_TIMEOUT_MS);
    loop {
        match record_state::<P>(name) {
            RecordState::Unfinished if P::now().saturating_sub(start) > timeout => {}
            RecordState::Unfinished => {
                let _ = P::sleep(core::time::Duration::from_millis(1));
                continue;
            }
            RecordState::Written(creator) if NodeState::of_liveness::<P>(creator) == NodeState::Dead => {}
            _ => return,
        }
        let _ = P::shm_unlink(name);
        crate::logging::log_info!("icefloe: removed the record of dead node {}", name);
        return;
    }
}

/// What a record's header says of it, read without its contents.
enum RecordState {
    /// Gone, or not readable.
    Missing,
    /// Too short for a record, or no writer named yet (a writer sizes it
    /// and names itself right after creating it).
    Unfinished,
    /// Its writer.
    Written(LivenessId),
}

fn record_state<P: Platform>(name: &str) -> RecordState {
    match P::shm_open(name, Access::ReadOnly) {
        Ok(shm) => match Region::of(&shm).try_words(0, RECORD_WORDS).and_then(Header::new) {
            Some(h) if h.creator().0 != [0; 3] => RecordState::Written(h.creator()),
            _ => RecordState::Unfinished,
        },
        Err(ShmError::InvalidSize) => RecordState::Unfinished,
        Err(_) => RecordState::Missing,
    }
}

/// Reads the record at `name` (a node record's segment name).
fn read_record<P: Platform>(prefix: &Prefix, name: &str) -> Option<NodeInfo<P>> {
    // Not a record's name: not opened at all.
    let id = id_of_record_name(prefix, name)?;
    let mut info = NodeInfo {
        id,
        name: None,
        liveness: LivenessId::default(),
        state: NodeState::Undefined,
        prefix: prefix.clone(),
        _p: PhantomData,
    };
    let shm = match P::shm_open(name, Access::ReadOnly) {
        Ok(shm) => shm,
        Err(ShmError::PermissionDenied) => {
            info.state = NodeState::Inaccessible;
            return Some(info);
        }
        Err(_) => return None,
    };
    let region = Region::of(&shm);
    let Some(words) = region.try_words(0, RECORD_WORDS) else { return Some(info) };
    let header = Header::new(words)?;
    info.liveness = header.creator();
    match header.check(KIND_NODE, region.len()).0 {
        HeaderCheck::Ready => {
            let len = words[R_NAME_LEN].load(Ordering::Relaxed) as usize;
            let mut buf = [0u8; MAX_NODE_NAME_LEN];
            if load_u64(&words[R_ID], &words[R_ID + 1]) != id || len > MAX_NODE_NAME_LEN {
                return Some(info);
            }
            load_bytes(&words[R_NAME..], &mut buf[..len]);
            match core::str::from_utf8(&buf[..len]).ok().and_then(|s| NodeName::new(s).ok()) {
                Some(n) => info.name = Some(n),
                None => return Some(info),
            }
            info.state = NodeState::of_liveness::<P>(info.liveness);
        }
        // A record whose writer died before finishing is dead; one being
        // written, or garbage, is undefined.
        HeaderCheck::InCreation { creator } if NodeState::of_liveness::<P>(creator) == NodeState::Dead => {
            info.state = NodeState::Dead;
        }
        _ => {}
    }
    Some(info)
}

/// The node id a record's segment name encodes (the 13 base-32 digits after
/// the prefix hold all 64 bits).
fn id_of_record_name(prefix: &Prefix, name: &str) -> Option<u64> {
    if !crate::name::is_segment_name(prefix, name, SegmentKind::Node) {
        return None;
    }
    let digits = &name.as_bytes()[prefix.as_str().len()..name.len() - 1];
    digits.iter().try_fold(0u64, |acc, &c| {
        let d = match c {
            b'a'..=b'z' => c - b'a',
            b'2'..=b'7' => c - b'2' + 26,
            _ => return None,
        };
        Some((acc << 5) | u64::from(d))
    })
}

/// A node as its record shows it. See [`Node::list`].
pub struct NodeInfo<P: Platform> {
    id: u64,
    name: Option<NodeName>,
    liveness: LivenessId,
    state: NodeState,
    prefix: Prefix,
    _p: PhantomData<P>,
}

impl<P: Platform> fmt::Debug for NodeInfo<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NodeInfo")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("liveness", &self.liveness)
            .field("state", &self.state)
            .finish()
    }
}

impl<P: Platform> NodeInfo<P> {
    /// The node's unique id ([`Node::id`]).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The node's name, unless its record is unreadable.
    pub fn name(&self) -> Option<&NodeName> {
        self.name.as_ref()
    }

    /// The liveness id of the node's process (on Linux, word 0 is its PID).
    pub fn liveness(&self) -> LivenessId {
        self.liveness
    }

    /// Alive, dead, inaccessible or undefined.
    pub fn state(&self) -> NodeState {
        self.state
    }

    /// Calls `f` with every service under the node's prefix that the node
    /// has joined (holds a node slot in).
    pub fn services(&self, mut f: impl FnMut(ServiceDetails<P>) -> CallbackProgression) -> Result<(), DiscoveryError> {
        let id = self.id;
        Service::<P>::list(&self.prefix, |s| if s.has_node(id) { f(s) } else { CallbackProgression::Continue })
    }

    /// For a dead node: reclaims what it left in every service of its
    /// prefix (its node and port slots, the chunks its receivers held, its
    /// data segments; any other dead node's met on the way too), removes a
    /// service whose last node it was, and then its record. The state of a
    /// node that is not dead is returned as the error.
    pub fn remove_stale_resources(&self) -> Result<CleanupState, DiscoveryError> {
        if self.state != NodeState::Dead {
            return Err(DiscoveryError::NodeNotDead(self.state));
        }
        // The prefix's cleanup removes this node's record with the others.
        crate::service::cleanup_prefix::<P>(&self.prefix, P::liveness_self()).map_err(DiscoveryError::ListFailed)
    }
}

impl<P: Platform> Node<P> {
    /// Calls `f` with every node record under `prefix`: every node alive
    /// now, and every dead one nobody has cleaned up yet. Allocation-free;
    /// stop early by returning [`CallbackProgression::Stop`].
    pub fn list(prefix: &Prefix, mut f: impl FnMut(NodeInfo<P>) -> CallbackProgression) -> Result<(), DiscoveryError> {
        P::shm_list(prefix.as_str(), &mut |name| match read_record::<P>(prefix, name) {
            Some(info) => f(info) == CallbackProgression::Continue,
            None => true,
        })
        .map_err(DiscoveryError::ListFailed)
    }

    /// The record of node `id` under `prefix`, if there is one.
    pub fn details(prefix: &Prefix, id: u64) -> Option<NodeInfo<P>> {
        read_record::<P>(prefix, &record_name(prefix, id))
    }
}

// --- services ---------------------------------------------------------------

/// Discovery of services, without their Rust types. Never constructed: its
/// functions are called as `Service::<P>::list(…)`.
pub struct Service<P: Platform>(PhantomData<P>);

/// A node slot of a service, as [`ServiceDetails::nodes`] reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ServiceNode {
    /// The node's id ([`Node::id`]).
    pub id: u64,
    /// Its process's liveness id.
    pub liveness: LivenessId,
    /// Whether its process runs.
    pub state: NodeState,
}

/// A port of a service, as [`ServiceDetails::ports`] reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PortInfo {
    /// Publisher, subscriber, …
    pub kind: PortKind,
    /// The port's id, unique in the service (0 for receiving ports of
    /// publish-subscribe and events, which have no data segment).
    pub port_id: u64,
    /// The id of the node that owns it.
    pub node_id: u64,
    /// Whether that node's process runs.
    pub node_state: NodeState,
}

/// One service, read from its segment (which this value keeps mapped).
pub struct ServiceDetails<P: Platform> {
    _shm: P::Shm,
    view: ServiceView,
    config: StaticConfig,
    prefix: Prefix,
    segment_size: usize,
}

impl<P: Platform> ServiceDetails<P> {
    /// The service's name.
    pub fn name(&self) -> &ServiceName {
        &self.config.name
    }

    /// Its messaging pattern.
    pub fn pattern(&self) -> MessagingPattern {
        // A config that reads back has a known pattern (checked on read).
        MessagingPattern::from_word(self.config.pattern).unwrap_or(MessagingPattern::Event)
    }

    /// Its static configuration: QoS, payload and user-header types (names,
    /// sizes, alignments, fixed-size or slice), the response and event sides.
    pub fn static_config(&self) -> &StaticConfig {
        &self.config
    }

    /// Calls `f` with every node holding a slot in the service.
    pub fn nodes(&self, mut f: impl FnMut(ServiceNode)) {
        for slot in (0..self.view.node_count()).filter_map(|i| self.view.node(i)) {
            if split_state(slot.state()).1 == status::ACTIVE {
                let liveness = slot.liveness();
                f(ServiceNode { id: slot.node_id(), liveness, state: NodeState::of_liveness::<P>(liveness) });
            }
        }
    }

    /// Whether node `id` holds a slot in the service.
    pub fn has_node(&self, id: u64) -> bool {
        let mut found = false;
        self.nodes(|n| found |= n.id == id);
        found
    }

    /// Calls `f` with every port in use (senders first).
    pub fn ports(&self, mut f: impl FnMut(PortInfo)) {
        self.port_slots(|kind, slot, st| {
            if split_state(st).1 != status::ACTIVE {
                return;
            }
            let owner = state_owner(st).unwrap_or_else(|| slot.owner());
            let (node_id, liveness) =
                self.view.node(owner).map(|n| (n.node_id(), n.liveness())).unwrap_or((0, LivenessId::default()));
            f(PortInfo { kind, port_id: slot.port_id(), node_id, node_state: NodeState::of_liveness::<P>(liveness) })
        });
    }

    /// Calls `f` with every port slot not free (senders first), its kind
    /// and its state word.
    fn port_slots(&self, mut f: impl FnMut(PortKind, Slot<'_>, u32)) {
        let (send, receive) = self.pattern().port_kinds();
        let senders = (0..self.view.sender_count()).filter_map(|i| self.view.sender(i)).map(|s| (send, s));
        let receivers = (0..self.view.receiver_count()).filter_map(|i| self.view.receiver(i)).map(|s| (receive, s));
        for (kind, slot) in senders.chain(receivers) {
            let st = slot.state();
            if split_state(st).1 != status::FREE {
                f(kind, slot, st);
            }
        }
    }

    /// How many ports of each of the pattern's two kinds are in use:
    /// (publishers, subscribers), (clients, servers) or (notifiers, listeners).
    pub fn port_counts(&self) -> (u32, u32) {
        let (send, _) = self.pattern().port_kinds();
        let mut counts = (0, 0);
        self.ports(|p| if p.kind == send { counts.0 += 1 } else { counts.1 += 1 });
        counts
    }

    /// Bytes of shared memory the service takes now: its segment and every
    /// data segment of its ports (each opened to read its size).
    pub fn footprint(&self) -> u64 {
        let hash = service_hash(self.config.pattern, &self.config.name);
        let mut total = self.segment_size as u64;
        self.port_slots(|_, slot, _| {
            let (oldest, next) = (slot.field(FIELD_OLDEST_SEGMENT), slot.field(FIELD_NEXT_SEGMENT));
            // Bounded like a cleaner's walk: a garbage range costs little.
            for k in 0..next.wrapping_sub(oldest).min(64) {
                let name = crate::name::data_segment_name(&self.prefix, hash, slot.port_id(), oldest.wrapping_add(k));
                if let Ok(shm) = P::shm_open(&name, Access::ReadOnly) {
                    total += shm.len() as u64;
                }
            }
        });
        total
    }

    /// The name of the service's segment (what `/dev/shm` shows on Linux).
    pub fn segment_name(&self) -> ShmName {
        segment_name(&self.prefix, service_hash(self.config.pattern, &self.config.name), SegmentKind::Service)
    }
}

impl<P: Platform> fmt::Debug for ServiceDetails<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceDetails").field("config", &self.config).finish_non_exhaustive()
    }
}

/// Maps the service segment `name` and reads it.
fn details_of<P: Platform>(prefix: &Prefix, name: &ShmName) -> Result<Option<ServiceDetails<P>>, ServiceOpenError> {
    match crate::service::open_existing::<P>(name, Access::ReadOnly)? {
        Existing::Ready(shm, config) => {
            let segment_size = shm.len();
            let view = ServiceView::new(Region::of(&shm), &config).ok_or(ServiceOpenError::ServiceInCorruptedState)?;
            Ok(Some(ServiceDetails { _shm: shm, view, config, prefix: prefix.clone(), segment_size }))
        }
        Existing::Hanging | Existing::Stale => Ok(None),
    }
}

impl<P: Platform> Service<P> {
    /// Calls `f` with every service under `prefix` (services still being
    /// created are left out; one that cannot be read — another user's,
    /// corrupt, another icefloe version — is logged and left out).
    /// Allocation-free; stop early by returning [`CallbackProgression::Stop`].
    pub fn list(
        prefix: &Prefix,
        mut f: impl FnMut(ServiceDetails<P>) -> CallbackProgression,
    ) -> Result<(), DiscoveryError> {
        P::shm_list(prefix.as_str(), &mut |name| {
            if !crate::name::is_segment_name(prefix, name, SegmentKind::Service) {
                return true;
            }
            let mut shm_name = ShmName::new();
            if shm_name.push_str(name).is_err() {
                return true;
            }
            match details_of::<P>(prefix, &shm_name) {
                Ok(Some(d)) => f(d) == CallbackProgression::Continue,
                Ok(None) | Err(ServiceOpenError::DoesNotExist) => true,
                Err(e) => {
                    crate::logging::log_warn!("icefloe: service segment {} left out of the listing: {}", name, e);
                    true
                }
            }
        })
        .map_err(DiscoveryError::ListFailed)
    }

    /// The service `name` of `pattern` under `prefix`: `Ok(None)` if there is
    /// none (or it is still being created), an error if its segment cannot
    /// be read.
    pub fn details(
        prefix: &Prefix,
        name: &ServiceName,
        pattern: MessagingPattern,
    ) -> Result<Option<ServiceDetails<P>>, ServiceOpenError> {
        let shm_name = segment_name(prefix, service_hash(pattern.word(), name), SegmentKind::Service);
        match details_of::<P>(prefix, &shm_name) {
            Ok(Some(d)) if d.config.name != *name || d.config.pattern != pattern.word() => {
                Err(ServiceOpenError::HashCollision)
            }
            Err(ServiceOpenError::DoesNotExist) => Ok(None),
            other => other,
        }
    }

    /// Whether the service `name` of `pattern` exists under `prefix`.
    pub fn does_exist(
        prefix: &Prefix,
        name: &ServiceName,
        pattern: MessagingPattern,
    ) -> Result<bool, ServiceOpenError> {
        Self::details(prefix, name, pattern).map(|d| d.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_names_give_back_their_id() {
        let prefix = Prefix::new("t_").unwrap();
        for id in [0, 1, 0xdead_beef, u64::MAX, 0x8000_0000_0000_0001] {
            assert_eq!(id_of_record_name(&prefix, &record_name(&prefix, id)), Some(id));
        }
        assert_eq!(id_of_record_name(&prefix, "t_aaaaaaaaaaaaas"), None, "a service segment is no record");
        assert_eq!(id_of_record_name(&prefix, "t_aaaaaaaaaaaa!n"), None);
    }

    #[test]
    fn patterns_round_trip() {
        for p in [MessagingPattern::PublishSubscribe, MessagingPattern::RequestResponse, MessagingPattern::Event] {
            assert_eq!(MessagingPattern::from_word(p.word()), Some(p));
        }
        assert_eq!(MessagingPattern::from_word(0), None);
    }
}

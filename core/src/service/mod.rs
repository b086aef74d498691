//! Services: a name, a messaging pattern, its QoS and payload types, living
//! in one service segment that every participant maps.
//!
//! [`ServiceBuilder`] picks the pattern; the pattern's builder (for now
//! [`PublishSubscribeBuilder`](publish_subscribe::PublishSubscribeBuilder))
//! sets QoS and then `create`s, `open`s or `open_or_create`s the service.
//! On open, sizes are minimum requirements (only those set explicitly are
//! checked), behaviour flags must match, and the payload and user-header
//! types must match exactly; each mismatch has its own error.

pub mod event;
pub mod publish_subscribe;
pub mod request_response;

pub use crate::shm::service::{EventConfig, ResponseConfig, StaticConfig};

/// The hard ceiling on a slice port's length, in elements, unless set with
/// `max_slice_len`: 16 Mi elements. Growth never passes it.
pub const DEFAULT_MAX_SLICE_LEN: u32 = 16 * 1024 * 1024;

use crate::name::{data_segment_name, segment_name, service_hash, Prefix, SegmentKind, ServiceName, ShmName};
use crate::node::Node;
use crate::platform::{Access, Liveness, Platform, SharedMemory, ShmError};
use crate::shm::header::{Header, HeaderCheck};
use crate::shm::service::{
    self as layout, split_state, status, ServiceLayout, ServiceView, FIELD_NEXT_SEGMENT, FIELD_OLDEST_SEGMENT,
    KIND_SERVICE,
};
use crate::shm::Region;
use crate::sync::Ordering;
use core::fmt;
use core::time::Duration;

/// Starts building a service of some messaging pattern.
pub struct ServiceBuilder<'n, P: Platform> {
    node: &'n Node<P>,
    name: ServiceName,
}

impl<'n, P: Platform> ServiceBuilder<'n, P> {
    pub(crate) fn new(node: &'n Node<P>, name: ServiceName) -> Self {
        Self { node, name }
    }

    /// Publish-subscribe with payload `T`: a [`ZeroCopySend`](crate::ZeroCopySend)
    /// type, or a slice `[T]` of them.
    pub fn publish_subscribe<T: crate::zero_copy::Payload + ?Sized>(
        self,
    ) -> publish_subscribe::PublishSubscribeBuilder<'n, P, T, ()> {
        publish_subscribe::PublishSubscribeBuilder::new(self.node, self.name)
    }

    /// Request-response with request payload `Req` and response payload
    /// `Res`: each a [`ZeroCopySend`](crate::ZeroCopySend) type or a slice.
    pub fn request_response<Req: crate::zero_copy::Payload + ?Sized, Res: crate::zero_copy::Payload + ?Sized>(
        self,
    ) -> request_response::RequestResponseBuilder<'n, P, Req, Res, (), ()> {
        request_response::RequestResponseBuilder::new(self.node, self.name)
    }

    /// Events: notifiers wake listeners with event ids, no payload.
    pub fn event(self) -> event::EventBuilder<'n, P> {
        event::EventBuilder::new(self.node, self.name)
    }

    /// Publish-subscribe without the service's Rust types: payload and user
    /// header are taken as bytes described by `config` (what
    /// [`Service::details`](crate::discovery::Service::details) read from the
    /// service). Opening succeeds only while the service still carries those
    /// types; samples are read as bytes (`payload_bytes`, `user_header_bytes`),
    /// and sending is byte-wise under the same check (a command-line tool, a
    /// bridge to other hosts).
    pub fn publish_subscribe_untyped(
        self,
        config: &StaticConfig,
    ) -> publish_subscribe::PublishSubscribeBuilder<'n, P, [crate::Opaque], crate::Opaque> {
        self.publish_subscribe::<[crate::Opaque]>()
            .payload_type_detail(config.payload.clone())
            .user_header::<crate::Opaque>()
            .user_header_type_detail(config.user_header.clone())
    }

    /// Request-response without the service's Rust types (see
    /// [`publish_subscribe_untyped`](Self::publish_subscribe_untyped)).
    /// `config.response` must be there (a request-response service's config).
    #[allow(clippy::type_complexity)]
    pub fn request_response_untyped(
        self,
        config: &StaticConfig,
    ) -> request_response::RequestResponseBuilder<'n, P, [crate::Opaque], [crate::Opaque], crate::Opaque, crate::Opaque>
    {
        let b = self
            .request_response::<[crate::Opaque], [crate::Opaque]>()
            .request_type_detail(config.payload.clone())
            .request_user_header::<crate::Opaque>()
            .request_user_header_type_detail(config.user_header.clone())
            .response_user_header::<crate::Opaque>();
        match &config.response {
            Some(r) => {
                b.response_type_detail(r.payload.clone()).response_user_header_type_detail(r.user_header.clone())
            }
            None => b,
        }
    }
}

/// Why a service could not be created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ServiceCreateError {
    /// A live service of that name and pattern exists.
    AlreadyExists,
    /// A QoS value is zero or above its limit (named by the field).
    InvalidQos(&'static str),
    /// More publishers or subscribers than this build supports
    /// ([`MAX_PUBLISHERS`](crate::config::MAX_PUBLISHERS),
    /// [`MAX_SUBSCRIBERS`](crate::config::MAX_SUBSCRIBERS)).
    ExceedsBuildLimit(&'static str),
    /// A type name is longer than [`MAX_TYPE_NAME_LEN`](crate::zero_copy::MAX_TYPE_NAME_LEN).
    TypeNameTooLong,
    /// The OS refused the segment: permissions.
    InsufficientPermissions,
    /// The OS refused the segment: memory, descriptors, arena space.
    InsufficientResources,
    /// Another shared-memory failure.
    Shm(ShmError),
}

/// What an open asked for against what the service was created with (in
/// each `DoesNotSupport…` variant of [`ServiceOpenError`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Capacity {
    /// The service's value.
    pub service: u32,
    /// The value this open asked for (larger).
    pub requested: u32,
}

/// Why a service could not be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ServiceOpenError {
    /// No service of that name and pattern exists.
    DoesNotExist,
    /// The payload (for request-response: request) type's name or variant
    /// (fixed-size or slice) differs.
    IncompatiblePayloadType,
    /// The payload type's size differs.
    IncompatiblePayloadSize,
    /// The payload type's alignment differs, or the service's payload
    /// alignment is below the one requested.
    IncompatiblePayloadAlignment,
    /// The user header type (name, size or alignment) differs.
    IncompatibleUserHeader,
    /// The safe-overflow setting (for request-response: for requests)
    /// differs from the one requested.
    IncompatibleOverflowBehavior,
    /// Request-response: the response type's name or variant differs.
    IncompatibleResponseType,
    /// Request-response: the response type's size differs.
    IncompatibleResponseSize,
    /// Request-response: the response type's alignment differs, or the
    /// service's response alignment is below the one requested.
    IncompatibleResponseAlignment,
    /// Request-response: the response user header type differs.
    IncompatibleResponseUserHeader,
    /// Request-response: safe overflow for responses differs.
    IncompatibleOverflowBehaviorForResponses,
    /// Request-response: the fire-and-forget setting differs.
    IncompatibleFireAndForgetBehavior,
    /// Request-response: fewer client slots than requested.
    DoesNotSupportRequestedAmountOfClients(Capacity),
    /// Request-response: fewer server slots than requested.
    DoesNotSupportRequestedAmountOfServers(Capacity),
    /// Request-response: fewer active requests per client than requested.
    DoesNotSupportRequestedAmountOfActiveRequestsPerClient(Capacity),
    /// Request-response: fewer request loans per client than requested.
    DoesNotSupportRequestedAmountOfClientRequestLoans(Capacity),
    /// Request-response: smaller response buffers than requested.
    DoesNotSupportRequestedResponseBufferSize(Capacity),
    /// Request-response: fewer borrowed responses per pending response than requested.
    DoesNotSupportRequestedAmountOfBorrowedResponsesPerPendingResponse(Capacity),
    /// Request-response: the response slice ceiling is below the one requested.
    DoesNotSupportRequestedMaxResponseSliceLen(Capacity),
    /// The service has fewer publisher slots than requested.
    DoesNotSupportRequestedAmountOfPublishers(Capacity),
    /// The service has fewer subscriber slots than requested.
    DoesNotSupportRequestedAmountOfSubscribers(Capacity),
    /// The service admits fewer nodes than requested.
    DoesNotSupportRequestedAmountOfNodes(Capacity),
    /// The service keeps less history than requested.
    DoesNotSupportRequestedMinHistorySize(Capacity),
    /// The service's subscriber buffers are smaller than requested.
    DoesNotSupportRequestedMinBufferSize(Capacity),
    /// The service lets subscribers borrow fewer samples than requested.
    DoesNotSupportRequestedMinSubscriberBorrowedSamples(Capacity),
    /// The service's slice ceiling (`max_slice_len`) is below the one requested.
    DoesNotSupportRequestedMaxSliceLen(Capacity),
    /// Every node slot of the service is taken.
    ExceedsMaxNumberOfNodes,
    /// The service has more publisher or subscriber slots, or longer type
    /// or service names, than this build can hold (`ICEFLOE_MAX_PUBLISHERS`,
    /// `ICEFLOE_MAX_SUBSCRIBERS`, `ICEFLOE_MAX_TYPE_NAME_LEN`,
    /// `ICEFLOE_MAX_SERVICE_NAME_LEN`): a peer built with larger limits made it.
    ExceedsBuildLimit,
    /// The service's last user is removing it; retry.
    IsMarkedForDestruction,
    /// The service's creator has not finished within the creation timeout.
    HangsInCreation,
    /// The segment was made by another layout version of icefloe.
    VersionMismatch,
    /// The segment's contents make no sense.
    ServiceInCorruptedState,
    /// Another service's name hashes to the same segment name.
    HashCollision,
    /// The OS refused access.
    InsufficientPermissions,
    /// Another shared-memory failure.
    Shm(ShmError),
    /// Events: the service has fewer notifier slots than requested.
    DoesNotSupportRequestedAmountOfNotifiers(Capacity),
    /// Events: the service has fewer listener slots than requested.
    DoesNotSupportRequestedAmountOfListeners(Capacity),
    /// Events: the service's `event_id_max_value` is below the one requested.
    DoesNotSupportRequestedMaxEventId(Capacity),
    /// Events: the requested `notifier_created_event` differs.
    IncompatibleNotifierCreatedEvent,
    /// Events: the requested `notifier_dropped_event` differs.
    IncompatibleNotifierDroppedEvent,
    /// Events: the requested `notifier_dead_event` differs.
    IncompatibleNotifierDeadEvent,
    /// Events: the requested deadline differs.
    IncompatibleDeadline,
}

/// Why `open_or_create` failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ServiceOpenOrCreateError {
    /// Opening failed.
    Open(ServiceOpenError),
    /// Creating failed.
    Create(ServiceCreateError),
    /// The service kept appearing and disappearing while we tried.
    SystemInFlux,
}

impl fmt::Display for ServiceCreateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AlreadyExists => f.write_str(
                "a live service of that name and pattern already exists: open it (open or open_or_create) instead",
            ),
            Self::InvalidQos(field) => write!(f, "the QoS setting {field} is zero or above its limit"),
            Self::ExceedsBuildLimit(field) => write!(
                f,
                "{field} exceeds what this build holds (ICEFLOE_MAX_PUBLISHERS / ICEFLOE_MAX_SUBSCRIBERS at build \
                 time): ask for less, or rebuild with a larger limit"
            ),
            Self::TypeNameTooLong => f.write_str(
                "a payload or user-header type name is longer than this build holds (ICEFLOE_MAX_TYPE_NAME_LEN): \
                 rename the type with #[icefloe(type_name = ...)] or rebuild with a larger limit",
            ),
            Self::InsufficientPermissions => {
                f.write_str("the OS refused to create the service's shared memory: insufficient permissions")
            }
            Self::InsufficientResources => f.write_str(
                "the OS refused to create the service's shared memory: out of memory, descriptors or arena space \
                 (check the size of /dev/shm, or the arena)",
            ),
            Self::Shm(e) => write!(f, "the service's shared memory could not be created: {e}"),
        }
    }
}

impl ServiceOpenError {
    /// For the `DoesNotSupport…` variants: the QoS setting that fell short
    /// and by how much.
    pub fn capacity(&self) -> Option<(&'static str, Capacity)> {
        let (field, c) = match self {
            Self::DoesNotSupportRequestedAmountOfClients(c) => ("max_clients", c),
            Self::DoesNotSupportRequestedAmountOfServers(c) => ("max_servers", c),
            Self::DoesNotSupportRequestedAmountOfActiveRequestsPerClient(c) => ("max_active_requests_per_client", c),
            Self::DoesNotSupportRequestedAmountOfClientRequestLoans(c) => ("max_loaned_requests", c),
            Self::DoesNotSupportRequestedResponseBufferSize(c) => ("max_response_buffer_size", c),
            Self::DoesNotSupportRequestedAmountOfBorrowedResponsesPerPendingResponse(c) => {
                ("max_borrowed_responses_per_pending_response", c)
            }
            Self::DoesNotSupportRequestedMaxResponseSliceLen(c) => ("response_max_slice_len", c),
            Self::DoesNotSupportRequestedAmountOfPublishers(c) => ("max_publishers", c),
            Self::DoesNotSupportRequestedAmountOfSubscribers(c) => ("max_subscribers", c),
            Self::DoesNotSupportRequestedAmountOfNodes(c) => ("max_nodes", c),
            Self::DoesNotSupportRequestedMinHistorySize(c) => ("history_size", c),
            Self::DoesNotSupportRequestedMinBufferSize(c) => ("subscriber_max_buffer_size", c),
            Self::DoesNotSupportRequestedMinSubscriberBorrowedSamples(c) => ("subscriber_max_borrowed_samples", c),
            Self::DoesNotSupportRequestedMaxSliceLen(c) => ("max_slice_len", c),
            Self::DoesNotSupportRequestedAmountOfNotifiers(c) => ("max_notifiers", c),
            Self::DoesNotSupportRequestedAmountOfListeners(c) => ("max_listeners", c),
            Self::DoesNotSupportRequestedMaxEventId(c) => ("event_id_max_value", c),
            _ => return None,
        };
        Some((field, *c))
    }
}

impl fmt::Display for ServiceOpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some((field, c)) = self.capacity() {
            return write!(
                f,
                "the service was created with {field} {}; this open asks for {}: ask for at most {}, or recreate \
                 the service",
                c.service, c.requested, c.service
            );
        }
        let text = match self {
            Self::DoesNotExist => "no service of that name and pattern exists: create it (create or open_or_create)",
            Self::IncompatiblePayloadType => {
                "the service carries another payload type (name, or fixed-size versus slice) than this open asks for"
            }
            Self::IncompatiblePayloadSize => "the service's payload type has another size than this open's",
            Self::IncompatiblePayloadAlignment => {
                "the service's payload type has another alignment, or a smaller payload_alignment, than this open asks"
            }
            Self::IncompatibleUserHeader => "the service carries another user-header type than this open asks for",
            Self::IncompatibleOverflowBehavior => {
                "the service was created with another enable_safe_overflow (for requests) than this open asks for"
            }
            Self::IncompatibleResponseType => "the service carries another response type than this open asks for",
            Self::IncompatibleResponseSize => "the service's response type has another size than this open's",
            Self::IncompatibleResponseAlignment => {
                "the service's response type has another alignment, or a smaller response alignment, than asked"
            }
            Self::IncompatibleResponseUserHeader => {
                "the service carries another response user-header type than this open asks for"
            }
            Self::IncompatibleOverflowBehaviorForResponses => {
                "the service was created with another enable_safe_overflow_for_responses than this open asks for"
            }
            Self::IncompatibleFireAndForgetBehavior => {
                "the service was created with another enable_fire_and_forget than this open asks for"
            }
            Self::ExceedsMaxNumberOfNodes => {
                "every node slot of the service is taken (its max_nodes): close the service in another node, or \
                 recreate it with a larger max_nodes"
            }
            Self::ExceedsBuildLimit => {
                "the service needs more ports or longer names than this build holds (ICEFLOE_MAX_PUBLISHERS, \
                 ICEFLOE_MAX_SUBSCRIBERS, ICEFLOE_MAX_TYPE_NAME_LEN, ICEFLOE_MAX_SERVICE_NAME_LEN): a peer built with \
                 larger limits made it; rebuild with limits at least as large"
            }
            Self::IsMarkedForDestruction => "the service's last user is removing it: retry, or create it anew",
            Self::HangsInCreation => "the service's creator has not finished creating it within the timeout",
            Self::VersionMismatch => {
                "the service was made by another layout version of icefloe: use the same icefloe version on both sides"
            }
            Self::ServiceInCorruptedState => "the service's shared memory makes no sense (corrupt, or not icefloe's)",
            Self::HashCollision => "another service's name maps to the same shared-memory segment: rename one of them",
            Self::InsufficientPermissions => {
                "the OS refused access to the service's shared memory: it was created by another user (see \
                 NodeBuilder::permissions)"
            }
            Self::Shm(e) => return write!(f, "the service's shared memory could not be opened: {e}"),
            Self::IncompatibleNotifierCreatedEvent => {
                "the service was created with another notifier_created_event than this open asks for"
            }
            Self::IncompatibleNotifierDroppedEvent => {
                "the service was created with another notifier_dropped_event than this open asks for"
            }
            Self::IncompatibleNotifierDeadEvent => {
                "the service was created with another notifier_dead_event than this open asks for"
            }
            Self::IncompatibleDeadline => "the service was created with another deadline than this open asks for",
            _ => "the service does not support what this open asks for",
        };
        f.write_str(text)
    }
}

impl fmt::Display for ServiceOpenOrCreateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Open(e) => write!(f, "the existing service could not be opened: {e}"),
            Self::Create(e) => write!(f, "the service could not be created: {e}"),
            Self::SystemInFlux => f.write_str(
                "the service kept appearing and disappearing while being opened or created (other processes are \
                 creating and removing it): retry",
            ),
        }
    }
}

impl core::error::Error for ServiceCreateError {}
impl core::error::Error for ServiceOpenError {}
impl core::error::Error for ServiceOpenOrCreateError {}

fn create_error(e: ShmError) -> ServiceCreateError {
    match e {
        ShmError::AlreadyExists => ServiceCreateError::AlreadyExists,
        ShmError::PermissionDenied => ServiceCreateError::InsufficientPermissions,
        ShmError::InsufficientResources => ServiceCreateError::InsufficientResources,
        other => ServiceCreateError::Shm(other),
    }
}

fn open_error(e: ShmError) -> ServiceOpenError {
    match e {
        ShmError::DoesNotExist => ServiceOpenError::DoesNotExist,
        ShmError::PermissionDenied => ServiceOpenError::InsufficientPermissions,
        other => ServiceOpenError::Shm(other),
    }
}

/// Which part of a payload type differs from the one requested.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TypeMismatch {
    /// Name or variant (fixed-size or slice).
    Type,
    /// Size.
    Size,
    /// Alignment, or the service's payload alignment is below the one requested.
    Alignment,
}

/// Checks a stored payload type (and the service's alignment for it)
/// against the type a builder was made for and the alignment it asks for.
pub(crate) fn check_payload(
    want: &crate::zero_copy::TypeDetail,
    stored: &crate::zero_copy::TypeDetail,
    stored_alignment: u32,
    requested_alignment: Option<u32>,
) -> Result<(), TypeMismatch> {
    if stored.name != want.name || stored.variant != want.variant {
        return Err(TypeMismatch::Type);
    }
    if stored.size != want.size {
        return Err(TypeMismatch::Size);
    }
    if stored.align != want.align || stored_alignment < requested_alignment.unwrap_or(0) {
        return Err(TypeMismatch::Alignment);
    }
    Ok(())
}

/// On open, a size set explicitly is a minimum the service must meet.
pub(crate) fn at_least(
    requested: Option<u32>,
    have: u32,
    e: fn(Capacity) -> ServiceOpenError,
) -> Result<(), ServiceOpenError> {
    match requested {
        Some(w) if w > have => Err(e(Capacity { service: have, requested: w })),
        _ => Ok(()),
    }
}

/// Unlinks every data segment a (dead) port may still have: ids from its
/// oldest live one up to its next one, as recorded in its slot.
fn unlink_port_segments<P: Platform>(prefix: &Prefix, hash: u64, port_id: u64, oldest: u32, next: u32) {
    // Bounded, so that a garbage range cannot stall the cleaner. A range
    // wider than that (an old segment kept alive by a held chunk while the
    // port grew thousands of times) is swept instead: every data segment
    // whose creator is dead goes, wherever its id lies.
    let span = next.wrapping_sub(oldest);
    for k in 0..span.min(MAX_UNLINK_SPAN) {
        // Newest first: those are the ones most likely to exist.
        let id = next.wrapping_sub(1).wrapping_sub(k);
        let _ = P::shm_unlink(&data_segment_name(prefix, hash, port_id, id));
    }
    if span > MAX_UNLINK_SPAN {
        sweep_orphaned_data::<P>(prefix);
    }
}

/// The widest id range a cleaner unlinks name by name.
const MAX_UNLINK_SPAN: u32 = 1 << 12;

/// Unlinks every data segment under `prefix` whose creator is dead (a
/// sending port's segments live no longer than its process; receivers keep
/// their mappings). Segments too short to hold a header are left to the
/// cleanup of their port's recorded range. Returns how many went.
pub(crate) fn sweep_orphaned_data<P: Platform>(prefix: &Prefix) -> u32 {
    let mut removed = 0;
    let _ = P::shm_list(prefix.as_str(), &mut |name| {
        removed += u32::from(remove_if_orphaned::<P>(prefix, name));
        true
    });
    removed
}

/// Unlinks segment `name` if it is a data segment whose creator is dead.
fn remove_if_orphaned<P: Platform>(prefix: &Prefix, name: &str) -> bool {
    if !crate::name::is_segment_name(prefix, name, SegmentKind::Data) {
        return false;
    }
    let Ok(shm) = P::shm_open(name, Access::ReadOnly) else { return false };
    let region = Region::of(&shm);
    let creator = region.try_words(0, crate::shm::header::HEADER_WORDS).and_then(Header::new).map(|h| h.creator());
    creator.is_some_and(|c| c.0 != [0; 3] && P::liveness_check(c) == Liveness::Dead && P::shm_unlink(name).is_ok())
}

/// Claims a free node slot among the first `max` for `node`: claim (CAS),
/// write the node's identity, activate. A process killed between the claim
/// and the write (a few stores, no system call) leaves the slot naming the
/// slot's previous occupant (every slot names the service's creator from
/// the start), and the slot is freed once that process is gone.
/// (Writing the identity before the claim would close that window but open
/// a worse one: a claimant that loses the race could overwrite the
/// winner's identity, and the winner would then never free its slot.)
fn claim_node_slot<P: Platform>(view: &ServiceView, max: u32, node: &Node<P>) -> Option<u32> {
    (0..max).find_map(|i| {
        let slot = view.node(i)?;
        let g = slot.try_claim()?;
        crate::crash::crash_point!("node.claimed");
        slot.set_node(node.liveness(), node.id());
        slot.activate(g);
        Some(i)
    })
}

/// What a service handle holds, whatever its pattern: the mapping, the
/// validated view, the config, and this handle's node slot.
pub(crate) struct ServiceCore<P: Platform> {
    _shm: P::Shm,
    pub(crate) view: ServiceView,
    pub(crate) config: StaticConfig,
    pub(crate) hash: u64,
    pub(crate) prefix: Prefix,
    pub(crate) node_slot: u32,
    pub(crate) shm_name: ShmName,
    pub(crate) permissions: crate::platform::Permissions,
    pub(crate) liveness: crate::platform::LivenessId,
    pub(crate) node_id: u64,
}

/// How an existing segment was found when trying to open it.
#[allow(clippy::large_enum_variant)] // no heap to box into; lives briefly on the stack
pub(crate) enum Existing<P: Platform> {
    Ready(P::Shm, StaticConfig),
    /// Being created by a live creator for longer than the timeout.
    Hanging,
    /// Being created by a dead creator: may be removed.
    Stale,
}

pub(crate) fn open_existing<P: Platform>(name: &ShmName, access: Access) -> Result<Existing<P>, ServiceOpenError> {
    let start = P::now();
    let timeout = Duration::from_millis(crate::config::CREATION_TIMEOUT_MS);
    // A segment of size zero or smaller than a header: its creator has not
    // sized it yet (or died before it could).
    let shm = loop {
        match P::shm_open(name, access) {
            Ok(shm) if shm.len() >= crate::shm::header::HEADER_WORDS * 4 => break shm,
            Ok(_) | Err(ShmError::InvalidSize) => {
                if P::now().saturating_sub(start) > timeout {
                    return Ok(Existing::Stale);
                }
                let _ = P::sleep(Duration::from_millis(1));
            }
            Err(e) => return Err(open_error(e)),
        }
    };
    let region = Region::of(&shm);
    let header = Header::new(
        region.try_words(0, crate::shm::header::HEADER_WORDS).ok_or(ServiceOpenError::ServiceInCorruptedState)?,
    )
    .ok_or(ServiceOpenError::ServiceInCorruptedState)?;
    loop {
        match header.check(KIND_SERVICE, region.len()).0 {
            HeaderCheck::Ready => break,
            HeaderCheck::InCreation { creator } => {
                if creator.0 != [0; 3] && P::liveness_check(creator) == Liveness::Dead {
                    return Ok(Existing::Stale);
                }
                if P::now().saturating_sub(start) > timeout {
                    return Ok(if creator.0 == [0; 3] { Existing::Stale } else { Existing::Hanging });
                }
                let _ = P::sleep(Duration::from_millis(1));
            }
            HeaderCheck::VersionMismatch { .. } => return Err(ServiceOpenError::VersionMismatch),
            HeaderCheck::BadMagicOrKind | HeaderCheck::SizeMismatch => {
                return Err(ServiceOpenError::ServiceInCorruptedState)
            }
        }
    }
    let words = region
        .try_words(ServiceLayout::static_offset(), region.len().saturating_sub(ServiceLayout::static_offset()) / 4)
        .ok_or(ServiceOpenError::ServiceInCorruptedState)?;
    let config = StaticConfig::read(words).map_err(|e| match e {
        crate::shm::service::ConfigError::ExceedsBuildLimit => ServiceOpenError::ExceedsBuildLimit,
        crate::shm::service::ConfigError::Corrupt => ServiceOpenError::ServiceInCorruptedState,
    })?;
    if ServiceLayout::of(&config).size > region.len() {
        return Err(ServiceOpenError::ServiceInCorruptedState);
    }
    Ok(Existing::Ready(shm, config))
}

impl<P: Platform> ServiceCore<P> {
    /// Sending ports in use now (publishers, clients, notifiers).
    pub(crate) fn live_senders(&self) -> u32 {
        live(self.view.sender_count(), |i| self.view.sender(i))
    }

    /// Receiving ports in use now (subscribers, servers, listeners).
    pub(crate) fn live_receivers(&self) -> u32 {
        live(self.view.receiver_count(), |i| self.view.receiver(i))
    }

    /// Creates the segment for `config` (exclusively), retrying once over a
    /// stale leftover of a dead creator or of dead nodes.
    pub(crate) fn create(node: &Node<P>, config: StaticConfig) -> Result<Self, ServiceCreateError> {
        let hash = service_hash(config.pattern, &config.name);
        let name = segment_name(node.prefix(), hash, SegmentKind::Service);
        let layout = ServiceLayout::of(&config);
        for _ in 0..3 {
            match P::shm_create(&name, layout.size, node.permissions()) {
                Ok(shm) => {
                    let region = Region::of(&shm);
                    let view =
                        ServiceView::new(region, &config).ok_or(ServiceCreateError::Shm(ShmError::InvalidSize))?;
                    let header = Header::new(region.words(0, crate::shm::header::HEADER_WORDS))
                        .ok_or(ServiceCreateError::Shm(ShmError::InvalidSize))?;
                    header.begin(node.liveness());
                    config.write(region.words(layout.static_off, (layout.state_off - layout.static_off) / 4));
                    // Every node slot starts out naming the creator (see
                    // `claim_node_slot`).
                    for n in (0..config.max_nodes).filter_map(|i| view.node(i)) {
                        n.set_node(node.liveness(), node.id());
                    }
                    claim_node_slot(&view, 1, node).ok_or(ServiceCreateError::Shm(ShmError::InvalidSize))?;
                    header.publish(KIND_SERVICE, layout.size as u64);
                    return Ok(Self::assemble(node, shm, view, config, hash, 0, name));
                }
                Err(ShmError::AlreadyExists) => {
                    // Someone's there: live, or a leftover? Clean what is dead.
                    match open_existing::<P>(&name, Access::ReadWrite) {
                        Ok(Existing::Stale) => {
                            let _ = P::shm_unlink(&name);
                        }
                        Ok(Existing::Ready(shm, existing)) => {
                            let region = Region::of(&shm);
                            match ServiceView::new(region, &existing) {
                                Some(view) if existing.name == config.name => {
                                    if !cleanup_view::<P>(&view, node.prefix(), &name, hash, node.liveness()).1 {
                                        return Err(ServiceCreateError::AlreadyExists);
                                    }
                                }
                                _ => return Err(ServiceCreateError::AlreadyExists),
                            }
                        }
                        Ok(Existing::Hanging) => return Err(ServiceCreateError::AlreadyExists),
                        Err(ServiceOpenError::DoesNotExist) => {}
                        Err(_) => return Err(ServiceCreateError::AlreadyExists),
                    }
                }
                Err(e) => return Err(create_error(e)),
            }
        }
        Err(ServiceCreateError::AlreadyExists)
    }

    /// Opens the segment, cleans up dead nodes, takes a node slot, and
    /// hands the stored config to `verify`.
    pub(crate) fn open(
        node: &Node<P>,
        pattern: u32,
        name: &ServiceName,
        verify: impl FnOnce(&StaticConfig) -> Result<(), ServiceOpenError>,
    ) -> Result<Self, ServiceOpenError> {
        let hash = service_hash(pattern, name);
        let shm_name = segment_name(node.prefix(), hash, SegmentKind::Service);
        let (shm, config) = match open_existing::<P>(&shm_name, Access::ReadWrite)? {
            Existing::Ready(shm, config) => (shm, config),
            Existing::Hanging => return Err(ServiceOpenError::HangsInCreation),
            Existing::Stale => return Err(ServiceOpenError::DoesNotExist),
        };
        if config.name != *name || config.pattern != pattern {
            return Err(ServiceOpenError::HashCollision);
        }
        verify(&config)?;
        let view = ServiceView::new(Region::of(&shm), &config).ok_or(ServiceOpenError::ServiceInCorruptedState)?;
        let (_, destroyed) = cleanup_view::<P>(&view, node.prefix(), &shm_name, hash, node.liveness());
        if destroyed {
            return Err(ServiceOpenError::DoesNotExist);
        }
        let slot_index =
            claim_node_slot(&view, config.max_nodes, node).ok_or(ServiceOpenError::ExceedsMaxNumberOfNodes)?;
        if layout::is_destroying(view.state().load(Ordering::SeqCst)) {
            if let Some(slot) = view.node(slot_index) {
                slot.release(slot.state());
            }
            return Err(ServiceOpenError::IsMarkedForDestruction);
        }
        Ok(Self::assemble(node, shm, view, config, hash, slot_index, shm_name))
    }

    fn assemble(
        node: &Node<P>,
        shm: P::Shm,
        view: ServiceView,
        config: StaticConfig,
        hash: u64,
        node_slot: u32,
        shm_name: ShmName,
    ) -> Self {
        Self {
            _shm: shm,
            view,
            config,
            hash,
            prefix: node.prefix().clone(),
            node_slot,
            shm_name,
            permissions: node.permissions(),
            liveness: node.liveness(),
            node_id: node.id(),
        }
    }

    /// Opens the service, or creates it from `config` if it does not exist,
    /// retrying while it appears and disappears under us.
    pub(crate) fn open_or_create(
        node: &Node<P>,
        pattern: u32,
        name: &ServiceName,
        config: impl Fn() -> Result<StaticConfig, ServiceCreateError>,
        verify: impl Fn(&StaticConfig) -> Result<(), ServiceOpenError>,
    ) -> Result<Self, ServiceOpenOrCreateError> {
        config().map_err(ServiceOpenOrCreateError::Create)?;
        for _ in 0..20 {
            match Self::open(node, pattern, name, &verify) {
                Ok(core) => return Ok(core),
                Err(ServiceOpenError::DoesNotExist) => {}
                Err(ServiceOpenError::IsMarkedForDestruction) => {
                    let _ = P::sleep(Duration::from_millis(1));
                    continue;
                }
                Err(e) => return Err(ServiceOpenOrCreateError::Open(e)),
            }
            match Self::create(node, config().map_err(ServiceOpenOrCreateError::Create)?) {
                Ok(core) => return Ok(core),
                Err(ServiceCreateError::AlreadyExists) => {}
                Err(e) => return Err(ServiceOpenOrCreateError::Create(e)),
            }
        }
        Err(ServiceOpenOrCreateError::SystemInFlux)
    }

    /// Reclaims what dead nodes left in this service; returns how many.
    pub(crate) fn cleanup_dead_nodes(&self) -> u32 {
        cleanup_view::<P>(&self.view, &self.prefix, &self.shm_name, self.hash, self.liveness).0
    }
}

impl<P: Platform> Drop for ServiceCore<P> {
    fn drop(&mut self) {
        if let Some(slot) = self.view.node(self.node_slot) {
            let st = slot.state();
            if slot.node_id() == self.node_id && split_state(st).1 == status::ACTIVE {
                slot.release(st);
            }
        }
        try_destroy::<P>(&self.view, &self.prefix, &self.shm_name, self.hash, self.liveness);
    }
}

/// How many of `count` port slots are active.
fn live<'v>(count: u32, slot: impl Fn(u32) -> Option<crate::shm::service::Slot<'v>>) -> u32 {
    let active = |s: crate::shm::service::Slot<'_>| split_state(s.state()).1 == status::ACTIVE;
    (0..count).filter(|&i| slot(i).is_some_and(active)).count() as u32
}

/// Frees a port slot owned by `owner` (a dead node's slot index), after
/// unlinking every data segment its port may have; true if this call freed
/// it. Unlinking comes first, so that a cleaner killed half-way leaves the
/// slot taken and the next cleaner does it all again (unlinking twice is
/// harmless; several cleaners at once: each unlinks, one frees).
///
/// `owner` is the dead node's slot, `owner_state` the state word it was
/// found dead in. A port slot is that node's only while the node slot still
/// holds that state: once another cleaner has freed it, a new node may sit
/// in the same slot and claim port slots naming the same index (checked
/// after the port slot is read, so that a port slot claimed since is never
/// taken for the dead node's).
fn reclaim_port<P: Platform>(
    slot: crate::shm::service::Slot<'_>,
    (owner, owner_slot, owner_state): (u32, crate::shm::service::Slot<'_>, u32),
    prefix: &Prefix,
    hash: u64,
) -> bool {
    let st = slot.state();
    if split_state(st).1 == status::FREE {
        return false;
    }
    // The owner the claim recorded in the state word (every port claims
    // so), else the owner field of a slot claimed without it.
    let mine = match crate::shm::service::state_owner(st) {
        Some(o) => o == owner,
        None => slot.owner() == owner,
    };
    if !mine {
        return false;
    }
    let (port_id, oldest, next) = (slot.port_id(), slot.field(FIELD_OLDEST_SEGMENT), slot.field(FIELD_NEXT_SEGMENT));
    // The fields are the dead port's only if the slot did not change while
    // they were read (a new claim changes the generation), and the slot is
    // the dead node's only if that node is still where it was found.
    crate::crash::crash_point!("cleanup.port.read");
    if slot.state() != st || owner_slot.state() != owner_state {
        return false;
    }
    unlink_port_segments::<P>(prefix, hash, port_id, oldest, next);
    crate::crash::crash_point!("cleanup.port.unlinked");
    slot.release(st)
}

/// Reclaims dead nodes of one service. Returns (nodes reclaimed, whether
/// the service was destroyed because nobody was left).
fn cleanup_view<P: Platform>(
    view: &ServiceView,
    prefix: &Prefix,
    shm_name: &ShmName,
    hash: u64,
    me: crate::platform::LivenessId,
) -> (u32, bool) {
    let mut cleaned = 0;
    for n in 0..view.node_count() {
        let Some(slot) = view.node(n) else { continue };
        let st = slot.state();
        if split_state(st).1 == status::FREE {
            continue;
        }
        let id = slot.liveness();
        if id.0 == [0; 3] || P::liveness_check(id) != Liveness::Dead {
            continue;
        }
        crate::crash::crash_point!("cleanup.node.dead");
        let dead_node = slot.node_id();
        for p in (0..view.sender_count()).filter_map(|i| view.sender(i)) {
            // Events: a dead notifier's listeners hear of it.
            if reclaim_port::<P>(p, (n, slot, st), prefix, hash) {
                if let Some(dead) = view.dead_event() {
                    crate::signal::deliver::<P>(view, dead);
                }
            }
        }
        // Subscribers have no data segment (an empty range); servers do.
        for s in (0..view.receiver_count()).filter_map(|i| view.receiver(i)) {
            reclaim_port::<P>(s, (n, slot, st), prefix, hash);
        }
        view.bump_epoch();
        crate::crash::crash_point!("cleanup.node.ports_done");
        // Only once none of its ports is left: the node slot (killed before
        // this, the next cleaner finds the node and its ports again).
        if slot.release(st) {
            cleaned += 1;
            crate::discovery::remove_record_if_dead::<P>(prefix, dead_node);
            crate::logging::log_info!("icefloe: reclaimed dead node in slot {} of a service (pid {})", n, id.0[0]);
        }
        // Blocked receivers re-check: a dead server's streams have ended.
        for p in 0..view.sender_count() {
            crate::signal::wake::<P>(view.sender_waker(p));
        }
        for s in 0..view.receiver_count() {
            crate::signal::wake::<P>(view.receiver_waker(s));
        }
    }
    (cleaned, try_destroy::<P>(view, prefix, shm_name, hash, me))
}

/// If no node uses the service any more, removes it. Returns true if it was
/// removed by this call.
///
/// The destroyer marks the state (writing who it is before and after),
/// unlinks the data segments of any port slot still taken, then the service
/// segment. A destroyer killed after marking is found dead by the next
/// caller, which takes the mark over (a new value, so that exactly one of
/// several takes it) and finishes; a live one is left to finish.
fn try_destroy<P: Platform>(
    view: &ServiceView,
    prefix: &Prefix,
    shm_name: &ShmName,
    hash: u64,
    me: crate::platform::LivenessId,
) -> bool {
    let any_node =
        || (0..view.node_count()).filter_map(|i| view.node(i)).any(|n| split_state(n.state()).1 != status::FREE);
    let state = view.state();
    // A few passes: one that unmarks (someone was still there) looks
    // again, because a last user who left meanwhile saw the mark and left
    // the removal to us.
    for _ in 0..8 {
        let cur = state.load(Ordering::SeqCst);
        let marked = if layout::is_destroying(cur) {
            let destroyer = view.destroyer();
            if destroyer.0 != [0; 3] && P::liveness_check(destroyer) != Liveness::Dead {
                return false;
            }
            let next = cur.wrapping_add(2) | layout::DESTROYING;
            if state.compare_exchange(cur, next, Ordering::SeqCst, Ordering::SeqCst).is_err() {
                return false;
            }
            view.set_destroyer(me);
            next
        } else {
            if cur != 0 || any_node() {
                return false;
            }
            view.set_destroyer(me);
            if state.compare_exchange(0, layout::DESTROYING, Ordering::SeqCst, Ordering::SeqCst).is_err() {
                return false;
            }
            view.set_destroyer(me);
            layout::DESTROYING
        };
        crate::crash::crash_point!("destroy.marked");
        if any_node() {
            // Someone is opening it: it lives on, unless that one leaves.
            let _ = state.compare_exchange(marked, 0, Ordering::SeqCst, Ordering::SeqCst);
            continue;
        }
        remove_service::<P>(view, prefix, shm_name, hash);
        return true;
    }
    false
}

/// Unlinks what is left of a service marked for removal by this caller:
/// the data segments of port slots still taken, then the service segment.
fn remove_service<P: Platform>(view: &ServiceView, prefix: &Prefix, shm_name: &ShmName, hash: u64) {
    // Sending-port slots (publishers, clients, servers) left behind by a
    // crash during claiming.
    let senders = (0..view.sender_count()).filter_map(|i| view.sender(i));
    for p in senders.chain((0..view.receiver_count()).filter_map(|i| view.receiver(i))) {
        if split_state(p.state()).1 != status::FREE {
            let (oldest, next) = (p.field(FIELD_OLDEST_SEGMENT), p.field(FIELD_NEXT_SEGMENT));
            unlink_port_segments::<P>(prefix, hash, p.port_id(), oldest, next);
        }
    }
    crate::crash::crash_point!("destroy.data_unlinked");
    let _ = P::shm_unlink(shm_name);
}

/// Opens a service segment by name and cleans it (for
/// [`Node::cleanup_dead_nodes`]). Returns the number of nodes reclaimed.
pub(crate) fn cleanup_service_by_name<P: Platform>(
    prefix: &Prefix,
    name: &str,
    me: crate::platform::LivenessId,
) -> Result<u32, ()> {
    let mut shm_name = ShmName::new();
    shm_name.push_str(name).map_err(|_| ())?;
    match open_existing::<P>(&shm_name, Access::ReadWrite) {
        Ok(Existing::Ready(shm, config)) => {
            let view = ServiceView::new(Region::of(&shm), &config).ok_or(())?;
            let hash = service_hash(config.pattern, &config.name);
            Ok(cleanup_view::<P>(&view, prefix, &shm_name, hash, me).0)
        }
        Ok(Existing::Stale) => {
            let _ = P::shm_unlink(&shm_name);
            Ok(0)
        }
        Ok(Existing::Hanging) => Ok(0),
        Err(ServiceOpenError::DoesNotExist) => Ok(0),
        Err(_) => Err(()),
    }
}

/// Cleans every service under `prefix` (see [`Node::cleanup_dead_nodes`]),
/// removes the data segments of dead senders no service records any more,
/// the records of dead nodes, and the liveness records of dead processes.
pub(crate) fn cleanup_prefix<P: Platform>(
    prefix: &Prefix,
    me: crate::platform::LivenessId,
) -> Result<crate::node::CleanupState, ShmError> {
    let mut state = crate::node::CleanupState::default();
    // One pass: each service cleaned, each dead sender's leftover data
    // segment and each dead node's record removed.
    P::shm_list(prefix.as_str(), &mut |name| {
        if crate::name::is_segment_name(prefix, name, SegmentKind::Service) {
            match cleanup_service_by_name::<P>(prefix, name, me) {
                Ok(n) => state.cleanups += n,
                Err(()) => state.failed_cleanups += 1,
            }
        } else if crate::name::is_segment_name(prefix, name, SegmentKind::Node) {
            crate::discovery::remove_record_named_if_dead::<P>(name);
        } else {
            remove_if_orphaned::<P>(prefix, name);
        }
        true
    })?;
    // The liveness records of dead processes no service named.
    P::liveness_sweep();
    Ok(state)
}

/// What a node does with services: build them, and clean up after dead
/// peers in all of them (here, beside the services they work on, so that
/// the node module needs nothing of this one).
impl<P: Platform> Node<P> {
    /// Starts building a service.
    pub fn service_builder(&self, name: &ServiceName) -> ServiceBuilder<'_, P> {
        ServiceBuilder::new(self, name.clone())
    }

    /// Finds every service under this node's prefix, and in each reclaims
    /// what dead nodes left: their node slots, their ports, the chunks their
    /// subscribers held (taken back by the publishers on their next
    /// operation) and their data segments. A service whose last node was
    /// dead is removed. Also runs whenever a service is opened.
    pub fn cleanup_dead_nodes(&self) -> crate::node::CleanupState {
        // Listing fails only where the platform cannot list: nothing found.
        cleanup_prefix::<P>(self.prefix(), self.liveness()).unwrap_or_default()
    }
}

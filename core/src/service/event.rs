//! The event pattern: notifiers wake listeners with event ids, no payload.
//!
//! Each listener owns, in the service segment, a wake word and one counter
//! per event id (see [`crate::shm::event`]). A notification adds one to the
//! id's counter of every listener and wakes those that sleep; a listener
//! collects every pending `(id, count)`: notifications of one id are
//! coalesced into a count, none is lost, and a notification nobody waits for
//! makes no system call.
//!
//! ```
//! # fn clock() -> core::time::Duration { core::time::Duration::ZERO }
//! # icefloe_core::bare_metal_platform!(Board, arena = 64 * 1024, segments = 8, clock = clock);
//! use icefloe_core::{EventId, NodeBuilder, ServiceName};
//! let node = NodeBuilder::<Board>::new().create().unwrap();
//! let event = node.service_builder(&ServiceName::new("door/bell").unwrap()).event().open_or_create().unwrap();
//! let listener = event.listener_builder().create().unwrap();
//! let notifier = event.notifier_builder().default_event_id(EventId::new(7)).create().unwrap();
//! assert_eq!(notifier.notify().unwrap(), 1);
//! notifier.notify().unwrap();
//! let mut seen = Vec::new();
//! listener.try_wait(|e| seen.push((e.id.as_value(), e.count))).unwrap();
//! assert_eq!(seen, [(7, 2)]);
//! ```

use super::{at_least, ServiceCore, ServiceCreateError, ServiceOpenError, ServiceOpenOrCreateError};
use crate::node::Node;
use crate::platform::Platform;
use crate::shm::service::{EventConfig, ServiceLayout, StaticConfig, MAX_NODES_LIMIT, PATTERN_EVENT};
use crate::zero_copy::TypeDetail;
use core::time::Duration;

/// Default notifier slots (as iceoryx2): 16.
pub const DEFAULT_MAX_NOTIFIERS: u32 = 16;
/// Default listener slots: 16.
pub const DEFAULT_MAX_LISTENERS: u32 = 16;
/// Default node slots: 36.
pub const DEFAULT_MAX_NODES: u32 = 36;
/// Default highest event id: 255.
pub const DEFAULT_EVENT_ID_MAX_VALUE: u32 = 255;

/// An event id: `0..=event_id_max_value` of the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct EventId(u32);

impl EventId {
    /// The id with value `v`.
    pub const fn new(v: u32) -> Self {
        Self(v)
    }
    /// Its value.
    pub const fn as_value(self) -> u32 {
        self.0
    }
}

/// Configures an event service. Every knob has iceoryx2's meaning and
/// default; on `open`, only the knobs set explicitly are checked.
pub struct EventBuilder<'n, P: Platform> {
    node: &'n Node<P>,
    name: crate::name::ServiceName,
    max_notifiers: Option<u32>,
    max_listeners: Option<u32>,
    max_nodes: Option<u32>,
    event_id_max_value: Option<u32>,
    created: Option<Option<u32>>,
    dropped: Option<Option<u32>>,
    dead: Option<Option<u32>>,
    deadline: Option<Option<Duration>>,
}

impl<'n, P: Platform> EventBuilder<'n, P> {
    pub(crate) fn new(node: &'n Node<P>, name: crate::name::ServiceName) -> Self {
        Self {
            node,
            name,
            max_notifiers: None,
            max_listeners: None,
            max_nodes: None,
            event_id_max_value: None,
            created: None,
            dropped: None,
            dead: None,
            deadline: None,
        }
    }

    /// Notifier slots (default [`DEFAULT_MAX_NOTIFIERS`]).
    pub fn max_notifiers(mut self, n: u32) -> Self {
        self.max_notifiers = Some(n);
        self
    }
    /// Listener slots (default [`DEFAULT_MAX_LISTENERS`]).
    pub fn max_listeners(mut self, n: u32) -> Self {
        self.max_listeners = Some(n);
        self
    }
    /// Nodes that may have the service open at once (default [`DEFAULT_MAX_NODES`]).
    pub fn max_nodes(mut self, n: u32) -> Self {
        self.max_nodes = Some(n);
        self
    }
    /// The highest event id (default [`DEFAULT_EVENT_ID_MAX_VALUE`]); a
    /// listener keeps a counter per id. On open, the service's must be at
    /// least this.
    pub fn event_id_max_value(mut self, n: u32) -> Self {
        self.event_id_max_value = Some(n);
        self
    }
    /// Every listener gets `id` when a notifier is created.
    pub fn notifier_created_event(mut self, id: EventId) -> Self {
        self.created = Some(Some(id.0));
        self
    }
    /// No event when a notifier is created (the default).
    pub fn disable_notifier_created_event(mut self) -> Self {
        self.created = Some(None);
        self
    }
    /// Every listener gets `id` when a notifier is dropped.
    pub fn notifier_dropped_event(mut self, id: EventId) -> Self {
        self.dropped = Some(Some(id.0));
        self
    }
    /// No event when a notifier is dropped (the default).
    pub fn disable_notifier_dropped_event(mut self) -> Self {
        self.dropped = Some(None);
        self
    }
    /// Every listener gets `id` when a dead notifier is cleaned up (its
    /// process killed, its task deleted).
    pub fn notifier_dead_event(mut self, id: EventId) -> Self {
        self.dead = Some(Some(id.0));
        self
    }
    /// No event when a dead notifier is cleaned up (the default).
    pub fn disable_notifier_dead_event(mut self) -> Self {
        self.dead = Some(None);
        self
    }
    /// The longest a notifier may stay silent: a notification after a longer
    /// silence still goes out, and returns
    /// [`NotifierNotifyError::MissedDeadline`](crate::port::NotifierNotifyError::MissedDeadline).
    pub fn deadline(mut self, d: Duration) -> Self {
        self.deadline = Some(Some(d));
        self
    }
    /// No deadline (the default).
    pub fn disable_deadline(mut self) -> Self {
        self.deadline = Some(None);
        self
    }

    fn config(&self) -> Result<StaticConfig, ServiceCreateError> {
        let unit = TypeDetail::of::<()>().map_err(|_| ServiceCreateError::TypeNameTooLong)?;
        let d = &self.node.config().event;
        let event = EventConfig {
            event_id_max_value: self.event_id_max_value.unwrap_or(d.event_id_max_value),
            notifier_created_event: self.created.flatten(),
            notifier_dropped_event: self.dropped.flatten(),
            notifier_dead_event: self.dead.flatten(),
            deadline_ns: match self.deadline.flatten() {
                Some(d) => Some(u64::try_from(d.as_nanos()).map_err(|_| ServiceCreateError::InvalidQos("deadline"))?),
                None => None,
            },
        };
        let cfg = StaticConfig {
            name: self.name.clone(),
            pattern: PATTERN_EVENT,
            max_publishers: self.max_notifiers.unwrap_or(d.max_notifiers),
            max_subscribers: self.max_listeners.unwrap_or(d.max_listeners),
            max_nodes: self.max_nodes.unwrap_or(d.max_nodes),
            history_size: 0,
            subscriber_max_buffer_size: 1,
            subscriber_max_borrowed_samples: 1,
            enable_safe_overflow: true,
            payload_alignment: 1,
            payload: unit.clone(),
            user_header: unit,
            max_slice_len: 1,
            response: None,
            event: Some(event),
        };
        if cfg.max_publishers as usize > crate::config::MAX_PUBLISHERS {
            return Err(ServiceCreateError::ExceedsBuildLimit("max_notifiers"));
        }
        if cfg.max_subscribers as usize > crate::config::MAX_SUBSCRIBERS {
            return Err(ServiceCreateError::ExceedsBuildLimit("max_listeners"));
        }
        let checks = [
            (cfg.max_publishers >= 1, "max_notifiers"),
            (cfg.max_subscribers >= 1, "max_listeners"),
            ((1..=MAX_NODES_LIMIT).contains(&cfg.max_nodes), "max_nodes"),
        ];
        if let Some((_, field)) = checks.iter().find(|(ok, _)| !ok) {
            return Err(ServiceCreateError::InvalidQos(field));
        }
        if let Some(field) = cfg.event.as_ref().and_then(EventConfig::invalid_field) {
            return Err(ServiceCreateError::InvalidQos(field));
        }
        Ok(cfg)
    }

    fn verify(&self, stored: &StaticConfig) -> Result<(), ServiceOpenError> {
        use ServiceOpenError as E;
        if stored.max_publishers as usize > crate::config::MAX_PUBLISHERS
            || stored.max_subscribers as usize > crate::config::MAX_SUBSCRIBERS
        {
            return Err(E::ExceedsBuildLimit);
        }
        let Some(e) = stored.event.as_ref() else { return Err(E::ServiceInCorruptedState) };
        at_least(self.max_notifiers, stored.max_publishers, E::DoesNotSupportRequestedAmountOfNotifiers)?;
        at_least(self.max_listeners, stored.max_subscribers, E::DoesNotSupportRequestedAmountOfListeners)?;
        at_least(self.max_nodes, stored.max_nodes, E::DoesNotSupportRequestedAmountOfNodes)?;
        at_least(self.event_id_max_value, e.event_id_max_value, E::DoesNotSupportRequestedMaxEventId)?;
        let same = |asked: Option<Option<u32>>, have: Option<u32>, err| match asked {
            Some(a) if a != have => Err(err),
            _ => Ok(()),
        };
        same(self.created, e.notifier_created_event, E::IncompatibleNotifierCreatedEvent)?;
        same(self.dropped, e.notifier_dropped_event, E::IncompatibleNotifierDroppedEvent)?;
        same(self.dead, e.notifier_dead_event, E::IncompatibleNotifierDeadEvent)?;
        if let Some(asked) = self.deadline {
            if asked.map(|d| d.as_nanos()) != e.deadline_ns.map(u128::from) {
                return Err(E::IncompatibleDeadline);
            }
        }
        Ok(())
    }

    /// The service segment's size in bytes, before creating it.
    pub fn footprint(&self) -> Result<usize, ServiceCreateError> {
        Ok(ServiceLayout::of(&self.config()?).size)
    }

    /// Creates the service; fails with [`ServiceCreateError::AlreadyExists`]
    /// if a live one exists.
    pub fn create(self) -> Result<P::Hold<Event<P>>, ServiceCreateError> {
        let cfg = self.config()?;
        Event::new(ServiceCore::create(self.node, cfg)?).map(Into::into).ok_or(ServiceCreateError::InvalidQos("event"))
    }

    /// Opens an existing service, checking the requested QoS.
    pub fn open(self) -> Result<P::Hold<Event<P>>, ServiceOpenError> {
        let core = ServiceCore::open(self.node, PATTERN_EVENT, &self.name, |c| self.verify(c))?;
        Event::new(core).map(Into::into).ok_or(ServiceOpenError::ServiceInCorruptedState)
    }

    /// Opens the service, or creates it if it does not exist.
    pub fn open_or_create(self) -> Result<P::Hold<Event<P>>, ServiceOpenOrCreateError> {
        let core =
            ServiceCore::open_or_create(self.node, PATTERN_EVENT, &self.name, || self.config(), |c| self.verify(c))?;
        Event::new(core)
            .map(Into::into)
            .ok_or(ServiceOpenOrCreateError::Open(ServiceOpenError::ServiceInCorruptedState))
    }
}

/// An event service handle: makes notifiers and listeners.
pub struct Event<P: Platform> {
    pub(crate) core: ServiceCore<P>,
}

impl<P: Platform> Event<P> {
    fn new(core: ServiceCore<P>) -> Option<Self> {
        core.config.event.as_ref()?;
        Some(Self { core })
    }

    pub(crate) fn event_config(&self) -> &EventConfig {
        // `new` checked it is there.
        self.core.config.event.as_ref().unwrap_or(&NO_EVENT_CONFIG)
    }

    /// The service's name.
    pub fn name(&self) -> &crate::name::ServiceName {
        &self.core.config.name
    }

    /// Notifier slots.
    pub fn max_notifiers(&self) -> u32 {
        self.core.config.max_publishers
    }

    /// Listener slots.
    pub fn max_listeners(&self) -> u32 {
        self.core.config.max_subscribers
    }

    /// Node slots.
    pub fn max_nodes(&self) -> u32 {
        self.core.config.max_nodes
    }

    /// The highest event id.
    pub fn event_id_max_value(&self) -> u32 {
        self.event_config().event_id_max_value
    }

    /// The event sent when a notifier is created, if any.
    pub fn notifier_created_event(&self) -> Option<EventId> {
        self.event_config().notifier_created_event.map(EventId)
    }

    /// The event sent when a notifier is dropped, if any.
    pub fn notifier_dropped_event(&self) -> Option<EventId> {
        self.event_config().notifier_dropped_event.map(EventId)
    }

    /// The event sent when a dead notifier is cleaned up, if any.
    pub fn notifier_dead_event(&self) -> Option<EventId> {
        self.event_config().notifier_dead_event.map(EventId)
    }

    /// The deadline, if any.
    pub fn deadline(&self) -> Option<Duration> {
        self.event_config().deadline_ns.map(Duration::from_nanos)
    }

    /// The stored configuration.
    pub fn static_config(&self) -> &StaticConfig {
        &self.core.config
    }

    /// Reclaims what dead nodes left in this service (sending
    /// `notifier_dead_event` for each dead notifier); returns how many dead
    /// nodes were cleaned.
    pub fn cleanup_dead_nodes(&self) -> u32 {
        self.core.cleanup_dead_nodes()
    }

    /// Notifiers of the service now, in every process.
    pub fn number_of_notifiers(&self) -> u32 {
        self.core.live_senders()
    }

    /// Listeners of the service now, in every process.
    pub fn number_of_listeners(&self) -> u32 {
        self.core.live_receivers()
    }

    /// The service segment's size in bytes.
    pub fn footprint(&self) -> usize {
        ServiceLayout::of(&self.core.config).size
    }
}

static NO_EVENT_CONFIG: EventConfig = EventConfig {
    event_id_max_value: 0,
    notifier_created_event: None,
    notifier_dropped_event: None,
    notifier_dead_event: None,
    deadline_ns: None,
};

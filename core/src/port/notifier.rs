//! Notifier: wakes the listeners of an event service with an event id.

use super::{NotifierCreateError, NotifierNotifyError};
use crate::handle::{Anchored, Handle};
use crate::platform::Platform;
use crate::service::event::{Event, EventId};
use crate::service::ServiceCore;
use core::cell::Cell;
use core::time::Duration;

/// Configures a notifier.
///
/// `S` is how the notifier will hold its service: a borrow, or an owning
/// handle (see [`handle`](crate::handle)).
pub struct NotifierBuilder<P: Platform, S: Handle<Target = Event<P>>> {
    service: S,
    default_id: EventId,
}

impl<P: Platform, S: Handle<Target = Event<P>>> NotifierBuilder<P, S> {
    /// A builder for a notifier that holds its service through `service`.
    pub fn new(service: S) -> Self {
        Self { service, default_id: EventId::new(0) }
    }

    /// The id [`Notifier::notify`] sends (default 0).
    pub fn default_event_id(mut self, id: EventId) -> Self {
        self.default_id = id;
        self
    }

    /// Creates the notifier: takes a notifier slot and, if the service has a
    /// `notifier_created_event`, sends it.
    pub fn create(self) -> Result<Notifier<P, S>, NotifierCreateError> {
        let default_id = self.default_id;
        let a = Anchored::new(self.service, |service| Self::parts(service, default_id))?;
        Ok(Notifier { a })
    }

    fn parts(service: &Event<P>, default_id: EventId) -> Result<NotifierParts<'_, P>, NotifierCreateError> {
        let core = &service.core;
        let cfg = service.event_config();
        if default_id.as_value() > cfg.event_id_max_value {
            return Err(NotifierCreateError::EventIdOutOfBounds);
        }
        let (slot_index, gen) = (0..core.config.max_publishers)
            .find_map(|i| Some((i, core.view.sender(i)?.try_claim_for(core.node_slot)?)))
            .ok_or(NotifierCreateError::ExceedsMaxSupportedNotifiers)?;
        let slot = core.view.sender(slot_index).ok_or(NotifierCreateError::ExceedsMaxSupportedNotifiers)?;
        let id = crate::name::unique_id::<P>(core.liveness, core.node_id);
        slot.set_port(core.node_slot, id);
        slot.activate(gen);
        core.view.bump_epoch();
        if let Some(created) = cfg.notifier_created_event {
            crate::signal::deliver::<P>(&core.view, created);
        }
        Ok(NotifierParts {
            core,
            slot: slot_index,
            gen,
            id,
            max_id: cfg.event_id_max_value,
            dropped: cfg.notifier_dropped_event,
            deadline: cfg.deadline_ns.map(Duration::from_nanos),
            default_id,
            last: Cell::new(P::now()),
        })
    }
}

/// Wakes the listeners of an event service. Not `Sync` (one thread per
/// port); dropping it sends the service's `notifier_dropped_event`, if any.
///
/// ```
/// # fn clock() -> core::time::Duration { core::time::Duration::ZERO }
/// # icefloe_core::bare_metal_platform!(Board, arena = 512 * 1024, segments = 16, clock = clock);
/// use icefloe_core::{EventId, NodeBuilder, NotifierNotifyError, ServiceName};
/// let node = NodeBuilder::<Board>::new().create().unwrap();
/// let event = node.service_builder(&ServiceName::new("alarm").unwrap()).event().event_id_max_value(7).create().unwrap();
/// let notifier = event.notifier_builder().create().unwrap();
/// let _listener = event.listener_builder().create().unwrap();
/// assert_eq!(notifier.notify_with_custom_event_id(EventId::new(7)), Ok(1)); // listeners reached
/// assert_eq!(notifier.notify_with_custom_event_id(EventId::new(8)), Err(NotifierNotifyError::EventIdOutOfBounds));
/// ```
pub struct Notifier<P: Platform, S: Handle<Target = Event<P>>> {
    a: Anchored<S, NotifierFamily<P>>,
}

/// What a notifier keeps of its service, borrowing it for `'s`.
pub(crate) struct NotifierParts<'s, P: Platform> {
    core: &'s ServiceCore<P>,
    slot: u32,
    gen: u16,
    id: u64,
    max_id: u32,
    dropped: Option<u32>,
    deadline: Option<Duration>,
    default_id: EventId,
    last: Cell<Duration>,
}

crate::handle::family!(NotifierFamily, NotifierParts);

impl<P: Platform, S: Handle<Target = Event<P>>> Notifier<P, S> {
    #[inline(always)]
    fn p(&self) -> &NotifierParts<'_, P> {
        self.a.parts()
    }

    /// This notifier's unique id.
    pub fn id(&self) -> u64 {
        self.p().id
    }

    /// The service's deadline, if any.
    pub fn deadline(&self) -> Option<Duration> {
        self.p().deadline
    }

    /// Sends the default event id to every listener; returns how many it
    /// reached. No system call unless a listener sleeps.
    pub fn notify(&self) -> Result<usize, NotifierNotifyError> {
        self.notify_with_custom_event_id(self.p().default_id)
    }

    /// Sends `id` to every listener; returns how many it reached. An id
    /// above the service's `event_id_max_value` is refused
    /// ([`NotifierNotifyError::EventIdOutOfBounds`], nothing sent). With a
    /// deadline, a notification later than the deadline after the previous
    /// one (or after creation) still goes out and returns
    /// [`NotifierNotifyError::MissedDeadline`].
    pub fn notify_with_custom_event_id(&self, id: EventId) -> Result<usize, NotifierNotifyError> {
        if id.as_value() > self.p().max_id {
            return Err(NotifierNotifyError::EventIdOutOfBounds);
        }
        let delivered = crate::signal::deliver::<P>(&self.p().core.view, id.as_value());
        if let Some(deadline) = self.p().deadline {
            let now = P::now();
            let silent = now.saturating_sub(self.p().last.replace(now));
            if silent > deadline {
                return Err(NotifierNotifyError::MissedDeadline { delivered });
            }
        }
        Ok(delivered)
    }
}

impl<P: Platform> Drop for NotifierParts<'_, P> {
    fn drop(&mut self) {
        let view = &self.core.view;
        if let Some(slot) = view.sender(self.slot) {
            slot.leave(self.gen);
        }
        view.bump_epoch();
        if let Some(dropped) = self.dropped {
            crate::signal::deliver::<P>(view, dropped);
        }
    }
}

impl<P: Platform> Event<P> {
    /// Starts building a notifier that borrows this service (an owning
    /// handle's `notifier_builder`, as `icefloe-linux`'s, builds one that
    /// holds a clone of the handle instead).
    pub fn notifier_builder(&self) -> NotifierBuilder<P, &Self> {
        NotifierBuilder::new(self)
    }
}

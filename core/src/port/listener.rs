//! Listener: sleeps until notifiers of its event service send ids.

use super::{ListenerCreateError, ListenerWaitError};
use crate::handle::{Anchored, Handle};
use crate::platform::{Platform, Termination};
use crate::service::event::{Event, EventId};
use crate::service::ServiceCore;
use crate::shm::event::{EventState, Waker};
use core::time::Duration;

/// One pending event: its id and how many notifications of it arrived
/// since the last wait (they coalesce).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct EventActivation {
    /// The event id.
    pub id: EventId,
    /// Notifications of this id since it was last delivered.
    pub count: u32,
}

/// Configures a listener.
///
/// `S` is how the listener will hold its service: a borrow, or an owning
/// handle (see [`handle`](crate::handle)).
pub struct ListenerBuilder<P: Platform, S: Handle<Target = Event<P>>> {
    service: S,
    _p: core::marker::PhantomData<P>,
}

impl<P: Platform, S: Handle<Target = Event<P>>> ListenerBuilder<P, S> {
    /// A builder for a listener that holds its service through `service`.
    pub fn new(service: S) -> Self {
        Self { service, _p: core::marker::PhantomData }
    }

    /// Creates the listener: takes a listener slot (its counters start at
    /// zero; notifications sent before it existed are not seen).
    pub fn create(self) -> Result<Listener<P, S>, ListenerCreateError> {
        let a = Anchored::new(self.service, |service| Self::parts(&service.core))?;
        Ok(Listener { a })
    }

    fn parts(core: &ServiceCore<P>) -> Result<ListenerParts<'_, P>, ListenerCreateError> {
        let (slot_index, gen) = (0..core.config.max_subscribers)
            .find_map(|i| Some((i, core.view.receiver(i)?.try_claim_for(core.node_slot)?)))
            .ok_or(ListenerCreateError::ExceedsMaxSupportedListeners)?;
        let slot = core.view.receiver(slot_index).ok_or(ListenerCreateError::ExceedsMaxSupportedListeners)?;
        let Some((waker, state)) = core.view.listener_event(slot_index) else {
            slot.leave(gen);
            return Err(ListenerCreateError::ExceedsMaxSupportedListeners);
        };
        state.clear();
        let id = crate::name::unique_id::<P>(core.liveness, core.node_id);
        slot.set_port(core.node_slot, id);
        slot.activate(gen);
        core.view.bump_epoch();
        Ok(ListenerParts { core, slot: slot_index, gen, id, waker, state })
    }
}

/// Waits for the events of a service. Not `Sync` (one thread per port).
///
/// ```
/// # fn clock() -> core::time::Duration { core::time::Duration::ZERO }
/// # icefloe_core::bare_metal_platform!(Board, arena = 512 * 1024, segments = 16, clock = clock);
/// use core::time::Duration;
/// use icefloe_core::{EventId, NodeBuilder, ServiceName};
/// let node = NodeBuilder::<Board>::new().create().unwrap();
/// let event = node.service_builder(&ServiceName::new("bell").unwrap()).event().create().unwrap();
/// let listener = event.listener_builder().create().unwrap();
/// let notifier = event.notifier_builder().default_event_id(EventId::new(2)).create().unwrap();
/// notifier.notify().unwrap();
/// notifier.notify().unwrap();
/// let mut heard = Vec::new();
/// listener.timed_wait(Duration::from_millis(10), |e| heard.push((e.id.as_value(), e.count))).unwrap();
/// assert_eq!(heard, [(2, 2)]); // coalesced: id 2, twice
/// ```
pub struct Listener<P: Platform, S: Handle<Target = Event<P>>> {
    a: Anchored<S, ListenerFamily<P>>,
}

/// What a listener keeps of its service, borrowing it for `'s`.
pub(crate) struct ListenerParts<'s, P: Platform> {
    core: &'s ServiceCore<P>,
    slot: u32,
    gen: u16,
    id: u64,
    waker: Waker<'s>,
    state: EventState<'s>,
}

crate::handle::family!(ListenerFamily, ListenerParts);

impl<P: Platform, S: Handle<Target = Event<P>>> Listener<P, S> {
    #[inline(always)]
    fn p(&self) -> &ListenerParts<'_, P> {
        self.a.parts()
    }

    /// This listener's unique id.
    pub fn id(&self) -> u64 {
        self.p().id
    }

    /// Hands every pending event to `f` without waiting; returns how many
    /// ids it delivered.
    pub fn try_wait(&self, mut f: impl FnMut(EventActivation)) -> Result<usize, ListenerWaitError> {
        Ok(self.collect(&mut f))
    }

    /// Waits at most `timeout` for events, then hands every pending one to
    /// `f`; returns how many ids it delivered (0: the time passed).
    pub fn timed_wait(
        &self,
        timeout: Duration,
        mut f: impl FnMut(EventActivation),
    ) -> Result<usize, ListenerWaitError> {
        self.wait(Some(timeout), &mut f)
    }

    /// Sleeps until events arrive, then hands every pending one to `f`;
    /// returns how many ids it delivered (at least one). SIGINT or SIGTERM
    /// end the wait with an error (on platforms that have them).
    pub fn blocking_wait(&self, mut f: impl FnMut(EventActivation)) -> Result<usize, ListenerWaitError> {
        self.wait(None, &mut f)
    }

    fn collect(&self, f: &mut dyn FnMut(EventActivation)) -> usize {
        self.p().state.collect(&mut |id, count| f(EventActivation { id: EventId::new(id), count }))
    }

    fn wait(&self, timeout: Option<Duration>, f: &mut dyn FnMut(EventActivation)) -> Result<usize, ListenerWaitError> {
        let got = crate::signal::wait_until::<P, _, ListenerWaitError>(Some(self.p().waker), timeout, || {
            let n = self.collect(f);
            Ok((n > 0).then_some(n))
        })?;
        Ok(got.unwrap_or(0))
    }
}

impl<P: Platform> Drop for ListenerParts<'_, P> {
    fn drop(&mut self) {
        let view = &self.core.view;
        if let Some(slot) = view.receiver(self.slot) {
            slot.leave(self.gen);
        }
        view.bump_epoch();
    }
}

impl<P: Platform, S: Handle<Target = Event<P>>> crate::waitset::Attachable for Listener<P, S> {
    fn wake_word(&self) -> Option<Waker<'_>> {
        Some(self.p().waker)
    }
    fn has_pending(&self) -> bool {
        self.p().state.pending()
    }
}

impl From<Termination> for ListenerWaitError {
    fn from(t: Termination) -> Self {
        match t {
            Termination::Interrupt => Self::Interrupt,
            Termination::Terminate => Self::TerminationRequest,
        }
    }
}

impl<P: Platform> Event<P> {
    /// Starts building a listener that borrows this service.
    pub fn listener_builder(&self) -> ListenerBuilder<P, &Self> {
        ListenerBuilder::new(self)
    }
}

//! The subscriber: maps publishers' data segments read-only and receives
//! references to their chunks.

use super::receiver::{Expect, RecvConn};
use super::{ReceiveError, SubscriberCreateError};
use crate::chunk::{sealed, Held, Sample};
use crate::config::MAX_PUBLISHERS;
use crate::handle::{Anchored, Handle};
use crate::platform::Platform;
use crate::service::publish_subscribe::PublishSubscribe;
use crate::service::ServiceCore;
use crate::shm::service::ConnView;
use crate::sync::Ordering;
use crate::zero_copy::{Payload, ZeroCopySend};
use core::cell::{Cell, RefCell};
use core::marker::PhantomData;

/// Configures a [`Subscriber`] that will hold its service through `S` (a
/// borrow, or an owning handle: see [`handle`](crate::handle)).
pub struct SubscriberBuilder<
    P: Platform,
    T: Payload + ?Sized,
    H: ZeroCopySend,
    S: Handle<Target = PublishSubscribe<P, T, H>>,
> {
    service: S,
    history: Option<u32>,
    _t: crate::zero_copy::TypeMarker<T, H>,
    _p: PhantomData<P>,
}

impl<P: Platform, T: Payload + ?Sized, H: ZeroCopySend, S: Handle<Target = PublishSubscribe<P, T, H>>>
    SubscriberBuilder<P, T, H, S>
{
    /// A builder for a subscriber that holds its service through `service`.
    pub fn new(service: S) -> Self {
        Self { service, history: None, _t: PhantomData, _p: PhantomData }
    }

    /// Samples of each publisher's history this subscriber wants when it
    /// connects (default: the service's `history_size`, as many as its queue
    /// holds; at most that whatever is asked).
    pub fn history_request(mut self, n: u32) -> Self {
        self.history = Some(n);
        self
    }

    /// Creates the subscriber: takes a subscriber slot. Publishers connect
    /// to it on their next loan or send.
    pub fn create(self) -> Result<Subscriber<P, T, H, S>, SubscriberCreateError> {
        let history = self.history;
        let a = Anchored::new(self.service, |service| Self::parts(&service.core, history))?;
        Ok(Subscriber { a, _t: PhantomData })
    }

    fn parts(core: &ServiceCore<P>, history: Option<u32>) -> Result<SubscriberParts<'_, P>, SubscriberCreateError> {
        let (slot_index, gen) = (0..core.config.max_subscribers)
            .find_map(|i| Some((i, core.view.receiver(i)?.try_claim_for(core.node_slot)?)))
            .ok_or(SubscriberCreateError::ExceedsMaxSupportedSubscribers)?;
        let slot = core.view.receiver(slot_index).ok_or(SubscriberCreateError::ExceedsMaxSupportedSubscribers)?;
        let id = crate::name::unique_id::<P>(core.liveness, core.node_id);
        slot.set_port(core.node_slot, id);
        let asked = history.map_or(0, |n| n.saturating_add(1));
        slot.set_field(crate::shm::service::FIELD_HISTORY_REQUEST, asked);
        slot.activate(gen);
        core.view.bump_epoch();
        Ok(SubscriberParts {
            core,
            id,
            slot: slot_index,
            gen,
            conns: RefCell::new(core::array::from_fn(|_| RecvConn::default())),
            links: core::array::from_fn(|p| {
                (p < core.config.max_publishers as usize).then(|| core.view.connection(p as u32, slot_index)).flatten()
            }),
            seen_epoch: Cell::new(core.view.epoch().load(Ordering::Acquire).wrapping_sub(1)),
            borrowed: Cell::new(0),
            next: Cell::new(0),
            expect: Expect::of_requests(&core.config),
        })
    }
}

/// Receives samples of `T` from every publisher of a service, holding the
/// service through `S` (see [`handle`](crate::handle)). `Send` (with an
/// owning or a `Sync` handle), not `Sync`: receiving and returning samples
/// update its process-local bookkeeping without a lock.
///
/// ```
/// # fn clock() -> core::time::Duration { core::time::Duration::ZERO }
/// # icefloe_core::bare_metal_platform!(Board, arena = 512 * 1024, segments = 16, clock = clock);
/// use icefloe_core::{NodeBuilder, ReceiveError, ServiceName};
/// let node = NodeBuilder::<Board>::new().create().unwrap();
/// let service = node
///     .service_builder(&ServiceName::new("ticks").unwrap())
///     .publish_subscribe::<u32>()
///     .subscriber_max_borrowed_samples(1)
///     .create()
///     .unwrap();
/// let publisher = service.publisher_builder().create().unwrap();
/// let subscriber = service.subscriber_builder().create().unwrap();
/// publisher.send_copy(1).unwrap();
/// publisher.send_copy(2).unwrap();
/// let first = subscriber.receive().unwrap().unwrap();
/// // One borrowed sample at most: return it before taking the next.
/// assert_eq!(subscriber.receive().err(), Some(ReceiveError::ExceedsMaxBorrows));
/// drop(first);
/// assert_eq!(*subscriber.receive().unwrap().unwrap(), 2);
/// ```
pub struct Subscriber<P: Platform, T: Payload + ?Sized, H: ZeroCopySend, S: Handle<Target = PublishSubscribe<P, T, H>>>
{
    a: Anchored<S, SubscriberFamily<P>>,
    _t: crate::zero_copy::TypeMarker<T, H>,
}

/// What a subscriber keeps of its service, borrowing it for `'s`.
pub(crate) struct SubscriberParts<'s, P: Platform> {
    core: &'s ServiceCore<P>,
    /// The system-wide unique id (as a publisher's, a client's).
    id: u64,
    slot: u32,
    gen: u16,
    conns: RefCell<[RecvConn<P>; MAX_PUBLISHERS]>,
    /// The connections from each publisher slot, located once.
    links: [Option<ConnView<'s>>; MAX_PUBLISHERS],
    seen_epoch: Cell<u32>,
    borrowed: Cell<u32>,
    next: Cell<u32>,
    /// What the publishers' segments must be (computed once).
    expect: Expect,
}

crate::handle::family!(SubscriberFamily, SubscriberParts);

impl<P: Platform, T: Payload + ?Sized, H: ZeroCopySend, S: Handle<Target = PublishSubscribe<P, T, H>>>
    Subscriber<P, T, H, S>
{
    #[inline(always)]
    fn p(&self) -> &SubscriberParts<'_, P> {
        self.a.parts()
    }

    /// The queue depth per publisher (the service's `subscriber_max_buffer_size`).
    pub fn buffer_size(&self) -> usize {
        self.p().core.config.subscriber_max_buffer_size as usize
    }

    /// Connections marked corrupt because a peer's memory lied (a queue,
    /// a reference or a segment that is garbage): each is no longer used
    /// until its peer goes, and each was reported once, by the error of
    /// the call that found it and a warning through the log shim. 0 in a
    /// healthy system; a monitor can watch it.
    pub fn corrupt_connections(&self) -> u32 {
        super::receiver::corrupt_count(&*self.p().conns.borrow())
    }

    /// This port's system-wide unique id.
    pub fn id(&self) -> u64 {
        self.p().id
    }

    /// Whether a sample is waiting (a snapshot).
    pub fn has_samples(&self) -> bool {
        self.update_connections();
        let conns = self.p().conns.borrow();
        (0..self.p().core.config.max_publishers.min(MAX_PUBLISHERS as u32)).any(|p| {
            let c = &conns[p as usize];
            c.reading != 0 && !c.corrupt && self.p().links[p as usize].is_some_and(|conn| !conn.submission.is_empty())
        })
    }

    fn update_connections(&self) {
        let view = &self.p().core.view;
        let epoch = view.epoch().load(Ordering::Acquire);
        if epoch == self.p().seen_epoch.get() {
            return;
        }
        self.p().seen_epoch.set(epoch);
        let released = RecvConn::sync_all(
            self.p().core,
            &mut *self.p().conns.borrow_mut(),
            &self.p().links,
            self.p().gen,
            self.expect(),
        );
        if released {
            view.bump_epoch();
        }
    }

    fn expect(&self) -> Expect {
        self.p().expect
    }

    /// Takes the oldest waiting sample, visiting publishers in turn.
    /// `Ok(None)` when nothing waits. No allocation, no system call.
    #[inline]
    pub fn receive(&self) -> Result<Option<Sample<&Self, T, H>>, ReceiveError> {
        Self::receive_via(&self)
    }

    /// [`receive`](Self::receive) through a handle to this subscriber: the
    /// sample holds a clone of `port` instead of borrowing it (for owning
    /// handles, so that the sample has no lifetime).
    #[inline(always)]
    pub fn receive_via<R: Handle<Target = Self>>(port: &R) -> Result<Option<Sample<R, T, H>>, ReceiveError> {
        let Some((connection, chunk)) = port.take_next()? else { return Ok(None) };
        Ok(Some(Sample { connection, chunk, subscriber: port.clone() }))
    }

    #[inline(always)]
    #[allow(clippy::type_complexity)] // the port's own type parameters
    fn take_next(&self) -> Result<Option<(u32, Held<T, H>)>, ReceiveError> {
        if self.p().borrowed.get() >= self.p().core.config.subscriber_max_borrowed_samples {
            return Err(ReceiveError::ExceedsMaxBorrows);
        }
        self.update_connections();
        let n = self.p().core.config.max_publishers.min(MAX_PUBLISHERS as u32);
        let overflow = self.p().core.config.enable_safe_overflow;
        let mut conns = self.p().conns.borrow_mut();
        let start = self.p().next.get().min(n.saturating_sub(1));
        for k in 0..n {
            let p = if start + k >= n { start + k - n } else { start + k };
            let c = &mut conns[p as usize];
            if c.reading == 0 || c.corrupt {
                continue;
            }
            let Some(conn) = self.p().links[p as usize].as_ref() else { continue };
            // A polling loop mostly finds nothing: two loads say so. (A
            // departed sender's empty queue still goes through `next`,
            // which lets go of it; a corrupt queue is reported there.)
            if !c.departed && conn.submission.len() == Ok(0) {
                continue;
            }
            let Some(got) = c.next(self.p().core, conn, self.p().gen, overflow, self.expect())? else { continue };
            self.p().borrowed.set(self.p().borrowed.get() + 1);
            self.p().next.set(if p + 1 == n { 0 } else { p + 1 });
            return Ok(Some((p, Held::new(&got))));
        }
        Ok(None)
    }

    /// Waits at most `timeout` for a sample: sleeps (a futex on Linux, a
    /// task notification on FreeRTOS) until a publisher sends, then takes
    /// it. `Ok(None)` when the time passed with nothing. A send to a
    /// subscriber that does not wait makes no system call.
    pub fn timed_receive(&self, timeout: core::time::Duration) -> Result<Option<Sample<&Self, T, H>>, ReceiveError> {
        Self::timed_receive_via(&self, timeout)
    }

    /// [`timed_receive`](Self::timed_receive) through a handle to this
    /// subscriber (the sample holds a clone of `port`).
    pub fn timed_receive_via<R: Handle<Target = Self>>(
        port: &R,
        timeout: core::time::Duration,
    ) -> Result<Option<Sample<R, T, H>>, ReceiveError> {
        crate::signal::wait_until::<P, _, _>(port.waker(), Some(timeout), || Self::receive_via(port))
    }

    /// Sleeps until a sample arrives and takes it. SIGINT and SIGTERM end
    /// the wait with [`ReceiveError::Interrupt`] or
    /// [`ReceiveError::TerminationRequest`] (on platforms that have them).
    pub fn blocking_receive(&self) -> Result<Sample<&Self, T, H>, ReceiveError> {
        Self::blocking_receive_via(&self)
    }

    /// [`blocking_receive`](Self::blocking_receive) through a handle to
    /// this subscriber (the sample holds a clone of `port`).
    pub fn blocking_receive_via<R: Handle<Target = Self>>(port: &R) -> Result<Sample<R, T, H>, ReceiveError> {
        crate::signal::wait_for::<P, _, _>(port.waker(), || Self::receive_via(port))
    }

    /// This port's wake word (its senders signal it).
    fn waker(&self) -> Option<crate::shm::event::Waker<'_>> {
        self.p().core.view.receiver_waker(self.p().slot)
    }

    /// Returns a sample's chunk to its publisher.
    pub(crate) fn release(&self, connection: u32, segment: u32, index: u32) {
        self.p().borrowed.set(self.p().borrowed.get().saturating_sub(1));
        let mut conns = self.p().conns.borrow_mut();
        let Some(c) = conns.get_mut(connection as usize) else { return };
        let conn = self.p().links.get(connection as usize).and_then(Option::as_ref);
        c.give_back(segment, index, conn.map(|c| &c.completion), conn.map(|c| &c.submission));
    }
}

impl<P: Platform, T: Payload + ?Sized, H: ZeroCopySend, S: Handle<Target = PublishSubscribe<P, T, H>>> sealed::Receiver
    for Subscriber<P, T, H, S>
{
    #[inline(always)]
    fn release(&self, connection: u32, segment: u32, index: u32) {
        Subscriber::release(self, connection, segment, index);
    }
    fn element_size(&self) -> usize {
        self.p().core.config.payload.size as usize
    }
    fn header_size(&self) -> usize {
        self.p().core.config.user_header.size as usize
    }
}

impl<P: Platform> Drop for SubscriberParts<'_, P> {
    fn drop(&mut self) {
        let view = &self.core.view;
        if let Some(slot) = view.receiver(self.slot) {
            slot.leave(self.gen);
        }
        view.bump_epoch();
    }
}

impl<P: Platform, T: Payload + ?Sized, H: ZeroCopySend, S: Handle<Target = PublishSubscribe<P, T, H>>>
    crate::waitset::Attachable for Subscriber<P, T, H, S>
{
    fn wake_word(&self) -> Option<crate::shm::event::Waker<'_>> {
        self.waker()
    }
    fn has_pending(&self) -> bool {
        self.has_samples()
    }
}

impl<P: Platform, T: Payload + ?Sized, H: ZeroCopySend> PublishSubscribe<P, T, H> {
    /// Starts building a subscriber that borrows this service.
    pub fn subscriber_builder(&self) -> SubscriberBuilder<P, T, H, &Self> {
        SubscriberBuilder::new(self)
    }
}

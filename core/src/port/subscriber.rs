//! The subscriber: maps publishers' data segments read-only and receives
//! references to their chunks.

use super::receiver::{Expect, RecvConn};
use super::sample::{Held, Sample};
use super::{ReceiveError, SubscriberCreateError};
use crate::config::MAX_PUBLISHERS;
use crate::platform::Platform;
use crate::service::publish_subscribe::PublishSubscribe;
use crate::service::ServiceCore;
use crate::shm::service::ConnView;
use crate::sync::Ordering;
use crate::zero_copy::{Payload, ZeroCopySend};
use core::cell::{Cell, RefCell};
use core::marker::PhantomData;

/// Configures a [`Subscriber`].
pub struct SubscriberBuilder<'s, P: Platform, T: Payload + ?Sized, H: ZeroCopySend> {
    service: &'s PublishSubscribe<P, T, H>,
}

impl<'s, P: Platform, T: Payload + ?Sized, H: ZeroCopySend> SubscriberBuilder<'s, P, T, H> {
    pub(crate) fn new(service: &'s PublishSubscribe<P, T, H>) -> Self {
        Self { service }
    }

    /// Creates the subscriber: takes a subscriber slot. Publishers connect
    /// to it on their next loan or send.
    pub fn create(self) -> Result<Subscriber<'s, P, T, H>, SubscriberCreateError> {
        let core = &self.service.core;
        let (slot_index, gen) = (0..core.config.max_subscribers)
            .find_map(|i| Some((i, core.view.subscriber(i)?.try_claim()?)))
            .ok_or(SubscriberCreateError::ExceedsMaxSupportedSubscribers)?;
        let slot = core.view.subscriber(slot_index).ok_or(SubscriberCreateError::ExceedsMaxSupportedSubscribers)?;
        slot.set_port(core.node_slot, crate::node::unique_id::<P>(core.liveness, core.node_id));
        slot.activate(gen);
        core.view.bump_epoch();
        Ok(Subscriber {
            core,
            slot: slot_index,
            gen,
            conns: RefCell::new(core::array::from_fn(|_| RecvConn::default())),
            links: core::array::from_fn(|p| {
                (p < core.config.max_publishers as usize).then(|| core.view.connection(p as u32, slot_index)).flatten()
            }),
            seen_epoch: Cell::new(core.view.epoch().load(Ordering::Acquire).wrapping_sub(1)),
            borrowed: Cell::new(0),
            next: Cell::new(0),
            expect: Expect::of_requests(&core.config, !T::IS_SLICE),
            _t: PhantomData,
        })
    }
}

/// Receives samples of `T` from every publisher of a service. Not `Sync`.
pub struct Subscriber<'s, P: Platform, T: Payload + ?Sized, H: ZeroCopySend> {
    core: &'s ServiceCore<P>,
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
    _t: crate::zero_copy::TypeMarker<T, H>,
}

impl<'s, P: Platform, T: Payload + ?Sized, H: ZeroCopySend> Subscriber<'s, P, T, H> {
    /// The queue depth per publisher (the service's `subscriber_max_buffer_size`).
    pub fn buffer_size(&self) -> usize {
        self.core.config.subscriber_max_buffer_size as usize
    }

    /// Whether a sample is waiting (a snapshot).
    pub fn has_samples(&self) -> bool {
        self.update_connections();
        let conns = self.conns.borrow();
        (0..self.core.config.max_publishers.min(MAX_PUBLISHERS as u32)).any(|p| {
            let c = &conns[p as usize];
            c.reading != 0 && !c.corrupt && self.links[p as usize].is_some_and(|conn| !conn.submission.is_empty())
        })
    }

    fn update_connections(&self) {
        let view = &self.core.view;
        let epoch = view.epoch().load(Ordering::Acquire);
        if epoch == self.seen_epoch.get() {
            return;
        }
        self.seen_epoch.set(epoch);
        let released =
            RecvConn::sync_all(self.core, &mut *self.conns.borrow_mut(), &self.links, self.gen, self.expect());
        if released {
            view.bump_epoch();
        }
    }

    fn expect(&self) -> Expect {
        self.expect
    }

    /// Takes the oldest waiting sample, visiting publishers in turn.
    /// `Ok(None)` when nothing waits. No allocation, no system call.
    pub fn receive(&self) -> Result<Option<Sample<'_, P, T, H>>, ReceiveError> {
        if self.borrowed.get() >= self.core.config.subscriber_max_borrowed_samples {
            return Err(ReceiveError::ExceedsMaxBorrows);
        }
        self.update_connections();
        let n = self.core.config.max_publishers.min(MAX_PUBLISHERS as u32);
        let overflow = self.core.config.enable_safe_overflow;
        let mut conns = self.conns.borrow_mut();
        let start = self.next.get().min(n.saturating_sub(1));
        for k in 0..n {
            let p = if start + k >= n { start + k - n } else { start + k };
            let c = &mut conns[p as usize];
            if c.reading == 0 || c.corrupt {
                continue;
            }
            let Some(conn) = self.links[p as usize].as_ref() else { continue };
            // A polling loop mostly finds nothing: two loads say so. (A
            // departed sender's empty queue still goes through `next`,
            // which lets go of it; a corrupt queue is reported there.)
            if !c.departed && conn.submission.len() == Ok(0) {
                continue;
            }
            let Some(got) = c.next(self.core, conn, self.gen, overflow, self.expect())? else { continue };
            self.borrowed.set(self.borrowed.get() + 1);
            self.next.set(if p + 1 == n { 0 } else { p + 1 });
            return Ok(Some(Sample { subscriber: self, connection: p, chunk: Held::new(&got) }));
        }
        Ok(None)
    }

    /// Waits at most `timeout` for a sample: sleeps (a futex on Linux, a
    /// task notification on FreeRTOS) until a publisher sends, then takes
    /// it. `Ok(None)` when the time passed with nothing. A send to a
    /// subscriber that does not wait makes no system call.
    pub fn timed_receive(&self, timeout: core::time::Duration) -> Result<Option<Sample<'_, P, T, H>>, ReceiveError> {
        super::wait_until::<P, _, _>(self.waker(), Some(timeout), || self.receive())
    }

    /// Sleeps until a sample arrives and takes it. SIGINT and SIGTERM end
    /// the wait with [`ReceiveError::Interrupt`] or
    /// [`ReceiveError::TerminationRequest`] (on platforms that have them).
    pub fn blocking_receive(&self) -> Result<Sample<'_, P, T, H>, ReceiveError> {
        super::wait_for::<P, _, _>(self.waker(), || self.receive())
    }

    /// This port's wake word (its senders signal it).
    fn waker(&self) -> Option<crate::shm::event::Waker<'_>> {
        self.core.view.receiver_waker(self.slot)
    }

    /// Returns a sample's chunk to its publisher.
    pub(crate) fn release(&self, connection: u32, segment: u32, index: u32) {
        self.borrowed.set(self.borrowed.get().saturating_sub(1));
        let mut conns = self.conns.borrow_mut();
        let Some(c) = conns.get_mut(connection as usize) else { return };
        let conn = self.links.get(connection as usize).and_then(Option::as_ref);
        c.give_back(segment, index, conn.map(|c| &c.completion), conn.map(|c| &c.submission));
    }
}

impl<P: Platform, T: Payload + ?Sized, H: ZeroCopySend> Drop for Subscriber<'_, P, T, H> {
    fn drop(&mut self) {
        let view = &self.core.view;
        if let Some(slot) = view.subscriber(self.slot) {
            slot.leave(self.gen);
        }
        view.bump_epoch();
    }
}

impl<P: Platform, T: Payload + ?Sized, H: ZeroCopySend> crate::waitset::Attachable for Subscriber<'_, P, T, H> {
    fn wake_word(&self) -> Option<crate::shm::event::Waker<'_>> {
        self.waker()
    }
    fn has_pending(&self) -> bool {
        self.has_samples()
    }
}

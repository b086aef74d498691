//! The subscriber: maps publishers' data segments read-only and receives
//! references to their chunks.

use super::sample::Sample;
use super::{ReceiveError, SubscriberCreateError};
use crate::config::{MAX_PUBLISHERS, MAX_SEGMENTS_PER_PORT};
use crate::platform::{Access, Platform, SharedMemory};
use crate::service::publish_subscribe::PublishSubscribe;
use crate::service::{data_segment_name, ServiceCore};
use crate::shm::data::{DataIdentity, DataLayout, DataView};
use crate::shm::header::{Header, HeaderCheck};
use crate::shm::relptr::RelPtr;
use crate::shm::service::{conn_word, split_state, status, KIND_DATA, NO_OWNER};
use crate::shm::Region;
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
            conns: RefCell::new(core::array::from_fn(|_| Conn::default())),
            seen_epoch: Cell::new(core.view.epoch().load(Ordering::Acquire).wrapping_sub(1)),
            borrowed: Cell::new(0),
            next: Cell::new(0),
            _t: PhantomData,
        })
    }
}

/// One mapped data segment of a publisher.
struct Mapped<P: Platform> {
    id: u32,
    view: DataView,
    _shm: P::Shm,
    /// Samples of this segment the user holds.
    borrowed: u32,
}

/// This subscriber's side of one connection (to one publisher slot).
struct Conn<P: Platform> {
    /// Publisher generation read from (0 = not connected).
    reading: u16,
    departed: bool,
    corrupt: bool,
    port_id: u64,
    segs: [Option<Mapped<P>>; MAX_SEGMENTS_PER_PORT],
    tail_cache: u32,
    head_cache: u32,
    borrowed: u32,
}

impl<P: Platform> Default for Conn<P> {
    fn default() -> Self {
        Self {
            reading: 0,
            departed: false,
            corrupt: false,
            port_id: 0,
            segs: core::array::from_fn(|_| None),
            tail_cache: 0,
            head_cache: 0,
            borrowed: 0,
        }
    }
}

/// Receives samples of `T` from every publisher of a service. Not `Sync`.
pub struct Subscriber<'s, P: Platform, T: Payload + ?Sized, H: ZeroCopySend> {
    core: &'s ServiceCore<P>,
    slot: u32,
    gen: u16,
    conns: RefCell<[Conn<P>; MAX_PUBLISHERS]>,
    seen_epoch: Cell<u32>,
    borrowed: Cell<u32>,
    next: Cell<u32>,
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
        (0..self.core.config.max_publishers).any(|p| {
            let c = &conns[p as usize];
            c.reading != 0
                && !c.corrupt
                && self.core.view.connection(p, self.slot).is_some_and(|conn| !conn.submission.is_empty())
        })
    }

    fn update_connections(&self) {
        let view = &self.core.view;
        let epoch = view.epoch().load(Ordering::Acquire);
        if epoch == self.seen_epoch.get() {
            return;
        }
        self.seen_epoch.set(epoch);
        let mut conns = self.conns.borrow_mut();
        let mut released = false;
        for p in 0..self.core.config.max_publishers.min(MAX_PUBLISHERS as u32) {
            let (Some(slot), Some(conn)) = (view.publisher(p), view.connection(p, self.slot)) else { continue };
            let c = &mut conns[p as usize];
            let (g, st) = split_state(slot.state());
            let active = st == status::ACTIVE;
            if c.reading != 0 && (!active || g != c.reading) {
                c.departed = true;
            }
            if c.reading != 0 && c.departed && c.borrowed == 0 && (c.corrupt || conn.submission.is_empty()) {
                Self::release_conn(c, conn.sub_word, self.gen);
                released = true;
            }
            if c.reading == 0 && active && conn.pub_word.load(Ordering::Acquire) == conn_word(g, self.gen) {
                let port_id = slot.port_id();
                if slot.owner() == NO_OWNER {
                    continue;
                }
                *c = Conn { reading: g, port_id, ..Conn::default() };
                // Map the publisher's newest segment now, so that what it
                // sends stays readable even if it leaves before we receive.
                let newest = slot.field(crate::service::FIELD_NEXT_SEGMENT).wrapping_sub(1);
                let _ = self.segment_slot(c, newest);
                conn.sub_word.store(conn_word(self.gen, g), Ordering::Release);
            }
        }
        if released {
            view.bump_epoch();
        }
    }

    fn release_conn(c: &mut Conn<P>, sub_word: &crate::sync::AtomicU32, gen: u16) {
        *c = Conn::default();
        sub_word.store(conn_word(gen, 0), Ordering::Release);
    }

    fn map_segment(&self, port_id: u64, segment: u32) -> Option<Mapped<P>> {
        let core = self.core;
        let name = data_segment_name(&core.prefix, core.hash, port_id, segment);
        let shm = P::shm_open(&name, Access::ReadOnly).ok()?;
        // SAFETY: valid for its length while `shm` lives; `Mapped` keeps both
        // together and drops them together.
        let region = unsafe { Region::new(shm.as_ptr(), shm.len()) };
        let header = Header::new(region.try_words(0, crate::shm::header::HEADER_WORDS)?)?;
        if header.check(KIND_DATA, region.len()).0 != HeaderCheck::Ready {
            return None;
        }
        let c = &core.config;
        let layout: DataLayout = DataView::read_layout(
            &region,
            DataIdentity { service_hash: core.hash, port_id, segment },
            (c.payload.size, c.payload_alignment, c.user_header.size, c.user_header.align),
        )?;
        if layout.connections != c.max_subscribers
            || layout.history != c.history_size
            || (!T::IS_SLICE && layout.capacity != 1)
        {
            return None;
        }
        let view = DataView::new(region, layout)?;
        Some(Mapped { id: segment, view, _shm: shm, borrowed: 0 })
    }

    /// The slot of the mapped segment `id` of connection `c`, mapping it on
    /// first sight (and unmapping segments no sample holds to make room).
    fn segment_slot(&self, c: &mut Conn<P>, id: u32) -> Option<usize> {
        if let Some(i) = c.segs.iter().position(|m| m.as_ref().is_some_and(|m| m.id == id)) {
            return Some(i);
        }
        let mapped = self.map_segment(c.port_id, id)?;
        // Segments no sample holds are unmapped; the publisher sends into
        // its newest one only, so older ones are rarely needed again.
        for m in c.segs.iter_mut() {
            if m.as_ref().is_some_and(|m| m.borrowed == 0) {
                *m = None;
            }
        }
        let free = c.segs.iter().position(Option::is_none)?;
        c.segs[free] = Some(mapped);
        Some(free)
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
        for k in 0..n {
            let p = (self.next.get() + k) % n;
            let c = &mut conns[p as usize];
            if c.reading == 0 || c.corrupt {
                continue;
            }
            let Some(conn) = self.core.view.connection(p, self.slot) else { continue };
            let popped = conn.submission.pop(&mut c.tail_cache, overflow);
            let v = match popped {
                Ok(Some(v)) => v,
                Ok(None) => {
                    if c.departed && c.borrowed == 0 {
                        Self::release_conn(c, conn.sub_word, self.gen);
                        self.core.view.bump_epoch();
                    }
                    continue;
                }
                Err(_) => {
                    c.corrupt = true;
                    return Err(ReceiveError::ConnectionCorrupted);
                }
            };
            let r = RelPtr::from_u64(v);
            let Some(slot) = self.segment_slot(c, r.segment) else {
                c.corrupt = true;
                return Err(ReceiveError::UnableToMapPublishersDataSegment);
            };
            let Some(m) = c.segs[slot].as_mut() else { continue };
            let l = *m.view.layout();
            let Some(index) = l.chunk_index(r, m.id) else {
                c.corrupt = true;
                return Err(ReceiveError::ConnectionCorrupted);
            };
            let Some(header) = m.view.chunk_header(index) else {
                c.corrupt = true;
                return Err(ReceiveError::ConnectionCorrupted);
            };
            let len = header.len();
            let origin = header.origin();
            let ok_len = if T::IS_SLICE { len <= l.capacity } else { len == 1 };
            if !ok_len {
                if conn.completion.push(v, &mut c.head_cache).is_err() {
                    c.corrupt = true;
                }
                return Err(ReceiveError::CorruptedSample);
            }
            let Some(base) = m.view.chunk_ptr(index) else { continue };
            m.borrowed += 1;
            c.borrowed += 1;
            self.borrowed.set(self.borrowed.get() + 1);
            self.next.set((p + 1) % n);
            // SAFETY: both offsets lie within the validated chunk.
            let (header_ptr, payload_ptr) = unsafe { (base.add(l.user_header_off), base.add(l.payload_off)) };
            return Ok(Some(Sample {
                subscriber: self,
                connection: p,
                segment: r.segment,
                index,
                len: len as usize,
                header: header_ptr.cast_const().cast(),
                payload: payload_ptr.cast_const().cast(),
                origin,
            }));
        }
        Ok(None)
    }

    /// Returns a sample's chunk to its publisher.
    pub(crate) fn release(&self, connection: u32, segment: u32, index: u32) {
        self.borrowed.set(self.borrowed.get().saturating_sub(1));
        let mut conns = self.conns.borrow_mut();
        let Some(c) = conns.get_mut(connection as usize) else { return };
        c.borrowed = c.borrowed.saturating_sub(1);
        let Some(m) = c.segs.iter_mut().flatten().find(|m| m.id == segment) else { return };
        m.borrowed = m.borrowed.saturating_sub(1);
        let r = m.view.layout().chunk_ref(index, segment).to_u64();
        if c.corrupt {
            return;
        }
        let Some(conn) = self.core.view.connection(connection, self.slot) else { return };
        if conn.completion.push(r, &mut c.head_cache).is_err() {
            c.corrupt = true;
        }
    }
}

impl<P: Platform, T: Payload + ?Sized, H: ZeroCopySend> Drop for Subscriber<'_, P, T, H> {
    fn drop(&mut self) {
        let view = &self.core.view;
        if let Some(slot) = view.subscriber(self.slot) {
            let st = slot.state();
            if split_state(st).0 == self.gen {
                slot.set_field(1, NO_OWNER);
                slot.release(st);
            }
        }
        view.bump_epoch();
    }
}

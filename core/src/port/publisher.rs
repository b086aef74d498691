//! The publisher: owns a data segment, loans chunks, sends references.

use super::sample::{Loan, SampleMut, SampleMutUninit};
use super::{BackpressureStrategy, LoanError, PublisherCreateError, SendError};
use crate::name::ShmName;
use crate::platform::{Platform, SharedMemory, ShmError};
use crate::service::publish_subscribe::PublishSubscribe;
use crate::service::{data_segment_name, ServiceCore};
use crate::shm::data::{DataIdentity, DataLayout, DataSizing, DataView, PubConn};
use crate::shm::header::Header;
use crate::shm::queue::PushError;
use crate::shm::relptr::RelPtr;
use crate::shm::service::{conn_word, split_state, status, ConnView, KIND_DATA};
use crate::shm::Region;
use crate::sync::Ordering;
use crate::zero_copy::{Payload, ZeroCopySend};
use core::cell::Cell;
use core::marker::PhantomData;
use core::time::Duration;

/// Default loans a publisher may have out at once: 2.
pub const DEFAULT_MAX_LOANED_SAMPLES: u32 = 2;

/// Configures a [`Publisher`].
pub struct PublisherBuilder<'s, P: Platform, T: Payload + ?Sized, H: ZeroCopySend> {
    service: &'s PublishSubscribe<P, T, H>,
    max_loaned: u32,
    backpressure: BackpressureStrategy,
    max_slice_len: u32,
}

impl<'s, P: Platform, T: Payload + ?Sized, H: ZeroCopySend> PublisherBuilder<'s, P, T, H> {
    pub(crate) fn new(service: &'s PublishSubscribe<P, T, H>) -> Self {
        Self {
            service,
            max_loaned: DEFAULT_MAX_LOANED_SAMPLES,
            backpressure: BackpressureStrategy::default(),
            max_slice_len: 1,
        }
    }

    /// Loans that may be out at once (default [`DEFAULT_MAX_LOANED_SAMPLES`]).
    pub fn max_loaned_samples(mut self, n: u32) -> Self {
        self.max_loaned = n;
        self
    }

    /// What to do when a subscriber's queue is full and the service has no
    /// safe overflow (default [`BackpressureStrategy::RetryUntilDelivered`]).
    pub fn backpressure_strategy(mut self, s: BackpressureStrategy) -> Self {
        self.backpressure = s;
        self
    }

    /// For slice payloads: the longest slice this publisher can loan
    /// (default 1). Every chunk is sized for it.
    pub fn initial_max_slice_len(mut self, n: u32) -> Self {
        self.max_slice_len = n;
        self
    }

    fn sizing(&self) -> Result<DataSizing, PublisherCreateError> {
        if self.max_loaned == 0 || self.max_slice_len == 0 {
            return Err(PublisherCreateError::InvalidConfig);
        }
        data_sizing(&self.service.core.config, self.max_loaned, if T::IS_SLICE { self.max_slice_len } else { 1 })
    }

    /// The size in bytes of the data segment this publisher would create:
    /// `max_subscribers × (buffer + borrowed) + history + max_loaned` chunks.
    pub fn footprint(&self) -> Result<usize, PublisherCreateError> {
        DataLayout::new(self.sizing()?).map(|l| l.size).map_err(|_| PublisherCreateError::DataSegmentTooLarge)
    }

    /// Creates the publisher: takes a publisher slot, creates its data
    /// segment (one system call to create, one to map).
    pub fn create(self) -> Result<Publisher<'s, P, T, H>, PublisherCreateError> {
        let core = &self.service.core;
        let layout = DataLayout::new(self.sizing()?).map_err(|_| PublisherCreateError::DataSegmentTooLarge)?;
        let (slot_index, gen) = (0..core.config.max_publishers)
            .find_map(|i| Some((i, core.view.publisher(i)?.try_claim()?)))
            .ok_or(PublisherCreateError::ExceedsMaxSupportedPublishers)?;
        let slot = core.view.publisher(slot_index).ok_or(PublisherCreateError::ExceedsMaxSupportedPublishers)?;
        let port_id = crate::node::unique_id::<P>(core.liveness, core.node_id ^ u64::from(slot_index));
        let data_name = data_segment_name(&core.prefix, core.hash, port_id);
        let give_back = |e| {
            slot.release(slot.state());
            e
        };
        let shm = P::shm_create(&data_name, layout.size, core.permissions)
            .map_err(|e| give_back(PublisherCreateError::UnableToCreateDataSegment(e)))?;
        // SAFETY: the mapping is valid for its length while `shm` lives; the
        // publisher owns both and drops the view first (field order).
        let region = unsafe { Region::new(shm.as_ptr(), shm.len()) };
        let data = DataView::new(region, layout)
            .ok_or_else(|| give_back(PublisherCreateError::UnableToCreateDataSegment(ShmError::InvalidSize)))?;
        let header = Header::new(region.words(0, crate::shm::header::HEADER_WORDS))
            .ok_or_else(|| give_back(PublisherCreateError::UnableToCreateDataSegment(ShmError::InvalidSize)))?;
        header.begin(core.liveness);
        let segment = u32::from(gen);
        data.write_info(DataIdentity { service_hash: core.hash, port_id, segment });
        header.publish(KIND_DATA, layout.size as u64);
        slot.set_port(core.node_slot, port_id);
        slot.activate(gen);
        core.view.bump_epoch();
        let publisher = Publisher {
            core,
            slot: slot_index,
            gen,
            port_id,
            segment,
            data,
            _shm: shm,
            data_name,
            max_loaned: self.max_loaned,
            loaned: Cell::new(0),
            backpressure: self.backpressure,
            seen_epoch: Cell::new(core.view.epoch().load(Ordering::Acquire).wrapping_sub(1)),
            hint: Cell::new(0),
            _t: PhantomData,
        };
        publisher.update_connections();
        Ok(publisher)
    }
}

/// The data segment of a publisher with `max_loaned` loans and chunks of
/// `capacity` elements: `max_subscribers × (buffer + borrowed) + history +
/// max_loaned` chunks, so that a loan never fails for want of a chunk.
pub(crate) fn data_sizing(
    c: &crate::shm::service::StaticConfig,
    max_loaned: u32,
    capacity: u32,
) -> Result<DataSizing, PublisherCreateError> {
    let per_conn = u64::from(c.subscriber_max_buffer_size) + u64::from(c.subscriber_max_borrowed_samples);
    let chunks = u64::from(c.max_subscribers) * per_conn + u64::from(c.history_size) + u64::from(max_loaned);
    Ok(DataSizing {
        chunk_count: u32::try_from(chunks).map_err(|_| PublisherCreateError::DataSegmentTooLarge)?,
        connections: c.max_subscribers,
        history: c.history_size,
        capacity,
        elem: (c.payload.size, c.payload_alignment),
        user_header: (c.user_header.size, c.user_header.align),
    })
}

/// Counts of a publisher's chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ChunkStats {
    /// Chunks in the data segment.
    pub total: u32,
    /// Chunks free for loaning now.
    pub free: u32,
}

/// Sends samples of `T` (with user header `H`) to every subscriber of a
/// service. Not `Sync`: one thread uses a publisher at a time.
pub struct Publisher<'s, P: Platform, T: Payload + ?Sized, H: ZeroCopySend> {
    core: &'s ServiceCore<P>,
    slot: u32,
    gen: u16,
    port_id: u64,
    segment: u32,
    data: DataView,
    _shm: P::Shm,
    data_name: ShmName,
    max_loaned: u32,
    loaned: Cell<u32>,
    backpressure: BackpressureStrategy,
    seen_epoch: Cell<u32>,
    hint: Cell<usize>,
    _t: crate::zero_copy::TypeMarker<T, H>,
}

impl<'s, P: Platform, T: Payload + ?Sized, H: ZeroCopySend> Publisher<'s, P, T, H> {
    /// This port's unique id (the `origin` of its samples).
    pub fn id(&self) -> u64 {
        self.port_id
    }

    /// Loans that may be out at once.
    pub fn max_loaned_samples(&self) -> u32 {
        self.max_loaned
    }

    /// For slices: the longest slice a loan may have; 1 for fixed payloads.
    pub fn max_slice_len(&self) -> u32 {
        self.data.layout().capacity
    }

    /// The data segment's size in bytes.
    pub fn footprint(&self) -> usize {
        self.data.layout().size
    }

    /// Total and free chunks, after taking back everything receivers have
    /// returned (and everything of subscribers that are gone).
    pub fn chunk_stats(&self) -> ChunkStats {
        self.update_connections();
        for s in 0..self.data.layout().connections {
            if let (Some(pc), Some(conn)) = (self.data.conn(s), self.core.view.connection(self.slot, s)) {
                if pc.connected() != 0 {
                    self.reclaim(&pc, &conn);
                }
            }
        }
        let pool = self.data.pool();
        ChunkStats { total: pool.capacity(), free: pool.free_count() }
    }

    /// Connects to new subscribers (delivering history) and lets go of
    /// departed ones (taking back every chunk they held). Runs on every
    /// loan and send; costs one load when nothing changed.
    pub fn update_connections(&self) {
        let view = &self.core.view;
        let epoch = view.epoch().load(Ordering::Acquire);
        if epoch == self.seen_epoch.get() {
            return;
        }
        self.seen_epoch.set(epoch);
        let mut changed = false;
        for s in 0..self.data.layout().connections {
            let (Some(pc), Some(sub), Some(conn)) =
                (self.data.conn(s), view.subscriber(s), view.connection(self.slot, s))
            else {
                continue;
            };
            let (g, st) = split_state(sub.state());
            let active = st == status::ACTIVE;
            if pc.connected() != 0 && (!active || g != pc.connected()) {
                pc.drain_out(|i| self.unref(i));
                pc.reset();
                conn.pub_word.store(0, Ordering::Release);
            }
            if active && pc.connected() == 0 {
                let (sg, pg) = split_gens(conn.sub_word.load(Ordering::Acquire));
                if sg == g && pg != 0 {
                    // That subscriber still reads from an earlier publisher
                    // in this slot; connect once it lets go.
                    continue;
                }
                conn.submission.reset();
                conn.completion.reset();
                pc.reset();
                pc.set_connected(g);
                conn.pub_word.store(conn_word(self.gen, g), Ordering::Release);
                self.deliver_history(&pc, &conn);
                changed = true;
            }
        }
        if changed {
            view.bump_epoch();
        }
    }

    fn deliver_history(&self, pc: &PubConn<'_>, conn: &ConnView<'_>) {
        let hist = self.data.history();
        let depth = self.data.layout().history;
        if depth == 0 {
            return;
        }
        let count = hist[0].load(Ordering::Relaxed).min(depth);
        let next = hist[1].load(Ordering::Relaxed) % depth;
        let skip = count.saturating_sub(conn.submission.capacity());
        let mut hc = pc.head_cache();
        for k in skip..count {
            let pos = (next + depth - count + k) % depth;
            let index = hist[2 + pos as usize].load(Ordering::Relaxed);
            if !self.data.pool().is_allocated(index) {
                continue;
            }
            let r = self.data.layout().chunk_ref(index, self.segment).to_u64();
            if conn.submission.push(r, &mut hc).is_ok() && pc.mark_out(index) {
                self.add_ref(index);
            }
        }
        pc.set_head_cache(hc);
    }

    fn add_ref(&self, index: u32) {
        if let Some(rc) = self.data.refcount(index) {
            rc.store(rc.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
        }
    }

    /// Drops one reference to a chunk; frees it at zero.
    fn unref(&self, index: u32) {
        if let Some(rc) = self.data.refcount(index) {
            let n = rc.load(Ordering::Relaxed);
            if n <= 1 {
                rc.store(0, Ordering::Relaxed);
                let _ = self.data.pool().release(index);
            } else {
                rc.store(n - 1, Ordering::Relaxed);
            }
        }
    }

    /// Takes back what a subscriber returned on one connection.
    fn reclaim(&self, pc: &PubConn<'_>, conn: &ConnView<'_>) {
        if pc.is_corrupt() {
            return;
        }
        let mut tc = pc.tail_cache();
        loop {
            match conn.completion.pop(&mut tc, false) {
                Ok(Some(v)) => {
                    let index = self.data.layout().chunk_index(RelPtr::from_u64(v), self.segment);
                    match index {
                        Some(i) if pc.mark_back(i) => self.unref(i),
                        _ => {
                            pc.set_corrupt(true);
                            break;
                        }
                    }
                }
                Ok(None) => break,
                Err(_) => {
                    pc.set_corrupt(true);
                    break;
                }
            }
        }
        pc.set_tail_cache(tc);
    }

    fn reclaim_all(&self) {
        for s in 0..self.data.layout().connections {
            if let (Some(pc), Some(conn)) = (self.data.conn(s), self.core.view.connection(self.slot, s)) {
                if pc.connected() != 0 {
                    self.reclaim(&pc, &conn);
                }
            }
        }
    }

    /// Takes a chunk for a payload of `len` elements.
    pub(crate) fn allocate(&self, len: usize) -> Result<u32, LoanError> {
        if len > self.data.layout().capacity as usize {
            return Err(LoanError::ExceedsMaxLoanSize);
        }
        if self.loaned.get() >= self.max_loaned {
            return Err(LoanError::ExceedsMaxLoans);
        }
        self.update_connections();
        let pool = self.data.pool();
        let index = match pool.allocate(self.hint.get()) {
            Some(i) => i,
            None => {
                self.reclaim_all();
                pool.allocate(0).ok_or(LoanError::OutOfMemory)?
            }
        };
        self.hint.set((index / 32) as usize);
        if let Some(rc) = self.data.refcount(index) {
            rc.store(0, Ordering::Relaxed);
        }
        if let Some(h) = self.data.chunk_header(index) {
            h.set(len as u32, self.port_id);
        }
        self.loaned.set(self.loaned.get() + 1);
        Ok(index)
    }

    /// The chunk's user header and payload pointers.
    pub(crate) fn chunk_parts(&self, index: u32) -> (*mut H, *mut T::Element) {
        let base = self.data.chunk_ptr(index).unwrap_or(core::ptr::null_mut());
        let l = self.data.layout();
        // SAFETY: both offsets lie within the chunk (the layout was computed
        // for these types), and the chunk lies within the mapping.
        unsafe { (base.add(l.user_header_off).cast(), base.add(l.payload_off).cast()) }
    }

    /// Gives back an unsent loan.
    pub(crate) fn discard(&self, index: u32) {
        let _ = self.data.pool().release(index);
        self.loaned.set(self.loaned.get().saturating_sub(1));
    }

    /// Sends chunk `index` to every connected subscriber; returns how many.
    pub(crate) fn deliver(&self, index: u32) -> Result<usize, SendError> {
        self.loaned.set(self.loaned.get().saturating_sub(1));
        self.update_connections();
        let view = &self.core.view;
        let cfg = &self.core.config;
        let r = self.data.layout().chunk_ref(index, self.segment).to_u64();
        let mut delivered = 0usize;
        let mut refs = 0u32;
        let mut corrupted = false;
        for s in 0..self.data.layout().connections {
            let Some(pc) = self.data.conn(s) else { continue };
            if pc.connected() == 0 || pc.is_corrupt() {
                continue;
            }
            let Some(conn) = view.connection(self.slot, s) else { continue };
            if pc.in_flight() >= cfg.subscriber_max_buffer_size {
                self.reclaim(&pc, &conn);
            }
            let mut hc = pc.head_cache();
            let pushed = if cfg.enable_safe_overflow {
                match conn.submission.push_overflowing(r, &mut hc) {
                    Ok(displaced) => {
                        if let Some(d) = displaced {
                            match self.data.layout().chunk_index(RelPtr::from_u64(d), self.segment) {
                                Some(i) if pc.mark_back(i) => self.unref(i),
                                _ => pc.set_corrupt(true),
                            }
                        }
                        true
                    }
                    Err(_) => false,
                }
            } else {
                self.push_with_backpressure(s, &pc, &conn, r, &mut hc)
            };
            pc.set_head_cache(hc);
            if pushed && pc.mark_out(index) {
                refs += 1;
                delivered += 1;
            }
            corrupted |= pc.is_corrupt();
        }
        let depth = self.data.layout().history;
        if depth > 0 {
            let hist = self.data.history();
            let count = hist[0].load(Ordering::Relaxed).min(depth);
            let next = hist[1].load(Ordering::Relaxed) % depth;
            if count == depth {
                let old = hist[2 + next as usize].load(Ordering::Relaxed);
                self.unref(old);
            } else {
                hist[0].store(count + 1, Ordering::Relaxed);
            }
            hist[2 + next as usize].store(index, Ordering::Relaxed);
            hist[1].store((next + 1) % depth, Ordering::Relaxed);
            refs += 1;
        }
        if let Some(rc) = self.data.refcount(index) {
            rc.store(refs, Ordering::Relaxed);
        }
        if refs == 0 {
            let _ = self.data.pool().release(index);
        }
        if corrupted {
            Err(SendError::ConnectionCorrupted { delivered })
        } else {
            Ok(delivered)
        }
    }

    fn push_with_backpressure(&self, s: u32, pc: &PubConn<'_>, conn: &ConnView<'_>, r: u64, hc: &mut u32) -> bool {
        let mut spins = 0u32;
        loop {
            match conn.submission.push(r, hc) {
                Ok(()) => return true,
                Err(PushError::Corrupt(_)) => {
                    pc.set_corrupt(true);
                    return false;
                }
                Err(PushError::Full(_)) => {
                    if self.backpressure == BackpressureStrategy::DiscardData {
                        return false;
                    }
                    self.reclaim(pc, conn);
                    // Give up on a subscriber that is gone.
                    let alive = self
                        .core
                        .view
                        .subscriber(s)
                        .map(|sub| split_state(sub.state()))
                        .is_some_and(|(g, st)| st == status::ACTIVE && g == pc.connected());
                    if !alive || pc.is_corrupt() {
                        return false;
                    }
                    spins = spins.saturating_add(1);
                    if spins < 64 {
                        core::hint::spin_loop();
                    } else {
                        let _ = P::sleep(Duration::from_micros(10));
                    }
                }
            }
        }
    }
}

fn split_gens(w: u32) -> (u16, u16) {
    ((w >> 16) as u16, w as u16)
}

impl<'s, P: Platform, T: ZeroCopySend, H: ZeroCopySend> Publisher<'s, P, T, H> {
    /// Loans an uninitialized sample (the chunk is not zeroed; the user
    /// header is). No allocation, no system call.
    pub fn loan_uninit(&self) -> Result<SampleMutUninit<'_, P, T, H>, LoanError> {
        let index = self.allocate(1)?;
        Ok(SampleMutUninit::new(Loan::new(self, index, 1)))
    }

    /// Loans a sample initialized with `T::default()`.
    pub fn loan(&self) -> Result<SampleMut<'_, P, T, H>, LoanError>
    where
        T: Default,
    {
        Ok(self.loan_uninit()?.write_payload(T::default()))
    }

    /// Copies `value` into a loan and sends it; returns the receivers reached.
    pub fn send_copy(&self, value: T) -> Result<usize, SendError> {
        self.loan_uninit()?.write_payload(value).send()
    }
}

impl<'s, P: Platform, E: ZeroCopySend, H: ZeroCopySend> Publisher<'s, P, [E], H> {
    /// Loans an uninitialized slice of `len` elements (at most
    /// [`max_slice_len`](Self::max_slice_len), else
    /// [`LoanError::ExceedsMaxLoanSize`]).
    pub fn loan_slice_uninit(&self, len: usize) -> Result<SampleMutUninit<'_, P, [E], H>, LoanError> {
        let index = self.allocate(len)?;
        Ok(SampleMutUninit::new(Loan::new(self, index, len)))
    }

    /// Loans a slice of `len` elements, each `E::default()`.
    pub fn loan_slice(&self, len: usize) -> Result<SampleMut<'_, P, [E], H>, LoanError>
    where
        E: Default,
    {
        Ok(self.loan_slice_uninit(len)?.write_from_fn(|_| E::default()))
    }

    /// Copies `values` into a loan and sends it.
    pub fn send_slice_copy(&self, values: &[E]) -> Result<usize, SendError>
    where
        E: Copy,
    {
        self.loan_slice_uninit(values.len())?.write_from_slice(values).send()
    }
}

impl<P: Platform, T: Payload + ?Sized, H: ZeroCopySend> Drop for Publisher<'_, P, T, H> {
    fn drop(&mut self) {
        let view = &self.core.view;
        if let Some(slot) = view.publisher(self.slot) {
            let st = slot.state();
            if split_state(st).0 == self.gen {
                slot.set_field(1, crate::shm::service::NO_OWNER);
                slot.release(st);
            }
        }
        view.bump_epoch();
        // Subscribers keep their own mappings of what they still hold.
        let _ = P::shm_unlink(&self.data_name);
    }
}

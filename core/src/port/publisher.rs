//! The publisher: owns a data segment, loans chunks, sends references.

use super::sample::{Loan, SampleMut, SampleMutUninit};
use super::{AllocationStrategy, BackpressureStrategy, LoanError, PublisherCreateError, SendError};
use crate::config::{MAX_SEGMENTS_PER_PORT, MAX_SUBSCRIBERS};
use crate::name::ShmName;
use crate::platform::{Platform, SharedMemory, ShmError};
use crate::service::publish_subscribe::PublishSubscribe;
use crate::service::{data_segment_name, ServiceCore};
use crate::shm::data::{DataIdentity, DataLayout, DataSizing, DataView};
use crate::shm::header::Header;
use crate::shm::queue::PushError;
use crate::shm::relptr::RelPtr;
use crate::shm::service::{conn_word, split_state, status, ConnView, KIND_DATA};
use crate::shm::Region;
use crate::sync::Ordering;
use crate::zero_copy::{Payload, ZeroCopySend};
use core::cell::{Cell, RefCell};
use core::marker::PhantomData;
use core::time::Duration;

/// Default loans a publisher may have out at once: 2.
pub const DEFAULT_MAX_LOANED_SAMPLES: u32 = 2;

/// Configures a [`Publisher`].
pub struct PublisherBuilder<'s, P: Platform, T: Payload + ?Sized, H: ZeroCopySend> {
    service: &'s PublishSubscribe<P, T, H>,
    max_loaned: u32,
    backpressure: BackpressureStrategy,
    initial_max_slice_len: u32,
    max_slice_len: u32,
    strategy: AllocationStrategy,
    preallocation: Option<u32>,
}

impl<'s, P: Platform, T: Payload + ?Sized, H: ZeroCopySend> PublisherBuilder<'s, P, T, H> {
    pub(crate) fn new(service: &'s PublishSubscribe<P, T, H>) -> Self {
        Self {
            service,
            max_loaned: DEFAULT_MAX_LOANED_SAMPLES,
            backpressure: BackpressureStrategy::default(),
            initial_max_slice_len: 1,
            max_slice_len: service.core.config.max_slice_len,
            strategy: AllocationStrategy::Static,
            preallocation: None,
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

    /// For slice payloads: the slice length the first data segment is sized
    /// for (a hint, default 1). With [`AllocationStrategy::Static`] it is
    /// also the longest loan.
    pub fn initial_max_slice_len(mut self, n: u32) -> Self {
        self.initial_max_slice_len = n;
        self
    }

    /// For slice payloads: how the data segment grows when a loan needs more
    /// (default [`AllocationStrategy::Static`]: it does not).
    pub fn allocation_strategy(mut self, s: AllocationStrategy) -> Self {
        self.strategy = s;
        self
    }

    /// For slice payloads: the hard ceiling growth never passes, in elements
    /// (default and upper bound: the service's `max_slice_len`, itself by
    /// default [`DEFAULT_MAX_SLICE_LEN`](super::DEFAULT_MAX_SLICE_LEN)). A longer loan fails with
    /// [`LoanError::ExceedsMaxLoanSize`] whatever the strategy.
    pub fn max_slice_len(mut self, n: u32) -> Self {
        self.max_slice_len = n.min(self.service.core.config.max_slice_len);
        self
    }

    /// Sizes the pool with fewer chunks than the worst case the QoS implies
    /// (`f` gets the worst case and returns the count, clamped to
    /// `1..=worst`). Saves memory on small targets; a loan may then fail
    /// with [`LoanError::OutOfMemory`] while receivers hold many samples.
    pub fn override_sample_preallocation(mut self, f: impl FnOnce(u32) -> u32) -> Self {
        let worst = data_sizing(&self.service.core.config, self.max_loaned, 1).map_or(1, |s| s.chunk_count);
        self.preallocation = Some(f(worst).clamp(1, worst));
        self
    }

    fn capacity(&self) -> u32 {
        if T::IS_SLICE {
            self.initial_max_slice_len.min(self.max_slice_len.max(1))
        } else {
            1
        }
    }

    fn sizing(&self, capacity: u32) -> Result<DataSizing, PublisherCreateError> {
        if self.max_loaned == 0 || self.initial_max_slice_len == 0 || self.max_slice_len == 0 {
            return Err(PublisherCreateError::InvalidConfig);
        }
        let mut sizing = data_sizing(&self.service.core.config, self.max_loaned, capacity)?;
        if let Some(n) = self.preallocation {
            sizing.chunk_count = n.min(sizing.chunk_count);
        }
        Ok(sizing)
    }

    /// The size in bytes of the data segment this publisher creates first:
    /// `max_subscribers × (buffer + borrowed) + history + max_loaned` chunks
    /// of `initial_max_slice_len` elements.
    pub fn footprint(&self) -> Result<usize, PublisherCreateError> {
        DataLayout::new(self.sizing(self.capacity())?)
            .map(|l| l.size)
            .map_err(|_| PublisherCreateError::DataSegmentTooLarge)
    }

    /// The most shared memory this publisher can hold at once: up to
    /// [`MAX_SEGMENTS_PER_PORT`] segments sized for `max_slice_len` (for a
    /// `Static` strategy, just the first segment). `None` if that exceeds
    /// the per-segment limit of 4 GiB.
    pub fn worst_case_footprint(&self) -> Option<usize> {
        if !T::IS_SLICE || self.strategy == AllocationStrategy::Static {
            return self.footprint().ok();
        }
        let top = DataLayout::new(self.sizing(self.max_slice_len).ok()?).ok()?.size;
        top.checked_mul(MAX_SEGMENTS_PER_PORT)
    }

    /// Creates the publisher: takes a publisher slot, creates its first data
    /// segment (one system call to create, one to map).
    pub fn create(self) -> Result<Publisher<'s, P, T, H>, PublisherCreateError> {
        let core = &self.service.core;
        let capacity = self.capacity();
        let layout = DataLayout::new(self.sizing(capacity)?).map_err(|_| PublisherCreateError::DataSegmentTooLarge)?;
        let (slot_index, gen) = (0..core.config.max_publishers)
            .find_map(|i| Some((i, core.view.publisher(i)?.try_claim()?)))
            .ok_or(PublisherCreateError::ExceedsMaxSupportedPublishers)?;
        let slot = core.view.publisher(slot_index).ok_or(PublisherCreateError::ExceedsMaxSupportedPublishers)?;
        let port_id = crate::node::unique_id::<P>(core.liveness, core.node_id ^ u64::from(slot_index));
        // Segment ids count up from a value unique to this port (a full
        // 32-bit counter: it does not come round in any port's life).
        let first_id = (port_id as u32) ^ ((port_id >> 32) as u32);
        let segment = match Segment::<P>::create(core, port_id, first_id, layout) {
            Ok(s) => s,
            Err(e) => {
                slot.release(slot.state());
                return Err(PublisherCreateError::UnableToCreateDataSegment(e));
            }
        };
        slot.set_port(core.node_slot, port_id);
        slot.set_field(crate::service::FIELD_OLDEST_SEGMENT, first_id);
        slot.set_field(crate::service::FIELD_NEXT_SEGMENT, first_id.wrapping_add(1));
        slot.activate(gen);
        core.view.bump_epoch();
        let mut segs: [Option<Segment<P>>; MAX_SEGMENTS_PER_PORT] = core::array::from_fn(|_| None);
        segs[0] = Some(segment);
        let publisher = Publisher {
            core,
            slot: slot_index,
            gen,
            port_id,
            segs: RefCell::new(segs),
            current: Cell::new(0),
            next_id: Cell::new(first_id.wrapping_add(1)),
            conns: RefCell::new([ConnLocal::default(); MAX_SUBSCRIBERS]),
            max_loaned: self.max_loaned,
            loaned: Cell::new(0),
            backpressure: self.backpressure,
            strategy: if T::IS_SLICE { self.strategy } else { AllocationStrategy::Static },
            max_slice_len: if T::IS_SLICE { self.max_slice_len.max(capacity) } else { 1 },
            max_chunks_cfg: self.max_loaned,
            preallocation: self.preallocation,
            seen_epoch: Cell::new(core.view.epoch().load(Ordering::Acquire).wrapping_sub(1)),
            hint: Cell::new(0),
            growths: Cell::new(0),
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

/// One data segment of a publisher; unlinked when dropped (subscribers keep
/// their own mappings of what they still hold).
struct Segment<P: Platform> {
    id: u32,
    view: DataView,
    _shm: P::Shm,
    name: ShmName,
}

impl<P: Platform> Segment<P> {
    fn create(core: &ServiceCore<P>, port_id: u64, id: u32, layout: DataLayout) -> Result<Self, ShmError> {
        let name = data_segment_name(&core.prefix, core.hash, port_id, id);
        let shm = P::shm_create(&name, layout.size, core.permissions)?;
        // SAFETY: the mapping is valid for its length while `shm` lives; the
        // segment owns both and they are dropped together.
        let region = unsafe { Region::new(shm.as_ptr(), shm.len()) };
        let fail = |e| {
            let _ = P::shm_unlink(&name);
            e
        };
        let view = DataView::new(region, layout).ok_or_else(|| fail(ShmError::InvalidSize))?;
        let header = Header::new(region.words(0, crate::shm::header::HEADER_WORDS))
            .ok_or_else(|| fail(ShmError::InvalidSize))?;
        header.begin(core.liveness);
        view.write_info(DataIdentity { service_hash: core.hash, port_id, segment: id });
        header.publish(KIND_DATA, layout.size as u64);
        Ok(Self { id, view, _shm: shm, name })
    }
}

impl<P: Platform> Drop for Segment<P> {
    fn drop(&mut self) {
        let _ = P::shm_unlink(&self.name);
    }
}

/// The publisher's process-local state of one connection.
#[derive(Debug, Clone, Copy, Default)]
struct ConnLocal {
    /// Subscriber generation connected to (0 = none).
    connected: u16,
    corrupt: bool,
    /// Chunks out on this connection, over all segments.
    in_flight: u32,
    head_cache: u32,
    tail_cache: u32,
}

/// Counts of a publisher's chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ChunkStats {
    /// Chunks in all live data segments.
    pub total: u32,
    /// Chunks free for loaning now.
    pub free: u32,
    /// Data segments alive (more than one while a grown port's old chunks
    /// are still out).
    pub segments: u32,
}

/// Sends samples of `T` (with user header `H`) to every subscriber of a
/// service. Not `Sync`: one thread uses a publisher at a time.
pub struct Publisher<'s, P: Platform, T: Payload + ?Sized, H: ZeroCopySend> {
    core: &'s ServiceCore<P>,
    slot: u32,
    gen: u16,
    port_id: u64,
    segs: RefCell<[Option<Segment<P>>; MAX_SEGMENTS_PER_PORT]>,
    current: Cell<usize>,
    next_id: Cell<u32>,
    conns: RefCell<[ConnLocal; MAX_SUBSCRIBERS]>,
    max_loaned: u32,
    loaned: Cell<u32>,
    backpressure: BackpressureStrategy,
    strategy: AllocationStrategy,
    max_slice_len: u32,
    max_chunks_cfg: u32,
    preallocation: Option<u32>,
    seen_epoch: Cell<u32>,
    hint: Cell<usize>,
    growths: Cell<u64>,
    _t: crate::zero_copy::TypeMarker<T, H>,
}

type Segs<P> = [Option<Segment<P>>; MAX_SEGMENTS_PER_PORT];

fn seg_of<P: Platform>(segs: &Segs<P>, id: u32) -> Option<&Segment<P>> {
    segs.iter().flatten().find(|s| s.id == id)
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

    /// For slices: the longest slice the current data segment holds
    /// (growing strategies raise it up to [`max_slice_len`](Self::max_slice_len)).
    pub fn current_max_slice_len(&self) -> u32 {
        let segs = self.segs.borrow();
        segs[self.current.get()].as_ref().map_or(0, |s| s.view.layout().capacity)
    }

    /// For slices: the hard ceiling on a loan's length; 1 for fixed payloads.
    pub fn max_slice_len(&self) -> u32 {
        self.max_slice_len
    }

    /// How many times the data segment grew.
    pub fn number_of_growths(&self) -> u64 {
        self.growths.get()
    }

    /// Bytes of the live data segments.
    pub fn footprint(&self) -> usize {
        self.segs.borrow().iter().flatten().map(|s| s.view.layout().size).sum()
    }

    /// Total and free chunks, after taking back everything receivers have
    /// returned (and everything of subscribers that are gone).
    pub fn chunk_stats(&self) -> ChunkStats {
        self.update_connections();
        self.reclaim_all();
        self.retire_unused();
        let segs = self.segs.borrow();
        let live = segs.iter().flatten();
        ChunkStats {
            total: live.clone().map(|s| s.view.pool().capacity()).sum(),
            free: live.clone().map(|s| s.view.pool().free_count()).sum(),
            segments: live.count() as u32,
        }
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
        let segs = self.segs.borrow();
        let mut conns = self.conns.borrow_mut();
        let mut changed = false;
        for s in 0..self.core.config.max_subscribers.min(MAX_SUBSCRIBERS as u32) {
            let (Some(sub), Some(conn)) = (view.subscriber(s), view.connection(self.slot, s)) else { continue };
            let local = &mut conns[s as usize];
            let (g, st) = split_state(sub.state());
            let active = st == status::ACTIVE;
            if local.connected != 0 && (!active || g != local.connected) {
                for seg in segs.iter().flatten() {
                    if let Some(pc) = seg.view.conn(s) {
                        pc.drain_out(|i| unref(seg, i));
                    }
                }
                *local = ConnLocal::default();
                conn.pub_word.store(0, Ordering::Release);
            }
            if active && local.connected == 0 {
                let (sg, pg) = split_gens(conn.sub_word.load(Ordering::Acquire));
                if sg == g && pg != 0 {
                    // That subscriber still reads from an earlier publisher
                    // in this slot; connect once it lets go.
                    continue;
                }
                conn.submission.reset();
                conn.completion.reset();
                for seg in segs.iter().flatten() {
                    if let Some(pc) = seg.view.conn(s) {
                        pc.reset();
                    }
                }
                *local = ConnLocal { connected: g, ..ConnLocal::default() };
                conn.pub_word.store(conn_word(self.gen, g), Ordering::Release);
                self.deliver_history(&segs, s, local, &conn);
                changed = true;
            }
        }
        if changed {
            view.bump_epoch();
        }
    }

    fn history_ring<'a>(&self, segs: &'a Segs<P>) -> Option<&'a [crate::sync::AtomicU32]> {
        let depth = self.core.config.history_size;
        if depth == 0 {
            return None;
        }
        segs[self.current.get()].as_ref().map(|s| s.view.history())
    }

    fn deliver_history(&self, segs: &Segs<P>, s: u32, local: &mut ConnLocal, conn: &ConnView<'_>) {
        let Some(hist) = self.history_ring(segs) else { return };
        let depth = self.core.config.history_size;
        let count = hist[0].load(Ordering::Relaxed).min(depth);
        let next = hist[1].load(Ordering::Relaxed) % depth;
        let skip = count.saturating_sub(conn.submission.capacity());
        for k in skip..count {
            let pos = ((next + depth - count + k) % depth) as usize;
            let r = crate::sync::load_u64(&hist[2 + 2 * pos], &hist[3 + 2 * pos]);
            let rp = RelPtr::from_u64(r);
            let Some(seg) = seg_of(segs, rp.segment) else { continue };
            let Some(index) = seg.view.layout().chunk_index(rp, seg.id) else { continue };
            if !seg.view.pool().is_allocated(index) {
                continue;
            }
            let Some(pc) = seg.view.conn(s) else { continue };
            if conn.submission.push(r, &mut local.head_cache).is_ok() && pc.mark_out(index) {
                local.in_flight += 1;
                add_ref(seg, index);
            }
        }
    }

    /// Takes back what a subscriber returned on one connection.
    fn reclaim(&self, segs: &Segs<P>, s: u32, local: &mut ConnLocal, conn: &ConnView<'_>) {
        if local.corrupt {
            return;
        }
        loop {
            match conn.completion.pop(&mut local.tail_cache, false) {
                Ok(Some(v)) => {
                    if !take_back(segs, s, v) {
                        local.corrupt = true;
                        break;
                    }
                    local.in_flight = local.in_flight.saturating_sub(1);
                }
                Ok(None) => break,
                Err(_) => {
                    local.corrupt = true;
                    break;
                }
            }
        }
    }

    fn reclaim_all(&self) {
        let segs = self.segs.borrow();
        let mut conns = self.conns.borrow_mut();
        for s in 0..self.core.config.max_subscribers.min(MAX_SUBSCRIBERS as u32) {
            let local = &mut conns[s as usize];
            if local.connected != 0 {
                if let Some(conn) = self.core.view.connection(self.slot, s) {
                    self.reclaim(&segs, s, local, &conn);
                }
            }
        }
    }

    /// Drops old segments none of whose chunks are out any more.
    fn retire_unused(&self) {
        let mut segs = self.segs.borrow_mut();
        let current = self.current.get();
        let mut retired = false;
        for (i, seg) in segs.iter_mut().enumerate() {
            if i != current && seg.as_ref().is_some_and(|s| s.view.pool().free_count() == s.view.pool().capacity()) {
                *seg = None;
                retired = true;
            }
        }
        if retired {
            self.record_segment_range(&segs);
        }
    }

    /// Writes the range of possibly live segment ids into the port slot, so
    /// that a cleaner can unlink them all if this process dies.
    fn record_segment_range(&self, segs: &Segs<P>) {
        let next = self.next_id.get();
        let oldest = segs.iter().flatten().map(|s| s.id).max_by_key(|id| next.wrapping_sub(*id)).unwrap_or(next);
        if let Some(slot) = self.core.view.publisher(self.slot) {
            // Oldest first: a cleaner reading a torn pair errs towards more.
            slot.set_field(crate::service::FIELD_OLDEST_SEGMENT, oldest);
            slot.set_field(crate::service::FIELD_NEXT_SEGMENT, next);
        }
    }

    /// Creates a segment of `capacity` elements and makes it current.
    fn grow(&self, capacity: u32) -> Result<(), LoanError> {
        self.reclaim_all();
        self.retire_unused();
        let mut segs = self.segs.borrow_mut();
        let free = segs.iter().position(Option::is_none).ok_or(LoanError::OutOfMemory)?;
        let mut sizing =
            data_sizing(&self.core.config, self.max_chunks_cfg, capacity).map_err(|_| LoanError::OutOfMemory)?;
        if let Some(n) = self.preallocation {
            sizing.chunk_count = n.min(sizing.chunk_count);
        }
        let layout = DataLayout::new(sizing).map_err(|_| LoanError::ExceedsMaxLoanSize)?;
        let id = self.next_id.get();
        let seg = Segment::<P>::create(self.core, self.port_id, id, layout).map_err(|_| LoanError::OutOfMemory)?;
        // The history ring moves to the new segment (its references keep
        // naming the chunks where they are).
        if let Some(old) = segs[self.current.get()].as_ref() {
            for (dst, src) in seg.view.history().iter().zip(old.view.history()) {
                dst.store(src.load(Ordering::Relaxed), Ordering::Relaxed);
            }
        }
        segs[free] = Some(seg);
        self.current.set(free);
        self.next_id.set(id.wrapping_add(1));
        self.record_segment_range(&segs);
        self.growths.set(self.growths.get() + 1);
        self.hint.set(0);
        Ok(())
    }

    /// Takes a chunk for a payload of `len` elements: (segment slot, index).
    pub(crate) fn allocate(&self, len: usize) -> Result<(usize, u32), LoanError> {
        let len32 = u32::try_from(len).map_err(|_| LoanError::ExceedsMaxLoanSize)?;
        if len32 > self.max_slice_len {
            return Err(LoanError::ExceedsMaxLoanSize);
        }
        if self.loaned.get() >= self.max_loaned {
            return Err(LoanError::ExceedsMaxLoans);
        }
        self.update_connections();
        let cap = self.current_max_slice_len();
        if len32 > cap {
            let target = self.strategy.grow_to(cap, len32, self.max_slice_len).ok_or(LoanError::ExceedsMaxLoanSize)?;
            self.grow(target)?;
        }
        let slot = self.current.get();
        let index = {
            let segs = self.segs.borrow();
            let seg = segs[slot].as_ref().ok_or(LoanError::OutOfMemory)?;
            seg.view.pool().allocate(self.hint.get())
        };
        let index = match index {
            Some(i) => i,
            None => {
                self.reclaim_all();
                let segs = self.segs.borrow();
                let seg = segs[slot].as_ref().ok_or(LoanError::OutOfMemory)?;
                seg.view.pool().allocate(0).ok_or(LoanError::OutOfMemory)?
            }
        };
        self.hint.set((index / 32) as usize);
        let segs = self.segs.borrow();
        if let Some(seg) = segs[slot].as_ref() {
            if let Some(rc) = seg.view.refcount(index) {
                rc.store(0, Ordering::Relaxed);
            }
            if let Some(h) = seg.view.chunk_header(index) {
                h.set(len32, self.port_id);
            }
        }
        self.loaned.set(self.loaned.get() + 1);
        Ok((slot, index))
    }

    /// The chunk's user header and payload pointers.
    pub(crate) fn chunk_parts(&self, slot: usize, index: u32) -> (*mut H, *mut T::Element) {
        let segs = self.segs.borrow();
        let Some(seg) = segs.get(slot).and_then(Option::as_ref) else {
            return (core::ptr::null_mut(), core::ptr::null_mut());
        };
        let base = seg.view.chunk_ptr(index).unwrap_or(core::ptr::null_mut());
        let l = seg.view.layout();
        // SAFETY: both offsets lie within the chunk (the layout was computed
        // for these types), and the chunk lies within the mapping, which
        // stays mapped while the chunk is loaned (a segment with a loaned
        // chunk is never retired).
        unsafe { (base.add(l.user_header_off).cast(), base.add(l.payload_off).cast()) }
    }

    /// Gives back an unsent loan.
    pub(crate) fn discard(&self, slot: usize, index: u32) {
        if let Some(seg) = self.segs.borrow().get(slot).and_then(Option::as_ref) {
            let _ = seg.view.pool().release(index);
        }
        self.loaned.set(self.loaned.get().saturating_sub(1));
    }

    /// Sends chunk `index` of segment `slot` to every connected subscriber;
    /// returns how many.
    pub(crate) fn deliver(&self, slot: usize, index: u32) -> Result<usize, SendError> {
        self.loaned.set(self.loaned.get().saturating_sub(1));
        self.update_connections();
        let segs = self.segs.borrow();
        let Some(seg) = segs.get(slot).and_then(Option::as_ref) else { return Ok(0) };
        let view = &self.core.view;
        let cfg = &self.core.config;
        let r = seg.view.layout().chunk_ref(index, seg.id).to_u64();
        let mut delivered = 0usize;
        let mut refs = 0u32;
        let mut corrupted = false;
        let mut conns = self.conns.borrow_mut();
        for s in 0..cfg.max_subscribers.min(MAX_SUBSCRIBERS as u32) {
            let local = &mut conns[s as usize];
            if local.connected == 0 || local.corrupt {
                continue;
            }
            let (Some(conn), Some(pc)) = (view.connection(self.slot, s), seg.view.conn(s)) else { continue };
            if local.in_flight >= cfg.subscriber_max_buffer_size {
                self.reclaim(&segs, s, local, &conn);
            }
            let pushed = if cfg.enable_safe_overflow {
                match conn.submission.push_overflowing(r, &mut local.head_cache) {
                    Ok(displaced) => {
                        if let Some(d) = displaced {
                            if take_back(&segs, s, d) {
                                local.in_flight = local.in_flight.saturating_sub(1);
                            } else {
                                local.corrupt = true;
                            }
                        }
                        true
                    }
                    Err(_) => {
                        local.corrupt = true;
                        false
                    }
                }
            } else {
                self.push_with_backpressure(&segs, s, local, &conn, r)
            };
            if pushed && pc.mark_out(index) {
                local.in_flight += 1;
                refs += 1;
                delivered += 1;
            }
            corrupted |= local.corrupt;
        }
        drop(conns);
        if let Some(hist) = self.history_ring(&segs) {
            let depth = cfg.history_size;
            let count = hist[0].load(Ordering::Relaxed).min(depth);
            let next = (hist[1].load(Ordering::Relaxed) % depth) as usize;
            if count == depth {
                let old = RelPtr::from_u64(crate::sync::load_u64(&hist[2 + 2 * next], &hist[3 + 2 * next]));
                if let Some(os) = seg_of(&segs, old.segment) {
                    if let Some(i) = os.view.layout().chunk_index(old, os.id) {
                        unref(os, i);
                    }
                }
            } else {
                hist[0].store(count + 1, Ordering::Relaxed);
            }
            crate::sync::store_u64(&hist[2 + 2 * next], &hist[3 + 2 * next], r);
            hist[1].store(((next + 1) % depth as usize) as u32, Ordering::Relaxed);
            refs += 1;
        }
        if let Some(rc) = seg.view.refcount(index) {
            rc.store(refs, Ordering::Relaxed);
        }
        if refs == 0 {
            let _ = seg.view.pool().release(index);
        }
        if corrupted {
            Err(SendError::ConnectionCorrupted { delivered })
        } else {
            Ok(delivered)
        }
    }

    fn push_with_backpressure(
        &self,
        segs: &Segs<P>,
        s: u32,
        local: &mut ConnLocal,
        conn: &ConnView<'_>,
        r: u64,
    ) -> bool {
        let mut spins = 0u32;
        loop {
            match conn.submission.push(r, &mut local.head_cache) {
                Ok(()) => return true,
                Err(PushError::Corrupt(_)) => {
                    local.corrupt = true;
                    return false;
                }
                Err(PushError::Full(_)) => {
                    if self.backpressure == BackpressureStrategy::DiscardData {
                        return false;
                    }
                    self.reclaim(segs, s, local, conn);
                    // Give up on a subscriber that is gone.
                    let alive = self
                        .core
                        .view
                        .subscriber(s)
                        .map(|sub| split_state(sub.state()))
                        .is_some_and(|(g, st)| st == status::ACTIVE && g == local.connected);
                    if !alive || local.corrupt {
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

fn add_ref<P: Platform>(seg: &Segment<P>, index: u32) {
    if let Some(rc) = seg.view.refcount(index) {
        rc.store(rc.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
    }
}

/// Drops one reference to a chunk; frees it at zero.
fn unref<P: Platform>(seg: &Segment<P>, index: u32) {
    if let Some(rc) = seg.view.refcount(index) {
        let n = rc.load(Ordering::Relaxed);
        if n <= 1 {
            rc.store(0, Ordering::Relaxed);
            let _ = seg.view.pool().release(index);
        } else {
            rc.store(n - 1, Ordering::Relaxed);
        }
    }
}

/// A reference came back on connection `s`: checks it names a chunk that
/// was out there, and drops that reference. False for a peer's lie.
fn take_back<P: Platform>(segs: &Segs<P>, s: u32, v: u64) -> bool {
    let r = RelPtr::from_u64(v);
    let Some(seg) = seg_of(segs, r.segment) else { return false };
    let Some(index) = seg.view.layout().chunk_index(r, seg.id) else { return false };
    match seg.view.conn(s) {
        Some(pc) if pc.mark_back(index) => {
            unref(seg, index);
            true
        }
        _ => false,
    }
}

fn split_gens(w: u32) -> (u16, u16) {
    ((w >> 16) as u16, w as u16)
}

impl<'s, P: Platform, T: ZeroCopySend, H: ZeroCopySend> Publisher<'s, P, T, H> {
    /// Loans an uninitialized sample (the chunk is not zeroed; the user
    /// header is). No allocation, no system call.
    pub fn loan_uninit(&self) -> Result<SampleMutUninit<'_, P, T, H>, LoanError> {
        let (slot, index) = self.allocate(1)?;
        Ok(SampleMutUninit::new(Loan::new(self, slot, index, 1)))
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
    /// Loans an uninitialized slice of `len` elements. Past the current
    /// segment's length, a growing strategy makes a larger segment (a few
    /// system calls, once); past [`max_slice_len`](Self::max_slice_len), or
    /// past the current length with `Static`, it fails with
    /// [`LoanError::ExceedsMaxLoanSize`].
    pub fn loan_slice_uninit(&self, len: usize) -> Result<SampleMutUninit<'_, P, [E], H>, LoanError> {
        let (slot, index) = self.allocate(len)?;
        Ok(SampleMutUninit::new(Loan::new(self, slot, index, len)))
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
        // The segments unlink themselves as they drop.
    }
}

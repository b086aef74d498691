//! What every sending port shares (publishers now; clients and servers
//! next): its data segments and their growth, chunk loans, reference counts,
//! the per-connection record of chunks out, and taking chunks back.
//!
//! A pattern's port owns a [`Sender`] and decides whom to deliver to and
//! how connections are made; the sender does the bookkeeping.

use super::receiver::Link;
use super::{AllocationStrategy, LoanError};
use crate::config::{MAX_SEGMENTS_PER_PORT, MAX_SUBSCRIBERS};
use crate::name::data_segment_name;
use crate::name::ShmName;
use crate::platform::{Platform, ShmError};
use crate::service::ServiceCore;
use crate::shm::data::{DataIdentity, DataLayout, DataSizing, DataView};
use crate::shm::header::Header;
use crate::shm::queue::{PushError, Queue};
use crate::shm::relptr::RelPtr;
use crate::shm::service::{conn_word, split_state, status, ConnView, ServiceView, Slot, KIND_DATA};
use crate::shm::service::{FIELD_NEXT_SEGMENT, FIELD_OLDEST_SEGMENT};
use crate::shm::Region;
use crate::sync::{AtomicU32, Ordering};
use core::cell::{Cell, RefCell};

/// The most connections one sender serves.
pub(crate) const MAX_CONNECTIONS: usize = MAX_SUBSCRIBERS;

/// One data segment of a sending port; unlinked when dropped (subscribers keep
/// their own mappings of what they still hold).
pub(crate) struct Segment<P: Platform> {
    pub(crate) id: u32,
    pub(crate) view: DataView,
    _shm: P::Shm,
    name: ShmName,
}

impl<P: Platform> Segment<P> {
    fn create(core: &ServiceCore<P>, port_id: u64, id: u32, layout: DataLayout) -> Result<Self, ShmError> {
        let name = data_segment_name(&core.prefix, core.hash, port_id, id);
        let shm = P::shm_create(&name, layout.size, core.permissions)?;
        crate::crash::crash_point!("sender.segment.created");
        // The segment owns both the mapping and its view, dropped together.
        let region = Region::of(&shm);
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

impl<P: Platform> Drop for Sender<'_, P> {
    fn drop(&mut self) {
        // Leaving: receivers treat the port as gone, and a cleaner finishes
        // if this process dies before the slot is free. Then the segments
        // are unlinked (receivers keep their mappings), and only then the
        // slot freed, so that no kill in between leaves a segment nobody
        // knows of.
        let slot = (self.wiring.slot_of)(&self.core.view, self.wiring.slot);
        if let Some(slot) = slot {
            slot.begin_leave(self.gen);
        }
        self.core.view.bump_epoch();
        crate::crash::crash_point!("sender.drop.leaving");
        for seg in self.segs.get_mut().iter_mut() {
            *seg = None;
        }
        crate::crash::crash_point!("sender.drop.unlinked");
        if let Some(slot) = slot {
            slot.leave(self.gen);
        }
    }
}

impl ConnLocal {
    /// Marks the connection corrupt (a peer wrote garbage): it is no longer
    /// served, and the port counts it (`corrupt_connections`).
    #[cold]
    #[inline(never)]
    pub(crate) fn mark_corrupt(&mut self, c: u32, why: &'static str) {
        if !self.corrupt {
            crate::logging::log_warn!("icefloe: connection {} of a sending port marked corrupt: {}", c, why);
        }
        self.corrupt = true;
    }
}

/// The sender's process-local state of one connection.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ConnLocal {
    /// Peer generation connected to (0 = none).
    pub(crate) connected: u16,
    pub(crate) corrupt: bool,
    /// Chunks out on this connection, over all segments.
    pub(crate) in_flight: u32,
    pub(crate) head_cache: u32,
    pub(crate) tail_cache: u32,
    /// The receiver's submission-queue head, as it last reported it with a
    /// return (see the queue's hints).
    pub(crate) head_hint: u32,
}

pub(crate) type Segs<P> = [Option<Segment<P>>; MAX_SEGMENTS_PER_PORT];

pub(crate) fn seg_of<P: Platform>(segs: &Segs<P>, id: u32) -> Option<&Segment<P>> {
    segs.iter().flatten().find(|s| s.id == id)
}

pub(crate) fn add_ref<P: Platform>(seg: &Segment<P>, index: u32) {
    if let Some(rc) = seg.view.refcount(index) {
        rc.store(rc.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
    }
}

/// Drops one reference to a chunk; frees it at zero.
pub(crate) fn unref<P: Platform>(seg: &Segment<P>, index: u32) {
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
pub(crate) fn take_back<P: Platform>(segs: &Segs<P>, s: u32, v: u64) -> bool {
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

/// Where a sender finds its own port slot (to record its segment range) and
/// the completion queue of each of its connections.
pub(crate) struct Wiring {
    /// The sender's port slot in the service segment.
    pub(crate) slot_of: for<'a> fn(&'a ServiceView, u32) -> Option<Slot<'a>>,
    /// The completion queue of connection `c` of port slot `p`.
    pub(crate) completion_of: for<'a> fn(&'a ServiceView, u32, u32) -> Option<Queue<'a>>,
    /// The wake word of the receiver at the far end of connection `c`.
    pub(crate) waker_of: for<'a> fn(&'a ServiceView, u32) -> Option<crate::shm::event::Waker<'a>>,
    /// The sender's slot index.
    pub(crate) slot: u32,
    /// Connections served.
    pub(crate) connections: u32,
}

/// Why a sending port could not be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OpenError {
    /// Every slot of its table is taken.
    NoSlot,
    /// The OS refused the first data segment.
    Segment(ShmError),
}

/// A chunk being sent: its segment, index and packed reference.
pub(crate) struct Chunk<'a, P: Platform> {
    pub(crate) seg: &'a Segment<P>,
    pub(crate) index: u32,
    pub(crate) r: u64,
}

impl<P: Platform> Clone for Chunk<'_, P> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<P: Platform> Copy for Chunk<'_, P> {}

/// Outcome of offering a chunk to one connection's submission queue.
pub(crate) enum Offer {
    /// Queued; under safe overflow the chunk it displaced (already taken
    /// back; its header is still readable until the next loan).
    Pushed(Option<u64>),
    /// The queue is full (no safe overflow).
    Full,
    /// The queue or a returned reference was garbage; the connection is marked.
    Corrupt,
}

/// The sending half of a port. See the module docs.
pub(crate) struct Sender<'s, P: Platform> {
    pub(crate) core: &'s ServiceCore<P>,
    pub(crate) port_id: u64,
    /// The generation of the port's slot.
    pub(crate) gen: u16,
    wiring: Wiring,
    /// Each connection's completion queue, located once.
    completions: [Option<Queue<'s>>; MAX_CONNECTIONS],
    /// Each connection's receiver's wake word, located once.
    wakers: [Option<crate::shm::event::Waker<'s>>; MAX_CONNECTIONS],
    base: DataSizing,
    pub(crate) segs: RefCell<Segs<P>>,
    current: Cell<usize>,
    next_id: Cell<u32>,
    growths: Cell<u64>,
    pub(crate) conns: RefCell<[ConnLocal; MAX_CONNECTIONS]>,
    /// Connected receivers (so that a broadcast stops after the last).
    connected: Cell<u32>,
    max_loaned: u32,
    loaned: Cell<u32>,
    strategy: AllocationStrategy,
    max_slice_len: u32,
    hint: Cell<usize>,
}

impl<'s, P: Platform> Sender<'s, P> {
    /// Creates the first data segment (sized by `base`) and records its id
    /// range in the port slot.
    #[allow(clippy::too_many_arguments)] // the port's identity, sizing and growth
    fn create(
        core: &'s ServiceCore<P>,
        port_id: u64,
        gen: u16,
        wiring: Wiring,
        base: DataSizing,
        max_loaned: u32,
        strategy: AllocationStrategy,
        max_slice_len: u32,
    ) -> Result<Self, ShmError> {
        let layout = DataLayout::new(base).map_err(|_| ShmError::InvalidSize)?;
        // Segment ids count up from a value unique to this port (a full
        // 32-bit counter: it does not come round in any port's life).
        let first_id = (port_id as u32) ^ ((port_id >> 32) as u32);
        // The slot names the port and the id range before the segment
        // exists, so that a cleaner finds it whenever this process dies.
        if let Some(slot) = (wiring.slot_of)(&core.view, wiring.slot) {
            slot.set_port(core.node_slot, port_id);
            slot.set_field(FIELD_OLDEST_SEGMENT, first_id);
            slot.set_field(FIELD_NEXT_SEGMENT, first_id.wrapping_add(1));
        }
        crate::crash::crash_point!("sender.open.recorded");
        let first = Segment::<P>::create(core, port_id, first_id, layout)?;
        let mut segs: Segs<P> = core::array::from_fn(|_| None);
        segs[0] = Some(first);
        let completions = core::array::from_fn(|c| {
            (c < wiring.connections as usize)
                .then(|| (wiring.completion_of)(&core.view, wiring.slot, c as u32))
                .flatten()
        });
        let wakers = core::array::from_fn(|c| {
            (c < wiring.connections as usize).then(|| (wiring.waker_of)(&core.view, c as u32)).flatten()
        });
        let sender = Self {
            core,
            port_id,
            gen,
            completions,
            wakers,
            wiring,
            base,
            segs: RefCell::new(segs),
            current: Cell::new(0),
            next_id: Cell::new(first_id.wrapping_add(1)),
            growths: Cell::new(0),
            conns: RefCell::new([ConnLocal::default(); MAX_CONNECTIONS]),
            connected: Cell::new(0),
            max_loaned,
            loaned: Cell::new(0),
            strategy,
            max_slice_len,
            hint: Cell::new(0),
        };
        Ok(sender)
    }

    /// Opens a sending port: claims a free slot among the first `slots` of
    /// `wiring`'s table (its `slot` is set here), creates the first data
    /// segment, and publishes the slot (owner, port id, active) with an
    /// epoch bump. The sender leaves the slot when dropped.
    #[allow(clippy::too_many_arguments)] // the port's sizing and growth, each needed
    pub(crate) fn open(
        core: &'s ServiceCore<P>,
        mut wiring: Wiring,
        slots: u32,
        base: DataSizing,
        max_loaned: u32,
        strategy: AllocationStrategy,
        max_slice_len: u32,
    ) -> Result<Self, OpenError> {
        let table = wiring.slot_of;
        let (index, gen) = (0..slots)
            .find_map(|i| Some((i, table(&core.view, i)?.try_claim_for(core.node_slot)?)))
            .ok_or(OpenError::NoSlot)?;
        let slot = table(&core.view, index).ok_or(OpenError::NoSlot)?;
        crate::crash::crash_point!("sender.open.claimed");
        wiring.slot = index;
        let port_id = crate::name::unique_id::<P>(core.liveness, core.node_id ^ u64::from(index));
        let sender =
            Self::create(core, port_id, gen, wiring, base, max_loaned, strategy, max_slice_len).map_err(|e| {
                slot.release(slot.state());
                OpenError::Segment(e)
            })?;
        slot.activate(gen);
        core.view.bump_epoch();
        Ok(sender)
    }

    /// The port's slot index in its table.
    pub(crate) fn slot(&self) -> u32 {
        self.wiring.slot
    }

    /// Wakes the receiver of connection `c` if it sleeps (no system call
    /// otherwise), after something was queued for it.
    pub(crate) fn wake(&self, c: u32) {
        crate::signal::wake::<P>(self.wakers.get(c as usize).copied().flatten());
    }

    /// Connections served (bounded by [`MAX_CONNECTIONS`]).
    pub(crate) fn connections(&self) -> u32 {
        self.wiring.connections.min(MAX_CONNECTIONS as u32)
    }

    /// Loans that may be out at once.
    pub(crate) fn max_loaned(&self) -> u32 {
        self.max_loaned
    }

    /// Connections marked corrupt (no longer served).
    pub(crate) fn corrupt_connections(&self) -> u32 {
        self.conns.borrow().iter().filter(|c| c.corrupt).count() as u32
    }

    /// The slice length the current segment holds.
    pub(crate) fn current_capacity(&self) -> u32 {
        let segs = self.segs.borrow();
        segs[self.current.get()].as_ref().map_or(0, |s| s.view.layout().capacity)
    }

    /// The hard ceiling on a loan's length.
    pub(crate) fn max_slice_len(&self) -> u32 {
        self.max_slice_len
    }

    /// How many times the data segment grew.
    pub(crate) fn growths(&self) -> u64 {
        self.growths.get()
    }

    /// Bytes of the live data segments.
    pub(crate) fn footprint(&self) -> usize {
        self.segs.borrow().iter().flatten().map(|s| s.view.layout().size).sum()
    }

    /// Chunk counts, after taking back everything returned and retiring
    /// unused segments.
    pub(crate) fn stats(&self) -> super::publisher::ChunkStats {
        self.reclaim_all();
        self.retire_unused();
        let segs = self.segs.borrow();
        let live = segs.iter().flatten();
        super::publisher::ChunkStats {
            total: live.clone().map(|s| s.view.pool().capacity()).sum(),
            free: live.clone().map(|s| s.view.pool().free_count()).sum(),
            segments: live.count() as u32,
        }
    }

    /// The history ring of the current segment, if the port keeps history.
    pub(crate) fn history<'a>(&self, segs: &'a Segs<P>) -> Option<&'a [AtomicU32]> {
        if self.base.history == 0 {
            return None;
        }
        segs[self.current.get()].as_ref().map(|s| s.view.history())
    }

    /// Takes back what the receiver of connection `c` returned.
    pub(crate) fn reclaim(&self, segs: &Segs<P>, c: u32, local: &mut ConnLocal) {
        if local.corrupt {
            return;
        }
        let Some(completion) = self.completions.get(c as usize).and_then(Option::as_ref) else { return };
        // Read with the returns, on the line they came on.
        local.head_hint = completion.hint();
        loop {
            match completion.pop(&mut local.tail_cache, false) {
                Ok(Some(v)) => {
                    if !take_back(segs, c, v) {
                        local.mark_corrupt(c, "a returned reference names no chunk out on it");
                        break;
                    }
                    local.in_flight = local.in_flight.saturating_sub(1);
                }
                Ok(None) => break,
                Err(_) => {
                    local.mark_corrupt(c, "its completion queue is garbage");
                    break;
                }
            }
        }
    }

    /// Takes back what every connected receiver returned.
    pub(crate) fn reclaim_all(&self) {
        let segs = self.segs.borrow();
        let mut conns = self.conns.borrow_mut();
        for c in 0..self.connections() {
            let local = &mut conns[c as usize];
            if local.connected != 0 {
                self.reclaim(&segs, c, local);
            }
        }
    }

    /// Takes back every chunk out on connection `c` (its receiver is gone)
    /// and forgets the connection.
    pub(crate) fn disconnect(&self, segs: &Segs<P>, c: u32, local: &mut ConnLocal) {
        for seg in segs.iter().flatten() {
            if let Some(pc) = seg.view.conn(c) {
                pc.drain_out(|i| unref(seg, i));
            }
        }
        *local = ConnLocal::default();
    }

    /// Brings connection `c` in line with its receiver's slot: lets go of a
    /// receiver that left (taking back all it held) and connects to a new
    /// one once it no longer reads from an earlier sender in our slot
    /// (`reset` empties the connection's queues first). `own` is our
    /// generation.
    #[allow(clippy::too_many_arguments)] // the connection's parts, each needed
    pub(crate) fn sync_link(
        &self,
        segs: &Segs<P>,
        c: u32,
        local: &mut ConnLocal,
        receiver: Slot<'_>,
        words: (&AtomicU32, &AtomicU32),
        own: u16,
        reset: impl FnOnce(),
    ) -> Link {
        let (pub_word, sub_word) = words;
        let (g, st) = split_state(receiver.state());
        let active = st == status::ACTIVE;
        let mut link = Link::Unchanged;
        if local.connected != 0 && (!active || g != local.connected) {
            self.disconnect(segs, c, local);
            pub_word.store(0, Ordering::Release);
            link = Link::Released;
        }
        if active && local.connected == 0 {
            let w = sub_word.load(Ordering::Acquire);
            if (w >> 16) as u16 == g && w as u16 != 0 {
                // That receiver still reads from an earlier sender in this
                // slot; connect once it lets go.
                return link;
            }
            reset();
            self.connect(segs, c, local, g);
            pub_word.store(conn_word(own, g), Ordering::Release);
            link = Link::Connected;
        }
        link
    }

    /// [`sync_link`](Self::sync_link) for every connection of a sender whose
    /// receivers sit in the subscriber table (subscribers, or servers for a
    /// client's requests), `links` holding each connection; `on_connect`
    /// runs for each new one. True if any connected (the caller bumps the
    /// epoch so that the receivers see it).
    pub(crate) fn sync_links(
        &self,
        links: &[Option<ConnView<'_>>],
        mut on_connect: impl FnMut(&Segs<P>, u32, &mut ConnLocal, &ConnView<'_>),
    ) -> bool {
        let view = &self.core.view;
        let segs = self.segs.borrow();
        let mut conns = self.conns.borrow_mut();
        let mut changed = false;
        for c in 0..self.connections() {
            let (Some(receiver), Some(conn)) = (view.receiver(c), links.get(c as usize).copied().flatten()) else {
                continue;
            };
            let reset = || {
                conn.submission.reset();
                conn.completion.reset();
            };
            let local = &mut conns[c as usize];
            let words = (conn.pub_word, conn.sub_word);
            if self.sync_link(&segs, c, local, receiver, words, self.gen, reset) == Link::Connected {
                on_connect(&segs, c, local, &conn);
                changed = true;
            }
        }
        self.connected.set(conns.iter().filter(|c| c.connected != 0).count() as u32);
        changed
    }

    /// Offers `chunk` to every connected receiver of `links` (as in
    /// [`sync_links`](Self::sync_links)), under the service's overflow and
    /// the port's backpressure (the caller commits, then calls
    /// [`reclaim_busy`](Self::reclaim_busy)); `pushed(c, generation,
    /// displaced)` runs for each receiver reached. Returns (receivers
    /// reached, whether a connection turned out corrupt).
    #[allow(clippy::too_many_arguments)] // the send's parts, each needed
    pub(crate) fn broadcast(
        &self,
        segs: &Segs<P>,
        chunk: Chunk<'_, P>,
        links: &[Option<ConnView<'_>>],
        overflow: bool,
        backpressure: &super::Backpressure,
        mut pushed: impl FnMut(u32, u16, Option<u64>),
    ) -> (u32, bool) {
        let view = &self.core.view;
        let mut delivered = 0u32;
        let mut corrupted = false;
        let mut conns = self.conns.borrow_mut();
        self.each_connected(&mut conns, |c, local| {
            if local.corrupt {
                return;
            }
            let Some(conn) = links.get(c as usize).and_then(Option::as_ref) else { return };
            let wanted = |local: &ConnLocal| {
                view.receiver(c)
                    .map(|r| split_state(r.state()))
                    .is_some_and(|(g, st)| st == status::ACTIVE && g == local.connected)
            };
            let offer = self.offer_with_backpressure(
                segs,
                chunk,
                c,
                local,
                &conn.submission,
                None,
                overflow,
                backpressure,
                wanted,
                || view.receiver(c).map_or(0, |r| r.port_id()),
            );
            if let Offer::Pushed(displaced) = offer {
                delivered += 1;
                pushed(c, local.connected, displaced);
                self.wake(c);
            }
            corrupted |= local.corrupt;
        });
        (delivered, corrupted)
    }

    /// After a send is committed: takes back what came back on every
    /// connection with `buffer` chunks out. Done after the send rather than
    /// before it, so that reading what the receivers returned (lines they
    /// wrote) stays off the send's path; never between the pushes and the
    /// commit, as the chunk just sent may already have come back. Returns
    /// whether a connection turned out corrupt.
    pub(crate) fn reclaim_busy(&self, segs: &Segs<P>, buffer: u32) -> bool {
        let mut conns = self.conns.borrow_mut();
        let mut corrupted = false;
        self.each_connected(&mut conns, |c, local| {
            if local.in_flight >= buffer && !local.corrupt {
                self.reclaim(segs, c, local);
                corrupted |= local.corrupt;
            }
        });
        corrupted
    }

    /// Runs `f` on each connection with a receiver, in order, with its
    /// index; stops after the last one (so that a send to one receiver does
    /// not walk every slot).
    #[inline]
    fn each_connected(&self, conns: &mut [ConnLocal; MAX_CONNECTIONS], mut f: impl FnMut(u32, &mut ConnLocal)) {
        let mut remaining = self.connected.get();
        for c in 0..self.connections() {
            if remaining == 0 {
                break;
            }
            let local = &mut conns[c as usize];
            if local.connected != 0 {
                remaining -= 1;
                f(c, local);
            }
        }
    }

    /// Starts connection `c` afresh, connected to receiver generation `g`.
    pub(crate) fn connect(&self, segs: &Segs<P>, c: u32, local: &mut ConnLocal, g: u16) {
        for seg in segs.iter().flatten() {
            if let Some(pc) = seg.view.conn(c) {
                pc.reset();
            }
        }
        *local = ConnLocal { connected: g, ..ConnLocal::default() };
    }

    /// Drops old segments none of whose chunks are out any more.
    pub(crate) fn retire_unused(&self) {
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
        if let Some(slot) = (self.wiring.slot_of)(&self.core.view, self.wiring.slot) {
            slot.set_field(FIELD_OLDEST_SEGMENT, oldest);
            slot.set_field(FIELD_NEXT_SEGMENT, next);
        }
    }

    /// Creates a segment of `capacity` elements and makes it current.
    fn grow(&self, capacity: u32) -> Result<(), LoanError> {
        self.reclaim_all();
        self.retire_unused();
        let mut segs = self.segs.borrow_mut();
        let free = segs.iter().position(Option::is_none).ok_or(LoanError::OutOfMemory)?;
        let layout =
            DataLayout::new(DataSizing { capacity, ..self.base }).map_err(|_| LoanError::ExceedsMaxLoanSize)?;
        let id = self.next_id.get();
        // The new id enters the recorded range before its segment exists
        // (a cleaner unlinks the whole range); an id whose segment could not
        // be made is simply skipped.
        self.next_id.set(id.wrapping_add(1));
        self.record_segment_range(&segs);
        crate::crash::crash_point!("sender.grow.recorded");
        let seg = Segment::<P>::create(self.core, self.port_id, id, layout).map_err(|_| LoanError::OutOfMemory)?;
        crate::crash::crash_point!("sender.grow.created");
        // The history ring moves to the new segment (its references keep
        // naming the chunks where they are).
        if let Some(old) = segs[self.current.get()].as_ref() {
            for (dst, src) in seg.view.history().iter().zip(old.view.history()) {
                dst.store(src.load(Ordering::Relaxed), Ordering::Relaxed);
            }
        }
        // (The range recorded above already covers it: it is the newest.)
        segs[free] = Some(seg);
        self.current.set(free);
        self.growths.set(self.growths.get() + 1);
        self.hint.set(0);
        Ok(())
    }

    /// Takes a chunk for a payload of `len` elements, growing if the
    /// strategy allows: (segment slot, chunk index). The chunk header is
    /// written (length, origin).
    pub(crate) fn allocate(&self, len: usize) -> Result<(usize, u32), LoanError> {
        let len32 = u32::try_from(len).map_err(|_| LoanError::ExceedsMaxLoanSize)?;
        if len32 > self.max_slice_len {
            return Err(LoanError::ExceedsMaxLoanSize);
        }
        if self.loaned.get() >= self.max_loaned {
            return Err(LoanError::ExceedsMaxLoans);
        }
        let cap = self.current_capacity();
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

    /// The chunk's first byte and the user-header and payload offsets in it.
    pub(crate) fn chunk(&self, slot: usize, index: u32) -> (*mut u8, *mut u8) {
        let segs = self.segs.borrow();
        let parts = segs.get(slot).and_then(Option::as_ref).and_then(|seg| seg.view.chunk_parts(index));
        parts.unwrap_or((core::ptr::null_mut(), core::ptr::null_mut()))
    }

    /// Gives back an unsent loan.
    pub(crate) fn discard(&self, slot: usize, index: u32) {
        if let Some(seg) = self.segs.borrow().get(slot).and_then(Option::as_ref) {
            let _ = seg.view.pool().release(index);
        }
        self.loaned.set(self.loaned.get().saturating_sub(1));
    }

    /// A loan is being sent: it no longer counts against `max_loaned`.
    pub(crate) fn loan_sent(&self) {
        self.loaned.set(self.loaned.get().saturating_sub(1));
    }

    /// Offers `chunk` to connection `c`'s submission queue (with its cached
    /// `head`: the connection's own, or the one given for connections with
    /// several submission queues); records it as out there when queued.
    /// Under safe overflow a displaced chunk is taken back at once.
    #[allow(clippy::too_many_arguments)] // the connection's parts, each needed
    pub(crate) fn offer(
        &self,
        segs: &Segs<P>,
        chunk: Chunk<'_, P>,
        c: u32,
        local: &mut ConnLocal,
        submission: &Queue<'_>,
        head_cache: Option<&mut u32>,
        overflow: bool,
    ) -> Offer {
        let Chunk { seg, index, r } = chunk;
        let cache = match head_cache {
            Some(h) => h,
            None => {
                // A one-queue connection: what the receiver reported spares
                // reading its head line when the short queue looks full.
                submission.learn_head(local.head_hint, &mut local.head_cache);
                &mut local.head_cache
            }
        };
        // Our head of the returns, for the receiver's pushes back.
        if let Some(completion) = self.completions.get(c as usize).and_then(Option::as_ref) {
            submission.set_hint(completion.head_value());
        }
        let pushed = if overflow {
            match submission.push_overflowing(r, cache) {
                Ok(displaced) => {
                    if let Some(d) = displaced {
                        if take_back(segs, c, d) {
                            local.in_flight = local.in_flight.saturating_sub(1);
                        } else {
                            local.mark_corrupt(c, "a displaced reference names no chunk out on it");
                        }
                    }
                    Ok(displaced)
                }
                Err(e) => Err(e),
            }
        } else {
            submission.push(r, cache).map(|()| None)
        };
        match pushed {
            Ok(displaced) => {
                if seg.view.conn(c).is_some_and(|pc| pc.mark_out(index)) {
                    local.in_flight += 1;
                }
                Offer::Pushed(displaced)
            }
            Err(PushError::Full(_)) => Offer::Full,
            Err(PushError::Corrupt(_)) => {
                local.mark_corrupt(c, "its submission queue is garbage");
                Offer::Corrupt
            }
        }
    }

    /// Offers `chunk` to connection `c` until it is queued or the
    /// backpressure strategy gives up: with `RetryUntilDelivered`, a full
    /// queue is retried (taking back what came back, spinning, then sleeping
    /// briefly) for as long as `wanted` says the receiver is still there.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn offer_with_backpressure(
        &self,
        segs: &Segs<P>,
        chunk: Chunk<'_, P>,
        c: u32,
        local: &mut ConnLocal,
        submission: &Queue<'_>,
        mut head_cache: Option<&mut u32>,
        overflow: bool,
        backpressure: &super::Backpressure,
        wanted: impl Fn(&ConnLocal) -> bool,
        receiver_id: impl Fn() -> u64,
    ) -> Offer {
        match self.offer(segs, chunk, c, local, submission, head_cache.as_deref_mut(), overflow) {
            Offer::Full if backpressure.strategy == super::BackpressureStrategy::RetryUntilDelivered => {
                let queue = (submission, head_cache, overflow);
                self.retry_until_delivered(segs, chunk, c, local, queue, backpressure, wanted, receiver_id)
            }
            other => other,
        }
    }

    /// [`offer_with_backpressure`](Self::offer_with_backpressure) once the
    /// queue was full: waits (spinning, then sleeping briefly) until the
    /// receiver makes room, goes away, or has kept it full for the port's
    /// bound (then asks the handler, or gives up on it for this payload).
    #[cold]
    #[inline(never)]
    #[allow(clippy::too_many_arguments)] // the offer's parts, each needed
    fn retry_until_delivered(
        &self,
        segs: &Segs<P>,
        chunk: Chunk<'_, P>,
        c: u32,
        local: &mut ConnLocal,
        (submission, mut head_cache, overflow): (&Queue<'_>, Option<&mut u32>, bool),
        backpressure: &super::Backpressure,
        wanted: impl Fn(&ConnLocal) -> bool,
        receiver_id: impl Fn() -> u64,
    ) -> Offer {
        let mut spins = 0u32;
        // With a bound: since when this receiver has been full, and the
        // next point at which to ask (or give up).
        let mut full_since = None;
        let limit = backpressure.limit();
        let mut ask_at = limit;
        loop {
            self.reclaim(segs, c, local);
            if !wanted(local) || local.corrupt {
                return Offer::Full;
            }
            spins = spins.saturating_add(1);
            if spins < 64 {
                core::hint::spin_loop();
            } else {
                let _ = P::sleep(core::time::Duration::from_micros(10));
                if let (Some(limit), Some(at)) = (limit, ask_at) {
                    let now = P::now();
                    let waited = now.saturating_sub(*full_since.get_or_insert(now));
                    if waited >= at {
                        let info = super::UnableToDeliverInfo { receiver_id: receiver_id(), waited };
                        let discard = super::UnableToDeliverAction::DiscardSample;
                        match backpressure.handler.map_or(discard, |h| h(&info)) {
                            super::UnableToDeliverAction::Retry => ask_at = Some(at.saturating_add(limit)),
                            super::UnableToDeliverAction::DiscardSample => {
                                crate::logging::log_warn!(
                                    "icefloe: receiver {:x} kept its queue full for {} ms: payload not delivered to it",
                                    info.receiver_id,
                                    waited.as_millis() as u64
                                );
                                return Offer::Full;
                            }
                        }
                    }
                }
            }
            match self.offer(segs, chunk, c, local, submission, head_cache.as_deref_mut(), overflow) {
                Offer::Full => {}
                other => return other,
            }
        }
    }

    /// After offering: the chunk is referenced `refs` times (connections and
    /// history); freed at once if by none.
    pub(crate) fn commit(&self, seg: &Segment<P>, index: u32, refs: u32) {
        if let Some(rc) = seg.view.refcount(index) {
            rc.store(refs, Ordering::Relaxed);
        }
        if refs == 0 {
            let _ = seg.view.pool().release(index);
        }
    }

    /// Puts reference `r` into the history ring (evicting the oldest);
    /// returns whether it holds a reference now.
    pub(crate) fn remember(&self, segs: &Segs<P>, r: u64) -> bool {
        let Some(hist) = self.history(segs) else { return false };
        let depth = self.base.history;
        let count = hist[0].load(Ordering::Relaxed).min(depth);
        let next = (hist[1].load(Ordering::Relaxed) % depth) as usize;
        if count == depth {
            let old = RelPtr::from_u64(crate::sync::load_u64(&hist[2 + 2 * next], &hist[3 + 2 * next]));
            if let Some(os) = seg_of(segs, old.segment) {
                if let Some(i) = os.view.layout().chunk_index(old, os.id) {
                    unref(os, i);
                }
            }
        } else {
            hist[0].store(count + 1, Ordering::Relaxed);
        }
        crate::sync::store_u64(&hist[2 + 2 * next], &hist[3 + 2 * next], r);
        hist[1].store(((next + 1) % depth as usize) as u32, Ordering::Relaxed);
        true
    }

    /// The history ring's references, oldest first (at most `limit`, the newest).
    pub(crate) fn remembered(&self, segs: &Segs<P>, limit: u32, mut f: impl FnMut(u64)) {
        let Some(hist) = self.history(segs) else { return };
        let depth = self.base.history;
        let count = hist[0].load(Ordering::Relaxed).min(depth);
        let next = hist[1].load(Ordering::Relaxed) % depth;
        for k in count.saturating_sub(limit)..count {
            let pos = ((next + depth - count + k) % depth) as usize;
            f(crate::sync::load_u64(&hist[2 + 2 * pos], &hist[3 + 2 * pos]));
        }
    }
}

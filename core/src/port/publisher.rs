//! The publisher: owns a data segment, loans chunks, sends references.

use super::sender::{add_ref, seg_of, Chunk, Offer, OpenError, Sender, Wiring};
use super::{LoanError, PublisherCreateError, SendError, SliceSettings};
use crate::chunk::{sealed, ChunkMut, ChunkMutUninit, Loan};
use crate::config::MAX_SUBSCRIBERS;
use crate::handle::{Anchored, Handle};
use crate::platform::Platform;
use crate::service::publish_subscribe::PublishSubscribe;
use crate::service::ServiceCore;
use crate::shm::data::{DataLayout, DataSizing};
use crate::shm::relptr::RelPtr;
use crate::shm::service::ConnView;
use crate::sync::Ordering;
use crate::zero_copy::{Payload, ZeroCopySend};
use core::cell::Cell;
use core::marker::PhantomData;

/// Default loans a publisher may have out at once: 2.
pub const DEFAULT_MAX_LOANED_SAMPLES: u32 = 2;

/// Configures a [`Publisher`].
///
/// `S` is how the publisher will hold its service: `&PublishSubscribe` from
/// [`PublishSubscribe::publisher_builder`], or an owning handle (see
/// [`handle`](crate::handle)) passed to [`PublisherBuilder::new`].
pub struct PublisherBuilder<
    P: Platform,
    T: Payload + ?Sized,
    H: ZeroCopySend,
    S: Handle<Target = PublishSubscribe<P, T, H>>,
> {
    service: S,
    max_loaned: u32,
    backpressure: super::Backpressure,
    slices: SliceSettings,
}

impl<P: Platform, T: Payload + ?Sized, H: ZeroCopySend, S: Handle<Target = PublishSubscribe<P, T, H>>>
    PublisherBuilder<P, T, H, S>
{
    /// A builder for a publisher that holds its service through `service`
    /// (a borrow, or an owning handle that keeps the service alive).
    pub fn new(service: S) -> Self {
        let slices = SliceSettings::new(service.core.config.max_slice_len, service.core.config.payload_is_slice());
        Self { service, max_loaned: DEFAULT_MAX_LOANED_SAMPLES, backpressure: super::Backpressure::default(), slices }
    }

    /// Loans that may be out at once (default [`DEFAULT_MAX_LOANED_SAMPLES`]).
    pub fn max_loaned_samples(mut self, n: u32) -> Self {
        self.max_loaned = n;
        self
    }

    backpressure_setters!("subscriber");

    slice_setters!("samples", "max_slice_len");

    /// Sizes the pool with fewer chunks than the worst case the QoS implies
    /// (`f` gets the worst case and returns the count, clamped to
    /// `1..=worst`). Saves memory on small targets; a loan may then fail
    /// with [`LoanError::OutOfMemory`] while receivers hold many samples.
    pub fn override_sample_preallocation(mut self, f: impl FnOnce(u32) -> u32) -> Self {
        let worst = data_sizing(&self.service.core.config, self.max_loaned, 1).map_or(1, |s| s.chunk_count);
        self.slices.preallocation = Some(f(worst).clamp(1, worst));
        self
    }

    fn sizing(&self, capacity: u32) -> Result<DataSizing, PublisherCreateError> {
        if self.max_loaned == 0 || !self.slices.valid() {
            return Err(PublisherCreateError::InvalidConfig);
        }
        Ok(self.slices.preallocate(data_sizing(&self.service.core.config, self.max_loaned, capacity)?))
    }

    /// The size in bytes of the data segment this publisher creates first:
    /// `max_subscribers × (buffer + borrowed) + history + max_loaned` chunks
    /// of `initial_max_slice_len` elements.
    pub fn footprint(&self) -> Result<usize, PublisherCreateError> {
        DataLayout::new(self.sizing(self.slices.capacity())?)
            .map(|l| l.size)
            .map_err(|_| PublisherCreateError::DataSegmentTooLarge)
    }

    /// The most shared memory this publisher can hold at once: up to
    /// [`MAX_SEGMENTS_PER_PORT`](crate::config::MAX_SEGMENTS_PER_PORT) segments sized for `max_slice_len` (for a
    /// `Static` strategy, just the first segment). `None` if that exceeds
    /// the per-segment limit of 4 GiB.
    pub fn worst_case_footprint(&self) -> Option<usize> {
        self.slices.worst_case(|cap| Some(DataLayout::new(self.sizing(cap).ok()?).ok()?.size))
    }

    /// Creates the publisher: takes a publisher slot, creates its first data
    /// segment (one system call to create, one to map).
    pub fn create(self) -> Result<Publisher<P, T, H, S>, PublisherCreateError> {
        let capacity = self.slices.capacity();
        let base = self.sizing(capacity)?;
        DataLayout::new(base).map_err(|_| PublisherCreateError::DataSegmentTooLarge)?;
        let (strategy, max_slice_len) = self.slices.growth();
        let (max_loaned, backpressure) = (self.max_loaned, self.backpressure);
        let a = Anchored::new(self.service, |service| {
            Self::parts(&service.core, base, max_loaned, backpressure, strategy, max_slice_len)
        })?;
        let publisher = Publisher { a, _t: PhantomData };
        publisher.update_connections();
        Ok(publisher)
    }

    fn parts(
        core: &ServiceCore<P>,
        base: DataSizing,
        max_loaned: u32,
        backpressure: super::Backpressure,
        strategy: crate::AllocationStrategy,
        max_slice_len: u32,
    ) -> Result<PublisherParts<'_, P>, PublisherCreateError> {
        let wiring = Wiring {
            slot_of: |view, p| view.sender(p),
            completion_of: |view, p, s| view.connection(p, s).map(|c| c.completion),
            waker_of: |view, s| view.receiver_waker(s),
            slot: 0,
            connections: core.config.max_subscribers,
        };
        let slots = core.config.max_publishers;
        let sender =
            Sender::open(core, wiring, slots, base, max_loaned, strategy, max_slice_len).map_err(|e| match e {
                OpenError::NoSlot => PublisherCreateError::ExceedsMaxSupportedPublishers,
                OpenError::Segment(e) => PublisherCreateError::UnableToCreateDataSegment(e),
            })?;
        let slot_index = sender.slot();
        let links = core::array::from_fn(|s| {
            (s < core.config.max_subscribers as usize).then(|| core.view.connection(slot_index, s as u32)).flatten()
        });
        Ok(PublisherParts {
            core,
            sender,
            links,
            backpressure,
            seen_epoch: Cell::new(core.view.epoch().load(Ordering::Acquire).wrapping_sub(1)),
        })
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
    /// Chunks in all live data segments.
    pub total: u32,
    /// Chunks free for loaning now.
    pub free: u32,
    /// Data segments alive (more than one while a grown port's old chunks
    /// are still out).
    pub segments: u32,
}

/// Sends samples of `T` (with user header `H`) to every subscriber of a
/// service, holding the service through `S` (see [`handle`](crate::handle)).
/// `Send` (with an owning or a `Sync` handle), not `Sync`: one thread uses a
/// publisher at a time, since loans and sends update its process-local
/// bookkeeping without a lock.
///
/// ```
/// # fn clock() -> core::time::Duration { core::time::Duration::ZERO }
/// # icefloe_core::bare_metal_platform!(Board, arena = 512 * 1024, segments = 16, clock = clock);
/// use icefloe_core::{NodeBuilder, ServiceName};
/// let node = NodeBuilder::<Board>::new().create().unwrap();
/// let service = node.service_builder(&ServiceName::new("temps").unwrap()).publish_subscribe::<f32>().create().unwrap();
/// let publisher = service.publisher_builder().max_loaned_samples(4).create().unwrap();
/// let _subscriber = service.subscriber_builder().create().unwrap();
/// let sample = publisher.loan_uninit().unwrap().write_payload(21.5);
/// assert_eq!(sample.send().unwrap(), 1); // subscribers reached
/// ```
pub struct Publisher<P: Platform, T: Payload + ?Sized, H: ZeroCopySend, S: Handle<Target = PublishSubscribe<P, T, H>>> {
    a: Anchored<S, PublisherFamily<P>>,
    _t: crate::zero_copy::TypeMarker<T, H>,
}

/// What a publisher keeps of its service, borrowing it for `'s`.
pub(crate) struct PublisherParts<'s, P: Platform> {
    core: &'s ServiceCore<P>,
    sender: Sender<'s, P>,
    /// The connections to each subscriber slot, located once.
    links: [Option<ConnView<'s>>; MAX_SUBSCRIBERS],
    backpressure: super::Backpressure,
    seen_epoch: Cell<u32>,
}

crate::handle::family!(PublisherFamily, PublisherParts);

impl<P: Platform, T: Payload + ?Sized, H: ZeroCopySend, S: Handle<Target = PublishSubscribe<P, T, H>>>
    Publisher<P, T, H, S>
{
    #[inline(always)]
    fn p(&self) -> &PublisherParts<'_, P> {
        self.a.parts()
    }

    /// This port's unique id (the `origin` of its samples).
    pub fn id(&self) -> u64 {
        self.p().sender.port_id
    }

    /// Loans that may be out at once.
    pub fn max_loaned_samples(&self) -> u32 {
        self.p().sender.max_loaned()
    }

    sender_accessors!("samples");

    /// Connections marked corrupt because a peer's memory lied (a queue,
    /// a reference or a segment that is garbage): each is no longer used
    /// until its peer goes, and each was reported once, by the error of
    /// the call that found it and a warning through the log shim. 0 in a
    /// healthy system; a monitor can watch it.
    pub fn corrupt_connections(&self) -> u32 {
        self.p().sender.corrupt_connections()
    }

    /// Total and free chunks, after taking back everything receivers have
    /// returned (and everything of subscribers that are gone).
    pub fn chunk_stats(&self) -> ChunkStats {
        self.update_connections();
        self.p().sender.stats()
    }

    /// Connects to new subscribers (delivering history) and lets go of
    /// departed ones (taking back every chunk they held). Runs on every
    /// loan and send; costs one load when nothing changed.
    pub fn update_connections(&self) {
        let view = &self.p().core.view;
        let epoch = view.epoch().load(Ordering::Acquire);
        if epoch == self.p().seen_epoch.get() {
            return;
        }
        self.p().seen_epoch.set(epoch);
        let connected = self.p().sender.sync_links(&self.p().links, |segs, s, local, conn| {
            // Late joiners get the history, as much as their queue holds
            // and they asked for.
            let asked = view.receiver(s).map_or(0, |r| r.field(crate::shm::service::FIELD_HISTORY_REQUEST));
            let limit = match asked {
                0 => conn.submission.capacity(),
                n => conn.submission.capacity().min(n - 1),
            };
            self.p().sender.remembered(segs, limit, |r| {
                let rp = RelPtr::from_u64(r);
                let Some(seg) = seg_of(segs, rp.segment) else { return };
                let Some(index) = seg.view.layout().chunk_index(rp, seg.id) else { return };
                let chunk = Chunk { seg, index, r };
                if seg.view.pool().is_allocated(index)
                    && matches!(
                        self.p().sender.offer(segs, chunk, s, local, &conn.submission, None, false),
                        Offer::Pushed(_)
                    )
                {
                    add_ref(seg, index);
                }
            });
        });
        if connected {
            view.bump_epoch();
        }
    }

    /// Takes a chunk for a payload of `len` elements: (segment slot, index).
    pub(crate) fn allocate(&self, len: usize) -> Result<(usize, u32), LoanError> {
        self.update_connections();
        self.p().sender.allocate(len)
    }

    /// The chunk's user header and payload pointers.
    pub(crate) fn chunk_parts(&self, slot: usize, index: u32) -> (*mut H, *mut T::Element) {
        let (header, payload) = self.p().sender.chunk(slot, index);
        (header.cast(), payload.cast())
    }

    /// Gives back an unsent loan.
    pub(crate) fn discard(&self, slot: usize, index: u32) {
        self.p().sender.discard(slot, index);
    }

    /// Sends chunk `index` of segment `slot` to every connected subscriber;
    /// returns how many.
    pub(crate) fn deliver(&self, slot: usize, index: u32) -> Result<usize, SendError> {
        self.p().sender.loan_sent();
        self.update_connections();
        let segs = self.p().sender.segs.borrow();
        let Some(seg) = segs.get(slot).and_then(Option::as_ref) else { return Ok(0) };
        let cfg = &self.p().core.config;
        let r = seg.view.layout().chunk_ref(index, seg.id).to_u64();
        let chunk = Chunk { seg, index, r };
        let buffer = cfg.subscriber_max_buffer_size;
        let (delivered, corrupted) = self.p().sender.broadcast(
            &segs,
            chunk,
            &self.p().links,
            cfg.enable_safe_overflow,
            &self.p().backpressure,
            |_, _, _| {},
        );
        let refs = delivered + u32::from(self.p().sender.remember(&segs, r));
        self.p().sender.commit(seg, index, refs);
        let corrupted = self.p().sender.reclaim_busy(&segs, buffer) | corrupted;
        if corrupted {
            Err(SendError::ConnectionCorrupted { delivered: delivered as usize })
        } else {
            Ok(delivered as usize)
        }
    }
}

impl<P: Platform, T: ZeroCopySend, H: ZeroCopySend, S: Handle<Target = PublishSubscribe<P, T, H>>>
    Publisher<P, T, H, S>
{
    /// Loans an uninitialized sample (the chunk is not zeroed; the user
    /// header is). No allocation, no system call.
    pub fn loan_uninit(&self) -> Result<SampleMutUninit<'_, P, T, H, S>, LoanError> {
        Self::loan_uninit_via(&self)
    }

    /// [`loan_uninit`](Self::loan_uninit) through a handle to this
    /// publisher: the loan holds a clone of `port` instead of borrowing
    /// (for owning handles, so that it has no lifetime).
    pub fn loan_uninit_via<L: Handle<Target = Self>>(port: &L) -> Result<ChunkMutUninit<L, T, H>, LoanError> {
        let (slot, index) = port.allocate(1)?;
        Ok(ChunkMutUninit::new(Loan::new(port.clone(), slot, index, 1)))
    }

    /// Loans a sample initialized with `T::default()`.
    pub fn loan(&self) -> Result<SampleMut<'_, P, T, H, S>, LoanError>
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

impl<P: Platform, E: ZeroCopySend, H: ZeroCopySend, S: Handle<Target = PublishSubscribe<P, [E], H>>>
    Publisher<P, [E], H, S>
{
    /// Loans an uninitialized slice of `len` elements. Past the current
    /// segment's length, a growing strategy makes a larger segment (a few
    /// system calls, once); past [`max_slice_len`](Self::max_slice_len), or
    /// past the current length with `Static`, it fails with
    /// [`LoanError::ExceedsMaxLoanSize`].
    pub fn loan_slice_uninit(&self, len: usize) -> Result<SampleMutUninit<'_, P, [E], H, S>, LoanError> {
        Self::loan_slice_uninit_via(&self, len)
    }

    /// [`loan_slice_uninit`](Self::loan_slice_uninit) through a handle to
    /// this publisher: the loan holds a clone of `port` instead of borrowing.
    pub fn loan_slice_uninit_via<L: Handle<Target = Self>>(
        port: &L,
        len: usize,
    ) -> Result<ChunkMutUninit<L, [E], H>, LoanError> {
        let (slot, index) = port.allocate(len)?;
        Ok(ChunkMutUninit::new(Loan::new(port.clone(), slot, index, len)))
    }

    /// Loans a slice of `len` elements, each `E::default()`.
    pub fn loan_slice(&self, len: usize) -> Result<SampleMut<'_, P, [E], H, S>, LoanError>
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

impl<P: Platform, T: Payload + ?Sized, H: ZeroCopySend> PublishSubscribe<P, T, H> {
    /// Starts building a publisher that borrows this service. (An owning
    /// handle's `publisher_builder`, as `icefloe-linux`'s, builds one that
    /// holds a clone of the handle instead.)
    pub fn publisher_builder(&self) -> PublisherBuilder<P, T, H, &Self> {
        PublisherBuilder::new(self)
    }
}

impl crate::service::publish_subscribe::Footprint {
    pub(crate) fn of(cfg: &crate::shm::service::StaticConfig) -> Result<Self, crate::service::ServiceCreateError> {
        let service_segment = crate::shm::service::ServiceLayout::of(cfg).size;
        let too_large = crate::service::ServiceCreateError::InvalidQos("data segment size");
        let sizing = data_sizing(cfg, DEFAULT_MAX_LOANED_SAMPLES, 1).map_err(|_| too_large)?;
        let data = crate::shm::data::DataLayout::new(sizing).map_err(|_| too_large)?.size;
        Ok(Self {
            service_segment,
            default_publisher_data_segment: data,
            worst_case_total: service_segment + cfg.max_publishers as usize * data,
        })
    }
}

/// A publisher's loaned sample, not yet written (borrowing the publisher).
pub type SampleMutUninit<'a, P, T, H, S> = ChunkMutUninit<&'a Publisher<P, T, H, S>, T, H>;
/// A publisher's loaned sample, written: [`send`](ChunkMut::send) it.
pub type SampleMut<'a, P, T, H, S> = ChunkMut<&'a Publisher<P, T, H, S>, T, H>;

impl<P: Platform, T: Payload + ?Sized, H: ZeroCopySend, S: Handle<Target = PublishSubscribe<P, T, H>>> sealed::Port
    for Publisher<P, T, H, S>
{
    fn parts(&self, slot: usize, index: u32) -> (*mut u8, *mut u8) {
        let (h, p) = self.chunk_parts(slot, index);
        (h.cast(), p.cast())
    }
    fn discard(&self, slot: usize, index: u32) {
        Publisher::discard(self, slot, index);
    }
    fn element_size(&self) -> usize {
        self.p().core.config.payload.size as usize
    }
    fn header_size(&self) -> usize {
        self.p().core.config.user_header.size as usize
    }
    type Sent<L>
        = usize
    where
        L: Handle<Target = Self>;
    type Error = SendError;
    #[inline(always)]
    fn send<L: Handle<Target = Self>>(port: L, slot: usize, index: u32) -> Result<usize, SendError> {
        port.deliver(slot, index)
    }
}

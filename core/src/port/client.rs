//! The client: sends requests to every connected server and receives, per
//! request, the stream of responses through a [`PendingResponse`].
//!
//! See [`request_response`](crate::service::request_response) for how
//! channels and tags keep the streams of several pending requests apart.

use super::receiver::{Expect, Link, RecvConn, Refusal};
use super::sender::{seg_of, Chunk, OpenError, Sender, Wiring};
use super::{ClientCreateError, LoanError, ReceiveError, RequestSendError, SendError, SliceSettings};
use crate::chunk::{sealed, ChunkMut, ChunkMutUninit, Held, Loan, SampleSource, Sent};
use crate::config::{MAX_ACTIVE_REQUESTS, MAX_PUBLISHERS};
use crate::handle::{Anchored, Handle};
use crate::platform::Platform;
use crate::service::request_response::RequestResponse;
use crate::service::ServiceCore;
use crate::shm::data::{DataLayout, DataSizing};
use crate::shm::relptr::RelPtr;
use crate::shm::service::{split_state, status, ConnView, ResponseConfig, ResponseConnView, StaticConfig};
use crate::sync::{AtomicU32, Ordering};
use crate::zero_copy::{Opaque, Payload, ZeroCopySend};
use core::cell::{Cell, RefCell};
use core::fmt;
use core::marker::PhantomData;
use core::ops::Deref;

/// A request's tag: its channel in the top 8 bits, a sequence number
/// (never 0) in the low 23; bit 23 is never set in a tag: in a listening
/// word it is the client's [`DISCONNECT_HINT`].
pub(crate) const fn make_tag(channel: u32, seq: u32) -> u32 {
    (channel << 24) | (seq & SEQ_MASK)
}

/// The sequence bits of a tag.
const SEQ_MASK: u32 = 0x7f_ffff;

/// In a listening word beside the tag: the client asked the servers to end
/// the response stream (`PendingResponse::set_disconnect_hint`).
pub(crate) const DISCONNECT_HINT: u32 = 1 << 23;

/// The channel a tag names.
pub(crate) const fn tag_channel(tag: u32) -> u32 {
    tag >> 24
}

/// A client's data segment: `max_servers × 2 × max_active_requests_per_client
/// + max_active_requests_per_client + max_loaned_requests` chunks of
/// `capacity` request elements (each pending response keeps its request).
pub(crate) fn request_sizing(c: &StaticConfig, capacity: u32) -> Result<DataSizing, ClientCreateError> {
    let (loans, active) =
        c.response.as_ref().map_or((1, 0), |r| (r.max_loaned_requests, r.max_active_requests_per_client));
    let mut sizing =
        super::publisher::data_sizing(c, loans, capacity).map_err(|_| ClientCreateError::DataSegmentTooLarge)?;
    sizing.chunk_count = sizing.chunk_count.checked_add(active).ok_or(ClientCreateError::DataSegmentTooLarge)?;
    Ok(sizing)
}

type Service<P, Req, Res, ReqH, ResH> = RequestResponse<P, Req, Res, ReqH, ResH>;

/// Configures a [`Client`] that will hold its service through `S` (a borrow,
/// or an owning handle: see [`handle`](crate::handle)).
pub struct ClientBuilder<
    P: Platform,
    Req: Payload + ?Sized,
    Res: Payload + ?Sized,
    ReqH: ZeroCopySend,
    ResH: ZeroCopySend,
    S: Handle<Target = Service<P, Req, Res, ReqH, ResH>>,
> {
    service: S,
    slices: SliceSettings,
    backpressure: super::Backpressure,
    max_active: Option<u32>,
}

impl<
        P: Platform,
        Req: Payload + ?Sized,
        Res: Payload + ?Sized,
        ReqH: ZeroCopySend,
        ResH: ZeroCopySend,
        S: Handle<Target = Service<P, Req, Res, ReqH, ResH>>,
    > ClientBuilder<P, Req, Res, ReqH, ResH, S>
{
    /// A builder for a client that holds its service through `service`.
    pub fn new(service: S) -> Self {
        let slices = SliceSettings::new(service.core.config.max_slice_len, service.core.config.payload_is_slice());
        Self { service, slices, backpressure: super::Backpressure::default(), max_active: None }
    }

    /// Requests this client may have pending at once, `1..=` the service's
    /// `max_active_requests_per_client` (default: the service's); a send past
    /// it fails with [`RequestSendError::ExceedsMaxActiveRequests`], and
    /// `create` fails with [`ClientCreateError::InvalidConfig`] outside the range.
    pub fn max_active_requests(mut self, n: u32) -> Self {
        self.max_active = Some(n);
        self
    }

    backpressure_setters!("server");

    slice_setters!("requests", "request_max_slice_len");

    /// Sizes the pool with fewer chunks than the worst case the QoS implies
    /// (`f` gets the worst case and returns the count, clamped to `1..=worst`).
    pub fn override_request_preallocation(mut self, f: impl FnOnce(u32) -> u32) -> Self {
        let worst = request_sizing(&self.service.core.config, 1).map_or(1, |s| s.chunk_count);
        self.slices.preallocation = Some(f(worst).clamp(1, worst));
        self
    }

    fn sizing(&self, capacity: u32) -> Result<DataSizing, ClientCreateError> {
        if !self.slices.valid() {
            return Err(ClientCreateError::InvalidConfig);
        }
        let sizing = request_sizing(&self.service.core.config, capacity)?;
        Ok(self.slices.preallocate(sizing))
    }

    /// The size in bytes of the data segment this client creates first.
    pub fn footprint(&self) -> Result<usize, ClientCreateError> {
        DataLayout::new(self.sizing(self.slices.capacity())?)
            .map(|l| l.size)
            .map_err(|_| ClientCreateError::DataSegmentTooLarge)
    }

    /// The most shared memory this client can hold at once (up to
    /// [`MAX_SEGMENTS_PER_PORT`](crate::config::MAX_SEGMENTS_PER_PORT) segments at `max_slice_len`); `None` past 4 GiB each.
    pub fn worst_case_footprint(&self) -> Option<usize> {
        self.slices.worst_case(|cap| Some(DataLayout::new(self.sizing(cap).ok()?).ok()?.size))
    }

    /// Creates the client: takes a client slot and creates its first data
    /// segment.
    pub fn create(self) -> Result<Client<P, Req, Res, ReqH, ResH, S>, ClientCreateError> {
        let service_max = self.service.response_config().max_active_requests_per_client;
        let max_active = self.max_active.unwrap_or(service_max);
        if !(1..=service_max).contains(&max_active) {
            return Err(ClientCreateError::InvalidConfig);
        }
        let capacity = self.slices.capacity();
        let base = self.sizing(capacity)?;
        DataLayout::new(base).map_err(|_| ClientCreateError::DataSegmentTooLarge)?;
        let (strategy, ceiling) = self.slices.growth();
        let backpressure = self.backpressure;
        let a = Anchored::new(self.service, |service| {
            Self::parts(service, base, strategy, ceiling, backpressure, max_active)
        })?;
        let client = Client { a, _t: PhantomData };
        client.update_connections();
        Ok(client)
    }

    fn parts(
        service: &Service<P, Req, Res, ReqH, ResH>,
        base: DataSizing,
        strategy: crate::AllocationStrategy,
        ceiling: u32,
        backpressure: super::Backpressure,
        max_active: u32,
    ) -> Result<ClientParts<'_, P>, ClientCreateError> {
        let core = &service.core;
        let response = service.response_config();
        let wiring = Wiring {
            slot_of: |view, p| view.sender(p),
            completion_of: |view, p, s| view.connection(p, s).map(|c| c.completion),
            waker_of: |view, s| view.receiver_waker(s),
            slot: 0,
            connections: core.config.max_servers(),
        };
        let loans = response.max_loaned_requests;
        let slots = core.config.max_clients();
        let sender = Sender::open(core, wiring, slots, base, loans, strategy, ceiling).map_err(|e| match e {
            OpenError::NoSlot => ClientCreateError::ExceedsMaxSupportedClients,
            OpenError::Segment(e) => ClientCreateError::UnableToCreateDataSegment(e),
        })?;
        let first_seq = (sender.port_id as u32) & SEQ_MASK;
        let slot_index = sender.slot();
        // A fresh client listens to nothing (a dead predecessor in this slot
        // may have left tags; its servers see a new generation anyway).
        let listening = core.view.listening(slot_index).unwrap_or(&[]);
        for w in listening {
            w.store(0, Ordering::Relaxed);
        }
        let servers = core.config.max_servers().min(MAX_PUBLISHERS as u32) as usize;
        Ok(ClientParts {
            core,
            response,
            sender,
            links: core::array::from_fn(|s| {
                (s < servers).then(|| core.view.connection(slot_index, s as u32)).flatten()
            }),
            rlinks: core::array::from_fn(|s| {
                (s < servers).then(|| core.view.response_connection(s as u32, slot_index)).flatten()
            }),
            recv: RefCell::new(core::array::from_fn(|_| RecvConn::default())),
            tails: RefCell::new([[0; MAX_ACTIVE_REQUESTS]; MAX_PUBLISHERS]),
            channels: RefCell::new([Channel::default(); MAX_ACTIVE_REQUESTS]),
            listening,
            // A client in a reused slot must not repeat its predecessor's
            // tags (servers' "stream ended" words still hold them): its
            // sequence starts where the port id, unique per client, says.
            seq: Cell::new(first_seq),
            backpressure,
            seen_epoch: Cell::new(core.view.epoch().load(Ordering::Acquire).wrapping_sub(1)),
            next: Cell::new(0),
            max_active,
        })
    }
}

/// A client's record of one channel (one pending request).
#[derive(Debug, Clone, Copy, Default)]
struct Channel {
    /// The pending request's tag; 0 when the channel is free.
    tag: u32,
    /// Per server slot: the generation of the server the request reached
    /// (0 = not reached, or displaced from its queue unseen).
    servers: [u16; MAX_PUBLISHERS],
    /// Responses of this channel the user holds.
    borrowed: u32,
    /// The request's chunk, referenced until the channel closes, so that
    /// the pending response can read what it sent: (segment slot, index,
    /// elements).
    request: Option<(usize, u32, usize)>,
}

/// Sends requests of `Req` and receives responses of `Res`, holding the
/// service through `S` (see [`handle`](crate::handle)). `Send` (with an
/// owning or a `Sync` handle), not `Sync`: sends and receives update its
/// process-local bookkeeping without a lock.
///
/// ```
/// # fn clock() -> core::time::Duration { core::time::Duration::ZERO }
/// # icefloe_core::bare_metal_platform!(Board, arena = 512 * 1024, segments = 16, clock = clock);
/// use icefloe_core::{NodeBuilder, RequestSendError, ServiceName};
/// let node = NodeBuilder::<Board>::new().create().unwrap();
/// let service = node
///     .service_builder(&ServiceName::new("lookup").unwrap())
///     .request_response::<u32, u32>()
///     .max_active_requests_per_client(1)
///     .create()
///     .unwrap();
/// let client = service.client_builder().create().unwrap();
/// let pending = client.send_copy(1).unwrap();
/// // One pending request at most: drop it (nobody listens any more) first.
/// assert_eq!(client.send_copy(2).err(), Some(RequestSendError::ExceedsMaxActiveRequests));
/// drop(pending);
/// assert!(client.send_copy(2).is_ok());
/// ```
pub struct Client<
    P: Platform,
    Req: Payload + ?Sized,
    Res: Payload + ?Sized,
    ReqH: ZeroCopySend,
    ResH: ZeroCopySend,
    S: Handle<Target = Service<P, Req, Res, ReqH, ResH>>,
> {
    a: Anchored<S, ClientFamily<P>>,
    _t: PhantomData<(crate::zero_copy::TypeMarker<Req, ReqH>, crate::zero_copy::TypeMarker<Res, ResH>)>,
}

/// What a client keeps of its service, borrowing it for `'s`.
pub(crate) struct ClientParts<'s, P: Platform> {
    core: &'s ServiceCore<P>,
    response: &'s ResponseConfig,
    sender: Sender<'s, P>,
    /// Request connections to each server slot.
    links: [Option<ConnView<'s>>; MAX_PUBLISHERS],
    /// Response connections from each server slot.
    rlinks: [Option<ResponseConnView<'s>>; MAX_PUBLISHERS],
    recv: RefCell<[RecvConn<P>; MAX_PUBLISHERS]>,
    /// Cached `tail` of each server's response queue per channel.
    tails: RefCell<[[u32; MAX_ACTIVE_REQUESTS]; MAX_PUBLISHERS]>,
    channels: RefCell<[Channel; MAX_ACTIVE_REQUESTS]>,
    listening: &'s [AtomicU32],
    seq: Cell<u32>,
    backpressure: super::Backpressure,
    seen_epoch: Cell<u32>,
    next: Cell<u32>,
    /// Requests this client may have pending at once (at most the service's).
    max_active: u32,
}

crate::handle::family!(ClientFamily, ClientParts);

/// A loaned request (borrowing its client), not yet written.
pub type RequestMutUninit<'a, P, Req, Res, ReqH, ResH, S> =
    ChunkMutUninit<&'a Client<P, Req, Res, ReqH, ResH, S>, Req, ReqH>;
/// A loaned request, written: [`send`](ChunkMut::send) it to get its [`PendingResponse`].
pub type RequestMut<'a, P, Req, Res, ReqH, ResH, S> = ChunkMut<&'a Client<P, Req, Res, ReqH, ResH, S>, Req, ReqH>;

impl<
        P: Platform,
        Req: Payload + ?Sized,
        Res: Payload + ?Sized,
        ReqH: ZeroCopySend,
        ResH: ZeroCopySend,
        S: Handle<Target = Service<P, Req, Res, ReqH, ResH>>,
    > Client<P, Req, Res, ReqH, ResH, S>
{
    #[inline(always)]
    fn p(&self) -> &ClientParts<'_, P> {
        self.a.parts()
    }

    /// Requests this client may have pending at once.
    pub fn max_active_requests(&self) -> u32 {
        self.p().max_active
    }

    /// The chunk of the request pending on channel `k`: (user header,
    /// payload, elements). Only called by that request's pending response,
    /// whose channel holds the chunk.
    fn sent_request(&self, k: u32) -> (*const u8, *const u8, usize) {
        let request = self.p().channels.borrow().get(k as usize).and_then(|c| c.request);
        let Some((slot, index, len)) = request else {
            unreachable!("a pending response's channel holds its request until the pending response goes")
        };
        let (header, payload) = self.p().sender.chunk(slot, index);
        (header.cast_const(), payload.cast_const(), len)
    }

    /// This port's unique id (the `origin` servers see).
    pub fn id(&self) -> u64 {
        self.p().sender.port_id
    }

    sender_accessors!("requests");

    /// Requests pending now (live [`PendingResponse`]s).
    pub fn active_requests(&self) -> u32 {
        self.p().channels.borrow().iter().filter(|c| c.tag != 0).count() as u32
    }

    /// Connections marked corrupt because a peer's memory lied (a queue,
    /// a reference or a segment that is garbage): each is no longer used
    /// until its peer goes, and each was reported once, by the error of
    /// the call that found it and a warning through the log shim. 0 in a
    /// healthy system; a monitor can watch it.
    pub fn corrupt_connections(&self) -> u32 {
        self.p().sender.corrupt_connections() + super::receiver::corrupt_count(&*self.p().recv.borrow())
    }

    /// Total and free request chunks and live segments, after taking back
    /// what servers returned.
    pub fn chunk_stats(&self) -> super::publisher::ChunkStats {
        self.update_connections();
        self.p().sender.stats()
    }

    fn servers(&self) -> u32 {
        self.p().core.config.max_servers().min(MAX_PUBLISHERS as u32)
    }

    fn channel_count(&self) -> u32 {
        self.p().response.max_active_requests_per_client.min(MAX_ACTIVE_REQUESTS as u32)
    }

    fn expect(&self) -> Expect {
        let r = self.p().response;
        Expect {
            connections: self.p().core.config.max_clients(),
            history: 0,
            fixed: !r.payload_is_slice(),
            types: (r.payload.size, r.payload_alignment, r.user_header.size, r.user_header.align),
        }
    }

    /// Connects to new servers and lets go of departed ones. Runs on every
    /// loan, send and receive; one load when nothing changed.
    pub fn update_connections(&self) {
        let view = &self.p().core.view;
        let epoch = view.epoch().load(Ordering::Acquire);
        if epoch == self.p().seen_epoch.get() {
            return;
        }
        self.p().seen_epoch.set(epoch);
        let changed = self.p().sender.sync_links(&self.p().links, |_, _, _, _| {});
        let mut released = false;
        for s in 0..self.servers() {
            let (Some(server), Some(rconn)) = (view.receiver(s), self.p().rlinks[s as usize]) else { continue };
            if self.p().recv.borrow()[s as usize].departed {
                self.drain_free_channels(s, &rconn);
            }
            let k = self.channel_count();
            let drained = || (0..k).all(|c| rconn.channel(c).is_none_or(|q| q.is_empty()));
            let words = (rconn.pub_word, rconn.sub_word);
            let link = self.p().recv.borrow_mut()[s as usize].sync(
                self.p().core,
                server,
                words,
                self.p().sender.gen,
                drained,
                self.expect(),
            );
            match link {
                Link::Connected => self.p().tails.borrow_mut()[s as usize] = [0; MAX_ACTIVE_REQUESTS],
                Link::Released => released = true,
                Link::Unchanged => {}
            }
        }
        if changed || released {
            view.bump_epoch();
        }
    }

    /// Returns, unread, every response queued from server `s` on channels
    /// no pending request listens to.
    fn drain_free_channels(&self, s: u32, rconn: &ResponseConnView<'_>) {
        let free: [bool; MAX_ACTIVE_REQUESTS] = {
            let ch = self.p().channels.borrow();
            core::array::from_fn(|k| ch[k].tag == 0)
        };
        for k in 0..self.channel_count() {
            if free[k as usize] {
                self.drain_channel(s, k, rconn);
            }
        }
    }

    fn drain_channel(&self, s: u32, k: u32, rconn: &ResponseConnView<'_>) {
        let Some(queue) = rconn.channel(k) else { return };
        let mut recv = self.p().recv.borrow_mut();
        let mut tails = self.p().tails.borrow_mut();
        let c = &mut recv[s as usize];
        if c.reading == 0 || c.corrupt {
            return;
        }
        let expect = self.expect();
        for _ in 0..queue.capacity() {
            match queue.pop(&mut tails[s as usize][k as usize], self.p().response.enable_safe_overflow) {
                Ok(Some(v)) => match c.accept(self.p().core, v, expect, &rconn.completion) {
                    Ok(got) => c.give_back(got.segment, got.index, Some(&rconn.completion), None),
                    Err(Refusal::PassedOver) => {}
                    Err(Refusal::Error(_)) => return,
                },
                Ok(None) => return,
                Err(_) => {
                    c.mark_corrupt("a response queue is garbage");
                    return;
                }
            }
        }
    }

    fn allocate(&self, len: usize) -> Result<(usize, u32), LoanError> {
        self.update_connections();
        self.p().sender.allocate(len)
    }

    /// Sends chunk `index` of segment `slot` as a request on a free channel.
    /// Returns the pending request's (channel, tag, servers reached).
    fn dispatch(&self, slot: usize, index: u32) -> Result<(u32, u32, u32), RequestSendError> {
        self.p().sender.loan_sent();
        self.update_connections();
        let segs = self.p().sender.segs.borrow();
        let Some(seg) = segs.get(slot).and_then(Option::as_ref) else {
            return Err(RequestSendError::Send(SendError::Loan(LoanError::OutOfMemory)));
        };
        let k = {
            let ch = self.p().channels.borrow();
            (0..self.p().max_active.min(self.channel_count())).find(|k| ch[*k as usize].tag == 0)
        };
        let Some(k) = k else {
            self.p().sender.commit(seg, index, 0);
            return Err(RequestSendError::ExceedsMaxActiveRequests);
        };
        // The next sequence number whose tag no server has marked ended on
        // this channel (a predecessor in the slot may have left such marks).
        let mut seq = self.p().seq.get();
        let tag = loop {
            seq = match seq.wrapping_add(1) & SEQ_MASK {
                0 => 1,
                n => n,
            };
            let tag = make_tag(k, seq);
            let stale = (0..self.servers()).any(|s| {
                self.p().rlinks[s as usize]
                    .and_then(|r| r.ended.get(k as usize))
                    .is_some_and(|e| e.load(Ordering::Acquire) == tag)
            });
            if !stale {
                break tag;
            }
        };
        self.p().seq.set(seq);
        if let Some(h) = seg.view.chunk_header(index) {
            h.set_tag(tag);
        }
        // Listen before any server can see the request.
        if let Some(w) = self.p().listening.get(k as usize) {
            w.store(tag, Ordering::Release);
        }
        let cfg = &self.p().core.config;
        let r = seg.view.layout().chunk_ref(index, seg.id).to_u64();
        let mut reached = [0u16; MAX_PUBLISHERS];
        let (delivered, corrupted) = self.p().sender.broadcast(
            &segs,
            Chunk { seg, index, r },
            &self.p().links,
            cfg.enable_safe_overflow,
            &self.p().backpressure,
            |s, generation, displaced| {
                if let Some(g) = reached.get_mut(s as usize) {
                    *g = generation;
                }
                if let Some(d) = displaced {
                    self.forget_displaced(&segs, s, d);
                }
            },
        );
        // One reference more than the servers reached: the pending response's.
        self.p().sender.commit(seg, index, delivered + 1);
        let corrupted = self.p().sender.reclaim_busy(&segs, cfg.subscriber_max_buffer_size) | corrupted;
        let len = seg.view.chunk_header(index).map_or(0, |h| h.len() as usize);
        self.p().channels.borrow_mut()[k as usize] =
            Channel { tag, servers: reached, borrowed: 0, request: Some((slot, index, len)) };
        if corrupted {
            // Nobody gets a pending response: the channel is freed.
            self.close_channel(k);
            return Err(RequestSendError::Send(SendError::ConnectionCorrupted { delivered: delivered as usize }));
        }
        Ok((k, tag, delivered))
    }

    /// A request displaced from server `s`'s full queue (safe overflow) will
    /// never be answered by that server: its pending response stops waiting
    /// for it.
    fn forget_displaced(&self, segs: &super::sender::Segs<P>, s: u32, d: u64) {
        let rp = RelPtr::from_u64(d);
        let Some(seg) = seg_of(segs, rp.segment) else { return };
        let Some(i) = seg.view.layout().chunk_index(rp, seg.id) else { return };
        let Some(tag) = seg.view.chunk_header(i).map(|h| h.tag()) else { return };
        let mut ch = self.p().channels.borrow_mut();
        if let Some(c) = ch.get_mut(tag_channel(tag) as usize) {
            if c.tag == tag {
                c.servers[s as usize] = 0;
            }
        }
    }

    fn close_channel(&self, k: u32) {
        if let Some(w) = self.p().listening.get(k as usize) {
            w.store(0, Ordering::Release);
        }
        let request = self.p().channels.borrow_mut().get_mut(k as usize).and_then(|c| core::mem::take(c).request);
        if let Some((slot, index, _)) = request {
            // The pending response's reference to its request.
            if let Some(seg) = self.p().sender.segs.borrow().get(slot).and_then(Option::as_ref) {
                super::sender::unref(seg, index);
            }
        }
        for s in 0..self.servers() {
            if let Some(rconn) = self.p().rlinks[s as usize] {
                self.drain_channel(s, k, &rconn);
            }
        }
    }

    #[inline(always)]
    fn receive_on(&self, k: u32, tag: u32) -> Result<Option<(u32, super::receiver::Received)>, ReceiveError> {
        if self.p().channels.borrow()[k as usize].borrowed
            >= self.p().response.max_borrowed_responses_per_pending_response
        {
            return Err(ReceiveError::ExceedsMaxBorrows);
        }
        self.update_connections();
        let n = self.servers();
        let expect = self.expect();
        let overflow = self.p().response.enable_safe_overflow;
        let mut recv = self.p().recv.borrow_mut();
        let mut tails = self.p().tails.borrow_mut();
        for i in 0..n {
            let s = (self.p().next.get() + i) % n;
            let c = &mut recv[s as usize];
            if c.reading == 0 || c.corrupt {
                continue;
            }
            let Some(rconn) = self.p().rlinks[s as usize] else { continue };
            let Some(queue) = rconn.channel(k) else { continue };
            loop {
                let v = match queue.pop(&mut tails[s as usize][k as usize], overflow) {
                    Ok(Some(v)) => v,
                    Ok(None) => break,
                    Err(_) => {
                        c.mark_corrupt("a response queue is garbage");
                        return Err(ReceiveError::ConnectionCorrupted);
                    }
                };
                let got = match c.accept(self.p().core, v, expect, &rconn.completion) {
                    Ok(got) => got,
                    Err(Refusal::PassedOver) => continue,
                    Err(Refusal::Error(e)) => return Err(e),
                };
                if got.tag != tag {
                    // Meant for an earlier request on this channel.
                    c.give_back(got.segment, got.index, Some(&rconn.completion), None);
                    continue;
                }
                self.p().channels.borrow_mut()[k as usize].borrowed += 1;
                self.p().next.set((s + 1) % n);
                return Ok(Some((s, got)));
            }
        }
        Ok(None)
    }

    fn release_response(&self, k: u32, s: u32, segment: u32, index: u32) {
        if let Some(c) = self.p().channels.borrow_mut().get_mut(k as usize) {
            c.borrowed = c.borrowed.saturating_sub(1);
        }
        let mut recv = self.p().recv.borrow_mut();
        let Some(c) = recv.get_mut(s as usize) else { return };
        let rconn = self.p().rlinks.get(s as usize).and_then(Option::as_ref);
        c.give_back(segment, index, rconn.map(|r| &r.completion), None);
    }

    fn is_connected(&self, k: u32, tag: u32) -> bool {
        let ch = self.p().channels.borrow();
        let Some(c) = ch.get(k as usize).filter(|c| c.tag == tag) else { return false };
        (0..self.servers()).any(|s| {
            let g = c.servers[s as usize];
            g != 0
                && self.p().core.view.receiver(s).is_some_and(|srv| split_state(srv.state()) == (g, status::ACTIVE))
                && self.p().rlinks[s as usize]
                    .and_then(|r| r.ended.get(k as usize))
                    .is_some_and(|e| e.load(Ordering::Acquire) != tag)
        })
    }

    fn has_response(&self, k: u32) -> bool {
        self.update_connections();
        let recv = self.p().recv.borrow();
        (0..self.servers()).any(|s| {
            let c = &recv[s as usize];
            c.reading != 0
                && !c.corrupt
                && self.p().rlinks[s as usize].and_then(|r| r.channel(k)).is_some_and(|q| !q.is_empty())
        })
    }
}

impl<
        P: Platform,
        Req: ZeroCopySend,
        Res: Payload + ?Sized,
        ReqH: ZeroCopySend,
        ResH: ZeroCopySend,
        S: Handle<Target = Service<P, Req, Res, ReqH, ResH>>,
    > Client<P, Req, Res, ReqH, ResH, S>
{
    /// Loans an uninitialized request (the user header is zeroed).
    pub fn loan_uninit(&self) -> Result<RequestMutUninit<'_, P, Req, Res, ReqH, ResH, S>, LoanError> {
        Self::loan_uninit_via(&self)
    }

    /// [`loan_uninit`](Self::loan_uninit) through a handle to this client:
    /// the loan, and the [`PendingResponse`] its `send` returns, hold a
    /// clone of `port` instead of borrowing it.
    pub fn loan_uninit_via<L: Handle<Target = Self>>(port: &L) -> Result<ChunkMutUninit<L, Req, ReqH>, LoanError> {
        let (slot, index) = port.allocate(1)?;
        Ok(ChunkMutUninit::new(Loan::new(port.clone(), slot, index, 1)))
    }

    /// Loans a request initialized with `Req::default()`.
    pub fn loan(&self) -> Result<RequestMut<'_, P, Req, Res, ReqH, ResH, S>, LoanError>
    where
        Req: Default,
    {
        Ok(self.loan_uninit()?.write_payload(Req::default()))
    }

    /// Copies `value` into a loan and sends it.
    pub fn send_copy(&self, value: Req) -> Result<PendingResponse<&Self>, RequestSendError> {
        self.loan_uninit()?.write_payload(value).send()
    }
}

impl<
        P: Platform,
        E: ZeroCopySend,
        Res: Payload + ?Sized,
        ReqH: ZeroCopySend,
        ResH: ZeroCopySend,
        S: Handle<Target = Service<P, [E], Res, ReqH, ResH>>,
    > Client<P, [E], Res, ReqH, ResH, S>
{
    /// Loans an uninitialized request slice of `len` elements, growing the
    /// data segment if the strategy allows (see
    /// [`Publisher::loan_slice_uninit`](crate::Publisher::loan_slice_uninit)).
    #[allow(clippy::type_complexity)] // the port's own type parameters
    pub fn loan_slice_uninit(&self, len: usize) -> Result<RequestMutUninit<'_, P, [E], Res, ReqH, ResH, S>, LoanError> {
        Self::loan_slice_uninit_via(&self, len)
    }

    /// [`loan_slice_uninit`](Self::loan_slice_uninit) through a handle to
    /// this client (the loan and its pending response hold a clone of `port`).
    pub fn loan_slice_uninit_via<L: Handle<Target = Self>>(
        port: &L,
        len: usize,
    ) -> Result<ChunkMutUninit<L, [E], ReqH>, LoanError> {
        let (slot, index) = port.allocate(len)?;
        Ok(ChunkMutUninit::new(Loan::new(port.clone(), slot, index, len)))
    }

    /// Loans a request slice of `len` elements, each `E::default()`.
    #[allow(clippy::type_complexity)] // the port's own type parameters
    pub fn loan_slice(&self, len: usize) -> Result<RequestMut<'_, P, [E], Res, ReqH, ResH, S>, LoanError>
    where
        E: Default,
    {
        Ok(self.loan_slice_uninit(len)?.write_from_fn(|_| E::default()))
    }

    /// Copies `values` into a loan and sends it.
    pub fn send_slice_copy(&self, values: &[E]) -> Result<PendingResponse<&Self>, RequestSendError>
    where
        E: Copy,
    {
        self.loan_slice_uninit(values.len())?.write_from_slice(values).send()
    }
}

impl<
        P: Platform,
        Req: Payload + ?Sized,
        Res: Payload + ?Sized,
        ReqH: ZeroCopySend,
        ResH: ZeroCopySend,
        S: Handle<Target = Service<P, Req, Res, ReqH, ResH>>,
    > sealed::Port for Client<P, Req, Res, ReqH, ResH, S>
{
    fn parts(&self, slot: usize, index: u32) -> (*mut u8, *mut u8) {
        self.p().sender.chunk(slot, index)
    }
    fn discard(&self, slot: usize, index: u32) {
        self.p().sender.discard(slot, index);
    }
    fn element_size(&self) -> usize {
        self.p().core.config.payload.size as usize
    }
    fn header_size(&self) -> usize {
        self.p().core.config.user_header.size as usize
    }

    /// A request: to every connected server; the [`PendingResponse`] that
    /// receives its responses holds the loan's handle to the client. Fails
    /// with [`RequestSendError::ExceedsMaxActiveRequests`] when
    /// `max_active_requests_per_client` pending responses are alive.
    type Sent<L>
        = PendingResponse<L>
    where
        L: Handle<Target = Self>;
    type Error = RequestSendError;
    fn send<L: Handle<Target = Self>>(
        client: L,
        segment: usize,
        index: u32,
    ) -> Result<PendingResponse<L>, RequestSendError> {
        let (channel, tag, servers) = client.dispatch(segment, index)?;
        Ok(PendingResponse { channel, tag, servers, client })
    }
}

impl<
        P: Platform,
        Req: Payload + ?Sized,
        Res: Payload + ?Sized,
        ReqH: ZeroCopySend,
        ResH: ZeroCopySend,
        S: Handle<Target = Service<P, Req, Res, ReqH, ResH>>,
    > sealed::Requester for Client<P, Req, Res, ReqH, ResH, S>
{
    #[inline]
    fn close_channel(&self, channel: u32) {
        Client::close_channel(self, channel);
    }
    fn response_waker(&self) -> Option<crate::shm::event::Waker<'_>> {
        self.p().core.view.sender_waker(self.p().sender.slot())
    }
    fn request_settled(&self, channel: u32, tag: u32) -> bool {
        self.has_response(channel) || !self.is_connected(channel, tag)
    }
    fn hint_disconnect(&self, channel: u32, tag: u32) {
        if let Some(w) = self.p().listening.get(channel as usize) {
            // Only while it still awaits this request (Release: a server that
            // sees the hint sees the request as it was sent).
            let _ = w.compare_exchange(tag, tag | DISCONNECT_HINT, Ordering::Release, Ordering::Relaxed);
        }
    }
}

impl<P: Platform> Drop for ClientParts<'_, P> {
    fn drop(&mut self) {
        // Nobody listens any more; the sender then leaves the slot.
        for w in self.listening {
            w.store(0, Ordering::Release);
        }
    }
}

/// A [`Handle`] to a client, which a [`PendingResponse`] holds. Sealed.
pub trait RequestSource: Handle<Target: sealed::Requester> {}
impl<C: Handle<Target: sealed::Requester>> RequestSource for C {}

/// One sent request, waiting for its stream of responses; holds its client
/// through `C` (`&Client`, or the owning handle its loan was made through).
/// Dropping it tells the servers that nobody listens any more (their
/// `is_connected` turns false) and frees its channel. Not `Send`: it stays
/// on its client's thread (the client's bookkeeping has no lock).
pub struct PendingResponse<C: RequestSource> {
    channel: u32,
    tag: u32,
    servers: u32,
    client: C,
}

impl<C, P, Res, ReqH, ResH, S> PendingResponse<C>
where
    C: Handle<Target = Client<P, [Opaque], Res, ReqH, ResH, S>>,
    P: Platform,
    Res: Payload + ?Sized,
    ReqH: ZeroCopySend,
    ResH: ZeroCopySend,
    S: Handle<Target = Service<P, [Opaque], Res, ReqH, ResH>>,
{
    /// The sent request's bytes (length × the element size the service records).
    pub fn payload_bytes(&self) -> &[u8] {
        let size = self.client.p().core.config.payload.size as usize;
        Sent::new(self.client.sent_request(self.channel), self).payload_bytes(size)
    }
}

impl<C, P, Req, Res, ResH, S> PendingResponse<C>
where
    C: Handle<Target = Client<P, Req, Res, Opaque, ResH, S>>,
    P: Platform,
    Req: Payload + ?Sized,
    Res: Payload + ?Sized,
    ResH: ZeroCopySend,
    S: Handle<Target = Service<P, Req, Res, Opaque, ResH>>,
{
    /// The sent request's user header bytes (the size the service records).
    pub fn user_header_bytes(&self) -> &[u8] {
        let size = self.client.p().core.config.user_header.size as usize;
        Sent::new(self.client.sent_request(self.channel), self).user_header_bytes(size)
    }
}

impl<C, P, Req, Res, ReqH, ResH, S> PendingResponse<C>
where
    C: Handle<Target = Client<P, Req, Res, ReqH, ResH, S>>,
    P: Platform,
    Req: Payload + ?Sized,
    Res: Payload + ?Sized,
    ReqH: ZeroCopySend,
    ResH: ZeroCopySend,
    S: Handle<Target = Service<P, Req, Res, ReqH, ResH>>,
{
    /// The request this pending response waits on, as it was sent (its
    /// chunk stays the client's until this pending response goes).
    pub fn payload(&self) -> &Req {
        Sent::new(self.client.sent_request(self.channel), self).payload()
    }

    /// The sent request's user header.
    pub fn user_header(&self) -> &ReqH {
        Sent::new(self.client.sent_request(self.channel), self).user_header()
    }

    /// The sent request's element count (1 for a fixed-size type).
    pub fn request_len(&self) -> usize {
        Sent::new(self.client.sent_request(self.channel), self).len()
    }

    /// Waits at most `timeout` for the next response to this request.
    /// `Ok(None)` when the time passed, or when the stream has ended (every
    /// server dropped the request, or is gone) and nothing is left.
    pub fn timed_receive(
        &self,
        timeout: core::time::Duration,
    ) -> Result<Option<Response<&Self, Res, ResH>>, ReceiveError> {
        Self::timed_receive_via(&self, timeout)
    }

    /// [`timed_receive`](Self::timed_receive) through a handle to this
    /// pending response (the response holds a clone of `pending`).
    pub fn timed_receive_via<R: Handle<Target = Self>>(
        pending: &R,
        timeout: core::time::Duration,
    ) -> Result<Option<Response<R, Res, ResH>>, ReceiveError> {
        Ok(crate::signal::wait_until::<P, _, _>(pending.waker(), Some(timeout), || Self::next_or_end(pending))?
            .flatten())
    }

    /// Sleeps until the next response to this request arrives and returns
    /// it; `Ok(None)` once the stream has ended and nothing is left. SIGINT
    /// and SIGTERM end the wait with an error (on platforms that have them).
    pub fn blocking_receive(&self) -> Result<Option<Response<&Self, Res, ResH>>, ReceiveError> {
        Self::blocking_receive_via(&self)
    }

    /// [`blocking_receive`](Self::blocking_receive) through a handle to
    /// this pending response (the response holds a clone of `pending`).
    pub fn blocking_receive_via<R: Handle<Target = Self>>(
        pending: &R,
    ) -> Result<Option<Response<R, Res, ResH>>, ReceiveError> {
        crate::signal::wait_for::<P, _, _>(pending.waker(), || Self::next_or_end(pending))
    }

    /// A response (`Some(Some)`), the end of the stream (`Some(None)`), or
    /// nothing yet (`None`).
    #[allow(clippy::type_complexity)] // a response, the end, or nothing yet
    fn next_or_end<R: Handle<Target = Self>>(
        pending: &R,
    ) -> Result<Option<Option<Response<R, Res, ResH>>>, ReceiveError> {
        if let Some(r) = Self::receive_via(pending)? {
            return Ok(Some(Some(r)));
        }
        if !pending.is_connected() && !pending.has_response() {
            return Ok(Some(None));
        }
        Ok(None)
    }

    /// The next response to this request, from any server; `Ok(None)` when
    /// none waits. Responses to other requests are never returned here.
    pub fn receive(&self) -> Result<Option<Response<&Self, Res, ResH>>, ReceiveError> {
        Self::receive_via(&self)
    }

    /// [`receive`](Self::receive) through a handle to this pending
    /// response: the response holds a clone of `pending` instead of
    /// borrowing it.
    #[inline(always)]
    pub fn receive_via<R: Handle<Target = Self>>(pending: &R) -> Result<Option<Response<R, Res, ResH>>, ReceiveError> {
        let Some((server, got)) = pending.client.receive_on(pending.channel, pending.tag)? else { return Ok(None) };
        Ok(Some(Response { server, chunk: Held::new(&got), pending: pending.clone() }))
    }

    /// Whether a response waits (a snapshot).
    pub fn has_response(&self) -> bool {
        self.client.has_response(self.channel)
    }

    /// Whether any server that received the request is still there and has
    /// not ended its response stream: false once every such server dropped
    /// its `ActiveRequest` or went away (more responses may still be queued:
    /// drain them with [`receive`](Self::receive)).
    pub fn is_connected(&self) -> bool {
        self.client.is_connected(self.channel, self.tag)
    }

    /// How many servers the request reached.
    pub fn number_of_server_connections(&self) -> usize {
        self.servers as usize
    }

    /// Asks the servers to end the response stream: they see it through
    /// [`ActiveRequest::has_disconnect_hint`](crate::ActiveRequest::has_disconnect_hint);
    /// responses still arrive until they do (iceoryx2's disconnect hint).
    pub fn set_disconnect_hint(&self) {
        sealed::Requester::hint_disconnect(&*self.client, self.channel, self.tag);
    }
}

impl<C, P, Req, Res, ReqH, ResH, S> sealed::Receiver for PendingResponse<C>
where
    C: Handle<Target = Client<P, Req, Res, ReqH, ResH, S>>,
    P: Platform,
    Req: Payload + ?Sized,
    Res: Payload + ?Sized,
    ReqH: ZeroCopySend,
    ResH: ZeroCopySend,
    S: Handle<Target = Service<P, Req, Res, ReqH, ResH>>,
{
    #[inline]
    fn release(&self, server: u32, segment: u32, index: u32) {
        self.client.release_response(self.channel, server, segment, index);
    }
    fn element_size(&self) -> usize {
        self.client.p().response.payload.size as usize
    }
    fn header_size(&self) -> usize {
        self.client.p().response.user_header.size as usize
    }
}

impl<C: RequestSource> PendingResponse<C> {
    fn waker(&self) -> Option<crate::shm::event::Waker<'_>> {
        sealed::Requester::response_waker(&*self.client)
    }
}

impl<C: RequestSource> Drop for PendingResponse<C> {
    fn drop(&mut self) {
        sealed::Requester::close_channel(&*self.client, self.channel);
    }
}

impl<C: RequestSource> fmt::Debug for PendingResponse<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingResponse").field("channel", &self.channel).field("servers", &self.servers).finish()
    }
}

/// A received response: reads the server's chunk in place; returns it on
/// drop. Holds its [`PendingResponse`] through `R` (`&PendingResponse`, or
/// an owning handle from [`PendingResponse::receive_via`]).
pub struct Response<R: SampleSource, Res: Payload + ?Sized, ResH: ZeroCopySend> {
    server: u32,
    chunk: Held<Res, ResH>,
    pending: R,
}

impl<R: SampleSource, Res: Payload + ?Sized> Response<R, Res, Opaque> {
    /// The user header's bytes (the size the service records).
    pub fn user_header_bytes(&self) -> &[u8] {
        self.chunk.user_header_bytes(sealed::Receiver::header_size(&*self.pending))
    }
}

impl<R: SampleSource, ResH: ZeroCopySend> Response<R, [Opaque], ResH> {
    /// The payload's bytes (length × the element size the service records).
    pub fn payload_bytes(&self) -> &[u8] {
        self.chunk.payload_bytes(sealed::Receiver::element_size(&*self.pending))
    }
}

impl<R: SampleSource, Res: Payload + ?Sized, ResH: ZeroCopySend> Response<R, Res, ResH> {
    /// The payload.
    pub fn payload(&self) -> &Res {
        self.chunk.payload()
    }

    /// The user header.
    pub fn user_header(&self) -> &ResH {
        self.chunk.user_header()
    }

    /// The sending server's id.
    pub fn origin(&self) -> u64 {
        self.chunk.origin
    }
}

impl<R: SampleSource, Res: Payload + ?Sized, ResH: ZeroCopySend> Deref for Response<R, Res, ResH> {
    type Target = Res;
    fn deref(&self) -> &Res {
        self.payload()
    }
}

impl<R: SampleSource, Res: Payload + ?Sized, ResH: ZeroCopySend> Drop for Response<R, Res, ResH> {
    fn drop(&mut self) {
        sealed::Receiver::release(&*self.pending, self.server, self.chunk.segment, self.chunk.index);
    }
}

impl<R: SampleSource, Res: Payload + ?Sized + fmt::Debug, ResH: ZeroCopySend> fmt::Debug for Response<R, Res, ResH> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response").field("origin", &self.chunk.origin).field("payload", &self.payload()).finish()
    }
}

impl<C: RequestSource> crate::waitset::Attachable for PendingResponse<C> {
    fn wake_word(&self) -> Option<crate::shm::event::Waker<'_>> {
        sealed::Requester::response_waker(&*self.client)
    }
    /// A response waits, or the stream has ended.
    fn has_pending(&self) -> bool {
        sealed::Requester::request_settled(&*self.client, self.channel, self.tag)
    }
}

impl<P: Platform, Req: Payload + ?Sized, Res: Payload + ?Sized, ReqH: ZeroCopySend, ResH: ZeroCopySend>
    RequestResponse<P, Req, Res, ReqH, ResH>
{
    /// Starts building a client that borrows this service (an owning
    /// handle's `client_builder`, as `icefloe-linux`'s, builds one that
    /// holds a clone of the handle instead).
    pub fn client_builder(&self) -> ClientBuilder<P, Req, Res, ReqH, ResH, &Self> {
        ClientBuilder::new(self)
    }
}

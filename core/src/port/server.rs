//! The server: receives requests from every connected client as
//! [`ActiveRequest`]s and sends each a stream of responses.

use super::client::{tag_channel, DISCONNECT_HINT};
use super::receiver::{Expect, Link, RecvConn};
use super::sender::{ConnLocal, Offer, OpenError, Sender, Wiring};
use super::{LoanError, ReceiveError, SendError, ServerCreateError, SliceSettings};
use crate::chunk::{sealed, ChunkMut, ChunkMutUninit, Held, Loan};
use crate::config::{MAX_ACTIVE_REQUESTS, MAX_PUBLISHERS};
use crate::handle::{Anchored, Handle};
use crate::platform::Platform;
use crate::service::request_response::RequestResponse;
use crate::service::ServiceCore;
use crate::shm::data::{DataLayout, DataSizing};
use crate::shm::service::{split_state, status, ConnView, ResponseConfig, ResponseConnView, StaticConfig};
use crate::sync::Ordering;
use crate::zero_copy::{Opaque, Payload, ZeroCopySend};
use core::cell::{Cell, RefCell};
use core::fmt;
use core::marker::PhantomData;
use core::ops::Deref;

/// Default response loans one active request may have out at once: 2.
pub const DEFAULT_MAX_LOANED_RESPONSES_PER_REQUEST: u32 = 2;

/// A server's data segment: per client and channel, the responses that can
/// be queued, borrowed and loaned: `max_clients × max_active_requests_per_client
/// × (max_response_buffer_size + max_borrowed_responses_per_pending_response
/// + loans_per_request)` chunks of `capacity` response elements.
pub(crate) fn response_sizing(
    c: &StaticConfig,
    loans_per_request: u32,
    capacity: u32,
) -> Result<DataSizing, ServerCreateError> {
    let r = c.response.as_ref().ok_or(ServerCreateError::InvalidConfig)?;
    let per_channel = u64::from(r.max_response_buffer_size)
        + u64::from(r.max_borrowed_responses_per_pending_response)
        + u64::from(loans_per_request);
    let chunks = u64::from(c.max_clients()) * u64::from(r.max_active_requests_per_client) * per_channel;
    Ok(DataSizing {
        chunk_count: u32::try_from(chunks).map_err(|_| ServerCreateError::DataSegmentTooLarge)?,
        connections: c.max_clients(),
        history: 0,
        capacity,
        elem: (r.payload.size, r.payload_alignment),
        user_header: (r.user_header.size, r.user_header.align),
    })
}

type Service<P, Req, Res, ReqH, ResH> = RequestResponse<P, Req, Res, ReqH, ResH>;

/// Configures a [`Server`] that will hold its service through `S` (a borrow,
/// or an owning handle: see [`handle`](crate::handle)).
pub struct ServerBuilder<
    P: Platform,
    Req: Payload + ?Sized,
    Res: Payload + ?Sized,
    ReqH: ZeroCopySend,
    ResH: ZeroCopySend,
    S: Handle<Target = Service<P, Req, Res, ReqH, ResH>>,
> {
    service: S,
    slices: SliceSettings,
    loans_per_request: u32,
    backpressure: super::Backpressure,
}

impl<
        P: Platform,
        Req: Payload + ?Sized,
        Res: Payload + ?Sized,
        ReqH: ZeroCopySend,
        ResH: ZeroCopySend,
        S: Handle<Target = Service<P, Req, Res, ReqH, ResH>>,
    > ServerBuilder<P, Req, Res, ReqH, ResH, S>
{
    /// A builder for a server that holds its service through `service`.
    pub fn new(service: S) -> Self {
        let r = service.response_config();
        let slices = SliceSettings::new(r.max_slice_len, r.payload_is_slice());
        Self {
            service,
            slices,
            loans_per_request: DEFAULT_MAX_LOANED_RESPONSES_PER_REQUEST,
            backpressure: super::Backpressure::default(),
        }
    }

    /// Response loans one active request may have out at once (default
    /// [`DEFAULT_MAX_LOANED_RESPONSES_PER_REQUEST`]).
    pub fn max_loaned_responses_per_request(mut self, n: u32) -> Self {
        self.loans_per_request = n;
        self
    }

    backpressure_setters!("client");

    slice_setters!("responses", "response_max_slice_len");

    /// Sizes the pool with fewer chunks than the worst case the QoS implies
    /// (`f` gets the worst case and returns the count, clamped to `1..=worst`).
    pub fn override_response_preallocation(mut self, f: impl FnOnce(u32) -> u32) -> Self {
        let worst =
            response_sizing(&self.service.core.config, self.loans_per_request.max(1), 1).map_or(1, |s| s.chunk_count);
        self.slices.preallocation = Some(f(worst).clamp(1, worst));
        self
    }

    fn sizing(&self, capacity: u32) -> Result<DataSizing, ServerCreateError> {
        if !self.slices.valid() || self.loans_per_request == 0 {
            return Err(ServerCreateError::InvalidConfig);
        }
        let sizing = response_sizing(&self.service.core.config, self.loans_per_request, capacity)?;
        Ok(self.slices.preallocate(sizing))
    }

    /// The size in bytes of the data segment this server creates first.
    pub fn footprint(&self) -> Result<usize, ServerCreateError> {
        DataLayout::new(self.sizing(self.slices.capacity())?)
            .map(|l| l.size)
            .map_err(|_| ServerCreateError::DataSegmentTooLarge)
    }

    /// The most shared memory this server can hold at once (up to
    /// [`MAX_SEGMENTS_PER_PORT`](crate::config::MAX_SEGMENTS_PER_PORT) segments at `max_slice_len`); `None` past 4 GiB each.
    pub fn worst_case_footprint(&self) -> Option<usize> {
        self.slices.worst_case(|cap| Some(DataLayout::new(self.sizing(cap).ok()?).ok()?.size))
    }

    /// Creates the server: takes a server slot and creates its first data
    /// segment.
    pub fn create(self) -> Result<Server<P, Req, Res, ReqH, ResH, S>, ServerCreateError> {
        let base = self.sizing(self.slices.capacity())?;
        DataLayout::new(base).map_err(|_| ServerCreateError::DataSegmentTooLarge)?;
        let (strategy, ceiling) = self.slices.growth();
        let (loans_per_request, backpressure) = (self.loans_per_request, self.backpressure);
        let a = Anchored::new(self.service, |service| {
            Self::parts(service, base, strategy, ceiling, loans_per_request, backpressure)
        })?;
        let server = Server { a, _t: PhantomData };
        server.update_connections();
        Ok(server)
    }

    fn parts(
        service: &Service<P, Req, Res, ReqH, ResH>,
        base: DataSizing,
        strategy: crate::AllocationStrategy,
        ceiling: u32,
        loans_per_request: u32,
        backpressure: super::Backpressure,
    ) -> Result<ServerParts<'_, P>, ServerCreateError> {
        let core = &service.core;
        let response = service.response_config();
        let wiring = Wiring {
            slot_of: |view, s| view.receiver(s),
            completion_of: |view, s, c| view.response_connection(s, c).map(|r| r.completion),
            waker_of: |view, c| view.sender_waker(c),
            slot: 0,
            connections: core.config.max_clients(),
        };
        let max_loaned = core.config.max_clients() * response.max_active_requests_per_client * loans_per_request;
        let slots = core.config.max_servers();
        let sender = Sender::open(core, wiring, slots, base, max_loaned, strategy, ceiling).map_err(|e| match e {
            OpenError::NoSlot => ServerCreateError::ExceedsMaxSupportedServers,
            OpenError::Segment(e) => ServerCreateError::UnableToCreateDataSegment(e),
        })?;
        let slot_index = sender.slot();
        let clients = core.config.max_clients().min(MAX_PUBLISHERS as u32) as usize;
        Ok(ServerParts {
            core,
            response,
            sender,
            links: core::array::from_fn(|c| {
                (c < clients).then(|| core.view.connection(c as u32, slot_index)).flatten()
            }),
            rlinks: core::array::from_fn(|c| {
                (c < clients).then(|| core.view.response_connection(slot_index, c as u32)).flatten()
            }),
            recv: RefCell::new(core::array::from_fn(|_| RecvConn::default())),
            heads: RefCell::new([[0; MAX_ACTIVE_REQUESTS]; MAX_PUBLISHERS]),
            loans_per_request,
            backpressure,
            seen_epoch: Cell::new(core.view.epoch().load(Ordering::Acquire).wrapping_sub(1)),
            next: Cell::new(0),
        })
    }
}

/// Receives requests of `Req` and answers with responses of `Res`, holding
/// the service through `S` (see [`handle`](crate::handle)). `Send` (with an
/// owning or a `Sync` handle), not `Sync`: receives and responses update
/// its process-local bookkeeping without a lock.
///
/// ```
/// # fn clock() -> core::time::Duration { core::time::Duration::ZERO }
/// # icefloe_core::bare_metal_platform!(Board, arena = 512 * 1024, segments = 16, clock = clock);
/// use icefloe_core::{NodeBuilder, ServiceName};
/// let node = NodeBuilder::<Board>::new().create().unwrap();
/// let service = node
///     .service_builder(&ServiceName::new("count").unwrap())
///     .request_response::<u32, u32>()
///     .max_response_buffer_size(4)
///     .create()
///     .unwrap();
/// let client = service.client_builder().create().unwrap();
/// let server = service.server_builder().create().unwrap();
/// let pending = client.send_copy(3).unwrap();
/// while let Some(request) = server.receive().unwrap() {
///     for i in 0..*request {
///         request.send_copy(i).unwrap(); // a stream of three responses
///     }
/// } // each request dropped here: its stream ends
/// let mut got = [0; 3];
/// for slot in &mut got {
///     *slot = *pending.receive().unwrap().unwrap();
/// }
/// assert_eq!(got, [0, 1, 2]);
/// assert!(!pending.is_connected());
/// ```
pub struct Server<
    P: Platform,
    Req: Payload + ?Sized,
    Res: Payload + ?Sized,
    ReqH: ZeroCopySend,
    ResH: ZeroCopySend,
    S: Handle<Target = Service<P, Req, Res, ReqH, ResH>>,
> {
    a: Anchored<S, ServerFamily<P>>,
    _t: PhantomData<(crate::zero_copy::TypeMarker<Req, ReqH>, crate::zero_copy::TypeMarker<Res, ResH>)>,
}

/// What a server keeps of its service, borrowing it for `'s`.
pub(crate) struct ServerParts<'s, P: Platform> {
    core: &'s ServiceCore<P>,
    response: &'s ResponseConfig,
    sender: Sender<'s, P>,
    /// Request connections from each client slot.
    links: [Option<ConnView<'s>>; MAX_PUBLISHERS],
    /// Response connections to each client slot.
    rlinks: [Option<ResponseConnView<'s>>; MAX_PUBLISHERS],
    recv: RefCell<[RecvConn<P>; MAX_PUBLISHERS]>,
    /// Cached `head` of each client's response queue per channel.
    heads: RefCell<[[u32; MAX_ACTIVE_REQUESTS]; MAX_PUBLISHERS]>,
    loans_per_request: u32,
    backpressure: super::Backpressure,
    seen_epoch: Cell<u32>,
    next: Cell<u32>,
}

crate::handle::family!(ServerFamily, ServerParts);

/// A response loaned from an active request (borrowing it), not yet written.
pub type ResponseMutUninit<'a, R, Req, Res, ReqH, ResH> = ChunkMutUninit<&'a ActiveRequest<R, Req, ReqH>, Res, ResH>;
/// A response loaned from an active request, written: [`send`](ChunkMut::send) it.
pub type ResponseMut<'a, R, Req, Res, ReqH, ResH> = ChunkMut<&'a ActiveRequest<R, Req, ReqH>, Res, ResH>;

impl<
        P: Platform,
        Req: Payload + ?Sized,
        Res: Payload + ?Sized,
        ReqH: ZeroCopySend,
        ResH: ZeroCopySend,
        S: Handle<Target = Service<P, Req, Res, ReqH, ResH>>,
    > Server<P, Req, Res, ReqH, ResH, S>
{
    #[inline(always)]
    fn p(&self) -> &ServerParts<'_, P> {
        self.a.parts()
    }

    /// This port's unique id (the `origin` of its responses).
    pub fn id(&self) -> u64 {
        self.p().sender.port_id
    }

    sender_accessors!("responses");

    /// Connections marked corrupt because a peer's memory lied (a queue,
    /// a reference or a segment that is garbage): each is no longer used
    /// until its peer goes, and each was reported once, by the error of
    /// the call that found it and a warning through the log shim. 0 in a
    /// healthy system; a monitor can watch it.
    pub fn corrupt_connections(&self) -> u32 {
        self.p().sender.corrupt_connections() + super::receiver::corrupt_count(&*self.p().recv.borrow())
    }

    /// Total and free response chunks and live segments, after taking back
    /// what clients returned.
    pub fn chunk_stats(&self) -> super::publisher::ChunkStats {
        self.update_connections();
        self.p().sender.stats()
    }

    fn clients(&self) -> u32 {
        self.p().core.config.max_clients().min(MAX_PUBLISHERS as u32)
    }

    /// Connects to new clients and lets go of departed ones (taking back
    /// every response they held). One load when nothing changed.
    pub fn update_connections(&self) {
        let view = &self.p().core.view;
        let epoch = view.epoch().load(Ordering::Acquire);
        if epoch == self.p().seen_epoch.get() {
            return;
        }
        self.p().seen_epoch.set(epoch);
        let expect = Expect::of_requests(&self.p().core.config);
        let mut changed = RecvConn::sync_all(
            self.p().core,
            &mut *self.p().recv.borrow_mut(),
            &self.p().links,
            self.p().sender.gen,
            expect,
        );
        let segs = self.p().sender.segs.borrow();
        let mut conns = self.p().sender.conns.borrow_mut();
        for c in 0..self.clients() {
            let (Some(client), Some(rconn)) = (view.sender(c), self.p().rlinks[c as usize]) else { continue };
            let reset = || {
                for k in 0..rconn.channels() {
                    if let Some(q) = rconn.channel(k) {
                        q.reset();
                    }
                }
                for e in rconn.ended {
                    e.store(0, Ordering::Relaxed);
                }
                rconn.completion.reset();
            };
            let words = (rconn.pub_word, rconn.sub_word);
            let local = &mut conns[c as usize];
            if self.p().sender.sync_link(&segs, c, local, client, words, self.p().sender.gen, reset) == Link::Connected
            {
                self.p().heads.borrow_mut()[c as usize] = [0; MAX_ACTIVE_REQUESTS];
                changed = true;
            }
        }
        if changed {
            view.bump_epoch();
        }
    }

    /// Whether a request waits (a snapshot).
    pub fn has_requests(&self) -> bool {
        self.update_connections();
        let recv = self.p().recv.borrow();
        (0..self.clients()).any(|c| {
            let r = &recv[c as usize];
            r.reading != 0 && !r.corrupt && self.p().links[c as usize].is_some_and(|l| !l.submission.is_empty())
        })
    }

    /// Waits at most `timeout` for a request: sleeps until a client sends,
    /// then takes it. `Ok(None)` when the time passed with nothing.
    pub fn timed_receive(
        &self,
        timeout: core::time::Duration,
    ) -> Result<Option<ActiveRequest<&Self, Req, ReqH>>, ReceiveError> {
        Self::timed_receive_via(&self, timeout)
    }

    /// [`timed_receive`](Self::timed_receive) through a handle to this
    /// server (the active request holds a clone of `port`).
    pub fn timed_receive_via<R: Handle<Target = Self>>(
        port: &R,
        timeout: core::time::Duration,
    ) -> Result<Option<ActiveRequest<R, Req, ReqH>>, ReceiveError> {
        crate::signal::wait_until::<P, _, _>(port.waker(), Some(timeout), || Self::receive_via(port))
    }

    /// Sleeps until a request arrives and takes it. SIGINT and SIGTERM end
    /// the wait with an error (on platforms that have them).
    pub fn blocking_receive(&self) -> Result<ActiveRequest<&Self, Req, ReqH>, ReceiveError> {
        Self::blocking_receive_via(&self)
    }

    /// [`blocking_receive`](Self::blocking_receive) through a handle to
    /// this server (the active request holds a clone of `port`).
    pub fn blocking_receive_via<R: Handle<Target = Self>>(
        port: &R,
    ) -> Result<ActiveRequest<R, Req, ReqH>, ReceiveError> {
        crate::signal::wait_for::<P, _, _>(port.waker(), || Self::receive_via(port))
    }

    /// This port's wake word (its senders signal it).
    fn waker(&self) -> Option<crate::shm::event::Waker<'_>> {
        self.p().sender.core.view.receiver_waker(self.p().sender.slot())
    }

    /// Takes the oldest waiting request, visiting clients in turn.
    /// `Ok(None)` when none waits. A client whose `max_active_requests_per_client`
    /// requests are all held here is skipped until one is dropped.
    pub fn receive(&self) -> Result<Option<ActiveRequest<&Self, Req, ReqH>>, ReceiveError> {
        Self::receive_via(&self)
    }

    /// [`receive`](Self::receive) through a handle to this server: the
    /// active request (and the responses loaned from it) hold a clone of
    /// `port` instead of borrowing it.
    #[inline]
    pub fn receive_via<R: Handle<Target = Self>>(
        port: &R,
    ) -> Result<Option<ActiveRequest<R, Req, ReqH>>, ReceiveError> {
        let Some((client, client_gen, tag, chunk)) = port.take_next()? else { return Ok(None) };
        Ok(Some(ActiveRequest { client, client_gen, tag, chunk, loans: Cell::new(0), server: port.clone() }))
    }

    #[inline(always)]
    #[allow(clippy::type_complexity)] // the port's own type parameters
    fn take_next(&self) -> Result<Option<(u32, u16, u32, Held<Req, ReqH>)>, ReceiveError> {
        self.update_connections();
        let n = self.clients();
        let overflow = self.p().core.config.enable_safe_overflow;
        let limit = self.p().response.max_active_requests_per_client;
        let expect = Expect::of_requests(&self.p().core.config);
        let mut recv = self.p().recv.borrow_mut();
        let mut at_limit = false;
        for i in 0..n {
            let c = (self.p().next.get() + i) % n;
            let r = &mut recv[c as usize];
            if r.reading == 0 || r.corrupt {
                continue;
            }
            let Some(conn) = self.p().links[c as usize] else { continue };
            if r.borrowed >= limit {
                at_limit |= !conn.submission.is_empty();
                continue;
            }
            while let Some(got) = r.next(self.p().core, &conn, self.p().sender.gen, overflow, expect)? {
                // Only without fire-and-forget does the client's channel
                // word matter here (one shared load saved per request).
                let abandoned = || self.listening(c, tag_channel(got.tag)) != Some(got.tag);
                if !self.p().response.enable_fire_and_forget && abandoned() {
                    // Nobody waits for it and the service does not deliver
                    // abandoned requests: return it unseen.
                    r.give_back(got.segment, got.index, Some(&conn.completion), Some(&conn.submission));
                    continue;
                }
                self.p().next.set((c + 1) % n);
                return Ok(Some((c, r.reading, got.tag, Held::new(&got))));
            }
        }
        if at_limit {
            return Err(ReceiveError::ExceedsMaxBorrows);
        }
        Ok(None)
    }

    /// The tag client `c` awaits on channel `k` (its disconnect hint aside).
    fn listening(&self, c: u32, k: u32) -> Option<u32> {
        self.listening_word(c, k).map(|w| w & !DISCONNECT_HINT)
    }

    fn listening_word(&self, c: u32, k: u32) -> Option<u32> {
        self.p().core.view.listening(c)?.get(k as usize).map(|w| w.load(Ordering::Acquire))
    }

    /// Whether client `c` set the disconnect hint of request `tag`.
    fn disconnect_hinted(&self, c: u32, tag: u32) -> bool {
        self.listening_word(c, tag_channel(tag)) == Some(tag | DISCONNECT_HINT)
    }

    fn client_there(&self, c: u32, gen: u16, tag: u32) -> bool {
        self.p().core.view.sender(c).is_some_and(|s| split_state(s.state()) == (gen, status::ACTIVE))
            && self.listening(c, tag_channel(tag)) == Some(tag)
    }

    fn allocate(&self, len: usize) -> Result<(usize, u32), LoanError> {
        self.update_connections();
        self.p().sender.allocate(len)
    }

    /// Sends response chunk `index` of segment `slot` on the channel of
    /// request `tag` of client slot `c`.
    fn respond(&self, c: u32, gen: u16, tag: u32, slot: usize, index: u32) -> Result<(), SendError> {
        self.p().sender.loan_sent();
        self.update_connections();
        let segs = self.p().sender.segs.borrow();
        let Some(seg) = segs.get(slot).and_then(Option::as_ref) else { return Ok(()) };
        if let Some(h) = seg.view.chunk_header(index) {
            h.set_tag(tag);
        }
        let k = tag_channel(tag);
        let mut conns = self.p().sender.conns.borrow_mut();
        let queue = self.p().rlinks.get(c as usize).and_then(Option::as_ref).and_then(|r| r.channel(k));
        let (Some(local), Some(queue)) = (conns.get_mut(c as usize), queue) else {
            self.p().sender.commit(seg, index, 0);
            return Ok(());
        };
        // A client that left or stopped listening gets nothing, quietly.
        if local.connected != gen || local.corrupt || !self.client_there(c, gen, tag) {
            self.p().sender.commit(seg, index, 0);
            return Ok(());
        }
        let r = seg.view.layout().chunk_ref(index, seg.id).to_u64();
        let chunk = super::sender::Chunk { seg, index, r };
        let mut heads = self.p().heads.borrow_mut();
        let head = heads.get_mut(c as usize).and_then(|h| h.get_mut(k as usize));
        let wanted = |local: &ConnLocal| local.connected == gen && self.client_there(c, gen, tag);
        let overflow = self.p().response.enable_safe_overflow;
        let outcome = self.p().sender.offer_with_backpressure(
            &segs,
            chunk,
            c,
            local,
            &queue,
            head,
            overflow,
            &self.p().backpressure,
            wanted,
            || self.p().core.view.sender(c).map_or(0, |s| s.port_id()),
        );
        let delivered = u32::from(matches!(outcome, Offer::Pushed(_)));
        self.p().sender.commit(seg, index, delivered);
        if delivered > 0 {
            self.p().sender.wake(c);
        }
        // Taken back after the push, off the path of this response.
        if local.in_flight >= self.p().response.max_response_buffer_size {
            self.p().sender.reclaim(&segs, c, local);
        }
        let corrupt = local.corrupt;
        drop(conns);
        if corrupt {
            Err(SendError::ConnectionCorrupted { delivered: delivered as usize })
        } else {
            Ok(())
        }
    }

    /// An active request is dropped: its chunk goes back and, if its client
    /// still listens, the stream is marked ended.
    fn finish(&self, c: u32, gen: u16, tag: u32, segment: u32, index: u32) {
        let conn = self.p().links.get(c as usize).and_then(Option::as_ref);
        self.p().recv.borrow_mut()[c as usize].give_back(
            segment,
            index,
            conn.map(|l| &l.completion),
            conn.map(|l| &l.submission),
        );
        if self.client_there(c, gen, tag) {
            if let Some(e) = self.p().rlinks[c as usize].as_ref().and_then(|r| r.ended.get(tag_channel(tag) as usize)) {
                e.store(tag, Ordering::Release);
                self.p().sender.wake(c);
            }
        }
    }
}

impl<
        P: Platform,
        Req: Payload + ?Sized,
        Res: Payload + ?Sized,
        ReqH: ZeroCopySend,
        ResH: ZeroCopySend,
        S: Handle<Target = Service<P, Req, Res, ReqH, ResH>>,
    > sealed::Responder for Server<P, Req, Res, ReqH, ResH, S>
{
    #[inline(always)]
    fn finish(&self, client: u32, gen: u16, tag: u32, segment: u32, index: u32) {
        Server::finish(self, client, gen, tag, segment, index);
    }
    fn element_size(&self) -> usize {
        self.p().core.config.payload.size as usize
    }
    fn header_size(&self) -> usize {
        self.p().core.config.user_header.size as usize
    }
}

/// A [`Handle`] to a server, which an [`ActiveRequest`] holds. Sealed.
pub trait RequestHolder: Handle<Target: sealed::Responder> {}
impl<R: Handle<Target: sealed::Responder>> RequestHolder for R {}

/// A request taken by a server: read it, answer it with any number of
/// responses, drop it to end the response stream. Holds its server through
/// `R` (`&Server`, or an owning handle from [`Server::receive_via`]). Not
/// `Send`: it stays on its server's thread (the server's bookkeeping has no
/// lock).
pub struct ActiveRequest<R: RequestHolder, Req: Payload + ?Sized, ReqH: ZeroCopySend> {
    client: u32,
    client_gen: u16,
    tag: u32,
    chunk: Held<Req, ReqH>,
    loans: Cell<u32>,
    server: R,
}

impl<R: RequestHolder, Req: Payload + ?Sized> ActiveRequest<R, Req, Opaque> {
    /// The request user header's bytes (the size the service records).
    pub fn user_header_bytes(&self) -> &[u8] {
        self.chunk.user_header_bytes(sealed::Responder::header_size(&*self.server))
    }
}

impl<R: RequestHolder, ReqH: ZeroCopySend> ActiveRequest<R, [Opaque], ReqH> {
    /// The request's bytes (length × the element size the service records).
    pub fn payload_bytes(&self) -> &[u8] {
        self.chunk.payload_bytes(sealed::Responder::element_size(&*self.server))
    }
}

impl<R: RequestHolder, Req: Payload + ?Sized, ReqH: ZeroCopySend> ActiveRequest<R, Req, ReqH> {
    /// The request payload.
    pub fn payload(&self) -> &Req {
        self.chunk.payload()
    }

    /// The request's user header.
    pub fn user_header(&self) -> &ReqH {
        self.chunk.user_header()
    }

    /// The sending client's id.
    pub fn origin(&self) -> u64 {
        self.chunk.origin
    }
}

impl<R, P, Req, Res, ReqH, ResH, S> ActiveRequest<R, Req, ReqH>
where
    R: Handle<Target = Server<P, Req, Res, ReqH, ResH, S>>,
    P: Platform,
    Req: Payload + ?Sized,
    Res: Payload + ?Sized,
    ReqH: ZeroCopySend,
    ResH: ZeroCopySend,
    S: Handle<Target = Service<P, Req, Res, ReqH, ResH>>,
{
    /// Whether the client is still there and still listens (has not dropped
    /// its `PendingResponse`). Responses sent when it is not are dropped
    /// quietly.
    pub fn is_connected(&self) -> bool {
        self.server.client_there(self.client, self.client_gen, self.tag)
    }

    /// Whether the client asked for the response stream to end
    /// ([`PendingResponse::set_disconnect_hint`](crate::PendingResponse::set_disconnect_hint)):
    /// a polite request; responses sent anyway still arrive.
    pub fn has_disconnect_hint(&self) -> bool {
        self.server.disconnect_hinted(self.client, self.tag)
    }

    fn take_loan(&self, len: usize) -> Result<(usize, u32), LoanError> {
        if self.loans.get() >= self.server.p().loans_per_request {
            return Err(LoanError::ExceedsMaxLoans);
        }
        let got = self.server.allocate(len)?;
        self.loans.set(self.loans.get() + 1);
        Ok(got)
    }
}

impl<R, P, Req, Res, ReqH, ResH, S> ActiveRequest<R, Req, ReqH>
where
    R: Handle<Target = Server<P, Req, Res, ReqH, ResH, S>>,
    P: Platform,
    Req: Payload + ?Sized,
    Res: ZeroCopySend,
    ReqH: ZeroCopySend,
    ResH: ZeroCopySend,
    S: Handle<Target = Service<P, Req, Res, ReqH, ResH>>,
{
    /// Loans an uninitialized response (the user header is zeroed).
    pub fn loan_uninit(&self) -> Result<ResponseMutUninit<'_, R, Req, Res, ReqH, ResH>, LoanError> {
        Self::loan_uninit_via(&self)
    }

    /// [`loan_uninit`](Self::loan_uninit) through a handle to this active
    /// request: the loan holds a clone of `request` instead of borrowing it.
    pub fn loan_uninit_via<L: Handle<Target = Self>>(request: &L) -> Result<ChunkMutUninit<L, Res, ResH>, LoanError> {
        let (slot, index) = request.take_loan(1)?;
        Ok(ChunkMutUninit::new(Loan::new(request.clone(), slot, index, 1)))
    }

    /// Loans a response initialized with `Res::default()`.
    pub fn loan(&self) -> Result<ResponseMut<'_, R, Req, Res, ReqH, ResH>, LoanError>
    where
        Res: Default,
    {
        Ok(self.loan_uninit()?.write_payload(Res::default()))
    }

    /// Copies `value` into a loan and sends it.
    pub fn send_copy(&self, value: Res) -> Result<(), SendError> {
        self.loan_uninit()?.write_payload(value).send()
    }
}

impl<R, P, Req, E, ReqH, ResH, S> ActiveRequest<R, Req, ReqH>
where
    R: Handle<Target = Server<P, Req, [E], ReqH, ResH, S>>,
    P: Platform,
    Req: Payload + ?Sized,
    E: ZeroCopySend,
    ReqH: ZeroCopySend,
    ResH: ZeroCopySend,
    S: Handle<Target = Service<P, Req, [E], ReqH, ResH>>,
{
    /// Loans an uninitialized response slice of `len` elements, growing the
    /// server's data segment if its strategy allows.
    pub fn loan_slice_uninit(&self, len: usize) -> Result<ResponseMutUninit<'_, R, Req, [E], ReqH, ResH>, LoanError> {
        Self::loan_slice_uninit_via(&self, len)
    }

    /// [`loan_slice_uninit`](Self::loan_slice_uninit) through a handle to
    /// this active request (the loan holds a clone of `request`).
    pub fn loan_slice_uninit_via<L: Handle<Target = Self>>(
        request: &L,
        len: usize,
    ) -> Result<ChunkMutUninit<L, [E], ResH>, LoanError> {
        let (slot, index) = request.take_loan(len)?;
        Ok(ChunkMutUninit::new(Loan::new(request.clone(), slot, index, len)))
    }

    /// Loans a response slice of `len` elements, each `E::default()`.
    pub fn loan_slice(&self, len: usize) -> Result<ResponseMut<'_, R, Req, [E], ReqH, ResH>, LoanError>
    where
        E: Default,
    {
        Ok(self.loan_slice_uninit(len)?.write_from_fn(|_| E::default()))
    }

    /// Copies `values` into a loan and sends it.
    pub fn send_slice_copy(&self, values: &[E]) -> Result<(), SendError>
    where
        E: Copy,
    {
        self.loan_slice_uninit(values.len())?.write_from_slice(values).send()
    }
}

impl<R, P, Req, Res, ReqH, ResH, S> sealed::Port for ActiveRequest<R, Req, ReqH>
where
    R: Handle<Target = Server<P, Req, Res, ReqH, ResH, S>>,
    P: Platform,
    Req: Payload + ?Sized,
    Res: Payload + ?Sized,
    ReqH: ZeroCopySend,
    ResH: ZeroCopySend,
    S: Handle<Target = Service<P, Req, Res, ReqH, ResH>>,
{
    fn parts(&self, slot: usize, index: u32) -> (*mut u8, *mut u8) {
        self.server.p().sender.chunk(slot, index)
    }
    fn discard(&self, slot: usize, index: u32) {
        self.loans.set(self.loans.get().saturating_sub(1));
        self.server.p().sender.discard(slot, index);
    }
    fn element_size(&self) -> usize {
        self.server.p().response.payload.size as usize
    }
    fn header_size(&self) -> usize {
        self.server.p().response.user_header.size as usize
    }

    /// A response: to the request's client. A client that left or stopped
    /// listening gets nothing, and that is not an error.
    type Sent<L>
        = ()
    where
        L: Handle<Target = Self>;
    type Error = SendError;
    fn send<L: Handle<Target = Self>>(request: L, segment: usize, index: u32) -> Result<(), SendError> {
        request.loans.set(request.loans.get().saturating_sub(1));
        request.server.respond(request.client, request.client_gen, request.tag, segment, index)
    }
}

impl<R: RequestHolder, Req: Payload + ?Sized, ReqH: ZeroCopySend> Deref for ActiveRequest<R, Req, ReqH> {
    type Target = Req;
    fn deref(&self) -> &Req {
        self.payload()
    }
}

impl<R: RequestHolder, Req: Payload + ?Sized, ReqH: ZeroCopySend> Drop for ActiveRequest<R, Req, ReqH> {
    fn drop(&mut self) {
        let c = &self.chunk;
        sealed::Responder::finish(&*self.server, self.client, self.client_gen, self.tag, c.segment, c.index);
    }
}

impl<R: RequestHolder, Req: Payload + ?Sized + fmt::Debug, ReqH: ZeroCopySend> fmt::Debug
    for ActiveRequest<R, Req, ReqH>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActiveRequest").field("origin", &self.chunk.origin).field("payload", &self.payload()).finish()
    }
}

impl<
        P: Platform,
        Req: Payload + ?Sized,
        Res: Payload + ?Sized,
        ReqH: ZeroCopySend,
        ResH: ZeroCopySend,
        S: Handle<Target = Service<P, Req, Res, ReqH, ResH>>,
    > crate::waitset::Attachable for Server<P, Req, Res, ReqH, ResH, S>
{
    fn wake_word(&self) -> Option<crate::shm::event::Waker<'_>> {
        self.waker()
    }
    fn has_pending(&self) -> bool {
        self.has_requests()
    }
}

impl<P: Platform, Req: Payload + ?Sized, Res: Payload + ?Sized, ReqH: ZeroCopySend, ResH: ZeroCopySend>
    RequestResponse<P, Req, Res, ReqH, ResH>
{
    /// Starts building a server that borrows this service.
    pub fn server_builder(&self) -> ServerBuilder<P, Req, Res, ReqH, ResH, &Self> {
        ServerBuilder::new(self)
    }
}

impl crate::service::request_response::RequestResponseFootprint {
    pub(crate) fn of(cfg: &StaticConfig) -> Result<Self, crate::service::ServiceCreateError> {
        let too_large = crate::service::ServiceCreateError::InvalidQos("data segment size");
        let client = super::client::request_sizing(cfg, 1).map_err(|_| too_large)?;
        let server = response_sizing(cfg, DEFAULT_MAX_LOANED_RESPONSES_PER_REQUEST, 1).map_err(|_| too_large)?;
        Ok(Self {
            service_segment: crate::shm::service::ServiceLayout::of(cfg).size,
            default_client_data_segment: crate::shm::data::DataLayout::new(client).map_err(|_| too_large)?.size,
            default_server_data_segment: crate::shm::data::DataLayout::new(server).map_err(|_| too_large)?.size,
        })
    }
}

//! What every receiving port shares (subscribers now; clients and servers
//! next): mapping a sender's data segments read-only on first sight,
//! checking each reference and length before handing out a chunk, and
//! returning chunks through the completion queue.

use super::ReceiveError;
use crate::config::MAX_SEGMENTS_PER_PORT;
use crate::name::data_segment_name;
use crate::platform::{Access, Platform};
use crate::service::ServiceCore;
use crate::shm::data::{DataIdentity, DataView};
use crate::shm::header::{Header, HeaderCheck};
use crate::shm::queue::Queue;
use crate::shm::relptr::RelPtr;
use crate::shm::service::{conn_word, split_state, status, ConnView, Slot, KIND_DATA, NO_OWNER};
use crate::shm::Region;
use crate::sync::{AtomicU32, Ordering};

/// What a connection update did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Link {
    /// Nothing.
    Unchanged,
    /// Connected now.
    Connected,
    /// Let go of a departed sender.
    Released,
}

/// What a receiver requires of a sender's data segments.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Expect {
    /// The sender's connection count.
    pub(crate) connections: u32,
    /// The sender's history depth.
    pub(crate) history: u32,
    /// Fixed-size payloads: exactly one element per chunk.
    pub(crate) fixed: bool,
    /// Payload size and alignment, user header size and alignment.
    pub(crate) types: (u32, u32, u32, u32),
}

impl Expect {
    /// What a subscriber (or a server, of requests) expects of a service's
    /// senders: the service's payload and user header.
    pub(crate) fn of_requests(c: &crate::shm::service::StaticConfig) -> Self {
        Self {
            connections: c.max_subscribers,
            history: c.history_size,
            fixed: !c.payload_is_slice(),
            types: (c.payload.size, c.payload_alignment, c.user_header.size, c.user_header.align),
        }
    }
}

/// One mapped data segment of a sender.
pub(crate) struct Mapped<P: Platform> {
    id: u32,
    view: DataView,
    _shm: P::Shm,
    /// Chunks of this segment the user holds.
    borrowed: u32,
}

pub(crate) use crate::chunk::Received;

/// A receiver's side of one connection (to one sender slot).
pub(crate) struct RecvConn<P: Platform> {
    /// Sender generation read from (0 = not connected).
    pub(crate) reading: u16,
    /// The sender left; read what is queued, then let go.
    pub(crate) departed: bool,
    /// The sender's memory was caught lying; the connection is skipped.
    pub(crate) corrupt: bool,
    port_id: u64,
    segs: [Option<Mapped<P>>; MAX_SEGMENTS_PER_PORT],
    pub(crate) tail_cache: u32,
    head_cache: u32,
    /// Chunks of this connection the user holds.
    pub(crate) borrowed: u32,
}

impl<P: Platform> Default for RecvConn<P> {
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

/// Whether a port with id `port_id` still holds an active slot in either
/// table (a sender that has left, or is leaving, holds none).
fn sender_present<P: Platform>(core: &ServiceCore<P>, port_id: u64) -> bool {
    let v = &core.view;
    let holds = |s: Slot<'_>| split_state(s.state()).1 == status::ACTIVE && s.port_id() == port_id;
    (0..v.sender_count()).filter_map(|i| v.sender(i)).any(holds)
        || (0..v.receiver_count()).filter_map(|i| v.receiver(i)).any(holds)
}

fn map_segment<P: Platform>(core: &ServiceCore<P>, port_id: u64, segment: u32, expect: Expect) -> Option<Mapped<P>> {
    let name = data_segment_name(&core.prefix, core.hash, port_id, segment);
    let shm = P::shm_open(&name, Access::ReadOnly).ok()?;
    // `Mapped` keeps the mapping and its view together and drops them together.
    let region = Region::of(&shm);
    let header = Header::new(region.try_words(0, crate::shm::header::HEADER_WORDS)?)?;
    if header.check(KIND_DATA, region.len()).0 != HeaderCheck::Ready {
        return None;
    }
    let layout =
        DataView::read_layout(&region, DataIdentity { service_hash: core.hash, port_id, segment }, expect.types)?;
    if layout.connections != expect.connections
        || layout.history != expect.history
        || (expect.fixed && layout.capacity != 1)
    {
        return None;
    }
    let view = DataView::new(region, layout)?;
    Some(Mapped { id: segment, view, _shm: shm, borrowed: 0 })
}

/// Why [`RecvConn::accept`] hands out no chunk.
pub(crate) enum Refusal {
    /// The reference named a segment its departed sender took along: no
    /// fault, nothing to read; go on to the next.
    PassedOver,
    /// What the caller reports.
    Error(ReceiveError),
}

impl From<ReceiveError> for Refusal {
    fn from(e: ReceiveError) -> Self {
        Self::Error(e)
    }
}

/// How many of a receiver's connections are marked corrupt.
pub(crate) fn corrupt_count<P: Platform>(conns: &[RecvConn<P>]) -> u32 {
    conns.iter().filter(|c| c.reading != 0 && c.corrupt).count() as u32
}

impl<P: Platform> RecvConn<P> {
    /// Marks the connection corrupt (its sender's memory lied): it is
    /// skipped from now on, and the port counts it (`corrupt_connections`).
    #[cold]
    #[inline(never)]
    pub(crate) fn mark_corrupt(&mut self, why: &'static str) {
        if !self.corrupt {
            crate::logging::log_warn!(
                "icefloe: connection from sending port {:x} marked corrupt: {}",
                self.port_id,
                why
            );
        }
        self.corrupt = true;
    }

    /// A fresh connection to sender incarnation `generation` of port `port_id`.
    pub(crate) fn connected(generation: u16, port_id: u64) -> Self {
        Self { reading: generation, port_id, ..Self::default() }
    }

    /// Brings this side of a connection in line with the sender's slot and
    /// words: notes a departed sender, lets go of it once nothing of it is
    /// held or queued (`drained`), and connects to a sender that has reset
    /// the connection for us (`own`: our generation). Returns true if it
    /// connected or let go (the caller bumps the epoch for the latter).
    pub(crate) fn sync(
        &mut self,
        core: &ServiceCore<P>,
        sender: Slot<'_>,
        words: (&AtomicU32, &AtomicU32),
        own: u16,
        drained: impl Fn() -> bool,
        expect: Expect,
    ) -> Link {
        let (pub_word, sub_word) = words;
        let (g, st) = split_state(sender.state());
        let active = st == status::ACTIVE;
        if self.reading != 0 && (!active || g != self.reading) {
            self.departed = true;
        }
        if self.reading != 0 && self.departed && self.borrowed == 0 && (self.corrupt || drained()) {
            self.release(sub_word, own);
            return Link::Released;
        }
        if self.reading == 0 && active && pub_word.load(Ordering::Acquire) == conn_word(g, own) {
            if sender.owner() == NO_OWNER {
                return Link::Unchanged;
            }
            *self = Self::connected(g, sender.port_id());
            // Map the sender's newest segment now, so that what it sends
            // stays readable even if it leaves before we receive.
            let newest = sender.field(crate::shm::service::FIELD_NEXT_SEGMENT).wrapping_sub(1);
            self.premap(core, newest, expect);
            sub_word.store(conn_word(own, g), Ordering::Release);
            return Link::Connected;
        }
        Link::Unchanged
    }

    /// Takes the next chunk from `link`'s submission queue, checked (see
    /// [`accept`](Self::accept)). On an empty queue, lets go of a departed
    /// sender (bumping the epoch); a corrupt queue marks the connection.
    pub(crate) fn next(
        &mut self,
        core: &ServiceCore<P>,
        link: &ConnView<'_>,
        own: u16,
        overflow: bool,
        expect: Expect,
    ) -> Result<Option<Received>, ReceiveError> {
        let Some(v) = self.pop(link, overflow)? else { return Ok(self.at_empty(core, link, own)) };
        // The sender's head of our returns, read on the line just read.
        link.completion.learn_head(link.submission.hint(), &mut self.head_cache);
        match self.accept(core, v, expect, &link.completion) {
            Ok(got) => Ok(Some(got)),
            Err(Refusal::PassedOver) => self.pass_over(core, link, own, overflow, expect),
            Err(Refusal::Error(e)) => Err(e),
        }
    }

    /// After a reference into a segment its departed sender took along:
    /// passes over the rest of those (at most a queue's worth) to the next
    /// readable chunk, if any.
    #[cold]
    fn pass_over(
        &mut self,
        core: &ServiceCore<P>,
        link: &ConnView<'_>,
        own: u16,
        overflow: bool,
        expect: Expect,
    ) -> Result<Option<Received>, ReceiveError> {
        for _ in 0..link.submission.capacity() {
            let Some(v) = self.pop(link, overflow)? else { break };
            match self.accept(core, v, expect, &link.completion) {
                Ok(got) => return Ok(Some(got)),
                Err(Refusal::PassedOver) => {}
                Err(Refusal::Error(e)) => return Err(e),
            }
        }
        Ok(self.at_empty(core, link, own))
    }

    /// The next reference in the submission queue; a queue whose counters
    /// are garbage marks the connection.
    #[inline(always)]
    fn pop(&mut self, link: &ConnView<'_>, overflow: bool) -> Result<Option<u64>, ReceiveError> {
        link.submission.pop(&mut self.tail_cache, overflow).map_err(|_| {
            self.mark_corrupt("its submission queue is garbage");
            ReceiveError::ConnectionCorrupted
        })
    }

    /// Nothing (more) to read: lets go of a departed sender, bumping the
    /// epoch so that it sees it. Always `None`.
    fn at_empty(&mut self, core: &ServiceCore<P>, link: &ConnView<'_>, own: u16) -> Option<Received> {
        if self.release_if_drained(link.sub_word, own) {
            core.view.bump_epoch();
        }
        None
    }

    /// Lets go of a departed sender whose queue turned out empty.
    fn release_if_drained(&mut self, sub_word: &AtomicU32, own: u16) -> bool {
        let done = self.reading != 0 && self.departed && self.borrowed == 0;
        if done {
            self.release(sub_word, own);
        }
        done
    }

    /// Forgets the sender and tells it so: "generation `own` reads from nobody".
    fn release(&mut self, sub_word: &AtomicU32, own: u16) {
        *self = Self::default();
        sub_word.store(conn_word(own, 0), Ordering::Release);
    }

    /// [`sync`](Self::sync) for every connection of a receiver whose senders
    /// sit in the publisher table (publishers, or clients for a server's
    /// requests): `conns[i]` reads from the sender of `links[i]`. True if any
    /// let go (the caller bumps the epoch so that the senders see it).
    pub(crate) fn sync_all(
        core: &ServiceCore<P>,
        conns: &mut [Self],
        links: &[Option<ConnView<'_>>],
        own: u16,
        expect: Expect,
    ) -> bool {
        let mut released = false;
        let senders = core.config.max_publishers as usize;
        for (i, (c, link)) in conns.iter_mut().zip(links).enumerate().take(senders) {
            let (Some(slot), Some(link)) = (core.view.sender(i as u32), link) else { continue };
            let drained = || link.submission.is_empty();
            released |= c.sync(core, slot, (link.pub_word, link.sub_word), own, drained, expect) == Link::Released;
        }
        released
    }

    /// Maps segment `id` now if it is not mapped (best effort).
    pub(crate) fn premap(&mut self, core: &ServiceCore<P>, id: u32, expect: Expect) {
        let _ = self.segment_slot(core, id, expect);
    }

    /// The slot of mapped segment `id`, mapping it on first sight (and
    /// unmapping segments no chunk is held from, to make room).
    fn segment_slot(&mut self, core: &ServiceCore<P>, id: u32, expect: Expect) -> Option<usize> {
        if let Some(i) = self.segs.iter().position(|m| m.as_ref().is_some_and(|m| m.id == id)) {
            return Some(i);
        }
        let mapped = map_segment(core, self.port_id, id, expect)?;
        // The sender sends from its newest segment only, so older ones are
        // rarely needed again.
        for m in self.segs.iter_mut() {
            if m.as_ref().is_some_and(|m| m.borrowed == 0) {
                *m = None;
            }
        }
        let free = self.segs.iter().position(Option::is_none)?;
        self.segs[free] = Some(mapped);
        Some(free)
    }

    /// Checks a reference taken from the submission queue and hands out its
    /// chunk; a chunk whose length is impossible goes straight back.
    /// [`Refusal::PassedOver`]: the reference named a segment its departed
    /// sender took with it.
    pub(crate) fn accept(
        &mut self,
        core: &ServiceCore<P>,
        v: u64,
        expect: Expect,
        completion: &Queue<'_>,
    ) -> Result<Received, Refusal> {
        let r = RelPtr::from_u64(v);
        let Some(slot) = self.segment_slot(core, r.segment, expect) else { return self.unmappable(core) };
        let Some(m) = self.segs[slot].as_mut() else { return Err(ReceiveError::ConnectionCorrupted.into()) };
        let l = m.view.layout();
        let capacity = l.capacity;
        let Some(index) = l.chunk_index(r, m.id) else {
            self.mark_corrupt("a reference names no chunk");
            return Err(ReceiveError::ConnectionCorrupted.into());
        };
        let (Some(header), Some((user_header, payload))) = (m.view.chunk_header(index), m.view.chunk_parts(index))
        else {
            self.mark_corrupt("a chunk lies outside its segment");
            return Err(ReceiveError::ConnectionCorrupted.into());
        };
        let len = header.len();
        let origin = header.origin();
        let tag = header.tag();
        let ok_len = if expect.fixed { len == 1 } else { len <= capacity };
        if !ok_len {
            if completion.push(v, &mut self.head_cache).is_err() {
                self.mark_corrupt("its completion queue is full or garbage");
            }
            return Err(ReceiveError::CorruptedSample.into());
        }
        m.borrowed += 1;
        self.borrowed += 1;
        Ok(Received { segment: r.segment, index, len: len as usize, origin, tag, header: user_header, payload })
    }

    /// A reference named a segment that cannot be mapped. A sender that
    /// left (or died, and was cleaned up) took its segments with it: what it
    /// sent from one this receiver had not mapped yet is gone with it, which
    /// is no fault of anyone's (`Ok(None)`: passed over). A sender still
    /// there whose segment cannot be mapped is at fault.
    #[cold]
    #[inline(never)]
    fn unmappable(&mut self, core: &ServiceCore<P>) -> Result<Received, Refusal> {
        if self.departed || !sender_present(core, self.port_id) {
            self.departed = true;
            return Err(Refusal::PassedOver);
        }
        self.mark_corrupt("a sender that is there has a segment that cannot be mapped");
        Err(ReceiveError::UnableToMapPublishersDataSegment.into())
    }

    /// Returns a chunk the user let go of through `completion`; with the
    /// connection's one `submission` queue, also reports how far it was read
    /// (a hint for the sender).
    pub(crate) fn give_back(
        &mut self,
        segment: u32,
        index: u32,
        completion: Option<&Queue<'_>>,
        submission: Option<&Queue<'_>>,
    ) {
        self.borrowed = self.borrowed.saturating_sub(1);
        let Some(m) = self.segs.iter_mut().flatten().find(|m| m.id == segment) else { return };
        m.borrowed = m.borrowed.saturating_sub(1);
        let r = m.view.layout().chunk_ref(index, segment).to_u64();
        if self.corrupt {
            return;
        }
        let Some(completion) = completion else { return };
        if let Some(submission) = submission {
            completion.set_hint(submission.head_value());
        }
        if completion.push(r, &mut self.head_cache).is_err() {
            self.mark_corrupt("its completion queue is full or garbage");
        }
    }
}

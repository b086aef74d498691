//! A validated view of a whole service segment: its tables, connections
//! and event areas, each located by index and checked.

use super::*;

/// A view of a whole service segment whose layout was validated.
pub struct ServiceView {
    region: Region,
    layout: ServiceLayout,
    max_pub: u32,
    max_sub: u32,
    max_nodes: u32,
    buffer: u32,
    completion: u32,
    channels: u32,
    rbuffer: u32,
    rcompletion: u32,
    event_max_id: Option<u32>,
    dead_event: Option<u32>,
}

/// Request-response: the response connection from server slot `s` to
/// client slot `c`, with one submission queue per channel (pending request).
#[derive(Clone, Copy)]
pub struct ResponseConnView<'a> {
    /// Written by the server: (its generation ‹16›, client generation it reset the connection for ‹16›).
    pub pub_word: &'a AtomicU32,
    /// Written by the client: (its generation ‹16›, server generation it reads from ‹16›, 0 = none).
    pub sub_word: &'a AtomicU32,
    /// Written by the server, one per channel: the tag of the last request
    /// whose response stream it ended.
    pub ended: &'a [AtomicU32],
    /// Client → server: responses returned.
    pub completion: Queue<'a>,
    words: &'a [AtomicU32],
    sub_at: usize,
    sub_words: usize,
    capacity: u32,
}

impl<'a> ResponseConnView<'a> {
    /// Server → client: the response queue of channel `k`.
    pub fn channel(&self, k: u32) -> Option<Queue<'a>> {
        if k as usize >= self.ended.len() {
            return None;
        }
        let at = self.sub_at + k as usize * self.sub_words;
        Queue::new(self.words.get(at..at + self.sub_words)?, self.capacity)
    }

    /// Channels (the service's `max_active_requests_per_client`).
    pub fn channels(&self) -> u32 {
        self.ended.len() as u32
    }
}

/// One connection between publisher slot `p` and subscriber slot `s`.
#[derive(Clone, Copy)]
pub struct ConnView<'a> {
    /// Written by the publisher: (its generation ‹16›, subscriber generation it reset the connection for ‹16›).
    pub pub_word: &'a AtomicU32,
    /// Written by the subscriber: (its generation ‹16›, publisher generation it reads from ‹16›, 0 = none).
    pub sub_word: &'a AtomicU32,
    /// Publisher → subscriber.
    pub submission: Queue<'a>,
    /// Subscriber → publisher.
    pub completion: Queue<'a>,
}

/// Packs two generations into a connection word.
pub const fn conn_word(own: u16, peer: u16) -> u32 {
    ((own as u32) << 16) | peer as u32
}

impl ServiceView {
    /// A view over `region` for `cfg`; `None` if the region is too small.
    pub fn new(region: Region, cfg: &StaticConfig) -> Option<Self> {
        let layout = ServiceLayout::of(cfg);
        if region.len() < layout.size {
            return None;
        }
        Some(Self {
            region,
            layout,
            max_pub: cfg.max_publishers,
            max_sub: cfg.max_subscribers,
            max_nodes: cfg.max_nodes,
            buffer: cfg.subscriber_max_buffer_size,
            completion: cfg.completion_capacity(),
            channels: cfg.response.as_ref().map_or(0, |r| r.max_active_requests_per_client),
            rbuffer: cfg.response.as_ref().map_or(0, |r| r.max_response_buffer_size),
            rcompletion: cfg.response.as_ref().map_or(0, |r| r.completion_capacity()),
            event_max_id: cfg.event.as_ref().map(|e| e.event_id_max_value),
            dead_event: cfg.event.as_ref().and_then(|e| e.notifier_dead_event),
        })
    }

    /// Events: listener slot `l`'s wake word and event state.
    pub fn listener_event(&self, l: u32) -> Option<(crate::shm::event::Waker<'_>, crate::shm::event::EventState<'_>)> {
        let max = self.event_max_id?;
        if l >= self.max_sub {
            return None;
        }
        let base = self.layout.events_off + l as usize * self.layout.event_stride;
        let w = self.region.words(base, self.layout.event_stride / 4);
        let summary_at = 16;
        let counters_at = summary_at + crate::shm::align_up(self.layout.summary_words * 4, 64) / 4;
        let state = crate::shm::event::EventState::new(
            w.get(summary_at..summary_at + self.layout.summary_words)?,
            w.get(counters_at..counters_at + max as usize + 1)?,
        )?;
        Some((crate::shm::event::Waker::new(w.first()?), state))
    }

    /// Data patterns: the wake word of subscriber-table port `s` (a
    /// subscriber or a server), signalled when something is queued for it.
    pub fn receiver_waker(&self, s: u32) -> Option<crate::shm::event::Waker<'_>> {
        if self.event_max_id.is_some() || s >= self.max_sub {
            return None;
        }
        self.region.words(self.layout.rx_wake_off + s as usize * 64, 1).first().map(crate::shm::event::Waker::new)
    }

    /// Data patterns: the wake word of publisher-table port `p` (a client
    /// waits there for responses and stream ends).
    pub fn sender_waker(&self, p: u32) -> Option<crate::shm::event::Waker<'_>> {
        if self.event_max_id.is_some() || p >= self.max_pub {
            return None;
        }
        self.region.words(self.layout.tx_wake_off + p as usize * 64, 1).first().map(crate::shm::event::Waker::new)
    }

    /// Events: the id sent to listeners when a dead notifier is cleaned up.
    pub fn dead_event(&self) -> Option<u32> {
        self.dead_event
    }

    /// The layout.
    pub fn layout(&self) -> &ServiceLayout {
        &self.layout
    }

    /// Node slots.
    pub fn node_count(&self) -> u32 {
        self.max_nodes
    }

    /// Sender slots: publishers, clients (of requests), notifiers.
    pub fn sender_count(&self) -> u32 {
        self.max_pub
    }

    /// Receiver slots: subscribers, servers (of requests), listeners.
    pub fn receiver_count(&self) -> u32 {
        self.max_sub
    }

    /// Service state word: 0 open; odd ([`is_destroying`]) while it is
    /// being removed, the bits above counting take-overs of a destroyer
    /// that died.
    pub fn state(&self) -> &AtomicU32 {
        &self.region.words(self.layout.state_off, 1)[0]
    }

    /// Who removes the service: the liveness id in the three words after
    /// the state word (written before the state is marked, and again after).
    pub fn destroyer(&self) -> crate::platform::LivenessId {
        let w = self.region.words(self.layout.state_off + 4, 3);
        crate::platform::LivenessId([0, 1, 2].map(|i| w[i].load(Ordering::Acquire)))
    }

    /// Records who removes the service.
    pub fn set_destroyer(&self, id: crate::platform::LivenessId) {
        for (w, v) in self.region.words(self.layout.state_off + 4, 3).iter().zip(id.0) {
            w.store(v, Ordering::Release);
        }
    }

    /// Incremented whenever a port or connection changes; ports rescan when
    /// it moves. (Read on every loan, send and receive: located once.)
    pub fn epoch(&self) -> &AtomicU32 {
        // SAFETY: `new` checked that the whole layout, this word included,
        // lies within the region; the offset is 64-byte aligned; the region
        // is valid while `self` lives and its words are only used atomically.
        unsafe { &*self.region.base().add(self.layout.epoch_off).cast::<AtomicU32>() }
    }

    fn slot(&self, base: usize, i: u32, n: u32) -> Option<Slot<'_>> {
        (i < n).then(|| Slot { w: self.region.words(base + i as usize * SLOT_WORDS * 4, SLOT_WORDS) })
    }

    /// Node slot `i`.
    pub fn node(&self, i: u32) -> Option<Slot<'_>> {
        self.slot(self.layout.nodes_off, i, self.max_nodes)
    }

    /// Sender slot `i` (a publisher, a client, a notifier).
    pub fn sender(&self, i: u32) -> Option<Slot<'_>> {
        self.slot(self.layout.pubs_off, i, self.max_pub)
    }

    /// Receiver slot `i` (a subscriber, a server, a listener).
    pub fn receiver(&self, i: u32) -> Option<Slot<'_>> {
        self.slot(self.layout.subs_off, i, self.max_sub)
    }

    /// The connection between sender slot `p` and receiver slot `s`.
    pub fn connection(&self, p: u32, s: u32) -> Option<ConnView<'_>> {
        if p >= self.max_pub || s >= self.max_sub {
            return None;
        }
        let base = self.layout.conns_off + (p as usize * self.max_sub as usize + s as usize) * self.layout.conn_stride;
        let w = self.region.words(base, self.layout.conn_stride / 4);
        let sub_at = self.layout.submission_off / 4;
        let comp_at = self.layout.completion_off / 4;
        Some(ConnView {
            pub_word: w.first()?,
            sub_word: w.get(16)?,
            submission: Queue::new(w.get(sub_at..comp_at)?, self.buffer)?,
            completion: Queue::new(w.get(comp_at..)?, self.completion)?,
        })
    }

    /// Request-response: client slot `c`'s listening words, one per channel
    /// (written by the client: the tag of the request it awaits responses
    /// to on that channel, 0 when none).
    pub fn listening(&self, c: u32) -> Option<&[AtomicU32]> {
        if c >= self.max_pub || self.channels == 0 {
            return None;
        }
        let off = self.layout.channels_off + c as usize * self.layout.channel_words * 4;
        Some(self.region.words(off, self.channels as usize))
    }

    /// Request-response: the response connection from server slot `s` to
    /// client slot `c`.
    pub fn response_connection(&self, s: u32, c: u32) -> Option<ResponseConnView<'_>> {
        if s >= self.max_sub || c >= self.max_pub || self.channels == 0 {
            return None;
        }
        let l = &self.layout;
        let base = l.rconns_off + (s as usize * self.max_pub as usize + c as usize) * l.rconn_stride;
        let w = self.region.words(base, l.rconn_stride / 4);
        let ended_at = l.ended_off / 4;
        Some(ResponseConnView {
            pub_word: w.first()?,
            sub_word: w.get(16)?,
            ended: w.get(ended_at..ended_at + self.channels as usize)?,
            completion: Queue::new(w.get(l.rcomp_off / 4..)?, self.rcompletion)?,
            words: w,
            sub_at: l.rsub_off / 4,
            sub_words: l.rsub_stride / 4,
            capacity: self.rbuffer,
        })
    }

    /// Bumps the epoch so that every port rescans.
    pub fn bump_epoch(&self) {
        self.epoch().fetch_add(1, Ordering::SeqCst);
    }
}

/// Service state: being destroyed by its last user (the first mark).
pub const DESTROYING: u32 = 1;

/// Whether a service state word says "being destroyed".
pub const fn is_destroying(state: u32) -> bool {
    state & DESTROYING != 0
}

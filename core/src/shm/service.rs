//! The service segment: static config, node and port tables, connections.
//! See the [module docs](super) for the picture.

use super::queue::Queue;
use super::{LayoutBuilder, Region};
use crate::name::ServiceName;
use crate::platform::LivenessId;
use crate::sync::{load_bytes, load_u64, store_bytes, store_u64, AtomicU32, Ordering};
use crate::zero_copy::{TypeDetail, TypeVariant, MAX_TYPE_NAME_LEN};
use heapless::String;

/// Segment kind word of a service segment.
pub const KIND_SERVICE: u32 = 1;
/// Segment kind word of a data segment.
pub const KIND_DATA: u32 = 2;
/// Messaging pattern: publish-subscribe.
pub const PATTERN_PUBLISH_SUBSCRIBE: u32 = 1;

/// Upper bounds on shared sizes, so that every layout computation stays far
/// from overflow on 32-bit targets too.
pub const MAX_QUEUE_CAPACITY: u32 = 1 << 16;
/// The most nodes a service may admit.
pub const MAX_NODES_LIMIT: u32 = 4096;

const SLOT_WORDS: usize = 8;
const TYPE_WORDS: usize = 4 + MAX_TYPE_NAME_LEN / 4;
const S_PATTERN: usize = 0;
const S_MAX_PUB: usize = 1;
const S_MAX_SUB: usize = 2;
const S_MAX_NODES: usize = 3;
const S_HISTORY: usize = 4;
const S_BUFFER: usize = 5;
const S_BORROWED: usize = 6;
const S_FLAGS: usize = 7;
const S_PAYLOAD_ALIGN: usize = 8;
const S_NAME_LEN: usize = 9;
const S_NAME: usize = 10;
const S_PAYLOAD: usize = S_NAME + 64;
const S_USER_HEADER: usize = S_PAYLOAD + TYPE_WORDS;
const S_MAX_SLICE: usize = S_USER_HEADER + TYPE_WORDS;
const STATIC_WORDS: usize = S_MAX_SLICE + 1;

const FLAG_SAFE_OVERFLOW: u32 = 1;

/// A service's fixed configuration, as stored in its segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticConfig {
    /// The service's full name.
    pub name: ServiceName,
    /// The messaging pattern.
    pub pattern: u32,
    /// Publisher slots.
    pub max_publishers: u32,
    /// Subscriber slots.
    pub max_subscribers: u32,
    /// Node slots.
    pub max_nodes: u32,
    /// Samples a publisher keeps for late joiners.
    pub history_size: u32,
    /// Submission queue capacity per connection.
    pub subscriber_max_buffer_size: u32,
    /// Samples a subscriber may hold at once.
    pub subscriber_max_borrowed_samples: u32,
    /// Whether a full submission queue drops its oldest entry.
    pub enable_safe_overflow: bool,
    /// Payload alignment (at least the payload type's).
    pub payload_alignment: u32,
    /// The payload type.
    pub payload: TypeDetail,
    /// The user header type.
    pub user_header: TypeDetail,
    /// For slice payloads: the longest slice any port of the service may
    /// send, in elements (1 for fixed-size payloads).
    pub max_slice_len: u32,
}

/// The static config read back from a segment makes no sense.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigCorrupt;

impl StaticConfig {
    /// Checks the ranges that keep layout arithmetic safe.
    pub fn is_valid(&self) -> bool {
        let q = 1..=MAX_QUEUE_CAPACITY;
        // The largest any build may be configured with (see build.rs): a
        // service from a larger build than ours is valid, just not ours to
        // serve (`ServiceOpenError::ExceedsBuildLimit`).
        (1..=256).contains(&self.max_publishers)
            && (1..=4096).contains(&self.max_subscribers)
            && (1..=MAX_NODES_LIMIT).contains(&self.max_nodes)
            && self.history_size <= MAX_QUEUE_CAPACITY
            && q.contains(&self.subscriber_max_buffer_size)
            && q.contains(&self.subscriber_max_borrowed_samples)
            && self.payload_alignment.is_power_of_two()
            && self.payload_alignment <= 4096
            && self.payload_alignment >= self.payload.align
            && self.payload.align.is_power_of_two()
            && self.user_header.align.is_power_of_two()
            && self.user_header.align <= 4096
            && self.max_slice_len >= 1
    }

    fn write_type(w: &[AtomicU32], t: &TypeDetail) {
        w[0].store(t.variant as u32, Ordering::Relaxed);
        w[1].store(t.size, Ordering::Relaxed);
        w[2].store(t.align, Ordering::Relaxed);
        w[3].store(t.name.len() as u32, Ordering::Relaxed);
        store_bytes(&w[4..TYPE_WORDS], t.name.as_bytes());
    }

    fn read_type(w: &[AtomicU32]) -> Result<TypeDetail, ConfigCorrupt> {
        let variant = match w[0].load(Ordering::Relaxed) {
            1 => TypeVariant::FixedSize,
            2 => TypeVariant::Slice,
            _ => return Err(ConfigCorrupt),
        };
        let len = w[3].load(Ordering::Relaxed) as usize;
        if len > MAX_TYPE_NAME_LEN {
            return Err(ConfigCorrupt);
        }
        let mut buf = [0u8; MAX_TYPE_NAME_LEN];
        load_bytes(&w[4..TYPE_WORDS], &mut buf[..len]);
        let text = core::str::from_utf8(&buf[..len]).map_err(|_| ConfigCorrupt)?;
        let mut name = String::new();
        name.push_str(text).map_err(|_| ConfigCorrupt)?;
        Ok(TypeDetail { variant, name, size: w[1].load(Ordering::Relaxed), align: w[2].load(Ordering::Relaxed) })
    }

    /// Writes the config into the static part of a new segment.
    pub fn write(&self, words: &[AtomicU32]) {
        let v = [
            self.pattern,
            self.max_publishers,
            self.max_subscribers,
            self.max_nodes,
            self.history_size,
            self.subscriber_max_buffer_size,
            self.subscriber_max_borrowed_samples,
            if self.enable_safe_overflow { FLAG_SAFE_OVERFLOW } else { 0 },
            self.payload_alignment,
            self.name.as_str().len() as u32,
        ];
        for (w, v) in words.iter().zip(v) {
            w.store(v, Ordering::Relaxed);
        }
        store_bytes(&words[S_NAME..S_PAYLOAD], self.name.as_str().as_bytes());
        Self::write_type(&words[S_PAYLOAD..S_USER_HEADER], &self.payload);
        Self::write_type(&words[S_USER_HEADER..S_MAX_SLICE], &self.user_header);
        words[S_MAX_SLICE].store(self.max_slice_len, Ordering::Relaxed);
    }

    /// Reads and validates a config.
    pub fn read(words: &[AtomicU32]) -> Result<Self, ConfigCorrupt> {
        if words.len() < STATIC_WORDS {
            return Err(ConfigCorrupt);
        }
        let r = |i: usize| words[i].load(Ordering::Relaxed);
        let name_len = r(S_NAME_LEN) as usize;
        if name_len > crate::name::MAX_SERVICE_NAME_LEN {
            return Err(ConfigCorrupt);
        }
        let mut buf = [0u8; 256];
        load_bytes(&words[S_NAME..S_PAYLOAD], &mut buf[..name_len]);
        let name = core::str::from_utf8(&buf[..name_len]).map_err(|_| ConfigCorrupt)?;
        let cfg = Self {
            name: ServiceName::new(name).map_err(|_| ConfigCorrupt)?,
            pattern: r(S_PATTERN),
            max_publishers: r(S_MAX_PUB),
            max_subscribers: r(S_MAX_SUB),
            max_nodes: r(S_MAX_NODES),
            history_size: r(S_HISTORY),
            subscriber_max_buffer_size: r(S_BUFFER),
            subscriber_max_borrowed_samples: r(S_BORROWED),
            enable_safe_overflow: r(S_FLAGS) & FLAG_SAFE_OVERFLOW != 0,
            payload_alignment: r(S_PAYLOAD_ALIGN),
            payload: Self::read_type(&words[S_PAYLOAD..S_USER_HEADER])?,
            user_header: Self::read_type(&words[S_USER_HEADER..S_MAX_SLICE])?,
            max_slice_len: r(S_MAX_SLICE),
        };
        if cfg.is_valid() {
            Ok(cfg)
        } else {
            Err(ConfigCorrupt)
        }
    }

    /// The capacity of each completion queue: every chunk that can be out on
    /// one connection (queued plus borrowed), plus one.
    pub fn completion_capacity(&self) -> u32 {
        self.subscriber_max_buffer_size + self.subscriber_max_borrowed_samples + 1
    }
}

/// Byte offsets of every part of a service segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceLayout {
    /// Static config.
    pub static_off: usize,
    /// Service state word (own line).
    pub state_off: usize,
    /// Port epoch word (own line).
    pub epoch_off: usize,
    /// Node table.
    pub nodes_off: usize,
    /// Publisher table.
    pub pubs_off: usize,
    /// Subscriber table.
    pub subs_off: usize,
    /// First connection.
    pub conns_off: usize,
    /// Bytes per connection.
    pub conn_stride: usize,
    /// Submission queue offset within a connection.
    pub submission_off: usize,
    /// Completion queue offset within a connection.
    pub completion_off: usize,
    /// Total segment size.
    pub size: usize,
}

impl ServiceLayout {
    /// The layout for a (valid) config.
    pub fn of(cfg: &StaticConfig) -> Self {
        let mut b = LayoutBuilder::default();
        b.words(super::header::HEADER_WORDS);
        let static_off = b.words(STATIC_WORDS);
        let state_off = b.words(16);
        let epoch_off = b.words(16);
        let nodes_off = b.words(cfg.max_nodes as usize * SLOT_WORDS);
        let pubs_off = b.words(cfg.max_publishers as usize * SLOT_WORDS);
        let subs_off = b.words(cfg.max_subscribers as usize * SLOT_WORDS);
        // A connection: publisher line, subscriber line, then two queues.
        let submission_off = 128;
        let completion_off = submission_off + Queue::words_for(cfg.subscriber_max_buffer_size) * 4;
        let conn_stride = completion_off + Queue::words_for(cfg.completion_capacity()) * 4;
        let n = cfg.max_publishers as usize * cfg.max_subscribers as usize;
        let conns_off = b.add(n * conn_stride, 64);
        Self {
            static_off,
            state_off,
            epoch_off,
            nodes_off,
            pubs_off,
            subs_off,
            conns_off,
            conn_stride,
            submission_off,
            completion_off,
            size: b.size(),
        }
    }

    /// Where the static config starts (the same for every config).
    pub fn static_offset() -> usize {
        let mut b = LayoutBuilder::default();
        b.words(super::header::HEADER_WORDS);
        b.words(STATIC_WORDS)
    }
}

// ---- table slots ----------------------------------------------------------

/// Status of a table slot (low 16 bits of its state word).
pub mod status {
    /// Free for the taking.
    pub const FREE: u32 = 0;
    /// Taken, being filled.
    pub const CLAIMED: u32 = 1;
    /// In use.
    pub const ACTIVE: u32 = 2;
}

/// Splits a state word into (generation, status).
pub const fn split_state(v: u32) -> (u16, u32) {
    ((v >> 16) as u16, v & 0xffff)
}

/// Joins generation and status.
pub const fn join_state(generation: u16, st: u32) -> u32 {
    ((generation as u32) << 16) | st
}

/// The next generation: never 0, so that 0 can mean "none".
pub const fn next_generation(g: u16) -> u16 {
    if g == u16::MAX {
        1
    } else {
        g + 1
    }
}

/// A view of one table slot (node or port): 8 words.
#[derive(Clone, Copy)]
pub struct Slot<'a> {
    w: &'a [AtomicU32],
}

impl<'a> Slot<'a> {
    /// The state word (generation and status).
    pub fn state(&self) -> u32 {
        self.w[0].load(Ordering::Acquire)
    }

    /// Claims the slot if free: returns its new generation.
    pub fn try_claim(&self) -> Option<u16> {
        let cur = self.w[0].load(Ordering::Relaxed);
        let (g, st) = split_state(cur);
        if st != status::FREE {
            return None;
        }
        let ng = next_generation(g);
        self.w[0]
            .compare_exchange(cur, join_state(ng, status::CLAIMED), Ordering::AcqRel, Ordering::Relaxed)
            .ok()
            .map(|_| ng)
    }

    /// Marks a claimed slot active (after its fields are written).
    pub fn activate(&self, generation: u16) {
        self.w[0].store(join_state(generation, status::ACTIVE), Ordering::SeqCst);
    }

    /// Frees the slot if it still is `expected` (a state word); true if this
    /// call freed it. Exactly one of several racing callers succeeds.
    pub fn release(&self, expected: u32) -> bool {
        let (g, _) = split_state(expected);
        self.w[0].compare_exchange(expected, join_state(g, status::FREE), Ordering::SeqCst, Ordering::Relaxed).is_ok()
    }

    /// Field word `i` (1..8).
    pub fn field(&self, i: usize) -> u32 {
        self.w.get(i).map_or(0, |w| w.load(Ordering::Relaxed))
    }

    /// Sets field word `i`.
    pub fn set_field(&self, i: usize, v: u32) {
        if let Some(w) = self.w.get(i) {
            w.store(v, Ordering::Relaxed);
        }
    }

    /// Node slot: the owner's liveness id.
    pub fn liveness(&self) -> LivenessId {
        LivenessId([self.field(1), self.field(2), self.field(3)])
    }

    /// Node slot: writes the owner's liveness id and node id.
    pub fn set_node(&self, id: LivenessId, node_id: u64) {
        for (i, v) in id.0.iter().enumerate() {
            self.set_field(1 + i, *v);
        }
        store_u64(&self.w[4], &self.w[5], node_id);
    }

    /// Node slot: the node id.
    pub fn node_id(&self) -> u64 {
        load_u64(&self.w[4], &self.w[5])
    }

    /// Port slot: owning node slot index.
    pub fn owner(&self) -> u32 {
        self.field(1)
    }

    /// Port slot: the port id (names its data segment).
    pub fn port_id(&self) -> u64 {
        load_u64(&self.w[2], &self.w[3])
    }

    /// Port slot: writes owner and port id.
    pub fn set_port(&self, owner: u32, port_id: u64) {
        self.set_field(1, owner);
        store_u64(&self.w[2], &self.w[3], port_id);
    }
}

/// Field index of a port slot's "owner" word, reset to this on release.
pub const NO_OWNER: u32 = u32::MAX;

/// A view of a whole service segment whose layout was validated.
pub struct ServiceView {
    region: Region,
    layout: ServiceLayout,
    max_pub: u32,
    max_sub: u32,
    max_nodes: u32,
    buffer: u32,
    completion: u32,
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
        })
    }

    /// The layout.
    pub fn layout(&self) -> &ServiceLayout {
        &self.layout
    }

    /// Node slots.
    pub fn node_count(&self) -> u32 {
        self.max_nodes
    }

    /// Publisher slots.
    pub fn publisher_count(&self) -> u32 {
        self.max_pub
    }

    /// Subscriber slots.
    pub fn subscriber_count(&self) -> u32 {
        self.max_sub
    }

    /// Service state word: 0 open, [`DESTROYING`] while the last user leaves.
    pub fn state(&self) -> &AtomicU32 {
        &self.region.words(self.layout.state_off, 1)[0]
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

    /// Publisher slot `i`.
    pub fn publisher(&self, i: u32) -> Option<Slot<'_>> {
        self.slot(self.layout.pubs_off, i, self.max_pub)
    }

    /// Subscriber slot `i`.
    pub fn subscriber(&self, i: u32) -> Option<Slot<'_>> {
        self.slot(self.layout.subs_off, i, self.max_sub)
    }

    /// The connection between publisher slot `p` and subscriber slot `s`.
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

    /// Bumps the epoch so that every port rescans.
    pub fn bump_epoch(&self) {
        self.epoch().fetch_add(1, Ordering::SeqCst);
    }
}

/// Service state: being destroyed by its last user.
pub const DESTROYING: u32 = 1;

#[cfg(test)]
#[cfg(not(loom))]
mod tests {
    use super::*;

    fn cfg() -> StaticConfig {
        StaticConfig {
            name: ServiceName::new("a/b").unwrap(),
            pattern: PATTERN_PUBLISH_SUBSCRIBE,
            max_publishers: 2,
            max_subscribers: 3,
            max_nodes: 4,
            history_size: 1,
            subscriber_max_buffer_size: 2,
            subscriber_max_borrowed_samples: 2,
            enable_safe_overflow: true,
            payload_alignment: 8,
            payload: TypeDetail::of::<u64>().unwrap(),
            user_header: TypeDetail::of::<()>().unwrap(),
            max_slice_len: 1,
        }
    }

    #[test]
    fn static_config_round_trips_and_rejects_garbage() {
        let c = cfg();
        let words: std::vec::Vec<AtomicU32> = (0..STATIC_WORDS).map(|_| AtomicU32::new(0)).collect();
        c.write(&words);
        assert_eq!(StaticConfig::read(&words), Ok(c));
        words[S_MAX_PUB].store(0, Ordering::Relaxed);
        assert_eq!(StaticConfig::read(&words), Err(ConfigCorrupt));
        words[S_MAX_PUB].store(1, Ordering::Relaxed);
        words[S_NAME_LEN].store(9999, Ordering::Relaxed);
        assert_eq!(StaticConfig::read(&words), Err(ConfigCorrupt));
    }

    #[test]
    fn layout_parts_do_not_overlap() {
        let l = ServiceLayout::of(&cfg());
        assert!(l.static_off < l.state_off && l.state_off < l.epoch_off && l.epoch_off < l.nodes_off);
        assert!(l.nodes_off + 4 * 32 <= l.pubs_off && l.pubs_off + 2 * 32 <= l.subs_off);
        assert!(l.subs_off + 3 * 32 <= l.conns_off);
        assert_eq!(l.conns_off + 6 * l.conn_stride, l.size);
        assert_eq!(l.conn_stride % 64, 0);
    }

    #[test]
    fn slot_claim_release_generations() {
        let words: std::vec::Vec<AtomicU32> = (0..8).map(|_| AtomicU32::new(0)).collect();
        let s = Slot { w: &words };
        let g = s.try_claim().unwrap();
        assert_eq!(g, 1);
        assert!(s.try_claim().is_none());
        s.activate(g);
        let st = s.state();
        assert!(!s.release(join_state(g, status::CLAIMED)));
        assert!(s.release(st));
        assert!(!s.release(st));
        assert_eq!(s.try_claim(), Some(2));
        words[0].store(join_state(u16::MAX, status::FREE), Ordering::Relaxed);
        assert_eq!(s.try_claim(), Some(1));
    }
}

#[cfg(test)]
#[cfg(loom)]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;

    /// Two claimants race for one slot: exactly one wins, and a release
    /// with a stale state word does nothing.
    #[test]
    fn one_claimant_wins() {
        loom::model(|| {
            let m: Arc<std::vec::Vec<AtomicU32>> = Arc::new((0..SLOT_WORDS).map(|_| AtomicU32::new(0)).collect());
            let m2 = m.clone();
            let other = loom::thread::spawn(move || {
                let s = Slot { w: &m2 };
                let g = s.try_claim();
                if let Some(g) = g {
                    s.set_field(1, 7);
                    s.activate(g);
                }
                g.is_some()
            });
            let s = Slot { w: &m };
            let mine = s.try_claim();
            if let Some(g) = mine {
                s.set_field(1, 9);
                s.activate(g);
            }
            let theirs = other.join().unwrap();
            assert!(mine.is_some() ^ theirs, "exactly one claimant must win");
            let st = s.state();
            assert_eq!(split_state(st), (1, status::ACTIVE));
            assert_eq!(s.owner(), if theirs { 7 } else { 9 });
            assert!(!s.release(join_state(2, status::ACTIVE)));
            assert!(s.release(st));
        });
    }
}

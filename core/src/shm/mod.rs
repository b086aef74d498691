//! Shared-memory building blocks and the layouts built from them.
//!
//! # Rules
//!
//! * No pointer is stored: references are [`RelPtr`](relptr::RelPtr)
//!   `(segment, offset)` pairs of fixed width.
//! * Every word is a 32-bit atomic, so 32-bit and 64-bit peers share one
//!   layout and no read of another process's writes is a data race.
//! * Every value read back (an index, a counter, a length, an id) is checked
//!   before use; a bad one is an error, never a panic or an out-of-bounds read.
//! * Each word has one writer, except where noted (the claim words of table
//!   slots, taken with a compare-and-swap, and a submission queue's `head`
//!   under safe overflow).
//!
//! # The service segment (`<prefix><hash>s`)
//!
//! | part | words | writer |
//! |---|---|---|
//! | [`header`] | 16 | creator, once |
//! | static config: pattern, QoS, flags, name, payload and user-header type details | fixed | creator, once |
//! | dynamic: service state, port epoch | 16 each (own line) | any node (CAS / `fetch_add`) |
//! | node table: `max_nodes` × (state, liveness id, node id) | 8 each | claimant, cleaner |
//! | publisher table, subscriber table: (state = generation ‹16› + status, node slot, port id) | 8 each | claimant, cleaner |
//! | connections: `max_publishers × max_subscribers` × (publisher word, subscriber word, submission queue, completion queue) | see [`queue`] | one side each |
//! | request-response only: per client, one listening word per channel (the tag it awaits, 0 = none; bit 23 set: the client's disconnect hint) | `align16(max_active_requests_per_client)` each | the client |
//! | request-response only: response connections `max_servers × max_clients` × (server word, client word, per-channel "ended" words, one response queue per channel, one completion queue) | see [`queue`] | one side each (ended: the server) |
//!
//! For request-response the tables read with requests in mind: clients sit
//! in the publisher table and servers in the subscriber table, and a
//! request connection is exactly a publish-subscribe connection (see
//! [`crate::service::request_response`] for channels and tags).
//!
//! A connection is usable when the publisher's word says "publisher
//! generation *gp* has reset this connection for subscriber generation *gs*"
//! and the subscriber's word says "subscriber *gs* reads from publisher
//! *gp*". Only the publisher resets the queues, and only while no subscriber
//! of the current generation reads them, so that each index keeps one writer.
//!
//! # A data segment (`<prefix><hash of service, port id, segment id>d`)
//!
//! One or more per sending port, written by it alone and mapped read-only
//! by receivers. A port starts with one; a slice port whose loan outgrows it
//! (strategy `BestFit` or `PowerOfTwo`) creates the next with a new segment
//! id (a 32-bit counter per port) and sends from that one only; an old
//! segment is unlinked once none of its chunks is out (loaned, queued,
//! borrowed or in the history). Receivers map a segment the first time a
//! reference names it. The port slot records the range of ids that may be
//! alive (oldest, next) so that a cleaner can unlink them all if the port's
//! process dies. Each segment holds: header, layout info (service hash, port id, chunk count,
//! stride, offsets), the publisher's bookkeeping (pool bitmap, per-chunk
//! reference counts, history ring, per-connection in-flight bitsets and
//! cached queue counters), then the chunks. A chunk is a 16-byte
//! [`ChunkHeader`](data::ChunkHeader) (element count, origin, request tag), the user
//! header, then the payload, each aligned as its type requires; the stride is
//! a multiple of 64 bytes.
//!
//! The publisher knows which chunks are out on each connection (a bitset), so
//! when a subscriber dies it takes them all back; when a publisher dies its
//! subscribers keep reading what they hold, and the OS frees the segment when
//! the last mapping goes.
//!
//! # Crash recovery, step by step
//!
//! A process may be SIGKILLed between any two of its instructions. Each
//! multi-step change below is ordered so that every state it can be left in
//! is one the next cleaner (any node that opens the service, or calls
//! `cleanup_dead_nodes`) recognizes and finishes. The named crash points
//! (`crate::crash`) sit between the steps, and the test `crash_points` of
//! `icefloe-linux` kills a process at each one and checks that nothing is
//! left and everything works again.
//!
//! What makes it work: a taken port slot always names its owner node (in
//! its state word, from the claim on); a taken node slot always names a
//! process (its own, or, for a few instructions, its previous occupant);
//! every data segment that can exist
//! lies in the id range recorded in its port's slot *before* it is made;
//! and nothing a cleaner needs is thrown away before the thing it describes.
//!
//! **Joining a service (node slot).** 1. claim a free slot (CAS); 2. write
//! this process's liveness id and node id; 3. activate. Killed between 1
//! and 2 (a few stores, no system call), the slot still names its previous
//! occupant (a slot never used names the service's creator) and is freed
//! once that process is gone. This is the one window left open: writing
//! the identity before the claim would close it, but a joiner that lost
//! the race for the slot could then overwrite the winner's identity, and
//! the winner would never free its slot (seen in a test racing four
//! joiners).
//!
//! **Opening a sending port** (publisher, client, server). 1. claim a port
//! slot for the node (CAS; the owner is in the state word); 2. write the
//! port id and the id range `[first, first + 1)`; 3. create the first data
//! segment (it exists, then is sized, then gets its header); 4. activate.
//! Killed after 1: the slot still holds the previous port's id and range,
//! whose segments are gone already; the cleaner unlinks nothing and frees
//! the slot. Killed after 2 or inside 3: the range names the segment, sized
//! or not; the cleaner unlinks it and frees the slot.
//!
//! **Growing.** 1. record `next = id + 1` (the range now covers `id`);
//! 2. create segment `id`; 3. make it current. Killed after 1: the cleaner
//! unlinks a name that does not exist; after 2: the one that does.
//! **Retiring** an old segment: 1. unlink it; 2. record the new oldest id.
//! Killed between: the range still covers a name already gone.
//!
//! **Dropping a sending port.** 1. mark the slot `LEAVING` (receivers treat
//! the port as gone; nobody connects); 2. unlink every segment; 3. free the
//! slot. Killed after 1 or 2: the slot still names its owner and range; the
//! cleaner unlinks (again) and frees.
//!
//! **Receiving ports** (subscriber, listener) claim, fill and activate their
//! slot the same way and hold no segment; a dead one's slot is freed by the
//! cleaner, and each publisher takes back the chunks that receiver held on
//! its next operation (the connection's generation changed).
//!
//! **Cleaning a dead node** (several cleaners may run at once). For each
//! port slot the dead node owns: 1. read port id and range; 2. check the
//! port slot's state word did not change meanwhile (a new claim changes
//! the generation), and that the node slot still holds the dead node in
//! the state it was found in (once another cleaner has freed it, a new
//! node may sit in the same slot and claim port slots naming the same
//! index: a slow cleaner took such a port for the dead node's, freed its
//! slot and unlinked its segment, found by the torture test's long run);
//! 3. unlink the range; 4. free the slot (CAS: one cleaner wins). Then 5. bump the epoch; 6. free the node slot. Killed anywhere
//! before 6: the node slot still names the dead node, so the next cleaner
//! does it all again; unlinking twice is harmless, freed slots are skipped.
//! A range wider than 4,096 ids (an old segment kept alive by a held
//! chunk while the port grew thousands of times) is not walked name by
//! name: every data segment under the prefix whose header names a dead
//! creator is swept instead, as `cleanup_dead_nodes` always does.
//!
//! **Removing a service** (its last node left). 1. write the destroyer's
//! liveness id beside the state word; 2. mark the state (CAS `0 → 1`);
//! 3. write the id again; 4. check no node joined (else unmark: it lives
//! on); 5. unlink the segments of any port slot still taken; 6. unlink the
//! service segment. Killed after 2: openers get `IsMarkedForDestruction`
//! until someone sees the destroyer dead, takes the mark over (CAS to a new
//! odd value, so one of several wins) and finishes from 4. (A destroyer
//! killed between 2 and 3 while a concurrent, losing destroyer's write of
//! step 1 landed last leaves the mark naming that one: finished once its
//! process ends.)
//!
//! **Creating a service.** 1. create the segment exclusively; 2. write the
//! creator's liveness id into the header; 3. config, first node slot;
//! 4. mark the header ready. Killed before 4: openers see it in creation by
//! a dead creator (or, killed before 2, unsized or unnamed for longer than
//! `CREATION_TIMEOUT_MS`), unlink it and create it anew.
//!
//! **What is lost.** Nothing a living process holds or sent. A dead (or
//! departed) sender's samples are read in full from segments a receiver had
//! mapped; those it sent from a segment no receiver had mapped yet went
//! with it when its segments were unlinked, and receivers pass them over
//! without an error (an error stays for a sender that is still there).

pub mod data;
pub mod event;
pub mod header;
pub mod pool;
pub mod queue;
pub mod relptr;
pub mod service;

use crate::sync::AtomicU32;

/// Rounds `v` up to a multiple of `align` (a power of two).
pub const fn align_up(v: usize, align: usize) -> usize {
    (v + align - 1) & !(align - 1)
}

/// Quotient and remainder by a fixed divisor, computed once, without a
/// divide instruction on 64-bit targets (where a division costs tens of
/// cycles on the hot path): two multiplications, after Lemire, Kaser and
/// Kurz, "Faster remainder by direct computation" (2019), exact for every
/// 32-bit dividend. 32-bit targets (Cortex-M has a fast hardware divide)
/// divide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Divisor {
    d: u32,
    /// ceil(2^64 / d), 0 for d = 1 (which needs no multiplier). Not kept on
    /// 32-bit targets, where every view holding one sits on small stacks.
    #[cfg(target_pointer_width = "64")]
    m: u64,
}

impl Divisor {
    /// A divisor of `d`; 0 counts as 1 (callers never divide by 0, and a
    /// garbage 0 must not trap).
    pub const fn new(d: u32) -> Self {
        let d = if d == 0 { 1 } else { d };
        #[cfg(target_pointer_width = "64")]
        return Self { d, m: (u64::MAX / d as u64).wrapping_add(1) };
        #[cfg(not(target_pointer_width = "64"))]
        return Self { d };
    }

    /// The divisor.
    #[inline]
    pub const fn get(self) -> u32 {
        self.d
    }

    /// `x % d`.
    #[inline]
    pub fn remainder(self, x: u32) -> u32 {
        #[cfg(target_pointer_width = "64")]
        {
            let low = self.m.wrapping_mul(u64::from(x));
            ((u128::from(low) * u128::from(self.d)) >> 64) as u32
        }
        #[cfg(not(target_pointer_width = "64"))]
        {
            x % self.d
        }
    }

    /// `x / d`.
    #[inline]
    pub fn quotient(self, x: u32) -> u32 {
        #[cfg(target_pointer_width = "64")]
        {
            if self.m == 0 {
                return x;
            }
            ((u128::from(self.m) * u128::from(x)) >> 64) as u32
        }
        #[cfg(not(target_pointer_width = "64"))]
        {
            x / self.d
        }
    }
}

/// Lays out consecutive parts of a segment.
#[derive(Debug, Clone, Copy, Default)]
pub struct LayoutBuilder {
    size: usize,
}

impl LayoutBuilder {
    /// Reserves `bytes` aligned to `align`; returns their offset.
    pub fn add(&mut self, bytes: usize, align: usize) -> usize {
        let off = align_up(self.size, align);
        self.size = off + bytes;
        off
    }

    /// Reserves `n` 32-bit words starting on a fresh cache line.
    pub fn words(&mut self, n: usize) -> usize {
        self.add(n * 4, 64)
    }

    /// The total so far, rounded to a cache line.
    pub fn size(&self) -> usize {
        align_up(self.size, 64)
    }
}

/// A mapped segment seen as memory: base pointer and length.
#[derive(Clone, Copy)]
pub struct Region {
    base: *mut u8,
    len: usize,
}

// SAFETY: a region is a view of a shared mapping that other processes
// change concurrently anyway: every access through it is atomic (words) or
// to chunk bytes whose exclusive use the protocol hands from one party to
// the next with release/acquire. Handing the view to, or sharing it with,
// another thread of the same process adds nothing a peer process does not
// already do. The pointer stays valid as long as its owner keeps the
// mapping, which `Region::new`'s contract ties to every use.
unsafe impl Send for Region {}
// SAFETY: as above.
unsafe impl Sync for Region {}

impl Region {
    /// A region over a mapping.
    ///
    /// # Safety
    ///
    /// `base` must be valid for reads (and writes, if any word is written)
    /// of `len` bytes, 4-byte aligned (mappings are page-aligned, which the
    /// layouts' cache-line separation relies on), for as long as the region and any
    /// reference obtained from it are used; the memory may be changed by
    /// other processes only through atomic operations on its words.
    pub unsafe fn new(base: *mut u8, len: usize) -> Self {
        Self { base, len }
    }

    /// The region of a mapping. Whoever keeps the region (or a view made
    /// from it) keeps `shm` beside it and drops both together: a service
    /// core its segment, a sending port each data segment, a receiver each
    /// segment it mapped.
    pub fn of<M: crate::platform::SharedMemory>(shm: &M) -> Self {
        // SAFETY: `SharedMemory`'s contract makes the mapping valid for
        // `len` bytes while `shm` lives, which its holder ensures for every
        // use of the region (above); every word is accessed atomically.
        unsafe { Self::new(shm.as_ptr(), shm.len()) }
    }

    /// The mapped length.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the region is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The base pointer.
    #[inline]
    pub fn base(&self) -> *mut u8 {
        self.base
    }

    /// `count` words at byte offset `off`, or `None` if they do not fit or
    /// `off` is not 4-aligned.
    #[inline]
    pub fn try_words(&self, off: usize, count: usize) -> Option<&[AtomicU32]> {
        let end = count.checked_mul(4)?.checked_add(off)?;
        if end > self.len || off % 4 != 0 {
            return None;
        }
        // SAFETY: the range lies within the mapping (checked above), is
        // 4-aligned, and `Region::new`'s contract makes the mapping valid and
        // its words accessed only atomically.
        Some(unsafe { core::slice::from_raw_parts(self.base.add(off).cast::<AtomicU32>(), count) })
    }

    /// Like [`try_words`](Self::try_words) for ranges that a validated layout
    /// guarantees to fit; an impossible range yields an empty slice.
    #[inline]
    pub fn words(&self, off: usize, count: usize) -> &[AtomicU32] {
        self.try_words(off, count).unwrap_or(&[])
    }
}

#[cfg(test)]
#[cfg(not(loom))]
mod divisor_tests {
    use super::Divisor;

    #[test]
    fn quotient_and_remainder_match_the_divide_instruction() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as u32
        };
        let edges = [0, 1, 2, 3, 63, 64, 65, 4095, 4096, 1 << 31, (1 << 31) - 1, u32::MAX - 1, u32::MAX];
        let mut divisors = std::vec![1, 2, 3, 5, 7, 64, 100, 192, 4096, 65_535, (1 << 31) - 1, 1 << 31, u32::MAX];
        divisors.extend((0..200).map(|_| next() >> (next() % 32)).filter(|&d| d != 0));
        for &d in &divisors {
            let div = Divisor::new(d);
            let xs = edges.iter().copied().chain((0..2000).map(|_| next())).chain((0..64).map(|k| d.wrapping_mul(k)));
            for x in xs {
                assert_eq!(div.remainder(x), x % d, "{x} % {d}");
                assert_eq!(div.quotient(x), x / d, "{x} / {d}");
            }
        }
        assert_eq!(Divisor::new(0).get(), 1);
    }
}

/// Random garbage thrown at every parser of shared memory: none may panic,
/// and what they accept must be self-consistent. (A stand-in for a
/// coverage-guided fuzzer, which needs a nightly toolchain.)
#[cfg(test)]
#[cfg(not(loom))]
mod garbage_tests {
    use super::data::{DataIdentity, DataLayout, DataSizing, DataView};
    use super::header::{Header, HeaderCheck, HEADER_WORDS};
    use super::queue::Queue;
    use super::relptr::RelPtr;
    use super::service::StaticConfig;
    use super::*;
    use std::vec::Vec;

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        /// Mostly small values, sometimes anything: garbage that gets past
        /// the first checks now and then.
        fn word(&mut self) -> u32 {
            match self.next() % 4 {
                0 => self.next() as u32,
                1 => (self.next() % 300) as u32,
                2 => 1 << (self.next() % 32),
                _ => (self.next() % 8) as u32,
            }
        }
    }

    fn words(rng: &mut Rng, n: usize) -> Vec<AtomicU32> {
        (0..n).map(|_| AtomicU32::new(rng.word())).collect()
    }

    #[test]
    fn static_config_reader_never_panics_and_accepts_only_valid() {
        let mut rng = Rng(0x1234_5678_9abc_def1);
        for _ in 0..20_000 {
            let w = words(&mut rng, 400);
            if let Ok(cfg) = StaticConfig::read(&w) {
                assert!(cfg.is_valid());
            }
        }
    }

    #[test]
    fn header_check_never_panics() {
        let mut rng = Rng(7);
        for _ in 0..20_000 {
            let w = words(&mut rng, HEADER_WORDS);
            let h = Header::new(&w).unwrap();
            let len = rng.next() as usize % 100_000;
            if let (HeaderCheck::Ready, size) = h.check(1, len) {
                assert!(size <= len as u64);
            }
        }
    }

    #[test]
    fn data_layout_reader_never_panics_and_fits_what_it_accepts() {
        let mut rng = Rng(99);
        for _ in 0..20_000 {
            let w = words(&mut rng, 256);
            // SAFETY: `w` lives for the whole iteration and is only read
            // through atomics.
            let region = unsafe { Region::new(w.as_ptr() as *mut u8, w.len() * 4) };
            let id = DataIdentity { service_hash: 0, port_id: 0, segment: 0 };
            if let Some(l) = DataView::read_layout(&region, id, (rng.word(), 8, rng.word(), 4)) {
                assert!(l.size <= region.len());
                assert!(l.chunk_offset(l.chunk_count.saturating_sub(1)) + l.stride <= l.size);
            }
        }
    }

    #[test]
    fn chunk_references_resolve_only_inside_the_pool() {
        let mut rng = Rng(5);
        let l = DataLayout::new(DataSizing {
            chunk_count: 10,
            connections: 2,
            history: 1,
            capacity: 3,
            elem: (8, 8),
            user_header: (0, 1),
        })
        .unwrap();
        for _ in 0..100_000 {
            let r = RelPtr { segment: (rng.next() % 3) as u32, offset: rng.word() };
            if let Some(i) = l.chunk_index(r, 1) {
                assert!(i < 10);
                assert_eq!(l.chunk_offset(i), r.offset as usize);
                assert_eq!(r.segment, 1);
            }
        }
    }

    #[test]
    fn queue_on_garbage_counters_never_panics_or_overreads() {
        let mut rng = Rng(77);
        for _ in 0..20_000 {
            let cap = 1 + (rng.next() % 5) as u32;
            let w = words(&mut rng, Queue::words_for(cap));
            let q = Queue::new(&w, cap).unwrap();
            let (mut hc, mut tc) = (rng.word(), rng.word());
            for _ in 0..4 {
                let _ = q.pop(&mut tc, rng.next() % 2 == 0);
                let _ = q.push(1, &mut hc);
                let _ = q.push_overflowing(2, &mut hc);
                if let Ok(n) = q.len() {
                    assert!(n <= cap);
                }
            }
        }
    }
}

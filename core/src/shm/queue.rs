//! Single-producer single-consumer queues of 64-bit entries (chunk
//! references) in shared memory.
//!
//! Layout, in 32-bit words: `head` (written by the consumer) alone on the
//! first 64-byte line, then `tail` (written by the producer) followed at once
//! by two words per entry, so that a consumer reading a short queue finds
//! the counter and the entries on one line. `head` and `tail` are free-running counters;
//! `tail - head` (wrapping) is the length, and a length above the capacity
//! means the memory is corrupt, which every operation reports instead of
//! trusting it.
//!
//! Each side caches the other's counter (in memory of its own choosing) and
//! rereads it only when the cached value says full or empty, so a steady
//! stream costs about one cache-line transfer per side.
//!
//! **Hints.** Beside `tail`, on the line the consumer reads anyway, the
//! producer may leave one more word: the `head` of the queue going the other
//! way, which it consumes (a connection is a submission queue one way and a
//! completion queue back). The other side then learns how far its own pushes
//! were consumed without reading that queue's `head` line, which with a
//! short queue it would otherwise do every other push, on the path of the
//! message. A hint is only ever a lower bound of `head` (heads only grow),
//! used when it lies between the cached `head` and `tail`; it is written
//! with `Release` after the head it reports and read with `Acquire`, so a
//! producer reusing a slot on a hint's word sees the consumer's read of
//! that slot done.
//!
//! **Safe overflow.** A submission queue may let the producer push into a
//! full queue by taking back the oldest entry itself. The producer and the
//! consumer then both advance `head`, each with a compare-and-swap, and the
//! one whose CAS fails retries. The entry read before a successful CAS is
//! the one owned: the producer only rewrites a slot after its own CAS moved
//! `head` past it, so a consumer that read a slot being rewritten fails its
//! CAS and rereads.
//!
//! Orderings: the producer writes the entry (relaxed) then publishes with a
//! `Release` store of `tail`; the consumer's `Acquire` load of `tail`
//! synchronizes with it. The consumer's `Release` advance of `head` (store or
//! CAS) synchronizes with the producer's `Acquire` load of `head` before the
//! producer reuses a slot.

use super::Divisor;
use crate::sync::{AtomicU32, Ordering};

const HEAD: usize = 0;
const TAIL: usize = 16;
const HINT: usize = 17;
// The entries follow `tail` (and the hint) on its own line: the consumer
// finds the counter and the first entries in one cache-line transfer.
const SLOTS: usize = 18;

/// The queue's memory says something impossible (a length above capacity).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct QueueCorrupt;

/// Outcome of a push that did not take the entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PushError {
    /// The queue is full; the entry is handed back.
    Full(u64),
    /// The queue's memory is corrupt; the entry is handed back.
    Corrupt(u64),
}

/// A view of a queue living in shared memory.
#[derive(Clone, Copy)]
pub struct Queue<'a> {
    head: &'a AtomicU32,
    tail: &'a AtomicU32,
    hint: &'a AtomicU32,
    slots: &'a [AtomicU32],
    /// The capacity, kept as a divisor: the slot of a free-running counter
    /// is found without a divide.
    capacity: Divisor,
}

impl<'a> Queue<'a> {
    /// How many 32-bit words a queue of `capacity` entries needs (a multiple
    /// of 16, so that queues laid end to end stay on separate cache lines).
    pub const fn words_for(capacity: u32) -> usize {
        (SLOTS + 2 * capacity as usize).div_ceil(16) * 16
    }

    /// A view over `words` (at least [`words_for`](Self::words_for), zeroed
    /// when new). `capacity` must be at least 1.
    pub fn new(words: &'a [AtomicU32], capacity: u32) -> Option<Self> {
        if capacity == 0 || words.len() < Self::words_for(capacity) {
            return None;
        }
        Some(Self {
            head: &words[HEAD],
            tail: &words[TAIL],
            hint: &words[HINT],
            slots: &words[SLOTS..SLOTS + 2 * capacity as usize],
            capacity: Divisor::new(capacity),
        })
    }

    /// The capacity in entries.
    #[inline]
    pub fn capacity(&self) -> u32 {
        self.capacity.get()
    }

    #[inline]
    fn slot(&self, index: u32) -> (&AtomicU32, &AtomicU32) {
        let i = self.capacity.remainder(index) as usize * 2;
        (&self.slots[i], &self.slots[i + 1])
    }

    #[inline]
    fn read_slot(&self, index: u32) -> u64 {
        let (lo, hi) = self.slot(index);
        u64::from(lo.load(Ordering::Relaxed)) | (u64::from(hi.load(Ordering::Relaxed)) << 32)
    }

    #[inline]
    fn write_slot(&self, index: u32, v: u64) {
        let (lo, hi) = self.slot(index);
        lo.store(v as u32, Ordering::Relaxed);
        hi.store((v >> 32) as u32, Ordering::Relaxed);
    }

    // ---- producer side --------------------------------------------------

    /// Producer: appends `v`, or hands it back if the queue is full.
    /// `head_cache` is the producer's cached copy of `head`.
    #[inline]
    pub fn push(&self, v: u64, head_cache: &mut u32) -> Result<(), PushError> {
        let t = self.tail.load(Ordering::Relaxed);
        if t.wrapping_sub(*head_cache) >= self.capacity() {
            *head_cache = self.head.load(Ordering::Acquire);
            let len = t.wrapping_sub(*head_cache);
            if len > self.capacity() {
                return Err(PushError::Corrupt(v));
            }
            if len == self.capacity() {
                return Err(PushError::Full(v));
            }
        }
        self.write_slot(t, v);
        self.tail.store(t.wrapping_add(1), Ordering::Release);
        Ok(())
    }

    /// Producer: appends `v`; if the queue is full, first takes back the
    /// oldest entry and returns it (safe overflow). The consumer must pop
    /// with `overflow = true`.
    #[inline]
    pub fn push_overflowing(&self, v: u64, head_cache: &mut u32) -> Result<Option<u64>, PushError> {
        let t = self.tail.load(Ordering::Relaxed);
        let mut displaced = None;
        if t.wrapping_sub(*head_cache) >= self.capacity() {
            loop {
                let h = self.head.load(Ordering::Acquire);
                *head_cache = h;
                let len = t.wrapping_sub(h);
                if len > self.capacity() {
                    return Err(PushError::Corrupt(v));
                }
                if len < self.capacity() {
                    break;
                }
                // Full: the oldest slot was written by this producer, so
                // reading it races with nobody.
                let oldest = self.read_slot(h);
                if self.head.compare_exchange(h, h.wrapping_add(1), Ordering::AcqRel, Ordering::Acquire).is_ok() {
                    *head_cache = h.wrapping_add(1);
                    displaced = Some(oldest);
                    break;
                }
            }
        }
        self.write_slot(t, v);
        self.tail.store(t.wrapping_add(1), Ordering::Release);
        Ok(displaced)
    }

    /// Producer: leaves `v` (the head of the reverse queue, which this side
    /// consumes) for the consumer, who reads it with the next `tail`.
    #[inline]
    pub fn set_hint(&self, v: u32) {
        self.hint.store(v, Ordering::Release);
    }

    /// Producer: moves the cached `head` up to `hint` (a head this queue's
    /// consumer reported through the reverse queue) when it lies between
    /// the cached head and `tail`; anything else is ignored.
    #[inline]
    pub fn learn_head(&self, hint: u32, head_cache: &mut u32) {
        let t = self.tail.load(Ordering::Relaxed);
        let ahead = hint.wrapping_sub(*head_cache);
        if ahead != 0 && ahead <= t.wrapping_sub(*head_cache) {
            *head_cache = hint;
        }
    }

    // ---- consumer side --------------------------------------------------

    /// Consumer: what the producer left with [`set_hint`](Self::set_hint).
    #[inline]
    pub fn hint(&self) -> u32 {
        self.hint.load(Ordering::Acquire)
    }

    /// Consumer: its own `head` (to hand to the producer as a hint through
    /// the reverse queue).
    #[inline]
    pub fn head_value(&self) -> u32 {
        self.head.load(Ordering::Relaxed)
    }

    /// Consumer: takes the oldest entry. `tail_cache` is the consumer's
    /// cached copy of `tail`; `overflow` must be true if the producer may
    /// push overflowing.
    #[inline(always)]
    pub fn pop(&self, tail_cache: &mut u32, overflow: bool) -> Result<Option<u64>, QueueCorrupt> {
        loop {
            let h = self.head.load(if overflow { Ordering::Acquire } else { Ordering::Relaxed });
            if h == *tail_cache || tail_cache.wrapping_sub(h) > self.capacity() {
                *tail_cache = self.tail.load(Ordering::Acquire);
                let len = tail_cache.wrapping_sub(h);
                if len == 0 {
                    return Ok(None);
                }
                if len > self.capacity() {
                    // Under safe overflow the producer may have moved `head`
                    // on since we read it; only an unmoved `head` proves
                    // the counters corrupt.
                    if overflow && self.head.load(Ordering::Acquire) != h {
                        continue;
                    }
                    return Err(QueueCorrupt);
                }
            }
            let v = self.read_slot(h);
            if !overflow {
                self.head.store(h.wrapping_add(1), Ordering::Release);
                return Ok(Some(v));
            }
            if self.head.compare_exchange(h, h.wrapping_add(1), Ordering::AcqRel, Ordering::Relaxed).is_ok() {
                return Ok(Some(v));
            }
        }
    }

    /// Either side: the number of entries (a snapshot).
    #[inline]
    pub fn len(&self) -> Result<u32, QueueCorrupt> {
        // `tail` first: `head` read afterwards can only be later, so a
        // healthy queue never shows more than `capacity` entries; a `head`
        // that ran past the `tail` we read means the queue emptied meanwhile.
        let t = self.tail.load(Ordering::Acquire);
        let h = self.head.load(Ordering::Acquire);
        let len = t.wrapping_sub(h);
        if (len as i32) < 0 {
            Ok(0)
        } else if len > self.capacity() {
            Err(QueueCorrupt)
        } else {
            Ok(len)
        }
    }

    /// Whether the queue is empty (a snapshot; corrupt counts as empty).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len().map_or(true, |n| n == 0)
    }

    /// Empties the queue by writing both counters (and the hint). Only for
    /// the one party that owns the queue while neither side uses it
    /// (connection set-up).
    pub fn reset(&self) {
        self.head.store(0, Ordering::Relaxed);
        self.tail.store(0, Ordering::Relaxed);
        self.hint.store(0, Ordering::Relaxed);
    }
}

#[cfg(test)]
#[cfg(not(loom))]
mod tests {
    use super::*;
    use std::vec::Vec;

    fn mem(cap: u32) -> Vec<AtomicU32> {
        (0..Queue::words_for(cap)).map(|_| AtomicU32::new(0)).collect()
    }

    #[test]
    fn fifo_full_and_empty() {
        let m = mem(3);
        let q = Queue::new(&m, 3).unwrap();
        let (mut hc, mut tc) = (0, 0);
        assert_eq!(q.pop(&mut tc, false), Ok(None));
        for v in [u64::MAX, 2, 3] {
            q.push(v, &mut hc).unwrap();
        }
        assert_eq!(q.push(4, &mut hc), Err(PushError::Full(4)));
        assert_eq!(q.pop(&mut tc, false), Ok(Some(u64::MAX)));
        q.push(4, &mut hc).unwrap();
        assert_eq!(q.len(), Ok(3));
        let got: Vec<_> = core::iter::from_fn(|| q.pop(&mut tc, false).unwrap()).collect();
        assert_eq!(got, [2, 3, 4]);
    }

    #[test]
    fn overflow_displaces_oldest() {
        let m = mem(2);
        let q = Queue::new(&m, 2).unwrap();
        let (mut hc, mut tc) = (0, 0);
        assert_eq!(q.push_overflowing(1, &mut hc), Ok(None));
        assert_eq!(q.push_overflowing(2, &mut hc), Ok(None));
        assert_eq!(q.push_overflowing(3, &mut hc), Ok(Some(1)));
        assert_eq!(q.pop(&mut tc, true), Ok(Some(2)));
        assert_eq!(q.pop(&mut tc, true), Ok(Some(3)));
        assert_eq!(q.pop(&mut tc, true), Ok(None));
    }

    #[test]
    fn counters_wrap_around() {
        let m = mem(2);
        m[HEAD].store(u32::MAX - 1, Ordering::Relaxed);
        m[TAIL].store(u32::MAX - 1, Ordering::Relaxed);
        let q = Queue::new(&m, 2).unwrap();
        let (mut hc, mut tc) = (u32::MAX - 1, u32::MAX - 1);
        for round in 0..10u64 {
            q.push(round, &mut hc).unwrap();
            q.push(round + 100, &mut hc).unwrap();
            assert_eq!(q.pop(&mut tc, false), Ok(Some(round)));
            assert_eq!(q.pop(&mut tc, false), Ok(Some(round + 100)));
        }
    }

    #[test]
    fn hints_move_the_cached_head_only_forward_and_within_the_queue() {
        let m = mem(4);
        let q = Queue::new(&m, 4).unwrap();
        let (mut hc, mut tc) = (0, 0);
        for v in 0..4 {
            q.push(v, &mut hc).unwrap();
        }
        assert_eq!(q.pop(&mut tc, false), Ok(Some(0)));
        assert_eq!(q.pop(&mut tc, false), Ok(Some(1)));
        assert_eq!(q.head_value(), 2);
        // Full by the cache; a hint of 2 frees two slots without reading head.
        let mut cache = 0;
        q.learn_head(2, &mut cache);
        assert_eq!(cache, 2);
        // Backwards, beyond tail, garbage: ignored.
        for bad in [1, 5, u32::MAX, 1 << 31] {
            q.learn_head(bad, &mut cache);
            assert_eq!(cache, 2, "hint {bad}");
        }
        q.set_hint(7);
        assert_eq!(q.hint(), 7);
        q.reset();
        assert_eq!(q.hint(), 0);
    }

    #[test]
    fn corrupt_counters_are_reported() {
        let m = mem(4);
        let q = Queue::new(&m, 4).unwrap();
        m[TAIL].store(1000, Ordering::Relaxed);
        let (mut hc, mut tc) = (0, 0);
        assert_eq!(q.pop(&mut tc, false), Err(QueueCorrupt));
        assert_eq!(q.pop(&mut tc, true), Err(QueueCorrupt));
        assert_eq!(q.push(1, &mut hc), Err(PushError::Corrupt(1)));
        assert_eq!(q.push_overflowing(1, &mut hc), Err(PushError::Corrupt(1)));
        assert_eq!(q.len(), Err(QueueCorrupt));
    }

    #[test]
    fn threads_transfer_everything_in_order_with_overflow() {
        let m = mem(4);
        let q = Queue::new(&m, 4).unwrap();
        const N: u64 = 200_000;
        let (received, displaced) = std::thread::scope(|s| {
            let q = &q;
            let consumer = s.spawn(move || {
                let mut tc = 0;
                let mut got = Vec::new();
                loop {
                    match q.pop(&mut tc, true).unwrap() {
                        Some(v) if v == u64::MAX => break got,
                        Some(v) => got.push(v),
                        None => std::hint::spin_loop(),
                    }
                }
            });
            let mut hc = 0;
            let mut displaced = Vec::new();
            for v in 0..N {
                displaced.extend(q.push_overflowing(v, &mut hc).unwrap());
            }
            // The end marker is pushed without displacing anything further.
            while q.push(u64::MAX, &mut hc).is_err() {}
            (consumer.join().unwrap(), displaced)
        });
        // Every value is either received or displaced, exactly once, in order.
        assert!(received.windows(2).all(|w| w[0] < w[1]));
        assert!(displaced.windows(2).all(|w| w[0] < w[1]));
        let mut all: Vec<_> = received.iter().chain(displaced.iter()).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..N).collect::<Vec<_>>());
    }
}

#[cfg(test)]
#[cfg(loom)]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;
    use std::vec::Vec;

    fn mem(cap: u32) -> Arc<Vec<AtomicU32>> {
        Arc::new((0..Queue::words_for(cap)).map(|_| AtomicU32::new(0)).collect())
    }

    #[test]
    fn spsc_delivers_in_order() {
        loom::model(|| {
            let m = mem(1);
            let m2 = m.clone();
            let producer = loom::thread::spawn(move || {
                let q = Queue::new(&m2, 1).unwrap();
                let mut hc = 0;
                let mut sent = 0;
                for v in 1..=2u64 {
                    if q.push(v, &mut hc).is_ok() {
                        sent += 1;
                    }
                }
                sent
            });
            let q = Queue::new(&m, 1).unwrap();
            let mut tc = 0;
            let mut got = Vec::new();
            for _ in 0..2 {
                if let Some(v) = q.pop(&mut tc, false).unwrap() {
                    got.push(v);
                }
            }
            let sent = producer.join().unwrap();
            while let Some(v) = q.pop(&mut tc, false).unwrap() {
                got.push(v);
            }
            assert!(got.windows(2).all(|w| w[0] < w[1]));
            assert_eq!(got.len(), sent);
        });
    }

    /// The producer never reads `head`: it learns from hints the consumer
    /// leaves (as through a reverse queue), and must still never overwrite
    /// an entry the consumer has not read.
    #[test]
    fn producer_reusing_slots_on_hints_overwrites_nothing_unread() {
        loom::model(|| {
            let m = mem(1);
            let reverse = Arc::new(AtomicU32::new(0));
            let (m2, r2) = (m.clone(), reverse.clone());
            let producer = loom::thread::spawn(move || {
                let q = Queue::new(&m2, 1).unwrap();
                let mut hc = 0;
                let mut sent = Vec::new();
                for v in 1..=2u64 {
                    // The slot is free only once a hint says so.
                    q.learn_head(r2.load(Ordering::Acquire), &mut hc);
                    let t = q.tail.load(Ordering::Relaxed);
                    if t.wrapping_sub(hc) < q.capacity() {
                        q.push(v, &mut hc).unwrap();
                        sent.push(v);
                    }
                }
                sent
            });
            let q = Queue::new(&m, 1).unwrap();
            let mut tc = 0;
            let mut got = Vec::new();
            for _ in 0..2 {
                if let Some(v) = q.pop(&mut tc, false).unwrap() {
                    got.push(v);
                    reverse.store(q.head_value(), Ordering::Release);
                }
            }
            let sent = producer.join().unwrap();
            while let Some(v) = q.pop(&mut tc, false).unwrap() {
                got.push(v);
            }
            assert_eq!(got, sent);
        });
    }

    #[test]
    fn overflow_race_loses_and_duplicates_nothing() {
        loom::model(|| {
            let m = mem(1);
            let m2 = m.clone();
            let producer = loom::thread::spawn(move || {
                let q = Queue::new(&m2, 1).unwrap();
                let mut hc = 0;
                let mut displaced = Vec::new();
                for v in 1..=3u64 {
                    displaced.extend(q.push_overflowing(v, &mut hc).unwrap());
                }
                displaced
            });
            let q = Queue::new(&m, 1).unwrap();
            let mut tc = 0;
            let mut got = Vec::new();
            if let Some(v) = q.pop(&mut tc, true).unwrap() {
                got.push(v);
            }
            let displaced = producer.join().unwrap();
            while let Some(v) = q.pop(&mut tc, true).unwrap() {
                got.push(v);
            }
            let mut all: Vec<_> = got.iter().chain(displaced.iter()).copied().collect();
            all.sort_unstable();
            assert_eq!(all, [1, 2, 3]);
            assert!(got.windows(2).all(|w| w[0] < w[1]));
        });
    }
}

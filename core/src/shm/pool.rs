//! A lock-free pool of equal chunks, as a bitmap of 32-bit words in shared
//! memory: bit `i` set means chunk `i` is taken.
//!
//! Allocation finds a clear bit and sets it with a compare-and-swap; release
//! clears it with `fetch_and`. No ABA problem (no links, no tags), a double
//! release is detected, and a crash between any two instructions leaves at
//! most one chunk marked taken. Costs no allocation, no system call.
//!
//! Orderings: a successful allocation is `Acquire` and a release is
//! `Release`, so that everything the previous holder wrote to the chunk
//! happens-before the next holder's use of it.

use crate::sync::{AtomicU32, Ordering};

/// Why a release was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PoolError {
    /// The index is not a chunk of this pool.
    OutOfRange,
    /// The chunk was not taken.
    NotAllocated,
}

/// A view of a pool bitmap living in shared memory.
pub struct Pool<'a> {
    words: &'a [AtomicU32],
    count: u32,
}

/// How many bitmap words a pool of `count` chunks needs.
#[inline]
pub const fn words_for(count: u32) -> usize {
    count.div_ceil(32) as usize
}

impl<'a> Pool<'a> {
    /// A view of `count` chunks over `words` (at least [`words_for`] of them,
    /// zeroed when the pool is new).
    #[inline]
    pub fn new(words: &'a [AtomicU32], count: u32) -> Option<Self> {
        (words.len() >= words_for(count)).then_some(Self { words, count })
    }

    #[inline]
    fn word_mask(&self, w: usize) -> u32 {
        let bits = self.count as usize - w * 32;
        if bits >= 32 {
            u32::MAX
        } else {
            (1u32 << bits) - 1
        }
    }

    /// Takes a free chunk, searching from word `hint`; `None` if all are taken.
    #[inline]
    pub fn allocate(&self, hint: usize) -> Option<u32> {
        let n = words_for(self.count);
        let start = if hint < n { hint } else { 0 };
        for k in 0..n {
            let w = if start + k >= n { start + k - n } else { start + k };
            let mask = self.word_mask(w);
            let word = &self.words[w];
            let mut cur = word.load(Ordering::Relaxed);
            loop {
                let free = !cur & mask;
                if free == 0 {
                    break;
                }
                let bit = free.trailing_zeros();
                match word.compare_exchange_weak(cur, cur | (1 << bit), Ordering::Acquire, Ordering::Relaxed) {
                    Ok(_) => return Some(w as u32 * 32 + bit),
                    Err(actual) => cur = actual,
                }
            }
        }
        None
    }

    /// Returns chunk `index` to the pool.
    #[inline]
    pub fn release(&self, index: u32) -> Result<(), PoolError> {
        if index >= self.count {
            return Err(PoolError::OutOfRange);
        }
        let bit = 1u32 << (index % 32);
        let prev = self.words[(index / 32) as usize].fetch_and(!bit, Ordering::Release);
        if prev & bit == 0 {
            Err(PoolError::NotAllocated)
        } else {
            Ok(())
        }
    }

    /// Whether chunk `index` is taken.
    #[inline]
    pub fn is_allocated(&self, index: u32) -> bool {
        index < self.count && self.words[(index / 32) as usize].load(Ordering::Relaxed) & (1 << (index % 32)) != 0
    }

    /// How many chunks are free (a snapshot).
    pub fn free_count(&self) -> u32 {
        (0..words_for(self.count))
            .map(|w| (!self.words[w].load(Ordering::Relaxed) & self.word_mask(w)).count_ones())
            .sum()
    }

    /// The number of chunks.
    pub fn capacity(&self) -> u32 {
        self.count
    }
}

#[cfg(test)]
#[cfg(not(loom))]
mod tests {
    use super::*;

    fn words(n: usize) -> std::vec::Vec<AtomicU32> {
        (0..n).map(|_| AtomicU32::new(0)).collect()
    }

    #[test]
    fn allocates_every_chunk_once_then_refuses() {
        let w = words(3);
        let pool = Pool::new(&w, 70).unwrap();
        let mut seen = std::collections::BTreeSet::new();
        for i in 0..70 {
            let c = pool.allocate(i % 3).unwrap();
            assert!(c < 70 && seen.insert(c), "chunk {c} handed out twice");
        }
        assert_eq!(pool.allocate(0), None);
        assert_eq!(pool.free_count(), 0);
        pool.release(69).unwrap();
        assert_eq!(pool.allocate(0), Some(69));
    }

    #[test]
    fn bad_releases_are_errors() {
        let w = words(1);
        let pool = Pool::new(&w, 5).unwrap();
        assert_eq!(pool.release(5), Err(PoolError::OutOfRange));
        assert_eq!(pool.release(1), Err(PoolError::NotAllocated));
        let c = pool.allocate(0).unwrap();
        pool.release(c).unwrap();
        assert_eq!(pool.release(c), Err(PoolError::NotAllocated));
        assert!(Pool::new(&w, 33).is_none());
    }

    #[test]
    fn garbage_bitmap_never_yields_out_of_range_chunks() {
        let w = words(1);
        w[0].store(0b0110_1010, Ordering::Relaxed);
        let pool = Pool::new(&w, 5).unwrap();
        let mut got = std::vec::Vec::new();
        while let Some(c) = pool.allocate(0) {
            got.push(c);
        }
        assert_eq!(got, [0, 2, 4]);
    }

    #[test]
    fn threads_never_share_a_chunk() {
        let w = words(2);
        let pool = Pool::new(&w, 64).unwrap();
        let owners: std::vec::Vec<AtomicU32> = (0..64).map(|_| AtomicU32::new(0)).collect();
        std::thread::scope(|s| {
            for t in 1..=4u32 {
                let (pool, owners) = (&pool, &owners);
                s.spawn(move || {
                    for _ in 0..20_000 {
                        if let Some(c) = pool.allocate(t as usize) {
                            assert_eq!(owners[c as usize].swap(t, Ordering::Relaxed), 0);
                            owners[c as usize].store(0, Ordering::Relaxed);
                            pool.release(c).unwrap();
                        }
                    }
                });
            }
        });
        assert_eq!(pool.free_count(), 64);
    }
}

#[cfg(test)]
#[cfg(loom)]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;

    #[test]
    fn concurrent_allocate_release_is_exclusive() {
        loom::model(|| {
            let words = Arc::new([AtomicU32::new(0)]);
            let handles: std::vec::Vec<_> = (0..2)
                .map(|_| {
                    let words = words.clone();
                    loom::thread::spawn(move || {
                        let pool = Pool::new(&words[..], 2).unwrap();
                        let c = pool.allocate(0);
                        if let Some(c) = c {
                            pool.release(c).unwrap();
                        }
                        c
                    })
                })
                .collect();
            let pool = Pool::new(&words[..], 2).unwrap();
            let mine = pool.allocate(0);
            let results: std::vec::Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
            // With two chunks and three takers, the main thread may find none
            // only while both others hold theirs; every chunk comes back.
            if let Some(c) = mine {
                assert!(pool.is_allocated(c));
                pool.release(c).unwrap();
            }
            assert!(results.iter().flatten().all(|&c| c < 2));
            assert_eq!(pool.free_count(), 2);
        });
    }
}

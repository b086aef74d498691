//! The versioned header that starts every segment.
//!
//! Words: magic (2), layout version, kind, size (2), state, creator liveness
//! (3), then reserved words up to 64 bytes. A new segment is zero-filled,
//! so `state == 0` means "being created"; the creator writes everything and
//! then stores `state = READY` with `Release`. Openers load it with
//! `Acquire` and check magic, version, kind and size before anything else.

use crate::platform::LivenessId;
use crate::sync::{AtomicU32, Ordering};

/// The two magic words: "ICEF" "LOE1".
pub const MAGIC: [u32; 2] = [u32::from_le_bytes(*b"ICEF"), u32::from_le_bytes(*b"LOE1")];
/// The layout version; bumped whenever any shared layout changes.
pub const LAYOUT_VERSION: u32 = 5;
/// Header size in 32-bit words (one cache line).
pub const HEADER_WORDS: usize = 16;

const W_MAGIC0: usize = 0;
const W_MAGIC1: usize = 1;
const W_VERSION: usize = 2;
const W_KIND: usize = 3;
const W_SIZE_LO: usize = 4;
const W_SIZE_HI: usize = 5;
const W_STATE: usize = 6;
const W_CREATOR: usize = 7; // 3 words

const STATE_READY: u32 = 0x5245_4459; // "READY"-ish, unlikely in garbage

/// What a header says about its segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum HeaderCheck {
    /// Valid and ready.
    Ready,
    /// Still being created (state not yet ready); `creator` says by whom, if
    /// the creator got as far as writing it.
    InCreation {
        /// The creator's liveness id (all zero if not yet written).
        creator: LivenessId,
    },
    /// Not an icefloe segment, or not of the expected kind.
    BadMagicOrKind,
    /// An icefloe segment of another layout version.
    VersionMismatch {
        /// The version found.
        found: u32,
    },
    /// The size written in the header exceeds the mapping.
    SizeMismatch,
}

/// A view of a segment header.
pub struct Header<'a> {
    w: &'a [AtomicU32],
}

impl<'a> Header<'a> {
    /// A view over the first [`HEADER_WORDS`] words.
    pub fn new(words: &'a [AtomicU32]) -> Option<Self> {
        (words.len() >= HEADER_WORDS).then_some(Self { w: &words[..HEADER_WORDS] })
    }

    /// Creator: writes its identity first, so that a crash during creation
    /// can be told from a slow creator.
    pub fn begin(&self, creator: LivenessId) {
        for (i, v) in creator.0.iter().enumerate() {
            self.w[W_CREATOR + i].store(*v, Ordering::Relaxed);
        }
    }

    /// The creator's liveness id, as far as it was written (all zero if
    /// not yet).
    pub fn creator(&self) -> LivenessId {
        LivenessId([0, 1, 2].map(|i| self.w[W_CREATOR + i].load(Ordering::Relaxed)))
    }

    /// Creator: writes the header and marks the segment ready. Call after
    /// everything else in the segment is written.
    pub fn publish(&self, kind: u32, size: u64) {
        self.w[W_MAGIC0].store(MAGIC[0], Ordering::Relaxed);
        self.w[W_MAGIC1].store(MAGIC[1], Ordering::Relaxed);
        self.w[W_VERSION].store(LAYOUT_VERSION, Ordering::Relaxed);
        self.w[W_KIND].store(kind, Ordering::Relaxed);
        crate::sync::store_u64(&self.w[W_SIZE_LO], &self.w[W_SIZE_HI], size);
        self.w[W_STATE].store(STATE_READY, Ordering::Release);
    }

    /// Opener: checks the header against the expected kind and the mapped
    /// length. Returns the size the header claims when ready.
    pub fn check(&self, kind: u32, mapped_len: usize) -> (HeaderCheck, u64) {
        if self.w[W_STATE].load(Ordering::Acquire) != STATE_READY {
            return (HeaderCheck::InCreation { creator: self.creator() }, 0);
        }
        if self.w[W_MAGIC0].load(Ordering::Relaxed) != MAGIC[0] || self.w[W_MAGIC1].load(Ordering::Relaxed) != MAGIC[1]
        {
            return (HeaderCheck::BadMagicOrKind, 0);
        }
        let version = self.w[W_VERSION].load(Ordering::Relaxed);
        if version != LAYOUT_VERSION {
            return (HeaderCheck::VersionMismatch { found: version }, 0);
        }
        if self.w[W_KIND].load(Ordering::Relaxed) != kind {
            return (HeaderCheck::BadMagicOrKind, 0);
        }
        let size = crate::sync::load_u64(&self.w[W_SIZE_LO], &self.w[W_SIZE_HI]);
        if size > mapped_len as u64 {
            return (HeaderCheck::SizeMismatch, size);
        }
        (HeaderCheck::Ready, size)
    }
}

#[cfg(test)]
#[cfg(not(loom))]
mod tests {
    use super::*;

    #[test]
    fn lifecycle_and_mismatches() {
        let m: std::vec::Vec<AtomicU32> = (0..HEADER_WORDS).map(|_| AtomicU32::new(0)).collect();
        let h = Header::new(&m).unwrap();
        assert_eq!(h.check(1, 100).0, HeaderCheck::InCreation { creator: LivenessId([0; 3]) });
        h.begin(LivenessId([4, 5, 6]));
        assert_eq!(h.check(1, 100).0, HeaderCheck::InCreation { creator: LivenessId([4, 5, 6]) });
        h.publish(1, 100);
        assert_eq!(h.check(1, 100), (HeaderCheck::Ready, 100));
        assert_eq!(h.check(2, 100).0, HeaderCheck::BadMagicOrKind);
        assert_eq!(h.check(1, 99).0, HeaderCheck::SizeMismatch);
        m[W_VERSION].store(9, Ordering::Relaxed);
        assert_eq!(h.check(1, 100).0, HeaderCheck::VersionMismatch { found: 9 });
        m[W_MAGIC0].store(0, Ordering::Relaxed);
        assert_eq!(h.check(1, 100).0, HeaderCheck::BadMagicOrKind);
    }
}

#[cfg(test)]
#[cfg(loom)]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;

    /// Whoever sees `Ready` also sees everything written before `publish`.
    #[test]
    fn ready_publishes_the_contents() {
        loom::model(|| {
            let m: Arc<std::vec::Vec<AtomicU32>> = Arc::new((0..HEADER_WORDS + 1).map(|_| AtomicU32::new(0)).collect());
            let m2 = m.clone();
            let creator = loom::thread::spawn(move || {
                let h = Header::new(&m2).unwrap();
                h.begin(LivenessId([1, 2, 3]));
                m2[HEADER_WORDS].store(42, Ordering::Relaxed);
                h.publish(1, 64);
            });
            let h = Header::new(&m).unwrap();
            if h.check(1, 64).0 == HeaderCheck::Ready {
                assert_eq!(m[HEADER_WORDS].load(Ordering::Relaxed), 42);
            }
            creator.join().unwrap();
            assert_eq!(h.check(1, 64), (HeaderCheck::Ready, 64));
        });
    }
}

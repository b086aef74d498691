//! The one door to atomics: every atomic in the core comes from here, so that
//! `--cfg loom` swaps them for loom's model-checked versions.
//!
//! Shared memory uses 32-bit atomics only, so that 32-bit and 64-bit
//! processes (and Cortex-M parts without 64-bit atomics) share one layout.

#[cfg(loom)]
pub use loom::sync::atomic::{fence, AtomicU32, Ordering};

#[cfg(not(loom))]
pub use core::sync::atomic::{fence, Ordering};

/// The core's 32-bit atomic (the hardware one; loom's under `--cfg loom`).
#[cfg(not(loom))]
#[allow(clippy::disallowed_types)]
pub type AtomicU32 = core::sync::atomic::AtomicU32;

/// The word a platform waits on and wakes: always the real hardware atomic,
/// since the OS (a futex, a task notification) looks at its address.
#[allow(clippy::disallowed_types)]
pub type SignalWord = core::sync::atomic::AtomicU32;

/// A shared word as the platform's wait and wake see it (the same memory).
#[cfg(not(loom))]
pub fn as_signal_word(w: &AtomicU32) -> &SignalWord {
    w
}

/// Under loom the core's atomics are loom's: platform waits are not
/// modelled (the wait protocol has its own loom model), so ports get a
/// stand-in word they never really sleep on.
#[cfg(loom)]
pub fn as_signal_word(_: &AtomicU32) -> &SignalWord {
    #[allow(clippy::disallowed_types)]
    static STAND_IN: SignalWord = SignalWord::new(0);
    &STAND_IN
}

/// Writes a 64-bit value as two 32-bit words (low first). Only for values
/// written before they are published by a release store elsewhere.
#[inline]
pub fn store_u64(lo: &AtomicU32, hi: &AtomicU32, v: u64) {
    lo.store(v as u32, Ordering::Relaxed);
    hi.store((v >> 32) as u32, Ordering::Relaxed);
}

/// Reads a 64-bit value written by [`store_u64`].
#[inline]
pub fn load_u64(lo: &AtomicU32, hi: &AtomicU32) -> u64 {
    u64::from(lo.load(Ordering::Relaxed)) | (u64::from(hi.load(Ordering::Relaxed)) << 32)
}

/// Copies `src` into shared words, four bytes per word (little-endian).
pub fn store_bytes(dst: &[AtomicU32], src: &[u8]) {
    for (i, w) in dst.iter().enumerate() {
        let mut b = [0u8; 4];
        for (j, byte) in b.iter_mut().enumerate() {
            *byte = src.get(i * 4 + j).copied().unwrap_or(0);
        }
        w.store(u32::from_le_bytes(b), Ordering::Relaxed);
    }
}

/// Copies shared words back into bytes; `dst.len()` bytes are read (at most
/// what `src` holds).
pub fn load_bytes(src: &[AtomicU32], dst: &mut [u8]) {
    for (i, byte) in dst.iter_mut().enumerate() {
        *byte = src.get(i / 4).map(|w| w.load(Ordering::Relaxed).to_le_bytes()[i % 4]).unwrap_or(0);
    }
}

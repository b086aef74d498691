//! A counting global allocator: heap allocations to set up a node, a
//! service and two ports, and per round trip (this process's side: one send
//! and one receive), for icefloe and iceoryx2 alike.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

pub struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static SETUP: AtomicU64 = AtomicU64::new(u64::MAX);
static LOOP: AtomicU64 = AtomicU64::new(u64::MAX);

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract is passed on unchanged.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Allocations so far.
pub fn now() -> u64 {
    ALLOCATIONS.load(Ordering::Relaxed)
}

/// Records the allocations since `since` as the last case's setup.
pub fn setup_done(since: u64) {
    SETUP.store(now() - since, Ordering::Relaxed);
}

/// Records the allocations since `since` as the last case's timed loop.
pub fn loop_done(since: u64) {
    LOOP.store(now() - since, Ordering::Relaxed);
}

/// (setup, loop) of the case that just ran, and forgets them.
pub fn take() -> (Option<u64>, Option<u64>) {
    let s = SETUP.swap(u64::MAX, Ordering::Relaxed);
    let l = LOOP.swap(u64::MAX, Ordering::Relaxed);
    ((s != u64::MAX).then_some(s), (l != u64::MAX).then_some(l))
}

//! The counting global allocator of the no-allocation tests (icefloe-linux's
//! and icefloe-qnx's): it counts, per thread, the allocations made while
//! that thread has counting switched on.
#![allow(dead_code)]

use std::alloc::{GlobalAlloc, Layout, System};

struct Counting;

thread_local! {
    /// Set on the thread under test only: the test harness's own threads
    /// (its main thread waiting for results) allocate on their own schedule.
    pub static COUNTING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// This thread's allocations while counting: each test reads its own
    /// (tests run in parallel threads).
    pub static MINE: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Allocations counted on the calling thread so far.
pub struct Allocations;

impl Allocations {
    pub fn load(&self, _: std::sync::atomic::Ordering) -> usize {
        MINE.with(|m| m.get())
    }
}

pub static ALLOCATIONS: Allocations = Allocations;

fn count() {
    if COUNTING.try_with(|c| c.get()).unwrap_or(false) {
        let _ = MINE.try_with(|m| m.set(m.get() + 1));
    }
}

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new: usize) -> *mut u8 {
        count();
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Counts the calling thread's allocations while `f` runs.
pub fn counted(f: impl FnOnce()) -> usize {
    let before = MINE.with(|m| m.get());
    COUNTING.with(|c| c.set(true));
    f();
    COUNTING.with(|c| c.set(false));
    MINE.with(|m| m.get()) - before
}

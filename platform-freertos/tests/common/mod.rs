//! Running a test body as a FreeRTOS task on the POSIX simulator.
//!
//! One scheduler per process: each test file has a single `#[test]`, which
//! runs every scenario of the file in sequence inside one scheduler run.
//! Task code must not allocate or print through std (a task preempted in
//! `malloc` or holding the stdout lock would stall the others): task memory
//! is reserved before the scheduler starts, results travel in atomics.
// Test bookkeeping between tasks: plain atomics, not icefloe's protocol.
#![allow(clippy::disallowed_types)]
#![allow(dead_code)]

use icefloe_core::platform::Platform;
use icefloe_core::sync::SignalWord;
use icefloe_freertos::task::{self, Task, TaskMemory};
use icefloe_freertos::FreeRtos;
use std::sync::atomic::{AtomicPtr, AtomicU32, AtomicUsize, Ordering};
use std::time::Duration;

/// Words of stack per task (the simulator runs tasks on their own pthread
/// stacks; this only holds the port's thread record).
pub const STACK: usize = 256;
const POOL: usize = 32;

static MEMORY: [AtomicPtr<TaskMemory<STACK>>; POOL] = [const { AtomicPtr::new(std::ptr::null_mut()) }; POOL];
static NEXT: AtomicUsize = AtomicUsize::new(0);
static BODY: AtomicUsize = AtomicUsize::new(0);
static OUTCOME: AtomicU32 = AtomicU32::new(0);

/// A generous bound on any wait in a test (never asserted as a duration).
pub const WATCHDOG: Duration = Duration::from_secs(20);

/// Runs `body` in a task of priority 2 and fails the test if it panics or
/// the scheduler ends without it finishing.
pub fn run(body: fn()) {
    for slot in &MEMORY {
        slot.store(Box::into_raw(Box::new(TaskMemory::new())), Ordering::Relaxed);
    }
    BODY.store(body as usize, Ordering::SeqCst);
    task::spawn(memory(), c"test", 2, runner).expect("spawn the test task");
    task::start_scheduler();
    assert_eq!(OUTCOME.load(Ordering::SeqCst), 1, "the test task panicked (message above)");
}

fn runner() {
    // SAFETY: `run` stored a `fn()` here.
    let body: fn() = unsafe { std::mem::transmute::<usize, fn()>(BODY.load(Ordering::SeqCst)) };
    let ok = std::panic::catch_unwind(body).is_ok();
    OUTCOME.store(if ok { 1 } else { 2 }, Ordering::SeqCst);
    task::end_scheduler();
}

/// Memory for one more task, reserved before the scheduler started.
pub fn memory() -> &'static mut TaskMemory<STACK> {
    let i = NEXT.fetch_add(1, Ordering::SeqCst);
    let p = MEMORY.get(i).expect("more tasks than the pool holds").swap(std::ptr::null_mut(), Ordering::SeqCst);
    // SAFETY: leaked in `run`, handed out once.
    unsafe { &mut *p }
}

/// Starts a task running `entry` at `priority`.
pub fn spawn(name: &std::ffi::CStr, priority: u32, entry: fn()) -> Task {
    task::spawn(memory(), name, priority, entry).expect("spawn")
}

/// Waits (sleeping on the word, woken through task notifications) until
/// `word` holds at least `at_least`; panics after the watchdog.
pub fn wait_for(word: &SignalWord, at_least: u32) {
    let start = FreeRtos::now();
    loop {
        check_helpers();
        let v = word.load(Ordering::Acquire);
        if v >= at_least {
            return;
        }
        assert!(FreeRtos::now() - start < WATCHDOG, "watchdog: a task did not get to {at_least} (at {v})");
        FreeRtos::signal_wait(word, v, Some(Duration::from_millis(100)));
    }
}

/// Sets `word` to `value` and wakes its waiters.
pub fn announce(word: &SignalWord, value: u32) {
    word.store(value, Ordering::Release);
    FreeRtos::signal_wake_all(word);
}

static FAILED: AtomicU32 = AtomicU32::new(0);

/// Runs a helper task's body; a panic is recorded (and reported by the next
/// [`wait_for`] of the test task) and the helper then sleeps for good.
/// Not for tasks that are deleted while running: unwinding a deleted task's
/// thread on the simulator must not meet `catch_unwind`.
pub fn guarded(f: impl FnOnce() + std::panic::UnwindSafe) {
    if std::panic::catch_unwind(f).is_err() {
        FAILED.store(1, Ordering::SeqCst);
    }
}

/// Panics if a [`guarded`] helper task failed.
pub fn check_helpers() {
    assert_eq!(FAILED.load(Ordering::SeqCst), 0, "a helper task panicked (message above)");
}

/// Adds one to `word` and wakes its waiters.
pub fn bump(word: &SignalWord) {
    word.fetch_add(1, Ordering::AcqRel);
    FreeRtos::signal_wake_all(word);
}

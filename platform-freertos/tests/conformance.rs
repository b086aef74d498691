//! The platform conformance suite, run inside a FreeRTOS task on the POSIX
//! simulator, plus what it cannot check from one task: a wait woken by
//! another task, and the liveness of deleted and recreated tasks.
// Test bookkeeping between tasks: plain atomics, not icefloe's protocol.
#![allow(clippy::disallowed_types)]

mod common;

use common::*;
use icefloe_core::platform::{Liveness, LivenessId, Platform, WaitOutcome};
use icefloe_core::sync::{Ordering, SignalWord};
use icefloe_freertos::FreeRtos;
use std::sync::atomic::AtomicU32;
use std::time::Duration;

static WORD: SignalWord = SignalWord::new(0);
static WAITER_SAW: AtomicU32 = AtomicU32::new(0);
static STATE: SignalWord = SignalWord::new(0);
static IDS: [AtomicU32; 3] = [const { AtomicU32::new(0) }; 3];

fn waiter() {
    announce(&STATE, 1);
    // Sleeps with no timeout: only a wake from another task ends this.
    let outcome = FreeRtos::signal_wait(&WORD, 0, None);
    WAITER_SAW.store(if outcome == WaitOutcome::Woken { WORD.load(Ordering::Acquire) } else { 99 }, Ordering::SeqCst);
    announce(&STATE, 2);
}

fn liveness_probe() {
    let id = FreeRtos::liveness_self();
    for (slot, v) in IDS.iter().zip(id.0) {
        slot.store(v, Ordering::SeqCst);
    }
    announce(&STATE, STATE.load(Ordering::Acquire) + 1);
    loop {
        icefloe_freertos::task::delay_ticks(1000);
    }
}

fn body() {
    icefloe_core::conformance::run_all::<FreeRtos>("frc_");
    assert_eq!(FreeRtos::free_bytes(), icefloe_freertos::ARENA_BYTES, "conformance left segments in the arena");

    // A higher-priority task blocks on the word; this task changes it and
    // wakes it: the waiter runs at once and reports what it saw.
    spawn(c"waiter", 3, waiter);
    wait_for(&STATE, 1);
    assert_eq!(WAITER_SAW.load(Ordering::SeqCst), 0, "the waiter did not block");
    WORD.store(7, Ordering::Release);
    FreeRtos::signal_wake_all(&WORD);
    wait_for(&STATE, 2);
    assert_eq!(WAITER_SAW.load(Ordering::SeqCst), 7, "the waiter was not woken by the other task");

    // A wait with a timeout on an unchanged word sleeps, then times out.
    let t0 = FreeRtos::now();
    assert_eq!(FreeRtos::signal_wait(&WORD, 7, Some(Duration::from_millis(30))), WaitOutcome::TimedOut);
    assert!(FreeRtos::now() - t0 >= Duration::from_millis(30));

    // Another task is alive while it runs and dead once deleted.
    let memory: *mut _ = memory();
    // SAFETY: the pool's memory, handed to the kernel once here.
    let task = icefloe_freertos::task::spawn(unsafe { &mut *memory }, c"probe", 3, liveness_probe).unwrap();
    wait_for(&STATE, 3);
    let id = LivenessId([0, 1, 2].map(|i| IDS[i].load(Ordering::SeqCst)));
    assert_ne!(id.0[2], 0, "a task got no generation");
    assert_ne!(id, FreeRtos::liveness_self(), "two tasks share a liveness id");
    assert_eq!(FreeRtos::liveness_check(id), Liveness::Alive);
    task.delete();
    assert_eq!(FreeRtos::liveness_check(id), Liveness::Dead, "a deleted task is not dead");
    assert_eq!(FreeRtos::liveness_check(id), Liveness::Dead, "asking twice changes the answer");

    // A new task in the same memory has the same handle but is not the old one.
    // SAFETY: the task that had this memory was deleted by another task, so
    // the kernel gave its control block and stack back at once.
    let again = icefloe_freertos::task::spawn(unsafe { &mut *memory }, c"probe2", 3, liveness_probe).unwrap();
    assert_eq!(again.handle(), task.handle(), "the kernel put the new task elsewhere");
    wait_for(&STATE, 4);
    let new_id = LivenessId([0, 1, 2].map(|i| IDS[i].load(Ordering::SeqCst)));
    assert_eq!(new_id.0[..2], id.0[..2]);
    assert_ne!(new_id, id);
    assert_eq!(FreeRtos::liveness_check(new_id), Liveness::Alive);
    assert_eq!(FreeRtos::liveness_check(id), Liveness::Dead, "a recreated task taken for the deleted one");
    again.delete();
    assert_eq!(FreeRtos::liveness_check(new_id), Liveness::Dead);
}

#[test]
fn freertos_passes_the_conformance_suite() {
    run(body);
}

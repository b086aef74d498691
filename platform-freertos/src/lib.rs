//! icefloe on FreeRTOS, without a heap.
//!
//! [`FreeRtos`] is the [`Platform`]: every task of the program is a
//! participant.
//!
//! - **Shared memory** is a static arena of [`ARENA_BYTES`] bytes holding
//!   at most [`ARENA_SEGMENTS`] named segments (both set at build time:
//!   `ICEFLOE_FREERTOS_ARENA_BYTES`, `ICEFLOE_FREERTOS_SEGMENTS`). A
//!   service that does not fit fails to be *created*
//!   (`ServiceCreateError::InsufficientResources`), never later.
//! - **Waits** block the task on a task notification (index
//!   `ICEFLOE_NOTIFY_INDEX` of the kernel configuration, 1 by default), so a
//!   waiting task sleeps instead of spinning.
//! - **Liveness** is the task handle plus a generation kept in a
//!   thread-local storage slot: a task deleted and created again in the same
//!   memory is not taken for the old one. A deleted task's samples and
//!   requests are reclaimed by `Node::cleanup_dead_nodes` like a dead
//!   process's, and the segment mappings it left are given back to the arena
//!   by the next segment operation.
//! - **Time** is the tick count.
//!
//! The crate builds the FreeRTOS kernel from the sources of the crates.io
//! package `freertos-next` with `config/FreeRTOSConfig.h` (or the folder
//! named by `ICEFLOE_FREERTOS_CONFIG_DIR`), for Cortex-M3/M4F, or the POSIX
//! simulator on a host, where its tests run. Tasks must be created
//! statically ([`task::spawn`]): their control blocks are read after they
//! are deleted.
//!
//! Tables are guarded by suspending the scheduler (`vTaskSuspendAll`), so
//! none of this may be called from an interrupt handler.
//!
//! ```ignore
//! use icefloe_core::{NodeBuilder, ServiceName};
//! use icefloe_freertos::{task::{self, TaskMemory}, FreeRtos};
//!
//! static mut PUBLISHER_TASK: TaskMemory<2560> = TaskMemory::new();
//!
//! fn publisher() {
//!     let node = NodeBuilder::<FreeRtos>::new().create().unwrap();
//!     let service = node
//!         .service_builder(&ServiceName::new("sensor/imu").unwrap())
//!         .publish_subscribe::<[f32; 6]>()
//!         .max_publishers(1)
//!         .max_subscribers(2)
//!         .open_or_create()
//!         .unwrap();
//!     let publisher = service.publisher_builder().create().unwrap();
//!     loop {
//!         publisher.send_copy([0.0; 6]).unwrap();
//!         task::delay_ticks(10);
//!     }
//! }
//!
//! // In main, before the scheduler runs:
//! // SAFETY: the only reference ever made to this memory.
//! let memory = unsafe { &mut *core::ptr::addr_of_mut!(PUBLISHER_TASK) };
//! task::spawn(memory, c"pub", 2, publisher).unwrap();
//! task::start_scheduler();
//! ```
//!
//! `examples/embedded/` has a complete image (two tasks, publish-subscribe
//! and request-response) that runs under QEMU.
#![no_std]
#![deny(unsafe_code)]

// The one module with unsafe code: the kernel's functions and safe wrappers.
#[allow(unsafe_code)]
pub mod ffi;
pub mod task;

include!(concat!(env!("OUT_DIR"), "/settings.rs"));

use core::time::Duration;
use ffi::{KnownTask, SchedulerLocked};
use icefloe_core::arena::{Arena, ArenaShm};
use icefloe_core::platform::{Access, Liveness, LivenessId, Permissions, Platform, ShmError, Termination, WaitOutcome};
use icefloe_core::sync::{Ordering, SignalWord};

static ARENA: Arena<ARENA_BYTES, ARENA_SEGMENTS> = Arena::new();

/// Words tasks may sleep on at once (a WaitSet sleeps on several).
const WAITERS: usize = MAX_TASKS * 4;

/// A task as liveness ids name it: its handle's address and the generation
/// stored in its thread-local slot (0: cannot be told apart).
#[derive(Clone, Copy, PartialEq, Eq)]
struct Participant {
    handle: usize,
    generation: u32,
}

/// A registered task.
#[derive(Clone, Copy)]
struct Registered {
    task: KnownTask,
    generation: u32,
}

impl Registered {
    fn is(&self, p: Participant) -> bool {
        self.task.addr() == p.handle && self.generation == p.generation
    }
}

#[derive(Clone, Copy)]
struct Waiter {
    word: usize,
    task: KnownTask,
}

#[derive(Clone, Copy)]
struct Mapping {
    owner: Participant,
    segment: usize,
}

struct Tables {
    next_generation: u32,
    participants: [Option<Registered>; MAX_TASKS],
    waiters: [Option<Waiter>; WAITERS],
    mappings: [Option<Mapping>; MAX_MAPPINGS],
    tick_high: u32,
    tick_last: u32,
}

/// Every table of the platform, touched with no other task running (see
/// [`SchedulerLocked`]).
static TABLES: SchedulerLocked<Tables> = SchedulerLocked::new(Tables {
    next_generation: 1,
    participants: [None; MAX_TASKS],
    waiters: [None; WAITERS],
    mappings: [None; MAX_MAPPINGS],
    tick_high: 0,
    tick_last: 0,
});

/// Ticks covering at least `d` (rounded up, plus one for the partial tick
/// the wait starts in), short of `portMAX_DELAY`.
fn ticks_for(d: Duration) -> ffi::TickType {
    let ticks = (d.as_nanos() * u128::from(ffi::tick_rate())).div_ceil(1_000_000_000) + 1;
    ticks.min((ffi::MAX_DELAY - 1) as u128) as ffi::TickType
}

fn id_of(p: Participant) -> LivenessId {
    let h = p.handle as u64;
    LivenessId([h as u32, (h >> 32) as u32, p.generation])
}

fn participant_of(id: LivenessId) -> Participant {
    Participant { handle: (u64::from(id.0[0]) | (u64::from(id.0[1]) << 32)) as usize, generation: id.0[2] }
}

/// Whether a registered participant still runs (tables locked).
fn is_alive(r: Registered) -> bool {
    !r.task.is_deleted() && r.task.tls(ffi::tls_index()) == r.generation as usize
}

/// Forgets participants that are gone and gives their mappings back to the
/// arena (tables locked).
fn reap(t: &mut Tables) {
    for slot in t.participants.iter_mut() {
        if let Some(r) = *slot {
            if !is_alive(r) {
                *slot = None;
            }
        }
    }
    for slot in t.mappings.iter_mut() {
        if let Some(m) = *slot {
            let owner_registered = t.participants.iter().flatten().any(|r| r.is(m.owner));
            if m.owner.generation != 0 && !owner_registered {
                ffi::unmap_abandoned(&ARENA, m.segment);
                *slot = None;
            }
        }
    }
}

/// The caller as a participant, registered on first use (tables locked).
/// Generation 0 when it cannot be told apart: outside a task, or with every
/// participant slot taken by live tasks.
fn register_self(t: &mut Tables) -> Participant {
    let Some(task) = KnownTask::current() else {
        return Participant { handle: 0, generation: 0 };
    };
    let stored = task.tls(ffi::tls_index()) as u32;
    let me = Participant { handle: task.addr(), generation: stored };
    if stored != 0 && t.participants.iter().flatten().any(|r| r.is(me)) {
        return me;
    }
    if !t.participants.iter().any(Option::is_none) {
        reap(t);
    }
    let Some(slot) = t.participants.iter_mut().find(|s| s.is_none()) else {
        return Participant { handle: task.addr(), generation: 0 };
    };
    let generation = t.next_generation;
    t.next_generation = t.next_generation.wrapping_add(1).max(1);
    KnownTask::set_own_tls(ffi::tls_index(), generation as usize);
    *slot = Some(Registered { task, generation });
    Participant { handle: task.addr(), generation }
}

/// A segment of the arena mapped by one task.
pub struct FreeRtosShm {
    /// `Some` until dropped.
    inner: Option<ArenaShm<ARENA_BYTES, ARENA_SEGMENTS>>,
    slot: usize,
}

impl Drop for FreeRtosShm {
    fn drop(&mut self) {
        TABLES.with(|t| {
            t.mappings[self.slot] = None;
            // Given back here, once: the table entry that could have given
            // it back as abandoned is gone.
            drop(self.inner.take());
        });
    }
}

/// Records a new mapping's owner, or gives it back when the table is full.
fn track(t: &mut Tables, shm: ArenaShm<ARENA_BYTES, ARENA_SEGMENTS>) -> Result<FreeRtosShm, ShmError> {
    let owner = register_self(t);
    if !t.mappings.iter().any(Option::is_none) {
        reap(t);
    }
    match t.mappings.iter().position(Option::is_none) {
        Some(slot) => {
            t.mappings[slot] = Some(Mapping { owner, segment: shm.segment_index() });
            Ok(FreeRtosShm { inner: Some(shm), slot })
        }
        None => Err(ShmError::InsufficientResources),
    }
}

/// icefloe's platform on FreeRTOS (see the crate docs).
pub struct FreeRtos;

impl FreeRtos {
    /// Bytes of the arena not taken by any segment (a snapshot).
    pub fn free_bytes() -> usize {
        TABLES.with(|t| {
            reap(t);
            ARENA.free_bytes()
        })
    }
}

impl FreeRtos {
    /// The most bytes segments ever took at once: what to size
    /// `ICEFLOE_FREERTOS_ARENA_BYTES` by.
    pub fn peak_bytes_in_use() -> usize {
        TABLES.with(|_| ARENA.peak_bytes_in_use())
    }
}

impl Platform for FreeRtos {
    type Shm = FreeRtosShm;
    type Hold<X> = X;

    fn shm_create(name: &str, size: usize, _: Permissions) -> Result<FreeRtosShm, ShmError> {
        TABLES.with(|t| {
            let shm = match ARENA.create(name, size) {
                Err(ShmError::InsufficientResources) => {
                    reap(t);
                    ARENA.create(name, size)?
                }
                r => r?,
            };
            track(t, shm)
        })
    }

    fn shm_open(name: &str, _: Access) -> Result<FreeRtosShm, ShmError> {
        TABLES.with(|t| {
            let shm = ARENA.open(name)?;
            track(t, shm)
        })
    }

    fn shm_unlink(name: &str) -> Result<(), ShmError> {
        TABLES.with(|t| {
            let r = ARENA.unlink(name);
            reap(t);
            r
        })
    }

    fn shm_list(prefix: &str, f: &mut dyn FnMut(&str) -> bool) -> Result<(), ShmError> {
        // Copy the names with the scheduler suspended (the arena's spin lock
        // must never be held by a preempted task), then call `f`, which may
        // create or open segments, outside.
        for name in &TABLES.with(|_| ARENA.names(prefix)) {
            if !f(name) {
                break;
            }
        }
        Ok(())
    }

    fn signal_wait(word: &SignalWord, expected: u32, timeout: Option<Duration>) -> WaitOutcome {
        Self::signal_wait_any(&[(word, expected)], timeout)
    }

    fn signal_wait_any(words: &[(&SignalWord, u32)], timeout: Option<Duration>) -> WaitOutcome {
        if words.iter().any(|(w, v)| w.load(Ordering::Acquire) != *v) {
            return WaitOutcome::Woken;
        }
        let Some(task) = KnownTask::current() else {
            return WaitOutcome::TimedOut;
        };
        let index = ffi::notify_index();
        task.clear_notification(index);
        // One waiter entry per word: a wake of any notifies this task. The
        // words are checked again after registering (no lost wake).
        let all = TABLES.with(|t| {
            let mut placed = 0;
            for (w, _) in words {
                let Some(slot) = t.waiters.iter_mut().find(|s| s.is_none()) else { break };
                *slot = Some(Waiter { word: *w as *const SignalWord as usize, task });
                placed += 1;
            }
            placed == words.len()
        });
        let changed = || words.iter().any(|(w, v)| w.load(Ordering::Acquire) != *v);
        let outcome = if changed() {
            WaitOutcome::Woken
        } else if all {
            let ticks = timeout.map_or(ffi::MAX_DELAY, ticks_for);
            let got = ffi::take_own_notification(index, ticks);
            if got != 0 || changed() {
                WaitOutcome::Woken
            } else {
                WaitOutcome::TimedOut
            }
        } else {
            // Not enough waiter entries: check once per tick.
            let start = Self::now();
            loop {
                ffi::delay(1);
                if changed() {
                    break WaitOutcome::Woken;
                }
                if timeout.is_some_and(|t| Self::now().saturating_sub(start) >= t) {
                    break WaitOutcome::TimedOut;
                }
            }
        };
        TABLES.with(|t| {
            for slot in t.waiters.iter_mut() {
                if slot.is_some_and(|w| w.task == task) {
                    *slot = None;
                }
            }
        });
        outcome
    }

    fn signal_wake_all(word: &SignalWord) {
        let word_addr = word as *const SignalWord as usize;
        TABLES.with(|t| {
            // A waiter is a task blocked (or about to block) in
            // `signal_wait`; one deleted meanwhile leaves a static TCB,
            // where a stray notification is harmless.
            for w in t.waiters.iter().flatten().filter(|w| w.word == word_addr) {
                w.task.notify(ffi::notify_index());
            }
        });
    }

    fn liveness_self() -> LivenessId {
        let me = TABLES.with(register_self);
        if me.handle == 0 {
            LivenessId([0; 3])
        } else {
            id_of(me)
        }
    }

    fn liveness_check(id: LivenessId) -> Liveness {
        let p = participant_of(id);
        if p.generation == 0 || p.handle == 0 {
            return Liveness::Unknown;
        }
        TABLES.with(|t| {
            let Some(slot) = t.participants.iter_mut().find(|s| s.is_some_and(|r| r.is(p))) else {
                // Never handed out, or already found gone.
                return Liveness::Dead;
            };
            if slot.is_some_and(is_alive) {
                Liveness::Alive
            } else {
                *slot = None;
                Liveness::Dead
            }
        })
    }

    fn now() -> Duration {
        let raw = ffi::tick_count() as u64;
        let ticks = if core::mem::size_of::<ffi::TickType>() >= 8 {
            raw
        } else {
            // 32-bit ticks wrap (49 days at 1 kHz): count the wraps seen.
            TABLES.with(|t| {
                let low = raw as u32;
                if low < t.tick_last {
                    t.tick_high += 1;
                }
                t.tick_last = low;
                (u64::from(t.tick_high) << 32) | u64::from(low)
            })
        };
        let hz = ffi::tick_rate();
        Duration::new(ticks / hz, ((ticks % hz) * 1_000_000_000 / hz) as u32)
    }

    fn sleep(duration: Duration) -> Result<(), Termination> {
        ffi::delay(ticks_for(duration));
        Ok(())
    }

    fn take_termination_request() -> Option<Termination> {
        None
    }
}

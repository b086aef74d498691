//! The portable POSIX part of the QNX platform: everything here is POSIX
//! (shared memory, unnamed process-shared semaphores, robust process-shared
//! mutexes, `clock_gettime`, signals), so it builds and runs on Linux too,
//! where the crate's tests exercise it across real processes. The few
//! Neutrino-only calls (`shm_ctl`, `sem_timedwait_monotonic`, the
//! `/dev/shmem` directory) sit behind `cfg(target_os = "nto")` in
//! [`sys`].

#![allow(clippy::disallowed_types)]

mod liveness;
pub(crate) mod park;
pub mod robust;
mod shm;
mod sys;

pub use park::{wake_calls, WakeCalls};
pub use shm::QnxShm;

use icefloe_core::platform::{
    Access, Liveness, LivenessId, Permissions, Platform, ShmError, SignalHandlingMode, Termination, WaitOutcome,
};
use icefloe_core::sync::SignalWord;
use icefloe_std::termination;
use park::{Sleeper, Spot};
use std::sync::atomic::Ordering;
use std::time::Duration;

/// The QNX Neutrino platform (on any other POSIX system, its portable
/// part: the same code, with `/dev/shm` for `/dev/shmem`).
#[derive(Debug, Clone, Copy)]
pub struct Qnx;

/// How long a poll lasts for a word in a mapping without wake buckets (a
/// read-only one), and the slice a wait on several buckets sleeps.
const POLL: Duration = Duration::from_millis(1);

fn monotonic() -> libc::timespec {
    let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `t` is a valid, writable timespec; CLOCK_MONOTONIC exists
    // on every POSIX system icefloe runs on.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut t) };
    t
}

// `time_t` and `c_long` are `i64` here but not on every POSIX target.
#[allow(clippy::useless_conversion)]
fn deadline(timeout: Duration) -> libc::timespec {
    let now = monotonic();
    let nanos = i64::from(now.tv_nsec) + i64::from(timeout.subsec_nanos());
    let secs = i64::try_from(timeout.as_secs()).unwrap_or(i64::MAX / 4).min(i64::MAX / 4);
    libc::timespec {
        tv_sec: libc::time_t::try_from(i64::from(now.tv_sec).saturating_add(secs + nanos / 1_000_000_000))
            .unwrap_or(libc::time_t::MAX),
        tv_nsec: (nanos % 1_000_000_000) as _,
    }
}

/// Sleeps `d` (a termination request cuts it short with EINTR).
fn nap(d: Duration) {
    let t = libc::timespec { tv_sec: d.as_secs() as libc::time_t, tv_nsec: d.subsec_nanos() as _ };
    // SAFETY: valid timespec; no remainder wanted.
    unsafe { libc::nanosleep(&t, core::ptr::null_mut()) };
}

/// One sleep on `bucket` while `unchanged()` holds: registered for the
/// signal handler's wake (or cut to the backstop when the table is full),
/// a pending termination request noticed before and after.
fn sleep_on(bucket: *const park::Bucket, unchanged: impl Fn() -> bool, timeout: Option<Duration>) -> WaitOutcome {
    let sleeper = Sleeper::register(bucket);
    if termination::peek().is_some() {
        return WaitOutcome::Interrupted;
    }
    let slice = match (sleeper.is_registered(), timeout) {
        (true, t) => t,
        (false, t) => Some(t.map_or(park::TERMINATION_BACKSTOP, |t| t.min(park::TERMINATION_BACKSTOP))),
    };
    let until = slice.map(deadline);
    // SAFETY: the bucket lies in a park that stays mapped while the
    // caller's word (in the same mapping, or in process memory for the
    // local park) is borrowed, which outlasts this call.
    let outcome = unsafe { &*bucket }.sleep(unchanged, until.as_ref());
    drop(sleeper);
    match outcome {
        _ if termination::peek().is_some() => WaitOutcome::Interrupted,
        WaitOutcome::TimedOut if slice != timeout => WaitOutcome::Woken,
        other => other,
    }
}

/// Sleeps in slices of at most [`POLL`] (`one`) until `unchanged()` fails,
/// a slice ends woken or interrupted, or `timeout` passes.
fn sliced(
    timeout: Option<Duration>,
    unchanged: impl Fn() -> bool,
    one: impl Fn(Duration) -> WaitOutcome,
) -> WaitOutcome {
    let start = Qnx::now();
    loop {
        let slice = match timeout {
            Some(t) => match t.checked_sub(Qnx::now().saturating_sub(start)) {
                Some(left) if !left.is_zero() => left.min(POLL),
                _ => return WaitOutcome::TimedOut,
            },
            None => POLL,
        };
        match one(slice) {
            WaitOutcome::TimedOut if unchanged() => {}
            WaitOutcome::TimedOut => return WaitOutcome::Woken,
            other => return other,
        }
    }
}

/// One poll slice: sleeps `timeout` (at most [`POLL`]).
fn poll(timeout: Option<Duration>) -> WaitOutcome {
    if termination::peek().is_some() {
        return WaitOutcome::Interrupted;
    }
    let slice = timeout.map_or(POLL, |t| t.min(POLL));
    park::count_poll();
    nap(slice);
    if termination::peek().is_some() {
        WaitOutcome::Interrupted
    } else if timeout.is_some_and(|t| t <= POLL) {
        WaitOutcome::TimedOut
    } else {
        WaitOutcome::Woken
    }
}

impl Platform for Qnx {
    type Shm = QnxShm;
    type Hold<X> = crate::Shared<X>;

    fn shm_create(name: &str, size: usize, permissions: Permissions) -> Result<QnxShm, ShmError> {
        shm::create(name, size, permissions)
    }

    fn shm_open(name: &str, access: Access) -> Result<QnxShm, ShmError> {
        shm::open(name, access)
    }

    fn shm_unlink(name: &str) -> Result<(), ShmError> {
        shm::remove(name)
    }

    fn shm_list(prefix: &str, f: &mut dyn FnMut(&str) -> bool) -> Result<(), ShmError> {
        shm::list(prefix, f)
    }

    fn signal_wait(word: &SignalWord, expected: u32, timeout: Option<Duration>) -> WaitOutcome {
        if word.load(Ordering::SeqCst) != expected {
            return WaitOutcome::Woken;
        }
        let unchanged = || word.load(Ordering::SeqCst) == expected;
        match Spot::of(word as *const SignalWord as usize).bucket() {
            Some(b) => sleep_on(b, unchanged, timeout),
            None => sliced(timeout, unchanged, |slice| poll(Some(slice))),
        }
    }

    fn signal_wait_any(words: &[(&SignalWord, u32)], timeout: Option<Duration>) -> WaitOutcome {
        if words.iter().any(|(w, v)| w.load(Ordering::SeqCst) != *v) {
            return WaitOutcome::Woken;
        }
        let Some(((first, _), rest)) = words.split_first() else {
            // Only timers: sleep on a word nobody signals.
            return Self::signal_wait(&SignalWord::new(0), 0, timeout);
        };
        let spot = Spot::of(*first as *const SignalWord as usize).bucket();
        let together = rest.iter().all(|(w, _)| Spot::of(*w as *const SignalWord as usize).bucket() == spot);
        let unchanged = || words.iter().all(|(w, v)| w.load(Ordering::SeqCst) == *v);
        match spot {
            // All on one bucket: one precise sleep.
            Some(b) if together => sleep_on(b, unchanged, timeout),
            // Several buckets: sleep on the first in short slices and look
            // at the others after each.
            Some(b) => sliced(timeout, unchanged, |slice| sleep_on(b, unchanged, Some(slice))),
            None => sliced(timeout, unchanged, |slice| poll(Some(slice))),
        }
    }

    fn signal_wake_all(word: &SignalWord) {
        if let Some(b) = Spot::of(word as *const SignalWord as usize).bucket() {
            // SAFETY: as in `sleep_on`: the word's mapping outlives the call.
            unsafe { &*b }.wake();
        }
    }

    fn liveness_self() -> LivenessId {
        liveness::own_id()
    }

    fn liveness_check(id: LivenessId) -> Liveness {
        liveness::check(id)
    }

    fn liveness_sweep() -> u32 {
        liveness::sweep()
    }

    fn now() -> Duration {
        let t = monotonic();
        Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
    }

    fn sleep(duration: Duration) -> Result<(), Termination> {
        let end = Self::now() + duration;
        loop {
            if let Some(t) = termination::take() {
                return Err(t);
            }
            let now = Self::now();
            if now >= end {
                return Ok(());
            }
            nap(end - now);
        }
    }

    fn take_termination_request() -> Option<Termination> {
        termination::take()
    }

    fn prepare_termination_handling(mode: SignalHandlingMode) {
        if mode == SignalHandlingMode::HandleTerminationRequests {
            termination::install(park::wake_sleepers);
        }
    }
}

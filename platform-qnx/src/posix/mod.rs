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
use park::Sleeper;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// The QNX Neutrino platform (on any other POSIX system, its portable
/// part: the same code, with `/dev/shm` for `/dev/shmem`).
#[derive(Debug, Clone, Copy)]
pub struct Qnx;

/// How long a poll lasts for a word in a mapping without sleeper slots (a
/// read-only one), and the slice a wait on several segments sleeps.
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

/// Where a thread starts looking for a free slot: threads spread out.
fn slot_hint() -> usize {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    thread_local!(static HINT: usize = NEXT.fetch_add(7, Ordering::Relaxed));
    HINT.with(|h| *h)
}

/// One sleep in a slot of the park at `park`, waiting for `key`, while
/// `unchanged()` holds: registered for the signal handler's wake (or at
/// most [`park::BACKSTOP`] when the handler's table is full), a pending
/// termination request noticed before and after. No free slot: polled.
fn sleep_on(park: usize, key: u32, unchanged: impl Fn() -> bool, timeout: Option<Duration>) -> WaitOutcome {
    // SAFETY: a park from `park::locate` lies in the mapping of the caller's
    // word (or is the process-local one), which the borrowed word keeps
    // alive past this call.
    let park = unsafe { &*(park as *const park::Park) };
    let Some(slot) = park.claim(slot_hint()) else {
        return sliced(timeout, &unchanged, poll);
    };
    let sleeper = Sleeper::register(slot.addr());
    if termination::peek().is_some() {
        return WaitOutcome::Interrupted;
    }
    let slice =
        if sleeper.is_registered() { timeout } else { Some(timeout.map_or(park::BACKSTOP, |t| t.min(park::BACKSTOP))) };
    let until = slice.map(deadline);
    let outcome = slot.sleep(key, unchanged, until.as_ref());
    drop(sleeper);
    drop(slot);
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
    unchanged: &impl Fn() -> bool,
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

/// One poll slice of [`sliced`]: sleeps `slice`; `TimedOut` unless a
/// termination request came.
fn poll(slice: Duration) -> WaitOutcome {
    if termination::peek().is_some() {
        return WaitOutcome::Interrupted;
    }
    park::count_poll();
    nap(slice);
    if termination::peek().is_some() {
        WaitOutcome::Interrupted
    } else {
        WaitOutcome::TimedOut
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
        match park::locate(word as *const SignalWord as usize) {
            Some((park, key)) => sleep_on(park, key, unchanged, timeout),
            None => sliced(timeout, &unchanged, poll),
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
        let park_of = |w: &SignalWord| park::locate(w as *const SignalWord as usize).map(|(park, _)| park);
        let spot = park_of(first);
        let together = rest.iter().all(|(w, _)| park_of(w) == spot);
        let unchanged = || words.iter().all(|(w, v)| w.load(Ordering::SeqCst) == *v);
        match spot {
            // All in one segment: one sleep woken by any wake there.
            Some(park) if together => sleep_on(park, park::ANY, unchanged, timeout),
            // Several segments: sleep in the first in short slices and look
            // at the others after each.
            Some(park) => sliced(timeout, &unchanged, |slice| sleep_on(park, park::ANY, unchanged, Some(slice))),
            None => sliced(timeout, &unchanged, poll),
        }
    }

    fn signal_wake_all(word: &SignalWord) {
        if let Some((park, key)) = park::locate(word as *const SignalWord as usize) {
            // SAFETY: as in `sleep_on`: the word's mapping outlives the call.
            unsafe { &*(park as *const park::Park) }.wake(key);
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

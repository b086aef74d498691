//! The Linux implementation of the platform contract.
// Process-local signal-handler and liveness state: real atomics that the
// signal handler and the kernel (futex) see, outside the core's loom model.
#![allow(clippy::disallowed_types)]

use icefloe_core::platform::{
    Access, Liveness, LivenessId, Permissions, Platform, SharedMemory, ShmError, SignalHandlingMode, Termination,
    WaitOutcome,
};
use icefloe_core::sync::SignalWord;
use rustix::fd::OwnedFd;
use rustix::fs::Mode;
use rustix::io::Errno;
use rustix::mm::{MapFlags, ProtFlags};
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

/// The Linux platform.
#[derive(Debug, Clone, Copy)]
pub struct Linux;

/// A mapped POSIX shared-memory object; unmapped on drop.
#[derive(Debug)]
pub struct LinuxShm {
    ptr: *mut u8,
    len: usize,
}

// SAFETY: a mapping is process-wide: any thread may use or unmap it, and
// the memory behind it is only accessed through the core's atomic views.
unsafe impl Send for LinuxShm {}
// SAFETY: as above; `&LinuxShm` only hands out the pointer and length.
unsafe impl Sync for LinuxShm {}

// SAFETY: the pointer is the mapping's, fixed for its life and valid for its
// length until it is dropped (see the type's docs).
unsafe impl SharedMemory for LinuxShm {
    fn as_ptr(&self) -> *mut u8 {
        self.ptr
    }
    fn len(&self) -> usize {
        self.len
    }
}

impl Drop for LinuxShm {
    fn drop(&mut self) {
        // SAFETY: `ptr`/`len` are exactly what mmap returned, and nothing
        // borrows the mapping once its owner is dropped (ports and views
        // keep the owner alive as long as they use it).
        let _ = unsafe { rustix::mm::munmap(self.ptr.cast(), self.len) };
    }
}

fn errno(e: Errno) -> ShmError {
    icefloe_std::posix::shm_error(e.raw_os_error())
}

/// `/name` on the stack: POSIX shm names start with a slash.
fn path(name: &str) -> Result<icefloe_std::posix::ShmPath, ShmError> {
    icefloe_std::posix::ShmPath::new(name)
}

fn map(fd: &OwnedFd, len: usize, access: Access) -> Result<LinuxShm, ShmError> {
    if len == 0 {
        return Err(ShmError::InvalidSize);
    }
    let prot = match access {
        Access::ReadWrite => ProtFlags::READ | ProtFlags::WRITE,
        Access::ReadOnly => ProtFlags::READ,
    };
    // SAFETY: a fresh shared mapping of a shared-memory object at an address
    // chosen by the kernel; it aliases no Rust object.
    let ptr = unsafe { rustix::mm::mmap(core::ptr::null_mut(), len, prot, MapFlags::SHARED, fd, 0) }.map_err(errno)?;
    Ok(LinuxShm { ptr: ptr.cast(), len })
}

// ---- termination requests ---------------------------------------------------

use icefloe_std::termination;

/// The word holding a pending termination request (icefloe_std's).
fn termination_word() -> &'static AtomicU32 {
    termination::word()
}

static FUTEX_WAITS: AtomicU64 = AtomicU64::new(0);
static FUTEX_WAKES: AtomicU64 = AtomicU64::new(0);

/// How many futex system calls this process's icefloe made: waits and
/// wakes. A notification or a send that nobody waits for makes none; tests
/// and diagnostics read these to check it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FutexCalls {
    /// `FUTEX_WAIT` calls (a sleeping listener or receiver).
    pub waits: u64,
    /// `FUTEX_WAKE` calls (a notification or send that found a sleeper).
    pub wakes: u64,
}

/// The futex system calls made so far by this process (see [`FutexCalls`]).
pub fn futex_calls() -> FutexCalls {
    FutexCalls { waits: FUTEX_WAITS.load(Ordering::Relaxed), wakes: FUTEX_WAKES.load(Ordering::Relaxed) }
}

/// Words threads of this process sleep on right now (their addresses): a
/// termination request wakes them, whichever thread the signal lands on.
static SLEEPING: [AtomicUsize; 64] = [const { AtomicUsize::new(0) }; 64];

/// The longest one futex sleep lasts: a request that arrives between a
/// sleeper's last check and its sleep (or a sleeper the table had no room
/// for) is noticed within this; the caller sees a spurious wake and sleeps
/// again if nothing happened.
const TERMINATION_BACKSTOP: Duration = Duration::from_millis(250);

/// Wakes every thread of this process sleeping in an icefloe wait.
fn wake_sleepers() {
    // Sleepers in `futex_waitv` wait on TERMINATION too: woken here, or,
    // if they were about to sleep, refused by the kernel (it is no longer 0).
    let _ = rustix::thread::futex::wake(termination_word(), rustix::thread::futex::Flags::PRIVATE, i32::MAX as u32);
    for s in &SLEEPING {
        let at = s.load(Ordering::SeqCst);
        if at != 0 {
            // SAFETY: the address was a live `SignalWord` when registered;
            // if its sleeper has left and its memory is gone, the kernel
            // answers EFAULT without touching user memory.
            let word = unsafe { &*(at as *const SignalWord) };
            let _ = rustix::thread::futex::wake(word, rustix::thread::futex::Flags::empty(), i32::MAX as u32);
        }
    }
}

/// Whether `futex_waitv` answered ENOSYS once (a kernel older than 5.16).
static NO_WAITV: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Makes this process wait as on a kernel without `futex_waitv` (one futex
/// word at a time, a backstop against a missed termination request): for
/// tests of that path on machines that have it.
#[doc(hidden)]
pub fn use_futex_wait_fallback() {
    NO_WAITV.store(true, Ordering::Relaxed);
}

/// One sleep on `words` (each while it holds its value) and on the
/// termination word, in one `futex_waitv` (Linux 5.16+): a termination
/// request can never slip in between the last check and the sleep, so no
/// backstop and no sleeper table are needed, and the sleep lasts the
/// caller's whole timeout. `None` if the kernel lacks `futex_waitv`.
fn sleep_waitv(words: &[(&SignalWord, u32)], timeout: Option<Duration>) -> Option<WaitOutcome> {
    use rustix::thread::futex;
    if NO_WAITV.load(Ordering::Relaxed) {
        return None;
    }
    if peek_termination().is_some() {
        return Some(WaitOutcome::Interrupted);
    }
    let mut waits = [futex::Wait::new(); icefloe_core::platform::MAX_WAIT_WORDS + 1];
    let n = words.len().min(icefloe_core::platform::MAX_WAIT_WORDS);
    for (slot, (w, v)) in waits.iter_mut().zip(&words[..n]) {
        slot.val = u64::from(*v);
        slot.uaddr = futex::WaitPtr::new((*w as *const SignalWord).cast_mut().cast());
        slot.flags = futex::WaitFlags::SIZE_U32;
    }
    waits[n].val = 0;
    waits[n].uaddr = futex::WaitPtr::new((termination_word() as *const AtomicU32).cast_mut().cast());
    waits[n].flags = futex::WaitFlags::SIZE_U32 | futex::WaitFlags::PRIVATE;
    let deadline = timeout.map(|t| {
        let now = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
        let nanos = now.tv_nsec + i64::from(t.subsec_nanos());
        rustix::time::Timespec {
            tv_sec: now
                .tv_sec
                .saturating_add(i64::try_from(t.as_secs()).unwrap_or(i64::MAX / 2) + nanos / 1_000_000_000),
            tv_nsec: nanos % 1_000_000_000,
        }
    });
    FUTEX_WAITS.fetch_add(1, Ordering::Relaxed);
    let r = futex::waitv(&waits[..=n], futex::WaitvFlags::empty(), deadline.as_ref(), rustix::time::ClockId::Monotonic);
    Some(match r {
        Err(Errno::NOSYS) => {
            NO_WAITV.store(true, Ordering::Relaxed);
            FUTEX_WAITS.fetch_sub(1, Ordering::Relaxed);
            return None;
        }
        _ if peek_termination().is_some() => WaitOutcome::Interrupted,
        Err(Errno::TIMEDOUT) => WaitOutcome::TimedOut,
        _ => WaitOutcome::Woken,
    })
}

/// One futex sleep: `word` registered for the signal handler's wake, a
/// pending termination request noticed before and after, the sleep
/// (`sleep`, given its length) at most [`TERMINATION_BACKSTOP`] or the
/// caller's shorter timeout. A sleep cut short by the backstop is a
/// spurious wake: the caller checks and sleeps again.
fn guarded_sleep(
    word: &SignalWord,
    timeout: Option<Duration>,
    sleep: impl FnOnce(Duration) -> rustix::io::Result<()>,
) -> WaitOutcome {
    let slot = register_sleeper(word);
    let outcome = if peek_termination().is_some() {
        WaitOutcome::Interrupted
    } else {
        let slice = timeout.map_or(TERMINATION_BACKSTOP, |t| t.min(TERMINATION_BACKSTOP));
        FUTEX_WAITS.fetch_add(1, Ordering::Relaxed);
        match sleep(slice) {
            _ if peek_termination().is_some() => WaitOutcome::Interrupted,
            Err(Errno::TIMEDOUT) if timeout.is_some_and(|t| t <= TERMINATION_BACKSTOP) => WaitOutcome::TimedOut,
            _ => WaitOutcome::Woken,
        }
    };
    if let Some(i) = slot {
        SLEEPING[i].store(0, Ordering::SeqCst);
    }
    outcome
}

/// Registers `word` as slept on; the slot to free afterwards, if any.
fn register_sleeper(word: &SignalWord) -> Option<usize> {
    let at = word as *const SignalWord as usize;
    SLEEPING.iter().position(|s| s.compare_exchange(0, at, Ordering::SeqCst, Ordering::Relaxed).is_ok())
}

fn peek_termination() -> Option<Termination> {
    termination::peek()
}

// ---- liveness ---------------------------------------------------------------

/// Reads (state, start time in clock ticks) of a process from /proc.
fn proc_stat(pid: u32) -> Result<(u8, u64), std::io::Error> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name is in parentheses and may contain anything; fields
    // after the last ')' are space-separated: state is field 3, starttime 22.
    let rest = text.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let mut fields = rest.split_ascii_whitespace();
    let state = fields.next().and_then(|s| s.bytes().next()).unwrap_or(b'?');
    let start = fields.nth(18).and_then(|s| s.parse().ok()).unwrap_or(0);
    Ok((state, start))
}

/// This process's liveness record: a file in `/dev/shm` it holds an
/// exclusive lock on for its whole life. The kernel drops the lock when the
/// process dies, whatever PID namespace it runs in and whoever asks, so a
/// cleaner in another container sharing `/dev/shm` tells a live node from a
/// dead one where a PID means nothing (the PID and start time in the id are
/// only a hint, for a record that is gone).
struct SelfLiveness {
    pid: u32,
    id: LivenessId,
    path: String,
    /// Open (and locked) until the process ends: never closed, as closing
    /// any descriptor of the file would drop a POSIX record lock.
    _fd: OwnedFd,
}

static SELF_LIVENESS: std::sync::Mutex<Option<SelfLiveness>> = std::sync::Mutex::new(None);

/// Where the liveness record of `id` lives.
fn liveness_path(id: LivenessId) -> String {
    let [pid, start, token] = id.0;
    format!("/dev/shm/icefloe_live_{pid}_{start:08x}_{token:08x}")
}

/// A random word (the process-random keys of std's `RandomState`).
fn random_u32() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(Linux::now().as_nanos() as u64);
    h.finish() as u32
}

/// Creates this process's liveness record, locked; `None` if `/dev/shm`
/// refuses (then only the PID hint speaks for it).
fn create_liveness(pid: u32, start: u32) -> Option<SelfLiveness> {
    use rustix::fs::{FlockOperation, OFlags};
    for _ in 0..8 {
        let id = LivenessId([pid, start, random_u32() | 1]);
        let path = liveness_path(id);
        let flags = OFlags::CREATE | OFlags::EXCL | OFlags::RDWR | OFlags::CLOEXEC;
        let fd = match rustix::fs::open(path.as_str(), flags, Mode::from_raw_mode(0o644)) {
            Ok(fd) => fd,
            Err(Errno::EXIST) => continue,
            Err(_) => return None,
        };
        // Until the lock is held, a sweeper may find the record unlocked,
        // take it for a dead process's and remove it: locked, the record
        // must still be the file at its path, else it is made anew.
        match rustix::fs::fcntl_lock(&fd, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) if same_file(&fd, &path) => return Some(SelfLiveness { pid, id, path, _fd: fd }),
            Ok(()) | Err(Errno::AGAIN) | Err(Errno::ACCESS) => continue,
            Err(_) => {
                let _ = rustix::fs::unlink(path.as_str());
                return None;
            }
        }
    }
    None
}

/// Whether `path` names the file open as `fd`.
fn same_file(fd: &OwnedFd, path: &str) -> bool {
    match (rustix::fs::fstat(fd), rustix::fs::stat(path)) {
        (Ok(a), Ok(b)) => a.st_dev == b.st_dev && a.st_ino == b.st_ino,
        _ => false,
    }
}

/// Parses a liveness record's file name back into its id.
fn liveness_of_record(name: &str) -> Option<LivenessId> {
    let rest = name.strip_prefix("icefloe_live_")?;
    let mut parts = rest.split('_');
    let pid = parts.next()?.parse().ok()?;
    let start = u32::from_str_radix(parts.next()?, 16).ok()?;
    let token = u32::from_str_radix(parts.next()?, 16).ok()?;
    (parts.next().is_none() && token != 0).then_some(LivenessId([pid, start, token]))
}

/// At exit: the record goes with the process (a killed process's record is
/// removed by the first cleaner that finds it unlocked).
extern "C" fn remove_liveness_record() {
    let pid = rustix::process::getpid().as_raw_nonzero().get() as u32;
    if let Ok(guard) = SELF_LIVENESS.try_lock() {
        if let Some(s) = guard.as_ref().filter(|s| s.pid == pid) {
            let _ = rustix::fs::unlink(s.path.as_str());
        }
    }
}

static AT_EXIT: std::sync::Once = std::sync::Once::new();

/// The PID hint: whether process `pid` started at `start` (low 32 bits of
/// its start time) still runs, as this PID namespace sees it.
fn pid_hint(pid: u32, start: u32) -> Liveness {
    match proc_stat(pid) {
        Ok((state, s)) if s as u32 == start => {
            if matches!(state, b'Z' | b'X' | b'x') {
                Liveness::Dead
            } else {
                Liveness::Alive
            }
        }
        Ok(_) => Liveness::Dead, // the PID was reused by another process
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Liveness::Dead,
        Err(_) => Liveness::Unknown,
    }
}

impl Platform for Linux {
    type Shm = LinuxShm;
    type Hold<X> = crate::Shared<X>;

    fn shm_create(name: &str, size: usize, permissions: Permissions) -> Result<LinuxShm, ShmError> {
        let p = path(name)?;
        let mode = match permissions {
            Permissions::OwnerOnly => Mode::from_raw_mode(0o600),
            Permissions::OwnerAndGroup => Mode::from_raw_mode(0o660),
        };
        let fd = rustix::shm::open(
            p.as_cstr(),
            rustix::shm::OFlags::CREATE | rustix::shm::OFlags::EXCL | rustix::shm::OFlags::RDWR,
            mode,
        )
        .map_err(errno)?;
        // A process killed here leaves a segment of 0 bytes.
        #[cfg(feature = "crash-points")]
        icefloe_core::crash::hit("shm.created_unsized");
        let result = (|| {
            rustix::fs::fchmod(&fd, mode).map_err(errno)?;
            rustix::fs::ftruncate(&fd, size as u64).map_err(errno)?;
            map(&fd, size, Access::ReadWrite)
        })();
        if result.is_err() {
            let _ = rustix::shm::unlink(p.as_cstr());
        }
        result
    }

    fn shm_open(name: &str, access: Access) -> Result<LinuxShm, ShmError> {
        let p = path(name)?;
        let flags = match access {
            Access::ReadWrite => rustix::shm::OFlags::RDWR,
            Access::ReadOnly => rustix::shm::OFlags::RDONLY,
        };
        let fd = rustix::shm::open(p.as_cstr(), flags, Mode::empty()).map_err(errno)?;
        let st = rustix::fs::fstat(&fd).map_err(errno)?;
        let len = usize::try_from(st.st_size).map_err(|_| ShmError::InvalidSize)?;
        map(&fd, len, access)
    }

    fn shm_unlink(name: &str) -> Result<(), ShmError> {
        rustix::shm::unlink(path(name)?.as_cstr()).map_err(errno)
    }

    fn shm_list(prefix: &str, f: &mut dyn FnMut(&str) -> bool) -> Result<(), ShmError> {
        icefloe_std::posix::list("/dev/shm", prefix, f)
    }

    fn signal_wait(word: &SignalWord, expected: u32, timeout: Option<Duration>) -> WaitOutcome {
        use rustix::thread::futex;
        if let Some(outcome) = sleep_waitv(&[(word, expected)], timeout) {
            return outcome;
        }
        guarded_sleep(word, timeout, |slice| {
            let ts =
                rustix::time::Timespec { tv_sec: slice.as_secs() as i64, tv_nsec: i64::from(slice.subsec_nanos()) };
            futex::wait(word, futex::Flags::empty(), expected, Some(&ts))
        })
    }

    fn signal_wait_any(words: &[(&SignalWord, u32)], timeout: Option<Duration>) -> WaitOutcome {
        if words.iter().any(|(w, v)| w.load(Ordering::SeqCst) != *v) {
            return WaitOutcome::Woken;
        }
        if let Some(outcome) = sleep_waitv(words, timeout) {
            return outcome;
        }
        match words {
            // Only timers: sleep on a word nobody signals (a termination
            // request still ends it, and is left for the caller to take).
            [] => return Self::signal_wait(&SignalWord::new(0), 0, timeout),
            [(w, v)] => return Self::signal_wait(w, *v, timeout),
            _ => {}
        }
        // A kernel older than 5.16: sleep on the first word for at most a
        // millisecond at a time (the others are re-checked by the caller).
        match Self::signal_wait(words[0].0, words[0].1, Some(Duration::from_millis(1))) {
            WaitOutcome::TimedOut if timeout.is_none_or(|t| t > Duration::from_millis(1)) => WaitOutcome::Woken,
            other => other,
        }
    }

    fn signal_wake_all(word: &SignalWord) {
        FUTEX_WAKES.fetch_add(1, Ordering::Relaxed);
        let _ = rustix::thread::futex::wake(word, rustix::thread::futex::Flags::empty(), i32::MAX as u32);
    }

    fn liveness_self() -> LivenessId {
        let pid = rustix::process::getpid().as_raw_nonzero().get() as u32;
        let mut guard = SELF_LIVENESS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(s) = guard.as_ref().filter(|s| s.pid == pid) {
            return s.id;
        }
        // The first call of this process (or of a child forked from one
        // that had a record: the child needs its own, locks are not inherited).
        let start = proc_stat(pid).map(|(_, s)| s as u32).unwrap_or(0);
        let record = create_liveness(pid, start);
        let id = record.as_ref().map_or(LivenessId([pid, start, 0]), |r| r.id);
        if record.is_some() {
            AT_EXIT.call_once(|| {
                // SAFETY: `remove_liveness_record` is a plain extern "C" fn
                // taking nothing; atexit only stores its address.
                unsafe { libc::atexit(remove_liveness_record) };
            });
        }
        *guard = record;
        id
    }

    fn liveness_check(id: LivenessId) -> Liveness {
        use rustix::fs::{FlockOperation, OFlags};
        let [pid, start, token] = id.0;
        if pid == 0 {
            return Liveness::Unknown;
        }
        let me = rustix::process::getpid().as_raw_nonzero().get() as u32;
        if let Ok(guard) = SELF_LIVENESS.lock() {
            // Never probe our own record: closing the probe would drop our lock.
            if guard.as_ref().is_some_and(|s| s.pid == me && s.id == id) {
                return Liveness::Alive;
            }
        }
        if token == 0 {
            return pid_hint(pid, start);
        }
        let path = liveness_path(id);
        match rustix::fs::open(path.as_str(), OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty()) {
            Ok(fd) => match rustix::fs::fcntl_lock(&fd, FlockOperation::NonBlockingLockShared) {
                // Its owner holds it: alive, in whatever PID namespace.
                Err(Errno::AGAIN) | Err(Errno::ACCESS) => Liveness::Alive,
                // Nobody holds it: the owner is gone; its record too, now.
                Ok(()) => {
                    let _ = rustix::fs::unlink(path.as_str());
                    Liveness::Dead
                }
                Err(_) => Liveness::Unknown,
            },
            // No record (removed by a cleaner, or never made): the PID hint.
            Err(Errno::NOENT) => pid_hint(pid, start),
            Err(_) => Liveness::Unknown,
        }
    }

    fn liveness_sweep() -> u32 {
        let mut removed = 0;
        let _ = Self::shm_list("icefloe_live_", &mut |name| {
            // A dead owner's record is removed by the check itself.
            if liveness_of_record(name).is_some_and(|id| Self::liveness_check(id) == Liveness::Dead) {
                removed += 1;
            }
            true
        });
        removed
    }

    fn now() -> Duration {
        // libc's clock_gettime rather than rustix's vDSO reader: the latter
        // parses the vDSO image itself, which valgrind (callgrind, used to
        // count hot-path instructions) does not provide.
        let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: `t` is a valid, writable timespec; CLOCK_MONOTONIC exists
        // on every Linux.
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut t) };
        Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
    }

    fn sleep(duration: Duration) -> Result<(), Termination> {
        use rustix::thread::{nanosleep, NanosleepRelativeResult};
        let mut left =
            rustix::time::Timespec { tv_sec: duration.as_secs() as i64, tv_nsec: i64::from(duration.subsec_nanos()) };
        loop {
            if let Some(t) = termination::take() {
                return Err(t);
            }
            match nanosleep(&left) {
                NanosleepRelativeResult::Ok => return Ok(()),
                NanosleepRelativeResult::Interrupted(rest) => left = rest,
                NanosleepRelativeResult::Err(_) => return Ok(()),
            }
        }
    }

    fn take_termination_request() -> Option<Termination> {
        termination::take()
    }

    fn prepare_termination_handling(mode: SignalHandlingMode) {
        if mode == SignalHandlingMode::HandleTerminationRequests {
            termination::install(wake_sleepers);
        }
    }
}

//! Liveness: a record each process holds a robust mutex in for its life.
//!
//! The first time a process needs its id, a thread of icefloe's
//! (`icefloe-liveness`, parked for the rest of the process's life) creates
//! the shared-memory object `icefloe_qlive_<pid>_<token>` and locks the
//! robust mutex in it. A robust mutex is released by the OS when its
//! holder dies — SIGKILL at any instruction included — and the next
//! locker is told so (`EOWNERDEAD`). A checker, in any process and any PID
//! namespace that shares the shared-memory directory, tries the lock:
//! held means alive; owner died means dead (the checker makes the mutex
//! consistent and removes the record); no
//! record means dead (removed at normal exit or by an earlier checker). A
//! PID is never trusted, so a recycled one means nothing. A dedicated
//! thread holds the lock because a robust mutex belongs to a thread: an
//! application thread that created a node and ended would make its process
//! look dead.

#![allow(clippy::disallowed_types)]

use super::robust::Robust;
use super::shm;
use icefloe_core::platform::{Access, Liveness, LivenessId};
use std::ffi::CString;
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicU32, Ordering};

const RECORD_MAGIC: u32 = 0x4C51_4649;
const PREFIX: &str = "icefloe_qlive_";
/// A record without a finished header is removed by a sweep once it is
/// this old (its creator was killed while making it).
const UNFINISHED_AGE: std::time::Duration = std::time::Duration::from_secs(60);

#[repr(C, align(64))]
struct Record {
    magic: AtomicU32,
    pid: AtomicU32,
    token: [AtomicU32; 2],
    /// Held by the process's liveness thread for the process's life.
    lock: Robust<()>,
}

const RECORD_BYTES: usize = core::mem::size_of::<Record>();

fn record_name(id: LivenessId) -> String {
    let [pid, a, b] = id.0;
    format!("{PREFIX}{pid}_{a:08x}{b:08x}")
}

fn record_path(id: LivenessId) -> CString {
    CString::new(format!("/{}", record_name(id))).unwrap_or_default()
}

fn id_of_record(name: &str) -> Option<LivenessId> {
    let rest = name.strip_prefix(PREFIX)?;
    let (pid, token) = rest.split_once('_')?;
    if token.len() != 16 {
        return None;
    }
    let a = u32::from_str_radix(&token[..8], 16).ok()?;
    let b = u32::from_str_radix(&token[8..], 16).ok()?;
    Some(LivenessId([pid.parse().ok()?, a, b]))
}

/// A mapped record, unmapped on drop.
struct Mapped {
    at: *mut Record,
    _fd: OwnedFd,
}

impl Mapped {
    fn record(&self) -> &Record {
        // SAFETY: mapped with at least `RECORD_BYTES` bytes, page-aligned,
        // for as long as `self` lives; all fields are atomics or the robust
        // mutex, so concurrent writers cannot cause undefined behaviour.
        unsafe { &*self.at }
    }
}

impl Drop for Mapped {
    fn drop(&mut self) {
        // SAFETY: what `map_fd` returned for `RECORD_BYTES`.
        unsafe { libc::munmap(self.at.cast(), RECORD_BYTES) };
    }
}

fn map(fd: OwnedFd) -> Option<Mapped> {
    let at = shm::map_fd(&fd, RECORD_BYTES, Access::ReadWrite).ok()?;
    Some(Mapped { at: at.cast(), _fd: fd })
}

/// The process's own record: its id, and the mapping its holder thread
/// keeps (never unmapped while the process runs).
struct Own {
    pid: u32,
    id: LivenessId,
}

static OWN: std::sync::Mutex<Option<Own>> = std::sync::Mutex::new(None);
static AT_EXIT: std::sync::Once = std::sync::Once::new();

fn pid() -> u32 {
    std::process::id()
}

fn random_token() -> [u32; 2] {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
    h.write_u32(pid());
    let v = h.finish();
    [(v >> 32) as u32, (v as u32) | 1]
}

/// Makes and locks this process's record, on the calling thread (the
/// holder); `None` if the shared-memory directory refuses.
fn create_record(pid: u32) -> Option<(LivenessId, Mapped)> {
    for _ in 0..8 {
        let id = LivenessId({
            let [a, b] = random_token();
            [pid, a, b]
        });
        let path = record_path(id);
        let fd = match shm::open_fd(path.as_ptr(), libc::O_CREAT | libc::O_EXCL | libc::O_RDWR, 0o644) {
            Ok(fd) => fd,
            Err(libc::EEXIST) => continue,
            Err(_) => return None,
        };
        let made = (|| {
            shm::chmod_fd(&fd, 0o644).ok()?;
            shm::size_fd(&fd, RECORD_BYTES).ok()?;
            let m = map(fd)?;
            // SAFETY: the fresh, zero-filled record nobody else touches
            // before `magic` is set (checkers look at nothing else first).
            unsafe { Robust::init(core::ptr::addr_of_mut!((*m.at).lock), ()).ok()? };
            let r = m.record();
            let guard = r.lock.lock(|_| {}).ok()?;
            // Held until the process ends: the holder thread never unlocks.
            core::mem::forget(guard);
            r.pid.store(pid, Ordering::Relaxed);
            r.token[0].store(id.0[1], Ordering::Relaxed);
            r.token[1].store(id.0[2], Ordering::Relaxed);
            r.magic.store(RECORD_MAGIC, Ordering::Release);
            Some(m)
        })();
        match made {
            Some(m) => return Some((id, m)),
            None => {
                let _ = shm::unlink(path.as_ptr());
                return None;
            }
        }
    }
    None
}

/// At exit: the record goes with the process (a killed process's record is
/// removed by the first checker that finds its holder dead).
extern "C" fn remove_own_record() {
    if let Ok(guard) = OWN.try_lock() {
        if let Some(own) = guard.as_ref().filter(|o| o.pid == pid()) {
            let _ = shm::unlink(record_path(own.id).as_ptr());
        }
    }
}

/// This process's id (its record made on first use).
pub fn own_id() -> LivenessId {
    let me = pid();
    let mut guard = OWN.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(own) = guard.as_ref().filter(|o| o.pid == me) {
        return own.id;
    }
    // The first call of this process (or of a child forked from one that
    // had a record: the holder thread does not survive a fork).
    let (tx, rx) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new().name("icefloe-liveness".into()).stack_size(64 * 1024).spawn(move || {
        match create_record(me) {
            Some((id, mapping)) => {
                let _ = tx.send(Some(id));
                // Keep the mapping and the lock for the process's life.
                let _keep = mapping;
                loop {
                    std::thread::park();
                }
            }
            None => {
                let _ = tx.send(None);
            }
        }
    });
    let made = spawned.ok().and_then(|_| rx.recv().ok().flatten());
    let id = made.unwrap_or(LivenessId([me, 0, 0]));
    if made.is_some() {
        AT_EXIT.call_once(|| {
            // SAFETY: a plain extern "C" fn taking nothing; atexit only
            // stores its address.
            unsafe { libc::atexit(remove_own_record) };
        });
    }
    *guard = Some(Own { pid: me, id });
    id
}

/// Whether the process of `id` runs.
pub fn check(id: LivenessId) -> Liveness {
    let [pid, a, b] = id.0;
    if pid == 0 || (a == 0 && b == 0) {
        // No record was made for it: nothing to decide by.
        return Liveness::Unknown;
    }
    if let Ok(guard) = OWN.lock() {
        // Our own record: never try our own lock.
        if guard.as_ref().is_some_and(|o| o.pid == self::pid() && o.id == id) {
            return Liveness::Alive;
        }
    }
    let path = record_path(id);
    let fd = match shm::open_fd(path.as_ptr(), libc::O_RDWR, 0) {
        Ok(fd) => fd,
        Err(libc::ENOENT) => return Liveness::Dead,
        Err(_) => return Liveness::Unknown,
    };
    if shm::fd_size(&fd).map_or(true, |n| n < RECORD_BYTES) {
        return Liveness::Unknown;
    }
    let Some(m) = map(fd) else { return Liveness::Unknown };
    let r = m.record();
    if r.magic.load(Ordering::Acquire) != RECORD_MAGIC
        || r.pid.load(Ordering::Relaxed) != pid
        || r.token[0].load(Ordering::Relaxed) != a
        || r.token[1].load(Ordering::Relaxed) != b
    {
        return Liveness::Unknown;
    }
    // Taken: the holder died (the lock was handed on with `EOWNERDEAD`, the
    // mutex is made consistent), or an earlier checker found it so and was
    // stopped before removing the record (the lock was free).
    let taken = r.lock.try_lock(|_| {});
    match taken {
        Err(super::robust::RobustError::Busy) => Liveness::Alive,
        Ok(guard) => {
            drop(guard);
            let _ = shm::unlink(path.as_ptr());
            Liveness::Dead
        }
        Err(super::robust::RobustError::NotRecoverable) => {
            let _ = shm::unlink(path.as_ptr());
            Liveness::Dead
        }
        Err(_) => Liveness::Unknown,
    }
}

/// Removes the records of dead processes; how many went.
pub fn sweep() -> u32 {
    let mut removed = 0;
    let mut unfinished = Vec::new();
    let _ = shm::list(PREFIX, &mut |name| {
        if let Some(id) = id_of_record(name) {
            match check(id) {
                Liveness::Dead => removed += 1,
                Liveness::Unknown => unfinished.push(name.to_owned()),
                _ => {}
            }
        }
        true
    });
    // Unknown because never finished (its creator was killed making it),
    // and old: nobody holds an id of it.
    for name in unfinished {
        let file = std::path::Path::new(super::sys::SHM_DIR).join(&name);
        let old = std::fs::metadata(&file)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > UNFINISHED_AGE);
        if old && is_unfinished(&name) {
            if let Ok(path) = CString::new(format!("/{name}")) {
                if shm::unlink(path.as_ptr()).is_ok() {
                    removed += 1;
                }
            }
        }
    }
    removed
}

/// Whether the record `name` never got its header.
fn is_unfinished(name: &str) -> bool {
    let Ok(path) = CString::new(format!("/{name}")) else { return false };
    let Ok(fd) = shm::open_fd(path.as_ptr(), libc::O_RDWR, 0) else { return false };
    if shm::fd_size(&fd).map_or(true, |n| n < RECORD_BYTES) {
        return true;
    }
    map(fd).is_some_and(|m| m.record().magic.load(Ordering::Acquire) != RECORD_MAGIC)
}

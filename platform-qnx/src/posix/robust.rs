//! A robust, process-shared mutex in shared memory, and a value it guards.
//!
//! When the process holding the mutex dies (SIGKILL at any instruction),
//! the next locker does not block forever nor silently get a half-updated
//! value: the OS reports the owner's death (`EOWNERDEAD`), the locker
//! repairs the guarded value (its `recover` closure), and the mutex is made
//! consistent (`pthread_mutex_consistent`), so that it goes on working for
//! everyone. The liveness records lean on this: each process holds its
//! record's mutex for its whole life, and a checker that takes it over
//! knows the process is gone.
//!
//! The guarded value is reached by shared reference only (atomics inside),
//! so that a peer writing garbage into the segment cannot cause undefined
//! behaviour, only wrong values.

use core::cell::UnsafeCell;
use core::ops::Deref;

/// A robust, process-shared POSIX mutex, placed in shared memory.
#[repr(C)]
pub struct RobustMutex {
    raw: UnsafeCell<libc::pthread_mutex_t>,
}

// SAFETY: a process-shared pthread mutex is made to be used from any
// thread of any process; all access goes through pthread calls.
unsafe impl Sync for RobustMutex {}
// SAFETY: as above; it holds no thread-affine state of its own.
unsafe impl Send for RobustMutex {}

/// What taking a [`RobustMutex`] gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taken {
    /// Taken; the previous owner had released it.
    Acquired,
    /// Taken; the previous owner died holding it. Repair what it guards,
    /// then call [`RobustMutex::make_consistent`].
    OwnerDied,
}

/// Why a [`RobustMutex`] could not be taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RobustError {
    /// Another thread holds it (only from `try_lock`).
    Busy,
    /// A previous locker found its owner dead and released it without
    /// making it consistent: it can never be taken again.
    NotRecoverable,
    /// Any other error the OS gave (`EINVAL` for memory that holds no
    /// mutex, for example).
    Os(i32),
}

impl RobustMutex {
    /// Makes a mutex at `at`: robust, process-shared, unlocked.
    ///
    /// # Safety
    ///
    /// `at` must be valid for writes, aligned, and not hold a mutex anyone
    /// uses (a fresh, zero-filled segment nobody else has opened yet).
    pub unsafe fn init(at: *mut Self) -> Result<(), i32> {
        // SAFETY: `attr` is initialized by pthread_mutexattr_init before
        // use and destroyed after; `at` is valid and unused (the caller's
        // promise), so initializing a mutex there aliases nothing.
        unsafe {
            let mut attr: libc::pthread_mutexattr_t = core::mem::zeroed();
            let r = libc::pthread_mutexattr_init(&mut attr);
            if r != 0 {
                return Err(r);
            }
            let mut r = libc::pthread_mutexattr_setpshared(&mut attr, libc::PTHREAD_PROCESS_SHARED);
            if r == 0 {
                r = libc::pthread_mutexattr_setrobust(&mut attr, libc::PTHREAD_MUTEX_ROBUST);
            }
            if r == 0 {
                r = libc::pthread_mutex_init(UnsafeCell::raw_get(core::ptr::addr_of!((*at).raw)), &attr);
            }
            libc::pthread_mutexattr_destroy(&mut attr);
            if r == 0 {
                Ok(())
            } else {
                Err(r)
            }
        }
    }

    fn outcome(r: libc::c_int) -> Result<Taken, RobustError> {
        match r {
            0 => Ok(Taken::Acquired),
            libc::EOWNERDEAD => Ok(Taken::OwnerDied),
            libc::EBUSY => Err(RobustError::Busy),
            libc::ENOTRECOVERABLE => Err(RobustError::NotRecoverable),
            e => Err(RobustError::Os(e)),
        }
    }

    /// Takes the mutex, waiting while another thread holds it.
    pub fn lock(&self) -> Result<Taken, RobustError> {
        // SAFETY: the mutex was initialized by `init` (a value of this type
        // only exists in memory made so); pthread checks the rest.
        Self::outcome(unsafe { libc::pthread_mutex_lock(self.raw.get()) })
    }

    /// Takes the mutex if nobody holds it.
    pub fn try_lock(&self) -> Result<Taken, RobustError> {
        // SAFETY: as in `lock`.
        Self::outcome(unsafe { libc::pthread_mutex_trylock(self.raw.get()) })
    }

    /// After [`Taken::OwnerDied`], marks the mutex usable again; call it
    /// once what it guards is repaired, before unlocking.
    pub fn make_consistent(&self) -> Result<(), i32> {
        // SAFETY: as in `lock`; the caller holds the mutex.
        match unsafe { libc::pthread_mutex_consistent(self.raw.get()) } {
            0 => Ok(()),
            e => Err(e),
        }
    }

    /// Releases the mutex the calling thread holds.
    pub fn unlock(&self) {
        // SAFETY: as in `lock`; only a holder calls this (the guard's drop).
        unsafe { libc::pthread_mutex_unlock(self.raw.get()) };
    }
}

/// A value in shared memory guarded by a [`RobustMutex`].
#[repr(C)]
pub struct Robust<T> {
    mutex: RobustMutex,
    value: T,
}

/// The held lock of a [`Robust`]; releases it when dropped.
pub struct RobustGuard<'a, T> {
    robust: &'a Robust<T>,
    recovered: bool,
}

impl<T: Sync> Robust<T> {
    /// Makes a `Robust` at `at` holding `value`, unlocked.
    ///
    /// # Safety
    ///
    /// As [`RobustMutex::init`]: `at` valid for writes, aligned, unused.
    pub unsafe fn init(at: *mut Self, value: T) -> Result<(), i32> {
        // SAFETY: the caller's promise covers the whole value.
        unsafe {
            core::ptr::addr_of_mut!((*at).value).write(value);
            RobustMutex::init(core::ptr::addr_of_mut!((*at).mutex))
        }
    }

    fn taken(&self, taken: Taken, recover: impl FnOnce(&T)) -> Result<RobustGuard<'_, T>, RobustError> {
        let recovered = taken == Taken::OwnerDied;
        if recovered {
            recover(&self.value);
            if let Err(e) = self.mutex.make_consistent() {
                self.mutex.unlock();
                return Err(RobustError::Os(e));
            }
        }
        Ok(RobustGuard { robust: self, recovered })
    }

    /// Takes the lock, waiting while another thread holds it. If its
    /// holder died, `recover` repairs the value first (it sees what the
    /// dead holder left) and the mutex is made consistent.
    pub fn lock(&self, recover: impl FnOnce(&T)) -> Result<RobustGuard<'_, T>, RobustError> {
        let taken = self.mutex.lock()?;
        self.taken(taken, recover)
    }

    /// As [`lock`](Self::lock), but [`RobustError::Busy`] instead of
    /// waiting.
    pub fn try_lock(&self, recover: impl FnOnce(&T)) -> Result<RobustGuard<'_, T>, RobustError> {
        let taken = self.mutex.try_lock()?;
        self.taken(taken, recover)
    }
}

impl<T> RobustGuard<'_, T> {
    /// Whether taking the lock found its previous holder dead (and ran the
    /// repair).
    pub fn recovered(&self) -> bool {
        self.recovered
    }
}

impl<T> Deref for RobustGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.robust.value
    }
}

impl<T> Drop for RobustGuard<'_, T> {
    fn drop(&mut self) {
        self.robust.mutex.unlock();
    }
}

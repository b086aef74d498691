//! What the `libc` crate does not declare, by hand: a semaphore wait
//! against the monotonic clock (glibc's `sem_clockwait`, QNX's
//! `sem_timedwait_monotonic`) and QNX's `shm_ctl`.

#[cfg(target_os = "nto")]
extern "C" {
    /// `sem_timedwait` against `CLOCK_MONOTONIC` (QNX Neutrino 7.0 and later).
    pub fn sem_timedwait_monotonic(sem: *mut libc::sem_t, abstime: *const libc::timespec) -> libc::c_int;
    /// Gives a shared-memory object its memory: with [`SHMCTL_ANON`],
    /// `size` bytes of zero-filled anonymous memory (`<sys/mman.h>`).
    pub fn shm_ctl(fd: libc::c_int, flags: libc::c_int, physical: u64, size: u64) -> libc::c_int;
}

/// `shm_ctl` flag: allocate anonymous (zero-filled) memory for the object.
#[cfg(target_os = "nto")]
pub const SHMCTL_ANON: libc::c_int = 0x0000_0001;

#[cfg(not(target_os = "nto"))]
extern "C" {
    /// `sem_timedwait` against a chosen clock (glibc 2.30 and later).
    pub fn sem_clockwait(sem: *mut libc::sem_t, clock: libc::clockid_t, abstime: *const libc::timespec) -> libc::c_int;
}

/// Waits on `sem` until the monotonic time `deadline`.
///
/// # Safety
///
/// `sem` must point to an initialized semaphore that stays mapped for the
/// call.
pub unsafe fn sem_wait_until(sem: *mut libc::sem_t, deadline: &libc::timespec) -> libc::c_int {
    #[cfg(target_os = "nto")]
    // SAFETY: forwarded from the caller.
    return unsafe { sem_timedwait_monotonic(sem, deadline) };
    #[cfg(not(target_os = "nto"))]
    // SAFETY: forwarded from the caller.
    return unsafe { sem_clockwait(sem, libc::CLOCK_MONOTONIC, deadline) };
}

/// The calling thread's `errno`.
pub fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// Where POSIX shared-memory objects appear as files.
#[cfg(target_os = "nto")]
pub const SHM_DIR: &str = "/dev/shmem";
/// Where POSIX shared-memory objects appear as files.
#[cfg(not(target_os = "nto"))]
pub const SHM_DIR: &str = "/dev/shm";

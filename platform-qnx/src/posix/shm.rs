//! POSIX shared memory: `shm_open`, `ftruncate` (QNX: `shm_ctl` with
//! `SHMCTL_ANON`), `mmap`. Every segment starts with two pages of sleeper
//! slots ([`park`](super::park)); the core sees the bytes after it.

use super::park::{self, Park, PARK_BYTES};
use super::sys;
use icefloe_core::platform::{Access, Permissions, SharedMemory, ShmError};
use icefloe_std::posix::{shm_error as error, ShmPath};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// A mapped shared-memory object; unmapped on drop.
#[derive(Debug)]
pub struct QnxShm {
    /// The mapping's first byte (the park).
    base: *mut u8,
    /// The whole mapping's length, park included.
    total: usize,
}

// SAFETY: a mapping is process-wide: any thread may use or unmap it, and
// the memory behind it is only accessed through atomic views and
// semaphores made for cross-process use.
unsafe impl Send for QnxShm {}
// SAFETY: as above; `&QnxShm` only hands out the pointer and length.
unsafe impl Sync for QnxShm {}

// SAFETY: the core's part starts two pages into a page-aligned mapping
// (aligned to 4096) and spans `total - PARK_BYTES` bytes, fixed until drop.
unsafe impl SharedMemory for QnxShm {
    fn as_ptr(&self) -> *mut u8 {
        // SAFETY: `total > PARK_BYTES` (checked when mapped), so this stays
        // inside the mapping.
        unsafe { self.base.add(PARK_BYTES) }
    }
    fn len(&self) -> usize {
        self.total - PARK_BYTES
    }
}

impl Drop for QnxShm {
    fn drop(&mut self) {
        park::unregister(self.as_ptr() as usize);
        // SAFETY: `base`/`total` are what mmap returned; nothing uses the
        // mapping once its owner is dropped, and it no longer is registered.
        unsafe { libc::munmap(self.base.cast(), self.total) };
    }
}

/// Opens (or creates) the object at `path`; an owned descriptor.
pub fn open_fd(path: *const libc::c_char, flags: libc::c_int, mode: libc::mode_t) -> Result<OwnedFd, i32> {
    // SAFETY: `path` is NUL-terminated (callers build it so).
    let fd = unsafe { libc::shm_open(path, flags | libc::O_CLOEXEC, mode) };
    if fd < 0 {
        return Err(sys::errno());
    }
    // SAFETY: a fresh descriptor this function owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Gives a fresh object `size` zero-filled bytes.
pub fn size_fd(fd: &OwnedFd, size: usize) -> Result<(), i32> {
    #[cfg(target_os = "nto")]
    {
        // SAFETY: a valid descriptor of a fresh shared-memory object.
        if unsafe { sys::shm_ctl(fd.as_raw_fd(), sys::SHMCTL_ANON, 0, size as u64) } == 0 {
            return Ok(());
        }
    }
    // SAFETY: a valid descriptor; extending reads back as zeros.
    if unsafe { libc::ftruncate(fd.as_raw_fd(), size as libc::off_t) } == 0 {
        Ok(())
    } else {
        Err(sys::errno())
    }
}

/// Maps `len` bytes of `fd`.
pub fn map_fd(fd: &OwnedFd, len: usize, access: Access) -> Result<*mut u8, i32> {
    let prot = match access {
        Access::ReadWrite => libc::PROT_READ | libc::PROT_WRITE,
        Access::ReadOnly => libc::PROT_READ,
    };
    // SAFETY: a fresh shared mapping at an address the OS picks; it aliases
    // no Rust object.
    let p = unsafe { libc::mmap(core::ptr::null_mut(), len, prot, libc::MAP_SHARED, fd.as_raw_fd(), 0) };
    if p == libc::MAP_FAILED {
        Err(sys::errno())
    } else {
        Ok(p.cast())
    }
}

/// The size of the object open as `fd`.
pub fn fd_size(fd: &OwnedFd) -> Result<usize, i32> {
    // SAFETY: a zeroed stat is a valid out-parameter; `fd` is valid.
    let mut st: libc::stat = unsafe { core::mem::zeroed() };
    // SAFETY: as above.
    if unsafe { libc::fstat(fd.as_raw_fd(), &mut st) } != 0 {
        return Err(sys::errno());
    }
    usize::try_from(st.st_size).map_err(|_| libc::EFBIG)
}

/// Sets the object's mode past the umask.
pub fn chmod_fd(fd: &OwnedFd, mode: libc::mode_t) -> Result<(), i32> {
    // SAFETY: a valid descriptor.
    if unsafe { libc::fchmod(fd.as_raw_fd(), mode) } == 0 {
        Ok(())
    } else {
        Err(sys::errno())
    }
}

/// Removes the object's name.
pub fn unlink(path: *const libc::c_char) -> Result<(), i32> {
    // SAFETY: `path` is NUL-terminated.
    if unsafe { libc::shm_unlink(path) } == 0 {
        Ok(())
    } else {
        Err(sys::errno())
    }
}

fn mapped(base: *mut u8, total: usize, access: Access) -> QnxShm {
    let shm = QnxShm { base, total };
    // SAFETY: the park is the mapping's first two pages; read-only mappings get
    // none (a semaphore cannot be posted or waited on through them).
    let park = unsafe { &*base.cast::<Park>() };
    let park = (access == Access::ReadWrite && park.is_ready()).then_some(park);
    park::register(shm.as_ptr() as usize, shm.len(), park);
    shm
}

/// Creates a segment exclusively: `size` bytes for the core after the park.
pub fn create(name: &str, size: usize, permissions: Permissions) -> Result<QnxShm, ShmError> {
    let p = ShmPath::new(name)?;
    let mode: libc::mode_t = match permissions {
        Permissions::OwnerOnly => 0o600,
        Permissions::OwnerAndGroup => 0o660,
    };
    if size == 0 {
        return Err(ShmError::InvalidSize);
    }
    let total = size.checked_add(PARK_BYTES).ok_or(ShmError::InsufficientResources)?;
    let fd = open_fd(p.as_cstr().as_ptr(), libc::O_CREAT | libc::O_EXCL | libc::O_RDWR, mode).map_err(error)?;
    let made = (|| {
        chmod_fd(&fd, mode).map_err(error)?;
        size_fd(&fd, total).map_err(error)?;
        let base = map_fd(&fd, total, Access::ReadWrite).map_err(error)?;
        // SAFETY: the fresh mapping's first pages, zero-filled, nobody else
        // can use it before the core publishes its header.
        if let Err(e) = unsafe { Park::init(base.cast(), true) } {
            // SAFETY: the mapping just made.
            unsafe { libc::munmap(base.cast(), total) };
            return Err(error(e));
        }
        Ok(mapped(base, total, Access::ReadWrite))
    })();
    if made.is_err() {
        let _ = unlink(p.as_cstr().as_ptr());
    }
    made
}

/// Opens and maps a whole segment.
pub fn open(name: &str, access: Access) -> Result<QnxShm, ShmError> {
    let p = ShmPath::new(name)?;
    let flags = match access {
        Access::ReadWrite => libc::O_RDWR,
        Access::ReadOnly => libc::O_RDONLY,
    };
    let fd = open_fd(p.as_cstr().as_ptr(), flags, 0).map_err(error)?;
    let total = fd_size(&fd).map_err(error)?;
    if total <= PARK_BYTES {
        // Empty (its creator was killed before sizing it) or not ours.
        return Err(ShmError::InvalidSize);
    }
    let base = map_fd(&fd, total, access).map_err(error)?;
    Ok(mapped(base, total, access))
}

/// Removes a segment's name.
pub fn remove(name: &str) -> Result<(), ShmError> {
    unlink(ShmPath::new(name)?.as_cstr().as_ptr()).map_err(error)
}

/// Calls `f` with every object name under `prefix`.
pub fn list(prefix: &str, f: &mut dyn FnMut(&str) -> bool) -> Result<(), ShmError> {
    icefloe_std::posix::list(sys::SHM_DIR, prefix, f)
}

//! What the POSIX platforms share about shared-memory objects: the path a
//! core-made name becomes, what an OS error code means, and listing the
//! directory the objects appear in.

use core::ffi::CStr;
use icefloe_core::platform::{ShmError, MAX_SHM_NAME_LEN};

/// `/name`, NUL-terminated, on the stack: the path of a core-made
/// segment name for `shm_open` and `shm_unlink`.
pub struct ShmPath {
    buf: [u8; MAX_SHM_NAME_LEN + 2],
    len: usize,
}

impl ShmPath {
    /// Checks a core-made name (`[A-Za-z0-9_]`, 1 to
    /// [`MAX_SHM_NAME_LEN`] bytes) and makes its path.
    pub fn new(name: &str) -> Result<Self, ShmError> {
        if name.is_empty()
            || name.len() > MAX_SHM_NAME_LEN
            || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            return Err(ShmError::InvalidName);
        }
        let mut buf = [0u8; MAX_SHM_NAME_LEN + 2];
        buf[0] = b'/';
        buf[1..=name.len()].copy_from_slice(name.as_bytes());
        Ok(Self { buf, len: name.len() + 1 })
    }

    /// The path, for the OS.
    pub fn as_cstr(&self) -> &CStr {
        // Only checked ASCII (no NUL) precedes the terminating NUL.
        CStr::from_bytes_with_nul(&self.buf[..=self.len]).unwrap_or(c"/")
    }
}

/// What an OS error code from a shared-memory call means.
pub fn shm_error(code: i32) -> ShmError {
    match code {
        libc::EEXIST => ShmError::AlreadyExists,
        libc::ENOENT => ShmError::DoesNotExist,
        libc::EACCES | libc::EPERM => ShmError::PermissionDenied,
        libc::ENOMEM | libc::ENOSPC | libc::EMFILE | libc::ENFILE | libc::EFBIG => ShmError::InsufficientResources,
        libc::EINVAL | libc::ENAMETOOLONG => ShmError::InvalidName,
        other => ShmError::Os(other),
    }
}

/// Calls `f` with the name of every object in `dir` starting with
/// `prefix`; stops early when `f` returns `false`.
pub fn list(dir: &str, prefix: &str, f: &mut dyn FnMut(&str) -> bool) -> Result<(), ShmError> {
    let entries = std::fs::read_dir(dir).map_err(|e| ShmError::Os(e.raw_os_error().unwrap_or(0)))?;
    for entry in entries.flatten() {
        if let Some(name) = entry.file_name().to_str() {
            if name.starts_with(prefix) && !f(name) {
                break;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_names_become_paths_and_others_are_refused() {
        assert_eq!(ShmPath::new("iox_abc123").unwrap().as_cstr(), c"/iox_abc123");
        let longest = "a".repeat(MAX_SHM_NAME_LEN);
        assert_eq!(ShmPath::new(&longest).unwrap().as_cstr().to_bytes().len(), MAX_SHM_NAME_LEN + 1);
        for bad in ["", "a/b", "a.b", "a b", &"a".repeat(MAX_SHM_NAME_LEN + 1)] {
            assert_eq!(ShmPath::new(bad).err(), Some(ShmError::InvalidName), "{bad:?}");
        }
    }
}

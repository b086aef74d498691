#![doc = include_str!("../README.md")]
#![deny(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "config-file")]
pub use icefloe_std::config;
#[allow(unsafe_code)]
mod posix;

icefloe_std::platform_api!(Qnx, "QNX");
pub use posix::{wake_calls, Qnx, QnxShm, WakeCalls};

/// The robust, process-shared mutex the liveness records are made of, for
/// tests and for applications that keep their own state in shared memory.
pub mod robust {
    pub use crate::posix::robust::{Robust, RobustError, RobustGuard, RobustMutex, Taken};
}

/// The sleeper slots at the start of every segment: their number and
/// size, for those who size a shared-memory budget (see the crate docs).
pub mod park {
    pub use crate::posix::park::{PARK_BYTES, SLOTS};
}

#![doc = include_str!("../README.md")]
#![deny(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "config-file")]
pub use icefloe_std::config;
#[allow(unsafe_code)]
mod os;

icefloe_std::platform_api!(Linux, "Linux");
pub use os::{futex_calls, use_futex_wait_fallback, FutexCalls, Linux, LinuxShm};

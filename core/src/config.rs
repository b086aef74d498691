//! Process-local capacities, fixed at build time.
//!
//! Shared-memory capacities are runtime QoS, but the state a port keeps in
//! its own process is sized at compile time so that nothing allocates.
//! Override with environment variables when building (validated by the
//! build script: a bad value is a build error).

include!(concat!(env!("OUT_DIR"), "/capacities.rs"));

/// How long an opener waits for a service that is still being created.
pub const CREATION_TIMEOUT_MS: u64 = 1000;

//! One logging shim for the whole library: lines go to `defmt` (feature
//! `defmt`, microcontrollers) or to the `log` facade (feature `log`, the
//! default on Linux; the application picks the logger, e.g. `env_logger`),
//! never to both (with both features, `defmt`). Without either, nothing is
//! compiled in.
//!
//! The library logs what an operator needs to know — dead nodes cleaned,
//! connections found corrupt, receivers that stall a sender — and never on
//! the hot path: every line sits on a path that is already rare (cleanup,
//! an error, a wait that timed out). Arguments are integers and string
//! literals, which both back ends format.

/// Logs a line at `$level` (`warn`, `info`: both back ends name their
/// macros so).
macro_rules! log_at {
    ($level:ident, $fmt:literal $(, $arg:expr)* $(,)?) => {{
        #[cfg(feature = "defmt")]
        defmt::$level!($fmt $(, $arg)*);
        #[cfg(all(feature = "log", not(feature = "defmt")))]
        log::$level!(target: "icefloe", $fmt $(, $arg)*);
        #[cfg(not(any(feature = "log", feature = "defmt")))]
        {
            $(let _ = &$arg;)*
        }
    }};
}

/// Logs at level warn.
macro_rules! log_warn {
    ($($t:tt)*) => {
        $crate::logging::log_at!(warn, $($t)*)
    };
}

/// Logs at level info.
macro_rules! log_info {
    ($($t:tt)*) => {
        $crate::logging::log_at!(info, $($t)*)
    };
}

pub(crate) use {log_at, log_info, log_warn};

//! The platform contract: everything the core needs from an operating system.
//!
//! A platform is one type implementing [`Platform`]. It provides five things:
//!
//! 1. **Shared memory** by short name: create exclusively (zero-filled), open,
//!    unlink, and the mapping itself ([`SharedMemory`], unmapped on drop).
//!    On a single-address-space RTOS a "segment" is simply a block carved from
//!    a static arena and found by name in a static registry.
//! 2. **Signal**: wait until a 32-bit word inside shared memory no longer holds
//!    an expected value (with a timeout), and wake its waiters. A futex on
//!    Linux; task notifications on FreeRTOS; spinning on bare metal.
//! 3. **Liveness**: an id for the running participant that can be stored in
//!    shared memory and later asked "alive, dead or unknown?", robust against
//!    id reuse (a recycled PID or task handle is not mistaken for the old one).
//! 4. **Clock**: monotonic time, and sleeping.
//! 5. **Discovery**: enumerate the segments whose names start with a prefix.
//!
//! Names handed to the platform are short ASCII strings made by the core
//! (`[A-Za-z0-9_]`, at most [`MAX_SHM_NAME_LEN`] bytes), so a platform needs
//! no escaping. Nothing here allocates; discovery reports through a callback.

pub use crate::sync::SignalWord;
use core::fmt;
use core::time::Duration;

/// The most words one [`Platform::signal_wait_any`] call waits on.
pub const MAX_WAIT_WORDS: usize = 64;

/// The longest segment name the core hands to a platform.
pub const MAX_SHM_NAME_LEN: usize = 31;

/// How a segment is mapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Access {
    /// Read and write.
    ReadWrite,
    /// Read only: a receiver maps a sender's data this way, so that it cannot
    /// corrupt what it does not own.
    ReadOnly,
}

/// Who may open a segment created by this participant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Permissions {
    /// Only the creating user (`0600` on POSIX). The default.
    #[default]
    OwnerOnly,
    /// The creating user and its group (`0660` on POSIX).
    OwnerAndGroup,
}

/// Why a shared-memory operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ShmError {
    /// Exclusive creation found a segment of that name.
    AlreadyExists,
    /// No segment of that name exists.
    DoesNotExist,
    /// The OS refused access.
    PermissionDenied,
    /// Out of memory, file descriptors, arena space or registry slots.
    InsufficientResources,
    /// The name is not acceptable to the platform.
    InvalidName,
    /// The segment exists but is smaller than its header claims, or empty.
    InvalidSize,
    /// Any other OS error, with its code.
    Os(i32),
}

impl fmt::Display for ShmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AlreadyExists => f.write_str("a shared-memory segment of that name already exists"),
            Self::DoesNotExist => f.write_str("no shared-memory segment of that name exists"),
            Self::PermissionDenied => f.write_str("permission to the shared-memory segment denied"),
            Self::InsufficientResources => f.write_str("insufficient resources for the shared-memory segment"),
            Self::InvalidName => f.write_str("invalid shared-memory segment name"),
            Self::InvalidSize => f.write_str("shared-memory segment has an invalid size"),
            Self::Os(code) => write!(f, "shared-memory operation failed with OS error {code}"),
        }
    }
}

impl core::error::Error for ShmError {}

/// A participant's identity for liveness checks, as stored in shared memory.
/// Its meaning belongs to the platform (Linux: PID and process start time;
/// FreeRTOS: task handle and generation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct LivenessId(pub [u32; 3]);

/// The answer to "is this participant still running?".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Liveness {
    /// It runs.
    Alive,
    /// It is gone; whatever it held may be reclaimed.
    Dead,
    /// Cannot be told (for example, an id from another machine or container):
    /// treated as alive, never reclaimed.
    Unknown,
}

/// Why a signal wait returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum WaitOutcome {
    /// The word no longer held the expected value, or a wake came (possibly
    /// spurious: callers re-check their condition).
    Woken,
    /// The timeout passed.
    TimedOut,
    /// A termination request (SIGINT, SIGTERM) arrived while waiting.
    Interrupted,
}

/// A termination request received by the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Termination {
    /// An interrupt (Ctrl-C, SIGINT).
    Interrupt,
    /// A termination request (SIGTERM).
    Terminate,
}

/// Whether a node catches termination requests (SIGINT, SIGTERM), as
/// iceoryx2's `SignalHandlingMode`. Set with
/// [`NodeBuilder::signal_handling_mode`](crate::NodeBuilder::signal_handling_mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum SignalHandlingMode {
    /// The default: the platform catches SIGINT and SIGTERM (once per
    /// process), so that [`Node::wait`](crate::Node::wait), blocking
    /// receives, listener waits and WaitSets end with an `Interrupt` /
    /// `TerminationRequest` error instead of the process being killed. A
    /// handler the application installed before is kept and called after
    /// icefloe's (chained); one it installs later replaces icefloe's, and
    /// then waits end only on their events or timeouts.
    #[default]
    HandleTerminationRequests,
    /// The platform leaves signal dispositions alone (for processes whose
    /// framework owns them: rclcpp, tokio, Python). Ctrl-C then does what
    /// the application's handler or the default says; icefloe's waits end
    /// only on their events or timeouts, and `Node::wait` only on its cycle.
    Disabled,
}

/// A mapped shared-memory segment. Dropping it unmaps it (the segment itself
/// lives on until it is unlinked and its last mapping is gone).
///
/// # Safety
///
/// `as_ptr` must return the same pointer for the value's whole life, valid
/// for reads (and for writes, unless opened read-only) of `len` bytes,
/// aligned to at least 64 bytes, until the value is dropped; other
/// processes may change those bytes only through atomic accesses to their
/// 32-bit words (the layouts icefloe puts there guarantee it for icefloe's
/// peers).
pub unsafe trait SharedMemory {
    /// The first byte of the mapping, aligned to at least 64 bytes.
    fn as_ptr(&self) -> *mut u8;
    /// The mapped length in bytes.
    fn len(&self) -> usize;
    /// Whether the mapping is empty (never, for a valid segment).
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What an operating system provides to icefloe. See the module docs.
pub trait Platform: Sized + 'static {
    /// A mapping of a shared-memory segment. `Send + Sync`: a mapping
    /// belongs to the process, not to a thread.
    type Shm: SharedMemory + Send + Sync;
    /// How a created or opened service is handed to the user (see
    /// [`handle`](crate::handle)): the service itself (`X`), whose ports
    /// borrow it, on platforms without a heap; or an owning,
    /// reference-counted [`Handle`](crate::handle::Handle) whose ports each
    /// hold a clone, so that they carry no lifetime.
    type Hold<X>: core::borrow::Borrow<X> + From<X>;

    /// Creates a new segment of `size` bytes, zero-filled, failing with
    /// [`ShmError::AlreadyExists`] if the name is taken.
    fn shm_create(name: &str, size: usize, permissions: Permissions) -> Result<Self::Shm, ShmError>;
    /// Opens and maps an existing segment, whole.
    fn shm_open(name: &str, access: Access) -> Result<Self::Shm, ShmError>;
    /// Removes a segment's name; existing mappings stay valid.
    fn shm_unlink(name: &str) -> Result<(), ShmError>;
    /// Calls `f` with the name of every segment starting with `prefix`; stops
    /// early when `f` returns `false`.
    fn shm_list(prefix: &str, f: &mut dyn FnMut(&str) -> bool) -> Result<(), ShmError>;

    /// Blocks while `word` holds `expected`, at most `timeout` (forever when
    /// `None`). Returns at once if the word differs.
    fn signal_wait(word: &SignalWord, expected: u32, timeout: Option<Duration>) -> WaitOutcome;
    /// Wakes every waiter of `word`.
    fn signal_wake_all(word: &SignalWord);
    /// Blocks while every word holds its expected value, at most
    /// `timeout`; returns at once if any differs, and on a wake of any of
    /// them (a [`WaitSet`](crate::WaitSet) sleeps on all its attachments
    /// this way). At most [`MAX_WAIT_WORDS`] words.
    fn signal_wait_any(words: &[(&SignalWord, u32)], timeout: Option<Duration>) -> WaitOutcome;

    /// This participant's liveness id.
    fn liveness_self() -> LivenessId;
    /// Whether the participant with `id` still runs.
    fn liveness_check(id: LivenessId) -> Liveness;
    /// Removes what the liveness of participants that died left behind and
    /// no cleanup has met (on Linux: the records of killed processes that
    /// never joined a service). Returns how many went. Called by
    /// [`Node::cleanup_dead_nodes`](crate::Node::cleanup_dead_nodes).
    /// Default: nothing to remove.
    fn liveness_sweep() -> u32 {
        0
    }

    /// Monotonic time since an arbitrary fixed point.
    fn now() -> Duration;
    /// Sleeps for `duration`, returning early with the request if a
    /// termination request arrives.
    fn sleep(duration: Duration) -> Result<(), Termination>;
    /// A pending termination request, if one arrived (consumed by the call).
    fn take_termination_request() -> Option<Termination>;
    /// Called when a node is created: with
    /// [`SignalHandlingMode::HandleTerminationRequests`] a platform with
    /// signals starts catching termination requests here so that
    /// [`Node::wait`](crate::Node::wait) and blocking waits can report them;
    /// with [`SignalHandlingMode::Disabled`] it changes nothing. Default:
    /// nothing.
    fn prepare_termination_handling(mode: SignalHandlingMode) {
        let _ = mode;
    }
}

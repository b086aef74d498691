//! Shared memory for single-address-space systems: a static arena of named
//! segments, and [`bare_metal_platform!`](crate::bare_metal_platform), a
//! complete platform for superloop firmware (or any program that wants
//! icefloe between its own threads) built on it.
//!
//! The arena is a `static` byte array with a fixed table of segment entries.
//! Creating a segment finds the lowest free, 64-byte-aligned gap (first
//! fit) and zero-fills it; a segment's bytes go back to the arena once it is
//! unlinked and its last mapping dropped. The table is guarded by a spin
//! lock (`spin::Mutex`) held only for table updates (never while user code
//! runs): do not create, open or drop segments from an interrupt handler.

use crate::platform::{SharedMemory, ShmError};
#[allow(clippy::disallowed_types)] // the arena's bytes, not a protocol word: see `Arena`
use core::cell::UnsafeCell;

/// The longest segment name an arena stores.
const NAME_LEN: usize = crate::platform::MAX_SHM_NAME_LEN;

#[derive(Clone, Copy)]
struct Entry {
    used: bool,
    linked: bool,
    name: [u8; NAME_LEN],
    name_len: u8,
    offset: usize,
    size: usize,
    maps: u32,
}

impl Entry {
    const EMPTY: Self =
        Self { used: false, linked: false, name: [0; NAME_LEN], name_len: 0, offset: 0, size: 0, maps: 0 };

    fn name(&self) -> &[u8] {
        &self.name[..self.name_len as usize]
    }
}

#[repr(C, align(64))]
struct Bytes<const SIZE: usize>([u8; SIZE]);

/// A static arena of `SIZE` bytes holding at most `SEGMENTS` segments.
pub struct Arena<const SIZE: usize, const SEGMENTS: usize> {
    table: spin::Mutex<Table<SEGMENTS>>,
    /// The segments' memory: handed out as disjoint ranges, whose words the
    /// core accesses atomically (so it is an `UnsafeCell`, not an atomic).
    #[allow(clippy::disallowed_types)]
    bytes: UnsafeCell<Bytes<SIZE>>,
}

struct Table<const SEGMENTS: usize> {
    entries: [Entry; SEGMENTS],
    /// The most bytes segments ever took at once.
    peak: usize,
}

// SAFETY: the table sits behind a mutex; the bytes are handed out as
// disjoint segments whose words the core accesses atomically.
unsafe impl<const SIZE: usize, const SEGMENTS: usize> Sync for Arena<SIZE, SEGMENTS> {}

impl<const SIZE: usize, const SEGMENTS: usize> Default for Arena<SIZE, SEGMENTS> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const SIZE: usize, const SEGMENTS: usize> Arena<SIZE, SEGMENTS> {
    /// An empty arena (usable in a `static`).
    #[allow(clippy::disallowed_types)] // the bytes' cell (see the field)
    pub const fn new() -> Self {
        Self {
            table: spin::Mutex::new(Table { entries: [Entry::EMPTY; SEGMENTS], peak: 0 }),
            bytes: UnsafeCell::new(Bytes([0; SIZE])),
        }
    }

    fn with_table<R>(&self, f: impl FnOnce(&mut [Entry; SEGMENTS]) -> R) -> R {
        f(&mut self.table.lock().entries)
    }

    fn base(&self) -> *mut u8 {
        self.bytes.get().cast()
    }

    /// Creates a segment of `size` bytes, zero-filled.
    pub fn create(&'static self, name: &str, size: usize) -> Result<ArenaShm<SIZE, SEGMENTS>, ShmError> {
        if name.is_empty() || name.len() > NAME_LEN || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(ShmError::InvalidName);
        }
        if size == 0 {
            return Err(ShmError::InvalidSize);
        }
        let size = size.checked_add(63).ok_or(ShmError::InsufficientResources)? & !63;
        let (index, offset) = {
            let mut table = self.table.lock();
            let Table { entries: t, peak } = &mut *table;
            if t.iter().any(|e| e.used && e.linked && e.name() == name.as_bytes()) {
                return Err(ShmError::AlreadyExists);
            }
            let slot = t.iter().position(|e| !e.used).ok_or(ShmError::InsufficientResources)?;
            // First fit: the lowest gap between used ranges that holds `size`.
            let mut start = 0usize;
            loop {
                let end = start.checked_add(size).ok_or(ShmError::InsufficientResources)?;
                if end > SIZE {
                    return Err(ShmError::InsufficientResources);
                }
                match t
                    .iter()
                    .filter(|e| e.used && e.offset < end && start < e.offset + e.size)
                    .map(|e| e.offset + e.size)
                    .max()
                {
                    Some(after) => start = after,
                    None => break,
                }
            }
            let mut e = Entry { used: true, linked: true, offset: start, size, maps: 1, ..Entry::EMPTY };
            e.name[..name.len()].copy_from_slice(name.as_bytes());
            e.name_len = name.len() as u8;
            t[slot] = e;
            let in_use = t.iter().filter(|e| e.used).map(|e| e.size).sum::<usize>();
            *peak = (*peak).max(in_use);
            (slot, start)
        };
        // SAFETY: [offset, offset + size) lies within the arena (checked
        // above) and belongs to this new segment alone.
        let ptr = unsafe { self.base().add(offset) };
        // SAFETY: as above; nobody else can see the segment yet.
        unsafe { core::ptr::write_bytes(ptr, 0, size) };
        Ok(ArenaShm { arena: self, index, ptr, len: size })
    }

    /// Maps an existing segment.
    pub fn open(&'static self, name: &str) -> Result<ArenaShm<SIZE, SEGMENTS>, ShmError> {
        let (index, offset, size) = self.with_table(|t| {
            let i = t
                .iter()
                .position(|e| e.used && e.linked && e.name() == name.as_bytes())
                .ok_or(ShmError::DoesNotExist)?;
            t[i].maps += 1;
            Ok((i, t[i].offset, t[i].size))
        })?;
        // SAFETY: the entry's range lies within the arena.
        Ok(ArenaShm { arena: self, index, ptr: unsafe { self.base().add(offset) }, len: size })
    }

    /// Removes a segment's name; its bytes return once the last mapping drops.
    pub fn unlink(&'static self, name: &str) -> Result<(), ShmError> {
        self.with_table(|t| {
            let i = t
                .iter()
                .position(|e| e.used && e.linked && e.name() == name.as_bytes())
                .ok_or(ShmError::DoesNotExist)?;
            t[i].linked = false;
            if t[i].maps == 0 {
                t[i] = Entry::EMPTY;
            }
            Ok(())
        })
    }

    /// Calls `f` with each linked segment name starting with `prefix` (the
    /// names are copied first: `f` may create or open segments).
    pub fn list(&'static self, prefix: &str, f: &mut dyn FnMut(&str) -> bool) {
        for name in &self.names(prefix) {
            if !f(name) {
                return;
            }
        }
    }

    /// A copy of every linked segment name starting with `prefix`, taken
    /// with the table locked only for the copy.
    pub fn names(&'static self, prefix: &str) -> heapless::Vec<heapless::String<NAME_LEN>, SEGMENTS> {
        let mut out = heapless::Vec::new();
        self.with_table(|t| {
            for e in t.iter().filter(|e| e.used && e.linked) {
                let Ok(n) = core::str::from_utf8(e.name()) else { continue };
                let mut name = heapless::String::new();
                if n.starts_with(prefix) && name.push_str(n).is_ok() {
                    let _ = out.push(name);
                }
            }
        });
        out
    }

    /// Bytes not taken by any segment (a snapshot).
    pub fn free_bytes(&'static self) -> usize {
        SIZE - self.with_table(|t| t.iter().filter(|e| e.used).map(|e| e.size).sum::<usize>())
    }

    /// Gives back a mapping whose [`ArenaShm`] will never be dropped because
    /// its owner is gone (a deleted task): `index` is the mapping's
    /// [`ArenaShm::segment_index`].
    ///
    /// # Safety
    /// The mapping must exist and nothing may use it (or drop it) afterwards:
    /// once unlinked, its bytes may be handed to a new segment.
    pub unsafe fn unmap_abandoned(&'static self, index: usize) {
        self.unmap(index);
    }

    /// The most bytes segments ever took at once: what to size the arena
    /// by (plus what a different interleaving of growths could add).
    pub fn peak_bytes_in_use(&'static self) -> usize {
        self.table.lock().peak
    }

    fn unmap(&self, index: usize) {
        self.with_table(|t| {
            let e = &mut t[index];
            e.maps = e.maps.saturating_sub(1);
            if e.maps == 0 && !e.linked {
                *e = Entry::EMPTY;
            }
        });
    }
}

/// A mapping of an arena segment; returns the bytes to the arena on drop
/// once the segment is unlinked and no other mapping is left.
pub struct ArenaShm<const SIZE: usize, const SEGMENTS: usize> {
    arena: &'static Arena<SIZE, SEGMENTS>,
    index: usize,
    ptr: *mut u8,
    len: usize,
}

// SAFETY: the arena is a static shared by the whole program; the mapping is
// a pointer into it, accessed by the core only atomically.
unsafe impl<const SIZE: usize, const SEGMENTS: usize> Send for ArenaShm<SIZE, SEGMENTS> {}
// SAFETY: as above.
unsafe impl<const SIZE: usize, const SEGMENTS: usize> Sync for ArenaShm<SIZE, SEGMENTS> {}

impl<const SIZE: usize, const SEGMENTS: usize> ArenaShm<SIZE, SEGMENTS> {
    /// The segment's entry in the arena table (for [`Arena::unmap_abandoned`]).
    pub fn segment_index(&self) -> usize {
        self.index
    }
}

// SAFETY: the pointer is the mapping's, fixed for its life and valid for its
// length until it is dropped (see the type's docs).
unsafe impl<const SIZE: usize, const SEGMENTS: usize> SharedMemory for ArenaShm<SIZE, SEGMENTS> {
    fn as_ptr(&self) -> *mut u8 {
        self.ptr
    }
    fn len(&self) -> usize {
        self.len
    }
}

impl<const SIZE: usize, const SEGMENTS: usize> Drop for ArenaShm<SIZE, SEGMENTS> {
    fn drop(&mut self) {
        self.arena.unmap(self.index);
    }
}

pub use embedded_hal::delay::DelayNs;

/// An [`embedded_hal`](DelayNs) delay that waits by watching a clock (a
/// `fn() -> Duration`): what a bare-metal platform waits with when the
/// board gives it no delay of its own.
#[derive(Debug, Clone, Copy)]
pub struct ClockDelay(pub fn() -> core::time::Duration);

impl DelayNs for ClockDelay {
    fn delay_ns(&mut self, ns: u32) {
        let start = (self.0)();
        let wait = core::time::Duration::from_nanos(u64::from(ns));
        while (self.0)().saturating_sub(start) < wait {
            core::hint::spin_loop();
        }
    }
}

/// Waits `duration` with `delay`, in slices a `u32` of nanoseconds holds.
pub fn delay_for(delay: &mut impl DelayNs, duration: core::time::Duration) {
    let mut left = duration.as_nanos();
    while left > 0 {
        let slice = left.min(u128::from(u32::MAX)) as u32;
        delay.delay_ns(slice);
        left -= u128::from(slice);
    }
}

/// How long a bare-metal wait lets its delay run between two looks at the
/// word it waits on: 1 µs.
pub const POLL_NS: u32 = 1_000;

/// Declares a platform for a single address space (bare-metal superloop
/// firmware, or threads of one program) on a static [`Arena`] of `arena`
/// bytes and `segments` entries, with `clock` (a `fn() -> Duration`, for
/// example from a hardware tick counter) as its monotonic time. Waits and
/// sleeps go through an `embedded-hal` [`DelayNs`]: `delay = expr` (an
/// expression evaluated at each wait, such as a `Copy` delay of the board's
/// HAL), by default a [`ClockDelay`] watching `clock`. A wait looks at its
/// word every [`POLL_NS`]. Every participant is this one program: its own
/// liveness id is alive, any other is unknown (never reclaimed).
///
/// ```
/// fn ticks() -> core::time::Duration { core::time::Duration::ZERO }
/// icefloe_core::bare_metal_platform!(pub Board, arena = 64 * 1024, segments = 16, clock = ticks);
/// ```
///
/// With the board's own delay:
///
/// ```
/// # fn ticks() -> core::time::Duration { core::time::Duration::ZERO }
/// #[derive(Clone, Copy)]
/// struct CycleDelay;
/// impl icefloe_core::arena::DelayNs for CycleDelay {
///     fn delay_ns(&mut self, ns: u32) {
///         for _ in 0..ns / 4 {
///             core::hint::spin_loop();
///         }
///     }
/// }
/// icefloe_core::bare_metal_platform!(pub Board, arena = 64 * 1024, segments = 16, clock = ticks, delay = CycleDelay);
/// ```
#[macro_export]
macro_rules! bare_metal_platform {
    ($vis:vis $name:ident, arena = $size:expr, segments = $segments:expr, clock = $clock:expr) => {
        $crate::bare_metal_platform!(
            $vis $name,
            arena = $size,
            segments = $segments,
            clock = $clock,
            delay = $crate::arena::ClockDelay($clock)
        );
    };
    ($vis:vis $name:ident, arena = $size:expr, segments = $segments:expr, clock = $clock:expr, delay = $delay:expr) => {
        /// A single-address-space icefloe platform on a static arena.
        $vis struct $name;

        // Not every program asks for the arena's figures.
        #[allow(dead_code)]
        impl $name {
            fn arena() -> &'static $crate::arena::Arena<{ $size }, { $segments }> {
                static __ICEFLOE_ARENA: $crate::arena::Arena<{ $size }, { $segments }> = $crate::arena::Arena::new();
                &__ICEFLOE_ARENA
            }

            /// Bytes of the arena not taken by any segment.
            pub fn free_bytes() -> usize {
                Self::arena().free_bytes()
            }

            /// The most bytes segments ever took at once.
            pub fn peak_bytes_in_use() -> usize {
                Self::arena().peak_bytes_in_use()
            }
        }

        impl $crate::platform::Platform for $name {
            type Shm = $crate::arena::ArenaShm<{ $size }, { $segments }>;
            type Hold<X> = X;

            fn shm_create(
                name: &str,
                size: usize,
                _: $crate::platform::Permissions,
            ) -> Result<Self::Shm, $crate::platform::ShmError> {
                Self::arena().create(name, size)
            }
            fn shm_open(name: &str, _: $crate::platform::Access) -> Result<Self::Shm, $crate::platform::ShmError> {
                Self::arena().open(name)
            }
            fn shm_unlink(name: &str) -> Result<(), $crate::platform::ShmError> {
                Self::arena().unlink(name)
            }
            fn shm_list(prefix: &str, f: &mut dyn FnMut(&str) -> bool) -> Result<(), $crate::platform::ShmError> {
                Self::arena().list(prefix, f);
                Ok(())
            }
            fn signal_wait(
                word: &$crate::sync::SignalWord,
                expected: u32,
                timeout: Option<core::time::Duration>,
            ) -> $crate::platform::WaitOutcome {
                let start = Self::now();
                loop {
                    if word.load($crate::sync::Ordering::Acquire) != expected {
                        return $crate::platform::WaitOutcome::Woken;
                    }
                    if timeout.is_some_and(|t| Self::now().saturating_sub(start) >= t) {
                        return $crate::platform::WaitOutcome::TimedOut;
                    }
                    $crate::arena::DelayNs::delay_ns(&mut $delay, $crate::arena::POLL_NS);
                }
            }
            fn signal_wake_all(_: &$crate::sync::SignalWord) {}
            fn signal_wait_any(
                words: &[(&$crate::sync::SignalWord, u32)],
                timeout: Option<core::time::Duration>,
            ) -> $crate::platform::WaitOutcome {
                let start = Self::now();
                loop {
                    if words.iter().any(|(w, v)| w.load($crate::sync::Ordering::Acquire) != *v) {
                        return $crate::platform::WaitOutcome::Woken;
                    }
                    if timeout.is_some_and(|t| Self::now().saturating_sub(start) >= t) {
                        return $crate::platform::WaitOutcome::TimedOut;
                    }
                    $crate::arena::DelayNs::delay_ns(&mut $delay, $crate::arena::POLL_NS);
                }
            }
            fn liveness_self() -> $crate::platform::LivenessId {
                $crate::platform::LivenessId([1, 0, 0])
            }
            fn liveness_check(id: $crate::platform::LivenessId) -> $crate::platform::Liveness {
                if id == Self::liveness_self() {
                    $crate::platform::Liveness::Alive
                } else {
                    $crate::platform::Liveness::Unknown
                }
            }
            fn now() -> core::time::Duration {
                ($clock)()
            }
            fn sleep(duration: core::time::Duration) -> Result<(), $crate::platform::Termination> {
                $crate::arena::delay_for(&mut $delay, duration);
                Ok(())
            }
            fn take_termination_request() -> Option<$crate::platform::Termination> {
                None
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use crate::platform::{Permissions, Platform, ShmError};
    use crate::{NodeBuilder, ServiceName};
    use core::time::Duration;

    fn clock() -> Duration {
        static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        START.get_or_init(std::time::Instant::now).elapsed()
    }

    crate::bare_metal_platform!(ConformanceBoard, arena = 64 * 1024, segments = 8, clock = clock);
    crate::bare_metal_platform!(PubSubBoard, arena = 256 * 1024, segments = 16, clock = clock);
    crate::bare_metal_platform!(TinyBoard, arena = 4096, segments = 2, clock = clock);

    crate::bare_metal_platform!(CheckBoard, arena = 256 * 1024, segments = 32, clock = clock);

    #[test]
    fn bare_metal_passes_the_conformance_suite() {
        crate::conformance::run_all::<ConformanceBoard>("bm_");
        assert_eq!(ConformanceBoard::free_bytes(), 64 * 1024, "conformance left segments in the arena");
    }

    /// Every wait and sleep of a board with its own delay goes through it.
    #[test]
    fn waits_and_sleeps_go_through_the_boards_delay() {
        use crate::sync::{AtomicU32, Ordering, SignalWord};
        static NANOS: AtomicU32 = AtomicU32::new(0);
        #[derive(Clone, Copy)]
        struct Counting;
        impl super::DelayNs for Counting {
            fn delay_ns(&mut self, ns: u32) {
                NANOS.fetch_add(ns, Ordering::Relaxed);
                std::thread::sleep(Duration::from_nanos(u64::from(ns)));
            }
        }
        crate::bare_metal_platform!(DelayBoard, arena = 4096, segments = 2, clock = clock, delay = Counting);
        DelayBoard::sleep(Duration::from_micros(50)).unwrap();
        assert_eq!(NANOS.load(Ordering::Relaxed), 50_000, "the sleep is the delay's");
        let word = SignalWord::new(0);
        let outcome = DelayBoard::signal_wait(&word, 0, Some(Duration::from_millis(2)));
        assert_eq!(outcome, crate::platform::WaitOutcome::TimedOut);
        assert!(NANOS.load(Ordering::Relaxed) > 50_000, "the wait polled through the delay");
    }

    /// The same checks one test each (on an arena of their own, shared by
    /// the parallel tests, so leftovers are checked by the test above).
    mod each_check {
        use super::CheckBoard;
        crate::conformance_tests!(CheckBoard, "b", |_: &str| {});
    }

    #[test]
    fn publish_subscribe_in_one_address_space_returns_every_byte() {
        {
            let node = NodeBuilder::<PubSubBoard>::new().create().unwrap();
            let service = node
                .service_builder(&ServiceName::new("bm/pose").unwrap())
                .publish_subscribe::<[u32]>()
                .create()
                .unwrap();
            let publisher = service
                .publisher_builder()
                .initial_max_slice_len(4)
                .allocation_strategy(crate::AllocationStrategy::PowerOfTwo)
                .max_slice_len(256)
                .create()
                .unwrap();
            let subscriber = service.subscriber_builder().create().unwrap();
            for len in [1usize, 4, 5, 100, 256] {
                let s = publisher.loan_slice_uninit(len).unwrap().write_from_fn(|i| (i * len) as u32);
                assert_eq!(s.send().unwrap(), 1);
                let got = subscriber.receive().unwrap().unwrap();
                assert!(got.iter().enumerate().all(|(i, &v)| v == (i * len) as u32));
            }
            assert!(PubSubBoard::free_bytes() < 256 * 1024);
        }
        assert_eq!(PubSubBoard::free_bytes(), 256 * 1024, "segments not returned to the arena");
    }

    #[test]
    fn a_full_arena_is_a_clear_error_when_creating() {
        // The node's record takes its share of the arena first.
        let node = NodeBuilder::<TinyBoard>::new().create().unwrap();
        let record = 4096 - TinyBoard::free_bytes();
        assert!(record > 0 && record <= 256, "a node record is small: {record} B");
        let a = TinyBoard::shm_create("a", 3000, Permissions::OwnerOnly).unwrap();
        assert_eq!(
            TinyBoard::shm_create("b", 3000, Permissions::OwnerOnly).err(),
            Some(ShmError::InsufficientResources)
        );
        assert_eq!(
            node.service_builder(&ServiceName::new("too/big").unwrap()).publish_subscribe::<u64>().create().err(),
            Some(crate::ServiceCreateError::InsufficientResources)
        );
        assert_eq!(
            TinyBoard::peak_bytes_in_use(),
            3008 + record,
            "the peak is the record and the one segment that fitted"
        );
        // Unlinked and unmapped: the bytes come back and fit again.
        TinyBoard::shm_unlink("a").unwrap();
        drop(a);
        drop(node);
        assert_eq!(TinyBoard::free_bytes(), 4096, "a dropped node's record goes");
        let b = TinyBoard::shm_create("b", 4000, Permissions::OwnerOnly).unwrap();
        assert_eq!(crate::platform::SharedMemory::len(&b), 4032);
        TinyBoard::shm_unlink("b").unwrap();
        drop(b);
        assert_eq!(TinyBoard::free_bytes(), 4096);
        assert_eq!(TinyBoard::peak_bytes_in_use(), 4032, "the peak rose with the larger segment and stays");
    }
}

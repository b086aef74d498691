//! Waking across processes without futexes: wake buckets of POSIX
//! semaphores in each segment.
//!
//! The core's signal words are plain 32-bit atomics. A waiter on QNX (or on
//! the POSIX part anywhere) sleeps on a *bucket* instead: every segment
//! this platform creates starts with a page of [`BUCKETS`] buckets, each a
//! process-shared unnamed semaphore and a count of sleepers, and a word's
//! bucket is chosen by its offset inside the segment, so every process
//! picks the same one. Sleepers of words that share a bucket wake each
//! other spuriously; the core re-checks its words, so that costs time only.
//!
//! The protocol, with `W` the bucket's sleeper count and `S` its semaphore:
//!
//! - a sleeper adds one to `W`, re-checks its word, and only then waits on
//!   `S`; leaving without having taken a post (timeout, interruption, or
//!   the word had changed) it takes one unit back: from `W` if it is not 0,
//!   else a pending post from `S`;
//! - a waker (the word already changed) reads `W`, posts `S` that many
//!   times (at most [`MAX_POSTS`]) and only then subtracts what it posted
//!   from `W`, saturating.
//!
//! So `W` plus the posts in `S` never falls below the number of sleepers:
//! a sleeper is never left without a post that is meant for it, even when
//! a waker or a sleeper is killed at any instruction (a killed one leaves
//! at most surplus units behind, which end as spurious wakes). There is no
//! lock to be left held. Wakers and sleepers order `W` and the word with
//! sequentially consistent accesses: a sleeper that counted itself after a
//! waker read `W` sees the changed word.
//!
//! Why semaphores and not a robust mutex + condition variable pair: a
//! process-shared condition variable is not robust against a *waiter*
//! killed inside `pthread_cond_wait` on glibc before 2.41 (the killed
//! waiter's group reference is never dropped, and a later signaller that
//! switches groups waits for it forever), and the robust mutex only
//! recovers its owner's death, not that. Semaphores keep no per-waiter
//! state the killed waiter could strand, `sem_post` is async-signal-safe
//! (a termination request wakes sleepers directly from the signal handler),
//! and a wake with no sleeper costs no system call at all. Neutrino pulses
//! would need every waiter's channel registered in shared memory and a
//! connection per waker and waiter; the semaphore path runs, and is tested,
//! unchanged on Linux.

#![allow(clippy::disallowed_types)]

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use icefloe_core::platform::WaitOutcome;
use std::time::Duration;

/// Buckets per segment.
pub const BUCKETS: usize = 63;
/// Bytes the buckets take at the start of every segment (one page); the
/// core's bytes follow.
pub const PARK_BYTES: usize = 4096;
/// The most posts one wake makes (a hostile sleeper count costs at most
/// this many).
pub const MAX_POSTS: u32 = 1024;
const PARK_MAGIC: u32 = 0x4B50_4649;

/// One bucket: a sleeper count and a semaphore.
#[repr(C, align(64))]
pub struct Bucket {
    waiters: AtomicU32,
    sem: UnsafeCell<libc::sem_t>,
}

/// The page of buckets at the start of a segment.
#[repr(C, align(64))]
pub struct Park {
    magic: AtomicU32,
    count: AtomicU32,
    buckets: [Bucket; BUCKETS],
}

const _: () = assert!(core::mem::size_of::<Park>() <= PARK_BYTES);

// SAFETY: the semaphores are process-shared POSIX semaphores, made for
// use from any thread; the count is atomic.
unsafe impl Sync for Bucket {}

impl Park {
    /// Makes the buckets at `at`. `pshared` is false for the process-local
    /// park (words outside every segment).
    ///
    /// # Safety
    ///
    /// `at` must be valid for writes of [`PARK_BYTES`], aligned to 64, and
    /// used by nobody yet (a fresh, zero-filled segment).
    pub unsafe fn init(at: *mut Park, pshared: bool) -> Result<(), i32> {
        for i in 0..BUCKETS {
            // SAFETY: inside the park the caller gave us, unused so far.
            let r = unsafe {
                let b = core::ptr::addr_of_mut!((*at).buckets[i]);
                libc::sem_init(UnsafeCell::raw_get(core::ptr::addr_of!((*b).sem)), i32::from(pshared), 0)
            };
            if r != 0 {
                return Err(super::sys::errno());
            }
        }
        // SAFETY: as above; published last, for openers to check.
        unsafe {
            (*at).count.store(BUCKETS as u32, Ordering::Relaxed);
            (*at).magic.store(PARK_MAGIC, Ordering::Release);
        }
        Ok(())
    }

    /// Whether the creator finished making the buckets.
    pub fn is_ready(&self) -> bool {
        self.magic.load(Ordering::Acquire) == PARK_MAGIC && self.count.load(Ordering::Relaxed) == BUCKETS as u32
    }

    /// The bucket of the word at `offset` bytes into the segment's core part.
    pub fn bucket(&self, offset: usize) -> &Bucket {
        let h = ((offset >> 2) as u32).wrapping_mul(0x9E37_79B9);
        &self.buckets[(h as usize >> 4) % BUCKETS]
    }
}

/// What a semaphore wait gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SemWait {
    /// A post was taken.
    Posted,
    /// The deadline passed.
    TimedOut,
    /// A signal interrupted the wait (or the semaphore refused it).
    Interrupted,
}

/// The semaphore side of the protocol (a POSIX semaphore; a model in tests).
pub trait Sem {
    /// One post; false if the semaphore refused it (its value is at its
    /// maximum).
    fn post(&self) -> bool;
    /// Takes a post if one is there.
    fn try_take(&self) -> bool;
    /// Waits for a post, at most until `deadline` (monotonic clock).
    fn wait(&self, deadline: Option<&libc::timespec>) -> SemWait;
}

impl Bucket {
    fn sem(&self) -> *mut libc::sem_t {
        self.sem.get()
    }
}

impl Sem for Bucket {
    fn post(&self) -> bool {
        // SAFETY: the semaphore was made by `Park::init` (a bucket is only
        // reached through a ready park) and stays mapped while `self` is.
        unsafe { libc::sem_post(self.sem()) == 0 }
    }
    fn try_take(&self) -> bool {
        // SAFETY: as in `post`.
        unsafe { libc::sem_trywait(self.sem()) == 0 }
    }
    fn wait(&self, deadline: Option<&libc::timespec>) -> SemWait {
        // SAFETY: as in `post`.
        let r = unsafe {
            match deadline {
                Some(d) => super::sys::sem_wait_until(self.sem(), d),
                None => libc::sem_wait(self.sem()),
            }
        };
        match (r, super::sys::errno()) {
            (0, _) => SemWait::Posted,
            (_, libc::ETIMEDOUT) => SemWait::TimedOut,
            _ => SemWait::Interrupted,
        }
    }
}

/// The sleeper count's side of the protocol: the bucket's `AtomicU32`
/// (loom's in the model test).
pub trait Count {
    /// Sequentially consistent load.
    fn get(&self) -> u32;
    /// Sequentially consistent increment.
    fn add_one(&self);
    /// Sequentially consistent compare-and-swap; the current value on failure.
    fn swap_if(&self, current: u32, new: u32) -> Result<(), u32>;
    /// A sequentially consistent fence: orders a sleeper's count before its
    /// look at the word, and a waker's change of the word before its look
    /// at the count (the store-buffer pattern; loom models it only with
    /// fences).
    fn fence(&self);
}

impl Count for AtomicU32 {
    fn get(&self) -> u32 {
        self.load(Ordering::SeqCst)
    }
    fn add_one(&self) {
        self.fetch_add(1, Ordering::SeqCst);
    }
    fn swap_if(&self, current: u32, new: u32) -> Result<(), u32> {
        self.compare_exchange(current, new, Ordering::SeqCst, Ordering::SeqCst).map(|_| ())
    }
    fn fence(&self) {
        core::sync::atomic::fence(Ordering::SeqCst);
    }
}

/// Sleeps on `sem` while `unchanged()` holds, at most until `deadline`.
pub fn sleep<C: Count, S: Sem>(
    waiters: &C,
    sem: &S,
    unchanged: impl Fn() -> bool,
    deadline: Option<&libc::timespec>,
) -> WaitOutcome {
    waiters.add_one();
    waiters.fence();
    if !unchanged() {
        leave(waiters, sem);
        return WaitOutcome::Woken;
    }
    SLEEPS.fetch_add(1, Ordering::Relaxed);
    match sem.wait(deadline) {
        SemWait::Posted => WaitOutcome::Woken,
        SemWait::TimedOut => {
            leave(waiters, sem);
            WaitOutcome::TimedOut
        }
        SemWait::Interrupted => {
            leave(waiters, sem);
            WaitOutcome::Woken
        }
    }
}

/// A sleeper leaving without a post takes its unit back.
fn leave<C: Count, S: Sem>(waiters: &C, sem: &S) {
    let mut n = waiters.get();
    loop {
        if n == 0 {
            // A waker counted us and posted: take that post.
            let _ = sem.try_take();
            return;
        }
        match waiters.swap_if(n, n - 1) {
            Ok(()) => return,
            Err(m) => n = m,
        }
    }
}

/// Wakes every sleeper counted on the bucket (the word has changed).
pub fn wake<C: Count, S: Sem>(waiters: &C, sem: &S) {
    waiters.fence();
    let n = waiters.get();
    if n == 0 {
        return;
    }
    let mut posted = 0;
    while posted < n.min(MAX_POSTS) && sem.post() {
        posted += 1;
    }
    POSTS.fetch_add(u64::from(posted), Ordering::Relaxed);
    let mut cur = waiters.get();
    loop {
        match waiters.swap_if(cur, cur.saturating_sub(posted)) {
            Ok(()) => return,
            Err(m) => cur = m,
        }
    }
}

static SLEEPS: AtomicU64 = AtomicU64::new(0);
static POSTS: AtomicU64 = AtomicU64::new(0);
static POLLS: AtomicU64 = AtomicU64::new(0);

/// Counts a poll slice (a word without a bucket).
pub fn count_poll() {
    POLLS.fetch_add(1, Ordering::Relaxed);
}

/// How this process's icefloe waited and woke so far: tests and
/// diagnostics read it to see that waits sleep on wake buckets (and that
/// nothing fell back to polling).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WakeCalls {
    /// Waits on a bucket's semaphore.
    pub sleeps: u64,
    /// Posts made by wakes that found sleepers counted.
    pub posts: u64,
    /// Poll slices (1 ms) of words in mappings without buckets.
    pub polls: u64,
}

/// The waits and wakes so far (see [`WakeCalls`]).
pub fn wake_calls() -> WakeCalls {
    WakeCalls {
        sleeps: SLEEPS.load(Ordering::Relaxed),
        posts: POSTS.load(Ordering::Relaxed),
        polls: POLLS.load(Ordering::Relaxed),
    }
}

impl Bucket {
    /// [`sleep`] on this bucket.
    pub fn sleep(&self, unchanged: impl Fn() -> bool, deadline: Option<&libc::timespec>) -> WaitOutcome {
        sleep(&self.waiters, self, unchanged, deadline)
    }

    /// [`wake`] on this bucket.
    pub fn wake(&self) {
        wake(&self.waiters, self)
    }
}

// ---- which bucket a word sleeps on -------------------------------------------

/// A mapping whose words sleep on its park.
#[derive(Clone, Copy)]
struct Mapped {
    start: usize,
    end: usize,
    /// The park's address; 0 when the mapping has none (read-only, or the
    /// creator did not finish it): its words are polled.
    park: usize,
}

static MAPPINGS: std::sync::RwLock<Vec<Mapped>> = std::sync::RwLock::new(Vec::new());

/// Records the mapping of a segment's core part at `start..start + len`
/// (called when it is mapped; not on a hot path).
pub fn register(start: usize, len: usize, park: Option<&Park>) {
    let park = park.map_or(0, |p| p as *const Park as usize);
    let mut all = MAPPINGS.write().unwrap_or_else(std::sync::PoisonError::into_inner);
    all.push(Mapped { start, end: start + len, park });
}

/// Forgets the mapping at `start` (called before it is unmapped).
pub fn unregister(start: usize) {
    let mut all = MAPPINGS.write().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(i) = all.iter().position(|m| m.start == start) {
        all.swap_remove(i);
    }
}

/// Where the word at `addr` sleeps.
#[derive(Clone, Copy)]
pub enum Spot {
    /// On a bucket of its segment's park (address of the bucket).
    Shared(*const Bucket),
    /// On a bucket of the process-local park: the word is in process memory.
    Local(*const Bucket),
    /// In a mapping without a park: polled.
    Poll,
}

impl Spot {
    /// The spot of `addr`.
    pub fn of(addr: usize) -> Spot {
        let all = MAPPINGS.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        match all.iter().find(|m| (m.start..m.end).contains(&addr)) {
            Some(m) if m.park == 0 => Spot::Poll,
            Some(m) => {
                // SAFETY: a registered park stays mapped until `unregister`,
                // which runs before its unmapping and needs the write lock
                // this read lock keeps out; the caller's word lies in that
                // mapping and keeps it alive past this call.
                let park = unsafe { &*(m.park as *const Park) };
                Spot::Shared(park.bucket(addr - m.start))
            }
            None => Spot::Local(local_park().bucket(addr)),
        }
    }

    /// The bucket, if the word has one.
    pub fn bucket(self) -> Option<*const Bucket> {
        match self {
            Spot::Shared(b) | Spot::Local(b) => Some(b),
            Spot::Poll => None,
        }
    }
}

/// The park of words in process memory (made once, never freed).
fn local_park() -> &'static Park {
    static LOCAL: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    let at = *LOCAL.get_or_init(|| {
        let layout = std::alloc::Layout::new::<Park>();
        // SAFETY: a non-zero-sized layout; the memory is zeroed, aligned,
        // and leaked (the park lives as long as the process).
        let p = unsafe { std::alloc::alloc_zeroed(layout) }.cast::<Park>();
        assert!(!p.is_null(), "out of memory for the process-local wake buckets");
        // SAFETY: fresh, zeroed, aligned memory of the park's size.
        unsafe { Park::init(p, false) }.expect("sem_init of a process-local semaphore");
        p as usize
    });
    // SAFETY: made above, never freed.
    unsafe { &*(at as *const Park) }
}

// ---- termination requests wake sleepers -------------------------------------

/// Buckets threads of this process sleep on right now: a termination
/// request posts each from the signal handler.
static SLEEPING: [AtomicUsize; 64] = [const { AtomicUsize::new(0) }; 64];
/// Signal handlers running now (posting `SLEEPING`'s buckets).
static IN_HANDLER: AtomicU32 = AtomicU32::new(0);

/// The signal handler's wake: posts every bucket a thread sleeps on.
/// Async-signal-safe: atomics and `sem_post`.
pub fn wake_sleepers() {
    IN_HANDLER.fetch_add(1, Ordering::SeqCst);
    for s in &SLEEPING {
        let at = s.load(Ordering::SeqCst);
        if at != 0 {
            // SAFETY: a registered bucket stays mapped until its sleeper
            // has cleared its slot and seen no handler running (`Sleeper`'s
            // drop), and this handler counts as running.
            let _ = unsafe { &*(at as *const Bucket) }.post();
        }
    }
    IN_HANDLER.fetch_sub(1, Ordering::SeqCst);
}

/// A bucket registered as slept on, for the signal handler.
pub struct Sleeper(Option<usize>);

impl Sleeper {
    /// Registers `bucket`; `None` inside if the table is full (the sleep
    /// then lasts at most [`TERMINATION_BACKSTOP`]).
    pub fn register(bucket: *const Bucket) -> Self {
        let at = bucket as usize;
        Self(SLEEPING.iter().position(|s| s.compare_exchange(0, at, Ordering::SeqCst, Ordering::SeqCst).is_ok()))
    }

    /// Whether the handler will post this sleeper's bucket.
    pub fn is_registered(&self) -> bool {
        self.0.is_some()
    }
}

impl Drop for Sleeper {
    fn drop(&mut self) {
        if let Some(i) = self.0 {
            SLEEPING[i].store(0, Ordering::SeqCst);
            // A handler that read the slot before we cleared it may still
            // post it: wait until it is done (a handler never waits for us).
            while IN_HANDLER.load(Ordering::SeqCst) != 0 {
                core::hint::spin_loop();
            }
        }
    }
}

/// The longest one sleep of an unregistered sleeper lasts.
pub const TERMINATION_BACKSTOP: Duration = Duration::from_millis(250);

#[cfg(all(test, qnx_loom))]
mod loom_tests {
    //! The protocol under every interleaving loom finds: sleepers that
    //! wait for good are always woken (a lost wakeup is a loom deadlock),
    //! with a sleeper that times out at any point beside them and two
    //! wakers, and what is left over is bounded.
    use super::{sleep, wake, Count, Sem, SemWait};
    use icefloe_core::platform::WaitOutcome;
    use loom::sync::atomic::{AtomicU32, Ordering};
    use loom::sync::{Arc, Condvar, Mutex};

    impl Count for AtomicU32 {
        fn get(&self) -> u32 {
            self.load(Ordering::SeqCst)
        }
        fn add_one(&self) {
            self.fetch_add(1, Ordering::SeqCst);
        }
        fn swap_if(&self, current: u32, new: u32) -> Result<(), u32> {
            self.compare_exchange(current, new, Ordering::SeqCst, Ordering::SeqCst).map(|_| ())
        }
        fn fence(&self) {
            loom::sync::atomic::fence(Ordering::SeqCst);
        }
    }

    /// A counting semaphore; a wait with a deadline models a timeout by
    /// taking a post only if one is there.
    #[derive(Default)]
    struct ModelSem {
        value: Mutex<u32>,
        posted: Condvar,
    }

    impl Sem for ModelSem {
        fn post(&self) -> bool {
            *self.value.lock().unwrap() += 1;
            self.posted.notify_one();
            true
        }
        fn try_take(&self) -> bool {
            let mut v = self.value.lock().unwrap();
            let took = *v > 0;
            if took {
                *v -= 1;
            }
            took
        }
        fn wait(&self, deadline: Option<&libc::timespec>) -> SemWait {
            if deadline.is_some() {
                return if self.try_take() { SemWait::Posted } else { SemWait::TimedOut };
            }
            let mut v = self.value.lock().unwrap();
            while *v == 0 {
                v = self.posted.wait(v).unwrap();
            }
            *v -= 1;
            SemWait::Posted
        }
    }

    struct Bucket {
        word: AtomicU32,
        waiters: AtomicU32,
        sem: ModelSem,
    }

    fn bucket() -> Arc<Bucket> {
        Arc::new(Bucket { word: AtomicU32::new(0), waiters: AtomicU32::new(0), sem: ModelSem::default() })
    }

    /// Sleeps, as the core does, until the word is no longer 0.
    fn wait_forever(b: &Bucket) {
        while b.word.load(Ordering::SeqCst) == 0 {
            let _ = sleep(&b.waiters, &b.sem, || b.word.load(Ordering::SeqCst) == 0, None);
        }
    }

    #[test]
    fn a_sleeper_is_never_left_asleep_beside_a_timing_out_one() {
        loom::model(|| {
            let b = bucket();
            let sleeper = {
                let b = b.clone();
                loom::thread::spawn(move || wait_forever(&b))
            };
            let timing_out = {
                let b = b.clone();
                let far = libc::timespec { tv_sec: 0, tv_nsec: 0 };
                loom::thread::spawn(move || {
                    let _ = sleep(&b.waiters, &b.sem, || b.word.load(Ordering::SeqCst) == 0, Some(&far));
                })
            };
            b.word.store(1, Ordering::SeqCst);
            wake(&b.waiters, &b.sem);
            sleeper.join().unwrap();
            timing_out.join().unwrap();
            // Left over: at most one post or count per participant that
            // left without one meant for it.
            let left = b.waiters.load(Ordering::SeqCst) + *b.sem.value.lock().unwrap();
            assert!(left <= 2, "{left} units left over");
        });
    }

    #[test]
    fn two_sleepers_and_two_wakers_all_wake() {
        loom::model(|| {
            let b = bucket();
            let sleepers: Vec<_> = (0..2)
                .map(|_| {
                    let b = b.clone();
                    loom::thread::spawn(move || wait_forever(&b))
                })
                .collect();
            let waker = {
                let b = b.clone();
                loom::thread::spawn(move || {
                    b.word.fetch_add(1, Ordering::SeqCst);
                    wake(&b.waiters, &b.sem);
                })
            };
            b.word.fetch_add(1, Ordering::SeqCst);
            wake(&b.waiters, &b.sem);
            waker.join().unwrap();
            for s in sleepers {
                s.join().unwrap();
            }
        });
    }

    #[test]
    fn a_sleeper_whose_word_changed_first_does_not_sleep() {
        loom::model(|| {
            let b = bucket();
            b.word.store(1, Ordering::SeqCst);
            assert_eq!(sleep(&b.waiters, &b.sem, || b.word.load(Ordering::SeqCst) == 0, None), WaitOutcome::Woken);
            assert_eq!(b.waiters.load(Ordering::SeqCst), 0, "its count was not taken back");
        });
    }
}

//! Waking across processes without futexes: a page of sleeper slots in
//! each segment, each a robust process-shared mutex and a semaphore.
//!
//! The core's signal words are plain 32-bit atomics. Every segment this
//! platform creates starts with a park of [`SLOTS`] slots. A thread that
//! sleeps on a word claims a free slot (takes its robust mutex), writes
//! into it which word it waits for (the word's offset in the segment, so
//! that every process agrees), looks at the word once more and waits on
//! the slot's semaphore. A waker, having changed a word, posts the
//! semaphore of every slot that names it. Each semaphore has one sleeper,
//! so a sleeper that claims a slot first takes whatever posts a previous
//! sleeper left there: nothing piles up, and a wake never reaches another
//! word's sleeper.
//!
//! - The handshake (the sleeper names its word, then looks at it; the
//!   waker changes the word, then looks at the slots) is the store-buffer
//!   pattern, with sequentially consistent fences on both sides: a waker
//!   that missed the slot had changed the word before the sleeper looked.
//!   A loom model checks it (`RUSTFLAGS="--cfg qnx_loom"`).
//! - A sleeper killed at any instruction leaves its slot's mutex held by a
//!   dead owner: the next claimer gets `EOWNERDEAD`, clears the slot, makes
//!   the mutex consistent and uses it. So slots are never lost.
//! - A waker killed between changing the word and posting leaves sleepers
//!   asleep until their timeout, as a futex wake not made on Linux would.
//! - More sleepers on one segment than slots: the extra ones poll (1 ms),
//!   counted in [`WakeCalls::polls`].
//!
//! Why semaphores and a robust mutex, not a condition variable or pulses:
//! a process-shared condition variable is not robust against a *waiter*
//! killed inside `pthread_cond_wait` on glibc before 2.41 (the killed
//! waiter's group reference is never dropped, and a later signaller that
//! switches groups waits for it forever), and the robust mutex only
//! recovers its owner's death, not that. A semaphore per sleeper keeps no
//! state a killed waiter could strand, and `sem_post` is async-signal-safe
//! (a termination request wakes sleepers directly from the signal handler).
//! Neutrino pulses would need every waiter's channel in shared memory and a
//! connection per waker and waiter; the slots run, and are tested,
//! unchanged on Linux.

#![allow(clippy::disallowed_types)]

use super::robust::{RobustMutex, Taken};
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use icefloe_core::platform::WaitOutcome;
use std::time::Duration;

/// Sleeper slots per segment.
pub const SLOTS: usize = 63;
/// Bytes the park takes at the start of every segment (two pages); the
/// core's bytes follow.
pub const PARK_BYTES: usize = 8192;
const PARK_MAGIC: u32 = 0x4B50_4649;
/// What a slot waits for when its sleeper waits on several words of the
/// segment: any wake in it.
pub const ANY: u32 = u32::MAX;

/// One sleeper slot.
#[repr(C, align(128))]
pub struct Slot {
    /// The word its sleeper waits for (its offset / 4 + 1), [`ANY`], or 0.
    waiting: AtomicU32,
    lock: RobustMutex,
    sem: UnsafeCell<libc::sem_t>,
}

/// The page of slots at the start of a segment.
#[repr(C, align(128))]
pub struct Park {
    magic: AtomicU32,
    count: AtomicU32,
    slots: [Slot; SLOTS],
}

const _: () = assert!(core::mem::size_of::<Park>() <= PARK_BYTES);

// SAFETY: the mutex and semaphore are process-shared POSIX objects made
// for use from any thread; the rest is atomic.
unsafe impl Sync for Slot {}

/// The key of the word at `offset` bytes into the segment's core part.
pub fn key_of(offset: usize) -> u32 {
    u32::try_from(offset / 4 + 1).unwrap_or(ANY - 1).min(ANY - 1)
}

impl Park {
    /// Makes the slots at `at`.
    ///
    /// # Safety
    ///
    /// `at` must be valid for writes of [`PARK_BYTES`], aligned to 128, and
    /// used by nobody yet (a fresh, zero-filled segment).
    pub unsafe fn init(at: *mut Park, pshared: bool) -> Result<(), i32> {
        for i in 0..SLOTS {
            // SAFETY: inside the park the caller gave us, unused so far.
            unsafe {
                let slot = core::ptr::addr_of_mut!((*at).slots[i]);
                RobustMutex::init(core::ptr::addr_of_mut!((*slot).lock))?;
                if libc::sem_init(UnsafeCell::raw_get(core::ptr::addr_of!((*slot).sem)), i32::from(pshared), 0) != 0 {
                    return Err(super::sys::errno());
                }
            }
        }
        // SAFETY: as above; published last, for openers to check.
        unsafe {
            (*at).count.store(SLOTS as u32, Ordering::Relaxed);
            (*at).magic.store(PARK_MAGIC, Ordering::Release);
        }
        Ok(())
    }

    /// Whether the creator finished making the slots.
    pub fn is_ready(&self) -> bool {
        self.magic.load(Ordering::Acquire) == PARK_MAGIC && self.count.load(Ordering::Relaxed) == SLOTS as u32
    }

    /// Claims a free slot for the calling thread (its mutex taken), looking
    /// from `start` on; `None` when every slot is taken.
    pub fn claim(&self, start: usize) -> Option<Claimed<'_>> {
        for k in 0..SLOTS {
            let slot = &self.slots[(start + k) % SLOTS];
            match slot.lock.try_lock() {
                Ok(Taken::Acquired) => return Some(Claimed::new(slot)),
                Ok(Taken::OwnerDied) => {
                    // Its sleeper was killed: the slot is clean once its
                    // word is cleared (the new owner drains its posts).
                    slot.waiting.store(0, Ordering::SeqCst);
                    if slot.lock.make_consistent().is_ok() {
                        return Some(Claimed::new(slot));
                    }
                    slot.lock.unlock();
                }
                Err(_) => {}
            }
        }
        None
    }

    /// Posts every slot that waits for `key` (or for any word).
    pub fn wake(&self, key: u32) {
        wake(self.slots.iter().map(|s| (&s.waiting, s)), key);
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
    /// One post.
    fn post(&self);
    /// Takes a post if one is there.
    fn try_take(&self) -> bool;
    /// Waits for a post, at most until `deadline` (monotonic clock).
    fn wait(&self, deadline: Option<&libc::timespec>) -> SemWait;
}

/// The word side of the protocol: a slot's `waiting` (loom's in the model).
pub trait Word {
    /// Sequentially consistent store.
    fn set(&self, v: u32);
    /// Sequentially consistent load.
    fn get(&self) -> u32;
    /// A sequentially consistent fence (the store-buffer handshake; loom
    /// models it only with fences).
    fn fence(&self);
}

impl Word for AtomicU32 {
    fn set(&self, v: u32) {
        self.store(v, Ordering::SeqCst);
    }
    fn get(&self) -> u32 {
        self.load(Ordering::SeqCst)
    }
    fn fence(&self) {
        core::sync::atomic::fence(Ordering::SeqCst);
    }
}

impl Sem for Slot {
    fn post(&self) {
        // SAFETY: the semaphore was made by `Park::init` (a slot is only
        // reached through a ready park) and stays mapped while `self` is.
        unsafe { libc::sem_post(self.sem.get()) };
    }
    fn try_take(&self) -> bool {
        // SAFETY: as in `post`.
        unsafe { libc::sem_trywait(self.sem.get()) == 0 }
    }
    fn wait(&self, deadline: Option<&libc::timespec>) -> SemWait {
        // SAFETY: as in `post`.
        let r = unsafe {
            match deadline {
                Some(d) => super::sys::sem_wait_until(self.sem.get(), d),
                None => libc::sem_wait(self.sem.get()),
            }
        };
        match (r, super::sys::errno()) {
            (0, _) => SemWait::Posted,
            (_, libc::ETIMEDOUT) => SemWait::TimedOut,
            _ => SemWait::Interrupted,
        }
    }
}

/// One sleep in a claimed slot: drain what an earlier sleeper left, name
/// `key`, look at the word (`unchanged`), wait.
pub fn sleep<W: Word, S: Sem>(
    waiting: &W,
    sem: &S,
    key: u32,
    unchanged: impl Fn() -> bool,
    deadline: Option<&libc::timespec>,
) -> WaitOutcome {
    while sem.try_take() {}
    waiting.set(key);
    waiting.fence();
    let outcome = if !unchanged() {
        WaitOutcome::Woken
    } else {
        SLEEPS.fetch_add(1, Ordering::Relaxed);
        match sem.wait(deadline) {
            SemWait::Posted | SemWait::Interrupted => WaitOutcome::Woken,
            SemWait::TimedOut => WaitOutcome::TimedOut,
        }
    };
    waiting.set(0);
    outcome
}

/// Posts every slot of `slots` that waits for `key` or for any word (the
/// caller changed the word already).
pub fn wake<'a, W: Word + 'a, S: Sem + 'a>(slots: impl Iterator<Item = (&'a W, &'a S)>, key: u32) {
    let mut first = true;
    for (waiting, sem) in slots {
        if first {
            waiting.fence();
            first = false;
        }
        let w = waiting.get();
        if w != 0 && (w == key || w == ANY) {
            sem.post();
            POSTS.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// A slot the calling thread holds; freed (its mutex released) on drop.
pub struct Claimed<'a> {
    slot: &'a Slot,
}

impl<'a> Claimed<'a> {
    fn new(slot: &'a Slot) -> Self {
        Self { slot }
    }

    /// The slot's address, for the signal handler's post.
    pub fn addr(&self) -> usize {
        self.slot as *const Slot as usize
    }

    /// Sleeps while `unchanged()` holds, waiting for `key` (or [`ANY`]).
    pub fn sleep(&self, key: u32, unchanged: impl Fn() -> bool, deadline: Option<&libc::timespec>) -> WaitOutcome {
        sleep(&self.slot.waiting, self.slot, key, unchanged, deadline)
    }
}

impl Drop for Claimed<'_> {
    fn drop(&mut self) {
        self.slot.lock.unlock();
    }
}

static SLEEPS: AtomicU64 = AtomicU64::new(0);
static POSTS: AtomicU64 = AtomicU64::new(0);
static POLLS: AtomicU64 = AtomicU64::new(0);

/// Counts a poll slice (a word without a park, or no free slot).
pub fn count_poll() {
    POLLS.fetch_add(1, Ordering::Relaxed);
}

/// How this process's icefloe waited and woke so far: tests and
/// diagnostics read it to see that waits slept in slots (and that nothing
/// fell back to polling).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WakeCalls {
    /// Waits on a slot's semaphore.
    pub sleeps: u64,
    /// Posts made by wakes that found a sleeper.
    pub posts: u64,
    /// Poll slices (1 ms): words in mappings without a park, or no free slot.
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

// ---- where a word sleeps ----------------------------------------------------

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

/// Where the word at `addr` sleeps: its park (address) and key, or `None`
/// for a mapping without a park (polled).
pub fn locate(addr: usize) -> Option<(usize, u32)> {
    let all = MAPPINGS.read().unwrap_or_else(std::sync::PoisonError::into_inner);
    match all.iter().find(|m| (m.start..m.end).contains(&addr)) {
        Some(m) if m.park == 0 => None,
        Some(m) => Some((m.park, key_of(addr - m.start))),
        // Process memory: the local park, keyed by the address.
        None => Some((local_park() as *const Park as usize, key_of(addr))),
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
        assert!(!p.is_null(), "out of memory for the process-local sleeper slots");
        // SAFETY: fresh, zeroed, aligned memory of the park's size.
        unsafe { Park::init(p, false) }.expect("sem_init of a process-local semaphore");
        p as usize
    });
    // SAFETY: made above, never freed.
    unsafe { &*(at as *const Park) }
}

// ---- termination requests wake sleepers -------------------------------------

/// Slots threads of this process sleep in right now: a termination
/// request posts each from the signal handler.
static SLEEPING: [AtomicUsize; 64] = [const { AtomicUsize::new(0) }; 64];
/// Signal handlers running now (posting `SLEEPING`'s slots).
static IN_HANDLER: AtomicU32 = AtomicU32::new(0);

/// The signal handler's wake: posts every slot a thread sleeps in.
/// Async-signal-safe: atomics and `sem_post`.
pub fn wake_sleepers() {
    IN_HANDLER.fetch_add(1, Ordering::SeqCst);
    for s in &SLEEPING {
        let at = s.load(Ordering::SeqCst);
        if at != 0 {
            // SAFETY: a registered slot stays mapped until its sleeper has
            // cleared its entry and seen no handler running (`Sleeper`'s
            // drop), and this handler counts as running.
            unsafe { &*(at as *const Slot) }.post();
        }
    }
    IN_HANDLER.fetch_sub(1, Ordering::SeqCst);
}

/// A slot registered as slept in, for the signal handler.
pub struct Sleeper(Option<usize>);

impl Sleeper {
    /// Registers the slot at `at` ([`Claimed::addr`]); `None` inside if
    /// the table is full (such a sleeper notices a termination request at
    /// its [`BACKSTOP`]).
    pub fn register(at: usize) -> Self {
        Self(SLEEPING.iter().position(|s| s.compare_exchange(0, at, Ordering::SeqCst, Ordering::SeqCst).is_ok()))
    }
}

impl Sleeper {
    /// Whether the handler will post this sleeper's slot.
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

/// The longest one sleep of a sleeper the signal handler cannot reach
/// (its table full) lasts before it looks for a termination request.
pub const BACKSTOP: Duration = Duration::from_millis(250);

#[cfg(all(test, qnx_loom))]
mod loom_tests {
    //! The slot handshake under every interleaving loom finds: a sleeper
    //! is always woken once its word changes (a lost wakeup is a loom
    //! deadlock), with two wakers, beside a sleeper that times out, with a
    //! sleeper of another word in the park, and after a previous sleeper
    //! of its slot left posts behind.
    use super::{sleep, wake, Sem, SemWait, Word};
    use icefloe_core::platform::WaitOutcome;
    use loom::sync::atomic::{AtomicU32, Ordering};
    use loom::sync::{Arc, Condvar, Mutex};

    impl Word for AtomicU32 {
        fn set(&self, v: u32) {
            self.store(v, Ordering::SeqCst);
        }
        fn get(&self) -> u32 {
            self.load(Ordering::SeqCst)
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
        fn post(&self) {
            *self.value.lock().unwrap() += 1;
            self.posted.notify_all();
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

    /// Two words (keys 1 and 2) and two slots, slot `i` used by sleeper `i`.
    struct Model {
        words: [AtomicU32; 2],
        waiting: [AtomicU32; 2],
        sems: [ModelSem; 2],
    }

    fn model() -> Arc<Model> {
        Arc::new(Model {
            words: [AtomicU32::new(0), AtomicU32::new(0)],
            waiting: [AtomicU32::new(0), AtomicU32::new(0)],
            sems: [ModelSem::default(), ModelSem::default()],
        })
    }

    /// Sleeper in slot `slot` until word `w` is no longer 0, as the core waits.
    fn wait_forever(m: &Model, slot: usize, w: usize) {
        while m.words[w].load(Ordering::SeqCst) == 0 {
            let _ =
                sleep(&m.waiting[slot], &m.sems[slot], w as u32 + 1, || m.words[w].load(Ordering::SeqCst) == 0, None);
        }
    }

    fn change(m: &Model, w: usize) {
        m.words[w].fetch_add(1, Ordering::SeqCst);
        wake(m.waiting.iter().zip(m.sems.iter()), w as u32 + 1);
    }

    #[test]
    fn a_sleeper_is_woken_by_either_of_two_wakers() {
        loom::model(|| {
            let m = model();
            let sleeper = {
                let m = m.clone();
                loom::thread::spawn(move || wait_forever(&m, 0, 0))
            };
            let waker = {
                let m = m.clone();
                loom::thread::spawn(move || change(&m, 0))
            };
            change(&m, 0);
            waker.join().unwrap();
            sleeper.join().unwrap();
        });
    }

    #[test]
    fn a_sleeper_is_woken_beside_one_that_times_out() {
        loom::model(|| {
            let m = model();
            let sleeper = {
                let m = m.clone();
                loom::thread::spawn(move || wait_forever(&m, 0, 0))
            };
            let timing_out = {
                let m = m.clone();
                let soon = libc::timespec { tv_sec: 0, tv_nsec: 0 };
                loom::thread::spawn(move || {
                    let _ = sleep(&m.waiting[1], &m.sems[1], 1, || m.words[0].load(Ordering::SeqCst) == 0, Some(&soon));
                })
            };
            change(&m, 0);
            sleeper.join().unwrap();
            timing_out.join().unwrap();
        });
    }

    #[test]
    fn sleepers_of_two_words_each_wake_on_their_own_word() {
        loom::model(|| {
            let m = model();
            let first = {
                let m = m.clone();
                loom::thread::spawn(move || wait_forever(&m, 0, 0))
            };
            let second = {
                let m = m.clone();
                loom::thread::spawn(move || wait_forever(&m, 1, 1))
            };
            change(&m, 0);
            first.join().unwrap();
            change(&m, 1);
            second.join().unwrap();
            // A wake reaches only its word's slot.
            assert_eq!(*m.sems[1].value.lock().unwrap() + *m.sems[0].value.lock().unwrap() <= 2, true);
        });
    }

    #[test]
    fn posts_a_previous_sleeper_left_are_drained_first() {
        loom::model(|| {
            let m = model();
            // Left by an earlier sleeper of slot 0 (a late wake, a handler).
            m.sems[0].post();
            m.sems[0].post();
            let sleeper = {
                let m = m.clone();
                loom::thread::spawn(move || {
                    // One sleep, as a new claimer of the slot makes it.
                    let _ = sleep(&m.waiting[0], &m.sems[0], 1, || m.words[0].load(Ordering::SeqCst) == 0, None);
                })
            };
            change(&m, 0);
            sleeper.join().unwrap();
            // At most the post of this wake, when the sleeper saw the word
            // changed before it slept (the next claimer drains it).
            assert!(*m.sems[0].value.lock().unwrap() <= 1, "old posts were kept");
        });
    }

    #[test]
    fn a_sleeper_whose_word_changed_first_does_not_sleep() {
        loom::model(|| {
            let m = model();
            m.words[0].store(1, Ordering::SeqCst);
            let outcome = sleep(&m.waiting[0], &m.sems[0], 1, || m.words[0].load(Ordering::SeqCst) == 0, None);
            assert_eq!(outcome, WaitOutcome::Woken);
            assert_eq!(m.waiting[0].load(Ordering::SeqCst), 0, "its slot still names the word");
        });
    }
}

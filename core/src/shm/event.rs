//! Wake-ups through shared memory, and a listener's counting event state.
//!
//! **Wake word.** A [`Waker`] is one word on its own cache line: a
//! sequence in bits 1..32 and, in bit 0, "somebody sleeps (or is about to)".
//! Both sides change it only with read-modify-writes, so they are ordered
//! by the word's own modification order:
//!
//! - signaller: publish the data (event counters, a queue entry), then in
//!   one step bump the sequence and clear bit 0; only if bit 0 was set make
//!   the wake system call. Nobody waiting: no system call.
//! - waiter: check for data (return if any); set bit 0, getting the word's
//!   value `v`; check for data again (return if any); sleep while the word
//!   is `v` (a futex compares and sleeps atomically); start over.
//!
//! No wake-up is lost: if the signaller's step comes after the waiter set
//! bit 0, the signaller sees the bit and wakes it (and the word is no
//! longer `v`, so a waiter not yet asleep does not sleep); if it comes
//! before, the waiter's bit-setting step reads the signaller's value, which
//! makes the data published before it visible to the second check.
//! (`loom_tests` checks this with a futex modelled by a mutex and a
//! condition variable.) A waiter that times out leaves bit 0 set: the next
//! signal makes one system call for nothing and clears it.
//!
//! **Event state.** A listener owns one counter per event id and a summary
//! bitmap (one bit per id). Notifying id `i`: `counter[i] += 1`, then set bit
//! `i`. Collecting: take (swap to zero) each summary word, then take each
//! flagged counter: notifications of one id are coalesced into a count and
//! none is lost (an increment after the counter was taken sets its bit again
//! after the summary was taken, so the next collection sees it).

use crate::sync::{AtomicU32, Ordering};

/// A wake word: sequence ‹31› and a "sleeper" bit ‹1›.
#[derive(Clone, Copy)]
pub struct Waker<'a> {
    /// The word waiters sleep on.
    pub word: &'a AtomicU32,
}

const SLEEPER: u32 = 1;

impl<'a> Waker<'a> {
    /// A waker over one word.
    pub fn new(word: &'a AtomicU32) -> Self {
        Self { word }
    }

    /// Signals, after the data was published: returns whether somebody
    /// sleeps (the caller then makes the wake system call on the word).
    pub fn signal(&self) -> bool {
        let old = self
            .word
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| Some(v.wrapping_add(2) & !SLEEPER))
            .unwrap_or_else(|v| v);
        old & SLEEPER != 0
    }

    /// Announces a sleeper: returns the value to sleep on. Check for data
    /// once more after this, before sleeping.
    pub fn announce(&self) -> u32 {
        self.word.fetch_or(SLEEPER, Ordering::SeqCst) | SLEEPER
    }
}

/// A listener's event counters and summary bitmap.
#[derive(Clone, Copy)]
pub struct EventState<'a> {
    summary: &'a [AtomicU32],
    counters: &'a [AtomicU32],
}

/// Summary words for ids `0..=max_id`.
pub const fn summary_words(max_id: u32) -> usize {
    (max_id as usize + 1).div_ceil(32)
}

impl<'a> EventState<'a> {
    /// An event state over `summary` (at least [`summary_words`]) and one
    /// counter per id.
    pub fn new(summary: &'a [AtomicU32], counters: &'a [AtomicU32]) -> Option<Self> {
        (summary.len() * 32 >= counters.len() && !counters.is_empty()).then_some(Self { summary, counters })
    }

    /// The highest id this state counts.
    pub fn max_id(&self) -> u32 {
        self.counters.len() as u32 - 1
    }

    /// Counts one notification of `id` (false if out of range).
    pub fn raise(&self, id: u32) -> bool {
        let (Some(counter), Some(word)) = (self.counters.get(id as usize), self.summary.get(id as usize / 32)) else {
            return false;
        };
        counter.fetch_add(1, Ordering::SeqCst);
        word.fetch_or(1 << (id % 32), Ordering::SeqCst);
        true
    }

    /// Whether any id is flagged (data for a waiter).
    pub fn pending(&self) -> bool {
        self.summary.iter().any(|w| w.load(Ordering::SeqCst) != 0)
    }

    /// Takes every pending `(id, count)` and hands it to `f`; returns how
    /// many ids were delivered.
    pub fn collect(&self, f: &mut dyn FnMut(u32, u32)) -> usize {
        let mut delivered = 0;
        for (i, word) in self.summary.iter().enumerate() {
            let mut bits = word.swap(0, Ordering::SeqCst);
            while bits != 0 {
                let bit = bits.trailing_zeros();
                bits &= bits - 1;
                let id = i as u32 * 32 + bit;
                let Some(counter) = self.counters.get(id as usize) else { continue };
                let count = counter.swap(0, Ordering::SeqCst);
                if count != 0 {
                    f(id, count);
                    delivered += 1;
                }
            }
        }
        delivered
    }

    /// Forgets everything pending (a new listener in a reused slot).
    pub fn clear(&self) {
        for w in self.summary.iter().chain(self.counters) {
            w.store(0, Ordering::SeqCst);
        }
    }
}

#[cfg(test)]
#[cfg(not(loom))]
mod tests {
    use super::*;

    fn words(n: usize) -> std::vec::Vec<AtomicU32> {
        (0..n).map(|_| AtomicU32::new(0)).collect()
    }

    #[test]
    fn notifications_of_one_id_coalesce_with_a_count() {
        let (s, c) = (words(summary_words(40)), words(41));
        let e = EventState::new(&s, &c).unwrap();
        for id in [3, 3, 40, 3, 0] {
            assert!(e.raise(id));
        }
        assert!(!e.raise(41), "id past the maximum accepted");
        assert!(e.pending());
        let mut got = std::vec::Vec::new();
        assert_eq!(e.collect(&mut |id, n| got.push((id, n))), 3);
        assert_eq!(got, [(0, 1), (3, 3), (40, 1)]);
        assert!(!e.pending());
        assert_eq!(e.collect(&mut |_, _| panic!("nothing pending")), 0);
    }

    #[test]
    fn a_signal_with_nobody_waiting_asks_for_no_wake() {
        let w = AtomicU32::new(0);
        let k = Waker::new(&w);
        assert!(!k.signal());
        let v = k.announce();
        assert_eq!(v, 3, "sequence 1, sleeper bit set");
        assert!(k.signal(), "a sleeper was announced");
        assert!(!k.signal(), "the wake cleared the sleeper bit");
        assert_eq!(w.load(Ordering::SeqCst), 6);
        w.store(u32::MAX, Ordering::SeqCst);
        assert!(k.signal(), "the sequence wraps");
        assert_eq!(w.load(Ordering::SeqCst), 0);
    }
}

#[cfg(test)]
#[cfg(loom)]
mod loom_tests {
    use super::*;
    use loom::sync::{Arc, Condvar, Mutex};

    /// A futex: compare-and-sleep atomic with respect to wake.
    #[derive(Default)]
    struct Futex {
        m: Mutex<()>,
        cv: Condvar,
    }

    impl Futex {
        fn wait(&self, word: &AtomicU32, expected: u32) {
            let g = self.m.lock().unwrap();
            if word.load(Ordering::SeqCst) == expected {
                drop(self.cv.wait(g).unwrap());
            }
        }
        fn wake(&self) {
            let _g = self.m.lock().unwrap();
            self.cv.notify_all();
        }
    }

    struct Shared {
        futex: Futex,
        waker: AtomicU32,
        summary: [AtomicU32; 1],
        counters: [AtomicU32; 2],
    }

    /// Two notifiers, one sleeping listener: the listener wakes and sees
    /// both notifications (as counts), never sleeps through one (a lost
    /// wake-up would leave every thread blocked, which loom reports).
    #[test]
    fn no_lost_wake_up_and_no_lost_count() {
        loom::model(|| {
            let s = Arc::new(Shared {
                futex: Futex::default(),
                waker: AtomicU32::new(0),
                summary: [AtomicU32::new(0)],
                counters: [AtomicU32::new(0), AtomicU32::new(0)],
            });
            let notifiers: std::vec::Vec<_> = (0..2u32)
                .map(|id| {
                    let s = s.clone();
                    loom::thread::spawn(move || {
                        let e = EventState::new(&s.summary, &s.counters).unwrap();
                        let k = Waker::new(&s.waker);
                        e.raise(id % 2);
                        if k.signal() {
                            s.futex.wake();
                        }
                    })
                })
                .collect();
            let e = EventState::new(&s.summary, &s.counters).unwrap();
            let k = Waker::new(&s.waker);
            let mut total = 0;
            while total < 2 {
                if e.collect(&mut |_, n| total += n) > 0 {
                    continue;
                }
                let v = k.announce();
                if e.pending() {
                    continue;
                }
                s.futex.wait(k.word, v);
            }
            assert_eq!(total, 2);
            for n in notifiers {
                n.join().unwrap();
            }
        });
    }
}

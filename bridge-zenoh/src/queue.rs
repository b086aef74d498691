//! The bounded queue between Zenoh's callbacks and a service's worker: a
//! callback never blocks (a full queue drops, by default its oldest
//! entry), and the worker sleeps until something arrives.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

/// Which entry a full queue gives up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Overflow {
    /// Drop the oldest queued entry to make room (the default: the newest
    /// state of a sensor is worth more than a stale one).
    #[default]
    DropOldest,
    /// Drop the entry that does not fit.
    DropNewest,
}

/// A bounded multi-producer queue with one consumer, limited in entries and
/// in bytes.
pub struct Queue<T> {
    inner: Mutex<Inner<T>>,
    ready: Condvar,
    max_len: usize,
    max_bytes: usize,
    overflow: Overflow,
    dropped: AtomicU64,
}

struct Inner<T> {
    items: VecDeque<(T, usize)>,
    bytes: usize,
}

impl<T> Queue<T> {
    /// A queue of at most `max_len` entries and `max_bytes` bytes (an entry
    /// larger than that alone still fits in an empty queue).
    pub fn new(max_len: usize, max_bytes: usize, overflow: Overflow) -> Self {
        Self {
            inner: Mutex::new(Inner { items: VecDeque::new(), bytes: 0 }),
            ready: Condvar::new(),
            max_len: max_len.max(1),
            max_bytes,
            overflow,
            dropped: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner<T>> {
        // A panicking holder left the deque itself intact.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `item` of `bytes` bytes; never blocks. Entries dropped to
    /// respect the bounds are counted in [`dropped`](Self::dropped).
    pub fn push(&self, item: T, bytes: usize) {
        let mut q = self.lock();
        let full =
            |q: &Inner<T>| !q.items.is_empty() && (q.items.len() >= self.max_len || q.bytes + bytes > self.max_bytes);
        if full(&q) && self.overflow == Overflow::DropNewest {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        while full(&q) {
            if let Some((_, b)) = q.items.pop_front() {
                q.bytes -= b;
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
        q.bytes += bytes;
        q.items.push_back((item, bytes));
        drop(q);
        self.ready.notify_one();
    }

    /// The oldest entry, waiting up to `timeout` for one.
    pub fn pop(&self, timeout: Duration) -> Option<T> {
        let mut q = self.lock();
        if q.items.is_empty() {
            q = self.ready.wait_timeout_while(q, timeout, |q| q.items.is_empty()).unwrap_or_else(|e| e.into_inner()).0;
        }
        let (item, b) = q.items.pop_front()?;
        q.bytes -= b;
        Some(item)
    }

    /// Entries dropped so far because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Entries queued now (what the tests look at).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().items.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_queue_drops_its_oldest_and_counts() {
        let q = Queue::new(3, usize::MAX, Overflow::DropOldest);
        for i in 0..5 {
            q.push(i, 1);
        }
        assert_eq!(q.dropped(), 2);
        let got: Vec<_> = std::iter::from_fn(|| q.pop(Duration::ZERO)).collect();
        assert_eq!(got, [2, 3, 4]);
    }

    #[test]
    fn drop_newest_keeps_the_first() {
        let q = Queue::new(2, usize::MAX, Overflow::DropNewest);
        for i in 0..4 {
            q.push(i, 1);
        }
        assert_eq!(q.dropped(), 2);
        assert_eq!(q.pop(Duration::ZERO), Some(0));
        assert_eq!(q.pop(Duration::ZERO), Some(1));
        assert_eq!(q.pop(Duration::ZERO), None);
    }

    #[test]
    fn the_byte_bound_holds_but_one_big_entry_passes() {
        let q = Queue::new(100, 10, Overflow::DropOldest);
        q.push("a", 6);
        q.push("b", 6);
        assert_eq!((q.len(), q.dropped()), (1, 1));
        q.push("huge", 50);
        assert_eq!((q.len(), q.dropped()), (1, 2));
        assert_eq!(q.pop(Duration::ZERO), Some("huge"));
    }

    #[test]
    fn pop_waits_for_a_push() {
        let q = std::sync::Arc::new(Queue::new(4, usize::MAX, Overflow::DropOldest));
        let q2 = q.clone();
        let t = std::thread::spawn(move || q2.pop(Duration::from_secs(30)));
        std::thread::sleep(Duration::from_millis(20));
        q.push(42, 1);
        assert_eq!(t.join().unwrap(), Some(42));
    }
}

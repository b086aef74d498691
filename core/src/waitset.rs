//! WaitSet: one thread sleeps on many attachments at once (listeners,
//! subscribers, servers, pending responses), plus deadlines (an attachment
//! silent for too long) and intervals (a timer), and runs a callback for
//! each that fired. No thread is spawned, nothing is allocated: the
//! capacity `N` is fixed at compile time.
//!
//! It sleeps on the wake words of every attachment at once
//! ([`Platform::signal_wait_any`]: `futex_waitv` on Linux, one task
//! notification on FreeRTOS), with the same announce-then-check protocol as
//! a single receiver, so no wake-up is lost and a send to a port whose
//! WaitSet does not sleep makes no system call.
//!
//! ```
//! # fn clock() -> core::time::Duration { core::time::Duration::ZERO }
//! # icefloe_core::bare_metal_platform!(Board, arena = 64 * 1024, segments = 8, clock = clock);
//! use icefloe_core::{CallbackProgression, EventId, NodeBuilder, ServiceName, WaitSet, WaitSetRunResult};
//! let node = NodeBuilder::<Board>::new().create().unwrap();
//! let event = node.service_builder(&ServiceName::new("bell").unwrap()).event().create().unwrap();
//! let listener = event.listener_builder().create().unwrap();
//! let notifier = event.notifier_builder().create().unwrap();
//! let waitset = WaitSet::<Board, 4>::new();
//! let guard = waitset.attach_notification(&listener).unwrap();
//! notifier.notify().unwrap();
//! let result = waitset
//!     .wait_and_process_once(|id| {
//!         assert!(id.has_event_from(&guard));
//!         listener.try_wait(|_| {}).unwrap();
//!         CallbackProgression::Continue
//!     })
//!     .unwrap();
//! assert_eq!(result, WaitSetRunResult::AllEventsHandled);
//! ```

use crate::platform::{Platform, Termination, WaitOutcome};
use crate::shm::event::Waker;
use crate::sync::{as_signal_word, SignalWord};
use core::cell::{Cell, RefCell};
use core::marker::PhantomData;
use core::time::Duration;

/// Something a [`WaitSet`] can sleep on: a port with a wake word.
pub trait Attachable {
    /// The word a sender signals when this port has something.
    #[doc(hidden)]
    fn wake_word(&self) -> Option<Waker<'_>>;
    /// Whether something waits to be taken (a snapshot).
    fn has_pending(&self) -> bool;
}

/// What the callback says after handling an attachment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum CallbackProgression {
    /// Go on.
    Continue,
    /// Stop: the run returns [`WaitSetRunResult::StopRequest`].
    Stop,
}

/// How a run of the WaitSet ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum WaitSetRunResult {
    /// SIGTERM arrived.
    TerminationRequest,
    /// SIGINT (Ctrl-C) arrived.
    Interrupt,
    /// A callback returned [`CallbackProgression::Stop`].
    StopRequest,
    /// Everything that fired was handled (or the timeout passed).
    AllEventsHandled,
}

/// Why an attachment was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum WaitSetAttachmentError {
    /// All `N` attachments are taken.
    InsufficientCapacity,
    /// This port is attached already.
    AlreadyAttached,
    /// The port has no wake word (it cannot be waited on).
    NotAttachable,
}

/// Why a run could not start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum WaitSetRunError {
    /// Nothing is attached: the wait would never end.
    NoAttachments,
}

impl core::fmt::Display for WaitSetAttachmentError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::InsufficientCapacity => {
                "all of the WaitSet's attachments are taken: drop a guard, or make the WaitSet with a larger N"
            }
            Self::AlreadyAttached => "this port is attached to the WaitSet already",
            Self::NotAttachable => "this port has no wake word in shared memory, so a WaitSet cannot wait on it",
        })
    }
}
impl core::error::Error for WaitSetAttachmentError {}
impl core::fmt::Display for WaitSetRunError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::NoAttachments => "nothing is attached to the WaitSet, so the wait would never end",
        })
    }
}
impl core::error::Error for WaitSetRunError {}

/// Which attachment fired, handed to the callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitSetAttachmentId {
    id: u32,
    missed: bool,
}

impl WaitSetAttachmentId {
    /// Whether it is `guard`'s attachment, with something to take (or its
    /// interval's tick).
    pub fn has_event_from<P: Platform, const N: usize>(&self, guard: &WaitSetGuard<'_, '_, P, N>) -> bool {
        self.id == guard.id && !self.missed
    }

    /// Whether it is `guard`'s deadline attachment, silent for longer than
    /// its deadline.
    pub fn has_missed_deadline<P: Platform, const N: usize>(&self, guard: &WaitSetGuard<'_, '_, P, N>) -> bool {
        self.id == guard.id && self.missed
    }
}

/// An attachment kept without its guard, for owners that cannot hold a
/// guard's borrow of the WaitSet (a language binding's WaitSet object):
/// from [`WaitSetGuard::into_token`], ended by [`WaitSet::detach`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WaitSetToken {
    id: u32,
}

impl WaitSetAttachmentId {
    /// Whether it is `token`'s attachment, with something to take (or its
    /// interval's tick).
    pub fn has_event_from_token(&self, token: &WaitSetToken) -> bool {
        self.id == token.id && !self.missed
    }

    /// Whether it is `token`'s deadline attachment, silent for too long.
    pub fn has_missed_deadline_of_token(&self, token: &WaitSetToken) -> bool {
        self.id == token.id && self.missed
    }

    /// The token of the attachment that fired.
    pub fn token(&self) -> WaitSetToken {
        WaitSetToken { id: self.id }
    }
}

#[derive(Clone, Copy)]
enum Kind<'a> {
    Notification(&'a dyn Attachable),
    Deadline(&'a dyn Attachable, Duration),
    Interval(Duration),
}

#[derive(Clone, Copy)]
struct Entry<'a> {
    id: u32,
    kind: Kind<'a>,
    /// Deadline: the last activity; interval: the last tick.
    since: Duration,
}

/// Sleeps on up to `N` attachments at once. Not `Sync`: one thread runs it.
///
/// ```
/// # fn clock() -> core::time::Duration { core::time::Duration::ZERO }
/// # icefloe_core::bare_metal_platform!(Board, arena = 512 * 1024, segments = 16, clock = clock);
/// use core::time::Duration;
/// use icefloe_core::{CallbackProgression, NodeBuilder, ServiceName, WaitSet, WaitSetRunResult};
/// let node = NodeBuilder::<Board>::new().create().unwrap();
/// let service = node.service_builder(&ServiceName::new("cmd").unwrap()).publish_subscribe::<u8>().create().unwrap();
/// let subscriber = service.subscriber_builder().create().unwrap();
/// let publisher = service.publisher_builder().create().unwrap();
/// publisher.send_copy(b'g').unwrap();
///
/// let waitset = WaitSet::<Board, 2>::new();
/// let commands = waitset.attach_notification(&subscriber).unwrap();
/// let mut got = None;
/// let result = waitset
///     .wait_and_process_once_with_timeout(
///         |id| {
///             if id.has_event_from(&commands) {
///                 got = subscriber.receive().unwrap().map(|s| *s);
///             }
///             CallbackProgression::Continue
///         },
///         Duration::from_millis(10),
///     )
///     .unwrap();
/// assert_eq!((got, result), (Some(b'g'), WaitSetRunResult::AllEventsHandled));
/// ```
pub struct WaitSet<'a, P: Platform, const N: usize = 16> {
    entries: RefCell<[Option<Entry<'a>>; N]>,
    next_id: Cell<u32>,
    _p: PhantomData<P>,
}

/// Keeps an attachment; dropping it detaches.
pub struct WaitSetGuard<'w, 'a, P: Platform, const N: usize> {
    set: &'w WaitSet<'a, P, N>,
    id: u32,
}

impl<P: Platform, const N: usize> WaitSetGuard<'_, '_, P, N> {
    /// Keeps the attachment without this guard: it stays until
    /// [`WaitSet::detach`] is given the token (or the WaitSet goes).
    pub fn into_token(self) -> WaitSetToken {
        let token = WaitSetToken { id: self.id };
        core::mem::forget(self);
        token
    }
}

impl<P: Platform, const N: usize> Drop for WaitSetGuard<'_, '_, P, N> {
    fn drop(&mut self) {
        for e in self.set.entries.borrow_mut().iter_mut() {
            if e.is_some_and(|e| e.id == self.id) {
                *e = None;
            }
        }
    }
}

impl<P: Platform, const N: usize> Default for WaitSet<'_, P, N> {
    fn default() -> Self {
        Self::new()
    }
}

fn same(a: &dyn Attachable, b: &dyn Attachable) -> bool {
    core::ptr::addr_eq(a as *const dyn Attachable, b as *const dyn Attachable)
}

impl<'a, P: Platform, const N: usize> WaitSet<'a, P, N> {
    /// An empty WaitSet.
    pub fn new() -> Self {
        Self { entries: RefCell::new([None; N]), next_id: Cell::new(1), _p: PhantomData }
    }

    /// Ends the attachment of `token` (kept by [`WaitSetGuard::into_token`]);
    /// whether it was still attached.
    pub fn detach(&self, token: WaitSetToken) -> bool {
        let mut entries = self.entries.borrow_mut();
        match entries.iter_mut().find(|e| e.is_some_and(|e| e.id == token.id)) {
            Some(e) => {
                *e = None;
                true
            }
            None => false,
        }
    }

    /// Attachments in use.
    pub fn len(&self) -> usize {
        self.entries.borrow().iter().flatten().count()
    }

    /// Whether nothing is attached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The capacity `N`.
    pub fn capacity(&self) -> usize {
        N
    }

    fn attach(&self, kind: Kind<'a>) -> Result<WaitSetGuard<'_, 'a, P, N>, WaitSetAttachmentError> {
        let port = match kind {
            Kind::Notification(a) | Kind::Deadline(a, _) => Some(a),
            Kind::Interval(_) => None,
        };
        let mut entries = self.entries.borrow_mut();
        if let Some(a) = port {
            if a.wake_word().is_none() {
                return Err(WaitSetAttachmentError::NotAttachable);
            }
            let attached = entries.iter().flatten().any(|e| match e.kind {
                Kind::Notification(b) | Kind::Deadline(b, _) => same(a, b),
                Kind::Interval(_) => false,
            });
            if attached {
                return Err(WaitSetAttachmentError::AlreadyAttached);
            }
        }
        let slot = entries.iter_mut().find(|e| e.is_none()).ok_or(WaitSetAttachmentError::InsufficientCapacity)?;
        let id = self.next_id.get();
        self.next_id.set(id.wrapping_add(1).max(1));
        *slot = Some(Entry { id, kind, since: P::now() });
        Ok(WaitSetGuard { set: self, id })
    }

    /// Wakes the WaitSet whenever `port` has something (a listener's
    /// events, a subscriber's samples, a server's requests, a pending
    /// response's responses or end).
    pub fn attach_notification(
        &self,
        port: &'a dyn Attachable,
    ) -> Result<WaitSetGuard<'_, 'a, P, N>, WaitSetAttachmentError> {
        self.attach(Kind::Notification(port))
    }

    /// Like [`attach_notification`](Self::attach_notification), and also
    /// fires [`has_missed_deadline`](WaitSetAttachmentId::has_missed_deadline)
    /// when `port` stays silent for longer than `deadline` (then again after
    /// each further `deadline`).
    pub fn attach_deadline(
        &self,
        port: &'a dyn Attachable,
        deadline: Duration,
    ) -> Result<WaitSetGuard<'_, 'a, P, N>, WaitSetAttachmentError> {
        self.attach(Kind::Deadline(port, deadline.max(Duration::from_nanos(1))))
    }

    /// A timer: fires every `interval` (missed ticks are not replayed).
    pub fn attach_interval(&self, interval: Duration) -> Result<WaitSetGuard<'_, 'a, P, N>, WaitSetAttachmentError> {
        self.attach(Kind::Interval(interval.max(Duration::from_nanos(1))))
    }

    /// Waits until something fires, runs `f` for each, and returns.
    pub fn wait_and_process_once(
        &self,
        f: impl FnMut(WaitSetAttachmentId) -> CallbackProgression,
    ) -> Result<WaitSetRunResult, WaitSetRunError> {
        self.run_once(None, f)
    }

    /// Like [`wait_and_process_once`](Self::wait_and_process_once), waiting
    /// at most `timeout` (then returns [`WaitSetRunResult::AllEventsHandled`]
    /// without calling `f`).
    pub fn wait_and_process_once_with_timeout(
        &self,
        f: impl FnMut(WaitSetAttachmentId) -> CallbackProgression,
        timeout: Duration,
    ) -> Result<WaitSetRunResult, WaitSetRunError> {
        self.run_once(Some(timeout), f)
    }

    /// Waits and processes until a callback says stop or SIGINT/SIGTERM
    /// arrives.
    pub fn wait_and_process(
        &self,
        mut f: impl FnMut(WaitSetAttachmentId) -> CallbackProgression,
    ) -> Result<WaitSetRunResult, WaitSetRunError> {
        loop {
            match self.run_once(None, &mut f)? {
                WaitSetRunResult::AllEventsHandled => continue,
                other => return Ok(other),
            }
        }
    }

    /// What fired now: (attachment, missed deadline). Updates timers.
    fn fired(&self, now: Duration) -> heapless::Vec<WaitSetAttachmentId, N> {
        let mut out = heapless::Vec::new();
        for e in self.entries.borrow_mut().iter_mut().flatten() {
            let hit = match e.kind {
                Kind::Notification(a) => a.has_pending().then_some(false),
                Kind::Deadline(a, d) => {
                    if a.has_pending() {
                        e.since = now;
                        Some(false)
                    } else if now.saturating_sub(e.since) >= d {
                        e.since = now;
                        Some(true)
                    } else {
                        None
                    }
                }
                Kind::Interval(period) => {
                    if now.saturating_sub(e.since) >= period {
                        // Keep the cadence; skip ticks that were missed.
                        let behind = now.saturating_sub(e.since).as_nanos() / period.as_nanos();
                        e.since += period * behind as u32;
                        Some(false)
                    } else {
                        None
                    }
                }
            };
            if let Some(missed) = hit {
                let _ = out.push(WaitSetAttachmentId { id: e.id, missed });
            }
        }
        out
    }

    /// The time until the next timer (deadline or interval) is due.
    fn next_timer(&self, now: Duration) -> Option<Duration> {
        self.entries
            .borrow()
            .iter()
            .flatten()
            .filter_map(|e| match e.kind {
                Kind::Deadline(_, d) | Kind::Interval(d) => Some((e.since + d).saturating_sub(now)),
                Kind::Notification(_) => None,
            })
            .min()
    }

    fn run_once(
        &self,
        timeout: Option<Duration>,
        mut f: impl FnMut(WaitSetAttachmentId) -> CallbackProgression,
    ) -> Result<WaitSetRunResult, WaitSetRunError> {
        if self.is_empty() {
            return Err(WaitSetRunError::NoAttachments);
        }
        let start = P::now();
        loop {
            let now = P::now();
            let fired = self.fired(now);
            if !fired.is_empty() {
                // The callback runs with no borrow held: it may attach or detach.
                for id in fired {
                    if f(id) == CallbackProgression::Stop {
                        return Ok(WaitSetRunResult::StopRequest);
                    }
                }
                return Ok(WaitSetRunResult::AllEventsHandled);
            }
            // Announce a sleeper on every word, check once more, sleep on all.
            let mut words: heapless::Vec<(&SignalWord, u32), N> = heapless::Vec::new();
            let mut ready = false;
            for e in self.entries.borrow().iter().flatten() {
                if let Kind::Notification(a) | Kind::Deadline(a, _) = e.kind {
                    if let Some(w) = a.wake_word() {
                        let value = w.announce();
                        let _ = words.push((as_signal_word(w.word), value));
                    }
                    ready |= a.has_pending();
                }
            }
            if ready {
                continue;
            }
            let left = match timeout {
                Some(t) => match crate::signal::time_left::<P>(start, t) {
                    Some(left) => Some(left),
                    None => return Ok(WaitSetRunResult::AllEventsHandled),
                },
                None => None,
            };
            let sleep = match (left, self.next_timer(P::now())) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let outcome = if sleep.is_some_and(|s| s.is_zero()) {
                WaitOutcome::TimedOut
            } else {
                P::signal_wait_any(&words, sleep)
            };
            if outcome == WaitOutcome::Interrupted {
                match P::take_termination_request() {
                    Some(Termination::Interrupt) => return Ok(WaitSetRunResult::Interrupt),
                    Some(Termination::Terminate) => return Ok(WaitSetRunResult::TerminationRequest),
                    None => {}
                }
            }
        }
    }
}

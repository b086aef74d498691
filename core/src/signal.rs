//! Signalling: waking whoever sleeps on a port's or listener's word, and
//! the blocking half of every receive and wait. Used by the ports (after a
//! send) and by service cleanup (after reclaiming a dead node's ports), so
//! it lives apart from both.

use crate::platform::Platform;
use crate::shm::service::{split_state, status, ServiceView};
use crate::sync::as_signal_word;

/// Wakes whoever sleeps on `w`: no system call unless somebody does.
pub(crate) fn wake<P: Platform>(w: Option<crate::shm::event::Waker<'_>>) {
    if let Some(w) = w {
        if w.signal() {
            P::signal_wake_all(as_signal_word(w.word));
        }
    }
}

/// The blocking half of every receive and wait: tries `attempt`; if it
/// finds nothing, announces a sleeper on `waker`, tries once more, and
/// sleeps until a sender signals (the protocol of [`crate::shm::event`]) or
/// `timeout` passes (`Ok(None)`). SIGINT and SIGTERM end it with `E`'s
/// termination error.
pub(crate) fn wait_until<P: Platform, T, E: From<crate::platform::Termination>>(
    waker: Option<crate::shm::event::Waker<'_>>,
    timeout: Option<core::time::Duration>,
    mut attempt: impl FnMut() -> Result<Option<T>, E>,
) -> Result<Option<T>, E> {
    let start = P::now();
    loop {
        if let Some(t) = attempt()? {
            return Ok(Some(t));
        }
        let Some(w) = waker else { return Ok(None) };
        let value = w.announce();
        if let Some(t) = attempt()? {
            return Ok(Some(t));
        }
        let left = match timeout {
            Some(t) => match time_left::<P>(start, t) {
                Some(left) => Some(left),
                None => return Ok(None),
            },
            None => None,
        };
        if P::signal_wait(as_signal_word(w.word), value, left) == crate::platform::WaitOutcome::Interrupted {
            if let Some(t) = P::take_termination_request() {
                return Err(t.into());
            }
        }
    }
}

/// [`wait_until`] with no timeout: returns only with something (or an
/// error).
pub(crate) fn wait_for<P: Platform, T, E: From<crate::platform::Termination>>(
    waker: Option<crate::shm::event::Waker<'_>>,
    mut attempt: impl FnMut() -> Result<Option<T>, E>,
) -> Result<T, E> {
    loop {
        if let Some(t) = wait_until::<P, T, E>(waker, None, &mut attempt)? {
            return Ok(t);
        }
    }
}

/// What is left of `timeout` since `start`; `None` once it has passed.
pub(crate) fn time_left<P: Platform>(
    start: core::time::Duration,
    timeout: core::time::Duration,
) -> Option<core::time::Duration> {
    timeout.checked_sub(P::now().saturating_sub(start)).filter(|left| !left.is_zero())
}

/// Adds one notification of `id` to every active listener of the service
/// and wakes those that sleep; returns how many listeners it reached.
pub(crate) fn deliver<P: Platform>(view: &ServiceView, id: u32) -> usize {
    let mut reached = 0;
    for l in 0..view.receiver_count() {
        let active = view.receiver(l).is_some_and(|s| split_state(s.state()).1 == status::ACTIVE);
        let Some((waker, state)) = view.listener_event(l).filter(|_| active) else { continue };
        if !state.raise(id) {
            continue;
        }
        if waker.signal() {
            P::signal_wake_all(as_signal_word(waker.word));
        }
        reached += 1;
    }
    reached
}

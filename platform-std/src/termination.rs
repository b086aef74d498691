//! Termination requests on POSIX systems: icefloe's SIGINT / SIGTERM
//! handler, shared by the platforms with signals. It records the request in
//! one word, calls the platform's async-signal-safe wake (a futex wake on
//! Linux, semaphore posts on QNX) so that sleeping waits notice, then chains
//! to a handler the application had installed before.
// The word and the handler table are process-local statics the signal
// handler reads; no shared memory.
#![allow(clippy::disallowed_types)]

use core::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use icefloe_core::platform::Termination;

static TERMINATION: AtomicU32 = AtomicU32::new(0);
static HANDLERS: std::sync::Once = std::sync::Once::new();
/// The platform's wake, as a `fn()` address (0 until installed).
static WAKE: AtomicUsize = AtomicUsize::new(0);

/// The handlers that were installed for SIGINT and SIGTERM before ours (0:
/// none to chain, i.e. `SIG_DFL` or `SIG_IGN`), and whether each takes
/// `siginfo` (`SA_SIGINFO`). Written once, before ours is installed.
static PREVIOUS: [AtomicUsize; 2] = [AtomicUsize::new(0), AtomicUsize::new(0)];
static PREVIOUS_SIGINFO: [AtomicBool; 2] = [AtomicBool::new(false), AtomicBool::new(false)];

fn signal_index(sig: libc::c_int) -> usize {
    usize::from(sig == libc::SIGTERM)
}

/// The word that holds the pending request (the signal number, 0 for
/// none): Linux's waits sleep on it too, in one `futex_waitv`.
pub fn word() -> &'static AtomicU32 {
    &TERMINATION
}

extern "C" fn on_signal(sig: libc::c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
    TERMINATION.store(sig as u32, Ordering::SeqCst);
    let wake = WAKE.load(Ordering::SeqCst);
    if wake != 0 {
        // SAFETY: the address was stored by `install` from a `fn()`.
        let f: fn() = unsafe { core::mem::transmute::<usize, fn()>(wake) };
        f();
    }
    // Then the application's own handler, if it had one before ours.
    let i = signal_index(sig);
    let previous = PREVIOUS[i].load(Ordering::SeqCst);
    if previous != 0 {
        if PREVIOUS_SIGINFO[i].load(Ordering::SeqCst) {
            // SAFETY: the address came from `sigaction` as this signal's
            // SA_SIGINFO handler, which has this signature.
            let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                unsafe { core::mem::transmute(previous) };
            f(sig, info, context);
        } else {
            // SAFETY: the address came from `sigaction` as this signal's
            // plain handler (neither SIG_DFL nor SIG_IGN), of this signature.
            let f: extern "C" fn(libc::c_int) = unsafe { core::mem::transmute(previous) };
            f(sig);
        }
    }
}

/// Installs icefloe's SIGINT / SIGTERM handler (once per process),
/// remembering a handler the application had installed so that ours calls
/// it after recording the request. `wake` runs inside the handler: it must
/// be async-signal-safe (atomics, futex wakes, `sem_post`).
pub fn install(wake: fn()) {
    HANDLERS.call_once(|| {
        WAKE.store(wake as usize, Ordering::SeqCst);
        for sig in [libc::SIGINT, libc::SIGTERM] {
            let i = signal_index(sig);
            // SAFETY: a zeroed sigaction is a valid starting point and a
            // valid out-parameter; the handler is async-signal-safe (atomics,
            // the platform's wake, then the previous handler); no
            // SA_RESTART, so sleeps and waits return EINTR and notice the
            // request.
            unsafe {
                let mut old: libc::sigaction = core::mem::zeroed();
                if libc::sigaction(sig, core::ptr::null(), &mut old) == 0
                    && old.sa_sigaction != libc::SIG_DFL
                    && old.sa_sigaction != libc::SIG_IGN
                {
                    PREVIOUS_SIGINFO[i].store(old.sa_flags & libc::SA_SIGINFO != 0, Ordering::SeqCst);
                    PREVIOUS[i].store(old.sa_sigaction, Ordering::SeqCst);
                }
                let mut sa: libc::sigaction = core::mem::zeroed();
                sa.sa_sigaction = on_signal as extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void)
                    as *const () as usize;
                libc::sigemptyset(&mut sa.sa_mask);
                sa.sa_flags = libc::SA_SIGINFO;
                libc::sigaction(sig, &sa, core::ptr::null_mut());
            }
        }
    });
}

/// The pending request, left pending.
pub fn peek() -> Option<Termination> {
    match TERMINATION.load(Ordering::SeqCst) as i32 {
        libc::SIGINT => Some(Termination::Interrupt),
        libc::SIGTERM => Some(Termination::Terminate),
        _ => None,
    }
}

/// The pending request, consumed.
pub fn take() -> Option<Termination> {
    let t = peek();
    if t.is_some() {
        TERMINATION.store(0, Ordering::SeqCst);
    }
    t
}

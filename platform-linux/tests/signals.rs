//! A node inside someone else's process: by default icefloe catches SIGINT
//! and chains to the handler the application installed before; with
//! `SignalHandlingMode::Disabled` it leaves signal handling alone.
// What the application's own signal handler saw: a plain atomic.
#![allow(clippy::disallowed_types)]

mod common;

use common::{role, say, Peer, ShmGuard};
use icefloe_linux::prelude::*;
use icefloe_linux::SignalHandlingMode;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// SIGINTs the application's own handler saw.
static APP_SAW: AtomicU32 = AtomicU32::new(0);

extern "C" fn app_handler(_: libc::c_int) {
    APP_SAW.fetch_add(1, Ordering::SeqCst);
}

fn install_app_handler() {
    // SAFETY: a zeroed sigaction is valid; the handler only touches an atomic.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = app_handler as extern "C" fn(libc::c_int) as *const () as usize;
        libc::sigemptyset(&mut sa.sa_mask);
        assert_eq!(libc::sigaction(libc::SIGINT, &sa, std::ptr::null_mut()), 0);
    }
}

/// The handler now installed for SIGINT.
fn current_handler() -> usize {
    // SAFETY: querying only; `old` is a valid out-parameter.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        assert_eq!(libc::sigaction(libc::SIGINT, std::ptr::null(), &mut old), 0);
        old.sa_sigaction
    }
}

fn node(prefix: &str, mode: SignalHandlingMode) -> Node {
    NodeBuilder::new().prefix(prefix).unwrap().signal_handling_mode(mode).create().unwrap()
}

/// Child: waits in `Node::wait` until it ends (or 20 s pass), then reports
/// what ended it and whether the application's handler ran.
fn child(with_app_handler: bool, mode: SignalHandlingMode) {
    if with_app_handler {
        install_app_handler();
    }
    let before = current_handler();
    let node = node(&std::env::var("ICEFLOE_TEST_PREFIX").unwrap(), mode);
    let replaced = current_handler() != before;
    say("ready", "");
    let deadline = Instant::now() + Duration::from_secs(20);
    let ended = loop {
        match node.wait(Duration::from_millis(10)) {
            Err(e) => break format!("{e:?}"),
            // Without icefloe's handler, the application's saw the signal.
            Ok(()) if APP_SAW.load(Ordering::SeqCst) > 0 && mode == SignalHandlingMode::Disabled => {
                break "Ok".to_string()
            }
            Ok(()) if Instant::now() > deadline => break "deadline".to_string(),
            Ok(()) => {}
        }
    };
    say("result", format!("{ended} app_saw={} replaced={replaced}", APP_SAW.load(Ordering::SeqCst)));
}

/// Starts the child `test` as `role`, SIGINTs it once it is waiting, and
/// returns what it reported.
fn run(test: &str, role: &str) -> String {
    let guard = ShmGuard::new();
    let mut peer = Peer::spawn(test, role, guard.prefix(), &[]);
    peer.expect("ready");
    peer.signal(libc::SIGINT);
    let result = peer.expect("result");
    assert!(peer.wait(Duration::from_secs(30)), "the child failed");
    result
}

/// Re-run as the child of `test`: plays it (`with_app_handler`, `mode`).
/// Otherwise: runs `test` as a child, SIGINTs it and returns its report.
fn case(test: &str, with_app_handler: bool, mode: SignalHandlingMode) -> Option<String> {
    match role().as_deref() {
        Some(r) if r == test => {
            child(with_app_handler, mode);
            None
        }
        Some(_) => None,
        None => Some(run(test, test)),
    }
}

#[test]
fn by_default_ctrl_c_ends_node_wait_and_the_application_handler_still_runs() {
    let test = "by_default_ctrl_c_ends_node_wait_and_the_application_handler_still_runs";
    if let Some(got) = case(test, true, SignalHandlingMode::HandleTerminationRequests) {
        assert_eq!(got, "Interrupt app_saw=1 replaced=true");
    }
}

#[test]
fn with_signal_handling_disabled_the_application_keeps_its_handler() {
    let test = "with_signal_handling_disabled_the_application_keeps_its_handler";
    if let Some(got) = case(test, true, SignalHandlingMode::Disabled) {
        // Node::wait did not end with an error; the app's handler ran and
        // is still the one installed.
        assert_eq!(got, "Ok app_saw=1 replaced=false");
    }
}

#[test]
fn with_signal_handling_disabled_the_default_disposition_stays() {
    if role().as_deref() == Some("untouched") {
        let before = current_handler();
        let _node = node(&std::env::var("ICEFLOE_TEST_PREFIX").unwrap(), SignalHandlingMode::Disabled);
        say("result", format!("default={} same={}", before == libc::SIG_DFL, current_handler() == before));
        return;
    }
    if role().is_some() {
        return;
    }
    let guard = ShmGuard::new();
    let test = "with_signal_handling_disabled_the_default_disposition_stays";
    let mut peer = Peer::spawn(test, "untouched", guard.prefix(), &[]);
    assert_eq!(peer.expect("result"), "default=true same=true");
    assert!(peer.wait(Duration::from_secs(30)));
}

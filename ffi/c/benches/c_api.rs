//! What the C API costs over the Rust API: the same publish-subscribe ping
//! pong (8 B, busy-polling, two threads, one process), once through the
//! Rust API and once through the C API's functions, interleaved in one run.
//!
//! `cargo bench -p icefloe-c -- [rounds]` (the two threads pinned to CPUs 0
//! and 1); writes `bench/results/c.md`.
// The echo threads' stop flags are plain process atomics.
#![allow(clippy::disallowed_types)]

use icefloe_c::*;
use icefloe_linux::{NodeBuilder, ServiceName};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

const PER_ROUND: usize = 20_000;

/// Pins the calling thread to `cpu` (best effort: on a machine with one CPU
/// both threads share it).
fn pin(cpu: usize) {
    // SAFETY: a zeroed cpu_set_t is an empty set; CPU_SET writes within it;
    // sched_setaffinity(0, …) applies to the calling thread.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

fn ok(e: icefloe_error) {
    assert_eq!(e, icefloe_error::ICEFLOE_OK, "a C API call failed");
}

/// The Rust API: ping on `a`, echo on `b`.
fn rust_round(prefix: &str, n: usize) -> Vec<u64> {
    let node = NodeBuilder::new().prefix(prefix).unwrap().create().unwrap();
    let open = |name: &str| {
        node.service_builder(&ServiceName::new(name).unwrap())
            .publish_subscribe::<[u8]>()
            .max_slice_len(8)
            .open_or_create()
            .unwrap()
    };
    let (ping, pong) = (open("bench/r-ping"), open("bench/r-pong"));
    let (ping_pub, pong_sub) = (
        ping.publisher_builder().initial_max_slice_len(8).create().unwrap(),
        pong.subscriber_builder().create().unwrap(),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let (s, p) = (stop.clone(), prefix.to_owned());
    let echo = std::thread::spawn(move || {
        pin(1);
        let node = NodeBuilder::new().prefix(&p).unwrap().create().unwrap();
        let open = |name: &str| {
            node.service_builder(&ServiceName::new(name).unwrap())
                .publish_subscribe::<[u8]>()
                .max_slice_len(8)
                .open_or_create()
                .unwrap()
        };
        let (ping, pong) = (open("bench/r-ping"), open("bench/r-pong"));
        let sub = ping.subscriber_builder().create().unwrap();
        let publ = pong.publisher_builder().initial_max_slice_len(8).create().unwrap();
        while !s.load(Ordering::Relaxed) {
            if let Some(x) = sub.receive().unwrap() {
                let v = x[0];
                drop(x);
                publ.loan_slice_uninit(8).unwrap().write_from_fn(|_| v).send().unwrap();
            }
        }
    });
    while pong.number_of_publishers() == 0 || ping.number_of_subscribers() == 0 {
        std::thread::yield_now();
    }
    let mut out = Vec::with_capacity(n);
    for i in 0..n + 1000 {
        let t = Instant::now();
        ping_pub.loan_slice_uninit(8).unwrap().write_from_fn(|_| i as u8).send().unwrap();
        loop {
            if let Some(x) = pong_sub.receive().unwrap() {
                assert_eq!(x[0], i as u8);
                break;
            }
        }
        if i >= 1000 {
            out.push(t.elapsed().as_nanos() as u64);
        }
    }
    stop.store(true, Ordering::Relaxed);
    echo.join().unwrap();
    out
}

/// One side of the C API ping pong: a node, a publisher on `send`, a
/// subscriber on `receive`.
struct CSide {
    node: *mut icefloe_node,
    services: [*mut icefloe_pubsub; 2],
    publisher: *mut icefloe_publisher,
    subscriber: *mut icefloe_subscriber,
}

// SAFETY: a side is made on one thread and then used and dropped on the
// thread it is moved to, alone.
unsafe impl Send for CSide {}

impl CSide {
    fn new(prefix: &std::ffi::CStr, send: &std::ffi::CStr, receive: &std::ffi::CStr) -> Self {
        let mut s = CSide {
            node: std::ptr::null_mut(),
            services: [std::ptr::null_mut(); 2],
            publisher: std::ptr::null_mut(),
            subscriber: std::ptr::null_mut(),
        };
        let mut no = icefloe_node_options_default();
        no.prefix = prefix.as_ptr();
        let mut so = icefloe_pubsub_options_default();
        so.max_slice_len = 8;
        let mut po = icefloe_publisher_options_default();
        po.initial_max_slice_len = 8;
        // SAFETY: valid options and out-pointers; the handles are used as
        // the C API's contract says.
        unsafe {
            ok(icefloe_node_create(&no, &mut s.node));
            ok(icefloe_pubsub_service(
                s.node,
                send.as_ptr(),
                &so,
                icefloe_open_mode::ICEFLOE_OPEN_OR_CREATE,
                &mut s.services[0],
            ));
            ok(icefloe_pubsub_service(
                s.node,
                receive.as_ptr(),
                &so,
                icefloe_open_mode::ICEFLOE_OPEN_OR_CREATE,
                &mut s.services[1],
            ));
            ok(icefloe_publisher_create(s.services[0], &po, &mut s.publisher));
            ok(icefloe_subscriber_create(s.services[1], &mut s.subscriber));
        }
        s
    }

    fn send(&mut self, v: u8) -> usize {
        let (mut loan, mut payload, mut delivered) = (icefloe_loan { id: 0 }, std::ptr::null_mut(), 0usize);
        // SAFETY: a live publisher; 8 bytes loaned and written before send.
        unsafe {
            ok(icefloe_publisher_loan(self.publisher, 8, &mut loan, &mut payload, std::ptr::null_mut()));
            std::ptr::write_bytes(payload, v, 8);
            ok(icefloe_publisher_send(self.publisher, loan, &mut delivered));
        }
        delivered
    }

    fn receive(&mut self) -> Option<u8> {
        let mut s =
            icefloe_sample { id: 0, payload: std::ptr::null(), len: 0, bytes: 0, header: std::ptr::null(), origin: 0 };
        // SAFETY: a live subscriber; the payload is read before release.
        unsafe {
            ok(icefloe_subscriber_receive(self.subscriber, 0, &mut s));
            if s.id == 0 {
                return None;
            }
            let v = *s.payload;
            ok(icefloe_subscriber_release(self.subscriber, s));
            Some(v)
        }
    }
}

impl Drop for CSide {
    fn drop(&mut self) {
        // SAFETY: each handle came from the C API and is dropped once.
        unsafe {
            icefloe_subscriber_drop(self.subscriber);
            icefloe_publisher_drop(self.publisher);
            icefloe_pubsub_drop(self.services[1]);
            icefloe_pubsub_drop(self.services[0]);
            icefloe_node_drop(self.node);
        }
    }
}

fn c_round(prefix: &str, n: usize) -> Vec<u64> {
    let p = std::ffi::CString::new(prefix).unwrap();
    let mut me = CSide::new(&p, c"bench/c-ping", c"bench/c-pong");
    let stop = Arc::new(AtomicBool::new(false));
    let mut echo_side = CSide::new(&p, c"bench/c-pong", c"bench/c-ping");
    let s = stop.clone();
    let echo = std::thread::spawn(move || {
        pin(1);
        while !s.load(Ordering::Relaxed) {
            if let Some(v) = echo_side.receive() {
                echo_side.send(v);
            }
        }
    });
    while me.send(0) == 0 {
        std::thread::yield_now();
    }
    while me.receive().is_none() {
        std::thread::yield_now();
    }
    let mut out = Vec::with_capacity(n);
    for i in 0..n + 1000 {
        let t = Instant::now();
        me.send(i as u8);
        loop {
            if let Some(v) = me.receive() {
                if v == i as u8 {
                    break;
                }
            }
        }
        if i >= 1000 {
            out.push(t.elapsed().as_nanos() as u64);
        }
    }
    stop.store(true, Ordering::Relaxed);
    echo.join().unwrap();
    out
}

fn pct(v: &[u64], p: f64) -> u64 {
    v[((v.len() - 1) as f64 * p) as usize]
}

fn main() {
    // `cargo bench` passes `--bench`; a number among the arguments is the rounds.
    let rounds: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(5);
    pin(0);
    let prefix = format!("cb{}_", std::process::id() % 100_000);
    let started = Instant::now();
    let (mut rust, mut c) = (Vec::new(), Vec::new());
    let mut ratios = Vec::new();
    for r in 0..rounds {
        eprint!("\rround {}/{rounds}", r + 1);
        let mut a = rust_round(&prefix, PER_ROUND);
        let mut b = c_round(&prefix, PER_ROUND);
        a.sort_unstable();
        b.sort_unstable();
        ratios.push(pct(&b, 0.5) as f64 / pct(&a, 0.5) as f64);
        rust.extend(a);
        c.extend(b);
    }
    eprintln!();
    rust.sort_unstable();
    c.sort_unstable();
    ratios.sort_by(f64::total_cmp);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_owned())
        })
        .unwrap_or_default();
    let (rm, cm) = (pct(&rust, 0.5), pct(&c, 0.5));
    let out = format!(
        "# icefloe's C API against its Rust API\n\n{cpu} · {rounds} rounds interleaved · {:.0} s · \
         `cargo bench -p icefloe-c -- {rounds}`\n\n\
         Publish-subscribe 8 B round trip between two threads of one process pinned to CPUs 0 and 1, busy-polling, {PER_ROUND} per round.\n\n\
         | API | round trip p50 | p10 | p90 | p99 |\n|---|---|---|---|---|\n\
         | Rust | {rm} ns | {} ns | {} ns | {} ns |\n| C | {cm} ns | {} ns | {} ns | {} ns |\n\n\
         C over Rust: {:.2}× at the median (per-round ratios {:.2}–{:.2}); the binding adds about {} ns per round \
         trip, that is two loans, two sends, two receives and two releases.\n",
        started.elapsed().as_secs_f64(),
        pct(&rust, 0.1),
        pct(&rust, 0.9),
        pct(&rust, 0.99),
        pct(&c, 0.1),
        pct(&c, 0.9),
        pct(&c, 0.99),
        cm as f64 / rm.max(1) as f64,
        ratios[0],
        ratios[ratios.len() - 1],
        cm as i64 - rm as i64,
    );
    println!("{out}");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/results");
    if let Err(e) = std::fs::create_dir_all(&dir).and_then(|_| std::fs::write(dir.join("c.md"), &out)) {
        eprintln!("could not write bench/results/c.md: {e}");
    }
}

//! Round-trip latency of publish-subscribe between two processes, side by
//! side with the floor (two threads ping-ponging one atomic cache line),
//! interleaved so that machine drift hits both alike.
//!
//! `cargo run --release -p example-publish-subscribe --bin ping_pong [rounds]`
//!
//! Prints, per round and overall, the median and p99 round trip of each and
//! their ratio. Each side is pinned to its own core (0 and 1), for both the
//! floor and icefloe, so that both cross the same pair of cores. A quick
//! check, not the benchmark suite (issue 6).
// The atomic floor is two threads ping-ponging a plain atomic.
#![allow(clippy::disallowed_types)]

use example_publish_subscribe::icefloe::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const N: u64 = 50_000;

/// Pins the calling thread to one CPU (best effort: a machine with one CPU,
/// or a refused call, leaves it where it is).
#[cfg(target_os = "linux")]
fn pin(cpu: usize) {
    // SAFETY: `set` is a plain bit set on the stack, initialized by
    // CPU_ZERO before use; sched_setaffinity(0, …) affects only this thread.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_ZERO(&mut set);
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

/// Elsewhere the thread stays where the scheduler puts it.
#[cfg(not(target_os = "linux"))]
fn pin(_cpu: usize) {}

fn percentiles(mut v: Vec<u64>) -> (u64, u64) {
    v.sort_unstable();
    (v[v.len() / 2], v[v.len() * 99 / 100])
}

#[repr(align(128))]
struct Line(AtomicU64);

fn atomic_floor() -> (u64, u64) {
    let (a, b) = (Line(AtomicU64::new(0)), Line(AtomicU64::new(0)));
    std::thread::scope(|s| {
        s.spawn(|| {
            pin(1);
            for k in 1..=N {
                while a.0.load(Ordering::Acquire) != k {
                    std::hint::spin_loop();
                }
                b.0.store(k, Ordering::Release);
            }
        });
        let mut v = Vec::with_capacity(N as usize);
        for k in 1..=N {
            let t = Instant::now();
            a.0.store(k, Ordering::Release);
            while b.0.load(Ordering::Acquire) != k {
                std::hint::spin_loop();
            }
            v.push(t.elapsed().as_nanos() as u64);
        }
        percentiles(v)
    })
}

fn services(node: &Node) -> (PublishSubscribe<u64>, PublishSubscribe<u64>) {
    let open = |n: &str| {
        node.service_builder(&ServiceName::new(n).unwrap())
            .publish_subscribe::<u64>()
            .open_or_create()
            .expect("service")
    };
    (open("ping_pong/ping"), open("ping_pong/pong"))
}

/// The echoing process: returns every ping as a pong until told to stop.
fn echo(prefix: &str) {
    pin(1);
    let node = NodeBuilder::new().prefix(prefix).unwrap().create().unwrap();
    let (ping, pong) = services(&node);
    let sub = ping.subscriber_builder().create().unwrap();
    let publisher = pong.publisher_builder().create().unwrap();
    loop {
        if let Some(s) = sub.receive().unwrap() {
            let v = *s;
            drop(s);
            publisher.send_copy(v).unwrap();
            if v == u64::MAX {
                return;
            }
        }
    }
}

fn main() {
    // RUST_LOG=info shows what icefloe reports (dead nodes reclaimed, stalled or corrupt peers).
    env_logger::init();
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--echo") {
        echo(&args[2]);
        return;
    }
    let rounds: usize = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(3);
    pin(0);
    let prefix = format!("pp{}_", std::process::id() % 100_000);
    let node = NodeBuilder::new().prefix(&prefix).unwrap().create().unwrap();
    let (ping, pong) = services(&node);
    let publisher = ping.publisher_builder().create().unwrap();
    let sub = pong.subscriber_builder().create().unwrap();
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--echo", &prefix])
        .spawn()
        .expect("start the echo process");
    // Connect: ping until the first pong comes back.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut k = 0u64;
    while sub.receive().unwrap().is_none() {
        assert!(Instant::now() < deadline, "the echo process did not answer");
        publisher.send_copy(k).unwrap();
        k += 1;
        std::thread::sleep(Duration::from_millis(1));
    }
    std::thread::sleep(Duration::from_millis(20));
    while sub.receive().unwrap().is_some() {}

    let mut ours = Vec::new();
    let mut floors = Vec::new();
    println!("round  floor p50/p99 ns   icefloe p50/p99 ns   ratio p50");
    for round in 0..rounds {
        let floor = atomic_floor();
        let mut v = Vec::with_capacity(N as usize);
        for i in 0..N {
            let seq = (round as u64) * N + i + 1_000_000;
            let t = Instant::now();
            publisher.send_copy(seq).unwrap();
            loop {
                if let Some(s) = sub.receive().unwrap() {
                    if *s == seq {
                        break;
                    }
                }
            }
            v.push(t.elapsed().as_nanos() as u64);
        }
        let it = percentiles(v);
        println!(
            "{round:>5}  {:>6} / {:<8}  {:>7} / {:<9}  {:.2}",
            floor.0,
            floor.1,
            it.0,
            it.1,
            it.0 as f64 / floor.0 as f64
        );
        ours.push(it.0);
        floors.push(floor.0);
    }
    publisher.send_copy(u64::MAX).unwrap();
    let _ = child.wait();
    ours.sort_unstable();
    floors.sort_unstable();
    let (o, f) = (ours[ours.len() / 2], floors[floors.len() / 2]);
    println!(
        "median of rounds: floor {f} ns, icefloe {o} ns round trip ({} ns one way), ratio {:.2}",
        o / 2,
        o as f64 / f as f64
    );
}

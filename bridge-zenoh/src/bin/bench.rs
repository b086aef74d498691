//! What a hop through the bridge costs: a publish-subscribe round trip
//! between two icefloe "hosts" (two prefixes) through two `icefloe-zenoh`
//! bridges over loopback, beside a plain Zenoh pub/sub round trip between
//! two sessions over loopback, interleaved in one run.
//!
//! `cargo run --release -p icefloe-zenoh --bin icefloe-zenoh-bench -- [rounds]`
//! (`ci/bench` runs it after the main benchmark). Writes
//! `bench/results/bridge.md`.
//!
//! Both round trips cross Zenoh twice (ping and pong); the bridged one also
//! passes four bridge stages (export and import on each side), so
//! (bridged − plain) / 4 is what one stage adds.

// The echo thread's stop flag is a plain process atomic.
#![allow(clippy::disallowed_types)]

use icefloe_linux::{AllocationStrategy, NodeBuilder, ServiceName};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use zenoh::Wait;

const SIZES: [usize; 3] = [8, 64 << 10, 1 << 20];

fn iterations(size: usize) -> usize {
    if size >= 1 << 20 {
        100
    } else {
        500
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap_or(17_447)
}

fn loopback(listen: u16, connect: &[u16]) -> zenoh::Config {
    icefloe_zenoh::loopback_config(Some(listen), connect).expect("a valid loopback configuration")
}

/// A child process killed and reaped on drop.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        // SAFETY: the pid is our own child's, not yet reaped; SIGTERM lets a
        // bridge remove what it made.
        unsafe { libc::kill(self.0.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn sibling(name: &str) -> std::path::PathBuf {
    let me = std::env::current_exe().expect("the bench knows its own path");
    me.with_file_name(name)
}

fn bridge(prefix: &str, listen: u16, connect: &[u16]) -> Proc {
    let mut c = Command::new(sibling("icefloe-zenoh"));
    c.args(["--prefix", prefix, "--domain", "bench", "--service", "bench/*", "--loopback"]);
    c.args(["--listen", &listen.to_string(), "--report-every", "0"]);
    for p in connect {
        c.args(["--connect", &p.to_string()]);
    }
    c.env("RUST_LOG", "warn").stdout(Stdio::null());
    Proc(c.spawn().expect("the icefloe-zenoh binary sits beside the bench (cargo build --release -p icefloe-zenoh)"))
}

/// The plain Zenoh echo: every ping comes back as a pong.
fn zenoh_echo(listen: u16) {
    let session = zenoh::open(loopback(listen, &[])).wait().expect("the echo's session opens");
    let pong = session.declare_publisher("zbench/pong").express(true).wait().expect("a publisher");
    let _sub = session
        .declare_subscriber("zbench/ping")
        .callback(move |s| {
            let _ = pong.put(s.payload().clone()).wait();
        })
        .wait()
        .expect("a subscriber");
    // Until the parent goes (stdin closes).
    let mut buf = [0u8; 1];
    let _ = std::io::Read::read(&mut std::io::stdin(), &mut buf);
}

fn byte(i: usize, n: u64) -> u8 {
    (i as u64 ^ n.wrapping_mul(7)) as u8
}

/// The bridged round trips: ping from host A to B's echo and back.
struct Bridged {
    _bridges: (Proc, Proc),
    publisher: icefloe_linux::Publisher<[u8]>,
    subscriber: icefloe_linux::Subscriber<[u8]>,
    _echo: std::thread::JoinHandle<()>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    _node: icefloe_linux::Node,
}

const MAX: u32 = 1 << 20;

impl Bridged {
    fn new(tag: &str) -> Self {
        let (pa, pb) = (format!("zb{tag}a_"), format!("zb{tag}b_"));
        let (port_a, port_b) = (free_port(), free_port());
        let bridges = (bridge(&pa, port_a, &[]), bridge(&pb, port_b, &[port_a]));
        let node = NodeBuilder::new().prefix(&pa).and_then(|b| b.create()).expect("host A's node");
        let (ping, pong) = (ServiceName::new("bench/ping").unwrap(), ServiceName::new("bench/pong").unwrap());
        let open = |node: &icefloe_linux::Node, name: &ServiceName| {
            node.service_builder(name)
                .publish_subscribe::<[u8]>()
                .max_slice_len(MAX)
                .subscriber_max_buffer_size(4)
                .open_or_create()
                .expect("a bench service")
        };
        let publisher = open(&node, &ping)
            .publisher_builder()
            .allocation_strategy(AllocationStrategy::PowerOfTwo)
            .create()
            .expect("a publisher");
        let subscriber = open(&node, &pong).subscriber_builder().create().expect("a subscriber");
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let s = stop.clone();
        let echo = std::thread::spawn(move || {
            let node = NodeBuilder::new().prefix(&pb).and_then(|b| b.create()).expect("host B's node");
            let sub = open(&node, &ping).subscriber_builder().create().expect("a subscriber");
            let publ = open(&node, &pong)
                .publisher_builder()
                .allocation_strategy(AllocationStrategy::PowerOfTwo)
                .create()
                .expect("a publisher");
            while !s.load(std::sync::atomic::Ordering::Relaxed) {
                if let Ok(Some(sample)) = sub.timed_receive(Duration::from_millis(50)) {
                    let _ = publ.send_slice_copy(sample.payload());
                }
            }
        });
        Self { _bridges: bridges, publisher, subscriber, _echo: echo, stop, _node: node }
    }

    fn ping(&self, size: usize, n: u64) -> Option<Duration> {
        let t = Instant::now();
        let s = self.publisher.loan_slice_uninit(size).ok()?.write_from_fn(|i| byte(i, n));
        s.send().ok()?;
        loop {
            let got = self.subscriber.timed_receive(Duration::from_secs(2)).ok()??;
            if got.len() == size && got.first().copied() == Some(byte(0, n)) {
                return Some(t.elapsed());
            }
        }
    }
}

impl Drop for Bridged {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// The plain Zenoh round trips.
struct Plain {
    _echo: Proc,
    _session: zenoh::Session,
    publisher: zenoh::pubsub::Publisher<'static>,
    subscriber: zenoh::pubsub::Subscriber<zenoh::handlers::FifoChannelHandler<zenoh::sample::Sample>>,
}

impl Plain {
    fn new() -> Self {
        let port = free_port();
        let echo = Command::new(std::env::current_exe().expect("own path"))
            .args(["--zenoh-echo", &port.to_string()])
            .stdin(Stdio::piped())
            .spawn()
            .expect("the echo starts");
        let session = zenoh::open(loopback(free_port(), &[port])).wait().expect("a session");
        let publisher = session.declare_publisher("zbench/ping").express(true).wait().expect("a publisher");
        let subscriber = session.declare_subscriber("zbench/pong").wait().expect("a subscriber");
        Self { _echo: Proc(echo), _session: session, publisher, subscriber }
    }

    fn ping(&self, size: usize, n: u64) -> Option<Duration> {
        let t = Instant::now();
        let payload: Vec<u8> = (0..size).map(|i| byte(i, n)).collect();
        self.publisher.put(payload).wait().ok()?;
        loop {
            let s = self.subscriber.recv_timeout(Duration::from_secs(2)).ok()??;
            let b = s.payload().to_bytes();
            if b.len() == size && b.first().copied() == Some(byte(0, n)) {
                return Some(t.elapsed());
            }
        }
    }
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn us(ns: u64) -> String {
    format!("{:.1} µs", ns as f64 / 1000.0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--zenoh-echo") {
        zenoh_echo(args.get(2).and_then(|p| p.parse().ok()).expect("a port"));
        return;
    }
    let rounds: usize = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(5);
    let started = Instant::now();
    let bridged = Bridged::new(&(std::process::id() % 100_000).to_string());
    let plain = Plain::new();
    // Warm up until both paths answer.
    let deadline = Instant::now() + Duration::from_secs(60);
    while bridged.ping(8, 0).is_none() || plain.ping(8, 0).is_none() {
        assert!(Instant::now() < deadline, "the round trips never answered");
    }
    let mut samples: Vec<(Vec<u64>, Vec<u64>)> = vec![(Vec::new(), Vec::new()); SIZES.len()];
    let mut lost = (0u64, 0u64);
    let mut n = 1u64;
    for round in 0..rounds {
        for (k, &size) in SIZES.iter().enumerate() {
            eprint!("\rround {}/{rounds}, {size} B        ", round + 1);
            for _ in 0..iterations(size) / rounds.max(1) + 1 {
                n += 1;
                match bridged.ping(size, n) {
                    Some(d) => samples[k].0.push(d.as_nanos() as u64),
                    None => lost.0 += 1,
                }
                n += 1;
                match plain.ping(size, n) {
                    Some(d) => samples[k].1.push(d.as_nanos() as u64),
                    None => lost.1 += 1,
                }
            }
        }
    }
    eprintln!();
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_default();
    let date = Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let mut out = format!(
        "# icefloe ⇄ Zenoh bridge: what a hop costs, {date}\n\n{cpu} · {rounds} rounds interleaved · {:.0} s · \
         `cargo run --release -p icefloe-zenoh --bin icefloe-zenoh-bench -- {rounds}`\n\n\
         Round trip host A → host B → host A over loopback TCP. Bridged: icefloe publisher → bridge → Zenoh → \
         bridge → icefloe echo → bridge → Zenoh → bridge → icefloe subscriber. Plain: a Zenoh publisher → Zenoh \
         echo session → Zenoh subscriber. Median (p10–p90).\n\n\
         | size | bridged round trip | plain Zenoh round trip | ratio | per bridge stage |\n|---|---|---|---|---|\n",
        started.elapsed().as_secs_f64()
    );
    for (k, &size) in SIZES.iter().enumerate() {
        let (b, p) = &mut samples[k];
        b.sort_unstable();
        p.sort_unstable();
        let (bm, pm) = (percentile(b, 0.5), percentile(p, 0.5));
        let name = if size >= 1 << 20 {
            format!("{} MiB", size >> 20)
        } else if size >= 1024 {
            format!("{} KiB", size >> 10)
        } else {
            format!("{size} B")
        };
        out.push_str(&format!(
            "| {name} | {} ({}–{}) | {} ({}–{}) | {:.2}× | {} |\n",
            us(bm),
            us(percentile(b, 0.1)),
            us(percentile(b, 0.9)),
            us(pm),
            us(percentile(p, 0.1)),
            us(percentile(p, 0.9)),
            bm as f64 / pm.max(1) as f64,
            us(bm.saturating_sub(pm) / 4),
        ));
    }
    if lost != (0, 0) {
        out.push_str(&format!("\nLost (2 s without an answer): bridged {}, plain {}.\n", lost.0, lost.1));
    }
    println!("{out}");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/results");
    if let Err(e) = std::fs::create_dir_all(&dir).and_then(|_| std::fs::write(dir.join("bridge.md"), &out)) {
        eprintln!("could not write bench/results/bridge.md: {e}");
    }
}

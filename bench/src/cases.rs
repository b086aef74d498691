//! The cases: floors, icefloe, iceoryx2 and a Unix socket, each a ping-pong
//! between this process (CPU 0) and an echo process or thread (CPU 1).

use std::hint::black_box;
use std::mem::MaybeUninit;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::stats::Summary;

/// Pins the calling thread to one CPU (best effort).
pub fn pin(cpu: usize) {
    let mut set = rustix::thread::CpuSet::new();
    set.set(cpu);
    let _ = rustix::thread::sched_setaffinity(None, &set);
}

const SIZES: [usize; 5] = [8, 4096, 64 * 1024, 1 << 20, 16 << 20];

/// Untimed round trips before the timed ones, in every process case.
const WARMUP: usize = 50;

/// The timed loop of a process case: `WARMUP` untimed round trips (new
/// chunks' first touches, caches), then `n` timed ones; heap allocations are
/// counted over the timed ones only. The round trip itself stays inline in
/// each case's loop, as a program would write it:
/// `while let Some(i) = rounds.next() { let t = Instant::now(); …; rounds.record(t) }`.
struct Rounds {
    k: usize,
    warm: usize,
    total: usize,
    counted: u64,
    v: Vec<u64>,
}

impl Rounds {
    fn new(n: u64) -> Self {
        let warm = WARMUP.min(n as usize);
        Self { k: 0, warm, total: warm + n as usize, counted: crate::allocs::now(), v: Vec::with_capacity(n as usize) }
    }

    /// The next round trip's sequence number (1, 2, …), or `None` at the end.
    fn next(&mut self) -> Option<u64> {
        if self.k == self.total {
            return None;
        }
        if self.k == self.warm {
            self.counted = crate::allocs::now();
        }
        self.k += 1;
        Some(self.k as u64)
    }

    /// Records the round trip that started at `t` (if past the warm-up).
    fn record(&mut self, t: Instant) {
        let ns = t.elapsed().as_nanos() as u64;
        if self.k > self.warm {
            self.v.push(ns);
        }
    }

    /// The timed round trips, in ns.
    fn done(self) -> Vec<u64> {
        crate::allocs::loop_done(self.counted);
        self.v
    }
}

fn iterations(size: usize) -> usize {
    match size {
        0..=4096 => 5_000,
        4097..=65536 => 2_000,
        65537..=1048576 => 200,
        _ => 20,
    }
}

fn size_name(size: usize) -> String {
    match size {
        s if s >= 1 << 20 => format!("{} MiB", s >> 20),
        s if s >= 1024 => format!("{} KiB", s >> 10),
        s => format!("{s} B"),
    }
}

/// What is measured.
#[derive(Debug, Clone, Copy)]
pub enum Case {
    AtomicFloor,
    /// The lines any zero-copy message moves, by hand: a queue entry next
    /// to its tail counter, the chunk it names, a returned reference.
    ZeroCopyFloor,
    FutexFloor,
    Socket(usize),
    IcefloePubSub(usize, bool),
    Iox2PubSub(usize, bool),
    /// Publish-subscribe 8 B with the next sample loaned before the clock
    /// starts (on both sides): send and receive alone.
    IcefloePubSubPreloaned,
    Iox2PubSubPreloaned,
    IcefloeRequestResponse,
    Iox2RequestResponse,
    /// Request and response both `[u8]` slices of the size, untouched.
    IcefloeRequestResponseSlice(usize),
    Iox2RequestResponseSlice(usize),
    IcefloeEvent,
    Iox2Event,
}

/// Every case, in the order they interleave.
pub fn all() -> Vec<Case> {
    let mut v = vec![Case::AtomicFloor, Case::ZeroCopyFloor, Case::FutexFloor];
    for &size in &SIZES {
        v.push(Case::IcefloePubSub(size, false));
        v.push(Case::Iox2PubSub(size, false));
        if size > 8 {
            v.push(Case::IcefloePubSub(size, true));
            v.push(Case::Iox2PubSub(size, true));
        }
        v.push(Case::Socket(size));
    }
    v.push(Case::IcefloePubSubPreloaned);
    v.push(Case::Iox2PubSubPreloaned);
    v.push(Case::IcefloeRequestResponse);
    v.push(Case::Iox2RequestResponse);
    for &size in &SIZES {
        v.push(Case::IcefloeRequestResponseSlice(size));
        v.push(Case::Iox2RequestResponseSlice(size));
    }
    v.push(Case::IcefloeEvent);
    v.push(Case::Iox2Event);
    v
}

impl Case {
    /// The hardware floors (run whatever the selection).
    pub fn is_floor(&self) -> bool {
        matches!(self, Case::AtomicFloor | Case::ZeroCopyFloor | Case::FutexFloor)
    }

    pub fn name(&self) -> String {
        let touch = |t: bool| if t { "touched" } else { "untouched" };
        match *self {
            Case::AtomicFloor => "floor: atomic cache line".into(),
            Case::ZeroCopyFloor => "floor: zero-copy message (3 lines)".into(),
            Case::FutexFloor => "floor: futex park/unpark".into(),
            Case::Socket(s) => format!("unix socket {}", size_name(s)),
            Case::IcefloePubSub(s, t) => format!("icefloe pub-sub {} {}", size_name(s), touch(t)),
            Case::Iox2PubSub(s, t) => format!("iceoryx2 pub-sub {} {}", size_name(s), touch(t)),
            Case::IcefloePubSubPreloaned => "icefloe pub-sub 8 B pre-loaned".into(),
            Case::Iox2PubSubPreloaned => "iceoryx2 pub-sub 8 B pre-loaned".into(),
            Case::IcefloeRequestResponse => "icefloe request-response u64".into(),
            Case::Iox2RequestResponse => "iceoryx2 request-response u64".into(),
            Case::IcefloeRequestResponseSlice(s) => format!("icefloe request-response {}", size_name(s)),
            Case::Iox2RequestResponseSlice(s) => format!("iceoryx2 request-response {}", size_name(s)),
            Case::IcefloeEvent => "icefloe event wake-up (blocking)".into(),
            Case::Iox2Event => "iceoryx2 event wake-up (blocking)".into(),
        }
    }

    fn code(&self) -> String {
        match *self {
            Case::AtomicFloor => "atomic".into(),
            Case::ZeroCopyFloor => "zcopy".into(),
            Case::FutexFloor => "futex".into(),
            Case::Socket(s) => format!("uds:{s}"),
            Case::IcefloePubSub(s, t) => format!("ips:{s}:{}", u8::from(t)),
            Case::Iox2PubSub(s, t) => format!("xps:{s}:{}", u8::from(t)),
            Case::IcefloePubSubPreloaned => "ipp:8".into(),
            Case::Iox2PubSubPreloaned => "xpp:8".into(),
            Case::IcefloeRequestResponse => "irr".into(),
            Case::Iox2RequestResponse => "xrr".into(),
            Case::IcefloeRequestResponseSlice(s) => format!("irs:{s}"),
            Case::Iox2RequestResponseSlice(s) => format!("xrs:{s}"),
            Case::IcefloeEvent => "iev".into(),
            Case::Iox2Event => "xev".into(),
        }
    }

    /// One round of this case: round trips in nanoseconds.
    pub fn run(&self) -> Vec<u64> {
        match *self {
            Case::AtomicFloor => atomic_round_trips(5_000),
            Case::ZeroCopyFloor => zero_copy_round_trips(5_000),
            Case::FutexFloor => futex_round_trips(5_000),
            _ => self.run_processes(),
        }
    }

    fn run_processes(&self) -> Vec<u64> {
        // Unique to this run and case: the icefloe services and the
        // iceoryx2 services are named after it, the icefloe node prefix is
        // the run's.
        let name = format!("bench/{}/{}", std::process::id(), self.code().replace(':', "_"));
        let spawn = || -> Child {
            Command::new(std::env::current_exe().expect("own path"))
                .args(["--echo", &self.code(), &name])
                .spawn()
                .expect("start the echo process")
        };
        match *self {
            Case::Socket(size) => socket_pings(size, &name, spawn),
            Case::IcefloePubSub(size, touched) => icefloe_pubsub_pings(size, touched, false, &name, spawn),
            Case::Iox2PubSub(size, touched) => iox2_pubsub_pings(size, touched, false, &name, spawn),
            Case::IcefloePubSubPreloaned => icefloe_pubsub_pings(8, false, true, &name, spawn),
            Case::Iox2PubSubPreloaned => iox2_pubsub_pings(8, false, true, &name, spawn),
            Case::IcefloeRequestResponse => icefloe_rr_pings(&name, spawn),
            Case::Iox2RequestResponse => iox2_rr_pings(&name, spawn),
            Case::IcefloeRequestResponseSlice(size) => icefloe_rr_slice_pings(size, &name, spawn),
            Case::Iox2RequestResponseSlice(size) => iox2_rr_slice_pings(size, &name, spawn),
            Case::IcefloeEvent => icefloe_event_pings(&name, spawn),
            Case::Iox2Event => iox2_event_pings(&name, spawn),
            _ => Vec::new(),
        }
    }
}

/// The echo side, in its own process pinned to CPU 1.
pub fn echo(args: &[String]) {
    pin(1);
    let (code, name) = (args[0].as_str(), args[1].as_str());
    let parts: Vec<&str> = code.split(':').collect();
    let size = parts.get(1).and_then(|s| s.parse().ok()).unwrap_or(8);
    let touched = parts.get(2) == Some(&"1");
    match parts[0] {
        "uds" => socket_echo(size, name),
        "ips" => icefloe_pubsub_echo(size, touched, false, name),
        "xps" => iox2_pubsub_echo(size, touched, false, name),
        "ipp" => icefloe_pubsub_echo(size, false, true, name),
        "xpp" => iox2_pubsub_echo(size, false, true, name),
        "irr" => icefloe_rr_echo(name),
        "xrr" => iox2_rr_echo(name),
        "irs" => icefloe_rr_slice_echo(size, name),
        "xrs" => iox2_rr_slice_echo(size, name),
        "iev" => icefloe_event_echo(name),
        "xev" => iox2_event_echo(name),
        other => panic!("unknown echo {other}"),
    }
}

// ---- floors -----------------------------------------------------------

#[repr(align(128))]
struct Line(AtomicU64);

fn atomic_round_trips(n: u64) -> Vec<u64> {
    let (a, b) = (Line(AtomicU64::new(0)), Line(AtomicU64::new(0)));
    std::thread::scope(|s| {
        s.spawn(|| {
            pin(1);
            for k in 1..=n {
                while a.0.load(Ordering::Acquire) != k {
                    std::hint::spin_loop();
                }
                b.0.store(k, Ordering::Release);
            }
        });
        let mut v = Vec::with_capacity(n as usize);
        for k in 1..=n {
            let t = Instant::now();
            a.0.store(k, Ordering::Release);
            while b.0.load(Ordering::Acquire) != k {
                std::hint::spin_loop();
            }
            v.push(t.elapsed().as_nanos() as u64);
        }
        v
    })
}

/// One direction of the zero-copy floor: a queue (tail counter and entry
/// on one line), eight chunks of one line each, and a return queue (its
/// counter and entry on one line), as a zero-copy transport must move
/// them: the sender writes the chunk, the entry, then the tail; the
/// receiver reads the tail, the entry, the chunk, and returns the entry;
/// the sender reads what came back after its next push. No bookkeeping,
/// no checks: what no implementation of the protocol can go below.
struct Channel {
    queue: [AtomicU64; 16],
    chunks: [[AtomicU64; 16]; 8],
    returned: [AtomicU64; 16],
}

#[repr(align(128))]
struct Aligned<T>(T);

impl Channel {
    fn new() -> Aligned<Self> {
        let line = || std::array::from_fn(|_| AtomicU64::new(0));
        Aligned(Self { queue: line(), chunks: std::array::from_fn(|_| line()), returned: line() })
    }

    fn send(&self, k: u64, v: u64) {
        let i = (k % 8) as usize;
        self.chunks[i][0].store(v, Ordering::Relaxed);
        self.queue[1].store(i as u64, Ordering::Relaxed);
        self.queue[0].store(k + 1, Ordering::Release);
        if k > 0 && self.returned[0].load(Ordering::Acquire) >= k {
            black_box(self.returned[1].load(Ordering::Relaxed));
        }
    }

    fn receive(&self, k: u64) -> u64 {
        while self.queue[0].load(Ordering::Acquire) != k + 1 {
            std::hint::spin_loop();
        }
        let i = self.queue[1].load(Ordering::Relaxed) as usize % 8;
        let v = self.chunks[i][0].load(Ordering::Relaxed);
        self.returned[1].store(i as u64, Ordering::Relaxed);
        self.returned[0].store(k + 1, Ordering::Release);
        v
    }
}

fn zero_copy_round_trips(n: u64) -> Vec<u64> {
    let (ping, pong) = (Channel::new(), Channel::new());
    std::thread::scope(|s| {
        s.spawn(|| {
            pin(1);
            for k in 0..n {
                let v = ping.0.receive(k);
                pong.0.send(k, v);
            }
        });
        let mut v = Vec::with_capacity(n as usize);
        for k in 0..n {
            let t = Instant::now();
            ping.0.send(k, k);
            let back = pong.0.receive(k);
            v.push(t.elapsed().as_nanos() as u64);
            assert_eq!(back, k);
        }
        v
    })
}

/// The atomic floor's summary (measured before and after the run): the
/// median of five short measurements, so that one descheduling does not
/// decide whether the run is rejected.
pub fn atomic_floor(n: u64) -> Summary {
    let mut parts: Vec<Summary> = (0..5).map(|_| Summary::of(atomic_round_trips(n / 5))).collect();
    parts.sort_by_key(|s| s.p50);
    parts[2]
}

fn futex_wait(w: &AtomicU32, v: u32) {
    let _ = rustix::thread::futex::wait(w, rustix::thread::futex::Flags::PRIVATE, v, None);
}

fn futex_wake(w: &AtomicU32) {
    let _ = rustix::thread::futex::wake(w, rustix::thread::futex::Flags::PRIVATE, i32::MAX as u32);
}

/// Park/unpark ping-pong: each side sleeps in FUTEX_WAIT until the other
/// wakes it (the floor for blocking wake-ups).
fn futex_round_trips(n: u32) -> Vec<u64> {
    #[repr(align(128))]
    struct W(AtomicU32);
    let (a, b) = (W(AtomicU32::new(0)), W(AtomicU32::new(0)));
    std::thread::scope(|s| {
        s.spawn(|| {
            pin(1);
            for k in 1..=n {
                while a.0.load(Ordering::Acquire) != k {
                    futex_wait(&a.0, k - 1);
                }
                b.0.store(k, Ordering::Release);
                futex_wake(&b.0);
            }
        });
        let mut v = Vec::with_capacity(n as usize);
        for k in 1..=n {
            let t = Instant::now();
            a.0.store(k, Ordering::Release);
            futex_wake(&a.0);
            while b.0.load(Ordering::Acquire) != k {
                futex_wait(&b.0, k - 1);
            }
            v.push(t.elapsed().as_nanos() as u64);
        }
        v
    })
}

// ---- a Unix domain socket ----------------------------------------------

fn socket_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("{}.sock", name.replace('/', "_")))
}

fn socket_pings(size: usize, name: &str, spawn: impl Fn() -> Child) -> Vec<u64> {
    use std::io::{Read, Write};
    let path = socket_path(name);
    let _ = std::fs::remove_file(&path);
    let listener = std::os::unix::net::UnixListener::bind(&path).expect("bind");
    let mut child = spawn();
    let (mut sock, _) = listener.accept().expect("accept");
    let _ = std::fs::remove_file(&path);
    let mut out = vec![0u8; size];
    let mut back = vec![0u8; size];
    let n = iterations(size);
    let mut v = Vec::with_capacity(n);
    for i in 0..n + 10 {
        out[0] = i as u8;
        let t = Instant::now();
        sock.write_all(&out).expect("send");
        sock.read_exact(&mut back).expect("receive");
        if i >= 10 {
            v.push(t.elapsed().as_nanos() as u64);
        }
        assert_eq!(back[0], i as u8);
    }
    drop(sock);
    let _ = child.wait();
    v
}

fn socket_echo(size: usize, name: &str) {
    use std::io::{Read, Write};
    let mut sock = std::os::unix::net::UnixStream::connect(socket_path(name)).expect("connect");
    let mut buf = vec![0u8; size];
    while sock.read_exact(&mut buf).is_ok() {
        if sock.write_all(&buf).is_err() {
            break;
        }
    }
}

// ---- icefloe ---------------------------------------------------------------

mod ice {
    pub use icefloe_linux::prelude::*;
}

/// The run's node prefix (from the run's process id inside `name`).
fn ice_node(name: &str) -> ice::Node {
    let pid = name.split('/').nth(1).unwrap_or("0").parse::<u32>().unwrap_or(0) % 100_000;
    ice::NodeBuilder::new().prefix(&format!("b{pid}_")).expect("prefix").create().expect("node")
}

fn ice_pubsub(node: &ice::Node, name: &str, which: &str) -> ice::PublishSubscribe<[u8]> {
    node.service_builder(&ice::ServiceName::new(&format!("{name}/{which}")).expect("name"))
        .publish_subscribe::<[u8]>()
        .open_or_create()
        .expect("service")
}

/// The bytes a touching sender copies in (prepared once, outside timing).
fn pattern() -> &'static [u8] {
    static P: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    P.get_or_init(|| (0..SIZES[SIZES.len() - 1]).map(|i| (i * 7 + 3) as u8).collect())
}

/// Writes the sequence number into the first 8 bytes and, when touched,
/// every other byte (a memcpy, as an application filling a buffer would);
/// the rest of an untouched slice keeps what it held.
fn fill(payload: &mut [MaybeUninit<u8>], seq: u64, touched: bool) {
    if touched {
        let src = &pattern()[..payload.len()];
        // SAFETY: `src` and `payload` have the same length and do not
        // overlap (one is process memory, the other shared memory);
        // `MaybeUninit<u8>` has the layout of `u8`.
        unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), payload.as_mut_ptr().cast::<u8>(), src.len()) };
    }
    for (b, s) in payload.iter_mut().zip(seq.to_le_bytes()) {
        b.write(s);
    }
}

/// The sequence number; when touched, every byte is read (folded into a
/// checksum the optimizer cannot drop).
fn read_seq(data: &[u8], touched: bool) -> u64 {
    if touched {
        let sum = data.chunks_exact(8).fold(0u64, |a, c| a ^ u64::from_le_bytes(c.try_into().unwrap_or([0; 8])));
        black_box(sum);
    }
    let mut s = [0u8; 8];
    s.copy_from_slice(&data[..8]);
    u64::from_le_bytes(s)
}

fn ice_send(p: &ice::Publisher<[u8]>, size: usize, seq: u64, touched: bool) {
    ice_send_loaned(p.loan_slice_uninit(size).expect("loan"), seq, touched);
}

fn ice_send_loaned(mut s: ice::SampleMutUninit<'_, [u8]>, seq: u64, touched: bool) {
    fill(s.payload_mut(), seq, touched);
    // SAFETY: shared-memory bytes are initialized memory: the segment is
    // zero-filled when created and only ever holds bytes written since; the
    // first 8 (and, touched, all) were written just now.
    let s = unsafe { s.assume_init() };
    s.send().expect("send");
}

fn icefloe_pubsub_pings(
    size: usize,
    touched: bool,
    preloaned: bool,
    name: &str,
    spawn: impl Fn() -> Child,
) -> Vec<u64> {
    let setup = crate::allocs::now();
    let node = ice_node(name);
    let ping = ice_pubsub(&node, name, "ping");
    let pong = ice_pubsub(&node, name, "pong");
    let publisher = ping.publisher_builder().initial_max_slice_len(size as u32).create().expect("publisher");
    let subscriber = pong.subscriber_builder().create().expect("subscriber");
    crate::allocs::setup_done(setup);
    let mut child = spawn();
    let n = iterations(size) as u64;
    // Connect: ping until the first echo comes back.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seq = 1u64 << 40;
    loop {
        ice_send(&publisher, size, seq, false);
        std::thread::sleep(Duration::from_millis(1));
        if subscriber.receive().expect("receive").is_some() {
            break;
        }
        assert!(Instant::now() < deadline, "the icefloe echo did not answer");
        seq += 1;
    }
    std::thread::sleep(Duration::from_millis(5));
    while subscriber.receive().expect("receive").is_some() {}
    let mut rounds = Rounds::new(n);
    while let Some(i) = rounds.next() {
        let loaned = preloaned.then(|| publisher.loan_slice_uninit(size).expect("loan"));
        let t = Instant::now();
        match loaned {
            Some(s) => ice_send_loaned(s, i, touched),
            None => ice_send(&publisher, size, i, touched),
        }
        loop {
            if let Some(s) = subscriber.receive().expect("receive") {
                if read_seq(&s, touched) == i {
                    break;
                }
            }
        }
        rounds.record(t);
    }
    let v = rounds.done();
    ice_send(&publisher, size, u64::MAX, false);
    let _ = child.wait();
    v
}

fn icefloe_pubsub_echo(size: usize, touched: bool, preloaned: bool, name: &str) {
    let node = ice_node(name);
    let ping = ice_pubsub(&node, name, "ping");
    let pong = ice_pubsub(&node, name, "pong");
    let subscriber = ping.subscriber_builder().create().expect("subscriber");
    let publisher = pong.publisher_builder().initial_max_slice_len(size as u32).create().expect("publisher");
    // Pre-loaned: the next answer's sample is loaned while waiting.
    let loan = || preloaned.then(|| publisher.loan_slice_uninit(size).expect("loan"));
    let mut next = loan();
    loop {
        if let Some(s) = subscriber.receive().expect("receive") {
            let seq = read_seq(&s, touched);
            drop(s);
            if seq == u64::MAX {
                return;
            }
            match next.take() {
                Some(loaned) => ice_send_loaned(loaned, seq, touched),
                None => ice_send(&publisher, size, seq, touched),
            }
            next = loan();
        }
    }
}

fn ice_rr(node: &ice::Node, name: &str) -> ice::RequestResponse<u64, u64> {
    node.service_builder(&ice::ServiceName::new(&format!("{name}/rr")).expect("name"))
        .request_response::<u64, u64>()
        .open_or_create()
        .expect("service")
}

fn icefloe_rr_pings(name: &str, spawn: impl Fn() -> Child) -> Vec<u64> {
    let setup = crate::allocs::now();
    let node = ice_node(name);
    let service = ice_rr(&node, name);
    let client = service.client_builder().create().expect("client");
    crate::allocs::setup_done(setup);
    let mut child = spawn();
    let deadline = Instant::now() + Duration::from_secs(20);
    while client.send_copy(0).expect("send").number_of_server_connections() == 0 {
        assert!(Instant::now() < deadline, "the icefloe server did not come");
        std::thread::sleep(Duration::from_millis(1));
    }
    std::thread::sleep(Duration::from_millis(5));
    let n = 5_000u64;
    let mut rounds = Rounds::new(n);
    while let Some(i) = rounds.next() {
        let t = Instant::now();
        let pending = client.send_copy(i).expect("request");
        loop {
            if let Some(r) = pending.receive().expect("response") {
                assert_eq!(*r, i + 1);
                break;
            }
        }
        rounds.record(t);
    }
    let v = rounds.done();
    drop(client.send_copy(u64::MAX).expect("stop"));
    let _ = child.wait();
    v
}

fn icefloe_rr_echo(name: &str) {
    let node = ice_node(name);
    let service = ice_rr(&node, name);
    let server = service.server_builder().create().expect("server");
    loop {
        if let Some(request) = server.receive().expect("receive") {
            let v = *request;
            if v == u64::MAX {
                return;
            }
            request.send_copy(v + 1).expect("respond");
        }
    }
}

fn ice_rr_slices(node: &ice::Node, name: &str) -> ice::RequestResponse<[u8], [u8]> {
    node.service_builder(&ice::ServiceName::new(&format!("{name}/rrs")).expect("name"))
        .request_response::<[u8], [u8]>()
        .open_or_create()
        .expect("service")
}

fn icefloe_rr_slice_pings(size: usize, name: &str, spawn: impl Fn() -> Child) -> Vec<u64> {
    let setup = crate::allocs::now();
    let node = ice_node(name);
    let service = ice_rr_slices(&node, name);
    let client = service.client_builder().initial_max_slice_len(size as u32).create().expect("client");
    crate::allocs::setup_done(setup);
    let mut child = spawn();
    let request = |seq: u64| {
        let mut r = client.loan_slice_uninit(size).expect("loan");
        fill(r.payload_mut(), seq, false);
        // SAFETY: shared memory holds only written bytes (zero-filled at
        // creation); the first 8 were written just now.
        unsafe { r.assume_init() }.send().expect("request")
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while request(0).number_of_server_connections() == 0 {
        assert!(Instant::now() < deadline, "the icefloe server did not come");
        std::thread::sleep(Duration::from_millis(1));
    }
    std::thread::sleep(Duration::from_millis(5));
    let n = iterations(size) as u64;
    let mut rounds = Rounds::new(n);
    while let Some(i) = rounds.next() {
        let t = Instant::now();
        let pending = request(i);
        loop {
            if let Some(r) = pending.receive().expect("response") {
                assert_eq!(read_seq(&r, false), i + 1);
                break;
            }
        }
        rounds.record(t);
    }
    let v = rounds.done();
    drop(request(u64::MAX));
    let _ = child.wait();
    v
}

fn icefloe_rr_slice_echo(size: usize, name: &str) {
    let node = ice_node(name);
    let service = ice_rr_slices(&node, name);
    let server = service.server_builder().initial_max_slice_len(size as u32).create().expect("server");
    loop {
        if let Some(request) = server.receive().expect("receive") {
            let seq = read_seq(&request, false);
            if seq == u64::MAX {
                return;
            }
            let mut r = request.loan_slice_uninit(size).expect("loan");
            fill(r.payload_mut(), seq + 1, false);
            // SAFETY: as for the request.
            unsafe { r.assume_init() }.send().expect("respond");
        }
    }
}

fn icefloe_event_pings(name: &str, spawn: impl Fn() -> Child) -> Vec<u64> {
    let setup = crate::allocs::now();
    let node = ice_node(name);
    let open = |n: &str| {
        node.service_builder(&ice::ServiceName::new(&format!("{name}/{n}")).expect("name"))
            .event()
            .open_or_create()
            .expect("event")
    };
    let (ping, pong) = (open("ping"), open("pong"));
    let notifier = ping.notifier_builder().create().expect("notifier");
    let listener = pong.listener_builder().create().expect("listener");
    crate::allocs::setup_done(setup);
    let mut child = spawn();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        notifier.notify().expect("notify");
        if listener.timed_wait(Duration::from_millis(1), |_| {}).expect("wait") > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "the icefloe event echo did not answer");
    }
    std::thread::sleep(Duration::from_millis(5));
    listener.try_wait(|_| {}).expect("drain");
    let n = 5_000u64;
    let mut rounds = Rounds::new(n);
    while rounds.next().is_some() {
        let t = Instant::now();
        notifier.notify().expect("notify");
        listener.blocking_wait(|_| {}).expect("wait");
        rounds.record(t);
    }
    let v = rounds.done();
    notifier.notify_with_custom_event_id(ice::EventId::new(1)).expect("stop");
    let _ = child.wait();
    v
}

fn icefloe_event_echo(name: &str) {
    let node = ice_node(name);
    let open = |n: &str| {
        node.service_builder(&ice::ServiceName::new(&format!("{name}/{n}")).expect("name"))
            .event()
            .open_or_create()
            .expect("event")
    };
    let (ping, pong) = (open("ping"), open("pong"));
    let listener = ping.listener_builder().create().expect("listener");
    let notifier = pong.notifier_builder().create().expect("notifier");
    let mut stop = false;
    while !stop {
        listener.blocking_wait(|e| stop |= e.id.as_value() == 1).expect("wait");
        notifier.notify().expect("notify");
    }
}

// ---- iceoryx2 --------------------------------------------------------------

mod iox {
    pub use iceoryx2::prelude::*;
    pub type Node = iceoryx2::node::Node<ipc::Service>;
    pub type PubSub = iceoryx2::service::port_factory::publish_subscribe::PortFactory<ipc::Service, [u8], ()>;
    pub type Publisher = iceoryx2::port::publisher::Publisher<ipc::Service, [u8], ()>;
    pub type SampleUninit<'a> =
        iceoryx2::sample_mut_uninit::SampleMutUninit<ipc::Service, [core::mem::MaybeUninit<u8>], ()>;
}

fn iox_node() -> iox::Node {
    iceoryx2::prelude::set_log_level(iceoryx2::prelude::LogLevel::Error);
    iox::NodeBuilder::new().create::<iox::ipc::Service>().expect("iceoryx2 node")
}

fn iox_pubsub(node: &iox::Node, name: &str, which: &str) -> iox::PubSub {
    let full = format!("{name}/{which}");
    node.service_builder(&full.as_str().try_into().expect("name"))
        .publish_subscribe::<[u8]>()
        .open_or_create()
        .expect("iceoryx2 service")
}

fn iox_send(p: &iox::Publisher, size: usize, seq: u64, touched: bool) {
    iox_send_loaned(p.loan_slice_uninit(size).expect("loan"), seq, touched);
}

fn iox_send_loaned(mut s: iox::SampleUninit<'_>, seq: u64, touched: bool) {
    fill(s.payload_mut(), seq, touched);
    // SAFETY: as for icefloe: shared memory is zero-filled at creation and
    // holds only written bytes.
    let s = unsafe { s.assume_init() };
    s.send().expect("send");
}

fn iox2_pubsub_pings(size: usize, touched: bool, preloaned: bool, name: &str, spawn: impl Fn() -> Child) -> Vec<u64> {
    let setup = crate::allocs::now();
    let node = iox_node();
    let ping = iox_pubsub(&node, name, "ping");
    let pong = iox_pubsub(&node, name, "pong");
    let publisher = ping.publisher_builder().initial_max_slice_len(size).create().expect("publisher");
    let subscriber = pong.subscriber_builder().create().expect("subscriber");
    crate::allocs::setup_done(setup);
    let mut child = spawn();
    let n = iterations(size) as u64;
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seq = 1u64 << 40;
    loop {
        iox_send(&publisher, size, seq, false);
        std::thread::sleep(Duration::from_millis(1));
        if subscriber.receive().expect("receive").is_some() {
            break;
        }
        assert!(Instant::now() < deadline, "the iceoryx2 echo did not answer");
        seq += 1;
    }
    std::thread::sleep(Duration::from_millis(5));
    while subscriber.receive().expect("receive").is_some() {}
    let mut rounds = Rounds::new(n);
    while let Some(i) = rounds.next() {
        let loaned = preloaned.then(|| publisher.loan_slice_uninit(size).expect("loan"));
        let t = Instant::now();
        match loaned {
            Some(s) => iox_send_loaned(s, i, touched),
            None => iox_send(&publisher, size, i, touched),
        }
        loop {
            if let Some(s) = subscriber.receive().expect("receive") {
                if read_seq(s.payload(), touched) == i {
                    break;
                }
            }
        }
        rounds.record(t);
    }
    let v = rounds.done();
    iox_send(&publisher, size, u64::MAX, false);
    let _ = child.wait();
    v
}

fn iox2_pubsub_echo(size: usize, touched: bool, preloaned: bool, name: &str) {
    let node = iox_node();
    let ping = iox_pubsub(&node, name, "ping");
    let pong = iox_pubsub(&node, name, "pong");
    let subscriber = ping.subscriber_builder().create().expect("subscriber");
    let publisher = pong.publisher_builder().initial_max_slice_len(size).create().expect("publisher");
    let loan = || preloaned.then(|| publisher.loan_slice_uninit(size).expect("loan"));
    let mut next = loan();
    loop {
        if let Some(s) = subscriber.receive().expect("receive") {
            let seq = read_seq(s.payload(), touched);
            drop(s);
            if seq == u64::MAX {
                return;
            }
            match next.take() {
                Some(loaned) => iox_send_loaned(loaned, seq, touched),
                None => iox_send(&publisher, size, seq, touched),
            }
            next = loan();
        }
    }
}

fn iox2_rr_pings(name: &str, spawn: impl Fn() -> Child) -> Vec<u64> {
    let setup = crate::allocs::now();
    let node = iox_node();
    let full = format!("{name}/rr");
    let service = node
        .service_builder(&full.as_str().try_into().expect("name"))
        .request_response::<u64, u64>()
        .open_or_create()
        .expect("iceoryx2 service");
    let client = service.client_builder().create().expect("client");
    crate::allocs::setup_done(setup);
    let mut child = spawn();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let pending = client.send_copy(0).expect("send");
        std::thread::sleep(Duration::from_millis(1));
        if pending.receive().expect("receive").is_some() {
            break;
        }
        assert!(Instant::now() < deadline, "the iceoryx2 server did not come");
    }
    std::thread::sleep(Duration::from_millis(5));
    let n = 5_000u64;
    let mut rounds = Rounds::new(n);
    while let Some(i) = rounds.next() {
        let t = Instant::now();
        let pending = client.send_copy(i).expect("request");
        loop {
            if let Some(r) = pending.receive().expect("response") {
                assert_eq!(*r, i + 1);
                break;
            }
        }
        rounds.record(t);
    }
    let v = rounds.done();
    drop(client.send_copy(u64::MAX).expect("stop"));
    let _ = child.wait();
    v
}

fn iox2_rr_echo(name: &str) {
    let node = iox_node();
    let full = format!("{name}/rr");
    let service = node
        .service_builder(&full.as_str().try_into().expect("name"))
        .request_response::<u64, u64>()
        .open_or_create()
        .expect("iceoryx2 service");
    let server = service.server_builder().create().expect("server");
    loop {
        if let Some(request) = server.receive().expect("receive") {
            let v = *request;
            if v == u64::MAX {
                return;
            }
            request.send_copy(v + 1).expect("respond");
        }
    }
}

type IoxRrSlices =
    iceoryx2::service::port_factory::request_response::PortFactory<iox::ipc::Service, [u8], (), [u8], ()>;

fn iox_rr_slices(node: &iox::Node, name: &str) -> IoxRrSlices {
    let full = format!("{name}/rrs");
    node.service_builder(&full.as_str().try_into().expect("name"))
        .request_response::<[u8], [u8]>()
        .open_or_create()
        .expect("iceoryx2 service")
}

fn iox2_rr_slice_pings(size: usize, name: &str, spawn: impl Fn() -> Child) -> Vec<u64> {
    let setup = crate::allocs::now();
    let node = iox_node();
    let service = iox_rr_slices(&node, name);
    let client = service.client_builder().initial_max_slice_len(size).create().expect("client");
    crate::allocs::setup_done(setup);
    let mut child = spawn();
    let request = |seq: u64| {
        let mut r = client.loan_slice_uninit(size).expect("loan");
        fill(r.payload_mut(), seq, false);
        // SAFETY: as for icefloe.
        unsafe { r.assume_init() }.send().expect("request")
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let pending = request(0);
        std::thread::sleep(Duration::from_millis(1));
        if pending.receive().expect("receive").is_some() {
            break;
        }
        assert!(Instant::now() < deadline, "the iceoryx2 server did not come");
    }
    std::thread::sleep(Duration::from_millis(5));
    let n = iterations(size) as u64;
    let mut rounds = Rounds::new(n);
    while let Some(i) = rounds.next() {
        let t = Instant::now();
        let pending = request(i);
        loop {
            if let Some(r) = pending.receive().expect("response") {
                assert_eq!(read_seq(r.payload(), false), i + 1);
                break;
            }
        }
        rounds.record(t);
    }
    let v = rounds.done();
    drop(request(u64::MAX));
    let _ = child.wait();
    v
}

fn iox2_rr_slice_echo(size: usize, name: &str) {
    let node = iox_node();
    let service = iox_rr_slices(&node, name);
    let server = service.server_builder().initial_max_slice_len(size).create().expect("server");
    loop {
        if let Some(request) = server.receive().expect("receive") {
            let seq = read_seq(request.payload(), false);
            if seq == u64::MAX {
                return;
            }
            let mut r = request.loan_slice_uninit(size).expect("loan");
            fill(r.payload_mut(), seq + 1, false);
            // SAFETY: as for icefloe.
            unsafe { r.assume_init() }.send().expect("respond");
        }
    }
}

fn iox_event(
    node: &iox::Node,
    name: &str,
    which: &str,
) -> iceoryx2::service::port_factory::event::PortFactory<iox::ipc::Service> {
    let full = format!("{name}/{which}");
    node.service_builder(&full.as_str().try_into().expect("name")).event().open_or_create().expect("iceoryx2 event")
}

fn iox2_event_pings(name: &str, spawn: impl Fn() -> Child) -> Vec<u64> {
    let setup = crate::allocs::now();
    let node = iox_node();
    let (ping, pong) = (iox_event(&node, name, "ping"), iox_event(&node, name, "pong"));
    let notifier = ping.notifier_builder().create().expect("notifier");
    let listener = pong.listener_builder().create().expect("listener");
    crate::allocs::setup_done(setup);
    let mut child = spawn();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        notifier.notify().expect("notify");
        if listener.timed_wait(|_| {}, Duration::from_millis(1)).expect("wait") > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "the iceoryx2 event echo did not answer");
    }
    std::thread::sleep(Duration::from_millis(5));
    listener.try_wait(|_| {}).expect("drain");
    let n = 5_000u64;
    let mut rounds = Rounds::new(n);
    while rounds.next().is_some() {
        let t = Instant::now();
        notifier.notify().expect("notify");
        listener.blocking_wait(|_| {}).expect("wait");
        rounds.record(t);
    }
    let v = rounds.done();
    notifier.notify_with_custom_event_id(iceoryx2::prelude::EventId::new(1)).expect("stop");
    let _ = child.wait();
    v
}

fn iox2_event_echo(name: &str) {
    let node = iox_node();
    let (ping, pong) = (iox_event(&node, name, "ping"), iox_event(&node, name, "pong"));
    let listener = ping.listener_builder().create().expect("listener");
    let notifier = pong.notifier_builder().create().expect("notifier");
    let mut stop = false;
    while !stop {
        listener.blocking_wait(|e| stop |= e.id.as_value() == 1).expect("wait");
        notifier.notify().expect("notify");
    }
}

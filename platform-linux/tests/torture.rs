//! Kill -9 anywhere, at scale: processes in random roles (publisher,
//! subscriber, client, server, notifier, listener, WaitSet user) on three
//! services with growing slices, SIGKILLed at random instants and replaced,
//! round after round.
//!
//! Every child checks every byte it receives (a wrong one ends it with a
//! panic, which fails the test). After every round the survivors must still
//! exchange verified data: each subscriber and WaitSet user that lives must
//! hear the test's own probe publisher again, and the test's client must
//! get verified responses. After the last round every pool is whole (a full
//! set of loans succeeds), every port slot of every service can be taken
//! again, and nothing of the run is left in `/dev/shm`.
//!
//! Under a minute by default (300 rounds; `ICEFLOE_TORTURE_ROUNDS=n` sets
//! another count); `ICEFLOE_STRESS=1` runs 3,000 rounds. The figures
//! (rounds, kills and starts per role) are printed at the end
//! (`-- --nocapture`).

mod common;

use common::*;
use icefloe_linux::prelude::*;
use icefloe_linux::AllocationStrategy;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const WATCHDOG: Duration = Duration::from_secs(30);
const TEST: &str = "processes_killed_at_random_lose_nothing_for_the_living";
const ROLES: [&str; 7] = ["publisher", "subscriber", "client", "server", "notifier", "listener", "waitset"];
/// How many children live at once.
const POPULATION: usize = 8;
/// The producer tag of the test's own probe samples and requests.
const PROBE: u32 = u32::MAX;
const MAX_SLICE: usize = 1 << 17;

fn frames() -> ServiceName {
    ServiceName::new("torture/frames").unwrap()
}
fn rpc() -> ServiceName {
    ServiceName::new("torture/rpc").unwrap()
}
fn ping() -> ServiceName {
    ServiceName::new("torture/ping").unwrap()
}

// Capacities: room for every child of a role at once plus the test's own
// ports (and one spare), so that a slot leaked by a kill shows as a
// failed creation.
const MAX_PUBLISHERS: u32 = 6;
const MAX_SUBSCRIBERS: u32 = 8;
const MAX_CLIENTS: u32 = 6;
const MAX_SERVERS: u32 = 4;
const MAX_NOTIFIERS: u32 = 6;
const MAX_LISTENERS: u32 = 8;
const MAX_NODES: u32 = 32;

fn open_frames(node: &Node) -> PublishSubscribe<[u8]> {
    node.service_builder(&frames())
        .publish_subscribe::<[u8]>()
        .max_publishers(MAX_PUBLISHERS)
        .max_subscribers(MAX_SUBSCRIBERS)
        .max_nodes(MAX_NODES)
        .subscriber_max_buffer_size(8)
        .subscriber_max_borrowed_samples(4)
        .enable_safe_overflow(true)
        .open_or_create()
        .expect("frames opens")
}

fn open_rpc(node: &Node) -> RequestResponse<[u8], [u8]> {
    node.service_builder(&rpc())
        .request_response::<[u8], [u8]>()
        .max_clients(MAX_CLIENTS)
        .max_servers(MAX_SERVERS)
        .max_nodes(MAX_NODES)
        .max_active_requests_per_client(4)
        .max_response_buffer_size(4)
        .enable_safe_overflow_for_requests(true)
        .enable_safe_overflow_for_responses(true)
        .open_or_create()
        .expect("rpc opens")
}

fn open_ping(node: &Node) -> Event {
    node.service_builder(&ping())
        .event()
        .max_notifiers(MAX_NOTIFIERS)
        .max_listeners(MAX_LISTENERS)
        .max_nodes(MAX_NODES)
        .event_id_max_value(63)
        .open_or_create()
        .expect("ping opens")
}

/// A small xorshift generator (no dependency; seeded per process).
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed | 1)
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn len(&mut self) -> usize {
        // Mostly small, sometimes large: the ports grow now and then.
        let bits = 3 + self.below(15) as u32;
        (8 + self.below(1 << bits) as usize).min(MAX_SLICE)
    }
}

/// Payload: producer tag and sequence (8 bytes), then bytes that follow
/// from them, so any receiver can check every byte.
fn fill(tag: u32, seq: u32, len: usize) -> impl FnMut(usize) -> u8 {
    move |i| match i {
        0..4 => tag.to_le_bytes()[i],
        4..8 => seq.to_le_bytes()[i - 4],
        _ => (tag.wrapping_mul(31) ^ seq.wrapping_mul(7)).wrapping_add((i * 13 + len) as u32) as u8,
    }
}

/// Checks every byte; returns (tag, seq).
fn verify(bytes: &[u8], what: &str) -> (u32, u32) {
    assert!(bytes.len() >= 8, "{what}: {} bytes, shorter than its header", bytes.len());
    let tag = u32::from_le_bytes(bytes[0..4].try_into().unwrap());
    let seq = u32::from_le_bytes(bytes[4..8].try_into().unwrap());
    let mut f = fill(tag, seq, bytes.len());
    for (i, b) in bytes.iter().enumerate() {
        assert_eq!(*b, f(i), "{what}: byte {i} of {} wrong (tag {tag:#x}, seq {seq})", bytes.len());
    }
    (tag, seq)
}

/// A port builder with the slice knobs set: starts at 16 bytes and
/// grows by powers of two up to [`MAX_SLICE`].
macro_rules! growing {
    ($builder:expr) => {
        $builder
            .initial_max_slice_len(16)
            .allocation_strategy(AllocationStrategy::PowerOfTwo)
            .max_slice_len(MAX_SLICE as u32)
    };
}

/// A response to a request: the request's bytes, each XORed with 0x5a.
fn answer(request: &[u8]) -> impl FnMut(usize) -> u8 + '_ {
    move |i| request[i] ^ 0x5a
}

fn pause(rng: &mut Rng) {
    std::thread::sleep(Duration::from_micros(rng.below(1500)));
}

/// Child: plays its role until it is killed (or the parent goes away).
/// Its ports are dropped and made anew now and then (and with them their
/// data segments), so that kills also land in port creation, growth and
/// drop, not only in sending and receiving.
fn child(role: &str) {
    let prefix = arg("ICEFLOE_TEST_PREFIX");
    let me = std::process::id();
    let clock = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64;
    let mut rng = Rng::new((u64::from(me) << 20) ^ clock);
    let node = node(&prefix);
    let parent_gone = || std::os::unix::process::parent_id() == 1;
    // How many operations a port lives for before it is made anew.
    let life = |rng: &mut Rng| 1 + rng.below(40);
    let mut seq = 0u32;
    say("ready", "");
    match role {
        "publisher" => {
            let service = open_frames(&node);
            while !parent_gone() {
                let publisher = growing!(service.publisher_builder()).create().expect("a publisher slot");
                for _ in 0..life(&mut rng) {
                    seq = seq.wrapping_add(1);
                    let len = rng.len();
                    let sample = publisher.loan_slice_uninit(len).expect("loan").write_from_fn(fill(me, seq, len));
                    sample.send().expect("send");
                    pause(&mut rng);
                }
            }
        }
        "subscriber" => {
            let service = open_frames(&node);
            while !parent_gone() {
                let subscriber = service.subscriber_builder().create().expect("a subscriber slot");
                let mut held = Vec::new();
                for _ in 0..life(&mut rng) * 4 {
                    match subscriber.receive().expect("receive") {
                        Some(sample) => {
                            let (tag, seq) = verify(&sample, "sample");
                            if tag == PROBE {
                                say("probe", seq);
                            }
                            if held.len() < 2 && rng.below(4) == 0 {
                                held.push(sample);
                            }
                        }
                        None => pause(&mut rng),
                    }
                    if !held.is_empty() && rng.below(8) == 0 {
                        held.remove(0);
                    }
                }
            }
        }
        "client" => {
            let service = open_rpc(&node);
            while !parent_gone() {
                let client = growing!(service.client_builder()).create().expect("a client slot");
                for _ in 0..life(&mut rng) / 4 + 1 {
                    seq = seq.wrapping_add(1);
                    let len = rng.len();
                    let request = client.loan_slice_uninit(len).expect("loan").write_from_fn(fill(me, seq, len));
                    let pending = request.send().expect("send request");
                    let deadline = Instant::now() + Duration::from_millis(50);
                    while Instant::now() < deadline {
                        match pending.receive().expect("receive response") {
                            Some(r) => {
                                let back: Vec<u8> = r.iter().map(|b| b ^ 0x5a).collect();
                                assert_eq!(verify(&back, "response"), (me, seq), "a response to another request");
                            }
                            None if !pending.is_connected() => break,
                            None => pause(&mut rng),
                        }
                    }
                }
            }
        }
        "server" => {
            let service = open_rpc(&node);
            while !parent_gone() {
                let server = growing!(service.server_builder()).create().expect("a server slot");
                for _ in 0..life(&mut rng) * 4 {
                    match server.receive().expect("receive request") {
                        Some(request) => {
                            verify(&request, "request");
                            for _ in 0..1 + rng.below(3) {
                                let r = request.loan_slice_uninit(request.len()).expect("loan response");
                                r.write_from_fn(answer(&request)).send().expect("respond");
                            }
                        }
                        None => pause(&mut rng),
                    }
                }
            }
        }
        "notifier" => {
            let service = open_ping(&node);
            while !parent_gone() {
                let notifier = service.notifier_builder().create().expect("a notifier slot");
                for _ in 0..life(&mut rng) {
                    let id = EventId::new(rng.below(60) as u32);
                    notifier.notify_with_custom_event_id(id).expect("notify");
                    pause(&mut rng);
                }
            }
        }
        "listener" => {
            let service = open_ping(&node);
            while !parent_gone() {
                let listener = service.listener_builder().create().expect("a listener slot");
                for _ in 0..life(&mut rng) {
                    listener
                        .timed_wait(Duration::from_millis(5), |e| {
                            assert!(e.id.as_value() <= 63, "an event id out of range: {:?}", e.id);
                            if e.id.as_value() == 63 {
                                say("probe", e.count);
                            }
                        })
                        .expect("listener wait");
                }
            }
        }
        "waitset" => {
            let frames = open_frames(&node);
            let ping = open_ping(&node);
            while !parent_gone() {
                let subscriber = frames.subscriber_builder().create().expect("a subscriber slot");
                let listener = ping.listener_builder().create().expect("a listener slot");
                let waitset = WaitSet::<4>::new();
                let _s = waitset.attach_notification(&subscriber).unwrap();
                let _l = waitset.attach_notification(&listener).unwrap();
                for _ in 0..life(&mut rng) {
                    waitset
                        .wait_and_process_once_with_timeout(
                            |_| {
                                while let Some(sample) = subscriber.receive().expect("receive") {
                                    if let (PROBE, seq) = verify(&sample, "sample") {
                                        say("probe", seq);
                                    }
                                }
                                listener.try_wait(|_| {}).expect("listener");
                                CallbackProgression::Continue
                            },
                            Duration::from_millis(5),
                        )
                        .expect("waitset");
                }
            }
        }
        other => panic!("unknown role {other}"),
    }
}

/// A child seen from the test: its process and the last probe it heard.
struct Kid {
    role: &'static str,
    child: Child,
    heard: Arc<Mutex<Option<u32>>>,
}

fn spawn(prefix: &str, role: &'static str) -> Kid {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([TEST, "--exact", "--nocapture", "--test-threads=1"])
        .env("ICEFLOE_TEST_ROLE", role)
        .env("ICEFLOE_TEST_PREFIX", prefix)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn a child");
    let heard = Arc::new(Mutex::new(None));
    let out = child.stdout.take().unwrap();
    let h = heard.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if let Some(at) = line.find("@@probe ") {
                if let Ok(v) = line[at + 8..].trim().parse() {
                    *h.lock().unwrap() = Some(v);
                }
            }
        }
    });
    Kid { role, child, heard }
}

/// Fails the test if a child ended by itself (a panic: a wrong byte, an
/// error where none belongs).
fn check_alive(kids: &mut [Kid]) {
    for k in kids.iter_mut() {
        if let Some(status) = k.child.try_wait().unwrap() {
            panic!("a {} child ended by itself ({status}): see its output above", k.role);
        }
    }
}

#[derive(Default)]
struct Figures {
    rounds: u32,
    kills: BTreeMap<&'static str, u32>,
    spawned: BTreeMap<&'static str, u32>,
    probes: u32,
    responses: u32,
}

#[test]
fn processes_killed_at_random_lose_nothing_for_the_living() {
    if let Some(role) = role() {
        return child(&role);
    }
    let stress = std::env::var("ICEFLOE_STRESS").is_ok_and(|v| v == "1");
    let rounds: u32 = std::env::var("ICEFLOE_TORTURE_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(if stress {
        3000
    } else {
        300
    });
    let prefix = unique_prefix();
    let mut fig = Figures::default();
    let mut rng = Rng::new(u64::from(std::process::id()).wrapping_mul(0x2545_f491_4f6c_dd1d));
    {
        let node = node(&prefix);
        let frames = open_frames(&node);
        let rpc = open_rpc(&node);
        let ping = open_ping(&node);
        let probe = growing!(frames.publisher_builder()).create().unwrap();
        let client = growing!(rpc.client_builder()).create().unwrap();
        let server = growing!(rpc.server_builder()).create().unwrap();
        let notifier = ping.notifier_builder().create().unwrap();
        // Per role at most this many children at once (the services' slots
        // hold them all plus the test's own ports).
        let limit = |role: &str| match role {
            "publisher" => 3,
            "subscriber" => 3,
            "client" => 3,
            "server" => 2,
            "notifier" => 3,
            "listener" => 3,
            _ => 2,
        };
        let mut kids: Vec<Kid> = Vec::new();
        let mut pids = Vec::new();
        let mut seq = 0u32;
        for round in 0..rounds {
            // Top the population up with random roles.
            while kids.len() < POPULATION {
                let role = ROLES[rng.below(ROLES.len() as u64) as usize];
                if kids.iter().filter(|k| k.role == role).count() >= limit(role) {
                    continue;
                }
                let kid = spawn(&prefix, role);
                pids.push(kid.child.id());
                kids.push(kid);
                *fig.spawned.entry(role).or_default() += 1;
            }
            std::thread::sleep(Duration::from_millis(rng.below(120)));
            // Kill one or two at a random instant (just started, or long running).
            for _ in 0..1 + rng.below(2) {
                let k = kids.swap_remove(rng.below(kids.len() as u64) as usize);
                let mut k = k;
                check_alive(std::slice::from_mut(&mut k));
                k.child.kill().unwrap();
                k.child.wait().unwrap();
                *fig.kills.entry(k.role).or_default() += 1;
                std::thread::sleep(Duration::from_millis(rng.below(10)));
            }
            check_alive(&mut kids);
            // Cleanup now and then from this node's services (opening runs
            // it too). Not `Node::cleanup_dead_nodes`: its sweep of dead
            // senders' segments would hide a protocol that leaks them.
            if rng.below(3) == 0 {
                frames.cleanup_dead_nodes();
                rpc.cleanup_dead_nodes();
                ping.cleanup_dead_nodes();
            }
            // The survivors still hear the probe: every listening child
            // that said it was ready by now must report a probe from this
            // round or later.
            let first = seq.wrapping_add(1);
            let deadline = Instant::now() + WATCHDOG;
            loop {
                seq = seq.wrapping_add(1);
                let len = rng.len();
                probe.loan_slice_uninit(len).unwrap().write_from_fn(fill(PROBE, seq, len)).send().unwrap();
                notifier.notify_with_custom_event_id(EventId::new(63)).unwrap();
                // Our own client and server exchange verified data, and our
                // server answers the children's clients.
                let req_len = rng.len();
                let pending =
                    client.loan_slice_uninit(req_len).unwrap().write_from_fn(fill(PROBE, seq, req_len)).send().unwrap();
                while let Some(request) = server.receive().unwrap() {
                    verify(&request, "request at the test");
                    request.loan_slice_uninit(request.len()).unwrap().write_from_fn(answer(&request)).send().unwrap();
                }
                let until = Instant::now() + Duration::from_millis(20);
                while Instant::now() < until {
                    if let Some(r) = pending.receive().unwrap() {
                        let back: Vec<u8> = r.iter().map(|b| b ^ 0x5a).collect();
                        assert_eq!(verify(&back, "response at the test"), (PROBE, seq));
                        fig.responses += 1;
                    }
                    while let Some(request) = server.receive().unwrap() {
                        verify(&request, "request at the test");
                        request
                            .loan_slice_uninit(request.len())
                            .unwrap()
                            .write_from_fn(answer(&request))
                            .send()
                            .unwrap();
                    }
                }
                drop(pending);
                check_alive(&mut kids);
                let deaf: Vec<_> = kids
                    .iter()
                    .filter(|k| matches!(k.role, "subscriber" | "waitset" | "listener"))
                    .filter(|k| match *k.heard.lock().unwrap() {
                        // Listeners report a count, not a sequence: any probe will do.
                        Some(_) if k.role == "listener" => false,
                        Some(v) => v.wrapping_sub(first) > u32::MAX / 2,
                        None => true,
                    })
                    .map(|k| (k.role, k.child.id()))
                    .collect();
                if deaf.is_empty() {
                    break;
                }
                assert!(Instant::now() < deadline, "round {round}: {deaf:?} stopped hearing the probe");
            }
            fig.probes += 1;
            fig.rounds = round + 1;
        }
        for mut k in kids {
            check_alive(std::slice::from_mut(&mut k));
            k.child.kill().unwrap();
            k.child.wait().unwrap();
        }
        frames.cleanup_dead_nodes();
        rpc.cleanup_dead_nodes();
        ping.cleanup_dead_nodes();
        // Every pool whole: the probe publisher lends its full set again.
        probe.update_connections();
        let all: Vec<_> = (0..probe.max_loaned_samples()).map(|_| probe.loan_slice_uninit(64).unwrap()).collect();
        drop(all);
        let stats = probe.chunk_stats();
        assert_eq!(stats.free, stats.total, "chunks still out after every receiver is gone: {stats:?}");
        // Every port slot can be taken again.
        let pubs: Vec<_> = (1..MAX_PUBLISHERS).map(|_| frames.publisher_builder().create().unwrap()).collect();
        let subs: Vec<_> = (0..MAX_SUBSCRIBERS).map(|_| frames.subscriber_builder().create().unwrap()).collect();
        let clients: Vec<_> = (1..MAX_CLIENTS).map(|_| rpc.client_builder().create().unwrap()).collect();
        let servers: Vec<_> = (1..MAX_SERVERS).map(|_| rpc.server_builder().create().unwrap()).collect();
        let notifiers: Vec<_> = (1..MAX_NOTIFIERS).map(|_| ping.notifier_builder().create().unwrap()).collect();
        let listeners: Vec<_> = (0..MAX_LISTENERS).map(|_| ping.listener_builder().create().unwrap()).collect();
        assert_eq!(frames.number_of_publishers(), MAX_PUBLISHERS);
        drop((pubs, subs, clients, servers, notifiers, listeners));
        drop((probe, client, server, notifier));
        drop((frames, rpc, ping));
        // The services went with their last user, and every data segment
        // with them.
        assert_services_gone(&prefix);
        // No liveness record or node record of a killed child is left
        // either (those of children killed before they joined a service
        // are swept).
        node.cleanup_dead_nodes();
        assert_eq!(shm_left(&prefix).len(), 1, "only this node's record is left: {:?}", shm_left(&prefix));
        let records: Vec<_> = pids.iter().flat_map(|p| shm_left(&format!("icefloe_live_{p}_"))).collect();
        assert!(records.is_empty(), "liveness records of killed children left: {records:?}");
    }
    assert_clean(&prefix);
    let kills: u32 = fig.kills.values().sum();
    eprintln!(
        "torture: {} rounds, {kills} SIGKILLs {:?}, {} children started {:?}, {} probe rounds, {} verified responses at the test",
        fig.rounds,
        fig.kills,
        fig.spawned.values().sum::<u32>(),
        fig.spawned,
        fig.probes,
        fig.responses
    );
}

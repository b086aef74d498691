//! A bridge between the icefloe services of one host and Zenoh, so that
//! publishers, subscribers, clients, servers, notifiers and listeners on
//! different hosts talk as if they shared memory. icefloe has no network
//! protocol of its own: across hosts it is Zenoh's.
//!
//! One bridge runs per host (per icefloe prefix). For each local service
//! chosen by name or glob it:
//!
//! - **exports** it while a local port that is not a bridge's sends on it
//!   (a publisher, a server, a notifier): samples go out as Zenoh puts,
//!   requests come in as Zenoh queries and every response goes back as one
//!   reply (the query ends with the response stream), events go out with
//!   their id as a little-endian `u32`;
//! - **imports** every service a remote bridge exports: it creates the
//!   service locally (with the remote's types and QoS) if it is not there,
//!   and a local publisher, server or notifier that stands for the remote
//!   ones, for as long as the remote bridge lives (Zenoh liveliness).
//!
//! Key expressions carry the domain, the pattern, the escaped service name
//! and a hash of the service's types ([`wire::type_hash`]), so two hosts
//! whose types differ never exchange bytes (the log says why). Every message
//! carries a fixed-size [`wire::Attachment`] (sending host and bridge, hop
//! count, payload split). A sample, request or event a bridge injected is
//! never exported again; of several bridges on one host only the oldest
//! forwards (the others stand by and take over when it goes).
//!
//! ```no_run
//! use icefloe_zenoh::{Bridge, BridgeConfig, ZenohConfig};
//!
//! let mut config = BridgeConfig::new("camera/*");
//! config.zenoh = ZenohConfig::Loopback { listen: Some(7447), connect: vec![7448] };
//! let bridge = Bridge::start(config)?;
//! // … the services run; `bridge.stats()` counts what crossed …
//! bridge.stop();
//! # Ok::<(), icefloe_zenoh::BridgeError>(())
//! ```

// The bridge's atomics are process-local counters and stop flags of its
// own threads, outside any shared-memory protocol (what loom checks is the
// core's).
#![allow(clippy::disallowed_types)]

mod discovery;
mod event;
mod pubsub;
pub mod queue;
mod reqres;
pub mod wire;

use icefloe_linux::icefloe_core::SignalHandlingMode;
use icefloe_linux::{MessagingPattern, NodeBuilder, NodeName, Prefix};
use queue::Overflow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::Duration;
use zenoh::Wait;

/// The node name every bridge's nodes carry: ports of such nodes are a
/// bridge's, and what they send is never exported again.
pub const BRIDGE_NODE_NAME: &str = "icefloe-zenoh";

/// How the bridge's Zenoh session is configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ZenohConfig {
    /// Zenoh's defaults (peer mode, multicast scouting).
    Default,
    /// A Zenoh configuration file (JSON5 or YAML, as Zenoh reads it).
    File(std::path::PathBuf),
    /// A Zenoh configuration as inline JSON5.
    Json5(String),
    /// Peer mode on loopback only, for tests and benches on one machine:
    /// multicast and gossip scouting off, listening on
    /// `tcp/127.0.0.1:<listen>` and connecting to `tcp/127.0.0.1:<port>`
    /// for each of `connect`.
    Loopback {
        /// The port to listen on, if any.
        listen: Option<u16>,
        /// The ports of peers to connect to.
        connect: Vec<u16>,
    },
}

/// What a bridge bridges and how.
#[derive(Debug, Clone)]
pub struct BridgeConfig {
    /// The icefloe prefix of the local services (default icefloe's).
    pub prefix: String,
    /// The Zenoh domain: bridges of different domains ignore each other.
    pub domain: String,
    /// Globs of the service names to bridge (`*` any run, `?` one
    /// character).
    pub services: Vec<String>,
    /// The Zenoh session's configuration.
    pub zenoh: ZenohConfig,
    /// Tells this host's bridges from other hosts' (default: a hash of the
    /// host name and the prefix).
    pub host_id: Option<u64>,
    /// Entries each service's inbound queue holds (default 64).
    pub queue_len: usize,
    /// Bytes each service's inbound queue holds (default 256 MiB).
    pub queue_bytes: usize,
    /// Which entry a full queue drops (default the oldest).
    pub overflow: Overflow,
    /// What an exported sample or event does when Zenoh's queue to the
    /// link is full (default [`Congestion::Block`]).
    pub congestion: Congestion,
    /// How long a local subscriber may keep its queue full before an
    /// imported sample skips it (default 100 ms).
    pub local_backpressure_timeout: Duration,
    /// The longest a request's response stream may last across the bridge
    /// (Zenoh's query timeout; default 60 s).
    pub request_timeout: Duration,
    /// How often local services are listed (default 100 ms).
    pub discovery_interval: Duration,
    /// How often the counters are logged when they changed (default 10 s;
    /// zero: never).
    pub report_interval: Duration,
}

impl BridgeConfig {
    /// Bridges the services whose names match `glob` in the default
    /// domain, prefix and Zenoh configuration.
    pub fn new(glob: &str) -> Self {
        Self {
            prefix: icefloe_linux::icefloe_core::name::DEFAULT_PREFIX.to_owned(),
            domain: "default".to_owned(),
            services: vec![glob.to_owned()],
            zenoh: ZenohConfig::Default,
            host_id: None,
            queue_len: 64,
            queue_bytes: 256 << 20,
            overflow: Overflow::DropOldest,
            congestion: Congestion::Block,
            local_backpressure_timeout: Duration::from_millis(100),
            request_timeout: Duration::from_secs(60),
            discovery_interval: Duration::from_millis(100),
            report_interval: Duration::from_secs(10),
        }
    }

    /// The Zenoh configuration this asks for.
    pub fn zenoh_config(&self) -> Result<zenoh::Config, BridgeError> {
        let z = |e: zenoh::Error| BridgeError::ZenohConfig(e.to_string());
        match &self.zenoh {
            ZenohConfig::Default => Ok(zenoh::Config::default()),
            ZenohConfig::File(path) => zenoh::Config::from_file(path).map_err(z),
            ZenohConfig::Json5(text) => zenoh::Config::from_json5(text).map_err(z),
            ZenohConfig::Loopback { listen, connect } => loopback_config(*listen, connect).map_err(z),
        }
    }
}

/// Zenoh in peer mode on 127.0.0.1 only, scouting off: listening on
/// `listen` (if any) and connecting to each of `connect` (what
/// [`ZenohConfig::Loopback`] asks for; tests and benches use it for plain
/// sessions beside the bridges).
pub fn loopback_config(listen: Option<u16>, connect: &[u16]) -> Result<zenoh::Config, zenoh::Error> {
    let mut c = zenoh::Config::default();
    let ep = |port: &u16| format!("\"tcp/127.0.0.1:{port}\"");
    let listen: Vec<_> = listen.iter().map(ep).collect();
    let connect: Vec<_> = connect.iter().map(ep).collect();
    for (key, value) in [
        ("mode", "\"peer\"".to_owned()),
        ("scouting/multicast/enabled", "false".to_owned()),
        ("scouting/gossip/enabled", "false".to_owned()),
        ("listen/endpoints", format!("[{}]", listen.join(","))),
        ("connect/endpoints", format!("[{}]", connect.join(","))),
    ] {
        c.insert_json5(key, &value)?;
    }
    Ok(c)
}

/// What an export does when Zenoh cannot take a message at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Congestion {
    /// The service's export thread waits for the link (other services'
    /// threads go on; the local subscriber's queue absorbs the wait, with
    /// the service's overflow rule). Nothing is lost on a healthy link.
    #[default]
    Block,
    /// Zenoh drops the message (lowest latency under load; a busy core can
    /// lose messages even on a healthy link).
    Drop,
}

impl From<Congestion> for zenoh::qos::CongestionControl {
    fn from(c: Congestion) -> Self {
        match c {
            Congestion::Block => Self::Block,
            Congestion::Drop => Self::Drop,
        }
    }
}

/// Why a bridge could not start.
#[derive(Debug)]
#[non_exhaustive]
pub enum BridgeError {
    /// The prefix is not a valid icefloe prefix.
    InvalidPrefix(String),
    /// The domain is empty or holds characters a key chunk cannot.
    InvalidDomain(String),
    /// No service glob was given.
    NoServices,
    /// The Zenoh configuration could not be read.
    ZenohConfig(String),
    /// The Zenoh session could not be opened or declared what the bridge
    /// needs.
    Zenoh(String),
    /// The bridge's icefloe node could not be created.
    Node(String),
}

impl std::fmt::Display for BridgeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::InvalidPrefix(e) => write!(f, "invalid icefloe prefix: {e}"),
            Self::InvalidDomain(d) => {
                write!(f, "invalid domain {d:?}: use 1 to 64 letters, digits, '_', '-' or '.'")
            }
            Self::NoServices => write!(f, "no services to bridge: give at least one name or glob"),
            Self::ZenohConfig(e) => write!(f, "the Zenoh configuration is not usable: {e}"),
            Self::Zenoh(e) => write!(f, "Zenoh failed: {e}"),
            Self::Node(e) => write!(f, "the bridge's icefloe node could not be created: {e}"),
        }
    }
}

impl std::error::Error for BridgeError {}

/// Which way a service's traffic goes through this bridge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Direction {
    /// From local senders to Zenoh (and, for request-response, the
    /// responses back from local servers).
    Export,
    /// From Zenoh to local receivers (and, for request-response, the
    /// responses back from remote servers).
    Import,
}

/// What crossed one service in one direction, as [`Bridge::stats`] reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceStats {
    /// The service's name.
    pub name: String,
    /// Its pattern.
    pub pattern: MessagingPattern,
    /// Export or import.
    pub direction: Direction,
    /// Samples, requests, responses or events forwarded.
    pub forwarded: u64,
    /// Payload bytes forwarded.
    pub bytes: u64,
    /// Entries a full queue dropped.
    pub dropped_overflow: u64,
    /// Messages refused as malformed (wrong attachment, sizes that do not
    /// fit the local service, event ids out of range).
    pub refused: u64,
    /// Local sends that failed (and what they carried was lost).
    pub failed: u64,
}

/// The counters of one worker.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub forwarded: AtomicU64,
    pub bytes: AtomicU64,
    pub refused: AtomicU64,
    pub failed: AtomicU64,
    /// The queue whose drops count as this worker's (import side).
    pub dropped: AtomicU64,
}

impl Counters {
    pub fn forwarded(&self, bytes: usize) {
        self.forwarded.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    pub fn refused(&self) {
        self.refused.fetch_add(1, Ordering::Relaxed);
    }

    pub fn failed(&self) {
        self.failed.fetch_add(1, Ordering::Relaxed);
    }

    /// Puts `payload` with `att` on `publisher`, counting `counted` bytes
    /// forwarded, or the failure (logged as `name`'s `what`).
    pub fn put(
        &self,
        publisher: &zenoh::pubsub::Publisher<'_>,
        payload: Vec<u8>,
        att: &wire::Attachment,
        counted: usize,
        (name, what): (&str, &str),
    ) {
        match publisher.put(payload).attachment(zenoh::bytes::ZBytes::from(att.encode().to_vec())).wait() {
            Ok(()) => self.forwarded(counted),
            Err(e) => {
                log::warn!("{name}: Zenoh refused {what}: {e}");
                self.failed();
            }
        }
    }
}

/// What every thread of a bridge shares.
pub(crate) struct Ctx {
    pub session: zenoh::Session,
    pub keys: wire::Keys,
    pub prefix: Prefix,
    pub host: u64,
    pub bridge: u64,
    pub config: BridgeConfig,
    /// Sending ports (publishers, clients, servers) of bridge nodes on
    /// this prefix: what they sent is never exported again.
    pub bridge_ports: RwLock<HashSet<u64>>,
    /// The encoded configurations of the services this bridge exports, by
    /// the key they are served on.
    pub exported_configs: Mutex<HashMap<String, String>>,
    /// Counters by (pattern, name, direction).
    pub stats: Mutex<BTreeMap<(u32, String, Direction), Arc<Counters>>>,
    /// Event notifications this bridge injected per service and id, which
    /// its own exporting listener must not send back.
    pub injected_events: Mutex<HashMap<String, HashMap<u32, u32>>>,
    pub stop: AtomicBool,
}

impl Ctx {
    /// A node of this bridge (one per worker thread: ports stay on the
    /// thread that made them). icefloe's SIGINT / SIGTERM handling stays
    /// off: the application that runs the bridge decides when it stops.
    pub fn node(&self) -> Result<icefloe_linux::Node, BridgeError> {
        let name = NodeName::new(BRIDGE_NODE_NAME).map_err(|e| BridgeError::Node(e.to_string()))?;
        NodeBuilder::new()
            .prefix(self.prefix.as_str())
            .and_then(|b| b.name(name).signal_handling_mode(SignalHandlingMode::Disabled).create())
            .map_err(|e| BridgeError::Node(e.to_string()))
    }

    /// The counters of one service and direction.
    pub fn counters(&self, pattern: MessagingPattern, name: &str, direction: Direction) -> Arc<Counters> {
        let mut s = self.stats.lock().unwrap_or_else(|e| e.into_inner());
        s.entry((pattern.word(), name.to_owned(), direction)).or_default().clone()
    }

    /// A service's inbound queue, bounded as the configuration says.
    pub fn queue<T>(&self) -> Arc<queue::Queue<T>> {
        let c = &self.config;
        Arc::new(queue::Queue::new(c.queue_len, c.queue_bytes, c.overflow))
    }

    /// Whether a port id is a bridge's sending port.
    pub fn is_bridge_port(&self, id: u64) -> bool {
        self.bridge_ports.read().unwrap_or_else(|e| e.into_inner()).contains(&id)
    }

    /// Records a sending port this bridge made.
    pub fn add_bridge_port(&self, id: u64) {
        self.bridge_ports.write().unwrap_or_else(|e| e.into_inner()).insert(id);
    }

    /// The attachment of a message this bridge sends first-hand.
    pub fn attachment(&self, elements: usize, header_len: usize) -> wire::Attachment {
        wire::Attachment {
            hops: 1,
            host: self.host,
            bridge: self.bridge,
            elements: elements as u32,
            header_len: header_len as u32,
        }
    }

    /// Reads the attachment of an incoming message: `None` unless it is
    /// one, from another host, within the hop bound (what is malformed is
    /// logged and counted as refused).
    pub fn incoming(&self, what: &str, att: Option<&zenoh::bytes::ZBytes>, c: &Counters) -> Option<wire::Attachment> {
        let Some(a) = att.and_then(|a| wire::Attachment::decode(&a.to_bytes())) else {
            log::warn!("{what}: refused a message without a valid icefloe attachment");
            c.refused();
            return None;
        };
        if a.host == self.host {
            return None; // another bridge of this host sent it: ours already has it
        }
        if a.hops > wire::MAX_HOPS {
            log::warn!("{what}: refused a message that crossed {} bridges (at most {})", a.hops, wire::MAX_HOPS);
            c.refused();
            return None;
        }
        Some(a)
    }

    pub fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

/// A thread that forwards one service in one direction, stopped and joined
/// on drop (with the liveliness token that announced it, if any).
pub(crate) struct Worker {
    pub stop: Arc<AtomicBool>,
    pub thread: Option<JoinHandle<()>>,
    pub token: Option<zenoh::liveliness::LivelinessToken>,
    pub config_key: Option<String>,
    pub ctx: Arc<Ctx>,
}

impl Worker {
    pub fn spawn(
        ctx: &Arc<Ctx>,
        what: String,
        f: impl FnOnce(Arc<Ctx>, Arc<AtomicBool>) -> Result<(), String> + Send + 'static,
    ) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let (c, s) = (ctx.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name(what.chars().take(15).collect())
            .spawn(move || {
                if let Err(e) = f(c, s) {
                    log::error!("{what}: stopped: {e}");
                }
            })
            .ok();
        Self { stop, thread, token: None, config_key: None, ctx: ctx.clone() }
    }

    pub fn finished(&self) -> bool {
        self.thread.as_ref().is_none_or(|t| t.is_finished())
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        if let Some(key) = &self.config_key {
            self.ctx.exported_configs.lock().unwrap_or_else(|e| e.into_inner()).remove(key);
        }
        if let Some(token) = self.token.take() {
            let _ = token.undeclare().wait();
        }
    }
}

/// A running bridge. Dropping it (or [`stop`](Self::stop)) ends its
/// workers, removes the ports it made and closes its Zenoh session.
pub struct Bridge {
    ctx: Arc<Ctx>,
    thread: Option<JoinHandle<()>>,
}

impl Bridge {
    /// Opens the Zenoh session, announces the bridge and starts discovery.
    pub fn start(config: BridgeConfig) -> Result<Self, BridgeError> {
        let prefix = Prefix::new(&config.prefix).map_err(|e| BridgeError::InvalidPrefix(e.to_string()))?;
        if !wire::valid_domain(&config.domain) {
            return Err(BridgeError::InvalidDomain(config.domain.clone()));
        }
        if config.services.is_empty() {
            return Err(BridgeError::NoServices);
        }
        // The id first: opening the session may take a while, and the
        // bridge that started first is the older one.
        let bridge = new_bridge_id();
        let session = zenoh::open(config.zenoh_config()?).wait().map_err(|e| BridgeError::Zenoh(e.to_string()))?;
        let host = config.host_id.unwrap_or_else(|| default_host_id(&config.prefix));
        let ctx = Arc::new(Ctx {
            session,
            keys: wire::Keys::new(&config.domain),
            prefix,
            host,
            bridge,
            config,
            bridge_ports: RwLock::default(),
            exported_configs: Mutex::default(),
            stats: Mutex::default(),
            injected_events: Mutex::default(),
            stop: AtomicBool::new(false),
        });
        // The discovery node is made here, so a bad prefix or a full
        // /dev/shm fails `start` instead of a thread.
        let node = ctx.node()?;
        let d = discovery::Discovery::new(ctx.clone())?;
        let c = ctx.clone();
        let thread = std::thread::Builder::new()
            .name("icefloe-zenoh".into())
            .spawn(move || d.run(node))
            .map_err(|e| BridgeError::Node(e.to_string()))?;
        log::info!(
            "bridge {:016x} of host {:016x} started: prefix {}, domain {}, services {:?}",
            c.bridge,
            c.host,
            c.prefix.as_str(),
            c.config.domain,
            c.config.services
        );
        Ok(Self { ctx, thread: Some(thread) })
    }

    /// This bridge's id (what its Zenoh keys and attachments carry).
    pub fn id(&self) -> u64 {
        self.ctx.bridge
    }

    /// The id of the host this bridge speaks for.
    pub fn host_id(&self) -> u64 {
        self.ctx.host
    }

    /// The Zenoh session the bridge runs on (to add one's own Zenoh
    /// traffic to it).
    pub fn session(&self) -> &zenoh::Session {
        &self.ctx.session
    }

    /// What crossed each service so far.
    pub fn stats(&self) -> Vec<ServiceStats> {
        stats_of(&self.ctx)
    }

    /// Stops the bridge and waits for its threads.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.ctx.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let _ = self.ctx.session.close().wait();
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        self.shutdown();
    }
}

pub(crate) fn stats_of(ctx: &Ctx) -> Vec<ServiceStats> {
    let s = ctx.stats.lock().unwrap_or_else(|e| e.into_inner());
    s.iter()
        .map(|((pattern, name, direction), c)| ServiceStats {
            name: name.clone(),
            pattern: MessagingPattern::from_word(*pattern).unwrap_or(MessagingPattern::Event),
            direction: *direction,
            forwarded: c.forwarded.load(Ordering::Relaxed),
            bytes: c.bytes.load(Ordering::Relaxed),
            dropped_overflow: c.dropped.load(Ordering::Relaxed),
            refused: c.refused.load(Ordering::Relaxed),
            failed: c.failed.load(Ordering::Relaxed),
        })
        .collect()
}

/// A hash of the host name and the prefix: bridges of one host and prefix
/// share it, others differ.
fn default_host_id(prefix: &str) -> u64 {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let machine = std::fs::read_to_string("/etc/machine-id").unwrap_or_default();
    let bytes: Vec<u8> =
        host.trim().bytes().chain([0]).chain(machine.trim().bytes()).chain([0]).chain(prefix.bytes()).collect();
    wire::fnv1a(&bytes)
}

/// A bridge id: the start time in the high bits, to the microsecond (so
/// the oldest bridge of a host has the smallest id and forwards), the
/// process id's low bits below.
fn new_bridge_id() -> u64 {
    let ns = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
    (ns & !0x3ff) | (u64::from(std::process::id()) & 0x3ff)
}

/// Waits on icefloe that an `Interrupt` or termination request ended early
/// are retried after a short pause (the process's owner decides when to
/// stop, through [`Bridge::stop`]).
pub(crate) const IDLE_WAIT: Duration = Duration::from_millis(20);

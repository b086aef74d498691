//! The bridge's main loop: it lists the local services, exports those with
//! local senders, imports those remote bridges export, and decides which
//! bridge of a host forwards.

use crate::wire::{self, Export};
use crate::{event, pubsub, reqres, stats_of, BridgeError, Ctx, Direction, Worker, BRIDGE_NODE_NAME};
use icefloe_linux::icefloe_core::shm::service::StaticConfig;
use icefloe_linux::{CallbackProgression, MessagingPattern, Node, NodeState, PortKind, Service, ServiceName};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use zenoh::sample::SampleKind;
use zenoh::Wait;

type ServiceKey = (u32, String);

/// What liveliness tells of the other bridges of the domain.
#[derive(Default)]
struct Remote {
    /// Live bridges: (host, bridge).
    bridges: HashSet<(u64, u64)>,
    /// Live export announcements, by token key.
    exports: HashMap<String, Export>,
}

pub(crate) struct Discovery {
    ctx: Arc<Ctx>,
    remote: Arc<Mutex<Remote>>,
    _token: zenoh::liveliness::LivelinessToken,
    _bridges: zenoh::pubsub::Subscriber<()>,
    _exports: zenoh::pubsub::Subscriber<()>,
    _configs: zenoh::query::Queryable<()>,
}

/// A local service as one pass of discovery sees it.
struct Local {
    config: StaticConfig,
    hash: u64,
    /// Live sending ports of nodes that are not bridges'.
    senders: u32,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Discovery {
    pub fn new(ctx: Arc<Ctx>) -> Result<Self, BridgeError> {
        let z = |e: zenoh::Error| BridgeError::Zenoh(e.to_string());
        let remote = Arc::new(Mutex::new(Remote::default()));
        let live = ctx.session.liveliness();
        let token = live.declare_token(ctx.keys.bridge_token(ctx.host, ctx.bridge)).wait().map_err(z)?;
        let (r, keys) = (remote.clone(), ctx.keys.clone());
        let bridges = live
            .declare_subscriber(ctx.keys.all_bridges())
            .history(true)
            .callback(move |s| {
                if let Some(id) = keys.parse_bridge(s.key_expr().as_str()) {
                    let mut r = lock(&r);
                    match s.kind() {
                        SampleKind::Put => r.bridges.insert(id),
                        SampleKind::Delete => r.bridges.remove(&id),
                    };
                }
            })
            .wait()
            .map_err(z)?;
        // The bridges already there, before the first pass decides who
        // forwards (the subscriber's history arrives on its own time).
        if let Ok(replies) = live.get(ctx.keys.all_bridges()).timeout(Duration::from_millis(500)).wait() {
            while let Ok(reply) = replies.recv() {
                if let Some(id) = reply.result().ok().and_then(|s| ctx.keys.parse_bridge(s.key_expr().as_str())) {
                    lock(&remote).bridges.insert(id);
                }
            }
        }
        let (r, keys) = (remote.clone(), ctx.keys.clone());
        let exports = live
            .declare_subscriber(ctx.keys.all_exports())
            .history(true)
            .callback(move |s| {
                let key = s.key_expr().as_str();
                let Some(e) = keys.parse_export(key) else {
                    log::warn!("ignored an export announcement with a malformed key: {key}");
                    return;
                };
                let mut r = lock(&r);
                match s.kind() {
                    SampleKind::Put => r.exports.insert(key.to_owned(), e),
                    SampleKind::Delete => r.exports.remove(key),
                };
            })
            .wait()
            .map_err(z)?;
        let c = Arc::downgrade(&ctx);
        let configs = ctx
            .session
            .declare_queryable(ctx.keys.configs_of(ctx.bridge))
            .callback(move |q| {
                let Some(ctx) = c.upgrade() else { return };
                let key = q.key_expr().as_str().to_owned();
                let text = lock(&ctx.exported_configs).get(&key).cloned();
                match text {
                    Some(t) => drop(q.reply(key, t).wait()),
                    None => drop(q.reply_err("this bridge does not export that service").wait()),
                }
            })
            .wait()
            .map_err(z)?;
        Ok(Self { ctx, remote, _token: token, _bridges: bridges, _exports: exports, _configs: configs })
    }

    /// Runs until the bridge stops; `node` is the bridge's own, held for
    /// as long as it runs.
    pub fn run(self, _node: Node) {
        let ctx = self.ctx.clone();
        let mut exports: HashMap<ServiceKey, (u64, Worker)> = HashMap::new();
        let mut imports: HashMap<ServiceKey, (u64, Worker)> = HashMap::new();
        let mut warned: HashSet<String> = HashSet::new();
        let mut standby_logged = false;
        let mut last_report = Instant::now();
        let mut last_stats = Vec::new();
        while !ctx.stopping() {
            std::thread::sleep(ctx.config.discovery_interval);
            let leader = self.is_leader();
            if !leader {
                if !standby_logged {
                    log::info!("another, older bridge forwards for this host: standing by");
                    standby_logged = true;
                }
                exports.clear();
                imports.clear();
                continue;
            }
            if standby_logged {
                log::info!("no older bridge of this host is left: this one forwards now");
                standby_logged = false;
            }
            let locals = match self.list_local() {
                Ok(l) => l,
                Err(e) => {
                    log::warn!("listing the local services failed: {e}");
                    continue;
                }
            };
            self.update_exports(&locals, &mut exports);
            self.update_imports(&locals, &mut imports, &mut warned);
            exports.retain(|k, (_, w)| {
                let done = w.finished();
                if done {
                    log::warn!("export of {} stopped; retrying", k.1);
                }
                !done
            });
            imports.retain(|k, (_, w)| {
                let done = w.finished();
                if done {
                    log::warn!("import of {} stopped; retrying", k.1);
                }
                !done
            });
            let every = ctx.config.report_interval;
            if !every.is_zero() && last_report.elapsed() >= every {
                last_report = Instant::now();
                let stats = stats_of(&ctx);
                if stats != last_stats {
                    log_stats(&stats);
                    last_stats = stats;
                }
            }
        }
        drop(exports);
        drop(imports);
        log_stats(&stats_of(&ctx));
    }

    /// The oldest live bridge of this host forwards; the others stand by.
    fn is_leader(&self) -> bool {
        let r = lock(&self.remote);
        !r.bridges.iter().any(|&(host, bridge)| host == self.ctx.host && bridge < self.ctx.bridge)
    }

    /// The local services that match the globs, and which of their ports
    /// are bridges'.
    fn list_local(&self) -> Result<BTreeMap<ServiceKey, Local>, String> {
        let ctx = &self.ctx;
        let mut bridge_nodes = HashSet::new();
        Node::list(&ctx.prefix, |n| {
            if n.name().is_some_and(|name| name.as_str() == BRIDGE_NODE_NAME) {
                bridge_nodes.insert(n.id());
            }
            CallbackProgression::Continue
        })
        .map_err(|e| e.to_string())?;
        let mut locals = BTreeMap::new();
        let mut bridge_ports = HashSet::new();
        Service::list(&ctx.prefix, |s| {
            let name = s.name().as_str();
            if !ctx.config.services.iter().any(|g| wire::glob_match(g, name)) {
                return CallbackProgression::Continue;
            }
            let mut senders = 0;
            s.ports(|p| {
                let sending = matches!(p.kind, PortKind::Publisher | PortKind::Server | PortKind::Notifier);
                if bridge_nodes.contains(&p.node_id) {
                    if matches!(p.kind, PortKind::Publisher | PortKind::Client | PortKind::Server) {
                        bridge_ports.insert(p.port_id);
                    }
                } else if sending && p.node_state == NodeState::Alive {
                    senders += 1;
                }
            });
            let config = s.static_config().clone();
            let hash = wire::type_hash(&config);
            locals.insert((config.pattern, name.to_owned()), Local { config, hash, senders });
            CallbackProgression::Continue
        })
        .map_err(|e| e.to_string())?;
        // Ports this bridge made stay in the set even before a listing
        // shows them (a worker adds them as it creates them).
        ctx.bridge_ports.write().unwrap_or_else(|e| e.into_inner()).extend(bridge_ports);
        Ok(locals)
    }

    fn update_exports(&self, locals: &BTreeMap<ServiceKey, Local>, exports: &mut HashMap<ServiceKey, (u64, Worker)>) {
        let ctx = &self.ctx;
        exports.retain(|k, (hash, _)| {
            let keep = locals.get(k).is_some_and(|l| l.senders > 0 && l.hash == *hash);
            if !keep {
                log::info!("{}: no local sender left (or its types changed): export ends", k.1);
            }
            keep
        });
        for (k, l) in locals {
            if l.senders == 0 || exports.contains_key(k) {
                continue;
            }
            let Some(pattern) = MessagingPattern::from_word(k.0) else { continue };
            let worker = match pattern {
                MessagingPattern::PublishSubscribe => pubsub::export(ctx, &l.config, l.hash),
                MessagingPattern::RequestResponse => reqres::export(ctx, &l.config, l.hash),
                MessagingPattern::Event => event::export(ctx, &l.config, l.hash),
                _ => continue,
            };
            let mut worker = match worker {
                Ok(w) => w,
                Err(e) => {
                    log::warn!("{}: export failed: {e}", k.1);
                    continue;
                }
            };
            let config_key = ctx.keys.config(ctx.bridge, pattern, &k.1, l.hash);
            lock(&ctx.exported_configs).insert(config_key.clone(), wire::encode_config(&l.config));
            worker.config_key = Some(config_key);
            let token = ctx.keys.export_token(ctx.host, ctx.bridge, pattern, &k.1, l.hash);
            match ctx.session.liveliness().declare_token(token).wait() {
                Ok(t) => worker.token = Some(t),
                Err(e) => {
                    log::warn!("{}: could not announce the export: {e}", k.1);
                    continue;
                }
            }
            log::info!("{}: exported ({:?}, {})", k.1, pattern, wire::describe_types(&l.config));
            exports.insert(k.clone(), (l.hash, worker));
        }
    }

    fn update_imports(
        &self,
        locals: &BTreeMap<ServiceKey, Local>,
        imports: &mut HashMap<ServiceKey, (u64, Worker)>,
        warned: &mut HashSet<String>,
    ) {
        let ctx = &self.ctx;
        // Remote exports of other hosts, by service, matching our globs.
        let mut wanted: BTreeMap<ServiceKey, Vec<(String, Export)>> = BTreeMap::new();
        {
            let r = lock(&self.remote);
            for (key, e) in &r.exports {
                if e.host == ctx.host || !ctx.config.services.iter().any(|g| wire::glob_match(g, &e.name)) {
                    continue;
                }
                wanted.entry((e.pattern.word(), e.name.clone())).or_default().push((key.clone(), e.clone()));
            }
        }
        warned.retain(|key| wanted.values().flatten().any(|(k, _)| k == key));
        imports.retain(|k, (hash, _)| {
            let keep = wanted.get(k).is_some_and(|v| v.iter().any(|(_, e)| e.hash == *hash))
                && locals.get(k).is_none_or(|l| l.hash == *hash);
            if !keep {
                log::info!("{}: no remote bridge exports it any more: import ends, its ports go", k.1);
            }
            keep
        });
        for (k, mut remotes) in wanted {
            remotes.sort_by(|a, b| a.0.cmp(&b.0));
            // Our types, if the service is here; else the first remote's.
            let hash = match (imports.get(&k), locals.get(&k)) {
                (Some((h, _)), _) => *h,
                (None, Some(l)) => l.hash,
                (None, None) => remotes[0].1.hash,
            };
            for (key, e) in remotes.iter().filter(|(_, e)| e.hash != hash) {
                if warned.insert(key.clone()) {
                    log::warn!(
                        "{}: type mismatch: bridge {:016x} of host {:016x} offers types with hash {:016x}, this host's \
                         service has {:016x}: not bridged (no bytes are exchanged)",
                        e.name,
                        e.bridge,
                        e.host,
                        e.hash,
                        hash
                    );
                }
            }
            if imports.contains_key(&k) {
                continue;
            }
            let Some((_, from)) = remotes.iter().find(|(_, e)| e.hash == hash) else { continue };
            let config = match locals.get(&k) {
                Some(l) => Ok(l.config.clone()),
                None => self.fetch_config(from),
            };
            let config = match config {
                Ok(c) if wire::type_hash(&c) == hash && c.name.as_str() == from.name => c,
                Ok(_) => {
                    log::warn!(
                        "{}: bridge {:016x} answered a configuration that is not the announced one",
                        from.name,
                        from.bridge
                    );
                    continue;
                }
                Err(e) => {
                    log::warn!("{}: no configuration from bridge {:016x}: {e}", from.name, from.bridge);
                    continue;
                }
            };
            let worker = match from.pattern {
                MessagingPattern::PublishSubscribe => pubsub::import(ctx, &config, hash),
                MessagingPattern::RequestResponse => reqres::import(ctx, &config, hash),
                MessagingPattern::Event => event::import(ctx, &config, hash),
                _ => continue,
            };
            match worker {
                Ok(w) => {
                    log::info!(
                        "{}: imported from bridge {:016x} of host {:016x} ({:?}, {})",
                        from.name,
                        from.bridge,
                        from.host,
                        from.pattern,
                        wire::describe_types(&config)
                    );
                    imports.insert(k, (hash, w));
                }
                Err(e) => log::warn!("{}: import failed: {e}", from.name),
            }
        }
    }

    /// Asks the exporting bridge for the service's configuration.
    fn fetch_config(&self, e: &Export) -> Result<StaticConfig, String> {
        let key = self.ctx.keys.config(e.bridge, e.pattern, &e.name, e.hash);
        let replies = self.ctx.session.get(key).timeout(Duration::from_secs(2)).wait().map_err(|e| e.to_string())?;
        let reply = replies.recv().map_err(|_| "no answer".to_owned())?;
        let sample =
            reply.result().map_err(|e| format!("refused: {}", String::from_utf8_lossy(&e.payload().to_bytes())))?;
        let text = String::from_utf8(sample.payload().to_bytes().into_owned()).map_err(|_| "not UTF-8".to_owned())?;
        let config = wire::decode_config(&text).map_err(|e| e.to_string())?;
        ServiceName::new(&e.name).map_err(|e| e.to_string())?;
        Ok(config)
    }
}

/// One log line per service and direction with its counters.
fn log_stats(stats: &[crate::ServiceStats]) {
    for s in stats {
        log::info!(
            "{} {:?} {}: {} forwarded ({} B), {} dropped (queue full), {} refused, {} failed",
            s.name,
            s.pattern,
            s.direction,
            s.forwarded,
            s.bytes,
            s.dropped_overflow,
            s.refused,
            s.failed
        );
    }
}

/// The direction names the log uses.
impl std::fmt::Display for Direction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Direction::Export => "export",
            Direction::Import => "import",
        })
    }
}

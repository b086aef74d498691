//! `service list|details`, `node list|details`, `cleanup`.

use crate::{Format, Result};
use icefloe_linux::icefloe_core::service::StaticConfig;
use icefloe_linux::icefloe_core::zero_copy::{TypeDetail, TypeVariant};
use icefloe_linux::{
    list_nodes, list_services, MessagingPattern, Node, NodeBuilder, NodeInfo, NodeName, NodeState, Prefix, Service,
    ServiceDetails, ServiceName,
};
use serde::Serialize;
use std::collections::BTreeMap;
use std::process::ExitCode;

/// What every command gets.
pub struct Context {
    pub prefix: Prefix,
    pub format: Format,
    pub config: icefloe_linux::config::Loaded,
}

impl Context {
    /// A node for commands that join services (subscribe, notify, cleanup).
    pub fn node(&self) -> Result<Node> {
        Ok(NodeBuilder::new()
            .config(&self.config.config)
            .prefix(self.prefix.as_str())?
            .name(NodeName::new("icefloe-cli")?)
            .create()?)
    }
}

/// A messaging pattern on the command line.
#[derive(Copy, Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Pattern {
    /// Publish-subscribe.
    PublishSubscribe,
    /// Request-response.
    RequestResponse,
    /// Event.
    Event,
}

impl From<Pattern> for MessagingPattern {
    fn from(p: Pattern) -> Self {
        match p {
            Pattern::PublishSubscribe => MessagingPattern::PublishSubscribe,
            Pattern::RequestResponse => MessagingPattern::RequestResponse,
            Pattern::Event => MessagingPattern::Event,
        }
    }
}

const PATTERNS: [MessagingPattern; 3] =
    [MessagingPattern::PublishSubscribe, MessagingPattern::RequestResponse, MessagingPattern::Event];

/// A node id as the CLI prints it.
pub fn hex(id: u64) -> String {
    format!("{id:016x}")
}

fn parse_id(s: &str) -> Result<u64> {
    let t = s.trim_start_matches("0x");
    u64::from_str_radix(t, 16).map_err(|_| format!("{s:?} is not a node id (16 hexadecimal digits)").into())
}

// --- JSON shapes --------------------------------------------------------------

#[derive(Serialize)]
struct TypeJson {
    name: String,
    variant: &'static str,
    size: u32,
    alignment: u32,
}

impl From<&TypeDetail> for TypeJson {
    fn from(t: &TypeDetail) -> Self {
        Self {
            name: t.name.as_str().to_owned(),
            variant: if t.variant == TypeVariant::Slice { "slice" } else { "fixed_size" },
            size: t.size,
            alignment: t.align,
        }
    }
}

#[derive(Serialize)]
struct PortJson {
    #[serde(skip)]
    node_id: u64,
    kind: &'static str,
    id: String,
    node: String,
    node_state: &'static str,
}

#[derive(Serialize)]
struct ServiceNodeJson {
    id: String,
    pid: u32,
    state: &'static str,
    name: Option<String>,
}

#[derive(Serialize)]
struct ServiceJson {
    name: String,
    pattern: &'static str,
    segment: String,
    footprint_bytes: u64,
    ports: BTreeMap<&'static str, u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    types: Option<BTreeMap<&'static str, TypeJson>>,
    qos: BTreeMap<&'static str, serde_json::Value>,
    port_list: Vec<PortJson>,
    nodes: Vec<ServiceNodeJson>,
}

fn qos(c: &StaticConfig, pattern: MessagingPattern) -> BTreeMap<&'static str, serde_json::Value> {
    use serde_json::json;
    let mut q = BTreeMap::new();
    q.insert("max_nodes", json!(c.max_nodes));
    match pattern {
        MessagingPattern::PublishSubscribe => {
            q.insert("max_publishers", json!(c.max_publishers));
            q.insert("max_subscribers", json!(c.max_subscribers));
            q.insert("history_size", json!(c.history_size));
            q.insert("subscriber_max_buffer_size", json!(c.subscriber_max_buffer_size));
            q.insert("subscriber_max_borrowed_samples", json!(c.subscriber_max_borrowed_samples));
            q.insert("enable_safe_overflow", json!(c.enable_safe_overflow));
            q.insert("payload_alignment", json!(c.payload_alignment));
            if c.payload_is_slice() {
                q.insert("max_slice_len", json!(c.max_slice_len));
            }
        }
        MessagingPattern::RequestResponse => {
            q.insert("max_clients", json!(c.max_publishers));
            q.insert("max_servers", json!(c.max_subscribers));
            q.insert("enable_safe_overflow_for_requests", json!(c.enable_safe_overflow));
            q.insert("request_alignment", json!(c.payload_alignment));
            if c.payload_is_slice() {
                q.insert("request_max_slice_len", json!(c.max_slice_len));
            }
            if let Some(r) = &c.response {
                q.insert("max_active_requests_per_client", json!(r.max_active_requests_per_client));
                q.insert("max_loaned_requests", json!(r.max_loaned_requests));
                q.insert("max_response_buffer_size", json!(r.max_response_buffer_size));
                q.insert(
                    "max_borrowed_responses_per_pending_response",
                    json!(r.max_borrowed_responses_per_pending_response),
                );
                q.insert("enable_safe_overflow_for_responses", json!(r.enable_safe_overflow));
                q.insert("enable_fire_and_forget", json!(r.enable_fire_and_forget));
                q.insert("response_alignment", json!(r.payload_alignment));
                if r.payload_is_slice() {
                    q.insert("response_max_slice_len", json!(r.max_slice_len));
                }
            }
        }
        _ => {
            q.insert("max_notifiers", json!(c.max_publishers));
            q.insert("max_listeners", json!(c.max_subscribers));
            if let Some(e) = &c.event {
                q.insert("event_id_max_value", json!(e.event_id_max_value));
                q.insert("notifier_created_event", json!(e.notifier_created_event));
                q.insert("notifier_dropped_event", json!(e.notifier_dropped_event));
                q.insert("notifier_dead_event", json!(e.notifier_dead_event));
                q.insert("deadline_ns", json!(e.deadline_ns));
            }
        }
    }
    q
}

fn types(c: &StaticConfig, pattern: MessagingPattern) -> Option<BTreeMap<&'static str, TypeJson>> {
    let mut t = BTreeMap::new();
    match pattern {
        MessagingPattern::PublishSubscribe => {
            t.insert("payload", TypeJson::from(&c.payload));
            t.insert("user_header", TypeJson::from(&c.user_header));
        }
        MessagingPattern::RequestResponse => {
            t.insert("request", TypeJson::from(&c.payload));
            t.insert("request_user_header", TypeJson::from(&c.user_header));
            if let Some(r) = &c.response {
                t.insert("response", TypeJson::from(&r.payload));
                t.insert("response_user_header", TypeJson::from(&r.user_header));
            }
        }
        _ => return None,
    }
    Some(t)
}

fn node_names(prefix: &Prefix) -> BTreeMap<u64, String> {
    let mut names = BTreeMap::new();
    if let Ok(nodes) = list_nodes(prefix) {
        for n in nodes {
            if let Some(name) = n.name() {
                names.insert(n.id(), name.as_str().to_owned());
            }
        }
    }
    names
}

fn service_json(s: &ServiceDetails, names: &BTreeMap<u64, String>, with_footprint: bool) -> ServiceJson {
    let pattern = s.pattern();
    let (send, receive) = pattern.port_kinds();
    let (n_send, n_receive) = s.port_counts();
    let mut ports = BTreeMap::new();
    ports.insert(plural(send.as_str()), n_send);
    ports.insert(plural(receive.as_str()), n_receive);
    let mut port_list = Vec::new();
    s.ports(|p| {
        port_list.push(PortJson {
            node_id: p.node_id,
            kind: p.kind.as_str(),
            id: hex(p.port_id),
            node: hex(p.node_id),
            node_state: p.node_state.as_str(),
        })
    });
    let mut nodes = Vec::new();
    s.nodes(|n| {
        nodes.push(ServiceNodeJson {
            id: hex(n.id),
            pid: n.liveness.0[0],
            state: n.state.as_str(),
            name: names.get(&n.id).cloned(),
        })
    });
    ServiceJson {
        name: s.name().as_str().to_owned(),
        pattern: pattern.as_str(),
        segment: s.segment_name().as_str().to_owned(),
        footprint_bytes: if with_footprint { s.footprint() } else { 0 },
        ports,
        types: types(s.static_config(), pattern),
        qos: qos(s.static_config(), pattern),
        port_list,
        nodes,
    }
}

fn plural(kind: &'static str) -> &'static str {
    match kind {
        "publisher" => "publishers",
        "subscriber" => "subscribers",
        "client" => "clients",
        "server" => "servers",
        "notifier" => "notifiers",
        _ => "listeners",
    }
}

fn print_json(v: &impl Serialize) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

/// Prints rows as aligned columns under a header.
pub fn print_table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut out = String::new();
        for (i, (c, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                out.push_str(c);
            } else {
                out.push_str(&format!("{c:<w$}  "));
            }
        }
        println!("{}", out.trim_end());
    };
    line(header.to_vec());
    for r in rows {
        line(r.iter().map(String::as_str).collect());
    }
}

fn type_text(t: &TypeDetail) -> String {
    match t.variant {
        TypeVariant::Slice => format!("[{}] (element {} B, align {})", t.name.as_str(), t.size, t.align),
        _ => format!("{} ({} B, align {})", t.name.as_str(), t.size, t.align),
    }
}

// --- commands -------------------------------------------------------------------

pub fn service_list(ctx: &Context) -> Result<ExitCode> {
    let mut services = list_services(&ctx.prefix)?;
    services.sort_by(|a, b| (a.name().as_str(), a.pattern().as_str()).cmp(&(b.name().as_str(), b.pattern().as_str())));
    let names = node_names(&ctx.prefix);
    let all: Vec<ServiceJson> = services.iter().map(|s| service_json(s, &names, false)).collect();
    if ctx.format == Format::Json {
        #[derive(Serialize)]
        struct Entry<'a> {
            name: &'a str,
            pattern: &'a str,
            ports: &'a BTreeMap<&'static str, u32>,
            nodes: usize,
        }
        let list: Vec<Entry> = all
            .iter()
            .map(|s| Entry { name: &s.name, pattern: s.pattern, ports: &s.ports, nodes: s.nodes.len() })
            .collect();
        print_json(&list)?;
        return Ok(ExitCode::SUCCESS);
    }
    if all.is_empty() {
        println!("no services under prefix {}", ctx.prefix.as_str());
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = all
        .iter()
        .map(|s| {
            let ports = s
                .ports
                .iter()
                .map(|(k, v)| if *v == 1 { format!("1 {}", k.trim_end_matches('s')) } else { format!("{v} {k}") })
                .collect::<Vec<_>>()
                .join(", ");
            vec![s.pattern.to_owned(), s.name.clone(), ports, s.nodes.len().to_string()]
        })
        .collect();
    print_table(&["PATTERN", "NAME", "PORTS", "NODES"], &rows);
    Ok(ExitCode::SUCCESS)
}

pub fn service_details(ctx: &Context, name: &str, pattern: Option<Pattern>) -> Result<ExitCode> {
    let service_name = ServiceName::new(name).map_err(|e| format!("{name:?} is not a service name: {e}"))?;
    let patterns: Vec<MessagingPattern> = match pattern {
        Some(p) => vec![p.into()],
        None => PATTERNS.to_vec(),
    };
    let mut found = Vec::new();
    for p in patterns {
        match Service::details(&ctx.prefix, &service_name, p) {
            Ok(Some(s)) => found.push(s),
            Ok(None) => {}
            Err(e) => return Err(format!("service {name:?} ({p}): {e}").into()),
        }
    }
    if found.is_empty() {
        eprintln!("icefloe: no service named {name:?} under prefix {}", ctx.prefix.as_str());
        return Ok(ExitCode::from(2));
    }
    let names = node_names(&ctx.prefix);
    let all: Vec<ServiceJson> = found.iter().map(|s| service_json(s, &names, true)).collect();
    if ctx.format == Format::Json {
        print_json(&all)?;
        return Ok(ExitCode::SUCCESS);
    }
    for (i, (s, j)) in found.iter().zip(&all).enumerate() {
        if i > 0 {
            println!();
        }
        println!("service    {}", j.name);
        println!("pattern    {}", j.pattern);
        println!("segment    {}", j.segment);
        println!("footprint  {} bytes (service segment and every data segment now)", j.footprint_bytes);
        let c = s.static_config();
        match s.pattern() {
            MessagingPattern::PublishSubscribe => {
                println!("payload    {}", type_text(&c.payload));
                println!("header     {}", type_text(&c.user_header));
            }
            MessagingPattern::RequestResponse => {
                println!("request    {}", type_text(&c.payload));
                println!("  header   {}", type_text(&c.user_header));
                if let Some(r) = &c.response {
                    println!("response   {}", type_text(&r.payload));
                    println!("  header   {}", type_text(&r.user_header));
                }
            }
            _ => {}
        }
        println!("qos");
        for (k, v) in &j.qos {
            println!("  {k:<44} {v}");
        }
        println!("ports");
        if j.port_list.is_empty() {
            println!("  (none)");
        }
        for p in &j.port_list {
            let node = names.get(&p.node_id).map(String::as_str).unwrap_or("?");
            println!("  {:<10} {}  node {} {:?} ({})", p.kind, p.id, p.node, node, p.node_state);
        }
        println!("nodes");
        for n in &j.nodes {
            println!("  {}  {:<6} pid {:<8} {:?}", n.id, n.state, n.pid, n.name.as_deref().unwrap_or("?"));
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Serialize)]
struct NodeJson {
    id: String,
    state: &'static str,
    pid: u32,
    name: Option<String>,
    services: Vec<NodeServiceJson>,
}

#[derive(Serialize, Clone)]
struct NodeServiceJson {
    name: String,
    pattern: &'static str,
}

/// Each node id's services.
fn services_by_node(services: &[ServiceDetails]) -> BTreeMap<u64, Vec<NodeServiceJson>> {
    let mut by_node: BTreeMap<u64, Vec<NodeServiceJson>> = BTreeMap::new();
    for s in services {
        s.nodes(|n| {
            by_node
                .entry(n.id)
                .or_default()
                .push(NodeServiceJson { name: s.name().as_str().to_owned(), pattern: s.pattern().as_str() })
        });
    }
    by_node
}

fn node_json(n: &NodeInfo, services: &BTreeMap<u64, Vec<NodeServiceJson>>) -> NodeJson {
    NodeJson {
        id: hex(n.id()),
        state: n.state().as_str(),
        pid: n.liveness().0[0],
        name: n.name().map(|s| s.as_str().to_owned()),
        services: services.get(&n.id()).cloned().unwrap_or_default(),
    }
}

pub fn node_list(ctx: &Context) -> Result<ExitCode> {
    let mut nodes = list_nodes(&ctx.prefix)?;
    nodes.sort_by_key(|n| (n.liveness().0[0], n.id()));
    let services = services_by_node(&list_services(&ctx.prefix)?);
    let all: Vec<NodeJson> = nodes.iter().map(|n| node_json(n, &services)).collect();
    if ctx.format == Format::Json {
        print_json(&all)?;
        return Ok(ExitCode::SUCCESS);
    }
    if all.is_empty() {
        println!("no nodes under prefix {}", ctx.prefix.as_str());
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = all
        .iter()
        .map(|n| {
            vec![
                n.state.to_owned(),
                n.id.clone(),
                n.pid.to_string(),
                format!("{:?}", n.name.as_deref().unwrap_or("?")),
                n.services.len().to_string(),
            ]
        })
        .collect();
    print_table(&["STATE", "ID", "PID", "NAME", "SERVICES"], &rows);
    Ok(ExitCode::SUCCESS)
}

pub fn node_details(ctx: &Context, id: &str) -> Result<ExitCode> {
    let id = parse_id(id)?;
    let Some(n) = Node::details(&ctx.prefix, id) else {
        eprintln!("icefloe: no node {} under prefix {}", hex(id), ctx.prefix.as_str());
        return Ok(ExitCode::from(2));
    };
    let j = node_json(&n, &services_by_node(&list_services(&ctx.prefix)?));
    if ctx.format == Format::Json {
        print_json(&j)?;
        return Ok(ExitCode::SUCCESS);
    }
    println!("node      {}", j.id);
    println!("name      {:?}", j.name.as_deref().unwrap_or("?"));
    println!("state     {}", j.state);
    println!("pid       {}", j.pid);
    println!("services");
    if j.services.is_empty() {
        println!("  (none)");
    }
    for s in &j.services {
        println!("  {:<18} {}", s.pattern, s.name);
    }
    if n.state() == NodeState::Dead {
        println!("(dead: `icefloe cleanup` removes what it left)");
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Serialize)]
struct CleanupJson {
    dry_run: bool,
    dead_nodes: Vec<NodeJson>,
    /// Services whose every node is dead (removed by the cleanup).
    services_removed: Vec<NodeServiceJson>,
    nodes_reclaimed: u32,
    failed: u32,
}

pub fn cleanup(ctx: &Context, dry_run: bool) -> Result<ExitCode> {
    let listed = list_services(&ctx.prefix)?;
    let services = services_by_node(&listed);
    let mut dead: BTreeMap<u64, NodeJson> = BTreeMap::new();
    for n in list_nodes(&ctx.prefix)? {
        if n.state() == NodeState::Dead {
            dead.insert(n.id(), node_json(&n, &services));
        }
    }
    // Dead nodes whose record is gone but whose slots remain.
    let mut doomed = Vec::new();
    for s in &listed {
        let (mut any, mut alive) = (false, false);
        s.nodes(|n| {
            any = true;
            alive |= n.state != NodeState::Dead;
            if n.state == NodeState::Dead {
                dead.entry(n.id).or_insert_with(|| NodeJson {
                    id: hex(n.id),
                    state: n.state.as_str(),
                    pid: n.liveness.0[0],
                    name: None,
                    services: services.get(&n.id).cloned().unwrap_or_default(),
                });
            }
        });
        if any && !alive {
            doomed.push(NodeServiceJson { name: s.name().as_str().to_owned(), pattern: s.pattern().as_str() });
        }
    }
    let mut report = CleanupJson {
        dry_run,
        dead_nodes: dead.into_values().collect(),
        services_removed: doomed,
        nodes_reclaimed: 0,
        failed: 0,
    };
    if !dry_run {
        let node = ctx.node()?;
        let state = node.cleanup_dead_nodes();
        report.nodes_reclaimed = state.cleanups;
        report.failed = state.failed_cleanups;
    }
    if ctx.format == Format::Json {
        print_json(&report)?;
        return Ok(ExitCode::SUCCESS);
    }
    let verb = if dry_run { "would remove" } else { "removed" };
    if report.dead_nodes.is_empty() && report.services_removed.is_empty() {
        println!("nothing to clean up under prefix {}", ctx.prefix.as_str());
    }
    for n in &report.dead_nodes {
        let services = n.services.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", ");
        println!(
            "{verb} dead node {} {:?} (pid {}){}",
            n.id,
            n.name.as_deref().unwrap_or("?"),
            n.pid,
            if services.is_empty() { String::new() } else { format!(": its slots in {services}") }
        );
    }
    for s in &report.services_removed {
        println!("{verb} service {} ({}): no live node uses it", s.name, s.pattern);
    }
    if !dry_run {
        println!("{} node slot(s) reclaimed", report.nodes_reclaimed);
        if report.failed > 0 {
            println!("{} service(s) could not be inspected (corrupt or inaccessible)", report.failed);
        }
    }
    Ok(ExitCode::SUCCESS)
}

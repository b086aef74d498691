//! The `icefloe` binary against services made by this test process and by
//! children of it (one of them killed), read back as JSON and as tables.

#[path = "../../platform-linux/tests/common/mod.rs"]
mod common;

use common::{assert_clean, eventually, node, role, unique_prefix, Peer};
use icefloe_linux::{EventId, MessagingPattern, Service, ServiceName};
use serde_json::Value;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

const WATCHDOG: Duration = Duration::from_secs(30);

fn icefloe(prefix: &str, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_icefloe"));
    c.arg("--prefix").arg(prefix).args(args);
    // No operator file of this machine may change what the tests see.
    c.env("ICEFLOE_CONFIG", "").env("XDG_CONFIG_HOME", "/nonexistent").env_remove("ICEFLOE_PREFIX");
    c
}

fn run(prefix: &str, args: &[&str]) -> Output {
    let out = icefloe(prefix, args).output().expect("run icefloe");
    assert!(
        out.status.success(),
        "icefloe {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn json(prefix: &str, args: &[&str]) -> Value {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    let out = run(prefix, &all);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

fn text(prefix: &str, args: &[&str]) -> String {
    String::from_utf8(run(prefix, args).stdout).unwrap()
}

fn hex(id: u64) -> String {
    format!("{id:016x}")
}

#[test]
fn service_list_and_details_show_every_port_and_its_node() {
    let prefix = unique_prefix();
    let node = icefloe_linux::NodeBuilder::new()
        .prefix(&prefix)
        .unwrap()
        .name(icefloe_linux::NodeName::new("tester").unwrap())
        .create()
        .unwrap();
    let ps =
        node.service_builder(&ServiceName::new("cli/pubsub").unwrap()).publish_subscribe::<u64>().create().unwrap();
    let publisher = ps.publisher_builder().create().unwrap();
    let _subscribers = [ps.subscriber_builder().create().unwrap(), ps.subscriber_builder().create().unwrap()];
    let rr = node
        .service_builder(&ServiceName::new("cli/rr").unwrap())
        .request_response::<[u8], u32>()
        .max_clients(3)
        .create()
        .unwrap();
    let _client = rr.client_builder().create().unwrap();
    let _server = rr.server_builder().create().unwrap();
    let ev = node.service_builder(&ServiceName::new("cli/ev").unwrap()).event().create().unwrap();
    let _listener = ev.listener_builder().create().unwrap();

    let list = json(&prefix, &["service", "list"]);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 3, "{list:?}");
    let entry = |name: &str| list.iter().find(|s| s["name"] == name).unwrap_or_else(|| panic!("{name} listed"));
    assert_eq!(entry("cli/pubsub")["pattern"], "publish_subscribe");
    assert_eq!(entry("cli/pubsub")["ports"]["publishers"], 1);
    assert_eq!(entry("cli/pubsub")["ports"]["subscribers"], 2);
    assert_eq!(entry("cli/rr")["ports"]["clients"], 1);
    assert_eq!(entry("cli/rr")["ports"]["servers"], 1);
    assert_eq!(entry("cli/ev")["ports"]["listeners"], 1);
    assert_eq!(entry("cli/ev")["ports"]["notifiers"], 0);

    let details = json(&prefix, &["service", "details", "cli/pubsub"]);
    let d = &details[0];
    assert_eq!(d["types"]["payload"]["name"], "u64");
    assert_eq!(d["types"]["payload"]["size"], 8);
    assert_eq!(d["types"]["payload"]["variant"], "fixed_size");
    assert_eq!(d["qos"]["max_publishers"], 2);
    let ports = d["port_list"].as_array().unwrap();
    assert_eq!(ports.len(), 3);
    assert!(ports.iter().all(|p| p["node"] == hex(node.id()) && p["node_state"] == "alive"));
    assert!(ports.iter().any(|p| p["kind"] == "publisher" && p["id"] == hex(publisher.id())));
    assert_eq!(d["nodes"][0]["name"], "tester");
    assert_eq!(d["nodes"][0]["pid"], std::process::id());
    assert!(d["footprint_bytes"].as_u64().unwrap() > 0);

    let rr_details = json(&prefix, &["service", "details", "cli/rr", "--pattern", "request-response"]);
    assert_eq!(rr_details[0]["types"]["request"]["variant"], "slice");
    assert_eq!(rr_details[0]["types"]["response"]["name"], "u32");
    assert_eq!(rr_details[0]["qos"]["max_clients"], 3);

    // The table a person reads names the same things.
    let table = text(&prefix, &["service", "details", "cli/pubsub"]);
    assert!(table.contains("publish_subscribe") && table.contains("\"tester\"") && table.contains("u64"), "{table}");
    let table = text(&prefix, &["service", "list"]);
    assert!(table.contains("1 publisher, 2 subscribers"), "{table}");

    drop((publisher, _subscribers, _client, _server, _listener, ps, rr, ev, node));
    assert_clean(&prefix);
}

#[test]
fn a_missing_service_or_node_and_bad_input_are_clear_errors() {
    let prefix = unique_prefix();
    let out = icefloe(&prefix, &["service", "details", "no/such"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no service named \"no/such\""));
    let out = icefloe(&prefix, &["node", "details", "zz"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a node id"));
    let out = icefloe(&prefix, &["node", "details", "0123456789abcdef"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = icefloe("bad-prefix", &["service", "list"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("prefix"));
    let out = icefloe(&prefix, &["subscribe", "no/such", "--count", "1"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no publish-subscribe service named"));
    assert!(text(&prefix, &["service", "list"]).contains("no services"));
    assert_clean(&prefix);
}

#[test]
fn victim() {
    // A child: joins a service, says so, waits to be killed.
    if role().as_deref() != Some("victim") {
        return;
    }
    let prefix = std::env::var("ICEFLOE_TEST_PREFIX").unwrap();
    let node = icefloe_linux::NodeBuilder::new()
        .prefix(&prefix)
        .unwrap()
        .name(icefloe_linux::NodeName::new("victim").unwrap())
        .create()
        .unwrap();
    let service = node
        .service_builder(&ServiceName::new("cli/crash").unwrap())
        .publish_subscribe::<[u8]>()
        .open_or_create()
        .unwrap();
    let publisher = service.publisher_builder().initial_max_slice_len(100).create().unwrap();
    common::say("ready", node.id());
    std::thread::sleep(WATCHDOG);
    drop(publisher);
}

#[test]
fn a_killed_node_shows_as_dead_and_cleanup_removes_it() {
    if role().is_some() {
        return;
    }
    let prefix = unique_prefix();
    let me = node(&prefix);
    let service = me
        .service_builder(&ServiceName::new("cli/crash").unwrap())
        .publish_subscribe::<[u8]>()
        .open_or_create()
        .unwrap();
    let _subscriber = service.subscriber_builder().create().unwrap();
    let mut child = Peer::spawn("victim", "victim", &prefix, &[]);
    let victim_id = child.expect("ready");
    let victim_hex = hex(victim_id.parse().unwrap());
    let nodes = json(&prefix, &["node", "list"]);
    let victim = |nodes: &Value| nodes.as_array().unwrap().iter().find(|n| n["id"] == victim_hex).cloned();
    let v = victim(&nodes).expect("the victim is listed");
    assert_eq!(v["state"], "alive");
    assert_eq!(v["name"], "victim");
    assert_eq!(v["services"][0]["name"], "cli/crash");

    child.kill9();
    child.reap();
    let nodes = json(&prefix, &["node", "list"]);
    assert_eq!(victim(&nodes).expect("a dead node is still listed")["state"], "dead");
    let d = json(&prefix, &["node", "details", &victim_hex]);
    assert_eq!(d["state"], "dead");
    let ports = json(&prefix, &["service", "details", "cli/crash"]);
    assert!(ports[0]["port_list"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["kind"] == "publisher" && p["node_state"] == "dead"));

    // A dry run lists, removes nothing.
    let dry = json(&prefix, &["cleanup", "--dry-run"]);
    assert_eq!(dry["dead_nodes"][0]["id"], victim_hex);
    assert_eq!(dry["dead_nodes"][0]["services"][0]["name"], "cli/crash");
    assert!(dry["services_removed"].as_array().unwrap().is_empty(), "a live subscriber keeps the service");
    assert_eq!(victim(&json(&prefix, &["node", "list"])).unwrap()["state"], "dead");
    let text_dry = text(&prefix, &["cleanup", "--dry-run"]);
    assert!(text_dry.contains(&format!("would remove dead node {victim_hex} \"victim\"")), "{text_dry}");

    let done = json(&prefix, &["cleanup"]);
    assert_eq!(done["nodes_reclaimed"], 1);
    assert!(victim(&json(&prefix, &["node", "list"])).is_none(), "the record went");
    let after = json(&prefix, &["service", "details", "cli/crash"]);
    assert_eq!(after[0]["ports"]["publishers"], 0, "the dead publisher's slot went");
    assert_eq!(after[0]["nodes"].as_array().unwrap().len(), 1, "only this test's node is left");
    assert!(text(&prefix, &["cleanup"]).contains("nothing to clean up"));

    drop((_subscriber, service, me));
    assert_clean(&prefix);
}

#[test]
fn subscribe_prints_each_sample_and_hz_its_rate() {
    let prefix = unique_prefix();
    let node = node(&prefix);
    let name = ServiceName::new("cli/samples").unwrap();
    let service = node.service_builder(&name).publish_subscribe::<[u8]>().create().unwrap();
    let publisher = service.publisher_builder().initial_max_slice_len(8).create().unwrap();
    let mut sub = icefloe(&prefix, &["--format", "json", "subscribe", "cli/samples", "--count", "3"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Send until the command has its three samples: 5 bytes, counting up from n.
    let mut n = 0u8;
    let status = loop {
        if let Some(status) = sub.try_wait().unwrap() {
            break status;
        }
        assert!(n < 250, "the subscriber did not take three samples");
        if service.number_of_subscribers() > 0 {
            n += 1;
            let s = publisher.loan_slice_uninit(5).unwrap().write_from_fn(|i| n.wrapping_add(i as u8));
            s.send().unwrap();
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success());
    let out =
        String::from_utf8(std::io::Read::bytes(sub.stdout.take().unwrap()).map(|b| b.unwrap()).collect()).unwrap();
    let lines: Vec<Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3, "{out}");
    for l in &lines {
        assert_eq!(l["len"], 5);
        assert_eq!(l["origin"], hex(publisher.id()));
        let first = u8::from_str_radix(&l["payload_hex"].as_str().unwrap()[..2], 16).unwrap();
        let want: String = (0..5).map(|i| format!("{:02x}", first.wrapping_add(i))).collect();
        assert_eq!(l["payload_hex"], want, "every byte as sent");
    }

    // hz: a steady publisher (this thread) while the command measures.
    let mut hz = icefloe(&prefix, &["--format", "json", "hz", "cli/samples", "--every", "0.5", "--timeout", "1.2"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + WATCHDOG;
    let status = loop {
        if let Some(status) = hz.try_wait().unwrap() {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "hz did not end");
        let _ = publisher.loan_slice_uninit(1).map(|l| l.write_from_fn(|_| 1).send());
        std::thread::sleep(Duration::from_millis(5));
    };
    assert!(status.success());
    let out = String::from_utf8(std::io::Read::bytes(hz.stdout.take().unwrap()).map(|b| b.unwrap()).collect()).unwrap();
    let out: Vec<Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(out.len() >= 2, "{out:?}");
    assert!(out.iter().any(|l| l["samples"].as_u64().unwrap() > 0 && l["rate_hz"].as_f64().unwrap() > 0.0));
    assert!(out.iter().any(|l| l["interval_median_s"].is_number()));
    drop((publisher, service, node));
    assert_clean(&prefix);
}

fn json_lines(prefix: &str, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    let out = run(prefix, &all);
    String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn listen_prints_the_ids_notify_sends() {
    let prefix = unique_prefix();
    let node = node(&prefix);
    let name = ServiceName::new("cli/events").unwrap();
    let service = node.service_builder(&name).event().create().unwrap();
    let listen = icefloe(&prefix, &["--format", "json", "listen", "cli/events", "--count", "2"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    eventually(WATCHDOG, "the listener", || {
        Service::details(&prefix_of(&prefix), &name, MessagingPattern::Event)
            .unwrap()
            .filter(|d| d.port_counts().1 == 1)
    });
    let sent = json_lines(&prefix, &["notify", "cli/events", "7"]);
    assert_eq!(sent[0]["listeners"], 1);
    // Our own notifier too: the CLI's listener hears any notifier.
    let notifier = service.notifier_builder().create().unwrap();
    notifier.notify_with_custom_event_id(EventId::new(9)).unwrap();
    let out = listen.wait_with_output().unwrap();
    assert!(out.status.success());
    let got: Vec<Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let ids: Vec<u64> = got.iter().map(|l| l["event_id"].as_u64().unwrap()).collect();
    assert_eq!(ids, [7, 9]);
    let out = icefloe(&prefix, &["notify", "cli/events", "70000"]).output().unwrap();
    assert!(!out.status.success(), "an id above event_id_max_value is refused");
    drop((notifier, service, node));
    assert_clean(&prefix);
}

fn prefix_of(p: &str) -> icefloe_linux::Prefix {
    icefloe_linux::Prefix::new(p).unwrap()
}

#[test]
fn the_config_file_sets_the_prefix_and_bad_keys_name_key_and_file() {
    let prefix = unique_prefix();
    let dir = std::env::temp_dir().join(format!("icefloe-cli-{}", &*prefix));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("config.toml");
    std::fs::write(&file, format!("prefix = \"{}\"\n[publish_subscribe]\nmax_publishers = 4\n", &*prefix)).unwrap();
    let node = node(&prefix);
    let _service =
        node.service_builder(&ServiceName::new("cli/config").unwrap()).publish_subscribe::<u8>().create().unwrap();
    let with_file = |args: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_icefloe"));
        c.args(args).env("ICEFLOE_CONFIG", &file).env_remove("ICEFLOE_PREFIX");
        c.output().unwrap()
    };
    // No --prefix: the file's.
    let out = with_file(&["--format", "json", "service", "list"]);
    assert!(out.status.success());
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list[0]["name"], "cli/config");
    let out = with_file(&["--format", "json", "config", "show"]);
    let shown: Value = serde_json::from_slice(&out.stdout).unwrap();
    let value = |k: &str| shown["values"].as_array().unwrap().iter().find(|v| v["key"] == k).unwrap().clone();
    assert_eq!(value("publish_subscribe.max_publishers")["value"], "4");
    assert_eq!(value("publish_subscribe.max_publishers")["source"], file.display().to_string());
    assert_eq!(value("publish_subscribe.max_subscribers")["source"], "default");
    assert_eq!(value("prefix")["value"], format!("{:?}", &*prefix));

    std::fs::write(&file, "[event]\nmax_listener = 3\n").unwrap();
    let out = with_file(&["service", "list"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("event.max_listener") && err.contains(&file.display().to_string()), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
    drop((_service, node));
    assert_clean(&prefix);
}

#[test]
fn completions_are_printed_for_a_shell() {
    let out = Command::new(env!("CARGO_BIN_EXE_icefloe")).args(["completions", "bash"]).output().unwrap();
    assert!(out.status.success());
    let script = String::from_utf8(out.stdout).unwrap();
    assert!(script.contains("icefloe") && script.contains("cleanup") && script.contains("--dry-run"));
}

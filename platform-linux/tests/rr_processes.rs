//! Request-response between separate processes: response streams, several
//! clients and servers, fire-and-forget, `is_connected` after each side's
//! death, and SIGKILLed growing ports cleaned up to nothing.
//!
//! Each test re-runs this binary as child processes: the `child` test below
//! does nothing unless `ICEFLOE_TEST_ROLE` is set.

mod common;

use common::*;
use icefloe_linux::prelude::*;
use std::time::{Duration, Instant};

const WATCHDOG: Duration = Duration::from_secs(60);

fn svc() -> ServiceName {
    ServiceName::new("proc/rr").unwrap()
}

fn fill(_len: usize, salt: u64) -> impl Fn(usize) -> u8 {
    move |i| ((i as u64 + salt) % 251) as u8
}

fn filled(data: &[u8], salt: u64) -> bool {
    let f = fill(data.len(), salt);
    data.iter().enumerate().all(|(i, b)| *b == f(i))
}

/// Serves requests until told to stop (or `N` requests), answering request
/// `v` with `STREAM` responses `v * 10 + k`.
fn serve(server: &Server<u64, u64>, n: Option<usize>, stream: u64) -> usize {
    let mut served = 0;
    let deadline = Instant::now() + WATCHDOG;
    while n.is_none_or(|n| served < n) {
        match server.receive().unwrap() {
            Some(r) => {
                for k in 0..stream {
                    r.send_copy(*r * 10 + k).unwrap();
                }
                served += 1;
            }
            None => {
                if n.is_none() && std::fs::exists(arg("STOP_FILE")).unwrap() {
                    break;
                }
                assert!(Instant::now() < deadline, "watchdog: served {served}");
                std::thread::sleep(Duration::from_micros(100));
            }
        }
    }
    served
}

/// Receives the whole stream of one pending response.
fn collect(pending: &PendingResponse<'_, u64, u64>) -> Vec<u64> {
    let deadline = Instant::now() + WATCHDOG;
    let mut got = Vec::new();
    loop {
        while let Some(r) = pending.receive().unwrap() {
            got.push(*r);
        }
        if !pending.is_connected() && !pending.has_response() {
            return got;
        }
        assert!(Instant::now() < deadline, "watchdog: stream not ended, got {got:?}");
        std::thread::sleep(Duration::from_micros(100));
    }
}

#[test]
fn child() {
    let Some(role) = role() else { return };
    let prefix = arg("ICEFLOE_TEST_PREFIX");
    let node = node(&prefix);
    let open =
        || node.service_builder(&svc()).request_response::<u64, u64>().max_response_buffer_size(4).open().unwrap();
    match role.as_str() {
        "server" => {
            let service = open();
            let server = service.server_builder().create().unwrap();
            say("ready", "");
            let served = serve(&server, None, arg("STREAM").parse().unwrap());
            say("done", served);
        }
        "client" => {
            let service = open();
            let client = service.client_builder().create().unwrap();
            let (n, id): (u64, u64) = (arg("N").parse().unwrap(), arg("ID").parse().unwrap());
            let servers: usize = arg("SERVERS").parse().unwrap();
            eventually(WATCHDOG, "servers to connect", || {
                let p = client.send_copy(u64::MAX / 100).unwrap();
                (p.number_of_server_connections() == servers).then_some(())
            });
            for i in 0..n {
                let v = id * 1000 + i;
                let pending = client.send_copy(v).unwrap();
                assert_eq!(pending.number_of_server_connections(), servers);
                let mut got = collect(&pending);
                got.sort();
                let mut want: Vec<u64> = (0..servers as u64).flat_map(|_| [v * 10, v * 10 + 1]).collect();
                want.sort();
                assert_eq!(got, want, "request {v}: wrong stream");
            }
            say("done", "");
        }
        "fire_and_forget" => {
            let service = open();
            let client = service.client_builder().create().unwrap();
            eventually(WATCHDOG, "the server", || {
                (client.send_copy(99).unwrap().number_of_server_connections() == 1).then_some(())
            });
            for v in 0..3 {
                drop(client.send_copy(v).unwrap());
            }
            say("sent", "");
            listen("exit");
        }
        "hold_pending" => {
            let service = open();
            let client = service.client_builder().create().unwrap();
            let pending = eventually(WATCHDOG, "the server", || {
                let p = client.send_copy(5).unwrap();
                (p.number_of_server_connections() == 1).then_some(p)
            });
            say("sent", "");
            listen("forever");
            drop(pending);
        }
        "hold_request" => {
            let service = open();
            let server = service.server_builder().create().unwrap();
            say("ready", "");
            let request = eventually(WATCHDOG, "a request", || server.receive().unwrap());
            request.send_copy(*request + 1).unwrap();
            say("holding", "");
            listen("forever");
        }
        // Answers requests with slices growing through several segments,
        // then stops mid-stream (holding a loan) to be killed.
        "growing_server" => {
            let service = node.service_builder(&svc()).request_response::<u64, [u8]>().open().unwrap();
            let server = service
                .server_builder()
                .initial_max_slice_len(64)
                .allocation_strategy(AllocationStrategy::PowerOfTwo)
                .create()
                .unwrap();
            say("ready", "");
            let mut len = 64;
            let mut answered = 0;
            while answered < 4 {
                let Some(r) = server.receive().unwrap() else {
                    std::thread::sleep(Duration::from_micros(100));
                    continue;
                };
                r.loan_slice_uninit(len).unwrap().write_from_fn(fill(len, *r)).send().unwrap();
                len *= 4;
                answered += 1;
            }
            let _loan = server.receive();
            say("grown", server.number_of_growths());
            listen("forever");
        }
        other => panic!("unknown role {other}"),
    }
}

fn service(node: &Node) -> RequestResponse<u64, u64> {
    node.service_builder(&svc()).request_response::<u64, u64>().max_response_buffer_size(4).create().unwrap()
}

#[test]
fn a_response_stream_crosses_processes() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let service = service(&node);
        let stop = std::env::temp_dir().join(format!("{prefix}.stop"));
        let stop_arg = ("STOP_FILE", stop.display().to_string());
        let mut server = Peer::spawn("child", "server", &prefix, &[("STREAM", "4".into()), stop_arg]);
        server.expect("ready");
        let client = service.client_builder().create().unwrap();
        for v in 1..=50u64 {
            let pending = eventually(WATCHDOG, "the server", || {
                let p = client.send_copy(v).unwrap();
                (p.number_of_server_connections() == 1).then_some(p)
            });
            assert_eq!(collect(&pending), (0..4).map(|k| v * 10 + k).collect::<Vec<_>>());
        }
        std::fs::write(&stop, "").unwrap();
        assert!(server.expect("done").parse::<usize>().unwrap() >= 50);
        assert!(server.wait(WATCHDOG));
        let _ = std::fs::remove_file(&stop);
    }
    assert_clean(&prefix);
}

#[test]
fn three_clients_two_servers() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let _service = service(&node);
        let stop = std::env::temp_dir().join(format!("{prefix}.stop"));
        let stop_arg = || ("STOP_FILE", stop.display().to_string());
        let mut servers: Vec<Peer> =
            (0..2).map(|_| Peer::spawn("child", "server", &prefix, &[("STREAM", "2".into()), stop_arg()])).collect();
        for s in &mut servers {
            s.expect("ready");
        }
        let mut clients: Vec<Peer> = (0..3)
            .map(|id| {
                let args = [("N", "40".to_string()), ("ID", id.to_string()), ("SERVERS", "2".to_string())];
                Peer::spawn("child", "client", &prefix, &args)
            })
            .collect();
        for c in &mut clients {
            c.expect("done");
        }
        for c in clients {
            assert!(c.wait(WATCHDOG));
        }
        std::fs::write(&stop, "").unwrap();
        for mut s in servers {
            s.expect("done");
            assert!(s.wait(WATCHDOG));
        }
        let _ = std::fs::remove_file(&stop);
    }
    assert_clean(&prefix);
}

#[test]
fn fire_and_forget_requests_reach_the_server_after_the_client_left() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let service = service(&node);
        let server = service.server_builder().create().unwrap();
        let mut client = Peer::spawn("child", "fire_and_forget", &prefix, &[]);
        client.expect("sent");
        // The server connects while the client lives; then the client leaves.
        eventually(WATCHDOG, "the requests to be visible", || server.has_requests().then_some(()));
        client.tell("exit");
        assert!(client.wait(WATCHDOG));
        let mut got = Vec::new();
        while let Some(r) = server.receive().unwrap() {
            assert!(!r.is_connected(), "nobody listens to a fire-and-forget request");
            r.send_copy(0).unwrap();
            got.push(*r);
        }
        got.retain(|v| *v != 99);
        assert_eq!(got, vec![0, 1, 2]);
    }
    assert_clean(&prefix);
}

#[test]
fn a_killed_client_is_seen_by_its_active_request() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let service = service(&node);
        let server = service.server_builder().create().unwrap();
        let mut client = Peer::spawn("child", "hold_pending", &prefix, &[]);
        client.expect("sent");
        let request = eventually(WATCHDOG, "the request", || server.receive().unwrap().filter(|r| **r == 5));
        assert!(request.is_connected());
        client.kill9();
        eventually(WATCHDOG, "the dead client to be cleaned", || {
            (node.cleanup_dead_nodes().cleanups > 0).then_some(())
        });
        client.reap();
        assert!(!request.is_connected());
        for _ in 0..100 {
            request.send_copy(1).unwrap();
        }
        drop(request);
        let stats = server.chunk_stats();
        assert_eq!(stats.free, stats.total, "responses to the dead client came back");
    }
    assert_clean(&prefix);
}

#[test]
fn a_killed_server_is_seen_by_the_pending_response() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let service = service(&node);
        let client = service.client_builder().create().unwrap();
        let mut server = Peer::spawn("child", "hold_request", &prefix, &[]);
        server.expect("ready");
        let pending = eventually(WATCHDOG, "the server", || {
            let p = client.send_copy(41).unwrap();
            (p.number_of_server_connections() == 1).then_some(p)
        });
        server.expect("holding");
        assert!(pending.is_connected());
        server.kill9();
        eventually(WATCHDOG, "the dead server to be cleaned", || {
            (node.cleanup_dead_nodes().cleanups > 0).then_some(())
        });
        server.reap();
        assert!(!pending.is_connected());
        // What it sent before dying is still there to read.
        assert_eq!(*pending.receive().unwrap().unwrap(), 42);
    }
    assert_clean(&prefix);
}

#[test]
fn a_killed_growing_server_leaves_nothing_after_cleanup() {
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        let service = node.service_builder(&svc()).request_response::<u64, [u8]>().create().unwrap();
        let client = service.client_builder().create().unwrap();
        let mut server = Peer::spawn("child", "growing_server", &prefix, &[]);
        server.expect("ready");
        let mut pendings = Vec::new();
        let mut held = Vec::new();
        for v in 0..4u64 {
            let pending = eventually(WATCHDOG, "the server", || {
                let p = client.send_copy(v).unwrap();
                (p.number_of_server_connections() == 1).then_some(p)
            });
            pendings.push((v, pending));
        }
        // Hold the first two responses (older segments, retiring), read the rest.
        for (v, pending) in &pendings {
            let r = eventually(WATCHDOG, "a response", || pending.receive().unwrap());
            assert!(filled(&r, *v));
            if *v < 2 {
                held.push((*v, r));
            }
        }
        assert!(server.expect("grown").parse::<u64>().unwrap() >= 3);
        server.kill9();
        server.reap();
        eventually(WATCHDOG, "the dead server to be cleaned", || {
            (node.cleanup_dead_nodes().cleanups > 0).then_some(())
        });
        for (v, r) in &held {
            assert!(filled(r, *v), "a held response changed after its server died");
        }
        drop(held);
        drop(pendings);
    }
    assert_clean(&prefix);
}

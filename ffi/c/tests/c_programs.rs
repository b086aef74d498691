//! The C API from C: the examples and the error-path program are compiled
//! with the system's `cc` against the static library, then run against
//! Rust peers on the same services.
// Test bookkeeping (unique prefixes): a plain atomic.
#![allow(clippy::disallowed_types)]

use icefloe_linux::{AllocationStrategy, NodeBuilder, ServiceName};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

const WATCHDOG: Duration = Duration::from_secs(60);

fn byte(i: usize, n: u64) -> u8 {
    ((i as u64).wrapping_mul(31).wrapping_add(n.wrapping_mul(7)) & 0xff) as u8
}

/// target/<profile>, where cargo put `libicefloe_c.a` beside this test.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test knows its path");
    exe.parent().and_then(Path::parent).expect("target/<profile>/deps/<test>").to_path_buf()
}

/// Compiles `source` (C) into target/<profile>/c/<name> and returns its path.
fn compile(source: &str, name: &str) -> PathBuf {
    build("cc", &["-std=c11"], source, name)
}

/// Compiles `source` (C++17, over `ffi/cpp/include`) the same way.
fn compile_cpp(source: &str, name: &str) -> PathBuf {
    let cpp_include = concat!(env!("CARGO_MANIFEST_DIR"), "/../cpp/include");
    build("c++", &["-std=c++17", "-I", cpp_include], source, name)
}

fn build(compiler: &str, flags: &[&str], source: &str, name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out_dir = profile_dir().join("c");
    std::fs::create_dir_all(&out_dir).unwrap();
    let out = out_dir.join(name);
    let lib = profile_dir().join("libicefloe_c.a");
    assert!(
        lib.exists(),
        "{} is missing: `cargo test` builds the crate as an rlib only; run `cargo build -p icefloe-c` first (ci/test does)",
        lib.display()
    );
    let status = Command::new(compiler)
        .args(flags)
        .args(["-Wall", "-Wextra", "-Werror", "-O1", "-I"])
        .arg(dir.join("include"))
        .arg(dir.join(source))
        .arg(&lib)
        .args(["-lpthread", "-ldl", "-lm", "-lrt", "-o"])
        .arg(&out)
        .status()
        .unwrap_or_else(|e| panic!("{compiler} runs (Debian: gcc, g++): {e}"));
    assert!(status.success(), "{source} does not compile");
    out
}

fn prefix() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!("c{}_{}_", std::process::id() % 100_000, N.fetch_add(1, Ordering::Relaxed))
}

fn shm_left(prefix: &str) -> Vec<String> {
    std::fs::read_dir("/dev/shm")
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(prefix))
                .collect()
        })
        .unwrap_or_default()
}

fn service(node: &icefloe_linux::Node, name: &ServiceName) -> icefloe_linux::PublishSubscribe<[u8], u64> {
    node.service_builder(name)
        .publish_subscribe::<[u8]>()
        .user_header::<u64>()
        .max_slice_len(1 << 20)
        .subscriber_max_buffer_size(8)
        .open_or_create()
        .expect("the Rust side opens what the C side describes")
}

/// A Rust publisher sends slices from 8 B to 1 MiB to the subscriber
/// program `exe` (C or C++), which checks every byte and says so.
fn rust_publisher_to(exe: &Path, service_name: &str) {
    let p = prefix();
    let name = ServiceName::new(service_name).unwrap();
    let node = NodeBuilder::new().prefix(&p).unwrap().create().unwrap();
    let s = service(&node, &name);
    let publisher = s.publisher_builder().allocation_strategy(AllocationStrategy::PowerOfTwo).create().unwrap();
    let sizes = [8usize, 100, 4096, 65_536, 500_000, 1 << 20];
    let child = Command::new(exe)
        .args([p.as_str(), name.as_str(), &sizes.len().to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the subscriber, then send each size once.
    let deadline = Instant::now() + WATCHDOG;
    while s.number_of_subscribers() == 0 {
        assert!(Instant::now() < deadline, "the subscriber program never came");
        std::thread::sleep(Duration::from_millis(10));
    }
    for (k, &len) in sizes.iter().enumerate() {
        let n = k as u64 + 1;
        let mut loan = publisher.loan_slice_uninit(len).unwrap();
        *loan.user_header_mut() = n;
        assert_eq!(loan.write_from_fn(|i| byte(i, n)).send().unwrap(), 1);
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "the subscriber program failed: {text}");
    for (k, &len) in sizes.iter().enumerate() {
        assert!(text.contains(&format!("sample {} of {len} bytes ok", k + 1)), "{text}");
    }
    drop((publisher, s, node));
    assert_eq!(shm_left(&p), Vec::<String>::new());
}

#[test]
fn a_rust_publisher_reaches_a_c_subscriber_with_every_byte_up_to_1_mib() {
    rust_publisher_to(&compile("examples/subscriber.c", "subscriber"), "c/rust-to-c");
}

#[test]
fn a_c_publisher_reaches_a_rust_subscriber_with_every_byte_up_to_1_mib() {
    let exe = compile("examples/publisher.c", "publisher");
    let p = prefix();
    let name = ServiceName::new("c/c-to-rust").unwrap();
    let node = NodeBuilder::new().prefix(&p).unwrap().create().unwrap();
    let subscriber = service(&node, &name).subscriber_builder().create().unwrap();
    let child = Command::new(&exe).args([p.as_str(), name.as_str(), "6"]).stdout(Stdio::piped()).spawn().unwrap();
    let mut got = Vec::new();
    let deadline = Instant::now() + WATCHDOG;
    while got.len() < 6 && Instant::now() < deadline {
        let Some(s) = subscriber.timed_receive(Duration::from_millis(100)).unwrap() else { continue };
        let n = *s.user_header();
        if n == 0 {
            continue; // the C side's probes
        }
        let bad = s.payload().iter().enumerate().find(|&(i, &v)| v != byte(i, n));
        assert_eq!(bad, None, "sample {n}: first wrong byte");
        got.push(s.len());
    }
    assert_eq!(got, [8, 100, 4096, 65_536, 500_000, 1 << 20]);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "the C publisher failed: {}", String::from_utf8_lossy(&out.stdout));
    drop((subscriber, node));
    assert_eq!(shm_left(&p), Vec::<String>::new());
}

#[test]
fn every_reachable_error_path_returns_its_code() {
    let exe = compile("tests/c/errors.c", "errors");
    let p = prefix();
    let out = Command::new(&exe).arg(&p).output().unwrap();
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(shm_left(&p), Vec::<String>::new(), "the C program cleaned up after itself");
}

#[test]
fn every_code_has_its_own_sentence() {
    use icefloe_c::icefloe_error;
    let mut seen = std::collections::HashSet::new();
    for &e in icefloe_error::ALL {
        // SAFETY: the function returns a static NUL-terminated string.
        let s = unsafe { std::ffi::CStr::from_ptr(icefloe_c::icefloe_error_string(e as i32)) }.to_str().unwrap();
        assert!(!s.is_empty());
        assert!(seen.insert(s.to_owned()), "{e:?} shares its sentence {s:?}");
    }
    assert!(icefloe_error::ALL.len() > 70, "one code per Rust error variant");
}

#[test]
fn a_rust_publisher_reaches_a_cpp_subscriber_with_every_byte_up_to_1_mib() {
    rust_publisher_to(&compile_cpp("../cpp/examples/subscriber.cpp", "cpp_subscriber"), "cpp/rust-to-cpp");
}

/// The Rust side of the C++ struct.
#[derive(Debug, Clone, Copy, PartialEq, icefloe_linux::ZeroCopySend)]
#[repr(C)]
struct Pose {
    x: f64,
    y: f64,
    id: u32,
}

#[test]
fn a_cpp_struct_reaches_a_rust_struct_of_the_same_layout_and_name() {
    let exe = compile_cpp("../cpp/examples/pose_publisher.cpp", "cpp_pose_publisher");
    let p = prefix();
    let name = ServiceName::new("cpp/pose").unwrap();
    let node = NodeBuilder::new().prefix(&p).unwrap().create().unwrap();
    let s = node
        .service_builder(&name)
        .publish_subscribe::<Pose>()
        .subscriber_max_buffer_size(16)
        .open_or_create()
        .unwrap();
    let subscriber = s.subscriber_builder().create().unwrap();
    let child = Command::new(&exe).args([p.as_str(), name.as_str(), "10"]).stdout(Stdio::piped()).spawn().unwrap();
    let mut got = Vec::new();
    let deadline = Instant::now() + WATCHDOG;
    while got.len() < 10 && Instant::now() < deadline {
        if let Some(pose) = subscriber.timed_receive(Duration::from_millis(100)).unwrap() {
            if pose.id != 0 {
                got.push(*pose);
            }
        }
    }
    let want: Vec<Pose> = (1..=10).map(|k| Pose { x: 1.5 * k as f64, y: -2.0 * k as f64, id: k }).collect();
    assert_eq!(got, want);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "the C++ publisher failed: {}", String::from_utf8_lossy(&out.stdout));
    drop((subscriber, s, node));
    assert_eq!(shm_left(&p), Vec::<String>::new());
}

fn rr_len_of(n: u64) -> usize {
    n.saturating_mul(n).min(1_000_000) as usize
}

fn rr_byte(i: usize, n: u64) -> u8 {
    ((i as u64 + n) % 255) as u8
}

fn rr_well_formed(data: &[u8]) -> bool {
    data.first().is_none_or(|&f| data.iter().enumerate().all(|(i, &b)| b == rr_byte(i, u64::from(f))))
}

const RR_SERVICE: &str = "examples/dynamic_request_response";

/// A Rust server answers the flagship client `exe` (C or C++) twice per
/// request: as long as the request, and 10 bytes.
fn rust_server_for(exe: &Path) {
    let p = prefix();
    let node = NodeBuilder::new().prefix(&p).unwrap().create().unwrap();
    let name = ServiceName::new(RR_SERVICE).unwrap();
    let service = node.service_builder(&name).request_response::<[u8], [u8]>().open_or_create().unwrap();
    let server = service.server_builder().allocation_strategy(AllocationStrategy::PowerOfTwo).create().unwrap();
    let mut child = Command::new(exe).args([p.as_str(), "20", "50"]).stdout(Stdio::piped()).spawn().unwrap();
    // Two responses per request: as long as the request, and 10 bytes.
    let deadline = Instant::now() + WATCHDOG;
    let mut lens = Vec::new();
    while lens.len() < 20 {
        assert!(Instant::now() < deadline, "the client program sent {} of 20 requests", lens.len());
        let Some(request) = server.timed_receive(Duration::from_millis(100)).unwrap() else { continue };
        assert!(rr_well_formed(&request), "request of {} bytes", request.len());
        let n = u64::from(request[0]);
        for len in [request.len(), 10] {
            request.loan_slice_uninit(len).unwrap().write_from_fn(|i| rr_byte(i, n)).send().unwrap();
        }
        lens.push(request.len());
    }
    let want: Vec<usize> = (1..=20).map(|k| rr_len_of(k * 50)).collect();
    assert_eq!(lens, want, "requests growing to 1,000,000 bytes");
    let status = child.wait().unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut text).unwrap();
    assert!(status.success(), "the client program failed: {text}");
    assert!(text.contains("client: done, 40 response(s)"), "{text}");
    drop((server, service, node));
    assert_eq!(shm_left(&p), Vec::<String>::new());
}

/// A Rust client sends requests growing to 1,000,000 bytes to the flagship
/// server `exe` (C or C++) and checks every response.
fn rust_client_for(exe: &Path) {
    let p = prefix();
    let child = Command::new(exe).args([p.as_str(), "20", "50"]).stdout(Stdio::piped()).spawn().unwrap();
    let node = NodeBuilder::new().prefix(&p).unwrap().create().unwrap();
    let name = ServiceName::new(RR_SERVICE).unwrap();
    let service = node.service_builder(&name).request_response::<[u8], [u8]>().open_or_create().unwrap();
    let client = service.client_builder().allocation_strategy(AllocationStrategy::PowerOfTwo).create().unwrap();
    let deadline = Instant::now() + WATCHDOG;
    while service.number_of_servers() == 0 {
        assert!(Instant::now() < deadline, "the server program never came");
        std::thread::sleep(Duration::from_millis(10));
    }
    for k in 1..=20u64 {
        let n = k * 50;
        let pending = client.loan_slice_uninit(rr_len_of(n)).unwrap().write_from_fn(|i| rr_byte(i, n)).send().unwrap();
        let mut got = Vec::new();
        while pending.is_connected() || pending.has_response() {
            assert!(Instant::now() < deadline, "request {k}: the stream never ended");
            if let Some(r) = pending.timed_receive(Duration::from_millis(100)).unwrap() {
                assert!(rr_well_formed(&r), "response of {} bytes", r.len());
                got.push(r.len());
            }
        }
        assert_eq!(got, [rr_len_of(n)], "request {k}: one response of the C server's m-th size");
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "the server program failed: {}", String::from_utf8_lossy(&out.stdout));
    drop((client, service, node));
    assert_eq!(shm_left(&p), Vec::<String>::new());
}

#[test]
fn events_cross_between_c_and_rust_both_ways() {
    let (listener_exe, notifier_exe) = (
        compile("examples/event_listener.c", "event_listener"),
        compile("examples/event_notifier.c", "event_notifier"),
    );
    let p = prefix();
    let name = ServiceName::new("c/events").unwrap();
    let node = NodeBuilder::new().prefix(&p).unwrap().create().unwrap();
    let event = node.service_builder(&name).event().open_or_create().unwrap();
    // C notifier to a Rust listener.
    let listener = event.listener_builder().create().unwrap();
    let child = Command::new(&notifier_exe).args([p.as_str(), name.as_str(), "1", "7", "42"]).spawn().unwrap();
    let mut ids = Vec::new();
    let deadline = Instant::now() + WATCHDOG;
    while ids.len() < 3 && Instant::now() < deadline {
        listener.timed_wait(Duration::from_millis(100), |e| ids.push(e.id.as_value())).unwrap();
    }
    assert_eq!(ids, [1, 7, 42]);
    assert!(child.wait_with_output().unwrap().status.success(), "the C notifier failed");
    drop(listener);
    // A Rust notifier to a C listener.
    let notifier = event.notifier_builder().create().unwrap();
    let child =
        Command::new(&listener_exe).args([p.as_str(), name.as_str(), "3"]).stdout(Stdio::piped()).spawn().unwrap();
    while event.number_of_listeners() == 0 {
        assert!(Instant::now() < deadline, "the C listener never came");
        std::thread::sleep(Duration::from_millis(10));
    }
    for id in [3u32, 5, 200] {
        notifier.notify_with_custom_event_id(icefloe_linux::EventId::new(id)).unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "the C listener failed: {text}");
    for id in [3, 5, 200] {
        assert!(text.contains(&format!("event id {id} (1 notification(s))")), "{text}");
    }
    drop((notifier, event, node));
    assert_eq!(shm_left(&p), Vec::<String>::new());
}

#[test]
fn the_c_flagship_client_talks_to_a_rust_server_up_to_1_mb() {
    rust_server_for(&compile("examples/request_response_client.c", "rr_client"));
}

#[test]
fn a_rust_client_talks_to_the_c_flagship_server_up_to_1_mb() {
    rust_client_for(&compile("examples/request_response_server.c", "rr_server"));
}

#[test]
fn the_cpp_flagship_client_talks_to_a_rust_server_up_to_1_mb() {
    rust_server_for(&compile_cpp("../cpp/examples/request_response_client.cpp", "cpp_rr_client"));
}

#[test]
fn a_rust_client_talks_to_the_cpp_flagship_server_up_to_1_mb() {
    rust_client_for(&compile_cpp("../cpp/examples/request_response_server.cpp", "cpp_rr_server"));
}

#[test]
fn a_rust_notifier_wakes_a_cpp_listener() {
    let exe = compile_cpp("../cpp/examples/event_listener.cpp", "cpp_event_listener");
    let p = prefix();
    let name = ServiceName::new("cpp/events").unwrap();
    let node = NodeBuilder::new().prefix(&p).unwrap().create().unwrap();
    let event = node.service_builder(&name).event().open_or_create().unwrap();
    let notifier = event.notifier_builder().create().unwrap();
    let child = Command::new(&exe).args([p.as_str(), name.as_str(), "3"]).stdout(Stdio::piped()).spawn().unwrap();
    let deadline = Instant::now() + WATCHDOG;
    while event.number_of_listeners() == 0 {
        assert!(Instant::now() < deadline, "the C++ listener never came");
        std::thread::sleep(Duration::from_millis(10));
    }
    for id in [9u32, 10, 255] {
        notifier.notify_with_custom_event_id(icefloe_linux::EventId::new(id)).unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "the C++ listener failed: {text}");
    for id in [9, 10, 255] {
        assert!(text.contains(&format!("event id {id} (1 notification(s))")), "{text}");
    }
    drop((notifier, event, node));
    assert_eq!(shm_left(&p), Vec::<String>::new());
}

#[test]
fn a_cmake_project_builds_against_icefloe_by_add_subdirectory() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let build = profile_dir().join("cmake-user");
    let lib = profile_dir().join("libicefloe_c.a");
    let configure = Command::new("cmake")
        .arg("-S")
        .arg(dir.join("tests/cmake"))
        .arg("-B")
        .arg(&build)
        .arg(format!("-DICEFLOE_LIBRARY={}", lib.display()))
        .output()
        .expect("cmake runs (ci/test installs Debian's cmake)");
    assert!(configure.status.success(), "configure: {}", String::from_utf8_lossy(&configure.stderr));
    let built = Command::new("cmake").arg("--build").arg(&build).output().unwrap();
    assert!(
        built.status.success(),
        "build: {}{}",
        String::from_utf8_lossy(&built.stdout),
        String::from_utf8_lossy(&built.stderr)
    );
    // What CMake built works like what cc built.
    rust_publisher_to(&build.join("subscriber"), "cmake/c");
    rust_publisher_to(&build.join("cpp_subscriber"), "cmake/cpp");
}

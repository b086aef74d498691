//! Shared-memory objects and bytes each system creates for the same
//! setups: publish-subscribe 1 → 1 with defaults (one `u64` sample sent and
//! received), and the flagship request-response with 1 MB requests and
//! responses (one of each sent and received). Bytes: the objects' sizes,
//! and what tmpfs actually holds (pages touched).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::os::unix::fs::MetadataExt;

type Snapshot = BTreeMap<String, (u64, u64)>;

fn snapshot() -> Snapshot {
    std::fs::read_dir("/dev/shm")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let m = e.metadata().ok()?;
            Some((e.file_name().to_string_lossy().into_owned(), (m.len(), m.blocks() * 512)))
        })
        .collect()
}

/// (objects, bytes, bytes resident) created between two snapshots.
fn created(before: &Snapshot, after: &Snapshot) -> (usize, u64, u64) {
    let new: Vec<_> = after.iter().filter(|(k, _)| !before.contains_key(*k)).map(|(_, v)| *v).collect();
    (new.len(), new.iter().map(|v| v.0).sum(), new.iter().map(|v| v.1).sum())
}

const MB: usize = 1_000_000;

fn icefloe_pubsub(tag: &str) {
    use icefloe_linux::prelude::*;
    let node = NodeBuilder::new().prefix(&format!("f{tag}_")).expect("prefix").create().expect("node");
    let service = node
        .service_builder(&ServiceName::new("footprint/pubsub").expect("name"))
        .publish_subscribe::<u64>()
        .create()
        .expect("service");
    let publisher = service.publisher_builder().create().expect("publisher");
    let subscriber = service.subscriber_builder().create().expect("subscriber");
    publisher.send_copy(7).expect("send");
    let _ = subscriber.receive().expect("receive");
    measure_now();
}

fn icefloe_flagship(tag: &str) {
    use icefloe_linux::prelude::*;
    let node = NodeBuilder::new().prefix(&format!("f{tag}_")).expect("prefix").create().expect("node");
    let service = node
        .service_builder(&ServiceName::new("footprint/flagship").expect("name"))
        .request_response::<[u8], [u8]>()
        .create()
        .expect("service");
    let client = service.client_builder().initial_max_slice_len(MB as u32).create().expect("client");
    let server = service.server_builder().initial_max_slice_len(MB as u32).create().expect("server");
    let pending = client.loan_slice_uninit(MB).expect("loan").write_from_fn(|i| i as u8).send().expect("send");
    let request = server.receive().expect("receive").expect("request");
    request.loan_slice_uninit(MB).expect("loan").write_from_fn(|i| i as u8).send().expect("respond");
    drop(request);
    let _ = pending.receive().expect("response");
    measure_now();
}

fn iox_pubsub(tag: &str) {
    use iceoryx2::prelude::*;
    let node = NodeBuilder::new().create::<ipc::Service>().expect("node");
    let name = format!("footprint/{tag}/pubsub");
    let service = node
        .service_builder(&name.as_str().try_into().expect("name"))
        .publish_subscribe::<u64>()
        .create()
        .expect("service");
    let publisher = service.publisher_builder().create().expect("publisher");
    let subscriber = service.subscriber_builder().create().expect("subscriber");
    publisher.send_copy(7).expect("send");
    let _ = subscriber.receive().expect("receive");
    measure_now();
}

fn iox_flagship(tag: &str) {
    use iceoryx2::prelude::*;
    let node = NodeBuilder::new().create::<ipc::Service>().expect("node");
    let name = format!("footprint/{tag}/flagship");
    let service = node
        .service_builder(&name.as_str().try_into().expect("name"))
        .request_response::<[u8], [u8]>()
        .create()
        .expect("service");
    let client = service.client_builder().initial_max_slice_len(MB).create().expect("client");
    let server = service.server_builder().initial_max_slice_len(MB).create().expect("server");
    let pending = client.loan_slice_uninit(MB).expect("loan").write_from_fn(|i| i as u8).send().expect("send");
    let request = server.receive().expect("receive").expect("request");
    request.loan_slice_uninit(MB).expect("loan").write_from_fn(|i| i as u8).send().expect("respond");
    drop(request);
    let _ = pending.receive().expect("response");
    measure_now();
}

thread_local! {
    static AT_PEAK: std::cell::RefCell<Snapshot> = const { std::cell::RefCell::new(BTreeMap::new()) };
}

/// Takes the snapshot while everything of the setup still exists.
fn measure_now() {
    AT_PEAK.with(|s| *s.borrow_mut() = snapshot());
}

fn measure(setup: impl FnOnce()) -> (usize, u64, u64) {
    let before = snapshot();
    setup();
    let peak = AT_PEAK.with(|s| std::mem::take(&mut *s.borrow_mut()));
    created(&before, &peak)
}

fn kib(b: u64) -> String {
    format!("{:.0} KiB", b as f64 / 1024.0)
}

/// The markdown section.
pub fn report() -> String {
    let tag = std::process::id() % 100_000;
    let rows = [
        (
            "publish-subscribe 1 → 1, defaults, `u64`",
            measure(|| icefloe_pubsub(&tag.to_string())),
            measure(|| iox_pubsub(&tag.to_string())),
        ),
        (
            "request-response `[u8]`, 1 MB request and response",
            measure(|| icefloe_flagship(&tag.to_string())),
            measure(|| iox_flagship(&tag.to_string())),
        ),
    ];
    let mut s = String::new();
    let _ = writeln!(s, "\nShared memory while set up (objects in /dev/shm; bytes: size / resident):\n");
    let _ = writeln!(s, "| setup | icefloe | iceoryx2 |");
    let _ = writeln!(s, "|---|---|---|");
    for (name, a, b) in rows {
        let _ = writeln!(
            s,
            "| {name} | {} objects, {} / {} | {} objects, {} / {} |",
            a.0,
            kib(a.1),
            kib(a.2),
            b.0,
            kib(b.1),
            kib(b.2)
        );
    }
    s
}

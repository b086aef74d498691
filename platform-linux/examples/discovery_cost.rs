//! What node records and discovery cost, side by side in one run (the
//! machine's speed drifts, so compare within a run):
//!
//! ```sh
//! cargo run --release -p icefloe-linux --example discovery_cost
//! ```
//!
//! - node create + drop (which writes and removes the node's record),
//!   against the floor: creating, mapping and removing a bare segment of
//!   the record's size;
//! - `Service::list` and `Node::list` over 10 services and 10 nodes.
//!
//! Each figure is the median of 9 batches (per operation), with the range.

use icefloe_linux::icefloe_core::platform::{Permissions, Platform};
use icefloe_linux::{CallbackProgression, Linux, Node, NodeBuilder, Prefix, Service, ServiceName};
use std::hint::black_box;
use std::time::Instant;

const BATCHES: usize = 9;

fn measure(per_batch: usize, mut f: impl FnMut()) -> (f64, f64, f64) {
    let mut t: Vec<f64> = (0..BATCHES)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..per_batch {
                f();
            }
            start.elapsed().as_secs_f64() * 1e6 / per_batch as f64
        })
        .collect();
    t.sort_by(f64::total_cmp);
    (t[BATCHES / 2], t[0], t[BATCHES - 1])
}

fn report(what: &str, (median, low, high): (f64, f64, f64)) {
    println!("{what:<44} {median:>8.2} µs  ({low:.2}–{high:.2})");
}

fn main() {
    let prefix = format!("dc{}_", std::process::id() % 100_000);
    let p = Prefix::new(&prefix).unwrap();
    let node = || NodeBuilder::new().prefix(&prefix).unwrap().create().unwrap();
    report("node create + drop (with its record)", measure(500, || drop(black_box(node()))));
    let name = format!("{prefix}floor");
    report(
        "floor: 204-byte segment create + unlink",
        measure(500, || {
            let shm = Linux::shm_create(&name, 204, Permissions::OwnerOnly).unwrap();
            drop(black_box(shm));
            Linux::shm_unlink(&name).unwrap();
        }),
    );
    let owner = node();
    let services: Vec<_> = (0..10)
        .map(|i| {
            owner
                .service_builder(&ServiceName::new(&format!("cost/{i}")).unwrap())
                .publish_subscribe::<u64>()
                .create()
                .unwrap()
        })
        .collect();
    let nodes: Vec<Node> = (0..9).map(|_| node()).collect();
    report(
        "Service::list, 10 services",
        measure(50, || {
            let mut n = 0;
            Service::list(&p, |_| {
                n += 1;
                CallbackProgression::Continue
            })
            .unwrap();
            assert_eq!(n, 10);
        }),
    );
    report(
        "Node::list, 10 nodes",
        measure(50, || {
            let mut n = 0;
            Node::list(&p, |_| {
                n += 1;
                CallbackProgression::Continue
            })
            .unwrap();
            assert_eq!(n, 10);
        }),
    );
    drop((services, nodes, owner));
}

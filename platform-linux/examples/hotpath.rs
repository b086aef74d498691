//! The hot path's calls, each behind its own non-inlined function, for
//! counting instructions per call with callgrind (which counts the same on
//! a noisy machine):
//!
//! ```sh
//! cargo build --release -p icefloe-linux --example hotpath
//! valgrind --tool=callgrind --callgrind-out-file=/tmp/hotpath.out target/release/examples/hotpath 10000
//! callgrind_annotate --inclusive=yes /tmp/hotpath.out | grep hotpath::
//! ```
//!
//! Divide each function's inclusive count by the iterations (10,000): one
//! process, steady state, publish-subscribe `[u8]` 8 B and request-response
//! `u64`.

use icefloe_linux::prelude::*;
use std::hint::black_box;

#[inline(never)]
fn pubsub_loan(p: &Publisher<[u8]>) -> SampleMutUninit<'_, [u8]> {
    p.loan_slice_uninit(8).unwrap()
}

#[inline(never)]
fn pubsub_send(s: SampleMut<'_, [u8]>) -> usize {
    s.send().unwrap()
}

#[inline(never)]
fn pubsub_receive(s: &Subscriber<[u8]>) -> Option<Sample<'_, [u8]>> {
    s.receive().unwrap()
}

#[inline(never)]
fn pubsub_drop(s: Sample<'_, [u8]>) {
    drop(s)
}

#[inline(never)]
fn pubsub_receive_nothing(s: &Subscriber<[u8]>) -> bool {
    s.receive().unwrap().is_none()
}

#[inline(never)]
fn rr_client_send(c: &Client<u64, u64>, v: u64) -> PendingResponse<'_, u64, u64> {
    c.send_copy(v).unwrap()
}

#[inline(never)]
fn rr_server_receive(s: &Server<u64, u64>) -> Option<ActiveRequest<'_, u64, u64>> {
    s.receive().unwrap()
}

#[inline(never)]
fn rr_respond(r: &ActiveRequest<'_, u64, u64>, v: u64) {
    r.send_copy(v).unwrap()
}

#[inline(never)]
fn rr_drop_request(r: ActiveRequest<'_, u64, u64>) {
    drop(r)
}

#[inline(never)]
fn rr_pending_receive(p: &PendingResponse<'_, u64, u64>) -> u64 {
    *p.receive().unwrap().expect("a response")
}

#[inline(never)]
fn rr_drop_pending(p: PendingResponse<'_, u64, u64>) {
    drop(p)
}

fn main() {
    let n: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let prefix = format!("hp{}_", std::process::id() % 100_000);
    let node = NodeBuilder::new().prefix(&prefix).unwrap().create().unwrap();
    let pubsub = node
        .service_builder(&ServiceName::new("hotpath/pubsub").unwrap())
        .publish_subscribe::<[u8]>()
        .create()
        .unwrap();
    let publisher = pubsub.publisher_builder().initial_max_slice_len(8).create().unwrap();
    let subscriber = pubsub.subscriber_builder().create().unwrap();
    let rr =
        node.service_builder(&ServiceName::new("hotpath/rr").unwrap()).request_response::<u64, u64>().create().unwrap();
    let client = rr.client_builder().create().unwrap();
    let server = rr.server_builder().create().unwrap();
    let mut sum = 0u64;
    for i in 0..n {
        let loan = pubsub_loan(&publisher);
        let sample = loan.write_from_fn(|k| (i as u8).wrapping_add(k as u8));
        sum += pubsub_send(sample) as u64;
        let got = pubsub_receive(&subscriber).expect("a sample");
        sum += u64::from(got[0]);
        pubsub_drop(got);
        sum += u64::from(pubsub_receive_nothing(&subscriber));

        let pending = rr_client_send(&client, i);
        let request = rr_server_receive(&server).expect("a request");
        rr_respond(&request, *request + 1);
        rr_drop_request(request);
        sum += rr_pending_receive(&pending);
        rr_drop_pending(pending);
    }
    black_box(sum);
    println!("{n} iterations");
}

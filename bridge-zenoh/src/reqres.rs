//! Request-response across the bridge. Export (local servers, remote
//! clients): a Zenoh queryable whose queries a local client sends as
//! requests; every response goes back as one reply, and the query ends when
//! the response stream does. Import (remote servers, local clients): a
//! local server whose requests go out as Zenoh queries, consolidation off,
//! every reply sent back as one response; the stream ends with the query.

use crate::pubsub::{join, split};
use crate::wire::Attachment;
use crate::{Ctx, Direction, Worker, IDLE_WAIT};
use icefloe_linux::icefloe_core::shm::service::StaticConfig;
use icefloe_linux::icefloe_core::Opaque;
use icefloe_linux::icefloe_core::TypeVariant;
use icefloe_linux::{
    AllocationStrategy, BackpressureStrategy, MessagingPattern, Node, RequestResponse, ServiceCreateError,
    ServiceOpenError,
};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc};
use std::time::Duration;
use zenoh::bytes::ZBytes;
use zenoh::query::{ConsolidationMode, Query, QueryTarget, Reply};
use zenoh::sample::Locality;
use zenoh::Wait;

const RR: MessagingPattern = MessagingPattern::RequestResponse;

/// How long a worker with streams in flight sleeps between looks at its
/// other source (so a new request or a response waits at most this long).
const BUSY_POLL: Duration = Duration::from_micros(200);

type Untyped = RequestResponse<[Opaque], [Opaque], Opaque, Opaque>;
type UntypedRequest<'s> = icefloe_linux::ActiveRequest<'s, [Opaque], [Opaque], Opaque, Opaque>;

fn slice(t: &icefloe_linux::icefloe_core::TypeDetail) -> bool {
    t.variant == TypeVariant::Slice
}

fn strategy(t: &icefloe_linux::icefloe_core::TypeDetail) -> AllocationStrategy {
    if slice(t) {
        AllocationStrategy::PowerOfTwo
    } else {
        AllocationStrategy::Static
    }
}

/// Opens the local service with the types of `config`, creating it with
/// all of `config`'s QoS if it is not there.
fn open_or_create(node: &Node, config: &StaticConfig) -> Result<Untyped, String> {
    let r = config.response.as_ref().ok_or("a request-response configuration without its response side")?;
    let name = config.name.clone();
    let b = || node.service_builder(&name).request_response_untyped(config);
    match b().open() {
        Ok(s) => return Ok(s),
        Err(ServiceOpenError::DoesNotExist) => {}
        Err(e) => return Err(format!("opening the local service failed: {e}")),
    }
    let mut create = b()
        .max_clients(config.max_publishers)
        .max_servers(config.max_subscribers)
        .max_nodes(config.max_nodes)
        .max_active_requests_per_client(r.max_active_requests_per_client)
        .max_loaned_requests(r.max_loaned_requests)
        .max_response_buffer_size(r.max_response_buffer_size)
        .max_borrowed_responses_per_pending_response(r.max_borrowed_responses_per_pending_response)
        .enable_safe_overflow_for_requests(config.enable_safe_overflow)
        .enable_safe_overflow_for_responses(r.enable_safe_overflow)
        .enable_fire_and_forget_requests(r.enable_fire_and_forget)
        .request_payload_alignment(config.payload_alignment)
        .response_payload_alignment(r.payload_alignment);
    if slice(&config.payload) {
        create = create.request_max_slice_len(config.max_slice_len);
    }
    if slice(&r.payload) {
        create = create.response_max_slice_len(r.max_slice_len);
    }
    match create.create() {
        Ok(s) => Ok(s),
        Err(ServiceCreateError::AlreadyExists) => {
            b().open().map_err(|e| format!("opening the local service failed: {e}"))
        }
        Err(e) => Err(format!("creating the local service failed: {e}")),
    }
}

pub(crate) fn export(ctx: &Arc<Ctx>, config: &StaticConfig, hash: u64) -> Result<Worker, String> {
    let config = config.clone();
    let name = config.name.as_str().to_owned();
    let key = ctx.keys.data(RR, &name, hash);
    let counters = ctx.counters(RR, &name, Direction::Export);
    let queue = ctx.queue::<(Attachment, Query)>();
    Ok(Worker::spawn(ctx, format!("rr-out {name}"), move |ctx, stop| {
        let node = ctx.node().map_err(|e| e.to_string())?;
        let service = node
            .service_builder(&config.name)
            .request_response_untyped(&config)
            .open()
            .map_err(|e| format!("opening the local service failed: {e}"))?;
        let local = service.static_config().clone();
        let client = service
            .client_builder()
            .allocation_strategy(strategy(&local.payload))
            .backpressure_strategy(BackpressureStrategy::RetryUntilDelivered)
            .backpressure_timeout(ctx.config.local_backpressure_timeout)
            .create()
            .map_err(|e| format!("creating the local client failed: {e}"))?;
        ctx.add_bridge_port(client.id());
        let (q, c, what, counted) = (queue.clone(), ctx.clone(), name.clone(), counters.clone());
        let _queryable = ctx
            .session
            .declare_queryable(key)
            .allowed_origin(Locality::Remote)
            .callback(move |query| {
                if let Some(att) = c.incoming(&what, query.attachment(), &counted) {
                    let n = query.payload().map_or(0, |p| p.len());
                    q.push((att, query), n);
                }
            })
            .wait()
            .map_err(|e| e.to_string())?;
        let mut streams = Vec::new();
        while !stop.load(Ordering::Relaxed) {
            counters.dropped.store(queue.dropped(), Ordering::Relaxed);
            // With streams in flight the worker sleeps on the first one's
            // responses (a futex wake), not on the queue of new queries.
            let mut wait = if streams.is_empty() { Duration::from_millis(50) } else { Duration::ZERO };
            let mut fresh = false;
            while let Some((att, query)) = queue.pop(wait) {
                fresh = true;
                wait = Duration::ZERO;
                let bytes = query.payload().map(|p| p.to_bytes().into_owned()).unwrap_or_default();
                let Some((header, payload)) =
                    split(&bytes, &att, &local.user_header, &local.payload, local.max_slice_len)
                else {
                    counters.refused();
                    let _ = query.reply_err(format!("{name}: the request does not fit this host's service")).wait();
                    continue;
                };
                let sent =
                    client.loan_slice_uninit(att.elements as usize).map_err(|e| e.to_string()).and_then(|mut l| {
                        l.user_header_bytes_mut().copy_from_slice(header);
                        l.write_payload_bytes(payload).send().map_err(|e| e.to_string())
                    });
                match sent {
                    Ok(pending) => {
                        counters.forwarded(payload.len());
                        streams.push((pending, query));
                    }
                    Err(e) => {
                        counters.failed();
                        let _ = query.reply_err(format!("{name}: the request could not be sent here: {e}")).wait();
                    }
                }
            }
            for (i, (pending, query)) in streams.iter().enumerate() {
                let mut sleep = if i == 0 && !fresh { BUSY_POLL } else { Duration::ZERO };
                loop {
                    let r = match pending.timed_receive(std::mem::take(&mut sleep)) {
                        Ok(Some(r)) => r,
                        Ok(None) => break,
                        Err(e) => {
                            log::warn!("{name}: receiving a local response failed: {e}");
                            counters.failed();
                            break;
                        }
                    };
                    let (header, payload) = (r.user_header_bytes(), r.payload_bytes());
                    let att = ctx.attachment(r.payload().len(), header.len()).encode();
                    let n = payload.len();
                    let out = join(header, payload);
                    drop(r);
                    match query.reply(query.key_expr().clone(), out).attachment(ZBytes::from(att.to_vec())).wait() {
                        Ok(()) => counters.forwarded(n),
                        Err(e) => {
                            log::warn!("{name}: Zenoh refused a response: {e}");
                            counters.failed();
                        }
                    }
                }
            }
            // A stream ends (and its query with it) when every local server
            // ended it and nothing is left to send.
            streams.retain(|(p, _)| p.is_connected() || p.has_response());
        }
        Ok(())
    }))
}

/// Sent when a query's reply callback is dropped: Zenoh finished the query.
struct QueryDone(mpsc::Sender<u64>, u64);

impl Drop for QueryDone {
    fn drop(&mut self) {
        let _ = self.0.send(self.1);
    }
}

pub(crate) fn import(ctx: &Arc<Ctx>, config: &StaticConfig, hash: u64) -> Result<Worker, String> {
    let config = config.clone();
    let name = config.name.as_str().to_owned();
    let key = ctx.keys.data(RR, &name, hash);
    let counters = ctx.counters(RR, &name, Direction::Import);
    let replies = ctx.queue::<(u64, Reply)>();
    Ok(Worker::spawn(ctx, format!("rr-in {name}"), move |ctx, stop| {
        let node = ctx.node().map_err(|e| e.to_string())?;
        let service = open_or_create(&node, &config)?;
        let local = service.static_config().clone();
        let response = local.response.clone().ok_or("no response side")?;
        let server = service
            .server_builder()
            .allocation_strategy(strategy(&response.payload))
            .backpressure_strategy(BackpressureStrategy::RetryUntilDelivered)
            .backpressure_timeout(ctx.config.local_backpressure_timeout)
            .create()
            .map_err(|e| format!("creating the local server failed: {e}"))?;
        ctx.add_bridge_port(server.id());
        let (done_tx, done_rx) = mpsc::channel::<u64>();
        let mut active = HashMap::new();
        let mut seq = 0u64;
        while !stop.load(Ordering::Relaxed) {
            counters.dropped.store(replies.dropped(), Ordering::Relaxed);
            let received =
                if active.is_empty() { server.timed_receive(Duration::from_millis(50)) } else { server.receive() };
            match received {
                Ok(Some(request)) if ctx.is_bridge_port(request.origin()) => drop(request),
                Ok(Some(request)) => {
                    let (header, payload) = (request.user_header_bytes(), request.payload_bytes());
                    let att = ctx.attachment(request.payload().len(), header.len()).encode();
                    let n = payload.len();
                    seq += 1;
                    let (r, done) = (replies.clone(), QueryDone(done_tx.clone(), seq));
                    let id = seq;
                    let got = ctx
                        .session
                        .get(&key)
                        .payload(join(header, payload))
                        .attachment(ZBytes::from(att.to_vec()))
                        .consolidation(ConsolidationMode::None)
                        .target(QueryTarget::All)
                        .allowed_destination(Locality::Remote)
                        .timeout(ctx.config.request_timeout)
                        .callback(move |reply| {
                            let _ = &done;
                            let n = reply.result().map_or(0, |s| s.payload().len());
                            r.push((id, reply), n);
                        })
                        .wait();
                    match got {
                        Ok(()) => {
                            counters.forwarded(n);
                            active.insert(id, request);
                        }
                        Err(e) => {
                            log::warn!("{name}: Zenoh refused a request: {e}");
                            counters.failed();
                        }
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    log::warn!("{name}: receiving a local request failed: {e}");
                    counters.failed();
                    std::thread::sleep(IDLE_WAIT);
                }
            }
            let wait = if active.is_empty() { Duration::ZERO } else { BUSY_POLL };
            if let Some(first) = replies.pop(wait) {
                respond(&ctx, &name, &active, &response, &counters, first);
                while let Some(next) = replies.pop(Duration::ZERO) {
                    respond(&ctx, &name, &active, &response, &counters, next);
                }
            }
            // A finished query's replies were all queued before its
            // callback went: answer them, then end the stream.
            while let Ok(id) = done_rx.try_recv() {
                while let Some(next) = replies.pop(Duration::ZERO) {
                    respond(&ctx, &name, &active, &response, &counters, next);
                }
                active.remove(&id);
            }
            active.retain(|_, r| r.is_connected());
        }
        Ok(())
    }))
}

/// Sends a remote server's reply to the local client as one response.
fn respond(
    ctx: &Ctx,
    name: &str,
    active: &HashMap<u64, UntypedRequest<'_>>,
    response: &icefloe_linux::icefloe_core::shm::service::ResponseConfig,
    counters: &crate::Counters,
    (id, reply): (u64, Reply),
) {
    let Some(request) = active.get(&id) else { return };
    let sample = match reply.result() {
        Ok(s) => s,
        Err(e) => {
            log::warn!("{name}: a remote server refused: {}", String::from_utf8_lossy(&e.payload().to_bytes()));
            counters.refused();
            return;
        }
    };
    let Some(att) = ctx.incoming(name, sample.attachment(), counters) else { return };
    let bytes = sample.payload().to_bytes();
    let Some((header, payload)) = split(&bytes, &att, &response.user_header, &response.payload, response.max_slice_len)
    else {
        log::warn!("{name}: refused a remote response that does not fit the local service");
        counters.refused();
        return;
    };
    let sent = request.loan_slice_uninit(att.elements as usize).map_err(|e| e.to_string()).and_then(|mut l| {
        l.user_header_bytes_mut().copy_from_slice(header);
        l.write_payload_bytes(payload).send().map_err(|e| e.to_string())
    });
    match sent {
        Ok(()) => counters.forwarded(payload.len()),
        Err(e) => {
            log::warn!("{name}: sending a remote response locally failed: {e}");
            counters.failed();
        }
    }
}

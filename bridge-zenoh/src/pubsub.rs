//! Publish-subscribe across the bridge: a local subscriber whose samples
//! go out as Zenoh puts (export), a Zenoh subscriber whose samples a local
//! publisher sends (import).

use crate::{Counters, Ctx, Direction, Worker, IDLE_WAIT};
use icefloe_linux::icefloe_core::shm::service::StaticConfig;
use icefloe_linux::icefloe_core::Opaque;
use icefloe_linux::icefloe_core::TypeVariant;
use icefloe_linux::{
    AllocationStrategy, BackpressureStrategy, MessagingPattern, Node, PublishSubscribe, ServiceCreateError,
    ServiceOpenError,
};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use zenoh::sample::Locality;
use zenoh::Wait;

const PS: MessagingPattern = MessagingPattern::PublishSubscribe;

/// Opens the local service with the types of `config`, creating it with
/// all of `config`'s QoS if it is not there.
pub(crate) fn open_or_create(node: &Node, config: &StaticConfig) -> Result<PublishSubscribe<[Opaque], Opaque>, String> {
    let name = config.name.clone();
    let b = || node.service_builder(&name).publish_subscribe_untyped(config);
    match b().open() {
        Ok(s) => return Ok(s),
        Err(ServiceOpenError::DoesNotExist) => {}
        Err(e) => return Err(format!("opening the local service failed: {e}")),
    }
    let mut create = b()
        .max_publishers(config.max_publishers)
        .max_subscribers(config.max_subscribers)
        .max_nodes(config.max_nodes)
        .history_size(config.history_size)
        .subscriber_max_buffer_size(config.subscriber_max_buffer_size)
        .subscriber_max_borrowed_samples(config.subscriber_max_borrowed_samples)
        .enable_safe_overflow(config.enable_safe_overflow)
        .payload_alignment(config.payload_alignment);
    if config.payload.variant == TypeVariant::Slice {
        create = create.max_slice_len(config.max_slice_len);
    }
    match create.create() {
        Ok(s) => Ok(s),
        Err(ServiceCreateError::AlreadyExists) => {
            b().open().map_err(|e| format!("opening the local service failed: {e}"))
        }
        Err(e) => Err(format!("creating the local service failed: {e}")),
    }
}

/// The Zenoh payload of a message: the user header's bytes, then the
/// payload's.
pub(crate) fn join(header: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut b = Vec::with_capacity(header.len() + payload.len());
    b.extend_from_slice(header);
    b.extend_from_slice(payload);
    b
}

/// Splits a message's bytes into (header, payload) if they fit the local
/// service: the header of its size, `elements` elements of its element
/// size, no more than its longest slice (one element for fixed-size).
pub(crate) fn split<'b>(
    bytes: &'b [u8],
    att: &crate::wire::Attachment,
    header: &icefloe_linux::icefloe_core::TypeDetail,
    payload: &icefloe_linux::icefloe_core::TypeDetail,
    max_slice_len: u32,
) -> Option<(&'b [u8], &'b [u8])> {
    let elements = att.elements;
    let fits = match payload.variant {
        TypeVariant::Slice => elements <= max_slice_len,
        TypeVariant::FixedSize => elements == 1,
    };
    let payload_len = (elements as usize).checked_mul(payload.size as usize)?;
    let ok = fits && att.header_len == header.size && bytes.len() == header.size as usize + payload_len;
    ok.then(|| bytes.split_at(header.size as usize))
}

pub(crate) fn export(ctx: &Arc<Ctx>, config: &StaticConfig, hash: u64) -> Result<Worker, String> {
    let config = config.clone();
    let name = config.name.as_str().to_owned();
    let key = ctx.keys.data(PS, &name, hash);
    let counters = ctx.counters(PS, &name, Direction::Export);
    let publisher = ctx
        .session
        .declare_publisher(key)
        .congestion_control(ctx.config.congestion.into())
        .express(true)
        .wait()
        .map_err(|e| e.to_string())?;
    Ok(Worker::spawn(ctx, format!("ps-out {name}"), move |ctx, stop| {
        let node = ctx.node().map_err(|e| e.to_string())?;
        let service = node
            .service_builder(&config.name)
            .publish_subscribe_untyped(&config)
            .open()
            .map_err(|e| format!("opening the local service failed: {e}"))?;
        let subscriber = service.subscriber_builder().create().map_err(|e| e.to_string())?;
        while !stop.load(Ordering::Relaxed) {
            let sample = match subscriber.timed_receive(Duration::from_millis(50)) {
                Ok(Some(s)) => s,
                Ok(None) => continue,
                Err(e) => {
                    log::warn!("{name}: receiving a local sample failed: {e}");
                    counters.failed();
                    std::thread::sleep(IDLE_WAIT);
                    continue;
                }
            };
            if ctx.is_bridge_port(sample.origin()) {
                continue; // a bridge injected it: never sent back out
            }
            let (header, payload) = (sample.user_header_bytes(), sample.payload_bytes());
            let att = ctx.attachment(sample.len(), header.len());
            let (bytes, payload_len) = (join(header, payload), payload.len());
            drop(sample);
            counters.put(&publisher, bytes, &att, payload_len, (&name, "a sample"));
        }
        Ok(())
    }))
}

pub(crate) fn import(ctx: &Arc<Ctx>, config: &StaticConfig, hash: u64) -> Result<Worker, String> {
    let config = config.clone();
    let name = config.name.as_str().to_owned();
    let key = ctx.keys.data(PS, &name, hash);
    let counters = ctx.counters(PS, &name, Direction::Import);
    let queue = ctx.queue();
    Ok(Worker::spawn(ctx, format!("ps-in {name}"), move |ctx, stop| {
        let node = ctx.node().map_err(|e| e.to_string())?;
        let service = open_or_create(&node, &config)?;
        let local = service.static_config().clone();
        let slice = local.payload.variant == TypeVariant::Slice;
        // Zenoh's subscriber first: once the local stand-in port shows,
        // what arrives is taken.
        let (q, c, what, counted) = (queue.clone(), ctx.clone(), name.clone(), counters.clone());
        let _subscriber = ctx
            .session
            .declare_subscriber(key)
            .allowed_origin(Locality::Remote)
            .callback(move |s| {
                if let Some(att) = c.incoming(&what, s.attachment(), &counted) {
                    let bytes = s.payload().clone();
                    let n = bytes.len();
                    q.push((att, bytes), n);
                }
            })
            .wait()
            .map_err(|e| e.to_string())?;
        let publisher = service
            .publisher_builder()
            .allocation_strategy(if slice { AllocationStrategy::PowerOfTwo } else { AllocationStrategy::Static })
            .backpressure_strategy(BackpressureStrategy::RetryUntilDelivered)
            .backpressure_timeout(ctx.config.local_backpressure_timeout)
            .create()
            .map_err(|e| format!("creating the local publisher failed: {e}"))?;
        ctx.add_bridge_port(publisher.id());
        while !stop.load(Ordering::Relaxed) {
            counters.dropped.store(queue.dropped(), Ordering::Relaxed);
            let Some((att, bytes)) = queue.pop(Duration::from_millis(50)) else { continue };
            publish(&name, &publisher, &local, &att, &bytes.to_bytes(), &counters);
        }
        Ok(())
    }))
}

fn publish(
    name: &str,
    publisher: &icefloe_linux::Publisher<[Opaque], Opaque>,
    local: &StaticConfig,
    att: &crate::wire::Attachment,
    bytes: &[u8],
    counters: &Counters,
) {
    let Some((header, payload)) = split(bytes, att, &local.user_header, &local.payload, local.max_slice_len) else {
        log::warn!(
            "{name}: refused a remote sample of {} B for {} element(s) and a {} B header: it does not fit the local \
             service",
            bytes.len(),
            att.elements,
            att.header_len
        );
        counters.refused();
        return;
    };
    let mut loan = match publisher.loan_slice_uninit(att.elements as usize) {
        Ok(l) => l,
        Err(e) => {
            log::warn!("{name}: no loan for a remote sample of {} element(s): {e}", att.elements);
            counters.failed();
            return;
        }
    };
    loan.user_header_bytes_mut().copy_from_slice(header);
    match loan.write_payload_bytes(payload).send() {
        Ok(_) => counters.forwarded(payload.len()),
        Err(e) => {
            log::warn!("{name}: sending a remote sample locally failed: {e}");
            counters.failed();
        }
    }
}

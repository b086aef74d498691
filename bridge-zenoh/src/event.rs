//! Events across the bridge: a local listener whose events go out as Zenoh
//! puts of (id, count) as little-endian `u32`s (export), a Zenoh subscriber
//! whose events a local notifier sends (import).

use crate::wire::{decode_event, encode_event};
use crate::{Ctx, Direction, Worker, IDLE_WAIT};
use icefloe_linux::icefloe_core::shm::service::StaticConfig;
use icefloe_linux::{Event, EventId, MessagingPattern, Node, ServiceCreateError, ServiceOpenError};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use zenoh::sample::Locality;
use zenoh::Wait;

const EV: MessagingPattern = MessagingPattern::Event;

/// At most this many notifications of one id are replayed from one
/// remote message (they coalesce in the listener anyway).
const MAX_REPLAY: u32 = 64;

fn open_or_create(node: &Node, config: &StaticConfig) -> Result<Event, String> {
    let e = config.event.as_ref().ok_or("an event configuration without its event side")?;
    let b = || node.service_builder(&config.name).event();
    match b().open() {
        Ok(s) => return Ok(s),
        Err(ServiceOpenError::DoesNotExist) => {}
        Err(e) => return Err(format!("opening the local service failed: {e}")),
    }
    let mut create = b()
        .max_notifiers(config.max_publishers)
        .max_listeners(config.max_subscribers)
        .max_nodes(config.max_nodes)
        .event_id_max_value(e.event_id_max_value);
    create = match e.notifier_created_event {
        Some(id) => create.notifier_created_event(EventId::new(id)),
        None => create.disable_notifier_created_event(),
    };
    create = match e.notifier_dropped_event {
        Some(id) => create.notifier_dropped_event(EventId::new(id)),
        None => create.disable_notifier_dropped_event(),
    };
    create = match e.notifier_dead_event {
        Some(id) => create.notifier_dead_event(EventId::new(id)),
        None => create.disable_notifier_dead_event(),
    };
    create = match e.deadline_ns {
        Some(ns) => create.deadline(Duration::from_nanos(ns)),
        None => create.disable_deadline(),
    };
    match create.create() {
        Ok(s) => Ok(s),
        Err(ServiceCreateError::AlreadyExists) => {
            b().open().map_err(|e| format!("opening the local service failed: {e}"))
        }
        Err(e) => Err(format!("creating the local service failed: {e}")),
    }
}

/// Notes `n` notifications of `id` this bridge sends locally, which its
/// own listener on the service must not send back out.
fn injected(ctx: &Ctx, name: &str, id: u32, n: u32) {
    let mut m = ctx.injected_events.lock().unwrap_or_else(|e| e.into_inner());
    let c = m.entry(name.to_owned()).or_default().entry(id).or_default();
    *c = c.saturating_add(n);
}

/// Of `count` notifications of `id` a listener saw, how many were not this
/// bridge's own.
fn not_injected(ctx: &Ctx, name: &str, id: u32, count: u32) -> u32 {
    let mut m = ctx.injected_events.lock().unwrap_or_else(|e| e.into_inner());
    let Some(c) = m.get_mut(name).and_then(|ids| ids.get_mut(&id)) else { return count };
    let mine = (*c).min(count);
    *c -= mine;
    count - mine
}

pub(crate) fn export(ctx: &Arc<Ctx>, config: &StaticConfig, hash: u64) -> Result<Worker, String> {
    let name = config.name.as_str().to_owned();
    let service_name = config.name.clone();
    let key = ctx.keys.data(EV, &name, hash);
    let counters = ctx.counters(EV, &name, Direction::Export);
    let publisher = ctx
        .session
        .declare_publisher(key)
        .congestion_control(ctx.config.congestion.into())
        .express(true)
        .wait()
        .map_err(|e| e.to_string())?;
    Ok(Worker::spawn(ctx, format!("ev-out {name}"), move |ctx, stop| {
        let node = ctx.node().map_err(|e| e.to_string())?;
        let service = node.service_builder(&service_name).event().open().map_err(|e| e.to_string())?;
        let listener = service.listener_builder().create().map_err(|e| e.to_string())?;
        ctx.injected_events.lock().unwrap_or_else(|e| e.into_inner()).remove(&name);
        let mut got = Vec::new();
        while !stop.load(Ordering::Relaxed) {
            got.clear();
            if listener.timed_wait(Duration::from_millis(50), |e| got.push((e.id.as_value(), e.count))).is_err() {
                std::thread::sleep(IDLE_WAIT); // a termination request: the bridge's owner decides
            }
            for &(id, count) in &got {
                let count = not_injected(&ctx, &name, id, count);
                if count == 0 {
                    continue;
                }
                counters.put(
                    &publisher,
                    encode_event(id, count).to_vec(),
                    &ctx.attachment(1, 0),
                    8,
                    (&name, "an event"),
                );
            }
        }
        Ok(())
    }))
}

pub(crate) fn import(ctx: &Arc<Ctx>, config: &StaticConfig, hash: u64) -> Result<Worker, String> {
    let config = config.clone();
    let name = config.name.as_str().to_owned();
    let key = ctx.keys.data(EV, &name, hash);
    let counters = ctx.counters(EV, &name, Direction::Import);
    let queue = ctx.queue();
    Ok(Worker::spawn(ctx, format!("ev-in {name}"), move |ctx, stop| {
        let node = ctx.node().map_err(|e| e.to_string())?;
        let service = open_or_create(&node, &config)?;
        let max_id = service.event_id_max_value();
        if let Some(id) = service.notifier_created_event() {
            injected(&ctx, &name, id.as_value(), 1);
        }
        // Zenoh's subscriber first: once the local stand-in port shows,
        // what arrives is taken.
        let (q, c, what, refused) = (queue.clone(), ctx.clone(), name.clone(), counters.clone());
        let _subscriber = ctx
            .session
            .declare_subscriber(key)
            .allowed_origin(Locality::Remote)
            .callback(move |s| {
                if c.incoming(&what, s.attachment(), &refused).is_none() {
                    return;
                }
                match decode_event(&s.payload().to_bytes()) {
                    Some(e) => q.push(e, 8),
                    None => {
                        log::warn!("{what}: refused a remote event that is not 8 bytes of id and count");
                        refused.refused();
                    }
                }
            })
            .wait()
            .map_err(|e| e.to_string())?;
        let notifier = service.notifier_builder().create().map_err(|e| e.to_string())?;
        while !stop.load(Ordering::Relaxed) {
            counters.dropped.store(queue.dropped(), Ordering::Relaxed);
            let Some((id, count)) = queue.pop(Duration::from_millis(50)) else { continue };
            if id > max_id {
                log::warn!("{name}: refused remote event id {id}: this host's service goes up to {max_id}");
                counters.refused();
                continue;
            }
            let n = count.clamp(1, MAX_REPLAY);
            injected(&ctx, &name, id, n);
            for _ in 0..n {
                match notifier.notify_with_custom_event_id(EventId::new(id)) {
                    Ok(_) => counters.forwarded(8),
                    Err(e) => {
                        log::warn!("{name}: notifying remote event {id} locally failed: {e}");
                        counters.failed();
                    }
                }
            }
        }
        if let Some(id) = service.notifier_dropped_event() {
            injected(&ctx, &name, id.as_value(), 1);
        }
        drop(notifier);
        Ok(())
    }))
}

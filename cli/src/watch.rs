//! `subscribe`, `hz`, `listen`, `notify`: commands that join a service.

use crate::inspect::{hex, Context};
use crate::{Format, Result};
use icefloe_linux::icefloe_core::Opaque;
use icefloe_linux::{EventId, ListenerWaitError, MessagingPattern, Node, Service, ServiceName, Subscriber};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// `icefloe subscribe`.
#[derive(clap::Args, Debug)]
pub struct SubscribeArgs {
    /// The publish-subscribe service's name.
    name: String,
    /// Stop after this many samples.
    #[arg(long)]
    count: Option<u64>,
    /// Stop after this many seconds.
    #[arg(long)]
    timeout: Option<f64>,
    /// Bytes of each payload to dump (the length is always printed).
    #[arg(long, default_value_t = 64)]
    max_bytes: usize,
}

/// `icefloe hz`.
#[derive(clap::Args, Debug)]
pub struct HzArgs {
    /// The publish-subscribe service's name.
    name: String,
    /// Print a line every this many seconds.
    #[arg(long, default_value_t = 1.0)]
    every: f64,
    /// Stop after this many seconds.
    #[arg(long)]
    timeout: Option<f64>,
}

/// `icefloe listen`.
#[derive(clap::Args, Debug)]
pub struct ListenArgs {
    /// The event service's name.
    name: String,
    /// Stop after this many events.
    #[arg(long)]
    count: Option<u64>,
    /// Stop after this many seconds.
    #[arg(long)]
    timeout: Option<f64>,
}

/// `icefloe notify`.
#[derive(clap::Args, Debug)]
pub struct NotifyArgs {
    /// The event service's name.
    name: String,
    /// The event id to send (default 0).
    id: Option<u32>,
    /// How many notifications to send.
    #[arg(long, default_value_t = 1)]
    count: u64,
    /// Seconds between notifications.
    #[arg(long, default_value_t = 0.0)]
    interval: f64,
}

fn seconds(s: Option<f64>) -> Result<Option<Instant>> {
    match s {
        Some(t) if !(t.is_finite() && t >= 0.0) => Err(format!("{t} is not a number of seconds").into()),
        Some(t) => Ok(Some(Instant::now() + Duration::from_secs_f64(t))),
        None => Ok(None),
    }
}

fn service_name(name: &str) -> Result<ServiceName> {
    ServiceName::new(name).map_err(|e| format!("{name:?} is not a service name: {e}").into())
}

/// Opens a subscriber on `name` with the service's own types, whatever they are.
fn untyped_subscriber(ctx: &Context, node: &Node, name: &str) -> Result<Subscriber<[Opaque], Opaque>> {
    let service_name = service_name(name)?;
    let details = Service::details(&ctx.prefix, &service_name, MessagingPattern::PublishSubscribe)?
        .ok_or_else(|| format!("no publish-subscribe service named {name:?} under prefix {}", ctx.prefix.as_str()))?;
    let service = node.service_builder(&service_name).publish_subscribe_untyped(details.static_config()).open()?;
    Ok(service.subscriber_builder().create()?)
}

/// The first `max` bytes in hexadecimal, `sep` between them.
fn hex_bytes(bytes: &[u8], max: usize, sep: &str) -> String {
    bytes.iter().take(max).map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(sep)
}

pub fn subscribe(ctx: &Context, a: SubscribeArgs) -> Result<ExitCode> {
    let node = ctx.node()?;
    let subscriber = untyped_subscriber(ctx, &node, &a.name)?;
    let deadline = seconds(a.timeout)?;
    let mut n = 0u64;
    while a.count.is_none_or(|c| n < c) && deadline.is_none_or(|d| Instant::now() < d) {
        if node.wait(Duration::ZERO).is_err() {
            break;
        }
        let Some(sample) = subscriber.timed_receive(Duration::from_millis(50))? else { continue };
        n += 1;
        let bytes = sample.payload_bytes();
        if ctx.format == Format::Json {
            let v = serde_json::json!({
                "sample": n, "origin": hex(sample.origin()), "len": bytes.len(),
                "elements": sample.len(), "header": hex_bytes(sample.user_header_bytes(), 64, ""),
                "payload_hex": hex_bytes(bytes, a.max_bytes, ""),
            });
            println!("{v}");
        } else {
            let more = if bytes.len() > a.max_bytes { " …" } else { "" };
            let dump = hex_bytes(bytes, a.max_bytes, " ");
            println!("#{n} origin {} len {} B: {dump}{more}", hex(sample.origin()), bytes.len());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Median, minimum, maximum and standard deviation of intervals (seconds).
fn spread(intervals: &mut [f64]) -> Option<(f64, f64, f64, f64)> {
    if intervals.is_empty() {
        return None;
    }
    intervals.sort_by(f64::total_cmp);
    let mean = intervals.iter().sum::<f64>() / intervals.len() as f64;
    let var = intervals.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / intervals.len() as f64;
    Some((intervals[intervals.len() / 2], intervals[0], intervals[intervals.len() - 1], var.sqrt()))
}

pub fn hz(ctx: &Context, a: HzArgs) -> Result<ExitCode> {
    let node = ctx.node()?;
    let subscriber = untyped_subscriber(ctx, &node, &a.name)?;
    let deadline = seconds(a.timeout)?;
    let every = Duration::from_secs_f64(a.every.max(0.05));
    let (mut window_start, mut last, mut intervals) = (Instant::now(), None::<Instant>, Vec::new());
    let mut samples = 0u64;
    loop {
        let done = deadline.is_some_and(|d| Instant::now() >= d) || node.wait(Duration::ZERO).is_err();
        while let Some(_sample) = subscriber.receive()? {
            let now = Instant::now();
            if let Some(l) = last {
                intervals.push((now - l).as_secs_f64());
            }
            last = Some(now);
            samples += 1;
        }
        let elapsed = window_start.elapsed();
        if elapsed >= every || done {
            let rate = samples as f64 / elapsed.as_secs_f64().max(1e-9);
            let stats = spread(&mut intervals);
            if ctx.format == Format::Json {
                let v = serde_json::json!({
                    "rate_hz": rate, "samples": samples, "window_s": elapsed.as_secs_f64(),
                    "interval_median_s": stats.map(|s| s.0), "interval_min_s": stats.map(|s| s.1),
                    "interval_max_s": stats.map(|s| s.2), "interval_std_dev_s": stats.map(|s| s.3),
                });
                println!("{v}");
            } else {
                match stats {
                    Some((median, min, max, sd)) => println!(
                        "rate {rate:.2} Hz over {:.2} s ({samples} samples): interval median {:.3} ms, min {:.3} ms, \
                         max {:.3} ms, std dev {:.3} ms",
                        elapsed.as_secs_f64(),
                        median * 1e3,
                        min * 1e3,
                        max * 1e3,
                        sd * 1e3
                    ),
                    None => println!("rate {rate:.2} Hz over {:.2} s ({samples} samples)", elapsed.as_secs_f64()),
                }
            }
            window_start = Instant::now();
            samples = 0;
            intervals.clear();
        }
        if done {
            return Ok(ExitCode::SUCCESS);
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

pub fn listen(ctx: &Context, a: ListenArgs) -> Result<ExitCode> {
    let node = ctx.node()?;
    let name = service_name(&a.name)?;
    let service = node.service_builder(&name).event().open()?;
    let listener = service.listener_builder().create()?;
    let deadline = seconds(a.timeout)?;
    let mut n = 0u64;
    while a.count.is_none_or(|c| n < c) && deadline.is_none_or(|d| Instant::now() < d) {
        if node.wait(Duration::ZERO).is_err() {
            break;
        }
        let mut ids = Vec::new();
        match listener.timed_wait(Duration::from_millis(50), |e| ids.push(e.id.as_value())) {
            Ok(_) => {}
            Err(ListenerWaitError::Interrupt | ListenerWaitError::TerminationRequest) => break,
            Err(e) => return Err(e.into()),
        }
        for id in ids {
            n += 1;
            if ctx.format == Format::Json {
                println!("{}", serde_json::json!({ "event": n, "event_id": id }));
            } else {
                println!("#{n} event id {id}");
            }
            if a.count.is_some_and(|c| n >= c) {
                break;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn notify(ctx: &Context, a: NotifyArgs) -> Result<ExitCode> {
    let node = ctx.node()?;
    let name = service_name(&a.name)?;
    let service = node.service_builder(&name).event().open()?;
    let notifier = service.notifier_builder().create()?;
    let id = EventId::new(a.id.unwrap_or(0));
    for i in 0..a.count {
        if i > 0 && node.wait(Duration::from_secs_f64(a.interval.max(0.0))).is_err() {
            break;
        }
        let woken = notifier.notify_with_custom_event_id(id)?;
        if ctx.format == Format::Json {
            println!("{}", serde_json::json!({ "event_id": id.as_value(), "listeners": woken }));
        } else {
            println!("notified event id {} to {woken} listener(s)", id.as_value());
        }
    }
    Ok(ExitCode::SUCCESS)
}

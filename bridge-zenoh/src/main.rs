//! `icefloe-zenoh`: the bridge between this host's icefloe services and
//! Zenoh. Runs until SIGINT or SIGTERM.

use clap::Parser;
use icefloe_zenoh::queue::Overflow;
use icefloe_zenoh::{Bridge, BridgeConfig, Congestion, ZenohConfig};
use std::process::ExitCode;
use std::time::Duration;

/// Bridges this host's icefloe services to Zenoh, and other hosts'
/// services (through their bridges) to this one.
#[derive(Parser, Debug)]
#[command(name = "icefloe-zenoh", version)]
struct Args {
    /// A service name or glob to bridge (`*` any run of characters, `?`
    /// one); repeat for more.
    #[arg(long = "service", short = 's', required = true)]
    services: Vec<String>,
    /// The icefloe prefix of the local services.
    #[arg(long, env = "ICEFLOE_PREFIX", default_value = icefloe_linux::icefloe_core::name::DEFAULT_PREFIX)]
    prefix: String,
    /// The Zenoh domain: bridges of different domains ignore each other.
    #[arg(long, default_value = "default")]
    domain: String,
    /// A Zenoh configuration file.
    #[arg(long, conflicts_with_all = ["zenoh_json5", "loopback"])]
    zenoh_config: Option<std::path::PathBuf>,
    /// A Zenoh configuration as inline JSON5.
    #[arg(long, conflicts_with = "loopback")]
    zenoh_json5: Option<String>,
    /// Loopback-only peer mode (tests and benches on one machine): no
    /// scouting, listen on tcp/127.0.0.1:<--listen>, connect to each
    /// tcp/127.0.0.1:<--connect>.
    #[arg(long)]
    loopback: bool,
    /// With --loopback: the port to listen on.
    #[arg(long, requires = "loopback")]
    listen: Option<u16>,
    /// With --loopback: a peer's port to connect to (repeatable).
    #[arg(long, requires = "loopback")]
    connect: Vec<u16>,
    /// Tells this host's bridges from other hosts' (default: from the host
    /// name, machine id and prefix), in hexadecimal.
    #[arg(long, value_parser = parse_hex)]
    host_id: Option<u64>,
    /// Entries each service's inbound queue holds.
    #[arg(long, default_value_t = 64)]
    queue_len: usize,
    /// Bytes each service's inbound queue holds, in MiB.
    #[arg(long, default_value_t = 256)]
    queue_mib: usize,
    /// Which entry a full queue drops.
    #[arg(long, value_enum, default_value_t = Overflow::DropOldest)]
    overflow: Overflow,
    /// What an exported sample or event does when Zenoh's queue to the
    /// link is full.
    #[arg(long, value_enum, default_value_t = Congestion::Block)]
    congestion: Congestion,
    /// How long a local subscriber may keep its queue full before an
    /// imported sample skips it, in milliseconds.
    #[arg(long, default_value_t = 100)]
    local_backpressure_ms: u64,
    /// The longest a response stream may last across the bridge, in seconds.
    #[arg(long, default_value_t = 60.0)]
    request_timeout: f64,
    /// How often the counters are logged (when they changed), in seconds;
    /// 0: never.
    #[arg(long, default_value_t = 10.0)]
    report_every: f64,
}

fn parse_hex(s: &str) -> Result<u64, String> {
    u64::from_str_radix(s.trim_start_matches("0x"), 16).map_err(|e| format!("{s:?} is not a hexadecimal id: {e}"))
}

fn seconds(what: &str, s: f64) -> Result<Duration, String> {
    Duration::try_from_secs_f64(s).map_err(|_| format!("--{what} {s} is not a number of seconds"))
}

fn main() -> ExitCode {
    // Caught before any thread starts, so no signal is lost in between.
    let signals = signal_hook::iterator::Signals::new([signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM]);
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let a = Args::parse();
    let mut config = BridgeConfig::new("");
    config.services = a.services;
    config.prefix = a.prefix;
    config.domain = a.domain;
    config.host_id = a.host_id;
    config.queue_len = a.queue_len;
    config.queue_bytes = a.queue_mib.saturating_mul(1 << 20);
    config.overflow = a.overflow;
    config.congestion = a.congestion;
    config.local_backpressure_timeout = Duration::from_millis(a.local_backpressure_ms);
    config.zenoh = match (a.zenoh_config, a.zenoh_json5, a.loopback) {
        (Some(path), _, _) => ZenohConfig::File(path),
        (_, Some(text), _) => ZenohConfig::Json5(text),
        (_, _, true) => ZenohConfig::Loopback { listen: a.listen, connect: a.connect },
        _ => ZenohConfig::Default,
    };
    let times =
        seconds("request-timeout", a.request_timeout).and_then(|r| Ok((r, seconds("report-every", a.report_every)?)));
    match times {
        Ok((r, e)) => (config.request_timeout, config.report_interval) = (r, e),
        Err(e) => {
            eprintln!("icefloe-zenoh: {e}");
            return ExitCode::from(2);
        }
    }
    let bridge = match Bridge::start(config) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("icefloe-zenoh: {e}");
            return ExitCode::FAILURE;
        }
    };
    // SIGINT or SIGTERM ends the bridge cleanly: its ports, nodes and
    // tokens go (peers see it leave), the counters are logged.
    match signals {
        Ok(mut signals) => {
            let sig = signals.forever().next();
            log::info!("signal {} received: the bridge stops", sig.unwrap_or(0));
        }
        Err(e) => {
            eprintln!("icefloe-zenoh: cannot catch SIGINT / SIGTERM: {e}");
            bridge.stop();
            return ExitCode::FAILURE;
        }
    }
    bridge.stop();
    ExitCode::SUCCESS
}

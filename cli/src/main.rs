//! `icefloe`: see and steer what runs — services, nodes, cleanup after
//! crashes, samples, rates and events, as tables or JSON.

mod config;
mod inspect;
mod watch;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use std::process::ExitCode;

/// See and steer what runs over icefloe: services, nodes, cleanup, samples, rates, events.
#[derive(Parser, Debug)]
#[command(name = "icefloe", version, about, long_about = None)]
pub struct Cli {
    /// Segment-name prefix of the services and nodes to look at (default:
    /// the config file's, else `iflo_`).
    #[arg(long, global = true, env = "ICEFLOE_PREFIX")]
    prefix: Option<String>,
    /// Output as a table for people or JSON for programs.
    #[arg(long, global = true, value_enum, default_value_t = Format::Table)]
    format: Format,
    #[command(subcommand)]
    command: Command,
}

/// How results are printed.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns.
    Table,
    /// One JSON document (or one JSON object per line for streams).
    Json,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Services: list them, or show one in detail.
    #[command(subcommand)]
    Service(ServiceCommand),
    /// Nodes: list them, or show one in detail.
    #[command(subcommand)]
    Node(NodeCommand),
    /// Reclaims what dead nodes left (slots, ports, data segments, records).
    Cleanup {
        /// Only list what would be removed.
        #[arg(long)]
        dry_run: bool,
    },
    /// Prints each sample of a publish-subscribe service: length, origin, hex dump.
    Subscribe(watch::SubscribeArgs),
    /// Measures the rate of a publish-subscribe service's samples.
    Hz(watch::HzArgs),
    /// Prints the event ids an event service's notifiers send.
    Listen(watch::ListenArgs),
    /// Sends an event id to an event service's listeners.
    Notify(watch::NotifyArgs),
    /// The configuration file.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Prints a shell-completion script.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

#[derive(Subcommand, Debug)]
enum ServiceCommand {
    /// Every service under the prefix.
    List,
    /// One service: pattern, types, QoS, ports, nodes, footprint.
    Details {
        /// The service's name.
        name: String,
        /// Only the service of this pattern (default: every pattern with that name).
        #[arg(long, value_enum)]
        pattern: Option<inspect::Pattern>,
    },
}

#[derive(Subcommand, Debug)]
enum NodeCommand {
    /// Every node under the prefix, alive or dead.
    List,
    /// One node: state, process, the services it uses.
    Details {
        /// The node's id (hexadecimal, as `node list` prints it).
        id: String,
    },
}

#[derive(Subcommand, Debug)]
enum ConfigCommand {
    /// The effective configuration and where each value came from.
    Show,
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("icefloe: {e}");
            ExitCode::from(1)
        }
    }
}

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn run(cli: Cli) -> Result<ExitCode> {
    if let Command::Completions { shell } = cli.command {
        clap_complete::generate(shell, &mut Cli::command(), "icefloe", &mut std::io::stdout());
        return Ok(ExitCode::SUCCESS);
    }
    let loaded = config::load()?;
    let prefix_text = cli.prefix.clone().unwrap_or_else(|| loaded.config.prefix.as_str().to_owned());
    let prefix =
        icefloe_linux::Prefix::new(&prefix_text).map_err(|e| format!("the prefix {prefix_text:?} is invalid: {e}"))?;
    let ctx = inspect::Context { prefix, format: cli.format, config: loaded };
    match cli.command {
        Command::Service(ServiceCommand::List) => inspect::service_list(&ctx),
        Command::Service(ServiceCommand::Details { name, pattern }) => inspect::service_details(&ctx, &name, pattern),
        Command::Node(NodeCommand::List) => inspect::node_list(&ctx),
        Command::Node(NodeCommand::Details { id }) => inspect::node_details(&ctx, &id),
        Command::Cleanup { dry_run } => inspect::cleanup(&ctx, dry_run),
        Command::Subscribe(a) => watch::subscribe(&ctx, a),
        Command::Hz(a) => watch::hz(&ctx, a),
        Command::Listen(a) => watch::listen(&ctx, a),
        Command::Notify(a) => watch::notify(&ctx, a),
        Command::Config(ConfigCommand::Show) => config::show(&ctx.config, cli.prefix.as_deref(), ctx.format),
        Command::Completions { .. } => unreachable!("handled above"),
    }
}

//! The operator's configuration file: TOML, read into the core's plain
//! [`Config`] value (the core itself reads no file).
//!
//! Looked up from `ICEFLOE_CONFIG` (a path; an error if it names no file),
//! then `$XDG_CONFIG_HOME/icefloe/config.toml` (`~/.config/…` when the
//! variable is unset), then `/etc/icefloe/config.toml`; the first that
//! exists is read, none means the defaults. An unknown key or a value of
//! the wrong kind is an error naming the key and the file.
//!
//! ```toml
//! prefix = "robot_"                 # segment-name prefix (1-12 of [A-Za-z0-9_])
//! permissions = "owner_and_group"   # or "owner_only" (the default)
//!
//! [cleanup]
//! on_node_creation = true           # Node::cleanup_dead_nodes when a node is created
//! on_node_drop = false
//!
//! [publish_subscribe]               # QoS a service gets for knobs its builder leaves unset
//! max_publishers = 2
//! max_subscribers = 8
//! max_nodes = 20
//! history_size = 0
//! subscriber_max_buffer_size = 2
//! subscriber_max_borrowed_samples = 2
//! enable_safe_overflow = true
//!
//! [request_response]
//! max_clients = 8
//! max_servers = 2
//! max_nodes = 20
//! max_active_requests_per_client = 4
//! max_loaned_requests = 2
//! max_response_buffer_size = 2
//! max_borrowed_responses_per_pending_response = 2
//! enable_safe_overflow_for_requests = true
//! enable_safe_overflow_for_responses = true
//! enable_fire_and_forget = true
//!
//! [event]
//! max_notifiers = 16
//! max_listeners = 16
//! max_nodes = 36
//! event_id_max_value = 255
//! ```
//!
//! Each platform crate re-exports this module as its own `config`
//! (`icefloe_linux::config`, `icefloe_qnx::config`); a node takes the result
//! with `NodeBuilder::new().config(&loaded.config)`:
//!
//! ```no_run
//! let loaded = icefloe_std::config::load()?;
//! println!("prefix {}, from {:?}", loaded.config.prefix.as_str(), loaded.file);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub use icefloe_core::config::{
    CleanupPolicy, Config, EventDefaults, PublishSubscribeDefaults, RequestResponseDefaults,
};
use icefloe_core::name::Prefix;
use icefloe_core::platform::Permissions;
use std::fmt;
use std::path::{Path, PathBuf};

/// Where a value of the effective configuration came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Nobody set it: the built-in default.
    Default,
    /// The file at this path set it.
    File(PathBuf),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Default => f.write_str("default"),
            Self::File(p) => write!(f, "{}", p.display()),
        }
    }
}

/// One value of the effective configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value {
    /// Its dotted key (`publish_subscribe.max_publishers`).
    pub key: String,
    /// The value, as TOML writes it.
    pub value: String,
    /// Where it came from.
    pub source: Source,
}

/// A loaded configuration: the value for the core, the file it came from,
/// and every value with its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    /// What [`NodeBuilder::config`](icefloe_core::NodeBuilder::config) takes.
    pub config: Config,
    /// The file read, if any.
    pub file: Option<PathBuf>,
    /// Every key, in file order of sections, with its value and source.
    pub values: Vec<Value>,
}

/// Why a configuration could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// `ICEFLOE_CONFIG` names a file that cannot be read, or a found file
    /// cannot be read.
    Unreadable {
        /// The file.
        file: PathBuf,
        /// The operating system's reason.
        reason: String,
    },
    /// The file is not TOML.
    Syntax {
        /// The file.
        file: PathBuf,
        /// The parser's message (with line and column).
        message: String,
    },
    /// A key the configuration does not have.
    UnknownKey {
        /// The file.
        file: PathBuf,
        /// The dotted key.
        key: String,
    },
    /// A value of the wrong kind or out of range.
    InvalidValue {
        /// The file.
        file: PathBuf,
        /// The dotted key.
        key: String,
        /// What the key takes.
        expected: &'static str,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unreadable { file, reason } => {
                write!(f, "the configuration file {} cannot be read: {reason}", file.display())
            }
            Self::Syntax { file, message } => {
                write!(f, "the configuration file {} is not valid TOML: {}", file.display(), message.trim_end())
            }
            Self::UnknownKey { file, key } => write!(
                f,
                "the configuration file {} has an unknown key `{key}` (see `icefloe config show` for the keys)",
                file.display()
            ),
            Self::InvalidValue { file, key, expected } => {
                write!(f, "the configuration file {}: `{key}` takes {expected}", file.display())
            }
        }
    }
}

impl std::error::Error for ConfigError {}

/// One key: how to read it from TOML into a [`Config`] and write it back.
struct Key {
    section: &'static str,
    name: &'static str,
    expected: &'static str,
    set: fn(&mut Config, &toml::Value) -> bool,
    get: fn(&Config) -> String,
}

fn count(v: &toml::Value, min: i64, max: i64) -> Option<u32> {
    v.as_integer().filter(|n| (min..=max).contains(n)).map(|n| n as u32)
}

macro_rules! keys {
    ($($section:literal . $name:ident : $kind:ident ($($range:tt)*) => $($path:ident).+;)*) => {
        &[$(Key {
            section: $section,
            name: stringify!($name),
            expected: keys!(@expected $kind $($range)*),
            set: |c, v| keys!(@set c, v, $kind ($($range)*), $($path).+),
            get: |c| c.$($path).+.to_string(),
        },)*]
    };
    (@expected u32 $min:literal $max:literal) => {
        concat!("a whole number from ", stringify!($min), " to ", stringify!($max))
    };
    (@expected bool) => { "true or false" };
    (@set $c:ident, $v:ident, u32 ($min:literal $max:literal), $($path:ident).+) => {
        count($v, $min, $max).map(|n| $c.$($path).+ = n).is_some()
    };
    (@set $c:ident, $v:ident, bool (), $($path:ident).+) => {
        $v.as_bool().map(|b| $c.$($path).+ = b).is_some()
    };
}

const KEYS: &[Key] = keys! {
    "cleanup".on_node_creation: bool() => cleanup.on_node_creation;
    "cleanup".on_node_drop: bool() => cleanup.on_node_drop;
    "publish_subscribe".max_publishers: u32(1 65536) => publish_subscribe.max_publishers;
    "publish_subscribe".max_subscribers: u32(1 65536) => publish_subscribe.max_subscribers;
    "publish_subscribe".max_nodes: u32(1 4096) => publish_subscribe.max_nodes;
    "publish_subscribe".history_size: u32(0 65536) => publish_subscribe.history_size;
    "publish_subscribe".subscriber_max_buffer_size: u32(1 65536) => publish_subscribe.subscriber_max_buffer_size;
    "publish_subscribe".subscriber_max_borrowed_samples: u32(1 65536) => publish_subscribe.subscriber_max_borrowed_samples;
    "publish_subscribe".enable_safe_overflow: bool() => publish_subscribe.enable_safe_overflow;
    "request_response".max_clients: u32(1 65536) => request_response.max_clients;
    "request_response".max_servers: u32(1 65536) => request_response.max_servers;
    "request_response".max_nodes: u32(1 4096) => request_response.max_nodes;
    "request_response".max_active_requests_per_client: u32(1 256) => request_response.max_active_requests_per_client;
    "request_response".max_loaned_requests: u32(1 65536) => request_response.max_loaned_requests;
    "request_response".max_response_buffer_size: u32(1 65536) => request_response.max_response_buffer_size;
    "request_response".max_borrowed_responses_per_pending_response: u32(1 65536) => request_response.max_borrowed_responses_per_pending_response;
    "request_response".enable_safe_overflow_for_requests: bool() => request_response.enable_safe_overflow_for_requests;
    "request_response".enable_safe_overflow_for_responses: bool() => request_response.enable_safe_overflow_for_responses;
    "request_response".enable_fire_and_forget: bool() => request_response.enable_fire_and_forget;
    "event".max_notifiers: u32(1 65536) => event.max_notifiers;
    "event".max_listeners: u32(1 65536) => event.max_listeners;
    "event".max_nodes: u32(1 4096) => event.max_nodes;
    "event".event_id_max_value: u32(0 65535) => event.event_id_max_value;
};

fn permissions_text(p: Permissions) -> &'static str {
    match p {
        Permissions::OwnerAndGroup => "owner_and_group",
        _ => "owner_only",
    }
}

/// Reads TOML `text` as if from `file` (for errors and sources).
pub fn parse(text: &str, file: &Path) -> Result<Loaded, ConfigError> {
    let table: toml::Table =
        text.parse().map_err(|e: toml::de::Error| ConfigError::Syntax { file: file.into(), message: e.to_string() })?;
    let mut config = Config::default();
    let mut set = Vec::new();
    let invalid = |key: String, expected| ConfigError::InvalidValue { file: file.into(), key, expected };
    for (top, value) in &table {
        match top.as_str() {
            "prefix" => {
                const EXPECTED: &str = "a string of 1 to 12 characters from [A-Za-z0-9_]";
                let s = value.as_str().ok_or_else(|| invalid("prefix".into(), EXPECTED))?;
                config.prefix = Prefix::new(s).map_err(|_| invalid("prefix".into(), EXPECTED))?;
                set.push("prefix".to_owned());
            }
            "permissions" => {
                const EXPECTED: &str = "\"owner_only\" or \"owner_and_group\"";
                config.permissions = match value.as_str() {
                    Some("owner_only") => Permissions::OwnerOnly,
                    Some("owner_and_group") => Permissions::OwnerAndGroup,
                    _ => return Err(invalid("permissions".into(), EXPECTED)),
                };
                set.push("permissions".to_owned());
            }
            section if KEYS.iter().any(|k| k.section == section) => {
                let entries = value.as_table().ok_or_else(|| invalid(section.into(), "a table of keys"))?;
                for (name, v) in entries {
                    let key = format!("{section}.{name}");
                    let k = KEYS
                        .iter()
                        .find(|k| k.section == section && k.name == name)
                        .ok_or_else(|| ConfigError::UnknownKey { file: file.into(), key: key.clone() })?;
                    if !(k.set)(&mut config, v) {
                        return Err(invalid(key, k.expected));
                    }
                    set.push(key);
                }
            }
            other => return Err(ConfigError::UnknownKey { file: file.into(), key: other.into() }),
        }
    }
    Ok(described(config, Some(file.to_owned()), &set))
}

/// Every key's value and source, given which were set by `file`.
fn described(config: Config, file: Option<PathBuf>, set: &[String]) -> Loaded {
    let source = |key: &str| match &file {
        Some(f) if set.iter().any(|s| s == key) => Source::File(f.clone()),
        _ => Source::Default,
    };
    let mut values = vec![
        Value { key: "prefix".into(), value: format!("{:?}", config.prefix.as_str()), source: source("prefix") },
        Value {
            key: "permissions".into(),
            value: format!("{:?}", permissions_text(config.permissions)),
            source: source("permissions"),
        },
    ];
    for k in KEYS {
        let key = format!("{}.{}", k.section, k.name);
        values.push(Value { value: (k.get)(&config), source: source(&key), key });
    }
    Loaded { config, file, values }
}

/// The defaults, from no file.
pub fn defaults() -> Loaded {
    described(Config::default(), None, &[])
}

/// Reads the file at `path`.
pub fn load_file(path: &Path) -> Result<Loaded, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::Unreadable { file: path.to_owned(), reason: e.to_string() })?;
    parse(&text, path)
}

/// The files looked at, in order: `ICEFLOE_CONFIG` (if set), then the
/// user's and the system's.
pub fn search_path() -> Vec<PathBuf> {
    let mut paths = Vec::new();
    if let Some(p) = std::env::var_os("ICEFLOE_CONFIG").filter(|p| !p.is_empty()) {
        paths.push(PathBuf::from(p));
    }
    let xdg = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")));
    if let Some(x) = xdg {
        paths.push(x.join("icefloe").join("config.toml"));
    }
    paths.push(PathBuf::from("/etc/icefloe/config.toml"));
    paths
}

/// Loads the configuration as the module docs say: `ICEFLOE_CONFIG` (must
/// exist when set), else the first of the user's and the system's files
/// that exists, else the defaults.
pub fn load() -> Result<Loaded, ConfigError> {
    if let Some(p) = std::env::var_os("ICEFLOE_CONFIG").filter(|p| !p.is_empty()) {
        return load_file(Path::new(&p));
    }
    for path in search_path() {
        if path.exists() {
            return load_file(&path);
        }
    }
    Ok(defaults())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> &'static Path {
        Path::new("/tmp/icefloe-test.toml")
    }

    #[test]
    fn every_key_reads_and_is_reported_with_its_source() {
        let loaded = parse(
            "prefix = \"robot_\"\npermissions = \"owner_and_group\"\n[cleanup]\non_node_creation = true\n\
             [publish_subscribe]\nmax_publishers = 5\nhistory_size = 0\n[event]\nevent_id_max_value = 9\n",
            file(),
        )
        .unwrap();
        assert_eq!(loaded.config.prefix.as_str(), "robot_");
        assert_eq!(loaded.config.permissions, Permissions::OwnerAndGroup);
        assert!(loaded.config.cleanup.on_node_creation);
        assert_eq!(loaded.config.publish_subscribe.max_publishers, 5);
        assert_eq!(loaded.config.event.event_id_max_value, 9);
        let get = |k: &str| loaded.values.iter().find(|v| v.key == k).unwrap().clone();
        assert_eq!(get("publish_subscribe.max_publishers").value, "5");
        assert_eq!(get("publish_subscribe.max_publishers").source, Source::File(file().into()));
        assert_eq!(get("publish_subscribe.max_subscribers").source, Source::Default);
        assert_eq!(get("publish_subscribe.max_subscribers").value, "8");
        assert_eq!(get("prefix").value, "\"robot_\"");
        assert_eq!(loaded.values.len(), KEYS.len() + 2);
    }

    #[test]
    fn unknown_keys_and_bad_values_name_the_key_and_the_file() {
        let e = parse("[publish_subscribe]\nmax_publisher = 3\n", file()).unwrap_err();
        assert_eq!(e, ConfigError::UnknownKey { file: file().into(), key: "publish_subscribe.max_publisher".into() });
        assert!(e.to_string().contains("publish_subscribe.max_publisher") && e.to_string().contains("icefloe-test"));
        let e = parse("colour = 1\n", file()).unwrap_err();
        assert_eq!(e, ConfigError::UnknownKey { file: file().into(), key: "colour".into() });
        let e = parse("[request_response]\nmax_clients = 0\n", file()).unwrap_err();
        assert!(matches!(&e, ConfigError::InvalidValue { key, .. } if key == "request_response.max_clients"), "{e}");
        let e = parse("[event]\nmax_nodes = 5000\n", file()).unwrap_err();
        assert!(e.to_string().contains("`event.max_nodes` takes a whole number from 1 to 4096"), "{e}");
        let e = parse("[event]\nmax_nodes = \"many\"\n", file()).unwrap_err();
        assert!(matches!(&e, ConfigError::InvalidValue { key, .. } if key == "event.max_nodes"), "{e}");
        let e = parse("prefix = \"no-dashes\"\n", file()).unwrap_err();
        assert!(matches!(&e, ConfigError::InvalidValue { key, .. } if key == "prefix"), "{e}");
        let e = parse("permissions = \"world\"\n", file()).unwrap_err();
        assert!(matches!(&e, ConfigError::InvalidValue { key, .. } if key == "permissions"), "{e}");
        let e = parse("[cleanup\n", file()).unwrap_err();
        assert!(matches!(e, ConfigError::Syntax { .. }));
        let e = parse("cleanup = 3\n", file()).unwrap_err();
        assert!(matches!(&e, ConfigError::InvalidValue { key, .. } if key == "cleanup"), "{e}");
    }

    #[test]
    fn the_defaults_are_the_cores() {
        let d = defaults();
        assert_eq!(d.config, Config::default());
        assert!(d.values.iter().all(|v| v.source == Source::Default));
        assert_eq!(parse("", file()).unwrap().config, Config::default());
    }
}

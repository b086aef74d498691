//! What crosses Zenoh: key expressions, the type hash, the attachment that
//! travels with every sample, request and response, and a service's static
//! configuration as one importing bridge needs it to create the service.

use icefloe_linux::icefloe_core::shm::service::{EventConfig, ResponseConfig, StaticConfig};
use icefloe_linux::icefloe_core::{TypeDetail, TypeVariant};
use icefloe_linux::{MessagingPattern, ServiceName};
use std::fmt::Write as _;

/// The first key chunk of everything a bridge declares.
pub const ROOT: &str = "icefloe";

/// Hops a message may have made before a bridge refuses it (a topology of
/// routers and bridges that forwards in a circle stops here).
pub const MAX_HOPS: u8 = 4;

/// The short name of a pattern in key expressions.
pub fn pattern_key(p: MessagingPattern) -> &'static str {
    match p {
        MessagingPattern::PublishSubscribe => "ps",
        MessagingPattern::RequestResponse => "rr",
        MessagingPattern::Event => "ev",
        _ => "other",
    }
}

/// The pattern of a key chunk written by [`pattern_key`].
pub fn pattern_of_key(s: &str) -> Option<MessagingPattern> {
    match s {
        "ps" => Some(MessagingPattern::PublishSubscribe),
        "rr" => Some(MessagingPattern::RequestResponse),
        "ev" => Some(MessagingPattern::Event),
        _ => None,
    }
}

/// Whether `c` stands for itself in an escaped service name.
fn plain(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c == b'.'
}

/// A service name as one key chunk: letters, digits, `_`, `-` and `.` stay,
/// every other byte (`/`, `*`, `$`, `%`, spaces, non-ASCII …) becomes `%XX`.
pub fn escape(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for &b in name.as_bytes() {
        if plain(b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// The name an [`escape`]d chunk stands for, if it is one.
pub fn unescape(chunk: &str) -> Option<String> {
    let bytes = chunk.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = chunk.get(i + 1..i + 3)?;
                let b = u8::from_str_radix(hex, 16).ok()?;
                if plain(b) {
                    return None; // not how escape writes it: one name, one key
                }
                out.push(b);
                i += 3;
            }
            b if plain(b) => {
                out.push(b);
                i += 1;
            }
            _ => return None,
        }
    }
    String::from_utf8(out).ok()
}

/// Whether `s` can be a domain: a non-empty key chunk of letters, digits,
/// `_`, `-` and `.`.
pub fn valid_domain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(plain)
}

/// 64-bit FNV-1a.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h = FNV_OFFSET;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

fn type_bytes(out: &mut Vec<u8>, t: &TypeDetail) {
    out.push(match t.variant {
        TypeVariant::FixedSize => b'f',
        TypeVariant::Slice => b's',
    });
    out.extend_from_slice(t.name.as_bytes());
    out.push(0);
    out.extend_from_slice(&t.size.to_le_bytes());
    out.extend_from_slice(&t.align.to_le_bytes());
}

/// The hash of everything that decides whether two services' bytes mean
/// the same: the pattern, the payload and user-header types (name, size,
/// alignment, fixed-size or slice), the response's for request-response,
/// and this machine's byte order. QoS is left out: it may differ per host.
pub fn type_hash(config: &StaticConfig) -> u64 {
    let mut b = Vec::with_capacity(256);
    b.extend_from_slice(b"icefloe-zenoh types 1\0");
    b.extend_from_slice(&config.pattern.to_le_bytes());
    b.push(if cfg!(target_endian = "little") { b'l' } else { b'b' });
    if config.event.is_none() {
        type_bytes(&mut b, &config.payload);
        type_bytes(&mut b, &config.user_header);
    }
    if let Some(r) = &config.response {
        type_bytes(&mut b, &r.payload);
        type_bytes(&mut b, &r.user_header);
    }
    fnv1a(&b)
}

/// The types of a service, as the log shows them.
pub fn describe_types(config: &StaticConfig) -> String {
    let t = |t: &TypeDetail| {
        let v = if t.variant == TypeVariant::Slice { "[]" } else { "" };
        format!("{}{v} ({} B, align {})", t.name.as_str(), t.size, t.align)
    };
    match (&config.response, &config.event) {
        (_, Some(_)) => "event".into(),
        (Some(r), _) => format!(
            "request {} header {}, response {} header {}",
            t(&config.payload),
            t(&config.user_header),
            t(&r.payload),
            t(&r.user_header)
        ),
        (None, None) => format!("payload {} header {}", t(&config.payload), t(&config.user_header)),
    }
}

/// Key expressions of one domain.
#[derive(Debug, Clone)]
pub struct Keys {
    domain: String,
}

impl Keys {
    /// Keys under `icefloe/<domain>`.
    pub fn new(domain: &str) -> Self {
        Self { domain: domain.to_owned() }
    }

    /// Where a service's samples, requests or events travel:
    /// `icefloe/<domain>/<ps|rr|ev>/<escaped name>/<type hash>`.
    pub fn data(&self, pattern: MessagingPattern, name: &str, hash: u64) -> String {
        format!("{ROOT}/{}/{}/{}/{hash:016x}", self.domain, pattern_key(pattern), escape(name))
    }

    /// A bridge's liveliness token: `icefloe/<domain>/@bridge/<host>/<bridge>`.
    pub fn bridge_token(&self, host: u64, bridge: u64) -> String {
        format!("{ROOT}/{}/@bridge/{host:016x}/{bridge:016x}", self.domain)
    }

    /// Every bridge's token of the domain.
    pub fn all_bridges(&self) -> String {
        format!("{ROOT}/{}/@bridge/*/*", self.domain)
    }

    /// The liveliness token that says "bridge `bridge` of `host` exports
    /// this service": `icefloe/<domain>/@svc/<host>/<bridge>/<pattern>/<name>/<hash>`.
    pub fn export_token(&self, host: u64, bridge: u64, pattern: MessagingPattern, name: &str, hash: u64) -> String {
        format!(
            "{ROOT}/{}/@svc/{host:016x}/{bridge:016x}/{}/{}/{hash:016x}",
            self.domain,
            pattern_key(pattern),
            escape(name)
        )
    }

    /// Every export token of the domain.
    pub fn all_exports(&self) -> String {
        format!("{ROOT}/{}/@svc/**", self.domain)
    }

    /// Where bridge `bridge` answers with the configuration of a service it
    /// exports: `icefloe/<domain>/@cfg/<bridge>/<pattern>/<name>/<hash>`.
    pub fn config(&self, bridge: u64, pattern: MessagingPattern, name: &str, hash: u64) -> String {
        format!("{ROOT}/{}/@cfg/{bridge:016x}/{}/{}/{hash:016x}", self.domain, pattern_key(pattern), escape(name))
    }

    /// Everything bridge `bridge` answers configuration queries on.
    pub fn configs_of(&self, bridge: u64) -> String {
        format!("{ROOT}/{}/@cfg/{bridge:016x}/**", self.domain)
    }

    /// Parses an export token's key.
    pub fn parse_export(&self, key: &str) -> Option<Export> {
        let rest = key.strip_prefix(ROOT)?.strip_prefix('/')?.strip_prefix(self.domain.as_str())?;
        let mut it = rest.strip_prefix("/@svc/")?.split('/');
        let host = u64::from_str_radix(it.next()?, 16).ok()?;
        let bridge = u64::from_str_radix(it.next()?, 16).ok()?;
        let pattern = pattern_of_key(it.next()?)?;
        let name = unescape(it.next()?)?;
        let hash = u64::from_str_radix(it.next()?, 16).ok()?;
        if it.next().is_some() || ServiceName::new(&name).is_err() {
            return None;
        }
        Some(Export { host, bridge, pattern, name, hash })
    }

    /// Parses a bridge token's key: (host, bridge).
    pub fn parse_bridge(&self, key: &str) -> Option<(u64, u64)> {
        let rest = key.strip_prefix(ROOT)?.strip_prefix('/')?.strip_prefix(self.domain.as_str())?;
        let mut it = rest.strip_prefix("/@bridge/")?.split('/');
        let host = u64::from_str_radix(it.next()?, 16).ok()?;
        let bridge = u64::from_str_radix(it.next()?, 16).ok()?;
        it.next().is_none().then_some((host, bridge))
    }
}

/// A remote bridge's announcement that it exports a service.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Export {
    /// The host (machine and prefix) it runs on.
    pub host: u64,
    /// The bridge's id.
    pub bridge: u64,
    /// The service's pattern.
    pub pattern: MessagingPattern,
    /// The service's name.
    pub name: String,
    /// The hash of the service's types.
    pub hash: u64,
}

/// The fixed-size attachment of every sample, request, response and event:
/// who sent it, how far it came, and how its payload splits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attachment {
    /// Bridges crossed so far (1 for a message straight from its origin).
    pub hops: u8,
    /// The sending bridge's host.
    pub host: u64,
    /// The sending bridge.
    pub bridge: u64,
    /// Elements of the payload (the slice length; 1 for a fixed-size one).
    pub elements: u32,
    /// Bytes of user header in front of the payload.
    pub header_len: u32,
}

impl Attachment {
    /// Encoded size.
    pub const LEN: usize = 32;
    const MAGIC: [u8; 4] = *b"IFZ1";

    /// The bytes on the wire (little-endian).
    pub fn encode(&self) -> [u8; Self::LEN] {
        let mut b = [0u8; Self::LEN];
        b[0..4].copy_from_slice(&Self::MAGIC);
        b[4] = self.hops;
        b[8..16].copy_from_slice(&self.host.to_le_bytes());
        b[16..24].copy_from_slice(&self.bridge.to_le_bytes());
        b[24..28].copy_from_slice(&self.elements.to_le_bytes());
        b[28..32].copy_from_slice(&self.header_len.to_le_bytes());
        b
    }

    /// Reads an attachment: `None` unless it has the size and tag of one.
    pub fn decode(b: &[u8]) -> Option<Self> {
        if b.len() != Self::LEN || b[0..4] != Self::MAGIC {
            return None;
        }
        let u32_at = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let u64_at = |i: usize| u64::from(u32_at(i)) | (u64::from(u32_at(i + 4)) << 32);
        Some(Self { hops: b[4], host: u64_at(8), bridge: u64_at(16), elements: u32_at(24), header_len: u32_at(28) })
    }
}

/// An event on the wire: the id and how many notifications of it, both
/// little-endian `u32`.
pub fn encode_event(id: u32, count: u32) -> [u8; 8] {
    let mut b = [0u8; 8];
    b[..4].copy_from_slice(&id.to_le_bytes());
    b[4..].copy_from_slice(&count.to_le_bytes());
    b
}

/// Reads an event written by [`encode_event`].
pub fn decode_event(b: &[u8]) -> Option<(u32, u32)> {
    let b: &[u8; 8] = b.try_into().ok()?;
    Some((u32::from_le_bytes([b[0], b[1], b[2], b[3]]), u32::from_le_bytes([b[4], b[5], b[6], b[7]])))
}

// --- the configuration an importer needs -----------------------------------

fn write_type(out: &mut String, key: &str, t: &TypeDetail) {
    let v = if t.variant == TypeVariant::Slice { "slice" } else { "fixed" };
    let _ = writeln!(out, "{key}={v} {} {} {}", t.size, t.align, t.name.as_str());
}

/// A service's static configuration as `key=value` lines (what a bridge
/// answers on its configuration key).
pub fn encode_config(c: &StaticConfig) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "name={}", escape(c.name.as_str()));
    for (k, v) in [
        ("pattern", c.pattern),
        ("max_publishers", c.max_publishers),
        ("max_subscribers", c.max_subscribers),
        ("max_nodes", c.max_nodes),
        ("history_size", c.history_size),
        ("subscriber_max_buffer_size", c.subscriber_max_buffer_size),
        ("subscriber_max_borrowed_samples", c.subscriber_max_borrowed_samples),
        ("enable_safe_overflow", u32::from(c.enable_safe_overflow)),
        ("payload_alignment", c.payload_alignment),
        ("max_slice_len", c.max_slice_len),
    ] {
        let _ = writeln!(s, "{k}={v}");
    }
    write_type(&mut s, "payload", &c.payload);
    write_type(&mut s, "user_header", &c.user_header);
    if let Some(r) = &c.response {
        write_type(&mut s, "response.payload", &r.payload);
        write_type(&mut s, "response.user_header", &r.user_header);
        for (k, v) in [
            ("response.payload_alignment", r.payload_alignment),
            ("response.max_slice_len", r.max_slice_len),
            ("response.max_active_requests_per_client", r.max_active_requests_per_client),
            ("response.max_loaned_requests", r.max_loaned_requests),
            ("response.max_response_buffer_size", r.max_response_buffer_size),
            ("response.max_borrowed_responses_per_pending_response", r.max_borrowed_responses_per_pending_response),
            ("response.enable_safe_overflow", u32::from(r.enable_safe_overflow)),
            ("response.enable_fire_and_forget", u32::from(r.enable_fire_and_forget)),
        ] {
            let _ = writeln!(s, "{k}={v}");
        }
    }
    if let Some(e) = &c.event {
        let _ = writeln!(s, "event.event_id_max_value={}", e.event_id_max_value);
        let opt = |v: Option<u32>| v.map_or("none".to_owned(), |v| v.to_string());
        let _ = writeln!(s, "event.notifier_created_event={}", opt(e.notifier_created_event));
        let _ = writeln!(s, "event.notifier_dropped_event={}", opt(e.notifier_dropped_event));
        let _ = writeln!(s, "event.notifier_dead_event={}", opt(e.notifier_dead_event));
        let _ = writeln!(s, "event.deadline_ns={}", e.deadline_ns.map_or("none".to_owned(), |v| v.to_string()));
    }
    s
}

/// Why a configuration from a remote bridge was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigDecodeError(pub String);

impl std::fmt::Display for ConfigDecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "malformed service configuration from a remote bridge: {}", self.0)
    }
}

impl std::error::Error for ConfigDecodeError {}

/// Reads what [`encode_config`] wrote; every field must be there and valid.
pub fn decode_config(text: &str) -> Result<StaticConfig, ConfigDecodeError> {
    let err = |m: String| ConfigDecodeError(m);
    let mut map = std::collections::HashMap::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        let (k, v) = line.split_once('=').ok_or_else(|| err(format!("line {line:?} is no key=value")))?;
        map.insert(k, v);
    }
    let get = |k: &str| map.get(k).copied().ok_or_else(|| err(format!("{k} is missing")));
    let num = |k: &str| get(k)?.parse::<u32>().map_err(|_| err(format!("{k} is not a number")));
    let flag = |k: &str| Ok::<_, ConfigDecodeError>(num(k)? != 0);
    let opt = |k: &str| -> Result<Option<u32>, ConfigDecodeError> {
        match get(k)? {
            "none" => Ok(None),
            v => v.parse().map(Some).map_err(|_| err(format!("{k} is not a number"))),
        }
    };
    let ty = |k: &str| -> Result<TypeDetail, ConfigDecodeError> {
        let v = get(k)?;
        let mut it = v.splitn(4, ' ');
        let variant = match it.next() {
            Some("slice") => TypeVariant::Slice,
            Some("fixed") => TypeVariant::FixedSize,
            _ => return Err(err(format!("{k} has no variant"))),
        };
        let size = it.next().and_then(|s| s.parse().ok()).ok_or_else(|| err(format!("{k} has no size")))?;
        let align = it.next().and_then(|s| s.parse().ok()).ok_or_else(|| err(format!("{k} has no alignment")))?;
        let name = it.next().ok_or_else(|| err(format!("{k} has no type name")))?;
        TypeDetail::new(variant, name, size, align).map_err(|e| err(format!("{k}: {e}")))
    };
    let name = unescape(get("name")?).ok_or_else(|| err("name is not escaped".into()))?;
    let name = ServiceName::new(&name).map_err(|e| err(format!("name: {e}")))?;
    let pattern = num("pattern")?;
    let pat = MessagingPattern::from_word(pattern).ok_or_else(|| err("unknown pattern".into()))?;
    let response = match pat {
        MessagingPattern::RequestResponse => Some(ResponseConfig {
            payload: ty("response.payload")?,
            user_header: ty("response.user_header")?,
            payload_alignment: num("response.payload_alignment")?,
            max_slice_len: num("response.max_slice_len")?,
            max_active_requests_per_client: num("response.max_active_requests_per_client")?,
            max_loaned_requests: num("response.max_loaned_requests")?,
            max_response_buffer_size: num("response.max_response_buffer_size")?,
            max_borrowed_responses_per_pending_response: num("response.max_borrowed_responses_per_pending_response")?,
            enable_safe_overflow: flag("response.enable_safe_overflow")?,
            enable_fire_and_forget: flag("response.enable_fire_and_forget")?,
        }),
        _ => None,
    };
    let event = match pat {
        MessagingPattern::Event => Some(EventConfig {
            event_id_max_value: num("event.event_id_max_value")?,
            notifier_created_event: opt("event.notifier_created_event")?,
            notifier_dropped_event: opt("event.notifier_dropped_event")?,
            notifier_dead_event: opt("event.notifier_dead_event")?,
            deadline_ns: match get("event.deadline_ns")? {
                "none" => None,
                v => Some(v.parse().map_err(|_| err("event.deadline_ns is not a number".into()))?),
            },
        }),
        _ => None,
    };
    let c = StaticConfig {
        name,
        pattern,
        max_publishers: num("max_publishers")?,
        max_subscribers: num("max_subscribers")?,
        max_nodes: num("max_nodes")?,
        history_size: num("history_size")?,
        subscriber_max_buffer_size: num("subscriber_max_buffer_size")?,
        subscriber_max_borrowed_samples: num("subscriber_max_borrowed_samples")?,
        enable_safe_overflow: flag("enable_safe_overflow")?,
        payload_alignment: num("payload_alignment")?,
        payload: ty("payload")?,
        user_header: ty("user_header")?,
        max_slice_len: num("max_slice_len")?,
        response,
        event,
    };
    Ok(c)
}

/// Whether a service name matches a glob: `*` any run of characters
/// (`/` included), `?` one character, anything else itself.
pub fn glob_match(glob: &str, name: &str) -> bool {
    let (g, n): (Vec<char>, Vec<char>) = (glob.chars().collect(), name.chars().collect());
    let (mut gi, mut ni, mut star, mut mark) = (0, 0, None, 0);
    while ni < n.len() {
        if gi < g.len() && (g[gi] == '?' || g[gi] == n[ni]) {
            gi += 1;
            ni += 1;
        } else if gi < g.len() && g[gi] == '*' {
            star = Some(gi);
            mark = ni;
            gi += 1;
        } else if let Some(s) = star {
            gi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    g[gi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_escape_to_one_key_chunk_and_back() {
        for name in ["camera/front", "a b*c$d?e#f%g", "ünïcode/ok", "plain-name_1.2", "@admin", "x//y"] {
            let e = escape(name);
            assert!(!e.contains('/') && !e.contains('*') && !e.contains('$'), "{e}");
            assert!(zenoh::key_expr::KeyExpr::try_from(format!("icefloe/d/ps/{e}/00")).is_ok(), "{e}");
            assert_eq!(unescape(&e).as_deref(), Some(name));
        }
        assert_eq!(unescape("%2"), None);
        assert_eq!(unescape("%41"), None, "a plain character escaped is not a name escape writes");
        assert_eq!(unescape("a/b"), None);
    }

    #[test]
    fn attachments_round_trip_and_refuse_garbage() {
        let a = Attachment {
            hops: 1,
            host: u64::MAX - 3,
            bridge: 0x0123_4567_89ab_cdef,
            elements: 16 << 20,
            header_len: 8,
        };
        assert_eq!(Attachment::decode(&a.encode()), Some(a));
        assert_eq!(Attachment::decode(&a.encode()[..31]), None);
        let mut bad = a.encode();
        bad[0] = b'X';
        assert_eq!(Attachment::decode(&bad), None);
        assert_eq!(decode_event(&encode_event(7, 3)), Some((7, 3)));
        assert_eq!(encode_event(0x0102_0304, 1)[..4], [4, 3, 2, 1], "little-endian");
        assert_eq!(decode_event(&[0; 7]), None);
    }

    #[test]
    fn keys_parse_back() {
        let k = Keys::new("lab");
        let t = k.export_token(0xaa, 0xbb, MessagingPattern::RequestResponse, "robot/arm cmd", 0x1234);
        let e = k.parse_export(&t).unwrap();
        assert_eq!(
            (e.host, e.bridge, e.pattern, e.name.as_str(), e.hash),
            (0xaa, 0xbb, MessagingPattern::RequestResponse, "robot/arm cmd", 0x1234)
        );
        assert_eq!(k.parse_bridge(&k.bridge_token(1, 2)), Some((1, 2)));
        assert_eq!(Keys::new("other").parse_export(&t), None, "another domain's token is not ours");
        assert_eq!(k.parse_export("icefloe/lab/@svc/zz/bb/ps/n/00"), None);
    }

    #[test]
    fn globs() {
        assert!(glob_match("*", "a/b/c"));
        assert!(glob_match("camera/*", "camera/front"));
        assert!(!glob_match("camera/*", "lidar/top"));
        assert!(glob_match("c?m*/f*t", "cam/front"));
        assert!(glob_match("exact", "exact"));
        assert!(!glob_match("exact", "exactly"));
    }
}

//! Names: what users call things, and the short segment names derived from them.
//!
//! A [`ServiceName`] is any non-empty UTF-8 string of at most 255 bytes; a
//! [`NodeName`] at most 128 bytes (it may be empty). Segment names are made
//! from a [`Prefix`] and a 64-bit hash of the messaging pattern and service
//! name, written in 13 base-32 characters: short enough for every platform
//! ([`MAX_SHM_NAME_LEN`](crate::platform::MAX_SHM_NAME_LEN)). The full name is
//! stored inside the segment and compared on open, so a hash collision is an
//! error ([`ServiceOpenError::HashCollision`](crate::service::ServiceOpenError)),
//! never a silent merge.

use core::fmt;
use heapless::String;

/// The longest service name, in bytes: 255 unless the build sets
/// `ICEFLOE_MAX_SERVICE_NAME_LEN` lower (to save stack on a microcontroller).
pub const MAX_SERVICE_NAME_LEN: usize = crate::config::MAX_SERVICE_NAME_LEN;
/// The longest node name, in bytes.
pub const MAX_NODE_NAME_LEN: usize = 128;
/// The longest segment-name prefix, in bytes.
pub const MAX_PREFIX_LEN: usize = 12;
/// The prefix used unless a node is given another: `iflo_`.
pub const DEFAULT_PREFIX: &str = "iflo_";

/// Why a name was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum NameError {
    /// The name is empty.
    Empty,
    /// The name is longer than allowed (`max` bytes).
    TooLong {
        /// The limit in bytes.
        max: usize,
    },
    /// The name holds a character it may not (a control character in a
    /// service name; anything but `[A-Za-z0-9_]` in a prefix).
    InvalidCharacter,
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("name is empty"),
            Self::TooLong { max } => write!(f, "name is longer than {max} bytes"),
            Self::InvalidCharacter => f.write_str("name contains an invalid character"),
        }
    }
}

impl core::error::Error for NameError {}

macro_rules! name_type {
    ($(#[$doc:meta])* $name:ident, $max:expr, $allow_empty:expr) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash)]
        pub struct $name(String<$max>);

        impl $name {
            /// Validates `s` and makes a name of it. Costs no allocation.
            pub fn new(s: &str) -> Result<Self, NameError> {
                if s.is_empty() && !$allow_empty {
                    return Err(NameError::Empty);
                }
                if s.len() > $max {
                    return Err(NameError::TooLong { max: $max });
                }
                if s.chars().any(char::is_control) {
                    return Err(NameError::InvalidCharacter);
                }
                let mut v = String::new();
                // Cannot fail: the length was checked above.
                let _ = v.push_str(s);
                Ok(Self(v))
            }

            /// The name as a string.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.as_str())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl TryFrom<&str> for $name {
            type Error = NameError;
            fn try_from(s: &str) -> Result<Self, NameError> {
                Self::new(s)
            }
        }
    };
}

name_type!(
    /// A service's name: non-empty UTF-8 without control characters, at most
    /// [`MAX_SERVICE_NAME_LEN`] bytes. No path grammar: `"a//b"` is valid.
    ServiceName,
    MAX_SERVICE_NAME_LEN,
    false
);
name_type!(
    /// A node's name: UTF-8 without control characters, at most
    /// [`MAX_NODE_NAME_LEN`] bytes; may be empty.
    NodeName,
    MAX_NODE_NAME_LEN,
    true
);

/// The first characters of every segment a node creates or looks for; nodes
/// with different prefixes never see each other (a "domain").
/// `[A-Za-z0-9_]`, 1 to [`MAX_PREFIX_LEN`] bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prefix(String<MAX_PREFIX_LEN>);

impl Prefix {
    /// Validates a prefix.
    pub fn new(s: &str) -> Result<Self, NameError> {
        if s.is_empty() {
            return Err(NameError::Empty);
        }
        if s.len() > MAX_PREFIX_LEN {
            return Err(NameError::TooLong { max: MAX_PREFIX_LEN });
        }
        if !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(NameError::InvalidCharacter);
        }
        let mut v = String::new();
        let _ = v.push_str(s);
        Ok(Self(v))
    }

    /// The prefix as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for Prefix {
    fn default() -> Self {
        // DEFAULT_PREFIX is valid by construction.
        let mut v = String::new();
        let _ = v.push_str(DEFAULT_PREFIX);
        Self(v)
    }
}

/// A segment name handed to the platform.
pub type ShmName = String<{ crate::platform::MAX_SHM_NAME_LEN }>;

/// 64-bit FNV-1a over several byte strings. Not cryptographic: collisions are
/// caught by comparing the full name stored in the segment.
pub fn hash64(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &b in *part {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        // Separator so that ("ab","c") and ("a","bc") differ.
        h ^= 0xff;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    // Final avalanche (from splitmix64) so that near names spread.
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// Kinds of segments, the last character of their names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegmentKind {
    /// A service's segment (static config, port tables, connections).
    Service,
    /// A sending port's data segment (the chunk pool).
    Data,
    /// A node's record (its id, name and liveness), named by its id.
    Node,
}

impl SegmentKind {
    fn suffix(self) -> char {
        match self {
            Self::Service => 's',
            Self::Data => 'd',
            Self::Node => 'n',
        }
    }
}

/// `prefix + base32(hash) + kind`: at most 12 + 13 + 1 = 26 bytes.
pub fn segment_name(prefix: &Prefix, hash: u64, kind: SegmentKind) -> ShmName {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut s = ShmName::new();
    let _ = s.push_str(prefix.as_str());
    for i in (0..13).rev() {
        let digit = ((hash >> (i * 5)) & 31) as usize;
        let _ = s.push(char::from(ALPHABET[digit]));
    }
    let _ = s.push(kind.suffix());
    s
}

/// Whether `name` (as listed by the platform) is a segment of `kind` made
/// with `prefix`.
pub fn is_segment_name(prefix: &Prefix, name: &str, kind: SegmentKind) -> bool {
    name.len() == prefix.as_str().len() + 14 && name.starts_with(prefix.as_str()) && name.ends_with(kind.suffix())
}

/// A process-unique, run-unique 64-bit id: liveness id, time and a counter.
pub(crate) fn unique_id<P: crate::platform::Platform>(liveness: crate::platform::LivenessId, salt: u64) -> u64 {
    use crate::sync::Ordering;
    // The real atomic (not loom's): a process-wide counter, never in shared memory.
    static COUNTER: crate::sync::SignalWord = crate::sync::SignalWord::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let t = P::now().as_nanos() as u64;
    let words = liveness.0;
    hash64(&[
        &words[0].to_le_bytes(),
        &words[1].to_le_bytes(),
        &words[2].to_le_bytes(),
        &t.to_le_bytes(),
        &n.to_le_bytes(),
        &salt.to_le_bytes(),
    ])
}

/// The service's identity: the hash of its pattern and name.
pub(crate) fn service_hash(pattern: u32, name: &ServiceName) -> u64 {
    hash64(&[&pattern.to_le_bytes(), name.as_str().as_bytes()])
}

/// The segment name of data segment `segment` of a port.
pub(crate) fn data_segment_name(prefix: &Prefix, service_hash: u64, port_id: u64, segment: u32) -> ShmName {
    segment_name(
        prefix,
        hash64(&[&service_hash.to_le_bytes(), &port_id.to_le_bytes(), &segment.to_le_bytes()]),
        SegmentKind::Data,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_name_rules() {
        assert_eq!(ServiceName::new(""), Err(NameError::Empty));
        assert!(ServiceName::new("a//b").is_ok());
        assert!(ServiceName::new(&"x".repeat(255)).is_ok());
        assert_eq!(ServiceName::new(&"x".repeat(256)), Err(NameError::TooLong { max: 255 }));
        assert_eq!(ServiceName::new("a\nb"), Err(NameError::InvalidCharacter));
        assert_eq!(ServiceName::new("Ünïcødé/ok").unwrap().as_str(), "Ünïcødé/ok");
    }

    #[test]
    fn node_name_rules() {
        assert!(NodeName::new("").is_ok());
        assert!(NodeName::new(&"n".repeat(128)).is_ok());
        assert_eq!(NodeName::new(&"n".repeat(129)), Err(NameError::TooLong { max: 128 }));
    }

    #[test]
    fn prefix_rules() {
        assert!(Prefix::new("t_123").is_ok());
        assert_eq!(Prefix::new("a/b"), Err(NameError::InvalidCharacter));
        assert_eq!(Prefix::new(""), Err(NameError::Empty));
        assert_eq!(Prefix::new("abcdefghijklm"), Err(NameError::TooLong { max: 12 }));
    }

    #[test]
    fn segment_names_are_short_and_recognizable() {
        let p = Prefix::new("abcdefghijkl").unwrap();
        let n = segment_name(&p, u64::MAX, SegmentKind::Service);
        assert!(n.len() <= crate::platform::MAX_SHM_NAME_LEN);
        assert!(is_segment_name(&p, &n, SegmentKind::Service));
        assert!(!is_segment_name(&p, &n, SegmentKind::Data));
        assert_ne!(
            segment_name(&p, hash64(&[b"a"]), SegmentKind::Data),
            segment_name(&p, hash64(&[b"b"]), SegmentKind::Data)
        );
        assert_ne!(hash64(&[b"ab", b"c"]), hash64(&[b"a", b"bc"]));
    }
}

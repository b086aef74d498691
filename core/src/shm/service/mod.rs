//! The service segment: static config, node and port tables, connections.
//! See the [module docs](super) for the picture.

use super::queue::Queue;
use super::{LayoutBuilder, Region};
use crate::name::ServiceName;
use crate::platform::LivenessId;
use crate::sync::{load_bytes, load_u64, store_bytes, store_u64, AtomicU32, Ordering};
use crate::zero_copy::{TypeDetail, TypeVariant, MAX_TYPE_NAME_LEN};
use heapless::String;

/// Segment kind word of a service segment.
pub const KIND_SERVICE: u32 = 1;
/// Segment kind word of a data segment.
pub const KIND_DATA: u32 = 2;
/// Messaging pattern: publish-subscribe.
pub const PATTERN_PUBLISH_SUBSCRIBE: u32 = 1;
/// Messaging pattern: request-response.
pub const PATTERN_REQUEST_RESPONSE: u32 = 2;
/// Pattern tag: event (notifiers in the publisher table, listeners in the
/// subscriber table, no data segments).
pub const PATTERN_EVENT: u32 = 3;

/// Upper bounds on shared sizes, so that every layout computation stays far
/// from overflow on 32-bit targets too.
pub const MAX_QUEUE_CAPACITY: u32 = 1 << 16;
/// The most nodes a service may admit.
pub const MAX_NODES_LIMIT: u32 = 4096;

const SLOT_WORDS: usize = 8;
/// Bytes of a type name's slot in shared memory: fixed, whatever the build's
/// `MAX_TYPE_NAME_LEN`, so that builds with different limits agree on the
/// layout (and refuse, with `ExceedsBuildLimit`, names they cannot hold).
const TYPE_NAME_SLOT: usize = 256;
/// Bytes of the service name's slot.
const SERVICE_NAME_SLOT: usize = 256;
const TYPE_WORDS: usize = 4 + TYPE_NAME_SLOT / 4;
const S_PATTERN: usize = 0;
const S_MAX_PUB: usize = 1;
const S_MAX_SUB: usize = 2;
const S_MAX_NODES: usize = 3;
const S_HISTORY: usize = 4;
const S_BUFFER: usize = 5;
const S_BORROWED: usize = 6;
const S_FLAGS: usize = 7;
const S_PAYLOAD_ALIGN: usize = 8;
const S_NAME_LEN: usize = 9;
const S_NAME: usize = 10;
const S_PAYLOAD: usize = S_NAME + SERVICE_NAME_SLOT / 4;
const S_USER_HEADER: usize = S_PAYLOAD + TYPE_WORDS;
const S_MAX_SLICE: usize = S_USER_HEADER + TYPE_WORDS;
// The response side of a request-response service (zero for other patterns).
const R_PRESENT: usize = S_MAX_SLICE + 1;
const R_FLAGS: usize = R_PRESENT + 1;
const R_ALIGN: usize = R_PRESENT + 2;
const R_MAX_SLICE: usize = R_PRESENT + 3;
const R_ACTIVE: usize = R_PRESENT + 4;
const R_LOANED: usize = R_PRESENT + 5;
const R_BUFFER: usize = R_PRESENT + 6;
const R_BORROWED: usize = R_PRESENT + 7;
const R_PAYLOAD: usize = R_PRESENT + 8;
const R_USER_HEADER: usize = R_PAYLOAD + TYPE_WORDS;
// The event side of an event service (zero for other patterns).
const E_PRESENT: usize = R_USER_HEADER + TYPE_WORDS;
const E_MAX_ID: usize = E_PRESENT + 1;
const E_CREATED: usize = E_PRESENT + 2;
const E_DROPPED: usize = E_PRESENT + 3;
const E_DEAD: usize = E_PRESENT + 4;
const E_DEADLINE_FLAG: usize = E_PRESENT + 5;
const E_DEADLINE_LO: usize = E_PRESENT + 6;
const E_DEADLINE_HI: usize = E_PRESENT + 7;
const STATIC_WORDS: usize = E_PRESENT + 8;
/// Stored for an event id that is not configured.
const NO_EVENT: u32 = u32::MAX;

/// The largest `event_id_max_value` a service may have (each listener keeps
/// a counter per id).
pub const MAX_EVENT_ID_LIMIT: u32 = 65_535;

const FLAG_SAFE_OVERFLOW: u32 = 1;
const FLAG_FIRE_AND_FORGET: u32 = 2;

/// The most requests one client may have pending at once, in any build.
pub const MAX_ACTIVE_REQUESTS_LIMIT: u32 = 256;

mod config;
mod layout;
mod table;
mod view;

pub use config::*;
pub use layout::*;
pub use table::*;
pub use view::*;

#[cfg(test)]
#[cfg(not(loom))]
mod tests {
    use super::*;

    fn cfg() -> StaticConfig {
        StaticConfig {
            name: ServiceName::new("a/b").unwrap(),
            pattern: PATTERN_PUBLISH_SUBSCRIBE,
            max_publishers: 2,
            max_subscribers: 3,
            max_nodes: 4,
            history_size: 1,
            subscriber_max_buffer_size: 2,
            subscriber_max_borrowed_samples: 2,
            enable_safe_overflow: true,
            payload_alignment: 8,
            payload: TypeDetail::of::<u64>().unwrap(),
            user_header: TypeDetail::of::<()>().unwrap(),
            max_slice_len: 1,
            response: None,
            event: None,
        }
    }

    fn rr_cfg() -> StaticConfig {
        StaticConfig {
            pattern: PATTERN_REQUEST_RESPONSE,
            history_size: 0,
            subscriber_max_buffer_size: 3,
            subscriber_max_borrowed_samples: 3,
            response: Some(ResponseConfig {
                payload: TypeDetail::of_payload::<[u8]>().unwrap(),
                user_header: TypeDetail::of::<u32>().unwrap(),
                payload_alignment: 1,
                max_slice_len: 1000,
                max_active_requests_per_client: 3,
                max_loaned_requests: 2,
                max_response_buffer_size: 2,
                max_borrowed_responses_per_pending_response: 2,
                enable_safe_overflow: false,
                enable_fire_and_forget: true,
            }),
            ..cfg()
        }
    }

    #[test]
    fn request_response_config_round_trips() {
        let c = rr_cfg();
        let words: std::vec::Vec<AtomicU32> = (0..STATIC_WORDS).map(|_| AtomicU32::new(0)).collect();
        c.write(&words);
        assert_eq!(StaticConfig::read(&words), Ok(c));
        // A response part on a publish-subscribe service is garbage.
        words[S_PATTERN].store(PATTERN_PUBLISH_SUBSCRIBE, Ordering::Relaxed);
        assert_eq!(StaticConfig::read(&words), Err(ConfigError::Corrupt));
        words[S_PATTERN].store(PATTERN_REQUEST_RESPONSE, Ordering::Relaxed);
        words[R_ACTIVE].store(MAX_ACTIVE_REQUESTS_LIMIT + 1, Ordering::Relaxed);
        assert_eq!(StaticConfig::read(&words), Err(ConfigError::Corrupt));
    }

    fn event_cfg() -> StaticConfig {
        StaticConfig {
            pattern: PATTERN_EVENT,
            history_size: 0,
            event: Some(EventConfig {
                event_id_max_value: 40,
                notifier_created_event: Some(0),
                notifier_dropped_event: None,
                notifier_dead_event: Some(40),
                deadline_ns: Some(5_000_000_000),
            }),
            ..cfg()
        }
    }

    #[test]
    fn event_config_round_trips_and_rejects_garbage() {
        let c = event_cfg();
        let words: std::vec::Vec<AtomicU32> = (0..STATIC_WORDS).map(|_| AtomicU32::new(0)).collect();
        c.write(&words);
        assert_eq!(StaticConfig::read(&words), Ok(c));
        // An id past the maximum, an unknown presence or deadline flag,
        // an event part on another pattern: all garbage.
        for (at, bad) in [(E_DEAD, 41), (E_PRESENT, 2), (E_DEADLINE_FLAG, 7), (E_MAX_ID, MAX_EVENT_ID_LIMIT + 1)] {
            let keep = words[at].load(Ordering::Relaxed);
            words[at].store(bad, Ordering::Relaxed);
            assert_eq!(StaticConfig::read(&words), Err(ConfigError::Corrupt), "word {at} = {bad} accepted");
            words[at].store(keep, Ordering::Relaxed);
        }
        words[S_PATTERN].store(PATTERN_PUBLISH_SUBSCRIBE, Ordering::Relaxed);
        assert_eq!(StaticConfig::read(&words), Err(ConfigError::Corrupt));
    }

    #[test]
    fn listener_event_areas_lie_within_the_segment_and_apart() {
        let c = event_cfg();
        let l = ServiceLayout::of(&c);
        assert_eq!(l.events_off + 3 * l.event_stride, l.size);
        assert_eq!(l.conns_off, l.channels_off, "events have no connections");
        let mem: std::vec::Vec<u64> = std::vec![0; l.size / 8];
        // SAFETY: the vector is valid for `l.size` bytes, 8-aligned, and
        // outlives the region; it is accessed only through atomics.
        let region = unsafe { Region::new(mem.as_ptr() as *mut u8, l.size) };
        let v = ServiceView::new(region, &c).unwrap();
        assert!(v.listener_event(3).is_none());
        let (w0, e0) = v.listener_event(0).unwrap();
        let (w2, e2) = v.listener_event(2).unwrap();
        assert_eq!(e2.max_id(), 40);
        assert!(e2.raise(40) && e2.raise(0));
        assert!(!e0.pending(), "listeners share no counter");
        assert!(!w2.signal() && w0.announce() == 1, "listeners share no wake word");
        let mut got = std::vec::Vec::new();
        e2.collect(&mut |id, n| got.push((id, n)));
        assert_eq!(got, [(0, 1), (40, 1)]);
        assert_eq!(v.dead_event(), Some(40));
    }

    #[test]
    fn response_connections_lie_within_the_segment_and_apart() {
        let c = rr_cfg();
        let l = ServiceLayout::of(&c);
        assert!(l.conns_off + 6 * l.conn_stride <= l.channels_off);
        assert!(l.channels_off + 2 * 64 <= l.rconns_off);
        assert_eq!(l.rconns_off + 6 * l.rconn_stride, l.rx_wake_off);
        assert_eq!((l.rx_wake_off + 3 * 64, l.tx_wake_off + 2 * 64), (l.tx_wake_off, l.size), "one wake line per port");
        assert_eq!(l.rconn_stride % 64, 0);
        let mem: std::vec::Vec<u64> = std::vec![0; l.size / 8];
        // SAFETY: the vector is valid for `l.size` bytes, 8-aligned, and
        // outlives the region; it is accessed only through atomics.
        let region = unsafe { Region::new(mem.as_ptr() as *mut u8, l.size) };
        let v = ServiceView::new(region, &c).unwrap();
        let last = v.response_connection(2, 1).unwrap();
        assert!(last.channel(2).is_some() && last.channel(3).is_none());
        assert!(v.response_connection(3, 0).is_none() && v.response_connection(0, 2).is_none());
        assert_eq!(v.listening(1).unwrap().len(), 3);
        // Queues of neighbouring channels do not share words.
        last.channel(0).unwrap().push(7, &mut 0).unwrap();
        assert_eq!(last.channel(1).unwrap().len(), Ok(0));
        assert_eq!(last.channel(0).unwrap().len(), Ok(1));
    }

    #[test]
    fn static_config_round_trips_and_rejects_garbage() {
        let c = cfg();
        let words: std::vec::Vec<AtomicU32> = (0..STATIC_WORDS).map(|_| AtomicU32::new(0)).collect();
        c.write(&words);
        assert_eq!(StaticConfig::read(&words), Ok(c));
        words[S_MAX_PUB].store(0, Ordering::Relaxed);
        assert_eq!(StaticConfig::read(&words), Err(ConfigError::Corrupt));
        words[S_MAX_PUB].store(1, Ordering::Relaxed);
        words[S_NAME_LEN].store(9999, Ordering::Relaxed);
        assert_eq!(StaticConfig::read(&words), Err(ConfigError::Corrupt));
    }

    #[test]
    fn layout_parts_do_not_overlap() {
        let l = ServiceLayout::of(&cfg());
        assert!(l.static_off < l.state_off && l.state_off < l.epoch_off && l.epoch_off < l.nodes_off);
        assert!(l.nodes_off + 4 * 32 <= l.pubs_off && l.pubs_off + 2 * 32 <= l.subs_off);
        assert!(l.subs_off + 3 * 32 <= l.conns_off);
        assert_eq!(l.conns_off + 6 * l.conn_stride, l.rx_wake_off);
        assert_eq!((l.rx_wake_off + 3 * 64, l.tx_wake_off + 2 * 64), (l.tx_wake_off, l.size), "one wake line per port");
        assert_eq!(l.conn_stride % 64, 0);
    }

    #[test]
    fn slot_claim_release_generations() {
        let words: std::vec::Vec<AtomicU32> = (0..8).map(|_| AtomicU32::new(0)).collect();
        let s = Slot { w: &words };
        let g = s.try_claim().unwrap();
        assert_eq!(g, 1);
        assert!(s.try_claim().is_none());
        s.activate(g);
        let st = s.state();
        assert!(!s.release(join_state(g, status::CLAIMED)));
        assert!(s.release(st));
        assert!(!s.release(st));
        assert_eq!(s.try_claim(), Some(2));
        words[0].store(join_state(u16::MAX, status::FREE), Ordering::Relaxed);
        assert_eq!(s.try_claim(), Some(1));
    }

    #[test]
    fn a_claim_for_a_node_records_it_until_release() {
        let words: std::vec::Vec<AtomicU32> = (0..8).map(|_| AtomicU32::new(0)).collect();
        let s = Slot { w: &words };
        assert_eq!(state_owner(s.state()), None);
        let g = s.try_claim_for(4095).unwrap();
        assert_eq!((split_state(s.state()), state_owner(s.state())), ((g, status::CLAIMED), Some(4095)));
        s.activate(g);
        assert_eq!((split_state(s.state()), state_owner(s.state())), ((g, status::ACTIVE), Some(4095)));
        assert!(s.release(s.state()));
        assert_eq!((split_state(s.state()).1, state_owner(s.state())), (status::FREE, None));
        assert!(s.try_claim_for(0).is_some());
        assert_eq!(state_owner(s.state()), Some(0));
        assert_eq!(s.try_claim_for(1), None, "taken");
    }

    #[test]
    fn a_leaving_port_keeps_its_owner_until_it_is_gone() {
        let words: std::vec::Vec<AtomicU32> = (0..8).map(|_| AtomicU32::new(0)).collect();
        let s = Slot { w: &words };
        let g = s.try_claim_for(7).unwrap();
        s.activate(g);
        assert!(!s.begin_leave(g.wrapping_add(1)), "another generation's slot");
        assert!(s.begin_leave(g));
        // Not active (receivers let go), not free (nobody claims it), and
        // still naming its node (a cleaner finishes if the port dies now).
        assert_eq!((split_state(s.state()), state_owner(s.state())), ((g, status::LEAVING), Some(7)));
        assert_eq!(s.try_claim_for(1), None);
        s.leave(g);
        assert_eq!(split_state(s.state()), (g, status::FREE));
        assert!(!s.begin_leave(g), "already free");
    }
}

#[cfg(test)]
#[cfg(loom)]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;

    /// Two claimants race for one slot: exactly one wins, and a release
    /// with a stale state word does nothing.
    #[test]
    fn one_claimant_wins() {
        loom::model(|| {
            let m: Arc<std::vec::Vec<AtomicU32>> = Arc::new((0..SLOT_WORDS).map(|_| AtomicU32::new(0)).collect());
            let m2 = m.clone();
            let other = loom::thread::spawn(move || {
                let s = Slot { w: &m2 };
                let g = s.try_claim();
                if let Some(g) = g {
                    s.set_field(1, 7);
                    s.activate(g);
                }
                g.is_some()
            });
            let s = Slot { w: &m };
            let mine = s.try_claim();
            if let Some(g) = mine {
                s.set_field(1, 9);
                s.activate(g);
            }
            let theirs = other.join().unwrap();
            assert!(mine.is_some() ^ theirs, "exactly one claimant must win");
            let st = s.state();
            assert_eq!(split_state(st), (1, status::ACTIVE));
            assert_eq!(s.owner(), if theirs { 7 } else { 9 });
            assert!(!s.release(join_state(2, status::ACTIVE)));
            assert!(s.release(st));
        });
    }
}

//! Node and port table slots: claimed with a CAS on their state word,
//! filled, then published.

use super::*;

/// Status of a table slot (low 16 bits of its state word).
pub mod status {
    /// Free for the taking.
    pub const FREE: u32 = 0;
    /// Taken, being filled.
    pub const CLAIMED: u32 = 1;
    /// In use.
    pub const ACTIVE: u32 = 2;
    /// Its port is going away: receivers treat it as gone, the port (or,
    /// if it dies, a cleaner) unlinks its segments and then frees it.
    pub const LEAVING: u32 = 3;
}

/// Splits a state word into (generation, status). The bits above the two
/// of the status name the owner a port slot was claimed for
/// ([`state_owner`]).
pub const fn split_state(v: u32) -> (u16, u32) {
    ((v >> 16) as u16, v & STATUS_MASK)
}

/// The status bits of a state word.
const STATUS_MASK: u32 = 0x3;

/// The node slot a port slot was claimed for, recorded in its state word
/// by the claim itself (so that a port killed right after claiming, before
/// it wrote its owner field, is still known to be that node's).
pub const fn state_owner(v: u32) -> Option<u32> {
    match (v & 0xffff) >> 2 {
        0 => None,
        n => Some(n - 1),
    }
}

/// Joins generation and status.
pub const fn join_state(generation: u16, st: u32) -> u32 {
    ((generation as u32) << 16) | st
}

/// The next generation: never 0, so that 0 can mean "none".
pub const fn next_generation(g: u16) -> u16 {
    if g == u16::MAX {
        1
    } else {
        g + 1
    }
}

/// A view of one table slot (node or port): 8 words.
#[derive(Clone, Copy)]
pub struct Slot<'a> {
    pub(super) w: &'a [AtomicU32],
}

impl<'a> Slot<'a> {
    /// The state word (generation and status).
    pub fn state(&self) -> u32 {
        self.w[0].load(Ordering::Acquire)
    }

    /// Claims the slot if free: returns its new generation.
    pub fn try_claim(&self) -> Option<u16> {
        self.claim(status::CLAIMED)
    }

    /// Claims a port slot for node slot `owner` (below
    /// [`MAX_NODES_LIMIT`](super::MAX_NODES_LIMIT)), recording the owner in
    /// the state word with the claim.
    pub fn try_claim_for(&self, owner: u32) -> Option<u16> {
        self.claim(status::CLAIMED | ((owner + 1) << 2))
    }

    fn claim(&self, claimed: u32) -> Option<u16> {
        let cur = self.w[0].load(Ordering::Relaxed);
        let (g, st) = split_state(cur);
        if st != status::FREE {
            return None;
        }
        let ng = next_generation(g);
        self.w[0].compare_exchange(cur, join_state(ng, claimed), Ordering::AcqRel, Ordering::Relaxed).ok().map(|_| ng)
    }

    /// Marks a claimed slot active (after its fields are written); the
    /// owner its claim recorded stays.
    pub fn activate(&self, generation: u16) {
        let owner_bits = self.w[0].load(Ordering::Relaxed) & 0xffff & !STATUS_MASK;
        self.w[0].store(join_state(generation, status::ACTIVE | owner_bits), Ordering::SeqCst);
    }

    /// Frees the slot if it still is `expected` (a state word); true if this
    /// call freed it. Exactly one of several racing callers succeeds.
    pub fn release(&self, expected: u32) -> bool {
        let (g, _) = split_state(expected);
        self.w[0].compare_exchange(expected, join_state(g, status::FREE), Ordering::SeqCst, Ordering::Relaxed).is_ok()
    }

    /// A port starts leaving its slot (still holding generation `g`): the
    /// slot turns [`LEAVING`](status::LEAVING), keeping its owner, so that
    /// nobody connects while the port unlinks its segments and a cleaner
    /// finishes the job if the port dies half-way. True if the slot was
    /// this port's.
    pub fn begin_leave(&self, g: u16) -> bool {
        let st = self.state();
        let (sg, status) = split_state(st);
        if sg != g || status == status::FREE {
            return false;
        }
        let leaving = (st & !STATUS_MASK) | status::LEAVING;
        self.w[0].compare_exchange(st, leaving, Ordering::SeqCst, Ordering::Relaxed).is_ok()
    }

    /// A port leaves its slot: frees it if it still holds generation `g`
    /// (a cleaner may have freed it already), marking it ownerless first.
    pub fn leave(&self, g: u16) {
        let st = self.state();
        if split_state(st).0 == g {
            self.set_field(1, NO_OWNER);
            self.release(st);
        }
    }

    /// Field word `i` (1..8).
    pub fn field(&self, i: usize) -> u32 {
        self.w.get(i).map_or(0, |w| w.load(Ordering::Relaxed))
    }

    /// Sets field word `i`.
    pub fn set_field(&self, i: usize, v: u32) {
        if let Some(w) = self.w.get(i) {
            w.store(v, Ordering::Relaxed);
        }
    }

    /// Node slot: the owner's liveness id.
    pub fn liveness(&self) -> LivenessId {
        LivenessId([self.field(1), self.field(2), self.field(3)])
    }

    /// Node slot: writes the owner's liveness id and node id.
    pub fn set_node(&self, id: LivenessId, node_id: u64) {
        for (i, v) in id.0.iter().enumerate() {
            self.set_field(1 + i, *v);
        }
        store_u64(&self.w[4], &self.w[5], node_id);
    }

    /// Node slot: the node id.
    pub fn node_id(&self) -> u64 {
        load_u64(&self.w[4], &self.w[5])
    }

    /// Port slot: owning node slot index.
    pub fn owner(&self) -> u32 {
        self.field(1)
    }

    /// Port slot: the port id (names its data segment).
    pub fn port_id(&self) -> u64 {
        load_u64(&self.w[2], &self.w[3])
    }

    /// Port slot: writes owner and port id.
    pub fn set_port(&self, owner: u32, port_id: u64) {
        self.set_field(1, owner);
        store_u64(&self.w[2], &self.w[3], port_id);
    }
}

/// Port slot field: the id the port's next data segment will get.
pub const FIELD_NEXT_SEGMENT: usize = 4;
/// Port slot field: the id of the port's oldest data segment still alive.
pub const FIELD_OLDEST_SEGMENT: usize = 5;

/// Subscriber slot field: the history it asks for, plus one (0: the
/// service's `history_size`, all a queue holds). Written before the slot is
/// activated; a publisher reads it when it connects, and bounds it by the
/// queue (any value a peer writes is safe).
pub const FIELD_HISTORY_REQUEST: usize = 6;

/// Field index of a port slot's "owner" word, reset to this on release.
pub const NO_OWNER: u32 = u32::MAX;

//! A publisher's data segment: layout info, the publisher's bookkeeping, and
//! the chunks. See the [module docs](super).

use super::pool::{words_for as pool_words, Pool};
use super::relptr::RelPtr;
use super::{align_up, LayoutBuilder, Region};
use crate::sync::{load_u64, store_u64, AtomicU32, Ordering};

/// Bytes of the header at the start of every chunk.
pub const CHUNK_HEADER_SIZE: usize = 16;
const INFO_WORDS: usize = 16;
/// Words of publisher-side state per connection before its bitset
/// (the in-flight count, padding).
const CONN_FIXED_WORDS: usize = 2;

/// The most chunks one data segment may hold.
pub const MAX_CHUNKS: u32 = 1 << 24;

/// What a chunk holds at its start, written by the sender before it sends.
pub struct ChunkHeader<'a> {
    w: &'a [AtomicU32],
}

impl ChunkHeader<'_> {
    /// Number of payload elements (1 for fixed-size payloads).
    #[inline]
    pub fn len(&self) -> u32 {
        self.w[0].load(Ordering::Relaxed)
    }
    /// Whether the payload has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The sending port's id.
    #[inline]
    pub fn origin(&self) -> u64 {
        load_u64(&self.w[1], &self.w[2])
    }
    /// Request-response: the request's channel and sequence (see
    /// [`port::request`](crate::port)); 0 for publish-subscribe.
    #[inline]
    pub fn tag(&self) -> u32 {
        self.w[3].load(Ordering::Relaxed)
    }
    /// Writes the header (tag 0).
    #[inline]
    pub fn set(&self, len: u32, origin: u64) {
        self.w[0].store(len, Ordering::Relaxed);
        store_u64(&self.w[1], &self.w[2], origin);
        self.w[3].store(0, Ordering::Relaxed);
    }
    /// Writes the tag.
    #[inline]
    pub fn set_tag(&self, tag: u32) {
        self.w[3].store(tag, Ordering::Relaxed);
    }
}

/// The layout of a data segment, computed from the service's types and the
/// publisher's sizing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataLayout {
    /// Chunks in the pool.
    pub chunk_count: u32,
    /// Connections (the service's subscriber slots).
    pub connections: u32,
    /// History depth.
    pub history: u32,
    /// Payload capacity of each chunk, in elements.
    pub capacity: u32,
    /// Offset of the layout info.
    pub info_off: usize,
    /// Pool bitmap.
    pub pool_off: usize,
    /// Reference counts, one word per chunk.
    pub refs_off: usize,
    /// History ring: count, next, then references (two words each).
    pub history_off: usize,
    /// Per-connection publisher state.
    pub conns_off: usize,
    /// Bytes per connection state.
    pub conn_stride: usize,
    /// First chunk.
    pub chunks_off: usize,
    /// Bytes per chunk (a multiple of 64 and of the chunk alignment).
    pub stride: usize,
    /// User header offset within a chunk.
    pub user_header_off: usize,
    /// Payload offset within a chunk.
    pub payload_off: usize,
    /// Total size.
    pub size: usize,
    /// `stride`, to find a chunk's index from its offset without a divide.
    stride_div: super::Divisor,
}

/// The requested data segment does not fit the limits (more than
/// [`MAX_CHUNKS`] chunks, or more than 4 GiB in total).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentTooLarge;

/// Sizing of a data segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataSizing {
    /// Chunks in the pool.
    pub chunk_count: u32,
    /// Connections (the service's subscriber slots).
    pub connections: u32,
    /// History depth.
    pub history: u32,
    /// Payload capacity in elements.
    pub capacity: u32,
    /// Payload element size and alignment (the service's payload alignment).
    pub elem: (u32, u32),
    /// User header size and alignment.
    pub user_header: (u32, u32),
}

impl DataLayout {
    /// Computes the layout, refusing sizes beyond the limits.
    pub fn new(s: DataSizing) -> Result<Self, SegmentTooLarge> {
        if s.chunk_count == 0 || s.chunk_count > MAX_CHUNKS || s.capacity == 0 {
            return Err(SegmentTooLarge);
        }
        let (uh_size, uh_align) = (s.user_header.0 as u64, s.user_header.1.max(1) as u64);
        let (el_size, el_align) = (s.elem.0 as u64, s.elem.1.max(1) as u64);
        let au = |v: u64, a: u64| v.div_ceil(a) * a;
        let user_header_off = au(CHUNK_HEADER_SIZE as u64, uh_align);
        let payload_off = au(user_header_off + uh_size, el_align);
        let payload_bytes = el_size.checked_mul(s.capacity as u64).ok_or(SegmentTooLarge)?;
        let chunk_align = el_align.max(uh_align).max(64);
        let stride = au(payload_off + payload_bytes, chunk_align);
        let mut b = LayoutBuilder::default();
        b.words(super::header::HEADER_WORDS);
        let info_off = b.words(INFO_WORDS);
        let pool_off = b.words(pool_words(s.chunk_count));
        let refs_off = b.words(s.chunk_count as usize);
        let history_off = b.words(2 + 2 * s.history as usize);
        let conn_words = align_up(CONN_FIXED_WORDS + pool_words(s.chunk_count), 16);
        let conns_off = b.words(conn_words * s.connections as usize);
        let chunks_start = align_up(b.size(), chunk_align as usize) as u64;
        let total = stride
            .checked_mul(s.chunk_count as u64)
            .and_then(|c| c.checked_add(chunks_start))
            .ok_or(SegmentTooLarge)?;
        if total > u32::MAX as u64 || total > usize::MAX as u64 {
            return Err(SegmentTooLarge);
        }
        Ok(Self {
            chunk_count: s.chunk_count,
            connections: s.connections,
            history: s.history,
            capacity: s.capacity,
            info_off,
            pool_off,
            refs_off,
            history_off,
            conns_off,
            conn_stride: conn_words * 4,
            chunks_off: chunks_start as usize,
            stride: stride as usize,
            user_header_off: user_header_off as usize,
            payload_off: payload_off as usize,
            size: total as usize,
            // `total` fits in 32 bits (checked above), so the stride does.
            stride_div: super::Divisor::new(stride as u32),
        })
    }

    /// The byte offset of chunk `index`.
    #[inline]
    pub fn chunk_offset(&self, index: u32) -> usize {
        self.chunks_off + index as usize * self.stride
    }

    /// The chunk index a reference points at, after checking that it names
    /// `segment` and the start of a chunk in bounds.
    #[inline]
    pub fn chunk_index(&self, r: RelPtr, segment: u32) -> Option<u32> {
        // Segment, bounds and alignment as for any reference; then it must
        // start a chunk.
        let off = r.resolve(segment, self.size, self.stride, 64).ok()?;
        // In bounds, so below 4 GiB (the layout's limit).
        let off = u32::try_from(off.checked_sub(self.chunks_off)?).ok()?;
        if self.stride_div.remainder(off) != 0 {
            return None;
        }
        let index = self.stride_div.quotient(off);
        (index < self.chunk_count).then_some(index)
    }

    /// The reference to chunk `index` of `segment`.
    #[inline]
    pub fn chunk_ref(&self, index: u32, segment: u32) -> RelPtr {
        RelPtr { segment, offset: self.chunk_offset(index) as u32 }
    }
}

/// Identity words of a data segment, checked by every subscriber.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataIdentity {
    /// Hash of the service it belongs to.
    pub service_hash: u64,
    /// The publisher's port id.
    pub port_id: u64,
    /// The segment id carried by every reference into it.
    pub segment: u32,
}

/// A data segment seen through its validated layout.
pub struct DataView {
    region: Region,
    layout: DataLayout,
}

/// The publisher's state for one connection.
pub struct PubConn<'a> {
    w: &'a [AtomicU32],
    bits: Pool<'a>,
}

impl PubConn<'_> {
    /// Chunks of this segment out on this connection.
    #[inline]
    pub fn in_flight(&self) -> u32 {
        self.w[0].load(Ordering::Relaxed)
    }
    #[inline]
    fn set_in_flight(&self, n: u32) {
        self.w[0].store(n, Ordering::Relaxed);
    }
    /// Records chunk `i` as out on this connection; false if it already was.
    #[inline]
    pub fn mark_out(&self, i: u32) -> bool {
        if self.bits.is_allocated(i) {
            return false;
        }
        // Set exactly bit `i`: allocate-style set via release's inverse.
        let word = &self.raw_bits()[(i / 32) as usize];
        word.fetch_or(1 << (i % 32), Ordering::Relaxed);
        self.set_in_flight(self.in_flight().wrapping_add(1));
        true
    }
    /// Records chunk `i` as back; false if it was not out (a peer's lie).
    #[inline]
    pub fn mark_back(&self, i: u32) -> bool {
        if self.bits.release(i).is_err() {
            return false;
        }
        self.set_in_flight(self.in_flight().saturating_sub(1));
        true
    }
    #[inline]
    fn raw_bits(&self) -> &[AtomicU32] {
        &self.w[CONN_FIXED_WORDS..]
    }
    /// Takes back every chunk out on this connection, calling `f` for each.
    pub fn drain_out(&self, mut f: impl FnMut(u32)) {
        for i in 0..self.bits.capacity() {
            if self.bits.is_allocated(i) {
                let _ = self.bits.release(i);
                f(i);
            }
        }
        self.set_in_flight(0);
    }
    /// Forgets everything (a fresh connection).
    pub fn reset(&self) {
        for w in self.w.iter() {
            w.store(0, Ordering::Relaxed);
        }
    }
}

impl DataView {
    /// A view over `region` for `layout`; `None` if the region is too small.
    pub fn new(region: Region, layout: DataLayout) -> Option<Self> {
        (region.len() >= layout.size).then_some(Self { region, layout })
    }

    /// `count` words at byte offset `off`, a range of the validated layout
    /// (a part's offset plus an index the caller checked against the
    /// layout's counts). No check on the hot path beyond a debug assertion:
    /// `new` checked once that the whole layout fits the region.
    #[inline]
    fn laid_out(&self, off: usize, count: usize) -> &[AtomicU32] {
        debug_assert!(off % 4 == 0 && off + count * 4 <= self.layout.size);
        // SAFETY: the range lies within `layout.size` bytes (every caller
        // passes an offset the layout computed and an index bounded by the
        // layout's counts, and `DataLayout::new` placed each part inside
        // `size`), and `new` checked that the region holds `size` bytes.
        // Offsets are 4-aligned (parts start on cache lines, chunks are 64
        // bytes apart at least) as is the mapping's base (`Region::new`'s
        // contract), and the region's words are only used atomically.
        unsafe { core::slice::from_raw_parts(self.region.base().add(off).cast::<AtomicU32>(), count) }
    }

    /// The layout.
    #[inline]
    pub fn layout(&self) -> &DataLayout {
        &self.layout
    }

    /// Writes the identity and layout info (creator).
    pub fn write_info(&self, id: DataIdentity) {
        let w = self.region.words(self.layout.info_off, INFO_WORDS);
        let l = &self.layout;
        store_u64(&w[0], &w[1], id.service_hash);
        store_u64(&w[2], &w[3], id.port_id);
        let rest =
            [l.chunk_count, l.stride as u32, l.chunks_off as u32, l.capacity, l.connections, l.history, id.segment];
        for (slot, v) in w[4..].iter().zip(rest) {
            slot.store(v, Ordering::Relaxed);
        }
    }

    /// Reads the info of a mapped data segment and checks it against the
    /// expected identity and types; returns the validated layout.
    pub fn read_layout(region: &Region, expect: DataIdentity, types: (u32, u32, u32, u32)) -> Option<DataLayout> {
        let mut b = LayoutBuilder::default();
        b.words(super::header::HEADER_WORDS);
        let info_off = b.words(INFO_WORDS);
        let w = region.try_words(info_off, INFO_WORDS)?;
        let r = |i: usize| w[i].load(Ordering::Relaxed);
        if load_u64(&w[0], &w[1]) != expect.service_hash
            || load_u64(&w[2], &w[3]) != expect.port_id
            || r(10) != expect.segment
        {
            return None;
        }
        let layout = DataLayout::new(DataSizing {
            chunk_count: r(4),
            connections: r(8),
            history: r(9),
            capacity: r(7),
            elem: (types.0, types.1),
            user_header: (types.2, types.3),
        })
        .ok()?;
        let consistent =
            layout.stride == r(5) as usize && layout.chunks_off == r(6) as usize && layout.size <= region.len();
        consistent.then_some(layout)
    }

    /// The chunk pool.
    #[inline]
    pub fn pool(&self) -> Pool<'_> {
        let words = self.laid_out(self.layout.pool_off, pool_words(self.layout.chunk_count));
        Pool::new(words, self.layout.chunk_count).unwrap_or_else(unreachable_pool)
    }

    /// Chunk `i`'s reference count word.
    #[inline]
    pub fn refcount(&self, i: u32) -> Option<&AtomicU32> {
        (i < self.layout.chunk_count).then(|| &self.laid_out(self.layout.refs_off + i as usize * 4, 1)[0])
    }

    /// The history ring words: count, next, then `history` chunk
    /// references of two words each (they may name older segments).
    pub fn history(&self) -> &[AtomicU32] {
        self.laid_out(self.layout.history_off, 2 + 2 * self.layout.history as usize)
    }

    /// The publisher's state for connection `s`.
    #[inline]
    pub fn conn(&self, s: u32) -> Option<PubConn<'_>> {
        if s >= self.layout.connections {
            return None;
        }
        let w =
            self.laid_out(self.layout.conns_off + s as usize * self.layout.conn_stride, self.layout.conn_stride / 4);
        let bits = Pool::new(w.get(CONN_FIXED_WORDS..)?, self.layout.chunk_count)?;
        Some(PubConn { w, bits })
    }

    /// Chunk `i`'s header.
    #[inline]
    pub fn chunk_header(&self, i: u32) -> Option<ChunkHeader<'_>> {
        (i < self.layout.chunk_count).then(|| ChunkHeader { w: self.laid_out(self.layout.chunk_offset(i), 4) })
    }

    /// Pointer to chunk `i`'s first byte (valid: `i` is checked).
    #[inline]
    pub fn chunk_ptr(&self, i: u32) -> Option<*mut u8> {
        // SAFETY: the offset of an in-range chunk lies within the validated
        // layout, which fits the mapping.
        (i < self.layout.chunk_count).then(|| unsafe { self.region.base().add(self.layout.chunk_offset(i)) })
    }

    /// Pointers to chunk `i`'s user header and payload (valid: `i` is
    /// checked, and both offsets lie within every chunk of the layout).
    #[inline]
    pub fn chunk_parts(&self, i: u32) -> Option<(*mut u8, *mut u8)> {
        let base = self.chunk_ptr(i)?;
        // SAFETY: the user-header and payload offsets lie within the chunk's
        // stride (the layout was computed, or validated, that way), and the
        // chunk within the mapping.
        Some(unsafe { (base.add(self.layout.user_header_off), base.add(self.layout.payload_off)) })
    }
}

#[cold]
fn unreachable_pool<'a>() -> Pool<'a> {
    // A validated layout always holds its bitmap; an empty pool (no chunk)
    // is the harmless answer should that ever not be so.
    Pool::new(&[], 0).expect("an empty pool needs no words")
}

#[cfg(test)]
#[cfg(not(loom))]
mod tests {
    use super::*;

    fn sizing() -> DataSizing {
        DataSizing { chunk_count: 34, connections: 8, history: 2, capacity: 100, elem: (4, 4), user_header: (24, 8) }
    }

    #[test]
    fn layout_aligns_and_bounds() {
        let l = DataLayout::new(sizing()).unwrap();
        assert_eq!(l.user_header_off, 16);
        assert_eq!(l.payload_off, 40);
        assert_eq!(l.stride % 64, 0);
        assert!(l.stride >= 440);
        assert_eq!(l.size, l.chunks_off + 34 * l.stride);
        let big = DataLayout::new(DataSizing { capacity: u32::MAX, elem: (16, 16), ..sizing() });
        assert_eq!(big, Err(SegmentTooLarge));
        assert_eq!(DataLayout::new(DataSizing { chunk_count: 0, ..sizing() }), Err(SegmentTooLarge));
    }

    #[test]
    fn chunk_references_are_checked() {
        let l = DataLayout::new(sizing()).unwrap();
        let r = l.chunk_ref(5, 3);
        assert_eq!(l.chunk_index(r, 3), Some(5));
        assert_eq!(l.chunk_index(r, 2), None);
        assert_eq!(l.chunk_index(RelPtr { offset: r.offset + 8, ..r }, 3), None);
        assert_eq!(l.chunk_index(l.chunk_ref(34, 3), 3), None);
        assert_eq!(l.chunk_index(RelPtr { segment: 3, offset: 0 }, 3), None);
    }
}

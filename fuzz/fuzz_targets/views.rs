//! The shared-memory readers themselves, in memory, at full speed: the
//! input is a service segment (header checked as an opener checks it) (its static config decides the layout) and a
//! data segment, as a peer may have written them. Everything a port reads
//! is read: the static config and layout, node and port slots, connection
//! and response-connection queues (length, pops with the consumer's cached
//! index, pushes with the producer's), listening words, event states, and
//! the data segment's layout, pool, reference counts, per-connection
//! bitsets, chunk headers and the chunk a fuzzed reference names.
#![no_main]

use icefloe_core::shm::data::{DataIdentity, DataView};
use icefloe_core::shm::relptr::RelPtr;
use icefloe_core::shm::service::{ServiceLayout, ServiceView, StaticConfig};
use icefloe_core::shm::Region;
use icefloe_core::sync::AtomicU32;
use libfuzzer_sys::fuzz_target;

/// 64-byte aligned, zero-padded copy of `bytes` (at least `min` bytes).
fn aligned(bytes: &[u8], min: usize) -> Vec<[u64; 8]> {
    let lines = bytes.len().max(min).div_ceil(64);
    let mut v = vec![[0u64; 8]; lines];
    for (i, b) in bytes.iter().enumerate() {
        let (line, at) = (i / 64, i % 64);
        v[line][at / 8] |= u64::from(*b) << ((at % 8) * 8);
    }
    v
}

fn region(buf: &mut [[u64; 8]]) -> Region {
    // SAFETY: `buf` is valid, 64-byte aligned and outlives every use of the
    // region below (all within this call); its words are used atomically.
    unsafe { Region::new(buf.as_mut_ptr().cast::<u8>(), buf.len() * 64) }
}

fn drive_queue(q: &icefloe_core::shm::queue::Queue<'_>, caches: [u32; 2]) {
    let (mut tail, mut head) = (caches[0], caches[1]);
    let _ = q.len();
    let _ = q.is_empty();
    for overflow in [false, true] {
        for _ in 0..3 {
            let _ = q.pop(&mut tail, overflow);
        }
    }
    q.learn_head(q.hint(), &mut head);
    let _ = q.push(0x1234_5678_9abc, &mut head);
    let _ = q.push_overflowing(42, &mut head);
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 16 {
        return;
    }
    let word = |i: usize| u32::from_le_bytes(data[i * 4..i * 4 + 4].try_into().unwrap());
    let (split, caches) = (word(0) as usize % data.len(), [word(1), word(2)]);
    let reference = u64::from(word(3)) | (u64::from(word(1)) << 32);
    let (service_bytes, data_bytes) = data[16..].split_at(split.min(data.len() - 16));

    // The service segment: its header checked as an opener does (against
    // the kind and the mapped length), the config read where a service
    // keeps it.
    let static_off = ServiceLayout::static_offset();
    let mut sbuf = aligned(service_bytes, static_off + 4096);
    let sregion = region(&mut sbuf);
    if let Some(header) = icefloe_core::shm::header::Header::new(sregion.words(0, 16)) {
        let _ = header.check(icefloe_core::shm::service::KIND_SERVICE, service_bytes.len());
        let _ = header.check(icefloe_core::shm::service::KIND_DATA, sregion.len());
        let _ = header.creator();
    }
    let words = sregion.words(static_off, (sregion.len() - static_off) / 4);
    if let Ok(config) = StaticConfig::read(words) {
        let layout = ServiceLayout::of(&config);
        if layout.size <= 1 << 22 {
            // A segment of the size the config asks for, holding the input.
            let mut full = aligned(service_bytes, layout.size);
            let view = ServiceView::new(region(&mut full), &config);
            if let Some(view) = view {
                let _ = (view.state(), view.epoch(), view.destroyer(), view.dead_event());
                for i in 0..view.node_count() {
                    let s = view.node(i).unwrap();
                    let _ = (s.state(), s.liveness(), s.node_id());
                }
                for i in 0..view.sender_count().max(view.receiver_count()) {
                    for s in [view.sender(i), view.receiver(i)].into_iter().flatten() {
                        let st = s.state();
                        let _ =
                            (icefloe_core::shm::service::split_state(st), icefloe_core::shm::service::state_owner(st));
                        let _ = (s.owner(), s.port_id(), s.field(4), s.field(5), s.field(6));
                    }
                    let _ = (view.sender_waker(i), view.receiver_waker(i), view.listening(i));
                    if let Some((waker, events)) = view.listener_event(i) {
                        let _ = (waker.announce(), events.max_id(), events.pending());
                        let _ = events.collect(&mut |_, _| {});
                        let _ = events.raise(word(3) % (events.max_id() + 2));
                    }
                }
                for p in 0..view.sender_count().min(8) {
                    for r in 0..view.receiver_count().min(8) {
                        if let Some(c) = view.connection(p, r) {
                            let _ = (c.pub_word.load(core::sync::atomic::Ordering::Relaxed), c.sub_word);
                            drive_queue(&c.submission, caches);
                            drive_queue(&c.completion, caches);
                        }
                        if let Some(rc) = view.response_connection(r, p) {
                            for k in 0..rc.channels().min(8) {
                                if let Some(q) = rc.channel(k) {
                                    drive_queue(&q, caches);
                                }
                            }
                            drive_queue(&rc.completion, caches);
                        }
                    }
                }
                let _ = AtomicU32::new(0);
            }
        }
    }

    // The data segment: its layout is read back and checked against what
    // the receiver expects, then its parts are used.
    let mut dbuf = aligned(data_bytes, 256);
    let dregion = region(&mut dbuf);
    // The identity as the segment states it (a receiver knows the real
    // one; the check is a plain compare), and types from the input.
    let info =
        |i: usize| dregion.words(64 + i * 4, 1).first().map_or(0, |w| w.load(core::sync::atomic::Ordering::Relaxed));
    let stated = DataIdentity {
        service_hash: u64::from(info(0)) | u64::from(info(1)) << 32,
        port_id: u64::from(info(2)) | u64::from(info(3)) << 32,
        segment: info(10),
    };
    for (identity, types) in [
        (stated, (1, 1, 0, 1)),
        (stated, (8, 8, 0, 1)),
        (stated, (word(2) & 0xff, 1 << (word(2) >> 8 & 7), word(3) & 0xff, 1 << (word(3) >> 8 & 7))),
    ] {
        let Some(layout) = DataView::read_layout(&dregion, identity, types) else { continue };
        let Some(view) = DataView::new(dregion, layout) else { continue };
        let pool = view.pool();
        let _ = (pool.free_count(), pool.capacity());
        let r = RelPtr::from_u64(reference);
        if let Some(i) = view.layout().chunk_index(r, identity.segment) {
            let _ = view.chunk_header(i).map(|h| (h.len(), h.origin(), h.tag()));
            if let Some((header, payload)) = view.chunk_parts(i) {
                let _ = (header, payload);
            }
            let _ = view.refcount(i).map(|c| c.load(core::sync::atomic::Ordering::Relaxed));
        }
        for s in 0..4 {
            if let Some(pc) = view.conn(s) {
                let _ = pc.in_flight();
                let _ = pc.mark_out(word(3) % 64);
                let _ = pc.mark_back(word(2) % 64);
            }
        }
        let _ = view.history().len();
        if let Some(i) = pool.allocate(word(1) as usize) {
            let _ = pool.release(i);
        }
        let _ = pool.release(word(2));
    }
});

//! Where each part of a service segment lies, computed from its config.

use super::*;

/// Byte offsets of every part of a service segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceLayout {
    /// Static config.
    pub static_off: usize,
    /// Service state word (own line).
    pub state_off: usize,
    /// Port epoch word (own line).
    pub epoch_off: usize,
    /// Node table.
    pub nodes_off: usize,
    /// Publisher table.
    pub pubs_off: usize,
    /// Subscriber table.
    pub subs_off: usize,
    /// First connection.
    pub conns_off: usize,
    /// Bytes per connection.
    pub conn_stride: usize,
    /// Submission queue offset within a connection.
    pub submission_off: usize,
    /// Completion queue offset within a connection.
    pub completion_off: usize,
    /// Request-response: each client's listening words, one per channel.
    pub channels_off: usize,
    /// Request-response: words per client in the channel area.
    pub channel_words: usize,
    /// Request-response: the first response connection (server × client).
    pub rconns_off: usize,
    /// Bytes per response connection.
    pub rconn_stride: usize,
    /// Offset of the "stream ended" words within a response connection.
    pub ended_off: usize,
    /// Offset of channel 0's submission queue within a response connection.
    pub rsub_off: usize,
    /// Bytes per channel submission queue.
    pub rsub_stride: usize,
    /// Offset of the response completion queue within a response connection.
    pub rcomp_off: usize,
    /// Events: the first listener's event area.
    pub events_off: usize,
    /// Events: bytes per listener (wake line, summary, counters).
    pub event_stride: usize,
    /// Events: summary words per listener.
    pub summary_words: usize,
    /// Data patterns: the wake lines of the subscriber-table ports.
    pub rx_wake_off: usize,
    /// Data patterns: the wake lines of the publisher-table ports.
    pub tx_wake_off: usize,
    /// Total segment size.
    pub size: usize,
}

impl ServiceLayout {
    /// The layout for a (valid) config.
    pub fn of(cfg: &StaticConfig) -> Self {
        let mut b = LayoutBuilder::default();
        b.words(crate::shm::header::HEADER_WORDS);
        let static_off = b.words(STATIC_WORDS);
        let state_off = b.words(16);
        let epoch_off = b.words(16);
        let nodes_off = b.words(cfg.max_nodes as usize * SLOT_WORDS);
        let pubs_off = b.words(cfg.max_publishers as usize * SLOT_WORDS);
        let subs_off = b.words(cfg.max_subscribers as usize * SLOT_WORDS);
        // A connection: publisher line, subscriber line, then two queues.
        let submission_off = 128;
        let completion_off = submission_off + Queue::words_for(cfg.subscriber_max_buffer_size) * 4;
        let conn_stride = completion_off + Queue::words_for(cfg.completion_capacity()) * 4;
        // Events have no queues: notifiers write into the listeners' states.
        let n = if cfg.event.is_some() { 0 } else { cfg.max_publishers as usize * cfg.max_subscribers as usize };
        let conns_off = b.add(n * conn_stride, 64);
        // Request-response: per client a line (or more) of channel words;
        // per server and client a response connection: server line,
        // client line, ended words, one submission queue per channel, one
        // completion queue.
        let (k, rbuf, rcomp) = match &cfg.response {
            Some(r) => (r.max_active_requests_per_client as usize, r.max_response_buffer_size, r.completion_capacity()),
            None => (0, 0, 0),
        };
        let channel_words = crate::shm::align_up(k, 16);
        let channels_off = b.add(cfg.max_publishers as usize * channel_words * 4 * usize::from(k > 0), 64);
        let ended_off = 128;
        let rsub_off = ended_off + channel_words * 4;
        let rsub_stride = if k > 0 { Queue::words_for(rbuf) * 4 } else { 0 };
        let rcomp_off = rsub_off + k * rsub_stride;
        let rconn_stride = if k > 0 { rcomp_off + Queue::words_for(rcomp) * 4 } else { 0 };
        let rconns_off = b.add(cfg.max_subscribers as usize * cfg.max_publishers as usize * rconn_stride, 64);
        // Events: per listener a wake line, the summary bitmap, the counters.
        let (summary_words, event_stride) = match &cfg.event {
            Some(e) => {
                let sw = crate::shm::event::summary_words(e.event_id_max_value);
                let counters = e.event_id_max_value as usize + 1;
                (sw, 64 + crate::shm::align_up(sw * 4, 64) + crate::shm::align_up(counters * 4, 64))
            }
            None => (0, 0),
        };
        let events_off = b.add(cfg.max_subscribers as usize * event_stride, 64);
        // Data patterns: a wake line per receiving port (subscribers,
        // servers) and per sending port (clients wait for responses there).
        let wakes = usize::from(cfg.event.is_none());
        let rx_wake_off = b.add(cfg.max_subscribers as usize * 64 * wakes, 64);
        let tx_wake_off = b.add(cfg.max_publishers as usize * 64 * wakes, 64);
        Self {
            static_off,
            state_off,
            epoch_off,
            nodes_off,
            pubs_off,
            subs_off,
            conns_off,
            conn_stride,
            submission_off,
            completion_off,
            channels_off,
            channel_words,
            rconns_off,
            rconn_stride,
            ended_off,
            rsub_off,
            rsub_stride,
            rcomp_off,
            events_off,
            event_stride,
            summary_words,
            rx_wake_off,
            tx_wake_off,
            size: b.size(),
        }
    }

    /// Where the static config starts (the same for every config).
    pub fn static_offset() -> usize {
        let mut b = LayoutBuilder::default();
        b.words(crate::shm::header::HEADER_WORDS);
        b.words(STATIC_WORDS)
    }
}

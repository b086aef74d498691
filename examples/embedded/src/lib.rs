//! What both images do, on any icefloe platform: a publisher sends `ROUNDS`
//! samples of `[u32]` slices whose length grows (`PowerOfTwo` from 4 up to
//! `MAX_SAMPLE`), a client sends requests of growing byte slices (up to
//! `MAX_REQUEST`) and the server answers each with a stream of two
//! responses. Every element is checked on arrival. Output and the exit
//! status go to the host through semihosting.
#![no_std]

use core::time::Duration;
use cortex_m_semihosting::debug;
#[cfg(feature = "defmt")]
use defmt_semihosting as _;

/// Prints a line to the host: formatted text through semihosting, or, with
/// the `defmt` feature, a defmt frame (decode with `defmt-print -e ELF`).
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {{
        #[cfg(feature = "defmt")]
        defmt::println!($($arg)*);
        #[cfg(not(feature = "defmt"))]
        cortex_m_semihosting::hprintln!($($arg)*);
    }};
}
use icefloe_core::platform::Platform;
use icefloe_core::handle::borrowed::{Client, PendingResponse, Publisher, Server, Subscriber};
use icefloe_core::{AllocationStrategy, Node, NodeBuilder, PublishSubscribe, RequestResponse, ServiceName};

/// Rounds of the exchange.
pub const ROUNDS: u32 = 12;
/// The longest sample, in `u32` elements (the publisher's `max_slice_len`).
pub const MAX_SAMPLE: usize = 64;
/// The longest request or response, in bytes (`max_slice_len` of client and server).
pub const MAX_REQUEST: usize = 256;

/// The sample length of round `n`.
pub fn sample_len(n: u32) -> usize {
    ((n * n) as usize).clamp(1, MAX_SAMPLE)
}

/// The request length of round `n` (byte 0 carries `n`).
pub fn request_len(n: u32) -> usize {
    ((2 * n * n) as usize).clamp(1, MAX_REQUEST)
}

/// Element `i` of round `n`'s sample.
pub fn word(n: u32, i: usize) -> u32 {
    n.wrapping_mul(1000).wrapping_add(i as u32)
}

/// Byte `i` of a slice of round `n` (requests: `n`, responses: `n + 1`).
pub fn byte(n: u32, i: usize) -> u8 {
    ((i + n as usize) % 251) as u8
}

/// Unwraps a result, failing the run with `what` on error. Unlike
/// `expect`, it does not format the error: the `Debug` text of every error
/// type would cost the image about 2 KiB of flash (build with the core's
/// `defmt` feature to log errors compactly instead).
pub trait OrFail<T> {
    /// The value, or a failed run naming `what`.
    fn or_fail(self, what: &str) -> T;
}

impl<T, E> OrFail<T> for Result<T, E> {
    fn or_fail(self, what: &str) -> T {
        match self {
            Ok(v) => v,
            Err(_) => {
                say!("failed: {}", what);
                exit(false)
            }
        }
    }
}

/// Prints through semihosting and exits QEMU with success or failure.
pub fn exit(ok: bool) -> ! {
    say!("{}", if ok { "icefloe embedded example: PASS" } else { "icefloe embedded example: FAIL" });
    debug::exit(if ok { debug::EXIT_SUCCESS } else { debug::EXIT_FAILURE });
    #[allow(clippy::empty_loop)]
    loop {}
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    #[cfg(feature = "defmt")]
    defmt::println!("panic: {}", defmt::Display2Format(info));
    #[cfg(not(feature = "defmt"))]
    cortex_m_semihosting::hprintln!("panic: {}", info);
    exit(false)
}

/// A node of the platform.
#[inline(never)]
pub fn node<P: Platform>() -> Node<P> {
    NodeBuilder::<P>::new().create().or_fail("node")
}

/// The publish-subscribe service, sized for one publisher and one subscriber.
#[inline(never)]
pub fn pubsub<P: Platform>(node: &Node<P>) -> P::Hold<PublishSubscribe<P, [u32], ()>> {
    node.service_builder(&ServiceName::new("demo/samples").or_fail("name"))
        .publish_subscribe::<[u32]>()
        .max_publishers(1)
        .max_subscribers(1)
        .max_nodes(2)
        .subscriber_max_buffer_size(1)
        .subscriber_max_borrowed_samples(1)
        .history_size(0)
        .max_slice_len(MAX_SAMPLE as u32)
        .open_or_create()
        .or_fail("publish-subscribe service")
}

/// The request-response service, sized for one client and one server.
#[inline(never)]
pub fn request_response<P: Platform>(node: &Node<P>) -> P::Hold<RequestResponse<P, [u8], [u8], (), ()>> {
    node.service_builder(&ServiceName::new("demo/requests").or_fail("name"))
        .request_response::<[u8], [u8]>()
        .max_clients(1)
        .max_servers(1)
        .max_nodes(2)
        .max_active_requests_per_client(1)
        .max_loaned_requests(1)
        .max_response_buffer_size(2)
        .max_borrowed_responses_per_pending_response(1)
        .open_or_create()
        .or_fail("request-response service")
}

/// The growing publisher.
#[inline(never)]
pub fn publisher<P: Platform>(service: &PublishSubscribe<P, [u32], ()>) -> Publisher<'_, P, [u32], ()> {
    service
        .publisher_builder()
        .max_loaned_samples(1)
        .initial_max_slice_len(4)
        .allocation_strategy(AllocationStrategy::PowerOfTwo)
        .max_slice_len(MAX_SAMPLE as u32)
        .create()
        .or_fail("publisher")
}

/// The subscriber.
#[inline(never)]
pub fn subscriber<P: Platform>(service: &PublishSubscribe<P, [u32], ()>) -> Subscriber<'_, P, [u32], ()> {
    service.subscriber_builder().create().or_fail("subscriber")
}

/// The growing client. Its pool is sized for what this exchange holds at
/// most, one chunk under the QoS's worst case: a request loan and the one
/// sent request (which its pending response keeps, while the server holds
/// it too); the worst case adds a chunk for a request the server still
/// holds after its pending response went, which never happens here.
#[inline(never)]
pub fn client<P: Platform>(service: &RequestResponse<P, [u8], [u8], (), ()>) -> Client<'_, P, [u8], [u8], (), ()> {
    service
        .client_builder()
        .initial_max_slice_len(8)
        .allocation_strategy(AllocationStrategy::PowerOfTwo)
        .max_slice_len(MAX_REQUEST as u32)
        .override_request_preallocation(|worst| worst - 1)
        .create()
        .or_fail("client")
}

/// The growing server.
#[inline(never)]
pub fn server<P: Platform>(service: &RequestResponse<P, [u8], [u8], (), ()>) -> Server<'_, P, [u8], [u8], (), ()> {
    service
        .server_builder()
        .max_loaned_responses_per_request(1)
        .initial_max_slice_len(8)
        .allocation_strategy(AllocationStrategy::PowerOfTwo)
        .max_slice_len(MAX_REQUEST as u32)
        .create()
        .or_fail("server")
}

/// Sends round `n`'s sample.
#[inline(never)]
pub fn publish<P: Platform>(publisher: &Publisher<'_, P, [u32], ()>, n: u32) {
    let sample = publisher.loan_slice_uninit(sample_len(n)).or_fail("loan").write_from_fn(|i| word(n, i));
    assert_eq!(sample.send().or_fail("send"), 1, "the sample reached no subscriber");
}

/// Receives and checks round `n`'s sample.
#[inline(never)]
pub fn take_sample<P: Platform>(subscriber: &Subscriber<'_, P, [u32], ()>, n: u32) {
    let sample = subscriber.receive().or_fail("receive").expect("a sample");
    assert_eq!(sample.len(), sample_len(n), "sample length");
    assert!(sample.iter().enumerate().all(|(i, &w)| w == word(n, i)), "sample content");
}

/// Answers one waiting request with a stream of two responses (its length,
/// then half); returns whether there was one.
#[inline(never)]
pub fn serve<P: Platform>(server: &Server<'_, P, [u8], [u8], (), ()>) -> bool {
    let Some(request) = server.receive().or_fail("receive request") else { return false };
    let n = u32::from(request[0]);
    assert!(request.iter().enumerate().all(|(i, &b)| b == byte(n, i)), "request content");
    for len in [request.len(), request.len() / 2 + 1] {
        request
            .loan_slice_uninit(len)
            .or_fail("response loan")
            .write_from_fn(|i| byte(n + 1, i))
            .send()
            .or_fail("respond");
    }
    true
}

/// Checks round `n`'s responses: two, then the end of the stream.
#[inline(never)]
pub fn check_responses<P: Platform>(pending: &PendingResponse<'_, '_, P, [u8], [u8], (), ()>, n: u32) {
    let len = request_len(n);
    for expected in [len, len / 2 + 1] {
        let response = pending.receive().or_fail("receive response").expect("a response");
        assert_eq!(response.len(), expected, "response length");
        assert!(response.iter().enumerate().all(|(i, &b)| b == byte(n + 1, i)), "response content");
    }
    assert!(pending.receive().or_fail("receive").is_none(), "a third response");
    assert!(!pending.is_connected(), "the stream did not end");
}

/// A wait bound for handshakes between tasks (never a measured duration).
pub const WATCHDOG: Duration = Duration::from_secs(10);

/// A fault (bad memory access, invalid instruction) ends the run with the
/// registers printed, instead of hanging.
#[cortex_m_rt::exception]
unsafe fn HardFault(frame: &cortex_m_rt::ExceptionFrame) -> ! {
    #[cfg(feature = "defmt")]
    defmt::println!("hard fault: {}", defmt::Debug2Format(frame));
    #[cfg(not(feature = "defmt"))]
    cortex_m_semihosting::hprintln!("hard fault: {:?}", frame);
    exit(false)
}

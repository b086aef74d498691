//! The same exchange without an operating system: one superloop plays
//! publisher, subscriber, client and server in turn, on a static arena,
//! with SysTick as the clock.
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicU32, Ordering};
use core::time::Duration;
use cortex_m::peripheral::syst::SystClkSource;
use cortex_m_rt::{entry, exception};
use icefloe_embedded_example as demo;
use icefloe_embedded_example::OrFail;

/// The arena's size: what the exchange needs, no more.
const ARENA: usize = 14_848;
/// SysTick reload for a 1 kHz tick at the boards' 25 MHz (QEMU's MPS2; the
/// LM3S6965 model ticks at the same rate as far as the tests care).
const RELOAD: u32 = 25_000 - 1;

static MILLIS: AtomicU32 = AtomicU32::new(0);

#[exception]
fn SysTick() {
    MILLIS.fetch_add(1, Ordering::Relaxed);
}

fn clock() -> Duration {
    Duration::from_millis(u64::from(MILLIS.load(Ordering::Relaxed)))
}

icefloe_core::bare_metal_platform!(Board, arena = ARENA, segments = 13, clock = clock);

#[entry]
fn main() -> ! {
    let mut core = cortex_m::Peripherals::take().expect("core peripherals");
    core.SYST.set_clock_source(SystClkSource::Core);
    core.SYST.set_reload(RELOAD);
    core.SYST.clear_current();
    core.SYST.enable_interrupt();
    core.SYST.enable_counter();
    {
        let node = demo::node::<Board>();
        let samples = demo::pubsub(&node);
        let requests = demo::request_response(&node);
        let publisher = demo::publisher(&samples);
        let subscriber = demo::subscriber(&samples);
        let client = demo::client(&requests);
        let server = demo::server(&requests);
        for n in 1..=demo::ROUNDS {
            demo::publish(&publisher, n);
            demo::take_sample(&subscriber, n);
            let request = client
                .loan_slice_uninit(demo::request_len(n))
                .or_fail("request loan")
                .write_from_fn(|i| demo::byte(n, i));
            let pending = request.send().or_fail("send request");
            assert!(demo::serve(&server), "round {}: no request", n);
            demo::check_responses(&pending, n);
        }
        icefloe_embedded_example::say!(
            "bare metal: {} rounds; publisher grew {} times, client {}, server {}; arena peak {} of {} bytes",
            demo::ROUNDS,
            publisher.number_of_growths(),
            client.number_of_growths(),
            server.number_of_growths(),
            Board::peak_bytes_in_use(),
            ARENA
        );
    }
    assert_eq!(Board::free_bytes(), ARENA, "segments left in the arena");
    demo::exit(true);
}

//! Two FreeRTOS tasks exchanging publish-subscribe samples and
//! request-response slices through icefloe, with no heap: task A publishes
//! and requests, task B subscribes and serves. They hand over through
//! signal words, sleeping on task notifications in between.
#![no_std]
#![no_main]

use core::ptr::addr_of_mut;
use cortex_m_rt::entry;
use icefloe_core::platform::Platform;
use icefloe_core::sync::{Ordering, SignalWord};
use icefloe_embedded_example as demo;
use icefloe_embedded_example::OrFail;
use icefloe_freertos::task::{self, TaskMemory};
use icefloe_freertos::FreeRtos;

/// Words of stack per task: 12 KiB. A task's peak moves by up to about
/// 1.2 KiB from run to run (which path a send or a wait takes depends on
/// where the other task was preempted), and the image fails below 512 bytes
/// of headroom; 11 KiB left too little in one run of a few dozen with defmt.
const STACK: usize = 3072;
static mut TASK_A: TaskMemory<STACK> = TaskMemory::new();
static mut TASK_B: TaskMemory<STACK> = TaskMemory::new();

/// B is ready (1), then B finished (2).
static B_STATE: SignalWord = SignalWord::new(0);
/// The round A has sent (sample and request).
static SENT: SignalWord = SignalWord::new(0);
/// The round B has taken and answered.
static DONE: SignalWord = SignalWord::new(0);

fn wait_for(word: &SignalWord, at_least: u32) {
    let start = FreeRtos::now();
    loop {
        let v = word.load(Ordering::Acquire);
        if v >= at_least {
            return;
        }
        assert!(FreeRtos::now() - start < demo::WATCHDOG, "watchdog: the other task did not get to {}", at_least);
        FreeRtos::signal_wait(word, v, Some(demo::WATCHDOG));
    }
}

fn announce(word: &SignalWord, value: u32) {
    word.store(value, Ordering::Release);
    FreeRtos::signal_wake_all(word);
}

fn task_a() {
    let total = icefloe_freertos::ARENA_BYTES;
    {
        let node = demo::node::<FreeRtos>();
        let samples = demo::pubsub(&node);
        let requests = demo::request_response(&node);
        let publisher = demo::publisher(&samples);
        let client = demo::client(&requests);
        wait_for(&B_STATE, 1);
        for n in 1..=demo::ROUNDS {
            demo::publish(&publisher, n);
            let request = client
                .loan_slice_uninit(demo::request_len(n))
                .or_fail("request loan")
                .write_from_fn(|i| demo::byte(n, i));
            let pending = request.send().or_fail("send request");
            announce(&SENT, n);
            wait_for(&DONE, n);
            demo::check_responses(&pending, n);
        }
        icefloe_embedded_example::say!(
            "freertos: {} rounds; publisher grew {} times, client {} times; arena peak {} of {} bytes",
            demo::ROUNDS,
            publisher.number_of_growths(),
            client.number_of_growths(),
            FreeRtos::peak_bytes_in_use(),
            total
        );
        wait_for(&B_STATE, 2);
    }
    assert_eq!(FreeRtos::free_bytes(), total, "segments left in the arena");
    let unused = task::Task::current().map_or(0, |t| t.stack_unused_low_water());
    icefloe_embedded_example::say!("freertos: task a used at most {} of {} stack bytes", (STACK - unused) * 4, STACK * 4);
    check_stack_margin("a", unused);
    demo::exit(true);
}

fn task_b() {
    {
        let node = demo::node::<FreeRtos>();
        let samples = demo::pubsub(&node);
        let requests = demo::request_response(&node);
        let subscriber = demo::subscriber(&samples);
        let server = demo::server(&requests);
        announce(&B_STATE, 1);
        for n in 1..=demo::ROUNDS {
            wait_for(&SENT, n);
            demo::take_sample(&subscriber, n);
            assert!(demo::serve(&server), "round {}: no request", n);
            announce(&DONE, n);
        }
        icefloe_embedded_example::say!("freertos: server grew {} times", server.number_of_growths());
    }
    let unused = task::Task::current().map_or(0, |t| t.stack_unused_low_water());
    icefloe_embedded_example::say!("freertos: task b used at most {} of {} stack bytes", (STACK - unused) * 4, STACK * 4);
    check_stack_margin("b", unused);
    announce(&B_STATE, 2);
}

/// The high-water mark must leave room: a stack used to its last word has
/// most likely overflowed into its neighbour, whatever the run printed.
fn check_stack_margin(which: &str, unused_words: usize) {
    const MARGIN_WORDS: usize = 128;
    assert!(
        unused_words >= MARGIN_WORDS,
        "task {} left only {} of its {} stack bytes unused (at least {} wanted)",
        which,
        unused_words * 4,
        STACK * 4,
        MARGIN_WORDS * 4
    );
}

#[entry]
fn main() -> ! {
    use core::mem::size_of;
    icefloe_embedded_example::say!(
        "freertos: sizes in bytes: node {}, services {} + {}, publisher {}, subscriber {}, client {}, server {}",
        size_of::<icefloe_core::Node<FreeRtos>>(),
        size_of::<icefloe_core::PublishSubscribe<FreeRtos, [u32], ()>>(),
        size_of::<icefloe_core::RequestResponse<FreeRtos, [u8], [u8], (), ()>>(),
        size_of::<icefloe_core::handle::borrowed::Publisher<'static, FreeRtos, [u32], ()>>(),
        size_of::<icefloe_core::handle::borrowed::Subscriber<'static, FreeRtos, [u32], ()>>(),
        size_of::<icefloe_core::handle::borrowed::Client<'static, FreeRtos, [u8], [u8], (), ()>>(),
        size_of::<icefloe_core::handle::borrowed::Server<'static, FreeRtos, [u8], [u8], (), ()>>(),
    );
    // SAFETY: main runs once, before the scheduler: these are the only
    // references ever made to the two task memories.
    let (a, b) = unsafe { (&mut *addr_of_mut!(TASK_A), &mut *addr_of_mut!(TASK_B)) };
    task::spawn(a, c"a", 2, task_a).or_fail("task a");
    task::spawn(b, c"b", 2, task_b).or_fail("task b");
    task::start_scheduler();
    panic!("the scheduler returned");
}

//! Runs the example from one command: a subscriber process and a publisher
//! process exchange 1,000 slices growing from 1 byte to 1,000,000 bytes.

use example_pubsub_dynamic_data::{run_publisher, run_subscriber};
use std::process::Command;
use std::time::{Duration, Instant};

const ROUNDS: u64 = 1000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // RUST_LOG=info shows what icefloe reports (dead nodes reclaimed, stalled or corrupt peers).
    env_logger::init();
    match std::env::args().nth(1).as_deref() {
        Some("--publisher") => return run_publisher(Some(ROUNDS), Duration::from_millis(2), 100),
        Some("--subscriber") => return run_subscriber(Some(ROUNDS), 100),
        _ => {}
    }
    let me = std::env::current_exe()?;
    println!("starting a subscriber and a publisher process: {ROUNDS} slices of 1 B to 1 MB");
    let mut subscriber = Command::new(&me).arg("--subscriber").spawn()?;
    std::thread::sleep(Duration::from_millis(300));
    let p = Command::new(&me).arg("--publisher").status()?;
    let deadline = Instant::now() + Duration::from_secs(10);
    let s = loop {
        if let Some(s) = subscriber.try_wait()? {
            break s;
        }
        if Instant::now() > deadline {
            subscriber.kill()?;
            subscriber.wait()?;
            return Err("the subscriber did not receive every slice within 10 s".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    if p.success() && s.success() {
        println!("pubsub_dynamic_data example: both processes finished cleanly");
        Ok(())
    } else {
        Err(format!("publisher: {p}, subscriber: {s}").into())
    }
}

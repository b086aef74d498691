//! Runs the example from one command: starts a subscriber process and a
//! publisher process (this same program in another role), lets them exchange
//! 30 samples over about three seconds, and checks both finished cleanly.

use std::process::Command;
use std::time::Duration;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // RUST_LOG=info shows what icefloe reports (dead nodes reclaimed, stalled or corrupt peers).
    env_logger::init();
    let n = 30u64;
    match std::env::args().nth(1).as_deref() {
        Some("--publisher") => return example_publish_subscribe::run_publisher(Some(n), Duration::from_millis(100)),
        Some("--subscriber") => return example_publish_subscribe::run_subscriber(Some(n)),
        _ => {}
    }
    let me = std::env::current_exe()?;
    println!("starting a subscriber and a publisher process; they exchange {n} samples");
    let mut subscriber = Command::new(&me).arg("--subscriber").spawn()?;
    // Give the subscriber a moment so that it sees the first sample.
    std::thread::sleep(Duration::from_millis(300));
    let mut publisher = Command::new(&me).arg("--publisher").spawn()?;
    let p = publisher.wait()?;
    // The subscriber ends when it has all samples; do not wait forever.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let s = loop {
        if let Some(s) = subscriber.try_wait()? {
            break s;
        }
        if std::time::Instant::now() > deadline {
            subscriber.kill()?;
            return Err("the subscriber did not receive every sample within 10 s".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    if p.success() && s.success() {
        println!("publish_subscribe example: both processes finished cleanly");
        Ok(())
    } else {
        Err(format!("publisher: {p}, subscriber: {s}").into())
    }
}

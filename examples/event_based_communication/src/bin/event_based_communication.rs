//! Runs the example from one command: a subscriber process and a publisher
//! process (this same program in other roles), each sleeping in a WaitSet;
//! the publisher sends 20 readings, 50 ms apart, and the subscriber must
//! get all 20.

use std::io::BufRead;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // RUST_LOG=info shows what icefloe reports (dead nodes reclaimed, stalled or corrupt peers).
    env_logger::init();
    let n = 20u64;
    match std::env::args().nth(1).as_deref() {
        Some("--publisher") => {
            return example_event_based_communication::run_publisher(Some(n), Duration::from_millis(50))
        }
        Some("--subscriber") => {
            let got = example_event_based_communication::run_subscriber(Duration::from_millis(500))?;
            return if got == n { Ok(()) } else { Err(format!("subscriber got {got} of {n}").into()) };
        }
        _ => {}
    }
    let me = std::env::current_exe()?;
    println!("starting a subscriber and a publisher process, each sleeping in a WaitSet");
    let mut subscriber = Command::new(&me).arg("--subscriber").stdout(Stdio::piped()).spawn()?;
    let mut out = std::io::BufReader::new(subscriber.stdout.take().ok_or("subscriber stdout")?);
    let mut line = String::new();
    while !line.contains("subscriber: ready") {
        line.clear();
        if out.read_line(&mut line)? == 0 {
            return Err("the subscriber ended before it was ready".into());
        }
        print!("{line}");
    }
    let echo = std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::stdout()));
    let publisher = Command::new(&me).arg("--publisher").status()?;
    let deadline = Instant::now() + Duration::from_secs(10);
    let s = loop {
        if let Some(s) = subscriber.try_wait()? {
            break s;
        }
        if Instant::now() > deadline {
            subscriber.kill()?;
            return Err("the subscriber did not get the last reading within 10 s".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = echo.join();
    if publisher.success() && s.success() {
        println!("event_based_communication example: every reading arrived, nobody polled");
        Ok(())
    } else {
        Err(format!("publisher: {publisher}, subscriber: {s}").into())
    }
}

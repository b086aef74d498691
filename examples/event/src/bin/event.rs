//! Runs the example from one command: a listener process and a notifier
//! process (this same program in other roles); the notifier sends 20
//! events, 50 ms apart, and the listener must count all 20.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // RUST_LOG=info shows what icefloe reports (dead nodes reclaimed, stalled or corrupt peers).
    env_logger::init();
    let n = 20u64;
    match std::env::args().nth(1).as_deref() {
        Some("--notifier") => return example_event::run_notifier(Some(n), Duration::from_millis(50)),
        Some("--listener") => {
            let got = example_event::run_listener()?;
            return if got == n { Ok(()) } else { Err(format!("listener counted {got} of {n}").into()) };
        }
        _ => {}
    }
    let me = std::env::current_exe()?;
    println!("starting a listener and a notifier process; the notifier sends {n} events");
    let mut listener = Command::new(&me).arg("--listener").stdout(Stdio::piped()).spawn()?;
    // The listener says "ready" once it listens: events sent before are not its.
    let mut out = std::io::BufReader::new(listener.stdout.take().ok_or("listener stdout")?);
    let mut line = String::new();
    while !line.contains("listener: ready") {
        line.clear();
        if std::io::BufRead::read_line(&mut out, &mut line)? == 0 {
            return Err("the listener ended before it was ready".into());
        }
        print!("{line}");
    }
    let echo = std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::stdout()));
    let notifier = Command::new(&me).arg("--notifier").status()?;
    let deadline = Instant::now() + Duration::from_secs(10);
    let l = loop {
        if let Some(s) = listener.try_wait()? {
            break s;
        }
        if Instant::now() > deadline {
            listener.kill()?;
            return Err("the listener did not get the last event within 10 s".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = echo.join();
    if notifier.success() && l.success() {
        println!("event example: the listener counted every notification");
        Ok(())
    } else {
        Err(format!("notifier: {notifier}, listener: {l}").into())
    }
}

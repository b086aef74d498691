//! Runs the example from one command: starts a server process and a client
//! process (this same program in other roles), lets them exchange 1,000
//! requests and responses growing from 1 byte to 1,000,000 bytes, and checks
//! that both finished cleanly.

use example_request_response_dynamic_data::{run_client, run_server, Settings};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

const ROUNDS: u64 = 1000;

fn wait(
    child: &mut Child,
    what: &str,
    limit: Duration,
) -> Result<std::process::ExitStatus, Box<dyn std::error::Error>> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        if Instant::now() > deadline {
            child.kill()?;
            child.wait()?;
            return Err(format!("the {what} did not finish within {} s", limit.as_secs()).into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // RUST_LOG=info shows what icefloe reports (dead nodes reclaimed, stalled or corrupt peers).
    env_logger::init();
    let settings = Settings { count: Some(ROUNDS), period: Duration::from_millis(1), print_every: 100 };
    match std::env::args().nth(1).as_deref() {
        Some("--server") => return run_server(settings),
        Some("--client") => return run_client(settings),
        _ => {}
    }
    let me = std::env::current_exe()?;
    println!("starting a server and a client process: {ROUNDS} requests and responses of 1 B to 1 MB");
    println!("(every 100th round is printed; `server` and `client` alone run once a second, printing all)");
    let mut server = Command::new(&me).arg("--server").spawn()?;
    let mut client = Command::new(&me).arg("--client").spawn()?;
    let c = wait(&mut client, "client", Duration::from_secs(120));
    let c = match c {
        Ok(c) => c,
        Err(e) => {
            let _ = server.kill();
            let _ = server.wait();
            return Err(e);
        }
    };
    let s = wait(&mut server, "server", Duration::from_secs(10))?;
    if c.success() && s.success() {
        println!("request_response_dynamic_data example: both processes finished cleanly");
        Ok(())
    } else {
        Err(format!("client: {c}, server: {s}").into())
    }
}

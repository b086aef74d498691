//! The request-response dynamic-data example: a client and a server
//! exchanging byte slices whose length changes every round, zero-copy,
//! with each side's shared memory growing (`PowerOfTwo`) as the slices do,
//! never past the configured ceiling.
//!
//! Round `n` of the client sends a request of `min(1_000_000, n²)` bytes
//! whose byte `i` is `(i + n) % 255`; the server answers its `m`-th request
//! with `min(1_000_000, m²)` bytes filled the same way. Both print sizes.

#[cfg(not(feature = "qnx"))]
pub use icefloe_linux as icefloe;
#[cfg(feature = "qnx")]
pub use icefloe_qnx as icefloe;

use icefloe::prelude::*;
use std::time::{Duration, Instant};

/// The service both programs use.
pub const SERVICE: &str = "examples/dynamic_request_response";

/// The largest slice either side sends.
pub const MAX_LEN: usize = 1_000_000;

/// The slice length of round `n`.
pub fn len_of(n: u64) -> usize {
    n.saturating_mul(n).min(MAX_LEN as u64) as usize
}

/// Byte `i` of round `n`.
pub fn byte(i: usize, n: u64) -> u8 {
    ((i as u64 + n) % 255) as u8
}

/// Whether `data` is a slice filled as round `data[0]`'s (byte `i` is
/// `(i + n) % 255` for one `n`).
pub fn well_formed(data: &[u8]) -> bool {
    let Some(&first) = data.first() else { return true };
    data.iter().enumerate().all(|(i, b)| *b == byte(i, u64::from(first)))
}

/// Command-line settings shared by both programs.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Stop after this many rounds (client) or requests (server); `None`: until Ctrl-C.
    pub count: Option<u64>,
    /// Time between rounds.
    pub period: Duration,
    /// Print every `print_every`-th round (1: every one).
    pub print_every: u64,
}

impl Settings {
    /// Reads `--count N`, `--period-ms N` and `--print-every N`; the default
    /// is endless, once a second, printing everything (iceoryx2's example).
    pub fn from_args() -> Result<Self, Box<dyn std::error::Error>> {
        let arg = |flag: &str| -> Result<Option<u64>, std::num::ParseIntError> {
            std::env::args().skip_while(|a| a != flag).nth(1).map(|n| n.parse()).transpose()
        };
        Ok(Self {
            count: arg("--count")?,
            period: Duration::from_millis(arg("--period-ms")?.unwrap_or(1000)),
            print_every: arg("--print-every")?.unwrap_or(1).max(1),
        })
    }
}

fn open(node: &Node) -> Result<RequestResponse<[u8], [u8]>, Box<dyn std::error::Error>> {
    Ok(node.service_builder(&ServiceName::new(SERVICE)?).request_response::<[u8], [u8]>().open_or_create()?)
}

/// Answers every request with a slice of `min(1_000_000, m²)` bytes (for
/// the server's `m`-th request) until Ctrl-C or `count` requests.
pub fn run_server(s: Settings) -> Result<(), Box<dyn std::error::Error>> {
    let node = NodeBuilder::new().name(NodeName::new("server")?).create()?;
    let service = open(&node)?;
    let server = service
        .server_builder()
        .initial_max_slice_len(16)
        .allocation_strategy(AllocationStrategy::PowerOfTwo)
        .create()?;
    println!("server: ready");
    let mut served = 0u64;
    'outer: while node.wait(s.period.min(Duration::from_millis(10))).is_ok() {
        while let Some(request) = server.receive()? {
            if !well_formed(&request) {
                return Err(format!("server: request of {} bytes is not filled as sent", request.len()).into());
            }
            served += 1;
            let len = len_of(served);
            let response = request.loan_slice_uninit(len)?.write_from_fn(|i| byte(i, served));
            response.send()?;
            if served.is_multiple_of(s.print_every) {
                println!(
                    "server: request of {} bytes, response of {len} bytes (segment holds {} bytes)",
                    request.len(),
                    server.current_max_slice_len()
                );
            }
            // Dropping the request ends its response stream.
            drop(request);
            if s.count.is_some_and(|n| served >= n) {
                break 'outer;
            }
        }
    }
    println!("server: done after {served} request(s), {} growth(s)", server.number_of_growths());
    Ok(())
}

/// Sends a request of `min(1_000_000, n²)` bytes each round `n` and prints
/// the size of every response, until Ctrl-C or `count` rounds.
pub fn run_client(s: Settings) -> Result<(), Box<dyn std::error::Error>> {
    let node = NodeBuilder::new().name(NodeName::new("client")?).create()?;
    let service = open(&node)?;
    let client = service
        .client_builder()
        .initial_max_slice_len(16)
        .allocation_strategy(AllocationStrategy::PowerOfTwo)
        .create()?;
    let mut counter = 1u64;
    let mut responses = 0u64;
    while s.count.is_none_or(|n| counter <= n) {
        if node.wait(s.period).is_err() {
            break;
        }
        let len = len_of(counter);
        let request = client.loan_slice_uninit(len)?.write_from_fn(|i| byte(i, counter));
        let pending = request.send()?;
        if pending.number_of_server_connections() == 0 {
            println!("client: no server yet");
            continue;
        }
        let print = counter.is_multiple_of(s.print_every);
        if print {
            println!("client: sent request {counter} of {len} bytes");
        }
        // Read the response stream until every server ended it.
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            while let Some(response) = pending.receive()? {
                if !well_formed(&response) {
                    return Err(format!("client: response of {} bytes is not filled as sent", response.len()).into());
                }
                responses += 1;
                if print {
                    println!("client:   response of {} bytes", response.len());
                }
            }
            if !pending.is_connected() && !pending.has_response() {
                break;
            }
            if Instant::now() > deadline || node.wait(Duration::from_micros(200)).is_err() {
                break;
            }
        }
        counter += 1;
    }
    println!(
        "client: done after {} request(s), {responses} response(s); request segment grew {} time(s) to {} bytes",
        counter - 1,
        client.number_of_growths(),
        client.current_max_slice_len()
    );
    Ok(())
}

//! The Rust side of the Python flagship tests: a request-response service
//! of `[u8]` both ways, sizes growing to 1 MB, every byte checked.
//!
//! `rr_peer server <prefix> <service> <rounds>`: answers `rounds` requests;
//! request `k` (1-based) must hold `len(k)` bytes `(i + k) % 251`, the
//! response holds `2 * len(k)` bytes `(i * 7 + k) % 251`.
//! `rr_peer client <prefix> <service> <rounds>`: the other side.
//! Prints `ready`, then `ok <rounds>` when done; exits non-zero on any wrong byte.

use icefloe_linux::prelude::*;
use std::time::{Duration, Instant};

fn len(k: usize, rounds: usize) -> usize {
    // From 1 byte to 1,000,000 bytes over the rounds.
    if rounds <= 1 {
        return 1_000_000;
    }
    1 + (999_999 * (k - 1)) / (rounds - 1)
}

fn request_byte(i: usize, k: usize) -> u8 {
    ((i + k) % 251) as u8
}

fn response_byte(i: usize, k: usize) -> u8 {
    ((i * 7 + k) % 251) as u8
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, role, prefix, service, rounds] = &args[..] else {
        return Err("usage: rr_peer server|client <prefix> <service> <rounds>".into());
    };
    let rounds: usize = rounds.parse()?;
    let node = NodeBuilder::new().prefix(prefix)?.create()?;
    let service =
        node.service_builder(&ServiceName::new(service)?).request_response::<[u8], [u8]>().open_or_create()?;
    let deadline = Instant::now() + Duration::from_secs(120);
    match role.as_str() {
        "server" => {
            let server = service
                .server_builder()
                .initial_max_slice_len(1)
                .allocation_strategy(AllocationStrategy::PowerOfTwo)
                .create()?;
            println!("ready");
            let mut k = 0;
            while k < rounds {
                if Instant::now() > deadline {
                    return Err("server: timed out".into());
                }
                let Some(request) = server.receive()? else {
                    node.wait(Duration::from_micros(200))?;
                    continue;
                };
                k += 1;
                if request.len() != len(k, rounds) {
                    return Err(
                        format!("server: request {k} has {} bytes, not {}", request.len(), len(k, rounds)).into()
                    );
                }
                if let Some(i) = (0..request.len()).find(|&i| request[i] != request_byte(i, k)) {
                    return Err(format!("server: request {k}, byte {i} is {}", request[i]).into());
                }
                let n = 2 * request.len();
                request.loan_slice_uninit(n)?.write_from_fn(|i| response_byte(i, k)).send()?;
            }
        }
        "client" => {
            let client = service
                .client_builder()
                .initial_max_slice_len(1)
                .allocation_strategy(AllocationStrategy::PowerOfTwo)
                .create()?;
            println!("ready");
            for k in 1..=rounds {
                let n = len(k, rounds);
                let pending = loop {
                    let pending = client.loan_slice_uninit(n)?.write_from_fn(|i| request_byte(i, k)).send()?;
                    if pending.number_of_server_connections() > 0 {
                        break pending;
                    }
                    if Instant::now() > deadline {
                        return Err("client: no server".into());
                    }
                    node.wait(Duration::from_millis(5))?;
                };
                let response = loop {
                    if let Some(r) = pending.receive()? {
                        break r;
                    }
                    if Instant::now() > deadline {
                        return Err(format!("client: no response to request {k}").into());
                    }
                    node.wait(Duration::from_micros(200))?;
                };
                if response.len() != 2 * n {
                    return Err(format!("client: response {k} has {} bytes, not {}", response.len(), 2 * n).into());
                }
                if let Some(i) = (0..response.len()).find(|&i| response[i] != response_byte(i, k)) {
                    return Err(format!("client: response {k}, byte {i} is {}", response[i]).into());
                }
            }
        }
        other => return Err(format!("unknown role {other}").into()),
    }
    println!("ok {rounds}");
    Ok(())
}

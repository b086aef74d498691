//! icefloe against iceoryx2, a Unix domain socket and the hardware floors,
//! side by side in one run: `ci/bench` (or `cargo run --release -p
//! icefloe-bench -- [rounds]`).
//!
//! Every case is a ping-pong between two processes pinned to CPUs 0 and 1
//! (the floors: two threads pinned the same way); one way = round trip / 2.
//! The cases run interleaved (A, B, C, A, B, C, …) so that the machine's
//! drift hits all alike; the atomic floor is measured before and after, and
//! the run is marked invalid when it moved by more than 25 %. Results: a
//! markdown table on stdout and in `bench/results/latest.md`.
// The floors, counters and handshakes of the benchmark are plain process
// atomics (they measure hardware, not icefloe's protocol).
#![allow(clippy::disallowed_types)]

mod allocs;
mod cases;
mod footprint;
mod leftovers;
mod plot;
mod stats;

use stats::Summary;

#[global_allocator]
static COUNTING: allocs::Counting = allocs::Counting;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--echo") {
        cases::echo(&args[2..]);
        return;
    }
    let rounds: usize = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(5);
    // `--only TEXT` (repeatable): the cases whose name contains one of them
    // (the floors always run).
    let only: Vec<&str> = args.windows(2).filter(|w| w[0] == "--only").map(|w| w[1].as_str()).collect();
    let before = leftovers::snapshot();
    cases::pin(0);
    let started = Instant::now();
    let cpu_before = stats::cpu_times();
    let floor_before = cases::atomic_floor(20_000);
    let list: Vec<cases::Case> = cases::all()
        .into_iter()
        .filter(|c| only.is_empty() || c.is_floor() || only.iter().any(|o| c.name().contains(o)))
        .collect();
    let mut samples: Vec<Vec<u64>> = vec![Vec::new(); list.len()];
    // Per case: allocations to set up (the most seen) and in timed loops.
    let mut heap: Vec<(Option<u64>, u64)> = vec![(None, 0); list.len()];
    let total = rounds * list.len();
    for round in 0..rounds {
        for (i, case) in list.iter().enumerate() {
            let done = round * list.len() + i;
            eprint!("\r[{:<30}] {done}/{total} {:<40}", "#".repeat(done * 30 / total), case.name());
            let got = case.run();
            let (setup, timed) = allocs::take();
            if let Some(t) = timed {
                heap[i].0 = Some(heap[i].0.unwrap_or(0).max(setup.unwrap_or(0)));
                heap[i].1 += t;
            }
            samples[i].extend(got);
        }
    }
    eprintln!("\r[{}] {total}/{total}{:<42}", "#".repeat(30), "");
    let floor_after = cases::atomic_floor(20_000);
    // What iceoryx2 left behind (its global management segment, node and
    // service records) that was not there before: this run made it.
    leftovers::remove_new(&before);
    let cpu_after = stats::cpu_times();
    let drift = (floor_after.p50 as f64 / floor_before.p50 as f64 - 1.0).abs();
    let other_load = stats::other_load(cpu_before, cpu_after);
    let summaries: Vec<(String, Summary)> = list
        .iter()
        .zip(samples)
        .zip(&heap)
        .map(|((c, s), h)| {
            let n = s.len().max(1) as f64;
            let mut sum = Summary::of(s);
            sum.heap = h.0.map(|setup| (setup, h.1 as f64 / n));
            (c.name(), sum)
        })
        .collect();
    let mut report = stats::report(&summaries, floor_before, floor_after, drift, other_load, rounds, started.elapsed());
    report.push_str(&stats::targets(&summaries, floor_before));
    if !only.is_empty() {
        // A selection is for looking at a few cases: printed, not recorded.
        println!("{report}");
        std::process::exit(if drift > 0.25 { 2 } else { 0 });
    }
    report.push_str(&footprint::report());
    leftovers::remove_new(&before);
    println!("{report}");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("results");
    let _ = std::fs::create_dir_all(&dir);
    if drift > 0.25 {
        // Kept for a look, but the accepted results stay as they were.
        let _ = std::fs::write(dir.join("rejected.md"), &report);
        eprintln!(
            "the floor moved by {:.0} % during the run: results rejected (bench/results/rejected.md), run again",
            drift * 100.0
        );
        std::process::exit(2);
    }
    if let Err(e) = std::fs::write(dir.join("latest.md"), &report) {
        eprintln!("could not write results/latest.md: {e}");
    }
    let title = report.lines().next().unwrap_or("").trim_start_matches("# ").to_string();
    if let Err(e) = plot::write(&summaries, &title, &dir) {
        eprintln!("the plot was not drawn: {e}");
    }
}

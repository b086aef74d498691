//! Medians, percentiles, the machine's load, and the report.

use std::fmt::Write;
use std::time::Duration;

/// Median and p99 of a set of round trips, in nanoseconds.
#[derive(Debug, Clone, Copy, Default)]
pub struct Summary {
    pub p50: u64,
    pub p99: u64,
    pub n: usize,
    /// Heap allocations: (to set up a node, a service and two ports; per
    /// round trip on the measuring side).
    pub heap: Option<(u64, f64)>,
}

impl Summary {
    pub fn of(mut v: Vec<u64>) -> Self {
        if v.is_empty() {
            return Self::default();
        }
        v.sort_unstable();
        Self { p50: v[v.len() / 2], p99: v[(v.len() * 99 / 100).min(v.len() - 1)], n: v.len(), heap: None }
    }
}

/// (busy jiffies of the whole machine, jiffies of this process and its
/// waited-for children).
pub fn cpu_times() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let busy = stat
        .lines()
        .next()
        .map(|l| {
            let f: Vec<u64> = l.split_whitespace().skip(1).filter_map(|x| x.parse().ok()).collect();
            // user nice system idle iowait irq softirq steal
            f.iter().enumerate().filter(|(i, _)| *i != 3 && *i != 4).map(|(_, v)| v).sum()
        })
        .unwrap_or(0);
    let me = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_comm = me.rsplit(')').next().unwrap_or("");
    // Fields 14..17 (utime stime cutime cstime) are tokens 11..14 after the
    // comm (token 0 is the state letter).
    let f: Vec<&str> = after_comm.split_whitespace().collect();
    let mine = f.get(11..15).map_or(0, |s| s.iter().filter_map(|x| x.parse::<u64>().ok()).sum());
    (busy, mine)
}

/// The share of busy CPU time during the run that was not ours.
pub fn other_load(before: (u64, u64), after: (u64, u64)) -> f64 {
    let busy = after.0.saturating_sub(before.0) as f64;
    let mine = after.1.saturating_sub(before.1) as f64;
    if busy == 0.0 {
        0.0
    } else {
        ((busy - mine) / busy).max(0.0)
    }
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map_or_else(|| "unknown CPU".into(), |s| s.trim().to_string())
}

fn find<'a>(all: &'a [(String, Summary)], name: &str) -> Option<&'a Summary> {
    all.iter().find(|(n, _)| n == name).map(|(_, s)| s)
}

/// The markdown report: a table per case with ratios to iceoryx2 and the floor.
pub fn report(
    all: &[(String, Summary)],
    floor_before: Summary,
    floor_after: Summary,
    drift: f64,
    other: f64,
    rounds: usize,
    took: Duration,
) -> String {
    let mut s = String::new();
    let date = std::process::Command::new("date").arg("-u").arg("+%Y-%m-%d %H:%M UTC").output();
    let date = date.ok().map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string()).unwrap_or_default();
    let _ = writeln!(s, "# icefloe benchmark, {date}\n");
    let _ = writeln!(
        s,
        "{} · {} rounds interleaved · {:.0} s · `cargo run --release -p icefloe-bench -- {rounds}`\n",
        cpu_model(),
        rounds,
        took.as_secs_f64()
    );
    let _ = writeln!(
        s,
        "Atomic floor before / after: {} / {} ns round trip (drift {:.0} %{}); CPU used by other processes during the run: {:.0} %.\n",
        floor_before.p50,
        floor_after.p50,
        drift * 100.0,
        if drift > 0.25 { ", **rejected**" } else { "" },
        other * 100.0
    );
    let floor = floor_before.p50.max(1) as f64;
    let _ = writeln!(
        s,
        "| case | round trips | one way p50 | round trip p50 | p99 | vs iceoryx2 | vs atomic floor | heap allocs: setup / per round trip |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|");
    for (name, m) in all {
        let peer = name.strip_prefix("icefloe ").and_then(|rest| find(all, &format!("iceoryx2 {rest}")));
        let vs_peer = peer.map_or(String::from(""), |p| format!("{:.2}×", m.p50 as f64 / p.p50.max(1) as f64));
        let _ = writeln!(
            s,
            "| {name} | {} | {} | {} | {} | {vs_peer} | {:.1}× | {} |",
            m.n,
            fmt_ns(m.p50 / 2),
            fmt_ns(m.p50),
            fmt_ns(m.p99),
            m.p50 as f64 / floor,
            m.heap.map_or(String::new(), |(setup, per)| format!("{setup} / {per:.2}"))
        );
    }
    s
}

/// The targets, each with what this run measured and whether it
/// was met (rows whose cases did not run are left out).
pub fn targets(all: &[(String, Summary)], floor: Summary) -> String {
    let p50 = |name: &str| find(all, name).map(|m| m.p50.max(1) as f64);
    let ratio = |a: &str, b: &str| Some(p50(a)? / p50(b)?);
    let icefloe_heap = all
        .iter()
        .filter(|(n, _)| n.starts_with("icefloe "))
        .filter_map(|(_, m)| m.heap.map(|h| h.1))
        .fold(None, |max: Option<f64>, h| Some(max.map_or(h, |m| m.max(h))));
    let rows: [(&str, Option<f64>, f64, &str); 6] = [
        (
            "publish-subscribe 8 B ≤ 0.5 × iceoryx2",
            ratio("icefloe pub-sub 8 B untouched", "iceoryx2 pub-sub 8 B untouched"),
            0.5,
            "×",
        ),
        (
            "publish-subscribe 8 B ≤ 2 × the atomic floor",
            p50("icefloe pub-sub 8 B untouched").map(|v| v / floor.p50.max(1) as f64),
            2.0,
            "×",
        ),
        (
            "request → response `u64` ≤ 0.5 × iceoryx2",
            ratio("icefloe request-response u64", "iceoryx2 request-response u64"),
            0.5,
            "×",
        ),
        (
            "16 MiB untouched ≤ 1.1 × 8 B (publish-subscribe)",
            ratio("icefloe pub-sub 16 MiB untouched", "icefloe pub-sub 8 B untouched"),
            1.1,
            "×",
        ),
        (
            "blocking wake-up ≤ 1.05 × the futex floor",
            ratio("icefloe event wake-up (blocking)", "floor: futex park/unpark"),
            1.05,
            "×",
        ),
        ("0 heap allocations per message (every icefloe case)", icefloe_heap, 0.0, " per round trip"),
    ];
    let mut s = String::from("\n| target | this run | |\n|---|---|---|\n");
    for (what, got, limit, unit) in rows {
        let Some(got) = got else { continue };
        let met = if got <= limit { "met" } else { "**not met**" };
        let _ = writeln!(s, "| {what} | {got:.3}{unit} | {met} |");
    }
    s
}

fn fmt_ns(ns: u64) -> String {
    if ns >= 10_000_000 {
        format!("{:.1} ms", ns as f64 / 1e6)
    } else if ns >= 10_000 {
        format!("{:.1} µs", ns as f64 / 1e3)
    } else {
        format!("{ns} ns")
    }
}

//! What a blocking wake costs through the QNX platform's sleeper slots
//! (robust mutex + semaphore), side by side with Linux futexes, on this host: two processes
//! ping-pong through two signal words in one segment, each side sleeping
//! in `signal_wait` until the other changes its word and wakes it. Rounds
//! of both kinds are interleaved, so machine drift hits both alike.
//!
//! `cargo run --release -p icefloe-qnx --example wake_latency [rounds]`
//!
//! Prints each round's median and p99 round trip (two wakes, two sleeps)
//! of each, and their ratio; then the median over rounds.
#![allow(clippy::disallowed_types)]

#[cfg(target_os = "linux")]
mod run {
    use icefloe_core::platform::{Access, Permissions, Platform, SharedMemory};
    use icefloe_core::sync::SignalWord;
    use std::sync::atomic::Ordering;
    use std::time::{Duration, Instant};

    const N: u32 = 5_000;

    fn words(shm: &impl SharedMemory) -> (&SignalWord, &SignalWord) {
        // SAFETY: two 32-bit words at the start of a mapping of at least
        // 4096 bytes, 64-aligned; only accessed atomically.
        unsafe {
            let p = shm.as_ptr().cast::<SignalWord>();
            (&*p, &*p.add(16))
        }
    }

    /// Waits until `w` reaches `v` (sleeping while it does not).
    fn wait_for<P: Platform>(w: &SignalWord, v: u32) {
        loop {
            let now = w.load(Ordering::SeqCst);
            if now == v {
                return;
            }
            P::signal_wait(w, now, Some(Duration::from_secs(10)));
        }
    }

    fn set<P: Platform>(w: &SignalWord, v: u32) {
        w.store(v, Ordering::SeqCst);
        P::signal_wake_all(w);
    }

    /// The echoing side: answers each ping `k` with pong `k`.
    pub fn echo<P: Platform>(name: &str) {
        let shm = P::shm_open(name, Access::ReadWrite).expect("open the ping-pong segment");
        let (ping, pong) = words(&shm);
        for k in 1..=N {
            wait_for::<P>(ping, k);
            set::<P>(pong, k);
        }
    }

    /// One round: `N` round trips; (median, p99) in ns.
    fn round<P: Platform>(kind: &str) -> (u64, u64) {
        let name = format!("wl{}_{kind}", std::process::id() % 100_000);
        let shm = P::shm_create(&name, 4096, Permissions::OwnerOnly).expect("create the ping-pong segment");
        let (ping, pong) = words(&shm);
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--echo", kind, &name])
            .spawn()
            .expect("start the echo process");
        // Let the echo side reach its first sleep.
        std::thread::sleep(Duration::from_millis(20));
        let mut v = Vec::with_capacity(N as usize);
        for k in 1..=N {
            let t = Instant::now();
            set::<P>(ping, k);
            wait_for::<P>(pong, k);
            v.push(t.elapsed().as_nanos() as u64);
        }
        let _ = child.wait();
        drop(shm);
        let _ = P::shm_unlink(&name);
        v.sort_unstable();
        (v[v.len() / 2], v[v.len() * 99 / 100])
    }

    pub fn main() {
        let args: Vec<String> = std::env::args().collect();
        if args.get(1).map(String::as_str) == Some("--echo") {
            match args[2].as_str() {
                "qnx" => echo::<icefloe_qnx::Qnx>(&args[3]),
                _ => echo::<icefloe_linux::Linux>(&args[3]),
            }
            return;
        }
        let rounds: usize = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(5);
        println!("round   futex p50/p99 ns     slots p50/p99 ns     ratio p50");
        let (mut futex, mut slots) = (Vec::new(), Vec::new());
        for r in 0..rounds {
            let f = round::<icefloe_linux::Linux>("linux");
            let b = round::<icefloe_qnx::Qnx>("qnx");
            println!("{r:>5}   {:>7} / {:<9}  {:>7} / {:<9}  {:.2}", f.0, f.1, b.0, b.1, b.0 as f64 / f.0 as f64);
            futex.push(f.0);
            slots.push(b.0);
        }
        futex.sort_unstable();
        slots.sort_unstable();
        let (f, b) = (futex[rounds / 2], slots[rounds / 2]);
        let spread = |v: &[u64]| (v[0], v[v.len() - 1]);
        println!(
            "median of rounds: futex {f} ns (rounds {:?}), sleeper slots {b} ns (rounds {:?}) per round trip; ratio {:.2}",
            spread(&futex),
            spread(&slots),
            b as f64 / f as f64
        );
    }
}

fn main() {
    #[cfg(target_os = "linux")]
    run::main();
    #[cfg(not(target_os = "linux"))]
    println!("wake_latency compares with Linux futexes: run it on a Linux host");
}

//! Two "hosts" on one machine: two icefloe prefixes, each with its bridge
//! process, the bridges talking over 127.0.0.1 only.
#![allow(dead_code)]
// Test bookkeeping (unique prefixes): a plain atomic.
#![allow(clippy::disallowed_types)]

use icefloe_linux::{CallbackProgression, Node, NodeBuilder, NodeState};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// A generous bound on every wait (the machines are shared and slow).
pub const WATCHDOG: Duration = Duration::from_secs(60);

/// A prefix unique to this process and call; everything under it is
/// removed when the guard drops.
pub struct Host {
    pub prefix: String,
    pub port: u16,
    /// The Zenoh domain, shared by the hosts of one test only.
    pub domain: String,
}

fn unique() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!("z{}_{}_", std::process::id() % 100_000, N.fetch_add(1, Ordering::Relaxed))
}

/// Two hosts of one domain.
pub fn pair() -> (Host, Host) {
    let domain = unique();
    let h = || Host { prefix: unique(), port: free_port(), domain: domain.trim_end_matches('_').to_owned() };
    (h(), h())
}

impl Host {
    pub fn node(&self) -> Node {
        NodeBuilder::new().prefix(&self.prefix).unwrap().create().unwrap()
    }

    /// Starts a bridge for this host that connects to `peers`.
    pub fn bridge(&self, peers: &[&Host], services: &[&str]) -> Bridge {
        self.bridge_on(self.port, peers, services, &[])
    }

    /// Starts a bridge listening on `port`, with extra arguments.
    pub fn bridge_on(&self, port: u16, peers: &[&Host], services: &[&str], extra: &[&str]) -> Bridge {
        let log = std::env::temp_dir().join(format!("{}bridge{port}.log", self.prefix));
        let mut c = Command::new(env!("CARGO_BIN_EXE_icefloe-zenoh"));
        c.args(["--prefix", &self.prefix, "--domain", &self.domain, "--loopback", "--listen", &port.to_string()]);
        c.args(["--report-every", "0"]);
        for p in peers {
            c.args(["--connect", &p.port.to_string()]);
        }
        for s in services {
            c.args(["--service", s]);
        }
        c.args(extra);
        c.env("RUST_LOG", "info,zenoh=warn");
        let file = std::fs::File::create(&log).unwrap();
        c.stdout(Stdio::null()).stderr(file);
        Bridge { child: Some(c.spawn().expect("the bridge binary starts")), log }
    }

    /// Node records or segments under the prefix that are left.
    pub fn shm_left(&self) -> Vec<String> {
        shm_left(&self.prefix)
    }

    /// Reclaims what dead nodes (a killed bridge's) left.
    pub fn reclaim_dead(&self) {
        let p = icefloe_linux::Prefix::new(&self.prefix).unwrap();
        let mut dead = Vec::new();
        let _ = Node::list(&p, |n| {
            if n.state() == NodeState::Dead {
                dead.push(n);
            }
            CallbackProgression::Continue
        });
        for n in dead {
            let _ = n.remove_stale_resources();
        }
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        self.reclaim_dead();
        if !std::thread::panicking() {
            assert!(
                wait_until(Duration::from_secs(10), || self.shm_left().is_empty()),
                "left in /dev/shm: {:?}",
                self.shm_left()
            );
        }
        for n in self.shm_left() {
            let _ = std::fs::remove_file(format!("/dev/shm/{n}"));
        }
    }
}

/// A bridge process; killed (SIGKILL) on drop unless stopped before.
pub struct Bridge {
    child: Option<Child>,
    pub log: PathBuf,
}

impl Bridge {
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until the bridge's log has a line containing `what`.
    pub fn wait_log(&self, what: &str) -> bool {
        wait_until(WATCHDOG, || self.log_text().contains(what))
    }

    pub fn pid(&self) -> i32 {
        self.child.as_ref().map_or(0, |c| c.id() as i32)
    }

    /// SIGTERM, then waits: the bridge removes what it made.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            // SAFETY: the pid is our own child's, not yet reaped.
            unsafe { libc::kill(c.id() as i32, libc::SIGTERM) };
            let deadline = Instant::now() + WATCHDOG;
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = c.kill();
            let _ = c.wait();
            panic!("the bridge did not stop on SIGTERM: {}", self.log_text());
        }
    }

    /// SIGKILL, then reaps it.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.kill();
        } else {
            self.stop(); // what a bridge made, it removes on SIGTERM
        }
        if std::thread::panicking() {
            eprintln!("--- bridge log {}:\n{}", self.log.display(), self.log_text());
        }
        let _ = std::fs::remove_file(&self.log);
    }
}

/// Names in /dev/shm starting with `prefix`.
pub fn shm_left(prefix: &str) -> Vec<String> {
    std::fs::read_dir("/dev/shm")
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(prefix))
                .collect()
        })
        .unwrap_or_default()
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub fn wait_until(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    f()
}

/// The bytes of a test payload of `len` bytes, number `n`.
pub fn byte(i: usize, n: usize) -> u8 {
    (i.wrapping_mul(31) ^ n.wrapping_mul(7)) as u8
}

//! Helpers shared by the integration tests: unique prefixes, child
//! processes, and a check that nothing is left in /dev/shm.
// Test bookkeeping (unique prefixes): a plain atomic.
#![allow(clippy::disallowed_types)]
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// A prefix unique to this process and call, `t<pid>_<n>_`, with the guard
/// that removes everything under it when the test ends, also when it panics
/// (it derefs to the prefix: `node(&prefix)`, `assert_clean(&prefix)`).
/// Tests still `assert_clean` what they expect gone: the guard only keeps a
/// failing test from leaving segments for the next.
pub fn unique_prefix() -> ShmGuard {
    ShmGuard(fresh_prefix())
}

fn fresh_prefix() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!("t{}_{}_", std::process::id() % 100_000, N.fetch_add(1, Ordering::Relaxed))
}

/// A node that sees only segments under `prefix`.
pub fn node(prefix: &str) -> icefloe_linux::Node {
    icefloe_linux::NodeBuilder::new().prefix(prefix).unwrap().create().unwrap()
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

/// Service and data segments under `prefix` (node records left out: each
/// live node has one, `icefloe_core::discovery`).
pub fn segments(prefix: &str) -> Vec<String> {
    use icefloe_linux::icefloe_core::name::{is_segment_name, SegmentKind};
    let p = icefloe_linux::Prefix::new(prefix).expect("a test prefix is valid");
    shm_left(prefix).into_iter().filter(|n| !is_segment_name(&p, n, SegmentKind::Node)).collect()
}

/// Asserts nothing under `prefix` is left, after giving leavers a moment.
pub fn assert_clean(prefix: &str) {
    assert_emptied(|| shm_left(prefix));
}

/// Asserts no service or data segment under `prefix` is left (node
/// records of nodes still alive may be), after giving leavers a moment.
pub fn assert_services_gone(prefix: &str) {
    assert_emptied(|| segments(prefix));
}

/// Waits (5 s at most) until `left` lists nothing.
fn assert_emptied(left: impl Fn() -> Vec<String>) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left = left();
        if left.is_empty() {
            return;
        }
        assert!(Instant::now() < deadline, "left behind in /dev/shm: {left:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Removes everything under `prefix` (after a test that failed midway).
pub fn scrub(prefix: &str) {
    for n in shm_left(prefix) {
        let _ = std::fs::remove_file(format!("/dev/shm/{n}"));
    }
}

/// The role a test binary plays when re-run as a child, if any.
pub fn role() -> Option<String> {
    std::env::var("ICEFLOE_TEST_ROLE").ok()
}

/// A child process running `test_name` of this same test binary with a role.
pub struct Peer {
    pub child: Child,
    lines: std::io::Lines<BufReader<ChildStdout>>,
    stdin: Option<std::process::ChildStdin>,
    /// Kill the child (ours, by id) if it still runs when the peer goes:
    /// a failed test then leaves no process waiting for a word.
    kill_on_drop: bool,
}

impl Peer {
    /// Starts `test_name` in a new process with the given role and settings.
    pub fn spawn(test_name: &str, role: &str, prefix: &str, args: &[(&str, String)]) -> Self {
        Self::start(&[], test_name, role, prefix, args, "spawn child")
    }

    /// As [`spawn`](Self::spawn), the child in a PID namespace of its own
    /// (`unshare --pid --fork --mount-proc`, as a container runs it; it
    /// shares `/dev/shm` with us). `unshare --kill-child` passes a SIGKILL of
    /// the `unshare` process (our child) on to the test process in it.
    pub fn spawn_in_pid_namespace(test_name: &str, role: &str, prefix: &str) -> Self {
        let unshare = ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child"];
        Self::start(&unshare, test_name, role, prefix, &[], "unshare (util-linux) must be installed to run this test")
    }

    /// As [`spawn`](Self::spawn), the child running as Unix `user` with
    /// primary group `group` and the user's other groups (`setpriv`, as
    /// root); killed if it still runs when the peer is dropped.
    pub fn spawn_as(user: &str, group: &str, test_name: &str, role: &str, prefix: &str) -> Self {
        let setpriv = ["setpriv", "--reuid", user, "--regid", group, "--init-groups", "--"];
        let mut peer = Self::start(&setpriv, test_name, role, prefix, &[], "setpriv (util-linux)");
        peer.kill_on_drop = true;
        peer
    }

    /// Runs this test binary (behind `wrapper`, a command and its
    /// arguments, if any) as a child with a role.
    fn start(wrapper: &[&str], test_name: &str, role: &str, prefix: &str, args: &[(&str, String)], what: &str) -> Self {
        let exe = std::env::current_exe().expect("test binary path");
        let mut cmd = match wrapper.split_first() {
            Some((program, rest)) => {
                let mut c = Command::new(program);
                c.args(rest).arg(exe);
                c
            }
            None => Command::new(exe),
        };
        cmd.args([test_name, "--exact", "--nocapture", "--test-threads=1"])
            .env("ICEFLOE_TEST_ROLE", role)
            .env("ICEFLOE_TEST_PREFIX", prefix)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in args {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect(what);
        let lines = BufReader::new(child.stdout.take().expect("piped")).lines();
        let stdin = child.stdin.take();
        Self { child, lines, stdin, kill_on_drop: false }
    }

    /// Sends a line to the child's stdin.
    pub fn tell(&mut self, line: &str) {
        use std::io::Write;
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{line}").expect("write to child");
        stdin.flush().expect("flush to child");
    }

    /// Waits for the child to print `@@<word>…`; returns the rest of the line.
    pub fn expect(&mut self, word: &str) -> String {
        let tag = format!("@@{word}");
        for line in self.lines.by_ref() {
            let line = line.expect("child stdout");
            // The harness may have printed "test child ... " on the same line.
            if let Some(at) = line.find(&tag) {
                return line[at + tag.len()..].trim().to_string();
            }
        }
        panic!("child ended without saying {word}");
    }

    /// Waits (at most `timeout`) for the child to exit; its success.
    pub fn wait(self, timeout: Duration) -> bool {
        self.wait_status(timeout).success()
    }

    /// Waits (at most `timeout`) for the child to exit; how it ended.
    pub fn wait_status(mut self, timeout: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("child {} did not finish within {timeout:?}", self.child.id());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Sends `signal` (SIGINT, SIGTERM, …) to the child, by its id.
    pub fn signal(&self, signal: libc::c_int) {
        // SAFETY: kill(2) touches no memory of ours; the id is our own child's.
        assert_eq!(unsafe { libc::kill(self.child.id() as i32, signal) }, 0, "signal {signal} to the child");
    }

    /// Kills the child with SIGKILL (it is ours) and leaves it unreaped
    /// until `reap`.
    pub fn kill9(&mut self) {
        // SAFETY-free: std's kill sends SIGKILL to our own child.
        self.child.kill().expect("kill child");
    }

    /// Reaps a killed child.
    pub fn reap(mut self) {
        let _ = self.child.wait();
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        if self.kill_on_drop && self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Says something to the parent: `@@word rest`.
pub fn say(word: &str, rest: impl std::fmt::Display) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "\n@@{word} {rest}");
    let _ = out.flush();
}

/// Child side: waits for the parent to send `word` on stdin.
pub fn listen(word: &str) {
    let mut line = String::new();
    loop {
        line.clear();
        if std::io::stdin().read_line(&mut line).expect("read stdin") == 0 {
            panic!("parent closed stdin before saying {word}");
        }
        if line.trim() == word {
            return;
        }
    }
}

/// A setting passed to a child.
pub fn arg(key: &str) -> String {
    std::env::var(key).unwrap_or_else(|_| panic!("child needs {key}"))
}

/// What an open asked for against what the service has (in the
/// `DoesNotSupport…` errors).
pub fn cap(service: u32, requested: u32) -> icefloe_linux::Capacity {
    icefloe_linux::Capacity { service, requested }
}

/// Polls `f` until it returns `Some`, failing after `timeout`.
pub fn eventually<T>(timeout: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Removes a test's `/dev/shm` objects when dropped, also when the test
/// panics midway (a failing test then leaves nothing behind for the next).
/// Declare it before the nodes and ports so that it is dropped after them.
pub struct ShmGuard(pub String);

impl ShmGuard {
    /// A fresh unique prefix with its guard.
    pub fn new() -> Self {
        Self(fresh_prefix())
    }

    /// The guarded prefix.
    pub fn prefix(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for ShmGuard {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ShmGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Drop for ShmGuard {
    fn drop(&mut self) {
        scrub(&self.0);
    }
}

"""Shared fixtures: a unique shared-memory prefix per test, and the check
that a test leaves nothing in /dev/shm."""

import gc
import itertools
import os
import pathlib
import subprocess
import sys
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PEERS = pathlib.Path(__file__).resolve().parent / "peers"
RUST_BIN = ROOT / "target" / "release"
_counter = itertools.count()


def shm_left(prefix):
    return [n for n in os.listdir("/dev/shm") if n.startswith(prefix)]


@pytest.fixture
def prefix():
    """A prefix of shared-memory names unique to this test; asserts that
    nothing under it is left when the test ends (and removes what is)."""
    p = "py%d_%d_" % (os.getpid() % 100000, next(_counter))
    yield p
    # Objects a test held may sit in reference cycles (an exception's
    # traceback holds the test's frame): collected before the check.
    gc.collect()
    deadline = time.monotonic() + 5
    while shm_left(p) and time.monotonic() < deadline:
        time.sleep(0.02)
    left = shm_left(p)
    for n in left:
        os.unlink("/dev/shm/" + n)
    assert not left, "left behind in /dev/shm: %r" % left


def node(iox2, prefix, **kw):
    b = iox2.NodeBuilder.new().prefix(prefix)
    if "mode" in kw:
        b = b.signal_handling_mode(kw["mode"])
    return b.create(iox2.ServiceType.Ipc)


def python_peer(script, *args, env=None):
    """Starts `tests/peers/<script>` with this interpreter."""
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.Popen([sys.executable, str(PEERS / script), *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=e)


def rust_peer(binary, *args):
    """Starts a Rust peer built by `cargo build --release -p icefloe-python-peers`."""
    path = RUST_BIN / binary
    assert path.exists(), "%s is not built: cargo build --release -p icefloe-python-peers" % path
    return subprocess.Popen([str(path), *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_line(proc, want, timeout=30):
    """Reads `proc`'s stdout until a line equal to `want`."""
    deadline = time.monotonic() + timeout
    lines = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if lines[-1] == want:
            return lines
    raise AssertionError("no %r from the peer; it said %r, stderr %r" % (want, lines, proc.stderr.read() if proc.poll() is not None else ""))


def finish(proc, timeout=120):
    """Waits for `proc` (killing it past the watchdog) and returns (rc, out, err)."""
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError("peer did not finish within %ds: %s %s" % (timeout, out, err))
    return proc.returncode, out, err

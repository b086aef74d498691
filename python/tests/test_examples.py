"""Every example pair in python/examples runs as two processes, talks, and
ends with `exit` on SIGINT (Ctrl-C), with no KeyboardInterrupt."""

import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import ROOT, finish

EXAMPLES = ROOT / "python" / "examples"

PAIRS = [
    # (folder, first started, second started, which one prints, what it prints)
    ("publish_subscribe", "subscriber.py", "publisher.py", "first",
     "received: TransmissionData { x: 2, y: 6, funky: 1624.24 }"),
    ("request_response", "server.py", "client.py", "second", "  received response 1 : TransmissionData"),
    ("event", "listener.py", "notifier.py", "first", "event was triggered with id: EventId(2) count: 1"),
    ("request_response_dynamic_data", "server.py", "client.py", "second", "received response with"),
]


def start(folder, script, prefix):
    env = dict(os.environ, ICEFLOE_PREFIX=prefix, PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, script], cwd=str(EXAMPLES / folder), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


@pytest.mark.parametrize("folder,first,second,printer,want", PAIRS, ids=[p[0] for p in PAIRS])
def test_example_pair(prefix, folder, first, second, printer, want):
    a = start(folder, first, prefix)
    time.sleep(0.3)
    b = start(folder, second, prefix)
    watch = a if printer == "first" else b
    seen = []
    deadline = time.monotonic() + 30
    try:
        while not any(line.startswith(want) for line in seen):
            assert time.monotonic() < deadline, "no %r within 30 s; saw %r" % (want, seen)
            line = watch.stdout.readline()
            assert line, "the example ended early: %r, stderr %r" % (seen, watch.stderr.read())
            seen.append(line.rstrip("\n"))
    finally:
        for p in (b, a):
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
    for p in (b, a):
        rc, out, err = finish(p, 30)
        assert rc == 0 and out.rstrip().endswith("exit"), (out, err)
        assert "Traceback" not in err, err

"""WaitSet from Python: the listener that was notified fires, intervals
and missed deadlines, detaching, errors, Ctrl-C (GIL released meanwhile)."""

import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import icefloe as iox2
from conftest import finish, node


def events(n, count):
    services = [n.service_builder(iox2.ServiceName.new("ws/ev%d" % i)).event().open_or_create() for i in range(count)]
    return services, [s.listener_builder().create() for s in services], [s.notifier_builder().create() for s in services]


def test_the_notified_listener_fires_among_several(prefix):
    n = node(iox2, prefix)
    _services, listeners, notifiers = events(n, 3)
    ws = iox2.WaitSetBuilder.new().create(iox2.ServiceType.Ipc)
    guards = [ws.attach_notification(l) for l in listeners]
    assert (ws.len, ws.is_empty, ws.capacity) == (3, False, 64)
    notifiers[1].notify()
    ids, result = ws.wait_and_process_with_timeout(iox2.Duration.from_secs(10))
    assert result == iox2.WaitSetRunResult.AllEventsHandled
    assert [[i.has_event_from(g) for g in guards] for i in ids] == [[False, True, False]]
    assert iox2.WaitSetAttachmentId.from_guard(guards[1]) == ids[0]
    listeners[1].try_wait()
    guards[1].delete()
    assert ws.len == 2
    notifiers[1].notify()
    ids, _ = ws.wait_and_process_with_timeout(iox2.Duration.from_millis(50))
    assert ids == [], "a detached listener wakes nothing"
    del guards[0]
    assert ws.len == 1, "a guard that goes detaches"


def test_intervals_tick_and_deadlines_are_missed(prefix):
    n = node(iox2, prefix)
    _services, listeners, _notifiers = events(n, 1)
    ws = iox2.WaitSetBuilder.new().create(iox2.ServiceType.Ipc)
    tick = ws.attach_interval(iox2.Duration.from_millis(20))
    late = ws.attach_deadline(listeners[0], iox2.Duration.from_millis(30))
    seen_tick = seen_missed = False
    deadline = time.monotonic() + 10
    while not (seen_tick and seen_missed) and time.monotonic() < deadline:
        ids, _ = ws.wait_and_process_with_timeout(iox2.Duration.from_secs(1))
        seen_tick |= any(i.has_event_from(tick) for i in ids)
        seen_missed |= any(i.has_missed_deadline(late) for i in ids)
    assert seen_tick and seen_missed


def test_an_empty_waitset_and_a_twice_attached_listener_raise(prefix):
    n = node(iox2, prefix)
    _services, listeners, _ = events(n, 1)
    ws = iox2.WaitSetBuilder.new().create(iox2.ServiceType.Ipc)
    with pytest.raises(iox2.WaitSetRunError) as e:
        ws.wait_and_process_with_timeout(iox2.Duration.from_millis(1))
    assert e.value.variant == "NoAttachments"
    _g = ws.attach_notification(listeners[0])
    with pytest.raises(iox2.WaitSetAttachmentError) as e:
        ws.attach_notification(listeners[0])
    assert e.value.variant == "AlreadyAttached"


def test_a_wait_releases_the_gil(prefix):
    """Another Python thread notifies while the WaitSet sleeps: if the wait
    held the GIL, that thread could not run and the wait would end only at
    its (watchdog) timeout, with nothing fired."""
    n = node(iox2, prefix)
    _services, listeners, _ = events(n, 1)
    ws = iox2.WaitSetBuilder.new().create(iox2.ServiceType.Ipc)
    guard = ws.attach_notification(listeners[0])
    failures = []

    def notify_later():
        try:
            # Ports stay on their thread: this one makes its own.
            own = node(iox2, prefix)
            service = own.service_builder(iox2.ServiceName.new("ws/ev0")).event().open()
            notifier = service.notifier_builder().create()
            own.wait(iox2.Duration.from_millis(100))
            notifier.notify()
        except Exception as e:  # reported by the main thread
            failures.append(e)

    t = threading.Thread(target=notify_later)
    t.start()
    ids, _ = ws.wait_and_process_with_timeout(iox2.Duration.from_secs(20))
    t.join()
    assert not failures, failures
    assert [i.has_event_from(guard) for i in ids] == [True]


CHILD = textwrap.dedent("""
    import sys, icefloe as iox2
    n = iox2.NodeBuilder.new().prefix(sys.argv[1]).create(iox2.ServiceType.Ipc)
    ev = n.service_builder(iox2.ServiceName.new("ws/ctrl_c")).event().open_or_create()
    listener = ev.listener_builder().create()
    ws = iox2.WaitSetBuilder.new().create(iox2.ServiceType.Ipc)
    guard = ws.attach_notification(listener)
    print("ready", flush=True)
    ids, result = ws.wait_and_process()
    print(result, len(ids), flush=True)
""")


def test_ctrl_c_ends_a_wait_with_interrupt(prefix):
    child = subprocess.Popen([sys.executable, "-c", CHILD, prefix], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "ready"
    time.sleep(0.2)
    child.send_signal(signal.SIGINT)
    rc, out, err = finish(child, 30)
    assert (rc, out.strip()) == (0, "WaitSetRunResult.Interrupt 0"), err

"""Publish-subscribe with a ctypes.Structure (to a Rust subscriber of the
same #[repr(C)] struct), events, and Ctrl-C ending blocking calls."""

import ctypes
import os
import select
import signal
import subprocess
import sys
import textwrap
import time

import icefloe as iox2
from conftest import finish, node, rust_peer, wait_line


class TransmissionData(ctypes.Structure):
    """iceoryx2's example payload; the Rust peer declares the same struct."""

    _fields_ = [("x", ctypes.c_int32), ("y", ctypes.c_int32), ("funky", ctypes.c_double)]

    @staticmethod
    def type_name() -> str:
        return "TransmissionData"


def test_a_structure_reaches_a_rust_subscriber(prefix):
    rust = rust_peer("pubsub_peer", prefix, "ps/struct", 3)
    wait_line(rust, "ready")
    n = node(iox2, prefix)
    service = n.service_builder(iox2.ServiceName.new("ps/struct")).publish_subscribe(TransmissionData).open_or_create()
    publisher = service.publisher_builder().create()
    sent = 0
    deadline = time.monotonic() + 30
    while sent < 3 and time.monotonic() < deadline:
        sample = publisher.loan_uninit()
        sample = sample.write_payload(TransmissionData(x=sent, y=sent * 3, funky=sent * 812.12))
        if sample.send() > 0:
            sent += 1
        n.wait(iox2.Duration.from_millis(10))
    rc, out, err = finish(rust, 30)
    assert rc == 0, err
    assert out.split("\n")[:3] == ["0 0 0", "1 3 812.12", "2 6 1624.24"], out
    publisher.delete()


def test_a_structure_with_a_different_name_is_refused(prefix):
    class Other(ctypes.Structure):
        _fields_ = TransmissionData._fields_

    n = node(iox2, prefix)
    _s = n.service_builder(iox2.ServiceName.new("ps/name")).publish_subscribe(TransmissionData).open_or_create()
    try:
        n.service_builder(iox2.ServiceName.new("ps/name")).publish_subscribe(Other).open()
        raise AssertionError("opened with another type name")
    except iox2.PublishSubscribeOpenError as e:
        assert e.variant == "IncompatiblePayloadType"


def test_pubsub_in_process_with_history(prefix):
    n = node(iox2, prefix)
    service = (n.service_builder(iox2.ServiceName.new("ps/history")).publish_subscribe(ctypes.c_uint64)
               .history_size(2).subscriber_max_buffer_size(4).open_or_create())
    publisher = service.publisher_builder().create()
    for v in (1, 2, 3):
        publisher.send_copy(ctypes.c_uint64(v))
    subscriber = service.subscriber_builder().create()
    newest = service.subscriber_builder().history_request(1).create()
    publisher.update_connections()

    def drain(sub):
        got = []
        while True:
            s = sub.receive()
            if s is None:
                return got
            got.append(s.payload().contents.value)

    assert drain(subscriber) == [2, 3]
    assert drain(newest) == [3]
    assert service.static_config.history_size == 2


def test_events_reach_a_listener(prefix):
    n = node(iox2, prefix)
    service = n.service_builder(iox2.ServiceName.new("ev/basic")).event().open_or_create()
    notifier = service.notifier_builder().create()
    listener = service.listener_builder().create()
    max_id = service.static_config.event_id_max_value
    assert notifier.notify_with_custom_event_id(iox2.EventId.new(max_id)) == 1
    assert notifier.notify_with_custom_event_id(iox2.EventId.new(3)) == 1
    got = listener.timed_wait(iox2.Duration.from_secs(5))
    assert sorted((a.id.as_value, a.count) for a in got) == [(3, 1), (max_id, 1)]
    assert listener.try_wait() == []
    assert listener.timed_wait(iox2.Duration.from_millis(10)) == []
    try:
        notifier.notify_with_custom_event_id(iox2.EventId.new(max_id + 1))
        raise AssertionError("an id past the maximum was sent")
    except iox2.NotifierNotifyError as e:
        assert e.variant == "EventIdOutOfBounds"


CHILD = textwrap.dedent("""
    import sys, icefloe as iox2
    n = iox2.NodeBuilder.new().prefix(sys.argv[1]).create(iox2.ServiceType.Ipc)
    what = sys.argv[2]
    print("ready", flush=True)
    try:
        if what == "wait":
            n.wait(iox2.Duration.from_secs(60))
        else:
            service = n.service_builder(iox2.ServiceName.new("ev/ctrl_c")).event().open_or_create()
            service.listener_builder().create().blocking_wait()
        print("woke without a signal", flush=True)
    except iox2.NodeWaitFailure as e:
        print("NodeWaitFailure", e.args[0], flush=True)
    except iox2.ListenerWaitError as e:
        print("ListenerWaitError", e.args[0], flush=True)
""")


def run_child(prefix, what, sig):
    child = subprocess.Popen([sys.executable, "-c", CHILD, prefix, what], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "ready"
    time.sleep(0.2)  # into the wait (an earlier signal is noticed all the same)
    child.send_signal(sig)
    return finish(child, 30)


def test_ctrl_c_ends_node_wait_with_node_wait_failure(prefix):
    rc, out, err = run_child(prefix, "wait", signal.SIGINT)
    assert (rc, out.strip()) == (0, "NodeWaitFailure Interrupt"), err
    assert "KeyboardInterrupt" not in err
    rc, out, err = run_child(prefix, "wait", signal.SIGTERM)
    assert (rc, out.strip()) == (0, "NodeWaitFailure TerminationRequest"), err


def test_ctrl_c_ends_a_blocking_listener_wait_before_any_node_wait(prefix):
    rc, out, err = run_child(prefix, "listen", signal.SIGINT)
    assert (rc, out.strip()) == (0, "ListenerWaitError Interrupt"), err


class CustomHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_int32), ("timestamp", ctypes.c_uint64)]

    @staticmethod
    def type_name() -> str:
        return "CustomHeader"


def test_user_headers_travel_with_the_payload(prefix):
    n = node(iox2, prefix)
    service = (n.service_builder(iox2.ServiceName.new("ps/header")).publish_subscribe(ctypes.c_uint64)
               .user_header(CustomHeader).open_or_create())
    publisher = service.publisher_builder().create()
    subscriber = service.subscriber_builder().create()
    sample = publisher.loan_uninit()
    assert (sample.user_header().contents.version, sample.user_header().contents.timestamp) == (0, 0), "zeroed"
    sample.user_header().contents.version = 123
    sample.user_header().contents.timestamp = 80337
    sample.write_payload(ctypes.c_uint64(42)).send()
    got = subscriber.receive()
    header = got.user_header().contents
    assert (header.version, header.timestamp, got.payload().contents.value) == (123, 80337, 42)
    try:
        header.version = 1
        raise AssertionError("a received header was written")
    except TypeError:
        pass
    # Another header type, or none, is refused on open.
    try:
        n.service_builder(iox2.ServiceName.new("ps/header")).publish_subscribe(ctypes.c_uint64).open()
        raise AssertionError("opened without the header")
    except iox2.PublishSubscribeOpenError as e:
        assert e.variant == "IncompatibleUserHeader"
    # A service without a header says so.
    plain = n.service_builder(iox2.ServiceName.new("ps/plain")).publish_subscribe(ctypes.c_uint64).open_or_create()
    try:
        plain.publisher_builder().create().loan_uninit().user_header()
        raise AssertionError("a header of a service without one")
    except TypeError:
        pass


def test_request_and_response_headers(prefix):
    n = node(iox2, prefix)
    service = (n.service_builder(iox2.ServiceName.new("rr/headers2"))
               .request_response(ctypes.c_uint64, ctypes.c_uint64)
               .request_user_header(CustomHeader).response_user_header(ctypes.c_uint32).open_or_create())
    client = service.client_builder().create()
    server = service.server_builder().create()
    request = client.loan_uninit()
    request.user_header().contents.version = 7
    pending = request.write_payload(ctypes.c_uint64(1)).send()
    active = server.receive()
    assert active.user_header().contents.version == 7
    response = active.loan_uninit()
    response.user_header().contents.value = 99
    response.write_payload(ctypes.c_uint64(2)).send()
    got = pending.receive()
    assert (got.user_header().contents.value, got.payload().contents.value) == (99, 2)


def test_port_names_getters_counts_and_knobs(prefix):
    n = node(iox2, prefix)
    service = (n.service_builder(iox2.ServiceName.new("ps/knobs")).publish_subscribe(iox2.Slice[ctypes.c_uint8])
               .payload_alignment(iox2.Alignment.new(64)).open_or_create())
    assert service.dynamic_config.number_of_publishers == 0
    publisher = (service.publisher_builder().name(iox2.PortName.new("camera")).initial_max_slice_len(100)
                 .backpressure_strategy(iox2.BackpressureStrategy.DiscardData).override_sample_preallocation(3).create())
    subscriber = service.subscriber_builder().name(iox2.PortName.new("viewer")).create()
    assert (publisher.name.as_str(), subscriber.name.as_str()) == ("camera", "viewer")
    assert subscriber.id.value != publisher.id.value != 0
    assert (publisher.initial_max_slice_len, publisher.backpressure_strategy) == (100, iox2.BackpressureStrategy.DiscardData)
    assert (service.dynamic_config.number_of_publishers, service.dynamic_config.number_of_subscribers) == (1, 1)
    loan = publisher.loan_slice_uninit(10)
    assert loan.payload_ptr % 64 == 0, "the payload is aligned as asked"
    loans = [loan, publisher.loan_slice_uninit(1)]
    assert len(loans) == 2
    subscriber.delete()
    assert service.dynamic_config.number_of_subscribers == 0
    assert service.try_cleanup_dead_nodes() == 0
    try:
        iox2.Alignment.new(3)
        raise AssertionError("3 accepted as an alignment")
    except iox2.InvalidAlignmentValue:
        pass
    ev = n.service_builder(iox2.ServiceName.new("ev/knobs")).event().deadline(iox2.Duration.from_secs(2)).open_or_create()
    listener = ev.listener_builder().name(iox2.PortName.new("l")).create()
    assert listener.deadline == iox2.Duration.from_secs(2)
    assert ev.dynamic_config.number_of_listeners == 1


HOLDER = textwrap.dedent("""
    import ctypes, sys, icefloe as iox2
    n = iox2.NodeBuilder.new().prefix(sys.argv[1]).create(iox2.ServiceType.Ipc)
    service = n.service_builder(iox2.ServiceName.new("ps/crash")).publish_subscribe(ctypes.c_uint64).open_or_create()
    subscriber = service.subscriber_builder().create()
    print("ready", flush=True)
    held = []
    while len(held) < 2:
        s = subscriber.receive()
        if s is not None:
            held.append(s)
        n.wait(iox2.Duration.from_millis(1))
    print("holding", flush=True)
    n.wait(iox2.Duration.from_secs(60))
""")


def test_a_subscriber_killed_while_holding_samples_is_cleaned_up(prefix):
    """kill -9 of a Python subscriber that holds samples: the publisher's
    node reclaims them (and the dead node's files), and goes on loaning."""
    n = node(iox2, prefix)
    service = n.service_builder(iox2.ServiceName.new("ps/crash")).publish_subscribe(ctypes.c_uint64).open_or_create()
    publisher = service.publisher_builder().create()
    child = subprocess.Popen([sys.executable, "-c", HOLDER, prefix], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "ready"
    deadline = time.monotonic() + 30
    line = ""
    while line != "holding":
        assert time.monotonic() < deadline, "the child never held two samples"
        publisher.send_copy(ctypes.c_uint64(1))
        if select.select([child.stdout], [], [], 0.005)[0]:
            line = child.stdout.readline().strip()
            assert line, "the child ended: %s" % child.stderr.read()
    child.kill()
    child.wait()
    assert service.dynamic_config.number_of_subscribers == 1, "the dead subscriber's slot is still taken"
    assert service.try_cleanup_dead_nodes() == 1
    assert service.dynamic_config.number_of_subscribers == 0
    for i in range(100):
        publisher.send_copy(ctypes.c_uint64(i))  # no loan runs out: the held chunks came back

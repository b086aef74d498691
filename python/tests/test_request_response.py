"""Request-response: the flagship (slices growing to 1 MB, every byte
checked) in one process, across processes, and across languages."""

import ctypes
import os
import signal
import subprocess
import sys
import time

import pytest

import icefloe as iox2
from conftest import ROOT, finish, node, python_peer, rust_peer, wait_line

BYTES = iox2.Slice[ctypes.c_uint8]


def rr(n, name="rr/test", req=BYTES, res=BYTES):
    return n.service_builder(iox2.ServiceName.new(name)).request_response(req, res).open_or_create()


def test_slices_grow_to_a_megabyte_in_one_process(prefix):
    n = node(iox2, prefix)
    service = rr(n)
    client = service.client_builder().initial_max_slice_len(1).allocation_strategy(iox2.AllocationStrategy.PowerOfTwo).create()
    server = service.server_builder().initial_max_slice_len(1).allocation_strategy(iox2.AllocationStrategy.BestFit).create()
    for size in (1, 7, 100, 4096, 65537, 1_000_000):
        request = client.loan_slice_uninit(size)
        data = bytes((i * 3 + size) % 256 for i in range(min(size, 256))) * (size // 256 + 1)
        request.payload()[:] = data[:size]
        pending = request.assume_init().send()
        active = server.receive()
        assert active is not None
        assert active.payload().len() == size
        assert bytes(memoryview(active.payload())) == data[:size]
        active.send_copy((ctypes.c_uint8 * (2 * size))(*([size % 256] * (2 * size))))
        active.delete()
        response = pending.receive()
        assert response is not None
        assert len(response.payload()) == 2 * size
        assert bytes(memoryview(response.payload())) == bytes([size % 256]) * (2 * size)
        assert not pending.is_connected
        response.delete()
    assert server.receive() is None


def test_fixed_types_request_and_response(prefix):
    n = node(iox2, prefix)
    service = rr(n, "rr/fixed", ctypes.c_uint64, ctypes.c_uint64)
    client = service.client_builder().create()
    server = service.server_builder().create()
    pending = client.send_copy(ctypes.c_uint64(21))
    active = server.receive()
    assert active.payload().contents.value == 21
    response = active.loan_uninit()
    response.payload().contents.value = 42
    response.assume_init().send()
    assert pending.receive().payload().contents.value == 42
    second = client.loan_uninit().write_payload(ctypes.c_uint64(5)).send()
    active2 = server.receive()
    active2.send_copy(ctypes.c_uint64(active2.payload().contents.value * 3))
    assert second.receive().payload().contents.value == 15
    cfg = service.static_config
    assert (cfg.request_type.type_name, cfg.request_type.size, cfg.request_type.type_variant) == \
        ("u64", 8, iox2.TypeVariant.FixedSize)


def test_opening_with_other_types_raises_with_the_variant(prefix):
    n = node(iox2, prefix)
    _keep = rr(n, "rr/types")
    with pytest.raises(iox2.RequestResponseOpenOrCreateError) as e:
        rr(n, "rr/types", iox2.Slice[ctypes.c_uint16], BYTES)
    assert e.value.args[0] == "IncompatiblePayloadType"
    assert e.value.variant == "IncompatiblePayloadType"
    with pytest.raises(iox2.RequestResponseOpenError):
        n.service_builder(iox2.ServiceName.new("rr/types")).request_response(BYTES, ctypes.c_uint8).open()
    with pytest.raises(TypeError):
        n.service_builder(iox2.ServiceName.new("rr/bad")).request_response(int, BYTES)


def test_a_loan_past_the_maximum_raises_loan_error(prefix):
    n = node(iox2, prefix)
    service = rr(n, "rr/max")
    client = service.client_builder().initial_max_slice_len(4).allocation_strategy(iox2.AllocationStrategy.Static).create()
    with pytest.raises(iox2.LoanError) as e:
        client.loan_slice_uninit(5)
    assert e.value.args[0] == "ExceedsMaxLoanSize"
    assert client.loan_slice_uninit(4).payload().len() == 4


@pytest.mark.parametrize("python_role", ["client", "server"])
def test_python_and_rust_exchange_growing_slices(prefix, python_role):
    rust_role = "server" if python_role == "client" else "client"
    rounds = 25
    rust = rust_peer("rr_peer", rust_role, prefix, "rr/cross", rounds)
    wait_line(rust, "ready")
    py = python_peer("rr_peer.py", python_role, prefix, "rr/cross", rounds)
    rc_py, out_py, err_py = finish(py)
    rc_rust, out_rust, err_rust = finish(rust)
    assert rc_py == 0 and ("ok %d" % rounds) in out_py, (out_py, err_py)
    assert rc_rust == 0 and ("ok %d" % rounds) in out_rust, (out_rust, err_rust)


def test_the_seed_scripts_run_and_end_on_ctrl_c(prefix):
    """The request-response dynamic-data client and server of iceoryx2's
    Python examples, with `import icefloe as iox2`: they exchange growing
    slices and both print `exit` on SIGINT."""
    env = dict(os.environ, ICEFLOE_PREFIX=prefix, PYTHONUNBUFFERED="1")
    examples = ROOT / "python" / "examples" / "request_response_dynamic_data"
    server = subprocess.Popen([sys.executable, str(examples / "server.py")], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env)
    assert server.stdout.readline().strip() == "Server ready to receive requests!"
    client = subprocess.Popen([sys.executable, str(examples / "client.py")], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env)
    seen = []
    deadline = time.monotonic() + 60
    while len([l for l in seen if l.startswith("received response")]) < 3 and time.monotonic() < deadline:
        line = client.stdout.readline()
        assert line, "client ended early: %s" % client.stderr.read()
        seen.append(line.strip())
    client.send_signal(signal.SIGINT)
    server.send_signal(signal.SIGINT)
    rc_c, out_c, err_c = finish(client, 30)
    rc_s, out_s, err_s = finish(server, 30)
    assert out_c.strip().endswith("exit") and rc_c == 0, (out_c, err_c)
    assert out_s.strip().endswith("exit") and rc_s == 0, (out_s, err_s)
    assert "KeyboardInterrupt" not in err_c + err_s
    sizes = [int(l.split()[3]) for l in seen if l.startswith("received response")]
    assert sizes == sorted(sizes) and sizes[0] >= 1, sizes
    assert "received request with 1 bytes ..." in out_s, out_s


def test_headers_and_ids_name_the_sender(prefix):
    n = node(iox2, prefix)
    service = rr(n, "rr/headers")
    client = service.client_builder().initial_max_slice_len(16).create()
    server = service.server_builder().initial_max_slice_len(16).create()
    loan = client.loan_slice_uninit(10)
    assert loan.header.number_of_elements == 10
    assert loan.header.client_id == client.id
    pending = loan.assume_init().send()
    active = server.receive()
    assert (active.header.number_of_elements, active.header.client_id.value) == (10, client.id.value)
    assert active.origin == client.id
    response = active.loan_slice_uninit(3)
    assert response.header.server_id == server.id
    response.assume_init().send()
    got = pending.receive()
    assert (got.header.number_of_elements, got.origin) == (3, server.id)
    assert n.id.value != 0 and client.id != server.id


def test_a_disconnect_hint_reaches_the_server(prefix):
    n = node(iox2, prefix)
    service = rr(n, "rr/hint", ctypes.c_uint64, ctypes.c_uint64)
    client = service.client_builder().create()
    server = service.server_builder().create()
    pending = client.send_copy(ctypes.c_uint64(1))
    active = server.receive()
    assert not active.has_disconnect_hint
    pending.set_disconnect_hint()
    assert active.has_disconnect_hint and active.is_connected
    active.send_copy(ctypes.c_uint64(2))
    assert pending.receive().payload().contents.value == 2


def test_a_client_limits_its_pending_requests(prefix):
    n = node(iox2, prefix)
    service = rr(n, "rr/limit", ctypes.c_uint64, ctypes.c_uint64)
    client = service.client_builder().max_active_requests(1).create()
    assert client.max_active_requests == 1
    _server = service.server_builder().create()
    first = client.send_copy(ctypes.c_uint64(1))
    with pytest.raises(iox2.RequestSendError) as e:
        client.send_copy(ctypes.c_uint64(2))
    assert e.value.variant == "ExceedsMaxActiveRequests"
    first.delete()
    client.send_copy(ctypes.c_uint64(3))
    with pytest.raises(iox2.ClientCreateError) as e:
        service.client_builder().max_active_requests(0).create()
    assert e.value.variant == "InvalidConfig"


def test_a_pending_response_reads_the_request_it_sent(prefix):
    n = node(iox2, prefix)
    service = rr(n, "rr/sent")
    client = service.client_builder().initial_max_slice_len(16).create()
    server = service.server_builder().create()
    request = client.loan_slice_uninit(5)
    request.payload()[:] = b"hello"
    pending = request.assume_init().send()
    assert bytes(memoryview(pending.payload())) == b"hello"
    assert (pending.header.number_of_elements, pending.header.client_id) == (5, client.id)
    with pytest.raises(TypeError):
        pending.payload()[0] = 1  # what was sent is not changed afterwards
    active = server.receive()
    active.delete()
    assert bytes(pending.payload()[0:5]) == b"hello", "still there after the server let go"
    pending.delete()
    with pytest.raises(iox2.ReleasedObjectError):
        pending.payload()

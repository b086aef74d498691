"""The Python side of the cross-language flagship tests (see
python/peers/src/rr_peer.rs for the byte patterns): `rr_peer.py
server|client <prefix> <service> <rounds>`."""

import ctypes
import sys
import time

import icefloe as iox2


def length(k, rounds):
    return 1_000_000 if rounds <= 1 else 1 + (999_999 * (k - 1)) // (rounds - 1)


def pattern(n, k, step):
    # (i * step + k) % 251 for i in 0..n, built in bulk.
    period = bytes((i * step + k) % 251 for i in range(251))
    return (period * (n // 251 + 1))[:n]


def main():
    role, prefix, name, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    node = iox2.NodeBuilder.new().prefix(prefix).create(iox2.ServiceType.Ipc)
    service = (node.service_builder(iox2.ServiceName.new(name))
               .request_response(iox2.Slice[ctypes.c_uint8], iox2.Slice[ctypes.c_uint8])
               .open_or_create())
    deadline = time.monotonic() + 120
    tick = iox2.Duration.from_micros(200)
    if role == "server":
        server = (service.server_builder().initial_max_slice_len(1)
                  .allocation_strategy(iox2.AllocationStrategy.PowerOfTwo).create())
        print("ready", flush=True)
        k = 0
        while k < rounds:
            assert time.monotonic() < deadline, "server timed out"
            request = server.receive()
            if request is None:
                node.wait(tick)
                continue
            k += 1
            n = length(k, rounds)
            got = request.payload()
            assert len(got) == n, "request %d has %d bytes, not %d" % (k, len(got), n)
            assert bytes(memoryview(got)) == pattern(n, k, 1), "request %d differs" % k
            response = request.loan_slice_uninit(2 * n)
            response.payload()[:] = pattern(2 * n, k, 7)
            response.assume_init().send()
            request.delete()
    else:
        client = (service.client_builder().initial_max_slice_len(1)
                  .allocation_strategy(iox2.AllocationStrategy.PowerOfTwo).create())
        print("ready", flush=True)
        for k in range(1, rounds + 1):
            n = length(k, rounds)
            while True:
                request = client.loan_slice_uninit(n)
                request.payload()[:] = pattern(n, k, 1)
                pending = request.assume_init().send()
                if pending.number_of_server_connections > 0:
                    break
                assert time.monotonic() < deadline, "no server"
                node.wait(iox2.Duration.from_millis(5))
            while True:
                response = pending.receive()
                if response is not None:
                    break
                assert time.monotonic() < deadline, "no response to request %d" % k
                node.wait(tick)
            got = response.payload()
            assert len(got) == 2 * n, "response %d has %d bytes" % (k, len(got))
            assert bytes(memoryview(got)) == pattern(2 * n, k, 7), "response %d differs" % k
    print("ok %d" % rounds, flush=True)


main()

"""Python request -> response round trip, icefloe against iceoryx2's
Python wheel (PyPI 0.10.0), in one run, batches interleaved so that both
see the same machine: 8 B and 1 MB slices, untouched (loan, send, receive)
and touched (every byte written through a memoryview on each side, every
byte read back). Then the cost per byte of the seed scripts' byte-by-byte
style (`payload()[i] = v`) against one bulk write.

Client and server are in this one process (each library's own shared
memory path all the same): the figure is what the bindings and the
library cost per round trip, with no scheduler hop.

    ci/python-bench [batches]
"""

import ctypes
import os
import statistics
import sys
import time

import icefloe
import iceoryx2

BYTES_T = ctypes.c_uint8
PREFIX = "pb%d_" % (os.getpid() % 100000)


def make(lib, name, size):
    b = lib.NodeBuilder.new()
    if lib is icefloe:
        b = b.prefix(PREFIX)
    node = b.create(lib.ServiceType.Ipc)
    service = (node.service_builder(lib.ServiceName.new(name))
               .request_response(lib.Slice[BYTES_T], lib.Slice[BYTES_T]).open_or_create())
    client = service.client_builder().initial_max_slice_len(size).allocation_strategy(lib.AllocationStrategy.Static).create()
    server = service.server_builder().initial_max_slice_len(size).allocation_strategy(lib.AllocationStrategy.Static).create()
    return node, service, client, server


def writer(lib):
    if lib is icefloe:
        def write(payload, data):
            with memoryview(payload) as mv:
                mv[:] = data
    else:
        def write(payload, data):
            payload.as_memory_view().cast("B")[:] = data
    return write


def reader(lib):
    if lib is icefloe:
        def read(payload):
            with memoryview(payload) as mv:
                return bytes(mv)
    else:
        def read(payload):
            return bytes(payload.as_memory_view().cast("B"))
    return read


def round_trips(lib, parts, size, touched, n):
    _node, _service, client, server = parts
    data = bytes(size)
    write, read = writer(lib), reader(lib)
    start = time.perf_counter()
    for _ in range(n):
        request = client.loan_slice_uninit(size)
        if touched:
            write(request.payload(), data)
        pending = request.assume_init().send()
        active = server.receive()
        if touched:
            read(active.payload())
        response = active.loan_slice_uninit(size)
        if touched:
            write(response.payload(), data)
        response.assume_init().send()
        active.delete()
        got = pending.receive()
        if touched:
            read(got.payload())
        got.delete()
        pending.delete()
    return (time.perf_counter() - start) / n


def byte_by_byte(lib, parts, size):
    """Seconds per byte: the seed's `request.payload()[i] = v` loop, and one
    bulk write of the same bytes."""
    _node, _service, client, _server = parts
    request = client.loan_slice_uninit(size)
    start = time.perf_counter()
    for i in range(size):
        request.payload()[i] = i % 255
    per_byte = (time.perf_counter() - start) / size
    data = bytes(i % 255 for i in range(size))
    write = writer(lib)
    start = time.perf_counter()
    write(request.payload(), data)
    bulk = (time.perf_counter() - start) / size
    request.delete()
    return per_byte, bulk


def main():
    batches = int(sys.argv[1]) if len(sys.argv) > 1 else 11
    cases = [(8, False, 2000), (8, True, 2000), (1_000_000, False, 200), (1_000_000, True, 20)]
    libs = {"icefloe": icefloe, "iceoryx2": iceoryx2}
    rows = []
    for size, touched, n in cases:
        parts = {k: make(lib, "bench/rr/%d/%d/%s" % (os.getpid(), size, touched), size) for k, lib in libs.items()}
        for k, lib in libs.items():  # warm up
            round_trips(lib, parts[k], size, touched, max(1, n // 10))
        times = {k: [] for k in libs}
        for b in range(batches):
            order = list(libs) if b % 2 == 0 else list(reversed(list(libs)))
            for k in order:
                times[k].append(round_trips(libs[k], parts[k], size, touched, n))
        ours, theirs = statistics.median(times["icefloe"]), statistics.median(times["iceoryx2"])
        ratios = sorted(a / b for a, b in zip(times["icefloe"], times["iceoryx2"]))
        rows.append((size, touched, ours, theirs, ratios))
        del parts
    print("| payload | touched | icefloe (median) | iceoryx2 (median) | ratio (median; batch range) |")
    print("|---|---|---|---|---|")
    for size, touched, ours, theirs, ratios in rows:
        print("| %s | %s | %.2f µs | %.2f µs | %.2f× (%.2f–%.2f) |" % (
            "8 B" if size == 8 else "1 MB", "yes" if touched else "no", ours * 1e6, theirs * 1e6,
            statistics.median(ratios), ratios[0], ratios[-1]))
    size = 20_000
    print()
    print("| %d bytes written | icefloe | iceoryx2 |" % size)
    print("|---|---|---|")
    results = {}
    for k, lib in libs.items():
        parts = make(lib, "bench/bytes/%d" % os.getpid(), size)
        per, bulk = [], []
        for _ in range(5):
            p, q = byte_by_byte(lib, parts, size)
            per.append(p)
            bulk.append(q)
        results[k] = (statistics.median(per), statistics.median(bulk))
        del parts
    print("| byte by byte (`payload()[i] = v`), per byte | %.2f µs | %.2f µs |" % (results["icefloe"][0] * 1e6, results["iceoryx2"][0] * 1e6))
    print("| one bulk write through a memoryview, per byte | %.2f ns | %.2f ns |" % (results["icefloe"][1] * 1e9, results["iceoryx2"][1] * 1e9))


main()

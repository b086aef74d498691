# The request-response dynamic-data client, as iceoryx2's Python example of
# the same name: a request of growing size once a second, every response
# drained after the wait. Written against iceoryx2's Python API; on icefloe
# the import line is the one difference.
"""Request-response dynamic-data client example."""

import ctypes

import icefloe as iox2

cycle_time = iox2.Duration.from_secs(1)

iox2.set_log_level_from_env_or(iox2.LogLevel.Info)
node = iox2.NodeBuilder.new().create(iox2.ServiceType.Ipc)

service = (
    node.service_builder(iox2.ServiceName.new("My/Funk/ServiceName"))
    .request_response(iox2.Slice[ctypes.c_uint8], iox2.Slice[ctypes.c_uint8])
    .open_or_create()
)

client = (
    service.client_builder()
    .initial_max_slice_len(32)
    .allocation_strategy(iox2.AllocationStrategy.PowerOfTwo)
    .create()
)

COUNTER = 1
print("send request", COUNTER, "...")
required_memory_size = min(1_000_000, COUNTER * COUNTER)
request = client.loan_slice_uninit(required_memory_size)
for byte_idx in range(0, required_memory_size):
    request.payload()[byte_idx] = (byte_idx + COUNTER) % 255
request = request.assume_init()
pending_response = request.send()

try:
    while True:
        node.wait(cycle_time)

        while True:
            response = pending_response.receive()
            if response is None:
                break
            print("received response with", response.payload().len(), "bytes")

        COUNTER += 1
        required_memory_size = min(1_000_000, COUNTER * COUNTER)
        request = client.loan_slice_uninit(required_memory_size)
        for byte_idx in range(0, required_memory_size):
            request.payload()[byte_idx] = (byte_idx + COUNTER) % 255
        request = request.assume_init()
        pending_response = request.send()
        print("send request", COUNTER, "with", required_memory_size, "bytes ...")

except iox2.NodeWaitFailure:
    print("exit")

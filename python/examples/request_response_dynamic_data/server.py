# The request-response dynamic-data server, as iceoryx2's Python example of
# the same name: wakes every 100 ms, answers each request with a response
# that grows with every wake-up.
"""Request-response dynamic-data server example."""

import ctypes

import icefloe as iox2

cycle_time = iox2.Duration.from_millis(100)

iox2.set_log_level_from_env_or(iox2.LogLevel.Info)
node = iox2.NodeBuilder.new().create(iox2.ServiceType.Ipc)

service = (
    node.service_builder(iox2.ServiceName.new("My/Funk/ServiceName"))
    .request_response(iox2.Slice[ctypes.c_uint8], iox2.Slice[ctypes.c_uint8])
    .open_or_create()
)

server = (
    service.server_builder()
    .initial_max_slice_len(32)
    .allocation_strategy(iox2.AllocationStrategy.PowerOfTwo)
    .create()
)

print("Server ready to receive requests!")

COUNTER = 1
try:
    while True:
        node.wait(cycle_time)
        while True:
            active_request = server.receive()
            if active_request is None:
                break
            print("received request with", active_request.payload().len(), "bytes ...")

            required_memory_size = min(1_000_000, COUNTER * COUNTER)
            response = active_request.loan_slice_uninit(required_memory_size)
            for byte_idx in range(0, required_memory_size):
                response.payload()[byte_idx] = (byte_idx + COUNTER) % 255
            response = response.assume_init()
            print("send response with", response.payload().len(), "bytes")
            response.send()

        COUNTER += 1

except iox2.NodeWaitFailure:
    print("exit")

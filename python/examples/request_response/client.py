"""Request-response client example: a u64 request once a second, the
TransmissionData responses drained after the wait."""

import ctypes

import icefloe as iox2
from transmission_data import TransmissionData

cycle_time = iox2.Duration.from_secs(1)

iox2.set_log_level_from_env_or(iox2.LogLevel.Info)
node = iox2.NodeBuilder.new().create(iox2.ServiceType.Ipc)

service = (
    node.service_builder(iox2.ServiceName.new("My/Funk/ServiceName"))
    .request_response(ctypes.c_uint64, TransmissionData)
    .open_or_create()
)

client = service.client_builder().create()

REQUEST_COUNTER = 0
RESPONSE_COUNTER = 0

# sending the first request by using the slower, non-zero-copy API
print("send request", REQUEST_COUNTER, "...")
pending_response = client.send_copy(ctypes.c_uint64(REQUEST_COUNTER))

try:
    while True:
        node.wait(cycle_time)
        # acquire all responses to our request from our buffer that were sent by the servers
        while True:
            response = pending_response.receive()
            if response is None:
                break
            data = response.payload()
            print("  received response", RESPONSE_COUNTER, ":", data.contents)
            RESPONSE_COUNTER += 1

        REQUEST_COUNTER += 1
        # send all other requests by using zero copy API
        request = client.loan_uninit()
        request = request.write_payload(ctypes.c_uint64(REQUEST_COUNTER))

        pending_response = request.send()

        print("send request", REQUEST_COUNTER, "...")

except iox2.NodeWaitFailure:
    print("exit")

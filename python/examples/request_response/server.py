"""Request-response server example: answers each u64 request with a
TransmissionData, then a second and a third one (a response stream)."""

import ctypes

import icefloe as iox2
from transmission_data import TransmissionData

cycle_time = iox2.Duration.from_millis(100)

iox2.set_log_level_from_env_or(iox2.LogLevel.Info)
node = iox2.NodeBuilder.new().create(iox2.ServiceType.Ipc)

service = (
    node.service_builder(iox2.ServiceName.new("My/Funk/ServiceName"))
    .request_response(ctypes.c_uint64, TransmissionData)
    .open_or_create()
)

server = service.server_builder().create()

print("Server ready to receive requests!")

COUNTER = 0
try:
    while True:
        node.wait(cycle_time)
        while True:
            active_request = server.receive()
            if active_request is None:
                break
            data = active_request.payload()
            print("received request:", data.contents.value)

            response = TransmissionData(x=5 + COUNTER, y=6 * COUNTER, funky=7.77)
            print("  send response:", response)
            # send first response by using the slower, non-zero-copy API
            active_request.send_copy(response)

            # use zero copy API, send out some responses to demonstrate the streaming API
            for n in range(0, COUNTER % 2):
                response = active_request.loan_uninit()
                response = response.write_payload(TransmissionData(x=COUNTER * (n + 1), y=COUNTER + n, funky=COUNTER * 0.1234))
                print("  send response:", response.payload().contents)
                response.send()

            # the active request ends the response stream when it goes
            active_request.delete()
        COUNTER += 1

except iox2.NodeWaitFailure:
    print("exit")

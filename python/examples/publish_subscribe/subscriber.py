"""Publish-subscribe subscriber example: prints every TransmissionData."""

import icefloe as iox2
from transmission_data import TransmissionData

cycle_time = iox2.Duration.from_secs(1)

iox2.set_log_level_from_env_or(iox2.LogLevel.Info)
node = iox2.NodeBuilder.new().create(iox2.ServiceType.Ipc)

service = (
    node.service_builder(iox2.ServiceName.new("My/Funk/ServiceName"))
    .publish_subscribe(TransmissionData)
    .open_or_create()
)

subscriber = service.subscriber_builder().create()

try:
    while True:
        node.wait(cycle_time)
        while True:
            sample = subscriber.receive()
            if sample is not None:
                data = sample.payload()
                print("received:", data.contents)
            else:
                break

except iox2.NodeWaitFailure:
    print("exit")

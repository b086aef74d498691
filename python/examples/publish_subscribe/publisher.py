"""Publish-subscribe publisher example: a TransmissionData once a second."""

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

publisher = service.publisher_builder().create()

COUNTER = 0
try:
    while True:
        COUNTER += 1
        node.wait(cycle_time)
        sample = publisher.loan_uninit()
        sample = sample.write_payload(TransmissionData(x=COUNTER, y=COUNTER * 3, funky=COUNTER * 812.12))
        sample.send()
        print("send sample", COUNTER, "...")

except iox2.NodeWaitFailure:
    print("exit")

"""Event listener example: sleeps until notified, prints what arrived."""

import icefloe as iox2

cycle_time = iox2.Duration.from_secs(1)

iox2.set_log_level_from_env_or(iox2.LogLevel.Info)
node = iox2.NodeBuilder.new().create(iox2.ServiceType.Ipc)

event = node.service_builder(iox2.ServiceName.new("MyEventName")).event().open_or_create()

listener = event.listener_builder().create()

print("Listener ready to receive events")

try:
    while True:
        for activation in listener.timed_wait(cycle_time):
            print("event was triggered with id:", activation.id, "count:", activation.count)

except iox2.ListenerWaitError:
    print("exit")

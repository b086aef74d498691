// Publishes a C++ struct that a Rust #[repr(C)] struct of the same layout
// and name receives: Pose { double x, y; uint32_t id; }.
// Usage: pose_publisher PREFIX SERVICE COUNT
#include <cstdio>
#include <cstdlib>

#include "icefloe.hpp"

struct Pose {
    double x;
    double y;
    std::uint32_t id;
};
ICEFLOE_TYPE_NAME(Pose, "Pose");

int main(int argc, char **argv) try {
    if (argc < 4) return 2;
    const int count = std::atoi(argv[3]);
    icefloe::Node node("cpp-pose-publisher", argv[1]);
    icefloe::PubSubOptions qos;
    qos.subscriber_max_buffer_size = 16;
    icefloe::PublishSubscribe<Pose> service(node, argv[2], icefloe::Open::OpenOrCreate, qos);
    auto publisher = service.publisher();
    // Wait (up to 60 s) for a subscriber: probes with id 0.
    std::size_t reached = 0;
    for (int tries = 0; reached == 0 && tries < 6000; tries++) {
        auto probe = publisher.loan();
        probe.write(Pose{0, 0, 0});
        reached = probe.send();
        if (reached == 0) node.wait(std::chrono::milliseconds(10));
    }
    if (reached == 0) return 1;
    for (int k = 1; k <= count; k++) {
        auto sample = publisher.loan();
        sample.write(Pose{1.5 * k, -2.0 * k, static_cast<std::uint32_t>(k)});
        sample.send();
        node.wait(std::chrono::milliseconds(5));
    }
    // A loan dropped unsent goes back to the pool.
    { auto unused = publisher.loan(); }
    std::printf("pose_publisher: sent %d poses\n", count);
    return 0;
} catch (const icefloe::Error &e) {
    std::fprintf(stderr, "pose_publisher: %s\n", e.what());
    return 1;
}

// Sleeps until notifiers wake it and prints every event id, until COUNT
// notifications came. Usage: event_listener PREFIX SERVICE COUNT
#include <cstdio>
#include <cstdlib>

#include "icefloe.hpp"

int main(int argc, char **argv) try {
    if (argc < 4) return 2;
    const unsigned want = static_cast<unsigned>(std::atoi(argv[3]));
    icefloe::Node node("cpp-listener", argv[1]);
    icefloe::EventService service(node, argv[2]);
    auto listener = service.listener();
    unsigned got = 0;
    for (int waits = 0; got < want && waits < 600; waits++) {
        listener.wait(std::chrono::milliseconds(100), [&](std::uint32_t id, std::uint32_t count) {
            std::printf("listener: event id %u (%u notification(s))\n", id, count);
            got += count;
        });
    }
    return got >= want ? 0 : 1;
} catch (const icefloe::Error &e) {
    std::fprintf(stderr, "listener: %s\n", e.what());
    return 1;
}

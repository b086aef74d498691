// Receives COUNT numbered byte slices (u64 header n >= 1; probes with n 0
// are skipped) and checks every byte, in C++.
// Usage: subscriber PREFIX SERVICE COUNT
#include <cstdio>
#include <cstdlib>

#include "icefloe.hpp"

static unsigned char sample_byte(std::size_t i, std::uint64_t n) {
    return static_cast<unsigned char>((i * 31u + n * 7u) & 0xffu);
}

int main(int argc, char **argv) try {
    if (argc < 4) {
        std::fprintf(stderr, "usage: %s PREFIX SERVICE COUNT\n", argv[0]);
        return 2;
    }
    const int count = std::atoi(argv[3]);
    icefloe::Node node("cpp-subscriber", argv[1]);
    icefloe::PubSubOptions qos;
    qos.max_slice_len = 1u << 20;
    qos.subscriber_max_buffer_size = 8;
    icefloe::PublishSubscribe<icefloe::Slice<std::uint8_t>, std::uint64_t> service(node, argv[2],
                                                                                   icefloe::Open::OpenOrCreate, qos);
    auto subscriber = service.subscriber();
    int got = 0;
    for (int waits = 0; got < count && waits < 600; waits++) {
        auto first = subscriber.receive(std::chrono::milliseconds(100));
        if (!first) continue;
        auto check = [&](const icefloe::Sample<icefloe::Slice<std::uint8_t>, std::uint64_t> &s) {
            const std::uint64_t n = s.header();
            if (n == 0) return true;
            const auto data = s.payload();
            for (std::size_t i = 0; i < data.size(); i++) {
                if (data[i] != sample_byte(i, n)) {
                    std::fprintf(stderr, "sample %llu byte %zu is %u\n", (unsigned long long)n, i, data[i]);
                    return false;
                }
            }
            std::printf("subscriber: sample %llu of %zu bytes ok\n", (unsigned long long)n, data.size());
            got++;
            return true;
        };
        if (!check(*first)) return 1;
        first.reset();
        // And whatever else waits, through range-for.
        for (auto s : subscriber.samples()) {
            if (!check(s)) return 1;
        }
    }
    if (got < count) {
        std::fprintf(stderr, "subscriber: %d of %d samples came\n", got, count);
        return 1;
    }
    return 0;
} catch (const icefloe::Error &e) {
    std::fprintf(stderr, "subscriber: %s (code %d)\n", e.what(), static_cast<int>(e.code()));
    return 1;
}

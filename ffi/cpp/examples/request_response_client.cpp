// The request-response dynamic-data client in C++: requests growing to
// 1,000,000 bytes, each response stream read to its end, every byte
// checked. Talks to the Rust, C and C++ servers alike.
// Usage: request_response_client [PREFIX|- [COUNT [STRIDE]]]
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "../../c/examples/request_response.h"
#include "icefloe.hpp"

using Bytes = icefloe::Slice<std::uint8_t>;

int main(int argc, char **argv) try {
    const char *prefix = argc > 1 && std::strcmp(argv[1], "-") != 0 ? argv[1] : nullptr;
    const std::uint64_t count = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 10;
    const std::uint64_t stride = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 1;
    icefloe::Node node("cpp-client", prefix);
    icefloe::RequestResponse<Bytes, Bytes> service(node, RR_SERVICE);
    auto client = service.client(ICEFLOE_POWER_OF_TWO, 16);
    std::uint64_t responses = 0;
    int waited = 0;
    for (std::uint64_t k = 1; k <= count;) {
        const std::uint64_t n = k * stride;
        auto request = client.loan(rr_len_of(n));
        auto data = request.payload();
        for (std::size_t i = 0; i < data.size(); i++) data[i] = rr_byte(i, n);
        auto pending = request.send();
        std::uint64_t got = 0;
        while (pending.is_connected()) {
            auto r = pending.receive(std::chrono::milliseconds(100));
            if (!r) continue;
            const auto bytes = r->payload();
            if (!rr_well_formed(bytes.data(), bytes.size())) {
                std::fprintf(stderr, "client: response of %zu bytes is not filled as sent\n", bytes.size());
                return 1;
            }
            got++;
        }
        if (got == 0) {  // no server yet: the same request again, for up to 60 s
            if (++waited > 6000 || !node.wait(std::chrono::milliseconds(10))) return 1;
            continue;
        }
        responses += got;
        std::printf("client: request %llu of %zu bytes, %llu response(s) ok\n", (unsigned long long)n, rr_len_of(n),
                    (unsigned long long)got);
        k++;
    }
    std::printf("client: done, %llu response(s)\n", (unsigned long long)responses);
    return 0;
} catch (const icefloe::Error &e) {
    std::fprintf(stderr, "client: %s\n", e.what());
    return 1;
}

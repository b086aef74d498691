// The request-response dynamic-data server in C++: the m-th request gets
// one response of min(1,000,000, (m * STRIDE)^2) bytes.
// Usage: request_response_server [PREFIX|- [COUNT [STRIDE]]] (COUNT 0: until Ctrl-C)
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "../../c/examples/request_response.h"
#include "icefloe.hpp"

using Bytes = icefloe::Slice<std::uint8_t>;

int main(int argc, char **argv) try {
    const char *prefix = argc > 1 && std::strcmp(argv[1], "-") != 0 ? argv[1] : nullptr;
    const std::uint64_t count = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 0;
    const std::uint64_t stride = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 1;
    icefloe::Node node("cpp-server", prefix);
    icefloe::RequestResponse<Bytes, Bytes> service(node, RR_SERVICE);
    auto server = service.server(ICEFLOE_POWER_OF_TWO, 16);
    std::uint64_t served = 0;
    while ((count == 0 || served < count) && node.wait(std::chrono::nanoseconds(0))) {
        auto request = server.receive(std::chrono::milliseconds(100));
        if (!request) continue;
        const auto in = request->payload();
        if (!rr_well_formed(in.data(), in.size())) {
            std::fprintf(stderr, "server: request of %zu bytes is not filled as sent\n", in.size());
            return 1;
        }
        served++;
        const std::uint64_t n = served * stride;
        auto response = request->loan(rr_len_of(n));
        auto out = response.payload();
        for (std::size_t i = 0; i < out.size(); i++) out[i] = rr_byte(i, n);
        response.send();
        std::printf("server: request of %zu bytes, response of %zu bytes\n", in.size(), out.size());
        // Dropping the request (here, at the end of the loop) ends its stream.
    }
    std::printf("server: done after %llu request(s)\n", (unsigned long long)served);
    return 0;
} catch (const icefloe::Error &e) {
    std::fprintf(stderr, "server: %s\n", e.what());
    return 1;
}

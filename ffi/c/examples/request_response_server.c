/* The request-response dynamic-data server in C: answers the m-th request
 * with one response of min(1,000,000, (m * STRIDE)^2) bytes, checking every
 * request byte. Serves the Rust example's client as the C one.
 * Usage: request_response_server [PREFIX|- [COUNT [STRIDE]]]
 * (COUNT 0: until Ctrl-C; defaults: icefloe's prefix, 0, 1) */
#include <string.h>
#include "common.h"
#include "request_response.h"

int main(int argc, char **argv) {
    const char *prefix = argc > 1 && strcmp(argv[1], "-") != 0 ? argv[1] : NULL;
    const uint64_t count = argc > 2 ? strtoull(argv[2], NULL, 10) : 0;
    const uint64_t stride = argc > 3 ? strtoull(argv[3], NULL, 10) : 1;
    icefloe_node_options no = icefloe_node_options_default();
    no.prefix = prefix;
    no.name = "c-server";
    icefloe_node *node = NULL;
    CHECK(icefloe_node_create(&no, &node));
    icefloe_reqres *service = NULL;
    CHECK(icefloe_reqres_service(node, RR_SERVICE, NULL, ICEFLOE_OPEN_OR_CREATE, &service));
    icefloe_port_options po = icefloe_port_options_default();
    po.initial_max_slice_len = 16;
    po.allocation_strategy = ICEFLOE_POWER_OF_TWO;
    icefloe_server *server = NULL;
    CHECK(icefloe_server_create(service, &po, &server));
    printf("server: ready\n");
    fflush(stdout);
    uint64_t served = 0;
    while (count == 0 || served < count) {
        icefloe_received request;
        icefloe_error e = icefloe_server_receive(server, 100000000, &request); /* 100 ms */
        if (e == ICEFLOE_ERROR_RECEIVE_INTERRUPT || e == ICEFLOE_ERROR_RECEIVE_TERMINATION_REQUEST) break;
        CHECK(e);
        if (request.id == 0) continue;
        if (!rr_well_formed(request.payload, request.bytes)) {
            fprintf(stderr, "server: request of %zu bytes is not filled as sent\n", request.bytes);
            return 1;
        }
        served++;
        const uint64_t n = served * stride;
        const size_t len = rr_len_of(n);
        icefloe_loan loan;
        unsigned char *payload;
        CHECK(icefloe_server_loan(server, request, len, &loan, &payload, NULL));
        for (size_t i = 0; i < len; i++) payload[i] = rr_byte(i, n);
        CHECK(icefloe_server_send(server, loan));
        printf("server: request of %zu bytes, response of %zu bytes\n", request.bytes, len);
        /* Ending the request ends its response stream. */
        CHECK(icefloe_server_end(server, request));
    }
    printf("server: done after %llu request(s)\n", (unsigned long long)served);
    icefloe_server_drop(server);
    icefloe_reqres_drop(service);
    icefloe_node_drop(node);
    return 0;
}

/* The request-response dynamic-data client in C: sends requests growing to
 * 1,000,000 bytes and reads each response stream to its end, checking every
 * byte. Talks to the Rust example's server as to the C one.
 * Usage: request_response_client [PREFIX|- [COUNT [STRIDE]]]
 * (request k carries round n = k * STRIDE; defaults: icefloe's prefix, 10, 1) */
#include <string.h>
#include "common.h"
#include "request_response.h"

int main(int argc, char **argv) {
    const char *prefix = argc > 1 && strcmp(argv[1], "-") != 0 ? argv[1] : NULL;
    const uint64_t count = argc > 2 ? strtoull(argv[2], NULL, 10) : 10;
    const uint64_t stride = argc > 3 ? strtoull(argv[3], NULL, 10) : 1;
    icefloe_node_options no = icefloe_node_options_default();
    no.prefix = prefix;
    no.name = "c-client";
    icefloe_node *node = NULL;
    CHECK(icefloe_node_create(&no, &node));
    icefloe_reqres *service = NULL;
    CHECK(icefloe_reqres_service(node, RR_SERVICE, NULL, ICEFLOE_OPEN_OR_CREATE, &service));
    icefloe_port_options po = icefloe_port_options_default();
    po.initial_max_slice_len = 16;
    po.allocation_strategy = ICEFLOE_POWER_OF_TWO;
    icefloe_client *client = NULL;
    CHECK(icefloe_client_create(service, &po, &client));

    uint64_t responses = 0;
    int waited = 0;
    for (uint64_t k = 1; k <= count;) {
        const uint64_t n = k * stride;
        const size_t len = rr_len_of(n);
        icefloe_loan loan;
        unsigned char *payload;
        CHECK(icefloe_client_loan(client, len, &loan, &payload, NULL));
        for (size_t i = 0; i < len; i++) payload[i] = rr_byte(i, n);
        icefloe_pending pending;
        CHECK(icefloe_client_send(client, loan, &pending));
        /* Read the stream until every server ended it. */
        uint64_t got = 0;
        bool connected = true;
        while (connected) {
            icefloe_received r;
            CHECK(icefloe_client_receive(client, pending, 100000000, &r, &connected)); /* 100 ms */
            if (r.id == 0) continue;
            if (!rr_well_formed(r.payload, r.bytes)) {
                fprintf(stderr, "client: response of %zu bytes is not filled as sent\n", r.bytes);
                return 1;
            }
            got++;
            CHECK(icefloe_client_release(client, r));
        }
        CHECK(icefloe_client_end(client, pending));
        if (got == 0) { /* no server yet: the same request again, for up to 60 s */
            if (++waited > 6000) {
                fprintf(stderr, "client: no server answered\n");
                return 1;
            }
            if (icefloe_node_wait(node, 10000000) != ICEFLOE_OK) break;
            continue;
        }
        responses += got;
        printf("client: request %llu of %zu bytes, %llu response(s) ok\n", (unsigned long long)n, len,
               (unsigned long long)got);
        k++;
    }
    printf("client: done, %llu response(s)\n", (unsigned long long)responses);
    icefloe_client_drop(client);
    icefloe_reqres_drop(service);
    icefloe_node_drop(node);
    return 0;
}

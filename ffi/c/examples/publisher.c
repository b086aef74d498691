/* Publishes byte slices growing from 8 B to 1 MiB on a service, each with
 * its number in a u64 user header; every byte follows sample_byte().
 * Usage: publisher PREFIX SERVICE [COUNT] */
#include <string.h>
#include "common.h"

static const size_t sizes[] = {8, 100, 4096, 65536, 500000, 1u << 20};

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s PREFIX SERVICE [COUNT]\n", argv[0]);
        return 2;
    }
    int count = argc > 3 ? atoi(argv[3]) : 6;
    icefloe_node_options no = icefloe_node_options_default();
    no.prefix = argv[1];
    no.name = "c-publisher";
    icefloe_node *node = NULL;
    CHECK(icefloe_node_create(&no, &node));

    icefloe_pubsub_options so = icefloe_pubsub_options_default();
    so.user_header = (icefloe_type){.name = "u64", .size = 8, .align = 8, .is_slice = false};
    so.max_slice_len = 1u << 20;
    so.subscriber_max_buffer_size = 8;
    icefloe_pubsub *service = NULL;
    CHECK(icefloe_pubsub_service(node, argv[2], &so, ICEFLOE_OPEN_OR_CREATE, &service));

    icefloe_publisher_options po = icefloe_publisher_options_default();
    po.allocation_strategy = ICEFLOE_POWER_OF_TWO;
    icefloe_publisher *publisher = NULL;
    CHECK(icefloe_publisher_create(service, &po, &publisher));

    /* Wait (up to 60 s) for a subscriber: probes of 8 bytes, number 0. */
    size_t delivered = 0;
    for (int tries = 0; delivered == 0 && tries < 6000; tries++) {
        icefloe_loan loan;
        unsigned char *payload, *header;
        CHECK(icefloe_publisher_loan(publisher, 8, &loan, &payload, &header));
        memset(payload, 0, 8);
        memset(header, 0, 8);
        CHECK(icefloe_publisher_send(publisher, loan, &delivered));
        if (delivered == 0) icefloe_node_wait(node, 10000000);
    }
    if (delivered == 0) {
        fprintf(stderr, "publisher: no subscriber came\n");
        return 1;
    }
    for (int k = 0; k < count; k++) {
        uint64_t n = (uint64_t)k + 1;
        size_t len = sizes[k % (int)(sizeof sizes / sizeof sizes[0])];
        icefloe_loan loan;
        unsigned char *payload, *header;
        CHECK(icefloe_publisher_loan(publisher, len, &loan, &payload, &header));
        for (size_t i = 0; i < len; i++) payload[i] = sample_byte(i, n);
        memcpy(header, &n, sizeof n);
        CHECK(icefloe_publisher_send(publisher, loan, &delivered));
        icefloe_node_wait(node, 20000000); /* the subscriber reads at its pace */
    }
    printf("publisher: sent %d samples\n", count);
    icefloe_publisher_drop(publisher);
    icefloe_pubsub_drop(service);
    icefloe_node_drop(node);
    return 0;
}

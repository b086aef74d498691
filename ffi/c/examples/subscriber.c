/* Receives COUNT numbered samples (u64 user header n >= 1; probes with n 0
 * are skipped) and checks every byte against sample_byte().
 * Usage: subscriber PREFIX SERVICE COUNT */
#include <string.h>
#include "common.h"

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s PREFIX SERVICE COUNT\n", argv[0]);
        return 2;
    }
    int count = atoi(argv[3]);
    icefloe_node_options no = icefloe_node_options_default();
    no.prefix = argv[1];
    icefloe_node *node = NULL;
    CHECK(icefloe_node_create(&no, &node));
    icefloe_pubsub_options so = icefloe_pubsub_options_default();
    so.user_header = (icefloe_type){.name = "u64", .size = 8, .align = 8, .is_slice = false};
    so.max_slice_len = 1u << 20;
    so.subscriber_max_buffer_size = 8;
    icefloe_pubsub *service = NULL;
    CHECK(icefloe_pubsub_service(node, argv[2], &so, ICEFLOE_OPEN_OR_CREATE, &service));
    icefloe_subscriber *subscriber = NULL;
    CHECK(icefloe_subscriber_create(service, &subscriber));
    printf("subscriber: ready\n");
    fflush(stdout);
    int got = 0;
    for (int waits = 0; got < count && waits < 600; waits++) {
        icefloe_sample s;
        CHECK(icefloe_subscriber_receive(subscriber, 100000000, &s)); /* 100 ms */
        if (s.id == 0) continue;
        uint64_t n;
        memcpy(&n, s.header, sizeof n);
        if (n != 0) {
            for (size_t i = 0; i < s.bytes; i++) {
                if (s.payload[i] != sample_byte(i, n)) {
                    fprintf(stderr, "subscriber: sample %llu byte %zu is %u\n", (unsigned long long)n, i, s.payload[i]);
                    return 1;
                }
            }
            printf("subscriber: sample %llu of %zu bytes ok\n", (unsigned long long)n, s.bytes);
            got++;
        }
        CHECK(icefloe_subscriber_release(subscriber, s));
    }
    icefloe_subscriber_drop(subscriber);
    icefloe_pubsub_drop(service);
    icefloe_node_drop(node);
    if (got < count) {
        fprintf(stderr, "subscriber: %d of %d samples came\n", got, count);
        return 1;
    }
    return 0;
}

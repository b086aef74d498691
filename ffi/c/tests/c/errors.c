/* Every error path of the C API a program can reach, each with its code.
 * Usage: errors PREFIX */
#include <string.h>
#include "../../examples/common.h"

static int failures = 0;
#define EXPECT(call, want)                                                         \
    do {                                                                           \
        icefloe_error got_ = (call);                                               \
        if (got_ != (want)) {                                                      \
            fprintf(stderr, "%s:%d: %s gave %d (%s), not %s\n", __FILE__, __LINE__, \
                    #call, (int)got_, icefloe_error_string(got_), #want);           \
            failures++;                                                            \
        }                                                                          \
    } while (0)

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    icefloe_node_options no = icefloe_node_options_default();
    icefloe_node *node = NULL;
    EXPECT(icefloe_node_create(&no, NULL), ICEFLOE_ERROR_NULL_ARGUMENT);
    no.prefix = "not a prefix!";
    EXPECT(icefloe_node_create(&no, &node), ICEFLOE_ERROR_NODE_INVALID_PREFIX);
    no.prefix = argv[1];
    char long_name[200];
    memset(long_name, 'n', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = 0;
    no.name = long_name; /* node names hold at most 128 bytes */
    EXPECT(icefloe_node_create(&no, &node), ICEFLOE_ERROR_NAME_TOO_LONG);
    no.name = "\xff\xfe";
    EXPECT(icefloe_node_create(&no, &node), ICEFLOE_ERROR_INVALID_UTF8);
    no.name = "c-errors";
    CHECK(icefloe_node_create(&no, &node));

    icefloe_pubsub_options so = icefloe_pubsub_options_default();
    icefloe_pubsub *service = NULL;
    EXPECT(icefloe_pubsub_service(node, "", &so, ICEFLOE_CREATE, &service), ICEFLOE_ERROR_NAME_EMPTY);
    EXPECT(icefloe_pubsub_service(node, NULL, &so, ICEFLOE_CREATE, &service), ICEFLOE_ERROR_NULL_ARGUMENT);
    EXPECT(icefloe_pubsub_service(NULL, "e/x", &so, ICEFLOE_CREATE, &service), ICEFLOE_ERROR_NULL_ARGUMENT);
    EXPECT(icefloe_pubsub_service(node, "e/x", &so, ICEFLOE_OPEN, &service), ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_EXIST);
    icefloe_pubsub_options bad = so;
    bad.payload.align = 3;
    EXPECT(icefloe_pubsub_service(node, "e/x", &bad, ICEFLOE_CREATE, &service), ICEFLOE_ERROR_TYPE_LAYOUT);
    bad = so;
    bad.payload.name = NULL;
    EXPECT(icefloe_pubsub_service(node, "e/x", &bad, ICEFLOE_CREATE, &service), ICEFLOE_ERROR_NULL_ARGUMENT);
    so.max_slice_len = 64;
    CHECK(icefloe_pubsub_service(node, "e/x", &so, ICEFLOE_CREATE, &service));
    icefloe_pubsub *again = NULL;
    EXPECT(icefloe_pubsub_service(node, "e/x", &so, ICEFLOE_CREATE, &again), ICEFLOE_ERROR_SERVICE_CREATE_ALREADY_EXISTS);
    bad = so;
    bad.payload = (icefloe_type){.name = "u16", .size = 2, .align = 2, .is_slice = true};
    EXPECT(icefloe_pubsub_service(node, "e/x", &bad, ICEFLOE_OPEN, &again),
           ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_PAYLOAD_TYPE);
    bad = so;
    bad.user_header = (icefloe_type){.name = "u64", .size = 8, .align = 8, .is_slice = false};
    EXPECT(icefloe_pubsub_service(node, "e/x", &bad, ICEFLOE_OPEN, &again),
           ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_USER_HEADER);
    bad = so;
    bad.max_slice_len = 128;
    EXPECT(icefloe_pubsub_service(node, "e/x", &bad, ICEFLOE_OPEN, &again),
           ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_MAX_SLICE_LEN);

    icefloe_publisher_options po = icefloe_publisher_options_default();
    po.max_loaned_samples = 2;
    po.initial_max_slice_len = 16;
    icefloe_publisher *publisher = NULL;
    EXPECT(icefloe_publisher_create(NULL, &po, &publisher), ICEFLOE_ERROR_NULL_ARGUMENT);
    CHECK(icefloe_publisher_create(service, &po, &publisher));
    icefloe_loan a, b, c;
    unsigned char *p;
    EXPECT(icefloe_publisher_loan(publisher, 17, &a, &p, NULL), ICEFLOE_ERROR_LOAN_EXCEEDS_MAX_LOAN_SIZE);
    EXPECT(icefloe_publisher_loan(publisher, 4, NULL, &p, NULL), ICEFLOE_ERROR_NULL_ARGUMENT);
    CHECK(icefloe_publisher_loan(publisher, 4, &a, &p, NULL));
    memset(p, 1, 4);
    CHECK(icefloe_publisher_loan(publisher, 4, &b, &p, NULL));
    EXPECT(icefloe_publisher_loan(publisher, 4, &c, &p, NULL), ICEFLOE_ERROR_LOAN_EXCEEDS_MAX_LOANS);
    CHECK(icefloe_publisher_send(publisher, a, NULL));
    EXPECT(icefloe_publisher_send(publisher, a, NULL), ICEFLOE_ERROR_STALE_HANDLE);
    EXPECT(icefloe_publisher_discard(publisher, a), ICEFLOE_ERROR_STALE_HANDLE);
    CHECK(icefloe_publisher_discard(publisher, b));
    EXPECT(icefloe_publisher_send(publisher, b, NULL), ICEFLOE_ERROR_STALE_HANDLE);
    icefloe_loan forged = {.id = 0x0000000500000001ull};
    EXPECT(icefloe_publisher_send(publisher, forged, NULL), ICEFLOE_ERROR_STALE_HANDLE);
    EXPECT(icefloe_publisher_send(publisher, (icefloe_loan){0}, NULL), ICEFLOE_ERROR_STALE_HANDLE);

    icefloe_subscriber *subscriber = NULL;
    CHECK(icefloe_subscriber_create(service, &subscriber));
    icefloe_sample s;
    EXPECT(icefloe_subscriber_receive(subscriber, 0, NULL), ICEFLOE_ERROR_NULL_ARGUMENT);
    CHECK(icefloe_subscriber_receive(subscriber, 0, &s));
    if (s.id != 0) {
        fprintf(stderr, "a sample before any was sent to this subscriber\n");
        failures++;
    }
    CHECK(icefloe_publisher_loan(publisher, 3, &a, &p, NULL));
    memset(p, 7, 3);
    size_t delivered = 0;
    CHECK(icefloe_publisher_send(publisher, a, &delivered));
    if (delivered != 1) {
        fprintf(stderr, "delivered to %zu, not 1\n", delivered);
        failures++;
    }
    CHECK(icefloe_subscriber_receive(subscriber, 1000000000, &s));
    if (s.id == 0 || s.len != 3 || s.bytes != 3 || s.payload[2] != 7) {
        fprintf(stderr, "wrong sample\n");
        failures++;
    }
    CHECK(icefloe_subscriber_release(subscriber, s));
    EXPECT(icefloe_subscriber_release(subscriber, s), ICEFLOE_ERROR_STALE_HANDLE);

    /* Every code has a sentence, unknown ones too. */
    for (int code = 0; code < 1100; code++) {
        const char *text = icefloe_error_string(code);
        if (text == NULL || text[0] == 0) {
            fprintf(stderr, "code %d has no sentence\n", code);
            failures++;
        }
    }
    icefloe_subscriber_drop(subscriber);
    icefloe_publisher_drop(publisher);
    icefloe_pubsub_drop(service);
    icefloe_node_drop(node);
    icefloe_node_drop(NULL);
    if (failures) {
        fprintf(stderr, "%d failure(s)\n", failures);
        return 1;
    }
    printf("errors: all as expected\n");
    return 0;
}

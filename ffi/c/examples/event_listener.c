/* Sleeps until notifiers wake it, and prints every event id, until COUNT
 * notifications came. Usage: event_listener PREFIX SERVICE COUNT */
#include "common.h"

static void on_event(void *context, uint32_t id, uint32_t count) {
    unsigned *got = context;
    printf("listener: event id %u (%u notification(s))\n", id, count);
    *got += count;
}

int main(int argc, char **argv) {
    if (argc < 4) return 2;
    const unsigned want = (unsigned)atoi(argv[3]);
    icefloe_node_options no = icefloe_node_options_default();
    no.prefix = argv[1];
    icefloe_node *node = NULL;
    CHECK(icefloe_node_create(&no, &node));
    icefloe_event *service = NULL;
    CHECK(icefloe_event_service(node, argv[2], NULL, ICEFLOE_OPEN_OR_CREATE, &service));
    icefloe_listener *listener = NULL;
    CHECK(icefloe_listener_create(service, &listener));
    printf("listener: ready\n");
    fflush(stdout);
    unsigned got = 0;
    for (int waits = 0; got < want && waits < 600; waits++) {
        CHECK(icefloe_listener_wait(listener, 100000000, on_event, &got, NULL)); /* 100 ms */
    }
    fflush(stdout);
    icefloe_listener_drop(listener);
    icefloe_event_drop(service);
    icefloe_node_drop(node);
    return got >= want ? 0 : 1;
}

/* Notifies the ids given after SERVICE, one every 20 ms, once a listener is
 * there. Usage: event_notifier PREFIX SERVICE ID... */
#include "common.h"

int main(int argc, char **argv) {
    if (argc < 4) return 2;
    icefloe_node_options no = icefloe_node_options_default();
    no.prefix = argv[1];
    icefloe_node *node = NULL;
    CHECK(icefloe_node_create(&no, &node));
    icefloe_event *service = NULL;
    CHECK(icefloe_event_service(node, argv[2], NULL, ICEFLOE_OPEN_OR_CREATE, &service));
    icefloe_notifier *notifier = NULL;
    CHECK(icefloe_notifier_create(service, &notifier));
    /* An id above the service's event_id_max_value (255) is refused. */
    if (icefloe_notifier_notify(notifier, 256, NULL) != ICEFLOE_ERROR_NOTIFY_EVENT_ID_OUT_OF_BOUNDS) return 1;
    for (int i = 3; i < argc; i++) {
        size_t woken = 0;
        for (int tries = 0; woken == 0 && tries < 3000; tries++) {
            CHECK(icefloe_notifier_notify(notifier, (uint32_t)atoi(argv[i]), &woken));
            if (woken == 0) icefloe_node_wait(node, 20000000);
        }
        if (woken == 0) return 1;
        icefloe_node_wait(node, 20000000);
    }
    icefloe_notifier_drop(notifier);
    icefloe_event_drop(service);
    icefloe_node_drop(node);
    return 0;
}

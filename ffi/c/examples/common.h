/* Shared by the C examples: fail with icefloe's sentence. */
#ifndef ICEFLOE_EXAMPLES_COMMON_H
#define ICEFLOE_EXAMPLES_COMMON_H
#include <stdio.h>
#include <stdlib.h>
#include "icefloe.h"

#define CHECK(call)                                                              \
    do {                                                                         \
        icefloe_error e_ = (call);                                               \
        if (e_ != ICEFLOE_OK) {                                                  \
            fprintf(stderr, "%s:%d: %s: %s (%d)\n", __FILE__, __LINE__, #call,    \
                    icefloe_error_string(e_), (int)e_);                          \
            exit(1);                                                             \
        }                                                                        \
    } while (0)

/* Byte i of sample n (the Rust tests fill and check the same). */
static inline unsigned char sample_byte(size_t i, uint64_t n) {
    return (unsigned char)((i * 31u + n * 7u) & 0xffu);
}
#endif

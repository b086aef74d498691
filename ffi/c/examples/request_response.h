/* The request-response dynamic-data example's protocol, as the Rust
 * example (examples/request_response_dynamic_data) speaks it: request n
 * (and the n-th response) carries min(1,000,000, n*n) bytes, byte i being
 * (i + n) % 255. */
#ifndef ICEFLOE_EXAMPLES_REQUEST_RESPONSE_H
#define ICEFLOE_EXAMPLES_REQUEST_RESPONSE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RR_SERVICE "examples/dynamic_request_response"
#define RR_MAX_LEN 1000000u

static inline size_t rr_len_of(uint64_t n) {
    return n > 1000u ? RR_MAX_LEN : (size_t)(n * n);
}
static inline unsigned char rr_byte(size_t i, uint64_t n) {
    return (unsigned char)((i + n) % 255u);
}
/* Whether data is filled as round data[0]'s. */
static inline bool rr_well_formed(const unsigned char *data, size_t len) {
    if (len == 0) return true;
    for (size_t i = 0; i < len; i++)
        if (data[i] != rr_byte(i, data[0])) return false;
    return true;
}
#endif

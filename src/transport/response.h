/* The HTTP response object's insides, for the client. */
#ifndef MP_TRANSPORT_RESPONSE_H
#define MP_TRANSPORT_RESPONSE_H

#include <stddef.h>

#include "mparticle/transport.h"

/* Bodies larger than this are cut: the Events API's are a few hundred bytes. */
#define MP__RESPONSE_BODY_MAX (1024 * 1024)
/* Headers beyond these are ignored, so a hostile server cannot grow memory. */
#define MP__RESPONSE_HEADERS_MAX 100
#define MP__RESPONSE_HEADER_BYTES_MAX (64 * 1024)

typedef struct mp__header {
    char *name;
    char *value;
} mp__header;

struct mp_http_response {
    int status;
    mp__header *headers;
    size_t header_count;
    size_t header_cap;
    size_t header_bytes;
    char *body;
    size_t body_len;
    size_t body_cap;
    int nomem; /* a setter failed: the response is incomplete */
};

/* Empties r for reuse, freeing what it holds. */
void mp__response_reset(mp_http_response *r);

#endif

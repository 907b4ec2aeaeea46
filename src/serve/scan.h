/*
 * Where each batch of a request body starts and ends, without parsing it:
 * the record file keeps the bytes of each batch exactly as received, and
 * the limits (batches per request, bytes per batch) are checked before any
 * decoding. Structure only: strings, brackets and commas; whether the
 * values inside are valid JSON is the decoder's job.
 */
#ifndef MP_SERVE_SCAN_H
#define MP_SERVE_SCAN_H

#include <stddef.h>

typedef struct mp__srv_span {
    size_t off;
    size_t len;
} mp__srv_span;

/* The offset of the first byte at or after pos that is not JSON whitespace
 * (a UTF-8 byte order mark at offset 0 counts as whitespace). */
size_t mp__srv_skip_ws(const char *s, size_t len, size_t pos);

/*
 * The body holds one JSON object, with only whitespace around it: returns
 * 0 and its span, or -1 (not an object, not closed, or text after it).
 */
int mp__srv_scan_object(const char *s, size_t len, mp__srv_span *span);

/*
 * The body holds one JSON array, with only whitespace around it: returns
 * 0, the number of its elements in *count and the spans of the first
 * min(count, max) of them in spans (which may be NULL when max is 0); or
 * -1 when the body is not such an array. Any input is safe: nothing is
 * read outside s[0..len) and no recursion is used.
 */
int mp__srv_scan_array(const char *s, size_t len, mp__srv_span *spans, size_t max, size_t *count);

#endif

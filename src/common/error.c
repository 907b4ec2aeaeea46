/* Error codes: descriptions and names. */
#include <stdlib.h>

#include "common/alloc.h"
#include "mparticle/common.h"
#include "mparticle/model.h"

typedef struct error_desc {
    const char *name;
    const char *text;
} error_desc;

/* Indexed by mp_error; codes are appended, never renumbered. */
static const error_desc error_descs[] = {
    {"MP_OK", "success"},
    {"MP_ERR_INVALID_ARGUMENT", "invalid argument"},
    {"MP_ERR_NOMEM", "out of memory"},
    {"MP_ERR_BUFFER_TOO_SMALL", "buffer too small"},
    {"MP_ERR_INVALID_UTF8", "string is not valid UTF-8"},
    {"MP_ERR_NOT_FINITE", "number is NaN or infinite"},
    {"MP_ERR_JSON_SYNTAX", "malformed JSON"},
    {"MP_ERR_TYPE", "JSON value has the wrong type"},
    {"MP_ERR_ENUM", "value is not one of the allowed strings"},
    {"MP_ERR_RANGE", "number out of range"},
    {"MP_ERR_INVALID", "batch breaks a rule of the Events API"},
    {"MP_ERR_IO", "input/output error"},
    {"MP_ERR_LIMIT", "input exceeds a size or count limit"},
    {"MP_ERR_NETWORK", "network error: no HTTP response"},
    {"MP_ERR_TIMEOUT", "timed out"},
    {"MP_ERR_HTTP", "the server answered with an error status"},
    {"MP_ERR_RATE_LIMITED", "rate limited: waiting for Retry-After to pass"},
    {"MP_ERR_QUEUE_FULL", "the uploader's queue is full"},
    {"MP_ERR_CLOSED", "the uploader is closed"},
    {"MP_ERR_FORKED", "used in a forked child process; create a new one there"},
    {"MP_ERR_TLS", "the server's TLS certificate could not be verified"},
    {"MP_ERR_PROTOCOL", "the server's answer is not valid HTTP"},
};
_Static_assert(sizeof error_descs / sizeof error_descs[0] == MP_ERR_PROTOCOL + 1,
               "every mp_error has a description");

const char *mp_strerror(mp_error err) {
    if ((size_t)err < sizeof(error_descs) / sizeof(error_descs[0]))
        return error_descs[err].text;
    return "unknown error";
}

const char *mp_error_name(mp_error err) {
    if ((size_t)err < sizeof(error_descs) / sizeof(error_descs[0]))
        return error_descs[err].name;
    return "MP_ERR_UNKNOWN";
}

void mp_free(void *ptr) {
    mp__free(ptr);
}

/* The JSON-null sentinel: only its address matters. Zero bytes, so that a
 * string field set to MP_STRING_NULL reads as "" if someone prints it. */
const mp_null_t mp_null = {{0}};

/* HTTP Basic credentials (docs/api-notes.md §1.3): the Authorization header parsed
 * without trusting any of it. */
#ifndef MP_SERVE_AUTH_H
#define MP_SERVE_AUTH_H

#include <stddef.h>

/* Longest Authorization header value taken apart; longer ones are invalid. */
#define SRV_AUTH_MAX_HEADER 4096

typedef enum mp__srv_auth {
    SRV_AUTH_OK = 0,      /* well-formed Basic credentials with a non-empty key and secret */
    SRV_AUTH_MISSING = 1, /* no Authorization header: 401 */
    SRV_AUTH_INVALID = 2  /* present but not usable Basic credentials: 403 */
} mp__srv_auth;

/*
 * Parses the value of an Authorization header (NULL = the header is
 * missing): "Basic" (any case), spaces, then base64 of "key:secret"
 * (padding optional). On SRV_AUTH_OK the decoded key and secret are
 * NUL-terminated strings inside `out` (cap bytes, at least
 * SRV_AUTH_MAX_HEADER) and *key / *secret point to them. Credentials
 * holding a NUL byte, an empty key or an empty secret are invalid.
 */
mp__srv_auth mp__srv_auth_parse(const char *header, char *out, size_t cap, const char **key,
                        const char **secret);

/* 1 if a and b are equal, in time that depends only on their lengths. */
int mp__srv_auth_equal(const char *a, const char *b);

#endif

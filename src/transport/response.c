#include "common/alloc.h"
#include "transport/response.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

void mp__response_reset(mp_http_response *r) {
    for (size_t i = 0; i < r->header_count; i++) {
        mp__free(r->headers[i].name);
        mp__free(r->headers[i].value);
    }
    mp__free(r->headers);
    mp__free(r->body);
    memset(r, 0, sizeof *r);
}

void mp_http_response_set_status(mp_http_response *r, int status) {
    if (r)
        r->status = status;
}

static char *dup_n(const char *s, size_t n) {
    char *p = mp__malloc(n + 1);
    if (p) {
        if (n)
            memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

mp_error mp_http_response_add_header(mp_http_response *r, const char *name, size_t name_len,
                                     const char *value, size_t value_len) {
    if (!r || !name || (!value && value_len))
        return MP_ERR_INVALID_ARGUMENT;
    if (r->header_count >= MP__RESPONSE_HEADERS_MAX ||
        r->header_bytes + name_len + value_len > MP__RESPONSE_HEADER_BYTES_MAX)
        return MP_ERR_LIMIT;
    if (r->header_count == r->header_cap) {
        size_t cap = r->header_cap ? r->header_cap * 2 : 8;
        mp__header *h = mp__realloc(r->headers, cap * sizeof *h);
        if (!h) {
            r->nomem = 1;
            return MP_ERR_NOMEM;
        }
        r->headers = h;
        r->header_cap = cap;
    }
    char *n = dup_n(name, name_len);
    char *v = dup_n(value ? value : "", value_len);
    if (!n || !v) {
        mp__free(n);
        mp__free(v);
        r->nomem = 1;
        return MP_ERR_NOMEM;
    }
    r->headers[r->header_count].name = n;
    r->headers[r->header_count].value = v;
    r->header_count++;
    r->header_bytes += name_len + value_len;
    return MP_OK;
}

mp_error mp_http_response_append_body(mp_http_response *r, const char *data, size_t len) {
    if (!r || (!data && len))
        return MP_ERR_INVALID_ARGUMENT;
    if (len > MP__RESPONSE_BODY_MAX - r->body_len)
        len = MP__RESPONSE_BODY_MAX - r->body_len;
    if (r->body_len + len + 1 > r->body_cap) {
        size_t cap = r->body_cap ? r->body_cap : 256;
        while (cap < r->body_len + len + 1)
            cap *= 2;
        char *b = mp__realloc(r->body, cap);
        if (!b) {
            r->nomem = 1;
            return MP_ERR_NOMEM;
        }
        r->body = b;
        r->body_cap = cap;
    }
    if (len)
        memcpy(r->body + r->body_len, data, len);
    r->body_len += len;
    r->body[r->body_len] = '\0';
    return MP_OK;
}

int mp_http_response_status(const mp_http_response *r) {
    return r ? r->status : 0;
}

const char *mp_http_response_header(const mp_http_response *r, const char *name) {
    if (!r || !name)
        return NULL;
    for (size_t i = 0; i < r->header_count; i++) {
        if (strcasecmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    }
    return NULL;
}

const char *mp_http_response_body(const mp_http_response *r, size_t *len) {
    if (len)
        *len = r && r->body ? r->body_len : 0;
    return r && r->body ? r->body : "";
}

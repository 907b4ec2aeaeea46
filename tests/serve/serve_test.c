#include "serve_test.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>

char *test_batch(char *out, size_t cap, const char *id) {
    char field[256] = "";
    if (id)
        snprintf(field, sizeof field, "\"source_request_id\":\"%s\",", id);
    snprintf(out, cap, TEST_BATCH_FMT, field);
    return out;
}

typedef struct sink {
    char *data;
    size_t len;
} sink;

static size_t on_body(char *p, size_t size, size_t n, void *ud) {
    sink *s = ud;
    size_t add = size * n;
    char *d = realloc(s->data, s->len + add + 1);
    if (!d)
        return 0;
    memcpy(d + s->len, p, add);
    s->len += add;
    d[s->len] = '\0';
    s->data = d;
    return add;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud) {
    http_result *r = ud;
    size_t add = size * n;
    if (r->headers_len + add < sizeof r->headers) {
        memcpy(r->headers + r->headers_len, p, add);
        r->headers_len += add;
        r->headers[r->headers_len] = '\0';
    }
    return add;
}

/* Feeds the body to curl in pieces when it must be chunked. */
typedef struct reader {
    const char *data;
    size_t len, pos;
} reader;

static size_t on_read(char *buf, size_t size, size_t n, void *ud) {
    reader *rd = ud;
    size_t want = size * n, left = rd->len - rd->pos;
    if (want > left)
        want = left;
    if (want > 16384)
        want = 16384;
    memcpy(buf, rd->data + rd->pos, want);
    rd->pos += want;
    return want;
}

void http_request(const char *base_url, const char *path, const char *body, size_t len,
                  const http_opts *opts, http_result *out) {
    static const http_opts none = {0};
    const http_opts *o = opts ? opts : &none;
    memset(out, 0, sizeof *out);
    sink got = {0};
    reader rd = {body, len, 0};
    char url[512];
    snprintf(url, sizeof url, "%s%s", base_url, path);

    CURL *c = curl_easy_init();
    assert_non_null(c);
    struct curl_slist *headers = NULL;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, o->timeout_ms ? o->timeout_ms : 10000L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &got);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
    const char *method = o->method ? o->method : "POST";
    if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        if (o->chunked) {
            curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
            curl_easy_setopt(c, CURLOPT_READDATA, &rd);
            headers = curl_slist_append(headers, "Transfer-Encoding: chunked");
        } else {
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        }
    } else if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        if (strcmp(method, "HEAD") == 0)
            curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    }
    if (o->authorization) {
        char line[8300];
        snprintf(line, sizeof line, "Authorization: %s", o->authorization);
        headers = curl_slist_append(headers, line);
    } else {
        const char *up = o->userpwd ? o->userpwd : TEST_USERPWD;
        if (up[0]) {
            curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
            curl_easy_setopt(c, CURLOPT_USERPWD, up);
        }
    }
    headers = curl_slist_append(headers, "Content-Type: application/json");
    if (o->no_expect)
        headers = curl_slist_append(headers, "Expect:");
    if (o->header)
        headers = curl_slist_append(headers, o->header);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);

    out->code = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    curl_easy_getinfo(c, CURLINFO_TOTAL_TIME, &out->seconds);
    curl_easy_getinfo(c, CURLINFO_SIZE_UPLOAD_T, &out->uploaded);
    if (out->code != CURLE_OK)
        out->status = 0;
    out->body = got.data ? got.data : calloc(1, 1);
    out->body_len = got.len;
    curl_slist_free_all(headers);
    curl_easy_cleanup(c);
}

long http_post(const mp_server *s, const char *path, const char *body, http_result *out) {
    http_request(mp_serve_url(s), path, body, strlen(body), NULL, out);
    return out->status;
}

void http_result_free(http_result *r) {
    free(r->body);
    r->body = NULL;
}

const char *http_header(const http_result *r, const char *name, char *out, size_t cap) {
    size_t n = strlen(name);
    /* Headers of the last response only (a 100 Continue may come first). */
    const char *p = r->headers, *last = r->headers;
    while ((p = strstr(p, "HTTP/")) != NULL) {
        if (p == r->headers || p[-1] == '\n')
            last = p;
        p++;
    }
    for (p = last; *p; ) {
        const char *eol = strstr(p, "\r\n");
        if (!eol)
            break;
        if ((size_t)(eol - p) > n && p[n] == ':' && strncasecmp(p, name, n) == 0) {
            const char *v = p + n + 1;
            while (*v == ' ')
                v++;
            size_t vl = (size_t)(eol - v);
            if (vl >= cap)
                vl = cap - 1;
            memcpy(out, v, vl);
            out[vl] = '\0';
            return out;
        }
        p = eol + 2;
    }
    return NULL;
}

mp_server *test_start(mp_serve_options *o) {
    mp_serve_options local = {0};
    if (!o)
        o = &local;
    if (!o->api_key && !o->api_secret) {
        o->api_key = TEST_KEY;
        o->api_secret = TEST_SECRET;
    }
    mp_server *s = NULL;
    char err[256];
    mp_error rc = mp_serve_start(o, &s, err, sizeof err);
    if (rc != MP_OK)
        fail_msg("mp_serve_start: %s (%s)", err, mp_error_name(rc));
    assert_non_null(s);
    return s;
}

mp_serve_stats test_stats(const mp_server *s) {
    mp_serve_stats st;
    mp_serve_stats_get(s, &st);
    return st;
}

void test_temp_path(char *out, size_t cap, const char *tag) {
    snprintf(out, cap, "/tmp/mp_serve_test_%s_%ld.ndjson", tag, (long)getpid());
    unlink(out);
}

char *test_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *data = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = (n + 4096 + 1) * 2;
            char *d = realloc(data, cap);
            if (!d) {
                free(data);
                fclose(f);
                return NULL;
            }
            data = d;
        }
        size_t got = fread(data + n, 1, 4096, f);
        n += got;
        if (got < 4096)
            break;
    }
    fclose(f);
    data[n] = '\0';
    if (len)
        *len = n;
    return data;
}

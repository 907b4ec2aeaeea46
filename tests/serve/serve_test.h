/* What the tests of `serve` share: a server started in-process and a real
 * HTTP client (libcurl) to talk to it. */
#ifndef MP_SERVE_TEST_H
#define MP_SERVE_TEST_H

#include <stddef.h>

#include <curl/curl.h>
#include <mparticle/serve.h>

/* The credentials every test server accepts unless a test says otherwise. */
#define TEST_KEY "test-key"
#define TEST_SECRET "test-secret"
#define TEST_USERPWD TEST_KEY ":" TEST_SECRET

/* A valid batch (one custom event), with a source_request_id when id is not NULL. */
#define TEST_BATCH_FMT                                                                       \
    "{\"environment\":\"development\",%s\"user_identities\":{\"customer_id\":\"c1\"},"       \
    "\"events\":[{\"event_type\":\"custom_event\",\"data\":{\"event_name\":\"tap\","          \
    "\"custom_event_type\":\"other\"}}]}"
/* Writes a valid batch into out (cap bytes); returns out. */
char *test_batch(char *out, size_t cap, const char *source_request_id);

/* Extra knobs of a request; zero = a plain POST with credentials. */
typedef struct http_opts {
    const char *method;     /* NULL = POST */
    const char *userpwd;    /* NULL = TEST_USERPWD; "" = no Authorization header */
    const char *authorization; /* a raw Authorization header instead of userpwd */
    long timeout_ms;        /* 0 = 10 s */
    int no_expect;          /* never send "Expect: 100-continue" */
    int chunked;            /* Transfer-Encoding: chunked instead of Content-Length */
    const char *header;     /* one more header line, e.g. "Content-Encoding: gzip" */
} http_opts;

typedef struct http_result {
    CURLcode code; /* CURLE_OK when an answer came back */
    long status;   /* 0 when none */
    char *body;    /* NUL-terminated, malloc'ed; free with http_result_free() */
    size_t body_len;
    char headers[8192];
    size_t headers_len;
    double seconds;         /* total time */
    curl_off_t uploaded;    /* body bytes the client sent */
} http_result;

/* POSTs (or opts->method) body[0..len) to base_url + path. */
void http_request(const char *base_url, const char *path, const char *body, size_t len,
                  const http_opts *opts, http_result *out);
/* Same, body a string, default options. Returns the status. */
long http_post(const mp_server *s, const char *path, const char *body, http_result *out);
void http_result_free(http_result *r);

/* The value of response header `name` (case-insensitive) copied into out,
 * or NULL when the response has no such header. */
const char *http_header(const http_result *r, const char *name, char *out, size_t cap);

/* Starts a server on 127.0.0.1, any port, credentials TEST_KEY/TEST_SECRET
 * unless o sets others; fails the test if it cannot. */
mp_server *test_start(mp_serve_options *o);

/* The counters now. */
mp_serve_stats test_stats(const mp_server *s);

/* A new empty temporary file's path (static storage, one per call site). */
void test_temp_path(char *out, size_t cap, const char *tag);
/* The whole content of a file (malloc'ed, NUL-terminated), or NULL. */
char *test_read_file(const char *path, size_t *len);

#endif

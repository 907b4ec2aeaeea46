/* Tests of the libcurl transport against a real HTTP server run in this
 * process (libmicrohttpd): what goes on the wire, what comes back, connection
 * reuse counted by the server, many threads, and every failure the contract
 * names (timeout, refused, closed without an answer, TLS, bad URL). The
 * header parser is also fed lines directly, for responses (1xx, trailers,
 * folding) the test server cannot produce. */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "mparticle/transport.h"
#include "transport/curl_transport.h"
#include "transport/response.h"

/* ------------------------------------------------------------------------ */
/* The test server                                                           */

#define MAX_RECORDED_HEADERS 64

/*
 * Routes (any method):
 *   /echo          200; the request body as the body; X-Echo-Method,
 *                  X-Echo-Path, X-Echo-Header-Count; X-Multi twice (a, b)
 *   /status/N      status N, body "status N"; a 429 carries Retry-After: 7,
 *                  a 3xx Location: /echo
 *   /delay/N       waits N ms (cut short when the server stops), then /echo
 *   /close         closes the connection without answering
 * Every request is recorded (method, path, headers in order, body) and
 * counted; connections are counted as the server accepts and closes them.
 */
typedef struct test_server {
    struct MHD_Daemon *daemon;
    unsigned short port;
    char base[64]; /* "http://127.0.0.1:PORT" */

    pthread_mutex_t lock; /* guards everything below */
    pthread_cond_t cond;
    int stopping;
    long opened;
    long closed;
    long requests;
    char last_method[16];
    char last_path[256];
    char *last_headers[MAX_RECORDED_HEADERS]; /* "Name: value" */
    size_t last_header_count;
    char *last_body;
    size_t last_body_len;
} test_server;

typedef struct req_state {
    char *body;
    size_t len;
    size_t cap;
    int failed;
} req_state;

typedef struct header_collector {
    char *lines[MAX_RECORDED_HEADERS];
    size_t count;
} header_collector;

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value) {
    (void)kind;
    header_collector *c = cls;
    if (c->count < MAX_RECORDED_HEADERS) {
        size_t n = strlen(key) + strlen(value ? value : "") + 3;
        char *line = malloc(n);
        if (line) {
            snprintf(line, n, "%s: %s", key, value ? value : "");
            c->lines[c->count++] = line;
        }
    }
    return MHD_YES;
}

static void server_record(test_server *s, struct MHD_Connection *conn, const char *url,
                          const char *method, const req_state *st) {
    header_collector c = {{0}, 0};
    MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_header, &c);
    char *body = malloc(st->len + 1);
    if (body) {
        if (st->len)
            memcpy(body, st->body, st->len);
        body[st->len] = '\0';
    }
    pthread_mutex_lock(&s->lock);
    s->requests++;
    snprintf(s->last_method, sizeof s->last_method, "%s", method);
    snprintf(s->last_path, sizeof s->last_path, "%s", url);
    for (size_t i = 0; i < s->last_header_count; i++)
        free(s->last_headers[i]);
    memcpy(s->last_headers, c.lines, sizeof c.lines);
    s->last_header_count = c.count;
    free(s->last_body);
    s->last_body = body;
    s->last_body_len = body ? st->len : 0;
    pthread_mutex_unlock(&s->lock);
}

/* Waits ms milliseconds, or less when the server is stopping. */
static void server_delay(test_server *s, long ms) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&s->lock);
    while (!s->stopping) {
        if (pthread_cond_timedwait(&s->cond, &s->lock, &until) == ETIMEDOUT)
            break;
    }
    pthread_mutex_unlock(&s->lock);
}

static enum MHD_Result respond(struct MHD_Connection *conn, unsigned status, const char *body,
                               size_t len, const char *const *headers) {
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)(len ? body : ""), MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    for (; headers && headers[0]; headers += 2)
        MHD_add_response_header(r, headers[0], headers[1]);
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result respond_echo(struct MHD_Connection *conn, const char *url,
                                    const char *method, const req_state *st) {
    header_collector c = {{0}, 0};
    MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_header, &c);
    char count[16];
    snprintf(count, sizeof count, "%zu", c.count);
    for (size_t i = 0; i < c.count; i++)
        free(c.lines[i]);
    const char *headers[] = {"X-Echo-Method", method, "X-Echo-Path", url,
                             "X-Echo-Header-Count", count, "X-Multi", "a",
                             "X-Multi", "b", NULL};
    return respond(conn, MHD_HTTP_OK, st->body, st->len, headers);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **con_cls) {
    (void)version;
    test_server *s = cls;
    req_state *st = *con_cls;
    if (!st) {
        st = calloc(1, sizeof *st);
        if (!st)
            return MHD_NO;
        *con_cls = st;
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        if (st->len + n > st->cap) {
            size_t cap = st->cap ? st->cap : 4096;
            while (cap < st->len + n)
                cap *= 2;
            char *p = realloc(st->body, cap);
            if (!p)
                return MHD_NO;
            st->body = p;
            st->cap = cap;
        }
        memcpy(st->body + st->len, upload_data, n);
        st->len += n;
        *upload_data_size = 0;
        return MHD_YES;
    }

    server_record(s, conn, url, method, st);
    if (strcmp(url, "/close") == 0)
        return MHD_NO; /* libmicrohttpd closes the connection */
    if (strncmp(url, "/status/", 8) == 0) {
        unsigned status = (unsigned)strtoul(url + 8, NULL, 10);
        char body[32];
        int n = snprintf(body, sizeof body, "status %u", status);
        const char *retry[] = {"Retry-After", "7", NULL};
        const char *moved[] = {"Location", "/echo", NULL};
        const char *const *headers = status == 429 ? retry : status / 100 == 3 ? moved : NULL;
        return respond(conn, status, body, (size_t)n, headers);
    }
    if (strncmp(url, "/delay/", 7) == 0)
        server_delay(s, strtol(url + 7, NULL, 10));
    return respond_echo(conn, url, method, st);
}

static void request_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                              enum MHD_RequestTerminationCode toe) {
    (void)cls;
    (void)conn;
    (void)toe;
    req_state *st = *con_cls;
    if (st) {
        free(st->body);
        free(st);
    }
    *con_cls = NULL;
}

static void connection_event(void *cls, struct MHD_Connection *conn, void **socket_context,
                             enum MHD_ConnectionNotificationCode toe) {
    (void)conn;
    (void)socket_context;
    test_server *s = cls;
    pthread_mutex_lock(&s->lock);
    if (toe == MHD_CONNECTION_NOTIFY_STARTED)
        s->opened++;
    else if (toe == MHD_CONNECTION_NOTIFY_CLOSED)
        s->closed++;
    pthread_mutex_unlock(&s->lock);
}

static int server_start(test_server *s) {
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /* A thread per connection, so that a delayed answer holds up nobody else. */
    s->daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL, NULL, handle, s,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED,
        request_completed, s, MHD_OPTION_NOTIFY_CONNECTION, connection_event, s,
        MHD_OPTION_END);
    if (!s->daemon)
        return -1;
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    if (!info || !info->port)
        return -1;
    s->port = info->port;
    snprintf(s->base, sizeof s->base, "http://127.0.0.1:%u", (unsigned)s->port);
    return 0;
}

static void server_stop(test_server *s) {
    pthread_mutex_lock(&s->lock);
    s->stopping = 1;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    if (s->daemon)
        MHD_stop_daemon(s->daemon);
    for (size_t i = 0; i < s->last_header_count; i++)
        free(s->last_headers[i]);
    free(s->last_body);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
}

static long server_opened(test_server *s) {
    pthread_mutex_lock(&s->lock);
    long n = s->opened;
    pthread_mutex_unlock(&s->lock);
    return n;
}

static long server_open_now(test_server *s) {
    pthread_mutex_lock(&s->lock);
    long n = s->opened - s->closed;
    pthread_mutex_unlock(&s->lock);
    return n;
}

static long server_requests(test_server *s) {
    pthread_mutex_lock(&s->lock);
    long n = s->requests;
    pthread_mutex_unlock(&s->lock);
    return n;
}

/* Waits up to 5 s for the server to see at most `max` open connections
 * (closes reach it asynchronously). Returns the last count. */
static long server_wait_open_at_most(test_server *s, long max) {
    long n = server_open_now(s);
    for (int i = 0; i < 500 && n > max; i++) {
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
        n = server_open_now(s);
    }
    return n;
}

/* Sorted copy of the last request's header lines, joined with '\n', with
 * names lower-cased (HTTP names are case-insensitive). Caller frees. */
static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static char *server_last_headers(test_server *s) {
    pthread_mutex_lock(&s->lock);
    size_t n = s->last_header_count;
    char *lines[MAX_RECORDED_HEADERS];
    size_t total = 1;
    for (size_t i = 0; i < n; i++) {
        lines[i] = strdup(s->last_headers[i]);
        assert_non_null(lines[i]);
        for (char *p = lines[i]; *p && *p != ':'; p++)
            *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
        total += strlen(lines[i]) + 1;
    }
    pthread_mutex_unlock(&s->lock);
    qsort(lines, n, sizeof lines[0], cmp_str);
    char *out = malloc(total);
    assert_non_null(out);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        strcat(out, lines[i]);
        if (i + 1 < n)
            strcat(out, "\n");
        free(lines[i]);
    }
    return out;
}

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */

static test_server g_server; /* started once for the whole group */

typedef struct exchange {
    mp_http_response resp;
    char errbuf[256];
    mp_error err;
} exchange;

static void exchange_free(exchange *x) {
    mp__response_reset(&x->resp);
}

static mp_error send_full(mp_transport *tr, const char *method, const char *url,
                          const mp_http_header *headers, size_t header_count, const char *body,
                          size_t body_len, long timeout_ms, exchange *x) {
    memset(x, 0, sizeof *x);
    mp_http_request req = {
        .method = method,
        .url = url,
        .headers = headers,
        .header_count = header_count,
        .body = body,
        .body_len = body_len,
        .connect_timeout_ms = timeout_ms,
        .timeout_ms = timeout_ms,
    };
    strcpy(x->errbuf, "untouched");
    x->err = tr->send(tr->user_data, &req, &x->resp, x->errbuf, sizeof x->errbuf);
    return x->err;
}

static mp_error post_to(mp_transport *tr, const test_server *s, const char *path,
                       const char *body, exchange *x) {
    char url[128];
    snprintf(url, sizeof url, "%s%s", s->base, path);
    return send_full(tr, "POST", url, NULL, 0, body, body ? strlen(body) : 0, 5000, x);
}

static mp_error post(mp_transport *tr, const char *path, const char *body, exchange *x) {
    return post_to(tr, &g_server, path, body, x);
}

static mp_transport new_transport(int max_idle) {
    mp_curl_options o = {0};
    o.max_idle_connections = max_idle;
    o.proxy = ""; /* never a proxy from the environment in these tests */
    mp_transport tr;
    assert_int_equal(mp_curl_transport_new(&o, &tr), MP_OK);
    assert_non_null(tr.send);
    assert_non_null(tr.destroy);
    return tr;
}

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int contains_nocase(const char *hay, const char *needle) {
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        if (strncasecmp(hay, needle, n) == 0)
            return 1;
    }
    return 0;
}

/* A loopback port bound but not listening: connecting to it is refused. */
static int closed_port(unsigned short *port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    socklen_t len = sizeof sa;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

/* ------------------------------------------------------------------------ */
/* Header parsing, line by line                                              */

static void feed(mp__curl_exchange *ex, const char *line) {
    char copy[256];
    size_t n = strlen(line);
    memcpy(copy, line, n); /* not NUL-terminated, as libcurl passes it */
    assert_int_equal(mp__curl_on_header(copy, 1, n, ex), n);
}

static void test_header_lines(void **state) {
    (void)state;
    mp_http_response resp;
    memset(&resp, 0, sizeof resp);
    mp__curl_exchange ex = {.resp = &resp};

    feed(&ex, "HTTP/1.1 100 Continue\r\n");
    feed(&ex, "\r\n");
    feed(&ex, "HTTP/1.1 103 Early Hints\r\n");
    feed(&ex, "Link: </style.css>; rel=preload\r\n");
    feed(&ex, "\r\n");
    feed(&ex, "HTTP/1.1 429 Too Many Requests\r\n");
    feed(&ex, "Retry-After:    120  \r\n");
    feed(&ex, "X-mp-rate-limit-percentage-used:100\r\n");
    feed(&ex, "Empty:\r\n");
    feed(&ex, "Name With Space : kept\r\n");
    feed(&ex, "no colon here\r\n");
    feed(&ex, ": no name\r\n");
    feed(&ex, " folded continuation\r\n");
    feed(&ex, "Bare-LF: yes\n");
    feed(&ex, "\r\n");

    assert_null(mp_http_response_header(&resp, "Link")); /* from the 103: dropped */
    assert_string_equal(mp_http_response_header(&resp, "retry-after"), "120");
    assert_string_equal(mp_http_response_header(&resp, "X-MP-Rate-Limit-Percentage-Used"), "100");
    assert_string_equal(mp_http_response_header(&resp, "Empty"), "");
    assert_string_equal(mp_http_response_header(&resp, "Name With Space"), "kept");
    assert_string_equal(mp_http_response_header(&resp, "Bare-LF"), "yes");
    assert_int_equal(resp.header_count, 5);

    /* A trailer after the body must not pass for a header. */
    char body[] = "{}";
    assert_int_equal(mp__curl_on_body(body, 1, 2, &ex), 2);
    feed(&ex, "X-Trailer: late\r\n");
    assert_null(mp_http_response_header(&resp, "X-Trailer"));
    size_t len;
    assert_string_equal(mp_http_response_body(&resp, &len), "{}");
    assert_int_equal(len, 2);
    assert_int_equal(ex.nomem, 0);
    mp__response_reset(&resp);
}

static void test_header_lines_http2(void **state) {
    (void)state;
    mp_http_response resp;
    memset(&resp, 0, sizeof resp);
    mp__curl_exchange ex = {.resp = &resp};
    feed(&ex, "HTTP/2 202 \r\n");
    feed(&ex, "content-type: application/json\r\n");
    feed(&ex, "\r\n");
    assert_string_equal(mp_http_response_header(&resp, "Content-Type"), "application/json");
    assert_int_equal(resp.header_count, 1);
    mp__response_reset(&resp);
}

/* A hostile server's thousand headers: the first 100 are kept, the rest
 * dropped, and the transfer goes on. */
static void test_header_flood(void **state) {
    (void)state;
    mp_http_response resp;
    memset(&resp, 0, sizeof resp);
    mp__curl_exchange ex = {.resp = &resp};
    feed(&ex, "HTTP/1.1 200 OK\r\n");
    for (int i = 0; i < 1000; i++) {
        char line[64];
        snprintf(line, sizeof line, "X-Flood-%d: %d\r\n", i, i);
        feed(&ex, line);
    }
    assert_int_equal(resp.header_count, MP__RESPONSE_HEADERS_MAX);
    assert_string_equal(mp_http_response_header(&resp, "X-Flood-99"), "99");
    assert_null(mp_http_response_header(&resp, "X-Flood-100"));
    assert_int_equal(ex.nomem, 0);
    mp__response_reset(&resp);
}

/* ------------------------------------------------------------------------ */
/* Exchanges with the server                                                 */

static void test_echo_propagates_status_headers_body(void **state) {
    (void)state;
    mp_transport tr = new_transport(0);
    exchange x;
    assert_int_equal(post(&tr, "/echo", "{\"events\":[]}", &x), MP_OK);
    assert_string_equal(x.errbuf, "");
    assert_int_equal(mp_http_response_status(&x.resp), 200);
    assert_string_equal(mp_http_response_header(&x.resp, "X-Echo-Method"), "POST");
    assert_string_equal(mp_http_response_header(&x.resp, "x-echo-path"), "/echo");
    assert_string_equal(mp_http_response_header(&x.resp, "X-Multi"), "a"); /* the first */
    size_t len;
    assert_string_equal(mp_http_response_body(&x.resp, &len), "{\"events\":[]}");
    assert_int_equal(len, 13);
    exchange_free(&x);
    tr.destroy(tr.user_data);
}

static void test_status_codes(void **state) {
    (void)state;
    mp_transport tr = new_transport(0);
    long before = server_requests(&g_server);
    static const int codes[] = {202, 204, 301, 307, 400, 401, 403, 413, 418, 429, 500, 503};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        char path[32], body[32];
        snprintf(path, sizeof path, "/status/%d", codes[i]);
        snprintf(body, sizeof body, "status %d", codes[i]);
        exchange x;
        assert_int_equal(post(&tr, path, "{}", &x), MP_OK); /* an answer, whatever it is */
        assert_int_equal(mp_http_response_status(&x.resp), codes[i]);
        size_t len;
        const char *got = mp_http_response_body(&x.resp, &len);
        if (codes[i] == 204) {
            assert_int_equal(len, 0);
        } else {
            assert_string_equal(got, body);
        }
        if (codes[i] == 429)
            assert_string_equal(mp_http_response_header(&x.resp, "Retry-After"), "7");
        else
            assert_null(mp_http_response_header(&x.resp, "Retry-After"));
        exchange_free(&x);
    }
    /* The redirects were not followed: one request per code reached the server. */
    assert_int_equal(server_requests(&g_server) - before, sizeof codes / sizeof codes[0]);
    tr.destroy(tr.user_data);
}

static void test_request_headers_arrive_exactly(void **state) {
    (void)state;
    mp_transport tr = new_transport(0);
    const mp_http_header headers[] = {
        {"Authorization", "Basic a2V5OnNlY3JldA=="},
        {"Content-Type", "application/json"},
        {"User-Agent", "mparticle-c/0.1.0"},
        {"X-Empty", ""},
    };
    char url[128];
    snprintf(url, sizeof url, "%s/echo", g_server.base);
    exchange x;
    assert_int_equal(send_full(&tr, "POST", url, headers, 4, "{}", 2, 5000, &x), MP_OK);
    exchange_free(&x);
    char *got = server_last_headers(&g_server);
    char expected[256];
    snprintf(expected, sizeof expected,
             "authorization: Basic a2V5OnNlY3JldA==\n"
             "content-length: 2\n"
             "content-type: application/json\n"
             "host: 127.0.0.1:%u\n"
             "user-agent: mparticle-c/0.1.0\n"
             "x-empty: ",
             (unsigned)g_server.port);
    assert_string_equal(got, expected);
    free(got);
    tr.destroy(tr.user_data);
}

static void test_no_headers_means_no_user_agent_accept_or_expect(void **state) {
    (void)state;
    mp_transport tr = new_transport(0);
    /* Over 1 MiB: libcurl adds Expect: 100-continue to such bodies (from
     * 1 KiB in versions before 7.7x) unless told otherwise. */
    size_t n = 1100 * 1024;
    char *body = malloc(n);
    assert_non_null(body);
    memset(body, 'x', n);
    char url[128];
    snprintf(url, sizeof url, "%s/echo", g_server.base);
    exchange x;
    assert_int_equal(send_full(&tr, "POST", url, NULL, 0, body, n, 10000, &x), MP_OK);
    exchange_free(&x);
    char *got = server_last_headers(&g_server);
    char expected[128];
    snprintf(expected, sizeof expected, "content-length: %zu\nhost: 127.0.0.1:%u", n,
             (unsigned)g_server.port);
    assert_string_equal(got, expected);
    free(got);
    free(body);
    tr.destroy(tr.user_data);
}

static void test_binary_body_exact(void **state) {
    (void)state;
    mp_transport tr = new_transport(0);
    size_t n = 300 * 1024;
    char *body = malloc(n);
    assert_non_null(body);
    for (size_t i = 0; i < n; i++)
        body[i] = (char)((i * 7) ^ (i >> 8)); /* every byte value, NULs included */
    char url[128];
    snprintf(url, sizeof url, "%s/echo", g_server.base);
    exchange x;
    assert_int_equal(send_full(&tr, "POST", url, NULL, 0, body, n, 10000, &x), MP_OK);
    assert_int_equal(mp_http_response_status(&x.resp), 200);

    pthread_mutex_lock(&g_server.lock);
    assert_int_equal(g_server.last_body_len, n);
    assert_memory_equal(g_server.last_body, body, n);
    pthread_mutex_unlock(&g_server.lock);

    size_t len;
    const char *echoed = mp_http_response_body(&x.resp, &len);
    assert_int_equal(len, n);
    assert_memory_equal(echoed, body, n);
    exchange_free(&x);
    free(body);
    tr.destroy(tr.user_data);
}

static void test_methods(void **state) {
    (void)state;
    mp_transport tr = new_transport(0);
    char url[128];
    snprintf(url, sizeof url, "%s/echo", g_server.base);
    exchange x;
    assert_int_equal(send_full(&tr, "PUT", url, NULL, 0, "abc", 3, 5000, &x), MP_OK);
    assert_string_equal(mp_http_response_header(&x.resp, "X-Echo-Method"), "PUT");
    assert_string_equal(mp_http_response_body(&x.resp, NULL), "abc");
    exchange_free(&x);

    assert_int_equal(send_full(&tr, "GET", url, NULL, 0, NULL, 0, 5000, &x), MP_OK);
    assert_string_equal(mp_http_response_header(&x.resp, "X-Echo-Method"), "GET");
    char *got = server_last_headers(&g_server);
    char expected[64];
    snprintf(expected, sizeof expected, "host: 127.0.0.1:%u", (unsigned)g_server.port);
    assert_string_equal(got, expected); /* no Content-Length on a GET */
    free(got);
    exchange_free(&x);

    /* A POST with no body sends Content-Length: 0 and does not read stdin. */
    assert_int_equal(send_full(&tr, "POST", url, NULL, 0, NULL, 0, 5000, &x), MP_OK);
    assert_int_equal(mp_http_response_status(&x.resp), 200);
    assert_string_equal(mp_http_response_header(&x.resp, "X-Echo-Method"), "POST");
    exchange_free(&x);
    got = server_last_headers(&g_server);
    snprintf(expected, sizeof expected, "content-length: 0\nhost: 127.0.0.1:%u",
             (unsigned)g_server.port);
    assert_string_equal(got, expected);
    free(got);
    tr.destroy(tr.user_data);
}

static void test_keepalive_one_connection(void **state) {
    (void)state;
    mp_transport tr = new_transport(0);
    long before = server_opened(&g_server);
    for (int i = 0; i < 50; i++) {
        char body[32];
        snprintf(body, sizeof body, "request %d", i);
        exchange x;
        assert_int_equal(post(&tr, "/echo", body, &x), MP_OK);
        assert_string_equal(mp_http_response_body(&x.resp, NULL), body);
        exchange_free(&x);
    }
    assert_int_equal(server_opened(&g_server) - before, 1);
    assert_int_equal(mp__curl_transport_idle(tr.user_data), 1);
    tr.destroy(tr.user_data);
}

typedef struct worker {
    mp_transport *tr;
    const test_server *server;
    int id;
    int requests;
    int ok; /* exchanges that came back exactly right */
} worker;

static void *worker_run(void *arg) {
    worker *w = arg;
    for (int i = 0; i < w->requests; i++) {
        char body[64];
        snprintf(body, sizeof body, "{\"thread\":%d,\"i\":%d}", w->id, i);
        exchange x;
        if (post_to(w->tr, w->server, "/echo", body, &x) == MP_OK && mp_http_response_status(&x.resp) == 200 &&
            strcmp(mp_http_response_body(&x.resp, NULL), body) == 0)
            w->ok++;
        exchange_free(&x);
    }
    return NULL;
}

static void run_workers(mp_transport *tr, const test_server *server, int threads,
                        int requests) {
    pthread_t tids[16];
    worker ws[16];
    assert_true(threads <= 16);
    for (int i = 0; i < threads; i++) {
        ws[i] = (worker){.tr = tr, .server = server, .id = i, .requests = requests};
        assert_int_equal(pthread_create(&tids[i], NULL, worker_run, &ws[i]), 0);
    }
    for (int i = 0; i < threads; i++) {
        pthread_join(tids[i], NULL);
        assert_int_equal(ws[i].ok, requests);
    }
}

static void test_threads_share_pooled_connections(void **state) {
    (void)state;
    mp_transport tr = new_transport(0); /* 16 idle handles at most */
    long before = server_opened(&g_server);
    run_workers(&tr, &g_server, 8, 50);
    long opened = server_opened(&g_server) - before;
    /* Never more connections than threads: every handle went back to the
     * pool with its connection and was reused. */
    assert_true(opened >= 1);
    assert_true(opened <= 8);
    assert_true(mp__curl_transport_idle(tr.user_data) <= 8);
    tr.destroy(tr.user_data);
}

static void test_pool_cap_closes_extra_connections(void **state) {
    (void)state;
    test_server own; /* its own server, so that only these connections count */
    assert_int_equal(server_start(&own), 0);
    mp_transport tr = new_transport(2);
    run_workers(&tr, &own, 8, 20);
    assert_true(server_opened(&own) >= 2);
    assert_true(mp__curl_transport_idle(tr.user_data) <= 2);
    /* Handles beyond the cap were cleaned up with their connections. */
    assert_true(server_wait_open_at_most(&own, 2) <= 2);
    tr.destroy(tr.user_data);
    assert_int_equal(server_wait_open_at_most(&own, 0), 0);
    server_stop(&own);
}

/* A handle keeps one connection: after talking to a second host, one of
 * the two connections is closed (libcurl closes the one idle longest, at
 * millisecond resolution, so which one is not fixed), and
 * max_idle_connections bounds connections, not just handles. */
static void test_one_connection_per_handle(void **state) {
    (void)state;
    test_server a, b;
    assert_int_equal(server_start(&a), 0);
    assert_int_equal(server_start(&b), 0);
    mp_transport tr = new_transport(1);
    exchange x;
    assert_int_equal(post_to(&tr, &a, "/echo", "a", &x), MP_OK);
    exchange_free(&x);
    assert_int_equal(server_open_now(&a), 1);
    assert_int_equal(post_to(&tr, &b, "/echo", "b", &x), MP_OK);
    exchange_free(&x);
    assert_int_equal(server_opened(&b), 1);
    long open = server_open_now(&a) + server_open_now(&b);
    for (int i = 0; i < 500 && open > 1; i++) {
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
        open = server_open_now(&a) + server_open_now(&b);
    }
    assert_int_equal(open, 1);
    tr.destroy(tr.user_data);
    server_stop(&a);
    server_stop(&b);
}

static void test_timeout(void **state) {
    (void)state;
    mp_transport tr = new_transport(0);
    exchange x;
    assert_int_equal(post(&tr, "/echo", "{}", &x), MP_OK); /* one pooled handle */
    exchange_free(&x);
    assert_int_equal(mp__curl_transport_idle(tr.user_data), 1);
    long before = server_opened(&g_server);

    char url[128];
    snprintf(url, sizeof url, "%s/delay/3000", g_server.base);
    int64_t t0 = now_ms();
    assert_int_equal(send_full(&tr, "POST", url, NULL, 0, "{}", 2, 200, &x), MP_ERR_TIMEOUT);
    int64_t elapsed = now_ms() - t0;
    assert_true(elapsed >= 150);
    assert_true(elapsed < 2000);
    assert_true(contains_nocase(x.errbuf, "timed out"));
    assert_int_equal(mp_http_response_status(&x.resp), 0);
    exchange_free(&x);
    /* The handle that failed was not pooled ... */
    assert_int_equal(mp__curl_transport_idle(tr.user_data), 0);

    /* ... and the next request works, on a new connection. */
    assert_int_equal(post(&tr, "/echo", "again", &x), MP_OK);
    assert_string_equal(mp_http_response_body(&x.resp, NULL), "again");
    exchange_free(&x);
    assert_int_equal(server_opened(&g_server) - before, 1);
    tr.destroy(tr.user_data);
}

static void test_connect_timeout(void **state) {
    (void)state;
    /* A listener whose accept queue is full: Linux drops further SYNs, so
     * connecting hangs until the connect timeout. */
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(lfd >= 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof sa), 0);
    socklen_t slen = sizeof sa;
    assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &slen), 0);
    assert_int_equal(listen(lfd, 0), 0);
    int fillers[4];
    for (int i = 0; i < 4; i++) {
        fillers[i] = socket(AF_INET, SOCK_STREAM, 0);
        assert_true(fillers[i] >= 0);
        fcntl(fillers[i], F_SETFL, O_NONBLOCK);
        (void)connect(fillers[i], (struct sockaddr *)&sa, sizeof sa);
    }
    struct timespec settle = {0, 50 * 1000000L};
    nanosleep(&settle, NULL);

    mp_transport tr = new_transport(0);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/", (unsigned)ntohs(sa.sin_port));
    exchange x;
    memset(&x, 0, sizeof x);
    mp_http_request req = {.method = "POST", .url = url, .body = "{}", .body_len = 2,
                           .connect_timeout_ms = 200, .timeout_ms = 10000};
    int64_t t0 = now_ms();
    assert_int_equal(tr.send(tr.user_data, &req, &x.resp, x.errbuf, sizeof x.errbuf),
                     MP_ERR_TIMEOUT);
    int64_t elapsed = now_ms() - t0;
    assert_true(elapsed >= 150);
    assert_true(elapsed < 3000);
    /* libcurl 7.88: "Failed to connect to 127.0.0.1 port N after 200 ms:
     * Timeout was reached"; others say "Connection timed out after". */
    assert_true(contains_nocase(x.errbuf, "timed out") || contains_nocase(x.errbuf, "timeout"));
    exchange_free(&x);
    tr.destroy(tr.user_data);
    for (int i = 0; i < 4; i++)
        close(fillers[i]);
    close(lfd);
}

static void test_connection_refused(void **state) {
    (void)state;
    unsigned short port;
    int fd = closed_port(&port);
    mp_transport tr = new_transport(0);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/v2/events", (unsigned)port);
    exchange x;
    assert_int_equal(send_full(&tr, "POST", url, NULL, 0, "{}", 2, 5000, &x), MP_ERR_NETWORK);
    assert_true(strlen(x.errbuf) > 0);
    assert_true(contains_nocase(x.errbuf, "connect"));
    assert_null(strchr(x.errbuf, '\n'));
    assert_int_equal(mp_http_response_status(&x.resp), 0);
    exchange_free(&x);
    tr.destroy(tr.user_data);
    close(fd);
}

static void test_server_closes_without_answer(void **state) {
    (void)state;
    mp_transport tr = new_transport(0);
    exchange x;
    assert_int_equal(post(&tr, "/close", "{}", &x), MP_ERR_NETWORK);
    assert_true(contains_nocase(x.errbuf, "empty reply"));
    exchange_free(&x);
    assert_int_equal(mp__curl_transport_idle(tr.user_data), 0);
    assert_int_equal(post(&tr, "/echo", "after", &x), MP_OK);
    exchange_free(&x);
    tr.destroy(tr.user_data);
}

static void test_https_to_plain_http_port(void **state) {
    (void)state;
    mp_transport tr = new_transport(0);
    char url[128];
    snprintf(url, sizeof url, "https://127.0.0.1:%u/echo", (unsigned)g_server.port);
    exchange x;
    assert_int_equal(send_full(&tr, "POST", url, NULL, 0, "{}", 2, 5000, &x), MP_ERR_NETWORK);
    assert_true(contains_nocase(x.errbuf, "SSL") || contains_nocase(x.errbuf, "TLS"));
    assert_null(strchr(x.errbuf, '\n'));
    exchange_free(&x);
    tr.destroy(tr.user_data);
}

static void test_invalid_urls(void **state) {
    (void)state;
    mp_transport tr = new_transport(0);
    long before = server_requests(&g_server);
    static const char *const urls[] = {"file:///etc/passwd", "ftp://127.0.0.1/", "gopher://x/",
                                       "127.0.0.1/v2/events", ""};
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        exchange x;
        assert_int_equal(send_full(&tr, "POST", urls[i], NULL, 0, "{}", 2, 5000, &x),
                         MP_ERR_INVALID_ARGUMENT);
        assert_true(strstr(x.errbuf, "is not http:// or https://") != NULL);
        exchange_free(&x);
    }
    exchange x;
    assert_int_equal(send_full(&tr, "POST", "http://[::1/x", NULL, 0, "{}", 2, 5000, &x),
                     MP_ERR_INVALID_ARGUMENT);
    assert_true(strlen(x.errbuf) > 0);
    exchange_free(&x);
    assert_int_equal(server_requests(&g_server), before);
    tr.destroy(tr.user_data);
}

static void test_invalid_requests(void **state) {
    (void)state;
    mp_transport tr = new_transport(0);
    long before = server_requests(&g_server);
    char url[128];
    snprintf(url, sizeof url, "%s/echo", g_server.base);
    exchange x;

    const mp_http_header injected[] = {{"X-A", "1\r\nX-Injected: 2"}};
    assert_int_equal(send_full(&tr, "POST", url, injected, 1, "{}", 2, 5000, &x),
                     MP_ERR_INVALID_ARGUMENT);
    assert_string_equal(x.errbuf, "header X-A: value is NULL or contains CR or LF");
    exchange_free(&x);

    const mp_http_header bad_name[] = {{"Bad Name", "1"}};
    assert_int_equal(send_full(&tr, "POST", url, bad_name, 1, "{}", 2, 5000, &x),
                     MP_ERR_INVALID_ARGUMENT);
    assert_string_equal(x.errbuf, "header name \"Bad Name\" is not a token");
    exchange_free(&x);

    const mp_http_header length[] = {{"content-length", "99"}};
    assert_int_equal(send_full(&tr, "POST", url, length, 1, "{}", 2, 5000, &x),
                     MP_ERR_INVALID_ARGUMENT);
    assert_string_equal(x.errbuf, "header content-length is set by the transport");
    exchange_free(&x);

    assert_int_equal(send_full(&tr, "PO ST", url, NULL, 0, "{}", 2, 5000, &x),
                     MP_ERR_INVALID_ARGUMENT);
    exchange_free(&x);
    assert_int_equal(send_full(&tr, "POST", url, NULL, 0, "{}", 2, 0, &x),
                     MP_ERR_INVALID_ARGUMENT);
    assert_string_equal(x.errbuf, "connect_timeout_ms and timeout_ms must be > 0");
    exchange_free(&x);
    assert_int_equal(send_full(&tr, "POST", url, NULL, 0, NULL, 5, 5000, &x),
                     MP_ERR_INVALID_ARGUMENT);
    exchange_free(&x);
    assert_int_equal(send_full(&tr, "POST", url, NULL, 3, "{}", 2, 5000, &x),
                     MP_ERR_INVALID_ARGUMENT);
    exchange_free(&x);

    char errbuf[64] = "untouched";
    mp_http_response resp;
    memset(&resp, 0, sizeof resp);
    assert_int_equal(tr.send(tr.user_data, NULL, &resp, errbuf, sizeof errbuf),
                     MP_ERR_INVALID_ARGUMENT);
    assert_string_equal(errbuf, "request or response is NULL");
    assert_int_equal(server_requests(&g_server), before);
    tr.destroy(tr.user_data);
}

static void test_errbuf_sizes(void **state) {
    (void)state;
    mp_transport tr = new_transport(0);
    mp_http_request req = {.method = "POST", .url = "file:///x", .connect_timeout_ms = 1000,
                           .timeout_ms = 1000};
    mp_http_response resp;
    memset(&resp, 0, sizeof resp);
    char small[8];
    memset(small, 'z', sizeof small);
    assert_int_equal(tr.send(tr.user_data, &req, &resp, small, sizeof small),
                     MP_ERR_INVALID_ARGUMENT);
    assert_string_equal(small, "URL \"fi"); /* cut, and terminated */
    assert_int_equal(tr.send(tr.user_data, &req, &resp, NULL, 0), MP_ERR_INVALID_ARGUMENT);
    small[0] = 'q';
    assert_int_equal(tr.send(tr.user_data, &req, &resp, small, 0), MP_ERR_INVALID_ARGUMENT);
    assert_int_equal(small[0], 'q'); /* size 0: not written */

    char url[128];
    snprintf(url, sizeof url, "%s/echo", g_server.base);
    req.url = url;
    assert_int_equal(tr.send(tr.user_data, &req, &resp, NULL, 0), MP_OK);
    mp__response_reset(&resp);
    tr.destroy(tr.user_data);
}

/* The environment's proxy applies when proxy is NULL; "" turns it off; an
 * explicit proxy receives the request. The "proxy" is a second test server,
 * which sees the absolute URL. */
static void test_proxy_options(void **state) {
    (void)state;
    test_server proxy;
    assert_int_equal(server_start(&proxy), 0);
    char target[128];
    snprintf(target, sizeof target, "%s/echo", g_server.base);

    mp_curl_options o = {0};
    o.proxy = proxy.base;
    mp_transport tr;
    assert_int_equal(mp_curl_transport_new(&o, &tr), MP_OK);
    exchange x;
    assert_int_equal(send_full(&tr, "POST", target, NULL, 0, "{}", 2, 5000, &x), MP_OK);
    exchange_free(&x);
    tr.destroy(tr.user_data);
    assert_int_equal(server_requests(&proxy), 1);
    pthread_mutex_lock(&proxy.lock);
    assert_string_equal(proxy.last_path, target);
    pthread_mutex_unlock(&proxy.lock);

    assert_int_equal(setenv("http_proxy", proxy.base, 1), 0);
    o.proxy = NULL;
    assert_int_equal(mp_curl_transport_new(&o, &tr), MP_OK);
    assert_int_equal(send_full(&tr, "POST", target, NULL, 0, "{}", 2, 5000, &x), MP_OK);
    exchange_free(&x);
    tr.destroy(tr.user_data);
    assert_int_equal(server_requests(&proxy), 2);

    o.proxy = "";
    assert_int_equal(mp_curl_transport_new(&o, &tr), MP_OK);
    long direct = server_requests(&g_server);
    assert_int_equal(send_full(&tr, "POST", target, NULL, 0, "{}", 2, 5000, &x), MP_OK);
    exchange_free(&x);
    tr.destroy(tr.user_data);
    assert_int_equal(server_requests(&proxy), 2);
    assert_int_equal(server_requests(&g_server), direct + 1);
    unsetenv("http_proxy");
    server_stop(&proxy);
}

static void test_options_validation(void **state) {
    (void)state;
    mp_transport tr;
    assert_int_equal(mp_curl_transport_new(NULL, NULL), MP_ERR_INVALID_ARGUMENT);
    mp_curl_options o = {0};
    o.max_idle_connections = -1;
    assert_int_equal(mp_curl_transport_new(&o, &tr), MP_ERR_INVALID_ARGUMENT);
    assert_null(tr.send);
    /* NULL options: the defaults. */
    assert_int_equal(mp_curl_transport_new(NULL, &tr), MP_OK);
    tr.destroy(tr.user_data);
    /* Options are copied: the caller's strings can go right away. */
    char ca[64] = "/nonexistent/ca.pem";
    o.max_idle_connections = 1;
    o.ca_bundle = ca;
    o.proxy = "";
    assert_int_equal(mp_curl_transport_new(&o, &tr), MP_OK);
    memset(ca, 0, sizeof ca);
    /* The CA bundle only matters for https; plain http still works. */
    exchange x;
    assert_int_equal(post(&tr, "/echo", "{}", &x), MP_OK);
    exchange_free(&x);
    tr.destroy(tr.user_data);
}

static void *create_use_destroy(void *arg) {
    int *ok = arg;
    mp_transport tr;
    mp_curl_options o = {0};
    o.proxy = "";
    if (mp_curl_transport_new(&o, &tr) != MP_OK)
        return NULL;
    exchange x;
    if (post(&tr, "/echo", "hi", &x) == MP_OK && mp_http_response_status(&x.resp) == 200)
        *ok = 1;
    exchange_free(&x);
    tr.destroy(tr.user_data);
    return NULL;
}

/* libcurl's global init and cleanup, under many threads at once. */
static void test_concurrent_create_destroy(void **state) {
    (void)state;
    pthread_t tids[8];
    int ok[8] = {0};
    for (int i = 0; i < 8; i++)
        assert_int_equal(pthread_create(&tids[i], NULL, create_use_destroy, &ok[i]), 0);
    for (int i = 0; i < 8; i++) {
        pthread_join(tids[i], NULL);
        assert_int_equal(ok[i], 1);
    }
}

/* A SIGPIPE raised inside the guard is consumed: without the guard, its
 * default action would end this process. */
static void test_sigpipe_guard(void **state) {
    (void)state;
    mp__sigpipe_guard g;
    mp__sigpipe_block(&g);
    assert_true(g.blocked);
    assert_int_equal(pthread_kill(pthread_self(), SIGPIPE), 0);
    mp__sigpipe_restore(&g);
    sigset_t pending;
    assert_int_equal(sigpending(&pending), 0);
    assert_int_equal(sigismember(&pending, SIGPIPE), 0);
    sigset_t mask;
    assert_int_equal(pthread_sigmask(SIG_SETMASK, NULL, &mask), 0);
    assert_int_equal(sigismember(&mask, SIGPIPE), 0); /* the mask is restored */
}

static int group_setup(void **state) {
    (void)state;
    unsetenv("http_proxy");
    unsetenv("HTTPS_PROXY");
    unsetenv("https_proxy");
    unsetenv("ALL_PROXY");
    unsetenv("all_proxy");
    return server_start(&g_server);
}

static int group_teardown(void **state) {
    (void)state;
    server_stop(&g_server);
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_lines),
        cmocka_unit_test(test_header_lines_http2),
        cmocka_unit_test(test_header_flood),
        cmocka_unit_test(test_sigpipe_guard),
        cmocka_unit_test(test_echo_propagates_status_headers_body),
        cmocka_unit_test(test_status_codes),
        cmocka_unit_test(test_request_headers_arrive_exactly),
        cmocka_unit_test(test_no_headers_means_no_user_agent_accept_or_expect),
        cmocka_unit_test(test_binary_body_exact),
        cmocka_unit_test(test_methods),
        cmocka_unit_test(test_keepalive_one_connection),
        cmocka_unit_test(test_threads_share_pooled_connections),
        cmocka_unit_test(test_pool_cap_closes_extra_connections),
        cmocka_unit_test(test_one_connection_per_handle),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_connect_timeout),
        cmocka_unit_test(test_connection_refused),
        cmocka_unit_test(test_server_closes_without_answer),
        cmocka_unit_test(test_https_to_plain_http_port),
        cmocka_unit_test(test_invalid_urls),
        cmocka_unit_test(test_invalid_requests),
        cmocka_unit_test(test_errbuf_sizes),
        cmocka_unit_test(test_proxy_options),
        cmocka_unit_test(test_options_validation),
        cmocka_unit_test(test_concurrent_create_destroy),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

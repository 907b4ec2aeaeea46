/*
 * `serve` under hostile clients: garbage and oversized bodies, hundreds of
 * connections at once, clients that stall mid-request, a stop while
 * requests are in flight. The server must answer or close, never crash,
 * keep its memory bounded and keep serving everyone else.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "serve_test.h"

#define EVENTS "/v2/events"
#define BULK "/v2/bulkevents"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 1 if s[0..n) is valid UTF-8 (the error body must be, whatever came in). */
static int valid_utf8(const unsigned char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (!len || i + len > n)
            return 0;
        for (size_t k = 1; k < len; k++)
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
        i += len;
    }
    return 1;
}

static void expect_served(const mp_server *s) {
    char b[1024];
    http_result r;
    assert_int_equal(http_post(s, EVENTS, test_batch(b, sizeof b, NULL), &r), 202);
    http_result_free(&r);
}

/* ------------------------------------------------------------------------ */
/* Garbage                                                                  */
/* ------------------------------------------------------------------------ */

static uint64_t rng_next(uint64_t *x) {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static void test_garbage_bodies(void **state) {
    (void)state;
    mp_server *s = test_start(NULL);
    const char *paths[] = {EVENTS, BULK, "/v2/bulkevents/historical"};
    uint64_t seed = 0x9E3779B97F4A7C15ULL;
    char *body = malloc(8192);
    /* Random bytes, and random bytes after a plausible start. */
    for (int i = 0; i < 90; i++) {
        size_t len = (size_t)(rng_next(&seed) % 8192);
        for (size_t k = 0; k < len; k++)
            body[k] = (char)rng_next(&seed);
        if (i % 3 == 1 && len > 0)
            body[0] = '{';
        if (i % 3 == 2 && len > 1) {
            body[0] = '[';
            body[1] = '{';
        }
        http_result r;
        http_request(mp_serve_url(s), paths[i % 3], body, len, NULL, &r);
        assert_int_equal(r.code, CURLE_OK);
        assert_int_equal(r.status, 400);
        assert_memory_equal(r.body, "{\"errors\":[{\"code\":\"BAD_REQUEST\",\"message\":\"", 44);
        assert_true(valid_utf8((const unsigned char *)r.body, r.body_len));
        http_result_free(&r);
    }
    free(body);

    /* Hand-made nasties. */
#define NASTY(path, text) {path, text, sizeof text - 1}
    static const struct {
        const char *path;
        const char *body;
        size_t len;
    } nasty[] = {
        NASTY(EVENTS, "{\"environment\":\"\xff\xfe\"}"), /* invalid UTF-8 in a string */
        NASTY(EVENTS, "{\"environment\":\"dev\0elopment\"}"), /* a NUL byte */
        NASTY(EVENTS, "{\"environment\":\"development\",\"environment\":\"production\"}"),
        NASTY(EVENTS, "{\"mpid\":99999999999999999999999}"),
        NASTY(EVENTS, "{\"events\":{\"event_type\":\"custom_event\"}}"),
        NASTY(EVENTS, "\xef\xbb\xbf\xef\xbb\xbf{}"), /* two byte order marks */
        NASTY(BULK, "[1,\"x\",null,true,[]]"),
        NASTY(BULK, "[{}]garbage"),
        NASTY(BULK, "[{\"a\":\"\\ud800\"}]"), /* a lone surrogate escape */
    };
#undef NASTY
    size_t nnasty = sizeof nasty / sizeof nasty[0];
    for (size_t i = 0; i < nnasty; i++) {
        http_result r;
        http_request(mp_serve_url(s), nasty[i].path, nasty[i].body, nasty[i].len, NULL, &r);
        if (r.status != 400)
            fail_msg("nasty body %zu: status %ld", i, r.status);
        assert_true(valid_utf8((const unsigned char *)r.body, r.body_len));
        http_result_free(&r);
    }

    /* Deep nesting: no recursion in the scanner, and the decoder's depth
     * limit. 120 KB of brackets is one batch under the 128 KB limit. */
    size_t depth = 60000;
    char *deep = malloc(4 * depth + 2);
    memset(deep, '[', depth + 1);
    memset(deep + depth + 1, ']', depth + 1);
    http_result r;
    http_request(mp_serve_url(s), "/v2/bulkevents", deep, 2 * depth + 2, NULL, &r);
    assert_int_equal(r.status, 400);
    http_result_free(&r);
    http_request(mp_serve_url(s), BULK, deep, depth, NULL, &r); /* never closed */
    assert_int_equal(r.status, 400);
    http_result_free(&r);
    /* Twice as deep: one batch of 240 KB, over the batch limit before any parsing. */
    memset(deep, '[', 2 * depth + 1);
    memset(deep + 2 * depth + 1, ']', 2 * depth + 1);
    http_request(mp_serve_url(s), BULK, deep, 4 * depth + 2, NULL, &r);
    assert_int_equal(r.status, 413);
    http_result_free(&r);
    free(deep);

    expect_served(s);
    mp_serve_stats st = test_stats(s);
    assert_int_equal(st.by_status[400], 90 + nnasty + 2);
    assert_int_equal(st.by_status[413], 1);
    assert_int_equal(st.accepted, 1);
    mp_serve_stop(s);
}

/* An encoded NUL or control character in the path once decoded to
 * "/v2/events" plus garbage after the NUL, and matched: such paths are
 * not routes. */
static void test_encoded_control_characters_not_routed(void **state) {
    (void)state;
    mp_server *s = test_start(NULL);
    static const char *const paths[] = {"/v2/events%00",      "/v2/events%00/x",
                                        "/v2/bulkevents%00",  "/v2/events%0a",
                                        "/v2/events%0D%0A",   "/v2/events%1f",
                                        "/v2/events%7F",      "/v2/bulkevents/historical%00"};
    char b[1024];
    test_batch(b, sizeof b, NULL);
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        http_result r;
        http_request(mp_serve_url(s), paths[i], b, strlen(b), NULL, &r);
        if (r.status != 404)
            fail_msg("%s: status %ld, expected 404", paths[i], r.status);
        http_result_free(&r);
    }
    /* An escape of an ordinary character still means that character. */
    http_result r;
    http_request(mp_serve_url(s), "/v2/%65vents", b, strlen(b), NULL, &r);
    assert_int_equal(r.status, 202);
    http_result_free(&r);
    assert_int_equal(test_stats(s).accepted, 1);
    mp_serve_stop(s);
}

/* ------------------------------------------------------------------------ */
/* Oversized bodies                                                         */
/* ------------------------------------------------------------------------ */

static long peak_rss_kb(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static void test_ten_megabytes(void **state) {
    (void)state;
    mp_server *s = test_start(NULL);
    size_t len = 10u * 1024 * 1024;
    char *body = malloc(len);
    memset(body, '[', len); /* touched: counted in the peak before the requests */
    long before = peak_rss_kb();
    http_result r;

    /* curl announces a body this big with "Expect: 100-continue": refused from
     * the headers, before the body is sent. */
    double t0 = now_s();
    http_request(mp_serve_url(s), BULK, body, len, NULL, &r);
    assert_int_equal(r.status, 413);
    assert_true(r.uploaded < (curl_off_t)len);
    assert_true(now_s() - t0 < 2.0);
    assert_non_null(strstr(r.body, "the body is 10485760 bytes, over the limit of 262144 bytes"));
    http_result_free(&r);

    /* Without Expect the client sends anyway: the server answers and
     * closes; the client may see the answer or a broken connection. */
    http_opts no_expect = {.no_expect = 1};
    t0 = now_s();
    http_request(mp_serve_url(s), BULK, body, len, &no_expect, &r);
    assert_true(r.status == 413 || r.code == CURLE_SEND_ERROR || r.code == CURLE_RECV_ERROR);
    assert_true(now_s() - t0 < 5.0);
    http_result_free(&r);

    /* Chunked: no length to judge by. The server reads and drops up to 4x
     * the limit, then closes. */
    http_opts chunked = {.chunked = 1, .no_expect = 1};
    t0 = now_s();
    http_request(mp_serve_url(s), BULK, body, len, &chunked, &r);
    assert_true(r.status == 413 || r.code == CURLE_SEND_ERROR || r.code == CURLE_RECV_ERROR ||
                r.code == CURLE_GOT_NOTHING);
    assert_true(r.uploaded < (curl_off_t)len);
    assert_true(now_s() - t0 < 5.0);
    http_result_free(&r);

    /* Chunked, just over the limit: read through and answered. */
    http_request(mp_serve_url(s), BULK, body, 300 * 1024, &chunked, &r);
    assert_int_equal(r.status, 413);
    http_result_free(&r);

    /* The server kept at most one request's limit at a time. */
    long grown_kb = peak_rss_kb() - before;
    if (grown_kb > 6 * 1024)
        fail_msg("peak RSS grew by %ld KB while 10 MB bodies were refused", grown_kb);
    free(body);

    expect_served(s);
    mp_serve_stats st = test_stats(s);
    assert_true(st.by_status[413] >= 2);
    assert_int_equal(st.received, 1);
    mp_serve_stop(s);
}

/* ------------------------------------------------------------------------ */
/* Many connections at once                                                 */
/* ------------------------------------------------------------------------ */

#define CONCURRENT 200

static void test_concurrent_connections(void **state) {
    (void)state;
    char path[256];
    test_temp_path(path, sizeof path, "concurrent");
    mp_serve_options o = {.record_path = path};
    mp_server *s = test_start(&o);

    CURLM *multi = curl_multi_init();
    CURL *handles[CONCURRENT];
    static char bodies[CONCURRENT][1300];
    char url[128];
    snprintf(url, sizeof url, "%s" BULK, mp_serve_url(s));
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    for (int i = 0; i < CONCURRENT; i++) {
        /* Three batches per request, two of them sharing an id with another
         * request: every line of the record must still be whole. */
        char a[400], b[400], c[400], id[32];
        snprintf(id, sizeof id, "u%d", i);
        test_batch(a, sizeof a, id);
        snprintf(id, sizeof id, "shared%d", i % 10);
        test_batch(b, sizeof b, id);
        test_batch(c, sizeof c, NULL);
        snprintf(bodies[i], sizeof bodies[i], "[%s,%s,%s]", a, b, c);
        CURL *h = curl_easy_init();
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, bodies[i]);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(h, CURLOPT_USERPWD, TEST_USERPWD);
        curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_multi_add_handle(multi, h);
        handles[i] = h;
    }
    curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)CONCURRENT);
    int running = 1;
    while (running) {
        curl_multi_perform(multi, &running);
        if (running)
            curl_multi_poll(multi, NULL, 0, 100, NULL);
    }
    int ok = 0;
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
        long status = 0;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
        ok += msg->data.result == CURLE_OK && status == 202;
    }
    for (int i = 0; i < CONCURRENT; i++) {
        curl_multi_remove_handle(multi, handles[i]);
        curl_easy_cleanup(handles[i]);
    }
    curl_multi_cleanup(multi);
    curl_slist_free_all(headers);
    assert_int_equal(ok, CONCURRENT);

    mp_serve_stats st = test_stats(s);
    assert_int_equal(st.by_status[202], CONCURRENT);
    assert_int_equal(st.received, 3 * CONCURRENT);
    assert_int_equal(st.duplicates, CONCURRENT - 10);
    assert_int_equal(st.accepted, 2 * CONCURRENT + 10);
    mp_serve_stop(s);

    /* 410 lines, each one whole batch. */
    size_t len;
    char *rec = test_read_file(path, &len);
    char expected_tail[64];
    snprintf(expected_tail, sizeof expected_tail, "\"custom_event_type\":\"other\"}}]}");
    size_t lines = 0;
    for (char *line = rec, *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
        *nl = '\0';
        assert_memory_equal(line, "{\"environment\":\"development\",", 29);
        assert_true(strlen(line) > strlen(expected_tail));
        assert_string_equal(line + strlen(line) - strlen(expected_tail), expected_tail);
        assert_null(strstr(line + 1, "{\"environment\"")); /* no other batch inside */
        lines++;
    }
    assert_int_equal(lines, 2 * CONCURRENT + 10);
    free(rec);
    unlink(path);
}

/* ------------------------------------------------------------------------ */
/* Stalled clients                                                          */
/* ------------------------------------------------------------------------ */

static int connect_to(uint16_t port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

/* Seconds until the server closes fd (reads and drops whatever it sends), or -1 after limit_s. */
static double wait_closed(int fd, double limit_s) {
    double t0 = now_s();
    for (;;) {
        double left = limit_s - (now_s() - t0);
        if (left <= 0)
            return -1;
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, (int)(left * 1000) + 1) <= 0)
            continue;
        char buf[512];
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0)
            return now_s() - t0;
    }
}

static void test_stalled_clients(void **state) {
    (void)state;
    mp_serve_options o = {.connection_timeout_s = 1};
    mp_server *s = test_start(&o);

    /* Half a body, then nothing. */
    int mid_body = connect_to(mp_serve_port(s));
    const char *req = "POST /v2/events HTTP/1.1\r\nHost: x\r\n"
                      "Authorization: Basic dGVzdC1rZXk6dGVzdC1zZWNyZXQ=\r\n"
                      "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
                      "{\"environment\":\"devel";
    assert_int_equal(send(mid_body, req, strlen(req), 0), (ssize_t)strlen(req));
    /* Half a request line, then nothing (slowloris). */
    int mid_headers = connect_to(mp_serve_port(s));
    assert_int_equal(send(mid_headers, "POST /v2/ev", 11, 0), 11);
    /* Connected, silent. */
    int silent = connect_to(mp_serve_port(s));

    /* Everyone else is served meanwhile, on both threads. */
    for (int i = 0; i < 4; i++)
        expect_served(s);

    double t1 = wait_closed(mid_body, 5), t2 = wait_closed(mid_headers, 5),
           t3 = wait_closed(silent, 5);
    assert_true(t1 >= 0 && t2 >= 0 && t3 >= 0);
    close(mid_body);
    close(mid_headers);
    close(silent);
    expect_served(s);
    mp_serve_stats st = test_stats(s);
    assert_int_equal(st.aborted, 1); /* the one whose headers were in */
    assert_int_equal(st.by_status[202], 5);
    mp_serve_stop(s);
}

/* ------------------------------------------------------------------------ */
/* Stop with requests in flight                                             */
/* ------------------------------------------------------------------------ */

typedef struct flight {
    const char *url;
    http_result r;
} flight;

static void *post_slowly(void *arg) {
    flight *f = arg;
    char b[1024];
    test_batch(b, sizeof b, NULL);
    http_opts o = {.timeout_ms = 8000};
    http_request(f->url, EVENTS, b, strlen(b), &o, &f->r);
    return NULL;
}

static void test_stop_in_flight(void **state) {
    (void)state;
    mp_serve_options o = {.latency_ms = 5000};
    mp_server *s = test_start(&o);
    char url[80];
    snprintf(url, sizeof url, "%s", mp_serve_url(s));
    flight f[3];
    pthread_t t[3];
    for (int i = 0; i < 3; i++) {
        f[i].url = url;
        assert_int_equal(pthread_create(&t[i], NULL, post_slowly, &f[i]), 0);
    }
    /* Let the requests reach the latency wait. */
    for (int i = 0; i < 100 && test_stats(s).requests == 0; i++) {
        struct timespec ms = {0, 20 * 1000 * 1000};
        nanosleep(&ms, NULL);
    }
    struct timespec settle = {0, 200 * 1000 * 1000};
    nanosleep(&settle, NULL);
    double t0 = now_s();
    mp_serve_stop(s);
    assert_true(now_s() - t0 < 2.0); /* not 5 s: the wait is cut short */
    for (int i = 0; i < 3; i++) {
        pthread_join(t[i], NULL);
        /* Answered just before the close, or closed without an answer. */
        assert_true(f[i].r.status == 202 || f[i].r.code != CURLE_OK);
        assert_true(f[i].r.seconds < 4.0);
        http_result_free(&f[i].r);
    }
}

static int setup(void **state) {
    (void)state;
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    curl_global_cleanup();
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_garbage_bodies),
        cmocka_unit_test(test_encoded_control_characters_not_routed),
        cmocka_unit_test(test_ten_megabytes),
        cmocka_unit_test(test_concurrent_connections),
        cmocka_unit_test(test_stalled_clients),
        cmocka_unit_test(test_stop_in_flight),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

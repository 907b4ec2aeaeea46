/*
 * `serve` against a real HTTP client: every route, method, status and
 * header of docs/serve.md, with a server started in-process on a free port
 * and libcurl on the other side.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "serve_test.h"

#define EVENTS "/v2/events"
#define BULK "/v2/bulkevents"
#define HISTORICAL "/v2/bulkevents/historical"

static char batch_buf[1024];
#define BATCH(id) test_batch(batch_buf, sizeof batch_buf, (id))

/* Expects a 400 whose body is exactly {"errors":[{"code":"BAD_REQUEST","message":MESSAGE}]}. */
static void expect_one_error(const mp_server *s, const char *path, const char *body,
                             const char *message) {
    http_result r;
    http_post(s, path, body, &r);
    char expected[2048];
    snprintf(expected, sizeof expected,
             "{\"errors\":[{\"code\":\"BAD_REQUEST\",\"message\":\"%s\"}]}", message);
    assert_int_equal(r.status, 400);
    assert_string_equal(r.body, expected);
    char v[64];
    assert_string_equal(http_header(&r, "Content-Type", v, sizeof v), "application/json");
    assert_null(http_header(&r, "X-mp-rate-limit-percentage-used", v, sizeof v));
    http_result_free(&r);
}

/* ------------------------------------------------------------------------ */
/* Routes and methods                                                       */
/* ------------------------------------------------------------------------ */

static void test_routes_accept(void **state) {
    (void)state;
    mp_server *s = test_start(NULL);
    http_result r;
    char v[64];

    assert_int_equal(http_post(s, EVENTS, BATCH(NULL), &r), 202);
    assert_int_equal(r.body_len, 0);
    assert_string_equal(http_header(&r, "X-mp-rate-limit-percentage-used", v, sizeof v), "0");
    http_result_free(&r);

    char bulk[2200];
    char b2[1024];
    snprintf(bulk, sizeof bulk, "[%s,%s]", BATCH(NULL), test_batch(b2, sizeof b2, NULL));
    assert_int_equal(http_post(s, BULK, bulk, &r), 202);
    assert_string_equal(http_header(&r, "X-mp-rate-limit-percentage-used", v, sizeof v), "0");
    http_result_free(&r);

    /* Historical: events with timestamps older than 72 hours (docs/api-notes.md §2.4). */
    const char *old = "[{\"environment\":\"production\",\"user_identities\":{\"customer_id\":"
                      "\"c\"},\"events\":[{\"event_type\":\"custom_event\",\"data\":{"
                      "\"event_name\":\"e\",\"custom_event_type\":\"other\","
                      "\"timestamp_unixtime_ms\":1500000000000}}]}]";
    assert_int_equal(http_post(s, HISTORICAL, old, &r), 202);
    http_result_free(&r);

    /* A query string does not change the route. */
    assert_int_equal(http_post(s, EVENTS "?debug=1", BATCH(NULL), &r), 202);
    http_result_free(&r);

    mp_serve_stats st = test_stats(s);
    assert_int_equal(st.requests, 4);
    assert_int_equal(st.received, 5);
    assert_int_equal(st.accepted, 5);
    assert_int_equal(st.rejected, 0);
    assert_int_equal(st.by_status[202], 4);
    mp_serve_stop(s);
}

static void test_routes_not_found(void **state) {
    (void)state;
    mp_server *s = test_start(NULL);
    const char *paths[] = {"/", "/v2", "/v2/events/", "/v1/events", "/v2/bulkevent",
                           "/v2/bulkevents/historical/x", "/V2/EVENTS", "/v2/calculatedattributes"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        http_result r;
        assert_int_equal(http_post(s, paths[i], BATCH(NULL), &r), 404);
        http_result_free(&r);
    }
    /* Unknown path, any method, no credentials: still 404 (routing comes first). */
    http_opts get = {.method = "GET", .userpwd = ""};
    http_result r;
    http_request(mp_serve_url(s), "/nope", NULL, 0, &get, &r);
    assert_int_equal(r.status, 404);
    http_result_free(&r);
    assert_int_equal(test_stats(s).by_status[404], 9);
    mp_serve_stop(s);
}

static void test_routes_method_not_allowed(void **state) {
    (void)state;
    mp_server *s = test_start(NULL);
    const char *methods[] = {"GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"};
    const char *paths[] = {EVENTS, BULK, HISTORICAL};
    for (size_t m = 0; m < sizeof methods / sizeof methods[0]; m++) {
        for (size_t p = 0; p < 3; p++) {
            http_opts o = {.method = methods[m]};
            http_result r;
            char v[64];
            http_request(mp_serve_url(s), paths[p], NULL, 0, &o, &r);
            assert_int_equal(r.code, CURLE_OK);
            assert_int_equal(r.status, 405);
            assert_non_null(http_header(&r, "Allow", v, sizeof v));
            assert_string_equal(v, "POST");
            http_result_free(&r);
        }
    }
    assert_int_equal(test_stats(s).by_status[405], 18);
    mp_serve_stop(s);
}

/* ------------------------------------------------------------------------ */
/* Authentication                                                           */
/* ------------------------------------------------------------------------ */

static long post_with(const mp_server *s, const http_opts *o, http_result *r) {
    http_request(mp_serve_url(s), EVENTS, BATCH(NULL), strlen(BATCH(NULL)), o, r);
    return r->status;
}

static void test_auth_configured(void **state) {
    (void)state;
    mp_server *s = test_start(NULL);
    http_result r;
    char v[64];

    http_opts none = {.userpwd = ""};
    assert_int_equal(post_with(s, &none, &r), 401);
    assert_string_equal(http_header(&r, "WWW-Authenticate", v, sizeof v),
                        "Basic realm=\"mParticle\"");
    http_result_free(&r);

    const http_opts forbidden[] = {
        {.userpwd = TEST_KEY ":wrong"},
        {.userpwd = "wrong:" TEST_SECRET},
        {.userpwd = TEST_KEY ":" TEST_SECRET "x"},
        {.userpwd = TEST_KEY},                          /* no secret */
        {.authorization = "Bearer abc"},                /* not Basic */
        {.authorization = "Basic"},                     /* nothing after the scheme */
        {.authorization = "Basic !!!notbase64"},
        {.authorization = "Basic dGVzdC1rZXk="},        /* "test-key": no colon */
        {.authorization = "Basic OnRlc3Qtc2VjcmV0"},    /* ":test-secret": empty key */
    };
    for (size_t i = 0; i < sizeof forbidden / sizeof forbidden[0]; i++) {
        assert_int_equal(post_with(s, &forbidden[i], &r), 403);
        http_result_free(&r);
    }
    /* The scheme is case-insensitive; the docs' worked example decodes the
     * same way (base64 of "test-key:test-secret"). */
    http_opts lower = {.authorization = "basic dGVzdC1rZXk6dGVzdC1zZWNyZXQ="};
    assert_int_equal(post_with(s, &lower, &r), 202);
    http_result_free(&r);
    assert_int_equal(post_with(s, NULL, &r), 202);
    http_result_free(&r);

    mp_serve_stats st = test_stats(s);
    assert_int_equal(st.by_status[401], 1);
    assert_int_equal(st.by_status[403], 9);
    assert_int_equal(st.by_status[202], 2);
    assert_int_equal(st.received, 2); /* refused requests never reach the batches */
    mp_serve_stop(s);
}

static void test_auth_any_credentials(void **state) {
    (void)state;
    mp_serve_options o = {.api_key = NULL};
    mp_server *s = NULL;
    char err[128];
    assert_int_equal(mp_serve_start(&o, &s, err, sizeof err), MP_OK);
    http_result r;
    http_opts any = {.userpwd = "anything:goes"};
    assert_int_equal(post_with(s, &any, &r), 202);
    http_result_free(&r);
    http_opts no_secret = {.userpwd = "anything:"};
    assert_int_equal(post_with(s, &no_secret, &r), 403);
    http_result_free(&r);
    http_opts none = {.userpwd = ""};
    assert_int_equal(post_with(s, &none, &r), 401);
    http_result_free(&r);
    mp_serve_stop(s);
}

/* The API's own example (docs/api-notes.md §1.3). */
static void test_auth_docs_example(void **state) {
    (void)state;
    mp_serve_options o = {.api_key = "example-api-key", .api_secret = "example-api-secret"};
    mp_server *s = test_start(&o);
    http_result r;
    http_opts docs = {.authorization = "Basic ZXhhbXBsZS1hcGkta2V5OmV4YW1wbGUtYXBpLXNlY3JldA=="};
    assert_int_equal(post_with(s, &docs, &r), 202);
    http_result_free(&r);
    mp_serve_stop(s);
}

/* ------------------------------------------------------------------------ */
/* Validation                                                               */
/* ------------------------------------------------------------------------ */

static void test_validation_errors(void **state) {
    (void)state;
    mp_server *s = test_start(NULL);
    expect_one_error(s, EVENTS, "{\"events\":[]}", "environment: required field is missing");
    expect_one_error(s, EVENTS,
                     "{\"environment\":\"development\",\"user_identities\":{\"customer_id\":"
                     "\"c\"},\"events\":[{\"event_type\":\"nope\",\"data\":{}}]}",
                     "events[0].event_type: unknown event_type \\\"nope\\\"");
    expect_one_error(s, EVENTS,
                     "{\"environment\":\"development\",\"mpid\":\"12\",\"user_identities\":{"
                     "\"customer_id\":\"c\"}}",
                     "mpid: expected an integer, got a string");
    /* In a bulk request the path starts with the batch's index. */
    char bulk[2048];
    snprintf(bulk, sizeof bulk, "[{\"environment\":\"staging\",\"user_identities\":{"
                                "\"customer_id\":\"c\"}}]");
    expect_one_error(s, BULK, bulk,
                     "[0].environment: \\\"staging\\\" is not a valid environment (expected one "
                     "of: development, production, unknown)");
    mp_serve_stop(s);
}

static void test_validation_malformed(void **state) {
    (void)state;
    mp_server *s = test_start(NULL);
    http_result r;
    /* Malformed JSON: the message gives the line and column. */
    assert_int_equal(http_post(s, EVENTS, "{\"environment\": }", &r), 400);
    assert_non_null(strstr(r.body, "{\"errors\":[{\"code\":\"BAD_REQUEST\",\"message\":\""));
    assert_non_null(strstr(r.body, " at line 1, column "));
    http_result_free(&r);

    expect_one_error(s, EVENTS, "", "(request): the body is empty; /v2/events takes one batch "
                                    "(a JSON object)");
    expect_one_error(s, BULK, " \n", "(request): the body is empty; /v2/bulkevents takes a "
                                     "JSON array of batches");
    expect_one_error(s, EVENTS, "[]",
                     "(request): /v2/events takes one batch (a JSON object), not an array; "
                     "send arrays of batches to /v2/bulkevents");
    expect_one_error(s, HISTORICAL, BATCH(NULL),
                     "(request): /v2/bulkevents/historical takes a JSON array of batches, not "
                     "an object; wrap the batch in [ ] or send it to /v2/events");
    expect_one_error(s, BULK, "[]", "(request): the array holds no batches");
    char two[2100], b2[1024];
    snprintf(two, sizeof two, "%s\n%s", BATCH(NULL), test_batch(b2, sizeof b2, NULL));
    expect_one_error(s, EVENTS, two,
                     "(request): /v2/events takes exactly one batch (a JSON object)");

    mp_serve_stats st = test_stats(s);
    assert_int_equal(st.by_status[400], 7);
    assert_int_equal(st.accepted, 0);
    mp_serve_stop(s);
}

static void test_validation_historical_rules(void **state) {
    (void)state;
    mp_server *s = test_start(NULL);
    http_result r;
    /* An event without a timestamp, and a batch without events, break docs/api-notes.md §2.4. */
    const char *body =
        "[{\"environment\":\"production\",\"user_identities\":{\"customer_id\":\"c\"},"
        "\"events\":[{\"event_type\":\"custom_event\",\"data\":{\"event_name\":\"e\","
        "\"custom_event_type\":\"other\"}}]},"
        "{\"environment\":\"production\",\"user_identities\":{\"customer_id\":\"c\"}}]";
    assert_int_equal(http_post(s, HISTORICAL, body, &r), 400);
    assert_non_null(strstr(r.body, "\"[0].events[0].data.timestamp_unixtime_ms: "));
    assert_non_null(strstr(r.body, "\"[1]"));
    http_result_free(&r);
    /* The same batches are fine on /v2/bulkevents (the second has no event, which only the
     * historical endpoint forbids). */
    assert_int_equal(http_post(s, BULK, body, &r), 202);
    http_result_free(&r);
    /* An event 1 hour old is too recent for the historical endpoint. */
    char recent[1024];
    long long now_ms = (long long)time(NULL) * 1000;
    snprintf(recent, sizeof recent,
             "[{\"environment\":\"production\",\"user_identities\":{\"customer_id\":\"c\"},"
             "\"events\":[{\"event_type\":\"custom_event\",\"data\":{\"event_name\":\"e\","
             "\"custom_event_type\":\"other\",\"timestamp_unixtime_ms\":%lld}}]}]",
             now_ms - 3600 * 1000LL);
    assert_int_equal(http_post(s, HISTORICAL, recent, &r), 400);
    assert_non_null(strstr(r.body, "\"[0].events[0].data.timestamp_unixtime_ms: "));
    http_result_free(&r);
    mp_serve_stop(s);
}

/* Some batches of a bulk request fail: still 202 (docs/api-notes.md §1.2), only the valid ones count. */
static void test_validation_bulk_partial(void **state) {
    (void)state;
    char path[256];
    test_temp_path(path, sizeof path, "partial");
    mp_serve_options o = {.record_path = path};
    mp_server *s = test_start(&o);
    char body[2048];
    snprintf(body, sizeof body, "[%s,{\"environment\":\"nope\"}]", BATCH("p1"));
    http_result r;
    assert_int_equal(http_post(s, BULK, body, &r), 202);
    assert_int_equal(r.body_len, 0);
    http_result_free(&r);
    mp_serve_stats st = test_stats(s);
    assert_int_equal(st.received, 2);
    assert_int_equal(st.accepted, 1);
    assert_int_equal(st.rejected, 1);
    char *rec = test_read_file(path, NULL);
    char line[1100];
    snprintf(line, sizeof line, "%s\n", BATCH("p1"));
    assert_string_equal(rec, line);
    free(rec);
    mp_serve_stop(s);
    unlink(path);
}

/* Every error is reported, at most 100, then one entry counts the rest. */
static void test_validation_error_cap(void **state) {
    (void)state;
    mp_server *s = test_start(NULL);
    size_t cap = 64 * 1024;
    char *body = malloc(cap);
    size_t n = (size_t)snprintf(body, cap, "{\"environment\":\"development\",\"user_identities\":"
                                           "{\"customer_id\":\"c\"},\"events\":[");
    for (int i = 0; i < 150; i++)
        n += (size_t)snprintf(body + n, cap - n, "%s{\"event_type\":\"bad%d\",\"data\":{}}",
                              i ? "," : "", i);
    snprintf(body + n, cap - n, "]}");
    http_result r;
    assert_int_equal(http_post(s, EVENTS, body, &r), 400);
    size_t entries = 0;
    for (const char *p = r.body; (p = strstr(p, "\"code\":\"BAD_REQUEST\"")) != NULL; p++)
        entries++;
    assert_int_equal(entries, 101);
    assert_non_null(strstr(r.body, "\"events[99].event_type: unknown event_type \\\"bad99\\\"\""));
    assert_null(strstr(r.body, "events[100]"));
    assert_non_null(strstr(r.body, "\"(request): 50 more errors not shown\"}]}"));
    http_result_free(&r);
    free(body);
    mp_serve_stop(s);
}

static void test_content_encoding(void **state) {
    (void)state;
    mp_server *s = test_start(NULL);
    http_opts gz = {.header = "Content-Encoding: gzip"};
    http_result r;
    char v[64];
    http_request(mp_serve_url(s), EVENTS, "\x1f\x8b", 2, &gz, &r);
    assert_int_equal(r.status, 415);
    assert_string_equal(http_header(&r, "Accept-Encoding", v, sizeof v), "identity");
    assert_non_null(strstr(r.body, "Content-Encoding is not supported"));
    http_result_free(&r);
    http_opts id = {.header = "Content-Encoding: identity"};
    http_request(mp_serve_url(s), EVENTS, BATCH(NULL), strlen(BATCH(NULL)), &id, &r);
    assert_int_equal(r.status, 202);
    http_result_free(&r);
    mp_serve_stop(s);
}

/* ------------------------------------------------------------------------ */
/* Limits                                                                   */
/* ------------------------------------------------------------------------ */

/* A valid batch padded to exactly `size` bytes with a long user attribute
 * value split over many attributes (each under 4096 characters). */
static char *padded_batch(size_t size, const char *id) {
    char *b = malloc(size + 1);
    char head[256];
    int n = snprintf(head, sizeof head,
                     "{\"environment\":\"development\",\"source_request_id\":\"%s\","
                     "\"user_identities\":{\"customer_id\":\"c\"},\"user_attributes\":{",
                     id);
    memcpy(b, head, (size_t)n);
    size_t pos = (size_t)n;
    int attr = 0;
    while (size - pos > 4200) {
        pos += (size_t)sprintf(b + pos, "%s\"a%03d\":\"", attr ? "," : "", attr);
        memset(b + pos, 'x', 4000);
        pos += 4000;
        b[pos++] = '"';
        attr++;
    }
    /* The last attribute takes what is left, minus the closing `"}}`. */
    pos += (size_t)sprintf(b + pos, "%s\"z\":\"", attr ? "," : "");
    size_t fill = size - pos - 3;
    memset(b + pos, 'y', fill);
    pos += fill;
    memcpy(b + pos, "\"}}", 4);
    return b;
}

static void test_limits_request_size(void **state) {
    (void)state;
    mp_server *s = test_start(NULL);
    /* 300 KB: over 256 KB whatever is inside. */
    size_t len = 300 * 1024;
    char *body = malloc(len);
    memset(body, ' ', len);
    body[0] = '[';
    body[len - 1] = ']';
    http_result r;
    http_opts o = {.no_expect = 1};
    http_request(mp_serve_url(s), BULK, body, len, &o, &r);
    assert_int_equal(r.status, 413);
    assert_string_equal(r.body, "{\"errors\":[{\"code\":\"BAD_REQUEST\",\"message\":\"(request): "
                                "the body is 307200 bytes, over the limit of 262144 bytes\"}]}");
    http_result_free(&r);
    /* Chunked, so no Content-Length to refuse early: read through, then refused. */
    http_opts chunked = {.chunked = 1, .no_expect = 1};
    http_request(mp_serve_url(s), BULK, body, len, &chunked, &r);
    assert_int_equal(r.status, 413);
    assert_string_equal(r.body, "{\"errors\":[{\"code\":\"BAD_REQUEST\",\"message\":\"(request): "
                                "the body is over the limit of 262144 bytes\"}]}");
    http_result_free(&r);
    /* Exactly 256 KB is not over: it gets as far as the batches. */
    http_request(mp_serve_url(s), BULK, body, 256 * 1024, &o, &r);
    assert_int_equal(r.status, 400);
    http_result_free(&r);
    free(body);
    assert_int_equal(test_stats(s).by_status[413], 2);
    mp_serve_stop(s);
}

static void test_limits_batch_size(void **state) {
    (void)state;
    mp_server *s = test_start(NULL);
    http_result r;
    char *big = padded_batch(128 * 1024 + 1, "big");
    assert_int_equal(http_post(s, EVENTS, big, &r), 413);
    assert_string_equal(r.body, "{\"errors\":[{\"code\":\"BAD_REQUEST\",\"message\":\"(batch): "
                                "the batch is 131073 bytes, over the limit of 131072 bytes\"}]}");
    http_result_free(&r);

    /* In a bulk request the index says which batch. */
    size_t cap = 140 * 1024;
    char *bulk = malloc(cap);
    snprintf(bulk, cap, "[%s,%s]", BATCH("small"), big);
    assert_int_equal(http_post(s, BULK, bulk, &r), 413);
    assert_string_equal(r.body, "{\"errors\":[{\"code\":\"BAD_REQUEST\",\"message\":\"[1]: "
                                "the batch is 131073 bytes, over the limit of 131072 bytes\"}]}");
    http_result_free(&r);
    free(big);

    /* Exactly 128 KB is accepted. */
    char *fits = padded_batch(128 * 1024, "fits");
    assert_int_equal(http_post(s, EVENTS, fits, &r), 202);
    http_result_free(&r);
    free(fits);
    free(bulk);
    mp_serve_stats st = test_stats(s);
    assert_int_equal(st.rejected, 3);
    assert_int_equal(st.accepted, 1);
    mp_serve_stop(s);
}

static char *bulk_of(size_t count) {
    size_t cap = count * 300 + 16;
    char *body = malloc(cap);
    size_t n = 0;
    body[n++] = '[';
    for (size_t i = 0; i < count; i++) {
        char id[32];
        snprintf(id, sizeof id, "b%zu", i);
        n += (size_t)snprintf(body + n, cap - n, "%s%s", i ? "," : "",
                              test_batch(batch_buf, sizeof batch_buf, id));
    }
    body[n++] = ']';
    body[n] = '\0';
    return body;
}

static void test_limits_batch_count(void **state) {
    (void)state;
    mp_server *s = test_start(NULL);
    http_result r;
    char *hundred = bulk_of(100);
    assert_int_equal(http_post(s, BULK, hundred, &r), 202);
    http_result_free(&r);
    char *over = bulk_of(101);
    assert_int_equal(http_post(s, BULK, over, &r), 413);
    assert_string_equal(r.body, "{\"errors\":[{\"code\":\"BAD_REQUEST\",\"message\":\"(request): "
                                "101 batches in one request, over the limit of 100\"}]}");
    http_result_free(&r);
    mp_serve_stats st = test_stats(s);
    assert_int_equal(st.accepted, 100);
    assert_int_equal(st.rejected, 101);
    mp_serve_stop(s);

    /* The status and the limits are options. */
    mp_serve_options o = {.limit_status = 400, .max_batches = 2, .max_request_bytes = 4096};
    s = test_start(&o);
    char *three = bulk_of(3);
    assert_int_equal(http_post(s, BULK, three, &r), 400);
    assert_non_null(strstr(r.body, "3 batches in one request, over the limit of 2"));
    http_result_free(&r);
    char *ten = bulk_of(30); /* over 4 KB */
    assert_int_equal(http_post(s, BULK, ten, &r), 400);
    char expected[160];
    snprintf(expected, sizeof expected, "the body is %zu bytes, over the limit of 4096 bytes\"",
             strlen(ten));
    assert_non_null(strstr(r.body, expected));
    http_result_free(&r);
    mp_serve_stop(s);
    free(hundred);
    free(over);
    free(three);
    free(ten);
}

/* ------------------------------------------------------------------------ */
/* Deduplication and the record                                             */
/* ------------------------------------------------------------------------ */

static void test_dedup(void **state) {
    (void)state;
    char path[256];
    test_temp_path(path, sizeof path, "dedup");
    mp_serve_options o = {.api_key = NULL, .record_path = path};
    mp_server *s = NULL;
    char err[128];
    assert_int_equal(mp_serve_start(&o, &s, err, sizeof err), MP_OK);
    http_result r;
    http_opts key_a = {.userpwd = "key-a:s"}, key_b = {.userpwd = "key-b:s"};
    const char *b = BATCH("req-1");
    for (int i = 0; i < 2; i++) {
        http_request(mp_serve_url(s), EVENTS, b, strlen(b), &key_a, &r);
        assert_int_equal(r.status, 202);
        http_result_free(&r);
    }
    /* Scoped per API key: the same id under another key is new. */
    http_request(mp_serve_url(s), EVENTS, b, strlen(b), &key_b, &r);
    assert_int_equal(r.status, 202);
    http_result_free(&r);
    /* Inside one bulk request too. */
    char bulk[2200], b2[1024];
    snprintf(bulk, sizeof bulk, "[%s,%s]", BATCH("req-2"), test_batch(b2, sizeof b2, "req-2"));
    http_request(mp_serve_url(s), BULK, bulk, strlen(bulk), &key_a, &r);
    assert_int_equal(r.status, 202);
    http_result_free(&r);
    /* Batches without an id are never duplicates. */
    for (int i = 0; i < 2; i++) {
        http_request(mp_serve_url(s), EVENTS, BATCH(NULL), strlen(BATCH(NULL)), &key_a, &r);
        assert_int_equal(r.status, 202);
        http_result_free(&r);
    }

    mp_serve_stats st = test_stats(s);
    assert_int_equal(st.received, 7);
    assert_int_equal(st.accepted, 5);
    assert_int_equal(st.duplicates, 2);
    assert_int_equal(st.by_status[202], 6);

    char expected[8192];
    char l1[1024], l2[1024], l3[1024];
    test_batch(l1, sizeof l1, "req-1");
    test_batch(l2, sizeof l2, "req-2");
    test_batch(l3, sizeof l3, NULL);
    snprintf(expected, sizeof expected, "%s\n%s\n%s\n%s\n%s\n", l1, l1, l2, l3, l3);
    char *rec = test_read_file(path, NULL);
    assert_string_equal(rec, expected);
    free(rec);
    mp_serve_stop(s);
    unlink(path);
}

/* Past its capacity the set forgets the oldest id first. */
static void test_dedup_eviction(void **state) {
    (void)state;
    mp_serve_options o = {.dedup_capacity = 2};
    mp_server *s = test_start(&o);
    const char *ids[] = {"a", "b", "c", "a", "c"};
    for (size_t i = 0; i < 5; i++) {
        http_result r;
        assert_int_equal(http_post(s, EVENTS, BATCH(ids[i]), &r), 202);
        http_result_free(&r);
    }
    /* a, b, c accepted; a was forgotten when c came, so accepted again
     * (and b forgotten); c is still remembered. */
    mp_serve_stats st = test_stats(s);
    assert_int_equal(st.accepted, 4);
    assert_int_equal(st.duplicates, 1);
    mp_serve_stop(s);
}

static void test_record_exact_bytes(void **state) {
    (void)state;
    char path[256];
    test_temp_path(path, sizeof path, "record");
    mp_serve_options o = {.record_path = path};
    mp_server *s = test_start(&o);
    /* Unusual spacing, key order, escapes and a line break between tokens. */
    const char *first = "{ \"user_identities\" : {\"customer_id\":\"\\u00e9\\n\"},\r\n"
                        "  \"environment\":\"production\" }";
    const char *second = "{\"environment\":\"development\",\"user_identities\":{\"email\":"
                         "\"a@b.c\"},\"events\":[ ]}";
    char body[1024];
    snprintf(body, sizeof body, "\xEF\xBB\xBF \n[ %s ,\n\t%s\n]\n", first, second);
    http_result r;
    assert_int_equal(http_post(s, BULK, body, &r), 202);
    http_result_free(&r);
    /* The record can be read while the server runs: flushed per request. */
    char *rec = test_read_file(path, NULL);
    assert_string_equal(rec,
                        "{ \"user_identities\" : {\"customer_id\":\"\\u00e9\\n\"},  "
                        "  \"environment\":\"production\" }\n"
                        "{\"environment\":\"development\",\"user_identities\":{\"email\":"
                        "\"a@b.c\"},\"events\":[ ]}\n");
    free(rec);

    /* A single batch: the object without the whitespace around it. */
    snprintf(body, sizeof body, "\n  %s  \n", second);
    assert_int_equal(http_post(s, EVENTS, body, &r), 202);
    http_result_free(&r);
    /* Rejected batches are not recorded. */
    assert_int_equal(http_post(s, EVENTS, "{\"environment\":1}", &r), 400);
    http_result_free(&r);
    size_t len;
    rec = test_read_file(path, &len);
    size_t lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += rec[i] == '\n';
    assert_int_equal(lines, 3);
    assert_non_null(strstr(rec, "}\n{\"environment\":\"development\",\"user_identities\":{"
                                "\"email\":\"a@b.c\"},\"events\":[ ]}\n"));
    free(rec);
    mp_serve_stop(s);

    /* Appends: a second server adds to the same file. */
    s = test_start(&o);
    assert_int_equal(http_post(s, EVENTS, second, &r), 202);
    http_result_free(&r);
    mp_serve_stop(s);
    rec = test_read_file(path, &len);
    lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += rec[i] == '\n';
    assert_int_equal(lines, 4);
    free(rec);
    unlink(path);
}

/* ------------------------------------------------------------------------ */
/* Rate limiting                                                            */
/* ------------------------------------------------------------------------ */

static void test_rate_limit(void **state) {
    (void)state;
    /* A slow refill (one token per 100 s), so that the time the requests
     * take cannot change the figures: 25%, 50%, 75%, 100% of 4 tokens. */
    mp_serve_options o = {.rate_limit = 0.01, .burst = 4};
    mp_server *s = test_start(&o);
    http_result r;
    char v[128];
    const char *expected[] = {"25", "50", "75", "100"};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(http_post(s, EVENTS, BATCH(NULL), &r), 202);
        assert_string_equal(http_header(&r, "X-mp-rate-limit-percentage-used", v, sizeof v),
                            expected[i]);
        http_result_free(&r);
    }
    assert_int_equal(http_post(s, EVENTS, BATCH(NULL), &r), 429);
    /* One token at 0.01/s: 100 s, less what trickled in meanwhile. */
    assert_non_null(http_header(&r, "Retry-After", v, sizeof v));
    int wait = atoi(v);
    assert_true(wait >= 90 && wait <= 100);
    assert_string_equal(http_header(&r, "X-mp-rate-limit-exceeded", v, sizeof v), "app");
    assert_null(http_header(&r, "X-mp-rate-limit-percentage-used", v, sizeof v));
    http_result_free(&r);
    mp_serve_stats st = test_stats(s);
    assert_int_equal(st.throttled, 1);
    assert_int_equal(st.by_status[429], 1);
    assert_int_equal(st.received, 4); /* throttled batches were not looked at */
    mp_serve_stop(s);

    /* One batch per second: the next one in 1 s. */
    mp_serve_options one = {.rate_limit = 1};
    s = test_start(&one);
    assert_int_equal(http_post(s, EVENTS, BATCH(NULL), &r), 202);
    assert_string_equal(http_header(&r, "X-mp-rate-limit-percentage-used", v, sizeof v), "100");
    http_result_free(&r);
    assert_int_equal(http_post(s, EVENTS, BATCH(NULL), &r), 429);
    assert_string_equal(http_header(&r, "Retry-After", v, sizeof v), "1");
    http_result_free(&r);
    mp_serve_stop(s);
}

/* Tokens are batches: a bulk request bigger than the bucket passes when it
 * is full and leaves a debt that the next request waits out. */
static void test_rate_limit_counts_batches(void **state) {
    (void)state;
    mp_serve_options o = {.rate_limit = 2, .burst = 2, .rate_limit_scope = "workspace"};
    mp_server *s = test_start(&o);
    http_result r;
    char v[128];
    char *five = bulk_of(5);
    assert_int_equal(http_post(s, BULK, five, &r), 202);
    assert_string_equal(http_header(&r, "X-mp-rate-limit-percentage-used", v, sizeof v), "100");
    http_result_free(&r);
    /* -3 tokens: one more batch needs 4 more tokens, 2 seconds. */
    assert_int_equal(http_post(s, EVENTS, BATCH(NULL), &r), 429);
    assert_string_equal(http_header(&r, "Retry-After", v, sizeof v), "2");
    assert_string_equal(http_header(&r, "X-mp-rate-limit-exceeded", v, sizeof v), "workspace");
    http_result_free(&r);
    free(five);
    mp_serve_stop(s);
}

static void test_retry_after_forms(void **state) {
    (void)state;
    http_result r;
    char v[128];
    /* HTTP-date: the same delay as a date. */
    mp_serve_options date = {.rate_limit = 1, .retry_after = MP_SERVE_RETRY_AFTER_HTTP_DATE};
    mp_server *s = test_start(&date);
    assert_int_equal(http_post(s, EVENTS, BATCH(NULL), &r), 202);
    http_result_free(&r);
    time_t before = time(NULL);
    assert_int_equal(http_post(s, EVENTS, BATCH(NULL), &r), 429);
    assert_non_null(http_header(&r, "Retry-After", v, sizeof v));
    assert_non_null(strstr(v, " GMT"));
    time_t when = curl_getdate(v, NULL);
    assert_true(when >= before + 1 && when <= time(NULL) + 1);
    http_result_free(&r);
    /* Scripted 503s use the same form. */
    int script[] = {503};
    assert_int_equal(mp_serve_push_script(s, script, 1), MP_OK);
    assert_int_equal(http_post(s, EVENTS, BATCH(NULL), &r), 503);
    assert_non_null(strstr(http_header(&r, "Retry-After", v, sizeof v), " GMT"));
    http_result_free(&r);
    mp_serve_stop(s);

    /* none: no header at all, on 429 and 503. */
    mp_serve_options none = {.rate_limit = 1, .retry_after = MP_SERVE_RETRY_AFTER_NONE};
    s = test_start(&none);
    assert_int_equal(http_post(s, EVENTS, BATCH(NULL), &r), 202);
    http_result_free(&r);
    assert_int_equal(http_post(s, EVENTS, BATCH(NULL), &r), 429);
    assert_null(http_header(&r, "Retry-After", v, sizeof v));
    assert_string_equal(http_header(&r, "X-mp-rate-limit-exceeded", v, sizeof v), "app");
    http_result_free(&r);
    assert_int_equal(mp_serve_push_script(s, script, 1), MP_OK);
    assert_int_equal(http_post(s, EVENTS, BATCH(NULL), &r), 503);
    assert_null(http_header(&r, "Retry-After", v, sizeof v));
    http_result_free(&r);
    mp_serve_stop(s);
}

/* ------------------------------------------------------------------------ */
/* Faults                                                                   */
/* ------------------------------------------------------------------------ */

static void test_script(void **state) {
    (void)state;
    char path[256];
    test_temp_path(path, sizeof path, "script");
    int first[] = {503, 429};
    mp_serve_options o = {.script = first, .script_len = 2, .retry_after_seconds = 7,
                          .record_path = path};
    mp_server *s = test_start(&o);
    int more[] = {400, 500, 202, MP_SERVE_SCRIPT_RESET, 202};
    assert_int_equal(mp_serve_push_script(s, more, 5), MP_OK);
    http_result r;
    char v[128];

    /* Requests refused before the script (404, 401) do not use it up. */
    assert_int_equal(http_post(s, "/elsewhere", BATCH(NULL), &r), 404);
    http_result_free(&r);

    assert_int_equal(http_post(s, EVENTS, BATCH("s1"), &r), 503);
    assert_string_equal(http_header(&r, "Retry-After", v, sizeof v), "7");
    assert_null(http_header(&r, "X-mp-rate-limit-exceeded", v, sizeof v));
    http_result_free(&r);
    assert_int_equal(http_post(s, EVENTS, BATCH("s1"), &r), 429);
    assert_string_equal(http_header(&r, "Retry-After", v, sizeof v), "7");
    assert_string_equal(http_header(&r, "X-mp-rate-limit-exceeded", v, sizeof v), "app");
    http_result_free(&r);
    assert_int_equal(http_post(s, EVENTS, BATCH("s1"), &r), 400);
    assert_string_equal(r.body, "{\"errors\":[{\"code\":\"BAD_REQUEST\",\"message\":\"(request): "
                                "failure injected by the server's script\"}]}");
    http_result_free(&r);
    assert_int_equal(http_post(s, EVENTS, BATCH("s1"), &r), 500);
    assert_null(http_header(&r, "Retry-After", v, sizeof v));
    http_result_free(&r);
    /* A 2xx entry handles the request normally: an invalid batch still gets 400. */
    assert_int_equal(http_post(s, EVENTS, "{}", &r), 400);
    http_result_free(&r);
    http_post(s, EVENTS, BATCH("s1"), &r);
    assert_int_equal(r.code, CURLE_GOT_NOTHING);
    http_result_free(&r);
    assert_int_equal(http_post(s, EVENTS, BATCH("s1"), &r), 202);
    http_result_free(&r);
    /* Script over: normal behaviour. */
    assert_int_equal(http_post(s, EVENTS, BATCH("s2"), &r), 202);
    http_result_free(&r);

    mp_serve_stats st = test_stats(s);
    assert_int_equal(st.resets, 1);
    assert_int_equal(st.accepted, 2);
    assert_int_equal(st.by_status[503], 1);
    assert_int_equal(st.by_status[429], 1);
    assert_int_equal(st.throttled, 0); /* a scripted 429 is not the rate limiter's */
    char *rec = test_read_file(path, NULL);
    char expected[2100], b2[1024];
    snprintf(expected, sizeof expected, "%s\n%s\n", BATCH("s1"), test_batch(b2, sizeof b2, "s2"));
    assert_string_equal(rec, expected);
    free(rec);

    int bad[] = {202, 99};
    assert_int_equal(mp_serve_push_script(s, bad, 2), MP_ERR_INVALID_ARGUMENT);
    int big[] = {600};
    assert_int_equal(mp_serve_push_script(s, big, 1), MP_ERR_INVALID_ARGUMENT);
    assert_int_equal(mp_serve_push_script(NULL, first, 1), MP_ERR_INVALID_ARGUMENT);
    /* The rejected pushes added nothing. */
    assert_int_equal(http_post(s, EVENTS, BATCH("s3"), &r), 202);
    http_result_free(&r);
    mp_serve_stop(s);
    unlink(path);
}

/* The statuses of n requests to a server with these options. */
static void statuses_of(mp_serve_options *o, int n, long *out) {
    mp_server *s = test_start(o);
    for (int i = 0; i < n; i++) {
        http_result r;
        http_post(s, EVENTS, BATCH(NULL), &r);
        out[i] = r.code == CURLE_GOT_NOTHING ? -1 : r.status;
        http_result_free(&r);
    }
    mp_serve_stop(s);
}

static void test_fail_rate_seeded(void **state) {
    (void)state;
    enum { N = 40 };
    long a[N], b[N], c[N];
    mp_serve_options o = {.fail_rate = 0.5, .seed = 42};
    statuses_of(&o, N, a);
    statuses_of(&o, N, b);
    o.seed = 43;
    statuses_of(&o, N, c);
    assert_memory_equal(a, b, sizeof a);
    assert_memory_not_equal(a, c, sizeof a);
    int ok = 0, failed = 0;
    for (int i = 0; i < N; i++) {
        if (a[i] == 202)
            ok++;
        else {
            assert_true(a[i] == 500 || a[i] == 502 || a[i] == 503 || a[i] == 504);
            failed++;
        }
    }
    /* 40 draws at p = 0.5: both outcomes occur (fixed by the seed). */
    assert_true(ok >= 5 && failed >= 5);

    mp_serve_options always = {.fail_rate = 1};
    statuses_of(&always, 10, a);
    for (int i = 0; i < 10; i++)
        assert_true(a[i] >= 500 && a[i] <= 504 && a[i] != 501);
}

static void test_reset_rate(void **state) {
    (void)state;
    mp_serve_options o = {.reset_rate = 1};
    mp_server *s = test_start(&o);
    http_result r;
    http_post(s, EVENTS, BATCH(NULL), &r);
    assert_int_equal(r.code, CURLE_GOT_NOTHING);
    assert_int_equal(r.status, 0);
    http_result_free(&r);
    mp_serve_stats st = test_stats(s);
    assert_int_equal(st.resets, 1);
    assert_int_equal(st.requests, 1);
    mp_serve_stop(s);

    long seq1[30], seq2[30];
    mp_serve_options half = {.reset_rate = 0.3, .fail_rate = 0.3, .seed = 7};
    statuses_of(&half, 30, seq1);
    statuses_of(&half, 30, seq2);
    assert_memory_equal(seq1, seq2, sizeof seq1);
    int resets = 0;
    for (int i = 0; i < 30; i++)
        resets += seq1[i] == -1;
    assert_true(resets > 0 && resets < 30);
}

static void test_latency(void **state) {
    (void)state;
    mp_serve_options o = {.latency_ms = 400};
    mp_server *s = test_start(&o);
    http_result r;
    http_opts quick = {.timeout_ms = 150};
    http_request(mp_serve_url(s), EVENTS, BATCH(NULL), strlen(BATCH(NULL)), &quick, &r);
    assert_int_equal(r.code, CURLE_OPERATION_TIMEDOUT);
    http_result_free(&r);
    assert_int_equal(http_post(s, EVENTS, BATCH(NULL), &r), 202);
    assert_true(r.seconds >= 0.4);
    http_result_free(&r);
    /* Early answers (401) are not delayed. */
    http_opts anon = {.userpwd = ""};
    http_request(mp_serve_url(s), EVENTS, BATCH(NULL), strlen(BATCH(NULL)), &anon, &r);
    assert_int_equal(r.status, 401);
    assert_true(r.seconds < 0.4);
    http_result_free(&r);
    mp_serve_stop(s);
}

/* ------------------------------------------------------------------------ */
/* Sink mode, stats, start errors                                           */
/* ------------------------------------------------------------------------ */

static void test_sink(void **state) {
    (void)state;
    mp_serve_options o = {.sink = 1};
    mp_server *s = test_start(&o);
    http_result r;
    char v[64];
    assert_int_equal(http_post(s, EVENTS, "this is not JSON", &r), 202);
    assert_string_equal(http_header(&r, "X-mp-rate-limit-percentage-used", v, sizeof v), "0");
    http_result_free(&r);
    assert_int_equal(http_post(s, BULK, "{}", &r), 202);
    http_result_free(&r);
    http_opts anon = {.userpwd = ""};
    http_request(mp_serve_url(s), EVENTS, "x", 1, &anon, &r);
    assert_int_equal(r.status, 401);
    http_result_free(&r);
    http_opts get = {.method = "GET"};
    http_request(mp_serve_url(s), EVENTS, NULL, 0, &get, &r);
    assert_int_equal(r.status, 405);
    http_result_free(&r);
    assert_int_equal(http_post(s, "/x", "x", &r), 404);
    http_result_free(&r);
    mp_serve_stats st = test_stats(s);
    assert_int_equal(st.requests, 5);
    assert_int_equal(st.by_status[202], 2);
    assert_int_equal(st.received, 0);
    mp_serve_reset_stats(s);
    st = test_stats(s);
    assert_int_equal(st.requests, 0);
    assert_int_equal(st.by_status[202], 0);
    mp_serve_stop(s);

    /* Sink with a rate limit: one token per request. */
    mp_serve_options limited = {.sink = 1, .rate_limit = 1};
    s = test_start(&limited);
    assert_int_equal(http_post(s, BULK, "[1,2,3]", &r), 202);
    http_result_free(&r);
    assert_int_equal(http_post(s, BULK, "[1,2,3]", &r), 429);
    http_result_free(&r);
    mp_serve_stop(s);
}

static void expect_start_error(mp_serve_options *o, mp_error code, const char *text) {
    mp_server *s = (mp_server *)(uintptr_t)1;
    char err[256];
    assert_int_equal(mp_serve_start(o, &s, err, sizeof err), code);
    assert_null(s);
    if (!strstr(err, text))
        fail_msg("error '%s' does not say '%s'", err, text);
}

static void test_start_errors(void **state) {
    (void)state;
    mp_serve_options o = {.api_key = "k"};
    expect_start_error(&o, MP_ERR_INVALID_ARGUMENT, "needs a secret");
    o = (mp_serve_options){.api_key = "", .api_secret = "s"};
    expect_start_error(&o, MP_ERR_INVALID_ARGUMENT, "non-empty");
    o = (mp_serve_options){.fail_rate = 1.5};
    expect_start_error(&o, MP_ERR_INVALID_ARGUMENT, "between 0 and 1");
    o = (mp_serve_options){.reset_rate = -0.1};
    expect_start_error(&o, MP_ERR_INVALID_ARGUMENT, "between 0 and 1");
    o = (mp_serve_options){.rate_limit = -1};
    expect_start_error(&o, MP_ERR_INVALID_ARGUMENT, "rate_limit");
    o = (mp_serve_options){.rate_limit = 10, .burst = 0.5};
    expect_start_error(&o, MP_ERR_INVALID_ARGUMENT, "burst");
    o = (mp_serve_options){.limit_status = 99};
    expect_start_error(&o, MP_ERR_INVALID_ARGUMENT, "not an HTTP status");
    int script[] = {503, 1000};
    o = (mp_serve_options){.script = script, .script_len = 2};
    expect_start_error(&o, MP_ERR_INVALID_ARGUMENT, "script entry 1 (1000)");
    o = (mp_serve_options){.sink = 1, .record_path = "/tmp/x"};
    expect_start_error(&o, MP_ERR_INVALID_ARGUMENT, "cannot record");
    o = (mp_serve_options){.record_path = "/nonexistent-dir/record.ndjson"};
    expect_start_error(&o, MP_ERR_IO, "cannot open the record file /nonexistent-dir/record.ndjson");
    o = (mp_serve_options){.host = "not a host name"};
    expect_start_error(&o, MP_ERR_IO, "cannot resolve not a host name");

    /* A port in use. */
    mp_server *first = test_start(NULL);
    o = (mp_serve_options){.port = mp_serve_port(first)};
    expect_start_error(&o, MP_ERR_IO, "cannot listen on 127.0.0.1 port");
    mp_serve_stop(first);
    mp_serve_stop(NULL);
}

static void test_url_and_port(void **state) {
    (void)state;
    mp_server *s = test_start(NULL);
    char expected[64];
    snprintf(expected, sizeof expected, "http://127.0.0.1:%u", (unsigned)mp_serve_port(s));
    assert_true(mp_serve_port(s) > 0);
    assert_string_equal(mp_serve_url(s), expected);
    mp_serve_stop(s);

    /* IPv6 loopback, where the machine has it. */
    mp_serve_options v6 = {.host = "::1", .api_key = TEST_KEY, .api_secret = TEST_SECRET};
    char err[256];
    if (mp_serve_start(&v6, &s, err, sizeof err) == MP_OK) {
        snprintf(expected, sizeof expected, "http://[::1]:%u", (unsigned)mp_serve_port(s));
        assert_string_equal(mp_serve_url(s), expected);
        http_result r;
        assert_int_equal(http_post(s, EVENTS, BATCH(NULL), &r), 202);
        http_result_free(&r);
        mp_serve_stop(s);
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
        cmocka_unit_test(test_routes_accept),
        cmocka_unit_test(test_routes_not_found),
        cmocka_unit_test(test_routes_method_not_allowed),
        cmocka_unit_test(test_auth_configured),
        cmocka_unit_test(test_auth_any_credentials),
        cmocka_unit_test(test_auth_docs_example),
        cmocka_unit_test(test_validation_errors),
        cmocka_unit_test(test_validation_malformed),
        cmocka_unit_test(test_validation_historical_rules),
        cmocka_unit_test(test_validation_bulk_partial),
        cmocka_unit_test(test_validation_error_cap),
        cmocka_unit_test(test_content_encoding),
        cmocka_unit_test(test_limits_request_size),
        cmocka_unit_test(test_limits_batch_size),
        cmocka_unit_test(test_limits_batch_count),
        cmocka_unit_test(test_dedup),
        cmocka_unit_test(test_dedup_eviction),
        cmocka_unit_test(test_record_exact_bytes),
        cmocka_unit_test(test_rate_limit),
        cmocka_unit_test(test_rate_limit_counts_batches),
        cmocka_unit_test(test_retry_after_forms),
        cmocka_unit_test(test_script),
        cmocka_unit_test(test_fail_rate_seeded),
        cmocka_unit_test(test_reset_rate),
        cmocka_unit_test(test_latency),
        cmocka_unit_test(test_sink),
        cmocka_unit_test(test_start_errors),
        cmocka_unit_test(test_url_and_port),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

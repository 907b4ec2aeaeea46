/* The client end to end: the real libcurl transport against `mparticle
 * serve` started in-process on a free port (include/mparticle/serve.h).
 * Every answer the API gives, made by the server's script and options:
 * 202, 400 with its errors, 401 and 403, 429 with Retry-After in seconds,
 * as an HTTP-date and absent, 503, latency past the client's timeout,
 * connection resets; the rate-limit gate; size limits refused before
 * anything is sent; bulk and historical uploads; and many threads on one
 * client, reusing connections, under random faults, with exactly one
 * recorded copy of every batch.
 *
 * Run under ASan+UBSan and TSan as well (see tests/client/CMakeLists.txt). */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mparticle/client.h"
#include "mparticle/codec.h"
#include "mparticle/serve.h"
#include "support/test_util.h"

#define KEY "test-key"
#define SECRET "test-secret"
#define DAY_MS (24LL * 3600 * 1000)

static int64_t clock_ms(int clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t mono_ms(void) {
    return clock_ms(CLOCK_MONOTONIC);
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* ------------------------------------------------------------------------ */
/* Server, client, batches                                                  */
/* ------------------------------------------------------------------------ */

/* Starts a server on 127.0.0.1, any port, accepting KEY/SECRET unless o says otherwise. */
static mp_server *serve(mp_serve_options o) {
    if (!o.api_key && !o.api_secret) {
        o.api_key = KEY;
        o.api_secret = SECRET;
    }
    mp_server *s = NULL;
    char err[256] = "";
    mp_error rc = mp_serve_start(&o, &s, err, sizeof err);
    if (rc != MP_OK)
        fail_msg("mp_serve_start: %s (%s)", err, mp_error_name(rc));
    assert_non_null(s);
    return s;
}

static mp_serve_stats stats_of(const mp_server *s) {
    mp_serve_stats st;
    mp_serve_stats_get(s, &st);
    return st;
}

/* A client of s over libcurl (s is not used when o sets base_url): KEY/SECRET
 * and 1-5 ms backoffs unless o sets them. */
static mp_client *client_to(const mp_server *s, mp_client_options o) {
    char base[128];
    if (!o.base_url) {
        snprintf(base, sizeof base, "%s/v2", mp_serve_url(s));
        o.base_url = base;
    }
    if (!o.api_key)
        o.api_key = KEY;
    if (!o.api_secret)
        o.api_secret = SECRET;
    if (!o.backoff_initial_ms)
        o.backoff_initial_ms = 1;
    if (!o.backoff_max_ms)
        o.backoff_max_ms = 5;
    mp_client *c = NULL;
    mp_diag *d = mp_diag_new();
    mp_error err = mp_client_new(&o, &c, d);
    if (err != MP_OK)
        fail_msg("mp_client_new: %s (%s)", mp_error_name(err),
                 mp_diag_count(d) ? mp_diag_get(d, 0)->message : "");
    mp_diag_free(d);
    return c;
}

static const mp_user_identities test_ids = {.customer_id = "1234"};
static const mp_event test_event = {
    .event_type = MP_EVENT_CUSTOM_EVENT,
    .custom_event = {.custom_event_type = MP_CUSTOM_EVENT_TYPE_NAVIGATION,
                     .event_name = "Test event"},
};

static mp_batch test_batch(void) {
    mp_batch b;
    memset(&b, 0, sizeof b);
    b.environment = MP_ENVIRONMENT_DEVELOPMENT;
    b.user_identities = &test_ids;
    b.events.items = &test_event;
    b.events.count = 1;
    return b;
}

/* A record file: a fresh temporary path, removed by record_done(). */
typedef struct record {
    char path[256];
} record;

static void record_init(record *r) {
    const char *dir = getenv("TMPDIR");
    snprintf(r->path, sizeof r->path, "%s/mp-client-serve-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(r->path);
    assert_true(fd >= 0);
    close(fd);
}

static void record_done(record *r) {
    remove(r->path);
}

/* The recorded lines, each decoded (one batch per line). */
typedef struct lines {
    char *text;
    size_t count;
    char *line[512];
} lines;

static void lines_read(const record *r, lines *out) {
    size_t len = 0;
    out->text = mp_test_read_file(r->path, &len);
    assert_non_null(out->text);
    out->count = 0;
    char *p = out->text;
    while (*p) {
        char *nl = strchr(p, '\n');
        assert_non_null(nl); /* every record ends its line */
        *nl = '\0';
        assert_true(out->count < 512);
        out->line[out->count++] = p;
        p = nl + 1;
    }
}

/* source_request_id of a recorded line (decoded with the SDK), copied into out. */
static void line_id(const char *line, char *out, size_t cap) {
    mp_document *doc = NULL;
    assert_int_equal(mp_decode(line, strlen(line), &doc, NULL), MP_OK);
    assert_int_equal(mp_document_count(doc), 1);
    const char *id = mp_document_batch(doc, 0)->source_request_id;
    assert_non_null(id);
    snprintf(out, cap, "%s", id);
    mp_document_free(doc);
}

/* ------------------------------------------------------------------------ */
/* Statuses                                                                 */
/* ------------------------------------------------------------------------ */

static void test_accepted_and_recorded(void **state) {
    (void)state;
    record rec;
    record_init(&rec);
    mp_server *s = serve((mp_serve_options){.record_path = rec.path});
    mp_client *c = client_to(s, (mp_client_options){0});
    mp_batch batch = test_batch();
    mp_result r = {0};

    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_OK);
    assert_int_equal(r.status, 202);
    assert_int_equal(r.outcome, MP_OUTCOME_ACCEPTED);
    assert_int_equal(r.attempts, 1);
    assert_int_equal(r.rate_limit_percentage_used, 0);
    mp_serve_stats st = stats_of(s);
    assert_int_equal(st.requests, 1);
    assert_int_equal(st.accepted, 1);

    lines l;
    lines_read(&rec, &l);
    assert_int_equal(l.count, 1);
    char id[64];
    line_id(l.line[0], id, sizeof id);
    assert_string_equal(id, r.source_request_id);
    free(l.text);

    mp_result_clear(&r);
    mp_client_free(c);
    mp_serve_stop(s);
    record_done(&rec);
}

/* The server's own validation answers 400 with the API's error body. */
static void test_400_errors_from_the_server(void **state) {
    (void)state;
    mp_server *s = serve((mp_serve_options){0});
    mp_client *c = client_to(s, (mp_client_options){.skip_validation = 1});
    mp_batch batch = test_batch();
    batch.environment = MP_ENVIRONMENT_UNSET;
    mp_result r = {0};

    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_ERR_HTTP);
    assert_int_equal(r.status, 400);
    assert_int_equal(r.outcome, MP_OUTCOME_REJECTED);
    assert_int_equal(r.attempts, 1);
    assert_true(r.error_count >= 1);
    assert_string_equal(r.errors[0].code, "BAD_REQUEST");
    assert_non_null(strstr(r.errors[0].message, "environment"));
    assert_non_null(r.body);
    assert_int_equal(stats_of(s).by_status[400], 1);
    assert_int_equal(stats_of(s).accepted, 0);

    mp_result_clear(&r);
    mp_client_free(c);
    mp_serve_stop(s);
}

static void test_auth_errors(void **state) {
    (void)state;
    mp_server *s = serve((mp_serve_options){0});
    mp_batch batch = test_batch();
    mp_result r = {0};

    static const struct {
        const char *key, *secret;
    } wrong[] = {{KEY, "wrong-secret"}, {"wrong-key", SECRET}};
    for (size_t i = 0; i < 2; i++) {
        mp_client *c = client_to(s, (mp_client_options){.api_key = wrong[i].key,
                                                        .api_secret = wrong[i].secret});
        assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_ERR_HTTP);
        assert_int_equal(r.status, 403);
        assert_int_equal(r.outcome, MP_OUTCOME_UNAUTHORIZED);
        assert_int_equal(r.attempts, 1);
        mp_client_free(c);
    }
    assert_int_equal(stats_of(s).by_status[403], 2);

    /* Our client always sends credentials; a 401 comes from the script. */
    mp_client *c = client_to(s, (mp_client_options){0});
    const int script[] = {401};
    assert_int_equal(mp_serve_push_script(s, script, 1), MP_OK);
    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_ERR_HTTP);
    assert_int_equal(r.status, 401);
    assert_int_equal(r.outcome, MP_OUTCOME_UNAUTHORIZED);
    assert_int_equal(r.attempts, 1);
    assert_int_equal(stats_of(s).accepted, 0);
    assert_int_equal(stats_of(s).requests, 3);

    mp_result_clear(&r);
    mp_client_free(c);
    mp_serve_stop(s);
}

/* 503, 503, 202: the same bytes three times, one recorded copy. */
static void test_retries_keep_one_copy(void **state) {
    (void)state;
    record rec;
    record_init(&rec);
    const int script[] = {503, 503, 202};
    mp_server *s = serve((mp_serve_options){.record_path = rec.path,
                                            .script = script,
                                            .script_len = 3,
                                            .retry_after = MP_SERVE_RETRY_AFTER_NONE});
    mp_client *c = client_to(s, (mp_client_options){0});
    mp_batch batch = test_batch();
    mp_result r = {0};

    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_OK);
    assert_int_equal(r.attempts, 3);
    mp_serve_stats st = stats_of(s);
    assert_int_equal(st.by_status[503], 2);
    assert_int_equal(st.by_status[202], 1);
    assert_int_equal(st.accepted, 1);

    lines l;
    lines_read(&rec, &l);
    assert_int_equal(l.count, 1);
    char id[64];
    line_id(l.line[0], id, sizeof id);
    assert_string_equal(id, r.source_request_id);
    free(l.text);

    /* Sent again (a caller's retry after a lost answer): a duplicate, not a second copy. */
    batch.source_request_id = id;
    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_OK);
    st = stats_of(s);
    assert_int_equal(st.accepted, 1);
    assert_int_equal(st.duplicates, 1);
    lines_read(&rec, &l);
    assert_int_equal(l.count, 1);
    free(l.text);

    mp_result_clear(&r);
    mp_client_free(c);
    mp_serve_stop(s);
    record_done(&rec);
}

static void test_503_until_attempts_run_out(void **state) {
    (void)state;
    const int script[] = {503, 503, 503};
    mp_server *s = serve((mp_serve_options){.script = script,
                                            .script_len = 3,
                                            .retry_after = MP_SERVE_RETRY_AFTER_NONE});
    mp_client *c = client_to(s, (mp_client_options){.max_attempts = 3});
    mp_batch batch = test_batch();
    mp_result r = {0};

    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_ERR_HTTP);
    assert_int_equal(r.status, 503);
    assert_int_equal(r.outcome, MP_OUTCOME_RETRIABLE);
    assert_int_equal(r.attempts, 3);
    assert_int_equal(stats_of(s).requests, 3);
    assert_int_equal(stats_of(s).accepted, 0);

    mp_result_clear(&r);
    mp_client_free(c);
    mp_serve_stop(s);
}

/* ------------------------------------------------------------------------ */
/* 429, Retry-After and the gate                                            */
/* ------------------------------------------------------------------------ */

static void test_retry_after_seconds_and_gate(void **state) {
    (void)state;
    const int script[] = {429};
    mp_server *s = serve((mp_serve_options){.script = script, .script_len = 1});
    mp_client *c = client_to(s, (mp_client_options){.max_attempts = 1});
    mp_batch batch = test_batch();
    mp_result r = {0};

    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_ERR_HTTP);
    assert_int_equal(r.status, 429);
    assert_int_equal(r.outcome, MP_OUTCOME_RETRIABLE);
    assert_int_equal(r.retry_after_ms, 1000);
    assert_string_equal(r.rate_limit_exceeded, "app");

    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_ERR_RATE_LIMITED);
    assert_int_equal(r.attempts, 0);
    assert_true(r.retry_after_ms > 0 && r.retry_after_ms <= 1000);
    assert_int_equal(stats_of(s).requests, 1);

    sleep_ms(1100);
    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_OK);
    assert_int_equal(stats_of(s).requests, 2);
    mp_client_free(c);

    /* Inside a call with retries: the wait is the server's, then success. */
    assert_int_equal(mp_serve_push_script(s, script, 1), MP_OK);
    c = client_to(s, (mp_client_options){.max_attempts = 2});
    int64_t t0 = mono_ms();
    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_OK);
    assert_int_equal(r.attempts, 2);
    assert_true(mono_ms() - t0 >= 950);

    mp_result_clear(&r);
    mp_client_free(c);
    mp_serve_stop(s);
}

static void test_retry_after_http_date(void **state) {
    (void)state;
    const int script[] = {429};
    mp_server *s = serve((mp_serve_options){.script = script,
                                            .script_len = 1,
                                            .retry_after = MP_SERVE_RETRY_AFTER_HTTP_DATE,
                                            .retry_after_seconds = 2});
    mp_client *c = client_to(s, (mp_client_options){.max_attempts = 1});
    mp_batch batch = test_batch();
    mp_result r = {0};

    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_ERR_HTTP);
    assert_int_equal(r.status, 429);
    /* A date 2 s after the server's current second: 1-2 s from now. */
    if (r.retry_after_ms < 500 || r.retry_after_ms > 2000)
        fail_msg("HTTP-date Retry-After gave %lld ms", (long long)r.retry_after_ms);
    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_ERR_RATE_LIMITED);
    assert_int_equal(stats_of(s).requests, 1);

    mp_result_clear(&r);
    mp_client_free(c);
    mp_serve_stop(s);
}

/* No Retry-After: the client backs off on its own and sets no gate. */
static void test_retry_after_absent(void **state) {
    (void)state;
    const int script[] = {429, 202, 429};
    mp_server *s = serve((mp_serve_options){.script = script,
                                            .script_len = 3,
                                            .retry_after = MP_SERVE_RETRY_AFTER_NONE});
    mp_client *c =
        client_to(s, (mp_client_options){.max_attempts = 3, .backoff_initial_ms = 20});
    mp_batch batch = test_batch();
    mp_result r = {0};

    int64_t t0 = mono_ms();
    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_OK);
    assert_int_equal(r.attempts, 2);
    assert_true(mono_ms() - t0 < 900); /* a short backoff, no 1 s gate */
    mp_client_free(c);

    c = client_to(s, (mp_client_options){.max_attempts = 1});
    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_ERR_HTTP);
    assert_int_equal(r.status, 429);
    assert_int_equal(r.retry_after_ms, -1);
    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_OK);
    assert_int_equal(stats_of(s).requests, 4);

    mp_result_clear(&r);
    mp_client_free(c);
    mp_serve_stop(s);
}

/* The server's own token bucket: percentage used on the way, then a 429 that closes the gate. */
static void test_server_rate_limit(void **state) {
    (void)state;
    mp_server *s = serve((mp_serve_options){.rate_limit = 2, .burst = 2});
    mp_client *c = client_to(s, (mp_client_options){.max_attempts = 1});
    mp_batch batch = test_batch();
    mp_result r = {0};

    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_OK);
    assert_true(r.rate_limit_percentage_used >= 0 && r.rate_limit_percentage_used <= 100);
    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_OK);
    assert_true(r.rate_limit_percentage_used > 0 && r.rate_limit_percentage_used <= 100);
    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_ERR_HTTP);
    assert_int_equal(r.status, 429);
    assert_string_equal(r.rate_limit_exceeded, "app");
    assert_true(r.retry_after_ms >= 1000);
    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_ERR_RATE_LIMITED);
    mp_serve_stats st = stats_of(s);
    assert_int_equal(st.requests, 3);
    assert_int_equal(st.throttled, 1);
    assert_int_equal(st.accepted, 2);

    mp_result_clear(&r);
    mp_client_free(c);
    mp_serve_stop(s);
}

/* ------------------------------------------------------------------------ */
/* Timeouts and resets                                                      */
/* ------------------------------------------------------------------------ */

static void test_timeout_from_latency(void **state) {
    (void)state;
    mp_server *s = serve((mp_serve_options){.latency_ms = 600, .threads = 4});
    mp_client *c = client_to(
        s, (mp_client_options){.timeout_ms = 100, .max_attempts = 2, .backoff_initial_ms = 20});
    mp_batch batch = test_batch();
    mp_result r = {0};

    int64_t t0 = mono_ms();
    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_ERR_TIMEOUT);
    int64_t elapsed = mono_ms() - t0;
    assert_int_equal(r.outcome, MP_OUTCOME_RETRIABLE);
    assert_int_equal(r.status, 0);
    assert_int_equal(r.attempts, 2);
    assert_true(r.transport_error[0] != '\0');
    /* Two timed-out attempts, not two full answers. */
    assert_true(elapsed >= 190);
    assert_true(elapsed < 1000);

    mp_result_clear(&r);
    mp_client_free(c);
    mp_serve_stop(s);
}

static void test_connection_reset_retried(void **state) {
    (void)state;
    record rec;
    record_init(&rec);
    const int script[] = {MP_SERVE_SCRIPT_RESET, MP_SERVE_SCRIPT_RESET, 202};
    mp_server *s = serve((mp_serve_options){.record_path = rec.path,
                                            .script = script,
                                            .script_len = 3});
    mp_client *c = client_to(s, (mp_client_options){0});
    mp_batch batch = test_batch();
    mp_result r = {0};

    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_OK);
    assert_int_equal(r.attempts, 3);
    mp_serve_stats st = stats_of(s);
    assert_int_equal(st.resets, 2);
    assert_int_equal(st.accepted, 1);
    lines l;
    lines_read(&rec, &l);
    assert_int_equal(l.count, 1);
    free(l.text);
    mp_client_free(c);

    /* Only resets: a network error with libcurl's reason. */
    assert_int_equal(mp_serve_push_script(s, script, 2), MP_OK);
    c = client_to(s, (mp_client_options){.max_attempts = 2});
    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_ERR_NETWORK);
    assert_int_equal(r.outcome, MP_OUTCOME_RETRIABLE);
    assert_int_equal(r.status, 0);
    assert_int_equal(r.attempts, 2);
    assert_true(r.transport_error[0] != '\0');

    mp_result_clear(&r);
    mp_client_free(c);
    mp_serve_stop(s);
    record_done(&rec);
}

/* Nothing listens: connection refused, retried, reported. */
static void test_connection_refused(void **state) {
    (void)state;
    /* Port 1 rather than a port just freed: another test running in
     * parallel could bind that one again. */
    mp_client_options o = {.base_url = "http://127.0.0.1:1/v2", .max_attempts = 2};
    mp_client *c = client_to(NULL, o);
    mp_batch batch = test_batch();
    mp_result r = {0};
    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_ERR_NETWORK);
    assert_int_equal(r.attempts, 2);
    assert_true(r.transport_error[0] != '\0');
    mp_result_clear(&r);
    mp_client_free(c);
}

/* ------------------------------------------------------------------------ */
/* Limits, bulk, historical                                                 */
/* ------------------------------------------------------------------------ */

typedef struct big_batch {
    char value[4001];
    char names[25][8];
    mp_attribute attrs[25];
    mp_event event;
} big_batch;

/* An event of 25 attributes of 4000 characters: about 100 KB. */
static void big_batch_init(big_batch *bb, int n_attrs) {
    memset(bb->value, 'x', 4000);
    bb->value[4000] = '\0';
    for (int i = 0; i < 25; i++) {
        snprintf(bb->names[i], sizeof bb->names[i], "attr-%02d", i);
        bb->attrs[i].name = bb->names[i];
        bb->attrs[i].value.type = MP_VALUE_STRING;
        bb->attrs[i].value.u.string = bb->value;
    }
    bb->event = test_event;
    bb->event.common.custom_attributes.items = bb->attrs;
    bb->event.common.custom_attributes.count = (size_t)n_attrs;
}

static void test_limits_refused_before_sending(void **state) {
    (void)state;
    mp_server *s = serve((mp_serve_options){0});
    mp_client *c = client_to(s, (mp_client_options){0});
    mp_result r = {0};

    mp_batch many[101];
    for (int i = 0; i < 101; i++)
        many[i] = test_batch();
    assert_int_equal(mp_client_upload_bulk(c, many, 101, &r, NULL), MP_ERR_LIMIT);
    assert_int_equal(r.attempts, 0);

    big_batch *bb = malloc(sizeof *bb);
    assert_non_null(bb);
    big_batch_init(bb, 25);
    mp_batch big[3];
    for (int i = 0; i < 3; i++) {
        big[i] = test_batch();
        big[i].events.items = &bb->event;
    }
    assert_int_equal(mp_client_upload_bulk(c, big, 3, &r, NULL), MP_ERR_LIMIT);
    assert_int_equal(r.attempts, 0);
    mp_serve_stats st = stats_of(s);
    assert_int_equal(st.requests, 0);
    assert_int_equal(st.received, 0);

    /* A batch over 128 KB sent anyway (skip_validation): the server answers 413, not retried. */
    mp_client_free(c);
    c = client_to(s, (mp_client_options){.skip_validation = 1});
    mp_event two_events[2] = {bb->event, bb->event};
    mp_batch huge = test_batch();
    huge.events.items = two_events;
    huge.events.count = 2;
    assert_int_equal(mp_client_upload(c, &huge, &r, NULL), MP_ERR_HTTP);
    assert_int_equal(r.status, 413);
    assert_int_equal(r.outcome, MP_OUTCOME_REJECTED);
    assert_int_equal(r.attempts, 1);
    assert_true(r.error_count >= 1);
    assert_int_equal(stats_of(s).accepted, 0);

    free(bb);
    mp_result_clear(&r);
    mp_client_free(c);
    mp_serve_stop(s);
}

static void test_bulk_of_100_recorded(void **state) {
    (void)state;
    record rec;
    record_init(&rec);
    mp_server *s = serve((mp_serve_options){.record_path = rec.path});
    mp_client *c = client_to(s, (mp_client_options){0});
    mp_batch batches[100];
    for (int i = 0; i < 100; i++)
        batches[i] = test_batch();
    mp_result r = {0};

    assert_int_equal(mp_client_upload_bulk(c, batches, 100, &r, NULL), MP_OK);
    assert_int_equal(r.status, 202);
    assert_int_equal(r.attempts, 1);
    mp_serve_stats st = stats_of(s);
    assert_int_equal(st.requests, 1);
    assert_int_equal(st.received, 100);
    assert_int_equal(st.accepted, 100);

    lines l;
    lines_read(&rec, &l);
    assert_int_equal(l.count, 100);
    static char ids[100][64];
    for (size_t i = 0; i < 100; i++) {
        line_id(l.line[i], ids[i], sizeof ids[i]);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(ids[i], ids[j]);
    }
    free(l.text);

    mp_result_clear(&r);
    mp_client_free(c);
    mp_serve_stop(s);
    record_done(&rec);
}

static void test_historical_upload(void **state) {
    (void)state;
    record rec;
    record_init(&rec);
    mp_server *s = serve((mp_serve_options){.record_path = rec.path});
    mp_client *c = client_to(s, (mp_client_options){0});
    mp_event old = test_event;
    old.common.timestamp_unixtime_ms = MP_INT(clock_ms(CLOCK_REALTIME) - 100 * DAY_MS);
    mp_batch batch = test_batch();
    batch.events.items = &old;
    mp_result r = {0};

    assert_int_equal(mp_client_upload_historical(c, &batch, 1, &r, NULL), MP_OK);
    assert_int_equal(r.status, 202);
    assert_int_equal(stats_of(s).accepted, 1);
    lines l;
    lines_read(&rec, &l);
    assert_int_equal(l.count, 1);
    free(l.text);

    mp_result_clear(&r);
    mp_client_free(c);
    mp_serve_stop(s);
    record_done(&rec);
}

/* ------------------------------------------------------------------------ */
/* Threads                                                                  */
/* ------------------------------------------------------------------------ */

/* TCP connections (any state but LISTEN) to or from `port` on IPv4, from
 * /proc/net/tcp: each connection appears once per local end. -1 if unreadable. */
static long tcp_entries(uint16_t port) {
    FILE *f = fopen("/proc/net/tcp", "r");
    if (!f)
        return -1;
    char line[512];
    long n = 0;
    if (!fgets(line, sizeof line, f)) {
        fclose(f);
        return -1;
    }
    while (fgets(line, sizeof line, f)) {
        unsigned local_port, remote_port, st;
        if (sscanf(line, " %*d: %*x:%x %*x:%x %x", &local_port, &remote_port, &st) != 3)
            continue;
        if (st != 0x0A && (local_port == port || remote_port == port))
            n++;
    }
    fclose(f);
    return n;
}

enum { THREADS = 8, CALLS = 50 };

typedef struct worker {
    mp_client *client;
    mp_error errors[CALLS];
    int attempts[CALLS];
} worker;

static void *worker_run(void *arg) {
    worker *w = arg;
    mp_result r;
    memset(&r, 0, sizeof r);
    mp_batch batch = test_batch();
    for (int i = 0; i < CALLS; i++) {
        w->errors[i] = mp_client_upload(w->client, &batch, &r, NULL);
        w->attempts[i] = r.attempts;
    }
    mp_result_clear(&r);
    return NULL;
}

static void run_workers(mp_client *c, worker *workers) {
    pthread_t tids[THREADS];
    for (int t = 0; t < THREADS; t++) {
        workers[t].client = c;
        assert_int_equal(pthread_create(&tids[t], NULL, worker_run, &workers[t]), 0);
    }
    for (int t = 0; t < THREADS; t++)
        assert_int_equal(pthread_join(tids[t], NULL), 0);
    for (int t = 0; t < THREADS; t++) {
        for (int i = 0; i < CALLS; i++) {
            if (workers[t].errors[i] != MP_OK)
                fail_msg("thread %d call %d: %s", t, i, mp_error_name(workers[t].errors[i]));
        }
    }
}

/* 8 threads x 50 uploads on one client: every one accepted once, over a
 * handful of kept-alive connections rather than one per request. */
static void test_threads_share_one_client(void **state) {
    (void)state;
    mp_server *s = serve((mp_serve_options){.threads = 4});
    mp_client *c = client_to(s, (mp_client_options){0});
    worker *workers = calloc(THREADS, sizeof *workers);
    assert_non_null(workers);

    run_workers(c, workers);
    for (int t = 0; t < THREADS; t++) {
        for (int i = 0; i < CALLS; i++)
            assert_int_equal(workers[t].attempts[i], 1);
    }
    mp_serve_stats st = stats_of(s);
    assert_int_equal(st.requests, THREADS * CALLS);
    assert_int_equal(st.accepted, THREADS * CALLS);
    assert_int_equal(st.duplicates, 0);

    /* Connection reuse: without it there would be THREADS * CALLS connections
     * (each appearing once or twice); with it, about one per thread. */
    long entries = tcp_entries(mp_serve_port(s));
    print_message("%d requests from %d threads: %ld TCP socket entries on the server's port\n",
                  THREADS * CALLS, THREADS, entries);
    if (entries >= 0 && entries > 4 * THREADS)
        fail_msg("%ld TCP entries for %d requests: connections are not reused", entries,
                 THREADS * CALLS);

    free(workers);
    mp_client_free(c);
    mp_serve_stop(s);
}

/* The same under random 5xx and resets: every batch delivered, each
 * recorded exactly once. */
static void test_threads_under_faults(void **state) {
    (void)state;
    record rec;
    record_init(&rec);
    mp_server *s = serve((mp_serve_options){.record_path = rec.path,
                                            .fail_rate = 0.2,
                                            .reset_rate = 0.1,
                                            .seed = 42,
                                            .threads = 4,
                                            .retry_after = MP_SERVE_RETRY_AFTER_NONE});
    mp_client *c = client_to(s, (mp_client_options){.max_attempts = 20});
    worker *workers = calloc(THREADS, sizeof *workers);
    assert_non_null(workers);

    run_workers(c, workers);
    long attempts = 0;
    for (int t = 0; t < THREADS; t++) {
        for (int i = 0; i < CALLS; i++)
            attempts += workers[t].attempts[i];
    }
    mp_serve_stats st = stats_of(s);
    assert_int_equal(st.accepted, THREADS * CALLS);
    assert_int_equal(st.duplicates, 0);
    /* libcurl itself resends a request once when a kept-alive connection
     * dies before any answer ("Connection died, retrying a fresh connect"),
     * so a reset on a reused connection costs a request but no attempt. */
    assert_true(st.requests >= (uint64_t)attempts);
    assert_true(st.requests <= (uint64_t)attempts + st.resets);
    assert_true(attempts > THREADS * CALLS); /* faults did happen */
    assert_true(st.resets > 0);

    lines l;
    lines_read(&rec, &l);
    assert_int_equal(l.count, THREADS * CALLS);
    free(l.text);

    free(workers);
    mp_client_free(c);
    mp_serve_stop(s);
    record_done(&rec);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepted_and_recorded),
        cmocka_unit_test(test_400_errors_from_the_server),
        cmocka_unit_test(test_auth_errors),
        cmocka_unit_test(test_retries_keep_one_copy),
        cmocka_unit_test(test_503_until_attempts_run_out),
        cmocka_unit_test(test_retry_after_seconds_and_gate),
        cmocka_unit_test(test_retry_after_http_date),
        cmocka_unit_test(test_retry_after_absent),
        cmocka_unit_test(test_server_rate_limit),
        cmocka_unit_test(test_timeout_from_latency),
        cmocka_unit_test(test_connection_reset_retried),
        cmocka_unit_test(test_connection_refused),
        cmocka_unit_test(test_limits_refused_before_sending),
        cmocka_unit_test(test_bulk_of_100_recorded),
        cmocka_unit_test(test_historical_upload),
        cmocka_unit_test(test_threads_share_one_client),
        cmocka_unit_test(test_threads_under_faults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for the client (src/client): every answer of the Events API,
 * retries and their bounds, Retry-After and the rate-limit gate, limits and
 * validation before sending, configuration, results, and many threads on
 * one client, all through an in-memory transport that answers from a script
 * and records every request it is given.
 *
 * Timing: backoffs are 1-5 ms; only the Retry-After tests wait (about 3 s in
 * all). The threads test is meant to run under ThreadSanitizer too. */
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
#include <strings.h>
#include <time.h>

#include "mparticle/client.h"
#include "mparticle/codec.h"
#include "mparticle/version.h"
#include "support/test_util.h"

/* The documented example credentials and their Basic authorization. */
#define KEY "example-api-key"
#define SECRET "example-api-secret"
#define AUTH "Basic ZXhhbXBsZS1hcGkta2V5OmV4YW1wbGUtYXBpLXNlY3JldA=="
#define BASE "https://s2s.example.test/v2"
#define DAY_MS (24LL * 3600 * 1000)

#define BAD_REQUEST_BODY                                                                         \
    "{\"errors\":[{\"code\":\"BAD_REQUEST\",\"message\":\"Required field 'environment' is "  \
    "missing\"}]}"

static int64_t now_ms(int clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t mono_ms(void) {
    return now_ms(CLOCK_MONOTONIC);
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* ------------------------------------------------------------------------ */
/* The in-memory transport                                                  */
/* ------------------------------------------------------------------------ */

/* One scripted answer: an HTTP response, or a transport failure when `fail` is set. */
typedef struct step {
    int status;              /* 0 = 202 */
    const char *headers[4];  /* "Name: value" */
    const char *body;        /* NULL = empty */
    mp_error fail;           /* MP_ERR_NETWORK / MP_ERR_TIMEOUT: no response */
    const char *errtext;     /* written to errbuf with a failure; NULL = nothing */
} step;

/* A copy of one request as the transport saw it. */
typedef struct recorded {
    char *method;
    char *url;
    size_t header_count;
    char **names;
    char **values;
    char *body;
    size_t body_len;
    long connect_timeout_ms;
    long timeout_ms;
    int64_t at_ms; /* monotonic */
} recorded;

typedef struct mock mock;
/* Chooses the answer instead of the script (called with the mock's lock held). */
typedef step (*mock_decide)(mock *m, const mp_http_request *req);

struct mock {
    pthread_mutex_t lock;
    step script[16];
    size_t script_len;
    size_t next;
    step fallback; /* once the script is used up */
    mock_decide decide;
    recorded *reqs;
    size_t req_count;
    size_t req_cap;
    int destroyed; /* destroy() calls */
    mp_transport transport;
    unsigned counts[800]; /* per call id, for the threads test */
};

static char *dup_bytes(const char *s, size_t n) {
    char *p = malloc(n + 1);
    assert_non_null(p);
    if (n)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static char *dup_str(const char *s) {
    return dup_bytes(s, strlen(s));
}

/* No cmocka asserts here: send() runs on the client's threads. */
static void record(mock *m, const mp_http_request *req) {
    if (m->req_count == m->req_cap) {
        size_t cap = m->req_cap ? m->req_cap * 2 : 16;
        recorded *r = realloc(m->reqs, cap * sizeof *r);
        if (!r)
            abort();
        m->reqs = r;
        m->req_cap = cap;
    }
    recorded *r = &m->reqs[m->req_count++];
    memset(r, 0, sizeof *r);
    r->method = strdup(req->method);
    r->url = strdup(req->url);
    r->header_count = req->header_count;
    r->names = calloc(req->header_count + 1, sizeof *r->names);
    r->values = calloc(req->header_count + 1, sizeof *r->values);
    r->body = malloc(req->body_len + 1);
    if (!r->method || !r->url || !r->names || !r->values || !r->body)
        abort();
    for (size_t i = 0; i < req->header_count; i++) {
        r->names[i] = strdup(req->headers[i].name);
        r->values[i] = strdup(req->headers[i].value);
        if (!r->names[i] || !r->values[i])
            abort();
    }
    memcpy(r->body, req->body, req->body_len);
    r->body[req->body_len] = '\0';
    r->body_len = req->body_len;
    r->connect_timeout_ms = req->connect_timeout_ms;
    r->timeout_ms = req->timeout_ms;
    r->at_ms = mono_ms();
}

static mp_error mock_send(void *user_data, const mp_http_request *req, mp_http_response *resp,
                          char *errbuf, size_t errbuf_size) {
    mock *m = user_data;
    pthread_mutex_lock(&m->lock);
    record(m, req);
    step s;
    if (m->decide)
        s = m->decide(m, req);
    else if (m->next < m->script_len)
        s = m->script[m->next++];
    else
        s = m->fallback;
    pthread_mutex_unlock(&m->lock);

    if (s.fail) {
        snprintf(errbuf, errbuf_size, "%s", s.errtext ? s.errtext : "");
        return s.fail;
    }
    mp_http_response_set_status(resp, s.status ? s.status : 202);
    for (size_t i = 0; i < 4 && s.headers[i]; i++) {
        const char *colon = strchr(s.headers[i], ':');
        const char *value = colon + 1;
        while (*value == ' ')
            value++;
        if (mp_http_response_add_header(resp, s.headers[i], (size_t)(colon - s.headers[i]), value,
                                        strlen(value)) != MP_OK)
            abort();
    }
    if (s.body && mp_http_response_append_body(resp, s.body, strlen(s.body)) != MP_OK)
        abort();
    return MP_OK;
}

static void mock_destroy(void *user_data) {
    mock *m = user_data;
    pthread_mutex_lock(&m->lock);
    m->destroyed++;
    pthread_mutex_unlock(&m->lock);
}

/* A mock that answers 202 until given a script. */
static mock *mock_new(void) {
    mock *m = calloc(1, sizeof *m);
    assert_non_null(m);
    assert_int_equal(pthread_mutex_init(&m->lock, NULL), 0);
    m->transport.send = mock_send;
    m->transport.destroy = mock_destroy;
    m->transport.user_data = m;
    return m;
}

static void mock_script(mock *m, const step *steps, size_t n) {
    assert_true(n <= sizeof m->script / sizeof m->script[0]);
    memcpy(m->script, steps, n * sizeof *steps);
    m->script_len = n;
    m->next = 0;
}
#define SCRIPT(m, ...)                                                                            \
    do {                                                                                          \
        const step steps_[] = {__VA_ARGS__};                                                      \
        mock_script((m), steps_, sizeof steps_ / sizeof steps_[0]);                               \
    } while (0)

static size_t mock_requests(mock *m) {
    pthread_mutex_lock(&m->lock);
    size_t n = m->req_count;
    pthread_mutex_unlock(&m->lock);
    return n;
}

static void mock_free(mock *m) {
    for (size_t i = 0; i < m->req_count; i++) {
        recorded *r = &m->reqs[i];
        for (size_t h = 0; h < r->header_count; h++) {
            free(r->names[h]);
            free(r->values[h]);
        }
        free(r->names);
        free(r->values);
        free(r->method);
        free(r->url);
        free(r->body);
    }
    free(m->reqs);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

/* The value of a recorded request's header (case-insensitive name), or NULL;
 * fails the test when the header appears more than once. */
static const char *header_of(const recorded *r, const char *name) {
    const char *found = NULL;
    for (size_t i = 0; i < r->header_count; i++) {
        if (strcasecmp(r->names[i], name) == 0) {
            if (found)
                fail_msg("header %s sent twice", name);
            found = r->values[i];
        }
    }
    return found;
}

/* ------------------------------------------------------------------------ */
/* Clients and batches                                                      */
/* ------------------------------------------------------------------------ */

/* Options for a client on the mock: example credentials, BASE, 1 ms backoff. */
static mp_client_options opts_for(mock *m) {
    mp_client_options o;
    memset(&o, 0, sizeof o);
    o.api_key = KEY;
    o.api_secret = SECRET;
    o.base_url = BASE;
    o.backoff_initial_ms = 1;
    o.backoff_max_ms = 5;
    o.transport = &m->transport;
    return o;
}

static mp_client *client_new(const mp_client_options *o) {
    mp_client *c = NULL;
    mp_diag *d = mp_diag_new();
    assert_non_null(d);
    mp_error err = mp_client_new(o, &c, d);
    if (err != MP_OK)
        fail_msg("mp_client_new: %s (%s: %s)", mp_error_name(err),
                 mp_diag_count(d) ? mp_diag_get(d, 0)->path : "",
                 mp_diag_count(d) ? mp_diag_get(d, 0)->message : "");
    mp_diag_free(d);
    assert_non_null(c);
    return c;
}

static mp_client *client_on(mock *m) {
    mp_client_options o = opts_for(m);
    return client_new(&o);
}

static const mp_user_identities test_ids = {.customer_id = "1234"};
static const mp_event test_event = {
    .event_type = MP_EVENT_CUSTOM_EVENT,
    .custom_event = {.custom_event_type = MP_CUSTOM_EVENT_TYPE_NAVIGATION,
                     .event_name = "Test event"},
};

/* A small valid batch. */
static mp_batch test_batch(void) {
    mp_batch b;
    memset(&b, 0, sizeof b);
    b.environment = MP_ENVIRONMENT_DEVELOPMENT;
    b.user_identities = &test_ids;
    b.events.items = &test_event;
    b.events.count = 1;
    return b;
}

static int is_uuid_v4(const char *s) {
    if (strlen(s) != 36)
        return 0;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return 0;
        } else if (!strchr("0123456789abcdefABCDEF", s[i])) {
            return 0;
        }
    }
    return s[14] == '4' && strchr("89abAB", s[19]) != NULL;
}

static mp_document *decode_body(const recorded *r) {
    mp_document *doc = NULL;
    mp_diag *d = mp_diag_new();
    mp_error err = mp_decode(r->body, r->body_len, &doc, d);
    if (err != MP_OK)
        fail_msg("sent body is not a valid batch: %s at %s: %s", mp_error_name(err),
                 mp_diag_count(d) ? mp_diag_get(d, 0)->path : "",
                 mp_diag_count(d) ? mp_diag_get(d, 0)->message : "");
    mp_diag_free(d);
    return doc;
}

/* The first problem in diag with this code, or fails. */
static const mp_problem *problem_with(const mp_diag *d, mp_error code) {
    for (size_t i = 0; i < mp_diag_count(d); i++) {
        const mp_problem *p = mp_diag_get(d, i);
        if (p->code == code && p->severity == MP_SEVERITY_ERROR)
            return p;
    }
    fail_msg("no %s problem among %zu", mp_error_name(code), mp_diag_count(d));
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* 202                                                                      */
/* ------------------------------------------------------------------------ */

static void test_accepted(void **state) {
    (void)state;
    mock *m = mock_new();
    mp_client *c = client_on(m);
    mp_batch batch = test_batch();
    mp_batch before = batch;
    mp_result r = {0};

    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_OK);
    assert_int_equal(r.error, MP_OK);
    assert_int_equal(r.outcome, MP_OUTCOME_ACCEPTED);
    assert_int_equal(r.attempts, 1);
    assert_int_equal(r.status, 202);
    assert_int_equal(r.retry_after_ms, -1);
    assert_int_equal(r.rate_limit_percentage_used, -1);
    assert_string_equal(r.rate_limit_exceeded, "");
    assert_string_equal(r.transport_error, "");
    assert_null(r.errors);
    assert_int_equal(r.error_count, 0);
    assert_null(r.body);
    assert_true(is_uuid_v4(r.source_request_id));

    /* The caller's struct is untouched: no id was written into it. */
    assert_null(batch.source_request_id);
    assert_memory_equal(&batch, &before, sizeof batch);

    assert_int_equal(m->req_count, 1);
    const recorded *q = &m->reqs[0];
    assert_string_equal(q->method, "POST");
    assert_string_equal(q->url, BASE "/events");
    assert_string_equal(header_of(q, "Authorization"), AUTH);
    assert_string_equal(header_of(q, "Content-Type"), "application/json");
    assert_string_equal(header_of(q, "Accept"), "application/json");
    assert_string_equal(header_of(q, "User-Agent"), "libmparticle/" MP_VERSION_STRING);
    assert_int_equal(q->header_count, 4);
    assert_int_equal(q->connect_timeout_ms, 10000);
    assert_int_equal(q->timeout_ms, 30000);

    /* The body is the batch plus the generated id, nothing else. */
    mp_document *doc = decode_body(q);
    assert_int_equal(mp_document_count(doc), 1);
    const mp_batch *sent = mp_document_batch(doc, 0);
    assert_non_null(sent->source_request_id);
    assert_string_equal(sent->source_request_id, r.source_request_id);
    mp_batch expected = batch;
    expected.source_request_id = r.source_request_id;
    char why[256];
    if (!mp_test_batch_equal(&expected, sent, why, sizeof why))
        fail_msg("sent batch differs: %s", why);
    mp_document_free(doc);

    mp_result_clear(&r);
    mp_client_free(c);
    assert_int_equal(m->destroyed, 1);
    mock_free(m);
}

static void test_own_source_request_id_is_kept(void **state) {
    (void)state;
    mock *m = mock_new();
    mp_client *c = client_on(m);
    mp_batch batch = test_batch();
    batch.source_request_id = "caller-chosen-id-1";
    mp_result r = {0};

    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_OK);
    assert_string_equal(r.source_request_id, "caller-chosen-id-1");
    mp_document *doc = decode_body(&m->reqs[0]);
    assert_string_equal(mp_document_batch(doc, 0)->source_request_id, "caller-chosen-id-1");
    mp_document_free(doc);

    mp_result_clear(&r);
    mp_client_free(c);
    mock_free(m);
}

/* A generated id belongs to one call: the next upload of the same struct is new data. */
static void test_each_call_gets_its_own_id(void **state) {
    (void)state;
    mock *m = mock_new();
    mp_client *c = client_on(m);
    mp_batch batch = test_batch();
    mp_result r1 = {0}, r2 = {0};

    assert_int_equal(mp_client_upload(c, &batch, &r1, NULL), MP_OK);
    assert_int_equal(mp_client_upload(c, &batch, &r2, NULL), MP_OK);
    assert_true(is_uuid_v4(r1.source_request_id));
    assert_true(is_uuid_v4(r2.source_request_id));
    assert_string_not_equal(r1.source_request_id, r2.source_request_id);

    mp_result_clear(&r1);
    mp_result_clear(&r2);
    mp_client_free(c);
    mock_free(m);
}

/* result and diag are optional. */
static void test_null_result_and_diag(void **state) {
    (void)state;
    mock *m = mock_new();
    SCRIPT(m, {.status = 400, .body = BAD_REQUEST_BODY});
    mp_client *c = client_on(m);
    mp_batch batch = test_batch();
    assert_int_equal(mp_client_upload(c, &batch, NULL, NULL), MP_ERR_HTTP);
    assert_int_equal(mp_client_upload(c, &batch, NULL, NULL), MP_OK);
    mp_batch bad = test_batch();
    bad.environment = MP_ENVIRONMENT_UNSET;
    assert_int_equal(mp_client_upload(c, &bad, NULL, NULL), MP_ERR_INVALID);
    assert_int_equal(m->req_count, 2);
    mp_client_free(c);
    mock_free(m);
}

static void test_bad_arguments(void **state) {
    (void)state;
    mock *m = mock_new();
    mp_client *c = client_on(m);
    mp_batch batch = test_batch();
    mp_result r = {0};
    assert_int_equal(mp_client_upload(c, NULL, &r, NULL), MP_ERR_INVALID_ARGUMENT);
    assert_int_equal(r.attempts, 0);
    assert_int_equal(mp_client_upload_bulk(c, &batch, 0, &r, NULL), MP_ERR_INVALID_ARGUMENT);
    assert_int_equal(mp_client_upload_bulk(c, NULL, 3, &r, NULL), MP_ERR_INVALID_ARGUMENT);
    assert_int_equal(mp_client_upload(NULL, &batch, &r, NULL), MP_ERR_INVALID_ARGUMENT);
    assert_int_equal(m->req_count, 0);
    mp_result_clear(&r);
    mp_result_clear(NULL);
    mp_client_free(NULL);
    assert_null(mp_client_base_url(NULL));
    mp_client_free(c);
    mock_free(m);
}

/* ------------------------------------------------------------------------ */
/* Retries                                                                  */
/* ------------------------------------------------------------------------ */

static void test_5xx_retried_with_the_same_bytes(void **state) {
    (void)state;
    mock *m = mock_new();
    SCRIPT(m, {.status = 503}, {.status = 500}, {.status = 202});
    mp_client *c = client_on(m);
    mp_batch batch = test_batch();
    mp_result r = {0};

    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_OK);
    assert_int_equal(r.attempts, 3);
    assert_int_equal(r.status, 202);
    assert_int_equal(r.outcome, MP_OUTCOME_ACCEPTED);
    assert_int_equal(m->req_count, 3);
    for (size_t i = 1; i < 3; i++) {
        assert_int_equal(m->reqs[i].body_len, m->reqs[0].body_len);
        assert_memory_equal(m->reqs[i].body, m->reqs[0].body, m->reqs[0].body_len);
        assert_string_equal(m->reqs[i].url, BASE "/events");
    }
    mp_document *doc = decode_body(&m->reqs[2]);
    assert_string_equal(mp_document_batch(doc, 0)->source_request_id, r.source_request_id);
    mp_document_free(doc);

    mp_result_clear(&r);
    mp_client_free(c);
    mock_free(m);
}

static void test_408_and_429_retried(void **state) {
    (void)state;
    const int statuses[] = {408, 429, 502, 504, 599};
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
        mock *m = mock_new();
        SCRIPT(m, {.status = statuses[i]}, {.status = 202});
        mp_client *c = client_on(m);
        mp_batch batch = test_batch();
        mp_result r = {0};
        assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_OK);
        assert_int_equal(r.attempts, 2);
        assert_int_equal(m->req_count, 2);
        mp_result_clear(&r);
        mp_client_free(c);
        mock_free(m);
    }
}

/* Statuses that say the data or the credentials must change: one attempt. */
static void test_never_retried(void **state) {
    (void)state;
    static const struct {
        int status;
        mp_outcome outcome;
    } cases[] = {
        {400, MP_OUTCOME_REJECTED},     {401, MP_OUTCOME_UNAUTHORIZED},
        {403, MP_OUTCOME_UNAUTHORIZED}, {404, MP_OUTCOME_REJECTED},
        {413, MP_OUTCOME_REJECTED},     {422, MP_OUTCOME_REJECTED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mock *m = mock_new();
        m->fallback.status = cases[i].status;
        mp_client *c = client_on(m);
        mp_batch batch = test_batch();
        mp_result r = {0};
        assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_ERR_HTTP);
        assert_int_equal(r.error, MP_ERR_HTTP);
        assert_int_equal(r.status, cases[i].status);
        assert_int_equal(r.outcome, cases[i].outcome);
        assert_int_equal(r.attempts, 1);
        assert_int_equal(m->req_count, 1);
        mp_result_clear(&r);
        mp_client_free(c);
        mock_free(m);
    }
}

static void test_400_errors_parsed(void **state) {
    (void)state;
    mock *m = mock_new();
    SCRIPT(m, {.status = 400, .body = BAD_REQUEST_BODY},
           {.status = 400,
            .body = "{\"errors\":[{\"code\":\"A\",\"message\":\"first\"},"
                    "{\"code\":\"B\",\"message\":\"second \\\"quoted\\\"\"}]}"},
           {.status = 400, .body = "not json"});
    mp_client *c = client_on(m);
    mp_batch batch = test_batch();
    mp_result r = {0};

    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_ERR_HTTP);
    assert_int_equal(r.outcome, MP_OUTCOME_REJECTED);
    assert_int_equal(r.status, 400);
    assert_int_equal(r.attempts, 1);
    assert_int_equal(r.error_count, 1);
    assert_string_equal(r.errors[0].code, "BAD_REQUEST");
    assert_string_equal(r.errors[0].message, "Required field 'environment' is missing");
    assert_string_equal(r.body, BAD_REQUEST_BODY);
    assert_int_equal(r.body_len, strlen(BAD_REQUEST_BODY));

    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_ERR_HTTP);
    assert_int_equal(r.error_count, 2);
    assert_string_equal(r.errors[0].code, "A");
    assert_string_equal(r.errors[0].message, "first");
    assert_string_equal(r.errors[1].code, "B");
    assert_string_equal(r.errors[1].message, "second \"quoted\"");

    /* A body that is not the API's error object is kept raw, with no errors. */
    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_ERR_HTTP);
    assert_int_equal(r.error_count, 0);
    assert_null(r.errors);
    assert_string_equal(r.body, "not json");

    mp_result_clear(&r);
    mp_client_free(c);
    mock_free(m);
}

/* ------------------------------------------------------------------------ */
/* Retry-After and the rate-limit gate                                      */
/* ------------------------------------------------------------------------ */

static void test_retry_after_waited_for(void **state) {
    (void)state;
    mock *m = mock_new();
    SCRIPT(m, {.status = 429, .headers = {"Retry-After: 1"}}, {.status = 202});
    mp_client_options o = opts_for(m);
    o.max_attempts = 2;
    mp_client *c = client_new(&o);
    mp_batch batch = test_batch();
    mp_result r = {0};

    int64_t t0 = mono_ms();
    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_OK);
    int64_t elapsed = mono_ms() - t0;
    assert_int_equal(r.attempts, 2);
    assert_true(elapsed >= 950);
    assert_true(elapsed < 3000);
    assert_true(m->reqs[1].at_ms - m->reqs[0].at_ms >= 950);
    /* The answer that counts is the last one, which had no Retry-After. */
    assert_int_equal(r.retry_after_ms, -1);

    mp_result_clear(&r);
    mp_client_free(c);
    mock_free(m);
}

static void test_gate_refuses_without_sending(void **state) {
    (void)state;
    mock *m = mock_new();
    SCRIPT(m, {.status = 429, .headers = {"Retry-After: 2", "X-mp-rate-limit-exceeded: app"}});
    mp_client_options o = opts_for(m);
    o.max_attempts = 1;
    mp_client *c = client_new(&o);
    mp_batch batch = test_batch();
    mp_result r = {0};

    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_ERR_HTTP);
    assert_int_equal(r.outcome, MP_OUTCOME_RETRIABLE);
    assert_int_equal(r.status, 429);
    assert_int_equal(r.retry_after_ms, 2000);
    assert_string_equal(r.rate_limit_exceeded, "app");
    assert_int_equal(r.attempts, 1);

    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_ERR_RATE_LIMITED);
    assert_int_equal(r.error, MP_ERR_RATE_LIMITED);
    assert_int_equal(r.outcome, MP_OUTCOME_RETRIABLE);
    assert_int_equal(r.attempts, 0);
    assert_int_equal(r.status, 0);
    assert_true(r.retry_after_ms > 0);
    assert_true(r.retry_after_ms <= 2000);
    /* Every endpoint is behind the same gate. */
    assert_int_equal(mp_client_upload_bulk(c, &batch, 1, &r, NULL), MP_ERR_RATE_LIMITED);
    assert_int_equal(r.attempts, 0);
    assert_int_equal(mock_requests(m), 1);

    /* The gate is the client's: another client on the same transport sends. */
    mp_client *other = client_new(&o);
    assert_int_equal(mp_client_upload(other, &batch, &r, NULL), MP_OK);
    assert_int_equal(r.attempts, 1);
    assert_int_equal(mock_requests(m), 2);
    /* ... and the first is still closed. */
    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_ERR_RATE_LIMITED);
    assert_int_equal(mock_requests(m), 2);

    mp_result_clear(&r);
    mp_client_free(other);
    mp_client_free(c);
    assert_int_equal(m->destroyed, 2);
    mock_free(m);
}

static void test_gate_opens_after_retry_after(void **state) {
    (void)state;
    mock *m = mock_new();
    SCRIPT(m, {.status = 429, .headers = {"Retry-After: 1"}});
    mp_client_options o = opts_for(m);
    o.max_attempts = 1;
    mp_client *c = client_new(&o);
    mp_batch batch = test_batch();
    mp_result r = {0};

    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_ERR_HTTP);
    assert_int_equal(r.retry_after_ms, 1000);
    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_ERR_RATE_LIMITED);
    sleep_ms(1100);
    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_OK);
    assert_int_equal(r.attempts, 1);
    assert_int_equal(mock_requests(m), 2);

    mp_result_clear(&r);
    mp_client_free(c);
    mock_free(m);
}

static void test_retry_after_capped(void **state) {
    (void)state;
    mock *m = mock_new();
    SCRIPT(m, {.status = 429, .headers = {"Retry-After: 120"}},
           {.status = 429, .headers = {"Retry-After: 120"}});
    mp_client_options o = opts_for(m);
    o.max_attempts = 1;
    o.retry_after_max_ms = 1500;
    mp_client *c = client_new(&o);
    mp_batch batch = test_batch();
    mp_result r = {0};

    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_ERR_HTTP);
    assert_int_equal(r.retry_after_ms, 1500);
    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_ERR_RATE_LIMITED);
    assert_true(r.retry_after_ms > 0 && r.retry_after_ms <= 1500);
    mp_client_free(c);

    /* The cap also bounds the wait inside a call. */
    mock *m2 = mock_new();
    SCRIPT(m2, {.status = 429, .headers = {"Retry-After: 120"}}, {.status = 202});
    o = opts_for(m2);
    o.max_attempts = 2;
    o.retry_after_max_ms = 200;
    c = client_new(&o);
    int64_t t0 = mono_ms();
    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_OK);
    int64_t elapsed = mono_ms() - t0;
    assert_int_equal(r.attempts, 2);
    assert_true(elapsed >= 190 && elapsed < 2000);

    mp_result_clear(&r);
    mp_client_free(c);
    mock_free(m);
    mock_free(m2);
}

static void test_retry_after_as_http_date(void **state) {
    (void)state;
    char header[80];
    time_t at = time(NULL) + 3;
    struct tm tm;
    gmtime_r(&at, &tm);
    strftime(header, sizeof header, "Retry-After: %a, %d %b %Y %H:%M:%S GMT", &tm);
    mock *m = mock_new();
    SCRIPT(m, {.status = 429, .headers = {header}});
    mp_client_options o = opts_for(m);
    o.max_attempts = 1;
    mp_client *c = client_new(&o);
    mp_batch batch = test_batch();
    mp_result r = {0};

    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_ERR_HTTP);
    /* 3 s from a whole second of the wall clock: between 2 and 3 s from now. */
    if (r.retry_after_ms <= 1000 || r.retry_after_ms > 3000)
        fail_msg("%s gave retry_after_ms %lld", header, (long long)r.retry_after_ms);
    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_ERR_RATE_LIMITED);

    mp_result_clear(&r);
    mp_client_free(c);
    mock_free(m);
}

/* Retry-After: 0 and a date in the past say "now": they once gave five
 * attempts in 60 ms. The backoff must still separate the attempts. */
static void expect_backoff_despite(const char *retry_after) {
    mock *m = mock_new();
    m->fallback = (step){.status = 503, .headers = {retry_after}};
    mp_client_options o = opts_for(m);
    o.max_attempts = 4;
    o.backoff_initial_ms = 200;
    o.backoff_max_ms = 1000;
    mp_client *c = client_new(&o);
    mp_batch batch = test_batch();
    mp_result r = {0};
    int64_t t0 = mono_ms();
    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_ERR_HTTP);
    int64_t elapsed = mono_ms() - t0;
    assert_int_equal(r.attempts, 4);
    /* Three full-jitter waits in [0,200], [0,400], [0,800]: their sum is
     * under 20 ms with a probability of about 2e-5. */
    if (elapsed < 20)
        fail_msg("%s: 4 attempts in %lld ms", retry_after, (long long)elapsed);
    mp_result_clear(&r);
    mp_client_free(c);
    mock_free(m);
}

static void test_retry_after_zero_still_backs_off(void **state) {
    (void)state;
    expect_backoff_despite("Retry-After: 0");
    expect_backoff_despite("Retry-After: Sun, 06 Nov 1994 08:49:37 GMT");
}

/* A status outside 100..599 is a protocol error, not a 5xx: not retried. */
static void test_status_outside_http_not_retried(void **state) {
    (void)state;
    static const int statuses[] = {999, 600, 42};
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
        mock *m = mock_new();
        m->fallback = (step){.status = statuses[i]};
        mp_client *c = client_on(m);
        mp_batch batch = test_batch();
        mp_result r = {0};
        assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_ERR_PROTOCOL);
        assert_int_equal(r.outcome, MP_OUTCOME_REJECTED);
        assert_int_equal(r.status, statuses[i]);
        assert_int_equal(r.attempts, 1);
        assert_non_null(strstr(r.transport_error, "outside 100..599"));
        mp_result_clear(&r);
        mp_client_free(c);
        mock_free(m);
    }
}

/* A certificate that failed verification fails the same way every time. */
static void test_tls_failure_not_retried(void **state) {
    (void)state;
    mock *m = mock_new();
    m->fallback.fail = MP_ERR_TLS;
    m->fallback.errtext = "TLS: the server's certificate was not accepted (self-signed)";
    mp_client *c = client_on(m);
    mp_batch batch = test_batch();
    mp_result r = {0};
    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_ERR_TLS);
    assert_int_equal(r.outcome, MP_OUTCOME_REJECTED);
    assert_int_equal(r.attempts, 1);
    assert_int_equal(m->req_count, 1);
    assert_string_equal(r.transport_error, m->fallback.errtext);
    mp_result_clear(&r);
    mp_client_free(c);
    mock_free(m);
}

/* A huge Retry-After closes the gate for the whole cap (120 s by default);
 * the caller can read when it reopens. */
static void test_gate_remaining_visible(void **state) {
    (void)state;
    mock *m = mock_new();
    SCRIPT(m, {.status = 429, .headers = {"Retry-After: 86400"}});
    mp_client_options o = opts_for(m);
    o.max_attempts = 1;
    mp_client *c = client_new(&o);
    assert_int_equal(mp_client_gate_remaining_ms(c), 0);
    assert_int_equal(mp_client_gate_remaining_ms(NULL), 0);
    mp_batch batch = test_batch();
    mp_result r = {0};
    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_ERR_HTTP);
    assert_int_equal(r.retry_after_ms, 120000);
    int64_t left = mp_client_gate_remaining_ms(c);
    if (left <= 115000 || left > 120000)
        fail_msg("gate reopens in %lld ms, not ~120000", (long long)left);
    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_ERR_RATE_LIMITED);
    assert_true(r.retry_after_ms <= left && r.retry_after_ms > 115000);
    assert_int_equal(m->req_count, 1);
    mp_result_clear(&r);
    mp_client_free(c);
    mock_free(m);
}

/* Only a 429 closes the gate: a 503's Retry-After is about that request. */
static void test_503_retry_after_does_not_gate(void **state) {
    (void)state;
    mock *m = mock_new();
    SCRIPT(m, {.status = 503, .headers = {"Retry-After: 30"}});
    mp_client_options o = opts_for(m);
    o.max_attempts = 1;
    mp_client *c = client_new(&o);
    mp_batch batch = test_batch();
    mp_result r = {0};

    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_ERR_HTTP);
    assert_int_equal(r.outcome, MP_OUTCOME_RETRIABLE);
    assert_int_equal(r.retry_after_ms, 30000);
    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_OK);
    assert_int_equal(mock_requests(m), 2);

    mp_result_clear(&r);
    mp_client_free(c);
    mock_free(m);
}

/* A 429 without Retry-After is retried after a backoff and leaves no gate. */
static void test_429_without_retry_after(void **state) {
    (void)state;
    mock *m = mock_new();
    SCRIPT(m, {.status = 429});
    mp_client_options o = opts_for(m);
    o.max_attempts = 1;
    mp_client *c = client_new(&o);
    mp_batch batch = test_batch();
    mp_result r = {0};

    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_ERR_HTTP);
    assert_int_equal(r.outcome, MP_OUTCOME_RETRIABLE);
    assert_int_equal(r.retry_after_ms, -1);
    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_OK);

    mp_result_clear(&r);
    mp_client_free(c);
    mock_free(m);
}

/* ------------------------------------------------------------------------ */
/* Bounds on retrying                                                       */
/* ------------------------------------------------------------------------ */

static void test_attempts_bounded(void **state) {
    (void)state;
    mock *m = mock_new();
    m->fallback.status = 503;
    mp_client_options o = opts_for(m);
    o.max_attempts = 3;
    mp_client *c = client_new(&o);
    mp_batch batch = test_batch();
    mp_result r = {0};

    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_ERR_HTTP);
    assert_int_equal(r.attempts, 3);
    assert_int_equal(r.status, 503);
    assert_int_equal(r.outcome, MP_OUTCOME_RETRIABLE);
    assert_int_equal(m->req_count, 3);

    /* max_attempts 1: no retry at all. */
    mp_client_free(c);
    o.max_attempts = 1;
    c = client_new(&o);
    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_ERR_HTTP);
    assert_int_equal(r.attempts, 1);

    /* 0 is the default, 5. */
    mp_client_free(c);
    o.max_attempts = 0;
    c = client_new(&o);
    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_ERR_HTTP);
    assert_int_equal(r.attempts, 5);
    assert_int_equal(m->req_count, 3 + 1 + 5);

    mp_result_clear(&r);
    mp_client_free(c);
    mock_free(m);
}

/* A wait that would end after retry_total_ms is not started. */
static void test_total_time_bounded(void **state) {
    (void)state;
    mock *m = mock_new();
    m->fallback.status = 503;
    m->fallback.headers[0] = "Retry-After: 1";
    mp_client_options o = opts_for(m);
    o.max_attempts = 5;
    o.retry_total_ms = 50;
    mp_client *c = client_new(&o);
    mp_batch batch = test_batch();
    mp_result r = {0};

    int64_t t0 = mono_ms();
    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_ERR_HTTP);
    assert_int_equal(r.attempts, 1);
    assert_int_equal(r.outcome, MP_OUTCOME_RETRIABLE);
    assert_true(mono_ms() - t0 < 900); /* not the 1 s Retry-After */
    mp_client_free(c);

    /* With backoff: no attempt starts later than retry_total_ms after the call began. */
    mock *m2 = mock_new();
    m2->fallback.status = 503;
    o = opts_for(m2);
    o.max_attempts = 1000;
    o.retry_total_ms = 100;
    o.backoff_initial_ms = 10;
    o.backoff_max_ms = 1000;
    c = client_new(&o);
    t0 = mono_ms();
    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_ERR_HTTP);
    int64_t elapsed = mono_ms() - t0;
    assert_true(r.attempts >= 1 && r.attempts < 1000);
    assert_int_equal((size_t)r.attempts, m2->req_count);
    /* (Room for scheduling on a loaded sanitizer build; ignoring the bound
     * would take many seconds.) */
    for (size_t i = 0; i < m2->req_count; i++)
        assert_true(m2->reqs[i].at_ms - t0 <= 100 + 400);
    assert_true(elapsed <= 100 + 900);

    mp_result_clear(&r);
    mp_client_free(c);
    mock_free(m);
    mock_free(m2);
}

/* Exponential backoff with full jitter: the k-th wait is uniform in
 * [0, initial * 2^(k-1)], capped at backoff_max_ms. Measured over 5 calls of
 * 6 attempts each (ceilings 4, 8, 16, 32, 64 ms). */
static void test_backoff_grows_with_jitter(void **state) {
    (void)state;
    enum { CALLS = 5, ATTEMPTS = 6 };
    static const int64_t ceiling[ATTEMPTS - 1] = {4, 8, 16, 32, 64};
    mock *m = mock_new();
    m->fallback.status = 500;
    mp_client_options o = opts_for(m);
    o.max_attempts = ATTEMPTS;
    o.backoff_initial_ms = 4;
    o.backoff_max_ms = 10000;
    mp_client *c = client_new(&o);
    mp_batch batch = test_batch();
    mp_result r = {0};

    int64_t total = 0, longest_late = 0;
    int below_three_quarters = 0;
    for (int call = 0; call < CALLS; call++) {
        size_t first = m->req_count;
        assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_ERR_HTTP);
        assert_int_equal(r.attempts, ATTEMPTS);
        for (int k = 1; k < ATTEMPTS; k++) {
            int64_t gap = m->reqs[first + k].at_ms - m->reqs[first + k - 1].at_ms;
            total += gap;
            /* Scheduling only lengthens waits: look at the long ceilings (32, 64 ms). */
            if (k >= 4 && gap < ceiling[k - 1] * 3 / 4)
                below_three_quarters++;
            if (k >= 4 && gap > longest_late)
                longest_late = gap;
        }
    }
    /* Bounded by the sum of the ceilings (124 ms per call), plus generous
     * room for scheduling on a loaded machine. */
    if (total > CALLS * 124 + 1500)
        fail_msg("%d calls waited %lld ms in all; the ceilings sum to %d ms", CALLS,
                 (long long)total, CALLS * 124);
    /* Grows: some late wait exceeds twice the first ceiling (P(not) < 1e-7). */
    assert_true(longest_late > 8);
    /* Jittered, not a fixed ceiling: of 10 long waits, some is under 3/4 of
     * its ceiling (P(not) = 4^-10, about 1e-6). */
    assert_true(below_three_quarters > 0);
    mp_client_free(c);

    /* backoff_max_ms caps the ceiling: 9 waits of at most 8 ms. */
    mock *m2 = mock_new();
    m2->fallback.status = 500;
    o = opts_for(m2);
    o.max_attempts = 10;
    o.backoff_initial_ms = 4;
    o.backoff_max_ms = 8;
    c = client_new(&o);
    int64_t t0 = mono_ms();
    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_ERR_HTTP);
    assert_int_equal(r.attempts, 10);
    /* At most 68 ms; uncapped, the ceilings would sum to 2044 ms. */
    int64_t capped = mono_ms() - t0;
    if (capped > 4 + 8 * 8 + 900)
        fail_msg("9 waits capped at 8 ms took %lld ms", (long long)capped);

    mp_result_clear(&r);
    mp_client_free(c);
    mock_free(m);
    mock_free(m2);
}

/* ------------------------------------------------------------------------ */
/* Transport failures                                                       */
/* ------------------------------------------------------------------------ */

static void test_network_error_retried(void **state) {
    (void)state;
    mock *m = mock_new();
    SCRIPT(m, {.fail = MP_ERR_NETWORK, .errtext = "Connection refused"},
           {.fail = MP_ERR_TIMEOUT, .errtext = "Operation timed out"}, {.status = 202});
    mp_client *c = client_on(m);
    mp_batch batch = test_batch();
    mp_result r = {0};

    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_OK);
    assert_int_equal(r.attempts, 3);
    assert_int_equal(r.status, 202);
    assert_string_equal(r.transport_error, "");
    assert_memory_equal(m->reqs[0].body, m->reqs[2].body, m->reqs[0].body_len);

    mp_result_clear(&r);
    mp_client_free(c);
    mock_free(m);
}

static void test_transport_failures_reported(void **state) {
    (void)state;
    static const struct {
        mp_error err;
        const char *text;
    } cases[] = {
        {MP_ERR_NETWORK, "Failed to connect to 127.0.0.1 port 9: Connection refused"},
        {MP_ERR_TIMEOUT, "Operation timed out after 5001 milliseconds with 0 bytes received"},
    };
    for (size_t i = 0; i < 2; i++) {
        mock *m = mock_new();
        m->fallback.fail = cases[i].err;
        m->fallback.errtext = cases[i].text;
        mp_client_options o = opts_for(m);
        o.max_attempts = 2;
        mp_client *c = client_new(&o);
        mp_batch batch = test_batch();
        mp_result r = {0};

        assert_int_equal(mp_client_upload(c, &batch, &r, NULL), cases[i].err);
        assert_int_equal(r.error, cases[i].err);
        assert_int_equal(r.outcome, MP_OUTCOME_RETRIABLE);
        assert_int_equal(r.status, 0);
        assert_int_equal(r.attempts, 2);
        assert_string_equal(r.transport_error, cases[i].text);
        assert_int_equal(m->req_count, 2);

        mp_result_clear(&r);
        mp_client_free(c);
        mock_free(m);
    }

    /* A transport that gives no reason: the error's own description stands in. */
    mock *m = mock_new();
    m->fallback.fail = MP_ERR_NETWORK;
    mp_client_options o = opts_for(m);
    o.max_attempts = 1;
    mp_client *c = client_new(&o);
    mp_batch batch = test_batch();
    mp_result r = {0};
    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_ERR_NETWORK);
    assert_string_equal(r.transport_error, mp_strerror(MP_ERR_NETWORK));
    mp_result_clear(&r);
    mp_client_free(c);
    mock_free(m);
}

/* ------------------------------------------------------------------------ */
/* Limits, validation, endpoints                                            */
/* ------------------------------------------------------------------------ */

static void test_more_than_100_batches_refused(void **state) {
    (void)state;
    mock *m = mock_new();
    mp_client *c = client_on(m);
    mp_batch batches[101];
    for (int i = 0; i < 101; i++)
        batches[i] = test_batch();
    mp_result r = {0};
    mp_diag *d = mp_diag_new();

    assert_int_equal(mp_client_upload_bulk(c, batches, 101, &r, d), MP_ERR_LIMIT);
    assert_int_equal(r.error, MP_ERR_LIMIT);
    assert_int_equal(r.outcome, MP_OUTCOME_REJECTED);
    assert_int_equal(r.attempts, 0);
    assert_int_equal(m->req_count, 0);
    const mp_problem *p = problem_with(d, MP_ERR_LIMIT);
    assert_non_null(strstr(p->message, "100"));
    assert_non_null(strstr(p->message, "101"));
    mp_diag_clear(d);
    assert_int_equal(mp_client_upload_historical(c, batches, 101, &r, d), MP_ERR_LIMIT);
    assert_int_equal(m->req_count, 0);

    mp_diag_free(d);
    mp_result_clear(&r);
    mp_client_free(c);
    mock_free(m);
}

static void test_100_batches_sent(void **state) {
    (void)state;
    mock *m = mock_new();
    mp_client *c = client_on(m);
    mp_batch batches[100];
    for (int i = 0; i < 100; i++)
        batches[i] = test_batch();
    batches[7].source_request_id = "caller-id-7";
    mp_result r = {0};

    assert_int_equal(mp_client_upload_bulk(c, batches, 100, &r, NULL), MP_OK);
    assert_int_equal(r.attempts, 1);
    assert_int_equal(m->req_count, 1);
    assert_string_equal(m->reqs[0].url, BASE "/bulkevents");
    assert_int_equal(m->reqs[0].body[0], '[');
    /* The caller's batches are untouched. */
    for (int i = 0; i < 100; i++) {
        if (i != 7)
            assert_null(batches[i].source_request_id);
    }
    assert_string_equal(batches[7].source_request_id, "caller-id-7");

    mp_document *doc = decode_body(&m->reqs[0]);
    assert_int_equal(mp_document_count(doc), 100);
    for (size_t i = 0; i < 100; i++) {
        const char *id = mp_document_batch(doc, i)->source_request_id;
        assert_non_null(id);
        if (i == 7) {
            assert_string_equal(id, "caller-id-7");
            continue;
        }
        assert_true(is_uuid_v4(id));
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(id, mp_document_batch(doc, j)->source_request_id);
    }
    mp_document_free(doc);

    mp_result_clear(&r);
    mp_client_free(c);
    mock_free(m);
}

/* Batches of about 100 KB each (25 attributes of 4000 characters): each is
 * under the 128 KB batch limit; three make a body over 256 KB. */
typedef struct big_batch {
    char value[4001];
    char names[25][8];
    mp_attribute attrs[25];
    mp_event event;
} big_batch;

static void big_batch_init(big_batch *bb) {
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
    bb->event.common.custom_attributes.count = 25;
}

static void test_body_of_256kb_refused(void **state) {
    (void)state;
    big_batch *bb = malloc(sizeof *bb);
    assert_non_null(bb);
    big_batch_init(bb);
    mp_batch batches[3];
    for (int i = 0; i < 3; i++) {
        batches[i] = test_batch();
        batches[i].events.items = &bb->event;
        /* Each alone is valid and under 128 KB. */
        assert_int_equal(mp_validate_batch(&batches[i], NULL, 0, NULL), MP_OK);
    }
    mock *m = mock_new();
    mp_client *c = client_on(m);
    mp_result r = {0};
    mp_diag *d = mp_diag_new();

    assert_int_equal(mp_client_upload_bulk(c, batches, 3, &r, d), MP_ERR_LIMIT);
    assert_int_equal(r.outcome, MP_OUTCOME_REJECTED);
    assert_int_equal(r.attempts, 0);
    assert_int_equal(m->req_count, 0);
    const mp_problem *p = problem_with(d, MP_ERR_LIMIT);
    assert_non_null(strstr(p->message, "262144"));

    /* Two of them (about 200 KB) go out. */
    mp_diag_clear(d);
    assert_int_equal(mp_client_upload_bulk(c, batches, 2, &r, d), MP_OK);
    assert_int_equal(m->req_count, 1);
    assert_true(m->reqs[0].body_len > 200000 && m->reqs[0].body_len < 262144);

    mp_diag_free(d);
    mp_result_clear(&r);
    mp_client_free(c);
    mock_free(m);
    free(bb);
}

static void test_invalid_batch_not_sent(void **state) {
    (void)state;
    mock *m = mock_new();
    mp_client *c = client_on(m);
    mp_batch batch = test_batch();
    batch.environment = MP_ENVIRONMENT_UNSET;
    mp_result r = {0};
    mp_diag *d = mp_diag_new();

    assert_int_equal(mp_client_upload(c, &batch, &r, d), MP_ERR_INVALID);
    assert_int_equal(r.error, MP_ERR_INVALID);
    assert_int_equal(r.outcome, MP_OUTCOME_REJECTED);
    assert_int_equal(r.attempts, 0);
    assert_int_equal(m->req_count, 0);
    const mp_problem *p = problem_with(d, MP_ERR_INVALID);
    assert_string_equal(p->path, "environment");

    /* In a bulk request the problem names the batch. */
    mp_batch two[2] = {test_batch(), batch};
    mp_diag_clear(d);
    assert_int_equal(mp_client_upload_bulk(c, two, 2, &r, d), MP_ERR_INVALID);
    p = problem_with(d, MP_ERR_INVALID);
    assert_string_equal(p->path, "environment");
    assert_int_equal(p->batch, 1);
    assert_int_equal(m->req_count, 0);
    mp_client_free(c);

    /* skip_validation: the server decides. */
    mp_client_options o = opts_for(m);
    o.skip_validation = 1;
    c = client_new(&o);
    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_OK);
    assert_int_equal(m->req_count, 1);

    mp_diag_free(d);
    mp_result_clear(&r);
    mp_client_free(c);
    mock_free(m);
}

static void test_historical(void **state) {
    (void)state;
    mock *m = mock_new();
    mp_client *c = client_on(m);
    int64_t now = now_ms(CLOCK_REALTIME);
    mp_event recent = test_event, old = test_event;
    recent.common.timestamp_unixtime_ms = MP_INT(now - 3600 * 1000);
    old.common.timestamp_unixtime_ms = MP_INT(now - 100 * DAY_MS);
    mp_batch batch = test_batch();
    batch.events.items = &recent;
    mp_result r = {0};
    mp_diag *d = mp_diag_new();

    assert_int_equal(mp_client_upload_historical(c, &batch, 1, &r, d), MP_ERR_INVALID);
    assert_int_equal(r.outcome, MP_OUTCOME_REJECTED);
    assert_int_equal(m->req_count, 0);
    assert_string_equal(problem_with(d, MP_ERR_INVALID)->path,
                        "events[0].data.timestamp_unixtime_ms");

    /* Just under 72 hours is still too recent. */
    recent.common.timestamp_unixtime_ms = MP_INT(now - 71 * 3600 * 1000LL);
    mp_diag_clear(d);
    assert_int_equal(mp_client_upload_historical(c, &batch, 1, &r, d), MP_ERR_INVALID);
    assert_int_equal(m->req_count, 0);

    batch.events.items = &old;
    mp_diag_clear(d);
    assert_int_equal(mp_client_upload_historical(c, &batch, 1, &r, d), MP_OK);
    assert_int_equal(m->req_count, 1);
    assert_string_equal(m->reqs[0].url, BASE "/bulkevents/historical");
    mp_document *doc = decode_body(&m->reqs[0]);
    assert_int_equal(mp_document_count(doc), 1);
    assert_int_equal(mp_document_batch(doc, 0)->events.items[0].common.timestamp_unixtime_ms.value,
                     now - 100 * DAY_MS);
    mp_document_free(doc);

    mp_diag_free(d);
    mp_result_clear(&r);
    mp_client_free(c);
    mock_free(m);
}

/* ------------------------------------------------------------------------ */
/* Configuration                                                            */
/* ------------------------------------------------------------------------ */

static void expect_base_url(const char *key, mp_pod pod, const char *base_url, const char *want) {
    mock *m = mock_new();
    mp_client_options o = opts_for(m);
    o.api_key = key;
    o.pod = pod;
    o.base_url = base_url;
    mp_client *c = client_new(&o);
    if (strcmp(mp_client_base_url(c), want) != 0)
        fail_msg("key %s pod %d base_url %s: got %s, want %s", key, (int)pod,
                 base_url ? base_url : "NULL", mp_client_base_url(c), want);
    mp_batch batch = test_batch();
    assert_int_equal(mp_client_upload(c, &batch, NULL, NULL), MP_OK);
    char url[200];
    snprintf(url, sizeof url, "%s/events", want);
    assert_string_equal(m->reqs[0].url, url);
    mp_client_free(c);
    mock_free(m);
}

/* Sets or unsets an environment variable; returns a copy of its old value. */
static char *swap_env(const char *name, const char *value);
static void restore_env(const char *name, char *saved);

static void test_pods_and_base_url(void **state) {
    (void)state;
    char *env = swap_env("MPARTICLE_BASE_URL", NULL);
    expect_base_url("us2-abc123", MP_POD_AUTO, NULL, "https://s2s.us2.mparticle.com/v2");
    expect_base_url("US2-abc123", MP_POD_AUTO, NULL, "https://s2s.us2.mparticle.com/v2");
    expect_base_url("eu1-abc123", MP_POD_AUTO, NULL, "https://s2s.eu1.mparticle.com/v2");
    expect_base_url("au1-abc123", MP_POD_AUTO, NULL, "https://s2s.au1.mparticle.com/v2");
    expect_base_url("us1-abc123", MP_POD_AUTO, NULL, "https://s2s.mparticle.com/v2");
    expect_base_url("abc123", MP_POD_AUTO, NULL, "https://s2s.mparticle.com/v2");
    expect_base_url("xx9-abc123", MP_POD_AUTO, NULL, "https://s2s.mparticle.com/v2");
    expect_base_url("us2abc123", MP_POD_AUTO, NULL, "https://s2s.mparticle.com/v2");
    expect_base_url("us22-abc123", MP_POD_AUTO, NULL, "https://s2s.mparticle.com/v2");
    expect_base_url("us2-abc123", MP_POD_EU1, NULL, "https://s2s.eu1.mparticle.com/v2");
    expect_base_url("eu1-abc123", MP_POD_US1, NULL, "https://s2s.mparticle.com/v2");
    expect_base_url("abc123", MP_POD_AU1, NULL, "https://s2s.au1.mparticle.com/v2");
    expect_base_url("abc123", MP_POD_US2, NULL, "https://s2s.us2.mparticle.com/v2");
    /* base_url beats pod and prefix; trailing slashes go. */
    expect_base_url("us2-abc123", MP_POD_EU1, "http://127.0.0.1:9/v2/", "http://127.0.0.1:9/v2");
    expect_base_url("abc123", MP_POD_AUTO, "http://127.0.0.1:9/v2//", "http://127.0.0.1:9/v2");
    expect_base_url("abc123", MP_POD_AUTO, "HTTPS://Example.test/v2", "HTTPS://Example.test/v2");

    /* MPARTICLE_BASE_URL comes between base_url and the pod; empty = unset. */
    free(swap_env("MPARTICLE_BASE_URL", "http://127.0.0.1:7/v2/"));
    expect_base_url("us2-abc123", MP_POD_EU1, NULL, "http://127.0.0.1:7/v2");
    expect_base_url("us2-abc123", MP_POD_AUTO, NULL, "http://127.0.0.1:7/v2");
    expect_base_url("us2-abc123", MP_POD_AUTO, "http://127.0.0.1:9/v2", "http://127.0.0.1:9/v2");
    free(swap_env("MPARTICLE_BASE_URL", ""));
    expect_base_url("us2-abc123", MP_POD_AUTO, NULL, "https://s2s.us2.mparticle.com/v2");
    /* A bad one is refused like a bad option. */
    free(swap_env("MPARTICLE_BASE_URL", "ftp://x"));
    mock *m = mock_new();
    mp_client_options o = opts_for(m);
    o.base_url = NULL;
    mp_client *c = NULL;
    assert_int_equal(mp_client_new(&o, &c, NULL), MP_ERR_INVALID_ARGUMENT);
    assert_null(c);
    mock_free(m);
    restore_env("MPARTICLE_BASE_URL", env);
}

/* mp_client_new() fails with MP_ERR_INVALID_ARGUMENT, names `path`, and destroys the transport. */
static void expect_refused(const mp_client_options *o, mock *m, const char *path) {
    mp_client *c = (mp_client *)(uintptr_t)1;
    mp_diag *d = mp_diag_new();
    int destroyed = m->destroyed;
    assert_int_equal(mp_client_new(o, &c, d), MP_ERR_INVALID_ARGUMENT);
    assert_null(c);
    const mp_problem *p = problem_with(d, MP_ERR_INVALID_ARGUMENT);
    if (strcmp(p->path, path) != 0)
        fail_msg("refused with path \"%s\" (%s), want \"%s\"", p->path, p->message, path);
    assert_int_equal(m->destroyed, destroyed + 1);
    assert_int_equal(m->req_count, 0);
    mp_diag_free(d);
}

/* Sets or unsets an environment variable; returns a copy of its old value. */
static char *swap_env(const char *name, const char *value) {
    const char *old = getenv(name);
    char *saved = old ? dup_str(old) : NULL;
    if (value)
        setenv(name, value, 1);
    else
        unsetenv(name);
    return saved;
}

static void restore_env(const char *name, char *saved) {
    if (saved)
        setenv(name, saved, 1);
    else
        unsetenv(name);
    free(saved);
}

static void test_bad_options_refused(void **state) {
    (void)state;
    char *key = swap_env("MPARTICLE_API_KEY", NULL);
    char *secret = swap_env("MPARTICLE_API_SECRET", NULL);
    mock *m = mock_new();
    mp_client_options o = opts_for(m);

    o.base_url = "ftp://x";
    expect_refused(&o, m, "base_url");
    o.base_url = "127.0.0.1:8080/v2";
    expect_refused(&o, m, "base_url");
    o.base_url = BASE;

    o.api_key = NULL;
    expect_refused(&o, m, "api_key");
    o.api_key = "";
    expect_refused(&o, m, "api_key");
    o.api_key = KEY;
    o.api_secret = NULL;
    expect_refused(&o, m, "api_secret");
    o.api_secret = SECRET;

    const char *smuggle[] = {"X-Ok: 1", "X-Bad: a\r\nX-Injected: b"};
    o.headers = smuggle;
    o.header_count = 2;
    expect_refused(&o, m, "headers[1]");
    const char *lf[] = {"X-Bad: a\nb"};
    o.headers = lf;
    o.header_count = 1;
    expect_refused(&o, m, "headers[0]");
    const char *no_colon[] = {"X-Bad"};
    o.headers = no_colon;
    expect_refused(&o, m, "headers[0]");
    const char *bad_name[] = {"X Bad: 1"};
    o.headers = bad_name;
    expect_refused(&o, m, "headers[0]");
    const char *empty_name[] = {": 1"};
    o.headers = empty_name;
    expect_refused(&o, m, "headers[0]");
    o.headers = NULL;
    o.header_count = 1;
    expect_refused(&o, m, "headers");
    o.header_count = 0;

    o.pod = (mp_pod)99;
    expect_refused(&o, m, "pod");
    o.pod = MP_POD_AUTO;

    /* No out pointer: still owns (and destroys) the transport. */
    int destroyed = m->destroyed;
    assert_int_equal(mp_client_new(&o, NULL, NULL), MP_ERR_INVALID_ARGUMENT);
    assert_int_equal(m->destroyed, destroyed + 1);

    mock_free(m);

    /* A transport without send() is refused (it has nothing else to destroy). */
    mock *m2 = mock_new();
    mp_transport t = {NULL, mock_destroy, m2};
    o = opts_for(m2);
    o.transport = &t;
    expect_refused(&o, m2, "transport");
    mock_free(m2);

    restore_env("MPARTICLE_API_KEY", key);
    restore_env("MPARTICLE_API_SECRET", secret);
}

static void test_credentials_from_environment(void **state) {
    (void)state;
    char *key = swap_env("MPARTICLE_API_KEY", "eu1-envkey");
    char *secret = swap_env("MPARTICLE_API_SECRET", "envsecret");
    mock *m = mock_new();
    mp_client_options o = opts_for(m);
    o.api_key = NULL;
    o.api_secret = NULL;
    o.base_url = NULL;
    mp_client *c = client_new(&o);
    assert_string_equal(mp_client_base_url(c), "https://s2s.eu1.mparticle.com/v2");
    mp_batch batch = test_batch();
    assert_int_equal(mp_client_upload(c, &batch, NULL, NULL), MP_OK);
    /* base64("eu1-envkey:envsecret") */
    assert_string_equal(header_of(&m->reqs[0], "Authorization"),
                        "Basic ZXUxLWVudmtleTplbnZzZWNyZXQ=");
    mp_client_free(c);

    /* Explicit options win over the environment. */
    o = opts_for(m);
    c = client_new(&o);
    assert_int_equal(mp_client_upload(c, &batch, NULL, NULL), MP_OK);
    assert_string_equal(header_of(&m->reqs[1], "Authorization"), AUTH);
    mp_client_free(c);
    mock_free(m);

    /* No options at all: the environment and the libcurl transport. */
    c = NULL;
    assert_int_equal(mp_client_new(NULL, &c, NULL), MP_OK);
    assert_non_null(c);
    assert_string_equal(mp_client_base_url(c), "https://s2s.eu1.mparticle.com/v2");
    mp_client_free(c);

    restore_env("MPARTICLE_API_KEY", key);
    restore_env("MPARTICLE_API_SECRET", secret);
}

/* Authorization for credentials of every length modulo 3 (base64 padding). */
static void test_basic_auth_encoding(void **state) {
    (void)state;
    static const struct {
        const char *key, *secret, *auth;
    } cases[] = {
        {"a", "b", "Basic YTpi"},           /* 3 bytes: no padding */
        {"ab", "c", "Basic YWI6Yw=="},      /* 4 bytes */
        {"ab", "cd", "Basic YWI6Y2Q="},     /* 5 bytes */
        {"k\xc3\xa9y", "s", "Basic a8OpeTpz"}, /* UTF-8 bytes as they are */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mock *m = mock_new();
        mp_client_options o = opts_for(m);
        o.api_key = cases[i].key;
        o.api_secret = cases[i].secret;
        mp_client *c = client_new(&o);
        mp_batch batch = test_batch();
        assert_int_equal(mp_client_upload(c, &batch, NULL, NULL), MP_OK);
        assert_string_equal(header_of(&m->reqs[0], "Authorization"), cases[i].auth);
        mp_client_free(c);
        mock_free(m);
    }
}

static void test_headers_and_timeouts(void **state) {
    (void)state;
    mock *m = mock_new();
    mp_client_options o = opts_for(m);
    const char *extra[] = {"X-Test: 1", "X-Other:two words", "X-Empty:"};
    o.headers = extra;
    o.header_count = 3;
    o.user_agent = "my-relay/2.0";
    o.connect_timeout_ms = 1234;
    o.timeout_ms = 5678;
    mp_client *c = client_new(&o);
    mp_batch batch = test_batch();
    assert_int_equal(mp_client_upload(c, &batch, NULL, NULL), MP_OK);
    const recorded *q = &m->reqs[0];
    assert_string_equal(header_of(q, "X-Test"), "1");
    assert_string_equal(header_of(q, "X-Other"), "two words");
    assert_string_equal(header_of(q, "X-Empty"), "");
    assert_string_equal(header_of(q, "User-Agent"), "my-relay/2.0");
    assert_string_equal(header_of(q, "Authorization"), AUTH);
    assert_int_equal(q->header_count, 4 + 3);
    assert_int_equal(q->connect_timeout_ms, 1234);
    assert_int_equal(q->timeout_ms, 5678);
    mp_client_free(c);

    /* "" sends no User-Agent at all (docs/api-notes.md §1.4). */
    o = opts_for(m);
    o.user_agent = "";
    c = client_new(&o);
    assert_int_equal(mp_client_upload(c, &batch, NULL, NULL), MP_OK);
    assert_null(header_of(&m->reqs[1], "User-Agent"));
    assert_int_equal(m->reqs[1].header_count, 3);
    mp_client_free(c);
    mock_free(m);
}

/* ------------------------------------------------------------------------ */
/* Results                                                                  */
/* ------------------------------------------------------------------------ */

static void test_rate_limit_headers(void **state) {
    (void)state;
    mock *m = mock_new();
    SCRIPT(m, {.status = 202, .headers = {"X-MP-Rate-Limit-Percentage-Used: 92"}},
           {.status = 429, .headers = {"x-mp-rate-limit-exceeded: app"}});
    mp_client_options o = opts_for(m);
    o.max_attempts = 1;
    mp_client *c = client_new(&o);
    mp_batch batch = test_batch();
    mp_result r = {0};

    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_OK);
    assert_int_equal(r.rate_limit_percentage_used, 92);
    assert_string_equal(r.rate_limit_exceeded, "");
    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_ERR_HTTP);
    assert_int_equal(r.rate_limit_percentage_used, -1);
    assert_string_equal(r.rate_limit_exceeded, "app");

    mp_result_clear(&r);
    mp_client_free(c);
    mock_free(m);
}

/* A result is reused across calls: the second call's values replace the
 * first's, and nothing leaks (ASan). */
static void test_result_reuse_and_clear(void **state) {
    (void)state;
    mock *m = mock_new();
    SCRIPT(m,
           {.status = 400,
            .headers = {"Retry-After: 7", "X-mp-rate-limit-percentage-used: 50",
                        "X-mp-rate-limit-exceeded: org"},
            .body = BAD_REQUEST_BODY},
           {.fail = MP_ERR_NETWORK, .errtext = "reset by peer"}, {.status = 202});
    mp_client_options o = opts_for(m);
    o.max_attempts = 1;
    mp_client *c = client_new(&o);
    mp_batch batch = test_batch();
    mp_result r = {0};

    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_ERR_HTTP);
    assert_int_equal(r.error_count, 1);
    assert_non_null(r.body);
    assert_int_equal(r.retry_after_ms, 7000);
    assert_int_equal(r.rate_limit_percentage_used, 50);
    assert_string_equal(r.rate_limit_exceeded, "org");
    char first_id[64];
    snprintf(first_id, sizeof first_id, "%s", r.source_request_id);

    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_ERR_NETWORK);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.transport_error, "reset by peer");
    assert_int_equal(r.error_count, 0);
    assert_null(r.errors);
    assert_null(r.body);
    assert_int_equal(r.retry_after_ms, -1);
    assert_int_equal(r.rate_limit_percentage_used, -1);
    assert_string_equal(r.rate_limit_exceeded, "");

    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_OK);
    assert_int_equal(r.status, 202);
    assert_int_equal(r.attempts, 1);
    assert_string_equal(r.transport_error, "");
    assert_string_not_equal(r.source_request_id, first_id);

    /* The 400 again, then clear: everything zero. */
    SCRIPT(m, {.status = 400, .body = BAD_REQUEST_BODY});
    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_ERR_HTTP);
    mp_result_clear(&r);
    mp_result zero;
    memset(&zero, 0, sizeof zero);
    assert_memory_equal(&r, &zero, sizeof r);
    mp_result_clear(&r);

    mp_client_free(c);
    mock_free(m);
}

/* A 5xx and then a timeout: the call reports the timeout, the last attempt. */
static void test_timeout_after_5xx(void **state) {
    (void)state;
    mock *m = mock_new();
    SCRIPT(m,
           {.status = 503,
            .headers = {"Retry-After: 0"},
            .body = "{\"errors\":[{\"code\":\"UNAVAILABLE\",\"message\":\"later\"}]}"},
           {.fail = MP_ERR_TIMEOUT, .errtext = "timed out"});
    mp_client_options o = opts_for(m);
    o.max_attempts = 2;
    mp_client *c = client_new(&o);
    mp_batch batch = test_batch();
    mp_result r = {0};

    assert_int_equal(mp_client_upload(c, &batch, &r, NULL), MP_ERR_TIMEOUT);
    assert_int_equal(r.error, MP_ERR_TIMEOUT);
    assert_int_equal(r.outcome, MP_OUTCOME_RETRIABLE);
    assert_int_equal(r.attempts, 2);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.transport_error, "timed out");

    mp_result_clear(&r);
    mp_client_free(c);
    mock_free(m);
}

/* ------------------------------------------------------------------------ */
/* Threads                                                                  */
/* ------------------------------------------------------------------------ */

enum { THREADS = 8, CALLS = 100 };

/* Call ids are in the last group of the source_request_id:
 * 00000000-0000-4000-8000-TTTTIIIIIIII. Every 10th call is answered 503 the
 * first time its id is seen, then 202. */
static step decide_every_tenth(mock *m, const mp_http_request *req) {
    static const char key[] = "\"source_request_id\":\"";
    step s;
    memset(&s, 0, sizeof s);
    s.status = 202;
    size_t klen = sizeof key - 1;
    for (size_t i = 0; i + klen + 36 <= req->body_len; i++) {
        if (memcmp(req->body + i, key, klen) != 0)
            continue;
        const char *id = req->body + i + klen;
        int t = (id[24] - '0') * 1000 + (id[25] - '0') * 100 + (id[26] - '0') * 10 + (id[27] - '0');
        int call = atoi(id + 28);
        if (t < THREADS && call < CALLS) {
            unsigned n = m->counts[t * CALLS + call]++;
            if (call % 10 == 0 && n == 0)
                s.status = 503;
        }
        break;
    }
    return s;
}

typedef struct worker {
    mp_client *client;
    int index;
    mp_error errors[CALLS];
    int attempts[CALLS];
} worker;

static void *worker_run(void *arg) {
    worker *w = arg;
    mp_result r;
    memset(&r, 0, sizeof r);
    for (int i = 0; i < CALLS; i++) {
        char id[40];
        snprintf(id, sizeof id, "00000000-0000-4000-8000-%04d%08d", w->index, i);
        mp_batch batch = test_batch();
        batch.source_request_id = id;
        w->errors[i] = mp_client_upload(w->client, &batch, &r, NULL);
        w->attempts[i] = r.attempts;
    }
    mp_result_clear(&r);
    return NULL;
}

static void test_threads_share_one_client(void **state) {
    (void)state;
    mock *m = mock_new();
    m->decide = decide_every_tenth;
    mp_client *c = client_on(m);
    worker *workers = calloc(THREADS, sizeof *workers);
    pthread_t tids[THREADS];
    assert_non_null(workers);
    for (int t = 0; t < THREADS; t++) {
        workers[t].client = c;
        workers[t].index = t;
        assert_int_equal(pthread_create(&tids[t], NULL, worker_run, &workers[t]), 0);
    }
    for (int t = 0; t < THREADS; t++)
        assert_int_equal(pthread_join(tids[t], NULL), 0);

    for (int t = 0; t < THREADS; t++) {
        for (int i = 0; i < CALLS; i++) {
            if (workers[t].errors[i] != MP_OK)
                fail_msg("thread %d call %d: %s", t, i, mp_error_name(workers[t].errors[i]));
            assert_int_equal(workers[t].attempts[i], i % 10 == 0 ? 2 : 1);
            assert_int_equal(m->counts[t * CALLS + i], i % 10 == 0 ? 2 : 1);
        }
    }
    assert_int_equal(m->req_count, THREADS * CALLS + THREADS * CALLS / 10);

    free(workers);
    mp_client_free(c);
    assert_int_equal(m->destroyed, 1);
    mock_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepted),
        cmocka_unit_test(test_own_source_request_id_is_kept),
        cmocka_unit_test(test_each_call_gets_its_own_id),
        cmocka_unit_test(test_null_result_and_diag),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_5xx_retried_with_the_same_bytes),
        cmocka_unit_test(test_408_and_429_retried),
        cmocka_unit_test(test_never_retried),
        cmocka_unit_test(test_400_errors_parsed),
        cmocka_unit_test(test_retry_after_waited_for),
        cmocka_unit_test(test_gate_refuses_without_sending),
        cmocka_unit_test(test_gate_opens_after_retry_after),
        cmocka_unit_test(test_retry_after_capped),
        cmocka_unit_test(test_retry_after_as_http_date),
        cmocka_unit_test(test_retry_after_zero_still_backs_off),
        cmocka_unit_test(test_status_outside_http_not_retried),
        cmocka_unit_test(test_tls_failure_not_retried),
        cmocka_unit_test(test_gate_remaining_visible),
        cmocka_unit_test(test_503_retry_after_does_not_gate),
        cmocka_unit_test(test_429_without_retry_after),
        cmocka_unit_test(test_attempts_bounded),
        cmocka_unit_test(test_total_time_bounded),
        cmocka_unit_test(test_backoff_grows_with_jitter),
        cmocka_unit_test(test_network_error_retried),
        cmocka_unit_test(test_transport_failures_reported),
        cmocka_unit_test(test_more_than_100_batches_refused),
        cmocka_unit_test(test_100_batches_sent),
        cmocka_unit_test(test_body_of_256kb_refused),
        cmocka_unit_test(test_invalid_batch_not_sent),
        cmocka_unit_test(test_historical),
        cmocka_unit_test(test_pods_and_base_url),
        cmocka_unit_test(test_bad_options_refused),
        cmocka_unit_test(test_credentials_from_environment),
        cmocka_unit_test(test_basic_auth_encoding),
        cmocka_unit_test(test_headers_and_timeouts),
        cmocka_unit_test(test_rate_limit_headers),
        cmocka_unit_test(test_result_reuse_and_clear),
        cmocka_unit_test(test_timeout_after_5xx),
        cmocka_unit_test(test_threads_share_one_client),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

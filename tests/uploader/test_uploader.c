/* The asynchronous uploader (include/mparticle/uploader.h) end to end: the
 * real libcurl transport against `mparticle serve` started in-process on a
 * free port, or against a socket on 127.0.0.1 that never answers.
 *
 * What is pinned down: every enqueued batch gets exactly one report and the
 * server records it exactly once, from 8 producer threads under connection
 * resets, random 5xx, scripted 429s and latency; flush() and close() keep
 * their deadlines against a server that never answers; the queue limits
 * (batches and bytes) and what enqueue does when they are reached; enqueue
 * never waits for the network; merging of one user's batches; retries,
 * expiry, rejections; 429 with Retry-After, shared with synchronous calls;
 * validation, ids, sizes; what the report callback may and may not do; fork;
 * enqueue during close; the versioned options.
 *
 * Run under ASan+UBSan and TSan as well (scripts/test.sh). Every wait is
 * bounded; timing bounds leave room for a loaded sanitizer build. */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mparticle/client.h"
#include "mparticle/codec.h"
#include "mparticle/serve.h"
#include "mparticle/uploader.h"
#include "support/generate.h"
#include "support/test_util.h"
#include "w1_structs.h" /* bench/: W1 built as C structs */

#define KEY "test-key"
#define SECRET "test-secret"

/* ------------------------------------------------------------------------ */
/* Time                                                                     */
/* ------------------------------------------------------------------------ */

static int64_t mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double mono_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* ------------------------------------------------------------------------ */
/* Server and client                                                        */
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

static mp_serve_stats serve_stats(const mp_server *s) {
    mp_serve_stats st;
    mp_serve_stats_get(s, &st);
    return st;
}

/* A client of s (or of o.base_url): KEY/SECRET and 1-5 ms backoffs unless o sets them. */
static mp_client *client_to(const mp_server *s, mp_client_options o) {
    char base[128];
    o.version = MP_CLIENT_OPTIONS_VERSION;
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

/* ------------------------------------------------------------------------ */
/* A server that never answers                                              */
/* ------------------------------------------------------------------------ */

/* Listens on 127.0.0.1. LISTEN_ONLY never accepts (the kernel completes the
 * handshakes and buffers the requests); ACCEPT_AND_READ accepts every
 * connection and reads and discards forever. Neither ever writes a byte. */
enum silent_mode { LISTEN_ONLY, ACCEPT_AND_READ };

typedef struct silent {
    int fd;
    uint16_t port;
    enum silent_mode mode;
    pthread_t thread;
    atomic_int stop;
    int conns[128];
    int nconns;
    atomic_long bytes_read;
    char base_url[64];
} silent;

static void *silent_run(void *arg) {
    silent *s = arg;
    char buf[4096];
    while (!atomic_load(&s->stop)) {
        struct pollfd p[129];
        p[0] = (struct pollfd){.fd = s->fd, .events = POLLIN};
        for (int i = 0; i < s->nconns; i++)
            p[i + 1] = (struct pollfd){.fd = s->conns[i], .events = POLLIN};
        if (poll(p, (nfds_t)s->nconns + 1, 50) <= 0)
            continue;
        if ((p[0].revents & POLLIN) && s->nconns < 128) {
            int c = accept(s->fd, NULL, NULL);
            if (c >= 0)
                s->conns[s->nconns++] = c;
        }
        for (int i = 0; i < s->nconns; i++) {
            if (!(p[i + 1].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t n = read(s->conns[i], buf, sizeof buf);
            if (n > 0) {
                atomic_fetch_add(&s->bytes_read, (long)n);
            } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                /* The client went away: forget the socket (keep the slots compact;
                 * this poll round's revents for the moved one are just skipped). */
                close(s->conns[i]);
                s->conns[i] = s->conns[--s->nconns];
                p[i + 1].revents = 0;
            }
        }
    }
    return NULL;
}

static void silent_start(silent *s, enum silent_mode mode) {
    memset(s, 0, sizeof *s);
    atomic_init(&s->stop, 0);
    atomic_init(&s->bytes_read, 0);
    s->mode = mode;
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s->fd >= 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(s->fd, 128), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &len), 0);
    s->port = ntohs(a.sin_port);
    snprintf(s->base_url, sizeof s->base_url, "http://127.0.0.1:%u/v2", (unsigned)s->port);
    if (mode == ACCEPT_AND_READ)
        assert_int_equal(pthread_create(&s->thread, NULL, silent_run, s), 0);
}

static void silent_stop(silent *s) {
    if (s->mode == ACCEPT_AND_READ) {
        atomic_store(&s->stop, 1);
        pthread_join(s->thread, NULL);
        for (int i = 0; i < s->nconns; i++)
            close(s->conns[i]);
    }
    close(s->fd);
}

/* A client of a silent server whose own transport timeout (60 s) is far
 * past every deadline tested: only the uploader's cancellation can end a
 * request early. */
static mp_client *client_to_silent(const silent *s) {
    return client_to(NULL, (mp_client_options){.base_url = s->base_url, .timeout_ms = 60000});
}

/* ------------------------------------------------------------------------ */
/* Batches                                                                  */
/* ------------------------------------------------------------------------ */

/* A small batch: one custom event of user `customer`. */
typedef struct small_batch {
    mp_batch batch;
    mp_event event;
    mp_attribute attrs[2];
    mp_user_identities ids;
    mp_device_info device;
    char name[48], value[48], customer[32];
} small_batch;

static void small_build(small_batch *b, const char *customer, int i) {
    memset(b, 0, sizeof *b);
    snprintf(b->customer, sizeof b->customer, "%s", customer);
    snprintf(b->name, sizeof b->name, "event-%s-%d", customer, i);
    snprintf(b->value, sizeof b->value, "value \"%d\" \xc3\xa9", i);
    b->attrs[0] = (mp_attribute){"text", MP_V_STRING(b->value)};
    b->attrs[1] = (mp_attribute){"index", MP_V_INT(i)};
    b->event = (mp_event){
        .event_type = MP_EVENT_CUSTOM_EVENT,
        .common = {.timestamp_unixtime_ms = MP_INT(1700000000000LL + i),
                   .custom_attributes = MP_LIST(mp_attribute_list, b->attrs)},
        .custom_event = {.event_name = b->name,
                         .custom_event_type = MP_CUSTOM_EVENT_TYPE_NAVIGATION}};
    b->ids = (mp_user_identities){.customer_id = b->customer};
    b->device = (mp_device_info){.ios_advertising_id = "607258d9-c28b-43ad-95ed-e9593025d5a1"};
    b->batch = (mp_batch){.environment = MP_ENVIRONMENT_DEVELOPMENT,
                          .user_identities = &b->ids,
                          .device_info = &b->device};
    b->batch.events.items = &b->event;
    b->batch.events.count = 1;
}

/* ------------------------------------------------------------------------ */
/* Reports                                                                  */
/* ------------------------------------------------------------------------ */

/* What one report said (copied: the report lives only during the callback). */
typedef struct rep {
    int seen;
    char srid[64], sent_as[64];
    mp_delivery_outcome outcome;
    mp_error error;
    int status, attempts;
    size_t event_count, bytes, error_count;
    char error_code[48];
    char reason[200];
    int64_t latency_ms;
    int64_t at_ms; /* mono_ms() when reported */
} rep;

typedef struct collector collector;
typedef void (*hook_fn)(collector *c, const mp_delivery_report *r);

/* Every report of one uploader, by tag: tag i (1-based) is reps[i - 1]. */
struct collector {
    pthread_mutex_t lock;
    rep *reps;
    size_t cap;
    size_t total;       /* reports */
    size_t bad_tag;     /* tags outside 1..cap */
    size_t null_fields; /* source_request_id, sent_as or reason NULL, or an id too long to keep */
    atomic_int in_cb;   /* callbacks running now */
    atomic_int overlap; /* a callback started while another ran */
    atomic_int close_returned;
    atomic_int after_close; /* reports after close() returned */
    hook_fn hook;
    void *hook_ctx;
    mp_uploader *up;
};

static collector *collector_new(size_t cap) {
    collector *c = calloc(1, sizeof *c);
    assert_non_null(c);
    c->reps = calloc(cap, sizeof *c->reps);
    assert_non_null(c->reps);
    c->cap = cap;
    pthread_mutex_init(&c->lock, NULL);
    return c;
}

static void collector_free(collector *c) {
    pthread_mutex_destroy(&c->lock);
    free(c->reps);
    free(c);
}

static void on_report(void *ctx, const mp_delivery_report *r) {
    collector *c = ctx;
    if (atomic_fetch_add(&c->in_cb, 1) != 0)
        atomic_fetch_add(&c->overlap, 1);
    if (atomic_load(&c->close_returned))
        atomic_fetch_add(&c->after_close, 1);
    uintptr_t tag = (uintptr_t)r->tag;
    pthread_mutex_lock(&c->lock);
    c->total++;
    if (!r->source_request_id || !r->sent_as || !r->reason ||
        strlen(r->source_request_id) >= sizeof c->reps[0].srid ||
        strlen(r->sent_as) >= sizeof c->reps[0].sent_as)
        c->null_fields++;
    if (tag < 1 || tag > c->cap) {
        c->bad_tag++;
    } else {
        rep *p = &c->reps[tag - 1];
        p->seen++;
        snprintf(p->srid, sizeof p->srid, "%s", r->source_request_id ? r->source_request_id : "");
        snprintf(p->sent_as, sizeof p->sent_as, "%s", r->sent_as ? r->sent_as : "");
        p->outcome = r->outcome;
        p->error = r->error;
        p->status = r->status;
        p->attempts = r->attempts;
        p->event_count = r->event_count;
        p->bytes = r->bytes;
        p->error_count = r->error_count;
        snprintf(p->error_code, sizeof p->error_code, "%s",
                 r->error_count && r->errors && r->errors[0].code ? r->errors[0].code : "");
        snprintf(p->reason, sizeof p->reason, "%s", r->reason ? r->reason : "");
        p->latency_ms = r->latency_ms;
        p->at_ms = mono_ms();
    }
    pthread_mutex_unlock(&c->lock);
    if (c->hook)
        c->hook(c, r);
    atomic_fetch_sub(&c->in_cb, 1);
}

static size_t collector_total(collector *c) {
    pthread_mutex_lock(&c->lock);
    size_t n = c->total;
    pthread_mutex_unlock(&c->lock);
    return n;
}

static rep collector_get(collector *c, size_t tag) {
    pthread_mutex_lock(&c->lock);
    rep r = c->reps[tag - 1];
    pthread_mutex_unlock(&c->lock);
    return r;
}

/* Tags 1..n each reported exactly once, nothing else reported, callbacks one at a time. */
static void expect_one_report_each(collector *c, size_t n) {
    pthread_mutex_lock(&c->lock);
    size_t total = c->total, bad = c->bad_tag, nulls = c->null_fields;
    size_t missing = 0, doubled = 0, first_bad = 0;
    for (size_t i = 0; i < c->cap; i++) {
        int want = i < n ? 1 : 0;
        if (c->reps[i].seen != want) {
            if (!first_bad)
                first_bad = i + 1;
            if (c->reps[i].seen < want)
                missing++;
            else
                doubled++;
        }
    }
    pthread_mutex_unlock(&c->lock);
    if (missing || doubled || bad || total != n)
        fail_msg("reports: %zu for %zu batches; %zu batches without one, %zu with more than one "
                 "or unexpected (first: tag %zu), %zu unknown tags",
                 total, n, missing, doubled, first_bad, bad);
    assert_int_equal(nulls, 0);
    assert_int_equal(atomic_load(&c->overlap), 0);
}

/* ------------------------------------------------------------------------ */
/* Uploader                                                                 */
/* ------------------------------------------------------------------------ */

static mp_uploader *uploader_new(mp_client *client, mp_uploader_options o, collector *col) {
    o.version = MP_UPLOADER_OPTIONS_VERSION;
    if (col) {
        o.on_report = on_report;
        o.report_ctx = col;
    }
    mp_uploader *up = NULL;
    mp_diag *d = mp_diag_new();
    mp_error err = mp_uploader_new(client, &o, &up, d);
    if (err != MP_OK)
        fail_msg("mp_uploader_new: %s (%s)", mp_error_name(err),
                 mp_diag_count(d) ? mp_diag_get(d, 0)->message : "");
    mp_diag_free(d);
    assert_non_null(up);
    if (col)
        col->up = up;
    return up;
}

static mp_error uploader_close(mp_uploader *up, long timeout_ms, collector *col) {
    mp_error err = mp_uploader_close(up, timeout_ms);
    if (col) {
        atomic_store(&col->close_returned, 1);
        col->up = NULL;
    }
    return err;
}

static mp_uploader_stats up_stats(mp_uploader *up) {
    mp_uploader_stats st = MP_UPLOADER_STATS_INIT;
    assert_int_equal(mp_uploader_stats_get(up, &st), MP_OK);
    return st;
}

/* Every enqueued batch is accounted for exactly once. */
static void expect_stats_consistent(const mp_uploader_stats *st) {
    if (st->enqueued != st->accepted + st->rejected + st->undelivered + st->expired + st->queued +
                            st->in_flight)
        fail_msg("stats: enqueued %llu != accepted %llu + rejected %llu + undelivered %llu + "
                 "expired %llu + queued %llu + in flight %llu",
                 (unsigned long long)st->enqueued, (unsigned long long)st->accepted,
                 (unsigned long long)st->rejected, (unsigned long long)st->undelivered,
                 (unsigned long long)st->expired, (unsigned long long)st->queued,
                 (unsigned long long)st->in_flight);
}

static void enqueue_ok(mp_uploader *up, const mp_batch *b, uintptr_t tag) {
    mp_diag *d = mp_diag_new();
    mp_error err = mp_uploader_enqueue(up, b, (void *)tag, d);
    if (err != MP_OK)
        fail_msg("enqueue of tag %lu: %s (%s)", (unsigned long)tag, mp_error_name(err),
                 mp_diag_count(d) ? mp_diag_get(d, 0)->message : "");
    mp_diag_free(d);
}

/* Polls until the uploader has `n` requests in flight, at most `ms`. */
static void wait_requests_in_flight(mp_uploader *up, uint64_t n, long ms) {
    int64_t end = mono_ms() + ms;
    while (up_stats(up).requests_in_flight < n) {
        if (mono_ms() > end)
            fail_msg("no request in flight after %ld ms", ms);
        sleep_ms(2);
    }
}

/* ------------------------------------------------------------------------ */
/* Record files                                                             */
/* ------------------------------------------------------------------------ */

typedef struct record {
    char path[256];
} record;

static void record_init(record *r) {
    const char *dir = getenv("TMPDIR");
    snprintf(r->path, sizeof r->path, "%s/mp-uploader-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(r->path);
    assert_true(fd >= 0);
    close(fd);
}

static void record_done(record *r) {
    remove(r->path);
}

/* The record decoded (one batch per line); *text must stay alive with it. */
typedef struct recorded {
    char *text;
    size_t lines;
    mp_document *doc; /* NULL when empty */
} recorded;

static void recorded_read(const record *r, recorded *out) {
    size_t len = 0;
    out->text = mp_test_read_file(r->path, &len);
    assert_non_null(out->text);
    out->lines = 0;
    for (size_t i = 0; i < len; i++)
        out->lines += out->text[i] == '\n';
    out->doc = NULL;
    if (out->lines == 0)
        return;
    mp_diag *d = mp_diag_new();
    mp_error err = mp_decode(out->text, len, &out->doc, d);
    if (err != MP_OK)
        fail_msg("the record does not decode: %s (%s)", mp_error_name(err),
                 mp_diag_count(d) ? mp_diag_get(d, 0)->message : "");
    mp_diag_free(d);
    assert_int_equal(mp_document_count(out->doc), out->lines);
}

static size_t recorded_count(const recorded *r) {
    return r->doc ? mp_document_count(r->doc) : 0;
}

static const mp_batch *recorded_batch(const recorded *r, size_t i) {
    return mp_document_batch(r->doc, i);
}

static void recorded_free(recorded *r) {
    mp_document_free(r->doc);
    free(r->text);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* ------------------------------------------------------------------------ */
/* 8 producers under faults                                                 */
/* ------------------------------------------------------------------------ */

enum { PRODUCERS = 8 };

typedef struct producer {
    mp_uploader *up;
    int first, count; /* tags first+1 .. first+count; batch i = W1 batch i */
    int generated_every; /* every n-th batch comes from the test generator (0 = never) */
    size_t *event_counts; /* expected events per tag (shared array, own slots) */
    mp_error first_error;
    int failed_at;
} producer;

static void *producer_run(void *arg) {
    producer *p = arg;
    w1_batch *w = malloc(sizeof *w);
    mp_gen *g = mp_gen_new((uint64_t)p->first + 1);
    mp_diag *d = mp_diag_new();
    p->first_error = MP_OK;
    for (int k = 0; k < p->count; k++) {
        int i = p->first + k;
        const mp_batch *b;
        mp_batch gb;
        char id[64];
        if (p->generated_every && i % p->generated_every == 0) {
            /* Every field set; its own source_request_id, unique and needing escapes. */
            mp_gen_reset(g);
            gb = *mp_gen_batch(g, i);
            snprintf(id, sizeof id, "gen \"%d\" caf\xc3\xa9 \\ /", i);
            gb.source_request_id = id;
            b = &gb;
        } else {
            w1_build(w, i);
            b = &w->batch;
        }
        p->event_counts[i] = b->events.count;
        mp_diag_clear(d);
        mp_error err = mp_uploader_enqueue(p->up, b, (void *)(uintptr_t)(i + 1), d);
        if (err != MP_OK) {
            p->first_error = err;
            p->failed_at = i;
            break;
        }
    }
    mp_diag_free(d);
    mp_gen_free(g);
    free(w);
    return NULL;
}

/* n batches from 8 threads into `up`; returns the expected event count per tag (free()). */
static size_t *produce(mp_uploader *up, int n, int generated_every) {
    size_t *events = calloc((size_t)n, sizeof *events);
    assert_non_null(events);
    producer p[PRODUCERS];
    pthread_t tids[PRODUCERS];
    for (int t = 0; t < PRODUCERS; t++) {
        p[t] = (producer){.up = up,
                          .first = t * (n / PRODUCERS),
                          .count = n / PRODUCERS,
                          .generated_every = generated_every,
                          .event_counts = events};
        assert_int_equal(pthread_create(&tids[t], NULL, producer_run, &p[t]), 0);
    }
    for (int t = 0; t < PRODUCERS; t++)
        assert_int_equal(pthread_join(tids[t], NULL), 0);
    for (int t = 0; t < PRODUCERS; t++) {
        if (p[t].first_error != MP_OK)
            fail_msg("producer %d: enqueue of batch %d: %s", t, p[t].failed_at,
                     mp_error_name(p[t].first_error));
    }
    return events;
}

/* Every tag 1..n was ACCEPTED once with the right event count, every id is
 * distinct, and the record holds exactly the reported ids, once each. */
static void expect_all_accepted_and_recorded(collector *col, size_t n, const size_t *events,
                                             const record *rec) {
    expect_one_report_each(col, n);
    char **ids = calloc(n, sizeof *ids);
    assert_non_null(ids);
    for (size_t i = 0; i < n; i++) {
        rep *r = &col->reps[i];
        if (r->outcome != MP_DELIVERY_ACCEPTED || r->error != MP_OK || r->status < 200 ||
            r->status > 299 || r->attempts < 1 || r->reason[0] != '\0')
            fail_msg("tag %zu: %s, %s, status %d, %d attempts, reason \"%s\"", i + 1,
                     mp_delivery_outcome_name(r->outcome), mp_error_name(r->error), r->status,
                     r->attempts, r->reason);
        assert_int_equal(r->event_count, events[i]);
        assert_true(r->bytes > 0);
        assert_string_equal(r->sent_as, r->srid); /* merge is off */
        ids[i] = r->srid;
    }
    qsort(ids, n, sizeof *ids, cmp_str);
    for (size_t i = 1; i < n; i++) {
        if (strcmp(ids[i - 1], ids[i]) == 0)
            fail_msg("source_request_id %s reported for two batches", ids[i]);
    }

    recorded rd;
    recorded_read(rec, &rd);
    if (recorded_count(&rd) != n)
        fail_msg("the record holds %zu batches for %zu accepted", recorded_count(&rd), n);
    const char **got = calloc(n, sizeof *got);
    assert_non_null(got);
    for (size_t i = 0; i < n; i++) {
        got[i] = recorded_batch(&rd, i)->source_request_id;
        assert_non_null(got[i]);
    }
    qsort(got, n, sizeof *got, cmp_str);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(got[i], ids[i]) != 0)
            fail_msg("record and reports differ: recorded id %s, reported id %s", got[i], ids[i]);
    }
    free(got);
    recorded_free(&rd);
    free(ids);
}

/* 8 producers, 2,400 batches (W1's shape, every 16th a generated batch with
 * every field), bulk requests, against 30% connection resets, 10% random 5xx
 * (Retry-After 1 s), two scripted 429s (Retry-After 1 s) and latency, with a
 * queue small enough that producers wait for room. */
static void test_producers_under_faults_bulk(void **state) {
    (void)state;
    enum { N = 2400 };
    record rec;
    record_init(&rec);
    const int script[] = {202, 429, 202, 202, MP_SERVE_SCRIPT_RESET, 429};
    mp_server *s = serve((mp_serve_options){.record_path = rec.path,
                                            .reset_rate = 0.3,
                                            .fail_rate = 0.1,
                                            .seed = 20261206,
                                            .latency_ms = 3,
                                            .threads = 4,
                                            .script = script,
                                            .script_len = 6});
    mp_client *c = client_to(s, (mp_client_options){.backoff_max_ms = 20});
    collector *col = collector_new(N);
    mp_uploader *up = uploader_new(c,
                                   (mp_uploader_options){.mode = MP_UPLOAD_BULK,
                                                         .max_queue_batches = 500,
                                                         .enqueue_timeout_ms = -1,
                                                         .max_in_flight = 4,
                                                         .delivery_timeout_ms = 120000},
                                   col);

    size_t *events = produce(up, N, 16);
    assert_int_equal(mp_uploader_flush(up, 60000), MP_OK);
    mp_uploader_stats st = up_stats(up);
    expect_stats_consistent(&st);
    assert_int_equal(st.enqueued, N);
    assert_int_equal(st.accepted, N);
    assert_int_equal(st.queued, 0);
    assert_int_equal(st.queued_bytes, 0);
    assert_int_equal(st.in_flight, 0);
    assert_int_equal(st.requests_in_flight, 0);
    assert_int_equal(st.rejected + st.undelivered + st.expired, 0);
    assert_int_equal(st.queue_full, 0); /* producers waited instead */
    assert_true(st.throttled >= 2);     /* the scripted 429s */
    assert_true(st.retries >= 1);
    assert_true(st.requests >= st.retries);
    mp_serve_stats ss = serve_stats(s);
    print_message("bulk under faults: %llu requests (%llu retries, %llu throttled), server: %llu "
                  "requests, %llu resets, %llu accepted, %llu duplicates\n",
                  (unsigned long long)st.requests, (unsigned long long)st.retries,
                  (unsigned long long)st.throttled, (unsigned long long)ss.requests,
                  (unsigned long long)ss.resets, (unsigned long long)ss.accepted,
                  (unsigned long long)ss.duplicates);
    assert_true(ss.resets > 0);
    assert_int_equal(ss.accepted, N);
    assert_int_equal(ss.rejected, 0);
    assert_int_equal(mp_uploader_flush(up, 0), MP_OK); /* nothing left: at once */

    assert_int_equal(uploader_close(up, 5000, col), MP_OK);
    expect_all_accepted_and_recorded(col, N, events, &rec);

    free(events);
    collector_free(col);
    mp_client_free(c);
    mp_serve_stop(s);
    record_done(&rec);
}

/* The same one batch per request: many more requests, so many more faults. */
static void test_producers_under_faults_single(void **state) {
    (void)state;
    enum { N = 400 };
    record rec;
    record_init(&rec);
    mp_server *s = serve((mp_serve_options){.record_path = rec.path,
                                            .reset_rate = 0.3,
                                            .fail_rate = 0.1,
                                            .seed = 7,
                                            .latency_ms = 2,
                                            .threads = 4,
                                            .retry_after = MP_SERVE_RETRY_AFTER_NONE});
    mp_client *c = client_to(s, (mp_client_options){.backoff_max_ms = 20});
    collector *col = collector_new(N);
    mp_uploader *up = uploader_new(c,
                                   (mp_uploader_options){.mode = MP_UPLOAD_SINGLE,
                                                         .enqueue_timeout_ms = -1,
                                                         .max_in_flight = 8,
                                                         .delivery_timeout_ms = 120000},
                                   col);

    size_t *events = produce(up, N, 0);
    assert_int_equal(mp_uploader_flush(up, 60000), MP_OK);
    mp_uploader_stats st = up_stats(up);
    expect_stats_consistent(&st);
    assert_int_equal(st.enqueued, N);
    assert_int_equal(st.accepted, N);
    assert_int_equal(st.queued, 0);
    assert_int_equal(st.in_flight, 0);
    /* One batch per request: every request is a batch's first attempt or a retry. */
    assert_int_equal(st.requests, N + st.retries);
    assert_true(st.retries > 0);
    mp_serve_stats ss = serve_stats(s);
    print_message("single under faults: %llu requests (%llu retries), server %llu requests, "
                  "%llu resets\n",
                  (unsigned long long)st.requests, (unsigned long long)st.retries,
                  (unsigned long long)ss.requests, (unsigned long long)ss.resets);
    assert_true(ss.resets > 0);
    assert_int_equal(ss.accepted, N);
    assert_true(ss.requests >= st.requests); /* libcurl may resend on a dead connection */

    assert_int_equal(uploader_close(up, 5000, col), MP_OK);
    expect_all_accepted_and_recorded(col, N, events, &rec);
    uint64_t attempts = 0;
    for (size_t i = 0; i < N; i++) {
        assert_int_equal(col->reps[i].status, 202);
        attempts += (uint64_t)col->reps[i].attempts;
    }
    assert_int_equal(attempts, st.requests);

    free(events);
    collector_free(col);
    mp_client_free(c);
    mp_serve_stop(s);
    record_done(&rec);
}

/* ------------------------------------------------------------------------ */
/* Deadlines against a server that never answers                            */
/* ------------------------------------------------------------------------ */

static void deadlines_against(enum silent_mode mode) {
    enum { N = 20 };
    silent sv;
    silent_start(&sv, mode);
    mp_client *c = client_to_silent(&sv);
    collector *col = collector_new(N);
    mp_uploader *up = uploader_new(
        c, (mp_uploader_options){.max_in_flight = 2, .linger_ms = -1}, col);
    w1_batch *w = malloc(sizeof *w);
    for (int i = 0; i < N; i++) {
        w1_build(w, i);
        enqueue_ok(up, &w->batch, (uintptr_t)i + 1);
    }
    wait_requests_in_flight(up, 1, 5000);

    int64_t t0 = mono_ms();
    assert_int_equal(mp_uploader_flush(up, 300), MP_ERR_TIMEOUT);
    int64_t took = mono_ms() - t0;
    print_message("flush(300) took %lld ms\n", (long long)took);
    assert_true(took >= 290);
    assert_true(took <= 300 + 500);
    t0 = mono_ms();
    assert_int_equal(mp_uploader_flush(up, 0), MP_ERR_TIMEOUT);
    assert_true(mono_ms() - t0 <= 200);
    assert_int_equal(collector_total(col), 0);
    mp_uploader_stats st = up_stats(up);
    expect_stats_consistent(&st);
    assert_int_equal(st.enqueued, N);
    assert_int_equal(st.queued + st.in_flight, N);
    assert_true(st.in_flight >= 1);

    t0 = mono_ms();
    assert_int_equal(uploader_close(up, 500, col), MP_ERR_TIMEOUT);
    took = mono_ms() - t0;
    print_message("close(500) took %lld ms\n", (long long)took);
    assert_true(took >= 490);
    if (took > 500 + 2000)
        fail_msg("close(500) took %lld ms: requests in flight were not abandoned",
                 (long long)took);
    /* Every batch reported undelivered, before close() returned. */
    expect_one_report_each(col, N);
    assert_int_equal(atomic_load(&col->after_close), 0);
    for (size_t i = 0; i < N; i++) {
        rep *r = &col->reps[i];
        assert_int_equal(r->outcome, MP_DELIVERY_UNDELIVERED);
        assert_int_not_equal(r->error, MP_OK);
        assert_int_equal(r->status, 0);
        assert_true(r->attempts <= 1);
        assert_true(r->reason[0] != '\0');
    }
    if (mode == ACCEPT_AND_READ)
        assert_true(atomic_load(&sv.bytes_read) > 0); /* requests did arrive */

    free(w);
    collector_free(col);
    mp_client_free(c);
    silent_stop(&sv);
}

static void test_deadlines_server_never_accepts(void **state) {
    (void)state;
    deadlines_against(LISTEN_ONLY);
}

static void test_deadlines_server_reads_forever(void **state) {
    (void)state;
    deadlines_against(ACCEPT_AND_READ);
}

/* ------------------------------------------------------------------------ */
/* Queue limits and enqueue latency                                         */
/* ------------------------------------------------------------------------ */

/* max_queue_batches against a server that answers only after 1.5 s. */
static void test_queue_limit_batches(void **state) {
    (void)state;
    record rec;
    record_init(&rec);
    mp_server *s = serve((mp_serve_options){.record_path = rec.path, .latency_ms = 1500,
                                            .threads = 8});
    mp_client *c = client_to(s, (mp_client_options){0});
    small_batch b;

    /* At once (enqueue_timeout_ms 0). */
    collector *col = collector_new(16);
    mp_uploader *up = uploader_new(
        c, (mp_uploader_options){.max_queue_batches = 5, .linger_ms = -1}, col);
    for (int i = 0; i < 5; i++) {
        small_build(&b, "queue", i);
        enqueue_ok(up, &b.batch, (uintptr_t)i + 1);
    }
    for (int k = 0; k < 2; k++) {
        small_build(&b, "queue", 100 + k);
        int64_t t0 = mono_ms();
        assert_int_equal(mp_uploader_enqueue(up, &b.batch, (void *)(uintptr_t)(10 + k), NULL),
                         MP_ERR_QUEUE_FULL);
        assert_true(mono_ms() - t0 < 50);
    }
    mp_uploader_stats st = up_stats(up);
    assert_int_equal(st.enqueued, 5);
    assert_int_equal(st.queue_full, 2);
    expect_stats_consistent(&st);
    /* Nothing accepted was dropped: all five delivered once the server answers. */
    assert_int_equal(mp_uploader_flush(up, 20000), MP_OK);
    assert_int_equal(uploader_close(up, 5000, col), MP_OK);
    expect_one_report_each(col, 5);
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(col->reps[i].outcome, MP_DELIVERY_ACCEPTED);
    recorded rd;
    recorded_read(&rec, &rd);
    assert_int_equal(recorded_count(&rd), 5);
    recorded_free(&rd);
    collector_free(col);

    /* After waiting enqueue_timeout_ms. */
    col = collector_new(16);
    up = uploader_new(c,
                      (mp_uploader_options){.max_queue_batches = 3, .enqueue_timeout_ms = 300,
                                            .linger_ms = -1},
                      col);
    for (int i = 0; i < 3; i++) {
        small_build(&b, "queue", 200 + i);
        enqueue_ok(up, &b.batch, (uintptr_t)i + 1);
    }
    small_build(&b, "queue", 299);
    int64_t t0 = mono_ms();
    assert_int_equal(mp_uploader_enqueue(up, &b.batch, (void *)(uintptr_t)10, NULL),
                     MP_ERR_QUEUE_FULL);
    int64_t took = mono_ms() - t0;
    print_message("enqueue_timeout_ms 300: QUEUE_FULL after %lld ms\n", (long long)took);
    assert_true(took >= 290);
    assert_true(took < 300 + 700);
    assert_int_equal(up_stats(up).queue_full, 1);
    assert_int_equal(mp_uploader_flush(up, 20000), MP_OK);
    assert_int_equal(uploader_close(up, 5000, col), MP_OK);
    expect_one_report_each(col, 3);
    collector_free(col);

    /* A longer enqueue_timeout_ms: room comes when a report frees it. */
    col = collector_new(16);
    up = uploader_new(c,
                      (mp_uploader_options){.max_queue_batches = 2, .enqueue_timeout_ms = 15000,
                                            .linger_ms = -1},
                      col);
    for (int i = 0; i < 2; i++) {
        small_build(&b, "queue", 300 + i);
        enqueue_ok(up, &b.batch, (uintptr_t)i + 1);
    }
    small_build(&b, "queue", 399);
    t0 = mono_ms();
    enqueue_ok(up, &b.batch, 3);
    took = mono_ms() - t0;
    print_message("enqueue_timeout_ms 15000: room after %lld ms\n", (long long)took);
    assert_true(took >= 700); /* the server holds every answer 1.5 s */
    assert_true(collector_total(col) >= 1);
    assert_int_equal(up_stats(up).queue_full, 0);
    assert_int_equal(mp_uploader_flush(up, 20000), MP_OK);
    assert_int_equal(uploader_close(up, 5000, col), MP_OK);
    expect_one_report_each(col, 3);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(col->reps[i].outcome, MP_DELIVERY_ACCEPTED);
    collector_free(col);

    mp_client_free(c);
    mp_serve_stop(s);
    record_done(&rec);
}

/* max_queue_bytes: batches of one known size L, a limit of 3.5 L. */
static void test_queue_limit_bytes(void **state) {
    (void)state;
    silent sv;
    silent_start(&sv, LISTEN_ONLY);
    mp_client *c = client_to_silent(&sv);
    small_batch b;
    char ids[6][40];
    size_t len = 0;
    mp_buffer *buf = mp_buffer_new(1024);
    for (int i = 0; i < 6; i++) {
        snprintf(ids[i], sizeof ids[i], "00000000-0000-4000-8000-%012d", i);
        small_build(&b, "bytes", 7); /* the same size every time */
        b.batch.source_request_id = ids[i];
        mp_buffer_clear(buf);
        assert_int_equal(mp_encode_batch(&b.batch, buf, NULL), MP_OK);
        if (i == 0)
            len = mp_buffer_length(buf);
        assert_int_equal(mp_buffer_length(buf), len);
    }
    mp_buffer_free(buf);

    /* A long linger keeps them waiting (none is a full request), so the limit
     * holds whether or not bytes in flight count. */
    collector *col = collector_new(16);
    mp_uploader *up = uploader_new(
        c,
        (mp_uploader_options){.max_queue_bytes = 3 * len + len / 2, .max_queue_batches = 100,
                              .linger_ms = 10000},
        col);
    for (int i = 0; i < 3; i++) {
        small_build(&b, "bytes", 7);
        b.batch.source_request_id = ids[i];
        enqueue_ok(up, &b.batch, (uintptr_t)i + 1);
    }
    for (int i = 3; i < 5; i++) {
        small_build(&b, "bytes", 7);
        b.batch.source_request_id = ids[i];
        int64_t t0 = mono_ms();
        assert_int_equal(mp_uploader_enqueue(up, &b.batch, (void *)(uintptr_t)(i + 1), NULL),
                         MP_ERR_QUEUE_FULL);
        assert_true(mono_ms() - t0 < 50);
    }
    mp_uploader_stats st = up_stats(up);
    assert_int_equal(st.enqueued, 3);
    assert_int_equal(st.queue_full, 2);
    assert_int_equal(st.queued + st.in_flight, 3);
    assert_true(st.queued_bytes <= 3 * len);
    expect_stats_consistent(&st);
    /* Closed while stalled: the three queued ones are reported, none lost. */
    assert_int_equal(uploader_close(up, 200, col), MP_ERR_TIMEOUT);
    expect_one_report_each(col, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(col->reps[i].outcome, MP_DELIVERY_UNDELIVERED);
        assert_string_equal(col->reps[i].srid, ids[i]);
        assert_int_equal(col->reps[i].bytes, len);
    }
    collector_free(col);
    mp_client_free(c);
    silent_stop(&sv);
}

/* With requests hanging, an enqueue with room returns at once. */
static void test_enqueue_does_not_wait_for_network(void **state) {
    (void)state;
    enum { N = 100 };
    silent sv;
    silent_start(&sv, LISTEN_ONLY);
    mp_client *c = client_to_silent(&sv);
    collector *col = collector_new(N);
    mp_uploader *up = uploader_new(
        c, (mp_uploader_options){.max_in_flight = 4, .linger_ms = -1, .mode = MP_UPLOAD_SINGLE},
        col);
    w1_batch *w = malloc(sizeof *w);
    w1_build(w, 0);
    enqueue_ok(up, &w->batch, 1);
    wait_requests_in_flight(up, 1, 5000);
    double worst = 0;
    for (int i = 1; i < N; i++) {
        w1_build(w, i);
        double t0 = mono_us();
        enqueue_ok(up, &w->batch, (uintptr_t)i + 1);
        double t = mono_us() - t0;
        if (t > worst)
            worst = t;
    }
    print_message("worst enqueue with 4 requests hanging: %.0f us\n", worst);
    if (worst > 50000)
        fail_msg("an enqueue took %.1f ms while the server was stalled", worst / 1000);
    assert_true(up_stats(up).requests_in_flight >= 1);
    assert_int_equal(uploader_close(up, 100, col), MP_ERR_TIMEOUT);
    expect_one_report_each(col, N);
    free(w);
    collector_free(col);
    mp_client_free(c);
    silent_stop(&sv);
}

/* ------------------------------------------------------------------------ */
/* Merge                                                                    */
/* ------------------------------------------------------------------------ */

/* Which tag an event name "event-USER-i" belongs to, through a table. */
typedef struct merge_case {
    char names[700][48];
    char users[700][16];
    int own_id[700];
    int n;
} merge_case;

static int merge_tag_of(const merge_case *m, const char *name) {
    for (int i = 0; i < m->n; i++) {
        if (strcmp(m->names[i], name) == 0)
            return i + 1;
    }
    return 0;
}

static void test_merge(void **state) {
    (void)state;
    /* alice: 50 batches, bob: 10, alice with ids of their own: 3, then 300
     * more users with 2 batches each (so that some users share a bucket of
     * whatever table finds merge partners). */
    enum { A = 50, B = 10, OWN = 3, MANY = 300, N = A + B + OWN + 2 * MANY };
    record rec;
    record_init(&rec);
    mp_server *s = serve((mp_serve_options){.record_path = rec.path});
    mp_client *c = client_to(s, (mp_client_options){0});
    collector *col = collector_new(N);
    mp_uploader *up = uploader_new(
        c, (mp_uploader_options){.merge = 1, .linger_ms = 1500, .mode = MP_UPLOAD_BULK}, col);
    merge_case *m = calloc(1, sizeof *m);
    assert_non_null(m);
    char own_ids[OWN][40];
    small_batch b;
    for (int i = 0; i < N; i++) {
        char many[16];
        snprintf(many, sizeof many, "u%03d", (i - (A + B + OWN)) / 2);
        const char *user = i < A ? "alice" : i < A + B ? "bob" : i < A + B + OWN ? "alice" : many;
        small_build(&b, user, i);
        if (i >= A + B && i < A + B + OWN) {
            snprintf(own_ids[i - A - B], sizeof own_ids[0], "0000000%d-1111-4222-8333-444455556666",
                     i - A - B);
            b.batch.source_request_id = own_ids[i - A - B];
            m->own_id[i] = 1;
        }
        snprintf(m->names[i], sizeof m->names[i], "%s", b.name);
        snprintf(m->users[i], sizeof m->users[i], "%s", user);
        enqueue_ok(up, &b.batch, (uintptr_t)i + 1);
    }
    m->n = N;
    assert_int_equal(mp_uploader_flush(up, 20000), MP_OK);
    mp_uploader_stats st = up_stats(up);
    expect_stats_consistent(&st);
    assert_int_equal(st.accepted, N);
    assert_true(st.merged >= 2);
    assert_int_equal(uploader_close(up, 5000, col), MP_OK);
    expect_one_report_each(col, N);

    /* Reports: distinct ids, sent_as of the batch that went out. */
    char **ids = calloc(N, sizeof *ids);
    assert_non_null(ids);
    for (int i = 0; i < N; i++)
        ids[i] = col->reps[i].srid;
    qsort(ids, N, sizeof *ids, cmp_str);
    for (int i = 1; i < N; i++) {
        if (strcmp(ids[i - 1], ids[i]) == 0)
            fail_msg("two originals reported with source_request_id %s", ids[i]);
    }
    free(ids);
    for (int i = 0; i < N; i++) {
        rep *r = &col->reps[i];
        assert_int_equal(r->outcome, MP_DELIVERY_ACCEPTED);
        assert_int_equal(r->event_count, 1);
        if (m->own_id[i]) {
            assert_string_equal(r->srid, own_ids[i - A - B]);
            assert_string_equal(r->sent_as, r->srid); /* never merged */
        }
    }

    /* The record: fewer batches, every original event exactly once, in a batch
     * of its own user, named by the sent_as of its report. */
    recorded rd;
    recorded_read(&rec, &rd);
    size_t lines = recorded_count(&rd);
    size_t alice_merged_lines = 0;
    int *seen = calloc(N, sizeof *seen);
    assert_non_null(seen);
    for (size_t l = 0; l < lines; l++) {
        const mp_batch *rb = recorded_batch(&rd, l);
        assert_non_null(rb->source_request_id);
        assert_non_null(rb->user_identities);
        const char *user = rb->user_identities->customer_id;
        int own = 0;
        for (size_t e = 0; e < rb->events.count; e++) {
            const mp_event *ev = &rb->events.items[e];
            assert_int_equal(ev->event_type, MP_EVENT_CUSTOM_EVENT);
            int tag = merge_tag_of(m, ev->custom_event.event_name);
            if (!tag)
                fail_msg("recorded event \"%s\" was never enqueued", ev->custom_event.event_name);
            seen[tag - 1]++;
            own |= m->own_id[tag - 1];
            if (strcmp(m->users[tag - 1], user) != 0)
                fail_msg("event of %s sent in a batch of %s", m->users[tag - 1], user);
            if (strcmp(col->reps[tag - 1].sent_as, rb->source_request_id) != 0)
                fail_msg("tag %d went out in %s but its report says sent_as %s", tag,
                         rb->source_request_id, col->reps[tag - 1].sent_as);
            /* The event itself is the original one. */
            small_batch orig;
            small_build(&orig, m->users[tag - 1], tag - 1);
            mp_batch one = orig.batch, got = orig.batch;
            got.events.items = ev;
            char why[256];
            if (!mp_test_batch_equal(&one, &got, why, sizeof why))
                fail_msg("event of tag %d changed on the way: %s", tag, why);
        }
        if (own) {
            assert_int_equal(rb->events.count, 1);
            assert_string_equal(rb->source_request_id, col->reps[merge_tag_of(
                                    m, rb->events.items[0].custom_event.event_name) - 1].srid);
        }
        if (!own && strcmp(user, "alice") == 0)
            alice_merged_lines++;
        /* The envelope came through whole. */
        assert_non_null(rb->device_info);
        assert_string_equal(rb->device_info->ios_advertising_id,
                            "607258d9-c28b-43ad-95ed-e9593025d5a1");
        assert_int_equal(rb->environment, MP_ENVIRONMENT_DEVELOPMENT);
    }
    for (int i = 0; i < N; i++) {
        if (seen[i] != 1)
            fail_msg("event of tag %d recorded %d times", i + 1, seen[i]);
    }
    print_message("merge: %d batches recorded as %zu (alice's %d as %zu)\n", N, lines, A,
                  alice_merged_lines);
    assert_true(lines < N);
    assert_true(alice_merged_lines <= A / 2);
    /* A merged batch's id is one that the server saw once. */
    assert_int_equal(serve_stats(s).duplicates, 0);

    free(seen);
    recorded_free(&rd);
    free(m);
    collector_free(col);
    mp_client_free(c);
    mp_serve_stop(s);
    record_done(&rec);
}

/* ------------------------------------------------------------------------ */
/* Retries, expiry, rejections                                              */
/* ------------------------------------------------------------------------ */

static int script_503[1000];

static void test_503_forever_expires(void **state) {
    (void)state;
    for (size_t i = 0; i < 1000; i++)
        script_503[i] = 503;
    mp_server *s = serve((mp_serve_options){.script = script_503,
                                            .script_len = 1000,
                                            .retry_after = MP_SERVE_RETRY_AFTER_NONE});
    mp_client *c =
        client_to(s, (mp_client_options){.backoff_initial_ms = 40, .backoff_max_ms = 80});
    collector *col = collector_new(4);
    mp_uploader *up = uploader_new(
        c,
        (mp_uploader_options){.mode = MP_UPLOAD_SINGLE, .delivery_timeout_ms = 600,
                              .linger_ms = -1},
        col);
    small_batch b;
    small_build(&b, "expire", 1);
    enqueue_ok(up, &b.batch, 1);
    int64_t t0 = mono_ms();
    assert_int_equal(mp_uploader_flush(up, 10000), MP_OK);
    print_message("503 forever: expired after %lld ms\n", (long long)(mono_ms() - t0));
    rep r = collector_get(col, 1);
    assert_int_equal(r.seen, 1);
    assert_int_equal(r.outcome, MP_DELIVERY_EXPIRED);
    assert_int_equal(r.status, 503);
    assert_int_not_equal(r.error, MP_OK);
    assert_true(r.attempts >= 2); /* retried until the deadline */
    assert_true(r.latency_ms >= 500);
    assert_true(r.latency_ms <= 600 + 2000);
    assert_true(r.reason[0] != '\0');
    uint64_t requests = serve_stats(s).requests;
    assert_true(requests >= 2);
    sleep_ms(300); /* not retried after its report */
    assert_int_equal(serve_stats(s).requests, requests);
    mp_uploader_stats st = up_stats(up);
    assert_int_equal(st.expired, 1);
    assert_true(st.retries >= 1);
    expect_stats_consistent(&st);
    assert_int_equal(uploader_close(up, 1000, col), MP_OK);
    expect_one_report_each(col, 1);
    collector_free(col);
    mp_client_free(c);
    mp_serve_stop(s);
}

static void test_503_max_attempts(void **state) {
    (void)state;
    for (size_t i = 0; i < 1000; i++)
        script_503[i] = 503;
    mp_server *s = serve((mp_serve_options){.script = script_503,
                                            .script_len = 1000,
                                            .retry_after = MP_SERVE_RETRY_AFTER_NONE});
    mp_client *c = client_to(s, (mp_client_options){0});
    collector *col = collector_new(4);
    mp_uploader *up = uploader_new(
        c, (mp_uploader_options){.mode = MP_UPLOAD_SINGLE, .max_attempts = 2, .linger_ms = -1},
        col);
    small_batch b;
    small_build(&b, "attempts", 1);
    enqueue_ok(up, &b.batch, 1);
    assert_int_equal(mp_uploader_flush(up, 10000), MP_OK);
    rep r = collector_get(col, 1);
    assert_int_equal(r.outcome, MP_DELIVERY_UNDELIVERED);
    assert_int_equal(r.attempts, 2);
    assert_int_equal(r.status, 503);
    assert_int_not_equal(r.error, MP_OK);
    assert_int_equal(serve_stats(s).requests, 2);
    mp_uploader_stats st = up_stats(up);
    assert_int_equal(st.undelivered, 1);
    assert_int_equal(st.requests, 2);
    assert_int_equal(st.retries, 1);
    assert_int_equal(uploader_close(up, 1000, col), MP_OK);
    expect_one_report_each(col, 1);
    collector_free(col);
    mp_client_free(c);
    mp_serve_stop(s);
}

/* 400 from the server's own validation (the uploader's is off), one batch per request. */
static void test_400_rejected_not_retried(void **state) {
    (void)state;
    mp_server *s = serve((mp_serve_options){0});
    mp_client *c = client_to(s, (mp_client_options){0});
    collector *col = collector_new(4);
    mp_uploader *up = uploader_new(c,
                                   (mp_uploader_options){.mode = MP_UPLOAD_SINGLE,
                                                         .skip_validation = 1,
                                                         .linger_ms = -1},
                                   col);
    small_batch b;
    small_build(&b, "bad", 1);
    b.batch.environment = MP_ENVIRONMENT_UNSET;
    enqueue_ok(up, &b.batch, 1);
    assert_int_equal(mp_uploader_flush(up, 10000), MP_OK);
    rep r = collector_get(col, 1);
    assert_int_equal(r.outcome, MP_DELIVERY_REJECTED);
    assert_int_equal(r.status, 400);
    assert_int_equal(r.error, MP_ERR_HTTP);
    assert_int_equal(r.attempts, 1);
    assert_true(r.error_count >= 1);
    assert_string_equal(r.error_code, "BAD_REQUEST");
    assert_true(r.reason[0] != '\0');
    sleep_ms(100);
    assert_int_equal(serve_stats(s).requests, 1);
    assert_int_equal(serve_stats(s).by_status[400], 1);
    mp_uploader_stats st = up_stats(up);
    assert_int_equal(st.rejected, 1);
    assert_int_equal(st.retries, 0);
    assert_int_equal(uploader_close(up, 1000, col), MP_OK);
    expect_one_report_each(col, 1);
    collector_free(col);
    mp_client_free(c);
    mp_serve_stop(s);
}

/* A scripted 400 to a bulk request: every batch in it rejected, none retried. */
static void test_400_bulk_rejects_every_batch(void **state) {
    (void)state;
    const int script[] = {400, 400, 400};
    mp_server *s = serve((mp_serve_options){.script = script, .script_len = 3});
    mp_client *c = client_to(s, (mp_client_options){0});
    collector *col = collector_new(4);
    mp_uploader *up =
        uploader_new(c, (mp_uploader_options){.mode = MP_UPLOAD_BULK, .linger_ms = 300}, col);
    small_batch b;
    for (int i = 0; i < 3; i++) {
        small_build(&b, "bulk400", i);
        enqueue_ok(up, &b.batch, (uintptr_t)i + 1);
    }
    assert_int_equal(mp_uploader_flush(up, 10000), MP_OK);
    uint64_t requests = serve_stats(s).requests;
    assert_true(requests >= 1 && requests <= 3);
    assert_int_equal(serve_stats(s).by_status[400], requests);
    for (size_t t = 1; t <= 3; t++) {
        rep r = collector_get(col, t);
        assert_int_equal(r.outcome, MP_DELIVERY_REJECTED);
        assert_int_equal(r.status, 400);
        assert_int_equal(r.attempts, 1);
        assert_true(r.error_count >= 1);
    }
    assert_int_equal(up_stats(up).rejected, 3);
    assert_int_equal(uploader_close(up, 1000, col), MP_OK);
    expect_one_report_each(col, 3);
    collector_free(col);
    mp_client_free(c);
    mp_serve_stop(s);
}

static void test_401_403_rejected(void **state) {
    (void)state;
    const int script[] = {401};
    mp_server *s = serve((mp_serve_options){.script = script, .script_len = 1});
    small_batch b;
    small_build(&b, "auth", 1);

    mp_client *c = client_to(s, (mp_client_options){0});
    collector *col = collector_new(4);
    mp_uploader *up = uploader_new(
        c, (mp_uploader_options){.mode = MP_UPLOAD_SINGLE, .linger_ms = -1}, col);
    enqueue_ok(up, &b.batch, 1);
    assert_int_equal(mp_uploader_flush(up, 10000), MP_OK);
    rep r = collector_get(col, 1);
    assert_int_equal(r.outcome, MP_DELIVERY_REJECTED);
    assert_int_equal(r.status, 401);
    assert_int_equal(r.attempts, 1);
    assert_int_equal(uploader_close(up, 1000, col), MP_OK);
    expect_one_report_each(col, 1);
    collector_free(col);
    mp_client_free(c);

    c = client_to(s, (mp_client_options){.api_secret = "wrong-secret"});
    col = collector_new(4);
    up = uploader_new(c, (mp_uploader_options){.mode = MP_UPLOAD_BULK, .linger_ms = -1}, col);
    enqueue_ok(up, &b.batch, 1);
    assert_int_equal(mp_uploader_flush(up, 10000), MP_OK);
    r = collector_get(col, 1);
    assert_int_equal(r.outcome, MP_DELIVERY_REJECTED);
    assert_int_equal(r.status, 403);
    assert_int_equal(r.attempts, 1);
    assert_int_equal(uploader_close(up, 1000, col), MP_OK);
    expect_one_report_each(col, 1);
    collector_free(col);
    mp_client_free(c);

    mp_serve_stats ss = serve_stats(s);
    assert_int_equal(ss.requests, 2);
    assert_int_equal(ss.accepted, 0);
    mp_serve_stop(s);
}

/* ------------------------------------------------------------------------ */
/* 429 with Retry-After                                                     */
/* ------------------------------------------------------------------------ */

static void test_429_waits_for_retry_after(void **state) {
    (void)state;
    const int script[] = {429};
    mp_server *s = serve((mp_serve_options){.script = script, .script_len = 1,
                                            .retry_after_seconds = 1});
    mp_client *c = client_to(s, (mp_client_options){0});
    collector *col = collector_new(4);
    mp_uploader *up = uploader_new(c, (mp_uploader_options){.linger_ms = -1}, col);
    small_batch b;
    small_build(&b, "throttled", 1);
    enqueue_ok(up, &b.batch, 1);

    /* The 429. */
    int64_t end = mono_ms() + 5000;
    while (serve_stats(s).requests < 1 && mono_ms() < end)
        sleep_ms(1);
    int64_t t429 = mono_ms();
    assert_int_equal(serve_stats(s).requests, 1);
    while (up_stats(up).throttled < 1 && mono_ms() < end)
        sleep_ms(1);
    assert_int_equal(up_stats(up).throttled, 1);

    /* The gate is the client's: a synchronous call waits it out too, unsent. */
    mp_result res = MP_RESULT_INIT;
    small_batch sync;
    small_build(&sync, "sync", 2);
    assert_int_equal(mp_client_upload(c, &sync.batch, &res, NULL), MP_ERR_RATE_LIMITED);
    assert_int_equal(res.attempts, 0);
    mp_result_clear(&res);
    small_build(&b, "throttled", 2);
    enqueue_ok(up, &b.batch, 2);

    /* Nothing reaches the server before Retry-After has passed. */
    while (serve_stats(s).requests < 2 && mono_ms() < t429 + 5000)
        sleep_ms(1);
    int64_t gap = mono_ms() - t429;
    print_message("next request %lld ms after the 429\n", (long long)gap);
    assert_true(serve_stats(s).requests >= 2);
    assert_true(gap >= 950);

    assert_int_equal(mp_uploader_flush(up, 10000), MP_OK);
    rep r1 = collector_get(col, 1), r2 = collector_get(col, 2);
    assert_int_equal(r1.outcome, MP_DELIVERY_ACCEPTED);
    assert_int_equal(r1.attempts, 2);
    assert_true(r1.latency_ms >= 950);
    assert_int_equal(r2.outcome, MP_DELIVERY_ACCEPTED);
    assert_int_equal(r2.attempts, 1);
    mp_serve_stats ss = serve_stats(s);
    assert_int_equal(ss.by_status[429], 1);
    assert_int_equal(ss.accepted, 2);
    mp_uploader_stats st = up_stats(up);
    assert_int_equal(st.throttled, 1);
    assert_int_equal(st.accepted, 2);
    assert_int_equal(uploader_close(up, 1000, col), MP_OK);
    expect_one_report_each(col, 2);
    collector_free(col);
    mp_client_free(c);
    mp_serve_stop(s);
}

/* max_attempts does not count 429s (uploader.h): with max_attempts 1, two
 * 429s then 202 still deliver, each Retry-After waited out. */
static void test_429_does_not_use_up_attempts(void **state) {
    (void)state;
    const int script[] = {429, 429, 202};
    mp_server *s = serve((mp_serve_options){.script = script, .script_len = 3,
                                            .retry_after_seconds = 1});
    mp_client *c = client_to(s, (mp_client_options){0});
    collector *col = collector_new(4);
    mp_uploader *up = uploader_new(
        c, (mp_uploader_options){.mode = MP_UPLOAD_SINGLE, .max_attempts = 1, .linger_ms = -1},
        col);
    small_batch b;
    small_build(&b, "paced", 1);
    int64_t t0 = mono_ms();
    enqueue_ok(up, &b.batch, 1);
    assert_int_equal(mp_uploader_flush(up, 15000), MP_OK);
    int64_t took = mono_ms() - t0;
    rep r = collector_get(col, 1);
    if (r.outcome != MP_DELIVERY_ACCEPTED)
        fail_msg("paced by two 429s with max_attempts 1: %s, status %d, attempts %d (%s)",
                 mp_delivery_outcome_name(r.outcome), r.status, r.attempts, r.reason);
    assert_int_equal(r.attempts, 3); /* requests that carried it */
    assert_true(took >= 1900);       /* two Retry-After: 1 */
    mp_serve_stats ss = serve_stats(s);
    assert_int_equal(ss.by_status[429], 2);
    assert_int_equal(ss.accepted, 1);
    mp_uploader_stats st = up_stats(up);
    assert_int_equal(st.throttled, 2);
    assert_int_equal(st.requests, 3);
    assert_int_equal(uploader_close(up, 1000, col), MP_OK);
    expect_one_report_each(col, 1);
    collector_free(col);
    mp_client_free(c);
    mp_serve_stop(s);
}

/* ------------------------------------------------------------------------ */
/* Enqueue: validation, ids, sizes                                          */
/* ------------------------------------------------------------------------ */

static int is_uuid_version(const char *id, char version) {
    if (strlen(id) != 36)
        return 0;
    for (int i = 0; i < 36; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? id[i] != '-' : !strchr("0123456789abcdef", id[i]))
            return 0;
    }
    return id[14] == version && strchr("89ab", id[19]) != NULL;
}

/* The bytes of `b` sent under `id`, as the encoder writes them. */
static size_t encoded_len(const mp_batch *b, const char *id) {
    mp_batch copy = *b;
    copy.source_request_id = id;
    mp_buffer *buf = mp_buffer_new(4096);
    assert_int_equal(mp_encode_batch(&copy, buf, NULL), MP_OK);
    size_t n = mp_buffer_length(buf);
    mp_buffer_free(buf);
    return n;
}

static void test_invalid_batch_refused_at_enqueue(void **state) {
    (void)state;
    mp_server *s = serve((mp_serve_options){0});
    mp_client *c = client_to(s, (mp_client_options){0});
    collector *col = collector_new(8);
    mp_uploader *up = uploader_new(c, (mp_uploader_options){.linger_ms = -1}, col);
    small_batch b;
    small_build(&b, "invalid", 1);
    b.batch.environment = MP_ENVIRONMENT_UNSET;
    mp_diag *d = mp_diag_new();
    mp_error err = mp_uploader_enqueue(up, &b.batch, (void *)(uintptr_t)1, d);
    assert_int_equal(err, MP_ERR_INVALID);
    assert_true(mp_diag_error_count(d) >= 1);
    int named = 0;
    for (size_t i = 0; i < mp_diag_count(d); i++) {
        const mp_problem *p = mp_diag_get(d, i);
        named |= strstr(p->path, "environment") || strstr(p->message, "environment");
    }
    assert_true(named);
    mp_diag_free(d);
    assert_int_equal(mp_uploader_enqueue(up, &b.batch, (void *)(uintptr_t)2, NULL),
                     MP_ERR_INVALID);
    assert_int_equal(mp_uploader_enqueue(up, NULL, (void *)(uintptr_t)3, NULL),
                     MP_ERR_INVALID_ARGUMENT);

    assert_int_equal(mp_uploader_flush(up, 5000), MP_OK);
    mp_uploader_stats st = up_stats(up);
    assert_int_equal(st.enqueued, 0);
    assert_int_equal(st.requests, 0);
    assert_int_equal(uploader_close(up, 1000, col), MP_OK);
    expect_one_report_each(col, 0); /* no report for any of them */
    assert_int_equal(serve_stats(s).requests, 0);
    collector_free(col);
    mp_client_free(c);
    mp_serve_stop(s);
}

/* A batch alone over 128 KB is MP_ERR_LIMIT (uploader.h), with a problem
 * saying so, whether or not the uploader validates; nothing is sent. */
static void test_oversize_batch_refused_with_limit(void **state) {
    (void)state;
    mp_server *s = serve((mp_serve_options){0});
    mp_client *c = client_to(s, (mp_client_options){0});
    static char value[4001];
    memset(value, 'x', 4000);
    mp_attribute attrs[25];
    char names[25][8];
    for (int i = 0; i < 25; i++) {
        snprintf(names[i], sizeof names[i], "a-%02d", i);
        attrs[i] = (mp_attribute){names[i], MP_V_STRING(value)};
    }
    small_batch b;
    small_build(&b, "huge", 4);
    mp_event two[2] = {b.event, b.event};
    two[0].common.custom_attributes = MP_LIST(mp_attribute_list, attrs);
    two[1].common.custom_attributes = MP_LIST(mp_attribute_list, attrs);
    b.batch.events = MP_LIST(mp_event_list, two);
    size_t len = encoded_len(&b.batch, NULL);
    assert_true(len > MP_MAX_BATCH_BYTES);

    mp_error errs[2];
    int says_limit[2] = {0, 0};
    for (int skip = 0; skip < 2; skip++) {
        collector *col = collector_new(4);
        mp_uploader *up =
            uploader_new(c, (mp_uploader_options){.skip_validation = skip, .linger_ms = -1}, col);
        mp_diag *d = mp_diag_new();
        errs[skip] = mp_uploader_enqueue(up, &b.batch, (void *)(uintptr_t)1, d);
        for (size_t i = 0; i < mp_diag_count(d); i++) {
            const mp_problem *p = mp_diag_get(d, i);
            says_limit[skip] |= p->severity == MP_SEVERITY_ERROR && p->code == MP_ERR_LIMIT;
        }
        mp_diag_free(d);
        assert_int_equal(mp_uploader_flush(up, 5000), MP_OK);
        assert_int_equal(up_stats(up).enqueued, 0);
        assert_int_equal(uploader_close(up, 1000, col), MP_OK);
        expect_one_report_each(col, 0);
        collector_free(col);
    }
    assert_int_equal(serve_stats(s).requests, 0);
    mp_client_free(c);
    mp_serve_stop(s);
    for (int skip = 0; skip < 2; skip++) {
        if (!says_limit[skip])
            fail_msg("skip_validation %d: no error problem with code MP_ERR_LIMIT", skip);
        if (errs[skip] != MP_ERR_LIMIT)
            fail_msg("a batch of %zu bytes (skip_validation %d): %s, not MP_ERR_LIMIT", len, skip,
                     mp_error_name(errs[skip]));
    }
}

/* Ids (content, random, the batch's own), event counts and bytes; the
 * recorded batches are the enqueued ones. */
static void test_ids_counts_and_bytes(void **state) {
    (void)state;
    record rec;
    record_init(&rec);
    mp_server *s = serve((mp_serve_options){.record_path = rec.path});
    mp_client *c = client_to(s, (mp_client_options){0});
    collector *col = collector_new(8);
    mp_uploader *up = uploader_new(
        c, (mp_uploader_options){.id_mode = MP_ID_CONTENT, .mode = MP_UPLOAD_SINGLE}, col);

    small_batch one;
    small_build(&one, "ids", 1);
    w1_batch *w = malloc(sizeof *w);
    w1_build(w, 5);
    static const char own[] = "2b6f0cc9-04a6-4d5b-9b1e-4f5e6d7c8b9a";
    small_batch with_id;
    small_build(&with_id, "ids", 2);
    with_id.batch.source_request_id = own;

    enqueue_ok(up, &one.batch, 1);
    enqueue_ok(up, &one.batch, 2); /* the same batch again */
    enqueue_ok(up, &w->batch, 3);
    enqueue_ok(up, &with_id.batch, 4);
    assert_int_equal(mp_uploader_flush(up, 10000), MP_OK);
    assert_int_equal(uploader_close(up, 1000, col), MP_OK);
    expect_one_report_each(col, 4);
    rep *r = col->reps;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(r[i].outcome, MP_DELIVERY_ACCEPTED);
        assert_string_equal(r[i].sent_as, r[i].srid);
    }
    assert_true(is_uuid_version(r[0].srid, '5'));
    assert_string_equal(r[0].srid, r[1].srid);
    assert_true(is_uuid_version(r[2].srid, '5'));
    assert_string_not_equal(r[0].srid, r[2].srid);
    assert_string_equal(r[3].srid, own);
    assert_int_equal(r[0].event_count, 1);
    assert_int_equal(r[2].event_count, 10);
    assert_int_equal(r[3].event_count, 1);
    assert_int_equal(r[0].bytes, encoded_len(&one.batch, r[0].srid));
    assert_int_equal(r[2].bytes, encoded_len(&w->batch, r[2].srid));
    assert_int_equal(r[3].bytes, encoded_len(&with_id.batch, own));

    /* The record: the same content id twice is one batch; each recorded
     * batch equals the enqueued one under its id. */
    recorded rd;
    recorded_read(&rec, &rd);
    assert_int_equal(recorded_count(&rd), 3);
    assert_int_equal(serve_stats(s).duplicates, 1);
    const mp_batch *originals[3] = {&one.batch, &w->batch, &with_id.batch};
    const char *ids[3] = {r[0].srid, r[2].srid, own};
    for (int k = 0; k < 3; k++) {
        const mp_batch *got = NULL;
        for (size_t l = 0; l < recorded_count(&rd); l++) {
            if (strcmp(recorded_batch(&rd, l)->source_request_id, ids[k]) == 0)
                got = recorded_batch(&rd, l);
        }
        if (!got)
            fail_msg("batch %s is not in the record", ids[k]);
        mp_batch want = *originals[k];
        want.source_request_id = ids[k];
        char why[256];
        if (!mp_test_batch_equal(&want, got, why, sizeof why))
            fail_msg("recorded batch %d differs: %s", k, why);
    }
    recorded_free(&rd);
    collector_free(col);

    /* MP_ID_RANDOM: the same batch twice gets two UUIDv4s. */
    col = collector_new(8);
    up = uploader_new(c, (mp_uploader_options){0}, col);
    enqueue_ok(up, &one.batch, 1);
    enqueue_ok(up, &one.batch, 2);
    enqueue_ok(up, &with_id.batch, 3);
    assert_int_equal(mp_uploader_flush(up, 10000), MP_OK);
    assert_int_equal(uploader_close(up, 1000, col), MP_OK);
    expect_one_report_each(col, 3);
    assert_true(is_uuid_version(col->reps[0].srid, '4'));
    assert_true(is_uuid_version(col->reps[1].srid, '4'));
    assert_string_not_equal(col->reps[0].srid, col->reps[1].srid);
    assert_string_equal(col->reps[2].srid, own);
    assert_int_equal(col->reps[0].bytes, encoded_len(&one.batch, col->reps[0].srid));
    collector_free(col);

    free(w);
    mp_client_free(c);
    mp_serve_stop(s);
    record_done(&rec);
}

/* ------------------------------------------------------------------------ */
/* The report callback                                                      */
/* ------------------------------------------------------------------------ */

typedef struct cb_calls {
    int done;
    mp_error flush0, flush1000, close0, stats, enqueue;
    double enqueue_us;
    /* second part: a full queue */
    int tries;
    mp_error full[4];
    double full_us[4];
} cb_calls;

static void hook_calls(collector *c, const mp_delivery_report *r) {
    cb_calls *k = c->hook_ctx;
    if ((uintptr_t)r->tag != 1 || k->done)
        return;
    k->done = 1;
    k->flush0 = mp_uploader_flush(c->up, 0);
    k->flush1000 = mp_uploader_flush(c->up, 1000);
    k->close0 = mp_uploader_close(c->up, 0);
    mp_uploader_stats st = MP_UPLOADER_STATS_INIT;
    k->stats = mp_uploader_stats_get(c->up, &st);
    small_batch b;
    small_build(&b, "callback", 100);
    double t0 = mono_us();
    k->enqueue = mp_uploader_enqueue(c->up, &b.batch, (void *)(uintptr_t)2, NULL);
    k->enqueue_us = mono_us() - t0;
}

static void hook_full(collector *c, const mp_delivery_report *r) {
    cb_calls *k = c->hook_ctx;
    if ((uintptr_t)r->tag != 1 || k->done)
        return;
    k->done = 1;
    for (int i = 0; i < 3; i++) {
        small_batch b;
        small_build(&b, "full", 200 + i);
        double t0 = mono_us();
        k->full[i] = mp_uploader_enqueue(c->up, &b.batch, (void *)(uintptr_t)(2 + i), NULL);
        k->full_us[i] = mono_us() - t0;
        k->tries++;
    }
}

static void test_report_callback_rules(void **state) {
    (void)state;
    mp_server *s = serve((mp_serve_options){0});
    mp_client *c = client_to(s, (mp_client_options){0});

    cb_calls k;
    memset(&k, 0, sizeof k);
    collector *col = collector_new(8);
    col->hook = hook_calls;
    col->hook_ctx = &k;
    mp_uploader *up = uploader_new(c, (mp_uploader_options){.linger_ms = -1}, col);
    small_batch b;
    small_build(&b, "callback", 1);
    enqueue_ok(up, &b.batch, 1);
    assert_int_equal(mp_uploader_flush(up, 10000), MP_OK);
    assert_int_equal(mp_uploader_flush(up, 10000), MP_OK); /* the one enqueued from the callback */
    assert_int_equal(k.done, 1);
    assert_int_equal(k.flush0, MP_ERR_INVALID_ARGUMENT);
    assert_int_equal(k.flush1000, MP_ERR_INVALID_ARGUMENT);
    assert_int_equal(k.close0, MP_ERR_INVALID_ARGUMENT);
    assert_int_equal(k.stats, MP_OK);
    assert_int_equal(k.enqueue, MP_OK);
    assert_true(k.enqueue_us < 50000);
    assert_int_equal(uploader_close(up, 1000, col), MP_OK);
    expect_one_report_each(col, 2);
    assert_int_equal(col->reps[1].outcome, MP_DELIVERY_ACCEPTED);
    collector_free(col);

    /* A full queue and enqueue_timeout_ms "forever": from the callback,
     * enqueue fails at once instead of waiting. */
    memset(&k, 0, sizeof k);
    col = collector_new(8);
    col->hook = hook_full;
    col->hook_ctx = &k;
    up = uploader_new(c,
                      (mp_uploader_options){.max_queue_batches = 1, .enqueue_timeout_ms = -1,
                                            .linger_ms = -1},
                      col);
    enqueue_ok(up, &b.batch, 1);
    if (mp_uploader_flush(up, 10000) != MP_OK)
        fail_msg("flush timed out: an enqueue from the report callback is waiting for room");
    assert_int_equal(k.done, 1);
    assert_int_equal(k.tries, 3);
    int full = 0, ok = 0;
    for (int i = 0; i < 3; i++) {
        assert_true(k.full_us[i] < 100000);
        if (k.full[i] == MP_ERR_QUEUE_FULL)
            full++;
        else if (k.full[i] == MP_OK)
            ok++;
        else
            fail_msg("enqueue %d from the callback: %s", i, mp_error_name(k.full[i]));
    }
    assert_true(full >= 2);
    assert_int_equal(mp_uploader_flush(up, 10000), MP_OK);
    mp_uploader_stats st = up_stats(up);
    assert_int_equal(st.queue_full, (uint64_t)full);
    assert_int_equal(st.enqueued, 1 + (uint64_t)ok);
    assert_int_equal(uploader_close(up, 1000, col), MP_OK);
    for (int i = 0; i < 3; i++)
        assert_int_equal(col->reps[1 + i].seen, k.full[i] == MP_OK ? 1 : 0);
    assert_int_equal(col->reps[0].seen, 1);
    collector_free(col);

    mp_client_free(c);
    mp_serve_stop(s);
}

/* ------------------------------------------------------------------------ */
/* Fork                                                                     */
/* ------------------------------------------------------------------------ */

static void test_fork_child_gets_forked(void **state) {
    (void)state;
    mp_server *s = serve((mp_serve_options){.latency_ms = 200, .threads = 4});
    mp_client *c = client_to(s, (mp_client_options){0});
    collector *col = collector_new(32);
    mp_uploader *up = uploader_new(c, (mp_uploader_options){.linger_ms = -1}, col);
    small_batch b;
    for (int i = 0; i < 10; i++) {
        small_build(&b, "fork", i);
        enqueue_ok(up, &b.batch, (uintptr_t)i + 1);
    }
    wait_requests_in_flight(up, 1, 5000); /* busy: threads hold locks now and then */

    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(10); /* a call that blocks (on a lock of a thread that is gone) ends here */
        int bad = 0;
        small_batch cb;
        small_build(&cb, "child", 1);
        if (mp_uploader_enqueue(up, &cb.batch, (void *)(uintptr_t)31, NULL) != MP_ERR_FORKED)
            bad |= 1;
        if (mp_uploader_flush(up, 1000) != MP_ERR_FORKED)
            bad |= 2;
        mp_uploader_stats st = MP_UPLOADER_STATS_INIT;
        if (mp_uploader_stats_get(up, &st) != MP_ERR_FORKED)
            bad |= 4;
        if (mp_uploader_close(up, 1000) != MP_ERR_FORKED)
            bad |= 8;
        _exit(bad);
    }
    int status = 0;
    int64_t end = mono_ms() + 20000;
    pid_t w;
    while ((w = waitpid(pid, &status, WNOHANG)) == 0 && mono_ms() < end)
        sleep_ms(5);
    if (w == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        fail_msg("the child did not finish");
    }
    if (WIFSIGNALED(status))
        fail_msg("the child died of signal %d (%s)", WTERMSIG(status),
                 WTERMSIG(status) == SIGALRM ? "a call blocked in the child" : "crash");
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) != 0)
        fail_msg("in the child, not MP_ERR_FORKED:%s%s%s%s",
                 WEXITSTATUS(status) & 1 ? " enqueue" : "", WEXITSTATUS(status) & 2 ? " flush" : "",
                 WEXITSTATUS(status) & 4 ? " stats" : "", WEXITSTATUS(status) & 8 ? " close" : "");

    /* The parent goes on as if nothing happened. */
    for (int i = 10; i < 20; i++) {
        small_build(&b, "fork", i);
        enqueue_ok(up, &b.batch, (uintptr_t)i + 1);
    }
    assert_int_equal(mp_uploader_flush(up, 20000), MP_OK);
    assert_int_equal(uploader_close(up, 1000, col), MP_OK);
    expect_one_report_each(col, 20);
    for (size_t i = 0; i < 20; i++)
        assert_int_equal(col->reps[i].outcome, MP_DELIVERY_ACCEPTED);
    assert_int_equal(serve_stats(s).accepted, 20);
    collector_free(col);
    mp_client_free(c);
    mp_serve_stop(s);
}

/* ------------------------------------------------------------------------ */
/* Enqueue while closing                                                    */
/* ------------------------------------------------------------------------ */

typedef struct during_close {
    int calls;
    mp_error err[8];
} during_close;

static void hook_enqueue_during_close(collector *c, const mp_delivery_report *r) {
    (void)r;
    during_close *k = c->hook_ctx;
    if (k->calls >= 8)
        return;
    small_batch b;
    small_build(&b, "late", k->calls);
    k->err[k->calls] = mp_uploader_enqueue(c->up, &b.batch, (void *)(uintptr_t)7, NULL);
    k->calls++;
}

/* Ordering: close's own "undelivered" reports come while close runs; an
 * enqueue from them is refused. */
static void test_enqueue_during_close_from_callback(void **state) {
    (void)state;
    silent sv;
    silent_start(&sv, LISTEN_ONLY);
    mp_client *c = client_to_silent(&sv);
    during_close k;
    memset(&k, 0, sizeof k);
    collector *col = collector_new(8);
    col->hook = hook_enqueue_during_close;
    col->hook_ctx = &k;
    mp_uploader *up = uploader_new(c, (mp_uploader_options){.linger_ms = -1}, col);
    small_batch b;
    for (int i = 0; i < 3; i++) {
        small_build(&b, "closing", i);
        enqueue_ok(up, &b.batch, (uintptr_t)i + 1);
    }
    assert_int_equal(uploader_close(up, 200, col), MP_ERR_TIMEOUT);
    expect_one_report_each(col, 3); /* tag 7 never reported */
    assert_int_equal(k.calls, 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(k.err[i], MP_ERR_CLOSED);
    collector_free(col);
    mp_client_free(c);
    silent_stop(&sv);
}

typedef struct closer {
    mp_uploader *up;
    collector *col;
    long timeout_ms;
    atomic_int started;
    mp_error result;
    int64_t took_ms;
} closer;

static void *closer_run(void *arg) {
    closer *k = arg;
    atomic_store(&k->started, 1);
    int64_t t0 = mono_ms();
    k->result = mp_uploader_close(k->up, k->timeout_ms);
    k->took_ms = mono_ms() - t0;
    atomic_store(&k->col->close_returned, 1);
    return NULL;
}

/* A thread closes while another enqueues: once close has begun, enqueue is
 * refused; everything enqueued before gets its report. */
static void test_enqueue_during_close_from_thread(void **state) {
    (void)state;
    enum { CAP = 64 };
    silent sv;
    silent_start(&sv, LISTEN_ONLY);
    mp_client *c = client_to_silent(&sv);
    collector *col = collector_new(CAP);
    mp_uploader *up = uploader_new(c, (mp_uploader_options){.linger_ms = -1}, col);
    small_batch b;
    uintptr_t tag = 0;
    for (int i = 0; i < 5; i++) {
        small_build(&b, "race", i);
        enqueue_ok(up, &b.batch, ++tag);
    }
    wait_requests_in_flight(up, 1, 5000);

    /* close() against a silent server lasts its whole 2 s deadline, so the
     * enqueues below (at most 1 s after it starts) all run while it does. */
    closer k = {.up = up, .col = col, .timeout_ms = 2000};
    pthread_t tid;
    int64_t t0 = mono_ms();
    assert_int_equal(pthread_create(&tid, NULL, closer_run, &k), 0);
    while (!atomic_load(&k.started))
        sleep_ms(1);
    mp_error err = MP_OK;
    size_t refused = 0;
    while (mono_ms() - t0 < 1000 && tag < CAP - 8) {
        small_build(&b, "race", (int)tag);
        err = mp_uploader_enqueue(up, &b.batch, (void *)(tag + 1), NULL);
        if (err == MP_OK) {
            tag++;
        } else {
            assert_int_equal(err, MP_ERR_CLOSED);
            refused++;
            if (refused >= 3)
                break;
        }
        sleep_ms(20);
    }
    assert_int_equal(atomic_load(&col->close_returned), 0);
    if (err != MP_ERR_CLOSED)
        fail_msg("enqueue still %s 1 s into close()", mp_error_name(err));
    assert_int_equal(pthread_join(tid, NULL), 0);
    assert_int_equal(k.result, MP_ERR_TIMEOUT);
    assert_true(k.took_ms >= 1900);
    expect_one_report_each(col, tag); /* the refused ones never */
    for (size_t i = 0; i < tag; i++)
        assert_int_equal(col->reps[i].outcome, MP_DELIVERY_UNDELIVERED);
    collector_free(col);
    mp_client_free(c);
    silent_stop(&sv);
}

/* ------------------------------------------------------------------------ */
/* Options                                                                  */
/* ------------------------------------------------------------------------ */

static int diag_names(const mp_diag *d, const char *word) {
    for (size_t i = 0; i < mp_diag_count(d); i++) {
        const mp_problem *p = mp_diag_get(d, i);
        if (strstr(p->path, word) || strstr(p->message, word))
            return 1;
    }
    return 0;
}

static void test_options(void **state) {
    (void)state;
    mp_uploader_options o;
    memset(&o, 0x5a, sizeof o);
    assert_int_equal(mp_uploader_options_init(&o, MP_UPLOADER_OPTIONS_VERSION + 1),
                     MP_ERR_INVALID_ARGUMENT);
    assert_int_equal(mp_uploader_options_init(&o, 9999), MP_ERR_INVALID_ARGUMENT);
    assert_int_equal(mp_uploader_options_init(NULL, MP_UPLOADER_OPTIONS_VERSION),
                     MP_ERR_INVALID_ARGUMENT);
    assert_int_equal(mp_uploader_options_init(&o, MP_UPLOADER_OPTIONS_VERSION), MP_OK);
    assert_int_equal(o.version, MP_UPLOADER_OPTIONS_VERSION);
    assert_int_equal(o.mode, MP_UPLOAD_BULK);
    assert_int_equal(o.merge, 0);
    assert_int_equal(o.id_mode, MP_ID_RANDOM);
    assert_int_equal(o.skip_validation, 0);
    assert_null(o.on_report);
    assert_null(o.report_ctx);

    mp_server *s = serve((mp_serve_options){0});
    mp_client *c = client_to(s, (mp_client_options){0});
    small_batch b;
    small_build(&b, "options", 1);

    /* From mp_uploader_options_init(), the initialiser and NULL: all work. */
    mp_uploader *up = NULL;
    assert_int_equal(mp_uploader_new(c, &o, &up, NULL), MP_OK);
    assert_int_equal(mp_uploader_enqueue(up, &b.batch, NULL, NULL), MP_OK);
    assert_int_equal(mp_uploader_close(up, 5000), MP_OK);
    mp_uploader_options init = MP_UPLOADER_OPTIONS_INIT;
    assert_int_equal(init.version, MP_UPLOADER_OPTIONS_VERSION);
    up = NULL;
    assert_int_equal(mp_uploader_new(c, &init, &up, NULL), MP_OK);
    assert_int_equal(mp_uploader_enqueue(up, &b.batch, NULL, NULL), MP_OK);
    mp_uploader_stats st = MP_UPLOADER_STATS_INIT;
    assert_int_equal(mp_uploader_flush(up, 5000), MP_OK);
    assert_int_equal(mp_uploader_stats_get(up, &st), MP_OK);
    assert_int_equal(st.accepted, 1);
    assert_int_equal(mp_uploader_close(up, 5000), MP_OK);
    up = NULL;
    assert_int_equal(mp_uploader_new(c, NULL, &up, NULL), MP_OK);
    assert_int_equal(mp_uploader_close(up, 5000), MP_OK);
    assert_int_equal(serve_stats(s).accepted, 2);

    /* From a newer header than the library's: refused, naming `version`. */
    mp_diag *d = mp_diag_new();
    init.version = MP_UPLOADER_OPTIONS_VERSION + 1;
    up = NULL;
    assert_int_equal(mp_uploader_new(c, &init, &up, d), MP_ERR_INVALID_ARGUMENT);
    assert_null(up);
    assert_true(diag_names(d, "version"));

    /* Out of range: refused, naming the option. */
    mp_diag_clear(d);
    init = (mp_uploader_options)MP_UPLOADER_OPTIONS_INIT;
    init.max_in_flight = 65;
    assert_int_equal(mp_uploader_new(c, &init, &up, d), MP_ERR_INVALID_ARGUMENT);
    assert_null(up);
    assert_true(diag_names(d, "max_in_flight"));
    mp_diag_clear(d);
    init = (mp_uploader_options)MP_UPLOADER_OPTIONS_INIT;
    assert_int_equal(mp_uploader_new(NULL, &init, &up, d), MP_ERR_INVALID_ARGUMENT);
    assert_int_equal(mp_uploader_new(c, &init, NULL, d), MP_ERR_INVALID_ARGUMENT);
    mp_diag_free(d);

    /* No stats struct. */
    up = NULL;
    assert_int_equal(mp_uploader_new(c, NULL, &up, NULL), MP_OK);
    assert_int_equal(mp_uploader_stats_get(up, NULL), MP_ERR_INVALID_ARGUMENT);
    assert_int_equal(mp_uploader_close(up, 1000), MP_OK);
    mp_uploader_close(NULL, 0); /* NULL is fine */

    assert_string_equal(mp_delivery_outcome_name(MP_DELIVERY_ACCEPTED), "accepted");
    assert_string_equal(mp_delivery_outcome_name(MP_DELIVERY_REJECTED), "rejected");
    assert_string_equal(mp_delivery_outcome_name(MP_DELIVERY_UNDELIVERED), "undelivered");
    assert_string_equal(mp_delivery_outcome_name(MP_DELIVERY_EXPIRED), "expired");
    assert_non_null(mp_delivery_outcome_name((mp_delivery_outcome)42));

    mp_client_free(c);
    mp_serve_stop(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_invalid_batch_refused_at_enqueue),
        cmocka_unit_test(test_oversize_batch_refused_with_limit),
        cmocka_unit_test(test_ids_counts_and_bytes),
        cmocka_unit_test(test_producers_under_faults_bulk),
        cmocka_unit_test(test_producers_under_faults_single),
        cmocka_unit_test(test_deadlines_server_never_accepts),
        cmocka_unit_test(test_deadlines_server_reads_forever),
        cmocka_unit_test(test_queue_limit_batches),
        cmocka_unit_test(test_queue_limit_bytes),
        cmocka_unit_test(test_enqueue_does_not_wait_for_network),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_503_forever_expires),
        cmocka_unit_test(test_503_max_attempts),
        cmocka_unit_test(test_400_rejected_not_retried),
        cmocka_unit_test(test_400_bulk_rejects_every_batch),
        cmocka_unit_test(test_401_403_rejected),
        cmocka_unit_test(test_429_waits_for_retry_after),
        cmocka_unit_test(test_429_does_not_use_up_attempts),
        cmocka_unit_test(test_report_callback_rules),
        cmocka_unit_test(test_fork_child_gets_forked),
        cmocka_unit_test(test_enqueue_during_close_from_callback),
        cmocka_unit_test(test_enqueue_during_close_from_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

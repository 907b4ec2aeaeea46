/*
 * The uploader's public calls (uploader.h): creation, enqueue, flush,
 * close and stats. The sending threads are in sending.c, the reports in
 * reports.c; uploader_internal.h describes the queue.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/diag.h"
#include "common/fork.h"
#include "common/lock.h"
#include "uploader/uploader_internal.h"

#define DEFAULT_MAX_QUEUE_BATCHES 10000
#define DEFAULT_MAX_QUEUE_BYTES (64u * 1024 * 1024)
#define DEFAULT_LINGER_MS 100
#define DEFAULT_IN_FLIGHT 4
#define DEFAULT_DELIVERY_TIMEOUT_MS 300000
#define DEFAULT_SPOOL_BYTES (1024ull * 1024 * 1024)

/* An uploader made under another process generation belongs to a parent
 * process, whose threads the child does not have. */
static int forked(const mp_uploader *u) {
    return mp__fork_generation() != u->fork_generation;
}

/* ------------------------------------------------------------------------ */
/* Options                                                                  */

mp_error mp_uploader_options_init(mp_uploader_options *opts, unsigned int version) {
    if (!opts || version < 1 || version > MP_UPLOADER_OPTIONS_VERSION)
        return MP_ERR_INVALID_ARGUMENT;
    memset(opts, 0, sizeof *opts);
    opts->version = version;
    return MP_OK;
}

static mp_error invalid(mp_diag *diag, const char *what, const char *message) {
    mp__diag_add(diag, MP_SEVERITY_ERROR, MP_ERR_INVALID_ARGUMENT, -1, what, "%s", message);
    return MP_ERR_INVALID_ARGUMENT;
}

static mp_error check_options(const mp_uploader_options *o, mp_diag *diag) {
    if (o->version < 1 || o->version > MP_UPLOADER_OPTIONS_VERSION)
        return invalid(diag, "version",
                       "is not an mp_uploader_options version this library knows: initialise "
                       "with MP_UPLOADER_OPTIONS_INIT or mp_uploader_options_init()");
    if ((int)o->mode < MP_UPLOAD_BULK || o->mode > MP_UPLOAD_HISTORICAL)
        return invalid(diag, "mode", "is not an mp_upload_mode value");
    if ((int)o->id_mode < MP_ID_RANDOM || o->id_mode > MP_ID_CONTENT)
        return invalid(diag, "id_mode", "is not an mp_id_mode value");
    if (o->max_in_flight < 0 || o->max_in_flight > MP__UPLOADER_MAX_THREADS)
        return invalid(diag, "max_in_flight", "must be between 1 and 64 (0 = 4)");
    if (o->max_attempts < 0)
        return invalid(diag, "max_attempts", "must not be negative (0 = no limit)");
    if (o->delivery_timeout_ms < 0)
        return invalid(diag, "delivery_timeout_ms", "must not be negative (0 = 300000)");
    if ((int)o->spool_durability < MP_SPOOL_PROCESS_CRASH ||
        o->spool_durability > MP_SPOOL_POWER_LOSS)
        return invalid(diag, "spool_durability", "is not an mp_spool_durability value");
    if (o->spool_dir && !*o->spool_dir)
        return invalid(diag, "spool_dir", "is empty (NULL = no spool)");
    return MP_OK;
}

static void configure(mp_uploader *u, mp_client *c, const mp_uploader_options *o) {
    static const mp_endpoint endpoints[] = {MP_ENDPOINT_BULK, MP_ENDPOINT_EVENTS,
                                            MP_ENDPOINT_BULK_HISTORICAL};
    u->client = c;
    u->endpoint = endpoints[o->mode];
    u->single = o->mode == MP_UPLOAD_SINGLE;
    u->max_batches = o->max_queue_batches ? o->max_queue_batches : DEFAULT_MAX_QUEUE_BATCHES;
    u->max_bytes = o->max_queue_bytes ? o->max_queue_bytes : DEFAULT_MAX_QUEUE_BYTES;
    u->enqueue_timeout_ms = o->enqueue_timeout_ms;
    u->linger_ms = o->linger_ms == 0 ? DEFAULT_LINGER_MS : (o->linger_ms < 0 ? 0 : o->linger_ms);
    u->delivery_timeout_ms =
        o->delivery_timeout_ms ? o->delivery_timeout_ms : DEFAULT_DELIVERY_TIMEOUT_MS;
    u->merge = o->merge != 0;
    u->payload.validate = !o->skip_validation;
    u->payload.historical = o->mode == MP_UPLOAD_HISTORICAL;
    u->payload.check_size = 1;
    u->payload.id_mode = o->id_mode;
    u->payload.batch_index = -1;
    /* The client's backoff bounds, without its per-call limits: the
     * uploader bounds a batch by time (delivery_timeout_ms) instead. */
    u->policy = c->policy;
    u->policy.max_attempts = o->max_attempts;
    u->on_report = o->on_report;
    u->report_ctx = o->report_ctx;
    u->nthreads = o->max_in_flight ? o->max_in_flight : DEFAULT_IN_FLIGHT;
    u->stats.version = MP_UPLOADER_STATS_VERSION;
}

/* Mutex and conditions; the conditions wait on the monotonic clock, so a
 * change of the wall clock moves no deadline. */
static int init_sync(mp_uploader *u) {
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) != 0)
        return -1;
    int rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int made = 0;
    if (!rc && !(rc = mp__mutex_init_adaptive(&u->lock)) && ++made &&
        !(rc = pthread_mutex_init(&u->report_lock, NULL)) && ++made &&
        !(rc = pthread_cond_init(&u->work, &ca)) && ++made &&
        !(rc = pthread_cond_init(&u->room, &ca)) && ++made &&
        !(rc = pthread_cond_init(&u->done, &ca)))
        made++;
    pthread_condattr_destroy(&ca);
    if (rc) {
        if (made > 3)
            pthread_cond_destroy(&u->room);
        if (made > 2)
            pthread_cond_destroy(&u->work);
        if (made > 1)
            pthread_mutex_destroy(&u->report_lock);
        if (made > 0)
            pthread_mutex_destroy(&u->lock);
        return -1;
    }
    return 0;
}

static void destroy_sync(mp_uploader *u) {
    pthread_cond_destroy(&u->done);
    pthread_cond_destroy(&u->room);
    pthread_cond_destroy(&u->work);
    pthread_mutex_destroy(&u->report_lock);
    pthread_mutex_destroy(&u->lock);
}

/* Stops and joins the threads started so far. */
static void stop_threads(mp_uploader *u, int started) {
    pthread_mutex_lock(&u->lock);
    u->stopping = 1;
    pthread_cond_broadcast(&u->work);
    pthread_mutex_unlock(&u->lock);
    for (int i = 0; i < started; i++)
        pthread_join(u->threads[i], NULL);
}

static void report_left_over(mp_uploader *u);

/* Opens and recovers the spool, and queues what fits of what it holds. */
static mp_error open_spool(mp_uploader *u, const mp_uploader_options *o, mp_diag *diag) {
    mp__spool_options so = {o->spool_dir, o->spool_durability == MP_SPOOL_POWER_LOSS,
                            o->max_spool_bytes ? o->max_spool_bytes : DEFAULT_SPOOL_BYTES};
    mp_error err = mp__spool_open(&so, &u->spool, diag);
    if (err)
        return err;
    mp__spool_counts c = mp__spool_counts_get(u->spool);
    u->stats.recovered = c.recovered;
    u->stats.spool_corrupt_records = c.corrupt_records;
    u->stats.spool_corrupt_bytes = c.corrupt_bytes;
    u->backlog = c.recovered > 0;
    pthread_mutex_lock(&u->lock);
    mp__refill_from_spool(u);
    pthread_mutex_unlock(&u->lock);
    return MP_OK;
}

mp_error mp_uploader_new(mp_client *client, const mp_uploader_options *opts, mp_uploader **out,
                         mp_diag *diag) {
    static const mp_uploader_options defaults = MP_UPLOADER_OPTIONS_INIT;
    const mp_uploader_options *o = opts ? opts : &defaults;
    if (!out)
        return MP_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (!client)
        return invalid(diag, "client", "is NULL");
    mp_error err = check_options(o, diag);
    if (err)
        return err;

    mp_uploader *u = mp__calloc(1, sizeof *u);
    if (!u)
        return MP_ERR_NOMEM;
    configure(u, client, o);
    u->fork_generation = mp__fork_generation();
    if (init_sync(u) != 0) {
        mp__free(u);
        return MP_ERR_NOMEM;
    }
    if (o->spool_dir && (err = open_spool(u, o, diag)) != MP_OK) {
        destroy_sync(u);
        mp__free(u);
        return err;
    }
    /* Before the threads start: batches recovered from a spool are queued
     * already, and a report callback that uses the caller's pointer may run
     * before this function returns (thread creation orders the two). */
    *out = u;
    for (int i = 0; i < u->nthreads; i++) {
        if (pthread_create(&u->threads[i], NULL, mp__uploader_thread, u) != 0) {
            *out = NULL;
            stop_threads(u, i);
            report_left_over(u);
            mp__spool_close(u->spool);
            destroy_sync(u);
            mp__free(u);
            return MP_ERR_NOMEM;
        }
    }
    return MP_OK;
}

/* ------------------------------------------------------------------------ */
/* Enqueue                                                                  */

/* Room in memory: batches and bytes queued. */
static int has_memory_room(const mp_uploader *u, size_t len) {
    return u->outstanding < u->max_batches && u->outstanding_bytes + len <= u->max_bytes;
}

/* Room for a new batch: in memory, and on disk with a spool. */
static int has_room(const mp_uploader *u, size_t len) {
    return has_memory_room(u, len) && (!u->spool || mp__spool_has_room(u->spool, len));
}

/* Waits for room as enqueue_timeout_ms says. Under the lock; 0 when there is room. */
static mp_error wait_for_room(mp_uploader *u, size_t len) {
    if (has_room(u, len) || u->closing)
        return MP_OK;
    /* From a report callback, waiting could wait for this very thread. */
    if (u->enqueue_timeout_ms == 0 || mp__reporting == u)
        return MP_ERR_QUEUE_FULL;
    int64_t until =
        u->enqueue_timeout_ms < 0 ? NEVER : mp__monotonic_ms() + u->enqueue_timeout_ms;
    while (!has_room(u, len) && !u->closing) {
        if (until != NEVER && mp__monotonic_ms() >= until)
            return MP_ERR_QUEUE_FULL;
        mp__cond_wait_until(&u->room, &u->lock, until);
    }
    return MP_OK;
}

/* The open group of the same user that e's events still fit in, if any. */
static mp__entry *merge_target(mp_uploader *u, const mp__payload *p) {
    for (mp__entry *g = u->merge_map[p->envelope_hash % MP__MERGE_BUCKETS]; g; g = g->map_next) {
        size_t len = mp__merged_len(g->p, g->events_len + p->events_len,
                                    g->with_events + (p->events_len > 0));
        if (len <= MP_MAX_BATCH_BYTES && mp__payload_same_envelope(g->p, p))
            return g;
    }
    return NULL;
}

static void join_group(mp_uploader *u, mp__entry *g, mp__entry *e) {
    const mp__payload *p = e->p;
    g->last->next = e;
    g->last = e;
    g->batches++;
    g->events_len += p->events_len;
    g->with_events += p->events_len > 0;
    size_t len = mp__merged_len(g->p, g->events_len, g->with_events);
    u->pending_bytes += len - g->len;
    g->len = len;
}

static void open_group(mp_uploader *u, mp__entry *e) {
    e->last = e;
    e->batches = 1;
    e->events_len = e->p->events_len;
    e->with_events = e->p->events_len > 0;
    e->len = e->p->len;
    if (u->pending_tail)
        u->pending_tail->next_group = e;
    else
        u->pending_head = e;
    u->pending_tail = e;
    u->pending_groups++;
    u->pending_bytes += e->len;
    if (u->merge && e->p->mergeable) {
        mp__entry **bucket = &u->merge_map[e->p->envelope_hash % MP__MERGE_BUCKETS];
        e->map_next = *bucket;
        *bucket = e;
    }
}

void mp__queue_reserved(mp_uploader *u, mp__entry *e) {
    int was_empty = !u->pending_head;
    mp__entry *g = u->merge && e->p->mergeable ? merge_target(u, e->p) : NULL;
    if (g)
        join_group(u, g, e);
    else
        open_group(u, e);
    e->seq = ++u->next_seq;
    /* Wake a sender only when there is something new for it to time. */
    if (was_empty || mp__request_full(u))
        pthread_cond_signal(&u->work);
}

static void reserve(mp_uploader *u, size_t len) {
    u->outstanding++;
    u->outstanding_bytes += len;
}

static void unreserve(mp_uploader *u, size_t len) {
    u->outstanding--;
    u->outstanding_bytes -= len;
    pthread_cond_broadcast(&u->room);
}

void mp__refill_from_spool(mp_uploader *u) {
    /* Recovered batches are on disk already: only memory counts. */
    while (u->backlog && has_memory_room(u, MP_MAX_BATCH_BYTES)) {
        mp__payload *p;
        uint64_t seq;
        int64_t t;
        mp_error err = mp__spool_take_recovered(u->spool, &p, &seq, &t);
        if (err == MP_ERR_LIMIT) {
            u->backlog = 0;
            return;
        }
        if (err == MP_ERR_IO) {
            u->stats.spool_corrupt_records++;
            continue;
        }
        mp__entry *e = err ? NULL : mp__calloc(1, sizeof *e);
        if (!e) {
            mp__payload_free(p); /* NOMEM: it stays in the spool for a later start */
            return;
        }
        e->p = p;
        e->spool_seq = seq;
        e->recovered = 1;
        e->enqueued_ms = mp__monotonic_ms();
        reserve(u, p->len);
        mp__queue_reserved(u, e);
    }
}

/* Writes the entry to the spool, its room being reserved; the lock is
 * released meanwhile (a power-loss append waits for the device). */
static mp_error spool_entry(mp_uploader *u, mp__entry *e, mp_diag *diag) {
    pthread_mutex_unlock(&u->lock);
    mp_error err = mp__spool_append(u->spool, e->p, &e->spool_seq, diag);
    pthread_mutex_lock(&u->lock);
    return err;
}

mp_error mp_uploader_enqueue(mp_uploader *u, const mp_batch *batch, void *tag, mp_diag *diag) {
    if (!u || !batch)
        return MP_ERR_INVALID_ARGUMENT;
    if (forked(u))
        return MP_ERR_FORKED;
    /* `closing` is read under the lock only: a call that close() overlaps
     * must be counted in `producers`, which close() waits out before it
     * frees anything. */
    mp__payload *p;
    mp_error err = mp__payload_new(batch, &u->payload, &p, diag);
    if (err)
        return err;
    if (p->len > u->max_bytes) {
        mp__diag_add(diag, MP_SEVERITY_ERROR, MP_ERR_LIMIT, -1, "",
                     "the batch is %zu bytes of JSON; the uploader's max_queue_bytes is %zu",
                     p->len, u->max_bytes);
        mp__payload_free(p);
        return MP_ERR_LIMIT;
    }
    mp__entry *e = mp__calloc(1, sizeof *e);
    if (!e) {
        mp__payload_free(p);
        return MP_ERR_NOMEM;
    }
    e->p = p;
    e->tag = tag;

    pthread_mutex_lock(&u->lock);
    u->producers++;
    err = wait_for_room(u, p->len);
    if (!err && u->closing)
        err = MP_ERR_CLOSED;
    if (err == MP_ERR_QUEUE_FULL)
        u->stats.queue_full++;
    if (!err) {
        reserve(u, p->len);
        if (u->spool && (err = spool_entry(u, e, diag)) != MP_OK)
            unreserve(u, p->len);
    }
    if (!err) {
        e->enqueued_ms = mp__monotonic_ms();
        u->stats.enqueued++;
        mp__queue_reserved(u, e);
    }
    if (--u->producers == 0 && u->closing)
        pthread_cond_broadcast(&u->done);
    pthread_mutex_unlock(&u->lock);
    if (err) {
        mp__payload_free(p);
        mp__free(e);
    }
    return err;
}

/* ------------------------------------------------------------------------ */
/* Flush and close                                                          */

static int64_t deadline_of(long timeout_ms) {
    return timeout_ms < 0 ? NEVER : mp__monotonic_ms() + timeout_ms;
}

mp_error mp_uploader_flush(mp_uploader *u, long timeout_ms) {
    if (!u)
        return MP_ERR_INVALID_ARGUMENT;
    if (forked(u))
        return MP_ERR_FORKED;
    if (mp__reporting == u)
        return MP_ERR_INVALID_ARGUMENT;
    int64_t until = deadline_of(timeout_ms);
    pthread_mutex_lock(&u->lock);
    mp__flush_waiter w = {u->waiters, u->next_seq, u->outstanding};
    u->waiters = &w;
    u->hurry++;
    pthread_cond_broadcast(&u->work);
    while (w.remaining > 0 && (until == NEVER || mp__monotonic_ms() < until))
        mp__cond_wait_until(&u->done, &u->lock, until);
    u->hurry--;
    mp__flush_waiter **pp = &u->waiters;
    while (*pp != &w)
        pp = &(*pp)->next;
    *pp = w.next;
    mp_error err = w.remaining > 0 ? MP_ERR_TIMEOUT : MP_OK;
    pthread_mutex_unlock(&u->lock);
    return err;
}

/* Reports every group of a list (pending or retry) as undelivered, or
 * kept in the spool, at close. */
static void report_left_over(mp_uploader *u) {
    const char *reason = u->spool ? "closed before delivery: kept in the spool for the next start"
                                  : "closed before delivery: close()'s deadline passed first";
    mp__verdict_info v = {mp__closed_outcome(u), MP_ERR_TIMEOUT, NULL, reason};
    while (u->pending_head) {
        mp__entry *g = u->pending_head;
        u->pending_head = g->next_group;
        mp__report_groups(u, &g, 1, &v);
    }
    u->pending_tail = NULL;
    while (u->retry_head) {
        mp__request *rq = u->retry_head;
        u->retry_head = rq->next;
        v.request = rq;
        mp__report_groups(u, rq->groups, rq->ngroups, &v);
        mp__request_free(rq);
        v.request = NULL;
    }
}

/* Waits until everything is reported or the deadline passes; then, if
 * batches are left, stops sending and cuts requests in flight short.
 * Returns whether the deadline passed with batches unreported. */
static int drain(mp_uploader *u, int64_t until) {
    pthread_mutex_lock(&u->lock);
    u->closing = 1;
    u->hurry++;
    pthread_cond_broadcast(&u->work);
    pthread_cond_broadcast(&u->room); /* waiting producers give up: MP_ERR_CLOSED */
    while (u->outstanding > 0 && (until == NEVER || mp__monotonic_ms() < until))
        mp__cond_wait_until(&u->done, &u->lock, until);
    int late = u->outstanding > 0;
    if (late) {
        u->abandon = 1;
        for (mp__request *rq = u->in_flight; rq; rq = rq->next)
            atomic_store(&rq->cancel, 1);
    }
    /* enqueue calls still inside see `closing` and leave; wait them out. */
    while (u->producers > 0)
        pthread_cond_wait(&u->done, &u->lock);
    pthread_mutex_unlock(&u->lock);
    return late;
}

mp_error mp_uploader_close(mp_uploader *u, long timeout_ms) {
    if (!u)
        return MP_OK;
    if (forked(u))
        return MP_ERR_FORKED;
    if (mp__reporting == u)
        return MP_ERR_INVALID_ARGUMENT;
    int late = drain(u, deadline_of(timeout_ms));
    stop_threads(u, u->nthreads);
    report_left_over(u); /* alone now: the threads are gone */
    mp__spool_close(u->spool);
    destroy_sync(u);
    mp__free(u);
    return late ? MP_ERR_TIMEOUT : MP_OK;
}

/* ------------------------------------------------------------------------ */
/* Stats                                                                    */

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double percentile(const double *sorted, size_t n, double q) {
    size_t i = (size_t)(q * (double)(n - 1) + 0.5);
    return sorted[i < n ? i : n - 1];
}

mp_error mp_uploader_stats_get(mp_uploader *u, mp_uploader_stats *stats) {
    if (!u || !stats || stats->version > MP_UPLOADER_STATS_VERSION)
        return MP_ERR_INVALID_ARGUMENT;
    if (forked(u))
        return MP_ERR_FORKED;
    double lat[MP__LATENCY_RING];
    pthread_mutex_lock(&u->lock);
    mp_uploader_stats st = u->stats;
    st.queued = u->outstanding - st.in_flight;
    st.queued_bytes = u->outstanding_bytes - u->in_flight_bytes;
    if (u->spool)
        st.spool_bytes = mp__spool_counts_get(u->spool).disk_bytes;
    size_t n = u->latency_count < MP__LATENCY_RING ? u->latency_count : MP__LATENCY_RING;
    memcpy(lat, u->latency_ms, n * sizeof *lat);
    pthread_mutex_unlock(&u->lock);
    if (n) {
        qsort(lat, n, sizeof *lat, compare_doubles);
        st.latency_p50_ms = percentile(lat, n, 0.50);
        st.latency_p90_ms = percentile(lat, n, 0.90);
        st.latency_p99_ms = percentile(lat, n, 0.99);
        st.latency_max_ms = lat[n - 1];
    }
    /* A caller built against an older header has a shorter struct: write
     * only what its version has. */
    static const size_t size_of_version[] = {sizeof st, sizeof st};
    st.version = stats->version ? stats->version : 1;
    memcpy(stats, &st, size_of_version[st.version]);
    return MP_OK;
}

const char *mp_delivery_outcome_name(mp_delivery_outcome outcome) {
    switch (outcome) {
    case MP_DELIVERY_ACCEPTED:
        return "accepted";
    case MP_DELIVERY_REJECTED:
        return "rejected";
    case MP_DELIVERY_UNDELIVERED:
        return "undelivered";
    case MP_DELIVERY_EXPIRED:
        return "expired";
    case MP_DELIVERY_SPOOLED:
        return "spooled";
    }
    return "unknown";
}

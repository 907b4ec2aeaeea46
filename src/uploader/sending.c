/*
 * The sending threads. Each one loops: take the next request that may go
 * (a retry whose time has come, else new groups from the pending list once
 * a request is full or the oldest has lingered long enough, never while
 * the client's rate-limit gate is closed), send it once, and act on the
 * retry policy's verdict. A thread sends one request at a time, so
 * max_in_flight threads give max_in_flight requests in flight.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "delivery/packer.h"
#include "transport/response.h"
#include "uploader/uploader_internal.h"

/* ------------------------------------------------------------------------ */
/* Waiting                                                                  */

/* Waits on cond until signalled or until `until_ms` (monotonic; NEVER =
 * no limit). The conditions use CLOCK_MONOTONIC (uploader.c). */
void mp__cond_wait_until(pthread_cond_t *cond, pthread_mutex_t *lock, int64_t until_ms) {
    if (until_ms == NEVER) {
        pthread_cond_wait(cond, lock);
        return;
    }
    struct timespec ts = {(time_t)(until_ms / 1000), (long)(until_ms % 1000) * 1000000L};
    pthread_cond_timedwait(cond, lock, &ts);
}

static int64_t max64(int64_t a, int64_t b) {
    return a > b ? a : b;
}

static int64_t min64(int64_t a, int64_t b) {
    return a < b ? a : b;
}

/* ------------------------------------------------------------------------ */
/* Taking work                                                              */

static mp__request *pop_retry(mp_uploader *u) {
    mp__request *rq = u->retry_head;
    u->retry_head = rq->next;
    rq->next = NULL;
    return rq;
}

int mp__request_full(const mp_uploader *u) {
    return u->single ? !u->merge
                     : u->pending_groups >= MP_MAX_BATCHES_PER_REQUEST ||
                           u->pending_bytes + u->pending_groups + 1 >= MP_MAX_REQUEST_BYTES;
}

/* When the pending list may be sent: now when a request is full or
 * someone waits in flush()/close(), else when the oldest has lingered. */
static int64_t pending_ready_at(const mp_uploader *u, int64_t now) {
    if (u->hurry || u->closing || mp__request_full(u))
        return now;
    return u->pending_head->enqueued_ms + u->linger_ms;
}

/* Takes the group at the front of the pending list. Under the lock. */
static mp__entry *pop_pending(mp_uploader *u) {
    mp__entry *g = u->pending_head;
    u->pending_head = g->next_group;
    if (!u->pending_head)
        u->pending_tail = NULL;
    mp__merge_forget(u, g);
    u->pending_groups--;
    u->pending_bytes -= g->len;
    return g;
}

/* Moves the groups that fit one request from the front of the pending
 * list into a new request. NULL when out of memory (the groups stay). */
static mp__request *take_pending(mp_uploader *u) {
    mp__request *rq = mp__calloc(1, sizeof *rq);
    if (!rq)
        return NULL;
    rq->result.version = MP_RESULT_VERSION;
    mp__packer packer;
    mp__packer_start(&packer);
    while (u->pending_head && rq->ngroups < (u->single ? 1u : MP_MAX_BATCHES_PER_REQUEST) &&
           mp__packer_fits(&packer, u->pending_head->len)) {
        mp__entry *g = pop_pending(u);
        mp__packer_add(&packer, g->len);
        rq->groups[rq->ngroups++] = g;
        rq->nbatches += g->batches;
        for (const mp__entry *e = g; e; e = e->next)
            rq->bytes += e->p->len;
    }
    rq->deadline_ms = rq->groups[0]->enqueued_ms + u->delivery_timeout_ms;
    return rq;
}

/* Groups at the front of the pending list whose delivery time is over:
 * moved into `expired` (up to its capacity). Under the lock. */
static size_t take_expired(mp_uploader *u, int64_t now, mp__entry **expired, size_t cap) {
    size_t n = 0;
    while (n < cap && u->pending_head &&
           now >= u->pending_head->enqueued_ms + u->delivery_timeout_ms)
        expired[n++] = pop_pending(u);
    return n;
}

static void expire_groups(mp_uploader *u, mp__entry **groups, size_t n) {
    char reason[160];
    snprintf(reason, sizeof reason,
             "not sent within delivery_timeout_ms (%lld ms): the API was unreachable or "
             "rate limited for that long",
             (long long)u->delivery_timeout_ms);
    mp__verdict_info v = {MP_DELIVERY_EXPIRED, MP_ERR_TIMEOUT, NULL, reason};
    mp__report_groups(u, groups, n, &v);
}

static void track_in_flight(mp_uploader *u, mp__request *rq) {
    rq->prev = NULL;
    rq->next = u->in_flight;
    if (u->in_flight)
        u->in_flight->prev = rq;
    u->in_flight = rq;
    u->stats.requests_in_flight++;
    u->stats.in_flight += rq->nbatches;
    u->in_flight_bytes += rq->bytes;
}

static void untrack_in_flight(mp_uploader *u, mp__request *rq) {
    if (rq->prev)
        rq->prev->next = rq->next;
    else
        u->in_flight = rq->next;
    if (rq->next)
        rq->next->prev = rq->prev;
    rq->next = rq->prev = NULL;
    u->stats.requests_in_flight--;
    u->stats.in_flight -= rq->nbatches;
    u->in_flight_bytes -= rq->bytes;
}

/*
 * The next request to send, waiting as long as needed; NULL when the
 * thread should exit. Under the lock (released while waiting and while
 * reporting expired batches).
 */
static mp__request *next_request(mp_uploader *u) {
    mp__entry *expired[MP_MAX_BATCHES_PER_REQUEST];
    for (;;) {
        if (u->abandon)
            return NULL;
        if (u->backlog)
            mp__refill_from_spool(u);
        int64_t now = mp__monotonic_ms();
        size_t nexp = take_expired(u, now, expired, MP_MAX_BATCHES_PER_REQUEST);
        if (nexp) {
            pthread_mutex_unlock(&u->lock);
            expire_groups(u, expired, nexp);
            pthread_mutex_lock(&u->lock);
            continue;
        }
        int64_t gate = mp__gate_until(&u->client->gate);
        int64_t wake = NEVER;
        mp__request *rq = NULL;
        if (u->retry_head) {
            int64_t at = max64(u->retry_head->retry_at_ms, gate);
            if (at <= now)
                rq = pop_retry(u);
            wake = min64(wake, at);
        }
        if (!rq && u->pending_head) {
            int64_t at = max64(pending_ready_at(u, now), gate);
            int64_t expiry = u->pending_head->enqueued_ms + u->delivery_timeout_ms;
            if (at <= now && !(rq = take_pending(u)))
                at = now + 10; /* out of memory: try again shortly */
            wake = min64(wake, min64(at, expiry));
        }
        if (rq) {
            track_in_flight(u, rq);
            return rq;
        }
        if (u->stopping && !u->pending_head && !u->retry_head)
            return NULL;
        mp__cond_wait_until(&u->work, &u->lock, wake);
    }
}

/* ------------------------------------------------------------------------ */
/* Sending                                                                  */

static int cancelled(void *ctx) {
    return atomic_load_explicit(&((mp__request *)ctx)->cancel, memory_order_relaxed);
}

/* The id of a merged group: a UUIDv5 of its members' ids, so the same
 * members make the same id. */
static void merged_id(mp__entry *g) {
    mp__sha1_ctx c;
    mp__sha1_init(&c);
    mp__sha1_update(&c, mp__uuid_namespace, 16);
    for (const mp__entry *e = g; e; e = e->next)
        mp__sha1_update(&c, e->p->id, strlen(e->p->id) + 1);
    mp__uuid_v5_from_sha1(&c, g->sent_as);
}

static mp_error write_group(mp_buffer *out, mp__entry *g) {
    if (g->batches == 1)
        return mp_buffer_append(out, g->p->json, g->p->len);
    mp__payload *ps[64];
    mp__payload **members = g->batches <= 64 ? ps : mp__malloc(g->batches * sizeof *members);
    if (!members)
        return MP_ERR_NOMEM;
    size_t n = 0;
    for (mp__entry *e = g; e; e = e->next)
        members[n++] = e->p;
    merged_id(g);
    mp_error err = mp__payload_write_merged(out, g->sent_as, members, n);
    if (members != ps)
        mp__free(members);
    return err;
}

/* The request's body, once: one batch, or the packed array. */
static mp_error build_body(mp__request *rq, int single) {
    size_t size = 2;
    for (size_t i = 0; i < rq->ngroups; i++)
        size += rq->groups[i]->len + 1;
    rq->body = mp_buffer_new(size);
    if (!rq->body)
        return MP_ERR_NOMEM;
    if (single)
        return write_group(rq->body, rq->groups[0]);
    mp_error err = mp_buffer_append(rq->body, "[", 1);
    for (size_t i = 0; i < rq->ngroups && !err; i++) {
        if (i > 0)
            err = mp_buffer_append(rq->body, ",", 1);
        if (!err)
            err = write_group(rq->body, rq->groups[i]);
    }
    return err ? err : mp_buffer_append(rq->body, "]", 1);
}

static void record_latency(mp_uploader *u, int64_t ms) {
    u->latency_ms[u->latency_count % MP__LATENCY_RING] = (double)ms;
    u->latency_count++;
}

/* Inserts rq into the retry list, which is sorted by retry_at_ms. */
static void schedule_retry(mp_uploader *u, mp__request *rq) {
    mp__request **pp = &u->retry_head;
    while (*pp && (*pp)->retry_at_ms <= rq->retry_at_ms)
        pp = &(*pp)->next;
    rq->next = *pp;
    *pp = rq;
    pthread_cond_signal(&u->work);
}

/* What the last attempt said, for a report's reason. */
static void describe(const mp__request *rq, char *out, size_t cap, const char *prefix) {
    const mp_result *r = &rq->result;
    if (r->status && r->error_count)
        snprintf(out, cap, "%sHTTP %d: %s", prefix, r->status, r->errors[0].message);
    else if (r->status)
        snprintf(out, cap, "%sHTTP %d", prefix, r->status);
    else
        snprintf(out, cap, "%s%s", prefix,
                 r->transport_error[0] ? r->transport_error : mp_strerror(r->error));
}

/* Reports a request's batches with a final verdict and frees it. */
static void finish(mp_uploader *u, mp__request *rq, mp__verdict verdict) {
    char reason[400] = "";
    char prefix[120] = "";
    mp__verdict_info v = {MP_DELIVERY_ACCEPTED, MP_OK, rq, reason};
    switch (verdict) {
    case MP__VERDICT_ACCEPTED:
        break;
    case MP__VERDICT_REJECTED:
        /* No status: the transport refused the request as given. */
        v.outcome = rq->result.status ? MP_DELIVERY_REJECTED : MP_DELIVERY_UNDELIVERED;
        break;
    case MP__VERDICT_GIVE_UP_ATTEMPTS:
        v.outcome = MP_DELIVERY_UNDELIVERED;
        snprintf(prefix, sizeof prefix, "gave up after %d attempts; last: ",
                 rq->attempts - rq->throttled);
        break;
    case MP__VERDICT_GIVE_UP_DEADLINE:
        v.outcome = MP_DELIVERY_EXPIRED;
        snprintf(prefix, sizeof prefix, "not delivered within delivery_timeout_ms; last: ");
        break;
    case MP__VERDICT_RETRY: /* only when closing: abandoned */
        v.outcome = mp__closed_outcome(u);
        snprintf(prefix, sizeof prefix, "%s (it may have reached the API); last: ",
                 u->spool ? "closed before delivery, kept in the spool"
                          : "closed before delivery");
        break;
    }
    if (v.outcome != MP_DELIVERY_ACCEPTED) {
        v.error = rq->result.error ? rq->result.error : MP_ERR_HTTP;
        describe(rq, reason, sizeof reason, prefix);
    }
    mp__report_groups(u, rq->groups, rq->ngroups, &v);
    mp__request_free(rq);
}

/* Body could not be built: the batches cannot be sent. */
static void finish_unsendable(mp_uploader *u, mp__request *rq, mp_error err) {
    char reason[120];
    snprintf(reason, sizeof reason, "not sent: %s while building the request", mp_strerror(err));
    mp__verdict_info v = {MP_DELIVERY_UNDELIVERED, err, NULL, reason};
    mp__report_groups(u, rq->groups, rq->ngroups, &v);
    mp__request_free(rq);
}

static void count_attempt(mp_uploader *u, const mp__request *rq, int64_t latency) {
    u->stats.requests++;
    if (rq->attempts > 1)
        u->stats.retries++;
    if (rq->result.status == 429)
        u->stats.throttled++;
    for (size_t i = 0; i < rq->ngroups && rq->attempts == 1; i++) {
        if (rq->groups[i]->batches > 1)
            u->stats.merged += rq->groups[i]->batches;
    }
    record_latency(u, latency);
}

/* Sends rq once and acts on the verdict. Called without the lock. */
static void send_once(mp_uploader *u, mp__request *rq, mp_http_response *resp) {
    if (rq->attempts > 0 && mp__monotonic_ms() >= rq->deadline_ms) {
        /* The gate held its retry past the batches' delivery time. */
        pthread_mutex_lock(&u->lock);
        untrack_in_flight(u, rq);
        pthread_mutex_unlock(&u->lock);
        finish(u, rq, MP__VERDICT_GIVE_UP_DEADLINE);
        return;
    }
    mp_error err = rq->body ? MP_OK : build_body(rq, u->single);
    if (err) {
        pthread_mutex_lock(&u->lock);
        untrack_in_flight(u, rq);
        pthread_mutex_unlock(&u->lock);
        finish_unsendable(u, rq, err);
        return;
    }
    int64_t t0 = mp__monotonic_ms();
    rq->attempts++;
    err = mp__client_attempt(u->client, u->endpoint, mp_buffer_data(rq->body),
                             mp_buffer_length(rq->body), &rq->result, resp, cancelled, rq);
    int64_t now = mp__monotonic_ms();
    /* A 429 is the API pacing us, not a failure: it does not use up one
     * of max_attempts (delivery_timeout_ms still bounds the wait). */
    if (err == MP_OK && rq->result.status == 429)
        rq->throttled++;
    mp__attempt a = {err,
                     rq->result.status,
                     rq->result.retry_after_ms,
                     rq->attempts - rq->throttled,
                     now,
                     rq->deadline_ms,
                     mp__gate_until(&u->client->gate),
                     mp__client_random(u->client)};
    int64_t retry_at = 0;
    mp__verdict verdict = mp__retry_decide(&u->policy, &a, &retry_at);

    pthread_mutex_lock(&u->lock);
    untrack_in_flight(u, rq);
    count_attempt(u, rq, now - t0);
    if (verdict == MP__VERDICT_RETRY && !u->abandon) {
        rq->retry_at_ms = retry_at;
        schedule_retry(u, rq);
        pthread_mutex_unlock(&u->lock);
        return;
    }
    pthread_mutex_unlock(&u->lock);
    finish(u, rq, verdict);
}

void *mp__uploader_thread(void *arg) {
    mp_uploader *u = arg;
    mp_http_response resp;
    memset(&resp, 0, sizeof resp);
    pthread_mutex_lock(&u->lock);
    for (;;) {
        mp__request *rq = next_request(u);
        if (!rq)
            break;
        pthread_mutex_unlock(&u->lock);
        send_once(u, rq, &resp);
        pthread_mutex_lock(&u->lock);
    }
    pthread_mutex_unlock(&u->lock);
    mp__response_reset(&resp);
    return NULL;
}

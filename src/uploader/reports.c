/*
 * Final verdicts: a report for each batch, then the counters that flush()
 * and close() wait on. The callback runs first, so when flush() returns,
 * every callback of what it waited for has returned too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "uploader/uploader_internal.h"

/* The uploader whose report callback this thread is running, if any:
 * enqueue() from there must not wait, and flush()/close() must not run. */
_Thread_local const mp_uploader *mp__reporting;

void mp__request_free(mp__request *rq) {
    if (!rq)
        return;
    mp_buffer_free(rq->body);
    mp_result_clear(&rq->result);
    mp__free(rq);
}

void mp__merge_forget(mp_uploader *u, mp__entry *head) {
    if (!u->merge || !head->p->mergeable)
        return;
    mp__entry **pp = &u->merge_map[head->p->envelope_hash % MP__MERGE_BUCKETS];
    for (; *pp; pp = &(*pp)->map_next) {
        if (*pp == head) {
            *pp = head->map_next;
            head->map_next = NULL;
            return;
        }
    }
}

static void call_back(mp_uploader *u, const mp__entry *head, const mp__entry *e,
                      const mp__verdict_info *v, int64_t now) {
    const mp__request *rq = v->request;
    mp_delivery_report r = {
        .source_request_id = e->p->id,
        .sent_as = head->sent_as[0] ? head->sent_as : e->p->id,
        .tag = e->tag,
        .outcome = v->outcome,
        .error = v->error,
        .status = rq ? rq->result.status : 0,
        .attempts = rq ? rq->attempts : 0,
        .event_count = e->p->event_count,
        .bytes = e->p->len,
        .errors = rq && v->outcome != MP_DELIVERY_ACCEPTED ? rq->result.errors : NULL,
        .error_count = rq && v->outcome != MP_DELIVERY_ACCEPTED ? rq->result.error_count : 0,
        .reason = v->reason,
        .latency_ms = now - e->enqueued_ms,
        .recovered = e->recovered,
    };
    u->on_report(u->report_ctx, &r);
}

static void count_outcome(mp_uploader_stats *st, mp_delivery_outcome o, uint64_t n) {
    switch (o) {
    case MP_DELIVERY_ACCEPTED:
        st->accepted += n;
        break;
    case MP_DELIVERY_REJECTED:
        st->rejected += n;
        break;
    case MP_DELIVERY_UNDELIVERED:
        st->undelivered += n;
        break;
    case MP_DELIVERY_EXPIRED:
        st->expired += n;
        break;
    case MP_DELIVERY_SPOOLED:
        st->spooled += n;
        break;
    }
}

/* One entry is done: flush waiters that wait for it hear of it. Under the lock. */
static void settle(mp_uploader *u, const mp__entry *e) {
    u->outstanding--;
    u->outstanding_bytes -= e->p->len;
    for (mp__flush_waiter *w = u->waiters; w; w = w->next) {
        if (e->seq <= w->upto && w->remaining > 0)
            w->remaining--;
    }
}

mp_delivery_outcome mp__closed_outcome(const mp_uploader *u) {
    return u->spool ? MP_DELIVERY_SPOOLED : MP_DELIVERY_UNDELIVERED;
}

/* A final report removes the batches from the spool; a spooled one stays. */
static void acknowledge(mp_uploader *u, mp__entry *const *groups, size_t ngroups,
                        mp_delivery_outcome outcome) {
    if (!u->spool || outcome == MP_DELIVERY_SPOOLED)
        return;
    uint64_t seqs[256];
    size_t n = 0;
    for (size_t g = 0; g < ngroups; g++) {
        for (const mp__entry *e = groups[g]; e; e = e->next) {
            if (!e->spool_seq)
                continue;
            seqs[n++] = e->spool_seq;
            if (n == sizeof seqs / sizeof *seqs) {
                mp__spool_ack(u->spool, seqs, n);
                n = 0;
            }
        }
    }
    if (n)
        mp__spool_ack(u->spool, seqs, n);
}

void mp__report_groups(mp_uploader *u, mp__entry *const *groups, size_t ngroups,
                       const mp__verdict_info *v) {
    if (u->on_report) {
        int64_t now = mp__monotonic_ms();
        pthread_mutex_lock(&u->report_lock);
        const mp_uploader *outer = mp__reporting;
        mp__reporting = u;
        for (size_t g = 0; g < ngroups; g++) {
            for (const mp__entry *e = groups[g]; e; e = e->next)
                call_back(u, groups[g], e, v, now);
        }
        mp__reporting = outer;
        pthread_mutex_unlock(&u->report_lock);
    }
    /* Before the room it frees is counted: a producer waiting for spool
     * space sees it once the lock below is released. */
    acknowledge(u, groups, ngroups, v->outcome);
    pthread_mutex_lock(&u->lock);
    size_t n = 0;
    for (size_t g = 0; g < ngroups; g++) {
        for (const mp__entry *e = groups[g]; e; e = e->next, n++)
            settle(u, e);
    }
    count_outcome(&u->stats, v->outcome, n);
    pthread_cond_broadcast(&u->done);
    pthread_cond_broadcast(&u->room);
    pthread_mutex_unlock(&u->lock);

    for (size_t g = 0; g < ngroups; g++) {
        mp__entry *e = groups[g];
        while (e) {
            mp__entry *next = e->next;
            mp__payload_free(e->p);
            mp__free(e);
            e = next;
        }
    }
}

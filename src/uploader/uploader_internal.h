/*
 * The uploader's insides (uploader.h): its queue, its requests and its
 * counters, shared by the files of src/uploader/.
 *
 * A batch enqueued becomes an entry holding its payload. Entries wait in
 * the pending list, a FIFO of groups: a group is one batch as it will be
 * sent, either one entry or, with merging, several entries of one user
 * whose events are joined. A sending thread takes groups from the front
 * into a request (the packer says how many fit), sends it, and hands the
 * verdict of the retry policy back: a request to retry waits in the retry
 * list, sorted by time, keeping its body, so a retry sends the same bytes;
 * a final verdict reports every entry of every group in it.
 *
 * One mutex guards the lists and counters; reports are made outside it,
 * one at a time under a second mutex, before the counters that flush()
 * and close() wait on are updated, so that "reported" always means the
 * callback has run.
 */
#ifndef MP_UPLOADER_UPLOADER_INTERNAL_H
#define MP_UPLOADER_UPLOADER_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "client/client_internal.h"
#include "common/uuid.h"
#include "delivery/payload.h"
#include "spool/spool.h"
#include "mparticle/uploader.h"

#define MP__UPLOADER_MAX_THREADS 64
/* Buckets of the map from envelope hash to the open group of that user. */
#define MP__MERGE_BUCKETS 4096
/* "No deadline" for the waits (monotonic ms). */
#define NEVER INT64_MAX
/* Request latencies kept for the percentiles of the stats. */
#define MP__LATENCY_RING 1024

typedef struct mp__entry mp__entry;
struct mp__entry {
    mp__entry *next;        /* the group's next member (the head is the first) */
    mp__payload *p;
    void *tag;
    uint64_t seq;           /* enqueue order, for flush() */
    int64_t enqueued_ms;    /* monotonic */
    uint64_t spool_seq;     /* its record in the spool; 0 without one */
    int recovered;          /* from the spool, enqueued by an earlier process */
    /* Set on the first entry of a group (its head) only: */
    mp__entry *next_group;  /* in the pending list */
    mp__entry *last;        /* the group's last member (itself when alone) */
    mp__entry *map_next;    /* in its merge bucket while the group is open */
    size_t batches;         /* entries in the group */
    size_t events_len;      /* their EVENTS bytes, summed */
    size_t with_events;     /* members whose EVENTS is not empty */
    size_t len;             /* the group's JSON length as it will be sent */
    char sent_as[MP__UUID_LEN + 1]; /* the merged batch's id ("" when alone) */
};

typedef struct mp__request mp__request;
struct mp__request {
    mp__request *next;      /* in the retry list, or the in-flight list */
    mp__request *prev;      /* in the in-flight list */
    mp__entry *groups[MP_MAX_BATCHES_PER_REQUEST];
    size_t ngroups;
    size_t nbatches;
    size_t bytes;           /* the batches' encoded bytes, counted in queued_bytes until reported */
    mp_buffer *body;        /* built once, sent on every attempt */
    int attempts;
    int throttled;          /* of those, answered 429 */
    int64_t deadline_ms;    /* of its oldest batch: no retry starts after it */
    int64_t retry_at_ms;
    mp_result result;       /* of the last attempt */
    atomic_int cancel;      /* close() abandons it at the deadline */
};

typedef struct mp__flush_waiter mp__flush_waiter;
struct mp__flush_waiter {
    mp__flush_waiter *next;
    uint64_t upto;          /* waits for entries with seq <= upto */
    size_t remaining;       /* of those, not yet reported */
};

struct mp_uploader {
    mp_client *client;
    mp_endpoint endpoint;
    int single;             /* one batch per request */
    size_t max_batches, max_bytes;
    long enqueue_timeout_ms;
    int64_t linger_ms;      /* 0 = none */
    int64_t delivery_timeout_ms;
    int merge;
    mp__payload_options payload;
    mp__retry_policy policy;
    mp__spool *spool;       /* NULL: memory only */
    int backlog;            /* recovered batches are still on disk, waiting for room */
    mp_report_fn on_report;
    void *report_ctx;
    unsigned fork_generation; /* of the process that made it */

    pthread_mutex_t lock;
    pthread_cond_t work;    /* sending threads wait for something to send */
    pthread_cond_t room;    /* producers wait for room in the queue */
    pthread_cond_t done;    /* flush() and close() wait for reports */
    mp__entry *pending_head, *pending_tail;
    size_t pending_groups, pending_bytes; /* of the groups' JSON as sent */
    mp__entry *merge_map[MP__MERGE_BUCKETS];
    mp__request *retry_head;   /* sorted by retry_at_ms */
    mp__request *in_flight;    /* being sent right now */
    size_t in_flight_bytes;    /* their batches' encoded bytes */
    uint64_t next_seq;
    size_t outstanding, outstanding_bytes; /* enqueued and not yet reported */
    mp__flush_waiter *waiters;
    int hurry;              /* flush()/close() calls waiting: linger does not apply */
    int closing;            /* enqueue refuses */
    int stopping;           /* threads exit when nothing is left to send */
    int abandon;            /* close()'s deadline passed: send nothing more */
    size_t producers;       /* enqueue calls inside, which close() waits out */
    mp_uploader_stats stats;
    double latency_ms[MP__LATENCY_RING];
    size_t latency_count;

    pthread_mutex_t report_lock; /* one report at a time */
    pthread_t threads[MP__UPLOADER_MAX_THREADS];
    int nthreads;
};

/* sending.c: the sending threads. */
void *mp__uploader_thread(void *arg);
/* Waits on cond (a CLOCK_MONOTONIC condition) until signalled or until
 * until_ms (monotonic; INT64_MAX = no limit). */
/* Whether the pending groups make a full request already. Under the lock. */
int mp__request_full(const mp_uploader *u);
void mp__cond_wait_until(pthread_cond_t *cond, pthread_mutex_t *lock, int64_t until_ms);

/* The uploader whose report callback this thread is running, if any. */
extern _Thread_local const mp_uploader *mp__reporting;

/* reports.c: final verdicts. */
typedef struct mp__verdict_info {
    mp_delivery_outcome outcome;
    mp_error error;
    const mp__request *request; /* the last attempt's result, or NULL when never sent */
    const char *reason;         /* "" when accepted */
} mp__verdict_info;

/* Reports every entry of the groups, then counts them as done and frees
 * them. Called without the lock. */
void mp__report_groups(mp_uploader *u, mp__entry *const *groups, size_t ngroups,
                       const mp__verdict_info *v);
/* Frees a request (not its groups). */
void mp__request_free(mp__request *rq);
/* What close() leaves unsent becomes: kept in the spool, or undelivered. */
mp_delivery_outcome mp__closed_outcome(const mp_uploader *u);
/* Moves recovered batches from the spool into the queue while there is
 * room. Under the lock. */
void mp__refill_from_spool(mp_uploader *u);
/* Queues an entry whose room is reserved (outstanding counts it already). Under the lock. */
void mp__queue_reserved(mp_uploader *u, mp__entry *e);
/* Removes a group head from the merge map, if it is there. Under the lock. */
void mp__merge_forget(mp_uploader *u, mp__entry *head);

#endif

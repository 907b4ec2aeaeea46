/* The server's state, shared by the HTTP glue (server.c) and the request
 * pipeline (request.c). */
#ifndef MP_SERVE_SERVER_H
#define MP_SERVE_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include "mparticle/serve.h"
#include "serve/bucket.h"
#include "serve/deadline.h"
#include "serve/dedup.h"
#include "serve/faults.h"
#include "serve/record.h"

/* The three paths of the Events API (docs/api-notes.md §1.2). */
typedef enum mp__srv_route {
    SRV_ROUTE_NONE = 0,
    SRV_ROUTE_EVENTS,    /* /v2/events: one batch */
    SRV_ROUTE_BULK,      /* /v2/bulkevents: an array of batches */
    SRV_ROUTE_HISTORICAL /* /v2/bulkevents/historical: the same, with docs/api-notes.md §2.4 */
} mp__srv_route;

typedef _Atomic uint64_t mp__srv_counter;

typedef struct mp__srv_stats {
    mp__srv_counter requests, received, accepted, rejected, duplicates, throttled, resets, aborted;
    mp__srv_counter unrecorded;
    mp__srv_counter by_status[MP_SERVE_STATUS_MAX];
} mp__srv_stats;

struct mp_server {
    struct MHD_Daemon *daemon;
    uint16_t port;
    char url[80];

    /* Configuration, fixed after start. Strings are owned copies. */
    char *api_key, *api_secret; /* both NULL: any non-empty credentials */
    char *scope;                /* X-mp-rate-limit-exceeded */
    int sink;
    int strict;         /* mp_validate_options.strict */
    size_t max_request, max_batch, max_batches;
    int limit_status;
    unsigned latency_ms;
    mp_serve_retry_after retry_form;
    unsigned retry_after_s;
    void (*log)(void *ctx, const char *message);
    void *log_ctx;
    void (*on_error)(void *ctx, const char *message);
    void *error_ctx;

    int rate_on;
    mp__srv_bucket bucket;
    mp__srv_faults faults;
    int bucket_ready, faults_ready; /* what free_server() must destroy */

    pthread_mutex_t dedup_lock;
    mp__srv_dedup *dedup;

    /* Taken after dedup_lock when both are needed. */
    pthread_mutex_t record_lock;
    mp__srv_record record;
    int recording;      /* --record was given */
    int record_failing; /* the last write failed: on_error said so once */

    mp__srv_deadlines deadlines;

    /* Wakes requests waiting out latency_ms when the server stops. */
    pthread_mutex_t stop_lock;
    pthread_cond_t stop_cond;
    int stopping;

    /* A 202 with "X-mp-rate-limit-percentage-used: 0", shared by every
     * answer that needs no other header (rate limiting off). */
    struct MHD_Response *accepted_0;

    mp__srv_stats stats;
};

static inline void mp__srv_count(mp__srv_counter *c, uint64_t n) {
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

/* Everything one request brings, kept across the handler's calls. */
typedef struct mp__srv_conn {
    mp__srv_route route;
    int early;          /* status decided from the headers alone (404, 405, 401, 403, limit), or 0 */
    char reason[160];   /* message of an early error body, or "" */
    int overflow;       /* the body grew past max_request while arriving */
    int keep;           /* the body is kept (not only counted) */
    int answered;       /* an answer was queued or the connection reset on purpose */
    char *body;
    size_t len, cap;
    size_t want;        /* declared Content-Length to allocate at the first piece, or 0 */
    size_t seen;        /* body bytes received, kept or not */
    char *api_key;      /* the request's key, for deduplication; NULL without credentials */
    mp__srv_track *track;   /* the connection's deadline record, or NULL */
} mp__srv_conn;

/* What to send back. */
typedef struct mp__srv_reply {
    int status;          /* 0 = close the connection without an answer */
    char *body;          /* JSON error body (owned, malloc) or NULL */
    size_t body_len;
    int retry_after_s;   /* Retry-After delay, or -1 for none */
    int percent_used;    /* X-mp-rate-limit-percentage-used on a 202, or -1 */
    int exceeded;        /* add X-mp-rate-limit-exceeded */
} mp__srv_reply;

/*
 * The request pipeline once the whole body is in (request.c): faults,
 * sink, limits, decoding, rate limit, validation, deduplication, record.
 * Fills *r; updates the batch counters (not requests/by_status).
 */
void mp__srv_handle(mp_server *s, mp__srv_conn *c, mp__srv_reply *r);

/* Builds the API's error body {"errors":[{"code":"BAD_REQUEST","message":m}]}
 * for one message into r (status unchanged). */
void mp__srv_reply_error(mp__srv_reply *r, const char *message);

/* Writes `now + delay_s` as an RFC 9110 HTTP-date ("Sun, 06 Nov 1994
 * 08:49:37 GMT") into out (at least 30 bytes), whatever the locale. */
void mp__srv_http_date(long long unix_s, char *out, size_t cap);

/* Formats a message for the operator: on_error, else the log callback. */
void mp__srv_error(const mp_server *s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Formats a message and passes it to the log callback, if any. */
void mp__srv_log(const mp_server *s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif

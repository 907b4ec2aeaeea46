/*
 * The retry policy: the outcome of one attempt in, "accepted", "rejected",
 * "retry at T" or "give up" out. Pure: no clock, no sleep, no randomness of
 * its own (the caller passes the time and a random number), so the
 * synchronous client (which sleeps until T) and the uploader (which queues
 * the request until T) decide alike, and a unit test can walk every case.
 */
#ifndef MP_DELIVERY_RETRY_POLICY_H
#define MP_DELIVERY_RETRY_POLICY_H

#include <stdint.h>

#include "mparticle/client.h"

typedef struct mp__retry_policy {
    int max_attempts;           /* the first included; 0 = no limit */
    int64_t backoff_initial_ms; /* > 0: the ceiling of the first backoff */
    int64_t backoff_max_ms;     /* the largest ceiling */
    int64_t retry_after_max_ms; /* Retry-After values are capped at this */
} mp__retry_policy;

/* What one attempt gave, and what the caller knows at the moment. */
typedef struct mp__attempt {
    mp_error transport_error; /* MP_OK when an HTTP response came */
    int status;               /* its status */
    int64_t retry_after_ms;   /* the response's Retry-After (uncapped), or -1 */
    int attempt;              /* 1 for the first attempt */
    int64_t now_ms;           /* monotonic */
    int64_t deadline_ms;      /* no retry may start after this (monotonic); INT64_MAX = none */
    int64_t gate_until_ms;    /* the rate-limit gate: nothing is sent before this */
    uint64_t random;          /* uniform random bits for the jitter */
} mp__attempt;

typedef enum mp__verdict {
    MP__VERDICT_ACCEPTED,        /* 2xx */
    MP__VERDICT_REJECTED,        /* not retriable: the data or the credentials must change */
    MP__VERDICT_RETRY,           /* send again at *retry_at_ms */
    MP__VERDICT_GIVE_UP_ATTEMPTS, /* retriable, but max_attempts were made */
    MP__VERDICT_GIVE_UP_DEADLINE  /* retriable, but the next try would start after the deadline */
} mp__verdict;

/* What an attempt's result means for the data (client.h's classification):
 * a status outside 100..599 and MP_ERR_TLS are REJECTED, never retried. */
mp_outcome mp__outcome_of(mp_error transport_error, int status);

/* The delay before retry number `attempt` (1 = after the first attempt):
 * full jitter, a uniform wait in [0, min(max, initial * 2^(attempt-1))]. */
int64_t mp__backoff_ms(const mp__retry_policy *p, int attempt, uint64_t random);

/* The verdict on an attempt; for MP__VERDICT_RETRY, *retry_at_ms is when
 * (monotonic): the Retry-After (capped) when the server gave a positive one,
 * else the backoff (Retry-After: 0 and past dates included), and never
 * before the gate opens. */
mp__verdict mp__retry_decide(const mp__retry_policy *p, const mp__attempt *a,
                             int64_t *retry_at_ms);

#endif

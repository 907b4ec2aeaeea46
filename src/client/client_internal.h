/* The client's insides, shared by its source files and by the uploader. */
#ifndef MP_CLIENT_CLIENT_INTERNAL_H
#define MP_CLIENT_CLIENT_INTERNAL_H

#include <pthread.h>
#include <stdint.h>

#include "common/clock.h"
#include "common/uuid.h"
#include "delivery/rate_gate.h"
#include "delivery/retry_policy.h"
#include "mparticle/client.h"

struct mp_client {
    char *base_url;        /* without a trailing '/' */
    char *urls[3];         /* indexed by mp_endpoint */
    mp_http_header *headers; /* Authorization, Content-Type, Accept, User-Agent, extras */
    size_t header_count;
    char **header_storage; /* the strings headers point into */
    size_t header_storage_count;
    mp_transport transport;
    long connect_timeout_ms;
    long timeout_ms;
    mp__retry_policy policy;
    long retry_total_ms;
    int skip_validation;

    mp__rate_gate gate;    /* shared by every call and every uploader on this client */
    pthread_mutex_t lock;  /* guards rng */
    uint64_t rng;          /* jitter */
};

/* Uniform random bits for backoff jitter (xorshift64 seeded from the OS). */
uint64_t mp__client_random(mp_client *c);

/* Resets r for a new call: frees what it held, keeps its version. */
void mp__result_start(mp_result *r);

/*
 * One exchange: POSTs body to the endpoint and records what came back in r
 * (status, Retry-After capped by the policy, rate-limit headers, body and
 * errors[], or the transport's reason), counting the attempt. A 429 with
 * Retry-After closes the client's gate. `resp` is scratch the caller
 * keeps between attempts (zeroed before the first). cancelled/cancel_ctx
 * go to the transport (mp_http_request). Returns the transport's error
 * (MP_OK when a response came, whatever its status).
 */
mp_error mp__client_attempt(mp_client *c, mp_endpoint ep, const char *body, size_t len,
                            mp_result *r, mp_http_response *resp, int (*cancelled)(void *),
                            void *cancel_ctx);

/*
 * Parses a Retry-After value: delta-seconds ("120") or an HTTP-date
 * ("Wed, 21 Oct 2015 07:28:00 GMT", also the obsolete RFC 850 and asctime
 * forms), relative to now_ms (epoch ms). Returns the delay in ms (0 for a
 * date in the past), or -1 when the value is neither.
 */
int64_t mp__parse_retry_after(const char *value, int64_t now_ms);

#endif

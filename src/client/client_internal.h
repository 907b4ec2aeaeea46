/* The client's insides, shared by its source files. */
#ifndef MP_CLIENT_CLIENT_INTERNAL_H
#define MP_CLIENT_CLIENT_INTERNAL_H

#include <pthread.h>
#include <stdint.h>

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
    int max_attempts;
    long backoff_initial_ms;
    long backoff_max_ms;
    long retry_total_ms;
    long retry_after_max_ms;
    int skip_validation;

    pthread_mutex_t lock;     /* guards the two fields below */
    int64_t gate_until_ms;    /* monotonic ms before which nothing is sent (429 Retry-After) */
    uint64_t rng;             /* jitter */
};

/* Milliseconds on the monotonic clock. */
int64_t mp__monotonic_ms(void);
/* Milliseconds since the epoch. */
int64_t mp__realtime_ms(void);
/* Sleeps ms milliseconds (resuming after signals). */
void mp__sleep_ms(int64_t ms);

/* Writes a random (version 4) UUID, 36 characters and a NUL, into out[37]. */
void mp__uuid_v4(char out[37]);
/* Fills buf with random bytes from the OS. Returns 0, or -1 if none could be had. */
int mp__random_bytes(void *buf, size_t len);

/*
 * Parses a Retry-After value: delta-seconds ("120") or an HTTP-date
 * ("Wed, 21 Oct 2015 07:28:00 GMT", also the obsolete RFC 850 and asctime
 * forms), relative to now_ms (epoch ms). Returns the delay in ms (0 for a
 * date in the past), or -1 when the value is neither.
 */
int64_t mp__parse_retry_after(const char *value, int64_t now_ms);

#endif

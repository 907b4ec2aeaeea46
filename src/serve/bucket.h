/* The rate limiter: a token bucket counted in batches (docs/api-notes.md §2.2). */
#ifndef MP_SERVE_BUCKET_H
#define MP_SERVE_BUCKET_H

#include <pthread.h>
#include <stdint.h>

typedef struct mp__srv_bucket {
    pthread_mutex_t lock;
    double rate;      /* tokens (batches) added per second; > 0 */
    double burst;     /* capacity */
    double tokens;    /* may go negative: see mp__srv_bucket_take() */
    uint64_t last_ns; /* monotonic time of the last refill */
} mp__srv_bucket;

/* A full bucket. rate > 0, burst >= 1. Returns 0, or -1 if the mutex cannot be made. */
int mp__srv_bucket_init(mp__srv_bucket *b, double rate, double burst, uint64_t now_ns);
void mp__srv_bucket_destroy(mp__srv_bucket *b);

/*
 * Takes n tokens at monotonic time now_ns. A request may take them when
 * the bucket holds n, or when it is full: a bulk request bigger than the
 * whole bucket would otherwise never pass, so it empties the bucket into
 * debt that later requests wait out.
 *
 * Returns 1 and in *percent the share of the bucket in use afterwards
 * (0..100, rounded up: the X-mp-rate-limit-percentage-used header), or 0
 * and in *wait_s the seconds until the request could pass (rounded up,
 * at least 1: the Retry-After of the 429). Thread-safe.
 */
int mp__srv_bucket_take(mp__srv_bucket *b, double n, uint64_t now_ns, int *percent, unsigned *wait_s);

/* The monotonic clock in nanoseconds. */
uint64_t mp__srv_now_ns(void);

#endif

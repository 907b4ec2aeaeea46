#include "serve/bucket.h"

#include <math.h>
#include <time.h>

int mp__srv_bucket_init(mp__srv_bucket *b, double rate, double burst, uint64_t now_ns) {
    b->rate = rate;
    b->burst = burst;
    b->tokens = burst;
    b->last_ns = now_ns;
    return pthread_mutex_init(&b->lock, NULL) == 0 ? 0 : -1;
}

void mp__srv_bucket_destroy(mp__srv_bucket *b) {
    pthread_mutex_destroy(&b->lock);
}

static void refill(mp__srv_bucket *b, uint64_t now_ns) {
    if (now_ns <= b->last_ns)
        return; /* threads may read the clock in one order and lock in another */
    b->tokens += b->rate * (double)(now_ns - b->last_ns) / 1e9;
    if (b->tokens > b->burst)
        b->tokens = b->burst;
    b->last_ns = now_ns;
}

int mp__srv_bucket_take(mp__srv_bucket *b, double n, uint64_t now_ns, int *percent, unsigned *wait_s) {
    pthread_mutex_lock(&b->lock);
    refill(b, now_ns);
    int ok = b->tokens >= n || b->tokens >= b->burst;
    if (ok) {
        b->tokens -= n;
        double used = ceil(100.0 * (b->burst - b->tokens) / b->burst);
        *percent = used > 100.0 ? 100 : used < 0.0 ? 0 : (int)used;
    } else {
        double need = (n < b->burst ? n : b->burst) - b->tokens;
        double s = ceil(need / b->rate);
        *wait_s = s < 1.0 ? 1u : s > 86400.0 ? 86400u : (unsigned)s;
    }
    pthread_mutex_unlock(&b->lock);
    return ok;
}

uint64_t mp__srv_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

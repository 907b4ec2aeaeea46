#include "common/alloc.h"
#include "serve/faults.h"

#include <stdlib.h>
#include <string.h>

int mp__srv_faults_init(mp__srv_faults *f, double fail_rate, double reset_rate, uint64_t seed) {
    memset(f, 0, sizeof *f);
    f->fail_rate = fail_rate;
    f->reset_rate = reset_rate;
    f->rng = seed;
    return pthread_mutex_init(&f->lock, NULL) == 0 ? 0 : -1;
}

void mp__srv_faults_destroy(mp__srv_faults *f) {
    mp__free(f->script);
    pthread_mutex_destroy(&f->lock);
}

int mp__srv_faults_valid_entry(int status) {
    return status == 0 || (status >= 100 && status <= 599);
}

static int grow(mp__srv_faults *f, size_t need) {
    size_t cap = f->cap ? f->cap : 16;
    while (cap < need)
        cap *= 2;
    int *ring = mp__malloc(cap * sizeof *ring);
    if (!ring)
        return -1;
    for (size_t i = 0; i < f->len; i++)
        ring[i] = f->script[(f->head + i) % f->cap];
    mp__free(f->script);
    f->script = ring;
    f->cap = cap;
    f->head = 0;
    return 0;
}

int mp__srv_faults_push(mp__srv_faults *f, const int *statuses, size_t n) {
    int rc = 0;
    pthread_mutex_lock(&f->lock);
    if (n > SRV_SCRIPT_MAX - f->len)
        rc = -1;
    else if (f->len + n > f->cap)
        rc = grow(f, f->len + n);
    if (rc == 0) {
        for (size_t i = 0; i < n; i++)
            f->script[(f->head + f->len + i) % f->cap] = statuses[i];
        f->len += n;
    }
    pthread_mutex_unlock(&f->lock);
    return rc;
}

/* splitmix64: any seed, 0 included, gives a full-period sequence. */
static uint64_t next_u64(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double next_unit(uint64_t *state) {
    return (double)(next_u64(state) >> 11) * (1.0 / 9007199254740992.0);
}

mp__srv_fault mp__srv_faults_next(mp__srv_faults *f, int *status) {
    static const int server_errors[] = {500, 502, 503, 504};
    mp__srv_fault fault = SRV_FAULT_NONE;
    pthread_mutex_lock(&f->lock);
    if (f->len > 0) {
        int s = f->script[f->head];
        f->head = (f->head + 1) % f->cap;
        f->len--;
        if (s == 0)
            fault = SRV_FAULT_RESET;
        else if (s < 200 || s > 299) {
            fault = SRV_FAULT_STATUS;
            *status = s;
        }
    } else if (f->reset_rate > 0 && next_unit(&f->rng) < f->reset_rate) {
        fault = SRV_FAULT_RESET;
    } else if (f->fail_rate > 0 && next_unit(&f->rng) < f->fail_rate) {
        fault = SRV_FAULT_STATUS;
        *status = server_errors[next_u64(&f->rng) % 4];
    }
    pthread_mutex_unlock(&f->lock);
    return fault;
}

/* Deadlines on reading a request (deadline.h). */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "common/alloc.h"
#include "serve/bucket.h"
#include "serve/deadline.h"

/* How often the sweeper looks: a deadline is enforced to within this. */
#define SWEEP_INTERVAL_NS 100000000ULL

static void unlink_track(mp__srv_track *t) {
    t->prev->next = t->next;
    t->next->prev = t->prev;
}

static int expired(const mp__srv_deadlines *dl, const mp__srv_track *t, uint64_t now_ns) {
    uint64_t age = now_ns - t->since_ns;
    if (t->phase == SRV_PHASE_HEADERS)
        return age > dl->header_ns;
    if (t->phase == SRV_PHASE_BODY)
        return age > dl->body_ns;
    return 0;
}

unsigned mp__srv_deadlines_sweep(mp__srv_deadlines *dl, uint64_t now_ns) {
    unsigned cut = 0;
    pthread_mutex_lock(&dl->lock);
    for (mp__srv_track *t = dl->list.next; t != &dl->list; t = t->next) {
        if (!expired(dl, t, now_ns))
            continue;
        /* The descriptor is still open: libmicrohttpd calls mp__srv_track_end()
         * under this lock before it closes a socket. */
        shutdown(t->fd, SHUT_RDWR);
        t->phase = SRV_PHASE_CUT;
        cut++;
    }
    pthread_mutex_unlock(&dl->lock);
    atomic_fetch_add_explicit(&dl->cut, cut, memory_order_relaxed);
    return cut;
}

static void add_ns(struct timespec *ts, uint64_t ns) {
    ts->tv_sec += (time_t)(ns / 1000000000ULL);
    ts->tv_nsec += (long)(ns % 1000000000ULL);
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static void *sweeper(void *arg) {
    mp__srv_deadlines *dl = arg;
    pthread_mutex_lock(&dl->lock);
    while (!dl->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        add_ns(&until, SWEEP_INTERVAL_NS);
        while (!dl->stopping &&
               pthread_cond_timedwait(&dl->wake, &dl->lock, &until) != ETIMEDOUT) {
        }
        if (dl->stopping)
            break;
        pthread_mutex_unlock(&dl->lock);
        mp__srv_deadlines_sweep(dl, mp__srv_now_ns());
        pthread_mutex_lock(&dl->lock);
    }
    pthread_mutex_unlock(&dl->lock);
    return NULL;
}

int mp__srv_deadlines_start(mp__srv_deadlines *dl, unsigned header_s, unsigned body_s) {
    dl->list.next = dl->list.prev = &dl->list;
    dl->header_ns = (uint64_t)header_s * 1000000000ULL;
    dl->body_ns = (uint64_t)body_s * 1000000000ULL;
    atomic_init(&dl->cut, 0);
    dl->stopping = 0;
    dl->started = 0;
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr))
        return -1;
    int rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) ||
             pthread_cond_init(&dl->wake, &attr);
    pthread_condattr_destroy(&attr);
    if (rc)
        return -1;
    if (pthread_mutex_init(&dl->lock, NULL)) {
        pthread_cond_destroy(&dl->wake);
        return -1;
    }
    if (pthread_create(&dl->thread, NULL, sweeper, dl)) {
        pthread_mutex_destroy(&dl->lock);
        pthread_cond_destroy(&dl->wake);
        return -1;
    }
    dl->started = 1;
    return 0;
}

void mp__srv_deadlines_stop(mp__srv_deadlines *dl) {
    if (!dl->started)
        return;
    pthread_mutex_lock(&dl->lock);
    dl->stopping = 1;
    pthread_cond_broadcast(&dl->wake);
    pthread_mutex_unlock(&dl->lock);
    pthread_join(dl->thread, NULL);
    /* Connections libmicrohttpd never reported closed (it failed to stop). */
    while (dl->list.next != &dl->list) {
        mp__srv_track *t = dl->list.next;
        unlink_track(t);
        mp__free(t);
    }
    pthread_mutex_destroy(&dl->lock);
    pthread_cond_destroy(&dl->wake);
    dl->started = 0;
}

mp__srv_track *mp__srv_track_start(mp__srv_deadlines *dl, int fd) {
    mp__srv_track *t = mp__malloc(sizeof *t);
    if (!t)
        return NULL;
    t->fd = fd;
    t->phase = SRV_PHASE_HEADERS;
    t->since_ns = mp__srv_now_ns();
    pthread_mutex_lock(&dl->lock);
    t->prev = dl->list.prev;
    t->next = &dl->list;
    dl->list.prev->next = t;
    dl->list.prev = t;
    pthread_mutex_unlock(&dl->lock);
    return t;
}

void mp__srv_track_end(mp__srv_deadlines *dl, mp__srv_track *t) {
    if (!t)
        return;
    pthread_mutex_lock(&dl->lock);
    unlink_track(t);
    pthread_mutex_unlock(&dl->lock);
    mp__free(t);
}

void mp__srv_track_enter(mp__srv_deadlines *dl, mp__srv_track *t, mp__srv_phase phase) {
    if (!t)
        return;
    uint64_t now = mp__srv_now_ns();
    pthread_mutex_lock(&dl->lock);
    if (t->phase != SRV_PHASE_CUT) {
        t->phase = phase;
        t->since_ns = now;
    }
    pthread_mutex_unlock(&dl->lock);
}

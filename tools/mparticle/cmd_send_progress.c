/*
 * mparticle send: the progress line. A thread of its own wakes every
 * 100 ms and, twice a second on a terminal (overwriting one line) or once
 * a second otherwise (--progress into a log), says how many batches are
 * done, the rate, the failures and the time left.
 *
 * Copyright 2026 The libmparticle authors. Licensed under the Apache License 2.0.
 */
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "cmd_send.h"

#define TICK_MS 100
#define TTY_INTERVAL_MS 500
#define PLAIN_INTERVAL_MS 1000

/* "42 s", "3 min 05 s", "2 h 07 min". */
static void format_duration(char *out, size_t cap, uint64_t s) {
    if (s < 60)
        snprintf(out, cap, "%" PRIu64 " s", s);
    else if (s < 3600)
        snprintf(out, cap, "%" PRIu64 " min %02" PRIu64 " s", s / 60, s % 60);
    else
        snprintf(out, cap, "%" PRIu64 " h %02" PRIu64 " min", s / 3600, s / 60 % 60);
}

/*
 * The time left, from the share of the inputs' bytes done so far. Batches
 * are counted in encoded bytes, which match NDJSON input closely and
 * pretty-printed input loosely; with input from a pipe there is no total,
 * and then no estimate (out stays empty).
 */
static void format_time_left(const send_progress *p, const send_counts *c, int64_t elapsed_ms,
                             char *out, size_t cap) {
    out[0] = '\0';
    if (p->total_bytes == 0 || c->bytes_done == 0 || elapsed_ms <= 0)
        return;
    uint64_t left = p->total_bytes > c->bytes_done ? p->total_bytes - c->bytes_done : 0;
    double seconds = (double)left * (double)elapsed_ms / 1000.0 / (double)c->bytes_done;
    char d[32];
    format_duration(d, sizeof d, (uint64_t)(seconds + 0.5));
    snprintf(out, cap, ", ~%s left", d);
}

static void show(const send_progress *p) {
    send_counts c;
    send_tally_get(p->tally, &c);
    int64_t elapsed = send_now_ms() - p->start_ms;
    double rate = elapsed > 0 ? (double)c.batches * 1000.0 / (double)elapsed : 0;
    uint64_t failed = c.batches - c.outcomes[SEND_ACCEPTED];
    char left[64];
    format_time_left(p, &c, elapsed, left, sizeof left);
    /* \033[K clears what a longer previous line left behind. */
    fprintf(stderr, "%s%" PRIu64 " batches, %.0f/s, %" PRIu64 " failed%s%s",
            p->tty ? "\r" : CLI_PROGRAM " " SEND_CMD ": ", c.batches, rate, failed, left,
            p->tty ? "\033[K" : "\n");
    fflush(stderr);
}

static void *progress_main(void *arg) {
    send_progress *p = arg;
    int interval = p->tty ? TTY_INTERVAL_MS : PLAIN_INTERVAL_MS;
    int64_t next = send_now_ms() + interval;
    while (!atomic_load(&p->done)) {
        nanosleep(&(struct timespec){0, TICK_MS * 1000000L}, NULL);
        if (send_now_ms() >= next && !atomic_load(&p->done)) {
            show(p);
            next += interval;
        }
    }
    return NULL;
}

int send_progress_start(send_progress *p) {
    atomic_init(&p->done, 0);
    p->running = pthread_create(&p->thread, NULL, progress_main, p) == 0;
    return p->running ? 0 : -1;
}

void send_progress_stop(send_progress *p) {
    if (!p->running)
        return;
    atomic_store(&p->done, 1);
    pthread_join(p->thread, NULL);
    p->running = 0;
    if (p->tty) /* the summary follows on a clean line */
        fputs("\r\033[K", stderr);
}

/*
 * mparticle send: outcome counters, the --report file, and the problem
 * lines that the uploader's threads hand to the main thread.
 *
 * Reports arrive on the uploader's threads (one at a time) while the main
 * thread reads input and reports invalid batches, so everything here is
 * under one lock. A report line is written as soon as its batch is
 * settled, so an interrupted or killed run leaves a report of what it got
 * to, and memory does not grow with the input.
 *
 * Copyright 2026 The libmparticle authors. Licensed under the Apache License 2.0.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd_send.h"

int64_t send_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *send_outcome_name(send_outcome o) {
    static const char *const names[SEND_OUTCOMES] = {"accepted", "rejected", "invalid",
                                                     "undelivered", "not_sent"};
    return (unsigned)o < SEND_OUTCOMES ? names[o] : "unknown";
}

/* ------------------------------------------------------------------------ */
/* JSON strings                                                             */
/* ------------------------------------------------------------------------ */

/* The length of the well-formed UTF-8 sequence at s, or 0 if it is not one. */
static size_t utf8_length(const unsigned char *s) {
    static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
    size_t n = s[0] < 0x80   ? 1
               : s[0] < 0xc2 ? 0 /* a continuation byte, or an overlong lead */
               : s[0] < 0xe0 ? 2
               : s[0] < 0xf0 ? 3
               : s[0] < 0xf5 ? 4
                             : 0;
    if (n <= 1)
        return n;
    uint32_t cp = s[0] & (0x7fu >> n);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) /* the terminating NUL stops here too */
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

/* A line being built; failed is set if any append ran out of memory. */
typedef struct line_writer {
    mp_buffer *b;
    int failed;
} line_writer;

static void put(line_writer *w, const char *s, size_t n) {
    if (mp_buffer_append(w->b, s, n) != MP_OK)
        w->failed = 1;
}

/* Appends one escaped character (a quote, a backslash or a control character). */
static void put_escape(line_writer *w, unsigned char c) {
    char esc[8];
    switch (c) {
    case '"':
        put(w, "\\\"", 2);
        return;
    case '\\':
        put(w, "\\\\", 2);
        return;
    case '\n':
        put(w, "\\n", 2);
        return;
    case '\r':
        put(w, "\\r", 2);
        return;
    case '\t':
        put(w, "\\t", 2);
        return;
    default:
        snprintf(esc, sizeof esc, "\\u%04x", c);
        put(w, esc, 6);
        return;
    }
}

/*
 * Appends s as a JSON string. Bytes that are not UTF-8 (a file name can be
 * anything) become U+FFFD, so that every line is JSON that any parser takes.
 */
static void put_string(line_writer *w, const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    put(w, "\"", 1);
    while (*p) {
        size_t n = utf8_length(p);
        if (n == 0) {
            put(w, "\\ufffd", 6);
            p++;
        } else if (n == 1 && (*p < 0x20 || *p == '"' || *p == '\\')) {
            put_escape(w, *p++);
        } else {
            put(w, (const char *)p, n);
            p += n;
        }
    }
    put(w, "\"", 1);
}

static void put_key_number(line_writer *w, const char *key, long long value) {
    char num[64];
    int n = snprintf(num, sizeof num, ",\"%s\":%lld", key, value);
    put(w, num, (size_t)n);
}

static void put_key_string(line_writer *w, const char *key, const char *value) {
    char head[32];
    int n = snprintf(head, sizeof head, ",\"%s\":", key);
    put(w, head, (size_t)n);
    put_string(w, value ? value : "");
}

/* The report line of l, with its newline, in b. 0, or -1 when out of memory. */
static int format_line(mp_buffer *b, const send_line *l) {
    line_writer w = {b, 0};
    mp_buffer_clear(b);
    put(&w, "{\"input\":", 9);
    put_string(&w, l->input);
    put_key_number(&w, "batch", l->batch + 1);
    put_key_number(&w, "line", l->line);
    put_key_string(&w, "source_request_id", l->source_request_id);
    put_key_string(&w, "outcome", send_outcome_name(l->outcome));
    put_key_number(&w, "status", l->status);
    put_key_number(&w, "attempts", l->attempts);
    put_key_string(&w, "error", l->error);
    put(&w, "}\n", 2);
    return w.failed ? -1 : 0;
}

/* ------------------------------------------------------------------------ */
/* The tally                                                                */
/* ------------------------------------------------------------------------ */

int send_tally_init(send_tally *t, const char *report_path) {
    memset(t, 0, sizeof *t);
    if (pthread_mutex_init(&t->lock, NULL) != 0)
        return ENOMEM;
    t->json = mp_buffer_new(512);
    t->spool = mp_buffer_new(0);
    t->spare = mp_buffer_new(0);
    if (!t->json || !t->spool || !t->spare)
        return ENOMEM;
    if (report_path && !(t->report = fopen(report_path, "w")))
        return errno;
    /* Line-buffered: the file can be followed while the run goes on, and a
     * run killed outright (a second Ctrl-C) still leaves every whole line.
     * One write() per batch costs little next to the HTTP exchange. */
    if (t->report)
        setvbuf(t->report, NULL, _IOLBF, 0);
    return 0;
}

/* Writes l to the report; remembers the first failure. Under the lock. */
static void write_report_line(send_tally *t, const send_line *l) {
    if (format_line(t->json, l) != 0) {
        if (!t->report_errno)
            t->report_errno = ENOMEM;
        return;
    }
    size_t len = mp_buffer_length(t->json);
    if (fwrite(mp_buffer_data(t->json), 1, len, t->report) != len && !t->report_errno)
        t->report_errno = errno ? errno : EIO;
}

void send_tally_add(send_tally *t, const send_line *l, const char *stdout_line) {
    pthread_mutex_lock(&t->lock);
    t->outcomes[l->outcome]++;
    t->bytes_done += l->bytes;
    if (t->report)
        write_report_line(t, l);
    /* Out of memory, the line is lost; the count and the report keep the batch. */
    if (stdout_line)
        mp_buffer_append(t->spool, stdout_line, strlen(stdout_line));
    pthread_mutex_unlock(&t->lock);
}

void send_tally_add_events(send_tally *t, uint64_t events) {
    pthread_mutex_lock(&t->lock);
    t->events += events;
    pthread_mutex_unlock(&t->lock);
}

void send_tally_set_requests(send_tally *t, uint64_t requests) {
    pthread_mutex_lock(&t->lock);
    if (requests > t->requests)
        t->requests = requests;
    pthread_mutex_unlock(&t->lock);
}

void send_tally_get(send_tally *t, send_counts *c) {
    pthread_mutex_lock(&t->lock);
    c->batches = 0;
    for (int i = 0; i < SEND_OUTCOMES; i++) {
        c->outcomes[i] = t->outcomes[i];
        c->batches += t->outcomes[i];
    }
    c->events = t->events;
    c->bytes_done = t->bytes_done;
    c->requests = t->requests;
    pthread_mutex_unlock(&t->lock);
}

void send_tally_drain(send_tally *t, FILE *out) {
    pthread_mutex_lock(&t->lock);
    mp_buffer *full = t->spool;
    t->spool = t->spare;
    t->spare = full;
    pthread_mutex_unlock(&t->lock);
    /* Written outside the lock: a slow stdout must not hold up the senders. */
    if (mp_buffer_length(full))
        fwrite(mp_buffer_data(full), 1, mp_buffer_length(full), out);
    mp_buffer_clear(full);
}

int send_tally_finish(send_tally *t) {
    int err = t->report_errno;
    if (t->report) {
        if (fflush(t->report) != 0 && !err)
            err = errno;
        if (fclose(t->report) != 0 && !err)
            err = errno;
        t->report = NULL;
    }
    mp_buffer_free(t->json);
    mp_buffer_free(t->spool);
    mp_buffer_free(t->spare);
    pthread_mutex_destroy(&t->lock);
    return err;
}

/*
 * The request pipeline, once a request has passed routing and
 * authentication and its whole body is in: the order of the checks below
 * is the order a client observes (docs/serve.md, "Order of checks").
 *
 *   latency -> faults (script, reset, 5xx) -> sink -> body shape ->
 *   rate limit -> size and count limits -> decode -> validate ->
 *   deduplicate -> record -> 202
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "mparticle/codec.h"
#include "serve/scan.h"
#include "serve/server.h"

/* Most entries in the errors[] of a 400; the rest are summed up in one more. */
#define MAX_ERRORS 100

static const char *route_path(mp__srv_route route) {
    switch (route) {
    case SRV_ROUTE_EVENTS:
        return "/v2/events";
    case SRV_ROUTE_BULK:
        return "/v2/bulkevents";
    case SRV_ROUTE_HISTORICAL:
        return "/v2/bulkevents/historical";
    case SRV_ROUTE_NONE:
        break;
    }
    return "?";
}

/* ------------------------------------------------------------------------ */
/* The error body                                                           */
/* ------------------------------------------------------------------------ */

/* Length of the valid UTF-8 sequence at s[0..n), or 0 if it is not one. */
static size_t utf8_sequence(const unsigned char *s, size_t n) {
    unsigned char c = s[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0;
        if (c == 0xED)
            hi = 0x9F; /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90;
        if (c == 0xF4)
            hi = 0x8F;
    } else
        return 0;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return len;
}

/* Appends s as the inside of a JSON string: quotes, backslashes and
 * control characters escaped, bytes that are not UTF-8 replaced by U+FFFD
 * (a syntax error's message may quote the raw input). */
static int put_json_text(mp_buffer *b, const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    while (n > 0) {
        size_t run = 0;
        while (run < n && p[run] >= 0x20 && p[run] != '"' && p[run] != '\\' && p[run] < 0x80)
            run++;
        if (run && mp_buffer_append(b, (const char *)p, run))
            return -1;
        p += run;
        n -= run;
        if (n == 0)
            break;
        char esc[8];
        size_t seq = utf8_sequence(p, n);
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            if (mp_buffer_append(b, esc, 2))
                return -1;
            seq = 1;
        } else if (*p < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", *p);
            if (mp_buffer_append(b, esc, 6))
                return -1;
            seq = 1;
        } else if (seq == 0) {
            if (mp_buffer_append(b, "\\ufffd", 6))
                return -1;
            seq = 1;
        } else if (mp_buffer_append(b, (const char *)p, seq)) {
            return -1;
        }
        p += seq;
        n -= seq;
    }
    return 0;
}

/* An error body under construction. */
typedef struct errors {
    mp_buffer *buf; /* NULL once out of memory */
    size_t count;
} errors;

static void errors_init(errors *e) {
    e->buf = mp_buffer_new(256);
    e->count = 0;
    if (e->buf && mp_buffer_append(e->buf, "{\"errors\":[", 11)) {
        mp_buffer_free(e->buf);
        e->buf = NULL;
    }
}

static void errors_add(errors *e, const char *message) {
    if (!e->buf)
        return;
    const char *open = e->count ? ",{\"code\":\"BAD_REQUEST\",\"message\":\""
                                : "{\"code\":\"BAD_REQUEST\",\"message\":\"";
    if (mp_buffer_append(e->buf, open, strlen(open)) || put_json_text(e->buf, message) ||
        mp_buffer_append(e->buf, "\"}", 2)) {
        mp_buffer_free(e->buf);
        e->buf = NULL;
        return;
    }
    e->count++;
}

static void errors_addf(errors *e, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void errors_addf(errors *e, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    errors_add(e, msg);
}

/* Moves the finished body into r. Out of memory: r gets no body, which
 * the API allows ("will not be included if additional details on the
 * error are not known", docs/api-notes.md §1.5). */
static void errors_finish(errors *e, mp__srv_reply *r) {
    if (e->buf && mp_buffer_append(e->buf, "]}", 2) == 0) {
        size_t len;
        char *body = mp_buffer_detach(e->buf, &len);
        if (body) {
            /* mp_buffer_detach()'s memory is freed with mp_free(); copy it
             * into malloc memory, which the HTTP layer frees. */
            r->body = mp__malloc(len);
            if (r->body) {
                memcpy(r->body, body, len);
                r->body_len = len;
            }
            mp_free(body);
        }
    }
    mp_buffer_free(e->buf);
    e->buf = NULL;
}

void mp__srv_reply_error(mp__srv_reply *r, const char *message) {
    errors e;
    errors_init(&e);
    errors_add(&e, message);
    errors_finish(&e, r);
}

static void reply_errorf(mp__srv_reply *r, int status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static void reply_errorf(mp__srv_reply *r, int status, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    r->status = status;
    mp__srv_reply_error(r, msg);
}

/* Where a problem is, as its message says it: "[3].events[0].event_type"
 * in a bulk request, "events[0].event_type" in a single batch, "(batch)"
 * or "[3]" for a batch as a whole, "(request)" for the body as a whole;
 * then the line and column of a syntax error. */
static void describe(const mp_problem *p, int bulk, char *out, size_t cap) {
    int n;
    if (p->batch >= 0 && bulk)
        n = snprintf(out, cap, "[%ld]%s%s", p->batch, p->path[0] ? "." : "", p->path);
    else if (p->path[0])
        n = snprintf(out, cap, "%s", p->path);
    else
        n = snprintf(out, cap, "%s", p->batch >= 0 ? "(batch)" : "(request)");
    if (p->line > 0 && n >= 0 && (size_t)n < cap)
        snprintf(out + n, cap - (size_t)n, " at line %d, column %d", p->line, p->column);
}

/* A problem and its place in the diag, so that sorting by batch keeps
 * the library's order within a batch. */
typedef struct problem_ref {
    const mp_problem *p;
    size_t index;
} problem_ref;

static int by_batch(const void *a, const void *b) {
    const problem_ref *x = a, *y = b;
    if (x->p->batch != y->p->batch)
        return x->p->batch < y->p->batch ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* A 400 whose errors[] holds every error of diag (not the warnings), in
 * batch order, at most MAX_ERRORS of them plus one that counts the rest. */
static void reply_problems(mp__srv_reply *r, const mp_diag *diag, int bulk) {
    size_t n = mp_diag_count(diag);
    problem_ref *sorted = mp__malloc((n ? n : 1) * sizeof *sorted);
    size_t nerr = 0;
    for (size_t i = 0; sorted && i < n; i++) {
        const mp_problem *p = mp_diag_get(diag, i);
        if (p->severity == MP_SEVERITY_ERROR)
            sorted[nerr++] = (problem_ref){p, i};
    }
    r->status = 400;
    if (!sorted)
        return; /* no body: out of memory */
    qsort(sorted, nerr, sizeof *sorted, by_batch);
    errors e;
    errors_init(&e);
    size_t shown = nerr < MAX_ERRORS ? nerr : MAX_ERRORS;
    for (size_t i = 0; i < shown; i++) {
        char where[640];
        describe(sorted[i].p, bulk, where, sizeof where);
        errors_addf(&e, "%s: %s", where, sorted[i].p->message);
    }
    size_t more = nerr - shown + mp_diag_dropped(diag);
    if (more)
        errors_addf(&e, "(request): %zu more errors not shown", more);
    if (nerr == 0)
        errors_add(&e, "(request): the request was rejected");
    errors_finish(&e, r);
    mp__free(sorted);
}

/* ------------------------------------------------------------------------ */
/* Pieces of the pipeline                                                   */
/* ------------------------------------------------------------------------ */

/* Waits latency_ms, or less if the server stops meanwhile. */
static void wait_latency(mp_server *s) {
    if (!s->latency_ms)
        return;
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += (time_t)(s->latency_ms / 1000);
    deadline.tv_nsec += (long)(s->latency_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&s->stop_lock);
    while (!s->stopping &&
           pthread_cond_timedwait(&s->stop_cond, &s->stop_lock, &deadline) != ETIMEDOUT) {
    }
    pthread_mutex_unlock(&s->stop_lock);
}

/* A status from the script or the random 5xx. */
static void reply_fault(mp_server *s, mp__srv_reply *r, int status) {
    r->status = status;
    if (status == 429 || status == 503)
        r->retry_after_s = (int)s->retry_after_s;
    if (status == 429)
        r->exceeded = 1;
    if (status == 400)
        mp__srv_reply_error(r, "(request): failure injected by the server's script");
}

/* Takes n tokens; on failure fills a 429 and returns 0. */
static int admit(mp_server *s, mp__srv_reply *r, size_t n) {
    if (!s->rate_on) {
        r->percent_used = 0;
        return 1;
    }
    unsigned wait_s = 1;
    if (mp__srv_bucket_take(&s->bucket, (double)n, mp__srv_now_ns(), &r->percent_used, &wait_s))
        return 1;
    r->status = 429;
    r->percent_used = -1;
    r->retry_after_s = (int)wait_s;
    r->exceeded = 1;
    mp__srv_count(&s->stats.throttled, 1);
    return 0;
}

static void reply_limit(mp_server *s, mp__srv_reply *r, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static void reply_limit(mp_server *s, mp__srv_reply *r, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    r->status = s->limit_status;
    r->percent_used = -1;
    mp__srv_reply_error(r, msg);
}

/* The body is not shaped like the route's input (one object, or one
 * array). Say why: the decoder's own errors when it has any (malformed
 * JSON, with line and column), else what the route takes. */
static void reply_bad_shape(mp__srv_route route, const char *body, size_t len, mp__srv_reply *r) {
    int bulk = route != SRV_ROUTE_EVENTS;
    size_t start = mp__srv_skip_ws(body, len, 0);
    if (start == len) {
        reply_errorf(r, 400, "(request): the body is empty; %s takes %s", route_path(route),
                     bulk ? "a JSON array of batches" : "one batch (a JSON object)");
        return;
    }
    if (!bulk && body[start] == '[') {
        reply_errorf(r, 400,
                     "(request): /v2/events takes one batch (a JSON object), not an array; "
                     "send arrays of batches to /v2/bulkevents");
        return;
    }
    if (bulk && body[start] == '{') {
        reply_errorf(r, 400,
                     "(request): %s takes a JSON array of batches, not an object; wrap the "
                     "batch in [ ] or send it to /v2/events",
                     route_path(route));
        return;
    }
    mp_diag *diag = mp_diag_new();
    mp_document *doc = NULL;
    mp_error err = diag ? mp_decode(body, len, &doc, diag) : MP_ERR_NOMEM;
    mp_document_free(doc);
    if (err != MP_OK && err != MP_ERR_NOMEM && mp_diag_error_count(diag) > 0)
        reply_problems(r, diag, bulk);
    else
        reply_errorf(r, 400, "(request): %s takes %s", route_path(route),
                     bulk ? "one JSON array of batches" : "exactly one batch (a JSON object)");
    mp_diag_free(diag);
}

static int has_request_id(const mp_batch *b) {
    return b->source_request_id && !MP_IS_NULL(b->source_request_id);
}

/* Appends one batch as one line: the bytes as received, except that line
 * breaks (which JSON allows only as whitespace between tokens, never
 * inside a string) become spaces, so that the line count is the batch
 * count and the JSON means the same. */
static int append_line(mp_buffer *out, const char *p, size_t n) {
    while (n > 0) {
        size_t run = 0;
        while (run < n && p[run] != '\n' && p[run] != '\r')
            run++;
        if (mp_buffer_append(out, p, run))
            return -1;
        if (run == n)
            break;
        if (mp_buffer_append(out, " ", 1))
            return -1;
        p += run + 1;
        n -= run + 1;
    }
    return mp_buffer_append(out, "\n", 1) ? -1 : 0;
}

/* Whether batch i's id was already seen for this key: remembered from an
 * earlier request, or on a fresh batch earlier in this one. */
static int is_duplicate(mp_server *s, mp__srv_conn *c, const mp_document *doc,
                        const unsigned char *fresh, size_t i) {
    const mp_batch *b = mp_document_batch(doc, i);
    if (!has_request_id(b))
        return 0;
    for (size_t k = 0; k < i; k++) {
        const mp_batch *e = mp_document_batch(doc, k);
        if (fresh[k] && has_request_id(e) && strcmp(e->source_request_id, b->source_request_id) == 0)
            return 1;
    }
    int seen = mp__srv_dedup_contains(s->dedup, c->api_key, b->source_request_id);
    if (seen < 0)
        mp__srv_log(s, "out of memory: batch %zu accepted without deduplication", i);
    return seen == 1;
}

/* Writes the fresh batches to the record, all or none; says once when the
 * record starts and stops failing. 0, or an errno value. */
static int record_batches(mp_server *s, mp__srv_conn *c, const unsigned char *fresh,
                          const mp__srv_span *spans, size_t count) {
    mp_buffer *lines = mp_buffer_new(c->len + count);
    int e = lines ? 0 : ENOMEM;
    for (size_t i = 0; !e && i < count; i++)
        if (fresh[i] && append_line(lines, c->body + spans[i].off, spans[i].len))
            e = ENOMEM;
    pthread_mutex_lock(&s->record_lock);
    if (!e)
        e = mp__srv_record_append(&s->record, mp_buffer_data(lines), mp_buffer_length(lines));
    if (e && !s->record_failing)
        mp__srv_error(s, "cannot write the record file %s: %s; answering 507 until it can be written",
                  s->record.path, strerror(e));
    else if (!e && s->record_failing)
        mp__srv_error(s, "the record file %s can be written again", s->record.path);
    s->record_failing = e != 0;
    pthread_mutex_unlock(&s->record_lock);
    mp_buffer_free(lines);
    return e;
}

/* Deduplicates and records the accepted batches. Under the dedup lock
 * throughout: the ids are remembered only once their lines are in the
 * record, so that a batch refused for a full disk is recorded when it is
 * sent again, and two requests with one id cannot both record it. Fills r
 * with 202, or 507 when the record could not be written. */
static void keep_batches(mp_server *s, mp__srv_conn *c, const mp_document *doc,
                         const unsigned char *valid, const mp__srv_span *spans, size_t count,
                         mp__srv_reply *r) {
    unsigned char *fresh = mp__calloc(count, 1);
    if (!fresh) {
        mp__srv_log(s, "out of memory: %zu accepted batches neither deduplicated nor recorded",
                count);
        r->status = 500;
        return;
    }
    uint64_t accepted = 0, duplicates = 0;
    pthread_mutex_lock(&s->dedup_lock);
    for (size_t i = 0; i < count; i++) {
        if (!valid[i])
            continue;
        fresh[i] = !is_duplicate(s, c, doc, fresh, i);
        accepted += fresh[i];
        duplicates += !fresh[i];
    }
    int e = s->recording && accepted ? record_batches(s, c, fresh, spans, count) : 0;
    for (size_t i = 0; !e && i < count; i++) {
        const mp_batch *b = mp_document_batch(doc, i);
        if (fresh[i] && has_request_id(b) &&
            mp__srv_dedup_add(s->dedup, c->api_key, b->source_request_id) < 0)
            mp__srv_log(s, "out of memory: batch %zu accepted without deduplication", i);
    }
    pthread_mutex_unlock(&s->dedup_lock);
    mp__srv_count(&s->stats.duplicates, duplicates);
    mp__free(fresh);
    if (e) {
        mp__srv_count(&s->stats.unrecorded, accepted);
        reply_errorf(r, 507, "(request): the server could not record the batches: %s; send them "
                     "again", strerror(e));
        return;
    }
    mp__srv_count(&s->stats.accepted, accepted);
    r->status = 202;
}

/* Decodes and validates the `count` batches at spans, then keeps the
 * valid ones. All invalid: 400 with every error. Some valid: 202, as the
 * API answers a bulk request in which only some batches fail (docs/api-notes.md §1.2). */
static void check_batches(mp_server *s, mp__srv_conn *c, mp__srv_reply *r, const mp__srv_span *spans,
                          size_t count) {
    int bulk = c->route != SRV_ROUTE_EVENTS;
    mp_diag *diag = mp_diag_new();
    unsigned char *valid = mp__malloc(count);
    mp_document *doc = NULL;
    mp_error err = diag && valid ? mp_decode(c->body, c->len, &doc, diag) : MP_ERR_NOMEM;
    if (err == MP_ERR_NOMEM) {
        mp__srv_log(s, "out of memory decoding a %zu-byte request", c->len);
        r->status = 500;
        goto done;
    }
    if (err == MP_ERR_JSON_SYNTAX || mp_document_count(doc) != count) {
        mp__srv_count(&s->stats.rejected, count);
        reply_problems(r, diag, bulk);
        goto done;
    }
    mp_validate_options vopts = {.historical = c->route == SRV_ROUTE_HISTORICAL,
                                 .strict = s->strict};
    size_t nvalid = 0;
    for (size_t i = 0; i < count; i++) {
        valid[i] = 0;
        if (!mp_document_batch_ok(doc, i))
            continue;
        mp_error v = mp_validate_batch(mp_document_batch(doc, i), &vopts, (long)i, diag);
        if (v == MP_ERR_NOMEM) {
            r->status = 500;
            goto done;
        }
        valid[i] = v == MP_OK;
        nvalid += valid[i];
    }
    mp__srv_count(&s->stats.rejected, count - nvalid);
    if (nvalid == 0) {
        reply_problems(r, diag, bulk);
        goto done;
    }
    keep_batches(s, c, doc, valid, spans, count, r);
done:
    if (r->status != 202)
        r->percent_used = -1;
    mp_document_free(doc);
    mp_diag_free(diag);
    mp__free(valid);
}

/* The body as batches: its shape, the rate limit, the size and count
 * limits, then decoding and validation. */
static void handle_batches(mp_server *s, mp__srv_conn *c, mp__srv_reply *r) {
    int bulk = c->route != SRV_ROUTE_EVENTS;
    mp__srv_span one, *spans = &one;
    size_t count = 1;
    if (bulk) {
        spans = mp__malloc(s->max_batches * sizeof *spans);
        if (!spans) {
            r->status = 500;
            return;
        }
        if (mp__srv_scan_array(c->body, c->len, spans, s->max_batches, &count) != 0) {
            reply_bad_shape(c->route, c->body, c->len, r);
            goto done;
        }
        if (count == 0) {
            reply_errorf(r, 400, "(request): the array holds no batches");
            goto done;
        }
    } else if (mp__srv_scan_object(c->body, c->len, &one) != 0) {
        reply_bad_shape(c->route, c->body, c->len, r);
        goto done;
    }

    if (!admit(s, r, count))
        goto done;
    mp__srv_count(&s->stats.received, count);
    if (count > s->max_batches) {
        mp__srv_count(&s->stats.rejected, count);
        reply_limit(s, r, "(request): %zu batches in one request, over the limit of %zu", count,
                    s->max_batches);
        goto done;
    }
    for (size_t i = 0; i < count; i++) {
        if (spans[i].len <= s->max_batch)
            continue;
        mp__srv_count(&s->stats.rejected, count);
        char where[32];
        if (bulk)
            snprintf(where, sizeof where, "[%zu]", i);
        else
            snprintf(where, sizeof where, "(batch)");
        reply_limit(s, r, "%s: the batch is %zu bytes, over the limit of %zu bytes", where,
                    spans[i].len, s->max_batch);
        goto done;
    }
    check_batches(s, c, r, spans, count);
done:
    if (spans != &one)
        mp__free(spans);
}

void mp__srv_handle(mp_server *s, mp__srv_conn *c, mp__srv_reply *r) {
    *r = (mp__srv_reply){.status = 202, .retry_after_s = -1, .percent_used = -1};
    wait_latency(s);

    int status = 0;
    switch (mp__srv_faults_next(&s->faults, &status)) {
    case SRV_FAULT_RESET:
        r->status = 0;
        return;
    case SRV_FAULT_STATUS:
        reply_fault(s, r, status);
        return;
    case SRV_FAULT_NONE:
        break;
    }
    if (s->sink) {
        admit(s, r, 1);
        return;
    }
    if (c->overflow) {
        reply_limit(s, r, "(request): the body is over the limit of %zu bytes", s->max_request);
        return;
    }
    handle_batches(s, c, r);
}

/* ------------------------------------------------------------------------ */
/* HTTP-date                                                                */
/* ------------------------------------------------------------------------ */

void mp__srv_http_date(long long unix_s, char *out, size_t cap) {
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t t = (time_t)unix_s;
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        snprintf(out, cap, "Thu, 01 Jan 1970 00:00:00 GMT");
        return;
    }
    snprintf(out, cap, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday % 7], tm.tm_mday,
             months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

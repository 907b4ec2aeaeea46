/* mp_diag: a caller-owned list of problems with paths. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/diag.h"

struct mp_diag {
    mp_problem *items;
    size_t count;
    size_t cap;
    size_t errors;
    size_t max;
    size_t dropped;
    int drop_warnings;
};

mp_diag *mp_diag_new(void) {
    mp_diag *d = mp__calloc(1, sizeof *d);
    if (d)
        d->max = 1000;
    return d;
}

void mp_diag_clear(mp_diag *d) {
    if (!d)
        return;
    for (size_t i = 0; i < d->count; i++) {
        mp__free((char *)d->items[i].path);
        mp__free((char *)d->items[i].message);
    }
    d->count = 0;
    d->errors = 0;
    d->dropped = 0;
}

void mp_diag_free(mp_diag *d) {
    if (!d)
        return;
    mp_diag_clear(d);
    mp__free(d->items);
    mp__free(d);
}

size_t mp_diag_count(const mp_diag *d) {
    return d ? d->count : 0;
}

size_t mp_diag_error_count(const mp_diag *d) {
    return d ? d->errors : 0;
}

const mp_problem *mp_diag_get(const mp_diag *d, size_t i) {
    return (d && i < d->count) ? &d->items[i] : NULL;
}

void mp_diag_set_max(mp_diag *d, size_t max_problems) {
    if (d)
        d->max = max_problems;
}

size_t mp_diag_dropped(const mp_diag *d) {
    return d ? d->dropped : 0;
}

static char *dup_or_empty(const char *s) {
    size_t n = s ? strlen(s) : 0;
    char *p = mp__malloc(n + 1);
    if (p) {
        if (n)
            memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

void mp_diag_keep_warnings(mp_diag *diag, int keep) {
    if (diag)
        diag->drop_warnings = !keep;
}

int mp__diag_wants(const mp_diag *d, mp_severity sev) {
    return d && (sev == MP_SEVERITY_ERROR || !d->drop_warnings);
}

void mp__diag_vadd(mp_diag *d, mp_severity sev, mp_error code, long batch, const char *path,
                   int line, int column, const char *fmt, va_list ap) {
    if (!mp__diag_wants(d, sev))
        return;
    if (sev == MP_SEVERITY_ERROR)
        d->errors++;
    if (d->count >= d->max) {
        d->dropped++;
        return;
    }
    if (d->count == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 8;
        mp_problem *items = mp__realloc(d->items, cap * sizeof *items);
        if (!items) {
            d->dropped++;
            return;
        }
        d->items = items;
        d->cap = cap;
    }
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    char *p = dup_or_empty(path);
    char *m = dup_or_empty(msg);
    if (!p || !m) {
        mp__free(p);
        mp__free(m);
        d->dropped++;
        return;
    }
    mp_problem *pr = &d->items[d->count++];
    pr->severity = sev;
    pr->code = code;
    pr->batch = batch;
    pr->path = p;
    pr->message = m;
    pr->line = line;
    pr->column = column;
}

void mp__diag_add(mp_diag *d, mp_severity sev, mp_error code, long batch, const char *path,
                  const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    mp__diag_vadd(d, sev, code, batch, path, 0, 0, fmt, ap);
    va_end(ap);
}

void mp__diag_add_at(mp_diag *d, mp_severity sev, mp_error code, long batch, const char *path,
                     int line, int column, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    mp__diag_vadd(d, sev, code, batch, path, line, column, fmt, ap);
    va_end(ap);
}

/*
 * The decoder: a pull reader (json_reader.h) reads one batch at a time and
 * a walk over the schema tables decodes it straight into the model structs,
 * with no DOM in between (docs/decoding-notes.md: jansson's parse and DOM
 * were 89% of the time). There is no
 * per-field code: the field's kind in the table says which JSON types it
 * takes and how it is stored, so a field added to schema.c is decoded with
 * no change here.
 *
 * This file is the walk over one batch (mp__decode_value()) and the
 * document that mp_decode() fills; where batches start in the input (one
 * object, an array, NDJSON), lines and columns, and the streaming decoder
 * are the framing's, in decode_stream.c (decode_internal.h).
 *
 * Memory: everything a batch points to (sub-objects, lists, strings) is
 * bump-allocated in an arena (the document's, or the streaming decoder's,
 * reused for each batch); strings are decoded from the input straight
 * into it. A list's elements are gathered in a scratch buffer kept between
 * batches and copied into the arena once, at their exact number, when the
 * list closes (list_open()).
 *
 * Errors: the walk records a problem and carries on, so that one call
 * reports every problem of a batch; the bad value is left absent (a list
 * simply skips the element). A batch that is not valid JSON must report
 * its syntax error only, as when a parser ran first; so before the first
 * problem of a batch is reported, the whole batch is checked (one more
 * pass over it, only for batches with problems), and a syntax error found
 * then or by the walk itself abandons the walk: the batch becomes a
 * failed, empty one. Walk functions return MP_OK, MP_ERR_NOMEM, or STOP
 * (the reader failed; its error says why).
 *
 * Recursion: the walk descends only where the schema has a sub-object, so
 * its depth is bounded by the model (about eight levels) whatever the
 * input; values it does not want are skipped by the reader without
 * recursion, and nesting deeper than 2048 levels is an error as with
 * jansson.
 */
#include <stdint.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "codec/arena.h"
#include "codec/decode_internal.h"
#include "common/alloc.h"
#include "codec/json_reader.h"
#include "common/diag.h"
#include "common/path.h"
#include "mparticle/codec.h"
#include "schema/schema.h"

mp__malloc_fn mp__decode_malloc = mp__malloc;
mp__free_fn mp__decode_free = mp__free;

/* The walk's third outcome besides MP_OK and MP_ERR_NOMEM: the reader
 * failed (a syntax error, or out of memory in the reader: d->r.err). */
#define STOP MP_ERR_JSON_SYNTAX

#define TRY(x)                                                               \
    do {                                                                     \
        mp_error try_ = (x);                                                 \
        if (try_ != MP_OK)                                                   \
            return try_;                                                     \
    } while (0)

/* An event envelope whose data is being walked before the envelope's
 * later keys were read: see report_trailing_keys(). */
typedef struct mp__envelope {
    size_t data_pos;  /* where data's value starts */
    unsigned depth;   /* the reader's depth there */
    const mp__path *path;
    int reported;     /* the keys after data were reported already */
} envelope;

typedef mp__dec dec;

/* ------------------------------------------------------------------------ */
/* Problems                                                                 */
/* ------------------------------------------------------------------------ */

void mp__dec_note_error(dec *d, mp_error code) {
    d->batch_failed = 1;
    if (d->first == MP_OK)
        d->first = code;
}

static int may_report(dec *d);

static void problem(dec *d, mp_severity sev, mp_error code, const mp__path *path,
                    const char *fmt, ...) MP__PRINTF(5, 6);

/* A diag that leaves warnings out (mp_diag_keep_warnings()): the walk
 * then neither checks nor describes them. With no diag at all, warnings
 * still go through may_report() as before. */
static int drops_warnings(const dec *d) {
    return d->diag && !mp__diag_wants(d->diag, MP_SEVERITY_WARNING);
}

/* Reports a problem at `path` in the current batch. Errors fail the batch. */
static void problem(dec *d, mp_severity sev, mp_error code, const mp__path *path,
                    const char *fmt, ...) {
    if (sev == MP_SEVERITY_WARNING && drops_warnings(d))
        return;
    if (!may_report(d))
        return;
    if (sev == MP_SEVERITY_ERROR)
        mp__dec_note_error(d, code);
    if (!d->diag)
        return;
    char p[MP__PATH_MAX];
    va_list ap;
    va_start(ap, fmt);
    mp__diag_vadd(d->diag, sev, code, d->batch, mp__path_render(path, p, sizeof p), 0, 0, fmt,
                  ap);
    va_end(ap);
}

/* What a value is called in messages (integers beyond int64 and "-0" are
 * real numbers, as they were when jansson read them as reals). */
static const char *type_name(mp__jr_type t) {
    switch (t) {
    case MP__JR_LBRACE:
        return "an object";
    case MP__JR_LBRACKET:
        return "an array";
    case MP__JR_STRING:
        return "a string";
    case MP__JR_INT:
        return "an integer";
    case MP__JR_REAL:
        return "a real number";
    case MP__JR_TRUE:
    case MP__JR_FALSE:
        return "a boolean";
    default:
        break;
    }
    return "null";
}

/* Reports a value of the wrong type and skips it. */
static mp_error type_error(dec *d, const mp__path *path, const char *expected,
                           const mp__jr_token *v) {
    problem(d, MP_SEVERITY_ERROR, MP_ERR_TYPE, path, "expected %s, got %s", expected,
            type_name(v->type));
    return mp__jr_skip(&d->r, v, &d->keys) ? STOP : MP_OK;
}

/* Integers up to 2^53 in magnitude are exact in a double; most numbers
 * also have few digits. Only the rest pay for the decimal comparison. */
static int surely_exact(const mp__jr_token *v) {
    if (v->type == MP__JR_INT)
        return v->i >= -(INT64_C(1) << 53) && v->i <= (INT64_C(1) << 53);
    return v->end - v->start <= 15 && v->d != 0.0 && fabs(v->d) >= 1e-280 &&
           fabs(v->d) <= 1e280;
}

/* A number about to be kept as the double x: if its value changes on the
 * way ("1e-400" becomes 0, "12345678901234567890" loses its last digits),
 * say so with the path. A warning: the batch is still sent, and the user
 * decides whether that is acceptable. */
static void warn_if_inexact(dec *d, const mp__jr_token *v, double x, const mp__path *path) {
    if (surely_exact(v) || drops_warnings(d))
        return;
    const char *text = d->json + v->start;
    size_t n = v->end - v->start;
    char shown[40];
    if (mp__number_kept_exactly(text, n, x, shown, sizeof shown))
        return;
    int cut = n > 40;
    problem(d, MP_SEVERITY_WARNING, MP_ERR_RANGE, path,
            "%.*s%s cannot be kept exactly as a double (64-bit IEEE 754); it becomes %s",
            (int)(cut ? 40 : n), text, cut ? "..." : "", shown);
}

/* Writes s[0..n) into out for a message: quotes and backslashes escaped,
 * control bytes as \u00XX, cut (at a character boundary) with "..." when
 * long, so that a hostile 100 MB value makes a one-line message. */
void mp__snippet(char *out, size_t cap, const char *s, size_t n) {
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        size_t k;
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            k = 2;
        } else if (c < 0x20) {
            k = (size_t)snprintf(esc, sizeof esc, "\\u%04x", c);
        } else {
            esc[0] = (char)c;
            k = 1;
        }
        /* Room for this byte plus "..." and the NUL, and never stop
         * inside a UTF-8 sequence: a lead byte needs room for the bytes
         * that follow it. */
        size_t need = k + (c >= 0xC0 ? (c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : 1) : 0);
        if (o + need + 4 > cap) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        memcpy(out + o, esc, k);
        o += k;
    }
    out[o] = '\0';
}

/* "iOS, Android, web, ..." for an enum error; all names when they fit. */
static void enum_names(char *out, size_t cap, const mp__enum *e) {
    size_t o = 0;
    out[0] = '\0';
    for (int i = 1; i < e->count; i++) {
        size_t n = e->names[i].len;
        if (o + n + 2 + 5 > cap) {
            memcpy(out + o, "...", 4);
            return;
        }
        if (i > 1) {
            memcpy(out + o, ", ", 2);
            o += 2;
        }
        memcpy(out + o, e->names[i].name, n);
        o += n;
        out[o] = '\0';
    }
}

static void enum_error(dec *d, const mp__path *path, const mp__enum *e, const char *s,
                       size_t n) {
    if (!d->diag) {
        if (may_report(d))
            mp__dec_note_error(d, MP_ERR_ENUM);
        return;
    }
    char shown[72], names[400];
    mp__snippet(shown, sizeof shown, s, n);
    enum_names(names, sizeof names, e);
    problem(d, MP_SEVERITY_ERROR, MP_ERR_ENUM, path,
            "\"%s\" is not a valid %s (expected one of: %s)", shown, e->type_name, names);
}

static void unknown_key(dec *d, const mp__path *parent, const char *key, size_t key_len) {
    mp__path kp = MP__PATH_KEY(parent, key, key_len);
    problem(d, MP_SEVERITY_WARNING, MP_ERR_INVALID, &kp, "unknown key ignored");
}

/* ------------------------------------------------------------------------ */
/* Allocation and strings                                                   */
/* ------------------------------------------------------------------------ */

static void *alloc_zero(dec *d, size_t count, size_t size) {
    return mp__arena_calloc(d->arena, count, size);
}

/* A string token's text, decoded, NUL-terminated, in the document. NULL
 * when out of memory. Without escapes it is one copy of the input bytes. */
static const char *copy_string(dec *d, const mp__jr_token *s) {
    size_t n = mp__jr_raw_len(s);
    if (!s->escaped)
        return mp__arena_strndup(d->arena, d->json + s->start + 1, n);
    char *p = mp__arena_calloc(d->arena, n + 1, 1);
    if (p)
        p[mp__jr_unescape(d->json, s, p)] = '\0';
    return p;
}

/* A string token's decoded bytes for a comparison: in the input when it
 * has no escapes, else copied into the document. MP_ERR_NOMEM or MP_OK. */
static mp_error string_bytes(dec *d, const mp__jr_token *s, const char **out, size_t *len) {
    if (!s->escaped) {
        *out = d->json + s->start + 1;
        *len = mp__jr_raw_len(s);
        return MP_OK;
    }
    char *p = mp__arena_calloc(d->arena, mp__jr_raw_len(s) + 1, 1);
    if (!p)
        return MP_ERR_NOMEM;
    *len = mp__jr_unescape(d->json, s, p);
    *out = p;
    return MP_OK;
}

/* The null sentinel as a list's items pointer. */
#define NULL_ITEMS ((const void *)&mp_null)

static void store_list(void *base, size_t offset, const void *items, size_t count) {
    mp__store_ptr(base, offset + MP__LIST_ITEMS, items);
    mp__store_size(base, offset + MP__LIST_COUNT, count);
}

/*
 * Lists. The elements of an open list are gathered in the scratch buffer
 * of its nesting level (a list inside one of its elements uses the next
 * level, so an element being filled never moves), and copied into the
 * arena at their exact number when the list closes. So a list costs no
 * pass over the input to count it, and no grown-out copies in the arena.
 * A walk that stops early leaves levels open; mp__decode_value() starts
 * each value at level 0.
 */
typedef struct list {
    size_t level;
    size_t size;  /* of an element */
    size_t count; /* elements kept so far */
} list;

void mp__dec_init(dec *d, mp__malloc_fn m, mp__free_fn f) {
    mp__jr_keyset_init(&d->keys, m, f);
    d->malloc_fn = m;
    d->free_fn = f;
}

void mp__dec_clear(dec *d) {
    mp__jr_keyset_free(&d->keys);
    for (size_t i = 0; i < d->nscratch; i++)
        if (d->scratch[i].bytes)
            d->free_fn(d->scratch[i].bytes);
    if (d->scratch)
        d->free_fn(d->scratch);
    d->scratch = NULL;
    d->nscratch = 0;
}

size_t mp__dec_footprint(const dec *d) {
    size_t n = mp__jr_keyset_footprint(&d->keys) + d->nscratch * sizeof *d->scratch;
    for (size_t i = 0; i < d->nscratch; i++)
        n += d->scratch[i].cap;
    return n;
}

static mp_error list_open(dec *d, list *l, size_t size) {
    if (d->list_level == d->nscratch) {
        size_t n = d->nscratch ? d->nscratch * 2 : 4;
        mp__dec_scratch *s = d->malloc_fn(n * sizeof *s);
        if (!s)
            return MP_ERR_NOMEM;
        if (d->nscratch)
            memcpy(s, d->scratch, d->nscratch * sizeof *s);
        memset(s + d->nscratch, 0, (n - d->nscratch) * sizeof *s);
        if (d->scratch)
            d->free_fn(d->scratch);
        d->scratch = s;
        d->nscratch = n;
    }
    l->level = d->list_level++;
    l->size = size;
    l->count = 0;
    return MP_OK;
}

/* A zeroed slot for the element after the kept ones (it counts once the
 * caller does l->count++); valid until the next slot of this list. NULL
 * when out of memory. */
static void *list_slot(dec *d, list *l) {
    mp__dec_scratch *s = &d->scratch[l->level];
    if (l->count >= SIZE_MAX / l->size - 1)
        return NULL;
    size_t need = (l->count + 1) * l->size;
    if (need > s->cap) {
        size_t cap = s->cap > SIZE_MAX / 2 ? need : s->cap * 2;
        if (cap < need)
            cap = need;
        if (cap < 4096)
            cap = 4096;
        char *b = d->malloc_fn(cap);
        if (!b)
            return NULL;
        if (l->count)
            memcpy(b, s->bytes, l->count * l->size);
        if (s->bytes)
            d->free_fn(s->bytes);
        s->bytes = b;
        s->cap = cap;
    }
    void *p = s->bytes + l->count * l->size;
    memset(p, 0, l->size);
    return p;
}

/* Closes the list: its elements, copied into the arena (a unique pointer
 * when there are none), or NULL when out of memory. */
static const void *list_close(dec *d, const list *l) {
    d->list_level = l->level;
    return mp__arena_memdup(d->arena, d->scratch[l->level].bytes, l->count * l->size);
}

/* Opens a list of elements of `size` bytes as `l` in the calling function. */
#define LIST_OPEN(d, l, size) \
    list l;                   \
    TRY(list_open((d), &l, (size)))

/* A slot of l as `type *` named `it`, or MP_ERR_NOMEM from the caller. */
#define LIST_SLOT(d, l, type, it)               \
    type *it = (type *)list_slot((d), &(l));    \
    if (!it)                                    \
        return MP_ERR_NOMEM

/* Closes l into out->items / out->count, or MP_ERR_NOMEM from the caller. */
#define LIST_CLOSE_INTO(d, l, out)                           \
    do {                                                     \
        const void *items_ = list_close((d), &(l));          \
        if (!items_)                                         \
            return MP_ERR_NOMEM;                             \
        (out)->items = items_;                               \
        (out)->count = (l).count;                            \
    } while (0)

/* The next member of an object: MP_OK with *more set and the key in *k,
 * the key checked against `keys` (a map's, or NULL) and the ':' read. */
static mp_error next_member(dec *d, int *first, mp__jr_token *k, int *more, int use_keys) {
    int rc = mp__jr_key(&d->r, first, k);
    if (rc < 0)
        return STOP;
    *more = rc;
    if (!rc)
        return MP_OK;
    if (use_keys) {
        int added = mp__jr_keyset_add_token(&d->keys, d->json, k);
        if (added < 0)
            return mp__jr_fail_nomem(&d->r), STOP;
        if (added == 0)
            return mp__jr_fail_duplicate(&d->r, k), STOP;
    }
    return mp__jr_colon(&d->r) ? STOP : MP_OK;
}

static mp_error next_value(dec *d, mp__jr_token *v) {
    return mp__jr_value(&d->r, v) ? STOP : MP_OK;
}

/* ------------------------------------------------------------------------ */
/* The walk                                                                 */
/* ------------------------------------------------------------------------ */

static mp_error dec_members(dec *d, const mp__object *obj, void *base, const mp__object *obj2,
                            void *base2, const mp__path *path);

static mp_error dec_object(dec *d, const mp__object *obj, void *base, const mp__path *path) {
    return dec_members(d, obj, base, NULL, NULL, path);
}

/* An mp_value: a scalar, null, or (unless in_list) a list of those. On a
 * type error *out stays MP_VALUE_ABSENT. */
static mp_error dec_value(dec *d, mp_value *out, const mp__jr_token *v, const mp__path *path,
                          int in_list) {
    switch (v->type) {
    case MP__JR_STRING: {
        const char *s = copy_string(d, v);
        if (!s)
            return MP_ERR_NOMEM;
        out->type = MP_VALUE_STRING;
        out->u.string = s;
        return MP_OK;
    }
    case MP__JR_INT:
        out->type = MP_VALUE_INT;
        out->u.integer = v->i;
        return MP_OK;
    case MP__JR_REAL:
        out->type = MP_VALUE_DOUBLE;
        out->u.number = v->d;
        warn_if_inexact(d, v, v->d, path);
        return MP_OK;
    case MP__JR_TRUE:
    case MP__JR_FALSE:
        out->type = MP_VALUE_BOOL;
        out->u.boolean = v->type == MP__JR_TRUE;
        return MP_OK;
    case MP__JR_NULL:
        out->type = MP_VALUE_NULL;
        return MP_OK;
    case MP__JR_LBRACKET:
        if (!in_list) {
            size_t i = 0;
            LIST_OPEN(d, l, sizeof(mp_value));
            int first = 1, rc;
            while ((rc = mp__jr_next(&d->r, &first)) > 0) {
                mp__path ip = MP__PATH_INDEX(path, i++);
                mp__jr_token e;
                TRY(next_value(d, &e));
                LIST_SLOT(d, l, mp_value, it);
                TRY(dec_value(d, it, &e, &ip, 1));
                if (it->type != MP_VALUE_ABSENT)
                    l.count++;
            }
            if (rc < 0)
                return STOP;
            out->type = MP_VALUE_LIST;
            LIST_CLOSE_INTO(d, l, &out->u.list);
            return MP_OK;
        }
        break;
    default:
        break;
    }
    return type_error(d, path,
                      in_list ? "a string, number, boolean or null"
                              : "a string, number, boolean, null or an array of them",
                      v);
}

/* Member keys of maps: unique per object (mp__jr_keyset), decoded into the
 * document because they become names. */
static mp_error map_key(dec *d, const mp__jr_token *k, const char **key, size_t *len) {
    if (!k->escaped) {
        *len = mp__jr_raw_len(k);
        *key = mp__arena_strndup(d->arena, d->json + k->start + 1, *len);
    } else {
        char *p = mp__arena_calloc(d->arena, mp__jr_raw_len(k) + 1, 1);
        if (p) {
            *len = mp__jr_unescape(d->json, k, p);
            p[*len] = '\0';
        }
        *key = p;
    }
    return *key ? MP_OK : MP_ERR_NOMEM;
}

/* Opens a map's scope in the key set, runs `body` per member, closes it. */
#define FOR_MAP_MEMBERS(d, k, v, key, key_len, body)                        \
    do {                                                                     \
        if (mp__jr_keyset_push(&(d)->keys))                                  \
            return mp__jr_fail_nomem(&(d)->r), STOP;                         \
        int first_ = 1, more_;                                               \
        for (;;) {                                                           \
            mp__jr_token k, v;                                               \
            const char *key;                                                 \
            size_t key_len;                                                  \
            TRY(next_member((d), &first_, &k, &more_, 1));                   \
            if (!more_)                                                      \
                break;                                                       \
            TRY(map_key((d), &k, &key, &key_len));                           \
            TRY(next_value((d), &v));                                        \
            body                                                             \
        }                                                                    \
        mp__jr_keyset_pop(&(d)->keys);                                       \
    } while (0)

/* An object of mp_value (custom_attributes, user_attributes, ...). */
static mp_error dec_attributes(dec *d, mp_attribute_list *out, const mp__path *path) {
    LIST_OPEN(d, l, sizeof(mp_attribute));
    FOR_MAP_MEMBERS(d, k, v, key, key_len, {
        mp__path kp = MP__PATH_KEY(path, key, key_len);
        LIST_SLOT(d, l, mp_attribute, a);
        TRY(dec_value(d, &a->value, &v, &kp, 0));
        if (a->value.type == MP_VALUE_ABSENT)
            continue;
        a->name = key;
        l.count++;
    });
    LIST_CLOSE_INTO(d, l, out);
    return MP_OK;
}

/* An object of strings or nulls. */
static mp_error dec_string_map(dec *d, mp_string_map *out, const mp__path *path) {
    LIST_OPEN(d, l, sizeof(mp_string_pair));
    FOR_MAP_MEMBERS(d, k, v, key, key_len, {
        LIST_SLOT(d, l, mp_string_pair, p);
        if (v.type == MP__JR_STRING) {
            if (!(p->value = copy_string(d, &v)))
                return MP_ERR_NOMEM;
        } else if (v.type == MP__JR_NULL) {
            p->value = MP_STRING_NULL;
        } else {
            mp__path kp = MP__PATH_KEY(path, key, key_len);
            TRY(type_error(d, &kp, "a string", &v));
            continue;
        }
        p->name = key;
        l.count++;
    });
    LIST_CLOSE_INTO(d, l, out);
    return MP_OK;
}

/* An object of string maps or nulls (integration_attributes, ...). */
static mp_error dec_string_map_map(dec *d, mp_string_map_map *out, const mp__path *path) {
    LIST_OPEN(d, l, sizeof(mp_string_map_entry));
    FOR_MAP_MEMBERS(d, k, v, key, key_len, {
        mp__path kp = MP__PATH_KEY(path, key, key_len);
        LIST_SLOT(d, l, mp_string_map_entry, e);
        if (v.type == MP__JR_LBRACE) {
            TRY(dec_string_map(d, &e->value, &kp));
        } else if (v.type == MP__JR_NULL) {
            e->value.items = NULL_ITEMS;
        } else {
            TRY(type_error(d, &kp, "an object", &v));
            continue;
        }
        e->name = key;
        l.count++;
    });
    LIST_CLOSE_INTO(d, l, out);
    return MP_OK;
}

/* consent_state.gdpr: purpose -> consent object. A purpose has no null
 * state in the model, so null is a type error like any other non-object. */
static mp_error dec_gdpr(dec *d, mp_gdpr_purpose_list *out, const mp__object *consent,
                         const mp__path *path) {
    LIST_OPEN(d, l, sizeof(mp_gdpr_purpose));
    FOR_MAP_MEMBERS(d, k, v, key, key_len, {
        mp__path kp = MP__PATH_KEY(path, key, key_len);
        if (v.type != MP__JR_LBRACE) {
            TRY(type_error(d, &kp, "an object", &v));
            continue;
        }
        LIST_SLOT(d, l, mp_gdpr_purpose, g);
        g->purpose = key;
        TRY(dec_object(d, consent, &g->consent, &kp));
        l.count++;
    });
    LIST_CLOSE_INTO(d, l, out);
    return MP_OK;
}

/* Skips the rest of the envelope after its data's value, reporting its
 * keys as unknown. Called when a problem inside data is about to be
 * reported: those keys come before data's problems, as they did when the
 * envelope was parsed whole before its data was walked. The batch is
 * valid JSON by then, so nothing here can fail. */
static void report_trailing_keys(dec *d) {
    envelope *env = d->env;
    d->env = NULL;
    env->reported = 1;
    size_t pos = d->r.pos;
    unsigned depth = d->r.depth;
    d->r.pos = env->data_pos;
    d->r.depth = env->depth;
    mp__jr_token t;
    int first = 0, rc;
    if (mp__jr_value(&d->r, &t) == 0 && mp__jr_skip(&d->r, &t, &d->keys) == 0) {
        while ((rc = mp__jr_key(&d->r, &first, &t)) > 0) {
            const char *key;
            size_t len;
            if (string_bytes(d, &t, &key, &len) != MP_OK)
                break; /* out of memory: the warning is lost, not the data */
            unknown_key(d, env->path, key, len);
            if (mp__jr_colon(&d->r) || mp__jr_value(&d->r, &t) ||
                mp__jr_skip(&d->r, &t, &d->keys))
                break;
        }
    }
    d->r.pos = pos;
    d->r.depth = depth;
}

/* Whether a problem of the current batch may be reported: only when the
 * batch is valid JSON, which is checked (from its start, with a second
 * reader) before its first problem. When it is not, the reader takes the
 * syntax error and the walk stops. */
static int may_report(dec *d) {
    if (d->r.failed)
        return 0;
    if (!d->validated) {
        mp__jr check;
        mp__jr_init(&check, d->json, d->batch_start, d->r.end);
        mp__jr_token t;
        int bad = mp__jr_value(&check, &t) || mp__jr_skip(&check, &t, &d->keys);
        size_t reached = bad ? check.err.position : check.pos;
        if (reached > d->reach)
            d->reach = reached;
        /* The value may go on past a window that is not the input's end:
         * say nothing until it is all there. */
        if (!d->end_final && d->r.end - reached < MP__DEC_LOOKAHEAD) {
            d->incomplete = 1;
            d->r.failed = 1;
            return 0;
        }
        if (bad) {
            d->r.failed = 1;
            d->r.err = check.err;
            return 0;
        }
        d->validated = 1;
    }
    if (d->env && !d->env->reported)
        report_trailing_keys(d);
    return 1;
}

/* The decoded text of the event_type token, or NULL when out of memory. */
static mp_error event_type_of(dec *d, const mp__jr_token *type, const mp__path *tp, int *t) {
    const char *s;
    size_t n;
    TRY(string_bytes(d, type, &s, &n));
    *t = mp__event_type_find(s, n);
    if (*t == 0) {
        char shown[72];
        mp__snippet(shown, sizeof shown, s, n);
        problem(d, MP_SEVERITY_ERROR, MP_ERR_ENUM, tp, "unknown event_type \"%s\"", shown);
    }
    return MP_OK;
}

/* One {"data": {...}, "event_type": "..."} envelope into *ev. Sets *kept
 * when the event has a known type; otherwise nothing is written and the
 * caller leaves the slot for the next event.
 *
 * Data is decoded where it stands when event_type came before it (what
 * every SDK writes); otherwise it is skipped, and decoded from its saved
 * position once the envelope has been read. */
static mp_error dec_event(dec *d, mp_event *ev, const mp__jr_token *env_tok,
                          const mp__path *path, int *kept) {
    *kept = 0;
    if (env_tok->type != MP__JR_LBRACE)
        return type_error(d, path, "an object", env_tok);
    mp__path tp = MP__PATH_KEY(path, "event_type", 10);
    mp__path dp = MP__PATH_KEY(path, "data", 4);
    mp__jr_token type = {0}, data = {0};
    int have_type = 0, have_data = 0, t = 0, data_walked = 0;
    envelope env = {0, 0, path, 0};
    int first = 1, more;
    for (;;) {
        mp__jr_token k;
        TRY(next_member(d, &first, &k, &more, 0));
        if (!more)
            break;
        const char *key = d->json + k.start + 1;
        size_t key_len = mp__jr_raw_len(&k);
        if (k.escaped)
            TRY(string_bytes(d, &k, &key, &key_len));
        int is_type = key_len == 10 && memcmp(key, "event_type", 10) == 0;
        int is_data = key_len == 4 && memcmp(key, "data", 4) == 0;
        if ((is_type && have_type) || (is_data && have_data))
            return mp__jr_fail_duplicate(&d->r, &k), STOP;
        if (is_type) {
            have_type = 1;
            TRY(next_value(d, &type));
            if (mp__jr_skip(&d->r, &type, &d->keys))
                return STOP;
        } else if (is_data) {
            have_data = 1;
            env.data_pos = d->r.pos;
            env.depth = d->r.depth;
            TRY(next_value(d, &data));
            if (have_type && type.type == MP__JR_STRING && data.type == MP__JR_LBRACE) {
                /* The usual order: decode data now. A problem in it first
                 * reports the envelope's later keys (report_trailing_keys). */
                int found;
                TRY(string_bytes(d, &type, &key, &key_len));
                found = mp__event_type_find(key, key_len);
                if (found) {
                    ev->event_type = (mp_event_type)found;
                    d->env = &env;
                    mp_error err =
                        dec_members(d, &mp__event_common_object, &ev->common,
                                    mp__event_descs[found].data,
                                    (char *)ev + MP__EVENT_UNION_OFFSET, &dp);
                    d->env = NULL;
                    TRY(err);
                    data_walked = 1;
                    continue;
                }
            }
            if (mp__jr_skip(&d->r, &data, &d->keys))
                return STOP;
        } else {
            if (!env.reported)
                unknown_key(d, path, key, key_len);
            mp__jr_token v;
            TRY(next_value(d, &v));
            if (mp__jr_skip(&d->r, &v, &d->keys))
                return STOP;
        }
    }
    if (data_walked) {
        *kept = 1;
        return MP_OK;
    }
    if (!have_type) {
        problem(d, MP_SEVERITY_ERROR, MP_ERR_INVALID, path, "event has no event_type");
        return d->r.failed ? STOP : MP_OK;
    }
    if (type.type != MP__JR_STRING) {
        problem(d, MP_SEVERITY_ERROR, MP_ERR_TYPE, &tp, "expected a string, got %s",
                type_name(type.type));
        return d->r.failed ? STOP : MP_OK;
    }
    TRY(event_type_of(d, &type, &tp, &t));
    if (d->r.failed)
        return STOP;
    if (t == 0)
        return MP_OK;
    ev->event_type = (mp_event_type)t;
    *kept = 1;
    if (!have_data)
        return MP_OK;
    if (data.type != MP__JR_LBRACE) {
        problem(d, MP_SEVERITY_ERROR, MP_ERR_TYPE, &dp, "expected an object, got %s",
                type_name(data.type));
        return d->r.failed ? STOP : MP_OK;
    }
    /* Back to data's value, then on from the end of the envelope. */
    size_t end = d->r.pos;
    unsigned depth = d->r.depth;
    d->r.pos = env.data_pos;
    d->r.depth = env.depth;
    mp__jr_token again;
    TRY(next_value(d, &again));
    TRY(dec_members(d, &mp__event_common_object, &ev->common, mp__event_descs[t].data,
                    (char *)ev + MP__EVENT_UNION_OFFSET, &dp));
    d->r.pos = end;
    d->r.depth = depth;
    return MP_OK;
}

static mp_error dec_events(dec *d, mp_event_list *out, const mp__path *path) {
    size_t i = 0;
    LIST_OPEN(d, l, sizeof(mp_event));
    int first = 1, rc;
    while ((rc = mp__jr_next(&d->r, &first)) > 0) {
        mp__path ip = MP__PATH_INDEX(path, i++);
        mp__jr_token v;
        int kept;
        TRY(next_value(d, &v));
        LIST_SLOT(d, l, mp_event, ev);
        TRY(dec_event(d, ev, &v, &ip, &kept));
        l.count += (size_t)kept;
    }
    if (rc < 0)
        return STOP;
    LIST_CLOSE_INTO(d, l, out);
    return MP_OK;
}

static mp_error dec_object_list(dec *d, const mp__object *sub, void *base, size_t offset,
                                const mp__path *path) {
    size_t i = 0;
    LIST_OPEN(d, l, sub->size);
    int first = 1, rc;
    while ((rc = mp__jr_next(&d->r, &first)) > 0) {
        mp__path ip = MP__PATH_INDEX(path, i++);
        mp__jr_token v;
        TRY(next_value(d, &v));
        if (v.type != MP__JR_LBRACE) {
            TRY(type_error(d, &ip, "an object", &v));
            continue;
        }
        LIST_SLOT(d, l, void, it);
        TRY(dec_object(d, sub, it, &ip));
        l.count++;
    }
    if (rc < 0)
        return STOP;
    const void *items = list_close(d, &l);
    if (!items)
        return MP_ERR_NOMEM;
    store_list(base, offset, items, l.count);
    return MP_OK;
}

static mp_error dec_string_list(dec *d, mp_string_list *out, const mp__path *path) {
    size_t i = 0;
    LIST_OPEN(d, l, sizeof(const char *));
    int first = 1, rc;
    while ((rc = mp__jr_next(&d->r, &first)) > 0) {
        mp__path ip = MP__PATH_INDEX(path, i++);
        mp__jr_token v;
        TRY(next_value(d, &v));
        LIST_SLOT(d, l, const char *, it);
        if (v.type == MP__JR_STRING) {
            if (!(*it = copy_string(d, &v)))
                return MP_ERR_NOMEM;
        } else if (v.type == MP__JR_NULL) {
            *it = MP_STRING_NULL;
        } else {
            TRY(type_error(d, &ip, "a string", &v));
            continue;
        }
        l.count++;
    }
    if (rc < 0)
        return STOP;
    LIST_CLOSE_INTO(d, l, out);
    return MP_OK;
}

/* A real number where an integer belongs. Integers beyond int64 arrive as
 * reals (the reader makes them doubles), and are a range error, not a type
 * error; "-0" arrives as -0.0 and is the integer 0. Other reals, 1.0
 * included, are type errors: an integer field takes integers only. */
static void real_for_integer(dec *d, mp_opt_int64 *o, double x, const mp__path *path) {
    if (x == 0 && signbit(x))
        *o = MP_INT(0);
    else if (x == floor(x) && (x >= 0x1p63 || x < -0x1p63))
        problem(d, MP_SEVERITY_ERROR, MP_ERR_RANGE, path, "integer does not fit in int64");
    else
        problem(d, MP_SEVERITY_ERROR, MP_ERR_TYPE, path, "expected an integer, got a real number");
}

/* Fields whose JSON is a scalar. */
static mp_error dec_scalar(dec *d, const mp__field *f, void *base, const mp__jr_token *v,
                           const mp__path *path) {
    char *at = (char *)base + f->offset;
    mp__jr_type t = v->type;
    switch ((mp__kind)f->kind) {
    case MP__K_STRING:
        if (t == MP__JR_STRING) {
            const char *s = copy_string(d, v);
            if (!s)
                return MP_ERR_NOMEM;
            mp__store_ptr(base, f->offset, s);
        } else if (t == MP__JR_NULL) {
            mp__store_ptr(base, f->offset, MP_STRING_NULL);
        } else {
            return type_error(d, path, "a string", v);
        }
        return MP_OK;
    case MP__K_INT64: {
        mp_opt_int64 *o = (mp_opt_int64 *)(void *)at;
        if (t == MP__JR_INT)
            *o = MP_INT(v->i);
        else if (t == MP__JR_NULL)
            *o = MP_INT_NULL;
        else if (t == MP__JR_REAL)
            real_for_integer(d, o, v->d, path);
        else
            return type_error(d, path, "an integer", v);
        return MP_OK;
    }
    case MP__K_DOUBLE: {
        mp_opt_double *o = (mp_opt_double *)(void *)at;
        if (t == MP__JR_REAL || t == MP__JR_INT) {
            *o = MP_DOUBLE(t == MP__JR_REAL ? v->d : (double)v->i);
            warn_if_inexact(d, v, o->value, path);
        } else if (t == MP__JR_NULL)
            *o = MP_DOUBLE_NULL;
        else
            return type_error(d, path, "a number", v);
        return MP_OK;
    }
    case MP__K_BOOL: {
        mp_opt_bool *o = (mp_opt_bool *)(void *)at;
        if (t == MP__JR_TRUE || t == MP__JR_FALSE)
            *o = MP_BOOL(t == MP__JR_TRUE);
        else if (t == MP__JR_NULL)
            *o = MP_BOOL_NULL;
        else
            return type_error(d, path, "a boolean", v);
        return MP_OK;
    }
    case MP__K_ENUM: {
        /* An enum has no null state: null leaves it absent. */
        if (t == MP__JR_NULL)
            return MP_OK;
        if (t != MP__JR_STRING)
            return type_error(d, path, "a string", v);
        const mp__enum *e = (const mp__enum *)f->sub;
        const char *s;
        size_t n;
        TRY(string_bytes(d, v, &s, &n));
        int value = mp__enum_find(e, s, n);
        if (value == 0)
            enum_error(d, path, e, s, n);
        else
            mp__store_enum(base, f->offset, value);
        return MP_OK;
    }
    case MP__K_VALUE: {
        mp_value tmp = {MP_VALUE_ABSENT, {0}};
        TRY(dec_value(d, &tmp, v, path, 0));
        memcpy(at, &tmp, sizeof tmp);
        return MP_OK;
    }
    default:
        break;
    }
    return MP_OK;
}

/* One field of any kind. JSON null is the field's null state. */
static mp_error dec_field(dec *d, const mp__field *f, void *base, const mp__jr_token *v,
                          const mp__path *parent) {
    mp__path fp = MP__PATH_KEY(parent, f->name, f->name_len);
    mp__kind kind = (mp__kind)f->kind;
    switch (kind) {
    case MP__K_STRING:
    case MP__K_INT64:
    case MP__K_DOUBLE:
    case MP__K_BOOL:
    case MP__K_ENUM:
    case MP__K_VALUE:
        return dec_scalar(d, f, base, v, &fp);
    case MP__K_OBJECT: {
        if (v->type == MP__JR_NULL) {
            mp__store_ptr(base, f->offset, NULL_ITEMS);
            return MP_OK;
        }
        if (v->type != MP__JR_LBRACE)
            return type_error(d, &fp, "an object", v);
        const mp__object *sub = (const mp__object *)f->sub;
        void *p = alloc_zero(d, 1, sub->size);
        if (!p)
            return MP_ERR_NOMEM;
        mp__store_ptr(base, f->offset, p);
        return dec_object(d, sub, p, &fp);
    }
    default:
        break;
    }

    /* The list and map kinds: null is the sentinel items pointer. */
    if (v->type == MP__JR_NULL) {
        store_list(base, f->offset, NULL_ITEMS, 0);
        return MP_OK;
    }
    void *at = (char *)base + f->offset;
    int want_array = kind == MP__K_OBJECT_LIST || kind == MP__K_STRING_LIST ||
                     kind == MP__K_EVENT_LIST;
    if (v->type != (want_array ? MP__JR_LBRACKET : MP__JR_LBRACE))
        return type_error(d, &fp, want_array ? "an array" : "an object", v);
    switch (kind) {
    case MP__K_OBJECT_LIST:
        return dec_object_list(d, (const mp__object *)f->sub, base, f->offset, &fp);
    case MP__K_STRING_LIST:
        return dec_string_list(d, (mp_string_list *)at, &fp);
    case MP__K_EVENT_LIST:
        return dec_events(d, (mp_event_list *)at, &fp);
    case MP__K_ATTRIBUTES:
        return dec_attributes(d, (mp_attribute_list *)at, &fp);
    case MP__K_STRING_MAP:
        return dec_string_map(d, (mp_string_map *)at, &fp);
    case MP__K_STRING_MAP_MAP:
        return dec_string_map_map(d, (mp_string_map_map *)at, &fp);
    case MP__K_GDPR:
        return dec_gdpr(d, (mp_gdpr_purpose_list *)at, (const mp__object *)f->sub, &fp);
    default:
        break;
    }
    return MP_OK;
}
/* The field after the previous match, if it is named key[0..len). Keys
 * usually arrive in the table's order (our encoder and most SDKs write
 * them so), which makes this the one comparison most keys need. */
static const mp__field *try_hint(const mp__object *obj, size_t *hint, const char *key,
                                 size_t len) {
    if (!obj || *hint >= obj->nfields)
        return NULL;
    const mp__field *f = &obj->fields[*hint];
    if (f->name_len != len || memcmp(f->name, key, len) != 0)
        return NULL;
    ++*hint;
    return f;
}

/* The field of obj named key[0..len) (len > 0), or NULL: compares length
 * and first byte before calling memcmp. */
static const mp__field *scan_fields(const mp__object *obj, size_t *hint, const char *key,
                                    size_t len) {
    if (!obj)
        return NULL;
    for (size_t i = 0; i < obj->nfields; i++) {
        const mp__field *f = &obj->fields[i];
        if (f->name_len == len && f->name[0] == key[0] && memcmp(f->name, key, len) == 0) {
            *hint = i + 1;
            return f;
        }
    }
    return NULL;
}

/* Bits for the fields of an object seen so far: duplicate keys are an
 * error (as with JSON_REJECT_DUPLICATES) and a field's index tells. */
typedef struct seen_set {
    uint64_t bits[4];
} seen_set;

/* Marks field i of a table. 0 if it was already marked. Tables have fewer
 * than 256 fields (test_decode checks every object). */
static int mark_seen(seen_set *s, size_t i) {
    uint64_t bit = (uint64_t)1 << (i % 64);
    if (s->bits[i / 64] & bit)
        return 0;
    s->bits[i / 64] |= bit;
    return 1;
}

/* The members of the object just opened into the struct at base described
 * by obj, and (for an event's data) into base2 described by obj2, the
 * event type's own fields, or NULL. Keys neither table has are warnings
 * (and their values skipped, duplicates in them detected by the reader).
 *
 * obj2's names never occur in obj (test_decode checks it for every event
 * type), so the order of the look-ups does not change the result; the
 * smaller table is scanned first because it is cheaper to miss. */
static mp_error dec_members(dec *d, const mp__object *obj, void *base, const mp__object *obj2,
                            void *base2, const mp__path *path) {
    size_t hint = 0, hint2 = 0;
    int small_first = obj2 && obj2->nfields < obj->nfields;
    seen_set seen = {{0}}, seen2 = {{0}};
    int first = 1;
    for (;;) {
        mp__jr_token k, v;
        int rc = mp__jr_key(&d->r, &first, &k);
        if (rc < 0)
            return STOP;
        if (rc == 0)
            return MP_OK;
        const char *key = d->json + k.start + 1;
        size_t key_len = mp__jr_raw_len(&k);
        if (k.escaped)
            TRY(string_bytes(d, &k, &key, &key_len));
        const mp__field *f = NULL;
        void *fbase = base;
        if (key_len == 0) {
            /* no field has an empty name */
        } else if ((f = try_hint(obj, &hint, key, key_len))) {
        } else if ((f = try_hint(obj2, &hint2, key, key_len))) {
            fbase = base2;
        } else if (small_first && (f = scan_fields(obj2, &hint2, key, key_len))) {
            fbase = base2;
        } else if ((f = scan_fields(obj, &hint, key, key_len))) {
        } else if (!small_first && (f = scan_fields(obj2, &hint2, key, key_len))) {
            fbase = base2;
        }
        if (!f) {
            unknown_key(d, path, key, key_len);
            if (mp__jr_colon(&d->r))
                return STOP;
            TRY(next_value(d, &v));
            if (mp__jr_skip(&d->r, &v, &d->keys))
                return STOP;
            continue;
        }
        int is2 = fbase == base2 && obj2;
        if (!mark_seen(is2 ? &seen2 : &seen,
                       (size_t)(f - (is2 ? obj2 : obj)->fields)))
            return mp__jr_fail_duplicate(&d->r, &k), STOP;
        if (mp__jr_colon(&d->r))
            return STOP;
        TRY(next_value(d, &v));
        TRY(dec_field(d, f, fbase, &v, path));
    }
}


/* ------------------------------------------------------------------------ */
/* One value                                                                */
/* ------------------------------------------------------------------------ */

mp__dec_result mp__decode_value(dec *d, mp_batch *batch, size_t pos, size_t end, int end_final,
                                int *ok) {
    memset(batch, 0, sizeof *batch);
    d->batch_failed = 0;
    d->validated = 0;
    d->incomplete = 0;
    d->reach = pos;
    d->end_final = end_final;
    d->env = NULL;
    d->list_level = 0;
    d->batch_start = pos;
    mp__jr_init(&d->r, d->json, pos, end);
    mp__jr_token v;
    mp_error err = next_value(d, &v);
    if (err == MP_OK) {
        if (v.type == MP__JR_LBRACE) {
            err = dec_object(d, &mp__batch_object, batch, NULL);
        } else {
            problem(d, MP_SEVERITY_ERROR, MP_ERR_TYPE, NULL, "a batch must be an object, got %s",
                    type_name(v.type));
            err = mp__jr_skip(&d->r, &v, &d->keys) ? STOP : MP_OK;
        }
    }
    /* A syntax error found by the validation pass stops the walk where it
     * stood, which may look like success to the caller of problem(). */
    if (err == MP_OK && d->r.failed)
        err = STOP;
    /* Scopes left open by a stopped walk; then the keys' memory can go. */
    while (d->keys.nscopes)
        mp__jr_keyset_pop(&d->keys);
    mp__jr_keyset_trim(&d->keys);
    if (err == STOP && d->r.err.code == MP__JR_E_NOMEM)
        err = MP_ERR_NOMEM;
    if (err == MP_ERR_NOMEM)
        return MP__DEC_NOMEM;
    /* Where the readers stopped: the walk's end (it rewinds only inside
     * what it has read already), its error, or the validation pass's end. */
    size_t reached = d->r.failed ? d->r.err.position : d->r.pos;
    if (reached < d->reach)
        reached = d->reach;
    if (d->incomplete || (!end_final && end - reached < MP__DEC_LOOKAHEAD))
        return MP__DEC_INCOMPLETE;
    if (err != MP_OK) {
        memset(batch, 0, sizeof *batch);
        *ok = 0;
        return MP__DEC_STOP;
    }
    *ok = !d->batch_failed;
    return MP__DEC_OK;
}

/* ------------------------------------------------------------------------ */
/* The document                                                             */
/* ------------------------------------------------------------------------ */

/* One decoded batch with what mp_document_batch_line/_ok report. */
typedef struct doc_entry {
    mp_batch batch;
    int line;
    int ok;
} doc_entry;

struct mp_document {
    mp__arena arena; /* every model allocation, and the allocator functions */
    doc_entry *entries;
    size_t count;
    size_t cap;
};

/* Appends a copy of the batch (its pointers go into doc's arena). -1 when
 * out of memory. */
static int append_entry(mp_document *doc, const mp_batch *batch, size_t line, int ok) {
    if (doc->count == doc->cap) {
        size_t cap = doc->cap ? doc->cap * 2 : 4;
        if (cap > SIZE_MAX / sizeof(doc_entry))
            return -1;
        doc_entry *e = doc->arena.malloc_fn(cap * sizeof *e);
        if (!e)
            return -1;
        if (doc->count)
            memcpy(e, doc->entries, doc->count * sizeof *e);
        if (doc->entries)
            doc->arena.free_fn(doc->entries);
        doc->entries = e;
        doc->cap = cap;
    }
    doc_entry *e = &doc->entries[doc->count++];
    e->batch = *batch;
    e->line = line > INT_MAX ? INT_MAX : (int)line;
    e->ok = ok;
    return 0;
}

/* Runs the framing over the whole text, collecting every batch. */
static mp_error decode_all(mp_document *doc, const char *json, size_t len, mp_diag *diag) {
    mp_decoder fr;
    mp__decoder_init_text(&fr, json, len, &doc->arena);
    mp_error err = MP_OK;
    for (;;) {
        mp_decoded_batch b;
        mp_decode_status st = mp_decoder_next(&fr, &b, diag);
        if (st == MP_DECODE_BATCH) {
            if (append_entry(doc, b.batch, (size_t)b.line, b.ok) == 0)
                continue;
            mp__diag_add(diag, MP_SEVERITY_ERROR, MP_ERR_NOMEM, -1, "",
                         "out of memory while decoding");
            err = MP_ERR_NOMEM;
        } else if (st != MP_DECODE_END) {
            err = MP_ERR_NOMEM; /* the decoder reported it */
        }
        break;
    }
    if (err == MP_OK)
        err = mp_decoder_error(&fr);
    mp__decoder_clear(&fr);
    return err;
}

/* ------------------------------------------------------------------------ */
/* Public API                                                               */
/* ------------------------------------------------------------------------ */

mp_error mp_decode(const char *json, size_t len, mp_document **out, mp_diag *diag) {
    if (!out)
        return MP_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (!json && len)
        return MP_ERR_INVALID_ARGUMENT;

    mp_document *doc = mp__decode_malloc(sizeof *doc);
    if (!doc) {
        mp__diag_add(diag, MP_SEVERITY_ERROR, MP_ERR_NOMEM, -1, "", "out of memory while decoding");
        return MP_ERR_NOMEM;
    }
    doc->entries = NULL;
    doc->count = doc->cap = 0;
    mp__arena_init(&doc->arena, mp__decode_malloc, mp__decode_free);

    mp_error err = decode_all(doc, json ? json : "", len, diag);
    if (err == MP_ERR_NOMEM) {
        mp_document_free(doc);
        return MP_ERR_NOMEM;
    }
    *out = doc;
    return err;
}

void mp_document_free(mp_document *doc) {
    if (!doc)
        return;
    mp__free_fn free_fn = doc->arena.free_fn;
    if (doc->entries)
        free_fn(doc->entries);
    mp__arena_free(&doc->arena);
    free_fn(doc);
}

size_t mp_document_count(const mp_document *doc) {
    return doc ? doc->count : 0;
}

const mp_batch *mp_document_batch(const mp_document *doc, size_t i) {
    return (doc && i < doc->count) ? &doc->entries[i].batch : NULL;
}

int mp_document_batch_ok(const mp_document *doc, size_t i) {
    return (doc && i < doc->count) ? doc->entries[i].ok : 0;
}

int mp_document_batch_line(const mp_document *doc, size_t i) {
    return (doc && i < doc->count) ? doc->entries[i].line : 0;
}

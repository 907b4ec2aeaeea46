/*
 * The streaming JSON encoder: walks the schema tables over the caller's
 * structs and writes compact JSON straight into an mp_buffer. No DOM and no
 * allocation per field: each field reserves its worst case once, then
 * writes with plain stores.
 *
 * The write cursor is passed in and returned by every writer, so it lives in
 * a register: had it been kept in the mp_buffer, every char store (which may
 * alias anything) would force the compiler to reload it. A writer returns
 * NULL on failure, with the reason in enc.err; problems are reported where
 * they are detected, by cold functions that also build the JSON path, so the
 * hot path never pays for paths it does not report.
 *
 * Commas: every member is written followed by ','; closing an object or an
 * array overwrites a trailing ',' with the closing bracket. That keeps the
 * per-field path free of "is this the first member" branches.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "codec/buffer.h"
#include "codec/encode_internal.h"
#include "codec/json_primitives.h"
#include "common/diag.h"
#include "common/path.h"
#include "schema/schema.h"

typedef struct enc {
    mp_buffer *b;
    char *end;    /* b->data + b->cap: the reserved room ends here */
    mp_diag *diag;
    long batch;
    mp_error err; /* why a writer returned NULL */
} enc;

/* Longest output of the number formatters plus a separator. */
#define NUM_MAX 40

#if defined(__GNUC__)
#  define MP__COLD __attribute__((cold, noinline))
#  define MP__NOINLINE __attribute__((noinline))
#  define MP__UNLIKELY(x) __builtin_expect(!!(x), 0)
#  define MP__LIKELY(x) __builtin_expect(!!(x), 1)
#else
#  define MP__LIKELY(x) (x)
#  define MP__COLD
#  define MP__NOINLINE
#  define MP__UNLIKELY(x) (x)
#endif

/* ------------------------------------------------------------------------ */
/* Problems. Cold, so that their buffers do not enlarge the hot frames.      */

static MP__COLD char *fail(enc *e, mp_error code, const mp__path *path, const char *what) {
    char p[MP__PATH_MAX];
    mp__diag_add(e->diag, MP_SEVERITY_ERROR, code, e->batch, mp__path_render(path, p, sizeof p),
                 "%s", what);
    e->err = code;
    return NULL;
}

/* A problem with the member `key` of the object at `parent`, or, when key
 * is NULL, with item `index` of the array at `parent`. */
static MP__COLD char *fail_at(enc *e, mp_error code, const mp__path *parent, const char *key,
                              size_t index, const char *what) {
    mp__path p = MP__PATH_INDEX(parent, index);
    if (key) {
        p.key = key;
        p.key_len = strlen(key);
    }
    return fail(e, code, &p, what);
}

static MP__COLD char *fail_enum(enc *e, const mp__field *f, int v, const mp__path *parent) {
    char msg[96];
    snprintf(msg, sizeof msg, "%d is not a valid %s", v, ((const mp__enum *)f->sub)->type_name);
    return fail_at(e, MP_ERR_ENUM, parent, f->name, 0, msg);
}

/* put_string() failed: reports why, unless memory ran out (finish() does
 * that). The string is `key` of `parent`, or item `index` of it. */
static MP__COLD char *string_failed(enc *e, size_t bad, const mp__path *parent, const char *key,
                                    size_t index) {
    if (e->err == MP_ERR_LIMIT)
        return fail_at(e, MP_ERR_LIMIT, parent, key, index, "string too long to encode");
    if (e->err == MP_ERR_INVALID_UTF8) {
        char msg[96];
        snprintf(msg, sizeof msg, "invalid UTF-8 at byte %zu of the string", bad);
        return fail_at(e, MP_ERR_INVALID_UTF8, parent, key, index, msg);
    }
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Room and raw output                                                       */

static MP__NOINLINE char *grow(enc *e, char *o, size_t n) {
    mp_buffer *b = e->b;
    b->len = (size_t)(o - b->data);
    if (mp__buffer_grow(b, n) != 0) {
        e->err = MP_ERR_NOMEM;
        return NULL;
    }
    e->end = b->data + b->cap;
    return b->data + b->len;
}

/* Makes room for n more bytes at o; returns the (possibly moved) cursor. */
static inline char *need(enc *e, char *o, size_t n) {
    return (size_t)(e->end - o) >= n ? o : grow(e, o, n);
}

/* memcpy for the short, variable lengths of keys and enum names: a few
 * overlapping fixed-size moves instead of a library call. */
static inline char *put(char *o, const char *s, size_t n) {
    if (n >= 16) {
        for (size_t i = 0; i + 16 < n; i += 16)
            memcpy(o + i, s + i, 16);
        memcpy(o + n - 16, s + n - 16, 16);
    } else if (n >= 8) {
        uint64_t a, b;
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
        memcpy(o, &a, 8);
        memcpy(o + n - 8, &b, 8);
    } else if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        memcpy(o, &a, 4);
        memcpy(o + n - 4, &b, 4);
    } else if (n > 0) {
        o[0] = s[0];
        o[n >> 1] = s[n >> 1];
        o[n - 1] = s[n - 1];
    }
    return o + n;
}

/* Replaces a trailing ',' with `close`, or appends it after an empty opener. */
static inline char *close_with(char *o, char close) {
    if (o[-1] == ',') {
        o[-1] = close;
        return o;
    }
    *o = close;
    return o + 1;
}

/* Closes a container and writes the ',' that follows it. */
static inline char *close_member(enc *e, char *o, char closer) {
    if (!(o = need(e, o, 2)))
        return NULL;
    o = close_with(o, closer);
    *o = ',';
    return o + 1;
}

/* ------------------------------------------------------------------------ */
/* Scalars. Each writes `prefix` (a pre-rendered key, may be empty), the     */
/* value and then `sep`, normally ','.                                       */

/* The quoted, escaped string. On failure e->err is MP_ERR_LIMIT,
 * MP_ERR_INVALID_UTF8 (with the offset in *bad) or MP_ERR_NOMEM; nothing is
 * reported yet, as only the caller knows the path. */
static char *put_string(enc *e, char *o, const char *prefix, size_t prefix_len, const char *s,
                        char sep, size_t *bad) {
    size_t n = strlen(s);
    if (MP__UNLIKELY(n > (SIZE_MAX - 64) / 6)) {
        e->err = MP_ERR_LIMIT;
        return NULL;
    }
    if (!(o = need(e, o, prefix_len + n * 6 + 3)))
        return NULL;
    o = put(o, prefix, prefix_len);
    *o++ = '"';
    /* Up to 32 bytes inline, as two halves of at most 16: most strings of
     * a batch are that short and need no escaping (names, e-mail
     * addresses), and a call to the general loop costs more than the copy.
     * Anything else starts over in mp__json_escape(). */
    size_t w = 0;
    if (n <= 16)
        w = mp__json_escape_short(o, s, n);
    else if (n <= 32 && mp__json_escape_short(o, s, 16) != 0)
        w = mp__json_escape_short(o + 16, s + 16, n - 16) != 0 ? n : 0;
    if (w == 0 && n != 0)
        w = mp__json_escape(o, s, n, bad);
    if (MP__UNLIKELY(w == SIZE_MAX)) {
        e->err = MP_ERR_INVALID_UTF8;
        return NULL;
    }
    o += w;
    o[0] = '"';
    o[1] = sep;
    return o + 2;
}

static char *put_null(enc *e, char *o, const char *prefix, size_t prefix_len) {
    if (!(o = need(e, o, prefix_len + 5)))
        return NULL;
    o = put(o, prefix, prefix_len);
    memcpy(o, "null,", 5);
    return o + 5;
}

static char *put_int(enc *e, char *o, const char *prefix, size_t prefix_len, int64_t v) {
    if (!(o = need(e, o, prefix_len + NUM_MAX)))
        return NULL;
    o = put(o, prefix, prefix_len);
    o += mp__fmt_int64(o, v);
    *o = ',';
    return o + 1;
}

/* Fails with MP_ERR_NOT_FINITE, unreported, for NaN and infinities. */
static char *put_double(enc *e, char *o, const char *prefix, size_t prefix_len, double v) {
    if (!(o = need(e, o, prefix_len + NUM_MAX)))
        return NULL;
    size_t n = mp__fmt_double(o + prefix_len, v);
    if (MP__UNLIKELY(n == 0)) {
        e->err = MP_ERR_NOT_FINITE;
        return NULL;
    }
    o = put(o, prefix, prefix_len) + n;
    *o = ',';
    return o + 1;
}

static char *put_bool(enc *e, char *o, const char *prefix, size_t prefix_len, int v) {
    if (!(o = need(e, o, prefix_len + 6)))
        return NULL;
    o = put(o, prefix, prefix_len);
    if (v) {
        memcpy(o, "true,", 5);
        return o + 5;
    }
    memcpy(o, "false,", 6);
    return o + 6;
}

static MP__COLD char *not_finite(enc *e, const mp__path *parent, const char *key, size_t index) {
    if (e->err != MP_ERR_NOT_FINITE)
        return NULL;
    return fail_at(e, MP_ERR_NOT_FINITE, parent, key, index,
                   "NaN or infinity cannot be sent as JSON");
}

/* ------------------------------------------------------------------------ */
/* Values, objects, containers                                               */

static char *enc_object(enc *e, char *o, const mp__object *obj, const void *base,
                        const mp__path *path);
static char *enc_fields(enc *e, char *o, const mp__object *obj, const void *base,
                        const mp__path *path);

static char *enc_list_value(enc *e, char *o, const char *prefix, size_t prefix_len,
                            const mp_value *v, const mp__path *path);

/* An attribute or field value: member `key` of `parent`, or item `index`
 * of it when key is NULL (then lists are rejected: lists of lists are not
 * part of the API). */
static char *enc_value(enc *e, char *o, const char *prefix, size_t prefix_len, const mp_value *v,
                       const mp__path *parent, const char *key, size_t index) {
    size_t bad = 0;
    switch (v->type) {
    case MP_VALUE_NULL:
        return put_null(e, o, prefix, prefix_len);
    case MP_VALUE_STRING:
        if (!v->u.string)
            return fail_at(e, MP_ERR_INVALID_ARGUMENT, parent, key, index,
                           "string value is a NULL pointer");
        if (!(o = put_string(e, o, prefix, prefix_len, v->u.string, ',', &bad)))
            return string_failed(e, bad, parent, key, index);
        return o;
    case MP_VALUE_INT:
        return put_int(e, o, prefix, prefix_len, v->u.integer);
    case MP_VALUE_DOUBLE:
        if (!(o = put_double(e, o, prefix, prefix_len, v->u.number)))
            return not_finite(e, parent, key, index);
        return o;
    case MP_VALUE_BOOL:
        return put_bool(e, o, prefix, prefix_len, v->u.boolean);
    case MP_VALUE_LIST: {
        if (!key)
            return fail_at(e, MP_ERR_TYPE, parent, key, index, "a list cannot contain a list");
        mp__path kp = MP__PATH_KEY(parent, key, strlen(key));
        return enc_list_value(e, o, prefix, prefix_len, v, &kp);
    }
    case MP_VALUE_ABSENT:
        return o;
    }
    return fail_at(e, MP_ERR_INVALID_ARGUMENT, parent, key, index, "unknown mp_value type");
}

static MP__NOINLINE char *enc_list_value(enc *e, char *o, const char *prefix, size_t prefix_len,
                                         const mp_value *v, const mp__path *path) {
    if (!v->u.list.items && v->u.list.count)
        return fail(e, MP_ERR_INVALID_ARGUMENT, path, "list items is a NULL pointer");
    if (!(o = need(e, o, prefix_len + 2)))
        return NULL;
    o = put(o, prefix, prefix_len);
    *o++ = '[';
    for (size_t i = 0; i < v->u.list.count; i++) {
        const mp_value *item = &v->u.list.items[i];
        if (item->type == MP_VALUE_ABSENT)
            return fail_at(e, MP_ERR_INVALID_ARGUMENT, path, NULL, i, "list item has no value");
        if (!(o = enc_value(e, o, "", 0, item, path, NULL, i)))
            return NULL;
    }
    return close_member(e, o, ']');
}

/* Writes an object key (escaped, it comes from the caller) and its ':'. */
static inline char *put_key(enc *e, char *o, const char *name, const mp__path *parent) {
    size_t bad = 0;
    if (!(o = put_string(e, o, "", 0, name, ':', &bad)))
        return string_failed(e, bad, parent, name, 0);
    return o;
}

/* Opens a member whose value is a container: writes key and opener. */
static inline char *open_member(enc *e, char *o, const mp__field *f, char opener) {
    if (!(o = need(e, o, (size_t)f->key_len + 1)))
        return NULL;
    o = put(o, f->key, f->key_len);
    *o = opener;
    return o + 1;
}

static char *enc_attributes(enc *e, char *o, const mp__field *f, const mp_attribute *items,
                            size_t count, const mp__path *path) {
    if (!(o = open_member(e, o, f, '{')))
        return NULL;
    for (size_t i = 0; i < count; i++) {
        const mp_attribute *a = &items[i];
        if (a->value.type == MP_VALUE_ABSENT)
            continue;
        if (!a->name)
            return fail_at(e, MP_ERR_INVALID_ARGUMENT, path, NULL, i,
                           "attribute name is a NULL pointer");
        if (!(o = put_key(e, o, a->name, path)) ||
            !(o = enc_value(e, o, "", 0, &a->value, path, a->name, 0)))
            return NULL;
    }
    return close_member(e, o, '}');
}

/* The members of a string map, without braces. */
static char *enc_string_map_body(enc *e, char *o, const mp_string_pair *items, size_t count,
                                 const mp__path *path) {
    for (size_t i = 0; i < count; i++) {
        const mp_string_pair *p = &items[i];
        if (!p->value)
            continue;
        if (!p->name)
            return fail_at(e, MP_ERR_INVALID_ARGUMENT, path, NULL, i, "map key is a NULL pointer");
        if (!(o = put_key(e, o, p->name, path)))
            return NULL;
        if (MP_IS_NULL(p->value)) {
            o = put_null(e, o, "", 0);
        } else {
            size_t bad = 0;
            if (!(o = put_string(e, o, "", 0, p->value, ',', &bad)))
                return string_failed(e, bad, path, p->name, 0);
        }
        if (!o)
            return NULL;
    }
    return o;
}

static char *enc_string_map_map(enc *e, char *o, const mp__field *f,
                                const mp_string_map_entry *items, size_t count,
                                const mp__path *path) {
    if (!(o = open_member(e, o, f, '{')))
        return NULL;
    for (size_t i = 0; i < count; i++) {
        const mp_string_map_entry *m = &items[i];
        if (!m->value.items)
            continue;
        if (!m->name)
            return fail_at(e, MP_ERR_INVALID_ARGUMENT, path, NULL, i, "map key is a NULL pointer");
        if (!(o = put_key(e, o, m->name, path)) || !(o = need(e, o, 5)))
            return NULL;
        if (MP_IS_NULL(m->value.items)) {
            memcpy(o, "null,", 5);
            o += 5;
            continue;
        }
        *o++ = '{';
        mp__path kp = MP__PATH_KEY(path, m->name, strlen(m->name));
        if (!(o = enc_string_map_body(e, o, m->value.items, m->value.count, &kp)) ||
            !(o = close_member(e, o, '}')))
            return NULL;
    }
    return close_member(e, o, '}');
}

static char *enc_gdpr(enc *e, char *o, const mp__field *f, const mp_gdpr_purpose *items,
                      size_t count, const mp__path *path) {
    if (!(o = open_member(e, o, f, '{')))
        return NULL;
    for (size_t i = 0; i < count; i++) {
        const mp_gdpr_purpose *g = &items[i];
        if (!g->purpose)
            return fail_at(e, MP_ERR_INVALID_ARGUMENT, path, NULL, i,
                           "GDPR purpose is a NULL pointer");
        if (!(o = put_key(e, o, g->purpose, path)))
            return NULL;
        mp__path kp = MP__PATH_KEY(path, g->purpose, strlen(g->purpose));
        if (!(o = enc_object(e, o, (const mp__object *)f->sub, &g->consent, &kp)))
            return NULL;
    }
    return close_member(e, o, '}');
}

static MP__COLD char *bad_event_type(enc *e, int t, const mp__path *path) {
    return fail_at(e, t == 0 ? MP_ERR_INVALID_ARGUMENT : MP_ERR_ENUM, path, "event_type", 0,
                   t == 0 ? "event_type is not set" : "event_type is not a known event type");
}

/* {"data":{...},"event_type":"name"}, */
static char *enc_event(enc *e, char *o, const mp_event *ev, const mp__path *path) {
    int t = (int)ev->event_type;
    if (MP__UNLIKELY(t <= 0 || t >= mp__event_desc_count))
        return bad_event_type(e, t, path);
    const mp__event_desc *d = &mp__event_descs[t];
    mp__path dp = MP__PATH_KEY(path, "data", 4);
    if (!(o = need(e, o, 9)))
        return NULL;
    memcpy(o, "{\"data\":{", 9);
    o += 9;
    if (!(o = enc_fields(e, o, &mp__event_common_object, &ev->common, &dp)))
        return NULL;
    if (d->data &&
        !(o = enc_fields(e, o, d->data, (const char *)ev + MP__EVENT_UNION_OFFSET, &dp)))
        return NULL;
    /* close_with() may add a byte (an event with no data fields), then
     * ,"event_type":" (15), the name, and "}, (3). */
    if (!(o = need(e, o, 19 + (size_t)d->name.len)))
        return NULL;
    o = close_with(o, '}');
    memcpy(o, ",\"event_type\":\"", 15);
    o = put(o + 15, d->name.name, d->name.len);
    memcpy(o, "\"},", 3);
    return o + 3;
}

/* The list and map kinds, which share the {items, count} layout. Kept out
 * of enc_field so that the scalar fields, by far the most common, run in a
 * small stack frame. */
static MP__NOINLINE char *enc_container(enc *e, char *o, const mp__field *f, const void *base,
                                        const mp__path *parent) {
    const void *items = mp__load_ptr(base, f->offset + MP__LIST_ITEMS);
    size_t count = mp__load_size(base, f->offset + MP__LIST_COUNT);
    if (!items)
        return o;
    if (MP_IS_NULL(items))
        return put_null(e, o, f->key, f->key_len);
    mp__path fp = MP__PATH_KEY(parent, f->name, f->name_len);
    switch ((mp__kind)f->kind) {
    case MP__K_OBJECT_LIST: {
        const mp__object *sub = (const mp__object *)f->sub;
        if (!(o = open_member(e, o, f, '[')))
            return NULL;
        for (size_t i = 0; i < count; i++) {
            mp__path ip = MP__PATH_INDEX(&fp, i);
            if (!(o = enc_object(e, o, sub, (const char *)items + i * sub->size, &ip)))
                return NULL;
        }
        return close_member(e, o, ']');
    }
    case MP__K_STRING_LIST: {
        const char *const *s = (const char *const *)items;
        if (!(o = open_member(e, o, f, '[')))
            return NULL;
        for (size_t i = 0; i < count; i++) {
            size_t bad = 0;
            if (!s[i])
                return fail_at(e, MP_ERR_INVALID_ARGUMENT, &fp, NULL, i,
                               "list item is a NULL pointer");
            if (MP_IS_NULL(s[i])) {
                if (!(o = put_null(e, o, "", 0)))
                    return NULL;
            } else if (!(o = put_string(e, o, "", 0, s[i], ',', &bad))) {
                return string_failed(e, bad, &fp, NULL, i);
            }
        }
        return close_member(e, o, ']');
    }
    case MP__K_ATTRIBUTES:
        return enc_attributes(e, o, f, (const mp_attribute *)items, count, &fp);
    case MP__K_STRING_MAP:
        if (!(o = open_member(e, o, f, '{')) ||
            !(o = enc_string_map_body(e, o, (const mp_string_pair *)items, count, &fp)))
            return NULL;
        return close_member(e, o, '}');
    case MP__K_STRING_MAP_MAP:
        return enc_string_map_map(e, o, f, (const mp_string_map_entry *)items, count, &fp);
    case MP__K_GDPR:
        return enc_gdpr(e, o, f, (const mp_gdpr_purpose *)items, count, &fp);
    case MP__K_EVENT_LIST: {
        const mp_event *ev = (const mp_event *)items;
        if (!(o = open_member(e, o, f, '[')))
            return NULL;
        for (size_t i = 0; i < count; i++) {
            mp__path ip = MP__PATH_INDEX(&fp, i);
            if (!(o = enc_event(e, o, &ev[i], &ip)))
                return NULL;
        }
        return close_member(e, o, ']');
    }
    default:
        break;
    }
    return fail(e, MP_ERR_INVALID_ARGUMENT, &fp, "internal: unknown field kind");
}

/* Writes one field known to be set (or null). */
static char *enc_field(enc *e, char *o, const mp__field *f, const void *base,
                       const mp__path *parent) {
    const char *at = (const char *)base + f->offset;
    switch ((mp__kind)f->kind) {
    case MP__K_STRING: {
        const char *s = (const char *)mp__load_ptr(base, f->offset);
        size_t bad = 0;
        if (MP_IS_NULL(s))
            return put_null(e, o, f->key, f->key_len);
        if (!(o = put_string(e, o, f->key, f->key_len, s, ',', &bad)))
            return string_failed(e, bad, parent, f->name, 0);
        return o;
    }
    case MP__K_INT64: {
        const mp_opt_int64 *v = (const mp_opt_int64 *)(const void *)at;
        if (v->state == MP_NULLED)
            return put_null(e, o, f->key, f->key_len);
        return put_int(e, o, f->key, f->key_len, v->value);
    }
    case MP__K_DOUBLE: {
        const mp_opt_double *v = (const mp_opt_double *)(const void *)at;
        if (v->state == MP_NULLED)
            return put_null(e, o, f->key, f->key_len);
        if (!(o = put_double(e, o, f->key, f->key_len, v->value)))
            return not_finite(e, parent, f->name, 0);
        return o;
    }
    case MP__K_BOOL: {
        const mp_opt_bool *v = (const mp_opt_bool *)(const void *)at;
        if (v->state == MP_NULLED)
            return put_null(e, o, f->key, f->key_len);
        return put_bool(e, o, f->key, f->key_len, v->value);
    }
    case MP__K_ENUM: {
        int v = mp__load_enum(base, f->offset);
        const mp__enum *en = (const mp__enum *)f->sub;
        if (MP__UNLIKELY(v < 0 || v >= en->count))
            return fail_enum(e, f, v, parent);
        const mp__enum_name *nm = &en->names[v];
        if (!(o = need(e, o, (size_t)f->key_len + nm->len + 3)))
            return NULL;
        o = put(o, f->key, f->key_len);
        *o++ = '"';
        o = put(o, nm->name, nm->len);
        o[0] = '"';
        o[1] = ',';
        return o + 2;
    }
    case MP__K_OBJECT: {
        const void *p = mp__load_ptr(base, f->offset);
        if (MP_IS_NULL(p))
            return put_null(e, o, f->key, f->key_len);
        mp__path fp = MP__PATH_KEY(parent, f->name, f->name_len);
        if (!(o = need(e, o, f->key_len)))
            return NULL;
        o = put(o, f->key, f->key_len);
        return enc_object(e, o, (const mp__object *)f->sub, p, &fp);
    }
    case MP__K_VALUE:
        return enc_value(e, o, f->key, f->key_len, (const mp_value *)(const void *)at, parent,
                         f->name, 0);
    default:
        return enc_container(e, o, f, base, parent);
    }
}

/* Most fields of a batch are absent, so the probe runs inline and only
 * set fields pay for a call. */
static char *enc_fields(enc *e, char *o, const mp__object *obj, const void *base,
                        const mp__path *path) {
    unsigned char padded[8];
    const unsigned char *probe = mp__probe_base(obj, base, padded);
    const mp__field *f = obj->fields, *end = f + obj->nfields;
    for (; f != end; f++) {
        if (MP__LIKELY(!mp__field_set(f, probe)))
            continue;
        if (!(o = enc_field(e, o, f, base, path)))
            return NULL;
    }
    return o;
}

static char *enc_object(enc *e, char *o, const mp__object *obj, const void *base,
                        const mp__path *path) {
    if (!(o = need(e, o, 1)))
        return NULL;
    *o++ = '{';
    if (!(o = enc_fields(e, o, obj, base, path)))
        return NULL;
    return close_member(e, o, '}');
}

/* ------------------------------------------------------------------------ */
/* Entry points                                                              */

/* Points the encoder at buf; the cursor starts at its end. Returns NULL if
 * a buffer with no memory yet cannot get some. */
static char *start(enc *e, mp_buffer *buf, mp_diag *diag, long batch_index) {
    e->b = buf;
    e->diag = diag;
    e->batch = batch_index;
    e->err = MP_OK;
    if (!buf->data && mp__buffer_grow(buf, 1) != 0) {
        e->err = MP_ERR_NOMEM;
        return NULL;
    }
    e->end = buf->data + buf->cap;
    return buf->data + buf->len;
}

/* Encodes one batch and drops the trailing ','. */
static char *enc_batch(enc *e, char *o, const mp_batch *batch) {
    if (!(o = enc_object(e, o, &mp__batch_object, batch, NULL)))
        return NULL;
    return o - 1;
}

/* Settles the buffer: its length from the cursor o, or back to `from` if
 * encoding failed (o is NULL). */
static mp_error finish(enc *e, size_t from, char *o) {
    mp_buffer *b = e->b;
    mp_error err = o ? MP_OK : e->err;
    if (err == MP_ERR_NOMEM && e->diag)
        fail(e, MP_ERR_NOMEM, NULL, "out of memory while encoding");
    b->len = o ? (size_t)(o - b->data) : from;
    if (b->data)
        b->data[b->len] = '\0';
    return err;
}

mp_error mp__encode_batch_into(const mp_batch *batch, mp_buffer *buf, mp_diag *diag,
                               long batch_index) {
    enc e;
    size_t from = buf->len;
    char *o = start(&e, buf, diag, batch_index);
    if (o)
        o = enc_batch(&e, o, batch);
    return finish(&e, from, o);
}

mp_error mp_encode_batch(const mp_batch *batch, mp_buffer *buf, mp_diag *diag) {
    if (!batch || !buf)
        return MP_ERR_INVALID_ARGUMENT;
    return mp__encode_batch_into(batch, buf, diag, 0);
}

static char *enc_batch_array(enc *e, char *o, const mp_batch *batches, size_t count) {
    if (!(o = need(e, o, 1)))
        return NULL;
    *o++ = '[';
    for (size_t i = 0; i < count; i++) {
        e->batch = (long)i;
        if (!(o = enc_batch(e, o, &batches[i])) || !(o = need(e, o, 2)))
            return NULL;
        *o++ = ',';
    }
    if (!(o = need(e, o, 1)))
        return NULL;
    return close_with(o, ']');
}

mp_error mp_encode_batches(const mp_batch *batches, size_t count, mp_buffer *buf,
                           mp_diag *diag) {
    if (!buf || (!batches && count))
        return MP_ERR_INVALID_ARGUMENT;
    enc e;
    size_t from = buf->len;
    char *o = start(&e, buf, diag, 0);
    if (o)
        o = enc_batch_array(&e, o, batches, count);
    return finish(&e, from, o);
}

mp_error mp_encode_batch_to(const mp_batch *batch, char *out, size_t cap, size_t *len,
                            mp_diag *diag) {
    if (!batch || !len || (!out && cap))
        return MP_ERR_INVALID_ARGUMENT;
    mp_buffer b;
    mp__buffer_borrow(&b, out, cap);
    enc e;
    char *o = start(&e, &b, diag, 0);
    if (o)
        o = enc_batch(&e, o, batch);
    mp_error err = finish(&e, 0, o);
    if (err == MP_OK)
        *len = b.len;
    if (!b.borrowed) {
        /* The encoder reserves worst cases, so it can move to the heap even
         * when the result fits; otherwise the heap copy only measured. */
        if (err == MP_OK && b.len < cap) {
            memcpy(out, b.data, b.len + 1);
            mp_free(b.data);
            return MP_OK;
        }
        mp_free(b.data);
        return err == MP_OK ? MP_ERR_BUFFER_TOO_SMALL : err;
    }
    return err;
}

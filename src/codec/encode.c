/*
 * The streaming JSON encoder: walks the schema tables over the caller's
 * structs and writes compact JSON straight into an mp_buffer. No DOM and no
 * allocation per field: each field reserves its worst case once, then
 * writes with plain stores.
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
    mp_diag *diag;
    long batch;
} enc;

/* Longest output of the number formatters plus a separator. */
#define NUM_MAX 40

#if defined(__GNUC__)
#  define MP__COLD __attribute__((cold, noinline))
#  define MP__NOINLINE __attribute__((noinline))
#else
#  define MP__COLD
#  define MP__NOINLINE
#endif

/* Error paths live in cold functions so that their buffers do not enlarge
 * the stack frames of the hot ones. */
static MP__COLD mp_error fail(enc *e, mp_error code, const mp__path *path, const char *what) {
    char p[MP__PATH_MAX];
    mp__diag_add(e->diag, MP_SEVERITY_ERROR, code, e->batch, mp__path_render(path, p, sizeof p),
                 "%s", what);
    return code;
}

static MP__COLD mp_error fail_enum(enc *e, const mp__field *f, int v, const mp__path *parent) {
    mp__path fp = MP__PATH_KEY(parent, f->name, f->name_len);
    char msg[96];
    snprintf(msg, sizeof msg, "%d is not a valid %s", v, ((const mp__enum *)f->sub)->type_name);
    return fail(e, MP_ERR_ENUM, &fp, msg);
}

static MP__COLD mp_error fail_utf8(enc *e, size_t bad, const mp__path *path) {
    char msg[96];
    snprintf(msg, sizeof msg, "invalid UTF-8 at byte %zu of the string", bad);
    return fail(e, MP_ERR_INVALID_UTF8, path, msg);
}

static inline void put(mp_buffer *b, const char *s, size_t n) {
    memcpy(b->data + b->len, s, n);
    b->len += n;
}

static inline void putc1(mp_buffer *b, char c) {
    b->data[b->len++] = c;
}

static inline mp_error reserve(enc *e, size_t n) {
    return mp__buffer_reserve(e->b, n) == 0 ? MP_OK : MP_ERR_NOMEM;
}

/* Replaces a trailing ',' with `close`, or appends it after an empty opener. */
static inline void close_with(mp_buffer *b, char close) {
    if (b->data[b->len - 1] == ',')
        b->data[b->len - 1] = close;
    else
        b->data[b->len++] = close;
}

/* Writes `prefix` (a pre-rendered key, may be empty) then the quoted,
 * escaped string, then ','. */
static mp_error put_string(enc *e, const char *prefix, size_t prefix_len, const char *s,
                           const mp__path *path) {
    size_t n = strlen(s);
    if (n > (SIZE_MAX - 64) / 6)
        return fail(e, MP_ERR_LIMIT, path, "string too long to encode");
    mp_error err = reserve(e, prefix_len + n * 6 + 3);
    if (err)
        return err;
    mp_buffer *b = e->b;
    put(b, prefix, prefix_len);
    putc1(b, '"');
    size_t bad;
    size_t w = mp__json_escape(b->data + b->len, s, n, &bad);
    if (w == SIZE_MAX)
        return fail_utf8(e, bad, path);
    b->len += w;
    putc1(b, '"');
    putc1(b, ',');
    return MP_OK;
}

/* A quoted, escaped object key followed by ':'. */
static mp_error put_key(enc *e, const char *name, const mp__path *path) {
    mp_error err = put_string(e, "", 0, name, path);
    if (err)
        return err;
    e->b->data[e->b->len - 1] = ':';
    return MP_OK;
}

static mp_error put_null(enc *e, const mp__field *f) {
    mp_error err = reserve(e, f->key_len + 5);
    if (err)
        return err;
    put(e->b, f->key, f->key_len);
    put(e->b, "null,", 5);
    return MP_OK;
}

static mp_error put_double(enc *e, const char *prefix, size_t prefix_len, double v,
                           const mp__path *path) {
    mp_error err = reserve(e, prefix_len + NUM_MAX);
    if (err)
        return err;
    mp_buffer *b = e->b;
    size_t n = mp__fmt_double(b->data + b->len + prefix_len, v);
    if (n == 0)
        return fail(e, MP_ERR_NOT_FINITE, path, "NaN or infinity cannot be sent as JSON");
    memcpy(b->data + b->len, prefix, prefix_len);
    b->len += prefix_len + n;
    putc1(b, ',');
    return MP_OK;
}

static mp_error put_int(enc *e, const char *prefix, size_t prefix_len, int64_t v) {
    mp_error err = reserve(e, prefix_len + NUM_MAX);
    if (err)
        return err;
    mp_buffer *b = e->b;
    put(b, prefix, prefix_len);
    b->len += mp__fmt_int64(b->data + b->len, v);
    putc1(b, ',');
    return MP_OK;
}

static mp_error put_bool(enc *e, const char *prefix, size_t prefix_len, int v) {
    mp_error err = reserve(e, prefix_len + 6);
    if (err)
        return err;
    put(e->b, prefix, prefix_len);
    if (v)
        put(e->b, "true,", 5);
    else
        put(e->b, "false,", 6);
    return MP_OK;
}

static mp_error enc_object(enc *e, const mp__object *obj, const void *base,
                           const mp__path *path);
static mp_error enc_fields(enc *e, const mp__object *obj, const void *base,
                           const mp__path *path);

/* An attribute value; `scalars_only` rejects nested lists (lists of lists
 * are not part of the API). */
static mp_error enc_value(enc *e, const char *prefix, size_t prefix_len, const mp_value *v,
                          const mp__path *path, int scalars_only) {
    switch (v->type) {
    case MP_VALUE_NULL: {
        mp_error err = reserve(e, prefix_len + 5);
        if (err)
            return err;
        put(e->b, prefix, prefix_len);
        put(e->b, "null,", 5);
        return MP_OK;
    }
    case MP_VALUE_STRING:
        if (!v->u.string)
            return fail(e, MP_ERR_INVALID_ARGUMENT, path, "string value is a NULL pointer");
        return put_string(e, prefix, prefix_len, v->u.string, path);
    case MP_VALUE_INT:
        return put_int(e, prefix, prefix_len, v->u.integer);
    case MP_VALUE_DOUBLE:
        return put_double(e, prefix, prefix_len, v->u.number, path);
    case MP_VALUE_BOOL:
        return put_bool(e, prefix, prefix_len, v->u.boolean);
    case MP_VALUE_LIST: {
        if (scalars_only)
            return fail(e, MP_ERR_TYPE, path, "a list cannot contain a list");
        if (!v->u.list.items && v->u.list.count)
            return fail(e, MP_ERR_INVALID_ARGUMENT, path, "list items is a NULL pointer");
        mp_error err = reserve(e, prefix_len + 2);
        if (err)
            return err;
        put(e->b, prefix, prefix_len);
        putc1(e->b, '[');
        for (size_t i = 0; i < v->u.list.count; i++) {
            mp__path ip = MP__PATH_INDEX(path, i);
            const mp_value *item = &v->u.list.items[i];
            if (item->type == MP_VALUE_ABSENT)
                return fail(e, MP_ERR_INVALID_ARGUMENT, &ip, "list item has no value");
            err = enc_value(e, "", 0, item, &ip, 1);
            if (err)
                return err;
        }
        if ((err = reserve(e, 2)))
            return err;
        close_with(e->b, ']');
        putc1(e->b, ',');
        return MP_OK;
    }
    case MP_VALUE_ABSENT:
        return MP_OK;
    }
    return fail(e, MP_ERR_INVALID_ARGUMENT, path, "unknown mp_value type");
}

/* Opens a member whose value is a container: writes key and opener. */
static mp_error open_member(enc *e, const mp__field *f, char opener) {
    mp_error err = reserve(e, f->key_len + 1);
    if (err)
        return err;
    put(e->b, f->key, f->key_len);
    putc1(e->b, opener);
    return MP_OK;
}

static mp_error close_member(enc *e, char closer) {
    mp_error err = reserve(e, 2);
    if (err)
        return err;
    close_with(e->b, closer);
    putc1(e->b, ',');
    return MP_OK;
}

static mp_error enc_attributes(enc *e, const mp__field *f, const mp_attribute *items,
                               size_t count, const mp__path *path) {
    mp_error err = open_member(e, f, '{');
    if (err)
        return err;
    for (size_t i = 0; i < count; i++) {
        const mp_attribute *a = &items[i];
        if (a->value.type == MP_VALUE_ABSENT)
            continue;
        if (!a->name) {
            mp__path ip = MP__PATH_INDEX(path, i);
            return fail(e, MP_ERR_INVALID_ARGUMENT, &ip, "attribute name is a NULL pointer");
        }
        mp__path kp = MP__PATH_KEY(path, a->name, strlen(a->name));
        if ((err = put_key(e, a->name, &kp)) || (err = enc_value(e, "", 0, &a->value, &kp, 0)))
            return err;
    }
    return close_member(e, '}');
}

static mp_error enc_string_map_body(enc *e, const mp_string_pair *items, size_t count,
                                    const mp__path *path) {
    mp_error err;
    for (size_t i = 0; i < count; i++) {
        const mp_string_pair *p = &items[i];
        if (!p->value)
            continue;
        if (!p->name) {
            mp__path ip = MP__PATH_INDEX(path, i);
            return fail(e, MP_ERR_INVALID_ARGUMENT, &ip, "map key is a NULL pointer");
        }
        mp__path kp = MP__PATH_KEY(path, p->name, strlen(p->name));
        if ((err = put_key(e, p->name, &kp)))
            return err;
        if (MP_IS_NULL(p->value)) {
            if ((err = reserve(e, 5)))
                return err;
            put(e->b, "null,", 5);
        } else if ((err = put_string(e, "", 0, p->value, &kp))) {
            return err;
        }
    }
    return MP_OK;
}

static mp_error enc_string_map_map(enc *e, const mp__field *f, const mp_string_map_entry *items,
                                   size_t count, const mp__path *path) {
    mp_error err = open_member(e, f, '{');
    if (err)
        return err;
    for (size_t i = 0; i < count; i++) {
        const mp_string_map_entry *m = &items[i];
        if (!m->value.items)
            continue;
        if (!m->name) {
            mp__path ip = MP__PATH_INDEX(path, i);
            return fail(e, MP_ERR_INVALID_ARGUMENT, &ip, "map key is a NULL pointer");
        }
        mp__path kp = MP__PATH_KEY(path, m->name, strlen(m->name));
        if ((err = put_key(e, m->name, &kp)) || (err = reserve(e, 5)))
            return err;
        if (MP_IS_NULL(m->value.items)) {
            put(e->b, "null,", 5);
            continue;
        }
        putc1(e->b, '{');
        if ((err = enc_string_map_body(e, m->value.items, m->value.count, &kp)) ||
            (err = reserve(e, 2)))
            return err;
        close_with(e->b, '}');
        putc1(e->b, ',');
    }
    return close_member(e, '}');
}

static mp_error enc_gdpr(enc *e, const mp__field *f, const mp_gdpr_purpose *items, size_t count,
                         const mp__path *path) {
    mp_error err = open_member(e, f, '{');
    if (err)
        return err;
    for (size_t i = 0; i < count; i++) {
        const mp_gdpr_purpose *g = &items[i];
        if (!g->purpose) {
            mp__path ip = MP__PATH_INDEX(path, i);
            return fail(e, MP_ERR_INVALID_ARGUMENT, &ip, "GDPR purpose is a NULL pointer");
        }
        mp__path kp = MP__PATH_KEY(path, g->purpose, strlen(g->purpose));
        if ((err = put_key(e, g->purpose, &kp)) ||
            (err = enc_object(e, (const mp__object *)f->sub, &g->consent, &kp)))
            return err;
    }
    return close_member(e, '}');
}

static mp_error enc_event(enc *e, const mp_event *ev, const mp__path *path) {
    int t = (int)ev->event_type;
    if (t <= 0 || t >= mp__event_desc_count) {
        mp__path tp = MP__PATH_KEY(path, "event_type", 10);
        return fail(e, t == 0 ? MP_ERR_INVALID_ARGUMENT : MP_ERR_ENUM, &tp,
                    t == 0 ? "event_type is not set" : "event_type is not a known event type");
    }
    const mp__event_desc *d = &mp__event_descs[t];
    mp__path dp = MP__PATH_KEY(path, "data", 4);
    mp_error err = reserve(e, 9);
    if (err)
        return err;
    put(e->b, "{\"data\":{", 9);
    if ((err = enc_fields(e, &mp__event_common_object, &ev->common, &dp)))
        return err;
    if (d->data &&
        (err = enc_fields(e, d->data, (const char *)ev + MP__EVENT_UNION_OFFSET, &dp)))
        return err;
    if ((err = reserve(e, 18 + d->name.len)))
        return err;
    close_with(e->b, '}');
    put(e->b, ",\"event_type\":\"", 15);
    put(e->b, d->name.name, d->name.len);
    put(e->b, "\"},", 3);
    return MP_OK;
}

static mp_error enc_container(enc *e, const mp__field *f, const void *base,
                              const mp__path *parent);

/* Writes one field if it is set. */
static mp_error enc_field(enc *e, const mp__field *f, const void *base, const mp__path *parent) {
    const char *at = (const char *)base + f->offset;
    switch ((mp__kind)f->kind) {
    case MP__K_STRING: {
        const char *s = (const char *)mp__load_ptr(base, f->offset);
        if (!s)
            return MP_OK;
        if (MP_IS_NULL(s))
            return put_null(e, f);
        mp__path fp = MP__PATH_KEY(parent, f->name, f->name_len);
        return put_string(e, f->key, f->key_len, s, &fp);
    }
    case MP__K_INT64: {
        const mp_opt_int64 *v = (const mp_opt_int64 *)(const void *)at;
        if (v->state == MP_ABSENT)
            return MP_OK;
        if (v->state == MP_NULLED)
            return put_null(e, f);
        return put_int(e, f->key, f->key_len, v->value);
    }
    case MP__K_DOUBLE: {
        const mp_opt_double *v = (const mp_opt_double *)(const void *)at;
        if (v->state == MP_ABSENT)
            return MP_OK;
        if (v->state == MP_NULLED)
            return put_null(e, f);
        mp__path fp = MP__PATH_KEY(parent, f->name, f->name_len);
        return put_double(e, f->key, f->key_len, v->value, &fp);
    }
    case MP__K_BOOL: {
        const mp_opt_bool *v = (const mp_opt_bool *)(const void *)at;
        if (v->state == MP_ABSENT)
            return MP_OK;
        if (v->state == MP_NULLED)
            return put_null(e, f);
        return put_bool(e, f->key, f->key_len, v->value);
    }
    case MP__K_ENUM: {
        int v = mp__load_enum(base, f->offset);
        if (v == 0)
            return MP_OK;
        const mp__enum *en = (const mp__enum *)f->sub;
        if (v < 0 || v >= en->count)
            return fail_enum(e, f, v, parent);
        mp_error err = reserve(e, f->key_len + en->names[v].len + 3);
        if (err)
            return err;
        put(e->b, f->key, f->key_len);
        putc1(e->b, '"');
        put(e->b, en->names[v].name, en->names[v].len);
        put(e->b, "\",", 2);
        return MP_OK;
    }
    case MP__K_OBJECT: {
        const void *p = mp__load_ptr(base, f->offset);
        if (!p)
            return MP_OK;
        if (MP_IS_NULL(p))
            return put_null(e, f);
        mp__path fp = MP__PATH_KEY(parent, f->name, f->name_len);
        mp_error err = reserve(e, f->key_len);
        if (err)
            return err;
        put(e->b, f->key, f->key_len);
        return enc_object(e, (const mp__object *)f->sub, p, &fp);
    }
    default:
        return enc_container(e, f, base, parent);
    }
}

/* The list and map kinds, which share the {items, count} layout. Kept out
 * of enc_field so that the scalar fields, by far the most common, run in a
 * small stack frame. */
static MP__NOINLINE mp_error enc_container(enc *e, const mp__field *f, const void *base,
                                           const mp__path *parent) {
    const void *items = mp__load_ptr(base, f->offset + MP__LIST_ITEMS);
    size_t count = mp__load_size(base, f->offset + MP__LIST_COUNT);
    if (!items)
        return MP_OK;
    if (MP_IS_NULL(items))
        return put_null(e, f);
    mp__path fp = MP__PATH_KEY(parent, f->name, f->name_len);
    mp_error err;
    switch ((mp__kind)f->kind) {
    case MP__K_OBJECT_LIST: {
        const mp__object *sub = (const mp__object *)f->sub;
        if ((err = open_member(e, f, '[')))
            return err;
        for (size_t i = 0; i < count; i++) {
            mp__path ip = MP__PATH_INDEX(&fp, i);
            if ((err = enc_object(e, sub, (const char *)items + i * sub->size, &ip)))
                return err;
        }
        return close_member(e, ']');
    }
    case MP__K_STRING_LIST: {
        const char *const *s = (const char *const *)items;
        if ((err = open_member(e, f, '[')))
            return err;
        for (size_t i = 0; i < count; i++) {
            mp__path ip = MP__PATH_INDEX(&fp, i);
            if (!s[i])
                return fail(e, MP_ERR_INVALID_ARGUMENT, &ip, "list item is a NULL pointer");
            if (MP_IS_NULL(s[i])) {
                if ((err = reserve(e, 5)))
                    return err;
                put(e->b, "null,", 5);
            } else if ((err = put_string(e, "", 0, s[i], &ip))) {
                return err;
            }
        }
        return close_member(e, ']');
    }
    case MP__K_ATTRIBUTES:
        return enc_attributes(e, f, (const mp_attribute *)items, count, &fp);
    case MP__K_STRING_MAP:
        if ((err = open_member(e, f, '{')) ||
            (err = enc_string_map_body(e, (const mp_string_pair *)items, count, &fp)))
            return err;
        return close_member(e, '}');
    case MP__K_STRING_MAP_MAP:
        return enc_string_map_map(e, f, (const mp_string_map_entry *)items, count, &fp);
    case MP__K_GDPR:
        return enc_gdpr(e, f, (const mp_gdpr_purpose *)items, count, &fp);
    case MP__K_EVENT_LIST: {
        const mp_event *ev = (const mp_event *)items;
        if ((err = open_member(e, f, '[')))
            return err;
        for (size_t i = 0; i < count; i++) {
            mp__path ip = MP__PATH_INDEX(&fp, i);
            if ((err = enc_event(e, &ev[i], &ip)))
                return err;
        }
        return close_member(e, ']');
    }
    default:
        break;
    }
    return fail(e, MP_ERR_INVALID_ARGUMENT, &fp, "internal: unknown field kind");
}

static mp_error enc_value_field(enc *e, const mp__field *f, const void *base,
                                const mp__path *parent) {
    const mp_value *v = (const mp_value *)(const void *)((const char *)base + f->offset);
    if (v->type == MP_VALUE_ABSENT)
        return MP_OK;
    mp__path fp = MP__PATH_KEY(parent, f->name, f->name_len);
    return enc_value(e, f->key, f->key_len, v, &fp, 0);
}

/* Whether a field is set (or null), from its first member alone: the state
 * byte of optional scalars, the enum or value type, or the pointer of
 * strings, objects and lists. Most fields of a batch are absent, so this
 * check runs inline and only set fields pay for a call. */
static inline int field_set(const mp__field *f, const void *base) {
    const char *at = (const char *)base + f->offset;
    switch ((mp__kind)f->kind) {
    case MP__K_INT64:
    case MP__K_DOUBLE:
    case MP__K_BOOL:
        return *(const unsigned char *)at != MP_ABSENT;
    case MP__K_ENUM:
        return mp__load_enum(base, f->offset) != 0;
    case MP__K_VALUE:
        return ((const mp_value *)(const void *)at)->type != MP_VALUE_ABSENT;
    default:
        return mp__load_ptr(base, f->offset) != NULL;
    }
}

static mp_error enc_fields(enc *e, const mp__object *obj, const void *base,
                           const mp__path *path) {
    for (size_t i = 0; i < obj->nfields; i++) {
        const mp__field *f = &obj->fields[i];
        if (!field_set(f, base))
            continue;
        mp_error err = f->kind == MP__K_VALUE ? enc_value_field(e, f, base, path)
                                              : enc_field(e, f, base, path);
        if (err)
            return err;
    }
    return MP_OK;
}

static mp_error enc_object(enc *e, const mp__object *obj, const void *base,
                           const mp__path *path) {
    mp_error err = reserve(e, 1);
    if (err)
        return err;
    putc1(e->b, '{');
    if ((err = enc_fields(e, obj, base, path)))
        return err;
    return close_member(e, '}');
}

/* Encodes one batch and drops the trailing ','. */
static mp_error enc_batch(enc *e, const mp_batch *batch) {
    mp_error err = enc_object(e, &mp__batch_object, batch, NULL);
    if (err == MP_OK)
        e->b->len--;
    return err;
}

static mp_error finish(enc *e, size_t start, mp_error err) {
    if (err == MP_ERR_NOMEM && e->diag)
        fail(e, MP_ERR_NOMEM, NULL, "out of memory while encoding");
    if (err != MP_OK)
        e->b->len = start;
    if (e->b->data)
        e->b->data[e->b->len] = '\0';
    return err;
}

mp_error mp__encode_batch_into(const mp_batch *batch, mp_buffer *buf, mp_diag *diag,
                               long batch_index) {
    enc e = {buf, diag, batch_index};
    size_t start = buf->len;
    return finish(&e, start, enc_batch(&e, batch));
}

mp_error mp_encode_batch(const mp_batch *batch, mp_buffer *buf, mp_diag *diag) {
    if (!batch || !buf)
        return MP_ERR_INVALID_ARGUMENT;
    return mp__encode_batch_into(batch, buf, diag, 0);
}

mp_error mp_encode_batches(const mp_batch *batches, size_t count, mp_buffer *buf,
                           mp_diag *diag) {
    if (!buf || (!batches && count))
        return MP_ERR_INVALID_ARGUMENT;
    enc e = {buf, diag, 0};
    size_t start = buf->len;
    mp_error err = reserve(&e, 1);
    if (err)
        return finish(&e, start, err);
    putc1(buf, '[');
    for (size_t i = 0; i < count; i++) {
        e.batch = (long)i;
        if ((err = enc_batch(&e, &batches[i])) || (err = reserve(&e, 2)))
            return finish(&e, start, err);
        putc1(buf, ',');
    }
    if ((err = reserve(&e, 1)))
        return finish(&e, start, err);
    close_with(buf, ']');
    return finish(&e, start, MP_OK);
}

mp_error mp_encode_batch_to(const mp_batch *batch, char *out, size_t cap, size_t *len,
                            mp_diag *diag) {
    if (!batch || !len || (!out && cap))
        return MP_ERR_INVALID_ARGUMENT;
    mp_buffer b;
    mp__buffer_borrow(&b, out, cap);
    enc e = {&b, diag, 0};
    mp_error err = finish(&e, 0, enc_batch(&e, batch));
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

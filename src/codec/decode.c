/*
 * The decoder: jansson parses one batch at a time into its DOM, then a walk
 * over the schema tables maps the DOM onto the model structs. There is no
 * per-field code: the field's kind in the table says which JSON types it
 * takes and how it is stored, so a field added to schema.c is decoded with
 * no change here.
 *
 * Input: an array of batches (its brackets and commas are read here, each
 * element is handed to jansson alone, so every batch knows its line), or a
 * sequence of values: NDJSON, concatenated objects, or one pretty-printed
 * object. In a sequence, a record starts at a line that begins with '{',
 * and a syntax error spoils its record only.
 *
 * Memory: everything a document's batches point to (sub-objects, lists,
 * strings) is bump-allocated in the document's arena; strings are copied
 * out of the DOM and each batch's DOM is freed as soon as it is walked.
 * On W1 that takes a quarter of the memory of pointing into DOMs kept
 * alive until mp_document_free(), whose free alone would cost 285 ms
 * against 3 (docs/decoding-notes.md).
 *
 * Errors: the walk records a problem and carries on, so that one call
 * reports every problem of a batch; the bad value is left absent (a list
 * simply skips the element). Only running out of memory stops it: every
 * walk function returns MP_OK or MP_ERR_NOMEM and nothing else.
 *
 * Recursion: the walk descends only where the schema has a sub-object, so
 * its depth is bounded by the model (about eight levels) whatever the
 * input; deeper JSON is either rejected by jansson (2048 levels) or
 * reported as a type error by the first field that does not expect it.
 */
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "codec/arena.h"
#include "common/diag.h"
#include "common/path.h"
#include "mparticle/codec.h"
#include "schema/schema.h"

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

/* jansson's flags for every value: any JSON value (so that a batch that is
 * not an object gets a type error rather than a syntax error), one value at
 * a time (NDJSON and arrays are split here), and duplicate keys rejected so
 * that no data is dropped silently. */
#define PARSE_FLAGS (JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK | JSON_REJECT_DUPLICATES)

typedef struct dec {
    mp_document *doc;
    mp_diag *diag;
    mp_error first;   /* code of the first error, MP_OK while there is none */
    long batch;       /* index of the batch being decoded, -1 between batches */
    int batch_failed; /* the batch being decoded has an error */

    /* The input and the reading position. */
    const char *json;
    size_t len;
    size_t pos;
    size_t line;       /* 1-based line of pos */
    size_t line_start; /* offset of the first byte of that line */
    size_t limit;      /* cached next_record() result, see there */
    size_t retried;    /* bytes parsed by failed multi-line retries */
} dec;

/* ------------------------------------------------------------------------ */
/* Problems                                                                 */
/* ------------------------------------------------------------------------ */

static void note_error(dec *d, mp_error code) {
    d->batch_failed = 1;
    if (d->first == MP_OK)
        d->first = code;
}

static void problem(dec *d, mp_severity sev, mp_error code, const mp__path *path,
                    const char *fmt, ...) MP__PRINTF(5, 6);

/* Reports a problem at `path` in the current batch. Errors fail the batch. */
static void problem(dec *d, mp_severity sev, mp_error code, const mp__path *path,
                    const char *fmt, ...) {
    if (sev == MP_SEVERITY_ERROR)
        note_error(d, code);
    if (!d->diag)
        return;
    char p[MP__PATH_MAX];
    va_list ap;
    va_start(ap, fmt);
    mp__diag_vadd(d->diag, sev, code, d->batch, mp__path_render(path, p, sizeof p), 0, 0, fmt,
                  ap);
    va_end(ap);
}

static const char *json_type_name(const json_t *v) {
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a real number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        break;
    }
    return "null";
}

static void type_error(dec *d, const mp__path *path, const char *expected, const json_t *v) {
    problem(d, MP_SEVERITY_ERROR, MP_ERR_TYPE, path, "expected %s, got %s", expected,
            json_type_name(v));
}

/* Writes s[0..n) into out for a message: quotes and backslashes escaped,
 * control bytes as \u00XX, cut (at a character boundary) with "..." when
 * long, so that a hostile 100 MB value makes a one-line message. */
static void snippet(char *out, size_t cap, const char *s, size_t n) {
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

static void enum_error(dec *d, const mp__path *path, const mp__enum *e, const json_t *v) {
    if (!d->diag) {
        note_error(d, MP_ERR_ENUM);
        return;
    }
    char shown[72], names[400];
    snippet(shown, sizeof shown, json_string_value(v), json_string_length(v));
    enum_names(names, sizeof names, e);
    problem(d, MP_SEVERITY_ERROR, MP_ERR_ENUM, path,
            "\"%s\" is not a valid %s (expected one of: %s)", shown, e->type_name, names);
}

static void unknown_key(dec *d, const mp__path *parent, const char *key, size_t key_len) {
    mp__path kp = MP__PATH_KEY(parent, key, key_len);
    problem(d, MP_SEVERITY_WARNING, MP_ERR_INVALID, &kp, "unknown key ignored");
}

/* ------------------------------------------------------------------------ */
/* Allocation                                                               */
/* ------------------------------------------------------------------------ */

static void *alloc_zero(dec *d, size_t count, size_t size) {
    return mp__arena_calloc(&d->doc->arena, count, size);
}

/* The string's bytes, copied into the document. NULL when out of memory. */
static const char *copy_string(dec *d, const json_t *s) {
    return mp__arena_strndup(&d->doc->arena, json_string_value(s), json_string_length(s));
}

static const char *copy_key(dec *d, const char *key, size_t len) {
    return mp__arena_strndup(&d->doc->arena, key, len);
}

/* The null sentinel as a list's items pointer. */
#define NULL_ITEMS ((const void *)&mp_null)

static void store_list(void *base, size_t offset, const void *items, size_t count) {
    mp__store_ptr(base, offset + MP__LIST_ITEMS, items);
    mp__store_size(base, offset + MP__LIST_COUNT, count);
}

/* ------------------------------------------------------------------------ */
/* The walk                                                                 */
/* ------------------------------------------------------------------------ */

static mp_error dec_members(dec *d, const mp__object *obj, void *base, const mp__object *obj2,
                            void *base2, json_t *o, const mp__path *path);

static mp_error dec_object(dec *d, const mp__object *obj, void *base, json_t *o,
                           const mp__path *path) {
    return dec_members(d, obj, base, NULL, NULL, o, path);
}

/* An mp_value: a scalar, null, or (unless in_list) a list of those. On a
 * type error *out stays MP_VALUE_ABSENT. */
static mp_error dec_value(dec *d, mp_value *out, json_t *v, const mp__path *path, int in_list) {
    switch (json_typeof(v)) {
    case JSON_STRING: {
        const char *s = copy_string(d, v);
        if (!s)
            return MP_ERR_NOMEM;
        out->type = MP_VALUE_STRING;
        out->u.string = s;
        return MP_OK;
    }
    case JSON_INTEGER:
        out->type = MP_VALUE_INT;
        out->u.integer = (int64_t)json_integer_value(v);
        return MP_OK;
    case JSON_REAL:
        out->type = MP_VALUE_DOUBLE;
        out->u.number = json_real_value(v);
        return MP_OK;
    case JSON_TRUE:
    case JSON_FALSE:
        out->type = MP_VALUE_BOOL;
        out->u.boolean = json_is_true(v);
        return MP_OK;
    case JSON_NULL:
        out->type = MP_VALUE_NULL;
        return MP_OK;
    case JSON_ARRAY:
        if (!in_list) {
            size_t n = json_array_size(v), k = 0;
            mp_value *items = alloc_zero(d, n, sizeof *items);
            if (!items)
                return MP_ERR_NOMEM;
            for (size_t i = 0; i < n; i++) {
                mp__path ip = MP__PATH_INDEX(path, i);
                if (dec_value(d, &items[k], json_array_get(v, i), &ip, 1))
                    return MP_ERR_NOMEM;
                if (items[k].type != MP_VALUE_ABSENT)
                    k++;
            }
            out->type = MP_VALUE_LIST;
            out->u.list.items = items;
            out->u.list.count = k;
            return MP_OK;
        }
        break;
    case JSON_OBJECT:
        break;
    }
    type_error(d, path,
               in_list ? "a string, number, boolean or null"
                       : "a string, number, boolean, null or an array of them",
               v);
    return MP_OK;
}

/* An object of mp_value (custom_attributes, user_attributes, ...). */
static mp_error dec_attributes(dec *d, mp_attribute_list *out, json_t *o, const mp__path *path) {
    size_t n = json_object_size(o), k = 0;
    mp_attribute *items = alloc_zero(d, n, sizeof *items);
    if (!items)
        return MP_ERR_NOMEM;
    for (void *it = json_object_iter(o); it; it = json_object_iter_next(o, it)) {
        const char *key = json_object_iter_key(it);
        size_t key_len = json_object_iter_key_len(it);
        mp__path kp = MP__PATH_KEY(path, key, key_len);
        if (dec_value(d, &items[k].value, json_object_iter_value(it), &kp, 0))
            return MP_ERR_NOMEM;
        if (items[k].value.type == MP_VALUE_ABSENT)
            continue;
        if (!(items[k].name = copy_key(d, key, key_len)))
            return MP_ERR_NOMEM;
        k++;
    }
    out->items = items;
    out->count = k;
    return MP_OK;
}

/* An object of strings or nulls. */
static mp_error dec_string_map(dec *d, mp_string_map *out, json_t *o, const mp__path *path) {
    size_t n = json_object_size(o), k = 0;
    mp_string_pair *items = alloc_zero(d, n, sizeof *items);
    if (!items)
        return MP_ERR_NOMEM;
    for (void *it = json_object_iter(o); it; it = json_object_iter_next(o, it)) {
        const char *key = json_object_iter_key(it);
        size_t key_len = json_object_iter_key_len(it);
        json_t *v = json_object_iter_value(it);
        mp_string_pair *p = &items[k];
        if (json_is_string(v)) {
            if (!(p->value = copy_string(d, v)))
                return MP_ERR_NOMEM;
        } else if (json_is_null(v)) {
            p->value = MP_STRING_NULL;
        } else {
            mp__path kp = MP__PATH_KEY(path, key, key_len);
            type_error(d, &kp, "a string", v);
            continue;
        }
        if (!(p->name = copy_key(d, key, key_len)))
            return MP_ERR_NOMEM;
        k++;
    }
    out->items = items;
    out->count = k;
    return MP_OK;
}

/* An object of string maps or nulls (integration_attributes, ...). */
static mp_error dec_string_map_map(dec *d, mp_string_map_map *out, json_t *o,
                                   const mp__path *path) {
    size_t n = json_object_size(o), k = 0;
    mp_string_map_entry *items = alloc_zero(d, n, sizeof *items);
    if (!items)
        return MP_ERR_NOMEM;
    for (void *it = json_object_iter(o); it; it = json_object_iter_next(o, it)) {
        const char *key = json_object_iter_key(it);
        size_t key_len = json_object_iter_key_len(it);
        json_t *v = json_object_iter_value(it);
        mp_string_map_entry *e = &items[k];
        mp__path kp = MP__PATH_KEY(path, key, key_len);
        if (json_is_object(v)) {
            if (dec_string_map(d, &e->value, v, &kp))
                return MP_ERR_NOMEM;
        } else if (json_is_null(v)) {
            e->value.items = NULL_ITEMS;
        } else {
            type_error(d, &kp, "an object", v);
            continue;
        }
        if (!(e->name = copy_key(d, key, key_len)))
            return MP_ERR_NOMEM;
        k++;
    }
    out->items = items;
    out->count = k;
    return MP_OK;
}

/* consent_state.gdpr: purpose -> consent object. A purpose has no null
 * state in the model, so null is a type error like any other non-object. */
static mp_error dec_gdpr(dec *d, mp_gdpr_purpose_list *out, const mp__object *consent,
                         json_t *o, const mp__path *path) {
    size_t n = json_object_size(o), k = 0;
    mp_gdpr_purpose *items = alloc_zero(d, n, sizeof *items);
    if (!items)
        return MP_ERR_NOMEM;
    for (void *it = json_object_iter(o); it; it = json_object_iter_next(o, it)) {
        const char *key = json_object_iter_key(it);
        size_t key_len = json_object_iter_key_len(it);
        json_t *v = json_object_iter_value(it);
        mp__path kp = MP__PATH_KEY(path, key, key_len);
        if (!json_is_object(v)) {
            type_error(d, &kp, "an object", v);
            continue;
        }
        mp_gdpr_purpose *g = &items[k];
        if (!(g->purpose = copy_key(d, key, key_len)) || dec_object(d, consent, &g->consent, v, &kp))
            return MP_ERR_NOMEM;
        k++;
    }
    out->items = items;
    out->count = k;
    return MP_OK;
}

/* One {"data": {...}, "event_type": "..."} envelope into *ev. Sets *kept
 * when the event has a known type; otherwise nothing is written and the
 * caller leaves the slot for the next event. */
static mp_error dec_event(dec *d, mp_event *ev, json_t *env, const mp__path *path, int *kept) {
    *kept = 0;
    if (!json_is_object(env)) {
        type_error(d, path, "an object", env);
        return MP_OK;
    }
    json_t *type = NULL, *data = NULL;
    for (void *it = json_object_iter(env); it; it = json_object_iter_next(env, it)) {
        const char *key = json_object_iter_key(it);
        size_t key_len = json_object_iter_key_len(it);
        if (key_len == 10 && memcmp(key, "event_type", 10) == 0)
            type = json_object_iter_value(it);
        else if (key_len == 4 && memcmp(key, "data", 4) == 0)
            data = json_object_iter_value(it);
        else
            unknown_key(d, path, key, key_len);
    }
    if (!type) {
        problem(d, MP_SEVERITY_ERROR, MP_ERR_INVALID, path, "event has no event_type");
        return MP_OK;
    }
    mp__path tp = MP__PATH_KEY(path, "event_type", 10);
    if (!json_is_string(type)) {
        type_error(d, &tp, "a string", type);
        return MP_OK;
    }
    int t = mp__event_type_find(json_string_value(type), json_string_length(type));
    if (t == 0) {
        char shown[72];
        snippet(shown, sizeof shown, json_string_value(type), json_string_length(type));
        problem(d, MP_SEVERITY_ERROR, MP_ERR_ENUM, &tp, "unknown event_type \"%s\"", shown);
        return MP_OK;
    }
    ev->event_type = (mp_event_type)t;
    *kept = 1;
    if (!data)
        return MP_OK;
    mp__path dp = MP__PATH_KEY(path, "data", 4);
    if (!json_is_object(data)) {
        type_error(d, &dp, "an object", data);
        return MP_OK;
    }
    /* Common fields first, then the type's own (offsets relative to the
     * union). */
    return dec_members(d, &mp__event_common_object, &ev->common, mp__event_descs[t].data,
                       (char *)ev + MP__EVENT_UNION_OFFSET, data, &dp);
}

static mp_error dec_events(dec *d, mp_event_list *out, json_t *a, const mp__path *path) {
    size_t n = json_array_size(a), k = 0;
    mp_event *items = alloc_zero(d, n, sizeof *items);
    if (!items)
        return MP_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        mp__path ip = MP__PATH_INDEX(path, i);
        int kept;
        if (dec_event(d, &items[k], json_array_get(a, i), &ip, &kept))
            return MP_ERR_NOMEM;
        k += (size_t)kept;
    }
    out->items = items;
    out->count = k;
    return MP_OK;
}

static mp_error dec_object_list(dec *d, const mp__object *sub, void *base, size_t offset,
                                json_t *a, const mp__path *path) {
    size_t n = json_array_size(a), k = 0;
    char *items = alloc_zero(d, n, sub->size);
    if (!items)
        return MP_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(a, i);
        mp__path ip = MP__PATH_INDEX(path, i);
        if (!json_is_object(v)) {
            type_error(d, &ip, "an object", v);
            continue;
        }
        if (dec_object(d, sub, items + k * sub->size, v, &ip))
            return MP_ERR_NOMEM;
        k++;
    }
    store_list(base, offset, items, k);
    return MP_OK;
}

static mp_error dec_string_list(dec *d, mp_string_list *out, json_t *a, const mp__path *path) {
    size_t n = json_array_size(a), k = 0;
    const char **items = alloc_zero(d, n, sizeof *items);
    if (!items)
        return MP_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(a, i);
        if (json_is_string(v)) {
            if (!(items[k] = copy_string(d, v)))
                return MP_ERR_NOMEM;
        } else if (json_is_null(v)) {
            items[k] = MP_STRING_NULL;
        } else {
            mp__path ip = MP__PATH_INDEX(path, i);
            type_error(d, &ip, "a string", v);
            continue;
        }
        k++;
    }
    out->items = items;
    out->count = k;
    return MP_OK;
}

/* A real number where an integer belongs. Integers beyond int64 arrive as
 * reals (see parse_fixed), and are a range error, not a type error; "-0"
 * arrives as -0.0 and is the integer 0. Other reals, 1.0 included, are
 * type errors: an integer field takes integers only. */
static void real_for_integer(dec *d, mp_opt_int64 *o, double x, const mp__path *path) {
    if (x == 0 && signbit(x))
        *o = MP_INT(0);
    else if (x == floor(x) && (x >= 0x1p63 || x < -0x1p63))
        problem(d, MP_SEVERITY_ERROR, MP_ERR_RANGE, path, "integer does not fit in int64");
    else
        problem(d, MP_SEVERITY_ERROR, MP_ERR_TYPE, path, "expected an integer, got a real number");
}

/* Fields whose JSON is a scalar. */
static mp_error dec_scalar(dec *d, const mp__field *f, void *base, json_t *v,
                           const mp__path *path) {
    char *at = (char *)base + f->offset;
    json_type t = json_typeof(v);
    switch ((mp__kind)f->kind) {
    case MP__K_STRING:
        if (t == JSON_STRING) {
            const char *s = copy_string(d, v);
            if (!s)
                return MP_ERR_NOMEM;
            mp__store_ptr(base, f->offset, s);
        } else if (t == JSON_NULL) {
            mp__store_ptr(base, f->offset, MP_STRING_NULL);
        } else {
            type_error(d, path, "a string", v);
        }
        return MP_OK;
    case MP__K_INT64: {
        mp_opt_int64 *o = (mp_opt_int64 *)(void *)at;
        if (t == JSON_INTEGER)
            *o = MP_INT(json_integer_value(v));
        else if (t == JSON_NULL)
            *o = MP_INT_NULL;
        else if (t == JSON_REAL)
            real_for_integer(d, o, json_real_value(v), path);
        else
            type_error(d, path, "an integer", v);
        return MP_OK;
    }
    case MP__K_DOUBLE: {
        mp_opt_double *o = (mp_opt_double *)(void *)at;
        if (t == JSON_REAL)
            *o = MP_DOUBLE(json_real_value(v));
        else if (t == JSON_INTEGER)
            *o = MP_DOUBLE(json_integer_value(v));
        else if (t == JSON_NULL)
            *o = MP_DOUBLE_NULL;
        else
            type_error(d, path, "a number", v);
        return MP_OK;
    }
    case MP__K_BOOL: {
        mp_opt_bool *o = (mp_opt_bool *)(void *)at;
        if (t == JSON_TRUE || t == JSON_FALSE)
            *o = MP_BOOL(t == JSON_TRUE);
        else if (t == JSON_NULL)
            *o = MP_BOOL_NULL;
        else
            type_error(d, path, "a boolean", v);
        return MP_OK;
    }
    case MP__K_ENUM: {
        /* An enum has no null state: null leaves it absent. */
        if (t == JSON_NULL)
            return MP_OK;
        if (t != JSON_STRING) {
            type_error(d, path, "a string", v);
            return MP_OK;
        }
        const mp__enum *e = (const mp__enum *)f->sub;
        int value = mp__enum_find(e, json_string_value(v), json_string_length(v));
        if (value == 0)
            enum_error(d, path, e, v);
        else
            mp__store_enum(base, f->offset, value);
        return MP_OK;
    }
    case MP__K_VALUE: {
        mp_value tmp = {MP_VALUE_ABSENT, {0}};
        if (dec_value(d, &tmp, v, path, 0))
            return MP_ERR_NOMEM;
        memcpy(at, &tmp, sizeof tmp);
        return MP_OK;
    }
    default:
        break;
    }
    return MP_OK;
}

/* One field of any kind. JSON null is the field's null state. */
static mp_error dec_field(dec *d, const mp__field *f, void *base, json_t *v,
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
        if (json_is_null(v)) {
            mp__store_ptr(base, f->offset, NULL_ITEMS);
            return MP_OK;
        }
        if (!json_is_object(v)) {
            type_error(d, &fp, "an object", v);
            return MP_OK;
        }
        const mp__object *sub = (const mp__object *)f->sub;
        void *p = alloc_zero(d, 1, sub->size);
        if (!p)
            return MP_ERR_NOMEM;
        mp__store_ptr(base, f->offset, p);
        return dec_object(d, sub, p, v, &fp);
    }
    default:
        break;
    }

    /* The list and map kinds: null is the sentinel items pointer. */
    if (json_is_null(v)) {
        store_list(base, f->offset, NULL_ITEMS, 0);
        return MP_OK;
    }
    void *at = (char *)base + f->offset;
    int want_array = kind == MP__K_OBJECT_LIST || kind == MP__K_STRING_LIST ||
                     kind == MP__K_EVENT_LIST;
    if (want_array ? !json_is_array(v) : !json_is_object(v)) {
        type_error(d, &fp, want_array ? "an array" : "an object", v);
        return MP_OK;
    }
    switch (kind) {
    case MP__K_OBJECT_LIST:
        return dec_object_list(d, (const mp__object *)f->sub, base, f->offset, v, &fp);
    case MP__K_STRING_LIST:
        return dec_string_list(d, (mp_string_list *)at, v, &fp);
    case MP__K_EVENT_LIST:
        return dec_events(d, (mp_event_list *)at, v, &fp);
    case MP__K_ATTRIBUTES:
        return dec_attributes(d, (mp_attribute_list *)at, v, &fp);
    case MP__K_STRING_MAP:
        return dec_string_map(d, (mp_string_map *)at, v, &fp);
    case MP__K_STRING_MAP_MAP:
        return dec_string_map_map(d, (mp_string_map_map *)at, v, &fp);
    case MP__K_GDPR:
        return dec_gdpr(d, (mp_gdpr_purpose_list *)at, (const mp__object *)f->sub, v, &fp);
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

/* The members of JSON object o into the struct at base described by obj,
 * and (for an event's data) into base2 described by obj2, the event type's
 * own fields, or NULL. Keys neither table has are warnings.
 *
 * obj2's names never occur in obj (test_decode checks it for every event
 * type), so the order of the look-ups does not change the result; the
 * smaller table is scanned first because it is cheaper to miss. */
static mp_error dec_members(dec *d, const mp__object *obj, void *base, const mp__object *obj2,
                            void *base2, json_t *o, const mp__path *path) {
    size_t hint = 0, hint2 = 0;
    int small_first = obj2 && obj2->nfields < obj->nfields;
    for (void *it = json_object_iter(o); it; it = json_object_iter_next(o, it)) {
        const char *key = json_object_iter_key(it);
        size_t key_len = json_object_iter_key_len(it);
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
            continue;
        }
        if (dec_field(d, f, fbase, json_object_iter_value(it), path))
            return MP_ERR_NOMEM;
    }
    return MP_OK;
}

/* ------------------------------------------------------------------------ */
/* The document                                                             */
/* ------------------------------------------------------------------------ */

/* Appends an empty, ok batch that starts on `line` and makes it current. */
static doc_entry *new_entry(dec *d, size_t line) {
    mp_document *doc = d->doc;
    if (doc->count == doc->cap) {
        size_t cap = doc->cap ? doc->cap * 2 : 4;
        if (cap > SIZE_MAX / sizeof(doc_entry))
            return NULL;
        doc_entry *e = doc->arena.malloc_fn(cap * sizeof *e);
        if (!e)
            return NULL;
        if (doc->count)
            memcpy(e, doc->entries, doc->count * sizeof *e);
        if (doc->entries)
            doc->arena.free_fn(doc->entries);
        doc->entries = e;
        doc->cap = cap;
    }
    doc_entry *e = &doc->entries[doc->count];
    memset(e, 0, sizeof *e);
    e->line = line > INT_MAX ? INT_MAX : (int)line;
    e->ok = 1;
    d->batch = (long)doc->count++;
    d->batch_failed = 0;
    return e;
}

/* Walks one parsed value into a new batch. Takes the reference to root. */
static mp_error add_batch(dec *d, json_t *root, size_t line) {
    doc_entry *e = new_entry(d, line);
    mp_error err = MP_ERR_NOMEM;
    if (e) {
        err = MP_OK;
        if (json_is_object(root))
            err = dec_object(d, &mp__batch_object, &e->batch, root, NULL);
        else
            problem(d, MP_SEVERITY_ERROR, MP_ERR_TYPE, NULL, "a batch must be an object, got %s",
                    json_type_name(root));
        e->ok = !d->batch_failed;
    }
    json_decref(root);
    return err;
}

/* ------------------------------------------------------------------------ */
/* Reading the input                                                        */
/* ------------------------------------------------------------------------ */

/* Moves pos forward to `to`, counting the lines passed. */
static void advance_to(dec *d, size_t to) {
    const char *p = d->json + d->pos, *end = d->json + to;
    while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        p++;
        d->line++;
        d->line_start = (size_t)(p - d->json);
    }
    d->pos = to;
}

static void skip_whitespace(dec *d) {
    while (d->pos < d->len) {
        char c = d->json[d->pos];
        if (c == '\n') {
            d->line++;
            d->line_start = d->pos + 1;
        } else if (c != ' ' && c != '\t' && c != '\r') {
            break;
        }
        d->pos++;
    }
}

/* Line and 1-based column (in characters, as jansson counts them) of byte
 * `at` of the input, at or after pos. */
static void locate(const dec *d, size_t at, size_t *line, size_t *column) {
    size_t l = d->line, ls = d->line_start;
    for (const char *p = d->json + d->pos, *end = d->json + at;
         (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++) {
        l++;
        ls = (size_t)(p - d->json) + 1;
    }
    size_t col = 1;
    for (size_t i = ls; i < at; i++)
        col += ((unsigned char)d->json[i] & 0xC0) != 0x80;
    *line = l;
    *column = col;
}

/* Records a problem with the text itself at byte `at`. */
static void text_problem(dec *d, mp_error code, size_t at, const char *fmt, ...)
    MP__PRINTF(4, 5);

static void text_problem(dec *d, mp_error code, size_t at, const char *fmt, ...) {
    note_error(d, code);
    if (!d->diag)
        return;
    size_t line, column;
    locate(d, at, &line, &column);
    va_list ap;
    va_start(ap, fmt);
    mp__diag_vadd(d->diag, MP_SEVERITY_ERROR, code, d->batch, "",
                  line > INT_MAX ? INT_MAX : (int)line, column > INT_MAX ? INT_MAX : (int)column,
                  fmt, ap);
    va_end(ap);
}

/* jansson leaves the error text empty when an allocation fails. */
static int parse_nomem(const json_error_t *e) {
    return e->text[0] == '\0' || json_error_code(e) == json_error_out_of_memory;
}

/* Where jansson's error is, as a byte of the input. jansson has read
 * e->position bytes of the value at pos: the error is in the last
 * character read (a bad token ends there), except that a byte that is not
 * UTF-8 was not counted, and "premature end" is best shown just after the
 * last thing that was there rather than after trailing newlines. */
static size_t error_at(const dec *d, const json_error_t *e) {
    size_t at = d->pos + (size_t)(e->position > 0 ? e->position : 0);
    enum json_error_code code = json_error_code(e);
    if (code == json_error_invalid_utf8)
        return at;
    if (code == json_error_premature_end_of_input) {
        while (at > d->pos && (d->json[at - 1] == ' ' || d->json[at - 1] == '\t' ||
                               d->json[at - 1] == '\r' || d->json[at - 1] == '\n'))
            at--;
        return at;
    }
    /* Back to the first byte of the last character read. */
    if (at > d->pos)
        at--;
    while (at > d->pos && ((unsigned char)d->json[at] & 0xC0) == 0x80)
        at--;
    return at;
}

/* Reports jansson's error for the value that starts at pos. Returns
 * MP_ERR_NOMEM when jansson ran out of memory, else MP_OK. */
static mp_error parse_error(dec *d, const json_error_t *e) {
    if (parse_nomem(e))
        return MP_ERR_NOMEM;
    size_t at = error_at(d, e);
    switch (json_error_code(e)) {
    case json_error_numeric_overflow:
        /* Integers are normally fixed up (parse_fixed), so this is mostly
         * a real beyond the double range, like 1e400. */
        if (strstr(e->text, "integer"))
            text_problem(d, MP_ERR_RANGE, at, "integer does not fit in int64 (%s)", e->text);
        else
            text_problem(d, MP_ERR_RANGE, at, "number does not fit in a double (%s)", e->text);
        break;
    case json_error_invalid_utf8:
        text_problem(d, MP_ERR_INVALID_UTF8, at, "invalid UTF-8 (%s)", e->text);
        break;
    case json_error_null_character:
    case json_error_null_byte_in_key:
        text_problem(d, MP_ERR_JSON_SYNTAX, at,
                     "a string contains \\u0000, which C strings cannot hold (%s)", e->text);
        break;
    case json_error_stack_overflow:
        text_problem(d, MP_ERR_LIMIT, at, "JSON nested deeper than %d levels (%s)",
                     JSON_PARSER_MAX_DEPTH, e->text);
        break;
    default:
        text_problem(d, MP_ERR_JSON_SYNTAX, at, "%s", e->text);
        break;
    }
    return MP_OK;
}

/* ------------------------------------------------------------------------ */
/* Numbers jansson cannot take as they are                                  */
/* ------------------------------------------------------------------------ */

/*
 * Two kinds of valid JSON numbers do not survive jansson: an integer token
 * beyond int64 fails the whole parse ("too big integer"), and "-0" becomes
 * the integer 0. Both are what Go, JavaScript and our own encoder write for
 * doubles: 1e20 is written "100000000000000000000" and -0.0 "-0". So such
 * tokens are rewritten as reals (".0" appended) in a copy of the value's
 * text, which is parsed instead; the walk then takes them as doubles, or
 * reports an integer field's value as out of range. This costs nothing
 * unless such a token (or, for "-0", a likely one) is there.
 */

/* If an integer token starts at s[i] (outside strings), returns its end
 * and sets *fix when it is one of the two kinds above; otherwise returns
 * the end of the number token (reals are skipped whole). */
static size_t scan_number(const char *s, size_t n, size_t i, int *fix) {
    int negative = s[i] == '-';
    size_t start = i + (size_t)negative, j = start;
    while (j < n && s[j] >= '0' && s[j] <= '9')
        j++;
    *fix = 0;
    if (j < n && (s[j] == '.' || s[j] == 'e' || s[j] == 'E')) {
        /* A real: skip its fraction and exponent so that their digits are
         * not taken for integers. */
        j++;
        if (j < n && (s[j] == '+' || s[j] == '-'))
            j++;
        while (j < n && ((s[j] >= '0' && s[j] <= '9') || s[j] == 'e' || s[j] == 'E' ||
                         s[j] == '+' || s[j] == '-'))
            j++;
        return j;
    }
    size_t digits = j - start;
    if (digits > 19 ||
        (digits == 19 &&
         memcmp(s + start, negative ? "9223372036854775808" : "9223372036854775807", 19) > 0))
        *fix = 1;
    else if (negative && digits == 1 && s[start] == '0')
        *fix = 1;
    return j;
}

/* Offsets (just past the token) of the number tokens that need ".0" in the
 * JSON value at the start of s[0..n), outside strings. Stores at most max
 * of them in at (may be NULL), sets *end to where the value ends (where
 * its brackets balance, or after a scalar; n if it never ends) and returns
 * how many there are. Stopping at the value's end keeps the work
 * proportional to the value, not to the rest of the input. */
static size_t find_fixups(const char *s, size_t n, size_t *at, size_t max, size_t *end) {
    size_t count = 0, depth = 0, i = 0;
    while (i < n) {
        char c = s[i];
        if (c == '"') {
            for (i++; i < n && s[i] != '"'; i++)
                if (s[i] == '\\')
                    i++;
            i++;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            int fix;
            i = scan_number(s, n, i, &fix);
            if (fix) {
                if (at && count < max)
                    at[count] = i;
                count++;
            }
        } else {
            i++;
            if (c == '{' || c == '[')
                depth++;
            else if ((c == '}' || c == ']') && depth > 0)
                depth--;
        }
        if (depth == 0)
            break;
    }
    *end = i < n ? i : n;
    return count;
}

/* Whether s[0..n) may hold a "-0" token: a cheap filter (the exact scan
 * decides) that skips the '-' of dates, UUIDs and names in strings. */
static int may_have_minus_zero(const char *s, size_t n) {
    for (const char *p = s, *end = s + n; (p = memchr(p, '-', (size_t)(end - p))) != NULL; p++) {
        if (end - p < 2 || p[1] != '0' || p == s)
            continue;
        char next = end - p > 2 ? p[2] : ' ';
        if ((next >= '0' && next <= '9') || next == '.' || next == 'e' || next == 'E')
            continue;
        char prev = p[-1];
        if (prev == ':' || prev == ',' || prev == '[' || prev == ' ' || prev == '\n' ||
            prev == '\t' || prev == '\r')
            return 1;
    }
    return 0;
}

/* Parses the value at pos (within n bytes) with the tokens of
 * find_fixups() made reals. On return e is as if jansson had read the
 * original text: positions are mapped back. Sets *fixed to 0 and returns
 * NULL with *e untouched when there is nothing to fix; e->text is empty
 * when out of memory. */
static json_t *parse_fixed(dec *d, size_t n, json_error_t *e, int *fixed) {
    const char *s = d->json + d->pos;
    size_t end;
    size_t count = find_fixups(s, n, NULL, 0, &end);
    *fixed = 0;
    if (count == 0 || count > (INT_MAX - end) / 2)
        return NULL;
    *fixed = 1;
    mp__arena *a = &d->doc->arena;
    size_t *at = a->malloc_fn(count * sizeof *at);
    char *copy = a->malloc_fn(end + 2 * count);
    json_t *v = NULL;
    if (!at || !copy) {
        e->text[0] = '\0';
        goto done;
    }
    find_fixups(s, end, at, count, &end);
    size_t from = 0, o = 0;
    for (size_t k = 0; k < count; k++) {
        memcpy(copy + o, s + from, at[k] - from);
        o += at[k] - from;
        memcpy(copy + o, ".0", 2);
        o += 2;
        from = at[k];
    }
    memcpy(copy + o, s + from, end - from);
    v = json_loadb(copy, end + 2 * count, PARSE_FLAGS, e);
    /* Map the position in the copy back: every ".0" before it added 2. */
    size_t p = (size_t)(e->position > 0 ? e->position : 0), k = 0;
    while (k < count && at[k] + 2 * k + 2 <= p)
        k++;
    if (k < count && p > at[k] + 2 * k)
        e->position = (int)at[k]; /* inside a ".0": the token's end */
    else
        e->position = (int)(p - 2 * k);
done:
    if (at)
        a->free_fn(at);
    if (copy)
        a->free_fn(copy);
    return v;
}

/* Parses the value at pos, giving jansson at most limit - pos bytes
 * (jansson counts positions in an int). */
static json_t *parse_value(dec *d, size_t limit, json_error_t *e) {
    size_t n = limit - d->pos;
    if (n > INT_MAX)
        n = INT_MAX;
    int fixed;
    json_t *v = json_loadb(d->json + d->pos, n, PARSE_FLAGS, e);
    if (v) {
        /* Parsed; parse again only if it may hold "-0" (rare). */
        size_t used = (size_t)e->position;
        if (!may_have_minus_zero(d->json + d->pos, used))
            return v;
        json_error_t e2;
        json_t *v2 = parse_fixed(d, used, &e2, &fixed);
        if (!fixed)
            return v;
        json_decref(v);
        *e = e2;
        return v2;
    }
    if (json_error_code(e) == json_error_numeric_overflow && strstr(e->text, "integer"))
        v = parse_fixed(d, n, e, &fixed);
    return v;
}

/* The offset of the next record after pos: the first line after pos's
 * that begins with '{' (NDJSON lines do; lines inside a pretty-printed
 * object are indented or start with a key or a closing bracket), or len.
 * Cached: positions before the cached result share it, so a long line of
 * concatenated objects is scanned once, not once per object. */
static size_t next_record(dec *d) {
    if (d->limit > d->pos)
        return d->limit;
    const char *p = d->json + d->pos, *end = d->json + d->len;
    d->limit = d->len;
    while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        p++;
        if (p < end && *p == '{') {
            d->limit = (size_t)(p - d->json);
            break;
        }
    }
    return d->limit;
}

/* The value at pos ran into the next record without ending. It may be one
 * value spread over lines whose nested objects start in column 1 (JSON
 * pretty-printed without indentation), so parse again without the bound.
 * If that fails too, its error replaces the bounded one only when it lies
 * beyond the next record's first byte; failing right there means the
 * record itself was cut short (a truncated NDJSON line), which the bounded
 * error ("premature end of input") says better. Failed retries may re-read
 * at most the input's length in total, so hostile input cannot make
 * decoding quadratic. */
static json_t *parse_multiline(dec *d, size_t limit, json_error_t *e) {
    if (d->retried > d->len)
        return NULL;
    json_error_t e2;
    json_t *v = parse_value(d, d->len, &e2);
    if (v || parse_nomem(&e2) || (size_t)e2.position > limit - d->pos + 1)
        *e = e2;
    if (!v)
        d->retried += (size_t)e2.position;
    return v;
}

/* A value jansson rejected becomes a failed batch of its own. */
static mp_error add_broken(dec *d, const json_error_t *e, size_t line) {
    if (parse_nomem(e))
        return MP_ERR_NOMEM;
    doc_entry *entry = new_entry(d, line);
    if (!entry)
        return MP_ERR_NOMEM;
    entry->ok = 0;
    return parse_error(d, e);
}

/* After a batch: the rest of its line must be blank or hold the next
 * object (concatenated objects). Anything else spoils the line, and so the
 * batch on it; reading resumes on the next line. */
static void check_rest_of_line(dec *d) {
    while (d->pos < d->len &&
           (d->json[d->pos] == ' ' || d->json[d->pos] == '\t' || d->json[d->pos] == '\r'))
        d->pos++;
    if (d->pos >= d->len || d->json[d->pos] == '\n' || d->json[d->pos] == '{')
        return;
    char shown[32];
    const char *eol = memchr(d->json + d->pos, '\n', d->len - d->pos);
    size_t end = eol ? (size_t)(eol - d->json) : d->len;
    snippet(shown, sizeof shown, d->json + d->pos, end - d->pos);
    text_problem(d, MP_ERR_JSON_SYNTAX, d->pos, "unexpected text after the batch near '%s'",
                 shown);
    d->doc->entries[d->batch].ok = 0;
    advance_to(d, end);
}

/* NDJSON or concatenated objects (a single batch is the case of one):
 * every value is a batch. A syntax error spoils its record only: the
 * record becomes a failed batch and reading resumes at the next record. */
static mp_error decode_sequence(dec *d) {
    for (;;) {
        skip_whitespace(d);
        if (d->pos >= d->len)
            return MP_OK;
        size_t line = d->line;
        size_t limit = next_record(d);
        json_error_t e;
        json_t *v = parse_value(d, limit, &e);
        if (!v && limit < d->len && json_error_code(&e) == json_error_premature_end_of_input)
            v = parse_multiline(d, limit, &e);
        if (!v) {
            if (add_broken(d, &e, line))
                return MP_ERR_NOMEM;
            advance_to(d, limit);
            continue;
        }
        advance_to(d, d->pos + (size_t)e.position);
        if (add_batch(d, v, line))
            return MP_ERR_NOMEM;
        check_rest_of_line(d);
        d->batch = -1;
    }
}

/* After the closing ']': only whitespace may follow. */
static void check_end(dec *d) {
    skip_whitespace(d);
    if (d->pos < d->len) {
        char shown[32];
        snippet(shown, sizeof shown, d->json + d->pos, d->len - d->pos);
        text_problem(d, MP_ERR_JSON_SYNTAX, d->pos, "unexpected text after the array near '%s'",
                     shown);
    }
}

/* A JSON array of batches. Any syntax error ends decoding: inside one
 * array there is no line structure to resume at. */
static mp_error decode_array(dec *d) {
    d->pos++; /* '[' */
    skip_whitespace(d);
    if (d->pos < d->len && d->json[d->pos] == ']') {
        d->pos++;
        check_end(d);
        return MP_OK;
    }
    for (;;) {
        skip_whitespace(d);
        if (d->pos >= d->len)
            break;
        size_t line = d->line;
        json_error_t e;
        json_t *v = parse_value(d, d->len, &e);
        if (!v)
            return add_broken(d, &e, line);
        advance_to(d, d->pos + (size_t)e.position);
        if (add_batch(d, v, line))
            return MP_ERR_NOMEM;
        d->batch = -1;
        skip_whitespace(d);
        if (d->pos >= d->len)
            break;
        char c = d->json[d->pos];
        if (c == ']') {
            d->pos++;
            check_end(d);
            return MP_OK;
        }
        if (c != ',') {
            char shown[32];
            snippet(shown, sizeof shown, d->json + d->pos, d->len - d->pos);
            text_problem(d, MP_ERR_JSON_SYNTAX, d->pos, "',' or ']' expected near '%s'", shown);
            return MP_OK;
        }
        d->pos++;
    }
    d->batch = -1;
    text_problem(d, MP_ERR_JSON_SYNTAX, d->pos,
                 "premature end of input: the array of batches is not closed");
    return MP_OK;
}

static mp_error decode_input(dec *d) {
    /* A UTF-8 byte order mark is not JSON, but editors write it. */
    if (d->len >= 3 && memcmp(d->json, "\xEF\xBB\xBF", 3) == 0)
        d->pos = d->line_start = 3;
    skip_whitespace(d);
    if (d->pos < d->len && d->json[d->pos] == '[')
        return decode_array(d);
    return decode_sequence(d);
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

    /* The document takes its memory where jansson does, so an application
     * that routes jansson's allocations (json_set_alloc_funcs) routes
     * these too. Read once: freeing must use the same functions. */
    json_malloc_t malloc_fn;
    json_free_t free_fn;
    json_get_alloc_funcs(&malloc_fn, &free_fn);
    mp_document *doc = malloc_fn(sizeof *doc);
    if (!doc) {
        mp__diag_add(diag, MP_SEVERITY_ERROR, MP_ERR_NOMEM, -1, "", "out of memory while decoding");
        return MP_ERR_NOMEM;
    }
    doc->entries = NULL;
    doc->count = doc->cap = 0;
    mp__arena_init(&doc->arena, malloc_fn, free_fn);

    dec d = {0};
    d.doc = doc;
    d.diag = diag;
    d.batch = -1;
    d.json = json ? json : "";
    d.len = len;
    d.line = 1;
    if (decode_input(&d) != MP_OK) {
        mp_document_free(doc);
        mp__diag_add(diag, MP_SEVERITY_ERROR, MP_ERR_NOMEM, -1, "", "out of memory while decoding");
        return MP_ERR_NOMEM;
    }
    *out = doc;
    return d.first;
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

/*
 * mp_validate_batch(): checks a batch against the Events API's rules
 * (docs/api-notes.md §2, §4 and §5) and reports every problem, each with its
 * JSON path, instead of stopping at the first.
 *
 * One walk over the schema tables does all the per-field work (required
 * fields, enums, UTF-8, lengths, formats, attribute limits, duplicate keys,
 * output-only and non-schema keys); rules that span fields (commerce
 * variants, timestamps, identities, the serialized size) run on top of it.
 *
 * Cost: nothing is allocated per field and paths are rendered only when a
 * problem is reported. The 128 KB size rule needs the serialized length;
 * rather than encoding every batch, the walk adds up an upper bound of the
 * encoder's output (every string counted as if each byte became a 6-byte
 * \u00XX escape, every field, entry, item and object as BOUND_SLACK bytes,
 * which is more than any key, number, enum name or punctuation it brings).
 * Only when that bound passes the limit is the batch encoded, once, into a
 * scratch buffer freed before returning. Typical batches are far under
 * the bound, so validating them allocates nothing at all.
 */
#ifndef _POSIX_C_SOURCE
#  define _POSIX_C_SOURCE 200809L /* inet_pton, clock_gettime */
#endif

#include <arpa/inet.h>
#include <sys/socket.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "codec/buffer.h"
#include "codec/encode_internal.h"
#include "codec/json_primitives.h"
#include "common/diag.h"
#include "common/path.h"
#include "schema/schema.h"

/* Bytes the encoder writes per field (besides its key), map entry, list
 * item, object or event, besides the characters of its strings: a number
 * (<= MP__FMT_DOUBLE_MAX), an enum name (<= 28 in the tables), `null`,
 * quotes, brackets and commas. The envelope of an event is 9 + 15 + 28 + 3
 * bytes. */
#define BOUND_SLACK 64u
_Static_assert(MP__FMT_DOUBLE_MAX + 4 <= BOUND_SLACK && MP__FMT_INT64_MAX + 4 <= BOUND_SLACK,
               "BOUND_SLACK must cover a number, its separators and a null");

/* Events older than this on /v2/events and /v2/bulkevents belong on the
 * historical endpoint (docs/api-notes.md §2.4). */
#define MAX_LIVE_AGE_MS (30LL * 24 * 3600 * 1000)

/* Event timestamps below this (1973-03-03 in ms, but year 5138 in seconds)
 * were almost certainly written in seconds (docs/api-notes.md D-1, docs/api-notes.md §2.3). */
#define MIN_PLAUSIBLE_MS 100000000000LL

/* Maps up to this many entries are checked for duplicate keys pairwise;
 * bigger ones through a hash table. */
#define DUP_PAIRWISE_MAX 16
/* Slots of the hash table that lives in the validator's stack frame; maps
 * that need more (over DUP_STACK_SLOTS / 2 entries) use a heap table,
 * allocated at most once per call. */
#define DUP_STACK_SLOTS 256

typedef struct val {
    mp_diag *diag;
    long batch;
    const mp_validate_options *opts;
    size_t errors;
    int nomem;
    /* An error that mp_encode_batch() would also stop at (invalid UTF-8, a
     * NaN, an unknown enum, a NULL pointer, a nested list): the size check
     * is skipped because the batch cannot be serialized at all. */
    int unencodable;
    /* Upper bound of the serialized size, saturating. */
    size_t size_bound;
    /* The event being walked (0 outside events), for rules that depend on
     * the event type. */
    int event_type;
    int have_now;
    int64_t now_ms;
    /* Duplicate-key detection tables: entry index + 1, 0 = empty slot. */
    uint32_t dup_stack[DUP_STACK_SLOTS];
    uint32_t *dup_heap;
    size_t dup_heap_slots;
} val;

/* Limits that apply to one attribute map, derived from the field's flags. */
typedef struct attr_rules {
    size_t max_entries;     /* 0 = no limit */
    size_t max_name_chars;  /* 0 = no limit */
    size_t max_value_chars; /* string values; 0 = no limit */
    size_t max_list_items;  /* 0 = no limit */
    size_t max_item_chars;  /* string items of a list; 0 = no limit */
    int lists_allowed;
    int strings_only;
    int sdk_values; /* SDK examples send what the schema refuses (MP__F_SDK_VALUES) */
    int warn_empty_name;
} attr_rules;

/* ------------------------------------------------------------------------ */
/* Reporting                                                                */
/* ------------------------------------------------------------------------ */

static void vreport(val *v, mp_severity sev, mp_error code, const mp__path *path,
                    const char *fmt, va_list ap) MP__PRINTF(5, 0);

static void vreport(val *v, mp_severity sev, mp_error code, const mp__path *path,
                    const char *fmt, va_list ap) {
    if (sev == MP_SEVERITY_ERROR)
        v->errors++;
    if (!mp__diag_wants(v->diag, sev))
        return;
    char p[MP__PATH_MAX];
    mp__diag_vadd(v->diag, sev, code, v->batch, mp__path_render(path, p, sizeof p), 0, 0, fmt,
                  ap);
}

static void error_at(val *v, mp_error code, const mp__path *path, const char *fmt, ...)
    MP__PRINTF(4, 5);
static void error_at(val *v, mp_error code, const mp__path *path, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vreport(v, MP_SEVERITY_ERROR, code, path, fmt, ap);
    va_end(ap);
}

/* An error that also makes the batch impossible to serialize. */
static void unencodable_at(val *v, mp_error code, const mp__path *path, const char *fmt, ...)
    MP__PRINTF(4, 5);
static void unencodable_at(val *v, mp_error code, const mp__path *path, const char *fmt, ...) {
    v->unencodable = 1;
    va_list ap;
    va_start(ap, fmt);
    vreport(v, MP_SEVERITY_ERROR, code, path, fmt, ap);
    va_end(ap);
}

static int is_strict(const val *v) {
    return v->opts && v->opts->strict;
}

/*
 * A rule of the JSON Schema that mParticle's own SDKs or docs contradict,
 * with nothing documenting that the API enforces it (docs/api-notes.md D-5, D-15).
 * Strict validation keeps the schema's reading (an error, `strict_msg`);
 * otherwise it is a warning that names the sources (`lenient_msg`), so that
 * what the official SDKs send is not refused.
 */
static void disputed_at(val *v, mp_error code, const mp__path *path, const char *strict_msg,
                        const char *lenient_msg);

static void warning_at(val *v, mp_error code, const mp__path *path, const char *fmt, ...)
    MP__PRINTF(4, 5);
static void warning_at(val *v, mp_error code, const mp__path *path, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vreport(v, MP_SEVERITY_WARNING, code, path, fmt, ap);
    va_end(ap);
}

static void disputed_at(val *v, mp_error code, const mp__path *path, const char *strict_msg,
                        const char *lenient_msg) {
    if (is_strict(v))
        error_at(v, code, path, "%s", strict_msg);
    else
        warning_at(v, code, path, "%s; --strict (mp_validate_options.strict) rejects it",
                   lenient_msg);
}


static void bound_add(val *v, size_t n) {
    v->size_bound = (n > SIZE_MAX - v->size_bound) ? SIZE_MAX : v->size_bound + n;
}

/* ------------------------------------------------------------------------ */
/* Strings                                                                  */
/* ------------------------------------------------------------------------ */

/* Checks that s is valid UTF-8 and returns its length in bytes, or
 * SIZE_MAX after reporting it. `what` prefixes the message ("name " for
 * keys, "" for values). Every string the encoder writes passes through
 * here, which is what makes size_bound an upper bound. */
static size_t check_utf8(val *v, const char *s, const mp__path *path, const char *what) {
    size_t n = strlen(s);
    bound_add(v, n > SIZE_MAX / 6 ? SIZE_MAX : n * 6 + BOUND_SLACK);
    size_t bad;
    if (!mp__utf8_valid(s, n, &bad)) {
        unencodable_at(v, MP_ERR_INVALID_UTF8, path, "%sis not valid UTF-8 (bad byte at offset %zu)",
                       what, bad);
        return SIZE_MAX;
    }
    return n;
}

/* Reports valid UTF-8 s[0..n) if it has more than `limit` code points (0 =
 * no limit). Limits count characters, not bytes; as no code point is
 * shorter than a byte, only strings of more than `limit` bytes are counted. */
static void check_chars(val *v, const char *s, size_t n, size_t limit, const mp__path *path,
                        const char *what) {
    if (!limit || n <= limit)
        return;
    size_t chars = mp__utf8_length(s, n);
    if (chars > limit)
        error_at(v, MP_ERR_LIMIT, path, "%sis %zu characters; the limit is %zu", what, chars,
                 limit);
}

/* The JSON Schema's Uuid pattern: 8-4-4-4-12 hex digits, either case. */
static int is_uuid(const char *s) {
    for (size_t i = 0; i < 36; i++) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return 0;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
            return 0; /* also stops at the NUL of a short string */
        }
    }
    return s[36] == '\0';
}

static int is_ip_address(const char *s) {
    unsigned char addr[16];
    return inet_pton(AF_INET, s, addr) == 1 || inet_pton(AF_INET6, s, addr) == 1;
}

/* A present string field: UTF-8, length limit, UUID and IP formats. */
static void check_string_field(val *v, const mp__field *f, const char *s, const mp__path *path) {
    size_t n = check_utf8(v, s, path, "");
    if (n == SIZE_MAX)
        return;
    check_chars(v, s, n, f->max_chars, path, "");
    if ((f->flags & MP__F_UUID) && !is_uuid(s))
        error_at(v, MP_ERR_INVALID, path, "is not a UUID (8-4-4-4-12 hex digits)");
    if ((f->flags & MP__F_IP) && !is_ip_address(s))
        error_at(v, MP_ERR_INVALID, path, "is not an IPv4 or IPv6 address");
}

/* Entry i of the map at `map_path`: its key must be a non-NULL, valid UTF-8
 * string within the name limit of `r` (if any). Returns the path that
 * problems of the entry's value should name: `map["key"]`, or `map[i]` when
 * the key cannot be shown (then it has been reported). */
static const mp__path *check_key(val *v, const char *name, const mp__path *map_path, size_t i,
                                 const attr_rules *r, const char *kind, mp__path *index_path,
                                 mp__path *key_path) {
    *index_path = (mp__path)MP__PATH_INDEX(map_path, i);
    if (!name) {
        unencodable_at(v, MP_ERR_INVALID_ARGUMENT, index_path, "%s name is a NULL pointer", kind);
        return index_path;
    }
    size_t n = check_utf8(v, name, index_path, "name ");
    if (n == SIZE_MAX)
        return index_path;
    *key_path = (mp__path)MP__PATH_KEY(map_path, name, n);
    if (r && r->warn_empty_name && n == 0)
        warning_at(v, MP_ERR_INVALID, key_path, "%s name is empty", kind);
    if (r)
        check_chars(v, name, n, r->max_name_chars, key_path, "name ");
    return key_path;
}

/* ------------------------------------------------------------------------ */
/* Duplicate keys                                                           */
/* ------------------------------------------------------------------------ */

/* Every map type in model.h has its key as a `const char *` first member;
 * `present` says whether the encoder writes entry i at all. */
typedef int (*entry_present_fn)(const void *entry);

static const char *entry_name(const void *items, size_t stride, size_t i) {
    return (const char *)mp__load_ptr((const char *)items + i * stride, 0);
}

static void report_duplicate(val *v, const void *items, size_t stride, size_t first,
                             size_t again, const mp__path *map_path) {
    const char *name = entry_name(items, stride, again);
    size_t n = strlen(name);
    mp__path ip = MP__PATH_INDEX(map_path, again);
    mp__path kp = MP__PATH_KEY(map_path, name, n);
    error_at(v, MP_ERR_INVALID, mp__utf8_valid(name, n, NULL) ? &kp : &ip,
             "duplicate key: entries %zu and %zu have the same name (a JSON object must not "
             "repeat a key)",
             first, again);
}

static uint64_t hash_name(const char *s) {
    uint64_t h = 1469598103934665603u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

/* Returns the slot table for `slots` entries (a power of two), zeroed, or
 * NULL when out of memory. */
static uint32_t *dup_table(val *v, size_t slots) {
    uint32_t *t = v->dup_stack;
    if (slots > DUP_STACK_SLOTS) {
        if (slots > v->dup_heap_slots) {
            uint32_t *p = mp__realloc(v->dup_heap, slots * sizeof *p);
            if (!p)
                return NULL;
            v->dup_heap = p;
            v->dup_heap_slots = slots;
        }
        t = v->dup_heap;
    }
    memset(t, 0, slots * sizeof *t);
    return t;
}

static void check_duplicates(val *v, const void *items, size_t stride, size_t count,
                             entry_present_fn present, const mp__path *map_path) {
    if (count < 2)
        return;
    if (count <= DUP_PAIRWISE_MAX) {
        for (size_t j = 1; j < count; j++) {
            const char *b = entry_name(items, stride, j);
            if (!b || !present((const char *)items + j * stride))
                continue;
            for (size_t i = 0; i < j; i++) {
                const char *a = entry_name(items, stride, i);
                if (a && present((const char *)items + i * stride) && strcmp(a, b) == 0) {
                    report_duplicate(v, items, stride, i, j, map_path);
                    break;
                }
            }
        }
        return;
    }
    if (count > UINT32_MAX / 4)
        return; /* cannot be a real map; its other problems are reported */
    size_t slots = 32;
    while (slots < count * 2)
        slots *= 2;
    uint32_t *table = dup_table(v, slots);
    if (!table) {
        v->nomem = 1;
        return;
    }
    for (size_t j = 0; j < count; j++) {
        const char *b = entry_name(items, stride, j);
        if (!b || !present((const char *)items + j * stride))
            continue;
        size_t s = (size_t)hash_name(b) & (slots - 1);
        for (; table[s]; s = (s + 1) & (slots - 1)) {
            size_t i = table[s] - 1;
            if (strcmp(entry_name(items, stride, i), b) == 0) {
                report_duplicate(v, items, stride, i, j, map_path);
                break;
            }
        }
        if (!table[s])
            table[s] = (uint32_t)(j + 1);
    }
}

static int attribute_present(const void *entry) {
    return ((const mp_attribute *)entry)->value.type != MP_VALUE_ABSENT;
}

static int string_pair_present(const void *entry) {
    return ((const mp_string_pair *)entry)->value != NULL;
}

static int map_entry_present(const void *entry) {
    return ((const mp_string_map_entry *)entry)->value.items != NULL;
}

static int always_present(const void *entry) {
    (void)entry;
    return 1;
}

/* ------------------------------------------------------------------------ */
/* Attribute values                                                         */
/* ------------------------------------------------------------------------ */

static attr_rules rules_for(unsigned flags) {
    attr_rules r = {0};
    r.lists_allowed = 1;
    if (flags & (MP__F_USER_ATTRIBUTES | MP__F_EVENT_ATTRIBUTES)) {
        r.max_entries = MP_MAX_ATTRIBUTES;
        r.max_name_chars = MP_MAX_ATTRIBUTE_NAME_CHARS;
        r.max_value_chars = MP_MAX_ATTRIBUTE_VALUE_CHARS;
        r.warn_empty_name = 1;
    }
    if (flags & MP__F_USER_ATTRIBUTES) {
        r.max_list_items = MP_MAX_USER_ATTRIBUTE_LIST_ITEMS;
        r.max_item_chars = MP_MAX_USER_ATTRIBUTE_LIST_ITEM_CHARS;
    }
    if (flags & MP__F_SCALARS_ONLY)
        r.lists_allowed = 0;
    if (flags & MP__F_STRINGS_ONLY)
        r.strings_only = 1;
    if (flags & MP__F_SDK_VALUES)
        r.sdk_values = 1;
    return r;
}

/* "an integer", for messages. */
static const char *value_type_name(mp_value_type t) {
    switch (t) {
    case MP_VALUE_NULL: return "null";
    case MP_VALUE_STRING: return "a string";
    case MP_VALUE_INT: return "an integer";
    case MP_VALUE_DOUBLE: return "a number";
    case MP_VALUE_BOOL: return "a boolean";
    case MP_VALUE_LIST: return "a list";
    case MP_VALUE_ABSENT: break;
    }
    return "an unknown value";
}

/* One scalar: a string within `max_chars`, a finite double. Returns 0 if
 * the type is not a scalar at all (the caller reports it). */
static int check_scalar(val *v, const mp_value *x, size_t max_chars, const mp__path *path) {
    switch (x->type) {
    case MP_VALUE_STRING: {
        if (!x->u.string) {
            unencodable_at(v, MP_ERR_INVALID_ARGUMENT, path, "string value is a NULL pointer");
            return 1;
        }
        size_t n = check_utf8(v, x->u.string, path, "");
        if (n != SIZE_MAX)
            check_chars(v, x->u.string, n, max_chars, path, "");
        return 1;
    }
    case MP_VALUE_DOUBLE:
        if (!isfinite(x->u.number))
            unencodable_at(v, MP_ERR_NOT_FINITE, path, "is NaN or infinite; JSON has no such number");
        return 1;
    case MP_VALUE_NULL:
    case MP_VALUE_INT:
    case MP_VALUE_BOOL:
        return 1;
    case MP_VALUE_ABSENT:
    case MP_VALUE_LIST:
        break;
    }
    return 0;
}

/* An attribute value or user_attribute_change new/old (not ABSENT). */
static void check_value(val *v, const mp_value *x, const attr_rules *r, const mp__path *path) {
    if (r->strings_only && x->type != MP_VALUE_STRING && r->sdk_values) {
        char strict[160], lenient[320];
        snprintf(strict, sizeof strict,
                 "is %s; only string values are allowed here (docs/api-notes.md D-4, D-5)",
                 value_type_name(x->type));
        snprintf(lenient, sizeof lenient,
                 "is %s; the official JSON Schema allows only strings here, but mParticle's "
                 "Node SDK example sends numbers and lists, and no document says the API "
                 "refuses them (docs/api-notes.md D-5)",
                 value_type_name(x->type));
        disputed_at(v, MP_ERR_TYPE, path, strict, lenient);
    } else if (r->strings_only && x->type != MP_VALUE_STRING) {
        error_at(v, MP_ERR_TYPE, path, "is %s; only string values are allowed here (docs/api-notes.md D-4, D-5)",
                 value_type_name(x->type));
    }
    if (check_scalar(v, x, r->max_value_chars, path))
        return;
    if (x->type != MP_VALUE_LIST) {
        unencodable_at(v, MP_ERR_INVALID_ARGUMENT, path, "unknown mp_value type %d", (int)x->type);
        return;
    }
    if (!r->lists_allowed && !r->strings_only && r->sdk_values)
        disputed_at(v, MP_ERR_TYPE, path,
                    "is a list; the official JSON Schema accepts only a string, number, boolean "
                    "or null here (docs/api-notes.md D-4)",
                    "is a list; the official JSON Schema accepts only a string, number, boolean "
                    "or null here, but mParticle's Node and Python SDK examples send lists, and "
                    "no document says the API refuses them (docs/api-notes.md D-5)");
    else if (!r->lists_allowed && !r->strings_only)
        error_at(v, MP_ERR_TYPE, path,
                 "is a list; the official JSON Schema accepts only a string, number, boolean or "
                 "null here (docs/api-notes.md D-4)");
    const mp_value *items = x->u.list.items;
    size_t count = x->u.list.count;
    if (!items && count) {
        unencodable_at(v, MP_ERR_INVALID_ARGUMENT, path, "list items is a NULL pointer");
        return;
    }
    if (r->max_list_items && count > r->max_list_items)
        error_at(v, MP_ERR_LIMIT, path, "has %zu items; the limit is %zu", count, r->max_list_items);
    for (size_t i = 0; i < count; i++) {
        mp__path ip = MP__PATH_INDEX(path, i);
        const mp_value *item = &items[i];
        bound_add(v, BOUND_SLACK);
        if (check_scalar(v, item, r->max_item_chars, &ip))
            continue;
        if (item->type == MP_VALUE_LIST)
            unencodable_at(v, MP_ERR_TYPE, &ip, "a list cannot contain a list");
        else if (item->type == MP_VALUE_ABSENT)
            unencodable_at(v, MP_ERR_INVALID_ARGUMENT, &ip, "list item has no value");
        else
            unencodable_at(v, MP_ERR_INVALID_ARGUMENT, &ip, "unknown mp_value type %d",
                           (int)item->type);
    }
}

static void check_attributes(val *v, const mp_attribute *items, size_t count, unsigned flags,
                             const mp__path *path) {
    attr_rules r = rules_for(flags);
    size_t present = 0;
    for (size_t i = 0; i < count; i++)
        present += items[i].value.type != MP_VALUE_ABSENT;
    if (r.max_entries && present > r.max_entries)
        error_at(v, MP_ERR_LIMIT, path, "has %zu attributes; the limit is %zu", present,
                 r.max_entries);
    for (size_t i = 0; i < count; i++) {
        const mp_attribute *a = &items[i];
        if (a->value.type == MP_VALUE_ABSENT)
            continue;
        bound_add(v, BOUND_SLACK);
        mp__path ip, kp;
        check_value(v, &a->value, &r, check_key(v, a->name, path, i, &r, "attribute", &ip, &kp));
    }
    check_duplicates(v, items, sizeof *items, count, attribute_present, path);
}

/* The entries of a string map (the inside of `{...}`). */
static void check_string_map(val *v, const mp_string_pair *items, size_t count, unsigned flags,
                             const mp__path *path) {
    attr_rules r = rules_for(flags);
    int attributes = (flags & (MP__F_USER_ATTRIBUTES | MP__F_EVENT_ATTRIBUTES)) != 0;
    size_t present = 0;
    for (size_t i = 0; i < count; i++)
        present += items[i].value != NULL;
    if (r.max_entries && present > r.max_entries)
        error_at(v, MP_ERR_LIMIT, path, "has %zu attributes; the limit is %zu", present,
                 r.max_entries);
    for (size_t i = 0; i < count; i++) {
        const mp_string_pair *p = &items[i];
        if (!p->value)
            continue;
        bound_add(v, BOUND_SLACK);
        mp__path ip, kp;
        const mp__path *vp = check_key(v, p->name, path, i, attributes ? &r : NULL,
                                       attributes ? "attribute" : "map key", &ip, &kp);
        if (MP_IS_NULL(p->value)) {
            if (r.strings_only)
                error_at(v, MP_ERR_TYPE, vp, "is null; only string values are allowed here");
            continue;
        }
        size_t n = check_utf8(v, p->value, vp, "");
        if (n != SIZE_MAX)
            check_chars(v, p->value, n, r.max_value_chars, vp, "");
    }
    check_duplicates(v, items, sizeof *items, count, string_pair_present, path);
}

static void check_string_map_map(val *v, const mp_string_map_entry *items, size_t count,
                                 const mp__path *path) {
    for (size_t i = 0; i < count; i++) {
        const mp_string_map_entry *m = &items[i];
        if (!m->value.items)
            continue;
        bound_add(v, BOUND_SLACK);
        mp__path ip, kp;
        const mp__path *vp = check_key(v, m->name, path, i, NULL, "map key", &ip, &kp);
        if (!MP_IS_NULL(m->value.items))
            check_string_map(v, m->value.items, m->value.count, 0, vp);
    }
    check_duplicates(v, items, sizeof *items, count, map_entry_present, path);
}

/* ------------------------------------------------------------------------ */
/* Fields and objects                                                       */
/* ------------------------------------------------------------------------ */

static void check_fields(val *v, const mp__object *obj, const void *base, const mp__path *path);
static void check_events(val *v, const mp_event *events, size_t count, const mp__path *path);

/* Whether a field is absent, null or set, for every kind. Scalars follow
 * the encoder: any state other than ABSENT and NULLED is a value. */
static mp_state field_state(const mp__field *f, const void *base) {
    const char *at = (const char *)base + f->offset;
    switch ((mp__kind)f->kind) {
    case MP__K_INT64:
    case MP__K_DOUBLE:
    case MP__K_BOOL: {
        unsigned char st = (unsigned char)*at; /* `state` leads every mp_opt_* */
        return st == MP_ABSENT ? MP_ABSENT : st == MP_NULLED ? MP_NULLED : MP_PRESENT;
    }
    case MP__K_ENUM:
        return mp__load_enum(base, f->offset) == 0 ? MP_ABSENT : MP_PRESENT;
    case MP__K_VALUE: {
        const mp_value *x = (const mp_value *)(const void *)at;
        return x->type == MP_VALUE_ABSENT ? MP_ABSENT
               : x->type == MP_VALUE_NULL ? MP_NULLED
                                          : MP_PRESENT;
    }
    default: {
        /* Strings and objects are pointers; lists and maps start with one. */
        const void *p = mp__load_ptr(base, f->offset);
        return !p ? MP_ABSENT : MP_IS_NULL(p) ? MP_NULLED : MP_PRESENT;
    }
    }
}

/* Required fields for which JSON null is the documented value: `new` and
 * `old` of user_attribute_change (a StringOrArray, null when there is no
 * value) and `old` of user_identity_change (null for a new identity). */

/* The field's flags, plus rules that depend on the event type: the JSON
 * Schema types screen_view's custom_flags values as strings only, while
 * custom and commerce events accept any scalar (docs/api-notes.md D-5). */
static unsigned effective_flags(const val *v, const mp__object *obj, const mp__field *f) {
    unsigned flags = f->flags;
    if (obj == &mp__event_common_object && v->event_type == MP_EVENT_SCREEN_VIEW &&
        f->offset == offsetof(mp_event_common, custom_flags))
        flags |= MP__F_STRINGS_ONLY;
    return flags;
}

static void warn_unsendable(val *v, const mp__field *f, const mp__path *path) {
    if (f->flags & MP__F_OUTPUT_ONLY)
        warning_at(v, MP_ERR_INVALID, path,
                   "is set by mParticle; do not send it (output only, docs/api-notes.md §4.2 rule 10)%s",
                   (f->flags & MP__F_NOT_IN_SCHEMA) ? "; the official JSON Schema also rejects the key"
                                                    : "");
    else if (f->flags & MP__F_NOT_IN_SCHEMA)
        warning_at(v, MP_ERR_INVALID, path,
                   "the official JSON Schema rejects this key (docs/api-notes.md §5); only some SDKs or "
                   "the docs use it");
}

static void check_enum(val *v, const mp__field *f, int value, const mp__path *path) {
    const mp__enum *en = (const mp__enum *)f->sub;
    if (value < 0 || value >= en->count) {
        unencodable_at(v, MP_ERR_ENUM, path, "%d is not a valid %s", value, en->type_name);
        return;
    }
    if (en == mp__enums[MP_ENUM_ENVIRONMENT] && value == MP_ENVIRONMENT_UNKNOWN)
        warning_at(v, MP_ERR_ENUM, path,
                   "\"unknown\" is rejected by the official JSON Schema; send \"development\" or "
                   "\"production\" (docs/api-notes.md §4.2 rule 2)");
    else if (en == mp__enums[MP_ENUM_PLATFORM] && value == MP_PLATFORM_DESKTOP)
        warning_at(v, MP_ERR_ENUM, path,
                   "\"desktop\" is in neither the official JSON Schema nor the docs "
                   "(docs/api-notes.md D-11)");
}

static void check_string_list(val *v, const char *const *items, size_t count,
                              const mp__path *path) {
    for (size_t i = 0; i < count; i++) {
        mp__path ip = MP__PATH_INDEX(path, i);
        bound_add(v, BOUND_SLACK);
        if (!items[i])
            unencodable_at(v, MP_ERR_INVALID_ARGUMENT, &ip, "list item is a NULL pointer");
        else if (!MP_IS_NULL(items[i]))
            check_utf8(v, items[i], &ip, "");
    }
}

static void check_gdpr(val *v, const mp__field *f, const mp_gdpr_purpose *items, size_t count,
                       const mp__path *path) {
    for (size_t i = 0; i < count; i++) {
        const mp_gdpr_purpose *g = &items[i];
        bound_add(v, BOUND_SLACK);
        mp__path ip, kp;
        const mp__path *vp = check_key(v, g->purpose, path, i, NULL, "GDPR purpose", &ip, &kp);
        check_fields(v, (const mp__object *)f->sub, &g->consent, vp);
    }
    check_duplicates(v, items, sizeof *items, count, always_present, path);
}

/* The checks of a scalar, string or object field that is set (not absent,
 * not null). */
static void check_set_scalar(val *v, const mp__field *f, const void *base, const mp__path *fp) {
    const char *at = (const char *)base + f->offset;
    switch ((mp__kind)f->kind) {
    case MP__K_STRING:
        check_string_field(v, f, (const char *)mp__load_ptr(base, f->offset), fp);
        return;
    case MP__K_DOUBLE:
        if (!isfinite(((const mp_opt_double *)(const void *)at)->value))
            unencodable_at(v, MP_ERR_NOT_FINITE, fp, "is NaN or infinite; JSON has no such number");
        return;
    case MP__K_ENUM:
        check_enum(v, f, mp__load_enum(base, f->offset), fp);
        return;
    case MP__K_OBJECT:
        check_fields(v, (const mp__object *)f->sub, mp__load_ptr(base, f->offset), fp);
        return;
    case MP__K_VALUE: {
        /* user_attribute_change new/old: the JSON Schema's StringOrArray. */
        attr_rules r = {0};
        r.lists_allowed = 1;
        check_value(v, (const mp_value *)(const void *)at, &r, fp);
        return;
    }
    default: /* MP__K_INT64, MP__K_BOOL: every value is valid */
        return;
    }
}

/* The checks of a list or map field that is set. */
static void check_set_list(val *v, const mp__object *obj, const mp__field *f, const void *base,
                           const mp__path *fp) {
    const void *items = mp__load_ptr(base, f->offset + MP__LIST_ITEMS);
    size_t count = mp__load_size(base, f->offset + MP__LIST_COUNT);
    switch ((mp__kind)f->kind) {
    case MP__K_OBJECT_LIST: {
        const mp__object *sub = (const mp__object *)f->sub;
        for (size_t i = 0; i < count; i++) {
            mp__path ip = MP__PATH_INDEX(fp, i);
            bound_add(v, BOUND_SLACK);
            check_fields(v, sub, (const char *)items + i * sub->size, &ip);
        }
        return;
    }
    case MP__K_STRING_LIST:
        check_string_list(v, (const char *const *)items, count, fp);
        return;
    case MP__K_ATTRIBUTES:
        check_attributes(v, (const mp_attribute *)items, count, effective_flags(v, obj, f), fp);
        return;
    case MP__K_STRING_MAP:
        check_string_map(v, (const mp_string_pair *)items, count, effective_flags(v, obj, f), fp);
        return;
    case MP__K_STRING_MAP_MAP:
        check_string_map_map(v, (const mp_string_map_entry *)items, count, fp);
        return;
    case MP__K_GDPR:
        check_gdpr(v, f, (const mp_gdpr_purpose *)items, count, fp);
        return;
    case MP__K_EVENT_LIST:
        check_events(v, (const mp_event *)items, count, fp);
        return;
    default:
        unencodable_at(v, MP_ERR_INVALID_ARGUMENT, fp, "internal: unknown field kind %d",
                       f->kind);
        return;
    }
}

static int is_list_kind(unsigned kind) {
    return kind == MP__K_OBJECT_LIST || kind == MP__K_STRING_LIST || kind == MP__K_ATTRIBUTES ||
           kind == MP__K_STRING_MAP || kind == MP__K_STRING_MAP_MAP || kind == MP__K_GDPR ||
           kind == MP__K_EVENT_LIST;
}

/* A field that is null, set, or absent but required. */
static void check_field(val *v, const mp__object *obj, const mp__field *f, const void *base,
                        const mp__path *parent, mp_state st) {
    mp__path fp = MP__PATH_KEY(parent, f->name, f->name_len);
    if (st == MP_ABSENT && (f->flags & MP__F_DOC_OPTIONAL)) {
        disputed_at(v, MP_ERR_INVALID, &fp, "required field is missing",
                    "is missing; the official JSON Schema requires it, but mParticle's docs "
                    "call it optional and its SDKs' examples leave it out, and no document says "
                    "the API refuses that (docs/api-notes.md D-15)");
        return;
    }
    if (st == MP_ABSENT) {
        error_at(v, MP_ERR_INVALID, &fp, "required field is missing");
        return;
    }
    bound_add(v, (size_t)f->key_len + BOUND_SLACK);
    if (f->flags & (MP__F_OUTPUT_ONLY | MP__F_NOT_IN_SCHEMA))
        warn_unsendable(v, f, &fp);
    if (st == MP_NULLED) {
        if ((f->flags & MP__F_REQUIRED) && !(f->flags & MP__F_NULL_OK))
            error_at(v, MP_ERR_INVALID, &fp,
                     "required field is null; the API needs a value (null counts as missing)");
        return;
    }
    if (is_list_kind(f->kind))
        check_set_list(v, obj, f, base, &fp);
    else
        check_set_scalar(v, f, base, &fp);
}

static void check_fields(val *v, const mp__object *obj, const void *base, const mp__path *path) {
    /* Most fields of a batch are absent: this loop skips them with the
     * encoder's probe (one load and one AND), without entering
     * check_field, which is the bulk of the validator's time. */
    unsigned char padded[8];
    const unsigned char *probe = mp__probe_base(obj, base, padded);
    for (size_t i = 0; i < obj->nfields; i++) {
        const mp__field *f = &obj->fields[i];
        if (!(f->flags & MP__F_REQUIRED) && !mp__field_set(f, probe))
            continue;
        check_field(v, obj, f, base, path, field_state(f, base));
    }
}

/* ------------------------------------------------------------------------ */
/* Events                                                                   */
/* ------------------------------------------------------------------------ */

static int64_t now_ms(val *v) {
    if (!v->have_now) {
        v->have_now = 1;
        if (v->opts && v->opts->now_unixtime_ms) {
            v->now_ms = v->opts->now_unixtime_ms;
        } else {
            struct timespec ts = {0, 0};
            clock_gettime(CLOCK_REALTIME, &ts);
            v->now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
        }
    }
    return v->now_ms;
}

/* a - b without overflow: saturates at the int64 limits. */
static int64_t saturating_sub(int64_t a, int64_t b) {
    if (b < 0 && a > INT64_MAX + b)
        return INT64_MAX;
    if (b > 0 && a < INT64_MIN + b)
        return INT64_MIN;
    return a - b;
}

/* The historical endpoint's rules (docs/api-notes.md §2.4) and, elsewhere, the 30-day
 * advice, on one event's timestamp_unixtime_ms. */
static void check_event_time(val *v, const mp_event *ev, const mp__path *data_path) {
    const mp_opt_int64 *ts = &ev->common.timestamp_unixtime_ms;
    mp__path tp = MP__PATH_KEY(data_path, "timestamp_unixtime_ms", 21);
    int historical = v->opts && v->opts->historical;
    if (ts->state == MP_ABSENT || ts->state == MP_NULLED) {
        if (historical)
            error_at(v, MP_ERR_INVALID, &tp,
                     "required field is %s: /v2/bulkevents/historical does not process a batch "
                     "with an event without timestamp_unixtime_ms (docs/api-notes.md §2.4)",
                     ts->state == MP_ABSENT ? "missing" : "null");
        return;
    }
    if (ts->value > 0 && ts->value < MIN_PLAUSIBLE_MS) {
        warning_at(v, MP_ERR_INVALID, &tp,
                   "is %" PRId64 ", which looks like seconds since the epoch; the API wants "
                   "milliseconds (docs/api-notes.md D-1)",
                   ts->value);
        if (!historical)
            return; /* the 30-day advice would only repeat it */
    }
    int64_t age = saturating_sub(now_ms(v), ts->value);
    if (historical && age < MP_HISTORICAL_MIN_AGE_MS) {
        if (age < 0)
            error_at(v, MP_ERR_INVALID, &tp,
                     "is %" PRId64 " ms in the future; /v2/bulkevents/historical only accepts "
                     "events at least 72 hours old (docs/api-notes.md §2.4)",
                     saturating_sub(0, age));
        else
            error_at(v, MP_ERR_INVALID, &tp,
                     "is %" PRId64 ".%" PRId64 " hours old; /v2/bulkevents/historical only "
                     "accepts events at least 72 hours old (docs/api-notes.md §2.4)",
                     age / 3600000, age % 3600000 / 360000);
    } else if (!historical && age > MAX_LIVE_AGE_MS) {
        warning_at(v, MP_ERR_INVALID, &tp,
                   "is %" PRId64 ".%" PRId64 " days old; use /v2/bulkevents/historical for data "
                   "older than 30 days (docs/api-notes.md §2.4)",
                   age / 86400000, age % 86400000 / 8640000);
    }
}

/* docs/api-notes.md §4.4: product-based, promotion-based or impression-based. */
static void check_commerce(val *v, const mp_commerce_event_data *c, const mp__path *data_path) {
    const char *names[3];
    size_t n = 0;
    if (c->product_action && !MP_IS_NULL(c->product_action))
        names[n++] = "product_action";
    if (c->promotion_action && !MP_IS_NULL(c->promotion_action))
        names[n++] = "promotion_action";
    if (c->product_impressions.items && !MP_IS_NULL(c->product_impressions.items) &&
        c->product_impressions.count > 0)
        names[n++] = "product_impressions";
    if (n == 0)
        error_at(v, MP_ERR_INVALID, data_path,
                 "has none of product_action, promotion_action and product_impressions; a "
                 "commerce_event needs exactly one (docs/api-notes.md §4.4)");
    else if (n == 2)
        error_at(v, MP_ERR_INVALID, data_path,
                 "has both %s and %s; a commerce_event needs exactly one of product_action, "
                 "promotion_action and product_impressions (docs/api-notes.md §4.4)",
                 names[0], names[1]);
    else if (n == 3)
        error_at(v, MP_ERR_INVALID, data_path,
                 "has all of product_action, promotion_action and product_impressions; a "
                 "commerce_event needs exactly one (docs/api-notes.md §4.4)");
}

static void check_event(val *v, const mp_event *ev, const mp__path *path) {
    int t = (int)ev->event_type;
    mp__path tp = MP__PATH_KEY(path, "event_type", 10);
    mp__path dp = MP__PATH_KEY(path, "data", 4);
    bound_add(v, BOUND_SLACK);
    if (t == 0) {
        unencodable_at(v, MP_ERR_INVALID, &tp, "required field is missing");
    } else if (t < 0 || t >= mp__event_desc_count) {
        unencodable_at(v, MP_ERR_ENUM, &tp, "%d is not a valid event_type", t);
    } else if (t == MP_EVENT_PRE_ATTRIBUTION || t == MP_EVENT_PUSH_REACTION) {
        error_at(v, MP_ERR_INVALID, &tp,
                 "\"%s\" has no inbound data model; the Events API schema rejects it "
                 "(docs/api-notes.md §4.3)",
                 mp__event_descs[t].name.name);
    }
    int known = t > 0 && t < mp__event_desc_count;
    v->event_type = known ? t : 0;
    check_fields(v, &mp__event_common_object, &ev->common, &dp);
    if (known && mp__event_descs[t].data)
        check_fields(v, mp__event_descs[t].data, (const char *)ev + MP__EVENT_UNION_OFFSET, &dp);
    if (t == MP_EVENT_COMMERCE_EVENT)
        check_commerce(v, &ev->commerce_event, &dp);
    if (t == MP_EVENT_SESSION_START && ev->common.session_id.state == MP_ABSENT) {
        /* A common field, so no table flag can say it. A warning: the
         * docs' own Master Sample omits it. */
        mp__path sp = MP__PATH_KEY(&dp, "session_id", 10);
        warning_at(v, MP_ERR_INVALID, &sp,
                   "is missing; the official JSON Schema requires session_id on session_start "
                   "(docs/api-notes.md §4.3)");
    }
    check_event_time(v, ev, &dp);
    v->event_type = 0;
}

static void check_events(val *v, const mp_event *events, size_t count, const mp__path *path) {
    for (size_t i = 0; i < count; i++) {
        mp__path ip = MP__PATH_INDEX(path, i);
        check_event(v, &events[i], &ip);
    }
}

/* ------------------------------------------------------------------------ */
/* Batch-wide rules                                                         */
/* ------------------------------------------------------------------------ */

static int has_text(const char *s) {
    return s && !MP_IS_NULL(s) && s[0] != '\0';
}

/* docs/api-notes.md §2.6: "It's critical to include either user or device identities".
 * An empty string identifies no one, so it does not count. */
static int has_identity(const mp_batch *b) {
    if (b->mpid.state == MP_PRESENT || has_text(b->mp_deviceid))
        return 1;
    const mp_user_identities *u = b->user_identities;
    if (u && !MP_IS_NULL(u)) {
        /* Every identity type is a string field of the table. */
        const mp__field *f = mp__object_find(&mp__batch_object, "user_identities", 15);
        const mp__object *sub = f ? (const mp__object *)f->sub : NULL;
        for (size_t i = 0; sub && i < sub->nfields; i++)
            if (has_text((const char *)mp__load_ptr(u, sub->fields[i].offset)))
                return 1;
    }
    const mp_device_info *d = b->device_info;
    if (d && !MP_IS_NULL(d))
        return has_text(d->ios_advertising_id) || has_text(d->android_advertising_id) ||
               has_text(d->ios_idfv) || has_text(d->roku_advertising_id) ||
               has_text(d->fire_advertising_id) || has_text(d->microsoft_advertising_id) ||
               has_text(d->android_uuid);
    return 0;
}

static int has_events(const mp_batch *b) {
    return b->events.items && !MP_IS_NULL(b->events.items) && b->events.count > 0;
}

/* Encodes the batch to measure it, when the bound says it might be too big. */
static void check_size(val *v, const mp_batch *batch) {
    if (v->unencodable || v->size_bound <= MP_MAX_BATCH_BYTES)
        return;
    mp_buffer buf = {0};
    mp_error err = mp__encode_batch_into(batch, &buf, v->diag, v->batch);
    if (err == MP_OK && buf.len > MP_MAX_BATCH_BYTES)
        error_at(v, MP_ERR_LIMIT, NULL, "serialized batch is %zu bytes; the limit is %d (128 KB)",
                 buf.len, MP_MAX_BATCH_BYTES);
    else if (err == MP_ERR_NOMEM)
        v->nomem = 1;
    else if (err != MP_OK)
        v->errors++; /* the encoder has reported it */
    mp__free(buf.data);
}

mp_error mp_validate_batch(const mp_batch *batch, const mp_validate_options *opts,
                           long batch_index, mp_diag *diag) {
    if (!batch || (opts && opts->version > MP_VALIDATE_OPTIONS_VERSION))
        return MP_ERR_INVALID_ARGUMENT;
    /* On the stack: the duplicate-key table is 1 KB, the rest is small. */
    val ctx;
    memset(&ctx, 0, offsetof(val, dup_stack));
    ctx.dup_heap = NULL;
    ctx.dup_heap_slots = 0;
    val *v = &ctx;
    v->diag = diag;
    v->batch = batch_index;
    v->opts = opts;

    bound_add(v, BOUND_SLACK);
    check_fields(v, &mp__batch_object, batch, NULL);
    if (opts && opts->historical && !has_events(batch)) {
        mp__path ep = MP__PATH_KEY(NULL, "events", 6);
        error_at(v, MP_ERR_INVALID, &ep,
                 "a batch for /v2/bulkevents/historical must have at least one event "
                 "(docs/api-notes.md §2.4)");
    }
    if (!has_identity(batch))
        warning_at(v, MP_ERR_INVALID, NULL,
                   "has no user or device identity (user_identities, mpid, mp_deviceid or a "
                   "device_info advertising id); it is critical to include one (docs/api-notes.md §2.6)");
    check_size(v, batch);

    mp_error rc = v->nomem ? MP_ERR_NOMEM : v->errors ? MP_ERR_INVALID : MP_OK;
    mp__free(v->dup_heap);
    return rc;
}

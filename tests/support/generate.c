/*
 * The batch generator: walks the schema tables and fills every field. See
 * generate.h for what it produces. All memory comes from an arena owned by
 * the generator, so tests never free a batch field by field.
 *
 * The rules that the tables do not say (which enum values the API rejects,
 * which optional fields the official schema will not take as null, the
 * commerce exactly-one rule, screen_view's string-only custom_flags) are the
 * short explicit lists below, each with its source.
 */
#include "support/generate.h"

#include <math.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mparticle/codec.h"
#include "schema/schema.h"

/* ------------------------------------------------------------------------ */
/* Arena                                                                    */
/* ------------------------------------------------------------------------ */

typedef struct block {
    struct block *next;
    size_t used;
    size_t cap;
    max_align_t data[]; /* cap bytes */
} block;

#define BLOCK_SIZE ((size_t)64 * 1024)

struct mp_gen {
    uint64_t seed;
    uint64_t rng;
    int variant;        /* as passed; used as unsigned */
    int nulls;          /* mp_gen_batch_nulls() */
    int long_budget;    /* attributes at the API's length limits still to make */
    unsigned name_seq;  /* makes map keys unique */
    int *enum_uses;     /* per enum (index in mp__enums): values handed out so far */
    block *blocks;
    size_t bytes;
};

static void *gen_alloc(mp_gen *g, size_t n) {
    const size_t align = alignof(max_align_t);
    n = (n + align - 1) / align * align;
    if (n == 0)
        n = align; /* a non-NULL pointer even for an empty list */
    if (!g->blocks || g->blocks->cap - g->blocks->used < n) {
        size_t cap = n > BLOCK_SIZE ? n : BLOCK_SIZE;
        block *b = malloc(sizeof *b + cap);
        if (!b) {
            fprintf(stderr, "generate.c: out of memory\n");
            abort();
        }
        b->next = g->blocks;
        b->used = 0;
        b->cap = cap;
        g->blocks = b;
        g->bytes += cap;
    }
    void *p = (char *)g->blocks->data + g->blocks->used;
    g->blocks->used += n;
    memset(p, 0, n);
    return p;
}

mp_gen *mp_gen_new(uint64_t seed) {
    mp_gen *g = calloc(1, sizeof *g);
    int *uses = calloc((size_t)mp__enum_count + 1, sizeof *uses);
    if (!g || !uses) {
        fprintf(stderr, "generate.c: out of memory\n");
        abort();
    }
    g->seed = seed;
    g->enum_uses = uses;
    return g;
}

void mp_gen_reset(mp_gen *g) {
    while (g->blocks) {
        block *next = g->blocks->next;
        free(g->blocks);
        g->blocks = next;
    }
    g->bytes = 0;
}

void mp_gen_free(mp_gen *g) {
    if (!g)
        return;
    mp_gen_reset(g);
    free(g->enum_uses);
    free(g);
}

size_t mp_gen_bytes(const mp_gen *g) {
    return g->bytes;
}

/* ------------------------------------------------------------------------ */
/* Randomness (splitmix64: tiny, seedable, good enough for test data)        */
/* ------------------------------------------------------------------------ */

static uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

static uint64_t rnd(mp_gen *g) {
    return mix64(g->rng += 0x9E3779B97F4A7C15u);
}

/* 0 <= result < n (n > 0); the modulo bias does not matter here. */
static size_t below(mp_gen *g, size_t n) {
    return (size_t)(rnd(g) % n);
}

/* True with probability 1/n. */
static int one_in(mp_gen *g, size_t n) {
    return below(g, n) == 0;
}

/* ------------------------------------------------------------------------ */
/* Strings                                                                  */
/* ------------------------------------------------------------------------ */

/* Characters that stress escaping and UTF-8 handling: JSON's escaped
 * characters, every length of UTF-8 sequence, line and paragraph separators
 * (raw in JSON, trouble in JavaScript), a BOM, and the noncharacters U+FFFF
 * and U+10FFFF (valid scalar values that must pass unchanged). No NUL: C
 * strings cannot hold it. */
static const uint32_t special_chars[] = {
    '"',    '\\',   '/',     0x01,    0x08,    '\t',   '\n',   0x0C,
    '\r',   0x1F,   0x7F,    0xE9,    0xDF,    0x3A9,  0x20AC, 0x2028,
    0x2029, 0x4E2D, 0xFEFF,  0xFFFD,  0xFFFF,  0x1F600, 0x1D11E, 0x10FFFF,
};

static size_t put_utf8(char *out, uint32_t cp) {
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static uint32_t random_char(mp_gen *g) {
    if (below(g, 4) != 0)
        return (uint32_t)(0x20 + below(g, 0x7F - 0x20)); /* printable ASCII */
    return special_chars[below(g, sizeof special_chars / sizeof special_chars[0])];
}

/* A string of exactly n code points, followed by `suffix` (ASCII). */
static char *text_of(mp_gen *g, size_t n, const char *suffix) {
    size_t slen = suffix ? strlen(suffix) : 0;
    char *s = gen_alloc(g, n * 4 + slen + 1);
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += put_utf8(s + len, random_char(g));
    if (slen)
        memcpy(s + len, suffix, slen);
    s[len + slen] = '\0';
    return s;
}

/* A random string of min_cp.. code points, at most max_cp (0 = no limit).
 * Strings with a limit reach it exactly one time in six. */
static char *gen_text(mp_gen *g, size_t min_cp, size_t max_cp) {
    size_t n;
    if (max_cp && one_in(g, 6))
        n = max_cp;
    else if (one_in(g, 40))
        n = 100 + below(g, 200);
    else
        n = below(g, 17);
    if (max_cp && n > max_cp)
        n = max_cp;
    if (n < min_cp)
        n = min_cp;
    return text_of(g, n, NULL);
}

/* A map key or attribute name: random text made unique by a suffix. When
 * `at_limit` is set it is exactly MP_MAX_ATTRIBUTE_NAME_CHARS code points. */
static const char *unique_name(mp_gen *g, int at_limit) {
    char suffix[24];
    int slen = snprintf(suffix, sizeof suffix, "~%u", g->name_seq++);
    size_t n = at_limit ? MP_MAX_ATTRIBUTE_NAME_CHARS - (size_t)slen : below(g, 12);
    return text_of(g, n, suffix);
}

static const char *gen_uuid(mp_gen *g) {
    static const char lower[] = "0123456789abcdef";
    static const char upper[] = "0123456789ABCDEF";
    const char *digits = (g->variant & 1) ? upper : lower; /* the pattern allows both */
    char *s = gen_alloc(g, 37);
    for (int i = 0; i < 36; i++)
        s[i] = (i == 8 || i == 13 || i == 18 || i == 23) ? '-' : digits[below(g, 16)];
    s[36] = '\0';
    return s;
}

/* IPv4 dotted quads and IPv6 in full, compressed and IPv4-mapped forms. */
static const char *gen_ip(mp_gen *g) {
    char buf[64];
    unsigned a = (unsigned)below(g, 256), b = (unsigned)below(g, 256);
    unsigned c = (unsigned)below(g, 256), d = (unsigned)below(g, 256);
    switch (below(g, 5)) {
    case 0:
    case 1:
        snprintf(buf, sizeof buf, "%u.%u.%u.%u", a, b, c, d);
        break;
    case 2: {
        /* Drawn one by one: the order of evaluation of arguments is
         * unspecified, and the same seed must give the same batch. */
        unsigned e = (unsigned)below(g, 65536);
        unsigned f = (unsigned)below(g, 65536);
        unsigned h = (unsigned)below(g, 65536);
        snprintf(buf, sizeof buf, "2001:db8:%x:%x:%x:%x:%x:%x", a, b * 256 + c, d, e, f, h);
        break;
    }
    case 3:
        snprintf(buf, sizeof buf, "2001:db8::%x", a * 256 + b);
        break;
    default:
        snprintf(buf, sizeof buf, "::ffff:%u.%u.%u.%u", a, b, c, d);
        break;
    }
    char *s = gen_alloc(g, strlen(buf) + 1);
    memcpy(s, buf, strlen(buf) + 1);
    return s;
}

/* ------------------------------------------------------------------------ */
/* Numbers                                                                  */
/* ------------------------------------------------------------------------ */

static int64_t gen_int(mp_gen *g) {
    switch (below(g, 12)) {
    case 0:
        return 0;
    case 1:
        return (int64_t)below(g, 1000);
    case 2:
        return -1 - (int64_t)below(g, 1000);
    case 3:
        return INT64_MAX;
    case 4:
        return INT64_MIN;
    case 5:
        return 1700000000000 + (int64_t)below(g, 100000000000); /* ms timestamps */
    case 6:
        return (INT64_C(1) << 53) + 1; /* the first integer a double cannot hold */
    case 7:
        return -(INT64_C(1) << 53) - 1;
    case 8:
        return (int64_t)(rnd(g) >> below(g, 63));
    default: {
        uint64_t u = rnd(g);
        int64_t v;
        memcpy(&v, &u, sizeof v);
        return v;
    }
    }
}

/* Doubles whose shortest round-trip form is easy to get wrong: fractions
 * with no exact binary value (0.1, 19.99, 123.12), the thresholds between
 * plain and exponent notation (1e-6 / 1e-7, 1e20 / 1e21), the smallest
 * subnormal and normal and the largest double, 2^53, the largest double
 * below 2^63 (written 9223372036854775000, which is not its exact value),
 * 2^63 (written 9223372036854776000, an integer literal beyond int64), plus
 * random bit patterns.
 *
 * -0.0 is included on purpose: JSON allows "-0", the encoder writes it, and
 * a decoder that read it as the integer 0 would change the bytes of a round
 * trip (encode(decode(encode(x))) must equal encode(x)). */
static const double awkward_doubles[] = {
    0.0,     -0.0,    0.1,     19.99,   123.12,  1e-6,    1e-7,    1e20,
    1e21,    5e-324,  2.2250738585072014e-308, 1.7976931348623157e308,
    -1.5,    0.30000000000000004,     9007199254740992.0, 123456789.125,
    100.0,   -1.0,    1.0 / 3.0,       -2.5e-300, 9.2233720368547748e18,
    9223372036854775808.0,             -9223372036854775808.0,
};

static double random_finite_double(mp_gen *g) {
    for (;;) {
        uint64_t u = rnd(g);
        double d;
        memcpy(&d, &u, sizeof d);
        if (isfinite(d))
            return d;
    }
}

static double gen_double(mp_gen *g) {
    if (one_in(g, 3))
        return random_finite_double(g);
    return awkward_doubles[below(g, sizeof awkward_doubles / sizeof awkward_doubles[0])];
}

/* A double for an attribute value. JSON has one number type, so the decoder
 * can only tell a double from an integer by its spelling: integral values
 * that fit int64 are written like integers and come back as MP_VALUE_INT.
 * Those are left to the typed double fields. */
static double gen_attribute_double(mp_gen *g) {
    for (;;) {
        double d = gen_double(g);
        if (!(fabs(d) < 9223372036854775808.0 && d == trunc(d)))
            return d;
    }
}

/* ------------------------------------------------------------------------ */
/* Rules the tables do not hold                                             */
/* ------------------------------------------------------------------------ */

/* Enum values that the API rejects (docs/api-notes.md §4.2 rule 2, D-11): the
 * model has them because some SDK sends them, but a valid batch cannot. */
static const struct {
    const char *type_name;
    const char *value;
} rejected_enum_values[] = {
    {"environment", "unknown"}, /* SCH and DOC: development or production */
    {"platform", "desktop"},    /* OAS/JAVA/NET/TS only; SCH and DOC reject it */
    {"channel", "unknown"},     /* PY/DOC only; SCH rejects it */
};

/* Optional fields that the official schema types as non-nullable
 * ("type":"string", "integer" or "array" instead of a nullable definition),
 * so null is never generated for them. */
static const struct {
    const char *object;
    const char *field;
} not_nullable[] = {
    {"data_plan", "plan_version"},
    {"network_performance", "http_verb"},
    {"product_action", "transaction_id"},
    {"product", "id"},
    {"product", "name"},
    {"promotion", "id"},
    {"promotion", "name"},
    {"promotion_action", "promotions"},
    {"batch", "ip"}, /* D-22: null matches both branches of ip's oneOf, which fails */
};

static int is_rejected_enum_value(const mp__enum *e, int v) {
    for (size_t i = 0; i < sizeof rejected_enum_values / sizeof rejected_enum_values[0]; i++) {
        if (strcmp(e->type_name, rejected_enum_values[i].type_name) == 0 &&
            strcmp(e->names[v].name, rejected_enum_values[i].value) == 0)
            return 1;
    }
    return 0;
}

static int may_be_null(const mp__object *obj, const mp__field *f) {
    if (f->flags & MP__F_REQUIRED)
        return 0;
    for (size_t i = 0; i < sizeof not_nullable / sizeof not_nullable[0]; i++) {
        if (strcmp(obj->name, not_nullable[i].object) == 0 &&
            strcmp(f->name, not_nullable[i].field) == 0)
            return 0;
    }
    return 1;
}

/* In null mode, about a third of the fields that may be null are. */
static int wants_null(mp_gen *g, const mp__object *obj, const mp__field *f) {
    return g->nulls && may_be_null(obj, f) && one_in(g, 3);
}

/* The k-th value handed out for enum e in this batch is value
 * (variant + k) mod n, skipping rejected ones: as the variant grows, every
 * occurrence of every enum field walks through all accepted values. */
static int pick_enum(mp_gen *g, const mp__enum *e) {
    int slot = mp__enum_count; /* an enum missing from mp__enums shares the last slot */
    for (int i = 0; i < mp__enum_count; i++) {
        if (mp__enums[i] == e) {
            slot = i;
            break;
        }
    }
    int n = e->count - 1;
    int k = g->enum_uses[slot]++;
    for (int tries = 0; tries < n; tries++) {
        int v = 1 + (int)(((unsigned)g->variant + (unsigned)k + (unsigned)tries) % (unsigned)n);
        if (!is_rejected_enum_value(e, v))
            return v;
    }
    fprintf(stderr, "generate.c: enum %s has no accepted value\n", e->type_name);
    abort();
}

/* ------------------------------------------------------------------------ */
/* Values and maps                                                          */
/* ------------------------------------------------------------------------ */

typedef enum value_set {
    VALUES_STRINGS,  /* strings only */
    VALUES_SCALARS,  /* string, int, double, bool or null */
    VALUES_ANY       /* scalars, or a list of non-null scalars */
} value_set;

/* Attribute strings stay short: the API's length limits are exercised by
 * the few attributes that gen_attributes() makes at exactly the limit. */
static mp_value gen_scalar(mp_gen *g, int allow_null) {
    mp_value v = {MP_VALUE_STRING, {0}};
    switch (below(g, allow_null ? 6 : 5)) {
    case 0:
    case 1:
        v.u.string = gen_text(g, 0, 0);
        break;
    case 2:
        v.type = MP_VALUE_INT;
        v.u.integer = gen_int(g);
        break;
    case 3:
        v.type = MP_VALUE_DOUBLE;
        v.u.number = gen_attribute_double(g);
        break;
    case 4:
        v.type = MP_VALUE_BOOL;
        v.u.boolean = (int)below(g, 2);
        break;
    default:
        v.type = MP_VALUE_NULL;
        break;
    }
    return v;
}

static mp_value gen_list_value(mp_gen *g) {
    size_t n = below(g, 5);
    mp_value *items = gen_alloc(g, n * sizeof *items);
    for (size_t i = 0; i < n; i++)
        items[i] = gen_scalar(g, 0);
    mp_value v = {MP_VALUE_LIST, {0}};
    v.u.list.items = items;
    v.u.list.count = n;
    return v;
}

static mp_value gen_value(mp_gen *g, value_set set) {
    if (set == VALUES_STRINGS) {
        mp_value v = {MP_VALUE_STRING, {0}};
        v.u.string = gen_text(g, 0, 0);
        return v;
    }
    if (set == VALUES_ANY && one_in(g, 4))
        return gen_list_value(g);
    return gen_scalar(g, 1);
}

static void gen_attributes(mp_gen *g, mp_attribute_list *out, value_set set) {
    size_t n = one_in(g, 8) ? 0 : 1 + below(g, 6);
    mp_attribute *items = gen_alloc(g, n * sizeof *items);
    for (size_t i = 0; i < n; i++) {
        /* Now and then one attribute at the API's limits: a 256-character
         * name and a 4096-character value. */
        int at_limit = g->long_budget > 0 && i == 0;
        items[i].name = unique_name(g, at_limit);
        if (at_limit) {
            g->long_budget--;
            items[i].value.type = MP_VALUE_STRING;
            items[i].value.u.string = text_of(g, MP_MAX_ATTRIBUTE_VALUE_CHARS, NULL);
        } else {
            items[i].value = gen_value(g, set);
        }
    }
    out->items = items;
    out->count = n;
}

static void gen_string_map(mp_gen *g, mp_string_map *out, int nullable_values) {
    size_t n = below(g, 5);
    mp_string_pair *items = gen_alloc(g, n * sizeof *items);
    for (size_t i = 0; i < n; i++) {
        items[i].name = unique_name(g, 0);
        items[i].value = nullable_values && one_in(g, 4) ? MP_STRING_NULL : gen_text(g, 0, 0);
    }
    out->items = items;
    out->count = n;
}

static void gen_string_map_map(mp_gen *g, mp_string_map_map *out) {
    size_t n = 1 + below(g, 2);
    mp_string_map_entry *items = gen_alloc(g, n * sizeof *items);
    for (size_t i = 0; i < n; i++) {
        items[i].name = unique_name(g, 0);
        /* Inner values are the schema's nullable String; inner maps are
         * "type":"object" and never null. */
        gen_string_map(g, &items[i].value, g->nulls);
    }
    out->items = items;
    out->count = n;
}

static void gen_string_list(mp_gen *g, mp_string_list *out) {
    size_t n = one_in(g, 6) ? 0 : 1 + below(g, 4);
    const char **items = gen_alloc(g, n * sizeof *items);
    for (size_t i = 0; i < n; i++)
        items[i] = gen_text(g, 0, 0);
    out->items = items;
    out->count = n;
}

/* user_attribute_change new/old: a string, a list of strings, or null
 * (SCH StringOrArray; docs/api-notes.md D-14). */
static mp_value gen_change_value(mp_gen *g) {
    mp_value v = {MP_VALUE_NULL, {0}};
    size_t pick = below(g, 5);
    if (pick < 2) {
        v.type = MP_VALUE_STRING;
        v.u.string = gen_text(g, 0, 0);
    } else if (pick < 4) {
        size_t n = below(g, 4);
        mp_value *items = gen_alloc(g, n * sizeof *items);
        for (size_t i = 0; i < n; i++) {
            items[i].type = MP_VALUE_STRING;
            items[i].u.string = gen_text(g, 0, 0);
        }
        v.type = MP_VALUE_LIST;
        v.u.list.items = items;
        v.u.list.count = n;
    }
    return v;
}

/* ------------------------------------------------------------------------ */
/* The table walk                                                           */
/* ------------------------------------------------------------------------ */

static void gen_object(mp_gen *g, const mp__object *obj, void *base, int event_type);
static void gen_events(mp_gen *g, mp_event_list *out);

static void set_list(void *base, const mp__field *f, const void *items, size_t count) {
    mp__store_ptr(base, f->offset + MP__LIST_ITEMS, items);
    mp__store_size(base, f->offset + MP__LIST_COUNT, count);
}

static value_set attribute_values(const mp__field *f, int event_type) {
    /* SCH types screen_view custom_flags as string-only (docs/api-notes.md D-5). */
    if ((f->flags & MP__F_STRINGS_ONLY) ||
        (event_type == MP_EVENT_SCREEN_VIEW && strcmp(f->name, "custom_flags") == 0))
        return VALUES_STRINGS;
    if (f->flags & MP__F_SCALARS_ONLY)
        return VALUES_SCALARS;
    return VALUES_ANY;
}

static void gen_object_list(mp_gen *g, const mp__field *f, void *base, size_t min_count,
                            int event_type) {
    const mp__object *sub = (const mp__object *)f->sub;
    size_t n = one_in(g, 8) ? 0 : 1 + below(g, 3);
    if (n < min_count)
        n = min_count;
    char *items = gen_alloc(g, n * sub->size);
    for (size_t i = 0; i < n; i++)
        gen_object(g, sub, items + i * sub->size, event_type);
    set_list(base, f, items, n);
}

static void gen_gdpr(mp_gen *g, const mp__field *f, void *base) {
    size_t n = 1 + below(g, 3);
    mp_gdpr_purpose *items = gen_alloc(g, n * sizeof *items);
    for (size_t i = 0; i < n; i++) {
        items[i].purpose = unique_name(g, 0);
        gen_object(g, (const mp__object *)f->sub, &items[i].consent, 0);
    }
    set_list(base, f, items, n);
}

/* Sets field f of the struct at base; `allow_null` lets null mode null it. */
static void gen_field(mp_gen *g, const mp__object *obj, const mp__field *f, void *base,
                      int event_type, int allow_null) {
    void *at = (char *)base + f->offset;
    int null = allow_null && wants_null(g, obj, f);
    switch ((mp__kind)f->kind) {
    case MP__K_STRING: {
        const char *s;
        if (null)
            s = MP_STRING_NULL;
        else if (f->flags & MP__F_UUID)
            s = gen_uuid(g);
        else if (f->flags & MP__F_IP)
            s = gen_ip(g);
        else
            s = gen_text(g, (f->flags & MP__F_REQUIRED) ? 1 : 0, f->max_chars);
        mp__store_ptr(base, f->offset, s);
        return;
    }
    case MP__K_INT64: {
        mp_opt_int64 v = null ? MP_INT_NULL : MP_INT(gen_int(g));
        memcpy(at, &v, sizeof v);
        return;
    }
    case MP__K_DOUBLE: {
        mp_opt_double v = null ? MP_DOUBLE_NULL : MP_DOUBLE(gen_double(g));
        memcpy(at, &v, sizeof v);
        return;
    }
    case MP__K_BOOL: {
        mp_opt_bool v = null ? MP_BOOL_NULL : MP_BOOL(below(g, 2));
        memcpy(at, &v, sizeof v);
        return;
    }
    case MP__K_ENUM: /* enums have no null state */
        mp__store_enum(base, f->offset, pick_enum(g, (const mp__enum *)f->sub));
        return;
    case MP__K_VALUE: {
        mp_value v = gen_change_value(g);
        memcpy(at, &v, sizeof v);
        return;
    }
    case MP__K_EVENT_LIST: /* always present: a batch without events tests little */
        gen_events(g, (mp_event_list *)at);
        return;
    default:
        break;
    }

    if (null) { /* objects, lists and maps */
        if (f->kind == MP__K_OBJECT)
            mp__store_ptr(base, f->offset, &mp_null);
        else
            set_list(base, f, &mp_null, 0);
        return;
    }
    switch ((mp__kind)f->kind) {
    case MP__K_OBJECT: {
        const mp__object *sub = (const mp__object *)f->sub;
        void *p = gen_alloc(g, sub->size);
        gen_object(g, sub, p, event_type);
        mp__store_ptr(base, f->offset, p);
        return;
    }
    case MP__K_OBJECT_LIST:
        gen_object_list(g, f, base, 0, event_type);
        return;
    case MP__K_STRING_LIST:
        gen_string_list(g, (mp_string_list *)at);
        return;
    case MP__K_ATTRIBUTES:
        gen_attributes(g, (mp_attribute_list *)at, attribute_values(f, event_type));
        return;
    case MP__K_STRING_MAP:
        /* SCH types product custom_attributes values as plain strings. */
        gen_string_map(g, (mp_string_map *)at, 0);
        return;
    case MP__K_STRING_MAP_MAP:
        gen_string_map_map(g, (mp_string_map_map *)at);
        return;
    case MP__K_GDPR:
        gen_gdpr(g, f, base);
        return;
    default:
        fprintf(stderr, "generate.c: field %s.%s has a kind (%d) the generator does not know\n",
                obj->name, f->name, f->kind);
        abort();
    }
}

static void gen_object(mp_gen *g, const mp__object *obj, void *base, int event_type) {
    for (size_t i = 0; i < obj->nfields; i++)
        gen_field(g, obj, &obj->fields[i], base, event_type, 1);
}

/* ------------------------------------------------------------------------ */
/* Events                                                                   */
/* ------------------------------------------------------------------------ */

/* The three forms of a commerce event (docs/api-notes.md §4.4). */
static const char *const commerce_forms[] = {"product_action", "promotion_action",
                                             "product_impressions"};
#define COMMERCE_FORMS 3

/* Keeps exactly one of the three commerce forms, with a value (not null,
 * not an empty impression list); the other two are left absent. */
static void make_commerce_form(mp_gen *g, mp_event *ev, int form) {
    const mp__object *data = mp__event_descs[MP_EVENT_COMMERCE_EVENT].data;
    void *base = (char *)ev + MP__EVENT_UNION_OFFSET;
    for (int i = 0; i < COMMERCE_FORMS; i++) {
        const mp__field *f = mp__object_find(data, commerce_forms[i], strlen(commerce_forms[i]));
        if (!f) {
            fprintf(stderr, "generate.c: commerce_event has no field %s\n", commerce_forms[i]);
            abort();
        }
        if (i != form) {
            if (f->kind == MP__K_OBJECT)
                mp__store_ptr(base, f->offset, NULL);
            else
                set_list(base, f, NULL, 0);
        } else if (f->kind == MP__K_OBJECT_LIST) {
            gen_object_list(g, f, base, 1, MP_EVENT_COMMERCE_EVENT);
        } else {
            gen_field(g, data, f, base, MP_EVENT_COMMERCE_EVENT, 0);
        }
    }
}

static int generated_event_type(int t) {
    /* No inbound data model: validation rejects them (model.h). */
    return t != MP_EVENT_PRE_ATTRIBUTION && t != MP_EVENT_PUSH_REACTION;
}

static void gen_event(mp_gen *g, mp_event *ev, int type) {
    const mp__event_desc *d = &mp__event_descs[type];
    ev->event_type = (mp_event_type)type;
    gen_object(g, &mp__event_common_object, &ev->common, type);
    if (d->data)
        gen_object(g, d->data, (char *)ev + MP__EVENT_UNION_OFFSET, type);
}

static void gen_events(mp_gen *g, mp_event_list *out) {
    size_t n = 0;
    for (int t = 1; t < mp__event_desc_count; t++) {
        if (generated_event_type(t))
            n += t == MP_EVENT_COMMERCE_EVENT ? COMMERCE_FORMS : 1;
    }
    mp_event *events = gen_alloc(g, n * sizeof *events);
    /* Rotate the order with the variant so that no type is always first. */
    size_t at = (size_t)(unsigned)g->variant % n;
    for (int t = 1; t < mp__event_desc_count; t++) {
        if (!generated_event_type(t))
            continue;
        int copies = t == MP_EVENT_COMMERCE_EVENT ? COMMERCE_FORMS : 1;
        for (int c = 0; c < copies; c++) {
            mp_event *ev = &events[at];
            at = (at + 1) % n;
            gen_event(g, ev, t);
            if (t == MP_EVENT_COMMERCE_EVENT)
                make_commerce_form(g, ev, c);
        }
    }
    out->items = events;
    out->count = n;
}

/* ------------------------------------------------------------------------ */
/* Batches                                                                  */
/* ------------------------------------------------------------------------ */

static const mp_batch *generate(mp_gen *g, int variant, int nulls) {
    g->rng = mix64(g->seed ^ mix64(((uint64_t)(unsigned)variant << 1) | (uint64_t)nulls));
    g->variant = variant;
    g->nulls = nulls;
    g->long_budget = (unsigned)variant % 4 == 3 ? 2 : 0;
    g->name_seq = 0;
    memset(g->enum_uses, 0, ((size_t)mp__enum_count + 1) * sizeof *g->enum_uses);
    mp_batch *b = gen_alloc(g, sizeof *b);
    gen_object(g, &mp__batch_object, b, 0);
    return b;
}

const mp_batch *mp_gen_batch(mp_gen *g, int variant) {
    return generate(g, variant, 0);
}

const mp_batch *mp_gen_batch_nulls(mp_gen *g, int variant) {
    return generate(g, variant, 1);
}

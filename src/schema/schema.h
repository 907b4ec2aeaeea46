/*
 * The one description of the data model. The encoder, the decoder, the
 * validator, model comparison and the test generator all walk these tables,
 * so adding a field to a struct in model.h and one line to schema.c is all it
 * takes for it to be encoded, decoded, validated and tested.
 */
#ifndef MP_SCHEMA_SCHEMA_H
#define MP_SCHEMA_SCHEMA_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mparticle/model.h"

/* How a field is stored in its struct, and so how it maps to JSON. */
typedef enum mp__kind {
    MP__K_STRING,         /* const char *                     -> string */
    MP__K_INT64,          /* mp_opt_int64                     -> integer */
    MP__K_DOUBLE,         /* mp_opt_double                    -> number */
    MP__K_BOOL,           /* mp_opt_bool                      -> true/false */
    MP__K_ENUM,           /* C enum (int-sized); sub: mp__enum -> string */
    MP__K_OBJECT,         /* const T *; sub: mp__object        -> object */
    MP__K_OBJECT_LIST,    /* {const T *items; size_t count}; sub: mp__object -> array of objects */
    MP__K_STRING_LIST,    /* mp_string_list                   -> array of strings */
    MP__K_ATTRIBUTES,     /* mp_attribute_list                -> object of mp_value */
    MP__K_STRING_MAP,     /* mp_string_map                    -> object of strings */
    MP__K_STRING_MAP_MAP, /* mp_string_map_map                -> object of objects of strings */
    MP__K_GDPR,           /* mp_gdpr_purpose_list; sub: consent object -> object of objects */
    MP__K_VALUE,          /* mp_value                         -> scalar, list or null */
    MP__K_EVENT_LIST      /* mp_event_list                    -> array of event envelopes */
} mp__kind;

/* Field flags: rules that validation enforces. */
enum {
    MP__F_REQUIRED = 1u << 0,    /* the API (JSON Schema) requires the key */
    MP__F_UUID = 1u << 1,        /* the JSON Schema's Uuid pattern */
    MP__F_OUTPUT_ONLY = 1u << 2, /* set by mParticle; sending it is pointless (warning) */
    MP__F_NOT_IN_SCHEMA = 1u << 3, /* documented elsewhere, rejected by the official JSON Schema (warning) */
    MP__F_STRINGS_ONLY = 1u << 4,  /* attribute values must be strings */
    MP__F_SCALARS_ONLY = 1u << 5,  /* attribute values must be scalars (no lists) */
    MP__F_USER_ATTRIBUTES = 1u << 6, /* the user-attribute limits apply */
    MP__F_EVENT_ATTRIBUTES = 1u << 7, /* the event-attribute limits apply */
    MP__F_IP = 1u << 8,             /* an IPv4 or IPv6 address */
    MP__F_NULL_OK = 1u << 9,        /* required, and null is a documented value (UAC new/old, UIC old) */
    /* Required by the JSON Schema, but optional in mParticle's docs and left
     * out by its SDKs' examples (docs/api-notes.md D-15): missing is a warning unless
     * validation is strict. */
    MP__F_DOC_OPTIONAL = 1u << 10,
    /* The JSON Schema limits these attribute values (scalars, or strings on
     * screen_view), but mParticle's Node and Python SDK examples send
     * numbers and lists (docs/api-notes.md D-5): a warning unless strict. */
    MP__F_SDK_VALUES = 1u << 11
};

typedef struct mp__enum_name {
    const char *name;
    uint8_t len;
} mp__enum_name;

typedef struct mp__enum {
    const char *type_name;      /* for messages: "platform" */
    const mp__enum_name *names; /* index = C enum value; [0] is {NULL, 0} */
    int count;                  /* number of entries including [0] */
} mp__enum;

struct mp__object;

typedef struct mp__field {
    const char *name; /* JSON key */
    const char *key;  /* the key pre-rendered for the encoder: "\"name\":" */
    uint8_t name_len;
    uint8_t key_len;
    uint8_t kind;      /* mp__kind */
    uint16_t flags;    /* MP__F_* */
    uint16_t offset;   /* offsetof the member in its struct */
    uint16_t max_chars; /* longest value in code points; 0 = no limit */
    /* The encoder's presence test, one load and one AND: the field is set
     * (or null) iff a byte that probe_mask selects in the 8 bytes at
     * probe_at is non-zero. Those are the bytes of the state of optional
     * scalars, of the enum or mp_value.type, else of the pointer. The
     * window starts at the field, or ends at the end of the struct when the
     * field is in its last 8 bytes, so it never reads past the struct; for
     * structs under 8 bytes (mp__object.size < 8) it starts at 0 and the
     * reader must pad the struct to 8 bytes first. A byte array keeps the
     * mask independent of byte order. */
    uint16_t probe_at;
    const void *sub;   /* mp__object for objects and lists, mp__enum for enums */
    unsigned char probe_mask[8];
} mp__field;

/* How many bytes at the start of a field of kind k say whether it is set
 * (see mp__field.probe_mask): the mp_state byte, the int of an enum or of
 * mp_value.type, or a pointer (of a list: its items). */
#define MP__PROBE_WIDTH(k)                                                   \
    ((k) == MP__K_INT64 || (k) == MP__K_DOUBLE || (k) == MP__K_BOOL ? 1u     \
     : (k) == MP__K_ENUM || (k) == MP__K_VALUE ? sizeof(int)                 \
                                                : sizeof(void *))

typedef struct mp__object {
    const char *name; /* what the object is called in messages: "device_info" */
    size_t size;      /* sizeof the struct: the stride of an object list */
    const mp__field *fields;
    size_t nfields;
} mp__object;

/* An event type: its JSON name and the object describing its own data
 * fields (NULL for types that have only the common fields). Offsets of the
 * data object are relative to the event's union. */
typedef struct mp__event_desc {
    mp__enum_name name;
    const mp__object *data;
} mp__event_desc;

/* Offset of the type-specific union inside mp_event. */
#define MP__EVENT_UNION_OFFSET offsetof(mp_event, custom_event)

extern const mp__object mp__batch_object;
extern const mp__object mp__event_common_object;
extern const mp__object mp__consent_object;
extern const mp__object mp__user_identity_object;
extern const mp__event_desc mp__event_descs[];
extern const int mp__event_desc_count;
extern const mp__enum *const mp__enums[]; /* indexed by mp_enum_kind */
extern const int mp__enum_count;
extern const mp__enum mp__event_type_enum;

/* All objects of the model, for tests that must cover every one. */
extern const mp__object *const mp__all_objects[];
extern const size_t mp__all_objects_count;

/* Typed loads from a struct at a byte offset. memcpy keeps these free of
 * aliasing questions; compilers turn each into a single load. */
static inline const void *mp__load_ptr(const void *base, size_t off) {
    const void *p;
    memcpy(&p, (const char *)base + off, sizeof p);
    return p;
}

static inline size_t mp__load_size(const void *base, size_t off) {
    size_t n;
    memcpy(&n, (const char *)base + off, sizeof n);
    return n;
}

static inline int mp__load_enum(const void *base, size_t off) {
    int v;
    memcpy(&v, (const char *)base + off, sizeof v);
    return v;
}

static inline void mp__store_ptr(void *base, size_t off, const void *p) {
    memcpy((char *)base + off, &p, sizeof p);
}

static inline void mp__store_size(void *base, size_t off, size_t n) {
    memcpy((char *)base + off, &n, sizeof n);
}

static inline void mp__store_enum(void *base, size_t off, int v) {
    memcpy((char *)base + off, &v, sizeof v);
}

/* Every list type in model.h is {const T *items; size_t count}; these are
 * the offsets of its two members, checked by static assertions in schema.c. */
#define MP__LIST_ITEMS 0
#define MP__LIST_COUNT sizeof(void *)

/* Whether a field is set or null (not absent): one load and one AND with
 * the precomputed window and mask of mp__field.probe_at. `probe` comes
 * from mp__probe_base(). */
static inline int mp__field_set(const mp__field *f, const unsigned char *probe) {
    uint64_t w, m;
    memcpy(&w, probe + f->probe_at, sizeof w);
    memcpy(&m, f->probe_mask, sizeof m);
    return (w & m) != 0;
}

/* What mp__field_set() reads for the struct at base: the struct itself,
 * or, for a struct under 8 bytes (whose window would read past its end),
 * a copy in `padded`, zero-filled. */
static inline const unsigned char *mp__probe_base(const mp__object *obj, const void *base,
                                                  unsigned char padded[8]) {
    if (obj->size >= 8)
        return (const unsigned char *)base;
    memset(padded, 0, 8);
    memcpy(padded, base, obj->size);
    return padded;
}

/* Finds the field named name[0..len) in obj, or NULL. */
const mp__field *mp__object_find(const mp__object *obj, const char *name, size_t len);

/* Finds the event type named name[0..len); 0 if none. */
int mp__event_type_find(const char *name, size_t len);

/* Finds the enum value named name[0..len) in e; 0 if none. */
int mp__enum_find(const mp__enum *e, const char *name, size_t len);

#endif /* MP_SCHEMA_SCHEMA_H */

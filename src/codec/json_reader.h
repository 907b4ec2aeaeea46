/*
 * A pull reader for JSON text in a byte buffer: no DOM, no allocation per
 * token. The caller asks for one value's first token at a time and walks
 * objects and arrays with mp__jr_key() / mp__jr_next(); what it does not
 * want it skips with mp__jr_skip(). Strings are validated (escapes, UTF-8,
 * control characters, surrogate pairs) when read and copied out only on
 * request, so a key that is compared and dropped costs no copy.
 *
 * It accepts and rejects exactly what jansson 2.14 does with the decoder's
 * flags (JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK | JSON_REJECT_DUPLICATES)
 * and reports the same error at the same byte, with jansson's message, so
 * that replacing jansson changed no line or column the decoder reports
 * (tests/unit/test_json_reader.c checks this against jansson). Two
 * deliberate differences: an integer beyond int64 is not an error but a
 * double (MP__JR_REAL with `big` set), and "-0" is the double -0.0.
 *
 * Duplicate keys are the caller's business (the decoder knows the field of
 * most keys and uses a bit per field); mp__jr_skip() detects them with an
 * mp__jr_keyset, which callers can use for maps too.
 *
 * Thread-safety: a reader and a key set belong to one thread; nothing here
 * has global state except the "C" locale created once for strtod.
 */
#ifndef MP_CODEC_JSON_READER_H
#define MP_CODEC_JSON_READER_H

#include <stddef.h>
#include <stdint.h>

/* jansson's JSON_PARSER_MAX_DEPTH: a value nested deeper is an error. */
#define MP__JR_MAX_DEPTH 2048

typedef enum mp__jr_type {
    MP__JR_EOF,
    MP__JR_LBRACE,
    MP__JR_RBRACE,
    MP__JR_LBRACKET,
    MP__JR_RBRACKET,
    MP__JR_COLON,
    MP__JR_COMMA,
    MP__JR_STRING,
    MP__JR_INT,
    MP__JR_REAL,
    MP__JR_TRUE,
    MP__JR_FALSE,
    MP__JR_NULL,
    MP__JR_INVALID
} mp__jr_type;

/* What went wrong, in jansson's classes (json_error_code). */
typedef enum mp__jr_code {
    MP__JR_E_NONE,
    MP__JR_E_SYNTAX,    /* json_error_invalid_syntax, duplicate keys */
    MP__JR_E_PREMATURE, /* json_error_premature_end_of_input */
    MP__JR_E_UTF8,      /* json_error_invalid_utf8 */
    MP__JR_E_NUL,       /* \u0000 in a string or key */
    MP__JR_E_DEPTH,     /* json_error_stack_overflow */
    MP__JR_E_RANGE,     /* json_error_numeric_overflow: a real beyond double */
    MP__JR_E_NOMEM
} mp__jr_code;

typedef struct mp__jr_error {
    mp__jr_code code;
    size_t position; /* absolute offset where jansson's stream stood */
    char text[160];  /* jansson's message, "... near '<token>'" */
} mp__jr_error;

/* One token. start/end are absolute offsets; a string's include the quotes. */
typedef struct mp__jr_token {
    mp__jr_type type;
    size_t start, end;
    int escaped; /* a string with at least one backslash */
    int has_nul; /* a string with \u0000 (never set on a returned value) */
    int big;     /* MP__JR_REAL from an integer literal beyond int64 */
    int64_t i;   /* MP__JR_INT */
    double d;    /* MP__JR_REAL */
} mp__jr_token;

typedef void *(*mp__jr_malloc_fn)(size_t);
typedef void (*mp__jr_free_fn)(void *);

typedef struct mp__jr {
    const char *buf;
    size_t pos;      /* next byte to read */
    size_t end;      /* the reader sees buf[..end) only */
    unsigned depth;  /* open objects and arrays */
    int failed;      /* sticky: every call fails once one did */
    mp__jr_error err;
} mp__jr;

/* A set of keys per open object, for duplicate detection: scopes nest
 * (push when an object opens, pop when it closes) and a look-up sees only
 * the innermost scope. Keys are not copied unless they had escapes. */
typedef struct mp__jr_keyset {
    mp__jr_malloc_fn malloc_fn;
    mp__jr_free_fn free_fn;
    struct mp__jr_key_entry *entries;
    size_t count, cap;
    uint32_t *heads; /* bucket -> entry index + 1 */
    size_t nheads;   /* a power of two, or 0 */
    size_t *scopes;  /* entry count at each push */
    size_t nscopes, scopes_cap;
    struct mp__jr_chunk *chunks; /* decoded escaped keys */
} mp__jr_keyset;

/* Reads buf[pos..end). */
void mp__jr_init(mp__jr *r, const char *buf, size_t pos, size_t end);

/*
 * The walk's four steps below are inline fast paths for compact JSON (no
 * whitespace between tokens, what encoders write) that fall back to the
 * general functions (_slow) for anything else: whitespace, errors, the
 * depth limit, numbers and words. Both give the same tokens and errors;
 * the fast paths only skip the general dispatch for the common bytes.
 */
int mp__jr_value_slow(mp__jr *r, mp__jr_token *v);
int mp__jr_key_slow(mp__jr *r, int *first, mp__jr_token *k);
int mp__jr_colon_slow(mp__jr *r);
int mp__jr_next_slow(mp__jr *r, int *first);
/* Lexes the string whose opening quote is at p into *t (t->start is set
 * by the caller). 0, or -1 with r->err set. */
int mp__jr_string(mp__jr *r, mp__jr_token *t, size_t p);
/* The same for the number value starting at p ('-' or a digit). */
int mp__jr_number(mp__jr *r, mp__jr_token *t, size_t p);

/* The first token of the next value: a scalar whole, or the '{' / '['
 * that opens a container (then depth grows). 0, or -1 with r->err set. */
static inline int mp__jr_value(mp__jr *r, mp__jr_token *v) {
    size_t p = r->pos;
    if (r->failed || p >= r->end || r->depth + 1 >= MP__JR_MAX_DEPTH)
        return mp__jr_value_slow(r, v);
    char c = r->buf[p];
    v->start = p;
    if (c == '"') {
        if (mp__jr_string(r, v, p))
            return -1;
        if (!v->has_nul)
            return 0;
        r->pos = p; /* the general path reports it */
        return mp__jr_value_slow(r, v);
    }
    if (c == '-' || (c >= '0' && c <= '9'))
        return mp__jr_number(r, v, p);
    if (c == '{' || c == '[') {
        v->type = c == '{' ? MP__JR_LBRACE : MP__JR_LBRACKET;
        v->end = r->pos = p + 1;
        r->depth++;
        return 0;
    }
    return mp__jr_value_slow(r, v);
}

/* In an object whose '{' was read: 1 with the next key in *k, 0 at the
 * closing '}', -1 on error. *first must be 1 before the first call. After
 * a key the caller checks for duplicates, then calls mp__jr_colon(). */
static inline int mp__jr_key(mp__jr *r, int *first, mp__jr_token *k) {
    size_t p = r->pos, at = p;
    int was_first = *first;
    if (!r->failed && p < r->end && r->buf[p] == '}') {
        *first = 0;
        r->pos = p + 1;
        r->depth--;
        return 0;
    }
    if (!*first) {
        if (p >= r->end || r->buf[p] != ',')
            return mp__jr_key_slow(r, first, k);
        p++;
    }
    if (r->failed || p >= r->end || r->buf[p] != '"')
        return mp__jr_key_slow(r, first, k);
    *first = 0;
    k->start = p;
    if (mp__jr_string(r, k, p))
        return -1;
    if (!k->has_nul)
        return 1;
    r->pos = at; /* the general path reports it */
    *first = was_first;
    return mp__jr_key_slow(r, first, k);
}

static inline int mp__jr_colon(mp__jr *r) {
    if (r->failed || r->pos >= r->end || r->buf[r->pos] != ':')
        return mp__jr_colon_slow(r);
    r->pos++;
    return 0;
}

/* In an array whose '[' was read: 1 when a value follows (read it with
 * mp__jr_value), 0 at the closing ']', -1 on error. */
static inline int mp__jr_next(mp__jr *r, int *first) {
    size_t p = r->pos;
    if (r->failed || r->end - p < 2)
        return mp__jr_next_slow(r, first);
    char c = r->buf[p];
    if (!*first && c == ',') {
        c = r->buf[p + 1];
        if (c == ' ' || c == '\n' || c == '\t' || c == '\r')
            return mp__jr_next_slow(r, first);
        r->pos = p + 1;
        return 1;
    }
    if (c == ']') {
        *first = 0;
        r->pos = p + 1;
        r->depth--;
        return 0;
    }
    if (!*first || c == ' ' || c == '\n' || c == '\t' || c == '\r')
        return mp__jr_next_slow(r, first);
    *first = 0;
    return 1;
}

/* Reads the rest of the value whose first token is v (nothing more for a
 * scalar), rejecting duplicate keys with ks. Iterative: any depth up to
 * MP__JR_MAX_DEPTH costs no stack. 0 or -1. */
int mp__jr_skip(mp__jr *r, const mp__jr_token *v, mp__jr_keyset *ks);

/* Records "duplicate object key" for key k (read last). Returns -1. */
int mp__jr_fail_duplicate(mp__jr *r, const mp__jr_token *k);
/* Records an out-of-memory error. Returns -1. */
int mp__jr_fail_nomem(mp__jr *r);

/* Length of a string token's content, decoded (<= its raw length). */
static inline size_t mp__jr_raw_len(const mp__jr_token *s) {
    return s->end - s->start - 2;
}
/* Decodes a validated string token into out (room for mp__jr_raw_len()
 * bytes); returns the length. No NUL is written. */
size_t mp__jr_unescape(const char *buf, const mp__jr_token *s, char *out);

void mp__jr_keyset_init(mp__jr_keyset *ks, mp__jr_malloc_fn m, mp__jr_free_fn f);
void mp__jr_keyset_free(mp__jr_keyset *ks);
/* With no scope open: forgets the decoded escaped keys, keeping one chunk
 * of their memory (a decoder that lives for many values stays bounded). */
void mp__jr_keyset_trim(mp__jr_keyset *ks);
/* Bytes the key set holds, for measurements. */
size_t mp__jr_keyset_footprint(const mp__jr_keyset *ks);
int mp__jr_keyset_push(mp__jr_keyset *ks);
void mp__jr_keyset_pop(mp__jr_keyset *ks);
/* Adds key[0..len) (which must stay valid until the scope is popped) to
 * the innermost scope: 1 if added, 0 if already there, -1 out of memory. */
int mp__jr_keyset_add(mp__jr_keyset *ks, const char *key, size_t len);
/* Adds the string token k (decoded; copied only if it has escapes). */
int mp__jr_keyset_add_token(mp__jr_keyset *ks, const char *buf, const mp__jr_token *k);

#endif

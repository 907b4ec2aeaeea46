/*
 * The pull reader (src/codec/json_reader.c): unit tests of every token kind,
 * escape and malformed form with the exact error position, and a
 * differential test against jansson, the parser it replaced: on a few
 * thousand mutated batches both must accept the same inputs with the same
 * values, and reject the same inputs at the same byte with the same class
 * of error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>
#include <jansson.h>

#include "codec/json_reader.h"
#include "mparticle/codec.h"
#include "support/generate.h"

/* ------------------------------------------------------------------------ */
/* Reading a whole value into a jansson DOM, to compare with jansson        */
/* ------------------------------------------------------------------------ */

static json_t *build(mp__jr *r, mp__jr_keyset *ks, const mp__jr_token *v);

/* Compare with jansson's JSON_DECODE_INT_AS_REAL: integers as doubles. */
static int ints_as_reals;

static json_t *build_string(mp__jr *r, const mp__jr_token *s) {
    char *buf = malloc(mp__jr_raw_len(s) + 1);
    size_t n = mp__jr_unescape(r->buf, s, buf);
    json_t *j = json_stringn(buf, n);
    free(buf);
    return j;
}

/* The reader's value as a DOM (recursion is fine here: the reader stops at
 * 2048 levels). NULL when the reader failed. */
static json_t *build(mp__jr *r, mp__jr_keyset *ks, const mp__jr_token *v) {
    int first = 1, rc;
    mp__jr_token k, e;
    json_t *j;
    switch (v->type) {
    case MP__JR_STRING:
        return build_string(r, v);
    case MP__JR_INT:
        return ints_as_reals ? json_real((double)v->i) : json_integer(v->i);
    case MP__JR_REAL:
        /* jansson reads "-0" as the integer 0. */
        if (!ints_as_reals && v->end - v->start == 2 && memcmp(r->buf + v->start, "-0", 2) == 0)
            return json_integer(0);
        return json_real(v->d);
    case MP__JR_TRUE:
        return json_true();
    case MP__JR_FALSE:
        return json_false();
    case MP__JR_NULL:
        return json_null();
    case MP__JR_LBRACKET:
        j = json_array();
        while ((rc = mp__jr_next(r, &first)) > 0) {
            json_t *x;
            if (mp__jr_value(r, &e) || !(x = build(r, ks, &e))) {
                json_decref(j);
                return NULL;
            }
            json_array_append_new(j, x);
        }
        if (rc < 0) {
            json_decref(j);
            return NULL;
        }
        return j;
    case MP__JR_LBRACE:
        j = json_object();
        mp__jr_keyset_push(ks);
        while ((rc = mp__jr_key(r, &first, &k)) > 0) {
            json_t *x;
            if (mp__jr_keyset_add_token(ks, r->buf, &k) == 0) {
                mp__jr_fail_duplicate(r, &k);
                rc = -1;
                break;
            }
            json_t *key = build_string(r, &k);
            if (mp__jr_colon(r) || mp__jr_value(r, &e) || !(x = build(r, ks, &e))) {
                json_decref(key);
                rc = -1;
                break;
            }
            json_object_set_new(j, json_string_value(key), x);
            json_decref(key);
        }
        mp__jr_keyset_pop(ks);
        if (rc < 0) {
            json_decref(j);
            return NULL;
        }
        return j;
    default:
        break;
    }
    return NULL;
}

/* Reads one value from s[0..n): 0 and the value's end in *end, or -1 with
 * the error in r. With `ks_only`, only skips (the decoder's path for values
 * it does not want). */
static int read_one(mp__jr *r, const char *s, size_t n, json_t **out, int skip_only) {
    mp__jr_keyset ks;
    mp__jr_keyset_init(&ks, malloc, free);
    mp__jr_init(r, s, 0, n);
    mp__jr_token v;
    int rc = -1;
    *out = NULL;
    if (mp__jr_value(r, &v) == 0) {
        if (skip_only)
            rc = mp__jr_skip(r, &v, &ks);
        else
            rc = (*out = build(r, &ks, &v)) ? 0 : -1;
    }
    while (ks.nscopes)
        mp__jr_keyset_pop(&ks);
    mp__jr_keyset_free(&ks);
    return rc;
}

typedef struct expect_err {
    const char *json;
    mp__jr_code code;
    size_t position;
    const char *text;
} expect_err;

static void check_error(const expect_err *c) {
    for (int skip = 0; skip < 2; skip++) {
        mp__jr r;
        json_t *j;
        int rc = read_one(&r, c->json, strlen(c->json), &j, skip);
        if (rc == 0 || r.err.code != c->code || r.err.position != c->position ||
            strcmp(r.err.text, c->text) != 0)
            print_error("input %s: rc %d code %d position %zu text '%s'\n", c->json, rc,
                        (int)r.err.code, r.err.position, r.err.text);
        assert_int_equal(rc, -1);
        assert_int_equal(r.err.code, c->code);
        assert_int_equal(r.err.position, c->position);
        assert_string_equal(r.err.text, c->text);
    }
}

/* ------------------------------------------------------------------------ */
/* Unit tests                                                               */
/* ------------------------------------------------------------------------ */

static void test_tokens(void **state) {
    (void)state;
    mp__jr r;
    json_t *j;
    const char *s = " {\"s\":\"x\",\"i\":-42,\"r\":1.5e2,\"t\":true,\"f\":false,\"n\":null,"
                    "\"a\":[],\"o\":{},\"big\":100000000000000000000,\"mz\":-0,"
                    "\"max\":9223372036854775807,\"min\":-9223372036854775808} tail";
    assert_int_equal(read_one(&r, s, strlen(s), &j, 0), 0);
    assert_int_equal(r.pos, strlen(s) - 5); /* stops after the value */
    assert_string_equal(json_string_value(json_object_get(j, "s")), "x");
    assert_int_equal(json_integer_value(json_object_get(j, "i")), -42);
    assert_true(json_real_value(json_object_get(j, "r")) == 150.0);
    assert_true(json_is_true(json_object_get(j, "t")));
    assert_true(json_is_false(json_object_get(j, "f")));
    assert_true(json_is_null(json_object_get(j, "n")));
    assert_int_equal(json_array_size(json_object_get(j, "a")), 0);
    assert_int_equal(json_object_size(json_object_get(j, "o")), 0);
    assert_true(json_real_value(json_object_get(j, "big")) == 1e20);
    assert_int_equal(json_integer_value(json_object_get(j, "max")), INT64_MAX);
    assert_int_equal(json_integer_value(json_object_get(j, "min")), INT64_MIN);
    json_decref(j);

    /* -0 is the double -0.0; beyond int64 is a double flagged big. */
    mp__jr_token t;
    mp__jr_init(&r, "-0", 0, 2);
    assert_int_equal(mp__jr_value(&r, &t), 0);
    assert_int_equal(t.type, MP__JR_REAL);
    assert_true(t.d == 0 && signbit(t.d));
    mp__jr_init(&r, "-9223372036854775809", 0, 20);
    assert_int_equal(mp__jr_value(&r, &t), 0);
    assert_int_equal(t.type, MP__JR_REAL);
    assert_int_equal(t.big, 1);
    assert_true(t.d == -9223372036854775808.0);
    /* Correct rounding on both paths (fast, and strtod). */
    const struct {
        const char *s;
        double d;
    } reals[] = {{"19.99", 19.99},   {"0.1", 0.1},         {"1e-7", 1e-7},
                 {"123.12", 123.12}, {"2.2250738585072014e-308", 2.2250738585072014e-308},
                 {"1e400", 0},       {"9007199254740993", 9007199254740992.0},
                 {"1.7976931348623157e308", 1.7976931348623157e308}, {"-1E+2", -100}};
    for (size_t i = 0; i < sizeof reals / sizeof reals[0]; i++) {
        mp__jr_init(&r, reals[i].s, 0, strlen(reals[i].s));
        int rc = mp__jr_value(&r, &t);
        if (reals[i].d == 0) {
            assert_int_equal(rc, -1);
            assert_int_equal(r.err.code, MP__JR_E_RANGE);
            continue;
        }
        assert_int_equal(rc, 0);
        if (t.type == MP__JR_INT)
            assert_true((double)t.i == reals[i].d);
        else
            assert_true(t.d == reals[i].d);
    }
}

static void test_escapes(void **state) {
    (void)state;
    mp__jr r;
    json_t *j;
    const char *s = "\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u0041 \\u00e9 \\u20AC \\ud83d\\ude00 caf\xC3\xA9\"";
    assert_int_equal(read_one(&r, s, strlen(s), &j, 0), 0);
    assert_string_equal(json_string_value(j),
                        "\" \\ / \b \f \n \r \t A \xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 caf\xC3\xA9");
    json_decref(j);
}

static void test_errors(void **state) {
    (void)state;
    static const expect_err cases[] = {
        /* numbers: the token ends where jansson gives up */
        {"01", MP__JR_E_SYNTAX, 1, "invalid token near '0'"},
        {"-01", MP__JR_E_SYNTAX, 2, "invalid token near '-0'"},
        {"-", MP__JR_E_SYNTAX, 1, "invalid token near '-'"},
        {"-a", MP__JR_E_SYNTAX, 1, "invalid token near '-'"},
        {"1.", MP__JR_E_SYNTAX, 2, "invalid token near '1.'"},
        {".5", MP__JR_E_SYNTAX, 1, "invalid token near '.'"},
        {"+1", MP__JR_E_SYNTAX, 1, "invalid token near '+'"},
        {"1e", MP__JR_E_SYNTAX, 2, "invalid token near '1e'"},
        {"1e+", MP__JR_E_SYNTAX, 3, "invalid token near '1e+'"},
        {"[1.5.3]", MP__JR_E_SYNTAX, 5, "']' expected near '.'"},
        {"1e400", MP__JR_E_RANGE, 5, "real number overflow near '1e400'"},
        /* literals */
        {"tru", MP__JR_E_SYNTAX, 3, "invalid token near 'tru'"},
        {"nulls", MP__JR_E_SYNTAX, 5, "invalid token near 'nulls'"},
        {"True", MP__JR_E_SYNTAX, 4, "invalid token near 'True'"},
        /* strings */
        {"\"abc", MP__JR_E_PREMATURE, 4, "premature end of input near '\"abc'"},
        {"\"a\nb\"", MP__JR_E_SYNTAX, 2, "unexpected newline near '\"a'"},
        {"\"a\tb\"", MP__JR_E_SYNTAX, 2, "control character 0x9 near '\"a'"},
        {"\"\\x\"", MP__JR_E_SYNTAX, 3, "invalid escape near '\"\\x'"},
        {"\"\\u12g4\"", MP__JR_E_SYNTAX, 6, "invalid escape near '\"\\u12g'"},
        {"\"\\ud800\"", MP__JR_E_SYNTAX, 8, "invalid Unicode '\\uD800' near '\"\\ud800\"'"},
        {"\"\\udc00\"", MP__JR_E_SYNTAX, 8, "invalid Unicode '\\uDC00' near '\"\\udc00\"'"},
        {"\"\\ud800\\u0041\"", MP__JR_E_SYNTAX, 14,
         "invalid Unicode '\\uD800\\u0041' near '\"\\ud800\\u0041\"'"},
        {"\"a\\u0000\"", MP__JR_E_NUL, 9,
         "\\u0000 is not allowed without JSON_ALLOW_NUL near '\"a\\u0000\"'"},
        {"{\"\\u0000\":1}", MP__JR_E_NUL, 9,
         "NUL byte in object key not supported near '\"\\u0000\"'"},
        {"\"a\xFF\"", MP__JR_E_UTF8, 2, "unable to decode byte 0xff near '\"a'"},
        {"\"\xC0\xAF\"", MP__JR_E_UTF8, 1, "unable to decode byte 0xc0 near '\"'"},
        {"\"\xED\xA0\x80\"", MP__JR_E_UTF8, 1, "unable to decode byte 0xed near '\"'"},
        {"\"\xE2\x82\"", MP__JR_E_UTF8, 1, "unable to decode byte 0xe2 near '\"'"},
        {"\xFF", MP__JR_E_UTF8, 0, "unable to decode byte 0xff"},
        {"\xC3\xA9", MP__JR_E_SYNTAX, 2, "invalid token near '\xC3\xA9'"},
        /* structure */
        {"", MP__JR_E_PREMATURE, 0, "unexpected token near end of file"},
        {"  ", MP__JR_E_PREMATURE, 2, "unexpected token near end of file"},
        {"}", MP__JR_E_SYNTAX, 1, "unexpected token near '}'"},
        {"{", MP__JR_E_PREMATURE, 1, "string or '}' expected near end of file"},
        {"{\"a\"", MP__JR_E_PREMATURE, 4, "':' expected near end of file"},
        {"{\"a\" 1", MP__JR_E_SYNTAX, 6, "':' expected near '1'"},
        {"{\"a\":1,}", MP__JR_E_SYNTAX, 8, "string or '}' expected near '}'"},
        {"{\"a\":1 \"b\"", MP__JR_E_SYNTAX, 10, "'}' expected near '\"b\"'"},
        {"{1:2}", MP__JR_E_SYNTAX, 2, "string or '}' expected near '1'"},
        {"{\"a\":1,\"a\":2}", MP__JR_E_SYNTAX, 10, "duplicate object key near '\"a\"'"},
        {"{\"a\":{\"b\":1,\"\\u0062\":2}}", MP__JR_E_SYNTAX, 20,
         "duplicate object key near '\"\\u0062\"'"},
        {"[", MP__JR_E_PREMATURE, 1, "']' expected near end of file"},
        {"[1,", MP__JR_E_PREMATURE, 3, "']' expected near end of file"},
        {"[1,]", MP__JR_E_SYNTAX, 4, "unexpected token near ']'"},
        {"[1 2]", MP__JR_E_SYNTAX, 4, "']' expected near '2'"},
        {"[,", MP__JR_E_SYNTAX, 2, "unexpected token near ','"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_error(&cases[i]);
}

/* 10,000 levels: an error at level 2049 (jansson's limit), no deep stack. */
static void test_depth(void **state) {
    (void)state;
    size_t n = 10000;
    char *s = malloc(2 * n + 1);
    for (size_t i = 0; i < n; i++) {
        s[i] = '[';
        s[n + i] = ']';
    }
    s[2 * n] = '\0';
    for (int skip = 0; skip < 2; skip++) {
        mp__jr r;
        json_t *j;
        assert_int_equal(read_one(&r, s, 2 * n, &j, skip), -1);
        assert_int_equal(r.err.code, MP__JR_E_DEPTH);
        assert_int_equal(r.err.position, 2049);
    }
    /* 2048 levels are fine, and so is a scalar at level 2048. */
    memcpy(s, "", 0);
    char *ok = malloc(2 * 2048 + 2);
    memset(ok, '[', 2047);
    ok[2047] = '1';
    memset(ok + 2048, ']', 2047);
    ok[4095] = '\0';
    mp__jr r;
    json_t *j;
    assert_int_equal(read_one(&r, ok, strlen(ok), &j, 1), 0);
    free(ok);
    free(s);
}

/* ------------------------------------------------------------------------ */
/* Differential test against jansson                                        */
/* ------------------------------------------------------------------------ */

static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static uint64_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Mutates s[0..*n) (room for *n + 64 bytes) in place. */
static void mutate(char *s, size_t *n) {
    static const char *const inserts[] = {"\"", "{", "}", "[", "]", ",", ":", "\\", "\\u",
                                          "\\ud800", "\\u0000", "-0", "1e999", "01", "\xFF",
                                          "\xC3", "\n", " ", "99999999999999999999", "tru",
                                          "\\\"", "\xE2\x82\xAC", "{\"a\":1,\"a\":2}"};
    int edits = 1 + (int)(rnd() % 3);
    for (int e = 0; e < edits && *n > 0; e++) {
        size_t at = (size_t)(rnd() % *n);
        switch (rnd() % 4) {
        case 0: /* byte flip */
            s[at] = (char)(rnd() & 0xFF);
            break;
        case 1: /* truncation */
            *n = at;
            break;
        case 2: { /* insertion */
            const char *ins = inserts[rnd() % (sizeof inserts / sizeof inserts[0])];
            size_t k = strlen(ins);
            memmove(s + at + k, s + at, *n - at);
            memcpy(s + at, ins, k);
            *n += k;
            break;
        }
        default: /* deletion */
            memmove(s + at, s + at + 1, *n - at - 1);
            (*n)--;
            break;
        }
    }
}

static int jansson_code_matches(const json_error_t *e, mp__jr_code code) {
    switch (json_error_code(e)) {
    case json_error_invalid_utf8:
        return code == MP__JR_E_UTF8;
    case json_error_premature_end_of_input:
        return code == MP__JR_E_PREMATURE;
    case json_error_null_character:
    case json_error_null_byte_in_key:
        return code == MP__JR_E_NUL;
    case json_error_stack_overflow:
        return code == MP__JR_E_DEPTH;
    case json_error_numeric_overflow:
        return code == MP__JR_E_RANGE;
    default:
        return code == MP__JR_E_SYNTAX;
    }
}

/* One input: same verdict, same value or same error place and class. */
static void compare(const char *s, size_t n, size_t *accepted, size_t *rejected) {
    json_error_t e;
    json_t *jj = json_loadb(s, n, JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK | JSON_REJECT_DUPLICATES,
                           &e);
    /* The two deliberate differences: jansson rejects integers beyond
     * int64 (we read doubles: compare with jansson reading every integer
     * as a double then), and reads "-0" as 0 (build() maps it). */
    ints_as_reals = 0;
    if (!jj && json_error_code(&e) == json_error_numeric_overflow && strstr(e.text, "integer")) {
        ints_as_reals = 1;
        jj = json_loadb(s, n,
                        JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK | JSON_REJECT_DUPLICATES |
                            JSON_DECODE_INT_AS_REAL,
                        &e);
    }
    for (int skip = 0; skip < 2; skip++) {
        mp__jr r;
        json_t *mine;
        int rc = read_one(&r, s, n, &mine, skip);
        if ((rc == 0) != (jj != NULL) ||
            (jj && (r.pos != (size_t)e.position || (!skip && !json_equal(jj, mine)))) ||
            (!jj && (r.err.position != (size_t)e.position || !jansson_code_matches(&e, r.err.code)))) {
            size_t at = jj ? 0 : (size_t)e.position, from = at > 60 ? at - 60 : 0;
            print_error("input (%zu bytes) near byte %zu: '%.*s'\njansson: %s at %d (%s)\n"
                        "reader: rc %d at %zu code %d (%s)\n",
                        n, from, (int)(n - from < 120 ? n - from : 120), s + from,
                        jj ? "ok" : "error", e.position, jj ? "" : e.text, rc,
                        rc ? r.err.position : r.pos, (int)r.err.code, r.err.text);
            fail();
        }
        /* The message is jansson's except after a number or word that a
         * bad UTF-8 byte follows (jansson quotes the number). */
        if (!jj && r.err.code != MP__JR_E_UTF8 && strcmp(r.err.text, e.text) != 0) {
            print_error("input '%.*s': jansson says '%s', reader '%s'\n", (int)n, s, e.text,
                        r.err.text);
            fail();
        }
        json_decref(mine);
    }
    if (jj)
        ++*accepted;
    else
        ++*rejected;
    json_decref(jj);
}

static void test_differential(void **state) {
    (void)state;
    mp_gen *g = mp_gen_new(42);
    mp_buffer *buf = mp_buffer_new(0);
    size_t accepted = 0, rejected = 0;
    char *s = NULL;
    for (int i = 0; i < 4000; i++) {
        mp_buffer_clear(buf);
        const mp_batch *b = i % 2 ? mp_gen_batch(g, i) : mp_gen_batch_nulls(g, i);
        assert_int_equal(mp_encode_batch(b, buf, NULL), MP_OK);
        size_t n = mp_buffer_length(buf);
        s = realloc(s, n + 64 * 4);
        memcpy(s, mp_buffer_data(buf), n);
        if (i % 8 != 0) /* most cases are mutated, some kept whole */
            for (int m = 0; m < 1 + i % 3; m++)
                mutate(s, &n);
        compare(s, n, &accepted, &rejected);
    }
    /* Both verdicts must be well represented, or the test proves little. */
    print_message("differential: %zu accepted, %zu rejected\n", accepted, rejected);
    assert_true(accepted > 500);
    assert_true(rejected > 1500);
    free(s);
    mp_buffer_free(buf);
    mp_gen_free(g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tokens),       cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_errors),       cmocka_unit_test(test_depth),
        cmocka_unit_test(test_differential),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Tests of the streaming decoder (mp_decoder): for every input, fed whole,
 * a byte at a time and in random chunks (seeded), the batches, their
 * indices, lines and ok flags, the problems (code, path, message, line,
 * column) and the final error code must be exactly mp_decode()'s for the
 * whole text. Inputs: the forms and hostile inputs of test_decode.c, the
 * CLI's and the fuzzer's files, generated batches in every input form, and
 * those mutated. Then what only a stream has: the record limit, memory that
 * stays at the largest batch over 10,000 batches, misuse of the API, and
 * allocation failure.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/decode_internal.h"
#include "common/alloc.h"
#include "mparticle/codec.h"
#include "support/generate.h"
#include "support/test_util.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

/* A growable string for building inputs. */
typedef struct text {
    char *s;
    size_t len, cap;
} text;

static void text_add(text *t, const char *s, size_t n) {
    if (t->len + n + 1 > t->cap) {
        size_t cap = (t->len + n + 1) * 2;
        char *p = realloc(t->s, cap);
        assert_non_null(p);
        t->s = p;
        t->cap = cap;
    }
    if (n)
        memcpy(t->s + t->len, s, n);
    t->len += n;
    t->s[t->len] = '\0';
}

static void text_adds(text *t, const char *s) {
    text_add(t, s, strlen(s));
}

/* xorshift64*: the same sequence on every machine. */
static uint64_t rng_next(uint64_t *s) {
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

/* How the input is cut: whole, a byte at a time, or random chunk sizes
 * (mostly small, sometimes large, so that values end anywhere). */
typedef enum chunking { WHOLE, BYTES, RANDOM } chunking;

static size_t next_chunk(chunking how, uint64_t *seed, size_t left) {
    size_t n;
    if (how == WHOLE)
        n = left;
    else if (how == BYTES)
        n = 1;
    else
        n = rng_next(seed) % 4 == 0 ? 1 + rng_next(seed) % 4096 : 1 + rng_next(seed) % 17;
    return n < left ? n : left;
}

static void dump(const mp_diag *diag, const char *label) {
    for (size_t i = 0; i < mp_diag_count(diag); i++) {
        const mp_problem *p = mp_diag_get(diag, i);
        print_message("  %s %zu: %s batch %ld path '%s' at %d:%d: %s\n", label, i,
                      mp_error_name(p->code), p->batch, p->path, p->line, p->column, p->message);
    }
}

static int same_problem(const mp_problem *a, const mp_problem *b) {
    return a->severity == b->severity && a->code == b->code && a->batch == b->batch &&
           strcmp(a->path, b->path) == 0 && strcmp(a->message, b->message) == 0 &&
           a->line == b->line && a->column == b->column;
}

/*
 * Decodes json[0..len) with mp_decode() and with a decoder fed as `how`
 * says, and fails the test at the first difference. max_record 0: none.
 * Returns the number of batches.
 */
static size_t check_same(const char *json, size_t len, chunking how, uint64_t seed,
                         const char *what) {
    mp_diag *want_diag = mp_diag_new(), *got_diag = mp_diag_new();
    assert_non_null(want_diag);
    assert_non_null(got_diag);
    mp_diag_set_max(want_diag, 1000000);
    mp_diag_set_max(got_diag, 1000000);
    mp_document *doc = NULL;
    mp_error want = mp_decode(json, len, &doc, want_diag);
    assert_non_null(doc);

    mp_decoder *dec = NULL;
    assert_int_equal(mp_decoder_new(&dec), MP_OK);
    mp_decoder_set_max_record(dec, 0);
    size_t fed = 0, n = 0;
    for (;;) {
        if (fed < len) {
            size_t k = next_chunk(how, &seed, len - fed);
            assert_int_equal(mp_decoder_feed(dec, json + fed, k), MP_OK);
            fed += k;
        } else {
            mp_decoder_finish(dec);
        }
        mp_decoded_batch b;
        mp_decode_status st;
        while ((st = mp_decoder_next(dec, &b, got_diag)) == MP_DECODE_BATCH) {
            char why[512];
            if (n >= mp_document_count(doc))
                fail_msg("%s: batch %zu is one too many", what, n);
            if (b.index != (long)n || b.line != mp_document_batch_line(doc, n) ||
                b.ok != mp_document_batch_ok(doc, n))
                fail_msg("%s: batch %zu: index %ld line %d ok %d, mp_decode(): line %d ok %d",
                         what, n, b.index, b.line, b.ok, mp_document_batch_line(doc, n),
                         mp_document_batch_ok(doc, n));
            if (!mp_test_batch_equal(mp_document_batch(doc, n), b.batch, why, sizeof why))
                fail_msg("%s: batch %zu differs: %s", what, n, why);
            n++;
        }
        if (st == MP_DECODE_END)
            break;
        assert_int_equal(st, MP_DECODE_NEED_INPUT);
        assert_true(fed < len || fed == len);
    }
    if (n != mp_document_count(doc))
        fail_msg("%s: %zu batches, mp_decode() %zu", what, n, mp_document_count(doc));
    assert_int_equal(mp_decoder_error(dec), want);
    size_t count = mp_diag_count(want_diag);
    int same = mp_diag_count(got_diag) == count;
    for (size_t i = 0; same && i < count; i++)
        same = same_problem(mp_diag_get(want_diag, i), mp_diag_get(got_diag, i));
    if (!same) {
        dump(want_diag, "mp_decode");
        dump(got_diag, "stream");
        fail_msg("%s: the problems differ", what);
    }
    mp_decoder_free(dec);
    mp_document_free(doc);
    mp_diag_free(want_diag);
    mp_diag_free(got_diag);
    return n;
}

/* check_same() whole, a byte at a time (inputs up to max_bytewise bytes)
 * and in three random chunkings. */
static void check_all_chunkings(const char *json, size_t len, const char *what) {
    check_same(json, len, WHOLE, 0, what);
    if (len <= 20000)
        check_same(json, len, BYTES, 0, what);
    for (uint64_t seed = 1; seed <= 3; seed++)
        check_same(json, len, RANDOM, seed * 0x9E3779B97F4A7C15ull, what);
}

static void check_all_chunkings_str(const char *json) {
    check_all_chunkings(json, strlen(json), json);
}

/* ------------------------------------------------------------------------ */
/* The same batches and problems as mp_decode()                             */
/* ------------------------------------------------------------------------ */

static const char *const rich_batch =
    "{\"source_request_id\":\"r\",\"context\":{\"data_plan\":{\"plan_id\":\"p\",\"plan_version\":2}},"
    "\"events\":[{\"data\":{\"timestamp_unixtime_ms\":1700000000000,\"custom_attributes\":"
    "{\"a\":\"caf\xC3\xA9 \\\"q\\\" \\u00e9\\ud83d\\ude00\",\"n\":-1,\"f\":1.5e-7,\"t\":true,\"z\":null},"
    "\"custom_event_type\":\"navigation\",\"event_name\":\"x\"},\"event_type\":\"custom_event\"},"
    "{\"data\":{\"product_action\":{\"action\":\"purchase\",\"products\":[{\"id\":\"s\",\"price\":"
    "19.99,\"quantity\":2}]}},\"event_type\":\"commerce_event\"}],"
    "\"user_attributes\":{\"Account type\":\"trial\",\"l\":[\"a\",1,false,null]},"
    "\"environment\":\"production\",\"integration_attributes\":{\"92\":{\"k\":\"v\"}},"
    "\"mpid\":-2271448330363288817,\"consent_state\":{\"gdpr\":{\"p\":{\"consented\":false}}}}";

/* The input forms and broken inputs of test_decode.c. */
static void test_forms_and_errors(void **state) {
    (void)state;
    static const char *const inputs[] = {
        "",
        " \n\t\r\n",
        "\xEF\xBB\xBF",
        "\xEF\xBB",
        "\xEF\xBB\xBF{\"mpid\":1}\n\n  \r\n{\"mpid\":2}\r\n{\"mpid\":3}{\"mpid\":4}\n"
        "{\n  \"mpid\": 5\n}\n{\"mpid\":6}",
        "{\"mpid\":1}\n{\"mpid\":2,,}\n{\"mpid\":3,\"ip\":\"caf\xC3\xA9\"\n{\"mpid\":4}\nhello\n"
        "{\"mpid\":99999999999999999999}\n{\"mpid\":7} tail\n{\"mpid\":8}\n",
        " [\n{\"mpid\":1},\n  {\"mpid\":2} , {\"mpid\":3}\n]\n",
        "[ ]",
        "[",
        "[\n",
        "[{\"mpid\":1},\n{\"mpid\":2,},{\"mpid\":3}]",
        "[{\"mpid\":1} {\"mpid\":2}]",
        "[{\"mpid\":1},\n",
        "[{\"mpid\":1}]\n]",
        "[{\"mpid\":1}]   \n  ",
        "[{\"mpid\":1},[],\"x\",{\"mpid\":2}]",
        "[1,true,null,\"s\",-0,99999999999999999999,{\"mpid\":3}]",
        "[{\"mpid\":1}] and then a long tail of text that goes on and on and on and on",
        "[{\"mpid\":1},{\"mpid\":2}\n  and then a long tail of text that goes on and on and on",
        "{\n  \"mpid\": 1,\n  \"context\": {\n    \"data_plan\": {}\n  }\n}\n",
        "{\n\"events\": [\n{\n\"event_type\": \"session_start\"\n},\n{\n"
        "\"event_type\": \"uninstall\"\n}\n],\n\"mpid\": 1\n}",
        "{\n\"events\": [\n{\n\"event_type\": \"session_start\"\n},\n{\n"
        "\"event_type\": \"uninstall\"\n}\n],\n\"mpid\": 1\n",
        "{\n  \"mpid\": 1,\n  \"ip\": tru\n}\n",
        "{\"mpid\":1} x",
        "{\"mpid\":1}}",
        "{\"mpid\":1}    \t\r",
        "{\"mpid\":1} tail tail tail tail tail tail tail tail tail tail tail tail tail tail tail",
        "{\"mpid\":1,\"device_info\":{\"brand\":\"a\",\"brand\":\"b\"}}",
        "{\"ip\":\"a\xFF\"}",
        "{\"ip\":\"\xE2\x82\"}",
        "{\"\x80\":1}",
        "{\"ip\":\"\\ud800\"}",
        "{\"ip\":\"a\\u0000b\"}",
        "{\"user_attributes\":{\"a\\u0000\":1}}",
        "{\"user_attributes\":{\"a\\u00e9\":1,\"a\\u00e9\":2}}",
        "{\"mpid\":1e400}\n{\"mpid\":2}",
        "{\"mpid\":-0,\"batch_id\":99999999999999999999}",
        "{\"mpid\":12",
        "{\"mpid\":tr",
        "{\"mpid\":true",
        "123",
        "123\n{\"mpid\":1}",
        "\"abc",
        "\"abc\n{\"mpid\":1}",
        "{\"events\":[{\"data\":{\"custom_attributes\":{\"a\":{}}},\"event_type\":\"custom_event\","
        "\"x\":1},{\"event_type\":\"custom_event\",\"data\":{\"custom_attributes\":{\"a\":[{}]}},"
        "\"y\":2}]}",
        "{\"events\":[{\"data\":{\"custom_event_type\":\"nope\"},\"event_type\":\"custom_event\","
        "\"z\":3,\"data\":1}]}",
        "{\"events\":[\n{},\n{\"events\":[\n{},\n{\"events\":[\n{},\n",
        "{\"a\":[1,2\n{\"mpid\":1}\n",
        "\n\n{\"mpid\":1}\n\n\n{\"mpid\":\n2}\n",
    };
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++)
        check_all_chunkings_str(inputs[i]);

    check_all_chunkings_str(rich_batch);
    /* Every prefix of a rich batch, and of three of them as NDJSON. */
    size_t n = strlen(rich_batch);
    for (size_t k = 0; k < n; k += 7)
        check_all_chunkings(rich_batch, k, "prefix");
    text t = {0};
    for (int i = 0; i < 3; i++) {
        text_adds(&t, rich_batch);
        text_adds(&t, "\n");
    }
    for (size_t k = 0; k <= t.len; k += 37)
        check_same(t.s, k, RANDOM, k + 1, "ndjson prefix");
    free(t.s);
}

/* Deep nesting and the inputs built to make decoding quadratic. */
static void test_hostile(void **state) {
    (void)state;
    text t = {0};
    for (int i = 0; i < 10000; i++)
        text_adds(&t, "[");
    check_all_chunkings(t.s, t.len, "10000 [");
    t.len = 0;
    text_adds(&t, "{\"user_attributes\":{\"x\":");
    for (int i = 0; i < 2000; i++)
        text_adds(&t, "[");
    for (int i = 0; i < 2000; i++)
        text_adds(&t, "]");
    text_adds(&t, "}}");
    check_all_chunkings(t.s, t.len, "2000 levels");

    t.len = 0;
    text_adds(&t, "[");
    for (int i = 0; i < 20000; i++)
        text_adds(&t, i % 2 ? "[-0]," : "99999999999999999999,");
    text_adds(&t, "{\"mpid\":-0}]");
    check_same(t.s, t.len, WHOLE, 0, "long array");
    check_same(t.s, t.len, RANDOM, 7, "long array");

    /* Records that each open a value continued by the following records:
     * the first are read again past their line, within the budget. */
    t.len = 0;
    for (int i = 0; i < 4096; i++)
        text_add(&t, "{\"events\":[\n{},\n", 16);
    check_same(t.s, t.len, WHOLE, 0, "open records");
    check_same(t.s, t.len, RANDOM, 11, "open records");
    check_same(t.s, t.len, BYTES, 0, "open records");
    free(t.s);
}

/* Every file of the CLI tests and of the fuzzer's corpus and regressions. */
static void check_directory(const char *dir) {
    DIR *d = opendir(dir);
    if (!d)
        return; /* not in this checkout */
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t len;
        char *json = mp_test_read_file(path, &len);
        if (!json)
            continue; /* a directory */
        check_all_chunkings(json, len, path);
        free(json);
    }
    closedir(d);
}

static void test_files(void **state) {
    (void)state;
    check_directory(MP_TEST_DATA_DIR "/../cli/data");
    check_directory(MP_TEST_DATA_DIR "/../fuzz/corpus");
    check_directory(MP_TEST_DATA_DIR "/../fuzz/regressions");
}

/* Appends compact JSON pretty-printed: a line per member and element,
 * indented by `indent` spaces a level. */
static void pretty_print(text *t, const char *json, int indent) {
    int depth = 0, in_string = 0;
    for (const char *p = json; *p; p++) {
        char c = *p;
        if (in_string) {
            text_add(t, p, 1);
            if (c == '\\')
                text_add(t, ++p, 1);
            else if (c == '"')
                in_string = 0;
            continue;
        }
        if (c == '}' || c == ']') {
            depth--;
            text_adds(t, "\n");
            for (int i = 0; i < depth * indent; i++)
                text_adds(t, " ");
        }
        text_add(t, p, 1);
        if (c == ':')
            text_adds(t, " ");
        if (c == '"')
            in_string = 1;
        if (c == '{' || c == '[' || c == ',') {
            depth += c != ',';
            text_adds(t, "\n");
            for (int i = 0; i < depth * indent; i++)
                text_adds(t, " ");
        }
    }
    text_adds(t, "\n");
}

/* Generated batches (every field, with and without nulls) as NDJSON, as an
 * array, and pretty-printed with and without indentation. */
static void generated_inputs(text *ndjson, text *array, text *pretty, text *flat, int count,
                             uint64_t seed) {
    mp_gen *g = mp_gen_new(seed);
    mp_buffer *buf = mp_buffer_new(0);
    assert_non_null(buf);
    text_adds(array, "[\n");
    for (int v = 0; v < count; v++) {
        const mp_batch *b = v % 3 == 1 ? mp_gen_batch_nulls(g, v) : mp_gen_batch(g, v);
        mp_buffer_clear(buf);
        assert_int_equal(mp_encode_batch(b, buf, NULL), MP_OK);
        text_add(ndjson, mp_buffer_data(buf), mp_buffer_length(buf));
        text_adds(ndjson, v % 4 == 3 ? "\r\n\n" : "\n");
        if (v)
            text_adds(array, ",\n");
        text_add(array, mp_buffer_data(buf), mp_buffer_length(buf));
        pretty_print(pretty, mp_buffer_data(buf), 2);
        /* No indentation: nested objects start in column 1. */
        pretty_print(flat, mp_buffer_data(buf), 0);
        mp_gen_reset(g);
    }
    text_adds(array, "\n]\n");
    mp_buffer_free(buf);
    mp_gen_free(g);
}

static void test_generated(void **state) {
    (void)state;
    text ndjson = {0}, array = {0}, pretty = {0}, flat = {0};
    generated_inputs(&ndjson, &array, &pretty, &flat, 12, 20260601);
    check_all_chunkings(ndjson.s, ndjson.len, "generated ndjson");
    check_all_chunkings(array.s, array.len, "generated array");
    check_all_chunkings(pretty.s, pretty.len, "generated pretty");
    check_all_chunkings(flat.s, flat.len, "generated flat");
    assert_int_equal(check_same(flat.s, flat.len, RANDOM, 5, "flat"), 12);
    free(ndjson.s);
    free(array.s);
    free(pretty.s);
    free(flat.s);
}

/* Generated inputs mutated the ways of test_json_reader.c's differential
 * test: bytes flipped, cut, deleted, structural characters inserted. */
static void mutate(text *t, uint64_t *seed) {
    static const char inserts[] = "{}[]\",:\n\\u0 e-.\xC3\xFF";
    int edits = 1 + (int)(rng_next(seed) % 4);
    for (int e = 0; e < edits && t->len > 1; e++) {
        size_t at = rng_next(seed) % t->len;
        switch (rng_next(seed) % 5) {
        case 0:
            t->s[at] = (char)(rng_next(seed) & 0xFF);
            break;
        case 1:
            t->len = at;
            break;
        case 2:
            memmove(t->s + at, t->s + at + 1, t->len - at - 1);
            t->len--;
            break;
        default: {
            char c = inserts[rng_next(seed) % (sizeof inserts - 1)];
            text_add(t, " ", 1);
            memmove(t->s + at + 1, t->s + at, t->len - at - 1);
            t->s[at] = c;
            break;
        }
        }
    }
}

static void test_mutated(void **state) {
    (void)state;
    text ndjson = {0}, array = {0}, pretty = {0}, flat = {0};
    generated_inputs(&ndjson, &array, &pretty, &flat, 3, 77);
    const text *forms[] = {&ndjson, &array, &pretty, &flat};
    uint64_t seed = 0x1234567;
    for (int round = 0; round < 400; round++) {
        const text *f = forms[round % 4];
        text t = {0};
        text_add(&t, f->s, f->len);
        mutate(&t, &seed);
        char what[64];
        snprintf(what, sizeof what, "mutation %d", round);
        check_same(t.s, t.len, WHOLE, 0, what);
        check_same(t.s, t.len, RANDOM, seed, what);
        if (round % 20 == 0)
            check_same(t.s, t.len, BYTES, 0, what);
        free(t.s);
    }
    free(ndjson.s);
    free(array.s);
    free(pretty.s);
    free(flat.s);
}

/* ------------------------------------------------------------------------ */
/* The record limit                                                         */
/* ------------------------------------------------------------------------ */

typedef struct seen {
    long index[16];
    int line[16];
    int ok[16];
    int64_t mpid[16];
    size_t n;
    size_t max_footprint;
} seen;

/* Feeds json in chunks of `chunk` bytes with the given limit, counts the
 * batches, records the first 16 and the largest footprint. */
static void stream(const char *json, size_t len, size_t chunk, size_t max_record, mp_diag *diag,
                   seen *s) {
    mp_decoder *dec;
    assert_int_equal(mp_decoder_new(&dec), MP_OK);
    mp_decoder_set_max_record(dec, max_record);
    memset(s, 0, sizeof *s);
    size_t fed = 0;
    for (;;) {
        if (fed < len) {
            size_t k = len - fed < chunk ? len - fed : chunk;
            assert_int_equal(mp_decoder_feed(dec, json + fed, k), MP_OK);
            fed += k;
        } else {
            mp_decoder_finish(dec);
        }
        mp_decoded_batch b;
        mp_decode_status st;
        while ((st = mp_decoder_next(dec, &b, diag)) == MP_DECODE_BATCH) {
            if (s->n < 16) {
                s->index[s->n] = b.index;
                s->line[s->n] = b.line;
                s->ok[s->n] = b.ok;
                s->mpid[s->n] = b.batch->mpid.value;
            }
            s->n++;
        }
        size_t fp = mp__decoder_footprint(dec);
        if (fp > s->max_footprint)
            s->max_footprint = fp;
        if (st == MP_DECODE_END)
            break;
        assert_int_equal(st, MP_DECODE_NEED_INPUT);
    }
    mp_decoder_free(dec);
}

static void expect_limit_problem(const mp_diag *diag, size_t i, long batch, int line) {
    const mp_problem *p = mp_diag_get(diag, i);
    assert_non_null(p);
    assert_string_equal(mp_error_name(p->code), "MP_ERR_LIMIT");
    assert_int_equal(p->batch, batch);
    assert_int_equal(p->line, line);
    assert_int_equal(p->column, 1);
    assert_non_null(strstr(p->message, "larger than 100000 bytes"));
    assert_non_null(strstr(p->message, "mp_decoder_set_max_record"));
}

static void test_record_limit(void **state) {
    (void)state;
    mp_diag *diag = mp_diag_new();
    const size_t big = 10u * 1024 * 1024;
    seen s;

    /* NDJSON: a 10 MB line between two good ones, under a 100 kB limit. */
    text t = {0};
    text_adds(&t, "{\"mpid\":1}\n{\"source_request_id\":\"");
    for (size_t i = 0; i < big; i += 64)
        text_adds(&t, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    text_adds(&t, "\"}\n  \n{\"mpid\":3}\n");
    for (size_t chunk = 4096; chunk <= 65536; chunk *= 16) {
        mp_diag_clear(diag);
        stream(t.s, t.len, chunk, 100000, diag, &s);
        assert_int_equal(s.n, 3);
        assert_int_equal(s.ok[0], 1);
        assert_int_equal(s.ok[1], 0);
        assert_int_equal(s.ok[2], 1);
        assert_int_equal(s.mpid[2], 3);
        assert_int_equal(s.index[2], 2);
        assert_int_equal(s.line[2], 4);
        assert_int_equal(mp_diag_count(diag), 1);
        expect_limit_problem(diag, 0, 1, 2);
        /* Never kept: the window stays near the limit, not the 10 MB. */
        assert_true(s.max_footprint < 1024 * 1024);
    }

    /* The same batch as an array element: skipped by its brackets. */
    t.len = 0;
    text_adds(&t, "[{\"mpid\":1},\n{\"user_attributes\":{\"a\":[\"");
    for (size_t i = 0; i < big; i += 64)
        text_adds(&t, "]]]]]]]]{{{{{{{{,,,,,,,,\\\"\\\"\\\"\\\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    text_adds(&t, "\"]}}, {\"mpid\":3} ]");
    mp_diag_clear(diag);
    stream(t.s, t.len, 65536, 100000, diag, &s);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.ok[1], 0);
    assert_int_equal(s.ok[2], 1);
    assert_int_equal(s.mpid[2], 3);
    assert_int_equal(mp_diag_count(diag), 1);
    expect_limit_problem(diag, 0, 1, 2);
    assert_true(s.max_footprint < 1024 * 1024);

    /* A pretty-printed batch without indentation over the limit, read
     * again past its lines: the limit, and the next record after it. */
    t.len = 0;
    text_adds(&t, "{\n\"events\": [\n");
    for (size_t i = 0; i < 20000; i++)
        text_adds(&t, "{\n\"event_type\": \"uninstall\"\n},\n");
    text_adds(&t, "{\n\"event_type\": \"uninstall\"\n}\n]\n}\n");
    mp_diag_clear(diag);
    stream(t.s, t.len, 65536, 100000, diag, &s);
    assert_int_equal(s.ok[0], 0);
    expect_limit_problem(diag, 0, 0, 1);
    /* Each "{" line after it is a record of its own, and so is the "]"
     * line closing the events. */
    assert_int_equal(s.n, 1 + 20001 + 1);
    assert_int_equal(s.line[1], 3);
    /* Without a limit it is one good batch. */
    mp_diag_clear(diag);
    stream(t.s, t.len, 65536, 0, diag, &s);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.ok[0], 1);
    assert_int_equal(mp_diag_count(diag), 0);

    /* The default limit is 64 MiB. */
    mp_decoder *dec;
    assert_int_equal(mp_decoder_new(&dec), MP_OK);
    assert_int_equal(dec->max_record, MP_DECODER_MAX_RECORD);
    assert_int_equal(MP_DECODER_MAX_RECORD, 64u * 1024 * 1024);
    mp_decoder_free(dec);
    free(t.s);
    mp_diag_free(diag);
}

/* ------------------------------------------------------------------------ */
/* Memory over many batches                                                 */
/* ------------------------------------------------------------------------ */

/* 10,000 batches (25 generated ones, over and over) through a decoder in
 * 64 KiB chunks: once every size was seen, its memory does not grow. */
static void test_memory_reused(void **state) {
    (void)state;
    mp_gen *g = mp_gen_new(99);
    mp_buffer *buf = mp_buffer_new(0);
    text lines[25];
    size_t largest = 0;
    for (int v = 0; v < 25; v++) {
        mp_buffer_clear(buf);
        assert_int_equal(mp_encode_batch(mp_gen_batch(g, v), buf, NULL), MP_OK);
        lines[v] = (text){0};
        text_add(&lines[v], mp_buffer_data(buf), mp_buffer_length(buf));
        text_adds(&lines[v], "\n");
        if (lines[v].len > largest)
            largest = lines[v].len;
        mp_gen_reset(g);
    }
    mp_decoder *dec;
    assert_int_equal(mp_decoder_new(&dec), MP_OK);
    text chunk = {0};
    size_t batches = 0, early = 0, late = 0;
    for (int i = 0; i < 10000; i++) {
        text_add(&chunk, lines[i % 25].s, lines[i % 25].len);
        if (chunk.len < 65536 && i < 9999)
            continue;
        assert_int_equal(mp_decoder_feed(dec, chunk.s, chunk.len), MP_OK);
        chunk.len = 0;
        if (i == 9999)
            mp_decoder_finish(dec);
        mp_decoded_batch b;
        mp_decode_status st;
        while ((st = mp_decoder_next(dec, &b, NULL)) == MP_DECODE_BATCH) {
            assert_int_equal(b.ok, 1);
            assert_int_equal(b.index, (long)batches);
            batches++;
            size_t fp = mp__decoder_footprint(dec);
            size_t *peak = batches <= 1000 ? &early : &late;
            if (fp > *peak)
                *peak = fp;
        }
        assert_int_equal(st, i == 9999 ? MP_DECODE_END : MP_DECODE_NEED_INPUT);
    }
    assert_int_equal(batches, 10000);
    print_message("largest batch %zu bytes, footprint: first 1000 batches %zu, "
                  "the 9000 after %zu\n",
                  largest, early, late);
    assert_true(late <= early);
    /* The window (a chunk and a batch, doubled) and one batch's memory. */
    assert_true(early < 4 * (65536 + largest) + 16 * largest + 65536);
    mp_decoder_free(dec);
    free(chunk.s);
    for (int v = 0; v < 25; v++)
        free(lines[v].s);
    mp_buffer_free(buf);
    mp_gen_free(g);
}

/* ------------------------------------------------------------------------ */
/* The API                                                                  */
/* ------------------------------------------------------------------------ */

static void test_api(void **state) {
    (void)state;
    mp_decoded_batch b;
    assert_int_equal(mp_decoder_new(NULL), MP_ERR_INVALID_ARGUMENT);
    mp_decoder_free(NULL);
    mp_decoder_finish(NULL);
    mp_decoder_set_max_record(NULL, 1);
    assert_int_equal(mp_decoder_next(NULL, &b, NULL), MP_DECODE_ERROR);
    assert_int_equal(mp_decoder_feed(NULL, "x", 1), MP_ERR_INVALID_ARGUMENT);
    assert_int_equal(mp_decoder_error(NULL), MP_ERR_INVALID_ARGUMENT);

    mp_decoder *dec;
    assert_int_equal(mp_decoder_new(&dec), MP_OK);
    assert_int_equal(mp_decoder_next(dec, NULL, NULL), MP_DECODE_ERROR);
    assert_int_equal(mp_decoder_feed(dec, NULL, 1), MP_ERR_INVALID_ARGUMENT);
    assert_int_equal(mp_decoder_feed(dec, NULL, 0), MP_OK);
    assert_int_equal(mp_decoder_next(dec, &b, NULL), MP_DECODE_NEED_INPUT);
    /* A record that is one whole line, and decodes, is handed out when its
     * newline arrives (a live NDJSON pipe); one that is not yet a line, or
     * does not decode alone, waits for the next record to start. */
    assert_int_equal(mp_decoder_feed(dec, "{\"mpid\":1}", 10), MP_OK);
    assert_int_equal(mp_decoder_next(dec, &b, NULL), MP_DECODE_NEED_INPUT);
    assert_int_equal(mp_decoder_feed(dec, "\n", 1), MP_OK);
    assert_int_equal(mp_decoder_next(dec, &b, NULL), MP_DECODE_BATCH);
    assert_int_equal(b.index, 0);
    assert_int_equal(b.line, 1);
    assert_int_equal(b.ok, 1);
    assert_int_equal(b.batch->mpid.value, 1);
    assert_int_equal(mp_decoder_next(dec, &b, NULL), MP_DECODE_NEED_INPUT);
    assert_int_equal(mp_decoder_feed(dec, "{\"mpid\":", 8), MP_OK);
    assert_int_equal(mp_decoder_next(dec, &b, NULL), MP_DECODE_NEED_INPUT);
    assert_int_equal(mp_decoder_feed(dec, "x}", 2), MP_OK);
    mp_decoder_finish(dec);
    assert_int_equal(mp_decoder_feed(dec, "{}", 2), MP_ERR_INVALID_ARGUMENT);
    mp_diag *diag = mp_diag_new();
    assert_int_equal(mp_decoder_next(dec, &b, diag), MP_DECODE_BATCH);
    assert_int_equal(b.index, 1);
    assert_int_equal(b.line, 2);
    assert_int_equal(b.ok, 0);
    assert_int_equal(mp_diag_count(diag), 1);
    assert_int_equal(mp_diag_get(diag, 0)->batch, 1);
    assert_int_equal(mp_decoder_next(dec, &b, diag), MP_DECODE_END);
    assert_int_equal(mp_decoder_next(dec, &b, diag), MP_DECODE_END);
    assert_int_equal(mp_decoder_error(dec), MP_ERR_JSON_SYNTAX);
    mp_decoder_free(dec);

    /* Text after an array is dropped as it comes, never kept. */
    assert_int_equal(mp_decoder_new(&dec), MP_OK);
    assert_int_equal(mp_decoder_feed(dec, "[{}]      x", 11), MP_OK);
    assert_int_equal(mp_decoder_next(dec, &b, diag), MP_DECODE_BATCH);
    mp_diag_clear(diag);
    /* The problem waits for the text it quotes. */
    assert_int_equal(mp_decoder_next(dec, &b, diag), MP_DECODE_NEED_INPUT);
    assert_int_equal(mp_diag_count(diag), 0);
    char junk[4096];
    memset(junk, 'x', sizeof junk);
    assert_int_equal(mp_decoder_feed(dec, junk, sizeof junk), MP_OK);
    assert_int_equal(mp_decoder_next(dec, &b, diag), MP_DECODE_NEED_INPUT);
    assert_int_equal(mp_diag_count(diag), 1);
    assert_int_equal(mp_diag_get(diag, 0)->batch, -1);
    size_t fp = mp__decoder_footprint(dec);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(mp_decoder_feed(dec, junk, sizeof junk), MP_OK);
    assert_int_equal(mp__decoder_footprint(dec), fp);
    mp_decoder_finish(dec);
    assert_int_equal(mp_decoder_next(dec, &b, diag), MP_DECODE_END);
    mp_decoder_free(dec);
    mp_diag_free(diag);
}

/* ------------------------------------------------------------------------ */
/* Allocation failure                                                       */
/* ------------------------------------------------------------------------ */

static long alloc_countdown = -1;
static int alloc_failed;

static void *failing_malloc(size_t n) {
    if (alloc_countdown == 0) {
        alloc_failed = 1;
        return NULL;
    }
    if (alloc_countdown > 0)
        alloc_countdown--;
    return malloc(n);
}

/* Every allocation of a streamed decode fails in turn: each failure is
 * MP_ERR_NOMEM or MP_DECODE_ERROR with a problem saying so, sticky, and
 * nothing leaks (ASan). */
static void test_out_of_memory(void **state) {
    (void)state;
    text t = {0};
    for (int i = 0; i < 3; i++) {
        text_adds(&t, rich_batch);
        text_adds(&t, "\n{\"a\":[\n{},\n");
    }
    mp_diag *diag = mp_diag_new();
    mp__decode_malloc = failing_malloc;
    size_t failures = 0;
    for (long n = 0;; n++) {
        alloc_countdown = n;
        alloc_failed = 0;
        mp_diag_clear(diag);
        mp_decoder *dec = NULL;
        mp_error err = mp_decoder_new(&dec);
        int failed = err != MP_OK;
        size_t fed = 0;
        while (!failed) {
            if (fed < t.len) {
                size_t k = t.len - fed < 100 ? t.len - fed : 100;
                if (mp_decoder_feed(dec, t.s + fed, k) != MP_OK) {
                    failed = 1;
                    break;
                }
                fed += k;
            } else {
                mp_decoder_finish(dec);
            }
            mp_decoded_batch b;
            mp_decode_status st;
            while ((st = mp_decoder_next(dec, &b, diag)) == MP_DECODE_BATCH)
                ;
            if (st == MP_DECODE_ERROR) {
                failed = 1;
                assert_int_equal(mp_decoder_error(dec), MP_ERR_NOMEM);
                assert_int_equal(mp_decoder_next(dec, &b, diag), MP_DECODE_ERROR);
                const mp_problem *p = mp_diag_get(diag, mp_diag_count(diag) - 1);
                assert_string_equal(mp_error_name(p->code), "MP_ERR_NOMEM");
            }
            if (st == MP_DECODE_END)
                break;
        }
        mp_decoder_free(dec);
        alloc_countdown = -1;
        if (!alloc_failed) {
            assert_false(failed);
            break;
        }
        assert_true(failed);
        failures++;
    }
    mp__decode_malloc = mp__malloc;
    assert_true(failures >= 5);
    mp_diag_free(diag);
    free(t.s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forms_and_errors),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_files),
        cmocka_unit_test(test_generated),
        cmocka_unit_test(test_mutated),
        cmocka_unit_test(test_record_limit),
        cmocka_unit_test(test_memory_reused),
        cmocka_unit_test(test_api),
        cmocka_unit_test(test_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

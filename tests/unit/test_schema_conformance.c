/*
 * Conformance: what the codec writes is what mParticle's official JSON
 * Schema accepts, and encode, decode and validate agree with each other.
 *
 * Batches come from the table-driven generator (tests/support/generate.c),
 * which fills every field of every object, so a field added to the schema
 * tables is covered here without editing this file. The JSON Schema check
 * is independent of this library: python3-jsonschema against the official
 * schema file, with the stale points patched in tests/schema/check_schema.py.
 * Python starts once per group of batches (NDJSON), not once per batch.
 *
 * The schema's files are mParticle's and not in the repository
 * (MP_REFERENCE_DIR, see tests/support/test_util.h). So the program runs in
 * two ways, registered as two ctest tests:
 *   test_schema_conformance             everything but the official schema
 *                                       and sample (their checks left out)
 *   test_schema_conformance --official  the tests with those checks; exits
 *                                       77 (skipped) when the files are absent
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mparticle.h"
#include "schema/schema.h"
#include "support/generate.h"
#include "support/test_util.h"

/* Two seeds x 100 variants, each as values and with nulls: 400 batches.
 * 100 variants walk every enum (the longest has 25 values) four times. */
static const uint64_t SEEDS[] = {1, 0x5EED2026};
#define VARIANTS 100
#define NSEEDS (sizeof SEEDS / sizeof SEEDS[0])

typedef const mp_batch *(*gen_fn)(mp_gen *, int);
static const gen_fn MODES[] = {mp_gen_batch, mp_gen_batch_nulls};
static const char *const MODE_NAMES[] = {"values", "nulls"};
#define NMODES 2

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

static void print_problems(const mp_diag *d, const char *what) {
    for (size_t i = 0; i < mp_diag_count(d); i++) {
        const mp_problem *p = mp_diag_get(d, i);
        print_message("%s: %s %s at %s: %s\n", what,
                      p->severity == MP_SEVERITY_ERROR ? "error" : "warning",
                      mp_error_name(p->code), p->path[0] ? p->path : "$", p->message);
    }
}

static size_t error_count(const mp_diag *d) {
    return mp_diag_error_count(d);
}

/* Encodes b into a fresh buffer; fails the test on error. */
static mp_buffer *encode_or_fail(const mp_batch *b, const char *what) {
    mp_buffer *buf = mp_buffer_new(0);
    mp_diag *d = mp_diag_new();
    assert_non_null(buf);
    assert_non_null(d);
    mp_error err = mp_encode_batch(b, buf, d);
    if (err != MP_OK)
        print_problems(d, what);
    assert_int_equal(err, MP_OK);
    mp_diag_free(d);
    return buf;
}

/* Whether the official schema's checks run (--official). */
static int official;

/* Writes text to a temp file, runs the schema check on it with `option`,
 * and fails the test (printing what the check said) unless it exits with
 * `expected`. Returns the output (free()); NULL without --official. */
static char *schema_check_text(const char *text, size_t len, const char *option, int expected) {
    if (!official)
        return NULL;
    char path[256];
    assert_int_equal(mp_test_write_temp(text, len, path, sizeof path), 0);
    char *out = NULL;
    int rc = mp_test_schema_check_file(path, option, &out);
    if (rc != expected)
        print_message("check_schema.py %s %s exited %d (expected %d):\n%s\n",
                      option ? option : "", path, rc, expected, out ? out : "");
    else
        remove(path);
    assert_int_equal(rc, expected);
    return out;
}

/* Decodes exactly one batch with no error; the document is the caller's. */
static mp_document *decode_one(const char *json, size_t len, const char *what) {
    mp_document *doc = NULL;
    mp_diag *d = mp_diag_new();
    mp_error err = mp_decode(json, len, &doc, d);
    if (err != MP_OK || error_count(d) != 0)
        print_problems(d, what);
    assert_int_equal(err, MP_OK);
    assert_int_equal(error_count(d), 0);
    assert_non_null(doc);
    assert_int_equal(mp_document_count(doc), 1);
    assert_true(mp_document_batch_ok(doc, 0));
    mp_diag_free(d);
    return doc;
}

/* ------------------------------------------------------------------------ */
/* The generator covers the whole model                                     */
/* ------------------------------------------------------------------------ */

typedef struct coverage {
    /* seen[e][v]: enum mp__enums[e] took value v somewhere */
    unsigned char seen[32][32];
    int missing_fields;
} coverage;

static int enum_slot(const mp__enum *e) {
    for (int i = 0; i < mp__enum_count; i++)
        if (mp__enums[i] == e)
            return i;
    return -1;
}

static void cover_object(coverage *c, const mp__object *obj, const void *base, int allow_absent);

/* Notes a field of a generated batch: every field must hold a value (null
 * is never generated in values mode), enum values are tallied. */
static void cover_field(coverage *c, const mp__object *obj, const mp__field *f, const void *base,
                        int allow_absent) {
    const char *at = (const char *)base + f->offset;
    int present = 1;
    switch ((mp__kind)f->kind) {
    case MP__K_INT64:
    case MP__K_DOUBLE:
    case MP__K_BOOL:
        present = *(const unsigned char *)at == MP_PRESENT; /* `state` leads each mp_opt_* */
        break;
    case MP__K_ENUM: {
        int v = mp__load_enum(base, f->offset);
        int slot = enum_slot((const mp__enum *)f->sub);
        present = v != 0;
        assert_true(slot >= 0 && slot < 32 && v >= 0 && v < 32);
        c->seen[slot][v] = 1;
        break;
    }
    case MP__K_VALUE:
        present = ((const mp_value *)(const void *)at)->type != MP_VALUE_ABSENT;
        break;
    default: {
        const void *p = mp__load_ptr(base, f->offset);
        present = p != NULL && !MP_IS_NULL(p);
        if (!present)
            break;
        if (f->kind == MP__K_OBJECT) {
            cover_object(c, (const mp__object *)f->sub, p, 0);
        } else if (f->kind == MP__K_OBJECT_LIST) {
            const mp__object *sub = (const mp__object *)f->sub;
            size_t n = mp__load_size(base, f->offset + MP__LIST_COUNT);
            for (size_t i = 0; i < n; i++)
                cover_object(c, sub, (const char *)p + i * sub->size, 0);
        } else if (f->kind == MP__K_GDPR) {
            const mp_gdpr_purpose *g = p;
            size_t n = mp__load_size(base, f->offset + MP__LIST_COUNT);
            for (size_t i = 0; i < n; i++)
                cover_object(c, (const mp__object *)f->sub, &g[i].consent, 0);
        } else if (f->kind == MP__K_EVENT_LIST) {
            const mp_event *ev = p;
            size_t n = mp__load_size(base, f->offset + MP__LIST_COUNT);
            for (size_t i = 0; i < n; i++) {
                c->seen[enum_slot(&mp__event_type_enum)][ev[i].event_type] = 1;
                cover_object(c, &mp__event_common_object, &ev[i].common, 0);
                const mp__object *data = mp__event_descs[ev[i].event_type].data;
                if (data)
                    cover_object(c, data, (const char *)&ev[i] + MP__EVENT_UNION_OFFSET,
                                 ev[i].event_type == MP_EVENT_COMMERCE_EVENT);
            }
        }
        break;
    }
    }
    if (!present && !allow_absent) {
        print_message("generator left %s.%s unset\n", obj->name, f->name);
        c->missing_fields++;
    }
}

static void cover_object(coverage *c, const mp__object *obj, const void *base, int allow_absent) {
    for (size_t i = 0; i < obj->nfields; i++)
        cover_field(c, obj, &obj->fields[i], base, allow_absent);
}

/* Every field of every object holds a value, and across the variants every
 * enum value that the API accepts occurs: the generator really covers what
 * the tables describe. */
static void test_generator_covers_every_field_and_enum_value(void **state) {
    (void)state;
    static coverage c;
    memset(&c, 0, sizeof c);
    mp_gen *g = mp_gen_new(SEEDS[0]);
    for (int v = 0; v < VARIANTS; v++) {
        cover_object(&c, &mp__batch_object, mp_gen_batch(g, v), 0);
        mp_gen_reset(g);
    }
    mp_gen_free(g);
    assert_int_equal(c.missing_fields, 0);

    /* The values the generator leaves out on purpose (generate.c). */
    static const struct {
        mp_enum_kind kind;
        int value;
    } left_out[] = {
        {MP_ENUM_ENVIRONMENT, MP_ENVIRONMENT_UNKNOWN},
        {MP_ENUM_PLATFORM, MP_PLATFORM_DESKTOP},
        {MP_ENUM_CHANNEL, MP_CHANNEL_UNKNOWN},
        {MP_ENUM_EVENT_TYPE, MP_EVENT_PRE_ATTRIBUTION},
        {MP_ENUM_EVENT_TYPE, MP_EVENT_PUSH_REACTION},
    };
    int missing = 0;
    for (int e = 0; e < mp__enum_count; e++) {
        for (int v = 1; v < mp__enums[e]->count; v++) {
            int expected = 1;
            for (size_t k = 0; k < sizeof left_out / sizeof left_out[0]; k++)
                if ((int)left_out[k].kind == e && left_out[k].value == v)
                    expected = 0;
            if (c.seen[e][v] != expected) {
                print_message("enum %s value \"%s\" %s\n", mp__enums[e]->type_name,
                              mp__enums[e]->names[v].name,
                              expected ? "never generated" : "generated but should not be");
                missing++;
            }
        }
    }
    assert_int_equal(missing, 0);
}

/* One event per type except pre_attribution and push_reaction, and three
 * commerce events, each with exactly one of the three commerce forms. */
static void test_generator_event_mix(void **state) {
    (void)state;
    mp_gen *g = mp_gen_new(SEEDS[1]);
    for (int m = 0; m < NMODES; m++) {
        for (int v = 0; v < 20; v++) {
            const mp_batch *b = MODES[m](g, v);
            int count[MP_EVENT_UNINSTALL + 1] = {0};
            int forms[3] = {0};
            assert_int_equal(b->events.count, 19);
            for (size_t i = 0; i < b->events.count; i++) {
                const mp_event *ev = &b->events.items[i];
                assert_true(ev->event_type > 0 && ev->event_type <= MP_EVENT_UNINSTALL);
                count[ev->event_type]++;
                if (ev->event_type != MP_EVENT_COMMERCE_EVENT)
                    continue;
                const mp_commerce_event_data *c = &ev->commerce_event;
                int pa = c->product_action != NULL, pr = c->promotion_action != NULL;
                int pi = c->product_impressions.items != NULL;
                assert_int_equal(pa + pr + pi, 1);
                assert_false(MP_IS_NULL(c->product_action) || MP_IS_NULL(c->promotion_action) ||
                             MP_IS_NULL(c->product_impressions.items));
                if (pi)
                    assert_true(c->product_impressions.count >= 1);
                forms[pa ? 0 : pr ? 1 : 2]++;
            }
            for (int t = 1; t <= MP_EVENT_UNINSTALL; t++) {
                int expected = t == MP_EVENT_PRE_ATTRIBUTION || t == MP_EVENT_PUSH_REACTION ? 0
                               : t == MP_EVENT_COMMERCE_EVENT                                ? 3
                                                                                             : 1;
                assert_int_equal(count[t], expected);
            }
            assert_int_equal(forms[0], 1);
            assert_int_equal(forms[1], 1);
            assert_int_equal(forms[2], 1);
        }
        mp_gen_reset(g);
    }
    mp_gen_free(g);
}

/* ------------------------------------------------------------------------ */
/* (a) generated batches: validation and the official schema                */
/* ------------------------------------------------------------------------ */

/* Every generated batch, values and nulls, validates without error and
 * encodes under the API's 128 KB; all of them, as NDJSON, pass the official
 * JSON Schema in one Python run per mode. */
static void test_generated_batches_validate_and_pass_the_schema(void **state) {
    (void)state;
    mp_diag *d = mp_diag_new();
    for (int m = 0; m < NMODES; m++) {
        mp_buffer *ndjson = mp_buffer_new(0);
        size_t largest = 0;
        for (size_t s = 0; s < NSEEDS; s++) {
            mp_gen *g = mp_gen_new(SEEDS[s]);
            for (int v = 0; v < VARIANTS; v++) {
                const mp_batch *b = MODES[m](g, v);
                char what[80];
                snprintf(what, sizeof what, "seed %zu variant %d %s", s, v, MODE_NAMES[m]);
                mp_diag_clear(d);
                mp_error err = mp_validate_batch(b, NULL, v, d);
                if (err != MP_OK || error_count(d) != 0)
                    print_problems(d, what);
                assert_int_equal(error_count(d), 0);
                assert_int_equal(err, MP_OK);

                size_t before = mp_buffer_length(ndjson);
                mp_diag_clear(d);
                err = mp_encode_batch(b, ndjson, d);
                if (err != MP_OK)
                    print_problems(d, what);
                assert_int_equal(err, MP_OK);
                size_t len = mp_buffer_length(ndjson) - before;
                assert_true(len <= MP_MAX_BATCH_BYTES);
                if (len > largest)
                    largest = len;
                assert_int_equal(mp_buffer_append(ndjson, "\n", 1), MP_OK);
                mp_gen_reset(g);
            }
            mp_gen_free(g);
        }
        print_message("%s: %d batches, largest %zu bytes\n", MODE_NAMES[m],
                      (int)(NSEEDS * VARIANTS), largest);
        free(schema_check_text(mp_buffer_data(ndjson), mp_buffer_length(ndjson), "--ndjson", 0));
        mp_buffer_free(ndjson);
    }
    mp_diag_free(d);
}

/* The check is not a rubber stamp: the published schema, unpatched,
 * rejects what the patches allow (other_id_5 and a gdpr map), and a batch
 * without its required environment fails even with the patches. */
static void test_schema_check_rejects(void **state) {
    (void)state;
    mp_gen *g = mp_gen_new(SEEDS[0]);
    mp_buffer *buf = encode_or_fail(mp_gen_batch(g, 0), "variant 0");
    char *out = schema_check_text(mp_buffer_data(buf), mp_buffer_length(buf), "--unpatched", 1);
    assert_non_null(strstr(out, "user_identities: Additional properties are not allowed"));
    assert_non_null(strstr(out, "consent_state: Additional properties are not allowed ('ccpa'"));
    free(out);
    mp_buffer_free(buf);

    mp_batch b = *mp_gen_batch(g, 1);
    b.environment = MP_ENVIRONMENT_UNSET;
    buf = encode_or_fail(&b, "variant 1 without environment");
    out = schema_check_text(mp_buffer_data(buf), mp_buffer_length(buf), NULL, 1);
    assert_string_equal(out, "batch: $: 'environment' is a required property\n");
    free(out);
    mp_buffer_free(buf);
    mp_gen_free(g);
}

/* ------------------------------------------------------------------------ */
/* (b) round trips                                                          */
/* ------------------------------------------------------------------------ */

/* decode(encode(x)) == x field by field, and encode(decode(encode(x))) is
 * byte-identical to encode(x), for every generated batch, nulls included. */
static void test_round_trip(void **state) {
    (void)state;
    mp_buffer *again = mp_buffer_new(0);
    for (int m = 0; m < NMODES; m++) {
        for (size_t s = 0; s < NSEEDS; s++) {
            mp_gen *g = mp_gen_new(SEEDS[s]);
            for (int v = 0; v < VARIANTS; v++) {
                const mp_batch *b = MODES[m](g, v);
                char what[80];
                snprintf(what, sizeof what, "seed %zu variant %d %s", s, v, MODE_NAMES[m]);
                mp_buffer *json = encode_or_fail(b, what);
                mp_document *doc = decode_one(mp_buffer_data(json), mp_buffer_length(json), what);

                char why[512];
                int equal = mp_test_batch_equal(b, mp_document_batch(doc, 0), why, sizeof why);
                if (!equal)
                    print_message("%s: decode(encode(x)) differs at %s\n", what, why);
                assert_true(equal);

                mp_buffer_clear(again);
                assert_int_equal(mp_encode_batch(mp_document_batch(doc, 0), again, NULL), MP_OK);
                assert_int_equal(mp_buffer_length(again), mp_buffer_length(json));
                assert_memory_equal(mp_buffer_data(again), mp_buffer_data(json),
                                    mp_buffer_length(json));
                mp_document_free(doc);
                mp_buffer_free(json);
                mp_gen_reset(g);
            }
            mp_gen_free(g);
        }
    }
    mp_buffer_free(again);
}

/* Integral doubles from 2^63 up to 1e21 are written the Go/JavaScript way,
 * as integer literals too big for int64 ("100000000000000000000"). They are
 * valid JSON numbers and must decode back to the same doubles, in a double
 * field and in an attribute (where no int64 can hold them). The generated
 * batches have them too; this test names the exact bytes. */
static void test_round_trip_large_integral_doubles(void **state) {
    (void)state;
    mp_attribute attributes[] = {{"big", MP_V_DOUBLE(1e20)},
                                 {"two_to_63", MP_V_DOUBLE(9223372036854775808.0)}};
    mp_product products[] = {{.id = "p", .name = "n", .price = MP_DOUBLE(1e20),
                              .quantity = MP_DOUBLE(9.999999999999999e20)}};
    mp_product_action purchase = {.action = MP_PRODUCT_ACTION_PURCHASE,
                                  .total_amount = MP_DOUBLE(-9223372036854775808.0),
                                  .tax_amount = MP_DOUBLE(9223372036854775808.0),
                                  .products = MP_LIST(mp_product_list, products)};
    mp_event events[] = {{.event_type = MP_EVENT_COMMERCE_EVENT,
                          .common = {.custom_attributes = MP_LIST(mp_attribute_list, attributes)},
                          .commerce_event = {.product_action = &purchase}}};
    mp_batch batch = {.environment = MP_ENVIRONMENT_PRODUCTION, .mpid = MP_INT(7),
                      .events = MP_LIST(mp_event_list, events)};
    mp_buffer *json = encode_or_fail(&batch, "large integral doubles");
    assert_string_equal(
        mp_buffer_data(json),
        "{\"events\":[{\"data\":{\"custom_attributes\":{\"big\":100000000000000000000,"
        "\"two_to_63\":9223372036854776000},\"product_action\":{\"action\":\"purchase\","
        "\"total_amount\":-9223372036854776000,\"tax_amount\":9223372036854776000,"
        "\"products\":[{\"id\":\"p\",\"name\":\"n\",\"price\":100000000000000000000,"
        "\"quantity\":999999999999999900000}]}},\"event_type\":\"commerce_event\"}],"
        "\"environment\":\"production\",\"mpid\":7}");
    mp_document *doc = decode_one(mp_buffer_data(json), mp_buffer_length(json), "large doubles");
    char why[512];
    int equal = mp_test_batch_equal(&batch, mp_document_batch(doc, 0), why, sizeof why);
    if (!equal)
        print_message("decode(encode(x)) differs at %s\n", why);
    assert_true(equal);
    mp_document_free(doc);
    mp_buffer_free(json);
}

/* The comparison itself notices a difference and names its path. */
static void test_batch_equal_names_the_difference(void **state) {
    (void)state;
    mp_gen *g = mp_gen_new(SEEDS[0]);
    const mp_batch *a = mp_gen_batch(g, 5);
    char why[512];
    assert_true(mp_test_batch_equal(a, mp_gen_batch(g, 5), why, sizeof why));
    assert_string_equal(why, "");

    mp_batch b = *a;
    mp_event events[19];
    assert_int_equal(a->events.count, 19);
    memcpy(events, a->events.items, sizeof events);
    b.events.items = events;
    events[2].common.session_id = MP_INT_NULL;
    assert_false(mp_test_batch_equal(a, &b, why, sizeof why));
    assert_string_equal(why, "events[2].data.session_id: a value vs null");

    events[2].common = a->events.items[2].common;
    b.mpid.state = MP_ABSENT;
    assert_false(mp_test_batch_equal(a, &b, why, sizeof why));
    assert_string_equal(why, "mpid: a value vs absent");
    mp_gen_free(g);
}

/* ------------------------------------------------------------------------ */
/* (c) the official sample, (e) the V4 vector                               */
/* ------------------------------------------------------------------------ */

/* A reference file decodes and validates without error (with no problem at
 * all when `no_warnings`), and normalizes (encode of the decoded batch) to
 * the same JSON values as the file: explicit nulls are kept by the model.
 * The normalized output passes the official schema as published. */
static void check_reference_file(const char *path, int no_warnings) {
    size_t len = 0;
    char *text = mp_test_read_file(path, &len);
    assert_non_null(text);
    mp_document *doc = decode_one(text, len, path);
    const mp_batch *b = mp_document_batch(doc, 0);

    mp_diag *d = mp_diag_new();
    mp_error err = mp_validate_batch(b, NULL, 0, d);
    if (error_count(d) != 0 || (no_warnings && mp_diag_count(d) != 0))
        print_problems(d, path);
    assert_int_equal(err, MP_OK);
    assert_int_equal(error_count(d), 0);
    if (no_warnings)
        assert_int_equal(mp_diag_count(d), 0);
    mp_diag_free(d);

    mp_buffer *normal = encode_or_fail(b, path);
    char normal_path[256];
    assert_int_equal(mp_test_write_temp(mp_buffer_data(normal), mp_buffer_length(normal),
                                        normal_path, sizeof normal_path),
                     0);
    char *out = NULL;
    int rc = mp_test_json_compare(path, normal_path, &out);
    if (rc != 0)
        print_message("%s normalizes to different JSON values (%s): %s\n", path, normal_path,
                      out ? out : "");
    assert_int_equal(rc, 0);
    free(out);
    if (official) {
        rc = mp_test_schema_check_file(normal_path, "--unpatched", &out);
        if (rc != 0)
            print_message("normalized %s fails the official schema: %s\n", path, out ? out : "");
        assert_int_equal(rc, 0);
        free(out);
    }
    remove(normal_path);
    mp_buffer_free(normal);
    mp_document_free(doc);
    free(text);
}

/* The sample sends output-only keys (event_id, source_info, batch_id, the
 * top-level timestamp, event_system_notification_info as null): validation
 * may warn about them but rejects nothing. */
static void test_official_sample(void **state) {
    (void)state;
    check_reference_file(MP_REFERENCE_DIR "/mparticle.inbound.eventsapi.sample.json", 0);
}

/* The docs' minimal identity/ATT batch (tests/data/v4.json, from
 * https://docs.mparticle.com/developers/server/json-reference/): nothing output-only and an identity present, so not
 * even a warning. */
static void test_v4_vector(void **state) {
    (void)state;
    check_reference_file(MP_TEST_DATA_DIR "/v4.json", 1);
}

/* ------------------------------------------------------------------------ */
/* (d) the bulk form                                                        */
/* ------------------------------------------------------------------------ */

/* mp_encode_batches of three generated batches passes the bulk schema and
 * decodes back to the same three batches. */
static void test_bulk_form(void **state) {
    (void)state;
    mp_gen *g = mp_gen_new(SEEDS[1]);
    mp_batch batches[3] = {*mp_gen_batch(g, 7), *mp_gen_batch_nulls(g, 8), *mp_gen_batch(g, 9)};
    mp_buffer *buf = mp_buffer_new(0);
    assert_int_equal(mp_encode_batches(batches, 3, buf, NULL), MP_OK);
    assert_true(mp_buffer_length(buf) <= 3 * (size_t)MP_MAX_BATCH_BYTES);
    free(schema_check_text(mp_buffer_data(buf), mp_buffer_length(buf), "--bulk", 0));

    mp_document *doc = NULL;
    assert_int_equal(mp_decode(mp_buffer_data(buf), mp_buffer_length(buf), &doc, NULL), MP_OK);
    assert_int_equal(mp_document_count(doc), 3);
    for (size_t i = 0; i < 3; i++) {
        char why[512];
        int equal = mp_test_batch_equal(&batches[i], mp_document_batch(doc, i), why, sizeof why);
        if (!equal)
            print_message("bulk batch %zu differs at %s\n", i, why);
        assert_true(equal);
    }
    mp_document_free(doc);
    mp_buffer_free(buf);
    mp_gen_free(g);
}

int main(int argc, char **argv) {
    /* Everything: without --official the schema checks inside are left out. */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generator_covers_every_field_and_enum_value),
        cmocka_unit_test(test_generator_event_mix),
        cmocka_unit_test(test_batch_equal_names_the_difference),
        cmocka_unit_test(test_generated_batches_validate_and_pass_the_schema),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_round_trip_large_integral_doubles),
        cmocka_unit_test(test_v4_vector),
        cmocka_unit_test(test_bulk_form),
    };
    /* The tests that check against the official schema or read its sample. */
    const struct CMUnitTest official_tests[] = {
        cmocka_unit_test(test_generated_batches_validate_and_pass_the_schema),
        cmocka_unit_test(test_schema_check_rejects),
        cmocka_unit_test(test_official_sample),
        cmocka_unit_test(test_v4_vector),
        cmocka_unit_test(test_bulk_form),
    };
    if (mp_test_official_run(argc, argv)) {
        int skip = mp_test_skip_without_reference();
        if (skip)
            return skip;
        official = 1;
        return cmocka_run_group_tests(official_tests, NULL, NULL);
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * libFuzzer target for the decoder, with a differential round-trip oracle.
 *
 * For any input:
 *   1. mp_decode() must not crash, leak or read outside the input (ASan,
 *      UBSan), and what it returns must keep the promises of codec.h: a
 *      document unless memory ran out, MP_OK exactly when no error was
 *      reported, every problem with a path, a message and a batch index in
 *      range.
 *   2. Every batch that decoded without error is validated (must not crash;
 *      MP_OK or MP_ERR_INVALID only) and encoded: a batch the decoder
 *      accepted must be encodable (anything else is a decoder/encoder
 *      disagreement, e.g. a string the decoder let through that the encoder
 *      refuses).
 *   3. When the input is one JSON object (the common case), A must hold the
 *      same JSON value as the input, compared by jansson, an independent
 *      parser: every member of A must be in the input with an equal value
 *      (the codec invents nothing and moves nothing), and if decoding
 *      reported no problem at all (not even an unknown key) the reverse
 *      holds too (the codec loses nothing).
 *   4. That JSON, A, is decoded again (must decode cleanly into exactly one
 *      batch, without even a warning: the encoder writes only known keys)
 *      and re-encoded into B. A and B must be byte-identical: encode is a
 *      function of the model, so any difference means the decoder did not
 *      read back what the encoder wrote (a lost field, a changed number or
 *      string, a null turned into absent).
 *
 * Any broken promise prints what broke and abort()s, which libFuzzer
 * reports as a crash with the input saved.
 *
 * The same file builds without libFuzzer, linked with replay_main.c, to
 * replay the seed corpus and the saved regressions in every build.
 *
 * Copyright 2026 The libmparticle authors. Licensed under the Apache License 2.0.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <mparticle.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

_Noreturn static void fail(const char *what, const mp_diag *diag) {
    fprintf(stderr, "fuzz_decode: %s\n", what);
    for (size_t i = 0; diag && i < mp_diag_count(diag) && i < 20; i++) {
        const mp_problem *p = mp_diag_get(diag, i);
        fprintf(stderr, "  batch %ld: %s: %s: %s\n", p->batch, p->path,
                mp_error_name(p->code), p->message);
    }
    abort();
}

static void check_problems(const mp_document *doc, mp_error err, const mp_diag *diag) {
    size_t count = mp_document_count(doc);
    size_t errors = 0;
    for (size_t i = 0; i < mp_diag_count(diag); i++) {
        const mp_problem *p = mp_diag_get(diag, i);
        if (!p->path || !p->message || !p->message[0])
            fail("a problem without a path or a message", diag);
        if (p->batch < -1 || (p->batch >= 0 && (size_t)p->batch >= count))
            fail("a problem with a batch index out of range", diag);
        if (p->severity == MP_SEVERITY_ERROR) {
            errors++;
            if (p->code == MP_OK)
                fail("an error problem with code MP_OK", diag);
        }
    }
    /* Problems past the diag's cap are counted but not kept. */
    if (mp_diag_dropped(diag) == 0 && errors != mp_diag_error_count(diag))
        fail("mp_diag_error_count() disagrees with the problems", diag);
    if ((err == MP_OK) != (mp_diag_error_count(diag) == 0))
        fail("mp_decode()'s result disagrees with the problems it reported", diag);
    for (size_t i = 0; i < count; i++) {
        if (!mp_document_batch(doc, i))
            fail("mp_document_batch() is NULL for an index below the count", diag);
        if (err == MP_OK && !mp_document_batch_ok(doc, i))
            fail("MP_OK, yet a batch is marked as failed", diag);
        if (mp_document_batch_line(doc, i) < 1)
            fail("a batch starts on a line below 1", diag);
    }
    if (mp_document_batch(doc, count) != NULL)
        fail("mp_document_batch() is not NULL past the count", diag);
}

/* Integers beyond 2^53 are compared as doubles when they differ: a double
 * field given a big integer (9007199254740993) keeps only the nearest
 * double, and the encoder writes that without a fraction. int64 fields keep
 * every digit; the CLI tests check that against the official sample. */
#define EXACT_DOUBLE_INTS (INT64_C(1) << 53)

static int numbers_equal(const json_t *a, const json_t *b) {
    if (json_is_integer(a) && json_is_integer(b)) {
        json_int_t x = json_integer_value(a), y = json_integer_value(b);
        if (x == y)
            return 1;
        if (x > -EXACT_DOUBLE_INTS && x < EXACT_DOUBLE_INTS)
            return 0;
    }
    return json_number_value(a) == json_number_value(b);
}

/* The one thing the model normalizes on purpose: an event's data fields
 * live inline in mp_event, so an event without "data" is written with
 * "data":{} (and "data":null is a decoding error). */
static int is_empty_event_data(const char *key, const json_t *value) {
    return strcmp(key, "data") == 0 && json_is_object(value) && json_object_size(value) == 0;
}

/* 1 when every member of `sub` is in `super` with an equal value, at every
 * depth; arrays must match item for item. */
static int json_subset(const json_t *sub, const json_t *super) {
    if (json_is_number(sub) && json_is_number(super))
        return numbers_equal(sub, super);
    if (json_typeof(sub) != json_typeof(super))
        return 0;
    if (json_is_object(sub)) {
        const char *key;
        json_t *value;
        json_object_foreach((json_t *)sub, key, value) {
            const json_t *other = json_object_get(super, key);
            if (!other && is_empty_event_data(key, value))
                continue;
            if (!other || !json_subset(value, other))
                return 0;
        }
        return 1;
    }
    if (json_is_array(sub)) {
        if (json_array_size(sub) != json_array_size(super))
            return 0;
        for (size_t i = 0; i < json_array_size(sub); i++)
            if (!json_subset(json_array_get(sub, i), json_array_get(super, i)))
                return 0;
        return 1;
    }
    return json_equal((json_t *)sub, (json_t *)super);
}

/* Step 3: the encoded batch against the input object, both parsed by jansson. */
static void compare_with_input(const json_t *input, const mp_buffer *a, int clean) {
    json_error_t e;
    json_t *out = json_loadb(mp_buffer_data(a), mp_buffer_length(a), 0, &e);
    if (!out) {
        fprintf(stderr, "encoded: %s\n", mp_buffer_data(a));
        fail("jansson cannot parse the encoder's output", NULL);
    }
    if (!json_subset(out, input)) {
        fprintf(stderr, "encoded: %s\n", mp_buffer_data(a));
        fail("the encoded batch has a member or value that the input does not", NULL);
    }
    if (clean && !json_subset(input, out)) {
        fprintf(stderr, "encoded: %s\n", mp_buffer_data(a));
        fail("the input decoded without a problem, yet the encoded batch lost part of it", NULL);
    }
    json_decref(out);
}

/* Steps 2 to 4 for one batch. a and b are reused scratch buffers. */
static void round_trip(const mp_batch *batch, long index, const json_t *input, int clean,
                       mp_buffer *a, mp_buffer *b, mp_diag *diag) {
    /* Both rule sets, the historical one with a fixed "now" so that a
     * crash replays the same way tomorrow. */
    static const mp_validate_options historical = {.historical = 1,
                                                   .now_unixtime_ms = INT64_C(1700000000000)};
    const mp_validate_options *rules[] = {NULL, &historical};
    for (size_t r = 0; r < sizeof rules / sizeof rules[0]; r++) {
        mp_diag_clear(diag);
        mp_error verr = mp_validate_batch(batch, rules[r], index, diag);
        if (verr != MP_OK && verr != MP_ERR_INVALID && verr != MP_ERR_NOMEM)
            fail("mp_validate_batch() returned an unexpected code", diag);
        if (verr != MP_ERR_NOMEM && (verr == MP_OK) != (mp_diag_error_count(diag) == 0))
            fail("mp_validate_batch()'s result disagrees with the problems it reported", diag);
    }

    mp_diag_clear(diag);
    mp_buffer_clear(a);
    mp_error err = mp_encode_batch(batch, a, diag);
    if (err == MP_ERR_NOMEM)
        return;
    if (err != MP_OK)
        fail("a batch that decoded without error does not encode", diag);
    if (input)
        compare_with_input(input, a, clean);

    mp_document *again = NULL;
    err = mp_decode(mp_buffer_data(a), mp_buffer_length(a), &again, diag);
    if (err == MP_ERR_NOMEM)
        return;
    if (err != MP_OK || mp_diag_count(diag) != 0) {
        fprintf(stderr, "encoded: %s\n", mp_buffer_data(a));
        fail("the encoder's output does not decode cleanly", diag);
    }
    if (mp_document_count(again) != 1 || !mp_document_batch_ok(again, 0)) {
        fprintf(stderr, "encoded: %s\n", mp_buffer_data(a));
        fail("the encoder's output does not decode to one batch", diag);
    }

    mp_buffer_clear(b);
    err = mp_encode_batch(mp_document_batch(again, 0), b, diag);
    mp_document_free(again);
    if (err == MP_ERR_NOMEM)
        return;
    if (err != MP_OK)
        fail("a re-decoded batch does not encode", diag);
    if (mp_buffer_length(a) != mp_buffer_length(b) ||
        memcmp(mp_buffer_data(a), mp_buffer_data(b), mp_buffer_length(a)) != 0) {
        fprintf(stderr, "first:  %s\nsecond: %s\n", mp_buffer_data(a), mp_buffer_data(b));
        fail("encode(decode(encode(batch))) differs from encode(batch)", NULL);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    mp_diag *diag = mp_diag_new();
    mp_buffer *a = mp_buffer_new(0);
    mp_buffer *b = mp_buffer_new(0);
    if (!diag || !a || !b)
        goto out;

    mp_document *doc = NULL;
    mp_error err = mp_decode((const char *)data, size, &doc, diag);
    if (!doc) {
        if (err != MP_ERR_NOMEM)
            fail("mp_decode() returned no document, yet memory did not run out", diag);
        goto out;
    }
    check_problems(doc, err, diag);

    /* The input as jansson reads it, when it is one object: what step 3
     * compares against. "clean": the decoder reported nothing at all. */
    json_t *input = NULL;
    int clean = mp_diag_count(diag) == 0 && mp_diag_dropped(diag) == 0;
    if (mp_document_count(doc) == 1) {
        json_error_t e;
        input = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &e);
        if (input && !json_is_object(input)) {
            json_decref(input);
            input = NULL;
        }
    }

    for (size_t i = 0; i < mp_document_count(doc); i++) {
        if (!mp_document_batch_ok(doc, i))
            continue;
        mp_diag_clear(diag);
        round_trip(mp_document_batch(doc, i), (long)i, input, clean, a, b, diag);
    }
    json_decref(input);
    mp_document_free(doc);

out:
    mp_buffer_free(b);
    mp_buffer_free(a);
    mp_diag_free(diag);
    return 0;
}

/*
 * libFuzzer target for the streaming decoder (mp_decoder): chunking must be
 * invisible.
 *
 * The input's first byte says how many chunk sizes follow (0-15), then
 * come the sizes (one byte each, 0 meaning 1; used in turn, over and over),
 * then the JSON text. The text is decoded by mp_decode() whole and by a
 * decoder fed in those chunks, taking batches out after every feed; both
 * must give the same batches (index, line, ok, and the same JSON when
 * encoded, or the same encoding error), the same problems (severity, code,
 * batch, path, message, line, column, in the same order) and the same
 * final error code. Then the text is decoded again under a small record
 * limit (256 bytes), where only the promises hold: indices in order,
 * every failed batch explained, no crash or leak.
 *
 * Any difference prints what differed and abort()s, which libFuzzer
 * reports as a crash with the input saved. Built with replay_main.c too,
 * to replay the corpus and regressions in every build.
 *
 * Copyright 2026 The libmparticle authors. Licensed under the Apache License 2.0.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mparticle.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

_Noreturn static void fail(const char *what, long batch) {
    fprintf(stderr, "fuzz_decode_stream: batch %ld: %s\n", batch, what);
    abort();
}

/* The batch's JSON, or its encoding error, into out. */
static void encode_or_error(const mp_batch *b, mp_buffer *out) {
    mp_buffer_clear(out);
    mp_error err = mp_encode_batch(b, out, NULL);
    if (err != MP_OK) {
        mp_buffer_clear(out);
        mp_buffer_append(out, mp_error_name(err), strlen(mp_error_name(err)));
    }
}

static int same_problem(const mp_problem *a, const mp_problem *b) {
    return a->severity == b->severity && a->code == b->code && a->batch == b->batch &&
           strcmp(a->path, b->path) == 0 && strcmp(a->message, b->message) == 0 &&
           a->line == b->line && a->column == b->column;
}

typedef struct chunker {
    const uint8_t *sizes;
    size_t nsizes, next;
} chunker;

static size_t next_size(chunker *c, size_t left) {
    size_t n = c->nsizes ? c->sizes[c->next++ % c->nsizes] : left;
    if (n == 0)
        n = 1;
    return n < left ? n : left;
}

/* Decodes text in chunks with mp_decode()'s document to compare against
 * (NULL: only the promises are checked). */
static void stream(const char *text, size_t len, chunker c, size_t max_record,
                   const mp_document *doc, mp_error want, const mp_diag *want_diag) {
    mp_decoder *dec;
    mp_diag *diag = mp_diag_new();
    mp_buffer *a = mp_buffer_new(0), *b = mp_buffer_new(0);
    if (mp_decoder_new(&dec) != MP_OK || !diag || !a || !b)
        fail("out of memory", -1);
    mp_diag_set_max(diag, 100000);
    mp_decoder_set_max_record(dec, max_record);
    size_t fed = 0;
    long n = 0;
    for (;;) {
        if (fed < len) {
            size_t k = next_size(&c, len - fed);
            if (mp_decoder_feed(dec, text + fed, k) != MP_OK)
                fail("feed failed", n);
            fed += k;
        } else {
            mp_decoder_finish(dec);
        }
        mp_decoded_batch got;
        mp_decode_status st;
        while ((st = mp_decoder_next(dec, &got, diag)) == MP_DECODE_BATCH) {
            if (got.index != n || !got.batch || got.line < 1)
                fail("index out of order, no batch or no line", n);
            if (doc) {
                if ((size_t)n >= mp_document_count(doc))
                    fail("more batches than mp_decode()", n);
                if (got.line != mp_document_batch_line(doc, (size_t)n) ||
                    got.ok != mp_document_batch_ok(doc, (size_t)n))
                    fail("line or ok differs from mp_decode()", n);
                encode_or_error(mp_document_batch(doc, (size_t)n), a);
                encode_or_error(got.batch, b);
                if (strcmp(mp_buffer_data(a), mp_buffer_data(b)) != 0)
                    fail("batch differs from mp_decode()'s", n);
            }
            n++;
        }
        if (st == MP_DECODE_END)
            break;
        if (st != MP_DECODE_NEED_INPUT)
            fail("decoder error", n);
    }
    if (doc) {
        if ((size_t)n != mp_document_count(doc))
            fail("fewer batches than mp_decode()", n);
        if (mp_decoder_error(dec) != want)
            fail("final error differs from mp_decode()'s", -1);
        int same = mp_diag_count(diag) == mp_diag_count(want_diag);
        for (size_t i = 0; same && i < mp_diag_count(diag); i++)
            same = same_problem(mp_diag_get(diag, i), mp_diag_get(want_diag, i));
        if (!same) {
            for (size_t i = 0; i < mp_diag_count(diag) && i < 10; i++)
                fprintf(stderr, "  stream: %s\n", mp_diag_get(diag, i)->message);
            for (size_t i = 0; i < mp_diag_count(want_diag) && i < 10; i++)
                fprintf(stderr, "  whole:  %s\n", mp_diag_get(want_diag, i)->message);
            fail("problems differ from mp_decode()'s", -1);
        }
    } else if ((mp_decoder_error(dec) == MP_OK) != (mp_diag_error_count(diag) == 0)) {
        fail("mp_decoder_error() disagrees with the problems", -1);
    }
    mp_decoder_free(dec);
    mp_diag_free(diag);
    mp_buffer_free(a);
    mp_buffer_free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0)
        return 0;
    size_t nsizes = data[0] & 15;
    if (size < 1 + nsizes)
        return 0;
    chunker c = {data + 1, nsizes, 0};
    const char *text = (const char *)data + 1 + nsizes;
    size_t len = size - 1 - nsizes;

    mp_diag *want_diag = mp_diag_new();
    if (!want_diag)
        fail("out of memory", -1);
    mp_diag_set_max(want_diag, 100000);
    mp_document *doc = NULL;
    mp_error want = mp_decode(text, len, &doc, want_diag);
    if (!doc)
        fail("mp_decode() returned no document", -1);
    stream(text, len, c, 0, doc, want, want_diag);
    stream(text, len, c, 256, NULL, MP_OK, NULL);
    mp_document_free(doc);
    mp_diag_free(want_diag);
    return 0;
}

/*
 * Codec benchmark on workload W1 (bench/gen_workload.py).
 *
 *   bench_codec W1.ndjson [runs]
 *
 * encode (built): W1's shape built directly as C structs, the way an
 *   application fills them (w1_structs.h: same shape and string
 *   lengths, its own random numbers), encoded batch by batch into one reused
 *   buffer.
 * encode (decoded): the batches of the W1 file decoded once (not timed),
 *   then encoded batch by batch.
 * decode: mp_decode() of the whole W1 file into batches (one document that
 *   holds them all: fresh memory for every batch).
 * decode (streamed): the W1 file fed to an mp_decoder in 64 KiB chunks, every
 *   batch taken out (one batch's memory, reused), as the tools read input.
 * validate: mp_validate_batch() of the decoded batches (no diag).
 * Baselines in the same run, for the ratios: jansson's json_dumps() of the
 *   same batches as a DOM (what a DOM-based encoder costs), and jansson's
 *   json_loadb() of every line (parsing alone, the floor under our decoder).
 *
 * Every figure is the median of `runs` (default 7) runs on one thread.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "w1_structs.h"
#include <mparticle.h>

typedef struct stats {
    double seconds[64];
    int n;
    double user, sys; /* CPU seconds over all runs, when measured */
} stats;

/* Starts a timed run: the wall clock, and the CPU clocks into s. */
static double run_start(stats *s) {
    double u, k;
    cpu_s(&u, &k);
    s->user -= u;
    s->sys -= k;
    return now_s();
}

static void run_end(stats *s, int r, double t0) {
    s->seconds[r] = now_s() - t0;
    double u, k;
    cpu_s(&u, &k);
    s->user += u;
    s->sys += k;
}

static double median(stats *s) {
    qsort(s->seconds, (size_t)s->n, sizeof s->seconds[0], cmp_double);
    return s->seconds[s->n / 2];
}

static void report(const char *name, stats *s, size_t bytes, size_t events, double baseline) {
    double t = median(s);
    printf("%-34s %8.1f ms  %8.1f MB/s  %10.0f events/s", name, t * 1e3, (double)bytes / t / 1e6,
           (double)events / t);
    if (baseline > 0)
        printf("  x%.2f vs baseline", baseline / t);
    if (s->user > 0)
        printf("  (per run: user %.1f ms, system %.1f ms)", s->user / s->n * 1e3,
               s->sys / s->n * 1e3);
    printf("\n");
}

/* ---- helpers --------------------------------------------------------------- */

static size_t count_events(const mp_batch *const *b, size_t n) {
    size_t events = 0;
    for (size_t i = 0; i < n; i++)
        events += b[i]->events.count;
    return events;
}

/* Encodes every batch into one reused buffer; returns the bytes produced. */
static size_t encode_all(const mp_batch *const *batches, size_t n, mp_buffer *buf) {
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        mp_buffer_clear(buf);
        if (mp_encode_batch(batches[i], buf, NULL) != MP_OK) {
            fprintf(stderr, "encode failed at batch %zu\n", i);
            exit(1);
        }
        bytes += mp_buffer_length(buf);
    }
    return bytes;
}

static void bench_encode(const char *name, const mp_batch *const *batches, size_t n, int runs,
                         double baseline) {
    mp_buffer *buf = mp_buffer_new(1 << 16);
    stats s = {.n = runs};
    size_t bytes = 0;
    for (int r = 0; r < runs; r++) {
        double t = now_s();
        bytes = encode_all(batches, n, buf);
        s.seconds[r] = now_s() - t;
    }
    report(name, &s, bytes, count_events(batches, n), baseline);
    mp_buffer_free(buf);
}

/* mp_validate_batch() of every batch, with "now" a day after W1's first
 * event (W1 is dated November 2023: against today's clock every event
 * would get an "older than 30 days" warning). The rate is in MB/s of the
 * batches' JSON (`bytes`). */
static void bench_validate(const mp_batch *const *batches, size_t n, size_t bytes, int runs) {
    mp_validate_options opts = MP_VALIDATE_OPTIONS_INIT;
    opts.now_unixtime_ms = 1700086400000;
    stats s = {.n = runs};
    for (int r = 0; r < runs; r++) {
        double t = now_s();
        for (size_t i = 0; i < n; i++)
            if (mp_validate_batch(batches[i], &opts, (long)i, NULL) != MP_OK)
                exit(1);
        s.seconds[r] = now_s() - t;
    }
    report("validate (mp_validate_batch)", &s, bytes, count_events(batches, n), 0);
}

/* Feeds text to a streaming decoder in 64 KiB chunks and takes every batch
 * out; returns the number of batches that decoded without error. */
static size_t stream_all(const char *text, size_t len) {
    mp_decoder *dec;
    if (mp_decoder_new(&dec) != MP_OK)
        return 0;
    size_t ok = 0, off = 0;
    for (;;) {
        size_t n = len - off < 65536 ? len - off : 65536;
        if (n)
            mp_decoder_feed(dec, text + off, n);
        else
            mp_decoder_finish(dec);
        off += n;
        mp_decoded_batch b;
        mp_decode_status st;
        while ((st = mp_decoder_next(dec, &b, NULL)) == MP_DECODE_BATCH)
            ok += (size_t)b.ok;
        if (st != MP_DECODE_NEED_INPUT)
            break;
    }
    mp_decoder_free(dec);
    return ok;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s W1.ndjson [runs]\n", argv[0]);
        return 2;
    }
    int runs = argc > 2 ? atoi(argv[2]) : 7;
    if (runs < 1 || runs > 64)
        runs = 7;
    size_t len = 0;
    char *text = read_file(argv[1], &len);
    if (!text) {
        perror(argv[1]);
        return 2;
    }

    /* Lines of the file, for the jansson baselines. */
    size_t nlines = 0;
    for (size_t i = 0; i < len; i++)
        nlines += text[i] == '\n';
    json_t **doms = calloc(nlines + 1, sizeof *doms);
    size_t ndoms = 0;

    mp_document *doc = NULL;
    mp_diag *diag = mp_diag_new();
    if (mp_decode(text, len, &doc, diag) != MP_OK) {
        const mp_problem *p = mp_diag_get(diag, 0);
        fprintf(stderr, "decode failed: %s: %s\n", p ? p->path : "", p ? p->message : "");
        return 1;
    }
    size_t n = mp_document_count(doc);
    const mp_batch **decoded = calloc(n, sizeof *decoded);
    for (size_t i = 0; i < n; i++)
        decoded[i] = mp_document_batch(doc, i);
    size_t events = count_events(decoded, n);

    printf("W1: %zu batches, %zu events, %.1f MB; %d runs, median\n", n, events, (double)len / 1e6,
           runs);

    /* Baseline: jansson parse of every line (no model). */
    stats parse = {.n = runs};
    for (int r = 0; r < runs; r++) {
        for (size_t i = 0; i < ndoms; i++)
            json_decref(doms[i]);
        ndoms = 0;
        double t = now_s();
        const char *p = text, *end = text + len;
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
            if (l) {
                json_error_t err;
                doms[ndoms++] = json_loadb(p, l, 0, &err);
            }
            p += l + 1;
        }
        parse.seconds[r] = now_s() - t;
    }
    double parse_t = median(&parse);

    /* Baseline: jansson dump of the same batches as DOMs. */
    stats dump = {.n = runs};
    size_t dump_bytes = 0;
    for (int r = 0; r < runs; r++) {
        dump_bytes = 0;
        double t = now_s();
        for (size_t i = 0; i < ndoms; i++) {
            char *s = json_dumps(doms[i], JSON_COMPACT | JSON_PRESERVE_ORDER);
            dump_bytes += strlen(s);
            free(s);
        }
        dump.seconds[r] = now_s() - t;
    }
    double dump_t = median(&dump);

    stats dec = {.n = runs};
    for (int r = 0; r < runs; r++) {
        mp_document *d2 = NULL;
        double t = run_start(&dec);
        mp_error err = mp_decode(text, len, &d2, NULL);
        run_end(&dec, r, t);
        if (err != MP_OK)
            return 1;
        mp_document_free(d2);
    }

    stats stream = {.n = runs};
    for (int r = 0; r < runs; r++) {
        double t = run_start(&stream);
        if (stream_all(text, len) != n)
            return 1;
        run_end(&stream, r, t);
    }

    w1_batch *built = malloc(n * sizeof *built);
    const mp_batch **built_ptrs = calloc(n, sizeof *built_ptrs);
    for (size_t i = 0; i < n; i++) {
        w1_build(&built[i], (int)i);
        built_ptrs[i] = &built[i].batch;
    }

    report("baseline: jansson json_dumps", &dump, dump_bytes, events, 0);
    bench_encode("encode (W1 built as C structs)", built_ptrs, n, runs, dump_t);
    bench_encode("encode (W1 decoded)", decoded, n, runs, dump_t);
    report("baseline: jansson json_loadb", &parse, len, events, 0);
    report("decode (mp_decode)", &dec, len, events, parse_t);
    report("decode (mp_decoder, 64 KiB chunks)", &stream, len, events, parse_t);
    bench_validate(decoded, n, len, runs);

    for (size_t i = 0; i < ndoms; i++)
        json_decref(doms[i]);
    free(doms);
    free(built);
    free(built_ptrs);
    free(decoded);
    mp_document_free(doc);
    mp_diag_free(diag);
    free(text);
    return 0;
}

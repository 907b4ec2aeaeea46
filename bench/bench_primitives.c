/*
 * Micro-benchmark of the JSON output primitives (src/codec/json_primitives.c).
 *
 *   bench_primitives [runs]
 *
 * escape: mp__json_escape() of a 2.4 KB mostly-ASCII string with a few
 *   quotes, a newline and a "café", into one reused buffer. MB/s is input
 *   bytes per second (1 MB = 1e6 bytes).
 * fmt_double: mp__fmt_double() cycling over 19.99, 123.12, 83.14, 39.98, 1.5,
 *   typical prices, all on the fast path.
 * Also, for scale: escape of the same length of pure ASCII, mp__utf8_valid()
 *   of the mixed string, mp__fmt_int64() of a millisecond timestamp, and
 *   mp__fmt_double() of 0.1+0.2, which needs 17 digits and so takes the
 *   printf/strtod path.
 *
 * Every figure is the median of `runs` (default 7) runs on one thread, with
 * the best run beside it.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "codec/json_primitives.h"

#define TEXT_LEN 2400
#define MAX_RUNS 64

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof v[0], cmp_double);
    return v[n / 2];
}

/* Whole sentences of ordinary event text, one in six with characters that
 * need work, then ASCII padding to exactly TEXT_LEN bytes. */
static void make_text(char *s, int mixed) {
    static const char plain[] =
        "The quick brown fox jumps over the lazy dog while the checkout page "
        "records a purchase of three items for the loyalty programme. ";
    static const char special[] =
        "She said \"add to cart\" twice at the caf\xc3\xa9 near the station.\n";
    size_t n = 0;
    for (int sentence = 0;; sentence++) {
        const char *src = (mixed && sentence % 6 == 5) ? special : plain;
        size_t len = strlen(src);
        if (len > TEXT_LEN - n)
            break;
        memcpy(s + n, src, len);
        n += len;
    }
    memset(s + n, 'x', TEXT_LEN - n);
}

static volatile size_t sink;

static double time_escape(const char *s, char *out, long iters) {
    size_t total = 0;
    double t0 = now_s();
    for (long i = 0; i < iters; i++)
        total += mp__json_escape(out, s, TEXT_LEN, NULL);
    double t = now_s() - t0;
    sink += total;
    return t;
}

static double time_utf8_valid(const char *s, long iters) {
    size_t total = 0;
    double t0 = now_s();
    for (long i = 0; i < iters; i++)
        total += (size_t)mp__utf8_valid(s, TEXT_LEN, NULL);
    double t = now_s() - t0;
    sink += total;
    return t;
}

static double time_fmt_double(const double *values, int nvalues, long iters) {
    char buf[32];
    size_t total = 0;
    double t0 = now_s();
    int j = 0;
    for (long i = 0; i < iters; i++) {
        total += mp__fmt_double(buf, values[j]);
        if (++j == nvalues)
            j = 0;
    }
    double t = now_s() - t0;
    sink += total + (size_t)buf[0];
    return t;
}

static double time_fmt_int64(long iters) {
    char buf[20];
    size_t total = 0;
    double t0 = now_s();
    for (long i = 0; i < iters; i++)
        total += mp__fmt_int64(buf, 1700000000000 + i);
    double t = now_s() - t0;
    sink += total + (size_t)buf[0];
    return t;
}

/* The median is the figure to quote; the best run shows what the code does
 * when nothing else competes for the CPU. median() sorts t, so t[0] is the
 * best afterwards. */
static void report_bytes(const char *name, double *t, int runs, long iters) {
    double s = median(t, runs);
    printf("%-34s %8.0f MB/s %8.1f ns/call   (best %6.0f MB/s)\n", name,
           (double)TEXT_LEN * (double)iters / s / 1e6, s / (double)iters * 1e9,
           (double)TEXT_LEN * (double)iters / t[0] / 1e6);
}

static void report_calls(const char *name, double *t, int runs, long iters) {
    double s = median(t, runs);
    printf("%-34s %8.1f ns/call                 (best %6.1f ns/call)\n", name,
           s / (double)iters * 1e9, t[0] / (double)iters * 1e9);
}

int main(int argc, char **argv) {
    int runs = argc > 1 ? atoi(argv[1]) : 7;
    if (runs < 1 || runs > MAX_RUNS) {
        fprintf(stderr, "usage: bench_primitives [runs 1..%d]\n", MAX_RUNS);
        return 2;
    }
    static char mixed[TEXT_LEN], ascii[TEXT_LEN], out[6 * TEXT_LEN];
    make_text(mixed, 1);
    make_text(ascii, 0);
    size_t bad;
    if (!mp__utf8_valid(mixed, TEXT_LEN, &bad)) {
        fprintf(stderr, "benchmark text is not valid UTF-8 at %zu\n", bad);
        return 1;
    }

    static const double prices[] = {19.99, 123.12, 83.14, 39.98, 1.5};
    volatile double point_one = 0.1, point_two = 0.2;
    const double slow[] = {point_one + point_two};
    const long text_iters = 200000, double_iters = 10000000, slow_iters = 200000;
    double t_mixed[MAX_RUNS], t_ascii[MAX_RUNS], t_valid[MAX_RUNS];
    double t_prices[MAX_RUNS], t_slow[MAX_RUNS], t_int[MAX_RUNS];
    for (int r = 0; r < runs; r++) {
        t_mixed[r] = time_escape(mixed, out, text_iters);
        t_ascii[r] = time_escape(ascii, out, text_iters);
        t_valid[r] = time_utf8_valid(mixed, text_iters);
        t_prices[r] = time_fmt_double(prices, 5, double_iters);
        t_slow[r] = time_fmt_double(slow, 1, slow_iters);
        t_int[r] = time_fmt_int64(double_iters);
    }

    size_t escaped = mp__json_escape(out, mixed, TEXT_LEN, NULL);
    printf("text: %d bytes, %zu after escaping; median of %d runs\n", TEXT_LEN, escaped, runs);
    report_bytes("json_escape (mixed)", t_mixed, runs, text_iters);
    report_bytes("json_escape (pure ASCII)", t_ascii, runs, text_iters);
    report_bytes("utf8_valid (mixed)", t_valid, runs, text_iters);
    report_calls("fmt_double (5 prices)", t_prices, runs, double_iters);
    report_calls("fmt_double (0.1+0.2, printf path)", t_slow, runs, slow_iters);
    report_calls("fmt_int64 (ms timestamp)", t_int, runs, double_iters);
    return 0;
}

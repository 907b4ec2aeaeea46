/*
 * Spool benchmark on workload W1 (docs/benchmarks.md).
 *
 *   bench_spool W1.ndjson BASE_URL DIR [runs] [recovery_mb]
 *
 * 1. Enqueue throughput from 8 threads, for the in-memory uploader and the
 *    spool's two durabilities, to BASE_URL (a `mparticle serve --sink`):
 *    events/s and MB/s of JSON until every enqueue has returned (what the
 *    producers feel), and until every batch is reported (end to end).
 * 2. Disk bytes per queued event: W1 enqueued against a server that is not
 *    there, so that nothing leaves the spool.
 * 3. Recovery: a spool of recovery_mb (default 1024) MB left by a closed
 *    uploader, then read by mp_spool_inspect() (the scan alone) and by a new
 *    uploader (scan, open, first batches queued), in MB/s of segment files,
 *    with the files in the page cache and, when this process may drop it
 *    (root), cold.
 * Figures are the median of `runs` runs (default 3).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include <mparticle.h>

#define THREADS 8

static double median(double *v, size_t n) {
    qsort(v, n, sizeof *v, cmp_double);
    return v[n / 2];
}

typedef struct job {
    mp_uploader *up;
    const mp_batch *batches;
    size_t count, first, step;
    size_t failed;
} job;

static void *produce(void *arg) {
    job *j = arg;
    for (size_t i = j->first; i < j->count; i += j->step) {
        if (mp_uploader_enqueue(j->up, &j->batches[i], NULL, NULL) != MP_OK)
            j->failed++;
    }
    return NULL;
}

static mp_client *client_to(const char *url) {
    mp_client_options co = MP_CLIENT_OPTIONS_INIT;
    co.api_key = "bench";
    co.api_secret = "bench";
    co.base_url = url;
    co.connect_timeout_ms = 200;
    mp_client *c = NULL;
    if (mp_client_new(&co, &c, NULL) != MP_OK) {
        fprintf(stderr, "bench_spool: cannot create a client for %s\n", url);
        exit(2);
    }
    return c;
}

static mp_uploader *uploader_on(mp_client *c, const char *dir, int durability, size_t count) {
    mp_uploader_options uo = MP_UPLOADER_OPTIONS_INIT;
    uo.max_queue_batches = count + 1;
    uo.max_queue_bytes = (size_t)4 << 30;
    uo.max_spool_bytes = (uint64_t)8 << 30;
    uo.enqueue_timeout_ms = -1;
    uo.spool_dir = dir;
    uo.spool_durability = (mp_spool_durability)durability;
    mp_uploader *up = NULL;
    mp_diag *d = mp_diag_new();
    if (mp_uploader_new(c, &uo, &up, d) != MP_OK) {
        fprintf(stderr, "bench_spool: uploader: %s\n",
                mp_diag_count(d) ? mp_diag_get(d, 0)->message : "failed");
        exit(2);
    }
    mp_diag_free(d);
    return up;
}

static void wipe(const char *dir) {
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        exit(2);
}

/* Enqueues every batch from THREADS threads; returns the seconds until
 * every enqueue returned, and the seconds until all were reported. */
static void enqueue_all(mp_uploader *up, const mp_batch *b, size_t n, double *enq_s,
                        double *all_s) {
    pthread_t t[THREADS];
    job jobs[THREADS];
    double t0 = now_s();
    for (int i = 0; i < THREADS; i++) {
        jobs[i] = (job){up, b, n, (size_t)i, THREADS, 0};
        pthread_create(&t[i], NULL, produce, &jobs[i]);
    }
    size_t failed = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        failed += jobs[i].failed;
    }
    *enq_s = now_s() - t0;
    if (mp_uploader_flush(up, 600000) != MP_OK || failed) {
        fprintf(stderr, "bench_spool: %zu enqueues failed or flush timed out\n", failed);
        exit(1);
    }
    *all_s = now_s() - t0;
}

static const char *mode_name(int mode) {
    static const char *const names[] = {"in memory (no spool)", "spool, process-crash durability",
                                        "spool, power-loss durability"};
    return names[mode];
}

static void throughput(const char *url, const char *dir, const mp_batch *b, size_t n,
                       size_t events, size_t bytes, int runs) {
    printf("enqueue from %d threads, W1 (%zu batches, %zu events, %.1f MB):\n", THREADS, n,
           events, bytes / 1e6);
    for (int mode = 0; mode < 3; mode++) {
        double enq[16], all[16];
        for (int r = 0; r < runs; r++) {
            wipe(dir);
            mp_client *c = client_to(url);
            mp_uploader *up = uploader_on(c, mode ? dir : NULL, mode ? mode - 1 : 0, n);
            enqueue_all(up, b, n, &enq[r], &all[r]);
            mp_uploader_close(up, 10000);
            mp_client_free(c);
        }
        double e = median(enq, (size_t)runs), a = median(all, (size_t)runs);
        printf("  %-34s enqueue %10.0f events/s %7.1f MB/s | end to end %10.0f events/s\n",
               mode_name(mode), events / e, bytes / e / 1e6, events / a);
    }
}

/* Fills dir with at least `mb` MB of W1 batches that are never delivered:
 * an uploader whose server is not there, closed at once, keeps them all. */
static uint64_t fill_spool(const char *dir, const mp_batch *b, size_t n, uint64_t mb,
                           uint64_t *batches) {
    wipe(dir);
    mp_client *c = client_to("http://127.0.0.1:1/v2");
    mp_uploader_options uo = MP_UPLOADER_OPTIONS_INIT;
    uo.max_queue_batches = 10000000;
    uo.max_queue_bytes = (size_t)8 << 30;
    uo.max_spool_bytes = (uint64_t)8 << 30;
    uo.spool_dir = dir;
    uo.delivery_timeout_ms = 3600000;
    uo.max_in_flight = 1;
    mp_uploader *up = NULL;
    if (mp_uploader_new(c, &uo, &up, NULL) != MP_OK)
        exit(2);
    mp_uploader_stats st = MP_UPLOADER_STATS_INIT;
    do {
        for (size_t i = 0; i < n; i++)
            mp_uploader_enqueue(up, &b[i], NULL, NULL);
        mp_uploader_stats_get(up, &st);
    } while (st.spool_bytes < mb * 1000000);
    mp_uploader_close(up, 0);
    mp_client_free(c);
    mp_spool_info info = MP_SPOOL_INFO_INIT;
    mp_spool_inspect(dir, &info, NULL);
    *batches = info.batches;
    return info.disk_bytes;
}

static int drop_caches(void) {
    FILE *f = fopen("/proc/sys/vm/drop_caches", "w");
    if (!f)
        return 0;
    int ok = fputs("3\n", f) >= 0;
    return fclose(f) == 0 && ok;
}

static void recovery(const char *dir, const mp_batch *b, size_t n, size_t events,
                     double json_per_event, int runs, uint64_t mb) {
    uint64_t batches;
    uint64_t disk = fill_spool(dir, b, n, mb, &batches);
    double per_event = (double)batches * (double)events / (double)n;
    printf("spool of %.0f MB on disk, %llu batches: %.1f disk bytes per queued event "
           "(W1's JSON: %.1f bytes per event)\n",
           disk / 1e6, (unsigned long long)batches, (double)disk / per_event, json_per_event);
    for (int cold = 0; cold < 2; cold++) {
        if (cold && !drop_caches()) {
            printf("  (cold figures need root to drop the page cache: skipped)\n");
            break;
        }
        double scan[16], open[16];
        for (int r = 0; r < runs; r++) {
            if (cold)
                drop_caches();
            double t0 = now_s();
            mp_spool_info info = MP_SPOOL_INFO_INIT;
            mp_spool_inspect(dir, &info, NULL);
            scan[r] = now_s() - t0;
            if (cold)
                drop_caches();
            mp_client *c = client_to("http://127.0.0.1:1/v2");
            mp_uploader_options uo = MP_UPLOADER_OPTIONS_INIT;
            uo.spool_dir = dir;
            uo.max_spool_bytes = (uint64_t)8 << 30;
            uo.delivery_timeout_ms = 3600000;
            mp_uploader *up = NULL;
            t0 = now_s();
            if (mp_uploader_new(c, &uo, &up, NULL) != MP_OK)
                exit(2);
            open[r] = now_s() - t0;
            mp_uploader_close(up, 0);
            mp_client_free(c);
        }
        double s = median(scan, (size_t)runs), o = median(open, (size_t)runs);
        printf("  %s: scan %.2f s (%.0f MB/s); uploader open with recovery %.2f s (%.0f MB/s)\n",
               cold ? "cold" : "page cache", s, disk / s / 1e6, o, disk / o / 1e6);
    }
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: bench_spool W1.ndjson BASE_URL DIR [runs] [recovery_mb]\n");
        return 2;
    }
    int runs = argc > 4 ? atoi(argv[4]) : 3;
    uint64_t mb = argc > 5 ? (uint64_t)atoll(argv[5]) : 1024;
    if (runs < 1 || runs > 16)
        runs = 3;
    size_t len;
    char *text = read_file(argv[1], &len);
    mp_document *doc = NULL;
    if (!text || mp_decode(text, len, &doc, NULL) != MP_OK) {
        fprintf(stderr, "bench_spool: cannot read %s\n", argv[1]);
        return 2;
    }
    size_t n = mp_document_count(doc), events = 0;
    mp_batch *b = malloc(n * sizeof *b);
    for (size_t i = 0; i < n; i++) {
        b[i] = *mp_document_batch(doc, i);
        events += b[i].events.count;
    }
    throughput(argv[2], argv[3], b, n, events, len, runs);
    recovery(argv[3], b, n, events, (double)len / (double)events, runs, mb);
    wipe(argv[3]);
    free(b);
    mp_document_free(doc);
    free(text);
    return 0;
}

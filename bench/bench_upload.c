/*
 * Upload benchmark on workload W1 (bench/gen_workload.py).
 *
 *   bench_upload W1.ndjson BASE_URL [runs]
 *
 * Uploads every W1 batch to BASE_URL (a `mparticle serve --sink` started by
 * bench/run.sh) with one shared mp_client and N threads: one batch per
 * request (/v2/events) and packed 100 per request (/v2/bulkevents), at
 * several concurrencies, with and without the client's validation. The
 * batches are decoded before the clock starts; what is timed is what an
 * application pays per call: validation, source_request_id, encoding and
 * the HTTP exchange. Figures are events/s, the median of `runs` runs.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include <mparticle.h>

typedef struct work {
    mp_client *client;
    const mp_batch *batches;
    size_t count;
    size_t per_request; /* 1 = /v2/events, else /v2/bulkevents */
    size_t next;        /* next batch to take, under lock */
    size_t failed;
    pthread_mutex_t lock;
} work;

static void *uploader(void *arg) {
    work *w = arg;
    mp_result r;
    memset(&r, 0, sizeof r);
    for (;;) {
        pthread_mutex_lock(&w->lock);
        size_t first = w->next;
        size_t n = first < w->count ? w->per_request : 0;
        if (first + n > w->count)
            n = w->count - first;
        w->next += n;
        pthread_mutex_unlock(&w->lock);
        if (n == 0)
            break;
        mp_error err = w->per_request == 1
                           ? mp_client_upload(w->client, &w->batches[first], &r, NULL)
                           : mp_client_upload_bulk(w->client, &w->batches[first], n, &r, NULL);
        if (err != MP_OK) {
            pthread_mutex_lock(&w->lock);
            w->failed += n;
            pthread_mutex_unlock(&w->lock);
        }
    }
    mp_result_clear(&r);
    return NULL;
}

/* One timed pass over all batches; returns seconds, or -1 if any failed. */
static double run(mp_client *client, const mp_batch *batches, size_t count, size_t per_request,
                  int threads) {
    work w = {client, batches, count, per_request, 0, 0, PTHREAD_MUTEX_INITIALIZER};
    pthread_t tids[64];
    double t = now_s();
    for (int i = 0; i < threads; i++)
        pthread_create(&tids[i], NULL, uploader, &w);
    for (int i = 0; i < threads; i++)
        pthread_join(tids[i], NULL);
    t = now_s() - t;
    if (w.failed) {
        fprintf(stderr, "%zu batches failed\n", w.failed);
        return -1;
    }
    return t;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s W1.ndjson BASE_URL [runs]\n", argv[0]);
        return 2;
    }
    int runs = argc > 3 ? atoi(argv[3]) : 5;
    if (runs < 1 || runs > 32)
        runs = 5;
    size_t len = 0;
    char *text = read_file(argv[1], &len);
    mp_document *doc = NULL;
    if (!text || mp_decode(text, len, &doc, NULL) != MP_OK) {
        fprintf(stderr, "cannot read or decode %s\n", argv[1]);
        return 2;
    }
    size_t count = mp_document_count(doc);
    mp_batch *batches = malloc(count * sizeof *batches);
    size_t events = 0;
    for (size_t i = 0; i < count; i++) {
        batches[i] = *mp_document_batch(doc, i);
        events += batches[i].events.count;
    }

    static const struct {
        size_t per_request;
        int threads;
        int skip_validation;
    } configs[] = {
        {1, 1, 0},   {1, 4, 0},   {1, 8, 0},   {1, 16, 0}, {1, 8, 1},
        {100, 1, 0}, {100, 2, 0}, {100, 4, 0}, {100, 4, 1},
    };
    printf("W1: %zu batches, %zu events; %s; median of %d runs\n", count, events, argv[2], runs);
    printf("%-10s %8s %10s %12s %12s\n", "mode", "threads", "validate", "events/s", "batches/s");
    for (size_t c = 0; c < sizeof configs / sizeof configs[0]; c++) {
        mp_client_options o = {.api_key = "bench-key", .api_secret = "bench-secret",
                                .base_url = argv[2], .max_attempts = 1,
                                .skip_validation = configs[c].skip_validation,
                                .curl = &(mp_curl_options){.max_idle_connections = 64}};
        mp_client *client = NULL;
        if (mp_client_new(&o, &client, NULL) != MP_OK) {
            fprintf(stderr, "cannot create the client\n");
            return 1;
        }
        run(client, batches, count < 1000 ? count : 1000, configs[c].per_request,
            configs[c].threads); /* warm-up: connections, caches */
        double t[32];
        for (int r = 0; r < runs; r++) {
            t[r] = run(client, batches, count, configs[c].per_request, configs[c].threads);
            if (t[r] < 0)
                return 1;
        }
        qsort(t, (size_t)runs, sizeof t[0], cmp_double);
        double m = t[runs / 2];
        printf("%-10s %8d %10s %12.0f %12.0f\n", configs[c].per_request == 1 ? "single" : "bulk100",
               configs[c].threads, configs[c].skip_validation ? "no" : "yes",
               (double)events / m, (double)count / m);
        mp_client_free(client);
    }
    free(batches);
    mp_document_free(doc);
    free(text);
    return 0;
}

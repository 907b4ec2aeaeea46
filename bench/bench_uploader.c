/*
 * Asynchronous uploader benchmark on workload W1 (bench/gen_workload.py).
 *
 *   bench_uploader W1.ndjson [runs]
 *
 * Everything runs against `mparticle serve` started in this process on
 * 127.0.0.1 (include/mparticle/serve.h), or a socket that never answers.
 * The W1 batches are decoded before any clock starts (as in bench_upload).
 *
 * memory: every W1 batch enqueued while the server never answers (a socket
 *   that listens and never accepts); RSS growth from before the first
 *   enqueue to after the last, divided by the events queued, beside the
 *   encoded JSON bytes per event. Measured first, on a heap that has not
 *   yet held a queue.
 * enqueue latency: every W1 batch enqueued (clock read around each call)
 *   from 1 thread and from 8 threads while the server takes 50 ms to answer
 *   each request (latency_ms), with a queue larger than W1 so that it never
 *   fills: p50, p99 and max in microseconds; the median over `runs`.
 * throughput: every W1 batch enqueued from 1, 2 or 4 producer threads, then
 *   flush(), against a sink server (202 without reading the body), one batch
 *   per request and in bulk, with validation (the default) and without;
 *   events/s from the first enqueue to flush() returning, the median over
 *   `runs`. Baseline in the same run, against the same server, measured in
 *   turns with the uploader: the synchronous client (bench_upload.c's
 *   method: N threads calling mp_client_upload / mp_client_upload_bulk of
 *   100).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include <mparticle.h>
#include <mparticle/serve.h>

#define KEY "bench-key"
#define SECRET "bench-secret"

static const mp_batch *w1;
static size_t w1_count, w1_events;

static void die(const char *what, mp_error err) {
    fprintf(stderr, "%s: %s\n", what, mp_error_name(err));
    exit(1);
}

static mp_server *serve(mp_serve_options o) {
    o.api_key = KEY;
    o.api_secret = SECRET;
    mp_server *s = NULL;
    char err[256] = "";
    mp_error rc = mp_serve_start(&o, &s, err, sizeof err);
    if (rc != MP_OK) {
        fprintf(stderr, "mp_serve_start: %s\n", err);
        exit(1);
    }
    return s;
}

static mp_client *client_to(const char *base_url, int skip_validation) {
    mp_client_options o = MP_CLIENT_OPTIONS_INIT;
    o.api_key = KEY;
    o.api_secret = SECRET;
    o.base_url = base_url;
    o.skip_validation = skip_validation;
    o.timeout_ms = 60000;
    mp_curl_options curl = {.max_idle_connections = 64};
    o.curl = &curl;
    mp_client *c = NULL;
    mp_error err = mp_client_new(&o, &c, NULL);
    if (err)
        die("mp_client_new", err);
    return c;
}

static mp_uploader *uploader_new(mp_client *c, mp_uploader_options o) {
    mp_uploader *up = NULL;
    mp_diag *d = mp_diag_new();
    mp_error err = mp_uploader_new(c, &o, &up, d);
    if (err) {
        fprintf(stderr, "mp_uploader_new: %s (%s)\n", mp_error_name(err),
                mp_diag_count(d) ? mp_diag_get(d, 0)->message : "");
        exit(1);
    }
    mp_diag_free(d);
    return up;
}

static mp_uploader_stats stats_of(mp_uploader *up) {
    mp_uploader_stats st = MP_UPLOADER_STATS_INIT;
    mp_uploader_stats_get(up, &st);
    return st;
}

/* ---- memory per queued event ------------------------------------------- */

/* Resident and peak resident set size in bytes (/proc/self/status). The
 * peak is not used: decoding W1 beforehand set it. */
static void rss(long *now, long *peak) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    *now = *peak = -1;
    while (f && fgets(line, sizeof line, f)) {
        long kb;
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            *now = kb * 1024;
        else if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
            *peak = kb * 1024;
    }
    if (f)
        fclose(f);
}

/* A socket on 127.0.0.1 that listens and never accepts; its base URL in url. */
static int silent_socket(char *url, size_t cap) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 128) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        perror("silent socket");
        exit(1);
    }
    snprintf(url, cap, "http://127.0.0.1:%u/v2", (unsigned)ntohs(a.sin_port));
    return fd;
}

static void bench_memory(void) {
    char url[64];
    int fd = silent_socket(url, sizeof url);
    mp_client *c = client_to(url, 0);
    mp_uploader_options o = MP_UPLOADER_OPTIONS_INIT;
    o.max_queue_batches = w1_count + 1;
    o.max_queue_bytes = (size_t)1 << 30;
    o.linger_ms = -1;
    mp_uploader *up = uploader_new(c, o);
    /* One batch first: the sending threads' and the encoder's first allocations. */
    mp_error err = mp_uploader_enqueue(up, &w1[0], NULL, NULL);
    if (err)
        die("enqueue", err);
    nanosleep(&(struct timespec){0, 200 * 1000 * 1000}, NULL);
    long before, after, peak;
    rss(&before, &peak);
    for (size_t i = 1; i < w1_count; i++) {
        err = mp_uploader_enqueue(up, &w1[i], NULL, NULL);
        if (err)
            die("enqueue", err);
    }
    rss(&after, &peak);
    mp_uploader_stats st = stats_of(up);
    size_t events = w1_events - w1[0].events.count;
    uint64_t bytes = st.queued_bytes; /* batches in flight are not counted here */
    uint64_t batches = st.queued;
    printf("queued %llu batches (%llu waiting, %llu in requests), %zu events; server never "
           "answers\n",
           (unsigned long long)st.enqueued, (unsigned long long)st.queued,
           (unsigned long long)st.in_flight, events);
    printf("%-40s %12.1f\n", "RSS growth per queued event (bytes)",
           (double)(after - before) / (double)events);
    if (batches > 0)
        printf("%-40s %12.1f\n", "encoded JSON per queued event (bytes)",
               (double)bytes / (double)batches / ((double)w1_events / (double)w1_count));
    printf("%-40s %12.1f MB (RSS %.1f -> %.1f MB)\n", "RSS growth", (double)(after - before) / 1e6,
           (double)before / 1e6, (double)after / 1e6);
    mp_uploader_close(up, 0);
    mp_client_free(c);
    close(fd);
}

/* ---- enqueue latency --------------------------------------------------- */

typedef struct lat_work {
    mp_uploader *up;
    size_t first, count;
    double *us; /* per call */
    int failed;
} lat_work;

static void *lat_run(void *arg) {
    lat_work *w = arg;
    for (size_t i = 0; i < w->count; i++) {
        double t0 = now_s();
        mp_error err = mp_uploader_enqueue(w->up, &w1[w->first + i], NULL, NULL);
        w->us[w->first + i] = (now_s() - t0) * 1e6;
        if (err)
            w->failed = 1;
    }
    return NULL;
}

typedef struct lat_result {
    double p50, p99, max, batches_per_s;
} lat_result;

static lat_result enqueue_latency_once(const char *url, int threads) {
    mp_client *c = client_to(url, 0);
    mp_uploader_options o = MP_UPLOADER_OPTIONS_INIT;
    o.max_queue_batches = w1_count * 2;
    o.max_queue_bytes = (size_t)1 << 30;
    mp_uploader *up = uploader_new(c, o);
    double *us = malloc(w1_count * sizeof *us);
    lat_work w[64];
    pthread_t tids[64];
    size_t share = w1_count / (size_t)threads;
    double t0 = now_s();
    for (int t = 0; t < threads; t++) {
        size_t first = (size_t)t * share;
        w[t] = (lat_work){up, first, t == threads - 1 ? w1_count - first : share, us, 0};
        pthread_create(&tids[t], NULL, lat_run, &w[t]);
    }
    for (int t = 0; t < threads; t++)
        pthread_join(tids[t], NULL);
    double took = now_s() - t0;
    for (int t = 0; t < threads; t++) {
        if (w[t].failed) {
            fprintf(stderr, "an enqueue failed (queue full?)\n");
            exit(1);
        }
    }
    mp_uploader_stats st = stats_of(up);
    if (st.queue_full) {
        fprintf(stderr, "the queue filled\n");
        exit(1);
    }
    mp_error err = mp_uploader_flush(up, 120000);
    if (err)
        die("flush", err);
    st = stats_of(up);
    if (st.accepted != w1_count) {
        fprintf(stderr, "%llu of %zu accepted\n", (unsigned long long)st.accepted, w1_count);
        exit(1);
    }
    mp_uploader_close(up, 5000);
    mp_client_free(c);
    qsort(us, w1_count, sizeof *us, cmp_double);
    lat_result r = {us[w1_count / 2], us[(size_t)((double)w1_count * 0.99)], us[w1_count - 1],
                    (double)w1_count / took};
    free(us);
    return r;
}

static void bench_enqueue_latency(int runs) {
    mp_server *s = serve((mp_serve_options){.sink = 1, .latency_ms = 50, .threads = 16});
    char url[128];
    snprintf(url, sizeof url, "%s/v2", mp_serve_url(s));
    printf("%-30s %8s %10s %10s %10s %14s\n", "enqueue, server answers in 50 ms", "threads",
           "p50 us", "p99 us", "max us", "enqueues/s");
    static const int thread_counts[] = {1, 8};
    for (size_t k = 0; k < 2; k++) {
        double p50[32], p99[32], mx[32], rate[32];
        for (int r = 0; r < runs; r++) {
            lat_result x = enqueue_latency_once(url, thread_counts[k]);
            p50[r] = x.p50;
            p99[r] = x.p99;
            mx[r] = x.max;
            rate[r] = x.batches_per_s;
        }
        qsort(p50, (size_t)runs, sizeof p50[0], cmp_double);
        qsort(p99, (size_t)runs, sizeof p99[0], cmp_double);
        qsort(mx, (size_t)runs, sizeof mx[0], cmp_double);
        qsort(rate, (size_t)runs, sizeof rate[0], cmp_double);
        printf("%-30s %8d %10.1f %10.1f %10.0f %14.0f\n", "", thread_counts[k], p50[runs / 2],
               p99[runs / 2], mx[runs / 2], rate[runs / 2]);
    }
    mp_serve_stop(s);
}

/* ---- throughput -------------------------------------------------------- */

typedef struct put_work {
    mp_uploader *up;
    size_t first, count;
    int failed;
} put_work;

static void *put_run(void *arg) {
    put_work *w = arg;
    for (size_t i = 0; i < w->count; i++) {
        if (mp_uploader_enqueue(w->up, &w1[w->first + i], NULL, NULL) != MP_OK)
            w->failed = 1;
    }
    return NULL;
}

/* Seconds to enqueue n batches from `producers` threads and flush; -1 on failure. */
static double uploader_pass(mp_uploader *up, size_t n, int producers) {
    put_work w[16];
    pthread_t tids[16];
    size_t share = n / (size_t)producers;
    uint64_t accepted0 = stats_of(up).accepted;
    double t0 = now_s();
    for (int t = 0; t < producers; t++) {
        size_t first = (size_t)t * share;
        w[t] = (put_work){up, first, t == producers - 1 ? n - first : share, 0};
        pthread_create(&tids[t], NULL, put_run, &w[t]);
    }
    for (int t = 0; t < producers; t++)
        pthread_join(tids[t], NULL);
    mp_error err = mp_uploader_flush(up, 120000);
    double took = now_s() - t0;
    for (int t = 0; t < producers; t++) {
        if (w[t].failed)
            return -1;
    }
    if (err || stats_of(up).accepted - accepted0 != n)
        return -1;
    return took;
}

typedef struct sync_work {
    mp_client *client;
    size_t per_request, next, failed;
    pthread_mutex_t lock;
} sync_work;

static void *sync_run(void *arg) {
    sync_work *w = arg;
    mp_result r = MP_RESULT_INIT;
    for (;;) {
        pthread_mutex_lock(&w->lock);
        size_t first = w->next;
        size_t n = first < w1_count ? w->per_request : 0;
        if (first + n > w1_count)
            n = w1_count - first;
        w->next += n;
        pthread_mutex_unlock(&w->lock);
        if (n == 0)
            break;
        mp_error err = w->per_request == 1
                           ? mp_client_upload(w->client, &w1[first], &r, NULL)
                           : mp_client_upload_bulk(w->client, &w1[first], n, &r, NULL);
        if (err) {
            pthread_mutex_lock(&w->lock);
            w->failed += n;
            pthread_mutex_unlock(&w->lock);
        }
    }
    mp_result_clear(&r);
    return NULL;
}

static double sync_pass(mp_client *c, size_t per_request, int threads) {
    sync_work w = {c, per_request, 0, 0, PTHREAD_MUTEX_INITIALIZER};
    pthread_t tids[64];
    double t0 = now_s();
    for (int t = 0; t < threads; t++)
        pthread_create(&tids[t], NULL, sync_run, &w);
    for (int t = 0; t < threads; t++)
        pthread_join(tids[t], NULL);
    double took = now_s() - t0;
    return w.failed ? -1 : took;
}

static void print_row(const char *who, const char *mode, int threads, int in_flight,
                      int validate, double *t, int runs) {
    qsort(t, (size_t)runs, sizeof t[0], cmp_double);
    double m = t[runs / 2];
    char flight[16] = "-";
    if (in_flight)
        snprintf(flight, sizeof flight, "%d", in_flight);
    printf("%-12s %-8s %8d %10s %9s %12.0f %12.0f\n", who, mode, threads, flight,
           validate ? "yes" : "no", (double)w1_events / m, (double)w1_count / m);
}

/* The configurations are measured in turns (run 1 of each, then run 2 of
 * each, ...), so that a change in the machine's load during the benchmark
 * falls on all of them alike. */
static void bench_throughput(int runs) {
    mp_server *s = serve((mp_serve_options){.sink = 1});
    char url[128];
    snprintf(url, sizeof url, "%s/v2", mp_serve_url(s));
    printf("%-12s %-8s %8s %10s %9s %12s %12s\n", "who", "mode", "threads", "in flight",
           "validate", "events/s", "batches/s");

    enum { NUP = 6, NSYNC = 2 };
    static const struct {
        mp_upload_mode mode;
        int producers, in_flight, skip_validation;
    } up_configs[NUP] = {
        {MP_UPLOAD_SINGLE, 1, 8, 0}, {MP_UPLOAD_SINGLE, 2, 16, 0}, {MP_UPLOAD_BULK, 1, 4, 0},
        {MP_UPLOAD_BULK, 2, 4, 0},   {MP_UPLOAD_BULK, 4, 4, 0},    {MP_UPLOAD_BULK, 2, 4, 1},
    };
    static const struct {
        size_t per_request;
        int threads;
    } sync_configs[NSYNC] = {{1, 8}, {100, 4}};

    mp_client *clients[NUP + NSYNC];
    mp_uploader *ups[NUP];
    for (int k = 0; k < NUP + NSYNC; k++)
        clients[k] = client_to(url, 0);
    for (int k = 0; k < NUP; k++) {
        mp_uploader_options o = MP_UPLOADER_OPTIONS_INIT;
        o.mode = up_configs[k].mode;
        o.max_in_flight = up_configs[k].in_flight;
        o.skip_validation = up_configs[k].skip_validation;
        o.enqueue_timeout_ms = -1; /* producers faster than the network wait for room */
        ups[k] = uploader_new(clients[k], o);
        uploader_pass(ups[k], w1_count < 1000 ? w1_count : 1000, up_configs[k].producers);
    }
    for (int k = 0; k < NSYNC; k++) /* warm-up: connections, caches */
        sync_pass(clients[NUP + k], sync_configs[k].per_request, sync_configs[k].threads);

    double t[NUP + NSYNC][32];
    for (int r = 0; r < runs; r++) {
        for (int k = 0; k < NUP + NSYNC; k++) {
            t[k][r] = k < NUP ? uploader_pass(ups[k], w1_count, up_configs[k].producers)
                              : sync_pass(clients[k], sync_configs[k - NUP].per_request,
                                          sync_configs[k - NUP].threads);
            if (t[k][r] < 0) {
                fprintf(stderr, "pass %d of configuration %d failed\n", r, k);
                exit(1);
            }
        }
    }
    for (int k = 0; k < NUP; k++)
        print_row("uploader", up_configs[k].mode == MP_UPLOAD_SINGLE ? "single" : "bulk",
                  up_configs[k].producers, up_configs[k].in_flight,
                  !up_configs[k].skip_validation, t[k], runs);
    for (int k = 0; k < NSYNC; k++)
        print_row("sync client", sync_configs[k].per_request == 1 ? "single" : "bulk100",
                  sync_configs[k].threads, 0, 1, t[NUP + k], runs);
    for (int k = 0; k < NUP; k++)
        mp_uploader_close(ups[k], 5000);
    for (int k = 0; k < NUP + NSYNC; k++)
        mp_client_free(clients[k]);
    mp_serve_stop(s);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s W1.ndjson [runs]\n", argv[0]);
        return 2;
    }
    int runs = argc > 2 ? atoi(argv[2]) : 5;
    if (runs < 1 || runs > 32)
        runs = 5;
    size_t len = 0;
    char *text = read_file(argv[1], &len);
    mp_document *doc = NULL;
    if (!text || mp_decode(text, len, &doc, NULL) != MP_OK) {
        fprintf(stderr, "cannot read or decode %s\n", argv[1]);
        return 2;
    }
    w1_count = mp_document_count(doc);
    mp_batch *batches = malloc(w1_count * sizeof *batches);
    for (size_t i = 0; i < w1_count; i++) {
        batches[i] = *mp_document_batch(doc, i);
        w1_events += batches[i].events.count;
    }
    w1 = batches;
    printf("W1: %zu batches, %zu events; in-process mparticle serve on 127.0.0.1; median of %d "
           "runs\n\n",
           w1_count, w1_events, runs);

    printf("### memory per queued event\n");
    bench_memory();
    printf("\n### enqueue latency\n");
    bench_enqueue_latency(runs);
    printf("\n### throughput to a sink server\n");
    bench_throughput(runs);

    free(batches);
    mp_document_free(doc);
    free(text);
    return 0;
}

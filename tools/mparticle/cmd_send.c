/*
 * mparticle send [--url BASE | --pod POD] [--key K --secret S] [--bulk]
 *                [--historical] [--concurrency N] [FILE...]
 *
 * Uploads every batch of the inputs with the SDK's client: each batch is
 * decoded and validated first (invalid ones are reported and not sent),
 * then sent one per request, or packed into bulk requests of up to 100
 * batches and under 256 KB, with N requests in flight.
 *
 * Copyright 2026 The libmparticle authors. Licensed under the Apache License 2.0.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"

#define MAX_CONCURRENCY 256
/* Room left per batch for the source_request_id the client adds, and for
 * the commas and brackets of the array. */
#define ID_ALLOWANCE 64

static const char description[] =
    "Uploads every batch of the inputs to the mParticle Events API. Each FILE\n"
    "holds one batch, a JSON array of batches, or NDJSON; \"-\" or no FILE reads\n"
    "standard input.\n"
    "\n"
    "Each batch is decoded and validated first; a batch with a problem is\n"
    "reported like `mparticle validate` reports it and is not sent. The rest go\n"
    "one batch per request to /v2/events, or with --bulk packed into requests\n"
    "of at most 100 batches and under 256 KB to /v2/bulkevents (--historical:\n"
    "/v2/bulkevents/historical). Each request is retried on network errors,\n"
    "timeouts, 429 and 5xx with backoff, honouring Retry-After; every batch\n"
    "gets a source_request_id so that retries are not counted twice.\n"
    "\n"
    "Credentials come from --key/--secret or MPARTICLE_API_KEY and\n"
    "MPARTICLE_API_SECRET. The destination is --url (e.g.\n"
    "http://127.0.0.1:8080/v2 for `mparticle serve`), or --pod, or the pod\n"
    "named by the key's prefix (us2-...), else US1.\n"
    "\n"
    "A batch that was not delivered is reported as\n"
    "\n"
    "    FILE:BATCH: (batch): not delivered: REASON\n"
    "\n"
    "On a terminal a progress line is shown; a summary goes to standard error.\n"
    "\n"
    "Exit status: 0 if every batch was accepted, 1 if any was invalid, rejected\n"
    "or not delivered, 2 for a usage error or an input that cannot be read.\n";

/* A request: batches [first, first + count) of the input. */
typedef struct job {
    size_t first;
    size_t count;
} job;

/* What happened to one batch. */
typedef struct outcome {
    mp_error error;
    int status;
    char reason[512];
} outcome;

typedef struct sender {
    mp_client *client;
    int bulk;
    int historical;
    int concurrency;
    int progress;

    /* The current input's valid batches, gathered by on_batch. */
    const mp_batch **batches;
    long *indexes;
    size_t count;
    size_t cap;

    /* Work shared by the threads of one input. */
    job *jobs;
    size_t njobs;
    outcome *outcomes; /* per batch */
    pthread_mutex_t lock;
    size_t next_job;
    size_t batches_done;

    /* Totals over all inputs. */
    size_t total_batches, total_events, accepted, failed, requests;
} sender;

static int collect_batch(cli_checker *ck, const mp_batch *batch, long index, void *ctx) {
    (void)ck;
    sender *s = ctx;
    if (s->count == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        const mp_batch **b = realloc(s->batches, cap * sizeof *b);
        if (!b)
            return CLI_EXIT_ERROR;
        s->batches = b;
        long *ix = realloc(s->indexes, cap * sizeof *ix);
        if (!ix)
            return CLI_EXIT_ERROR;
        s->indexes = ix;
        s->cap = cap;
    }
    s->batches[s->count] = batch;
    s->indexes[s->count] = index;
    s->count++;
    return CLI_EXIT_OK;
}

/* Greedy packing in input order: a request takes batches while it stays
 * within 100 batches and under 256 KB, counting each batch's encoded size
 * plus room for the id the client adds. */
static int plan_jobs(sender *s) {
    s->njobs = 0;
    s->jobs = malloc((s->count ? s->count : 1) * sizeof *s->jobs);
    if (!s->jobs)
        return -1;
    if (!s->bulk && !s->historical) {
        for (size_t i = 0; i < s->count; i++)
            s->jobs[s->njobs++] = (job){i, 1};
        return 0;
    }
    mp_buffer *scratch = mp_buffer_new(0);
    if (!scratch)
        return -1;
    size_t i = 0;
    while (i < s->count) {
        job j = {i, 0};
        size_t bytes = 2;
        while (i < s->count && j.count < MP_MAX_BATCHES_PER_REQUEST) {
            mp_buffer_clear(scratch);
            size_t size = mp_encode_batch(s->batches[i], scratch, NULL) == MP_OK
                              ? mp_buffer_length(scratch) + ID_ALLOWANCE
                              : MP_MAX_REQUEST_BYTES; /* the client will report it */
            if (j.count > 0 && bytes + size >= MP_MAX_REQUEST_BYTES)
                break;
            bytes += size;
            j.count++;
            i++;
        }
        s->jobs[s->njobs++] = j;
    }
    mp_buffer_free(scratch);
    return 0;
}

static void describe_failure(outcome *o, const mp_result *r, const mp_diag *diag) {
    const mp_problem *p = mp_diag_count(diag) ? mp_diag_get(diag, 0) : NULL;
    if (p)
        snprintf(o->reason, sizeof o->reason, "%s%s%s", p->path, *p->path ? ": " : "",
                 p->message);
    else if (r->status && r->error_count)
        snprintf(o->reason, sizeof o->reason, "HTTP %d: %s", r->status, r->errors[0].message);
    else if (r->status)
        snprintf(o->reason, sizeof o->reason, "HTTP %d after %d attempt%s", r->status,
                 r->attempts, r->attempts == 1 ? "" : "s");
    else
        snprintf(o->reason, sizeof o->reason, "%s after %d attempt%s",
                 r->transport_error[0] ? r->transport_error : mp_strerror(r->error), r->attempts,
                 r->attempts == 1 ? "" : "s");
}

static void run_job(sender *s, const job *j, mp_batch *scratch, mp_result *r, mp_diag *diag) {
    mp_diag_clear(diag);
    for (size_t k = 0; k < j->count; k++)
        scratch[k] = *s->batches[j->first + k];
    mp_error err;
    if (s->historical)
        err = mp_client_upload_historical(s->client, scratch, j->count, r, diag);
    else if (s->bulk)
        err = mp_client_upload_bulk(s->client, scratch, j->count, r, diag);
    else
        err = mp_client_upload(s->client, scratch, r, diag);
    outcome o = {err, r->status, ""};
    if (err != MP_OK)
        describe_failure(&o, r, diag);
    pthread_mutex_lock(&s->lock);
    for (size_t k = 0; k < j->count; k++)
        s->outcomes[j->first + k] = o;
    s->batches_done += j->count;
    s->requests += (size_t)r->attempts;
    pthread_mutex_unlock(&s->lock);
}

static void *worker(void *arg) {
    sender *s = arg;
    mp_batch *scratch = malloc(MP_MAX_BATCHES_PER_REQUEST * sizeof *scratch);
    mp_diag *diag = mp_diag_new();
    mp_result r;
    memset(&r, 0, sizeof r);
    for (;;) {
        pthread_mutex_lock(&s->lock);
        size_t n = s->next_job < s->njobs ? s->next_job++ : s->njobs;
        pthread_mutex_unlock(&s->lock);
        if (n >= s->njobs)
            break;
        if (!scratch || !diag) {
            /* Without memory the job cannot run; report it rather than hang. */
            pthread_mutex_lock(&s->lock);
            for (size_t k = 0; k < s->jobs[n].count; k++) {
                outcome *o = &s->outcomes[s->jobs[n].first + k];
                o->error = MP_ERR_NOMEM;
                snprintf(o->reason, sizeof o->reason, "%s", mp_strerror(MP_ERR_NOMEM));
            }
            s->batches_done += s->jobs[n].count;
            pthread_mutex_unlock(&s->lock);
            continue;
        }
        run_job(s, &s->jobs[n], scratch, &r, diag);
    }
    mp_result_clear(&r);
    mp_diag_free(diag);
    free(scratch);
    return NULL;
}

static void show_progress(sender *s, size_t total) {
    pthread_mutex_lock(&s->lock);
    size_t done = s->batches_done;
    pthread_mutex_unlock(&s->lock);
    fprintf(stderr, "\rsent %zu/%zu batches", done, total);
    fflush(stderr);
}

/* Runs the jobs on the worker threads; the calling thread shows progress. */
static int run_jobs(sender *s) {
    int nthreads = s->concurrency < (int)s->njobs ? s->concurrency : (int)s->njobs;
    pthread_t threads[MAX_CONCURRENCY];
    int started = 0;
    s->next_job = 0;
    s->batches_done = 0;
    for (; started < nthreads; started++) {
        if (pthread_create(&threads[started], NULL, worker, s) != 0)
            break;
    }
    if (started == 0 && s->njobs > 0)
        worker(s); /* no thread could be started: do the work here */
    while (s->progress && started > 0) {
        pthread_mutex_lock(&s->lock);
        int finished = s->batches_done == s->count;
        pthread_mutex_unlock(&s->lock);
        show_progress(s, s->count);
        if (finished)
            break;
        nanosleep(&(struct timespec){0, 200 * 1000000L}, NULL);
    }
    for (int i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    if (s->progress && s->count)
        fputc('\n', stderr);
    return 0;
}

/* cli_input_done_fn: sends the input's batches and reports the failures. */
static int send_input(cli_checker *ck, void *ctx) {
    sender *s = ctx;
    int rc = CLI_EXIT_OK;
    s->outcomes = calloc(s->count ? s->count : 1, sizeof *s->outcomes);
    if (!s->outcomes || plan_jobs(s) != 0) {
        cli_error("send", "%s: %s", ck->file, mp_strerror(MP_ERR_NOMEM));
        rc = CLI_EXIT_ERROR;
        goto out;
    }
    run_jobs(s);
    for (size_t i = 0; i < s->count; i++) {
        s->total_batches++;
        s->total_events += s->batches[i]->events.count;
        if (s->outcomes[i].error == MP_OK) {
            s->accepted++;
            continue;
        }
        s->failed++;
        rc = CLI_EXIT_INVALID;
        char msg[600];
        snprintf(msg, sizeof msg, "not delivered: %s", s->outcomes[i].reason);
        mp_problem p = {MP_SEVERITY_ERROR, s->outcomes[i].error, s->indexes[i], "", msg, 0, 0};
        cli_print_problem(ck->problems, ck->file, &p);
    }
out:
    free(s->jobs);
    free(s->outcomes);
    s->jobs = NULL;
    s->outcomes = NULL;
    s->count = 0;
    return rc;
}

static int parse_pod(const char *name, mp_pod *pod) {
    static const struct {
        const char *name;
        mp_pod pod;
    } pods[] = {{"auto", MP_POD_AUTO}, {"US1", MP_POD_US1}, {"US2", MP_POD_US2},
                {"EU1", MP_POD_EU1}, {"AU1", MP_POD_AU1}};
    for (size_t i = 0; i < sizeof pods / sizeof pods[0]; i++) {
        if (strcasecmp(name, pods[i].name) == 0) {
            *pod = pods[i].pod;
            return 0;
        }
    }
    return -1;
}

static void print_client_problems(const mp_diag *diag) {
    for (size_t i = 0; i < mp_diag_count(diag); i++) {
        const mp_problem *p = mp_diag_get(diag, i);
        cli_error("send", "%s: %s", p->path, p->message);
    }
}

int cmd_send(int argc, char **argv) {
    const char *url = NULL, *pod_name = NULL, *key = NULL, *secret = NULL;
    int bulk = 0, historical = 0, no_progress = 0, quiet = 0;
    int64_t concurrency = 4, timeout_ms = 0, max_attempts = 0;
    cli_args files = {0};
    const cli_opt opts[] = {
        {CLI_OPT_STRING, "url", 0, "BASE", &url,
         "base URL including /v2, e.g. http://127.0.0.1:8080/v2"},
        {CLI_OPT_STRING, "pod", 0, "POD", &pod_name, "US1, US2, EU1, AU1 or auto (default)"},
        {CLI_OPT_STRING, "key", 0, "KEY", &key, "API key (default: $MPARTICLE_API_KEY)"},
        {CLI_OPT_STRING, "secret", 0, "SECRET", &secret,
         "API secret (default: $MPARTICLE_API_SECRET)"},
        {CLI_OPT_FLAG, "bulk", 0, NULL, &bulk, "pack batches into /v2/bulkevents requests"},
        {CLI_OPT_FLAG, "historical", 0, NULL, &historical,
         "send to /v2/bulkevents/historical (implies --bulk; events must be >= 72 h old)"},
        {CLI_OPT_INT64, "concurrency", 'c', "N", &concurrency, "requests in flight (default 4)"},
        {CLI_OPT_INT64, "timeout-ms", 0, "MS", &timeout_ms,
         "timeout of one attempt (default 30000)"},
        {CLI_OPT_INT64, "max-attempts", 0, "N", &max_attempts,
         "attempts per request, the first included (default 5; 1 = no retries)"},
        {CLI_OPT_FLAG, "no-progress", 0, NULL, &no_progress, "no progress line on a terminal"},
        {CLI_OPT_FLAG, "quiet", 'q', NULL, &quiet, "do not print warnings"},
        {CLI_OPT_ARGS, "[FILE...]", 0, "FILE", &files,
         "a batch, a JSON array of batches, or NDJSON; \"-\": standard input"},
    };
    const cli_spec spec = {"send", description, opts, sizeof opts / sizeof opts[0]};
    int rc = cli_parse(&spec, argc, argv);
    if (rc != CLI_PARSED)
        return rc;
    mp_pod pod = MP_POD_AUTO;
    if (url && pod_name) {
        cli_error("send", "give --url or --pod, not both");
        return CLI_EXIT_ERROR;
    }
    if (pod_name && parse_pod(pod_name, &pod) != 0) {
        cli_error("send", "unknown pod '%s' (US1, US2, EU1, AU1 or auto)", pod_name);
        return CLI_EXIT_ERROR;
    }
    if (concurrency < 1 || concurrency > MAX_CONCURRENCY) {
        cli_error("send", "--concurrency must be between 1 and %d", MAX_CONCURRENCY);
        return CLI_EXIT_ERROR;
    }
    if (timeout_ms < 0 || timeout_ms > INT32_MAX) {
        cli_error("send", "--timeout-ms must be between 1 and %d", INT32_MAX);
        return CLI_EXIT_ERROR;
    }
    if (max_attempts < 0 || max_attempts > 100) {
        cli_error("send", "--max-attempts must be between 1 and 100");
        return CLI_EXIT_ERROR;
    }

    mp_client_options co = {.api_key = key, .api_secret = secret, .pod = pod, .base_url = url,
                            .timeout_ms = (long)timeout_ms, .max_attempts = (int)max_attempts,
                            /* Validated per batch below, so one bad batch never sinks a bulk request. */
                            .skip_validation = 1};
    sender s = {.bulk = bulk, .historical = historical, .concurrency = (int)concurrency,
                .progress = !no_progress && isatty(STDERR_FILENO)};
    mp_diag *cdiag = mp_diag_new();
    mp_error err = cdiag ? mp_client_new(&co, &s.client, cdiag) : MP_ERR_NOMEM;
    if (err != MP_OK) {
        print_client_problems(cdiag);
        if (!mp_diag_count(cdiag))
            cli_error("send", "%s", mp_strerror(err));
        mp_diag_free(cdiag);
        return CLI_EXIT_ERROR;
    }
    mp_diag_free(cdiag);
    pthread_mutex_init(&s.lock, NULL);

    mp_validate_options vopts = {.historical = historical};
    cli_checker ck = {
        .command = "send",
        .problems = stdout,
        .quiet = quiet,
        .validate = &vopts,
        .on_batch = collect_batch,
        .on_input_done = send_input,
        .ctx = &s,
        .scratch = mp_diag_new(),
    };
    if (!ck.scratch) {
        cli_error("send", "%s", mp_strerror(MP_ERR_NOMEM));
        rc = CLI_EXIT_ERROR;
    } else {
        rc = cli_check_inputs(&ck, &files);
    }
    fprintf(stderr,
            "mparticle send: %zu batches (%zu events) to %s: %zu accepted, %zu not delivered, "
            "%zu requests\n",
            s.total_batches, s.total_events, mp_client_base_url(s.client), s.accepted, s.failed,
            s.requests);
    mp_diag_free(ck.scratch);
    pthread_mutex_destroy(&s.lock);
    free(s.batches);
    free(s.indexes);
    mp_client_free(s.client);
    return rc;
}

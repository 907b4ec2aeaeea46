/*
 * mparticle send [--url BASE | --pod POD] [--key K] [--secret S | --secret-file F]
 *                [--bulk | --historical] [--concurrency N] [--ids content|random]
 *                [--report FILE] [--cacert FILE] [--insecure] [FILE...]
 *
 * A thin front end of the library's uploader (mp_uploader): the checker
 * decodes and validates each batch as it is read, on_batch hands it to the
 * uploader (which encodes a copy, so the batch need not outlive the call),
 * and the uploader packs, sends, retries and waits out 429s on its own
 * threads, reporting every batch exactly once. The queue is small and
 * enqueue waits for room, so memory stays flat whatever the input's size.
 *
 * Stopping early: Ctrl-C (or SIGTERM) and a 401/403 stop the reading, and
 * the uploader is closed with a deadline; what it could not send is
 * reported `not_sent`.
 *
 * Copyright 2026 The libmparticle authors. Licensed under the Apache License 2.0.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd_send.h"
#include "cmd_send_tls.h"
#include "commands.h"

/* The exit status after SIGINT or SIGTERM: 128 + SIGINT, what shells expect of Ctrl-C. */
#define SEND_EXIT_INTERRUPTED 130
/* The uploader's limit on threads. */
#define MAX_CONCURRENCY 64
/*
 * The queue: 8 MiB of encoded batches (or 4096 of them) waiting or in
 * flight, whatever the input's size. 64 requests of 256 KB in flight fit
 * in it too; the decoder holds one batch; so peak memory stays well under
 * 32 MB.
 */
#define QUEUE_BYTES ((size_t)8 << 20)
#define QUEUE_BATCHES 4096
/*
 * enqueue waits for room at most this long, then the main thread looks at
 * the stop flags and waits again. (Waiting without a limit could not be
 * cut short by Ctrl-C: a signal does not wake a condition variable.)
 */
#define ENQUEUE_WAIT_MS 50
#define FLUSH_POLL_MS 100
/* After Ctrl-C, requests in flight get this long to finish. */
#define INTERRUPT_CLOSE_MS 5000
/* The request count is read from the uploader at most this often while sending. */
#define STATS_EVERY_MS 100
/* A sending thread that saw a 401/403 waits at most this long for the main thread to close, */
#define AUTH_PAUSE_MS 2000
/* and then this long, for close() to stop the other threads' sending first. */
#define AUTH_CLOSE_GRACE_MS 50

/* Set by the SIGINT/SIGTERM handler; read by the main thread only. */
static volatile sig_atomic_t interrupted;

static const char description[] =
    "Uploads every batch of the inputs to the mParticle Events API through the\n"
    "library's uploader. Each FILE holds one batch, a JSON array of batches, or\n"
    "NDJSON; \"-\" or no FILE reads standard input. Input is streamed: memory\n"
    "does not grow with its size.\n"
    "\n"
    "Each batch is decoded and validated as it is read; a batch with a problem\n"
    "is reported like `mparticle validate` reports it and is not sent. The rest\n"
    "go one per request to /v2/events, or with --bulk packed into requests of\n"
    "at most 100 batches and under 256 KB to /v2/bulkevents (--historical:\n"
    "/v2/bulkevents/historical), --concurrency requests at a time. Network\n"
    "errors, timeouts and 5xx are retried with backoff; a 429 is waited out,\n"
    "never dropped. Every batch gets a source_request_id: by default a UUIDv5\n"
    "of its content, so sending the same file twice is deduplicated by the API.\n"
    "\n"
    "Credentials: --key, else MPARTICLE_API_KEY; --secret-file or\n"
    "MPARTICLE_API_SECRET (both keep the secret out of `ps`), else --secret. A\n"
    "401 or 403 stops the run at once. The destination is --url (including /v2,\n"
    "e.g. http://127.0.0.1:8080/v2), or --pod, or the pod of the key's prefix,\n"
    "else US1. A user name or password in --url is never printed; a query\n"
    "string is refused.\n"
    "\n"
    "A batch that was rejected or not delivered is reported on standard output\n"
    "as FILE:BATCH: (batch): not delivered: REASON. --report FILE writes one\n"
    "JSON line per input batch: input, batch, line, source_request_id, outcome\n"
    "(accepted, rejected, invalid, undelivered, not_sent), status, attempts,\n"
    "error. A summary goes to standard error.\n"
    "\n"
    "Ctrl-C stops reading, gives requests in flight up to 5 s, then writes the\n"
    "report and the summary; a second Ctrl-C quits at once.\n"
    "\n"
    "Exit status: 0 if every batch was accepted, 1 if any was invalid,\n"
    "rejected, undelivered or not sent, 2 for a usage error or an input that\n"
    "cannot be read, 130 when interrupted.\n";

/* Where an enqueued batch came from: the uploader hands it back in the report. */
typedef struct send_tag {
    const char *input; /* interned: lives until the end of the run */
    long batch;
    long line;
} send_tag;

typedef struct sender {
    mp_uploader *up; /* NULL once closed */
    mp_diag *diag;   /* enqueue's problems (main thread) */
    send_tally tally;
    send_dest dest;
    const char *endpoint; /* "/events", ... (for the 404 hint) */
    atomic_int auth_status; /* the 401 or 403 that stopped the run, else 0 */
    atomic_int saw_404;
    atomic_llong last_stats_ms;
    /* The main thread has begun to close; a paused sending thread may go on. */
    pthread_mutex_t pause_lock;
    pthread_cond_t pause_cond;
    atomic_int closing;
    /* The main thread's copy of `interrupted` for the report threads (the
     * handler's flag belongs to the main thread). */
    atomic_int interrupted;
    int tally_ready;
    /* Input names, each kept once (reports arrive after the checker moved on). */
    char **inputs;
    size_t ninputs, cap_inputs;
    /* --spool: how far earlier runs got, and what this one skips. */
    const char *spool;
    send_resume resume;
    const char *resume_input; /* the input `skip` belongs to */
    long skip;                /* its first batches, handed over by an earlier run */
    uint64_t skipped;
    uint64_t recovered;       /* batches an earlier run left in the spool */
} sender;

/* ------------------------------------------------------------------------ */
/* Signals                                                                  */
/* ------------------------------------------------------------------------ */

/* Async-signal-safe: a flag, write() and _exit() only. */
static void on_signal(int sig) {
    (void)sig;
    if (interrupted) {
        static const char again[] = "\nmparticle send: interrupted again: exiting now\n";
        if (write(STDERR_FILENO, again, sizeof again - 1) < 0) {
            /* nothing more can be done */
        }
        _exit(SEND_EXIT_INTERRUPTED);
    }
    interrupted = 1;
    static const char first[] = "\nmparticle send: interrupted: finishing requests in flight "
                                "(Ctrl-C again to quit at once)\n";
    if (write(STDERR_FILENO, first, sizeof first - 1) < 0) {
        /* the summary will say it */
    }
}

/*
 * No SA_RESTART: a read() from a pipe that waits for input returns EINTR,
 * and the reader, seeing the stop hook, ends the input.
 */
static int install_signal_handlers(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    return sigaction(SIGINT, &sa, NULL) == 0 && sigaction(SIGTERM, &sa, NULL) == 0 ? 0 : -1;
}

/* The signals that stop a run; blocked in every thread but the main one. */
static void stop_signals(sigset_t *set) {
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
}

/* ------------------------------------------------------------------------ */
/* Stopping                                                                 */
/* ------------------------------------------------------------------------ */

static int should_stop(sender *s) {
    return interrupted || atomic_load(&s->auth_status) != 0;
}

/* cli_stop_fn for the checker. */
static int stop_hook(void *ctx) {
    return should_stop(ctx);
}

/* Why batches were not sent, for their report lines. Any thread. */
static void stop_reason(sender *s, char *out, size_t cap) {
    int auth = atomic_load(&s->auth_status);
    if (auth)
        snprintf(out, cap, "not sent: stopped after HTTP %d (credentials refused)", auth);
    else
        snprintf(out, cap, "not sent: interrupted");
}

/* Lets a sending thread paused on a 401/403 go on: the uploader is closing. */
static void release_paused(sender *s) {
    pthread_mutex_lock(&s->pause_lock);
    atomic_store(&s->closing, 1);
    pthread_cond_broadcast(&s->pause_cond);
    pthread_mutex_unlock(&s->pause_lock);
}

/*
 * Holds the sending thread that reported the first 401/403 until the main
 * thread closes the uploader (AUTH_PAUSE_MS at most). Reports are made one
 * at a time, so the other sending threads stop at their next report: at
 * most one more request each goes out with credentials known to be wrong.
 * The main thread says "closing" just before mp_uploader_close(), which
 * then needs this thread back; the grace lets close() mark the uploader
 * as closing first, so that the threads let go here send nothing more
 * even when the main thread is slow to get there (a loaded machine).
 */
static void pause_for_close(sender *s) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += AUTH_PAUSE_MS / 1000;
    until.tv_nsec += (long)(AUTH_PAUSE_MS % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&s->pause_lock);
    int waiting = 1;
    while (!atomic_load(&s->closing) && waiting)
        waiting = pthread_cond_timedwait(&s->pause_cond, &s->pause_lock, &until) == 0;
    pthread_mutex_unlock(&s->pause_lock);
    if (atomic_load(&s->closing))
        nanosleep(&(struct timespec){0, AUTH_CLOSE_GRACE_MS * 1000000L}, NULL);
}

/* Reads the uploader's request count (it is not in the reports). */
static void note_requests(sender *s, int force) {
    int64_t now = send_now_ms();
    if (!force && now - atomic_load(&s->last_stats_ms) < STATS_EVERY_MS)
        return;
    atomic_store(&s->last_stats_ms, now);
    mp_uploader_stats st = MP_UPLOADER_STATS_INIT;
    if (mp_uploader_stats_get(s->up, &st) == MP_OK)
        send_tally_set_requests(&s->tally, st.requests);
}

/*
 * Closes the uploader: every batch it still holds is reported before this
 * returns. After a stop, what was never sent becomes not_sent.
 */
static void close_uploader(sender *s, long deadline_ms) {
    if (!s->up)
        return;
    note_requests(s, 1);
    atomic_store(&s->interrupted, interrupted != 0);
    release_paused(s);
    mp_uploader_close(s->up, deadline_ms);
    s->up = NULL;
}

/* The deadline of close() once the run is stopped. */
static long stop_deadline(sender *s) {
    /* Credentials that failed will fail again: nothing more goes out. */
    return atomic_load(&s->auth_status) ? 0 : INTERRUPT_CLOSE_MS;
}

/* ------------------------------------------------------------------------ */
/* Reports (the uploader's threads, one at a time)                          */
/* ------------------------------------------------------------------------ */

static send_outcome outcome_of(const mp_delivery_report *r) {
    switch (r->outcome) {
    case MP_DELIVERY_ACCEPTED:
        return SEND_ACCEPTED;
    case MP_DELIVERY_REJECTED:
        return SEND_REJECTED;
    default: /* undelivered or expired: did it ever go out? */
        return r->attempts > 0 ? SEND_UNDELIVERED : SEND_NOT_SENT;
    }
}

/* The report's error text: "" when accepted; never the URL's user-info. */
static void describe_report(sender *s, const mp_delivery_report *r, send_outcome o, char *out,
                            size_t cap) {
    if (o == SEND_ACCEPTED)
        out[0] = '\0';
    else if (o == SEND_NOT_SENT && (atomic_load(&s->interrupted) || atomic_load(&s->auth_status)))
        stop_reason(s, out, cap); /* says more than "closed before delivery" */
    else
        send_dest_redact(&s->dest, r->reason[0] ? r->reason : mp_strerror(r->error), out, cap);
}

/* A problem line "FILE:BATCH: (batch): not delivered: ERROR\n" in out. */
static void format_problem(const send_tag *tag, const char *error, char *out, size_t cap) {
    char msg[600];
    snprintf(msg, sizeof msg, "not delivered: %s", error);
    mp_problem p = {MP_SEVERITY_ERROR, MP_ERR_HTTP, tag->batch, "", msg, 0, 0};
    out[0] = '\0';
    FILE *f = fmemopen(out, cap, "w");
    if (!f)
        return;
    cli_print_problem(f, tag->input, &p); /* the same escaping as every problem line */
    fclose(f);
    size_t len = strlen(out);
    if (len > 0 && out[len - 1] != '\n') /* cut short: still one line */
        out[len - 1] = '\n';
}

/* Notes the statuses that stop the run (401, 403) or deserve a hint (404). */
static void watch_status(sender *s, int status) {
    if (status == 404)
        atomic_store(&s->saw_404, 1);
    if (status != 401 && status != 403)
        return;
    int none = 0;
    if (atomic_compare_exchange_strong(&s->auth_status, &none, status))
        pause_for_close(s);
}

/* mp_report_fn. */
static void on_report(void *ctx, const mp_delivery_report *r) {
    sender *s = ctx;
    /* A batch an earlier run left in the spool: no input of this run. */
    static const send_tag recovered = {"(spool)", -1, 0};
    const send_tag *tag = r->tag ? r->tag : &recovered;
    send_outcome o = outcome_of(r);
    char error[512], problem[4096];
    describe_report(s, r, o, error, sizeof error);
    int print = o == SEND_REJECTED || o == SEND_UNDELIVERED;
    if (print)
        format_problem(tag, error, problem, sizeof problem);
    send_line l = {tag->input, tag->batch,  tag->line, r->source_request_id,
                   o,          r->status,   r->attempts, error,
                   r->bytes};
    send_tally_add(&s->tally, &l, print ? problem : NULL);
    if (!r->tag) /* this run's batches counted their events at enqueue */
        send_tally_add_events(&s->tally, r->event_count);
    free(r->tag);
    note_requests(s, atomic_load(&s->closing));
    watch_status(s, r->status);
}

/* ------------------------------------------------------------------------ */
/* Batches (the main thread, from the checker)                              */
/* ------------------------------------------------------------------------ */

/* The input's name, copied once: reports outlive the checker's pointer. */
static const char *intern_input(sender *s, const char *name) {
    if (s->ninputs && strcmp(s->inputs[s->ninputs - 1], name) == 0)
        return s->inputs[s->ninputs - 1];
    if (s->ninputs == s->cap_inputs) {
        size_t cap = s->cap_inputs ? s->cap_inputs * 2 : 8;
        char **grown = realloc(s->inputs, cap * sizeof *grown);
        if (!grown)
            return NULL;
        s->inputs = grown;
        s->cap_inputs = cap;
    }
    char *copy = strdup(name);
    if (copy)
        s->inputs[s->ninputs++] = copy;
    return copy;
}

/* A report line for a batch that never reached the uploader. */
static void settle_unsent(sender *s, cli_checker *ck, const mp_batch *batch, long index,
                          send_outcome o, const char *error) {
    const char *input = intern_input(s, ck->file);
    send_line l = {input ? input : ck->file, index, ck->line,
                   batch && batch->source_request_id ? batch->source_request_id : "",
                   o, 0, 0, error, 0};
    send_tally_add(&s->tally, &l, NULL);
}

/* Closes the uploader when the run has been stopped (Ctrl-C, 401/403). */
static void stop_if_asked(sender *s) {
    if (s->up && should_stop(s))
        close_uploader(s, stop_deadline(s));
}

/*
 * Enqueues, waiting for room in short steps so that a stop is seen.
 * MP_ERR_CLOSED when the run was stopped first.
 */
static mp_error enqueue_waiting(sender *s, const mp_batch *batch, send_tag *tag) {
    for (;;) {
        stop_if_asked(s);
        if (!s->up)
            return MP_ERR_CLOSED;
        mp_diag_clear(s->diag);
        mp_error err = mp_uploader_enqueue(s->up, batch, tag, s->diag);
        if (err != MP_ERR_QUEUE_FULL)
            return err;
        send_tally_drain(&s->tally, stdout);
    }
}

/* The first error of the diag as "path: message", for the report. */
static void first_problem(const mp_diag *diag, mp_error err, char *out, size_t cap) {
    for (size_t i = 0; i < mp_diag_count(diag); i++) {
        const mp_problem *p = mp_diag_get(diag, i);
        if (p->severity == MP_SEVERITY_ERROR) {
            snprintf(out, cap, "%s%s%s", p->path, p->path[0] ? ": " : "", p->message);
            return;
        }
    }
    snprintf(out, cap, "%s", mp_strerror(err));
}

/* What to do with a batch the uploader did not take. Returns a cli_exit. */
static int refused(sender *s, cli_checker *ck, const mp_batch *batch, long index, mp_error err) {
    char error[512];
    if (err == MP_ERR_CLOSED) {
        stop_reason(s, error, sizeof error);
        settle_unsent(s, ck, batch, index, SEND_NOT_SENT, error);
        return CLI_EXIT_OK; /* the stop itself decides the exit status */
    }
    if (err == MP_ERR_NOMEM) {
        cli_error(SEND_CMD, "%s: %s", ck->file, mp_strerror(err));
        return CLI_EXIT_ERROR;
    }
    /* Over a limit, or cannot be encoded: a problem of the batch. */
    cli_report_batch(ck, s->diag, index);
    first_problem(s->diag, err, error, sizeof error);
    settle_unsent(s, ck, batch, index, SEND_INVALID, error);
    return CLI_EXIT_INVALID;
}

/* With --spool: whether batch `index` of the current input was handed
 * over by an earlier run (and so is delivered, or in the spool). */
static int resumed_past(sender *s, cli_checker *ck, long index) {
    if (!s->spool)
        return 0;
    if (s->resume_input != ck->file) {
        s->resume_input = ck->file;
        s->skip = send_resume_begin(&s->resume, ck->file);
    }
    if (index >= s->skip)
        return 0;
    s->skipped++;
    return 1;
}

static void handed_over(sender *s, long index) {
    int err = s->spool ? send_resume_done(&s->resume, index) : 0;
    if (err)
        cli_error(SEND_CMD, "%s: %s (a rerun will resend some batches; their ids make that "
                  "harmless)", s->resume.path, strerror(err));
}

/* cli_batch_fn: hands a valid batch to the uploader. */
static int on_batch(cli_checker *ck, const mp_batch *batch, long index, void *ctx) {
    sender *s = ctx;
    send_tally_drain(&s->tally, stdout);
    if (resumed_past(s, ck, index))
        return CLI_EXIT_OK;
    const char *input = intern_input(s, ck->file);
    send_tag *tag = input ? malloc(sizeof *tag) : NULL;
    if (!tag) {
        cli_error(SEND_CMD, "%s: %s", ck->file, mp_strerror(MP_ERR_NOMEM));
        return CLI_EXIT_ERROR;
    }
    *tag = (send_tag){input, index, ck->line};
    mp_error err = enqueue_waiting(s, batch, tag);
    if (err == MP_OK) {
        send_tally_add_events(&s->tally, batch->events.count);
        handed_over(s, index);
        return CLI_EXIT_OK;
    }
    free(tag); /* no report will come */
    return refused(s, ck, batch, index, err);
}

/* cli_invalid_fn: an invalid batch gets its report line too. */
static int on_invalid(cli_checker *ck, const mp_batch *batch, long index,
                      const mp_problem *first_error, void *ctx) {
    sender *s = ctx;
    if (resumed_past(s, ck, index))
        return CLI_EXIT_INVALID;
    handed_over(s, index);
    char error[512];
    if (first_error)
        snprintf(error, sizeof error, "%s%s%s", first_error->path,
                 first_error->path[0] ? ": " : "", first_error->message);
    else
        snprintf(error, sizeof error, "invalid batch");
    settle_unsent(ctx, ck, batch, index, SEND_INVALID, error);
    return CLI_EXIT_INVALID;
}

/* cli_before_read_fn: the uploader's lines go out before a read may block on a pipe. */
static int before_read(cli_checker *ck, void *ctx) {
    (void)ck;
    send_tally_drain(&((sender *)ctx)->tally, stdout);
    fflush(stdout);
    return CLI_EXIT_OK;
}

/* After the input: waits for every report, unless the run is stopped meanwhile. */
static void finish_sending(sender *s) {
    mp_error err = MP_OK;
    while (s->up && !should_stop(s)) {
        err = mp_uploader_flush(s->up, FLUSH_POLL_MS);
        send_tally_drain(&s->tally, stdout);
        if (err != MP_ERR_TIMEOUT)
            break;
    }
    if (should_stop(s))
        close_uploader(s, stop_deadline(s));
    else /* flushed: nothing is left to wait for */
        close_uploader(s, err == MP_OK ? 0 : INTERRUPT_CLOSE_MS);
    send_tally_drain(&s->tally, stdout);
    /* Everything counted was enqueued, so it is delivered or in the spool. */
    if (s->spool && (err = send_resume_save(&s->resume)) != 0)
        cli_error(SEND_CMD, "%s: %s", s->resume.path, strerror(err));
}

/* ------------------------------------------------------------------------ */
/* Hints and the summary                                                    */
/* ------------------------------------------------------------------------ */

static void print_hints(sender *s) {
    int auth = atomic_load(&s->auth_status);
    if (auth)
        cli_error(SEND_CMD,
                  "HTTP %d: the API refused the credentials, so the run stopped. Check --key "
                  "and --secret (or MPARTICLE_API_KEY and MPARTICLE_API_SECRET, or "
                  "--secret-file FILE)",
                  auth);
    if (!atomic_load(&s->saw_404))
        return;
    const char *url = s->dest.display;
    size_t n = strlen(url);
    int slash = n > 0 && url[n - 1] == '/';
    if (!s->dest.ends_in_v2)
        cli_error(SEND_CMD,
                  "HTTP 404 from %s%s: the base URL must include /v2; try --url %s%sv2", url,
                  s->endpoint, url, slash ? "" : "/");
    else
        cli_error(SEND_CMD, "HTTP 404 from %s%s: is --url the base URL of the Events API?",
                  url, s->endpoint);
}

static void print_summary(sender *s, int64_t elapsed_ms) {
    send_counts c;
    send_tally_get(&s->tally, &c);
    fprintf(stderr,
            CLI_PROGRAM " " SEND_CMD ": %" PRIu64 " batches (%" PRIu64 " events) to %s: %" PRIu64
                        " accepted, %" PRIu64 " rejected, %" PRIu64 " invalid, %" PRIu64
                        " undelivered, %" PRIu64 " not_sent; %" PRIu64 " requests in %.1f s\n",
            c.batches, c.events, s->dest.display, c.outcomes[SEND_ACCEPTED],
            c.outcomes[SEND_REJECTED], c.outcomes[SEND_INVALID], c.outcomes[SEND_UNDELIVERED],
            c.outcomes[SEND_NOT_SENT], c.requests, (double)elapsed_ms / 1000.0);
}

/* ------------------------------------------------------------------------ */
/* Options                                                                  */
/* ------------------------------------------------------------------------ */

typedef struct send_options {
    const char *url, *pod_name, *key, *secret, *secret_file, *ids, *report, *spool, *cacert;
    int bulk, historical, progress, no_progress, quiet, spool_sync, insecure;
    int64_t concurrency, timeout_ms, max_attempts;
    cli_args files;
    /* Derived. */
    mp_pod pod;
    mp_id_mode id_mode;
} send_options;

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

/* Checks the options against each other. 0, or -1 after printing why. */
static int check_options(send_options *o) {
    const char *why = NULL;
    if (o->url && o->pod_name)
        why = "give --url or --pod, not both";
    else if (o->pod_name && parse_pod(o->pod_name, &o->pod) != 0)
        why = "unknown --pod (US1, US2, EU1, AU1 or auto)";
    else if (o->secret && o->secret_file)
        why = "give --secret or --secret-file, not both";
    else if (o->progress && o->no_progress)
        why = "give --progress or --no-progress, not both";
    else if (o->concurrency < 1 || o->concurrency > MAX_CONCURRENCY)
        why = "--concurrency must be between 1 and 64";
    else if (o->timeout_ms < 0 || o->timeout_ms > INT32_MAX)
        why = "--timeout-ms must be between 1 and 2147483647 (0 = 30000)";
    else if (o->max_attempts < 0 || o->max_attempts > 1000)
        why = "--max-attempts must be between 1 and 1000 (0 = no limit)";
    else if (o->ids && strcmp(o->ids, "content") != 0 && strcmp(o->ids, "random") != 0)
        why = "--ids must be content or random";
    else if (o->spool_sync && !o->spool)
        why = "--spool-sync goes with --spool";
    else if (o->spool && o->ids && strcmp(o->ids, "random") == 0)
        why = "--spool needs content ids: a resumed run must give a batch the id it had";
    if (why) {
        cli_error(SEND_CMD, "%s", why);
        return -1;
    }
    o->id_mode = o->ids && strcmp(o->ids, "random") == 0 ? MP_ID_RANDOM : MP_ID_CONTENT;
    return 0;
}

/* The inputs' total size when every one is a regular file; 0 when unknown. */
static uint64_t total_input_bytes(const cli_args *files) {
    uint64_t total = 0;
    for (size_t i = 0; i < files->count; i++) {
        struct stat st;
        if (strcmp(files->items[i], "-") == 0 || stat(files->items[i], &st) != 0 ||
            !S_ISREG(st.st_mode))
            return 0;
        total += (uint64_t)st.st_size;
    }
    return total;
}

/* ------------------------------------------------------------------------ */
/* Setting up                                                               */
/* ------------------------------------------------------------------------ */

/* Prints the client's problems without the URL's user-info. */
static void print_client_problems(sender *s, const mp_diag *diag, mp_error err) {
    char msg[1024];
    for (size_t i = 0; i < mp_diag_count(diag); i++) {
        const mp_problem *p = mp_diag_get(diag, i);
        send_dest_redact(&s->dest, p->message, msg, sizeof msg);
        cli_error(SEND_CMD, "%s%s%s", p->path, p->path[0] ? ": " : "", msg);
    }
    if (!mp_diag_count(diag))
        cli_error(SEND_CMD, "%s", mp_strerror(err));
}

/* Creates the client. 0, or -1 after printing why. */
static int new_client(sender *s, const send_options *o, const char *secret, mp_client **out) {
    mp_client_options co = MP_CLIENT_OPTIONS_INIT;
    co.api_key = o->key;
    co.api_secret = secret;
    co.pod = o->pod;
    co.base_url = o->url;
    co.timeout_ms = (long)o->timeout_ms;
    mp_curl_options curl;
    if (send_tls_options(o->cacert, o->insecure, &curl) != 0)
        return -1;
    co.curl = &curl;
    mp_diag *diag = mp_diag_new();
    mp_error err = diag ? mp_client_new(&co, out, diag) : MP_ERR_NOMEM;
    if (err != MP_OK)
        print_client_problems(s, diag, err);
    mp_diag_free(diag);
    if (err == MP_OK && !o->url && send_dest_set_base(&s->dest, mp_client_base_url(*out)) != 0) {
        cli_error(SEND_CMD, "%s", mp_strerror(MP_ERR_NOMEM));
        mp_client_free(*out);
        return -1;
    }
    return err == MP_OK ? 0 : -1;
}

/* Creates the uploader. 0, or -1 after printing why. */
static int new_uploader(sender *s, const send_options *o, mp_client *client) {
    mp_uploader_options uo = MP_UPLOADER_OPTIONS_INIT;
    uo.mode = o->historical ? MP_UPLOAD_HISTORICAL : o->bulk ? MP_UPLOAD_BULK : MP_UPLOAD_SINGLE;
    uo.max_queue_batches = QUEUE_BATCHES;
    uo.max_queue_bytes = QUEUE_BYTES;
    uo.enqueue_timeout_ms = ENQUEUE_WAIT_MS;
    uo.max_in_flight = (int)o->concurrency;
    uo.max_attempts = (int)o->max_attempts;
    uo.id_mode = o->id_mode;
    uo.skip_validation = 1; /* the checker validated every batch, and printed its problems */
    uo.on_report = on_report;
    uo.report_ctx = s;
    uo.spool_dir = o->spool;
    uo.spool_durability = o->spool_sync ? MP_SPOOL_POWER_LOSS : MP_SPOOL_PROCESS_CRASH;
    s->endpoint = o->historical ? "/bulkevents/historical" : o->bulk ? "/bulkevents" : "/events";
    mp_error err = mp_uploader_new(client, &uo, &s->up, s->diag);
    if (err != MP_OK) {
        print_client_problems(s, s->diag, err);
        return -1;
    }
    mp_uploader_stats st = MP_UPLOADER_STATS_INIT;
    if (o->spool && mp_uploader_stats_get(s->up, &st) == MP_OK) {
        s->recovered = st.recovered;
        if (st.spool_corrupt_records)
            cli_error(SEND_CMD, "spool %s: %" PRIu64 " damaged records (%" PRIu64
                      " bytes) skipped", o->spool, st.spool_corrupt_records,
                      st.spool_corrupt_bytes);
    }
    return 0;
}

static int sender_init(sender *s, const send_options *o) {
    memset(s, 0, sizeof *s);
    atomic_init(&s->auth_status, 0);
    atomic_init(&s->saw_404, 0);
    atomic_init(&s->last_stats_ms, 0);
    atomic_init(&s->closing, 0);
    atomic_init(&s->interrupted, 0);
    pthread_mutex_init(&s->pause_lock, NULL);
    pthread_cond_init(&s->pause_cond, NULL);
    if (o->url && send_dest_parse(&s->dest, o->url) != 0)
        return -1;
    s->spool = o->spool;
    int rerr = o->spool ? send_resume_load(&s->resume, o->spool) : 0;
    if (rerr) {
        cli_error(SEND_CMD, "%s: %s", s->resume.path, strerror(rerr));
        return -1;
    }
    if (!(s->diag = mp_diag_new())) {
        cli_error(SEND_CMD, "%s", mp_strerror(MP_ERR_NOMEM));
        return -1;
    }
    mp_diag_keep_warnings(s->diag, !o->quiet); /* --quiet: not even described */
    int err = send_tally_init(&s->tally, o->report);
    s->tally_ready = 1; /* send_tally_finish() frees even a half-made tally */
    if (err) {
        cli_error(SEND_CMD, "%s: %s", o->report ? o->report : "report", strerror(err));
        return -1;
    }
    return 0;
}

static void sender_free(sender *s) {
    for (size_t i = 0; i < s->ninputs; i++)
        free(s->inputs[i]);
    free(s->inputs);
    mp_diag_free(s->diag);
    send_dest_free(&s->dest);
    send_resume_free(&s->resume);
    pthread_cond_destroy(&s->pause_cond);
    pthread_mutex_destroy(&s->pause_lock);
}

/*
 * Starts the uploader and the progress line with SIGINT and SIGTERM
 * blocked, so that their threads never take them and only the main
 * thread's read() is interrupted, then installs the handler.
 */
static int start(sender *s, const send_options *o, mp_client *client, send_progress *p) {
    sigset_t set, old;
    stop_signals(&set);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    int rc = new_uploader(s, o, client);
    if (rc == 0 && p->tally && send_progress_start(p) != 0)
        p->tally = NULL; /* no thread, no progress: not worth failing for */
    if (rc == 0 && install_signal_handlers() != 0) {
        cli_error(SEND_CMD, "cannot install the signal handler: %s", strerror(errno));
        rc = -1;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

/* Reads every input into the uploader, then waits for the reports.
 * Returns the checker's cli_exit. */
static int run(sender *s, const send_options *o) {
    mp_validate_options vopts = {.historical = o->historical};
    cli_checker ck = {
        .command = SEND_CMD,
        .problems = stdout,
        .quiet = o->quiet,
        .validate = &vopts,
        .on_batch = on_batch,
        .on_invalid = on_invalid,
        .before_read = before_read,
        .stop = stop_hook,
        .ctx = s,
        .scratch = mp_diag_new(),
    };
    int rc;
    if (!ck.scratch) {
        cli_error(SEND_CMD, "%s", mp_strerror(MP_ERR_NOMEM));
        rc = CLI_EXIT_ERROR;
    } else {
        rc = cli_check_inputs(&ck, &o->files);
    }
    mp_diag_free(ck.scratch);
    finish_sending(s);
    return rc;
}

/* What --spool changed: batches skipped, and those an earlier run left. */
static void print_spool_summary(sender *s) {
    if (!s->spool)
        return;
    fprintf(stderr,
            "mparticle send: spool %s: %" PRIu64 " input batches skipped (handed over by an "
            "earlier run), %" PRIu64 " recovered from it\n",
            s->spool, s->skipped, s->recovered);
}

static int exit_status(sender *s, int checker_rc) {
    if (interrupted)
        return SEND_EXIT_INTERRUPTED;
    send_counts c;
    send_tally_get(&s->tally, &c);
    int rc = checker_rc;
    if (c.outcomes[SEND_ACCEPTED] != c.batches && rc < CLI_EXIT_INVALID)
        rc = CLI_EXIT_INVALID;
    return rc;
}

/* Sends with the options checked and the secret resolved. */
static int send_all(const send_options *o, const char *secret) {
    sender s;
    mp_client *client = NULL;
    if (sender_init(&s, o) != 0 || new_client(&s, o, secret, &client) != 0) {
        if (s.tally_ready)
            send_tally_finish(&s.tally);
        sender_free(&s);
        return CLI_EXIT_ERROR;
    }
    int64_t start_ms = send_now_ms();
    int tty = isatty(STDERR_FILENO);
    send_progress progress = {
        .tally = !o->no_progress && (tty || o->progress) ? &s.tally : NULL,
        .tty = tty,
        .total_bytes = total_input_bytes(&o->files),
        .start_ms = start_ms,
    };
    int rc = CLI_EXIT_ERROR;
    if (start(&s, o, client, &progress) == 0)
        rc = run(&s, o);
    close_uploader(&s, 0); /* when start() failed half-way */
    send_progress_stop(&progress);
    send_tally_drain(&s.tally, stdout);
    fflush(stdout);
    print_hints(&s);
    print_summary(&s, send_now_ms() - start_ms);
    print_spool_summary(&s);
    rc = exit_status(&s, rc);
    int err = send_tally_finish(&s.tally);
    if (err) {
        cli_error(SEND_CMD, "%s: %s", o->report, strerror(err));
        if (rc != SEND_EXIT_INTERRUPTED)
            rc = CLI_EXIT_ERROR;
    }
    mp_client_free(client);
    sender_free(&s);
    return rc;
}

int cmd_send(int argc, char **argv) {
    send_options o = {.concurrency = 4, .max_attempts = 5};
    const cli_opt opts[] = {
        {CLI_OPT_STRING, "url", 0, "BASE", &o.url,
         "base URL including /v2, e.g. http://127.0.0.1:8080/v2 (no query string)"},
        {CLI_OPT_STRING, "pod", 0, "POD", &o.pod_name, "US1, US2, EU1, AU1 or auto (default)"},
        {CLI_OPT_STRING, "key", 0, "KEY", &o.key, "API key (default: $MPARTICLE_API_KEY)"},
        {CLI_OPT_STRING, "secret", 0, "SECRET", &o.secret,
         "API secret (default: $MPARTICLE_API_SECRET; visible in `ps`: prefer those)"},
        {CLI_OPT_STRING, "secret-file", 0, "FILE", &o.secret_file,
         "read the API secret from FILE (one line)"},
        {CLI_OPT_STRING, "cacert", 0, "FILE", &o.cacert,
         "trust the CA certificates in FILE (PEM); default: $CURL_CA_BUNDLE, else "
         "$SSL_CERT_FILE, else the system's"},
        {CLI_OPT_FLAG, "insecure", 0, NULL, &o.insecure,
         "do not verify the server's TLS certificate (a local test server only; warns)"},
        {CLI_OPT_FLAG, "bulk", 0, NULL, &o.bulk, "pack batches into /v2/bulkevents requests"},
        {CLI_OPT_FLAG, "historical", 0, NULL, &o.historical,
         "send to /v2/bulkevents/historical (implies --bulk; events must be >= 72 h old)"},
        {CLI_OPT_INT64, "concurrency", 'c', "N", &o.concurrency,
         "requests in flight, 1 to 64 (default 4)"},
        {CLI_OPT_INT64, "timeout-ms", 0, "MS", &o.timeout_ms,
         "timeout of one attempt (default 30000)"},
        {CLI_OPT_INT64, "max-attempts", 0, "N", &o.max_attempts,
         "attempts per batch, the first included; 429s do not count (default 5; 0: retry for "
         "up to 5 minutes)"},
        {CLI_OPT_STRING, "ids", 0, "MODE", &o.ids,
         "source_request_id of batches without one: content (default) or random"},
        {CLI_OPT_STRING, "report", 0, "FILE", &o.report,
         "write one JSON line per input batch to FILE"},
        {CLI_OPT_STRING, "spool", 0, "DIR", &o.spool,
         "keep batches in DIR until delivered: a rerun of an interrupted send resumes"},
        {CLI_OPT_FLAG, "spool-sync", 0, NULL, &o.spool_sync,
         "with --spool: sync each batch to the disk (survives a power cut; slower)"},
        {CLI_OPT_FLAG, "progress", 0, NULL, &o.progress,
         "show progress even when standard error is not a terminal"},
        {CLI_OPT_FLAG, "no-progress", 0, NULL, &o.no_progress, "show no progress"},
        {CLI_OPT_FLAG, "quiet", 'q', NULL, &o.quiet, "do not print warnings"},
        {CLI_OPT_ARGS, "[FILE...]", 0, "FILE", &o.files,
         "a batch, a JSON array of batches, or NDJSON; \"-\": standard input"},
    };
    const cli_spec spec = {SEND_CMD, description, opts, sizeof opts / sizeof opts[0]};
    int rc = cli_parse(&spec, argc, argv);
    if (rc != CLI_PARSED)
        return rc;
    if (check_options(&o) != 0)
        return CLI_EXIT_ERROR;
    char *secret = o.secret_file ? send_read_secret_file(o.secret_file) : NULL;
    if (o.secret_file && !secret)
        return CLI_EXIT_ERROR;
    rc = send_all(&o, secret ? secret : o.secret);
    free(secret);
    return rc;
}

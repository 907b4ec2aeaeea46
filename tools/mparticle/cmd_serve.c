/*
 * mparticle serve [--host H] [--port N] [--key K --secret S] [--rate-limit N]
 *                 [--burst N] [--script LIST] [--fail-rate P] [--reset-rate P]
 *                 [--seed N] [--latency-ms N] [--retry-after N|http-date|none]
 *                 [--record FILE] [--sink] [--limit-status N] [--threads N]
 *                 [--timeout S] [--header-timeout S] [--body-timeout S]
 *                 [--record-max-bytes N] [--strict] [--verbose]
 *
 * A local server that answers like the mParticle Events API
 * (include/mparticle/serve.h, docs/serve.md). Prints "listening on URL" as
 * its first line, serves until SIGINT or SIGTERM, then prints a summary.
 *
 * Copyright 2026 The libmparticle authors. Licensed under the Apache License 2.0.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <mparticle/serve.h>

#include "cli.h"
#include "commands.h"

#define CMD "serve"

static const char description[] =
    "Runs a local server that behaves like the mParticle Events API: POST\n"
    "/v2/events, /v2/bulkevents and /v2/bulkevents/historical with Basic\n"
    "authentication, validation by the SDK's own decoder (400 with the API's\n"
    "error body), the size limits, deduplication by source_request_id, an\n"
    "optional rate limit, and faults on demand. docs/serve.md says which\n"
    "behaviours come from mParticle's documentation and which are assumptions.\n"
    "\n"
    "The first line on standard output is \"listening on http://HOST:PORT\" (with\n"
    "--port 0, the port picked). SIGINT or SIGTERM stops the server, which then\n"
    "prints one summary line:\n"
    "\n"
    "    summary: requests N, received N, accepted N, rejected N, duplicates N, throttled N\n"
    "\n"
    "(received, accepted, rejected and duplicates count batches; requests and\n"
    "throttled count HTTP requests).\n"
    "\n"
    "Credentials: --key and --secret, else MPARTICLE_API_KEY and\n"
    "MPARTICLE_API_SECRET; with neither, any non-empty key and secret pass.\n"
    "\n"
    "--script takes statuses for the next requests, in order, then normal\n"
    "behaviour resumes: e.g. 503,429,202 (a 2xx means \"handle normally\";\n"
    "\"reset\" closes the connection without an answer).\n"
    "\n"
    "With --record, a request whose batches cannot be written (a full disk)\n"
    "gets 507 so that its client sends it again, standard error says so, the\n"
    "file keeps whole lines only, and the summary adds \"unrecorded N\".\n"
    "\n"
    "Exit status: 0 after a clean stop, 1 after a stop when some batches could\n"
    "not be recorded, 2 for a usage error or when the server cannot start\n"
    "(address in use, record file not writable).\n";

/* What main() needs besides the library's options. */
typedef struct serve_cli {
    const char *key, *secret, *script, *fail_rate, *reset_rate, *retry_after;
    int64_t port, rate_limit, burst, seed, latency_ms, limit_status, threads, timeout;
    int64_t header_timeout, body_timeout, record_max_bytes;
    int verbose;
} serve_cli;

/* Parses a probability in [0, 1]. */
static int parse_rate(const char *name, const char *text, double *out) {
    if (!text)
        return 0;
    char *end;
    errno = 0;
    double p = strtod(text, &end);
    if (errno || end == text || *end || !(p >= 0.0 && p <= 1.0)) {
        cli_error(CMD, "'--%s' needs a probability between 0 and 1, not '%s'", name, text);
        return -1;
    }
    *out = p;
    return 0;
}

/* Parses "503,429,reset,202" into a malloc'ed array. */
static int parse_script(const char *text, int **out, size_t *n) {
    *out = NULL;
    *n = 0;
    if (!text)
        return 0;
    size_t cap = 1;
    for (const char *p = text; *p; p++)
        cap += *p == ',';
    int *entries = malloc(cap * sizeof *entries);
    if (!entries) {
        cli_error(CMD, "%s", mp_strerror(MP_ERR_NOMEM));
        return -1;
    }
    const char *p = text;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char item[16];
        long status = -1;
        if (len > 0 && len < sizeof item) {
            memcpy(item, p, len);
            item[len] = '\0';
            if (strcmp(item, "reset") == 0) {
                status = MP_SERVE_SCRIPT_RESET;
            } else {
                char *end;
                status = strtol(item, &end, 10);
                if (end == item || *end || status < 100 || status > 599)
                    status = -1;
            }
        }
        if (status < 0) {
            cli_error(CMD, "'--script': '%.*s' is not an HTTP status (100-599) or 'reset'",
                      (int)len, p);
            free(entries);
            return -1;
        }
        entries[(*n)++] = (int)status;
        if (!comma)
            break;
        p = comma + 1;
    }
    *out = entries;
    return 0;
}

static int parse_retry_after(const char *text, mp_serve_options *o) {
    if (!text)
        return 0;
    if (strcmp(text, "none") == 0) {
        o->retry_after = MP_SERVE_RETRY_AFTER_NONE;
        return 0;
    }
    if (strcmp(text, "http-date") == 0) {
        o->retry_after = MP_SERVE_RETRY_AFTER_HTTP_DATE;
        return 0;
    }
    char *end;
    errno = 0;
    long n = strtol(text, &end, 10);
    if (errno || end == text || *end || n < 1 || n > 86400) {
        cli_error(CMD, "'--retry-after' takes seconds (1-86400), 'http-date' or 'none', not '%s'",
                  text);
        return -1;
    }
    o->retry_after = MP_SERVE_RETRY_AFTER_SECONDS;
    o->retry_after_seconds = (unsigned)n;
    return 0;
}

/* An integer option within [lo, hi]. */
static int check_range(const char *name, int64_t v, int64_t lo, int64_t hi) {
    if (v >= lo && v <= hi)
        return 0;
    cli_error(CMD, "'--%s' must be between %lld and %lld, not %lld", name, (long long)lo,
              (long long)hi, (long long)v);
    return -1;
}

static int check_numbers(const serve_cli *c) {
    return check_range("port", c->port, 0, 65535) ||
           check_range("rate-limit", c->rate_limit, 0, 1000000000) ||
           check_range("burst", c->burst, 0, 1000000000) ||
           check_range("latency-ms", c->latency_ms, 0, 3600000) ||
           (c->limit_status && check_range("limit-status", c->limit_status, 100, 599)) ||
           (c->threads && check_range("threads", c->threads, 1, 1024)) ||
           (c->timeout && check_range("timeout", c->timeout, 1, 86400)) ||
           (c->header_timeout && check_range("header-timeout", c->header_timeout, 1, 86400)) ||
           (c->body_timeout && check_range("body-timeout", c->body_timeout, 1, 86400)) ||
           check_range("record-max-bytes", c->record_max_bytes, 0, INT64_MAX);
}

/* The key and secret from the flags, else from the environment. */
static int resolve_credentials(serve_cli *c) {
    if (!c->key && !c->secret) {
        c->key = getenv("MPARTICLE_API_KEY");
        c->secret = getenv("MPARTICLE_API_SECRET");
        if (c->key && !c->key[0])
            c->key = NULL;
        if (c->secret && !c->secret[0])
            c->secret = NULL;
    }
    if (!!c->key != !!c->secret) {
        cli_error(CMD, "an API key needs a secret and a secret a key (--key and --secret, or "
                       "MPARTICLE_API_KEY and MPARTICLE_API_SECRET)");
        return -1;
    }
    return 0;
}

static void log_to_stderr(void *ctx, const char *message) {
    (void)ctx;
    fprintf(stderr, "%s %s: %s\n", CLI_PROGRAM, CMD, message);
}

/* Thousands of connections need thousands of descriptors: take the hard
 * limit, as servers do (the soft default is often 1024). */
static void raise_descriptor_limit(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* Blocks SIGINT and SIGTERM in every thread (the server's threads inherit
 * the mask), so that only sigwait() in main sees them. */
static int block_signals(sigset_t *set) {
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    signal(SIGPIPE, SIG_IGN);
    return pthread_sigmask(SIG_BLOCK, set, NULL) == 0 ? 0 : -1;
}

static int run(mp_serve_options *o) {
    sigset_t set;
    if (block_signals(&set)) {
        cli_error(CMD, "cannot block signals");
        return CLI_EXIT_ERROR;
    }
    mp_server *server = NULL;
    char err[256];
    mp_error rc = mp_serve_start(o, &server, err, sizeof err);
    if (rc != MP_OK) {
        cli_error(CMD, "%s", err[0] ? err : mp_strerror(rc));
        return CLI_EXIT_ERROR;
    }
    printf("listening on %s\n", mp_serve_url(server));
    fflush(stdout);
    if (!o->api_key)
        cli_error(CMD, "no API key and secret set (--key/--secret or MPARTICLE_API_KEY/"
                       "MPARTICLE_API_SECRET): any non-empty Basic credentials are accepted");

    int sig = 0;
    while (sigwait(&set, &sig) != 0) {
    }
    /* Read after the stop: requests that finish during shutdown count. */
    mp_serve_stats st;
    mp_serve_stop_stats(server, &st);
    printf("summary: requests %llu, received %llu, accepted %llu, rejected %llu, duplicates "
           "%llu, throttled %llu",
           (unsigned long long)st.requests, (unsigned long long)st.received,
           (unsigned long long)st.accepted, (unsigned long long)st.rejected,
           (unsigned long long)st.duplicates, (unsigned long long)st.throttled);
    if (st.unrecorded)
        printf(", unrecorded %llu", (unsigned long long)st.unrecorded);
    printf("\n");
    if (st.unrecorded) {
        cli_error(CMD, "%llu valid batches could not be written to the record file (answered 507)",
                  (unsigned long long)st.unrecorded);
        return CLI_EXIT_INVALID;
    }
    return CLI_EXIT_OK;
}

int cmd_serve(int argc, char **argv) {
    serve_cli c = {0};
    mp_serve_options o = {0};
    const cli_opt opts[] = {
        {CLI_OPT_STRING, "host", 0, "HOST", &o.host,
         "address or name to listen on; default: 127.0.0.1"},
        {CLI_OPT_INT64, "port", 'p', "N", &c.port, "TCP port; 0 (the default) picks a free one"},
        {CLI_OPT_STRING, "key", 0, "KEY", &c.key,
         "the API key to accept (default: MPARTICLE_API_KEY)"},
        {CLI_OPT_STRING, "secret", 0, "SECRET", &c.secret,
         "the API secret to accept (default: MPARTICLE_API_SECRET)"},
        {CLI_OPT_INT64, "rate-limit", 0, "N", &c.rate_limit,
         "batches per second before 429 (a token bucket); default: 0, no limit"},
        {CLI_OPT_INT64, "burst", 0, "N", &c.burst,
         "batches the bucket holds; default: the rate, one second's worth"},
        {CLI_OPT_STRING, "script", 0, "LIST", &c.script,
         "statuses for the next requests, e.g. 503,429,reset,202"},
        {CLI_OPT_STRING, "fail-rate", 0, "P", &c.fail_rate,
         "probability of a random 500, 502, 503 or 504 per request"},
        {CLI_OPT_STRING, "reset-rate", 0, "P", &c.reset_rate,
         "probability of closing the connection without an answer"},
        {CLI_OPT_INT64, "seed", 0, "N", &c.seed,
         "seed of --fail-rate and --reset-rate (same seed, same faults); default: 0"},
        {CLI_OPT_INT64, "latency-ms", 0, "MS", &c.latency_ms,
         "wait this long before each answer (holds one of the --threads)"},
        {CLI_OPT_STRING, "retry-after", 0, "N|http-date|none", &c.retry_after,
         "Retry-After on 429 and 503: N seconds on scripted and random faults (default 1), "
         "an HTTP-date, or no header"},
        {CLI_OPT_STRING, "record", 0, "FILE", &o.record_path,
         "append each accepted batch to FILE as one line, as received"},
        {CLI_OPT_FLAG, "strict", 0, NULL, &o.strict,
         "refuse what the JSON Schema refuses even where mParticle's SDKs send it (a list in "
         "custom_flags, a field the docs call optional)"},
        {CLI_OPT_FLAG, "sink", 0, NULL, &o.sink,
         "answer 202 to every authenticated POST without reading it (benchmarks)"},
        {CLI_OPT_INT64, "limit-status", 0, "N", &c.limit_status,
         "status for a request over 256 KB, a batch over 128 KB or over 100 batches; "
         "default: 413"},
        {CLI_OPT_INT64, "threads", 0, "N", &c.threads, "threads answering requests; default: 2"},
        {CLI_OPT_INT64, "timeout", 0, "S", &c.timeout,
         "seconds an idle or stalled connection is kept; default: 10"},
        {CLI_OPT_INT64, "header-timeout", 0, "S", &c.header_timeout,
         "seconds a request may take to send all its headers; default: 10"},
        {CLI_OPT_INT64, "body-timeout", 0, "S", &c.body_timeout,
         "seconds a request may take to send all its body; default: 30"},
        {CLI_OPT_INT64, "record-max-bytes", 0, "N", &c.record_max_bytes,
         "rotate the record to FILE.1 before it grows past N bytes; default: no limit"},
        {CLI_OPT_FLAG, "verbose", 'v', NULL, &c.verbose,
         "print the HTTP layer's error messages on standard error"},
    };
    const cli_spec spec = {CMD, description, opts, sizeof opts / sizeof opts[0]};
    int rc = cli_parse(&spec, argc, argv);
    if (rc != CLI_PARSED)
        return rc;
    if (check_numbers(&c) || resolve_credentials(&c) ||
        parse_rate("fail-rate", c.fail_rate, &o.fail_rate) ||
        parse_rate("reset-rate", c.reset_rate, &o.reset_rate) ||
        parse_retry_after(c.retry_after, &o))
        return CLI_EXIT_ERROR;
    int *script = NULL;
    if (parse_script(c.script, &script, &o.script_len))
        return CLI_EXIT_ERROR;
    o.script = script;
    o.port = (uint16_t)c.port;
    o.api_key = c.key;
    o.api_secret = c.secret;
    o.rate_limit = (double)c.rate_limit;
    o.burst = (double)c.burst;
    o.seed = (uint64_t)c.seed;
    o.latency_ms = (unsigned)c.latency_ms;
    o.limit_status = (int)c.limit_status;
    o.threads = (unsigned)c.threads;
    o.connection_timeout_s = (unsigned)c.timeout;
    o.header_timeout_s = (unsigned)c.header_timeout;
    o.body_timeout_s = (unsigned)c.body_timeout;
    o.record_max_bytes = (size_t)c.record_max_bytes;
    o.on_error = log_to_stderr; /* a record that cannot be written: always said */
    if (c.verbose)
        o.log = log_to_stderr;
    raise_descriptor_limit();
    rc = run(&o);
    free(script);
    return rc;
}

/*
 * libmparticle: a local server that behaves like the mParticle Events API.
 *
 * The server behind `mparticle serve`, as a library so that tests (the SDK's
 * own and its users') can start it in-process: POST /v2/events,
 * /v2/bulkevents and /v2/bulkevents/historical with the API's
 * authentication, validation (the SDK's own decoder and validator), limits,
 * deduplication, rate limiting and error body, plus faults made on purpose
 * (scripted statuses, random 5xx, latency, connection resets). Every
 * behaviour, and whether it comes from mParticle's documentation or is an
 * assumption, is in docs/serve.md.
 *
 * Link: the `mparticle_serve` library (CMake target mparticle::mparticle_serve),
 * which needs libmicrohttpd (pkg-config `libmicrohttpd`) and the static
 * libmparticle.
 * It is built as a static library only, for tests and tools: its structs
 * carry no version and may change from one release to the next, so
 * rebuild against the headers of the libmparticle you link.
 *
 * Threads: the server answers on its own threads (a libmicrohttpd thread
 * pool). Every function below may be called from any thread, except that
 * mp_serve_stop() must be called exactly once, after every other call on
 * that server has returned, and never from the server's own callbacks.
 *
 * Copyright 2026 The libmparticle authors. Licensed under the Apache License 2.0.
 */
#ifndef MPARTICLE_SERVE_H
#define MPARTICLE_SERVE_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A running server. Opaque; created by mp_serve_start(), freed by mp_serve_stop(). */
typedef struct mp_server mp_server;

/** The form of the Retry-After header on 429 and 503 answers. */
typedef enum mp_serve_retry_after {
    /** `Retry-After: 2`: delta-seconds, the only form docs/api-notes.md §1.5 documents. The default. */
    MP_SERVE_RETRY_AFTER_SECONDS = 0,
    /** `Retry-After: Wed, 21 Oct 2026 07:28:00 GMT` (RFC 9110 HTTP-date), the same delay. */
    MP_SERVE_RETRY_AFTER_HTTP_DATE = 1,
    /** No Retry-After header: the API "may" omit it (docs/api-notes.md §1.5), clients must back off alone. */
    MP_SERVE_RETRY_AFTER_NONE = 2
} mp_serve_retry_after;

/**
 * A script entry (mp_serve_options.script, mp_serve_push_script()) that
 * closes the connection without answering instead of sending a status.
 */
#define MP_SERVE_SCRIPT_RESET 0

/** Per-status counters in mp_serve_stats cover statuses 0 .. MP_SERVE_STATUS_MAX - 1. */
#define MP_SERVE_STATUS_MAX 600

/**
 * How the server behaves. Zero-initialise (`mp_serve_options o = {0};`):
 * every field's zero is its documented default, and fields added in later
 * versions are appended and default to off. Strings are borrowed for the
 * duration of mp_serve_start() only (the server copies what it keeps).
 */
typedef struct mp_serve_options {
    /** Numeric IPv4 or IPv6 address or host name to bind. NULL = "127.0.0.1". */
    const char *host;
    /** TCP port; 0 = any free port (read it back with mp_serve_port()). */
    uint16_t port;

    /**
     * The API key and secret that Basic authentication accepts
     * (docs/api-notes.md §1.3). Both NULL = accept any credentials whose key and secret are
     * both non-empty. Setting one without the other is an error.
     */
    const char *api_key;
    const char *api_secret; /**< see api_key */

    /**
     * Rate limit in batches per second over the whole server (docs/api-notes.md §2.2
     * counts batches, not requests; a bulk request takes one token per
     * batch). 0 = no rate limiting, the default. A request over the limit
     * gets 429 with Retry-After and X-mp-rate-limit-exceeded.
     */
    double rate_limit;
    /**
     * Token bucket capacity in batches: how many may arrive at once after
     * an idle period. 0 = max(rate_limit, 1), one second's worth.
     */
    double burst;
    /** Value of X-mp-rate-limit-exceeded on 429 (docs/api-notes.md §1.5 lists org, account, app, feed, workspace, acceleration). NULL = "app". */
    const char *rate_limit_scope;

    /**
     * Statuses for the next requests, in order, before normal behaviour
     * resumes (see mp_serve_push_script() for what each entry means).
     * Copied. NULL/0 = none.
     */
    const int *script;
    size_t script_len; /**< the number of entries of script */
    /** Probability in [0, 1] that a request is answered with a random 5xx (500, 502, 503 or 504). 0 = never. */
    double fail_rate;
    /** Probability in [0, 1] that a request's connection is closed without an answer. 0 = never. */
    double reset_rate;
    /** Seed of the generator behind fail_rate and reset_rate: the same seed and the same requests in the same order give the same faults. Any value, 0 included. */
    uint64_t seed;
    /**
     * Milliseconds to wait before answering a request that passed routing
     * and authentication. The wait holds one of the server's threads
     * (see `threads`); mp_serve_stop() cuts it short (the request may then be closed
     * without an answer). 0 = none.
     */
    unsigned latency_ms;

    /** Form of Retry-After on 429 and 503. Default: integer seconds. */
    mp_serve_retry_after retry_after;
    /**
     * Delay in seconds that Retry-After announces on scripted and random
     * 429/503 answers. 0 = 1. (Rate-limited 429s announce when the bucket
     * will hold enough tokens, rounded up to whole seconds.)
     */
    unsigned retry_after_seconds;

    /**
     * File to which every accepted batch is appended as one line, with the
     * bytes exactly as received (see docs/serve.md for line breaks inside a
     * batch), written before the request is answered. Opened in append mode
     * and created if missing, readable by its owner only (0600). The lines
     * of a request are written all or none: when they cannot be written (a
     * full disk), the file is cut back to whole lines, the request gets 507
     * so that the client sends it again, `on_error` is told and
     * mp_serve_stats.unrecorded counts the batches. NULL = no record. Not
     * allowed with `sink`.
     */
    const char *record_path;
    /** Answer 202 to every authenticated POST on a known path without reading the body as JSON (for benchmarks). */
    int sink;

    /** Largest request body in bytes. 0 = 256 KB (MP_MAX_REQUEST_BYTES, docs/api-notes.md §2.1). */
    size_t max_request_bytes;
    /** Largest batch, measured as received, in bytes. 0 = 128 KB (MP_MAX_BATCH_BYTES, docs/api-notes.md §2.1). */
    size_t max_batch_bytes;
    /** Most batches in one bulk request. 0 = 100 (MP_MAX_BATCHES_PER_REQUEST, docs/api-notes.md §1.2). */
    size_t max_batches;
    /**
     * Status for a request over one of the three limits above. 0 = 413
     * (Payload Too Large). docs/api-notes.md §1.5 leaves 400 vs 413 undocumented; 413
     * is the standard status and makes a well-behaved client split and
     * resend instead of dropping data (docs/serve.md).
     */
    int limit_status;

    /** Threads answering requests (libmicrohttpd thread pool). 0 = 2. */
    unsigned threads;
    /** Most connections open at once; more wait in the listen queue. 0 = 10000 (epoll has
     *  no 1024 limit; the process's descriptor limit must allow it). */
    unsigned max_connections;
    /** Seconds a connection may stay idle (no bytes received or sent) before the server closes it. 0 = 10. */
    unsigned connection_timeout_s;
    /**
     * Most source_request_ids remembered for deduplication (also bounded to
     * 32 MB of ids); the oldest is forgotten first, and a forgotten id is
     * accepted again. 0 = 100000.
     */
    size_t dedup_capacity;

    /**
     * Where the HTTP layer's error messages go (bind failures, broken
     * connections), one message per call, without a trailing newline.
     * Called from the server's threads, possibly at once: it must be
     * thread-safe. NULL = discard them.
     */
    void (*log)(void *log_ctx, const char *message);
    void *log_ctx; /**< the first argument of log() */

    /**
     * Largest record file in bytes: a request whose lines would take the
     * file past it first renames it to RECORD.1 (replacing an older one)
     * and starts a new file, so a long run holds at most about twice this.
     * 0 = no limit.
     */
    size_t record_max_bytes;
    /**
     * Seconds a request may take, in total, to send its headers (counted
     * from the connection's start, or from the end of the previous request
     * on a keep-alive connection), and then its body. Past either, the
     * connection is closed, however steadily bytes are trickling in (the
     * idle timeout alone lets a client that sends one byte a second stay
     * forever). 0 = 10 and 30.
     */
    unsigned header_timeout_s;
    unsigned body_timeout_s; /**< see header_timeout_s */
    /**
     * Problems the operator must see whatever the verbosity: the record
     * file cannot be written (and again when it can), once per change.
     * Same rules as `log`. NULL = passed to `log`.
     */
    void (*on_error)(void *error_ctx, const char *message);
    void *error_ctx; /**< the first argument of on_error() */
    /**
     * Validate with mp_validate_options.strict: refuse (400) what the JSON
     * Schema refuses even where mParticle's own SDKs send it (a list in
     * custom_flags, a session_end without session_duration_ms). 0 = accept
     * those, as the API is not documented to refuse them.
     */
    int strict;
} mp_serve_options;

/**
 * A snapshot of the server's counters (mp_serve_stats_get()). Requests are HTTP
 * requests; batches are the batches inside the request bodies that were
 * read as JSON (nothing is counted as a batch in sink mode).
 */
typedef struct mp_serve_stats {
    /** HTTP requests answered (or reset on purpose), on any path. */
    uint64_t requests;
    /** Batches in bodies of the route's shape (an object, or an array of them) that got past
     *  the rate limiter: received = accepted + duplicates + rejected + unrecorded. */
    uint64_t received;
    /** Batches accepted and recorded for the first time. */
    uint64_t accepted;
    /** Batches refused: invalid, or in a request refused for a limit. */
    uint64_t rejected;
    /** Batches answered 202 but not recorded because their source_request_id was already accepted for the same API key. */
    uint64_t duplicates;
    /** Requests answered 429 by the rate limiter (scripted 429s are not counted here). */
    uint64_t throttled;
    /** Connections closed on purpose without an answer: reset_rate, scripted resets, and bodies
     *  that ran far past max_request_bytes (4 times) without the client stopping. */
    uint64_t resets;
    /** Requests whose connection ended before an answer: the client went away or stalled past
     *  connection_timeout_s. */
    uint64_t aborted;
    /** by_status[s]: requests answered with status s. */
    uint64_t by_status[MP_SERVE_STATUS_MAX];
    /** Valid batches that could not be written to the record file (their request got 507 and
     *  is not deduplicated, so a resend is recorded). */
    uint64_t unrecorded;
    /** Connections closed for taking longer than header_timeout_s or body_timeout_s. */
    uint64_t deadline_closed;
} mp_serve_stats;

/**
 * Starts a server: binds, then answers on its own threads until
 * mp_serve_stop(). `opts` NULL = all defaults.
 *
 * Returns MP_OK and the server in *out; otherwise *out is NULL and
 * `errbuf` (if not NULL, `errlen` bytes, always NUL-terminated) says what
 * failed: MP_ERR_INVALID_ARGUMENT for an option out of range (a rate
 * outside [0, 1], a status outside 100..599, a key without a secret, sink
 * with record_path), MP_ERR_IO when the address cannot be bound or the
 * record file cannot be opened, MP_ERR_NOMEM.
 */
MP_API mp_error mp_serve_start(const mp_serve_options *opts, mp_server **out, char *errbuf,
                               size_t errlen);

/** The TCP port the server listens on (useful with port 0). */
MP_API uint16_t mp_serve_port(const mp_server *server);

/**
 * The base URL of the server, "http://HOST:PORT" (IPv6 hosts in brackets),
 * without a trailing slash: append "/v2/events". Borrowed: valid until
 * mp_serve_stop().
 */
MP_API const char *mp_serve_url(const mp_server *server);

/**
 * Copies the counters into *stats. Each counter is exact, but requests in
 * flight may have updated some counters and not yet others.
 */
MP_API void mp_serve_stats_get(const mp_server *server, mp_serve_stats *stats);

/** Sets every counter to 0 (the deduplication memory and the script are kept). */
MP_API void mp_serve_reset_stats(mp_server *server);

/**
 * Appends `n` statuses to the script: the next requests that pass routing
 * and authentication take one entry each, in order, and when the script is
 * empty normal behaviour resumes. An entry is:
 *  - 200..299: handle the request normally (a valid request gets 202 and is
 *    recorded), so that "503, 503, 202" means "fail twice, then work";
 *  - another status in 100..599: answered at once without reading the body
 *    as JSON (429 and 503 carry Retry-After, 429 also
 *    X-mp-rate-limit-exceeded, 400 an error body);
 *  - MP_SERVE_SCRIPT_RESET: the connection is closed without an answer.
 * The statuses are copied. Returns MP_ERR_INVALID_ARGUMENT (nothing is
 * appended) if an entry is none of these, MP_ERR_NOMEM.
 */
MP_API mp_error mp_serve_push_script(mp_server *server, const int *statuses, size_t n);

/**
 * Stops the server like mp_serve_stop() and then, with every request
 * finished, copies the final counters into *stats (if not NULL): a summary
 * read before stopping misses the requests that finish during shutdown.
 */
MP_API void mp_serve_stop_stats(mp_server *server, mp_serve_stats *stats);

/**
 * Stops the server: closes the listening socket and every connection (a
 * request being handled finishes first; one waiting out latency_ms is cut
 * short), closes the record file and frees everything.
 * NULL is fine. Call once, from a thread that is not one of the server's.
 */
MP_API void mp_serve_stop(mp_server *server);

#ifdef __cplusplus
}
#endif

#endif /* MPARTICLE_SERVE_H */

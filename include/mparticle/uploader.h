/*
 * libmparticle: the asynchronous uploader.
 *
 * Copyright 2026 The libmparticle authors. Licensed under the Apache License 2.0.
 *
 * An uploader takes batches from any number of threads without waiting for
 * the network, and delivers them in the background: it validates and
 * encodes each batch at once (the caller's memory is free when enqueue
 * returns), keeps it in a bounded queue, packs queued batches into bulk
 * requests (at most 100 batches, under 256 KB), sends several requests at
 * a time through an mp_client, retries what can be retried with backoff
 * and full jitter, waits out 429s (Retry-After and the client's rate-limit
 * gate, shared with synchronous calls on the same client), and gives every
 * enqueued batch exactly one delivery report. flush() and close() take a
 * deadline. docs/uploader.md describes the model and its guarantees.
 *
 * Threads: every function may be called from any thread, concurrently,
 * except mp_uploader_close(), which must be called once, after which the
 * uploader is gone. Reports are delivered on the uploader's own threads
 * (see mp_uploader_options.on_report).
 *
 * Fork: the uploader's threads do not exist in a child process. Every call
 * made in a child on an uploader created by its parent returns
 * MP_ERR_FORKED and touches nothing (mp_uploader_close() in the child
 * frees nothing: the memory belongs to the parent's threads). Create a new
 * client and uploader in the child.
 */
#ifndef MPARTICLE_UPLOADER_H
#define MPARTICLE_UPLOADER_H

#include <stddef.h>
#include <stdint.h>

#include "mparticle/client.h"
#include "mparticle/common.h"
#include "mparticle/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An opaque, thread-safe asynchronous uploader. */
typedef struct mp_uploader mp_uploader;

/** Which endpoint the uploader sends to. */
typedef enum mp_upload_mode {
    /** Queued batches are packed into /v2/bulkevents requests (up to 100 batches, under 256 KB). The default. */
    MP_UPLOAD_BULK = 0,
    /** One batch per request to /v2/events. */
    MP_UPLOAD_SINGLE = 1,
    /** Packed like MP_UPLOAD_BULK, to /v2/bulkevents/historical (batches are checked against its rules at enqueue). */
    MP_UPLOAD_HISTORICAL = 2
} mp_upload_mode;

/** Where a batch's source_request_id comes from when the batch has none of its own. */
typedef enum mp_id_mode {
    /** A random UUIDv4, drawn at enqueue. The default. */
    MP_ID_RANDOM = 0,
    /**
     * A UUIDv5 of the batch's encoded JSON (namespace in docs/uploader.md):
     * the same batch enqueued twice, by this process or another one, gets
     * the same id, so the API's deduplication (30 to 60 days per API key)
     * counts it once. Two genuinely identical batches are then also one.
     */
    MP_ID_CONTENT = 1
} mp_id_mode;

/** The final fate of an enqueued batch. */
typedef enum mp_delivery_outcome {
    /** The API answered 2xx to the request that carried the batch. */
    MP_DELIVERY_ACCEPTED = 0,
    /** The API refused it for good (400, 401, 403, 413 or another 4xx that is not retried); see status and errors. */
    MP_DELIVERY_REJECTED = 1,
    /** Not delivered: closed before it could be, or the last attempt failed with a non-retriable transport error; see reason. */
    MP_DELIVERY_UNDELIVERED = 2,
    /** Not delivered within delivery_timeout_ms of its enqueue; see reason and status of the last attempt. */
    MP_DELIVERY_EXPIRED = 3,
    /**
     * Not delivered before close(), and kept in the spool (spool_dir): the
     * next uploader opened on that spool sends it with the same
     * source_request_id and reports it again (with `recovered` set).
     */
    MP_DELIVERY_SPOOLED = 4
} mp_delivery_outcome;

/** What "enqueue returned MP_OK" promises about a batch in the spool (docs/spool.md). */
typedef enum mp_spool_durability {
    /** The batch is written to the operating system before enqueue returns: it survives a
     *  crash or kill of the process, not a power cut or an OS crash. The default. */
    MP_SPOOL_PROCESS_CRASH = 0,
    /** The batch is on the storage device (fdatasync, shared by every enqueue waiting at the
     *  time) before enqueue returns: it survives a power cut too. */
    MP_SPOOL_POWER_LOSS = 1
} mp_spool_durability;

/**
 * A delivery report: what became of one enqueued batch. Allocated and owned
 * by the library, valid only during the on_report call. Fields may be
 * appended in later versions (the library allocates it, so that is safe).
 */
typedef struct mp_delivery_report {
    /** The batch's source_request_id (its own, or the one given at enqueue). Never NULL. */
    const char *source_request_id;
    /**
     * The source_request_id of the batch that was sent: the same as
     * source_request_id unless the batch was merged with others of the same
     * user (mp_uploader_options.merge), which then all share it. Never NULL.
     */
    const char *sent_as;
    /** The caller's tag given at enqueue. */
    void *tag;
    /** What became of the batch: accepted, rejected, undelivered, expired, spooled. */
    mp_delivery_outcome outcome;
    /** MP_OK when accepted; otherwise why not (MP_ERR_HTTP, MP_ERR_NETWORK, MP_ERR_TIMEOUT, …). */
    mp_error error;
    /** HTTP status of the last attempt; 0 if there was no response. */
    int status;
    /** Requests that carried this batch (0 if it was never sent). */
    int attempts;
    /** Events in the batch as enqueued. */
    size_t event_count;
    /** Bytes of the batch's JSON as enqueued. */
    size_t bytes;
    /** errors[] of the last response (rejections), or NULL. */
    const mp_api_error *errors;
    /** The number of errors. */
    size_t error_count;
    /** One line saying why it was not accepted ("" when accepted). Never NULL. */
    const char *reason;
    /** Milliseconds from enqueue (or from its recovery) to this report. */
    int64_t latency_ms;
    /** 1 when the batch was recovered from the spool, enqueued by an earlier process (tag is then NULL). */
    int recovered;
} mp_delivery_report;

/**
 * Called once for every enqueued batch, with its final report.
 * Called on one of the uploader's threads, one call at a time (never two at
 * once), in no particular order; keep it short: it holds up a sending
 * thread. It may call mp_uploader_enqueue() (which then never waits for
 * room: a full queue fails at once with MP_ERR_QUEUE_FULL) and
 * mp_uploader_stats(); mp_uploader_flush() and mp_uploader_close() from
 * here return MP_ERR_INVALID_ARGUMENT.
 */
typedef void (*mp_report_fn)(void *ctx, const mp_delivery_report *report);

/** The current version of mp_uploader_options. */
#define MP_UPLOADER_OPTIONS_VERSION 1
/** Initialiser: `mp_uploader_options o = MP_UPLOADER_OPTIONS_INIT;` then set fields. */
#ifdef __cplusplus
#define MP_UPLOADER_OPTIONS_INIT (mp__uploader_options_init_value())
#else /* designated: no missing-initializer warning */
#define MP_UPLOADER_OPTIONS_INIT {.version = MP_UPLOADER_OPTIONS_VERSION}
#endif

/**
 * Uploader configuration. Initialise with MP_UPLOADER_OPTIONS_INIT or
 * mp_uploader_options_init(): every other field's 0 is its documented
 * default, and fields added later are appended, so a program built against
 * an older header keeps working.
 */
typedef struct mp_uploader_options {
    /** MP_UPLOADER_OPTIONS_VERSION of the header the caller was built with. */
    unsigned int version;
    /** Endpoint; default MP_UPLOAD_BULK. */
    mp_upload_mode mode;
    /** Most batches queued (enqueued and not yet reported); 0 = 10 000. */
    size_t max_queue_batches;
    /** Most bytes of encoded JSON queued; 0 = 64 MiB. */
    size_t max_queue_bytes;
    /**
     * When the queue is full, enqueue waits this long for room, then fails
     * with MP_ERR_QUEUE_FULL. 0 = fail at once (the default); < 0 = wait
     * as long as it takes.
     */
    long enqueue_timeout_ms;
    /**
     * How long a request waits for more batches to fill it before it is
     * sent anyway; a request that is full (100 batches or 256 KB) goes at
     * once, and flush() and close() do not wait. 0 = 100 ms; < 0 = none.
     */
    long linger_ms;
    /** Requests in flight at once (one sending thread each); 0 = 4; at most 64. */
    int max_in_flight;
    /**
     * A batch not delivered this long after its enqueue is reported
     * MP_DELIVERY_EXPIRED instead of being retried again. 0 = 300 000 ms.
     */
    int64_t delivery_timeout_ms;
    /**
     * Attempts per batch, the first included; 0 = unlimited within
     * delivery_timeout_ms. Answers 429 do not count: the API is pacing the
     * sender, and the batch waits rather than fails.
     */
    int max_attempts;
    /**
     * 1 = merge waiting batches of one user: batches without their own
     * source_request_id whose everything but events (user, identities,
     * device, attributes, consent, context, environment, …) encodes to the
     * same JSON are sent as one batch while it stays under 128 KB, so an
     * application that
     * enqueues one event at a time does not spend one of the API's batches
     * per event. Each original batch still gets its own report (sent_as
     * names the merged batch). 0 = off, the default.
     */
    int merge;
    /** Id of batches that bring none; default MP_ID_RANDOM. */
    mp_id_mode id_mode;
    /** 1 = do not validate at enqueue (encoding errors still fail it; historical rules always apply). */
    int skip_validation;
    /** Delivery reports; NULL = none (stats still count every outcome). */
    mp_report_fn on_report;
    /** Passed to on_report as its first argument. */
    void *report_ctx;
    /**
     * A directory (created 0700 if missing) where every batch is written at
     * enqueue and removed when its report is final, so that a crash, a kill
     * or a power cut loses nothing enqueue accepted; on creation, the
     * uploader sends again, with their original ids, the batches an earlier
     * process left there. One process at a time. NULL = memory only.
     * docs/spool.md says what is guaranteed and what it costs.
     */
    const char *spool_dir;
    /** What enqueue's MP_OK promises with a spool; default MP_SPOOL_PROCESS_CRASH. */
    mp_spool_durability spool_durability;
    /** Disk bytes the spool may take; enqueue waits or fails as for a full queue. 0 = 1 GiB. */
    uint64_t max_spool_bytes;
} mp_uploader_options;

#ifdef __cplusplus
/** MP_UPLOADER_OPTIONS_INIT in C++: value-initialised, with the version set. */
static inline mp_uploader_options mp__uploader_options_init_value(void) {
    mp_uploader_options o = {};
    o.version = MP_UPLOADER_OPTIONS_VERSION;
    return o;
}
#endif

/** Fills *opts with the defaults of `version` (MP_UPLOADER_OPTIONS_VERSION). MP_ERR_INVALID_ARGUMENT for an unknown version. */
MP_API mp_error mp_uploader_options_init(mp_uploader_options *opts, unsigned int version);

/**
 * Creates an uploader that sends through `client` (borrowed: it must
 * outlive the uploader; synchronous calls on it share its rate-limit gate,
 * retry settings' backoff bounds and connections). opts NULL = defaults.
 * With spool_dir, opens and recovers the spool first (stats say what it
 * found). Starts the sending threads. *out is set before they start, so
 * that reports of batches recovered from the spool, which may come before
 * this function returns, can use it. MP_ERR_INVALID_ARGUMENT (diag says
 * which option), MP_ERR_IO (the spool cannot be used: in use by another
 * process, unreadable, a newer format; diag says which), MP_ERR_NOMEM.
 */
MP_API mp_error mp_uploader_new(mp_client *client, const mp_uploader_options *opts,
                                mp_uploader **out, mp_diag *diag);

/**
 * Queues one batch for delivery. Validates it (unless skip_validation:
 * problems go to diag, and MP_ERR_INVALID is returned with nothing
 * queued), gives it a source_request_id if it has none, and encodes it; the
 * batch and everything it points to may be freed or changed as soon as
 * this returns. Never waits for the network; waits for room in a full
 * queue only as enqueue_timeout_ms says.
 *
 * MP_OK: queued, and exactly one report will follow (before close()
 * returns). Otherwise nothing was queued and no report will follow:
 * MP_ERR_INVALID (validation), MP_ERR_LIMIT (the batch alone is over
 * 128 KB; a problem says so), an encoding error, MP_ERR_QUEUE_FULL,
 * MP_ERR_CLOSED (close() has begun), MP_ERR_FORKED, MP_ERR_NOMEM,
 * MP_ERR_INVALID_ARGUMENT, MP_ERR_IO (the spool could not write it: disk
 * full, I/O error; a problem names the file and the reason). `tag` is returned in the report. diag may be
 * NULL. Any thread.
 */
MP_API mp_error mp_uploader_enqueue(mp_uploader *up, const mp_batch *batch, void *tag,
                                    mp_diag *diag);

/**
 * Waits until every batch enqueued before the call has been reported,
 * sending waiting batches at once (linger does not apply). timeout_ms < 0
 * waits as long as it takes. MP_OK, or MP_ERR_TIMEOUT when the deadline
 * passed first (nothing is lost: delivery goes on). Any thread but the
 * report callback's.
 */
MP_API mp_error mp_uploader_flush(mp_uploader *up, long timeout_ms);

/**
 * Stops accepting batches, delivers what it can within timeout_ms, then
 * reports every batch still queued or in flight as MP_DELIVERY_UNDELIVERED
 * ("closed before delivery"), or MP_DELIVERY_SPOOLED with a spool (they
 * stay on disk for the next uploader), stops the threads and frees the
 * uploader.
 * Requests still in flight at the deadline are abandoned after at most one
 * more transport timeout: their batches are reported undelivered (they may
 * still have reached the API; their source_request_id makes a re-send
 * harmless). Returns MP_OK when everything was delivered or reported
 * before the deadline, MP_ERR_TIMEOUT when batches had to be reported
 * undelivered, MP_ERR_FORKED in a child process. NULL is fine. Call once.
 * enqueue() calls on other threads while close() runs return MP_ERR_CLOSED
 * (one waiting for room gives up), and close() waits for them to return;
 * no call may start once close() has returned.
 */
MP_API mp_error mp_uploader_close(mp_uploader *up, long timeout_ms);

/** The current version of mp_uploader_stats. */
#define MP_UPLOADER_STATS_VERSION 1
/** Initialiser: `mp_uploader_stats st = MP_UPLOADER_STATS_INIT;` */
#ifdef __cplusplus
#define MP_UPLOADER_STATS_INIT (mp__uploader_stats_init_value())
#else /* designated: no missing-initializer warning */
#define MP_UPLOADER_STATS_INIT {.version = MP_UPLOADER_STATS_VERSION}
#endif

/** Counters since the uploader was created (mp_uploader_stats_get()). */
typedef struct mp_uploader_stats {
    /** MP_UPLOADER_STATS_VERSION of the caller's header; the library fills only what that version has. */
    unsigned int version;
    uint64_t enqueued;        /**< batches accepted by enqueue */
    uint64_t queued;          /**< batches waiting (not in a request right now) */
    uint64_t queued_bytes;    /**< their encoded bytes */
    uint64_t in_flight;       /**< batches in requests being sent */
    uint64_t requests_in_flight; /**< HTTP requests being sent now */
    uint64_t accepted;        /**< reports MP_DELIVERY_ACCEPTED */
    uint64_t rejected;        /**< reports MP_DELIVERY_REJECTED */
    uint64_t undelivered;     /**< reports MP_DELIVERY_UNDELIVERED */
    uint64_t expired;         /**< reports MP_DELIVERY_EXPIRED */
    uint64_t requests;        /**< HTTP requests sent (attempts) */
    uint64_t retries;         /**< requests that were a retry */
    uint64_t throttled;       /**< 429 answers */
    uint64_t merged;          /**< batches sent inside a batch merged with others */
    uint64_t queue_full;      /**< enqueues refused with MP_ERR_QUEUE_FULL */
    uint64_t spooled;         /**< reports MP_DELIVERY_SPOOLED */
    uint64_t recovered;       /**< batches found in the spool at creation, left by an earlier process */
    uint64_t spool_corrupt_records; /**< damaged spool records (torn tail, bad checksum) skipped at recovery */
    uint64_t spool_corrupt_bytes;   /**< their bytes */
    uint64_t spool_bytes;     /**< the spool's size on disk now */
    /** Request latency (send to answer, ms) over the last 1024 requests: p50, p90, p99 and max; 0 before any. */
    double latency_p50_ms;
    double latency_p90_ms; /**< 90th percentile */
    double latency_p99_ms; /**< 99th percentile */
    double latency_max_ms; /**< the slowest */
} mp_uploader_stats;

#ifdef __cplusplus
/** MP_UPLOADER_STATS_INIT in C++: value-initialised, with the version set. */
static inline mp_uploader_stats mp__uploader_stats_init_value(void) {
    mp_uploader_stats o = {};
    o.version = MP_UPLOADER_STATS_VERSION;
    return o;
}
#endif

/** Fills *stats (whose version the caller sets). MP_ERR_INVALID_ARGUMENT, MP_ERR_FORKED. Any thread. */
MP_API mp_error mp_uploader_stats_get(mp_uploader *up, mp_uploader_stats *stats);

/** The outcome's name ("accepted", "rejected", "undelivered", "expired", "spooled"). Never NULL. */
MP_API const char *mp_delivery_outcome_name(mp_delivery_outcome outcome);

#ifdef __cplusplus
}
#endif

#endif /* MPARTICLE_UPLOADER_H */

/*
 * libmparticle: the synchronous Events API client.
 *
 * Copyright 2026 The libmparticle authors. Licensed under the Apache License 2.0.
 *
 * Threading: one mp_client may be shared by any number of threads; every
 * call is independent and may run concurrently with the others. Connections
 * are reused across calls (keep-alive, HTTP/2 where offered). The rate-limit
 * gate belongs to the client object, never to the process. mp_client_free()
 * must not race with calls on the same client. Results and diags are
 * per-call and caller-owned. See docs/client.md.
 */
#ifndef MPARTICLE_CLIENT_H
#define MPARTICLE_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "mparticle/codec.h"
#include "mparticle/common.h"
#include "mparticle/model.h"
#include "mparticle/transport.h"

#ifdef __cplusplus
extern "C" {
#endif

/** mParticle data centres (docs/api-notes.md §1.1). */
typedef enum mp_pod {
    MP_POD_AUTO = 0, /**< from the API key's prefix ("us2-…" → US2), else US1 */
    MP_POD_US1,      /**< https://s2s.mparticle.com/v2 */
    MP_POD_US2,      /**< https://s2s.us2.mparticle.com/v2 */
    MP_POD_EU1,      /**< https://s2s.eu1.mparticle.com/v2 */
    MP_POD_AU1       /**< https://s2s.au1.mparticle.com/v2 */
} mp_pod;

/** The three upload endpoints. */
typedef enum mp_endpoint {
    MP_ENDPOINT_EVENTS = 0,          /**< POST {base}/events: one batch */
    MP_ENDPOINT_BULK = 1,            /**< POST {base}/bulkevents: up to 100 batches */
    MP_ENDPOINT_BULK_HISTORICAL = 2  /**< POST {base}/bulkevents/historical */
} mp_endpoint;

/** The current version of mp_client_options. */
#define MP_CLIENT_OPTIONS_VERSION 1
/** Initialiser: `mp_client_options o = MP_CLIENT_OPTIONS_INIT;` then set fields. */
#ifdef __cplusplus
#define MP_CLIENT_OPTIONS_INIT (mp__client_options_init_value())
#else /* designated: no missing-initializer warning */
#define MP_CLIENT_OPTIONS_INIT {.version = MP_CLIENT_OPTIONS_VERSION}
#endif

/**
 * Client configuration. Initialise with MP_CLIENT_OPTIONS_INIT or
 * mp_client_options_init(): every other 0 or NULL means the documented
 * default. Fields are only ever appended, and `version` tells the library
 * which of them the caller's header had, so a program built against an
 * older header keeps working with a newer library (version 0, from a
 * zero-initialised struct, is taken as version 1). Strings are copied by
 * mp_client_new().
 */
typedef struct mp_client_options {
    /** MP_CLIENT_OPTIONS_VERSION of the header the caller was built with (0 = 1). */
    unsigned int version;
    /** API key; NULL = the MPARTICLE_API_KEY environment variable. */
    const char *api_key;
    /** API secret; NULL = the MPARTICLE_API_SECRET environment variable. */
    const char *api_secret;
    /**
     * Data centre. MP_POD_AUTO takes it from the key's prefix ("us2-…"):
     * an inference from mParticle's Android SDK, not documented for the
     * Events API; keys without a known prefix use US1.
     */
    mp_pod pod;
    /**
     * Base URL including /v2 (e.g. "http://127.0.0.1:8080/v2"). NULL = the
     * environment variable MPARTICLE_BASE_URL if set and not empty, else
     * the pod's. Precedence: base_url > MPARTICLE_BASE_URL > pod > the
     * key's prefix > US1.
     */
    const char *base_url;
    /** Connect timeout per attempt; 0 = 10 000 ms. */
    long connect_timeout_ms;
    /** Whole-exchange timeout per attempt; 0 = 30 000 ms. */
    long timeout_ms;
    /**
     * User-Agent header. NULL = "libmparticle/<version>"; "" = send none.
     * mParticle copies the request's User-Agent into
     * device_info.http_header_user_agent when the batch does not set it
     * (docs/api-notes.md §1.4), so servers relaying user traffic may prefer "".
     */
    const char *user_agent;
    /** Extra request headers, each "Name: value" (not Authorization or Content-Type). */
    const char *const *headers;
    size_t header_count; /**< the number of headers */
    /** Attempts per call, the first included; 0 = 5; 1 = no retries. */
    int max_attempts;
    /** First backoff before a retry; 0 = 500 ms. Each retry doubles it, with full jitter. */
    long backoff_initial_ms;
    /** Largest backoff; 0 = 30 000 ms. */
    long backoff_max_ms;
    /** No retry starts later than this after the call began; 0 = 60 000 ms. */
    long retry_total_ms;
    /** Retry-After values are capped at this; 0 = 120 000 ms. */
    long retry_after_max_ms;
    /** 1 = do not validate batches before sending (encoding errors still stop a call;
     *  historical uploads are always validated, since their rules are the point). */
    int skip_validation;
    /** The HTTP transport; NULL = libcurl configured by `curl`. mp_client_new() takes ownership
     *  (destroy is called by mp_client_free(), or at once if mp_client_new() fails). */
    const mp_transport *transport;
    /** Options of the libcurl transport when `transport` is NULL; NULL = defaults. */
    const mp_curl_options *curl;
} mp_client_options;

#ifdef __cplusplus
/** MP_CLIENT_OPTIONS_INIT in C++: value-initialised, with the version set. */
static inline mp_client_options mp__client_options_init_value(void) {
    mp_client_options o = {};
    o.version = MP_CLIENT_OPTIONS_VERSION;
    return o;
}
#endif

/** What a call's outcome means for the data. */
typedef enum mp_outcome {
    MP_OUTCOME_ACCEPTED = 0,   /**< 2xx: delivered */
    MP_OUTCOME_RETRIABLE = 1,  /**< network failure, timeout, 429, 5xx, or the rate-limit gate: try again later */
    MP_OUTCOME_REJECTED = 2,   /**< 400, 413, other 4xx, or invalid before sending: the data must change */
    MP_OUTCOME_UNAUTHORIZED = 3 /**< 401, 403: the credentials must change */
} mp_outcome;

/** One entry of the API's error body: {"errors":[{"code":…,"message":…}]}. */
typedef struct mp_api_error {
    char *code;    /**< e.g. "BAD_REQUEST"; never NULL */
    char *message; /**< never NULL */
} mp_api_error;

/** Fills *opts with the defaults of `version` (MP_CLIENT_OPTIONS_VERSION). MP_ERR_INVALID_ARGUMENT for an unknown version. */
MP_API mp_error mp_client_options_init(mp_client_options *opts, unsigned int version);

/** The current version of mp_result. */
#define MP_RESULT_VERSION 1
/** Initialiser: `mp_result r = MP_RESULT_INIT;` */
#ifdef __cplusplus
#define MP_RESULT_INIT (mp__result_init_value())
#else /* designated: no missing-initializer warning */
#define MP_RESULT_INIT {.version = MP_RESULT_VERSION}
#endif

/**
 * What happened in a call. Caller-owned: initialise with MP_RESULT_INIT
 * (or zero it: version 0 is taken as 1) before first use and release with
 * mp_result_clear(); a call overwrites (and frees) what a previous call
 * left in it. The library writes only the fields that the caller's
 * `version` has, so fields can be appended in later versions.
 */
typedef struct mp_result {
    /** MP_RESULT_VERSION of the header the caller was built with (0 = 1). Kept by mp_result_clear(). */
    unsigned int version;
    mp_error error;      /**< MP_OK when accepted */
    mp_outcome outcome;  /**< accepted, rejected, or what kind of failure */
    int status;          /**< HTTP status of the last attempt; 0 if no response */
    /** Attempts made. libcurl itself resends a request once when a reused
     *  keep-alive connection turns out dead before any answer, so the server
     *  may see more requests than this; source_request_id makes that harmless. */
    int attempts;
    /** How long to wait before sending again (ms): Retry-After of the last response (capped),
     *  or the time left on the rate-limit gate; -1 if not known. */
    int64_t retry_after_ms;
    int rate_limit_percentage_used; /**< X-mp-rate-limit-percentage-used; -1 if absent */
    char rate_limit_exceeded[32];   /**< X-mp-rate-limit-exceeded ("app", "org", …); "" if absent */
    char transport_error[256];      /**< the transport's reason for a network failure or timeout */
    mp_api_error *errors;           /**< parsed errors[] of the last response */
    size_t error_count;             /**< the number of errors */
    char *body;                     /**< raw body of the last response (NUL-terminated), or NULL */
    size_t body_len;                /**< the body's length in bytes */
    /** The source_request_id sent with a single batch (the batch's own or a generated UUIDv4). */
    char source_request_id[64];
} mp_result;

#ifdef __cplusplus
/** MP_RESULT_INIT in C++: value-initialised, with the version set. */
static inline mp_result mp__result_init_value(void) {
    mp_result o = {};
    o.version = MP_RESULT_VERSION;
    return o;
}
#endif

/** Frees what the result holds and zeroes it, keeping `version`. NULL is fine. */
MP_API void mp_result_clear(mp_result *result);

/** An opaque, thread-safe client. */
typedef struct mp_client mp_client;

/**
 * Creates a client. Fails with MP_ERR_INVALID_ARGUMENT (a problem in diag
 * says which option) when credentials are missing, the base URL is not
 * http(s), or a header is not "Name: value"; MP_ERR_NOMEM.
 */
MP_API mp_error mp_client_new(const mp_client_options *opts, mp_client **out, mp_diag *diag);

/** Frees the client and its transport. No call may be running on it. NULL is fine. */
MP_API void mp_client_free(mp_client *client);

/** The base URL the client sends to (e.g. "https://s2s.us2.mparticle.com/v2"). Borrowed. */
MP_API const char *mp_client_base_url(const mp_client *client);

/**
 * Milliseconds until the client's rate-limit gate opens again, 0 when it is
 * open. A 429 closes the gate for its Retry-After, capped at
 * retry_after_max_ms (default 120 s): with a very large Retry-After every
 * call fails with MP_ERR_RATE_LIMITED for that whole cap, and this says
 * when sending can resume. NULL gives 0. Any thread.
 */
MP_API int64_t mp_client_gate_remaining_ms(const mp_client *client);

/**
 * Uploads one batch to /v2/events.
 *
 * Validates it (unless skip_validation; problems go to diag and the call
 * fails with MP_ERR_INVALID, outcome REJECTED, nothing sent), gives it a
 * UUIDv4 source_request_id if it has none (the caller's struct is not
 * modified), encodes it once, and sends it, retrying network errors,
 * timeouts, 429 and 5xx with exponential backoff and full jitter, honouring
 * Retry-After, within max_attempts and retry_total_ms. The same bytes, and
 * so the same source_request_id, go out on every attempt, so the server
 * drops duplicates. Never retries 400, 401, 403 or other 4xx, a status
 * outside 100..599 (MP_ERR_PROTOCOL) or a certificate that failed
 * verification (MP_ERR_TLS). A Retry-After of 0 or a date already past
 * does not cancel the backoff.
 *
 * While a 429's Retry-After has not passed, calls on this client fail at
 * once with MP_ERR_RATE_LIMITED (outcome RETRIABLE, retry_after_ms = time
 * left) without sending.
 *
 * Returns MP_OK when accepted; otherwise the error of the last attempt
 * (MP_ERR_HTTP for a non-2xx status, MP_ERR_PROTOCOL, MP_ERR_NETWORK,
 * MP_ERR_TLS, MP_ERR_TIMEOUT, MP_ERR_RATE_LIMITED, MP_ERR_INVALID, …), with
 * details in *result.
 * result and diag may be NULL. Any thread.
 */
MP_API mp_error mp_client_upload(mp_client *client, const mp_batch *batch, mp_result *result,
                                 mp_diag *diag);

/**
 * Uploads up to 100 batches in one request to /v2/bulkevents, after the
 * same validation and source_request_id handling as mp_client_upload().
 * Refuses, before sending anything, more than MP_MAX_BATCHES_PER_REQUEST
 * batches or a body of MP_MAX_REQUEST_BYTES (256 KB) or more, with
 * MP_ERR_LIMIT and a problem naming the limit. A 202 means the request was
 * accepted; mParticle answers 202 even if some batches inside fail.
 */
MP_API mp_error mp_client_upload_bulk(mp_client *client, const mp_batch *batches, size_t count,
                                      mp_result *result, mp_diag *diag);

/**
 * Like mp_client_upload_bulk() for /v2/bulkevents/historical: data older
 * than 30 days. Also checks the endpoint's rules first (docs/api-notes.md §2.4): each
 * batch has events, each event a timestamp at least 72 hours old.
 */
MP_API mp_error mp_client_upload_historical(mp_client *client, const mp_batch *batches,
                                            size_t count, mp_result *result, mp_diag *diag);

#ifdef __cplusplus
}
#endif

#endif /* MPARTICLE_CLIENT_H */

/*
 * libmparticle: the HTTP transport interface.
 *
 * Copyright 2026 The libmparticle authors. Licensed under the Apache License 2.0.
 *
 * The client does everything that is about the Events API (encoding,
 * validation, retries, Retry-After, the rate-limit gate); a transport only
 * performs one HTTP exchange. libcurl is the default. Platforms with their
 * own HTTP stack (consoles, set-top boxes, engines) plug in theirs by
 * filling an mp_transport.
 */
#ifndef MPARTICLE_TRANSPORT_H
#define MPARTICLE_TRANSPORT_H

#include <stddef.h>

#include "mparticle/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A request or response header. */
typedef struct mp_http_header {
    const char *name;  /**< e.g. "Content-Type" */
    const char *value; /**< e.g. "application/json" */
} mp_http_header;

/** One HTTP request. Everything is borrowed for the duration of send(). */
typedef struct mp_http_request {
    const char *method; /**< "POST" */
    const char *url;    /**< absolute URL */
    const mp_http_header *headers; /**< the request headers to send */
    size_t header_count;           /**< the number of headers */
    const char *body;              /**< the body (JSON), not NUL-terminated */
    size_t body_len;               /**< the body's length in bytes */
    long connect_timeout_ms; /**< > 0 */
    long timeout_ms;         /**< > 0: the whole exchange */
    /**
     * NULL, or a function the transport may call during the exchange (any
     * number of times, from the thread running send()) that returns
     * non-zero when the caller wants it abandoned: the uploader's close()
     * at its deadline. A transport that honours it stops and returns
     * MP_ERR_TIMEOUT; one that ignores it finishes within timeout_ms.
     * libcurl's checks it about once a second or more often.
     */
    int (*cancelled)(void *cancel_ctx);
    void *cancel_ctx; /**< the argument of cancelled() */
} mp_http_request;

/**
 * The response a transport fills. Owned by the caller of send(); the
 * transport only calls the setters below.
 */
typedef struct mp_http_response mp_http_response;

/** Sets the HTTP status code (e.g. 202). */
MP_API void mp_http_response_set_status(mp_http_response *resp, int status);
/** Adds a header; bytes are copied. MP_ERR_NOMEM on failure. */
MP_API mp_error mp_http_response_add_header(mp_http_response *resp, const char *name,
                                            size_t name_len, const char *value, size_t value_len);
/** Appends body bytes (copied). Bodies beyond 1 MiB are truncated: the Events API sends small ones. */
MP_API mp_error mp_http_response_append_body(mp_http_response *resp, const char *data, size_t len);

/** Status set by the transport (0 if none). */
MP_API int mp_http_response_status(const mp_http_response *resp);
/** First header with this name (case-insensitive), or NULL. Borrowed. */
MP_API const char *mp_http_response_header(const mp_http_response *resp, const char *name);
/** The body (NUL-terminated) and its length. Borrowed. */
MP_API const char *mp_http_response_body(const mp_http_response *resp, size_t *len);

/**
 * A transport: a send function and its state.
 *
 * send() performs one exchange and returns MP_OK when an HTTP response was
 * received, whatever its status; MP_ERR_TIMEOUT when the exchange took
 * longer than req->timeout_ms (or connecting longer than
 * req->connect_timeout_ms); MP_ERR_NETWORK for any other failure (refused,
 * reset, DNS, TLS); MP_ERR_INVALID_ARGUMENT, before anything is sent, for a
 * request that cannot be sent as given (a URL that is not http(s) or is
 * malformed, a header name that is not a token or a value with CR or LF, a
 * Content-Length or Transfer-Encoding header, a timeout <= 0); MP_ERR_NOMEM.
 * errbuf gets a one-line reason on every failure and "" on success
 * (NUL-terminated when errbuf_size > 0). Only MP_ERR_NETWORK and
 * MP_ERR_TIMEOUT are retried by the client.
 * It is called concurrently from every thread that uses the client, so it
 * must be thread-safe.
 *
 * destroy(user_data), if not NULL, is called once by mp_client_free(); it
 * must not be called while a send() is in flight.
 */
typedef struct mp_transport {
    /** Performs one exchange (see above). */
    mp_error (*send)(void *user_data, const mp_http_request *req, mp_http_response *resp,
                     char *errbuf, size_t errbuf_size);
    /** Releases user_data; NULL if there is nothing to release. */
    void (*destroy)(void *user_data);
    /** The transport's own state, passed to send() and destroy(). */
    void *user_data;
} mp_transport;

/** The current version of mp_curl_options. */
#define MP_CURL_OPTIONS_VERSION 1
#ifdef __cplusplus
#define MP_CURL_OPTIONS_INIT (mp__curl_options_init_value())
#else /* designated: no missing-initializer warning */
#define MP_CURL_OPTIONS_INIT {.version = MP_CURL_OPTIONS_VERSION}
#endif

/**
 * Options of the libcurl transport. Initialise with MP_CURL_OPTIONS_INIT
 * (or zero it: version 0 is taken as 1); NULL means defaults. Fields are
 * only appended, and `version` tells the library which the caller's header
 * had.
 */
typedef struct mp_curl_options {
    /** MP_CURL_OPTIONS_VERSION of the caller's header (0 = 1). */
    unsigned int version;
    /** Proxy URL; NULL = libcurl's defaults (the http_proxy/https_proxy/no_proxy environment). "" = none. */
    const char *proxy;
    /** CA bundle file; NULL = the system's. */
    const char *ca_bundle;
    /** Set to 1 to turn off TLS peer and host verification. Never do this in production. */
    int insecure_disable_tls_verification;
    /** Idle connections kept for reuse (keep-alive), one per handle; 0 = 16; < 0 is
     *  MP_ERR_INVALID_ARGUMENT. More concurrent calls than this still work, on extra
     *  connections closed after use. */
    int max_idle_connections;
} mp_curl_options;

#ifdef __cplusplus
/** MP_CURL_OPTIONS_INIT in C++: value-initialised, with the version set. */
static inline mp_curl_options mp__curl_options_init_value(void) {
    mp_curl_options o = {};
    o.version = MP_CURL_OPTIONS_VERSION;
    return o;
}
#endif

/**
 * Creates the libcurl transport: keep-alive connections reused across
 * calls and threads, HTTP/2 over TLS where the server offers it, TLS
 * verified, no signals (safe in threaded programs). A request goes out with
 * exactly the caller's headers plus Host and Content-Length: no User-Agent,
 * Accept, Content-Type or Expect of libcurl's own. Redirects are not
 * followed: a POST must not be re-sent somewhere else. Free it by calling
 * out->destroy(out->user_data), or hand it to a client, which does.
 * MP_ERR_NOMEM, or MP_ERR_INVALID_ARGUMENT when libcurl lacks a feature.
 * Any thread.
 */
MP_API mp_error mp_curl_transport_new(const mp_curl_options *opts, mp_transport *out);

#ifdef __cplusplus
}
#endif

#endif /* MPARTICLE_TRANSPORT_H */

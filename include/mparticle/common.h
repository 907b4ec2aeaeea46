/*
 * libmparticle: common definitions (export macro, error codes, diagnostics).
 *
 * Copyright 2026 The libmparticle authors. Licensed under the Apache License 2.0.
 */
#ifndef MPARTICLE_COMMON_H
#define MPARTICLE_COMMON_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32) && defined(MP_SHARED)
#  if defined(MP_BUILDING)
#    define MP_API __declspec(dllexport)
#  else
#    define MP_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__)
#  define MP_API __attribute__((visibility("default")))
#else
#  define MP_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Error codes. MP_OK is 0; every failure is non-zero. Codes are only ever
 * appended, never renumbered or removed, so they are safe to store and to
 * compare across versions. mp_strerror() gives a one-line description;
 * detail (which field, which JSON path) goes into an mp_diag the caller owns.
 */
typedef enum mp_error {
    MP_OK = 0,
    MP_ERR_INVALID_ARGUMENT = 1, /**< a NULL or out-of-range argument */
    MP_ERR_NOMEM = 2,            /**< an allocation failed */
    MP_ERR_BUFFER_TOO_SMALL = 3, /**< the caller's buffer cannot hold the output */
    MP_ERR_INVALID_UTF8 = 4,     /**< a string is not valid UTF-8 */
    MP_ERR_NOT_FINITE = 5,       /**< a double is NaN or infinite (JSON has no such value) */
    MP_ERR_JSON_SYNTAX = 6,      /**< input is not well-formed JSON */
    MP_ERR_TYPE = 7,             /**< a JSON value has the wrong type for its field */
    MP_ERR_ENUM = 8,             /**< a value is not one of the field's enum strings */
    MP_ERR_RANGE = 9,            /**< a number does not fit the field's type */
    MP_ERR_INVALID = 10,         /**< a batch breaks a rule of the API (see the diagnostics) */
    MP_ERR_IO = 11,              /**< reading or writing a file failed */
    MP_ERR_LIMIT = 12,           /**< an input is larger than a limit of the API or of the library */
    MP_ERR_NETWORK = 13,         /**< no HTTP response: refused, reset, DNS or a TLS handshake failure */
    MP_ERR_TIMEOUT = 14,         /**< the exchange took longer than its timeout */
    MP_ERR_HTTP = 15,            /**< the server answered with a status that is not success */
    MP_ERR_RATE_LIMITED = 16,    /**< not sent: the client is waiting out a 429's Retry-After */
    MP_ERR_QUEUE_FULL = 17,      /**< the uploader's queue has no room (and waiting was not asked for, or timed out) */
    MP_ERR_CLOSED = 18,          /**< the uploader is closing and takes no more batches */
    MP_ERR_FORKED = 19,          /**< an object made by the parent process was used in a forked child */
    MP_ERR_TLS = 20,             /**< the server's TLS certificate could not be verified; retrying will not help */
    MP_ERR_PROTOCOL = 21         /**< the server's answer is not valid HTTP (a status outside 100..599) */
} mp_error;

/** One-line, static, English description of an error code. Never NULL. Any thread. */
MP_API const char *mp_strerror(mp_error err);

/** The enum constant's name ("MP_ERR_TYPE") for logs and bindings. Never NULL. Any thread. */
MP_API const char *mp_error_name(mp_error err);

/** How bad a problem is. */
typedef enum mp_severity {
    MP_SEVERITY_ERROR = 0,   /**< the API would reject the batch, or the data cannot be represented */
    MP_SEVERITY_WARNING = 1  /**< accepted, but probably not what was meant (unknown key, output-only field) */
} mp_severity;

/**
 * One problem found by the decoder, the encoder or validation.
 * Plain data owned by the mp_diag it came from; valid until that mp_diag is
 * cleared or freed.
 */
typedef struct mp_problem {
    mp_severity severity; /**< an error (the input is refused) or a warning */
    mp_error code;        /**< the kind of problem */
    /** Index of the batch in the input (0 for a single batch), or -1 if not tied to one. */
    long batch;
    /** JSON path inside the batch, e.g. "events[2].data.product_action.action";
     *  "" for the batch itself or for input-level problems. Never NULL. */
    const char *path;
    /** What is wrong, in one line. Never NULL. */
    const char *message;
    /** 1-based line and column in the input text for syntax errors, else 0. */
    int line;
    int column; /**< see line */
} mp_problem;

/**
 * A caller-owned list of problems. Functions that can explain a failure take
 * an optional `mp_diag *` (NULL = do not collect detail) and append to it; they
 * never keep error state anywhere global or thread-local.
 *
 * Not thread-safe: one mp_diag per thread or per call.
 */
typedef struct mp_diag mp_diag;

/** New empty list; NULL on allocation failure. Free with mp_diag_free(). */
MP_API mp_diag *mp_diag_new(void);
/** Frees the list and every problem in it. NULL is fine. */
MP_API void mp_diag_free(mp_diag *diag);
/** Removes every problem, keeping the memory for reuse. */
MP_API void mp_diag_clear(mp_diag *diag);
/** Number of problems (errors and warnings). */
MP_API size_t mp_diag_count(const mp_diag *diag);
/** Number of problems of severity MP_SEVERITY_ERROR. */
MP_API size_t mp_diag_error_count(const mp_diag *diag);
/** Problem i (0-based) or NULL when out of range. Borrowed. */
MP_API const mp_problem *mp_diag_get(const mp_diag *diag, size_t i);
/**
 * Caps how many problems are kept (default 1000); problems past the cap are
 * counted in mp_diag_dropped() but not stored, so hostile input cannot make
 * the list grow without bound.
 */
MP_API void mp_diag_set_max(mp_diag *diag, size_t max_problems);
/** How many problems were not stored because of the cap. */
MP_API size_t mp_diag_dropped(const mp_diag *diag);
/**
 * Whether warnings are kept (the default) or left out: with keep = 0 only
 * errors are stored, and the decoder and the validator do not even format
 * the warnings' messages and paths, which is most of their reporting cost
 * (data a month old has a warning on every event). Errors are unaffected.
 */
MP_API void mp_diag_keep_warnings(mp_diag *diag, int keep);

/**
 * Routes every allocation of the library through the caller's functions
 * (malloc-, realloc- and free-like; all three, or all NULL for libc's).
 * Call it once, before any other function of the library: a block must be
 * freed by the allocator that made it, so a call after the library has
 * allocated anything returns MP_ERR_INVALID_ARGUMENT and changes nothing,
 * as does a call with only some of the three. The functions must be
 * thread-safe. libcurl, libmicrohttpd and the C library keep their own
 * allocators. MP_OK.
 */
MP_API mp_error mp_set_allocator(void *(*malloc_fn)(size_t), void *(*realloc_fn)(void *, size_t),
                                 void (*free_fn)(void *));

/** Frees memory that the library allocated and handed to the caller (e.g. by mp_buffer_detach()), through the allocator of mp_set_allocator(). NULL is fine. */
MP_API void mp_free(void *ptr);

#ifdef __cplusplus
}
#endif

#endif /* MPARTICLE_COMMON_H */

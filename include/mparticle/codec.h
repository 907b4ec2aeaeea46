/*
 * libmparticle: JSON encoding, decoding and validation of batches.
 *
 * Copyright 2026 The libmparticle authors. Licensed under the Apache License 2.0.
 */
#ifndef MPARTICLE_CODEC_H
#define MPARTICLE_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Growable output buffer                                                   */
/* ------------------------------------------------------------------------ */

/**
 * A growable byte buffer for encoder output. Reuse one across calls
 * (mp_buffer_clear()) and encoding allocates nothing once it is big enough.
 * Not thread-safe: one buffer per thread.
 */
typedef struct mp_buffer mp_buffer;

/** New empty buffer with room for `initial_capacity` bytes (0 = a small default). NULL if out of memory. */
MP_API mp_buffer *mp_buffer_new(size_t initial_capacity);
/** Frees the buffer and its bytes. NULL is fine. */
MP_API void mp_buffer_free(mp_buffer *buf);
/** Sets the length to 0 and keeps the memory. */
MP_API void mp_buffer_clear(mp_buffer *buf);
/** The bytes, always followed by a NUL (not counted in the length). Borrowed: valid until the next call that changes buf. */
MP_API const char *mp_buffer_data(const mp_buffer *buf);
/** Number of bytes written. */
MP_API size_t mp_buffer_length(const mp_buffer *buf);
/** Appends raw bytes (e.g. "\n" between NDJSON lines). MP_ERR_NOMEM on failure. */
MP_API mp_error mp_buffer_append(mp_buffer *buf, const char *bytes, size_t len);
/**
 * Takes the bytes out of the buffer: returns them (NUL-terminated, free with
 * mp_free()) and leaves buf empty with no memory. NULL if buf holds nothing
 * allocated. `len` (optional) receives the length.
 */
MP_API char *mp_buffer_detach(mp_buffer *buf, size_t *len);

/* ------------------------------------------------------------------------ */
/* Encoding                                                                 */
/* ------------------------------------------------------------------------ */

/**
 * Appends the compact JSON of one batch to `buf`.
 *
 * Unset fields are omitted; integers are exact; doubles are written in the
 * shortest form that reads back to the same double (19.99 stays 19.99);
 * strings are escaped (quote, backslash, control characters) and must be
 * valid UTF-8. Enum values are checked. Required fields and the API's limits
 * are not: that is mp_validate_batch()'s job.
 *
 * Errors: MP_ERR_INVALID_UTF8 (a string), MP_ERR_NOT_FINITE (a NaN or
 * infinite double), MP_ERR_ENUM (an enum field holds no known constant),
 * MP_ERR_INVALID_ARGUMENT (NULL batch/buf, an event without event_type, a
 * NULL name in a map), MP_ERR_NOMEM. On error one problem naming the JSON
 * path is added to `diag` (if not NULL) and buf keeps its previous length.
 *
 * Thread-safety: any thread; concurrent calls need distinct buffers.
 */
MP_API mp_error mp_encode_batch(const mp_batch *batch, mp_buffer *buf, mp_diag *diag);

/**
 * Appends a JSON array of `count` batches (the body of /v2/bulkevents) to
 * `buf`. Same rules and errors as mp_encode_batch(); problems carry the
 * index of the batch they are in.
 */
MP_API mp_error mp_encode_batches(const mp_batch *batches, size_t count, mp_buffer *buf,
                                  mp_diag *diag);

/**
 * Encodes one batch into caller memory, snprintf-style: writes at most `cap`
 * bytes, NUL-terminated when there is room, and stores the full JSON length
 * (without the NUL) in `*len`. Returns MP_ERR_BUFFER_TOO_SMALL when
 * `cap <= *len`; then `out` holds no usable JSON and `*len` says how much to
 * provide. Allocates only when the output does not fit.
 */
MP_API mp_error mp_encode_batch_to(const mp_batch *batch, char *out, size_t cap, size_t *len,
                                   mp_diag *diag);

/* ------------------------------------------------------------------------ */
/* Decoding                                                                 */
/* ------------------------------------------------------------------------ */

/**
 * Batches decoded from JSON text, and all the memory their strings, lists
 * and sub-objects point into. Immutable once returned: any number of
 * threads may read it. Free with mp_document_free().
 */
typedef struct mp_document mp_document;

/**
 * Decodes `json[0..len)`: one batch object (pretty-printed or not), a JSON
 * array of batches, or NDJSON / concatenated objects (a record starts at a
 * line that begins with '{'; blank lines and a UTF-8 BOM are skipped; empty
 * input gives a document with no batch).
 *
 * Every field and event type is read into the models of model.h; JSON null
 * becomes the null state of the field (MP_NULLED, MP_STRING_NULL,
 * MP_NULL_OF). Problems go to `diag` with the batch index and JSON path:
 * malformed JSON (with line and column), a value of the wrong type, a string
 * that is not one of an enum's values, an unknown event_type, an integer
 * outside int64 or a number outside double. Unknown keys are warnings
 * (code MP_ERR_INVALID). An integer beyond int64 is MP_ERR_RANGE in an
 * integer field and a double elsewhere (Go, JavaScript and
 * mp_encode_batch() write 1e20 as 100000000000000000000); "-0" is -0.0 in a
 * double field. List and map elements that cannot be represented are left
 * out and reported.
 * A batch with an error still appears in the document with the bad fields
 * left absent, and mp_document_batch_ok() says it failed. In NDJSON a syntax
 * error spoils only its own line.
 *
 * Returns MP_OK when every batch decoded without error; otherwise the code
 * of the first error (the document is still returned, except for
 * MP_ERR_NOMEM and MP_ERR_INVALID_ARGUMENT, where *out is NULL).
 * `json` need not be NUL-terminated and is not referenced after the call.
 */
MP_API mp_error mp_decode(const char *json, size_t len, mp_document **out, mp_diag *diag);

/** Frees the document and everything its batches point to. NULL is fine. */
MP_API void mp_document_free(mp_document *doc);
/** Number of batches in the input (including failed ones). */
MP_API size_t mp_document_count(const mp_document *doc);
/** Batch i, or NULL when out of range. Borrowed from doc. */
MP_API const mp_batch *mp_document_batch(const mp_document *doc, size_t i);
/** 1 if batch i decoded without error, else 0. */
MP_API int mp_document_batch_ok(const mp_document *doc, size_t i);
/** 1-based line of the input where batch i starts. */
MP_API int mp_document_batch_line(const mp_document *doc, size_t i);

/* ------------------------------------------------------------------------ */
/* Validation                                                               */
/* ------------------------------------------------------------------------ */

/** Size limits of the Events API (api.md §2.1), in bytes and counts. */
#define MP_MAX_BATCH_BYTES (128 * 1024)
#define MP_MAX_REQUEST_BYTES (256 * 1024)
#define MP_MAX_BATCHES_PER_REQUEST 100
#define MP_MAX_ATTRIBUTES 100
#define MP_MAX_ATTRIBUTE_NAME_CHARS 256
#define MP_MAX_ATTRIBUTE_VALUE_CHARS 4096
#define MP_MAX_USER_ATTRIBUTE_LIST_ITEMS 1000
#define MP_MAX_USER_ATTRIBUTE_LIST_ITEM_CHARS 512
#define MP_MAX_EVENT_NAME_CHARS 256
/** /bulkevents/historical: every event must be at least this old (api.md §2.4). */
#define MP_HISTORICAL_MIN_AGE_MS (72LL * 3600 * 1000)

/** Options for mp_validate_batch(). Zero-initialise; NULL means all defaults. */
typedef struct mp_validate_options {
    /** Apply the rules of /v2/bulkevents/historical (api.md §2.4). */
    int historical;
    /** "Now" in ms since the epoch for the 72-hour rule; 0 = the current time. */
    int64_t now_unixtime_ms;
} mp_validate_options;

/**
 * Checks a batch against the API's rules and reports every problem, not
 * only the first, each with its JSON path: required fields; enum values;
 * UUID and IP formats; exactly one of product_action, promotion_action and
 * product_impressions in a commerce event; the limits of api.md §2.1
 * (serialized batch <= 128 KB, <= 100 attributes per event and per user,
 * names <= 256 and values <= 4096 characters, user attribute lists <= 1000
 * items of <= 512 characters, event names <= 256 characters, action
 * identifiers <= 100); valid UTF-8 and finite numbers; and with
 * opts->historical the rules of §2.4. Output-only and non-schema fields are
 * warnings, and so are a batch with no user or device identity and a
 * session_start without session_id.
 *
 * Null counts as missing for a required field, except user_attribute_change
 * new/old and user_identity_change old, where null is documented. The size
 * is measured by encoding only when a cheap upper bound passes 128 KB, so
 * typical batches validate without allocating.
 *
 * `batch_index` is stored in each problem (use -1 or 0 for a lone batch).
 * Returns MP_OK when there is no error (warnings allowed), MP_ERR_INVALID
 * otherwise, MP_ERR_INVALID_ARGUMENT for a NULL batch, MP_ERR_NOMEM.
 * Thread-safety: any thread.
 */
MP_API mp_error mp_validate_batch(const mp_batch *batch, const mp_validate_options *opts,
                                  long batch_index, mp_diag *diag);

#ifdef __cplusplus
}
#endif

#endif /* MPARTICLE_CODEC_H */

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
 * input gives a document with no batch). This is the streaming decoder
 * (mp_decoder, below) run over the whole text, without its record limit:
 * the same batches and problems, all kept in one document. For input that
 * need not all be in memory at once, use mp_decoder.
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
/* Streaming decoding                                                       */
/* ------------------------------------------------------------------------ */

/**
 * A decoder that takes its input in chunks and hands batches out one at a
 * time, so that memory follows the largest batch rather than the input:
 * feed bytes as they arrive (a file read 64 KiB at a time, a pipe, a
 * socket), take every batch out with mp_decoder_next() until it asks for
 * more input, and call mp_decoder_finish() at the end of the input.
 *
 * It reads the same input forms as mp_decode() and, whatever the chunks
 * (even one byte at a time), gives exactly the batches, batch indices,
 * lines, ok flags and problems (code, path, message, line and column,
 * counted over the whole input) that mp_decode() gives for the whole text,
 * as long as no batch is larger than the record limit.
 *
 * Memory: the decoder keeps the bytes of the batch being read, one batch's
 * decoded structs and the buffers its lists are gathered in (all reused
 * for the next batch) and small bookkeeping. A batch larger than the
 * record limit (mp_decoder_set_max_record()) is reported and skipped
 * without being kept. Memory comes from the library's allocator
 * (mp_set_allocator()), like mp_decode()'s.
 *
 * Thread-safety: one decoder belongs to one thread at a time; distinct
 * decoders are independent.
 *
 *     mp_decoder *dec;
 *     if (mp_decoder_new(&dec) != MP_OK) ...
 *     for (;;) {
 *         ssize_t n = read(fd, chunk, sizeof chunk);
 *         if (n > 0) mp_decoder_feed(dec, chunk, (size_t)n); else mp_decoder_finish(dec);
 *         mp_decoded_batch b;
 *         mp_decode_status st;
 *         while ((st = mp_decoder_next(dec, &b, diag)) == MP_DECODE_BATCH)
 *             if (b.ok) use(b.batch);     // valid until the next call on dec
 *         if (st != MP_DECODE_NEED_INPUT) break;  // MP_DECODE_END or MP_DECODE_ERROR
 *     }
 *     mp_decoder_free(dec);
 */
typedef struct mp_decoder mp_decoder;

/** The default record limit: a batch of the input larger than this many bytes is skipped. */
#define MP_DECODER_MAX_RECORD ((size_t)64 * 1024 * 1024)

/** What mp_decoder_next() found. */
typedef enum mp_decode_status {
    /** The next batch is in *out. */
    MP_DECODE_BATCH = 1,
    /** Every batch of the input so far was handed out: feed more, or finish. */
    MP_DECODE_NEED_INPUT = 2,
    /** The input was finished and every batch handed out. */
    MP_DECODE_END = 3,
    /** The decoder cannot go on: out of memory (a problem with MP_ERR_NOMEM
     * was added to diag; mp_decoder_error() says MP_ERR_NOMEM), or a NULL
     * dec or out. Every later call says so again. */
    MP_DECODE_ERROR = 4
} mp_decode_status;

/**
 * One batch handed out by mp_decoder_next(), which fills the caller's
 * struct. Its layout is fixed for this SONAME: it never grows (a later
 * version that needs more adds a function), so a program built against
 * any 0.x header can pass one.
 */
typedef struct mp_decoded_batch {
    /** The batch. Borrowed from the decoder: valid until the next call on it
     * (mp_decoder_next(), _feed(), _finish(), _free()). Empty when the batch
     * failed to parse (a syntax error, or over the record limit). */
    const mp_batch *batch;
    /** 0-based index of the batch in the input, as in the problems. */
    long index;
    /** 1-based line of the input where the batch starts. */
    int line;
    /** 1 if it decoded without error, else 0 (its problems went to diag). */
    int ok;
} mp_decoded_batch;

/**
 * New decoder, with the default record limit. Returns MP_OK, or
 * MP_ERR_NOMEM (*out is NULL) or MP_ERR_INVALID_ARGUMENT (out is NULL).
 */
MP_API mp_error mp_decoder_new(mp_decoder **out);

/** Frees the decoder and the batch it holds. NULL is fine. */
MP_API void mp_decoder_free(mp_decoder *dec);

/**
 * Sets the record limit: a batch (an NDJSON record with its lines up to
 * the next line that begins with '{', or an array element) larger than
 * `max_bytes` becomes a failed, empty batch with an MP_ERR_LIMIT problem
 * naming the limit, and its bytes are skipped as they arrive. 0 means no
 * limit (memory then follows the largest batch, whatever it is). Set it
 * before the first feed. Default: MP_DECODER_MAX_RECORD.
 */
MP_API void mp_decoder_set_max_record(mp_decoder *dec, size_t max_bytes);

/**
 * Gives the decoder the next `len` bytes of the input: any chunking, split
 * anywhere (inside a string, a UTF-8 character, a BOM). The bytes are
 * copied as needed; `data` is not referenced after the call. Take the
 * batches out with mp_decoder_next() before feeding more, or the decoder
 * keeps the bytes until then.
 *
 * Returns MP_OK, MP_ERR_NOMEM (the decoder is then unusable, as after
 * MP_DECODE_ERROR), or MP_ERR_INVALID_ARGUMENT (NULL dec, NULL data with
 * len > 0, or input already finished).
 */
MP_API mp_error mp_decoder_feed(mp_decoder *dec, const char *data, size_t len);

/**
 * Says the input has ended, so that what is left can be decoded (a last
 * record without a newline, an unclosed array reported). No feeding after.
 */
MP_API void mp_decoder_finish(mp_decoder *dec);

/**
 * Takes the next batch out. MP_DECODE_BATCH: *out describes it (failed
 * batches included, so indices stay aligned with the input); its problems,
 * with the batch index and JSON path, or line and column for text that is
 * not JSON, were added to `diag` (may be NULL) during this call, exactly as
 * mp_decode() reports them. Problems of the input as a whole (batch -1:
 * text after an array, an array not closed) are added during the call that
 * finds them. MP_DECODE_NEED_INPUT: feed more or finish. MP_DECODE_END:
 * finished and drained. MP_DECODE_ERROR: see mp_decode_status.
 */
MP_API mp_decode_status mp_decoder_next(mp_decoder *dec, mp_decoded_batch *out, mp_diag *diag);

/**
 * The code of the first error found in the input so far, MP_OK while there
 * is none (warnings do not count): at MP_DECODE_END, what mp_decode()
 * returns for the same input. MP_ERR_NOMEM after MP_DECODE_ERROR.
 */
MP_API mp_error mp_decoder_error(const mp_decoder *dec);

/* ------------------------------------------------------------------------ */
/* Validation                                                               */
/* ------------------------------------------------------------------------ */

/** Size limits of the Events API (docs/api-notes.md §2.1), in bytes and counts. */
#define MP_MAX_BATCH_BYTES (128 * 1024)
#define MP_MAX_REQUEST_BYTES (256 * 1024)
#define MP_MAX_BATCHES_PER_REQUEST 100
#define MP_MAX_ATTRIBUTES 100
#define MP_MAX_ATTRIBUTE_NAME_CHARS 256
#define MP_MAX_ATTRIBUTE_VALUE_CHARS 4096
#define MP_MAX_USER_ATTRIBUTE_LIST_ITEMS 1000
#define MP_MAX_USER_ATTRIBUTE_LIST_ITEM_CHARS 512
#define MP_MAX_EVENT_NAME_CHARS 256
/** /bulkevents/historical: every event must be at least this old (docs/api-notes.md §2.4). */
#define MP_HISTORICAL_MIN_AGE_MS (72LL * 3600 * 1000)

/** The current version of mp_validate_options. */
#define MP_VALIDATE_OPTIONS_VERSION 1
#ifdef __cplusplus
#define MP_VALIDATE_OPTIONS_INIT (mp__validate_options_init_value())
#else /* designated: no missing-initializer warning */
#define MP_VALIDATE_OPTIONS_INIT {.version = MP_VALIDATE_OPTIONS_VERSION}
#endif

/**
 * Options for mp_validate_batch(). Initialise with MP_VALIDATE_OPTIONS_INIT
 * (or zero it: version 0 is taken as 1); NULL means all defaults. Fields
 * are only appended, and `version` tells the library which the caller's
 * header had.
 */
typedef struct mp_validate_options {
    /** MP_VALIDATE_OPTIONS_VERSION of the caller's header (0 = 1). */
    unsigned int version;
    /** Apply the rules of /v2/bulkevents/historical (docs/api-notes.md §2.4). */
    int historical;
    /** "Now" in ms since the epoch for the 72-hour rule; 0 = the current time. */
    int64_t now_unixtime_ms;
    /**
     * Keep the official JSON Schema's reading where mParticle's own SDKs or
     * docs contradict it and nothing documents that the API refuses the
     * difference: a list in custom_flags, a number in a screen_view's
     * custom_flags (docs/api-notes.md D-5), a field the schema requires but the docs
     * call optional, such as session_end's session_duration_ms (D-15). 0
     * (the default): those are warnings naming the sources, so that what the
     * official SDKs' examples send is accepted; 1: errors.
     */
    int strict;
} mp_validate_options;

#ifdef __cplusplus
/** MP_VALIDATE_OPTIONS_INIT in C++: value-initialised, with the version set. */
static inline mp_validate_options mp__validate_options_init_value(void) {
    mp_validate_options o = {};
    o.version = MP_VALIDATE_OPTIONS_VERSION;
    return o;
}
#endif

/**
 * Checks a batch against the API's rules and reports every problem, not
 * only the first, each with its JSON path: required fields; enum values;
 * UUID and IP formats; exactly one of product_action, promotion_action and
 * product_impressions in a commerce event; the limits of docs/api-notes.md §2.1
 * (serialized batch <= 128 KB, <= 100 attributes per event and per user,
 * names <= 256 and values <= 4096 characters, user attribute lists <= 1000
 * items of <= 512 characters, event names <= 256 characters, action
 * identifiers <= 100); valid UTF-8 and finite numbers; and with
 * opts->historical the rules of §2.4. Output-only and non-schema fields are
 * warnings, and so are a batch with no user or device identity, a
 * session_start without session_id, and (unless opts->strict) the points
 * where the schema and mParticle's SDKs or docs disagree.
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

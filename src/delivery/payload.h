/*
 * A payload: one batch made ready to send, once. Validated, given its
 * source_request_id, encoded; immutable from then on. The synchronous
 * client sends it, the packer joins payloads into bulk requests, the
 * uploader queues it, and the same bytes go out on every retry, so the
 * server can drop a duplicate by its id.
 *
 * Its JSON is laid out as
 *
 *     {"source_request_id":"ID",ENVELOPE,"events":[EVENTS]}
 *
 * where ENVELOPE is every other member of the batch and EVENTS its events,
 * each found again by offset. Two payloads with the same ENVELOPE (one
 * user, device, consent, context, …) can then be merged into one batch by
 * joining their EVENTS, without decoding anything (uploader.h, `merge`).
 */
#ifndef MP_DELIVERY_PAYLOAD_H
#define MP_DELIVERY_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "mparticle/codec.h"
#include "mparticle/uploader.h"

typedef struct mp__payload {
    const char *json; /* NUL-terminated; what is sent */
    size_t len;
    const char *id;   /* the source_request_id, unescaped, NUL-terminated */
    size_t envelope_off, envelope_len; /* ENVELOPE in json ("" when the batch has nothing else) */
    size_t events_off, events_len;     /* EVENTS in json ("" when it has no events) */
    size_t event_count;
    uint64_t envelope_hash; /* of ENVELOPE */
    int mergeable; /* the id was made here and ENVELOPE holds no events member */
} mp__payload;

typedef struct mp__payload_options {
    int validate;       /* run mp_validate_batch() first */
    int historical;     /* with the rules of /bulkevents/historical (validated even without `validate`) */
    int check_size;     /* refuse JSON over MP_MAX_BATCH_BYTES (MP_ERR_LIMIT) */
    mp_id_mode id_mode; /* for batches without an id of their own */
    long batch_index;   /* carried by problems */
} mp__payload_options;

/*
 * Makes the payload of `batch`. MP_ERR_INVALID (validation problems in
 * diag), MP_ERR_LIMIT (with check_size, the JSON is over
 * MP_MAX_BATCH_BYTES; a problem says so), the encoder's errors, MP_ERR_NOMEM. Free with mp__payload_free().
 * Any thread.
 */
mp_error mp__payload_new(const mp_batch *batch, const mp__payload_options *o, mp__payload **out,
                         mp_diag *diag);
void mp__payload_free(mp__payload *p);

/* What a payload is besides its bytes, as the spool stores it. */
typedef struct mp__payload_meta {
    uint32_t json_len, id_len;
    uint32_t envelope_off, envelope_len;
    uint32_t events_off, events_len;
    uint32_t event_count;
    int mergeable;
} mp__payload_meta;

/* Rebuilds a payload from stored bytes (the spool's records). MP_ERR_IO
 * when the offsets do not fit the JSON; MP_ERR_NOMEM. */
mp_error mp__payload_restore(const char *json, const char *id, const mp__payload_meta *m,
                             mp__payload **out);

/* The envelopes of a and b are the same bytes. */
int mp__payload_same_envelope(const mp__payload *a, const mp__payload *b);

/*
 * Writes the JSON of one batch made of the payloads ps[0..n) (n >= 1, all
 * with the same envelope) under source_request_id `id` (a UUID): their
 * events joined in order. Appends to out. The size it writes is
 * mp__merged_len().
 */
mp_error mp__payload_write_merged(mp_buffer *out, const char *id, mp__payload *const *ps,
                                  size_t n);
size_t mp__merged_len(const mp__payload *first, size_t events_len_sum, size_t n);

#endif

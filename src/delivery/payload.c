/*
 * Payloads (payload.h): validate, give an id, encode once.
 *
 * A batch is encoded in two parts: everything but its events and id (the
 * envelope), then its events alone, each into a per-thread scratch buffer
 * that is reused from call to call; the payload's JSON is then assembled
 * in one exact allocation. The envelope part is what merging compares.
 */
#include "common/alloc.h"
#include "delivery/payload.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "codec/encode_internal.h"
#include "common/diag.h"
#include "common/uuid.h"

#define ID_KEY "{\"source_request_id\":\""
#define ID_KEY_LEN (sizeof ID_KEY - 1)
#define EVENTS_KEY ",\"events\":["
#define EVENTS_KEY_LEN (sizeof EVENTS_KEY - 1)
/* What encoding a batch of events alone gives around them: {"events":[…]} */
#define EVENTS_ONLY_PREFIX "{\"events\":["
#define EVENTS_ONLY_PREFIX_LEN (sizeof EVENTS_ONLY_PREFIX - 1)
/* A scratch buffer that grew past this is not kept for the next call. */
#define SCRATCH_KEEP_MAX (1024 * 1024)

/* ------------------------------------------------------------------------ */
/* Per-thread scratch                                                       */

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static int scratch_key_ok;

static void scratch_destroy(void *buf) {
    mp_buffer_free(buf);
}

static void scratch_key_create(void) {
    scratch_key_ok = pthread_key_create(&scratch_key, scratch_destroy) == 0;
}

/* A cleared buffer for this thread, or a new one that the caller frees
 * when no key could be made (*owned = 1). */
static mp_buffer *scratch_take(int *owned) {
    pthread_once(&scratch_once, scratch_key_create);
    *owned = !scratch_key_ok;
    mp_buffer *b = scratch_key_ok ? pthread_getspecific(scratch_key) : NULL;
    if (b) {
        mp_buffer_clear(b);
        return b;
    }
    b = mp_buffer_new(8192);
    if (b && scratch_key_ok && pthread_setspecific(scratch_key, b) != 0)
        *owned = 1;
    return b;
}

static void scratch_give(mp_buffer *b, int owned, size_t used) {
    if (owned || used > SCRATCH_KEEP_MAX) {
        if (!owned)
            pthread_setspecific(scratch_key, NULL);
        mp_buffer_free(b);
    }
}

/* ------------------------------------------------------------------------ */
/* Assembly                                                                 */

static uint64_t fnv1a(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

/* The parts of a batch's JSON, borrowed from the scratch buffer. */
typedef struct parts {
    const char *id_member; /* "source_request_id":"…" without braces */
    size_t id_member_len;
    const char *envelope;
    size_t envelope_len;
    const char *events;
    size_t events_len;
} parts;

static size_t assembled_len(const parts *pt) {
    return 1 + pt->id_member_len + (pt->envelope_len ? 1 + pt->envelope_len : 0) +
           (pt->events_len ? EVENTS_KEY_LEN + pt->events_len + 1 : 0) + 1;
}

/* {ID,ENVELOPE,"events":[EVENTS]} into out (assembled_len(pt) + 1 bytes),
 * recording where the envelope and the events landed. */
static void assemble(const parts *pt, char *out, mp__payload *p) {
    char *o = out;
    *o++ = '{';
    memcpy(o, pt->id_member, pt->id_member_len);
    o += pt->id_member_len;
    p->envelope_off = (size_t)(o - out) + (pt->envelope_len ? 1 : 0);
    p->envelope_len = pt->envelope_len;
    if (pt->envelope_len) {
        *o++ = ',';
        memcpy(o, pt->envelope, pt->envelope_len);
        o += pt->envelope_len;
    }
    p->events_off = (size_t)(o - out) + (pt->events_len ? EVENTS_KEY_LEN : 0);
    p->events_len = pt->events_len;
    if (pt->events_len) {
        memcpy(o, EVENTS_KEY, EVENTS_KEY_LEN);
        o += EVENTS_KEY_LEN;
        memcpy(o, pt->events, pt->events_len);
        o += pt->events_len;
        *o++ = ']';
    }
    *o++ = '}';
    *o = '\0';
    p->len = (size_t)(o - out);
}

/* The content id: a UUIDv5 of the batch's JSON as it is sent, without its
 * source_request_id member: "{" ENVELOPE ,"events":[EVENTS] "}". */
static void content_id(const parts *pt, char out[MP__UUID_LEN + 1]) {
    mp__sha1_ctx c;
    mp__sha1_init(&c);
    mp__sha1_update(&c, mp__uuid_namespace, 16);
    mp__sha1_update(&c, "{", 1);
    mp__sha1_update(&c, pt->envelope, pt->envelope_len);
    if (pt->events_len) {
        mp__sha1_update(&c, &EVENTS_KEY[pt->envelope_len ? 0 : 1],
                        EVENTS_KEY_LEN - (pt->envelope_len ? 0 : 1));
        mp__sha1_update(&c, pt->events, pt->events_len);
        mp__sha1_update(&c, "]", 1);
    }
    mp__sha1_update(&c, "}", 1);
    mp__uuid_v5_from_sha1(&c, out);
}

/* ------------------------------------------------------------------------ */
/* Encoding the parts                                                       */

static int has_own_id(const mp_batch *b) {
    return b->source_request_id && !MP_IS_NULL(b->source_request_id) && *b->source_request_id;
}

/* Events split off when there are some; a null or empty list stays in the
 * envelope as the encoder writes it (and makes the payload unmergeable). */
static int splits_events(const mp_batch *b) {
    return b->events.count > 0 && !MP_IS_NULL(b->events.items);
}

/* Where the parts lie in the scratch buffer: offsets, since every encode
 * may move its bytes. */
typedef struct part_offsets {
    size_t id_off, id_len; /* the caller's own id member, when it has one */
    size_t env_off, env_len;
    size_t ev_off, ev_len;
} part_offsets;

/* Appends one encoding of b to s; its members (between the braces) are at
 * *off, *len. */
static mp_error encode_members(const mp_batch *b, long index, mp_buffer *s, size_t *off,
                               size_t *len, mp_diag *diag) {
    size_t start = mp_buffer_length(s);
    mp_error err = mp__encode_batch_into(b, s, diag, index);
    if (err)
        return err;
    *off = start + 1;
    *len = mp_buffer_length(s) - start - 2;
    return MP_OK;
}

/* Encodes the caller's id (escaped by the encoder), the envelope, then the
 * events alone (as {"events":[…]}), one after the other into s. */
static mp_error encode_parts(const mp_batch *batch, long index, mp_buffer *s, part_offsets *po,
                             mp_diag *diag) {
    memset(po, 0, sizeof *po);
    mp_error err = MP_OK;
    if (has_own_id(batch)) {
        mp_batch id_only = {0};
        id_only.source_request_id = batch->source_request_id;
        err = encode_members(&id_only, index, s, &po->id_off, &po->id_len, diag);
    }
    mp_batch env = *batch;
    env.source_request_id = NULL;
    int split = splits_events(batch);
    if (split)
        memset(&env.events, 0, sizeof env.events);
    if (!err)
        err = encode_members(&env, index, s, &po->env_off, &po->env_len, diag);
    if (!err && split) {
        mp_batch events_only = {0};
        events_only.events = batch->events;
        size_t off, len;
        err = encode_members(&events_only, index, s, &off, &len, diag);
        /* "events":[ … ] */
        const size_t key = EVENTS_ONLY_PREFIX_LEN - 1;
        if (!err && (len < key + 1 ||
                     memcmp(mp_buffer_data(s) + off, &EVENTS_ONLY_PREFIX[1], key) != 0))
            err = MP_ERR_INVALID_ARGUMENT; /* the encoder's layout changed: a bug */
        po->ev_off = off + key;
        po->ev_len = err ? 0 : len - key - 1;
    }
    return err;
}

static mp_error too_big(size_t len, long index, mp_diag *diag) {
    mp__diag_add(diag, MP_SEVERITY_ERROR, MP_ERR_LIMIT, index, "",
                 "the batch is %zu bytes of JSON; the API's limit is %d (128 KB)", len,
                 MP_MAX_BATCH_BYTES);
    return MP_ERR_LIMIT;
}

static mp_error check(const mp_batch *batch, const mp__payload_options *o, mp_diag *diag) {
    if (!o->validate && !o->historical)
        return MP_OK;
    mp_validate_options vo = {.historical = o->historical};
    return mp_validate_batch(batch, &vo, o->batch_index, diag);
}

static mp_error build(const mp_batch *batch, const mp__payload_options *o, mp_buffer *s,
                      mp__payload **out, mp_diag *diag) {
    part_offsets po;
    mp_error err = encode_parts(batch, o->batch_index, s, &po, diag);
    if (err)
        return err;
    const char *d = mp_buffer_data(s);
    parts pt = {NULL, 0, d + po.env_off, po.env_len, d + po.ev_off, po.ev_len};
    int own = has_own_id(batch);
    char uuid[MP__UUID_LEN + 1];
    char id_member[ID_KEY_LEN + MP__UUID_LEN + 2];
    if (own) {
        pt.id_member = d + po.id_off;
        pt.id_member_len = po.id_len;
    } else {
        if (o->id_mode == MP_ID_CONTENT)
            content_id(&pt, uuid);
        else
            mp__uuid_v4(uuid);
        /* ID_KEY without its brace, the UUID, the closing quote. */
        memcpy(id_member, &ID_KEY[1], ID_KEY_LEN - 1);
        memcpy(id_member + ID_KEY_LEN - 1, uuid, MP__UUID_LEN);
        id_member[ID_KEY_LEN - 1 + MP__UUID_LEN] = '"';
        pt.id_member = id_member;
        pt.id_member_len = ID_KEY_LEN + MP__UUID_LEN;
    }

    const char *raw_id = own ? batch->source_request_id : uuid;
    size_t len = assembled_len(&pt), id_size = strlen(raw_id) + 1;
    if (o->check_size && len > MP_MAX_BATCH_BYTES)
        return too_big(len, o->batch_index, diag);
    mp__payload *p = mp__malloc(sizeof *p + len + 1 + id_size);
    if (!p)
        return MP_ERR_NOMEM;
    char *json = (char *)(p + 1);
    char *id = json + len + 1;
    assemble(&pt, json, p);
    memcpy(id, raw_id, id_size);
    p->json = json;
    p->id = id;
    p->event_count = batch->events.count;
    p->envelope_hash = fnv1a(json + p->envelope_off, p->envelope_len);
    p->mergeable = !own && (splits_events(batch) || (!batch->events.items && !batch->events.count));
    *out = p;
    return MP_OK;
}

/* Whether the batch's JSON is over the API's 128 KB (for the error code
 * of a batch that validation refused: encoded only then). */
static int oversize(const mp_batch *batch, mp_buffer *s) {
    mp_buffer_clear(s);
    return mp__encode_batch_into(batch, s, NULL, -1) == MP_OK &&
           mp_buffer_length(s) > MP_MAX_BATCH_BYTES;
}

mp_error mp__payload_new(const mp_batch *batch, const mp__payload_options *o, mp__payload **out,
                         mp_diag *diag) {
    *out = NULL;
    if (!batch)
        return MP_ERR_INVALID_ARGUMENT;
    int owned;
    mp_buffer *s = scratch_take(&owned);
    if (!s)
        return MP_ERR_NOMEM;
    mp_error err = check(batch, o, diag);
    if (err == MP_ERR_INVALID && o->check_size && oversize(batch, s))
        err = MP_ERR_LIMIT; /* validation said why; the code says which kind */
    else if (err && err != MP_ERR_INVALID_ARGUMENT && err != MP_ERR_NOMEM)
        err = MP_ERR_INVALID;
    if (!err)
        err = build(batch, o, s, out, diag);
    scratch_give(s, owned, mp_buffer_length(s));
    return err;
}

mp_error mp__payload_restore(const char *json, const char *id, const mp__payload_meta *m,
                             mp__payload **out) {
    *out = NULL;
    if ((uint64_t)m->envelope_off + m->envelope_len > m->json_len ||
        (uint64_t)m->events_off + m->events_len > m->json_len)
        return MP_ERR_IO;
    mp__payload *p = mp__malloc(sizeof *p + m->json_len + 1 + m->id_len + 1);
    if (!p)
        return MP_ERR_NOMEM;
    char *j = (char *)(p + 1);
    char *i = j + m->json_len + 1;
    memcpy(j, json, m->json_len);
    j[m->json_len] = '\0';
    memcpy(i, id, m->id_len);
    i[m->id_len] = '\0';
    p->json = j;
    p->len = m->json_len;
    p->id = i;
    p->envelope_off = m->envelope_off;
    p->envelope_len = m->envelope_len;
    p->events_off = m->events_off;
    p->events_len = m->events_len;
    p->event_count = m->event_count;
    p->envelope_hash = fnv1a(j + p->envelope_off, p->envelope_len);
    p->mergeable = m->mergeable;
    *out = p;
    return MP_OK;
}

void mp__payload_free(mp__payload *p) {
    mp__free(p);
}

int mp__payload_same_envelope(const mp__payload *a, const mp__payload *b) {
    return a->envelope_hash == b->envelope_hash && a->envelope_len == b->envelope_len &&
           memcmp(a->json + a->envelope_off, b->json + b->envelope_off, a->envelope_len) == 0;
}

size_t mp__merged_len(const mp__payload *first, size_t events_len_sum, size_t nonempty) {
    return ID_KEY_LEN + MP__UUID_LEN + 1 + (first->envelope_len ? 1 + first->envelope_len : 0) +
           (events_len_sum ? EVENTS_KEY_LEN + events_len_sum + (nonempty - 1) + 1 : 0) + 1;
}

mp_error mp__payload_write_merged(mp_buffer *out, const char *id, mp__payload *const *ps,
                                  size_t n) {
    const mp__payload *first = ps[0];
    mp_error err = mp_buffer_append(out, ID_KEY, ID_KEY_LEN);
    if (!err)
        err = mp_buffer_append(out, id, strlen(id));
    if (!err)
        err = mp_buffer_append(out, "\"", 1);
    if (!err && first->envelope_len) {
        err = mp_buffer_append(out, ",", 1);
        if (!err)
            err = mp_buffer_append(out, first->json + first->envelope_off, first->envelope_len);
    }
    int opened = 0;
    for (size_t i = 0; i < n && !err; i++) {
        if (!ps[i]->events_len)
            continue;
        err = opened ? mp_buffer_append(out, ",", 1) : mp_buffer_append(out, EVENTS_KEY, EVENTS_KEY_LEN);
        opened = 1;
        if (!err)
            err = mp_buffer_append(out, ps[i]->json + ps[i]->events_off, ps[i]->events_len);
    }
    if (!err && opened)
        err = mp_buffer_append(out, "]", 1);
    return err ? err : mp_buffer_append(out, "}", 1);
}

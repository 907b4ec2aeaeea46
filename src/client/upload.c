/*
 * The synchronous calls: a thin loop over the delivery parts. Each batch
 * becomes a payload (validated, given its source_request_id, encoded
 * once), the packer checks that they fit one request, and then one attempt
 * after another goes out until the retry policy says stop, sleeping until
 * the time it names. Every attempt sends the same bytes, so a retried batch
 * keeps its source_request_id and the server can drop the duplicate.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "client/client_internal.h"
#include "codec/json_reader.h"
#include "common/diag.h"
#include "delivery/packer.h"
#include "delivery/payload.h"
#include "transport/response.h"

/* Parsed error bodies are capped so a hostile server cannot grow memory. */
#define MAX_API_ERRORS 100

/* Frees errors[] (every string lies in errors[0..error_count): the count
 * is raised before an element is read). */
static void free_api_errors(mp_result *r) {
    for (size_t i = 0; i < r->error_count; i++) {
        mp__free(r->errors[i].code);
        mp__free(r->errors[i].message);
    }
    mp__free(r->errors);
    r->errors = NULL;
    r->error_count = 0;
}

void mp_result_clear(mp_result *r) {
    if (!r)
        return;
    free_api_errors(r);
    mp__free(r->body);
    unsigned int version = r->version;
    memset(r, 0, sizeof *r);
    r->version = version;
}

void mp__result_start(mp_result *r) {
    mp_result_clear(r);
    r->retry_after_ms = -1;
    r->rate_limit_percentage_used = -1;
}

uint64_t mp__client_random(mp_client *c) {
    pthread_mutex_lock(&c->lock);
    uint64_t x = c->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c->rng = x;
    pthread_mutex_unlock(&c->lock);
    return x;
}

/* ------------------------------------------------------------------------ */
/* The API's error body, read with the decoder's own JSON reader            */

/* A string token's text, decoded into a new block; NULL when out of memory. */
static char *string_of(const char *buf, const mp__jr_token *t) {
    char *s = mp__malloc(mp__jr_raw_len(t) + 1);
    if (s)
        s[mp__jr_unescape(buf, t, s)] = '\0';
    return s;
}

/* Whether the key token k reads `name` (decoded, for a key with escapes). */
static int key_is(const char *buf, const mp__jr_token *k, const char *name) {
    char text[16];
    size_t n = mp__jr_raw_len(k);
    if (n != strlen(name))
        return 0;
    mp__jr_unescape(buf, k, text);
    return memcmp(text, name, n) == 0;
}

/* One element of errors[]: its "code" and "message" strings (the last of
 * each wins, as jansson's reading did); any other value leaves them unset.
 * 0, or -1 on a syntax error or out of memory. */
static int read_api_error(mp__jr *r, mp__jr_keyset *ks, const mp__jr_token *v,
                          mp_api_error *out) {
    if (v->type != MP__JR_LBRACE)
        return mp__jr_skip(r, v, ks);
    int first = 1;
    mp__jr_token k, val;
    for (;;) {
        int more = mp__jr_key(r, &first, &k);
        if (more <= 0)
            return more;
        if (mp__jr_colon(r) != 0 || mp__jr_value(r, &val) != 0)
            return -1;
        char **slot = key_is(r->buf, &k, "code")      ? &out->code
                      : key_is(r->buf, &k, "message") ? &out->message
                                                      : NULL;
        if (slot && val.type == MP__JR_STRING) {
            mp__free(*slot);
            if (!(*slot = string_of(r->buf, &val)))
                return mp__jr_fail_nomem(r);
        } else if (mp__jr_skip(r, &val, ks) != 0) {
            return -1;
        }
    }
}

/* The elements of the errors[] array whose '[' was read, at most
 * MAX_API_ERRORS kept (the rest read and dropped). 0 or -1. */
static int read_api_errors(mp__jr *r, mp__jr_keyset *ks, mp_result *res) {
    int first = 1;
    mp__jr_token v;
    for (;;) {
        int more = mp__jr_next(r, &first);
        if (more <= 0)
            return more;
        if (mp__jr_value(r, &v) != 0)
            return -1;
        if (res->error_count == MAX_API_ERRORS) {
            if (mp__jr_skip(r, &v, ks) != 0)
                return -1;
            continue;
        }
        mp_api_error *e = &res->errors[res->error_count++];
        if (read_api_error(r, ks, &v, e) != 0)
            return -1;
    }
}

/* The body as an object: its "errors" array read into res. 0 or -1. */
static int read_error_body(mp__jr *r, mp__jr_keyset *ks, mp_result *res) {
    mp__jr_token v, k;
    if (mp__jr_value(r, &v) != 0 || v.type != MP__JR_LBRACE)
        return -1;
    int first = 1;
    for (;;) {
        int more = mp__jr_key(r, &first, &k);
        if (more < 0)
            return -1;
        if (more == 0)
            break;
        if (mp__jr_colon(r) != 0 || mp__jr_value(r, &v) != 0)
            return -1;
        if (key_is(r->buf, &k, "errors") && v.type == MP__JR_LBRACKET && !res->errors) {
            res->errors = mp__calloc(MAX_API_ERRORS, sizeof *res->errors);
            if (!res->errors)
                return mp__jr_fail_nomem(r);
            if (read_api_errors(r, ks, res) != 0)
                return -1;
        } else if (mp__jr_skip(r, &v, ks) != 0) {
            return -1;
        }
    }
    /* Nothing but white space may follow the object. */
    for (size_t i = r->pos; i < r->end; i++) {
        char c = r->buf[i];
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
            return -1;
    }
    return 0;
}

/* {"errors":[{"code":…,"message":…}]} → r->errors, every code and message
 * a string ("" when the element had none); a body that is not that JSON
 * leaves r->errors empty, in r->body only. */
static void parse_api_errors(mp_result *r) {
    if (!r->body || r->body_len == 0)
        return;
    mp__jr jr;
    mp__jr_keyset ks;
    mp__jr_init(&jr, r->body, 0, r->body_len);
    mp__jr_keyset_init(&ks, mp__malloc, mp__free);
    int rc = read_error_body(&jr, &ks, r);
    mp__jr_keyset_free(&ks);
    for (size_t i = 0; rc == 0 && i < r->error_count; i++) {
        mp_api_error *e = &r->errors[i];
        if ((!e->code && !(e->code = mp__strdup(""))) || (!e->message && !(e->message = mp__strdup(""))))
            rc = -1;
    }
    if (rc != 0 || !r->error_count)
        free_api_errors(r);
}

static void copy_field(char *dst, size_t cap, const char *src) {
    snprintf(dst, cap, "%s", src ? src : "");
}

/* Drops what an earlier attempt's response said, so that a result never
 * mixes two attempts. */
static void forget_response(mp_result *r) {
    free_api_errors(r);
    mp__free(r->body);
    r->body = NULL;
    r->body_len = 0;
    r->status = 0;
    r->retry_after_ms = -1;
    r->rate_limit_percentage_used = -1;
    r->rate_limit_exceeded[0] = '\0';
}

/* An integer header value, or -1 when absent or malformed. */
static int header_int(const mp_http_response *resp, const char *name) {
    const char *v = mp_http_response_header(resp, name);
    if (!v)
        return -1;
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    while (*end == ' ' || *end == '\t')
        end++;
    if (end == v || *end || errno || n < 0 || n > INT_MAX)
        return -1;
    return (int)n;
}

/* Records what the last response said in the result. */
static void take_response(mp_client *c, mp_result *r, const mp_http_response *resp) {
    forget_response(r);
    r->status = resp->status;
    const char *ra = mp_http_response_header(resp, "Retry-After");
    int64_t wait = ra ? mp__parse_retry_after(ra, mp__realtime_ms()) : -1;
    int64_t cap = c->policy.retry_after_max_ms;
    r->retry_after_ms = wait < 0 ? -1 : (wait > cap ? cap : wait);
    r->rate_limit_percentage_used = header_int(resp, "X-mp-rate-limit-percentage-used");
    copy_field(r->rate_limit_exceeded, sizeof r->rate_limit_exceeded,
               mp_http_response_header(resp, "X-mp-rate-limit-exceeded"));
    if (resp->body_len && (r->body = mp__malloc(resp->body_len + 1)) != NULL) {
        memcpy(r->body, resp->body, resp->body_len);
        r->body[resp->body_len] = '\0';
        r->body_len = resp->body_len;
    }
    parse_api_errors(r);
}

static int64_t gate_remaining(const mp_client *c) {
    int64_t left = mp__gate_until(&c->gate) - mp__monotonic_ms();
    return left > 0 ? left : 0;
}

int64_t mp_client_gate_remaining_ms(const mp_client *c) {
    return c ? gate_remaining(c) : 0;
}

static mp_error rate_limited(mp_result *r, int64_t wait) {
    r->error = MP_ERR_RATE_LIMITED;
    r->outcome = MP_OUTCOME_RETRIABLE;
    r->retry_after_ms = wait;
    snprintf(r->transport_error, sizeof r->transport_error,
             "not sent: rate limited by a 429 for another %lld ms", (long long)wait);
    return MP_ERR_RATE_LIMITED;
}

mp_error mp__client_attempt(mp_client *c, mp_endpoint ep, const char *body, size_t len,
                            mp_result *r, mp_http_response *resp, int (*cancelled)(void *),
                            void *cancel_ctx) {
    mp_http_request req = {"POST", c->urls[ep], c->headers, c->header_count, body, len,
                           c->connect_timeout_ms, c->timeout_ms, cancelled, cancel_ctx};
    mp__response_reset(resp);
    r->transport_error[0] = '\0';
    mp_error err = c->transport.send(c->transport.user_data, &req, resp, r->transport_error,
                                     sizeof r->transport_error);
    r->attempts++;
    if (err == MP_OK && resp->nomem)
        err = MP_ERR_NOMEM;
    if (err == MP_OK) {
        take_response(c, r, resp);
        if (resp->status == 429 && r->retry_after_ms >= 0)
            mp__gate_hold_until(&c->gate, mp__monotonic_ms() + r->retry_after_ms);
    } else {
        forget_response(r);
        if (!r->transport_error[0])
            copy_field(r->transport_error, sizeof r->transport_error, mp_strerror(err));
    }
    r->outcome = mp__outcome_of(err, r->status);
    r->error = err ? err : (r->outcome == MP_OUTCOME_ACCEPTED ? MP_OK : MP_ERR_HTTP);
    if (err == MP_OK && (r->status < 100 || r->status > 599)) {
        r->error = MP_ERR_PROTOCOL;
        snprintf(r->transport_error, sizeof r->transport_error,
                 "HTTP status %d is outside 100..599: the server is broken, not busy",
                 r->status);
    }
    return err;
}


/* Sends body to the endpoint until the retry policy says stop, sleeping
 * until the time it names between attempts. */
static mp_error send_with_retries(mp_client *c, mp_endpoint ep, const char *body, size_t len,
                                  mp_result *r) {
    int64_t start = mp__monotonic_ms();
    mp_http_response resp;
    memset(&resp, 0, sizeof resp);
    for (int attempt = 1;; attempt++) {
        mp_error err = mp__client_attempt(c, ep, body, len, r, &resp, NULL, NULL);
        mp__attempt a = {err, r->status, r->retry_after_ms, attempt, mp__monotonic_ms(),
                         start + c->retry_total_ms, mp__gate_until(&c->gate),
                         mp__client_random(c)};
        int64_t retry_at;
        if (mp__retry_decide(&c->policy, &a, &retry_at) != MP__VERDICT_RETRY)
            break;
        mp__sleep_ms(retry_at - mp__monotonic_ms());
    }
    mp__response_reset(&resp);
    return r->error;
}

static mp_error local_failure(mp_result *r, mp_error err) {
    r->error = err;
    r->outcome = err == MP_ERR_NOMEM ? MP_OUTCOME_RETRIABLE : MP_OUTCOME_REJECTED;
    return err;
}

/* Validation of every batch before any is encoded: an invalid batch must
 * say so, with all its problems, not "try again later". */
static mp_error validate_all(mp_client *c, mp_endpoint ep, const mp_batch *batches, size_t count,
                             mp_diag *diag) {
    if (c->skip_validation && ep != MP_ENDPOINT_BULK_HISTORICAL)
        return MP_OK;
    mp_validate_options vo = {.historical = ep == MP_ENDPOINT_BULK_HISTORICAL};
    mp_error result = MP_OK;
    for (size_t i = 0; i < count; i++) {
        mp_error err = mp_validate_batch(&batches[i], &vo, (long)i, diag);
        if (err == MP_ERR_NOMEM)
            return err;
        if (err)
            result = MP_ERR_INVALID;
    }
    return result;
}

/* The payloads of the batches, already validated, and the request body:
 * the one batch for /events, a packed array otherwise. */
static mp_error prepare(mp_endpoint ep, const mp_batch *batches, size_t count,
                        mp__payload **ps, mp_buffer *body, mp_diag *diag) {
    mp__payload_options po = {.id_mode = MP_ID_RANDOM};
    mp__packer packer;
    mp__packer_start(&packer);
    const char *jsons[MP_MAX_BATCHES_PER_REQUEST];
    size_t lens[MP_MAX_BATCHES_PER_REQUEST];
    mp_error err = MP_OK;
    for (size_t i = 0; i < count; i++) {
        po.batch_index = (long)i;
        mp_error e = mp__payload_new(&batches[i], &po, &ps[i], diag);
        if (e == MP_ERR_NOMEM)
            return e;
        if (e) {
            err = err ? err : e;
            continue;
        }
        jsons[i] = ps[i]->json;
        lens[i] = ps[i]->len;
        mp__packer_add(&packer, ps[i]->len);
    }
    if (err)
        return err;
    if (ep != MP_ENDPOINT_EVENTS && packer.bytes >= MP_MAX_REQUEST_BYTES) {
        mp__diag_add(diag, MP_SEVERITY_ERROR, MP_ERR_LIMIT, -1, "",
                     "request body is %zu bytes; it must be under %d (256 KB)", packer.bytes,
                     MP_MAX_REQUEST_BYTES);
        return MP_ERR_LIMIT;
    }
    if (ep == MP_ENDPOINT_EVENTS)
        return mp_buffer_append(body, jsons[0], lens[0]);
    return mp__pack_write(body, jsons, lens, count);
}

static mp_error upload(mp_client *c, mp_endpoint ep, const mp_batch *batches, size_t count,
                       mp_result *result, mp_diag *diag) {
    mp_result local;
    memset(&local, 0, sizeof local);
    mp_result *r = result ? result : &local;
    mp__result_start(r);
    mp_error err;
    if (!c || !batches || count == 0) {
        err = local_failure(r, MP_ERR_INVALID_ARGUMENT);
        goto out;
    }
    if (count > MP_MAX_BATCHES_PER_REQUEST) {
        mp__diag_add(diag, MP_SEVERITY_ERROR, MP_ERR_LIMIT, -1, "",
                     "%zu batches in one request; the limit is %d", count,
                     MP_MAX_BATCHES_PER_REQUEST);
        err = local_failure(r, MP_ERR_LIMIT);
        goto out;
    }
    if ((err = validate_all(c, ep, batches, count, diag))) {
        local_failure(r, err);
        goto out;
    }
    int64_t gate = gate_remaining(c);
    if (gate > 0) {
        err = rate_limited(r, gate);
        goto out;
    }

    mp__payload *ps[MP_MAX_BATCHES_PER_REQUEST] = {0};
    mp_buffer *body = mp_buffer_new(count * 2048);
    err = body ? prepare(ep, batches, count, ps, body, diag) : MP_ERR_NOMEM;
    if (!err && count == 1)
        copy_field(r->source_request_id, sizeof r->source_request_id, ps[0]->id);
    if (err)
        local_failure(r, err);
    else
        err = send_with_retries(c, ep, mp_buffer_data(body), mp_buffer_length(body), r);
    for (size_t i = 0; i < count; i++)
        mp__payload_free(ps[i]);
    mp_buffer_free(body);
out:
    if (r == &local)
        mp_result_clear(&local);
    return err;
}

mp_error mp_client_upload(mp_client *c, const mp_batch *batch, mp_result *result, mp_diag *diag) {
    return upload(c, MP_ENDPOINT_EVENTS, batch, batch ? 1 : 0, result, diag);
}

mp_error mp_client_upload_bulk(mp_client *c, const mp_batch *batches, size_t count,
                               mp_result *result, mp_diag *diag) {
    return upload(c, MP_ENDPOINT_BULK, batches, count, result, diag);
}

mp_error mp_client_upload_historical(mp_client *c, const mp_batch *batches, size_t count,
                                     mp_result *result, mp_diag *diag) {
    return upload(c, MP_ENDPOINT_BULK_HISTORICAL, batches, count, result, diag);
}

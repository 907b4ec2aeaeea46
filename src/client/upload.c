/*
 * Upload calls: validate, stamp source_request_ids, encode once, then send
 * with retries. Every attempt sends the same bytes, so a retried batch keeps
 * its source_request_id and the server can drop the duplicate.
 */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client_internal.h"
#include "common/diag.h"
#include "transport/response.h"

/* Parsed error bodies are capped so a hostile server cannot grow memory. */
#define MAX_API_ERRORS 100

void mp_result_clear(mp_result *r) {
    if (!r)
        return;
    for (size_t i = 0; i < r->error_count; i++) {
        free(r->errors[i].code);
        free(r->errors[i].message);
    }
    free(r->errors);
    free(r->body);
    memset(r, 0, sizeof *r);
}

static void result_start(mp_result *r) {
    mp_result_clear(r);
    r->retry_after_ms = -1;
    r->rate_limit_percentage_used = -1;
}

static int64_t gate_remaining(mp_client *c) {
    pthread_mutex_lock(&c->lock);
    int64_t left = c->gate_until_ms - mp__monotonic_ms();
    pthread_mutex_unlock(&c->lock);
    return left > 0 ? left : 0;
}

static void gate_close_for(mp_client *c, int64_t ms) {
    pthread_mutex_lock(&c->lock);
    int64_t until = mp__monotonic_ms() + ms;
    if (until > c->gate_until_ms)
        c->gate_until_ms = until;
    pthread_mutex_unlock(&c->lock);
}

/* Full jitter (AWS "Exponential Backoff and Jitter", which mParticle's docs
 * point to): a uniform wait in [0, min(max, initial * 2^(attempt-1))]. */
static int64_t backoff_ms(mp_client *c, int attempt) {
    int64_t ceiling = c->backoff_initial_ms;
    for (int i = 1; i < attempt && ceiling < c->backoff_max_ms; i++)
        ceiling *= 2;
    if (ceiling > c->backoff_max_ms)
        ceiling = c->backoff_max_ms;
    pthread_mutex_lock(&c->lock);
    uint64_t x = c->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c->rng = x;
    pthread_mutex_unlock(&c->lock);
    return (int64_t)(x % (uint64_t)(ceiling + 1));
}

static char *dup_str(const char *s) {
    size_t n = strlen(s);
    char *p = malloc(n + 1);
    if (p)
        memcpy(p, s, n + 1);
    return p;
}

/* {"errors":[{"code":…,"message":…}]} → r->errors; anything else is left in r->body only. */
static void parse_api_errors(mp_result *r) {
    if (!r->body || r->body_len == 0)
        return;
    json_error_t jerr;
    json_t *root = json_loadb(r->body, r->body_len, 0, &jerr);
    json_t *errors = json_is_object(root) ? json_object_get(root, "errors") : NULL;
    size_t n = json_is_array(errors) ? json_array_size(errors) : 0;
    if (n > MAX_API_ERRORS)
        n = MAX_API_ERRORS;
    if (n && (r->errors = calloc(n, sizeof *r->errors)) != NULL) {
        for (size_t i = 0; i < n; i++) {
            json_t *e = json_array_get(errors, i);
            const char *code = json_string_value(json_object_get(e, "code"));
            const char *msg = json_string_value(json_object_get(e, "message"));
            mp_api_error *out = &r->errors[r->error_count];
            out->code = dup_str(code ? code : "");
            out->message = dup_str(msg ? msg : "");
            if (!out->code || !out->message) {
                free(out->code);
                free(out->message);
                break;
            }
            r->error_count++;
        }
    }
    json_decref(root);
}

static void copy_field(char *dst, size_t cap, const char *src) {
    snprintf(dst, cap, "%s", src ? src : "");
}

/* Drops what an earlier attempt's response said, so that a result never
 * mixes two attempts. */
static void forget_response(mp_result *r) {
    for (size_t i = 0; i < r->error_count; i++) {
        free(r->errors[i].code);
        free(r->errors[i].message);
    }
    free(r->errors);
    free(r->body);
    r->errors = NULL;
    r->error_count = 0;
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
    r->retry_after_ms = wait < 0 ? -1 : (wait > c->retry_after_max_ms ? c->retry_after_max_ms : wait);
    r->rate_limit_percentage_used = header_int(resp, "X-mp-rate-limit-percentage-used");
    copy_field(r->rate_limit_exceeded, sizeof r->rate_limit_exceeded,
               mp_http_response_header(resp, "X-mp-rate-limit-exceeded"));
    if (resp->body_len && (r->body = malloc(resp->body_len + 1)) != NULL) {
        memcpy(r->body, resp->body, resp->body_len);
        r->body[resp->body_len] = '\0';
        r->body_len = resp->body_len;
    }
    parse_api_errors(r);
}

static int is_retriable_status(int status) {
    return status == 429 || status == 408 || status >= 500;
}

static mp_outcome outcome_of(mp_error transport_err, int status) {
    if (transport_err == MP_ERR_NETWORK || transport_err == MP_ERR_TIMEOUT ||
        transport_err == MP_ERR_NOMEM)
        return MP_OUTCOME_RETRIABLE;
    if (transport_err)
        return MP_OUTCOME_REJECTED; /* a request that cannot be sent as given */
    if (status >= 200 && status < 300)
        return MP_OUTCOME_ACCEPTED;
    if (is_retriable_status(status))
        return MP_OUTCOME_RETRIABLE;
    if (status == 401 || status == 403)
        return MP_OUTCOME_UNAUTHORIZED;
    return MP_OUTCOME_REJECTED;
}

static mp_error rate_limited(mp_result *r, int64_t wait) {
    r->error = MP_ERR_RATE_LIMITED;
    r->outcome = MP_OUTCOME_RETRIABLE;
    r->retry_after_ms = wait;
    snprintf(r->transport_error, sizeof r->transport_error,
             "not sent: rate limited by a 429 for another %lld ms", (long long)wait);
    return MP_ERR_RATE_LIMITED;
}

/* Sends body to the endpoint, retrying what can be retried. */
static mp_error send_with_retries(mp_client *c, mp_endpoint ep, const char *body, size_t len,
                                  mp_result *r) {
    int64_t start = mp__monotonic_ms();
    mp_http_request req = {"POST", c->urls[ep], c->headers, c->header_count, body, len,
                           c->connect_timeout_ms, c->timeout_ms};
    mp_http_response resp;
    memset(&resp, 0, sizeof resp);
    for (int attempt = 1;; attempt++) {
        int64_t gate = gate_remaining(c);
        if (gate > 0 && attempt == 1) {
            mp__response_reset(&resp);
            return rate_limited(r, gate);
        }
        mp__response_reset(&resp);
        r->transport_error[0] = '\0';
        mp_error err = c->transport.send(c->transport.user_data, &req, &resp, r->transport_error,
                                         sizeof r->transport_error);
        r->attempts++;
        if (err == MP_OK && resp.nomem)
            err = MP_ERR_NOMEM;
        if (err == MP_OK) {
            take_response(c, r, &resp);
            if (resp.status == 429 && r->retry_after_ms >= 0)
                gate_close_for(c, r->retry_after_ms);
        } else {
            forget_response(r);
            if (!r->transport_error[0])
                copy_field(r->transport_error, sizeof r->transport_error, mp_strerror(err));
        }
        r->outcome = outcome_of(err, resp.status);
        r->error = err ? err : (r->outcome == MP_OUTCOME_ACCEPTED ? MP_OK : MP_ERR_HTTP);
        if (r->outcome != MP_OUTCOME_RETRIABLE || err == MP_ERR_NOMEM ||
            attempt >= c->max_attempts)
            break;

        int64_t wait = (err == MP_OK && r->retry_after_ms >= 0) ? r->retry_after_ms
                                                                 : backoff_ms(c, attempt);
        gate = gate_remaining(c);
        if (gate > wait)
            wait = gate;
        if (mp__monotonic_ms() + wait - start > c->retry_total_ms)
            break;
        mp__sleep_ms(wait);
    }
    mp__response_reset(&resp);
    return r->error;
}

static mp_error local_failure(mp_result *r, mp_error err) {
    r->error = err;
    r->outcome = err == MP_ERR_NOMEM ? MP_OUTCOME_RETRIABLE : MP_OUTCOME_REJECTED;
    return err;
}

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

static mp_error upload(mp_client *c, mp_endpoint ep, const mp_batch *batches, size_t count,
                       mp_result *result, mp_diag *diag) {
    mp_result local;
    memset(&local, 0, sizeof local);
    mp_result *r = result ? result : &local;
    result_start(r);
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
    /* Validation first: an invalid batch must say so, not "try again later". */
    if ((err = validate_all(c, ep, batches, count, diag))) {
        local_failure(r, err);
        goto out;
    }
    int64_t gate = gate_remaining(c);
    if (gate > 0) {
        err = rate_limited(r, gate);
        goto out;
    }

    /* Shallow copies that carry a source_request_id; the caller's batches stay untouched. */
    mp_batch *copies = malloc(count * sizeof *copies);
    char(*ids)[37] = malloc(count * sizeof *ids);
    mp_buffer *buf = mp_buffer_new(count * 2048);
    if (!copies || !ids || !buf) {
        err = local_failure(r, MP_ERR_NOMEM);
        goto done;
    }
    for (size_t i = 0; i < count; i++) {
        copies[i] = batches[i];
        const char *id = copies[i].source_request_id;
        if (!id || MP_IS_NULL(id) || !*id) {
            mp__uuid_v4(ids[i]);
            copies[i].source_request_id = ids[i];
        }
    }
    if (count == 1)
        copy_field(r->source_request_id, sizeof r->source_request_id, copies[0].source_request_id);

    err = ep == MP_ENDPOINT_EVENTS ? mp_encode_batch(copies, buf, diag)
                                   : mp_encode_batches(copies, count, buf, diag);
    if (err) {
        local_failure(r, err);
        goto done;
    }
    if (mp_buffer_length(buf) >= MP_MAX_REQUEST_BYTES) {
        mp__diag_add(diag, MP_SEVERITY_ERROR, MP_ERR_LIMIT, -1, "",
                     "request body is %zu bytes; it must be under %d (256 KB)",
                     mp_buffer_length(buf), MP_MAX_REQUEST_BYTES);
        err = local_failure(r, MP_ERR_LIMIT);
        goto done;
    }
    err = send_with_retries(c, ep, mp_buffer_data(buf), mp_buffer_length(buf), r);
done:
    mp_buffer_free(buf);
    free(ids);
    free(copies);
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

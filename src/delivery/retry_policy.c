/* The retry policy of retry_policy.h. */
#include "delivery/retry_policy.h"

static int is_retriable_status(int status) {
    return status == 429 || status == 408 || (status >= 500 && status <= 599);
}

/* HTTP has no status outside 100..599 (RFC 9110 §15): a server that sends
 * one (999) is broken, not busy, and sending again will not mend it. */
static int is_valid_status(int status) {
    return status >= 100 && status <= 599;
}

/* Errors that no retry can fix: the request cannot be sent as given, or the
 * server's certificate is not trusted (it will not be on the next try). */
static int is_retriable_transport_error(mp_error e) {
    return e == MP_ERR_NETWORK || e == MP_ERR_TIMEOUT || e == MP_ERR_NOMEM;
}

mp_outcome mp__outcome_of(mp_error transport_error, int status) {
    if (is_retriable_transport_error(transport_error))
        return MP_OUTCOME_RETRIABLE;
    if (transport_error)
        return MP_OUTCOME_REJECTED; /* cannot be sent as given, or MP_ERR_TLS */
    if (!is_valid_status(status))
        return MP_OUTCOME_REJECTED;
    if (status >= 200 && status < 300)
        return MP_OUTCOME_ACCEPTED;
    if (is_retriable_status(status))
        return MP_OUTCOME_RETRIABLE;
    if (status == 401 || status == 403)
        return MP_OUTCOME_UNAUTHORIZED;
    return MP_OUTCOME_REJECTED;
}

/* Full jitter (AWS "Exponential Backoff and Jitter", which mParticle's docs
 * point to). */
int64_t mp__backoff_ms(const mp__retry_policy *p, int attempt, uint64_t random) {
    int64_t ceiling = p->backoff_initial_ms;
    for (int i = 1; i < attempt && ceiling < p->backoff_max_ms; i++)
        ceiling *= 2;
    if (ceiling > p->backoff_max_ms)
        ceiling = p->backoff_max_ms;
    return (int64_t)(random % (uint64_t)(ceiling + 1));
}

mp__verdict mp__retry_decide(const mp__retry_policy *p, const mp__attempt *a,
                             int64_t *retry_at_ms) {
    switch (mp__outcome_of(a->transport_error, a->status)) {
    case MP_OUTCOME_ACCEPTED:
        return MP__VERDICT_ACCEPTED;
    case MP_OUTCOME_REJECTED:
    case MP_OUTCOME_UNAUTHORIZED:
        return MP__VERDICT_REJECTED;
    case MP_OUTCOME_RETRIABLE:
        break;
    }
    /* Out of memory is not the server's fault, and waiting will not fix it
     * within one call: the caller decides what to do with the data. */
    if (a->transport_error == MP_ERR_NOMEM)
        return MP__VERDICT_GIVE_UP_ATTEMPTS;
    if (p->max_attempts > 0 && a->attempt >= p->max_attempts)
        return MP__VERDICT_GIVE_UP_ATTEMPTS;
    /* Retry-After: 0, or a date already past, says "now", which is what a
     * busy server that answers at once would say forever: five attempts in
     * 60 ms. Only a positive Retry-After replaces the backoff. */
    int64_t wait;
    if (a->transport_error == MP_OK && a->retry_after_ms > 0)
        wait = a->retry_after_ms < p->retry_after_max_ms ? a->retry_after_ms
                                                         : p->retry_after_max_ms;
    else
        wait = mp__backoff_ms(p, a->attempt, a->random);
    int64_t at = a->now_ms + wait;
    if (a->gate_until_ms > at)
        at = a->gate_until_ms;
    if (at > a->deadline_ms)
        return MP__VERDICT_GIVE_UP_DEADLINE;
    *retry_at_ms = at;
    return MP__VERDICT_RETRY;
}

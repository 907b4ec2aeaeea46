/*
 * Unit tests of the delivery parts that the synchronous client and the
 * uploader share (src/delivery/): the retry policy (every verdict, the
 * backoff's bounds, Retry-After and the gate), the rate gate, the packer's
 * limits, and payloads: their JSON decodes back to the batch with its id,
 * ids are random, content-derived or the batch's own, and merged payloads
 * hold every event of their members in order. Also SHA-1 and UUIDv5
 * against published vectors.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/uuid.h"
#include "delivery/packer.h"
#include "delivery/payload.h"
#include "delivery/rate_gate.h"
#include "delivery/retry_policy.h"
#include "mparticle/codec.h"
#include "support/generate.h"
#include "support/test_util.h"

/* ------------------------------------------------------------------------ */
/* SHA-1 and UUIDs                                                          */

static void hex(const unsigned char *b, size_t n, char *out) {
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
}

/* The published vectors, on the code path chosen by mp__sha1_use_hw(). */
static void check_sha1_vectors(void) {
    unsigned char d[20];
    char h[41];
    mp__sha1("abc", 3, d);
    hex(d, 20, h);
    assert_string_equal(h, "a9993e364706816aba3e25717850c26c9cd0d89d");
    mp__sha1("", 0, d);
    hex(d, 20, h);
    assert_string_equal(h, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    mp__sha1(two, strlen(two), d);
    hex(d, 20, h);
    assert_string_equal(h, "84983e441c3bd26ebaae4aa1f95129e5e54670f1");

    /* Fed in uneven pieces: the same digest. */
    static char million[1000000];
    memset(million, 'a', sizeof million);
    mp__sha1_ctx c;
    mp__sha1_init(&c);
    for (size_t off = 0, step = 1; off < sizeof million; off += step, step = step * 3 % 1000 + 1)
        mp__sha1_update(&c, million + off, off + step > sizeof million ? sizeof million - off : step);
    mp__sha1_final(&c, d);
    hex(d, 20, h);
    assert_string_equal(h, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

/* Both code paths: the portable rounds, and the CPU's SHA instructions
 * where it has them (said, so that a machine without them is visible in
 * the log); then both on random messages of every length up to 300 bytes
 * and a long one, which must agree. */
static void test_sha1_vectors(void **state) {
    (void)state;
    mp__sha1_use_hw(0);
    check_sha1_vectors();
    int hw = mp__sha1_use_hw(1);
    print_message("SHA-1: %s\n", hw ? "CPU instructions and portable code both checked"
                                    : "no SHA instructions on this CPU: portable code only");
    check_sha1_vectors();
    if (!hw)
        return;
    static unsigned char msg[100000];
    uint64_t x = 0x243F6A8885A308D3u;
    for (size_t i = 0; i < sizeof msg; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        msg[i] = (unsigned char)x;
    }
    unsigned char a[20], b[20];
    for (size_t n = 0; n <= sizeof msg; n = n < 300 ? n + 1 : n + 33333) {
        mp__sha1_use_hw(0);
        mp__sha1(msg, n, a);
        mp__sha1_use_hw(1);
        mp__sha1(msg, n, b);
        if (memcmp(a, b, 20) != 0)
            fail_msg("SHA-1 paths differ on %zu bytes", n);
    }
}

static void test_uuid_v5_vector(void **state) {
    (void)state;
    /* RFC 9562's namespace for DNS names; Python's uuid.uuid5(NAMESPACE_DNS, "python.org"). */
    static const unsigned char dns[16] = {0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1,
                                          0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8};
    char out[37];
    mp__uuid_v5(dns, "python.org", 10, out);
    assert_string_equal(out, "886313e1-3b8a-5372-9b90-0c9aee199e5d");
}

static void test_uuid_v4_form(void **state) {
    (void)state;
    char a[37], b[37];
    mp__uuid_v4(a);
    mp__uuid_v4(b);
    assert_int_equal(strlen(a), 36);
    assert_int_equal(a[14], '4');
    assert_true(strchr("89ab", a[19]) != NULL);
    assert_string_not_equal(a, b);
}

/* A forked child starts from its parent's generator state: without a
 * reseed its next id would be the parent's next id. */
static void test_uuid_v4_differs_after_fork(void **state) {
    (void)state;
    char warm[37], mine[37], childs[37] = "";
    mp__uuid_v4(warm); /* this thread's generator is seeded */
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char id[37];
        mp__uuid_v4(id);
        _exit(write(fds[1], id, 37) == 37 ? 0 : 1);
    }
    mp__uuid_v4(mine);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(read(fds[0], childs, 37), 37);
    close(fds[0]);
    close(fds[1]);
    assert_int_equal(strlen(childs), 36);
    assert_string_not_equal(mine, childs);
}

/* ------------------------------------------------------------------------ */
/* Retry policy                                                             */

static const mp__retry_policy policy = {5, 100, 1000, 5000};

static mp__attempt attempt(mp_error err, int status, int n) {
    mp__attempt a = {err, status, -1, n, 10000, INT64_MAX, 0, 12345};
    return a;
}

static void test_policy_classifies(void **state) {
    (void)state;
    int64_t at = -1;
    mp__attempt a = attempt(MP_OK, 202, 1);
    assert_int_equal(mp__retry_decide(&policy, &a, &at), MP__VERDICT_ACCEPTED);
    static const int rejected[] = {400, 401, 403, 404, 413, 422};
    for (size_t i = 0; i < sizeof rejected / sizeof *rejected; i++) {
        a = attempt(MP_OK, rejected[i], 1);
        assert_int_equal(mp__retry_decide(&policy, &a, &at), MP__VERDICT_REJECTED);
    }
    static const int retried[] = {408, 429, 500, 502, 503, 504};
    for (size_t i = 0; i < sizeof retried / sizeof *retried; i++) {
        a = attempt(MP_OK, retried[i], 1);
        assert_int_equal(mp__retry_decide(&policy, &a, &at), MP__VERDICT_RETRY);
        assert_true(at >= 10000 && at <= 10100);
    }
    a = attempt(MP_ERR_NETWORK, 0, 1);
    assert_int_equal(mp__retry_decide(&policy, &a, &at), MP__VERDICT_RETRY);
    a = attempt(MP_ERR_TIMEOUT, 0, 1);
    assert_int_equal(mp__retry_decide(&policy, &a, &at), MP__VERDICT_RETRY);
    a = attempt(MP_ERR_INVALID_ARGUMENT, 0, 1);
    assert_int_equal(mp__retry_decide(&policy, &a, &at), MP__VERDICT_REJECTED);
    a = attempt(MP_ERR_NOMEM, 0, 1);
    assert_int_equal(mp__retry_decide(&policy, &a, &at), MP__VERDICT_GIVE_UP_ATTEMPTS);
    assert_int_equal(mp__outcome_of(MP_OK, 401), MP_OUTCOME_UNAUTHORIZED);
    assert_int_equal(mp__outcome_of(MP_OK, 403), MP_OUTCOME_UNAUTHORIZED);
}

static void test_policy_limits(void **state) {
    (void)state;
    int64_t at;
    mp__attempt a = attempt(MP_OK, 503, 5);
    assert_int_equal(mp__retry_decide(&policy, &a, &at), MP__VERDICT_GIVE_UP_ATTEMPTS);
    mp__retry_policy unlimited = policy;
    unlimited.max_attempts = 0;
    a = attempt(MP_OK, 503, 500);
    assert_int_equal(mp__retry_decide(&unlimited, &a, &at), MP__VERDICT_RETRY);
    /* The next try would start after the deadline. */
    a = attempt(MP_OK, 503, 1);
    a.retry_after_ms = 3000;
    a.deadline_ms = a.now_ms + 2999;
    assert_int_equal(mp__retry_decide(&policy, &a, &at), MP__VERDICT_GIVE_UP_DEADLINE);
    a.deadline_ms = a.now_ms + 3000;
    assert_int_equal(mp__retry_decide(&policy, &a, &at), MP__VERDICT_RETRY);
    assert_int_equal(at, a.now_ms + 3000);
}

static void test_policy_retry_after_and_gate(void **state) {
    (void)state;
    int64_t at;
    mp__attempt a = attempt(MP_OK, 429, 1);
    a.retry_after_ms = 2000;
    assert_int_equal(mp__retry_decide(&policy, &a, &at), MP__VERDICT_RETRY);
    assert_int_equal(at, 12000);
    a.retry_after_ms = 60000; /* capped at retry_after_max_ms */
    assert_int_equal(mp__retry_decide(&policy, &a, &at), MP__VERDICT_RETRY);
    assert_int_equal(at, 15000);
    a.retry_after_ms = -1;
    a.gate_until_ms = 19000; /* another request's 429 closed the gate */
    assert_int_equal(mp__retry_decide(&policy, &a, &at), MP__VERDICT_RETRY);
    assert_int_equal(at, 19000);
}

/* Retry-After: 0 (or an HTTP-date already past, which parses to 0) once
 * made the next attempt start at once, five attempts in 60 ms: the
 * backoff applies instead. */
static void test_policy_retry_after_zero_backs_off(void **state) {
    (void)state;
    int64_t at;
    for (int n = 1; n <= 4; n++) {
        mp__attempt a = attempt(MP_OK, 503, n);
        a.retry_after_ms = 0;
        assert_int_equal(mp__retry_decide(&policy, &a, &at), MP__VERDICT_RETRY);
        assert_int_equal(at, a.now_ms + mp__backoff_ms(&policy, n, a.random));
        assert_true(at > a.now_ms); /* the seed 12345 gives a wait above 0 */
    }
}

/* A status outside 100..599 is a broken server, and a certificate that
 * failed verification fails the same way every time: neither is retried. */
static void test_policy_protocol_and_tls_errors_final(void **state) {
    (void)state;
    int64_t at;
    static const int bad[] = {0, 99, 600, 999, -1};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mp__attempt a = attempt(MP_OK, bad[i], 1);
        if (mp__retry_decide(&policy, &a, &at) != MP__VERDICT_REJECTED)
            fail_msg("status %d was not final", bad[i]);
        assert_int_equal(mp__outcome_of(MP_OK, bad[i]), MP_OUTCOME_REJECTED);
    }
    mp__attempt a = attempt(MP_OK, 599, 1);
    assert_int_equal(mp__retry_decide(&policy, &a, &at), MP__VERDICT_RETRY);
    a = attempt(MP_ERR_TLS, 0, 1);
    assert_int_equal(mp__retry_decide(&policy, &a, &at), MP__VERDICT_REJECTED);
    assert_int_equal(mp__outcome_of(MP_ERR_TLS, 0), MP_OUTCOME_REJECTED);
    a = attempt(MP_ERR_NETWORK, 0, 1);
    assert_int_equal(mp__retry_decide(&policy, &a, &at), MP__VERDICT_RETRY);
}

static void test_backoff_bounds(void **state) {
    (void)state;
    /* Ceilings 100, 200, 400, 800, then 1000 for ever; every draw within [0, ceiling]. */
    static const int64_t ceilings[] = {100, 200, 400, 800, 1000, 1000, 1000};
    for (int n = 1; n <= 7; n++) {
        int64_t seen_max = 0;
        uint64_t x = 88172645463325252ull;
        for (int i = 0; i < 2000; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            int64_t b = mp__backoff_ms(&policy, n, x);
            assert_true(b >= 0 && b <= ceilings[n - 1]);
            if (b > seen_max)
                seen_max = b;
        }
        assert_true(seen_max > ceilings[n - 1] * 9 / 10); /* the whole range is used */
    }
}

/* ------------------------------------------------------------------------ */
/* Rate gate and packer                                                     */

static void test_rate_gate(void **state) {
    (void)state;
    mp__rate_gate g;
    mp__gate_init(&g);
    assert_int_equal(mp__gate_until(&g), 0);
    mp__gate_hold_until(&g, 5000);
    assert_int_equal(mp__gate_until(&g), 5000);
    mp__gate_hold_until(&g, 3000); /* a shorter Retry-After never shortens the wait */
    assert_int_equal(mp__gate_until(&g), 5000);
    mp__gate_hold_until(&g, 7000);
    assert_int_equal(mp__gate_until(&g), 7000);
}

static void test_packer_limits(void **state) {
    (void)state;
    mp__packer p;
    mp__packer_start(&p);
    /* 100 batches at most. */
    for (int i = 0; i < 100; i++) {
        assert_true(mp__packer_fits(&p, 10));
        mp__packer_add(&p, 10);
    }
    assert_false(mp__packer_fits(&p, 10));
    assert_int_equal(p.bytes, 2 + 100 * 10 + 99);

    /* Under 256 KB: "[" + a + "," + b + "]" must stay below 262144. */
    mp__packer_start(&p);
    size_t a = 131072;
    assert_true(mp__packer_fits(&p, a));
    mp__packer_add(&p, a);
    size_t b = MP_MAX_REQUEST_BYTES - 2 - a - 1; /* total would be exactly 262144 */
    assert_false(mp__packer_fits(&p, b));
    assert_true(mp__packer_fits(&p, b - 1));
    /* The first batch always fits, whatever its size. */
    mp__packer_start(&p);
    assert_true(mp__packer_fits(&p, 10 * MP_MAX_REQUEST_BYTES));

    mp_buffer *out = mp_buffer_new(0);
    const char *jsons[] = {"{\"a\":1}", "{}", "{\"b\":2}"};
    size_t lens[] = {7, 2, 7};
    assert_int_equal(mp__pack_write(out, jsons, lens, 3), MP_OK);
    assert_string_equal(mp_buffer_data(out), "[{\"a\":1},{},{\"b\":2}]");
    mp_buffer_free(out);
}

/* ------------------------------------------------------------------------ */
/* Payloads                                                                 */

static const mp__payload_options plain = {1, 0, 1, MP_ID_RANDOM, 0};

/* Decodes json, which must hold exactly one batch without problems. */
static mp_document *decode_one(const char *json, size_t len) {
    mp_diag *d = mp_diag_new();
    mp_document *doc = NULL;
    mp_error err = mp_decode(json, len, &doc, d);
    if (err != MP_OK || mp_diag_error_count(d) > 0)
        fail_msg("%s: %s", mp_error_name(err),
                 mp_diag_count(d) ? mp_diag_get(d, 0)->message : "(no problem)");
    assert_int_equal(mp_document_count(doc), 1);
    mp_diag_free(d);
    return doc;
}

/* The payload of every generated variant decodes back to the batch with its id. */
static void test_payload_round_trips(void **state) {
    (void)state;
    mp_gen *g = mp_gen_new(7);
    mp__payload_options o = plain;
    o.validate = 0; /* generated variants include what validation warns about */
    int checked = 0;
    for (int variant = 0; variant < 200; variant++) {
        const mp_batch *b = variant % 2 ? mp_gen_batch(g, variant) : mp_gen_batch_nulls(g, variant);
        mp__payload *p;
        mp_error err = mp__payload_new(b, &o, &p, NULL);
        if (err == MP_ERR_LIMIT)
            continue;
        assert_int_equal(err, MP_OK);
        assert_int_equal(strlen(p->json), p->len);
        mp_document *doc = decode_one(p->json, p->len);
        mp_batch expected = *b;
        if (!expected.source_request_id || MP_IS_NULL(expected.source_request_id) ||
            !*expected.source_request_id)
            expected.source_request_id = p->id;
        char why[256];
        if (!mp_test_batch_equal(&expected, mp_document_batch(doc, 0), why, sizeof why))
            fail_msg("variant %d: %s\n%s", variant, why, p->json);
        /* The offsets find the envelope and the events again. */
        if (p->events_len) {
            assert_int_equal(p->json[p->events_off - 1], '[');
            assert_int_equal(p->json[p->events_off + p->events_len], ']');
        }
        mp_document_free(doc);
        mp__payload_free(p);
        checked++;
    }
    assert_true(checked >= 190);
    mp_gen_free(g);
}

static mp_batch user_batch(mp_event *events, size_t n, const mp_user_identities *ids) {
    mp_batch b;
    memset(&b, 0, sizeof b);
    b.environment = MP_ENVIRONMENT_DEVELOPMENT;
    b.user_identities = ids;
    b.events.items = events;
    b.events.count = n;
    return b;
}

static void custom_event(mp_event *e, const char *name) {
    memset(e, 0, sizeof *e);
    e->event_type = MP_EVENT_CUSTOM_EVENT;
    e->custom_event.event_name = name;
    e->custom_event.custom_event_type = MP_CUSTOM_EVENT_TYPE_OTHER;
}

static void test_payload_ids(void **state) {
    (void)state;
    mp_user_identities ids = {.customer_id = "u1"};
    mp_event ev[2];
    custom_event(&ev[0], "one");
    custom_event(&ev[1], "two");
    mp_batch b = user_batch(ev, 2, &ids);
    mp__payload_options o = plain;
    mp__payload *r1, *r2, *c1, *c2, *c3, *own;

    assert_int_equal(mp__payload_new(&b, &o, &r1, NULL), MP_OK);
    assert_int_equal(mp__payload_new(&b, &o, &r2, NULL), MP_OK);
    assert_string_not_equal(r1->id, r2->id);
    assert_int_equal(r1->id[14], '4');
    assert_true(r1->mergeable);

    o.id_mode = MP_ID_CONTENT;
    assert_int_equal(mp__payload_new(&b, &o, &c1, NULL), MP_OK);
    assert_int_equal(mp__payload_new(&b, &o, &c2, NULL), MP_OK);
    assert_string_equal(c1->id, c2->id);
    assert_int_equal(c1->id[14], '5');
    /* The id is a UUIDv5 of the JSON as sent without the id member. */
    size_t skip = strlen("{\"source_request_id\":\"") + 36 + 2; /* the id member and its comma */
    char *rest = malloc(c1->len);
    assert_non_null(rest);
    rest[0] = '{';
    memcpy(rest + 1, c1->json + skip, c1->len - skip);
    char expect[37];
    mp__uuid_v5(mp__uuid_namespace, rest, c1->len - skip + 1, expect);
    free(rest);
    assert_string_equal(c1->id, expect);
    custom_event(&ev[1], "three");
    assert_int_equal(mp__payload_new(&b, &o, &c3, NULL), MP_OK);
    assert_string_not_equal(c1->id, c3->id);

    /* The batch's own id wins, is escaped in the JSON, and forbids merging. */
    b.source_request_id = "mine \"quoted\"";
    assert_int_equal(mp__payload_new(&b, &o, &own, NULL), MP_OK);
    assert_string_equal(own->id, "mine \"quoted\"");
    assert_non_null(strstr(own->json, "\"source_request_id\":\"mine \\\"quoted\\\"\""));
    assert_false(own->mergeable);
    mp_document *doc = decode_one(own->json, own->len);
    assert_string_equal(mp_document_batch(doc, 0)->source_request_id, "mine \"quoted\"");
    mp_document_free(doc);

    mp__payload_free(r1);
    mp__payload_free(r2);
    mp__payload_free(c1);
    mp__payload_free(c2);
    mp__payload_free(c3);
    mp__payload_free(own);
}

static void test_payload_refusals(void **state) {
    (void)state;
    mp_diag *d = mp_diag_new();
    mp_event ev;
    custom_event(&ev, "x");
    mp_batch b = user_batch(&ev, 1, NULL);
    b.environment = MP_ENVIRONMENT_UNSET; /* required */
    mp__payload *p = (mp__payload *)1;
    assert_int_equal(mp__payload_new(&b, &plain, &p, d), MP_ERR_INVALID);
    assert_null(p);
    assert_true(mp_diag_error_count(d) >= 1);

    /* Over 128 KB: refused with a problem naming the limit. */
    mp_diag_clear(d);
    size_t n = 200;
    mp_event *many = calloc(n, sizeof *many);
    char *name = malloc(1000);
    assert_non_null(many);
    assert_non_null(name);
    memset(name, 'n', 999);
    name[999] = '\0';
    for (size_t i = 0; i < n; i++)
        custom_event(&many[i], name);
    b = user_batch(many, n, NULL);
    mp__payload_options o = plain;
    o.validate = 0;
    assert_int_equal(mp__payload_new(&b, &o, &p, d), MP_ERR_LIMIT);
    assert_non_null(strstr(mp_diag_get(d, 0)->message, "128 KB"));
    o.check_size = 0; /* the client's skip_validation sends it anyway */
    assert_int_equal(mp__payload_new(&b, &o, &p, d), MP_OK);
    assert_true(p->len > MP_MAX_BATCH_BYTES);
    mp__payload_free(p);
    free(many);
    free(name);
    mp_diag_free(d);
}

static void test_payload_merge(void **state) {
    (void)state;
    mp_user_identities ids = {.customer_id = "u1"}, other = {.customer_id = "u2"};
    mp_event e1[1], e2[2], e3[1];
    custom_event(&e1[0], "a");
    custom_event(&e2[0], "b");
    custom_event(&e2[1], "c");
    custom_event(&e3[0], "d");
    mp_batch b1 = user_batch(e1, 1, &ids), b2 = user_batch(e2, 2, &ids),
             b3 = user_batch(e3, 1, &other), none = user_batch(NULL, 0, &ids);
    mp__payload *p1, *p2, *p3, *p0;
    assert_int_equal(mp__payload_new(&b1, &plain, &p1, NULL), MP_OK);
    assert_int_equal(mp__payload_new(&b2, &plain, &p2, NULL), MP_OK);
    assert_int_equal(mp__payload_new(&b3, &plain, &p3, NULL), MP_OK);
    mp__payload_options o = plain;
    o.validate = 0;
    assert_int_equal(mp__payload_new(&none, &o, &p0, NULL), MP_OK);
    assert_true(mp__payload_same_envelope(p1, p2));
    assert_true(mp__payload_same_envelope(p1, p0));
    assert_false(mp__payload_same_envelope(p1, p3));

    mp__payload *members[] = {p1, p0, p2};
    mp_buffer *out = mp_buffer_new(0);
    const char *id = "11111111-2222-5333-8444-555555555555";
    assert_int_equal(mp__payload_write_merged(out, id, members, 3), MP_OK);
    assert_int_equal(mp_buffer_length(out),
                     mp__merged_len(p1, p1->events_len + p2->events_len + p0->events_len, 2));
    mp_document *doc = decode_one(mp_buffer_data(out), mp_buffer_length(out));
    const mp_batch *m = mp_document_batch(doc, 0);
    assert_string_equal(m->source_request_id, id);
    assert_string_equal(m->user_identities->customer_id, "u1");
    assert_int_equal(m->events.count, 3);
    assert_string_equal(m->events.items[0].custom_event.event_name, "a");
    assert_string_equal(m->events.items[1].custom_event.event_name, "b");
    assert_string_equal(m->events.items[2].custom_event.event_name, "c");
    mp_document_free(doc);

    /* Members without events only: no events member at all. */
    mp_buffer_clear(out);
    mp__payload *empties[] = {p0, p0};
    assert_int_equal(mp__payload_write_merged(out, id, empties, 2), MP_OK);
    assert_int_equal(mp_buffer_length(out), mp__merged_len(p0, 0, 0));
    assert_null(strstr(mp_buffer_data(out), "events"));
    mp_buffer_free(out);
    mp__payload_free(p0);
    mp__payload_free(p1);
    mp__payload_free(p2);
    mp__payload_free(p3);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha1_vectors),
        cmocka_unit_test(test_uuid_v5_vector),
        cmocka_unit_test(test_uuid_v4_form),
        cmocka_unit_test(test_uuid_v4_differs_after_fork),
        cmocka_unit_test(test_policy_classifies),
        cmocka_unit_test(test_policy_limits),
        cmocka_unit_test(test_policy_retry_after_and_gate),
        cmocka_unit_test(test_policy_retry_after_zero_backs_off),
        cmocka_unit_test(test_policy_protocol_and_tls_errors_final),
        cmocka_unit_test(test_backoff_bounds),
        cmocka_unit_test(test_rate_gate),
        cmocka_unit_test(test_packer_limits),
        cmocka_unit_test(test_payload_round_trips),
        cmocka_unit_test(test_payload_ids),
        cmocka_unit_test(test_payload_refusals),
        cmocka_unit_test(test_payload_merge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

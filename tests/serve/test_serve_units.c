/*
 * The pieces of `serve` that are easiest to pin down alone: Basic
 * credentials, the structural scanner, the deduplication set, the token
 * bucket, HTTP-dates and the fault generator (src/serve/).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "serve/auth.h"
#include "serve/bucket.h"
#include "serve/dedup.h"
#include "serve/faults.h"
#include "serve/scan.h"
#include "serve/server.h"

/* ------------------------------------------------------------------------ */
/* Basic credentials                                                        */
/* ------------------------------------------------------------------------ */

static mp__srv_auth parse(const char *header, const char **key, const char **secret) {
    static char buf[SRV_AUTH_MAX_HEADER + 1];
    return mp__srv_auth_parse(header, buf, sizeof buf, key, secret);
}

static void test_auth_parse(void **state) {
    (void)state;
    const char *k = NULL, *s = NULL;
    assert_int_equal(parse("Basic ZXhhbXBsZS1hcGkta2V5OmV4YW1wbGUtYXBpLXNlY3JldA==", &k, &s),
                     SRV_AUTH_OK);
    assert_string_equal(k, "example-api-key");
    assert_string_equal(s, "example-api-secret");
    /* Padding is optional, the scheme case-insensitive, spaces around allowed. */
    assert_int_equal(parse("BASIC   ZXhhbXBsZS1hcGkta2V5OmV4YW1wbGUtYXBpLXNlY3JldA  ", &k, &s),
                     SRV_AUTH_OK);
    assert_string_equal(s, "example-api-secret");
    /* Only the first colon splits: secrets may hold colons. */
    assert_int_equal(parse("Basic azpzOnM=", &k, &s), SRV_AUTH_OK); /* "k:s:s" */
    assert_string_equal(k, "k");
    assert_string_equal(s, "s:s");

    assert_int_equal(parse(NULL, &k, &s), SRV_AUTH_MISSING);
    const char *invalid[] = {
        "",  "Basic",  "Basic ",   "Basi",         "Bearer azpz",  "Basicazpz",
        "Basic a",                  /* 1 character: impossible length */
        "Basic azp*",               /* not base64 */
        "Basic az==pz",             /* padding in the middle */
        "Basic azo=",               /* "k:": empty secret */
        "Basic OnM=",               /* ":s": empty key */
        "Basic ays=",               /* "k+": no colon */
        "Basic awBzOnM=",           /* "k\0s:s": a NUL byte */
    };
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
        if (parse(invalid[i], &k, &s) != SRV_AUTH_INVALID)
            fail_msg("'%s' was not refused", invalid[i]);
    }
    /* Longer than any real header: refused without decoding. */
    char *huge = malloc(SRV_AUTH_MAX_HEADER + 16);
    memcpy(huge, "Basic ", 6);
    memset(huge + 6, 'A', SRV_AUTH_MAX_HEADER + 8);
    huge[SRV_AUTH_MAX_HEADER + 14] = '\0';
    assert_int_equal(parse(huge, &k, &s), SRV_AUTH_INVALID);
    free(huge);

    assert_true(mp__srv_auth_equal("abc", "abc"));
    assert_false(mp__srv_auth_equal("abc", "abd"));
    assert_false(mp__srv_auth_equal("abc", "abcd"));
    assert_false(mp__srv_auth_equal("", "a"));
    assert_true(mp__srv_auth_equal("", ""));
}

/* ------------------------------------------------------------------------ */
/* Scanner                                                                  */
/* ------------------------------------------------------------------------ */

static void expect_array(const char *json, size_t count, const char *const *elements) {
    mp__srv_span spans[8];
    size_t n = 99;
    if (mp__srv_scan_array(json, strlen(json), spans, 8, &n) != 0)
        fail_msg("'%s' was not scanned", json);
    assert_int_equal(n, count);
    for (size_t i = 0; i < count && i < 8; i++) {
        char got[256];
        memcpy(got, json + spans[i].off, spans[i].len);
        got[spans[i].len] = '\0';
        assert_string_equal(got, elements[i]);
    }
}

static void test_scan_array(void **state) {
    (void)state;
    expect_array("[]", 0, NULL);
    expect_array(" \r\n\t[ \n ] \n", 0, NULL);
    const char *e1[] = {"{\"a\":1}", "{\"b\":[1,{\"c\":\"]}\"}]}"};
    expect_array("[{\"a\":1} , {\"b\":[1,{\"c\":\"]}\"}]}]", 2, e1);
    /* Escaped quotes and backslashes inside strings. */
    const char *e2[] = {"{\"s\":\"a\\\"],[b\\\\\"}", "\"x\\\"y\"", "true", "-1.5e3", "null"};
    expect_array("[{\"s\":\"a\\\"],[b\\\\\"},\"x\\\"y\",true,-1.5e3,null]", 5, e2);
    /* A byte order mark is allowed at the very start. */
    const char *e3[] = {"{}"};
    expect_array("\xEF\xBB\xBF[{}]", 1, e3);

    const char *bad[] = {"",       "{}",      "[",         "[{}",       "[{},]",     "[,{}]",
                         "[{}{}]", "[{}] x",  "[{\"a\":\"]", "[{]",       "[\"abc]",   "x[]",
                         "[{}],",  "[1 2]",   "[}",        "[\xEF\xBB\xBF{}]", " \xEF\xBB\xBF[]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t n;
        mp__srv_span sp[4];
        if (mp__srv_scan_array(bad[i], strlen(bad[i]), sp, 4, &n) != -1)
            fail_msg("'%s' was scanned as an array", bad[i]);
    }
    /* Counting goes on past the spans asked for. */
    size_t n;
    mp__srv_span one;
    assert_int_equal(mp__srv_scan_array("[1,2,3,4]", 9, &one, 1, &n), 0);
    assert_int_equal(n, 4);
    assert_int_equal(one.off, 1);
    assert_int_equal(one.len, 1);
    assert_int_equal(mp__srv_scan_array("[1,2]", 5, NULL, 0, &n), 0);
    assert_int_equal(n, 2);
}

static void test_scan_object(void **state) {
    (void)state;
    mp__srv_span sp;
    const char *json = "\n  {\"a\":\"}\"}\r\n";
    assert_int_equal(mp__srv_scan_object(json, strlen(json), &sp), 0);
    assert_int_equal(sp.off, 3);
    assert_int_equal(sp.len, 9);
    const char *bad[] = {"", "  ", "[]", "{", "{}{}", "{} x", "\"{}\"", "{\"a\":\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(mp__srv_scan_object(bad[i], strlen(bad[i]), &sp), -1);
    /* Deep nesting needs no recursion. */
    size_t depth = 200000;
    char *deep = malloc(2 * depth + 1);
    memset(deep, '{', depth);
    memset(deep + depth, '}', depth);
    assert_int_equal(mp__srv_scan_object(deep, 2 * depth, &sp), 0);
    assert_int_equal(sp.len, 2 * depth);
    assert_int_equal(mp__srv_scan_object(deep, 2 * depth - 1, &sp), -1);
    free(deep);
}

/* ------------------------------------------------------------------------ */
/* Deduplication                                                            */
/* ------------------------------------------------------------------------ */

static void test_dedup_set(void **state) {
    (void)state;
    mp__srv_dedup *d = mp__srv_dedup_new(1000, 1u << 20);
    assert_int_equal(mp__srv_dedup_add(d, "k", "a"), 0);
    assert_int_equal(mp__srv_dedup_add(d, "k", "a"), 1);
    assert_int_equal(mp__srv_dedup_add(d, "k2", "a"), 0);
    /* The separator keeps ("ab", "c") and ("a", "bc") apart. */
    assert_int_equal(mp__srv_dedup_add(d, "ab", "c"), 0);
    assert_int_equal(mp__srv_dedup_add(d, "a", "bc"), 0);
    assert_int_equal(mp__srv_dedup_count(d), 4);
    /* Growth from the initial ring keeps every id. */
    char id[32];
    for (int i = 0; i < 900; i++) {
        snprintf(id, sizeof id, "id-%d", i);
        assert_int_equal(mp__srv_dedup_add(d, "k", id), 0);
    }
    for (int i = 0; i < 900; i++) {
        snprintf(id, sizeof id, "id-%d", i);
        assert_int_equal(mp__srv_dedup_add(d, "k", id), 1);
    }
    assert_int_equal(mp__srv_dedup_count(d), 904);
    /* Past the capacity the oldest go first: the 100 ids below push out the
     * four oldest entries ("a" under k and k2, "ab"/"c", "a"/"bc"). */
    for (int i = 900; i < 1000; i++) {
        snprintf(id, sizeof id, "id-%d", i);
        assert_int_equal(mp__srv_dedup_add(d, "k", id), 0);
    }
    assert_int_equal(mp__srv_dedup_count(d), 1000);
    assert_int_equal(mp__srv_dedup_add(d, "k", "id-999"), 1);
    assert_int_equal(mp__srv_dedup_add(d, "k", "a"), 0); /* forgotten, so new again */
    assert_int_equal(mp__srv_dedup_add(d, "k2", "a"), 0);
    assert_int_equal(mp__srv_dedup_add(d, "k", "id-0"), 0); /* pushed out by the two above */
    assert_int_equal(mp__srv_dedup_add(d, "k", "id-3"), 1);
    assert_int_equal(mp__srv_dedup_count(d), 1000);
    mp__srv_dedup_free(d);
}

static void test_dedup_byte_budget(void **state) {
    (void)state;
    /* Keys are "k\0" + id: 2 + 8 = 10 bytes each; 35 bytes hold 3. */
    mp__srv_dedup *d = mp__srv_dedup_new(100, 35);
    const char *ids[] = {"aaaaaaaa", "bbbbbbbb", "cccccccc", "dddddddd"};
    for (int i = 0; i < 4; i++)
        assert_int_equal(mp__srv_dedup_add(d, "k", ids[i]), 0);
    assert_int_equal(mp__srv_dedup_count(d), 3);
    assert_int_equal(mp__srv_dedup_add(d, "k", "dddddddd"), 1);
    assert_int_equal(mp__srv_dedup_add(d, "k", "bbbbbbbb"), 1);
    assert_int_equal(mp__srv_dedup_add(d, "k", "aaaaaaaa"), 0); /* evicted, so new again */
    /* An id bigger than the whole budget is kept, alone. */
    char big[64];
    memset(big, 'z', 63);
    big[63] = '\0';
    assert_int_equal(mp__srv_dedup_add(d, "k", big), 0);
    assert_int_equal(mp__srv_dedup_count(d), 1);
    assert_int_equal(mp__srv_dedup_add(d, "k", big), 1);
    mp__srv_dedup_free(d);
    mp__srv_dedup_free(NULL);
}

/* ------------------------------------------------------------------------ */
/* Token bucket                                                             */
/* ------------------------------------------------------------------------ */

#define SEC 1000000000ULL

static void test_bucket(void **state) {
    (void)state;
    mp__srv_bucket b;
    assert_int_equal(mp__srv_bucket_init(&b, 10, 5, 100 * SEC), 0);
    int pct = -1;
    unsigned wait = 0;
    assert_int_equal(mp__srv_bucket_take(&b, 1, 100 * SEC, &pct, &wait), 1);
    assert_int_equal(pct, 20);
    assert_int_equal(mp__srv_bucket_take(&b, 4, 100 * SEC, &pct, &wait), 1);
    assert_int_equal(pct, 100);
    assert_int_equal(mp__srv_bucket_take(&b, 1, 100 * SEC, &pct, &wait), 0);
    assert_int_equal(wait, 1); /* 0.1 s, rounded up to a whole second */
    /* 0.25 s later 2.5 tokens are back. */
    assert_int_equal(mp__srv_bucket_take(&b, 2, 100 * SEC + SEC / 4, &pct, &wait), 1);
    assert_int_equal(pct, 90);
    /* A clock read late by another thread does not refill backwards. */
    assert_int_equal(mp__srv_bucket_take(&b, 1, 100 * SEC, &pct, &wait), 0);
    /* Bigger than the bucket: allowed when full, into debt. */
    assert_int_equal(mp__srv_bucket_take(&b, 30, 200 * SEC, &pct, &wait), 1);
    assert_int_equal(pct, 100);
    assert_int_equal(mp__srv_bucket_take(&b, 1, 200 * SEC, &pct, &wait), 0);
    assert_int_equal(wait, 3); /* from -25 to 1 token: 26 / 10 s */
    assert_int_equal(mp__srv_bucket_take(&b, 1, 203 * SEC, &pct, &wait), 1);
    mp__srv_bucket_destroy(&b);
}

/* ------------------------------------------------------------------------ */
/* HTTP-date and faults                                                     */
/* ------------------------------------------------------------------------ */

static void test_http_date(void **state) {
    (void)state;
    char out[40];
    mp__srv_http_date(784111777, out, sizeof out); /* RFC 9110's example */
    assert_string_equal(out, "Sun, 06 Nov 1994 08:49:37 GMT");
    mp__srv_http_date(0, out, sizeof out);
    assert_string_equal(out, "Thu, 01 Jan 1970 00:00:00 GMT");
    mp__srv_http_date(1709208000, out, sizeof out); /* a leap day */
    assert_string_equal(out, "Thu, 29 Feb 2024 12:00:00 GMT");
}

static void test_faults(void **state) {
    (void)state;
    mp__srv_faults f;
    assert_int_equal(mp__srv_faults_init(&f, 0, 0, 1), 0);
    int script[] = {503, 0, 204, 429};
    assert_int_equal(mp__srv_faults_push(&f, script, 4), 0);
    int status = 0;
    assert_int_equal(mp__srv_faults_next(&f, &status), SRV_FAULT_STATUS);
    assert_int_equal(status, 503);
    assert_int_equal(mp__srv_faults_next(&f, &status), SRV_FAULT_RESET);
    assert_int_equal(mp__srv_faults_next(&f, &status), SRV_FAULT_NONE);
    assert_int_equal(mp__srv_faults_next(&f, &status), SRV_FAULT_STATUS);
    assert_int_equal(status, 429);
    assert_int_equal(mp__srv_faults_next(&f, &status), SRV_FAULT_NONE);
    /* The ring wraps and grows with entries in it. */
    int many[40];
    for (int i = 0; i < 40; i++)
        many[i] = 500 + i % 4;
    assert_int_equal(mp__srv_faults_push(&f, many, 10), 0);
    for (int i = 0; i < 5; i++)
        mp__srv_faults_next(&f, &status);
    assert_int_equal(mp__srv_faults_push(&f, many + 10, 30), 0);
    for (int i = 5; i < 40; i++) {
        assert_int_equal(mp__srv_faults_next(&f, &status), SRV_FAULT_STATUS);
        assert_int_equal(status, 500 + i % 4);
    }
    mp__srv_faults_destroy(&f);

    assert_true(mp__srv_faults_valid_entry(0));
    assert_true(mp__srv_faults_valid_entry(100));
    assert_true(mp__srv_faults_valid_entry(599));
    assert_false(mp__srv_faults_valid_entry(99));
    assert_false(mp__srv_faults_valid_entry(600));
    assert_false(mp__srv_faults_valid_entry(-1));

    /* The same seed, the same faults; rate 0 draws nothing. */
    mp__srv_faults a, b;
    mp__srv_faults_init(&a, 0.5, 0.2, 99);
    mp__srv_faults_init(&b, 0.5, 0.2, 99);
    int seen[3] = {0};
    for (int i = 0; i < 200; i++) {
        int sa = 0, sb = 0;
        mp__srv_fault fa = mp__srv_faults_next(&a, &sa), fb = mp__srv_faults_next(&b, &sb);
        assert_int_equal(fa, fb);
        assert_int_equal(sa, sb);
        seen[fa]++;
    }
    assert_true(seen[SRV_FAULT_NONE] > 40 && seen[SRV_FAULT_STATUS] > 40 &&
                seen[SRV_FAULT_RESET] > 10);
    mp__srv_faults_destroy(&a);
    mp__srv_faults_destroy(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_auth_parse),  cmocka_unit_test(test_scan_array),
        cmocka_unit_test(test_scan_object), cmocka_unit_test(test_dedup_set),
        cmocka_unit_test(test_dedup_byte_budget), cmocka_unit_test(test_bucket),
        cmocka_unit_test(test_http_date),   cmocka_unit_test(test_faults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for mp__parse_retry_after() (src/client/retry_after.c): the
 * Retry-After header of RFC 9110 §10.2.3, as delta-seconds or an HTTP-date in
 * any of the three forms of §5.6.7, relative to a fixed "now" so that every
 * expected delay is exact. Hostile values (huge numbers, absurd days) must
 * give a defined answer: this file is also run under UBSan, where a signed
 * overflow is a failure. */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "client/client_internal.h"

/* 2023-11-14T22:13:20Z, a Tuesday. */
#define NOW 1700000000000LL
/* RFC 9110's example date, Sun, 06 Nov 1994 08:49:37 GMT, in epoch ms. */
#define RFC_EXAMPLE_MS 784111777000LL

static void expect(const char *value, int64_t now_ms, int64_t want) {
    int64_t got = mp__parse_retry_after(value, now_ms);
    if (got != want)
        fail_msg("Retry-After \"%s\" at now=%lld: got %lld, want %lld", value ? value : "(null)",
                 (long long)now_ms, (long long)got, (long long)want);
}

static void test_delta_seconds(void **state) {
    (void)state;
    expect("120", NOW, 120000);
    expect("0", NOW, 0);
    expect("1", NOW, 1000);
    expect("007", NOW, 7000);
    /* Surrounding blanks (and the CR a sloppy transport may leave) are not part of the value. */
    expect(" 7 ", NOW, 7000);
    expect("\t7\t", NOW, 7000);
    expect("7\r", NOW, 7000);
    /* delta-seconds does not depend on the clock. */
    expect("3", 0, 3000);
}

static void test_not_a_value(void **state) {
    (void)state;
    expect(NULL, NOW, -1);
    expect("", NOW, -1);
    expect("   ", NOW, -1);
    expect("-5", NOW, -1);
    expect("+5", NOW, -1);
    expect("1.5", NOW, -1);
    expect("abc", NOW, -1);
    expect("120abc", NOW, -1);
    expect("12 0", NOW, -1);
    expect("0x10", NOW, -1);
    expect("1e3", NOW, -1);
    /* Junk after a number too big to represent is still junk. */
    expect("99999999999999999999abc", NOW, -1);
}

/* Numbers too big for int64 milliseconds saturate: a server cannot make the
 * parser overflow (UB) or wrap into a negative "no value". The caller caps
 * the result at retry_after_max_ms. */
static void test_huge_numbers_saturate(void **state) {
    (void)state;
    /* The largest number of seconds whose milliseconds fit in int64, exactly. */
    expect("9223372036854775", NOW, 9223372036854775000LL);
    /* One more second does not fit: the answer must stay huge and positive. */
    const char *huge[] = {"9223372036854776", "9223372036854779", "9223372036854780",
                          "99999999999999999", "9999999999999999999999999",
                          "1000000000000000000000000"};
    for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
        int64_t got = mp__parse_retry_after(huge[i], NOW);
        if (got < 9223372036854775000LL)
            fail_msg("Retry-After \"%s\": got %lld, want a saturated value >= %lld", huge[i],
                     (long long)got, 9223372036854775000LL);
    }
}

static void test_imf_fixdate(void **state) {
    (void)state;
    expect("Tue, 14 Nov 2023 22:13:25 GMT", NOW, 5000);
    expect("Tue, 14 Nov 2023 22:15:20 GMT", NOW, 120000);
    expect("Wed, 15 Nov 2023 22:13:20 GMT", NOW, 86400000);
    /* "now" inside a second: the delay is to the exact millisecond. */
    expect("Tue, 14 Nov 2023 22:13:25 GMT", NOW + 500, 4500);
    /* Month names are case-insensitive in practice (RFC 9110 says case-sensitive; being lenient costs nothing). */
    expect("Tue, 14 nov 2023 22:13:25 GMT", NOW, 5000);
    /* With now = 0 the answer is the date itself: checks the calendar arithmetic. */
    expect("Sun, 06 Nov 1994 08:49:37 GMT", 0, RFC_EXAMPLE_MS);
    expect("Wed, 21 Oct 2015 07:28:00 GMT", 0, 1445412480000LL);
    expect("Thu, 29 Feb 2024 00:00:00 GMT", 0, 1709164800000LL);
    expect("Wed, 01 Mar 2000 00:00:00 GMT", 0, 951868800000LL);
    expect("Mon, 01 Mar 2100 00:00:00 GMT", 0, 4107542400000LL);
    expect("Fri, 31 Dec 9999 23:59:59 GMT", 0, 253402300799000LL);
    expect("Thu, 01 Jan 1970 00:00:00 GMT", 0, 0);
}

static void test_past_dates_are_zero(void **state) {
    (void)state;
    expect("Tue, 14 Nov 2023 22:13:19 GMT", NOW, 0);
    expect("Tue, 14 Nov 2023 22:13:20 GMT", NOW, 0);
    expect("Sun, 06 Nov 1994 08:49:37 GMT", NOW, 0);
}

static void test_rfc850_date(void **state) {
    (void)state;
    expect("Tuesday, 14-Nov-23 22:13:25 GMT", NOW, 5000);
    expect("Tuesday, 14-Nov-23 22:13:19 GMT", NOW, 0);
    /* RFC 9110 §5.6.7: a two-digit year that would be more than 50 years in
     * the future is the most recent past year with those digits. At 2023,
     * "94" is 1994, in the past, not 2094. */
    expect("Sunday, 06-Nov-94 08:49:37 GMT", NOW, 0);
    expect("Sunday, 06-Nov-94 08:49:37 GMT", 0, RFC_EXAMPLE_MS);
}

static void test_asctime_date(void **state) {
    (void)state;
    expect("Tue Nov 14 22:13:25 2023", NOW, 5000);
    expect("Sun Nov  6 08:49:37 1994", 0, RFC_EXAMPLE_MS);
    expect("Sun Nov  6 08:49:37 1994", NOW, 0);
}

static void test_malformed_dates(void **state) {
    (void)state;
    const char *bad[] = {
        "Tue, 14 Foo 2023 22:13:25 GMT", /* bad month */
        "Tue, 32 Nov 2023 22:13:25 GMT", /* 32nd day */
        "Tue, 00 Nov 2023 22:13:25 GMT", /* day 0 */
        "Tue, 31 Nov 2023 22:13:25 GMT", /* November has 30 days */
        "Thu, 30 Feb 2023 22:13:25 GMT", /* and February 28 */
        "Tue, 14 Nov 2023 22:13:25",     /* missing GMT */
        "Tue, 14 Nov 2023 22:13:25 UTC", /* HTTP-dates are GMT */
        "Tue, 14 Nov 2023 22:13:25 GMT x",
        "Tue, 14 Nov 2023 24:00:00 GMT", /* hour 24 */
        "Tue, 14 Nov 2023 22:60:00 GMT", /* minute 60 */
        "Tue, 14 Nov 2023 22:13 GMT",    /* no seconds */
        "Tue, 14 Nov 23 22:13:25 GMT",   /* two-digit year in IMF-fixdate */
        "Tue, 4 Nov 2023 22:13:25 GMT",  /* one-digit day in IMF-fixdate */
        "Tue,14 Nov 2023 22:13:25 GMT",
        "Thu, 31 Dec 1969 23:59:59 GMT", /* before the epoch */
        "Tuesday, 14-Nov-2023 22:13:25 GMT",
        "Tuesday, 14-Foo-23 22:13:25 GMT",
        "Tuesday, 14-Nov-23 22:13:25",
        "Tue Foo 14 22:13:25 2023",
        "Tue Nov 14 22:13:25 23",
        "Tue Nov 14 22:13:25 2023 GMT",
        "Tue Nov 32 22:13:25 2023",
        /* A day of many digits must be refused, not overflow an int. */
        "Tue Nov 99999999999999999999 22:13:25 2023",
        "Tue Nov 4294967310 22:13:25 2023",
        ",",
        "GMT",
    };
    /* Report every accepted one, not just the first. */
    int failures = 0;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t got = mp__parse_retry_after(bad[i], NOW);
        if (got != -1) {
            print_error("Retry-After \"%s\": got %lld, want -1\n", bad[i], (long long)got);
            failures++;
        }
    }
    assert_int_equal(failures, 0);
}

/* Every truncation of a valid date is refused: the parser never reads past the end. */
static void test_truncated_dates(void **state) {
    (void)state;
    const char *valid[] = {"Tue, 14 Nov 2023 22:13:25 GMT", "Tuesday, 14-Nov-23 22:13:25 GMT",
                           "Tue Nov 14 22:13:25 2023"};
    for (size_t v = 0; v < 3; v++) {
        char buf[64];
        size_t n = strlen(valid[v]);
        for (size_t len = 1; len < n; len++) {
            memcpy(buf, valid[v], len);
            buf[len] = '\0';
            int64_t got = mp__parse_retry_after(buf, NOW);
            /* "Tue, 14 Nov 2023 22:13:25 GM" etc. are not dates; nothing but a digit run is a number. */
            if (got != -1)
                fail_msg("truncated date \"%s\": got %lld, want -1", buf, (long long)got);
        }
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delta_seconds),
        cmocka_unit_test(test_not_a_value),
        cmocka_unit_test(test_huge_numbers_saturate),
        cmocka_unit_test(test_imf_fixdate),
        cmocka_unit_test(test_past_dates_are_zero),
        cmocka_unit_test(test_rfc850_date),
        cmocka_unit_test(test_asctime_date),
        cmocka_unit_test(test_malformed_dates),
        cmocka_unit_test(test_truncated_dates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

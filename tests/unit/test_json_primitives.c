/* Unit tests for the JSON output primitives: exact expected strings for the
 * cases that matter, and seeded random sweeps against independent references
 * (the C library's printf/strtod for numbers, simple byte-at-a-time
 * re-implementations for UTF-8 and escaping). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/json_primitives.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */

/* splitmix64: a fixed-seed generator so that failures reproduce. */
static uint64_t next_random(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

static double double_from_bits(uint64_t bits) {
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

static uint64_t bits_of(double d) {
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    return bits;
}

static int is_finite_bits(uint64_t bits) {
    return ((bits >> 52) & 0x7FF) != 0x7FF;
}

/* Formats into an exactly 32-byte buffer (so that ASan sees any overrun)
 * and returns a NUL-terminated copy in str. 25 bytes is the true worst
 * case ("-0.0000012345678901234567"), so anything longer is a bug. */
static size_t fmt_double_str(double v, char str[40]) {
    char buf[MP__FMT_DOUBLE_MAX];
    size_t len = mp__fmt_double(buf, v);
    assert_true(len >= 1 && len <= 25);
    memcpy(str, buf, len);
    str[len] = '\0';
    return len;
}

static void check_double(double v, const char *expected) {
    char str[40];
    size_t len = fmt_double_str(v, str);
    if (strcmp(str, expected) != 0)
        print_error("mp__fmt_double(%.17g) = \"%s\", expected \"%s\"\n", v, str, expected);
    assert_string_equal(str, expected);
    assert_int_equal(len, strlen(expected));
}

static void check_int64(int64_t v, const char *expected) {
    char buf[MP__FMT_INT64_MAX];
    char str[24];
    size_t len = mp__fmt_int64(buf, v);
    assert_true(len <= sizeof buf);
    memcpy(str, buf, len);
    str[len] = '\0';
    assert_string_equal(str, expected);
}

/* ------------------------------------------------------------------------ */
/* mp__fmt_int64                                                             */

static void test_int64_fixed(void **state) {
    (void)state;
    check_int64(0, "0");
    check_int64(-1, "-1");
    check_int64(1, "1");
    check_int64(9, "9");
    check_int64(10, "10");
    check_int64(99, "99");
    check_int64(100, "100");
    check_int64(-100, "-100");
    check_int64(INT64_MAX, "9223372036854775807");
    check_int64(INT64_MIN, "-9223372036854775808");
    check_int64(INT64_MIN + 1, "-9223372036854775807");
    check_int64(1700000000000, "1700000000000");
    check_int64(-2271448330363288817, "-2271448330363288817");
}

static void check_int64_against_printf(int64_t v) {
    char expected[32];
    snprintf(expected, sizeof expected, "%" PRId64, v);
    check_int64(v, expected);
}

/* Digit counting is where an off-by-one would hide, so every power of ten
 * and of two is tried from both sides, then random values of every width. */
static void test_int64_boundaries_and_random(void **state) {
    (void)state;
    for (int i = 0; i <= 18; i++) {
        int64_t p10 = 1;
        for (int j = 0; j < i; j++)
            p10 *= 10;
        for (int64_t d = -1; d <= 1; d++) {
            check_int64_against_printf(p10 + d);
            check_int64_against_printf(-(p10 + d));
        }
    }
    for (int i = 0; i < 63; i++) {
        int64_t p2 = (int64_t)1 << i;
        for (int64_t d = -1; d <= 1; d++) {
            check_int64_against_printf(p2 + d);
            check_int64_against_printf(-(p2 + d));
        }
    }
    uint64_t rng = 1;
    for (int i = 0; i < 100000; i++) {
        uint64_t r = next_random(&rng);
        /* Shift by a random amount so that short numbers are as common as
         * long ones. */
        int64_t v = (int64_t)(r >> (next_random(&rng) % 64));
        if ((i & 1) && v != INT64_MIN)
            v = -v;
        check_int64_against_printf(v);
    }
}

/* ------------------------------------------------------------------------ */
/* mp__fmt_double: exact strings                                             */

static void test_double_exact(void **state) {
    (void)state;
    volatile double point_one = 0.1, point_two = 0.2; /* keep the sum at run time */
    check_double(19.99, "19.99");
    check_double(123.12, "123.12");
    check_double(83.14, "83.14");
    check_double(39.98, "39.98");
    check_double(0.1, "0.1");
    check_double(0.3, "0.3");
    check_double(point_one + point_two, "0.30000000000000004");
    check_double(1.0, "1");
    check_double(10.0, "10");
    check_double(100.0, "100");
    check_double(-0.5, "-0.5");
    check_double(0.0, "0");
    check_double(-0.0, "-0");
    check_double(-1, "-1");
    check_double(0.95, "0.95");
    check_double(1e21, "1e+21");
    check_double(1e20, "100000000000000000000");
    check_double(123456789012345680000.0, "123456789012345680000");
    check_double(999999999999999900000.0, "999999999999999900000");
    check_double(1e22, "1e+22");
    check_double(1e23, "1e+23");
    check_double(1e-6, "0.000001");
    check_double(-1e-6, "-0.000001");
    check_double(1e-7, "1e-7");
    check_double(1.5e-7, "1.5e-7");
    check_double(double_from_bits(bits_of(1e-6) - 1), "9.999999999999997e-7");
    check_double(1.2345678901234567e-6, "0.0000012345678901234567");
    check_double(-1.2345678901234567e-6, "-0.0000012345678901234567");
    check_double(0.000001234, "0.000001234");
    check_double(2.5e-5, "0.000025");
    check_double(5e-324, "5e-324");
    check_double(-5e-324, "-5e-324");
    check_double(2.2250738585072014e-308, "2.2250738585072014e-308");
    check_double(1.7976931348623157e308, "1.7976931348623157e+308");
    check_double(-1.7976931348623157e308, "-1.7976931348623157e+308");
    check_double(1.2345e+300, "1.2345e+300");
    check_double(1.23e-18, "1.23e-18");
    check_double(9007199254740993.0, "9007199254740992");
    check_double(4295507968.0, "4295507968");
    check_double(1e15, "1000000000000000");
    check_double(999999999999999.0, "999999999999999");
    check_double(999999999999999.9, "999999999999999.9");
    check_double(100000000000000.5, "100000000000000.5");
    check_double(123456789012345.6, "123456789012345.6");
    check_double(1.0000000000000002, "1.0000000000000002");
    check_double(-123.456, "-123.456");
    check_double(4.35, "4.35");
    check_double(0.07, "0.07");
    check_double(1.7e-5, "0.000017");
    check_double(65536.0, "65536");
    check_double(0.5, "0.5");
    check_double(0.25, "0.25");
    check_double(0.125, "0.125");
    check_double(1.0 / 3.0, "0.3333333333333333");
    /* Powers of two, where the gap to the next double below is half the gap
     * above: the nearest 16-digit decimal misses (so 17 digits would be the
     * first precision whose printf rounding reads back), but the 16-digit
     * decimal on the other side reads back and is what Go, JavaScript and
     * Python print. */
    check_double(double_from_bits((uint64_t)(1023 - 1017) << 52), "7.120236347223045e-307");
    check_double(double_from_bits((uint64_t)(1023 - 140) << 52), "7.174648137343064e-43");
    check_double(double_from_bits((uint64_t)(1023 + 89) << 52), "6.189700196426902e+26");
    check_double(double_from_bits((uint64_t)(1023 + 976) << 52), "6.386688990511104e+293");
    check_double(9007199254740992.0, "9007199254740992");
    check_double(2.0 / 3.0, "0.6666666666666666");
}

static void test_double_not_finite(void **state) {
    (void)state;
    char buf[32];
    memset(buf, 'x', sizeof buf);
    assert_int_equal(mp__fmt_double(buf, double_from_bits(0x7FF0000000000000u)), 0);
    assert_int_equal(mp__fmt_double(buf, double_from_bits(0xFFF0000000000000u)), 0);
    assert_int_equal(mp__fmt_double(buf, double_from_bits(0x7FF8000000000000u)), 0);
    assert_int_equal(mp__fmt_double(buf, double_from_bits(0xFFF8000000000001u)), 0);
    assert_int_equal(mp__fmt_double(buf, double_from_bits(0x7FF0000000000001u)), 0);
    for (size_t i = 0; i < sizeof buf; i++)
        assert_int_equal(buf[i], 'x');
}

/* ------------------------------------------------------------------------ */
/* mp__fmt_double: round trips against the C library                         */

/* Checks the shape of the output independently of the value: sign, then
 * either plain digits with at most one '.', or d[.ddd]e(+|-)N; no leading
 * zeros (except the "0." of a fraction), no trailing zeros after a '.',
 * no exponent with a leading zero. Returns the significant digits (leading
 * and trailing zeros stripped) in sig, and whether an exponent was used. */
static void check_shape(const char *s, char sig[40], int *has_exponent) {
    const char *p = s;
    if (*p == '-')
        p++;
    assert_true(*p >= '0' && *p <= '9');
    const char *mant = p;
    while ((*p >= '0' && *p <= '9') || *p == '.')
        p++;
    size_t mant_len = (size_t)(p - mant);
    const char *dot = memchr(mant, '.', mant_len);
    if (dot != NULL) {
        assert_ptr_equal(memchr(dot + 1, '.', mant_len - (size_t)(dot + 1 - mant)), NULL);
        assert_true(dot + 1 < mant + mant_len);      /* something after the '.' */
        assert_true(mant[mant_len - 1] != '0');       /* no trailing zeros */
    }
    if (mant[0] == '0' && mant_len > 1)
        assert_true(mant[1] == '.'); /* "0.x" but never "01" */
    *has_exponent = *p == 'e';
    if (*has_exponent) {
        assert_true(dot == NULL || dot == mant + 1); /* one digit before the '.' */
        assert_true(mant[0] != '0');
        p++;
        assert_true(*p == '+' || *p == '-');
        p++;
        assert_true(*p >= '1' && *p <= '9');
        while (*p >= '0' && *p <= '9')
            p++;
    }
    assert_int_equal(*p, '\0');

    size_t n = 0;
    for (const char *q = mant; q < mant + mant_len; q++) {
        if (*q == '.' || (n == 0 && *q == '0'))
            continue;
        sig[n++] = *q;
    }
    while (n > 1 && sig[n - 1] == '0')
        n--;
    if (n == 0)
        sig[n++] = '0';
    sig[n] = '\0';
}

/* A decimal m x 10^e, for the reference checks. */
typedef struct decimal {
    uint64_t m;
    int e;
} decimal;

static uint64_t pow10_u64(int n) {
    uint64_t p = 1;
    while (n-- > 0)
        p *= 10;
    return p;
}

/* printf's correctly rounded q-digit decimal of a > 0. */
static decimal printf_nearest(double a, int q) {
    char buf[64];
    snprintf(buf, sizeof buf, "%.*e", q - 1, a);
    decimal d = {0, 0};
    const char *c = buf;
    for (; *c != 'e'; c++)
        if (*c >= '0' && *c <= '9')
            d.m = d.m * 10 + (uint64_t)(*c - '0');
    d.e = atoi(c + 1) - (q - 1);
    return d;
}

static double decimal_value(decimal d) {
    char buf[48];
    snprintf(buf, sizeof buf, "%" PRIu64 "e%d", d.m, d.e);
    return strtod(buf, NULL);
}

/* The q-digit decimal next to d, above or below it. */
static decimal neighbour(decimal d, int q, int up) {
    if (up) {
        if (++d.m == pow10_u64(q)) {
            d.m = pow10_u64(q - 1);
            d.e++;
        }
    } else if (--d.m < pow10_u64(q - 1)) {
        d.m = pow10_u64(q) - 1; /* the grid below a power of ten is finer */
        d.e--;
    }
    return d;
}

/* Does any q-digit decimal read back as a? Only the two either side of a
 * can: printf's nearest, and its neighbour on the far side of a. If one
 * does, *found is set to it (the nearest, if both do). */
static int q_digits_read_back(double a, int q, decimal *found) {
    decimal near = printf_nearest(a, q);
    double back = decimal_value(near);
    if (back == a) {
        *found = near;
        return 1;
    }
    decimal far = neighbour(near, q, back < a);
    if (decimal_value(far) == a) {
        *found = far;
        return 1;
    }
    return 0;
}

static void decimal_digits(decimal d, char out[24]) {
    while (d.m % 10 == 0 && d.m != 0)
        d.m /= 10;
    snprintf(out, 24, "%" PRIu64, d.m);
}

enum check_depth {
    READ_BACK,        /* reads back, shape and notation only */
    NEAREST_SHORTEST, /* also: the nearest of the shortest, and one digit fewer fails */
    EVERY_SHORTER     /* also: every shorter length fails */
};

/* Checks one value: the output reads back to the same bits and has the
 * right notation for its magnitude; deeper, its digits are those of the
 * shortest decimal that reads back, and the nearest to v of those as short,
 * found independently with printf and strtod. Trying only one digit fewer
 * settles minimality as long as "some q-digit decimal reads back" is
 * monotonic in q, which the EVERY_SHORTER samples check. */
static void check_round_trip(double v, enum check_depth depth) {
    char str[40];
    fmt_double_str(v, str);
    if (bits_of(strtod(str, NULL)) != bits_of(v))
        print_error("%.17g printed as \"%s\" does not read back\n", v, str);
    assert_true(bits_of(strtod(str, NULL)) == bits_of(v));

    char sig[40];
    int has_exponent;
    check_shape(str, sig, &has_exponent);
    double a = v < 0 ? -v : v;
    assert_int_equal(has_exponent, a != 0 && (a < 1e-6 || a >= 1e21));
    if (depth == READ_BACK || a == 0)
        return;

    int p = (int)strlen(sig);
    assert_true(p >= 1 && p <= 17);
    decimal expected;
    assert_true(q_digits_read_back(a, p, &expected));
    char expected_digits[24];
    decimal_digits(expected, expected_digits);
    if (strcmp(sig, expected_digits) != 0)
        print_error("%.17g printed as \"%s\", expected digits %s\n", v, str, expected_digits);
    assert_string_equal(sig, expected_digits);

    int lo = depth == EVERY_SHORTER ? 1 : p - 1;
    for (int q = lo < 1 ? 1 : lo; q < p; q++) {
        decimal shorter;
        if (q_digits_read_back(a, q, &shorter))
            print_error("%.17g printed as \"%s\", but %" PRIu64 "e%d reads back too\n", v, str,
                        shorter.m, shorter.e);
        assert_false(q_digits_read_back(a, q, &shorter));
    }
}

static void test_double_round_trip_random_bits(void **state) {
    (void)state;
    uint64_t rng = 42;
    int checked = 0;
    /* Random bit patterns are almost all outside the fast path, where one
     * value costs a few microseconds of printf and strtod (the printf
     * comparisons below cost as much again, so they are done for a sample);
     * 500k keeps the test at a few seconds under ASan. */
    for (int i = 0; i < 500000; i++) {
        uint64_t bits = next_random(&rng);
        if (!is_finite_bits(bits))
            continue;
        enum check_depth depth = i % 64 == 0 ? EVERY_SHORTER
                                 : i % 8 == 0 ? NEAREST_SHORTEST
                                              : READ_BACK;
        check_round_trip(double_from_bits(bits), depth);
        checked++;
    }
    assert_true(checked > 495000);
}

/* Values whose exponent field is small or large enough to stress the ends
 * of the range: subnormals, near DBL_MIN, near DBL_MAX, powers of two. */
static void test_double_round_trip_edges(void **state) {
    (void)state;
    uint64_t rng = 7;
    for (int i = 0; i < 6000; i++) {
        uint64_t r = next_random(&rng);
        uint64_t mantissa = r & 0x000FFFFFFFFFFFFFu;
        uint64_t exps[] = {0, 1, 2, 0x7FE, 0x7FD, r >> 53};
        uint64_t e = exps[i % 6] & 0x7FF;
        if (e == 0x7FF)
            e = 0x7FE;
        check_round_trip(double_from_bits((e << 52) | mantissa), EVERY_SHORTER);
    }
    for (uint64_t e = 0; e < 0x7FF; e++) {
        check_round_trip(double_from_bits(e << 52), EVERY_SHORTER);
        check_round_trip(double_from_bits((e << 52) | 1), NEAREST_SHORTEST);
        check_round_trip(double_from_bits((e << 52) | 0x000FFFFFFFFFFFFFu), NEAREST_SHORTEST);
    }
}

/* The canonical spelling of m / 10^k: what a shortest formatter must print
 * whenever m has at most 15 significant digits (DBL_DIG), as such decimals
 * survive the trip through a double unchanged. */
static void decimal_string(uint64_t m, int k, int negative, char *out) {
    char digits[32];
    int nd = snprintf(digits, sizeof digits, "%" PRIu64, m);
    char *o = out;
    if (negative)
        *o++ = '-';
    if (k == 0) {
        strcpy(o, digits);
        return;
    }
    if (nd > k) {
        memcpy(o, digits, (size_t)(nd - k));
        o += nd - k;
        *o++ = '.';
        strcpy(o, digits + nd - k);
    } else {
        *o++ = '0';
        *o++ = '.';
        for (int i = 0; i < k - nd; i++)
            *o++ = '0';
        strcpy(o, digits);
        o += nd;
    }
    /* Drop trailing fraction zeros, and the '.' if nothing is left. */
    size_t len = strlen(out);
    while (out[len - 1] == '0')
        out[--len] = '\0';
    if (out[len - 1] == '.')
        out[--len] = '\0';
}

static void test_double_round_trip_nice_decimals(void **state) {
    (void)state;
    static const double p10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                 1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    uint64_t rng = 99;
    int exact_checked = 0;
    for (int i = 0; i < 200000; i++) {
        int digits = 1 + (int)(next_random(&rng) % 17);
        uint64_t limit = 1;
        for (int d = 0; d < digits; d++)
            limit *= 10;
        uint64_t m = next_random(&rng) % limit;
        if (m == 0)
            m = 1;
        int k = (int)(next_random(&rng) % 23);
        int negative = (int)(next_random(&rng) & 1);
        /* For m < 2^53 both operands are exact, so this is the double
         * nearest m/10^k, just as strtod makes of the decimal text. */
        double v = (double)m / p10[k];
        if (negative)
            v = -v;
        check_round_trip(v, i % 8 == 0 ? NEAREST_SHORTEST : READ_BACK);

        double a = v < 0 ? -v : v;
        if (m < 1000000000000000u && a >= 1e-6 && a < 1e21) {
            char expected[64], str[40];
            decimal_string(m, k, negative, expected);
            fmt_double_str(v, str);
            if (strcmp(str, expected) != 0)
                print_error("%" PRIu64 "e-%d printed as \"%s\"\n", m, k, str);
            assert_string_equal(str, expected);
            exact_checked++;
        }
    }
    assert_true(exact_checked > 50000);
}

/* ------------------------------------------------------------------------ */
/* mp__fmt_double under a locale with a decimal comma                        */

static int restore_c_locale(void **state) {
    (void)state;
    setlocale(LC_ALL, "C");
    return 0;
}

static void test_double_locale_independent(void **state) {
    (void)state;
    static const char *const candidates[] = {
        "de_DE.UTF-8", "de_DE.utf8", "de_DE", "fr_FR.UTF-8", "fr_FR.utf8", "fr_FR",
        "ru_RU.UTF-8", "nl_NL.UTF-8", "es_ES.UTF-8", "it_IT.UTF-8", "pt_BR.UTF-8",
    };
    const char *found = NULL;
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0] && found == NULL; i++) {
        if (setlocale(LC_NUMERIC, candidates[i]) != NULL &&
            strcmp(localeconv()->decimal_point, ".") != 0)
            found = candidates[i];
    }
    if (found == NULL) {
        print_message("no locale with a decimal comma is installed; skipping\n");
        skip();
        return;
    }
    /* Make sure the locale really is in force for the C library. */
    char probe[16];
    snprintf(probe, sizeof probe, "%.2f", 19.99);
    assert_string_not_equal(probe, "19.99");

    volatile double point_one = 0.1, point_two = 0.2;
    check_double(19.99, "19.99");                         /* fast path */
    check_double(point_one + point_two, "0.30000000000000004"); /* printf path */
    check_double(123456789012345680000.0, "123456789012345680000");
    check_double(1.5e-7, "1.5e-7");
    check_double(1.7976931348623157e308, "1.7976931348623157e+308");
    check_double(5e-324, "5e-324");
    check_double(-0.5, "-0.5");
    check_double(1e21, "1e+21");

    /* Also a sample of everything, compared as digits so that the locale's
     * own strtod (which wants a comma) is not needed to read them back. */
    uint64_t rng = 5;
    for (int i = 0; i < 2000; i++) {
        uint64_t bits = next_random(&rng);
        if (!is_finite_bits(bits))
            continue;
        char str[40];
        fmt_double_str(double_from_bits(bits), str);
        assert_null(strchr(str, ','));
        char sig[40];
        int has_exponent;
        check_shape(str, sig, &has_exponent);
    }
    setlocale(LC_NUMERIC, "C");
}

/* ------------------------------------------------------------------------ */
/* UTF-8                                                                     */

/* Reference validator: decodes each sequence to a code point and checks it
 * against the RFC 3629 rules directly (rather than by byte ranges). */
static int reference_utf8_valid(const unsigned char *s, size_t n, size_t *bad) {
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t len;
        uint32_t cp, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            len = 2, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4, cp = c & 0x07, min = 0x10000;
        } else {
            *bad = i;
            return 0;
        }
        if (n - i < len) {
            *bad = i;
            return 0;
        }
        for (size_t j = 1; j < len; j++) {
            if ((s[i + j] & 0xC0) != 0x80) {
                *bad = i;
                return 0;
            }
            cp = (cp << 6) | (s[i + j] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            *bad = i;
            return 0;
        }
        i += len;
    }
    return 1;
}

static size_t reference_utf8_length(const unsigned char *s, size_t n) {
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        count += (s[i] & 0xC0) != 0x80;
    return count;
}

/* Copies s into an exactly sized heap block so that ASan catches reads
 * past the end. */
static char *exact_copy(const char *s, size_t n) {
    char *p = malloc(n == 0 ? 1 : n);
    assert_non_null(p);
    if (n > 0)
        memcpy(p, s, n);
    return p;
}

static void check_utf8(const char *s, size_t n, int valid, size_t offset) {
    char *copy = exact_copy(s, n);
    size_t bad = (size_t)-7;
    int got = mp__utf8_valid(copy, n, &bad);
    assert_int_equal(got, valid);
    if (!valid)
        assert_int_equal(bad, offset);
    else
        assert_int_equal(bad, (size_t)-7); /* untouched */
    size_t ref_bad = 0;
    assert_int_equal(reference_utf8_valid((const unsigned char *)s, n, &ref_bad), valid);
    if (!valid)
        assert_int_equal(ref_bad, offset);
    free(copy);
}

#define UTF8_OK(lit) check_utf8((lit), sizeof(lit) - 1, 1, 0)
#define UTF8_BAD(lit, off) check_utf8((lit), sizeof(lit) - 1, 0, (off))

static void test_utf8_valid(void **state) {
    (void)state;
    UTF8_OK("");
    UTF8_OK("plain ASCII, long enough to take the word-at-a-time path");
    UTF8_OK("\x7f");
    UTF8_OK("caf\xc3\xa9");
    UTF8_OK("\xc2\x80");             /* U+0080, smallest 2-byte */
    UTF8_OK("\xdf\xbf");             /* U+07FF */
    UTF8_OK("\xe0\xa0\x80");         /* U+0800, smallest 3-byte */
    UTF8_OK("\xe2\x82\xac");         /* U+20AC euro */
    UTF8_OK("\xed\x9f\xbf");         /* U+D7FF, just below the surrogates */
    UTF8_OK("\xee\x80\x80");         /* U+E000, just above */
    UTF8_OK("\xef\xbf\xbf");         /* U+FFFF */
    UTF8_OK("\xf0\x90\x80\x80");     /* U+10000, smallest 4-byte */
    UTF8_OK("\xf0\x9f\x98\x80");     /* U+1F600 emoji */
    UTF8_OK("\xf4\x8f\xbf\xbf");     /* U+10FFFF, the largest */
    UTF8_OK("0123456789abcdef\xf0\x9f\x98\x80" "0123456789abcdef\xe2\x82\xac");

    UTF8_BAD("\x80", 0);                   /* lone continuation */
    UTF8_BAD("abc\x80", 3);
    UTF8_BAD("\xbf", 0);
    UTF8_BAD("\xc0\xaf", 0);               /* overlong '/' */
    UTF8_BAD("\xc1\xbf", 0);               /* overlong */
    UTF8_BAD("\xe0\x80\xaf", 0);           /* overlong 3-byte */
    UTF8_BAD("\xe0\x9f\xbf", 0);           /* overlong U+07FF */
    UTF8_BAD("\xf0\x80\x80\xaf", 0);       /* overlong 4-byte */
    UTF8_BAD("\xf0\x8f\xbf\xbf", 0);       /* overlong U+FFFF */
    UTF8_BAD("\xed\xa0\x80", 0);           /* U+D800 surrogate */
    UTF8_BAD("\xed\xbf\xbf", 0);           /* U+DFFF surrogate */
    UTF8_BAD("\xf4\x90\x80\x80", 0);       /* U+110000 */
    UTF8_BAD("\xf5\x80\x80\x80", 0);
    UTF8_BAD("\xf5", 0);
    UTF8_BAD("\xff", 0);
    UTF8_BAD("\xfe", 0);
    UTF8_BAD("\xe2\x82", 0);               /* truncated at the end */
    UTF8_BAD("ok \xe2\x82", 3);
    UTF8_BAD("\xf0\x9f\x98", 0);
    UTF8_BAD("\xc3", 0);
    UTF8_BAD("\xc3" "a", 0);               /* lead byte, then no continuation */
    UTF8_BAD("\xe2\x82" "a", 0);
    UTF8_BAD("caf\xc3\xa9\x80", 5);        /* valid char, then a stray continuation */
    UTF8_BAD("0123456789abcdef0123456789abcdef\xc3\xa9xyz\xed\xa0\x80", 37);

    /* bad_offset is optional. */
    assert_int_equal(mp__utf8_valid("ok", 2, NULL), 1);
    assert_int_equal(mp__utf8_valid("\xff", 1, NULL), 0);
    assert_int_equal(mp__utf8_valid(NULL, 0, NULL), 1);
}

static void test_utf8_length(void **state) {
    (void)state;
    assert_int_equal(mp__utf8_length("caf\xc3\xa9", 5), 4);
    assert_int_equal(mp__utf8_length("", 0), 0);
    assert_int_equal(mp__utf8_length(NULL, 0), 0);
    assert_int_equal(mp__utf8_length("abcdefghijklmnopqrstuvwxyz", 26), 26);
    assert_int_equal(mp__utf8_length("\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xe2\x82\xac", 11), 3);
    assert_int_equal(mp__utf8_length("\xf4\x8f\xbf\xbf", 4), 1);
}

/* Random byte strings, biased towards the interesting bytes, through the
 * validator, the length counter and the escaper at once. */
static void test_utf8_random(void **state) {
    (void)state;
    static const unsigned char alphabet[] = {
        'a', 'b', ' ', '"', '\\', 0x00, 0x01, 0x1f, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf,
        0xc0, 0xc1, 0xc2, 0xc3, 0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf3,
        0xf4, 0xf5, 0xff};
    uint64_t rng = 3;
    int valid_seen = 0, invalid_seen = 0;
    for (int iter = 0; iter < 60000; iter++) {
        unsigned char s[80];
        size_t n = (size_t)(next_random(&rng) % sizeof s);
        /* Mostly ASCII with a few interesting bytes, so that both valid and
         * invalid strings come up often. */
        for (size_t i = 0; i < n; i++) {
            uint64_t r = next_random(&rng);
            s[i] = (r % 8 != 0) ? (unsigned char)('a' + r % 26) : alphabet[(r >> 8) % sizeof alphabet];
        }
        /* Sometimes plant a well-formed multi-byte character. */
        if (n >= 4 && iter % 3 == 0) {
            static const char *const chars[] = {"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
                                                "\xf4\x8f\xbf\xbf", "\xed\x9f\xbf"};
            const char *c = chars[next_random(&rng) % 5];
            size_t at = (size_t)(next_random(&rng) % (n - strlen(c) + 1));
            memcpy(s + at, c, strlen(c));
        }
        size_t ref_bad = 0, bad = 0;
        char *copy = exact_copy((const char *)s, n);
        int ref_valid = reference_utf8_valid(s, n, &ref_bad);
        assert_int_equal(mp__utf8_valid(copy, n, &bad), ref_valid);
        if (ref_valid) {
            assert_int_equal(mp__utf8_length(copy, n), reference_utf8_length(s, n));
            valid_seen++;
        } else {
            assert_int_equal(bad, ref_bad);
            invalid_seen++;
        }
        free(copy);
    }
    assert_true(valid_seen > 1000 && invalid_seen > 1000);
}

/* ------------------------------------------------------------------------ */
/* mp__json_escape                                                           */

/* Byte-at-a-time reference escaper; UTF-8 validity comes from the
 * reference validator. */
static size_t reference_escape(char *out, const unsigned char *s, size_t n) {
    char *o = out;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        switch (c) {
        case '"': o += sprintf(o, "\\\""); break;
        case '\\': o += sprintf(o, "\\\\"); break;
        case '\b': o += sprintf(o, "\\b"); break;
        case '\f': o += sprintf(o, "\\f"); break;
        case '\n': o += sprintf(o, "\\n"); break;
        case '\r': o += sprintf(o, "\\r"); break;
        case '\t': o += sprintf(o, "\\t"); break;
        default:
            if (c < 0x20)
                o += sprintf(o, "\\u%04x", c);
            else
                *o++ = (char)c;
        }
    }
    return (size_t)(o - out);
}

/* Escapes s through exactly sized input and output heap blocks (so ASan
 * sees any stray read or write) and returns the result as a fresh
 * NUL-terminated string, or NULL with *bad set if it was rejected. */
static char *escape_checked(const char *s, size_t n, size_t *bad) {
    char *in = exact_copy(s, n);
    char *out = malloc(n == 0 ? 1 : 6 * n);
    assert_non_null(out);
    size_t len = mp__json_escape(out, in, n, bad);
    char *result = NULL;
    if (len != SIZE_MAX) {
        assert_true(len <= 6 * n);
        result = malloc(len + 1);
        assert_non_null(result);
        memcpy(result, out, len);
        result[len] = '\0';
    }
    free(in);
    free(out);
    return result;
}

static void check_escape(const char *s, size_t n, const char *expected) {
    size_t bad = 0;
    char *got = escape_checked(s, n, &bad);
    assert_non_null(got);
    assert_string_equal(got, expected);
    free(got);
}

#define ESCAPE(lit, expected) check_escape((lit), sizeof(lit) - 1, (expected))

static void check_escape_against_reference(const unsigned char *s, size_t n) {
    size_t ref_bad = 0, bad = 0;
    int valid = reference_utf8_valid(s, n, &ref_bad);
    char *got = escape_checked((const char *)s, n, &bad);
    if (!valid) {
        assert_null(got);
        assert_int_equal(bad, ref_bad);
        return;
    }
    assert_non_null(got);
    char expected[6 * 128 + 1];
    assert_true(n <= 128);
    size_t len = reference_escape(expected, s, n);
    expected[len] = '\0';
    assert_int_equal(strlen(got), len);
    assert_memory_equal(got, expected, len);
    free(got);
}

static void test_escape_classes(void **state) {
    (void)state;
    ESCAPE("", "");
    ESCAPE("\"", "\\\"");
    ESCAPE("\\", "\\\\");
    ESCAPE("\b", "\\b");
    ESCAPE("\f", "\\f");
    ESCAPE("\n", "\\n");
    ESCAPE("\r", "\\r");
    ESCAPE("\t", "\\t");
    ESCAPE("\x01", "\\u0001");
    ESCAPE("\x0b", "\\u000b");
    ESCAPE("\x1f", "\\u001f");
    ESCAPE("\x7f", "\x7f");
    ESCAPE("/", "/");
    ESCAPE("\xc3\xa9", "\xc3\xa9");
    ESCAPE("\xe2\x82\xac", "\xe2\x82\xac");
    ESCAPE("\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80");
    ESCAPE("caf\xc3\xa9 \"quoted\" 0", "caf\xc3\xa9 \\\"quoted\\\" 0");
    /* An embedded NUL is data, not a terminator. */
    check_escape("a\0b", 3, "a\\u0000b");
}

static void test_escape_all_ascii(void **state) {
    (void)state;
    char all[0x7f];
    for (int c = 1; c <= 0x7f; c++)
        all[c - 1] = (char)c;
    check_escape(all, sizeof all,
                 "\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r"
                 "\\u000e\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017"
                 "\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f"
                 " !\\\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\\\]^_`"
                 "abcdefghijklmnopqrstuvwxyz{|}~\x7f");
}

/* Every length around the 8- and 16-byte word boundaries, clean and with
 * each kind of special byte at every position. */
static void test_escape_every_position(void **state) {
    (void)state;
    static const char *const specials[] = {"\"", "\\", "\n", "\x01", "\x1f", "\x7f",
                                           "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
                                           "\x80", "\xc3", "\xed\xa0\x80", "\xff"};
    unsigned char s[128];
    for (size_t len = 0; len <= 40; len++) {
        for (size_t i = 0; i < len; i++)
            s[i] = (unsigned char)('A' + i % 26);
        check_escape_against_reference(s, len);
        for (size_t k = 0; k < sizeof specials / sizeof specials[0]; k++) {
            size_t sl = strlen(specials[k]);
            for (size_t pos = 0; pos <= len; pos++) {
                /* Special inserted at pos: total length len + sl. */
                for (size_t i = 0; i < pos; i++)
                    s[i] = (unsigned char)('a' + i % 26);
                memcpy(s + pos, specials[k], sl);
                for (size_t i = pos + sl; i < len + sl; i++)
                    s[i] = (unsigned char)('a' + i % 26);
                check_escape_against_reference(s, len + sl);
            }
        }
    }
}

static void test_escape_invalid_in_long_run(void **state) {
    (void)state;
    char s[1000];
    memset(s, 'x', sizeof s);
    s[517] = (char)0xff;
    size_t bad = 0;
    assert_null(escape_checked(s, sizeof s, &bad));
    assert_int_equal(bad, 517);

    /* After some escapes and valid multi-byte characters. */
    memcpy(s + 10, "\"\\\n\xc3\xa9", 5);
    s[517] = 'x';
    s[700] = (char)0xed;
    s[701] = (char)0xa0;
    s[702] = (char)0x80;
    assert_null(escape_checked(s, sizeof s, &bad));
    assert_int_equal(bad, 700);

    /* Truncated at the very end. */
    s[700] = 'x', s[701] = 'x', s[702] = 'x';
    s[998] = (char)0xe2;
    s[999] = (char)0x82;
    assert_null(escape_checked(s, sizeof s, &bad));
    assert_int_equal(bad, 998);

    /* bad_offset is optional. */
    char out[6 * sizeof s];
    assert_true(mp__json_escape(out, s, sizeof s, NULL) == SIZE_MAX);
    assert_true(mp__json_escape(out, NULL, 0, NULL) == 0);

    /* And the same string made valid escapes to the expected length. */
    s[999] = 'x';
    s[998] = 'x';
    char *got = escape_checked(s, sizeof s, &bad);
    assert_non_null(got);
    assert_int_equal(strlen(got), 1000 + 3);
    free(got);
}

static void test_escape_random(void **state) {
    (void)state;
    static const unsigned char alphabet[] = {'"', '\\', '\n', '\t', 0x00, 0x1f, 0x7f,
                                             0x80, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xed, 0xf0,
                                             0x9f, 0x98, 0xf4, 0x8f, 0xbf, 0xff};
    uint64_t rng = 11;
    for (int iter = 0; iter < 40000; iter++) {
        unsigned char s[128];
        size_t n = (size_t)(next_random(&rng) % (sizeof s + 1));
        unsigned sparsity = 1 + (unsigned)(next_random(&rng) % 40);
        for (size_t i = 0; i < n; i++) {
            uint64_t r = next_random(&rng);
            s[i] = (r % sparsity != 0) ? (unsigned char)(' ' + r % 95)
                                       : alphabet[(r >> 8) % sizeof alphabet];
        }
        check_escape_against_reference(s, n);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_int64_fixed),
        cmocka_unit_test(test_int64_boundaries_and_random),
        cmocka_unit_test(test_double_exact),
        cmocka_unit_test(test_double_not_finite),
        cmocka_unit_test(test_double_round_trip_random_bits),
        cmocka_unit_test(test_double_round_trip_edges),
        cmocka_unit_test(test_double_round_trip_nice_decimals),
        cmocka_unit_test_teardown(test_double_locale_independent, restore_c_locale),
        cmocka_unit_test(test_utf8_valid),
        cmocka_unit_test(test_utf8_length),
        cmocka_unit_test(test_utf8_random),
        cmocka_unit_test(test_escape_classes),
        cmocka_unit_test(test_escape_all_ascii),
        cmocka_unit_test(test_escape_every_position),
        cmocka_unit_test(test_escape_invalid_in_long_run),
        cmocka_unit_test(test_escape_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

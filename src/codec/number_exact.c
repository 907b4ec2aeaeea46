/*
 * Whether a JSON number survives as a double. The decoder stores every real
 * number in a double and the encoder writes the shortest decimal that reads
 * back to it, so "19.99" stays "19.99" but "1e-400" becomes "0" and
 * "12345678901234567890" becomes "12345678901234567000". The value then
 * differs from what the user wrote, which must not happen silently: the
 * decoder warns, with the path, whenever the two decimals differ in value.
 *
 * Values are compared as decimals, never as doubles: each side becomes its
 * significant digits (no leading or trailing zeros) and a power of ten, so
 * "1.50", "15e-1" and "1.5" are the same and "0.1" matches the "0.1" the
 * encoder writes even though no double is exactly 0.1.
 */
#include <limits.h>
#include <stddef.h>
#include <string.h>

#include "codec/decode_internal.h"
#include "codec/json_primitives.h"

/* A shortest double has at most 17 significant digits; one more is enough
 * to tell that a longer input differs from it. */
#define MAX_DIGITS 18

/* A decimal as 0.DIGITS x 10^exp10, DIGITS without leading or trailing
 * zeros; zero has no digits. `overlong` is set when more than MAX_DIGITS
 * significant digits were seen (only the first ones are kept). */
typedef struct decimal {
    int negative;
    char digits[MAX_DIGITS];
    size_t count;
    int overlong;
    long exp10;
} decimal;

/* Exponents saturate here: beyond, every double is 0 or infinite anyway. */
#define EXP_LIMIT 100000L

static long add_clamped(long a, long b) {
    long s = a + b;
    if (s > EXP_LIMIT)
        return EXP_LIMIT;
    if (s < -EXP_LIMIT)
        return -EXP_LIMIT;
    return s;
}

/* The explicit exponent after 'e' or 'E' at s[i..n). */
static long read_exponent(const char *s, size_t i, size_t n) {
    int neg = 0;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    long e = 0;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
        if (e < EXP_LIMIT)
            e = e * 10 + (s[i] - '0');
    return neg ? -e : e;
}

/* Parses valid JSON number syntax (or the encoder's output) into *d. */
static void parse_decimal(const char *s, size_t n, decimal *d) {
    memset(d, 0, sizeof *d);
    size_t i = 0;
    if (i < n && s[i] == '-') {
        d->negative = 1;
        i++;
    }
    long point = 0;         /* digits before the decimal point, leading zeros excluded */
    int seen_nonzero = 0, in_fraction = 0;
    size_t pending_zeros = 0; /* zeros after the last nonzero digit, maybe trailing */
    for (; i < n; i++) {
        char c = s[i];
        if (c == '.') {
            in_fraction = 1;
            continue;
        }
        if (c < '0' || c > '9')
            break;
        if (!seen_nonzero) {
            if (c == '0') {
                if (in_fraction)
                    point--; /* 0.001: the point moves right of these zeros */
                continue;
            }
            seen_nonzero = 1;
        }
        if (!in_fraction)
            point++;
        if (c == '0') {
            pending_zeros++;
            continue;
        }
        for (; pending_zeros > 0; pending_zeros--) {
            if (d->count < MAX_DIGITS)
                d->digits[d->count++] = '0';
            else
                d->overlong = 1;
        }
        if (d->count < MAX_DIGITS)
            d->digits[d->count++] = c;
        else
            d->overlong = 1;
    }
    long e = (i < n && (s[i] == 'e' || s[i] == 'E')) ? read_exponent(s, i + 1, n) : 0;
    d->exp10 = d->count ? add_clamped(point, e) : 0;
    if (!d->count)
        d->negative = 0; /* -0 and 0 are the same number here */
}

static int same_decimal(const decimal *a, const decimal *b) {
    return !a->overlong && !b->overlong && a->negative == b->negative &&
           a->count == b->count && a->exp10 == b->exp10 &&
           memcmp(a->digits, b->digits, a->count) == 0;
}

int mp__number_kept_exactly(const char *text, size_t n, double x, char *shown,
                            size_t shown_cap) {
    char out[32];
    size_t len = mp__fmt_double(out, x);
    if (shown && shown_cap) {
        size_t k = len < shown_cap - 1 ? len : shown_cap - 1;
        memcpy(shown, out, k);
        shown[k] = '\0';
    }
    if (len == 0)
        return 0; /* infinite: the reader reports that as an error already */
    decimal in, back;
    parse_decimal(text, n, &in);
    parse_decimal(out, len, &back);
    return same_decimal(&in, &back);
}

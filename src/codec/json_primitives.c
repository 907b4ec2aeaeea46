#include "codec/json_primitives.h"

#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The double formatting below reads IEEE binary64 bits and relies on exact
 * powers of ten up to 1e22, which only hold for that format. */
#if FLT_RADIX != 2 || DBL_MANT_DIG != 53 || DBL_MAX_EXP != 1024
#error "json_primitives.c needs IEEE 754 binary64 doubles"
#endif
_Static_assert(sizeof(double) == sizeof(uint64_t), "double must be 64 bits");

/* The fast double path compares a quotient for exact equality; with excess
 * precision (x87) that quotient would be double-rounded, so there only the
 * always-correct slow path is used. */
#if defined(FLT_EVAL_METHOD) && (FLT_EVAL_METHOD == 0 || FLT_EVAL_METHOD == 1)
#define MP__EXACT_DOUBLE_OPS 1
#else
#define MP__EXACT_DOUBLE_OPS 0
#endif

/* GCC and Clang builtins and vector types make the hot loops faster; every
 * use has a plain C11 alternative, which other compilers get. Defining
 * MP__PORTABLE_C selects the plain versions anywhere, so that tests can
 * cover them too. */
#if (defined(__GNUC__) || defined(__clang__)) && !defined(MP__PORTABLE_C)
#define MP__GNU_EXTENSIONS 1
#else
#define MP__GNU_EXTENSIONS 0
#endif

#if MP__GNU_EXTENSIONS
#define MP__LIKELY(x) __builtin_expect(!!(x), 1)
#define MP__UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define MP__LIKELY(x) (x)
#define MP__UNLIKELY(x) (x)
#endif

/* ------------------------------------------------------------------------ */
/* Integers                                                                  */

static const uint64_t pow10_u64[20] = {
    1u,                 10u,                 100u,                 1000u,
    10000u,             100000u,             1000000u,             10000000u,
    100000000u,         1000000000u,         10000000000u,         100000000000u,
    1000000000000u,     10000000000000u,     100000000000000u,     1000000000000000u,
    10000000000000000u, 100000000000000000u, 1000000000000000000u, 10000000000000000000u};

static unsigned decimal_digits(uint64_t u) {
#if MP__GNU_EXTENSIONS
    /* log10 from log2 (1233/4096 ~ log10(2)), then one compare to fix the
     * estimate. Counting 0 as 1 gives it its one digit and keeps clz defined. */
    uint64_t x = u | 1u;
    unsigned bits = 64u - (unsigned)__builtin_clzll(x);
    unsigned t = (bits * 1233u) >> 12;
    return t + (x >= pow10_u64[t]);
#else
    unsigned n = 1;
    while (n < 20 && u >= pow10_u64[n])
        n++;
    return n;
#endif
}

/* Stores the 8 bytes of w, lowest first: one store on little-endian
 * targets, byte by byte elsewhere (compilers do not always merge those). */
static void store_le64(char *p, uint64_t w) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(p, &w, sizeof w);
#else
    for (int i = 0; i < 8; i++)
        p[i] = (char)(w >> (8 * i));
#endif
}

/* The 8 decimal digits of v < 10^8, zero-padded, as ASCII bytes in a word
 * whose lowest byte is the first digit. All in registers (SWAR): v is split
 * into 4-digit halves, each half into 2-digit lanes and each of those into
 * digits, with multiply-shift divisions exact for the ranges involved:
 * (x * 10486) >> 20 is x / 100 for x < 10^4 and (x * 103) >> 10 is x / 10
 * for x < 100. No tables and no branches. */
static uint64_t eight_digits(uint32_t v) {
    uint64_t halves = (uint64_t)(v / 10000) | ((uint64_t)(v % 10000) << 32);
    uint64_t hundreds = ((halves * 10486u) >> 20) & 0x0000007F0000007Fu;
    uint64_t pairs = ((halves - 100u * hundreds) << 16) | hundreds;
    uint64_t tens = ((pairs * 103u) >> 10) & 0x000F000F000F000Fu;
    uint64_t digits = ((pairs - 10u * tens) << 8) | tens;
    return digits + 0x3030303030303030u;
}

/* The last n (1..8) digits of v < 10^8 at p. Writes 8 bytes: the ones past
 * p + n are garbage for the caller to overwrite or ignore. */
static void put_last_digits(char *p, uint32_t v, unsigned n) {
    store_le64(p, eight_digits(v) >> (8 * (8 - n)));
}

/* Writes u right-aligned in exactly `len` characters, padding with leading
 * zeros; len must be at least the number of digits of u. May write up to
 * out + 8 when len < 8 (callers' worst-case sizes allow it). Chunks of 8
 * digits keep the work in 32-bit arithmetic and registers. */
static void put_digits(char *out, uint64_t u, unsigned len) {
    if (len <= 8) {
        put_last_digits(out, (uint32_t)u, len);
        return;
    }
    if (len <= 16) {
        put_last_digits(out, (uint32_t)(u / 100000000u), len - 8);
        store_le64(out + len - 8, eight_digits((uint32_t)(u % 100000000u)));
        return;
    }
    /* 17 to 23 digits (write_fixed pads up to 23): the top part is below
     * 2^64 / 10^16 < 10^4, with leading zeros at most 7 characters. */
    uint64_t top = u / 10000000000000000u, rest = u % 10000000000000000u;
    put_last_digits(out, (uint32_t)top, len - 16);
    store_le64(out + len - 16, eight_digits((uint32_t)(rest / 100000000u)));
    store_le64(out + len - 8, eight_digits((uint32_t)(rest % 100000000u)));
}

static char *put_u64(char *out, uint64_t u) {
    unsigned len = decimal_digits(u);
    put_digits(out, u, len);
    return out + len;
}

size_t mp__fmt_int64(char *out, int64_t v) {
    /* Negate in unsigned arithmetic so INT64_MIN does not overflow. */
    uint64_t u = (uint64_t)v;
    char *o = out;
    if (v < 0) {
        *o++ = '-';
        u = 0u - u;
    }
    return (size_t)(put_u64(o, u) - out);
}

/* ------------------------------------------------------------------------ */
/* Doubles                                                                   */

/* Every entry is exactly representable, which the fast path depends on. */
static const double pow10_dbl[23] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

#define MP__FAST_LIMIT 1e15 /* below 2^50, see shortest_fixed() */
#define MP__MAX_SIG_DIGITS 17 /* enough for any double to round-trip */

/* Finds the fewest fraction digits k such that n / 10^k, with n < 10^15,
 * reads back as a. Returns k, or -1 if a needs more than 15 significant
 * digits. a must be in [1e-6, 1e15).
 *
 * Why it is exact: n and 10^k are exact doubles, so the correctly rounded
 * IEEE quotient equals what strtod makes of the decimal n*10^-k; equality
 * with a therefore proves the round trip.
 *
 * Why it finds the shortest: a decimal with k fraction digits that reads
 * back as a is within half an ulp of a, i.e. within a*10^k * 2^-53 of the
 * exact a*10^k, which is below 1/8 as a*10^k < 2^50; the rounded product is
 * off by at most 1/16 more, so rounding it always lands on that decimal.
 * The first k that works has the fewest digits, and it is the nearest such
 * decimal, as a shortest-round-trip formatter must pick.
 *
 * The same bound makes a cheap filter: a candidate further than
 * scaled * 2^-50 (twice the worst case) from the product cannot read back,
 * so the division, the slow part, is mostly done once, for the answer. */
static int shortest_fixed(double a, uint64_t *n_out) {
    for (int k = 0; k < 23; k++) {
        double scaled = a * pow10_dbl[k];
        if (scaled >= MP__FAST_LIMIT)
            break;
        /* Signed conversions: a single instruction on common targets, and
         * scaled < 2^50 fits. */
        uint64_t n = (uint64_t)(int64_t)scaled;
        double off = scaled - (double)(int64_t)n;
        if (off >= 0.5) {
            n++;
            off = 1.0 - off;
        }
        if (n == 0 || off > scaled * 0x1p-50)
            continue;
        double back = (double)(int64_t)n / pow10_dbl[k];
        if (back == a) {
            *n_out = n;
            return k;
        }
    }
    return -1;
}

/* n / 10^k in plain notation. The digits are written one place to the right,
 * zero-padded so that there is always an integer digit, and the integer part
 * (usually one to three digits) is then moved left to make room for the '.'
 * -- cheaper than splitting n with a 64-bit division. */
static size_t write_fixed(char *out, uint64_t n, int k) {
    if (k == 0)
        return (size_t)(put_u64(out, n) - out);
    unsigned nd = decimal_digits(n);
    unsigned width = nd > (unsigned)k ? nd : (unsigned)k + 1;
    put_digits(out + 1, n, width);
    unsigned int_len = width - (unsigned)k;
    for (unsigned i = 0; i < int_len; i++)
        out[i] = out[i + 1];
    out[int_len] = '.';
    return width + 1;
}

/* A decimal d[0].d[1]..d[nd-1] x 10^exp10. */
typedef struct sci_decimal {
    char d[MP__MAX_SIG_DIGITS];
    int nd;
    int exp10;
} sci_decimal;

/* The correctly rounded p-digit decimal of a (> 0), from the C library.
 * Only digits and the exponent are read, so whatever radix character the
 * current locale puts between them is skipped. Returns 0 on failure. */
static int round_to_digits(double a, int p, sci_decimal *r) {
    char buf[64];
    int len = snprintf(buf, sizeof buf, "%.*e", p - 1, a);
    if (len <= 0 || (size_t)len >= sizeof buf)
        return 0;
    const char *q = buf;
    r->nd = 0;
    for (; *q != '\0' && *q != 'e' && *q != 'E'; q++) {
        if (*q >= '0' && *q <= '9') {
            if (r->nd == MP__MAX_SIG_DIGITS)
                return 0;
            r->d[r->nd++] = *q;
        }
    }
    if (*q == '\0' || r->nd != p)
        return 0;
    q++;
    int neg = 0;
    if (*q == '+' || *q == '-')
        neg = *q++ == '-';
    int e = 0;
    for (; *q >= '0' && *q <= '9'; q++)
        e = e * 10 + (*q - '0');
    r->exp10 = neg ? -e : e;
    return 1;
}

/* What strtod makes of r. The text is written as an integer mantissa with
 * an exponent ("1999e-2") so that strtod never meets a radix character and
 * so never depends on the locale. */
static double read_back(const sci_decimal *r) {
    char buf[40];
    char *o = buf;
    memcpy(o, r->d, (size_t)r->nd);
    o += r->nd;
    *o++ = 'e';
    int e = r->exp10 - (r->nd - 1);
    if (e < 0) {
        *o++ = '-';
        e = -e;
    }
    o = put_u64(o, (uint64_t)e);
    *o = '\0';
    return strtod(buf, NULL);
}

/* Whether "the nearest p-digit decimal reads back" can only flip from false
 * to true as p grows, and is then the same as "some p-digit decimal reads
 * back". The decimals that read back as a form an interval centred on a,
 * and the nearest (p+1)-digit decimal is never farther from a than the
 * nearest p-digit one (the p-digit grid is part of the finer one). The
 * exception is a power of two above the smallest normal, where the gap
 * below is half the gap above: there the nearest decimal, below, can miss
 * while the one above still reads back. */
static int roundtrip_is_monotonic(uint64_t bits) {
    return (bits & 0x000FFFFFFFFFFFFFu) != 0 || (bits >> 52) <= 1;
}

/* The p-digit decimal next to r, one unit in the last place up or down. */
static void step_last_digit(sci_decimal *r, int up) {
    int i = r->nd - 1;
    if (up) {
        while (i >= 0 && r->d[i] == '9')
            r->d[i--] = '0';
        if (i >= 0) {
            r->d[i]++;
        } else {
            r->d[0] = '1'; /* 99..9 + 1 = 100..0: one more power of ten */
            r->exp10++;
        }
        return;
    }
    while (i >= 0 && r->d[i] == '0')
        r->d[i--] = '9';
    r->d[i]--; /* r has a non-zero leading digit, so i >= 0 here */
    if (r->d[0] == '0') {
        /* 100..0 - 1 unit: the p-digit grid below a power of ten is ten
         * times finer, so the neighbour is 99..9 one power of ten down. */
        memset(r->d, '9', (size_t)r->nd);
        r->exp10--;
    }
}

/* The correctly rounded p-digit decimal of a, derived from r17, its
 * correctly rounded 17-digit decimal, because one printf call costs far more
 * than this (about 1.5 us for a large exponent in glibc). Rounding r17 again
 * gives the same result as rounding a directly unless the dropped digits are
 * exactly 5000...: r17 may have been rounded onto that tie from either side,
 * so only then is the C library asked for p digits. */
static int shorten(double a, const sci_decimal *r17, int p, sci_decimal *r) {
    *r = *r17;
    r->nd = p;
    if (p == r17->nd)
        return 1;
    int up = r17->d[p] > '5';
    if (r17->d[p] == '5') {
        int tie = 1;
        for (int i = p + 1; i < r17->nd && tie; i++)
            tie = r17->d[i] == '0';
        if (tie)
            return round_to_digits(a, p, r);
        up = 1;
    }
    if (up)
        step_last_digit(r, 1);
    return 1;
}

/* The shortest decimal that reads back as a (> 0, finite), nearest to a
 * among those as short; min_p says how many digits it has at least. When
 * round-tripping is monotonic in the number of digits p, that is the nearest
 * p-digit decimal for the least p that works, found by binary search. At a
 * power of two each p is tried in turn, and if its nearest decimal misses,
 * so does the other p-digit decimal on the far side of a. The 17-digit
 * rounding always round-trips. Returns 0 only if the C library misbehaves. */
static int shortest_sci(double a, uint64_t bits, int min_p, sci_decimal *best) {
    sci_decimal r17, probe;
    if (!round_to_digits(a, MP__MAX_SIG_DIGITS, &r17))
        return 0;
    *best = r17;
    if (roundtrip_is_monotonic(bits)) {
        int lo = min_p, hi = MP__MAX_SIG_DIGITS;
        while (lo < hi) {
            int mid = lo + (hi - lo) / 2;
            if (!shorten(a, &r17, mid, &probe))
                return 0;
            if (read_back(&probe) == a) {
                *best = probe;
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return 1;
    }
    for (int p = min_p; p < MP__MAX_SIG_DIGITS; p++) {
        if (!shorten(a, &r17, p, &probe))
            return 0;
        double back = read_back(&probe);
        if (back != a) {
            step_last_digit(&probe, back < a);
            back = read_back(&probe);
        }
        if (back == a) {
            *best = probe;
            return 1;
        }
    }
    return 1;
}

static size_t write_sci_plain(char *out, const sci_decimal *r) {
    char *o = out;
    int nd = r->nd, e = r->exp10;
    if (e < 0) {
        *o++ = '0';
        *o++ = '.';
        for (int i = -1; i > e; i--)
            *o++ = '0';
        memcpy(o, r->d, (size_t)nd);
        return (size_t)(o + nd - out);
    }
    int int_digits = e + 1;
    if (nd <= int_digits) {
        memcpy(o, r->d, (size_t)nd);
        o += nd;
        for (int i = nd; i < int_digits; i++)
            *o++ = '0';
        return (size_t)(o - out);
    }
    memcpy(o, r->d, (size_t)int_digits);
    o += int_digits;
    *o++ = '.';
    memcpy(o, r->d + int_digits, (size_t)(nd - int_digits));
    return (size_t)(o + (nd - int_digits) - out);
}

static size_t write_sci_exponent(char *out, const sci_decimal *r) {
    char *o = out;
    *o++ = r->d[0];
    if (r->nd > 1) {
        *o++ = '.';
        memcpy(o, r->d + 1, (size_t)(r->nd - 1));
        o += r->nd - 1;
    }
    *o++ = 'e';
    *o++ = r->exp10 < 0 ? '-' : '+';
    o = put_u64(o, (uint64_t)(r->exp10 < 0 ? -r->exp10 : r->exp10));
    return (size_t)(o - out);
}

size_t mp__fmt_double(char *out, double v) {
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    uint64_t mag_bits = bits & 0x7FFFFFFFFFFFFFFFu;
    if (MP__UNLIKELY((mag_bits >> 52) == 0x7FF))
        return 0;
    char *o = out;
    if (bits >> 63)
        *o++ = '-';
    if (mag_bits == 0) {
        *o++ = '0';
        return (size_t)(o - out);
    }
    double a;
    memcpy(&a, &mag_bits, sizeof a);

    int min_p = 1;
#if MP__EXACT_DOUBLE_OPS
    if (a >= 1e-6 && a < MP__FAST_LIMIT) {
        uint64_t n;
        int k = shortest_fixed(a, &n);
        if (MP__LIKELY(k >= 0))
            return (size_t)(o - out) + write_fixed(o, n, k);
        /* Every decimal of up to 15 significant digits was just ruled out. */
        min_p = 16;
    }
#endif

    sci_decimal r;
    if (!shortest_sci(a, mag_bits, min_p, &r))
        return 0;
    /* A trailing zero adds nothing to the value; drop it so that "1e+23"
     * is not printed as "1.0e+23" if the C library ever rounds that way. */
    while (r.nd > 1 && r.d[r.nd - 1] == '0')
        r.nd--;
    /* Go and JavaScript switch notation on the value, not on the digits. */
    if (a >= 1e-6 && a < 1e21)
        return (size_t)(o - out) + write_sci_plain(o, &r);
    return (size_t)(o - out) + write_sci_exponent(o, &r);
}

/* ------------------------------------------------------------------------ */
/* UTF-8                                                                     */

#define MP__ONES 0x0101010101010101u
#define MP__HIGHS 0x8080808080808080u
#define MP__LOW7 0x7F7F7F7F7F7F7F7Fu

static uint64_t load64(const unsigned char *p) {
    uint64_t w;
    memcpy(&w, p, sizeof w);
    return w;
}

/* Index (in memory order) of the first byte whose high bit is set in a mask
 * of high bits; the mask must be non-zero. */
static size_t first_flagged(uint64_t mask) {
#if MP__GNU_EXTENSIONS && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return (size_t)__builtin_ctzll(mask) >> 3;
#elif MP__GNU_EXTENSIONS && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return (size_t)__builtin_clzll(mask) >> 3;
#else
    unsigned char b[8];
    memcpy(b, &mask, sizeof b);
    size_t i = 0;
    while (b[i] == 0)
        i++;
    return i;
#endif
}

static int is_continuation(unsigned char c) {
    return (c & 0xC0) == 0x80;
}

/* Length (2..4) of the well-formed sequence starting at p, whose first byte
 * is >= 0x80, or 0 if it is ill-formed. The allowed second-byte ranges are
 * what excludes overlongs (E0, F0), surrogates (ED) and values past U+10FFFF
 * (F4), as in the table of RFC 3629 section 4. */
static size_t utf8_sequence(const unsigned char *p, size_t avail) {
    unsigned c = p[0];
    if (c < 0xC2) /* continuation byte, or C0/C1 (always overlong) */
        return 0;
    if (c < 0xE0)
        return avail >= 2 && is_continuation(p[1]) ? 2 : 0;
    if (c < 0xF0) {
        unsigned lo = c == 0xE0 ? 0xA0 : 0x80;
        unsigned hi = c == 0xED ? 0x9F : 0xBF;
        if (avail < 3 || p[1] < lo || p[1] > hi || !is_continuation(p[2]))
            return 0;
        return 3;
    }
    if (c < 0xF5) {
        unsigned lo = c == 0xF0 ? 0x90 : 0x80;
        unsigned hi = c == 0xF4 ? 0x8F : 0xBF;
        if (avail < 4 || p[1] < lo || p[1] > hi || !is_continuation(p[2]) ||
            !is_continuation(p[3]))
            return 0;
        return 4;
    }
    return 0;
}

/* Index of the first non-ASCII byte in p[i..n), or n. */
static size_t skip_ascii(const unsigned char *p, size_t i, size_t n) {
    while (n - i >= 16) {
        uint64_t m = (load64(p + i) | load64(p + i + 8)) & MP__HIGHS;
        if (m != 0)
            break;
        i += 16;
    }
    while (n - i >= 8) {
        uint64_t m = load64(p + i) & MP__HIGHS;
        if (m != 0)
            return i + first_flagged(m);
        i += 8;
    }
    while (i < n && p[i] < 0x80)
        i++;
    return i;
}

int mp__utf8_valid(const char *s, size_t n, size_t *bad_offset) {
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    for (;;) {
        i = skip_ascii(p, i, n);
        if (i == n)
            return 1;
        /* Non-ASCII comes in runs; stay here while it lasts. */
        do {
            size_t len = utf8_sequence(p + i, n - i);
            if (len == 0) {
                if (bad_offset != NULL)
                    *bad_offset = i;
                return 0;
            }
            i += len;
        } while (i < n && p[i] >= 0x80);
    }
}

size_t mp__utf8_length(const char *s, size_t n) {
    const unsigned char *p = (const unsigned char *)s;
    size_t continuations = 0, i = 0;
    while (n - i >= 8) {
        uint64_t w = load64(p + i);
        /* Bit 7 of each byte of (w << 1) is that byte's bit 6, so this keeps
         * exactly the 10xxxxxx bytes; the shift's carries into the next
         * byte land in bit 0 and are masked off. */
        uint64_t cont = w & ~(w << 1) & MP__HIGHS;
        /* One bit per byte, summed into the top byte by the multiply. */
        continuations += (size_t)(((cont >> 7) * MP__ONES) >> 56);
        i += 8;
    }
    for (; i < n; i++)
        continuations += (size_t)is_continuation(p[i]);
    return n - continuations;
}

/* ------------------------------------------------------------------------ */
/* JSON string escaping                                                      */

static uint64_t needs_work(uint64_t w) {
    return mp__json_needs_work(w);
}

static int is_plain(unsigned char c) {
    return mp__json_is_plain(c);
}

/* Copies 16 bytes from s to o and returns their needs_work() masks in
 * memory order. The block is loaded once, before the store, as o might
 * alias s for all the compiler knows. GCC and Clang turn the formula on a
 * two-lane vector into SSE2 or NEON code, about 1.5x faster than two scalar
 * words, which neither compiler vectorises well by itself. */
#if MP__GNU_EXTENSIONS
typedef uint64_t u64x2 __attribute__((vector_size(16)));

static void copy_check_16(char *o, const unsigned char *s, uint64_t *m0, uint64_t *m1) {
    u64x2 w;
    memcpy(&w, s, sizeof w);
    memcpy(o, &w, sizeof w);
    u64x2 t = w & MP__LOW7;
    u64x2 printable = t + 0x60 * MP__ONES;
    u64x2 not_quote = (t ^ ('"' * MP__ONES)) + MP__LOW7;
    u64x2 not_backslash = (t ^ ('\\' * MP__ONES)) + MP__LOW7;
    u64x2 m = (w | ~(printable & not_quote & not_backslash)) & MP__HIGHS;
    *m0 = m[0];
    *m1 = m[1];
}
#else
static void copy_check_16(char *o, const unsigned char *s, uint64_t *m0, uint64_t *m1) {
    uint64_t w0 = load64(s), w1 = load64(s + 8);
    memcpy(o, &w0, 8);
    memcpy(o + 8, &w1, 8);
    *m0 = needs_work(w0);
    *m1 = needs_work(w1);
}
#endif

/* Copies the clean run starting at s[i] to o and returns its length. Input
 * is stored before it is checked: the output bound of 6 bytes per input byte
 * leaves room for whole blocks, and whatever lands past the run is
 * overwritten by what comes next. */
static size_t copy_clean_run(char *o, const unsigned char *s, size_t i, size_t n) {
    size_t start = i;
    while (n - i >= 16) {
        uint64_t m0, m1;
        copy_check_16(o + (i - start), s + i, &m0, &m1);
        if ((m0 | m1) != 0)
            return i - start + (m0 != 0 ? first_flagged(m0) : 8 + first_flagged(m1));
        i += 16;
    }
    if (n - i >= 8) {
        uint64_t w = load64(s + i);
        uint64_t m = needs_work(w);
        memcpy(o + (i - start), &w, 8);
        if (m != 0)
            return i - start + first_flagged(m);
        i += 8;
    }
    /* The last few bytes one at a time: a word padded through a
     * variable-length memcpy costs a library call or two. */
    for (; i < n && is_plain(s[i]); i++)
        o[i - start] = (char)s[i];
    return i - start;
}

static char *write_ascii_escape(char *o, unsigned char c) {
    static const char hex[16] = {'0', '1', '2', '3', '4', '5', '6', '7',
                                 '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};
    char short_form;
    switch (c) {
    case '"': short_form = '"'; break;
    case '\\': short_form = '\\'; break;
    case '\b': short_form = 'b'; break;
    case '\f': short_form = 'f'; break;
    case '\n': short_form = 'n'; break;
    case '\r': short_form = 'r'; break;
    case '\t': short_form = 't'; break;
    default:
        memcpy(o, "\\u00", 4);
        o[4] = hex[c >> 4];
        o[5] = hex[c & 0xF];
        return o + 6;
    }
    o[0] = '\\';
    o[1] = short_form;
    return o + 2;
}

/* 1 for the bytes mp__json_is_plain() accepts: printable ASCII and DEL,
 * except '"' (0x22) and '\\' (0x5C). One load instead of four compares. */
#define MP__ROW(v) v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v
static const unsigned char plain_byte[256] = {
    MP__ROW(0), MP__ROW(0),                                         /* 0x00-0x1F */
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,                 /* 0x20 */
    MP__ROW(1), MP__ROW(1),                                         /* 0x30-0x4F */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,                 /* 0x50 */
    MP__ROW(1), MP__ROW(1),                                         /* 0x60-0x7F */
    MP__ROW(0), MP__ROW(0), MP__ROW(0), MP__ROW(0),                 /* 0x80-0xFF */
    MP__ROW(0), MP__ROW(0), MP__ROW(0), MP__ROW(0)};
#undef MP__ROW

/* mp__json_escape() byte by byte. For short strings that need work, where
 * the block scan would restart after every escape or non-ASCII character
 * and its setup would cost more than it saves. */
static size_t escape_bytes(char *out, const unsigned char *p, size_t n, size_t *bad_offset) {
    char *o = out;
    size_t i = 0;
    while (i < n) {
        unsigned char c = p[i];
        if (plain_byte[c]) {
            *o++ = (char)c;
            i++;
        } else if (c < 0x80) {
            o = write_ascii_escape(o, c);
            i++;
        } else {
            size_t len = utf8_sequence(p + i, n - i);
            if (len == 0) {
                if (bad_offset != NULL)
                    *bad_offset = i;
                return SIZE_MAX;
            }
            for (size_t j = 0; j < len; j++)
                o[j] = (char)p[i + j];
            o += len;
            i += len;
        }
    }
    return (size_t)(o - out);
}

/* Below this length a string that needs work goes byte by byte. */
#define MP__ESCAPE_BYTES_MAX 32

size_t mp__json_escape(char *out, const char *s, size_t n, size_t *bad_offset) {
    const unsigned char *p = (const unsigned char *)s;
    if (n <= 16) {
        size_t w = mp__json_escape_short(out, s, n);
        if (w != 0 || n == 0)
            return w;
    }
    if (n <= MP__ESCAPE_BYTES_MAX)
        return escape_bytes(out, p, n, bad_offset);
    char *o = out;
    size_t i = 0;
    while (i < n) {
        size_t run = copy_clean_run(o, p, i, n);
        o += run;
        i += run;
        if (i == n)
            break;
        if (p[i] < 0x80) {
            o = write_ascii_escape(o, p[i]);
            i++;
            continue;
        }
        /* Non-ASCII text comes in runs (words of another script), so stay
         * here while it lasts instead of going back to the ASCII scan. */
        do {
            size_t len = utf8_sequence(p + i, n - i);
            if (len == 0) {
                if (bad_offset != NULL)
                    *bad_offset = i;
                return SIZE_MAX;
            }
            /* Byte by byte: a memcpy of a variable 2 to 4 bytes is a call. */
            for (size_t j = 0; j < len; j++)
                o[j] = (char)p[i + j];
            o += len;
            i += len;
        } while (i < n && p[i] >= 0x80);
    }
    return (size_t)(o - out);
}

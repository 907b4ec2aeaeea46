/*
 * The pull reader of json_reader.h. Its lexer follows jansson 2.14's
 * load.c decision by decision (where a token ends, which byte an error is
 * charged to, the message and its "near '...'" context), because the
 * decoder's line and column numbers were defined by jansson and the tests
 * pin them. Comments name jansson's behaviour where it is not obvious.
 */
#include "common/alloc.h"
#include "codec/json_reader.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__) && !defined(MP_NO_SIMD)
#define MP_SCAN_SSE2 1
#include <emmintrin.h>
#endif

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */
/* ------------------------------------------------------------------------ */

/* Records the first error only (later ones are consequences). `start` is
 * where the current token began: jansson quotes the token read so far
 * (buf[start..position)) when it is at most 20 bytes; with no token at all
 * (end of input) it says "near end of file" and a syntax error becomes
 * "premature end of input". */
#if defined(__GNUC__)
__attribute__((format(printf, 5, 6)))
#endif
static int fail(mp__jr *r, mp__jr_code code, size_t position, size_t start, const char *fmt,
                ...);

static int fail(mp__jr *r, mp__jr_code code, size_t position, size_t start, const char *fmt,
                ...) {
    if (r->failed)
        return -1;
    r->failed = 1;
    char msg[100];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t n = position > start ? position - start : 0;
    const char *saved = r->buf + start;
    if (n > 0 && saved[0] != '\0') {
        if (n <= 20)
            snprintf(r->err.text, sizeof r->err.text, "%s near '%.*s'", msg, (int)n, saved);
        else
            snprintf(r->err.text, sizeof r->err.text, "%s", msg);
    } else {
        /* jansson: no saved text (end of input, or a token that starts
         * with a NUL byte, which its C string cannot show). */
        if (code == MP__JR_E_SYNTAX)
            code = MP__JR_E_PREMATURE;
        if (code == MP__JR_E_UTF8)
            snprintf(r->err.text, sizeof r->err.text, "%s", msg);
        else
            snprintf(r->err.text, sizeof r->err.text, "%s near end of file", msg);
    }
    r->err.code = code;
    r->err.position = position;
    return -1;
}

int mp__jr_fail_duplicate(mp__jr *r, const mp__jr_token *k) {
    return fail(r, MP__JR_E_SYNTAX, k->end, k->start, "duplicate object key");
}

int mp__jr_fail_nomem(mp__jr *r) {
    if (!r->failed) {
        r->failed = 1;
        r->err.code = MP__JR_E_NOMEM;
        r->err.position = r->pos;
        snprintf(r->err.text, sizeof r->err.text, "out of memory");
    }
    return -1;
}

/* ------------------------------------------------------------------------ */
/* Lexer                                                                    */
/* ------------------------------------------------------------------------ */

void mp__jr_init(mp__jr *r, const char *buf, size_t pos, size_t end) {
    r->buf = buf;
    r->pos = pos;
    r->end = end;
    r->depth = 0;
    r->failed = 0;
    r->err.code = MP__JR_E_NONE;
    r->err.position = 0;
    r->err.text[0] = '\0';
}

static int is_digit(unsigned char c) {
    return c >= '0' && c <= '9';
}

static int is_alpha(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int hex_value(unsigned char c) {
    if (is_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Length of the well-formed UTF-8 sequence at s (lead byte >= 0x80) within
 * n bytes, or 0: jansson's utf8_check_first/utf8_check_full (RFC 3629: no
 * overlongs, no surrogates, nothing above U+10FFFF). */
static size_t utf8_seq(const unsigned char *s, size_t n) {
    unsigned char c = s[0];
    size_t len;
    uint32_t v;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        v = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        v = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        v = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF) || (len == 3 && v < 0x800) ||
        (len == 4 && v < 0x10000))
        return 0;
    return len;
}

/* jansson reads one character past a number or a word before giving it
 * back, and its stream rejects a byte that does not start valid UTF-8
 * there, charged to that byte. 0 when fine. */
static int check_lookahead(mp__jr *r, size_t q, size_t start) {
    if (q < r->end && (unsigned char)r->buf[q] >= 0x80 &&
        !utf8_seq((const unsigned char *)r->buf + q, r->end - q))
        return fail(r, MP__JR_E_UTF8, q, start, "unable to decode byte 0x%x",
                    (unsigned char)r->buf[q]);
    return 0;
}

/* After the closing quote: pairs surrogates and notes \u0000. jansson does
 * this once the whole string is read, so these errors stand after it. */
static int check_escapes(mp__jr *r, mp__jr_token *t) {
    const char *b = r->buf;
    for (size_t p = t->start + 1; p < t->end - 1; p++) {
        if (b[p] != '\\')
            continue;
        p++;
        if (b[p] != 'u')
            continue;
        int v = 0;
        for (int i = 1; i <= 4; i++)
            v = v * 16 + hex_value((unsigned char)b[p + i]);
        p += 4;
        if (v >= 0xD800 && v <= 0xDBFF) {
            if (b[p + 1] == '\\' && b[p + 2] == 'u') {
                int v2 = 0;
                for (int i = 3; i <= 6; i++)
                    v2 = v2 * 16 + hex_value((unsigned char)b[p + i]);
                if (v2 < 0xDC00 || v2 > 0xDFFF)
                    return fail(r, MP__JR_E_SYNTAX, t->end, t->start,
                                "invalid Unicode '\\u%04X\\u%04X'", v, v2);
                p += 6;
            } else {
                return fail(r, MP__JR_E_SYNTAX, t->end, t->start, "invalid Unicode '\\u%04X'",
                            v);
            }
        } else if (v >= 0xDC00 && v <= 0xDFFF) {
            return fail(r, MP__JR_E_SYNTAX, t->end, t->start, "invalid Unicode '\\u%04X'", v);
        } else if (v == 0) {
            t->has_nul = 1;
        }
    }
    return 0;
}

/* Skips the bytes of a string that need no attention (printable ASCII
 * other than '"' and '\\') a block at a time, stopping at or before the
 * first one that does; the byte loop after it finds it exactly. Strings
 * are most of a batch's bytes. Reads only below e. SSE2 on x86-64 (all of
 * them have it); elsewhere, or with MP_NO_SIMD defined, eight bytes at a
 * time in a 64-bit integer (tests run both). */
#if MP_SCAN_SSE2
static inline size_t skip_plain(const unsigned char *b, size_t q, size_t e) {
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
    const __m128i space = _mm_set1_epi8(0x20);
    while (e - q >= 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(b + q));
        /* Signed: bytes >= 0x80 are negative, so "< 0x20" takes them too. */
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, bslash)),
                                 _mm_cmplt_epi8(x, space));
        unsigned bits = (unsigned)_mm_movemask_epi8(m);
        if (bits)
            return q + (size_t)__builtin_ctz(bits);
        q += 16;
    }
    return q;
}
#else
static inline size_t skip_plain(const unsigned char *b, size_t q, size_t e) {
    /* Eight bytes at a time: a byte is flagged when its top bit is set,
     * when it is below 0x20, or when it equals '"' or '\\' (has_zero). */
    const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
    while (e - q >= 8) {
        uint64_t x;
        memcpy(&x, b + q, 8);
        uint64_t xq = x ^ (ones * '"'), xb = x ^ (ones * '\\');
        uint64_t hit = x | ((x - ones * 0x20) & ~x) | ((xq - ones) & ~xq) | ((xb - ones) & ~xb);
        if (hit & high)
            return q;
        q += 8;
    }
    return q;
}
#endif

/* A string token starting at the quote at p. */
int mp__jr_string(mp__jr *r, mp__jr_token *t, size_t p) {
    const unsigned char *b = (const unsigned char *)r->buf;
    size_t q = p + 1, e = r->end;
    t->type = MP__JR_STRING;
    t->escaped = 0;
    t->has_nul = 0;
    for (;;) {
        /* The common case: a run of printable ASCII. */
        q = skip_plain(b, q, e);
        while (q < e && b[q] >= 0x20 && b[q] != '"' && b[q] != '\\' && b[q] < 0x80)
            q++;
        if (q >= e)
            return fail(r, MP__JR_E_PREMATURE, e, p, "premature end of input");
        unsigned char c = b[q];
        if (c == '"') {
            q++;
            break;
        }
        if (c < 0x20) {
            if (c == '\n')
                return fail(r, MP__JR_E_SYNTAX, q, p, "unexpected newline");
            return fail(r, MP__JR_E_SYNTAX, q, p, "control character 0x%x", c);
        }
        if (c >= 0x80) {
            size_t n = utf8_seq(b + q, e - q);
            if (!n)
                return fail(r, MP__JR_E_UTF8, q, p, "unable to decode byte 0x%x", c);
            q += n;
            continue;
        }
        /* A backslash. jansson reads the next character whole (so a bad
         * UTF-8 byte there is a UTF-8 error) but counts only its first
         * byte when it charges a bad escape to the position after it. */
        t->escaped = 1;
        q++;
        int hex = 0;
        for (;;) {
            if (q >= e)
                return fail(r, MP__JR_E_SYNTAX, e, p, "invalid escape");
            c = b[q];
            if (c >= 0x80 && !utf8_seq(b + q, e - q))
                return fail(r, MP__JR_E_UTF8, q, p, "unable to decode byte 0x%x", c);
            if (hex == 0 && c == 'u') {
                q++;
                hex = 1;
                continue;
            }
            if (hex == 0) {
                if (c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' ||
                    c == 'r' || c == 't') {
                    q++;
                    break;
                }
                return fail(r, MP__JR_E_SYNTAX, q + 1, p, "invalid escape");
            }
            if (hex_value(c) < 0)
                return fail(r, MP__JR_E_SYNTAX, q + 1, p, "invalid escape");
            q++;
            if (++hex == 5)
                break;
        }
    }
    t->end = q;
    r->pos = q;
    if (t->escaped)
        return check_escapes(r, t);
    return 0;
}

/* The "C" locale for strtod, created once: strtod follows the process's
 * LC_NUMERIC, which an application may have set to a decimal comma. */
static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void make_c_locale(void) {
    c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
}

/* Powers of ten exact in a double, for the fast path below. */
static const double pow10_exact[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* The double nearest to the number s[0..n) (valid JSON number syntax).
 * Clinger's fast path when the digits fit in 2^53 and the power of ten is
 * exact (one correctly rounded operation); otherwise strtod in the "C"
 * locale on a NUL-terminated copy. Returns HUGE_VAL (signed) on overflow. */
static double to_double(const char *s, size_t n) {
    uint64_t m = 0;
    int digits = 0, exp10 = 0, neg = 0, frac = 0;
    size_t i = 0;
    if (s[0] == '-') {
        neg = 1;
        i = 1;
    }
    for (; i < n; i++) {
        char c = s[i];
        if (c == '.') {
            frac = 1;
            continue;
        }
        if (c == 'e' || c == 'E')
            break;
        if (digits > 0 || c != '0') {
            if (++digits > 15)
                goto slow;
            m = m * 10 + (uint64_t)(c - '0');
        }
        if (frac)
            exp10--;
    }
    if (i < n) {
        i++;
        int eneg = 0, e = 0;
        if (s[i] == '+' || s[i] == '-')
            eneg = s[i++] == '-';
        for (; i < n; i++) {
            if (e > 10000)
                goto slow;
            e = e * 10 + (s[i] - '0');
        }
        exp10 += eneg ? -e : e;
    }
    if (m == 0) {
        return neg ? -0.0 : 0.0;
    }
    if (exp10 >= -22 && exp10 <= 22) {
        double x = (double)m;
        x = exp10 < 0 ? x / pow10_exact[-exp10] : x * pow10_exact[exp10];
        return neg ? -x : x;
    }
slow:;
    char small[64];
    char *copy = n < sizeof small ? small : mp__malloc(n + 1);
    if (!copy)
        return NAN; /* caller reports out of memory */
    memcpy(copy, s, n);
    copy[n] = '\0';
    pthread_once(&c_locale_once, make_c_locale);
    double x;
    if (c_locale != (locale_t)0) {
        locale_t old = uselocale(c_locale);
        x = strtod(copy, NULL);
        uselocale(old);
    } else {
        /* No "C" locale object (out of memory at the first call): write
         * the radix the current locale expects, as jansson does. */
        const char *point = localeconv()->decimal_point;
        char *dot = memchr(copy, '.', n);
        if (dot && point[0] && !point[1])
            *dot = point[0];
        x = strtod(copy, NULL);
    }
    if (copy != small)
        mp__free(copy);
    return x;
}

/* A number token starting at p ('-' or a digit). Where jansson gives up
 * on a malformed number, the token ends there and is MP__JR_INVALID. */
static int lex_number(mp__jr *r, mp__jr_token *t, size_t p) {
    const char *b = r->buf;
    size_t q = p, e = r->end;
    int neg = 0, real = 0;
    t->type = MP__JR_INVALID;
    t->big = 0;
    if (b[q] == '-') {
        neg = 1;
        q++;
    }
    size_t digits_at = q;
    uint64_t u = 0; /* the integer part, exact while it has at most 19 digits */
    if (q < e && b[q] == '0') {
        q++;
        if (q < e && is_digit((unsigned char)b[q]))
            goto invalid; /* a leading zero: the token is "0" or "-0" */
    } else if (q < e && is_digit((unsigned char)b[q])) {
        while (q < e && is_digit((unsigned char)b[q]))
            u = u * 10 + (uint64_t)(b[q++] - '0');
    } else {
        if (check_lookahead(r, q, p))
            return -1;
        goto invalid;
    }
    size_t digits_end = q;
    if (q < e && b[q] == '.') {
        q++;
        if (!(q < e && is_digit((unsigned char)b[q]))) {
            if (check_lookahead(r, q, p))
                return -1;
            goto invalid; /* "1." */
        }
        while (q < e && is_digit((unsigned char)b[q]))
            q++;
        real = 1;
    }
    if (q < e && (b[q] == 'e' || b[q] == 'E')) {
        q++;
        if (q < e && (b[q] == '+' || b[q] == '-'))
            q++;
        if (!(q < e && is_digit((unsigned char)b[q]))) {
            if (check_lookahead(r, q, p))
                return -1;
            goto invalid; /* "1e", "1e+" */
        }
        while (q < e && is_digit((unsigned char)b[q]))
            q++;
        real = 1;
    }
    if (check_lookahead(r, q, p))
        return -1;
    t->end = q;
    r->pos = q;
    if (!real) {
        size_t nd = digits_end - digits_at;
        if (neg && nd == 1 && b[digits_at] == '0') {
            /* "-0": what Go and JavaScript write for -0.0 */
            t->type = MP__JR_REAL;
            t->d = -0.0;
            return 0;
        }
        if (nd < 19 || (nd == 19 && memcmp(b + digits_at,
                                           neg ? "9223372036854775808" : "9223372036854775807",
                                           19) <= 0)) {
            t->type = MP__JR_INT;
            t->i = neg ? (int64_t)(0 - u) : (int64_t)u;
            return 0;
        }
        t->big = 1;
    }
    double x = to_double(b + p, q - p);
    if (isnan(x))
        return mp__jr_fail_nomem(r);
    if (isinf(x))
        return fail(r, MP__JR_E_RANGE, q, p, "real number overflow");
    t->type = MP__JR_REAL;
    t->d = x;
    return 0;
invalid:
    t->end = q;
    r->pos = q;
    return 0;
}

/* The next token, or -1 on an error of the lexer itself (a bad string,
 * bad UTF-8, a real out of range). Anything else unexpected comes back as
 * MP__JR_INVALID for the parser to report in context. */
static int lex(mp__jr *r, mp__jr_token *t) {
    if (r->failed)
        return -1;
    const unsigned char *b = (const unsigned char *)r->buf;
    size_t p = r->pos, e = r->end;
    while (p < e && (b[p] == ' ' || b[p] == '\n' || b[p] == '\t' || b[p] == '\r'))
        p++;
    t->start = p;
    if (p >= e) {
        t->type = MP__JR_EOF;
        t->end = r->pos = e;
        return 0;
    }
    unsigned char c = b[p];
    switch (c) {
    case '{':
        t->type = MP__JR_LBRACE;
        break;
    case '}':
        t->type = MP__JR_RBRACE;
        break;
    case '[':
        t->type = MP__JR_LBRACKET;
        break;
    case ']':
        t->type = MP__JR_RBRACKET;
        break;
    case ':':
        t->type = MP__JR_COLON;
        break;
    case ',':
        t->type = MP__JR_COMMA;
        break;
    case '"':
        return mp__jr_string(r, t, p);
    default:
        if (c == '-' || is_digit(c))
            return lex_number(r, t, p);
        if (is_alpha(c)) {
            /* jansson reads a whole word, for a clearer message. */
            size_t q = p + 1;
            while (q < e && is_alpha(b[q]))
                q++;
            if (check_lookahead(r, q, p))
                return -1;
            size_t n = q - p;
            t->end = r->pos = q;
            if (n == 4 && memcmp(b + p, "true", 4) == 0)
                t->type = MP__JR_TRUE;
            else if (n == 5 && memcmp(b + p, "false", 5) == 0)
                t->type = MP__JR_FALSE;
            else if (n == 4 && memcmp(b + p, "null", 4) == 0)
                t->type = MP__JR_NULL;
            else
                t->type = MP__JR_INVALID;
            return 0;
        }
        t->type = MP__JR_INVALID;
        if (c >= 0x80) {
            size_t n = utf8_seq(b + p, e - p);
            if (!n)
                return fail(r, MP__JR_E_UTF8, p, p, "unable to decode byte 0x%x", c);
            t->end = r->pos = p + n;
            return 0;
        }
        break;
    }
    t->end = r->pos = p + 1;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Parser                                                                   */
/* ------------------------------------------------------------------------ */

int mp__jr_number(mp__jr *r, mp__jr_token *v, size_t p) {
    if (lex_number(r, v, p))
        return -1;
    if (v->type == MP__JR_INVALID)
        return fail(r, MP__JR_E_SYNTAX, v->end, v->start, "invalid token");
    return 0;
}

int mp__jr_value_slow(mp__jr *r, mp__jr_token *v) {
    if (lex(r, v))
        return -1;
    /* jansson counts every value, scalars too, against its limit. */
    if (r->depth + 1 > MP__JR_MAX_DEPTH)
        return fail(r, MP__JR_E_DEPTH, v->end, v->start, "maximum parsing depth reached");
    switch (v->type) {
    case MP__JR_STRING:
        if (v->has_nul)
            return fail(r, MP__JR_E_NUL, v->end, v->start,
                        "\\u0000 is not allowed without JSON_ALLOW_NUL");
        return 0;
    case MP__JR_INT:
    case MP__JR_REAL:
    case MP__JR_TRUE:
    case MP__JR_FALSE:
    case MP__JR_NULL:
        return 0;
    case MP__JR_LBRACE:
    case MP__JR_LBRACKET:
        r->depth++;
        return 0;
    case MP__JR_INVALID:
        return fail(r, MP__JR_E_SYNTAX, v->end, v->start, "invalid token");
    default:
        break;
    }
    return fail(r, MP__JR_E_SYNTAX, v->end, v->start, "unexpected token");
}

int mp__jr_key_slow(mp__jr *r, int *first, mp__jr_token *k) {
    if (lex(r, k))
        return -1;
    if (*first) {
        *first = 0;
        if (k->type == MP__JR_RBRACE) {
            r->depth--;
            return 0;
        }
    } else if (k->type == MP__JR_COMMA) {
        if (lex(r, k))
            return -1;
    } else if (k->type == MP__JR_RBRACE) {
        r->depth--;
        return 0;
    } else {
        return fail(r, MP__JR_E_SYNTAX, k->end, k->start, "'}' expected");
    }
    if (k->type != MP__JR_STRING)
        return fail(r, MP__JR_E_SYNTAX, k->end, k->start, "string or '}' expected");
    if (k->has_nul)
        return fail(r, MP__JR_E_NUL, k->end, k->start, "NUL byte in object key not supported");
    return 1;
}

int mp__jr_colon_slow(mp__jr *r) {
    mp__jr_token t;
    if (lex(r, &t))
        return -1;
    if (t.type != MP__JR_COLON)
        return fail(r, MP__JR_E_SYNTAX, t.end, t.start, "':' expected");
    return 0;
}

/* Whether a token follows (jansson's `while (lex->token)`): at the end of
 * input it reports "']' expected near end of file". */
static int array_more(mp__jr *r) {
    const char *b = r->buf;
    size_t p = r->pos;
    while (p < r->end && (b[p] == ' ' || b[p] == '\n' || b[p] == '\t' || b[p] == '\r'))
        p++;
    if (p >= r->end)
        return fail(r, MP__JR_E_PREMATURE, r->end, r->end, "']' expected");
    return 1;
}

int mp__jr_next_slow(mp__jr *r, int *first) {
    if (r->failed)
        return -1;
    if (*first) {
        *first = 0;
        const char *b = r->buf;
        size_t p = r->pos;
        while (p < r->end && (b[p] == ' ' || b[p] == '\n' || b[p] == '\t' || b[p] == '\r'))
            p++;
        if (p < r->end && b[p] == ']') {
            r->pos = p + 1;
            r->depth--;
            return 0;
        }
        return array_more(r);
    }
    mp__jr_token t;
    if (lex(r, &t))
        return -1;
    if (t.type == MP__JR_COMMA)
        return array_more(r);
    if (t.type == MP__JR_RBRACKET) {
        r->depth--;
        return 0;
    }
    return fail(r, MP__JR_E_SYNTAX, t.end, t.start, "']' expected");
}

int mp__jr_skip(mp__jr *r, const mp__jr_token *v, mp__jr_keyset *ks) {
    if (r->failed)
        return -1;
    if (v->type != MP__JR_LBRACE && v->type != MP__JR_LBRACKET)
        return 0;
    /* Whether each open container from `base` on is an object, by
     * depth: each entry is written when its container opens. */
    unsigned char objects[MP__JR_MAX_DEPTH];
    unsigned base = r->depth - 1;
    int first = 1;
    int is_object = v->type == MP__JR_LBRACE;
    objects[base] = (unsigned char)is_object;
    if (is_object && mp__jr_keyset_push(ks))
        return mp__jr_fail_nomem(r);
    for (;;) {
        int rc;
        mp__jr_token t;
        if (is_object) {
            rc = mp__jr_key(r, &first, &t);
            if (rc > 0) {
                int added = mp__jr_keyset_add_token(ks, r->buf, &t);
                if (added < 0)
                    return mp__jr_fail_nomem(r);
                if (added == 0)
                    return mp__jr_fail_duplicate(r, &t);
                if (mp__jr_colon(r))
                    return -1;
            }
        } else {
            rc = mp__jr_next(r, &first);
        }
        if (rc < 0)
            return -1;
        if (rc == 0) {
            /* The container at depth r->depth closed. */
            if (is_object)
                mp__jr_keyset_pop(ks);
            if (r->depth == base)
                return 0;
            unsigned d = r->depth - 1;
            is_object = objects[d];
            first = 0;
            continue;
        }
        if (mp__jr_value(r, &t))
            return -1;
        if (t.type == MP__JR_LBRACE || t.type == MP__JR_LBRACKET) {
            unsigned d = r->depth - 1;
            is_object = t.type == MP__JR_LBRACE;
            objects[d] = (unsigned char)is_object;
            first = 1;
            if (is_object && mp__jr_keyset_push(ks))
                return mp__jr_fail_nomem(r);
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Strings                                                                  */
/* ------------------------------------------------------------------------ */

static size_t put_utf8(char *out, uint32_t v) {
    if (v < 0x80) {
        out[0] = (char)v;
        return 1;
    }
    if (v < 0x800) {
        out[0] = (char)(0xC0 | (v >> 6));
        out[1] = (char)(0x80 | (v & 0x3F));
        return 2;
    }
    if (v < 0x10000) {
        out[0] = (char)(0xE0 | (v >> 12));
        out[1] = (char)(0x80 | ((v >> 6) & 0x3F));
        out[2] = (char)(0x80 | (v & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (v >> 18));
    out[1] = (char)(0x80 | ((v >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((v >> 6) & 0x3F));
    out[3] = (char)(0x80 | (v & 0x3F));
    return 4;
}

static uint32_t hex4(const char *p) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v = v * 16 + (uint32_t)hex_value((unsigned char)p[i]);
    return v;
}

size_t mp__jr_unescape(const char *buf, const mp__jr_token *s, char *out) {
    const char *p = buf + s->start + 1, *end = buf + s->end - 1;
    if (!s->escaped) {
        memcpy(out, p, (size_t)(end - p));
        return (size_t)(end - p);
    }
    size_t o = 0;
    while (p < end) {
        const char *bs = memchr(p, '\\', (size_t)(end - p));
        size_t run = bs ? (size_t)(bs - p) : (size_t)(end - p);
        memcpy(out + o, p, run);
        o += run;
        if (!bs)
            break;
        p = bs + 1;
        char c = *p++;
        switch (c) {
        case 'b':
            out[o++] = '\b';
            break;
        case 'f':
            out[o++] = '\f';
            break;
        case 'n':
            out[o++] = '\n';
            break;
        case 'r':
            out[o++] = '\r';
            break;
        case 't':
            out[o++] = '\t';
            break;
        case 'u': {
            uint32_t v = hex4(p);
            p += 4;
            if (v >= 0xD800 && v <= 0xDBFF) { /* validated: a low one follows */
                uint32_t lo = hex4(p + 2);
                p += 6;
                v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
            }
            o += put_utf8(out + o, v);
            break;
        }
        default: /* '"', '\\', '/' */
            out[o++] = c;
            break;
        }
    }
    return o;
}

/* ------------------------------------------------------------------------ */
/* Key sets                                                                 */
/* ------------------------------------------------------------------------ */

struct mp__jr_key_entry {
    const char *key;
    size_t len;
    uint32_t hash;
    uint32_t next; /* index + 1 of the previous entry in the bucket */
};

struct mp__jr_chunk {
    struct mp__jr_chunk *next;
    size_t used, cap;
    char bytes[];
};

void mp__jr_keyset_init(mp__jr_keyset *ks, mp__jr_malloc_fn m, mp__jr_free_fn f) {
    memset(ks, 0, sizeof *ks);
    ks->malloc_fn = m;
    ks->free_fn = f;
}

void mp__jr_keyset_free(mp__jr_keyset *ks) {
    if (ks->entries)
        ks->free_fn(ks->entries);
    if (ks->heads)
        ks->free_fn(ks->heads);
    if (ks->scopes)
        ks->free_fn(ks->scopes);
    for (struct mp__jr_chunk *c = ks->chunks, *n; c; c = n) {
        n = c->next;
        ks->free_fn(c);
    }
    mp__jr_malloc_fn m = ks->malloc_fn;
    mp__jr_free_fn f = ks->free_fn;
    mp__jr_keyset_init(ks, m, f);
}

void mp__jr_keyset_trim(mp__jr_keyset *ks) {
    struct mp__jr_chunk *keep = ks->chunks;
    if (!keep)
        return;
    for (struct mp__jr_chunk *c = keep->next, *n; c; c = n) {
        n = c->next;
        ks->free_fn(c);
    }
    keep->next = NULL;
    keep->used = 0;
}

size_t mp__jr_keyset_footprint(const mp__jr_keyset *ks) {
    size_t n = ks->cap * (sizeof *ks->entries + sizeof *ks->heads) +
               ks->scopes_cap * sizeof *ks->scopes;
    for (const struct mp__jr_chunk *c = ks->chunks; c; c = c->next)
        n += sizeof *c + c->cap;
    return n;
}

int mp__jr_keyset_push(mp__jr_keyset *ks) {
    if (ks->nscopes == ks->scopes_cap) {
        size_t cap = ks->scopes_cap ? ks->scopes_cap * 2 : 16;
        size_t *s = ks->malloc_fn(cap * sizeof *s);
        if (!s)
            return -1;
        if (ks->nscopes)
            memcpy(s, ks->scopes, ks->nscopes * sizeof *s);
        if (ks->scopes)
            ks->free_fn(ks->scopes);
        ks->scopes = s;
        ks->scopes_cap = cap;
    }
    ks->scopes[ks->nscopes++] = ks->count;
    return 0;
}

/* Entries are removed in the reverse order of their insertion, so each is
 * the head of its bucket's chain when it goes. */
void mp__jr_keyset_pop(mp__jr_keyset *ks) {
    size_t mark = ks->scopes[--ks->nscopes];
    while (ks->count > mark) {
        struct mp__jr_key_entry *e = &ks->entries[--ks->count];
        ks->heads[e->hash & (ks->nheads - 1)] = e->next;
    }
}

static uint32_t hash_key(const char *s, size_t n) {
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static int keyset_grow(mp__jr_keyset *ks) {
    size_t cap = ks->cap ? ks->cap * 2 : 64;
    if (cap > UINT32_MAX / 2)
        return -1;
    struct mp__jr_key_entry *e = ks->malloc_fn(cap * sizeof *e);
    uint32_t *heads = ks->malloc_fn(cap * sizeof *heads);
    if (!e || !heads) {
        if (e)
            ks->free_fn(e);
        if (heads)
            ks->free_fn(heads);
        return -1;
    }
    if (ks->count)
        memcpy(e, ks->entries, ks->count * sizeof *e);
    memset(heads, 0, cap * sizeof *heads);
    /* Rebuild the chains in insertion order: newest at the head. */
    for (size_t i = 0; i < ks->count; i++) {
        uint32_t b = e[i].hash & (uint32_t)(cap - 1);
        e[i].next = heads[b];
        heads[b] = (uint32_t)(i + 1);
    }
    if (ks->entries)
        ks->free_fn(ks->entries);
    if (ks->heads)
        ks->free_fn(ks->heads);
    ks->entries = e;
    ks->heads = heads;
    ks->cap = ks->nheads = cap;
    return 0;
}

int mp__jr_keyset_add(mp__jr_keyset *ks, const char *key, size_t len) {
    size_t mark = ks->nscopes ? ks->scopes[ks->nscopes - 1] : 0;
    uint32_t h = hash_key(key, len);
    if (ks->nheads) {
        for (uint32_t i = ks->heads[h & (ks->nheads - 1)]; i > mark; i = ks->entries[i - 1].next) {
            const struct mp__jr_key_entry *e = &ks->entries[i - 1];
            if (e->hash == h && e->len == len && memcmp(e->key, key, len) == 0)
                return 0;
        }
    }
    if (ks->count == ks->cap && keyset_grow(ks))
        return -1;
    struct mp__jr_key_entry *e = &ks->entries[ks->count];
    uint32_t b = h & (uint32_t)(ks->nheads - 1);
    e->key = key;
    e->len = len;
    e->hash = h;
    e->next = ks->heads[b];
    ks->heads[b] = (uint32_t)++ks->count;
    return 1;
}

/* Room for n bytes that stay put until the key set is freed. */
static char *keyset_store(mp__jr_keyset *ks, size_t n) {
    struct mp__jr_chunk *c = ks->chunks;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > 4000 ? n : 4000;
        c = ks->malloc_fn(sizeof *c + cap);
        if (!c)
            return NULL;
        c->next = ks->chunks;
        c->used = 0;
        c->cap = cap;
        ks->chunks = c;
    }
    char *p = c->bytes + c->used;
    c->used += n;
    return p;
}

int mp__jr_keyset_add_token(mp__jr_keyset *ks, const char *buf, const mp__jr_token *k) {
    if (!k->escaped)
        return mp__jr_keyset_add(ks, buf + k->start + 1, mp__jr_raw_len(k));
    char *p = keyset_store(ks, mp__jr_raw_len(k) + 1);
    if (!p)
        return -1;
    return mp__jr_keyset_add(ks, p, mp__jr_unescape(buf, k, p));
}

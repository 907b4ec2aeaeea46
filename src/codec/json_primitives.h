/* Low-level JSON output primitives for the encoder's hot path: numbers,
 * UTF-8 validation and string escaping. Internal; callers size the output
 * buffers (the bounds below are worst cases, so no call ever needs to check
 * for room). None of these allocate, and none depend on the C locale. */
#ifndef MP_CODEC_JSON_PRIMITIVES_H
#define MP_CODEC_JSON_PRIMITIVES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Worst-case output sizes, for callers that reserve room up front. */
#define MP__FMT_INT64_MAX 20  /* "-9223372036854775808" */
#define MP__FMT_DOUBLE_MAX 32 /* actual worst case is 25: "-0.0000012345678901234567" */
#define MP__JSON_ESCAPE_MAX(n) ((n) * 6) /* every byte a \u00XX */

/* Writes v in decimal. out must have room for 20 bytes. Returns the length. No NUL. */
size_t mp__fmt_int64(char *out, int64_t v);

/* Writes the shortest decimal that parses back (strtod, round-to-nearest) to
 * exactly v, laid out like Go's encoding/json and JavaScript's JSON.stringify:
 * plain notation when 1e-6 <= |v| < 1e21 ("19.99", "0.000001", "10",
 * "100000000000000000000"), otherwise exponent notation with a signed
 * exponent and no leading zeros ("1e-7", "1.5e-7", "1e+21"). Among equally
 * short decimals the one nearest to v is chosen. 0 is "0", -0.0 is "-0".
 * out must have room for 32 bytes. Returns the length (no NUL), or 0 if v is
 * NaN or infinite, in which case nothing is written. Values that need more
 * than 15 significant digits, or are outside [1e-6, 1e15), go through the C
 * library's snprintf and strtod (a radix-free use of them, so still
 * locale-independent); should those ever fail, 0 is returned too.
 * Thread-safe. */
size_t mp__fmt_double(char *out, double v);

/* Validates UTF-8 per RFC 3629: no overlongs, no surrogates (U+D800..DFFF),
 * nothing above U+10FFFF, no truncated sequences. Returns 1 if valid. Else
 * returns 0 and sets *bad_offset (if bad_offset is not NULL) to the offset of
 * the first byte of the first ill-formed sequence: a stray continuation or
 * never-valid byte itself, or the lead byte of a multi-byte sequence that is
 * overlong, a surrogate, out of range, badly continued or cut off by the end.
 * (This is where a decoder replacing maximal subparts with U+FFFD would put
 * its first replacement.) s may be NULL when n is 0. */
int mp__utf8_valid(const char *s, size_t n, size_t *bad_offset);

/* Number of code points in valid UTF-8 s[0..n): the count of bytes that are
 * not continuation bytes (10xxxxxx), which is also what it returns for
 * invalid input. */
size_t mp__utf8_length(const char *s, size_t n);

/* JSON-escapes s[0..n) into out, without surrounding quotes, validating
 * UTF-8 in the same pass. '"' and '\\' are backslash-escaped, as are \b \f
 * \n \r \t; other bytes below 0x20 become \u00XX (lowercase hex); everything
 * else, including DEL and well-formed non-ASCII, is copied raw.
 * out must have room for 6*n bytes (it may be written anywhere in that range,
 * beyond the returned length too). Returns the bytes written, or SIZE_MAX if
 * s is not valid UTF-8; then *bad_offset (if not NULL) is set exactly as
 * mp__utf8_valid sets it, and the contents of out are unspecified. */
size_t mp__json_escape(char *out, const char *s, size_t n, size_t *bad_offset);

/* The short-string fast path of mp__json_escape(), inline because the
 * encoder's strings are mostly a few bytes long, where a call and its
 * prologue would cost as much as the copy. */

/* High bit set in each byte of w that is a control character, '"', '\\' or
 * non-ASCII, i.e. that needs more than a plain copy. Working on the low 7
 * bits of each byte keeps every sum below 0x100, so no carry crosses into
 * the next byte and the answer is exact for every byte, not just the first.
 * Bytes >= 0x80 may look like a quote or a backslash in their low bits, but
 * they are flagged anyway. */
static inline uint64_t mp__json_needs_work(uint64_t w) {
    const uint64_t ones = 0x0101010101010101u, low7 = 0x7F7F7F7F7F7F7F7Fu;
    uint64_t t = w & low7;
    uint64_t printable = t + 0x60 * ones;             /* >= 0x20 */
    uint64_t not_quote = (t ^ ('"' * ones)) + low7;   /* != '"' */
    uint64_t not_backslash = (t ^ ('\\' * ones)) + low7;
    return (w | ~(printable & not_quote & not_backslash)) & 0x8080808080808080u;
}

/* Whether byte c is copied as is: printable ASCII other than '"' and '\\'. */
static inline int mp__json_is_plain(unsigned char c) {
    return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

/* Copies s[0..n), n <= 16, to out if no byte of it needs escaping, and
 * returns n; else returns 0 (as it does for n == 0) and out is
 * unspecified. Two overlapping loads cover the string, checked together
 * and stored together; nothing outside s[0..n) is read, so it is safe on
 * any string wherever it ends. */
static inline size_t mp__json_escape_short(char *out, const char *str, size_t n) {
    const unsigned char *s = (const unsigned char *)str;
    uint64_t a, b;
    if (n >= 8) {
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
        if ((mp__json_needs_work(a) | mp__json_needs_work(b)) != 0)
            return 0;
        memcpy(out, &a, 8);
        memcpy(out + n - 8, &b, 8);
        return n;
    }
    if (n >= 4) {
        /* Both halves are bytes of s, so the word has no padding to
         * misjudge. */
        memcpy(&a, s, 4);
        memcpy((char *)&a + 4, s + n - 4, 4);
        if (mp__json_needs_work(a) != 0)
            return 0;
        memcpy(out, &a, 4);
        memcpy(out + n - 4, (char *)&a + 4, 4);
        return n;
    }
    if (n == 0)
        return 0;
    /* 1 to 3 bytes: first, middle and last cover them all. */
    unsigned char c0 = s[0], c1 = s[n >> 1], c2 = s[n - 1];
    if (!mp__json_is_plain(c0) || !mp__json_is_plain(c1) || !mp__json_is_plain(c2))
        return 0;
    out[0] = (char)c0;
    out[n >> 1] = (char)c1;
    out[n - 1] = (char)c2;
    return n;
}

#endif

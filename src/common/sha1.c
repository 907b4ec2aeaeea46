/*
 * SHA-1 (FIPS 180-4). `mparticle send` derives each batch's content id from
 * a hash of its JSON, so every byte it sends is hashed: the portable code
 * does its 80 rounds in four loops of constant function and constant, on a
 * 16-word rolling schedule (about 2.5 times the speed of one loop that
 * chose the function per round); x86-64 CPUs with the SHA extensions
 * (sha1rnds4 and friends: AMD since Zen, Intel since Goldmont and Ice Lake)
 * do four rounds an instruction, chosen once at run time as for CRC-32C.
 */
#include "common/sha1.h"

#include <pthread.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_SHA_NI 1
#include <cpuid.h>
#include <immintrin.h>
#endif

/* ------------------------------------------------------------------------ */
/* Portable                                                                 */
/* ------------------------------------------------------------------------ */

static inline uint32_t rol(uint32_t x, int n) {
    return (x << n) | (x >> (32 - n));
}

static inline uint32_t load_be32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* W[t] of the schedule in a 16-word ring: computed for t >= 16 when read. */
#define W(t)                                                                                 \
    ((t) < 16 ? w[(t)]                                                                       \
              : (w[(t)&15] = rol(w[((t)-3) & 15] ^ w[((t)-8) & 15] ^ w[((t)-14) & 15] ^      \
                                     w[(t)&15],                                              \
                                 1)))

#define ROUND(t, f, k)                                                                       \
    do {                                                                                     \
        uint32_t tmp = rol(a, 5) + (f) + e + (k) + W(t);                                     \
        e = d;                                                                               \
        d = c;                                                                               \
        c = rol(b, 30);                                                                      \
        b = a;                                                                               \
        a = tmp;                                                                             \
    } while (0)

static void blocks_portable(uint32_t h[5], const unsigned char *p, size_t n) {
    for (; n; n--, p += 64) {
        uint32_t w[16];
        for (int i = 0; i < 16; i++)
            w[i] = load_be32(p + 4 * i);
        uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
        int t = 0;
        for (; t < 20; t++)
            ROUND(t, d ^ (b & (c ^ d)), 0x5A827999u);
        for (; t < 40; t++)
            ROUND(t, b ^ c ^ d, 0x6ED9EBA1u);
        for (; t < 60; t++)
            ROUND(t, (b & c) | (d & (b | c)), 0x8F1BBCDCu);
        for (; t < 80; t++)
            ROUND(t, b ^ c ^ d, 0xCA62C1D6u);
        h[0] += a;
        h[1] += b;
        h[2] += c;
        h[3] += d;
        h[4] += e;
    }
}

/* ------------------------------------------------------------------------ */
/* SHA extensions                                                           */
/* ------------------------------------------------------------------------ */

#ifdef HAVE_SHA_NI
/*
 * State: ABCD in one register with A in the highest lane, E in the highest
 * lane of another, as sha1rnds4 and sha1nexte want them. Message: four
 * words a register, W[4k] in the highest lane. M[k] (k >= 4) comes from
 * the four before it: sha1msg2(sha1msg1(M[k-4], M[k-3]) ^ M[k-2], M[k-1]).
 * Each group of four rounds k takes E from the A of the group before
 * (sha1nexte: rol(A, 30) + W), except the first, which adds W to E.
 */
#define NEXT_M(cur, n1, n2, n3)                                                              \
    cur = _mm_sha1msg2_epu32(_mm_xor_si128(_mm_sha1msg1_epu32(cur, n1), n2), n3)
#define GROUP(fn, m)                                                                         \
    do {                                                                                     \
        e = _mm_sha1nexte_epu32(prev, m);                                                    \
        prev = abcd;                                                                         \
        abcd = _mm_sha1rnds4_epu32(abcd, e, fn);                                             \
    } while (0)
#define GROUP_NEXT(fn, cur, n1, n2, n3)                                                      \
    do {                                                                                     \
        NEXT_M(cur, n1, n2, n3);                                                             \
        GROUP(fn, cur);                                                                      \
    } while (0)

__attribute__((target("sha,sse4.1,ssse3"))) static void blocks_ni(uint32_t h[5],
                                                                   const unsigned char *p,
                                                                   size_t n) {
    const __m128i reverse = _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    __m128i abcd = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)(const void *)h), 0x1B);
    __m128i e0 = _mm_set_epi32((int)h[4], 0, 0, 0);
    for (; n; n--, p += 64) {
        __m128i abcd_in = abcd, e_in = e0, e, prev;
        __m128i m0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)p), reverse);
        __m128i m1 =
            _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + 16)), reverse);
        __m128i m2 =
            _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + 32)), reverse);
        __m128i m3 =
            _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + 48)), reverse);
        /* Rounds 0-3: E + W. */
        e = _mm_add_epi32(e0, m0);
        prev = abcd;
        abcd = _mm_sha1rnds4_epu32(abcd, e, 0);
        GROUP(0, m1); /* rounds 4-7 */
        GROUP(0, m2);
        GROUP(0, m3);
        GROUP_NEXT(0, m0, m1, m2, m3); /* rounds 16-19 */
        GROUP_NEXT(1, m1, m2, m3, m0);
        GROUP_NEXT(1, m2, m3, m0, m1);
        GROUP_NEXT(1, m3, m0, m1, m2);
        GROUP_NEXT(1, m0, m1, m2, m3);
        GROUP_NEXT(1, m1, m2, m3, m0); /* rounds 36-39 */
        GROUP_NEXT(2, m2, m3, m0, m1);
        GROUP_NEXT(2, m3, m0, m1, m2);
        GROUP_NEXT(2, m0, m1, m2, m3);
        GROUP_NEXT(2, m1, m2, m3, m0);
        GROUP_NEXT(2, m2, m3, m0, m1); /* rounds 56-59 */
        GROUP_NEXT(3, m3, m0, m1, m2);
        GROUP_NEXT(3, m0, m1, m2, m3);
        GROUP_NEXT(3, m1, m2, m3, m0);
        GROUP_NEXT(3, m2, m3, m0, m1);
        GROUP_NEXT(3, m3, m0, m1, m2); /* rounds 76-79 */
        /* E after round 79 is rol(A of round 75, 30); add the block's input. */
        e0 = _mm_sha1nexte_epu32(prev, e_in);
        abcd = _mm_add_epi32(abcd, abcd_in);
    }
    _mm_storeu_si128((__m128i *)(void *)h, _mm_shuffle_epi32(abcd, 0x1B));
    h[4] = (uint32_t)_mm_extract_epi32(e0, 3);
}

static int cpu_has_sha_ni(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return 0;
    int ssse3 = (c >> 9) & 1, sse41 = (c >> 19) & 1;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
        return 0;
    return ssse3 && sse41 && ((b >> 29) & 1);
}
#endif

/* ------------------------------------------------------------------------ */
/* Dispatch and the incremental interface                                   */
/* ------------------------------------------------------------------------ */

static void (*blocks)(uint32_t h[5], const unsigned char *p, size_t n) = blocks_portable;
static int have_hw;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void choose(void) {
#ifdef HAVE_SHA_NI
    have_hw = cpu_has_sha_ni();
    if (have_hw)
        blocks = blocks_ni;
#endif
}

int mp__sha1_use_hw(int on) {
    pthread_once(&once, choose);
#ifdef HAVE_SHA_NI
    blocks = on && have_hw ? blocks_ni : blocks_portable;
#else
    (void)on;
#endif
    return have_hw;
}

void mp__sha1_init(mp__sha1_ctx *c) {
    static const uint32_t iv[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
    pthread_once(&once, choose);
    memcpy(c->h, iv, sizeof iv);
    c->length = 0;
    c->fill = 0;
}

void mp__sha1_update(mp__sha1_ctx *c, const void *data, size_t len) {
    const unsigned char *p = data;
    c->length += len;
    if (c->fill) {
        size_t take = 64 - c->fill < len ? 64 - c->fill : len;
        memcpy(c->block + c->fill, p, take);
        c->fill += take;
        p += take;
        len -= take;
        if (c->fill < 64)
            return;
        blocks(c->h, c->block, 1);
        c->fill = 0;
    }
    if (len >= 64) {
        blocks(c->h, p, len / 64);
        p += len / 64 * 64;
        len %= 64;
    }
    memcpy(c->block, p, len);
    c->fill = len;
}

void mp__sha1_final(mp__sha1_ctx *c, unsigned char digest[20]) {
    uint64_t bits = c->length * 8;
    unsigned char pad[72] = {0x80};
    size_t padlen = (c->fill < 56 ? 56 : 120) - c->fill;
    for (int i = 0; i < 8; i++)
        pad[padlen + (size_t)i] = (unsigned char)(bits >> (56 - 8 * i));
    mp__sha1_update(c, pad, padlen + 8);
    for (int i = 0; i < 5; i++) {
        digest[4 * i] = (unsigned char)(c->h[i] >> 24);
        digest[4 * i + 1] = (unsigned char)(c->h[i] >> 16);
        digest[4 * i + 2] = (unsigned char)(c->h[i] >> 8);
        digest[4 * i + 3] = (unsigned char)c->h[i];
    }
}

void mp__sha1(const void *data, size_t len, unsigned char digest[20]) {
    mp__sha1_ctx c;
    mp__sha1_init(&c);
    mp__sha1_update(&c, data, len);
    mp__sha1_final(&c, digest);
}

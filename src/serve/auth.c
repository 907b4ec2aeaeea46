/* HTTP Basic authentication, decoded by hand: the header comes from the
 * network, so every byte is checked and nothing is read past its end. */
#include "serve/auth.h"

#include <string.h>

/* The value of a base64 digit (RFC 4648 §4), or -1. */
static int b64_value(unsigned char c) {
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Decodes n base64 characters (padding already removed) into out, which
 * holds at least n * 3 / 4 bytes. Returns the length, or -1 when a
 * character is not base64 or the length is impossible (n % 4 == 1). */
static long b64_decode(const char *in, size_t n, char *out) {
    if (n % 4 == 1)
        return -1;
    unsigned long acc = 0;
    int bits = 0;
    long len = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64_value((unsigned char)in[i]);
        if (v < 0)
            return -1;
        acc = ((acc << 6) | (unsigned long)v) & 0xFFFFFFUL;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[len++] = (char)((acc >> bits) & 0xFF);
        }
    }
    return len;
}

static int ascii_lower(int c) {
    return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

mp__srv_auth mp__srv_auth_parse(const char *header, char *out, size_t cap, const char **key,
                        const char **secret) {
    if (!header)
        return SRV_AUTH_MISSING;
    size_t hlen = strlen(header);
    if (hlen > SRV_AUTH_MAX_HEADER || cap < hlen)
        return SRV_AUTH_INVALID;
    static const char scheme[] = "basic";
    for (size_t i = 0; i < sizeof scheme - 1; i++)
        if (ascii_lower((unsigned char)header[i]) != scheme[i])
            return SRV_AUTH_INVALID; /* also stops at the NUL of a short header */
    const char *p = header + sizeof scheme - 1;
    if (*p != ' ')
        return SRV_AUTH_INVALID;
    while (*p == ' ')
        p++;
    size_t n = strlen(p);
    while (n > 0 && p[n - 1] == ' ')
        n--;
    size_t pad = 0;
    while (n > 0 && p[n - 1] == '=' && pad < 2) {
        n--;
        pad++;
    }
    /* Decoded bytes never outnumber encoded ones, so out (>= hlen) is big
     * enough with room for the NUL. */
    long len = b64_decode(p, n, out);
    if (len < 0 || (pad && (n + pad) % 4 != 0))
        return SRV_AUTH_INVALID;
    out[len] = '\0';
    if (memchr(out, '\0', (size_t)len))
        return SRV_AUTH_INVALID;
    char *colon = memchr(out, ':', (size_t)len);
    if (!colon || colon == out || colon == out + len - 1)
        return SRV_AUTH_INVALID;
    *colon = '\0';
    *key = out;
    *secret = colon + 1;
    return SRV_AUTH_OK;
}

int mp__srv_auth_equal(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    unsigned char diff = (unsigned char)(la != lb);
    size_t n = la < lb ? la : lb;
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

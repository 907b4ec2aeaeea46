#include "common/path.h"

#include <stdio.h>
#include <string.h>

/* A key is written as `.key` when it is a plain identifier, else as
 * `["key"]` so that paths stay unambiguous for names like "Account type". */
static int is_identifier(const char *k, size_t n) {
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)k[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$' ||
                 (i > 0 && c >= '0' && c <= '9');
        if (!ok)
            return 0;
    }
    return 1;
}

typedef struct sink {
    char *out;
    size_t cap;
    size_t len;
    int truncated;
} sink;

static void put(sink *s, const char *p, size_t n) {
    if (s->truncated)
        return;
    if (s->len + n + 1 > s->cap) {
        s->truncated = 1;
        return;
    }
    memcpy(s->out + s->len, p, n);
    s->len += n;
}

static void render(sink *s, const mp__path *p) {
    if (!p)
        return;
    render(s, p->parent);
    if (p->key) {
        if (is_identifier(p->key, p->key_len)) {
            if (s->len > 0)
                put(s, ".", 1);
            put(s, p->key, p->key_len);
        } else {
            put(s, "[\"", 2);
            for (size_t i = 0; i < p->key_len; i++) {
                unsigned char c = (unsigned char)p->key[i];
                if (c == '"' || c == '\\') {
                    char esc[2] = {'\\', (char)c};
                    put(s, esc, 2);
                } else if (c < 0x20) {
                    char esc[8];
                    int n = snprintf(esc, sizeof esc, "\\u%04x", c);
                    put(s, esc, (size_t)n);
                } else {
                    put(s, (const char *)&c, 1);
                }
            }
            put(s, "\"]", 2);
        }
    } else {
        char idx[32];
        int n = snprintf(idx, sizeof idx, "[%zu]", p->index);
        put(s, idx, (size_t)n);
    }
}

char *mp__path_render(const mp__path *path, char *out, size_t cap) {
    if (cap == 0)
        return out;
    sink s = {out, cap, 0, 0};
    render(&s, path);
    if (s.truncated && cap >= 4) {
        size_t at = s.len < cap - 4 ? s.len : cap - 4;
        memcpy(out + at, "...", 3);
        s.len = at + 3;
    }
    out[s.len] = '\0';
    return out;
}

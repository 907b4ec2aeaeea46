#include "serve/scan.h"

#include <stdint.h>
#include <string.h>

static int is_ws(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

size_t mp__srv_skip_ws(const char *s, size_t len, size_t pos) {
    if (pos == 0 && len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
        pos = 3;
    while (pos < len && is_ws(s[pos]))
        pos++;
    return pos;
}

/* pos is at an opening quote: the offset after the closing one, or SIZE_MAX. */
static size_t skip_string(const char *s, size_t len, size_t pos) {
    for (size_t i = pos + 1; i < len; i++) {
        if (s[i] == '\\')
            i++; /* the escaped byte cannot close the string */
        else if (s[i] == '"')
            return i + 1;
    }
    return SIZE_MAX;
}

/* The offset just after the value that starts at pos, or SIZE_MAX when it
 * is not closed before len or there is no value at pos. */
static size_t skip_value(const char *s, size_t len, size_t pos) {
    if (pos >= len)
        return SIZE_MAX;
    char c = s[pos];
    if (c == '"')
        return skip_string(s, len, pos);
    if (c == '{' || c == '[') {
        size_t depth = 0;
        for (size_t i = pos; i < len; i++) {
            char d = s[i];
            if (d == '"') {
                i = skip_string(s, len, i);
                if (i == SIZE_MAX)
                    return SIZE_MAX;
                i--; /* the loop steps past the closing quote */
            } else if (d == '{' || d == '[') {
                depth++;
            } else if (d == '}' || d == ']') {
                if (--depth == 0)
                    return i + 1;
            }
        }
        return SIZE_MAX;
    }
    /* A number or a literal: up to the next delimiter. */
    size_t i = pos;
    while (i < len && !is_ws(s[i]) && !strchr(",:]}[{\"", s[i]))
        i++;
    return i > pos ? i : SIZE_MAX;
}

int mp__srv_scan_object(const char *s, size_t len, mp__srv_span *span) {
    size_t start = mp__srv_skip_ws(s, len, 0);
    if (start >= len || s[start] != '{')
        return -1;
    size_t end = skip_value(s, len, start);
    if (end == SIZE_MAX || mp__srv_skip_ws(s, len, end) != len)
        return -1;
    span->off = start;
    span->len = end - start;
    return 0;
}

int mp__srv_scan_array(const char *s, size_t len, mp__srv_span *spans, size_t max, size_t *count) {
    size_t i = mp__srv_skip_ws(s, len, 0);
    *count = 0;
    if (i >= len || s[i] != '[')
        return -1;
    i = mp__srv_skip_ws(s, len, i + 1);
    if (i < len && s[i] == ']')
        return mp__srv_skip_ws(s, len, i + 1) == len ? 0 : -1;
    for (;;) {
        size_t end = skip_value(s, len, i);
        if (end == SIZE_MAX)
            return -1;
        if (*count < max)
            spans[*count] = (mp__srv_span){i, end - i};
        (*count)++;
        i = mp__srv_skip_ws(s, len, end);
        if (i >= len)
            return -1;
        if (s[i] == ']')
            return mp__srv_skip_ws(s, len, i + 1) == len ? 0 : -1;
        if (s[i] != ',')
            return -1;
        i = mp__srv_skip_ws(s, len, i + 1);
    }
}

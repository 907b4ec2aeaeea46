#include "common/alloc.h"
#include "codec/buffer.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int mp__buffer_grow(mp_buffer *b, size_t n) {
    if (n > SIZE_MAX / 2 - b->len)
        return -1;
    size_t need = b->len + n;
    size_t cap = b->cap < 256 ? 256 : b->cap;
    while (cap < need)
        cap *= 2;
    char *p;
    if (b->borrowed) {
        p = mp__malloc(cap + 1);
        if (p && b->len)
            memcpy(p, b->data, b->len);
    } else {
        p = mp__realloc(b->data, cap + 1);
    }
    if (!p)
        return -1;
    b->data = p;
    b->cap = cap;
    b->borrowed = 0;
    return 0;
}

void mp__buffer_borrow(mp_buffer *b, char *out, size_t cap) {
    /* Keep one byte for the NUL, as heap buffers do; with no room at all the
     * first write moves to the heap. */
    b->data = cap ? out : NULL;
    b->len = 0;
    b->cap = cap ? cap - 1 : 0;
    b->borrowed = 1;
}

mp_buffer *mp_buffer_new(size_t initial_capacity) {
    mp_buffer *b = mp__calloc(1, sizeof *b);
    if (!b)
        return NULL;
    if (mp__buffer_grow(b, initial_capacity ? initial_capacity : 256) != 0) {
        mp__free(b);
        return NULL;
    }
    b->data[0] = '\0';
    return b;
}

void mp_buffer_free(mp_buffer *b) {
    if (!b)
        return;
    if (!b->borrowed)
        mp__free(b->data);
    mp__free(b);
}

void mp_buffer_clear(mp_buffer *b) {
    if (!b)
        return;
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

const char *mp_buffer_data(const mp_buffer *b) {
    return (b && b->data) ? b->data : "";
}

size_t mp_buffer_length(const mp_buffer *b) {
    return b ? b->len : 0;
}

mp_error mp_buffer_append(mp_buffer *b, const char *bytes, size_t len) {
    if (!b || (!bytes && len))
        return MP_ERR_INVALID_ARGUMENT;
    if (mp__buffer_reserve(b, len) != 0)
        return MP_ERR_NOMEM;
    if (len)
        memcpy(b->data + b->len, bytes, len);
    b->len += len;
    b->data[b->len] = '\0';
    return MP_OK;
}

char *mp_buffer_detach(mp_buffer *b, size_t *len) {
    if (!b || !b->data || b->borrowed)
        return NULL;
    char *p = b->data;
    p[b->len] = '\0';
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}

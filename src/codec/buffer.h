/* The growable buffer's insides, shared by the encoder's hot path. */
#ifndef MP_CODEC_BUFFER_H
#define MP_CODEC_BUFFER_H

#include <stddef.h>

#include "mparticle/codec.h"

struct mp_buffer {
    char *data;
    size_t len;
    size_t cap;     /* usable bytes; one more is always allocated for the NUL */
    int borrowed;   /* data belongs to the caller (mp_encode_batch_to) */
};

/* Makes room for n more bytes. Returns 0, or -1 when out of memory. */
int mp__buffer_grow(mp_buffer *b, size_t n);

static inline int mp__buffer_reserve(mp_buffer *b, size_t n) {
    return (b->cap - b->len >= n) ? 0 : mp__buffer_grow(b, n);
}

/* Initialises b over caller memory; it moves to the heap if it must grow. */
void mp__buffer_borrow(mp_buffer *b, char *out, size_t cap);

#endif

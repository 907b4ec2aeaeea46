/* A bump allocator for memory that lives and dies together (a decoded
 * document): allocation is a pointer increment, freeing is one pass over a
 * short list of chunks. Not thread-safe; one arena per owner. */
#ifndef MP_CODEC_ARENA_H
#define MP_CODEC_ARENA_H

#include <stddef.h>
#include <string.h>

/* Where the arena gets its chunks: the decoder passes the library's
 * allocator (common/alloc.h), or a test's failing one. */
typedef void *(*mp__malloc_fn)(size_t);
typedef void (*mp__free_fn)(void *);

struct mp__arena_chunk;

typedef struct mp__arena {
    struct mp__arena_chunk *head; /* the chunk being filled, then older ones */
    char *cur;                    /* next free byte of head */
    char *end;                    /* one past head's last byte */
    size_t next_size;             /* size of the next regular chunk */
    size_t footprint;             /* bytes obtained from malloc_fn */
    mp__malloc_fn malloc_fn;
    mp__free_fn free_fn;
} mp__arena;

/* An empty arena; allocates nothing until the first request. */
void mp__arena_init(mp__arena *a, mp__malloc_fn malloc_fn, mp__free_fn free_fn);

/* Frees every chunk. The arena can be reused after another init. */
void mp__arena_free(mp__arena *a);

/* Forgets every allocation but keeps memory for the next round: one chunk
 * of the size the regular chunks added up to (the streaming decoder
 * resets its arena for each batch, so its memory follows the largest
 * batch, not the input). */
void mp__arena_reset(mp__arena *a);

/* Allocates and zeroes count * size bytes aligned for any model struct.
 * NULL on overflow or when out of memory. count may be 0: then the result
 * is a valid, non-NULL, unique pointer to nothing. */
void *mp__arena_calloc(mp__arena *a, size_t count, size_t size);

/* Copies src[0..n) to memory aligned for any model struct. NULL when out
 * of memory. n may be 0, with the same unique pointer as calloc's. */
void *mp__arena_memdup(mp__arena *a, const void *src, size_t n);

/* The slow path of mp__arena_strndup(): a new chunk. */
char *mp__arena_strndup_slow(mp__arena *a, const char *s, size_t n);

/* Copies s[0..n) and a NUL into the arena (no alignment). NULL when out of
 * memory. Inline: the decoder copies every string it keeps. */
static inline char *mp__arena_strndup(mp__arena *a, const char *s, size_t n) {
    if (a->cur && (size_t)(a->end - a->cur) > n) {
        char *p = a->cur;
        a->cur += n + 1;
        memcpy(p, s, n);
        p[n] = '\0';
        return p;
    }
    return mp__arena_strndup_slow(a, s, n);
}

/* Total bytes obtained from malloc_fn, for measurements. */
size_t mp__arena_footprint(const mp__arena *a);

#endif

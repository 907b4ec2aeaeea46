/* Bump allocator: see arena.h. */
#include "codec/arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <string.h>

typedef struct mp__arena_chunk {
    struct mp__arena_chunk *next;
    size_t size;   /* bytes of data */
    int dedicated; /* holds one large request */
    alignas(max_align_t) char data[];
} mp__arena_chunk;

#define ALIGN alignof(max_align_t)
/* A document of one small batch fits the first chunk; big inputs double
 * up to the cap, so a 24 MB input costs a few dozen mallocs. */
#define FIRST_CHUNK 4096u
#define MAX_CHUNK (1024u * 1024u)

void mp__arena_init(mp__arena *a, mp__malloc_fn malloc_fn, mp__free_fn free_fn) {
    a->head = NULL;
    a->cur = NULL;
    a->end = NULL;
    a->next_size = FIRST_CHUNK;
    a->footprint = 0;
    a->malloc_fn = malloc_fn;
    a->free_fn = free_fn;
}

void mp__arena_free(mp__arena *a) {
    mp__arena_chunk *c = a->head;
    while (c) {
        mp__arena_chunk *next = c->next;
        a->free_fn(c);
        c = next;
    }
    a->head = NULL;
    a->cur = a->end = NULL;
    a->footprint = 0;
}

static mp__arena_chunk *new_chunk(mp__arena *a, size_t size);

/* Keeps one regular chunk as large as all the regular chunks together, so
 * that the next batch of the same size allocates nothing, and frees the
 * rest (large requests' own chunks included: a 100 MB string is not kept
 * for the batches after it). */
void mp__arena_reset(mp__arena *a) {
    size_t regular = 0, chunks = 0;
    mp__arena_chunk *keep = NULL;
    for (mp__arena_chunk *c = a->head; c; c = c->next) {
        if (c->dedicated)
            continue;
        regular += c->size;
        chunks++;
        keep = c;
    }
    if (chunks > 1)
        keep = NULL;
    mp__arena_chunk *c = a->head;
    a->footprint = 0;
    while (c) {
        mp__arena_chunk *next = c->next;
        if (c != keep)
            a->free_fn(c);
        c = next;
    }
    /* Several chunks: one of their total size replaces them (if that
     * fails, the next batch starts from small chunks again). */
    if (!keep && regular)
        keep = new_chunk(a, regular);
    else if (keep)
        a->footprint = sizeof(mp__arena_chunk) + keep->size;
    a->head = keep;
    if (keep) {
        keep->next = NULL;
        a->cur = keep->data;
        a->end = keep->data + keep->size;
    } else {
        a->cur = a->end = NULL;
    }
}

static mp__arena_chunk *new_chunk(mp__arena *a, size_t size) {
    if (size > SIZE_MAX - sizeof(mp__arena_chunk))
        return NULL;
    mp__arena_chunk *c = a->malloc_fn(sizeof(mp__arena_chunk) + size);
    if (c) {
        a->footprint += sizeof(mp__arena_chunk) + size;
        c->size = size;
        c->dedicated = 0;
    }
    return c;
}

/* Slow path: the current chunk cannot hold n bytes. Requests bigger than a
 * quarter of a regular chunk get a chunk of their own, linked behind the
 * current one so that its free space is not thrown away. */
static void *alloc_slow(mp__arena *a, size_t n) {
    if (n > a->next_size / 4) {
        mp__arena_chunk *c = new_chunk(a, n);
        if (!c)
            return NULL;
        c->dedicated = 1;
        if (a->head) {
            c->next = a->head->next;
            a->head->next = c;
        } else {
            c->next = NULL;
            a->head = c;
        }
        return c->data;
    }
    mp__arena_chunk *c = new_chunk(a, a->next_size);
    if (!c)
        return NULL;
    c->next = a->head;
    a->head = c;
    a->cur = c->data + n;
    a->end = c->data + a->next_size;
    if (a->next_size < MAX_CHUNK)
        a->next_size *= 2;
    return c->data;
}

/* Free bytes in the current chunk (none before the first). */
static inline size_t avail(const mp__arena *a) {
    return a->cur ? (size_t)(a->end - a->cur) : 0;
}

/* n bytes at the current position, unaligned. */
static inline void *bump(mp__arena *a, size_t n) {
    if (avail(a) >= n) {
        void *p = a->cur;
        a->cur += n;
        return p;
    }
    return alloc_slow(a, n);
}

/* n bytes aligned for any model struct, not zeroed. */
static void *alloc_aligned(mp__arena *a, size_t n) {
    if (n == 0)
        n = 1; /* still a real, non-NULL pointer: `[]` must differ from absent */
    if (n > SIZE_MAX - ALIGN)
        return NULL;
    /* Round the start up; chunk data is ALIGN-aligned, so only the offset
     * matters. A fresh chunk from the slow path is aligned already. */
    size_t pad = (size_t)(-(uintptr_t)a->cur) & (ALIGN - 1);
    size_t room = avail(a);
    void *p;
    if (room >= pad && room - pad >= n) {
        p = a->cur + pad;
        a->cur += pad + n;
    } else {
        p = alloc_slow(a, n);
    }
    return p;
}

void *mp__arena_calloc(mp__arena *a, size_t count, size_t size) {
    if (size && count > SIZE_MAX / size)
        return NULL;
    size_t n = count * size;
    void *p = alloc_aligned(a, n);
    if (p)
        memset(p, 0, n);
    return p;
}

void *mp__arena_memdup(mp__arena *a, const void *src, size_t n) {
    void *p = alloc_aligned(a, n);
    if (p && n)
        memcpy(p, src, n);
    return p;
}

char *mp__arena_strndup_slow(mp__arena *a, const char *s, size_t n) {
    if (n == SIZE_MAX)
        return NULL;
    char *p = bump(a, n + 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

size_t mp__arena_footprint(const mp__arena *a) {
    return a->footprint;
}

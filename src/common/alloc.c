/*
 * The allocator hook. Consoles, engines and embedded programs route memory
 * through their own allocators (sentry-native, hiredis, libgit2 and
 * protobuf-c all offer this); the library takes every byte it allocates
 * through the three functions set here, libc's by default.
 *
 * The functions are set once, before the library allocates anything: a
 * block must be freed by the allocator that made it, so switching later
 * would hand blocks to the wrong one. A call after the first allocation is
 * refused rather than obeyed.
 */
#include "common/alloc.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mparticle/common.h"

static void *(*malloc_fn)(size_t) = malloc;
static void *(*realloc_fn)(void *, size_t) = realloc;
static void (*free_fn)(void *) = free;
static atomic_int allocated; /* something was allocated: too late to switch */

mp_error mp_set_allocator(void *(*m)(size_t), void *(*r)(void *, size_t), void (*f)(void *)) {
    if ((m || r || f) && !(m && r && f))
        return MP_ERR_INVALID_ARGUMENT; /* all three, or none for libc's */
    if (atomic_load(&allocated))
        return MP_ERR_INVALID_ARGUMENT;
    malloc_fn = m ? m : malloc;
    realloc_fn = r ? r : realloc;
    free_fn = f ? f : free;
    return MP_OK;
}

static void note_use(void) {
    if (!atomic_load_explicit(&allocated, memory_order_relaxed))
        atomic_store(&allocated, 1);
}

void *mp__malloc(size_t size) {
    note_use();
    return malloc_fn(size);
}

void *mp__calloc(size_t count, size_t size) {
    if (size && count > SIZE_MAX / size)
        return NULL;
    void *p = mp__malloc(count * size);
    if (p)
        memset(p, 0, count * size);
    return p;
}

void *mp__realloc(void *ptr, size_t size) {
    note_use();
    return realloc_fn(ptr, size);
}

void mp__free(void *ptr) {
    if (ptr)
        free_fn(ptr);
}

char *mp__strdup(const char *s) {
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *p = mp__malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

char *mp__strcat2(const char *a, const char *b) {
    size_t na = strlen(a), nb = strlen(b);
    char *s = mp__malloc(na + nb + 1);
    if (s) {
        memcpy(s, a, na);
        memcpy(s + na, b, nb + 1);
    }
    return s;
}

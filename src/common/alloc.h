/* The library's allocator (mp_set_allocator() in common.h): every
 * allocation of the library goes through these. */
#ifndef MP_COMMON_ALLOC_H
#define MP_COMMON_ALLOC_H

#include <stddef.h>

void *mp__malloc(size_t size);
/* Zeroed; NULL when count * size overflows. */
void *mp__calloc(size_t count, size_t size);
void *mp__realloc(void *ptr, size_t size);
void mp__free(void *ptr);
/* A copy of s (NULL for NULL or out of memory). */
char *mp__strdup(const char *s);
/* a followed by b in one new string (NULL when out of memory). */
char *mp__strcat2(const char *a, const char *b);

#endif

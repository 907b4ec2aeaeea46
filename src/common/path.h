/* JSON paths for messages: a linked list of segments on the caller's stack,
 * so walking the model costs two stores per level and nothing is rendered
 * unless a problem is reported. */
#ifndef MP_COMMON_PATH_H
#define MP_COMMON_PATH_H

#include <stddef.h>

typedef struct mp__path {
    const struct mp__path *parent;
    const char *key; /* object member name, or NULL for an array index */
    size_t key_len;
    size_t index;
} mp__path;

#define MP__PATH_KEY(parent, k, n) {(parent), (k), (n), 0}
#define MP__PATH_INDEX(parent, i) {(parent), NULL, 0, (i)}

/* Renders e.g. `events[2].data.custom_attributes["Account type"]` into out
 * (always NUL-terminated, truncated with "..." if cap is too small).
 * Returns out. */
char *mp__path_render(const mp__path *path, char *out, size_t cap);

/* Big enough for any path a message needs; longer ones are truncated. */
#define MP__PATH_MAX 512

#endif

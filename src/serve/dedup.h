/* Deduplication by source_request_id per API key (docs/api-notes.md §2.5), in
 * bounded memory. */
#ifndef MP_SERVE_DEDUP_H
#define MP_SERVE_DEDUP_H

#include <stddef.h>

typedef struct mp__srv_dedup mp__srv_dedup;

/*
 * A set that remembers at most `capacity` (>= 1) ids and at most
 * `max_bytes` bytes of them; past either, the oldest ids are forgotten
 * first (FIFO), so an id sent again after that many others is accepted
 * again. NULL when out of memory. Not thread-safe: the caller locks.
 */
mp__srv_dedup *mp__srv_dedup_new(size_t capacity, size_t max_bytes);
void mp__srv_dedup_free(mp__srv_dedup *d);

/*
 * Adds the pair (api_key, id). Returns 1 if it was already there (a
 * duplicate), 0 if it was added, -1 when out of memory (nothing added).
 */
int mp__srv_dedup_add(mp__srv_dedup *d, const char *api_key, const char *id);

/* 1 if the pair is remembered, 0 if not, -1 when out of memory. */
int mp__srv_dedup_contains(const mp__srv_dedup *d, const char *api_key, const char *id);

/* Number of ids remembered. */
size_t mp__srv_dedup_count(const mp__srv_dedup *d);

#endif

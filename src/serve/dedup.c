/*
 * A hash set with insertion order: the entries live in a ring (oldest at
 * `head`) so eviction is O(1) plus unlinking from a short bucket chain,
 * and the ring grows by doubling up to the capacity, so an idle server
 * holds little memory.
 *
 * Keys are stored whole ("api_key\0id") and compared byte for byte: a hash
 * collision must never make the server drop a batch as a duplicate. The
 * hash is not keyed: a client that crafts colliding ids makes lookups
 * slower (chains stay bounded by the capacity), never wrong.
 */
#include "common/alloc.h"
#include "serve/dedup.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
    uint64_t hash;
    char *key;
    size_t len;
    size_t next; /* next entry in the bucket chain, as ring index + 1; 0 = end */
} entry;

struct mp__srv_dedup {
    entry *ring;
    size_t ring_cap; /* allocated entries */
    size_t head;     /* oldest entry */
    size_t count;
    size_t capacity; /* most entries ever */
    size_t bytes;    /* sum of key lengths */
    size_t max_bytes;
    size_t *buckets; /* ring index + 1 of a chain's first entry; 0 = empty */
    size_t nbuckets; /* a power of two, >= 2 * ring_cap */
};

#define INITIAL_RING 64

static uint64_t fnv1a(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h ^ (h >> 29);
}

static size_t slot(const mp__srv_dedup *d, size_t i) {
    return (d->head + i) % d->ring_cap;
}

static size_t *bucket_of(mp__srv_dedup *d, uint64_t hash) {
    return &d->buckets[hash & (d->nbuckets - 1)];
}

/* Reallocates the ring (unwrapped, oldest first) and rebuilds the chains. */
static int resize(mp__srv_dedup *d, size_t ring_cap) {
    size_t nb = 1;
    while (nb < 2 * ring_cap)
        nb <<= 1;
    entry *ring = mp__malloc(ring_cap * sizeof *ring);
    size_t *buckets = mp__calloc(nb, sizeof *buckets);
    if (!ring || !buckets) {
        mp__free(ring);
        mp__free(buckets);
        return -1;
    }
    for (size_t i = 0; i < d->count; i++)
        ring[i] = d->ring[slot(d, i)];
    mp__free(d->ring);
    mp__free(d->buckets);
    d->ring = ring;
    d->ring_cap = ring_cap;
    d->head = 0;
    d->buckets = buckets;
    d->nbuckets = nb;
    for (size_t i = 0; i < d->count; i++) {
        size_t *b = bucket_of(d, ring[i].hash);
        ring[i].next = *b;
        *b = i + 1;
    }
    return 0;
}

mp__srv_dedup *mp__srv_dedup_new(size_t capacity, size_t max_bytes) {
    mp__srv_dedup *d = mp__calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->capacity = capacity ? capacity : 1;
    d->max_bytes = max_bytes;
    if (resize(d, d->capacity < INITIAL_RING ? d->capacity : INITIAL_RING)) {
        mp__free(d);
        return NULL;
    }
    return d;
}

void mp__srv_dedup_free(mp__srv_dedup *d) {
    if (!d)
        return;
    for (size_t i = 0; i < d->count; i++)
        mp__free(d->ring[slot(d, i)].key);
    mp__free(d->ring);
    mp__free(d->buckets);
    mp__free(d);
}

size_t mp__srv_dedup_count(const mp__srv_dedup *d) {
    return d->count;
}

/* Forgets the oldest entry. */
static void evict_oldest(mp__srv_dedup *d) {
    size_t victim = d->head;
    entry *e = &d->ring[victim];
    size_t *link = bucket_of(d, e->hash);
    while (*link != victim + 1)
        link = &d->ring[*link - 1].next;
    *link = e->next;
    d->bytes -= e->len;
    mp__free(e->key);
    d->head = (d->head + 1) % d->ring_cap;
    d->count--;
}

/* Whether key[0..len) with this hash is remembered. */
static int find(const mp__srv_dedup *d, const char *key, size_t len, uint64_t hash) {
    for (size_t i = *bucket_of((mp__srv_dedup *)d, hash); i; i = d->ring[i - 1].next) {
        const entry *e = &d->ring[i - 1];
        if (e->hash == hash && e->len == len && memcmp(e->key, key, len) == 0)
            return 1;
    }
    return 0;
}

int mp__srv_dedup_contains(const mp__srv_dedup *d, const char *api_key, const char *id) {
    size_t klen = strlen(api_key), ilen = strlen(id);
    size_t len = klen + 1 + ilen;
    char *key = mp__malloc(len);
    if (!key)
        return -1;
    memcpy(key, api_key, klen + 1);
    memcpy(key + klen + 1, id, ilen);
    int found = find(d, key, len, fnv1a(key, len));
    mp__free(key);
    return found;
}

int mp__srv_dedup_add(mp__srv_dedup *d, const char *api_key, const char *id) {
    size_t klen = strlen(api_key), ilen = strlen(id);
    size_t len = klen + 1 + ilen;
    char *key = mp__malloc(len);
    if (!key)
        return -1;
    memcpy(key, api_key, klen + 1);
    memcpy(key + klen + 1, id, ilen);
    uint64_t hash = fnv1a(key, len);

    if (find(d, key, len, hash)) {
        mp__free(key);
        return 1;
    }
    /* Make room: the byte budget first (an id bigger than the whole budget
     * is still kept, alone), then the count. */
    while (d->count > 0 && d->bytes + len > d->max_bytes)
        evict_oldest(d);
    if (d->count == d->capacity)
        evict_oldest(d);
    else if (d->count == d->ring_cap) {
        size_t grow = d->ring_cap * 2 < d->capacity ? d->ring_cap * 2 : d->capacity;
        if (resize(d, grow)) {
            mp__free(key);
            return -1;
        }
    }
    size_t at = slot(d, d->count);
    size_t *b = bucket_of(d, hash);
    d->ring[at] = (entry){hash, key, len, *b};
    *b = at + 1;
    d->count++;
    d->bytes += len;
    return 0;
}

/*
 * The packer: which batches fit in one bulk request. The Events API takes
 * at most 100 batches per request and a body under 256 KB; a request body
 * is the batches' JSON joined by commas in brackets, so its size is known
 * from the batches' sizes without encoding anything again.
 */
#ifndef MP_DELIVERY_PACKER_H
#define MP_DELIVERY_PACKER_H

#include <stddef.h>

#include "mparticle/codec.h"

typedef struct mp__packer {
    size_t batches; /* batches taken */
    size_t bytes;   /* body size so far, brackets and commas included */
} mp__packer;

/* An empty request: "[]". */
void mp__packer_start(mp__packer *p);
/* 1 if a batch of `len` JSON bytes still fits (the first batch always
 * does: a batch alone over the limit is the validator's business). */
int mp__packer_fits(const mp__packer *p, size_t len);
/* Counts a batch of `len` bytes in. */
void mp__packer_add(mp__packer *p, size_t len);

/* The bulk body of n batches: "[" j0 "," j1 … "]" appended to out. */
mp_error mp__pack_write(mp_buffer *out, const char *const *jsons, const size_t *lens, size_t n);

#endif

/*
 * Test support: a generator of complete, valid batches, driven by the schema
 * tables (src/schema/schema.c). It fills every field of every object, so a
 * field added to the tables later is generated, encoded, decoded, compared
 * and schema-checked by the existing tests without touching them.
 *
 * What a generated batch holds:
 *  - one event of every event type except pre_attribution and push_reaction
 *    (they have no inbound model and validation rejects them), and three
 *    commerce events: product_action only, promotion_action only and
 *    product_impressions only (the API's exactly-one rule), each with a
 *    shopping_cart;
 *  - strings: valid UTF-8 mixing ASCII with quotes, backslashes, control
 *    characters and 2-, 3- and 4-byte characters; UUID fields get random
 *    UUIDs, IP fields IPv4 or IPv6 literals, and strings with a length limit
 *    sometimes reach it exactly;
 *  - enum fields cycle through every value the API accepts as the variant
 *    number grows (variants 0..24 cover the longest enum);
 *  - int64 over the full range, INT64_MIN and INT64_MAX included;
 *  - finite doubles with awkward shortest forms (0.1, 19.99, 1e-7, 1e21,
 *    5e-324, -0.0, ...);
 *  - attribute values of every scalar type and null, lists of scalars only
 *    where the API allows them (user attributes), strings only where it
 *    demands them (screen_view custom_flags, flagged maps).
 * Every batch passes mp_validate_batch() without errors and the official
 * JSON Schema with the patches of tests/schema/check_schema.py, and encodes
 * to well under 128 KB.
 *
 * The same (seed, variant, mode) always gives the same batch, whatever was
 * generated before, so a failure names everything needed to reproduce it.
 */
#ifndef MP_TEST_GENERATE_H
#define MP_TEST_GENERATE_H

#include <stddef.h>
#include <stdint.h>

#include "mparticle/model.h"

typedef struct mp_gen mp_gen;

/** New generator; aborts the test program if out of memory. */
mp_gen *mp_gen_new(uint64_t seed);

/** Frees the generator and every batch it made. NULL is fine. */
void mp_gen_free(mp_gen *g);

/** Frees every batch made so far; the generator stays usable. */
void mp_gen_reset(mp_gen *g);

/**
 * A batch with every field set to a value. Owned by g (valid until
 * mp_gen_reset() or mp_gen_free()).
 */
const mp_batch *mp_gen_batch(mp_gen *g, int variant);

/**
 * Like mp_gen_batch(), but about a third of the optional fields are an
 * explicit JSON null (MP_NULLED, MP_STRING_NULL, MP_NULL_OF(T) objects and
 * lists), for round-trip tests of the null states. Fields that the official
 * schema types as non-nullable are never null.
 */
const mp_batch *mp_gen_batch_nulls(mp_gen *g, int variant);

/** Bytes the generator holds for its batches (a measurement for tests). */
size_t mp_gen_bytes(const mp_gen *g);

#endif

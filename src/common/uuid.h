/* UUIDs for source_request_id, and the randomness and hash behind them. */
#ifndef MP_COMMON_UUID_H
#define MP_COMMON_UUID_H

#include <stddef.h>
#include <stdint.h>

#include "common/sha1.h"

/* Length of a UUID in its text form, without the NUL. */
#define MP__UUID_LEN 36

/* Fills buf with random bytes from the OS. Returns 0, or -1 if none could be had. */
int mp__random_bytes(void *buf, size_t len);

/* Writes a random (version 4) UUID, 36 characters and a NUL, into out[37]. */
void mp__uuid_v4(char out[MP__UUID_LEN + 1]);

/*
 * Writes the name-based (version 5, SHA-1) UUID of data[0..len) in the
 * namespace `ns` (16 bytes), RFC 9562 §5.5, into out[37].
 */
void mp__uuid_v5(const unsigned char ns[16], const void *data, size_t len,
                 char out[MP__UUID_LEN + 1]);

/* The namespace of libmparticle's content-derived ids (docs/uploader.md):
 * 6d706172-7469-5c6c-8e0c-6c6962726172 ("mparticle" / "libmpar" in ASCII). */
extern const unsigned char mp__uuid_namespace[16];

/* The UUIDv5 text of a finished name hash (version and variant bits set). */
void mp__uuid_v5_from_sha1(mp__sha1_ctx *c, char out[MP__UUID_LEN + 1]);

#endif

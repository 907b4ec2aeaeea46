/* SHA-1 (FIPS 180-4), for name-based UUIDs (uuid.h): the content ids of
 * `mparticle send` hash every batch it sends, so this is on the send path. */
#ifndef MP_COMMON_SHA1_H
#define MP_COMMON_SHA1_H

#include <stddef.h>
#include <stdint.h>

/* SHA-1 of data[0..len) into digest[20]. */
void mp__sha1(const void *data, size_t len, unsigned char digest[20]);

/* An incremental SHA-1, for hashing a message that lies in several pieces. */
typedef struct mp__sha1_ctx {
    uint32_t h[5];
    uint64_t length;
    unsigned char block[64];
    size_t fill;
} mp__sha1_ctx;

void mp__sha1_init(mp__sha1_ctx *c);
void mp__sha1_update(mp__sha1_ctx *c, const void *data, size_t len);
void mp__sha1_final(mp__sha1_ctx *c, unsigned char digest[20]);

/* For tests: whether the CPU's SHA instructions are used (chosen once, at
 * the first hash), and a switch to the portable code and back. Returns
 * whether the instructions can be used at all. Not thread-safe. */
int mp__sha1_use_hw(int on);

#endif

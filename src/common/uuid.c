/* UUIDs (RFC 9562) for source_request_id: random ones (version 4) and
 * content-derived ones (version 5, SHA-1 of a name in a namespace). */
#include "common/uuid.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/fork.h"

const unsigned char mp__uuid_namespace[16] = {0x6d, 0x70, 0x61, 0x72, 0x74, 0x69, 0x5c, 0x6c,
                                              0x8e, 0x0c, 0x6c, 0x69, 0x62, 0x72, 0x61, 0x72};

int mp__random_bytes(void *buf, size_t len) {
    unsigned char *p = buf;
    while (len > 0) {
        ssize_t n = getrandom(p, len, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        p += n;
        len -= (size_t)n;
    }
    if (len == 0)
        return 0;
    /* Kernels without getrandom(2): the device file. */
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    while (len > 0) {
        ssize_t n = read(fd, p, len);
        if (n <= 0) {
            if (n < 0 && errno == EINTR)
                continue;
            close(fd);
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    close(fd);
    return 0;
}

/* The text form of 16 bytes, with the version nibble and the RFC variant set. */
static void format_uuid(unsigned char b[16], int version, char out[MP__UUID_LEN + 1]) {
    static const char hex[] = "0123456789abcdef";
    b[6] = (unsigned char)((b[6] & 0x0f) | (version << 4));
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    int o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 15];
    }
    out[o] = '\0';
}

/*
 * Random UUIDs come from a per-thread xoshiro256** generator seeded with
 * 256 bits from the OS, not from a getrandom() call per id: a syscall per
 * enqueued batch was 3% of the uploader's enqueue. The ids need to be
 * unique, not secret. A forked child would repeat its parent's sequence,
 * so a fork handler moves a generation counter and each thread reseeds
 * when its seed is older than the last fork.
 */
typedef struct rng {
    uint64_t s[4];
    unsigned generation;
    int seeded;
} rng;

static _Thread_local rng thread_rng;

static uint64_t rotl(uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

static uint64_t next(rng *r) {
    uint64_t result = rotl(r->s[1] * 5, 7) * 9;
    uint64_t t = r->s[1] << 17;
    r->s[2] ^= r->s[0];
    r->s[3] ^= r->s[1];
    r->s[1] ^= r->s[2];
    r->s[0] ^= r->s[3];
    r->s[2] ^= t;
    r->s[3] = rotl(r->s[3], 45);
    return result;
}

static void seed(rng *r) {
    if (mp__random_bytes(r->s, sizeof r->s) != 0 || !(r->s[0] | r->s[1] | r->s[2] | r->s[3])) {
        /* No OS randomness: still unique enough per process and thread for dedup ids. */
        uint64_t x = (uint64_t)mp__realtime_ms() * 0x9E3779B97F4A7C15ull ^ (uint64_t)getpid() ^
                     (uint64_t)(uintptr_t)r;
        for (int i = 0; i < 4; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            r->s[i] = x | 1;
        }
    }
}

void mp__uuid_v4(char out[MP__UUID_LEN + 1]) {
    rng *r = &thread_rng;
    unsigned generation = mp__fork_generation();
    if (!r->seeded || r->generation != generation) {
        seed(r);
        r->generation = generation;
        r->seeded = 1;
    }
    unsigned char b[16];
    uint64_t hi = next(r), lo = next(r);
    memcpy(b, &hi, 8);
    memcpy(b + 8, &lo, 8);
    format_uuid(b, 4, out);
}

void mp__uuid_v5_from_sha1(mp__sha1_ctx *c, char out[MP__UUID_LEN + 1]) {
    unsigned char digest[20];
    mp__sha1_final(c, digest);
    format_uuid(digest, 5, out);
}

void mp__uuid_v5(const unsigned char ns[16], const void *data, size_t len,
                 char out[MP__UUID_LEN + 1]) {
    mp__sha1_ctx c;
    mp__sha1_init(&c);
    mp__sha1_update(&c, ns, 16);
    mp__sha1_update(&c, data, len);
    mp__uuid_v5_from_sha1(&c, out);
}

/*
 * The spool's files, as docs/spool.md describes them (format version 1).
 * Everything is little-endian.
 *
 *   DIR/lock                 flock()ed by the process using the spool; holds its pid
 *   DIR/<first seq, 20 digits>.seg   segments, appended to, deleted when fully acknowledged
 *
 * A segment starts with a 32-byte header, then records, each a 24-byte
 * header and a body:
 *
 *   segment header: "MPSPOOL\n", u32 version, u32 header size (32),
 *                   u64 first seq, u32 zero, u32 CRC-32C of bytes 0..28
 *   record header:  u32 magic "MPSR", u32 CRC-32C of bytes 8..(24 + length),
 *                   u32 length of the body, u8 type, u8[3] zero,
 *                   u64 seq (a batch) or count (an ack)
 *   batch body:     u64 enqueue time (ms since the epoch), u32 JSON length,
 *                   u32 id length, u32 envelope offset, u32 envelope length,
 *                   u32 events offset, u32 events length, u32 event count,
 *                   u32 flags (bit 0: mergeable), the JSON, the id
 *   ack body:       u64 seq × count: those batches have their final report
 */
#ifndef MP_SPOOL_FORMAT_H
#define MP_SPOOL_FORMAT_H

#include <stdint.h>
#include <string.h>

#define MP__SPOOL_VERSION 1
#define MP__SPOOL_MAGIC "MPSPOOL\n"
#define MP__SPOOL_HEADER_SIZE 32
#define MP__SPOOL_RECORD_MAGIC 0x5253504Du /* "MPSR" */
#define MP__SPOOL_RECORD_HEADER 24
#define MP__SPOOL_BATCH_META 40
/* No record body is larger: a batch is at most 128 KB of JSON (the API's
 * limit, checked at enqueue) plus its id; a larger length is corruption. */
#define MP__SPOOL_MAX_BODY (4u * 1024 * 1024)
/* Acks per ack record at most (the uploader acks one request at a time). */
#define MP__SPOOL_MAX_ACKS 4096

enum { MP__REC_BATCH = 1, MP__REC_ACK = 2 };

static inline void mp__put32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static inline void mp__put64(unsigned char *p, uint64_t v) {
    mp__put32(p, (uint32_t)v);
    mp__put32(p + 4, (uint32_t)(v >> 32));
}

static inline uint32_t mp__get32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t mp__get64(const unsigned char *p) {
    return (uint64_t)mp__get32(p) | (uint64_t)mp__get32(p + 4) << 32;
}

#endif

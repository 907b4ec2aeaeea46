/*
 * Reading segments back: the scan that recovery and inspection share.
 * A segment is mapped read-only and walked record by record; a record
 * whose header or checksum is wrong starts a damaged region, which ends at
 * the next place where a whole, checksummed record starts (so one flipped
 * bit costs one record, not the rest of the file), or at the end of the
 * file (a torn tail).
 */
#ifndef MP_SPOOL_SCAN_H
#define MP_SPOOL_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "mparticle/common.h"

/* A batch record found by a scan. */
typedef struct mp__scan_batch {
    uint64_t seq;
    size_t segment;      /* index in the scan's list of segments */
    uint64_t offset;     /* of the record header in its segment */
    uint32_t length;     /* of the record, header included */
    uint32_t json_len;
    int64_t enqueued_unixtime_ms;
    int live;            /* no ack seen for it */
} mp__scan_batch;

typedef struct mp__scan {
    mp__scan_batch *batches; /* in seq order */
    size_t count, cap;
    uint64_t max_seq;
    uint64_t corrupt_records, corrupt_bytes;
    uint64_t torn_at;        /* where the last segment's valid records end */
    int torn;                /* the last segment scanned ends in damage */
} mp__scan;

/* Checks a segment's 32-byte header: 0 when good, MP_ERR_IO when it is not
 * a spool segment (or was torn while being created), MP_ERR_RANGE when its
 * format version is newer than this library's (*version says which). */
mp_error mp__scan_header(const unsigned char *data, size_t size, uint32_t *version);

/* Scans the records of segment number `segment` (data[0..size) is the
 * whole file), adding batches and applying acks. MP_ERR_NOMEM. */
mp_error mp__scan_records(mp__scan *s, size_t segment, const unsigned char *data, size_t size);

/* The body of a batch record that is known to be whole: checks it again
 * (the file may have changed on the device) and returns a pointer to its
 * 40-byte meta, or NULL when it no longer checks out. */
const unsigned char *mp__scan_batch_body(const unsigned char *record, size_t size);

void mp__scan_free(mp__scan *s);

#endif

/*
 * The spool: the uploader's batches on disk from enqueue until their report
 * is final, so that a crash, a kill or a power cut loses nothing that
 * enqueue accepted. An append-only log of segments (format.h), one process
 * at a time (flock), recovered on open: every batch without an ack is
 * handed back, with its original source_request_id, to be sent again.
 *
 * Why a log of our own and not SQLite: docs/spool.md has the measurements.
 *
 * Thread-safety: every call may be made from any thread.
 */
#ifndef MP_SPOOL_SPOOL_H
#define MP_SPOOL_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "delivery/payload.h"
#include "mparticle/common.h"

typedef struct mp__spool mp__spool;

typedef struct mp__spool_options {
    const char *dir;      /* created (0700) if missing */
    int power;            /* 1 = appends are on the device (fdatasync, group commit) before they return */
    uint64_t max_bytes;   /* disk bytes the segments may take */
} mp__spool_options;

/* What recovery found. */
typedef struct mp__spool_counts {
    uint64_t recovered;       /* batches without an ack, handed back */
    uint64_t corrupt_records; /* damaged regions skipped or cut off */
    uint64_t corrupt_bytes;   /* their bytes */
    uint64_t disk_bytes;      /* the segments' bytes now */
} mp__spool_counts;

/*
 * Opens the spool: takes the lock (MP_ERR_IO "in use by another process
 * (pid N)" when another process has it), scans every segment, cuts off a
 * torn tail, skips damaged records (counted), and starts a new segment.
 * MP_ERR_IO for a directory or file that cannot be used, or a segment of a
 * newer format version; the problem in diag names the path and the reason.
 */
mp_error mp__spool_open(const mp__spool_options *o, mp__spool **out, mp_diag *diag);
void mp__spool_close(mp__spool *sp);

/* Counts of recovery, and the disk bytes now. */
mp__spool_counts mp__spool_counts_get(mp__spool *sp);
/* Whether `len` more bytes of a batch fit under max_bytes. */
int mp__spool_has_room(mp__spool *sp, size_t len);

/*
 * The next recovered batch, in seq order: *p (owned by the caller), its
 * seq, and its enqueue time (ms since the epoch). MP_OK; MP_ERR_LIMIT when
 * none is left; MP_ERR_IO when the record can no longer be read (it is
 * counted corrupt and acknowledged, and the call can be repeated).
 */
mp_error mp__spool_take_recovered(mp__spool *sp, mp__payload **p, uint64_t *seq,
                                  int64_t *enqueued_unixtime_ms);
/* Recovered batches not taken yet. */
size_t mp__spool_recovered_left(mp__spool *sp);

/*
 * Appends a batch and returns its seq. With `power`, returns only once the
 * record is on the device (one fdatasync shared by every append waiting at
 * the time). MP_ERR_IO (disk full, I/O error: the problem names the file
 * and the reason; no partial record is left behind), MP_ERR_LIMIT (larger
 * than a record may be), MP_ERR_NOMEM.
 */
mp_error mp__spool_append(mp__spool *sp, const mp__payload *p, uint64_t *seq, mp_diag *diag);

/* Records that these batches have their final report; whole segments
 * that hold nothing unacknowledged are deleted, oldest first. Failures
 * only mean a batch may be sent again after a restart (deduplicated by
 * its id), so they are counted, not returned. */
void mp__spool_ack(mp__spool *sp, const uint64_t *seqs, size_t n);

/* A read-only scan for `mparticle spool` (public spool.h). */
typedef struct mp__spool_scan {
    uint64_t batches, json_bytes, disk_bytes, segments;
    int64_t oldest_unixtime_ms; /* 0 when empty */
    uint64_t corrupt_records, corrupt_bytes;
    long locked_by; /* pid holding the lock, or 0 */
} mp__spool_scan;

mp_error mp__spool_inspect(const char *dir, mp__spool_scan *out, mp_diag *diag);

#endif

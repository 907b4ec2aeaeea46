/*
 * libmparticle: looking into an uploader's spool.
 *
 * Copyright 2026 The libmparticle authors. Licensed under the Apache License 2.0.
 *
 * A spool is the directory an uploader keeps its batches in from enqueue
 * until their report is final (mp_uploader_options.spool_dir,
 * docs/spool.md). To send what a spool holds, create an uploader on it: it
 * recovers the spool and delivers every batch left there. This header is
 * for looking without touching.
 */
#ifndef MPARTICLE_SPOOL_H
#define MPARTICLE_SPOOL_H

#include <stdint.h>

#include "mparticle/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The current version of mp_spool_info. */
#define MP_SPOOL_INFO_VERSION 1
#ifdef __cplusplus
#define MP_SPOOL_INFO_INIT (mp__spool_info_init_value())
#else
#define MP_SPOOL_INFO_INIT {.version = MP_SPOOL_INFO_VERSION}
#endif

/** What a spool holds (mp_spool_inspect()). */
typedef struct mp_spool_info {
    /** MP_SPOOL_INFO_VERSION of the caller's header; the library fills only what that version has. */
    unsigned int version;
    uint64_t batches;         /**< batches without a final report: what an uploader on it would send */
    uint64_t json_bytes;      /**< their JSON's bytes */
    uint64_t disk_bytes;      /**< the segment files' bytes */
    uint64_t segments;        /**< segment files */
    int64_t oldest_unixtime_ms; /**< enqueue time of the oldest batch; 0 when empty */
    uint64_t corrupt_records; /**< damaged regions (torn tail, bad checksum) an uploader would skip */
    uint64_t corrupt_bytes;   /**< their bytes */
    /** The process using the spool now (its pid), -1 if one does but its pid is unknown, 0 if none. */
    long in_use_by;
} mp_spool_info;

#ifdef __cplusplus
/** MP_SPOOL_INFO_INIT in C++: value-initialised, with the version set. */
static inline mp_spool_info mp__spool_info_init_value(void) {
    mp_spool_info o = {};
    o.version = MP_SPOOL_INFO_VERSION;
    return o;
}
#endif

/**
 * Reads the spool in `dir` without changing anything (it may be in use by
 * an uploader in another process; the figures are then a snapshot).
 * MP_ERR_IO when dir is not a readable spool or holds a segment of a newer
 * format (a problem in diag names the path and the reason);
 * MP_ERR_INVALID_ARGUMENT; MP_ERR_NOMEM. Any thread.
 */
MP_API mp_error mp_spool_inspect(const char *dir, mp_spool_info *info, mp_diag *diag);

#ifdef __cplusplus
}
#endif

#endif /* MPARTICLE_SPOOL_H */

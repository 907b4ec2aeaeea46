/* Reading segments back (scan.h). */
#include "common/alloc.h"
#include "spool/scan.h"

#include <stdlib.h>
#include <string.h>

#include "spool/crc32c.h"
#include "spool/format.h"

mp_error mp__scan_header(const unsigned char *d, size_t size, uint32_t *version) {
    *version = 0;
    if (size < MP__SPOOL_HEADER_SIZE || memcmp(d, MP__SPOOL_MAGIC, 8) != 0 ||
        mp__crc32c(0, d, 28) != mp__get32(d + 28))
        return MP_ERR_IO;
    *version = mp__get32(d + 8);
    if (*version > MP__SPOOL_VERSION)
        return MP_ERR_RANGE;
    if (*version < 1 || mp__get32(d + 12) != MP__SPOOL_HEADER_SIZE)
        return MP_ERR_IO;
    return MP_OK;
}

/* Length of the whole, checksummed record at d[0..avail), or 0. */
static size_t record_at(const unsigned char *d, size_t avail) {
    if (avail < MP__SPOOL_RECORD_HEADER || mp__get32(d) != MP__SPOOL_RECORD_MAGIC)
        return 0;
    uint32_t len = mp__get32(d + 8);
    unsigned type = d[12];
    if (len > MP__SPOOL_MAX_BODY || (type != MP__REC_BATCH && type != MP__REC_ACK) ||
        avail - MP__SPOOL_RECORD_HEADER < len)
        return 0;
    if (mp__crc32c(0, d + 8, MP__SPOOL_RECORD_HEADER - 8 + (size_t)len) != mp__get32(d + 4))
        return 0;
    if (type == MP__REC_BATCH) {
        if (len < MP__SPOOL_BATCH_META ||
            (uint64_t)mp__get32(d + 32) + mp__get32(d + 36) + MP__SPOOL_BATCH_META != len)
            return 0;
    } else if ((uint64_t)mp__get64(d + 16) * 8 != len) {
        return 0;
    }
    return MP__SPOOL_RECORD_HEADER + (size_t)len;
}

/* The next offset after `from` where a whole record starts, or size. */
static size_t resync(const unsigned char *d, size_t from, size_t size) {
    static const unsigned char magic[4] = {'M', 'P', 'S', 'R'};
    for (size_t at = from; at + MP__SPOOL_RECORD_HEADER <= size; at++) {
        const unsigned char *hit = memchr(d + at, 'M', size - at);
        if (!hit)
            break;
        at = (size_t)(hit - d);
        if (at + 4 <= size && memcmp(d + at, magic, 4) == 0 && record_at(d + at, size - at))
            return at;
    }
    return size;
}

static mp_error add_batch(mp__scan *s, size_t segment, uint64_t off, const unsigned char *r,
                          size_t len) {
    if (s->count == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        mp__scan_batch *b = mp__realloc(s->batches, cap * sizeof *b);
        if (!b)
            return MP_ERR_NOMEM;
        s->batches = b;
        s->cap = cap;
    }
    uint64_t seq = mp__get64(r + 16);
    /* Seqs only grow: a smaller one is a copy of an old record (a block
     * the device wrote twice); the first copy stands. */
    if (s->count && seq <= s->batches[s->count - 1].seq)
        return MP_OK;
    const unsigned char *m = r + MP__SPOOL_RECORD_HEADER;
    mp__scan_batch *b = &s->batches[s->count++];
    b->seq = seq;
    b->segment = segment;
    b->offset = off;
    b->length = (uint32_t)len;
    b->enqueued_unixtime_ms = (int64_t)mp__get64(m);
    b->json_len = mp__get32(m + 8);
    b->live = 1;
    if (seq > s->max_seq)
        s->max_seq = seq;
    return MP_OK;
}

static void apply_ack(mp__scan *s, uint64_t seq) {
    size_t lo = 0, hi = s->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->batches[mid].seq < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < s->count && s->batches[lo].seq == seq)
        s->batches[lo].live = 0;
}

mp_error mp__scan_records(mp__scan *s, size_t segment, const unsigned char *d, size_t size) {
    size_t off = MP__SPOOL_HEADER_SIZE;
    s->torn = 0;
    while (off < size) {
        size_t len = record_at(d + off, size - off);
        if (len == 0) {
            size_t next = resync(d, off + 1, size);
            s->corrupt_records++;
            s->corrupt_bytes += next - off;
            if (next == size) {
                s->torn = 1;
                break;
            }
            off = next;
            continue;
        }
        const unsigned char *r = d + off;
        if (r[12] == MP__REC_BATCH) {
            if (add_batch(s, segment, off, r, len) != MP_OK)
                return MP_ERR_NOMEM;
        } else {
            uint64_t n = mp__get64(r + 16);
            for (uint64_t i = 0; i < n; i++)
                apply_ack(s, mp__get64(r + MP__SPOOL_RECORD_HEADER + 8 * i));
        }
        off += len;
    }
    s->torn_at = s->torn ? off : size;
    return MP_OK;
}

const unsigned char *mp__scan_batch_body(const unsigned char *record, size_t size) {
    size_t len = record_at(record, size);
    if (!len || record[12] != MP__REC_BATCH)
        return NULL;
    return record + MP__SPOOL_RECORD_HEADER;
}

void mp__scan_free(mp__scan *s) {
    mp__free(s->batches);
    memset(s, 0, sizeof *s);
}

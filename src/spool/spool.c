/*
 * The spool (spool.h): segments on disk, appends with group commit, acks,
 * and deletion of segments that hold nothing unacknowledged.
 *
 * Segments are deleted oldest first only: an ack record can sit in any
 * later segment, so deleting a newer segment while an older one lives
 * could bring the older one's acknowledged batches back at the next
 * recovery. The price: one batch stuck in retries keeps the segments after
 * it on disk until its report (delivery_timeout_ms bounds that).
 */
/* pwritev(2) is not in POSIX; glibc declares it under _DEFAULT_SOURCE. */
#define _DEFAULT_SOURCE
#include "common/alloc.h"
#include "spool/spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "common/diag.h"
#include "common/lock.h"
#include "spool/crc32c.h"
#include "spool/format.h"
#include "spool/scan.h"

#define SEGMENT_MAX (64u * 1024 * 1024)
#define SEGMENT_MIN (1u * 1024 * 1024)
#define NAME_DIGITS 20

typedef struct segment {
    uint64_t first_seq; /* its name */
    int fd;
    uint64_t size;      /* bytes of whole records (and the header) */
    uint64_t synced;    /* bytes known to be on the device */
    uint64_t live;      /* batch records without an ack */
} segment;

struct mp__spool {
    char *dir;
    int dirfd, lockfd;
    int power;
    uint64_t max_bytes, segment_max;

    pthread_mutex_t lock;
    pthread_cond_t synced;  /* a group commit finished */
    segment **segs;         /* oldest first */
    size_t nsegs, cap;
    int writing;            /* the last segment is ours to append to (recovered ones never are) */
    uint64_t next_seq;
    atomic_uint_fast64_t disk_bytes;
    int syncing;            /* a thread is in fdatasync() for everyone */
    int failed;             /* errno of a failed sync: appends are refused */
    uint64_t ack_failures;

    mp__scan scan;          /* what recovery found */
    size_t next_recovered;
    mp__spool_counts counts;
};

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */

static mp_error io_error(mp_diag *diag, const char *dir, const char *file, int err,
                         const char *what) {
    mp__diag_add(diag, MP_SEVERITY_ERROR, MP_ERR_IO, -1, "", "spool %s%s%s: %s: %s", dir,
                 file ? "/" : "", file ? file : "", what, strerror(err));
    return MP_ERR_IO;
}

static void segment_name(uint64_t first_seq, char out[NAME_DIGITS + 5]) {
    snprintf(out, NAME_DIGITS + 5, "%020" PRIu64 ".seg", first_seq);
}

/* A name of NAME_DIGITS digits and ".seg": its first seq. */
static int parse_segment_name(const char *name, uint64_t *first_seq) {
    if (strlen(name) != NAME_DIGITS + 4 || strcmp(name + NAME_DIGITS, ".seg") != 0)
        return 0;
    uint64_t v = 0;
    for (int i = 0; i < NAME_DIGITS; i++) {
        if (name[i] < '0' || name[i] > '9' || v > (UINT64_MAX - 9) / 10)
            return 0;
        v = v * 10 + (uint64_t)(name[i] - '0');
    }
    *first_seq = v;
    return 1;
}

/* ------------------------------------------------------------------------ */
/* Writing                                                                  */

/* Writes all of iov at off, resuming after short writes. 0 or an errno. */
static int write_all(int fd, struct iovec *iov, int n, uint64_t off) {
    while (n > 0) {
        ssize_t w = pwritev(fd, iov, n, (off_t)off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        if (w == 0)
            return EIO;
        off += (uint64_t)w;
        while (n > 0 && (size_t)w >= iov->iov_len) {
            w -= (ssize_t)iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + w;
            iov->iov_len -= (size_t)w;
        }
    }
    return 0;
}

static int sync_dir(mp__spool *sp) {
    return fsync(sp->dirfd) == 0 ? 0 : errno;
}

/* Room for one more segment in the list. */
static mp_error reserve_segment(mp__spool *sp) {
    if (sp->nsegs < sp->cap)
        return MP_OK;
    size_t cap = sp->cap ? sp->cap * 2 : 16;
    segment **s = mp__realloc(sp->segs, cap * sizeof *s);
    if (!s)
        return MP_ERR_NOMEM;
    sp->segs = s;
    sp->cap = cap;
    return MP_OK;
}

/* Creates the segment that starts at first_seq and makes it the one
 * written to. Under the lock (or before any other thread has the spool). */
static mp_error add_segment(mp__spool *sp, uint64_t first_seq, mp_diag *diag) {
    char name[NAME_DIGITS + 5];
    segment_name(first_seq, name);
    if (reserve_segment(sp) != MP_OK)
        return MP_ERR_NOMEM;
    segment *seg = mp__calloc(1, sizeof *seg);
    if (!seg)
        return MP_ERR_NOMEM;
    /* Owner-only: the batches hold user data. */
    seg->fd = openat(sp->dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (seg->fd < 0) {
        int e = errno;
        mp__free(seg);
        return io_error(diag, sp->dir, name, e, "cannot create the segment");
    }
    unsigned char h[MP__SPOOL_HEADER_SIZE] = {0};
    memcpy(h, MP__SPOOL_MAGIC, 8);
    mp__put32(h + 8, MP__SPOOL_VERSION);
    mp__put32(h + 12, MP__SPOOL_HEADER_SIZE);
    mp__put64(h + 16, first_seq);
    mp__put32(h + 28, mp__crc32c(0, h, 28));
    struct iovec iov = {h, sizeof h};
    int e = write_all(seg->fd, &iov, 1, 0);
    /* The new file's name must survive a power cut with its first record. */
    if (!e && sp->power && (fdatasync(seg->fd) != 0 || sync_dir(sp) != 0))
        e = errno;
    if (e) {
        close(seg->fd);
        unlinkat(sp->dirfd, name, 0);
        mp__free(seg);
        return io_error(diag, sp->dir, name, e, "cannot write the segment header");
    }
    seg->first_seq = first_seq;
    seg->size = seg->synced = MP__SPOOL_HEADER_SIZE;
    sp->segs[sp->nsegs++] = seg;
    sp->writing = 1;
    atomic_fetch_add(&sp->disk_bytes, MP__SPOOL_HEADER_SIZE);
    return MP_OK;
}

static segment *active(mp__spool *sp) {
    return sp->segs[sp->nsegs - 1];
}

/* Makes sure there is a segment to append `len` bytes to: a new one when
 * none is ours yet (the first write after opening, so that a spool on a
 * full disk still opens and hands its batches back) or the current one is
 * full. Under the lock. */
static mp_error rotate_if_full(mp__spool *sp, size_t len, mp_diag *diag) {
    if (!sp->writing)
        return add_segment(sp, sp->next_seq, diag);
    segment *cur = active(sp);
    if (cur->size + len <= sp->segment_max || cur->size == MP__SPOOL_HEADER_SIZE)
        return MP_OK;
    if (sp->power && cur->synced < cur->size) {
        if (fdatasync(cur->fd) != 0)
            return io_error(diag, sp->dir, NULL, errno, "cannot sync the full segment");
        cur->synced = cur->size;
    }
    return add_segment(sp, sp->next_seq, diag);
}

/* Waits until seg holds `end` bytes on the device: one thread syncs for
 * every append waiting (group commit), the others wait for it. Under the
 * lock. 0 or the errno of a failed sync, which is never retried: after a
 * failed fsync the kernel may have dropped the pages, so a retry that
 * "succeeds" would lie (PostgreSQL's fsyncgate). */
static int wait_synced(mp__spool *sp, segment *seg, uint64_t end) {
    while (seg->synced < end && !sp->failed) {
        if (sp->syncing) {
            pthread_cond_wait(&sp->synced, &sp->lock);
            continue;
        }
        sp->syncing = 1;
        uint64_t target = seg->size;
        int fd = seg->fd;
        pthread_mutex_unlock(&sp->lock);
        int rc = fdatasync(fd) == 0 ? 0 : errno;
        pthread_mutex_lock(&sp->lock);
        sp->syncing = 0;
        if (rc)
            sp->failed = rc;
        else if (target > seg->synced)
            seg->synced = target;
        pthread_cond_broadcast(&sp->synced);
    }
    return seg->synced >= end ? 0 : sp->failed;
}

mp_error mp__spool_append(mp__spool *sp, const mp__payload *p, uint64_t *seq, mp_diag *diag) {
    size_t id_len = strlen(p->id);
    size_t body = MP__SPOOL_BATCH_META + p->len + id_len;
    if (body > MP__SPOOL_MAX_BODY) {
        mp__diag_add(diag, MP_SEVERITY_ERROR, MP_ERR_LIMIT, -1, "",
                     "the batch is %zu bytes; a spool record holds at most %u", body,
                     MP__SPOOL_MAX_BODY);
        return MP_ERR_LIMIT;
    }
    unsigned char h[MP__SPOOL_RECORD_HEADER + MP__SPOOL_BATCH_META] = {0};
    unsigned char *m = h + MP__SPOOL_RECORD_HEADER;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    mp__put64(m, (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000);
    mp__put32(m + 8, (uint32_t)p->len);
    mp__put32(m + 12, (uint32_t)id_len);
    mp__put32(m + 16, (uint32_t)p->envelope_off);
    mp__put32(m + 20, (uint32_t)p->envelope_len);
    mp__put32(m + 24, (uint32_t)p->events_off);
    mp__put32(m + 28, (uint32_t)p->events_len);
    mp__put32(m + 32, (uint32_t)p->event_count);
    mp__put32(m + 36, p->mergeable ? 1u : 0u);
    mp__put32(h, MP__SPOOL_RECORD_MAGIC);
    mp__put32(h + 8, (uint32_t)body);
    h[12] = MP__REC_BATCH;

    pthread_mutex_lock(&sp->lock);
    mp_error err = MP_OK;
    if (sp->failed) {
        err = io_error(diag, sp->dir, NULL, sp->failed,
                       "an earlier sync failed, so the spool can no longer promise durability");
        goto out;
    }
    size_t total = MP__SPOOL_RECORD_HEADER + body;
    if ((err = rotate_if_full(sp, total, diag)))
        goto out;
    segment *seg = active(sp);
    *seq = sp->next_seq;
    mp__put64(h + 16, *seq);
    uint32_t crc = mp__crc32c(0, h + 8, sizeof h - 8);
    crc = mp__crc32c(crc, p->json, p->len);
    mp__put32(h + 4, mp__crc32c(crc, p->id, id_len));
    struct iovec iov[3] = {{h, sizeof h}, {(void *)p->json, p->len}, {(void *)p->id, id_len}};
    int e = write_all(seg->fd, iov, 3, seg->size);
    if (e) {
        /* Leave no partial record: a later record must not follow garbage. */
        if (ftruncate(seg->fd, (off_t)seg->size) != 0)
            sp->failed = errno;
        char name[NAME_DIGITS + 5];
        segment_name(seg->first_seq, name);
        err = io_error(diag, sp->dir, name, e, "cannot write the batch");
        goto out;
    }
    sp->next_seq++;
    seg->size += total;
    seg->live++;
    atomic_fetch_add(&sp->disk_bytes, total);
    if (sp->power && (e = wait_synced(sp, seg, seg->size)) != 0)
        err = io_error(diag, sp->dir, NULL, e, "cannot sync the batch to the device");
out:
    pthread_mutex_unlock(&sp->lock);
    return err;
}

/* ------------------------------------------------------------------------ */
/* Acknowledging                                                            */

static segment *segment_of(mp__spool *sp, uint64_t seq) {
    size_t lo = 0, hi = sp->nsegs;
    while (hi - lo > 1) { /* the last segment whose first seq is <= seq */
        size_t mid = lo + (hi - lo) / 2;
        if (sp->segs[mid]->first_seq <= seq)
            lo = mid;
        else
            hi = mid;
    }
    return sp->nsegs && sp->segs[lo]->first_seq <= seq ? sp->segs[lo] : NULL;
}

static void write_acks(mp__spool *sp, const uint64_t *seqs, size_t n) {
    unsigned char h[MP__SPOOL_RECORD_HEADER] = {0};
    unsigned char body[8 * 256];
    size_t len = 8 * n;
    mp__put32(h, MP__SPOOL_RECORD_MAGIC);
    mp__put32(h + 8, (uint32_t)len);
    h[12] = MP__REC_ACK;
    mp__put64(h + 16, n);
    for (size_t i = 0; i < n; i++)
        mp__put64(body + 8 * i, seqs[i]);
    mp__put32(h + 4, mp__crc32c(mp__crc32c(0, h + 8, sizeof h - 8), body, len));
    if (rotate_if_full(sp, sizeof h + len, NULL) != MP_OK) {
        sp->ack_failures += n;
        return;
    }
    segment *seg = active(sp);
    struct iovec iov[2] = {{h, sizeof h}, {body, len}};
    if (write_all(seg->fd, iov, 2, seg->size) != 0) {
        if (ftruncate(seg->fd, (off_t)seg->size) != 0)
            sp->failed = errno;
        sp->ack_failures += n;
        return;
    }
    seg->size += sizeof h + len;
    atomic_fetch_add(&sp->disk_bytes, sizeof h + len);
}

/* Deletes the oldest segments while they hold nothing unacknowledged;
 * the one written to only when `all` (at close: nothing follows it). Under
 * the lock. */
static void delete_acked(mp__spool *sp, int all) {
    size_t gone = 0;
    size_t keep = all || !sp->writing ? 0 : 1;
    while (gone + keep < sp->nsegs && sp->segs[gone]->live == 0) {
        segment *seg = sp->segs[gone++];
        char name[NAME_DIGITS + 5];
        segment_name(seg->first_seq, name);
        close(seg->fd);
        unlinkat(sp->dirfd, name, 0);
        atomic_fetch_sub(&sp->disk_bytes, seg->size);
        mp__free(seg);
    }
    if (!gone)
        return;
    memmove(sp->segs, sp->segs + gone, (sp->nsegs - gone) * sizeof *sp->segs);
    sp->nsegs -= gone;
    if (sp->power)
        sync_dir(sp); /* a resurrected segment would only resend, deduplicated */
}

void mp__spool_ack(mp__spool *sp, const uint64_t *seqs, size_t n) {
    pthread_mutex_lock(&sp->lock);
    for (size_t i = 0; i < n; i += 256)
        write_acks(sp, seqs + i, n - i < 256 ? n - i : 256);
    for (size_t i = 0; i < n; i++) {
        segment *seg = segment_of(sp, seqs[i]);
        if (seg && seg->live > 0)
            seg->live--;
    }
    delete_acked(sp, 0);
    pthread_mutex_unlock(&sp->lock);
}

int mp__spool_has_room(mp__spool *sp, size_t len) {
    return atomic_load(&sp->disk_bytes) + MP__SPOOL_RECORD_HEADER + MP__SPOOL_BATCH_META + len <=
           sp->max_bytes;
}

mp__spool_counts mp__spool_counts_get(mp__spool *sp) {
    pthread_mutex_lock(&sp->lock);
    mp__spool_counts c = sp->counts;
    pthread_mutex_unlock(&sp->lock);
    c.disk_bytes = atomic_load(&sp->disk_bytes);
    return c;
}

/* ------------------------------------------------------------------------ */
/* Opening: lock, scan, recover                                             */

/* Takes the lock file; names the holder when another process has it. */
static mp_error take_lock(mp__spool *sp, mp_diag *diag) {
    sp->lockfd = openat(sp->dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (sp->lockfd < 0)
        return io_error(diag, sp->dir, "lock", errno, "cannot open the lock file");
    if (flock(sp->lockfd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        char pid[32] = "";
        ssize_t n = pread(sp->lockfd, pid, sizeof pid - 1, 0);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        if (e == EWOULDBLOCK) {
            mp__diag_add(diag, MP_SEVERITY_ERROR, MP_ERR_IO, -1, "",
                         "spool %s is in use by another process (pid %s): one process at a "
                         "time",
                         sp->dir, pid[0] ? pid : "unknown");
            return MP_ERR_IO;
        }
        return io_error(diag, sp->dir, "lock", e, "cannot lock");
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(sp->lockfd, 0) != 0 || pwrite(sp->lockfd, pid, (size_t)n, 0) != n)
        return io_error(diag, sp->dir, "lock", errno, "cannot write the lock file");
    return MP_OK;
}

/* The segments' first seqs, sorted. */
static int compare_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static mp_error list_segments(int dirfd, const char *dir, uint64_t **out, size_t *count,
                              mp_diag *diag) {
    int fd = dup(dirfd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return io_error(diag, dir, NULL, errno, "cannot list the directory");
    }
    rewinddir(d);
    uint64_t *seqs = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    mp_error err = MP_OK;
    while ((e = readdir(d)) != NULL) {
        uint64_t seq;
        if (!parse_segment_name(e->d_name, &seq))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            uint64_t *s = mp__realloc(seqs, cap * sizeof *s);
            if (!s) {
                err = MP_ERR_NOMEM;
                break;
            }
            seqs = s;
        }
        seqs[n++] = seq;
    }
    closedir(d);
    if (err) {
        mp__free(seqs);
        return err;
    }
    if (n > 1)
        qsort(seqs, n, sizeof *seqs, compare_u64);
    *out = seqs;
    *count = n;
    return MP_OK;
}

/* Maps a segment read-only. NULL (with *size 0) for an empty file. */
static const unsigned char *map_segment(int fd, size_t *size, int *err) {
    struct stat st;
    *err = 0;
    if (fstat(fd, &st) != 0) {
        *err = errno;
        return NULL;
    }
    *size = (size_t)st.st_size;
    if (*size == 0)
        return NULL;
    void *m = mmap(NULL, *size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED) {
        *err = errno;
        return NULL;
    }
    posix_madvise(m, *size, POSIX_MADV_SEQUENTIAL);
    return m;
}

static mp_error newer_version(mp_diag *diag, const char *dir, const char *name, uint32_t v) {
    mp__diag_add(diag, MP_SEVERITY_ERROR, MP_ERR_IO, -1, "",
                 "spool %s/%s: format version %u is newer than this library's %d: drain it "
                 "with the libmparticle that wrote it",
                 dir, name, v, MP__SPOOL_VERSION);
    return MP_ERR_IO;
}

/*
 * Scans one segment into sp->scan and keeps it open as a segment of the
 * spool. `last`: the newest, whose torn tail is cut off (`repair`). A file
 * too short or too damaged to be a segment (its creation was torn) is
 * counted and removed (`repair`) or skipped.
 */
static mp_error recover_segment(mp__spool *sp, uint64_t first_seq, int last, int repair,
                                mp_diag *diag) {
    char name[NAME_DIGITS + 5];
    segment_name(first_seq, name);
    int fd = openat(sp->dirfd, name, (repair ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (fd < 0)
        return io_error(diag, sp->dir, name, errno, "cannot open the segment");
    size_t size = 0;
    int e;
    const unsigned char *d = map_segment(fd, &size, &e);
    if (e) {
        close(fd);
        return io_error(diag, sp->dir, name, e, "cannot read the segment");
    }
    uint32_t version;
    mp_error herr = mp__scan_header(d, size, &version);
    if (herr == MP_ERR_RANGE) {
        munmap((void *)d, size);
        close(fd);
        return newer_version(diag, sp->dir, name, version);
    }
    if (herr) {
        sp->scan.corrupt_records++;
        sp->scan.corrupt_bytes += size;
        if (d)
            munmap((void *)d, size);
        close(fd);
        if (repair)
            unlinkat(sp->dirfd, name, 0);
        return MP_OK;
    }
    size_t segment_index = sp->nsegs;
    mp_error err = mp__scan_records(&sp->scan, segment_index, d, size);
    munmap((void *)d, size);
    uint64_t keep = sp->scan.torn_at;
    if (!err && repair && last && keep < size && ftruncate(fd, (off_t)keep) != 0)
        err = io_error(diag, sp->dir, name, errno, "cannot cut off the torn tail");
    segment *seg = err || reserve_segment(sp) ? NULL : mp__calloc(1, sizeof *seg);
    if (!seg) {
        close(fd);
        return err ? err : MP_ERR_NOMEM;
    }
    seg->first_seq = first_seq;
    seg->fd = fd;
    seg->size = seg->synced = last && repair ? keep : size;
    sp->segs[sp->nsegs++] = seg;
    atomic_fetch_add(&sp->disk_bytes, seg->size);
    return MP_OK;
}

/* Counts each segment's unacknowledged batches, and what is handed back. */
static void count_live(mp__spool *sp) {
    for (size_t i = 0; i < sp->scan.count; i++) {
        const mp__scan_batch *b = &sp->scan.batches[i];
        if (b->live) {
            sp->segs[b->segment]->live++;
            sp->counts.recovered++;
        }
    }
    sp->counts.corrupt_records = sp->scan.corrupt_records;
    sp->counts.corrupt_bytes = sp->scan.corrupt_bytes;
}

static mp_error recover(mp__spool *sp, int repair, mp_diag *diag) {
    uint64_t *seqs = NULL;
    size_t n = 0;
    mp_error err = list_segments(sp->dirfd, sp->dir, &seqs, &n, diag);
    for (size_t i = 0; !err && i < n; i++)
        err = recover_segment(sp, seqs[i], i + 1 == n, repair, diag);
    uint64_t last_first = n ? seqs[n - 1] : 0;
    mp__free(seqs);
    if (err)
        return err;
    count_live(sp);
    sp->next_seq = sp->scan.max_seq + 1;
    if (sp->next_seq <= last_first)
        sp->next_seq = last_first + 1;
    return MP_OK;
}

static void free_spool(mp__spool *sp) {
    for (size_t i = 0; i < sp->nsegs; i++) {
        close(sp->segs[i]->fd);
        mp__free(sp->segs[i]);
    }
    mp__free(sp->segs);
    mp__scan_free(&sp->scan);
    if (sp->lockfd >= 0)
        close(sp->lockfd); /* releases the flock */
    if (sp->dirfd >= 0)
        close(sp->dirfd);
    pthread_cond_destroy(&sp->synced);
    pthread_mutex_destroy(&sp->lock);
    mp__free(sp->dir);
    mp__free(sp);
}

static mp__spool *new_spool(const char *dir) {
    mp__spool *sp = mp__calloc(1, sizeof *sp);
    if (!sp)
        return NULL;
    sp->dirfd = sp->lockfd = -1;
    sp->dir = mp__strdup(dir);
    if (!sp->dir || mp__mutex_init_adaptive(&sp->lock) != 0) {
        mp__free(sp->dir);
        mp__free(sp);
        return NULL;
    }
    if (pthread_cond_init(&sp->synced, NULL) != 0) {
        pthread_mutex_destroy(&sp->lock);
        mp__free(sp->dir);
        mp__free(sp);
        return NULL;
    }
    atomic_init(&sp->disk_bytes, 0);
    return sp;
}

static mp_error open_dir(mp__spool *sp, int create, mp_diag *diag) {
    if (create && mkdir(sp->dir, 0700) != 0 && errno != EEXIST)
        return io_error(diag, sp->dir, NULL, errno, "cannot create the directory");
    sp->dirfd = open(sp->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (sp->dirfd < 0)
        return io_error(diag, sp->dir, NULL, errno, "cannot open the directory");
    return MP_OK;
}

mp_error mp__spool_open(const mp__spool_options *o, mp__spool **out, mp_diag *diag) {
    *out = NULL;
    if (!o->dir || !*o->dir)
        return MP_ERR_INVALID_ARGUMENT;
    mp__spool *sp = new_spool(o->dir);
    if (!sp)
        return MP_ERR_NOMEM;
    sp->power = o->power;
    sp->max_bytes = o->max_bytes;
    sp->segment_max = o->max_bytes / 8;
    if (sp->segment_max > SEGMENT_MAX)
        sp->segment_max = SEGMENT_MAX;
    if (sp->segment_max < SEGMENT_MIN)
        sp->segment_max = SEGMENT_MIN;
    mp_error err = open_dir(sp, 1, diag);
    if (!err)
        err = take_lock(sp, diag);
    /* Recovered segments are never appended to: the first write starts a
     * new one (rotate_if_full). */
    if (!err)
        err = recover(sp, 1, diag);
    if (!err)
        delete_acked(sp, 0);
    if (err) {
        free_spool(sp);
        return err;
    }
    *out = sp;
    return MP_OK;
}

void mp__spool_close(mp__spool *sp) {
    if (!sp)
        return;
    pthread_mutex_lock(&sp->lock);
    delete_acked(sp, 1);
    pthread_mutex_unlock(&sp->lock);
    free_spool(sp);
}

/* ------------------------------------------------------------------------ */
/* Handing recovered batches back                                           */

size_t mp__spool_recovered_left(mp__spool *sp) {
    pthread_mutex_lock(&sp->lock);
    size_t left = 0;
    for (size_t i = sp->next_recovered; i < sp->scan.count; i++)
        left += sp->scan.batches[i].live;
    pthread_mutex_unlock(&sp->lock);
    return left;
}

/* Reads a recovered record again and rebuilds its payload. */
static mp_error read_recovered(mp__spool *sp, const mp__scan_batch *b, mp__payload **p,
                               int64_t *t) {
    segment *seg = segment_of(sp, b->seq);
    unsigned char *r = seg ? mp__malloc(b->length) : NULL;
    if (!r)
        return seg ? MP_ERR_NOMEM : MP_ERR_IO;
    ssize_t got = pread(seg->fd, r, b->length, (off_t)b->offset);
    const unsigned char *m =
        got == (ssize_t)b->length ? mp__scan_batch_body(r, b->length) : NULL;
    mp_error err = MP_ERR_IO;
    if (m) {
        mp__payload_meta meta = {mp__get32(m + 8),  mp__get32(m + 12), mp__get32(m + 16),
                                 mp__get32(m + 20), mp__get32(m + 24), mp__get32(m + 28),
                                 mp__get32(m + 32), (int)(mp__get32(m + 36) & 1)};
        const char *json = (const char *)m + MP__SPOOL_BATCH_META;
        err = mp__payload_restore(json, json + meta.json_len, &meta, p);
        *t = (int64_t)mp__get64(m);
    }
    mp__free(r);
    return err;
}

mp_error mp__spool_take_recovered(mp__spool *sp, mp__payload **p, uint64_t *seq,
                                  int64_t *enqueued_unixtime_ms) {
    pthread_mutex_lock(&sp->lock);
    while (sp->next_recovered < sp->scan.count && !sp->scan.batches[sp->next_recovered].live)
        sp->next_recovered++;
    if (sp->next_recovered == sp->scan.count) {
        pthread_mutex_unlock(&sp->lock);
        return MP_ERR_LIMIT;
    }
    const mp__scan_batch *b = &sp->scan.batches[sp->next_recovered++];
    *seq = b->seq;
    mp_error err = read_recovered(sp, b, p, enqueued_unixtime_ms);
    if (err == MP_ERR_IO)
        sp->counts.corrupt_records++;
    pthread_mutex_unlock(&sp->lock);
    if (err == MP_ERR_IO)
        mp__spool_ack(sp, seq, 1); /* unreadable now: never handed back again */
    return err;
}

/* ------------------------------------------------------------------------ */
/* Inspection                                                               */

/* The pid in the lock file when another process holds the lock, else 0. */
static long lock_holder(int dirfd) {
    int fd = openat(dirfd, "lock", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    long pid = 0;
    if (flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK) {
        char buf[32];
        ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
        buf[n > 0 ? n : 0] = '\0';
        pid = strtol(buf, NULL, 10);
        if (pid <= 0)
            pid = -1;
    }
    close(fd);
    return pid;
}

mp_error mp__spool_inspect(const char *dir, mp__spool_scan *out, mp_diag *diag) {
    memset(out, 0, sizeof *out);
    mp__spool *sp = new_spool(dir);
    if (!sp)
        return MP_ERR_NOMEM;
    mp_error err = open_dir(sp, 0, diag);
    if (!err) {
        out->locked_by = lock_holder(sp->dirfd);
        err = recover(sp, 0, diag);
    }
    if (!err) {
        for (size_t i = 0; i < sp->scan.count; i++) {
            const mp__scan_batch *b = &sp->scan.batches[i];
            if (!b->live)
                continue;
            out->batches++;
            out->json_bytes += b->json_len;
            if (!out->oldest_unixtime_ms || b->enqueued_unixtime_ms < out->oldest_unixtime_ms)
                out->oldest_unixtime_ms = b->enqueued_unixtime_ms;
        }
        out->segments = sp->nsegs;
        out->disk_bytes = atomic_load(&sp->disk_bytes);
        out->corrupt_records = sp->scan.corrupt_records;
        out->corrupt_bytes = sp->scan.corrupt_bytes;
    }
    free_spool(sp);
    return err;
}

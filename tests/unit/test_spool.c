/*
 * The spool (src/spool/) on its own: what is appended and not acknowledged
 * comes back after a reopen, byte for byte and in order; acknowledged
 * batches do not; a last record cut at every byte offset is cut off and
 * counted, never read as data; a flipped bit anywhere in a record costs
 * that record only; a spool is used by one opener at a time; a newer
 * format is refused; a failed write (an injected file-size limit, and a
 * full tmpfs where this machine lets the test mount one) is an error that
 * leaves no partial record; files are the owner's only; appends from
 * eight threads with power-loss durability all come back; inspection
 * counts without changing anything.
 */
#define _GNU_SOURCE

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "delivery/payload.h"
#include "spool/crc32c.h"
#include "spool/spool.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */

static char root[256];

static int setup(void **state) {
    (void)state;
    snprintf(root, sizeof root, "%s/mp-spool-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    assert_non_null(mkdtemp(root));
    return 0;
}

static int teardown(void **state) {
    (void)state;
    char mnt[300];
    snprintf(mnt, sizeof mnt, "%s/tmpfs", root);
    umount2(mnt, MNT_DETACH); /* test_full_tmpfs's, if it failed before unmounting */
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    assert_int_equal(system(cmd), 0);
    return 0;
}

static void path_in(char *out, size_t cap, const char *name) {
    snprintf(out, cap, "%s/%s", root, name);
}

/* A payload with a recognisable event name. */
static mp__payload *payload(int i) {
    char name[32];
    snprintf(name, sizeof name, "event-%d", i);
    mp_event ev;
    memset(&ev, 0, sizeof ev);
    ev.event_type = MP_EVENT_CUSTOM_EVENT;
    ev.custom_event.event_name = name;
    ev.custom_event.custom_event_type = MP_CUSTOM_EVENT_TYPE_OTHER;
    mp_batch b;
    memset(&b, 0, sizeof b);
    b.environment = MP_ENVIRONMENT_DEVELOPMENT;
    b.mpid = MP_INT(i);
    b.events.items = &ev;
    b.events.count = 1;
    mp__payload_options o = {1, 0, 1, MP_ID_CONTENT, 0};
    mp__payload *p;
    assert_int_equal(mp__payload_new(&b, &o, &p, NULL), MP_OK);
    return p;
}

static mp__spool *open_spool(const char *dir, int power) {
    mp__spool_options o = {dir, power, 64u * 1024 * 1024};
    mp__spool *sp = NULL;
    mp_diag *d = mp_diag_new();
    mp_error err = mp__spool_open(&o, &sp, d);
    if (err)
        fail_msg("open %s: %s: %s", dir, mp_error_name(err),
                 mp_diag_count(d) ? mp_diag_get(d, 0)->message : "");
    mp_diag_free(d);
    return sp;
}

/* Appends batches first..first+n-1; their seqs into seqs (optional). */
static void append(mp__spool *sp, int first, int n, uint64_t *seqs) {
    for (int i = 0; i < n; i++) {
        mp__payload *p = payload(first + i);
        uint64_t seq;
        assert_int_equal(mp__spool_append(sp, p, &seq, NULL), MP_OK);
        if (seqs)
            seqs[i] = seq;
        mp__payload_free(p);
    }
}

/* Takes every recovered batch; checks each is payload(k) for the expected
 * k, in order. Returns how many. */
static size_t take_all(mp__spool *sp, const int *expected, size_t n_expected) {
    size_t n = 0;
    for (;;) {
        mp__payload *p;
        uint64_t seq;
        int64_t t;
        mp_error err = mp__spool_take_recovered(sp, &p, &seq, &t);
        if (err == MP_ERR_LIMIT)
            break;
        assert_int_equal(err, MP_OK);
        assert_true(n < n_expected);
        mp__payload *want = payload(expected[n]);
        assert_int_equal(p->len, want->len);
        assert_memory_equal(p->json, want->json, p->len);
        assert_string_equal(p->id, want->id);
        assert_int_equal(p->events_off, want->events_off);
        assert_int_equal(p->events_len, want->events_len);
        assert_int_equal(p->envelope_hash, want->envelope_hash);
        assert_true(t > 1700000000000LL);
        mp__payload_free(want);
        mp__payload_free(p);
        n++;
    }
    return n;
}

/* The only segment file of dir. */
static void only_segment(const char *dir, char *out, size_t cap) {
    char cmd[400];
    snprintf(cmd, sizeof cmd, "ls '%s'/*.seg", dir);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    assert_non_null(fgets(out, (int)cap, f));
    out[strcspn(out, "\n")] = '\0';
    char extra[400];
    assert_null(fgets(extra, sizeof extra, f)); /* exactly one */
    pclose(f);
}

static long file_size(const char *path) {
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (long)st.st_size;
}

static void copy_dir(const char *from, const char *to) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -a '%s' '%s'", to, from, to);
    assert_int_equal(system(cmd), 0);
}

/* Builds dir with batches 0, 1, 2 in one segment, nothing acked, and
 * returns where record 2 starts and where record 1 starts. */
static void three_batches(const char *dir, long *rec1, long *rec2) {
    mp__spool *sp = open_spool(dir, 0);
    char seg[400];
    append(sp, 0, 1, NULL); /* the first append creates the segment */
    only_segment(dir, seg, sizeof seg);
    *rec1 = file_size(seg);
    append(sp, 1, 1, NULL);
    *rec2 = file_size(seg);
    append(sp, 2, 1, NULL);
    /* Closing deletes only fully acknowledged segments: this one stays. */
    mp__spool_close(sp);
}

/* ------------------------------------------------------------------------ */
/* Tests                                                                    */

static void test_crc32c_vector(void **state) {
    (void)state;
    assert_int_equal(mp__crc32c(0, "123456789", 9), 0xE3069283u);
    /* In pieces: the same. */
    assert_int_equal(mp__crc32c(mp__crc32c(0, "1234", 4), "56789", 5), 0xE3069283u);
}

static void test_recovers_unacked_in_order(void **state) {
    (void)state;
    char dir[300];
    path_in(dir, sizeof dir, "s");
    mp__spool *sp = open_spool(dir, 0);
    uint64_t seqs[10];
    append(sp, 0, 10, seqs);
    for (int i = 1; i < 10; i++)
        assert_true(seqs[i] > seqs[i - 1]);
    uint64_t acks[] = {seqs[1], seqs[3], seqs[5]};
    mp__spool_ack(sp, acks, 3);
    mp__spool_close(sp);

    sp = open_spool(dir, 0);
    mp__spool_counts c = mp__spool_counts_get(sp);
    assert_int_equal(c.recovered, 7);
    assert_int_equal(c.corrupt_records, 0);
    static const int expected[] = {0, 2, 4, 6, 7, 8, 9};
    assert_int_equal(mp__spool_recovered_left(sp), 7);
    assert_int_equal(take_all(sp, expected, 7), 7);
    /* New appends continue after the old seqs. */
    uint64_t next;
    mp__payload *p = payload(99);
    assert_int_equal(mp__spool_append(sp, p, &next, NULL), MP_OK);
    assert_true(next > seqs[9]);
    mp__payload_free(p);
    mp__spool_close(sp);
}

static void test_fully_acked_leaves_nothing(void **state) {
    (void)state;
    char dir[300];
    path_in(dir, sizeof dir, "s");
    mp__spool *sp = open_spool(dir, 0);
    uint64_t seqs[50];
    append(sp, 0, 50, seqs);
    mp__spool_ack(sp, seqs, 50);
    mp__spool_close(sp);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "ls '%s'/*.seg >/dev/null 2>&1", dir);
    assert_int_not_equal(system(cmd), 0); /* no segment left */
    sp = open_spool(dir, 0);
    assert_int_equal(mp__spool_counts_get(sp).recovered, 0);
    mp__spool_close(sp);
}

static void test_truncation_at_every_offset(void **state) {
    (void)state;
    char base[300], work[300], seg[400];
    path_in(base, sizeof base, "base");
    path_in(work, sizeof work, "work");
    long rec1, rec2;
    three_batches(base, &rec1, &rec2);
    only_segment(base, seg, sizeof seg);
    long size = file_size(seg);
    const char *segname = strrchr(seg, '/') + 1;
    for (long cut = 0; cut < size; cut++) {
        copy_dir(base, work);
        char wseg[400];
        snprintf(wseg, sizeof wseg, "%s/%s", work, segname);
        assert_int_equal(truncate(wseg, cut), 0);
        mp__spool *sp = open_spool(work, 0);
        mp__spool_counts c = mp__spool_counts_get(sp);
        /* Whole records before the cut come back; the cut one is counted. */
        uint64_t whole = cut >= rec2 ? 2 : cut >= rec1 ? 1 : 0;
        int at_boundary = cut == rec1 || cut == rec2 || cut == 32;
        if (c.recovered != whole || (c.corrupt_records != 0) == at_boundary)
            fail_msg("cut at %ld of %ld: recovered %llu corrupt %llu", cut, size,
                     (unsigned long long)c.recovered, (unsigned long long)c.corrupt_records);
        static const int expected[] = {0, 1};
        assert_int_equal(take_all(sp, expected, whole), whole);
        /* The spool goes on: a new batch after the damage comes back too. */
        append(sp, 7, 1, NULL);
        mp__spool_close(sp);
        sp = open_spool(work, 0);
        c = mp__spool_counts_get(sp);
        assert_int_equal(c.recovered, whole + 1);
        assert_int_equal(c.corrupt_records, 0); /* the torn tail was cut off, once */
        mp__spool_close(sp);
    }
}

static void test_bit_flips_cost_one_record(void **state) {
    (void)state;
    char base[300], work[300], seg[400];
    path_in(base, sizeof base, "base");
    path_in(work, sizeof work, "work");
    long rec1, rec2;
    three_batches(base, &rec1, &rec2);
    only_segment(base, seg, sizeof seg);
    const char *segname = strrchr(seg, '/') + 1;
    /* Every byte of the middle record, one bit each (a different one per byte). */
    for (long at = rec1; at < rec2; at++) {
        copy_dir(base, work);
        char wseg[400];
        snprintf(wseg, sizeof wseg, "%s/%s", work, segname);
        int fd = open(wseg, O_RDWR);
        assert_true(fd >= 0);
        unsigned char b;
        assert_int_equal(pread(fd, &b, 1, at), 1);
        b ^= (unsigned char)(1u << (at % 8));
        assert_int_equal(pwrite(fd, &b, 1, at), 1);
        close(fd);
        mp__spool *sp = open_spool(work, 0);
        mp__spool_counts c = mp__spool_counts_get(sp);
        if (c.recovered != 2 || c.corrupt_records != 1)
            fail_msg("flip at %ld: recovered %llu corrupt %llu", at,
                     (unsigned long long)c.recovered, (unsigned long long)c.corrupt_records);
        static const int expected[] = {0, 2};
        assert_int_equal(take_all(sp, expected, 2), 2);
        mp__spool_close(sp);
    }
    /* A flip in the segment header: the segment cannot be trusted at all. */
    copy_dir(base, work);
    char wseg[400];
    snprintf(wseg, sizeof wseg, "%s/%s", work, segname);
    int fd = open(wseg, O_RDWR);
    assert_int_equal(pwrite(fd, "X", 1, 3), 1);
    close(fd);
    mp__spool *sp = open_spool(work, 0);
    assert_int_equal(mp__spool_counts_get(sp).recovered, 0);
    assert_int_equal(mp__spool_counts_get(sp).corrupt_records, 1);
    mp__spool_close(sp);
}

static void test_one_opener_at_a_time(void **state) {
    (void)state;
    char dir[300];
    path_in(dir, sizeof dir, "s");
    mp__spool *sp = open_spool(dir, 0);
    mp__spool_options o = {dir, 0, 64u * 1024 * 1024};
    mp__spool *second = NULL;
    mp_diag *d = mp_diag_new();
    assert_int_equal(mp__spool_open(&o, &second, d), MP_ERR_IO);
    assert_null(second);
    char pid[32];
    snprintf(pid, sizeof pid, "pid %ld", (long)getpid());
    assert_non_null(strstr(mp_diag_get(d, 0)->message, "in use by another process"));
    assert_non_null(strstr(mp_diag_get(d, 0)->message, pid));
    mp__spool_close(sp);
    /* Released with the first: the next opener gets it. */
    mp_diag_clear(d);
    assert_int_equal(mp__spool_open(&o, &second, d), MP_OK);
    mp__spool_close(second);
    mp_diag_free(d);
}

static void test_newer_format_refused(void **state) {
    (void)state;
    char dir[300], seg[400];
    path_in(dir, sizeof dir, "s");
    mp__spool *sp = open_spool(dir, 0);
    append(sp, 0, 1, NULL);
    mp__spool_close(sp);
    only_segment(dir, seg, sizeof seg);
    long before = file_size(seg);
    /* Version 2, with a header checksum that is right for it. */
    int fd = open(seg, O_RDWR);
    unsigned char h[32];
    assert_int_equal(pread(fd, h, 32, 0), 32);
    h[8] = 2;
    uint32_t crc = mp__crc32c(0, h, 28);
    for (int i = 0; i < 4; i++)
        h[28 + i] = (unsigned char)(crc >> (8 * i));
    assert_int_equal(pwrite(fd, h, 32, 0), 32);
    close(fd);
    mp__spool_options o = {dir, 0, 64u * 1024 * 1024};
    mp_diag *d = mp_diag_new();
    assert_int_equal(mp__spool_open(&o, &sp, d), MP_ERR_IO);
    assert_non_null(strstr(mp_diag_get(d, 0)->message, "format version 2 is newer"));
    assert_int_equal(file_size(seg), before); /* not touched */
    mp_diag_free(d);
}

/* In a child whose file-size limit is just past what is written so far:
 * appends fail with MP_ERR_IO and a message; the parent then finds the
 * batches that succeeded, and no partial record. */
static void test_write_failure_leaves_no_partial_record(void **state) {
    (void)state;
    char dir[300];
    path_in(dir, sizeof dir, "s");
    int pipefd[2];
    assert_int_equal(pipe(pipefd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        mp__spool *sp = open_spool(dir, 0);
        struct rlimit rl = {20000, 20000};
        setrlimit(RLIMIT_FSIZE, &rl);
        int ok = 0;
        mp_diag *d = mp_diag_new();
        for (int i = 0; i < 1000; i++) {
            mp__payload *p = payload(i);
            uint64_t seq;
            mp_error err = mp__spool_append(sp, p, &seq, d);
            mp__payload_free(p);
            if (err) {
                int good = err == MP_ERR_IO && strstr(mp_diag_get(d, 0)->message, "cannot write the batch");
                dprintf(pipefd[1], "%d %d\n", ok, good);
                _exit(0); /* like a crash: no close */
            }
            ok++;
        }
        dprintf(pipefd[1], "%d 0\n", ok);
        _exit(0);
    }
    close(pipefd[1]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    char buf[64] = "";
    assert_true(read(pipefd[0], buf, sizeof buf - 1) > 0);
    close(pipefd[0]);
    int ok = -1, good = 0;
    assert_int_equal(sscanf(buf, "%d %d", &ok, &good), 2);
    assert_true(ok > 10 && ok < 1000);
    assert_int_equal(good, 1);
    mp__spool *sp = open_spool(dir, 0);
    mp__spool_counts c = mp__spool_counts_get(sp);
    assert_int_equal(c.recovered, (uint64_t)ok);
    assert_int_equal(c.corrupt_records, 0);
    mp__spool_close(sp);
}

/* A real full disk, where the machine lets the test mount a small tmpfs. */
static void test_full_tmpfs(void **state) {
    (void)state;
    char dir[300];
    path_in(dir, sizeof dir, "tmpfs");
    assert_int_equal(mkdir(dir, 0700), 0);
    if (mount("tmpfs", dir, "tmpfs", 0, "size=256k") != 0) {
        print_message("skipped: cannot mount a tmpfs here (%s); the file-size limit test "
                      "covers the failed write\n", strerror(errno));
        skip();
    }
    char sdir[400];
    snprintf(sdir, sizeof sdir, "%s/spool", dir);
    mp__spool *sp = open_spool(sdir, 1);
    mp_diag *d = mp_diag_new();
    int ok = 0;
    mp_error err = MP_OK;
    for (int i = 0; i < 100000 && err == MP_OK; i++) {
        mp__payload *p = payload(i);
        uint64_t seq;
        err = mp__spool_append(sp, p, &seq, d);
        mp__payload_free(p);
        ok += err == MP_OK;
    }
    assert_int_equal(err, MP_ERR_IO);
    assert_non_null(strstr(mp_diag_get(d, 0)->message, "No space left on device"));
    mp__spool_close(sp);
    sp = open_spool(sdir, 0);
    assert_int_equal(mp__spool_counts_get(sp).recovered, (uint64_t)ok);
    assert_int_equal(mp__spool_counts_get(sp).corrupt_records, 0);
    mp__spool_close(sp);
    mp_diag_free(d);
    umount(dir);
}

static void test_owner_only(void **state) {
    (void)state;
    char dir[300], seg[400], lock[400];
    path_in(dir, sizeof dir, "s");
    mode_t old = umask(0);
    mp__spool *sp = open_spool(dir, 0);
    umask(old);
    append(sp, 0, 1, NULL);
    struct stat st;
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    only_segment(dir, seg, sizeof seg);
    assert_int_equal(stat(seg, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    snprintf(lock, sizeof lock, "%s/lock", dir);
    assert_int_equal(stat(lock, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    mp__spool_close(sp);
}

typedef struct appender {
    mp__spool *sp;
    int first;
} appender;

static void *append_thread(void *arg) {
    appender *a = arg;
    append(a->sp, a->first, 100, NULL);
    return NULL;
}

static void test_power_loss_group_commit(void **state) {
    (void)state;
    char dir[300];
    path_in(dir, sizeof dir, "s");
    mp__spool *sp = open_spool(dir, 1);
    pthread_t t[8];
    appender a[8];
    for (int i = 0; i < 8; i++) {
        a[i] = (appender){sp, i * 100};
        assert_int_equal(pthread_create(&t[i], NULL, append_thread, &a[i]), 0);
    }
    for (int i = 0; i < 8; i++)
        pthread_join(t[i], NULL);
    mp__spool_close(sp);
    sp = open_spool(dir, 1);
    assert_int_equal(mp__spool_counts_get(sp).recovered, 800);
    /* Each batch exactly once. */
    char seen[800] = {0};
    for (;;) {
        mp__payload *p;
        uint64_t seq;
        int64_t tm;
        if (mp__spool_take_recovered(sp, &p, &seq, &tm) != MP_OK)
            break;
        const char *name = strstr(p->json, "event-");
        assert_non_null(name);
        int k = atoi(name + 6);
        assert_true(k >= 0 && k < 800);
        assert_int_equal(seen[k], 0);
        seen[k] = 1;
        mp__payload_free(p);
    }
    for (int k = 0; k < 800; k++)
        assert_int_equal(seen[k], 1);
    mp__spool_close(sp);
}

static void test_segments_rotate_and_go(void **state) {
    (void)state;
    char dir[300];
    path_in(dir, sizeof dir, "s");
    /* 8 MiB cap: 1 MiB segments. */
    mp__spool_options o = {dir, 0, 8u * 1024 * 1024};
    mp__spool *sp;
    assert_int_equal(mp__spool_open(&o, &sp, NULL), MP_OK);
    enum { N = 6000 };
    static uint64_t seqs[N];
    append(sp, 0, N, seqs);
    uint64_t disk = mp__spool_counts_get(sp).disk_bytes;
    assert_true(disk > 1024 * 1024); /* several segments */
    /* Acking a later segment first frees nothing (oldest first)... */
    mp__spool_ack(sp, seqs + N / 2, N / 2);
    assert_true(mp__spool_counts_get(sp).disk_bytes >= disk);
    /* ...acking the rest frees all but the segment written to. */
    mp__spool_ack(sp, seqs, N / 2);
    assert_true(mp__spool_counts_get(sp).disk_bytes < 1024 * 1024 + 100000);
    mp__spool_close(sp);
    sp = open_spool(dir, 0);
    assert_int_equal(mp__spool_counts_get(sp).recovered, 0);
    mp__spool_close(sp);
}

static void test_inspect_changes_nothing(void **state) {
    (void)state;
    char dir[300], seg[400];
    path_in(dir, sizeof dir, "s");
    long rec1, rec2;
    three_batches(dir, &rec1, &rec2);
    only_segment(dir, seg, sizeof seg);
    long size = file_size(seg);
    assert_int_equal(truncate(seg, size - 5), 0); /* a torn last record */
    mp__spool_scan sc;
    assert_int_equal(mp__spool_inspect(dir, &sc, NULL), MP_OK);
    assert_int_equal(sc.batches, 2);
    assert_int_equal(sc.segments, 1);
    assert_int_equal(sc.corrupt_records, 1);
    assert_int_equal(sc.corrupt_bytes, size - 5 - rec2);
    assert_true(sc.oldest_unixtime_ms > 1700000000000LL);
    assert_int_equal(sc.locked_by, 0);
    assert_int_equal(file_size(seg), size - 5); /* read-only */
    /* While another opener holds it, inspection says who. */
    mp__spool *sp = open_spool(dir, 0);
    assert_int_equal(mp__spool_inspect(dir, &sc, NULL), MP_OK);
    assert_int_equal(sc.locked_by, (long)getpid());
    mp__spool_close(sp);
    /* A directory that is not there is an error that names it. */
    mp_diag *d = mp_diag_new();
    char missing[300];
    path_in(missing, sizeof missing, "missing");
    assert_int_equal(mp__spool_inspect(missing, &sc, d), MP_ERR_IO);
    assert_non_null(strstr(mp_diag_get(d, 0)->message, "missing"));
    mp_diag_free(d);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32c_vector),
        cmocka_unit_test_setup_teardown(test_recovers_unacked_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fully_acked_leaves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncation_at_every_offset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bit_flips_cost_one_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_opener_at_a_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_format_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_failure_leaves_no_partial_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_tmpfs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_owner_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_power_loss_group_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_segments_rotate_and_go, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inspect_changes_nothing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

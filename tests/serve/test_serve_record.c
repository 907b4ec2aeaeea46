/*
 * `serve --record` when the record cannot be written, and the summary at
 * shutdown: what a CI job trusts must never claim more than was recorded.
 *
 *  - a full disk (a 64 KB tmpfs when this process may mount one, else
 *    /dev/full, said on the output) gets 507, never 202; the file keeps
 *    whole lines only, also once space comes back; the operator is told
 *    once per change; the counters say how many batches were not recorded;
 *  - the file is created with mode 0600, and rotation bounds it;
 *  - counters read after mp_serve_stop_stats() include requests that
 *    finished during the shutdown, so they match the record.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "serve_test.h"

#define BULK "/v2/bulkevents"

/* What on_error was told. */
typedef struct errors_seen {
    pthread_mutex_t lock;
    int count;
    char last[512];
} errors_seen;

static void on_error(void *ctx, const char *message) {
    errors_seen *e = ctx;
    pthread_mutex_lock(&e->lock);
    e->count++;
    snprintf(e->last, sizeof e->last, "%s", message);
    pthread_mutex_unlock(&e->lock);
}

/* Three valid batches, ids unique per call (n). */
static void three_batches(char *out, size_t cap, int n) {
    char a[400], b[400], c[400], id[32];
    snprintf(id, sizeof id, "a%d", n);
    test_batch(a, sizeof a, id);
    snprintf(id, sizeof id, "b%d", n);
    test_batch(b, sizeof b, id);
    snprintf(id, sizeof id, "c%d", n);
    test_batch(c, sizeof c, id);
    snprintf(out, cap, "[%s,%s,%s]", a, b, c);
}

/* Every line of the file is one whole batch; returns the count. */
static size_t whole_lines(const char *path) {
    size_t len;
    char *rec = test_read_file(path, &len);
    assert_non_null(rec);
    if (len > 0 && rec[len - 1] != '\n')
        fail_msg("the record ends in a partial line: ...%s", rec + (len > 80 ? len - 80 : 0));
    size_t lines = 0;
    for (char *line = rec, *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
        *nl = '\0';
        if (strncmp(line, "{\"environment\":\"development\",", 29) != 0 ||
            strcmp(line + strlen(line) - 4, "}}]}") != 0 || strstr(line + 1, "{\"environment\""))
            fail_msg("record line %zu is not one whole batch: %s", lines, line);
        lines++;
    }
    free(rec);
    return lines;
}

/* A 64 KB tmpfs at dir; 0 if mounted. */
static int mount_small_disk(const char *dir) {
    return mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=0700");
}

/* Fills the disk with a file, then frees all but `room` bytes of it. */
static void fill_disk(const char *pad, size_t room) {
    int fd = open(pad, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    char block[4096];
    memset(block, 'p', sizeof block);
    off_t size = 0;
    ssize_t n;
    while ((n = write(fd, block, sizeof block)) > 0)
        size += n;
    assert_int_equal(errno, ENOSPC);
    assert_int_equal(ftruncate(fd, size > (off_t)room ? size - (off_t)room : 0), 0);
    close(fd);
}

/* Posts until a 507 (at most `limit` requests); returns the 202s before it. */
static int post_until_full(const mp_server *s, int *n, int limit) {
    int accepted = 0;
    for (int i = 0; i < limit; i++) {
        char body[1300];
        three_batches(body, sizeof body, (*n)++);
        http_result r;
        long status = http_post(s, BULK, body, &r);
        if (status == 507) {
            assert_non_null(strstr(r.body, "could not record the batches: No space left on device"));
            http_result_free(&r);
            return accepted;
        }
        assert_int_equal(status, 202);
        http_result_free(&r);
        accepted++;
    }
    fail_msg("no 507 after %d requests on a full disk", limit);
    return accepted;
}

static void test_full_tmpfs(void **state) {
    (void)state;
    char dir[] = "/tmp/mp_serve_fullXXXXXX";
    assert_non_null(mkdtemp(dir));
    if (mount_small_disk(dir) != 0) {
        printf("(no 64 KB tmpfs: mount failed: %s; test_full_dev_full covers a full disk)\n",
               strerror(errno));
        rmdir(dir);
        skip();
    }
    char path[128], pad[128];
    snprintf(path, sizeof path, "%s/record.ndjson", dir);
    snprintf(pad, sizeof pad, "%s/pad", dir);
    fill_disk(pad, 8192);

    errors_seen seen = {.lock = PTHREAD_MUTEX_INITIALIZER};
    mp_serve_options o = {.record_path = path, .on_error = on_error, .error_ctx = &seen};
    mp_server *s = test_start(&o);
    int n = 0;
    int ok = post_until_full(s, &n, 200);
    assert_true(ok > 0);
    /* Still full: refused again, said only once. */
    char body[1300];
    three_batches(body, sizeof body, 9999);
    http_result r;
    assert_int_equal(http_post(s, BULK, body, &r), 507);
    http_result_free(&r);
    assert_int_equal(seen.count, 1);
    assert_non_null(strstr(seen.last, "cannot write the record file"));
    assert_int_equal(whole_lines(path), 3 * (size_t)ok);

    /* Space comes back: the refused batches are recorded when sent again
     * (they were not remembered as duplicates), on lines of their own. */
    assert_int_equal(unlink(pad), 0);
    assert_int_equal(http_post(s, BULK, body, &r), 202);
    http_result_free(&r);
    assert_int_equal(seen.count, 2);
    assert_non_null(strstr(seen.last, "can be written again"));
    mp_serve_stats st;
    mp_serve_stop_stats(s, &st);
    assert_int_equal(st.accepted, 3 * (uint64_t)ok + 3);
    assert_int_equal(st.unrecorded, 6);
    assert_int_equal(st.by_status[507], 2);
    assert_int_equal(st.received, st.accepted + st.duplicates + st.rejected + st.unrecorded);
    assert_int_equal(whole_lines(path), st.accepted);

    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(umount2(dir, MNT_DETACH), 0);
    rmdir(dir);
}

/* /dev/full: every write fails, nothing is ever acknowledged. */
static void test_full_dev_full(void **state) {
    (void)state;
    errors_seen seen = {.lock = PTHREAD_MUTEX_INITIALIZER};
    mp_serve_options o = {.record_path = "/dev/full", .on_error = on_error, .error_ctx = &seen};
    mp_server *s = test_start(&o);
    for (int i = 0; i < 3; i++) {
        char body[1300];
        three_batches(body, sizeof body, i);
        http_result r;
        assert_int_equal(http_post(s, BULK, body, &r), 507);
        http_result_free(&r);
    }
    mp_serve_stats st;
    mp_serve_stop_stats(s, &st);
    assert_int_equal(st.accepted, 0);
    assert_int_equal(st.unrecorded, 9);
    assert_int_equal(st.by_status[202], 0);
    assert_int_equal(seen.count, 1);
}

static void test_record_private_and_rotated(void **state) {
    (void)state;
    char path[256], old[300];
    test_temp_path(path, sizeof path, "rotate");
    snprintf(old, sizeof old, "%s.1", path);
    unlink(old);
    mode_t mask = umask(022);
    mp_serve_options o = {.record_path = path, .record_max_bytes = 4096};
    mp_server *s = test_start(&o);
    umask(mask);
    for (int i = 0; i < 20; i++) { /* 20 x ~750 bytes: several rotations */
        char body[1300];
        three_batches(body, sizeof body, i);
        http_result r;
        assert_int_equal(http_post(s, BULK, body, &r), 202);
        http_result_free(&r);
    }
    mp_serve_stop(s);
    struct stat a, b;
    assert_int_equal(stat(path, &a), 0);
    assert_int_equal(stat(old, &b), 0);
    assert_int_equal(a.st_mode & 0777, 0600);
    assert_true(a.st_size <= 4096 && b.st_size <= 4096);
    size_t lines = whole_lines(path) + whole_lines(old);
    assert_true(lines >= 6 && lines % 3 == 0); /* requests are never split across files */
    unlink(path);
    unlink(old);
}

/* Requests still in the pipeline when the stop begins finish during it;
 * the counters read after the stop count them, as the record does. */
typedef struct flight {
    const char *url;
    int n;
    http_result r;
} flight;

static void *post_one(void *arg) {
    flight *f = arg;
    char body[1300];
    three_batches(body, sizeof body, f->n);
    http_opts o = {.timeout_ms = 8000};
    http_request(f->url, BULK, body, strlen(body), &o, &f->r);
    return NULL;
}

/* Waits (at most 10 s) until `want` connections to 127.0.0.1:port are
 * established, by the server's side of them in /proc/net/tcp; then time
 * for their requests to be read. A fixed sleep alone was not enough under
 * ThreadSanitizer on a loaded machine. */
static void wait_connections(unsigned port, int want) {
    for (int tries = 0; tries < 1000; tries++) {
        FILE *f = fopen("/proc/net/tcp", "r");
        int n = 0;
        char line[256];
        while (f && fgets(line, sizeof line, f)) {
            unsigned local_port, state;
            if (sscanf(line, " %*d: %*8x:%x %*8x:%*x %x", &local_port, &state) == 2 &&
                local_port == port && state == 1 /* ESTABLISHED */)
                n++;
        }
        if (f)
            fclose(f);
        if (n >= want || !f)
            break;
        struct timespec tick = {0, 10 * 1000 * 1000};
        nanosleep(&tick, NULL);
    }
    /* Connected is not yet read: a client may still be sending its body
     * (curl waits for "100 Continue" before a body over 1 KB). */
    struct timespec settle = {2, 0};
    nanosleep(&settle, NULL);
}

static void test_summary_after_stop(void **state) {
    (void)state;
    char path[256];
    test_temp_path(path, sizeof path, "summary");
    mp_serve_options o = {.record_path = path, .latency_ms = 5000};
    mp_server *s = test_start(&o);
    char url[80];
    snprintf(url, sizeof url, "%s", mp_serve_url(s));
    flight f[2] = {{url, 1, {0}}, {url, 2, {0}}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, post_one, &f[i]), 0);
    /* Both requests are in the latency wait (5 s) when the stop begins. */
    wait_connections(mp_serve_port(s), 2);
    assert_int_equal(test_stats(s).requests, 0);
    mp_serve_stats st;
    mp_serve_stop_stats(s, &st);
    int answered = 0;
    for (int i = 0; i < 2; i++) {
        pthread_join(t[i], NULL);
        answered += f[i].r.status == 202;
        http_result_free(&f[i].r);
    }
    /* A request still in its latency wait when the stop begins may be
     * closed before its answer reaches the client (serve.h, latency_ms), so
     * how many clients see their 202 is timing. What must hold: the
     * counters read after the stop count every request the server handled,
     * as the record does (read before the stop, as they once were, they
     * said 0 while the record held the batches). */
    assert_true(st.requests >= 1);
    assert_true(st.by_status[202] >= (uint64_t)answered);
    assert_int_equal(st.accepted, 3 * st.by_status[202]);
    assert_int_equal(whole_lines(path), st.accepted);
    unlink(path);
}

static int setup(void **state) {
    (void)state;
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    curl_global_cleanup();
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_tmpfs),
        cmocka_unit_test(test_full_dev_full),
        cmocka_unit_test(test_record_private_and_rotated),
        cmocka_unit_test(test_summary_after_stop),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

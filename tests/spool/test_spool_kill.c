/*
 * The spool through the library, killed for real: a child process enqueues
 * batches with the strongest durability (MP_SPOOL_POWER_LOSS) into an
 * uploader whose server answers slowly and resets connections, telling the
 * parent each id whose enqueue returned; the parent SIGKILLs it at a random
 * moment, five times, each child going on where the last one's confirmed
 * ids ended. Then an uploader in the parent opens the same spool and
 * delivers. The server's record must hold every confirmed id exactly once
 * (ids it saw twice are dropped by its deduplication, as mParticle drops
 * them), and nothing may be left in the spool.
 *
 * The child is this program run again (exec), so it starts clean rather
 * than as a fork of a process with server threads.
 */
#define _GNU_SOURCE

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mparticle.h"
#include "mparticle/serve.h"
#include "support/test_util.h"

#define KEY "k"
#define SECRET "s"
#define MAX_IDS 200000
#define KILLS 5

static const char *self;

static mp_client *client_for(const char *url) {
    mp_client_options co = MP_CLIENT_OPTIONS_INIT;
    co.api_key = KEY;
    co.api_secret = SECRET;
    co.base_url = url;
    co.backoff_initial_ms = 5;
    co.backoff_max_ms = 50;
    co.timeout_ms = 2000;
    mp_client *c = NULL;
    if (mp_client_new(&co, &c, NULL) != MP_OK)
        return NULL;
    return c;
}

static void fill_batch(mp_batch *b, mp_event *ev, char *id, size_t idcap, int i) {
    snprintf(id, idcap, "kill-%d", i);
    memset(ev, 0, sizeof *ev);
    ev->event_type = MP_EVENT_CUSTOM_EVENT;
    ev->custom_event.event_name = "killed";
    ev->custom_event.custom_event_type = MP_CUSTOM_EVENT_TYPE_OTHER;
    memset(b, 0, sizeof *b);
    b->environment = MP_ENVIRONMENT_DEVELOPMENT;
    b->source_request_id = id;
    b->mpid = MP_INT(i);
    b->events.items = ev;
    b->events.count = 1;
}

/* The child: enqueue from `first` on, printing each id's number once its
 * enqueue has returned, until killed. */
static int child_main(const char *dir, const char *url, int first) {
    mp_client *c = client_for(url);
    mp_uploader_options uo = MP_UPLOADER_OPTIONS_INIT;
    uo.spool_dir = dir;
    uo.spool_durability = MP_SPOOL_POWER_LOSS;
    uo.enqueue_timeout_ms = -1;
    uo.linger_ms = 5;
    mp_uploader *up = NULL;
    if (!c || mp_uploader_new(c, &uo, &up, NULL) != MP_OK)
        return 3;
    for (int i = first; i < MAX_IDS; i++) {
        mp_batch b;
        mp_event ev;
        char id[32];
        fill_batch(&b, &ev, id, sizeof id, i);
        if (mp_uploader_enqueue(up, &b, NULL, NULL) != MP_OK)
            return 4;
        char line[16];
        int n = snprintf(line, sizeof line, "%d\n", i);
        if (write(STDOUT_FILENO, line, (size_t)n) != n)
            return 5;
    }
    return 0;
}

/* Starts the child with its stdout on a pipe. */
static pid_t spawn(const char *dir, const char *url, int first, int *out_fd) {
    int fds[2];
    assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        char firsts[16];
        snprintf(firsts, sizeof firsts, "%d", first);
        execl(self, self, "--child", dir, url, firsts, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    *out_fd = fds[0];
    return pid;
}

/* Reads the child's confirmations until `ms` have passed, then kills it;
 * returns the highest confirmed number, or first - 1. */
static int run_and_kill(const char *dir, const char *url, int first, long ms) {
    int fd;
    pid_t pid = spawn(dir, url, first, &fd);
    struct timespec nap = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&nap, NULL);
    kill(pid, SIGKILL);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    /* Every whole line is a returned enqueue. */
    static char buf[4 * 1024 * 1024];
    size_t len = 0;
    ssize_t n;
    while ((n = read(fd, buf + len, sizeof buf - 1 - len)) > 0)
        len += (size_t)n;
    close(fd);
    buf[len] = '\0';
    int last = first - 1;
    char *end = strrchr(buf, '\n');
    if (end) {
        *end = '\0';
        char *prev = strrchr(buf, '\n');
        last = atoi(prev ? prev + 1 : buf);
    }
    return last;
}

static void test_killed_producers_lose_nothing(void **state) {
    (void)state;
    char dir[256], record[256];
    snprintf(dir, sizeof dir, "/tmp/mp-kill-%ld", (long)getpid());
    snprintf(record, sizeof record, "/tmp/mp-kill-%ld.ndjson", (long)getpid());
    remove(record);
    mp_serve_options so = {0};
    so.api_key = KEY;
    so.api_secret = SECRET;
    so.record_path = record;
    so.latency_ms = 20;
    so.reset_rate = 0.2;
    so.seed = 7;
    so.threads = 4;
    mp_server *s = NULL;
    char err[256];
    assert_int_equal(mp_serve_start(&so, &s, err, sizeof err), MP_OK);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/v2", mp_serve_port(s));

    srand((unsigned)time(NULL));
    int confirmed = -1;
    for (int k = 0; k < KILLS; k++) {
        long ms = 100 + rand() % 400;
        int last = run_and_kill(dir, url, confirmed + 1, ms);
        assert_true(last >= confirmed);
        print_message("kill %d after %ld ms: confirmed up to %d\n", k + 1, ms, last);
        confirmed = last;
    }
    assert_true(confirmed > 100); /* the children did get work done */

    /* Drain in this process. */
    mp_client *c = client_for(url);
    mp_uploader_options uo = MP_UPLOADER_OPTIONS_INIT;
    uo.spool_dir = dir;
    mp_uploader *up = NULL;
    mp_diag *d = mp_diag_new();
    assert_int_equal(mp_uploader_new(c, &uo, &up, d), MP_OK);
    mp_uploader_stats st = MP_UPLOADER_STATS_INIT;
    assert_int_equal(mp_uploader_stats_get(up, &st), MP_OK);
    print_message("recovered %llu, corrupt %llu\n", (unsigned long long)st.recovered,
                  (unsigned long long)st.spool_corrupt_records);
    assert_int_equal(mp_uploader_flush(up, 60000), MP_OK);
    assert_int_equal(mp_uploader_close(up, 5000), MP_OK);
    mp_client_free(c);
    mp_spool_info info = MP_SPOOL_INFO_INIT;
    assert_int_equal(mp_spool_inspect(dir, &info, d), MP_OK);
    assert_int_equal(info.batches, 0);
    mp_serve_stop(s);

    /* Every confirmed id exactly once in the record (plus any sent before
     * a kill cut its confirmation short). */
    size_t len;
    char *text = mp_test_read_file(record, &len);
    assert_non_null(text);
    unsigned char *seen = calloc(MAX_IDS, 1);
    assert_non_null(seen);
    for (char *p = strstr(text, "\"kill-"); p; p = strstr(p + 1, "\"kill-")) {
        int i = atoi(p + 6);
        assert_true(i >= 0 && i < MAX_IDS);
        if (seen[i])
            fail_msg("id kill-%d recorded twice", i);
        seen[i] = 1;
    }
    for (int i = 0; i <= confirmed; i++) {
        if (!seen[i])
            fail_msg("id kill-%d was confirmed by enqueue but never delivered", i);
    }
    free(seen);
    free(text);
    mp_diag_free(d);
    remove(record);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(int argc, char **argv) {
    self = argv[0];
    if (argc == 5 && strcmp(argv[1], "--child") == 0)
        return child_main(argv[2], argv[3], atoi(argv[4]));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_killed_producers_lose_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

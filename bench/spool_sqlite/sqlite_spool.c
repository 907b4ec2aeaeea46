/* SQLite as the uploader's durable spool: the measurement side of "own
 * append-only segment log vs embedded database". Self-contained (links only
 * sqlite3 and pthreads); see README.md in this folder for the results.
 *
 * Spool model: table batches(seq INTEGER PRIMARY KEY, id TEXT, json BLOB,
 * enqueued INTEGER); producers insert one batch per enqueue (the call returns
 * the seq), a consumer deletes acknowledged batches in groups of 100 (one
 * uploader request), oldest first, concurrently with the producers.
 *
 * Usage: sqlite_spool <command> [--dir DIR] [--secs S] [--runs R]
 *   all        every measurement below, medians, a markdown summary
 *   baseline   raw append write(2) / write+fdatasync of the same records
 *   tput       throughput table (process-crash and power-loss durability)
 *   recovery   open a ~400,000-row spool left by a killed process, read all
 *   crash      SIGKILL a child that inserts, 10 times, and verify
 *   size       disk bytes per queued batch, size after deleting everything
 *   sample     print the first 3 payloads (NDJSON)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define JSON_LEN 2400
#define POOL 4096
#define ACK_GROUP 100
#define MAXTHREADS 64
#define WARMUP_S 2.0 /* seconds before the measured window */
#define MAX_BACKLOG 10000 /* bounded queue: producers wait beyond this */

static const char *g_dir = "/tmp/spool_sqlite";
static double g_secs = 5.0;
static int g_runs = 3;
static char *g_pool; /* POOL blobs of JSON_LEN bytes */

/* ---------------------------------------------------------------- utils */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void die(const char *what, const char *detail) {
    fprintf(stderr, "sqlite_spool: %s: %s\n", what, detail ? detail : "");
    exit(1);
}

static uint64_t splitmix(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* A UUIDv4-shaped string for batch k; k is the last group (for the crash
 * check). out must hold 37 bytes. */
static void uuid_for(uint64_t k, char *out) {
    uint64_t s = k * 7919 + 1, a = splitmix(&s), b = splitmix(&s);
    snprintf(out, 37, "%08" PRIx32 "-%04" PRIx32 "-4%03" PRIx32 "-%04" PRIx32 "-%012" PRIx64,
             (uint32_t)a, (uint32_t)(a >> 32) & 0xffff, (uint32_t)(a >> 48) & 0xfff,
             ((uint32_t)b & 0x3fff) | 0x8000, (uint64_t)(k & 0xffffffffffffULL));
}

static const char *const WORDS[] = {
    "alpha", "bravo", "checkout", "delta", "echo", "foxtrot", "gold", "home",
    "india", "jacket", "kilo", "lima", "mobile", "november", "oscar", "premium",
    "quebec", "romeo", "shoes", "tango", "uniform", "victor", "whiskey", "xray"};
#define NWORDS (sizeof WORDS / sizeof *WORDS)

/* W1-shaped batch k (one user, session start, custom events with attributes,
 * screen views, a purchase), exactly JSON_LEN bytes, deterministic in k. */
static void gen_json(uint64_t k, char *out) {
    char buf[JSON_LEN + 1024], id[37], ida[37];
    uint64_t s = k ^ 0x5eed5eedULL;
    uuid_for(k, id);
    uuid_for(k + 0x100000000ULL, ida);
    long long ts = 1700000000000LL + (long long)(splitmix(&s) % 86400000);
    int n = snprintf(buf, sizeof buf,
                     "{\"environment\":\"production\",\"source_request_id\":\"%s\","
                     "\"user_identities\":{\"customer_id\":\"cust-%" PRIu64 "\",\"email\":\"user%" PRIu64
                     "@example.com\"},\"device_info\":{\"ios_advertising_id\":\"%s\"},"
                     "\"user_attributes\":{\"Account type\":\"%s\",\"foo-array\":[\"bar1\",\"bar2\"]},"
                     "\"context\":{\"data_plan\":{\"plan_id\":\"freddy_s_plan\",\"plan_version\":%d}},"
                     "\"events\":[{\"event_type\":\"session_start\",\"data\":{\"session_id\":%" PRIu64
                     ",\"timestamp_unixtime_ms\":%lld}}",
                     id, k, k, ida, splitmix(&s) % 3 ? "paid" : "free", (int)(splitmix(&s) % 9) + 1,
                     splitmix(&s) % 100000000, ts);
    for (int e = 0; n < JSON_LEN - 420; e++) {
        ts += (long long)(splitmix(&s) % 5000);
        int kind = (int)(splitmix(&s) % 4);
        if (kind == 0)
            n += snprintf(buf + n, sizeof buf - (size_t)n,
                          ",{\"event_type\":\"screen_view\",\"data\":{\"screen_name\":\"%s %s\","
                          "\"timestamp_unixtime_ms\":%lld}}",
                          WORDS[splitmix(&s) % NWORDS], WORDS[splitmix(&s) % NWORDS], ts);
        else if (kind == 1)
            n += snprintf(buf + n, sizeof buf - (size_t)n,
                          ",{\"event_type\":\"commerce_event\",\"data\":{\"product_action\":{"
                          "\"action\":\"purchase\",\"transaction_id\":\"T%" PRIu64 "\",\"total_amount\":%d.%02d,"
                          "\"products\":[{\"id\":\"sku-%d\",\"name\":\"%s\",\"price\":%d.99,\"quantity\":%d}]},"
                          "\"timestamp_unixtime_ms\":%lld}}",
                          splitmix(&s) % 1000000, (int)(splitmix(&s) % 500), (int)(splitmix(&s) % 100),
                          (int)(splitmix(&s) % 10000), WORDS[splitmix(&s) % NWORDS],
                          (int)(splitmix(&s) % 200), (int)(splitmix(&s) % 5) + 1, ts);
        else
            n += snprintf(buf + n, sizeof buf - (size_t)n,
                          ",{\"event_type\":\"custom_event\",\"data\":{\"event_name\":\"%s %d\","
                          "\"custom_event_type\":\"%s\",\"custom_attributes\":{\"foo\":\"bar%d\","
                          "\"category\":\"%s\",\"value\":\"%d\"},\"timestamp_unixtime_ms\":%lld}}",
                          WORDS[splitmix(&s) % NWORDS], e, splitmix(&s) % 2 ? "other" : "navigation",
                          (int)(splitmix(&s) % 100), WORDS[splitmix(&s) % NWORDS],
                          (int)(splitmix(&s) % 100000), ts);
    }
    static const char head[] = ",{\"event_type\":\"custom_event\",\"data\":{\"event_name\":\"note\","
                               "\"custom_event_type\":\"other\",\"custom_attributes\":{\"text\":\"";
    static const char tail[] = "\"}}}]}";
    memcpy(buf + n, head, sizeof head - 1);
    n += (int)sizeof head - 1;
    int fill = JSON_LEN - n - (int)(sizeof tail - 1);
    if (fill < 0)
        die("gen_json", "overflow");
    while (fill > 0) { /* words separated by spaces, varied */
        const char *w = WORDS[splitmix(&s) % NWORDS];
        int wl = (int)strlen(w);
        if (wl + 1 > fill)
            wl = fill - 1;
        if (wl > 0)
            memcpy(buf + n, w, (size_t)wl);
        n += wl;
        buf[n++] = ' ';
        fill -= wl + 1;
    }
    memcpy(buf + n, tail, sizeof tail - 1);
    n += (int)sizeof tail - 1;
    if (n != JSON_LEN)
        die("gen_json", "length");
    memcpy(out, buf, JSON_LEN);
}

static void make_pool(void) {
    g_pool = malloc((size_t)POOL * JSON_LEN);
    if (!g_pool)
        die("malloc", "pool");
    for (int i = 0; i < POOL; i++)
        gen_json((uint64_t)i, g_pool + (size_t)i * JSON_LEN);
}

static long long file_size(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 ? (long long)st.st_size : 0;
}

/* Bytes this process passed to write(2)/pwrite(2) so far. */
static long long io_wchar(void) {
    FILE *f = fopen("/proc/self/io", "r");
    char line[128];
    long long v = 0;
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "wchar: %lld", &v) == 1)
            break;
    fclose(f);
    return v;
}

/* db, -wal, -shm paths for name under g_dir. */
struct paths {
    char db[512], wal[520], shm[520];
};

static struct paths paths_for(const char *name) {
    struct paths p;
    snprintf(p.db, sizeof p.db, "%s/%s.db", g_dir, name);
    snprintf(p.wal, sizeof p.wal, "%s-wal", p.db);
    snprintf(p.shm, sizeof p.shm, "%s-shm", p.db);
    return p;
}

static void remove_db(const struct paths *p) {
    unlink(p->db);
    unlink(p->wal);
    unlink(p->shm);
}

/* ------------------------------------------------------------------ sqlite */

enum { SYNC_OFF, SYNC_NORMAL, SYNC_FULL };
static const char *const SYNC_NAME[] = {"OFF", "NORMAL", "FULL"};

static void exec(sqlite3 *db, const char *sql) {
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
        die(sql, err);
}

static long long pragma_int(sqlite3 *db, const char *sql) {
    sqlite3_stmt *st;
    long long v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        die(sql, sqlite3_errmsg(db));
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static atomic_llong g_busy_calls; /* calls of busy_yield */

static int busy_yield(void *arg, int count) {
    (void)arg;
    atomic_fetch_add(&g_busy_calls, 1);
    if (count > 200000)
        return 0;
    if (count < 20)
        sched_yield();
    else
        usleep(20);
    return 1;
}

/* page_size 0 = default; auto_vacuum: 0 NONE, 1 FULL, 2 INCREMENTAL. */
static sqlite3 *open_db(const char *path, int sync, int page_size, int auto_vacuum, int yield_busy) {
    sqlite3 *db;
    char sql[128];
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK)
        die("open", sqlite3_errmsg(db));
    if (yield_busy)
        sqlite3_busy_handler(db, busy_yield, NULL);
    else
        sqlite3_busy_timeout(db, 10000);
    if (page_size) {
        snprintf(sql, sizeof sql, "PRAGMA page_size=%d", page_size);
        exec(db, sql);
    }
    if (auto_vacuum) {
        snprintf(sql, sizeof sql, "PRAGMA auto_vacuum=%d", auto_vacuum);
        exec(db, sql);
    }
    exec(db, "PRAGMA journal_mode=WAL");
    snprintf(sql, sizeof sql, "PRAGMA synchronous=%s", SYNC_NAME[sync]);
    exec(db, sql);
    exec(db, "CREATE TABLE IF NOT EXISTS batches(seq INTEGER PRIMARY KEY, id TEXT, json BLOB, enqueued INTEGER)");
    return db;
}

static sqlite3_stmt *prep(sqlite3 *db, const char *sql) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
        die(sql, sqlite3_errmsg(db));
    return st;
}

#define SQL_INSERT "INSERT INTO batches(id, json, enqueued) VALUES(?1, ?2, ?3)"
#define SQL_DELETE "DELETE FROM batches WHERE seq = ?1"

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Steps a write statement to completion, retrying SQLITE_BUSY. */
static void step_done(sqlite3 *db, sqlite3_stmt *st, atomic_llong *busy) {
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_BUSY || rc == SQLITE_LOCKED) {
        if (busy)
            atomic_fetch_add(busy, 1);
        sqlite3_reset(st);
    }
    if (rc != SQLITE_DONE)
        die("step", sqlite3_errmsg(db));
    sqlite3_reset(st);
}

static int64_t insert_one(sqlite3 *db, sqlite3_stmt *ins, uint64_t k, const char *json, atomic_llong *busy) {
    char id[37];
    uuid_for(k, id);
    sqlite3_bind_text(ins, 1, id, 36, SQLITE_TRANSIENT);
    sqlite3_bind_blob(ins, 2, json, JSON_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(ins, 3, now_ms());
    step_done(db, ins, busy);
    return sqlite3_last_insert_rowid(db);
}

static void exec_busy(sqlite3 *db, sqlite3_stmt *st, atomic_llong *busy) { step_done(db, st, busy); }

/* One ack: seqs [from, from+ACK_GROUP) deleted in one transaction. */
static void delete_group(sqlite3 *db, sqlite3_stmt *begin, sqlite3_stmt *del, sqlite3_stmt *commit,
                         int64_t from, atomic_llong *busy) {
    exec_busy(db, begin, busy);
    for (int64_t s = from; s < from + ACK_GROUP; s++) {
        sqlite3_bind_int64(del, 1, s);
        step_done(db, del, NULL);
    }
    step_done(db, commit, NULL);
}

/* ---------------------------------------------------------------- baseline */

/* What any log pays: append 2,400-byte records (+16-byte header) with
 * write(2), and with write + fdatasync per record. */
static double raw_append(int sync_each, double secs) {
    char path[512], rec[JSON_LEN + 16];
    snprintf(path, sizeof path, "%s/raw.log", g_dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
    if (fd < 0)
        die("open", path);
    long long n = 0;
    double t0 = now_s(), t;
    while ((t = now_s()) - t0 < secs) {
        memset(rec, 0, 16);
        memcpy(rec + 16, g_pool + (size_t)(n % POOL) * JSON_LEN, JSON_LEN);
        if (write(fd, rec, sizeof rec) != (ssize_t)sizeof rec)
            die("write", path);
        if (sync_each)
            fdatasync(fd);
        n++;
    }
    close(fd);
    unlink(path);
    return (double)n / (t - t0);
}

static void cmd_baseline(void) {
    double a[16], b[16];
    for (int i = 0; i < g_runs; i++) {
        a[i] = raw_append(0, 3);
        b[i] = raw_append(1, 3);
    }
    printf("\n### Baseline, same disk, one thread (median of %d runs of 3 s)\n\n", g_runs);
    printf("| raw append of 2,416-byte records | records/s | MB/s |\n|---|---|---|\n");
    double ma = median(a, g_runs), mb = median(b, g_runs);
    printf("| write(2) only | %.0f | %.1f |\n", ma, ma * JSON_LEN / 1e6);
    printf("| write(2) + fdatasync each | %.0f | %.1f |\n", mb, mb * JSON_LEN / 1e6);
    fflush(stdout);
}

/* --------------------------------------------------------------- throughput */

enum { ST_CONN, ST_YIELD, ST_MUTEX, ST_GROUP };
static const char *const ST_NAME[] = {"conn/thread + busy_timeout", "conn/thread + yield busy handler",
                                      "one conn + mutex", "group commit (committer thread)"};

struct gitem {
    uint64_t k;
    int64_t seq;
    int done;
};

struct run {
    int strat, sync, threads, consumer, auto_vacuum;
    const char *path;
    sqlite3 *shared;
    pthread_mutex_t mu; /* ST_MUTEX: guards shared; ST_GROUP: guards queue */
    pthread_cond_t qcv, donecv;
    struct gitem *queue[MAXTHREADS];
    int qn;
    int64_t ack_req, ack_done; /* ST_GROUP: delete seqs < ack_req */
    long long commits;
    atomic_int go, stop;
    atomic_llong kctr, inserted, deleted, busy, max_seq;
};

static void note_seq(struct run *r, int64_t seq) {
    long long m = atomic_load(&r->max_seq);
    while (seq > m && !atomic_compare_exchange_weak(&r->max_seq, &m, seq))
        ;
}

static void *producer(void *arg) {
    struct run *r = arg;
    sqlite3 *db = r->shared;
    sqlite3_stmt *ins = NULL;
    if (r->strat == ST_CONN || r->strat == ST_YIELD)
        db = open_db(r->path, r->sync, 0, r->auto_vacuum, r->strat == ST_YIELD);
    if (r->strat != ST_GROUP)
        ins = prep(db, SQL_INSERT);
    while (!atomic_load(&r->go))
        sched_yield();
    while (!atomic_load(&r->stop)) {
        /* the uploader's queue is bounded: a producer waits while the spool
         * holds MAX_BACKLOG undelivered batches */
        if (atomic_load(&r->inserted) - atomic_load(&r->deleted) >= MAX_BACKLOG) {
            usleep(50);
            continue;
        }
        uint64_t k = (uint64_t)atomic_fetch_add(&r->kctr, 1);
        const char *json = g_pool + (k % POOL) * JSON_LEN;
        int64_t seq;
        if (r->strat == ST_MUTEX) {
            pthread_mutex_lock(&r->mu);
            seq = insert_one(db, ins, k, json, &r->busy);
            pthread_mutex_unlock(&r->mu);
        } else if (r->strat == ST_GROUP) {
            struct gitem it = {k, 0, 0};
            pthread_mutex_lock(&r->mu);
            if (atomic_load(&r->stop)) {
                pthread_mutex_unlock(&r->mu);
                break;
            }
            r->queue[r->qn++] = &it;
            pthread_cond_signal(&r->qcv);
            while (!it.done)
                pthread_cond_wait(&r->donecv, &r->mu);
            pthread_mutex_unlock(&r->mu);
            seq = it.seq;
        } else {
            seq = insert_one(db, ins, k, json, &r->busy);
        }
        note_seq(r, seq);
        atomic_fetch_add(&r->inserted, 1);
    }
    if (ins)
        sqlite3_finalize(ins);
    if (db != r->shared)
        sqlite3_close(db);
    return NULL;
}

static void *committer(void *arg) {
    struct run *r = arg;
    sqlite3 *db = r->shared;
    sqlite3_stmt *ins = prep(db, SQL_INSERT), *del = prep(db, SQL_DELETE), *begin = prep(db, "BEGIN IMMEDIATE"),
                 *commit = prep(db, "COMMIT");
    struct gitem *take[MAXTHREADS];
    pthread_mutex_lock(&r->mu);
    for (;;) {
        while (r->qn == 0 && r->ack_req == r->ack_done && !atomic_load(&r->stop))
            pthread_cond_wait(&r->qcv, &r->mu);
        if (r->qn == 0 && r->ack_req == r->ack_done && atomic_load(&r->stop))
            break;
        int n = r->qn;
        memcpy(take, r->queue, (size_t)n * sizeof *take);
        r->qn = 0;
        int64_t a0 = r->ack_done, a1 = r->ack_req;
        pthread_mutex_unlock(&r->mu);
        exec_busy(db, begin, NULL);
        for (int i = 0; i < n; i++)
            take[i]->seq = insert_one(db, ins, take[i]->k, g_pool + (take[i]->k % POOL) * JSON_LEN, NULL);
        for (int64_t s = a0; s < a1; s++) {
            sqlite3_bind_int64(del, 1, s);
            step_done(db, del, NULL);
        }
        step_done(db, commit, NULL);
        pthread_mutex_lock(&r->mu);
        for (int i = 0; i < n; i++)
            take[i]->done = 1;
        r->ack_done = a1;
        r->commits++;
        pthread_cond_broadcast(&r->donecv);
    }
    pthread_mutex_unlock(&r->mu);
    sqlite3_finalize(ins);
    sqlite3_finalize(del);
    sqlite3_finalize(begin);
    sqlite3_finalize(commit);
    return NULL;
}

/* Deletes the oldest ACK_GROUP seqs whenever more than ACK_GROUP rows exist
 * (at least one row stays, so that seqs are never reused: an empty table
 * restarts rowids at max+1 = 1). */
static void *consumer(void *arg) {
    struct run *r = arg;
    sqlite3 *db = r->shared;
    if (r->strat == ST_CONN || r->strat == ST_YIELD)
        db = open_db(r->path, r->sync, 0, r->auto_vacuum, r->strat == ST_YIELD);
    sqlite3_stmt *del = NULL, *begin = NULL, *commit = NULL;
    if (r->strat != ST_GROUP) {
        del = prep(db, SQL_DELETE);
        begin = prep(db, "BEGIN IMMEDIATE");
        commit = prep(db, "COMMIT");
    }
    int64_t next = 1;
    while (!atomic_load(&r->go))
        sched_yield();
    while (!atomic_load(&r->stop)) {
        if (atomic_load(&r->max_seq) < next + ACK_GROUP) {
            usleep(100);
            continue;
        }
        if (r->strat == ST_GROUP) {
            pthread_mutex_lock(&r->mu);
            r->ack_req = next + ACK_GROUP;
            pthread_cond_signal(&r->qcv);
            while (r->ack_done < next + ACK_GROUP && !atomic_load(&r->stop))
                pthread_cond_wait(&r->donecv, &r->mu);
            pthread_mutex_unlock(&r->mu);
        } else if (r->strat == ST_MUTEX) {
            pthread_mutex_lock(&r->mu);
            delete_group(db, begin, del, commit, next, &r->busy);
            pthread_mutex_unlock(&r->mu);
        } else {
            delete_group(db, begin, del, commit, next, &r->busy);
        }
        next += ACK_GROUP;
        atomic_fetch_add(&r->deleted, ACK_GROUP);
    }
    if (del) {
        sqlite3_finalize(del);
        sqlite3_finalize(begin);
        sqlite3_finalize(commit);
    }
    if (db != r->shared)
        sqlite3_close(db);
    return NULL;
}

struct tput {
    double bps, dps, rows_per_commit, busy_per_insert;
    long long backlog0, backlog, walmax;
    double fsync_base, wpb;
};

static struct tput run_tput(int strat, int sync, int threads, int auto_vacuum, double secs) {
    struct run r;
    memset(&r, 0, sizeof r);
    r.strat = strat;
    r.sync = sync;
    r.threads = threads;
    r.auto_vacuum = auto_vacuum;
    struct paths p = paths_for("tput");
    remove_db(&p);
    r.path = p.db;
    pthread_mutex_init(&r.mu, NULL);
    pthread_cond_init(&r.qcv, NULL);
    pthread_cond_init(&r.donecv, NULL);
    /* The schema is created once, and this connection stays open throughout
     * (the shared connection of ST_MUTEX/ST_GROUP), so that the WAL file is
     * never deleted at the close of a last connection. */
    r.shared = open_db(p.db, sync, 0, auto_vacuum, 0);
    atomic_store(&g_busy_calls, 0);
    pthread_t th[MAXTHREADS], ct, gt;
    for (int i = 0; i < threads; i++)
        pthread_create(&th[i], NULL, producer, &r);
    pthread_create(&ct, NULL, consumer, &r);
    if (strat == ST_GROUP)
        pthread_create(&gt, NULL, committer, &r);
    usleep(200000); /* connections opened */
    atomic_store(&r.go, 1);
    usleep((useconds_t)(WARMUP_S * 1e6)); /* the backlog reaches its steady state */
    double t0 = now_s();
    long long ins0 = atomic_load(&r.inserted), del0 = atomic_load(&r.deleted), w0 = io_wchar();
    long long walmax = 0;
    while (now_s() - t0 < secs) { /* sample the WAL's size */
        usleep(50000);
        long long w = file_size(p.wal);
        walmax = w > walmax ? w : walmax;
    }
    long long ins = atomic_load(&r.inserted) - ins0, del = atomic_load(&r.deleted) - del0;
    long long wbytes = io_wchar() - w0;
    double t1 = now_s();
    long long backlog0 = ins0 - del0;
    pthread_mutex_lock(&r.mu);
    atomic_store(&r.stop, 1);
    pthread_cond_broadcast(&r.qcv);
    pthread_cond_broadcast(&r.donecv);
    pthread_mutex_unlock(&r.mu);
    for (int i = 0; i < threads; i++)
        pthread_join(th[i], NULL);
    pthread_join(ct, NULL);
    if (strat == ST_GROUP)
        pthread_join(gt, NULL);
    struct tput t;
    t.bps = (double)ins / (t1 - t0);
    t.dps = (double)del / (t1 - t0);
    t.rows_per_commit = strat == ST_GROUP && r.commits ? (double)atomic_load(&r.inserted) / (double)r.commits : 1;
    t.busy_per_insert = (double)(atomic_load(&g_busy_calls) + atomic_load(&r.busy)) / (double)(ins ? ins : 1);
    t.backlog0 = backlog0;
    t.walmax = walmax;
    t.wpb = (double)wbytes / (double)(ins ? ins : 1);
    t.backlog = atomic_load(&r.inserted) - atomic_load(&r.deleted);
    sqlite3_close(r.shared);
    remove_db(&p);
    return t;
}

static struct tput median_tput(int strat, int sync, int threads, int auto_vacuum) {
    double b[16], d[16], rpc[16], bu[16], bl[16], bl0[16], fb[16], wm[16], wp[16];
    for (int i = 0; i < g_runs; i++) {
        /* fsync latency on this VM drifts a lot: a 1 s fdatasync baseline
         * just before each power-loss run */
        fb[i] = sync == SYNC_FULL ? raw_append(1, 1.0) : 0;
        struct tput t = run_tput(strat, sync, threads, auto_vacuum, g_secs);
        bl0[i] = (double)t.backlog0;
        wm[i] = (double)t.walmax;
        wp[i] = t.wpb;
        b[i] = t.bps;
        d[i] = t.dps;
        rpc[i] = t.rows_per_commit;
        bu[i] = t.busy_per_insert;
        bl[i] = (double)t.backlog;
    }
    struct tput m = {median(b, g_runs),         median(d, g_runs),
                     median(rpc, g_runs),       median(bu, g_runs),
                     (long long)median(bl0, g_runs), (long long)median(bl, g_runs),
                     (long long)median(wm, g_runs), median(fb, g_runs),
                     median(wp, g_runs)};
    return m;
}

static void print_tput_row(const char *durability, const char *sync, int strat, int threads, struct tput t) {
    char fb[32] = "";
    if (t.fsync_base > 0)
        snprintf(fb, sizeof fb, "%.0f", t.fsync_base);
    printf("| %s | %s | %s | %d | **%.0f** | %.1f | %.0f | %.1f | %.2f | %lld → %lld | %.1f | %.1f | %s |\n",
           durability, sync, ST_NAME[strat], threads, t.bps, t.bps * JSON_LEN / 1e6, t.dps, t.rows_per_commit,
           t.busy_per_insert, t.backlog0, t.backlog, t.wpb / 1e3, (double)t.walmax / 1e6, fb);
    fflush(stdout);
}

static void cmd_tput(void) {
    printf("\n### Throughput (median of %d runs: %.0f s measured after %.0f s of warm-up; consumer deleting groups of %d concurrently; "
           "producers wait while %d batches are queued)\n\n",
           g_runs, g_secs, WARMUP_S, ACK_GROUP, MAX_BACKLOG);
    printf("| durability | synchronous | writers | producers | batches/s | MB/s | deleted/s | rows/commit | "
           "busy-handler calls/insert | backlog start → end | KB written/batch | WAL max MB | fdatasync/s baseline |\n"
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    int threads[] = {1, 8};
    for (int sync = SYNC_OFF; sync <= SYNC_NORMAL; sync++)
        for (int ti = 0; ti < 2; ti++)
            for (int st = ST_CONN; st <= ST_MUTEX; st++)
                print_tput_row("process crash", SYNC_NAME[sync], st, threads[ti],
                               median_tput(st, sync, threads[ti], 0));
    print_tput_row("process crash, auto_vacuum=FULL", "NORMAL", ST_MUTEX, 8, median_tput(ST_MUTEX, SYNC_NORMAL, 8, 1));
    for (int ti = 0; ti < 2; ti++)
        print_tput_row("power loss, naive", "FULL", ST_MUTEX, threads[ti], median_tput(ST_MUTEX, SYNC_FULL, threads[ti], 0));
    print_tput_row("power loss, naive", "FULL", ST_CONN, 8, median_tput(ST_CONN, SYNC_FULL, 8, 0));
    print_tput_row("power loss, group commit", "FULL", ST_GROUP, 8, median_tput(ST_GROUP, SYNC_FULL, 8, 0));
    print_tput_row("power loss, group commit", "FULL", ST_GROUP, 32, median_tput(ST_GROUP, SYNC_FULL, 32, 0));
}

/* ---------------------------------------------------------------- recovery */

#define REC_ROWS 400000

/* Builds the spool in a child that then dies without closing (like kill -9):
 * the WAL and -shm stay behind, the next open must run WAL recovery. Rows go
 * in transactions of 1,000, except the last `tail` inserts, one transaction
 * each as the spool writes them; with no_ckpt those last ones are never
 * checkpointed (what a starved checkpoint leaves). */
static void build_big(const struct paths *p, int tail, int no_ckpt) {
    remove_db(p);
    pid_t pid = fork();
    if (pid == 0) {
        sqlite3 *db = open_db(p->db, SYNC_OFF, 0, 0, 0);
        sqlite3_stmt *ins = prep(db, SQL_INSERT);
        for (int k = 0; k < REC_ROWS; k++) {
            int bulk = k < REC_ROWS - tail;
            if (k == REC_ROWS - tail && no_ckpt)
                exec(db, "PRAGMA wal_autocheckpoint=0");
            if (bulk && k % 1000 == 0)
                exec(db, "BEGIN");
            insert_one(db, ins, (uint64_t)k, g_pool + (size_t)(k % POOL) * JSON_LEN, NULL);
            if (bulk && (k % 1000 == 999 || k == REC_ROWS - tail - 1))
                exec(db, "COMMIT");
        }
        _exit(0);
    }
    int stt;
    waitpid(pid, &stt, 0);
}

static void evict(const char *path) {
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return;
    fdatasync(fd);
    posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    close(fd);
}

/* In a child (so that no close() checkpoints the WAL away): open, read every
 * row in seq order; writes {seconds, rows, json bytes, open seconds}. */
static void measure_open_read(const struct paths *p, int cold, double out[4]) {
    int pfd[2];
    if (pipe(pfd))
        die("pipe", NULL);
    if (cold) {
        evict(p->db);
        evict(p->wal);
        evict(p->shm);
    }
    pid_t pid = fork();
    if (pid == 0) {
        double res[4];
        double t0 = now_s();
        sqlite3 *db;
        if (sqlite3_open_v2(p->db, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
            die("open", sqlite3_errmsg(db));
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(db, "SELECT seq, id, json FROM batches ORDER BY seq", -1, &st, NULL) != SQLITE_OK)
            die("prepare", sqlite3_errmsg(db));
        long long rows = 0, bytes = 0;
        unsigned sum = 0;
        int rc = sqlite3_step(st); /* the first step runs WAL recovery */
        res[3] = now_s() - t0;
        for (; rc == SQLITE_ROW; rc = sqlite3_step(st)) {
            const unsigned char *j = sqlite3_column_blob(st, 2);
            int n = sqlite3_column_bytes(st, 2);
            const unsigned char *id = sqlite3_column_text(st, 1);
            for (int i = 0; i < n; i += 64)
                sum += j[i];
            sum += id[0];
            bytes += n;
            rows++;
        }
        if (rc != SQLITE_DONE)
            die("step", sqlite3_errmsg(db));
        res[0] = now_s() - t0;
        res[1] = (double)rows;
        res[2] = (double)bytes + (sum == 1 ? 1 : 0);
        if (write(pfd[1], res, sizeof res) != (ssize_t)sizeof res)
            _exit(1);
        _exit(0);
    }
    close(pfd[1]);
    if (read(pfd[0], out, 4 * sizeof(double)) != 4 * (ssize_t)sizeof(double))
        die("recovery child", "no result");
    close(pfd[0]);
    int stt;
    waitpid(pid, &stt, 0);
}

static void cmd_recovery(void) {
    struct paths p = paths_for("big");
    printf("\n### Recovery: open a spool of %d rows left by a killed writer and read every row in seq order "
           "(median of %d)\n\n",
           REC_ROWS, g_runs);
    printf("| spool left behind | page cache | open + first row (incl. WAL recovery) | open + read all rows | "
           "rows | JSON MB/s | file MB/s |\n|---|---|---|---|---|---|---|\n");
    for (int sc = 0; sc < 2; sc++) {
        double t0 = now_s();
        if (sc == 0)
            build_big(&p, 2000, 0);
        else
            build_big(&p, 100000, 1);
        double tb = now_s() - t0;
        long long db = file_size(p.db), wal = file_size(p.wal);
        char what[160];
        snprintf(what, sizeof what, "%s: db %.0f MB + WAL %.0f MB (built in %.0f s)",
                 sc == 0 ? "checkpointed" : "last 100,000 inserts not checkpointed", (double)db / 1e6,
                 (double)wal / 1e6, tb);
        for (int cold = 1; cold >= 0; cold--) {
            double tt[16], to[16], res[4] = {0};
            for (int i = 0; i < g_runs; i++) {
                measure_open_read(&p, cold, res);
                tt[i] = res[0];
                to[i] = res[3];
            }
            double mt = median(tt, g_runs), mo = median(to, g_runs);
            printf("| %s | %s | %.3f s | %.2f s | %.0f | %.0f | %.0f |\n", what,
                   cold ? "cold (evicted: fadvise DONTNEED)" : "warm", mo, mt, res[1], res[2] / mt / 1e6,
                   (double)(db + wal) / mt / 1e6);
            fflush(stdout);
        }
    }
    remove_db(&p);
}

/* ------------------------------------------------------------------- crash */

#define CRASH_MAXK (8u << 20)
#define CRASH_PRODUCERS 4

struct crash_shm {
    atomic_llong kctr;         /* next batch number */
    atomic_llong del_begun;    /* a delete of seqs < this may have happened */
    atomic_llong del_done;     /* seqs < this were deleted and the call returned */
    atomic_llong max_seq;      /* highest seq returned */
    atomic_llong ret_seq[CRASH_MAXK]; /* seq returned by the insert of batch k, 0 = none */
};

static struct crash_shm *g_cs;
static const char *g_crash_db;
static int g_crash_strat;
static pthread_mutex_t g_crash_mu = PTHREAD_MUTEX_INITIALIZER; /* ST_MUTEX: guards the shared connection */

static void atomic_max(atomic_llong *a, long long v) {
    long long m = atomic_load(a);
    while (v > m && !atomic_compare_exchange_weak(a, &m, v))
        ;
}

static void *crash_producer(void *arg) {
    sqlite3 *db = arg ? arg : open_db(g_crash_db, SYNC_NORMAL, 0, 0, 1);
    sqlite3_stmt *ins;
    if (arg)
        pthread_mutex_lock(&g_crash_mu);
    ins = prep(db, SQL_INSERT);
    if (arg)
        pthread_mutex_unlock(&g_crash_mu);
    char json[JSON_LEN];
    for (;;) {
        long long k = atomic_fetch_add(&g_cs->kctr, 1);
        if (k >= (long long)CRASH_MAXK)
            _exit(3);
        gen_json((uint64_t)k, json);
        if (arg)
            pthread_mutex_lock(&g_crash_mu);
        int64_t seq = insert_one(db, ins, (uint64_t)k, json, NULL);
        if (arg)
            pthread_mutex_unlock(&g_crash_mu);
        atomic_store(&g_cs->ret_seq[k], seq); /* the insert has returned */
        atomic_max(&g_cs->max_seq, seq);
    }
    return NULL;
}

static void crash_child(void) {
    int shared = g_crash_strat == ST_MUTEX;
    sqlite3 *db = open_db(g_crash_db, SYNC_NORMAL, 0, 0, 1);
    int64_t next = pragma_int(db, "SELECT coalesce(min(seq), 1) FROM batches");
    atomic_max(&g_cs->max_seq, pragma_int(db, "SELECT coalesce(max(seq), 0) FROM batches"));
    sqlite3_stmt *del = prep(db, SQL_DELETE), *begin = prep(db, "BEGIN IMMEDIATE"), *commit = prep(db, "COMMIT");
    pthread_t th;
    for (int i = 0; i < CRASH_PRODUCERS; i++)
        pthread_create(&th, NULL, crash_producer, shared ? db : NULL);
    for (;;) {
        /* keep a backlog of ~1,000 rows, as an uploader that lags behind */
        if (atomic_load(&g_cs->max_seq) < next + 1000) {
            usleep(1000);
            continue;
        }
        atomic_max(&g_cs->del_begun, next + ACK_GROUP);
        if (shared)
            pthread_mutex_lock(&g_crash_mu);
        delete_group(db, begin, del, commit, next, NULL);
        if (shared)
            pthread_mutex_unlock(&g_crash_mu);
        atomic_max(&g_cs->del_done, next + ACK_GROUP);
        next += ACK_GROUP;
    }
}

struct verdict {
    long long rows, returned_checked, missing, corrupt, resurrected, inflight_present, integrity_ok;
};

static struct verdict crash_verify(const char *path, long long kmax) {
    struct verdict v;
    memset(&v, 0, sizeof v);
    sqlite3 *db;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        die("reopen", sqlite3_errmsg(db));
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) != SQLITE_OK)
        die("integrity_check", sqlite3_errmsg(db));
    if (sqlite3_step(st) == SQLITE_ROW)
        v.integrity_ok = strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0;
    sqlite3_finalize(st);
    unsigned char *seen = calloc((size_t)kmax + 1, 1);
    char json[JSON_LEN], id[37];
    if (sqlite3_prepare_v2(db, "SELECT seq, id, json FROM batches ORDER BY seq", -1, &st, NULL) != SQLITE_OK)
        die("select", sqlite3_errmsg(db));
    long long del_done = atomic_load(&g_cs->del_done);
    while (sqlite3_step(st) == SQLITE_ROW) {
        int64_t seq = sqlite3_column_int64(st, 0);
        const char *rid = (const char *)sqlite3_column_text(st, 1);
        v.rows++;
        unsigned long long k = rid && strlen(rid) == 36 ? strtoull(rid + 24, NULL, 16) : ~0ULL;
        if (k >= (unsigned long long)kmax) {
            v.corrupt++;
            continue;
        }
        uuid_for(k, id);
        gen_json(k, json);
        if (strcmp(id, rid) != 0 || sqlite3_column_bytes(st, 2) != JSON_LEN ||
            memcmp(sqlite3_column_blob(st, 2), json, JSON_LEN) != 0)
            v.corrupt++;
        long long rs = atomic_load(&g_cs->ret_seq[k]);
        if (rs != 0 && rs != seq)
            v.corrupt++;
        if (rs == 0)
            v.inflight_present++;
        if (seq < del_done)
            v.resurrected++;
        seen[k] = 1;
    }
    sqlite3_finalize(st);
    long long del_begun = atomic_load(&g_cs->del_begun);
    for (long long k = 0; k < kmax; k++) {
        long long rs = atomic_load(&g_cs->ret_seq[k]);
        if (rs == 0 || rs < del_begun)
            continue;
        v.returned_checked++;
        if (!seen[k])
            v.missing++;
    }
    free(seen);
    return v; /* no sqlite3_close(): the caller _exit()s, leaving the WAL */
}

static void cmd_crash(int strat) {
    struct paths p = paths_for("crash");
    remove_db(&p);
    g_crash_db = p.db;
    g_crash_strat = strat;
    g_cs = mmap(NULL, sizeof *g_cs, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (g_cs == MAP_FAILED)
        die("mmap", strerror(errno));
    atomic_store(&g_cs->del_begun, 1);
    atomic_store(&g_cs->del_done, 1);
    /* the schema exists before the first child */
    sqlite3_close(open_db(p.db, SYNC_NORMAL, 0, 0, 0));
    uint64_t rs = (uint64_t)time(NULL);
    printf("\n### Crash test: %s, %d producer threads + consumer (WAL, synchronous=NORMAL), SIGKILL at a "
           "random moment 0.05-2.0 s after fork, 10 times, same database\n\n",
           ST_NAME[strat], CRASH_PRODUCERS);
    printf("| # | kill after | rows in db | returned inserts checked | missing | corrupt | deleted rows back | "
           "unreturned rows present | integrity_check | WAL at kill |\n|---|---|---|---|---|---|---|---|---|---|\n");
    int failures = 0;
    for (int trial = 1; trial <= 10; trial++) {
        double delay = 0.05 + (double)(splitmix(&rs) % 1950) / 1000.0;
        pid_t pid = fork();
        if (pid == 0) {
            crash_child();
            _exit(0);
        }
        usleep((useconds_t)(delay * 1e6));
        kill(pid, SIGKILL);
        int stt;
        waitpid(pid, &stt, 0);
        long long walsz = file_size(p.wal);
        long long kmax = atomic_load(&g_cs->kctr);
        /* verified in a child that exits without closing, so that the next
         * trial starts from the WAL exactly as the killed process left it */
        struct verdict v;
        int pfd[2];
        if (pipe(pfd))
            die("pipe", NULL);
        pid_t vp = fork();
        if (vp == 0) {
            v = crash_verify(p.db, kmax);
            if (write(pfd[1], &v, sizeof v) != (ssize_t)sizeof v)
                _exit(1);
            _exit(0);
        }
        close(pfd[1]);
        if (read(pfd[0], &v, sizeof v) != (ssize_t)sizeof v)
            die("verify child", "no verdict");
        close(pfd[0]);
        waitpid(vp, NULL, 0);
        int bad = v.missing || v.corrupt || v.resurrected || !v.integrity_ok || !WIFSIGNALED(stt);
        failures += bad;
        printf("| %d | %.2f s | %lld | %lld | %lld | %lld | %lld | %lld | %s | %.1f MB |\n", trial, delay, v.rows,
               v.returned_checked, v.missing, v.corrupt, v.resurrected, v.inflight_present,
               v.integrity_ok ? "ok" : "FAILED", (double)walsz / 1e6);
        fflush(stdout);
    }
    printf("\nCrash test: %d of 10 trials failed; %lld batches inserted in all.\n", failures,
           (long long)atomic_load(&g_cs->kctr));
    munmap(g_cs, sizeof *g_cs);
    remove_db(&p);
}

/* -------------------------------------------------------------------- size */

static void cmd_size(void) {
    printf("\n### Disk bytes per queued batch (one insert per transaction, synchronous=OFF, WAL autocheckpoint "
           "at 1,000 pages; then all rows deleted in groups of %d)\n\n",
           ACK_GROUP);
    printf("| page_size | auto_vacuum | (db+WAL)/rows at 1k | at 10k | at 100k | WAL at 100k | after deleting all: "
           "db + WAL | after wal_checkpoint(TRUNCATE) | freelist pages | after VACUUM (or incremental_vacuum) |\n"
           "|---|---|---|---|---|---|---|---|---|---|\n");
    struct {
        int ps, av;
    } cfg[] = {{4096, 0}, {8192, 0}, {16384, 0}, {65536, 0}, {4096, 1}, {4096, 2}};
    static const char *const AV[] = {"NONE", "FULL", "INCREMENTAL"};
    for (size_t c = 0; c < sizeof cfg / sizeof *cfg; c++) {
        struct paths p = paths_for("size");
        remove_db(&p);
        sqlite3 *db = open_db(p.db, SYNC_OFF, cfg[c].ps, cfg[c].av, 0);
        sqlite3_stmt *ins = prep(db, SQL_INSERT), *del = prep(db, SQL_DELETE), *begin = prep(db, "BEGIN"),
                     *commit = prep(db, "COMMIT");
        double per[3];
        int mark = 0;
        for (int k = 1; k <= 100000; k++) {
            insert_one(db, ins, (uint64_t)k, g_pool + (size_t)(k % POOL) * JSON_LEN, NULL);
            if (k == 1000 || k == 10000 || k == 100000)
                per[mark++] = (double)(file_size(p.db) + file_size(p.wal)) / k;
        }
        long long wal100 = file_size(p.wal);
        for (int64_t s = 1; s <= 100000; s += ACK_GROUP)
            delete_group(db, begin, del, commit, s, NULL);
        long long after_db = file_size(p.db), after_wal = file_size(p.wal);
        exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
        long long ck_db = file_size(p.db);
        long long fl = pragma_int(db, "PRAGMA freelist_count");
        sqlite3_finalize(ins);
        sqlite3_finalize(del);
        sqlite3_finalize(begin);
        sqlite3_finalize(commit);
        if (cfg[c].av == 2)
            exec(db, "PRAGMA incremental_vacuum");
        else
            exec(db, "VACUUM");
        exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
        long long vac = file_size(p.db) + file_size(p.wal);
        printf("| %d | %s | %.0f | %.0f | %.0f | %.1f MB | %.1f MB + %.1f MB | %.3f MB | %lld | %.0f KB |\n",
               cfg[c].ps, AV[cfg[c].av], per[0], per[1], per[2], (double)wal100 / 1e6, (double)after_db / 1e6,
               (double)after_wal / 1e6, (double)ck_db / 1e6, fl, (double)vac / 1e3);
        fflush(stdout);
        sqlite3_close(db);
        remove_db(&p);
    }
}

/* -------------------------------------------------------------------- main */

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s all|baseline|tput|recovery|crash|size [--dir DIR] [--secs S] [--runs R]\n",
                argv[0]);
        return 2;
    }
    const char *cmd = argv[1];
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--dir"))
            g_dir = argv[i + 1];
        else if (!strcmp(argv[i], "--secs"))
            g_secs = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--runs"))
            g_runs = atoi(argv[i + 1]);
    }
    if (g_runs < 1 || g_runs > 15 || g_secs <= 0 || g_secs > 20)
        die("options", "runs 1..15, secs 0..20");
    mkdir(g_dir, 0755);
    make_pool();
    if (!strcmp(cmd, "sample")) { /* the payload, one batch per line */
        for (int i = 0; i < 3; i++)
            printf("%.*s\n", JSON_LEN, g_pool + (size_t)i * JSON_LEN);
        return 0;
    }
    int all = !strcmp(cmd, "all");
    printf("SQLite %s, dir %s\n", sqlite3_libversion(), g_dir);
    if (all || !strcmp(cmd, "baseline"))
        cmd_baseline();
    if (all || !strcmp(cmd, "tput"))
        cmd_tput();
    if (all || !strcmp(cmd, "crash")) {
        cmd_crash(ST_YIELD);
        cmd_crash(ST_MUTEX);
    }
    if (all || !strcmp(cmd, "size"))
        cmd_size();
    if (all || !strcmp(cmd, "recovery"))
        cmd_recovery();
    free(g_pool);
    return 0;
}

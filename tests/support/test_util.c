/*
 * Test support: deep batch comparison over the schema tables, file helpers,
 * and running the Python schema check.
 */
#include "support/test_util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/path.h"
#include "schema/schema.h"

/* ------------------------------------------------------------------------ */
/* Deep equality                                                            */
/* ------------------------------------------------------------------------ */

typedef struct eq {
    char *why;
    size_t cap;
} eq;

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int differ(eq *q, const mp__path *path, const char *fmt, ...) {
    if (!q->why || q->cap == 0)
        return 0;
    char p[MP__PATH_MAX];
    mp__path_render(path, p, sizeof p);
    int n = snprintf(q->why, q->cap, "%s: ", p[0] ? p : "$");
    if (n >= 0 && (size_t)n < q->cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(q->why + n, q->cap - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return 0;
}

static const char *state_name(int state) {
    return state == MP_ABSENT ? "absent" : state == MP_NULLED ? "null" : "a value";
}

/* Absent (NULL), null (the sentinel) or a value, for strings, objects and list items. */
static int ptr_state(const void *p) {
    return !p ? MP_ABSENT : MP_IS_NULL(p) ? MP_NULLED : MP_PRESENT;
}

/* The first bytes of s for a message, with quotes, backslashes and control
 * characters escaped so that the message stays on one line. */
static const char *excerpt(const char *s, char out[96]) {
    size_t n = 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (n >= 72 && (c & 0xC0) != 0x80)
            break; /* stop at a character boundary */
        if (c == '"' || c == '\\') {
            out[n++] = '\\';
            out[n++] = (char)c;
        } else if (c < 0x20 || c == 0x7F) {
            n += (size_t)snprintf(out + n, 96 - n, "\\u%04x", c);
        } else {
            out[n++] = (char)c;
        }
    }
    if (*s)
        n += (size_t)snprintf(out + n, 96 - n, "...");
    out[n] = '\0';
    return out;
}

static int eq_string(eq *q, const char *a, const char *b, const mp__path *path) {
    int sa = ptr_state(a), sb = ptr_state(b);
    if (sa != sb)
        return differ(q, path, "%s vs %s", state_name(sa), state_name(sb));
    if (sa == MP_PRESENT && strcmp(a, b) != 0) {
        char ea[96], eb[96];
        return differ(q, path, "\"%s\" vs \"%s\"", excerpt(a, ea), excerpt(b, eb));
    }
    return 1;
}

static int eq_bits(double a, double b) {
    return memcmp(&a, &b, sizeof a) == 0;
}

static int eq_value(eq *q, const mp_value *a, const mp_value *b, const mp__path *path) {
    if (a->type != b->type)
        return differ(q, path, "mp_value type %d vs %d", (int)a->type, (int)b->type);
    switch (a->type) {
    case MP_VALUE_ABSENT:
    case MP_VALUE_NULL:
        return 1;
    case MP_VALUE_STRING:
        return eq_string(q, a->u.string, b->u.string, path);
    case MP_VALUE_INT:
        if (a->u.integer != b->u.integer)
            return differ(q, path, "%" PRId64 " vs %" PRId64, a->u.integer, b->u.integer);
        return 1;
    case MP_VALUE_DOUBLE:
        if (!eq_bits(a->u.number, b->u.number))
            return differ(q, path, "%.17g vs %.17g", a->u.number, b->u.number);
        return 1;
    case MP_VALUE_BOOL:
        if (!a->u.boolean != !b->u.boolean)
            return differ(q, path, "%s vs %s", a->u.boolean ? "true" : "false",
                          b->u.boolean ? "true" : "false");
        return 1;
    case MP_VALUE_LIST:
        if (a->u.list.count != b->u.list.count)
            return differ(q, path, "%zu items vs %zu", a->u.list.count, b->u.list.count);
        for (size_t i = 0; i < a->u.list.count; i++) {
            mp__path ip = MP__PATH_INDEX(path, i);
            if (!eq_value(q, &a->u.list.items[i], &b->u.list.items[i], &ip))
                return 0;
        }
        return 1;
    }
    return differ(q, path, "unknown mp_value type %d", (int)a->type);
}

static int eq_object(eq *q, const mp__object *obj, const void *a, const void *b,
                     const mp__path *path);

/* Map keys of the four map kinds: compared in order, as they go on the wire. */
static int eq_key(eq *q, const char *a, const char *b, const mp__path *item_path) {
    if (!a || !b || strcmp(a, b) != 0) {
        char ea[96], eb[96];
        return differ(q, item_path, "key \"%s\" vs \"%s\"", a ? excerpt(a, ea) : "(NULL)",
                      b ? excerpt(b, eb) : "(NULL)");
    }
    return 1;
}

static int eq_string_map(eq *q, const mp_string_pair *a, const mp_string_pair *b, size_t n,
                         const mp__path *path) {
    for (size_t i = 0; i < n; i++) {
        mp__path ip = MP__PATH_INDEX(path, i);
        if (!eq_key(q, a[i].name, b[i].name, &ip))
            return 0;
        mp__path kp = MP__PATH_KEY(path, a[i].name, strlen(a[i].name));
        if (!eq_string(q, a[i].value, b[i].value, &kp))
            return 0;
    }
    return 1;
}

static int eq_event(eq *q, const mp_event *a, const mp_event *b, const mp__path *path) {
    if (a->event_type != b->event_type) {
        mp__path tp = MP__PATH_KEY(path, "event_type", 10);
        return differ(q, &tp, "event type %d vs %d", (int)a->event_type, (int)b->event_type);
    }
    mp__path dp = MP__PATH_KEY(path, "data", 4);
    if (!eq_object(q, &mp__event_common_object, &a->common, &b->common, &dp))
        return 0;
    int t = (int)a->event_type;
    if (t > 0 && t < mp__event_desc_count && mp__event_descs[t].data)
        return eq_object(q, mp__event_descs[t].data, (const char *)a + MP__EVENT_UNION_OFFSET,
                         (const char *)b + MP__EVENT_UNION_OFFSET, &dp);
    return 1;
}

/* The items of a list or map field, once both are known to be present and
 * of the same length. */
static int eq_items(eq *q, const mp__field *f, const void *ia, const void *ib, size_t n,
                    const mp__path *fp) {
    switch ((mp__kind)f->kind) {
    case MP__K_OBJECT_LIST: {
        const mp__object *sub = (const mp__object *)f->sub;
        for (size_t i = 0; i < n; i++) {
            mp__path ip = MP__PATH_INDEX(fp, i);
            if (!eq_object(q, sub, (const char *)ia + i * sub->size,
                           (const char *)ib + i * sub->size, &ip))
                return 0;
        }
        return 1;
    }
    case MP__K_STRING_LIST: {
        const char *const *sa = ia, *const *sb = ib;
        for (size_t i = 0; i < n; i++) {
            mp__path ip = MP__PATH_INDEX(fp, i);
            if (!eq_string(q, sa[i], sb[i], &ip))
                return 0;
        }
        return 1;
    }
    case MP__K_ATTRIBUTES: {
        const mp_attribute *aa = ia, *ab = ib;
        for (size_t i = 0; i < n; i++) {
            mp__path ip = MP__PATH_INDEX(fp, i);
            if (!eq_key(q, aa[i].name, ab[i].name, &ip))
                return 0;
            mp__path kp = MP__PATH_KEY(fp, aa[i].name, strlen(aa[i].name));
            if (!eq_value(q, &aa[i].value, &ab[i].value, &kp))
                return 0;
        }
        return 1;
    }
    case MP__K_STRING_MAP:
        return eq_string_map(q, ia, ib, n, fp);
    case MP__K_STRING_MAP_MAP: {
        const mp_string_map_entry *ma = ia, *mb = ib;
        for (size_t i = 0; i < n; i++) {
            mp__path ip = MP__PATH_INDEX(fp, i);
            if (!eq_key(q, ma[i].name, mb[i].name, &ip))
                return 0;
            mp__path kp = MP__PATH_KEY(fp, ma[i].name, strlen(ma[i].name));
            int sa = ptr_state(ma[i].value.items), sb = ptr_state(mb[i].value.items);
            if (sa != sb)
                return differ(q, &kp, "%s vs %s", state_name(sa), state_name(sb));
            if (sa != MP_PRESENT)
                continue;
            if (ma[i].value.count != mb[i].value.count)
                return differ(q, &kp, "%zu entries vs %zu", ma[i].value.count,
                              mb[i].value.count);
            if (!eq_string_map(q, ma[i].value.items, mb[i].value.items, ma[i].value.count, &kp))
                return 0;
        }
        return 1;
    }
    case MP__K_GDPR: {
        const mp_gdpr_purpose *ga = ia, *gb = ib;
        for (size_t i = 0; i < n; i++) {
            mp__path ip = MP__PATH_INDEX(fp, i);
            if (!eq_key(q, ga[i].purpose, gb[i].purpose, &ip))
                return 0;
            mp__path kp = MP__PATH_KEY(fp, ga[i].purpose, strlen(ga[i].purpose));
            if (!eq_object(q, (const mp__object *)f->sub, &ga[i].consent, &gb[i].consent, &kp))
                return 0;
        }
        return 1;
    }
    case MP__K_EVENT_LIST: {
        const mp_event *ea = ia, *eb = ib;
        for (size_t i = 0; i < n; i++) {
            mp__path ip = MP__PATH_INDEX(fp, i);
            if (!eq_event(q, &ea[i], &eb[i], &ip))
                return 0;
        }
        return 1;
    }
    default:
        return differ(q, fp, "field kind %d is not a list", f->kind);
    }
}

static int eq_opt(eq *q, int sa, int sb, const mp__path *fp) {
    if (sa != sb)
        return differ(q, fp, "%s vs %s", state_name(sa), state_name(sb));
    return 1;
}

static int eq_field(eq *q, const mp__field *f, const void *a, const void *b,
                    const mp__path *parent) {
    mp__path fp = MP__PATH_KEY(parent, f->name, f->name_len);
    const char *pa = (const char *)a + f->offset, *pb = (const char *)b + f->offset;
    switch ((mp__kind)f->kind) {
    case MP__K_STRING:
        return eq_string(q, mp__load_ptr(a, f->offset), mp__load_ptr(b, f->offset), &fp);
    case MP__K_INT64: {
        mp_opt_int64 va, vb;
        memcpy(&va, pa, sizeof va);
        memcpy(&vb, pb, sizeof vb);
        if (!eq_opt(q, va.state, vb.state, &fp))
            return 0;
        if (va.state == MP_PRESENT && va.value != vb.value)
            return differ(q, &fp, "%" PRId64 " vs %" PRId64, va.value, vb.value);
        return 1;
    }
    case MP__K_DOUBLE: {
        mp_opt_double va, vb;
        memcpy(&va, pa, sizeof va);
        memcpy(&vb, pb, sizeof vb);
        if (!eq_opt(q, va.state, vb.state, &fp))
            return 0;
        if (va.state == MP_PRESENT && !eq_bits(va.value, vb.value))
            return differ(q, &fp, "%.17g vs %.17g", va.value, vb.value);
        return 1;
    }
    case MP__K_BOOL: {
        mp_opt_bool va, vb;
        memcpy(&va, pa, sizeof va);
        memcpy(&vb, pb, sizeof vb);
        if (!eq_opt(q, va.state, vb.state, &fp))
            return 0;
        if (va.state == MP_PRESENT && va.value != vb.value)
            return differ(q, &fp, "%d vs %d", va.value, vb.value);
        return 1;
    }
    case MP__K_ENUM: {
        int va = mp__load_enum(a, f->offset), vb = mp__load_enum(b, f->offset);
        if (va != vb)
            return differ(q, &fp, "enum value %d vs %d", va, vb);
        return 1;
    }
    case MP__K_VALUE:
        return eq_value(q, (const mp_value *)(const void *)pa, (const mp_value *)(const void *)pb,
                        &fp);
    case MP__K_OBJECT: {
        const void *oa = mp__load_ptr(a, f->offset), *ob = mp__load_ptr(b, f->offset);
        int sa = ptr_state(oa), sb = ptr_state(ob);
        if (!eq_opt(q, sa, sb, &fp))
            return 0;
        return sa != MP_PRESENT || eq_object(q, (const mp__object *)f->sub, oa, ob, &fp);
    }
    default:
        break;
    }
    const void *ia = mp__load_ptr(a, f->offset + MP__LIST_ITEMS);
    const void *ib = mp__load_ptr(b, f->offset + MP__LIST_ITEMS);
    size_t na = mp__load_size(a, f->offset + MP__LIST_COUNT);
    size_t nb = mp__load_size(b, f->offset + MP__LIST_COUNT);
    int sa = ptr_state(ia), sb = ptr_state(ib);
    if (!eq_opt(q, sa, sb, &fp))
        return 0;
    if (sa != MP_PRESENT)
        return 1;
    if (na != nb)
        return differ(q, &fp, "%zu items vs %zu", na, nb);
    return eq_items(q, f, ia, ib, na, &fp);
}

static int eq_object(eq *q, const mp__object *obj, const void *a, const void *b,
                     const mp__path *path) {
    for (size_t i = 0; i < obj->nfields; i++) {
        if (!eq_field(q, &obj->fields[i], a, b, path))
            return 0;
    }
    return 1;
}

int mp_test_batch_equal(const mp_batch *a, const mp_batch *b, char *why, size_t why_size) {
    eq q = {why, why_size};
    if (why && why_size)
        why[0] = '\0';
    if (!a || !b) {
        if (a == b)
            return 1;
        return differ(&q, NULL, "%s batch vs %s", a ? "a" : "no", b ? "a" : "no");
    }
    return eq_object(&q, &mp__batch_object, a, b, NULL);
}

/* ------------------------------------------------------------------------ */
/* Files                                                                    */
/* ------------------------------------------------------------------------ */

char *mp_test_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        char *bigger = realloc(buf, cap * 2 + 1);
        if (!bigger) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    int failed = ferror(f);
    fclose(f);
    if (!buf || failed) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

int mp_test_write_temp(const char *data, size_t len, char *path_out, size_t path_cap) {
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir)
        dir = "/tmp";
    int n = snprintf(path_out, path_cap, "%s/mp-test-XXXXXX", dir);
    if (n < 0 || (size_t)n >= path_cap)
        return -1;
    int fd = mkstemp(path_out);
    if (fd < 0)
        return -1;
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, data + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            close(fd);
            remove(path_out);
            return -1;
        }
        done += (size_t)w;
    }
    if (close(fd) != 0) {
        remove(path_out);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* The Python schema check                                                  */
/* ------------------------------------------------------------------------ */

/* Reads fd to EOF into a malloc'ed string. */
static char *read_all(int fd) {
    size_t cap = 1024, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n + 1 >= cap) {
            char *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                free(buf);
                return NULL;
            }
            buf = bigger;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + n, cap - n - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    if (buf)
        buf[n] = '\0';
    return buf;
}

int mp_test_skip_without_reference(void) {
    static const char *const files[] = {
        "mparticle.inbound.eventsapi.schema.json",
        "mparticle.inbound.eventsapi.bulk.schema.json",
        "mparticle.inbound.eventsapi.sample.json",
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", MP_REFERENCE_DIR, files[i]);
        if (access(path, R_OK) != 0) {
            printf("SKIPPED: mParticle's official JSON Schema is not available (%s: %s); "
                   "configure with -DMP_REFERENCE_DIR=DIR, DIR holding the files of "
                   "https://github.com/mParticle/docs/tree/1bace4491f7acc66711383eb103cca5b511878da/static/schema\n",
                   path, strerror(errno));
            fflush(stdout);
            return 77;
        }
    }
    return 0;
}

int mp_test_official_run(int argc, char **argv) {
    return argc > 1 && strcmp(argv[1], "--official") == 0;
}

int mp_test_schema_check(const char *const *args, char **output) {
    if (output)
        *output = NULL;
    const char *argv[64];
    size_t argc = 0;
    argv[argc++] = MP_PYTHON3;
    argv[argc++] = MP_SCHEMA_CHECK;
    argv[argc++] = "--reference";
    argv[argc++] = MP_REFERENCE_DIR;
    for (; args && *args; args++) {
        if (argc + 1 >= sizeof argv / sizeof argv[0])
            return -1;
        argv[argc++] = *args;
    }
    argv[argc] = NULL;

    int pipefd[2];
    if (pipe(pipefd) != 0)
        return -1;
    fflush(NULL); /* the child must not write our buffered output twice */
    pid_t pid = fork();
    if (pid < 0) {
        close(pipefd[0]);
        close(pipefd[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(pipefd[1], STDOUT_FILENO);
        dup2(pipefd[1], STDERR_FILENO);
        close(pipefd[0]);
        close(pipefd[1]);
        /* execv takes char *const[]; the strings are not modified. */
        execv(argv[0], (char *const *)(void *)argv);
        _exit(127);
    }
    close(pipefd[1]);
    char *out = read_all(pipefd[0]);
    close(pipefd[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            free(out);
            return -1;
        }
    }
    if (output)
        *output = out;
    else
        free(out);
    if (!WIFEXITED(status) || WEXITSTATUS(status) == 127)
        return -1;
    return WEXITSTATUS(status);
}

int mp_test_schema_check_file(const char *path, const char *option, char **output) {
    const char *args[3] = {option ? option : path, option ? path : NULL, NULL};
    return mp_test_schema_check(args, output);
}

int mp_test_json_compare(const char *path_a, const char *path_b, char **output) {
    const char *args[] = {"--compare", path_a, path_b, NULL};
    return mp_test_schema_check(args, output);
}

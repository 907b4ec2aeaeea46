/*
 * The HTTP side of the server, on libmicrohttpd: binding, the thread pool,
 * routing, authentication, reading bodies within bounds, and turning a
 * mp__srv_reply into a response. What to answer is request.c's job.
 *
 * libmicrohttpd calls on_request() several times per request: once when
 * the headers are in (routing, authentication and the declared size are
 * decided there), once per piece of body, and once when the body is
 * complete (the pipeline runs there). A response can only be queued on
 * the first and last calls; one queued on the first call, before the body
 * arrived, makes libmicrohttpd close the connection after answering.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "mparticle/codec.h"
#include "serve/auth.h"
#include "serve/server.h"

/* Defaults of mp_serve_options (serve.h documents them). */
#define DEFAULT_HOST "127.0.0.1"
#define DEFAULT_SCOPE "app"
#define DEFAULT_LIMIT_STATUS 413
#define DEFAULT_THREADS 2u
/* epoll (MHD_USE_EPOLL) has no FD_SETSIZE limit: thousands of mostly idle
 * connections cost a descriptor and a little memory each. */
#define DEFAULT_MAX_CONNECTIONS 10000u
#define DEFAULT_TIMEOUT_S 10u
#define DEFAULT_HEADER_TIMEOUT_S 10u
#define DEFAULT_BODY_TIMEOUT_S 30u
#define DEFAULT_DEDUP_CAPACITY 100000u
/* Bytes of source_request_ids kept for deduplication, whatever their count. */
#define DEDUP_MAX_BYTES (32u * 1024 * 1024)
/* Bounds that keep per-request allocations sane. */
#define MAX_THREADS 1024u
#define MAX_BATCHES_LIMIT 1000000u

/*
 * A body that will not be used (the request is refused already, or grew
 * past max_request) is read and thrown away, so that the client sees the
 * answer on a connection it can keep; past this many times max_request
 * the connection is closed instead, so a client cannot keep a thread busy
 * forever.
 */
#define DISCARD_FACTOR 4

/* ------------------------------------------------------------------------ */
/* Small helpers                                                            */
/* ------------------------------------------------------------------------ */

static void set_error(char *errbuf, size_t errlen, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static void set_error(char *errbuf, size_t errlen, const char *fmt, ...) {
    if (!errbuf || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, errlen, fmt, ap);
    va_end(ap);
}

static void vlog(const mp_server *s, const char *fmt, va_list ap)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 0)))
#endif
    ;
static void vlog(const mp_server *s, const char *fmt, va_list ap) {
    if (!s->log)
        return;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    s->log(s->log_ctx, msg);
}

void mp__srv_log(const mp_server *s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vlog(s, fmt, ap);
    va_end(ap);
}

void mp__srv_error(const mp_server *s, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (s->on_error)
        s->on_error(s->error_ctx, msg);
    else
        mp__srv_log(s, "%s", msg);
}

/* libmicrohttpd's error messages (MHD_OPTION_EXTERNAL_LOGGER). */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 0)))
#endif
    ;
static void on_mhd_log(void *cls, const char *fmt, va_list ap) {
    vlog(cls, fmt, ap);
}

/*
 * Percent-decoding of the path and query (MHD_OPTION_UNESCAPE_CALLBACK).
 * libmicrohttpd's own decoder turns "/v2/events%00" into "/v2/events" and
 * a NUL, which the router saw as "/v2/events". A path whose escapes decode
 * to a control character is left as it came, so it matches no route (404).
 */
static int escapes_control(const char *s) {
    for (const char *p = strchr(s, '%'); p; p = strchr(p + 1, '%')) {
        unsigned hi, lo;
        if (!isxdigit((unsigned char)p[1]) || !isxdigit((unsigned char)p[2]))
            continue;
        hi = (unsigned)(isdigit((unsigned char)p[1]) ? p[1] - '0' : (tolower(p[1]) - 'a' + 10));
        lo = (unsigned)(isdigit((unsigned char)p[2]) ? p[2] - '0' : (tolower(p[2]) - 'a' + 10));
        unsigned byte = hi * 16 + lo;
        if (byte < 0x20 || byte == 0x7f)
            return 1;
    }
    return 0;
}

static size_t unescape(void *cls, struct MHD_Connection *conn, char *s) {
    (void)cls;
    (void)conn;
    if (escapes_control(s))
        return strlen(s);
    return MHD_http_unescape(s);
}

static mp__srv_route route_of(const char *url) {
    if (strcmp(url, "/v2/events") == 0)
        return SRV_ROUTE_EVENTS;
    if (strcmp(url, "/v2/bulkevents") == 0)
        return SRV_ROUTE_BULK;
    if (strcmp(url, "/v2/bulkevents/historical") == 0)
        return SRV_ROUTE_HISTORICAL;
    return SRV_ROUTE_NONE;
}

/* ------------------------------------------------------------------------ */
/* Answers                                                                  */
/* ------------------------------------------------------------------------ */

static int add_header(struct MHD_Response *resp, const char *name, const char *value) {
    return MHD_add_response_header(resp, name, value) == MHD_YES ? 0 : -1;
}

/* The response for r; takes r->body. NULL when out of memory. */
static struct MHD_Response *make_response(mp_server *s, mp__srv_reply *r) {
    struct MHD_Response *resp;
    if (r->body) {
        resp = MHD_create_response_from_buffer(r->body_len, r->body, MHD_RESPMEM_MUST_FREE);
        if (!resp) {
            mp__free(r->body);
            r->body = NULL;
            return NULL;
        }
        r->body = NULL;
    } else {
        resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        if (!resp)
            return NULL;
    }
    int err = 0;
    char value[64];
    if (MHD_get_response_header(resp, "Content-Type") == NULL && r->body_len > 0)
        err |= add_header(resp, "Content-Type", "application/json");
    if (r->retry_after_s >= 0 && s->retry_form != MP_SERVE_RETRY_AFTER_NONE) {
        if (s->retry_form == MP_SERVE_RETRY_AFTER_HTTP_DATE)
            mp__srv_http_date((long long)time(NULL) + r->retry_after_s, value, sizeof value);
        else
            snprintf(value, sizeof value, "%d", r->retry_after_s);
        err |= add_header(resp, "Retry-After", value);
    }
    if (r->exceeded)
        err |= add_header(resp, "X-mp-rate-limit-exceeded", s->scope);
    if (r->percent_used >= 0) {
        snprintf(value, sizeof value, "%d", r->percent_used);
        err |= add_header(resp, "X-mp-rate-limit-percentage-used", value);
    }
    if (r->status == 405)
        err |= add_header(resp, "Allow", "POST");
    if (r->status == 401)
        err |= add_header(resp, "WWW-Authenticate", "Basic realm=\"mParticle\"");
    if (r->status == 415)
        err |= add_header(resp, "Accept-Encoding", "identity");
    if (err) {
        MHD_destroy_response(resp);
        return NULL;
    }
    return resp;
}

/* Sends r (or resets the connection for status 0) and counts it. */
static enum MHD_Result send_reply(mp_server *s, struct MHD_Connection *conn, mp__srv_conn *c,
                                  mp__srv_reply *r) {
    c->answered = 1;
    mp__srv_count(&s->stats.requests, 1);
    if (r->status == 0) {
        mp__srv_count(&s->stats.resets, 1);
        mp__free(r->body);
        return MHD_NO; /* libmicrohttpd closes the connection without a word */
    }
    if (r->status > 0 && r->status < MP_SERVE_STATUS_MAX)
        mp__srv_count(&s->stats.by_status[r->status], 1);
    if (r->status == 202 && r->percent_used == 0 && !r->body)
        return MHD_queue_response(conn, 202, s->accepted_0);
    struct MHD_Response *resp = make_response(s, r);
    if (!resp) {
        mp__srv_log(s, "out of memory building a %d response", r->status);
        return MHD_NO;
    }
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* An answer decided from the headers alone. */
static enum MHD_Result send_early(mp_server *s, struct MHD_Connection *conn, mp__srv_conn *c) {
    mp__srv_reply r = {.status = c->early, .retry_after_s = -1, .percent_used = -1};
    if (c->reason[0])
        mp__srv_reply_error(&r, c->reason);
    return send_reply(s, conn, c, &r);
}

/* ------------------------------------------------------------------------ */
/* The request handler                                                      */
/* ------------------------------------------------------------------------ */

/* 401 or 403, or 0 with c->api_key set (docs/api-notes.md §1.3). */
static int authenticate(mp_server *s, struct MHD_Connection *conn, mp__srv_conn *c) {
    const char *header = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    char buf[SRV_AUTH_MAX_HEADER + 1];
    const char *key, *secret;
    switch (mp__srv_auth_parse(header, buf, sizeof buf, &key, &secret)) {
    case SRV_AUTH_MISSING:
        return 401;
    case SRV_AUTH_INVALID:
        return 403;
    case SRV_AUTH_OK:
        break;
    }
    if (s->api_key) {
        /* Both compared, always: the time taken does not say which was wrong. */
        int ok = mp__srv_auth_equal(key, s->api_key);
        ok &= mp__srv_auth_equal(secret, s->api_secret);
        if (!ok)
            return 403;
    }
    c->api_key = mp__strdup(key);
    return c->api_key ? 0 : 500;
}

/* The declared body length, or -1 when there is no Content-Length. */
static long long declared_length(struct MHD_Connection *conn) {
    const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
    if (!v)
        return -1;
    errno = 0;
    char *end;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno || end == v || n > (unsigned long long)LLONG_MAX)
        return LLONG_MAX; /* libmicrohttpd refuses such requests before us */
    return (long long)n;
}

/* 1 if the request will send no body at all. */
static int has_no_body(struct MHD_Connection *conn, long long declared) {
    if (declared >= 0)
        return declared == 0;
    return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Transfer-Encoding") == NULL;
}

/* The headers are in: decide what can be decided now. */
static enum MHD_Result on_headers(mp_server *s, struct MHD_Connection *conn, mp__srv_conn *c,
                                  const char *url, const char *method) {
    c->route = route_of(url);
    long long declared = declared_length(conn);
    if (c->route == SRV_ROUTE_NONE)
        c->early = 404;
    else if (strcmp(method, "POST") != 0)
        c->early = 405;
    else
        c->early = authenticate(s, conn, c);

    const char *coding = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Encoding");
    if (!c->early && !s->sink && coding && strcasecmp(coding, "identity") != 0) {
        c->early = 415;
        snprintf(c->reason, sizeof c->reason,
                 "(request): Content-Encoding is not supported; send the JSON uncompressed");
    }
    if (!c->early && !s->sink && declared > (long long)s->max_request) {
        c->early = s->limit_status;
        snprintf(c->reason, sizeof c->reason,
                 "(request): the body is %lld bytes, over the limit of %zu bytes", declared,
                 s->max_request);
    }
    c->keep = !c->early && !s->sink;
    /* The first piece of body allocates the declared size at once (never
     * more than max_request), so a client that declares and then sends
     * nothing holds no memory. */
    if (c->keep && declared > 0)
        c->want = (size_t)declared;
    if (!c->early)
        return MHD_YES;

    /* Answer at once when no body will follow, when the client waits for
     * "100 Continue" before sending it, or when it is too big to read
     * through; otherwise after reading it, so that the answer is not lost
     * to a connection reset while the client is still sending. */
    const char *expect = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Expect");
    int waits = expect && strcasecmp(expect, "100-continue") == 0;
    if (waits || has_no_body(conn, declared) ||
        declared > (long long)(s->max_request * DISCARD_FACTOR))
        return send_early(s, conn, c);
    return MHD_YES;
}

/* A piece of body: kept while it fits, else counted and dropped. */
static enum MHD_Result on_body(mp_server *s, mp__srv_conn *c, const char *data, size_t n) {
    c->seen += n;
    if (c->keep && !c->overflow) {
        if (n > s->max_request - c->len) {
            c->overflow = 1;
            mp__free(c->body);
            c->body = NULL;
            c->len = c->cap = 0;
        } else {
            if (c->len + n > c->cap) {
                size_t cap = c->cap ? c->cap : c->want ? c->want : 4096;
                while (cap < c->len + n)
                    cap *= 2;
                if (cap > s->max_request)
                    cap = s->max_request;
                char *body = mp__realloc(c->body, cap);
                if (!body)
                    return MHD_NO;
                c->body = body;
                c->cap = cap;
            }
            memcpy(c->body + c->len, data, n);
            c->len += n;
            return MHD_YES;
        }
    }
    if (!s->sink && c->seen > s->max_request * DISCARD_FACTOR) {
        c->answered = 1; /* on purpose: counted as a reset, not as aborted */
        mp__srv_count(&s->stats.requests, 1);
        mp__srv_count(&s->stats.resets, 1);
        return MHD_NO;
    }
    return MHD_YES;
}

/* The deadline record of the request's connection (on_connection()). */
static mp__srv_track *track_of(struct MHD_Connection *conn) {
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info ? info->socket_context : NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
    (void)version;
    mp_server *s = cls;
    mp__srv_conn *c = *con_cls;
    if (!c) {
        c = mp__calloc(1, sizeof *c);
        if (!c)
            return MHD_NO;
        *con_cls = c;
        c->track = track_of(conn);
        mp__srv_track_enter(&s->deadlines, c->track, SRV_PHASE_BODY);
        return on_headers(s, conn, c, url, method);
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        return on_body(s, c, upload_data, n);
    }
    /* The body is in: what follows is the server's time, not the client's. */
    mp__srv_track_enter(&s->deadlines, c->track, SRV_PHASE_ANSWER);
    if (c->early)
        return send_early(s, conn, c);
    mp__srv_reply r;
    mp__srv_handle(s, c, &r);
    return send_reply(s, conn, c, &r);
}

/* Every connection is tracked from accept to close for the deadlines. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe) {
    mp_server *s = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        *socket_context = info ? mp__srv_track_start(&s->deadlines, info->connect_fd) : NULL;
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        mp__srv_track_end(&s->deadlines, *socket_context);
        *socket_context = NULL;
    }
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
    (void)conn;
    (void)toe;
    mp_server *s = cls;
    mp__srv_conn *c = *con_cls;
    if (!c)
        return;
    if (!c->answered)
        mp__srv_count(&s->stats.aborted, 1);
    /* A keep-alive connection's next request has its own headers deadline. */
    mp__srv_track_enter(&s->deadlines, c->track, SRV_PHASE_HEADERS);
    mp__free(c->body);
    mp__free(c->api_key);
    mp__free(c);
    *con_cls = NULL;
}

/* ------------------------------------------------------------------------ */
/* Start and stop                                                           */
/* ------------------------------------------------------------------------ */

static int valid_rate(double p) {
    return p >= 0.0 && p <= 1.0; /* false for NaN */
}

/* Checks opts and applies the defaults into s. */
static mp_error configure(mp_server *s, const mp_serve_options *o, char *errbuf, size_t errlen) {
    if (!!o->api_key != !!o->api_secret ||
        (o->api_key && (!o->api_key[0] || !o->api_secret[0]))) {
        set_error(errbuf, errlen, "an API key needs a secret and a secret a key, both non-empty");
        return MP_ERR_INVALID_ARGUMENT;
    }
    if (!valid_rate(o->fail_rate) || !valid_rate(o->reset_rate)) {
        set_error(errbuf, errlen, "fail_rate and reset_rate must be between 0 and 1");
        return MP_ERR_INVALID_ARGUMENT;
    }
    if (!(o->rate_limit >= 0.0 && o->rate_limit < 1e12) ||
        !(o->burst == 0.0 || (o->burst >= 1.0 && o->burst < 1e12))) {
        set_error(errbuf, errlen, "rate_limit must be >= 0 and burst 0 or >= 1");
        return MP_ERR_INVALID_ARGUMENT;
    }
    if (o->limit_status != 0 && (o->limit_status < 100 || o->limit_status > 599)) {
        set_error(errbuf, errlen, "limit_status %d is not an HTTP status", o->limit_status);
        return MP_ERR_INVALID_ARGUMENT;
    }
    for (size_t i = 0; i < o->script_len; i++) {
        if (!mp__srv_faults_valid_entry(o->script[i])) {
            set_error(errbuf, errlen, "script entry %zu (%d) is not an HTTP status", i,
                      o->script[i]);
            return MP_ERR_INVALID_ARGUMENT;
        }
    }
    if (o->sink && o->record_path) {
        set_error(errbuf, errlen, "sink mode does not read batches, so it cannot record them");
        return MP_ERR_INVALID_ARGUMENT;
    }
    if ((unsigned)o->retry_after > MP_SERVE_RETRY_AFTER_NONE) {
        set_error(errbuf, errlen, "unknown retry_after form %d", (int)o->retry_after);
        return MP_ERR_INVALID_ARGUMENT;
    }
    if (o->threads > MAX_THREADS || o->max_batches > MAX_BATCHES_LIMIT ||
        o->max_request_bytes > SIZE_MAX / (2 * DISCARD_FACTOR)) {
        set_error(errbuf, errlen, "threads, max_batches or max_request_bytes is too large");
        return MP_ERR_INVALID_ARGUMENT;
    }
    s->sink = o->sink;
    s->strict = o->strict;
    s->max_request = o->max_request_bytes ? o->max_request_bytes : MP_MAX_REQUEST_BYTES;
    s->max_batch = o->max_batch_bytes ? o->max_batch_bytes : MP_MAX_BATCH_BYTES;
    s->max_batches = o->max_batches ? o->max_batches : MP_MAX_BATCHES_PER_REQUEST;
    s->limit_status = o->limit_status ? o->limit_status : DEFAULT_LIMIT_STATUS;
    s->latency_ms = o->latency_ms;
    s->retry_form = o->retry_after;
    s->retry_after_s = o->retry_after_seconds ? o->retry_after_seconds : 1;
    s->log = o->log;
    s->log_ctx = o->log_ctx;
    s->on_error = o->on_error;
    s->error_ctx = o->error_ctx;
    s->rate_on = o->rate_limit > 0.0;
    return MP_OK;
}

/* Binds and listens on host:port (the first address that works). */
static mp_error bind_listener(mp_server *s, const char *host, uint16_t port, int *fd_out,
                              int *family, char *errbuf, size_t errlen) {
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    char service[8];
    snprintf(service, sizeof service, "%u", (unsigned)port);
    int gai = getaddrinfo(host, service, &hints, &res);
    if (gai != 0) {
        set_error(errbuf, errlen, "cannot resolve %s: %s", host, gai_strerror(gai));
        return MP_ERR_IO;
    }
    int fd = -1, err = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) {
            err = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 511) == 0 &&
            fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == 0 &&
            fcntl(fd, F_SETFD, FD_CLOEXEC) == 0) {
            *family = ai->ai_family;
            break;
        }
        err = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        set_error(errbuf, errlen, "cannot listen on %s port %u: %s", host, (unsigned)port,
                  strerror(err));
        return MP_ERR_IO;
    }

    struct sockaddr_storage addr;
    socklen_t alen = sizeof addr;
    char numeric[INET6_ADDRSTRLEN + 1], sport[8];
    if (getsockname(fd, (struct sockaddr *)&addr, &alen) != 0 ||
        getnameinfo((struct sockaddr *)&addr, alen, numeric, sizeof numeric, sport,
                    sizeof sport, NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        set_error(errbuf, errlen, "cannot read the bound address: %s", strerror(errno));
        close(fd);
        return MP_ERR_IO;
    }
    s->port = (uint16_t)atoi(sport);
    if (addr.ss_family == AF_INET6)
        snprintf(s->url, sizeof s->url, "http://[%s]:%u", numeric, (unsigned)s->port);
    else
        snprintf(s->url, sizeof s->url, "http://%s:%u", numeric, (unsigned)s->port);
    *fd_out = fd;
    return MP_OK;
}

/* Everything but the daemon: state, locks, files. */
static mp_error prepare(mp_server *s, const mp_serve_options *o, char *errbuf, size_t errlen) {
    s->api_key = mp__strdup(o->api_key);
    s->api_secret = mp__strdup(o->api_secret);
    s->scope = mp__strdup(o->rate_limit_scope ? o->rate_limit_scope : DEFAULT_SCOPE);
    if ((o->api_key && (!s->api_key || !s->api_secret)) || !s->scope)
        return MP_ERR_NOMEM;
    if (s->rate_on) {
        double burst = o->burst > 0.0 ? o->burst : fmax(o->rate_limit, 1.0);
        if (mp__srv_bucket_init(&s->bucket, o->rate_limit, burst, mp__srv_now_ns()))
            return MP_ERR_NOMEM;
        s->bucket_ready = 1;
    }
    if (mp__srv_faults_init(&s->faults, o->fail_rate, o->reset_rate, o->seed))
        return MP_ERR_NOMEM;
    s->faults_ready = 1;
    if (o->script_len && mp__srv_faults_push(&s->faults, o->script, o->script_len))
        return MP_ERR_NOMEM;
    s->dedup = mp__srv_dedup_new(o->dedup_capacity ? o->dedup_capacity : DEFAULT_DEDUP_CAPACITY,
                             DEDUP_MAX_BYTES);
    if (!s->dedup)
        return MP_ERR_NOMEM;
    if (o->record_path) {
        int e = mp__srv_record_open(&s->record, o->record_path, o->record_max_bytes);
        if (e == ENOMEM)
            return MP_ERR_NOMEM;
        if (e) {
            set_error(errbuf, errlen, "cannot open the record file %s: %s", o->record_path,
                      strerror(e));
            return MP_ERR_IO;
        }
        s->recording = 1;
    }
    s->accepted_0 = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!s->accepted_0 ||
        add_header(s->accepted_0, "X-mp-rate-limit-percentage-used", "0") != 0)
        return MP_ERR_NOMEM;
    return MP_OK;
}

/* Locks and the condition variable; -1 on failure (nothing to undo but
 * what mp_serve_stop() undoes). */
static int init_sync(mp_server *s) {
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr))
        return -1;
    int rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) ||
             pthread_cond_init(&s->stop_cond, &attr);
    pthread_condattr_destroy(&attr);
    if (rc || pthread_mutex_init(&s->stop_lock, NULL) ||
        pthread_mutex_init(&s->dedup_lock, NULL) || pthread_mutex_init(&s->record_lock, NULL))
        return -1;
    return 0;
}

static void free_server(mp_server *s) {
    if (s->accepted_0)
        MHD_destroy_response(s->accepted_0);
    mp__srv_record_close(&s->record);
    mp__srv_deadlines_stop(&s->deadlines);
    mp__srv_dedup_free(s->dedup);
    if (s->faults_ready)
        mp__srv_faults_destroy(&s->faults);
    if (s->bucket_ready)
        mp__srv_bucket_destroy(&s->bucket);
    pthread_mutex_destroy(&s->record_lock);
    pthread_mutex_destroy(&s->dedup_lock);
    pthread_mutex_destroy(&s->stop_lock);
    pthread_cond_destroy(&s->stop_cond);
    mp__free(s->api_key);
    mp__free(s->api_secret);
    mp__free(s->scope);
    mp__free(s);
}

mp_error mp_serve_start(const mp_serve_options *opts, mp_server **out, char *errbuf,
                        size_t errlen) {
    static const mp_serve_options defaults = {0};
    if (!out) {
        set_error(errbuf, errlen, "no place for the server handle");
        return MP_ERR_INVALID_ARGUMENT;
    }
    *out = NULL;
    set_error(errbuf, errlen, "%s", "");
    const mp_serve_options *o = opts ? opts : &defaults;
    mp_server *s = mp__calloc(1, sizeof *s);
    if (!s) {
        set_error(errbuf, errlen, "out of memory");
        return MP_ERR_NOMEM;
    }
    s->record.fd = -1;
    if (init_sync(s)) {
        mp__free(s);
        set_error(errbuf, errlen, "cannot create the server's locks");
        return MP_ERR_NOMEM;
    }
    mp_error err = configure(s, o, errbuf, errlen);
    if (err == MP_OK)
        err = prepare(s, o, errbuf, errlen);
    int fd = -1, family = AF_INET;
    if (err == MP_OK &&
        mp__srv_deadlines_start(&s->deadlines,
                            o->header_timeout_s ? o->header_timeout_s : DEFAULT_HEADER_TIMEOUT_S,
                            o->body_timeout_s ? o->body_timeout_s : DEFAULT_BODY_TIMEOUT_S))
        err = MP_ERR_NOMEM;
    if (err == MP_OK)
        err = bind_listener(s, o->host ? o->host : DEFAULT_HOST, o->port, &fd, &family, errbuf,
                            errlen);
    if (err != MP_OK) {
        if (err == MP_ERR_NOMEM)
            set_error(errbuf, errlen, "out of memory");
        free_server(s);
        return err;
    }

    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
#ifdef __linux__
    flags |= MHD_USE_EPOLL;
#else
    flags |= MHD_USE_AUTO;
#endif
    if (family == AF_INET6)
        flags |= MHD_USE_IPv6;
    /* The logger comes first, so that it also gets the messages about the
     * options that follow. */
    s->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s,
        MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(o->threads ? o->threads : DEFAULT_THREADS),
        MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)(o->max_connections ? o->max_connections : DEFAULT_MAX_CONNECTIONS),
        MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)(o->connection_timeout_s ? o->connection_timeout_s : DEFAULT_TIMEOUT_S),
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_NOTIFY_CONNECTION,
        on_connection, s, MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL, MHD_OPTION_END);
    if (!s->daemon) {
        /* Not closed: libmicrohttpd may have closed it already, and a
         * double close could hit another thread's new descriptor. */
        set_error(errbuf, errlen, "cannot start the HTTP server on %s", s->url);
        free_server(s);
        return MP_ERR_IO;
    }
    *out = s;
    return MP_OK;
}

uint16_t mp_serve_port(const mp_server *server) {
    return server ? server->port : 0;
}

const char *mp_serve_url(const mp_server *server) {
    return server ? server->url : "";
}

static uint64_t load(const mp__srv_counter *c) {
    return atomic_load_explicit(c, memory_order_relaxed);
}

void mp_serve_stats_get(const mp_server *server, mp_serve_stats *stats) {
    if (!stats)
        return;
    memset(stats, 0, sizeof *stats);
    if (!server)
        return;
    const mp__srv_stats *st = &server->stats;
    stats->requests = load(&st->requests);
    stats->received = load(&st->received);
    stats->accepted = load(&st->accepted);
    stats->rejected = load(&st->rejected);
    stats->duplicates = load(&st->duplicates);
    stats->throttled = load(&st->throttled);
    stats->resets = load(&st->resets);
    stats->aborted = load(&st->aborted);
    stats->unrecorded = load(&st->unrecorded);
    stats->deadline_closed = atomic_load_explicit(&server->deadlines.cut, memory_order_relaxed);
    for (size_t i = 0; i < MP_SERVE_STATUS_MAX; i++)
        stats->by_status[i] = load(&st->by_status[i]);
}

void mp_serve_reset_stats(mp_server *server) {
    if (!server)
        return;
    mp__srv_stats *st = &server->stats;
    mp__srv_counter *all[] = {&st->requests,   &st->received,  &st->accepted, &st->rejected,
                          &st->duplicates, &st->throttled, &st->resets,   &st->aborted,
                          &st->unrecorded, &server->deadlines.cut};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        atomic_store_explicit(all[i], 0, memory_order_relaxed);
    for (size_t i = 0; i < MP_SERVE_STATUS_MAX; i++)
        atomic_store_explicit(&st->by_status[i], 0, memory_order_relaxed);
}

mp_error mp_serve_push_script(mp_server *server, const int *statuses, size_t n) {
    if (!server || (!statuses && n))
        return MP_ERR_INVALID_ARGUMENT;
    for (size_t i = 0; i < n; i++)
        if (!mp__srv_faults_valid_entry(statuses[i]))
            return MP_ERR_INVALID_ARGUMENT;
    return mp__srv_faults_push(&server->faults, statuses, n) ? MP_ERR_NOMEM : MP_OK;
}

void mp_serve_stop_stats(mp_server *server, mp_serve_stats *stats) {
    if (!server) {
        mp_serve_stats_get(NULL, stats);
        return;
    }
    pthread_mutex_lock(&server->stop_lock);
    server->stopping = 1;
    pthread_cond_broadcast(&server->stop_cond);
    pthread_mutex_unlock(&server->stop_lock);
    MHD_stop_daemon(server->daemon);
    /* Every request has finished now, its counters and lines included. */
    mp_serve_stats_get(server, stats);
    free_server(server);
}

void mp_serve_stop(mp_server *server) {
    mp_serve_stop_stats(server, NULL);
}

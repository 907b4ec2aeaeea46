/*
 * The libcurl transport: one HTTP exchange per send(), thread-safe, with
 * connections kept alive across calls and threads.
 *
 * Design
 *
 * - A libcurl easy handle may be used by one thread at a time, and it owns
 *   its connection cache. send() takes a handle from a mutex-protected free
 *   list (or creates one), performs the exchange and puts the handle back,
 *   so the next send() on any thread finds its connection open.
 *   curl_easy_reset() clears the request's options but keeps the live
 *   connection, the DNS cache and the TLS session cache (curl_easy_reset(3)).
 *   The list is LIFO: the most recently used connection is the one least
 *   likely to have been closed by the server while idle.
 * - Each handle keeps at most one connection (CURLOPT_MAXCONNECTS 1) and at
 *   most max_idle handles are kept, so max_idle_connections bounds the idle
 *   connections. A burst of more concurrent calls creates extra handles,
 *   which are cleaned up (closing their connections) when they come back to
 *   a full pool.
 * - A share object gives all handles one DNS cache and one TLS session cache,
 *   so a new connection skips the lookup and resumes the TLS session. It
 *   does not share connections: libcurl documents a shared connection cache
 *   as unsupported between concurrent threads (CURLSHOPT_SHARE(3),
 *   CURL_LOCK_DATA_CONNECT), and with one connection per handle the pool
 *   gives the same reuse without a global lock on every request.
 * - A handle whose exchange failed is cleaned up, not pooled: its
 *   connection may be half-read or dead. The shared caches survive, so
 *   replacing it costs one connect.
 * - Redirects are not followed. The Events API never redirects a POST; a
 *   3xx is returned to the client as it is, so a batch is never re-sent to
 *   an address the caller did not choose, and credentials never leave for
 *   another host.
 */
#include "common/alloc.h"
#include "transport/curl_transport.h"

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "transport/response.h"

#define DEFAULT_MAX_IDLE 16
#define MIN_LIBCURL_VERSION 0x073D00 /* 7.61.0 */

/* Features newer than some libcurl headers this file may be built with. */
#ifndef CURL_VERSION_THREADSAFE
#define CURL_VERSION_THREADSAFE (1 << 30)
#endif

typedef struct curl_transport {
    pthread_mutex_t lock; /* guards idle and idle_count */
    CURL **idle;
    size_t idle_count;
    size_t idle_max;

    CURLSH *share;
    pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
    int share_locks_ready;

    char *proxy;     /* NULL: libcurl's default (the environment) */
    char *ca_bundle; /* NULL: the system's */
    int insecure;
    int http2;       /* this libcurl speaks HTTP/2 */
    int global_ref;  /* holds a curl_global_init() reference */
} curl_transport;

/* ------------------------------------------------------------------------ */
/* libcurl's global state                                                    */

/*
 * curl_global_init() is only safe to call concurrently when the libcurl in
 * use says so (CURL_VERSION_THREADSAFE, 7.84.0 and later); curl_version_info()
 * itself writes static data on older versions. So the version is read once,
 * under pthread_once. With a thread-safe libcurl each transport then holds a
 * counted reference (curl_global_init/curl_global_cleanup), and the library
 * leaves nothing behind once the last transport is gone. With an older one,
 * curl_global_init() runs inside the once and is never undone: cleaning up
 * could race with another thread's init. These few variables are written
 * only by that once routine, then read.
 */
static pthread_once_t g_curl_once = PTHREAD_ONCE_INIT;
static unsigned int g_curl_version;
static int g_curl_features;
static CURLcode g_curl_once_rc;

static void curl_once(void) {
    const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
    g_curl_version = v ? v->version_num : 0;
    g_curl_features = v ? v->features : 0;
    if (!(g_curl_features & CURL_VERSION_THREADSAFE))
        g_curl_once_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* Checks the libcurl in use and takes a global reference if it counts them. */
static mp_error global_acquire(curl_transport *t) {
    if (pthread_once(&g_curl_once, curl_once) != 0)
        return MP_ERR_NOMEM;
    if (g_curl_version < MIN_LIBCURL_VERSION || !(g_curl_features & CURL_VERSION_SSL))
        return MP_ERR_INVALID_ARGUMENT;
    t->http2 = (g_curl_features & CURL_VERSION_HTTP2) != 0;
    if (!(g_curl_features & CURL_VERSION_THREADSAFE))
        return g_curl_once_rc == CURLE_OK ? MP_OK : MP_ERR_NOMEM;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return MP_ERR_NOMEM;
    t->global_ref = 1;
    return MP_OK;
}

static void global_release(curl_transport *t) {
    if (t->global_ref)
        curl_global_cleanup();
    t->global_ref = 0;
}

/* ------------------------------------------------------------------------ */
/* SIGPIPE                                                                   */

/*
 * With CURLOPT_NOSIGNAL libcurl no longer ignores SIGPIPE around a transfer
 * (CURLOPT_NOSIGNAL(3)); it avoids raising one where the OS lets it
 * (MSG_NOSIGNAL), but TLS backends writing to a socket the peer reset can
 * still raise one, which kills a process that has not ignored it. A
 * library must not change the process-wide disposition, so block the
 * signal in this thread only, and consume the one the exchange raised.
 */
void mp__sigpipe_block(mp__sigpipe_guard *g) {
    sigset_t pipe_set, pending;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    g->was_pending = 0;
    g->blocked = pthread_sigmask(SIG_BLOCK, &pipe_set, &g->old_mask) == 0;
    if (g->blocked && sigpending(&pending) == 0)
        g->was_pending = sigismember(&pending, SIGPIPE) == 1;
}

void mp__sigpipe_restore(mp__sigpipe_guard *g) {
    if (!g->blocked)
        return;
    sigset_t pipe_set, pending;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    if (!g->was_pending && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1) {
        int sig;
        (void)sigwait(&pipe_set, &sig); /* pending, so it returns at once */
    }
    pthread_sigmask(SIG_SETMASK, &g->old_mask, NULL);
    g->blocked = 0;
}

/* ------------------------------------------------------------------------ */
/* Response callbacks                                                        */

static int is_ows(char c) {
    return c == ' ' || c == '\t';
}

size_t mp__curl_on_header(char *data, size_t size, size_t nitems, void *userdata) {
    mp__curl_exchange *ex = userdata;
    size_t total = size * nitems;
    size_t len = total;
    while (len && (data[len - 1] == '\n' || data[len - 1] == '\r'))
        len--;

    /* A status line starts a response. Several can arrive in one exchange
     * (100 Continue, 103 Early Hints, a proxy's CONNECT answer): only the
     * final response's headers describe the answer, so start over. */
    if (len >= 5 && memcmp(data, "HTTP/", 5) == 0) {
        if (ex->seen_status)
            mp__response_reset(ex->resp);
        ex->seen_status = 1;
        ex->in_body = 0;
        return total;
    }
    /* The blank line ending a block; trailers (after the body), which the
     * Events API does not send and which must not pass for headers;
     * obsolete line folding (RFC 9112 §5.2), which libcurl passes on as
     * its own line and which no header the client reads uses. */
    if (len == 0 || ex->in_body || is_ows(data[0]))
        return total;

    const char *colon = memchr(data, ':', len);
    if (!colon)
        return total;
    size_t name_len = (size_t)(colon - data);
    while (name_len && is_ows(data[name_len - 1]))
        name_len--;
    if (name_len == 0)
        return total;
    const char *value = colon + 1;
    size_t value_len = len - (size_t)(value - data);
    while (value_len && is_ows(*value)) {
        value++;
        value_len--;
    }
    while (value_len && is_ows(value[value_len - 1]))
        value_len--;

    /* MP_ERR_LIMIT (too many headers) drops the header and keeps reading. */
    if (mp_http_response_add_header(ex->resp, data, name_len, value, value_len) == MP_ERR_NOMEM) {
        ex->nomem = 1;
        return 0;
    }
    return total;
}

size_t mp__curl_on_body(char *data, size_t size, size_t nitems, void *userdata) {
    mp__curl_exchange *ex = userdata;
    size_t total = size * nitems;
    ex->in_body = 1;
    if (mp_http_response_append_body(ex->resp, data, total) != MP_OK) {
        ex->nomem = 1;
        return 0;
    }
    return total;
}

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */

/* Copies one line into errbuf: control characters become spaces, so a
 * message from libcurl or OpenSSL cannot break a log line. */
static void put_line(char *errbuf, size_t size, const char *msg) {
    if (!errbuf || size == 0)
        return;
    size_t n = 0;
    for (; msg[n] && n + 1 < size; n++) {
        unsigned char c = (unsigned char)msg[n];
        errbuf[n] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
    }
    while (n && errbuf[n - 1] == ' ')
        n--;
    errbuf[n] = '\0';
}

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static mp_error fail(char *errbuf, size_t size, mp_error err, const char *fmt, ...) {
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    put_line(errbuf, size, line);
    return err;
}

/* ------------------------------------------------------------------------ */
/* Requests                                                                  */

/* RFC 9110 §5.6.2 token: header names and methods. */
static int is_token(const char *s) {
    if (!s || !*s)
        return 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              strchr("!#$%&'*+-.^_`|~", c)))
            return 0;
    }
    return 1;
}

static int has_url_scheme(const char *url, const char *scheme) {
    size_t n = strlen(scheme);
    return strncasecmp(url, scheme, n) == 0;
}

/* Refuses what libcurl would send wrongly or not at all; the message names
 * the field. */
static mp_error check_request(const mp_http_request *req, const mp_http_response *resp,
                              char *errbuf, size_t size) {
    if (!req || !resp)
        return fail(errbuf, size, MP_ERR_INVALID_ARGUMENT, "%s", "request or response is NULL");
    if (!req->url || !req->method)
        return fail(errbuf, size, MP_ERR_INVALID_ARGUMENT, "%s", "request has no URL or method");
    if (!has_url_scheme(req->url, "http://") && !has_url_scheme(req->url, "https://"))
        return fail(errbuf, size, MP_ERR_INVALID_ARGUMENT,
                    "URL \"%.200s\" is not http:// or https://", req->url);
    if (!is_token(req->method))
        return fail(errbuf, size, MP_ERR_INVALID_ARGUMENT, "method \"%.40s\" is not a token",
                    req->method);
    if (req->connect_timeout_ms <= 0 || req->timeout_ms <= 0)
        return fail(errbuf, size, MP_ERR_INVALID_ARGUMENT, "%s",
                    "connect_timeout_ms and timeout_ms must be > 0");
    if (!req->body && req->body_len)
        return fail(errbuf, size, MP_ERR_INVALID_ARGUMENT, "%s", "body is NULL but body_len > 0");
    if (!req->headers && req->header_count)
        return fail(errbuf, size, MP_ERR_INVALID_ARGUMENT, "%s",
                    "headers is NULL but header_count > 0");
    for (size_t i = 0; i < req->header_count; i++) {
        const mp_http_header *h = &req->headers[i];
        if (!is_token(h->name))
            return fail(errbuf, size, MP_ERR_INVALID_ARGUMENT,
                        "header name \"%.60s\" is not a token", h->name ? h->name : "(null)");
        if (!h->value || strpbrk(h->value, "\r\n"))
            return fail(errbuf, size, MP_ERR_INVALID_ARGUMENT,
                        "header %.60s: value is NULL or contains CR or LF", h->name);
        /* Framing is the transport's: a wrong length would desynchronise a
         * kept-alive connection. */
        if (strcasecmp(h->name, "Content-Length") == 0 ||
            strcasecmp(h->name, "Transfer-Encoding") == 0)
            return fail(errbuf, size, MP_ERR_INVALID_ARGUMENT,
                        "header %.60s is set by the transport", h->name);
    }
    return MP_OK;
}

static int request_has_header(const mp_http_request *req, const char *name) {
    for (size_t i = 0; i < req->header_count; i++) {
        if (strcasecmp(req->headers[i].name, name) == 0)
            return 1;
    }
    return 0;
}

/* Appends "name: value"; an empty value is written "name;", libcurl's
 * spelling for a header sent empty ("name:" would remove it). value NULL
 * appends "name:", which removes a header libcurl would add itself. */
static int slist_add(struct curl_slist **list, const char *name, const char *value) {
    char stack[512];
    size_t n = strlen(name) + (value ? strlen(value) : 0) + 3;
    char *line = n <= sizeof stack ? stack : mp__malloc(n);
    if (!line)
        return -1;
    if (!value)
        snprintf(line, n, "%s:", name);
    else if (!*value)
        snprintf(line, n, "%s;", name);
    else
        snprintf(line, n, "%s: %s", name, value);
    struct curl_slist *next = curl_slist_append(*list, line);
    if (line != stack)
        mp__free(line);
    if (!next)
        return -1;
    *list = next;
    return 0;
}

/*
 * The request's headers and nothing else besides Host and Content-Length:
 * libcurl's own Accept (any media type), Content-Type for a POST
 * (application/x-www-form-urlencoded) and Expect: 100-continue for large
 * bodies (a round trip of delay for nothing: the server reads the body
 * anyway) are removed unless the caller set them. libcurl sends no
 * User-Agent unless CURLOPT_USERAGENT is set, and it is not.
 */
static int build_headers(const mp_http_request *req, struct curl_slist **out) {
    static const char *const suppressed[] = {"Accept", "Content-Type", "Expect"};
    struct curl_slist *list = NULL;
    for (size_t i = 0; i < req->header_count; i++) {
        if (slist_add(&list, req->headers[i].name, req->headers[i].value) != 0)
            goto nomem;
    }
    for (size_t i = 0; i < sizeof suppressed / sizeof suppressed[0]; i++) {
        if (!request_has_header(req, suppressed[i]) && slist_add(&list, suppressed[i], NULL) != 0)
            goto nomem;
    }
    *out = list;
    return 0;
nomem:
    curl_slist_free_all(list);
    return -1;
}

/* file://, ftp:// and the rest are refused by check_request(); this is the
 * same rule inside libcurl, which also covers a proxy's redirections. */
static CURLcode restrict_protocols(CURL *h) {
#if LIBCURL_VERSION_NUM >= 0x075500
    CURLcode rc = curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    if (rc != CURLE_UNKNOWN_OPTION)
        return rc;
#endif
    /* A libcurl older than 7.85.0 at run time. */
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif
    return curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
}

static CURLcode set_method_and_body(CURL *h, const mp_http_request *req) {
    CURLcode rc;
    if (strcmp(req->method, "GET") == 0 && req->body_len == 0)
        return curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    if (strcmp(req->method, "HEAD") == 0 && req->body_len == 0)
        return curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    /* The body is borrowed, not copied. Never leave CURLOPT_POSTFIELDS NULL:
     * libcurl would then read the body from stdin. */
    rc = curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? req->body : "");
    if (rc == CURLE_OK && strcmp(req->method, "POST") != 0)
        rc = curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
    return rc;
}

static CURLcode set_tls(const curl_transport *t, CURL *h) {
    long peer = t->insecure ? 0L : 1L;
    long host = t->insecure ? 0L : 2L;
    CURLcode rc = curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, peer);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, host);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(h, CURLOPT_PROXY_SSL_VERIFYPEER, peer);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(h, CURLOPT_PROXY_SSL_VERIFYHOST, host);
    if (rc == CURLE_OK && t->ca_bundle)
        rc = curl_easy_setopt(h, CURLOPT_CAINFO, t->ca_bundle);
    if (rc == CURLE_OK && t->ca_bundle)
        rc = curl_easy_setopt(h, CURLOPT_PROXY_CAINFO, t->ca_bundle);
    return rc;
}

static CURLcode set_proxy(const curl_transport *t, CURL *h) {
    if (!t->proxy)
        return CURLE_OK; /* libcurl reads http_proxy, https_proxy, no_proxy */
    if (!*t->proxy)
        return curl_easy_setopt(h, CURLOPT_NOPROXY, "*"); /* overrides the environment */
    return curl_easy_setopt(h, CURLOPT_PROXY, t->proxy);
}

/* libcurl's progress callback: a non-zero return aborts the transfer
 * (CURLE_ABORTED_BY_CALLBACK), which is how a caller's cancel reaches it. */
static int on_progress(void *userp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow) {
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    const mp_http_request *req = userp;
    return req->cancelled(req->cancel_ctx) != 0;
}

/* Everything curl_easy_reset() cleared, for this request. */
static CURLcode set_options(const curl_transport *t, CURL *h, const mp_http_request *req,
                            struct curl_slist *headers, mp__curl_exchange *ex, char *curl_err) {
    CURLcode rc = CURLE_OK;
#define SET(opt, val)                              \
    do {                                           \
        if (rc == CURLE_OK)                        \
            rc = curl_easy_setopt(h, opt, val);    \
    } while (0)
    SET(CURLOPT_ERRORBUFFER, curl_err);
    /* No SIGALRM for timeouts: other threads run. A libcurl without
     * AsynchDNS then cannot time out a DNS lookup; Debian's and most
     * distributions' use the threaded resolver, which can. */
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_URL, req->url);
    if (rc == CURLE_OK)
        rc = restrict_protocols(h);
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_HTTP_VERSION,
        t->http2 ? (long)CURL_HTTP_VERSION_2TLS : (long)CURL_HTTP_VERSION_1_1);
    SET(CURLOPT_CONNECTTIMEOUT_MS, req->connect_timeout_ms);
    SET(CURLOPT_TIMEOUT_MS, req->timeout_ms);
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    SET(CURLOPT_MAXCONNECTS, 1L);
    SET(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
    SET(CURLOPT_HTTPHEADER, headers);
    SET(CURLOPT_HEADERFUNCTION, mp__curl_on_header);
    SET(CURLOPT_HEADERDATA, ex);
    SET(CURLOPT_WRITEFUNCTION, mp__curl_on_body);
    SET(CURLOPT_WRITEDATA, ex);
    if (req->cancelled) {
        SET(CURLOPT_XFERINFOFUNCTION, on_progress);
        SET(CURLOPT_XFERINFODATA, (void *)req);
        SET(CURLOPT_NOPROGRESS, 0L);
    }
#undef SET
    if (rc == CURLE_OK)
        rc = set_method_and_body(h, req);
    if (rc == CURLE_OK)
        rc = set_tls(t, h);
    if (rc == CURLE_OK)
        rc = set_proxy(t, h);
#if LIBCURL_VERSION_NUM >= 0x074000
    /* Off by default from 7.66.0; a libcurl from 7.61 to 7.63 lacks the
     * option and accepts HTTP/0.9, which does not matter enough to refuse it. */
    if (rc == CURLE_OK && curl_easy_setopt(h, CURLOPT_HTTP09_ALLOWED, 0L) == CURLE_OUT_OF_MEMORY)
        rc = CURLE_OUT_OF_MEMORY;
#endif
    return rc;
}

/* ------------------------------------------------------------------------ */
/* The pool                                                                  */

static CURL *pool_take(curl_transport *t) {
    CURL *h = NULL;
    pthread_mutex_lock(&t->lock);
    if (t->idle_count)
        h = t->idle[--t->idle_count];
    pthread_mutex_unlock(&t->lock);
    if (h)
        return h;
    h = curl_easy_init();
    /* The share survives curl_easy_reset(), so it is attached once. */
    if (h && curl_easy_setopt(h, CURLOPT_SHARE, t->share) != CURLE_OK) {
        curl_easy_cleanup(h);
        h = NULL;
    }
    return h;
}

/* Pools a handle that finished an exchange, or cleans it up when the pool is
 * full or the exchange failed. Reset drops the pointers into the finished
 * request (headers, body, error buffer) along with the options. */
static void pool_give(curl_transport *t, CURL *h, int healthy) {
    if (healthy) {
        curl_easy_reset(h);
        pthread_mutex_lock(&t->lock);
        if (t->idle_count < t->idle_max) {
            t->idle[t->idle_count++] = h;
            h = NULL;
        }
        pthread_mutex_unlock(&t->lock);
    }
    if (h)
        curl_easy_cleanup(h); /* outside the lock: closing may write (TLS close_notify) */
}

size_t mp__curl_transport_idle(void *user_data) {
    curl_transport *t = user_data;
    pthread_mutex_lock(&t->lock);
    size_t n = t->idle_count;
    pthread_mutex_unlock(&t->lock);
    return n;
}

/* ------------------------------------------------------------------------ */
/* send                                                                      */

/* Failures of certificate verification: the same certificate will be
 * refused on every retry, so they must not look like a passing network
 * fault (a handshake cut short, CURLE_SSL_CONNECT_ERROR, still does). */
static int is_tls_verification_failure(CURLcode rc) {
    switch (rc) {
    case CURLE_PEER_FAILED_VERIFICATION: /* also CURLE_SSL_CACERT since 7.62 */
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
        return 1;
    default:
        return 0;
    }
}

static mp_error classify(CURLcode rc, long status, const mp__curl_exchange *ex,
                         const char *curl_err, char *errbuf, size_t size) {
    if (ex->nomem || rc == CURLE_OUT_OF_MEMORY)
        return fail(errbuf, size, MP_ERR_NOMEM, "%s", "out of memory while storing the response");
    if (rc == CURLE_OK) {
        if (status >= 100 && status <= 999)
            return MP_OK;
        return fail(errbuf, size, MP_ERR_NETWORK, "%s", "the response has no HTTP status");
    }
    put_line(errbuf, size, curl_err[0] ? curl_err : curl_easy_strerror(rc));
    if (is_tls_verification_failure(rc)) {
        char detail[CURL_ERROR_SIZE];
        snprintf(detail, sizeof detail, "%s", curl_err[0] ? curl_err : curl_easy_strerror(rc));
        return fail(errbuf, size, MP_ERR_TLS,
                    "TLS: the server's certificate was not accepted (%s); give the CA that "
                    "signed it (mp_curl_options.ca_bundle, mparticle send --cacert)",
                    detail);
    }
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        return MP_ERR_TIMEOUT;
    case CURLE_ABORTED_BY_CALLBACK:
        put_line(errbuf, size, "abandoned: the caller's deadline passed");
        return MP_ERR_TIMEOUT;
    case CURLE_URL_MALFORMAT:
        return MP_ERR_INVALID_ARGUMENT;
    default:
        return MP_ERR_NETWORK;
    }
}

static mp_error curl_send(void *user_data, const mp_http_request *req, mp_http_response *resp,
                          char *errbuf, size_t errbuf_size) {
    curl_transport *t = user_data;
    put_line(errbuf, errbuf_size, "");
    if (!t)
        return fail(errbuf, errbuf_size, MP_ERR_INVALID_ARGUMENT, "%s", "transport is NULL");
    mp_error err = check_request(req, resp, errbuf, errbuf_size);
    if (err != MP_OK)
        return err;

    struct curl_slist *headers = NULL;
    if (build_headers(req, &headers) != 0)
        return fail(errbuf, errbuf_size, MP_ERR_NOMEM, "%s", "out of memory building the headers");
    CURL *h = pool_take(t);
    if (!h) {
        curl_slist_free_all(headers);
        return fail(errbuf, errbuf_size, MP_ERR_NOMEM, "%s", "out of memory creating a handle");
    }

    mp__curl_exchange ex = {.resp = resp};
    char curl_err[CURL_ERROR_SIZE];
    curl_err[0] = '\0';
    CURLcode rc = set_options(t, h, req, headers, &ex, curl_err);
    if (rc == CURLE_OK) {
        mp__sigpipe_guard guard;
        mp__sigpipe_block(&guard);
        rc = curl_easy_perform(h);
        mp__sigpipe_restore(&guard);
    }
    long status = 0;
    if (rc == CURLE_OK && curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
        status = 0;
    err = classify(rc, status, &ex, curl_err, errbuf, errbuf_size);
    if (err == MP_OK)
        mp_http_response_set_status(resp, (int)status);

    pool_give(t, h, err == MP_OK);
    curl_slist_free_all(headers); /* after the handle let go of it */
    return err;
}

/* ------------------------------------------------------------------------ */
/* Creation and destruction                                                  */

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *userptr) {
    (void)h;
    (void)access;
    curl_transport *t = userptr;
    if ((int)data >= 0 && data < CURL_LOCK_DATA_LAST)
        pthread_mutex_lock(&t->share_locks[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *userptr) {
    (void)h;
    curl_transport *t = userptr;
    if ((int)data >= 0 && data < CURL_LOCK_DATA_LAST)
        pthread_mutex_unlock(&t->share_locks[data]);
}

static int share_create(curl_transport *t) {
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++) {
        if (pthread_mutex_init(&t->share_locks[i], NULL) != 0) {
            while (i--)
                pthread_mutex_destroy(&t->share_locks[i]);
            return -1;
        }
    }
    t->share_locks_ready = 1;
    t->share = curl_share_init();
    if (!t->share)
        return -1;
    if (curl_share_setopt(t->share, CURLSHOPT_LOCKFUNC, share_lock) != CURLSHE_OK ||
        curl_share_setopt(t->share, CURLSHOPT_UNLOCKFUNC, share_unlock) != CURLSHE_OK ||
        curl_share_setopt(t->share, CURLSHOPT_USERDATA, t) != CURLSHE_OK ||
        curl_share_setopt(t->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK ||
        curl_share_setopt(t->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK)
        return -1;
    return 0;
}

static char *dup_or_null(const char *s, int *failed) {
    if (!s)
        return NULL;
    char *p = mp__strdup(s);
    if (!p)
        *failed = 1;
    return p;
}

/* Frees everything; safe on a partly built transport. No send() may be in
 * flight: the pool's handles are cleaned up here. */
static void curl_destroy(void *user_data) {
    curl_transport *t = user_data;
    if (!t)
        return;
    for (size_t i = 0; i < t->idle_count; i++)
        curl_easy_cleanup(t->idle[i]);
    mp__free(t->idle);
    if (t->share)
        curl_share_cleanup(t->share); /* after the handles that use it */
    if (t->share_locks_ready) {
        for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
            pthread_mutex_destroy(&t->share_locks[i]);
    }
    pthread_mutex_destroy(&t->lock);
    mp__free(t->proxy);
    mp__free(t->ca_bundle);
    global_release(t);
    mp__free(t);
}

mp_error mp_curl_transport_new(const mp_curl_options *opts, mp_transport *out) {
    static const mp_curl_options defaults = MP_CURL_OPTIONS_INIT;
    if (!out)
        return MP_ERR_INVALID_ARGUMENT;
    memset(out, 0, sizeof *out);
    if (!opts)
        opts = &defaults;
    if (opts->version > MP_CURL_OPTIONS_VERSION || opts->max_idle_connections < 0)
        return MP_ERR_INVALID_ARGUMENT;

    curl_transport *t = mp__calloc(1, sizeof *t);
    if (!t)
        return MP_ERR_NOMEM;
    if (pthread_mutex_init(&t->lock, NULL) != 0) {
        mp__free(t);
        return MP_ERR_NOMEM;
    }
    mp_error err = global_acquire(t);
    if (err != MP_OK) {
        curl_destroy(t);
        return err;
    }
    int failed = 0;
    t->idle_max = opts->max_idle_connections ? (size_t)opts->max_idle_connections
                                             : DEFAULT_MAX_IDLE;
    t->idle = mp__calloc(t->idle_max, sizeof *t->idle);
    t->proxy = dup_or_null(opts->proxy, &failed);
    t->ca_bundle = dup_or_null(opts->ca_bundle, &failed);
    t->insecure = opts->insecure_disable_tls_verification != 0;
    if (failed || !t->idle || share_create(t) != 0) {
        curl_destroy(t);
        return MP_ERR_NOMEM;
    }
    out->send = curl_send;
    out->destroy = curl_destroy;
    out->user_data = t;
    return MP_OK;
}

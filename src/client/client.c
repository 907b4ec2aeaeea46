/* The client object: configuration, endpoints and request headers. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "client/client_internal.h"
#include "common/diag.h"
#include "mparticle/version.h"
#include "common/uuid.h"

#define DEFAULT_CONNECT_TIMEOUT_MS 10000
#define DEFAULT_TIMEOUT_MS 30000
#define DEFAULT_MAX_ATTEMPTS 5
#define DEFAULT_BACKOFF_INITIAL_MS 500
#define DEFAULT_BACKOFF_MAX_MS 30000
#define DEFAULT_RETRY_TOTAL_MS 60000
#define DEFAULT_RETRY_AFTER_MAX_MS 120000

static const struct {
    const char *prefix; /* of API keys, as mParticle's Android SDK reads them */
    mp_pod pod;
    const char *url;
} pods[] = {
    {"us1", MP_POD_US1, "https://s2s.mparticle.com/v2"},
    {"us2", MP_POD_US2, "https://s2s.us2.mparticle.com/v2"},
    {"eu1", MP_POD_EU1, "https://s2s.eu1.mparticle.com/v2"},
    {"au1", MP_POD_AU1, "https://s2s.au1.mparticle.com/v2"},
};

static const char *const endpoint_paths[3] = {"/events", "/bulkevents", "/bulkevents/historical"};

/* The pod of a key such as "us2-0123…"; US1 when the prefix is not a known pod. */
static mp_pod pod_from_key(const char *key) {
    const char *dash = strchr(key, '-');
    if (dash && dash - key == 3) {
        for (size_t i = 0; i < sizeof pods / sizeof pods[0]; i++) {
            if (strncasecmp(key, pods[i].prefix, 3) == 0)
                return pods[i].pod;
        }
    }
    return MP_POD_US1;
}

static const char *pod_url(mp_pod pod) {
    for (size_t i = 0; i < sizeof pods / sizeof pods[0]; i++) {
        if (pods[i].pod == pod)
            return pods[i].url;
    }
    return NULL;
}

static void base64(const unsigned char *in, size_t n, char *out) {
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0, i = 0;
    for (; i + 2 < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        out[o++] = tbl[v >> 18];
        out[o++] = tbl[(v >> 12) & 63];
        out[o++] = tbl[(v >> 6) & 63];
        out[o++] = tbl[v & 63];
    }
    if (i < n) {
        unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0);
        out[o++] = tbl[v >> 18];
        out[o++] = tbl[(v >> 12) & 63];
        out[o++] = i + 1 < n ? tbl[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }
    out[o] = '\0';
}

/* Keeps a string the headers point into; returns it or NULL. */
static char *keep(mp_client *c, char *s) {
    if (!s)
        return NULL;
    c->header_storage[c->header_storage_count++] = s;
    return s;
}

static mp_error add_header(mp_client *c, const char *name, const char *value) {
    char *n = keep(c, mp__strdup(name));
    char *v = n ? keep(c, mp__strdup(value)) : NULL;
    if (!v)
        return MP_ERR_NOMEM;
    c->headers[c->header_count].name = n;
    c->headers[c->header_count].value = v;
    c->header_count++;
    return MP_OK;
}

/* The client sets these itself; a second copy would make the request ambiguous. */
static int reserved_header(const char *s, size_t n) {
    return (n == 13 && strncasecmp(s, "Authorization", n) == 0) ||
           (n == 12 && strncasecmp(s, "Content-Type", n) == 0);
}

static int valid_header_value(const char *s) {
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch < 32 && ch != '\t') || ch == 127)
            return 0;
    }
    return 1;
}

static int valid_header_name(const char *s, size_t n) {
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch <= 32 || ch >= 127 || strchr("()<>@,;:\\\"/[]?={}", ch))
            return 0;
    }
    return 1;
}

/* "Name: value" → a header; false when malformed (a CR or LF would let a
 * caller's string smuggle a second header into the request). */
static mp_error add_extra_header(mp_client *c, const char *line, size_t index, mp_diag *diag) {
    const char *colon = line ? strchr(line, ':') : NULL;
    size_t nlen = colon ? (size_t)(colon - line) : 0;
    char name[256];
    const char *why = NULL;
    if (!colon || !valid_header_name(line, nlen) || !valid_header_value(colon + 1))
        why = "is not a \"Name: value\" header (no control characters)";
    else if (nlen >= sizeof name)
        why = "has a header name longer than 255 characters";
    else if (reserved_header(line, nlen))
        why = "sets a header the client sets itself (Authorization, Content-Type)";
    if (why) {
        char path[48];
        snprintf(path, sizeof path, "headers[%zu]", index);
        mp__diag_add(diag, MP_SEVERITY_ERROR, MP_ERR_INVALID_ARGUMENT, -1, path, "%s", why);
        return MP_ERR_INVALID_ARGUMENT;
    }
    memcpy(name, line, nlen);
    name[nlen] = '\0';
    const char *value = colon + 1;
    while (*value == ' ' || *value == '\t')
        value++;
    return add_header(c, name, value);
}

static mp_error invalid(mp_diag *diag, const char *what, const char *message) {
    mp__diag_add(diag, MP_SEVERITY_ERROR, MP_ERR_INVALID_ARGUMENT, -1, what, "%s", message);
    return MP_ERR_INVALID_ARGUMENT;
}

static mp_error set_endpoints(mp_client *c, const char *base, mp_diag *diag) {
    if (strncasecmp(base, "http://", 7) != 0 && strncasecmp(base, "https://", 8) != 0)
        return invalid(diag, "base_url", "must start with http:// or https://");
    c->base_url = mp__strdup(base);
    if (!c->base_url)
        return MP_ERR_NOMEM;
    size_t n = strlen(c->base_url);
    while (n > 0 && c->base_url[n - 1] == '/')
        c->base_url[--n] = '\0';
    for (int i = 0; i < 3; i++) {
        c->urls[i] = mp__strcat2(c->base_url, endpoint_paths[i]);
        if (!c->urls[i])
            return MP_ERR_NOMEM;
    }
    return MP_OK;
}

static mp_error set_headers(mp_client *c, const char *key, const char *secret,
                            const mp_client_options *o, mp_diag *diag) {
    size_t extra = o->header_count;
    c->headers = mp__calloc(4 + extra, sizeof *c->headers);
    c->header_storage = mp__calloc(2 * (4 + extra) + 1, sizeof *c->header_storage);
    if (!c->headers || !c->header_storage)
        return MP_ERR_NOMEM;

    size_t kl = strlen(key), sl = strlen(secret);
    unsigned char *creds = mp__malloc(kl + sl + 2);
    char *auth = mp__malloc(6 + 4 * ((kl + sl + 1 + 2) / 3) + 1);
    if (!creds || !auth) {
        mp__free(creds);
        mp__free(auth);
        return MP_ERR_NOMEM;
    }
    memcpy(creds, key, kl);
    creds[kl] = ':';
    memcpy(creds + kl + 1, secret, sl);
    memcpy(auth, "Basic ", 6);
    base64(creds, kl + sl + 1, auth + 6);
    mp__free(creds);
    mp_error err = add_header(c, "Authorization", auth);
    mp__free(auth);
    if (err || (err = add_header(c, "Content-Type", "application/json")) ||
        (err = add_header(c, "Accept", "application/json")))
        return err;
    const char *ua = o->user_agent ? o->user_agent : "libmparticle/" MP_VERSION_STRING;
    if (*ua && (err = add_header(c, "User-Agent", ua)))
        return err;
    for (size_t i = 0; i < extra; i++) {
        if ((err = add_extra_header(c, o->headers[i], i, diag)))
            return err;
    }
    return MP_OK;
}

/* Durations: 0 means the default; anything above a day is taken as a day,
 * which keeps deadline arithmetic far from overflow. */
static long or_default(long v, long d) {
    const long day = 24L * 3600 * 1000;
    if (v <= 0)
        return d;
    return v > day ? day : v;
}

/* The client owns a caller's transport from the call on, even when the
 * call fails, so the caller never needs a separate clean-up path. */
static mp_error give_up(const mp_client_options *o, mp_error err) {
    if (o->transport && o->transport->destroy)
        o->transport->destroy(o->transport->user_data);
    return err;
}

static mp_error check_options(const mp_client_options *o, const char *key, const char *secret,
                              mp_diag *diag) {
    if (!key || !*key)
        return invalid(diag, "api_key", "no API key: set api_key or MPARTICLE_API_KEY");
    if (!secret || !*secret)
        return invalid(diag, "api_secret", "no API secret: set api_secret or MPARTICLE_API_SECRET");
    if (o->header_count && !o->headers)
        return invalid(diag, "headers", "header_count is set but headers is NULL");
    if ((int)o->pod < MP_POD_AUTO || o->pod > MP_POD_AU1)
        return invalid(diag, "pod", "is not an mp_pod value");
    if (o->transport && !o->transport->send)
        return invalid(diag, "transport", "has no send function");
    return MP_OK;
}

mp_error mp_client_options_init(mp_client_options *opts, unsigned int version) {
    if (!opts || version < 1 || version > MP_CLIENT_OPTIONS_VERSION)
        return MP_ERR_INVALID_ARGUMENT;
    memset(opts, 0, sizeof *opts);
    opts->version = version;
    return MP_OK;
}

mp_error mp_client_new(const mp_client_options *opts, mp_client **out, mp_diag *diag) {
    static const mp_client_options defaults = MP_CLIENT_OPTIONS_INIT;
    const mp_client_options *o = opts ? opts : &defaults;
    if (!out)
        return give_up(o, MP_ERR_INVALID_ARGUMENT);
    *out = NULL;
    if (o->version > MP_CLIENT_OPTIONS_VERSION)
        return give_up(o, invalid(diag, "version",
                                  "is newer than this library's mp_client_options"));
    const char *key = o->api_key ? o->api_key : getenv("MPARTICLE_API_KEY");
    const char *secret = o->api_secret ? o->api_secret : getenv("MPARTICLE_API_SECRET");
    mp_error err = check_options(o, key, secret, diag);
    if (err)
        return give_up(o, err);

    mp_client *c = mp__calloc(1, sizeof *c);
    if (!c)
        return give_up(o, MP_ERR_NOMEM);
    if (pthread_mutex_init(&c->lock, NULL) != 0) {
        mp__free(c);
        return give_up(o, MP_ERR_NOMEM);
    }
    if (o->transport)
        c->transport = *o->transport;
    c->connect_timeout_ms = or_default(o->connect_timeout_ms, DEFAULT_CONNECT_TIMEOUT_MS);
    c->timeout_ms = or_default(o->timeout_ms, DEFAULT_TIMEOUT_MS);
    c->policy.max_attempts = o->max_attempts > 0 ? o->max_attempts : DEFAULT_MAX_ATTEMPTS;
    c->policy.backoff_initial_ms = or_default(o->backoff_initial_ms, DEFAULT_BACKOFF_INITIAL_MS);
    c->policy.backoff_max_ms = or_default(o->backoff_max_ms, DEFAULT_BACKOFF_MAX_MS);
    c->policy.retry_after_max_ms = or_default(o->retry_after_max_ms, DEFAULT_RETRY_AFTER_MAX_MS);
    c->retry_total_ms = or_default(o->retry_total_ms, DEFAULT_RETRY_TOTAL_MS);
    c->skip_validation = o->skip_validation;
    mp__gate_init(&c->gate);
    if (mp__random_bytes(&c->rng, sizeof c->rng) != 0 || c->rng == 0)
        c->rng = (uint64_t)mp__monotonic_ms() | 1;

    /* base_url > MPARTICLE_BASE_URL > pod > the key's prefix > US1. */
    const char *base = o->base_url;
    if (!base) {
        const char *env = getenv("MPARTICLE_BASE_URL");
        if (env && *env)
            base = env;
    }
    if (!base)
        base = pod_url(o->pod == MP_POD_AUTO ? pod_from_key(key) : o->pod);
    err = set_endpoints(c, base, diag);
    if (!err)
        err = set_headers(c, key, secret, o, diag);
    if (!err && !o->transport) {
        err = mp_curl_transport_new(o->curl, &c->transport);
        if (err)
            invalid(diag, "transport", "the libcurl transport could not be created");
    }
    if (err) {
        mp_client_free(c);
        return err;
    }
    *out = c;
    return MP_OK;
}

void mp_client_free(mp_client *c) {
    if (!c)
        return;
    if (c->transport.destroy)
        c->transport.destroy(c->transport.user_data);
    for (size_t i = 0; i < c->header_storage_count; i++)
        mp__free(c->header_storage[i]);
    mp__free(c->header_storage);
    mp__free(c->headers);
    for (int i = 0; i < 3; i++)
        mp__free(c->urls[i]);
    mp__free(c->base_url);
    pthread_mutex_destroy(&c->lock);
    mp__free(c);
}

const char *mp_client_base_url(const mp_client *c) {
    return c ? c->base_url : NULL;
}

/*
 * mparticle send: which certificates to trust, as curl's own tool decides.
 *
 * --cacert FILE wins; without it CURL_CA_BUNDLE, then SSL_CERT_FILE name
 * the CA bundle (curl(1) reads the same variables; SSL_CERT_DIR, a
 * directory, has no counterpart in mp_curl_options and is left to the TLS
 * library, which reads it itself). --insecure turns verification off, by
 * name and with a warning, for a test server with a self-signed
 * certificate: never for mParticle, since anyone on the path could then
 * read the API secret.
 *
 * Copyright 2026 The libmparticle authors. Licensed under the Apache License 2.0.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd_send.h"
#include "cmd_send_tls.h"

/* The CA bundle to use: the option, else the environment, else NULL (the system's). */
static const char *ca_bundle(const char *cacert, const char **source) {
    static const char *const vars[] = {"CURL_CA_BUNDLE", "SSL_CERT_FILE"};
    *source = "--cacert";
    if (cacert)
        return cacert;
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v) {
            *source = vars[i];
            return v;
        }
    }
    return NULL;
}

int send_tls_options(const char *cacert, int insecure, mp_curl_options *out) {
    memset(out, 0, sizeof *out);
    const char *source;
    const char *bundle = ca_bundle(cacert, &source);
    /* Said now, not as a TLS failure on every batch. */
    if (bundle && access(bundle, R_OK) != 0) {
        cli_error(SEND_CMD, "%s %s: %s", source, bundle, strerror(errno));
        return -1;
    }
    out->ca_bundle = bundle;
    if (insecure) {
        out->insecure_disable_tls_verification = 1;
        cli_error(SEND_CMD, "warning: --insecure: the server's TLS certificate is not verified; "
                            "anyone on the network path can read or change what is sent, the "
                            "API secret included. Use it for a local test server only");
    }
    return 0;
}

/* mparticle send: TLS trust from --cacert, --insecure and the environment
 * (cmd_send_tls.c). */
#ifndef MP_TOOLS_CMD_SEND_TLS_H
#define MP_TOOLS_CMD_SEND_TLS_H

#include <mparticle.h>

/*
 * Fills *out for mp_client_options.curl: the CA bundle from `cacert`, else
 * CURL_CA_BUNDLE, else SSL_CERT_FILE (as curl's tool reads them), and
 * verification off with `insecure` (a warning is printed). Returns 0, or -1
 * after printing why (a bundle that cannot be read). The strings stay the
 * caller's and the environment's.
 */
int send_tls_options(const char *cacert, int insecure, mp_curl_options *out);

#endif

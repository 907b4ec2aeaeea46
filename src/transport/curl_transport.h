/*
 * The libcurl transport's insides, for its unit tests: the response
 * callbacks (so header parsing can be tested line by line, including
 * responses a test server cannot produce), the SIGPIPE guard and a view of
 * the handle pool.
 */
#ifndef MP_TRANSPORT_CURL_TRANSPORT_H
#define MP_TRANSPORT_CURL_TRANSPORT_H

#include <signal.h>
#include <stddef.h>

#include "mparticle/transport.h"

/* What the callbacks of one exchange share. */
typedef struct mp__curl_exchange {
    mp_http_response *resp;
    int seen_status; /* a status line arrived: the next one starts a new response */
    int in_body;     /* body bytes arrived: header lines from now on are trailers */
    int nomem;       /* storing the response failed: the transfer was aborted */
} mp__curl_exchange;

/*
 * CURLOPT_HEADERFUNCTION: one whole header line per call ("Name: value\r\n",
 * a status line, or the blank line ending a header block). userdata is an
 * mp__curl_exchange. Returns size * nitems, or 0 to abort when out of memory.
 */
size_t mp__curl_on_header(char *data, size_t size, size_t nitems, void *userdata);

/* CURLOPT_WRITEFUNCTION: appends body bytes. Same contract as above. */
size_t mp__curl_on_body(char *data, size_t size, size_t nitems, void *userdata);

/*
 * Keeps a SIGPIPE raised by a write to a closed socket inside libcurl (its
 * TLS backends can raise one even with CURLOPT_NOSIGNAL) from killing the
 * process, without touching the process-wide disposition, which belongs to
 * the application: block it in this thread, and afterwards consume one that
 * became pending meanwhile. The technique of libpq's pq_block_sigpipe().
 */
typedef struct mp__sigpipe_guard {
    sigset_t old_mask;
    int blocked;     /* pthread_sigmask succeeded */
    int was_pending; /* a SIGPIPE was already pending: not ours to consume */
} mp__sigpipe_guard;

void mp__sigpipe_block(mp__sigpipe_guard *g);
void mp__sigpipe_restore(mp__sigpipe_guard *g);

/* Number of easy handles waiting in the pool of a transport's user_data. */
size_t mp__curl_transport_idle(void *user_data);

#endif

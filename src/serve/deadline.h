/*
 * Total deadlines for reading a request. libmicrohttpd's connection
 * timeout counts idle time only, so a client that sends one byte a second
 * keeps a connection forever; enough of them fill the server. Every
 * connection is tracked here from accept to close with the phase it is in
 * and since when, and a sweeper thread shuts down the socket of any that
 * spent too long getting its headers or its body in. libmicrohttpd then
 * sees the connection end and closes it on its own thread.
 */
#ifndef MP_SERVE_DEADLINE_H
#define MP_SERVE_DEADLINE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

typedef enum mp__srv_phase {
    SRV_PHASE_HEADERS, /* waiting for a request's headers (also between keep-alive requests) */
    SRV_PHASE_BODY,    /* headers in, reading the body */
    SRV_PHASE_ANSWER,  /* being answered: no deadline (latency, the pipeline) */
    SRV_PHASE_CUT      /* shut down by the sweeper, waiting for libmicrohttpd to close it */
} mp__srv_phase;

typedef struct mp__srv_track {
    int fd;
    mp__srv_phase phase;
    uint64_t since_ns;
    struct mp__srv_track *prev, *next;
} mp__srv_track;

typedef struct mp__srv_deadlines {
    pthread_mutex_t lock; /* the list and every phase; held while a socket is shut down */
    pthread_cond_t wake;
    mp__srv_track list;       /* sentinel of a circular list */
    uint64_t header_ns, body_ns;
    _Atomic uint64_t cut; /* connections shut down for a deadline */
    int stopping, started;
    pthread_t thread;
} mp__srv_deadlines;

/* Starts the sweeper. 0, or -1 (nothing to undo). */
int mp__srv_deadlines_start(mp__srv_deadlines *dl, unsigned header_s, unsigned body_s);
/* Stops and joins the sweeper; the list must be empty or abandoned. */
void mp__srv_deadlines_stop(mp__srv_deadlines *dl);

/* A connection was accepted (fd): tracked from now, in the headers phase.
 * NULL when out of memory (the connection then has no deadline). */
mp__srv_track *mp__srv_track_start(mp__srv_deadlines *dl, int fd);
/* The connection is closing: libmicrohttpd calls this before it closes
 * the socket, so the sweeper never shuts down a descriptor reused since. */
void mp__srv_track_end(mp__srv_deadlines *dl, mp__srv_track *t);
/* Enters a phase, starting its clock. NULL t is ignored. */
void mp__srv_track_enter(mp__srv_deadlines *dl, mp__srv_track *t, mp__srv_phase phase);

/* One pass of the sweeper at time now_ns (the thread calls it; tests too):
 * shuts down every connection past its phase's deadline. Returns how many. */
unsigned mp__srv_deadlines_sweep(mp__srv_deadlines *dl, uint64_t now_ns);

#endif

/*
 * mparticle send: what its parts share. cmd_send.c runs the command;
 * cmd_send_dest.c checks the destination and the credentials,
 * cmd_send_report.c counts outcomes and writes the report,
 * cmd_send_progress.c shows progress. (The build compiles every cmd_*.c.)
 *
 * Copyright 2026 The libmparticle authors. Licensed under the Apache License 2.0.
 */
#ifndef MP_CLI_SEND_H
#define MP_CLI_SEND_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include "cli.h"

#define SEND_CMD "send"

/* Monotonic milliseconds. */
int64_t send_now_ms(void);

/* ------------------------------------------------------------------------ */
/* Destination and credentials (cmd_send_dest.c)                            */
/* ------------------------------------------------------------------------ */

/*
 * The --url as it may be shown. A URL can carry a password (user-info) or a
 * token (query string); neither may reach a terminal, a CI log or a report,
 * so everything printed goes through display or send_dest_redact().
 */
typedef struct send_dest {
    char *display;  /* the URL without user-info; never NULL once parsed */
    char *userinfo; /* "user:password" as given, or NULL */
    int ends_in_v2; /* the path ends in /v2 (or /v2/) */
} send_dest;

/*
 * Parses url (NULL: the pod's base URL, which carries no secret). Refuses
 * a query string or fragment and a scheme other than http(s), with a
 * message that does not repeat the refused part. Returns 0, or -1 after
 * printing why (CLI_EXIT_ERROR follows).
 */
int send_dest_parse(send_dest *d, const char *url);
/* Sets display to a copy of the client's base URL (when --url was not given). */
int send_dest_set_base(send_dest *d, const char *base_url);
void send_dest_free(send_dest *d);
/* Copies msg to out (cap bytes) with the URL's user-info cut out. */
void send_dest_redact(const send_dest *d, const char *msg, char *out, size_t cap);

/*
 * Reads the secret from path: the whole file minus one trailing newline
 * (LF or CRLF). Warns when others may read the file. Returns a malloc'd
 * string, or NULL after printing why.
 */
char *send_read_secret_file(const char *path);

/* ------------------------------------------------------------------------ */
/* Outcomes and the report (cmd_send_report.c)                              */
/* ------------------------------------------------------------------------ */

/* What became of one input batch: the `outcome` of the report. */
typedef enum send_outcome {
    SEND_ACCEPTED,    /* the API answered 2xx */
    SEND_REJECTED,    /* the API refused it for good (4xx) */
    SEND_INVALID,     /* it failed decoding or validation: never sent */
    SEND_UNDELIVERED, /* sent, but no answer said accepted: may or may not have arrived */
    SEND_NOT_SENT,    /* read but never sent: the run was stopped (or it expired waiting) */
    SEND_OUTCOMES
} send_outcome;

const char *send_outcome_name(send_outcome o);

/* One line of the report. */
typedef struct send_line {
    const char *input;             /* file name as given, or <stdin> */
    long batch;                    /* 0-based index in its input (written 1-based) */
    long line;                     /* 1-based line where it starts; 0 = not known */
    const char *source_request_id; /* "" when it has none */
    send_outcome outcome;
    int status;   /* HTTP status of the last attempt, or 0 */
    int attempts; /* requests that carried it */
    const char *error; /* "" when accepted */
    size_t bytes;      /* its encoded size, for the progress line; 0 if not known */
} send_line;

/* Counters, the report file, and problem lines waiting for standard output. */
typedef struct send_tally {
    pthread_mutex_t lock;
    FILE *report;      /* NULL without --report */
    int report_errno;  /* the first write error, or 0 */
    mp_buffer *json;   /* scratch for one report line */
    mp_buffer *spool;  /* problem lines from the uploader's threads */
    mp_buffer *spare;  /* the other spool buffer, swapped in by the drain */
    uint64_t outcomes[SEND_OUTCOMES];
    uint64_t events;     /* events of the batches read */
    uint64_t bytes_done; /* encoded bytes of the batches reported */
    uint64_t requests;   /* HTTP requests, as the uploader counted them last */
} send_tally;

/* A copy of the counters. */
typedef struct send_counts {
    uint64_t outcomes[SEND_OUTCOMES];
    uint64_t batches; /* the sum of outcomes: batches with a final word */
    uint64_t events, bytes_done, requests;
} send_counts;

/* Opens the report (report_path NULL: none). 0, or an errno value. */
int send_tally_init(send_tally *t, const char *report_path);
/*
 * Counts one outcome, writes its report line, and queues stdout_line (a
 * complete line, or NULL) for send_tally_drain(). Any thread.
 */
void send_tally_add(send_tally *t, const send_line *l, const char *stdout_line);
/* Counts events of a batch that was read. */
void send_tally_add_events(send_tally *t, uint64_t events);
/* Records the uploader's request count (it only grows). */
void send_tally_set_requests(send_tally *t, uint64_t requests);
void send_tally_get(send_tally *t, send_counts *c);
/*
 * Writes the queued problem lines to out. Only the main thread writes to
 * standard output, so the uploader's lines never split the checker's.
 */
void send_tally_drain(send_tally *t, FILE *out);
/* Flushes and closes the report; frees. Returns 0 or the first write error. */
int send_tally_finish(send_tally *t);

/* ------------------------------------------------------------------------ */
/* Progress (cmd_send_progress.c)                                           */
/* ------------------------------------------------------------------------ */

typedef struct send_progress {
    send_tally *tally;
    int tty;              /* 1: a \r line every 0.5 s; 0: a line every second */
    uint64_t total_bytes; /* bytes of the inputs, 0 when not known (a pipe) */
    int64_t start_ms;
    pthread_t thread;
    atomic_int done;
    int running;
} send_progress;

/* Starts the thread that shows progress on standard error. 0 or -1. */
int send_progress_start(send_progress *p);
/* Stops it and, on a terminal, clears the line. */
void send_progress_stop(send_progress *p);

/* ------------------------------------------------------------------------ */
/* Resuming with --spool (cmd_send_resume.c)                                */
/* ------------------------------------------------------------------------ */

/* One input file and how many of its batches were handed to the uploader. */
typedef struct send_resume_entry {
    uint64_t dev, ino, size;
    int64_t mtime_ns;
    long done;
} send_resume_entry;

typedef struct send_resume {
    char path[4096];          /* DIR/send-resume */
    send_resume_entry *entries;
    size_t count, cap;
    long current;             /* the entry of the input being read, or -1 */
    int unsaved;              /* batches counted since the last save */
} send_resume;

/* Reads DIR/send-resume (a missing file is an empty one). 0 or an errno. */
int send_resume_load(send_resume *r, const char *dir);
/* Starts an input: returns how many of its first batches an earlier run
 * handed over (0 for a pipe, a new file, or a changed one). */
long send_resume_begin(send_resume *r, const char *input);
/* Batch `index` of the current input was handed over (or settled as
 * invalid); saves every few hundred. 0 or an errno. */
int send_resume_done(send_resume *r, long index);
/* Writes the file (temporary file, then rename). 0 or an errno. */
int send_resume_save(send_resume *r);
void send_resume_free(send_resume *r);

#endif /* MP_CLI_SEND_H */

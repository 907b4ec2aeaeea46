/*
 * Decode, validate, report: the walk that validate and normalize share.
 *
 * Inputs are read in chunks through the streaming decoder and each batch
 * is handled as soon as it is decoded, so memory follows the largest
 * batch, not the input, and output (normalize) starts before the input
 * ends. Problems are printed grouped by batch (the decoder's problems for
 * a batch, then validation's) so that everything wrong with one batch is
 * together.
 *
 * Copyright 2026 The libmparticle authors. Licensed under the Apache License 2.0.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/*
 * At most this many problems are kept per input (and per batch for
 * validation). A 24 MB file of bad lines must not turn into gigabytes of
 * problem records; what is past the cap is counted and the count printed.
 */
#define CLI_MAX_PROBLEMS 100000

/* Writes s with control characters escaped, so a problem stays one line
 * even when a key or a file name holds a newline. */
static void put_escaped(FILE *out, const char *s) {
    while (*s) {
        size_t run = 0;
        while (s[run] && (unsigned char)s[run] >= 0x20 && (unsigned char)s[run] != 0x7f)
            run++;
        fwrite(s, 1, run, out);
        s += run;
        if (!*s)
            break;
        unsigned char c = (unsigned char)*s++;
        switch (c) {
        case '\n':
            fputs("\\n", out);
            break;
        case '\r':
            fputs("\\r", out);
            break;
        case '\t':
            fputs("\\t", out);
            break;
        default:
            fprintf(out, "\\x%02x", c);
            break;
        }
    }
}

void cli_print_problem(FILE *out, const char *file, const mp_problem *p) {
    put_escaped(out, file);
    if (p->batch >= 0)
        fprintf(out, ":%ld: ", p->batch);
    else
        fputs(":-: ", out);
    if (p->path[0])
        put_escaped(out, p->path);
    else if (p->line > 0)
        fprintf(out, "%d:%d", p->line, p->column);
    else
        fputs(p->batch >= 0 ? "(batch)" : "(input)", out);
    fputs(p->severity == MP_SEVERITY_WARNING ? ": warning: " : ": ", out);
    put_escaped(out, p->message);
    fputc('\n', out);
}

static void print_one(cli_checker *ck, const mp_problem *p) {
    if (ck->quiet && p->severity == MP_SEVERITY_WARNING)
        return;
    cli_print_problem(ck->problems, ck->file, p);
}

static void note_dropped(cli_checker *ck, const mp_diag *diag) {
    size_t dropped = mp_diag_dropped(diag);
    if (dropped)
        cli_error(ck->command, "%s: %zu more problems were not shown (at most %d are kept)",
                  ck->file, dropped, CLI_MAX_PROBLEMS);
}

void cli_report_batch(cli_checker *ck, const mp_diag *diag, long index) {
    for (size_t i = 0; i < mp_diag_count(diag); i++) {
        mp_problem p = *mp_diag_get(diag, i);
        p.batch = index;
        print_one(ck, &p);
    }
    note_dropped(ck, diag);
}

/* ------------------------------------------------------------------------ */
/* One input, a batch at a time                                             */
/* ------------------------------------------------------------------------ */

static int worse(int a, int b) {
    return a > b ? a : b;
}

static int stopped(cli_checker *ck) {
    return ck->stop && ck->stop(ck->ctx);
}

/* The first error of problems [from, count) of diag, or NULL. */
static const mp_problem *first_error(const mp_diag *diag, size_t from, size_t count) {
    for (size_t i = from; i < count; i++)
        if (mp_diag_get(diag, i)->severity == MP_SEVERITY_ERROR)
            return mp_diag_get(diag, i);
    return NULL;
}

/* Tells on_invalid (when set) about a batch with an error. */
static int invalid(cli_checker *ck, const mp_batch *batch, long i, const mp_problem *err) {
    int rc = ck->on_invalid ? ck->on_invalid(ck, batch, i, err, ck->ctx) : CLI_EXIT_OK;
    return worse(rc, CLI_EXIT_INVALID);
}

/* Validates batch i (when asked) and hands it to on_batch if it has no error. */
static int check_batch(cli_checker *ck, const mp_batch *batch, long i) {
    if (ck->validate) {
        mp_diag_clear(ck->scratch);
        mp_error err = mp_validate_batch(batch, ck->validate, i, ck->scratch);
        cli_report_batch(ck, ck->scratch, i);
        if (err == MP_ERR_NOMEM) {
            cli_error(ck->command, "%s: %s", ck->file, mp_strerror(err));
            return CLI_EXIT_ERROR;
        }
        if (err != MP_OK)
            return invalid(ck, batch, i, first_error(ck->scratch, 0, mp_diag_count(ck->scratch)));
    }
    return ck->on_batch ? ck->on_batch(ck, batch, i, ck->ctx) : CLI_EXIT_OK;
}

/* What one input's walk keeps: the decoder, the problems of the batch
 * being handed out, and counts for the end. */
typedef struct walk {
    cli_checker *ck;
    mp_decoder *dec;
    mp_diag *diag;  /* the decoder's problems since the last batch */
    size_t shown;   /* decoder problems printed for this input */
    size_t dropped; /* decoder problems past CLI_MAX_PROBLEMS */
    size_t errors;  /* decoder errors, printed or not */
    int rc;
} walk;

/* Prints the decoder's problems gathered since the last call (the
 * library's order: a batch's problems come with the batch), keeping at
 * most CLI_MAX_PROBLEMS per input. */
static void print_decoder_problems(walk *w) {
    size_t n = mp_diag_count(w->diag);
    w->errors += mp_diag_error_count(w->diag);
    w->dropped += mp_diag_dropped(w->diag);
    for (size_t i = 0; i < n; i++) {
        if (w->shown >= CLI_MAX_PROBLEMS) {
            w->dropped += n - i;
            break;
        }
        const mp_problem *p = mp_diag_get(w->diag, i);
        if (!(w->ck->quiet && p->severity == MP_SEVERITY_WARNING))
            w->shown++;
        print_one(w->ck, p);
    }
}

/* One decoded batch: its problems, then validation and the callbacks. */
static void handle_batch(walk *w, const mp_decoded_batch *b) {
    cli_checker *ck = w->ck;
    print_decoder_problems(w);
    ck->line = b->line;
    if (!b->ok)
        w->rc = worse(w->rc, invalid(ck, b->batch, b->index,
                                     first_error(w->diag, 0, mp_diag_count(w->diag))));
    else
        w->rc = worse(w->rc, check_batch(ck, b->batch, b->index));
    mp_diag_clear(w->diag);
}

/* Hands out every batch the bytes so far hold. 1 to read on, 0 at the end
 * of the input (or when told to stop), -1 when out of memory. */
static int drain(walk *w) {
    mp_decoded_batch b;
    mp_decode_status st = MP_DECODE_NEED_INPUT;
    while (w->rc != CLI_EXIT_ERROR && !stopped(w->ck) &&
           (st = mp_decoder_next(w->dec, &b, w->diag)) == MP_DECODE_BATCH)
        handle_batch(w, &b);
    if (w->rc == CLI_EXIT_ERROR || stopped(w->ck))
        return 0;
    /* Problems of the input as a whole, found after its last batch. */
    print_decoder_problems(w);
    mp_diag_clear(w->diag);
    if (st == MP_DECODE_ERROR)
        return -1;
    return st == MP_DECODE_NEED_INPUT;
}

/* Reads the input in chunks and decodes as it goes. */
static void read_input(walk *w, const cli_input *in, char *chunk) {
    cli_checker *ck = w->ck;
    for (;;) {
        if (ck->before_read) {
            w->rc = worse(w->rc, ck->before_read(ck, ck->ctx));
            if (w->rc == CLI_EXIT_ERROR)
                return;
        }
        long n = cli_input_read(in, chunk, CLI_READ_CHUNK);
        if (n < 0 && errno == EINTR) {
            if (stopped(ck))
                return;
            continue;
        }
        if (n < 0) {
            cli_error(ck->command, "%s: %s", in->name, strerror(errno));
            w->rc = CLI_EXIT_ERROR;
            return;
        }
        mp_error err = MP_OK;
        if (n == 0)
            mp_decoder_finish(w->dec);
        else
            err = mp_decoder_feed(w->dec, chunk, (size_t)n);
        int more = err == MP_OK ? drain(w) : -1;
        if (more < 0) {
            cli_error(ck->command, "%s: %s", in->name, mp_strerror(MP_ERR_NOMEM));
            w->rc = CLI_EXIT_ERROR;
        }
        if (more <= 0)
            return;
    }
}

int cli_check_input(cli_checker *ck, const cli_input *in) {
    ck->file = in->name;
    mp_diag_set_max(ck->scratch, CLI_MAX_PROBLEMS);
    walk w = {ck, NULL, mp_diag_new(), 0, 0, 0, CLI_EXIT_OK};
    char *chunk = malloc(CLI_READ_CHUNK);
    if (!w.diag || !chunk || mp_decoder_new(&w.dec) != MP_OK) {
        cli_error(ck->command, "%s: %s", in->name, mp_strerror(MP_ERR_NOMEM));
        mp_diag_free(w.diag);
        free(chunk);
        return CLI_EXIT_ERROR;
    }
    mp_diag_set_max(w.diag, CLI_MAX_PROBLEMS);
    /* --quiet: warnings are not wanted, so not even described. */
    mp_diag_keep_warnings(w.diag, !ck->quiet);
    mp_diag_keep_warnings(ck->scratch, !ck->quiet);
    mp_decoder_set_max_record(w.dec, CLI_MAX_RECORD);

    read_input(&w, in, chunk);
    int rc = w.rc;
    mp_error err = mp_decoder_error(w.dec);
    if (rc != CLI_EXIT_ERROR && !stopped(ck)) {
        if (ck->on_input_done)
            rc = worse(rc, ck->on_input_done(ck, ck->ctx));
        if (err != MP_OK || w.errors > 0) {
            rc = worse(rc, CLI_EXIT_INVALID);
            /* The decoder promises a problem for every failure; if it ever
             * fails without one, say so rather than exit 1 in silence. */
            if (w.errors == 0) {
                mp_problem p = {MP_SEVERITY_ERROR, err, -1, "", mp_strerror(err), 0, 0};
                cli_print_problem(ck->problems, ck->file, &p);
            }
        }
    }
    if (w.dropped)
        cli_error(ck->command, "%s: %zu more problems were not shown (at most %d are kept)",
                  ck->file, w.dropped, CLI_MAX_PROBLEMS);

    mp_decoder_free(w.dec);
    mp_diag_free(w.diag);
    free(chunk);
    return rc;
}

static int check_one(const cli_input *in, void *checker) {
    if (stopped(checker))
        return CLI_EXIT_OK;
    return cli_check_input(checker, in);
}

int cli_check_inputs(cli_checker *ck, const cli_args *files) {
    return cli_for_each_input(ck->command, files, check_one, ck);
}

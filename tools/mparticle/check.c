/*
 * Decode, validate, report: the walk that validate and normalize share.
 *
 * Problems are printed grouped by batch (the decoder's problems for a batch,
 * then validation's) so that everything wrong with one batch is together,
 * whatever order the library reported it in.
 *
 * Copyright 2026 The libmparticle authors. Licensed under the Apache License 2.0.
 */
#include <limits.h>
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
/* The decoder's problems, in batch order                                   */
/* ------------------------------------------------------------------------ */

typedef struct problem_ref {
    long batch;
    size_t index; /* in the diag: ties keep the library's order */
} problem_ref;

static int compare_refs(const void *a, const void *b) {
    const problem_ref *x = a, *y = b;
    if (x->batch != y->batch)
        return x->batch < y->batch ? -1 : 1;
    return x->index < y->index ? -1 : (x->index > y->index);
}

/* References to the count (> 0) problems of diag, sorted by batch (those
 * of no batch first) and stable. NULL when out of memory. */
static problem_ref *sort_by_batch(const mp_diag *diag, size_t count) {
    problem_ref *refs = malloc(count * sizeof *refs);
    if (!refs)
        return NULL;
    for (size_t i = 0; i < count; i++) {
        refs[i].batch = mp_diag_get(diag, i)->batch;
        refs[i].index = i;
    }
    qsort(refs, count, sizeof *refs, compare_refs);
    return refs;
}

typedef struct pending {
    const mp_diag *diag;
    const problem_ref *refs;
    size_t count;
    size_t next;
} pending;

/* Prints the pending problems whose batch is <= upto. */
static void print_upto(cli_checker *ck, pending *pd, long upto) {
    while (pd->next < pd->count && pd->refs[pd->next].batch <= upto) {
        print_one(ck, mp_diag_get(pd->diag, pd->refs[pd->next].index));
        pd->next++;
    }
}

/* ------------------------------------------------------------------------ */
/* One input                                                                */
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

/* Walks the batches of a decoded document, interleaving the decoder's problems. */
static int walk_document(cli_checker *ck, const mp_document *doc, pending *pd) {
    int rc = CLI_EXIT_OK;
    size_t n = mp_document_count(doc);
    print_upto(ck, pd, -1);
    for (size_t i = 0; i < n && rc != CLI_EXIT_ERROR && !stopped(ck); i++) {
        size_t from = pd->next; /* the problems of batch i are printed next */
        print_upto(ck, pd, (long)i);
        ck->line = mp_document_batch_line(doc, i);
        if (!mp_document_batch_ok(doc, i)) {
            const mp_problem *err = NULL;
            for (size_t k = from; k < pd->next && !err; k++)
                err = first_error(pd->diag, pd->refs[k].index, pd->refs[k].index + 1);
            rc = worse(rc, invalid(ck, mp_document_batch(doc, i), (long)i, err));
        } else
            rc = worse(rc, check_batch(ck, mp_document_batch(doc, i), (long)i));
    }
    print_upto(ck, pd, LONG_MAX);
    return rc;
}

int cli_check_input(cli_checker *ck, const cli_input *in) {
    ck->file = in->name;
    mp_diag *diag = mp_diag_new();
    if (!diag) {
        cli_error(ck->command, "%s: %s", in->name, mp_strerror(MP_ERR_NOMEM));
        return CLI_EXIT_ERROR;
    }
    mp_diag_set_max(diag, CLI_MAX_PROBLEMS);
    mp_diag_set_max(ck->scratch, CLI_MAX_PROBLEMS);

    mp_document *doc = NULL;
    mp_error err = mp_decode(in->data, in->len, &doc, diag);
    if (!doc) {
        /* Only MP_ERR_NOMEM and MP_ERR_INVALID_ARGUMENT return no document. */
        cli_error(ck->command, "%s: %s", in->name, mp_strerror(err));
        mp_diag_free(diag);
        return CLI_EXIT_ERROR;
    }

    pending pd = {diag, NULL, mp_diag_count(diag), 0};
    problem_ref *refs = NULL;
    if (pd.count > 0) {
        refs = sort_by_batch(diag, pd.count);
        if (!refs) {
            cli_error(ck->command, "%s: %s", in->name, mp_strerror(MP_ERR_NOMEM));
            mp_document_free(doc);
            mp_diag_free(diag);
            return CLI_EXIT_ERROR;
        }
        pd.refs = refs;
    }

    int rc = walk_document(ck, doc, &pd);
    if (ck->on_input_done && rc != CLI_EXIT_ERROR)
        rc = worse(rc, ck->on_input_done(ck, ck->ctx));
    if (err != MP_OK || mp_diag_error_count(diag) > 0) {
        rc = worse(rc, CLI_EXIT_INVALID);
        /* The decoder promises a problem for every failure; if it ever
         * fails without one, say so rather than exit 1 in silence. */
        if (mp_diag_error_count(diag) == 0) {
            mp_problem p = {MP_SEVERITY_ERROR, err, -1, "", mp_strerror(err), 0, 0};
            cli_print_problem(ck->problems, ck->file, &p);
        }
    }
    note_dropped(ck, diag);

    free(refs);
    mp_document_free(doc);
    mp_diag_free(diag);
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

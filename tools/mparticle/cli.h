/*
 * The mparticle command line: what its commands share.
 *
 * The CLI is built on the library's public API only (<mparticle.h>), like
 * libgit2's CLI: if a command needs something the API does not offer, that
 * is a gap in the API, not a reason to reach into src/.
 *
 * Copyright 2026 The libmparticle authors. Licensed under the Apache License 2.0.
 */
#ifndef MP_CLI_H
#define MP_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <mparticle.h>

#define CLI_PROGRAM "mparticle"

/*
 * Exit codes, the same for every command (docs/cli.md). When several inputs
 * are processed, the command exits with the largest code any of them gave,
 * so one unreadable file among invalid ones still says "trouble".
 */
typedef enum cli_exit {
    CLI_EXIT_OK = 0,      /* the job is done and every input was valid (warnings allowed) */
    CLI_EXIT_INVALID = 1, /* some input is invalid; every problem was printed */
    CLI_EXIT_ERROR = 2    /* the job could not be done: bad usage, an unreadable file, no memory */
} cli_exit;

/* ------------------------------------------------------------------------ */
/* Commands                                                                 */
/* ------------------------------------------------------------------------ */

/*
 * A command is a main()-like function: argv[0] is the command's name and
 * the rest are its arguments. It returns a cli_exit.
 */
typedef int (*cli_command_fn)(int argc, char **argv);

typedef struct cli_command {
    const char *name;    /* what the user types: "validate" */
    cli_command_fn fn;
    const char *summary; /* one line for `mparticle --help` */
} cli_command;

/* Finds a command by name in the table of main.c; NULL if there is none. */
const cli_command *cli_command_find(const char *name);

/* Prints the program's usage and the list of commands (main.c). */
void cli_print_usage(FILE *out);

/* ------------------------------------------------------------------------ */
/* Options: one table per command drives both parsing and --help            */
/* ------------------------------------------------------------------------ */

typedef enum cli_opt_kind {
    CLI_OPT_FLAG,   /* --name: sets *(int *)value to 1 */
    CLI_OPT_STRING, /* --name VALUE or --name=VALUE: *(const char **)value, borrowed from argv */
    CLI_OPT_INT64,  /* --name N or --name=N: *(int64_t *)value, a decimal integer */
    CLI_OPT_ARGS    /* the operands (non-option arguments): *(cli_args *)value */
} cli_opt_kind;

/* The operands, in order. items points into argv (which the parser reorders). */
typedef struct cli_args {
    char **items;
    size_t count;
} cli_args;

typedef struct cli_opt {
    cli_opt_kind kind;
    /* Long name without "--". For CLI_OPT_ARGS: the operands as the usage
     * line shows them, e.g. "[FILE...]". */
    const char *name;
    /* Short name (-q), or 0 for none. */
    char short_name;
    /* Placeholder for the value in --help ("MS"); NULL for flags. For
     * CLI_OPT_ARGS: the name the option list uses for one operand ("FILE"). */
    const char *value_name;
    /* Where the parsed value goes; its type depends on kind (see above). */
    void *value;
    /* One line for the option list of --help. */
    const char *help;
} cli_opt;

/* Everything --help says about a command. */
typedef struct cli_spec {
    const char *command;     /* "validate" */
    const char *description; /* paragraphs printed after the usage line; may be NULL */
    const cli_opt *opts;     /* at most one CLI_OPT_ARGS entry */
    size_t nopts;
} cli_spec;

/* cli_parse()'s "go on with the command" result: not an exit code. */
#define CLI_PARSED (-1)

/*
 * Parses argv[1..argc) against spec and stores each value. Options and
 * operands may be mixed; "--" ends the options; a lone "-" is an operand.
 * Every command also takes -h/--help.
 *
 * Returns CLI_PARSED when the command should run, or the exit code to return
 * at once: CLI_EXIT_OK after printing --help on stdout, CLI_EXIT_ERROR after
 * printing a usage error on stderr. A command without a CLI_OPT_ARGS entry
 * rejects operands.
 */
int cli_parse(const cli_spec *spec, int argc, char **argv);

/* Prints the usage line, description and option list of spec to out. */
void cli_print_help(const cli_spec *spec, FILE *out);

/* Prints "mparticle CMD: MESSAGE\n" on stderr. */
void cli_error(const char *command, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* ------------------------------------------------------------------------ */
/* Inputs                                                                   */
/* ------------------------------------------------------------------------ */

/* What the problem lines call standard input. */
#define CLI_STDIN_NAME "<stdin>"

/* How much of an input is read at a time: inputs are never held whole. */
#define CLI_READ_CHUNK (64 * 1024)
/* The largest record (one batch's text) the commands hold in memory. No
 * batch over 128 KB can be valid (docs/api-notes.md §2.1), so 1 MiB leaves room for
 * pretty-printed input while keeping memory bounded for any input, a
 * 1 GB line, /dev/zero or `yes |` included: such a record is reported with
 * its line and skipped. */
#define CLI_MAX_RECORD (1024 * 1024)

/* An input opened for reading in chunks (cli_input_read()). */
typedef struct cli_input {
    const char *name; /* the path as given, or CLI_STDIN_NAME */
    int fd;
} cli_input;

/*
 * One read() of at most cap bytes: the count, 0 at the end of the input,
 * or -1 with errno set (EINTR included: the caller decides whether to go
 * on, e.g. after checking for Ctrl-C).
 */
long cli_input_read(const cli_input *in, char *buf, size_t cap);

/*
 * Called once per input by cli_for_each_input(); returns a cli_exit. The
 * input is closed after the call returns.
 */
typedef int (*cli_input_fn)(const cli_input *in, void *ctx);

/*
 * Opens each operand in turn ("-" is standard input; no operands at all
 * means standard input once) and calls fn on it. A file that cannot be
 * opened is reported on stderr ("mparticle CMD: NAME: strerror") and
 * counts as CLI_EXIT_ERROR; the remaining files are still processed, as
 * grep does. Returns the largest exit code of all inputs.
 */
int cli_for_each_input(const char *command, const cli_args *files, cli_input_fn fn, void *ctx);

/* ------------------------------------------------------------------------ */
/* Batches: decode, report, validate                                        */
/* ------------------------------------------------------------------------ */

struct cli_checker;

/* Called for each batch that passed every check asked for, as soon as it
 * is decoded; the batch is valid only during the call. Returns a cli_exit. */
typedef int (*cli_batch_fn)(struct cli_checker *ck, const mp_batch *batch, long index,
                            void *ctx);

/* Called once per input after its last batch, with no batch held; returns
 * a cli_exit. */
typedef int (*cli_input_done_fn)(struct cli_checker *ck, void *ctx);

/* Called before each read of the input, once every batch of the bytes read
 * so far was handed out: the moment to flush output, before the read may
 * block on a pipe. Returns a cli_exit. */
typedef int (*cli_before_read_fn)(struct cli_checker *ck, void *ctx);

/* Called for each batch with an error, after its problems were printed.
 * batch may be NULL (nothing of it decoded); first_error is its first error,
 * or NULL when none was recorded. Returns a cli_exit. */
typedef int (*cli_invalid_fn)(struct cli_checker *ck, const mp_batch *batch, long index,
                              const mp_problem *first_error, void *ctx);

/* Nonzero when reading should stop (send: Ctrl-C, a 401/403). */
typedef int (*cli_stop_fn)(void *ctx);

typedef struct cli_checker {
    const char *command;  /* for messages on stderr */
    FILE *problems;       /* where problem lines go (stdout for validate) */
    int quiet;            /* do not print warnings */
    /* Validation options, or NULL to stop after decoding. */
    const mp_validate_options *validate;
    cli_batch_fn on_batch; /* may be NULL */
    cli_input_done_fn on_input_done; /* may be NULL */
    cli_before_read_fn before_read;  /* may be NULL */
    void *ctx;
    /* Set by cli_check_input() for the input being processed. */
    const char *file;
    /* Scratch list, reused for every batch. */
    mp_diag *scratch;
    /* For send (cmd_send.c); all may be left 0. */
    cli_invalid_fn on_invalid; /* may be NULL */
    /* May be NULL. Checked before each batch and each input; the reader
     * also checks it between chunks and after a read() interrupted by a
     * signal, so that Ctrl-C ends reading from an idle pipe. Once it says
     * stop, no further batch is handed out and the remaining inputs are
     * skipped. */
    cli_stop_fn stop;
    /* Set before on_batch and on_invalid: the 1-based line of the input
     * where the batch starts. */
    long line;
} cli_checker;

/*
 * Reads `in` in chunks of CLI_READ_CHUNK bytes through the streaming
 * decoder (mp_decoder), so memory does not grow with the input. For each
 * batch as it is decoded: prints its decoding problems, validates it (when
 * ck->validate is set) and prints those problems, then calls ck->on_batch
 * if it has no error, or ck->on_invalid if it has. Problems are printed in
 * batch order, one line each (problems of the input as a whole where they
 * are found):
 *
 *     FILE:BATCH: WHERE: [warning: ]MESSAGE
 *
 * (see cli_print_problem()). Returns CLI_EXIT_OK, CLI_EXIT_INVALID if any
 * batch has an error, or CLI_EXIT_ERROR when the input cannot be read or
 * memory ran out (said on stderr).
 */
int cli_check_input(cli_checker *ck, const cli_input *in);

/* cli_check_input() on each of files, through cli_for_each_input(). */
int cli_check_inputs(cli_checker *ck, const cli_args *files);

/*
 * Prints every problem of diag (warnings only without ck->quiet) as a
 * problem of batch `index`, whatever batch the library recorded: for the
 * diag of one mp_validate_batch() or mp_encode_batch() call.
 */
void cli_report_batch(cli_checker *ck, const mp_diag *diag, long index);

/*
 * Prints one problem line. BATCH is the 0-based index of the batch in its
 * input, or "-" for a problem that belongs to no batch. WHERE is the JSON
 * path inside the batch; for a syntax error without a path, LINE:COLUMN in
 * the input; "(batch)" for the batch as a whole and "(input)" for the input
 * as a whole. Control characters are escaped so that a problem is always
 * exactly one line.
 */
void cli_print_problem(FILE *out, const char *file, const mp_problem *p);

#endif /* MP_CLI_H */

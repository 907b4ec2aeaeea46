/*
 * mparticle: the command line of libmparticle.
 *
 *     mparticle [--version] [--help] COMMAND [ARGS...]
 *
 * Each command is a main()-like function in its own cmd_NAME.c, listed in
 * commands.h. This file only finds the command and makes sure that what it
 * printed reached standard output.
 *
 * Copyright 2026 The libmparticle authors. Licensed under the Apache License 2.0.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"

#define CLI_COMMAND_ENTRY(name, summary) {#name, cmd_##name, summary},
static const cli_command commands[] = {CLI_COMMANDS(CLI_COMMAND_ENTRY)};
#undef CLI_COMMAND_ENTRY

const cli_command *cli_command_find(const char *name) {
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

void cli_print_usage(FILE *out) {
    fprintf(out, "usage: %s [--version] [--help] COMMAND [ARGS...]\n\nCommands:\n", CLI_PROGRAM);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "   %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nSee '%s help COMMAND' for the options of a command.\n", CLI_PROGRAM);
}

/*
 * Output that never reached its file is a failure even when the command
 * succeeded (a full disk, a closed pipe): check before exiting, as the
 * exit code is the only thing a script sees.
 */
static int finish(int rc) {
    if (fflush(stdout) != 0 || ferror(stdout)) {
        /* A command that already exits 2 has said why (normalize reports
         * its own write errors); one message is enough. */
        if (rc != CLI_EXIT_ERROR)
            cli_error(NULL, "cannot write to standard output: %s", strerror(errno));
        return CLI_EXIT_ERROR;
    }
    return rc;
}

int main(int argc, char **argv) {
    /* stderr is unbuffered by default, which turns each problem line of
     * normalize into half a dozen write()s; whole lines keep it one. */
    setvbuf(stderr, NULL, _IOLBF, BUFSIZ);
    if (argc < 2) {
        cli_print_usage(stderr);
        return CLI_EXIT_ERROR;
    }
    const char *first = argv[1];
    if (strcmp(first, "--help") == 0 || strcmp(first, "-h") == 0) {
        /* `mparticle --help validate` is `mparticle help validate`, as in git. */
        return finish(cmd_help(argc - 1, argv + 1));
    }
    if (strcmp(first, "--version") == 0) {
        if (argc > 2) {
            cli_error(NULL, "'--version' takes no arguments");
            return CLI_EXIT_ERROR;
        }
        printf("%s %s\n", CLI_PROGRAM, mp_version_string());
        return finish(CLI_EXIT_OK);
    }
    if (first[0] == '-') {
        cli_error(NULL, "unknown option '%s'", first);
        cli_print_usage(stderr);
        return CLI_EXIT_ERROR;
    }
    const cli_command *cmd = cli_command_find(first);
    if (!cmd) {
        cli_error(NULL, "'%s' is not a command; see '%s --help'", first, CLI_PROGRAM);
        return CLI_EXIT_ERROR;
    }
    return finish(cmd->fn(argc - 1, argv + 1));
}

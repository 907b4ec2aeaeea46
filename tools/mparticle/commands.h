/*
 * The commands of `mparticle`, in the order `mparticle --help` lists them.
 *
 * Adding a command takes one line here and one file, cmd_NAME.c, that
 * defines `int cmd_NAME(int argc, char **argv)` (see cli.h); the build picks
 * up every cmd_*.c by itself. The list is an X-macro so that this one line
 * both declares the function and puts it in main.c's command table.
 *
 * Copyright 2026 The libmparticle authors. Licensed under the Apache License 2.0.
 */
#ifndef MP_CLI_COMMANDS_H
#define MP_CLI_COMMANDS_H

/* X(name, one-line summary) */
#define CLI_COMMANDS(X)                                                                     \
    X(validate, "Check batches against the Events API's rules")                             \
    X(normalize, "Rewrite batches as compact JSON, one batch per line")                     \
    X(send, "Upload batches to the Events API")                                             \
    X(spool, "Show what a send or uploader spool holds, or deliver it")                     \
    X(serve, "Run a local server that behaves like the Events API")                         \
    X(help, "Show the help of a command")

#define CLI_DECLARE_COMMAND(name, summary) int cmd_##name(int argc, char **argv);
CLI_COMMANDS(CLI_DECLARE_COMMAND)
#undef CLI_DECLARE_COMMAND

#endif /* MP_CLI_COMMANDS_H */

/*
 * mparticle help [COMMAND]: a command's --help, or the list of commands.
 *
 * Copyright 2026 The libmparticle authors. Licensed under the Apache License 2.0.
 */
#include <stdio.h>

#include "cli.h"
#include "commands.h"

int cmd_help(int argc, char **argv) {
    cli_args topic = {0};
    const cli_opt opts[] = {
        {CLI_OPT_ARGS, "[COMMAND]", 0, "COMMAND", &topic,
         "the command to describe; without one, the commands are listed"},
    };
    const cli_spec spec = {"help", "Shows the options of COMMAND, or lists the commands.\n", opts,
                           sizeof opts / sizeof opts[0]};
    int rc = cli_parse(&spec, argc, argv);
    if (rc != CLI_PARSED)
        return rc;

    if (topic.count == 0) {
        cli_print_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (topic.count > 1) {
        cli_error("help", "one command at a time, not '%s' and '%s'", topic.items[0],
                  topic.items[1]);
        return CLI_EXIT_ERROR;
    }
    const cli_command *cmd = cli_command_find(topic.items[0]);
    if (!cmd) {
        cli_error("help", "'%s' is not a command; see '%s --help'", topic.items[0], CLI_PROGRAM);
        return CLI_EXIT_ERROR;
    }
    /* Every command prints its own help from its own option table. The
     * arrays are writable because a command may reorder its argv. */
    char help_flag[] = "--help";
    char *help_argv[] = {topic.items[0], help_flag, NULL};
    return cmd->fn(2, help_argv);
}

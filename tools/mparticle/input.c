/*
 * Opening inputs and reading them in chunks. The decoder streams, so an
 * input is never held whole: a 300 MB file costs what its largest batch
 * costs. read() rather than mmap(): a file truncated underneath us must
 * not become SIGBUS in a validation tool.
 *
 * Copyright 2026 The libmparticle authors. Licensed under the Apache License 2.0.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

long cli_input_read(const cli_input *in, char *buf, size_t cap) {
    return (long)read(in->fd, buf, cap);
}

/* Opens one input; "-" is standard input. Returns 0 or an errno value. */
static int open_input(const char *path, cli_input *in) {
    if (strcmp(path, "-") == 0) {
        in->name = CLI_STDIN_NAME;
        in->fd = STDIN_FILENO;
        return 0;
    }
    in->name = path;
    do
        in->fd = open(path, O_RDONLY | O_CLOEXEC);
    while (in->fd < 0 && errno == EINTR);
    return in->fd < 0 ? errno : 0;
}

int cli_for_each_input(const char *command, const cli_args *files, cli_input_fn fn, void *ctx) {
    static char *const stdin_only[] = {"-"};
    char *const *paths = files->count ? files->items : stdin_only;
    size_t count = files->count ? files->count : 1;
    int worst = CLI_EXIT_OK;

    for (size_t i = 0; i < count; i++) {
        cli_input in;
        int err = open_input(paths[i], &in);
        int rc;
        if (err) {
            cli_error(command, "%s: %s", in.name, strerror(err));
            rc = CLI_EXIT_ERROR;
        } else {
            rc = fn(&in, ctx);
            if (in.fd != STDIN_FILENO)
                close(in.fd);
        }
        if (rc > worst)
            worst = rc;
    }
    return worst;
}

/*
 * Reading inputs whole. The decoder wants the entire text in one piece, and
 * one read() of a file whose size fstat() already gave is as fast as it
 * gets; mmap() would save one copy but turns a file truncated underneath us
 * into SIGBUS, which a validation tool must not do.
 *
 * Copyright 2026 The libmparticle authors. Licensed under the Apache License 2.0.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

/* First buffer for a pipe or any input whose size is not known up front. */
#define READ_CHUNK (64 * 1024)

/*
 * Reads fd to end of file into a new NUL-terminated buffer. Returns 0 or an
 * errno value. The buffer starts at the file's size plus one byte, so for a
 * regular file the loop ends with the read() that returns 0 and never grows;
 * pipes and files that grow while being read double it as needed.
 */
static int read_fd(int fd, char **data, size_t *len) {
    struct stat st;
    size_t cap = READ_CHUNK;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
        if ((uintmax_t)st.st_size >= SIZE_MAX / 2)
            return EFBIG;
        cap = (size_t)st.st_size + 1;
    }
    char *buf = malloc(cap + 1); /* + 1 for the NUL */
    if (!buf)
        return ENOMEM;
    size_t n = 0;
    for (;;) {
        if (n == cap) {
            if (cap > SIZE_MAX / 4) {
                free(buf);
                return EFBIG;
            }
            char *bigger = realloc(buf, cap * 2 + 1);
            if (!bigger) {
                free(buf);
                return ENOMEM;
            }
            buf = bigger;
            cap *= 2;
        }
        ssize_t got = read(fd, buf + n, cap - n);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            int err = errno;
            free(buf);
            return err;
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return 0;
}

/* Reads one input; "-" is standard input. Returns 0 or an errno value. */
static int read_input(const char *path, cli_input *in) {
    in->data = NULL;
    in->len = 0;
    if (strcmp(path, "-") == 0) {
        in->name = CLI_STDIN_NAME;
        return read_fd(STDIN_FILENO, &in->data, &in->len);
    }
    in->name = path;
    int fd;
    do
        fd = open(path, O_RDONLY | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return errno;
    int err = read_fd(fd, &in->data, &in->len);
    close(fd);
    return err;
}

int cli_for_each_input(const char *command, const cli_args *files, cli_input_fn fn, void *ctx) {
    static char *const stdin_only[] = {"-"};
    char *const *paths = files->count ? files->items : stdin_only;
    size_t count = files->count ? files->count : 1;
    int worst = CLI_EXIT_OK;

    for (size_t i = 0; i < count; i++) {
        cli_input in;
        int err = read_input(paths[i], &in);
        int rc;
        if (err) {
            cli_error(command, "%s: %s", in.name, strerror(err));
            rc = CLI_EXIT_ERROR;
        } else {
            rc = fn(&in, ctx);
            free(in.data);
        }
        if (rc > worst)
            worst = rc;
    }
    return worst;
}

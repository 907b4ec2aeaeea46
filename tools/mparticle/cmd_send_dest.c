/*
 * mparticle send: the destination URL and the secret.
 *
 * A URL may hold a password (http://user:pw@host/) and a query string may
 * hold a token. The command prints its destination in the summary, in
 * errors and in hints, and those end up in CI logs, so the user-info is cut
 * out of everything printed and a query string is refused outright: the
 * client appends /events to the base URL, so a query there is a mistake
 * anyway.
 *
 * Copyright 2026 The libmparticle authors. Licensed under the Apache License 2.0.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd_send.h"

/* A secret file larger than this is not a secret file. */
#define SECRET_FILE_MAX 4096

static char *copy_span(const char *s, size_t n) {
    char *out = malloc(n + 1);
    if (out) {
        memcpy(out, s, n);
        out[n] = '\0';
    }
    return out;
}

static int is_http_scheme(const char *url, size_t len) {
    return (len == 4 && strncasecmp(url, "http", 4) == 0) ||
           (len == 5 && strncasecmp(url, "https", 5) == 0);
}

/* Whether path ends in "/v2" or "/v2/". */
static int path_ends_in_v2(const char *path) {
    size_t n = strlen(path);
    if (n > 0 && path[n - 1] == '/')
        n--;
    return n >= 3 && strncmp(path + n - 3, "/v2", 3) == 0;
}

/* Builds display (without user-info) and userinfo from a URL with no query. */
static int split_userinfo(send_dest *d, const char *url, const char *authority) {
    size_t auth_len = strcspn(authority, "/");
    const char *at = NULL;
    for (const char *p = authority; p < authority + auth_len; p++)
        if (*p == '@')
            at = p; /* the last '@': a password may hold one */
    size_t head = (size_t)(authority - url);
    const char *rest = at ? at + 1 : authority;
    d->display = malloc(head + strlen(rest) + 1);
    if (!d->display)
        return -1;
    memcpy(d->display, url, head);
    strcpy(d->display + head, rest);
    if (at && !(d->userinfo = copy_span(authority, (size_t)(at - authority))))
        return -1;
    d->ends_in_v2 = path_ends_in_v2(rest + strcspn(rest, "/"));
    return 0;
}

int send_dest_parse(send_dest *d, const char *url) {
    memset(d, 0, sizeof *d);
    const char *sep = strstr(url, "://");
    if (!sep || !is_http_scheme(url, (size_t)(sep - url))) {
        /* The text before "://" is only the scheme; nothing after it is shown. */
        cli_error(SEND_CMD, "--url must start with http:// or https:// (the base URL, e.g. "
                            "http://127.0.0.1:8080/v2)");
        return -1;
    }
    size_t keep = strcspn(url, "?#");
    if (url[keep]) {
        char *safe = copy_span(url, keep);
        send_dest tmp = {0};
        /* The authority of the copy, at the same offset as in url. */
        if (safe && split_userinfo(&tmp, safe, safe + (sep + 3 - url)) == 0)
            cli_error(SEND_CMD,
                      "--url %s...: a query string or fragment is not allowed (it may hold a "
                      "token, and the client appends /events to the base URL); give the base "
                      "URL, e.g. http://127.0.0.1:8080/v2",
                      tmp.display);
        else
            cli_error(SEND_CMD, "--url: a query string or fragment is not allowed");
        send_dest_free(&tmp);
        free(safe);
        return -1;
    }
    if (split_userinfo(d, url, sep + 3) != 0) {
        cli_error(SEND_CMD, "%s", mp_strerror(MP_ERR_NOMEM));
        send_dest_free(d);
        return -1;
    }
    return 0;
}

int send_dest_set_base(send_dest *d, const char *base_url) {
    free(d->display);
    d->display = copy_span(base_url, strlen(base_url));
    d->ends_in_v2 = path_ends_in_v2(base_url);
    return d->display ? 0 : -1;
}

void send_dest_free(send_dest *d) {
    free(d->display);
    free(d->userinfo);
    memset(d, 0, sizeof *d);
}

void send_dest_redact(const send_dest *d, const char *msg, char *out, size_t cap) {
    if (cap == 0)
        return;
    size_t cut = d->userinfo ? strlen(d->userinfo) : 0;
    size_t n = 0;
    while (*msg && n + 1 < cap) {
        if (cut && strncmp(msg, d->userinfo, cut) == 0 && msg[cut] == '@') {
            msg += cut + 1;
            continue;
        }
        out[n++] = *msg++;
    }
    out[n] = '\0';
}

/* ------------------------------------------------------------------------ */
/* --secret-file                                                            */
/* ------------------------------------------------------------------------ */

/*
 * Warns when the group or others may read the file. Only a warning: CI
 * systems and Kubernetes mount secrets 0644 by default, and refusing them
 * would push users back to --secret, which every `ps` shows.
 */
static void warn_if_readable(const char *path, const struct stat *st) {
    if (st->st_mode & (S_IRGRP | S_IROTH))
        cli_error(SEND_CMD, "warning: %s can be read by other users (mode %04o); "
                            "chmod 600 it",
                  path, (unsigned)(st->st_mode & 07777));
}

/* Reads at most SECRET_FILE_MAX bytes of fd. Returns the length, or -1 (errno set). */
static ssize_t read_small(int fd, char *buf) {
    size_t n = 0;
    for (;;) {
        ssize_t got = read(fd, buf + n, SECRET_FILE_MAX + 1 - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return -1;
        if (got == 0 || (n += (size_t)got) > SECRET_FILE_MAX)
            return (ssize_t)n;
    }
}

/* Checks and trims what was read; returns the secret's length, or -1 after printing why. */
static ssize_t trim_secret(const char *path, char *buf, size_t n) {
    if (n > SECRET_FILE_MAX) {
        cli_error(SEND_CMD, "%s: larger than %d bytes: not a secret file", path, SECRET_FILE_MAX);
        return -1;
    }
    if (n > 0 && buf[n - 1] == '\n')
        n--;
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    if (n == 0) {
        cli_error(SEND_CMD, "%s: the secret file is empty", path);
        return -1;
    }
    if (memchr(buf, '\n', n) || memchr(buf, '\0', n)) {
        cli_error(SEND_CMD, "%s: the secret file must hold one line", path);
        return -1;
    }
    buf[n] = '\0';
    return (ssize_t)n;
}

/* Reads the secret file open on fd into buf. Returns the length, or -1 after printing why. */
static ssize_t read_secret_fd(const char *path, int fd, char *buf) {
    struct stat st;
    if (fstat(fd, &st) != 0) {
        cli_error(SEND_CMD, "%s: %s", path, strerror(errno));
        return -1;
    }
    /* Pipes are fine: --secret-file <(pass show mparticle) keeps it off the disk. */
    if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode) && !S_ISCHR(st.st_mode)) {
        cli_error(SEND_CMD, "%s: not a file", path);
        return -1;
    }
    if (S_ISREG(st.st_mode))
        warn_if_readable(path, &st);
    ssize_t n = read_small(fd, buf);
    if (n < 0)
        cli_error(SEND_CMD, "%s: %s", path, strerror(errno));
    return n;
}

char *send_read_secret_file(const char *path) {
    int fd;
    do
        fd = open(path, O_RDONLY | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        cli_error(SEND_CMD, "%s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(SECRET_FILE_MAX + 2);
    ssize_t n = -1;
    if (!buf)
        cli_error(SEND_CMD, "%s", mp_strerror(MP_ERR_NOMEM));
    else
        n = read_secret_fd(path, fd, buf);
    close(fd);
    if (n >= 0 && trim_secret(path, buf, (size_t)n) >= 0)
        return buf;
    free(buf);
    return NULL;
}

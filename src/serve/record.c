/*
 * The record file. A CI job reads it to learn what the server accepted, so
 * it must never say more than that: a write that fails half-way (the disk
 * is full) is undone, and the request is answered 5xx by the caller so the
 * client sends it again. The file may hold a customer's data, so it is
 * created readable by its owner only.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "serve/record.h"

/* Opens path for appending; sets r->fd and r->size. 0 or errno. */
static int open_file(mp__srv_record *r) {
    int fd;
    do
        fd = open(r->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return errno;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return e;
    }
    r->fd = fd;
    r->size = S_ISREG(st.st_mode) ? st.st_size : 0;
    return 0;
}

int mp__srv_record_open(mp__srv_record *r, const char *path, size_t max_bytes) {
    memset(r, 0, sizeof *r);
    r->fd = -1;
    r->max_bytes = max_bytes;
    r->path = mp__strdup(path);
    r->old_path = mp__strcat2(path, ".1");
    if (!r->path || !r->old_path) {
        mp__srv_record_close(r);
        return ENOMEM;
    }
    int e = open_file(r);
    if (e)
        mp__srv_record_close(r);
    return e;
}

/* Moves the full file aside and starts a new one. */
static int rotate(mp__srv_record *r) {
    if (rename(r->path, r->old_path) != 0)
        return errno;
    close(r->fd);
    r->fd = -1;
    return open_file(r);
}

/* Writes all of data, or returns errno (ENOSPC for a short write that made
 * no progress). */
static int write_all(int fd, const char *data, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno;
        if (n == 0)
            return ENOSPC;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

int mp__srv_record_append(mp__srv_record *r, const char *data, size_t len) {
    if (r->fd < 0) {
        int e = open_file(r); /* a rotation that failed half-way */
        if (e)
            return e;
    }
    if (r->max_bytes && r->size > 0 && (size_t)r->size + len > r->max_bytes) {
        int e = rotate(r);
        if (e)
            return e;
    }
    int e = write_all(r->fd, data, len);
    if (e) {
        /* Cut the partial lines off, so that the next write starts a line.
         * On a device such as /dev/full there is nothing to cut, and if the
         * cut itself fails there is nothing better to do. */
        int cut = ftruncate(r->fd, r->size);
        (void)cut;
        return e;
    }
    r->size += (off_t)len;
    return 0;
}

void mp__srv_record_close(mp__srv_record *r) {
    if (r->fd >= 0)
        close(r->fd);
    mp__free(r->path);
    mp__free(r->old_path);
    r->fd = -1;
    r->path = r->old_path = NULL;
}

/* The record file of `serve --record`: whole lines or nothing, private to
 * its owner, optionally bounded by rotation. */
#ifndef MP_SERVE_RECORD_H
#define MP_SERVE_RECORD_H

#include <stddef.h>
#include <sys/types.h>

typedef struct mp__srv_record {
    int fd;           /* -1 when closed */
    char *path;
    char *old_path;   /* path + ".1": where a full file goes on rotation */
    size_t max_bytes; /* 0 = no limit */
    off_t size;       /* bytes in the current file */
} mp__srv_record;

/*
 * Opens (creating it with mode 0600, appending) the record at path. With
 * max_bytes > 0, a write that would take the file past max_bytes first
 * renames it to PATH.1 (replacing an older one) and starts a new file, so
 * the two never hold more than about 2 x max_bytes. Returns 0, or an errno
 * value (r->fd stays -1).
 */
int mp__srv_record_open(mp__srv_record *r, const char *path, size_t max_bytes);

/*
 * Appends data[0..len), which is whole lines, all or nothing: after a
 * failed or short write (a full disk) the file is cut back to where it
 * was, so it never holds a partial line for the next write to continue.
 * Returns 0, or an errno value. The caller serialises calls.
 */
int mp__srv_record_append(mp__srv_record *r, const char *data, size_t len);

/* Closes the file and frees the paths. Safe on a record never opened. */
void mp__srv_record_close(mp__srv_record *r);

#endif

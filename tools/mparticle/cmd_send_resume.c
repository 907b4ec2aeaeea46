/*
 * mparticle send --spool: where an interrupted send resumes.
 *
 * The spool keeps every batch the uploader accepted until its report is
 * final; what it cannot know is how far into the inputs the last run got.
 * This file, DIR/send-resume, says it: for each input file (known by
 * device, inode, size and modification time, so an edited or replaced file
 * starts over), how many of its batches were handed to the uploader.
 * Those are skipped on the next run: each was either delivered or is still
 * in the spool, which the uploader recovers and sends on its own.
 *
 * It is written after the batches it counts were enqueued (so written to
 * the spool), through a temporary file and rename(), so a kill at any
 * moment leaves either the old count or the new one: at worst a few
 * batches are enqueued again, and their content-derived ids make the API
 * count them once.
 *
 * Copyright 2026 The libmparticle authors. Licensed under the Apache License 2.0.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd_send.h"

#define RESUME_FILE "send-resume"
/* Batches between two writes of the file. */
#define SAVE_EVERY 256

/* An input's identity: the same file, unchanged. */
static int identify(const char *path, send_resume_entry *e) {
    struct stat st;
    if (strcmp(path, "-") == 0 || strcmp(path, CLI_STDIN_NAME) == 0 || stat(path, &st) != 0 ||
        !S_ISREG(st.st_mode))
        return -1;
    e->dev = (uint64_t)st.st_dev;
    e->ino = (uint64_t)st.st_ino;
    e->size = (uint64_t)st.st_size;
    e->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    e->done = 0;
    return 0;
}

static int same_file(const send_resume_entry *a, const send_resume_entry *b) {
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime_ns == b->mtime_ns;
}

static send_resume_entry *add_entry(send_resume *r) {
    if (r->count == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 8;
        send_resume_entry *e = realloc(r->entries, cap * sizeof *e);
        if (!e)
            return NULL;
        r->entries = e;
        r->cap = cap;
    }
    send_resume_entry *e = &r->entries[r->count++];
    memset(e, 0, sizeof *e);
    return e;
}

int send_resume_load(send_resume *r, const char *dir) {
    memset(r, 0, sizeof *r);
    r->current = -1;
    if (snprintf(r->path, sizeof r->path, "%s/%s", dir, RESUME_FILE) >= (int)sizeof r->path)
        return ENAMETOOLONG;
    FILE *f = fopen(r->path, "r");
    if (!f)
        return errno == ENOENT ? 0 : errno;
    send_resume_entry e;
    /* One line per input: dev ino size mtime_ns done. Anything else is ignored. */
    while (fscanf(f, "%" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNd64 " %ld\n", &e.dev, &e.ino,
                  &e.size, &e.mtime_ns, &e.done) == 5) {
        send_resume_entry *slot = add_entry(r);
        if (!slot) {
            fclose(f);
            return ENOMEM;
        }
        *slot = e;
    }
    fclose(f);
    return 0;
}

long send_resume_begin(send_resume *r, const char *input) {
    send_resume_entry id = {0}; /* a new input: nothing handed over yet */
    r->current = -1;
    if (identify(input, &id) != 0)
        return 0; /* a pipe cannot be resumed: it is read from the start */
    for (size_t i = 0; i < r->count; i++) {
        if (same_file(&r->entries[i], &id)) {
            r->current = (long)i;
            return r->entries[i].done;
        }
    }
    send_resume_entry *e = add_entry(r);
    if (!e)
        return 0;
    *e = id;
    r->current = (long)(r->count - 1);
    return 0;
}

int send_resume_save(send_resume *r) {
    char tmp[sizeof r->path + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", r->path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return errno;
    for (size_t i = 0; i < r->count; i++) {
        const send_resume_entry *e = &r->entries[i];
        fprintf(f, "%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRId64 " %ld\n", e->dev, e->ino,
                e->size, e->mtime_ns, e->done);
    }
    int err = ferror(f) ? EIO : 0;
    if (fclose(f) != 0 && !err)
        err = errno;
    if (!err && rename(tmp, r->path) != 0)
        err = errno;
    if (err)
        unlink(tmp);
    r->unsaved = 0;
    return err;
}

int send_resume_done(send_resume *r, long index) {
    if (r->current < 0)
        return 0;
    send_resume_entry *e = &r->entries[r->current];
    if (index + 1 > e->done)
        e->done = index + 1;
    return ++r->unsaved >= SAVE_EVERY ? send_resume_save(r) : 0;
}

void send_resume_free(send_resume *r) {
    free(r->entries);
    memset(r, 0, sizeof *r);
}

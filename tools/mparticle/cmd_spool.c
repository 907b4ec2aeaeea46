/*
 * mparticle spool DIR [--json]
 * mparticle spool DIR --drain [send's destination options]
 *
 * Shows what a spool holds (the directory `mparticle send --spool` or an
 * application's uploader keeps its batches in until delivered), without
 * changing it, even while a process uses it. With --drain, delivers what
 * it holds: that is `mparticle send --spool DIR` with no input, so the
 * destination, credentials, report, progress, Ctrl-C and exit status all
 * work as they do there.
 *
 * Copyright 2026 The libmparticle authors. Licensed under the Apache License 2.0.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "commands.h"

static const char description[] =
    "Shows what the spool in DIR holds: the batches that a `mparticle send --spool`\n"
    "or an application's uploader accepted and has not yet delivered, their bytes,\n"
    "the oldest one's age, damaged records that recovery would skip, and the process\n"
    "using the spool, if any. Nothing is changed.\n"
    "\n"
    "With --drain, delivers them: every option after --drain is one of `mparticle\n"
    "send`'s (--url, --pod, --key, --secret-file, --bulk, --report, ...), and the\n"
    "command runs `mparticle send --spool DIR` on an empty input.\n"
    "\n"
    "Exit status: 0; 1 when the spool holds damaged records, or when --drain could\n"
    "not deliver everything; 2 when DIR is not a readable spool (or is in use, with\n"
    "--drain).\n";

/* "2h 3m" for a number of milliseconds. */
static void age(int64_t ms, char *out, size_t cap) {
    int64_t s = ms / 1000;
    if (s < 60)
        snprintf(out, cap, "%" PRId64 "s", s);
    else if (s < 3600)
        snprintf(out, cap, "%" PRId64 "m %" PRId64 "s", s / 60, s % 60);
    else if (s < 86400)
        snprintf(out, cap, "%" PRId64 "h %" PRId64 "m", s / 3600, s % 3600 / 60);
    else
        snprintf(out, cap, "%" PRId64 "d %" PRId64 "h", s / 86400, s % 86400 / 3600);
}

static void print_text(const char *dir, const mp_spool_info *in) {
    printf("spool %s\n", dir);
    printf("  batches      %" PRIu64 " (%" PRIu64 " bytes of JSON)\n", in->batches,
           in->json_bytes);
    printf("  on disk      %" PRIu64 " bytes in %" PRIu64 " segment%s\n", in->disk_bytes,
           in->segments, in->segments == 1 ? "" : "s");
    if (in->oldest_unixtime_ms) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        char a[32];
        age((int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000 - in->oldest_unixtime_ms, a,
            sizeof a);
        printf("  oldest       enqueued %s ago\n", a);
    }
    printf("  damaged      %" PRIu64 " records (%" PRIu64 " bytes)\n", in->corrupt_records,
           in->corrupt_bytes);
    if (in->in_use_by > 0)
        printf("  in use by    pid %ld\n", in->in_use_by);
    else if (in->in_use_by < 0)
        printf("  in use by    another process\n");
}

static void print_json(const char *dir, const mp_spool_info *in) {
    /* The directory is printed as given; escape what JSON needs. */
    fputs("{\"spool\":\"", stdout);
    for (const char *p = dir; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    printf("\",\"batches\":%" PRIu64 ",\"json_bytes\":%" PRIu64 ",\"disk_bytes\":%" PRIu64
           ",\"segments\":%" PRIu64 ",\"oldest_unixtime_ms\":%" PRId64
           ",\"corrupt_records\":%" PRIu64 ",\"corrupt_bytes\":%" PRIu64 ",\"in_use_by\":%ld}\n",
           in->batches, in->json_bytes, in->disk_bytes, in->segments, in->oldest_unixtime_ms,
           in->corrupt_records, in->corrupt_bytes, in->in_use_by);
}

/* --drain ...: `mparticle send --spool DIR [options] /dev/null`. */
static int drain(const char *dir, int argc, char **argv) {
    char **args = malloc(((size_t)argc + 5) * sizeof *args);
    if (!args) {
        cli_error("spool", "%s", mp_strerror(MP_ERR_NOMEM));
        return CLI_EXIT_ERROR;
    }
    int n = 0;
    args[n++] = "send";
    args[n++] = "--spool";
    args[n++] = (char *)dir;
    for (int i = 0; i < argc; i++)
        args[n++] = argv[i];
    args[n++] = "/dev/null";
    args[n] = NULL;
    int rc = cmd_send(n, args);
    free(args);
    return rc;
}

int cmd_spool(int argc, char **argv) {
    /* Everything after --drain belongs to send: split before parsing. */
    int split = argc;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--drain") == 0) {
            split = i;
            break;
        }
    }
    int json = 0, drain_flag = 0; /* --drain is split off before parsing; listed for --help */
    cli_args dirs = {0};
    const cli_opt opts[] = {
        {CLI_OPT_FLAG, "json", 0, NULL, &json, "print one JSON object instead of text"},
        {CLI_OPT_FLAG, "drain", 0, NULL, &drain_flag,
         "deliver what the spool holds; the options after it are send's"},
        {CLI_OPT_ARGS, "DIR", 0, "DIR", &dirs, "the spool's directory"},
    };
    const cli_spec spec = {"spool", description, opts, sizeof opts / sizeof opts[0]};
    int rc = cli_parse(&spec, split, argv);
    if (rc != CLI_PARSED)
        return rc;
    if (dirs.count != 1) {
        cli_error("spool", "give one DIR (see --help)");
        return CLI_EXIT_ERROR;
    }
    if (split < argc)
        return drain(dirs.items[0], argc - split - 1, argv + split + 1);

    mp_spool_info info = MP_SPOOL_INFO_INIT;
    mp_diag *diag = mp_diag_new();
    mp_error err = diag ? mp_spool_inspect(dirs.items[0], &info, diag) : MP_ERR_NOMEM;
    if (err) {
        const mp_problem *p = diag && mp_diag_count(diag) ? mp_diag_get(diag, 0) : NULL;
        cli_error("spool", "%s", p ? p->message : mp_strerror(err));
        mp_diag_free(diag);
        return CLI_EXIT_ERROR;
    }
    mp_diag_free(diag);
    if (json)
        print_json(dirs.items[0], &info);
    else
        print_text(dirs.items[0], &info);
    return info.corrupt_records ? CLI_EXIT_INVALID : CLI_EXIT_OK;
}

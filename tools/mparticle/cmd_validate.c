/*
 * mparticle validate [--historical] [--now MS] [--strict] [--quiet] [FILE...]
 *
 * Decodes each input and checks every batch that decoded against the
 * Events API's rules (mp_validate_batch()). One line per problem on stdout;
 * exit 0 when every batch is valid, 1 when one is not, 2 on trouble.
 *
 * Copyright 2026 The libmparticle authors. Licensed under the Apache License 2.0.
 */
#include <stdio.h>

#include "cli.h"
#include "commands.h"

static const char description[] =
    "Checks batches against the rules of the mParticle Events API: the JSON is\n"
    "well formed and of the right types, required fields are there, enum values,\n"
    "formats and size limits are respected. Each FILE holds one batch, a JSON\n"
    "array of batches, or NDJSON (one batch per line); \"-\" or no FILE reads\n"
    "standard input.\n"
    "\n"
    "Prints one line per problem on standard output:\n"
    "\n"
    "    FILE:BATCH: WHERE: MESSAGE\n"
    "    FILE:BATCH: WHERE: warning: MESSAGE\n"
    "\n"
    "BATCH counts from 0 within its FILE (\"-\" for the input as a whole), WHERE\n"
    "is the JSON path inside the batch, or LINE:COLUMN for malformed JSON.\n"
    "Standard input is called " CLI_STDIN_NAME ".\n"
    "\n"
    "Exit status: 0 if every batch is valid (warnings allowed), 1 if any is\n"
    "not, 2 for a usage error or an input that cannot be read.\n";

int cmd_validate(int argc, char **argv) {
    int historical = 0;
    int quiet = 0;
    int strict = 0;
    int64_t now = 0;
    cli_args files = {0};
    const cli_opt opts[] = {
        {CLI_OPT_FLAG, "historical", 0, NULL, &historical,
         "apply the rules of /v2/bulkevents/historical (events at least 72 hours old)"},
        {CLI_OPT_INT64, "now", 0, "MS", &now,
         "the current time for the rules on the age of events (the 72 hours of "
         "--historical, the 30 days of live data), in ms since the epoch; default: the "
         "clock"},
        {CLI_OPT_FLAG, "strict", 0, NULL, &strict,
         "keep the JSON Schema's reading where mParticle's own SDKs or docs disagree with it "
         "(a list in custom_flags, a field the docs call optional): errors, not warnings"},
        {CLI_OPT_FLAG, "quiet", 'q', NULL, &quiet,
         "do not print warnings (errors are always printed)"},
        {CLI_OPT_ARGS, "[FILE...]", 0, "FILE", &files,
         "a batch, a JSON array of batches, or NDJSON; \"-\": standard input"},
    };
    const cli_spec spec = {"validate", description, opts, sizeof opts / sizeof opts[0]};
    int rc = cli_parse(&spec, argc, argv);
    if (rc != CLI_PARSED)
        return rc;
    if (now < 0) {
        cli_error("validate", "'--now' needs milliseconds since the epoch, not %lld",
                  (long long)now);
        return CLI_EXIT_ERROR;
    }

    mp_validate_options vopts = {.historical = historical, .now_unixtime_ms = now,
                                 .strict = strict};
    cli_checker ck = {
        .command = "validate",
        .problems = stdout,
        .quiet = quiet,
        .validate = &vopts,
        .scratch = mp_diag_new(),
    };
    if (!ck.scratch) {
        cli_error("validate", "%s", mp_strerror(MP_ERR_NOMEM));
        return CLI_EXIT_ERROR;
    }
    rc = cli_check_inputs(&ck, &files);
    mp_diag_free(ck.scratch);
    return rc;
}

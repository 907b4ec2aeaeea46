/*
 * Test support: deep comparison of batches, files, and the independent
 * schema check (tests/schema/check_schema.py under MP_PYTHON3).
 */
#ifndef MP_TEST_UTIL_H
#define MP_TEST_UTIL_H

#include <stddef.h>

#include "mparticle/model.h"

/**
 * Deep equality of two batches, walking the schema tables: strings by
 * content, doubles bit for bit (so -0.0 differs from 0.0), absent, null and
 * a value all distinct, empty lists distinct from absent ones, lists and
 * maps in order, events by type, common data and the data of their type.
 * Returns 1 when equal. Otherwise returns 0 and writes the JSON path of the
 * first difference and what differs into `why` (always NUL-terminated when
 * why_size > 0; why may be NULL).
 */
int mp_test_batch_equal(const mp_batch *a, const mp_batch *b, char *why, size_t why_size);

/**
 * Reads a whole file. Returns a malloc'ed, NUL-terminated copy (free()) and
 * its length in *len (optional), or NULL if it cannot be read.
 */
char *mp_test_read_file(const char *path, size_t *len);

/**
 * Writes data to a new file in $TMPDIR (default /tmp) named mp-test-XXXXXX
 * and stores its path in path_out. Returns 0, or -1 on failure. The caller
 * removes the file (remove()).
 */
int mp_test_write_temp(const char *data, size_t len, char *path_out, size_t path_cap);

/**
 * The tests that judge our JSON against mParticle's official JSON Schema
 * (and its sample batch) need the schema's files in MP_REFERENCE_DIR
 * (CMake: -DMP_REFERENCE_DIR=DIR, default ../shared/reference beside the
 * repository; see CONTRIBUTING.md). The files are mParticle's, not ours, so
 * they are not in the repository.
 *
 * Returns 0 when they are all there. Otherwise prints
 * "SKIPPED: <reason>" on standard output and returns 77, the exit code
 * those tests are registered with as SKIP_RETURN_CODE.
 */
int mp_test_skip_without_reference(void);

/** Whether argv[1] is "--official": run only the tests that need the schema. */
int mp_test_official_run(int argc, char **argv);

/**
 * Runs `MP_PYTHON3 MP_SCHEMA_CHECK --reference MP_REFERENCE_DIR args...`
 * (args is NULL-terminated) and collects its standard output and error.
 * Returns the exit status (0 valid or equal, 1 invalid or different, 2 bad
 * input), or -1 if it could not be run. *output (optional) receives a
 * malloc'ed NUL-terminated copy of what it printed (free()).
 */
int mp_test_schema_check(const char *const *args, char **output);

/** `check_schema.py [option] path`; option ("--ndjson", "--bulk", ...) may be NULL. */
int mp_test_schema_check_file(const char *path, const char *option, char **output);

/** `check_schema.py --compare a b`: 0 when the files hold equal JSON values. */
int mp_test_json_compare(const char *path_a, const char *path_b, char **output);

#endif

# Runs the mparticle CLI once and checks what it did, for ctest.
#
#   cmake -DCLI=path -DARGS="validate|--quiet|file.json" [options] -P run_cli.cmake
#
# ARGS         the arguments, separated by '|' (a ';' would be split by add_test)
# WORKDIR      directory to run in (default: the current one); the tests run
#              in tests/cli/data so that file names in messages are short
# STDIN        file fed to standard input (default: empty input)
# STDOUT_PATH  where standard output goes instead of a file that is checked
#              (e.g. /dev/full); no stdout check may be given then
# EXPECT_RC    required exit code (default 0)
# STDOUT_FILE  file whose bytes standard output must equal exactly
# STDERR_FILE  file whose bytes standard error must equal exactly
# STDOUT_REGEX / STDERR_REGEX   a regular expression the output must match
# STDOUT_EMPTY / STDERR_EMPTY   ON: the output must be empty
# STDOUT_LINES the number of lines standard output must have
# SAME_JSON    file: standard output must hold the same JSON value, checked
#              by `PYTHON3 SCHEMA_CHECK --compare` (an independent parser)
# SCHEMA_VALID ON: standard output must pass `PYTHON3 SCHEMA_CHECK --ndjson`,
#              the official JSON Schema of the API, read from REFERENCE
# REFERENCE    folder of mParticle's official JSON Schema files
#              (tests/CMakeLists.txt, MP_REFERENCE_DIR)
# NEEDS_REFERENCE ON: the test needs REFERENCE (its schema, or its sample as
#              input); without the files it prints "SKIPPED: <reason>" and
#              runs nothing (the test's SKIP_REGULAR_EXPRESSION is ^SKIPPED:)
# AGAIN_ARGS   '|'-separated arguments of a second run that reads the first
#              run's standard output on its standard input; it must exit 0
#              and write the same bytes (e.g. "normalize": normalizing is
#              idempotent)
foreach(var CLI ARGS)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_cli.cmake: -D${var}= is required")
  endif()
endforeach()
if(NOT DEFINED EXPECT_RC)
  set(EXPECT_RC 0)
endif()
if(NOT DEFINED WORKDIR)
  set(WORKDIR .)
endif()
if(NOT DEFINED STDIN)
  set(STDIN /dev/null)
endif()
string(REPLACE "|" ";" args "${ARGS}")

if(NEEDS_REFERENCE)
  foreach(f schema.json bulk.schema.json sample.json)
    if(NOT EXISTS "${REFERENCE}/mparticle.inbound.eventsapi.${f}")
      message("SKIPPED: mParticle's official JSON Schema is not available "
        "(no ${REFERENCE}/mparticle.inbound.eventsapi.${f}); configure with "
        "-DMP_REFERENCE_DIR=DIR, DIR holding the files of "
        "https://github.com/mParticle/docs/tree/1bace4491f7acc66711383eb103cca5b511878da/static/schema")
      return()
    endif()
  endforeach()
endif()

# Output goes through files, not variables: execute_process would strip
# nothing, but files keep the exact bytes for the byte-exact comparisons.
string(RANDOM LENGTH 8 tag)
set(out "${CMAKE_CURRENT_BINARY_DIR}/run_cli_${tag}.out")
set(err "${CMAKE_CURRENT_BINARY_DIR}/run_cli_${tag}.err")

function(fail what)
  file(READ ${out} o)
  file(READ ${err} e)
  file(REMOVE ${out} ${err} ${out}.again)
  message(FATAL_ERROR "mparticle ${ARGS}: ${what}\n--- stdout:\n${o}--- stderr:\n${e}---")
endfunction()

set(out_path ${out})
if(DEFINED STDOUT_PATH)
  set(out_path ${STDOUT_PATH})
  file(WRITE ${out} "")
endif()
execute_process(COMMAND ${CLI} ${args}
  WORKING_DIRECTORY ${WORKDIR}
  INPUT_FILE ${STDIN} OUTPUT_FILE ${out_path} ERROR_FILE ${err}
  RESULT_VARIABLE rc)
if(NOT "${rc}" STREQUAL "${EXPECT_RC}")
  fail("exit code ${rc}, expected ${EXPECT_RC}")
endif()

foreach(stream stdout stderr)
  string(TOUPPER ${stream} S)
  if(stream STREQUAL "stdout")
    set(file ${out})
  else()
    set(file ${err})
  endif()
  file(READ ${file} text)
  if(DEFINED ${S}_FILE)
    file(READ ${${S}_FILE} want)
    if(NOT text STREQUAL want)
      file(READ ${${S}_FILE} w)
      fail("${stream} differs from ${${S}_FILE}, which holds:\n${w}")
    endif()
  endif()
  if(DEFINED ${S}_REGEX AND NOT text MATCHES "${${S}_REGEX}")
    fail("${stream} does not match /${${S}_REGEX}/")
  endif()
  if(${S}_EMPTY AND NOT text STREQUAL "")
    fail("${stream} is not empty")
  endif()
endforeach()

if(DEFINED STDOUT_LINES)
  file(READ ${out} text)
  string(REGEX MATCHALL "\n" newlines "${text}")
  list(LENGTH newlines n)
  if(NOT n EQUAL STDOUT_LINES)
    fail("${n} lines on stdout, expected ${STDOUT_LINES}")
  endif()
endif()

if(DEFINED SAME_JSON)
  execute_process(COMMAND ${PYTHON3} ${SCHEMA_CHECK} --compare ${out} ${SAME_JSON}
    RESULT_VARIABLE same OUTPUT_VARIABLE why ERROR_VARIABLE why)
  if(NOT same EQUAL 0)
    fail("stdout is not the same JSON as ${SAME_JSON}: ${why}")
  endif()
endif()

if(SCHEMA_VALID)
  execute_process(COMMAND ${PYTHON3} ${SCHEMA_CHECK} --reference ${REFERENCE} --ndjson ${out}
    RESULT_VARIABLE valid OUTPUT_VARIABLE why ERROR_VARIABLE why)
  if(NOT valid EQUAL 0)
    fail("stdout does not pass the official JSON Schema: ${why}")
  endif()
endif()

if(DEFINED AGAIN_ARGS)
  string(REPLACE "|" ";" again_args "${AGAIN_ARGS}")
  execute_process(COMMAND ${CLI} ${again_args}
    WORKING_DIRECTORY ${WORKDIR}
    INPUT_FILE ${out} OUTPUT_FILE ${out}.again RESULT_VARIABLE rc2)
  file(READ ${out} first)
  file(READ ${out}.again second)
  if(NOT rc2 EQUAL 0 OR NOT first STREQUAL second)
    fail("a second run on its own output gave exit ${rc2} and different bytes")
  endif()
endif()

file(REMOVE ${out} ${err} ${out}.again)

# Runs a libFuzzer target for a bounded time, for ctest.
#
#   cmake -DFUZZER=path -DCORPUS=dir -DDICT=file -DWORK=dir -DSECONDS=n -P run_fuzz.cmake
#
# The seed corpus is copied into WORK/corpus first: libFuzzer adds every
# new interesting input to its first corpus directory, and the source tree
# must not change when tests run. A crash, leak, timeout or broken oracle
# fails the test; the input that caused it is left in WORK/artifacts/
# (copy it to tests/fuzz/regressions/ to keep it replayed).
foreach(var FUZZER CORPUS DICT WORK SECONDS)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_fuzz.cmake: -D${var}= is required")
  endif()
endforeach()

file(REMOVE_RECURSE ${WORK}/corpus)
file(MAKE_DIRECTORY ${WORK}/corpus ${WORK}/artifacts)
file(GLOB seeds ${CORPUS}/*)
file(COPY ${seeds} DESTINATION ${WORK}/corpus
  FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)

execute_process(
  COMMAND ${FUZZER}
    -max_total_time=${SECONDS}
    -rss_limit_mb=2048
    -timeout=10
    -max_len=65536
    -dict=${DICT}
    -print_final_stats=1
    -artifact_prefix=${WORK}/artifacts/
    ${WORK}/corpus
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  file(GLOB found ${WORK}/artifacts/*)
  message(FATAL_ERROR "fuzz target failed (exit ${rc}); inputs: ${found}")
endif()

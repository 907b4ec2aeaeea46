#!/usr/bin/env bash
# The whole test suite, on a fresh Debian machine:
#   1. gcc, optimised: unit, schema-conformance, CLI, example and install tests;
#   2. clang with AddressSanitizer + UndefinedBehaviorSanitizer: the same tests
#      plus a short libFuzzer run of every parser;
#   3. clang with ThreadSanitizer: the tests of everything that runs threads
#      (client, transport, serve, uploader, spool).
# The slow packaging and documentation tests (Debian packages, Doxygen, man
# pages, the docs' C snippets, the subproject build) run in the first only
# (MP_SLOW_TESTS).
#
# The tests that check our JSON against mParticle's official JSON Schema
# read it from MP_REFERENCE_DIR (or MP_SHARED_DIR/reference, default
# ../shared/reference) and are reported as skipped without it; pass either
# in the environment: MP_REFERENCE_DIR=DIR scripts/test.sh.
# Installs its own dependencies. Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh clang libclang-rt-14-dev llvm
jobs=$(nproc)

# run_config DIR CTEST_REGEX CMAKE_ARGS...: configure, build, run the tests
# whose names match the regex ("" = all).
run_config() {
  local dir=$1 regex=$2; shift 2
  echo "=== configuration: $dir ($*)"
  cmake -S . -B "$dir" "$@" \
    ${MP_SHARED_DIR:+-DMP_SHARED_DIR="$MP_SHARED_DIR"} \
    ${MP_REFERENCE_DIR+-DMP_REFERENCE_DIR="$MP_REFERENCE_DIR"} >/dev/null
  cmake --build "$dir" -j"$jobs"
  ctest --test-dir "$dir" --output-on-failure -j"$jobs" ${regex:+-R "$regex"}
}

run_config build-test "" -DCMAKE_BUILD_TYPE=RelWithDebInfo
CC=clang CXX=clang++ run_config build-asan "" -DCMAKE_BUILD_TYPE=Debug \
  -DMP_SANITIZE=address,undefined -DMP_BUILD_FUZZ=ON -DMP_BUILD_BENCH=OFF -DMP_SLOW_TESTS=OFF
CC=clang CXX=clang++ run_config build-tsan "client|transport|serve|uploader|spool" -DCMAKE_BUILD_TYPE=Debug \
  -DMP_SANITIZE=thread -DMP_BUILD_BENCH=OFF -DMP_BUILD_EXAMPLES=OFF -DMP_SLOW_TESTS=OFF
echo "=== all configurations passed"

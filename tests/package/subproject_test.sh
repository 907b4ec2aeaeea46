#!/usr/bin/env bash
# Builds tests/package/subproject (a parent using add_subdirectory()), runs
# its program, and checks that installing the parent installs nothing of the
# SDK (MP_INSTALL is off in a subproject).
# Usage: subproject_test.sh SOURCE_DIR C_COMPILER
set -euo pipefail
src=$1 cc=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake -S "$src/tests/package/subproject" -B "$tmp/build" -DMP_SOURCE_DIR="$src" \
  -DCMAKE_C_COMPILER="$cc" >"$tmp/configure.log" 2>&1 || { cat "$tmp/configure.log"; exit 1; }
cmake --build "$tmp/build" -j"$(nproc)" >"$tmp/build.log" 2>&1 || { tail -40 "$tmp/build.log"; exit 1; }
grep -q "warning: unused variable" "$tmp/build.log" || { echo "the parent's warning was not shown"; exit 1; }
"$tmp/build/app"
cmake --install "$tmp/build" --prefix "$tmp/prefix" >/dev/null
if [ -d "$tmp/prefix" ] && [ -n "$(find "$tmp/prefix" -type f)" ]; then
  echo "installing the parent installed the SDK's files:"; find "$tmp/prefix" -type f; exit 1
fi
echo "subproject: library only, no -Werror, no build type, no C++, nothing installed"

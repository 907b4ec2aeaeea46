#!/usr/bin/env bash
# Builds the API reference of the public headers with Doxygen (docs/Doxyfile)
# into OUT (default build/docs/html); any warning (an undocumented field, a
# broken reference) fails. Installs doxygen when missing (scripts/deps.sh).
# Usage: scripts/docs.sh [OUT]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build/docs}
if ! command -v doxygen >/dev/null; then
  if [ -n "${MP_DOCS_NO_INSTALL:-}" ]; then   # the ctest test: skip, do not install
    echo "SKIPPED: doxygen is not installed (scripts/deps.sh doxygen)"
    exit 77
  fi
  scripts/deps.sh doxygen
fi
mkdir -p "$out"
log="$out/doxygen-warnings.log"
# The configuration file, with the output directory and a warning log.
rc=0
{ cat docs/Doxyfile; echo "OUTPUT_DIRECTORY = $out"; echo "WARN_LOGFILE = $log"; } | doxygen - >/dev/null || rc=$?
if [ "$rc" -ne 0 ] || [ -s "$log" ]; then
  cat "$log" >&2
  echo "scripts/docs.sh: doxygen warned" >&2
  exit 1
fi
echo "API reference: $out/html/index.html"

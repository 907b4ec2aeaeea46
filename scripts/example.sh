#!/usr/bin/env bash
# The main job: builds the library and runs the Go SDK docs' Full Example in C.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
build=${BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" --target full_example >/dev/null
"$build"/examples/full_example

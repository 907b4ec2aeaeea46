#!/usr/bin/env bash
# The main job: builds the SDK and runs the Go SDK docs' Full Example in C.
#
# With MPARTICLE_API_KEY and MPARTICLE_API_SECRET set, the batch goes to
# mParticle (the pod named by the key's prefix, or MPARTICLE_BASE_URL).
# Without them it goes to a local `mparticle serve`, started here, and the
# batch the server received is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
build=${BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" --target full_example mparticle_cli >/dev/null
exec scripts/full-example.sh "$build"

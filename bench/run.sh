#!/usr/bin/env bash
# Runs the codec, upload and uploader benchmarks on workload W1 and prints the
# figures that docs/benchmarks.md reports. Usage: bench/run.sh [batches] [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
batches=${1:-10000}
runs=${2:-7}
scripts/deps.sh wrk
out=${BENCH_DIR:-build-bench}

cmake -S . -B "$out" -DCMAKE_BUILD_TYPE=Release -DMP_BUILD_TESTS=OFF >/dev/null
cmake --build "$out" -j"$(nproc)" --target bench_codec mparticle_cli >/dev/null
w1="$out/w1.ndjson"
[ -s "$w1" ] || /usr/bin/python3 bench/gen_workload.py "$batches" > "$w1"

echo "## machine"
echo "$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo
echo "## codec (bench_codec, one thread)"
"$out/bench/bench_codec" "$w1" "$runs"
echo
echo "## upload W1 to mparticle serve --sink (bench_upload)"
cmake --build "$out" -j"$(nproc)" --target bench_upload >/dev/null
tmp=$(mktemp -d)
serve_pid=
trap '[ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null; rm -rf "$tmp"' EXIT
"$out/tools/mparticle" serve --sink --key bench-key --secret bench-secret >"$tmp/out" 2>/dev/null &
serve_pid=$!
for _ in $(seq 100); do [ -s "$tmp/out" ] && break; sleep 0.1; done
url=$(head -n 1 "$tmp/out"); url=${url#listening on }
# Baseline in the same run: wrk posting one W1 batch per request to the same
# sink (what a bare load generator reaches; x10 events per request).
/usr/bin/python3 bench/gen_workload.py 1 >"$tmp/one.json"
if command -v wrk >/dev/null; then
  rps=$(BODY="$tmp/one.json" AUTH=bench-key:bench-secret wrk -t2 -c16 -d5s -s bench/serve/post.lua "$url" |
        awk '/Requests\/sec/ {printf "%d", $2}')
  echo "baseline: wrk -t2 -c16, one batch per request: $rps req/s = $((rps * 10)) events/s"
fi
"$out/bench/bench_upload" "$w1" "$url/v2" 3
kill -TERM "$serve_pid"; wait "$serve_pid" || true; serve_pid=

echo
echo "## asynchronous uploader on W1 (bench_uploader; its own in-process mparticle serve)"
# After the synchronous client's figures above, in the same run; bench_uploader
# measures the synchronous client again against its own server for the ratio.
cmake --build "$out" -j"$(nproc)" --target bench_uploader >/dev/null
"$out/bench/bench_uploader" "$w1" 5

echo
echo "## normalize, validate and send as whole processes, W1 and ten times W1 (bench/whole_process.sh)"
# Wall, user, sys and peak RSS beside Node, Python and the official Node SDK
# in the same run; its own Release build in build-bench-wp/.
bench/whole_process.sh "$runs"

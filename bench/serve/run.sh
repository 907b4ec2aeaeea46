#!/usr/bin/env bash
# Throughput of `mparticle serve` on W1 batches, with wrk (Debian's), in
# --sink mode and in validating mode (decode + validate every batch).
#
#   bench/serve/run.sh [seconds] [runs]
#
# For each mode: start `mparticle serve` on a free port, POST one W1 batch
# (2.4 KB) to /v2/events with `wrk -t2 -c64 -d<seconds>s` `runs` times, and
# print each Requests/sec and the median. Client and server share the
# machine, as in the issue's nginx figure (~30,000 req/s on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-10}
runs=${2:-3}
scripts/deps.sh wrk
out=${BENCH_DIR:-build-bench}

cmake -S . -B "$out" -DCMAKE_BUILD_TYPE=Release -DMP_BUILD_TESTS=OFF >/dev/null
cmake --build "$out" -j"$(nproc)" --target mparticle_cli >/dev/null
cli="$out/tools/mparticle"
body="$out/w1one.json"
/usr/bin/python3 bench/gen_workload.py 1 >"$body"
lua="$(pwd)/bench/serve/post.lua"

echo "## machine"
echo "$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "body: $(wc -c <"$body") bytes (one W1 batch), wrk -t2 -c64 -d${seconds}s, $runs runs"
echo

tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT

# bench NAME SERVE-ARGS...: prints the runs and their median.
bench() {
  local name=$1; shift
  "$cli" serve --key bench --secret bench "$@" >"$tmp/out" 2>"$tmp/err" &
  pid=$!
  for _ in $(seq 100); do [ -s "$tmp/out" ] && break; sleep 0.1; done
  local url
  url=$(head -n 1 "$tmp/out"); url=${url#listening on }
  local all=()
  for _ in $(seq "$runs"); do
    local res
    res=$(BODY="$body" AUTH=bench:bench wrk -t2 -c64 -d"${seconds}s" -s "$lua" "$url")
    grep -q 'non-2xx/3xx: 0,' <<<"$res" || { echo "$name: errors: $res" >&2; exit 1; }
    all+=("$(awk '/Requests\/sec/ {printf "%d", $2}' <<<"$res")")
  done
  kill -TERM "$pid"; wait "$pid"; pid=
  local median
  median=$(printf '%s\n' "${all[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  printf '%-34s %8s req/s   (runs: %s)   %s\n' "$name" "$median" "${all[*]}" "$(tail -n 1 "$tmp/out")"
}

bench "serve --sink" --sink
bench "serve (decode + validate)"
bench "serve (decode + validate) 3 thr" --threads 3

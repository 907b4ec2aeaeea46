#!/usr/bin/env bash
# Runs the codec benchmarks on workload W1 and prints the figures that
# docs/benchmarks.md reports. Usage: bench/run.sh [batches] [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
batches=${1:-10000}
runs=${2:-7}
scripts/deps.sh hyperfine
shared=${MP_SHARED_DIR:-../shared}
out=${BENCH_DIR:-build-bench}

cmake -S . -B "$out" -DCMAKE_BUILD_TYPE=Release -DMP_BUILD_TESTS=OFF >/dev/null
cmake --build "$out" -j"$(nproc)" --target bench_codec mparticle_cli >/dev/null
w1="$out/w1.ndjson"
[ -s "$w1" ] || /usr/bin/python3 "$shared/bench/gen_workload.py" "$batches" > "$w1"

echo "## machine"
echo "$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo
echo "## codec (bench_codec, one thread)"
"$out/bench/bench_codec" "$w1" "$runs"
echo
echo "## normalize W1 as a whole process (hyperfine)"
# Baselines in the same run: Python's json and Node's JSON, each reading the
# NDJSON and writing one compact line per batch, as mparticle normalize does.
py='import sys,json
w=sys.stdout.write
for l in open(sys.argv[1],encoding="utf-8"):
    if l.strip(): w(json.dumps(json.loads(l),ensure_ascii=False,separators=(",",":"))+"\n")'
cmds=("$out/tools/mparticle normalize $w1"
      "/usr/bin/python3 -c '$py' $w1")
if command -v node >/dev/null; then
  js='const fs=require("fs");const o=[];for(const l of fs.readFileSync(process.argv[1],"utf8").split("\n")){if(l.trim())o.push(JSON.stringify(JSON.parse(l)))}fs.writeSync(1,o.join("\n")+"\n")'
  cmds+=("node -e '$js' $w1")
fi
hyperfine -N --warmup 1 --runs "$runs" --output=null "${cmds[@]}" 2>&1 | grep -vE '^\s*$'

#!/usr/bin/env bash
# Whole-process figures for `mparticle normalize FILE >/dev/null`,
# `mparticle validate FILE` and `mparticle send --bulk FILE` (to a
# `mparticle serve --sink` this script starts) on workload W1 (bench/gen_workload.py 10000: 23.8 MB
# NDJSON, 10,000 batches, 100,000 events) and on ten times W1 (238 MB), beside
# baselines measured in the same run (issue 11, item 4).
#
# Usage: bench/whole_process.sh [runs]      (runs defaults to 5)
#
# Each command runs once as a warm-up, then `runs` times; a table per input
# gives the run with the median wall time and that run's user time, system
# time and peak RSS, and the ratio of its wall time to mparticle's (normalize
# baselines against `mparticle normalize`, parse-only baselines against
# `mparticle validate`). Measured by bench/wp_measure.c (fork/exec, wait4's
# rusage, CLOCK_MONOTONIC), which this script compiles with cc: GNU time is
# not installed on fresh machines. Every command's standard output goes to
# /dev/null.
#
# Baselines (one batch per line in, for normalize one compact line per batch out):
# - Node `JSON.parse` + `JSON.stringify`, and `JSON.parse` alone (the floor of a
#   validator); skipped with a message when `node` is not installed.
# - Python 3 (/usr/bin/python3) `json.loads` + `json.dumps(ensure_ascii=False,
#   separators=(",",":"))`, and `json.loads` alone.
# - Optional, "official Node SDK": the `mparticle` npm package (mParticle's
#   swagger-generated Node SDK) installed into $out/node-sdk, the only thing this
#   script installs; skipped with a message when npm or the registry cannot be
#   had. Per line: JSON.parse, the SDK's model (Batch.constructFromObject for
#   the batch; for each event, the model class whose getEventType() is its
#   event_type, e.g. AppEvent.constructFromObject, wrapped in new EventBase(...)
#   as the SDK's Batch.addEvent does, because Batch.constructFromObject alone
#   turns every event's data into the generic EventData and drops event_name,
#   screen_name, product_action...), then JSON.stringify: the job of normalize.
#   The batch's context is built with BatchContext and
#   DataPlanContext.constructFromObject by hand: the package's
#   BatchContext.constructFromObject throws "DataPlanContext is not defined"
#   (1.0.8) on any batch with a data plan, which every W1 batch has. The
#   output is compared with `mparticle normalize`'s on W1's first 1,000
#   batches and the differences printed under the machine line (expected:
#   user_identities.customer_id, which the SDK's model calls `customerid`, is
#   dropped; see docs/api-notes.md D-2).
# All baselines read their input as a stream, so that their peak memory is
# comparable with mparticle's: Python with `for line in open(...)`, Node by
# reading the file in 64 KiB chunks with fs.readSync and splitting lines
# itself; Node writes its output in chunks of about 1 MiB with fs.writeSync,
# Python through a 1 MiB buffered writer.
#
# validate runs with --now set to a day after W1's first timestamp: W1's events
# are from November 2023, and against today's clock validate would print one
# "older than 30 days" warning per event (100,000 lines, 18 MB, for W1), which
# is not the work being compared. Exit status 0 is expected of every command;
# a row whose command fails is marked FAILED and the script exits 1 at the end.
#
# Files: build dir build-bench-wp/ (Release; BENCH_WP_DIR overrides) holds the
# mparticle binary, wp_measure, w1.ndjson, w1x10.ndjson (made once, reused)
# and node-sdk/. Scripts and logs go to a temporary directory removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
case $runs in '' | *[!0-9]* | 0) echo "usage: $0 [runs >= 1]" >&2; exit 2 ;; esac
out=${BENCH_WP_DIR:-build-bench-wp}
py=/usr/bin/python3
sdk_version=${NODE_SDK_VERSION:-1.0.8}
now_ms=1700086400000 # W1's first timestamp + 1 day

tmp=$(mktemp -d)
serve_pid=
trap '[ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null; rm -rf "$tmp"' EXIT

# --- build --------------------------------------------------------------------
cmake -S . -B "$out" -DCMAKE_BUILD_TYPE=Release -DMP_BUILD_TESTS=OFF >"$tmp/cmake.log" 2>&1 ||
  { cat "$tmp/cmake.log" >&2; exit 1; }
cmake --build "$out" -j"$(nproc)" --target mparticle_cli >"$tmp/build.log" 2>&1 ||
  { tail -n 40 "$tmp/build.log" >&2; exit 1; }
mp="$out/tools/mparticle"
meas="$out/wp_measure"
cc -O2 -std=c11 -Wall -Wextra -o "$meas" bench/wp_measure.c

# --- inputs (made once) ----------------------------------------------------------
w1="$out/w1.ndjson"
w10="$out/w1x10.ndjson"
if [ ! -s "$w1" ]; then
  "$py" bench/gen_workload.py 10000 >"$w1.part" && mv "$w1.part" "$w1"
fi
if [ ! -s "$w10" ] || [ "$(stat -c %s "$w10")" -ne $(($(stat -c %s "$w1") * 10)) ]; then
  for _ in 1 2 3 4 5 6 7 8 9 10; do cat "$w1"; done >"$w10.part" && mv "$w10.part" "$w10"
fi

# --- baseline programs --------------------------------------------------------------
cat >"$tmp/py_norm.py" <<'EOF'
import sys, json
loads, dumps = json.loads, json.dumps
out = open(sys.stdout.fileno(), "w", encoding="utf-8", buffering=1 << 20, closefd=False)
w = out.write
for l in open(sys.argv[1], encoding="utf-8"):
    if l.strip():
        w(dumps(loads(l), ensure_ascii=False, separators=(",", ":")) + "\n")
out.flush()
EOF
cat >"$tmp/py_parse.py" <<'EOF'
import sys, json
loads = json.loads
n = 0
for l in open(sys.argv[1], encoding="utf-8"):
    if l.strip():
        n += len(loads(l))
EOF

# Shared by the Node programs: eachLine(path, f) reads 64 KiB chunks with
# fs.readSync and calls f on each non-empty line; emit(s) queues output that
# flush() writes with fs.writeSync once about 1 MiB is queued.
cat >"$tmp/node_io.js" <<'EOF'
"use strict";
const fs = require("fs");
function eachLine(path, f) {
  const fd = fs.openSync(path, "r"), buf = Buffer.allocUnsafe(65536);
  let rest = null, n;
  while ((n = fs.readSync(fd, buf, 0, buf.length, null)) > 0) {
    const c = buf.subarray(0, n);
    let s = 0, i;
    while ((i = c.indexOf(10, s)) >= 0) {
      const line = rest ? Buffer.concat([rest, c.subarray(s, i)]).toString("utf8")
                        : c.toString("utf8", s, i);
      rest = null;
      if (line.trim()) f(line);
      s = i + 1;
    }
    if (s < n) rest = rest ? Buffer.concat([rest, c.subarray(s)]) : Buffer.from(c.subarray(s));
  }
  if (rest && rest.toString("utf8").trim()) f(rest.toString("utf8"));
  fs.closeSync(fd);
}
const queued = [];
let queuedLen = 0;
function flush() {
  if (!queued.length) return;
  const b = Buffer.from(queued.join(""), "utf8");
  queued.length = 0; queuedLen = 0;
  for (let o = 0; o < b.length; ) o += fs.writeSync(1, b, o);
}
function emit(s) { queued.push(s); queuedLen += s.length; if (queuedLen >= 1 << 20) flush(); }
EOF
{ cat "$tmp/node_io.js"; cat <<'EOF'
eachLine(process.argv[2], (l) => emit(JSON.stringify(JSON.parse(l)) + "\n"));
flush();
EOF
} >"$tmp/node_norm.js"
{ cat "$tmp/node_io.js"; cat <<'EOF'
let n = 0;
eachLine(process.argv[2], (l) => { n += JSON.parse(l) ? 1 : 0; });
if (n === 0) process.exitCode = 1;
EOF
} >"$tmp/node_parse.js"
{ cat "$tmp/node_io.js"; cat <<'EOF'
const mp = require(process.argv[3]);
const byType = {};  // event_type -> the SDK's model class for its data
for (const k of Object.keys(mp)) {
  const M = mp[k];
  if (M && M.prototype && typeof M.prototype.getEventType === "function") byType[M.prototype.getEventType()] = M;
}
function toSdk(o) {
  const events = o.events, context = o.context;
  delete o.events;
  delete o.context;
  const b = mp.Batch.constructFromObject(o);
  if (context) {  // BatchContext.constructFromObject throws (DataPlanContext is not defined)
    b.context = new mp.BatchContext();
    if (context.data_plan) b.context.data_plan = mp.DataPlanContext.constructFromObject(context.data_plan);
  }
  if (events) {
    b.events = events.map((e) => {
      const M = byType[e.event_type];
      return M ? new mp.EventBase(M.constructFromObject(e.data), e.event_type)
               : mp.EventBase.constructFromObject(e);
    });
  }
  return b;
}
eachLine(process.argv[2], (l) => emit(JSON.stringify(toSdk(JSON.parse(l))) + "\n"));
flush();
EOF
} >"$tmp/node_sdk.js"

# --- optional: the official Node SDK ------------------------------------------------
have_node=0
command -v node >/dev/null 2>&1 && have_node=1
sdk_dir="$out/node-sdk"
sdk_mod="$PWD/$sdk_dir/node_modules/mparticle"
have_sdk=0
sdk_note=
if [ "$have_node" = 0 ]; then
  sdk_note="node not installed: Node baselines and the official Node SDK skipped"
elif [ -f "$sdk_mod/package.json" ]; then
  have_sdk=1
elif ! command -v npm >/dev/null 2>&1; then
  sdk_note="npm not installed: official Node SDK skipped"
else
  # Into $sdk_dir.part, renamed when complete: an interrupted install is not reused.
  rm -rf "$sdk_dir.part"
  mkdir -p "$sdk_dir.part"
  if timeout 300 npm install --prefix "$sdk_dir.part" --no-audit --no-fund --no-save \
      "mparticle@$sdk_version" >"$tmp/npm.log" 2>&1 &&
      [ -f "$sdk_dir.part/node_modules/mparticle/package.json" ]; then
    rm -rf "$sdk_dir"
    mv "$sdk_dir.part" "$sdk_dir"
    have_sdk=1
  else
    rm -rf "$sdk_dir.part"
    sdk_note="npm install mparticle@$sdk_version failed: official Node SDK skipped ($(grep -m1 -E '^npm (error|ERR!)' "$tmp/npm.log" || tail -n 1 "$tmp/npm.log"))"
  fi
fi
if [ "$have_sdk" = 1 ]; then
  # Same job as normalize? Compare the first 1,000 batches as parsed values.
  head -n 1000 "$w1" >"$tmp/check.ndjson"
  "$mp" normalize "$tmp/check.ndjson" >"$tmp/check.mp" 2>/dev/null
  if ! node "$tmp/node_sdk.js" "$tmp/check.ndjson" "$sdk_mod" >"$tmp/check.sdk" 2>"$tmp/check.err"; then
    have_sdk=0
    sdk_note="official Node SDK skipped: it fails on W1 ($(grep -m1 -E '^[A-Za-z]*Error\b' "$tmp/check.err" || tail -n 1 "$tmp/check.err"))"
  fi
fi
if [ "$have_sdk" = 1 ]; then
  sdk_diff=$(node -e '
    const fs = require("fs");
    const rd = (f) => fs.readFileSync(f, "utf8").split("\n").filter((l) => l).map((l) => JSON.parse(l));
    const a = rd(process.argv[1]), b = rd(process.argv[2]), seen = new Map();
    const note = (path, what) => { const k = path.replace(/\[\d+\]/g, "[]") + ": " + what; seen.set(k, (seen.get(k) || 0) + 1); };
    function diff(x, y, path) {  // x: normalize, y: the SDK
      if (x && y && typeof x === "object" && typeof y === "object" && Array.isArray(x) === Array.isArray(y)) {
        for (const k of new Set([...Object.keys(x), ...Object.keys(y)])) {
          const p = Array.isArray(x) ? path + "[" + k + "]" : (path ? path + "." : "") + k;
          if (!(k in y)) note(p, "dropped by the SDK"); else if (!(k in x)) note(p, "added by the SDK"); else diff(x[k], y[k], p);
        }
      } else if (JSON.stringify(x) !== JSON.stringify(y)) note(path, "differs");
    }
    if (a.length !== b.length) note("(batches)", a.length + " vs " + b.length);
    a.forEach((x, i) => diff(x, b[i], ""));
    console.log([...seen].map(([k, n]) => k + " (" + n + "x)").join("; "));' "$tmp/check.mp" "$tmp/check.sdk")
  if [ -n "$sdk_diff" ]; then sdk_note="official Node SDK against mparticle normalize on W1's first 1,000 batches: $sdk_diff"; fi
fi

# --- measuring ---------------------------------------------------------------------
failed=0
# measure ID CMD...: warm-up + $runs runs; leaves "wall user sys rss status"
# of the run with the median wall time in $tmp/ID.median.
measure() {
  local id=$1; shift
  local i rc
  : >"$tmp/$id.runs"
  for ((i = 0; i <= runs; i++)); do
    rc=0
    "$meas" "$@" >"$tmp/$id.one" 2>"$tmp/$id.err" </dev/null || rc=$?
    if [ "$rc" -ne 0 ]; then
      echo "FAILED (exit $rc): $*" >&2
      tail -n 5 "$tmp/$id.err" >&2
      echo "0 0 0 0 $rc" >"$tmp/$id.median"
      failed=1
      return 0
    fi
    if [ "$i" -gt 0 ]; then cat "$tmp/$id.one" >>"$tmp/$id.runs"; fi
  done
  sort -g -k1,1 "$tmp/$id.runs" | sed -n "$(((runs + 1) / 2))p" >"$tmp/$id.median"
}

# row LABEL ID REF_ID: one Markdown row, wall ratio against REF_ID's.
row() {
  local label=$1 id=$2 ref=$3
  awk -v label="$label" -v self="$id" -v ref="$ref" '
    NR == FNR { rw = $1; next }
    {
      if ($5 != 0) { printf "| %s | FAILED (exit %d) | | | | |\n", label, $5; exit }
      ratio = (self == ref) ? "1×" : (rw > 0 ? sprintf("%.2f×", $1 / rw) : "?")
      printf "| %s | %.3f s | %.3f s | %.3f s | %.1f MiB | %s |\n", label, $1, $2, $3, $4 / 1024, ratio
    }' "$tmp/$ref.median" "$tmp/$id.median"
}

# `mparticle send --bulk` needs a server: `mparticle serve --sink`, another
# process on the same two cores, answering every request with 202.
"$mp" serve --sink --key bench-key --secret bench-secret >"$tmp/serve.out" 2>/dev/null &
serve_pid=$!
for _ in $(seq 100); do [ -s "$tmp/serve.out" ] && break; sleep 0.1; done
url=$(head -n 1 "$tmp/serve.out")
url=${url#listening on }/v2

echo "## machine"
echo "$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
versions="mparticle $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- src include tools 2>/dev/null || echo ' (+ uncommitted changes)')"
versions+=", $("$py" --version 2>&1)"
if [ "$have_node" = 1 ]; then versions+=", Node $(node --version)"; fi
if [ "$have_sdk" = 1 ]; then versions+=", npm mparticle $(node -p "require('$sdk_mod/package.json').version")"; fi
echo "$versions"
if [ -n "$sdk_note" ]; then echo "$sdk_note"; fi
echo

for input in "$w1" "$w10"; do
  size=$(awk -v b="$(stat -c %s "$input")" 'BEGIN { printf "%.1f MB", b / 1e6 }')
  batches=$(wc -l <"$input")
  if [ "$input" = "$w1" ]; then name="W1"; else name="ten times W1"; fi
  echo "## $name ($(basename "$input"): $size, $batches batches); median of $runs runs after a warm-up"
  echo

  measure mp_norm "$mp" normalize "$input"
  measure mp_val "$mp" validate --now "$now_ms" "$input"
  measure mp_send "$mp" send --bulk -q --no-progress --url "$url" --key bench-key \
    --secret bench-secret "$input"
  if [ "$have_node" = 1 ]; then
    measure node_norm node "$tmp/node_norm.js" "$input"
    measure node_parse node "$tmp/node_parse.js" "$input"
    if [ "$have_sdk" = 1 ]; then measure node_sdk node "$tmp/node_sdk.js" "$input" "$sdk_mod"; fi
  fi
  measure py_norm "$py" "$tmp/py_norm.py" "$input"
  measure py_parse "$py" "$tmp/py_parse.py" "$input"

  echo "| Command | wall (median) | user | sys | peak RSS | vs mparticle |"
  echo "|---|---:|---:|---:|---:|---:|"
  row "**\`mparticle normalize\`**" mp_norm mp_norm
  if [ "$have_node" = 1 ]; then
    row "Node \`JSON.parse\` + \`JSON.stringify\`" node_norm mp_norm
    if [ "$have_sdk" = 1 ]; then row "Node official SDK (npm \`mparticle\`): parse, model, stringify" node_sdk mp_norm; fi
  fi
  row "Python \`json.loads\` + \`json.dumps\`" py_norm mp_norm
  row "**\`mparticle validate\`**" mp_val mp_val
  if [ "$have_node" = 1 ]; then row "Node \`JSON.parse\` alone" node_parse mp_val; fi
  row "Python \`json.loads\` alone" py_parse mp_val
  row "**\`mparticle send --bulk\`** to \`serve --sink\`" mp_send mp_send
  awk -v n="$batches" '{ if ($1 > 0) printf "\nsend: %.0f events/s (10 events a batch)\n", n * 10 / $1 }' \
    "$tmp/mp_send.median"
  echo
done
echo "vs mparticle: the row's median wall time over that of \`mparticle normalize\` (normalize rows) or \`mparticle validate --now $now_ms\` (parse-only rows); above 1× is slower."
exit "$failed"

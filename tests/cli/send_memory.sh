#!/usr/bin/env bash
# `mparticle send` streams its input: its peak RSS on an input and on ten
# times that input (5,000 and 50,000 W1 batches, 12 and 120 MB) is the
# same within 4 MB, for NDJSON from a file and for a JSON array from a
# pipe, sent to a server that answers at once (`serve --sink`). And when
# the server is slow, so that the upload queue fills up, it stays under
# 32 MB: the queue is bounded (8 MiB).
# Skipped (exit 77) under sanitizers, whose allocators keep freed memory.
# Usage: send_memory.sh PATH/TO/mparticle PATH/TO/tests/cli/data [SANITIZED]
cli=$1
data=$2
if [ -n "${3:-}" ]; then
  echo "send_memory: skipped under -DMP_SANITIZE=$3"
  exit 77
fi
. "$(dirname "$0")/send_lib.sh"

batches 5000 >"$tmp/small.ndjson"
for _ in $(seq 10); do cat "$tmp/small.ndjson"; done >"$tmp/big.ndjson"
for f in small big; do
  { echo '['; sed '$!s/$/,/' "$tmp/$f.ndjson"; echo ']'; } >"$tmp/$f.json"
done

# peak_kb ARGS...: runs `mparticle send ARGS` (60 s at most) with standard
# input from $stdin; prints its peak RSS in KB; it must exit 0.
peak_kb() {
  python3 - "$stdin" "$cli" send -q --no-progress --url "$url" --key k --secret s "$@" <<'PY'
import resource, subprocess, sys
with open(sys.argv[1], "rb") as stdin:
    r = subprocess.run(sys.argv[2:], stdin=stdin, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=60)
if r.returncode != 0:
    sys.exit("exit %d: %s" % (r.returncode, r.stderr.decode()[-2000:]))
# This process has no other children: the maximum is send's own peak.
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
PY
}

# compare WHAT SMALL_KB BIG_KB
compare() {
  echo "$1: peak RSS $2 KB on 5,000 batches, $3 KB on 50,000"
  [ "$3" -lt $((32 * 1024)) ] || fail "$1: $3 KB is over 32 MB"
  [ $(($3 - $2)) -lt 4096 ] || fail "$1: memory grows with the input ($2 KB -> $3 KB)"
}

start --sink
stdin=/dev/null
small=$(peak_kb --bulk "$tmp/small.ndjson") || fail "small NDJSON"
big=$(peak_kb --bulk "$tmp/big.ndjson") || fail "big NDJSON"
compare "NDJSON file" "$small" "$big"
stdin=$tmp/small.json
small=$(peak_kb --bulk -) || fail "small array"
stdin=$tmp/big.json
big=$(peak_kb --bulk -) || fail "big array"
compare "JSON array on a pipe" "$small" "$big"
stop

# A slow server: the queue fills up and stays bounded.
start --threads 8 --latency-ms 20
stdin=/dev/null
full=$(peak_kb --bulk --ids random "$tmp/big.ndjson") || fail "slow server"
echo "NDJSON file, slow server: peak RSS $full KB on 50,000 batches"
[ "$full" -lt $((32 * 1024)) ] || fail "$full KB is over 32 MB with the queue full"
stop
[ "$(serve_count accepted)" -eq 50000 ] || fail "server: $summary"
echo "send_memory: all passed"

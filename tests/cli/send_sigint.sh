#!/usr/bin/env bash
# Ctrl-C in `mparticle send`: SIGINT stops the reading, lets requests in
# flight finish (5 s at most), writes the report (one line per batch read,
# each once) and the summary, and exits 130. SIGINT also ends a read that
# waits on an idle pipe; SIGTERM does the same; a second SIGINT exits at
# once.
# Usage: send_sigint.sh PATH/TO/mparticle PATH/TO/tests/cli/data
cli=$1
data=$2
. "$(dirname "$0")/send_lib.sh"

batches 3000 >"$tmp/b.ndjson"

# wait_lines FILE N: waits (10 s at most) until FILE has N lines.
wait_lines() {
  for _ in $(seq 200); do
    [ -f "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ] && return 0
    sleep 0.05
  done
  fail "$1 did not reach $2 lines"
}

# interrupt SIGNAL MAX_SECONDS: sends SIGNAL to $sp, waits for it (MAX_SECONDS
# at most) and checks exit 130.
interrupt() {
  local t0 rc=0
  t0=$(date +%s%N)
  kill "-$1" "$sp"
  timeout "$2" tail --pid="$sp" -f /dev/null || fail "send still runs $2 s after SIG$1"
  wait "$sp" || rc=$?
  [ "$rc" -eq 130 ] || fail "exit $rc after SIG$1, wanted 130"
  elapsed_ms=$((($(date +%s%N) - t0) / 1000000))
}

# check_report: one line per batch the summary counts; the batches read
# are a prefix of the input; some were not sent.
check_report() {
  local n
  n=$(tail -n 1 "$tmp/send.err" | sed -n 's/^mparticle send: \([0-9]*\) batches.*/\1/p')
  [ -n "$n" ] || fail "no summary: $(cat "$tmp/send.err")"
  python3 - "$tmp/r.ndjson" "$n" "$1" <<'PY' || fail "report: $(head -c 1000 "$tmp/r.ndjson")"
import collections, json, sys
r = [json.loads(l) for l in open(sys.argv[1])]
n = int(sys.argv[2])
assert len(r) == n, (len(r), n)
assert sorted(x["batch"] for x in r) == list(range(1, n + 1))
c = collections.Counter(x["outcome"] for x in r)
assert c["accepted"] > 0 and c["rejected"] == c["invalid"] == 0, c
if sys.argv[3] == "some-not-sent":
    assert c["not_sent"] > 0, c
    assert all(x["error"] == "not sent: interrupted" for x in r if x["outcome"] == "not_sent")
PY
}

# --- SIGINT while sending to a slow server --------------------------------------
start --latency-ms 300
"$cli" send -q --no-progress --url "$url" --key k --secret s --report "$tmp/r.ndjson" \
  "$tmp/b.ndjson" >"$tmp/send.out" 2>"$tmp/send.err" &
sp=$!
wait_lines "$tmp/r.ndjson" 8
interrupt INT 10
[ "$elapsed_ms" -lt 8000 ] || fail "took $elapsed_ms ms to stop"
grep -q "interrupted: finishing requests in flight" "$tmp/send.err" || fail "no notice: $(cat "$tmp/send.err")"
summary_has "not_sent; "
check_report some-not-sent
stop

# --- SIGTERM while reading an idle pipe (everything read so far was sent) ---------
# Each of the 20 lines is a whole NDJSON record, handed out when its newline
# arrives (a live feed is not held back), so all 20 are sent before the pipe
# goes quiet.
start
rm "$tmp/r.ndjson"
mkfifo "$tmp/fifo"
(head -n 20 "$tmp/b.ndjson"; sleep 30) >"$tmp/fifo" &
writer=$!
"$cli" send -q --no-progress --url "$url" --key k --secret s --report "$tmp/r.ndjson" \
  "$tmp/fifo" >"$tmp/send.out" 2>"$tmp/send.err" &
sp=$!
wait_lines "$tmp/r.ndjson" 20
interrupt TERM 5
kill "$writer" 2>/dev/null || true
summary_has "20 batches (200 events) to $url: 20 accepted, 0 rejected, 0 invalid, 0 undelivered, 0 not_sent"
check_report all-sent
stop

# --- a second SIGINT exits at once -------------------------------------------------
start --latency-ms 5000
"$cli" send -q --no-progress --url "$url" --key k --secret s "$tmp/b.ndjson" \
  >"$tmp/send.out" 2>"$tmp/send.err" &
sp=$!
sleep 0.5
kill -INT "$sp"
sleep 0.3
interrupt INT 2
grep -q "interrupted again: exiting now" "$tmp/send.err" || fail "second SIGINT: $(cat "$tmp/send.err")"
stop
echo "send_sigint: all passed"

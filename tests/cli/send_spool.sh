#!/usr/bin/env bash
# An interrupted send resumes: `mparticle send --spool DIR` of 20,000
# batches to `mparticle serve --record` is killed with SIGKILL at 20 random
# moments and started again each time; a last run goes to the end. The
# server's record must then hold every input batch exactly once (each
# customer_id once, none missing), the spool must be empty, and
# `mparticle spool` must have shown what was left while it was not.
# Then `mparticle spool --drain` delivers a spool that send left behind.
# Usage: send_spool.sh PATH/TO/mparticle PATH/TO/tests/cli/data [SANITIZERS]
cli=$1
data=$2
. "$(dirname "$0")/send_lib.sh"

count=20000
kills=20
# The kill lands 50 to 549 ms into a run. Sanitizers make everything several
# times slower (starting up included): fewer batches, later kills.
min_ms=50
[ -n "${3:-}" ] && { count=5000; min_ms=400; }
batches "$count" >"$tmp/b.ndjson"
start --record "$tmp/record.ndjson" --latency-ms 1
spool="$tmp/spool"

killed_with_work_left=0
for k in $(seq "$kills"); do
  "$cli" send --no-progress --url "$url" --key k --secret s --spool "$spool" \
    --concurrency 2 "$tmp/b.ndjson" >"$tmp/send.out" 2>"$tmp/send.err" &
  sender=$!
  # Anywhere from opening the spool to the middle of the input.
  ms=$((min_ms + RANDOM % 500))
  sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
  kill -KILL "$sender" 2>/dev/null || true
  wait "$sender" 2>/dev/null || true
  # Exit 1 means damaged records: a kill in the middle of a write leaves a
  # torn last record, which the next run cuts off. Expected here.
  rc=0
  "$cli" spool --json "$spool" >"$tmp/spool.json" || rc=$?
  [ "$rc" -le 1 ] || fail "mparticle spool: exit $rc"
  left=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["batches"])' "$tmp/spool.json")
  if [ "$left" -gt 0 ]; then killed_with_work_left=$((killed_with_work_left + 1)); fi
done
# The kills must have caught it with batches in the spool, or nothing was tested.
[ "$killed_with_work_left" -ge 5 ] || fail "only $killed_with_work_left kills left batches in the spool"

rc=0
"$cli" spool "$spool" >"$tmp/spool.txt" || rc=$?
[ "$rc" -le 1 ] || fail "mparticle spool: exit $rc"
grep -q "^  batches " "$tmp/spool.txt" || fail "mparticle spool printed: $(cat "$tmp/spool.txt")"

send 0 --url "$url" --key k --secret s --spool "$spool" "$tmp/b.ndjson"
grep -q "input batches skipped" "$tmp/send.err" || fail "no resume line: $(tail -n 2 "$tmp/send.err")"
"$cli" spool --json "$spool" >"$tmp/spool.json"
python3 - "$tmp/spool.json" <<'PY' || fail "spool not empty: $(cat "$tmp/spool.json")"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["batches"] == 0 and s["corrupt_records"] == 0, s
PY
stop
python3 - "$tmp/record.ndjson" "$count" <<'PY' || fail "the record does not hold every batch exactly once"
import collections, json, sys
seen = collections.Counter(json.loads(l)["user_identities"]["customer_id"] for l in open(sys.argv[1]))
want = {"cust-%d" % i for i in range(int(sys.argv[2]))}
twice = [c for c, n in seen.items() if n > 1]
missing = want - set(seen)
extra = set(seen) - want
print("record: %d batches, %d distinct; twice %d, missing %d, extra %d"
      % (sum(seen.values()), len(seen), len(twice), len(missing), len(extra)))
sys.exit(1 if twice or missing or extra else 0)
PY

# --drain: a send stopped while the server is away leaves its batches in
# the spool; `mparticle spool DIR --drain` delivers them.
batches 50 >"$tmp/c.ndjson"
rm -rf "$spool"
send 1 --url "http://127.0.0.1:1/v2" --key k --secret s --spool "$spool" --max-attempts 1 \
  "$tmp/c.ndjson"
# Attempts exhausted are final: those batches left the spool. Keep them in
# it instead: unlimited attempts, and the run killed while it retries.
rm -rf "$spool"
"$cli" send --no-progress --url "http://127.0.0.1:1/v2" --key k --secret s --spool "$spool" \
  --max-attempts 0 "$tmp/c.ndjson" >"$tmp/send.out" 2>"$tmp/send.err" &
sender=$!
sleep 0.5
kill -KILL "$sender"; wait "$sender" 2>/dev/null || true
"$cli" spool --json "$spool" >"$tmp/spool.json"
held=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["batches"])' "$tmp/spool.json")
[ "$held" -eq 50 ] || fail "the spool holds $held batches, not 50"
start --record "$tmp/record2.ndjson"
rc=0
timeout 60 "$cli" spool "$spool" --drain --no-progress --url "$url" --key k --secret s \
  >"$tmp/send.out" 2>"$tmp/send.err" || rc=$?
[ "$rc" -eq 0 ] || fail "spool --drain: exit $rc: $(tail -n 3 "$tmp/send.err")"
grep -q "50 recovered" "$tmp/send.err" || fail "drain summary: $(tail -n 2 "$tmp/send.err")"
stop
[ "$(wc -l <"$tmp/record2.ndjson")" -eq 50 ] || fail "drain recorded $(wc -l <"$tmp/record2.ndjson")"
echo "ok: $kills kills ($killed_with_work_left with batches in the spool), $count batches once each; drain"

#!/usr/bin/env bash
# `mparticle send` end to end against `mparticle serve` (both the built
# CLI): one batch per request, bulk packing, invalid batches left out,
# rejected and undeliverable batches reported, duplicates, exit codes.
# Usage: send_cli.sh PATH/TO/mparticle PATH/TO/gen_workload.py
set -euo pipefail
cli=$1
gen=$2
tmp=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  # The server's own messages (a sanitizer report, say) explain most failures.
  [ -s "$tmp/serve.err" ] && { echo "--- serve stderr:" >&2; cat "$tmp/serve.err" >&2; }
  exit 1
}
unset MPARTICLE_API_KEY MPARTICLE_API_SECRET

# start ARGS...: `mparticle serve --port 0 --key k --secret s ARGS` in the
# background; sets $pid and $url (with /v2).
start() {
  "$cli" serve --port 0 --key k --secret s "$@" >"$tmp/serve.out" 2>"$tmp/serve.err" &
  pid=$!
  for _ in $(seq 100); do
    [ -s "$tmp/serve.out" ] && break
    kill -0 "$pid" 2>/dev/null || fail "serve exited: $(cat "$tmp/serve.err")"
    sleep 0.1
  done
  url="$(head -n 1 "$tmp/serve.out" | sed 's/^listening on //')/v2"
}

# stop: stops the server; sets $summary to its last line.
stop() {
  kill -TERM "$pid"
  local rc=0
  wait "$pid" || rc=$?
  pid=
  [ "$rc" -eq 0 ] || fail "serve exited with $rc after SIGTERM"
  summary=$(tail -n 1 "$tmp/serve.out")
}

# send EXPECTED_EXIT ARGS...: runs send, checks the exit code; output in $tmp/send.{out,err}.
send() {
  local want=$1; shift
  local rc=0
  "$cli" send --no-progress "$@" >"$tmp/send.out" 2>"$tmp/send.err" || rc=$?
  [ "$rc" -eq "$want" ] || fail "send $*: exit $rc, wanted $want; stdout: $(cat "$tmp/send.out"); stderr: $(cat "$tmp/send.err")"
}

# requests_between LO HI: the summary's request count is within [LO, HI].
requests_between() {
  local n
  n=$(sed -n 's/.*, \([0-9]*\) requests$/\1/p' "$tmp/send.err")
  [ -n "$n" ] && [ "$n" -ge "$1" ] && [ "$n" -le "$2" ] || fail "requests: $(cat "$tmp/send.err")"
}

/usr/bin/python3 "$gen" 250 >"$tmp/w1.ndjson"

# --- one batch per request: every batch recorded once, each with its own id --------
start --record "$tmp/rec1.ndjson"
send 0 --url "$url" --key k --secret s --concurrency 8 "$tmp/w1.ndjson"
grep -q ": 250 batches (2500 events) to $url: 250 accepted, 0 not delivered, " "$tmp/send.err" ||
  fail "summary: $(cat "$tmp/send.err")"
requests_between 250 255 # one per batch (a retry on a loaded machine may add one)
[ "$(wc -l <"$tmp/rec1.ndjson")" -eq 250 ] || fail "recorded $(wc -l <"$tmp/rec1.ndjson") batches"
ids=$(grep -o '"source_request_id":"[0-9a-f-]*"' "$tmp/rec1.ndjson" | sort -u | wc -l)
[ "$ids" -eq 250 ] || fail "$ids distinct source_request_ids"
# What the server recorded carries the ids it saw: sending it again makes
# 250 duplicates, answered 202 and not recorded twice.
cp "$tmp/rec1.ndjson" "$tmp/again.ndjson"
send 0 --url "$url" --key k --secret s "$tmp/again.ndjson"
stop
[[ $summary == *"duplicates 250,"* ]] || fail "duplicates: $summary"
[ "$(wc -l <"$tmp/rec1.ndjson")" -eq 250 ] || fail "duplicates were recorded"

# --- bulk: 250 W1 batches (2.4 KB) pack into 100 + 100 + 50 -------------------------
start --record "$tmp/rec2.ndjson"
send 0 --url "$url" --key k --secret s --bulk "$tmp/w1.ndjson"
grep -q "250 accepted, 0 not delivered, " "$tmp/send.err" || fail "bulk: $(cat "$tmp/send.err")"
requests_between 3 5
[ "$(wc -l <"$tmp/rec2.ndjson")" -eq 250 ] || fail "bulk recorded $(wc -l <"$tmp/rec2.ndjson")"
# Historical: W1's events are from 2023, older than 72 hours.
send 0 --url "$url" --key k --secret s --historical --max-attempts 1 <(head -n 10 "$tmp/w1.ndjson")
grep -q "10 accepted" "$tmp/send.err" || fail "historical: $(cat "$tmp/send.err")"
stop

# --- an invalid batch is reported and left out; the others are delivered ----------
{
  head -n 1 "$tmp/w1.ndjson"
  echo '{"environment":"staging","events":[]}'
  sed -n 2p "$tmp/w1.ndjson"
} >"$tmp/mixed.ndjson"
start
send 1 --url "$url" --key k --secret s --bulk "$tmp/mixed.ndjson"
grep -q "^$tmp/mixed.ndjson:1: environment: " "$tmp/send.out" || fail "problem line: $(cat "$tmp/send.out")"
grep -q "2 accepted, 0 not delivered" "$tmp/send.err" || fail "mixed: $(cat "$tmp/send.err")"
stop

# --- rejected by the server, wrong credentials, nobody listening -------------------
start --script 400
send 1 --url "$url" --key k --secret s <(head -n 2 "$tmp/w1.ndjson")
grep -q ":[01]: (batch): not delivered: HTTP 400" "$tmp/send.out" || fail "400: $(cat "$tmp/send.out")"
grep -q "1 accepted, 1 not delivered" "$tmp/send.err" || fail "400 summary: $(cat "$tmp/send.err")"
send 1 --url "$url" --key k --secret wrong <(head -n 1 "$tmp/w1.ndjson")
grep -q "not delivered: HTTP 403" "$tmp/send.out" || fail "403: $(cat "$tmp/send.out")"
stop
# Nobody listens on port 1 (a port freed by `stop` could be taken by another
# test running in parallel).
dead=http://127.0.0.1:1/v2
send 1 --url "$dead" --key k --secret s --max-attempts 2 <(head -n 1 "$tmp/w1.ndjson")
grep -q "not delivered: .*after 2 attempts" "$tmp/send.out" || fail "refused: $(cat "$tmp/send.out")"

# --- usage errors --------------------------------------------------------------------
send 2 --url "$dead" "$tmp/w1.ndjson"                              # no credentials
send 2 --url "$dead" --pod US2 --key k --secret s "$tmp/w1.ndjson" # both --url and --pod
send 2 --pod MARS --key k --secret s "$tmp/w1.ndjson"
send 2 --concurrency 0 --key k --secret s "$tmp/w1.ndjson"
send 2 --url "$dead" --key k --secret s "$tmp/missing.ndjson"
MPARTICLE_API_KEY=k MPARTICLE_API_SECRET=s "$cli" send --no-progress --url "ftp://x" "$tmp/w1.ndjson" \
  >/dev/null 2>"$tmp/ftp.err" && fail "ftp URL accepted"
grep -q "base_url" "$tmp/ftp.err" || fail "ftp message: $(cat "$tmp/ftp.err")"
echo "send_cli: all passed"

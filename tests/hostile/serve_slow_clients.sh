#!/usr/bin/env bash
# 1,100 connections dripping one header byte every 500 ms and one dripping
# a chunked body must not delay anyone else, and none may stay open past
# the total deadlines (--header-timeout 2, --body-timeout 3), however
# steadily bytes trickle in; the idle timeout is set high (30 s) so that
# only the total deadlines can close them. Only 127.0.0.1 is used; the run
# takes about 8 s.
# Usage: serve_slow_clients.sh PATH/TO/mparticle PATH/TO/slow_clients
set -euo pipefail
cli=$1 slow=$2
tmp=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; cat "$tmp/report" >&2 2>/dev/null || true; exit 1; }

"$cli" serve --key test-key --secret test-secret --header-timeout 2 --body-timeout 3 \
  --timeout 30 >"$tmp/serve.out" 2>"$tmp/serve.err" &
pid=$!
for _ in $(seq 100); do [ -s "$tmp/serve.out" ] && break; sleep 0.1; done
url=$(head -n 1 "$tmp/serve.out"); url=${url#listening on }
port=${url##*:}
[ -n "$port" ] || fail "serve did not start: $(cat "$tmp/serve.err")"

rc=0
timeout 30 "$slow" "$port" 1100 1 500 7 >"$tmp/report" || rc=$?
[ "$rc" -eq 77 ] && { cat "$tmp/report"; exit 77; }
[ "$rc" -eq 0 ] || fail "slow_clients exited $rc"
cat "$tmp/report"
value() { awk -v k="$1" '$1 == k { print $2 }' "$tmp/report"; }
opened=$(value opened) closed=$(value closed_by_server) longest=$(value longest_open_s)
requests=$(value requests) ok=$(awk '$1 == "requests" { print $4 }' "$tmp/report")
slowest=$(value slowest_answer_s)
[ "$opened" -eq 1101 ] || fail "only $opened of 1101 slow connections were accepted"
[ "$closed" -eq "$opened" ] || fail "$((opened - closed)) slow connections still open after 7 s"
awk -v l="$longest" 'BEGIN { exit !(l <= 4.5) }' || fail "a slow connection stayed open ${longest} s"
[ "$requests" -ge 20 ] && [ "$ok" -eq "$requests" ] || fail "$ok of $requests requests answered"
awk -v s="$slowest" 'BEGIN { exit !(s < 1.0) }' || fail "an ordinary request waited ${slowest} s"

kill -TERM "$pid"
wait "$pid" || fail "serve exited $?"
pid=
grep -q '^summary: requests' "$tmp/serve.out" || fail "no summary"
echo "serve_slow_clients: all passed"

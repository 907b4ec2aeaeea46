#!/usr/bin/env bash
# `mparticle serve` as a process: the first line names the URL, curl gets
# the API's answers, SIGTERM/SIGINT stop it with a summary and exit 0, and
# usage errors or an address in use exit 2.
# Usage: serve_cli.sh PATH/TO/mparticle
set -euo pipefail
cli=$1
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

batch='{"environment":"development","source_request_id":"r1","user_identities":{"customer_id":"c"},"events":[{"event_type":"custom_event","data":{"event_name":"x","custom_event_type":"other"}}]}'

# start NAME ARGS...: runs `mparticle serve ARGS` in the background with
# stdout/stderr in $tmp/NAME.out/.err; sets $pid and $url from its first line.
start() {
  local name=$1; shift
  "$cli" serve "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
  pid=$!
  pids+=("$pid")
  for _ in $(seq 100); do
    [ -s "$tmp/$name.out" ] && break
    kill -0 "$pid" 2>/dev/null || fail "$name: exited early: $(cat "$tmp/$name.err")"
    sleep 0.1
  done
  local line
  line=$(head -n 1 "$tmp/$name.out")
  [[ $line =~ ^listening\ on\ http://127\.0\.0\.1:[0-9]+$ ]] || fail "$name: first line '$line'"
  url=${line#listening on }
}

# post USERPWD PATH BODY: prints the status ("000" when no answer came).
post() {
  local auth=()
  [ -n "$1" ] && auth=(-u "$1")
  curl -s -o "$tmp/body" -w '%{http_code}' "${auth[@]}" -H 'Content-Type: application/json' \
    --data-binary "$3" "$url$2" || true
}

# stop NAME SIGNAL: sends the signal, expects exit 0; sets $summary.
stop() {
  kill "-$2" "$pid"
  local rc=0
  wait "$pid" || rc=$?
  [ "$rc" -eq 0 ] || fail "$1: exit code $rc after SIG$2"
  summary=$(tail -n 1 "$tmp/$1.out")
}

# --- credentials, record, dedup, summary --------------------------------------
start main --port 0 --key k --secret s --record "$tmp/record.ndjson"
[ "$(post k:s /v2/events "$batch")" = 202 ] || fail "valid batch"
[ "$(post k:s /v2/events "$batch")" = 202 ] || fail "duplicate batch"
[ "$(post '' /v2/events "$batch")" = 401 ] || fail "no credentials"
[ "$(post k:x /v2/events "$batch")" = 403 ] || fail "wrong secret"
[ "$(post k:s /v2/events '{"events":[]}')" = 400 ] || fail "invalid batch"
grep -q '"message":"environment: required field is missing"' "$tmp/body" || fail "400 body: $(cat "$tmp/body")"
[ "$(post k:s /v2/nothing "$batch")" = 404 ] || fail "unknown path"
stop main TERM
expected="summary: requests 6, received 3, accepted 1, rejected 1, duplicates 1, throttled 0"
[ "$summary" = "$expected" ] || fail "summary '$summary'"
[ "$(wc -l <"$tmp/main.out")" -eq 2 ] || fail "stdout: $(cat "$tmp/main.out")"
[ ! -s "$tmp/main.err" ] || fail "stderr with credentials set: $(cat "$tmp/main.err")"
printf '%s\n' "$batch" | cmp -s - "$tmp/record.ndjson" || fail "record: $(cat "$tmp/record.ndjson")"

[ "$(stat -c %a "$tmp/record.ndjson")" = 600 ] || fail "record mode $(stat -c %a "$tmp/record.ndjson")"

# --- a record that cannot be written: 507, said on stderr, exit 1 ---------------
start full --key k --secret s --record /dev/full
[ "$(post k:s /v2/events "$batch")" = 507 ] || fail "full disk: not 507"
grep -q 'could not record the batches: No space left on device' "$tmp/body" || fail "507 body: $(cat "$tmp/body")"
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
[ "$rc" -eq 1 ] || fail "full disk: exit $rc after SIGTERM"
[ "$(tail -n 1 "$tmp/full.out")" = "summary: requests 1, received 1, accepted 0, rejected 0, duplicates 0, throttled 0, unrecorded 1" ] ||
  fail "full disk summary: $(tail -n 1 "$tmp/full.out")"
grep -q '^mparticle serve: cannot write the record file /dev/full: No space left on device' "$tmp/full.err" ||
  fail "full disk stderr: $(cat "$tmp/full.err")"

# --- no credentials: said on stderr, any pass; SIGINT stops too ----------------
env -u MPARTICLE_API_KEY -u MPARTICLE_API_SECRET "$cli" serve >"$tmp/open.out" 2>"$tmp/open.err" &
pid=$!
pids+=("$pid")
for _ in $(seq 100); do [ -s "$tmp/open.out" ] && break; sleep 0.1; done
url=$(head -n 1 "$tmp/open.out"); url=${url#listening on }
[ "$(post any:thing /v2/bulkevents "[$batch]")" = 202 ] || fail "open server"
grep -q 'any non-empty Basic credentials are accepted' "$tmp/open.err" || fail "no warning: $(cat "$tmp/open.err")"
stop open INT
[ "$summary" = "summary: requests 1, received 1, accepted 1, rejected 0, duplicates 0, throttled 0" ] ||
  fail "open summary '$summary'"

# --- credentials from the environment, script, rate limit ---------------------
MPARTICLE_API_KEY=ek MPARTICLE_API_SECRET=es start env --script 503,reset,202 --rate-limit 1 --retry-after 3
[ "$(post k:s /v2/events "$batch")" = 403 ] || fail "env credentials: k:s"
headers=$(curl -s -D - -o /dev/null -u ek:es --data-binary "$batch" "$url/v2/events")
grep -q '^HTTP/1.1 503' <<<"$headers" || fail "script 503: $headers"
grep -qi '^Retry-After: 3' <<<"$headers" || fail "Retry-After 3: $headers"
rc=0; curl -s -o /dev/null -u ek:es --data-binary "$batch" "$url/v2/events" || rc=$?
[ "$rc" -eq 52 ] || fail "scripted reset: curl exit $rc"
[ "$(post ek:es /v2/events "$batch")" = 202 ] || fail "script 202"
headers=$(curl -s -D - -o /dev/null -u ek:es --data-binary "$batch" "$url/v2/events")
grep -q '^HTTP/1.1 429' <<<"$headers" || fail "rate limit: $headers"
grep -qi '^X-mp-rate-limit-exceeded: app' <<<"$headers" || fail "exceeded header: $headers"
port=${url##*:}
# The same port again: cannot bind, exit 2.
rc=0; "$cli" serve --port "$port" >"$tmp/busy.out" 2>"$tmp/busy.err" || rc=$?
[ "$rc" -eq 2 ] || fail "port in use: exit $rc"
grep -q "cannot listen on 127.0.0.1 port $port" "$tmp/busy.err" || fail "busy: $(cat "$tmp/busy.err")"
[ ! -s "$tmp/busy.out" ] || fail "busy server printed: $(cat "$tmp/busy.out")"
stop env TERM
[ "$summary" = "summary: requests 5, received 1, accepted 1, rejected 0, duplicates 0, throttled 1" ] ||
  fail "env summary '$summary'"

# --- usage errors: exit 2 with a message --------------------------------------
usage() {
  local rc=0
  "$cli" serve "$@" >"$tmp/usage.out" 2>"$tmp/usage.err" || rc=$?
  [ "$rc" -eq 2 ] || fail "serve $*: exit $rc"
  [ -s "$tmp/usage.err" ] || fail "serve $*: no message"
  [ ! -s "$tmp/usage.out" ] || fail "serve $*: printed $(cat "$tmp/usage.out")"
}
usage --fail-rate 2
usage --reset-rate x
usage --script 503,700
usage --script ''
usage --key k
usage --retry-after soon
usage --port 70000
usage --sink --record "$tmp/x"
usage --record /nonexistent-dir/x
usage --limit-status 99
usage extra-operand
echo "serve_cli: all passed"

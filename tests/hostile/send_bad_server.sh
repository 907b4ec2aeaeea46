#!/usr/bin/env bash
# `mparticle send` against bad_server.py, an HTTP server that misbehaves on
# purpose (127.0.0.1 only; about 3 s):
#   - a status outside 100..599 (999) is a protocol error: one attempt;
#   - Retry-After: 0 does not cancel the backoff (it once gave 5 attempts
#     in 60 ms);
#   - a certificate that fails verification fails at once (one connection,
#     not five) with a message that names the cause;
#   - --cacert, CURL_CA_BUNDLE and SSL_CERT_FILE make that server trusted,
#     --insecure too (with a warning), and an unreadable --cacert is a
#     usage error.
# Usage: send_bad_server.sh PATH/TO/mparticle PATH/TO/bad_server.py PYTHON3
set -euo pipefail
cli=$1 server=$2 python=$3
tmp=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

printf '%s\n' '{"environment":"development","user_identities":{"customer_id":"c"},"events":[{"event_type":"custom_event","data":{"event_name":"e","custom_event_type":"other"}}]}' >"$tmp/b.ndjson"

# start MODE [ARGS...]: runs bad_server.py; sets $url, empties the log.
start() {
  [ -n "$pid" ] && { kill "$pid"; wait "$pid" 2>/dev/null || true; }
  : >"$tmp/log"
  "$python" "$server" "$@" --log "$tmp/log" >"$tmp/server.out" 2>"$tmp/server.err" &
  pid=$!
  for _ in $(seq 100); do [ -s "$tmp/server.out" ] && break; sleep 0.05; done
  url=$(head -n 1 "$tmp/server.out"); url=${url#listening on }
  [ -n "$url" ] || fail "bad_server $1 did not start: $(cat "$tmp/server.err")"
}

# send EXPECTED_RC ARGS...: runs send on one batch; output in $tmp/send.{out,err}.
send() {
  local want=$1 rc=0; shift
  timeout 60 "$cli" send --no-progress --key k --secret s "$@" "$tmp/b.ndjson" \
    >"$tmp/send.out" 2>"$tmp/send.err" || rc=$?
  [ "$rc" -eq "$want" ] || fail "send $*: exit $rc, expected $want
$(cat "$tmp/send.out" "$tmp/send.err")"
}
count() { grep -c "^$1" "$tmp/log" || true; }

# --- 999: a protocol error, sent once -------------------------------------------
start status-999
send 1 --url "$url/v2" --max-attempts 5
[ "$(count request)" -eq 1 ] || fail "999: $(count request) requests, expected 1"
grep -q "not delivered: HTTP 999" "$tmp/send.out" && grep -q " 1 rejected," "$tmp/send.err" ||
  fail "999: $(cat "$tmp/send.out" "$tmp/send.err")"

# --- Retry-After: 0: the backoff still separates the attempts --------------------
start retry-after-zero
send 1 --url "$url/v2" --max-attempts 4
[ "$(count request)" -eq 4 ] || fail "Retry-After 0: $(count request) requests, expected 4"
span=$(awk '$1 == "request" { t[n++] = $3 } END { printf "%.3f", t[n-1] - t[0] }' "$tmp/log")
# Full jitter in [0,500], [0,1000] and [0,2000] ms: under 50 ms with a
# probability of 2e-5 (without the backoff: about 1 ms).
awk -v s="$span" 'BEGIN { exit !(s >= 0.05) }' || fail "Retry-After 0: 4 attempts within ${span} s"

# --- TLS ---------------------------------------------------------------------------
if ! command -v openssl >/dev/null; then
  echo "openssl not installed: the TLS cases are skipped"
  echo "send_bad_server: passed (without TLS)"
  exit 0
fi
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/key.pem" -out "$tmp/cert.pem" -days 1 \
  -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null
start accept --tls "$tmp/cert.pem" "$tmp/key.pem"
https=$url

# Self-signed and not trusted: one connection, then a final answer naming the cause.
env -u CURL_CA_BUNDLE -u SSL_CERT_FILE "$cli" send --no-progress --key k --secret s \
  --url "$https/v2" --max-attempts 5 "$tmp/b.ndjson" >"$tmp/send.out" 2>"$tmp/send.err" && fail "TLS: untrusted certificate accepted"
[ "$(count connection)" -eq 1 ] || fail "TLS: $(count connection) connections, expected 1"
grep -q "TLS: the server's certificate was not accepted" "$tmp/send.out" || fail "TLS: $(cat "$tmp/send.out" "$tmp/send.err")"

send 0 --url "$https/v2" --cacert "$tmp/cert.pem"
[ "$(count request)" -eq 1 ] || fail "--cacert: $(count request) requests"
# As curl(1) does: CURL_CA_BUNDLE, else SSL_CERT_FILE (exported for the child).
export CURL_CA_BUNDLE=$tmp/cert.pem
send 0 --url "$https/v2"
unset CURL_CA_BUNDLE
export SSL_CERT_FILE=$tmp/cert.pem
send 0 --url "$https/v2"
unset SSL_CERT_FILE
send 0 --url "$https/v2" --insecure
grep -q "warning: --insecure: the server's TLS certificate is not verified" "$tmp/send.err" ||
  fail "--insecure: no warning: $(cat "$tmp/send.err")"
send 2 --url "$https/v2" --cacert "$tmp/missing.pem"
grep -q -- "--cacert $tmp/missing.pem: No such file or directory" "$tmp/send.err" ||
  fail "missing --cacert: $(cat "$tmp/send.err")"
echo "send_bad_server: all passed"

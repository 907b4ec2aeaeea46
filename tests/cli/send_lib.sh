# Shared by the send_*.sh tests: a scratch directory, `mparticle serve`
# on a free port of 127.0.0.1, bounded waits, distinct W1 batches.
# Source it after setting $cli (the built mparticle) and $data (tests/cli/data).
set -euo pipefail
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
  [ -s "$tmp/send.err" ] && { echo "--- send stderr:" >&2; tail -n 20 "$tmp/send.err" >&2; }
  exit 1
}
unset MPARTICLE_API_KEY MPARTICLE_API_SECRET

# start ARGS...: `mparticle serve --port 0 --key $serve_key --secret
# $serve_secret ARGS` (default k and s) in the background; sets $pid and
# $url (with /v2). Waits at most 10 s.
serve_key=k
serve_secret=s
start() {
  rm -f "$tmp/serve.out" # the last server's first line must not be taken for this one's
  "$cli" serve --host 127.0.0.1 --port 0 --key "$serve_key" --secret "$serve_secret" "$@" >"$tmp/serve.out" 2>"$tmp/serve.err" &
  pid=$!
  for _ in $(seq 100); do
    [ -s "$tmp/serve.out" ] && break
    kill -0 "$pid" 2>/dev/null || fail "serve exited: $(cat "$tmp/serve.err")"
    sleep 0.1
  done
  [ -s "$tmp/serve.out" ] || fail "serve did not start within 10 s"
  url="$(head -n 1 "$tmp/serve.out" | sed 's/^listening on //')/v2"
}

# stop: stops the server (SIGTERM, at most 10 s); sets $summary to its last line.
stop() {
  kill -TERM "$pid"
  local rc=0
  timeout 10 tail --pid="$pid" -f /dev/null || fail "serve did not stop within 10 s"
  wait "$pid" || rc=$?
  pid=
  [ "$rc" -eq 0 ] || fail "serve exited with $rc after SIGTERM"
  summary=$(tail -n 1 "$tmp/serve.out")
}

# serve_count NAME: a counter of the server's summary line (after stop).
serve_count() {
  sed -n "s/.*[ ,]$1 \([0-9]*\).*/\1/p" <<<"$summary"
}

# send EXPECTED_EXIT ARGS...: runs send (at most 60 s), checks the exit
# code; output in $tmp/send.{out,err}.
send() {
  local want=$1; shift
  local rc=0
  timeout 60 "$cli" send --no-progress "$@" >"$tmp/send.out" 2>"$tmp/send.err" || rc=$?
  [ "$rc" -eq "$want" ] || fail "send $*: exit $rc, wanted $want; stdout: $(head -c 2000 "$tmp/send.out")"
}

# batches N [FILE]: N distinct batches (W1's, each with its own customer_id) as NDJSON.
batches() {
  python3 - "$data/w1.ndjson" "$1" <<'PY'
import json, sys
lines = [l for l in open(sys.argv[1]) if l.strip()]
out = sys.stdout
for i in range(int(sys.argv[2])):
    b = json.loads(lines[i % len(lines)])
    b["user_identities"]["customer_id"] = "cust-%d" % i
    out.write(json.dumps(b, separators=(",", ":")) + "\n")
PY
}

# summary_has TEXT: the send summary (stderr's last line) contains TEXT.
summary_has() {
  tail -n 1 "$tmp/send.err" | grep -qF -- "$1" || fail "summary lacks '$1': $(tail -n 1 "$tmp/send.err")"
}

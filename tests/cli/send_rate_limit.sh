#!/usr/bin/env bash
# A 429 makes `mparticle send` wait, never drop: 200 batches, one per
# request at the default concurrency, against `serve --rate-limit 20`
# (about 10 s of sending): every batch delivered, exit 0. With --progress
# and stderr not a terminal, a plain progress line comes every second.
# Usage: send_rate_limit.sh PATH/TO/mparticle PATH/TO/tests/cli/data
cli=$1
data=$2
. "$(dirname "$0")/send_lib.sh"

batches 200 >"$tmp/b.ndjson"
start --rate-limit 20 --record "$tmp/rec.ndjson"
rc=0
timeout 60 "$cli" send -q --progress --url "$url" --key k --secret s "$tmp/b.ndjson" \
  >"$tmp/send.out" 2>"$tmp/send.err" || rc=$?
[ "$rc" -eq 0 ] || fail "exit $rc: $(cat "$tmp/send.out")"
summary_has "200 batches (2000 events) to $url: 200 accepted, 0 rejected, 0 invalid, 0 undelivered, 0 not_sent"
stop
[ "$(serve_count throttled)" -gt 0 ] || fail "the server throttled nothing: $summary"
[ "$(serve_count accepted)" -eq 200 ] || fail "server: $summary"
[ "$(wc -l <"$tmp/rec.ndjson")" -eq 200 ] || fail "recorded $(wc -l <"$tmp/rec.ndjson")"
grep -Eq '^mparticle send: [0-9]+ batches, [0-9]+/s, 0 failed, ~[0-9]' "$tmp/send.err" ||
  fail "no progress line: $(cat "$tmp/send.err")"
echo "send_rate_limit: all passed ($summary)"

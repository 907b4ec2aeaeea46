#!/usr/bin/env bash
# `mparticle send` end to end against `mparticle serve` (both the built
# CLI): one batch per request, bulk packing, historical, every input form,
# invalid batches reported and left out, rejected and undeliverable
# batches, the 404 hint, the --report file, usage errors.
# Usage: send_cli.sh PATH/TO/mparticle PATH/TO/tests/cli/data
cli=$1
data=$2
. "$(dirname "$0")/send_lib.sh"

batches 250 >"$tmp/w1.ndjson"

# check_report FILE EXPECTED_LINES PYTHON_ASSERTIONS: every line is a JSON
# object with exactly the report's keys; `r` is the list of them.
check_report() {
  python3 - "$1" "$2" "$3" <<'PY' || fail "report $1: $(head -c 1500 "$1")"
import json, sys
path, want, check = sys.argv[1], int(sys.argv[2]), sys.argv[3]
r = [json.loads(l) for l in open(path)]
keys = {"input", "batch", "line", "source_request_id", "outcome", "status", "attempts", "error"}
assert len(r) == want, "%d lines, wanted %d" % (len(r), want)
for x in r:
    assert set(x) == keys, x
    assert x["outcome"] in ("accepted", "rejected", "invalid", "undelivered", "not_sent"), x
    assert (x["error"] == "") == (x["outcome"] == "accepted"), x
exec(check)
PY
}

# --- one batch per request: each batch once, with its own id, in the report ----
start --record "$tmp/rec1.ndjson"
send 0 -q --url "$url" --key k --secret s --concurrency 8 --report "$tmp/r1.ndjson" "$tmp/w1.ndjson"
[ ! -s "$tmp/send.out" ] || fail "stdout: $(cat "$tmp/send.out")"
summary_has ": 250 batches (2500 events) to $url: 250 accepted, 0 rejected, 0 invalid, 0 undelivered, 0 not_sent; "
n=$(sed -n 's/.*; \([0-9]*\) requests in .*/\1/p' "$tmp/send.err")
[ "$n" -ge 250 ] && [ "$n" -le 255 ] || fail "requests: $(cat "$tmp/send.err")"
[ "$(wc -l <"$tmp/rec1.ndjson")" -eq 250 ] || fail "recorded $(wc -l <"$tmp/rec1.ndjson") batches"
grep -o '"source_request_id":"[0-9a-f-]*"' "$tmp/rec1.ndjson" | sed 's/.*:"//; s/"//' | sort >"$tmp/ids1"
[ "$(sort -u "$tmp/ids1" | wc -l)" -eq 250 ] || fail "ids are not distinct"
check_report "$tmp/r1.ndjson" 250 "
ids = sorted(open('$tmp/ids1').read().split())
assert sorted(x['source_request_id'] for x in r) == ids, 'report ids != recorded ids'
assert sorted(x['batch'] for x in r) == list(range(1, 251))
for x in r:
    assert x['input'] == '$tmp/w1.ndjson' and x['line'] == x['batch'], x
    assert x['outcome'] == 'accepted' and x['status'] == 202 and x['attempts'] >= 1, x
"
stop

# --- bulk: 250 W1 batches (2.4 KB) pack into 100 + 100 + 50 -------------------
start --record "$tmp/rec2.ndjson"
send 0 -q --url "$url" --key k --secret s --bulk "$tmp/w1.ndjson"
summary_has "250 accepted, 0 rejected"
n=$(sed -n 's/.*; \([0-9]*\) requests in .*/\1/p' "$tmp/send.err")
[ "$n" -ge 3 ] && [ "$n" -le 5 ] || fail "bulk requests: $(cat "$tmp/send.err")"
[ "$(wc -l <"$tmp/rec2.ndjson")" -eq 250 ] || fail "bulk recorded $(wc -l <"$tmp/rec2.ndjson")"
# Historical: W1's events are from 2023, older than 72 hours.
head -n 10 "$tmp/w1.ndjson" | sed 's/cust-/hist-/' >"$tmp/hist.ndjson"
send 0 -q --url "$url" --key k --secret s --historical "$tmp/hist.ndjson"
summary_has "10 accepted"
stop

# --- input forms: an array from standard input, a pretty-printed batch ----------
start
python3 -c 'import json,sys; print(json.dumps([json.loads(l) for l in open(sys.argv[1])][:3], indent=1))' \
  "$tmp/w1.ndjson" >"$tmp/array.json"
send 0 -q --url "$url" --key k --secret s --bulk --report "$tmp/r3.ndjson" - <"$tmp/array.json"
summary_has "3 batches (30 events)"
# Each batch of the array starts on the line of its '{'.
want=$(grep -n '^ {' "$tmp/array.json" | cut -d: -f1 | paste -sd, -)
check_report "$tmp/r3.ndjson" 3 "
assert sorted(x['line'] for x in r) == [$want], [x['line'] for x in r]
assert all(x['input'] == '<stdin>' for x in r)
"
send 0 -q --url "$url" --key k --secret s "$data/valid.json"
summary_has "1 batches"
stop

# --- invalid batches: reported, left out, and in the report --------------------
{
  head -n 1 "$tmp/w1.ndjson"
  echo '{"environment":"staging","events":[]}'
  echo '{"environment": oops'
  sed -n 2p "$tmp/w1.ndjson"
} >"$tmp/mixed.ndjson"
start --record "$tmp/rec4.ndjson"
send 1 -q --url "$url" --key k --secret s --bulk --report "$tmp/r4.ndjson" "$tmp/mixed.ndjson"
grep -q "^$tmp/mixed.ndjson:1: environment: " "$tmp/send.out" || fail "problem line: $(cat "$tmp/send.out")"
grep -q "^$tmp/mixed.ndjson:2: 3:" "$tmp/send.out" || fail "syntax problem line: $(cat "$tmp/send.out")"
summary_has "4 batches (20 events) to $url: 2 accepted, 0 rejected, 2 invalid, 0 undelivered, 0 not_sent"
[ "$(wc -l <"$tmp/rec4.ndjson")" -eq 2 ] || fail "recorded $(wc -l <"$tmp/rec4.ndjson")"
check_report "$tmp/r4.ndjson" 4 "
by = {x['batch']: x for x in r}
assert by[2]['outcome'] == 'invalid' and by[2]['line'] == 2 and by[2]['error'].startswith('environment: '), by[2]
assert by[3]['outcome'] == 'invalid' and by[3]['line'] == 3 and by[3]['status'] == 0, by[3]
assert by[1]['outcome'] == by[4]['outcome'] == 'accepted'
"
stop

# --- rejected by the server; nobody listening ------------------------------------
start --script 400
send 1 -q --url "$url" --key k --secret s --report "$tmp/r5.ndjson" <(head -n 2 "$tmp/w1.ndjson")
grep -q ":[01]: (batch): not delivered: HTTP 400" "$tmp/send.out" || fail "400: $(cat "$tmp/send.out")"
summary_has "1 accepted, 1 rejected"
check_report "$tmp/r5.ndjson" 2 "
assert sorted((x['outcome'], x['status']) for x in r) == [('accepted', 202), ('rejected', 400)], r
"
stop
# Nobody listens on port 1 (a port freed by `stop` could be taken by another
# test running in parallel).
dead=http://127.0.0.1:1/v2
send 1 -q --url "$dead" --key k --secret s --max-attempts 2 --report "$tmp/r6.ndjson" <(head -n 1 "$tmp/w1.ndjson")
grep -q "not delivered: gave up after 2 attempts" "$tmp/send.out" || fail "refused: $(cat "$tmp/send.out")"
summary_has "0 accepted, 0 rejected, 0 invalid, 1 undelivered"
check_report "$tmp/r6.ndjson" 1 "assert r[0]['attempts'] == 2 and r[0]['status'] == 0, r"

# --- a base URL without /v2 gets 404 and a hint ------------------------------------
start
send 1 -q --url "${url%/v2}" --key k --secret s <(head -n 1 "$tmp/w1.ndjson")
grep -qF "HTTP 404 from ${url%/v2}/events: the base URL must include /v2; try --url $url" "$tmp/send.err" ||
  fail "404 hint: $(cat "$tmp/send.err")"
stop

# --- usage errors --------------------------------------------------------------------
send 2 --url "$dead" "$tmp/w1.ndjson"                              # no credentials
send 2 --url "$dead" --pod US2 --key k --secret s "$tmp/w1.ndjson" # both --url and --pod
send 2 --pod MARS --key k --secret s "$tmp/w1.ndjson"
send 2 --concurrency 0 --key k --secret s "$tmp/w1.ndjson"
send 2 --concurrency 65 --key k --secret s "$tmp/w1.ndjson"
send 2 --ids sequential --key k --secret s "$tmp/w1.ndjson"
send 2 --progress --no-progress --key k --secret s "$tmp/w1.ndjson"
send 2 --url "$dead" --key k --secret s "$tmp/missing.ndjson"
send 2 --url "$dead" --key k --secret s --report "$tmp/no/such/dir/r.ndjson" "$tmp/w1.ndjson"
send 2 --url "ftp://x/v2" --key k --secret s "$tmp/w1.ndjson"
grep -q "must start with http:// or https://" "$tmp/send.err" || fail "ftp: $(cat "$tmp/send.err")"
echo "send_cli: all passed"

#!/usr/bin/env bash
# Sending the same file twice is harmless: `mparticle send` gives each
# batch a source_request_id derived from its content (UUIDv5), so the
# server counts the second run as duplicates and records every batch once,
# whether the runs go one per request or in bulk. With --ids random the
# second run is new data. A batch's own source_request_id is kept.
# Usage: send_dedup.sh PATH/TO/mparticle PATH/TO/tests/cli/data
cli=$1
data=$2
. "$(dirname "$0")/send_lib.sh"

batches 100 >"$tmp/b.ndjson"
# The last batch brings its own id.
python3 - "$tmp/b.ndjson" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
b = json.loads(lines[-1])
b["source_request_id"] = "0f8fad5b-d9cb-469f-a165-70867728950e"
lines[-1] = json.dumps(b, separators=(",", ":"))
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
PY

start --record "$tmp/rec.ndjson"
send 0 -q --url "$url" --key k --secret s --report "$tmp/r1.ndjson" "$tmp/b.ndjson"
send 0 -q --url "$url" --key k --secret s --bulk --report "$tmp/r2.ndjson" "$tmp/b.ndjson"
[ "$(wc -l <"$tmp/rec.ndjson")" -eq 100 ] || fail "content ids: recorded $(wc -l <"$tmp/rec.ndjson"), wanted 100"
python3 - "$tmp/r1.ndjson" "$tmp/r2.ndjson" "$tmp/rec.ndjson" <<'PY' || fail "ids differ between the runs"
import json, sys
ids = [sorted(json.loads(l)["source_request_id"] for l in open(p)) for p in sys.argv[1:3]]
assert ids[0] == ids[1] and len(set(ids[0])) == 100
assert "0f8fad5b-d9cb-469f-a165-70867728950e" in ids[0]
rec = sorted(json.loads(l)["source_request_id"] for l in open(sys.argv[3]))
assert rec == ids[0]
u = [i for i in ids[0] if i != "0f8fad5b-d9cb-469f-a165-70867728950e"]
assert all(i[14] == "5" for i in u), u[:3]  # UUID version 5
PY
send 0 -q --url "$url" --key k --secret s --ids random "$tmp/b.ndjson"
[ "$(wc -l <"$tmp/rec.ndjson")" -eq 199 ] || fail "random ids: recorded $(wc -l <"$tmp/rec.ndjson"), wanted 199"
stop
# 100 + 99 new ones (the batch with its own id stays a duplicate).
[ "$(serve_count accepted)" -eq 199 ] && [ "$(serve_count duplicates)" -eq 101 ] || fail "server: $summary"
echo "send_dedup: all passed ($summary)"

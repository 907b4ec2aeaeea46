#!/usr/bin/env python3
"""Deterministic workload W1: N batches (one user each), 10 events per batch.

Usage: bench/gen_workload.py [N] > w1.ndjson   (N defaults to 10,000)

Every figure in docs/benchmarks.md is measured on this workload. Each batch is
one user: identities, device info, two user attributes, a data-plan context and
10 events (1 session_start, 5 custom events with 3 attributes each, 3 screen
views, 1 commerce purchase with 2 products); about 2.4 KB per batch. The shape
follows the Full Example of the Go SDK docs. Seeded, so the output is the same
bytes on every run: tests/cli/data/w1.ndjson is its first 3 batches (checked
by the test bench_gen_workload)."""
import json, random, sys

def batch(i, rnd):
    t0 = 1700000000000 + i * 1000
    ev = []
    ev.append({"event_type": "session_start", "data": {"session_id": 1000000 + i, "timestamp_unixtime_ms": t0}})
    for k in range(5):
        ev.append({"event_type": "custom_event", "data": {
            "event_name": "Custom Event %d" % k, "custom_event_type": rnd.choice(["other", "navigation", "search", "transaction"]),
            "timestamp_unixtime_ms": t0 + 10 + k,
            "custom_attributes": {"foo": "bar%d" % rnd.randrange(1000), "category": "cat-%d" % rnd.randrange(50), "note": "caf\u00e9 \"quoted\" %d" % k}}})
    for k in range(3):
        ev.append({"event_type": "screen_view", "data": {"screen_name": "Screen %d" % rnd.randrange(20), "timestamp_unixtime_ms": t0 + 20 + k,
                   "custom_attributes": {"referrer": "home"}}})
    ev.append({"event_type": "commerce_event", "data": {"timestamp_unixtime_ms": t0 + 30, "currency_code": "USD",
        "product_action": {"action": "purchase", "transaction_id": "txn-%d" % i, "total_amount": 123.12, "tax_amount": 1.5,
            "products": [{"id": "sku-%d" % rnd.randrange(500), "name": "product %d" % rnd.randrange(500), "price": 19.99, "quantity": 2, "total_product_amount": 39.98},
                         {"id": "sku-%d" % rnd.randrange(500), "name": "product %d" % rnd.randrange(500), "price": 83.14, "quantity": 1, "total_product_amount": 83.14}]}}})
    return {"environment": "development",
            "user_identities": {"customer_id": "cust-%d" % i, "email": "user%d@example.com" % i},
            "device_info": {"ios_advertising_id": "607258d9-c28b-43ad-95ed-%012d" % i},
            "user_attributes": {"Account type": rnd.choice(["trial", "paid"]), "foo-array": ["bar1", "bar2"]},
            "context": {"data_plan": {"plan_id": "freddy_s_plan", "plan_version": 1}},
            "events": ev}

if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    rnd = random.Random(42)
    out = sys.stdout
    for i in range(n):
        out.write(json.dumps(batch(i, rnd), ensure_ascii=False, separators=(",", ":")) + "\n")

#!/usr/bin/env python3
"""`mparticle validate` and `normalize` stream their input.

Usage: stream_cli.py PATH/TO/mparticle PATH/TO/peak_rss PATH/TO/batches.ndjson [SANITIZED]

1. Peak memory does not follow the input's size: each command runs on N
   copies of the batches and on 10 N copies, and the peak RSS of the two
   runs (measured by the peak_rss helper, getrusage of its child) must be within a few MB
   of each other. Holding the input whole costs several times its size.
2. Any input whose batches are within the API's limits (128 KB each) stays
   under 32 MB of peak memory, even batches of the smallest events (each
   24-byte event becomes a 384-byte struct): 100 such batches, 13 MB, as
   NDJSON and as one JSON array. Not checked under sanitizers (SANITIZED
   given), whose allocators hold freed memory and shadow what is used.
3. normalize writes as it reads: fed through a pipe, its first output line
   arrives while the pipe is still open.
"""
import os
import select
import subprocess
import sys
import tempfile

TOLERANCE_KB = 4 * 1024  # "within a few MB"
LIMIT_KB = 32 * 1024     # issue 11's bound for any input within the API's limits
API_BATCH_BYTES = 128 * 1024
SMALL_COPIES = 700       # about 5 MB of the CLI tests' W1 lines
LARGE_COPIES = 10 * SMALL_COPIES


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def peak_rss_kb(helper, argv, stdout, ok=(0,)):
    """Runs argv under the peak_rss helper; returns its peak RSS in KiB."""
    proc = subprocess.run([helper] + argv, stdout=stdout, stderr=subprocess.PIPE)
    err = proc.stderr.decode(errors="replace")
    if proc.returncode not in ok:
        fail(f"{' '.join(argv)} exited {proc.returncode}: {err}")
    for line in err.splitlines():
        if line.startswith("peak_rss_kb "):
            return int(line.split()[1])
    fail(f"no peak_rss_kb line in: {err}")


def check_memory(cli, helper, lines, tmp):
    small = os.path.join(tmp, "small.ndjson")
    large = os.path.join(tmp, "large.ndjson")
    with open(small, "wb") as f:
        f.write(lines * SMALL_COPIES)
    with open(large, "wb") as f:
        f.write(lines * LARGE_COPIES)
    for cmd in (["validate", "--quiet", "--now", "1700000001000"], ["normalize", "--quiet"]):
        with open(os.devnull, "wb") as null:
            a = peak_rss_kb(helper, [cli] + cmd + [small], null)
            b = peak_rss_kb(helper, [cli] + cmd + [large], null)
        size = os.path.getsize(large) // 1024
        print(f"{cmd[0]}: peak RSS {a} KiB on {os.path.getsize(small) // 1024} KiB, "
              f"{b} KiB on {size} KiB")
        if b - a > TOLERANCE_KB:
            fail(f"{cmd[0]}: peak RSS grew from {a} to {b} KiB with 10 times the input")


def worst_batch(i):
    """One batch of about API_BATCH_BYTES made of the smallest kept events."""
    head = '{"environment":"development","mpid":%d,"events":[' % i
    event = '{"event_type":"opt_out"}'
    n = (API_BATCH_BYTES - len(head) - 2) // (len(event) + 1)
    return head + ",".join([event] * n) + "]}"


def check_worst_case(cli, helper, tmp):
    batches = [worst_batch(i) for i in range(100)]
    assert all(len(b) <= API_BATCH_BYTES for b in batches)
    ndjson = os.path.join(tmp, "worst.ndjson")
    array = os.path.join(tmp, "worst.json")
    with open(ndjson, "w") as f:
        f.write("\n".join(batches) + "\n")
    with open(array, "w") as f:
        f.write("[\n" + ",\n".join(batches) + "\n]\n")
    for path in (ndjson, array):
        for cmd in (["validate", "--quiet"], ["normalize", "--quiet"]):
            with open(os.devnull, "wb") as null:
                proc_argv = [cli] + cmd + [path]
                # validate finds the opt_out events incomplete: exit 1 is expected.
                kb = peak_rss_kb(helper, proc_argv, null, ok=(0, 1))
            print(f"{cmd[0]} {os.path.basename(path)}: peak RSS {kb} KiB "
                  f"on 100 batches of {API_BATCH_BYTES // 1024} KiB of the smallest events")
            if kb > LIMIT_KB:
                fail(f"{cmd[0]} {path}: peak RSS {kb} KiB is over {LIMIT_KB} KiB")


def check_output_before_input_ends(cli, lines):
    first = lines.split(b"\n", 1)[0] + b"\n"
    proc = subprocess.Popen([cli, "normalize"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    # Two batches and the start of a third: the first two can be decoded
    # (a record ends where the next line starting with '{' begins).
    proc.stdin.write(first + first + b'{"environment":')
    proc.stdin.flush()
    ready, _, _ = select.select([proc.stdout], [], [], 30)
    if not ready:
        proc.kill()
        fail("normalize wrote nothing while its input was open")
    out = proc.stdout.readline()
    if not out.startswith(b"{"):
        proc.kill()
        fail(f"normalize's first line is {out!r}")
    proc.stdin.write(b'"production"}\n')
    proc.stdin.close()
    rest = proc.stdout.read()
    proc.wait()
    err = proc.stderr.read()
    count = (out + rest).count(b"\n")
    if proc.returncode != 0 or count != 3:
        fail(f"normalize exited {proc.returncode} with {count} lines: {err!r}")


def check_one_live_line(cli, lines):
    """A single NDJSON line written to a pipe that stays open (a live feed)
    comes out at once: it does not wait for the next record to begin."""
    first = lines.split(b"\n", 1)[0] + b"\n"
    proc = subprocess.Popen([cli, "normalize"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdin.write(first)
    proc.stdin.flush()
    ready, _, _ = select.select([proc.stdout], [], [], 30)
    if not ready:
        proc.kill()
        fail("normalize held a whole NDJSON line until more input came")
    out = proc.stdout.readline()
    proc.stdin.close()
    rest = proc.stdout.read()
    proc.wait()
    if not out.startswith(b"{") or rest or proc.returncode != 0:
        fail(f"normalize of one live line: {out!r} then {rest!r}, exit {proc.returncode}")


def main():
    cli, helper, batches = sys.argv[1], sys.argv[2], sys.argv[3]
    sanitized = len(sys.argv) > 4 and sys.argv[4] != ""
    with open(batches, "rb") as f:
        lines = f.read()
    if not lines.endswith(b"\n"):
        lines += b"\n"
    with tempfile.TemporaryDirectory() as tmp:
        check_memory(cli, helper, lines, tmp)
        if sanitized:
            print(f"worst case: not measured under -DMP_SANITIZE={sys.argv[4]}")
        else:
            check_worst_case(cli, helper, tmp)
    check_output_before_input_ends(cli, lines)
    check_one_live_line(cli, lines)
    print("ok")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Inputs without bounds: `mparticle validate` must keep its memory flat.

Usage: unbounded_input.py PATH/TO/mparticle [SANITIZE]

Feeds `mparticle validate` what an unlucky operator would: 64 MB of
/dev/zero, 64 MB of `yes`, and one 64 MB line between two good batches.
Each run must stay under a peak RSS of 32 MB (the reader holds at most one
record of CLI_MAX_RECORD = 1 MiB; before that limit, a 1 GB line took
3.15 GB), report the oversized record with its line, and go on with the
input. The peak is the child's own (os.wait4), so this script's memory
does not count. Under a sanitizer the peak is not meaningful: only the
behaviour is checked.
"""
import os
import subprocess
import sys
import threading

MB = 1024 * 1024
PEAK_LIMIT_KB = 32 * 1024
GOOD = (b'{"environment":"development","user_identities":{"customer_id":"c"},'
        b'"events":[{"event_type":"custom_event","data":{"event_name":"e",'
        b'"custom_event_type":"other"}}]}\n')


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def feed(pipe, chunks):
    """Writes the chunks to the child's stdin, then closes it."""
    try:
        for chunk in chunks:
            pipe.write(chunk)
    except BrokenPipeError:
        pass
    finally:
        try:
            pipe.close()
        except BrokenPipeError:
            pass


def repeat(block, total):
    """Yields block until `total` bytes were given."""
    sent = 0
    while sent < total:
        piece = block[: total - sent]
        sent += len(piece)
        yield piece


def run(cli, chunks):
    """Runs `validate -q` on the chunks; returns (rc, stdout, peak KiB)."""
    p = subprocess.Popen([cli, "validate", "-q"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    writer = threading.Thread(target=feed, args=(p.stdin, chunks))
    writer.start()
    out = p.stdout.read()
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    writer.join()
    return p.returncode, out.decode("utf-8", "replace"), usage.ru_maxrss


def check(name, cli, chunks, sanitized, expect_lines):
    rc, out, peak = run(cli, chunks)
    print(f"{name}: exit {rc}, peak {peak // 1024} MB, {len(out.splitlines())} problem lines")
    if rc != 1:
        fail(f"{name}: exit {rc}, expected 1\n{out[:2000]}")
    if "batch larger than 1048576 bytes" not in out:
        fail(f"{name}: the oversized record is not reported:\n{out[:2000]}")
    for want in expect_lines:
        if want not in out:
            fail(f"{name}: expected '{want}' in:\n{out[:2000]}")
    if not sanitized and peak > PEAK_LIMIT_KB:
        fail(f"{name}: peak RSS {peak} KiB, over {PEAK_LIMIT_KB} KiB")


def main():
    cli = sys.argv[1]
    sanitized = len(sys.argv) > 2 and sys.argv[2] != ""
    check("/dev/zero", cli, repeat(bytes(MB), 64 * MB), sanitized, ["<stdin>:0: 1:1: "])
    check("yes", cli, repeat(b"y\n" * (MB // 2), 64 * MB), sanitized, ["<stdin>:0: 1:1: "])
    # A 64 MB line on line 2: named by its line, the batches around it are
    # still read (the last one is the third batch, index 2).
    big = [GOOD, b'{"environment":"'] + list(repeat(b"x" * MB, 64 * MB)) + [b'"}\n', GOOD]
    rc, out, peak = run(cli, big)
    print(f"long line: exit {rc}, peak {peak // 1024} MB")
    if rc != 1 or "<stdin>:1: 2:1: batch larger than 1048576 bytes" not in out:
        fail(f"long line: exit {rc}:\n{out[:2000]}")
    if len(out.splitlines()) != 1:
        fail(f"long line: the good batches around it were not read cleanly:\n{out[:2000]}")
    if not sanitized and peak > PEAK_LIMIT_KB:
        fail(f"long line: peak RSS {peak} KiB, over {PEAK_LIMIT_KB} KiB")
    print("unbounded_input: all passed")


main()

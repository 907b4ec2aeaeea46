#!/usr/bin/env python3
"""Compiles every ```c block of the given Markdown files (README.md, docs/*.md).

The blocks of one file are compiled as one C file, in order:

- A plain block is a fragment of statements. Each is opened as a scope
  nested in the previous block's, so it sees what the blocks before it in the
  same file declared (the README's Quick start builds one batch section by
  section) and may declare the same names again. Its leading #include lines
  go to file scope. The scopes sit in a function `int f(void)`, so a
  fragment may `return 1;`. A preamble declares the few names the docs take
  for granted (GIVEN below: `now_ms`, `batch`, `client`, `diag`, `up`,
  `on_report`, ...), each unless a
  top-level block of the file defines it (at column 0).
- A block preceded by the line `<!-- snippet: toplevel -->` goes to file
  scope, before that function (function definitions, callbacks).
- A block preceded by `<!-- snippet: program -->` is a whole program: it is
  compiled and linked alone, against the static library.
- A block preceded by `<!-- snippet: skip REASON -->` is not compiled; say
  why (e.g. it shows a wrong usage on purpose).

Usage:
  check_snippets.py --cc CC --cflags "..." --libs "..." --work DIR FILE.md...
  check_snippets.py --write-programs DIR FILE.md   (write the program blocks
      as DIR/<name>_<n>.c, for the build to compile and the tests to run)
"""
import argparse
import os
import re
import shlex
import subprocess
import sys

BLOCK = re.compile(r"(?:^<!-- snippet: (\w+)([^>]*)-->\n)?^```c\n(.*?)^```\s*$", re.M | re.S)

PREAMBLE = """\
#include <mparticle.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
"""

# Names the docs' fragments take for granted; each is declared unless the
# file's own top-level blocks define it.
GIVEN = [
    ("now_ms", "static int64_t now_ms = 1700000000000;"),
    ("batch", "static mp_batch batch;"),
    ("client", "static mp_client *client;"),
    ("diag", "static mp_diag *diag;"),
    ("up", "static mp_uploader *up;"),
    ("my_tag", "static void *my_tag;"),
    ("chunk", "static const char *chunk = \"\";"),
    ("n", "static size_t n;"),
    ("use", "static void use(const mp_batch *b) { (void)b; }"),
    ("on_report", "static void on_report(void *ctx, const mp_delivery_report *r) { (void)ctx; (void)r; }"),
]


def blocks(path):
    text = open(path, encoding="utf-8").read()
    for m in BLOCK.finditer(text):
        kind = m.group(1) or "fragment"
        if kind not in ("fragment", "toplevel", "program", "skip"):
            sys.exit("%s:%d: unknown snippet kind %r" % (path, text.count("\n", 0, m.start()) + 1, kind))
        line = text.count("\n", 0, m.start(3)) + 1
        yield kind, line, m.group(3)


def name_of(path):
    return re.sub(r"[^A-Za-z0-9]+", "_", os.path.basename(path)).strip("_")


def fragment_file(path):
    """The C file of a Markdown file's fragments and top-level blocks, or None."""
    tops, frags = [], []
    for kind, line, code in blocks(path):
        if kind == "toplevel":
            tops.append('#line %d "%s"\n%s' % (line, path, code))
        elif kind == "fragment":
            lines = code.split("\n")
            includes = []
            while lines and lines[0].startswith("#include"):
                includes.append(lines.pop(0))
                line += 1
            tops.extend(includes)
            frags.append('{\n#line %d "%s"\n%s' % (line, path, "\n".join(lines)))
    if not tops and not frags:
        return None
    top_code = "\n".join(tops)
    given = [decl for name, decl in GIVEN
             if not re.search(r"^[A-Za-z_][\w \t*]*\b%s\b\s*[(;=\[]" % re.escape(name),
                                 top_code, re.M)]
    out = [PREAMBLE] + given + tops
    out.append("int mp_snippets(void);\nint mp_snippets(void) {")
    out.extend(frags)
    out.append("}" * len(frags) + "\n    return 0;\n}\n")
    return "\n".join(out)


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.stderr.write("$ %s\n%s%s" % (" ".join(shlex.quote(c) for c in cmd), r.stdout, r.stderr))
    return r.returncode == 0


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("--cc")
    ap.add_argument("--cflags", default="")
    ap.add_argument("--libs", default="")
    ap.add_argument("--work")
    ap.add_argument("--write-programs", metavar="DIR")
    ap.add_argument("files", nargs="+")
    a = ap.parse_args(argv)

    if a.write_programs:
        os.makedirs(a.write_programs, exist_ok=True)
        for path in a.files:
            k = 0
            for kind, line, code in blocks(path):
                if kind == "program":
                    k += 1
                    out = os.path.join(a.write_programs, "%s_%d.c" % (name_of(path), k))
                    text = '#line %d "%s"\n%s' % (line, os.path.abspath(path), code)
                    if not os.path.exists(out) or open(out).read() != text:
                        open(out, "w").write(text)
        return 0

    os.makedirs(a.work, exist_ok=True)
    cflags = shlex.split(a.cflags)
    libs = shlex.split(a.libs)
    ok = True
    counts = {"fragment": 0, "toplevel": 0, "program": 0, "skip": 0}
    for path in a.files:
        for kind, _, _ in blocks(path):
            counts[kind] += 1
        src = fragment_file(path)
        if src:
            c = os.path.join(a.work, name_of(path) + ".c")
            open(c, "w").write(src)
            ok &= run([a.cc] + cflags + ["-c", c, "-o", c[:-2] + ".o"])
        k = 0
        for kind, line, code in blocks(path):
            if kind != "program":
                continue
            k += 1
            c = os.path.join(a.work, "%s_program_%d.c" % (name_of(path), k))
            open(c, "w").write('#line %d "%s"\n%s' % (line, path, code))
            ok &= run([a.cc] + cflags + [c, "-o", c[:-2]] + libs)
    print("%d fragments, %d top-level blocks, %d programs compiled; %d skipped"
          % (counts["fragment"], counts["toplevel"], counts["program"], counts["skip"]))
    if sum(counts.values()) == 0:
        print("no C block found")
        return 1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
"""Writes the man page mparticle(1) from the built tool's own help.

Usage: gen_man.py MPARTICLE VERSION OUT

Every command listed by `mparticle --help` gets a section made of its
`mparticle CMD --help`: the usage as the synopsis, the description, and
every option. The page therefore lists each command and option the tool
has, in the tool's words; tests/docs checks that it renders without a
warning and names every option.
"""
import re
import subprocess
import sys


def esc(text):
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "\n".join(("\\&" + l if l[:1] in ".'" else l) for l in text.split("\n"))


def helptext(tool, *args):
    r = subprocess.run([tool, *args], capture_output=True, text=True, check=True)
    return r.stdout


def paragraphs(lines):
    """roff for help prose: paragraphs, and indented blocks kept as they are."""
    out, para, pre = [], [], []

    def flush():
        if para:
            out.append(".PP\n" + esc(" ".join(l.strip() for l in para)))
            para.clear()
        if pre:
            out.append(".PP\n.RS 4\n.nf\n" + esc("\n".join(l[4:] for l in pre)) + "\n.fi\n.RE")
            pre.clear()

    for l in lines:
        if not l.strip():
            flush()
        elif l.startswith("    "):
            if para:
                flush()
            pre.append(l)
        else:
            if pre:
                flush()
            para.append(l)
    flush()
    return out


OPT = re.compile(r"^ {2,6}(?:(-\w), )?(--?[\w-]+|[A-Z]+)((?: [^ ]+)*?)(?: {2,}(.*))?$")


def options(lines):
    """The option lines: "  -c, --long ARG  text" or "      --long ARG  text",
    continued by lines indented further."""
    out, cur = [], None
    for l in lines:
        indent = len(l) - len(l.lstrip(" "))
        m = OPT.match(l) if indent <= 6 else None
        if m:
            if cur:
                out.append(cur)
            short, long_, arg, desc = m.group(1), m.group(2), (m.group(3) or "").strip(), m.group(4) or ""
            cur = [short, long_, arg, [desc] if desc else []]
        elif cur and l.strip():
            cur[3].append(l.strip())
    if cur:
        out.append(cur)
    roff = []
    for short, long_, arg, desc in out:
        names = ", ".join("\\fB%s\\fR" % esc(n) for n in (short, long_) if n)
        if arg:
            names += " \\fI%s\\fR" % esc(arg)
        roff.append(".TP\n%s\n%s" % (names, esc(" ".join(desc))))
    return roff, [o[1] for o in out] + [o[0] for o in out if o[0]]


def command_section(tool, name):
    text = helptext(tool, name, "--help").rstrip("\n").split("\n")
    i = text.index("Options:") if "Options:" in text else len(text)
    head, opts = text[:i], text[i + 1:]
    # The usage: the first lines up to the blank line.
    j = head.index("") if "" in head else len(head)
    usage = " ".join(l.strip() for l in head[:j])[len("usage: "):]
    roff = ['.SS "mparticle %s"' % name, ".nf\n\\fB%s\\fR\n.fi" % esc(usage)]
    roff += paragraphs(head[j + 1:])
    opt_roff, names = options(opts)
    if opt_roff:
        roff.append(".PP\nOptions:")
        roff.append(".RS 4")
        roff += opt_roff
        roff.append(".RE")
    return roff, names


def main(argv):
    tool, version, out = argv
    top = helptext(tool, "--help").split("\n")
    commands = [m.group(1) for m in (re.match(r"^   (\w+)\s+(.*)$", l) for l in top) if m]
    summary = {m.group(1): m.group(2) for m in (re.match(r"^   (\w+)\s+(.*)$", l) for l in top) if m}
    page = [
        '.TH MPARTICLE 1 "" "libmparticle %s" "User Commands"' % version,
        ".SH NAME",
        "mparticle \\- validate, normalize and send batches of the mParticle Events API, "
        "and run a local stand-in for it",
        ".SH SYNOPSIS",
        ".B mparticle",
        "[\\fB\\-\\-version\\fR] [\\fB\\-\\-help\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR...]",
        ".SH DESCRIPTION",
        "\\fBmparticle\\fR works on batches of mParticle's server-to-server Events API "
        "(https://docs.mparticle.com/developers/server/http/), one JSON batch, a JSON array "
        "of batches, or NDJSON. It is the command line of libmparticle(3).",
        ".PP",
        "Commands:",
        ".RS 4",
    ]
    for c in commands:
        page += [".TP", "\\fB%s\\fR" % c, esc(summary[c])]
    page += [".RE", ".PP",
             "\\fB\\-\\-version\\fR prints the version; \\fB\\-\\-help\\fR, or "
             "\\fBmparticle help\\fR \\fICOMMAND\\fR, prints a command's help.",
             ".SH COMMANDS"]
    for c in commands:
        roff, _ = command_section(tool, c)
        page += roff
    page += [
        ".SH ENVIRONMENT",
        ".TP", "\\fBMPARTICLE_API_KEY\\fR, \\fBMPARTICLE_API_SECRET\\fR",
        "The credentials of \\fBsend\\fR and \\fBserve\\fR when no option gives them.",
        ".TP", "\\fBMPARTICLE_BASE_URL\\fR",
        "The destination of \\fBsend\\fR when neither \\fB\\-\\-url\\fR nor "
        "\\fB\\-\\-pod\\fR is given (the library's precedence: base URL, then this "
        "variable, then the pod, then the key's prefix, then US1).",
        ".TP", "\\fBCURL_CA_BUNDLE\\fR, \\fBSSL_CERT_FILE\\fR",
        "CA certificates of \\fBsend\\fR when \\fB\\-\\-cacert\\fR is not given.",
        ".SH SEE ALSO",
        "libmparticle(3); the documentation in the source tree: README.md, docs/cli.md, "
        "docs/serve.md, docs/api-notes.md.",
    ]
    open(out, "w").write("\n".join(page) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

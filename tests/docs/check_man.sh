#!/usr/bin/env bash
# The man pages render without a warning, and mparticle(1) has a section for
# every command of `mparticle --help` naming every option of its --help.
# Usage: check_man.sh MPARTICLE MAN1 MAN3
set -euo pipefail
tool=$1 man1=$2 man3=$3
command -v groff >/dev/null || { echo "SKIPPED: groff is not installed"; exit 77; }
fail() { echo "check_man: $*" >&2; exit 1; }
for page in "$man1" "$man3"; do
  warnings=$(groff -man -ww -z "$page" 2>&1) || fail "$page: groff failed: $warnings"
  [ -z "$warnings" ] || fail "$page: $warnings"
done
commands=$("$tool" --help | sed -n 's/^   \([a-z]\+\) .*/\1/p')
[ -n "$commands" ] || fail "no command in mparticle --help"
n=0
for cmd in $commands; do
  grep -q "^\.SS \"mparticle $cmd\"" "$man1" || fail "$man1: no section for $cmd"
  for opt in $("$tool" "$cmd" --help | grep -oE '(^|[ ,])--?[a-z][a-z-]*' | sed 's/^[ ,]//' | sort -u); do
    escaped=$(printf '%s' "$opt" | sed 's/-/\\\\-/g')
    grep -q -- "$escaped" "$man1" || fail "$man1: $cmd's option $opt is missing"
    n=$((n + 1))
  done
done
echo "man pages: $(echo "$commands" | wc -w) commands, $n options, no groff warning"

#!/usr/bin/env bash
# The ABI baseline: libmparticle.so's public interface as abidw sees it
# (functions, variables and every type they reach, from the DWARF of a
# debug build), kept in abi/libmparticle.abi.
#
#   scripts/abi.sh check LIB   compare LIB with the baseline; exit 0 when
#                              compatible, non-zero with abidiff's report
#   scripts/abi.sh dump LIB    write LIB's ABI as the new baseline: only for
#                              a change made on purpose (an addition, or a
#                              break that comes with a new SONAME)
#
# LIB is a libmparticle.so built with debug information (any build type but
# Release), e.g. build/src/libmparticle.so. Only the public headers count:
# types defined elsewhere are left out of the comparison.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:?usage: scripts/abi.sh check|dump LIB}
lib=${2:?usage: scripts/abi.sh check|dump LIB}
baseline=abi/libmparticle.abi
headers=include/mparticle
# version.h is generated into the build tree; its types do not matter.
case "$mode" in
  dump)
    abidw --headers-dir "$headers" --drop-private-types --no-corpus-path "$lib" >"$baseline"
    echo "wrote $baseline"
    ;;
  check)
    abidiff --headers-dir2 "$headers" --drop-private-types --no-added-syms \
      "$baseline" "$lib" && { echo "ABI unchanged from $baseline"; exit 0; }
    rc=$?
    # abidiff's exit status is a bit field: 4 = changes that may break,
    # 8 = changes that break. Additions alone (rc 0 with --no-added-syms) pass.
    echo "ABI differs from $baseline (abidiff exit $rc): see the report above;" \
         "if the change is meant, run scripts/abi.sh dump $lib (and bump the SONAME for a break)" >&2
    exit 1
    ;;
  *) echo "usage: scripts/abi.sh check|dump LIB" >&2; exit 2 ;;
esac

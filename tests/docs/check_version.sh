#!/usr/bin/env bash
# One version everywhere: CMake's project(VERSION) against the shared
# library's SONAME and file name, mparticle --version, the pkg-config file,
# the default User-Agent compiled into the library, the man pages and
# debian/changelog.
# Usage: check_version.sh VERSION SOURCE_DIR BUILD_DIR LIBRARY [MPARTICLE] [MAN1]
set -euo pipefail
version=$1 src=$2 build=$3 lib=$4 tool=${5:-} man1=${6:-}
major=${version%%.*}
fail() { echo "version mismatch: $*" >&2; exit 1; }

soname=$(objdump -p "$lib" | awk '$1 == "SONAME" {print $2}')
[ "$soname" = "libmparticle.so.$major" ] || fail "SONAME $soname, want libmparticle.so.$major"
[ "$(basename "$(readlink -f "$lib")")" = "libmparticle.so.$version" ] ||
  fail "library file $(readlink -f "$lib"), want libmparticle.so.$version"
grep -aq "libmparticle/$version" "$lib" || fail "no User-Agent libmparticle/$version in $lib"
grep -qx "Version: $version" "$build/pkgconfig/mparticle.pc.in" || fail "mparticle.pc: $(grep ^Version "$build/pkgconfig/mparticle.pc.in")"
grep -q "\"libmparticle $version\"" "$build/man/libmparticle.3" || fail "libmparticle(3): $(head -1 "$build/man/libmparticle.3")"
deb=$(sed -n '1s/^libmparticle (\([^)]*\)).*/\1/p' "$src/debian/changelog")
[ "$deb" = "$version" ] || fail "debian/changelog says $deb"
grep -q "^## \[$version\]" "$src/CHANGELOG.md" || fail "CHANGELOG.md has no section [$version]"
if [ -n "$tool" ]; then
  [ "$("$tool" --version)" = "mparticle $version" ] || fail "mparticle --version says $("$tool" --version)"
fi
if [ -n "$man1" ]; then
  grep -q "\"libmparticle $version\"" "$man1" || fail "mparticle(1): $(head -1 "$man1")"
fi
echo "version $version everywhere (SONAME $soname)"

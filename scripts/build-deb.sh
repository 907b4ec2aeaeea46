#!/usr/bin/env bash
# Builds the Debian packages libmparticle0, libmparticle-dev and
# mparticle-tools from this tree with `dpkg-buildpackage -us -uc -b`
# (debian/: debhelper-compat 13, dh with cmake), in a scratch copy of the
# tree, then unpacks them into a scratch root (dpkg -x) and checks their
# files. The .deb files are left in OUT (default build/deb).
# Usage: scripts/build-deb.sh [OUT]
# With MP_DEB_NO_INSTALL=1 (the ctest test), missing tools make it exit 77
# (skipped) instead of installing them.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)
out=$(mkdir -p "${1:-build/deb}" && cd "${1:-build/deb}" && pwd)
if ! command -v dpkg-buildpackage >/dev/null || ! command -v dh >/dev/null; then
  if [ -n "${MP_DEB_NO_INSTALL:-}" ]; then
    echo "SKIPPED: dpkg-buildpackage or debhelper is not installed (scripts/deps.sh debhelper dpkg-dev)"
    exit 77
  fi
  scripts/deps.sh debhelper dpkg-dev
fi
version=$(sed -n 's/^project(mparticle$//; /^  VERSION /{s/^  VERSION //p;q}' CMakeLists.txt)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A clean copy: no build directories, no VCS data.
mkdir "$tmp/libmparticle-$version"
tar -C "$src" --exclude='./build*' --exclude='./.git' --exclude='./obj-*' -cf - . |
  tar -C "$tmp/libmparticle-$version" -xf -
(cd "$tmp/libmparticle-$version" &&
  DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" dpkg-buildpackage -us -uc -b >"$tmp/build.log" 2>&1) || {
  tail -50 "$tmp/build.log" >&2
  echo "build-deb: dpkg-buildpackage failed" >&2
  exit 1
}
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
fail() { echo "build-deb: $*" >&2; exit 1; }
root="$tmp/root"
for pkg in libmparticle0 libmparticle-dev mparticle-tools; do
  deb="$tmp/${pkg}_${version}_$arch.deb"
  [ -f "$deb" ] || fail "$deb was not built"
  [ "$(dpkg-deb -f "$deb" Version)" = "$version" ] || fail "$deb: version $(dpkg-deb -f "$deb" Version)"
  dpkg -x "$deb" "$root"
  cp "$deb" "$out/"
done

# The files of each package.
lib="$root/usr/lib/$multiarch"
for f in "$lib/libmparticle.so.0" "$lib/libmparticle.so.$version" "$lib/libmparticle.so" \
         "$lib/libmparticle.a" "$lib/libmparticle_serve.a" \
         "$lib/pkgconfig/mparticle.pc" "$lib/pkgconfig/mparticle-serve.pc" \
         "$lib/cmake/mparticle/mparticleConfig.cmake" \
         "$root/usr/include/mparticle.h" "$root/usr/include/mparticle/version.h" \
         "$root/usr/bin/mparticle" \
         "$root/usr/share/man/man1/mparticle.1.gz" "$root/usr/share/man/man3/libmparticle.3.gz"; do
  [ -e "$f" ] || fail "missing ${f#"$root"}"
done
dpkg-deb -c "$tmp/libmparticle0_${version}_$arch.deb" | grep -q '\.h$' && fail "libmparticle0 holds headers"
grep -qx 'prefix=/usr' "$lib/pkgconfig/mparticle.pc" || fail "mparticle.pc: $(grep ^prefix "$lib/pkgconfig/mparticle.pc")"
dpkg-deb -f "$tmp/mparticle-tools_${version}_$arch.deb" Depends | grep -q libcurl ||
  fail "mparticle-tools does not depend on libcurl"
[ "$("$root/usr/bin/mparticle" --version)" = "mparticle $version" ] || fail "mparticle --version"

# A program built against the unpacked -dev package, and run with its library.
cat >"$tmp/app.c" <<'C'
#include <mparticle.h>
#include <stdio.h>
int main(void) {
    mp_batch batch = {.environment = MP_ENVIRONMENT_DEVELOPMENT};
    char out[64];
    size_t len = 0;
    if (mp_encode_batch_to(&batch, out, sizeof out, &len, NULL) != MP_OK) return 1;
    printf("%s %s\n", mp_version_string(), out);
    return 0;
}
C
cc -std=c11 "$tmp/app.c" -I"$root/usr/include" -L"$lib" -lmparticle -o "$tmp/app"
LD_LIBRARY_PATH="$lib" "$tmp/app" | grep -qx "$version {\"environment\":\"development\"}" || fail "app"
echo "Debian packages built and checked: $(cd "$out" && ls ./*_"${version}"_*.deb | tr '\n' ' ')"

#!/usr/bin/env bash
# Installs the built SDK into a temporary prefix, then builds and runs
# consumers through find_package(mparticle) (C, and C++17 when CXX is given)
# and through pkg-config (shared, and libmparticle.a linked statically), and
# checks the pkg-config files of an install to /usr.
# Usage: install_test.sh BUILD_DIR SOURCE_DIR [CXX_COMPILER]
set -euo pipefail
build=$1 src=$2 cxx=${3:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "install test: $*" >&2; exit 1; }
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null

# --- find_package ----------------------------------------------------------
cmake -S "$src/consumer" -B "$tmp/consumer" -DCMAKE_PREFIX_PATH="$tmp/prefix" \
  ${cxx:+-DCMAKE_CXX_COMPILER="$cxx" -DMP_CONSUMER_CXX=ON} >/dev/null
cmake --build "$tmp/consumer" >/dev/null
libdir="$(dirname "$(find "$tmp/prefix" -name 'libmparticle.so' | head -1)")"
LD_LIBRARY_PATH="$libdir" "$tmp/consumer/consumer_shared"
"$tmp/consumer/consumer_static"
if ldd "$tmp/consumer/consumer_static" | grep -q libmparticle; then
  fail "consumer_static depends on the shared libmparticle"
fi
if [ -n "$cxx" ]; then
  LD_LIBRARY_PATH="$libdir" "$tmp/consumer/consumer_cxx"
fi

# --- pkg-config --------------------------------------------------------------
pcdir="$libdir/pkgconfig"
export PKG_CONFIG_PATH="$pcdir"
[ "$(pkg-config --variable=prefix mparticle)" = "$tmp/prefix" ] || fail "prefix: $(pkg-config --variable=prefix mparticle)"
# shellcheck disable=SC2046
cc -std=c11 "$src/consumer/consumer.c" $(pkg-config --cflags --libs mparticle) -o "$tmp/pc_consumer"
LD_LIBRARY_PATH="$(pkg-config --variable=libdir mparticle)" "$tmp/pc_consumer"
# `pkg-config --static --libs` is a link line that works as it is ...
# shellcheck disable=SC2046
cc -std=c11 "$src/consumer/consumer.c" $(pkg-config --cflags --static --libs mparticle) -o "$tmp/pc_static_libs"
LD_LIBRARY_PATH="$(pkg-config --variable=libdir mparticle)" "$tmp/pc_static_libs"
# ... and links libmparticle.a itself (with the shared libcurl,
# whose own static archives a normal system lacks): README.md, "Static linking".
# shellcheck disable=SC2046
cc -std=c11 "$src/consumer/consumer.c" $(pkg-config --cflags mparticle) \
  -Wl,-Bstatic $(pkg-config --libs-only-l mparticle) -Wl,-Bdynamic \
  $(pkg-config --static --libs mparticle) -o "$tmp/pc_static"
if ldd "$tmp/pc_static" | grep -q libmparticle; then
  fail "pc_static depends on the shared libmparticle"
fi
"$tmp/pc_static"
# The serve library's own module, when it was built.
if [ -f "$pcdir/mparticle-serve.pc" ]; then
  pkg-config --exists --print-errors mparticle-serve
  pkg-config --libs mparticle-serve | grep -q -- "-lmparticle_serve" || fail "mparticle-serve.pc: no -lmparticle_serve"
  [ -f "$(pkg-config --variable=libdir mparticle-serve)/libmparticle_serve.a" ] || fail "no libmparticle_serve.a"
fi

# --- an install to /usr (through DESTDIR): paths relative to ${prefix} ---------
DESTDIR="$tmp/root" cmake --install "$build" --prefix /usr >/dev/null
pc=$(find "$tmp/root" -name mparticle.pc | head -1)
grep -qx 'prefix=/usr' "$pc" || fail "$pc: prefix is not /usr: $(grep ^prefix= "$pc")"
grep -qx 'includedir=${prefix}/include' "$pc" || fail "$pc: $(grep ^includedir= "$pc")"
grep -q '^libdir=${prefix}/lib' "$pc" || fail "$pc: $(grep ^libdir= "$pc")"
if grep -q '\.\./' "$pc"; then fail "$pc has a relative path: $(cat "$pc")"; fi
[ "$(PKG_CONFIG_PATH= PKG_CONFIG_LIBDIR="$(dirname "$pc")" pkg-config --cflags mparticle)" = "" ] ||
  [ "$(PKG_CONFIG_PATH= PKG_CONFIG_LIBDIR="$(dirname "$pc")" pkg-config --cflags mparticle)" = "-I/usr/include" ] ||
  fail "cflags for /usr: $(PKG_CONFIG_LIBDIR="$(dirname "$pc")" pkg-config --cflags mparticle)"
echo "install test passed"

#!/usr/bin/env bash
# Installs the built SDK into a temporary prefix, then builds and runs a
# consumer through find_package(mparticle) and through pkg-config.
set -euo pipefail
build=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null

cmake -S "$src/consumer" -B "$tmp/consumer" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/consumer" >/dev/null
LD_LIBRARY_PATH="$(dirname "$(find "$tmp/prefix" -name 'libmparticle.so' | head -1)")" \
  "$tmp/consumer/consumer_shared"
"$tmp/consumer/consumer_static"

pcdir=$(dirname "$(find "$tmp/prefix" -name mparticle.pc | head -1)")
export PKG_CONFIG_PATH="$pcdir"
# shellcheck disable=SC2046
cc -std=c11 "$src/consumer/consumer.c" $(pkg-config --cflags --libs mparticle) -o "$tmp/pc_consumer"
LD_LIBRARY_PATH="$(pkg-config --variable=libdir mparticle)" "$tmp/pc_consumer"
# The static archive with the shared builds of its dependencies (their own
# static archives are not installed on a normal system).
# shellcheck disable=SC2046
cc -std=c11 "$src/consumer/consumer.c" $(pkg-config --cflags mparticle) \
  "$(pkg-config --variable=libdir mparticle)/libmparticle.a" $(pkg-config --libs jansson libcurl) -lm -pthread \
  -o "$tmp/pc_static"
"$tmp/pc_static"
"$tmp/pc_static"
echo "install test passed"

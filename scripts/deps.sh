#!/usr/bin/env bash
# Installs the Debian packages the project needs, when any is missing.
# Usage: scripts/deps.sh [extra-package...]
set -euo pipefail

packages=(
  cmake make gcc g++ pkg-config
  libjansson-dev libcmocka-dev libcurl4-openssl-dev libmicrohttpd-dev
  python3 python3-jsonschema locales curl abigail-tools
  debhelper dpkg-dev doxygen groff-base
  "$@"
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

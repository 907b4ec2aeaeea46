#!/usr/bin/env bash
# Runs the built Full Example: BUILD_DIR holds examples/full_example and
# tools/mparticle. See scripts/example.sh (which builds them first).
# Usage: full-example.sh BUILD_DIR [PROGRAM]; PROGRAM (default
# BUILD_DIR/examples/full_example) is any program that uploads with the
# client configured from MPARTICLE_API_KEY, _SECRET and _BASE_URL: the tests
# run the C++ example and the README's Full Example this way too.
set -euo pipefail
build=$1
example=${2:-"$build/examples/full_example"}

if [ -n "${MPARTICLE_API_KEY:-}" ] && [ -n "${MPARTICLE_API_SECRET:-}" ]; then
  echo "Sending the Full Example to mParticle"
  exec "$example"
fi

tmp=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

# A local stand-in for the Events API, with credentials of its own.
mkfifo "$tmp/out"
"$build/tools/mparticle" serve --port 0 --key local-key --secret local-secret \
  --record "$tmp/received.ndjson" >"$tmp/out" 2>"$tmp/serve.log" &
server_pid=$!
exec 3<"$tmp/out"
read -r -t 10 first <&3 || { echo "mparticle serve did not start:" >&2; cat "$tmp/serve.log" >&2; exit 1; }
url=${first#listening on }
echo "No MPARTICLE_API_KEY/MPARTICLE_API_SECRET: sending to a local mparticle serve at $url"

MPARTICLE_API_KEY=local-key MPARTICLE_API_SECRET=local-secret MPARTICLE_BASE_URL="$url/v2" \
  "$example"

echo "The server received:"
cat "$tmp/received.ndjson"
kill -TERM "$server_pid"
wait "$server_pid" || true
server_pid=
cat <&3

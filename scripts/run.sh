#!/usr/bin/env bash
# The README's first command: install what is missing, build a release smsxd and start it
# with working defaults (loopback, ./smsx-data). Extra arguments go to smsxd.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
cmake -S "$root" -B "$root/build/release" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DSMSX_BENCH=OFF >/dev/null
cmake --build "$root/build/release" -j "$(nproc)" --target smsxd
exec "$root/build/release/tools/smsxd" "$@"

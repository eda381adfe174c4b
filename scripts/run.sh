#!/usr/bin/env bash
# The README's first command: install what is missing, build a release smsxd and start it
# with working defaults (loopback, ./smsx-data). Extra arguments go to smsxd.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" "$root/build/release" -DCMAKE_BUILD_TYPE=Release -DSMSX_BENCH=OFF
exec "$root/build/release/tools/smsxd" "$@"

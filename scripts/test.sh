#!/usr/bin/env bash
# The README's second command: install what is missing, build, and run every test —
# unit, simulation and end-to-end tests (ctest), then the independent contract check
# (../shared/conformance/contract.py) against the built smsxd when it is beside the checkout.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
build="$root/build/test"
"$root/scripts/build.sh" "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo
(cd "$build" && ctest --output-on-failure -j "$(nproc)" --timeout 600)
contract="$root/../shared/conformance/contract.py"
if [ -f "$contract" ]; then
  echo "== contract check: $contract"
  python3 "$contract" "$build/tools/smsxd"
else
  echo "== contract check skipped: $contract not found"
fi

#!/usr/bin/env bash
# Replication figures (issue 6, docs/benchmarks.md "Replication"): a primary and a standby
# on loopback, driven by smsx-load.
#   1. lag: open loop at RATE requests/s for DURATION against the primary (async); then the
#      primary's smsx_replication_ack_seconds histogram (local commit -> standby's ack of
#      that batch) gives the share of batches acknowledged within each bound.
#   2. cost of sync: closed loop, the same command against an async pair and a sync pair.
# Usage: bench/replication/run.sh [BUILD_DIR]   (default build/rel, Release with smsxd and
# smsx-load built). Settings from the environment: RATE (default 100000), DURATION (10s),
# CONNECTIONS (8), PIPELINE (256).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build/rel}
smsxd=$build/tools/smsxd
load=$build/tools/smsx-load
rate=${RATE:-100000}
duration=${DURATION:-10s}
connections=${CONNECTIONS:-8}
pipeline=${PIPELINE:-256}
for p in "$smsxd" "$load"; do
  [ -x "$p" ] || { echo "missing $p: cmake --build $build --target smsxd smsx-load" >&2; exit 2; }
done
work=$(mktemp -d /tmp/smsx-repl-bench-XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
export SMSX_CUSTOMER_TOKEN=bench-customer-0123456789 SMSX_SUPPLIER_TOKEN=bench-supplier-0123456789
export SMSX_PAYMENTS_TOKEN=bench-payments-0123456789 SMSX_ADMIN_TOKEN=bench-admin-0123456789
replica_token=bench-replica-0123456789
gateways() {
  for role in customer supplier payments admin replica; do
    local var="SMSX_${role^^}_TOKEN" token
    token=${!var:-$replica_token}
    printf '[[gateways]]\nname = "%s-1"\nrole = "%s"\ntoken = "%s"\n' "$role" "$role" "$token"
  done
}
# start NAME PORT METRICS_PORT EXTRA_TOML: starts smsxd, waits until it listens.
start() {
  local name=$1 port=$2 mport=$3 extra=$4
  mkdir -p "$work/$name"
  { printf 'listen = "127.0.0.1:%s"\nmetrics_listen = "127.0.0.1:%s"\ndata_dir = "%s"\n%b\n' \
      "$port" "$mport" "$work/$name/data" "$extra"; gateways; } >"$work/$name/smsx.toml"
  "$smsxd" --config "$work/$name/smsx.toml" 2>"$work/$name/log" &
  pids+=($!)
  for _ in $(seq 200); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.1)" 2>/dev/null && return
    sleep 0.05  # polling a port
  done
  echo "$name did not start:" >&2; cat "$work/$name/log" >&2; exit 1
}
stop_all() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  pids=()
}
pair() {  # pair MODE: a primary in MODE and its standby; sets PRIMARY_PORT, PRIMARY_METRICS
  PRIMARY_PORT=$(free_port); PRIMARY_METRICS=$(free_port)
  start "primary-$1" "$PRIMARY_PORT" "$PRIMARY_METRICS" "[replication]\nmode = \"$1\""
  start "standby-$1" "$(free_port)" "$(free_port)" \
    "[replication]\nprimary = \"127.0.0.1:$PRIMARY_PORT\"\ntoken = \"$replica_token\""
}
run_load() {  # run_load PORT ARGS...: prints the JSON report
  local port=$1; shift
  "$load" --address "127.0.0.1:$port" --connections "$connections" --pipeline "$pipeline" \
    --duration "$duration" --numbers 200000 --json --quiet "$@"
}
field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

echo "machine: $(nproc) CPUs, $(uptime | sed 's/.*load average/load average/'), $(date -u)"
echo
echo "== lag: async pair, open loop at $rate/s for $duration =="
pair async
report=$(run_load "$PRIMARY_PORT" --rate "$rate")
echo "$report" | python3 -c '
import json, sys
r = json.load(sys.stdin)
print("load: %d requests, %.0f/s, p99 %.3f ms, errors %s" % (r["requests"], r["throughput"],
      r["latency_us"]["p99"] / 1000, r.get("errors", {})))'
python3 -c '
import urllib.request
import sys
buckets = []
count = 0
for line in urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1]).read().decode().splitlines():
    if line.startswith("smsx_replication_ack_seconds_bucket"):
        le = line.split("le=\"")[1].split("\"")[0]
        buckets.append((le, float(line.split()[-1])))
    elif line.startswith("smsx_replication_ack_seconds_count"):
        count = float(line.split()[-1])
print("standby acknowledgements (one per committed batch): %d" % count)
for le, n in buckets:
    print("  <= %-6s s: %6.2f%%" % (le, 100.0 * n / count if count else 0))' "$PRIMARY_METRICS"
stop_all

echo
echo "== cost of sync: closed loop, $connections x $pipeline, $duration =="
for mode in async sync; do
  pair "$mode"
  report=$(run_load "$PRIMARY_PORT")
  echo "$mode: $(echo "$report" | field '["throughput"]') requests/s, p99 $(echo "$report" | field '["latency_us"]["p99"]') us"
  stop_all
done

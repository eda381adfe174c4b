#!/usr/bin/env bash
# Replication figures (issue 6, docs/benchmarks.md "Replication"): a primary and a standby
# on loopback, driven by smsx-load.
#   1. lag: open loop at RATE requests/s for DURATION against the primary (async); then the
#      primary's smsx_replication_ack_seconds histogram (local commit -> standby's ack of
#      that batch) gives the share of batches acknowledged within each bound, and
#      smsx_replication_standby_seconds the standby's own time (batch sent -> its ack).
#   2. cost of sync: closed loop, the same command against an async pair and a sync pair.
# Usage: bench/replication/run.sh [BUILD_DIR]   (default build/rel, Release with smsxd and
# smsx-load built). Settings from the environment: RATE (default 100000), DURATION (10s),
# CONNECTIONS (8), PIPELINE (256), OPEN_CONNECTIONS (workers in the open-loop run, default
# CONNECTIONS), NUMBERS (1000000, set up before the load), EXTRA_TOML (added to both
# nodes' configuration).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build/rel}
work_name=smsx-repl-bench
duration_default=10s
source bench/lib/smsxd.sh

pair() {  # pair MODE: a primary in MODE and its standby; sets PRIMARY_PORT, PRIMARY_METRICS
  PRIMARY_PORT=$(free_port); PRIMARY_METRICS=$(free_port)
  start "primary-$1" "$PRIMARY_PORT" "$PRIMARY_METRICS" "[replication]\nmode = \"$1\""
  start "standby-$1" "$(free_port)" "$(free_port)" \
    "[replication]\nprimary = \"127.0.0.1:$PRIMARY_PORT\"\ntoken = \"$replica_token\""
}
run_load() {  # run_load PORT WORKERS ARGS...: prints the JSON report
  local port=$1 workers=$2; shift 2
  "$load" --address "127.0.0.1:$port" --connections "$workers" --pipeline "$pipeline" \
    --duration "$duration" --numbers "$numbers" --json --quiet "$@"
}

echo "machine: $(nproc) CPUs, $(uptime | sed 's/.*load average/load average/'), $(date -u)"
echo "configuration added to both nodes: ${EXTRA_TOML:-(none)}"
echo
echo "== lag: async pair, open loop at $rate/s for $duration, $open_connections workers =="
pair async
report=$(run_load "$PRIMARY_PORT" "$open_connections" --rate "$rate")
echo "load: $(echo "$report" | summary)"
echo "CPU seconds (user system): primary $(cpu_seconds "${pids[0]}"), standby $(cpu_seconds "${pids[1]}")"
echo "standby acknowledgements (one per committed batch):"
histogram "$PRIMARY_METRICS" smsx_replication_ack_seconds
echo "the standby's own time (one per batch sent as it was written; sending to its ack):"
histogram "$PRIMARY_METRICS" smsx_replication_standby_seconds
stop_all

echo
echo "== cost of sync: closed loop, $connections x $pipeline, $duration =="
for mode in async sync; do
  pair "$mode"
  report=$(run_load "$PRIMARY_PORT" "$connections")
  echo "$mode: $(echo "$report" | summary)"
  stop_all
done

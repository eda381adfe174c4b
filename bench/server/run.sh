#!/usr/bin/env bash
# One smsxd (durability = "fsync", a fresh data folder per run) driven by smsx-load on
# loopback (docs/benchmarks.md, "Server"):
#   1. open loop at RATE requests/s for DURATION: the client's latency and send lag, the
#      server's own request-latency and WAL-commit histograms, and the CPU each used;
#   2. closed loop, CONNECTIONS x PIPELINE, for DURATION: throughput.
# Usage: bench/server/run.sh [BUILD_DIR]   (default build/rel, Release with smsxd and
# smsx-load built). Environment: RATE (100000), DURATION (5s), CONNECTIONS (8), PIPELINE
# (256), OPEN_CONNECTIONS (workers in the open-loop run, default CONNECTIONS), NUMBERS
# (1000000, set up before the load), EXTRA_TOML
# (added to smsxd's configuration), RUNS (1: how many times each), IDLE_CONNECTIONS (0:
# connections opened to smsxd before the load and left idle, as many gateways would).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build/rel}
work_name=smsx-server-bench
duration_default=5s
source bench/lib/smsxd.sh
runs=${RUNS:-1}
idle=${IDLE_CONNECTIONS:-0}
ulimit -n "$(ulimit -Hn)"

# idle_connections PORT: opens $idle connections in the background until it is killed.
idle_connections() {
  [ "$idle" -gt 0 ] || return 0
  python3 - "$1" "$idle" <<'PY' &
import socket, sys, time
socks = [socket.create_connection(("127.0.0.1", int(sys.argv[1]))) for _ in range(int(sys.argv[2]))]
print("%d idle connections open" % len(socks), flush=True)
time.sleep(3600)
PY
  pids+=($!)
  for _ in $(seq 200); do
    [ "$(curl -s "http://127.0.0.1:$2/metrics" | awk '/^smsx_connections /{print $2}')" = "$idle" ] && return
    sleep 0.05  # polling the gauge until every idle connection is accepted
  done
  echo "the idle connections were not all accepted" >&2; exit 1
}

echo "machine: $(nproc) CPUs, $(uptime | sed 's/.*load average/load average/'), $(date -u)"
echo "smsxd configuration added: ${EXTRA_TOML:-(none)}; idle connections: $idle"
for run in $(seq "$runs"); do
  echo
  echo "== open loop at $rate/s for $duration, $open_connections workers x pipeline $pipeline (run $run) =="
  port=$(free_port); mport=$(free_port)
  start "open-$run" "$port" "$mport" "[limits]\nconnections_max = $((idle + 100))"
  idle_connections "$port" "$mport"
  report=$(/usr/bin/time -f "%U %S" -o "$work/load-cpu" "$load" --address "127.0.0.1:$port" \
    --connections "$open_connections" --pipeline "$pipeline" --duration "$duration" \
    --numbers "$numbers" --rate "$rate" --json --quiet)
  echo "client: $(echo "$report" | summary)"
  echo "CPU seconds (user system): smsxd $(cpu_seconds "${pids[0]}"), smsx-load $(cat "$work/load-cpu")"
  echo "server (these also count the set-up requests, about one per number):"
  histogram "$mport" smsx_request_latency_seconds
  histogram "$mport" smsx_wal_commit_seconds
  stop_all

  echo
  echo "== closed loop, $connections x $pipeline, $duration (run $run) =="
  port=$(free_port); mport=$(free_port)
  start "closed-$run" "$port" "$mport" "[limits]\nconnections_max = $((idle + 100))"
  idle_connections "$port" "$mport"
  report=$("$load" --address "127.0.0.1:$port" --connections "$connections" \
    --pipeline "$pipeline" --duration "$duration" --numbers "$numbers" --json --quiet)
  echo "client: $(echo "$report" | summary)"
  stop_all
done

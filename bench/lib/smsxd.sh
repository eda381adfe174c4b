# Shared by the benchmark scripts that start smsxd processes on loopback and drive them
# with smsx-load (bench/server/run.sh, bench/replication/run.sh). Source it from the
# repository's root after setting
#   build        a build folder with smsxd and smsx-load (Release)
#   work_name    a name for the temporary folder $work (removed on exit)
#   duration_default  the load's length unless DURATION says otherwise
# It sets smsxd and load (the binaries; it exits with 2 when one is missing), work, and the
# load's shape from the environment: rate (RATE, 100000), duration, connections
# (CONNECTIONS, 8), pipeline (PIPELINE, 256), open_connections (OPEN_CONNECTIONS: workers in
# open-loop runs, default CONNECTIONS), numbers (NUMBERS, 1000000: set up before the load).
# Every started smsxd gets a folder $work/NAME (its smsx.toml, data and log); they are
# killed on exit. EXTRA_TOML (environment) is added to every node's configuration, for
# example EXTRA_TOML='[memory]\nhuge_pages = false', and SMSXD_WRAPPER is put before the
# smsxd command (for example "taskset -c 0").

smsxd=$build/tools/smsxd
load=$build/tools/smsx-load
for p in "$smsxd" "$load"; do
  [ -x "$p" ] || { echo "missing $p: cmake --build $build --target smsxd smsx-load" >&2; exit 2; }
done
work=$(mktemp -d "/tmp/$work_name-XXXXXX")
rate=${RATE:-100000}
duration=${DURATION:-$duration_default}
connections=${CONNECTIONS:-8}
pipeline=${PIPELINE:-256}
open_connections=${OPEN_CONNECTIONS:-$connections}
# Numbers set up for the load: each worker may hold half of them over the workers as
# active orders, and the orders left to expire stay active, so a fast run needs many or
# its placements turn into other ops (the "held back" share of the summary).
numbers=${NUMBERS:-1000000}

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

export SMSX_CUSTOMER_TOKEN=bench-customer-0123456789 SMSX_SUPPLIER_TOKEN=bench-supplier-0123456789
export SMSX_PAYMENTS_TOKEN=bench-payments-0123456789 SMSX_ADMIN_TOKEN=bench-admin-0123456789
replica_token=bench-replica-0123456789

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

gateways() {
  for role in customer supplier payments admin replica; do
    local var="SMSX_${role^^}_TOKEN" token
    token=${!var:-$replica_token}
    printf '[[gateways]]\nname = "%s-1"\nrole = "%s"\ntoken = "%s"\n' "$role" "$role" "$token"
  done
}

# start NAME PORT METRICS_PORT EXTRA: starts smsxd (EXTRA: TOML, printf %b escapes), waits
# until it listens.
start() {
  local name=$1 port=$2 mport=$3 extra=$4
  mkdir -p "$work/$name"
  { printf 'listen = "127.0.0.1:%s"\nmetrics_listen = "127.0.0.1:%s"\ndata_dir = "%s"\n%b\n%b\n' \
      "$port" "$mport" "$work/$name/data" "${EXTRA_TOML:-}" "$extra"; gateways; } >"$work/$name/smsx.toml"
  # shellcheck disable=SC2086  # SMSXD_WRAPPER is words, e.g. "taskset -c 0"
  ${SMSXD_WRAPPER:-} "$smsxd" --config "$work/$name/smsx.toml" 2>"$work/$name/log" &
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

# cpu_seconds PID: user and system CPU seconds of a running process so far.
cpu_seconds() {
  awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f %.2f", $14 / hz, $15 / hz}' "/proc/$1/stat"
}

# histogram METRICS_PORT NAME: the cumulative share of a Prometheus histogram per bound.
histogram() {
  python3 -c '
import sys, urllib.request
port, name = sys.argv[1], sys.argv[2]
buckets, count = [], 0
for line in urllib.request.urlopen("http://127.0.0.1:%s/metrics" % port).read().decode().splitlines():
    if line.startswith(name + "_bucket"):
        buckets.append((line.split("le=\"")[1].split("\"")[0], float(line.split()[-1])))
    elif line.startswith(name + "_count"):
        count = float(line.split()[-1])
print("%s: %d observations" % (name, count))
for le, n in buckets:
    if le in ("0.05", "0.1", "0.5", "1", "2.5", "5", "10") and n == count:
        continue
    print("  <= %-7s s: %7.3f%%" % (le, 100.0 * n / count if count else 0))' "$1" "$2"
}

field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

# summary: one line from an smsx-load JSON report on stdin.
summary() {
  python3 -c '
import json, sys
r = json.load(sys.stdin)
l, s = r["latency_us"], r.get("send_lag_us")
line = "%d requests, %.0f/s, latency p50 %.0f us, p90 %.0f us, p99 %.0f us, p99.9 %.0f us, max %.0f us" % (
    r["requests"], r["throughput"], l["p50"], l["p90"], l["p99"], l["p99_9"], l["max"])
if s and r.get("mode") == "open":
    line += "; send lag p50 %.0f us, p99 %.0f us, max %.0f us" % (s["p50"], s["p99"], s["max"])
line += "; %.1f%% placements held back" % (100.0 * r.get("held_back", 0) / max(r["sent"], 1))
print(line + ("; errors %s" % r["errors"] if r.get("errors") else ""))'
}

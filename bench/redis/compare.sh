#!/usr/bin/env bash
# compare.sh: smsxd against the same workload on Redis 7 + Lua functions, side by side.
#
# Builds smsxd, smsx-load and smsx-redis-load (Release) into its own build folder, then for
# each durability variant starts a fresh server on a loopback port in a temporary folder,
# drives it with the same connections, pipeline depth and request count, stops it, and
# prints one table with both throughputs, latencies and the ratio. docs/benchmarks.md,
# "Redis comparison", explains the workload and what the figures mean.
#
#   bench/redis/compare.sh                      # defaults below
#   REQUESTS=500000 CONNECTIONS=8 PIPELINE=256 bench/redis/compare.sh
#
# Settings (environment): REQUESTS (200000), CONNECTIONS (4), PIPELINE (64), NUMBERS
# (100000), VARIANTS ("fsync none"), BUILD (build/redis-compare), SKIP_BUILD=1 to use the
# binaries already in BUILD, KEEP=1 to keep the temporary folder (logs, JSON reports).
# With 2 or more CPUs, the server runs on CPU 0 and the driver on CPU 1 (taskset).
# Exit status: 0, or 1 when a driver reported a failed check, a lost connection or counts
# that do not add up (the table is printed either way), 2 when something is missing.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
requests=${REQUESTS:-200000}
connections=${CONNECTIONS:-4}
pipeline=${PIPELINE:-64}
numbers=${NUMBERS:-100000}
variants=${VARIANTS:-"fsync none"}
build=${BUILD:-$root/build/redis-compare}

for tool in redis-server python3 cmake; do
  command -v $tool >/dev/null || { echo "compare.sh: $tool is missing (scripts/install-deps.sh)" >&2; exit 2; }
done
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  echo "== building into $build" >&2
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSMSX_BENCH=ON >/dev/null
  cmake --build "$build" -j2 --target smsxd smsx-load smsx-redis-load >/dev/null
fi
smsxd=$build/tools/smsxd
load=$build/tools/smsx-load
redis_load=$build/bench/redis/smsx-redis-load
for b in "$smsxd" "$load" "$redis_load"; do
  [ -x "$b" ] || { echo "compare.sh: $b was not built" >&2; exit 2; }
done

pin_server=() pin_driver=()
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
  pin_server=(taskset -c 0) pin_driver=(taskset -c 1)
fi

tmp=$(mktemp -d /tmp/smsx-redis-compare-XXXXXX)
server_pid=""
failed=0
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() {  # wait_port PORT PID: until something listens, or the server died
  for _ in $(seq 1 200); do
    kill -0 "$2" 2>/dev/null || { echo "compare.sh: the server exited at start" >&2; return 1; }
    (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
    sleep 0.05  # polling a port, not synchronisation
  done
  echo "compare.sh: nothing listens on $1 after 10 s" >&2
  return 1
}

stop_server() {
  kill -TERM "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

token() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }

run_smsxd() {  # run_smsxd DURABILITY -> $tmp/smsxd-DURABILITY.json
  local d=$1 dir=$tmp/smsxd-$1 port
  port=$(free_port)
  mkdir -p "$dir"
  local tc=$(token) ts=$(token) tp=$(token) ta=$(token)
  cat >"$dir/smsx.toml" <<TOML
listen = "127.0.0.1:$port"
metrics_listen = ""
data_dir = "$dir/data"
durability = "$d"
[[gateways]]
name = "customer"
role = "customer"
token = "$tc"
[[gateways]]
name = "supplier"
role = "supplier"
token = "$ts"
[[gateways]]
name = "payments"
role = "payments"
token = "$tp"
[[gateways]]
name = "admin"
role = "admin"
token = "$ta"
TOML
  "${pin_server[@]}" "$smsxd" --config "$dir/smsx.toml" 2>"$dir/smsxd.log" &
  server_pid=$!
  wait_port "$port" "$server_pid"
  echo "== smsxd durability=$d: $requests requests, $connections x pipeline $pipeline" >&2
  "${pin_driver[@]}" "$load" --address "127.0.0.1:$port" --connections "$connections" \
    --pipeline "$pipeline" --requests "$requests" --numbers "$numbers" --quiet --json \
    --customer-token "$tc" --supplier-token "$ts" --payments-token "$tp" --admin-token "$ta" \
    >"$tmp/smsxd-$d.json" || { echo "compare.sh: smsx-load exited with $?" >&2; failed=1; }
  stop_server
}

run_redis() {  # run_redis DURABILITY -> $tmp/redis-DURABILITY.json
  local d=$1 dir=$tmp/redis-$1 port
  port=$(free_port)
  mkdir -p "$dir"
  local persistence="appendonly no"
  if [ "$d" = fsync ]; then persistence=$'appendonly yes\nappendfsync always'; fi
  cat >"$dir/redis.conf" <<CONF
bind 127.0.0.1
port $port
dir $dir
save ""
$persistence
daemonize no
logfile $dir/redis.log
CONF
  "${pin_server[@]}" redis-server "$dir/redis.conf" &
  server_pid=$!
  wait_port "$port" "$server_pid"
  echo "== redis ($([ "$d" = fsync ] && echo 'appendfsync always' || echo 'no persistence')): $requests requests, $connections x pipeline $pipeline" >&2
  "${pin_driver[@]}" "$redis_load" --functions "$root/bench/redis/smsx.lua" \
    --address "127.0.0.1:$port" --connections "$connections" --pipeline "$pipeline" \
    --requests "$requests" --numbers "$numbers" --quiet --json \
    >"$tmp/redis-$d.json" || { echo "compare.sh: smsx-redis-load exited with $?" >&2; failed=1; }
  stop_server
}

for d in $variants; do
  run_smsxd "$d"
  run_redis "$d"
done

echo "== $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$tmp" $variants <<'PY'
import json, sys, os
tmp, variants = sys.argv[1], sys.argv[2:]
def load(name):
    p = os.path.join(tmp, name + ".json")
    try:
        with open(p) as f: return json.loads(f.read())
    except Exception:
        return None
def us(v): return f"{v/1000:.2f} ms" if v >= 1000 else f"{v:.0f} us"
rows = []
print(f"{'durability':<11} {'server':<22} {'requests':>9} {'req/s':>10} {'p50':>9} {'p99':>9} {'p99.9':>9} {'max':>9} {'held':>6}  errors")
for d in variants:
    pair = {}
    for server, label in (("smsxd", "smsxd" if d == "none" else "smsxd (fsync)"),
                          ("redis", "redis+lua" if d == "none" else "redis+lua (fsync always)")):
        r = load(f"{server}-{d}")
        pair[server] = r
        if r is None:
            print(f"{d:<11} {label:<22} (no report)"); continue
        lat = r["latency_us"]
        errs = ",".join(f"{k}={v}" for k, v in r["errors"].items()) or "0"
        print(f"{d:<11} {label:<22} {r['requests']:>9} {r['throughput']:>10.0f} {us(lat['p50']):>9} "
              f"{us(lat['p99']):>9} {us(lat['p99_9']):>9} {us(lat['max']):>9} "
              f"{100 * r.get('held_back', 0) / max(r['sent'], 1):>5.1f}%  {errs}")
    s, r = pair.get("smsxd"), pair.get("redis")
    if s and r and r["throughput"] > 0:
        ratio = s["throughput"] / r["throughput"]
        p99 = r["latency_us"]["p99"] / s["latency_us"]["p99"] if s["latency_us"]["p99"] else 0
        print(f"{d:<11} {'ratio smsxd / redis':<22} {'':>9} {ratio:>9.2f}x   (redis p99 / smsxd p99: {p99:.2f}x)")
print("held: requests sent in place of a placement because the worker held its limit of active")
print("orders; above 1% the run did not keep the mix: raise NUMBERS.")
PY
exit $failed

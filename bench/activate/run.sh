#!/usr/bin/env bash
# smsx-activate (the SMS-Activate-compatible HTTP gateway) driven by wrk on loopback, as
# docs/activate_gateway.md "Figures" describes: one smsxd (DURABILITY, default "none") with one
# waiting order (id 1) of the key's account, the gateway with 2 upstream connections and no
# per-key rate limit, and wrk asking getStatus for that order:
#   1. keep-alive, one request at a time per connection, CONNECTIONS (32) connections;
#   2. the same with 4 x CONNECTIONS connections;
#   3. PIPELINE (16) requests per write on CONNECTIONS / 2 connections;
#   0. added latency: one client, one request at a time, LATENCY_REQUESTS (20,000) times
#      smsxd's order.get directly, then the same order's getStatus through the gateway;
#      the p50 of each and the difference;
#   4. getNumber (each answer a new order) on CONNECTIONS connections for NUMBER_DURATION
#      (2s), from NUMBERS (300,000) numbers, the requests spread over 4 keys of 4 accounts
#      (an account holds at most 100,000 active orders).
# With two or more CPUs, smsxd and the gateway run on CPU 0 and wrk on CPU 1 (taskset).
# Usage: bench/activate/run.sh [BUILD_DIR]   (default build/rel, Release with smsxd and
# smsx-activate built). Environment: DURATION (10s), CONNECTIONS (32), PIPELINE (16),
# RUNS (1), NUMBERS, NUMBER_DURATION, DURABILITY (none | fsync), LATENCY_REQUESTS (20000).
# Needs wrk, python3 and curl. It fails when any answer was not the expected one
# (STATUS_WAIT_CODE, ACCESS_NUMBER).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build/rel}
work_name=smsx-activate-bench
duration_default=10s
source bench/lib/smsxd.sh
gateway=$build/tools/activate_gateway/smsx-activate
[ -x "$gateway" ] || { echo "missing $gateway: cmake --build $build --target smsx-activate" >&2; exit 2; }
command -v wrk >/dev/null || { echo "wrk is missing (apt-get install wrk)" >&2; exit 2; }
connections=${CONNECTIONS:-32}
http_pipeline=${PIPELINE:-16}
runs=${RUNS:-1}
numbers=${NUMBERS:-300000}
number_duration=${NUMBER_DURATION:-2s}
server_cpu=() client_cpu=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  server_cpu=(taskset -c 0) client_cpu=(taskset -c 1)
fi
key=bench-key-0123456789-0  # of account 1001; ...-1 to -3 are of accounts 1002 to 1004
account=1001

# The order: a price, a number, money on the account, and one placement (order id 1).
port=$(free_port); mport=$(free_port)
SMSXD_WRAPPER="${server_cpu[*]}" start smsxd "$port" "$mport" "durability = \"${DURABILITY:-none}\""
python3 - "$port" "$account" "$numbers" <<'PY'
import json, os, socket, sys
port, account, numbers = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
calls = [0]
def session(token):
    s = socket.create_connection(("127.0.0.1", port)).makefile("rw")
    def call(op, **fields):
        calls[0] += 1
        s.write(json.dumps(dict(op=op, id="setup-%d" % calls[0], **fields)) + "\n")
        s.flush()
        reply = json.loads(s.readline())
        if not reply.get("ok"):
            sys.exit("setup: %s refused: %s" % (op, reply))
        return reply
    call("hello", token=token)
    return call
admin = session(os.environ["SMSX_ADMIN_TOKEN"])
admin("price.set", service="wa", country="us", pool="p", price=100, payout=60)
# The numbers, pipelined 1,000 at a time.
supplier = socket.create_connection(("127.0.0.1", port)).makefile("rw")
def send(line):
    supplier.write(json.dumps(line) + "\n")
send(dict(op="hello", id="h", token=os.environ["SMSX_SUPPLIER_TOKEN"]))
supplier.flush()
if not json.loads(supplier.readline()).get("ok"):
    sys.exit("setup: supplier hello refused")
for start in range(0, numbers, 1000):
    chunk = range(start, min(start + 1000, numbers))
    for n in chunk:
        send(dict(op="number.add", id="n%d" % n, number="1555%07d" % n, country="us",
                  operator="op", pool="p"))
    supplier.flush()
    for n in chunk:
        reply = json.loads(supplier.readline())
        if not reply.get("ok"):
            sys.exit("setup: number.add refused: %s" % reply)
payments = session(os.environ["SMSX_PAYMENTS_TOKEN"])
for a in range(4):
    payments("deposit", account=account + a, amount=10**12, method="card", ref="bench-%d" % a)
placed = session(os.environ["SMSX_CUSTOMER_TOKEN"])("order.place", account=account, service="wa", country="us")
if placed.get("order") != 1:
    sys.exit("setup: expected order 1, got %s" % placed)
PY

hport=$(free_port)
for a in 0 1 2 3; do printf 'bench-key-0123456789-%s %s\n' "$a" $((account + a)); done >"$work/keys.txt"
cat >"$work/activate.toml" <<TOML
listen = "127.0.0.1:$hport"
smsxd = "127.0.0.1:$port"
token = "$SMSX_CUSTOMER_TOKEN"
keys_file = "keys.txt"
upstream_connections = 2
log_level = "warn"
[limits]
requests_per_key_per_second = 0
TOML
"${server_cpu[@]}" "$gateway" --config "$work/activate.toml" 2>"$work/activate.log" &
pids+=($!)
for _ in $(seq 200); do
  curl -s "http://127.0.0.1:$hport/metrics" | grep -q '^smsx_activate_upstream_ready 2$' && break
  sleep 0.05  # polling the gateway's readiness gauge
done
curl -s "http://127.0.0.1:$hport/metrics" | grep -q '^smsx_activate_upstream_ready 2$' ||
  { echo "smsx-activate did not get ready:" >&2; cat "$work/activate.log" >&2; exit 1; }
url="http://127.0.0.1:$hport/stubs/handler_api.php?api_key=$key&action=getStatus&id=1"
answer=$(curl -s "$url")
[ "$answer" = "STATUS_WAIT_CODE" ] || { echo "getStatus answered '$answer'" >&2; exit 1; }

cat >"$work/pipeline.lua" <<LUA
-- $http_pipeline getStatus requests per write
init = function(args)
  local r = {}
  for i = 1, $http_pipeline do r[i] = wrk.format(nil, "/stubs/handler_api.php?api_key=$key&action=getStatus&id=1") end
  req = table.concat(r)
end
request = function() return req end
LUA
cat >"$work/get_number.lua" <<'LUA'
-- getNumber, the keys of the four accounts in turn
local n = 0
request = function()
  n = n + 1
  return wrk.format(nil, "/stubs/handler_api.php?api_key=bench-key-0123456789-" .. (n % 4) ..
                         "&action=getNumber&service=wa&country=187")
end
LUA

# wrk_line ARGS... URL: wrk's requests/s, p50 and p99 in one line (with a script that
# pipelines, wrk's latencies are not per request: only the rate is meaningful).
wrk_line() {
  "${client_cpu[@]}" wrk -t1 --latency "$@" |
    awk '/Requests\/sec/ {rps=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2} /Non-2xx/ {bad=$0}
         END {printf "%s requests/s, p50 %s, p99 %s %s\n", rps, p50, p99, bad}'
}

echo "smsxd durability: ${DURABILITY:-none}"
echo "machine: $(nproc) CPUs, $(uptime | sed 's/.*load average/load average/'), $(date -u)"
echo "pinning: smsxd and smsx-activate ${server_cpu[*]:-unpinned}, wrk ${client_cpu[*]:-unpinned}"
"${client_cpu[@]}" python3 - "$port" "$hport" "$key" "${LATENCY_REQUESTS:-20000}" <<'PY'
import json, os, socket, statistics, sys, time
port, hport, key, n = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
def timed(send, receive):
    samples = []
    for i in range(n):
        start = time.perf_counter_ns()
        send(i)
        receive()
        samples.append((time.perf_counter_ns() - start) / 1000)
    samples.sort()
    return samples[len(samples) // 2], samples[len(samples) * 99 // 100]
direct = socket.create_connection(("127.0.0.1", port))
direct.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
lines = direct.makefile("rb")
direct.sendall((json.dumps(dict(op="hello", id="h", token=os.environ["SMSX_CUSTOMER_TOKEN"])) + "\n").encode())
assert json.loads(lines.readline())["ok"]
def get_reply():
    if b'"ok":true' not in lines.readline():
        sys.exit("order.get failed")
d50, d99 = timed(lambda i: direct.sendall(b'{"op":"order.get","id":"g%d","order":1}\n' % i), get_reply)
http = socket.create_connection(("127.0.0.1", hport))
http.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
answers = http.makefile("rb")
request = ("GET /stubs/handler_api.php?api_key=%s&action=getStatus&id=1 HTTP/1.1\r\n"
           "Host: bench\r\n\r\n" % key).encode()
def http_reply():
    length = 0
    while True:
        line = answers.readline()
        if line in (b"\r\n", b""):
            break
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    if answers.read(length) != b"STATUS_WAIT_CODE":
        sys.exit("getStatus failed")
g50, g99 = timed(lambda i: http.sendall(request), http_reply)
print("  added latency, one request at a time, %d each: order.get directly p50 %.0f us "
      "(p99 %.0f), getStatus through the gateway p50 %.0f us (p99 %.0f): %.0f us added at p50"
      % (n, d50, d99, g50, g99, g50 - d50))
PY
for run in $(seq "$runs"); do
  echo "run $run:"
  echo "  getStatus, keep-alive, $connections connections: $(wrk_line -c"$connections" -d"$duration" "$url")"
  echo "  getStatus, keep-alive, $((connections * 4)) connections: $(wrk_line -c$((connections * 4)) -d"$duration" "$url")"
  echo "  getStatus, $http_pipeline per write, $((connections / 2)) connections: $(wrk_line -c$((connections / 2)) -d"$duration" -s "$work/pipeline.lua" "$url" | cut -d, -f1)"
done
number_url="http://127.0.0.1:$hport/stubs/handler_api.php?api_key=$key&action=getNumber&service=wa&country=187"
echo "  getNumber, keep-alive, $connections connections, $number_duration: $(wrk_line -c"$connections" -d"$number_duration" -s "$work/get_number.lua" "$number_url")"
echo "gateway CPU seconds (user system): $(cpu_seconds "${pids[1]}"), smsxd $(cpu_seconds "${pids[0]}")"

# Every answer must have been the order's status, fetched from smsxd: the gateway's replies
# by action and code, and smsxd's order.get count.
replies=$(curl -s "http://127.0.0.1:$hport/metrics" | grep '^smsx_activate_replies_total' || true)
echo "gateway replies:"; echo "$replies" | sed 's/^/  /'
echo "smsxd: $(curl -s "http://127.0.0.1:$mport/metrics" | grep '^smsx_requests_total{op="order.get"' | tr '\n' ' ')"
if echo "$replies" | grep 'action="getStatus"' | grep -vq 'STATUS_WAIT_CODE'; then
  echo "a getStatus answer was not STATUS_WAIT_CODE" >&2; exit 1
fi
if echo "$replies" | grep 'action="getNumber"' | grep -vq 'ACCESS_NUMBER'; then
  echo "a getNumber answer was not ACCESS_NUMBER (more NUMBERS, or a shorter NUMBER_DURATION)" >&2
  exit 1
fi

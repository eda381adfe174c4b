// smsx-redis-load: the load generator's closed loop, against the smsx workload on Redis 7
// (smsx.lua). Same shape as smsx-load (tools/load/load_main.cc) so that the two are driven
// the same way: `--connections N` workers, each with three connections (customer, supplier,
// payments: the connection an op goes on is the one smsx-load uses), at most `--pipeline`
// requests in flight per connection, the same mix and the same fallbacks when a worker has
// no order to send an SMS to, finish or cancel. Replies are checked (prices, refunds,
// charges, the order an SMS reached) but balances are not compared exactly (smsx-load
// does that for smsxd).
//
// Single thread, one libuv loop, hiredis's async API. Conn and Worker hold libuv/hiredis
// callbacks that point back at them: they never move (unique_ptr in Driver::workers).
#pragma once

#include <hiredis/async.h>
#include <uv.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "tools/load/mix.h"
#include "tools/load/report.h"
#include "tools/load/worker_orders.h"

namespace smsx::redis_bench {

using load::Op;
using load::OrderRec;

struct Options {
  std::string host = "127.0.0.1";
  int port = 6379;
  uint32_t connections = 4, pipeline = 64;
  double duration_s = 10;
  uint64_t requests = 0;  // 0: by duration
  load::Mix mix;
  bool json = false, quiet = false;
  uint32_t accounts = 16, services = 8, pools = 4;
  uint64_t numbers = 100000;
  uint32_t leave_pct = 10;
  std::string functions_path;  // smsx.lua
  uint32_t sweep_ms = 10;      // how often the expiry sweep runs
};

struct Pending {
  Op op = Op::kPlace;
  uint64_t sent_ns = 0;
  uint32_t account = 0;
  OrderRec order;
};

struct Worker;
struct Driver;

struct Conn {
  redisAsyncContext* ctx = nullptr;
  Worker* worker = nullptr;
  std::deque<Pending> pending;
  bool dead = false;
};

struct Worker : load::WorkerOrders {
  Driver* driver = nullptr;
  Conn conns[3];  // 0 customer, 1 supplier, 2 payments
  std::vector<uint64_t> accounts;
  bool have_next = false;
  Op next = Op::kPlace;
};

struct Driver {
  Options opt;
  uv_loop_t* loop = nullptr;
  std::vector<std::unique_ptr<Worker>> workers;
  redisAsyncContext* sweeper = nullptr;
  std::mt19937_64 rng{12345};
  load::Report report, interval;
  uint64_t next_id = 0, start_ns = 0, end_ns = 0, last_reply_ns = 0, sweeps = 0;
  uint64_t connected = 0;
  bool started = false, stopping = false, sweep_in_flight = false;
  uv_timer_t progress, sweep;
};

// redis_workload.cc
void send_op(Worker* w, Op op);  // appends to the op's connection; hiredis writes it
// Checks a reply; "" when fine, else the error code to count it under.
std::string check_reply(Worker* w, Pending& p, const redisReply* reply);

}  // namespace smsx::redis_bench

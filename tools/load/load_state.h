// The load generator's state: options, the workers with their connections, accounts and
// orders, and what each request in flight expects of its reply.
//
// Everything lives on the one loop thread (no locking). A Worker owns its accounts
// exclusively: only its own requests change them (and expiries, which the exact checks
// assume do not happen during a run), so `Account::available`/`held` are exact whenever
// `inflight` is 0. Conn and Worker are not movable once their libuv handles are started
// (handles point back at them), hence the unique_ptr in Generator::workers.
#pragma once

#include <simdjson.h>
#include <uv.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "tools/load/mix.h"
#include "tools/load/pacer.h"
#include "tools/load/report.h"
#include "tools/load/timeline.h"
#include "tools/load/worker_orders.h"

namespace smsx::load {

struct Options {
  std::string host = "127.0.0.1";
  uint16_t port = 7700;
  uint32_t connections = 4, pipeline = 64;
  double duration_s = 10;
  uint64_t requests = 0;   // 0: by duration
  double rate = 0;         // 0: closed loop
  double tick_s = 100e-6;  // open loop: the sends that are due go out this often
  std::string tokens[4];   // customer, supplier, payments, admin
  Mix mix;
  bool json = false, quiet = false;
  uint32_t accounts = 16, services = 8, pools = 4;
  uint64_t numbers = 100000;
  uint32_t leave_pct = 10;  // of placed orders, left alone to expire
  std::string plot;         // --plot FILE.png: latency over time (timeline.h); "" for none
};

constexpr int64_t kDepositInitial = 1'000'000'000'000;  // minor units per account
constexpr int64_t kDepositAmount = 1000;
constexpr uint64_t kCheckFailuresShown = 5;  // on stderr, to see what went wrong

// The price of every pool of service `service` (payout: half): known for every place reply.
inline int64_t price_of(uint32_t service) { return 100 + 10 * static_cast<int64_t>(service); }

struct Account {
  uint64_t id = 0;
  int64_t available = 0, held = 0;  // what the generator knows from the replies it got
  uint32_t inflight = 0;            // balance-changing requests not yet answered
  uint64_t mutations = 0;           // balance-changing requests ever sent
};

enum class Kind : uint8_t { kHello, kOp };

struct Pending {
  Kind kind = Kind::kOp;
  Op op = Op::kPlace;
  uint64_t intended_ns = 0;
  uint32_t account = 0;
  OrderRec order;
  bool exact = false;  // balance: no change was in flight when it was sent
  int64_t expect_available = 0, expect_held = 0;
  uint64_t mutations_at_send = 0;
};

struct Worker;
struct Generator;

struct Conn {
  uv_tcp_t tcp;
  uv_connect_t connect_req;
  Worker* worker = nullptr;
  std::string role_token;
  std::deque<Pending> pending;
  std::string out;
  std::vector<char> in = std::vector<char>(1 << 20);
  size_t in_size = 0;
  bool ready = false, dead = false;
};

struct WriteReq {
  uv_write_t req;
  std::string data;
};

struct Worker : WorkerOrders {
  Generator* gen = nullptr;
  uint32_t index = 0;
  Conn conns[3];  // 0 customer, 1 supplier, 2 payments
  std::vector<Account> accounts;
  std::deque<uint64_t> scheduled;  // open loop: intended send times not yet sent
  bool have_next = false;
  Op next = Op::kPlace;
};

struct Generator {
  Options opt;
  uv_loop_t* loop = nullptr;
  std::vector<std::unique_ptr<Worker>> workers;
  std::mt19937_64 rng{12345};
  simdjson::dom::parser parser;
  Report report, interval;
  Timeline timeline;  // filled only with --plot
  std::string run_id;
  uint64_t next_id = 0, start_ns = 0, end_ns = 0, last_reply_ns = 0, scheduled = 0;
  uint64_t ready_conns = 0;
  bool started = false, stopping = false;
  uv_timer_t progress;
  Pacer pacer;  // open loop
};

inline uint64_t now_ns() { return uv_hrtime(); }

// workload.cc: choosing, building and checking requests.
std::string new_id(Generator* g);
void send_op(Worker* w, Op op, uint64_t intended_ns);
bool check_ok(Worker* w, Pending& p, const simdjson::dom::element& doc);
bool is_mutation(Op op);

}  // namespace smsx::load

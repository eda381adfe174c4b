// smsx-redis-load: drives the smsx workload on Redis (smsx.lua) the way smsx-load drives
// smsxd, and prints the same report (tools/load/report.h). See redis_load.h and
// docs/benchmarks.md ("Redis comparison").
#include <hiredis/adapters/libuv.h>
#include <hiredis/hiredis.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "bench/redis/redis_load.h"
#include "core/assert.h"
#include "tools/load/command_line.h"
#include "tools/load/load_state.h"

namespace smsx::redis_bench {

void fill(Worker* w);
void stop_if_done(Driver* d);

void on_reply(redisAsyncContext* ctx, void* reply, void* privdata) {
  Conn* c = static_cast<Conn*>(privdata);
  Worker* w = c->worker;
  Driver* d = w->driver;
  (void)ctx;
  SMSX_ASSERT(!c->pending.empty());  // hiredis calls back once per command, in order
  Pending p = std::move(c->pending.front());
  c->pending.pop_front();
  uint64_t now = uv_hrtime();
  d->last_reply_ns = now;
  std::string code = check_reply(w, p, static_cast<redisReply*>(reply));
  uint64_t latency = now - p.sent_ns;
  if (code.empty()) {
    d->report.add_ok(latency);
    d->interval.add_ok(latency);
  } else {
    d->report.add_error(code, latency);
    d->interval.add_error(code, latency);
  }
  if (reply == nullptr) {
    c->dead = true;
    d->stopping = true;
  }
  fill(w);
  stop_if_done(d);
}

namespace {

bool budget_left(Driver* d) {
  if (d->stopping) return false;
  return d->opt.requests == 0 || d->report.sent < d->opt.requests;
}

}  // namespace

void fill(Worker* w) {
  Driver* d = w->driver;
  if (!d->started) return;
  while (budget_left(d)) {
    if (!w->have_next) {
      w->next = d->opt.mix.pick(d->rng());
      w->have_next = true;
    }
    bool held_back = false;
    Op op = w->resolve(w->next, &held_back);
    Conn& c = w->conns[connection_for(op)];
    if (c.dead || c.pending.size() >= d->opt.pipeline) break;
    if (held_back) ++d->report.held_back;
    send_op(w, op);
    w->have_next = false;
  }
}

void stop_if_done(Driver* d) {
  if (!d->started) return;
  bool budget_done = d->stopping || (d->opt.requests && d->report.sent >= d->opt.requests);
  if (!budget_done) return;
  for (auto& w : d->workers) {
    for (Conn& c : w->conns) {
      if (!c.pending.empty()) return;
    }
  }
  d->stopping = true;
  uv_timer_stop(&d->progress);
  uv_timer_stop(&d->sweep);
  for (auto& w : d->workers) {
    for (Conn& c : w->conns) {
      if (c.ctx && !c.dead) redisAsyncDisconnect(c.ctx);
      c.ctx = nullptr;
    }
  }
  if (d->sweeper) redisAsyncDisconnect(d->sweeper);
  d->sweeper = nullptr;
}

namespace {

void on_progress(uv_timer_t* t) {
  Driver* d = static_cast<Driver*>(t->data);
  if (!d->opt.quiet) {
    std::fprintf(stderr, "%.1fs  %" PRIu64 " req/s  p99 %.1f us  errors %" PRIu64 "\n",
                 (uv_hrtime() - d->start_ns) / 1e9, d->interval.answered(),
                 d->interval.latency.percentile(0.99) / 1000.0, d->report.error_count());
  }
  d->interval = load::Report();
  if (d->opt.requests == 0 && uv_hrtime() >= d->end_ns) {
    d->stopping = true;
    stop_if_done(d);
  }
}

void on_sweep_reply(redisAsyncContext*, void* reply, void* privdata) {
  Driver* d = static_cast<Driver*>(privdata);
  d->sweep_in_flight = false;
  auto* r = static_cast<redisReply*>(reply);
  if (r && r->type == REDIS_REPLY_ERROR) std::fprintf(stderr, "sweep: %s\n", r->str);
  ++d->sweeps;
}

// The expiry sweep: what smsxd's timing wheel does inside the server, done here by a
// client calling the sweep function every --sweep-ms (one call in flight at most).
void on_sweep(uv_timer_t* t) {
  Driver* d = static_cast<Driver*>(t->data);
  if (d->sweep_in_flight || d->sweeper == nullptr) return;
  d->sweep_in_flight = true;
  redisAsyncCommand(d->sweeper, on_sweep_reply, d, "FCALL sweep 0 10000");
}

void start_measuring(Driver* d) {
  d->started = true;
  d->start_ns = uv_hrtime();
  d->end_ns = d->start_ns + static_cast<uint64_t>(d->opt.duration_s * 1e9);
  uv_timer_init(d->loop, &d->progress);
  d->progress.data = d;
  uv_timer_start(&d->progress, on_progress, 1000, 1000);
  uv_timer_init(d->loop, &d->sweep);
  d->sweep.data = d;
  uv_timer_start(&d->sweep, on_sweep, d->opt.sweep_ms, d->opt.sweep_ms);
  for (auto& w : d->workers) fill(w.get());
}

void on_connect(const redisAsyncContext* ctx, int status) {
  Driver* d = static_cast<Driver*>(ctx->data);
  if (status != REDIS_OK) {
    std::fprintf(stderr, "smsx-redis-load: connect: %s\n", ctx->errstr);
    std::exit(2);
  }
  if (++d->connected == d->workers.size() * 3 + 1) start_measuring(d);
}

redisAsyncContext* open_async(Driver* d) {
  redisAsyncContext* ctx = redisAsyncConnect(d->opt.host.c_str(), d->opt.port);
  if (ctx == nullptr || ctx->err) {
    std::fprintf(stderr, "smsx-redis-load: connect: %s\n", ctx ? ctx->errstr : "out of memory");
    std::exit(2);
  }
  ctx->data = d;
  redisLibuvAttach(ctx, d->loop);
  redisAsyncSetConnectCallback(ctx, on_connect);
  return ctx;
}

// Sends `commands` pipelined in chunks; false (and a message) on an error reply.
bool pipeline(redisContext* c, const std::vector<std::vector<std::string>>& commands,
              const char* what) {
  constexpr size_t kChunk = 1000;
  for (size_t start = 0; start < commands.size(); start += kChunk) {
    size_t end = std::min(commands.size(), start + kChunk);
    for (size_t i = start; i < end; ++i) {
      std::vector<const char*> ptrs;
      std::vector<size_t> lens;
      for (const auto& a : commands[i]) {
        ptrs.push_back(a.data());
        lens.push_back(a.size());
      }
      redisAppendCommandArgv(c, static_cast<int>(ptrs.size()), ptrs.data(), lens.data());
    }
    for (size_t i = start; i < end; ++i) {
      void* reply = nullptr;
      if (redisGetReply(c, &reply) != REDIS_OK) {
        std::fprintf(stderr, "smsx-redis-load: setup (%s): %s\n", what, c->errstr);
        return false;
      }
      auto* r = static_cast<redisReply*>(reply);
      bool bad = r->type == REDIS_REPLY_ERROR;
      if (bad) std::fprintf(stderr, "smsx-redis-load: setup (%s): %s\n", what, r->str);
      freeReplyObject(r);
      if (bad) return false;
    }
  }
  return true;
}

// Loads the functions, prices every (service, pool) of "us", adds the numbers (owned by
// "supplier") and deposits load::kDepositInitial into every account: smsx-load's setup.
bool setup(Driver* d) {
  const Options& o = d->opt;
  redisContext* c = redisConnect(o.host.c_str(), o.port);
  if (c == nullptr || c->err) {
    std::fprintf(stderr, "smsx-redis-load: connect %s:%d: %s\n", o.host.c_str(), o.port,
                 c ? c->errstr : "out of memory");
    return false;
  }
  std::ifstream in(o.functions_path);
  std::stringstream lua;
  lua << in.rdbuf();
  if (!in || lua.str().empty()) {
    std::fprintf(stderr, "smsx-redis-load: cannot read %s\n", o.functions_path.c_str());
    return false;
  }
  std::vector<std::vector<std::string>> cmds = {{"FUNCTION", "LOAD", "REPLACE", lua.str()}};
  for (uint32_t s = 0; s < o.services; ++s) {
    for (uint32_t p = 0; p < o.pools; ++p) {
      std::string key = "s" + std::to_string(s) + ":us", pool = "p" + std::to_string(p);
      cmds.push_back({"ZADD", "price:" + key, std::to_string(load::price_of(s)), pool});
      cmds.push_back({"HSET", "payout:" + key, pool, std::to_string(load::price_of(s) / 2)});
    }
  }
  for (uint64_t n = 0; n < o.numbers; ++n) {
    char number[32];
    std::snprintf(number, sizeof number, "1%014" PRIu64, n);
    std::string pool = "p" + std::to_string(n % o.pools);
    cmds.push_back({"HSET", std::string("n:") + number, "cc", "us", "op", "op1", "pool", pool,
                    "owner", "supplier", "order", "0"});
    cmds.push_back({"RPUSH", "free:us:" + pool, number});
  }
  for (auto& w : d->workers) {
    for (uint64_t account : w->accounts) {
      std::string id = "setup-" + std::to_string(account);
      cmds.push_back({"FCALL", "deposit", "0", "payments", id, std::to_string(account),
                      std::to_string(load::kDepositInitial), id});
    }
  }
  bool ok = pipeline(c, cmds, "functions, prices, numbers, deposits");
  redisFree(c);
  return ok;
}

[[noreturn]] void usage(const std::string& error) {
  std::fprintf(stderr,
               "smsx-redis-load: %s\n"
               "usage: smsx-redis-load --functions smsx.lua [--address HOST:PORT]\n"
               "  [--connections N] [--pipeline N] [--duration 10s | --requests N]\n"
               "  [--mix SPEC] [--accounts N] [--numbers N] [--services N] [--pools N]\n"
               "  [--leave-pct P] [--sweep-ms MS] [--json] [--quiet]\n",
               error.c_str());
  std::exit(2);
}

Options parse_options(int argc, char** argv) {
  Options o;
  std::string mix_spec;
  load::FlagReader r(argc, argv, usage);
  while (r.next()) {
    const std::string& a = r.flag();
    if (load::read_common_flag(r, &o, &mix_spec)) continue;
    if (a == "--duration") {
      std::string v = r.value();
      o.duration_s = std::strtod(v.c_str(), nullptr);
      if (v.ends_with("ms")) o.duration_s /= 1000;
      if (o.duration_s <= 0) usage("--duration: expected like 10s");
    } else if (a == "--sweep-ms") {
      o.sweep_ms = static_cast<uint32_t>(r.number());
    } else if (a == "--functions") {
      o.functions_path = r.value();
    } else {
      usage("unknown flag " + a);
    }
  }
  o.mix = load::mix_or_fail(r, mix_spec);
  if (o.functions_path.empty()) usage("--functions FILE is required (bench/redis/smsx.lua)");
  if (o.connections == 0 || o.pipeline == 0 || o.accounts == 0 || o.services == 0 || o.pools == 0 ||
      o.numbers == 0 || o.sweep_ms == 0 || o.leave_pct > 100) {
    usage("counts must be > 0");
  }
  return o;
}

int run(int argc, char** argv) {
  Driver d;
  d.opt = parse_options(argc, argv);
  d.loop = uv_default_loop();
  uint64_t active_max = load::active_orders_max(d.opt.numbers, d.opt.connections);
  for (uint32_t i = 0; i < d.opt.connections; ++i) {
    auto w = std::make_unique<Worker>();
    w->driver = &d;
    w->active_max = active_max;
    for (uint32_t a = 0; a < d.opt.accounts; ++a) {
      w->accounts.push_back(1'000'000 + uint64_t{i} * d.opt.accounts + a);
    }
    d.workers.push_back(std::move(w));
  }
  if (!setup(&d)) return 2;
  for (auto& w : d.workers) {
    for (Conn& c : w->conns) {
      c.worker = w.get();
      c.ctx = open_async(&d);
    }
  }
  d.sweeper = open_async(&d);
  uv_run(d.loop, UV_RUN_DEFAULT);
  load::describe_run(d.opt, 0, &d.report);  // closed loop only
  d.report.seconds = (d.last_reply_ns > d.start_ns ? d.last_reply_ns - d.start_ns : 0) / 1e9;
  d.report.print(d.opt.json);
  if (!d.opt.json) std::printf("expiry sweeps: %" PRIu64 "\n", d.sweeps);
  return d.report.failed() ? 1 : 0;
}

}  // namespace
}  // namespace smsx::redis_bench

int main(int argc, char** argv) { return smsx::redis_bench::run(argc, argv); }

// smsx-load: a load generator for smsxd over the real NDJSON protocol.
//
// One thread, one libuv loop. `--connections N` makes N workers; each worker has three
// connections (customer, supplier, payments) and owns its accounts exclusively, so it
// knows their exact balances and checks every balance reply it can. Each connection keeps
// at most `--pipeline` requests in flight. Closed loop sends as fast as replies come
// back; open loop (`--rate`) schedules request k at start + k/rate and measures latency
// from that intended time, so a stalled server shows up as latency, not as fewer sends.
// See docs/benchmarks.md ("Load generator") for usage.
#include <simdjson.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "tools/load/command_line.h"
#include "tools/load/load_state.h"
#include "tools/load/mix.h"
#include "tools/load/report.h"
#include "tools/load/setup_client.h"

namespace smsx::load {
namespace {

void start_measuring(Generator* g);
void stop_if_done(Generator* g);

bool budget_left(Generator* g) {
  if (g->stopping) return false;
  return g->opt.requests == 0 || g->report.sent < g->opt.requests;
}

void flush(Conn* c);

// Sends while the connection of the next op has room (closed loop) or while there are
// scheduled sends due (open loop).
void fill(Worker* w) {
  Generator* g = w->gen;
  if (!g->started) return;
  uint64_t now = 0;
  while (budget_left(g)) {
    if (g->opt.rate > 0 && w->scheduled.empty()) break;
    if (!w->have_next) {
      w->next = g->opt.mix.pick(g->rng());
      w->have_next = true;
    }
    // Resolved against the worker's state now: it may have changed since the pick was
    // made (a pick waits here while its connection is full).
    bool held_back = false;
    Op op = w->resolve(w->next, &held_back);
    Conn& c = w->conns[connection_for(op)];
    if (c.dead || c.pending.size() >= g->opt.pipeline) break;
    uint64_t intended;
    if (g->opt.rate > 0) {
      intended = w->scheduled.front();
      w->scheduled.pop_front();
      if (now == 0) now = now_ns();
      g->report.send_lag.record(now > intended ? now - intended : 0);
    } else {
      if (now == 0) now = now_ns();
      intended = now;
    }
    if (held_back) ++g->report.held_back;
    send_op(w, op, intended);
    w->have_next = false;
  }
  for (Conn& c : w->conns) flush(&c);
}

void on_write(uv_write_t* req, int status) {
  auto* wr = reinterpret_cast<WriteReq*>(req);
  if (status != 0) std::fprintf(stderr, "smsx-load: write: %s\n", uv_strerror(status));
  delete wr;
}

// Written at once when the socket takes it all (no write request, no completion callback
// and no epoll_ctl afterwards: the generator must cost the machine as little as it can);
// the rest goes to uv_write.
void flush(Conn* c) {
  if (c->out.empty() || c->dead) return;
  auto* stream = reinterpret_cast<uv_stream_t*>(&c->tcp);
  uv_buf_t buf = uv_buf_init(c->out.data(), static_cast<unsigned>(c->out.size()));
  const int written = uv_try_write(stream, &buf, 1);
  if (written == static_cast<int>(buf.len)) {
    c->out.clear();
    return;
  }
  auto* wr = new WriteReq;
  wr->data = c->out.substr(written > 0 ? static_cast<size_t>(written) : 0);
  c->out.clear();
  buf = uv_buf_init(wr->data.data(), static_cast<unsigned>(wr->data.size()));
  uv_write(&wr->req, stream, &buf, 1, on_write);
}

void add_error(Generator* g, const std::string& code, uint64_t latency) {
  g->report.add_error(code, latency);
  g->interval.add_error(code, latency);
  if (!g->opt.plot.empty()) g->timeline.record(now_ns(), latency, true);
}

void add_ok(Generator* g, uint64_t latency) {
  g->report.add_ok(latency);
  g->interval.add_ok(latency);
  if (!g->opt.plot.empty()) g->timeline.record(now_ns(), latency, false);
}

void on_reply(Conn* c, std::string_view line) {
  Worker* w = c->worker;
  Generator* g = w->gen;
  if (c->pending.empty()) {
    std::fprintf(stderr, "smsx-load: unexpected line: %.*s\n", static_cast<int>(line.size()),
                 line.data());
    return;
  }
  Pending p = std::move(c->pending.front());
  c->pending.pop_front();
  uint64_t now = now_ns();
  g->last_reply_ns = now;
  simdjson::dom::element doc;
  bool ok = false;
  std::string code;
  if (g->parser.parse(line.data(), line.size()).get(doc) != simdjson::SUCCESS) {
    code = "BAD_REPLY";
  } else if (doc["ok"].get_bool().get(ok) != simdjson::SUCCESS) {
    code = "BAD_REPLY";
  } else if (!ok) {
    std::string_view e;
    code = doc["error"].get_string().get(e) == simdjson::SUCCESS ? std::string(e) : "BAD_REPLY";
  }
  if (p.kind == Kind::kHello) {
    if (!ok) {
      std::fprintf(stderr, "smsx-load: hello refused: %.*s\n", static_cast<int>(line.size()),
                   line.data());
      std::exit(2);
    }
    if (++g->ready_conns == g->workers.size() * 3) start_measuring(g);
    return;
  }
  uint64_t latency = now > p.intended_ns ? now - p.intended_ns : 0;
  if (is_mutation(p.op)) --w->accounts[p.account].inflight;
  if (!code.empty()) {
    w->undo_refused(p.op, p.order);
    add_error(g, code, latency);
  } else if (!check_ok(w, p, doc)) {
    add_error(g, "CHECK_FAILED", latency);
    if (g->report.errors["CHECK_FAILED"] <= kCheckFailuresShown) {
      std::fprintf(stderr, "smsx-load: CHECK_FAILED (%s): %.*s\n",
                   std::string(kOpNames[static_cast<size_t>(p.op)]).c_str(),
                   static_cast<int>(line.size()), line.data());
    }
  } else {
    add_ok(g, latency);
  }
}

void on_close(uv_handle_t*) {}

void kill_conn(Conn* c, const char* why) {
  if (c->dead) return;
  c->dead = true;
  Generator* g = c->worker->gen;
  std::fprintf(stderr, "smsx-load: connection lost: %s\n", why);
  uint64_t now = now_ns();
  for (const Pending& p : c->pending) {
    if (p.kind == Kind::kOp) add_error(g, "DISCONNECTED", now - p.intended_ns);
  }
  c->pending.clear();
  g->stopping = true;
  uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp), on_close);
}

void alloc_in(uv_handle_t* h, size_t, uv_buf_t* buf) {
  Conn* c = static_cast<Conn*>(h->data);
  if (c->in_size == c->in.size()) c->in.resize(c->in.size() * 2);
  *buf = uv_buf_init(c->in.data() + c->in_size, static_cast<unsigned>(c->in.size() - c->in_size));
}

void on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t*) {
  Conn* c = static_cast<Conn*>(s->data);
  if (nread < 0) {
    kill_conn(c, uv_strerror(static_cast<int>(nread)));
    stop_if_done(c->worker->gen);
    return;
  }
  c->in_size += static_cast<size_t>(nread);
  size_t start = 0;
  for (size_t i = c->in_size - static_cast<size_t>(nread); i < c->in_size; ++i) {
    if (c->in[i] != '\n') continue;
    on_reply(c, std::string_view(c->in.data() + start, i - start));
    start = i + 1;
  }
  std::memmove(c->in.data(), c->in.data() + start, c->in_size - start);
  c->in_size -= start;
  fill(c->worker);
  stop_if_done(c->worker->gen);
}

void on_connect(uv_connect_t* req, int status) {
  Conn* c = static_cast<Conn*>(req->data);
  if (status != 0) {
    std::fprintf(stderr, "smsx-load: connect: %s\n", uv_strerror(status));
    std::exit(2);
  }
  uv_tcp_nodelay(&c->tcp, 1);
  uv_read_start(reinterpret_cast<uv_stream_t*>(&c->tcp), alloc_in, on_read);
  c->out = R"({"op":"hello","token":")" + c->role_token + "\"}\n";
  Pending p;
  p.kind = Kind::kHello;
  c->pending.push_back(p);
  flush(c);
}

void print_progress(Generator* g, bool final) {
  if (g->opt.quiet) return;
  uint64_t answered = g->interval.answered();
  std::fprintf(
      stderr, "%s%.1fs  %" PRIu64 " req/s  p99 %.1f us  errors %" PRIu64 "  total %" PRIu64 "\n",
      final ? "final " : "", (now_ns() - g->start_ns) / 1e9, answered,
      g->interval.latency.percentile(0.99) / 1000.0, g->report.error_count(), g->report.answered());
  g->interval = Report();
}

void on_progress(uv_timer_t* t) {
  Generator* g = static_cast<Generator*>(t->data);
  print_progress(g, false);
  // The loop's clock is in whole milliseconds and cached per iteration, so the tick due at
  // the end may fire a little before end_ns by uv_hrtime(); without the slack the run
  // would last one more second than --duration.
  constexpr uint64_t kTickSlackNs = 20'000'000;
  if (g->opt.requests == 0 && now_ns() + kTickSlackNs >= g->end_ns && !g->stopping) {
    g->stopping = true;
    // Open loop: what was due but never sent counts, with the time it waited so far.
    uint64_t now = now_ns();
    for (auto& w : g->workers) {
      for (uint64_t intended : w->scheduled) {
        ++g->report.sent;
        add_error(g, "NOT_SENT", now - intended);
      }
      w->scheduled.clear();
    }
    stop_if_done(g);
  }
}

// Open loop, every --tick: hands out the sends that are due, round-robin over the workers.
// Between ticks the generator sleeps, so it leaves the CPUs it does not need to the server.
void on_tick(void* data) {
  Generator* g = static_cast<Generator*>(data);
  if (g->stopping) {
    g->pacer.stop();
    return;
  }
  uint64_t now = now_ns();
  double interval = 1e9 / g->opt.rate;
  uint64_t due = static_cast<uint64_t>((now - g->start_ns) / interval) + 1;
  if (g->opt.requests) due = std::min(due, g->opt.requests);
  for (; g->scheduled < due; ++g->scheduled) {
    uint64_t intended = g->start_ns + static_cast<uint64_t>(g->scheduled * interval);
    g->workers[g->scheduled % g->workers.size()]->scheduled.push_back(intended);
  }
  for (auto& w : g->workers) fill(w.get());
}

void start_measuring(Generator* g) {
  g->started = true;
  g->start_ns = now_ns();
  g->timeline.start(g->start_ns);
  g->end_ns = g->start_ns + static_cast<uint64_t>(g->opt.duration_s * 1e9);
  uv_timer_init(g->loop, &g->progress);
  g->progress.data = g;
  uv_timer_start(&g->progress, on_progress, 1000, 1000);
  if (g->opt.rate > 0) {
    std::string error =
        g->pacer.start(g->loop, static_cast<uint64_t>(g->opt.tick_s * 1e9), on_tick, g);
    if (!error.empty()) {
      std::fprintf(stderr, "smsx-load: open loop: %s\n", error.c_str());
      std::exit(2);
    }
  }
  for (auto& w : g->workers) fill(w.get());
}

void stop_if_done(Generator* g) {
  if (!g->started) return;
  bool budget_done = g->stopping || (g->opt.requests && g->report.sent >= g->opt.requests);
  if (!budget_done) return;
  for (auto& w : g->workers) {
    if (!w->scheduled.empty()) return;
    for (Conn& c : w->conns) {
      if (!c.pending.empty()) return;
    }
  }
  g->stopping = true;
  g->pacer.stop();
  uv_stop(g->loop);
}

bool parse_duration(const std::string& s, double* seconds) {
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  std::string unit = end;
  if (end == s.c_str() || v <= 0) return false;
  if (unit == "us")
    v /= 1e6;
  else if (unit == "ms")
    v /= 1000;
  else if (unit == "m")
    v *= 60;
  else if (unit != "s" && !unit.empty())
    return false;
  *seconds = v;
  return true;
}

// True when an executable `gnuplot` is on the PATH (checked before the run, not after).
bool have_gnuplot() {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "";
  for (size_t start = 0; start <= dirs.size();) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string dir = dirs.substr(start, end - start);
    if (!dir.empty() && access((dir + "/gnuplot").c_str(), X_OK) == 0) return true;
    start = end + 1;
  }
  return false;
}

// Writes the timeline next to the PNG (FILE.png -> FILE.dat) and runs gnuplot on it.
bool write_plot(Generator* g, uint64_t end_ns) {
  g->timeline.finish(end_ns);
  const std::string& png = g->opt.plot;
  std::string data = png.ends_with(".png") ? png.substr(0, png.size() - 4) + ".dat" : png + ".dat";
  FILE* f = std::fopen(data.c_str(), "w");
  if (f == nullptr) {
    std::fprintf(stderr, "smsx-load: --plot: cannot write %s: %s\n", data.c_str(),
                 std::strerror(errno));
    return false;
  }
  std::string rows = g->timeline.data();
  bool written = std::fwrite(rows.data(), 1, rows.size(), f) == rows.size();
  if (std::fclose(f) != 0 || !written) {
    std::fprintf(stderr, "smsx-load: --plot: cannot write %s\n", data.c_str());
    return false;
  }
  std::string title = "smsx-load " + g->report.mode + ", " + std::to_string(g->opt.connections) +
                      " x pipeline " + std::to_string(g->opt.pipeline);
  FILE* p = popen("gnuplot", "w");
  if (p == nullptr) {
    std::fprintf(stderr, "smsx-load: --plot: cannot run gnuplot\n");
    return false;
  }
  std::string script = Timeline::gnuplot_script(data, png, title);
  std::fwrite(script.data(), 1, script.size(), p);
  int status = pclose(p);
  if (status != 0) {
    std::fprintf(stderr, "smsx-load: --plot: gnuplot failed (status %d); data in %s\n", status,
                 data.c_str());
    return false;
  }
  if (!g->opt.quiet)
    std::fprintf(stderr, "smsx-load: plot %s (data %s)\n", png.c_str(), data.c_str());
  return true;
}

[[noreturn]] void usage(const std::string& error) {
  std::fprintf(stderr,
               "smsx-load: %s\n"
               "usage: smsx-load [--address HOST:PORT] [--connections N] [--pipeline N]\n"
               "  [--duration 10s | --requests N] [--rate R [--tick 100us]] [--mix place=30,...]\n"
               "  [--accounts N] [--numbers N] [--services N] [--pools N] [--leave-pct P]\n"
               "  [--customer-token T] [--supplier-token T] [--payments-token T]\n"
               "  [--admin-token T] [--json] [--quiet] [--plot FILE.png]\n"
               "tokens default to $SMSX_CUSTOMER_TOKEN, $SMSX_SUPPLIER_TOKEN,\n"
               "$SMSX_PAYMENTS_TOKEN, $SMSX_ADMIN_TOKEN\n",
               error.c_str());
  std::exit(2);
}

Options parse_options(int argc, char** argv) {
  Options o;
  const char* env[4] = {"SMSX_CUSTOMER_TOKEN", "SMSX_SUPPLIER_TOKEN", "SMSX_PAYMENTS_TOKEN",
                        "SMSX_ADMIN_TOKEN"};
  for (int i = 0; i < 4; ++i) {
    if (const char* v = std::getenv(env[i])) o.tokens[i] = v;
  }
  std::string mix_spec;
  bool tick_given = false;
  FlagReader r(argc, argv, usage);
  while (r.next()) {
    const std::string& a = r.flag();
    if (read_common_flag(r, &o, &mix_spec)) continue;
    if (a == "--duration") {
      if (!parse_duration(r.value(), &o.duration_s)) usage("--duration: expected like 10s");
    } else if (a == "--rate") {
      o.rate = static_cast<double>(r.number());
    } else if (a == "--tick") {
      tick_given = true;
      if (!parse_duration(r.value(), &o.tick_s) || o.tick_s < 10e-6 || o.tick_s > 0.1) {
        usage("--tick: expected a duration from 10us to 100ms, like 100us");
      }
    } else if (a == "--customer-token") {
      o.tokens[0] = r.value();
    } else if (a == "--supplier-token") {
      o.tokens[1] = r.value();
    } else if (a == "--payments-token") {
      o.tokens[2] = r.value();
    } else if (a == "--admin-token") {
      o.tokens[3] = r.value();
    } else if (a == "--plot") {
      o.plot = r.value();
      if (o.plot.find('"') != std::string::npos) usage("--plot: no '\"' in the file name");
      if (!have_gnuplot()) {
        usage("--plot needs gnuplot on the PATH (Debian: apt-get install gnuplot-nox)");
      }
    } else {
      usage("unknown flag " + a);
    }
  }
  if (tick_given && o.rate == 0) usage("--tick: only with --rate (open loop)");
  o.mix = mix_or_fail(r, mix_spec);
  for (int i = 0; i < 4; ++i) {
    if (o.tokens[i].empty()) usage(std::string("no token: set ") + env[i] + " or its flag");
  }
  if (o.connections == 0 || o.pipeline == 0 || o.accounts == 0 || o.services == 0 || o.pools == 0 ||
      o.numbers == 0 || o.leave_pct > 100) {
    usage("--connections, --pipeline, --accounts, --services, --pools, --numbers must be > 0");
  }
  return o;
}

bool expect_ok(const std::vector<std::string>& replies, const char* what, bool allow_exists) {
  for (const std::string& r : replies) {
    if (r.find("\"ok\":true") != std::string::npos) continue;
    if (allow_exists && r.find("NUMBER_EXISTS") != std::string::npos) continue;
    std::fprintf(stderr, "smsx-load: setup (%s) failed: %s\n", what, r.c_str());
    return false;
  }
  return true;
}

// Prices every (service, pool) of country "us", adds the numbers spread over the pools,
// and deposits kDepositInitial into every account the workers own.
bool setup(Generator* g) {
  const Options& o = g->opt;
  std::string error;
  SetupClient admin, supplier, payments;
  if (!admin.open(o.host, o.port, o.tokens[3], &error) ||
      !supplier.open(o.host, o.port, o.tokens[1], &error) ||
      !payments.open(o.host, o.port, o.tokens[2], &error)) {
    std::fprintf(stderr, "smsx-load: setup: %s\n", error.c_str());
    return false;
  }
  std::vector<std::string> lines, replies;
  for (uint32_t s = 0; s < o.services; ++s) {
    for (uint32_t p = 0; p < o.pools; ++p) {
      lines.push_back("{\"id\":\"" + new_id(g) + "\",\"op\":\"price.set\",\"service\":\"s" +
                      std::to_string(s) + "\",\"country\":\"us\",\"pool\":\"p" + std::to_string(p) +
                      "\",\"price\":" + std::to_string(price_of(s)) +
                      ",\"payout\":" + std::to_string(price_of(s) / 2) + "}");
    }
  }
  if (!admin.call_all(lines, &replies, &error) || !expect_ok(replies, "price.set", false)) {
    return false;
  }
  lines.clear();
  // 15-digit numbers: "1", the run's 6-digit stamp, an 8-digit index.
  std::string stamp = g->run_id.substr(g->run_id.size() - 6);
  for (uint64_t n = 0; n < o.numbers; ++n) {
    char number[32];
    std::snprintf(number, sizeof number, "1%s%08" PRIu64, stamp.c_str(), n);
    lines.push_back("{\"id\":\"" + new_id(g) + "\",\"op\":\"number.add\",\"number\":\"" + number +
                    "\",\"country\":\"us\",\"operator\":\"op1\",\"pool\":\"p" +
                    std::to_string(n % o.pools) + "\"}");
  }
  if (!supplier.call_all(lines, &replies, &error) || !expect_ok(replies, "number.add", true)) {
    return false;
  }
  lines.clear();
  for (auto& w : g->workers) {
    for (Account& a : w->accounts) {
      std::string id = new_id(g);
      lines.push_back("{\"id\":\"" + id + "\",\"op\":\"deposit\",\"account\":" +
                      std::to_string(a.id) + ",\"amount\":" + std::to_string(kDepositInitial) +
                      ",\"method\":\"card\",\"ref\":\"" + id + "\"}");
      a.available = kDepositInitial;
    }
  }
  if (!payments.call_all(lines, &replies, &error) || !expect_ok(replies, "deposit", false)) {
    return false;
  }
  return true;
}

int run(int argc, char** argv) {
  Generator g;
  g.opt = parse_options(argc, argv);
  // A stamp unique to this run: ids, refs, accounts and numbers never collide with an
  // earlier run against the same data folder.
  uint64_t stamp = (static_cast<uint64_t>(std::time(nullptr)) * 1000 + getpid() % 1000) % 1000000;
  char stamp_text[16];
  std::snprintf(stamp_text, sizeof stamp_text, "%06" PRIu64, stamp);
  g.run_id = std::string("L") + stamp_text;
  g.loop = uv_default_loop();
  uint64_t account_base = stamp * 100000;
  uint64_t active_max = active_orders_max(g.opt.numbers, g.opt.connections);
  for (uint32_t i = 0; i < g.opt.connections; ++i) {
    auto w = std::make_unique<Worker>();
    w->gen = &g;
    w->index = i;
    w->active_max = active_max;
    for (uint32_t a = 0; a < g.opt.accounts; ++a) {
      Account acc;
      acc.id = account_base + i * g.opt.accounts + a + 1;
      w->accounts.push_back(acc);
    }
    g.workers.push_back(std::move(w));
  }
  if (!setup(&g)) return 2;
  sockaddr_in addr{};
  if (uv_ip4_addr(g.opt.host.c_str(), g.opt.port, &addr) != 0) usage("bad --address");
  const int token_of_conn[3] = {0, 1, 2};
  for (auto& w : g.workers) {
    for (int k = 0; k < 3; ++k) {
      Conn& c = w->conns[k];
      c.worker = w.get();
      c.role_token = g.opt.tokens[token_of_conn[k]];
      uv_tcp_init(g.loop, &c.tcp);
      c.tcp.data = &c;
      c.connect_req.data = &c;
      uv_tcp_connect(&c.connect_req, &c.tcp, reinterpret_cast<sockaddr*>(&addr), on_connect);
    }
  }
  uv_run(g.loop, UV_RUN_DEFAULT);
  uint64_t end = g.last_reply_ns > g.start_ns ? g.last_reply_ns : now_ns();
  describe_run(g.opt, g.opt.rate, &g.report);
  g.report.seconds = (end - g.start_ns) / 1e9;
  g.report.print(g.opt.json);
  if (!g.opt.plot.empty() && !write_plot(&g, end)) return 2;
  return g.report.failed() ? 1 : 0;
}

}  // namespace
}  // namespace smsx::load

int main(int argc, char** argv) { return smsx::load::run(argc, argv); }

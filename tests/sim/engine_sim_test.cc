// Deterministic simulation test of the engine, with an auditor: a seeded random workload of
// every operation (workload_util.h) is applied to the engine and to a plain reference model
// (reference_model_util.h), and every reply and event is compared.
//
//   SMSX_SIM_SEED=<n>   run only seed n (decimal, or hex with 0x) instead of the fixed list
//   SMSX_SIM_STEPS=<n>  steps per seed (default kDefaultSteps; a tenth in sanitized builds)
//
// For example, a long run of one seed:
//   SMSX_SIM_SEED=7 SMSX_SIM_STEPS=5000000 build/sim/tests/sim_tests
// A failure prints its seed, step, command, both replies and the steps before it (so does an
// engine assertion, which aborts the process); running that seed again with that many steps
// reproduces it exactly.
//
// After every step: Engine::check_invariants() (DESIGN.md invariants 1-4; aborts on a
// violation); invariant 5 (every order.expired and automatic order.finished event is at or
// after the order's deadline); invariant 6 (no (number, service) is captured twice); and
// Engine::next_wake_ms() is never later than the model's next due time. Every command whose
// reply has `changed` set is applied, as the log would hold it (a tick as replay=true with
// the ids it expired), to a second engine in lockstep: its reply and events must equal the
// first's, and the digests must be equal every kDigestEverySteps steps (fewer in long runs;
// compared right after a logged command) and at the end (invariant 7, in memory). Each seed
// ends with a logged command, then a live tick far in the future on both engines (the replica
// promoted), which must expire, finish and evict the same. Each seed is also run twice for a
// quarter of the steps, and the first seed in two child processes (other hash seeds), with
// the same replies and digest.
//
// Where the engine breaks a documented rule the model keeps to the rule, and the difference
// is reproduced on its own in engine_findings_test.cc.
//
// Where the documents are silent the model follows the engine. Those choices:
// - Any SMS makes an order `received` and marks the number used for the service, whether a
//   code could be extracted or not.
// - An order past its deadline stays fully active until a tick expires it: it can still be
//   cancelled, receive an SMS, be finished.
// - `retry` of an order already in `retry`, `number.remove` of a number already `removing`
//   and `payout.confirm` of a paid refund succeed with `changed` false (so their ids are not
//   remembered).
// - `order.dispute` of a received or retry order captures it first (an order.finished event,
//   auto false), then disputes it; once closed, only a finished order can be disputed
//   (ORDER_CLOSED otherwise); a waiting one is NO_SMS_YET. A rejected dispute returns the
//   order to `finished`, which can be disputed again; dispute.resolve replies `credited` (the
//   price, or 0 when rejected) and the new state.
// - An approved dispute credits the price to `available` and does not reduce the spending
//   used for FIFO deposit attribution.
// - Precedence where PROTOCOL.md gives none: BAD_REQUEST checks first, except that
//   payout.confirm checks REFUND_NOT_FOUND before a too long txid; then not found, then
//   closed, then the state checks (cancel: ORDER_CLOSED, CODE_RECEIVED, EARLY_CANCEL).
// - EARLY_CANCEL's seconds_left is rounded up.
// - order.place with an unknown pool is NO_PRICE; with an unknown operator NO_NUMBERS.
//   MAX_PRICE_TOO_LOW's min_price is the price of the cheapest pool, within the pool and
//   operator filters, that has a number not yet used for the service.
// - A removed number added again keeps its history of use (never sold again for a service
//   it received an SMS for), takes the new supplier, country, pool and operator, and counts
//   as just freed for "least recently used".
// - orders.active of an account that never deposited is an empty list (not NO_ACCOUNT).
// - `stock` with a filter naming an unknown name is an empty list; rows are sorted by
//   service, country, price, pool.
// - stats: numbers_busy counts `removing` numbers too; closed_orders_kept counts closed
//   orders not yet evicted.
// - A tick evicts at most max_expired remembered ids and closed orders in all (remembered
//   ids first); a disputed order due for eviction is re-queued at the tick's time and counts
//   as one eviction; `more_due` is set when the eviction bound was reached.
// - A remembered order.place whose order is gone (which eviction in that order never does)
//   is forgotten: the same request is evaluated afresh.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/engine.h"
#include "core/errors.h"
#include "core/hash.h"
#include "tests/sim/reference_model_util.h"
#include "tests/sim/sim_command_util.h"
#include "tests/sim/workload_util.h"

#if defined(__SANITIZE_ADDRESS__)
#define SMSX_SIM_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SMSX_SIM_SANITIZED 1
#endif
#endif

namespace smsx::sim {
namespace {

#ifdef SMSX_SIM_SANITIZED
constexpr uint64_t kDefaultSteps = 13'000;  // sanitized Debug builds are ~10-20x slower
#else
constexpr uint64_t kDefaultSteps = 130'000;  // x 8 seeds: over 1M steps
#endif
constexpr uint64_t kSeeds[] = {1, 2, 3, 42, 1234567, 0xDEADBEEF, 20240601, 987654321};
constexpr uint64_t kDigestEverySteps = 5'000;
constexpr uint64_t kReplicaCheckEveryLogged = 64;
constexpr size_t kHistorySteps = 24;  // printed before a failure
constexpr uint64_t kPruneEverySteps = 100'000;

std::optional<uint64_t> env_number(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  char* end = nullptr;
  uint64_t n = std::strtoull(v, &end, 0);
  if (end == v || *end != '\0') {
    ADD_FAILURE() << name << "=" << v << " is not a number";
    return std::nullopt;
  }
  return n;
}

std::vector<uint64_t> seeds() {
  if (auto s = env_number("SMSX_SIM_SEED")) return {*s};
  return {std::begin(kSeeds), std::end(kSeeds)};
}

uint64_t steps_per_seed() { return env_number("SMSX_SIM_STEPS").value_or(kDefaultSteps); }

// How often each (op, error, replayed) outcome happened: shows what the workload exercised.
class Outcomes {
 public:
  void add(Op op, const Reply& r) {
    ++counts_[static_cast<size_t>(op)][static_cast<size_t>(r.error)][r.replayed ? 1 : 0];
  }
  void add_event(const Event& e) {
    size_t k = static_cast<size_t>(e.kind) * 2 + (e.auto_finish ? 1 : 0);
    ++events_[k];
  }
  void merge(const Outcomes& o) {
    for (size_t op = 0; op < kOps; ++op) {
      for (size_t e = 0; e < kErrors; ++e) {
        for (size_t r = 0; r < 2; ++r) counts_[op][e][r] += o.counts_[op][e][r];
      }
    }
    for (size_t k = 0; k < events_.size(); ++k) events_[k] += o.events_[k];
  }
  uint64_t count(Op op, Error e, bool replayed = false) const {
    return counts_[static_cast<size_t>(op)][static_cast<size_t>(e)][replayed ? 1 : 0];
  }
  uint64_t events(EventKind k, bool auto_finish = false) const {
    return events_[static_cast<size_t>(k) * 2 + (auto_finish ? 1 : 0)];
  }
  std::string table() const {
    std::string s;
    for (size_t op = 1; op < kOps; ++op) {
      s += "  " + std::string(op_name(static_cast<Op>(op))) + ":";
      for (size_t e = 0; e < kErrors; ++e) {
        for (size_t r = 0; r < 2; ++r) {
          if (counts_[op][e][r] == 0) continue;
          s += " " + std::string(error_name(static_cast<Error>(e))) + (r ? "(replayed)" : "") +
               "=" + std::to_string(counts_[op][e][r]);
        }
      }
      s += "\n";
    }
    s += "  events: order.sms=" + std::to_string(events(EventKind::kOrderSms)) +
         " order.expired=" + std::to_string(events(EventKind::kOrderExpired)) +
         " order.finished=" + std::to_string(events(EventKind::kOrderFinished)) +
         " order.finished(auto)=" + std::to_string(events(EventKind::kOrderFinished, true)) +
         " refund.payout=" + std::to_string(events(EventKind::kRefundPayout)) + "\n";
    return s;
  }

 private:
  static constexpr size_t kOps = static_cast<size_t>(Op::kCount);
  static constexpr size_t kErrors = static_cast<size_t>(Error::kCount);
  std::array<std::array<std::array<uint64_t, 2>, kErrors>, kOps> counts_{};
  std::array<uint64_t, 16> events_{};
};

// One seed: workload -> engine and model, with the replica engine in lockstep.
class Simulation {
 public:
  Simulation(uint64_t seed, uint64_t steps)
      : seed_(seed),
        steps_(steps),
        config_(sim_config(seed)),
        engine_(config_),
        replica_(config_),
        model_(config_),
        workload_(seed, model_) {
    std::signal(SIGABRT, on_abort);
  }
  ~Simulation() {
    if (running_ == this) running_ = nullptr;
  }
  Simulation(const Simulation&) = delete;
  Simulation& operator=(const Simulation&) = delete;

  // Runs every step, or up to the first difference from the model or broken invariant
  // (then failure() says what). A replica digest that differs is noted in
  // digest_failure() and the run goes on.
  void run() {
    while (workload_.steps() < steps_) {
      if (!step(workload_.next())) return;
    }
    // End on a logged command, so that the replica has seen the last engine time too.
    SimCommand last;
    last.op = Op::kPriceSet;
    last.now_ms = model_.now_ms();
    last.gateway = "admin";
    last.request_id = "final";
    last.service = "s0";
    last.country = "us";
    last.pool = "p1";
    last.amount = 100;
    last.payout = 60;
    if (!step(last)) return;
    check_digests("at the end");
    promote();
  }

  const std::string& failure() const { return failure_; }
  const std::string& digest_failure() const { return digest_failure_; }
  uint64_t digest() const { return engine_.digest(); }
  uint64_t trace() const { return trace_.value(); }
  uint64_t steps() const { return step_; }
  uint64_t logged() const { return logged_; }
  const Outcomes& outcomes() const { return outcomes_; }
  const EngineConfig& config() const { return config_; }

 private:
  bool step(const SimCommand& c) {
    ++step_;
    running_ = this;
    current_ = format_command(c);
    const Command command = c.to_command();
    engine_events_.clear();
    model_events_.clear();
    const Reply got = engine_.apply(command, &engine_events_);
    const Reply want = model_.apply(c, &model_events_);
    const std::string got_reply = format_reply(c.op, got);
    const std::string got_events = format_events(engine_events_);
    trace_.add(got_reply).add(got_events);
    history_.push_back("step " + std::to_string(step_) + ": " + current_ + "\n      -> " +
                       got_reply + (engine_events_.empty() ? "" : " events " + got_events));
    if (history_.size() > kHistorySteps) history_.pop_front();
    outcomes_.add(c.op, got);
    const std::string want_reply = format_reply(c.op, want);
    const std::string want_events = format_events(model_events_);
    if (got_reply != want_reply || got_events != want_events) {
      return fail(c, "the engine's reply differs from the model's\n  expected: " + want_reply +
                         "\n  actual:   " + got_reply + "\n  expected events: " + want_events +
                         "\n  actual events:   " + got_events);
    }
    engine_.check_invariants();  // 1-4; aborts with file:line on a violation
    if (!check_orders(c, got)) return false;
    if (!check_wake(c)) return false;
    if (got.changed && !apply_to_replica(c, got)) return false;
    return true;
  }

  // The replica, promoted, times the orders it holds itself: a live tick long after
  // everything is due must expire, finish and evict exactly what the engine does.
  void promote() {
    SimCommand t;
    t.op = Op::kTick;
    t.gateway = "loop";
    t.now_ms = model_.now_ms() + 2 * config_.ttl_ms + config_.retention_ms;
    t.max_expired = 1'000'000;
    ++step_;
    engine_events_.clear();
    model_events_.clear();
    replica_events_.clear();
    std::string want =
        format_reply(t.op, model_.apply(t, &model_events_)) + format_events(model_events_);
    std::string got = format_reply(t.op, engine_.apply(t.to_command(), &engine_events_)) +
                      format_events(engine_events_);
    std::string promoted = format_reply(t.op, replica_.apply(t.to_command(), &replica_events_)) +
                           format_events(replica_events_);
    if (got != want) {
      fail(t, "the last tick differs from the model\n  expected: " + want + "\n  actual:   " + got);
    } else if (promoted != got) {
      fail(t, "the promoted replica's live tick differs from the engine's\n  engine:  " + got +
                  "\n  replica: " + promoted);
    } else {
      engine_.check_invariants();
      replica_.check_invariants();
      check_digests("after a live tick on both");
    }
  }

  // Invariants 5 and 6, from the replies and events.
  bool check_orders(const SimCommand& c, const Reply& got) {
    if (c.op == Op::kOrderPlace && got.error == Error::kNone && !got.replayed) {
      placed_[got.id] = Placed{got.text, c.service, got.expires_at_ms};
    }
    if (step_ % kPruneEverySteps == 0) {
      // An order no longer kept gets no more events: forget it, so long runs stay small.
      std::erase_if(placed_, [&](const auto& p) { return !model_.orders().contains(p.first); });
    }
    for (const Event& e : engine_events_) {
      outcomes_.add_event(e);
      if (e.kind != EventKind::kOrderExpired && e.kind != EventKind::kOrderFinished) continue;
      auto it = placed_.find(e.order);
      if (it == placed_.end()) return fail(c, "an event names an order never placed");
      const Placed& p = it->second;
      bool at_deadline = e.kind == EventKind::kOrderExpired || e.auto_finish;
      if (at_deadline && e.at_ms < p.expires_at_ms) {
        return fail(c, "invariant 5: order " + std::to_string(e.order) + " closed at " +
                           std::to_string(e.at_ms) + ", before its deadline " +
                           std::to_string(p.expires_at_ms));
      }
      if (e.kind == EventKind::kOrderFinished && !captured_.insert({p.number, p.service}).second) {
        return fail(c, "invariant 6: number " + p.number + " captured twice for " + p.service);
      }
    }
    return true;
  }

  // The engine's next wake-up may be early, never late.
  bool check_wake(const SimCommand& c) {
    std::optional<uint64_t> due = model_.next_due_ms();
    if (!due) return true;
    std::optional<uint64_t> wake = engine_.next_wake_ms();
    if (!wake || *wake > *due) {
      return fail(c, "next_wake_ms() is " + (wake ? std::to_string(*wake) : "none") +
                         " but work is due at " + std::to_string(*due));
    }
    return true;
  }

  // The command as the log holds it, applied to the replica: the same reply, the same events.
  bool apply_to_replica(const SimCommand& c, const Reply& got) {
    ++logged_;
    SimCommand logged = c;
    if (c.op == Op::kTick) {
      logged.replay = true;
      logged.replay_expired = got.expired;
    }
    replica_events_.clear();
    Reply again = replica_.apply(logged.to_command(), &replica_events_);
    Reply first = copy_reply(got);
    if (c.op == Op::kTick) first.more_due = again.more_due = false;  // not part of the log
    std::string want = format_reply(c.op, first) + " events " + format_events(engine_events_);
    std::string have = format_reply(c.op, again) + " events " + format_events(replica_events_);
    if (want != have) {
      return fail(c, "replaying the logged command gives another reply\n  primary: " + want +
                         "\n  replica: " + have);
    }
    if (logged_ % kReplicaCheckEveryLogged == 0) replica_.check_invariants();
    if (step_ >= next_digest_step_) {
      next_digest_step_ = step_ + std::max(kDigestEverySteps, step_ / 10);  // long runs: fewer
      check_digests("after step " + std::to_string(step_) + ", a logged " +
                    std::string(op_name(c.op)));
    }
    return true;
  }

  void check_digests(const std::string& when) {
    uint64_t a = engine_.digest(), b = replica_.digest();
    if (a == b || !digest_failure_.empty()) return;
    digest_failure_ =
        "seed " + std::to_string(seed_) + ": the replica's digest " + std::to_string(b) +
        " differs from the engine's " + std::to_string(a) + " " + when + " (" +
        std::to_string(logged_) +
        " logged commands applied)\nreproduce: SMSX_SIM_SEED=" + std::to_string(seed_) +
        " SMSX_SIM_STEPS=" + std::to_string(step_);
  }

  bool fail(const SimCommand& c, const std::string& what) {
    failure_ = "seed " + std::to_string(seed_) + ", step " + std::to_string(step_) + ": " + what +
               "\n  command: " + format_command(c) + "\n  config: " + describe(config_) +
               "\n  last steps:\n";
    for (const std::string& h : history_) failure_ += "    " + h + "\n";
    failure_ += "reproduce: SMSX_SIM_SEED=" + std::to_string(seed_) +
                " SMSX_SIM_STEPS=" + std::to_string(step_);
    return false;
  }

  // An engine assertion (check_invariants) aborts the process: say which run and step, and
  // what led there, before it goes. Only write(2), and no allocation.
  static void on_abort(int) {
    const Simulation* sim = running_;
    if (sim == nullptr) return;
    auto put = [](std::string_view text) {
      while (!text.empty()) {
        ssize_t n = ::write(STDERR_FILENO, text.data(), text.size());
        if (n <= 0) return;
        text.remove_prefix(static_cast<size_t>(n));
      }
    };
    auto put_number = [&](uint64_t v) {
      char digits[24];
      size_t i = sizeof digits;
      do {
        digits[--i] = static_cast<char>('0' + v % 10);
        v /= 10;
      } while (v != 0);
      put(std::string_view(digits + i, sizeof digits - i));
    };
    put("\nengine aborted during the simulation: seed ");
    put_number(sim->seed_);
    put(", step ");
    put_number(sim->step_);
    put("\n  last steps:\n");
    for (const std::string& h : sim->history_) {
      put("    ");
      put(h);
      put("\n");
    }
    put("  the step being applied or checked: ");
    put(sim->current_);
    put("\n");
    put("reproduce: SMSX_SIM_SEED=");
    put_number(sim->seed_);
    put(" SMSX_SIM_STEPS=");
    put_number(sim->step_);
    put("\n");
  }

  struct Placed {
    std::string number, service;
    uint64_t expires_at_ms = 0;
  };

  static inline const Simulation* running_ = nullptr;  // the one stepping now, for on_abort

  uint64_t seed_, steps_;
  EngineConfig config_;
  Engine engine_;
  Engine replica_;
  ReferenceModel model_;
  Workload workload_;
  uint64_t step_ = 0, logged_ = 0;
  uint64_t next_digest_step_ = kDigestEverySteps;
  std::vector<Event> engine_events_, model_events_, replica_events_;
  std::map<uint64_t, Placed> placed_;
  std::set<std::pair<std::string, std::string>> captured_;  // (number, service)
  std::deque<std::string> history_;
  std::string current_;  // the command of the step in progress
  StableHasher trace_;
  Outcomes outcomes_;
  std::string failure_, digest_failure_;
};

// Outcomes a default run must reach, so that the workload keeps exercising every rule.
void expect_coverage(const Outcomes& o) {
  struct Want {
    Op op;
    Error error;
    bool replayed;
  };
  const Want wants[] = {
      {Op::kBalance, Error::kNone, false},
      {Op::kBalance, Error::kNoAccount, false},
      {Op::kDeposit, Error::kNone, false},
      {Op::kDeposit, Error::kNone, true},
      {Op::kDeposit, Error::kBadRequest, false},
      {Op::kDeposit, Error::kDuplicateRef, false},
      {Op::kDeposit, Error::kIdReused, false},
      {Op::kDepositRefund, Error::kNone, false},
      {Op::kDepositRefund, Error::kNone, true},
      {Op::kDepositRefund, Error::kDepositNotFound, false},
      {Op::kDepositRefund, Error::kAlreadyRefunded, false},
      {Op::kDepositRefund, Error::kRefundWindowClosed, false},
      {Op::kDepositRefund, Error::kDepositSpent, false},
      {Op::kDepositRefund, Error::kRefundDestinationMismatch, false},
      {Op::kDepositRefund, Error::kInsufficientAvailable, false},
      {Op::kOrderPlace, Error::kNone, false},
      {Op::kOrderPlace, Error::kNone, true},
      {Op::kOrderPlace, Error::kBadRequest, false},
      {Op::kOrderPlace, Error::kNoPrice, false},
      {Op::kOrderPlace, Error::kNoNumbers, false},
      {Op::kOrderPlace, Error::kMaxPriceTooLow, false},
      {Op::kOrderPlace, Error::kNoBalance, false},
      {Op::kOrderPlace, Error::kIdReused, false},
      {Op::kOrderGet, Error::kNone, false},
      {Op::kOrderGet, Error::kOrderNotFound, false},
      {Op::kOrderCancel, Error::kNone, false},
      {Op::kOrderCancel, Error::kNone, true},
      {Op::kOrderCancel, Error::kOrderNotFound, false},
      {Op::kOrderCancel, Error::kOrderClosed, false},
      {Op::kOrderCancel, Error::kCodeReceived, false},
      {Op::kOrderCancel, Error::kEarlyCancel, false},
      {Op::kOrderFinish, Error::kNone, false},
      {Op::kOrderFinish, Error::kNone, true},
      {Op::kOrderFinish, Error::kNoSmsYet, false},
      {Op::kOrderFinish, Error::kOrderClosed, false},
      {Op::kOrderRetry, Error::kNone, false},
      {Op::kOrderRetry, Error::kNoSmsYet, false},
      {Op::kOrderDispute, Error::kNone, false},
      {Op::kOrderDispute, Error::kNone, true},
      {Op::kOrderDispute, Error::kBadRequest, false},
      {Op::kOrderDispute, Error::kNoSmsYet, false},
      {Op::kOrderDispute, Error::kOrderClosed, false},
      {Op::kDisputeResolve, Error::kNone, false},
      {Op::kDisputeResolve, Error::kOrderClosed, false},
      {Op::kOrdersActive, Error::kNone, false},
      {Op::kNumberAdd, Error::kNone, false},
      {Op::kNumberAdd, Error::kBadRequest, false},
      {Op::kNumberAdd, Error::kNumberExists, false},
      {Op::kNumberRemove, Error::kNone, false},
      {Op::kNumberRemove, Error::kNumberNotFound, false},
      {Op::kSmsDeliver, Error::kNone, false},
      {Op::kSmsDeliver, Error::kNone, true},
      {Op::kSmsDeliver, Error::kBadRequest, false},
      {Op::kSmsDeliver, Error::kNumberNotFound, false},
      {Op::kPayoutsPending, Error::kNone, false},
      {Op::kPayoutConfirm, Error::kNone, false},
      {Op::kPayoutConfirm, Error::kRefundNotFound, false},
      {Op::kStock, Error::kNone, false},
      {Op::kPriceSet, Error::kNone, false},
      {Op::kPriceSet, Error::kBadRequest, false},
      {Op::kStats, Error::kNone, false},
      {Op::kTick, Error::kNone, false},
  };
  for (const Want& w : wants) {
    EXPECT_GT(o.count(w.op, w.error, w.replayed), 0u)
        << "the workload never produced " << op_name(w.op) << " -> " << error_name(w.error)
        << (w.replayed ? " (replayed)" : "");
  }
  for (EventKind k : {EventKind::kOrderSms, EventKind::kOrderExpired, EventKind::kOrderFinished,
                      EventKind::kRefundPayout}) {
    EXPECT_GT(o.events(k), 0u) << "no " << event_name(k) << " event";
  }
  EXPECT_GT(o.events(EventKind::kOrderFinished, true), 0u) << "no automatic finish";
}

// Every reply and event as the model predicts; invariants 1-6 after every step; a logged
// command replayed on a second engine gives the same reply, and the same digest
// (invariant 7, in memory).
TEST(EngineSim, RepliesMatchModelInvariantsHoldAndReplayGivesSameDigest) {
  const uint64_t steps = steps_per_seed();
  Outcomes all;
  uint64_t total = 0;
  bool failed = false;
  for (uint64_t seed : seeds()) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    auto start = std::chrono::steady_clock::now();
    Simulation sim(seed, steps);
    sim.run();
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("seed %llu: %llu steps (%llu logged) in %.2f s%s [%s]\n",
                static_cast<unsigned long long>(seed), static_cast<unsigned long long>(sim.steps()),
                static_cast<unsigned long long>(sim.logged()), seconds,
                sim.failure().empty() ? "" : " FAILED", describe(sim.config()).c_str());
    std::fflush(stdout);
    if (!sim.failure().empty()) ADD_FAILURE() << sim.failure();
    if (!sim.digest_failure().empty()) ADD_FAILURE() << sim.digest_failure();
    failed = failed || !sim.failure().empty();
    all.merge(sim.outcomes());
    total += sim.steps();
  }
  std::printf("%llu steps in all; outcomes (op: error=count):\n%s",
              static_cast<unsigned long long>(total), all.table().c_str());
  if (!failed && total >= 50'000) expect_coverage(all);
}

// Deterministic core: no clock, no randomness, no hash-map order in any decision. Each seed
// twice, for a quarter of the steps.
TEST(EngineSim, SameSeedTwiceGivesSameRepliesAndDigest) {
  const uint64_t steps = std::max<uint64_t>(steps_per_seed() / 4, 1);
  for (uint64_t seed : seeds()) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Simulation first(seed, steps);
    first.run();
    Simulation second(seed, steps);
    second.run();
    EXPECT_EQ(first.steps(), second.steps()) << "seed " << seed;
    EXPECT_EQ(first.trace(), second.trace()) << "seed " << seed << ": the replies differ";
    EXPECT_EQ(first.digest(), second.digest()) << "seed " << seed << ": the digests differ";
  }
}

// The same seed in another process (other hash seeds, other addresses, so another hash-map
// iteration order) gives the same replies and digest. The child is this test in this program,
// run again with kChildEnv set: it prints its result instead of checking.
constexpr char kChildEnv[] = "SMSX_SIM_CHILD";
constexpr uint64_t kChildStepsMax = 20'000;

TEST(EngineSim, SameSeedInAnotherProcessGivesSameRepliesAndDigest) {
  const uint64_t seed = seeds().front();
  const uint64_t steps = std::min(steps_per_seed(), kChildStepsMax);
  Simulation here(seed, steps);
  here.run();
  if (std::getenv(kChildEnv) != nullptr) {
    std::printf("sim-result trace=%llu digest=%llu\n",
                static_cast<unsigned long long>(here.trace()),
                static_cast<unsigned long long>(here.digest()));
    return;
  }
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  const std::string command =
      std::string(kChildEnv) + "=1 SMSX_SIM_SEED=" + std::to_string(seed) +
      " SMSX_SIM_STEPS=" + std::to_string(steps) + " '" + self +
      "' --gtest_filter=EngineSim.SameSeedInAnotherProcessGivesSameRepliesAndDigest";
  for (int child = 0; child < 2; ++child) {
    FILE* out = popen(command.c_str(), "r");
    ASSERT_NE(out, nullptr) << command;
    unsigned long long trace = 0, digest = 0;
    bool found = false;
    char line[512];
    while (std::fgets(line, sizeof line, out) != nullptr) {
      found = found || std::sscanf(line, "sim-result trace=%llu digest=%llu", &trace, &digest) == 2;
    }
    ASSERT_EQ(pclose(out), 0) << command;
    ASSERT_TRUE(found) << command;
    EXPECT_EQ(trace, here.trace()) << "seed " << seed << ": the replies differ in another process";
    EXPECT_EQ(digest, here.digest())
        << "seed " << seed << ": the digest differs in another process";
  }
}

}  // namespace
}  // namespace smsx::sim

// The seeded random workload of the deterministic simulation: every engine operation, with
// a few accounts, suppliers, numbers and pools so that requests collide often, invalid
// requests of every kind, idempotent retries and reused ids, and ticks with time jumps
// from 0 ms to beyond the order lifetime.
//
// The generator reads the reference model (never the engine) to aim at things that exist:
// active orders, received orders, disputed orders, recent deposits, pending refunds, busy
// numbers. It is deterministic: the same seed gives the same commands.
//
// State stays bounded however long the run: services rotate (a new one is priced every
// kServiceEpochSteps steps and the oldest stops being asked for, so numbers that were used
// for every live service do not starve placement), the set of phone numbers is fixed, and
// accounts rotate slowly (so the FIFO refund scan over an account's deposits stays short).
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "core/engine_config.h"
#include "tests/sim/reference_model_util.h"
#include "tests/sim/sim_command_util.h"

namespace smsx::sim {

// A small, portable PRNG (splitmix64): the same seed gives the same numbers everywhere.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  uint64_t below(uint64_t n) { return n == 0 ? 0 : next() % n; }
  uint64_t between(uint64_t lo, uint64_t hi) { return lo + below(hi - lo + 1); }  // inclusive
  bool percent(uint64_t p) { return below(100) < p; }
  template <class T>
  const T& pick(const std::vector<T>& v) {
    return v[below(v.size())];
  }

 private:
  uint64_t state_;
};

// The engine settings of one seed: small lifetimes and windows so every rule is hit often.
EngineConfig sim_config(uint64_t seed);
std::string describe(const EngineConfig& config);

class Workload {
 public:
  static constexpr uint64_t kStartMs = 1'764'000'000'000;
  static constexpr uint64_t kServiceEpochSteps = 600;
  static constexpr uint64_t kAccountEpochSteps = 20'000;
  static constexpr uint64_t kGhostAccount = 7;       // never deposits
  static constexpr uint64_t kNewAccounts = 500'000;  // one-off customers above this

  Workload(uint64_t seed, const ReferenceModel& model);
  SimCommand next();
  uint64_t steps() const { return step_; }

 private:
  enum class Kind {
    kDeposit,
    kRefund,
    kPlace,
    kGet,
    kCancel,
    kFinish,
    kRetry,
    kDispute,
    kResolve,
    kActive,
    kAdd,
    kRemove,
    kSms,
    kPending,
    kConfirm,
    kStock,
    kPrice,
    kBalance,
    kStats,
    kTick,
    kCount,
  };

  SimCommand make(Kind kind);
  void keyed(SimCommand& c, std::string gateway);
  void read_only(SimCommand& c, std::string gateway);
  uint64_t next_time(bool tick);
  std::vector<uint64_t> interesting_times() const;
  void start_epochs();

  SimCommand deposit();
  SimCommand refund();
  SimCommand place();
  SimCommand order_op(Op op);
  SimCommand resolve();
  SimCommand add_number();
  SimCommand remove_number();
  SimCommand sms();
  SimCommand confirm();
  SimCommand stock();
  SimCommand price(const std::string& service, const std::string& country, const std::string& pool);
  SimCommand tick();

  std::string service_name(uint64_t k) const { return "s" + std::to_string(k); }
  std::string live_service();
  uint64_t account();
  std::string customer() { return rng_.percent(50) ? "web-1" : "web-2"; }
  std::string supplier();
  std::string phone();
  std::string sms_text();
  uint64_t pick_order(bool prefer_received);
  std::string owner_or_other(const std::string& number);

  Rng rng_;
  const ReferenceModel& model_;
  uint64_t now_ms_ = kStartMs;
  uint64_t step_ = 0;
  uint64_t next_request_ = 0;
  uint64_t next_ref_ = 0;
  uint64_t service_epoch_ = 0;
  bool last_was_tick_ = false;
  uint64_t new_accounts_ = 0;
  std::deque<SimCommand> forced_;        // set-up commands to send next
  std::deque<SimCommand> recent_keyed_;  // for idempotent retries and reused ids
  std::vector<std::string> phones_;
};

}  // namespace smsx::sim

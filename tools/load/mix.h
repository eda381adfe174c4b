// The workload mix: how often the generator picks each operation.
//
// A spec is "op=weight,op=weight,..." with ops from kOpNames and non-negative integer
// weights (relative, they need not add up to 100). Ops left out of a spec weigh 0; an
// empty spec is the default mix. A parsed Mix is immutable and picks ops from a
// uniform random number in [0, total).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace smsx::load {

enum class Op : uint8_t { kPlace, kSms, kFinish, kCancel, kDeposit, kBalance, kGet };
inline constexpr size_t kOpCount = 7;
inline constexpr std::array<std::string_view, kOpCount> kOpNames = {
    "place", "sms", "finish", "cancel", "deposit", "balance", "get"};

// "A realistic day": placements most, most of them get an SMS and are finished, some
// are cancelled; balance and order reads from the web front end; a few deposits.
inline constexpr std::string_view kDefaultMix =
    "place=30,sms=20,finish=15,cancel=10,deposit=5,balance=10,get=10";

struct Mix {
  std::array<uint32_t, kOpCount> weights{};
  uint64_t total = 0;

  Op pick(uint64_t random) const;  // random is any 64-bit value; total must be > 0
  std::string to_string() const;   // the canonical spec, ops in kOpNames order
};

// What a worker has to work on when it turns a pick into the op it sends.
struct WorkerHoldings {
  bool can_place;     // fewer active orders than its limit
  bool has_waiting;   // an order waiting for its SMS
  bool has_received;  // an order whose SMS arrived
  bool has_recent;    // an order it may read back
};

// The op actually sent for the mix's pick: an SMS needs a waiting order, a finish a
// received one, a cancel a waiting one; what cannot be done falls back to the op that
// makes it possible next time, and to a balance read at the end.
// *held_back (when given) is set when the resolution wanted a placement that
// `can_place` refused.
Op resolve_op(Op pick, const WorkerHoldings& has, bool* held_back = nullptr);

// Which of a worker's connections sends `op`: 0 customer, 1 supplier (SMS), 2 payments.
int connection_for(Op op);

// The mix of `spec`, or nullopt with *error set: an unknown op, a repeated op, a weight
// that is not a decimal integer from 0 to 1,000,000, a missing '=', or all weights 0.
std::optional<Mix> parse_mix(std::string_view spec, std::string* error);

}  // namespace smsx::load

#include "tools/load/mix.h"

#include <cassert>
#include <charconv>

namespace smsx::load {

namespace {
constexpr uint32_t kWeightMax = 1'000'000;
}

Op Mix::pick(uint64_t random) const {
  assert(total > 0);
  uint64_t r = random % total;
  for (size_t i = 0; i < kOpCount; ++i) {
    if (r < weights[i]) return static_cast<Op>(i);
    r -= weights[i];
  }
  assert(false && "weights add up to total");
  return Op::kPlace;
}

std::string Mix::to_string() const {
  std::string out;
  for (size_t i = 0; i < kOpCount; ++i) {
    if (!out.empty()) out += ',';
    out += kOpNames[i];
    out += '=';
    out += std::to_string(weights[i]);
  }
  return out;
}

std::optional<Mix> parse_mix(std::string_view spec, std::string* error) {
  if (spec.empty()) spec = kDefaultMix;
  Mix mix;
  std::array<bool, kOpCount> seen{};
  while (!spec.empty()) {
    size_t comma = spec.find(',');
    std::string_view item = spec.substr(0, comma);
    spec = comma == std::string_view::npos ? std::string_view() : spec.substr(comma + 1);
    if (comma != std::string_view::npos && spec.empty()) {
      *error = "mix: nothing after the last ','";
      return std::nullopt;
    }
    size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      *error = "mix: expected op=weight, got \"" + std::string(item) + "\"";
      return std::nullopt;
    }
    std::string_view name = item.substr(0, eq), value = item.substr(eq + 1);
    size_t op = 0;
    while (op < kOpCount && kOpNames[op] != name) ++op;
    if (op == kOpCount) {
      *error = "mix: unknown op \"" + std::string(name) +
               "\" (known: place, sms, finish, cancel, deposit, balance, get)";
      return std::nullopt;
    }
    if (seen[op]) {
      *error = "mix: op \"" + std::string(name) + "\" given twice";
      return std::nullopt;
    }
    seen[op] = true;
    uint32_t weight = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), weight);
    if (value.empty() || ec != std::errc() || end != value.data() + value.size() ||
        weight > kWeightMax) {
      *error = "mix: weight of \"" + std::string(name) + "\" must be an integer from 0 to " +
               std::to_string(kWeightMax) + ", got \"" + std::string(value) + "\"";
      return std::nullopt;
    }
    mix.weights[op] = weight;
    mix.total += weight;
  }
  if (mix.total == 0) {
    *error = "mix: every weight is 0";
    return std::nullopt;
  }
  return mix;
}

Op resolve_op(Op op, const WorkerHoldings& has, bool* held_back) {
  for (int i = 0; i < 3; ++i) {
    switch (op) {
      case Op::kPlace:
        if (has.can_place) return op;
        if (held_back != nullptr) *held_back = true;
        op = Op::kCancel;
        break;
      case Op::kSms:
        if (has.has_waiting) return op;
        op = Op::kPlace;
        break;
      case Op::kFinish:
        if (has.has_received) return op;
        op = Op::kSms;
        break;
      case Op::kCancel:
        if (has.has_waiting) return op;
        op = Op::kPlace;
        break;
      case Op::kGet:
        if (has.has_recent) return op;
        return Op::kBalance;
      default:
        return op;
    }
  }
  return Op::kBalance;
}

int connection_for(Op op) {
  switch (op) {
    case Op::kSms:
      return 1;
    case Op::kDeposit:
      return 2;
    default:
      return 0;
  }
}

}  // namespace smsx::load

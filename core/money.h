// Money is an int64 count of minor units; every sum is overflow-checked.
#pragma once

#include <cstdint>
#include <optional>

namespace smsx {

using Amount = int64_t;

inline std::optional<Amount> checked_add(Amount a, Amount b) {
  Amount out;
  if (__builtin_add_overflow(a, b, &out)) return std::nullopt;
  return out;
}

inline std::optional<Amount> checked_sub(Amount a, Amount b) {
  Amount out;
  if (__builtin_sub_overflow(a, b, &out)) return std::nullopt;
  return out;
}

}  // namespace smsx

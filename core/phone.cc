#include "core/phone.h"

#include "core/limits.h"

namespace smsx {

std::optional<PackedPhone> pack_phone(std::string_view digits) {
  if (digits.size() < limits::kPhoneDigitsMin || digits.size() > limits::kPhoneDigitsMax) {
    return std::nullopt;
  }
  uint64_t value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  return (static_cast<uint64_t>(digits.size()) << 56) | value;
}

std::string unpack_phone(PackedPhone phone) {
  size_t len = phone >> 56;
  uint64_t value = phone & ((uint64_t{1} << 56) - 1);
  char digits[20];
  for (size_t i = len; i > 0; --i) {
    digits[i - 1] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  return std::string(digits, len);
}

}  // namespace smsx

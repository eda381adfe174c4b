#include "core/phone.h"

#include <cstring>

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
  // Two digits per division, from the right; the digit count keeps leading zeros.
  static constexpr char kPairs[] =
      "0001020304050607080910111213141516171819202122232425262728293031323334353637383940414243"
      "4445464748495051525354555657585960616263646566676869707172737475767778798081828384858687"
      "888990919293949596979899";
  size_t len = phone >> 56;
  uint64_t value = phone & ((uint64_t{1} << 56) - 1);
  char digits[20];
  size_t i = len;
  while (i >= 2) {
    uint64_t pair = value % 100;
    value /= 100;
    i -= 2;
    std::memcpy(digits + i, kPairs + 2 * pair, 2);
  }
  if (i == 1) digits[0] = static_cast<char>('0' + value % 10);
  return std::string(digits, len);
}

}  // namespace smsx

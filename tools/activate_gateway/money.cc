#include "tools/activate_gateway/money.h"

#include <cassert>

#include "tools/activate_gateway/limits.h"

namespace smsx::activate {
namespace {

constexpr std::int64_t kParsedMax = std::int64_t{1} << 62;

std::int64_t pow10(int scale) {
  std::int64_t p = 1;
  for (int i = 0; i < scale; ++i) p *= 10;
  return p;
}

}  // namespace

void append_money(std::string* out, std::int64_t minor, int scale) {
  assert(scale >= 0 && scale <= kMoneyScaleMax);
  // Work in unsigned so that INT64_MIN has a magnitude.
  std::uint64_t magnitude =
      minor < 0 ? ~static_cast<std::uint64_t>(minor) + 1 : static_cast<std::uint64_t>(minor);
  if (minor < 0) out->push_back('-');
  const std::uint64_t unit = static_cast<std::uint64_t>(pow10(scale));
  *out += std::to_string(magnitude / unit);
  if (scale == 0) return;
  out->push_back('.');
  std::string fraction = std::to_string(magnitude % unit);
  out->append(static_cast<std::size_t>(scale) - fraction.size(), '0');
  *out += fraction;
}

std::string format_money(std::int64_t minor, int scale) {
  std::string out;
  append_money(&out, minor, scale);
  return out;
}

std::optional<std::int64_t> parse_money(std::string_view text, int scale) {
  assert(scale >= 0 && scale <= kMoneyScaleMax);
  const std::size_t dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  const std::string_view fraction =
      dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  if (whole.empty() && fraction.empty()) return std::nullopt;
  std::int64_t value = 0;
  for (char c : whole) {
    if (c < '0' || c > '9') return std::nullopt;
    if (value > (kParsedMax - (c - '0')) / 10) return std::nullopt;  // before it overflows
    value = value * 10 + (c - '0');
  }
  for (std::size_t i = 0; i < fraction.size(); ++i) {
    if (fraction[i] < '0' || fraction[i] > '9') return std::nullopt;
  }
  const std::int64_t unit = pow10(scale);
  if (value > kParsedMax / unit) return std::nullopt;
  value *= unit;
  std::int64_t place = unit / 10;
  for (std::size_t i = 0; i < fraction.size() && place > 0; ++i, place /= 10) {
    value += (fraction[i] - '0') * place;
  }
  return value;
}

}  // namespace smsx::activate

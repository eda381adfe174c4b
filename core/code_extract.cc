#include "core/code_extract.h"

namespace smsx {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

std::optional<std::string> extract_code(std::string_view text) {
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    if (!is_digit(text[i])) {
      ++i;
      continue;
    }
    // A run: digit groups joined by single separators. The run ends at any other character,
    // at two separators in a row, or at a separator not followed by a digit. Only a run of
    // 4 to 8 digits is a code, so only the first 8 digits are kept while counting.
    char run[8];
    size_t digits = 0;
    size_t j = i;
    while (j < n) {
      if (is_digit(text[j])) {
        if (digits < sizeof run) run[digits] = text[j];
        ++digits;
        ++j;
      } else if ((text[j] == '-' || text[j] == ' ') && j + 1 < n && is_digit(text[j + 1])) {
        ++j;
      } else {
        break;
      }
    }
    if (digits >= 4 && digits <= 8) return std::string(run, digits);
    i = j;
  }
  return std::nullopt;
}

uint64_t pack_code(std::string_view digits) {
  uint64_t value = 0;
  for (char c : digits) value = value * 10 + static_cast<uint64_t>(c - '0');
  return (static_cast<uint64_t>(digits.size()) << 56) | value;
}

std::string unpack_code(uint64_t packed) {
  size_t len = packed >> 56;
  uint64_t value = packed & ((uint64_t{1} << 56) - 1);
  std::string out(len, '0');
  for (size_t i = len; i > 0; --i, value /= 10) out[i - 1] = static_cast<char>('0' + value % 10);
  return out;
}

}  // namespace smsx

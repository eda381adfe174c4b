// Verification-code extraction from SMS text (PROTOCOL.md "Code extraction"): the first run
// of 4 to 8 digits, where single '-' or ' ' characters between digit groups are dropped
// ("123-456" and "123 456" give "123456"; "G-482913" gives "482913").
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace smsx {

std::optional<std::string> extract_code(std::string_view text);

// A code (4..8 digits) packed into a non-zero uint64: digit count in the top byte.
uint64_t pack_code(std::string_view digits);
std::string unpack_code(uint64_t packed);

}  // namespace smsx

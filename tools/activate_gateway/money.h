// Money as the protocol shows it: the engine's integer minor units written as a decimal
// with `scale` places (scale 2: 12345 -> "123.45", 5 -> "0.05"; scale 0: 12345 -> "12345").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace smsx::activate {

// Appends `minor` written with `scale` (0..kMoneyScaleMax) decimal places.
void append_money(std::string* out, std::int64_t minor, int scale);
std::string format_money(std::int64_t minor, int scale);

// A non-negative decimal ("1", "1.5", "1.50", ".5", "1.") in minor units. Digits beyond
// `scale` are dropped (rounded down, so a maxPrice never lets a client pay more than it
// wrote). nullopt for anything else: signs, exponents, spaces, empty, or over 2^62.
std::optional<std::int64_t> parse_money(std::string_view text, int scale);

}  // namespace smsx::activate

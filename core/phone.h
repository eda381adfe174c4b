// Phone numbers: 6..15 E.164 digits, packed into one uint64 (digit count in the top byte,
// value below) so that leading zeros survive and a number costs 8 bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace smsx {

using PackedPhone = uint64_t;

std::optional<PackedPhone> pack_phone(std::string_view digits);
std::string unpack_phone(PackedPhone phone);

}  // namespace smsx

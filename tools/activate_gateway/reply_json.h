// Small writers for the JSON replies (getNumberV2, getActiveActivations, getPrices,
// getNumbersStatus): string escaping and the protocol's time format.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace smsx::activate {

// Appends `text` as a JSON string, quotes included: '"', '\' and control characters are
// escaped; other bytes are copied (engine text is valid UTF-8).
void append_json_string(std::string* out, std::string_view text);

// Appends "YYYY-MM-DD HH:MM:SS" (UTC) for a time in milliseconds since the Unix epoch.
void append_datetime(std::string* out, std::int64_t unix_ms);

}  // namespace smsx::activate

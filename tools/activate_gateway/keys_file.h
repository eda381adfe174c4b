// The keys file: which API key belongs to which engine account.
//
//   # comment
//   3f9a0c1d2e4b5a6978c1d2e3f4a5b6c7  1001
//   k-reseller-0123456789abcdef       1002
//
// One key and one account (an unsigned 64-bit integer) per line, separated by spaces or
// tabs; blank lines and lines starting with '#' are skipped. Keys are 16 to 128 characters of
// [A-Za-z0-9_.-] and unique; several keys may share an account. Any other line is an error
// naming its line number (the key itself is never echoed).
//
// Each key carries its own token bucket for the per-key request rate (the bucket lives here
// so that its memory is bounded by the file, not by what clients send).
// Single-threaded: the loop thread owns the table.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "net/config.h"

namespace smsx::activate {

struct KeyEntry {
  std::uint64_t account = 0;
  // Token bucket: `tokens` requests may be made now; refilled at the configured rate.
  double tokens = -1;  // < 0: not used yet (starts full)
  std::uint64_t refilled_ms = 0;
};

class KeyTable {
 public:
  static net::Result<KeyTable> parse(std::string_view text, std::string_view source_name);
  static net::Result<KeyTable> load(const std::string& path);

  // nullptr for an unknown key.
  KeyEntry* find(std::string_view key);
  std::size_t size() const { return keys_.size(); }

 private:
  std::unordered_map<std::string, KeyEntry> keys_;
};

// Takes one token from `entry`'s bucket (capacity and refill: `per_second`, 0 = unlimited);
// false when it is empty.
bool take_token(KeyEntry* entry, std::uint64_t per_second, std::uint64_t now_ms);

}  // namespace smsx::activate

#include "tools/activate_gateway/keys_file.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>

#include "tools/activate_gateway/limits.h"

namespace smsx::activate {
namespace {

bool key_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

net::Result<KeyTable> KeyTable::parse(std::string_view text, std::string_view source_name) {
  KeyTable table;
  std::size_t line_no = 0;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    if (line.empty() || line.front() == '#') continue;
    auto where = [&] { return std::string(source_name) + ":" + std::to_string(line_no) + ": "; };
    std::size_t split = 0;
    while (split < line.size() && !is_space(line[split])) ++split;
    const std::string_view key = line.substr(0, split);
    const std::string_view account = trim(line.substr(split));
    if (key.size() < kKeyBytesMin || key.size() > kKeyBytesMax ||
        !std::all_of(key.begin(), key.end(), key_char)) {
      return net::Error{where() + "a key is 16 to 128 characters of [A-Za-z0-9_.-]"};
    }
    KeyEntry entry;
    const auto [end, ec] =
        std::from_chars(account.data(), account.data() + account.size(), entry.account);
    if (account.empty() || ec != std::errc() || end != account.data() + account.size()) {
      return net::Error{where() + "expected the key, then an account (unsigned 64-bit integer)"};
    }
    if (table.keys_.size() >= kKeysMax) return net::Error{where() + "too many keys"};
    if (!table.keys_.emplace(std::string(key), entry).second) {
      return net::Error{where() + "this key was given on an earlier line"};
    }
  }
  return table;
}

net::Result<KeyTable> KeyTable::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return net::Error{"cannot read the keys file " + path};
  std::stringstream text;
  text << in.rdbuf();
  return parse(text.str(), path);
}

KeyEntry* KeyTable::find(std::string_view key) {
  auto it = keys_.find(std::string(key));
  return it == keys_.end() ? nullptr : &it->second;
}

bool take_token(KeyEntry* entry, std::uint64_t per_second, std::uint64_t now_ms) {
  if (per_second == 0) return true;
  const double capacity = static_cast<double>(per_second);
  if (entry->tokens < 0) {
    entry->tokens = capacity;
  } else if (now_ms > entry->refilled_ms) {
    entry->tokens =
        std::min(capacity, entry->tokens +
                               capacity * static_cast<double>(now_ms - entry->refilled_ms) / 1000);
  }
  entry->refilled_ms = std::max(entry->refilled_ms, now_ms);
  if (entry->tokens < 1) return false;
  entry->tokens -= 1;
  return true;
}

}  // namespace smsx::activate

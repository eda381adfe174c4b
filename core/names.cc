#include "core/names.h"

#include <array>

#include "core/assert.h"
#include "core/limits.h"

namespace smsx {

namespace {

// 1..38 for the characters of a name, 0 for every other byte.
constexpr std::array<uint8_t, 256> kNameCodes = [] {
  std::array<uint8_t, 256> codes{};
  uint8_t next = 1;
  for (char c = 'a'; c <= 'z'; ++c) codes[static_cast<uint8_t>(c)] = next++;
  for (char c = '0'; c <= '9'; ++c) codes[static_cast<uint8_t>(c)] = next++;
  codes['_'] = next++;
  codes['-'] = next++;
  return codes;
}();
constexpr int kNameCodeBits = 6;
constexpr size_t kNameCharsInLo = 64 / kNameCodeBits;  // 10
static_assert(limits::kNameBytesMax - kNameCharsInLo <= 64 / kNameCodeBits);

}  // namespace

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > limits::kNameBytesMax) return false;
  for (char c : name) {
    if (kNameCodes[static_cast<uint8_t>(c)] == 0) return false;
  }
  return true;
}

std::optional<NameKey> name_key(std::string_view name) {
  if (name.empty() || name.size() > limits::kNameBytesMax) return std::nullopt;
  NameKey k;
  for (size_t i = 0; i < name.size(); ++i) {
    const uint64_t code = kNameCodes[static_cast<uint8_t>(name[i])];
    if (code == 0) return std::nullopt;
    if (i < kNameCharsInLo) {
      k.lo |= code << (kNameCodeBits * i);
    } else {
      k.hi |= code << (kNameCodeBits * (i - kNameCharsInLo));
    }
  }
  return k;
}

std::optional<Symbol> SymbolTable::intern(std::string_view name) {
  if (Symbol s = find(name); s != kNoSymbol) return s;
  if (size() >= limits::kNamesPerKindMax) return std::nullopt;
  auto s = static_cast<Symbol>(names_.size());
  names_.emplace_back(name);
  if (const std::optional<NameKey> key = name_key(name)) {
    by_key_.emplace(*key, s);
  } else {
    by_text_.emplace(std::string(name), s);
  }
  SMSX_ASSERT(names_[s] == name);
  return s;
}

Symbol SymbolTable::find(std::string_view name) const {
  if (const std::optional<NameKey> key = name_key(name)) return find(*key);
  auto it = by_text_.find(absl::string_view(name.data(), name.size()));
  return it == by_text_.end() ? kNoSymbol : it->second;
}

}  // namespace smsx

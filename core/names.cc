#include "core/names.h"

#include "core/assert.h"
#include "core/limits.h"

namespace smsx {

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > limits::kNameBytesMax) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::optional<Symbol> SymbolTable::intern(std::string_view name) {
  if (Symbol s = find(name); s != kNoSymbol) return s;
  if (size() >= limits::kNamesPerKindMax) return std::nullopt;
  auto s = static_cast<Symbol>(names_.size());
  names_.emplace_back(name);
  index_.emplace(std::string(name), s);
  SMSX_ASSERT(names_[s] == name);
  return s;
}

Symbol SymbolTable::find(std::string_view name) const {
  auto it = index_.find(absl::string_view(name.data(), name.size()));
  return it == index_.end() ? kNoSymbol : it->second;
}

}  // namespace smsx

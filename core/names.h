// Names (services, countries, pools, operators, suppliers) and their interning.
//
// Inside the engine every name is a small integer (a Symbol) so that orders and numbers
// stay small. Symbols are assigned in order of first appearance in the command stream,
// which makes them deterministic: the same log gives the same symbols. A SymbolTable never
// forgets a name (there are at most limits::kNamesPerKindMax of each kind).
#pragma once

#include <absl/container/flat_hash_map.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace smsx {

using Symbol = uint16_t;
inline constexpr Symbol kNoSymbol = 0;      // symbol 0 is never assigned to a name
inline constexpr Symbol kNoMatch = 0xffff;  // a filter naming an unknown name: matches nothing

// True for 1..16 characters of [a-z0-9_-] (PROTOCOL.md).
bool valid_name(std::string_view name);

class SymbolTable {
 public:
  SymbolTable() { names_.emplace_back(); }
  // The symbol of `name`, interning it if new; nullopt when the table is full.
  std::optional<Symbol> intern(std::string_view name);
  // The symbol of `name` if known, else kNoSymbol.
  Symbol find(std::string_view name) const;
  const std::string& name(Symbol s) const { return names_[s]; }
  size_t size() const { return names_.size() - 1; }

 private:
  std::vector<std::string> names_;  // index = symbol
  absl::flat_hash_map<std::string, Symbol> index_;
};

}  // namespace smsx

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

// A valid name packed into two words, 6 bits per character (each character's code is
// nonzero, so the length needs no bits of its own): comparing and hashing a name costs
// two words, not a string.
struct NameKey {
  uint64_t lo = 0, hi = 0;  // characters 0-9 in lo, 10-15 in hi
  friend bool operator==(const NameKey&, const NameKey&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const NameKey& k) {
    return H::combine(std::move(h), k.lo, k.hi);
  }
};

// The key of `name`, or nullopt if it is not valid_name().
std::optional<NameKey> name_key(std::string_view name);

class SymbolTable {
 public:
  SymbolTable() { names_.emplace_back(); }
  // The symbol of `name`, interning it if new; nullopt when the table is full.
  std::optional<Symbol> intern(std::string_view name);
  // The symbol of `name` if known, else kNoSymbol.
  Symbol find(std::string_view name) const;
  // The same for a valid name already packed (the caller checked it with name_key()).
  Symbol find(const NameKey& key) const {
    auto it = by_key_.find(key);
    return it == by_key_.end() ? kNoSymbol : it->second;
  }
  const std::string& name(Symbol s) const { return names_[s]; }
  size_t size() const { return names_.size() - 1; }

 private:
  std::vector<std::string> names_;                    // index = symbol
  absl::flat_hash_map<NameKey, Symbol> by_key_;       // names that pack (all valid_name)
  absl::flat_hash_map<std::string, Symbol> by_text_;  // the others (suppliers' gateway names)
};

}  // namespace smsx

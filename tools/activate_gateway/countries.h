// SMS-Activate's numeric country ids and the engine's country names.
//
// Clients send `country=0` (Russia), `country=187` (USA), …; the engine names countries with
// 1 to 16 characters of [a-z0-9_-]. The table maps one to the other. The defaults (listed in
// docs/activate_gateway.md) use ISO 3166-1 alpha-2 codes in lower case for common countries;
// the configuration's [countries] table adds to them or replaces single entries. An id that
// is not in the table passes through unchanged (country=999 asks the engine for "999").
//
// Going back (getPrices, getActiveActivations), an engine name maps to the smallest id that
// maps to it, or passes through unchanged when no id does.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>

namespace smsx::activate {

class CountryTable {
 public:
  // The documented defaults.
  static CountryTable defaults();

  // Maps `id` to `name` (replacing an earlier entry for `id`).
  void set(std::string id, std::string name);
  // The engine name for a client's country id.
  std::string_view to_engine(std::string_view id) const;
  // The client's country id for an engine name.
  std::string_view to_id(std::string_view name) const;
  std::size_t size() const { return by_id_.size(); }

 private:
  void rebuild_reverse();
  std::unordered_map<std::string, std::string> by_id_;
  std::unordered_map<std::string, std::string> by_name_;
};

}  // namespace smsx::activate

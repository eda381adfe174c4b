#include "tools/activate_gateway/countries.h"

#include <charconv>
#include <cstdint>
#include <utility>

namespace smsx::activate {
namespace {

// SMS-Activate country ids of common countries and their ISO 3166-1 alpha-2 codes. Id 12
// ("USA virtual") is left out on purpose: 187 is the USA.
constexpr std::pair<const char*, const char*> kDefaults[] = {
    {"0", "ru"},   {"1", "ua"},   {"2", "kz"},   {"3", "cn"},   {"4", "ph"},  {"5", "mm"},
    {"6", "id"},   {"7", "my"},   {"8", "ke"},   {"10", "vn"},  {"11", "kg"}, {"13", "il"},
    {"14", "hk"},  {"15", "pl"},  {"16", "gb"},  {"22", "in"},  {"24", "kh"}, {"32", "ro"},
    {"33", "co"},  {"34", "ee"},  {"36", "ca"},  {"43", "de"},  {"48", "nl"}, {"52", "th"},
    {"54", "mx"},  {"56", "es"},  {"62", "tr"},  {"73", "br"},  {"78", "fr"}, {"86", "it"},
    {"117", "pt"}, {"148", "am"}, {"151", "cl"}, {"187", "us"},
};

// Ids compare as numbers when both are numbers, else as text (smallest id wins going back).
bool id_less(const std::string& a, const std::string& b) {
  std::uint64_t x = 0, y = 0;
  const auto ra = std::from_chars(a.data(), a.data() + a.size(), x);
  const auto rb = std::from_chars(b.data(), b.data() + b.size(), y);
  const bool na = ra.ec == std::errc() && ra.ptr == a.data() + a.size();
  const bool nb = rb.ec == std::errc() && rb.ptr == b.data() + b.size();
  if (na && nb) return x < y;
  if (na != nb) return na;
  return a < b;
}

}  // namespace

CountryTable CountryTable::defaults() {
  CountryTable table;
  for (const auto& [id, name] : kDefaults) table.by_id_.emplace(id, name);
  table.rebuild_reverse();
  return table;
}

void CountryTable::set(std::string id, std::string name) {
  by_id_[std::move(id)] = std::move(name);
  rebuild_reverse();
}

void CountryTable::rebuild_reverse() {
  by_name_.clear();
  for (const auto& [id, name] : by_id_) {
    auto [it, inserted] = by_name_.emplace(name, id);
    if (!inserted && id_less(id, it->second)) it->second = id;
  }
}

std::string_view CountryTable::to_engine(std::string_view id) const {
  auto it = by_id_.find(std::string(id));
  return it == by_id_.end() ? id : std::string_view(it->second);
}

std::string_view CountryTable::to_id(std::string_view name) const {
  auto it = by_name_.find(std::string(name));
  return it == by_name_.end() ? name : std::string_view(it->second);
}

}  // namespace smsx::activate

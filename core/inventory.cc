#include "core/inventory.h"

#include <algorithm>
#include <tuple>

#include "core/assert.h"
#include "core/limits.h"

namespace smsx {

std::string_view number_state_name(NumberState s) {
  switch (s) {
    case NumberState::kFree:
      return "free";
    case NumberState::kBusy:
      return "busy";
    case NumberState::kRemoving:
      return "removing";
    case NumberState::kRemoved:
      return "removed";
  }
  return "?";
}

std::optional<uint32_t> Inventory::find(PackedPhone phone) const {
  auto it = by_phone_.find(phone);
  if (it == by_phone_.end() || numbers_[it->second].state == NumberState::kRemoved) {
    return std::nullopt;
  }
  return it->second;
}

std::optional<uint32_t> Inventory::subpool_for(Symbol country, Symbol pool, Symbol operator_name) {
  auto& list = pool_subpools_[key(country, pool)];
  for (uint32_t i : list) {
    if (subpools_[i].operator_name == operator_name) return i;
  }
  if (list.size() >= limits::kOperatorsPerPoolMax) return std::nullopt;
  auto index = static_cast<uint32_t>(subpools_.size());
  SubPool& sp = subpools_.emplace_back();
  sp.country = country;
  sp.pool = pool;
  sp.operator_name = operator_name;
  list.push_back(index);
  return index;
}

Error Inventory::add(PackedPhone phone, std::string_view country, std::string_view operator_name,
                     std::string_view pool, std::string_view supplier) {
  auto existing = by_phone_.find(phone);
  if (existing != by_phone_.end() && numbers_[existing->second].state != NumberState::kRemoved) {
    return Error::kNumberExists;
  }
  auto c = names_.countries.intern(country);
  auto o = names_.operators.intern(operator_name);
  auto p = names_.pools.intern(pool);
  auto s = names_.suppliers.intern(supplier);
  if (!c || !o || !p || !s) return Error::kBadRequest;
  auto sp = subpool_for(*c, *p, *o);
  if (!sp) return Error::kBadRequest;
  uint32_t index;
  if (existing != by_phone_.end()) {
    index = existing->second;  // a removed number comes back with its history of use
    --removed_;
  } else {
    SMSX_ASSERT(numbers_.size() < UINT32_MAX);
    index = static_cast<uint32_t>(numbers_.size());
    numbers_.emplace_back();
    by_phone_.emplace(phone, index);
  }
  Number& n = numbers_[index];
  n.phone = phone;
  n.subpool = *sp;
  n.supplier = *s;
  n.order = 0;
  append_free(index);
  return Error::kNone;
}

NumberState Inventory::remove(uint32_t index) {
  Number& n = numbers_[index];
  SMSX_ASSERT(n.state != NumberState::kRemoved);
  if (n.state == NumberState::kFree) {
    count_free(n, used_services(n), -1);
    live_entry(n).marks &= ~FreeLogEntry::kFreeEntryLive;
    n.state = NumberState::kRemoved;  // its log entry is now stale
    --free_;
    ++removed_;
  } else {
    n.state = NumberState::kRemoving;
  }
  return n.state;
}

Error Inventory::set_price(std::string_view service, std::string_view country,
                           std::string_view pool, uint32_t price, uint32_t payout) {
  SMSX_ASSERT(payout <= price);
  auto s = names_.services.intern(service);
  auto c = names_.countries.intern(country);
  auto p = names_.pools.intern(pool);
  if (!s || !c || !p) return Error::kBadRequest;
  auto& list = prices_[key(*s, *c)];
  auto it =
      std::find_if(list.begin(), list.end(), [&](const PriceEntry& e) { return e.pool == *p; });
  if (it == list.end()) {
    if (list.size() >= limits::kPoolsPerServiceCountryMax) return Error::kBadRequest;
    list.push_back(PriceEntry{*p, price, payout});
  } else {
    it->price = price;
    it->payout = payout;
  }
  // Cheapest first; equal prices by pool name, so the order never depends on interning.
  std::sort(list.begin(), list.end(), [&](const PriceEntry& a, const PriceEntry& b) {
    return std::tie(a.price, names_.pools.name(a.pool)) <
           std::tie(b.price, names_.pools.name(b.pool));
  });
  return Error::kNone;
}

const absl::InlinedVector<Symbol, 4>* Inventory::used_services(const Number& n) const {
  if (!n.ever_used) return nullptr;
  auto it = used_.find(static_cast<uint32_t>(&n - numbers_.data()));
  return it == used_.end() ? nullptr : &it->second;
}

bool Inventory::used_for(uint32_t index, Symbol service) const {
  const auto* used = used_services(numbers_[index]);
  return used != nullptr && std::find(used->begin(), used->end(), service) != used->end();
}

FreeLogEntry Inventory::free_entry(uint32_t index, uint64_t stamp,
                                   const absl::InlinedVector<Symbol, 4>* used) {
  FreeLogEntry e{.number = index, .marks = FreeLogEntry::kFreeEntryLive, .stamp = stamp};
  if (used != nullptr) {
    for (Symbol s : *used) {
      if (e.used_first == kNoSymbol) {
        e.used_first = s;
      } else {
        e.marks |= FreeLogEntry::used_others_bit(s);
      }
    }
  }
  return e;
}

FreeLogEntry& Inventory::live_entry(const Number& n) {
  SMSX_ASSERT(n.state == NumberState::kFree);
  std::vector<FreeLogEntry>& log = subpools_[n.subpool].log;
  auto it = std::lower_bound(log.begin(), log.end(), n.free_stamp,
                             [](const FreeLogEntry& e, uint64_t stamp) { return e.stamp < stamp; });
  SMSX_ASSERT(it != log.end() && it->stamp == n.free_stamp && it->live());
  return *it;
}

bool Inventory::can_serve(const FreeLogEntry& e, Symbol service) const {
  if (!e.live()) return false;
  switch (e.may_have_used(service)) {
    case FreeLogEntry::Use::kNo:
      return true;
    case FreeLogEntry::Use::kYes:
      return false;
    case FreeLogEntry::Use::kMaybe:
      break;
  }
  return !used_for(e.number, service);
}

std::optional<uint64_t> Inventory::first_eligible(SubPool& sp, Symbol service) {
  while (sp.head < sp.log.size() && !sp.log[sp.head].live()) ++sp.head;
  auto found = sp.cursor.find(service);
  uint64_t pos = found == sp.cursor.end() ? 0 : found->second;
  if (pos < sp.head) pos = sp.head;
  uint64_t start = found == sp.cursor.end() ? 0 : found->second;
  std::optional<uint64_t> result;
  for (; pos < sp.log.size(); ++pos) {
    if (can_serve(sp.log[pos], service)) {
      result = pos;
      break;
    }
  }
  if (pos != start) sp.cursor[service] = pos;
  return result;
}

Match Inventory::match(Symbol service, Symbol country, Symbol pool_filter, Symbol operator_filter,
                       std::optional<int64_t> max_price) {
  Match m;
  auto priced = prices_.find(key(service, country));
  if (service == kNoSymbol || country == kNoSymbol || priced == prices_.end()) {
    m.error = Error::kNoPrice;
    return m;
  }
  bool any_priced = false;
  for (const PriceEntry& e : priced->second) {  // cheapest first
    if (pool_filter != kNoSymbol && e.pool != pool_filter) continue;
    any_priced = true;
    auto subs = pool_subpools_.find(key(country, e.pool));
    if (subs == pool_subpools_.end()) continue;
    // Least recently used across the pool's operators: the smallest stamp wins.
    std::optional<uint32_t> best;
    uint64_t best_stamp = 0, best_pos = 0;
    for (uint32_t i : subs->second) {
      SubPool& sp = subpools_[i];
      if (operator_filter != kNoSymbol && sp.operator_name != operator_filter) continue;
      auto pos = first_eligible(sp, service);
      if (pos && (!best || sp.log[*pos].stamp < best_stamp)) {
        best = sp.log[*pos].number;
        best_stamp = sp.log[*pos].stamp;
        best_pos = *pos;
      }
    }
    if (!best) continue;
    if (max_price && e.price > *max_price) {
      // The cheapest pool that has a number is above the limit.
      m.error = Error::kMaxPriceTooLow;
      m.min_price = e.price;
      return m;
    }
    m.number = *best;
    m.log_pos = best_pos;
    m.price = e.price;
    m.payout = e.payout;
    return m;
  }
  m.error = any_priced ? Error::kNoNumbers : Error::kNoPrice;
  return m;
}

void Inventory::count_free(const Number& n, const absl::InlinedVector<Symbol, 4>* used, int delta) {
  SubPool& sp = subpools_[n.subpool];
  sp.free_count += delta;
  if (used == nullptr) return;
  for (Symbol s : *used) sp.add_free_used(s, delta);
}

void Inventory::take(const Match& m, uint64_t order) {
  Number& n = numbers_[m.number];
  SMSX_ASSERT(n.state == NumberState::kFree);
  FreeLogEntry& e = subpools_[n.subpool].log[m.log_pos];
  SMSX_ASSERT(e.number == m.number && e.stamp == n.free_stamp && e.live());
  e.marks &= ~FreeLogEntry::kFreeEntryLive;
  count_free(n, used_services(n), -1);
  n.state = NumberState::kBusy;
  n.order = order;
  --free_;
  ++busy_;
}

void Inventory::release(uint32_t index) {
  Number& n = numbers_[index];
  SMSX_ASSERT(n.state == NumberState::kBusy || n.state == NumberState::kRemoving);
  n.order = 0;
  --busy_;
  if (n.state == NumberState::kRemoving) {
    n.state = NumberState::kRemoved;
    ++removed_;
    return;
  }
  append_free(index);
}

void Inventory::append_free(uint32_t index) {
  Number& n = numbers_[index];
  n.state = NumberState::kFree;
  n.free_stamp = ++stamp_;
  SubPool& sp = subpools_[n.subpool];
  const auto* used = used_services(n);
  sp.log.push_back(free_entry(index, n.free_stamp, used));
  count_free(n, used, +1);
  ++free_;
  if (sp.log.size() > 2 * size_t{sp.free_count} + 64) compact(sp);
}

void Inventory::compact(SubPool& sp) {
  // In place: live entries move to the front. The head and every cursor become the number of
  // live entries before their old position; visiting them in position order alongside the
  // walk maps them without a table the size of the log.
  std::vector<uint64_t*> positions;
  positions.reserve(sp.cursor.size() + 1);
  positions.push_back(&sp.head);
  for (auto& [service, pos] : sp.cursor) positions.push_back(&pos);
  std::sort(positions.begin(), positions.end(),
            [](const uint64_t* a, const uint64_t* b) { return *a < *b; });
  size_t next = 0, kept = 0;
  for (size_t i = 0; i < sp.log.size(); ++i) {
    while (next < positions.size() && *positions[next] == i) *positions[next++] = kept;
    if (sp.log[i].live()) sp.log[kept++] = sp.log[i];
  }
  while (next < positions.size()) *positions[next++] = kept;  // at the end of the log
  SMSX_ASSERT(kept == sp.free_count);
  sp.log.resize(kept);
  // The capacity stays for the appends to come, unless the pool has shrunk a long way.
  if (sp.log.capacity() > 4 * kept + 1024) sp.log.shrink_to_fit();
}

void Inventory::mark_used(uint32_t index, Symbol service) {
  if (used_for(index, service)) return;
  Number& n = numbers_[index];
  n.ever_used = true;
  // Only a number with an order receives an SMS: a free number's entry describes its use
  // for the entry's whole life (FreeLogEntry), so its history must not change meanwhile.
  SMSX_ASSERT(n.state == NumberState::kBusy || n.state == NumberState::kRemoving);
  used_[index].push_back(service);
}

void Inventory::check_free_logs() const {
  for (uint32_t i = 0; i < subpools_.size(); ++i) {
    const SubPool& sp = subpools_[i];
    SMSX_ASSERT(sp.head <= sp.log.size());
    uint64_t live = 0, previous_stamp = 0;
    for (uint64_t pos = 0; pos < sp.log.size(); ++pos) {
      const FreeLogEntry& e = sp.log[pos];
      SMSX_ASSERT(e.stamp > previous_stamp);  // live_entry() searches by stamp
      previous_stamp = e.stamp;
      const Number& n = numbers_[e.number];
      const bool valid = n.state == NumberState::kFree && n.free_stamp == e.stamp;
      SMSX_ASSERT(e.live() == valid);
      if (!valid) continue;
      SMSX_ASSERT(n.subpool == i && pos >= sp.head);
      const FreeLogEntry described = free_entry(e.number, e.stamp, used_services(n));
      SMSX_ASSERT(e.used_first == described.used_first && e.marks == described.marks);
      ++live;
    }
    SMSX_ASSERT(live == sp.free_count);
    for (const auto& [service, pos] : sp.cursor) SMSX_ASSERT(pos <= sp.log.size());
  }
}

uint64_t Inventory::eligible_free(const SubPool& sp, Symbol service) const {
  return sp.free_count - (service < sp.free_used.size() ? sp.free_used[service] : 0);
}

std::vector<StockRow> Inventory::stock(std::string_view service, std::string_view country,
                                       std::string_view pool) const {
  std::vector<StockRow> rows;
  Symbol sf = service.empty() ? kNoSymbol : names_.services.find(service);
  Symbol cf = country.empty() ? kNoSymbol : names_.countries.find(country);
  Symbol pf = pool.empty() ? kNoSymbol : names_.pools.find(pool);
  if ((!service.empty() && sf == kNoSymbol) || (!country.empty() && cf == kNoSymbol) ||
      (!pool.empty() && pf == kNoSymbol)) {
    return rows;
  }
  for (const auto& [k, list] : prices_) {
    auto s = static_cast<Symbol>(k >> 16);
    auto c = static_cast<Symbol>(k & 0xffff);
    if ((sf != kNoSymbol && s != sf) || (cf != kNoSymbol && c != cf)) continue;
    for (const PriceEntry& e : list) {
      if (pf != kNoSymbol && e.pool != pf) continue;
      StockRow r{names_.services.name(s), names_.countries.name(c), names_.pools.name(e.pool),
                 e.price, 0};
      auto subs = pool_subpools_.find(key(c, e.pool));
      if (subs != pool_subpools_.end()) {
        for (uint32_t i : subs->second) r.free += eligible_free(subpools_[i], s);
      }
      rows.push_back(std::move(r));
    }
  }
  std::sort(rows.begin(), rows.end(), [](const StockRow& a, const StockRow& b) {
    return std::tie(a.service, a.country, a.price, a.pool) <
           std::tie(b.service, b.country, b.price, b.pool);
  });
  return rows;
}

}  // namespace smsx

// Inventory: phone numbers in pools, prices per (service, country, pool), and matching.
//
// Numbers are grouped by (country, pool, operator) into sub-pools. Each sub-pool keeps a
// free log: an append-only list of (number, stamp) entries written each time a number
// becomes free, so the log is in least-recently-used order. An entry is valid while its
// number is still free with the same stamp; taking a number makes its entry stale. Each
// entry also says whether it is still valid and which services its number was used for
// (FreeLogEntry), so the walk below reads the log in order and touches a number only when
// it takes it: at 10M numbers each number and use history read was a cache miss.
//
// Matching service S walks the log from S's cursor. Every entry the cursor passes is stale
// or belongs to a number already used for S; neither can ever serve S again (a freed
// number gets a new entry at the end, and "used for S" is permanent), so passing is final
// and the first valid, unused entry at the cursor is the least recently used number that
// can serve S. A shared head marks the prefix of entries that are stale for everyone
// (numbers are mostly taken from the front, least recently used first), so services jump
// over it together instead of each walking it: with many services sharing a pool a
// placement still costs O(1) amortised, as it does however large the pool is and however
// many of its numbers were used for S (each such entry is passed once by S's cursor). The
// log is compacted (stale entries dropped, head and cursors remapped) when it exceeds twice
// the free count, which bounds its memory and is paid for by the appends since the last
// compaction. The one case that costs more: a number that can serve no priced service stays
// at the front, stops the shared head, and each service then walks the holes behind it once.
//
// Single-threaded; owned by the Engine. Decisions never depend on hash-map iteration order.
#pragma once

#include <absl/container/flat_hash_map.h>
#include <absl/container/inlined_vector.h>

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "core/command.h"
#include "core/errors.h"
#include "core/names.h"
#include "core/phone.h"

namespace smsx {

enum class NumberState : uint8_t { kFree = 0, kBusy, kRemoving, kRemoved };

std::string_view number_state_name(NumberState s);

struct Number {
  PackedPhone phone = 0;
  uint64_t free_stamp = 0;  // stamp of its valid free-log entry while free
  uint64_t order = 0;       // active order while busy/removing
  uint32_t subpool = 0;
  Symbol supplier = 0;
  NumberState state = NumberState::kFree;
  bool ever_used = false;  // has an entry in used_: skips that lookup for fresh numbers
};

// A free-log entry. `number` and `stamp` are the state that snapshots and the digest carry;
// the rest is derived and kept true by the Inventory, so that matching decides on an entry
// from the log alone, read in order, without loading its number or its use history (each a
// cache miss once a pool has millions of numbers). `used_first` and the low bits of `marks`
// describe the services the number was used for when it became free; that set cannot grow
// while it is free (an SMS needs an active order), so the description stays exact for the
// entry's life. Inventory::check_free_logs() verifies all of it against the numbers.
struct FreeLogEntry {
  uint32_t number = 0;
  Symbol used_first = kNoSymbol;  // the first service it was used for, if any
  uint16_t marks = 0;             // kFreeEntryLive | used_others_bit(s) of every other one
  uint64_t stamp = 0;

  // The number is free with this stamp: the entry can be matched (otherwise it is stale).
  bool live() const { return (marks & kFreeEntryLive) != 0; }
  // Whether the number can serve `service`: kNo and kYes are exact, kMaybe needs the number's
  // use history (another used service shares the bit).
  enum class Use : uint8_t { kNo, kYes, kMaybe };
  Use may_have_used(Symbol service) const {
    if (used_first == service) return Use::kYes;
    return (marks & used_others_bit(service)) != 0 ? Use::kMaybe : Use::kNo;
  }

  static constexpr uint16_t kFreeEntryLive = 0x8000;
  static constexpr uint16_t used_others_bit(Symbol s) {
    return static_cast<uint16_t>(1U << (s % 15));
  }
};
static_assert(sizeof(FreeLogEntry) == 16);

struct SubPool {
  Symbol country = 0, pool = 0, operator_name = 0;
  std::vector<FreeLogEntry> log;
  uint64_t head = 0;  // every entry before it is stale: shared by all services' cursors
  absl::flat_hash_map<Symbol, uint64_t> cursor;  // per service; absent = 0
  // Free numbers already used, indexed by service symbol (absent past the end = 0). Dense:
  // every take and release of a used number adjusts one entry per service it served. Its
  // size is the highest service symbol used in the sub-pool: 4 bytes per service known when
  // that service was first used here (8 KiB with 2,000 services; 256 KiB at most).
  std::vector<uint32_t> free_used;
  uint32_t free_count = 0;

  void add_free_used(Symbol service, int delta) {
    if (service >= free_used.size()) free_used.resize(size_t{service} + 1);
    free_used[service] += static_cast<uint32_t>(delta);
  }
};

struct PriceEntry {
  Symbol pool = 0;
  uint32_t price = 0;
  uint32_t payout = 0;
};

struct Match {
  Error error = Error::kNone;
  uint32_t number = 0;
  uint64_t log_pos = 0;  // of the number's entry in its sub-pool's free log
  uint32_t price = 0, payout = 0;
  uint32_t min_price = 0;  // with kMaxPriceTooLow
};

struct NameTables {
  SymbolTable services, countries, pools, operators, suppliers;
};

class Inventory {
  friend class EngineSnapshot;  // core/engine_snapshot.cc saves and restores the state

 public:
  NameTables& names() { return names_; }
  const NameTables& names() const { return names_; }

  // The index of the number with this phone that is not removed, if any.
  std::optional<uint32_t> find(PackedPhone phone) const;
  const Number& number(uint32_t index) const { return numbers_[index]; }
  const SubPool& subpool(uint32_t index) const { return subpools_[index]; }
  size_t size() const { return numbers_.size(); }

  // Adds (or re-adds a removed) number. The caller validated the names; this interns them.
  // kNumberExists if the phone is present and not removed; kBadRequest if a name table or a
  // pool's operator list is full.
  Error add(PackedPhone phone, std::string_view country, std::string_view operator_name,
            std::string_view pool, std::string_view supplier);
  // Marks a free number removed, a busy one removing (it leaves when its order closes).
  NumberState remove(uint32_t index);

  // Sets the price of (service, country, pool); the caller checked 0 <= payout <= price.
  Error set_price(std::string_view service, std::string_view country, std::string_view pool,
                  uint32_t price, uint32_t payout);
  // Finds the number an order.place would get, without taking it. Error precedence as
  // PROTOCOL.md: kNoPrice, kNoNumbers, kMaxPriceTooLow.
  Match match(Symbol service, Symbol country, Symbol pool_filter, Symbol operator_filter,
              std::optional<int64_t> max_price);
  // Takes the number `m` found (it must still be free) for the order.
  void take(const Match& m, uint64_t order);
  // The number's order closed: it is free again (least recently used last) or removed.
  void release(uint32_t index);
  // The number's active order received an SMS for `service` (the number is not free).
  void mark_used(uint32_t index, Symbol service);
  bool used_for(uint32_t index, Symbol service) const;

  // Stock rows for every priced (service, country, pool) matching the filters (kNoSymbol =
  // any; a filter naming an unknown name matches nothing), sorted by service, country, price.
  std::vector<StockRow> stock(std::string_view service, std::string_view country,
                              std::string_view pool) const;

  uint64_t free_count() const { return free_; }
  uint64_t busy_count() const { return busy_; }
  uint64_t removed_count() const { return removed_; }

  // Asserts that every free-log entry's live mark and use summary agree with its number,
  // that each free number has one live entry, at or after the head, and that stamps
  // increase along each log (Engine::check_invariants).
  void check_free_logs() const;

  // Canonical iteration for the digest and snapshots.
  const std::vector<Number>& numbers() const { return numbers_; }
  const std::vector<SubPool>& subpools() const { return subpools_; }
  const std::map<uint32_t, std::vector<PriceEntry>>& prices() const { return prices_; }
  const absl::flat_hash_map<uint32_t, absl::InlinedVector<Symbol, 4>>& used() const {
    return used_;
  }

 private:
  static uint32_t key(Symbol a, Symbol b) { return (uint32_t{a} << 16) | b; }
  std::optional<uint32_t> subpool_for(Symbol country, Symbol pool, Symbol operator_name);
  // The log position of the least recently used number of `sp` that can serve `service`,
  // advancing the service's cursor past entries that never can.
  std::optional<uint64_t> first_eligible(SubPool& sp, Symbol service);
  uint64_t eligible_free(const SubPool& sp, Symbol service) const;
  void append_free(uint32_t index);
  // The number's free-log entry as written when it becomes free with `stamp`; `used` is
  // used_services() of the number (looked up once by callers that also need it).
  static FreeLogEntry free_entry(uint32_t index, uint64_t stamp,
                                 const absl::InlinedVector<Symbol, 4>* used);
  // The live entry of a free number (binary search: stamps increase along a log).
  FreeLogEntry& live_entry(const Number& n);
  bool can_serve(const FreeLogEntry& e, Symbol service) const;
  const absl::InlinedVector<Symbol, 4>* used_services(const Number& n) const;
  void compact(SubPool& sp);
  void count_free(const Number& n, const absl::InlinedVector<Symbol, 4>* used, int delta);

  NameTables names_;
  std::vector<Number> numbers_;
  absl::flat_hash_map<PackedPhone, uint32_t> by_phone_;  // includes removed (history kept)
  std::vector<SubPool> subpools_;
  absl::flat_hash_map<uint32_t, std::vector<uint32_t>> pool_subpools_;  // (country, pool)
  std::map<uint32_t, std::vector<PriceEntry>> prices_;  // (service, country) -> by price
  absl::flat_hash_map<uint32_t, absl::InlinedVector<Symbol, 4>> used_;  // number -> services
  uint64_t stamp_ = 0;
  uint64_t free_ = 0, busy_ = 0, removed_ = 0;
};

}  // namespace smsx

// Engine snapshots: the whole state in a canonical binary form, and loading it back with every
// reference and invariant checked (docs/wal_format.md, "Engine snapshot body").
//
// Only primary state is written; what follows from it is rebuilt on load: the by-phone
// index, sub-pools by (country, pool), free counts and per-service used counts, each
// number's order, accounts' deposit lists and active-order lists, deposit references, pending
// payouts, the active-order count, and the timing wheel (every active order rescheduled in
// order-id order, which is the wheel's FIFO order for equal deadlines, so future ticks
// expire the same orders in the same order).
//
// A body that passes its checksum is still checked completely: bounds, references between
// sections, and invariants 1-4 of DESIGN.md, because a loaded engine that broke them would
// abort (or worse) later, far from the cause. Checks cost O(1) per element. Loading allocates
// the state and, for a while, the two largest tables' entries once more (see sweep_sort),
// and reads a large request-id section on a second thread (see load_all).
#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <span>
#include <string>
#include <thread>

#include "core/assert.h"
#include "core/byte_io.h"
#include "core/engine.h"
#include "core/limits.h"
#include "core/phone.h"
#include "core/sweep_insert.h"

namespace smsx {
namespace {

constexpr char kMagic[] = "SMXE";  // 4 bytes, no terminator written
constexpr uint64_t kFormatVersion = 2;
// Format 1 kept every request key in the 'R' section (a placement's too) as a FIFO; still
// read, so that an upgraded node loads the snapshots it wrote before.
constexpr uint64_t kFormatVersionFifo = 1;
constexpr size_t kFlushBytes = 1 << 20;  // the save buffer's size before it goes to the sink
// A request-id section at least this large is loaded on a second thread (smaller ones are
// not worth starting one).
constexpr size_t kParallelRequestsBytes = 256 << 10;
// Hash-table work on millions of keys is bound by cache misses; prefetching this many keys
// ahead overlaps them (measured in bench/recovery_bench.cc).
constexpr size_t kPrefetchAhead = 16;

// One tag byte before each section: a misaligned reader fails at the next section.
constexpr uint8_t kSectionEngine = 'E';
constexpr uint8_t kSectionNames = 'N';
constexpr uint8_t kSectionLedger = 'L';
constexpr uint8_t kSectionInventory = 'I';
constexpr uint8_t kSectionOrders = 'O';
constexpr uint8_t kSectionRequests = 'R';
constexpr uint8_t kSectionEnd = 'Z';

// Per-order flags byte.
constexpr uint8_t kOrderStateMask = 0x07;
constexpr uint8_t kOrderExtras = 0x08;
constexpr uint8_t kOrderLifetime = 0x10;  // a lifetime differing from the previous order's
constexpr uint8_t kOrderKey = 0x20;       // the placement's request key follows (format 2)
// Per-number flags byte.
constexpr uint8_t kNumberStateMask = 0x03;
constexpr uint8_t kNumberEverUsed = 0x04;
// Per-request flags byte (format 1).
constexpr uint8_t kRequestRemembered = 0x01;
constexpr uint8_t kRequestHasOrder = 0x08;  // above the 3 bits of the state

// Phones are (digit count << 56 | value); written as (value << 4 | digit count), at most 8
// bytes.
uint64_t phone_code(PackedPhone phone) {
  return (phone & ((uint64_t{1} << 56) - 1)) << 4 | phone >> 56;
}

// A packed number of `digits_min`..`digits_max` digits whose value has at most that many.
bool valid_packed_digits(uint64_t packed, size_t digits_min, size_t digits_max) {
  const uint64_t len = packed >> 56;
  if (len < digits_min || len > digits_max) return false;
  uint64_t limit = 1;
  for (uint64_t i = 0; i < len; ++i) limit *= 10;
  return (packed & ((uint64_t{1} << 56) - 1)) < limit;
}

// Brings every cache line of *object closer, for writing.
template <class T>
void prefetch_object(const T* object) {
  const auto* bytes = reinterpret_cast<const char*>(object);
  for (size_t offset = 0; offset < sizeof(T); offset += 64) __builtin_prefetch(bytes + offset, 1);
  __builtin_prefetch(bytes + sizeof(T) - 1, 1);
}

bool valid_order_state(uint8_t s) { return s <= static_cast<uint8_t>(OrderState::kCredited); }

bool is_active(OrderState s) {
  return s == OrderState::kWaiting || s == OrderState::kReceived || s == OrderState::kRetry;
}

// Streams the body through a fixed buffer.
class SnapshotOut {
 public:
  explicit SnapshotOut(ByteSink& sink) : sink_(sink), writer_(&buffer_) {}
  ByteWriter& w() { return writer_; }
  // Hands the buffer to the sink once it is full; false once the sink failed.
  bool flush_if_full() { return writer_.size() < kFlushBytes || flush(); }
  bool flush() {
    ok_ = ok_ && (writer_.size() == 0 || sink_.write(writer_.written()));
    flushed_ += writer_.size();
    writer_.clear();
    return ok_;
  }
  // Bytes of the body so far.
  uint64_t offset() const { return flushed_ + writer_.size(); }

 private:
  ByteSink& sink_;
  std::vector<uint8_t> buffer_;
  ByteWriter writer_;  // into buffer_
  uint64_t flushed_ = 0;
  bool ok_ = true;
};

}  // namespace

class EngineSnapshot {
 public:
  static bool save(const Engine& e, ByteSink& sink);
  static std::unique_ptr<Engine> load(std::span<const uint8_t> body, const EngineConfig& config,
                                      std::string* error);

 private:
  // Reads `body`, which starts at byte `base` of the whole body (for error messages).
  EngineSnapshot(std::span<const uint8_t> body, Engine& e, uint64_t base = 0)
      : body_(body), r_(body), e_(e), base_(base) {}

  static void save_engine(const Engine& e, ByteWriter& w);
  static void save_names(const NameTables& names, ByteWriter& w);
  // Orders name their account by its position in the sorted account list: loading then
  // finds it with an array index (and can prefetch it) instead of a hash probe per order.
  using AccountIndex = absl::flat_hash_map<uint64_t, uint32_t>;
  static bool save_ledger(const Ledger& ledger, SnapshotOut& out, AccountIndex* index);
  static bool save_inventory(const Inventory& inv, SnapshotOut& out);
  static bool save_orders(const Engine& e, const AccountIndex& accounts, SnapshotOut& out);
  static bool save_requests(const Engine& e, SnapshotOut& out);

  bool load_all();
  std::span<const uint8_t> requests_section();
  void load_requests_and_end();
  std::string failure() const;
  void section(uint8_t tag);
  void load_engine();
  void load_names();
  void load_ledger();
  void load_accounts();
  void load_deposits_and_refunds();
  void load_inventory();
  void load_numbers();
  void load_free_logs();
  void load_prices();
  // An order read from the body, not yet placed in the store.
  struct PendingOrder {
    uint64_t id = 0, account = 0, expires_at_ms = 0;
    RequestKey key;  // empty: no remembered placement key
    uint64_t fingerprint = 0;
    Account* account_state = nullptr;
    std::unique_ptr<OrderExtras> extras;
    uint32_t lifetime_ms = 0, price = 0, payout = 0, number = 0, subpool = 0;
    Symbol service = 0;
    OrderState state = OrderState::kWaiting;
  };
  struct OrderCursor {
    uint64_t id = 0, created = 0, lifetime = 0;  // of the previous order
  };
  void load_orders();
  void decode_order(PendingOrder* p, OrderCursor* cursor);
  void restore_order(PendingOrder& p);
  void load_closed();
  void load_requests();
  void load_requests_fifo();  // format 1
  Engine::Remembered load_reply(ByteReader& r, uint64_t at);
  void index_requests();
  void check_ledger();
  Symbol symbol(const SymbolTable& table, const char* what);
  Order* restore_slot(uint64_t id);

  std::span<const uint8_t> body_;
  ByteReader r_;
  Engine& e_;
  const uint64_t base_;
  std::string failure_;  // the request-id section's error, when it failed on its own
  bool has_wheel_ = false;
  uint64_t wheel_now_ms_ = 0;
  std::vector<std::pair<Account*, Amount>> held_;  // by position: the account, its saved held
  std::vector<uint64_t> account_ids_;              // by position in the sorted list
  uint64_t closed_orders_ = 0;                     // orders not active
  uint64_t version_ = kFormatVersion;
  std::vector<RequestIndex::Item> place_keys_;  // of the orders, as loaded
  uint64_t first_keyed_ = 0;                    // the lowest id among them, 0 if none
  // Format 1: placements' keys from the request-id FIFO, given to their orders after both
  // sections are loaded (key, fingerprint, order id).
  struct FifoPlaceKey {
    RequestKey key;
    uint64_t fingerprint = 0, order = 0;
  };
  std::vector<FifoPlaceKey> fifo_place_keys_;
};

// ---- Saving ------------------------------------------------------------------------------

bool Engine::save(ByteSink& sink) const { return EngineSnapshot::save(*this, sink); }

bool EngineSnapshot::save(const Engine& e, ByteSink& sink) {
  SnapshotOut out(sink);
  out.w().raw(std::string_view(kMagic, 4));
  out.w().varint(kFormatVersion);
  save_engine(e, out.w());
  save_names(e.inventory_.names_, out.w());
  AccountIndex accounts;
  if (!save_ledger(e.ledger_, out, &accounts) || !save_inventory(e.inventory_, out) ||
      !save_orders(e, accounts, out)) {
    return false;
  }
  const uint64_t requests_at = out.offset();
  if (!save_requests(e, out)) return false;
  out.w().u8(kSectionEnd);
  out.w().fixed64(requests_at);  // so that loading can read that section on a second thread
  return out.flush();
}

void EngineSnapshot::save_engine(const Engine& e, ByteWriter& w) {
  w.u8(kSectionEngine);
  w.varint(e.now_ms_);
  w.u8(e.wheel_ ? 1 : 0);
  w.varint(e.wheel_ ? e.wheel_->now_ms() : 0);
  w.varint(e.last_order_id_);
  for (uint64_t v :
       {e.placed_, e.expired_, e.finished_, e.cancelled_, e.sms_delivered_, e.sms_dropped_}) {
    w.varint(v);
  }
}

void EngineSnapshot::save_names(const NameTables& names, ByteWriter& w) {
  w.u8(kSectionNames);
  for (const SymbolTable* t :
       {&names.services, &names.countries, &names.pools, &names.operators, &names.suppliers}) {
    w.varint(t->size());
    for (size_t s = 1; s <= t->size(); ++s) w.bytes(t->name(static_cast<Symbol>(s)));
  }
}

bool EngineSnapshot::save_ledger(const Ledger& ledger, SnapshotOut& out, AccountIndex* index) {
  ByteWriter& w = out.w();
  w.u8(kSectionLedger);
  const SystemAccounts& sys = ledger.system_;
  for (Amount v : {sys.deposits_in, sys.refunds_out, sys.revenue, sys.credits}) w.zigzag(v);
  std::vector<std::pair<Symbol, Amount>> suppliers(ledger.suppliers_.begin(),
                                                   ledger.suppliers_.end());
  std::sort(suppliers.begin(), suppliers.end());
  w.varint(suppliers.size());
  for (const auto& [s, v] : suppliers) w.varint(s), w.zigzag(v);
  const std::vector<uint64_t> ids = ledger.account_ids();
  index->reserve(ids.size());
  for (uint32_t i = 0; i < ids.size(); ++i) index->emplace(ids[i], i);
  w.varint(ids.size());
  uint64_t previous = 0;
  for (uint64_t id : ids) {
    const Account& a = ledger.accounts_.find(id)->second;
    w.varint(id - previous);
    w.zigzag(a.available), w.zigzag(a.held), w.zigzag(a.captured);
    previous = id;
    if (!out.flush_if_full()) return false;
  }
  w.varint(ledger.deposits_.size());
  for (const Deposit& d : ledger.deposits_) {
    w.varint(d.account), w.varint(d.at_ms), w.zigzag(d.amount);
    w.u8(static_cast<uint8_t>(d.method));
    w.bytes(d.ref), w.bytes(d.from_address), w.varint(d.refund);
    if (!out.flush_if_full()) return false;
  }
  w.varint(ledger.refunds_.size());
  for (const Refund& r : ledger.refunds_) {  // account, amount and method are the deposit's
    w.varint(r.deposit), w.varint(r.at_ms), w.bytes(r.destination);
    w.u8(r.paid ? 1 : 0), w.bytes(r.txid);
    if (!out.flush_if_full()) return false;
  }
  return true;
}

bool EngineSnapshot::save_inventory(const Inventory& inv, SnapshotOut& out) {
  ByteWriter& w = out.w();
  w.u8(kSectionInventory);
  w.varint(inv.stamp_);
  // Sub-pool identities first: numbers refer to them, their logs refer to numbers.
  w.varint(inv.subpools_.size());
  for (const SubPool& sp : inv.subpools_) {
    w.varint(sp.country), w.varint(sp.pool), w.varint(sp.operator_name);
  }
  w.varint(inv.numbers_.size());
  for (size_t i = 0; i < inv.numbers_.size(); ++i) {
    const Number& n = inv.numbers_[i];
    w.varint(phone_code(n.phone));
    w.u8(static_cast<uint8_t>(static_cast<uint8_t>(n.state) | (n.ever_used ? kNumberEverUsed : 0)));
    w.varint(n.free_stamp), w.varint(n.subpool), w.varint(n.supplier);
    if (n.ever_used) {  // services it received an SMS for, in the order they were added
      auto used = inv.used_.find(static_cast<uint32_t>(i));
      SMSX_ASSERT(used != inv.used_.end());
      const auto& services = used->second;
      w.varint(services.size());
      for (Symbol s : services) w.varint(s);
    }
    if (!out.flush_if_full()) return false;
  }
  std::vector<std::pair<Symbol, uint64_t>> cursors;
  for (const SubPool& sp : inv.subpools_) {
    w.varint(sp.head);
    w.varint(sp.log.size());
    uint64_t stamp = 0;
    for (const FreeLogEntry& entry : sp.log) {  // stamps strictly increase along a log
      w.varint(entry.number), w.varint(entry.stamp - stamp);
      stamp = entry.stamp;
      if (!out.flush_if_full()) return false;
    }
    cursors.assign(sp.cursor.begin(), sp.cursor.end());
    std::sort(cursors.begin(), cursors.end());
    w.varint(cursors.size());
    for (const auto& [service, pos] : cursors) w.varint(service), w.varint(pos);
  }
  w.varint(inv.prices_.size());
  for (const auto& [key, list] : inv.prices_) {
    w.varint(key), w.varint(list.size());
    for (const PriceEntry& p : list) w.varint(p.pool), w.varint(p.price), w.varint(p.payout);
  }
  return true;
}

bool EngineSnapshot::save_orders(const Engine& e, const AccountIndex& accounts, SnapshotOut& out) {
  ByteWriter& w = out.w();
  w.u8(kSectionOrders);
  w.varint(e.orders_.size());
  uint64_t previous_id = 0, previous_created = 0, previous_lifetime = 0;
  bool ok = true;
  e.orders_.for_each([&](const Order& o) {
    if (!ok) return;
    const uint64_t created = o.created_at_ms();
    const bool new_lifetime = o.lifetime_ms != previous_lifetime;
    uint8_t flags = static_cast<uint8_t>(o.state);
    if (o.extras) flags |= kOrderExtras;
    if (new_lifetime) flags |= kOrderLifetime;
    if (!o.key.empty()) flags |= kOrderKey;
    w.varint(o.id() - previous_id);
    w.u8(flags);
    auto account = accounts.find(o.account);
    SMSX_ASSERT(account != accounts.end());  // an order's account exists
    w.varint(account->second);
    w.zigzag(static_cast<int64_t>(created - previous_created));
    if (new_lifetime) w.varint(o.lifetime_ms);
    w.varint(o.price), w.varint(o.payout), w.varint(o.number), w.varint(o.subpool);
    w.varint(o.service);
    if (!o.key.empty()) w.fixed64(o.key.hi), w.fixed64(o.key.lo), w.fixed64(o.fingerprint);
    if (o.extras) {
      w.bytes(o.extras->dispute_reason);
      w.varint(o.extras->sms.size());
      for (const Sms& s : o.extras->sms) {
        w.varint(s.at_ms), w.bytes(s.sender), w.bytes(s.text);
        w.u8(s.code ? 1 : 0);
        if (s.code) w.bytes(*s.code);
      }
    }
    previous_id = o.id(), previous_created = created, previous_lifetime = o.lifetime_ms;
    ok = out.flush_if_full();
  });
  if (!ok) return false;
  w.varint(e.closed_.size());
  uint64_t previous_at = 0;
  previous_id = 0;
  for (const auto& [at, id] : e.closed_) {
    w.zigzag(static_cast<int64_t>(at - previous_at)),
        w.zigzag(static_cast<int64_t>(id - previous_id));
    previous_at = at, previous_id = id;
    if (!out.flush_if_full()) return false;
  }
  return true;
}

// The remembered replies of requests other than placements (whose keys are in the orders),
// oldest first.
bool EngineSnapshot::save_requests(const Engine& e, SnapshotOut& out) {
  ByteWriter& w = out.w();
  w.u8(kSectionRequests);
  w.varint(e.replies_.size());
  uint64_t previous_at = 0;
  for (const Engine::Remembered& m : e.replies_) {
    w.varint(m.at_ms - previous_at);  // remembered in time order
    previous_at = m.at_ms;
    w.fixed64(m.key.hi), w.fixed64(m.key.lo);
    w.fixed64(m.fingerprint);
    w.u8(static_cast<uint8_t>(m.op));
    w.u8(
        static_cast<uint8_t>(static_cast<uint8_t>(m.state) | (m.has_order ? kRequestHasOrder : 0)));
    w.varint(m.id), w.zigzag(m.available), w.zigzag(m.amount), w.varint(m.aux);
    if (!out.flush_if_full()) return false;
  }
  return true;
}

// ---- Loading -----------------------------------------------------------------------------

std::unique_ptr<Engine> Engine::load(std::span<const uint8_t> body, const EngineConfig& config,
                                     std::string* error) {
  return EngineSnapshot::load(body, config, error);
}

std::unique_ptr<Engine> EngineSnapshot::load(std::span<const uint8_t> body,
                                             const EngineConfig& config, std::string* error) {
  auto engine = std::make_unique<Engine>(config);
  EngineSnapshot loader(body, *engine);
  if (loader.load_all()) return engine;
  *error = "engine snapshot: " + loader.failure() + " of " + std::to_string(body.size());
  return nullptr;  // the partial engine is destroyed: its timers are unlinked first
}

// The remembered request ids depend only on the engine time and the refunds, which are read
// first, so a large request-id section is loaded on a second thread while this one loads
// the inventory and the orders; the two touch disjoint members of the engine, and the
// thread is joined before the engine is returned.
bool EngineSnapshot::load_all() {
  if (r_.raw(4) != std::string_view(kMagic, 4)) r_.fail("not an engine snapshot");
  if (r_.ok()) {
    version_ = r_.varint();
    if (version_ != kFormatVersion && version_ != kFormatVersionFifo) {
      r_.fail("unsupported engine snapshot version");
    }
  }
  load_engine();
  load_names();
  load_ledger();
  const std::span<const uint8_t> requests = requests_section();
  if (!r_.ok()) return false;
  const auto requests_at = static_cast<uint64_t>(requests.data() - body_.data());
  EngineSnapshot tail(requests, e_, requests_at);
  tail.version_ = version_;
  std::thread helper;
  if (requests.size() >= kParallelRequestsBytes) {
    helper = std::thread([&tail] { tail.load_requests_and_end(); });
  }
  load_inventory();
  load_orders();
  if (r_.ok() && r_.offset() != requests_at) r_.fail("sections overlap");
  if (helper.joinable()) {
    helper.join();
  } else if (r_.ok()) {
    tail.load_requests_and_end();
  }
  check_ledger();
  if (!r_.ok()) return false;
  if (!tail.r_.ok()) {
    failure_ = tail.failure();
    return false;
  }
  fifo_place_keys_ = std::move(tail.fifo_place_keys_);
  index_requests();
  return r_.ok();
}

// The request-id section, which the 8-byte trailer locates; it ends with the end tag.
std::span<const uint8_t> EngineSnapshot::requests_section() {
  if (!r_.ok()) return {};
  if (body_.size() < r_.offset() + 2 + 8) return r_.fail("no trailer"), std::span<const uint8_t>();
  uint64_t at;
  std::memcpy(&at, body_.data() + body_.size() - 8, 8);
  if (at < r_.offset() || at > body_.size() - 8 - 2) {
    return r_.fail("bad request-id section offset"), std::span<const uint8_t>();
  }
  return body_.subspan(at, body_.size() - 8 - at);
}

void EngineSnapshot::load_requests_and_end() {
  load_requests();
  section(kSectionEnd);
  if (r_.ok() && !r_.at_end()) r_.fail("trailing bytes");
}

std::string EngineSnapshot::failure() const {
  if (!failure_.empty()) return failure_;
  return std::string(r_.error()) + " at byte " + std::to_string(base_ + r_.error_offset());
}

void EngineSnapshot::section(uint8_t tag) {
  if (r_.u8() != tag) r_.fail("section tag expected");
}

Symbol EngineSnapshot::symbol(const SymbolTable& table, const char* what) {
  const uint64_t s = r_.varint();
  if (s == kNoSymbol || s > table.size()) return r_.fail(what), kNoSymbol;
  return static_cast<Symbol>(s);
}

void EngineSnapshot::load_engine() {
  section(kSectionEngine);
  e_.now_ms_ = r_.varint_max(timers::TimingWheel::kTimeMaxMs - 1, "engine time too large");
  const uint8_t has_wheel = r_.u8();
  wheel_now_ms_ = r_.varint_max(e_.now_ms_, "wheel time after engine time");
  if (has_wheel > 1 || (!has_wheel && wheel_now_ms_ != 0)) r_.fail("bad wheel");
  has_wheel_ = has_wheel == 1;
  // Far below 2^64, so that ids after it never wrap (and a cursor one past it stays valid).
  e_.last_order_id_ = r_.varint_max(uint64_t{1} << 62, "last order id too large");
  for (uint64_t* v : {&e_.placed_, &e_.expired_, &e_.finished_, &e_.cancelled_, &e_.sms_delivered_,
                      &e_.sms_dropped_}) {
    *v = r_.varint();
  }
  if (r_.ok() && has_wheel_) e_.wheel_ = std::make_unique<timers::TimingWheel>(wheel_now_ms_);
}

void EngineSnapshot::load_names() {
  section(kSectionNames);
  NameTables& names = e_.inventory_.names_;
  for (SymbolTable* t :
       {&names.services, &names.countries, &names.pools, &names.operators, &names.suppliers}) {
    const bool supplier = t == &names.suppliers;  // gateway names: any non-empty string
    const uint64_t count = r_.count(2, "too many names");
    if (count > limits::kNamesPerKindMax) r_.fail("too many names");
    for (uint64_t i = 0; i < count && r_.ok(); ++i) {
      const std::string_view name =
          r_.bytes(supplier ? SIZE_MAX : limits::kNameBytesMax, "name too long");
      if (r_.ok() && (supplier ? name.empty() : !valid_name(name))) r_.fail("invalid name");
      if (r_.ok() && t->intern(name) != i + 1) r_.fail("duplicate name");
    }
  }
}

void EngineSnapshot::load_ledger() {
  section(kSectionLedger);
  Ledger& ledger = e_.ledger_;
  SystemAccounts& sys = ledger.system_;
  for (Amount* v : {&sys.deposits_in, &sys.refunds_out, &sys.revenue, &sys.credits}) {
    *v = r_.zigzag();
  }
  const uint64_t suppliers = r_.count(2, "too many suppliers");
  Symbol previous = kNoSymbol;
  for (uint64_t i = 0; i < suppliers && r_.ok(); ++i) {
    const Symbol s = symbol(e_.inventory_.names_.suppliers, "bad supplier");
    const Amount payable = r_.zigzag();
    if (r_.ok() && (s <= previous || payable < 0)) r_.fail("bad supplier balance");
    ledger.suppliers_.emplace(s, payable);
    previous = s;
  }
  load_accounts();
  load_deposits_and_refunds();
}

void EngineSnapshot::load_accounts() {
  Ledger& ledger = e_.ledger_;
  const uint64_t count = r_.count(4, "too many accounts");
  ledger.accounts_.reserve(count);
  held_.reserve(count);
  account_ids_.reserve(count);
  uint64_t id = 0;
  for (uint64_t i = 0; i < count && r_.ok(); ++i) {
    const uint64_t delta = r_.varint();
    Account a;
    a.available = r_.zigzag();
    const Amount held = r_.zigzag();
    a.captured = r_.zigzag();
    if ((i > 0 && delta == 0) || delta > UINT64_MAX - id) r_.fail("account ids out of order");
    if (a.available < 0 || held < 0 || a.captured < 0) r_.fail("negative account balance");
    if (!r_.ok()) break;
    id += delta;
    Account& placed = ledger.accounts_.emplace(id, std::move(a)).first->second;
    held_.emplace_back(&placed, held);  // held is rebuilt from active orders and compared
    account_ids_.push_back(id);
  }
}

void EngineSnapshot::load_deposits_and_refunds() {
  Ledger& ledger = e_.ledger_;
  const uint64_t deposits = r_.count(7, "too many deposits");
  for (uint64_t i = 0; i < deposits && r_.ok(); ++i) {
    Deposit d;
    d.id = i + 1;
    d.account = r_.varint();
    d.at_ms = r_.varint();
    d.amount = r_.zigzag();
    const uint8_t method = r_.u8();
    d.ref = r_.bytes(limits::kRefBytesMax, "ref too long");
    d.from_address = r_.bytes(limits::kAddressBytesMax, "address too long");
    d.refund = r_.varint();
    Account* a = ledger.find(d.account);
    if (r_.ok() && a == nullptr) r_.fail("deposit of an unknown account");
    if (d.amount <= 0 || d.amount > limits::kAmountMax) r_.fail("bad deposit amount");
    if (method != static_cast<uint8_t>(PayMethod::kCard) &&
        method != static_cast<uint8_t>(PayMethod::kCrypto)) {
      r_.fail("bad deposit method");
    }
    if (d.ref.empty() || ledger.ref_seen(d.ref)) r_.fail("empty or duplicate deposit ref");
    if (!r_.ok()) break;
    d.method = static_cast<PayMethod>(method);
    a->deposits.push_back(d.id);
    Deposit& kept = ledger.deposits_.emplace_back(std::move(d));
    ledger.refs_.emplace(kept.ref, kept.id);
  }
  const uint64_t refunds = r_.count(5, "too many refunds");
  for (uint64_t i = 0; i < refunds && r_.ok(); ++i) {
    Refund r;
    r.id = i + 1;
    r.deposit = r_.varint();
    r.at_ms = r_.varint();
    r.destination = r_.bytes(std::max(limits::kAddressBytesMax, limits::kRefBytesMax),
                             "refund destination too long");
    const uint8_t paid = r_.u8();
    r.txid = r_.bytes(limits::kRefBytesMax, "txid too long");
    Deposit* d = ledger.deposit(r.deposit);
    if (r_.ok() && (d == nullptr || d->refund != r.id || paid > 1)) r_.fail("bad refund");
    if (!r_.ok()) break;
    r.account = d->account;
    r.amount = d->amount;
    r.method = d->method;
    r.paid = paid == 1;
    Refund& kept = ledger.refunds_.emplace_back(std::move(r));
    if (!kept.paid) ledger.pending_.emplace(kept.id, &kept);
  }
  for (const Deposit& d : ledger.deposits_) {
    if (d.refund > ledger.refunds_.size() ||
        (d.refund != 0 && ledger.refunds_[d.refund - 1].deposit != d.id)) {
      r_.fail("deposit names another deposit's refund");
    }
  }
}

// Invariant 1 and the system accounts that follow from deposits and refunds, with every sum
// checked for overflow; then invariant 2 (held = prices of active orders, rebuilt by
// load_orders into each account's held).
void EngineSnapshot::check_ledger() {
  if (!r_.ok()) return;
  const Ledger& ledger = e_.ledger_;
  // A sum that overflowed stays empty.
  auto add = [](std::optional<Amount>& sum, Amount v) {
    if (sum) sum = checked_add(*sum, v);
  };
  std::optional<Amount> deposited = 0, refunded = 0;
  for (const Deposit& d : ledger.deposits_) add(deposited, d.amount);
  for (const Refund& r : ledger.refunds_) add(refunded, r.amount);
  if (!deposited || !refunded || ledger.system_.deposits_in != -*deposited ||
      ledger.system_.refunds_out != *refunded) {
    return r_.fail("system accounts disagree with deposits and refunds");
  }
  const SystemAccounts& sys = ledger.system_;
  std::optional<Amount> total = 0;
  for (Amount v : {sys.deposits_in, sys.refunds_out, sys.revenue, sys.credits}) add(total, v);
  for (const auto& [s, v] : ledger.suppliers_) add(total, v);
  for (const auto& [account, held] : held_) {
    if (account->held != held) return r_.fail("held differs from the active orders' prices");
    add(total, account->available);
    add(total, account->held);
  }
  if (total != Amount{0}) r_.fail("balances do not sum to zero");
}

void EngineSnapshot::load_inventory() {
  section(kSectionInventory);
  Inventory& inv = e_.inventory_;
  inv.stamp_ = r_.varint();
  const uint64_t subpools = r_.count(3, "too many sub-pools");
  inv.subpools_.reserve(subpools);
  for (uint64_t i = 0; i < subpools && r_.ok(); ++i) {
    SubPool& sp = inv.subpools_.emplace_back();
    sp.country = symbol(inv.names_.countries, "bad sub-pool country");
    sp.pool = symbol(inv.names_.pools, "bad sub-pool pool");
    sp.operator_name = symbol(inv.names_.operators, "bad sub-pool operator");
    auto& list = inv.pool_subpools_[Inventory::key(sp.country, sp.pool)];
    for (uint32_t other : list) {
      if (inv.subpools_[other].operator_name == sp.operator_name) r_.fail("duplicate sub-pool");
    }
    if (list.size() >= limits::kOperatorsPerPoolMax) r_.fail("too many operators in a pool");
    list.push_back(static_cast<uint32_t>(i));
  }
  load_numbers();
  load_free_logs();
  load_prices();
}

void EngineSnapshot::load_numbers() {
  Inventory& inv = e_.inventory_;
  const uint64_t count = r_.count(5, "too many numbers");
  if (count > UINT32_MAX) r_.fail("too many numbers");
  if (!r_.ok()) return;
  inv.numbers_.resize(count);
  inv.by_phone_.reserve(count);
  for (uint64_t i = 0; i < count && r_.ok(); ++i) {
    Number& n = inv.numbers_[i];
    const uint64_t code = r_.varint();
    n.phone = (code & 0xf) << 56 | code >> 4;
    const uint8_t flags = r_.u8();
    n.free_stamp = r_.varint_max(inv.stamp_, "number stamp after the last stamp");
    n.subpool = static_cast<uint32_t>(r_.varint_max(inv.subpools_.size(), "bad number sub-pool"));
    n.supplier = symbol(inv.names_.suppliers, "bad number supplier");
    if (!valid_packed_digits(n.phone, limits::kPhoneDigitsMin, limits::kPhoneDigitsMax) ||
        (code >> 4) >> 56 != 0) {
      r_.fail("bad phone");
    }
    if ((flags & ~(kNumberStateMask | kNumberEverUsed)) != 0 || n.subpool == inv.subpools_.size()) {
      r_.fail("bad number");
    }
    if (!r_.ok()) break;
    n.state = static_cast<NumberState>(flags & kNumberStateMask);
    n.ever_used = (flags & kNumberEverUsed) != 0;
    auto* used = n.ever_used ? &inv.used_[static_cast<uint32_t>(i)] : nullptr;
    if (used != nullptr) {
      const uint64_t services = r_.count(1, "too many used services");
      if (services == 0) r_.fail("ever used without services");
      for (uint64_t k = 0; k < services && r_.ok(); ++k) {
        const Symbol s = symbol(inv.names_.services, "bad used service");
        if (std::find(used->begin(), used->end(), s) != used->end()) r_.fail("service used twice");
        used->push_back(s);
      }
    }
    switch (n.state) {  // counts that follow from the states
      case NumberState::kFree: {
        ++inv.free_;
        SubPool& sp = inv.subpools_[n.subpool];
        ++sp.free_count;
        if (used != nullptr) {
          for (Symbol s : *used) sp.add_free_used(s, +1);
        }
        break;
      }
      case NumberState::kBusy:
      case NumberState::kRemoving:
        ++inv.busy_;
        break;
      case NumberState::kRemoved:
        ++inv.removed_;
        break;
    }
  }
  // The by-phone index (removed numbers included: their history of use is kept).
  if (!r_.ok()) return;
  std::vector<std::pair<PackedPhone, uint32_t>> phones(inv.numbers_.size());
  for (uint32_t i = 0; i < phones.size(); ++i) phones[i] = {inv.numbers_[i].phone, i};
  sweep_sort(inv.by_phone_, std::span(phones), [](const auto& p) { return p.first; });
  for (const auto& [phone, index] : phones) {
    if (!inv.by_phone_.emplace(phone, index).second) return r_.fail("duplicate phone");
  }
}

// Every free number must have exactly one valid entry, in its own sub-pool's log: matching
// takes numbers from the logs and compaction checks the count.
void EngineSnapshot::load_free_logs() {
  Inventory& inv = e_.inventory_;
  for (uint32_t i = 0; i < inv.subpools_.size() && r_.ok(); ++i) {
    SubPool& sp = inv.subpools_[i];
    sp.head = r_.varint();
    const uint64_t entries = r_.count(2, "free log longer than the body");
    sp.log.reserve(entries);
    uint64_t stamp = 0, valid = 0;
    for (uint64_t k = 0; k < entries && r_.ok(); ++k) {
      FreeLogEntry entry;
      entry.number =
          static_cast<uint32_t>(r_.varint_max(inv.numbers_.size(), "bad free-log number"));
      const uint64_t delta = r_.varint();
      if (r_.ok() &&
          (entry.number == inv.numbers_.size() || delta == 0 || delta > inv.stamp_ - stamp)) {
        r_.fail("bad free-log entry");
      }
      if (!r_.ok()) break;
      stamp += delta;
      entry.stamp = stamp;
      const Number& n = inv.numbers_[entry.number];
      if (n.state == NumberState::kFree && n.free_stamp == stamp) {
        if (n.subpool != i) r_.fail("free-log entry in another sub-pool");
        // Matching never looks before the head: a free number there could not be sold.
        if (k < sp.head) r_.fail("free-log head past a free number");
        // Live, with its use described.
        entry = Inventory::free_entry(entry.number, stamp, inv.used_services(n));
        ++valid;
      }
      sp.log.push_back(entry);
    }
    if (r_.ok() && (valid != sp.free_count || sp.head > sp.log.size())) {
      r_.fail("free log does not match the free numbers");
    }
    const uint64_t cursors = r_.count(2, "too many cursors");
    Symbol previous = kNoSymbol;
    for (uint64_t k = 0; k < cursors && r_.ok(); ++k) {
      const Symbol service = symbol(inv.names_.services, "bad cursor service");
      const uint64_t pos = r_.varint_max(sp.log.size(), "cursor past the log");
      if (r_.ok() && service <= previous) r_.fail("cursors out of order");
      sp.cursor.emplace(service, pos);
      previous = service;
    }
  }
}

void EngineSnapshot::load_prices() {
  Inventory& inv = e_.inventory_;
  const uint64_t count = r_.count(2, "too many price lists");
  uint64_t previous = 0;
  for (uint64_t i = 0; i < count && r_.ok(); ++i) {
    const uint64_t key = r_.varint_max(UINT32_MAX, "bad price key");
    const auto service = static_cast<Symbol>(key >> 16);
    const auto country = static_cast<Symbol>(key & 0xffff);
    if ((i > 0 && key <= previous) || service == kNoSymbol ||
        service > inv.names_.services.size() || country == kNoSymbol ||
        country > inv.names_.countries.size()) {
      r_.fail("bad price key");
    }
    previous = key;
    const uint64_t entries = r_.count(3, "too many prices");
    if (entries > limits::kPoolsPerServiceCountryMax) r_.fail("too many pools priced");
    if (!r_.ok()) break;
    auto& list = inv.prices_[static_cast<uint32_t>(key)];
    for (uint64_t k = 0; k < entries && r_.ok(); ++k) {
      PriceEntry p;
      p.pool = symbol(inv.names_.pools, "bad priced pool");
      p.price = static_cast<uint32_t>(r_.varint_max(limits::kPriceMax, "price too large"));
      p.payout = static_cast<uint32_t>(r_.varint_max(p.price, "payout above price"));
      list.push_back(p);
    }
  }
}

// Orders arrive in id order, so chunks are appended: a chunk with no live order stays
// unmapped (as OrderStore frees it), whatever the gap between live ids. The slot becomes
// live when restore_order() gives it its lifetime.
Order* EngineSnapshot::restore_slot(uint64_t id) { return e_.orders_.slot_for(id); }

// Orders go through a short pipeline: each is decoded kPrefetchAhead orders before it is
// linked, and its account's slot and its number are prefetched when decoded, so the cache
// misses of many orders overlap instead of adding up.
void EngineSnapshot::load_orders() {
  section(kSectionOrders);
  const uint64_t count = r_.count(8, "too many orders");
  if (r_.ok()) place_keys_.reserve(count);
  std::array<PendingOrder, kPrefetchAhead> ring;
  OrderCursor cursor;
  for (uint64_t i = 0; i < count + kPrefetchAhead && r_.ok(); ++i) {
    PendingOrder& slot = ring[i % kPrefetchAhead];
    if (i >= kPrefetchAhead) restore_order(slot);
    if (i < count && r_.ok()) decode_order(&slot, &cursor);
    // Halfway: the account has arrived; fetch the order its active list ends with.
    if (i >= kPrefetchAhead / 2 && i - kPrefetchAhead / 2 < count) {
      const PendingOrder& half = ring[(i - kPrefetchAhead / 2) % kPrefetchAhead];
      if (half.account_state != nullptr && half.account_state->active_tail != nullptr) {
        prefetch_object(half.account_state->active_tail);
      }
    }
  }
  if (r_.ok()) {
    e_.orders_.last_id_ = e_.last_order_id_;
    for (const Number& n : e_.inventory_.numbers_) {
      const bool busy = n.state == NumberState::kBusy || n.state == NumberState::kRemoving;
      if (busy && n.order == 0) r_.fail("busy number without an active order");
    }
  }
  load_closed();
}

// Reads one order and checks what needs no other order; ids, creation times and lifetimes
// are relative to the previous order's (*cursor).
void EngineSnapshot::decode_order(PendingOrder* p, OrderCursor* cursor) {
  Inventory& inv = e_.inventory_;
  const uint64_t delta = r_.varint();
  const uint8_t flags = r_.u8();
  const uint64_t account = r_.varint_max(held_.size(), "bad order account");
  // Orders are placed in id order at a monotonic engine time (eviction of their request
  // keys, oldest first, relies on it).
  const int64_t created_delta = r_.zigzag();
  if (r_.ok() && created_delta < 0) r_.fail("order created before the previous one");
  cursor->created += static_cast<uint64_t>(created_delta);
  if (flags & kOrderLifetime) cursor->lifetime = r_.varint_max(UINT32_MAX, "lifetime too long");
  p->price = static_cast<uint32_t>(r_.varint_max(limits::kPriceMax, "order price too large"));
  p->payout = static_cast<uint32_t>(r_.varint_max(p->price, "order payout above price"));
  p->number = static_cast<uint32_t>(r_.varint_max(inv.numbers_.size(), "bad order number"));
  p->subpool = static_cast<uint32_t>(r_.varint_max(inv.subpools_.size(), "bad order sub-pool"));
  p->service = symbol(inv.names_.services, "bad order service");
  p->key = {};
  p->fingerprint = 0;
  if (flags & kOrderKey) {
    p->key = RequestKey{r_.fixed64(), r_.fixed64()};
    p->fingerprint = r_.fixed64();
    if (r_.ok() && p->key.empty()) r_.fail("bad order request key");
  }
  if (r_.ok() && (delta == 0 || delta > e_.last_order_id_ - cursor->id)) r_.fail("bad order id");
  const uint8_t known = kOrderStateMask | kOrderExtras | kOrderLifetime |
                        (version_ == kFormatVersionFifo ? 0 : kOrderKey);
  if ((flags & ~known) != 0 || !valid_order_state(flags & kOrderStateMask)) {
    r_.fail("bad order flags");
  }
  if (cursor->lifetime == 0 || cursor->created > UINT64_MAX - cursor->lifetime) {
    r_.fail("bad order lifetime");
  }
  if (r_.ok() && (p->number == inv.numbers_.size() || p->subpool == inv.subpools_.size() ||
                  account == held_.size())) {
    r_.fail("bad order references");
  }
  if (!r_.ok()) return;
  cursor->id += delta;
  p->id = cursor->id;
  p->state = static_cast<OrderState>(flags & kOrderStateMask);
  p->lifetime_ms = static_cast<uint32_t>(cursor->lifetime);
  p->expires_at_ms = cursor->created + cursor->lifetime;
  p->account = account_ids_[account];
  p->account_state = held_[account].first;
  prefetch_object(p->account_state);
  prefetch_object(&inv.numbers_[p->number]);
  p->extras.reset();
  if (!(flags & kOrderExtras)) return;
  p->extras = std::make_unique<OrderExtras>();
  p->extras->dispute_reason = r_.bytes(limits::kDisputeReasonBytesMax, "reason too long");
  const uint64_t sms = r_.count(4, "too many SMS");
  if (sms > limits::kSmsPerOrderMax) r_.fail("too many SMS");
  for (uint64_t k = 0; k < sms && r_.ok(); ++k) {
    Sms& s = p->extras->sms.emplace_back();
    s.at_ms = r_.varint();
    s.sender = r_.bytes(limits::kSmsSenderBytesMax, "sender too long");
    s.text = r_.bytes(limits::kSmsTextBytesMax, "SMS text too long");
    const uint8_t has_code = r_.u8();
    if (has_code > 1) r_.fail("bad code flag");
    if (has_code == 1) s.code = std::string(r_.bytes(8, "code too long"));
  }
}

// Places a decoded order in the store and links an active one to its account, its number
// and the wheel.
void EngineSnapshot::restore_order(PendingOrder& p) {
  Account* a = p.account_state;
  Order* o = restore_slot(p.id);
  o->account = p.account;
  o->timer.deadline_ms = p.expires_at_ms;  // scheduled below if active
  o->extras = std::move(p.extras);
  o->key = p.key;
  o->fingerprint = p.fingerprint;
  if (!p.key.empty()) {
    // Remembered ids are recent: the index names an order by its id's low bits.
    if (e_.last_order_id_ - p.id > RequestIndex::kRefMask) return r_.fail("request key too old");
    if (first_keyed_ == 0) first_keyed_ = p.id;  // orders come in id order
    place_keys_.push_back({p.key, RequestIndex::order_ref(p.id)});
  }
  o->lifetime_ms = p.lifetime_ms;
  o->price = p.price;
  o->payout = p.payout;
  o->number = p.number;
  o->subpool = p.subpool;
  o->service = p.service;
  o->state = p.state;
  if (!is_active(o->state)) {
    ++closed_orders_;
    return;
  }
  Number& n = e_.inventory_.numbers_[o->number];
  const bool busy = n.state == NumberState::kBusy || n.state == NumberState::kRemoving;
  if (!busy || n.order != 0) return r_.fail("active order's number is not its own");
  if (!has_wheel_ || p.expires_at_ms < wheel_now_ms_ ||
      p.expires_at_ms - wheel_now_ms_ >= timers::TimingWheel::kRangeMs) {
    return r_.fail("active order's deadline is outside the wheel");
  }
  if (a->active_count >= limits::kActiveOrdersPerAccountMax) {
    return r_.fail("too many active orders on an account");
  }
  n.order = o->id();
  o->account_prev = a->active_tail;
  (a->active_tail ? a->active_tail->account_next : a->active_head) = o;
  a->active_tail = o;
  ++a->active_count;
  a->held += o->price;  // bounded: at most 100,000 prices of < 2^31 each
  e_.wheel_->schedule(&o->timer, p.expires_at_ms);
  ++e_.active_orders_;
}

// The retention queue must list every closed order exactly once. Closed orders are in no
// account's list, so their `account_next` marks "seen" (pointing at the order itself) during
// the check and is cleared after.
void EngineSnapshot::load_closed() {
  const uint64_t count = r_.count(2, "too many closed orders");
  if (r_.ok() && count != closed_orders_) r_.fail("retention queue misses closed orders");
  uint64_t at = 0, id = 0;
  for (uint64_t i = 0; i < count && r_.ok(); ++i) {
    const int64_t at_delta = r_.zigzag();  // closed (or re-queued) in time order
    at += static_cast<uint64_t>(at_delta);
    id += static_cast<uint64_t>(r_.zigzag());
    Order* o = e_.orders_.find(id);
    if (r_.ok() && (at_delta < 0 || at > e_.now_ms_ || o == nullptr || o->active() ||
                    o->account_next != nullptr || at < o->created_at_ms())) {
      r_.fail("bad retention queue entry");
    }
    if (!r_.ok()) break;
    o->account_next = o;
    e_.closed_.emplace_back(at, id);
  }
  for (const auto& [closed_at, closed_id] : e_.closed_) {
    e_.orders_.find(closed_id)->account_next = nullptr;
  }
}

// The remembered replies, oldest first. They go into the request index with the
// placements' keys once the orders are loaded too (index_requests).
void EngineSnapshot::load_requests() {
  if (version_ == kFormatVersionFifo) return load_requests_fifo();
  section(kSectionRequests);
  const uint64_t count = r_.count(20, "too many request ids");
  uint64_t at = 0;
  for (uint64_t i = 0; i < count && r_.ok(); ++i) {
    at += r_.varint();
    const RequestKey key{r_.fixed64(), r_.fixed64()};
    if (r_.ok() && (at > e_.now_ms_ || key.empty())) r_.fail("bad request id");
    if (!r_.ok()) break;
    Engine::Remembered m = load_reply(r_, at);
    if (r_.ok() && m.op == Op::kOrderPlace) r_.fail("a placement's reply outside its order");
    m.key = key;
    e_.replies_.push_back(m);
  }
}

// Format 1: the FIFO of request keys, each with its remembered reply unless evicted. A
// placement's key goes to its order (index_requests); an order already evicted had
// forgotten it.
void EngineSnapshot::load_requests_fifo() {
  section(kSectionRequests);
  const uint64_t remembered = r_.varint();
  const uint64_t count = r_.count(18, "too many request ids");
  if (remembered > count || count > UINT32_MAX) r_.fail("bad request id count");
  uint64_t at = 0;
  for (uint64_t i = 0; i < count && r_.ok(); ++i) {
    const int64_t at_delta = r_.zigzag();  // the FIFO is in time order
    at += static_cast<uint64_t>(at_delta);
    const RequestKey key{r_.fixed64(), r_.fixed64()};
    const uint8_t flags = r_.u8();
    if (r_.ok() && (at_delta < 0 || at > e_.now_ms_ || key.empty() || flags > kRequestRemembered)) {
      r_.fail("bad request id");
    }
    if (!r_.ok() || flags == 0) continue;
    Engine::Remembered m = load_reply(r_, at);
    m.at_ms = at + static_cast<uint64_t>(r_.zigzag());
    if (r_.ok() && m.at_ms > e_.now_ms_) r_.fail("bad remembered reply");
    if (m.op == Op::kOrderPlace) {
      fifo_place_keys_.push_back({key, m.fingerprint, m.id});
    } else if (m.at_ms == at) {  // a key queued twice is a placement's: never here
      m.key = key;
      e_.replies_.push_back(m);
    }
  }
}

// Puts every remembered key in the request index: the placements' (in their orders) and
// the other replies'. A key remembered twice is refused.
void EngineSnapshot::index_requests() {
  uint64_t first_keyed = first_keyed_ != 0 ? first_keyed_ : e_.last_order_id_ + 1;
  for (const FifoPlaceKey& k : fifo_place_keys_) {
    Order* o = e_.orders_.find(k.order);
    if (o == nullptr) continue;  // evicted first: forgotten
    if (!o->key.empty()) {
      if (o->key == k.key && o->fingerprint == k.fingerprint) continue;  // queued twice
      return r_.fail("an order with two request ids");
    }
    if (e_.last_order_id_ - k.order > RequestIndex::kRefMask) return r_.fail("request key too old");
    o->key = k.key;
    o->fingerprint = k.fingerprint;
    first_keyed = std::min(first_keyed, k.order);
    place_keys_.push_back({k.key, RequestIndex::order_ref(k.order)});
  }
  std::vector<RequestIndex::Item> items = std::move(place_keys_);
  items.reserve(items.size() + e_.replies_.size());
  uint64_t seq = e_.replies_front_seq_;
  for (const Engine::Remembered& m : e_.replies_) {
    items.push_back({m.key, RequestIndex::reply_ref(seq++)});
  }
  e_.place_keys_from_ = first_keyed;
  if (!e_.requests_.insert_many(std::span(items))) r_.fail("one request id remembered twice");
}

// One remembered reply, checked so that recalled_reply() can rebuild a reply from it.
Engine::Remembered EngineSnapshot::load_reply(ByteReader& r, uint64_t at) {
  Engine::Remembered m;
  m.fingerprint = r.fixed64();
  const uint8_t op = r.u8();
  const uint8_t bits = r.u8();
  m.id = r.varint();
  m.available = r.zigzag();
  m.amount = r.zigzag();
  m.aux = r.varint();
  m.at_ms = at;
  m.op = static_cast<Op>(op);
  m.state = static_cast<OrderState>(bits & kOrderStateMask);
  m.has_order = (bits & kRequestHasOrder) != 0;
  bool valid = m.at_ms <= e_.now_ms_ && op < static_cast<uint8_t>(Op::kCount) &&
               is_mutating(m.op) && m.op != Op::kTick &&
               (bits & ~(kOrderStateMask | kRequestHasOrder)) == 0 &&
               valid_order_state(bits & kOrderStateMask);
  switch (m.op) {  // what recalled_reply() rebuilds from `aux` and `id`
    case Op::kNumberAdd:
      valid = valid && valid_packed_digits(m.aux, limits::kPhoneDigitsMin, limits::kPhoneDigitsMax);
      break;
    case Op::kNumberRemove:
      valid = valid && (m.aux == static_cast<uint64_t>(NumberState::kRemoving) ||
                        m.aux == static_cast<uint64_t>(NumberState::kRemoved));
      break;
    case Op::kDepositRefund:
      valid = valid && m.id >= 1 && m.id <= e_.ledger_.refunds_.size();
      break;
    case Op::kSmsDeliver:
      valid = valid && (m.aux == 0 || valid_packed_digits(m.aux, 4, 8));
      break;
    default:
      break;
  }
  if (r.ok() && !valid) r.fail("bad remembered reply");
  return m;
}

}  // namespace smsx

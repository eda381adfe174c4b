// Whole-state checks: the digest (a stable hash in canonical order) and invariants 1-4.
#include <algorithm>

#include "core/assert.h"
#include "core/engine.h"

namespace smsx {
namespace {

void add_sms(StableHasher& h, const std::vector<Sms>& sms) {
  h.add(sms.size());
  for (const Sms& s : sms) {
    h.add(s.at_ms).add(s.sender).add(s.text).add(s.code ? *s.code : std::string_view("\x01"));
  }
}

}  // namespace

uint64_t Engine::digest() const {
  StableHasher h;
  // Not hashed: engine time (every command advances it, logged or not; it only matters
  // through the deadlines and timestamps it stamped, which are hashed), and the matching
  // cursors and shared head of each sub-pool (a refused placement may advance them; they
  // only skip entries that can never match, so they change cost, never a result).
  h.add(last_order_id_).add(active_orders_);
  h.add(placed_).add(expired_).add(finished_).add(cancelled_).add(sms_delivered_).add(sms_dropped_);
  // Names, in symbol order (symbols are assigned deterministically).
  const NameTables& names = inventory_.names();
  for (const SymbolTable* t :
       {&names.services, &names.countries, &names.pools, &names.operators, &names.suppliers}) {
    h.add(t->size());
    for (size_t s = 1; s <= t->size(); ++s) h.add(t->name(static_cast<Symbol>(s)));
  }
  // Ledger.
  const SystemAccounts& sys = ledger_.system();
  h.add(sys.deposits_in).add(sys.refunds_out).add(sys.revenue).add(sys.credits);
  std::vector<std::pair<std::string, Amount>> suppliers;
  for (const auto& [s, v] : ledger_.suppliers()) suppliers.emplace_back(names.suppliers.name(s), v);
  std::sort(suppliers.begin(), suppliers.end());
  for (const auto& [name, v] : suppliers) h.add(name).add(v);
  for (uint64_t id : ledger_.account_ids()) {
    const Account* a = ledger_.find(id);
    h.add(id).add(a->available).add(a->held).add(a->captured).add(a->deposits.size());
    for (const Order* o = a->active_head; o != nullptr; o = o->account_next) h.add(o->id());
  }
  for (const Deposit& d : ledger_.deposits()) {
    h.add(d.id).add(d.account).add(d.at_ms).add(d.amount).add(static_cast<uint64_t>(d.method));
    h.add(d.ref).add(d.from_address).add(d.refund);
  }
  for (const Refund& r : ledger_.refunds()) {
    h.add(r.id).add(r.deposit).add(r.amount).add(r.destination).add(r.paid).add(r.txid);
  }
  // Inventory: numbers, free logs and cursors, prices, use history.
  for (const Number& n : inventory_.numbers()) {
    h.add(n.phone).add(n.free_stamp).add(n.order).add(n.subpool).add(n.supplier);
    h.add(static_cast<uint64_t>(n.state));
  }
  for (const SubPool& sp : inventory_.subpools()) {
    h.add(sp.country).add(sp.pool).add(sp.operator_name).add(sp.free_count).add(sp.log.size());
    for (const FreeLogEntry& e : sp.log) h.add(e.number).add(e.stamp);
  }
  for (const auto& [k, list] : inventory_.prices()) {
    h.add(k);
    for (const PriceEntry& e : list) h.add(e.pool).add(e.price).add(e.payout);
  }
  std::vector<std::pair<uint32_t, std::vector<Symbol>>> used;
  for (const auto& [n, services] : inventory_.used()) {
    used.emplace_back(n, std::vector<Symbol>(services.begin(), services.end()));
  }
  std::sort(used.begin(), used.end());
  for (const auto& [n, services] : used) {
    h.add(n);
    for (Symbol s : services) h.add(s);
  }
  // Orders (active and retained), the retention queues and remembered requests.
  orders_.for_each([&](const Order& o) {
    h.add(o.id()).add(o.account).add(o.expires_at_ms()).add(o.lifetime_ms).add(o.price);
    h.add(o.payout).add(o.number).add(o.subpool).add(o.service);
    h.add(static_cast<uint64_t>(o.state));
    h.add(o.timer.scheduled());
    h.add(o.key.hi).add(o.key.lo).add(o.fingerprint);
    if (o.extras) {
      add_sms(h, o.extras->sms);
      h.add(o.extras->dispute_reason);
    }
  });
  for (const auto& [at, id] : closed_) h.add(at).add(id);
  for (const Remembered& m : replies_) {
    h.add(m.key.hi).add(m.key.lo).add(m.fingerprint).add(static_cast<uint64_t>(m.op)).add(m.id);
    h.add(m.at_ms);
    h.add(m.available).add(m.amount).add(m.aux).add(m.has_order);
    h.add(static_cast<uint64_t>(m.state));
  }
  return h.value();
}

void Engine::check_invariants() const {
  // 1. The sum of all balances, user and system, is 0.
  SMSX_ASSERT(ledger_.total() == 0);
  // 2. Each user's held amount equals the prices of its active orders.
  uint64_t active = 0;
  for (uint64_t id : ledger_.account_ids()) {
    const Account* a = ledger_.find(id);
    SMSX_ASSERT(a->available >= 0 && a->held >= 0);
    Amount held = 0;
    uint32_t count = 0;
    const Order* prev = nullptr;
    for (const Order* o = a->active_head; o != nullptr; o = o->account_next) {
      SMSX_ASSERT(o->active() && o->account == id && o->account_prev == prev);
      held += o->price;
      ++count;
      prev = o;
    }
    SMSX_ASSERT(a->active_tail == prev);
    SMSX_ASSERT(held == a->held);
    SMSX_ASSERT(count == a->active_count);
    active += count;
  }
  SMSX_ASSERT(active == active_orders_);
  // 3. Each number is free, held by exactly one active order, or removed.
  // 4. Each active order has exactly one scheduled timer, at its deadline.
  uint64_t scheduled = 0;
  orders_.for_each([&](const Order& o) {
    SMSX_ASSERT(o.timer.scheduled() == o.active());
    if (!o.active()) return;
    ++scheduled;
    const Number& n = inventory_.number(o.number);
    SMSX_ASSERT(n.order == o.id());
    SMSX_ASSERT(n.state == NumberState::kBusy || n.state == NumberState::kRemoving);
  });
  SMSX_ASSERT(scheduled == active_orders_);
  SMSX_ASSERT(!wheel_ || wheel_->size() == active_orders_);
  uint64_t free = 0, busy = 0, removed = 0;
  for (const Number& n : inventory_.numbers()) {
    switch (n.state) {
      case NumberState::kFree:
        ++free;
        SMSX_ASSERT(n.order == 0);
        break;
      case NumberState::kBusy:
      case NumberState::kRemoving: {
        ++busy;
        const Order* o = orders_.find(n.order);
        SMSX_ASSERT(o != nullptr && o->active());
        SMSX_ASSERT(&inventory_.number(o->number) == &n);
        break;
      }
      case NumberState::kRemoved:
        ++removed;
        SMSX_ASSERT(n.order == 0);
        break;
    }
  }
  SMSX_ASSERT(free == inventory_.free_count());
  SMSX_ASSERT(busy == inventory_.busy_count());
  SMSX_ASSERT(removed == inventory_.removed_count());
  // The free logs' derived state (core/inventory.h, FreeLogEntry) matches the numbers.
  inventory_.check_free_logs();
  // Every remembered request id is in the index, naming what holds its key, and nothing else
  // is; no order below place_keys_from_ holds one.
  size_t keys = 0;
  orders_.for_each([&](const Order& o) {
    if (o.key.empty()) return;
    ++keys;
    SMSX_ASSERT(o.id() >= place_keys_from_);
    const std::optional<RequestIndex::Ref> ref = requests_.find(o.key);
    SMSX_ASSERT(ref && ref->kind == RequestIndex::Kind::kOrder && order_of(*ref) == &o);
  });
  for (const Remembered& m : replies_) {
    ++keys;
    const std::optional<RequestIndex::Ref> ref = requests_.find(m.key);
    SMSX_ASSERT(ref && ref->kind == RequestIndex::Kind::kReply && reply_of(*ref) == &m);
  }
  SMSX_ASSERT(keys == requests_.size());
}

}  // namespace smsx

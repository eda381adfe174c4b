#include "core/ledger.h"

#include <algorithm>

#include "core/assert.h"
#include "core/limits.h"

namespace smsx {

Account* Ledger::find(uint64_t account) {
  auto it = accounts_.find(account);
  return it == accounts_.end() ? nullptr : &it->second;
}

const Account* Ledger::find(uint64_t account) const {
  auto it = accounts_.find(account);
  return it == accounts_.end() ? nullptr : &it->second;
}

Account& Ledger::find_or_create(uint64_t account) { return accounts_[account]; }

Deposit* Ledger::deposit(uint64_t id) {
  if (id == 0 || id > deposits_.size()) return nullptr;
  return &deposits_[id - 1];
}

Refund* Ledger::refund(uint64_t id) {
  if (id == 0 || id > refunds_.size()) return nullptr;
  return &refunds_[id - 1];
}

Deposit& Ledger::add_deposit(uint64_t account, Amount amount, PayMethod method,
                             std::string_view ref, std::string_view from_address, uint64_t at_ms) {
  SMSX_ASSERT(amount > 0 && amount <= limits::kAmountMax);
  SMSX_ASSERT(!ref_seen(ref));
  Account& a = find_or_create(account);
  Deposit& d = deposits_.emplace_back();
  d.id = deposits_.size();
  d.account = account;
  d.at_ms = at_ms;
  d.amount = amount;
  d.method = method;
  d.ref = std::string(ref);
  d.from_address = std::string(from_address);
  refs_.emplace(d.ref, d.id);
  a.deposits.push_back(d.id);
  system_.deposits_in -= amount;
  a.available += amount;
  return d;
}

bool Ledger::deposit_unspent(const Deposit& d) const {
  const Account* a = find(d.account);
  SMSX_ASSERT(a != nullptr);
  Amount earlier = 0;
  for (uint64_t id : a->deposits) {
    if (id == d.id) break;
    const Deposit& e = deposits_[id - 1];
    if (e.refund == 0) earlier += e.amount;
  }
  return a->captured <= earlier;
}

Refund& Ledger::refund_deposit(Deposit& d, std::string destination, uint64_t at_ms) {
  SMSX_ASSERT(d.refund == 0);
  Account* a = find(d.account);
  SMSX_ASSERT(a != nullptr && a->available >= d.amount);
  Refund& r = refunds_.emplace_back();
  r.id = refunds_.size();
  r.deposit = d.id;
  r.account = d.account;
  r.at_ms = at_ms;
  r.amount = d.amount;
  r.method = d.method;
  r.destination = std::move(destination);
  d.refund = r.id;
  a->available -= d.amount;
  system_.refunds_out += d.amount;
  pending_.emplace(r.id, &r);
  return r;
}

void Ledger::confirm_payout(Refund& r, std::string_view txid) {
  if (r.paid) return;
  r.paid = true;
  r.txid = std::string(txid);
  pending_.erase(r.id);
}

void Ledger::hold(Account& a, Amount amount) {
  SMSX_ASSERT(amount >= 0 && a.available >= amount);
  a.available -= amount;
  a.held += amount;
}

void Ledger::release(Account& a, Amount amount) {
  SMSX_ASSERT(amount >= 0 && a.held >= amount);
  a.held -= amount;
  a.available += amount;
}

void Ledger::capture(Account& a, Amount price, Amount payout, Symbol supplier) {
  SMSX_ASSERT(price >= 0 && payout >= 0 && payout <= price && a.held >= price);
  a.held -= price;
  a.captured += price;
  suppliers_[supplier] += payout;
  system_.revenue += price - payout;
}

void Ledger::credit(Account& a, Amount amount) {
  SMSX_ASSERT(amount >= 0);
  system_.credits -= amount;
  a.available += amount;
}

Amount Ledger::total() const {
  Amount sum = system_.deposits_in + system_.refunds_out + system_.revenue + system_.credits;
  for (const auto& [id, a] : accounts_) sum += a.available + a.held;
  for (const auto& [s, v] : suppliers_) sum += v;
  return sum;
}

std::vector<uint64_t> Ledger::account_ids() const {
  std::vector<uint64_t> ids;
  ids.reserve(accounts_.size());
  for (const auto& [id, a] : accounts_) ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

}  // namespace smsx

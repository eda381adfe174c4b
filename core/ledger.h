// The double-entry ledger: user accounts, system accounts, deposits and deposit refunds.
//
// Every movement is a transfer between two accounts, so the sum over all accounts (user and
// system) is always exactly 0 (invariant 1). A user account has an available and a held
// part; a hold moves money between the two parts of the same account. System accounts may
// go negative: deposits_in is minus everything ever deposited.
//
// Deposits and refunds are kept for good (a processor reference is credited at most once,
// forever); they are far fewer than orders. Single-threaded; owned by the Engine.
#pragma once

#include <absl/container/flat_hash_map.h>

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/command.h"
#include "core/money.h"
#include "core/names.h"

namespace smsx {
struct Order;
}

namespace smsx {

struct Account {
  Amount available = 0;
  Amount held = 0;
  Amount captured = 0;             // total captured spending, for FIFO deposit attribution
  std::vector<uint64_t> deposits;  // ids, oldest first
  Order* active_head = nullptr;    // active orders, oldest first
  Order* active_tail = nullptr;
  uint32_t active_count = 0;
};

struct Deposit {
  uint64_t id = 0, account = 0, at_ms = 0;
  Amount amount = 0;
  PayMethod method = PayMethod::kNone;
  std::string ref;
  std::string from_address;
  uint64_t refund = 0;  // refund id once refunded
};

struct Refund {
  uint64_t id = 0, deposit = 0, account = 0, at_ms = 0;
  Amount amount = 0;
  PayMethod method = PayMethod::kNone;
  std::string destination;
  bool paid = false;
  std::string txid;
};

struct SystemAccounts {
  Amount deposits_in = 0;  // minus everything deposited
  Amount refunds_out = 0;  // deposit refunds paid out (or pending payout)
  Amount revenue = 0;      // captured price minus supplier payout
  Amount credits = 0;      // minus approved dispute credits
};

class Ledger {
  friend class EngineSnapshot;  // core/engine_snapshot.cc saves and restores the state

 public:
  Account* find(uint64_t account);
  const Account* find(uint64_t account) const;
  Account& find_or_create(uint64_t account);
  size_t accounts() const { return accounts_.size(); }

  Deposit* deposit(uint64_t id);
  bool ref_seen(std::string_view ref) const {
    return refs_.contains(absl::string_view(ref.data(), ref.size()));
  }
  // Credits a new deposit (the caller checked amount, ref and overflow).
  Deposit& add_deposit(uint64_t account, Amount amount, PayMethod method, std::string_view ref,
                       std::string_view from_address, uint64_t at_ms);
  // Whether deposit `d` is unspent under FIFO attribution: the account's captured spending
  // is at most the sum of its earlier, unrefunded deposits.
  bool deposit_unspent(const Deposit& d) const;
  Refund& refund_deposit(Deposit& d, std::string destination, uint64_t at_ms);
  Refund* refund(uint64_t id);
  // Pending payouts, oldest first.
  const std::map<uint64_t, Refund*>& pending_payouts() const { return pending_; }
  void confirm_payout(Refund& r, std::string_view txid);

  // Transfers inside a user account and to the system accounts. Each asserts what the
  // caller must have checked (enough available/held); amounts are bounded so no overflow.
  void hold(Account& a, Amount amount);
  void release(Account& a, Amount amount);
  void capture(Account& a, Amount price, Amount payout, Symbol supplier);
  void credit(Account& a, Amount amount);

  const SystemAccounts& system() const { return system_; }
  const absl::flat_hash_map<Symbol, Amount>& suppliers() const { return suppliers_; }
  // Sum over every account, user and system: 0 (invariant 1).
  Amount total() const;
  // Sorted ids, for canonical iteration.
  std::vector<uint64_t> account_ids() const;
  const std::deque<Deposit>& deposits() const { return deposits_; }
  const std::deque<Refund>& refunds() const { return refunds_; }

 private:
  absl::flat_hash_map<uint64_t, Account> accounts_;
  std::deque<Deposit> deposits_;  // id = index + 1 (a deque: pointers stay valid)
  std::deque<Refund> refunds_;    // id = index + 1
  absl::flat_hash_map<std::string, uint64_t> refs_;
  std::map<uint64_t, Refund*> pending_;
  SystemAccounts system_;
  absl::flat_hash_map<Symbol, Amount> suppliers_;  // supplier payable, by supplier name
};

}  // namespace smsx

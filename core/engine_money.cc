// Money: balances, deposits, deposit refunds and their payouts.
#include "core/assert.h"
#include "core/engine.h"
#include "core/limits.h"

namespace smsx {

void Engine::balance(const Command& c, Reply& r) {
  const Account* a = ledger_.find(c.account);
  if (a == nullptr) return fail(r, Error::kNoAccount, "account has never deposited");
  r.available = a->available;
  r.held = a->held;
}

void Engine::deposit(const Command& c, Reply& r) {
  if (c.amount <= 0 || c.amount > limits::kAmountMax) {
    return fail(r, Error::kBadRequest, "amount must be a positive integer within limits");
  }
  if (c.method != PayMethod::kCard && c.method != PayMethod::kCrypto) {
    return fail(r, Error::kBadRequest, "method must be card or crypto");
  }
  if (c.ref.empty() || c.ref.size() > limits::kRefBytesMax) {
    return fail(r, Error::kBadRequest, "ref must be 1 to 128 bytes");
  }
  if (c.method == PayMethod::kCrypto &&
      (c.address.empty() || c.address.size() > limits::kAddressBytesMax)) {
    return fail(r, Error::kBadRequest, "a crypto deposit needs from_address");
  }
  if (ledger_.ref_seen(c.ref)) {
    return fail(r, Error::kDuplicateRef, "this processor reference was already credited");
  }
  const Account* a = ledger_.find(c.account);
  Amount before = a ? a->available + a->held : 0;
  if (!checked_add(before, c.amount) || !checked_sub(ledger_.system().deposits_in, c.amount)) {
    return fail(r, Error::kBadRequest, "amount would overflow the balance");
  }
  std::string_view origin = c.method == PayMethod::kCrypto ? c.address : std::string_view{};
  Deposit& d = ledger_.add_deposit(c.account, c.amount, c.method, c.ref, origin, now_ms_);
  r.changed = true;
  r.id = d.id;
  r.available = ledger_.find(c.account)->available;
}

void Engine::refund_deposit(const Command& c, std::vector<Event>* events, Reply& r) {
  Deposit* d = ledger_.deposit(c.target);
  if (d == nullptr) return fail(r, Error::kDepositNotFound, "no such deposit");
  if (d->refund != 0) return fail(r, Error::kAlreadyRefunded, "deposit already refunded");
  if (now_ms_ > d->at_ms + config_.refund_window_ms) {
    return fail(r, Error::kRefundWindowClosed, "the refund window has closed");
  }
  if (!ledger_.deposit_unspent(*d)) {
    return fail(r, Error::kDepositSpent, "part of this deposit was spent");
  }
  // Crypto goes back to the address it came from; card to the original charge.
  const std::string& destination = d->method == PayMethod::kCrypto ? d->from_address : d->ref;
  if (!c.address.empty() && c.address != destination) {
    return fail(r, Error::kRefundDestinationMismatch,
                "a refund goes only to where the deposit came from");
  }
  const Account* a = ledger_.find(d->account);
  SMSX_ASSERT(a != nullptr);
  if (a->available < d->amount) {
    return fail(r, Error::kInsufficientAvailable, "available balance does not cover it");
  }
  Refund& refund = ledger_.refund_deposit(*d, destination, now_ms_);
  if (events) {
    events->push_back(Event{.kind = EventKind::kRefundPayout,
                            .account = refund.account,
                            .at_ms = now_ms_,
                            .amount = refund.amount,
                            .refund = refund.id,
                            .deposit = refund.deposit,
                            .method = refund.method,
                            .destination = refund.destination});
  }
  r.changed = true;
  r.id = refund.id;
  r.amount = refund.amount;
  r.text = refund.destination;
}

void Engine::pending_payouts(const Command&, Reply& r) {
  r.mutable_data();
  for (const auto& [id, refund] : ledger_.pending_payouts()) {
    r.mutable_data().payouts.push_back(PayoutView{refund->id, refund->deposit, refund->account,
                                                  refund->amount, refund->method,
                                                  refund->destination, refund->at_ms});
  }
}

void Engine::confirm_payout(const Command& c, Reply& r) {
  Refund* refund = ledger_.refund(c.target);
  if (refund == nullptr) return fail(r, Error::kRefundNotFound, "no such refund");
  if (c.ref.size() > limits::kRefBytesMax) return fail(r, Error::kBadRequest, "txid too long");
  r.id = refund->id;
  r.changed = !refund->paid;  // confirming twice is harmless and changes nothing
  ledger_.confirm_payout(*refund, c.ref);
  r.text = "paid";
}

}  // namespace smsx

// Money: balances, deposits, deposit refunds and their payouts.
#include "core/assert.h"
#include "core/engine.h"
#include "core/limits.h"

namespace smsx {

Reply Engine::balance(const Command& c) {
  const Account* a = ledger_.find(c.account);
  if (a == nullptr) return error_reply(Error::kNoAccount, "account has never deposited");
  Reply r;
  r.available = a->available;
  r.held = a->held;
  return r;
}

Reply Engine::deposit(const Command& c) {
  if (c.amount <= 0 || c.amount > limits::kAmountMax) {
    return error_reply(Error::kBadRequest, "amount must be a positive integer within limits");
  }
  if (c.method != PayMethod::kCard && c.method != PayMethod::kCrypto) {
    return error_reply(Error::kBadRequest, "method must be card or crypto");
  }
  if (c.ref.empty() || c.ref.size() > limits::kRefBytesMax) {
    return error_reply(Error::kBadRequest, "ref must be 1 to 128 bytes");
  }
  if (c.method == PayMethod::kCrypto &&
      (c.address.empty() || c.address.size() > limits::kAddressBytesMax)) {
    return error_reply(Error::kBadRequest, "a crypto deposit needs from_address");
  }
  if (ledger_.ref_seen(c.ref)) {
    return error_reply(Error::kDuplicateRef, "this processor reference was already credited");
  }
  const Account* a = ledger_.find(c.account);
  Amount before = a ? a->available + a->held : 0;
  if (!checked_add(before, c.amount) || !checked_sub(ledger_.system().deposits_in, c.amount)) {
    return error_reply(Error::kBadRequest, "amount would overflow the balance");
  }
  std::string_view origin = c.method == PayMethod::kCrypto ? c.address : std::string_view{};
  Deposit& d = ledger_.add_deposit(c.account, c.amount, c.method, c.ref, origin, now_ms_);
  Reply r;
  r.changed = true;
  r.id = d.id;
  r.available = ledger_.find(c.account)->available;
  return r;
}

Reply Engine::refund_deposit(const Command& c, std::vector<Event>* events) {
  Deposit* d = ledger_.deposit(c.target);
  if (d == nullptr) return error_reply(Error::kDepositNotFound, "no such deposit");
  if (d->refund != 0) return error_reply(Error::kAlreadyRefunded, "deposit already refunded");
  if (now_ms_ > d->at_ms + config_.refund_window_ms) {
    return error_reply(Error::kRefundWindowClosed, "the refund window has closed");
  }
  if (!ledger_.deposit_unspent(*d)) {
    return error_reply(Error::kDepositSpent, "part of this deposit was spent");
  }
  // Crypto goes back to the address it came from; card to the original charge.
  const std::string& destination = d->method == PayMethod::kCrypto ? d->from_address : d->ref;
  if (!c.address.empty() && c.address != destination) {
    return error_reply(Error::kRefundDestinationMismatch,
                       "a refund goes only to where the deposit came from");
  }
  const Account* a = ledger_.find(d->account);
  SMSX_ASSERT(a != nullptr);
  if (a->available < d->amount) {
    return error_reply(Error::kInsufficientAvailable, "available balance does not cover it");
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
  Reply r;
  r.changed = true;
  r.id = refund.id;
  r.amount = refund.amount;
  r.text = refund.destination;
  return r;
}

Reply Engine::pending_payouts(const Command&) {
  Reply r;
  r.mutable_data();
  for (const auto& [id, refund] : ledger_.pending_payouts()) {
    r.mutable_data().payouts.push_back(PayoutView{refund->id, refund->deposit, refund->account,
                                                  refund->amount, refund->method,
                                                  refund->destination, refund->at_ms});
  }
  return r;
}

Reply Engine::confirm_payout(const Command& c) {
  Refund* refund = ledger_.refund(c.target);
  if (refund == nullptr) return error_reply(Error::kRefundNotFound, "no such refund");
  if (c.ref.size() > limits::kRefBytesMax) return error_reply(Error::kBadRequest, "txid too long");
  Reply r;
  r.id = refund->id;
  r.changed = !refund->paid;  // confirming twice is harmless and changes nothing
  ledger_.confirm_payout(*refund, c.ref);
  r.text = "paid";
  return r;
}

}  // namespace smsx

// One order, as kept in memory for its whole life (active, then closed for the retention
// period). Kept small on purpose: bytes per active order is a headline figure.
//
// Invariants: an active order (waiting/received/retry) has `timer` scheduled at its deadline
// and is linked into its account's active list; a closed order has neither. The timer's
// deadline stays set after it fired or was cancelled: it is the order's expiry time for
// life. `key` is the placement's request key while it is remembered (core/request_index.h),
// empty otherwise.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/command.h"
#include "core/hash.h"
#include "core/names.h"
#include "timers/timing_wheel.h"

namespace smsx {

// What only some orders have: the SMS they received and a dispute reason.
struct OrderExtras {
  std::vector<Sms> sms;
  std::string dispute_reason;
};

struct Order {
  timers::TimerNode timer;  // first member: container_of is a static offset
  uint64_t account = 0;
  Order* account_prev = nullptr;  // the account's active orders, oldest first
  Order* account_next = nullptr;
  std::unique_ptr<OrderExtras> extras;
  RequestKey key;            // the placement's request key while remembered
  uint64_t fingerprint = 0;  // the placement's (see Engine::apply)
  uint32_t lifetime_ms = 0;  // created_at = expires_at - lifetime
  uint32_t price = 0;        // <= limits::kPriceMax, checked at price.set
  uint32_t payout = 0;
  uint32_t number = 0;   // index into the inventory's numbers
  uint32_t subpool = 0;  // where the number was when placed (it may move after removal)
  Symbol service = 0;
  OrderState state = OrderState::kWaiting;

  // The id, from where the order is (core/order_store.h: an order lives in its store).
  uint64_t id() const;
  bool live() const { return lifetime_ms != 0; }
  bool active() const {
    return state == OrderState::kWaiting || state == OrderState::kReceived ||
           state == OrderState::kRetry;
  }
  uint64_t expires_at_ms() const { return timer.deadline_ms; }
  uint64_t created_at_ms() const { return expires_at_ms() - lifetime_ms; }
  static Order* from_timer(timers::TimerNode* node) {
    static_assert(offsetof(Order, timer) == 0);
    return reinterpret_cast<Order*>(node);
  }
};

static_assert(sizeof(Order) == 104, "bytes per order are a headline figure: keep it small");

}  // namespace smsx

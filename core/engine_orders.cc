// Orders: place, cancel, finish, retry, dispute, expiry at the deadline, and the views.
#include "core/assert.h"
#include "core/engine.h"
#include "core/names.h"
#include "core/phone.h"

namespace smsx {
void Engine::place(const Command& c, Reply& r) {
  // Checked and packed once: the keys are what the symbol tables look up.
  const std::optional<NameKey> service_key = name_key(c.service);
  const std::optional<NameKey> country_key = name_key(c.country);
  if (!service_key || !country_key) {
    return fail(r, Error::kBadRequest, "service and country must be names of [a-z0-9_-]");
  }
  if ((!c.pool.empty() && !valid_name(c.pool)) ||
      (!c.operator_name.empty() && !valid_name(c.operator_name))) {
    return fail(r, Error::kBadRequest, "pool and operator must be names of [a-z0-9_-]");
  }
  if (c.max_price && *c.max_price < 0) {
    return fail(r, Error::kBadRequest, "max_price must be >= 0");
  }
  const NameTables& names = inventory_.names();
  Symbol service = names.services.find(*service_key);
  Symbol country = names.countries.find(*country_key);
  Symbol pool = kNoSymbol;
  if (!c.pool.empty()) {
    pool = names.pools.find(c.pool);
    if (pool == kNoSymbol) return fail(r, Error::kNoPrice, "no price for that pool");
  }
  Symbol op = kNoSymbol;
  if (!c.operator_name.empty()) {
    op = names.operators.find(c.operator_name);
    if (op == kNoSymbol) op = kNoMatch;
  }
  Match m = inventory_.match(service, country, pool, op, c.max_price);
  switch (m.error) {
    case Error::kNone:
      break;
    case Error::kNoPrice:
      return fail(r, m.error, "nothing priced for that service and country");
    case Error::kNoNumbers:
      return fail(r, m.error, "no free number for that service and country");
    case Error::kMaxPriceTooLow:
      fail(r, m.error, "every free number is above max_price");
      r.amount = m.min_price;
      return;
    default:
      return fail(r, m.error, "");
  }
  Account* a = ledger_.find(c.account);
  if (a == nullptr || a->available < m.price) {
    return fail(r, Error::kNoBalance, "available balance does not cover the price");
  }
  if (a->active_count >= limits::kActiveOrdersPerAccountMax) {
    return fail(r, Error::kOverloaded, "too many active orders on this account");
  }
  Order& o = *orders_.create(++last_order_id_, static_cast<uint32_t>(config_.ttl_ms));
  o.account = c.account;
  o.price = m.price;
  o.payout = m.payout;
  o.number = m.number;
  o.subpool = inventory_.number(m.number).subpool;
  o.service = service;
  o.state = OrderState::kWaiting;
  inventory_.take(m, o.id());
  ledger_.hold(*a, o.price);
  o.account_prev = a->active_tail;
  (a->active_tail ? a->active_tail->account_next : a->active_head) = &o;
  a->active_tail = &o;
  ++a->active_count;
  wheel().schedule(&o.timer, now_ms_ + config_.ttl_ms);  // the deadline, for life
  ++active_orders_;
  ++placed_;
  fill_place_reply(o, r);
  r.changed = true;
}

Reply Engine::place_reply(const Order& o) const {
  Reply r;
  fill_place_reply(o, r);
  return r;
}

void Engine::fill_place_reply(const Order& o, Reply& r) const {
  r.id = o.id();
  if (reply_use_ == ReplyUse::kFull) r.text = unpack_phone(inventory_.number(o.number).phone);
  r.amount = o.price;
  r.expires_at_ms = o.expires_at_ms();
}

void Engine::capture(Order& o, Account& a) {
  ledger_.capture(a, o.price, o.payout, inventory_.number(o.number).supplier);
}

void Engine::close(Order& o, Account* a, OrderState state) {
  SMSX_ASSERT(o.active());
  SMSX_ASSERT(a != nullptr && a->active_count > 0);
  (o.account_prev ? o.account_prev->account_next : a->active_head) = o.account_next;
  (o.account_next ? o.account_next->account_prev : a->active_tail) = o.account_prev;
  o.account_prev = o.account_next = nullptr;
  --a->active_count;
  wheel().cancel(&o.timer);
  inventory_.release(o.number);
  o.state = state;
  --active_orders_;
  closed_.emplace_back(now_ms_, o.id());
}

void Engine::get_order(const Command& c, Reply& r) {
  Order* o = orders_.find(c.target);
  if (o == nullptr) return fail(r, Error::kOrderNotFound, "no such order");
  view_into(*o, r.mutable_data().order);
}

void Engine::cancel(const Command& c, Reply& r) {
  Order* o = orders_.find(c.target);
  if (o == nullptr) return fail(r, Error::kOrderNotFound, "no such order");
  if (!o->active()) return fail(r, Error::kOrderClosed, "order is closed");
  if (o->state != OrderState::kWaiting) {
    return fail(r, Error::kCodeReceived, "a code was received: the order can't be cancelled");
  }
  uint64_t allowed_at = o->created_at_ms() + config_.min_cancel_delay_ms;
  if (now_ms_ < allowed_at) {
    fail(r, Error::kEarlyCancel, "too early to cancel");
    r.seconds_left = (allowed_at - now_ms_ + 999) / 1000;
    return;
  }
  Account* a = ledger_.find(o->account);
  ledger_.release(*a, o->price);
  close(*o, a, OrderState::kCancelled);
  ++cancelled_;
  r.changed = true;
  r.id = o->id();
  r.amount = o->price;
}

void Engine::finish(const Command& c, std::vector<Event>* events, Reply& r) {
  Order* o = orders_.find(c.target);
  if (o == nullptr) return fail(r, Error::kOrderNotFound, "no such order");
  if (!o->active()) return fail(r, Error::kOrderClosed, "order is closed");
  if (o->state == OrderState::kWaiting) return fail(r, Error::kNoSmsYet, "no SMS yet");
  Account* a = ledger_.find(o->account);
  capture(*o, *a);
  close(*o, a, OrderState::kFinished);
  ++finished_;
  if (events) {
    events->push_back(Event{.kind = EventKind::kOrderFinished,
                            .order = o->id(),
                            .account = o->account,
                            .at_ms = now_ms_,
                            .amount = o->price});
  }
  r.changed = true;
  r.id = o->id();
  r.amount = o->price;
}

void Engine::retry(const Command& c, Reply& r) {
  Order* o = orders_.find(c.target);
  if (o == nullptr) return fail(r, Error::kOrderNotFound, "no such order");
  if (!o->active()) return fail(r, Error::kOrderClosed, "order is closed");
  if (o->state == OrderState::kWaiting) return fail(r, Error::kNoSmsYet, "no SMS yet");
  r.id = o->id();
  r.changed = o->state != OrderState::kRetry;
  o->state = OrderState::kRetry;
  r.state = o->state;
}

void Engine::dispute(const Command& c, std::vector<Event>* events, Reply& r) {
  if (c.text.size() > limits::kDisputeReasonBytesMax) {
    return fail(r, Error::kBadRequest, "reason is too long");
  }
  Order* o = orders_.find(c.target);
  if (o == nullptr) return fail(r, Error::kOrderNotFound, "no such order");
  if (o->state == OrderState::kWaiting) return fail(r, Error::kNoSmsYet, "no SMS yet");
  if (o->active()) {  // received or retry: the charge is captured first, then disputed
    Reply done;
    finish(c, events, done);
    SMSX_ASSERT(done.error == Error::kNone);
  } else if (o->state != OrderState::kFinished) {
    return fail(r, Error::kOrderClosed, "only a finished order can be disputed");
  }
  o->state = OrderState::kDisputed;
  if (!o->extras) o->extras = std::make_unique<OrderExtras>();
  o->extras->dispute_reason = std::string(c.text);
  r.changed = true;
  r.id = o->id();
  r.state = o->state;
}

void Engine::resolve_dispute(const Command& c, Reply& r) {
  Order* o = orders_.find(c.target);
  if (o == nullptr) return fail(r, Error::kOrderNotFound, "no such order");
  if (o->state != OrderState::kDisputed) {
    return fail(r, Error::kOrderClosed, "order is not disputed");
  }
  r.changed = true;
  r.id = o->id();
  if (c.approve) {
    ledger_.credit(ledger_.find_or_create(o->account), o->price);
    o->state = OrderState::kCredited;
    r.amount = o->price;
  } else {
    o->state = OrderState::kFinished;
    r.amount = 0;
  }
  r.state = o->state;
}

void Engine::active_orders(const Command& c, Reply& r) {
  r.mutable_data();
  if (const Account* a = ledger_.find(c.account)) {
    auto& orders = r.mutable_data().orders;
    orders.reserve(a->active_count);
    for (const Order* o = a->active_head; o != nullptr; o = o->account_next) {
      orders.push_back(view(*o));
    }
  }
}

void Engine::expire(Order& o, std::vector<Event>* events) {
  SMSX_ASSERT(o.active());
  SMSX_ASSERT(o.expires_at_ms() <= now_ms_);  // invariant 5: never before its deadline
  Account* a = ledger_.find(o.account);
  if (o.state == OrderState::kWaiting) {
    ledger_.release(*a, o.price);
    close(o, a, OrderState::kExpired);
    ++expired_;
    if (events) {
      events->push_back(Event{.kind = EventKind::kOrderExpired,
                              .order = o.id(),
                              .account = o.account,
                              .at_ms = now_ms_,
                              .amount = o.price});
    }
  } else {
    capture(o, *a);
    close(o, a, OrderState::kFinished);
    ++finished_;
    if (events) {
      events->push_back(Event{.kind = EventKind::kOrderFinished,
                              .order = o.id(),
                              .account = o.account,
                              .at_ms = now_ms_,
                              .amount = o.price,
                              .auto_finish = true});
    }
  }
}

void Engine::tick(const Command& c, std::vector<Event>* events, Reply& r) {
  size_t max = c.max_expired ? c.max_expired : config_.expiries_per_tick_max;
  if (c.replay) {
    // A logged tick: expire exactly the orders it expired, in its order.
    for (uint64_t id : c.replay_expired) {
      Order* o = orders_.find(id);
      SMSX_ASSERT(o != nullptr && o->active());
      wheel().cancel(&o->timer);
      expire(*o, events);
      r.expired.push_back(id);
    }
  } else {
    r.more_due = wheel().advance(now_ms_, max, [&](timers::TimerNode* node) {
      Order* o = Order::from_timer(node);
      r.expired.push_back(o->id());
      expire(*o, events);
    });
  }
  size_t evicted = evict_retained(max);
  r.more_due = r.more_due || evicted == max;
  r.changed = !r.expired.empty() || evicted > 0;
}

OrderView Engine::view(const Order& o) const {
  OrderView v;
  view_into(o, v);
  return v;
}

void Engine::view_into(const Order& o, OrderView& v) const {
  const Number& n = inventory_.number(o.number);
  const SubPool& sp = inventory_.subpool(o.subpool);
  const NameTables& names = inventory_.names();
  v.order = o.id();
  v.account = o.account;
  v.state = o.state;
  v.number = unpack_phone(n.phone);
  v.service = names.services.name(o.service);
  v.country = names.countries.name(sp.country);
  v.pool = names.pools.name(sp.pool);
  v.price = o.price;
  v.created_at_ms = o.created_at_ms();
  v.expires_at_ms = o.expires_at_ms();
  if (o.extras) v.sms = o.extras->sms;
}

}  // namespace smsx

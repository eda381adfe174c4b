#include "tests/sim/reference_model_util.h"

#include <algorithm>
#include <tuple>

#include "core/code_extract.h"
#include "core/limits.h"

namespace smsx::sim {
namespace {

Reply refused(Error e) {
  Reply r;
  r.error = e;
  return r;
}

Reply changed() {
  Reply r;
  r.changed = true;
  return r;
}

bool valid_name(const std::string& name) {
  if (name.empty() || name.size() > 16) return false;
  return std::all_of(name.begin(), name.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
  });
}

bool valid_phone(const std::string& number) {
  return number.size() >= 6 && number.size() <= 15 &&
         std::all_of(number.begin(), number.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
}

// The fields of a request its op takes (PROTOCOL.md); two requests under one id are "the
// same" when these are equal. Any other field is ignored, as unknown fields are.
std::string fingerprint(const SimCommand& c) {
  std::string f = std::to_string(static_cast<int>(c.op));
  auto num = [&f](int64_t v) { f += '|' + std::to_string(v); };
  auto str = [&f](const std::string& s) { f += '|' + std::to_string(s.size()) + ':' + s; };
  switch (c.op) {
    case Op::kDeposit:
      num(static_cast<int64_t>(c.account));
      num(c.amount);
      num(static_cast<int>(c.method));
      str(c.ref);
      str(c.address);
      break;
    case Op::kDepositRefund:
      num(static_cast<int64_t>(c.target));
      str(c.address);
      break;
    case Op::kOrderPlace:
      num(static_cast<int64_t>(c.account));
      str(c.service);
      str(c.country);
      str(c.pool);
      str(c.operator_name);
      f += c.max_price ? '|' + std::to_string(*c.max_price) : "|none";
      break;
    case Op::kOrderDispute:
      num(static_cast<int64_t>(c.target));
      str(c.text);
      break;
    case Op::kDisputeResolve:
      num(static_cast<int64_t>(c.target));
      num(c.approve ? 1 : 0);
      break;
    case Op::kPayoutConfirm:
      num(static_cast<int64_t>(c.target));
      str(c.ref);
      break;
    case Op::kNumberAdd:
      str(c.number);
      str(c.country);
      str(c.operator_name);
      str(c.pool);
      break;
    case Op::kNumberRemove:
      str(c.number);
      break;
    case Op::kSmsDeliver:
      str(c.number);
      str(c.text);
      str(c.sender);
      break;
    case Op::kPriceSet:
      str(c.service);
      str(c.country);
      str(c.pool);
      num(c.amount);
      num(c.payout);
      break;
    default:  // order.cancel, order.finish, order.retry
      num(static_cast<int64_t>(c.target));
      break;
  }
  return f;
}

std::string_view number_state_name(ModelNumberState s) {
  switch (s) {
    case ModelNumberState::kFree:
      return "free";
    case ModelNumberState::kBusy:
      return "busy";
    case ModelNumberState::kRemoving:
      return "removing";
    case ModelNumberState::kRemoved:
      return "removed";
  }
  return "?";
}

}  // namespace

ReferenceModel::ReferenceModel(const EngineConfig& config) : config_(config) {}

bool ReferenceModel::priced(const std::string& service, const std::string& country) const {
  auto it = prices_.find({service, country});
  return it != prices_.end() && !it->second.empty();
}

std::optional<uint64_t> ReferenceModel::next_due_ms() const {
  std::optional<uint64_t> due;
  auto earliest = [&](uint64_t t) {
    if (!due || t < *due) due = t;
  };
  for (uint64_t id : active_) earliest(orders_.at(id).expires_at_ms);
  if (!closed_.empty()) earliest(closed_.front().first + config_.retention_ms);
  if (!remembered_by_age_.empty()) {
    earliest(std::get<0>(remembered_by_age_.begin()->first) + config_.retention_ms);
  }
  return due;
}

Reply ReferenceModel::apply(const SimCommand& c, std::vector<Event>* events) {
  now_ms_ = std::max(now_ms_, c.now_ms);
  const bool keyed = is_mutating(c.op) && c.op != Op::kTick && !c.request_id.empty();
  Key key{c.gateway, c.request_id};
  std::string print;
  if (keyed) {
    print = fingerprint(c);
    auto it = remembered_.find(key);
    if (it != remembered_.end()) {
      const Remembered& m = it->second;
      // Engine choice: a place whose order is gone is evaluated afresh. Ticks evict ids
      // before orders, so this does not happen here; the engine keeps it for a retention
      // period shortened across a restart.
      bool forgotten = m.place && m.fingerprint == print && !orders_.contains(m.order);
      if (!forgotten) {
        if (m.fingerprint != print) return refused(Error::kIdReused);
        Reply r = copy_reply(m.reply);
        r.changed = false;
        r.replayed = true;
        return r;
      }
    }
  }
  Reply r = dispatch(c, events);
  if (keyed && r.changed) remember(key, std::move(print), c, r);
  return r;
}

void ReferenceModel::remember(const Key& key, std::string print, const SimCommand& c,
                              const Reply& r) {
  auto it = remembered_.find(key);
  if (it != remembered_.end()) remembered_by_age_.erase(age_of(it->second));
  Remembered& m = remembered_[key];
  m.fingerprint = std::move(print);
  m.at_ms = now_ms_;
  m.seq = ++remember_seq_;
  m.place = c.op == Op::kOrderPlace;
  m.order = m.place ? r.id : 0;
  m.reply = copy_reply(r);
  remembered_by_age_[age_of(m)] = key;
}

Reply ReferenceModel::dispatch(const SimCommand& c, std::vector<Event>* events) {
  switch (c.op) {
    case Op::kBalance:
      return balance(c);
    case Op::kDeposit:
      return deposit(c);
    case Op::kDepositRefund:
      return refund_deposit(c, events);
    case Op::kOrderPlace:
      return place(c);
    case Op::kOrderGet:
      return get_order(c);
    case Op::kOrderCancel:
      return cancel(c);
    case Op::kOrderFinish:
      return finish(c, events);
    case Op::kOrderRetry:
      return retry(c);
    case Op::kOrderDispute:
      return dispute(c, events);
    case Op::kOrdersActive:
      return active_orders_of(c);
    case Op::kNumberAdd:
      return add_number(c);
    case Op::kNumberRemove:
      return remove_number(c);
    case Op::kSmsDeliver:
      return deliver_sms(c, events);
    case Op::kPayoutsPending:
      return pending_payouts();
    case Op::kPayoutConfirm:
      return confirm_payout(c);
    case Op::kStock:
      return stock(c);
    case Op::kPriceSet:
      return set_price(c);
    case Op::kDisputeResolve:
      return resolve_dispute(c);
    case Op::kStats:
      return stats();
    case Op::kTick:
      return tick(c, events);
    case Op::kCount:
      break;
  }
  return refused(Error::kUnknownOp);
}

// ---- Money ----

Reply ReferenceModel::balance(const SimCommand& c) {
  auto it = accounts_.find(c.account);
  if (it == accounts_.end()) return refused(Error::kNoAccount);
  Reply r;
  r.available = it->second.available;
  r.held = it->second.held;
  return r;
}

Reply ReferenceModel::deposit(const SimCommand& c) {
  if (c.amount <= 0 || c.amount > limits::kAmountMax) return refused(Error::kBadRequest);
  if (c.method != PayMethod::kCard && c.method != PayMethod::kCrypto) {
    return refused(Error::kBadRequest);
  }
  if (c.ref.empty() || c.ref.size() > limits::kRefBytesMax) return refused(Error::kBadRequest);
  if (c.method == PayMethod::kCrypto &&
      (c.address.empty() || c.address.size() > limits::kAddressBytesMax)) {
    return refused(Error::kBadRequest);
  }
  if (refs_.contains(c.ref)) return refused(Error::kDuplicateRef);
  auto existing = accounts_.find(c.account);
  Amount before =
      existing == accounts_.end() ? 0 : existing->second.available + existing->second.held;
  Amount ignored;
  if (__builtin_add_overflow(before, c.amount, &ignored) ||
      __builtin_add_overflow(deposited_total_, c.amount, &ignored)) {
    return refused(Error::kBadRequest);
  }
  ModelAccount& a = accounts_[c.account];
  ModelDeposit& d = deposits_.emplace_back();
  d.id = deposits_.size();
  d.account = c.account;
  d.at_ms = now_ms_;
  d.amount = c.amount;
  d.method = c.method;
  d.ref = c.ref;
  if (c.method == PayMethod::kCrypto) d.from_address = c.address;
  refs_.insert(c.ref);
  deposited_total_ += c.amount;
  a.deposits.push_back(d.id);
  a.available += c.amount;
  Reply r = changed();
  r.id = d.id;
  r.available = a.available;
  return r;
}

Reply ReferenceModel::refund_deposit(const SimCommand& c, std::vector<Event>* events) {
  if (c.target == 0 || c.target > deposits_.size()) return refused(Error::kDepositNotFound);
  ModelDeposit& d = deposits_[c.target - 1];
  if (d.refund != 0) return refused(Error::kAlreadyRefunded);
  if (now_ms_ > d.at_ms + config_.refund_window_ms) return refused(Error::kRefundWindowClosed);
  ModelAccount& a = accounts_.at(d.account);
  // FIFO attribution: spending is taken from the oldest unrefunded deposits first.
  Amount earlier = 0;
  for (uint64_t id : a.deposits) {
    if (id == d.id) break;
    if (deposits_[id - 1].refund == 0) earlier += deposits_[id - 1].amount;
  }
  if (a.captured > earlier) return refused(Error::kDepositSpent);
  const std::string& destination = d.method == PayMethod::kCrypto ? d.from_address : d.ref;
  if (!c.address.empty() && c.address != destination) {
    return refused(Error::kRefundDestinationMismatch);
  }
  if (a.available < d.amount) return refused(Error::kInsufficientAvailable);
  ModelRefund& f = refunds_.emplace_back();
  f.id = refunds_.size();
  f.deposit = d.id;
  f.account = d.account;
  f.at_ms = now_ms_;
  f.amount = d.amount;
  f.method = d.method;
  f.destination = destination;
  d.refund = f.id;
  a.available -= d.amount;
  if (events) {
    events->push_back(Event{.kind = EventKind::kRefundPayout,
                            .account = f.account,
                            .at_ms = now_ms_,
                            .amount = f.amount,
                            .refund = f.id,
                            .deposit = f.deposit,
                            .method = f.method,
                            .destination = f.destination});
  }
  Reply r = changed();
  r.id = f.id;
  r.amount = f.amount;
  r.text = f.destination;
  return r;
}

Reply ReferenceModel::pending_payouts() {
  Reply r;
  for (const ModelRefund& f : refunds_) {
    if (f.paid) continue;
    r.mutable_data().payouts.push_back(
        PayoutView{f.id, f.deposit, f.account, f.amount, f.method, f.destination, f.at_ms});
  }
  return r;
}

Reply ReferenceModel::confirm_payout(const SimCommand& c) {
  if (c.target == 0 || c.target > refunds_.size()) return refused(Error::kRefundNotFound);
  if (c.ref.size() > limits::kRefBytesMax) return refused(Error::kBadRequest);
  ModelRefund& f = refunds_[c.target - 1];
  Reply r;
  r.changed = !f.paid;
  f.paid = true;
  r.id = f.id;
  r.text = "paid";
  return r;
}

// ---- Orders ----

Reply ReferenceModel::place(const SimCommand& c) {
  if (!valid_name(c.service) || !valid_name(c.country)) return refused(Error::kBadRequest);
  if ((!c.pool.empty() && !valid_name(c.pool)) ||
      (!c.operator_name.empty() && !valid_name(c.operator_name))) {
    return refused(Error::kBadRequest);
  }
  if (c.max_price && *c.max_price < 0) return refused(Error::kBadRequest);
  // The priced pools of (service, country), within the pool filter, cheapest first.
  std::vector<std::tuple<Amount, std::string, ModelPrice>> pools;
  if (auto it = prices_.find({c.service, c.country}); it != prices_.end()) {
    for (const auto& [pool, p] : it->second) {
      if (c.pool.empty() || pool == c.pool) pools.emplace_back(p.price, pool, p);
    }
  }
  if (pools.empty()) return refused(Error::kNoPrice);
  std::sort(pools.begin(), pools.end(), [](const auto& a, const auto& b) {
    return std::tie(std::get<0>(a), std::get<1>(a)) < std::tie(std::get<0>(b), std::get<1>(b));
  });
  const std::string* chosen = nullptr;
  const std::string* chosen_pool = nullptr;
  ModelPrice price;
  for (const auto& [amount, pool, p] : pools) {
    const ModelNumber* best = nullptr;
    for (const auto& [phone, n] : numbers_) {
      if (n.state != ModelNumberState::kFree || n.country != c.country || n.pool != pool) continue;
      if (!c.operator_name.empty() && n.operator_name != c.operator_name) continue;
      if (n.used.contains(c.service)) continue;
      if (best == nullptr || n.free_since < best->free_since) {
        best = &n;
        chosen = &phone;
      }
    }
    if (best == nullptr) continue;
    if (c.max_price && amount > *c.max_price) {
      Reply r = refused(Error::kMaxPriceTooLow);
      r.amount = amount;  // min_price: the cheapest pool that has a number
      return r;
    }
    chosen_pool = &pool;
    price = p;
    break;
  }
  if (chosen_pool == nullptr) return refused(Error::kNoNumbers);
  auto account = accounts_.find(c.account);
  if (account == accounts_.end() || account->second.available < price.price) {
    return refused(Error::kNoBalance);
  }
  ModelAccount& a = account->second;
  ModelOrder& o = orders_[++last_order_id_];
  o.id = last_order_id_;
  o.account = c.account;
  o.number = *chosen;
  o.service = c.service;
  o.country = c.country;
  o.pool = *chosen_pool;
  o.price = price.price;
  o.payout = price.payout;
  o.created_at_ms = now_ms_;
  o.expires_at_ms = now_ms_ + config_.ttl_ms;
  o.state = OrderState::kWaiting;
  active_.insert(o.id);
  ModelNumber& n = numbers_.at(o.number);
  n.state = ModelNumberState::kBusy;
  n.order = o.id;
  a.available -= o.price;
  a.held += o.price;
  ++placed_;
  Reply r = changed();
  r.id = o.id;
  r.text = o.number;
  r.amount = o.price;
  r.expires_at_ms = o.expires_at_ms;
  return r;
}

OrderView ReferenceModel::view(const ModelOrder& o) const {
  OrderView v;
  v.order = o.id;
  v.account = o.account;
  v.state = o.state;
  v.number = o.number;
  v.service = o.service;
  v.country = o.country;
  v.pool = o.pool;
  v.price = o.price;
  v.created_at_ms = o.created_at_ms;
  v.expires_at_ms = o.expires_at_ms;
  v.sms = o.sms;
  return v;
}

Reply ReferenceModel::get_order(const SimCommand& c) {
  auto it = orders_.find(c.target);
  if (it == orders_.end()) return refused(Error::kOrderNotFound);
  Reply r;
  r.mutable_data().order = view(it->second);
  return r;
}

void ReferenceModel::close(ModelOrder& o, OrderState state) {
  o.state = state;
  active_.erase(o.id);
  ModelNumber& n = numbers_.at(o.number);
  n.order = 0;
  if (n.state == ModelNumberState::kRemoving) {
    n.state = ModelNumberState::kRemoved;
  } else {
    n.state = ModelNumberState::kFree;
    n.free_since = ++free_seq_;
  }
  closed_.emplace_back(now_ms_, o.id);
}

void ReferenceModel::capture(ModelOrder& o) {
  ModelAccount& a = accounts_.at(o.account);
  a.held -= o.price;
  a.captured += o.price;
}

void ReferenceModel::finished_event(const ModelOrder& o, bool auto_finish,
                                    std::vector<Event>* events) {
  if (events == nullptr) return;
  events->push_back(Event{.kind = EventKind::kOrderFinished,
                          .order = o.id,
                          .account = o.account,
                          .at_ms = now_ms_,
                          .amount = o.price,
                          .auto_finish = auto_finish});
}

Reply ReferenceModel::cancel(const SimCommand& c) {
  auto it = orders_.find(c.target);
  if (it == orders_.end()) return refused(Error::kOrderNotFound);
  ModelOrder& o = it->second;
  if (!o.active()) return refused(Error::kOrderClosed);
  if (o.state != OrderState::kWaiting) return refused(Error::kCodeReceived);
  uint64_t allowed_at = o.created_at_ms + config_.min_cancel_delay_ms;
  if (now_ms_ < allowed_at) {
    Reply r = refused(Error::kEarlyCancel);
    r.seconds_left = (allowed_at - now_ms_ + 999) / 1000;  // rounded up
    return r;
  }
  ModelAccount& a = accounts_.at(o.account);
  a.held -= o.price;
  a.available += o.price;
  close(o, OrderState::kCancelled);
  ++cancelled_;
  Reply r = changed();
  r.id = o.id;
  r.amount = o.price;
  return r;
}

Reply ReferenceModel::finish(const SimCommand& c, std::vector<Event>* events) {
  auto it = orders_.find(c.target);
  if (it == orders_.end()) return refused(Error::kOrderNotFound);
  ModelOrder& o = it->second;
  if (!o.active()) return refused(Error::kOrderClosed);
  if (o.state == OrderState::kWaiting) return refused(Error::kNoSmsYet);
  capture(o);
  close(o, OrderState::kFinished);
  ++finished_;
  finished_event(o, false, events);
  Reply r = changed();
  r.id = o.id;
  r.amount = o.price;
  return r;
}

Reply ReferenceModel::retry(const SimCommand& c) {
  auto it = orders_.find(c.target);
  if (it == orders_.end()) return refused(Error::kOrderNotFound);
  ModelOrder& o = it->second;
  if (!o.active()) return refused(Error::kOrderClosed);
  if (o.state == OrderState::kWaiting) return refused(Error::kNoSmsYet);
  Reply r;
  r.changed = o.state != OrderState::kRetry;  // asking again changes nothing
  o.state = OrderState::kRetry;
  r.id = o.id;
  r.state = o.state;
  return r;
}

Reply ReferenceModel::dispute(const SimCommand& c, std::vector<Event>* events) {
  if (c.text.size() > limits::kDisputeReasonBytesMax) return refused(Error::kBadRequest);
  auto it = orders_.find(c.target);
  if (it == orders_.end()) return refused(Error::kOrderNotFound);
  ModelOrder& o = it->second;
  if (o.state == OrderState::kWaiting) return refused(Error::kNoSmsYet);
  if (o.active()) {
    // A received (or retry) order: the charge is captured first, then disputed.
    capture(o);
    close(o, OrderState::kFinished);
    ++finished_;
    finished_event(o, false, events);
  } else if (o.state != OrderState::kFinished) {
    return refused(Error::kOrderClosed);
  }
  o.state = OrderState::kDisputed;
  o.dispute_reason = c.text;
  Reply r = changed();
  r.id = o.id;
  r.state = o.state;
  return r;
}

Reply ReferenceModel::resolve_dispute(const SimCommand& c) {
  auto it = orders_.find(c.target);
  if (it == orders_.end()) return refused(Error::kOrderNotFound);
  ModelOrder& o = it->second;
  if (o.state != OrderState::kDisputed) return refused(Error::kOrderClosed);
  Reply r = changed();
  r.id = o.id;
  if (c.approve) {
    accounts_[o.account].available += o.price;
    o.state = OrderState::kCredited;
    r.amount = o.price;
  } else {
    o.state = OrderState::kFinished;
    r.amount = 0;
  }
  r.state = o.state;
  return r;
}

Reply ReferenceModel::active_orders_of(const SimCommand& c) {
  Reply r;
  for (uint64_t id : active_) {  // ascending id: creation order
    const ModelOrder& o = orders_.at(id);
    if (o.account == c.account) r.mutable_data().orders.push_back(view(o));
  }
  return r;
}

void ReferenceModel::expire(ModelOrder& o, std::vector<Event>* events) {
  if (o.state == OrderState::kWaiting) {
    ModelAccount& a = accounts_.at(o.account);
    a.held -= o.price;
    a.available += o.price;
    close(o, OrderState::kExpired);
    ++expired_;
    if (events) {
      events->push_back(Event{.kind = EventKind::kOrderExpired,
                              .order = o.id,
                              .account = o.account,
                              .at_ms = now_ms_,
                              .amount = o.price});
    }
  } else {
    capture(o);
    close(o, OrderState::kFinished);
    ++finished_;
    finished_event(o, true, events);
  }
}

size_t ReferenceModel::evict(size_t max) {
  size_t evicted = 0;
  // Remembered ids first, oldest first (placements first among those of one millisecond),
  // then closed orders (the engine's order).
  while (evicted < max && !remembered_by_age_.empty() &&
         std::get<0>(remembered_by_age_.begin()->first) + config_.retention_ms <= now_ms_) {
    remembered_.erase(remembered_by_age_.begin()->second);
    remembered_by_age_.erase(remembered_by_age_.begin());
    ++evicted;
  }
  while (evicted < max && !closed_.empty() &&
         closed_.front().first + config_.retention_ms <= now_ms_) {
    uint64_t id = closed_.front().second;
    closed_.pop_front();
    ++evicted;
    if (orders_.at(id).state == OrderState::kDisputed) {
      closed_.emplace_back(now_ms_, id);  // awaiting an admin: kept
      continue;
    }
    orders_.erase(id);
  }
  return evicted;
}

Reply ReferenceModel::tick(const SimCommand& c, std::vector<Event>* events) {
  size_t max = c.max_expired ? c.max_expired : config_.expiries_per_tick_max;
  std::vector<std::pair<uint64_t, uint64_t>> due;  // (deadline, id)
  for (uint64_t id : active_) {
    const ModelOrder& o = orders_.at(id);
    if (o.expires_at_ms <= now_ms_) due.emplace_back(o.expires_at_ms, id);
  }
  std::sort(due.begin(), due.end());
  Reply r;
  for (size_t i = 0; i < due.size() && i < max; ++i) {
    r.expired.push_back(due[i].second);
    expire(orders_.at(due[i].second), events);
  }
  size_t evicted = evict(max);
  r.more_due = due.size() > max || evicted == max;
  r.changed = !r.expired.empty() || evicted > 0;
  return r;
}

// ---- Inventory ----

ModelNumber* ReferenceModel::owned_number(const SimCommand& c) {
  auto it = numbers_.find(c.number);
  if (it == numbers_.end() || it->second.state == ModelNumberState::kRemoved ||
      it->second.supplier != c.gateway) {
    return nullptr;  // anyone else's number is reported as missing
  }
  return &it->second;
}

Reply ReferenceModel::add_number(const SimCommand& c) {
  if (!valid_phone(c.number)) return refused(Error::kBadRequest);
  if (!valid_name(c.country) || !valid_name(c.operator_name) || !valid_name(c.pool)) {
    return refused(Error::kBadRequest);
  }
  if (c.gateway.empty()) return refused(Error::kBadRequest);
  auto it = numbers_.find(c.number);
  if (it != numbers_.end() && it->second.state != ModelNumberState::kRemoved) {
    return refused(Error::kNumberExists);
  }
  ModelNumber& n = numbers_[c.number];  // a removed number comes back with its history
  n.country = c.country;
  n.operator_name = c.operator_name;
  n.pool = c.pool;
  n.supplier = c.gateway;
  n.state = ModelNumberState::kFree;
  n.order = 0;
  n.free_since = ++free_seq_;
  Reply r = changed();
  r.text = c.number;
  return r;
}

Reply ReferenceModel::remove_number(const SimCommand& c) {
  if (!valid_phone(c.number)) return refused(Error::kBadRequest);
  ModelNumber* n = owned_number(c);
  if (n == nullptr) return refused(Error::kNumberNotFound);
  Reply r;
  if (n->state == ModelNumberState::kFree) {
    n->state = ModelNumberState::kRemoved;
    r.changed = true;
  } else if (n->state == ModelNumberState::kBusy) {
    n->state = ModelNumberState::kRemoving;  // leaves when its order closes
    r.changed = true;
  }
  r.text = std::string(number_state_name(n->state));
  return r;
}

Reply ReferenceModel::deliver_sms(const SimCommand& c, std::vector<Event>* events) {
  if (!valid_phone(c.number)) return refused(Error::kBadRequest);
  if (c.text.size() > limits::kSmsTextBytesMax || c.sender.size() > limits::kSmsSenderBytesMax) {
    return refused(Error::kBadRequest);
  }
  ModelNumber* n = owned_number(c);
  if (n == nullptr) return refused(Error::kNumberNotFound);
  Reply r = changed();
  r.code = extract_code(c.text);
  if (n->order == 0) {
    ++sms_dropped_;
    return r;
  }
  ModelOrder& o = orders_.at(n->order);
  if (o.sms.size() < limits::kSmsPerOrderMax)
    o.sms.push_back(Sms{now_ms_, c.sender, c.text, r.code});
  o.state = OrderState::kReceived;
  n->used.insert(o.service);
  ++sms_delivered_;
  r.has_order = true;
  r.id = o.id;
  if (events) {
    events->push_back(Event{.kind = EventKind::kOrderSms,
                            .order = o.id,
                            .account = o.account,
                            .at_ms = now_ms_,
                            .code = r.code,
                            .text = c.text});
  }
  return r;
}

Reply ReferenceModel::set_price(const SimCommand& c) {
  if (!valid_name(c.service) || !valid_name(c.country) || !valid_name(c.pool)) {
    return refused(Error::kBadRequest);
  }
  if (c.amount < 0 || c.amount > limits::kPriceMax || c.payout < 0 || c.payout > c.amount) {
    return refused(Error::kBadRequest);
  }
  prices_[{c.service, c.country}][c.pool] = ModelPrice{c.amount, c.payout};
  return changed();
}

Reply ReferenceModel::stock(const SimCommand& c) {
  Reply r;
  auto from = c.service.empty() ? prices_.begin() : prices_.lower_bound({c.service, ""});
  for (auto it = from; it != prices_.end(); ++it) {
    const auto& [service, country] = it->first;
    const auto& pools = it->second;
    if (!c.service.empty() && service != c.service) break;  // sorted: past that service
    if (!c.country.empty() && country != c.country) continue;
    for (const auto& [pool, p] : pools) {
      if (!c.pool.empty() && pool != c.pool) continue;
      StockRow row{service, country, pool, p.price, 0};
      for (const auto& [phone, n] : numbers_) {
        if (n.state == ModelNumberState::kFree && n.country == country && n.pool == pool &&
            !n.used.contains(service)) {
          ++row.free;
        }
      }
      r.mutable_data().stock.push_back(std::move(row));
    }
  }
  std::vector<StockRow>& rows = r.mutable_data().stock;
  std::sort(rows.begin(), rows.end(), [](const StockRow& a, const StockRow& b) {
    return std::tie(a.service, a.country, a.price, a.pool) <
           std::tie(b.service, b.country, b.price, b.pool);
  });
  return r;
}

Reply ReferenceModel::stats() {
  Reply r;
  EngineStats& s = r.mutable_data().stats;
  s.active_orders = active_.size();
  s.closed_orders_kept = orders_.size() - active_.size();
  s.accounts = accounts_.size();
  for (const auto& [phone, n] : numbers_) {
    switch (n.state) {
      case ModelNumberState::kFree:
        ++s.numbers_free;
        break;
      case ModelNumberState::kBusy:
      case ModelNumberState::kRemoving:
        ++s.numbers_busy;
        break;
      case ModelNumberState::kRemoved:
        ++s.numbers_removed;
        break;
    }
  }
  s.orders_placed = placed_;
  s.orders_expired = expired_;
  s.orders_finished = finished_;
  s.orders_cancelled = cancelled_;
  s.sms_delivered = sms_delivered_;
  s.sms_dropped = sms_dropped_;
  s.deposits = deposits_.size();
  s.payouts_pending = static_cast<uint64_t>(std::count_if(
      refunds_.begin(), refunds_.end(), [](const ModelRefund& f) { return !f.paid; }));
  s.remembered_requests = remembered_.size();
  s.engine_time_ms = now_ms_;
  return r;
}

}  // namespace smsx::sim

#include "core/engine.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "core/assert.h"
#include "core/code_extract.h"
#include "core/phone.h"

namespace smsx {
namespace {

// What makes two requests under one id "the same request": every field its op reads.
// Only compared with another fingerprint under the same key, so a light hash will do.
class Fingerprint {
 public:
  Fingerprint& add(uint64_t v) {
    h_ = (h_ ^ v) * 0x9e3779b97f4a7c15ULL;
    h_ ^= h_ >> 29;
    return *this;
  }
  // Each 8-byte piece as a little-endian word, the last one zero-padded. On little-endian
  // machines the tail is read with fixed-size loads (no call to memcpy); elsewhere byte by
  // byte. Both give the values the snapshot format stores.
  Fingerprint& add(std::string_view s) {
    const char* p = s.data();
    const size_t n = s.size();
    add(n);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) add(load(p + i, 8));
    if (i < n) add(load(p + i, n - i));
    return *this;
  }
  uint64_t value() const { return mix64(h_); }

 private:
  static uint64_t load(const char* p, size_t n) {  // 1 <= n <= 8 bytes
    if constexpr (std::endian::native == std::endian::little) {
      if (n == 8) return read<uint64_t>(p);
      if (n >= 4) {
        // Two overlapping 4-byte reads: bytes [0, 4) and [n - 4, n).
        uint64_t hi = read<uint32_t>(p + n - 4);
        return read<uint32_t>(p) | hi << (8 * (n - 4));
      }
      uint64_t w = static_cast<uint8_t>(p[0]);
      if (n >= 2) w |= uint64_t{static_cast<uint8_t>(p[1])} << 8;
      if (n == 3) w |= uint64_t{static_cast<uint8_t>(p[2])} << 16;
      return w;
    } else {
      uint64_t w = 0;
      std::memcpy(&w, p, n);
      return w;
    }
  }
  template <class T>
  static uint64_t read(const char* p) {
    T v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }

  uint64_t h_ = 0x66696e6765727072ULL;
};

uint64_t fingerprint(const Command& c) {
  Fingerprint f;
  f.add(static_cast<uint64_t>(c.op));
  switch (c.op) {
    case Op::kDeposit:
      f.add(c.account).add(static_cast<uint64_t>(c.amount)).add(static_cast<uint64_t>(c.method));
      f.add(c.ref).add(c.address);
      break;
    case Op::kDepositRefund:
      f.add(c.target).add(c.address);
      break;
    case Op::kOrderPlace:
      f.add(c.account).add(c.service).add(c.country).add(c.pool).add(c.operator_name);
      f.add(c.max_price ? static_cast<uint64_t>(*c.max_price) + 1 : 0);
      break;
    case Op::kOrderDispute:
      f.add(c.target).add(c.text);
      break;
    case Op::kDisputeResolve:
      f.add(c.target).add(c.approve ? 1 : 0);
      break;
    case Op::kPayoutConfirm:
      f.add(c.target).add(c.ref);
      break;
    case Op::kNumberAdd:
      f.add(c.number).add(c.country).add(c.operator_name).add(c.pool);
      break;
    case Op::kNumberRemove:
      f.add(c.number);
      break;
    case Op::kSmsDeliver:
      f.add(c.number).add(c.text).add(c.sender);
      break;
    case Op::kPriceSet:
      f.add(c.service).add(c.country).add(c.pool);
      f.add(static_cast<uint64_t>(c.amount)).add(static_cast<uint64_t>(c.payout));
      break;
    default:  // cancel, finish, retry: the order
      f.add(c.target);
      break;
  }
  return f.value();
}

}  // namespace

Reply error_reply(Error e, std::string_view message) {
  Reply r;
  r.error = e;
  r.message = message;
  return r;
}

Engine::Engine(const EngineConfig& config) : config_(config) {
  SMSX_ASSERT(config_.ttl_ms > 0 && config_.ttl_ms <= UINT32_MAX);
  SMSX_ASSERT(config_.retention_ms <= limits::kDurationMaxMs);
  SMSX_ASSERT(config_.expiries_per_tick_max > 0);
}

Engine::~Engine() {
  // Orders hold timer nodes: unschedule them before the wheel and the orders go.
  if (wheel_) orders_.for_each([&](Order& o) { wheel_->cancel(&o.timer); });
}

timers::TimingWheel& Engine::wheel() {
  if (!wheel_) wheel_ = std::make_unique<timers::TimingWheel>(now_ms_);
  return *wheel_;
}

Reply Engine::apply(const Command& c, std::vector<Event>* events, ReplyUse use) {
  if (c.now_ms > now_ms_) now_ms_ = c.now_ms;
  reply_use_ = use;
  wheel();
  // Every path returns `r`, so the reply is built in place (handlers fill it, no copies).
  Reply r;
  const bool keyed = is_mutating(c.op) && c.op != Op::kTick && !c.key.empty();
  if (!keyed) {
    dispatch(c, events, r);
    return r;
  }
  const uint64_t print = fingerprint(c);
  if (const std::optional<RequestIndex::Ref> ref = requests_.find(c.key)) {
    uint64_t first_print = 0;
    const Order* placed = nullptr;
    const Remembered* m = nullptr;
    if (ref->kind == RequestIndex::Kind::kOrder) {
      placed = order_of(*ref);
      first_print = placed->fingerprint;
    } else {
      m = reply_of(*ref);
      first_print = m->fingerprint;
    }
    if (first_print != print) {
      fail(r, Error::kIdReused, "request id was used for a different request");
    } else {
      if (placed != nullptr) {
        fill_place_reply(*placed, r);
      } else {
        r = recalled_reply(*m);
      }
      r.replayed = true;
    }
    return r;
  }
  dispatch(c, events, r);
  SMSX_ASSERT(!r.changed || r.error == Error::kNone);
  if (r.changed) remember(c, print, r);
  return r;
}

bool Engine::KeyCheck::holds(RequestIndex::Ref ref, const RequestKey& key) const {
  if (ref.kind == RequestIndex::Kind::kOrder) {
    const Order* o = e_.order_of(ref);
    return o != nullptr && o->key == key;
  }
  const Remembered* m = e_.reply_of(ref);
  return m != nullptr && m->key == key;
}

const Order* Engine::order_of(RequestIndex::Ref ref) const {
  return orders_.find(RequestIndex::widen(ref.low, last_order_id_));
}

const Engine::Remembered* Engine::reply_of(RequestIndex::Ref ref) const {
  const uint64_t seq = RequestIndex::widen(ref.low, newest_reply_seq());
  if (seq < replies_front_seq_ || seq - replies_front_seq_ >= replies_.size()) return nullptr;
  return &replies_[seq - replies_front_seq_];
}

Reply Engine::recalled_reply(const Remembered& m) const {
  Reply r;
  r.id = m.id;
  r.available = m.available;
  r.amount = m.amount;
  r.state = m.state;
  r.has_order = m.has_order;
  switch (m.op) {
    case Op::kNumberAdd:
      r.text = unpack_phone(m.aux);
      break;
    case Op::kNumberRemove:
      r.text = number_state_name(static_cast<NumberState>(m.aux));
      break;
    case Op::kDepositRefund:
      r.text = ledger_.refunds()[m.id - 1].destination;
      break;
    case Op::kPayoutConfirm:
      r.text = "paid";
      break;
    case Op::kSmsDeliver:
      if (m.aux != 0) r.code = unpack_code(m.aux);
      break;
    default:
      break;
  }
  return r;
}

void Engine::remember(const Command& c, uint64_t fingerprint, const Reply& reply) {
  if (c.op == Op::kOrderPlace) {
    Order* o = orders_.find(reply.id);
    SMSX_ASSERT(o != nullptr && o->key.empty());
    o->key = c.key;
    o->fingerprint = fingerprint;
    requests_.insert(c.key, RequestIndex::order_ref(o->id()));
    return;
  }
  Remembered& m = replies_.emplace_back();
  m.key = c.key;
  m.fingerprint = fingerprint;
  m.op = c.op;
  m.at_ms = now_ms_;
  m.id = reply.id;
  m.available = reply.available;
  m.amount = reply.amount;
  m.state = reply.state;
  m.has_order = reply.has_order;
  switch (c.op) {
    case Op::kNumberAdd:
      m.aux = *pack_phone(c.number);
      break;
    case Op::kNumberRemove:
      m.aux = static_cast<uint64_t>(reply.text == number_state_name(NumberState::kRemoved)
                                        ? NumberState::kRemoved
                                        : NumberState::kRemoving);
      break;
    case Op::kSmsDeliver:
      m.aux = reply.code ? pack_code(*reply.code) : 0;
      break;
    default:
      break;
  }
  requests_.insert(c.key, RequestIndex::reply_ref(newest_reply_seq()));
}

void Engine::dispatch(const Command& c, std::vector<Event>* events, Reply& r) {
  switch (c.op) {
    case Op::kBalance:
      return balance(c, r);
    case Op::kDeposit:
      return deposit(c, r);
    case Op::kDepositRefund:
      return refund_deposit(c, events, r);
    case Op::kOrderPlace:
      return place(c, r);
    case Op::kOrderGet:
      return get_order(c, r);
    case Op::kOrderCancel:
      return cancel(c, r);
    case Op::kOrderFinish:
      return finish(c, events, r);
    case Op::kOrderRetry:
      return retry(c, r);
    case Op::kOrderDispute:
      return dispute(c, events, r);
    case Op::kOrdersActive:
      return active_orders(c, r);
    case Op::kNumberAdd:
      return add_number(c, r);
    case Op::kNumberRemove:
      return remove_number(c, r);
    case Op::kSmsDeliver:
      return deliver_sms(c, events, r);
    case Op::kPayoutsPending:
      return pending_payouts(c, r);
    case Op::kPayoutConfirm:
      return confirm_payout(c, r);
    case Op::kStock:
      return stock(c, r);
    case Op::kPriceSet:
      return set_price(c, r);
    case Op::kDisputeResolve:
      return resolve_dispute(c, r);
    case Op::kStats:
      r.mutable_data().stats = stats();
      return;
    case Op::kTick:
      return tick(c, events, r);
    case Op::kCount:
      break;
  }
  fail(r, Error::kUnknownOp, "unknown op");
}

std::optional<uint64_t> Engine::next_wake_ms() const {
  std::optional<uint64_t> wake;
  auto earliest = [&](uint64_t t) {
    if (!wake || t < *wake) wake = t;
  };
  if (wheel_) {
    if (auto d = wheel_->next_deadline()) earliest(*d);
  }
  if (!closed_.empty()) earliest(closed_.front().first + config_.retention_ms);
  if (!replies_.empty()) earliest(replies_.front().at_ms + config_.retention_ms);
  if (place_keys_from_ <= last_order_id_) {
    // A lower bound: the order there may have no key, and the first with one comes later.
    const Order* o = orders_.find(place_keys_from_);
    earliest(o != nullptr ? o->created_at_ms() + config_.retention_ms : now_ms_);
  }
  return wake;
}

Order* Engine::oldest_place_key() {
  // Orders without one (placed without a request id, or evicted) are passed over for good.
  for (; place_keys_from_ <= last_order_id_; ++place_keys_from_) {
    Order* o = orders_.find(place_keys_from_);
    if (o != nullptr && !o->key.empty()) return o;
  }
  return nullptr;
}

size_t Engine::evict_request_ids(size_t max) {
  // Oldest first, merging the two queues: placements' keys in order-id order (placement
  // order) and the other replies; a placement goes first among those of one millisecond.
  size_t evicted = 0;
  for (; evicted < max; ++evicted) {
    Order* o = oldest_place_key();
    const uint64_t placed_at = o != nullptr ? o->created_at_ms() : UINT64_MAX;
    const uint64_t replied_at = replies_.empty() ? UINT64_MAX : replies_.front().at_ms;
    const uint64_t at = std::min(placed_at, replied_at);
    if (at == UINT64_MAX || at + config_.retention_ms > now_ms_) break;
    if (placed_at <= replied_at) {
      requests_.erase(o->key, RequestIndex::order_ref(o->id()));
      o->key = {};
      o->fingerprint = 0;
      ++place_keys_from_;
    } else {
      requests_.erase(replies_.front().key, RequestIndex::reply_ref(replies_front_seq_));
      replies_.pop_front();
      ++replies_front_seq_;
    }
  }
  return evicted;
}

size_t Engine::evict_retained(size_t max) {
  // Request ids first: a place remembered at t is then never outlived by its order (closed
  // at or after t), so a retry within the period cannot be applied afresh.
  size_t evicted = evict_request_ids(max);
  while (evicted < max && !closed_.empty() &&
         closed_.front().first + config_.retention_ms <= now_ms_) {
    uint64_t id = closed_.front().second;
    closed_.pop_front();
    ++evicted;
    Order* o = orders_.find(id);
    SMSX_ASSERT(o != nullptr && !o->active());
    if (o->state == OrderState::kDisputed) {
      closed_.emplace_back(now_ms_, id);  // awaiting an admin: kept until resolved
      continue;
    }
    SMSX_ASSERT(o->key.empty());  // its placement's key went first (above)
    orders_.erase(o);
  }
  return evicted;
}

EngineStats Engine::stats() const {
  EngineStats s;
  s.active_orders = active_orders_;
  s.closed_orders_kept = orders_.size() - active_orders_;
  s.accounts = ledger_.accounts();
  s.numbers_free = inventory_.free_count();
  s.numbers_busy = inventory_.busy_count();
  s.numbers_removed = inventory_.removed_count();
  s.orders_placed = placed_;
  s.orders_expired = expired_;
  s.orders_finished = finished_;
  s.orders_cancelled = cancelled_;
  s.sms_delivered = sms_delivered_;
  s.sms_dropped = sms_dropped_;
  s.deposits = ledger_.deposits().size();
  s.payouts_pending = ledger_.pending_payouts().size();
  s.remembered_requests = requests_.size();
  s.engine_time_ms = now_ms_;
  return s;
}

}  // namespace smsx

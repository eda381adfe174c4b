#include "tests/sim/workload_util.h"

#include <algorithm>
#include <array>
#include <iterator>

#include "core/limits.h"

namespace smsx::sim {
namespace {

const std::vector<std::string> kCountries = {"us", "uk"};
const std::vector<std::string> kPools = {"p1", "p2", "p3"};
const std::string kLongPool = "pool-sixteen-abc";      // 16 characters: the longest name
const std::string kTooLongPool = "pool-sixteen-abcd";  // 17: refused
const std::vector<std::string> kOperators = {"op1", "op2", "op3"};
const std::vector<std::string> kSuppliers = {"sup-a", "sup-b", "sup-c"};
constexpr size_t kRecentKeyed = 64;
constexpr size_t kLiveNumbersLow = 12, kLiveNumbersHigh = 20;

// Relative weights of the operations once set-up is done.
constexpr std::array<uint32_t, 20> kWeights = {
    3,   // deposit
    4,   // deposit.refund
    16,  // order.place
    4,   // order.get
    6,   // order.cancel
    6,   // order.finish
    3,   // order.retry
    3,   // order.dispute
    2,   // dispute.resolve
    2,   // orders.active
    0,   // number.add (depends on how many numbers are live)
    0,   // number.remove (likewise)
    14,  // sms.deliver
    1,   // payouts.pending
    2,   // payout.confirm
    2,   // stock
    1,   // price.set
    3,   // balance
    1,   // stats
    10,  // tick
};

template <class T>
const T& nth(const std::set<T>& s, size_t i) {
  return *std::next(s.begin(), static_cast<std::ptrdiff_t>(i));
}

}  // namespace

EngineConfig sim_config(uint64_t seed) {
  Rng rng(seed ^ 0x636f6e666967ULL);
  EngineConfig c;
  const uint64_t ttls[] = {4000, 8000, 12000};
  c.ttl_ms = ttls[rng.below(3)];
  const uint64_t delays[] = {0, 1500, 2500};
  c.min_cancel_delay_ms = delays[rng.below(3)];
  const uint64_t retentions[] = {c.ttl_ms, 2 * c.ttl_ms, 30000};
  c.retention_ms = retentions[rng.below(3)];
  const uint64_t windows[] = {15000, 40000};
  c.refund_window_ms = windows[rng.below(2)];
  const uint32_t per_tick[] = {2, 3, 5, 1000};
  c.expiries_per_tick_max = per_tick[rng.below(4)];
  return c;
}

std::string describe(const EngineConfig& c) {
  return "ttl_ms=" + std::to_string(c.ttl_ms) +
         " min_cancel_delay_ms=" + std::to_string(c.min_cancel_delay_ms) +
         " retention_ms=" + std::to_string(c.retention_ms) +
         " refund_window_ms=" + std::to_string(c.refund_window_ms) +
         " expiries_per_tick_max=" + std::to_string(c.expiries_per_tick_max);
}

Workload::Workload(uint64_t seed, const ReferenceModel& model) : rng_(seed), model_(model) {
  for (int i = 0; i < 24; ++i) phones_.push_back("1555000" + std::to_string(100 + i));
  phones_.push_back("0012345678");       // leading zeros survive
  phones_.push_back("123456789012345");  // 15 digits, the longest
  phones_.push_back("123456");           // 6 digits, the shortest
  start_epochs();
}

void Workload::start_epochs() {
  // Set-up: prices for the first services, numbers, money.
  for (uint64_t k = 0; k < 3; ++k) {
    for (const std::string& country : kCountries) {
      for (const std::string& pool : kPools)
        forced_.push_back(price(service_name(k), country, pool));
    }
  }
  for (size_t i = 0; i < 16; ++i) {
    SimCommand c = add_number();
    c.number = phones_[i];
    c.country = kCountries[i % 2];
    c.pool = kPools[i % 3];
    c.operator_name = kOperators[i % 3];
    forced_.push_back(c);
  }
  for (uint64_t i = 0; i < 6; ++i) {
    SimCommand c = deposit();
    c.account = 1000 + i;
    c.amount = 500;
    c.method = PayMethod::kCard;
    c.ref = "ref-" + std::to_string(next_ref_++);
    c.address.clear();
    forced_.push_back(c);
  }
}

SimCommand Workload::next() {
  ++step_;
  SimCommand c;
  if (step_ % kServiceEpochSteps == 0) {
    // A new service comes in; the oldest one stops being asked for.
    ++service_epoch_;
    for (const std::string& country : kCountries) {
      for (const std::string& pool : kPools) {
        if (rng_.percent(80))
          forced_.push_back(price(service_name(service_epoch_ + 2), country, pool));
      }
    }
  }
  auto due = model_.next_due_ms();
  if (!forced_.empty()) {
    c = std::move(forced_.front());
    forced_.pop_front();
    c.now_ms = next_time(false);
  } else if (last_was_tick_ && due && *due <= now_ms_ && rng_.percent(50)) {
    // The loop ticks again at once while work is due (or, the other half of the time, lets
    // requests in first).
    c = tick();
    c.now_ms = now_ms_;
  } else if (!model_.active_orders().empty() && rng_.percent(1) && rng_.percent(20)) {
    // A burst of SMS to one order: more than an order keeps.
    const ModelOrder& o = model_.orders().at(*model_.active_orders().begin());
    for (size_t i = 0; i < limits::kSmsPerOrderMax + 3; ++i) {
      SimCommand m = sms();
      m.number = o.number;
      m.gateway = model_.numbers().at(o.number).supplier;
      forced_.push_back(std::move(m));
    }
    c = std::move(forced_.front());
    forced_.pop_front();
    c.now_ms = next_time(false);
  } else if (rng_.percent(1) && rng_.percent(5)) {
    // A new customer: the first deposit, an order on it, and a refund of that deposit while
    // the order holds part of it (INSUFFICIENT_AVAILABLE, unless no order could be placed).
    SimCommand d = deposit();
    d.account = kNewAccounts + ++new_accounts_;
    d.amount = static_cast<Amount>(rng_.between(100, 300));
    d.method = PayMethod::kCard;
    d.ref = "ref-" + std::to_string(next_ref_++);
    d.address.clear();
    SimCommand p = place();
    p.account = d.account;
    p.max_price.reset();
    SimCommand r = refund();
    r.target = model_.deposits().size() + 1;  // the deposit above, if nothing comes between
    r.address.clear();
    forced_.push_back(std::move(p));
    forced_.push_back(std::move(r));
    c = std::move(d);
    c.now_ms = next_time(false);
  } else if (!recent_keyed_.empty() && rng_.percent(3)) {
    // An idempotent retry: the same request again, later.
    c = recent_keyed_[rng_.below(recent_keyed_.size())];
    c.now_ms = next_time(false);
    last_was_tick_ = false;
    return c;
  } else {
    uint32_t weights[static_cast<size_t>(Kind::kCount)];
    std::copy(kWeights.begin(), kWeights.end(), weights);
    size_t live = 0;
    for (const auto& [p, n] : model_.numbers()) live += n.state != ModelNumberState::kRemoved;
    weights[static_cast<size_t>(Kind::kAdd)] = live < kLiveNumbersLow ? 8 : 2;
    weights[static_cast<size_t>(Kind::kRemove)] = live > kLiveNumbersHigh ? 6 : 2;
    uint32_t total = 0;
    for (uint32_t w : weights) total += w;
    uint64_t roll = rng_.below(total);
    size_t k = 0;
    while (roll >= weights[k]) roll -= weights[k++];
    c = make(static_cast<Kind>(k));
    c.now_ms = next_time(c.op == Op::kTick);
    if (!c.request_id.empty() && !recent_keyed_.empty() && rng_.percent(2)) {
      // A reused id: an earlier id of the same gateway on a different request (ID_REUSED if
      // the earlier one was remembered). Now and then the id of another gateway, which is a
      // different key altogether.
      for (int tries = 0; tries < 8; ++tries) {
        const SimCommand& old = recent_keyed_[rng_.below(recent_keyed_.size())];
        if (old.gateway == c.gateway || rng_.percent(10)) {
          c.request_id = old.request_id;
          break;
        }
      }
    }
  }
  last_was_tick_ = c.op == Op::kTick;
  if (!c.request_id.empty()) {
    recent_keyed_.push_back(c);
    if (recent_keyed_.size() > kRecentKeyed) recent_keyed_.pop_front();
  }
  return c;
}

uint64_t Workload::next_time(bool tick) {
  uint64_t ttl = model_.config().ttl_ms;
  uint64_t roll = rng_.below(100);
  if (roll < 5) {
    // Exactly at (or 1 ms around) a boundary: a deadline, a cancel delay, a refund window,
    // a retention period.
    std::vector<uint64_t> times = interesting_times();
    if (!times.empty()) {
      uint64_t t = rng_.pick(times);
      if (t >= now_ms_) now_ms_ = t;
      return now_ms_;
    }
  }
  if (tick) {
    if (roll < 30) return now_ms_;
    if (roll < 60) return now_ms_ += rng_.below(1000);
    if (roll < 85) return now_ms_ += rng_.below(ttl);
    if (roll < 99 || rng_.percent(90)) return now_ms_ += rng_.between(ttl, 2 * ttl);
    return now_ms_ += rng_.between(3'600'000, 86'400'000);  // hours at once
  }
  if (roll < 70) return now_ms_ += rng_.below(300);
  return now_ms_ += rng_.between(300, 3000);
}

std::vector<uint64_t> Workload::interesting_times() const {
  std::vector<uint64_t> t;
  const EngineConfig& cfg = model_.config();
  for (uint64_t id : model_.active_orders()) {
    const ModelOrder& o = model_.orders().at(id);
    for (uint64_t d : {o.expires_at_ms - 1, o.expires_at_ms, o.expires_at_ms + 1,
                       o.created_at_ms + cfg.min_cancel_delay_ms - 1,
                       o.created_at_ms + cfg.min_cancel_delay_ms}) {
      t.push_back(d);
    }
  }
  const auto& deposits = model_.deposits();
  for (size_t i = deposits.size() > 4 ? deposits.size() - 4 : 0; i < deposits.size(); ++i) {
    uint64_t end = deposits[i].at_ms + cfg.refund_window_ms;
    t.insert(t.end(), {end - 1, end, end + 1});
  }
  if (auto due = model_.next_due_ms()) t.insert(t.end(), {*due - 1, *due});
  return t;
}

void Workload::keyed(SimCommand& c, std::string gateway) {
  c.gateway = std::move(gateway);
  c.request_id = "r" + std::to_string(++next_request_);
}

void Workload::read_only(SimCommand& c, std::string gateway) { c.gateway = std::move(gateway); }

std::string Workload::live_service() {
  uint64_t roll = rng_.below(100);
  if (roll < 90) return service_name(service_epoch_ + rng_.below(3));
  if (roll < 95 && service_epoch_ > 0) return service_name(service_epoch_ - 1);  // retired
  return "zz";  // a service never priced
}

uint64_t Workload::account() {
  if (rng_.percent(4)) return kGhostAccount;
  return 1000 + step_ / kAccountEpochSteps + rng_.below(6);
}

std::string Workload::supplier() { return kSuppliers[rng_.below(kSuppliers.size())]; }

std::string Workload::phone() {
  uint64_t roll = rng_.below(100);
  if (roll < 95) return rng_.pick(phones_);
  const std::vector<std::string> bad = {"12345", "12a4567", "1234567890123456", ""};
  return rng_.pick(bad);
}

std::string Workload::owner_or_other(const std::string& number) {
  auto it = model_.numbers().find(number);
  if (it != model_.numbers().end() && rng_.percent(92)) return it->second.supplier;
  return supplier();
}

std::string Workload::sms_text() {
  uint64_t roll = rng_.below(100);
  std::string code = std::to_string(rng_.between(1000, 99999999));
  if (roll < 30) return "Your code is " + code;
  if (roll < 40) return "G-" + code + " is your verification code";
  if (roll < 50) return "code " + code.substr(0, 2) + "-" + code.substr(2) + " expires soon";
  if (roll < 55) return "code " + code.substr(0, 2) + " " + code.substr(2);
  if (roll < 62) return "no code in this message";
  if (roll < 65) return "";
  if (roll < 66) return std::string(limits::kSmsTextBytesMax + 1, '7');  // too long
  if (roll < 67) return std::string(limits::kSmsTextBytesMax, 'x');      // the longest
  // Random characters around digits and separators: exercises every extraction path.
  const std::string alphabet = "ab -0123456789";
  std::string s;
  for (uint64_t i = 0, n = rng_.below(24); i < n; ++i) s += alphabet[rng_.below(alphabet.size())];
  return s;
}

uint64_t Workload::pick_order(bool prefer_received) {
  const auto& active = model_.active_orders();
  const auto& orders = model_.orders();
  if (prefer_received && rng_.percent(60)) {
    std::vector<uint64_t> received;
    for (uint64_t id : active) {
      if (orders.at(id).state != OrderState::kWaiting) received.push_back(id);
    }
    if (!received.empty()) return rng_.pick(received);
  }
  uint64_t roll = rng_.below(100);
  if (roll < 50 && !active.empty()) return nth(active, rng_.below(active.size()));
  if (roll < 85 && !orders.empty()) {
    return std::next(orders.begin(), static_cast<std::ptrdiff_t>(rng_.below(orders.size())))->first;
  }
  if (roll < 95) return rng_.between(1, model_.last_order_id() + 2);
  return rng_.below(model_.last_order_id() + 1);  // often evicted long ago; 0 is never an id
}

SimCommand Workload::make(Kind kind) {
  switch (kind) {
    case Kind::kDeposit:
      return deposit();
    case Kind::kRefund:
      return refund();
    case Kind::kPlace:
      return place();
    case Kind::kGet:
      return order_op(Op::kOrderGet);
    case Kind::kCancel:
      return order_op(Op::kOrderCancel);
    case Kind::kFinish:
      return order_op(Op::kOrderFinish);
    case Kind::kRetry:
      return order_op(Op::kOrderRetry);
    case Kind::kDispute:
      return order_op(Op::kOrderDispute);
    case Kind::kResolve:
      return resolve();
    case Kind::kActive: {
      SimCommand c;
      c.op = Op::kOrdersActive;
      read_only(c, customer());
      c.account = account();
      return c;
    }
    case Kind::kAdd:
      return add_number();
    case Kind::kRemove:
      return remove_number();
    case Kind::kSms:
      return sms();
    case Kind::kPending: {
      SimCommand c;
      c.op = Op::kPayoutsPending;
      read_only(c, "pay");
      return c;
    }
    case Kind::kConfirm:
      return confirm();
    case Kind::kStock:
      return stock();
    case Kind::kPrice: {
      std::string service = live_service();
      if (rng_.percent(50)) service = service_name(service_epoch_ + 2);
      uint64_t roll = rng_.below(100);  // p4 never has numbers
      std::string pool = roll < 88 ? rng_.pick(kPools) : roll < 95 ? "p4" : kLongPool;
      return price(service, rng_.pick(kCountries), pool);
    }
    case Kind::kBalance: {
      SimCommand c;
      c.op = Op::kBalance;
      read_only(c, rng_.percent(50) ? customer() : "pay");
      c.account = account();
      return c;
    }
    case Kind::kStats: {
      SimCommand c;
      c.op = Op::kStats;
      read_only(c, "admin");
      return c;
    }
    case Kind::kTick:
      return tick();
    case Kind::kCount:
      break;
  }
  return tick();
}

SimCommand Workload::deposit() {
  SimCommand c;
  c.op = Op::kDeposit;
  keyed(c, "pay");
  c.account = account();
  if (c.account == kGhostAccount) c.account = 1000 + step_ / kAccountEpochSteps;
  uint64_t roll = rng_.below(100);
  c.amount = static_cast<Amount>(rng_.between(20, 300));
  if (roll < 2) c.amount = 0;
  if (roll == 2) c.amount = -5;
  if (roll == 3) c.amount = limits::kAmountMax + 1;
  roll = rng_.below(100);
  c.method = roll < 50 ? PayMethod::kCard : roll < 96 ? PayMethod::kCrypto : PayMethod::kNone;
  roll = rng_.below(100);
  if (roll < 85 || model_.deposits().empty()) {
    c.ref = "ref-" + std::to_string(next_ref_++);
  } else if (roll < 95) {
    c.ref = model_.deposits()[rng_.below(model_.deposits().size())].ref;  // a duplicate
  } else if (roll < 97) {
    c.ref = "";
  } else if (roll < 98) {
    c.ref = std::string(limits::kRefBytesMax - 8, 'r') + std::to_string(10'000'000 + next_ref_++);
  } else {
    c.ref = std::string(limits::kRefBytesMax + 1, 'r');
  }
  roll = rng_.below(100);
  if (c.method == PayMethod::kCrypto) {
    c.address = roll < 92   ? "bc1-" + std::to_string(rng_.below(6))
                : roll < 95 ? ""
                : roll < 97 ? std::string(limits::kAddressBytesMax, 'a')
                            : std::string(limits::kAddressBytesMax + 1, 'a');
  } else if (roll < 10) {
    c.address = "bc1-ignored";  // a card deposit has no origin address
  }
  return c;
}

SimCommand Workload::refund() {
  SimCommand c;
  c.op = Op::kDepositRefund;
  keyed(c, "pay");
  const auto& deposits = model_.deposits();
  uint64_t roll = rng_.below(100);
  // Mostly deposits still within the refund window.
  std::vector<uint64_t> open;
  const uint64_t window = model_.config().refund_window_ms;
  for (size_t i = deposits.size(); i > 0 && deposits[i - 1].at_ms + window + 1 >= now_ms_; --i) {
    open.push_back(i);
  }
  // Recent deposits larger than what their account has available (money held by orders).
  std::vector<uint64_t> holding;
  for (const auto& [id, a] : model_.accounts()) {
    if (a.held == 0) continue;
    for (size_t i = a.deposits.size(); i > 0; --i) {
      const ModelDeposit& d = deposits[a.deposits[i - 1] - 1];
      if (d.at_ms + window < now_ms_) break;
      if (d.refund == 0 && d.amount > a.available) holding.push_back(d.id);
    }
  }
  if (roll < 15 && !holding.empty()) {
    c.target = rng_.pick(holding);  // often INSUFFICIENT_AVAILABLE
  } else if (roll < 60 && !open.empty()) {
    c.target = rng_.pick(open);
  } else if (roll < 75 && !deposits.empty()) {
    c.target = deposits.size() - rng_.below(std::min<size_t>(deposits.size(), 12));
  } else if (roll < 85 && !deposits.empty()) {
    c.target = rng_.between(1, deposits.size());
  } else {
    c.target = rng_.percent(50) ? 0 : deposits.size() + 1 + rng_.below(3);
  }
  roll = rng_.below(100);
  if (roll < 30 && c.target >= 1 && c.target <= deposits.size()) {
    const ModelDeposit& d = deposits[c.target - 1];
    c.address = d.method == PayMethod::kCrypto ? d.from_address : d.ref;  // the right place
  } else if (roll < 45) {
    c.address = "bc1-" + std::to_string(rng_.below(6));  // often the wrong address
  } else if (roll < 50) {
    c.address = "ref-" + std::to_string(rng_.below(next_ref_ + 1));
  }
  return c;
}

SimCommand Workload::place() {
  SimCommand c;
  c.op = Op::kOrderPlace;
  keyed(c, customer());
  c.account = account();
  if (rng_.percent(3)) c.account = 1000 + rng_.below(step_ / kAccountEpochSteps + 1);  // older
  c.service = live_service();
  uint64_t roll = rng_.below(100);
  if (roll < 2) c.service = "Wa!";
  if (roll == 2) c.service = "";
  roll = rng_.below(100);
  c.country = roll < 88 ? rng_.pick(kCountries) : roll < 96 ? "de" : "US";
  roll = rng_.below(100);
  if (roll < 25) c.pool = rng_.pick(kPools);
  if (roll >= 25 && roll < 28) c.pool = rng_.percent(50) ? "p4" : "p9";
  if (roll == 28) c.pool = rng_.percent(50) ? "P1" : kTooLongPool;
  if (roll == 29) c.pool = kLongPool;
  roll = rng_.below(100);
  if (roll < 20) c.operator_name = rng_.pick(kOperators);
  if (roll >= 20 && roll < 24) c.operator_name = "op9";
  if (roll == 24) c.operator_name = "op 1";
  roll = rng_.below(100);
  if (roll < 40) c.max_price = static_cast<Amount>(rng_.below(221));
  if (roll == 40) c.max_price = -1;
  return c;
}

SimCommand Workload::order_op(Op op) {
  SimCommand c;
  c.op = op;
  if (op == Op::kOrderGet) {
    read_only(c, rng_.percent(80) ? customer() : "admin");
  } else {
    keyed(c, customer());
  }
  c.target = pick_order(op == Op::kOrderFinish || op == Op::kOrderRetry || op == Op::kOrderDispute);
  if (op == Op::kOrderDispute) {
    uint64_t roll = rng_.below(100);
    c.text = roll < 80   ? "the code was rejected"
             : roll < 96 ? ""
             : roll < 98 ? std::string(limits::kDisputeReasonBytesMax, 'y')
                         : std::string(limits::kDisputeReasonBytesMax + 1, 'x');
  }
  return c;
}

SimCommand Workload::resolve() {
  SimCommand c;
  c.op = Op::kDisputeResolve;
  keyed(c, "admin");
  std::vector<uint64_t> disputed;
  for (const auto& [id, o] : model_.orders()) {
    if (o.state == OrderState::kDisputed) disputed.push_back(id);
  }
  c.target = !disputed.empty() && rng_.percent(75) ? rng_.pick(disputed) : pick_order(false);
  c.approve = rng_.percent(50);
  return c;
}

SimCommand Workload::add_number() {
  SimCommand c;
  c.op = Op::kNumberAdd;
  c.number = phone();
  // Usually a number that is not live: a new one or a removed one coming back.
  for (int tries = 0; tries < 4 && rng_.percent(80); ++tries) {
    auto it = model_.numbers().find(c.number);
    if (it == model_.numbers().end() || it->second.state == ModelNumberState::kRemoved) break;
    c.number = phone();
  }
  keyed(c, supplier());
  uint64_t roll = rng_.below(100);
  c.country = roll < 96 ? rng_.pick(kCountries) : "US";
  roll = rng_.below(100);
  c.pool = roll < 95 ? rng_.pick(kPools) : roll < 97 ? kLongPool : roll < 98 ? kTooLongPool : "";
  roll = rng_.below(100);
  c.operator_name = roll < 97 ? rng_.pick(kOperators) : "op/1";
  return c;
}

SimCommand Workload::remove_number() {
  SimCommand c;
  c.op = Op::kNumberRemove;
  c.number = phone();
  keyed(c, owner_or_other(c.number));
  return c;
}

SimCommand Workload::sms() {
  SimCommand c;
  c.op = Op::kSmsDeliver;
  uint64_t roll = rng_.below(100);
  const auto& active = model_.active_orders();
  if (roll < 65 && !active.empty()) {
    c.number = model_.orders().at(nth(active, rng_.below(active.size()))).number;
  } else if (roll < 80) {
    std::vector<std::string> free;
    for (const auto& [p, n] : model_.numbers()) {
      if (n.state == ModelNumberState::kFree) free.push_back(p);
    }
    c.number = free.empty() ? phone() : rng_.pick(free);
  } else {
    c.number = phone();
  }
  keyed(c, owner_or_other(c.number));
  c.text = sms_text();
  roll = rng_.below(100);
  c.sender = roll < 60   ? "WhatsApp"
             : roll < 97 ? ""
             : roll < 98 ? std::string(limits::kSmsSenderBytesMax, 's')
                         : std::string(limits::kSmsSenderBytesMax + 1, 's');
  return c;
}

SimCommand Workload::confirm() {
  SimCommand c;
  c.op = Op::kPayoutConfirm;
  keyed(c, "pay");
  const auto& refunds = model_.refunds();
  std::vector<uint64_t> pending;
  for (const ModelRefund& f : refunds) {
    if (!f.paid) pending.push_back(f.id);
  }
  uint64_t roll = rng_.below(100);
  if (roll < 60 && !pending.empty()) {
    c.target = rng_.pick(pending);
  } else if (roll < 85 && !refunds.empty()) {
    c.target = rng_.between(1, refunds.size());
  } else {
    c.target = rng_.percent(50) ? 0 : refunds.size() + 1;
  }
  roll = rng_.below(100);
  c.ref = roll < 70   ? "tx-" + std::to_string(rng_.below(1000))
          : roll < 97 ? ""
          : roll < 98 ? std::string(limits::kRefBytesMax, 't')
                      : std::string(limits::kRefBytesMax + 1, 't');
  return c;
}

SimCommand Workload::stock() {
  SimCommand c;
  c.op = Op::kStock;
  read_only(c, rng_.percent(70) ? customer() : "admin");
  uint64_t roll = rng_.below(100);
  if (roll < 75 || model_.priced_pairs() > 20) {
    c.service = live_service();
  } else if (roll < 80) {
    c.service = "Bad!";
  }
  roll = rng_.below(100);
  if (roll < 45) c.country = rng_.pick(kCountries);
  if (roll >= 45 && roll < 50) c.country = "de";
  roll = rng_.below(100);
  if (roll < 30) c.pool = rng_.percent(90) ? rng_.pick(kPools) : "p4";
  return c;
}

SimCommand Workload::price(const std::string& service, const std::string& country,
                           const std::string& pool) {
  SimCommand c;
  c.op = Op::kPriceSet;
  keyed(c, "admin");
  c.service = service;
  c.country = country;
  c.pool = pool;
  c.amount = rng_.percent(3) ? 0 : static_cast<Amount>(rng_.between(1, 200));
  c.payout = static_cast<Amount>(rng_.below(static_cast<uint64_t>(c.amount) + 1));
  uint64_t roll = rng_.below(100);
  if (roll == 0) c.payout = c.amount + 1;
  if (roll == 1) c.amount = -1;
  if (roll == 2) c.amount = limits::kPriceMax + 1;
  if (roll == 3) c.payout = -1;
  if (roll == 4) c.service = "S1";
  if (roll == 5) c.pool = "";
  return c;
}

SimCommand Workload::tick() {
  SimCommand c;
  c.op = Op::kTick;
  c.gateway = "loop";
  if (rng_.percent(40)) c.max_expired = static_cast<uint32_t>(rng_.between(1, 4));
  return c;
}

}  // namespace smsx::sim

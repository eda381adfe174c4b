// A reference model of the engine for the deterministic simulation: the domain rules of
// DESIGN.md and PROTOCOL.md written as plainly as possible, with std::map and linear scans
// and none of the engine's machinery (no timing wheel, no free logs, no symbols, no chunks).
//
// apply() predicts the exact reply and events the engine must give for a command and
// updates the model. Where the documents are silent the model follows the engine's choice;
// engine_sim_test.cc lists those choices at the top.
//
// What is modelled:
// - ids: orders, deposits and refunds are numbered 1, 2, 3, ... in creation order;
// - matching: among the prices of (service, country) (filtered by pool), cheapest first and
//   equal prices by pool name, the first pool with a free number not yet used for the
//   service (filtered by operator) wins, and within it the number freed or added least
//   recently, whatever its operator;
// - time: the model's time is the largest command time seen; a tick expires the active
//   orders whose deadline is due, in (deadline, order id) order, at most max_expired of
//   them, then evicts remembered request ids and then closed orders whose retention ran
//   out, oldest first, at most max_expired evictions in all (a disputed order is kept: it
//   goes to the back of the queue);
// - idempotency: a request that changed state is remembered under (gateway, request id)
//   with the reply; the same key with the same fields (those its op takes) gets that reply
//   again (replayed, nothing changed), with other fields ID_REUSED. A remembered id is kept
//   for the retention period from the time it was (last) remembered;
// - orders keep the country and pool they were placed in, whatever becomes of the number.
//
// Not modelled (not observable in any reply): supplier payables and system accounts.
// Single-threaded.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "core/command.h"
#include "core/engine_config.h"
#include "tests/sim/sim_command_util.h"

namespace smsx::sim {

struct ModelAccount {
  Amount available = 0;
  Amount held = 0;
  Amount captured = 0;             // every price ever captured (FIFO deposit attribution)
  std::vector<uint64_t> deposits;  // ids, oldest first
};

struct ModelDeposit {
  uint64_t id = 0, account = 0, at_ms = 0;
  Amount amount = 0;
  PayMethod method = PayMethod::kNone;
  std::string ref, from_address;
  uint64_t refund = 0;  // refund id once refunded
};

struct ModelRefund {
  uint64_t id = 0, deposit = 0, account = 0, at_ms = 0;
  Amount amount = 0;
  PayMethod method = PayMethod::kNone;
  std::string destination;
  bool paid = false;
};

enum class ModelNumberState { kFree, kBusy, kRemoving, kRemoved };

struct ModelNumber {
  std::string country, operator_name, pool, supplier;
  ModelNumberState state = ModelNumberState::kFree;
  uint64_t order = 0;          // the active order while busy or removing
  uint64_t free_since = 0;     // sequence number of the last time it was added or freed
  std::set<std::string> used;  // services it received an SMS for: never sold for them again
};

struct ModelPrice {
  Amount price = 0, payout = 0;
};

struct ModelOrder {
  uint64_t id = 0, account = 0;
  std::string number, service, country, pool;  // as when placed
  Amount price = 0, payout = 0;
  uint64_t created_at_ms = 0, expires_at_ms = 0;
  OrderState state = OrderState::kWaiting;
  std::vector<Sms> sms;
  std::string dispute_reason;
  bool active() const {
    return state == OrderState::kWaiting || state == OrderState::kReceived ||
           state == OrderState::kRetry;
  }
};

class ReferenceModel {
 public:
  explicit ReferenceModel(const EngineConfig& config);

  // The reply (and events, appended to *events) the engine must give; updates the model.
  Reply apply(const SimCommand& c, std::vector<Event>* events);

  // Read access for the workload generator and the simulation's own checks.
  uint64_t now_ms() const { return now_ms_; }
  const EngineConfig& config() const { return config_; }
  const std::map<uint64_t, ModelAccount>& accounts() const { return accounts_; }
  const std::vector<ModelDeposit>& deposits() const { return deposits_; }
  const std::vector<ModelRefund>& refunds() const { return refunds_; }
  const std::map<std::string, ModelNumber>& numbers() const { return numbers_; }
  // Orders kept: active ones and closed ones within retention (or disputed).
  const std::map<uint64_t, ModelOrder>& orders() const { return orders_; }
  const std::set<uint64_t>& active_orders() const { return active_; }
  uint64_t last_order_id() const { return last_order_id_; }
  bool priced(const std::string& service, const std::string& country) const;
  // How many (service, country) pairs have prices.
  size_t priced_pairs() const { return prices_.size(); }
  // The earliest time at which a tick has something to do (a deadline or an eviction).
  std::optional<uint64_t> next_due_ms() const;

 private:
  using Key = std::pair<std::string, std::string>;  // (gateway, request id)
  struct Remembered {
    std::string fingerprint;
    uint64_t at_ms = 0, seq = 0;
    bool place = false;  // an order.place: forgotten once its order was evicted
    uint64_t order = 0;
    Reply reply;
  };

  Reply dispatch(const SimCommand& c, std::vector<Event>* events);
  void remember(const Key& key, std::string fingerprint, const SimCommand& c, const Reply& r);

  Reply balance(const SimCommand& c);
  Reply deposit(const SimCommand& c);
  Reply refund_deposit(const SimCommand& c, std::vector<Event>* events);
  Reply pending_payouts();
  Reply confirm_payout(const SimCommand& c);

  Reply place(const SimCommand& c);
  Reply get_order(const SimCommand& c);
  Reply cancel(const SimCommand& c);
  Reply finish(const SimCommand& c, std::vector<Event>* events);
  Reply retry(const SimCommand& c);
  Reply dispute(const SimCommand& c, std::vector<Event>* events);
  Reply resolve_dispute(const SimCommand& c);
  Reply active_orders_of(const SimCommand& c);
  Reply tick(const SimCommand& c, std::vector<Event>* events);

  Reply add_number(const SimCommand& c);
  Reply remove_number(const SimCommand& c);
  Reply deliver_sms(const SimCommand& c, std::vector<Event>* events);
  Reply set_price(const SimCommand& c);
  Reply stock(const SimCommand& c);
  Reply stats();

  // An order leaves the active set: its number is freed (or removed if removing).
  void close(ModelOrder& o, OrderState state);
  void capture(ModelOrder& o);
  void expire(ModelOrder& o, std::vector<Event>* events);
  void finished_event(const ModelOrder& o, bool auto_finish, std::vector<Event>* events);
  size_t evict(size_t max);
  OrderView view(const ModelOrder& o) const;
  ModelNumber* owned_number(const SimCommand& c);

  EngineConfig config_;
  uint64_t now_ms_ = 0;
  std::map<uint64_t, ModelAccount> accounts_;
  std::vector<ModelDeposit> deposits_;  // id = index + 1
  std::set<std::string> refs_;
  Amount deposited_total_ = 0;
  std::vector<ModelRefund> refunds_;  // id = index + 1
  std::map<std::string, ModelNumber> numbers_;
  uint64_t free_seq_ = 0;
  // (service, country) -> pool -> price.
  std::map<std::pair<std::string, std::string>, std::map<std::string, ModelPrice>> prices_;
  std::map<uint64_t, ModelOrder> orders_;
  std::set<uint64_t> active_;
  uint64_t last_order_id_ = 0;
  std::deque<std::pair<uint64_t, uint64_t>> closed_;  // (closed or re-queued at, order id)
  std::map<Key, Remembered> remembered_;
  // (at, 0 for a placement, seq) -> key: the engine evicts placements' ids first among those
  // remembered in one millisecond (they are kept apart from other requests' replies).
  using Age = std::tuple<uint64_t, int, uint64_t>;
  static Age age_of(const Remembered& m) { return {m.at_ms, m.place ? 0 : 1, m.seq}; }
  std::map<Age, Key> remembered_by_age_;
  uint64_t remember_seq_ = 0;
  uint64_t placed_ = 0, expired_ = 0, finished_ = 0, cancelled_ = 0;
  uint64_t sms_delivered_ = 0, sms_dropped_ = 0;
};

}  // namespace smsx::sim

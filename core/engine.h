// The engine: a deterministic, in-memory state machine over balances, numbers and orders.
//
// apply(command) is the only way state changes. Every input is in the command, including
// the time; the engine reads no clock, draws no random number and never lets hash-map
// iteration order decide anything, so the same commands give the same state (checked by
// digest()). Replies with `changed` set must be logged, in apply order; replaying that log
// (ticks included, with the order ids they expired) rebuilds the same state.
//
// Time: engine time is the largest command time seen; it never goes backwards. Order
// deadlines live in the timing wheel; a tick command expires what is due, at most
// expiries_per_tick_max per tick, and evicts closed orders and remembered request ids
// older than the retention period (oldest first, from FIFO queues: the period is one
// constant and engine time is monotonic, so insertion order is eviction order).
//
// Single-threaded: one thread owns an Engine.
#pragma once

#include <absl/container/flat_hash_map.h>

#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/command.h"
#include "core/engine_config.h"
#include "core/inventory.h"
#include "core/ledger.h"
#include "core/order_store.h"
#include "core/request_index.h"
#include "timers/timing_wheel.h"

namespace smsx {

class ByteSink;  // core/byte_io.h

class Engine {
 public:
  explicit Engine(const EngineConfig& config = {});
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;
  ~Engine();

  // What the caller reads of a reply. Replaying the log reads only `changed` and `error`;
  // the engine then skips formatting what only a client reads (a placed order's number).
  enum class ReplyUse : uint8_t { kFull, kChangedOnly };

  // Applies one command; events caused by it are appended to *events (may be nullptr).
  Reply apply(const Command& command, std::vector<Event>* events, ReplyUse use = ReplyUse::kFull);

  // A hint for a caller that holds the commands to come (replay): starts loading what
  // apply(c) looks up first, its request id's slot, so that the cache miss overlaps with
  // applying the commands before it. Changes nothing.
  void prefetch(const Command& c) const {
    if (!c.key.empty()) requests_.prefetch(c.key);
  }

  // Room for about `n` more remembered request ids, so that a replay that knows roughly how
  // many keyed records are coming does not grow the table step by step. Changes nothing.
  void reserve_request_ids(size_t n) { requests_.reserve(n); }

  // The earliest engine time at which a tick may have work (a lower bound), if any.
  std::optional<uint64_t> next_wake_ms() const;
  uint64_t now_ms() const { return now_ms_; }
  const EngineConfig& config() const { return config_; }

  // A 64-bit stable hash over the whole state in a canonical order.
  uint64_t digest() const;
  // Checks invariants 1-4 of DESIGN.md in O(state); aborts with file:line on a violation.
  void check_invariants() const;

  const Ledger& ledger() const { return ledger_; }
  const Inventory& inventory() const { return inventory_; }
  EngineStats stats() const;

  // Snapshots (engine_snapshot.cc; format: docs/wal_format.md, "Engine snapshot body").
  // save() streams the whole state to `sink` in a canonical order (equal states give equal
  // bytes); false as soon as the sink fails. It only reads: no lock, no thread, so a forked
  // child may call it. load() returns an engine with that state and its timers rescheduled,
  // or nullptr and *error naming what is wrong with `body` (it never crashes on bad bytes);
  // it may use a second thread, joined before it returns.
  bool save(ByteSink& sink) const;
  static std::unique_ptr<Engine> load(std::span<const uint8_t> body, const EngineConfig& config,
                                      std::string* error);

 private:
  friend class EngineSnapshot;
  // The first reply of a request other than a placement that changed state, as much of it
  // as mutating ops fill (no lists). Everything else is rebuilt from state that never
  // changes once written: the number (packed in `aux`), a refund's destination, a number's
  // new state, an SMS code (`aux`). A placement's reply is rebuilt from its order, which
  // holds the placement's key and fingerprint instead.
  struct Remembered {
    RequestKey key;
    uint64_t fingerprint = 0;
    uint64_t id = 0;
    Amount available = 0, amount = 0;
    uint64_t aux = 0;
    uint64_t at_ms = 0;  // when remembered
    Op op = Op::kStats;
    OrderState state = OrderState::kWaiting;
    bool has_order = false;
  };
  Reply recalled_reply(const Remembered& m) const;
  // Tells the request index whether a key is the one stored with what an entry names.
  class KeyCheck final : public RequestIndex::KeyCheck {
   public:
    explicit KeyCheck(const Engine& e) : e_(e) {}
    bool holds(RequestIndex::Ref ref, const RequestKey& key) const override;

   private:
    const Engine& e_;
  };
  const Order* order_of(RequestIndex::Ref ref) const;
  const Remembered* reply_of(RequestIndex::Ref ref) const;
  // The sequence number of replies_.back() (replies_front_seq_ - 1 when there is none).
  uint64_t newest_reply_seq() const { return replies_front_seq_ + replies_.size() - 1; }

  // Each handler fills `r`, a fresh Reply owned by apply() (built in place, never moved).
  static void fail(Reply& r, Error e, std::string_view message) {
    r.error = e;
    r.message = message;
  }
  void dispatch(const Command& c, std::vector<Event>* events, Reply& r);
  // Remembers a request that changed state, under its key, from its first reply.
  void remember(const Command& c, uint64_t fingerprint, const Reply& reply);
  // Forgets the request ids remembered longer than the retention period, at most `max`.
  size_t evict_request_ids(size_t max);
  // The oldest order whose placement key is remembered (moving place_keys_from_ to it).
  Order* oldest_place_key();

  // Orders (engine_orders.cc).
  void place(const Command& c, Reply& r);
  void get_order(const Command& c, Reply& r);
  void cancel(const Command& c, Reply& r);
  void finish(const Command& c, std::vector<Event>* events, Reply& r);
  void retry(const Command& c, Reply& r);
  void dispute(const Command& c, std::vector<Event>* events, Reply& r);
  void resolve_dispute(const Command& c, Reply& r);
  void active_orders(const Command& c, Reply& r);
  void tick(const Command& c, std::vector<Event>* events, Reply& r);
  void expire(Order& o, std::vector<Event>* events);
  void capture(Order& o, Account& a);
  void close(Order& o, Account* a, OrderState state);  // a: the order's account
  size_t evict_retained(size_t max);
  OrderView view(const Order& o) const;
  void view_into(const Order& o, OrderView& v) const;  // v: a fresh OrderView
  Reply place_reply(const Order& o) const;
  void fill_place_reply(const Order& o, Reply& r) const;

  // Money (engine_money.cc).
  void balance(const Command& c, Reply& r);
  void deposit(const Command& c, Reply& r);
  void refund_deposit(const Command& c, std::vector<Event>* events, Reply& r);
  void pending_payouts(const Command& c, Reply& r);
  void confirm_payout(const Command& c, Reply& r);

  // Inventory (engine_inventory.cc).
  void add_number(const Command& c, Reply& r);
  void remove_number(const Command& c, Reply& r);
  void deliver_sms(const Command& c, std::vector<Event>* events, Reply& r);
  void set_price(const Command& c, Reply& r);
  void stock(const Command& c, Reply& r);

  timers::TimingWheel& wheel();

  EngineConfig config_;
  ReplyUse reply_use_ = ReplyUse::kFull;  // of the command being applied
  uint64_t now_ms_ = 0;
  std::unique_ptr<timers::TimingWheel> wheel_;  // created at the first command's time
  Ledger ledger_;
  Inventory inventory_;
  OrderStore orders_;
  uint64_t last_order_id_ = 0;
  std::deque<std::pair<uint64_t, uint64_t>> closed_;  // (closed at, order id), oldest first
  // Remembered request ids: one 8-byte entry per id within the retention period. A
  // placement's key lives in its order (evicted in order-id order, which is placement
  // order); any other request's lives with its reply in `replies_` (evicted oldest first).
  KeyCheck key_check_{*this};
  RequestIndex requests_{key_check_};
  std::deque<Remembered> replies_;  // oldest first
  uint64_t replies_front_seq_ = 1;  // the sequence number of replies_.front(); the first is 1
  uint64_t place_keys_from_ = 1;    // no order below this id has its key remembered
  uint64_t active_orders_ = 0;
  uint64_t placed_ = 0, expired_ = 0, finished_ = 0, cancelled_ = 0;
  uint64_t sms_delivered_ = 0, sms_dropped_ = 0;
};

// A reply with an error and a message for people.
Reply error_reply(Error e, std::string_view message);

}  // namespace smsx

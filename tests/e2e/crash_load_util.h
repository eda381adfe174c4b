// Crash-test support: a seeded, pipelined load over several gateway connections, and a
// model of what the acknowledged replies imply.
//
// Every mutating request the load sends is kept in the Model with the first reply it got.
// A request whose reply was read before the server died is acknowledged; the ones in flight
// at the kill are unknown until they are sent again after the restart (a retry with the same
// id returns the first reply if the request was applied, and is evaluated afresh if not), so
// after that every request's outcome is known and the model is exact: deposits, refunds,
// payouts and orders, and from them each account's balance and each order's state (up to
// the one ambiguity that OrderInfo::implied_state names).
//
// Single-threaded: the load, the model and the checks all run on the test's thread. The
// sockets are non-blocking and multiplexed with poll(); a poll that sees nothing for 10 s
// fails the test instead of hanging it.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace smsx::e2e::crash {

// The processes that this process's children have forked (smsxd's snapshot writers), from
// /proc/<pid>/task/<tid>/children.
std::vector<int> grandchildren();

// Reads replies with one reusable parser.
class Reader {
 public:
  Reader();
  ~Reader();
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;
  bool parse(std::string_view json);  // false if not a JSON object
  bool ok() const;
  std::string str(std::string_view name) const;  // "" if absent or not a string
  int64_t i64(std::string_view name) const;      // -1 if absent or null
  bool is_null(std::string_view name) const;
  size_t array_size(std::string_view name) const;  // 0 if absent
  // For each element of the array `name`: the value of its integer field `field`.
  std::vector<int64_t> array_field(std::string_view name, std::string_view field) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

enum class Role { kPayments, kSupplier, kAdmin, kCustomer };
const char* token_of(Role role);

enum class Kind {
  kDeposit,
  kRefund,
  kConfirm,
  kNumberAdd,
  kPriceSet,
  kPlace,
  kCancel,
  kFinish,
  kSms,
  kRetry,
  kDispute,
  kResolve,
  kNumberRemove,
};

// One mutating request and its first reply.
struct Op {
  Kind kind = Kind::kDeposit;
  Role role = Role::kPayments;
  std::string id;
  std::string line;  // the request, without '\n'
  // What it names (which fields are used depends on kind).
  uint64_t account = 0, target = 0;
  int64_t amount = 0;
  std::optional<int64_t> max_price;
  std::string number, service;
  std::string address;  // deposit: where its refund must go; deposit.refund: to_address
  std::string text;     // sms.deliver
  bool crypto = false;
  bool approve = false;  // dispute.resolve
  // The first reply: read before a kill (acknowledged) or on the retry after the restart.
  std::optional<std::string> reply;
  bool accepted = false;  // the reply has ok:true (the request changed state)
};

struct DepositInfo {
  uint64_t account = 0;
  int64_t amount = 0;
  std::string destination;  // where a refund must go: from_address (crypto) or ref (card)
  bool refunded = false;
};
struct RefundInfo {
  uint64_t deposit = 0;
  int64_t amount = 0;
  bool confirmed = false;
};
struct OrderInfo {
  uint64_t account = 0;
  std::string number, service;
  int64_t price = 0;
  bool cancelled = false, finished = false, retried = false, disputed = false;
  std::optional<bool> resolved;  // approved or rejected
  int sms = 0;                   // acknowledged SMS that named this order
  // The state the replies imply: "retry|received" when a retry and an SMS both came back
  // (their order across connections is unknown).
  std::string implied_state() const;
  bool state_matches(std::string_view state) const;
  bool charged() const { return finished && resolved != true; }  // credited: paid back
  bool active() const { return !cancelled && !finished; }
};

// Everything the replies with ok:true imply, and the pools the load draws from.
class Model {
 public:
  explicit Model(uint64_t seed) : rng_(seed) {}

  // A new request for a connection of `role`; nullopt when that role has nothing to send.
  std::optional<size_t> next(Role role);
  // The setup: prices, numbers and a first deposit for every account.
  std::vector<size_t> setup_ops();
  // Records the first reply of op `index` (checks what it says against the model).
  void record(size_t index, std::string reply);

  std::vector<Op>& ops() { return ops_; }
  const std::map<uint64_t, DepositInfo>& deposits() const { return deposits_; }
  const std::map<uint64_t, RefundInfo>& refunds() const { return refunds_; }
  const std::map<uint64_t, OrderInfo>& orders() const { return orders_; }
  std::vector<uint64_t> accounts() const;
  // SMS replies that named an order whose place reply is not known yet (its request was in
  // flight on another connection). Once every outcome is known there must be none.
  size_t unresolved_sms() const { return sms_before_place_.size(); }

 private:
  size_t add(Op op);
  void sms_to(uint64_t order, const std::string& number);
  size_t new_deposit();
  size_t new_number();
  size_t new_price();
  uint64_t pick(uint64_t n) { return std::uniform_int_distribution<uint64_t>(0, n - 1)(rng_); }
  template <class T>
  const T* pick_from(const std::vector<T>& v) {
    return v.empty() ? nullptr : &v[pick(v.size())];
  }

  std::mt19937_64 rng_;
  Reader reader_;
  std::vector<Op> ops_;
  uint64_t counter_ = 0;
  std::map<uint64_t, DepositInfo> deposits_;
  std::map<uint64_t, RefundInfo> refunds_;
  std::map<uint64_t, OrderInfo> orders_;
  std::multimap<uint64_t, std::string> sms_before_place_;  // order -> number
  // Pools to draw references from (entries may be stale; the server judges).
  std::vector<uint64_t> deposit_ids_, waiting_orders_, received_orders_;
  // Each of these is taken out when a request for it is sent, so that each order is retried,
  // disputed and resolved at most once, each refund confirmed and each number removed at most
  // once (a second retry, confirm or remove would succeed but change nothing, so it would not
  // be remembered, and a later retry of it could rightly get another answer).
  std::vector<uint64_t> refund_ids_, finished_orders_, disputed_orders_;
  std::set<uint64_t> retry_sent_;
  std::vector<std::string> numbers_;
};

// Non-blocking connections, one per entry of `roles`, each authenticated with its role's
// token, multiplexed with poll().
class Pipeline {
 public:
  struct Conn {
    int fd = -1;
    Role role = Role::kPayments;
    size_t window = 1;  // requests in flight at most
    std::string out, in;
    std::deque<uint64_t> inflight;  // tags, in send order
  };
  // A request to send on a connection of `role`: (tag, line), or nullopt for none now.
  using Source = std::function<std::optional<std::pair<uint64_t, std::string>>(Role)>;
  // A reply (an event-free line) for the request with `tag`.
  using Sink = std::function<void(uint64_t tag, std::string reply)>;

  Pipeline(uint16_t port, const std::vector<std::pair<Role, size_t>>& roles_and_windows);
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;
  bool ok() const { return ok_; }

  // Sends what `source` gives and hands each reply to `sink`, until every connection has
  // nothing in flight and nothing to send, or `stop_after` replies were read: then returns
  // true at once, with whatever is still in flight left unanswered (tags in in_flight()).
  // false on a timeout or a lost connection (with a gtest failure).
  bool run(const Source& source, const Sink& sink, uint64_t stop_after = UINT64_MAX);
  std::vector<uint64_t> in_flight() const;

 private:
  bool pump(Conn& c, short revents, const Sink& sink, uint64_t* replies, uint64_t stop_after);
  std::vector<Conn> conns_;
  bool ok_ = true;
};

// Sends `lines` (each with a tag) on one connection of `role` with up to `window` in flight
// and hands each reply to `sink`; false on failure.
bool send_all(uint16_t port, Role role, const std::vector<std::pair<uint64_t, std::string>>& lines,
              const Pipeline::Sink& sink, size_t window = 128);

}  // namespace smsx::e2e::crash

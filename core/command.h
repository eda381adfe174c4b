// The engine's inputs and outputs: one Command in, one Reply (+ Events) out.
//
// A Command carries everything the engine needs, including the time it is applied at
// (DESIGN.md "Time is a command"). String fields are views: they must stay valid for the
// duration of Engine::apply only; the engine copies what it keeps. Which fields an op uses
// is listed beside each op; the others are ignored (and left default by decoders).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/errors.h"
#include "core/hash.h"
#include "core/money.h"

namespace smsx {

enum class Op : uint8_t {
  kBalance = 1,     // account
  kDeposit,         // account, amount, method, ref, address (crypto origin)
  kDepositRefund,   // target (deposit), address (optional destination)
  kOrderPlace,      // account, service, country, pool?, operator?, max_price?
  kOrderGet,        // target (order)
  kOrderCancel,     // target
  kOrderFinish,     // target
  kOrderRetry,      // target
  kOrderDispute,    // target, text (reason)
  kOrdersActive,    // account
  kNumberAdd,       // actor (supplier), number, country, operator, pool
  kNumberRemove,    // actor, number
  kSmsDeliver,      // actor, number, text, sender
  kPayoutsPending,  // -
  kPayoutConfirm,   // target (refund), ref (txid, optional)
  kStock,           // service?, country?, pool?
  kPriceSet,        // service, country, pool, amount (price), payout
  kDisputeResolve,  // target (order), approve
  kStats,           // -
  kTick,            // max_expired; replay_expired when replaying a logged tick
  kCount,
};

// True for ops that may change state (they carry an idempotency key and are logged).
constexpr bool is_mutating(Op op) {
  switch (op) {
    case Op::kDeposit:
    case Op::kDepositRefund:
    case Op::kOrderPlace:
    case Op::kOrderCancel:
    case Op::kOrderFinish:
    case Op::kOrderRetry:
    case Op::kOrderDispute:
    case Op::kNumberAdd:
    case Op::kNumberRemove:
    case Op::kSmsDeliver:
    case Op::kPayoutConfirm:
    case Op::kPriceSet:
    case Op::kDisputeResolve:
    case Op::kTick:
      return true;
    default:
      return false;
  }
}

enum class PayMethod : uint8_t { kNone = 0, kCard, kCrypto };

enum class OrderState : uint8_t {
  kWaiting = 0,
  kReceived,
  kRetry,
  kFinished,
  kCancelled,
  kExpired,
  kDisputed,
  kCredited,
};

std::string_view order_state_name(OrderState s);
std::string_view pay_method_name(PayMethod m);

struct Command {
  Op op = Op::kStats;
  uint64_t now_ms = 0;
  RequestKey key;          // idempotency key; empty for read-only ops
  std::string_view actor;  // the gateway's name (owner of numbers for supplier ops)
  uint64_t account = 0;
  uint64_t target = 0;  // order, deposit or refund id
  Amount amount = 0;    // deposit amount, or price for price.set
  Amount payout = 0;
  std::optional<Amount> max_price;
  PayMethod method = PayMethod::kNone;
  bool approve = false;
  std::string_view ref;      // processor reference (deposit), txid (payout.confirm)
  std::string_view address;  // crypto origin (deposit) or destination (deposit.refund)
  std::string_view service, country, pool, operator_name;
  std::string_view number;  // phone digits
  std::string_view text;    // SMS text or dispute reason
  std::string_view sender;
  uint32_t max_expired = 0;                  // tick
  bool replay = false;                       // tick: apply replay_expired, do not time
  std::span<const uint64_t> replay_expired;  // tick: order ids a logged tick expired
};

struct Sms {
  uint64_t at_ms = 0;
  std::string sender;
  std::string text;
  std::optional<std::string> code;
};

struct OrderView {
  uint64_t order = 0;
  uint64_t account = 0;
  OrderState state = OrderState::kWaiting;
  std::string number, service, country, pool;
  Amount price = 0;
  uint64_t created_at_ms = 0;
  uint64_t expires_at_ms = 0;
  std::vector<Sms> sms;
};

struct PayoutView {
  uint64_t refund = 0, deposit = 0, account = 0;
  Amount amount = 0;
  PayMethod method = PayMethod::kNone;
  std::string destination;
  uint64_t at_ms = 0;
};

struct StockRow {
  std::string service, country, pool;
  Amount price = 0;
  uint64_t free = 0;
};

struct EngineStats {
  uint64_t active_orders = 0, closed_orders_kept = 0, accounts = 0;
  uint64_t numbers_free = 0, numbers_busy = 0, numbers_removed = 0;
  uint64_t orders_placed = 0, orders_expired = 0, orders_finished = 0, orders_cancelled = 0;
  uint64_t sms_delivered = 0, sms_dropped = 0, deposits = 0, payouts_pending = 0;
  uint64_t remembered_requests = 0, engine_time_ms = 0;
};

// What only list-returning and view-returning ops fill; kept out of Reply so that the
// common replies stay small and cheap to make.
struct ReplyData {
  OrderView order;
  std::vector<OrderView> orders;
  std::vector<PayoutView> payouts;
  std::vector<StockRow> stock;
  EngineStats stats;
};

// One reply. `error` is kNone on success; only the fields of the op are meaningful.
struct Reply {
  Error error = Error::kNone;
  bool changed = false;    // state changed: the command must be logged
  bool replayed = false;   // an idempotent retry answered from memory
  bool has_order = false;  // sms.deliver: whether an active order took it
  bool more_due = false;   // tick: call again, more is due now
  OrderState state = OrderState::kWaiting;
  std::string_view message;  // for people, on errors (a static string)
  uint64_t id = 0;           // order / deposit / refund id the op created or touched
  Amount available = 0, held = 0;
  Amount amount = 0;  // price, refunded, charged, credited, min_price, amount
  uint64_t expires_at_ms = 0;
  uint64_t seconds_left = 0;
  std::string text;  // number, destination, state name of a number
  std::optional<std::string> code;
  std::unique_ptr<ReplyData> data;  // order.get, orders.active, payouts, stock, stats
  std::vector<uint64_t> expired;    // tick: order ids expired, in order

  ReplyData& mutable_data() {
    if (!data) data = std::make_unique<ReplyData>();
    return *data;
  }
};

enum class EventKind : uint8_t { kOrderSms = 1, kOrderExpired, kOrderFinished, kRefundPayout };

std::string_view event_name(EventKind k);

struct Event {
  EventKind kind = EventKind::kOrderSms;
  uint64_t order = 0, account = 0, at_ms = 0;
  Amount amount = 0;  // refunded, charged, payout amount
  bool auto_finish = false;
  std::optional<std::string> code;
  std::string text;  // SMS text
  uint64_t refund = 0, deposit = 0;
  PayMethod method = PayMethod::kNone;
  std::string destination;
};

}  // namespace smsx

#include "tests/sim/sim_command_util.h"

#include <memory>
#include <string_view>

#include "core/errors.h"
#include "core/hash.h"

namespace smsx::sim {
namespace {

// Appends "name=value" pairs separated by spaces.
class Line {
 public:
  explicit Line(std::string* out) : out_(out) {}
  Line& put(std::string_view name, std::string_view value) {
    start(name);
    out_->push_back('"');
    if (value.size() > 40) {  // long texts (length-limit tests) are shown by size
      out_->append(value.substr(0, 16));
      out_->append("...(" + std::to_string(value.size()) + " bytes)");
    } else {
      out_->append(value);
    }
    out_->push_back('"');
    return *this;
  }
  Line& put(std::string_view name, uint64_t value) {
    start(name);
    out_->append(std::to_string(value));
    return *this;
  }
  Line& put_signed(std::string_view name, int64_t value) {
    start(name);
    out_->append(std::to_string(value));
    return *this;
  }
  Line& put_bool(std::string_view name, bool value) {
    start(name);
    out_->append(value ? "true" : "false");
    return *this;
  }
  Line& put_code(std::string_view name, const std::optional<std::string>& code) {
    return code ? put(name, *code) : put_raw(name, "null");
  }
  Line& put_raw(std::string_view name, std::string_view raw) {
    start(name);
    out_->append(raw);
    return *this;
  }

 private:
  void start(std::string_view name) {
    if (!out_->empty() && out_->back() != '{' && out_->back() != '[') out_->push_back(' ');
    out_->append(name);
    out_->push_back('=');
  }
  std::string* out_;
};

}  // namespace

Command SimCommand::to_command() const {
  Command c;
  c.op = op;
  c.now_ms = now_ms;
  if (!request_id.empty()) c.key = make_request_key(gateway, request_id);
  c.actor = gateway;
  c.account = account;
  c.target = target;
  c.amount = amount;
  c.payout = payout;
  c.max_price = max_price;
  c.method = method;
  c.approve = approve;
  c.ref = ref;
  c.address = address;
  c.service = service;
  c.country = country;
  c.pool = pool;
  c.operator_name = operator_name;
  c.number = number;
  c.text = text;
  c.sender = sender;
  c.max_expired = max_expired;
  c.replay = replay;
  c.replay_expired = replay_expired;
  return c;
}

Reply copy_reply(const Reply& r) {
  Reply c;
  c.error = r.error;
  c.changed = r.changed;
  c.replayed = r.replayed;
  c.has_order = r.has_order;
  c.more_due = r.more_due;
  c.state = r.state;
  c.message = r.message;
  c.id = r.id;
  c.available = r.available;
  c.held = r.held;
  c.amount = r.amount;
  c.expires_at_ms = r.expires_at_ms;
  c.seconds_left = r.seconds_left;
  c.text = r.text;
  c.code = r.code;
  if (r.data) c.data = std::make_unique<ReplyData>(*r.data);
  c.expired = r.expired;
  return c;
}

std::string_view op_name(Op op) {
  switch (op) {
    case Op::kBalance:
      return "balance";
    case Op::kDeposit:
      return "deposit";
    case Op::kDepositRefund:
      return "deposit.refund";
    case Op::kOrderPlace:
      return "order.place";
    case Op::kOrderGet:
      return "order.get";
    case Op::kOrderCancel:
      return "order.cancel";
    case Op::kOrderFinish:
      return "order.finish";
    case Op::kOrderRetry:
      return "order.retry";
    case Op::kOrderDispute:
      return "order.dispute";
    case Op::kOrdersActive:
      return "orders.active";
    case Op::kNumberAdd:
      return "number.add";
    case Op::kNumberRemove:
      return "number.remove";
    case Op::kSmsDeliver:
      return "sms.deliver";
    case Op::kPayoutsPending:
      return "payouts.pending";
    case Op::kPayoutConfirm:
      return "payout.confirm";
    case Op::kStock:
      return "stock";
    case Op::kPriceSet:
      return "price.set";
    case Op::kDisputeResolve:
      return "dispute.resolve";
    case Op::kStats:
      return "stats";
    case Op::kTick:
      return "tick";
    case Op::kCount:
      break;
  }
  return "?";
}

std::string format_command(const SimCommand& c) {
  std::string s;
  Line l(&s);
  l.put_raw("op", op_name(c.op)).put("now", c.now_ms).put("gateway", c.gateway);
  if (!c.request_id.empty()) l.put("id", c.request_id);
  switch (c.op) {
    case Op::kBalance:
    case Op::kOrdersActive:
      l.put("account", c.account);
      break;
    case Op::kDeposit:
      l.put("account", c.account).put_signed("amount", c.amount);
      l.put_raw("method", c.method == PayMethod::kNone ? "none" : pay_method_name(c.method));
      l.put("ref", c.ref).put("from_address", c.address);
      break;
    case Op::kDepositRefund:
      l.put("deposit", c.target).put("to_address", c.address);
      break;
    case Op::kOrderPlace:
      l.put("account", c.account).put("service", c.service).put("country", c.country);
      l.put("pool", c.pool).put("operator", c.operator_name);
      if (c.max_price) {
        l.put_signed("max_price", *c.max_price);
      } else {
        l.put_raw("max_price", "none");
      }
      break;
    case Op::kOrderGet:
    case Op::kOrderCancel:
    case Op::kOrderFinish:
    case Op::kOrderRetry:
      l.put("order", c.target);
      break;
    case Op::kOrderDispute:
      l.put("order", c.target).put("reason", c.text);
      break;
    case Op::kNumberAdd:
      l.put("number", c.number).put("country", c.country).put("operator", c.operator_name);
      l.put("pool", c.pool);
      break;
    case Op::kNumberRemove:
      l.put("number", c.number);
      break;
    case Op::kSmsDeliver:
      l.put("number", c.number).put("text", c.text).put("sender", c.sender);
      break;
    case Op::kPayoutsPending:
    case Op::kStats:
      break;
    case Op::kPayoutConfirm:
      l.put("refund", c.target).put("txid", c.ref);
      break;
    case Op::kStock:
      l.put("service", c.service).put("country", c.country).put("pool", c.pool);
      break;
    case Op::kPriceSet:
      l.put("service", c.service).put("country", c.country).put("pool", c.pool);
      l.put_signed("price", c.amount).put_signed("payout", c.payout);
      break;
    case Op::kDisputeResolve:
      l.put("order", c.target).put_bool("approve", c.approve);
      break;
    case Op::kTick:
      l.put("max_expired", c.max_expired);
      if (c.replay) {
        std::string ids = "[";
        for (uint64_t id : c.replay_expired)
          ids += (ids.size() > 1 ? "," : "") + std::to_string(id);
        l.put_raw("replay_expired", ids + "]");
      }
      break;
    case Op::kCount:
      break;
  }
  return s;
}

std::string format_order(const OrderView& v) {
  std::string s = "{";
  Line l(&s);
  l.put("order", v.order).put("account", v.account).put_raw("state", order_state_name(v.state));
  l.put("number", v.number).put("service", v.service).put("country", v.country);
  l.put("pool", v.pool).put_signed("price", v.price).put("created_at", v.created_at_ms);
  l.put("expires_at", v.expires_at_ms);
  s += " sms=[";
  for (const Sms& m : v.sms) {
    s += "{";
    Line(&s)
        .put("at", m.at_ms)
        .put("sender", m.sender)
        .put("text", m.text)
        .put_code("code", m.code);
    s += "}";
  }
  s += "]}";
  return s;
}

std::string format_reply(Op op, const Reply& r) {
  static const ReplyData kNoData;
  const ReplyData& d = r.data ? *r.data : kNoData;
  std::string s;
  Line l(&s);
  l.put_raw("error", error_name(r.error));
  l.put_bool("changed", r.changed).put_bool("replayed", r.replayed);
  if (r.error != Error::kNone) {
    if (r.error == Error::kMaxPriceTooLow) l.put_signed("min_price", r.amount);
    if (r.error == Error::kEarlyCancel) l.put("seconds_left", r.seconds_left);
    return s;
  }
  switch (op) {
    case Op::kBalance:
      l.put_signed("available", r.available).put_signed("held", r.held);
      break;
    case Op::kDeposit:
      l.put("deposit", r.id).put_signed("available", r.available);
      break;
    case Op::kDepositRefund:
      l.put("refund", r.id).put_signed("amount", r.amount).put("destination", r.text);
      break;
    case Op::kOrderPlace:
      l.put("order", r.id).put("number", r.text).put_signed("price", r.amount);
      l.put("expires_at", r.expires_at_ms);
      break;
    case Op::kOrderGet:
      l.put_raw("order", format_order(d.order));
      break;
    case Op::kOrderCancel:
      l.put("order", r.id).put_signed("refunded", r.amount);
      break;
    case Op::kOrderFinish:
      l.put("order", r.id).put_signed("charged", r.amount);
      break;
    case Op::kOrderRetry:
    case Op::kOrderDispute:
      l.put("order", r.id).put_raw("state", order_state_name(r.state));
      break;
    case Op::kOrdersActive: {
      std::string list = "[";
      for (const OrderView& v : d.orders) list += format_order(v);
      l.put_raw("orders", list + "]");
      break;
    }
    case Op::kNumberAdd:
      l.put("number", r.text);
      break;
    case Op::kNumberRemove:
      l.put("state", r.text);
      break;
    case Op::kSmsDeliver:
      if (r.has_order) {
        l.put("order", r.id);
      } else {
        l.put_raw("order", "null");
      }
      l.put_code("code", r.code);
      break;
    case Op::kPayoutsPending: {
      std::string list = "[";
      for (const PayoutView& p : d.payouts) {
        list += "{";
        Line(&list)
            .put("refund", p.refund)
            .put("deposit", p.deposit)
            .put("account", p.account)
            .put_signed("amount", p.amount)
            .put_raw("method", pay_method_name(p.method))
            .put("destination", p.destination)
            .put("at", p.at_ms);
        list += "}";
      }
      l.put_raw("payouts", list + "]");
      break;
    }
    case Op::kPayoutConfirm:
      l.put("refund", r.id).put("state", r.text);
      break;
    case Op::kStock: {
      std::string list = "[";
      for (const StockRow& row : d.stock) {
        list += "{";
        Line(&list)
            .put("service", row.service)
            .put("country", row.country)
            .put("pool", row.pool)
            .put_signed("price", row.price)
            .put("free", row.free);
        list += "}";
      }
      l.put_raw("stock", list + "]");
      break;
    }
    case Op::kPriceSet:
      break;
    case Op::kDisputeResolve:
      l.put("order", r.id).put_signed("credited", r.amount);
      l.put_raw("state", order_state_name(r.state));
      break;
    case Op::kStats: {
      const EngineStats& st = d.stats;
      l.put("active_orders", st.active_orders).put("closed_orders_kept", st.closed_orders_kept);
      l.put("accounts", st.accounts).put("numbers_free", st.numbers_free);
      l.put("numbers_busy", st.numbers_busy).put("numbers_removed", st.numbers_removed);
      l.put("orders_placed", st.orders_placed).put("orders_expired", st.orders_expired);
      l.put("orders_finished", st.orders_finished).put("orders_cancelled", st.orders_cancelled);
      l.put("sms_delivered", st.sms_delivered).put("sms_dropped", st.sms_dropped);
      l.put("deposits", st.deposits).put("payouts_pending", st.payouts_pending);
      l.put("remembered_requests", st.remembered_requests);
      l.put("engine_time", st.engine_time_ms);
      break;
    }
    case Op::kTick: {
      std::string ids = "[";
      for (uint64_t id : r.expired) ids += (ids.size() > 1 ? "," : "") + std::to_string(id);
      l.put_raw("expired", ids + "]").put_bool("more_due", r.more_due);
      break;
    }
    case Op::kCount:
      break;
  }
  return s;
}

std::string format_events(const std::vector<Event>& events) {
  std::string s = "[";
  for (const Event& e : events) {
    s += "{";
    Line l(&s);
    l.put_raw("event", event_name(e.kind)).put("at", e.at_ms);
    switch (e.kind) {
      case EventKind::kOrderSms:
        l.put("order", e.order).put("account", e.account).put_code("code", e.code);
        l.put("text", e.text);
        break;
      case EventKind::kOrderExpired:
        l.put("order", e.order).put("account", e.account).put_signed("refunded", e.amount);
        break;
      case EventKind::kOrderFinished:
        l.put("order", e.order).put("account", e.account).put_signed("charged", e.amount);
        l.put_bool("auto", e.auto_finish);
        break;
      case EventKind::kRefundPayout:
        l.put("refund", e.refund).put("deposit", e.deposit).put("account", e.account);
        l.put_signed("amount", e.amount).put_raw("method", pay_method_name(e.method));
        l.put("destination", e.destination);
        break;
    }
    s += "}";
  }
  return s + "]";
}

}  // namespace smsx::sim

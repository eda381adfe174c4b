#include "tests/core/scenario_util.h"

namespace smsx::testing {
namespace {

Req make(Op op) {
  Req r;
  r.op = op;
  return r;
}

std::string describe(const Row& row) {
  return "row at +" + std::to_string(row.at_ms) + " ms, op " +
         std::to_string(static_cast<int>(row.req.op)) + " id '" + row.req.id + "'";
}

}  // namespace

Command Req::command(uint64_t now_ms) const {
  Command c;
  c.op = op;
  c.now_ms = now_ms;
  if (is_mutating(op)) c.key = make_request_key(gateway, id);
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
  return c;
}

Req deposit(uint64_t account, Amount amount, std::string ref, PayMethod method,
            std::string from_address) {
  Req r = make(Op::kDeposit);
  r.gateway = "payments-1";
  r.account = account;
  r.amount = amount;
  r.ref = std::move(ref);
  r.method = method;
  r.address = std::move(from_address);
  return r;
}
Req refund(uint64_t deposit, std::string to_address) {
  Req r = make(Op::kDepositRefund);
  r.gateway = "payments-1";
  r.target = deposit;
  r.address = std::move(to_address);
  return r;
}
Req balance(uint64_t account) {
  Req r = make(Op::kBalance);
  r.account = account;
  return r;
}
Req price(std::string service, std::string country, std::string pool, Amount price, Amount payout) {
  Req r = make(Op::kPriceSet);
  r.gateway = "admin-1";
  r.service = std::move(service);
  r.country = std::move(country);
  r.pool = std::move(pool);
  r.amount = price;
  r.payout = payout;
  return r;
}
Req add_number(std::string number, std::string country, std::string pool,
               std::string operator_name) {
  Req r = make(Op::kNumberAdd);
  r.gateway = "supplier-1";
  r.number = std::move(number);
  r.country = std::move(country);
  r.pool = std::move(pool);
  r.operator_name = std::move(operator_name);
  return r;
}
Req remove_number(std::string number) {
  Req r = make(Op::kNumberRemove);
  r.gateway = "supplier-1";
  r.number = std::move(number);
  return r;
}
Req place(uint64_t account, std::string service, std::string country,
          std::optional<Amount> max_price, std::string pool, std::string operator_name) {
  Req r = make(Op::kOrderPlace);
  r.account = account;
  r.service = std::move(service);
  r.country = std::move(country);
  r.max_price = max_price;
  r.pool = std::move(pool);
  r.operator_name = std::move(operator_name);
  return r;
}
Req get(uint64_t order) {
  Req r = make(Op::kOrderGet);
  r.target = order;
  return r;
}
Req cancel(uint64_t order) {
  Req r = make(Op::kOrderCancel);
  r.target = order;
  return r;
}
Req finish(uint64_t order) {
  Req r = make(Op::kOrderFinish);
  r.target = order;
  return r;
}
Req retry(uint64_t order) {
  Req r = make(Op::kOrderRetry);
  r.target = order;
  return r;
}
Req dispute(uint64_t order, std::string reason) {
  Req r = make(Op::kOrderDispute);
  r.target = order;
  r.text = std::move(reason);
  return r;
}
Req resolve(uint64_t order, bool approve) {
  Req r = make(Op::kDisputeResolve);
  r.gateway = "admin-1";
  r.target = order;
  r.approve = approve;
  return r;
}
Req sms(std::string number, std::string text, std::string sender) {
  Req r = make(Op::kSmsDeliver);
  r.gateway = "supplier-1";
  r.number = std::move(number);
  r.text = std::move(text);
  r.sender = std::move(sender);
  return r;
}
Req active(uint64_t account) {
  Req r = make(Op::kOrdersActive);
  r.account = account;
  return r;
}
Req pending_payouts() { return make(Op::kPayoutsPending); }
Req confirm_payout(uint64_t refund, std::string txid) {
  Req r = make(Op::kPayoutConfirm);
  r.gateway = "payments-1";
  r.target = refund;
  r.ref = std::move(txid);
  return r;
}

Expect ok() { return Expect{}; }
Expect fails(Error e) {
  Expect x;
  x.error = e;
  return x;
}

std::vector<Event> run_scenario(Engine& engine, const std::vector<Row>& rows) {
  std::vector<Event> events;
  int generated = 0;
  for (const Row& given : rows) {
    Row row = given;
    if (row.req.id.empty()) row.req.id = "auto-" + std::to_string(++generated);
    SCOPED_TRACE(describe(row));
    uint64_t now = kT0 + row.at_ms;
    Command tick;
    tick.op = Op::kTick;
    tick.now_ms = now;
    do {
    } while (engine.apply(tick, &events).more_due);
    Reply r = engine.apply(row.req.command(now), &events);
    const Expect& x = row.expect;
    EXPECT_EQ(error_name(r.error), error_name(x.error)) << r.message;
    if (x.id) {
      EXPECT_EQ(r.id, *x.id);
    }
    if (x.amount) {
      EXPECT_EQ(r.amount, *x.amount);
    }
    if (x.available) {
      EXPECT_EQ(r.available, *x.available);
    }
    if (x.held) {
      EXPECT_EQ(r.held, *x.held);
    }
    if (x.text) {
      EXPECT_EQ(r.text, *x.text);
    }
    if (x.code) {
      EXPECT_EQ(r.code.value_or("<none>"), *x.code);
    }
    if (x.seconds_left) {
      EXPECT_EQ(r.seconds_left, *x.seconds_left);
    }
    if (x.has_order) {
      EXPECT_EQ(r.has_order, *x.has_order);
    }
    if (x.replayed) {
      EXPECT_EQ(r.replayed, *x.replayed);
    }
    if (x.count) {
      EXPECT_TRUE(r.data != nullptr);
      if (r.data) {
        EXPECT_EQ(r.data->orders.size() + r.data->payouts.size(), *x.count);
      }
    }
    if (x.state) {
      OrderState got = row.req.op == Op::kOrderGet && r.data ? r.data->order.state : r.state;
      EXPECT_EQ(order_state_name(got), order_state_name(*x.state));
    }
    engine.check_invariants();
  }
  return events;
}

}  // namespace smsx::testing

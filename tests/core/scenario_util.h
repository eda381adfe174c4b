// Scenario tests as readable tables: each row is (time, request, expected reply).
//
// A Req owns its strings and builds an engine Command; rows run in order against one
// Engine, and before each row a tick at the row's time expires whatever is due, as the
// server's loop would. Times are milliseconds after the scenario's start.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/engine.h"

namespace smsx::testing {

inline constexpr uint64_t kT0 = 1'764'000'000'000;  // scenario start, engine ms
inline constexpr uint64_t kSecond = 1000;
inline constexpr uint64_t kMinute = 60 * kSecond;
inline constexpr uint64_t kDay = 24 * 60 * kMinute;

struct Req {
  Op op = Op::kStats;
  std::string gateway = "gw-1";
  std::string id;  // request id; a unique one is generated when empty
  uint64_t account = 0, target = 0;
  Amount amount = 0, payout = 0;
  std::optional<Amount> max_price;
  PayMethod method = PayMethod::kNone;
  bool approve = false;
  std::string ref, address, service, country, pool, operator_name, number, text, sender;

  Req& with_id(std::string v) {
    id = std::move(v);
    return *this;
  }
  Req& by(std::string v) {
    gateway = std::move(v);
    return *this;
  }
  Command command(uint64_t now_ms) const;
};

Req deposit(uint64_t account, Amount amount, std::string ref, PayMethod method = PayMethod::kCard,
            std::string from_address = "");
Req refund(uint64_t deposit, std::string to_address = "");
Req balance(uint64_t account);
Req price(std::string service, std::string country, std::string pool, Amount price, Amount payout);
Req add_number(std::string number, std::string country, std::string pool,
               std::string operator_name = "op1");
Req remove_number(std::string number);
Req place(uint64_t account, std::string service, std::string country,
          std::optional<Amount> max_price = std::nullopt, std::string pool = "",
          std::string operator_name = "");
Req get(uint64_t order);
Req cancel(uint64_t order);
Req finish(uint64_t order);
Req retry(uint64_t order);
Req dispute(uint64_t order, std::string reason = "rejected by the platform");
Req resolve(uint64_t order, bool approve);
Req sms(std::string number, std::string text, std::string sender = "Sender");
Req active(uint64_t account);
Req pending_payouts();
Req confirm_payout(uint64_t refund, std::string txid = "tx");

// What a row expects. Unset fields are not checked.
struct Expect {
  Error error = Error::kNone;
  std::optional<uint64_t> id;
  std::optional<Amount> amount, available, held;
  std::optional<std::string> text, code;
  std::optional<OrderState> state;  // of order.get's order, or of retry/dispute replies
  std::optional<uint64_t> seconds_left;
  std::optional<bool> has_order, replayed;
  std::optional<size_t> count;  // orders.active / payouts.pending list size

  Expect& with_id(uint64_t v) { return id = v, *this; }
  Expect& with_amount(Amount v) { return amount = v, *this; }
  Expect& with_balance(Amount a, Amount h) { return available = a, held = h, *this; }
  Expect& with_text(std::string v) { return text = std::move(v), *this; }
  Expect& with_code(std::string v) { return code = std::move(v), *this; }
  Expect& in_state(OrderState v) { return state = v, *this; }
  Expect& with_seconds_left(uint64_t v) { return seconds_left = v, *this; }
  Expect& with_order(bool v) { return has_order = v, *this; }
  Expect& was_replayed() { return replayed = true, *this; }
  Expect& with_count(size_t v) { return count = v, *this; }
};

Expect ok();
Expect fails(Error e);

struct Row {
  uint64_t at_ms;
  Req req;
  Expect expect;
};

// Runs the rows against `engine` (ticking before each row) and checks every reply and the
// invariants after every row. Returns the events the rows caused.
std::vector<Event> run_scenario(Engine& engine, const std::vector<Row>& rows);

}  // namespace smsx::testing

#include "net/reply_writer.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace smsx::net {
namespace {

namespace dom = simdjson::dom;

// Every write_* call must append exactly one line that is one JSON object.
class ReplyWriterTest : public ::testing::Test {
 protected:
  // Parses the single line in out_ (clearing it) and returns the object.
  dom::object parsed() {
    EXPECT_FALSE(out_.empty());
    EXPECT_EQ(out_.back(), '\n');
    EXPECT_EQ(out_.find('\n'), out_.size() - 1) << out_;
    last_ = out_;
    out_.clear();
    dom::element e;
    EXPECT_EQ(json_.parse(last_).get(e), simdjson::SUCCESS) << last_;
    dom::object o;
    EXPECT_EQ(e.get_object().get(o), simdjson::SUCCESS) << last_;
    return o;
  }

  // The object's keys, in order.
  static std::vector<std::string> keys(dom::object o) {
    std::vector<std::string> k;
    for (auto field : o) k.emplace_back(field.key);
    return k;
  }

  static std::string str(dom::object o, std::string_view key) {
    std::string_view v;
    EXPECT_EQ(o[key].get_string().get(v), simdjson::SUCCESS) << key;
    return std::string(v);
  }
  static std::uint64_t u64(dom::object o, std::string_view key) {
    std::uint64_t v = 0;
    EXPECT_EQ(o[key].get_uint64().get(v), simdjson::SUCCESS) << key;
    return v;
  }
  static std::int64_t i64(dom::object o, std::string_view key) {
    std::int64_t v = 0;
    EXPECT_EQ(o[key].get_int64().get(v), simdjson::SUCCESS) << key;
    return v;
  }
  static bool boolean(dom::object o, std::string_view key) {
    bool v = false;
    EXPECT_EQ(o[key].get_bool().get(v), simdjson::SUCCESS) << key;
    return v;
  }
  static bool is_null(dom::object o, std::string_view key) { return o[key].is_null(); }
  static dom::array array(dom::object o, std::string_view key) {
    dom::array a;
    EXPECT_EQ(o[key].get_array().get(a), simdjson::SUCCESS) << key;
    return a;
  }

  // The reply to `op` (a success unless `reply.error` says otherwise).
  dom::object reply(Op op, const Reply& r, std::string_view id = "req-1",
                    std::span<const ExtraField> extra = {}) {
    Command c;
    c.op = op;
    c.number = "15550001234";
    write_reply(&out_, id, c, r, extra);
    return parsed();
  }

  std::string out_;
  std::string last_;
  dom::parser json_;
};

using Keys = std::vector<std::string>;

OrderView sample_order() {
  OrderView v;
  v.order = 77;
  v.account = 1001;
  v.state = OrderState::kReceived;
  v.number = "15550001234";
  v.service = "wa";
  v.country = "us";
  v.pool = "p1";
  v.price = 120;
  v.created_at_ms = 1764000000000;
  v.expires_at_ms = 1764001200000;
  v.sms.push_back(Sms{1764000060000, "WhatsApp", "code 482913", std::string("482913")});
  v.sms.push_back(Sms{1764000070000, "", "hello", std::nullopt});
  return v;
}

const Keys kOrderKeys = {"order", "account", "state",      "number",     "service", "country",
                         "pool",  "price",   "created_at", "expires_at", "sms"};

TEST_F(ReplyWriterTest, Balance) {
  Reply r;
  r.available = 880;
  r.held = 120;
  dom::object o = reply(Op::kBalance, r);
  EXPECT_EQ(keys(o), (Keys{"id", "ok", "available", "held"}));
  EXPECT_EQ(str(o, "id"), "req-1");
  EXPECT_TRUE(boolean(o, "ok"));
  EXPECT_EQ(i64(o, "available"), 880);
  EXPECT_EQ(i64(o, "held"), 120);
}

TEST_F(ReplyWriterTest, Deposit) {
  Reply r;
  r.id = 9;
  r.available = 5000;
  dom::object o = reply(Op::kDeposit, r);
  EXPECT_EQ(keys(o), (Keys{"id", "ok", "deposit", "available"}));
  EXPECT_EQ(u64(o, "deposit"), 9u);
  EXPECT_EQ(i64(o, "available"), 5000);
}

TEST_F(ReplyWriterTest, DepositRefund) {
  Reply r;
  r.id = 5;
  r.amount = 1000;
  r.text = "bc1qxyz";
  dom::object o = reply(Op::kDepositRefund, r);
  EXPECT_EQ(keys(o), (Keys{"id", "ok", "refund", "amount", "destination"}));
  EXPECT_EQ(u64(o, "refund"), 5u);
  EXPECT_EQ(i64(o, "amount"), 1000);
  EXPECT_EQ(str(o, "destination"), "bc1qxyz");
}

TEST_F(ReplyWriterTest, OrderPlace) {
  Reply r;
  r.id = 77;
  r.text = "15550001234";
  r.amount = 120;
  r.expires_at_ms = 1764000000000;
  dom::object o = reply(Op::kOrderPlace, r, "gw1-42");
  EXPECT_EQ(last_,
            "{\"id\":\"gw1-42\",\"ok\":true,\"order\":77,\"number\":\"15550001234\",\"price\":120,"
            "\"expires_at\":1764000000000}\n");
  EXPECT_EQ(keys(o), (Keys{"id", "ok", "order", "number", "price", "expires_at"}));
}

TEST_F(ReplyWriterTest, OrderGet) {
  Reply r;
  r.mutable_data().order = sample_order();
  dom::object o = reply(Op::kOrderGet, r);
  Keys expected = {"id", "ok"};
  expected.insert(expected.end(), kOrderKeys.begin(), kOrderKeys.end());
  EXPECT_EQ(keys(o), expected);
  EXPECT_EQ(u64(o, "order"), 77u);
  EXPECT_EQ(u64(o, "account"), 1001u);
  EXPECT_EQ(str(o, "state"), "received");
  EXPECT_EQ(str(o, "number"), "15550001234");
  EXPECT_EQ(str(o, "service"), "wa");
  EXPECT_EQ(str(o, "country"), "us");
  EXPECT_EQ(str(o, "pool"), "p1");
  EXPECT_EQ(i64(o, "price"), 120);
  EXPECT_EQ(u64(o, "created_at"), 1764000000000u);
  EXPECT_EQ(u64(o, "expires_at"), 1764001200000u);
  dom::array sms = array(o, "sms");
  ASSERT_EQ(sms.size(), 2u);
  dom::object first = sms.at(0).get_object().value();
  EXPECT_EQ(keys(first), (Keys{"at", "sender", "text", "code"}));
  EXPECT_EQ(u64(first, "at"), 1764000060000u);
  EXPECT_EQ(str(first, "sender"), "WhatsApp");
  EXPECT_EQ(str(first, "text"), "code 482913");
  EXPECT_EQ(str(first, "code"), "482913");
  dom::object second = sms.at(1).get_object().value();
  EXPECT_TRUE(is_null(second, "code"));
  EXPECT_EQ(str(second, "sender"), "");
}

TEST_F(ReplyWriterTest, OrderGetWithoutSmsHasAnEmptyList) {
  Reply r;
  r.mutable_data().order = sample_order();
  r.mutable_data().order.sms.clear();
  r.mutable_data().order.state = OrderState::kWaiting;
  dom::object o = reply(Op::kOrderGet, r);
  EXPECT_EQ(array(o, "sms").size(), 0u);
  EXPECT_EQ(str(o, "state"), "waiting");
}

TEST_F(ReplyWriterTest, CancelFinishRetryDispute) {
  Reply r;
  r.amount = 120;
  dom::object o = reply(Op::kOrderCancel, r);
  EXPECT_EQ(keys(o), (Keys{"id", "ok", "refunded"}));
  EXPECT_EQ(i64(o, "refunded"), 120);
  o = reply(Op::kOrderFinish, r);
  EXPECT_EQ(keys(o), (Keys{"id", "ok", "charged"}));
  EXPECT_EQ(i64(o, "charged"), 120);
  r.state = OrderState::kRetry;
  o = reply(Op::kOrderRetry, r);
  EXPECT_EQ(keys(o), (Keys{"id", "ok", "state"}));
  EXPECT_EQ(str(o, "state"), "retry");
  r.state = OrderState::kDisputed;
  o = reply(Op::kOrderDispute, r);
  EXPECT_EQ(keys(o), (Keys{"id", "ok", "state"}));
  EXPECT_EQ(str(o, "state"), "disputed");
}

TEST_F(ReplyWriterTest, OrdersActive) {
  Reply r;
  r.mutable_data().orders = {sample_order(), sample_order()};
  r.data->orders[1].order = 78;
  dom::object o = reply(Op::kOrdersActive, r, "");
  EXPECT_EQ(keys(o), (Keys{"ok", "orders"}));
  dom::array orders = array(o, "orders");
  ASSERT_EQ(orders.size(), 2u);
  EXPECT_EQ(keys(orders.at(0).get_object().value()), kOrderKeys);
  EXPECT_EQ(u64(orders.at(1).get_object().value(), "order"), 78u);

  Reply empty;
  empty.mutable_data();
  EXPECT_EQ(array(reply(Op::kOrdersActive, empty), "orders").size(), 0u);
  Reply no_data;  // the same when the engine left data unset
  EXPECT_EQ(array(reply(Op::kOrdersActive, no_data), "orders").size(), 0u);
}

TEST_F(ReplyWriterTest, NumberAddAndRemoveEchoTheNumber) {
  Reply r;
  r.text = "15550001234";
  dom::object o = reply(Op::kNumberAdd, r);
  EXPECT_EQ(keys(o), (Keys{"id", "ok", "number"}));
  EXPECT_EQ(str(o, "number"), "15550001234");
  Reply removed;
  removed.text = "removing";
  o = reply(Op::kNumberRemove, removed);
  EXPECT_EQ(keys(o), (Keys{"id", "ok", "number", "state"}));
  EXPECT_EQ(str(o, "number"), "15550001234");
  EXPECT_EQ(str(o, "state"), "removing");
}

TEST_F(ReplyWriterTest, SmsDeliver) {
  Reply r;
  r.has_order = true;
  r.id = 77;
  r.code = "482913";
  dom::object o = reply(Op::kSmsDeliver, r);
  EXPECT_EQ(keys(o), (Keys{"id", "ok", "order", "code"}));
  EXPECT_EQ(u64(o, "order"), 77u);
  EXPECT_EQ(str(o, "code"), "482913");
  Reply dropped;
  o = reply(Op::kSmsDeliver, dropped);
  EXPECT_EQ(keys(o), (Keys{"id", "ok", "order", "code"}));
  EXPECT_TRUE(is_null(o, "order"));
  EXPECT_TRUE(is_null(o, "code"));
}

TEST_F(ReplyWriterTest, PayoutsPending) {
  Reply r;
  r.mutable_data().payouts = {
      PayoutView{5, 9, 1001, 1000, PayMethod::kCrypto, "bc1qxyz", 1764000000000},
      PayoutView{6, 10, 1002, 700, PayMethod::kCard, "ch_1", 1764000000001}};
  dom::object o = reply(Op::kPayoutsPending, r);
  EXPECT_EQ(keys(o), (Keys{"id", "ok", "payouts"}));
  dom::array payouts = array(o, "payouts");
  ASSERT_EQ(payouts.size(), 2u);
  dom::object p = payouts.at(0).get_object().value();
  EXPECT_EQ(keys(p),
            (Keys{"refund", "deposit", "account", "amount", "method", "destination", "at"}));
  EXPECT_EQ(u64(p, "refund"), 5u);
  EXPECT_EQ(u64(p, "deposit"), 9u);
  EXPECT_EQ(u64(p, "account"), 1001u);
  EXPECT_EQ(i64(p, "amount"), 1000);
  EXPECT_EQ(str(p, "method"), "crypto");
  EXPECT_EQ(str(p, "destination"), "bc1qxyz");
  EXPECT_EQ(u64(p, "at"), 1764000000000u);
  EXPECT_EQ(str(payouts.at(1).get_object().value(), "method"), "card");
}

TEST_F(ReplyWriterTest, PayoutConfirm) {
  Reply r;
  r.id = 5;
  r.text = "paid";
  dom::object o = reply(Op::kPayoutConfirm, r);
  EXPECT_EQ(keys(o), (Keys{"id", "ok", "refund", "state"}));
  EXPECT_EQ(u64(o, "refund"), 5u);
  EXPECT_EQ(str(o, "state"), "paid");
}

TEST_F(ReplyWriterTest, Stock) {
  Reply r;
  r.mutable_data().stock = {StockRow{"wa", "us", "p1", 90, 3}, StockRow{"wa", "us", "p2", 120, 0}};
  dom::object o = reply(Op::kStock, r);
  EXPECT_EQ(keys(o), (Keys{"id", "ok", "stock"}));
  dom::array rows = array(o, "stock");
  ASSERT_EQ(rows.size(), 2u);
  dom::object row = rows.at(0).get_object().value();
  EXPECT_EQ(keys(row), (Keys{"service", "country", "pool", "price", "free"}));
  EXPECT_EQ(i64(row, "price"), 90);
  EXPECT_EQ(u64(row, "free"), 3u);
  EXPECT_EQ(str(rows.at(1).get_object().value(), "pool"), "p2");
}

TEST_F(ReplyWriterTest, PriceSetHasNoFields) {
  EXPECT_EQ(keys(reply(Op::kPriceSet, Reply{})), (Keys{"id", "ok"}));
}

TEST_F(ReplyWriterTest, DisputeResolve) {
  Reply r;
  r.amount = 120;
  dom::object o = reply(Op::kDisputeResolve, r);
  EXPECT_EQ(keys(o), (Keys{"id", "ok", "credited"}));
  EXPECT_EQ(i64(o, "credited"), 120);
}

TEST_F(ReplyWriterTest, StatsHasEveryCounterThenTheServersExtras) {
  Reply r;
  EngineStats& s = r.mutable_data().stats;
  std::uint64_t values[sizeof(EngineStats) / sizeof(std::uint64_t)];
  for (std::size_t i = 0; i < std::size(values); ++i) values[i] = 100 + i;  // a swap shows
  std::memcpy(&s, values, sizeof(s));
  const ExtraField extra[] = {{"lsn", std::uint64_t{42}},
                              {"connections", std::uint64_t{3}},
                              {"delta", std::int64_t{-5}},
                              {"primary", true},
                              {"role", std::string_view("primary\"x")}};
  dom::object o = reply(Op::kStats, r, "st", extra);
  const Keys expected = {"id",
                         "ok",
                         "active_orders",
                         "closed_orders_kept",
                         "accounts",
                         "numbers_free",
                         "numbers_busy",
                         "numbers_removed",
                         "orders_placed",
                         "orders_expired",
                         "orders_finished",
                         "orders_cancelled",
                         "sms_delivered",
                         "sms_dropped",
                         "deposits",
                         "payouts_pending",
                         "remembered_requests",
                         "engine_time",
                         "lsn",
                         "connections",
                         "delta",
                         "primary",
                         "role"};
  EXPECT_EQ(keys(o), expected);
  for (std::size_t i = 0; i < 16; ++i)
    EXPECT_EQ(u64(o, expected[2 + i]), 100 + i) << expected[2 + i];
  EXPECT_EQ(u64(o, "lsn"), 42u);
  EXPECT_EQ(i64(o, "delta"), -5);
  EXPECT_TRUE(boolean(o, "primary"));
  EXPECT_EQ(str(o, "role"), "primary\"x");
}

TEST_F(ReplyWriterTest, ReplayedRepliesLookTheSame) {
  Reply r;
  r.id = 77;
  r.text = "15550001234";
  r.amount = 120;
  r.expires_at_ms = 5;
  write_reply(&out_, "a", Command{.op = Op::kOrderPlace}, r);
  const std::string first = out_;
  out_.clear();
  r.replayed = true;
  r.changed = false;
  write_reply(&out_, "a", Command{.op = Op::kOrderPlace}, r);
  EXPECT_EQ(out_, first);
}

TEST_F(ReplyWriterTest, EngineErrors) {
  Reply r;
  r.error = smsx::Error::kNoNumbers;
  r.message = "no free number for that service and country";
  dom::object o = reply(Op::kOrderPlace, r, "gw1-43");
  EXPECT_EQ(last_,
            "{\"id\":\"gw1-43\",\"ok\":false,\"error\":\"NO_NUMBERS\",\"message\":\"no free number "
            "for that service and country\"}\n");
  EXPECT_FALSE(boolean(o, "ok"));

  Reply low;
  low.error = smsx::Error::kMaxPriceTooLow;
  low.message = "every free number is above max_price";
  low.amount = 90;
  o = reply(Op::kOrderPlace, low);
  EXPECT_EQ(keys(o), (Keys{"id", "ok", "error", "message", "min_price"}));
  EXPECT_EQ(str(o, "error"), "MAX_PRICE_TOO_LOW");
  EXPECT_EQ(i64(o, "min_price"), 90);

  Reply early;
  early.error = smsx::Error::kEarlyCancel;
  early.message = "too early to cancel";
  early.seconds_left = 12;
  o = reply(Op::kOrderCancel, early);
  EXPECT_EQ(keys(o), (Keys{"id", "ok", "error", "message", "seconds_left"}));
  EXPECT_EQ(u64(o, "seconds_left"), 12u);

  Reply silent;  // no message from the engine: a generic one is written
  silent.error = smsx::Error::kOverloaded;
  o = reply(Op::kOrderPlace, silent, "");
  EXPECT_EQ(keys(o), (Keys{"ok", "error", "message"}));
  EXPECT_FALSE(str(o, "message").empty());
}

TEST_F(ReplyWriterTest, EveryErrorCodeIsWrittenByName) {
  for (std::size_t i = 1; i < static_cast<std::size_t>(smsx::Error::kCount); ++i) {
    const auto code = static_cast<smsx::Error>(i);
    write_error(&out_, "e", code, "");
    dom::object o = parsed();
    EXPECT_EQ(keys(o), (Keys{"id", "ok", "error", "message"}));
    EXPECT_EQ(str(o, "error"), error_name(code));
    EXPECT_FALSE(str(o, "message").empty()) << error_name(code);
  }
}

TEST_F(ReplyWriterTest, FrameTooLargeWithoutId) {
  write_error(&out_, "", smsx::Error::kFrameTooLarge, "");
  dom::object o = parsed();
  EXPECT_EQ(keys(o), (Keys{"ok", "error", "message"}));
  EXPECT_EQ(str(o, "error"), "FRAME_TOO_LARGE");
}

TEST_F(ReplyWriterTest, ParseErrors) {
  ParseError e;
  e.code = smsx::Error::kBadRequest;
  e.message = "field 'amount': expected a positive integer";
  e.id = "p-9";
  write_parse_error(&out_, e);
  EXPECT_EQ(out_,
            "{\"id\":\"p-9\",\"ok\":false,\"error\":\"BAD_REQUEST\",\"message\":\"field 'amount': "
            "expected a positive integer\"}\n");
  out_.clear();
  e.id = "";
  e.code = smsx::Error::kUnknownOp;
  e.message = "unknown op \"x\"";
  write_parse_error(&out_, e);
  dom::object o = parsed();
  EXPECT_EQ(keys(o), (Keys{"ok", "error", "message"}));
  EXPECT_EQ(str(o, "message"), "unknown op \"x\"");
}

TEST_F(ReplyWriterTest, ServerOps) {
  write_hello_reply(&out_, "h", Role::kPayments, 3, 12345, true);
  dom::object o = parsed();
  EXPECT_EQ(keys(o), (Keys{"id", "ok", "role", "epoch", "lsn", "primary"}));
  EXPECT_EQ(str(o, "role"), "payments");
  EXPECT_EQ(u64(o, "epoch"), 3u);
  EXPECT_EQ(u64(o, "lsn"), 12345u);
  EXPECT_TRUE(boolean(o, "primary"));

  write_ok_reply(&out_, "s");
  EXPECT_EQ(keys(parsed()), (Keys{"id", "ok"}));
  EXPECT_EQ(last_, "{\"id\":\"s\",\"ok\":true}\n");

  write_snapshot_reply(&out_, "", 99, "./smsx-data/snapshot-000099");
  o = parsed();
  EXPECT_EQ(keys(o), (Keys{"ok", "lsn", "path"}));
  EXPECT_EQ(str(o, "path"), "./smsx-data/snapshot-000099");

  write_promote_reply(&out_, "p", 4);
  o = parsed();
  EXPECT_EQ(keys(o), (Keys{"id", "ok", "epoch"}));
  EXPECT_EQ(u64(o, "epoch"), 4u);
}

TEST_F(ReplyWriterTest, Events) {
  Event sms{.kind = EventKind::kOrderSms,
            .order = 77,
            .account = 1001,
            .at_ms = 1764000060000,
            .code = std::string("123456"),
            .text = "Your code: 123456"};
  write_event(&out_, sms);
  dom::object o = parsed();
  EXPECT_EQ(keys(o), (Keys{"event", "order", "account", "code", "text", "at"}));
  EXPECT_EQ(str(o, "event"), "order.sms");
  EXPECT_EQ(u64(o, "order"), 77u);
  EXPECT_EQ(u64(o, "account"), 1001u);
  EXPECT_EQ(str(o, "code"), "123456");
  EXPECT_EQ(str(o, "text"), "Your code: 123456");
  EXPECT_EQ(u64(o, "at"), 1764000060000u);
  sms.code.reset();
  write_event(&out_, sms);
  EXPECT_TRUE(is_null(parsed(), "code"));

  write_event(&out_, Event{.kind = EventKind::kOrderExpired,
                           .order = 77,
                           .account = 1001,
                           .at_ms = 5,
                           .amount = 120});
  o = parsed();
  EXPECT_EQ(keys(o), (Keys{"event", "order", "account", "refunded", "at"}));
  EXPECT_EQ(str(o, "event"), "order.expired");
  EXPECT_EQ(i64(o, "refunded"), 120);

  write_event(&out_, Event{.kind = EventKind::kOrderFinished,
                           .order = 77,
                           .account = 1001,
                           .at_ms = 6,
                           .amount = 120,
                           .auto_finish = true});
  o = parsed();
  EXPECT_EQ(keys(o), (Keys{"event", "order", "account", "charged", "auto", "at"}));
  EXPECT_EQ(str(o, "event"), "order.finished");
  EXPECT_EQ(i64(o, "charged"), 120);
  EXPECT_TRUE(boolean(o, "auto"));

  write_event(&out_, Event{.kind = EventKind::kRefundPayout,
                           .account = 1001,
                           .at_ms = 7,
                           .amount = 1000,
                           .refund = 5,
                           .deposit = 9,
                           .method = PayMethod::kCrypto,
                           .destination = "bc1qxyz"});
  o = parsed();
  EXPECT_EQ(keys(o), (Keys{"event", "refund", "deposit", "account", "amount", "method",
                           "destination", "at"}));
  EXPECT_EQ(str(o, "event"), "refund.payout");
  EXPECT_EQ(u64(o, "refund"), 5u);
  EXPECT_EQ(u64(o, "deposit"), 9u);
  EXPECT_EQ(i64(o, "amount"), 1000);
  EXPECT_EQ(str(o, "method"), "crypto");
  EXPECT_EQ(str(o, "destination"), "bc1qxyz");
  EXPECT_EQ(u64(o, "at"), 7u);
}

TEST_F(ReplyWriterTest, WritesAppendToWhatIsThere) {
  write_ok_reply(&out_, "1");
  write_ok_reply(&out_, "2");
  EXPECT_EQ(out_, "{\"id\":\"1\",\"ok\":true}\n{\"id\":\"2\",\"ok\":true}\n");
  out_.clear();
}

TEST_F(ReplyWriterTest, ExtremeIntegers) {
  Reply r;
  r.available = INT64_MIN;
  r.held = INT64_MAX;
  dom::object o = reply(Op::kBalance, r);
  EXPECT_EQ(i64(o, "available"), INT64_MIN);
  EXPECT_EQ(i64(o, "held"), INT64_MAX);
  Reply d;
  d.id = UINT64_MAX;
  EXPECT_EQ(u64(reply(Op::kDeposit, d), "deposit"), UINT64_MAX);
}

// Short values go out with their key in one piece when they need no escaping; every other
// value takes the escaping path. Both must give the same string back, on either side of
// the 64-byte limit of the short path.
TEST_F(ReplyWriterTest, StringValuesOfEveryLengthAndContentRoundTrip) {
  const std::string fillers[] = {"a",        "\"",           "\\",  "\n", std::string(1, '\x01'),
                                 "\xC3\xA9", "\xE2\x80\xA8", "\xFF"};
  for (const std::string& filler : fillers) {
    for (std::size_t length : {1u, 2u, 31u, 63u, 64u, 65u, 100u}) {
      std::string value;
      while (value.size() < length) value += filler;
      value.resize(length - length % filler.size());
      if (value.empty()) continue;
      Reply r;
      r.id = 7;
      r.text = value;
      // Invalid UTF-8 goes out as U+FFFD.
      std::string expected;
      for (const char c : value) {
        expected += c == '\xFF' ? std::string("\xEF\xBF\xBD") : std::string(1, c);
      }
      dom::object o = reply(Op::kOrderPlace, r, value);
      EXPECT_EQ(str(o, "id"), expected) << last_;
      EXPECT_EQ(str(o, "number"), expected) << last_;
      EXPECT_EQ(u64(o, "order"), 7u) << last_;
    }
  }
  // The largest field the short path writes: a 64-byte key and a 64-byte clean value.
  const std::string name(64, 'k'), value(64, 'v');
  const ExtraField extra[] = {{name, std::string_view(value)}};
  dom::object o = reply(Op::kOrderCancel, Reply{}, "req-1", extra);
  EXPECT_EQ(str(o, name), value) << last_;
}

// ---------------------------------------------------------------------------------------
// String escaping.

std::string json_quoted(std::string_view s) {
  std::string out;
  append_json_string(&out, s);
  return out;
}

// Parses a JSON string literal back (simdjson also checks it is valid UTF-8).
std::string unquoted(const std::string& literal) {
  dom::parser parser;
  std::string_view v;
  EXPECT_EQ(parser.parse(literal).get_string().get(v), simdjson::SUCCESS) << literal;
  return std::string(v);
}

TEST(JsonStringTest, EscapesWhatJsonRequires) {
  EXPECT_EQ(json_quoted(""), "\"\"");
  EXPECT_EQ(json_quoted("plain"), "\"plain\"");
  EXPECT_EQ(json_quoted("a\"b\\c/d"), "\"a\\\"b\\\\c/d\"");
  EXPECT_EQ(json_quoted("\n\r\t\b\f"), "\"\\n\\r\\t\\b\\f\"");
  EXPECT_EQ(json_quoted(std::string("\0\x01\x1f", 3)), "\"\\u0000\\u0001\\u001f\"");
  EXPECT_EQ(json_quoted("\x7f"), "\"\x7f\"");
  EXPECT_EQ(json_quoted("Caf\xC3\xA9 \xF0\x9F\x98\x80 \xE2\x80\xA8"),
            "\"Caf\xC3\xA9 \xF0\x9F\x98\x80 \xE2\x80\xA8\"");
}

TEST(JsonStringTest, EveryByteBelowDelRoundTrips) {
  std::string all;
  for (int c = 0; c < 0x80; ++c) all.push_back(static_cast<char>(c));
  EXPECT_EQ(unquoted(json_quoted(all)), all);
  const std::string nasty = "line\nbreak \"quoted\" back\\slash \u00e9\u4e2d\U0001F600 \t\x01";
  EXPECT_EQ(unquoted(json_quoted(nasty)), nasty);
}

TEST(JsonStringTest, InvalidUtf8BecomesReplacementCharacters) {
  const std::string r = "\xEF\xBF\xBD";  // U+FFFD
  struct Case {
    std::string in, out;
  };
  const Case cases[] = {
      {"a\xff"
       "b",
       "a" + r + "b"},
      {"\x80", r},  // a lone continuation byte
      {"\xC3", r},  // truncated at the end
      {"\xC3"
       "A",
       r + "A"},        // truncated before ASCII
      {"\xE2\x82", r},  // one maximal subpart: one U+FFFD
      {"\xE2\x82"
       "x",
       r + "x"},
      {"\xC0\xAF", r + r},                  // overlong: C0 never starts a sequence
      {"\xE0\x80\xAF", r + r + r},          // overlong three-byte form
      {"\xED\xA0\x80", r + r + r},          // a surrogate
      {"\xF4\x90\x80\x80", r + r + r + r},  // above U+10FFFF
      {"\xF0\x9F\x98", r},                  // a truncated emoji
      {"\xF0\x9F\x98\x80\xF0", "\xF0\x9F\x98\x80" + r},
      {"\xF5\x80", r + r},
  };
  for (const Case& c : cases) {
    const std::string literal = json_quoted(c.in);
    EXPECT_EQ(unquoted(literal), c.out) << literal;
  }
}

TEST(JsonStringTest, RandomBytesAlwaysGiveValidJsonAndValidUtf8RoundTrips) {
  std::mt19937 rng(3);
  for (int i = 0; i < 20'000; ++i) {
    std::string s(rng() % 24, '\0');
    for (char& c : s) {
      // Mostly bytes that make multi-byte sequences, so that valid ones occur too.
      const unsigned pick = rng() % 8;
      c = static_cast<char>(pick < 3 ? 0x80 + rng() % 0x40
                                     : (pick < 5 ? 0xC2 + rng() % 0x33 : rng() % 0x100));
    }
    const std::string back = unquoted(json_quoted(s));
    if (simdjson::validate_utf8(s.data(), s.size())) {
      EXPECT_EQ(back, s);
    }
  }
}

}  // namespace
}  // namespace smsx::net

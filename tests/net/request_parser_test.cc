#include "net/request_parser.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "net/line_framer.h"

namespace smsx::net {
namespace {

class RequestParserTest : public ::testing::Test {
 protected:
  // Parses `line`; on success returns true and fills req_, else err_.
  bool parse(std::string_view line) { return parser_.parse_copy(line, &req_, &err_); }

  // The line must parse; returns the request.
  const ParsedRequest& ok(std::string_view line) {
    EXPECT_TRUE(parse(line)) << line << "\n  -> " << err_.message;
    return req_;
  }
  const Command& cmd(std::string_view line) { return ok(line).command; }

  // The line must be refused with `code`; returns the error.
  const ParseError& refused(std::string_view line, smsx::Error code = smsx::Error::kBadRequest) {
    EXPECT_FALSE(parse(line)) << line;
    EXPECT_EQ(err_.code, code) << line << "\n  -> " << err_.message;
    return err_;
  }
  // Refused with BAD_REQUEST and a message containing `words`.
  void refused_with(std::string_view line, std::string_view words) {
    const ParseError& e = refused(line);
    EXPECT_NE(e.message.find(words), std::string::npos)
        << line << "\n  -> " << e.message << "\n  wanted: " << words;
  }

  RequestParser parser_;
  ParsedRequest req_;
  ParseError err_;
};

// ---------------------------------------------------------------------------------------
// Every op, happy path.

TEST_F(RequestParserTest, Balance) {
  const ParsedRequest& r = ok(R"({"id":"c-1","op":"balance","account":1001})");
  EXPECT_EQ(r.op, OpKind::kBalance);
  EXPECT_EQ(r.id, "c-1");
  EXPECT_EQ(r.command.op, Op::kBalance);
  EXPECT_EQ(r.command.account, 1001u);
}

TEST_F(RequestParserTest, ReadOnlyOpsNeedNoId) {
  const ParsedRequest& r = ok(R"({"op":"balance","account":0})");
  EXPECT_EQ(r.id, "");
  EXPECT_EQ(r.command.account, 0u);
}

TEST_F(RequestParserTest, DepositCard) {
  const Command& c = cmd(
      R"({"id":"p-1","op":"deposit","account":1001,"amount":5000,"method":"card","ref":"ch_1"})");
  EXPECT_EQ(c.op, Op::kDeposit);
  EXPECT_EQ(c.account, 1001u);
  EXPECT_EQ(c.amount, 5000);
  EXPECT_EQ(c.method, PayMethod::kCard);
  EXPECT_EQ(c.ref, "ch_1");
  EXPECT_EQ(c.address, "");
}

TEST_F(RequestParserTest, DepositCardIgnoresFromAddress) {
  const Command& c =
      cmd(R"({"id":"p-1","op":"deposit","account":1,"amount":5,"method":"card","ref":"r",)"
          R"("from_address":"bc1q"})");
  EXPECT_EQ(c.address, "");
}

TEST_F(RequestParserTest, DepositCrypto) {
  const Command& c =
      cmd(R"({"id":"p-2","op":"deposit","account":7,"amount":1,"method":"crypto","ref":"tx9",)"
          R"("from_address":"bc1qxyz"})");
  EXPECT_EQ(c.method, PayMethod::kCrypto);
  EXPECT_EQ(c.address, "bc1qxyz");
  EXPECT_EQ(c.ref, "tx9");
}

TEST_F(RequestParserTest, DepositRefund) {
  const Command& c = cmd(R"({"id":"p-3","op":"deposit.refund","deposit":9})");
  EXPECT_EQ(c.op, Op::kDepositRefund);
  EXPECT_EQ(c.target, 9u);
  EXPECT_EQ(c.address, "");
  EXPECT_EQ(cmd(R"({"id":"p-4","op":"deposit.refund","deposit":9,"to_address":"bc1q"})").address,
            "bc1q");
}

TEST_F(RequestParserTest, OrderPlaceWithEveryField) {
  const Command& c =
      cmd(R"({"id":"gw1-42","op":"order.place","account":1001,"service":"wa","country":"us",)"
          R"("pool":"p-1","operator":"t_mobile","max_price":150})");
  EXPECT_EQ(c.op, Op::kOrderPlace);
  EXPECT_EQ(c.account, 1001u);
  EXPECT_EQ(c.service, "wa");
  EXPECT_EQ(c.country, "us");
  EXPECT_EQ(c.pool, "p-1");
  EXPECT_EQ(c.operator_name, "t_mobile");
  ASSERT_TRUE(c.max_price.has_value());
  EXPECT_EQ(*c.max_price, 150);
}

TEST_F(RequestParserTest, OrderPlaceMinimal) {
  const Command& c =
      cmd(R"({"id":"gw1-43","op":"order.place","account":1,"service":"tg","country":"de"})");
  EXPECT_EQ(c.pool, "");
  EXPECT_EQ(c.operator_name, "");
  EXPECT_FALSE(c.max_price.has_value());
  EXPECT_EQ(*cmd(R"({"id":"x","op":"order.place","account":1,"service":"tg","country":"de",)"
                 R"("max_price":0})")
                 .max_price,
            0);
}

TEST_F(RequestParserTest, OrderOpsTakeTheOrderAsTarget) {
  const std::pair<const char*, Op> ops[] = {{"order.get", Op::kOrderGet},
                                            {"order.cancel", Op::kOrderCancel},
                                            {"order.finish", Op::kOrderFinish},
                                            {"order.retry", Op::kOrderRetry}};
  for (const auto& [name, op] : ops) {
    const std::string line = std::string(R"({"id":"o","op":")") + name + R"(","order":77})";
    const Command& c = cmd(line);
    EXPECT_EQ(c.op, op) << name;
    EXPECT_EQ(c.target, 77u) << name;
  }
}

TEST_F(RequestParserTest, OrderDispute) {
  const Command& c = cmd(R"({"id":"d","op":"order.dispute","order":77,"reason":"code rejected"})");
  EXPECT_EQ(c.op, Op::kOrderDispute);
  EXPECT_EQ(c.target, 77u);
  EXPECT_EQ(c.text, "code rejected");
  EXPECT_EQ(cmd(R"({"id":"d","op":"order.dispute","order":7,"reason":""})").text, "");
}

TEST_F(RequestParserTest, OrdersActive) {
  const Command& c = cmd(R"({"op":"orders.active","account":18446744073709551615})");
  EXPECT_EQ(c.op, Op::kOrdersActive);
  EXPECT_EQ(c.account, UINT64_MAX);
}

TEST_F(RequestParserTest, NumberAdd) {
  const Command& c = cmd(R"({"id":"s-1","op":"number.add","number":"15550001234","country":"us",)"
                         R"("operator":"op1","pool":"main"})");
  EXPECT_EQ(c.op, Op::kNumberAdd);
  EXPECT_EQ(c.number, "15550001234");
  EXPECT_EQ(c.country, "us");
  EXPECT_EQ(c.operator_name, "op1");
  EXPECT_EQ(c.pool, "main");
}

TEST_F(RequestParserTest, NumberRemove) {
  const Command& c = cmd(R"({"id":"s-2","op":"number.remove","number":"0123456"})");
  EXPECT_EQ(c.op, Op::kNumberRemove);
  EXPECT_EQ(c.number, "0123456");
}

TEST_F(RequestParserTest, SmsDeliver) {
  const Command& c =
      cmd(R"({"id":"s-3","op":"sms.deliver","number":"15550001234","text":"code 123-456",)"
          R"("sender":"WhatsApp"})");
  EXPECT_EQ(c.op, Op::kSmsDeliver);
  EXPECT_EQ(c.number, "15550001234");
  EXPECT_EQ(c.text, "code 123-456");
  EXPECT_EQ(c.sender, "WhatsApp");
  EXPECT_EQ(cmd(R"({"id":"s-4","op":"sms.deliver","number":"155500","text":""})").sender, "");
}

TEST_F(RequestParserTest, SmsTextIsUnescaped) {
  const Command& c = cmd(
      R"({"id":"s","op":"sms.deliver","number":"155500","text":"Caf\u00e9 \"1234\"\n\ud83d\ude00"})");
  EXPECT_EQ(c.text, "Caf\xC3\xA9 \"1234\"\n\xF0\x9F\x98\x80");
}

TEST_F(RequestParserTest, PayoutsPending) {
  const ParsedRequest& r = ok(R"({"op":"payouts.pending"})");
  EXPECT_EQ(r.op, OpKind::kPayoutsPending);
  EXPECT_EQ(r.command.op, Op::kPayoutsPending);
}

TEST_F(RequestParserTest, PayoutConfirm) {
  const Command& c = cmd(R"({"id":"p","op":"payout.confirm","refund":5,"txid":"0xabc"})");
  EXPECT_EQ(c.op, Op::kPayoutConfirm);
  EXPECT_EQ(c.target, 5u);
  EXPECT_EQ(c.ref, "0xabc");
  EXPECT_EQ(cmd(R"({"id":"p","op":"payout.confirm","refund":5})").ref, "");
}

TEST_F(RequestParserTest, Stock) {
  const Command& all = cmd(R"({"op":"stock"})");
  EXPECT_EQ(all.op, Op::kStock);
  EXPECT_EQ(all.service, "");
  const Command& c = cmd(R"({"op":"stock","service":"wa","country":"us","pool":"p1"})");
  EXPECT_EQ(c.service, "wa");
  EXPECT_EQ(c.country, "us");
  EXPECT_EQ(c.pool, "p1");
}

TEST_F(RequestParserTest, PriceSet) {
  const Command& c =
      cmd(R"({"id":"a","op":"price.set","service":"wa","country":"us","pool":"p1","price":120,)"
          R"("payout":80})");
  EXPECT_EQ(c.op, Op::kPriceSet);
  EXPECT_EQ(c.amount, 120);
  EXPECT_EQ(c.payout, 80);
  EXPECT_EQ(cmd(R"({"id":"a","op":"price.set","service":"wa","country":"us","pool":"p1",)"
                R"("price":0,"payout":0})")
                .amount,
            0);
  EXPECT_EQ(cmd(R"({"id":"a","op":"price.set","service":"wa","country":"us","pool":"p1",)"
                R"("price":2147483647,"payout":2147483647})")
                .payout,
            2147483647);
}

TEST_F(RequestParserTest, DisputeResolve) {
  const Command& yes = cmd(R"({"id":"a","op":"dispute.resolve","order":3,"approve":true})");
  EXPECT_EQ(yes.op, Op::kDisputeResolve);
  EXPECT_EQ(yes.target, 3u);
  EXPECT_TRUE(yes.approve);
  EXPECT_FALSE(cmd(R"({"id":"a","op":"dispute.resolve","order":3,"approve":false})").approve);
}

TEST_F(RequestParserTest, Stats) {
  const ParsedRequest& r = ok(R"({"op":"stats"})");
  EXPECT_EQ(r.op, OpKind::kStats);
  EXPECT_EQ(r.command.op, Op::kStats);
}

TEST_F(RequestParserTest, Hello) {
  const ParsedRequest& r = ok(R"({"id":"h","op":"hello","token":"tok-cust-0123456789"})");
  EXPECT_EQ(r.op, OpKind::kHello);
  EXPECT_EQ(r.token, "tok-cust-0123456789");
  // A wrong token is the server's to refuse (UNAUTHORIZED), not a malformed request.
  EXPECT_EQ(ok(R"({"op":"hello","token":""})").token, "");
}

TEST_F(RequestParserTest, Subscribe) {
  const ParsedRequest& r =
      ok(R"({"op":"subscribe","events":["order.sms","refund.payout","order.sms"]})");
  EXPECT_EQ(r.op, OpKind::kSubscribe);
  EXPECT_EQ(r.events, event_bit(EventKind::kOrderSms) | event_bit(EventKind::kRefundPayout));
  EXPECT_EQ(ok(R"({"op":"subscribe","events":["order.expired","order.finished"]})").events,
            event_bit(EventKind::kOrderExpired) | event_bit(EventKind::kOrderFinished));
  EXPECT_EQ(ok(R"({"op":"subscribe","events":[]})").events, 0);
}

TEST_F(RequestParserTest, SnapshotAndPromote) {
  EXPECT_EQ(ok(R"({"op":"snapshot"})").op, OpKind::kSnapshot);
  EXPECT_EQ(ok(R"({"id":"x","op":"promote"})").op, OpKind::kPromote);
}

TEST_F(RequestParserTest, FieldOrderAndWhitespaceDoNotMatter) {
  const ParsedRequest& r =
      ok(" \t{ \"account\" : 5 ,\n \"op\" : \"order.place\", \"country\":\"us\", "
         "\"service\":\"wa\", \"id\" : \"last\" }  \t");
  EXPECT_EQ(r.op, OpKind::kOrderPlace);
  EXPECT_EQ(r.id, "last");
  EXPECT_EQ(r.command.account, 5u);
}

TEST_F(RequestParserTest, EscapedKeysAreTheSameKeys) {
  const ParsedRequest& r = ok(R"({"\u006fp":"balance","acc\u006funt":12})");
  EXPECT_EQ(r.op, OpKind::kBalance);
  EXPECT_EQ(r.command.account, 12u);
}

TEST_F(RequestParserTest, NullOptionalFieldsAreAbsent) {
  const Command& c =
      cmd(R"({"id":"n","op":"order.place","account":1,"service":"wa","country":"us","pool":null,)"
          R"("operator":null,"max_price":null})");
  EXPECT_EQ(c.pool, "");
  EXPECT_FALSE(c.max_price.has_value());
  EXPECT_EQ(ok(R"({"id":null,"op":"stats"})").id, "");
}

TEST_F(RequestParserTest, UnknownFieldsAreIgnoredWhateverTheirValue) {
  const ParsedRequest& r =
      ok(R"({"op":"balance","account":3,"x":1.5e-3,"y":[1,{"a":[null,true,false]},"s"],)"
         R"("z":{"deep":{"er":-0}},"":"","big":123456789012345678901234567890})");
  EXPECT_EQ(r.command.account, 3u);
}

TEST_F(RequestParserTest, KnownFieldsThatTheOpDoesNotUseAreIgnoredEvenIllTyped) {
  const ParsedRequest& r =
      ok(R"({"op":"balance","account":3,"amount":"lots","service":"NOT A NAME","approve":1})");
  EXPECT_EQ(r.command.account, 3u);
  EXPECT_EQ(r.command.amount, 0);
  EXPECT_EQ(r.command.service, "");
}

TEST_F(RequestParserTest, IdOfSixtyFourBytesIsAccepted) {
  const std::string id(64, 'i');
  EXPECT_EQ(ok(R"({"op":"stats","id":")" + id + R"("})").id, id);
}

// ---------------------------------------------------------------------------------------
// Refusals.

TEST_F(RequestParserTest, NotJson) {
  for (std::string_view line :
       {"hello", "{", "}", "{\"op\":", "{\"op\":\"stats\"", "{'op':'stats'}", "{op:\"stats\"}",
        "{\"op\":\"stats\",}", "{\"op\" \"stats\"}", "   ", "\x01\x02", "{\"op\":\"stats\"}}",
        "{\"op\":\"stats\"} x", "{\"op\":\"stats\"}{\"op\":\"stats\"}", "{\"op\":\"stats\"},"}) {
    const ParseError& e = refused(line);
    EXPECT_FALSE(e.op.has_value()) << line;
    EXPECT_EQ(e.id, "") << line;
  }
}

TEST_F(RequestParserTest, JsonThatIsNotAnObject) {
  for (std::string_view line :
       {"[]", "[{\"op\":\"stats\"}]", "42", "-1.5", "\"op\"", "true", "false", "null"}) {
    EXPECT_EQ(refused(line).message, "not a JSON object") << line;
  }
}

TEST_F(RequestParserTest, InvalidJsonInsideIgnoredFields) {
  for (std::string_view line :
       {R"({"op":"stats","x":[1,}})", R"({"op":"stats","x":tru})", R"({"op":"stats","x":nul})",
        R"({"op":"stats","x":01})", R"({"op":"stats","x":1.})", R"({"op":"stats","x":-})",
        R"({"op":"stats","x":1e})", R"({"op":"stats","x":"\q"})", R"({"op":"stats","x":"\ud800"})",
        R"({"op":"stats","x":{"a" 1}})", R"({"op":"stats","x":{1:2}})",
        R"({"op":"stats","x":[1 2]})", R"({"op":"stats","x":+1})"}) {
    refused_with(line, "invalid JSON");
  }
}

TEST_F(RequestParserTest, InvalidJsonInsideKnownFieldsOfTheWrongType) {
  // Ill-typed for the key, and not even valid JSON: reported as invalid JSON.
  refused_with(R"({"op":"stats","account":[1,}})", "invalid JSON");
  refused_with(R"({"op":"stats","account":01})", "invalid JSON");
  refused_with(R"({"op":"stats","service":tru})", "invalid JSON");
  refused_with(R"({"op":"stats","events":[1,}})", "invalid JSON");
  refused_with(R"({"op":"stats","events":["order.sms",x]})", "invalid JSON");
}

TEST_F(RequestParserTest, InvalidUtf8AndRawControlCharactersAreNotJson) {
  refused_with("{\"op\":\"stats\",\"x\":\"\xff\"}", "invalid JSON");
  refused_with("{\"op\":\"stats\",\"x\":\"\xC3\"}", "invalid JSON");
  refused_with("{\"op\":\"stats\",\"x\":\"\xED\xA0\x80\"}", "invalid JSON");  // a surrogate
  refused_with("{\"op\":\"stats\",\"x\":\"a\tb\"}", "invalid JSON");
  refused_with(std::string("{\"op\":\"stats\",\"x\":\"a") + '\0' + "b\"}", "invalid JSON");
  refused_with(std::string("{\"op\":\"stats\"}\0", 15), "invalid JSON");
}

TEST_F(RequestParserTest, NestingIsBounded) {
  auto nested = [](std::size_t levels) {  // the request object is level 1
    return R"({"op":"stats","x":)" + std::string(levels - 1, '[') + std::string(levels - 1, ']') +
           "}";
  };
  ok(nested(RequestParser::kNestingDepthMax));
  refused_with(nested(RequestParser::kNestingDepthMax + 1), "invalid JSON");
  refused_with(nested(5000), "invalid JSON");
}

TEST_F(RequestParserTest, MissingOrIllTypedOp) {
  refused_with(R"({"id":"a"})", "missing field 'op'");
  refused_with(R"({"op":null})", "missing field 'op'");
  refused_with(R"({"op":1})", "field 'op': expected a string");
  refused_with(R"({"op":["stats"]})", "field 'op': expected a string");
  refused_with(R"({"op":{"name":"stats"}})", "field 'op': expected a string");
}

TEST_F(RequestParserTest, UnknownOp) {
  const ParseError& e = refused(R"({"id":"u","op":"order.teleport"})", smsx::Error::kUnknownOp);
  EXPECT_EQ(e.message, "unknown op \"order.teleport\"");
  EXPECT_EQ(e.id, "u");
  EXPECT_FALSE(e.op.has_value());
  refused(R"({"op":"Balance","account":1})", smsx::Error::kUnknownOp);
  refused(R"({"op":"tick"})", smsx::Error::kUnknownOp);
  refused(R"({"op":""})", smsx::Error::kUnknownOp);
  const std::string long_name(1000, 'z');
  EXPECT_LT(refused(R"({"op":")" + long_name + R"("})", smsx::Error::kUnknownOp).message.size(),
            64u);
}

TEST_F(RequestParserTest, Replicate) {
  const ParsedRequest& r =
      ok(R"({"id":"r","op":"replicate","from_lsn":42,"epoch":3,"listen":"127.0.0.1:7710"})");
  EXPECT_EQ(r.op, OpKind::kReplicate);
  EXPECT_EQ(r.from_lsn, 42u);
  EXPECT_EQ(r.epoch, 3u);
  EXPECT_EQ(r.listen, "127.0.0.1:7710");
  EXPECT_FALSE(r.last_record_crc.has_value());
  EXPECT_EQ(ok(R"({"op":"replicate","from_lsn":1,"epoch":1})").listen, "");
  EXPECT_EQ(ok(R"({"op":"replicate","from_lsn":9,"epoch":1,"last_record_crc":4294967295})")
                .last_record_crc,
            std::optional<uint32_t>(4294967295u));
  EXPECT_EQ(ok(R"({"op":"replicate","from_lsn":9,"epoch":1,"last_record_crc":0})").last_record_crc,
            std::optional<uint32_t>(0));
  refused_with(R"({"op":"replicate","from_lsn":9,"epoch":1,"last_record_crc":4294967296})",
               "field 'last_record_crc'");
  refused_with(R"({"op":"replicate","from_lsn":9,"epoch":1,"last_record_crc":-1})",
               "field 'last_record_crc'");
  refused_with(R"({"op":"replicate","from_lsn":9,"epoch":1,"last_record_crc":"1"})",
               "field 'last_record_crc'");
  refused_with(R"({"op":"replicate","from_lsn":0,"epoch":1})", "field 'from_lsn'");
  refused_with(R"({"op":"replicate","epoch":1})", "missing field 'from_lsn'");
  refused_with(R"({"op":"replicate","from_lsn":1})", "missing field 'epoch'");
  refused_with(R"({"op":"replicate","from_lsn":1,"epoch":-1})", "field 'epoch'");
}

TEST_F(RequestParserTest, Ids) {
  refused_with(R"({"op":"stats","id":")" + std::string(65, 'i') + R"("})", "field 'id'");
  refused_with(R"({"op":"stats","id":""})", "field 'id'");
  refused_with(R"({"op":"stats","id":42})", "field 'id'");
  refused_with(R"({"op":"stats","id":["a"]})", "field 'id'");
  // Mutating ops need one; the op is known, so the server can still check the role first.
  const ParseError& e = refused(R"({"op":"order.cancel","order":1})");
  EXPECT_EQ(e.message, "missing field 'id' (required for ops that change state)");
  EXPECT_EQ(e.op, OpKind::kOrderCancel);
  // An invalid id is never echoed.
  EXPECT_EQ(refused(R"({"op":"stats","id":")" + std::string(65, 'i') + R"("})").id, "");
}

TEST_F(RequestParserTest, ErrorsCarryTheIdAndOpWhenReadable) {
  const ParseError& e =
      refused(R"({"op":"order.place","account":"1001","id":"gw-7","service":"wa","country":"us"})");
  EXPECT_EQ(e.message, "field 'account': expected an unsigned 64-bit integer");
  EXPECT_EQ(e.id, "gw-7");
  EXPECT_EQ(e.op, OpKind::kOrderPlace);
  // Broken JSON after the id: the id was read, so it is echoed.
  EXPECT_EQ(refused(R"({"id":"gw-8","op":"stats","x":[})").id, "gw-8");
  // Broken before it: not.
  EXPECT_EQ(refused(R"({"x":[},"id":"gw-9","op":"stats"})").id, "");
}

TEST_F(RequestParserTest, UnsignedFields) {
  for (std::string_view value :
       {"\"1001\"", "1.0", "-1", "1e3", "18446744073709551616", "true", "[1]", "{}", "-0"}) {
    refused_with(R"({"op":"balance","account":)" + std::string(value) + "}",
                 "field 'account': expected an unsigned 64-bit integer");
  }
  refused_with(R"({"op":"balance"})", "missing field 'account'");
  refused_with(R"({"op":"balance","account":null})", "missing field 'account'");
  refused_with(R"({"op":"order.get","order":-3})", "field 'order'");
  refused_with(R"({"id":"i","op":"deposit.refund","deposit":"9"})", "field 'deposit'");
  refused_with(R"({"id":"i","op":"payout.confirm","refund":1.5})", "field 'refund'");
}

TEST_F(RequestParserTest, DepositAmounts) {
  const std::string head = R"({"id":"p","op":"deposit","account":1,"method":"card","ref":"r",)";
  for (std::string_view value : {"0", "-5", "1.5", "\"100\"", "9223372036854775808",
                                 "18446744073709551615", "-9223372036854775809", "1e2", "null"}) {
    refused_with(
        head + R"("amount":)" + std::string(value) + "}",
        value == "null" ? "missing field 'amount'" : "field 'amount': expected a positive integer");
  }
  refused_with(head + R"("amount":1125899906842625})", "field 'amount'");
  EXPECT_EQ(cmd(head + R"("amount":1125899906842624})").amount, int64_t{1} << 50);
}

TEST_F(RequestParserTest, DepositMethodRefAndAddress) {
  const std::string head = R"({"id":"p","op":"deposit","account":1,"amount":10,)";
  refused_with(head + R"("ref":"r"})", "missing field 'method'");
  refused_with(head + R"("method":"paypal","ref":"r"})", "field 'method'");
  refused_with(head + R"("method":"CARD","ref":"r"})", "field 'method'");
  refused_with(head + R"("method":1,"ref":"r"})", "field 'method'");
  refused_with(head + R"("method":"card"})", "missing field 'ref'");
  refused_with(head + R"("method":"card","ref":""})", "field 'ref'");
  refused_with(head + R"("method":"card","ref":")" + std::string(129, 'r') + R"("})",
               "field 'ref'");
  refused_with(head + R"("method":"crypto","ref":"r"})", "missing field 'from_address'");
  refused_with(head + R"("method":"crypto","ref":"r","from_address":""})", "field 'from_address'");
  refused_with(head + R"("method":"crypto","ref":"r","from_address":7})", "field 'from_address'");
  refused_with(R"({"id":"p","op":"deposit.refund","deposit":1,"to_address":""})",
               "field 'to_address'");
}

TEST_F(RequestParserTest, Names) {
  const std::string head = R"({"id":"o","op":"order.place","account":1,"country":"us",)";
  for (std::string_view value : {R"("WA")", R"("")", R"("abcdefghijklmnopq")", R"("w a")",
                                 R"("w.a")", R"("wä")", R"("wa\n")", "7", "[\"wa\"]"}) {
    refused_with(head + R"("service":)" + std::string(value) + "}",
                 "field 'service': expected a name");
  }
  EXPECT_EQ(cmd(head + R"("service":"abcdefghijklmnop"})").service, "abcdefghijklmnop");
  EXPECT_EQ(cmd(head + R"("service":"a_b-9"})").service, "a_b-9");
  refused_with(R"({"id":"o","op":"order.place","account":1,"service":"wa"})",
               "missing field 'country'");
  refused_with(head + R"("service":"wa","pool":"P"})", "field 'pool'");
  refused_with(head + R"("service":"wa","operator":""})", "field 'operator'");
  refused_with(R"({"op":"stock","country":"US"})", "field 'country'");
  refused_with(R"({"id":"s","op":"number.add","number":"155500","country":"us","pool":"p"})",
               "missing field 'operator'");
}

TEST_F(RequestParserTest, PhoneNumbers) {
  for (std::string_view value : {R"("12345")", R"("1234567890123456")", R"("12345a")",
                                 R"("+15550001234")", R"("")", R"("1555 000")", "15550001234"}) {
    refused_with(R"({"id":"s","op":"number.remove","number":)" + std::string(value) + "}",
                 "field 'number': expected a string of 6 to 15 digits");
  }
  EXPECT_EQ(cmd(R"({"id":"s","op":"number.remove","number":"123456789012345"})").number,
            "123456789012345");
  refused_with(R"({"id":"s","op":"sms.deliver","text":"x"})", "missing field 'number'");
}

TEST_F(RequestParserTest, MaxPriceAndPrices) {
  const std::string place =
      R"({"id":"o","op":"order.place","account":1,"service":"a","country":"b",)";
  for (std::string_view value : {"-1", "1.5", "\"150\"", "9223372036854775808", "true"}) {
    refused_with(place + R"("max_price":)" + std::string(value) + "}",
                 "field 'max_price': expected an integer >= 0");
  }
  const std::string price = R"({"id":"a","op":"price.set","service":"a","country":"b","pool":"c",)";
  refused_with(price + R"("price":-1,"payout":0})", "field 'price'");
  refused_with(price + R"("price":2147483648,"payout":0})", "field 'price'");
  refused_with(price + R"("price":1.0,"payout":0})", "field 'price'");
  refused_with(price + R"("payout":0})", "missing field 'price'");
  refused_with(price + R"("price":100,"payout":101})",
               "field 'payout': expected an integer from 0");
  refused_with(price + R"("price":100,"payout":-1})", "field 'payout'");
  refused_with(price + R"("price":100})", "missing field 'payout'");
}

TEST_F(RequestParserTest, TextLengths) {
  const std::string sms = R"({"id":"s","op":"sms.deliver","number":"155500",)";
  EXPECT_EQ(cmd(sms + R"("text":")" + std::string(1024, 't') + R"("})").text.size(), 1024u);
  refused_with(sms + R"("text":")" + std::string(1025, 't') + R"("})", "field 'text'");
  refused_with(sms + R"("text":7})", "field 'text'");
  refused_with(sms + R"("sender":"x"})", "missing field 'text'");
  refused_with(sms + R"("text":"","sender":")" + std::string(65, 's') + R"("})", "field 'sender'");
  // Limits count bytes after unescaping: 1024 escaped characters are 1024 bytes.
  std::string escaped;
  for (int i = 0; i < 1024; ++i) escaped += "\\n";
  EXPECT_EQ(cmd(sms + R"("text":")" + escaped + R"("})").text, std::string(1024, '\n'));
  refused_with(
      R"({"id":"d","op":"order.dispute","order":1,"reason":")" + std::string(513, 'r') + R"("})",
      "field 'reason'");
  refused_with(R"({"id":"d","op":"order.dispute","order":1})", "missing field 'reason'");
  refused_with(
      R"({"id":"p","op":"payout.confirm","refund":1,"txid":")" + std::string(129, 'x') + R"("})",
      "field 'txid'");
}

TEST_F(RequestParserTest, Booleans) {
  const std::string head = R"({"id":"a","op":"dispute.resolve","order":1,)";
  for (std::string_view value : {"\"true\"", "1", "0", "[]"}) {
    refused_with(head + R"("approve":)" + std::string(value) + "}",
                 "field 'approve': expected true or false");
  }
  refused_with(R"({"id":"a","op":"dispute.resolve","order":1})", "missing field 'approve'");
}

TEST_F(RequestParserTest, HelloAndSubscribeFields) {
  refused_with(R"({"op":"hello"})", "missing field 'token'");
  refused_with(R"({"op":"hello","token":12345})", "field 'token'");
  refused_with(R"({"op":"subscribe"})", "missing field 'events'");
  for (std::string_view value : {R"("order.sms")", R"(["order.sms","order.teleported"])", R"([1])",
                                 R"([["order.sms"]])", R"({"order.sms":true})", R"([null])"}) {
    refused_with(R"({"op":"subscribe","events":)" + std::string(value) + "}",
                 "field 'events': expected a list of event names");
  }
}

TEST_F(RequestParserTest, RepeatedKeysThatTheOpUsesAreRefused) {
  refused_with(R"({"op":"balance","account":1,"account":2})", "duplicate field 'account'");
  refused_with(R"({"op":"balance","op":"stats","account":1})", "duplicate field 'op'");
  refused_with(R"({"id":"a","id":"b","op":"stats"})", "duplicate field 'id'");
  refused_with(R"({"op":"balance","account":1,"account":"x"})", "duplicate field 'account'");
  refused_with(R"({"op":"balance","acc\u006funt":1,"account":1})", "duplicate field 'account'");
  // A repeated key that the op does not use is ignored, as any unknown field is.
  EXPECT_EQ(cmd(R"({"op":"balance","account":1,"amount":1,"amount":2})").account, 1u);
  EXPECT_EQ(cmd(R"({"op":"balance","account":1,"x":1,"x":2})").account, 1u);
}

TEST_F(RequestParserTest, LinesLongerThanTheFrameLimit) {
  RequestParser small(64);
  ParsedRequest r;
  ParseError e;
  const std::string fits = R"({"op":"stats","pad":")" + std::string(64 - 23, 'x') + R"("})";
  ASSERT_EQ(fits.size(), 64u);
  EXPECT_TRUE(small.parse_copy(fits, &r, &e)) << e.message;
  EXPECT_FALSE(small.parse_copy(fits + " ", &r, &e));
  EXPECT_EQ(e.code, smsx::Error::kBadRequest);
  EXPECT_EQ(e.message, "request line longer than frame_bytes_max");
}

// ---------------------------------------------------------------------------------------
// Reuse, lifetime and framing.

TEST_F(RequestParserTest, ReuseLeavesNoStaleState) {
  ok(R"({"id":"a","op":"order.place","account":9,"service":"wa","country":"us","pool":"p",)"
     R"("operator":"o","max_price":5})");
  const ParsedRequest& r = ok(R"({"op":"order.get","order":4})");
  EXPECT_EQ(r.id, "");
  EXPECT_EQ(r.command.account, 0u);
  EXPECT_EQ(r.command.service, "");
  EXPECT_EQ(r.command.pool, "");
  EXPECT_FALSE(r.command.max_price.has_value());
  ok(R"({"op":"subscribe","events":["order.sms"]})");
  EXPECT_EQ(ok(R"({"op":"subscribe","events":[]})").events, 0);
  ok(R"({"op":"hello","token":"secret-token-1234"})");
  EXPECT_EQ(ok(R"({"op":"stats"})").token, "");
  // After an error, the error's fields are fresh too.
  refused(R"({"id":"e1","op":"balance","account":"x"})");
  const ParseError& e = refused(R"({"op":"nope"})", smsx::Error::kUnknownOp);
  EXPECT_EQ(e.id, "");
  EXPECT_FALSE(e.op.has_value());
  // A key seen in one line is not "repeated" in the next.
  EXPECT_EQ(cmd(R"({"op":"balance","account":1})").account, 1u);
  EXPECT_EQ(cmd(R"({"op":"balance","account":2})").account, 2u);
}

TEST_F(RequestParserTest, ViewsPointIntoTheParserNotTheInput) {
  std::string buffer =
      R"({"id":"keep-me","op":"order.place","account":1,"service":"wa","country":"us"})";
  const std::size_t size = buffer.size();
  buffer.resize(size + RequestParser::kPaddingBytes, ' ');
  ASSERT_TRUE(parser_.parse(std::string_view(buffer.data(), size), buffer.size(), &req_, &err_))
      << err_.message;
  std::fill(buffer.begin(), buffer.end(), 'X');
  EXPECT_EQ(req_.id, "keep-me");
  EXPECT_EQ(req_.command.service, "wa");
  EXPECT_EQ(req_.command.country, "us");
}

// Lines of many ops, to reuse in the framing, reuse and mutation tests.
const std::vector<std::string> kSamples = {
    R"({"id":"c-1","op":"balance","account":1001})",
    R"({"id":"p-1","op":"deposit","account":1001,"amount":5000,"method":"crypto","ref":"tx","from_address":"bc1q"})",
    R"({"id":"p-2","op":"deposit.refund","deposit":9,"to_address":"bc1q"})",
    R"({"id":"gw1-42","op":"order.place","account":1001,"service":"wa","country":"us","pool":"p1","operator":"op","max_price":150})",
    R"({"id":"g","op":"order.get","order":77})",
    R"({"id":"c","op":"order.cancel","order":77})",
    R"({"id":"f","op":"order.finish","order":77})",
    R"({"id":"r","op":"order.retry","order":77})",
    R"({"id":"d","op":"order.dispute","order":77,"reason":"rejected \"code\""})",
    R"({"op":"orders.active","account":1001})",
    R"({"id":"s1","op":"number.add","number":"15550001234","country":"us","operator":"op1","pool":"main"})",
    R"({"id":"s2","op":"number.remove","number":"15550001234"})",
    R"({"id":"s3","op":"sms.deliver","number":"15550001234","text":"Your code: 482913\nCaf\u00e9","sender":"WA"})",
    R"({"op":"payouts.pending"})",
    R"({"id":"p3","op":"payout.confirm","refund":5,"txid":"0xabc"})",
    R"({"op":"stock","service":"wa"})",
    R"({"id":"a1","op":"price.set","service":"wa","country":"us","pool":"p1","price":120,"payout":80})",
    R"({"id":"a2","op":"dispute.resolve","order":77,"approve":true})",
    R"({"op":"stats"})",
    R"({"op":"hello","token":"tok-cust-0123456789"})",
    R"({"op":"subscribe","events":["order.sms","order.expired","order.finished","refund.payout"]})",
    R"({"op":"snapshot"})",
    R"({"op":"promote"})",
    R"({"id":"bad","op":"balance","account":-1})",
    R"({"op":"teleport"})",
    R"([1,2,3])",
};

// A parse outcome, as a string that two parses can be compared by.
std::string describe(bool parsed, const ParsedRequest& r, const ParseError& e) {
  if (!parsed) {
    return "error " + std::string(error_name(e.code)) + " " + e.message +
           " id=" + std::string(e.id) + " op=" + (e.op ? std::string(op_name(*e.op)) : "-");
  }
  const Command& c = r.command;
  return std::string(op_name(r.op)) + " id=" + std::string(r.id) +
         " op=" + std::to_string(static_cast<int>(c.op)) + " account=" + std::to_string(c.account) +
         " target=" + std::to_string(c.target) + " amount=" + std::to_string(c.amount) +
         " payout=" + std::to_string(c.payout) +
         " max=" + (c.max_price ? std::to_string(*c.max_price) : "-") +
         " method=" + std::to_string(static_cast<int>(c.method)) +
         " approve=" + std::to_string(c.approve) + " ref=" + std::string(c.ref) +
         " address=" + std::string(c.address) + " service=" + std::string(c.service) +
         " country=" + std::string(c.country) + " pool=" + std::string(c.pool) +
         " operator=" + std::string(c.operator_name) + " number=" + std::string(c.number) +
         " text=" + std::string(c.text) + " sender=" + std::string(c.sender) +
         " token=" + std::string(r.token) + " events=" + std::to_string(r.events);
}

std::string parse_fresh(std::string_view line) {
  RequestParser parser;
  ParsedRequest r;
  ParseError e;
  const bool parsed = parser.parse_copy(line, &r, &e);
  return describe(parsed, r, e);
}

TEST_F(RequestParserTest, ManyLinesOnOneParserMatchFreshParsers) {
  std::vector<std::string> expected;
  for (const std::string& line : kSamples) expected.push_back(parse_fresh(line));
  std::mt19937 rng(7);
  for (int i = 0; i < 5000; ++i) {
    const std::size_t k = rng() % kSamples.size();
    const bool parsed = parse(kSamples[k]);
    ASSERT_EQ(describe(parsed, req_, err_), expected[k]) << "line " << i << ": " << kSamples[k];
  }
}

// Feeds `input` to a LineFramer in pieces cut at `cuts`, parsing each line in place.
std::vector<std::string> frame_and_parse(RequestParser& parser, std::string_view input,
                                         const std::vector<std::size_t>& cuts) {
  LineFramer framer(RequestParser::kFrameBytesMaxDefault);
  ParsedRequest r;
  ParseError e;
  std::vector<std::string> out;
  auto drain = [&] {
    std::string_view line;
    while (framer.next(&line) == FrameStatus::kLine) {
      const bool parsed = parser.parse(line, framer.readable_bytes_from(line), &r, &e);
      out.push_back(describe(parsed, r, e));
    }
  };
  std::size_t at = 0;
  auto feed = [&](std::string_view piece) {
    while (!piece.empty()) {
      piece.remove_prefix(framer.feed(piece));
      drain();
    }
  };
  for (std::size_t cut : cuts) {
    feed(input.substr(at, cut - at));
    at = cut;
  }
  feed(input.substr(at));
  drain();
  return out;
}

TEST_F(RequestParserTest, ARequestSplitAtEveryByteParsesTheSame) {
  for (const std::string& line : kSamples) {
    const std::string input = line + "\r\n" + kSamples[0] + "\n";
    const std::vector<std::string> whole = frame_and_parse(parser_, input, {});
    ASSERT_EQ(whole.size(), 2u);
    EXPECT_EQ(whole[0], parse_fresh(line));
    for (std::size_t cut = 1; cut < input.size(); ++cut) {
      ASSERT_EQ(frame_and_parse(parser_, input, {cut}), whole)
          << "cut at " << cut << " of " << line;
    }
  }
}

TEST_F(RequestParserTest, ManyRequestsFedOneByteAtATime) {
  std::string input;
  std::vector<std::string> expected;
  for (int round = 0; round < 3; ++round) {
    for (const std::string& line : kSamples) {
      input += line + "\n";
      expected.push_back(parse_fresh(line));
    }
  }
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < input.size(); ++i) cuts.push_back(i);
  EXPECT_EQ(frame_and_parse(parser_, input, cuts), expected);
}

bool is_parse_error_code(smsx::Error code) {
  return code == smsx::Error::kBadRequest || code == smsx::Error::kUnknownOp;
}

TEST_F(RequestParserTest, BinaryGarbageThroughTheFramer) {
  std::mt19937 rng(11);
  std::string input;
  for (int i = 0; i < 200'000; ++i) input.push_back(static_cast<char>(rng()));
  LineFramer framer(RequestParser::kFrameBytesMaxDefault);
  std::string_view rest = input;
  std::size_t lines = 0;
  while (!rest.empty()) {
    rest.remove_prefix(framer.feed(rest.substr(0, 1 + rng() % 3000)));
    std::string_view line;
    while (framer.next(&line) == FrameStatus::kLine) {
      ++lines;
      if (!parser_.parse(line, framer.readable_bytes_from(line), &req_, &err_)) {
        EXPECT_TRUE(is_parse_error_code(err_.code));
      }
    }
  }
  EXPECT_GT(lines, 100u);
}

TEST_F(RequestParserTest, MutatedRequestsNeverCrashAndFailOnlyWithParseErrors) {
  std::mt19937 rng(5);
  const std::string alphabet = "{}[]\":,\\ 0123456789-+.eEtrufalsn\x01\x7f\xc3\xa9\xff";
  std::size_t accepted = 0, refused_count = 0;
  for (int i = 0; i < 30'000; ++i) {
    std::string line = kSamples[rng() % kSamples.size()];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < edits && !line.empty(); ++k) {
      const std::size_t at = rng() % line.size();
      switch (rng() % 4) {
        case 0:  // replace a byte
          line[at] = alphabet[rng() % alphabet.size()];
          break;
        case 1:  // delete a byte
          line.erase(at, 1);
          break;
        case 2:  // insert a byte
          line.insert(line.begin() + static_cast<std::ptrdiff_t>(at),
                      alphabet[rng() % alphabet.size()]);
          break;
        default:  // truncate
          line.resize(at);
          break;
      }
    }
    if (parse(line)) {
      ++accepted;
      EXPECT_LT(req_.op, OpKind::kCount);
      EXPECT_LE(req_.id.size(), 64u);
    } else {
      ++refused_count;
      ASSERT_TRUE(is_parse_error_code(err_.code)) << line;
      EXPECT_FALSE(err_.message.empty()) << line;
    }
  }
  EXPECT_GT(accepted, 0u);
  EXPECT_GT(refused_count, 0u);
}

// ---------------------------------------------------------------------------------------
// docs/protocol.md: every example request parses, or fails as the example's reply says.

TEST(ProtocolDocTest, EveryExampleRequestParsesAsDocumented) {
  const std::string path = std::string(SMSX_SOURCE_DIR) + "/docs/protocol.md";
  FILE* f = std::fopen(path.c_str(), "rb");
  ASSERT_NE(f, nullptr) << path;
  std::string text;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof(buf), f)) > 0;) text.append(buf, n);
  std::fclose(f);

  const std::string_view kRequest = "→ ";
  const std::string_view kAnswer = "← ";
  std::vector<std::string> lines;
  for (std::size_t at = 0; at < text.size();) {
    std::size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(at, end - at));
    at = end + 1;
  }
  RequestParser parser;
  simdjson::dom::parser dom;
  std::size_t requests = 0, answers = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    if (line.rfind(kAnswer, 0) == 0) {
      ++answers;
      simdjson::dom::element e;
      ASSERT_EQ(dom.parse(line.substr(kAnswer.size())).get(e), simdjson::SUCCESS) << line;
      EXPECT_TRUE(e.is_object()) << line;
      continue;
    }
    if (line.rfind(kRequest, 0) != 0) continue;
    ++requests;
    const std::string request = line.substr(kRequest.size());
    // The answer on the next line says whether the parser must refuse it. A role refusal
    // needs only the op to be readable: it comes before the request's other errors.
    std::string expected_error;
    if (i + 1 < lines.size() && lines[i + 1].rfind(kAnswer, 0) == 0) {
      for (std::string_view code : {"BAD_REQUEST", "UNKNOWN_OP", "UNAUTHORIZED", "FORBIDDEN"}) {
        if (lines[i + 1].find("\"error\":\"" + std::string(code) + "\"") != std::string::npos) {
          expected_error = code;
        }
      }
    }
    ParsedRequest r;
    ParseError e;
    const bool parsed = parser.parse_copy(request, &r, &e);
    if (expected_error == "UNAUTHORIZED" || expected_error == "FORBIDDEN") {
      EXPECT_TRUE(parsed || e.op.has_value()) << request;
    } else if (expected_error.empty()) {
      EXPECT_TRUE(parsed) << request << "\n  -> " << e.message;
    } else {
      EXPECT_FALSE(parsed) << request;
      EXPECT_EQ(error_name(e.code), expected_error) << request;
      // The documented message and echoed id are the parser's, word for word.
      simdjson::dom::element answer;
      ASSERT_EQ(dom.parse(lines[i + 1].substr(kAnswer.size())).get(answer), simdjson::SUCCESS);
      std::string_view message, id;
      EXPECT_EQ(answer["message"].get(message), simdjson::SUCCESS);
      EXPECT_EQ(message, e.message) << request;
      if (answer["id"].get(id) != simdjson::SUCCESS) id = "";
      EXPECT_EQ(id, e.id) << request;
    }
  }
  EXPECT_GE(requests, 24u);
  EXPECT_GE(answers, requests);
}

}  // namespace
}  // namespace smsx::net

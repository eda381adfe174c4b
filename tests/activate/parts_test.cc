// The gateway's parsing and formatting parts, without processes: form decoding, money,
// the keys file, the country table, the configuration, order states.
#include <gtest/gtest.h>

#include "tools/activate_gateway/config.h"
#include "tools/activate_gateway/countries.h"
#include "tools/activate_gateway/form.h"
#include "tools/activate_gateway/gateway.h"
#include "tools/activate_gateway/keys_file.h"
#include "tools/activate_gateway/limits.h"
#include "tools/activate_gateway/money.h"
#include "tools/activate_gateway/order_view.h"
#include "tools/activate_gateway/reply_json.h"

namespace smsx::activate {
namespace {

std::string decode(std::string_view in) {
  std::string out;
  form_decode(in, &out);
  return out;
}

TEST(FormTest, DecodesPlusAndPercentAndKeepsBadEscapes) {
  EXPECT_EQ(decode("a+b%20c%2B%3d"), "a b c+=");
  EXPECT_EQ(decode("100%"), "100%");
  EXPECT_EQ(decode("%zz%4"), "%zz%4");
  EXPECT_EQ(decode("%00x"), std::string("\0x", 2));
}

TEST(FormTest, TheLastPairWinsAndTheBodyComesAfterTheQuery) {
  Params params;
  ASSERT_TRUE(params.add("action=a&api_key=k&&flag&action=b"));
  ASSERT_TRUE(params.add("action=c"));
  EXPECT_EQ(params.get("action"), "c");
  EXPECT_EQ(params.get("api_key"), "k");
  EXPECT_EQ(params.get("flag"), "");
  EXPECT_FALSE(params.get("missing").has_value());
  EXPECT_EQ(params.size(), 5u);
}

TEST(FormTest, AtMostKParamsMaxPairs) {
  std::string many;
  for (std::size_t i = 0; i <= kParamsMax; ++i) many += "p" + std::to_string(i) + "=1&";
  Params params;
  EXPECT_FALSE(params.add(many));
  EXPECT_EQ(params.size(), kParamsMax);
}

TEST(MoneyTest, FormatsWithTheScale) {
  EXPECT_EQ(format_money(12345, 2), "123.45");
  EXPECT_EQ(format_money(5, 2), "0.05");
  EXPECT_EQ(format_money(0, 2), "0.00");
  EXPECT_EQ(format_money(-5, 2), "-0.05");
  EXPECT_EQ(format_money(12345, 0), "12345");
  EXPECT_EQ(format_money(1, 4), "0.0001");
  EXPECT_EQ(format_money(INT64_MIN, 2), "-92233720368547758.08");
}

TEST(MoneyTest, ParsesDecimalsRoundingDown) {
  EXPECT_EQ(parse_money("1", 2), 100);
  EXPECT_EQ(parse_money("1.5", 2), 150);
  EXPECT_EQ(parse_money("1.239", 2), 123);
  EXPECT_EQ(parse_money(".5", 2), 50);
  EXPECT_EQ(parse_money("7.", 2), 700);
  EXPECT_EQ(parse_money("12", 0), 12);
  EXPECT_EQ(parse_money("12.9", 0), 12);
  for (const char* bad :
       {"", ".", "-1", "+1", "1e3", " 1", "1,5", "1.2.3", "abc", "99999999999999999999"}) {
    EXPECT_FALSE(parse_money(bad, 2).has_value()) << bad;
  }
}

TEST(KeysFileTest, ParsesKeysAccountsAndComments) {
  auto table = KeyTable::parse(
      "# keys\n\n  key-aaaaaaaaaaaaaaaa 1\nkey-bbbbbbbbbbbbbbbb\t18446744073709551615\r\n", "k");
  ASSERT_TRUE(table.ok()) << table.error();
  EXPECT_EQ(table->size(), 2u);
  ASSERT_NE(table->find("key-aaaaaaaaaaaaaaaa"), nullptr);
  EXPECT_EQ(table->find("key-aaaaaaaaaaaaaaaa")->account, 1u);
  EXPECT_EQ(table->find("key-bbbbbbbbbbbbbbbb")->account, UINT64_MAX);
  EXPECT_EQ(table->find("key-cccccccccccccccc"), nullptr);
}

TEST(KeysFileTest, RefusesBadLinesNamingTheLineButNotTheKey) {
  struct Case {
    const char* text;
    const char* error;
  };
  for (const Case& c :
       {Case{"short 1\n", "k:1: a key is"}, Case{"key-aaaaaaaaaaaaaaaa\n", "k:1: expected the key"},
        Case{"\nkey-aaaaaaaaaaaaaaaa -1\n", "k:2: expected the key"},
        Case{"key-aaaaaaaaaaaaaaaa 1 2\n", "k:1: expected the key"},
        Case{"key-aaaa/aaaaaaaaaaaa 1\n", "k:1: a key is"},
        Case{"key-aaaaaaaaaaaaaaaa 1\nkey-aaaaaaaaaaaaaaaa 2\n", "k:2: this key"}}) {
    auto table = KeyTable::parse(c.text, "k");
    ASSERT_FALSE(table.ok()) << c.text;
    EXPECT_EQ(table.error().rfind(c.error, 0), 0u) << table.error();
    EXPECT_EQ(table.error().find("aaaaaaaa"), std::string::npos) << table.error();
  }
}

TEST(KeysFileTest, TheTokenBucketRefillsAtTheRate) {
  KeyEntry entry;
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(take_token(&entry, 3, 1000));
  EXPECT_FALSE(take_token(&entry, 3, 1000));
  EXPECT_FALSE(take_token(&entry, 3, 1100));  // 0.3 of a token
  EXPECT_TRUE(take_token(&entry, 3, 1334));   // 1.002 tokens
  EXPECT_FALSE(take_token(&entry, 3, 1334));
  EXPECT_TRUE(take_token(&entry, 3, 5000));  // capped at 3, not 11
  EXPECT_TRUE(take_token(&entry, 3, 5000));
  EXPECT_TRUE(take_token(&entry, 3, 5000));
  EXPECT_FALSE(take_token(&entry, 3, 5000));
  EXPECT_TRUE(take_token(&entry, 0, 5000));  // 0: unlimited
}

TEST(CountriesTest, DefaultsMapBothWaysAndUnknownsPassThrough) {
  CountryTable table = CountryTable::defaults();
  EXPECT_EQ(table.to_engine("0"), "ru");
  EXPECT_EQ(table.to_engine("187"), "us");
  EXPECT_EQ(table.to_engine("12"), "12");
  EXPECT_EQ(table.to_id("gb"), "16");
  EXPECT_EQ(table.to_id("zz"), "zz");
  table.set("999", "ru");  // a second id for ru: going back, the smallest id wins
  EXPECT_EQ(table.to_id("ru"), "0");
  table.set("0", "xx");
  EXPECT_EQ(table.to_id("ru"), "999");
  EXPECT_EQ(table.to_id("xx"), "0");
}

TEST(ConfigTest, ReadsEveryKey) {
  auto config = parse_gateway_config(
      "listen = \"127.0.0.1:0\"\nsmsxd = \"127.0.0.1:7\"\ntoken = \"t\"\n"
      "keys_file = \"keys.txt\"\nupstream_connections = 3\nmoney_scale = 0\n"
      "default_country = \"187\"\nlog_level = \"warn\"\n"
      "[limits]\nrequests_per_key_per_second = 5\nbody_bytes_max = 100\n"
      "connections_max = 7\nrequests_in_flight_max = 9\n[countries]\n\"900\" = \"cx\"\n",
      "f.toml", "/etc/smsx");
  ASSERT_TRUE(config.ok()) << config.error();
  EXPECT_EQ(config->listen.port, 0);
  EXPECT_EQ(config->smsxd.port, 7);
  EXPECT_EQ(config->keys_file, "/etc/smsx/keys.txt");
  EXPECT_EQ(config->upstream_connections, 3);
  EXPECT_EQ(config->money_scale, 0);
  EXPECT_EQ(config->default_country, "187");
  EXPECT_EQ(config->log_level, net::LogLevel::kWarn);
  EXPECT_EQ(config->limits.requests_per_key_per_second, 5u);
  EXPECT_EQ(config->limits.body_bytes_max, 100u);
  EXPECT_EQ(config->limits.connections_max, 7u);
  EXPECT_EQ(config->limits.requests_in_flight_max, 9u);
  EXPECT_EQ(config->countries.to_engine("900"), "cx");
  EXPECT_EQ(config->countries.to_engine("0"), "ru");  // the defaults stay
}

TEST(ConfigTest, RefusesWhatIsWrong) {
  const std::string base = "token = \"t\"\nkeys_file = \"k\"\n";
  for (const char* extra : {"money_scale = 10\n", "upstream_connections = 0\n",
                            "listen = \"localhost:1\"\n", "colour = 1\n", "log_level = \"x\"\n",
                            "[limits]\nbody_bytes = 1\n", "[countries]\n\"1\" = \"UA\"\n"}) {
    EXPECT_FALSE(parse_gateway_config(base + extra, "f", "").ok()) << extra;
  }
  EXPECT_FALSE(parse_gateway_config("keys_file = \"k\"\n", "f", "").ok());
  EXPECT_FALSE(parse_gateway_config("token = \"t\"\n", "f", "").ok());
}

TEST(ReplyJsonTest, EscapesAndFormatsTimes) {
  std::string out;
  append_json_string(&out, "a\"b\\c\n\x01");
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\n\\u0001\"");
  out.clear();
  append_datetime(&out, 1764000000123);
  EXPECT_EQ(out, "2025-11-24 16:00:00");
}

TEST(OrderViewTest, StatusTextFollowsTheState) {
  OrderView order;
  order.state = "waiting";
  EXPECT_EQ(status_text(order), "STATUS_WAIT_CODE");
  order.sms.push_back({"1111", "code 1111"});
  order.state = "retry";
  EXPECT_EQ(status_text(order), "STATUS_WAIT_RETRY:1111");
  order.sms.push_back({"", "no code here"});
  order.state = "received";
  EXPECT_EQ(status_text(order), "STATUS_OK:no code here");
  order.state = "finished";
  EXPECT_EQ(status_text(order), "STATUS_OK:no code here");
  order.state = "expired";
  EXPECT_EQ(status_text(order), "STATUS_CANCEL");
}

TEST(OrderViewTest, ParsesAnOrderAndRefusesMissingOrIllTypedFields) {
  simdjson::dom::parser parser;
  const std::string full =
      R"({"ok":true,"order":7,"account":1001,"state":"received","number":"15550001234",)"
      R"("service":"wa","country":"us","pool":"p","price":120,"created_at":5,)"
      R"("expires_at":9,"sms":[{"code":null,"text":"hi"},{"code":"4821","text":"c 4821"}]})";
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(full).get(doc), simdjson::SUCCESS);
  OrderView order;
  ASSERT_TRUE(parse_order(doc, &order));
  EXPECT_EQ(order.order, 7u);
  EXPECT_EQ(order.account, 1001u);
  EXPECT_EQ(order.state, "received");
  EXPECT_EQ(order.number, "15550001234");
  EXPECT_EQ(order.service, "wa");
  EXPECT_EQ(order.country, "us");
  EXPECT_EQ(order.price, 120);
  EXPECT_EQ(order.created_at, 5);
  ASSERT_EQ(order.sms.size(), 2u);
  EXPECT_EQ(order.sms[0].code, "");
  EXPECT_EQ(order.sms[0].text, "hi");
  EXPECT_EQ(order.sms[1].code, "4821");
  EXPECT_EQ(newest_code(order), "4821");

  // The first of a repeated name counts.
  ASSERT_EQ(parser.parse(std::string(R"({"account":1,"account":2,)") + full.substr(1)).get(doc),
            simdjson::SUCCESS);
  ASSERT_TRUE(parse_order(doc, &order));
  EXPECT_EQ(order.account, 1u);

  for (const std::string bad : {
           R"({"order":7})",
           R"([1,2])",
           R"({"order":"7","account":1001,"state":"waiting","number":"1","service":"wa",)"
           R"("country":"us","price":1,"created_at":1,"sms":[]})",
           R"({"order":7,"account":-1,"state":"waiting","number":"1","service":"wa",)"
           R"("country":"us","price":1,"created_at":1,"sms":[]})",
           R"({"order":7,"account":1,"state":"waiting","number":"1","service":"wa",)"
           R"("country":"us","price":1,"created_at":1,"sms":{}})",
           R"({"order":7,"account":1,"state":"waiting","number":"1","service":"wa",)"
           R"("country":"us","price":1,"sms":[]})",
       }) {
    ASSERT_EQ(parser.parse(bad).get(doc), simdjson::SUCCESS) << bad;
    EXPECT_FALSE(parse_order(doc, &order)) << bad;
  }
}

TEST(NamesTest, EngineNamesAndOrderIds) {
  EXPECT_TRUE(engine_name_valid("wa"));
  EXPECT_TRUE(engine_name_valid("a-b_9"));
  EXPECT_FALSE(engine_name_valid(""));
  EXPECT_FALSE(engine_name_valid("WA"));
  EXPECT_FALSE(engine_name_valid("a\"b"));
  EXPECT_FALSE(engine_name_valid("abcdefghijklmnopq"));
  EXPECT_TRUE(order_id_valid("18446744073709551615"));
  EXPECT_FALSE(order_id_valid("18446744073709551616"));
  EXPECT_FALSE(order_id_valid("1x"));
  EXPECT_FALSE(order_id_valid(""));
  EXPECT_FALSE(order_id_valid("+1"));
}

}  // namespace
}  // namespace smsx::activate

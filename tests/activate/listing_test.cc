// getNumber's refusals, getNumberV2's JSON, and the listings: getPrices, getNumbersStatus,
// getActiveActivations.
#include <gtest/gtest.h>
#include <simdjson.h>

#include "tests/activate/activate_fixture_util.h"

namespace smsx::activate::test {
namespace {

simdjson::dom::element parse(simdjson::dom::parser& parser, const std::string& body) {
  simdjson::dom::element doc;
  EXPECT_EQ(parser.parse(body).get(doc), simdjson::SUCCESS) << body;
  return doc;
}

TEST_F(ActivateTest, GetNumberRefusals) {
  add_number("cx", "wa", 120, "op");
  EXPECT_EQ(call(kKeyA, "action=getNumber&country=900"), "BAD_SERVICE");
  EXPECT_EQ(call(kKeyA, "action=getNumber&service=WA&country=900"), "BAD_SERVICE");
  EXPECT_EQ(call(kKeyA, "action=getNumber&service=zz&country=900"), "BAD_SERVICE");  // unpriced
  EXPECT_EQ(call(kKeyA, "action=getNumber&service=wa&country=901"), "NO_NUMBERS");   // elsewhere
  EXPECT_EQ(call(kKeyA, "action=getNumber&service=wa&country=900&operator=other"), "NO_NUMBERS");
  EXPECT_EQ(call(kKeyA, "action=getNumber&service=wa&country=900&maxPrice=1"),
            "WRONG_MAX_PRICE:1.20");
  EXPECT_EQ(call(kKeyA, "action=getNumber&service=wa&country=900&maxPrice=abc"), "ERROR_SQL");
  EXPECT_EQ(call(kKeyA, "action=getBalance"), "ACCESS_BALANCE:10.00");  // nothing was held
  // Within maxPrice, with the operator (or "any"), it is sold; then there is none left.
  auto [id, phone] = buy(kKeyA, "service=wa&country=900&maxPrice=1.20&operator=op");
  EXPECT_FALSE(id.empty());
  EXPECT_EQ(call(kKeyA, "action=getNumber&service=wa&country=900&operator=any"), "NO_NUMBERS");
}

TEST_F(ActivateTest, AnUnmappedCountryIdPassesThroughAsTheEngineName) {
  const std::string number = add_number("187x", "tg");
  const std::string mapped = add_number("us", "tg");
  auto [id, phone] = buy(kKeyA, "service=tg&country=187x");
  EXPECT_EQ(phone, number);
  auto [id2, phone2] = buy(kKeyA, "service=tg&country=187");  // the default table: 187 -> us
  EXPECT_EQ(phone2, mapped);
}

TEST_F(ActivateTest, GetNumberV2AnswersJson) {
  const std::string number = add_number();
  HttpClient client(gateway_->port());
  client.send_raw("GET " + api(kKeyA, "action=getNumberV2&service=wa&country=900") +
                  " HTTP/1.1\r\nHost: x\r\n\r\n");
  auto response = client.read_response();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->header("content-type"), "application/json");
  simdjson::dom::parser parser;
  auto doc = parse(parser, response->body);
  uint64_t activation = 0;
  ASSERT_EQ(doc["activationId"].get(activation), simdjson::SUCCESS) << response->body;
  EXPECT_EQ(std::string(doc["phoneNumber"].get_string().value()), number);
  EXPECT_DOUBLE_EQ(doc["activationCost"].get_double().value(), 1.2);
  EXPECT_EQ(std::string(doc["countryCode"].get_string().value()), "900");
  EXPECT_EQ(std::string(doc["activationOperator"].get_string().value()), "any");
  EXPECT_TRUE(doc["canGetAnotherSms"].get_bool().value());
  EXPECT_EQ(doc["activationTime"].get_string().value().size(), 19u);
  EXPECT_EQ(call(kKeyA, "action=getStatus&id=" + std::to_string(activation)), "STATUS_WAIT_CODE");
  // Refusals stay plain text, as the original's.
  EXPECT_EQ(call(kKeyA, "action=getNumberV2&service=wa&country=900"), "NO_NUMBERS");
}

TEST_F(ActivateTest, GetPricesShowsTheCheapestOfferAndFreeCounts) {
  add_number("cx", "wa", 120);
  add_number("cx", "wa", 120);
  add_number("cx", "tg", 75);
  add_number("ru", "wa", 300);
  EXPECT_EQ(call(kKeyA, "action=getPrices&country=900"),
            "{\"900\":{\"tg\":{\"cost\":0.75,\"count\":1},\"wa\":{\"cost\":1.20,\"count\":2}}}");
  EXPECT_EQ(
      call(kKeyA, "action=getPrices&service=wa"),
      "{\"0\":{\"wa\":{\"cost\":3.00,\"count\":1}},\"900\":{\"wa\":{\"cost\":1.20,\"count\":2}}}");
  EXPECT_EQ(call(kKeyA, "action=getPrices&service=nothing"), "{}");
  buy(kKeyA, "service=wa&country=900");
  EXPECT_EQ(call(kKeyA, "action=getPrices&service=wa&country=900"),
            "{\"900\":{\"wa\":{\"cost\":1.20,\"count\":1}}}");
}

TEST_F(ActivateTest, GetNumbersStatusCountsFreeNumbersPerService) {
  add_number("cx", "wa");
  add_number("cx", "wa");
  add_number("cx", "tg");
  add_number("ru", "wa");
  EXPECT_EQ(call(kKeyA, "action=getNumbersStatus&country=900"), "{\"tg_0\":\"1\",\"wa_0\":\"2\"}");
  EXPECT_EQ(call(kKeyA, "action=getNumbersStatus"), "{\"wa_0\":\"1\"}");  // default: 0 -> ru
  EXPECT_EQ(call(kKeyA, "action=getNumbersStatus&country=555"), "{}");
}

TEST_F(ActivateTest, GetActiveActivationsListsTheKeysOwnOrders) {
  const std::string first = add_number();
  add_number();
  auto [a, pa] = buy(kKeyA, "service=wa&country=900");
  auto [b, pb] = buy(kKeyA, "service=wa&country=900");
  ASSERT_TRUE(sms(pa, "Your code 7777"));
  simdjson::dom::parser parser;
  const std::string body = call(kKeyA, "action=getActiveActivations");
  auto doc = parse(parser, body);
  EXPECT_EQ(std::string(doc["status"].get_string().value()), "success");
  simdjson::dom::array list = doc["activeActivations"].get_array().value();
  ASSERT_EQ(list.size(), 2u) << body;
  int seen = 0;
  for (simdjson::dom::element e : list) {
    const std::string id(e["activationId"].get_string().value());
    EXPECT_EQ(std::string(e["serviceCode"].get_string().value()), "wa");
    EXPECT_EQ(std::string(e["activationCost"].get_string().value()), "1.20");
    EXPECT_EQ(std::string(e["countryCode"].get_string().value()), "900");
    if (id == a) {
      ++seen;
      EXPECT_EQ(std::string(e["phoneNumber"].get_string().value()), pa);
      EXPECT_EQ(std::string(e["activationStatus"].get_string().value()), "2");
      EXPECT_EQ(std::string(e["smsCode"].at(0).get_string().value()), "7777");
      EXPECT_EQ(std::string(e["smsText"].get_string().value()), "Your code 7777");
    } else if (id == b) {
      ++seen;
      EXPECT_EQ(std::string(e["activationStatus"].get_string().value()), "1");
      EXPECT_TRUE(e["smsCode"].is_null());
    }
  }
  EXPECT_EQ(seen, 2);
  EXPECT_EQ(call(kKeyA, "action=setStatus&status=8&id=" + b), "ACCESS_CANCEL");
  auto after = parse(parser, call(kKeyA, "action=getActiveActivations"));
  EXPECT_EQ(after["activeActivations"].get_array().value().size(), 1u);
}

}  // namespace
}  // namespace smsx::activate::test

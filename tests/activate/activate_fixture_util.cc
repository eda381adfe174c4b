#include "tests/activate/activate_fixture_util.h"

namespace smsx::activate::test {

using e2e::int_field;
using e2e::is_ok;
using e2e::request;

void ActivateTest::start(std::string smsxd_toml, std::string gateway_toml) {
  smsxd_ = std::make_unique<e2e::SmsxdProcess>(std::move(smsxd_toml));
  ASSERT_NO_FATAL_FAILURE(smsxd_->start());
  admin_ = std::make_unique<e2e::Client>(smsxd_->port());
  supplier_ = std::make_unique<e2e::Client>(smsxd_->port());
  payments_ = std::make_unique<e2e::Client>(smsxd_->port());
  customer_ = std::make_unique<e2e::Client>(smsxd_->port());
  ASSERT_TRUE(admin_->hello(e2e::kAdminToken));
  ASSERT_TRUE(supplier_->hello(e2e::kSupplierToken));
  ASSERT_TRUE(payments_->hello(e2e::kPaymentsToken));
  ASSERT_TRUE(customer_->hello(e2e::kCustomerToken));
  for (std::uint64_t account : {kAccountA, kAccountB}) {
    std::string r =
        payments_->call(request("deposit", {{"account", account},
                                            {"amount", 1000},
                                            {"method", "card"},
                                            {"ref", "ref-" + std::to_string(account)}}));
    ASSERT_TRUE(is_ok(r)) << r;
  }
  gateway_ = std::make_unique<ActivateProcess>(smsxd_->port(),
                                               "[countries]\n\"900\" = \"cx\"\n" + gateway_toml);
  ASSERT_NO_FATAL_FAILURE(gateway_->start());
  http_ = std::make_unique<HttpClient>(gateway_->port());
  ASSERT_TRUE(http_->connected());
}

std::string ActivateTest::add_number(std::string_view country, std::string_view service, int price,
                                     std::string_view op) {
  std::string number = std::to_string(15550000000LL + ++fresh_);
  std::string r = admin_->call(request("price.set", {{"service", service},
                                                     {"country", country},
                                                     {"pool", "p-" + std::string(service)},
                                                     {"price", price},
                                                     {"payout", price / 2}}));
  EXPECT_TRUE(is_ok(r)) << r;
  r = supplier_->call(request("number.add", {{"number", number},
                                             {"country", country},
                                             {"operator", op},
                                             {"pool", "p-" + std::string(service)}}));
  EXPECT_TRUE(is_ok(r)) << r;
  return number;
}

std::string ActivateTest::call(std::string_view key, std::string_view query) {
  return http_->get(api(key, query));
}

std::pair<std::string, std::string> ActivateTest::buy(std::string_view key,
                                                      std::string_view query) {
  std::string reply = call(key, "action=getNumber&" + std::string(query));
  const std::string prefix = "ACCESS_NUMBER:";
  if (reply.rfind(prefix, 0) != 0) {
    ADD_FAILURE() << "getNumber: " << reply;
    return {"", ""};
  }
  std::string rest = reply.substr(prefix.size());
  const std::size_t colon = rest.find(':');
  return {rest.substr(0, colon), rest.substr(colon + 1)};
}

bool ActivateTest::sms(std::string_view number, std::string_view text) {
  std::string r = supplier_->call(request("sms.deliver", {{"number", number}, {"text", text}}));
  EXPECT_TRUE(is_ok(r)) << r;
  return int_field(r, "order") > 0;
}

std::pair<int64_t, int64_t> ActivateTest::engine_balance(std::uint64_t account) {
  std::string r = customer_->call(request("balance", {{"account", account}}));
  return {int_field(r, "available"), int_field(r, "held")};
}

}  // namespace smsx::activate::test

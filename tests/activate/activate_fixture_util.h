// A fixture for the end-to-end tests: smsxd with a supplier, an admin and a payments
// connection, accounts A and B funded with 1000 minor units (10.00 at scale 2), and
// smsx-activate in front of it with country id 900 mapped to the engine's "cx".
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "tests/activate/activate_util.h"
#include "tests/e2e/smsxd_util.h"

namespace smsx::activate::test {

class ActivateTest : public ::testing::Test {
 protected:
  void SetUp() override { start(); }
  void start(std::string smsxd_toml = "", std::string gateway_toml = "");

  // Prices (service, country, pool "p-SERVICE") at `price` and adds one fresh number with operator
  // `op`; returns the number.
  std::string add_number(std::string_view country = "cx", std::string_view service = "wa",
                         int price = 120, std::string_view op = "op");
  // The body of GET /stubs/handler_api.php?api_key=KEY&QUERY on the shared connection.
  std::string call(std::string_view key, std::string_view query);
  // getNumber: the activation id ("" on failure) and the number.
  std::pair<std::string, std::string> buy(std::string_view key, std::string_view query);
  // Delivers an SMS to `number` from the supplier; true when an order took it.
  bool sms(std::string_view number, std::string_view text);
  // The account's available and held balance, asked of smsxd directly.
  std::pair<int64_t, int64_t> engine_balance(std::uint64_t account);

  std::unique_ptr<e2e::SmsxdProcess> smsxd_;
  std::unique_ptr<e2e::Client> admin_, supplier_, payments_, customer_;
  std::unique_ptr<ActivateProcess> gateway_;
  std::unique_ptr<HttpClient> http_;
  int fresh_ = 0;
};

}  // namespace smsx::activate::test

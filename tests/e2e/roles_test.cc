// Each role is refused every operation it may not do (PROTOCOL.md "Operations"), and
// nothing but hello works before a successful hello.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "tests/e2e/smsxd_util.h"

namespace smsx::e2e {
namespace {

// The contract's table, written out independently of the server's own.
const std::map<std::string, std::set<std::string>>& allowed_roles() {
  static const std::map<std::string, std::set<std::string>> table = {
      {"balance", {"customer", "payments", "admin"}},
      {"deposit", {"payments"}},
      {"deposit.refund", {"payments"}},
      {"order.place", {"customer"}},
      {"order.get", {"customer", "admin"}},
      {"order.cancel", {"customer"}},
      {"order.finish", {"customer"}},
      {"order.retry", {"customer"}},
      {"order.dispute", {"customer"}},
      {"orders.active", {"customer", "admin"}},
      {"number.add", {"supplier"}},
      {"number.remove", {"supplier"}},
      {"sms.deliver", {"supplier"}},
      {"payouts.pending", {"payments"}},
      {"payout.confirm", {"payments"}},
      {"stock", {"customer", "admin"}},
      {"price.set", {"admin"}},
      {"dispute.resolve", {"admin"}},
      {"subscribe", {"customer", "payments", "admin"}},
      {"stats", {"admin"}},
      {"snapshot", {"admin"}},
  };
  return table;
}

TEST(Roles, EachRoleIsRefusedEveryOpItMayNotDo) {
  SmsxdProcess server;
  ASSERT_NO_FATAL_FAILURE(server.start());
  const std::pair<const char*, const char*> roles[] = {{"customer", kCustomerToken},
                                                       {"supplier", kSupplierToken},
                                                       {"payments", kPaymentsToken},
                                                       {"admin", kAdminToken},
                                                       {"replica", kReplicaToken}};
  for (auto [role, token] : roles) {
    Client c(server.port());
    ASSERT_TRUE(c.hello(token)) << role;
    for (const auto& [op, who] : allowed_roles()) {
      if (who.contains(role)) continue;
      SCOPED_TRACE(std::string(role) + " " + op);
      // The fields do not matter: the role check comes before everything else.
      std::string r = c.call("{\"id\":\"" + next_id() + "\",\"op\":\"" + op + "\"}");
      EXPECT_EQ(error_of(r), "FORBIDDEN") << r;
    }
  }
}

TEST(Roles, NothingButHelloBeforeHelloAndRepeatedFailuresClose) {
  SmsxdProcess server;
  ASSERT_NO_FATAL_FAILURE(server.start());
  Client c(server.port());
  EXPECT_EQ(error_of(c.call(request("balance", {{"account", 1}}))), "UNAUTHORIZED");
  EXPECT_EQ(error_of(c.call(request("stats", {}))), "UNAUTHORIZED");
  EXPECT_EQ(error_of(c.call(request("hello", {{"token", "wrong-token-1"}}))), "UNAUTHORIZED");
  EXPECT_EQ(error_of(c.call(request("hello", {{"token", "wrong-token-2"}}))), "UNAUTHORIZED");
  EXPECT_EQ(error_of(c.call(request("hello", {{"token", "wrong-token-3"}}))), "UNAUTHORIZED");
  EXPECT_TRUE(c.closed_by_server());
  EXPECT_NE(server.log().find("unknown token"), std::string::npos);
  Client ok(server.port());
  std::string r = ok.call(request("hello", {{"token", kAdminToken}}));
  EXPECT_EQ(field(r, "role"), "admin") << r;
  EXPECT_EQ(field(r, "primary"), "true");
}

}  // namespace
}  // namespace smsx::e2e

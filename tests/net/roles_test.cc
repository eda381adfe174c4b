#include "net/roles.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

namespace smsx::net {
namespace {

// PROTOCOL.md's "role" column, written out again by hand: each role's ops.
const std::map<Role, std::set<std::string>> kExpected = {
    {Role::kCustomer,
     {"hello", "balance", "order.place", "order.get", "order.cancel", "order.finish", "order.retry",
      "order.dispute", "orders.active", "stock", "subscribe"}},
    {Role::kSupplier, {"hello", "number.add", "number.remove", "sms.deliver"}},
    {Role::kPayments,
     {"hello", "balance", "deposit", "deposit.refund", "payouts.pending", "payout.confirm",
      "subscribe"}},
    {Role::kAdmin,
     {"hello", "balance", "order.get", "orders.active", "stock", "price.set", "dispute.resolve",
      "subscribe", "stats", "snapshot", "promote", "digest"}},
    {Role::kReplica, {"hello", "replicate"}},
};

OpKind kind(std::size_t i) { return static_cast<OpKind>(i); }

TEST(RolesTest, EveryRoleAndOpPairMatchesTheProtocolTable) {
  for (Role role : kRoles) {
    const std::set<std::string>& ops = kExpected.at(role);
    for (std::size_t i = 0; i < kOpKindCount; ++i) {
      const std::string name(op_name(kind(i)));
      EXPECT_EQ(allowed(role, kind(i)), ops.count(name) == 1) << role_name(role) << " / " << name;
    }
  }
}

TEST(RolesTest, EveryOpIsAllowedToSomeRole) {
  for (std::size_t i = 0; i < kOpKindCount; ++i) {
    bool any = false;
    for (Role role : kRoles) any = any || allowed(role, kind(i));
    EXPECT_TRUE(any) << op_name(kind(i));
  }
}

TEST(RolesTest, NamesRoundTrip) {
  for (std::size_t i = 0; i < kOpKindCount; ++i) {
    EXPECT_EQ(op_kind_from_name(op_name(kind(i))), kind(i)) << op_name(kind(i));
  }
  EXPECT_FALSE(op_kind_from_name("").has_value());
  EXPECT_FALSE(op_kind_from_name("Balance").has_value());
  EXPECT_FALSE(op_kind_from_name("tick").has_value());
  EXPECT_FALSE(op_kind_from_name("order.place ").has_value());
}

TEST(RolesTest, EngineOpsMapOntoTheEngineAndNeedIdsExactlyWhenMutating) {
  const std::map<std::string, Op> engine = {
      {"balance", Op::kBalance},
      {"deposit", Op::kDeposit},
      {"deposit.refund", Op::kDepositRefund},
      {"order.place", Op::kOrderPlace},
      {"order.get", Op::kOrderGet},
      {"order.cancel", Op::kOrderCancel},
      {"order.finish", Op::kOrderFinish},
      {"order.retry", Op::kOrderRetry},
      {"order.dispute", Op::kOrderDispute},
      {"orders.active", Op::kOrdersActive},
      {"number.add", Op::kNumberAdd},
      {"number.remove", Op::kNumberRemove},
      {"sms.deliver", Op::kSmsDeliver},
      {"payouts.pending", Op::kPayoutsPending},
      {"payout.confirm", Op::kPayoutConfirm},
      {"stock", Op::kStock},
      {"price.set", Op::kPriceSet},
      {"dispute.resolve", Op::kDisputeResolve},
      {"stats", Op::kStats},
  };
  for (std::size_t i = 0; i < kOpKindCount; ++i) {
    const std::string name(op_name(kind(i)));
    auto it = engine.find(name);
    if (it == engine.end()) {
      EXPECT_FALSE(engine_op(kind(i)).has_value()) << name;
      EXPECT_FALSE(needs_id(kind(i))) << name;
    } else {
      EXPECT_EQ(engine_op(kind(i)), it->second) << name;
      EXPECT_EQ(needs_id(kind(i)), is_mutating(it->second)) << name;
    }
  }
}

TEST(RolesTest, AccessErrorChecksHelloThenRole) {
  // Before hello: only hello goes on; anything else, even an unreadable line, is refused.
  EXPECT_EQ(access_error(std::nullopt, OpKind::kHello), smsx::Error::kNone);
  EXPECT_EQ(access_error(std::nullopt, OpKind::kBalance), smsx::Error::kUnauthorized);
  EXPECT_EQ(access_error(std::nullopt, std::nullopt), smsx::Error::kUnauthorized);
  // After hello: the role decides; an unknown op is left to the parse error.
  EXPECT_EQ(access_error(Role::kCustomer, OpKind::kOrderPlace), smsx::Error::kNone);
  EXPECT_EQ(access_error(Role::kCustomer, OpKind::kPriceSet), smsx::Error::kForbidden);
  EXPECT_EQ(access_error(Role::kSupplier, OpKind::kHello), smsx::Error::kNone);
  EXPECT_EQ(access_error(Role::kReplica, OpKind::kStats), smsx::Error::kForbidden);
  EXPECT_EQ(access_error(Role::kAdmin, std::nullopt), smsx::Error::kNone);
}

}  // namespace
}  // namespace smsx::net

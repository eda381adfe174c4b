// Keys, unknown actions and the rule that another key's activation does not exist.
#include <gtest/gtest.h>

#include "tests/activate/activate_fixture_util.h"

namespace smsx::activate::test {
namespace {

TEST_F(ActivateTest, AMissingKeyIsNoKeyAndAnUnknownOneBadKey) {
  EXPECT_EQ(http_->get("/stubs/handler_api.php?action=getBalance"), "NO_KEY");
  EXPECT_EQ(http_->get("/stubs/handler_api.php?api_key=&action=getBalance"), "NO_KEY");
  EXPECT_EQ(call("key-unknown-0123456789", "action=getBalance"), "BAD_KEY");
  // A prefix of a real key is no key.
  EXPECT_EQ(call("key-a-0123456789abcde", "action=getBalance"), "BAD_KEY");
  EXPECT_EQ(call(kKeyA, "action=getBalance"), "ACCESS_BALANCE:10.00");
}

TEST_F(ActivateTest, UnknownOrMissingActionsAreBadAction) {
  EXPECT_EQ(call(kKeyA, "action=getRentNumber"), "BAD_ACTION");
  EXPECT_EQ(call(kKeyA, "action=getbalance"), "BAD_ACTION");  // names are case-sensitive
  EXPECT_EQ(call(kKeyA, "x=1"), "BAD_ACTION");
}

TEST_F(ActivateTest, AnAccountThatNeverDepositedHasAZeroBalanceAndCannotBuy) {
  add_number();
  EXPECT_EQ(call(kKeyC, "action=getBalance"), "ACCESS_BALANCE:0.00");
  EXPECT_EQ(call(kKeyC, "action=getNumber&service=wa&country=900"), "NO_BALANCE");
}

TEST_F(ActivateTest, AnotherKeysActivationIsNoActivationAndIsNotTouched) {
  const std::string number = add_number();
  auto [id, phone] = buy(kKeyA, "service=wa&country=900");
  ASSERT_FALSE(id.empty());
  for (const char* query :
       {"action=getStatus&id=", "action=setStatus&status=8&id=", "action=setStatus&status=6&id=",
        "action=setStatus&status=3&id=", "action=setStatus&status=1&id="}) {
    EXPECT_EQ(call(kKeyB, query + id), "NO_ACTIVATION") << query;
  }
  // B's list does not show it; A's order is as it was.
  EXPECT_EQ(call(kKeyB, "action=getActiveActivations"),
            "{\"status\":\"success\",\"activeActivations\":[]}");
  EXPECT_EQ(call(kKeyA, "action=getStatus&id=" + id), "STATUS_WAIT_CODE");
  EXPECT_EQ(engine_balance(kAccountA), std::make_pair(int64_t{880}, int64_t{120}));
  EXPECT_EQ(engine_balance(kAccountB), std::make_pair(int64_t{1000}, int64_t{0}));
  // After the code arrives, B still cannot read it.
  ASSERT_TRUE(sms(number, "code 5555"));
  EXPECT_EQ(call(kKeyB, "action=getStatus&id=" + id), "NO_ACTIVATION");
  EXPECT_EQ(call(kKeyA, "action=getStatus&id=" + id), "STATUS_OK:5555");
}

TEST_F(ActivateTest, IdsThatDoNotExistOrAreNotNumbersAreNoActivation) {
  EXPECT_EQ(call(kKeyA, "action=getStatus&id=999999"), "NO_ACTIVATION");
  EXPECT_EQ(call(kKeyA, "action=getStatus&id=abc"), "NO_ACTIVATION");
  EXPECT_EQ(call(kKeyA, "action=getStatus"), "NO_ACTIVATION");
  EXPECT_EQ(call(kKeyA, "action=getStatus&id=-1"), "NO_ACTIVATION");
  EXPECT_EQ(call(kKeyA, "action=getStatus&id=99999999999999999999999"), "NO_ACTIVATION");
  EXPECT_EQ(call(kKeyA, "action=setStatus&status=8&id=999999"), "NO_ACTIVATION");
}

TEST_F(ActivateTest, UnknownStatusesAreBadStatus) {
  add_number();
  auto [id, phone] = buy(kKeyA, "service=wa&country=900");
  for (const char* status : {"0", "2", "7", "x", ""}) {
    EXPECT_EQ(call(kKeyA, "action=setStatus&status=" + std::string(status) + "&id=" + id),
              "BAD_STATUS")
        << status;
  }
  EXPECT_EQ(call(kKeyA, "action=getStatus&id=" + id), "STATUS_WAIT_CODE");
}

}  // namespace
}  // namespace smsx::activate::test

// The activation flow over real HTTP: buy, ready, SMS, code, finish; cancel; retry; the
// automatic refund at the order's lifetime; the early-cancel refusal.
#include <gtest/gtest.h>

#include "tests/activate/activate_fixture_util.h"

namespace smsx::activate::test {
namespace {

TEST_F(ActivateTest, BuyReadySmsCodeFinishChargesOnce) {
  const std::string number = add_number();
  EXPECT_EQ(call(kKeyA, "action=getBalance"), "ACCESS_BALANCE:10.00");
  auto [id, phone] = buy(kKeyA, "service=wa&country=900");
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(phone, number);
  EXPECT_EQ(call(kKeyA, "action=getBalance"), "ACCESS_BALANCE:8.80");
  EXPECT_EQ(engine_balance(kAccountA), std::make_pair(int64_t{880}, int64_t{120}));
  EXPECT_EQ(call(kKeyA, "action=setStatus&status=1&id=" + id), "ACCESS_READY");
  EXPECT_EQ(call(kKeyA, "action=getStatus&id=" + id), "STATUS_WAIT_CODE");
  ASSERT_TRUE(sms(number, "Your WhatsApp code is 482-913"));
  EXPECT_EQ(call(kKeyA, "action=getStatus&id=" + id), "STATUS_OK:482913");
  EXPECT_EQ(call(kKeyA, "action=setStatus&status=6&id=" + id), "ACCESS_ACTIVATION");
  EXPECT_EQ(engine_balance(kAccountA), std::make_pair(int64_t{880}, int64_t{0}));
  // Finishing again changes nothing and says the same; the code stays readable.
  EXPECT_EQ(call(kKeyA, "action=setStatus&status=6&id=" + id), "ACCESS_ACTIVATION");
  EXPECT_EQ(call(kKeyA, "action=getStatus&id=" + id), "STATUS_OK:482913");
  EXPECT_EQ(engine_balance(kAccountA), std::make_pair(int64_t{880}, int64_t{0}));
  // A finished activation cannot be cancelled.
  EXPECT_EQ(call(kKeyA, "action=setStatus&status=8&id=" + id), "BAD_STATUS");
}

TEST_F(ActivateTest, CancelRefundsInFullAndTheLegacyMinusOneCancelsToo) {
  add_number();
  add_number();
  auto [first, n1] = buy(kKeyA, "service=wa&country=900");
  auto [second, n2] = buy(kKeyA, "service=wa&country=900");
  ASSERT_FALSE(second.empty());
  EXPECT_EQ(call(kKeyA, "action=getBalance"), "ACCESS_BALANCE:7.60");
  EXPECT_EQ(call(kKeyA, "action=setStatus&status=8&id=" + first), "ACCESS_CANCEL");
  EXPECT_EQ(call(kKeyA, "action=setStatus&status=-1&id=" + second), "ACCESS_CANCEL");
  EXPECT_EQ(call(kKeyA, "action=getBalance"), "ACCESS_BALANCE:10.00");
  EXPECT_EQ(engine_balance(kAccountA), std::make_pair(int64_t{1000}, int64_t{0}));
  EXPECT_EQ(call(kKeyA, "action=getStatus&id=" + first), "STATUS_CANCEL");
  // Cancelling again is harmless; finishing or retrying a cancelled one says STATUS_CANCEL.
  EXPECT_EQ(call(kKeyA, "action=setStatus&status=8&id=" + first), "ACCESS_CANCEL");
  EXPECT_EQ(call(kKeyA, "action=setStatus&status=6&id=" + first), "STATUS_CANCEL");
  EXPECT_EQ(call(kKeyA, "action=setStatus&status=3&id=" + first), "STATUS_CANCEL");
  EXPECT_EQ(engine_balance(kAccountA), std::make_pair(int64_t{1000}, int64_t{0}));
}

TEST_F(ActivateTest, RetryWaitsForAnotherCodeAndACodeBlocksCancel) {
  const std::string number = add_number();
  auto [id, phone] = buy(kKeyA, "service=wa&country=900");
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(call(kKeyA, "action=setStatus&status=3&id=" + id), "BAD_STATUS");  // no SMS yet
  ASSERT_TRUE(sms(number, "code 1111"));
  EXPECT_EQ(call(kKeyA, "action=setStatus&status=8&id=" + id), "BAD_STATUS");
  EXPECT_EQ(call(kKeyA, "action=setStatus&status=3&id=" + id), "ACCESS_RETRY_GET");
  EXPECT_EQ(call(kKeyA, "action=getStatus&id=" + id), "STATUS_WAIT_RETRY:1111");
  ASSERT_TRUE(sms(number, "code 2222"));
  EXPECT_EQ(call(kKeyA, "action=getStatus&id=" + id), "STATUS_OK:2222");
  EXPECT_EQ(call(kKeyA, "action=setStatus&status=6&id=" + id), "ACCESS_ACTIVATION");
  EXPECT_EQ(engine_balance(kAccountA), std::make_pair(int64_t{880}, int64_t{0}));
}

TEST_F(ActivateTest, AnSmsWithoutACodeShowsItsText) {
  const std::string number = add_number();
  auto [id, phone] = buy(kKeyA, "service=wa&country=900");
  ASSERT_TRUE(sms(number, "Welcome"));
  EXPECT_EQ(call(kKeyA, "action=getStatus&id=" + id), "STATUS_OK:Welcome");
}

class ShortLifetimeTest : public ActivateTest {
 protected:
  void SetUp() override { start("[orders]\nttl = \"1s\"\n"); }
};

TEST_F(ShortLifetimeTest, AnActivationWithNoSmsIsRefundedAtItsLifetime) {
  add_number();
  e2e::Client events(smsxd_->port());
  ASSERT_TRUE(events.hello(e2e::kCustomerToken));
  ASSERT_TRUE(e2e::is_ok(
      events.call(e2e::request("subscribe", {{"events", e2e::Raw{"[\"order.expired\"]"}}}))));
  auto [id, phone] = buy(kKeyA, "service=wa&country=900");
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(call(kKeyA, "action=getBalance"), "ACCESS_BALANCE:8.80");
  auto expired = events.wait_event("order.expired");
  ASSERT_TRUE(expired.has_value());
  EXPECT_EQ(std::to_string(e2e::int_field(*expired, "order")), id);
  EXPECT_EQ(call(kKeyA, "action=getStatus&id=" + id), "STATUS_CANCEL");
  EXPECT_EQ(call(kKeyA, "action=getBalance"), "ACCESS_BALANCE:10.00");
  EXPECT_EQ(call(kKeyA, "action=setStatus&status=8&id=" + id), "ACCESS_CANCEL");
}

class MinCancelDelayTest : public ActivateTest {
 protected:
  void SetUp() override { start("[orders]\nmin_cancel_delay = \"10m\"\n"); }
};

TEST_F(MinCancelDelayTest, CancelTooEarlyIsEarlyCancelDenied) {
  add_number();
  auto [id, phone] = buy(kKeyA, "service=wa&country=900");
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(call(kKeyA, "action=setStatus&status=8&id=" + id), "EARLY_CANCEL_DENIED");
  EXPECT_EQ(call(kKeyA, "action=getStatus&id=" + id), "STATUS_WAIT_CODE");
  EXPECT_EQ(engine_balance(kAccountA), std::make_pair(int64_t{880}, int64_t{120}));
}

}  // namespace
}  // namespace smsx::activate::test

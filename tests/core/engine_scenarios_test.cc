// The domain rules of DESIGN.md, one readable table each (issue: core engine).
#include <gtest/gtest.h>

#include "tests/core/scenario_util.h"

namespace smsx::testing {
namespace {

using S = OrderState;
constexpr PayMethod kCrypto = PayMethod::kCrypto;

// A priced pool with two numbers and a funded account 1001, at time 0.
std::vector<Row> setup() {
  return {
      {0, price("wa", "us", "p1", 120, 80), ok()},
      {0, price("tg", "us", "p1", 100, 60), ok()},
      {0, add_number("15550001", "us", "p1"), ok().with_text("15550001")},
      {0, add_number("15550002", "us", "p1"), ok()},
      {0, deposit(1001, 1000, "r-1"), ok().with_id(1).with_balance(1000, 0)},
  };
}

std::vector<Row> with_setup(std::vector<Row> rows) {
  std::vector<Row> all = setup();
  all.insert(all.end(), rows.begin(), rows.end());
  return all;
}

TEST(Scenario, CancelBeforeSmsRefundsAtOnceAndTheNumberIsSoldAgain) {
  Engine e;
  run_scenario(e, with_setup({
                      {1000, place(1001, "wa", "us"), ok().with_id(1).with_text("15550001")},
                      {1000, balance(1001), ok().with_balance(880, 120)},
                      {2000, cancel(1), ok().with_amount(120)},
                      {2000, balance(1001), ok().with_balance(1000, 0)},
                      {2000, get(1), ok().in_state(S::kCancelled)},
                      {2000, cancel(1), fails(Error::kOrderClosed)},
                      // 15550002 is now the least recently used; 15550001 follows it.
                      {3000, place(1001, "wa", "us"), ok().with_id(2).with_text("15550002")},
                      {3000, place(1001, "wa", "us"), ok().with_id(3).with_text("15550001")},
                  }));
}

TEST(Scenario, NoSmsRefundsInFullAtTheDeadlineAndNotOneMillisecondEarlier) {
  Engine e;
  constexpr uint64_t kPlaced = 1000;
  constexpr uint64_t kDeadline = kPlaced + 20 * kMinute;
  auto events = run_scenario(e, with_setup({
                                    {kPlaced, place(1001, "wa", "us"), ok().with_id(1)},
                                    {kDeadline - 1, get(1), ok().in_state(S::kWaiting)},
                                    {kDeadline - 1, balance(1001), ok().with_balance(880, 120)},
                                    {kDeadline, get(1), ok().in_state(S::kExpired)},
                                    {kDeadline, balance(1001), ok().with_balance(1000, 0)},
                                    {kDeadline, place(1001, "wa", "us"), ok().with_id(2)},
                                }));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, EventKind::kOrderExpired);
  EXPECT_EQ(events[0].order, 1u);
  EXPECT_EQ(events[0].amount, 120);
  EXPECT_EQ(events[0].at_ms, kT0 + kDeadline);
}

TEST(Scenario, CancelAfterACodeIsRefused) {
  Engine e;
  run_scenario(e, with_setup({
                      {0, place(1001, "wa", "us"), ok().with_id(1)},
                      {10, sms("15550001", "Your WhatsApp code: 482-913"),
                       ok().with_order(true).with_id(1).with_code("482913")},
                      {20, cancel(1), fails(Error::kCodeReceived)},
                      {20, get(1), ok().in_state(S::kReceived)},
                      {20, balance(1001), ok().with_balance(880, 120)},
                  }));
}

TEST(Scenario, AReceivedOrderFinishesItselfAtTheDeadline) {
  Engine e;
  auto events = run_scenario(e, with_setup({
                                    {0, place(1001, "wa", "us"), ok()},
                                    {10, sms("15550001", "G-123456 is your code"), ok()},
                                    {20 * kMinute - 1, get(1), ok().in_state(S::kReceived)},
                                    {20 * kMinute, get(1), ok().in_state(S::kFinished)},
                                    {20 * kMinute, balance(1001), ok().with_balance(880, 0)},
                                }));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].kind, EventKind::kOrderFinished);
  EXPECT_TRUE(events[1].auto_finish);
  EXPECT_EQ(events[1].amount, 120);
}

TEST(Scenario, TheUserIsNeverChargedWithoutAnSms) {
  Engine e;
  run_scenario(e, with_setup({
                      {0, place(1001, "wa", "us"), ok().with_id(1)},
                      {1, finish(1), fails(Error::kNoSmsYet)},
                      {2, retry(1), fails(Error::kNoSmsYet)},
                      {3, dispute(1), fails(Error::kNoSmsYet)},
                      {4, sms("15550002", "code 1234"), ok().with_order(false)},  // idle number
                      {4, get(1), ok().in_state(S::kWaiting)},
                      {20 * kMinute, balance(1001), ok().with_balance(1000, 0)},
                  }));
}

TEST(Scenario, MinimumCancelDelayRefusesWithTheSecondsLeft) {
  EngineConfig cfg;
  cfg.min_cancel_delay_ms = 120 * kSecond;
  Engine e(cfg);
  run_scenario(
      e, with_setup({
             {0, place(1001, "wa", "us"), ok().with_id(1)},
             {1, cancel(1), fails(Error::kEarlyCancel).with_seconds_left(120)},
             {60 * kSecond + 500, cancel(1), fails(Error::kEarlyCancel).with_seconds_left(60)},
             {120 * kSecond - 1, cancel(1), fails(Error::kEarlyCancel).with_seconds_left(1)},
             {120 * kSecond, cancel(1), ok().with_amount(120)},
         }));
}

TEST(Scenario, DepositRefundWindowIsFourteenDaysToTheMillisecond) {
  Engine e;
  run_scenario(e, {
                      {0, deposit(7, 500, "r-a"), ok().with_id(1)},
                      {0, deposit(8, 500, "r-b"), ok().with_id(2)},
                      {14 * kDay - 1, refund(1), ok().with_id(1).with_amount(500).with_text("r-a")},
                      {14 * kDay + 1, refund(2), fails(Error::kRefundWindowClosed)},
                      {14 * kDay + 1, balance(7), ok().with_balance(0, 0)},
                      {14 * kDay + 1, balance(8), ok().with_balance(500, 0)},
                  });
}

TEST(Scenario, SpentDepositIsNotRefundedButALaterUnspentOneIs) {
  Engine e;
  run_scenario(e, with_setup({
                      {0, deposit(1001, 300, "r-2"), ok().with_id(2).with_balance(1300, 0)},
                      {0, place(1001, "wa", "us"), ok().with_id(1)},
                      {1, sms("15550001", "code 5555"), ok()},
                      {2, finish(1), ok().with_amount(120)},
                      // 120 captured is attributed to deposit 1 (oldest first): it is spent.
                      {3, refund(1), fails(Error::kDepositSpent)},
                      {3, refund(2), ok().with_amount(300)},
                      {3, balance(1001), ok().with_balance(880, 0)},
                      {4, refund(2), fails(Error::kAlreadyRefunded)},
                      {4, refund(99), fails(Error::kDepositNotFound)},
                  }));
}

TEST(Scenario, RefundsAreFullOnlyAndNeedTheAvailableBalance) {
  Engine e;
  run_scenario(e, with_setup({
                      {0, place(1001, "wa", "us"), ok()},
                      // 120 is held: the available 880 does not cover the 1000 deposit.
                      {1, refund(1), fails(Error::kInsufficientAvailable)},
                      {2, cancel(1), ok()},
                      {3, refund(1), ok().with_amount(1000)},
                      {3, balance(1001), ok().with_balance(0, 0)},
                  }));
}

TEST(Scenario, CryptoRefundGoesOnlyToTheOriginAddress) {
  Engine e;
  auto events =
      run_scenario(e, {
                          {0, deposit(9, 700, "0xabc", kCrypto, "bc1qorigin"), ok().with_id(1)},
                          {1, refund(1, "bc1qattacker"), fails(Error::kRefundDestinationMismatch)},
                          {1, balance(9), ok().with_balance(700, 0)},
                          {2, refund(1, "bc1qorigin"), ok().with_text("bc1qorigin")},
                          {3, pending_payouts(), ok().with_count(1)},
                          {4, confirm_payout(1), ok()},
                          {5, pending_payouts(), ok().with_count(0)},
                          {6, confirm_payout(1), ok()},
                          {6, confirm_payout(2), fails(Error::kRefundNotFound)},
                      });
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, EventKind::kRefundPayout);
  EXPECT_EQ(events[0].destination, "bc1qorigin");
  EXPECT_EQ(events[0].amount, 700);
}

TEST(Scenario, TheSameProcessorReferenceIsCreditedOnce) {
  Engine e;
  run_scenario(e, {
                      {0, deposit(5, 100, "r-x"), ok().with_balance(100, 0)},
                      {1, deposit(5, 100, "r-x"), fails(Error::kDuplicateRef)},
                      {1, deposit(6, 100, "r-x"), fails(Error::kDuplicateRef)},
                      {2, balance(5), ok().with_balance(100, 0)},
                      {2, balance(6), fails(Error::kNoAccount)},
                  });
}

TEST(Scenario, ANumberCapturedForWhatsAppIsNeverSoldForItAgainButIsForTelegram) {
  Engine e;
  run_scenario(e, {
                      {0, price("wa", "us", "p1", 120, 80), ok()},
                      {0, price("tg", "us", "p1", 100, 60), ok()},
                      {0, add_number("15550001", "us", "p1"), ok()},
                      {0, deposit(1001, 1000, "r-1"), ok()},
                      {0, place(1001, "wa", "us"), ok().with_id(1).with_text("15550001")},
                      {1, sms("15550001", "code 111222"), ok()},
                      {2, finish(1), ok()},
                      {3, place(1001, "wa", "us"), fails(Error::kNoNumbers)},
                      {3, place(1001, "tg", "us"), ok().with_id(2).with_text("15550001")},
                  });
}

TEST(Scenario, AnApprovedDisputeCreditsThePriceBackAndARejectedOneStaysFinished) {
  Engine e;
  run_scenario(e, with_setup({
                      {0, place(1001, "wa", "us"), ok().with_id(1)},
                      {0, place(1001, "wa", "us"), ok().with_id(2)},
                      {1, sms("15550001", "code 333444"), ok()},
                      {1, sms("15550002", "code 555666"), ok()},
                      {2, finish(1), ok()},
                      {2, resolve(1, true), fails(Error::kOrderClosed)},  // not disputed
                      {3, dispute(1), ok().in_state(S::kDisputed)},
                      {4, resolve(1, true), ok().with_amount(120)},
                      {4, get(1), ok().in_state(S::kCredited)},
                      {5, dispute(2), ok().in_state(S::kDisputed)},  // captures, then disputes
                      {5, balance(1001), ok().with_balance(880, 0)},
                      {6, resolve(2, false), ok().with_amount(0)},
                      {6, get(2), ok().in_state(S::kFinished)},
                      {6, balance(1001), ok().with_balance(880, 0)},
                  }));
}

TEST(Scenario, RetryAsksForAnotherSmsAndFinishCaptures) {
  Engine e;
  run_scenario(e, with_setup({
                      {0, place(1001, "wa", "us"), ok().with_id(1)},
                      {1, sms("15550001", "code 111111"), ok()},
                      {2, retry(1), ok().in_state(S::kRetry)},
                      {2, get(1), ok().in_state(S::kRetry)},
                      {3, cancel(1), fails(Error::kCodeReceived)},
                      {4, sms("15550001", "code 222222"), ok().with_code("222222")},
                      {4, get(1), ok().in_state(S::kReceived)},
                      {5, finish(1), ok().with_amount(120)},
                      {5, balance(1001), ok().with_balance(880, 0)},
                      {6, finish(1), fails(Error::kOrderClosed)},
                  }));
}

TEST(Scenario, MatchingTakesTheCheapestPoolWithinMaxPrice) {
  Engine e;
  run_scenario(e,
               {
                   {0, price("wa", "de", "big", 120, 80), ok()},
                   {0, price("wa", "de", "cheap", 90, 50), ok()},
                   {0, add_number("4915550001", "de", "big"), ok()},
                   {0, add_number("4915550002", "de", "cheap"), ok()},
                   {0, deposit(1, 1000, "r"), ok()},
                   {0, place(1, "wa", "xx"), fails(Error::kNoPrice)},
                   {0, place(1, "wa", "de", 80), fails(Error::kMaxPriceTooLow).with_amount(90)},
                   {0, place(1, "wa", "de", 100), ok().with_text("4915550002").with_amount(90)},
                   {0, place(1, "wa", "de", 100), fails(Error::kMaxPriceTooLow).with_amount(120)},
                   {0, place(1, "wa", "de"), ok().with_text("4915550001").with_amount(120)},
                   {0, place(1, "wa", "de"), fails(Error::kNoNumbers)},
                   {0, place(1, "wa", "de", std::nullopt, "nope"), fails(Error::kNoPrice)},
                   {0, place(2, "wa", "de"), fails(Error::kNoNumbers)},  // before NO_BALANCE
               });
}

TEST(Scenario, PlacementFiltersByPoolAndOperator) {
  Engine e;
  run_scenario(e,
               {
                   {0, price("wa", "us", "a", 50, 10), ok()},
                   {0, price("wa", "us", "b", 60, 10), ok()},
                   {0, add_number("15550001", "us", "a", "tmo"), ok()},
                   {0, add_number("15550002", "us", "b", "att"), ok()},
                   {0, add_number("15550003", "us", "b", "tmo"), ok()},
                   {0, deposit(1, 1000, "r"), ok()},
                   {0, place(1, "wa", "us", std::nullopt, "b", "tmo"), ok().with_text("15550003")},
                   {0, place(1, "wa", "us", std::nullopt, "", "vzw"), fails(Error::kNoNumbers)},
                   {0, place(1, "wa", "us", std::nullopt, "b"), ok().with_text("15550002")},
                   {0, place(1, "wa", "us"), ok().with_text("15550001")},
               });
}

TEST(Scenario, NoBalanceComesLastAndAccountsExistFromTheirFirstDeposit) {
  Engine e;
  run_scenario(e, with_setup({
                      {0, balance(77), fails(Error::kNoAccount)},
                      {0, place(77, "wa", "us"), fails(Error::kNoBalance)},
                      {0, deposit(78, 119, "r-78"), ok()},
                      {0, place(78, "wa", "us"), fails(Error::kNoBalance)},
                      {0, balance(78), ok().with_balance(119, 0)},
                  }));
}

TEST(Scenario, SuppliersOwnTheirNumbers) {
  Engine e;
  run_scenario(
      e, with_setup({
             {0, place(1001, "wa", "us"), ok()},
             {1, sms("15550001", "code 9999").by("supplier-2"), fails(Error::kNumberNotFound)},
             {1, remove_number("15550001").by("supplier-2"), fails(Error::kNumberNotFound)},
             {1, add_number("15550001", "us", "p1").by("supplier-2"), fails(Error::kNumberExists)},
             {1, get(1), ok().in_state(S::kWaiting)},
         }));
}

// Matching reads a number's past services from a short summary in its free-log entry (the
// first service exactly, the others as one bit each of 15, core/inventory.h). Services s1,
// s2 and s17 are symbols 1, 2 and 17: s17 shares s2's bit, so only the number's full history
// can tell that it may still be sold for s17.
TEST(Scenario, ANumberUsedForSeveralServicesIsSoldForEveryOtherOne) {
  Engine e;
  std::vector<Row> rows;
  for (int s = 1; s <= 17; ++s) {
    rows.push_back({0, price("s" + std::to_string(s), "us", "p1", 100, 60), ok()});
  }
  std::vector<Row> uses = {
      {0, add_number("15550001", "us", "p1"), ok()},
      {0, deposit(1001, 1000, "r-1"), ok()},
      {0, place(1001, "s1", "us"), ok().with_id(1).with_text("15550001")},
      {1, sms("15550001", "code 111222"), ok()},
      {2, finish(1), ok()},
      {3, place(1001, "s2", "us"), ok().with_id(2).with_text("15550001")},
      {4, sms("15550001", "code 333444"), ok()},
      {5, finish(2), ok()},
      {6, place(1001, "s1", "us"), fails(Error::kNoNumbers)},
      {6, place(1001, "s2", "us"), fails(Error::kNoNumbers)},
      {6, place(1001, "s17", "us"), ok().with_id(3).with_text("15550001")},
      {7, cancel(3), ok()},
      {8, place(1001, "s3", "us"), ok().with_id(4).with_text("15550001")},
  };
  rows.insert(rows.end(), uses.begin(), uses.end());
  run_scenario(e, rows);
}

TEST(Scenario, RemovingABusyNumberWaitsForItsOrderToClose) {
  Engine e;
  run_scenario(e, with_setup({
                      {0, place(1001, "wa", "us"), ok().with_text("15550001")},
                      {1, remove_number("15550001"), ok().with_text("removing")},
                      {1, remove_number("15550002"), ok().with_text("removed")},
                      {2, place(1001, "wa", "us"), fails(Error::kNoNumbers)},
                      {3, sms("15550001", "code 4444"), ok().with_order(true)},
                      {4, finish(1), ok()},
                      {5, place(1001, "tg", "us"), fails(Error::kNoNumbers)},
                      {5, sms("15550001", "code 4444"), fails(Error::kNumberNotFound)},
                      {6, add_number("15550001", "us", "p1"), ok()},
                      // Back in stock, but still never again for WhatsApp.
                      {6, place(1001, "wa", "us"), fails(Error::kNoNumbers)},
                      {6, place(1001, "tg", "us"), ok().with_text("15550001")},
                  }));
}

// Idempotent retry of every mutating op: the same id and content gives the first reply
// and changes nothing; the same id with other content is ID_REUSED.
TEST(Scenario, EveryMutatingOpIsIdempotent) {
  Engine e;
  run_scenario(
      e, {
             {0, price("wa", "us", "p1", 120, 80).with_id("price"), ok()},
             {0, price("wa", "us", "p1", 120, 80).with_id("price"), ok().was_replayed()},
             {0, price("wa", "us", "p1", 1, 0).with_id("price"), fails(Error::kIdReused)},
             {0, add_number("15550001", "us", "p1").with_id("n1"), ok()},
             {0, add_number("15550001", "us", "p1").with_id("n1"), ok().was_replayed()},
             {0, add_number("15550002", "us", "p1").with_id("n2"), ok()},
             {0, deposit(1, 1000, "r-1").with_id("d1"), ok().with_balance(1000, 0)},
             {0, deposit(1, 1000, "r-1").with_id("d1"), ok().was_replayed().with_balance(1000, 0)},
             {0, deposit(1, 999, "r-1").with_id("d1"), fails(Error::kIdReused)},
             {0, deposit(2, 50, "r-2").with_id("d2"), ok()},
             {0, place(1, "wa", "us").with_id("o1"), ok().with_id(1).with_text("15550001")},
             {0, place(1, "wa", "us").with_id("o1"), ok().was_replayed().with_id(1)},
             {0, place(1, "tg", "us").with_id("o1"), fails(Error::kIdReused)},
             {0, balance(1), ok().with_balance(880, 120)},
             {0, place(1, "wa", "us").with_id("o2"), ok().with_id(2)},
             {0, cancel(2).with_id("c2"), ok().with_amount(120)},
             {0, cancel(2).with_id("c2"), ok().was_replayed().with_amount(120)},
             {0, balance(1), ok().with_balance(880, 120)},
             {1, sms("15550001", "code 1234").with_id("s1"), ok().with_id(1)},
             {1, sms("15550001", "code 1234").with_id("s1"), ok().was_replayed()},
             {1, get(1), ok().in_state(S::kReceived)},
             {2, retry(1).with_id("t1"), ok().in_state(S::kRetry)},
             {2, retry(1).with_id("t1"), ok().was_replayed().in_state(S::kRetry)},
             {3, finish(1).with_id("f1"), ok().with_amount(120)},
             {3, finish(1).with_id("f1"), ok().was_replayed().with_amount(120)},
             {3, balance(1), ok().with_balance(880, 0)},
             {4, dispute(1).with_id("x1"), ok()},
             {4, dispute(1).with_id("x1"), ok().was_replayed()},
             {5, resolve(1, true).with_id("v1"), ok().with_amount(120)},
             {5, resolve(1, true).with_id("v1"), ok().was_replayed().with_amount(120)},
             {5, balance(1), ok().with_balance(1000, 0)},
             {6, refund(2).with_id("u1"), ok().with_id(1)},
             {6, refund(2).with_id("u1"), ok().was_replayed().with_id(1)},
             {7, confirm_payout(1).with_id("p1"), ok()},
             {7, confirm_payout(1).with_id("p1"), ok().was_replayed()},
             {8, remove_number("15550002").with_id("rm"), ok().with_text("removed")},
             {8, remove_number("15550002").with_id("rm"), ok().was_replayed()},
             // A refused request is not remembered: the same id is evaluated afresh.
             {9, add_number("15550003", "us", "p1"), ok()},
             {9, place(3, "wa", "us").with_id("o9"), fails(Error::kNoBalance)},
             {9, deposit(3, 500, "r-3"), ok()},
             {9, place(3, "wa", "us").with_id("o9"), ok().with_id(3).with_text("15550003")},
         });
}

TEST(Scenario, ClosedOrdersAndRequestIdsAreForgottenAfterTheRetention) {
  EngineConfig cfg;
  cfg.retention_ms = 10 * kMinute;
  Engine e(cfg);
  run_scenario(e,
               with_setup({
                   {0, place(1001, "wa", "us").with_id("o1"), ok().with_id(1)},
                   {kMinute, cancel(1), ok()},
                   {kMinute + 10 * kMinute - 1, get(1), ok().in_state(S::kCancelled)},
                   {kMinute + 10 * kMinute, get(1), fails(Error::kOrderNotFound)},
                   // The place request's id was remembered from time 0: forgotten too.
                   {kMinute + 10 * kMinute, place(1001, "wa", "us").with_id("o1"), ok().with_id(2)},
               }));
  EXPECT_EQ(e.stats().closed_orders_kept, 0u);
}

TEST(Scenario, ExpiryStormIsSpreadOverTicks) {
  EngineConfig cfg;
  cfg.expiries_per_tick_max = 3;
  Engine e(cfg);
  std::vector<Row> rows = {{0, price("wa", "us", "p", 1, 0), ok()},
                           {0, deposit(1, 100, "r"), ok()}};
  for (int i = 0; i < 10; ++i) {
    rows.push_back({0, add_number("1555000" + std::to_string(10 + i), "us", "p"), ok()});
    rows.push_back({0, place(1, "wa", "us"), ok()});
  }
  run_scenario(e, rows);
  Command tick;
  tick.op = Op::kTick;
  tick.now_ms = kT0 + 20 * kMinute;
  std::vector<uint64_t> expired;
  int ticks = 0;
  Reply r;
  do {
    r = e.apply(tick, nullptr);
    expired.insert(expired.end(), r.expired.begin(), r.expired.end());
    ++ticks;
    EXPECT_LE(r.expired.size(), 3u);
  } while (r.more_due);
  EXPECT_EQ(ticks, 4);
  EXPECT_EQ(expired, (std::vector<uint64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
  e.check_invariants();
}

// Replay applies with ReplyUse::kChangedOnly: the same state and the same outcome of every
// command, without the number in a placement's reply.
TEST(Scenario, RepliesForReplayChangeNothingButTheTextNobodyReads) {
  const std::vector<Req> reqs = {price("wa", "us", "p", 100, 60),
                                 add_number("15550001", "us", "p"),
                                 add_number("15550002", "us", "p"),
                                 deposit(1, 1000, "r1"),
                                 place(1, "wa", "us"),
                                 place(1, "wa", "us"),
                                 cancel(1),
                                 sms("15550002", "code 4829"),
                                 finish(2),
                                 place(1, "wa", "us"),
                                 remove_number("15550001")};
  Engine full, brief;
  for (size_t i = 0; i < reqs.size(); ++i) {
    Req req = reqs[i];
    const Command c = req.with_id("r" + std::to_string(i)).command(kT0 + i);
    const Reply a = full.apply(c, nullptr);
    const Reply b = brief.apply(c, nullptr, Engine::ReplyUse::kChangedOnly);
    EXPECT_EQ(a.error, b.error) << "command " << i;
    EXPECT_EQ(a.changed, b.changed) << "command " << i;
    EXPECT_EQ(a.id, b.id) << "command " << i;
    EXPECT_EQ(a.amount, b.amount) << "command " << i;
    if (c.op == Op::kOrderPlace) {
      EXPECT_EQ(a.text.size(), 8u) << "command " << i;  // the number
      EXPECT_EQ(b.text, "") << "command " << i;
    } else {
      EXPECT_EQ(a.text, b.text) << "command " << i;
    }
  }
  EXPECT_EQ(full.digest(), brief.digest());
  brief.check_invariants();
  // A retry of a placement applied for replay gets the whole first reply.
  Req first_place = reqs[4];
  const Command retry = first_place.with_id("r4").command(kT0 + reqs.size());
  const Reply recalled = brief.apply(retry, nullptr);
  EXPECT_TRUE(recalled.replayed);
  EXPECT_EQ(recalled.id, 1u);
  EXPECT_EQ(recalled.text, full.apply(retry, nullptr).text);
  EXPECT_EQ(recalled.text.size(), 8u);
}

}  // namespace
}  // namespace smsx::testing

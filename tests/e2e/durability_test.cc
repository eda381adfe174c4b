// Restarts keep every acknowledged change: after SIGTERM, after SIGKILL, and under load.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "tests/e2e/smsxd_util.h"

namespace smsx::e2e {
namespace {

TEST(Durability, SigkillAndRestartKeepEveryAcknowledgedDeposit) {
  SmsxdProcess server;
  ASSERT_NO_FATAL_FAILURE(server.start());
  {
    Client pay(server.port());
    ASSERT_TRUE(pay.hello(kPaymentsToken));
    for (int i = 1; i <= 200; ++i) {
      std::string r = pay.call(request("deposit", {{"account", 7000 + i % 10},
                                                   {"amount", i},
                                                   {"method", "card"},
                                                   {"ref", "k-" + std::to_string(i)}}));
      ASSERT_TRUE(is_ok(r)) << r;
    }
  }
  server.kill9();
  ASSERT_NO_FATAL_FAILURE(server.start());
  Client pay(server.port());
  ASSERT_TRUE(pay.hello(kPaymentsToken));
  for (int a = 0; a < 10; ++a) {
    int64_t expected = 0;
    for (int i = 1; i <= 200; ++i) {
      if (i % 10 == a) expected += i;
    }
    std::string r = pay.call(request("balance", {{"account", 7000 + a}}));
    EXPECT_EQ(int_field(r, "available"), expected) << r;
  }
  // The references are remembered too: crediting one again is refused.
  std::string again = pay.call(
      request("deposit", {{"account", 7001}, {"amount", 1}, {"method", "card"}, {"ref", "k-1"}}));
  EXPECT_EQ(error_of(again), "DUPLICATE_REF");
}

TEST(Durability, SigtermDuringLoadLosesNothingAcknowledged) {
  SmsxdProcess server;
  ASSERT_NO_FATAL_FAILURE(server.start());
  std::atomic<int> acknowledged{0};
  std::thread load([&] {
    Client pay(server.port(), std::chrono::seconds(5));
    if (!pay.hello(kPaymentsToken)) return;
    for (int i = 1; i <= 100000; ++i) {
      std::string r = pay.call(request(
          "deposit",
          {{"account", 42}, {"amount", 1}, {"method", "card"}, {"ref", "t-" + std::to_string(i)}}));
      if (!is_ok(r)) return;  // the server went away: this one was not acknowledged
      acknowledged = i;
    }
  });
  while (acknowledged.load() < 300) std::this_thread::yield();
  EXPECT_EQ(server.stop_term(), 0) << server.log();
  load.join();
  ASSERT_NO_FATAL_FAILURE(server.start());
  Client pay(server.port());
  ASSERT_TRUE(pay.hello(kPaymentsToken));
  int64_t available = int_field(pay.call(request("balance", {{"account", 42}})), "available");
  // Every acknowledged deposit is there; at most the one in flight at the stop may be too.
  EXPECT_GE(available, acknowledged.load());
  EXPECT_LE(available, acknowledged.load() + 1);
}

TEST(Durability, ASnapshotThenMoreChangesRecoverToTheSameState) {
  SmsxdProcess server;
  ASSERT_NO_FATAL_FAILURE(server.start());
  {
    Client pay(server.port());
    Client adm(server.port());
    ASSERT_TRUE(pay.hello(kPaymentsToken));
    ASSERT_TRUE(adm.hello(kAdminToken));
    for (int i = 0; i < 50; ++i) {
      ASSERT_TRUE(is_ok(pay.call(request("deposit", {{"account", 5},
                                                     {"amount", 10},
                                                     {"method", "card"},
                                                     {"ref", "s-" + std::to_string(i)}}))));
    }
    std::string snap = adm.call(request("snapshot", {}));
    ASSERT_TRUE(is_ok(snap)) << snap;
    EXPECT_GT(int_field(snap, "lsn"), 0);
    for (int i = 50; i < 80; ++i) {
      ASSERT_TRUE(is_ok(pay.call(request("deposit", {{"account", 5},
                                                     {"amount", 10},
                                                     {"method", "card"},
                                                     {"ref", "s-" + std::to_string(i)}}))));
    }
  }
  EXPECT_EQ(server.stop_term(), 0);
  ASSERT_NO_FATAL_FAILURE(server.start());
  Client pay(server.port());
  ASSERT_TRUE(pay.hello(kPaymentsToken));
  EXPECT_EQ(int_field(pay.call(request("balance", {{"account", 5}})), "available"), 800);
}

}  // namespace
}  // namespace smsx::e2e

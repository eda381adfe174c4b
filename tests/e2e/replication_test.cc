// Hot-standby replication end to end: a primary and a standby (real smsxd processes on
// loopback) compared by their state digests at the same LSN; failover by promotion in sync
// mode; a standby that restarts or is far behind; fencing of an old primary and its rejoin
// as a standby; expiries; what a standby refuses and serves; lag in stats and /metrics.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <string>

#include "tests/e2e/replication_util.h"
#include "tests/e2e/smsxd_util.h"

namespace smsx::e2e {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr const char* kSyncForever =
    "[replication]\nmode = \"sync\"\nsync_fallback_timeout = \"0s\"\n";

TEST(Replication, UnderSteadyLoadTheStandbyHasThePrimarysDigestAtTheSameLsn) {
  SmsxdProcess primary;
  ASSERT_NO_FATAL_FAILURE(primary.start());
  // Some history before the standby exists: it starts from LSN 1.
  ASSERT_TRUE(run_load(primary, 2, 200, 0));
  SmsxdProcess standby(standby_toml(primary.port()));
  ASSERT_NO_FATAL_FAILURE(standby.start());
  MixedLoad load(primary.port(), 4, 700, 1);
  load.start();
  load.join();
  ASSERT_GT(load.acknowledged(), 2000) << "refused: " << load.refused() << "\n"
                                       << log_tail(primary);
  EXPECT_TRUE(same_digest_at_same_lsn(primary, standby));
  // The standby's reads say what the replies said.
  EXPECT_EQ(load.check_ledger(standby.port()), "");
}

// A standby that keeps up gets each committed batch as it is; reading the batch back from
// the segment files (the catch-up path) would cost the primary a directory scan and a read
// per batch and delay the standby.
TEST(Replication, AStandbyThatKeepsUpGetsEveryBatchLiveNotFromTheLogFiles) {
  const std::string live = "smsx_replication_records_sent_total{source=\"live\"}";
  const std::string from_log = "smsx_replication_records_sent_total{source=\"log\"}";
  SmsxdProcess primary;
  ASSERT_NO_FATAL_FAILURE(primary.start());
  SmsxdProcess standby(standby_toml(primary.port()));
  ASSERT_NO_FATAL_FAILURE(standby.start());
  ASSERT_TRUE(standbys_connected(primary, standby));
  ASSERT_TRUE(run_load(primary, 1, 20, 0));
  ASSERT_TRUE(same_digest_at_same_lsn(primary, standby));
  const double live_before = metric(primary.metrics_port(), live).value_or(-1);
  const double from_log_before = metric(primary.metrics_port(), from_log).value_or(-1);
  const int64_t lsn_before = int_field(stats_of(primary.port()), "lsn");
  ASSERT_GT(live_before, 0);
  ASSERT_GE(from_log_before, 0);

  MixedLoad load(primary.port(), 4, 700, 1);
  load.start();
  load.join();
  ASSERT_GT(load.acknowledged(), 2000) << log_tail(primary);
  ASSERT_TRUE(same_digest_at_same_lsn(primary, standby));
  EXPECT_EQ(metric(primary.metrics_port(), from_log).value_or(-1), from_log_before);
  // Every record written meanwhile went out live, each once.
  const int64_t written = int_field(stats_of(primary.port()), "lsn") - lsn_before;
  EXPECT_GE(written, load.acknowledged() / 2);
  EXPECT_EQ(metric(primary.metrics_port(), live).value_or(-1) - live_before,
            static_cast<double>(written));
}

TEST(Replication, SyncModeFailoverKeepsEveryAcknowledgedRequest) {
  SmsxdProcess primary(kSyncForever);
  ASSERT_NO_FATAL_FAILURE(primary.start());
  SmsxdProcess standby(standby_toml(primary.port()));
  ASSERT_NO_FATAL_FAILURE(standby.start());
  ASSERT_TRUE(standbys_connected(primary, standby));
  int64_t epoch = int_field(hello_of(standby.port()), "epoch");
  ASSERT_GE(epoch, 1) << hello_of(standby.port());

  MixedLoad load(primary.port(), 4, 1'000'000, 2);
  load.start();
  ASSERT_TRUE(load.wait_acknowledged(1500, seconds(30)))
      << "acknowledged " << load.acknowledged() << "\n"
      << log_tail(primary);
  primary.kill9();  // mid-load: requests are in flight
  load.join();
  int in_flight = 0;
  for (const auto& s : load.in_flight()) in_flight += s.has_value() ? 1 : 0;
  RecordProperty("acknowledged", load.acknowledged());
  RecordProperty("in_flight_at_kill", in_flight);

  std::string promoted = admin_call(standby.port(), request("promote", {}, "promote-1"));
  ASSERT_TRUE(is_ok(promoted)) << promoted << "\n" << log_tail(standby);
  EXPECT_EQ(int_field(promoted, "epoch"), epoch + 1);
  std::string hello = hello_of(standby.port());
  EXPECT_EQ(field(hello, "primary"), "true") << hello;
  EXPECT_EQ(int_field(hello, "epoch"), epoch + 1) << hello;

  // Every acknowledged request is there: its retry returns its first reply, and none of the
  // retries changes anything (no record is written, the digest stays).
  DigestAt before = digest_of(standby.port());
  ASSERT_GT(before.lsn, 0) << before.reply;
  EXPECT_EQ(load.resend_acked(standby.port()), "") << log_tail(standby);
  DigestAt after = digest_of(standby.port());
  EXPECT_EQ(after.lsn, before.lsn) << "a retry of an acknowledged request was applied again";
  EXPECT_EQ(after.digest, before.digest);

  // The gateways retry what was in flight at the crash; then the ledger is what every reply
  // says it is.
  EXPECT_EQ(load.resolve_in_flight(standby.port()), "");
  EXPECT_EQ(load.check_ledger(standby.port()), "") << log_tail(standby);

  // The new primary takes writes.
  Client pay(standby.port());
  ASSERT_TRUE(pay.hello(kPaymentsToken));
  std::string dep = pay.call(request(
      "deposit", {{"account", 77}, {"amount", 5}, {"method", "card"}, {"ref", "after-failover"}}));
  EXPECT_TRUE(is_ok(dep)) << dep;
}

TEST(Replication, AStandbyRestartedMidStreamCatchesUp) {
  SmsxdProcess primary;
  ASSERT_NO_FATAL_FAILURE(primary.start());
  SmsxdProcess standby(standby_toml(primary.port()));
  ASSERT_NO_FATAL_FAILURE(standby.start());
  MixedLoad load(primary.port(), 3, 800, 3);
  load.start();
  ASSERT_TRUE(load.wait_acknowledged(500, seconds(30)));
  standby.kill9();
  const int64_t lsn_at_kill = int_field(stats_of(primary.port()), "lsn");
  // The primary goes on without it.
  ASSERT_TRUE(load.wait_acknowledged(1200, seconds(30))) << log_tail(primary);
  const int64_t lsn_at_restart = int_field(stats_of(primary.port()), "lsn");
  ASSERT_GT(lsn_at_restart, lsn_at_kill);
  ASSERT_NO_FATAL_FAILURE(standby.start());  // the same data folder
  load.join();
  EXPECT_TRUE(same_digest_at_same_lsn(primary, standby));
  // What was written while it was away came back from the primary's log files.
  EXPECT_GE(metric(primary.metrics_port(), "smsx_replication_records_sent_total{source=\"log\"}")
                .value_or(-1),
            static_cast<double>(lsn_at_restart - lsn_at_kill));
}

TEST(Replication, AStandbyFarBehindGetsASnapshot) {
  SmsxdProcess primary;
  ASSERT_NO_FATAL_FAILURE(primary.start());
  ASSERT_TRUE(run_load(primary, 2, 300, 4));
  ASSERT_NO_FATAL_FAILURE(prune_first_segment(primary, 5));

  SmsxdProcess standby(standby_toml(primary.port()));  // an empty data folder
  ASSERT_NO_FATAL_FAILURE(standby.start());
  ASSERT_TRUE(same_digest_at_same_lsn(primary, standby));
  // The stream goes on after the snapshot...
  ASSERT_TRUE(run_load(primary, 2, 100, 7));
  EXPECT_TRUE(same_digest_at_same_lsn(primary, standby));
  // ... and the standby's copy survives its own restart.
  standby.kill9();
  ASSERT_NO_FATAL_FAILURE(standby.start());
  EXPECT_TRUE(same_digest_at_same_lsn(primary, standby));
}

TEST(Replication, AStandbyBehindThePrunedLogGetsASnapshotOverItsOwnState) {
  SmsxdProcess primary;
  ASSERT_NO_FATAL_FAILURE(primary.start());
  SmsxdProcess standby(standby_toml(primary.port()));
  ASSERT_NO_FATAL_FAILURE(standby.start());
  ASSERT_TRUE(run_load(primary, 2, 100, 0));
  ASSERT_TRUE(same_digest_at_same_lsn(primary, standby));
  // The standby is down while the primary writes on and prunes the records it would need.
  standby.kill9();
  ASSERT_TRUE(run_load(primary, 2, 200, 1));
  ASSERT_NO_FATAL_FAILURE(prune_first_segment(primary, 2));
  ASSERT_NO_FATAL_FAILURE(standby.start());  // its own data, from before
  EXPECT_TRUE(same_digest_at_same_lsn(primary, standby));
  ASSERT_TRUE(run_load(primary, 1, 100, 4));
  EXPECT_TRUE(same_digest_at_same_lsn(primary, standby));
}

TEST(Replication, AStandbyTakesItsOwnSnapshotsAndRecoversFromThem) {
  SmsxdProcess primary;
  ASSERT_NO_FATAL_FAILURE(primary.start());
  SmsxdProcess standby(standby_toml(primary.port()) + "[snapshot]\nevery_records = 200\n");
  ASSERT_NO_FATAL_FAILURE(standby.start());
  ASSERT_TRUE(run_load(primary, 2, 400, 0));
  ASSERT_TRUE(same_digest_at_same_lsn(primary, standby));
  // Snapshots are written by a child process: poll for the file.
  auto snapshot_files = [&] {
    int n = 0;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(standby.data_dir() + "/snapshots", ec)) {
      n += e.path().extension() == ".snap" ? 1 : 0;
    }
    return n;
  };
  ASSERT_TRUE(poll_until([&] { return snapshot_files() > 0; }, seconds(20))) << log_tail(standby);
  standby.kill9();
  ASSERT_NO_FATAL_FAILURE(standby.start());
  // It recovered from one of its snapshots, not from LSN 1.
  std::string log = standby.log();
  size_t at = log.rfind("recovered: snapshot LSN ");
  ASSERT_NE(at, std::string::npos) << log_tail(standby);
  EXPECT_GT(std::strtoll(log.c_str() + at + 24, nullptr, 10), 0) << log.substr(at, 200);
  EXPECT_TRUE(same_digest_at_same_lsn(primary, standby));
  ASSERT_TRUE(run_load(primary, 1, 100, 1));
  EXPECT_TRUE(same_digest_at_same_lsn(primary, standby));
}

TEST(Replication, TheOldPrimaryIsFencedRejoinsAsAStandbyAndIsPromotedBack) {
  SmsxdProcess old_primary;
  ASSERT_NO_FATAL_FAILURE(old_primary.start());
  SmsxdProcess standby(standby_toml(old_primary.port()));
  ASSERT_NO_FATAL_FAILURE(standby.start());
  ASSERT_TRUE(run_load(old_primary, 2, 200, 0));
  ASSERT_TRUE(same_digest_at_same_lsn(old_primary, standby));

  // The histories diverge: with the standby down, the old primary acknowledges more, then
  // dies; those records never reach the standby, which comes back and is promoted.
  standby.kill9();
  ASSERT_TRUE(run_load(old_primary, 1, 40, 1));
  DigestAt lost = digest_of(old_primary.port());
  old_primary.kill9();
  ASSERT_NO_FATAL_FAILURE(standby.start());
  ASSERT_LT(digest_of(standby.port()).lsn, lost.lsn);
  std::string promoted = admin_call(standby.port(), request("promote", {}, "promote-1"));
  ASSERT_TRUE(is_ok(promoted)) << promoted << "\n" << log_tail(standby);
  int64_t new_epoch = int_field(promoted, "epoch");
  ASSERT_TRUE(run_load(standby, 2, 100, 2));  // more than the lost records

  // The old primary comes back with its old configuration: it asks its former standby,
  // finds a primary with a higher epoch, and refuses every write, while it checks and after.
  ASSERT_NO_FATAL_FAILURE(old_primary.start());
  Client pay(old_primary.port());
  ASSERT_TRUE(pay.hello(kPaymentsToken));
  int attempt = 0;
  auto write_refused = [&] {
    std::string r = pay.call(request("deposit", {{"account", 5},
                                                 {"amount", 1},
                                                 {"method", "card"},
                                                 {"ref", "fenced-" + std::to_string(++attempt)}}));
    EXPECT_EQ(error_of(r), "READ_ONLY") << r << "\n" << log_tail(old_primary);
    return error_of(r) == "READ_ONLY";
  };
  // Until the node says it must rejoin (or for 8 s, longer than its peer check may take),
  // each write is refused.
  const std::string fenced_line = "refuses writes";
  poll_until(
      [&] { return !write_refused() || old_primary.log().find(fenced_line) != std::string::npos; },
      seconds(8));
  EXPECT_NE(old_primary.log().find(fenced_line), std::string::npos) << log_tail(old_primary);
  EXPECT_TRUE(write_refused());
  EXPECT_EQ(field(hello_of(old_primary.port()), "primary"), "false");
  EXPECT_EQ(field(stats_of(old_primary.port()), "primary"), "false");

  // Restarted as a standby of the new primary, it drops its own history and follows.
  ASSERT_EQ(old_primary.stop_term(), 0) << old_primary.log();
  SmsxdProcess rejoined(standby_toml(standby.port()), old_primary.data_dir());
  ASSERT_NO_FATAL_FAILURE(rejoined.start());
  EXPECT_TRUE(same_digest_at_same_lsn(standby, rejoined));
  std::string hello = hello_of(rejoined.port());
  EXPECT_EQ(field(hello, "primary"), "false") << hello;
  EXPECT_EQ(int_field(hello, "epoch"), new_epoch) << hello;

  // Failing back (docs/operations.md): stop the current primary, promote the rejoined node,
  // restart the other as its standby.
  ASSERT_EQ(standby.stop_term(), 0) << standby.log();
  promoted = admin_call(rejoined.port(), request("promote", {}, "promote-2"));
  ASSERT_TRUE(is_ok(promoted)) << promoted << "\n" << log_tail(rejoined);
  EXPECT_EQ(int_field(promoted, "epoch"), new_epoch + 1);
  ASSERT_TRUE(run_load(rejoined, 2, 100, 3));
  SmsxdProcess follower(standby_toml(rejoined.port()), standby.data_dir());
  ASSERT_NO_FATAL_FAILURE(follower.start());
  EXPECT_TRUE(same_digest_at_same_lsn(rejoined, follower));
}

TEST(Replication, OrdersExpireOnTheStandbyExactlyAsOnThePrimary) {
  // Expiry storms are cut into ticks of 7, so several logged ticks carry them.
  const std::string orders = "expiries_per_tick_max = 7\n[orders]\nttl = \"1s\"\n";
  SmsxdProcess primary(orders);
  ASSERT_NO_FATAL_FAILURE(primary.start());
  SmsxdProcess standby(orders + standby_toml(primary.port()));
  ASSERT_NO_FATAL_FAILURE(standby.start());

  Client admin(primary.port()), supplier(primary.port()), payments(primary.port()),
      customer(primary.port()), events(primary.port());
  ASSERT_TRUE(admin.hello(kAdminToken));
  ASSERT_TRUE(supplier.hello(kSupplierToken));
  ASSERT_TRUE(payments.hello(kPaymentsToken));
  ASSERT_TRUE(customer.hello(kCustomerToken));
  ASSERT_TRUE(events.hello(kCustomerToken));
  ASSERT_TRUE(is_ok(events.call(
      request("subscribe", {{"events", Raw{"[\"order.expired\",\"order.finished\"]"}}}))));
  ASSERT_TRUE(is_ok(admin.call(request(
      "price.set",
      {{"service", "wa"}, {"country", "us"}, {"pool", "p"}, {"price", 100}, {"payout", 40}}))));
  ASSERT_TRUE(is_ok(payments.call(request(
      "deposit", {{"account", 1}, {"amount", 100000}, {"method", "card"}, {"ref", "r1"}}))));
  constexpr int kOrders = 30, kWithSms = 5;
  std::vector<int64_t> ids;
  for (int i = 0; i < kOrders; ++i) {
    std::string number = std::to_string(15550000000LL + i);
    ASSERT_TRUE(is_ok(supplier.call(
        request("number.add",
                {{"number", number}, {"country", "us"}, {"operator", "op"}, {"pool", "p"}}))));
    std::string placed = customer.call(
        request("order.place", {{"account", 1}, {"service", "wa"}, {"country", "us"}}));
    ASSERT_TRUE(is_ok(placed)) << placed;
    ids.push_back(int_field(placed, "order"));
    if (i < kWithSms) {  // these are finished at their deadline instead
      std::string sms = supplier.call(request(
          "sms.deliver", {{"number", field(placed, "number").value()}, {"text", "code 4821"}}));
      ASSERT_EQ(int_field(sms, "order"), ids.back()) << sms;
    }
  }
  for (int i = 0; i < kOrders - kWithSms; ++i) {
    ASSERT_TRUE(events.wait_event("order.expired").has_value()) << i << "\n" << log_tail(primary);
  }
  for (int i = 0; i < kWithSms; ++i) {
    ASSERT_TRUE(events.wait_event("order.finished").has_value()) << i << "\n" << log_tail(primary);
  }
  ASSERT_EQ(stat_of(primary.port(), "active_orders"), 0);

  EXPECT_TRUE(same_digest_at_same_lsn(primary, standby));
  Client reader(standby.port());
  ASSERT_TRUE(reader.hello(kCustomerToken));
  for (int i = 0; i < kOrders; ++i) {
    std::string got = reader.call(request("order.get", {{"order", ids[static_cast<size_t>(i)]}}));
    EXPECT_EQ(field(got, "state"), i < kWithSms ? "finished" : "expired") << got;
  }
  std::string stats = stats_of(standby.port());
  EXPECT_EQ(int_field(stats, "orders_expired"), kOrders - kWithSms) << stats;
  EXPECT_EQ(int_field(stats, "orders_finished"), kWithSms) << stats;
  EXPECT_EQ(int_field(stats, "active_orders"), 0) << stats;
}

TEST(Replication, AStandbyNeverTimesOrdersItselfAndDoesOncePromoted) {
  // Long enough for the primary to be killed well before the deadline.
  const std::string orders = "[orders]\nttl = \"2s\"\n";
  SmsxdProcess primary(orders);
  ASSERT_NO_FATAL_FAILURE(primary.start());
  SmsxdProcess standby(orders + standby_toml(primary.port()));
  ASSERT_NO_FATAL_FAILURE(standby.start());
  Client admin(primary.port()), supplier(primary.port()), payments(primary.port()),
      customer(primary.port());
  ASSERT_TRUE(admin.hello(kAdminToken));
  ASSERT_TRUE(supplier.hello(kSupplierToken));
  ASSERT_TRUE(payments.hello(kPaymentsToken));
  ASSERT_TRUE(customer.hello(kCustomerToken));
  ASSERT_TRUE(is_ok(admin.call(request(
      "price.set",
      {{"service", "wa"}, {"country", "us"}, {"pool", "p"}, {"price", 100}, {"payout", 40}}))));
  ASSERT_TRUE(is_ok(payments.call(
      request("deposit", {{"account", 1}, {"amount", 1000}, {"method", "card"}, {"ref", "r1"}}))));
  ASSERT_TRUE(is_ok(supplier.call(
      request("number.add",
              {{"number", "15550000001"}, {"country", "us"}, {"operator", "op"}, {"pool", "p"}}))));
  std::string placed =
      customer.call(request("order.place", {{"account", 1}, {"service", "wa"}, {"country", "us"}}));
  ASSERT_TRUE(is_ok(placed)) << placed;
  int64_t order = int_field(placed, "order");
  ASSERT_TRUE(same_digest_at_same_lsn(primary, standby));
  // The primary dies before the deadline; no tick reaches the standby.
  auto wall_ms = [] {
    return std::chrono::duration_cast<milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  int64_t expires_at = int_field(placed, "expires_at");
  primary.kill9();
  ASSERT_LT(wall_ms(), expires_at) << "too slow to kill the primary before the deadline";
  Client reader(standby.port());
  ASSERT_TRUE(reader.hello(kCustomerToken));
  // Until well past the deadline, the standby keeps the order waiting.
  bool still_waiting = true;
  poll_until(
      [&] {
        still_waiting =
            field(reader.call(request("order.get", {{"order", order}})), "state") == "waiting";
        return !still_waiting || wall_ms() > expires_at + 500;
      },
      seconds(5));
  EXPECT_TRUE(still_waiting) << "the standby expired an order by itself\n" << log_tail(standby);
  // Once promoted, it times orders: the overdue one expires with a full refund.
  std::string promoted = admin_call(standby.port(), request("promote", {}, "promote-1"));
  ASSERT_TRUE(is_ok(promoted)) << promoted << "\n" << log_tail(standby);
  std::string got;
  EXPECT_TRUE(poll_until(
      [&] {
        got = reader.call(request("order.get", {{"order", order}}));
        return field(got, "state") == "expired";
      },
      seconds(5)))
      << got << "\n"
      << log_tail(standby);
  std::string balance = reader.call(request("balance", {{"account", 1}}));
  EXPECT_EQ(int_field(balance, "available"), 1000) << balance;
  EXPECT_EQ(int_field(balance, "held"), 0) << balance;
}

TEST(Replication, AStandbyRefusesWritesAndServesReads) {
  SmsxdProcess primary;
  ASSERT_NO_FATAL_FAILURE(primary.start());
  SmsxdProcess standby(standby_toml(primary.port()));
  ASSERT_NO_FATAL_FAILURE(standby.start());
  // Some state on the primary: a price, numbers, deposits, an order with an SMS, a refund.
  Client admin(primary.port()), supplier(primary.port()), payments(primary.port()),
      customer(primary.port());
  ASSERT_TRUE(admin.hello(kAdminToken));
  ASSERT_TRUE(supplier.hello(kSupplierToken));
  ASSERT_TRUE(payments.hello(kPaymentsToken));
  ASSERT_TRUE(customer.hello(kCustomerToken));
  ASSERT_TRUE(is_ok(admin.call(request(
      "price.set",
      {{"service", "wa"}, {"country", "us"}, {"pool", "p"}, {"price", 120}, {"payout", 80}}))));
  for (const char* n : {"15550000001", "15550000002"}) {
    ASSERT_TRUE(is_ok(supplier.call(request(
        "number.add", {{"number", n}, {"country", "us"}, {"operator", "op"}, {"pool", "p"}}))));
  }
  ASSERT_TRUE(is_ok(payments.call(request(
      "deposit", {{"account", 1001}, {"amount", 1000}, {"method", "card"}, {"ref", "r1"}}))));
  std::string dep2 = payments.call(request("deposit", {{"account", 1002},
                                                       {"amount", 500},
                                                       {"method", "crypto"},
                                                       {"ref", "r2"},
                                                       {"from_address", "bc1qsource"}}));
  ASSERT_TRUE(is_ok(dep2)) << dep2;
  std::string refund =
      payments.call(request("deposit.refund", {{"deposit", int_field(dep2, "deposit")}}));
  ASSERT_TRUE(is_ok(refund)) << refund;
  std::string placed = customer.call(
      request("order.place", {{"account", 1001}, {"service", "wa"}, {"country", "us"}}));
  ASSERT_TRUE(is_ok(placed)) << placed;
  int64_t order = int_field(placed, "order");
  ASSERT_TRUE(is_ok(supplier.call(request(
      "sms.deliver", {{"number", field(placed, "number").value()}, {"text", "code 123456"}}))));
  ASSERT_TRUE(same_digest_at_same_lsn(primary, standby));

  // Its hello says it is a standby, in the primary's epoch.
  std::string hello = hello_of(standby.port());
  EXPECT_EQ(field(hello, "primary"), "false") << hello;
  EXPECT_EQ(int_field(hello, "epoch"), int_field(hello_of(primary.port()), "epoch")) << hello;
  EXPECT_EQ(field(hello_of(primary.port()), "primary"), "true");

  Client s_admin(standby.port()), s_supplier(standby.port()), s_payments(standby.port()),
      s_customer(standby.port());
  ASSERT_TRUE(s_admin.hello(kAdminToken));
  ASSERT_TRUE(s_supplier.hello(kSupplierToken));
  ASSERT_TRUE(s_payments.hello(kPaymentsToken));
  ASSERT_TRUE(s_customer.hello(kCustomerToken));
  struct Write {
    Client* client;
    std::string line;
  };
  const Write writes[] = {
      {&s_payments,
       request("deposit", {{"account", 1001}, {"amount", 5}, {"method", "card"}, {"ref", "ro-1"}})},
      {&s_payments, request("deposit.refund", {{"deposit", 1}})},
      {&s_payments, request("payout.confirm", {{"refund", int_field(refund, "refund")}})},
      {&s_customer,
       request("order.place", {{"account", 1001}, {"service", "wa"}, {"country", "us"}})},
      {&s_customer, request("order.finish", {{"order", order}})},
      {&s_customer, request("order.retry", {{"order", order}})},
      {&s_customer, request("order.dispute", {{"order", order}, {"reason", "wrong"}})},
      {&s_customer, request("order.cancel", {{"order", order}})},
      {&s_supplier,
       request("number.add",
               {{"number", "15550000003"}, {"country", "us"}, {"operator", "op"}, {"pool", "p"}})},
      {&s_supplier, request("number.remove", {{"number", "15550000002"}})},
      {&s_supplier, request("sms.deliver", {{"number", "15550000001"}, {"text", "code 999999"}})},
      {&s_admin,
       request("price.set",
               {{"service", "wa"}, {"country", "us"}, {"pool", "p"}, {"price", 1}, {"payout", 1}})},
      {&s_admin, request("dispute.resolve", {{"order", order}, {"approve", true}})},
  };
  for (const Write& w : writes) {
    std::string r = w.client->call(w.line);
    EXPECT_EQ(error_of(r), "READ_ONLY") << w.line << "\n" << r;
  }

  // Reads answer exactly as on the primary.
  struct Read {
    Client* on_standby;
    Client* on_primary;
    std::string line;
  };
  const Read reads[] = {
      {&s_customer, &customer, request("balance", {{"account", 1001}}, "rd-1")},
      {&s_payments, &payments, request("balance", {{"account", 1002}}, "rd-2")},
      {&s_customer, &customer, request("order.get", {{"order", order}}, "rd-3")},
      {&s_customer, &customer, request("orders.active", {{"account", 1001}}, "rd-4")},
      {&s_customer, &customer, request("stock", {{"service", "wa"}}, "rd-5")},
      {&s_payments, &payments, request("payouts.pending", {}, "rd-6")},
  };
  for (const Read& r : reads) {
    std::string on_standby = r.on_standby->call(r.line);
    EXPECT_TRUE(is_ok(on_standby)) << r.line << "\n" << on_standby;
    EXPECT_EQ(on_standby, r.on_primary->call(r.line)) << r.line;
  }
  std::string stats = s_admin.call(request("stats", {}));
  EXPECT_TRUE(is_ok(stats)) << stats;
  EXPECT_EQ(field(stats, "primary"), "false") << stats;
  EXPECT_EQ(int_field(stats, "numbers_busy"), 1) << stats;
  // Nothing the refused writes did reached the state.
  EXPECT_TRUE(same_digest_at_same_lsn(primary, standby));

  // promote is for a standby only.
  std::string promote = admin.call(request("promote", {}));
  EXPECT_EQ(error_of(promote), "BAD_REQUEST") << promote;
  EXPECT_EQ(field(hello_of(primary.port()), "primary"), "true");
}

TEST(Replication, LagIsReportedInStatsAndMetrics) {
  SmsxdProcess primary;
  ASSERT_NO_FATAL_FAILURE(primary.start());
  SmsxdProcess standby(standby_toml(primary.port()));
  ASSERT_NO_FATAL_FAILURE(standby.start());
  ASSERT_TRUE(standbys_connected(primary, standby));
  Client pay(primary.port());
  ASSERT_TRUE(pay.hello(kPaymentsToken));
  auto deposits = [&](int from, int n) {
    for (int i = from; i < from + n; ++i) {
      std::string r = pay.call(request("deposit", {{"account", 9},
                                                   {"amount", 1},
                                                   {"method", "card"},
                                                   {"ref", "lag-" + std::to_string(i)}}));
      ASSERT_TRUE(is_ok(r)) << r;
    }
  };
  ASSERT_NO_FATAL_FAILURE(deposits(0, 20));
  ASSERT_TRUE(same_digest_at_same_lsn(primary, standby));
  // Caught up: no lag on either side.
  std::string p_stats;
  EXPECT_TRUE(poll_until(
      [&] {
        p_stats = stats_of(primary.port());
        return int_field(p_stats, "replication_lag_records") == 0;
      },
      seconds(5)))
      << p_stats;
  EXPECT_EQ(field(p_stats, "primary"), "true") << p_stats;
  EXPECT_EQ(int_field(p_stats, "standbys"), 1) << p_stats;
  int64_t epoch = int_field(p_stats, "epoch");
  EXPECT_GE(epoch, 1) << p_stats;
  std::string s_stats = stats_of(standby.port());
  EXPECT_EQ(field(s_stats, "primary"), "false") << s_stats;
  EXPECT_EQ(int_field(s_stats, "epoch"), epoch) << s_stats;
  EXPECT_EQ(int_field(s_stats, "lsn"), int_field(p_stats, "lsn")) << s_stats;
  EXPECT_EQ(int_field(s_stats, "replication_lag_records"), 0) << s_stats;
  EXPECT_GE(int_field(s_stats, "replication_lag_ms"), 0) << s_stats;

  // The standby stops acknowledging (paused, its connection open); the primary (async)
  // goes on, and its lag grows by what it wrote.
  pid_t standby_pid = pid_of(standby);
  ASSERT_GT(standby_pid, 0);
  ASSERT_NO_FATAL_FAILURE(pause_node(standby_pid));
  ASSERT_NO_FATAL_FAILURE(deposits(20, 50));
  p_stats = stats_of(primary.port());
  EXPECT_GE(int_field(p_stats, "replication_lag_records"), 50) << p_stats;
  // Lag in time grows while the standby stays paused.
  EXPECT_TRUE(poll_until(
      [&] {
        p_stats = stats_of(primary.port());
        return int_field(p_stats, "replication_lag_ms") >= 200;
      },
      seconds(5)))
      << p_stats;
  auto lag_records = metric(primary.metrics_port(), "smsx_replication_lag_records");
  auto lag_seconds = metric(primary.metrics_port(), "smsx_replication_lag_seconds");
  auto epoch_metric = metric(primary.metrics_port(), "smsx_epoch");
  EXPECT_GE(lag_records.value_or(-1), 50);
  EXPECT_GE(lag_seconds.value_or(-1), 0.2);
  EXPECT_EQ(epoch_metric.value_or(-1), static_cast<double>(epoch));
  EXPECT_EQ(metric(primary.metrics_port(), "smsx_standbys").value_or(-1), 1.0);
  ASSERT_NO_FATAL_FAILURE(resume_node(standby_pid));

  // It catches up, and the lag goes back to 0 on both sides.
  EXPECT_TRUE(same_digest_at_same_lsn(primary, standby));
  EXPECT_TRUE(poll_until(
      [&] {
        p_stats = stats_of(primary.port());
        return int_field(p_stats, "replication_lag_records") == 0 &&
               int_field(p_stats, "replication_lag_ms") == 0;
      },
      seconds(5)))
      << p_stats;
  EXPECT_TRUE(poll_until(
      [&] { return metric(primary.metrics_port(), "smsx_replication_lag_records") == 0.0; },
      seconds(5)));
  s_stats = stats_of(standby.port());
  EXPECT_EQ(int_field(s_stats, "replication_lag_records"), 0) << s_stats;
  EXPECT_EQ(metric(standby.metrics_port(), "smsx_epoch").value_or(-1), static_cast<double>(epoch));
  EXPECT_EQ(metric(standby.metrics_port(), "smsx_replication_lag_records").value_or(-1), 0.0);
}

TEST(Replication, SyncModeAnswersOnlyOnceTheStandbyHasTheRecord) {
  SmsxdProcess primary(kSyncForever);
  ASSERT_NO_FATAL_FAILURE(primary.start());
  SmsxdProcess standby(standby_toml(primary.port()));
  ASSERT_NO_FATAL_FAILURE(standby.start());
  ASSERT_TRUE(standbys_connected(primary, standby));
  pid_t standby_pid = pid_of(standby);
  ASSERT_GT(standby_pid, 0);
  Client pay(primary.port(), milliseconds(1500));
  ASSERT_TRUE(pay.hello(kPaymentsToken));
  std::string first =
      request("deposit", {{"account", 3}, {"amount", 7}, {"method", "card"}, {"ref", "s1"}});
  ASSERT_TRUE(is_ok(try_call(pay, first).value_or(""))) << log_tail(primary);

  ASSERT_NO_FATAL_FAILURE(pause_node(standby_pid));
  // With the standby paused, a write is not answered (1.5 s; fallback 0s = wait forever)...
  std::string second =
      request("deposit", {{"account", 3}, {"amount", 8}, {"method", "card"}, {"ref", "s2"}});
  EXPECT_EQ(try_call(pay, second), std::nullopt) << "answered without the standby";
  ASSERT_NO_FATAL_FAILURE(resume_node(standby_pid));
  // ... and is answered once the standby has it.
  auto reply = pay.read_line();
  ASSERT_TRUE(reply.has_value()) << log_tail(primary);
  EXPECT_TRUE(is_ok(*reply)) << *reply;
  EXPECT_TRUE(same_digest_at_same_lsn(primary, standby));
}

TEST(Replication, SyncModeWaitsForARestartedStandby) {
  SmsxdProcess primary(kSyncForever);
  ASSERT_NO_FATAL_FAILURE(primary.start());
  SmsxdProcess standby(standby_toml(primary.port()));
  ASSERT_NO_FATAL_FAILURE(standby.start());
  ASSERT_TRUE(standbys_connected(primary, standby));
  Client pay(primary.port(), milliseconds(1500));
  ASSERT_TRUE(pay.hello(kPaymentsToken));
  ASSERT_TRUE(is_ok(
      try_call(pay, request("deposit",
                            {{"account", 3}, {"amount", 7}, {"method", "card"}, {"ref", "w1"}}))
          .value_or("")))
      << log_tail(primary);
  standby.kill9();
  // Not answered while the standby is down (1.5 s)...
  EXPECT_EQ(
      try_call(pay, request("deposit",
                            {{"account", 3}, {"amount", 8}, {"method", "card"}, {"ref", "w2"}})),
      std::nullopt)
      << "answered without the standby";
  // ... and answered once it is back and has the record.
  ASSERT_NO_FATAL_FAILURE(standby.start());
  std::optional<std::string> reply;
  ASSERT_TRUE(poll_until(
      [&] {
        reply = pay.read_line();  // waits up to 1.5 s each time
        return reply.has_value();
      },
      seconds(10)))
      << log_tail(primary) << "\n--- standby log:\n"
      << log_tail(standby);
  EXPECT_TRUE(is_ok(*reply)) << *reply;
  EXPECT_TRUE(same_digest_at_same_lsn(primary, standby));
}

TEST(Replication, SyncModeFallsBackWhenTheStandbyIsAwayTooLong) {
  SmsxdProcess primary("[replication]\nmode = \"sync\"\nsync_fallback_timeout = \"300ms\"\n");
  ASSERT_NO_FATAL_FAILURE(primary.start());
  SmsxdProcess standby(standby_toml(primary.port()));
  ASSERT_NO_FATAL_FAILURE(standby.start());
  ASSERT_TRUE(standbys_connected(primary, standby));
  pid_t standby_pid = pid_of(standby);
  ASSERT_GT(standby_pid, 0);
  Client pay(primary.port(), seconds(5));
  ASSERT_TRUE(pay.hello(kPaymentsToken));
  ASSERT_NO_FATAL_FAILURE(pause_node(standby_pid));
  auto t0 = std::chrono::steady_clock::now();
  auto reply = try_call(
      pay, request("deposit", {{"account", 3}, {"amount", 8}, {"method", "card"}, {"ref", "f1"}}));
  auto waited = std::chrono::steady_clock::now() - t0;
  ASSERT_NO_FATAL_FAILURE(resume_node(standby_pid));
  ASSERT_TRUE(reply.has_value()) << "not answered within 5 s\n" << log_tail(primary);
  EXPECT_TRUE(is_ok(*reply)) << *reply;
  EXPECT_GE(waited, milliseconds(250)) << "answered before the fallback timeout";
  EXPECT_TRUE(same_digest_at_same_lsn(primary, standby));
}

TEST(Replication, AStandbyReconnectsWhenThePrimaryComesBack) {
  SmsxdProcess primary;
  ASSERT_NO_FATAL_FAILURE(primary.start());
  SmsxdProcess standby(standby_toml(primary.port()));
  ASSERT_NO_FATAL_FAILURE(standby.start());
  ASSERT_TRUE(run_load(primary, 2, 100, 0));
  ASSERT_TRUE(same_digest_at_same_lsn(primary, standby));
  ASSERT_EQ(primary.stop_term(), 0) << primary.log();
  ASSERT_NO_FATAL_FAILURE(primary.start());  // the same address and data
  // It first asks its standby whether a newer primary exists (writes are refused meanwhile).
  ASSERT_TRUE(accepting_writes(primary));
  ASSERT_TRUE(run_load(primary, 2, 100, 1));
  EXPECT_TRUE(same_digest_at_same_lsn(primary, standby));
  EXPECT_TRUE(standbys_connected(primary, standby));
}

TEST(Replication, ASyncPrimaryWithAFallbackAnswersWithoutAnyStandby) {
  // No standby has ever connected: after the fallback timeout the primary answers anyway.
  SmsxdProcess primary("[replication]\nmode = \"sync\"\nsync_fallback_timeout = \"300ms\"\n");
  ASSERT_NO_FATAL_FAILURE(primary.start());
  Client pay(primary.port(), seconds(5));
  ASSERT_TRUE(pay.hello(kPaymentsToken));
  auto t0 = std::chrono::steady_clock::now();
  auto reply = try_call(
      pay, request("deposit", {{"account", 3}, {"amount", 8}, {"method", "card"}, {"ref", "n1"}}));
  auto waited = std::chrono::steady_clock::now() - t0;
  ASSERT_TRUE(reply.has_value()) << "not answered within 5 s\n" << log_tail(primary);
  EXPECT_TRUE(is_ok(*reply)) << *reply;
  EXPECT_GE(waited, milliseconds(250)) << "answered before the fallback timeout";
}

TEST(Replication, APromotedStandbyInSyncModeWithAFallbackAnswersAlone) {
  SmsxdProcess primary;
  ASSERT_NO_FATAL_FAILURE(primary.start());
  // The standby's own settings apply once it is promoted.
  SmsxdProcess standby(standby_toml(primary.port()) +
                       "mode = \"sync\"\nsync_fallback_timeout = \"300ms\"\n");
  ASSERT_NO_FATAL_FAILURE(standby.start());
  ASSERT_TRUE(standbys_connected(primary, standby));
  primary.kill9();
  std::string promoted = admin_call(standby.port(), request("promote", {}, "promote-1"));
  ASSERT_TRUE(is_ok(promoted)) << promoted << "\n" << log_tail(standby);
  Client pay(standby.port(), seconds(5));
  ASSERT_TRUE(pay.hello(kPaymentsToken));
  auto reply = try_call(
      pay, request("deposit", {{"account", 3}, {"amount", 8}, {"method", "card"}, {"ref", "n1"}}));
  ASSERT_TRUE(reply.has_value()) << "not answered within 5 s\n" << log_tail(standby);
  EXPECT_TRUE(is_ok(*reply)) << *reply;
}

TEST(Replication, APrimaryThatSeesAHigherEpochStopsAcceptingWrites) {
  SmsxdProcess primary;
  ASSERT_NO_FATAL_FAILURE(primary.start());
  SmsxdProcess standby(standby_toml(primary.port()));
  ASSERT_NO_FATAL_FAILURE(standby.start());
  ASSERT_TRUE(standbys_connected(primary, standby));
  // The standby is promoted while the old primary still runs (a split).
  std::string promoted = admin_call(standby.port(), request("promote", {}, "promote-1"));
  ASSERT_TRUE(is_ok(promoted)) << promoted;
  int64_t new_epoch = int_field(promoted, "epoch");
  // A third node follows the new primary (and takes its epoch)...
  SmsxdProcess third(standby_toml(standby.port()));
  ASSERT_NO_FATAL_FAILURE(third.start());
  ASSERT_TRUE(poll_until([&] { return int_field(hello_of(third.port()), "epoch") == new_epoch; },
                         seconds(10)))
      << hello_of(third.port()) << "\n"
      << log_tail(third);
  ASSERT_EQ(third.stop_term(), 0) << third.log();
  // ... then is pointed at the old primary: its `replicate` carries the higher epoch.
  SmsxdProcess misdirected(standby_toml(primary.port()), third.data_dir());
  ASSERT_NO_FATAL_FAILURE(misdirected.start());
  Client pay(primary.port());
  ASSERT_TRUE(pay.hello(kPaymentsToken));
  std::string r;
  EXPECT_TRUE(poll_until(
      [&] {
        r = pay.call(
            request("deposit", {{"account", 1}, {"amount", 1}, {"method", "card"}, {"ref", "x"}}));
        return error_of(r) == "READ_ONLY";
      },
      seconds(10)))
      << r << "\n"
      << log_tail(primary);
  std::string stats = stats_of(primary.port());
  EXPECT_EQ(field(stats, "primary"), "false") << stats;
}

TEST(Replication, ARestartedPrimaryWhosePeerIsDownAcceptsWritesAfterItsCheck) {
  SmsxdProcess primary;
  ASSERT_NO_FATAL_FAILURE(primary.start());
  SmsxdProcess standby(standby_toml(primary.port()));
  ASSERT_NO_FATAL_FAILURE(standby.start());
  ASSERT_TRUE(standbys_connected(primary, standby));
  standby.kill9();
  ASSERT_EQ(primary.stop_term(), 0) << primary.log();
  ASSERT_NO_FATAL_FAILURE(primary.start());
  // It asks its last standby, gets no answer, and serves as the primary it was.
  Client pay(primary.port());
  ASSERT_TRUE(pay.hello(kPaymentsToken));
  std::string r;
  EXPECT_TRUE(poll_until(
      [&] {
        r = pay.call(
            request("deposit", {{"account", 1}, {"amount", 1}, {"method", "card"}, {"ref", "x"}}));
        EXPECT_TRUE(is_ok(r) || error_of(r) == "READ_ONLY") << r;
        return is_ok(r);
      },
      seconds(10)))
      << r << "\n"
      << log_tail(primary);
  EXPECT_EQ(field(hello_of(primary.port()), "primary"), "true");
}

}  // namespace
}  // namespace smsx::e2e

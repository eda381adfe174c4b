// Hot-standby replication end to end: a primary and a standby (real smsxd processes on
// loopback) compared by their state digests at the same LSN; failover by promotion in sync
// mode; a standby that restarts or is far behind; fencing of an old primary and its rejoin
// as a standby; expiries; what a standby refuses and serves; lag in stats and /metrics.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <utility>

#include "net/state_reset.h"
#include "tests/e2e/replication_util.h"
#include "tests/e2e/smsxd_util.h"

namespace smsx::e2e {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr const char* kSyncForever =
    "[replication]\nmode = \"sync\"\nsync_fallback_timeout = \"0s\"\n";
// Sync mode that answers anyway after 300 ms without a standby: the settings of a
// [replication] section, and a primary's whole section.
constexpr const char* kSyncFallbackSettings =
    "mode = \"sync\"\nsync_fallback_timeout = \"300ms\"\n";
constexpr const char* kSyncWithFallback =
    "[replication]\nmode = \"sync\"\nsync_fallback_timeout = \"300ms\"\n";

// The extra TOML of a primary and of its standby. The standby's configuration is
// `standby_head`, then its [replication] section (following the primary), then
// `standby_tail` (more of that section, or further sections).
struct PairToml {
  std::string primary;
  std::string standby_head;
  std::string standby_tail;
};

// A primary and a standby that follows it, configured but not started. A test names the
// two with `auto& [primary, standby] = pair;`.
struct Pair {
  explicit Pair(const PairToml& toml = {})
      : primary(toml.primary),
        standby(toml.standby_head + standby_toml(primary.port()) + toml.standby_tail) {}

  // Starts the primary, then the standby.
  void start() {
    ASSERT_NO_FATAL_FAILURE(primary.start());
    ASSERT_NO_FATAL_FAILURE(standby.start());
  }
  // start(), then waits until the primary has the standby connected.
  void start_connected() {
    ASSERT_NO_FATAL_FAILURE(start());
    ASSERT_TRUE(standbys_connected(primary, standby));
  }

  SmsxdProcess primary;
  SmsxdProcess standby;
};

// Runs a whole MixedLoad on `primary` (run_load), then compares the two nodes' digests.
::testing::AssertionResult load_reaches_standby(const SmsxdProcess& primary,
                                                const SmsxdProcess& standby, int workers, int steps,
                                                int space) {
  ::testing::AssertionResult loaded = run_load(primary, workers, steps, space);
  if (!loaded) return loaded;
  return same_digest_at_same_lsn(primary, standby);
}

// SIGKILLs `node` and starts it again on its own data folder.
void crash_and_restart(SmsxdProcess& node) {
  node.kill9();
  ASSERT_NO_FATAL_FAILURE(node.start());
}

// Stops `node` with SIGTERM (it must exit 0) and starts it again on its own data folder.
void restart(SmsxdProcess& node) {
  ASSERT_EQ(node.stop_term(), 0) << node.log();
  ASSERT_NO_FATAL_FAILURE(node.start());
}

// Promotes a standby (an admin `promote` with request id `id`); the epoch it replies goes
// to `epoch`. Fails with the reply and the node's log.
::testing::AssertionResult promote_standby(const SmsxdProcess& node, int64_t* epoch = nullptr,
                                           const char* id = "promote-1") {
  std::string reply = admin_call(node.port(), request("promote", {}, id));
  if (epoch != nullptr) *epoch = int_field(reply, "epoch");
  if (is_ok(reply)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << reply << "\n" << log_tail(node);
}

// SIGSTOPs a node this test started, so that it stops acknowledging with its connections
// open; its pid (for resume_node) goes to `pid`.
void pause_process(const SmsxdProcess& node, pid_t* pid) {
  *pid = pid_of(node);
  ASSERT_GT(*pid, 0);
  ASSERT_NO_FATAL_FAILURE(pause_node(*pid));
}

// Request lines of the payments, admin, supplier and customer gateways. Prices and numbers
// are for service "wa" in country "us", pool "p".
std::string deposit_request(int64_t account, int64_t amount, const std::string& ref) {
  return request("deposit",
                 {{"account", account}, {"amount", amount}, {"method", "card"}, {"ref", ref}});
}
std::string price_set_request(int64_t price, int64_t payout) {
  return request(
      "price.set",
      {{"service", "wa"}, {"country", "us"}, {"pool", "p"}, {"price", price}, {"payout", payout}});
}
std::string number_add_request(const std::string& number) {
  return request("number.add",
                 {{"number", number}, {"country", "us"}, {"operator", "op"}, {"pool", "p"}});
}
std::string order_place_request(int64_t account) {
  return request("order.place", {{"account", account}, {"service", "wa"}, {"country", "us"}});
}

// One connection to a node per gateway role. A test names them with
// `auto& [admin, supplier, payments, customer] = gateways;`.
struct Gateways {
  explicit Gateways(uint16_t port) : admin(port), supplier(port), payments(port), customer(port) {}

  // Each says hello with its role's token.
  ::testing::AssertionResult hello() {
    const std::pair<Client*, const char*> roles[] = {{&admin, kAdminToken},
                                                     {&supplier, kSupplierToken},
                                                     {&payments, kPaymentsToken},
                                                     {&customer, kCustomerToken}};
    for (auto [client, token] : roles) {
      if (!client->hello(token)) return ::testing::AssertionFailure() << "hello refused: " << token;
    }
    return ::testing::AssertionSuccess();
  }

  Client admin, supplier, payments, customer;
};

// Says hello on each of `gateways`, then sets the price of wa/us/p and deposits `amount`
// (by card, ref "r1") on `account`.
::testing::AssertionResult open_for_orders(Gateways& gateways, int64_t price, int64_t payout,
                                           int64_t account, int64_t amount) {
  ::testing::AssertionResult hello = gateways.hello();
  if (!hello) return hello;
  std::string reply = gateways.admin.call(price_set_request(price, payout));
  if (!is_ok(reply)) return ::testing::AssertionFailure() << reply;
  reply = gateways.payments.call(deposit_request(account, amount, "r1"));
  if (!is_ok(reply)) return ::testing::AssertionFailure() << reply;
  return ::testing::AssertionSuccess();
}

// A reply (nullopt: none within the client's timeout) and how long it took.
struct TimedReply {
  std::optional<std::string> reply;
  std::chrono::steady_clock::duration waited;
};
TimedReply timed_call(Client& client, const std::string& line) {
  auto t0 = std::chrono::steady_clock::now();
  std::optional<std::string> reply = try_call(client, line);
  return {std::move(reply), std::chrono::steady_clock::now() - t0};
}

// `reply`, from `node` on a client with a 5 s timeout, came and is ok.
::testing::AssertionResult answered_ok(const std::optional<std::string>& reply,
                                       const SmsxdProcess& node) {
  if (!reply.has_value()) {
    return ::testing::AssertionFailure() << "not answered within 5 s\n" << log_tail(node);
  }
  if (!is_ok(*reply)) return ::testing::AssertionFailure() << *reply;
  return ::testing::AssertionSuccess();
}

// Sends the same deposit to `node` on one payments connection until its reply satisfies
// `done` (polled for 10 s). Fails with the last reply and the node's log.
template <typename Done>
::testing::AssertionResult deposits_until(const SmsxdProcess& node, Done done) {
  Client pay(node.port());
  if (!pay.hello(kPaymentsToken)) {
    return ::testing::AssertionFailure() << "hello refused\n" << log_tail(node);
  }
  std::string r;
  if (poll_until(
          [&] {
            r = pay.call(deposit_request(1, 1, "x"));
            return done(r);
          },
          seconds(10))) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << r << "\n" << log_tail(node);
}

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
  Pair pair;
  ASSERT_NO_FATAL_FAILURE(pair.start_connected());
  auto& [primary, standby] = pair;
  ASSERT_TRUE(load_reaches_standby(primary, standby, 1, 20, 0));
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
  Pair pair({.primary = kSyncForever});
  ASSERT_NO_FATAL_FAILURE(pair.start_connected());
  auto& [primary, standby] = pair;
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

  int64_t promoted_epoch = -1;
  ASSERT_TRUE(promote_standby(standby, &promoted_epoch));
  EXPECT_EQ(promoted_epoch, epoch + 1);
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
  std::string dep = pay.call(deposit_request(77, 5, "after-failover"));
  EXPECT_TRUE(is_ok(dep)) << dep;
}

TEST(Replication, AStandbyRestartedMidStreamCatchesUp) {
  Pair pair;
  ASSERT_NO_FATAL_FAILURE(pair.start());
  auto& [primary, standby] = pair;
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

// Both nodes with preallocated log segments (wal.preallocate): the primary ships batches
// whose first records carry the write-start mark, a restarted standby catches up from the
// primary's preallocated segment files, and a primary killed with requests in flight
// recovers every acknowledged one from them.
TEST(Replication, WithPreallocatedLogsAPairFollowsCatchesUpAndRecovers) {
  constexpr const char* kPreallocate = "[wal]\npreallocate = true\n";
  Pair pair({.primary = kPreallocate, .standby_head = kPreallocate});
  ASSERT_NO_FATAL_FAILURE(pair.start_connected());
  auto& [primary, standby] = pair;
  MixedLoad load(primary.port(), 3, 800, 4);
  load.start();
  ASSERT_TRUE(load.wait_acknowledged(500, seconds(30))) << log_tail(primary);
  standby.kill9();
  const int64_t lsn_at_kill = int_field(stats_of(primary.port()), "lsn");
  ASSERT_TRUE(load.wait_acknowledged(1200, seconds(30))) << log_tail(primary);
  const int64_t lsn_at_restart = int_field(stats_of(primary.port()), "lsn");
  ASSERT_GT(lsn_at_restart, lsn_at_kill);
  ASSERT_NO_FATAL_FAILURE(standby.start());
  load.join();
  ASSERT_GE(load.acknowledged(), 1200) << log_tail(primary);
  EXPECT_TRUE(same_digest_at_same_lsn(primary, standby)) << log_tail(standby);
  EXPECT_GE(metric(primary.metrics_port(), "smsx_replication_records_sent_total{source=\"log\"}")
                .value_or(-1),
            static_cast<double>(lsn_at_restart - lsn_at_kill));

  MixedLoad more(primary.port(), 3, 1'000'000, 5);
  more.start();
  ASSERT_TRUE(more.wait_acknowledged(500, seconds(30))) << log_tail(primary);
  primary.kill9();  // mid-load: requests are in flight
  more.join();
  ASSERT_NO_FATAL_FAILURE(primary.start());  // recovery from preallocated segments
  // It asks its standby whether a newer primary exists before it takes writes again.
  ASSERT_TRUE(deposits_until(primary, [](const std::string& r) { return is_ok(r); }));
  EXPECT_EQ(more.resend_acked(primary.port()), "") << log_tail(primary);
  EXPECT_EQ(more.resolve_in_flight(primary.port()), "") << log_tail(primary);
  EXPECT_EQ(more.check_ledger(primary.port()), "") << log_tail(primary);
  EXPECT_EQ(load.check_ledger(primary.port()), "") << log_tail(primary);
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
  ASSERT_TRUE(load_reaches_standby(primary, standby, 2, 100, 7));
  // ... and the standby's copy survives its own restart.
  ASSERT_NO_FATAL_FAILURE(crash_and_restart(standby));
  EXPECT_TRUE(same_digest_at_same_lsn(primary, standby));
}

TEST(Replication, AStandbyBehindThePrunedLogGetsASnapshotOverItsOwnState) {
  Pair pair;
  ASSERT_NO_FATAL_FAILURE(pair.start());
  auto& [primary, standby] = pair;
  ASSERT_TRUE(load_reaches_standby(primary, standby, 2, 100, 0));
  // The standby is down while the primary writes on and prunes the records it would need.
  standby.kill9();
  ASSERT_TRUE(run_load(primary, 2, 200, 1));
  ASSERT_NO_FATAL_FAILURE(prune_first_segment(primary, 2));
  ASSERT_NO_FATAL_FAILURE(standby.start());  // its own data, from before
  EXPECT_TRUE(same_digest_at_same_lsn(primary, standby));
  EXPECT_TRUE(load_reaches_standby(primary, standby, 1, 100, 4));
}

// A standby gets each batch before the primary has it durable, so a primary that died with
// a batch not yet durable can come back and write other records under those LSNs. A
// standby whose last record is not the primary's starts over from a snapshot. Built here
// from a node that wrote a shorter history of its own, at the same epoch, and then follows.
TEST(Replication, AStandbyWhoseLastRecordIsNotThePrimarysGetsASnapshot) {
  SmsxdProcess primary;
  ASSERT_NO_FATAL_FAILURE(primary.start());
  ASSERT_TRUE(run_load(primary, 2, 300, 4));
  SmsxdProcess other;  // its own data folder and history
  ASSERT_NO_FATAL_FAILURE(other.start());
  ASSERT_TRUE(run_load(other, 1, 50, 5));
  const DigestAt own = digest_of(other.port());
  // The same epoch: only the records tell the two histories apart.
  EXPECT_EQ(int_field(hello_of(other.port()), "epoch"),
            int_field(hello_of(primary.port()), "epoch"));
  ASSERT_EQ(other.stop_term(), 0) << other.log();
  ASSERT_GT(own.lsn, 1);
  ASSERT_LT(own.lsn, digest_of(primary.port()).lsn);  // the primary has other records there

  SmsxdProcess follower(standby_toml(primary.port()), other.data_dir());
  ASSERT_NO_FATAL_FAILURE(follower.start());
  EXPECT_TRUE(same_digest_at_same_lsn(primary, follower));
  EXPECT_NE(
      primary.log().find("its record at LSN " + std::to_string(own.lsn) + " is not this log's"),
      std::string::npos)
      << log_tail(primary);
  EXPECT_TRUE(load_reaches_standby(primary, follower, 1, 100, 6));
}

// A standby that stopped while its primary's snapshot was replacing its state may hold a
// mix of both histories: it discards its log and snapshots and starts over. The mark is
// left here by hand, over a history of the node's own that the primary never had.
TEST(Replication, AStandbyStoppedWhileReplacingItsStateStartsOver) {
  SmsxdProcess primary;
  ASSERT_NO_FATAL_FAILURE(primary.start());
  ASSERT_TRUE(run_load(primary, 2, 100, 4));
  SmsxdProcess other;
  ASSERT_NO_FATAL_FAILURE(other.start());
  ASSERT_TRUE(run_load(other, 1, 30, 5));
  ASSERT_EQ(other.stop_term(), 0) << other.log();
  std::ofstream(other.data_dir() + "/" + net::kStateResetMark) << "interrupted\n";
  // Not the node's: left alone.
  std::filesystem::create_directories(other.data_dir() + "/snapshots/lost+found");
  std::ofstream(other.data_dir() + "/wal/notes.txt") << "an operator's file\n";

  SmsxdProcess follower(standby_toml(primary.port()), other.data_dir());
  ASSERT_NO_FATAL_FAILURE(follower.start());
  EXPECT_TRUE(std::filesystem::exists(other.data_dir() + "/snapshots/lost+found"));
  EXPECT_TRUE(std::filesystem::exists(other.data_dir() + "/wal/notes.txt"));
  EXPECT_NE(follower.log().find("discarded its log and snapshots"), std::string::npos)
      << log_tail(follower);
  EXPECT_FALSE(std::filesystem::exists(other.data_dir() + "/" + net::kStateResetMark));
  EXPECT_TRUE(same_digest_at_same_lsn(primary, follower));
}

TEST(Replication, ANodeStoppedWhileReplacingItsStateDoesNotStartAsAPrimary) {
  SmsxdProcess node;
  ASSERT_NO_FATAL_FAILURE(node.start());
  ASSERT_TRUE(run_load(node, 1, 20, 1));
  ASSERT_EQ(node.stop_term(), 0) << node.log();
  std::ofstream(node.data_dir() + "/" + net::kStateResetMark) << "interrupted\n";
  EXPECT_EQ(node.start_expecting_exit(seconds(20)), 2) << node.log();
  EXPECT_NE(node.log().find("Start it as a standby"), std::string::npos) << node.log();
  // Nothing was discarded: the operator decides.
  EXPECT_FALSE(segments(node).empty());
}

TEST(Replication, AStandbyTakesItsOwnSnapshotsAndRecoversFromThem) {
  Pair pair({.standby_tail = "[snapshot]\nevery_records = 200\n"});
  ASSERT_NO_FATAL_FAILURE(pair.start());
  auto& [primary, standby] = pair;
  ASSERT_TRUE(load_reaches_standby(primary, standby, 2, 400, 0));
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
  ASSERT_NO_FATAL_FAILURE(crash_and_restart(standby));
  // It recovered from one of its snapshots, not from LSN 1.
  std::string log = standby.log();
  size_t at = log.rfind("recovered: snapshot LSN ");
  ASSERT_NE(at, std::string::npos) << log_tail(standby);
  EXPECT_GT(std::strtoll(log.c_str() + at + 24, nullptr, 10), 0) << log.substr(at, 200);
  EXPECT_TRUE(same_digest_at_same_lsn(primary, standby));
  EXPECT_TRUE(load_reaches_standby(primary, standby, 1, 100, 1));
}

TEST(Replication, TheOldPrimaryIsFencedRejoinsAsAStandbyAndIsPromotedBack) {
  Pair pair;
  ASSERT_NO_FATAL_FAILURE(pair.start());
  auto& [old_primary, standby] = pair;
  ASSERT_TRUE(load_reaches_standby(old_primary, standby, 2, 200, 0));

  // The histories diverge: with the standby down, the old primary acknowledges more, then
  // dies; those records never reach the standby, which comes back and is promoted.
  standby.kill9();
  ASSERT_TRUE(run_load(old_primary, 1, 40, 1));
  DigestAt lost = digest_of(old_primary.port());
  old_primary.kill9();
  ASSERT_NO_FATAL_FAILURE(standby.start());
  ASSERT_LT(digest_of(standby.port()).lsn, lost.lsn);
  int64_t new_epoch = -1;
  ASSERT_TRUE(promote_standby(standby, &new_epoch));
  ASSERT_TRUE(run_load(standby, 2, 100, 2));  // more than the lost records

  // The old primary comes back with its old configuration: it asks its former standby,
  // finds a primary with a higher epoch, and refuses every write, while it checks and after.
  ASSERT_NO_FATAL_FAILURE(old_primary.start());
  Client pay(old_primary.port());
  ASSERT_TRUE(pay.hello(kPaymentsToken));
  int attempt = 0;
  auto write_refused = [&] {
    std::string r = pay.call(deposit_request(5, 1, "fenced-" + std::to_string(++attempt)));
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
  int64_t failback_epoch = -1;
  ASSERT_TRUE(promote_standby(rejoined, &failback_epoch, "promote-2"));
  EXPECT_EQ(failback_epoch, new_epoch + 1);
  ASSERT_TRUE(run_load(rejoined, 2, 100, 3));
  SmsxdProcess follower(standby_toml(rejoined.port()), standby.data_dir());
  ASSERT_NO_FATAL_FAILURE(follower.start());
  EXPECT_TRUE(same_digest_at_same_lsn(rejoined, follower));
}

TEST(Replication, OrdersExpireOnTheStandbyExactlyAsOnThePrimary) {
  // Expiry storms are cut into ticks of 7, so several logged ticks carry them.
  const std::string orders = "expiries_per_tick_max = 7\n[orders]\nttl = \"1s\"\n";
  Pair pair({.primary = orders, .standby_head = orders});
  ASSERT_NO_FATAL_FAILURE(pair.start());
  auto& [primary, standby] = pair;

  Client events(primary.port());
  ASSERT_TRUE(events.hello(kCustomerToken));
  ASSERT_TRUE(is_ok(events.call(
      request("subscribe", {{"events", Raw{"[\"order.expired\",\"order.finished\"]"}}}))));
  Gateways gateways(primary.port());
  ASSERT_TRUE(open_for_orders(gateways, 100, 40, 1, 100000));
  constexpr int kOrders = 30, kWithSms = 5;
  std::vector<int64_t> ids;
  for (int i = 0; i < kOrders; ++i) {
    ASSERT_TRUE(
        is_ok(gateways.supplier.call(number_add_request(std::to_string(15550000000LL + i)))));
    std::string placed = gateways.customer.call(order_place_request(1));
    ASSERT_TRUE(is_ok(placed)) << placed;
    ids.push_back(int_field(placed, "order"));
    if (i < kWithSms) {  // these are finished at their deadline instead
      std::string sms = gateways.supplier.call(request(
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
  Pair pair({.primary = orders, .standby_head = orders});
  ASSERT_NO_FATAL_FAILURE(pair.start());
  auto& [primary, standby] = pair;
  Gateways gateways(primary.port());
  ASSERT_TRUE(open_for_orders(gateways, 100, 40, 1, 1000));
  ASSERT_TRUE(is_ok(gateways.supplier.call(number_add_request("15550000001"))));
  std::string placed = gateways.customer.call(order_place_request(1));
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
  ASSERT_TRUE(promote_standby(standby));
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
  Pair pair;
  ASSERT_NO_FATAL_FAILURE(pair.start());
  auto& [primary, standby] = pair;
  // Some state on the primary: a price, numbers, deposits, an order with an SMS, a refund.
  Gateways primary_gateways(primary.port());
  ASSERT_TRUE(primary_gateways.hello());
  auto& [admin, supplier, payments, customer] = primary_gateways;
  ASSERT_TRUE(is_ok(admin.call(price_set_request(120, 80))));
  for (const char* n : {"15550000001", "15550000002"}) {
    ASSERT_TRUE(is_ok(supplier.call(number_add_request(n))));
  }
  ASSERT_TRUE(is_ok(payments.call(deposit_request(1001, 1000, "r1"))));
  std::string dep2 = payments.call(request("deposit", {{"account", 1002},
                                                       {"amount", 500},
                                                       {"method", "crypto"},
                                                       {"ref", "r2"},
                                                       {"from_address", "bc1qsource"}}));
  ASSERT_TRUE(is_ok(dep2)) << dep2;
  std::string refund =
      payments.call(request("deposit.refund", {{"deposit", int_field(dep2, "deposit")}}));
  ASSERT_TRUE(is_ok(refund)) << refund;
  std::string placed = customer.call(order_place_request(1001));
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

  Gateways standby_gateways(standby.port());
  ASSERT_TRUE(standby_gateways.hello());
  auto& [s_admin, s_supplier, s_payments, s_customer] = standby_gateways;
  struct Write {
    Client* client;
    std::string line;
  };
  const Write writes[] = {
      {&s_payments, deposit_request(1001, 5, "ro-1")},
      {&s_payments, request("deposit.refund", {{"deposit", 1}})},
      {&s_payments, request("payout.confirm", {{"refund", int_field(refund, "refund")}})},
      {&s_customer, order_place_request(1001)},
      {&s_customer, request("order.finish", {{"order", order}})},
      {&s_customer, request("order.retry", {{"order", order}})},
      {&s_customer, request("order.dispute", {{"order", order}, {"reason", "wrong"}})},
      {&s_customer, request("order.cancel", {{"order", order}})},
      {&s_supplier, number_add_request("15550000003")},
      {&s_supplier, request("number.remove", {{"number", "15550000002"}})},
      {&s_supplier, request("sms.deliver", {{"number", "15550000001"}, {"text", "code 999999"}})},
      {&s_admin, price_set_request(1, 1)},
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
  Pair pair;
  ASSERT_NO_FATAL_FAILURE(pair.start_connected());
  auto& [primary, standby] = pair;
  Client pay(primary.port());
  ASSERT_TRUE(pay.hello(kPaymentsToken));
  auto deposits = [&](int from, int n) {
    for (int i = from; i < from + n; ++i) {
      std::string r = pay.call(deposit_request(9, 1, "lag-" + std::to_string(i)));
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
  // The batches went to the standby as they were written: its own time was measured for
  // each acknowledged one, and the lag histogram has one sample per committed batch.
  const double standby_timed =
      metric(primary.metrics_port(), "smsx_replication_standby_seconds_count").value_or(-1);
  EXPECT_GE(standby_timed, 1.0);
  EXPECT_GE(metric(primary.metrics_port(), "smsx_replication_ack_seconds_count").value_or(-1),
            standby_timed);

  // The standby stops acknowledging (paused, its connection open); the primary (async)
  // goes on, and its lag grows by what it wrote.
  pid_t standby_pid = -1;
  ASSERT_NO_FATAL_FAILURE(pause_process(standby, &standby_pid));
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
  Pair pair({.primary = kSyncForever});
  ASSERT_NO_FATAL_FAILURE(pair.start_connected());
  auto& [primary, standby] = pair;
  Client pay(primary.port(), milliseconds(1500));
  ASSERT_TRUE(pay.hello(kPaymentsToken));
  ASSERT_TRUE(is_ok(try_call(pay, deposit_request(3, 7, "s1")).value_or(""))) << log_tail(primary);

  pid_t standby_pid = -1;
  ASSERT_NO_FATAL_FAILURE(pause_process(standby, &standby_pid));
  // With the standby paused, a write is not answered (1.5 s; fallback 0s = wait forever)...
  EXPECT_EQ(try_call(pay, deposit_request(3, 8, "s2")), std::nullopt)
      << "answered without the standby";
  ASSERT_NO_FATAL_FAILURE(resume_node(standby_pid));
  // ... and is answered once the standby has it.
  auto reply = pay.read_line();
  ASSERT_TRUE(reply.has_value()) << log_tail(primary);
  EXPECT_TRUE(is_ok(*reply)) << *reply;
  EXPECT_TRUE(same_digest_at_same_lsn(primary, standby));
}

TEST(Replication, SyncModeWaitsForARestartedStandby) {
  Pair pair({.primary = kSyncForever});
  ASSERT_NO_FATAL_FAILURE(pair.start_connected());
  auto& [primary, standby] = pair;
  Client pay(primary.port(), milliseconds(1500));
  ASSERT_TRUE(pay.hello(kPaymentsToken));
  ASSERT_TRUE(is_ok(try_call(pay, deposit_request(3, 7, "w1")).value_or(""))) << log_tail(primary);
  standby.kill9();
  // Not answered while the standby is down (1.5 s)...
  EXPECT_EQ(try_call(pay, deposit_request(3, 8, "w2")), std::nullopt)
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
  Pair pair({.primary = kSyncWithFallback});
  ASSERT_NO_FATAL_FAILURE(pair.start_connected());
  auto& [primary, standby] = pair;
  Client pay(primary.port(), seconds(5));
  ASSERT_TRUE(pay.hello(kPaymentsToken));
  pid_t standby_pid = -1;
  ASSERT_NO_FATAL_FAILURE(pause_process(standby, &standby_pid));
  TimedReply deposit = timed_call(pay, deposit_request(3, 8, "f1"));
  ASSERT_NO_FATAL_FAILURE(resume_node(standby_pid));
  ASSERT_TRUE(answered_ok(deposit.reply, primary));
  EXPECT_GE(deposit.waited, milliseconds(250)) << "answered before the fallback timeout";
  EXPECT_TRUE(same_digest_at_same_lsn(primary, standby));
}

TEST(Replication, AStandbyReconnectsWhenThePrimaryComesBack) {
  Pair pair;
  ASSERT_NO_FATAL_FAILURE(pair.start());
  auto& [primary, standby] = pair;
  ASSERT_TRUE(load_reaches_standby(primary, standby, 2, 100, 0));
  ASSERT_NO_FATAL_FAILURE(restart(primary));  // the same address and data
  // It first asks its standby whether a newer primary exists (writes are refused meanwhile).
  ASSERT_TRUE(accepting_writes(primary));
  ASSERT_TRUE(run_load(primary, 2, 100, 1));
  EXPECT_TRUE(same_digest_at_same_lsn(primary, standby));
  EXPECT_TRUE(standbys_connected(primary, standby));
}

TEST(Replication, ASyncPrimaryWithAFallbackAnswersWithoutAnyStandby) {
  // No standby has ever connected: after the fallback timeout the primary answers anyway.
  SmsxdProcess primary(kSyncWithFallback);
  ASSERT_NO_FATAL_FAILURE(primary.start());
  Client pay(primary.port(), seconds(5));
  ASSERT_TRUE(pay.hello(kPaymentsToken));
  TimedReply deposit = timed_call(pay, deposit_request(3, 8, "n1"));
  ASSERT_TRUE(answered_ok(deposit.reply, primary));
  EXPECT_GE(deposit.waited, milliseconds(250)) << "answered before the fallback timeout";
}

TEST(Replication, APromotedStandbyInSyncModeWithAFallbackAnswersAlone) {
  // The standby's own settings apply once it is promoted.
  Pair pair({.standby_tail = kSyncFallbackSettings});
  ASSERT_NO_FATAL_FAILURE(pair.start_connected());
  auto& [primary, standby] = pair;
  primary.kill9();
  ASSERT_TRUE(promote_standby(standby));
  Client pay(standby.port(), seconds(5));
  ASSERT_TRUE(pay.hello(kPaymentsToken));
  EXPECT_TRUE(answered_ok(try_call(pay, deposit_request(3, 8, "n1")), standby));
}

TEST(Replication, APrimaryThatSeesAHigherEpochStopsAcceptingWrites) {
  Pair pair;
  ASSERT_NO_FATAL_FAILURE(pair.start_connected());
  auto& [primary, standby] = pair;
  // The standby is promoted while the old primary still runs (a split).
  int64_t new_epoch = -1;
  ASSERT_TRUE(promote_standby(standby, &new_epoch));
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
  EXPECT_TRUE(
      deposits_until(primary, [](const std::string& r) { return error_of(r) == "READ_ONLY"; }));
  std::string stats = stats_of(primary.port());
  EXPECT_EQ(field(stats, "primary"), "false") << stats;
}

TEST(Replication, ARestartedPrimaryWhosePeerIsDownAcceptsWritesAfterItsCheck) {
  Pair pair;
  ASSERT_NO_FATAL_FAILURE(pair.start_connected());
  auto& [primary, standby] = pair;
  standby.kill9();
  ASSERT_NO_FATAL_FAILURE(restart(primary));
  // It asks its last standby, gets no answer, and serves as the primary it was.
  EXPECT_TRUE(deposits_until(primary, [](const std::string& r) {
    EXPECT_TRUE(is_ok(r) || error_of(r) == "READ_ONLY") << r;
    return is_ok(r);
  }));
  EXPECT_EQ(field(hello_of(primary.port()), "primary"), "true");
}

}  // namespace
}  // namespace smsx::e2e

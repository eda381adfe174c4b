// A real standby against a primary played by the test (FakePrimary), for what a real
// primary does not do on demand: hold back its durable marks, send a record that does not
// fit, send a damaged snapshot.
//
// A standby writes and acknowledges each record as soon as it has it durable, but applies
// it (and so shows it to its clients, in reads and events) only once the primary says the
// record is durable on its side too (docs/protocol.md "replicate"): the primary sends its
// batches before its own fdatasync, and a primary that crashes then may come back without
// them.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/hash.h"
#include "net/replica_stream.h"
#include "persistence/command_codec.h"
#include "persistence/wal_record.h"
#include "tests/e2e/replication_util.h"
#include "tests/e2e/smsxd_util.h"

namespace smsx::e2e {
namespace {

using std::chrono::seconds;

constexpr int64_t kAccount = 1001;

// Listens on a loopback port, takes the standby's connection and plays the primary's side of
// `replicate`. Every wait is bounded (10 s) and fails the test rather than hang.
class FakePrimary {
 public:
  FakePrimary() {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::listen(listener_, 4) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "cannot listen on loopback";
    }
    port_ = ntohs(addr.sin_port);
  }
  ~FakePrimary() {
    if (conn_ >= 0) ::close(conn_);
    ::close(listener_);
  }
  uint16_t port() const { return port_; }

  // Accepts the standby, reads its hello and replicate lines, and answers both: the stream
  // starts at LSN 1 with nothing durable yet, or with a snapshot of `snapshot_bytes` at
  // LSN `from_lsn` - 1. Returns the replicate line.
  std::string accept_standby(uint64_t from_lsn = 1, uint64_t snapshot_bytes = 0) {
    if (!readable(listener_)) return "";
    conn_ = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    std::optional<std::string> hello = read_line(), replicate = read_line();
    if (!hello || !replicate) return "";
    send(R"({"id":"replication-hello","ok":true,"role":"replica"})"
         "\n"
         R"({"id":"replication-start","ok":true,"epoch":1,"from_lsn":)" +
         std::to_string(from_lsn) + R"(,"snapshot_bytes":)" + std::to_string(snapshot_bytes) +
         R"(,"last_lsn":)" + std::to_string(from_lsn - 1) + "}\n");
    return *replicate;
  }

  void send_bytes(const std::string& bytes) { send(bytes); }

  // A payments deposit to kAccount, as the record a primary would log for it.
  void send_deposit(uint64_t lsn, int64_t amount) {
    const std::string id = "confirm-" + std::to_string(lsn);
    send_command(lsn, Command{.op = Op::kDeposit,
                              .key = make_request_key("payments-1", id),
                              .account = static_cast<uint64_t>(kAccount),
                              .amount = amount,
                              .method = PayMethod::kCard,
                              .ref = id});
  }

  // A cancel of an order that does not exist: a record no primary would log.
  void send_cancel_of_nothing(uint64_t lsn) {
    send_command(lsn,
                 Command{.op = Op::kOrderCancel,
                         .key = make_request_key("customer-1", "cancel-" + std::to_string(lsn)),
                         .account = static_cast<uint64_t>(kAccount),
                         .target = 99});
  }

  // A refund of the deposit with id `deposit` (the engine numbers them from 1).
  void send_refund(uint64_t lsn, uint64_t deposit) {
    send_command(lsn,
                 Command{.op = Op::kDepositRefund,
                         .key = make_request_key("payments-1", "refund-" + std::to_string(lsn)),
                         .target = deposit});
  }

  // The mark that every record up to `lsn` is durable on the primary.
  void send_durable(uint64_t lsn) { send_record(lsn, net::kPrimaryDurableType, {}); }

  // Reads the standby's acknowledgements until one covers `lsn`.
  bool acknowledged(uint64_t lsn) {
    while (std::optional<std::string> line = read_line()) {
      if (line->rfind("ack ", 0) == 0 && std::stoull(line->substr(4)) >= lsn) return true;
    }
    return false;
  }

 private:
  // `c` as the record a primary would log at `lsn`, stamped with the primary's time then
  // (2023: the test's own clock, far from the standby's).
  void send_command(uint64_t lsn, Command c) {
    c.now_ms = 1'700'000'000'000 + lsn;
    std::vector<uint8_t> payload;
    const uint8_t type = persistence::encode_command(c, Reply(), &payload);
    send_record(lsn, type, payload);
  }
  void send_record(uint64_t lsn, uint8_t type, std::span<const uint8_t> payload) {
    std::vector<uint8_t> record;
    persistence::append_record(&record, lsn, type, payload);
    send(std::string(record.begin(), record.end()));
  }

  static bool readable(int fd) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, 10'000) == 1;
  }
  std::optional<std::string> read_line() {
    for (;;) {
      if (size_t end = in_.find('\n'); end != std::string::npos) {
        std::string line = in_.substr(0, end);
        in_.erase(0, end + 1);
        return line;
      }
      char buf[4096];
      if (!readable(conn_)) return std::nullopt;
      ssize_t n = ::read(conn_, buf, sizeof buf);
      if (n <= 0) return std::nullopt;
      in_.append(buf, static_cast<size_t>(n));
    }
  }
  void send(const std::string& bytes) {
    ASSERT_EQ(::write(conn_, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  }

  int listener_ = -1;
  int conn_ = -1;
  uint16_t port_ = 0;
  std::string in_;
};

// kAccount's available balance on `port` (-1 while the account does not exist there).
int64_t available(uint16_t port) {
  Client customer(port);
  if (!customer.hello(kCustomerToken)) return -2;
  return int_field(customer.call(request("balance", {{"account", kAccount}})), "available");
}

// A standby following a FakePrimary. Each test starts it; follow() also takes its
// connection with the usual `replicate` answer.
class Standby : public ::testing::Test {
 protected:
  void follow() {
    ASSERT_NO_FATAL_FAILURE(standby.start());
    ASSERT_FALSE(primary.accept_standby().empty()) << log_tail(standby);
  }

  FakePrimary primary;
  SmsxdProcess standby{standby_toml(primary.port())};
};

TEST_F(Standby, AStandbyShowsARecordOnlyOnceThePrimaryHasItDurable) {
  ASSERT_NO_FATAL_FAILURE(standby.start());
  const std::string replicate = primary.accept_standby();
  ASSERT_NE(replicate.find(R"("from_lsn":1)"), std::string::npos) << replicate;

  primary.send_deposit(1, 500);
  ASSERT_TRUE(primary.acknowledged(1)) << log_tail(standby);  // durable on the standby
  // ... and not shown: the account does not exist there yet.
  EXPECT_EQ(available(standby.port()), -1);
  EXPECT_EQ(digest_of(standby.port()).lsn, 0);

  primary.send_durable(1);
  EXPECT_TRUE(poll_until([&] { return available(standby.port()) == 500; }, seconds(10)))
      << log_tail(standby);
  EXPECT_EQ(digest_of(standby.port()).lsn, 1);
}

TEST_F(Standby, APromotedStandbyTakesTheRecordsItHadAsItsHistory) {
  ASSERT_NO_FATAL_FAILURE(follow());
  primary.send_deposit(1, 500);
  primary.send_durable(1);
  primary.send_deposit(2, 300);  // never confirmed: the primary "crashes" here
  ASSERT_TRUE(primary.acknowledged(2)) << log_tail(standby);
  ASSERT_TRUE(poll_until([&] { return available(standby.port()) == 500; }, seconds(10)))
      << log_tail(standby);

  std::string promoted = admin_call(standby.port(), request("promote", {}, "promote-1"));
  ASSERT_TRUE(is_ok(promoted)) << promoted << "\n" << log_tail(standby);
  // The node that takes over has the record durable, and it was acknowledged to the old
  // primary: it is part of the new history (a gateway that retries it gets its first reply).
  EXPECT_EQ(available(standby.port()), 800);
  EXPECT_GE(digest_of(standby.port()).lsn, 2);  // and then whatever it logged as primary
}

TEST_F(Standby, AStandbyRestartedWithUnconfirmedRecordsRecoversThem) {
  // After a restart the standby no longer knows which of its records were confirmed: it
  // recovers its whole log, as recovery always does (docs/operations.md says so).
  ASSERT_NO_FATAL_FAILURE(follow());
  primary.send_deposit(1, 500);
  ASSERT_TRUE(primary.acknowledged(1)) << log_tail(standby);
  EXPECT_EQ(available(standby.port()), -1);
  standby.kill9();
  ASSERT_NO_FATAL_FAILURE(standby.start());
  EXPECT_EQ(available(standby.port()), 500);
}

TEST_F(Standby, AStandbyStopsAtARecordThatChangesNothingInItsState) {
  // Its state does not match the primary's log, and the record is in its own log already:
  // going on, or recovering, would meet it again. It stops with status 4 and says why.
  ASSERT_NO_FATAL_FAILURE(follow());
  primary.send_deposit(1, 500);
  primary.send_cancel_of_nothing(2);
  ASSERT_TRUE(primary.acknowledged(2)) << log_tail(standby);
  primary.send_durable(2);
  EXPECT_EQ(standby.exit_status_within(seconds(10)), 4) << log_tail(standby);
  EXPECT_NE(standby.log().find("LSN 2 changes nothing here"), std::string::npos)
      << log_tail(standby);
}

TEST_F(Standby, ReadsOnAStandbyDoNotMoveItsClock) {
  // The primary's records carry the primary's time (here: 2023). Were a read on the
  // standby stamped with the standby's own clock, the engine's time would jump ahead of
  // the records, and a refund the primary made within its window would fail here.
  ASSERT_NO_FATAL_FAILURE(follow());
  primary.send_deposit(1, 500);
  primary.send_durable(1);
  ASSERT_TRUE(poll_until([&] { return available(standby.port()) == 500; }, seconds(10)))
      << log_tail(standby);
  primary.send_refund(2, 1);
  primary.send_durable(2);
  EXPECT_TRUE(poll_until([&] { return available(standby.port()) == 0; }, seconds(10)))
      << log_tail(standby);
  EXPECT_EQ(digest_of(standby.port()).lsn, 2) << log_tail(standby);
}

TEST_F(Standby, ASnapshotThatDoesNotVerifyIsRefusedAndLeftNowhere) {
  // Recovery loads the newest snapshot in the folder: a refused one must not be there.
  ASSERT_NO_FATAL_FAILURE(standby.start());
  const std::string garbage(4096, 'x');
  ASSERT_FALSE(primary.accept_standby(101, garbage.size()).empty()) << log_tail(standby);
  primary.send_bytes(garbage);
  ASSERT_TRUE(poll_until(
      [&] { return standby.log().find("cannot load the snapshot") != std::string::npos; },
      seconds(10)))
      << log_tail(standby);
  std::vector<std::string> left;
  for (const auto& e : std::filesystem::directory_iterator(standby.data_dir() + "/snapshots")) {
    left.push_back(e.path().filename().string());
  }
  EXPECT_TRUE(left.empty()) << left.front();
  // And it still serves, from its own (empty) state.
  EXPECT_EQ(available(standby.port()), -1);
}

TEST(StandbyStart, ASnapshotLeftHalfReceivedIsDeletedAtStartWhateverTheRole) {
  // Any node: one that was a standby may be started as a primary after a failover.
  SmsxdProcess node;
  const std::string stale =
      node.data_dir() + "/snapshots/received-snap-00000000000000000100.snap.tmp";
  std::filesystem::create_directories(node.data_dir() + "/snapshots");
  std::ofstream(stale) << "half a snapshot";
  ASSERT_NO_FATAL_FAILURE(node.start());
  EXPECT_FALSE(std::filesystem::exists(stale));  // before it listens
  EXPECT_NE(node.log().find("still being received"), std::string::npos) << node.log();
}

}  // namespace
}  // namespace smsx::e2e

// Recovery (persistence/recovery): a seeded workload runs on an engine whose changes go to a
// WAL on the fault-injecting in-memory filesystem (apply; if the reply changed state, encode
// and append; commit per batch), as the server does. Recovery into a fresh engine must give
// the state digest the live engine had at its last durable record: from the WAL alone, from a
// snapshot in the middle, after falling back from a corrupt snapshot, after a torn tail and
// after crashes in mid-commit. Damage anywhere else stops recovery with an error naming the
// file and offset or the LSN.
#include "persistence/recovery.h"

#include <gtest/gtest.h>

#include <cinttypes>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "persistence/command_codec.h"
#include "persistence/snapshot_store.h"
#include "persistence/wal_writer.h"
#include "tests/persistence/fault_env_util.h"
#include "tests/persistence/wal_test_util.h"

namespace smsx::persistence::testing {
namespace {

constexpr char kDir[] = "/data";
constexpr uint64_t kT0 = 1'764'000'000'000;

EngineConfig test_config() {
  EngineConfig c;
  c.ttl_ms = 60'000;
  c.retention_ms = 120'000;
  c.refund_window_ms = 600'000;
  c.expiries_per_tick_max = 4;
  return c;
}

// A command that owns its strings.
struct Cmd {
  Op op = Op::kStats;
  uint64_t now_ms = 0, account = 0, target = 0;
  std::string gateway = "web", request_id;
  Amount amount = 0, payout = 0;
  PayMethod method = PayMethod::kNone;
  bool approve = false;
  std::string ref, address, service, country, pool, number, text;
  uint32_t max_expired = 0;

  Command command() const {
    Command c{.op = op, .now_ms = now_ms, .actor = gateway, .account = account, .target = target};
    if (!request_id.empty()) c.key = make_request_key(gateway, request_id);
    c.amount = amount, c.payout = payout, c.method = method, c.approve = approve;
    c.ref = ref, c.address = address, c.service = service, c.country = country, c.pool = pool;
    c.operator_name = op == Op::kNumberAdd ? "op1" : "";
    c.number = number, c.text = text, c.sender = "Svc", c.max_expired = max_expired;
    return c;
  }
};

// Deposits, places, SMS, finish, cancel, retry, disputes and their resolution, refunds and
// payouts, numbers added and removed, prices, reads, idempotent retries and ticks.
class Workload {
 public:
  explicit Workload(uint64_t seed) : rng_(seed) {}

  Cmd next() {
    Cmd c = make();
    now_ += rng_.below(100) < 5 ? rng_.below(90'000) : rng_.below(2'000);
    c.now_ms = now_;
    if (is_mutating(c.op) && c.op != Op::kTick) {
      if (!recent_.empty() && rng_.percent(3)) return retry(c.now_ms);
      c.request_id = "r" + std::to_string(++requests_);
      recent_.push_back(c);
      if (recent_.size() > 32) recent_.erase(recent_.begin());
    }
    return c;
  }

  void observe(const Cmd& c, const Reply& r) {
    if (r.error != Error::kNone || r.replayed) return;
    if (c.op == Op::kOrderPlace) push(orders_, r.id);
    if (c.op == Op::kDeposit) push(deposits_, r.id);
    if (c.op == Op::kDepositRefund) push(refunds_, r.id);
    if (c.op == Op::kSmsDeliver && r.has_order) push(received_, r.id);
  }
  uint64_t now_ms() const { return now_; }

 private:
  static void push(std::vector<uint64_t>& v, uint64_t id) {
    v.push_back(id);
    if (v.size() > 64) v.erase(v.begin());
  }
  Cmd retry(uint64_t now) {
    Cmd again = recent_[rng_.below(recent_.size())];
    again.now_ms = now;
    return again;
  }
  uint64_t pick(const std::vector<uint64_t>& v) { return v.empty() ? 1 : v[rng_.below(v.size())]; }
  std::string phone() { return "1555000" + std::to_string(1000 + rng_.below(30)); }
  std::string supplier() { return rng_.percent(50) ? "sup-a" : "sup-b"; }

  Cmd place() {
    Cmd c{.op = Op::kOrderPlace, .account = 1 + rng_.below(5)};
    c.service = rng_.percent(50) ? "wa" : "tg";
    c.country = rng_.percent(70) ? "us" : "uk";
    if (rng_.percent(20)) c.pool = rng_.percent(50) ? "p1" : "p2";
    return c;
  }
  Cmd deposit() {
    Cmd c{.op = Op::kDeposit, .account = 1 + rng_.below(5)};
    c.amount = static_cast<Amount>(50 + rng_.below(500));
    c.method = rng_.percent(50) ? PayMethod::kCard : PayMethod::kCrypto;
    c.ref = "ref-" + std::to_string(++refs_);
    if (c.method == PayMethod::kCrypto) c.address = "addr-" + std::to_string(c.account);
    return c;
  }

  Cmd make() {
    Cmd c;
    switch (rng_.below(16)) {
      case 0:
        return deposit();
      case 1:
      case 2:
      case 3:
        return place();
      case 4:
      case 5:
        c = Cmd{.op = Op::kSmsDeliver, .gateway = supplier()};
        c.number = phone();
        c.text = rng_.percent(80) ? "code " + std::to_string(1000 + rng_.below(9000)) : "hi";
        return c;
      case 6:
        return Cmd{.op = rng_.percent(60) ? Op::kOrderFinish : Op::kOrderRetry,
                   .target = pick(received_)};
      case 7:
        return Cmd{.op = Op::kOrderCancel, .target = pick(orders_)};
      case 8:
        c = Cmd{.op = Op::kOrderDispute, .target = pick(received_)};
        c.text = "wrong code";
        return c;
      case 9:
        return Cmd{
            .op = Op::kDisputeResolve, .target = pick(received_), .approve = rng_.percent(50)};
      case 10:
        return Cmd{.op = Op::kDepositRefund, .target = pick(deposits_)};
      case 11:
        c = Cmd{.op = Op::kPayoutConfirm, .target = pick(refunds_)};
        c.ref = "tx";
        return c;
      case 12:
        c = Cmd{.op = rng_.percent(70) ? Op::kNumberAdd : Op::kNumberRemove, .gateway = supplier()};
        c.number = phone();
        c.country = rng_.percent(70) ? "us" : "uk";
        c.pool = rng_.percent(50) ? "p1" : "p2";
        return c;
      case 13:
        c = Cmd{.op = Op::kPriceSet, .gateway = "admin"};
        c.service = rng_.percent(50) ? "wa" : "tg";
        c.country = rng_.percent(70) ? "us" : "uk";
        c.pool = rng_.percent(50) ? "p1" : "p2";
        c.amount = static_cast<Amount>(10 + rng_.below(90));
        c.payout = c.amount / 2;
        return c;
      case 14:
        return Cmd{.op = rng_.percent(50) ? Op::kBalance : Op::kOrderGet,
                   .account = 1 + rng_.below(5),
                   .target = pick(orders_)};
      default:
        return Cmd{.op = Op::kTick,
                   .max_expired = rng_.percent(50) ? 0u : static_cast<uint32_t>(1 + rng_.below(3))};
    }
  }

  // splitmix64.
  struct Rng {
    uint64_t state;
    uint64_t next() {
      uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      return z ^ (z >> 31);
    }
    uint64_t below(uint64_t n) { return n == 0 ? 0 : next() % n; }
    bool percent(uint64_t p) { return below(100) < p; }
  } rng_;
  uint64_t now_ = kT0, requests_ = 0, refs_ = 0;
  std::vector<Cmd> recent_;
  std::vector<uint64_t> orders_, deposits_, refunds_, received_;
};

// The live side, as the server runs it: engine + WAL writer, and the digest the engine had
// right after each logged record (what replaying up to that LSN must give).
class Live {
 public:
  Live(FaultEnv& env, uint64_t seed, uint64_t segment_bytes_max = kSegmentBytesMax)
      : env_(env), workload_(seed), segment_bytes_max_(segment_bytes_max) {
    EXPECT_TRUE(env_.create_dir(kDir).ok());
    engine_ = std::make_unique<Engine>(test_config());
    open_wal(1);
  }

  // Continues with a recovered engine, as a restarted server does.
  void restart(std::unique_ptr<Engine> engine, uint64_t last_lsn) {
    engine_ = std::move(engine);
    digests_.erase(digests_.upper_bound(last_lsn), digests_.end());
    open_wal(last_lsn + 1);
  }

  // Runs `steps` commands, committing every 1..`batch_max` commands. False once a commit failed.
  bool run(int steps, int batch_max = 16) {
    int in_batch = 0, batch = 1;
    for (int i = 0; i < steps; ++i) {
      const Cmd c = workload_.next();
      const Reply r = engine_->apply(c.command(), nullptr);
      workload_.observe(c, r);
      if (r.changed) {
        const uint8_t type = encode_command(c.command(), r, &payload_);
        uint64_t lsn = 0;
        EXPECT_TRUE(writer_->append(type, payload_, &lsn).ok());
        digests_[lsn] = engine_->digest();
      }
      if (++in_batch >= batch) {
        if (!writer_->commit().ok()) return false;
        in_batch = 0;
        batch = 1 + static_cast<int>(workload_seed_bits(i) % batch_max);
      }
    }
    return writer_->commit().ok();
  }

  // A snapshot at the durable LSN (everything appended is committed after run()).
  SnapshotInfo snapshot(bool prune = true) {
    SnapshotInfo info;
    EXPECT_EQ(writer_->pending_bytes(), 0u);
    const Status status =
        take_snapshot(env_, kDir, kDir, *engine_, writer_->durable_lsn(), prune, &info);
    EXPECT_TRUE(status.ok()) << status.to_string();
    return info;
  }

  uint64_t durable_lsn() const { return writer_ ? writer_->durable_lsn() : closed_at_lsn_; }
  uint64_t digest_at(uint64_t lsn) const {
    auto it = digests_.find(lsn);
    return it == digests_.end() ? 0 : it->second;
  }
  const Engine& engine() const { return *engine_; }
  // Stops writing, as a process that exits or dies.
  void close() {
    closed_at_lsn_ = durable_lsn();
    writer_.reset();
  }

 private:
  static uint64_t workload_seed_bits(int i) { return mix64(static_cast<uint64_t>(i)); }
  void open_wal(uint64_t next_lsn) {
    writer_.reset();
    WalWriterOptions options;
    options.segment_bytes_max = segment_bytes_max_;
    const Status status = WalWriter::open(env_, kDir, next_lsn, options, &writer_);
    ASSERT_TRUE(status.ok()) << status.to_string();
  }

  FaultEnv& env_;
  Workload workload_;
  const uint64_t segment_bytes_max_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<WalWriter> writer_;
  std::vector<uint8_t> payload_;
  std::map<uint64_t, uint64_t> digests_;
  uint64_t closed_at_lsn_ = 0;
};

struct Recovered {
  Status status;
  std::unique_ptr<Engine> engine;
  RecoveryInfo info;
};

Recovered recover_from(Env& env) {
  Recovered r;
  r.status = recover(env, kDir, kDir, test_config(), &r.engine, &r.info);
  if (r.engine) r.engine->check_invariants();
  return r;
}

// The recovered engine has the state of the live one at the recovered LSN.
void expect_recovered(const Live& live, const Recovered& r) {
  ASSERT_TRUE(r.status.ok()) << r.status.to_string();
  ASSERT_NE(r.engine, nullptr);
  ASSERT_NE(live.digest_at(r.info.last_lsn), 0u) << "LSN " << r.info.last_lsn;
  EXPECT_EQ(r.engine->digest(), live.digest_at(r.info.last_lsn)) << "LSN " << r.info.last_lsn;
}

TEST(RecoveryTest, EmptyFolderGivesAFreshEngine) {
  FaultEnv env(1);
  ASSERT_TRUE(env.create_dir(kDir).ok());
  Recovered r = recover_from(env);
  ASSERT_TRUE(r.status.ok()) << r.status.to_string();
  EXPECT_EQ(r.info.last_lsn, 0u);
  EXPECT_EQ(r.info.snapshot_lsn, 0u);
  EXPECT_EQ(r.info.records_replayed, 0u);
  EXPECT_EQ(r.engine->digest(), Engine(test_config()).digest());
}

TEST(RecoveryTest, ReplayOfTheWalAloneGivesTheLiveState) {
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    FaultEnv env(seed);
    Live live(env, seed);
    ASSERT_TRUE(live.run(3000));
    ASSERT_GT(live.durable_lsn(), 1000u);
    Recovered r = recover_from(env);
    expect_recovered(live, r);
    EXPECT_EQ(r.info.last_lsn, live.durable_lsn());
    EXPECT_EQ(r.info.records_replayed, live.durable_lsn());
    EXPECT_EQ(r.info.snapshot_lsn, 0u);
    EXPECT_FALSE(r.info.torn_tail.has_value());
    const EngineStats stats = r.engine->stats();
    EXPECT_GT(stats.orders_placed, 100u);
    EXPECT_GT(stats.orders_finished, 10u);
    EXPECT_GT(stats.orders_cancelled, 10u);
  }
}

TEST(RecoveryTest, SnapshotInTheMiddleShortensTheReplay) {
  FaultEnv env(2);
  Live live(env, 2, /*segment_bytes_max=*/16 << 10);
  ASSERT_TRUE(live.run(1500));
  const SnapshotInfo snap = live.snapshot();
  const uint64_t snapshot_lsn = live.durable_lsn();
  EXPECT_GT(snap.body_bytes, 0u);
  ASSERT_TRUE(live.run(1500));
  Recovered r = recover_from(env);
  expect_recovered(live, r);
  EXPECT_EQ(r.info.snapshot_lsn, snapshot_lsn);
  EXPECT_EQ(r.info.snapshot_path, snap.path);
  EXPECT_EQ(r.info.records_replayed, live.durable_lsn() - snapshot_lsn);
  EXPECT_TRUE(r.info.skipped_snapshots.empty());
}

// Pruning after the second snapshot deletes the segments the first one covers; recovery
// still starts from the newest and replays what follows.
TEST(RecoveryTest, PrunedLogRecoversFromTheNewestSnapshot) {
  FaultEnv env(3);
  Live live(env, 3, /*segment_bytes_max=*/8 << 10);
  ASSERT_TRUE(live.run(1000));
  live.snapshot();
  ASSERT_TRUE(live.run(1000));
  const SnapshotInfo second = live.snapshot();
  EXPECT_FALSE(second.deleted.empty());
  ASSERT_TRUE(live.run(500));
  Recovered r = recover_from(env);
  expect_recovered(live, r);
  EXPECT_EQ(r.info.snapshot_path, second.path);
}

TEST(RecoveryTest, CorruptNewestSnapshotFallsBackToTheOlderOne) {
  FaultEnv env(4);
  Live live(env, 4, /*segment_bytes_max=*/8 << 10);
  ASSERT_TRUE(live.run(1000));
  live.snapshot();
  const uint64_t older_lsn = live.durable_lsn();
  ASSERT_TRUE(live.run(1000));
  const SnapshotInfo newest = live.snapshot();
  ASSERT_TRUE(live.run(300));
  env.flip_byte(newest.path, kSnapshotHeaderBytes + newest.body_bytes / 2);
  Recovered r = recover_from(env);
  expect_recovered(live, r);
  EXPECT_EQ(r.info.snapshot_lsn, older_lsn);
  ASSERT_EQ(r.info.skipped_snapshots.size(), 1u);
  EXPECT_NE(r.info.skipped_snapshots[0].find(newest.path), std::string::npos);
  EXPECT_EQ(r.info.records_replayed, live.durable_lsn() - older_lsn);
}

// A snapshot whose checksum is right but whose body the engine refuses (another version, or
// a bug) is skipped like a corrupt one.
TEST(RecoveryTest, SnapshotTheEngineRefusesFallsBackToTheOlderOne) {
  FaultEnv env(5);
  Live live(env, 5);
  ASSERT_TRUE(live.run(800));
  live.snapshot();
  const uint64_t older_lsn = live.durable_lsn();
  ASSERT_TRUE(live.run(400));
  const std::vector<uint8_t> junk = {'S', 'M', 'X', 'E', 99};
  ASSERT_TRUE(SnapshotStore(env, kDir, kDir).write(live.durable_lsn(), junk).ok());
  ASSERT_TRUE(live.run(100));
  Recovered r = recover_from(env);
  expect_recovered(live, r);
  EXPECT_EQ(r.info.snapshot_lsn, older_lsn);
  ASSERT_EQ(r.info.skipped_snapshots.size(), 1u);
  EXPECT_NE(r.info.skipped_snapshots[0].find("unsupported engine snapshot version"),
            std::string::npos)
      << r.info.skipped_snapshots[0];
}

// The last write was interrupted: part of a record at the end. It is cut off, and the log
// continues after it across restarts.
TEST(RecoveryTest, TornTailIsCutOffAndTheLogContinues) {
  FaultEnv env(6);
  Live live(env, 6);
  ASSERT_TRUE(live.run(1000));
  const std::string segment = segment_paths(env, kDir).back();
  std::vector<uint8_t> bytes = env.contents(segment);
  std::vector<uint8_t> record;
  std::vector<uint8_t> payload;
  encode_command(Command{.op = Op::kOrderCancel, .now_ms = kT0, .target = 1}, Reply(), &payload);
  append_record(&record, live.durable_lsn() + 1, static_cast<uint8_t>(Op::kOrderCancel), payload);
  bytes.insert(bytes.end(), record.begin(), record.begin() + 10);
  env.set_contents(segment, bytes);
  live.close();

  Recovered r = recover_from(env);
  expect_recovered(live, r);
  ASSERT_TRUE(r.info.torn_tail.has_value());
  EXPECT_EQ(r.info.torn_tail->path, segment);
  EXPECT_EQ(r.info.torn_tail->bytes_dropped, 10u);
  EXPECT_EQ(r.info.last_lsn, live.durable_lsn());

  // Restart on the recovered engine, twice, checking the whole log each time.
  for (int restart = 0; restart < 2; ++restart) {
    live.restart(std::move(r.engine), r.info.last_lsn);
    ASSERT_TRUE(live.run(500));
    live.close();
    r = recover_from(env);
    expect_recovered(live, r);
    EXPECT_EQ(r.info.last_lsn, live.durable_lsn());
  }
}

// Crashes in mid-commit (the process dies during the write or the fdatasync; the disk keeps
// torn pages): recovery gives every acknowledged record and at most a whole-record prefix
// of the failed batch, and the state of the live engine at that LSN.
TEST(RecoveryTest, CrashesInMidCommitRecoverEveryAcknowledgedRecord) {
  FaultEnv env(7);
  Live live(env, 7, /*segment_bytes_max=*/32 << 10);
  int crashes = 0, kept_unacknowledged = 0;
  for (int round = 0; round < 40; ++round) {
    env.kill_after(1 + env.random(80));
    const bool finished = live.run(400);
    const uint64_t acknowledged = live.durable_lsn();
    live.close();
    if (finished) env.kill_after(UINT64_MAX >> 1);  // disarm: a crash with nothing in flight
    crashes += env.killed() ? 1 : 0;
    env.crash(CrashMode::kTornPages);
    Recovered r = recover_from(env);
    expect_recovered(live, r);
    ASSERT_GE(r.info.last_lsn, acknowledged) << "round " << round;
    if (HasFatalFailure()) return;
    kept_unacknowledged += r.info.last_lsn > acknowledged ? 1 : 0;
    live.restart(std::move(r.engine), r.info.last_lsn);
  }
  std::printf("%d crashes in mid-commit, %d kept part of the failed batch, %" PRIu64
              " records in the end\n",
              crashes, kept_unacknowledged, live.durable_lsn());
  EXPECT_GT(crashes, 20);
}

TEST(RecoveryTest, CrcErrorInTheMiddleStopsWithTheFileAndOffset) {
  FaultEnv env(8);
  Live live(env, 8, /*segment_bytes_max=*/8 << 10);
  ASSERT_TRUE(live.run(1500));
  const std::vector<std::string> segments = segment_paths(env, kDir);
  ASSERT_GE(segments.size(), 3u);
  live.close();
  // A record in a segment that is not the last.
  env.flip_byte(segments[1], kSegmentHeaderBytes + 100);
  Recovered r = recover_from(env);
  ASSERT_TRUE(r.status.is_corruption());
  EXPECT_EQ(r.engine, nullptr);
  EXPECT_NE(r.status.message().find(segments[1] + " at offset "), std::string::npos)
      << r.status.to_string();
  // In the last segment, followed by intact records: not a torn tail either.
  env.flip_byte(segments[1], kSegmentHeaderBytes + 100);
  env.flip_byte(segments.back(), kSegmentHeaderBytes + 5);
  r = recover_from(env);
  ASSERT_TRUE(r.status.is_corruption());
  EXPECT_NE(r.status.message().find(segments.back() + " at offset 20"), std::string::npos)
      << r.status.to_string();
  EXPECT_NE(r.status.message().find("an intact record follows"), std::string::npos);
}

// Intact records (CRC right) that are not what the engine logs.
TEST(RecoveryTest, UndecodableOrInconsistentRecordsStopWithTheLsn) {
  {
    FaultEnv env(9);
    Live live(env, 9);
    ASSERT_TRUE(live.run(200));
    live.close();
    std::unique_ptr<WalWriter> writer = open_writer(env, live.durable_lsn() + 1);
    const std::vector<uint8_t> garbage = {0xc0, 1, 2, 3};
    ASSERT_TRUE(writer->append(static_cast<uint8_t>(Op::kOrderPlace), garbage).ok());
    ASSERT_TRUE(writer->commit().ok());
    Recovered r = recover_from(env);
    ASSERT_TRUE(r.status.is_corruption());
    EXPECT_NE(r.status.message().find("LSN " + std::to_string(live.durable_lsn() + 1) +
                                      ": command record of type 4: unknown flag bits"),
              std::string::npos)
        << r.status.to_string();
    EXPECT_NE(r.status.message().find("wal-"), std::string::npos) << r.status.to_string();
  }
  {
    // A well-formed cancel of an order that does not exist changes nothing on replay.
    FaultEnv env(10);
    Live live(env, 10);
    ASSERT_TRUE(live.run(200));
    live.close();
    std::unique_ptr<WalWriter> writer = open_writer(env, live.durable_lsn() + 1);
    std::vector<uint8_t> payload;
    const Command cancel{.op = Op::kOrderCancel, .now_ms = kT0 + 10'000'000, .target = 1u << 30};
    const uint8_t type = encode_command(cancel, Reply(), &payload);
    ASSERT_TRUE(writer->append(type, payload).ok());
    ASSERT_TRUE(writer->commit().ok());
    Recovered r = recover_from(env);
    ASSERT_TRUE(r.status.is_corruption());
    EXPECT_NE(r.status.message().find("changes nothing (ORDER_NOT_FOUND)"), std::string::npos)
        << r.status.to_string();
  }
}

}  // namespace
}  // namespace smsx::persistence::testing

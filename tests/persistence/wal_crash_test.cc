// Randomized crash test of the whole persistence layer: random batches, snapshots and
// pruning, faults and kills at random points (including in mid-write and during
// recovery), crashes that keep random torn pages. After every recovery:
//   - every record whose commit succeeded is present, unchanged;
//   - the log is exactly a prefix of the records ever appended (a failed or unsynced batch
//     shows up only as whole records, in order, or not at all);
//   - the newest valid snapshot matches the records up to its LSN, and the WAL after it
//     replays (also when the newest snapshot is corrupt and the previous one is used).
// Deterministic: each seed replays identically, and a failure prints its seed.
#include <gtest/gtest.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>

#include "core/assert.h"
#include "persistence/coding.h"
#include "persistence/file_names.h"
#include "persistence/snapshot_store.h"
#include "tests/persistence/fault_env_util.h"
#include "tests/persistence/wal_test_util.h"

namespace smsx::persistence::testing {
namespace {

constexpr uint64_t kSeeds = 1000;
constexpr int kCrashesPerSeed = 5;
constexpr int kBatchesPerRunMax = 40;
constexpr int kRecoveryAttemptsMax = 10;

// How often each interesting path ran, summed over all seeds; the test fails if one never
// did, so a change that makes the workload tamer cannot pass silently.
struct Coverage {
  uint64_t commits = 0;
  uint64_t failed_commits = 0;
  uint64_t kills_in_recovery = 0;
  uint64_t torn_tails_cut = 0;
  uint64_t preallocated_torn_tails_cut = 0;
  uint64_t crashes_with_pages_out_of_order = 0;
  uint64_t unacked_records_recovered = 0;
  uint64_t snapshots = 0;
  uint64_t snapshot_fallbacks = 0;
  uint64_t segments_deleted = 0;
};

struct Model {
  std::vector<Record> attempted;  // every record appended, index = LSN - 1
  uint64_t acked = 0;             // highest LSN whose commit returned ok
  bool corrupted_a_snapshot = false;
};

// FNV-1a over the records with LSN <= lsn: the "state" a snapshot at lsn stands for.
uint64_t digest(const Model& model, uint64_t lsn) {
  uint64_t hash = 1469598103934665603ull;
  auto mix = [&hash](uint8_t byte) { hash = (hash ^ byte) * 1099511628211ull; };
  for (uint64_t i = 0; i < lsn; ++i) {
    const Record& record = model.attempted[i];
    mix(record.type);
    for (uint8_t byte : record.payload) mix(byte);
  }
  return hash;
}

std::vector<uint8_t> snapshot_body(const Model& model, uint64_t lsn, size_t filler_bytes) {
  std::vector<uint8_t> body(16 + filler_bytes, 0x5a);
  encode_u64(body.data(), lsn);
  encode_u64(body.data() + 8, digest(model, lsn));
  return body;
}

class CrashRun {
 public:
  CrashRun(uint64_t seed, Coverage* coverage)
      : coverage_(*coverage), env_(seed, kPageSizes[seed % 4]), store_(env_, kWalDir, kWalDir) {
    segment_bytes_max_ = 256 + env_.random(4096);
    // Every other seed writes into preallocated (zero-filled) segments.
    preallocation_ = seed % 2 == 0 ? Preallocation::kInline : Preallocation::kNone;
    SMSX_ASSERT(env_.create_dir(kWalDir).ok());
  }

  void run() {
    for (int crash = 0; crash < kCrashesPerSeed; ++crash) {
      recover();
      if (::testing::Test::HasFailure()) return;
      work();
      if (::testing::Test::HasFailure()) return;
      writer_.reset();
      env_.crash(env_.random(4) == 0 ? CrashMode::kDropUnsynced : CrashMode::kTornPages);
      maybe_corrupt_newest_snapshot();
    }
    recover();
    coverage_.crashes_with_pages_out_of_order += env_.pages_out_of_order();
  }

 private:
  static constexpr size_t kPageSizes[] = {32, 64, 512, 4096};

  // Loads the snapshot, replays the WAL, checks the model and opens the writer. A kill
  // armed during recovery makes it fail with EIO: crash and recover again.
  void recover() {
    for (int attempt = 0; attempt < kRecoveryAttemptsMax; ++attempt) {
      if (env_.random(4) == 0) env_.kill_after(env_.random(4));
      const Status status = try_recover();
      if (status.ok()) return;
      ASSERT_TRUE(env_.killed()) << "recovery failed without a kill: " << status.to_string();
      ++coverage_.kills_in_recovery;
      env_.crash(CrashMode::kTornPages);
    }
    FAIL() << "recovery did not finish";
  }

  Status try_recover() {
    LoadedSnapshot snapshot;
    PERSIST_RETURN_IF_ERROR(store_.load_newest_valid(&snapshot));
    if (!model_.corrupted_a_snapshot) {
      EXPECT_TRUE(snapshot.corrupt.empty());
    }
    coverage_.snapshot_fallbacks += snapshot.corrupt.empty() ? 0 : 1;
    std::vector<Record> log(model_.attempted.begin(),
                            model_.attempted.begin() + static_cast<ptrdiff_t>(snapshot.lsn));
    if (snapshot.found) {
      EXPECT_LE(snapshot.lsn, model_.acked);
      EXPECT_EQ(decode_u64(snapshot.body().data()), snapshot.lsn);
      EXPECT_EQ(decode_u64(snapshot.body().data() + 8), digest(model_, snapshot.lsn));
    }
    const ReadResult read = read_log(env_, kWalDir, snapshot.lsn + 1);
    if (!read.status.ok() && env_.killed()) return read.status;
    EXPECT_TRUE(read.status.ok()) << read.status.to_string();
    log.insert(log.end(), read.records.begin(), read.records.end());
    // Every acknowledged record survived; nothing that was never appended appeared.
    EXPECT_GE(log.size(), model_.acked);
    EXPECT_LE(log.size(), model_.attempted.size());
    for (size_t i = 0; i < log.size() && i < model_.attempted.size(); ++i) {
      if (log[i] != model_.attempted[i]) {
        ADD_FAILURE() << "record " << i << " is " << log[i] << ", appended " << model_.attempted[i];
        break;
      }
    }
    if (::testing::Test::HasFailure()) return Status();
    coverage_.torn_tails_cut += read.torn_tail.has_value() ? 1 : 0;
    if (preallocation_ != Preallocation::kNone && read.torn_tail.has_value()) {
      ++coverage_.preallocated_torn_tails_cut;
    }
    coverage_.unacked_records_recovered += log.size() - model_.acked;
    model_.attempted.resize(log.size());  // records after the recovered end are gone
    model_.acked = log.size();            // read back after the crash: on disk
    WalWriterOptions options;
    options.segment_bytes_max = segment_bytes_max_;
    options.preallocation = preallocation_;
    return WalWriter::open(env_, kWalDir, read.last_lsn + 1, options, &writer_);
  }

  // Random batches, snapshots and faults until a failure or the batch budget runs out.
  void work() {
    if (env_.random(3) != 0) env_.kill_after(env_.random(60));
    const int batches = 1 + static_cast<int>(env_.random(kBatchesPerRunMax));
    for (int batch = 0; batch < batches; ++batch) {
      if (env_.random(20) == 0) inject_fault();
      const size_t records = 1 + env_.random(20);
      for (size_t i = 0; i < records; ++i) {
        const Record record = test_record(writer_->next_lsn(), env_.random(100));
        const Status appended = writer_->append(record.type, record.payload);
        if (!appended.ok()) return;
        model_.attempted.push_back(record);
      }
      const Status committed = writer_->commit();
      if (!committed.ok()) {
        ASSERT_TRUE(committed.is_io_error()) << committed.to_string();
        ASSERT_EQ(writer_->durable_lsn(), model_.acked);
        ++coverage_.failed_commits;
        return;
      }
      ASSERT_EQ(writer_->durable_lsn(), model_.attempted.size());
      model_.acked = writer_->durable_lsn();
      ++coverage_.commits;
      if (env_.random(8) == 0 && !take_snapshot()) return;
    }
  }

  void inject_fault() {
    switch (env_.random(3)) {
      case 0:
        env_.fail_once(FaultOp::kAppend, ENOSPC, 0, env_.random(200));
        break;
      case 1:
        env_.fail_once(FaultOp::kSync, EIO);
        break;
      default:
        env_.fail_once(FaultOp::kCreate, ENOSPC);
        break;
    }
  }

  bool take_snapshot() {
    const uint64_t lsn = writer_->durable_lsn();
    if (!store_.write(lsn, snapshot_body(model_, lsn, env_.random(3000))).ok()) return false;
    ++coverage_.snapshots;
    std::vector<std::string> deleted;
    const bool pruned = store_.prune(&deleted).ok();
    for (const std::string& path : deleted) coverage_.segments_deleted += path.ends_with(".log");
    return pruned;
  }

  // Once per seed, damage the newest of two or more snapshots: recovery must fall back
  // to the previous one, whose WAL segments prune() kept.
  void maybe_corrupt_newest_snapshot() {
    if (model_.corrupted_a_snapshot || env_.random(3) != 0) return;
    std::vector<NamedFile> snapshots;
    SMSX_ASSERT(list_snapshots(env_, kWalDir, &snapshots).ok());
    if (snapshots.size() < 2) return;
    const std::string& newest = snapshots.back().path;
    env_.flip_byte(newest, env_.random(env_.contents(newest).size()));
    model_.corrupted_a_snapshot = true;
  }

  Coverage& coverage_;
  FaultEnv env_;
  SnapshotStore store_;
  uint64_t segment_bytes_max_;
  Preallocation preallocation_;
  Model model_;
  std::unique_ptr<WalWriter> writer_;
};

TEST(WalCrashTest, AcknowledgedRecordsSurviveRandomCrashes) {
  Coverage coverage;
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    CrashRun(seed, &coverage).run();
    if (::testing::Test::HasFailure()) {
      ADD_FAILURE() << "reproduce with seed " << seed;
      return;
    }
  }
  std::printf("commits %" PRIu64 ", failed commits %" PRIu64 ", kills in recovery %" PRIu64
              ", torn tails cut %" PRIu64 " (%" PRIu64 " in preallocated segments; %" PRIu64
              " crashes kept an overwrite's pages out of order)"
              ", unacknowledged records recovered %" PRIu64 ", snapshots %" PRIu64
              ", fallbacks %" PRIu64 ", segments deleted %" PRIu64 "\n",
              coverage.commits, coverage.failed_commits, coverage.kills_in_recovery,
              coverage.torn_tails_cut, coverage.preallocated_torn_tails_cut,
              coverage.crashes_with_pages_out_of_order, coverage.unacked_records_recovered,
              coverage.snapshots, coverage.snapshot_fallbacks, coverage.segments_deleted);
  EXPECT_GT(coverage.commits, 0u);
  EXPECT_GT(coverage.failed_commits, 0u);
  EXPECT_GT(coverage.kills_in_recovery, 0u);
  EXPECT_GT(coverage.torn_tails_cut, 0u);
  EXPECT_GT(coverage.preallocated_torn_tails_cut, 0u);
  EXPECT_GT(coverage.crashes_with_pages_out_of_order, 0u);
  EXPECT_GT(coverage.unacked_records_recovered, 0u);
  EXPECT_GT(coverage.snapshots, 0u);
  EXPECT_GT(coverage.snapshot_fallbacks, 0u);
  EXPECT_GT(coverage.segments_deleted, 0u);
}

}  // namespace
}  // namespace smsx::persistence::testing

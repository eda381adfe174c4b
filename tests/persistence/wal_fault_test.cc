// Write and sync failures: the commit fails, nothing after the last successful commit is
// reported durable, the writer stays failed, and after a crash the log holds every
// committed record followed by at most a whole-record prefix of the failed batch.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <functional>

#include "persistence/file_names.h"
#include "tests/persistence/fault_env_util.h"
#include "tests/persistence/wal_test_util.h"

namespace smsx::persistence::testing {
namespace {

using ::testing::HasSubstr;

constexpr size_t kBatchRecords = 10;
constexpr size_t kPayloadBytes = 40;
constexpr size_t kBatchBytes = kBatchRecords * (kRecordHeaderBytes + kPayloadBytes);
constexpr int kCrashSeeds = 40;

// The rule for a failed commit (docs/wal_format.md, "Failed commits"): the recovered log
// is every committed record, then the first k records of the failed batch for some k >= 0,
// each whole and in order, and nothing else.
void expect_committed_then_prefix_of_failed(const std::vector<Record>& recovered,
                                            const std::vector<Record>& committed,
                                            const std::vector<Record>& failed) {
  ASSERT_GE(recovered.size(), committed.size());
  ASSERT_LE(recovered.size(), committed.size() + failed.size());
  for (size_t i = 0; i < recovered.size(); ++i) {
    const Record& expected = i < committed.size() ? committed[i] : failed[i - committed.size()];
    ASSERT_EQ(recovered[i], expected) << "record " << i;
  }
}

struct Scenario {
  const char* name;
  std::function<void(FaultEnv&)> inject;  // arms the fault that hits the third commit
  int err;
  uint64_t segment_bytes_max = kSegmentBytesMax;
  bool names_offset = true;  // false for failures of open and folder fsync
};

// Two good commits, then a third that the injected fault breaks.
void run(const Scenario& scenario, uint64_t seed, CrashMode mode) {
  SCOPED_TRACE(std::string(scenario.name) + ", seed " + std::to_string(seed));
  FaultEnv env(seed, 64);
  auto writer = open_writer(env, 1, scenario.segment_bytes_max);
  std::vector<Record> committed;
  ASSERT_TRUE(write_batch_of(*writer, kBatchRecords, kPayloadBytes, &committed).ok());
  ASSERT_TRUE(write_batch_of(*writer, kBatchRecords, kPayloadBytes, &committed).ok());
  const uint64_t durable = writer->durable_lsn();
  ASSERT_EQ(durable, committed.size());

  scenario.inject(env);
  std::vector<Record> failed;
  const Status status = write_batch_of(*writer, kBatchRecords, kPayloadBytes, &failed);
  ASSERT_TRUE(status.is_io_error()) << status.to_string();
  EXPECT_EQ(status.error_number(), scenario.err);
  EXPECT_THAT(status.message(), HasSubstr(kWalDir));
  if (scenario.names_offset) {
    EXPECT_THAT(status.message(), HasSubstr("at offset"));
  }
  // Nothing of the failed batch is reported durable, and the writer refuses everything.
  EXPECT_EQ(writer->durable_lsn(), durable);
  EXPECT_TRUE(writer->failed());
  EXPECT_EQ(writer->append(1, {}).to_string(), status.to_string());
  EXPECT_EQ(writer->commit().to_string(), status.to_string());
  EXPECT_EQ(writer->durable_lsn(), durable);

  env.crash(mode);
  writer.reset();
  const ReadResult read = read_log(env);
  ASSERT_TRUE(read.status.ok()) << read.status.to_string();
  expect_committed_then_prefix_of_failed(read.records, committed, failed);

  // The recovered log takes appends again (once the operator has freed space).
  env.set_capacity_bytes(UINT64_MAX);
  std::vector<Record> all = read.records;
  auto reopened = open_writer(env, read.last_lsn + 1, scenario.segment_bytes_max);
  ASSERT_TRUE(write_batch_of(*reopened, 3, kPayloadBytes, &all).ok());
  EXPECT_EQ(read_log(env).records, all);
}

void run_all_crash_modes(const Scenario& scenario) {
  run(scenario, 0, CrashMode::kDropUnsynced);
  for (uint64_t seed = 1; seed <= kCrashSeeds; ++seed) run(scenario, seed, CrashMode::kTornPages);
}

TEST(WalFaultTest, EnospcFailsTheCommit) {
  run_all_crash_modes({"ENOSPC after a short write",
                       [](FaultEnv& env) {
                         // Room for the header, two batches and 300 more bytes.
                         env.set_capacity_bytes(kSegmentHeaderBytes + 2 * kBatchBytes + 300);
                       },
                       ENOSPC});
}

TEST(WalFaultTest, EnospcWithNoRoomAtAllFailsTheCommit) {
  run_all_crash_modes(
      {"ENOSPC, nothing written",
       [](FaultEnv& env) { env.set_capacity_bytes(kSegmentHeaderBytes + 2 * kBatchBytes); },
       ENOSPC});
}

TEST(WalFaultTest, ShortWriteFailsTheCommit) {
  run_all_crash_modes(
      {"short write", [](FaultEnv& env) { env.fail_once(FaultOp::kAppend, EIO, 0, 123); }, EIO});
}

TEST(WalFaultTest, FdatasyncFailureFailsTheCommit) {
  run_all_crash_modes(
      {"fdatasync failure", [](FaultEnv& env) { env.fail_once(FaultOp::kSync, EIO); }, EIO});
}

// With two batches per segment, the third commit must first create a segment.
constexpr uint64_t kTwoBatchSegment = kSegmentHeaderBytes + 2 * kBatchBytes;

TEST(WalFaultTest, SegmentCreationFailureFailsTheCommit) {
  run_all_crash_modes({"segment creation failure",
                       [](FaultEnv& env) { env.fail_once(FaultOp::kCreate, ENOSPC); }, ENOSPC,
                       kTwoBatchSegment, false});
}

TEST(WalFaultTest, FolderSyncFailureOnRolloverFailsTheCommit) {
  run_all_crash_modes({"folder fsync failure",
                       [](FaultEnv& env) { env.fail_once(FaultOp::kSyncDir, EIO); }, EIO,
                       kTwoBatchSegment, false});
}

// Without a crash the failed batch may be on disk whole (written, not synced): allowed.
// A failed fdatasync may leave the batch readable in the page cache but not on disk (Linux
// marks those pages clean), so the writer cuts the batch off: a restart must not read it.
TEST(WalFaultTest, FailedSyncCutsTheBatchOff) {
  FaultEnv env(3);
  auto writer = open_writer(env);
  std::vector<Record> committed;
  ASSERT_TRUE(write_batch_of(*writer, 4, kPayloadBytes, &committed).ok());
  env.fail_once(FaultOp::kSync, EIO);
  std::vector<Record> failed;
  ASSERT_FALSE(write_batch_of(*writer, 4, kPayloadBytes, &failed).ok());
  writer.reset();
  const ReadResult read = read_log(env);
  ASSERT_TRUE(read.status.ok());
  EXPECT_EQ(read.records, committed);
}

TEST(WalFaultTest, FailedOpenLeavesNoWriter) {
  FaultEnv env(4);
  ASSERT_TRUE(env.create_dir(kWalDir).ok());
  env.fail_once(FaultOp::kSync, EIO);
  std::unique_ptr<WalWriter> writer;
  const Status status = WalWriter::open(env, kWalDir, 1, {}, &writer);
  EXPECT_TRUE(status.is_io_error());
  EXPECT_EQ(writer, nullptr);
}

}  // namespace
}  // namespace smsx::persistence::testing

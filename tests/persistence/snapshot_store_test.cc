#include "persistence/snapshot_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>

#include "core/assert.h"
#include "persistence/file_names.h"
#include "persistence/wal_format.h"
#include "tests/persistence/fault_env_util.h"
#include "tests/persistence/wal_test_util.h"

namespace smsx::persistence::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string snapshot_path(uint64_t lsn) { return join_path(kWalDir, snapshot_file_name(lsn)); }

std::vector<uint8_t> body_for(uint64_t lsn, size_t bytes = 1000) {
  std::vector<uint8_t> body(bytes);
  for (size_t i = 0; i < bytes; ++i) body[i] = static_cast<uint8_t>(lsn + i * 3);
  return body;
}

class SnapshotStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(env_.create_dir(kWalDir).ok()); }

  std::vector<std::string> snapshot_names() {
    std::vector<NamedFile> files;
    SMSX_ASSERT(list_snapshots(env_, kWalDir, &files).ok());
    std::vector<std::string> names;
    for (const NamedFile& file : files) names.push_back(file.path);
    return names;
  }

  FaultEnv env_{9};
  SnapshotStore store_{env_, kWalDir, kWalDir};
};

TEST_F(SnapshotStoreTest, NoSnapshotIsOkAndNotFound) {
  LoadedSnapshot loaded;
  ASSERT_TRUE(store_.load_newest_valid(&loaded).ok());
  EXPECT_FALSE(loaded.found);
  EXPECT_EQ(loaded.lsn, 0u);
  EXPECT_TRUE(loaded.body().empty());
}

TEST_F(SnapshotStoreTest, WriteThenLoad) {
  ASSERT_TRUE(store_.write(42, body_for(42)).ok());
  LoadedSnapshot loaded;
  ASSERT_TRUE(store_.load_newest_valid(&loaded).ok());
  ASSERT_TRUE(loaded.found);
  EXPECT_EQ(loaded.lsn, 42u);
  EXPECT_EQ(loaded.path, snapshot_path(42));
  const std::vector<uint8_t> expected = body_for(42);
  EXPECT_TRUE(
      std::equal(loaded.body().begin(), loaded.body().end(), expected.begin(), expected.end()));
  EXPECT_EQ(env_.contents(snapshot_path(42)).size(), kSnapshotHeaderBytes + expected.size());
}

TEST_F(SnapshotStoreTest, StreamingWriterEqualsOneShot) {
  std::unique_ptr<SnapshotWriter> writer;
  ASSERT_TRUE(store_.begin(7, &writer).ok());
  const std::vector<uint8_t> body = body_for(7, 3000);
  for (size_t at = 0; at < body.size(); at += 700) {
    const size_t n = std::min<size_t>(700, body.size() - at);
    ASSERT_TRUE(writer->append(std::span(body.data() + at, n)).ok());
  }
  ASSERT_TRUE(writer->finish().ok());
  LoadedSnapshot loaded;
  ASSERT_TRUE(store_.load_newest_valid(&loaded).ok());
  EXPECT_EQ(std::vector<uint8_t>(loaded.body().begin(), loaded.body().end()), body);
}

TEST_F(SnapshotStoreTest, FinishedSnapshotSurvivesACrash) {
  ASSERT_TRUE(store_.write(5, body_for(5)).ok());
  env_.crash(CrashMode::kDropUnsynced);
  LoadedSnapshot loaded;
  ASSERT_TRUE(store_.load_newest_valid(&loaded).ok());
  EXPECT_EQ(loaded.lsn, 5u);
}

TEST_F(SnapshotStoreTest, UnfinishedSnapshotIsInvisibleAndItsFileIsRemoved) {
  ASSERT_TRUE(store_.write(5, body_for(5)).ok());
  {
    std::unique_ptr<SnapshotWriter> writer;
    ASSERT_TRUE(store_.begin(9, &writer).ok());
    ASSERT_TRUE(writer->append(body_for(9)).ok());
    EXPECT_TRUE(env_.file_exists(snapshot_path(9) + kTempSuffix));
  }  // abandoned
  EXPECT_FALSE(env_.file_exists(snapshot_path(9) + kTempSuffix));
  LoadedSnapshot loaded;
  ASSERT_TRUE(store_.load_newest_valid(&loaded).ok());
  EXPECT_EQ(loaded.lsn, 5u);
}

TEST_F(SnapshotStoreTest, CrashBeforeRenameLeavesThePreviousSnapshot) {
  ASSERT_TRUE(store_.write(5, body_for(5)).ok());
  env_.fail_once(FaultOp::kRename, EIO);
  EXPECT_TRUE(store_.write(9, body_for(9)).is_io_error());
  env_.crash(CrashMode::kTornPages);
  LoadedSnapshot loaded;
  ASSERT_TRUE(store_.load_newest_valid(&loaded).ok());
  EXPECT_EQ(loaded.lsn, 5u);
  EXPECT_TRUE(loaded.corrupt.empty());
}

TEST_F(SnapshotStoreTest, FdatasyncFailureFailsTheWrite) {
  env_.fail_once(FaultOp::kSync, EIO);
  const Status status = store_.write(3, body_for(3));
  ASSERT_TRUE(status.is_io_error());
  EXPECT_THAT(status.message(), HasSubstr(snapshot_path(3) + kTempSuffix));
  EXPECT_FALSE(env_.file_exists(snapshot_path(3)));
  EXPECT_FALSE(env_.file_exists(snapshot_path(3) + kTempSuffix));
}

TEST_F(SnapshotStoreTest, CorruptNewestFallsBackToThePrevious) {
  ASSERT_TRUE(store_.write(10, body_for(10)).ok());
  ASSERT_TRUE(store_.write(20, body_for(20)).ok());
  env_.flip_byte(snapshot_path(20), kSnapshotHeaderBytes + 100);
  LoadedSnapshot loaded;
  ASSERT_TRUE(store_.load_newest_valid(&loaded).ok());
  EXPECT_EQ(loaded.lsn, 10u);
  ASSERT_EQ(loaded.corrupt.size(), 1u);
  EXPECT_THAT(loaded.corrupt[0],
              HasSubstr(snapshot_path(20) + ": at offset 32: body CRC mismatch"));
}

TEST_F(SnapshotStoreTest, TruncatedNewestFallsBackToThePrevious) {
  ASSERT_TRUE(store_.write(10, body_for(10)).ok());
  ASSERT_TRUE(store_.write(20, body_for(20)).ok());
  std::vector<uint8_t> cut = env_.contents(snapshot_path(20));
  cut.resize(cut.size() / 2);
  env_.set_contents(snapshot_path(20), cut);
  LoadedSnapshot loaded;
  ASSERT_TRUE(store_.load_newest_valid(&loaded).ok());
  EXPECT_EQ(loaded.lsn, 10u);
  EXPECT_THAT(loaded.corrupt.at(0), HasSubstr("body bytes"));
}

TEST_F(SnapshotStoreTest, AllCorruptIsAnErrorNamingEach) {
  ASSERT_TRUE(store_.write(10, body_for(10)).ok());
  ASSERT_TRUE(store_.write(20, body_for(20)).ok());
  env_.flip_byte(snapshot_path(10), 3);  // magic
  env_.flip_byte(snapshot_path(20), 9);  // LSN, so the header CRC fails
  LoadedSnapshot loaded;
  const Status status = store_.load_newest_valid(&loaded);
  ASSERT_TRUE(status.is_corruption());
  EXPECT_THAT(status.message(),
              HasSubstr(snapshot_path(20) + ": at offset 0: header CRC mismatch"));
  EXPECT_THAT(status.message(), HasSubstr(snapshot_path(10) + ": at offset 0: bad snapshot magic"));
  EXPECT_FALSE(loaded.found);
}

TEST_F(SnapshotStoreTest, VerifyChecksAWholeFile) {
  ASSERT_TRUE(store_.write(10, body_for(10, 3 << 20)).ok());  // several verify chunks
  uint64_t lsn = 0;
  ASSERT_TRUE(store_.verify(snapshot_path(10), &lsn).ok());
  EXPECT_EQ(lsn, 10u);
  env_.flip_byte(snapshot_path(10), (3 << 20) - 1);
  EXPECT_TRUE(store_.verify(snapshot_path(10), &lsn).is_corruption());
}

TEST_F(SnapshotStoreTest, VerifyAsChecksAFileUnderAnotherNameAgainstTheLsnGiven) {
  // A snapshot received from a primary waits under its own name until it is accepted.
  ASSERT_TRUE(store_.write(10, body_for(10, 4096)).ok());
  const std::string received = join_path(kWalDir, "received-snapshot.tmp");
  ASSERT_TRUE(env_.rename_file(snapshot_path(10), received).ok());
  EXPECT_TRUE(store_.verify_as(received, 10).ok());
  EXPECT_TRUE(store_.verify_as(received, 11).is_corruption());  // another LSN's snapshot
  uint64_t lsn = 0;
  EXPECT_FALSE(store_.verify(received, &lsn).ok());  // not a snapshot file name
  env_.flip_byte(received, 4000);
  EXPECT_TRUE(store_.verify_as(received, 10).is_corruption());
}

TEST_F(SnapshotStoreTest, PruneKeepsTheNewestTwo) {
  for (const uint64_t lsn : {10, 20, 30, 40}) ASSERT_TRUE(store_.write(lsn, body_for(lsn)).ok());
  ASSERT_TRUE(env_.write_file_durably(snapshot_path(50) + kTempSuffix, body_for(50)).ok());
  ASSERT_TRUE(store_.prune().ok());
  EXPECT_THAT(snapshot_names(), ElementsAre(snapshot_path(30), snapshot_path(40)));
  EXPECT_FALSE(env_.file_exists(snapshot_path(50) + kTempSuffix));
}

// Segments whose records are all <= the OLDER kept snapshot go; the rest stay, so a
// fallback to that snapshot can still replay.
TEST_F(SnapshotStoreTest, PruneDeletesSegmentsCoveredByTheOlderKeptSnapshot) {
  auto writer = open_writer(env_, 1, kSegmentHeaderBytes + 5 * (kRecordHeaderBytes + 10));
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(write_batch_of(*writer, 5, 10, nullptr).ok());
  // Segments hold LSNs 1-5, 6-10, 11-15, 16-20, 21-25, 26-30.
  ASSERT_EQ(segment_paths(env_).size(), 6u);
  ASSERT_TRUE(store_.write(12, body_for(12)).ok());
  ASSERT_TRUE(store_.prune().ok());
  EXPECT_EQ(segment_paths(env_).size(), 6u);  // one snapshot: nothing to fall back to yet
  ASSERT_TRUE(store_.write(22, body_for(22)).ok());
  std::vector<std::string> deleted;
  ASSERT_TRUE(store_.prune(&deleted).ok());
  EXPECT_THAT(deleted, ElementsAre(join_path(kWalDir, segment_file_name(1)),
                                   join_path(kWalDir, segment_file_name(6))));
  // Fallback: the newest is corrupt, the older one at 12 replays from LSN 13.
  env_.flip_byte(snapshot_path(22), kSnapshotHeaderBytes);
  LoadedSnapshot loaded;
  ASSERT_TRUE(store_.load_newest_valid(&loaded).ok());
  ASSERT_EQ(loaded.lsn, 12u);
  const ReadResult read = read_log(env_, kWalDir, loaded.lsn + 1);
  ASSERT_TRUE(read.status.ok()) << read.status.to_string();
  EXPECT_EQ(read.records.front().lsn, 13u);
  EXPECT_EQ(read.last_lsn, 30u);
}

TEST_F(SnapshotStoreTest, PruneNeverDeletesTheLastSegment) {
  auto writer = open_writer(env_);
  ASSERT_TRUE(write_batch_of(*writer, 5, 10, nullptr).ok());
  ASSERT_TRUE(store_.write(4, body_for(4)).ok());
  ASSERT_TRUE(store_.write(5, body_for(5)).ok());
  ASSERT_TRUE(store_.prune().ok());
  EXPECT_EQ(segment_paths(env_).size(), 1u);
}

}  // namespace
}  // namespace smsx::persistence::testing

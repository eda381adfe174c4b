#include "persistence/wal_writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <thread>

#include "core/assert.h"
#include "persistence/file_names.h"
#include "persistence/posix_env.h"
#include "persistence/wal_reader.h"
#include "persistence/wal_record.h"
#include "tests/persistence/fault_env_util.h"
#include "tests/persistence/wal_test_util.h"

namespace smsx::persistence::testing {
namespace {

TEST(WalWriterTest, AppendAssignsConsecutiveLsnsWithoutIo) {
  FaultEnv env(1);
  auto writer = open_writer(env, 5);
  const uint64_t appends_before = env.append_calls();
  const uint64_t syncs_before = env.sync_calls();
  for (uint64_t expected = 5; expected < 8; ++expected) {
    uint64_t lsn = 0;
    ASSERT_TRUE(writer->append(1, std::vector<uint8_t>(10, 1), &lsn).ok());
    EXPECT_EQ(lsn, expected);
  }
  EXPECT_EQ(env.append_calls(), appends_before);
  EXPECT_EQ(env.sync_calls(), syncs_before);
  EXPECT_EQ(writer->next_lsn(), 8u);
  EXPECT_EQ(writer->durable_lsn(), 4u);
  EXPECT_EQ(writer->pending_bytes(), 3 * (kRecordHeaderBytes + 10));
}

TEST(WalWriterTest, CommitIsOneWriteAndMakesTheBatchDurable) {
  FaultEnv env(1);
  auto writer = open_writer(env);
  std::vector<Record> written;
  const uint64_t appends_before = env.append_calls();
  ASSERT_TRUE(write_batch_of(*writer, 50, 40, &written).ok());
  EXPECT_EQ(env.append_calls(), appends_before + 1);
  EXPECT_EQ(writer->durable_lsn(), 50u);
  EXPECT_EQ(writer->pending_bytes(), 0u);
  env.crash(CrashMode::kDropUnsynced);  // only synced data survives
  const ReadResult read = read_log(env);
  ASSERT_TRUE(read.status.ok()) << read.status.to_string();
  EXPECT_EQ(read.records, written);
}

TEST(WalWriterTest, EmptyCommitDoesNothing) {
  FaultEnv env(1);
  auto writer = open_writer(env);
  const uint64_t appends_before = env.append_calls();
  ASSERT_TRUE(writer->commit().ok());
  EXPECT_EQ(env.append_calls(), appends_before);
}

TEST(WalWriterTest, RecordOfPlaceOrderSizeTakes48Bytes) {
  FaultEnv env(1);
  auto writer = open_writer(env);
  ASSERT_TRUE(writer->append(1, std::vector<uint8_t>(kPlaceOrderPayloadBytesMax, 7)).ok());
  EXPECT_EQ(writer->pending_bytes(), kPlaceOrderRecordBytesMax);
}

TEST(WalWriterTest, SegmentRollover) {
  FaultEnv env(1);
  // Room for the header and 4 records of 17 + 40 bytes: the fifth rolls over.
  const uint64_t segment_bytes = kSegmentHeaderBytes + 4 * (kRecordHeaderBytes + 40);
  auto writer = open_writer(env, 1, segment_bytes);
  std::vector<Record> written;
  for (int batch = 0; batch < 10; ++batch)
    ASSERT_TRUE(write_batch_of(*writer, 2, 40, &written).ok());
  const std::vector<std::string> segments = segment_paths(env);
  ASSERT_EQ(segments.size(), 5u);
  for (size_t i = 0; i < segments.size(); ++i) {
    EXPECT_EQ(segments[i], join_path(kWalDir, segment_file_name(1 + 4 * i)));
    EXPECT_EQ(env.contents(segments[i]).size(), segment_bytes);
  }
  const ReadResult read = read_log(env);
  ASSERT_TRUE(read.status.ok()) << read.status.to_string();
  EXPECT_EQ(read.records, written);
}

TEST(WalWriterTest, OversizedBatchGetsASegmentOfItsOwn) {
  FaultEnv env(1);
  auto writer = open_writer(env, 1, 200);
  std::vector<Record> written;
  ASSERT_TRUE(write_batch_of(*writer, 1, 10, &written).ok());
  ASSERT_TRUE(write_batch_of(*writer, 10, 40, &written).ok());  // 570 bytes > 200
  ASSERT_TRUE(write_batch_of(*writer, 1, 10, &written).ok());
  EXPECT_EQ(segment_paths(env).size(), 3u);
  EXPECT_EQ(read_log(env).records, written);
}

TEST(WalWriterTest, NewSegmentIsSyncedWithItsFolder) {
  FaultEnv env(1);
  auto writer = open_writer(env, 1, 100);
  std::vector<Record> written;
  ASSERT_TRUE(write_batch_of(*writer, 1, 40, &written).ok());
  ASSERT_TRUE(write_batch_of(*writer, 1, 40, &written).ok());  // rolls to segment 2
  env.crash(CrashMode::kDropUnsynced);  // no unsynced folder entry survives this
  EXPECT_EQ(segment_paths(env).size(), 2u);
  EXPECT_EQ(read_log(env).records, written);
}

TEST(WalWriterTest, ReopenContinuesInANewSegment) {
  FaultEnv env(1);
  std::vector<Record> written;
  {
    auto writer = open_writer(env);
    ASSERT_TRUE(write_batch_of(*writer, 3, 40, &written).ok());
  }
  const ReadResult first = read_log(env);
  ASSERT_TRUE(first.status.ok());
  auto writer = open_writer(env, first.last_lsn + 1);
  ASSERT_TRUE(write_batch_of(*writer, 3, 40, &written).ok());
  EXPECT_EQ(segment_paths(env).size(), 2u);
  EXPECT_EQ(read_log(env).records, written);
}

TEST(WalWriterTest, OpenRecreatesAnEmptySegmentButNeverOneWithRecords) {
  FaultEnv env(1);
  { auto writer = open_writer(env, 7); }  // crash right after creation: header only
  std::unique_ptr<WalWriter> writer;
  ASSERT_TRUE(WalWriter::open(env, kWalDir, 7, {}, &writer).ok());
  ASSERT_TRUE(write_batch_of(*writer, 1, 8, nullptr).ok());
  writer.reset();
  const Status clobber = WalWriter::open(env, kWalDir, 7, {}, &writer);
  EXPECT_EQ(clobber.code(), Status::Code::kInvalidArgument) << clobber.to_string();
  const Status behind = WalWriter::open(env, kWalDir, 3, {}, &writer);
  EXPECT_EQ(behind.code(), Status::Code::kInvalidArgument) << behind.to_string();
}

TEST(WalWriterTest, DurabilityNoneNeverSyncs) {
  FaultEnv env(1);
  ASSERT_TRUE(env.create_dir(kWalDir).ok());
  WalWriterOptions options;
  options.durability = Durability::kNone;
  options.segment_bytes_max = 300;
  std::unique_ptr<WalWriter> writer;
  ASSERT_TRUE(WalWriter::open(env, kWalDir, 1, options, &writer).ok());
  std::vector<Record> written;
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(write_batch_of(*writer, 3, 40, &written).ok());
  EXPECT_EQ(env.sync_calls(), 0u);
  EXPECT_EQ(writer->durable_lsn(), 15u);  // "written", the only promise kNone makes
  EXPECT_EQ(read_log(env).records, written);
}

// The split for a helper thread: the loop fills the next batch while another thread
// writes the previous one.
TEST(WalWriterTest, BatchesCanBeWrittenOnAnotherThread) {
  FaultEnv env(1);
  auto writer = open_writer(env);
  std::vector<Record> written;
  WalBatch in_flight;
  for (int round = 0; round < 20; ++round) {
    for (int i = 0; i < 5; ++i) {
      const Record record = test_record(writer->next_lsn(), 30);
      ASSERT_TRUE(writer->append(record.type, record.payload).ok());
      written.push_back(record);
    }
    WalBatch batch = writer->take_batch();
    Status status;
    std::thread io([&] { status = writer->write_batch(batch); });
    io.join();
    ASSERT_TRUE(status.ok()) << status.to_string();
    EXPECT_EQ(writer->durable_lsn(), batch.last_lsn);
    writer->recycle_batch(std::move(batch));
  }
  EXPECT_EQ(read_log(env).records, written);
}

std::unique_ptr<WalWriter> open_preallocated(Env& env, uint64_t next_lsn, uint64_t segment_bytes,
                                             Preallocation preallocation,
                                             const std::string& dir = kWalDir) {
  SMSX_ASSERT(env.create_dir(dir).ok());
  WalWriterOptions options;
  options.segment_bytes_max = segment_bytes;
  options.preallocation = preallocation;
  std::unique_ptr<WalWriter> writer;
  const Status status = WalWriter::open(env, dir, next_lsn, options, &writer);
  EXPECT_TRUE(status.ok()) << status.to_string();
  return writer;
}

// Each segment is full size from its creation and zero after its last record; the reader
// ends each one at its zeros and goes on with the next.
TEST(WalWriterTest, PreallocatedSegmentsAreFullSizeAndReadBackWhole) {
  FaultEnv env(1);
  const uint64_t segment_bytes = kSegmentHeaderBytes + 4 * (kRecordHeaderBytes + 40) + 30;
  auto writer = open_preallocated(env, 1, segment_bytes, Preallocation::kInline);
  std::vector<Record> written;
  ASSERT_EQ(env.contents(segment_paths(env).front()).size(), segment_bytes);
  for (int batch = 0; batch < 10; ++batch) {
    ASSERT_TRUE(write_batch_of(*writer, 2, 40, &written).ok());
  }
  const std::vector<std::string> segments = segment_paths(env);
  ASSERT_EQ(segments.size(), 5u);
  for (const std::string& segment : segments) {
    const std::vector<uint8_t> contents = env.contents(segment);
    EXPECT_EQ(contents.size(), segment_bytes);
    EXPECT_TRUE(std::all_of(contents.end() - 30, contents.end(), [](uint8_t b) { return b == 0; }));
  }
  const ReadResult read = read_log(env);
  ASSERT_TRUE(read.status.ok()) << read.status.to_string();
  EXPECT_EQ(read.records, written);
  EXPECT_FALSE(read.torn_tail.has_value());  // zeros are the end, not damage
  uint64_t first_lsn = 0;
  uint32_t version = 0;
  ASSERT_EQ(check_segment_header(env.contents(segments.front()).data(), &first_lsn, &version),
            SegmentHeaderCheck::kOk);
  EXPECT_EQ(version, kSegmentVersionPreallocated);
  // Each write's first record is marked as such (two records per write here).
  const std::vector<uint8_t> contents = env.contents(segments.front());
  std::span<const uint8_t> rest(contents.data() + kSegmentHeaderBytes,
                                contents.size() - kSegmentHeaderBytes);
  for (int i = 0; i < 4; ++i) {
    WalRecord record;
    size_t bytes = 0;
    ASSERT_EQ(check_record(rest, &record, &bytes), RecordCheck::kIntact);
    EXPECT_EQ(record.batch_start, i % 2 == 0) << "record " << record.lsn;
    rest = rest.subspan(bytes);
  }
}

// A crash before the first record leaves a segment of zeros after its header: it holds no
// record, so it may be recreated; once it has one, never.
TEST(WalWriterTest, OpenRecreatesAnEmptyPreallocatedSegmentButNeverOneWithRecords) {
  FaultEnv env(1);
  { auto writer = open_preallocated(env, 7, 4096, Preallocation::kInline); }
  ASSERT_EQ(env.contents(segment_paths(env).front()).size(), 4096u);
  auto writer = open_preallocated(env, 7, 4096, Preallocation::kInline);
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(write_batch_of(*writer, 1, 8, nullptr).ok());
  writer.reset();
  WalWriterOptions options;
  options.segment_bytes_max = 4096;
  options.preallocation = Preallocation::kInline;
  const Status clobber = WalWriter::open(env, kWalDir, 7, options, &writer);
  EXPECT_EQ(clobber.code(), Status::Code::kInvalidArgument) << clobber.to_string();
}

// On the real file system with the helper thread: the next segment is waiting as the spare
// while the current one fills, and a spare left by a previous run is replaced.
TEST(WalWriterTest, BackgroundPreallocationKeepsTheNextSegmentReady) {
  char name[] = "/tmp/smsx-wal-prealloc-XXXXXX";
  ASSERT_NE(::mkdtemp(name), nullptr);
  const std::string dir = name;
  PosixEnv env;
  const std::string spare = join_path(dir, kSpareSegmentName);
  ASSERT_TRUE(env.write_file_durably(spare, std::vector<uint8_t>{1, 2, 3}).ok());
  const uint64_t segment_bytes = 16 * 1024;
  std::vector<Record> written;
  {
    auto writer = open_preallocated(env, 1, segment_bytes, Preallocation::kBackground, dir);
    for (int batch = 0; batch < 40; ++batch) {
      ASSERT_TRUE(write_batch_of(*writer, 20, 100, &written).ok());
    }
  }  // the destructor waits for the helper
  uint64_t bytes = 0;
  ASSERT_TRUE(env.file_size(spare, &bytes).ok());
  EXPECT_EQ(bytes, segment_bytes);
  std::vector<uint8_t> contents;
  ASSERT_TRUE(env.read_file(spare, &contents).ok());
  EXPECT_TRUE(std::all_of(contents.begin(), contents.end(), [](uint8_t b) { return b == 0; }));
  const std::vector<std::string> segments = segment_paths(env, dir);
  EXPECT_EQ(segments.size(), 7u);  // 6 batches of 20 records of 117 bytes per 16 KiB
  for (const std::string& segment : segments) {
    ASSERT_TRUE(env.file_size(segment, &bytes).ok());
    EXPECT_EQ(bytes, segment_bytes) << segment;
  }
  const ReadResult read = read_log(env, dir);
  ASSERT_TRUE(read.status.ok()) << read.status.to_string();
  EXPECT_EQ(read.records, written);
  std::filesystem::remove_all(dir);
}

// A process that died between a commit's write() and its fdatasync() leaves the batch in
// the page cache; recovery reads it and the writer goes on after it. The writer syncs it
// before anything after it is acknowledged, so a later power loss cannot tear a segment
// that is no longer the last.
TEST(WalWriterTest, OpenMakesTheRecoveredTailDurable) {
  FaultEnv env(1);
  std::vector<Record> written;
  {
    auto writer = open_writer(env);
    ASSERT_TRUE(write_batch_of(*writer, 3, 40, &written).ok());
    env.kill_after(1);  // the write goes through; the process dies in the fdatasync
    EXPECT_FALSE(write_batch_of(*writer, 3, 40, &written).ok());
  }
  env.restart_process();
  const ReadResult recovered = read_log(env);
  ASSERT_TRUE(recovered.status.ok()) << recovered.status.to_string();
  ASSERT_EQ(recovered.records, written);  // the page cache still has the failed batch
  auto writer = open_writer(env, recovered.last_lsn + 1);
  ASSERT_TRUE(write_batch_of(*writer, 3, 40, &written).ok());  // acknowledged
  writer.reset();
  env.crash(CrashMode::kDropUnsynced);
  const ReadResult after = read_log(env);
  ASSERT_TRUE(after.status.ok()) << after.status.to_string();
  EXPECT_EQ(after.records, written);
}

// The CRC a preallocating writer reports for its last record is the one a standby reads
// back from its own log (without the write-start mark), so the two nodes compare equal.
TEST(WalWriterTest, LastAppendedCrcLeavesOutTheWriteStartMark) {
  FaultEnv env(1);
  auto writer = open_preallocated(env, 1, 4096, Preallocation::kInline);
  ASSERT_TRUE(write_batch_of(*writer, 1, 30, nullptr).ok());  // one record: marked
  std::optional<uint32_t> on_disk;
  ASSERT_TRUE(read_record_crc(env, kWalDir, 1, &on_disk).ok());
  ASSERT_TRUE(on_disk.has_value());
  EXPECT_EQ(writer->last_appended_crc(), on_disk);
}

TEST(WalWriterDeathTest, ReservedTypeIsABug) {
  FaultEnv env(1);
  auto writer = open_writer(env);
  EXPECT_DEATH((void)writer->append(kRecordTypeReserved, {}), "type != kRecordTypeReserved");
}

TEST(WalWriterDeathTest, BatchesOutOfOrderAreABug) {
  FaultEnv env(1);
  auto writer = open_writer(env);
  ASSERT_TRUE(writer->append(1, {}).ok());
  WalBatch first = writer->take_batch();
  ASSERT_TRUE(writer->append(1, {}).ok());
  WalBatch second = writer->take_batch();
  EXPECT_DEATH((void)writer->write_batch(second), "batch.first_lsn == io_next_lsn_");
}

}  // namespace
}  // namespace smsx::persistence::testing

// One test per recovery rule of the WAL reader (docs/wal_format.md, "Recovery").
#include "persistence/wal_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "persistence/coding.h"
#include "persistence/file_names.h"
#include "tests/persistence/fault_env_util.h"
#include "tests/persistence/wal_test_util.h"

namespace smsx::persistence::testing {
namespace {

using ::testing::HasSubstr;

constexpr size_t kPayloadBytes = 20;
constexpr size_t kRecordBytes = kRecordHeaderBytes + kPayloadBytes;

std::string segment_path(uint64_t first_lsn) {
  return join_path(kWalDir, segment_file_name(first_lsn));
}

// Offset of the index-th record of a segment of kPayloadBytes records.
uint64_t offset_of(size_t index) { return kSegmentHeaderBytes + index * kRecordBytes; }

std::vector<Record> records(uint64_t first_lsn, size_t count) {
  std::vector<Record> result;
  for (size_t i = 0; i < count; ++i) result.push_back(test_record(first_lsn + i, kPayloadBytes));
  return result;
}

std::vector<uint8_t> segment_image(uint64_t first_lsn, const std::vector<Record>& contents,
                                   uint32_t version = kSegmentVersion) {
  uint8_t header[kSegmentHeaderBytes];
  encode_segment_header(first_lsn, header, version);
  std::vector<uint8_t> image(header, header + kSegmentHeaderBytes);
  for (const Record& record : contents) {
    append_record(&image, record.lsn, record.type, record.payload);
  }
  return image;
}

class WalReaderTest : public ::testing::Test {
 protected:
  void put(uint64_t first_lsn, std::vector<uint8_t> image) {
    env_.set_contents(segment_path(first_lsn), std::move(image));
  }
  void put_records(uint64_t first_lsn, const std::vector<Record>& contents) {
    put(first_lsn, segment_image(first_lsn, contents));
  }
  uint64_t size_of(uint64_t first_lsn) { return env_.contents(segment_path(first_lsn)).size(); }

  FaultEnv env_{42};
};

TEST_F(WalReaderTest, ReadsEveryRecordInOrderAcrossSegments) {
  put_records(1, records(1, 3));
  put_records(4, records(4, 2));
  put_records(6, records(6, 4));
  const ReadResult read = read_log(env_);
  ASSERT_TRUE(read.status.ok()) << read.status.to_string();
  EXPECT_EQ(read.records, records(1, 9));
  EXPECT_EQ(read.last_lsn, 9u);
  EXPECT_FALSE(read.torn_tail.has_value());
}

TEST_F(WalReaderTest, NoSegmentsIsAnEmptyLog) {
  ASSERT_TRUE(env_.create_dir(kWalDir).ok());
  const ReadResult read = read_log(env_, kWalDir, 8);
  ASSERT_TRUE(read.status.ok());
  EXPECT_TRUE(read.records.empty());
  EXPECT_EQ(read.last_lsn, 7u);
}

TEST_F(WalReaderTest, FromLsnSkipsEarlierRecordsAndDoesNotReadEarlierSegments) {
  std::vector<uint8_t> damaged = segment_image(1, records(1, 3));
  damaged[offset_of(1) + kRecordHeaderBytes] ^= 1;  // never read: all of it is before LSN 5
  put(1, damaged);
  put_records(4, records(4, 4));
  const ReadResult read = read_log(env_, kWalDir, 5);
  ASSERT_TRUE(read.status.ok()) << read.status.to_string();
  EXPECT_EQ(read.records, records(5, 3));
  EXPECT_EQ(read.last_lsn, 7u);
}

TEST_F(WalReaderTest, LogEndingExactlyBeforeFromLsnIsFine) {
  put_records(1, records(1, 3));
  const ReadResult read = read_log(env_, kWalDir, 4);
  ASSERT_TRUE(read.status.ok()) << read.status.to_string();
  EXPECT_TRUE(read.records.empty());
  EXPECT_EQ(read.last_lsn, 3u);
}

// Rule: a record cut anywhere (header or payload) at the end of the last segment is a
// clean end; the file is truncated to the last whole record and appends continue there.
TEST_F(WalReaderTest, TruncatedTailAtEveryOffsetIsACleanEnd) {
  const std::vector<uint8_t> whole = segment_image(1, records(1, 3));
  const uint64_t last_record = offset_of(2);
  for (uint64_t cut = last_record + 1; cut < whole.size(); ++cut) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    FaultEnv env(cut);
    env.set_contents(segment_path(1), std::vector<uint8_t>(whole.begin(), whole.begin() + cut));
    const ReadResult read = read_log(env);
    ASSERT_TRUE(read.status.ok()) << read.status.to_string();
    EXPECT_EQ(read.records, records(1, 2));
    ASSERT_TRUE(read.torn_tail.has_value());
    EXPECT_EQ(read.torn_tail->offset, last_record);
    EXPECT_EQ(read.torn_tail->bytes_dropped, cut - last_record);
    EXPECT_TRUE(read.torn_tail->truncated);
    EXPECT_EQ(env.contents(segment_path(1)).size(), last_record);
    // New appends follow valid data.
    auto writer = open_writer(env, read.last_lsn + 1);
    ASSERT_TRUE(write_batch_of(*writer, 1, kPayloadBytes, nullptr).ok());
    EXPECT_EQ(read_log(env).records, records(1, 3));
  }
}

TEST_F(WalReaderTest, TornHeaderIsACleanEnd) {
  const std::vector<uint8_t> whole = segment_image(1, records(1, 3));
  put(1, std::vector<uint8_t>(whole.begin(), whole.begin() + offset_of(2) + 9));
  const ReadResult read = read_log(env_);
  ASSERT_TRUE(read.status.ok()) << read.status.to_string();
  EXPECT_EQ(read.records, records(1, 2));
  ASSERT_TRUE(read.torn_tail.has_value());
  EXPECT_EQ(read.torn_tail->damage, RecordCheck::kIncompleteHeader);
  EXPECT_EQ(read.torn_tail->offset, offset_of(2));
}

TEST_F(WalReaderTest, CrcMismatchOfTheFinalRecordIsCut) {
  std::vector<uint8_t> image = segment_image(1, records(1, 3));
  image[offset_of(2) + kRecordHeaderBytes + 5] ^= 0x40;
  put(1, image);
  const ReadResult read = read_log(env_);
  ASSERT_TRUE(read.status.ok()) << read.status.to_string();
  EXPECT_EQ(read.records, records(1, 2));
  ASSERT_TRUE(read.torn_tail.has_value());
  EXPECT_EQ(read.torn_tail->damage, RecordCheck::kBadCrc);
  EXPECT_EQ(size_of(1), offset_of(2));
}

TEST_F(WalReaderTest, CrcMismatchInTheMiddleIsAnErrorNamingFileAndOffset) {
  std::vector<uint8_t> image = segment_image(1, records(1, 5));
  image[offset_of(1) + kRecordHeaderBytes + 3] ^= 0x01;
  put(1, image);
  const ReadResult read = read_log(env_);
  ASSERT_TRUE(read.status.is_corruption()) << read.status.to_string();
  EXPECT_THAT(read.status.message(),
              HasSubstr(segment_path(1) + " at offset " + std::to_string(offset_of(1))));
  EXPECT_THAT(read.status.message(), HasSubstr("CRC mismatch"));
  EXPECT_EQ(read.records, records(1, 1));  // what came before was returned, nothing after
  EXPECT_EQ(size_of(1), image.size());     // and nothing was cut
}

TEST_F(WalReaderTest, CrcMismatchInAnEarlierSegmentIsAnError) {
  std::vector<uint8_t> image = segment_image(1, records(1, 3));
  image[offset_of(2) + kRecordHeaderBytes] ^= 0x01;  // its final record
  put(1, image);
  put_records(4, records(4, 2));
  const ReadResult read = read_log(env_);
  ASSERT_TRUE(read.status.is_corruption());
  EXPECT_THAT(read.status.message(),
              HasSubstr(segment_path(1) + " at offset " + std::to_string(offset_of(2))));
  EXPECT_THAT(read.status.message(), HasSubstr("not the last"));
}

TEST_F(WalReaderTest, TruncatedRecordInAnEarlierSegmentIsAnError) {
  const std::vector<uint8_t> whole = segment_image(1, records(1, 3));
  put(1, std::vector<uint8_t>(whole.begin(), whole.end() - 4));
  put_records(3, records(3, 2));
  const ReadResult read = read_log(env_);
  ASSERT_TRUE(read.status.is_corruption());
  EXPECT_THAT(read.status.message(), HasSubstr("incomplete record payload"));
}

// A damaged length makes a mid-log record look like it runs to the end of the file; the
// intact records after it show that it is not a torn tail.
TEST_F(WalReaderTest, DamagedLengthWithIntactRecordsAfterIsAnError) {
  std::vector<uint8_t> image = segment_image(1, records(1, 6));
  encode_u32(image.data() + offset_of(1) + kRecordLengthOffset, 4000);
  put(1, image);
  const ReadResult read = read_log(env_);
  ASSERT_TRUE(read.status.is_corruption()) << read.status.to_string();
  EXPECT_THAT(read.status.message(),
              HasSubstr("intact record follows at offset " + std::to_string(offset_of(2))));
  EXPECT_EQ(size_of(1), image.size());
}

TEST_F(WalReaderTest, BadCrcFollowedByNonZeroBytesIsAnError) {
  std::vector<uint8_t> image = segment_image(1, records(1, 3));
  image[offset_of(2) + kRecordHeaderBytes] ^= 0x01;
  image.insert(image.end(), 7, 0xab);
  put(1, image);
  const ReadResult read = read_log(env_);
  ASSERT_TRUE(read.status.is_corruption()) << read.status.to_string();
  EXPECT_THAT(read.status.message(), HasSubstr("followed by non-zero bytes"));
}

// In an appended segment, zeros after the last record are where the file grew but the data
// never reached the disk: a torn tail, cut off.
TEST_F(WalReaderTest, ZeroFilledTailOfAnAppendedSegmentIsCut) {
  std::vector<uint8_t> image = segment_image(1, records(1, 3));
  const size_t valid = image.size();
  image.insert(image.end(), 4096, 0);
  put(1, image);
  const ReadResult read = read_log(env_);
  ASSERT_TRUE(read.status.ok()) << read.status.to_string();
  EXPECT_EQ(read.records, records(1, 3));
  ASSERT_TRUE(read.torn_tail.has_value());
  EXPECT_EQ(read.torn_tail->offset, valid);
  EXPECT_EQ(size_of(1), valid);
}

// In a preallocated segment, zeros after the last record are its unused part: the end of
// the log, nothing torn and nothing cut.
TEST_F(WalReaderTest, ZerosAfterTheLastRecordOfAPreallocatedSegmentEndTheLog) {
  std::vector<uint8_t> image = segment_image(1, records(1, 3), kSegmentVersionPreallocated);
  image.insert(image.end(), 4096, 0);
  put(1, image);
  const ReadResult read = read_log(env_);
  ASSERT_TRUE(read.status.ok()) << read.status.to_string();
  EXPECT_EQ(read.records, records(1, 3));
  EXPECT_EQ(read.last_lsn, 3u);
  EXPECT_FALSE(read.torn_tail.has_value());
  EXPECT_EQ(size_of(1), image.size());
}

TEST_F(WalReaderTest, APreallocatedSegmentEndingInZerosIsFollowedByTheNextOne) {
  std::vector<uint8_t> first = segment_image(1, records(1, 3), kSegmentVersionPreallocated);
  first.insert(first.end(), 1000, 0);
  put(1, first);
  put(4, segment_image(4, records(4, 3)));
  const ReadResult read = read_log(env_);
  ASSERT_TRUE(read.status.ok()) << read.status.to_string();
  EXPECT_EQ(read.records, records(1, 6));
}

// Only a preallocated segment may end in zeros: in an appended one that is not the last,
// they are damage.
TEST_F(WalReaderTest, AnAppendedSegmentEndingInZerosBeforeTheLastIsAnError) {
  std::vector<uint8_t> first = segment_image(1, records(1, 3));
  first.insert(first.end(), 1000, 0);
  put(1, first);
  put(4, segment_image(4, records(4, 3)));
  const ReadResult read = read_log(env_);
  EXPECT_EQ(read.status.code(), Status::Code::kCorruption) << read.status.to_string();
}

// Zeros where records were lost in an earlier segment are not taken for its end: the next
// segment does not start at the next LSN.
TEST_F(WalReaderTest, ZerosWhereRecordsWereLostInAnEarlierSegmentAreAGap) {
  std::vector<uint8_t> first = segment_image(1, records(1, 3), kSegmentVersionPreallocated);
  std::fill(first.begin() + static_cast<ptrdiff_t>(offset_of(2)), first.end(), 0);  // LSN 3
  first.insert(first.end(), 1000, 0);
  put(1, first);
  put(4, segment_image(4, records(4, 3)));
  const ReadResult read = read_log(env_);
  EXPECT_EQ(read.status.code(), Status::Code::kCorruption);
  EXPECT_NE(read.status.to_string().find("gap"), std::string::npos) << read.status.to_string();
}

// A preallocated segment's image: `contents` written as writes that begin at the LSNs in
// `write_starts` (kRecordBatchStartFlag on those records), then `zeros` zero bytes.
std::vector<uint8_t> preallocated_image(uint64_t first_lsn, const std::vector<Record>& contents,
                                        const std::vector<uint64_t>& write_starts, size_t zeros) {
  uint8_t header[kSegmentHeaderBytes];
  encode_segment_header(first_lsn, header, kSegmentVersionPreallocated);
  std::vector<uint8_t> image(header, header + kSegmentHeaderBytes);
  for (const Record& record : contents) {
    const bool starts =
        std::find(write_starts.begin(), write_starts.end(), record.lsn) != write_starts.end();
    append_record(&image, record.lsn, record.type, record.payload, starts);
  }
  image.insert(image.end(), zeros, 0);
  return image;
}

// After a power loss the last write's pages may have reached the disk in any order: a page
// of it lost while a later one of the same write survived is that write's torn tail.
TEST_F(WalReaderTest, AHoleInTheLastWriteOfAPreallocatedSegmentIsCut) {
  // Writes: LSN 1, then LSNs 2-4 (the last, unsynced); LSN 3's bytes never arrived.
  std::vector<uint8_t> image = preallocated_image(1, records(1, 4), {1, 2}, 4096);
  std::fill(image.begin() + static_cast<ptrdiff_t>(offset_of(2)),
            image.begin() + static_cast<ptrdiff_t>(offset_of(3)), 0);
  put(1, image);
  const ReadResult read = read_log(env_);
  ASSERT_TRUE(read.status.ok()) << read.status.to_string();
  EXPECT_EQ(read.records, records(1, 2));
  ASSERT_TRUE(read.torn_tail.has_value());
  EXPECT_EQ(read.torn_tail->offset, offset_of(2));
}

// ... but when an intact record after the damage starts a write, the damaged write was
// synced before it began: damage, never cut.
TEST_F(WalReaderTest, AHoleBeforeARecordThatStartsALaterWriteStopsRecovery) {
  // Writes: LSNs 1-2, then LSNs 3-4; LSN 2 (synced before LSN 3 was written) is lost.
  std::vector<uint8_t> image = preallocated_image(1, records(1, 4), {1, 3}, 4096);
  std::fill(image.begin() + static_cast<ptrdiff_t>(offset_of(1)),
            image.begin() + static_cast<ptrdiff_t>(offset_of(2)), 0);
  put(1, image);
  const ReadResult read = read_log(env_);
  EXPECT_EQ(read.status.code(), Status::Code::kCorruption) << read.status.to_string();
  EXPECT_NE(read.status.to_string().find("of a later write follows"), std::string::npos)
      << read.status.to_string();
}

// In an appended segment any intact record after damage is proof of damage.
TEST_F(WalReaderTest, AHoleBeforeAnIntactRecordOfAnAppendedSegmentStopsRecovery) {
  std::vector<uint8_t> image = segment_image(1, records(1, 3));
  std::fill(image.begin() + static_cast<ptrdiff_t>(offset_of(1)),
            image.begin() + static_cast<ptrdiff_t>(offset_of(2)), 0);
  put(1, image);
  const ReadResult read = read_log(env_);
  EXPECT_EQ(read.status.code(), Status::Code::kCorruption) << read.status.to_string();
}

// A torn record in a preallocated segment: damage followed by zeros is cut as before.
TEST_F(WalReaderTest, ATornRecordBeforeZerosIsCut) {
  std::vector<uint8_t> image = segment_image(1, records(1, 3), kSegmentVersionPreallocated);
  const size_t third = offset_of(2);
  std::fill(image.begin() + static_cast<ptrdiff_t>(third) + kRecordHeaderBytes + 2, image.end(), 0);
  image.insert(image.end(), 4096, 0);
  put(1, image);
  const ReadResult read = read_log(env_);
  ASSERT_TRUE(read.status.ok()) << read.status.to_string();
  EXPECT_EQ(read.records, records(1, 2));
  ASSERT_TRUE(read.torn_tail.has_value());
  EXPECT_EQ(read.torn_tail->offset, third);
  EXPECT_EQ(size_of(1), third);
}

TEST_F(WalReaderTest, LengthAboveTheMaximumAtTheTailIsCut) {
  std::vector<uint8_t> image = segment_image(1, records(1, 3));
  encode_u32(image.data() + offset_of(2) + kRecordLengthOffset, kRecordPayloadBytesMax + 1);
  put(1, image);
  const ReadResult read = read_log(env_);
  ASSERT_TRUE(read.status.ok()) << read.status.to_string();
  EXPECT_EQ(read.records, records(1, 2));
  EXPECT_EQ(read.torn_tail->damage, RecordCheck::kLengthTooLarge);
}

TEST_F(WalReaderTest, UnknownTypeIsAnError) {
  std::vector<Record> contents = records(1, 4);
  contents[2].type = 200;
  put_records(1, contents);
  const ReadResult read = read_log(env_);
  ASSERT_TRUE(read.status.is_corruption());
  EXPECT_THAT(read.status.message(),
              HasSubstr(segment_path(1) + " at offset " + std::to_string(offset_of(2)) +
                        ": unknown record type 200 at LSN 3"));
}

TEST_F(WalReaderTest, UnknownTypeOfTheFinalRecordIsStillAnError) {
  std::vector<Record> contents = records(1, 3);
  contents[2].type = 77;  // intact, so not a torn write
  put_records(1, contents);
  const ReadResult read = read_log(env_);
  ASSERT_TRUE(read.status.is_corruption());
  EXPECT_THAT(read.status.message(), HasSubstr("unknown record type 77"));
}

TEST_F(WalReaderTest, LsnGapWithinASegmentIsAnError) {
  std::vector<Record> contents = records(1, 4);
  contents[3].lsn = 5;
  put_records(1, contents);
  const ReadResult read = read_log(env_);
  ASSERT_TRUE(read.status.is_corruption());
  EXPECT_THAT(read.status.message(),
              HasSubstr(segment_path(1) + " at offset " + std::to_string(offset_of(3)) +
                        ": LSN 5 after a gap, expected LSN 4"));
}

TEST_F(WalReaderTest, LsnOutOfOrderIsAnError) {
  std::vector<Record> contents = records(1, 4);
  contents[3].lsn = 2;
  put_records(1, contents);
  const ReadResult read = read_log(env_);
  ASSERT_TRUE(read.status.is_corruption());
  EXPECT_THAT(read.status.message(), HasSubstr("LSN 2 out of order, expected LSN 4"));
}

TEST_F(WalReaderTest, LsnGapBetweenSegmentsIsAnError) {
  put_records(1, records(1, 3));
  put_records(5, records(5, 2));
  const ReadResult read = read_log(env_);
  ASSERT_TRUE(read.status.is_corruption());
  EXPECT_THAT(read.status.message(), HasSubstr("LSN gap between segments: " + segment_path(5) +
                                               " starts at LSN 5, expected LSN 4"));
  EXPECT_EQ(read.records, records(1, 3));
}

TEST_F(WalReaderTest, OverlappingSegmentsAreAnError) {
  put_records(1, records(1, 3));
  put_records(3, records(3, 2));
  const ReadResult read = read_log(env_);
  ASSERT_TRUE(read.status.is_corruption());
  EXPECT_THAT(read.status.message(), HasSubstr("starts at LSN 3, expected LSN 4"));
}

TEST_F(WalReaderTest, ReplayStartingBeforeTheFirstSegmentIsAGap) {
  put_records(10, records(10, 3));
  const ReadResult read = read_log(env_, kWalDir, 5);
  ASSERT_TRUE(read.status.is_corruption());
  EXPECT_THAT(read.status.message(), HasSubstr("replay starts at LSN 5"));
}

TEST_F(WalReaderTest, LogEndingBeforeFromLsnIsAnError) {
  put_records(1, records(1, 3));
  const ReadResult read = read_log(env_, kWalDir, 10);
  ASSERT_TRUE(read.status.is_corruption());
  EXPECT_THAT(read.status.message(), HasSubstr("the log ends at LSN 3"));
}

TEST_F(WalReaderTest, SegmentHeaderDisagreeingWithItsNameIsAnError) {
  put_records(1, records(1, 3));
  put(4, segment_image(3, {}));
  const ReadResult read = read_log(env_);
  ASSERT_TRUE(read.status.is_corruption());
  EXPECT_THAT(read.status.message(), HasSubstr("header says first LSN 3, the name says 4"));
}

TEST_F(WalReaderTest, BadSegmentMagicIsAnError) {
  std::vector<uint8_t> image = segment_image(1, records(1, 3));
  image[0] ^= 0xff;
  put(1, image);
  const ReadResult read = read_log(env_);
  ASSERT_TRUE(read.status.is_corruption());
  EXPECT_THAT(read.status.message(),
              HasSubstr(segment_path(1) + " at offset 0: bad segment magic"));
}

// Rule: a last segment without records is fine, whatever a crash during its creation left.
TEST_F(WalReaderTest, EmptySegmentWithOnlyAHeaderIsFine) {
  put_records(1, records(1, 3));
  put(4, segment_image(4, {}));
  const ReadResult read = read_log(env_);
  ASSERT_TRUE(read.status.ok()) << read.status.to_string();
  EXPECT_EQ(read.records, records(1, 3));
  EXPECT_EQ(read.last_lsn, 3u);
  EXPECT_FALSE(read.torn_tail.has_value());
}

TEST_F(WalReaderTest, ZeroLengthLastSegmentIsFine) {
  put_records(1, records(1, 3));
  put(4, {});
  const ReadResult read = read_log(env_);
  ASSERT_TRUE(read.status.ok()) << read.status.to_string();
  EXPECT_EQ(read.last_lsn, 3u);
  auto writer = open_writer(env_, 4);  // recreates it
  ASSERT_TRUE(write_batch_of(*writer, 2, kPayloadBytes, nullptr).ok());
  EXPECT_EQ(read_log(env_).records, records(1, 5));
}

TEST_F(WalReaderTest, TornSegmentHeaderIsAnEmptySegment) {
  put_records(1, records(1, 3));
  std::vector<uint8_t> header = segment_image(4, {});
  header.resize(11);
  header.resize(64, 0);  // size grew, the rest never written
  put(4, header);
  const ReadResult read = read_log(env_);
  ASSERT_TRUE(read.status.ok()) << read.status.to_string();
  EXPECT_EQ(read.last_lsn, 3u);
}

TEST_F(WalReaderTest, EmptySegmentBeforeAnotherIsAGap) {
  put_records(1, records(1, 3));
  put(4, segment_image(4, {}));
  put_records(5, records(5, 2));
  const ReadResult read = read_log(env_);
  ASSERT_TRUE(read.status.is_corruption());
  EXPECT_THAT(read.status.message(),
              HasSubstr(segment_path(5) + " starts at LSN 5, expected LSN 4"));
}

TEST_F(WalReaderTest, ReadOnlyModeReportsATornTailWithoutCutting) {
  std::vector<uint8_t> image = segment_image(1, records(1, 3));
  image.resize(image.size() - 3);
  put(1, image);
  const ReadResult read = read_log(env_, kWalDir, 1, WalReaderOptions{.truncate_torn_tail = false});
  ASSERT_TRUE(read.status.ok());
  ASSERT_TRUE(read.torn_tail.has_value());
  EXPECT_FALSE(read.torn_tail->truncated);
  EXPECT_EQ(size_of(1), image.size());
}

TEST_F(WalReaderTest, FailedTruncationIsAnError) {
  std::vector<uint8_t> image = segment_image(1, records(1, 3));
  image.resize(image.size() - 3);
  put(1, image);
  env_.fail_once(FaultOp::kTruncate, EIO);
  const ReadResult read = read_log(env_);
  ASSERT_TRUE(read.status.is_io_error());
  EXPECT_THAT(read.status.message(), HasSubstr(segment_path(1)));
}

}  // namespace

// ---- read_record_crc (replication compares a standby's last record with the primary's) ----

namespace {

uint32_t crc_field_at(const std::vector<uint8_t>& image, uint64_t offset) {
  return decode_u32(image.data() + offset + kRecordCrcOffset);
}

}  // namespace

TEST(RecordCrcTest, IsTheCrcFieldAppendRecordWritesAndDependsOnEveryPart) {
  const Record r = test_record(7, kPayloadBytes);
  std::vector<uint8_t> out;
  EXPECT_EQ(append_record(&out, r.lsn, r.type, r.payload), record_crc(r.lsn, r.type, r.payload));
  EXPECT_EQ(crc_field_at(out, 0), record_crc(r.lsn, r.type, r.payload));
  std::vector<uint8_t> other_payload = r.payload;
  other_payload.back() ^= 1;
  EXPECT_NE(record_crc(r.lsn, r.type, other_payload), record_crc(r.lsn, r.type, r.payload));
  EXPECT_NE(record_crc(r.lsn + 1, r.type, r.payload), record_crc(r.lsn, r.type, r.payload));
  EXPECT_NE(record_crc(r.lsn, r.type + 1, r.payload), record_crc(r.lsn, r.type, r.payload));
}

TEST_F(WalReaderTest, ReadRecordCrcFindsEachRecordAndLeavesATornTailInPlace) {
  const std::vector<uint8_t> first = segment_image(1, records(1, 3));
  std::vector<uint8_t> second = segment_image(4, records(4, 3));
  second.resize(second.size() - 5);  // the last record (LSN 6) is torn
  put(1, first);
  put(4, second);
  for (uint64_t lsn = 1; lsn <= 5; ++lsn) {
    SCOPED_TRACE("LSN " + std::to_string(lsn));
    std::optional<uint32_t> crc;
    ASSERT_TRUE(read_record_crc(env_, kWalDir, lsn, &crc).ok());
    const std::vector<uint8_t>& image = lsn < 4 ? first : second;
    ASSERT_TRUE(crc.has_value());
    EXPECT_EQ(*crc, crc_field_at(image, offset_of(lsn < 4 ? lsn - 1 : lsn - 4)));
  }
  std::optional<uint32_t> crc = 1;
  ASSERT_TRUE(read_record_crc(env_, kWalDir, 6, &crc).ok());  // torn: not in the log
  EXPECT_FALSE(crc.has_value());
  EXPECT_EQ(size_of(4), second.size());  // and not cut off: the reader only looks
}

TEST_F(WalReaderTest, ReadRecordCrcOfARecordNoSegmentHoldsIsEmpty) {
  ASSERT_TRUE(env_.create_dir(kWalDir).ok());
  std::optional<uint32_t> crc = 1;
  ASSERT_TRUE(read_record_crc(env_, kWalDir, 1, &crc).ok());  // no segment at all
  EXPECT_FALSE(crc.has_value());
  put_records(4, records(4, 2));  // LSNs 1-3 were pruned
  crc = 1;
  ASSERT_TRUE(read_record_crc(env_, kWalDir, 3, &crc).ok());
  EXPECT_FALSE(crc.has_value());
  crc = 1;
  ASSERT_TRUE(read_record_crc(env_, kWalDir, 9, &crc).ok());  // beyond the end
  EXPECT_FALSE(crc.has_value());
}

TEST_F(WalReaderTest, ReadRecordCrcReportsDamageBeforeTheRecord) {
  std::vector<uint8_t> image = segment_image(1, records(1, 3));
  image[offset_of(0) + kRecordHeaderBytes] ^= 1;  // LSN 1's payload, with records after it
  put(1, image);
  std::optional<uint32_t> crc;
  const Status st = read_record_crc(env_, kWalDir, 2, &crc);
  EXPECT_FALSE(st.ok());
  EXPECT_FALSE(crc.has_value());
}

}  // namespace smsx::persistence::testing

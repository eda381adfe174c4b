// DecodedLogReader: the log decoded on a helper thread, in batches, gives exactly the
// records a WalReader gives, across batches and segments, and stops where it must.
#include "persistence/decoded_log_reader.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "persistence/command_codec.h"
#include "tests/persistence/fault_env_util.h"
#include "tests/persistence/wal_test_util.h"

namespace smsx::persistence::testing {
namespace {

constexpr uint64_t kT0 = 1'764'000'000'000;

// Writes cancels of order `lsn` at LSNs first..last (one commit per 500), in segments of
// 64 KiB; the record at `garbage_lsn` (if any) is a place whose payload does not decode.
void write_cancels(FaultEnv& env, uint64_t first, uint64_t last, uint64_t garbage_lsn = 0) {
  std::unique_ptr<WalWriter> writer = open_writer(env, first, 64 << 10);
  std::vector<uint8_t> payload;
  for (uint64_t lsn = first; lsn <= last; ++lsn) {
    if (lsn == garbage_lsn) {
      const std::vector<uint8_t> garbage = {0xc0, 1, 2, 3};
      ASSERT_TRUE(writer->append(static_cast<uint8_t>(Op::kOrderPlace), garbage).ok());
    } else {
      const Command cancel{.op = Op::kOrderCancel,
                           .now_ms = kT0 + lsn,
                           .key = make_request_key("web-1", std::to_string(lsn)),
                           .target = lsn};
      const uint8_t type = encode_command(cancel, Reply(), &payload);
      ASSERT_TRUE(writer->append(type, payload).ok());
    }
    if (lsn % 500 == 0 || lsn == last) {
      ASSERT_TRUE(writer->commit().ok());
    }
  }
}

struct Read {
  std::vector<uint64_t> lsns;  // of the records delivered, in order
  size_t batches = 0;
  bool lsns_match_commands = true;  // each command is the cancel written at its LSN
  Status decode_error;
  uint64_t decode_error_lsn = 0;
};

Read read_all(FaultEnv& env, uint64_t from_lsn, Status* status, uint64_t* last_lsn) {
  DecodedLogReader log(env, kWalDir, from_lsn);
  Read read;
  while (const DecodedBatch* batch = log.next()) {
    ++read.batches;
    for (size_t i = 0; i < batch->size; ++i) {
      const Command& c = batch->commands[i].command;
      const uint64_t lsn = batch->lsns[i];
      read.lsns.push_back(lsn);
      read.lsns_match_commands &= c.op == Op::kOrderCancel && c.target == lsn &&
                                  c.now_ms == kT0 + lsn &&
                                  c.key == make_request_key("web-1", std::to_string(lsn));
    }
    if (!batch->decode_error.ok()) {
      read.decode_error = batch->decode_error;
      read.decode_error_lsn = batch->decode_error_lsn;
    }
  }
  *status = log.status();
  *last_lsn = log.last_lsn();
  return read;
}

std::vector<uint64_t> range(uint64_t first, uint64_t last) {
  std::vector<uint64_t> v;
  for (uint64_t lsn = first; lsn <= last; ++lsn) v.push_back(lsn);
  return v;
}

TEST(DecodedLogReaderTest, EveryRecordInOrderAcrossBatchesAndSegments) {
  FaultEnv env(1);
  ASSERT_TRUE(env.create_dir(kWalDir).ok());
  write_cancels(env, 1, 10'000);
  ASSERT_GE(segment_paths(env).size(), 3u);
  Status status;
  uint64_t last_lsn = 0;
  Read read = read_all(env, 1, &status, &last_lsn);
  ASSERT_TRUE(status.ok()) << status.to_string();
  EXPECT_EQ(read.lsns, range(1, 10'000));
  EXPECT_TRUE(read.lsns_match_commands);
  EXPECT_GE(read.batches, 3u);  // 4,096 records at most per batch
  EXPECT_EQ(last_lsn, 10'000u);
  EXPECT_TRUE(read.decode_error.ok());

  // From the middle of a segment: the records before are checked, not delivered.
  read = read_all(env, 7'777, &status, &last_lsn);
  ASSERT_TRUE(status.ok()) << status.to_string();
  EXPECT_EQ(read.lsns, range(7'777, 10'000));
  EXPECT_TRUE(read.lsns_match_commands);
  EXPECT_EQ(last_lsn, 10'000u);
}

TEST(DecodedLogReaderTest, ARecordThatDoesNotDecodeEndsTheLogThere) {
  FaultEnv env(2);
  ASSERT_TRUE(env.create_dir(kWalDir).ok());
  write_cancels(env, 1, 9'000, /*garbage_lsn=*/6'001);
  Status status;
  uint64_t last_lsn = 0;
  const Read read = read_all(env, 1, &status, &last_lsn);
  EXPECT_EQ(read.lsns, range(1, 6'000));
  EXPECT_TRUE(read.lsns_match_commands);
  EXPECT_TRUE(status.ok()) << status.to_string();  // the WalReader found nothing wrong
  EXPECT_EQ(last_lsn, 6'000u);                     // the log ends before the bad record
  ASSERT_FALSE(read.decode_error.ok());
  EXPECT_EQ(read.decode_error_lsn, 6'001u);
  EXPECT_NE(read.decode_error.message().find("LSN 6001: command record of type 4: unknown flag"),
            std::string::npos)
      << read.decode_error.to_string();
}

TEST(DecodedLogReaderTest, TheReadersOwnErrorsComeThroughAsStatus) {
  FaultEnv env(3);
  ASSERT_TRUE(env.create_dir(kWalDir).ok());
  write_cancels(env, 1, 10'000);
  const std::vector<std::string> segments = segment_paths(env);
  ASSERT_GE(segments.size(), 3u);
  env.flip_byte(segments[1], kSegmentHeaderBytes + 100);
  Status status;
  uint64_t last_lsn = 0;
  const Read read = read_all(env, 1, &status, &last_lsn);
  ASSERT_TRUE(status.is_corruption());
  EXPECT_NE(status.message().find(segments[1] + " at offset "), std::string::npos)
      << status.to_string();
  // Everything before the damaged record, and nothing after it.
  ASSERT_FALSE(read.lsns.empty());
  EXPECT_EQ(read.lsns, range(1, read.lsns.back()));
  EXPECT_EQ(last_lsn, read.lsns.back());
  const ReadResult plain = read_log(env, kWalDir, 1);
  EXPECT_EQ(plain.status.to_string(), status.to_string());
  EXPECT_EQ(plain.last_lsn, last_lsn);
}

TEST(DecodedLogReaderTest, ATornTailIsCutOffAndReported) {
  FaultEnv env(5);
  ASSERT_TRUE(env.create_dir(kWalDir).ok());
  write_cancels(env, 1, 10'000);
  const std::string last = segment_paths(env).back();
  std::vector<uint8_t> bytes = env.contents(last);
  const size_t intact_bytes = bytes.size();
  std::vector<uint8_t> payload;
  std::vector<uint8_t> record;
  encode_command(Command{.op = Op::kOrderCancel, .now_ms = kT0, .target = 1}, Reply(), &payload);
  append_record(&record, 10'001, static_cast<uint8_t>(Op::kOrderCancel), payload);
  bytes.insert(bytes.end(), record.begin(), record.begin() + 10);  // a write cut short
  env.set_contents(last, bytes);
  DecodedLogReader log(env, kWalDir, 1);
  std::vector<uint64_t> lsns;
  while (const DecodedBatch* batch = log.next()) {
    lsns.insert(lsns.end(), batch->lsns.begin(), batch->lsns.begin() + batch->size);
  }
  ASSERT_TRUE(log.status().ok()) << log.status().to_string();
  EXPECT_EQ(lsns, range(1, 10'000));
  EXPECT_EQ(log.last_lsn(), 10'000u);
  ASSERT_TRUE(log.torn_tail().has_value());
  EXPECT_EQ(log.torn_tail()->path, last);
  EXPECT_EQ(log.torn_tail()->offset, intact_bytes);
  EXPECT_EQ(log.torn_tail()->bytes_dropped, 10u);
  EXPECT_EQ(env.contents(last).size(), intact_bytes);  // cut off
}

TEST(DecodedLogReaderTest, AnOwnerThatStopsEarlyStopsTheHelper) {
  FaultEnv env(4);
  ASSERT_TRUE(env.create_dir(kWalDir).ok());
  write_cancels(env, 1, 30'000);
  for (int round = 0; round < 20; ++round) {
    DecodedLogReader log(env, kWalDir, 1);
    const DecodedBatch* batch = log.next();
    ASSERT_NE(batch, nullptr);
    EXPECT_EQ(batch->lsns.front(), 1u);
    // Leaving here joins the helper, which is blocked on a full queue or still reading.
  }
}

}  // namespace
}  // namespace smsx::persistence::testing

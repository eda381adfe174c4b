// Helpers shared by the WAL tests: deterministic payloads, writing batches, and reading a
// whole log back into plain values that gtest can compare and print.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "persistence/env.h"
#include "persistence/wal_reader.h"
#include "persistence/wal_writer.h"

namespace smsx::persistence::testing {

inline constexpr char kWalDir[] = "/data";
inline constexpr uint8_t kKnownTypeMax = 9;  // the tests' engine knows types 1..9

bool is_known_test_type(uint8_t type);

struct Record {
  uint64_t lsn = 0;
  uint8_t type = 0;
  std::vector<uint8_t> payload;
  bool operator==(const Record&) const = default;
};
std::ostream& operator<<(std::ostream& out, const Record& record);

// The record the tests write at `lsn`: a type in 1..kKnownTypeMax and `bytes` of payload
// derived from the LSN, so any misplaced byte shows.
Record test_record(uint64_t lsn, size_t bytes);

struct ReadResult {
  Status status;
  std::vector<Record> records;
  uint64_t last_lsn = 0;
  std::optional<TornTail> torn_tail;
};
ReadResult read_log(Env& env, const std::string& dir = kWalDir, uint64_t from_lsn = 1,
                    WalReaderOptions options = {});

std::unique_ptr<WalWriter> open_writer(Env& env, uint64_t next_lsn = 1,
                                       uint64_t segment_bytes_max = kSegmentBytesMax,
                                       const std::string& dir = kWalDir);

// Appends `count` test records (payload `bytes` each) and commits them as one batch.
Status write_batch_of(WalWriter& writer, size_t count, size_t bytes, std::vector<Record>* written);

// Segment paths of `dir` in LSN order.
std::vector<std::string> segment_paths(Env& env, const std::string& dir = kWalDir);

}  // namespace smsx::persistence::testing

// Encoding and checking of WAL segment headers and records (layout in wal_format.h).
// Shared by the writer, which encodes, and the reader, which verifies; pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "persistence/wal_format.h"

namespace smsx::persistence {

void encode_segment_header(uint64_t first_lsn, uint8_t (&header)[kSegmentHeaderBytes],
                           uint32_t version = kSegmentVersion);

enum class SegmentHeaderCheck : uint8_t { kOk, kIncomplete, kBadMagic, kBadVersion, kBadCrc };
// Verifies a complete segment header and reads its first LSN.
// *version (when given) is kSegmentVersion or kSegmentVersionPreallocated.
SegmentHeaderCheck check_segment_header(const uint8_t* header, uint64_t* first_lsn,
                                        uint32_t* version = nullptr);

// Appends one encoded record (header + payload) to `out`; returns its CRC field.
// `batch_start` sets kRecordBatchStartFlag (the CRC then covers it too).
uint32_t append_record(std::vector<uint8_t>* out, uint64_t lsn, uint8_t type,
                       std::span<const uint8_t> payload, bool batch_start = false);

// The CRC field of the record (lsn, type, payload) as append_record() writes it without
// kRecordBatchStartFlag, whatever the flag was where it is stored. Two logs
// whose records at one LSN have the same CRC hold, for every practical purpose, the same
// record there (replication compares a standby's last record with the primary's so).
uint32_t record_crc(uint64_t lsn, uint8_t type, std::span<const uint8_t> payload);

// One record as read back. `payload` points into the reader's buffer.
struct WalRecord {
  uint64_t lsn;
  uint8_t type;
  std::span<const uint8_t> payload;
  bool batch_start = false;  // kRecordBatchStartFlag was set
};

// How the bytes at one offset of a segment fail to be an intact record. Incomplete and
// damaged records may be a torn tail (wal_reader.cc decides); an intact record is always
// trusted to be what was written.
enum class RecordCheck : uint8_t {
  kIntact,
  kIncompleteHeader,   // fewer than kRecordHeaderBytes bytes remain
  kLengthTooLarge,     // length (without kRecordBatchStartFlag) above kRecordPayloadBytesMax
  kIncompletePayload,  // the payload runs past the end of the data
  kBadCrc,             // complete, but the checksum does not match
};

// Checks the record at the start of `data`; fills *record when kIntact. *record_bytes is
// the record's size according to its length field (0 when the header is incomplete).
RecordCheck check_record(std::span<const uint8_t> data, WalRecord* record, size_t* record_bytes);

const char* record_check_name(RecordCheck check);

// Whether every byte of [begin, end) is zero (true when empty): zero-filled space, such as
// the unused part of a preallocated segment, which never parses as a record.
bool all_zero(const uint8_t* begin, const uint8_t* end);

}  // namespace smsx::persistence

#include "persistence/wal_record.h"

#include <cstring>

#include "core/assert.h"
#include "persistence/coding.h"
#include "persistence/crc32c.h"

namespace smsx::persistence {

void encode_segment_header(uint64_t first_lsn, uint8_t (&header)[kSegmentHeaderBytes],
                           uint32_t version) {
  SMSX_ASSERT(first_lsn > 0);
  encode_u32(header + kSegmentMagicOffset, kSegmentMagic);
  encode_u32(header + kSegmentVersionOffset, version);
  encode_u64(header + kSegmentFirstLsnOffset, first_lsn);
  encode_u32(header + kSegmentHeaderCrcOffset,
             crc32c::mask(crc32c::value(header, kSegmentHeaderCrcOffset)));
}

SegmentHeaderCheck check_segment_header(const uint8_t* header, uint64_t* first_lsn,
                                        uint32_t* version) {
  if (decode_u32(header + kSegmentMagicOffset) != kSegmentMagic) {
    return SegmentHeaderCheck::kBadMagic;
  }
  const uint32_t crc = crc32c::unmask(decode_u32(header + kSegmentHeaderCrcOffset));
  if (crc != crc32c::value(header, kSegmentHeaderCrcOffset)) return SegmentHeaderCheck::kBadCrc;
  const uint32_t found = decode_u32(header + kSegmentVersionOffset);
  if (found != kSegmentVersion && found != kSegmentVersionPreallocated) {
    return SegmentHeaderCheck::kBadVersion;
  }
  if (version != nullptr) *version = found;
  *first_lsn = decode_u64(header + kSegmentFirstLsnOffset);
  return SegmentHeaderCheck::kOk;
}

namespace {

// Fills the record header for (lsn, type, payload), CRC included; returns the CRC field.
uint32_t encode_record_header(uint64_t lsn, uint8_t type, std::span<const uint8_t> payload,
                              bool batch_start, uint8_t (&header)[kRecordHeaderBytes]) {
  SMSX_ASSERT(lsn > 0);
  SMSX_ASSERT(type != kRecordTypeReserved);
  SMSX_ASSERT(payload.size() <= kRecordPayloadBytesMax);
  encode_u32(header + kRecordLengthOffset,
             static_cast<uint32_t>(payload.size()) | (batch_start ? kRecordBatchStartFlag : 0));
  encode_u64(header + kRecordLsnOffset, lsn);
  header[kRecordTypeOffset] = type;
  uint32_t crc = crc32c::value(header + kRecordCrcCoverageOffset,
                               kRecordHeaderBytes - kRecordCrcCoverageOffset);
  crc = crc32c::mask(crc32c::extend(crc, payload.data(), payload.size()));
  encode_u32(header + kRecordCrcOffset, crc);
  return crc;
}

}  // namespace

uint32_t append_record(std::vector<uint8_t>* out, uint64_t lsn, uint8_t type,
                       std::span<const uint8_t> payload, bool batch_start) {
  uint8_t header[kRecordHeaderBytes];
  const uint32_t crc = encode_record_header(lsn, type, payload, batch_start, header);
  out->insert(out->end(), header, header + kRecordHeaderBytes);
  out->insert(out->end(), payload.begin(), payload.end());
  return crc;
}

uint32_t record_crc(uint64_t lsn, uint8_t type, std::span<const uint8_t> payload) {
  uint8_t header[kRecordHeaderBytes];
  return encode_record_header(lsn, type, payload, false, header);
}

RecordCheck check_record(std::span<const uint8_t> data, WalRecord* record, size_t* record_bytes) {
  *record_bytes = 0;
  if (data.size() < kRecordHeaderBytes) return RecordCheck::kIncompleteHeader;
  const uint8_t* header = data.data();
  const uint32_t length_field = decode_u32(header + kRecordLengthOffset);
  const uint32_t length = length_field & ~kRecordBatchStartFlag;
  if (length > kRecordPayloadBytesMax) return RecordCheck::kLengthTooLarge;
  *record_bytes = kRecordHeaderBytes + length;
  if (*record_bytes > data.size()) return RecordCheck::kIncompletePayload;
  const uint32_t expected = crc32c::unmask(decode_u32(header + kRecordCrcOffset));
  const uint32_t actual =
      crc32c::value(header + kRecordCrcCoverageOffset, *record_bytes - kRecordCrcCoverageOffset);
  if (actual != expected) return RecordCheck::kBadCrc;
  record->lsn = decode_u64(header + kRecordLsnOffset);
  record->type = header[kRecordTypeOffset];
  record->payload = data.subspan(kRecordHeaderBytes, length);
  record->batch_start = (length_field & kRecordBatchStartFlag) != 0;
  return RecordCheck::kIntact;
}

// Compares the range with itself shifted by one byte (memcmp is vectorised): the zero-filled
// rest of a preallocated segment is tens of megabytes.
bool all_zero(const uint8_t* begin, const uint8_t* end) {
  if (begin >= end) return true;
  return *begin == 0 && std::memcmp(begin, begin + 1, static_cast<size_t>(end - begin - 1)) == 0;
}

const char* record_check_name(RecordCheck check) {
  switch (check) {
    case RecordCheck::kIntact:
      return "intact record";
    case RecordCheck::kIncompleteHeader:
      return "incomplete record header";
    case RecordCheck::kLengthTooLarge:
      return "record length above the maximum";
    case RecordCheck::kIncompletePayload:
      return "incomplete record payload";
    case RecordCheck::kBadCrc:
      return "record CRC mismatch";
  }
  return "unknown record check";
}

}  // namespace smsx::persistence

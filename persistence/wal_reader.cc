#include "persistence/wal_reader.h"

#include <algorithm>
#include <iterator>

#include "core/assert.h"
#include "persistence/coding.h"
#include "persistence/crc32c.h"

namespace smsx::persistence {
namespace {

const char* header_check_name(SegmentHeaderCheck check) {
  switch (check) {
    case SegmentHeaderCheck::kOk:
      return "ok";
    case SegmentHeaderCheck::kIncomplete:
      return "incomplete segment header";
    case SegmentHeaderCheck::kBadMagic:
      return "bad segment magic";
    case SegmentHeaderCheck::kBadVersion:
      return "unsupported segment version";
    case SegmentHeaderCheck::kBadCrc:
      return "segment header CRC mismatch";
  }
  return "unknown segment header check";
}

}  // namespace

WalReader::WalReader(Env& env, std::string dir, KnownTypeFn is_known_type, WalReaderOptions options)
    : env_(env), dir_(std::move(dir)), is_known_type_(std::move(is_known_type)), options_(options) {
  SMSX_ASSERT(is_known_type_ != nullptr);
}

Status WalReader::seek(uint64_t from_lsn) {
  SMSX_ASSERT(from_lsn > 0);
  from_lsn_ = from_lsn;
  last_lsn_ = from_lsn - 1;
  status_ = Status();
  torn_tail_.reset();
  segment_loaded_ = false;
  done_ = false;
  status_ = list_segments(env_, dir_, &segments_);
  if (!status_.ok()) {
    done_ = true;
    return status_;
  }
  if (segments_.empty()) {
    done_ = true;  // a new log: nothing to replay
    return status_;
  }
  // Start in the last segment that begins at or before from_lsn; earlier ones hold only
  // older records.
  const auto after =
      std::upper_bound(segments_.begin(), segments_.end(), from_lsn,
                       [](uint64_t lsn, const NamedFile& segment) { return lsn < segment.lsn; });
  if (after == segments_.begin()) {
    done_ = true;
    status_ = Status::corruption("LSN gap: replay starts at LSN " + std::to_string(from_lsn) +
                                 " but the first segment " + segments_.front().path +
                                 " starts at LSN " + std::to_string(segments_.front().lsn));
    return status_;
  }
  index_ = static_cast<size_t>(after - segments_.begin()) - 1;
  expected_lsn_ = segments_[index_].lsn;
  last_lsn_ = expected_lsn_ - 1;
  return status_;
}

bool WalReader::next(WalRecord* record) {
  while (!done_) {
    if (!segment_loaded_ && !load_segment()) return false;
    if (offset_ == segment_bytes_) {  // end of this segment
      segment_loaded_ = false;
      if (is_last_segment()) return end_of_log();
      ++index_;
      continue;
    }
    WalRecord view;
    size_t record_bytes = 0;
    const RecordCheck check =
        check_record(std::span<const uint8_t>(buffer_.get() + offset_, segment_bytes_ - offset_),
                     &view, &record_bytes);
    if (check != RecordCheck::kIntact) {
      // Nothing but zeros to the end of a preallocated segment: its unused part. The
      // segment ends here. (In an appended segment zeros after the last record are a torn
      // tail: the file grew but the data never reached the disk.)
      if (preallocated_ && all_zero(buffer_.get() + offset_, buffer_.get() + segment_bytes_)) {
        segment_bytes_ = offset_;
        continue;
      }
      return handle_damage(check, record_bytes);
    }
    // An intact record is exactly what the writer wrote, so a wrong LSN or type is not a
    // torn write: it is a gap, a reordering or a format the engine does not know.
    if (view.lsn != expected_lsn_) {
      return fail(Status::corruption(where(offset_) + ": LSN " + std::to_string(view.lsn) +
                                     (view.lsn > expected_lsn_ ? " after a gap" : " out of order") +
                                     ", expected LSN " + std::to_string(expected_lsn_)));
    }
    if (view.type == kRecordTypeReserved || !is_known_type_(view.type)) {
      return fail(Status::corruption(where(offset_) + ": unknown record type " +
                                     std::to_string(view.type) + " at LSN " +
                                     std::to_string(view.lsn)));
    }
    offset_ += record_bytes;
    last_lsn_ = view.lsn;
    ++expected_lsn_;
    if (view.lsn < from_lsn_) continue;  // covered by the snapshot
    *record = view;
    return true;
  }
  return false;
}

bool WalReader::load_segment() {
  SMSX_ASSERT(index_ < segments_.size());
  const NamedFile& segment = segments_[index_];
  if (segment.lsn != expected_lsn_) {
    return fail(Status::corruption("LSN gap between segments: " + segment.path + " starts at LSN " +
                                   std::to_string(segment.lsn) + ", expected LSN " +
                                   std::to_string(expected_lsn_)));
  }
  std::unique_ptr<ReadableFile> file;
  Status status = env_.new_readable_file(segment.path, &file);
  uint64_t bytes = 0;
  if (status.ok()) status = file->size(&bytes);
  if (!status.ok()) return fail(std::move(status));
  if (bytes > buffer_bytes_) {
    buffer_.reset();  // free the old one first: the two need not coexist
    buffer_ = std::make_unique_for_overwrite<uint8_t[]>(bytes);
    buffer_bytes_ = bytes;
  }
  status = file->read_at(0, std::span<uint8_t>(buffer_.get(), bytes), &segment_bytes_);
  if (!status.ok()) return fail(std::move(status));
  segment_loaded_ = true;
  preallocated_ = false;

  uint64_t header_lsn = 0;
  uint32_t version = kSegmentVersion;
  const uint8_t* data = buffer_.get();
  const SegmentHeaderCheck check = segment_bytes_ < kSegmentHeaderBytes
                                       ? SegmentHeaderCheck::kIncomplete
                                       : check_segment_header(data, &header_lsn, &version);
  if (check != SegmentHeaderCheck::kOk) {
    // The header is synced before any record is written, so a crash while the segment was
    // being created leaves a short or damaged header followed by nothing but zeros. That
    // is an empty last segment; anywhere else a bad header is corruption.
    const bool creation_torn =
        is_last_segment() &&
        all_zero(data + std::min(segment_bytes_, kSegmentHeaderBytes), data + segment_bytes_);
    if (!creation_torn) {
      return fail(Status::corruption(segment.path + " at offset 0: " + header_check_name(check)));
    }
    offset_ = segment_bytes_;  // no record
    return true;
  }
  if (header_lsn != segment.lsn) {
    return fail(Status::corruption(segment.path + " at offset 0: header says first LSN " +
                                   std::to_string(header_lsn) + ", the name says " +
                                   std::to_string(segment.lsn)));
  }
  preallocated_ = version == kSegmentVersionPreallocated;
  offset_ = kSegmentHeaderBytes;
  return true;
}

// The record at offset_ is not intact. Either the final write was interrupted (a torn
// tail: cut it off and end cleanly), or data that was once durable is damaged (stop).
bool WalReader::handle_damage(RecordCheck damage, size_t record_bytes) {
  const std::string what = where(offset_) + ": " + record_check_name(damage) + " (expected LSN " +
                           std::to_string(expected_lsn_) + ")";
  if (!is_last_segment()) {
    return fail(Status::corruption(what + " in a segment that is not the last"));
  }
  // A commit's write starts only after the previous commit's fdatasync returned, so only
  // the last write can be torn. Appended, it is torn as a prefix (the file size orders
  // it): an intact record after the damage proves the damage is mid-log. Written over a
  // preallocated segment's zeros, its pages may have reached the disk in any order, so
  // intact records of that same write may follow the damage; one that starts a write
  // (kRecordBatchStartFlag) proves an earlier, synced write is damaged.
  bool write_start_after = false;
  const size_t intact =
      find_intact_record_after(offset_, preallocated_ ? &write_start_after : nullptr);
  if (intact != 0 && !preallocated_) {
    return fail(Status::corruption(what + ", but an intact record follows at offset " +
                                   std::to_string(intact)));
  }
  if (write_start_after) {
    return fail(Status::corruption(what + ", but an intact record of a later write follows"));
  }
  // A complete record with a bad CRC in an appended segment is torn only if nothing but
  // zeros follows it (pages the file system allocated but never wrote).
  if (damage == RecordCheck::kBadCrc && !preallocated_) {
    const uint8_t* end_of_record = buffer_.get() + offset_ + record_bytes;
    if (!all_zero(end_of_record, buffer_.get() + segment_bytes_)) {
      return fail(Status::corruption(what + ", followed by non-zero bytes at offset " +
                                     std::to_string(offset_ + record_bytes)));
    }
  }
  TornTail tail;
  tail.path = segments_[index_].path;
  tail.offset = offset_;
  tail.bytes_dropped = segment_bytes_ - offset_;
  tail.damage = damage;
  if (options_.truncate_torn_tail) {
    Status truncated = env_.truncate_file(tail.path, tail.offset);
    if (!truncated.ok()) return fail(std::move(truncated));
    tail.truncated = true;
  }
  torn_tail_ = std::move(tail);
  segment_bytes_ = offset_;
  segment_loaded_ = false;
  return end_of_log();
}

size_t WalReader::find_intact_record_after(size_t from, bool* write_start) const {
  const uint8_t* data = buffer_.get();
  // More records than this cannot fit in the bytes after `from`.
  const uint64_t lsn_limit = expected_lsn_ + (segment_bytes_ - from) / kRecordHeaderBytes;
  size_t first = 0;
  for (size_t at = from + 1; at + kRecordHeaderBytes <= segment_bytes_; ++at) {
    const uint64_t lsn = decode_u64(data + at + kRecordLsnOffset);
    if (lsn < expected_lsn_ || lsn > lsn_limit) continue;
    if (data[at + kRecordTypeOffset] == kRecordTypeReserved) continue;
    const uint32_t length_field = decode_u32(data + at + kRecordLengthOffset);
    const uint32_t length = length_field & ~kRecordBatchStartFlag;
    if (length > segment_bytes_ - at - kRecordHeaderBytes) continue;
    const uint32_t expected_crc = crc32c::unmask(decode_u32(data + at + kRecordCrcOffset));
    const uint32_t crc = crc32c::value(data + at + kRecordCrcCoverageOffset,
                                       kRecordHeaderBytes - kRecordCrcCoverageOffset + length);
    if (crc != expected_crc) continue;
    if (write_start == nullptr) return at;
    if (first == 0) first = at;
    if ((length_field & kRecordBatchStartFlag) != 0) {
      *write_start = true;
      return first;
    }
    at += kRecordHeaderBytes + length - 1;  // on past this record
  }
  return first;
}

bool WalReader::end_of_log() {
  done_ = true;
  if (last_lsn_ + 1 < from_lsn_) {
    status_ = Status::corruption("LSN gap: the log ends at LSN " + std::to_string(last_lsn_) +
                                 " in " + segments_[index_].path + " but replay starts at LSN " +
                                 std::to_string(from_lsn_));
  }
  return false;
}

bool WalReader::fail(Status status) {
  SMSX_ASSERT(!status.ok());
  status_ = std::move(status);
  done_ = true;
  return false;
}

std::string WalReader::where(uint64_t offset) const {
  return segments_[index_].path + " at offset " + std::to_string(offset);
}

Status read_record_crc(Env& env, const std::string& dir, uint64_t lsn,
                       std::optional<uint32_t>* crc) {
  crc->reset();
  std::vector<NamedFile> segments;
  PERSIST_RETURN_IF_ERROR(list_segments(env, dir, &segments));
  if (segments.empty() || lsn < segments.front().lsn) return Status();
  WalReaderOptions options;
  options.truncate_torn_tail = false;
  WalReader reader(
      env, dir, [](uint8_t) { return true; }, options);
  // From the start of the segment that would hold it, so that a log ending before `lsn` is
  // an answer (not held), not an error.
  const auto holder = std::prev(
      std::upper_bound(segments.begin(), segments.end(), lsn,
                       [](uint64_t l, const NamedFile& segment) { return l < segment.lsn; }));
  PERSIST_RETURN_IF_ERROR(reader.seek(holder->lsn));
  WalRecord record;
  while (reader.next(&record)) {
    if (record.lsn < lsn) continue;
    *crc = record_crc(record.lsn, record.type, record.payload);
    return Status();
  }
  return reader.status();
}

}  // namespace smsx::persistence

// WalReader: reads the write-ahead log in LSN order for recovery (and for tools), and
// decides where the log validly ends.
//
// Recovery rules (docs/wal_format.md, "Recovery", says the same in prose):
//   - Every record must be intact (complete, CRC ok), carry exactly the next LSN, and have a
//     type the engine knows; every segment must start with the LSN after the previous
//     segment's last record. Anything else is an error naming the file and offset: the
//     reader never skips data.
//   - The one exception is a torn tail: damage that can only be an interrupted final write.
//     The damaged bytes must be in the LAST segment, no intact record may follow them, and
//     after the damaged record there may be only zero bytes (or nothing). The tail is then
//     cut off (the file truncated and synced) so new appends follow valid data. In a
//     preallocated segment, whose last write may have reached the disk in any page order,
//     records and bytes of that same write may follow the damage; an intact record that
//     starts a write (kRecordBatchStartFlag) may not.
//   - A last segment holding no record (header only, or shorter than a header or with a
//     zero-filled header after a crash while it was created) is an empty segment.
//   - In a preallocated segment (header version 2), zeros from a record boundary to the
//     end of the file end that segment cleanly (its unused part); the next segment must
//     then start at the next LSN, so zeros where records were lost are still a gap.
//
// Usage at start-up (after loading the snapshot at LSN s, or s = 0 without one):
//   WalReader reader(env, dir, is_known_type);
//   Status st = reader.seek(s + 1);
//   WalRecord record;
//   while (st.ok() && reader.next(&record)) apply(record);
//   if (st.ok()) st = reader.status();           // stop start-up if not ok
//   WalWriter::open(env, dir, reader.last_lsn() + 1, options, &writer);
//
// A reader is used by one thread; it reads each segment whole into a reused buffer.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "persistence/env.h"
#include "persistence/file_names.h"
#include "persistence/status.h"
#include "persistence/wal_record.h"

namespace smsx::persistence {

struct WalReaderOptions {
  // Cut a torn tail off the last segment. Off for read-only inspection (tools, a replica
  // streaming a live segment): the tail is then only reported.
  bool truncate_torn_tail = true;
};

// Where the log was cut.
struct TornTail {
  std::string path;
  uint64_t offset = 0;         // the file now ends here (it did before, if not truncated)
  uint64_t bytes_dropped = 0;  // bytes that were after `offset`
  RecordCheck damage = RecordCheck::kIncompleteHeader;
  bool truncated = false;
};

class WalReader {
 public:
  using KnownTypeFn = std::function<bool(uint8_t type)>;

  WalReader(Env& env, std::string dir, KnownTypeFn is_known_type, WalReaderOptions options = {});

  // Lists the segments and positions the reader at `from_lsn` (>= 1). Earlier records of
  // the first segment read are verified but not returned; earlier segments are not read.
  Status seek(uint64_t from_lsn);

  // Fills *record with the next record and returns true, or returns false at the end of
  // the log or on an error (see status()). record->payload stays valid until the next call.
  bool next(WalRecord* record);

  // Ok at a clean end (torn tail included); the error that stopped reading otherwise.
  const Status& status() const { return status_; }
  // LSN of the last intact record read (from_lsn - 1 if none): the writer continues after it.
  uint64_t last_lsn() const { return last_lsn_; }
  // Set when the log ended in a torn tail.
  const std::optional<TornTail>& torn_tail() const { return torn_tail_; }

 private:
  bool load_segment();
  bool fail(Status status);
  bool end_of_log();
  bool handle_damage(RecordCheck damage, size_t record_bytes);
  // Offset of the first intact record with LSN >= expected_ starting after `from`, or 0.
  // With `write_start`: also sets it when any such record has kRecordBatchStartFlag.
  size_t find_intact_record_after(size_t from, bool* write_start = nullptr) const;
  bool is_last_segment() const { return index_ + 1 == segments_.size(); }
  std::string where(uint64_t offset) const;

  Env& env_;
  const std::string dir_;
  const KnownTypeFn is_known_type_;
  const WalReaderOptions options_;

  std::vector<NamedFile> segments_;
  size_t index_ = 0;  // segment being read
  bool segment_loaded_ = false;
  // Holds the current segment; grows, never shrinks. Left uninitialised (a segment is up to
  // 64 MiB and is read over at once: zeroing it first would be wasted work).
  std::unique_ptr<uint8_t[]> buffer_;
  size_t buffer_bytes_ = 0;
  size_t segment_bytes_ = 0;
  size_t offset_ = 0;          // next record's offset in the current segment
  bool preallocated_ = false;  // the current segment's header says version 2

  uint64_t from_lsn_ = 1;
  uint64_t expected_lsn_ = 1;
  uint64_t last_lsn_ = 0;
  bool done_ = true;
  Status status_;
  std::optional<TornTail> torn_tail_;
};

// The CRC field (record_crc()) of the record with LSN `lsn` in the log in `dir`, read
// without changing any file (a torn tail is left alone). *crc stays empty when no segment
// holds that record; an error only when the log cannot be read up to it.
Status read_record_crc(Env& env, const std::string& dir, uint64_t lsn,
                       std::optional<uint32_t>* crc);

}  // namespace smsx::persistence

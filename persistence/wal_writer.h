// WalWriter: appends records to the write-ahead log with group commit.
//
// Why: nothing may be acknowledged before it is durable, and one fdatasync costs ~0.25 ms,
// so every record of one loop iteration is buffered by append() (memory only, no system
// call) and made durable by one write() and one fdatasync() in commit(). Only after
// commit() returns ok may the loop send the replies and events of those records.
//
// Failure is sticky: after any write, fdatasync or segment error the writer refuses every
// later append and commit with that first error, durable_lsn() stops where it was, and
// the records of the failed batch are never reported durable. After a crash such records
// may be absent or present as a whole-record prefix of the batch (docs/wal_format.md,
// "Failed commits"); the server must stop accepting writes (and should exit).
//
// Ownership and threads. Two roles, which may be one thread (commit()) or two:
//   - the loop thread calls append(), take_batch(), recycle_batch(), next_lsn() and
//     pending_bytes();
//   - the I/O side calls write_batch() with batches in the order take_batch() produced
//     them, one call at a time (a helper thread, or the loop thread itself).
//   durable_lsn(), failed() and status() may be called from either side at any time.
// A WalBatch is owned by whoever holds it: the loop thread may fill the next batch while
// the I/O side writes the previous one. The Env must outlive the writer.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "persistence/env.h"
#include "persistence/status.h"
#include "persistence/wal_format.h"

namespace smsx::persistence {

enum class Durability : uint8_t {
  kFdatasync,  // every commit ends with fdatasync (and new segments are synced with their folder)
  kNone,       // benchmarks only: no fdatasync and no folder fsync; a crash may lose anything
};

// Whether segments are created at their full size, zero-filled and synced, before records
// go in. Then a commit's write overwrites blocks that are allocated and written, so its
// fdatasync has no file size or block allocation to journal: on this project's ext4 test
// machine a median write + fdatasync of 0.10–0.11 ms instead of 0.15–0.18 ms
// (docs/benchmarks.md, "WAL preallocation").
// The cost: each segment takes segment_bytes_max on disk from its creation, and writing the
// zeros (tens of milliseconds for 64 MiB). Segments get header version 2 and each
// write's first record kRecordBatchStartFlag: after a power loss the pages of the last,
// unsynced write may have reached the disk in any order, and the flag is what lets
// recovery tell that write from damage (docs/wal_format.md, "Preallocation").
enum class Preallocation : uint8_t {
  kNone,
  kInline,      // the segment is zero-filled when the log rolls over to it
  kBackground,  // the next segment is zero-filled on a helper thread while the current one
                // fills (inline for the first segment; a rollover before the helper is done
                // waits for it)
};

struct WalWriterOptions {
  uint64_t segment_bytes_max = kSegmentBytesMax;
  Durability durability = Durability::kFdatasync;
  Preallocation preallocation = Preallocation::kNone;
};

// Encoded records with consecutive LSNs [first_lsn, last_lsn], ready for one write().
struct WalBatch {
  std::vector<uint8_t> bytes;
  uint64_t first_lsn = 0;  // 0 while empty
  uint64_t last_lsn = 0;
  bool empty() const { return bytes.empty(); }
};

class WalWriter {
 public:
  // Starts a new segment named `next_lsn` in `dir` (which must exist), so recovery must
  // have read the log to its end first: next_lsn = last recovered LSN + 1 (or the
  // snapshot's LSN + 1 when the log is behind it). Fails if that segment exists with
  // records in it, or if a segment starting after next_lsn exists. First fdatasyncs the
  // newest segment below next_lsn (what recovery read may be only in the page cache) and
  // deletes a spare segment left by an earlier run.
  static Status open(Env& env, const std::string& dir, uint64_t next_lsn,
                     const WalWriterOptions& options, std::unique_ptr<WalWriter>* writer);

  WalWriter(const WalWriter&) = delete;
  WalWriter& operator=(const WalWriter&) = delete;
  ~WalWriter();  // closes the segment; records not committed are dropped

  // Loop thread. Assigns the next LSN (written to *lsn if given) and copies the record
  // into the pending batch. `type` must not be kRecordTypeReserved and the payload must
  // be at most kRecordPayloadBytesMax bytes (a violation is a bug: the process aborts).
  Status append(uint8_t type, std::span<const uint8_t> payload, uint64_t* lsn = nullptr);

  // take_batch + write_batch + recycle_batch on the calling thread. A no-op without
  // pending records. When it returns ok, durable_lsn() == next_lsn() - 1.
  Status commit();

  // Loop thread: moves the pending records out (possibly an empty batch).
  WalBatch take_batch();
  // I/O side: writes the batch in one write() at the end of the current segment (rolling
  // first if the batch would take it past segment_bytes_max), fdatasyncs it, and then
  // publishes durable_lsn() = batch.last_lsn. An empty batch is a no-op.
  Status write_batch(const WalBatch& batch);
  // Loop thread: hands a written batch's buffer back, so steady state does not allocate.
  void recycle_batch(WalBatch&& batch);

  uint64_t next_lsn() const { return next_lsn_; }
  // The CRC field of the last record appended by this writer (empty before the first).
  std::optional<uint32_t> last_appended_crc() const { return last_appended_crc_; }
  // Every record with LSN <= durable_lsn() is on disk and synced (or, with kNone, written).
  uint64_t durable_lsn() const { return durable_lsn_.load(std::memory_order_acquire); }
  size_t pending_bytes() const { return pending_.bytes.size(); }
  bool failed() const { return failed_.load(std::memory_order_acquire); }
  // The first error (ok while not failed).
  Status status() const;
  // Path of the segment being written (I/O side).
  const std::string& segment_path() const { return segment_path_; }

 private:
  WalWriter(Env& env, std::string dir, const WalWriterOptions& options, uint64_t next_lsn);

  Status start_segment(uint64_t first_lsn);
  Status create_segment_file(const std::string& path);
  std::string spare_path() const;
  // Writes the spare segment file: zeros to segment_bytes_max, synced with kFdatasync.
  Status write_spare() const;
  void prepare_spare_in_background();
  Status take_spare();
  Status fail(Status status);

  Env& env_;
  const std::string dir_;
  const WalWriterOptions options_;

  // Loop-thread state.
  WalBatch pending_;
  std::vector<WalBatch> spare_;  // recycled buffers; at most a few
  uint64_t next_lsn_;
  std::optional<uint32_t> last_appended_crc_;

  // I/O-side state.
  std::unique_ptr<WritableFile> file_;
  std::string segment_path_;
  uint64_t segment_first_lsn_ = 0;
  uint64_t io_next_lsn_;  // first LSN of the next batch write_batch() accepts
  // Preallocation::kBackground: the thread preparing the spare segment file, and its
  // result (read after join()).
  std::thread spare_thread_;
  Status spare_status_;

  // Shared: failure_ is written once, before failed_ is set (release), and never again.
  std::atomic<uint64_t> durable_lsn_;
  std::atomic<bool> failed_{false};
  Status failure_;
};

}  // namespace smsx::persistence

#include "persistence/wal_writer.h"

#include <algorithm>
#include <system_error>

#include "core/assert.h"
#include "persistence/coding.h"
#include "persistence/file_names.h"
#include "persistence/wal_record.h"

namespace smsx::persistence {
namespace {

// Buffers kept for reuse by recycle_batch(): one being filled, one being written, one spare.
constexpr size_t kSpareBatchesMax = 2;

// Zeros are written in pieces of this size, from one static (never allocated) buffer: the
// helper thread allocates nothing large that a fork() for a snapshot could catch half-done.
constexpr size_t kZeroChunkBytes = 1 << 20;
const uint8_t kZeroChunk[kZeroChunkBytes] = {};

// Creates `path` holding `bytes` zero bytes (synced when `sync`).
Status write_zero_file(Env& env, const std::string& path, uint64_t bytes, bool sync) {
  std::unique_ptr<WritableFile> file;
  PERSIST_RETURN_IF_ERROR(env.new_writable_file(path, &file));
  for (uint64_t left = bytes; left > 0;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(left, kZeroChunkBytes));
    PERSIST_RETURN_IF_ERROR(file->append(std::span<const uint8_t>(kZeroChunk, n)));
    left -= n;
  }
  if (sync) PERSIST_RETURN_IF_ERROR(file->sync());
  return file->close();
}

// Whether the segment at `path` holds no record: nothing after its header but zeros (a
// preallocated segment that a crash left before its first record).
Status holds_no_record(Env& env, const std::string& path, bool* empty) {
  std::vector<uint8_t> contents;
  PERSIST_RETURN_IF_ERROR(env.read_file(path, &contents));
  *empty = contents.size() <= kSegmentHeaderBytes ||
           all_zero(contents.data() + kSegmentHeaderBytes, contents.data() + contents.size());
  return Status();
}

}  // namespace

Status WalWriter::open(Env& env, const std::string& dir, uint64_t next_lsn,
                       const WalWriterOptions& options, std::unique_ptr<WalWriter>* writer) {
  SMSX_ASSERT(next_lsn > 0);
  SMSX_ASSERT(options.segment_bytes_max > kSegmentHeaderBytes);
  std::vector<NamedFile> segments;
  PERSIST_RETURN_IF_ERROR(list_segments(env, dir, &segments));
  for (const NamedFile& segment : segments) {
    if (segment.lsn > next_lsn) {
      return Status::invalid_argument("cannot start the WAL at LSN " + std::to_string(next_lsn) +
                                      ": " + segment.path + " starts later");
    }
    if (segment.lsn == next_lsn) {
      // Recreating it is safe only if it holds no record (a crash right after creation).
      bool empty = false;
      PERSIST_RETURN_IF_ERROR(holds_no_record(env, segment.path, &empty));
      if (!empty) {
        return Status::invalid_argument("cannot start the WAL at LSN " + std::to_string(next_lsn) +
                                        ": " + segment.path + " already holds records");
      }
    }
  }
  // The records recovery read from the last segment may still be only in the page cache:
  // a process that died between a commit's write() and its fdatasync() leaves them there,
  // and recovery reads them as if durable. Synced now, before records after them are
  // acknowledged; otherwise a power loss later could tear a segment that is no longer the
  // last, and recovery would stop at the gap.
  const auto recovered = std::find_if(segments.rbegin(), segments.rend(),
                                      [&](const NamedFile& f) { return f.lsn < next_lsn; });
  if (recovered != segments.rend() && options.durability == Durability::kFdatasync) {
    std::unique_ptr<WritableFile> last;
    PERSIST_RETURN_IF_ERROR(env.open_for_overwrite(recovered->path, &last));
    PERSIST_RETURN_IF_ERROR(last->sync());
    PERSIST_RETURN_IF_ERROR(last->close());
  }
  // A spare left by an earlier run may be incomplete: a new one is written when needed.
  const std::string spare = join_path(dir, kSpareSegmentName);
  if (env.file_exists(spare)) PERSIST_RETURN_IF_ERROR(env.delete_file(spare));
  std::unique_ptr<WalWriter> result(new WalWriter(env, dir, options, next_lsn));
  PERSIST_RETURN_IF_ERROR(result->start_segment(next_lsn));
  *writer = std::move(result);
  return Status();
}

WalWriter::WalWriter(Env& env, std::string dir, const WalWriterOptions& options, uint64_t next_lsn)
    : env_(env),
      dir_(std::move(dir)),
      options_(options),
      next_lsn_(next_lsn),
      io_next_lsn_(next_lsn),
      durable_lsn_(next_lsn - 1) {}

WalWriter::~WalWriter() {
  if (spare_thread_.joinable()) spare_thread_.join();
  if (file_ != nullptr) (void)file_->close();
}

Status WalWriter::append(uint8_t type, std::span<const uint8_t> payload, uint64_t* lsn) {
  if (failed()) [[unlikely]] {
    return status();
  }
  const uint64_t assigned = next_lsn_++;
  const bool batch_start = pending_.empty();
  if (batch_start) pending_.first_lsn = assigned;
  pending_.last_lsn = assigned;
  // In a preallocated segment each write's first record is marked (kRecordBatchStartFlag);
  // last_appended_crc_ is the CRC without the mark, as read_record_crc() gives it.
  const bool mark = batch_start && options_.preallocation != Preallocation::kNone;
  last_appended_crc_ = append_record(&pending_.bytes, assigned, type, payload, mark);
  if (mark) last_appended_crc_ = record_crc(assigned, type, payload);
  if (lsn != nullptr) *lsn = assigned;
  return Status();
}

Status WalWriter::commit() {
  if (failed()) return status();
  if (pending_.empty()) return Status();
  WalBatch batch = take_batch();
  Status result = write_batch(batch);
  recycle_batch(std::move(batch));
  return result;
}

WalBatch WalWriter::take_batch() {
  WalBatch batch = std::move(pending_);
  if (spare_.empty()) {
    pending_ = WalBatch();
  } else {
    pending_ = std::move(spare_.back());
    spare_.pop_back();
  }
  SMSX_ASSERT(pending_.empty());
  // Both ends of the boundary: the LSN range must match what append() handed out.
  SMSX_ASSERT(batch.empty() || batch.last_lsn + 1 == next_lsn_);
  return batch;
}

void WalWriter::recycle_batch(WalBatch&& batch) {
  if (spare_.size() >= kSpareBatchesMax) return;
  batch.bytes.clear();
  batch.first_lsn = 0;
  batch.last_lsn = 0;
  spare_.push_back(std::move(batch));
}

Status WalWriter::write_batch(const WalBatch& batch) {
  if (failed()) return status();
  if (batch.empty()) return Status();
  // Batches must arrive whole and in order: a gap here would be a gap on disk.
  SMSX_ASSERT(batch.first_lsn == io_next_lsn_);
  SMSX_ASSERT(batch.last_lsn >= batch.first_lsn);
  SMSX_ASSERT(batch.bytes.size() >= kRecordHeaderBytes);
  SMSX_ASSERT(decode_u64(batch.bytes.data() + kRecordLsnOffset) == batch.first_lsn);

  const bool segment_has_records = io_next_lsn_ > segment_first_lsn_;
  if (segment_has_records && file_->size() + batch.bytes.size() > options_.segment_bytes_max) {
    PERSIST_RETURN_IF_ERROR(start_segment(batch.first_lsn));
  }
  const uint64_t size_before = file_->size();
  Status written = file_->append(batch.bytes);
  if (!written.ok()) return fail(std::move(written));
  if (options_.durability == Durability::kFdatasync) {
    Status synced = file_->sync();
    if (!synced.ok()) {
      // Linux marks the pages of a failed fdatasync clean and reports the error once: they
      // stay readable in the page cache without being on disk, and a later fdatasync (the
      // one WalWriter::open makes after a restart) would not write them. Recovery would
      // read the batch as if durable. Cut it off (truncate syncs); if that fails too, the
      // node stops anyway and its log needs an operator.
      (void)env_.truncate_file(segment_path_, size_before);
      return fail(std::move(synced));
    }
  }
  io_next_lsn_ = batch.last_lsn + 1;
  durable_lsn_.store(batch.last_lsn, std::memory_order_release);
  return Status();
}

// Closes the current segment (all of it already synced) and creates `first_lsn`'s, durably:
// header synced and the folder entry synced before any record goes in, so a record is
// never durable in a file whose name could vanish in a crash.
Status WalWriter::start_segment(uint64_t first_lsn) {
  if (file_ != nullptr) {
    Status closed = file_->close();
    file_.reset();
    if (!closed.ok()) return fail(std::move(closed));
  }
  const std::string path = join_path(dir_, segment_file_name(first_lsn));
  uint8_t header[kSegmentHeaderBytes];
  encode_segment_header(first_lsn, header,
                        options_.preallocation == Preallocation::kNone
                            ? kSegmentVersion
                            : kSegmentVersionPreallocated);
  Status status = create_segment_file(path);
  if (status.ok()) status = file_->append(header);
  if (status.ok() && options_.durability == Durability::kFdatasync) {
    status = file_->sync();
    if (status.ok()) status = env_.sync_dir(dir_);
  }
  if (!status.ok()) return fail(std::move(status));
  segment_first_lsn_ = first_lsn;
  segment_path_ = path;
  if (options_.preallocation == Preallocation::kBackground) prepare_spare_in_background();
  return Status();
}

// Opens `path` as file_, positioned at 0. Preallocated, it is the spare renamed: a crash
// before the header is synced leaves a segment of zeros, which recovery reads as empty.
Status WalWriter::create_segment_file(const std::string& path) {
  if (options_.preallocation == Preallocation::kNone) return env_.new_writable_file(path, &file_);
  PERSIST_RETURN_IF_ERROR(take_spare());
  PERSIST_RETURN_IF_ERROR(env_.rename_file(spare_path(), path));
  return env_.open_for_overwrite(path, &file_);
}

std::string WalWriter::spare_path() const { return join_path(dir_, kSpareSegmentName); }

Status WalWriter::write_spare() const {
  return write_zero_file(env_, spare_path(), options_.segment_bytes_max,
                         options_.durability == Durability::kFdatasync);
}

void WalWriter::prepare_spare_in_background() {
  SMSX_ASSERT(!spare_thread_.joinable());
  try {
    spare_thread_ = std::thread([this] { spare_status_ = write_spare(); });
  } catch (const std::system_error&) {
    // No thread to be had (resource limits): take_spare() writes the spare when needed.
  }
}

// Makes sure the spare exists, zero-filled and synced: the helper's, or one written now.
Status WalWriter::take_spare() {
  if (spare_thread_.joinable()) {
    spare_thread_.join();
    // A helper's failure is retried here, where a failure stops the log.
    if (spare_status_.ok() && env_.file_exists(spare_path())) return Status();
  }
  return write_spare();
}

Status WalWriter::fail(Status status) {
  SMSX_ASSERT(!status.ok());
  if (!failed()) {
    failure_ = status;
    failed_.store(true, std::memory_order_release);
  }
  return status;
}

Status WalWriter::status() const {
  if (!failed()) return Status();
  return failure_;
}

}  // namespace smsx::persistence

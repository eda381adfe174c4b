#include "persistence/recovery.h"

#include <algorithm>
#include <chrono>

#include "core/byte_io.h"
#include "persistence/command_codec.h"
#include "persistence/decoded_log_reader.h"
#include "persistence/file_names.h"
#include "persistence/snapshot_store.h"
#include "persistence/wal_format.h"
#include "persistence/wal_record.h"

namespace smsx::persistence {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Hands the engine's bytes to a snapshot file; keeps the first error.
class SnapshotSink final : public ByteSink {
 public:
  explicit SnapshotSink(SnapshotWriter& writer) : writer_(writer) {}
  bool write(std::span<const uint8_t> bytes) override {
    status_ = writer_.append(bytes);
    return status_.ok();
  }
  const Status& status() const { return status_; }

 private:
  SnapshotWriter& writer_;
  Status status_;
};

// The snapshots older than `below_lsn`, newest first, that verify and load. A snapshot whose
// checksum is right but whose body the engine refuses (another format version, or a bug)
// is skipped like a corrupt one: the older snapshot and a longer replay give the same state.
Status load_older_snapshot(Env& env, const SnapshotStore& store, const std::string& snapshot_dir,
                           uint64_t below_lsn, const EngineConfig& config,
                           std::unique_ptr<Engine>* engine, RecoveryInfo* info) {
  std::vector<NamedFile> snapshots;
  PERSIST_RETURN_IF_ERROR(list_snapshots(env, snapshot_dir, &snapshots));
  std::vector<uint8_t> bytes;
  for (auto it = snapshots.rbegin(); it != snapshots.rend(); ++it) {
    if (it->lsn >= below_lsn) continue;
    uint64_t lsn = 0;
    Status status = store.verify(it->path, &lsn);
    if (status.ok()) status = env.read_file(it->path, &bytes);
    if (status.ok() && bytes.size() < kSnapshotHeaderBytes) {
      status = Status::corruption(it->path + ": shorter than a snapshot header");
    }
    if (!status.ok()) {
      info->skipped_snapshots.push_back(it->path + ": " + status.to_string());
      continue;
    }
    std::string error;
    *engine =
        Engine::load(std::span<const uint8_t>(bytes).subspan(kSnapshotHeaderBytes), config, &error);
    if (*engine == nullptr) {
      info->skipped_snapshots.push_back(it->path + ": " + error);
      continue;
    }
    info->snapshot_lsn = lsn;
    info->snapshot_path = it->path;
    return Status();
  }
  std::string message = "no snapshot loads:";
  for (const std::string& skipped : info->skipped_snapshots) message += " [" + skipped + "]";
  return Status::corruption(message);
}

Status load_snapshot(Env& env, const std::string& wal_dir, const std::string& snapshot_dir,
                     const EngineConfig& config, std::unique_ptr<Engine>* engine,
                     RecoveryInfo* info) {
  const SnapshotStore store(env, snapshot_dir, wal_dir);
  LoadedSnapshot loaded;
  Status status = store.load_newest_valid(&loaded);
  info->skipped_snapshots = loaded.corrupt;
  PERSIST_RETURN_IF_ERROR(status);
  if (!loaded.found) {  // a new data folder: replay the WAL from LSN 1
    *engine = std::make_unique<Engine>(config);
    return Status();
  }
  std::string error;
  *engine = Engine::load(loaded.body(), config, &error);
  if (*engine != nullptr) {
    info->snapshot_lsn = loaded.lsn;
    info->snapshot_path = loaded.path;
    return Status();
  }
  info->skipped_snapshots.push_back(loaded.path + ": " + error);
  return load_older_snapshot(env, store, snapshot_dir, loaded.lsn, config, engine, info);
}

// The segment holding `lsn`, for error messages.
std::string segment_of(Env& env, const std::string& wal_dir, uint64_t lsn) {
  std::vector<NamedFile> segments;
  if (!list_segments(env, wal_dir, &segments).ok()) return wal_dir;
  std::string path = wal_dir;
  for (const NamedFile& segment : segments) {
    if (segment.lsn <= lsn) path = segment.path;
  }
  return path;
}

// At most this many request ids are reserved before a replay (about 330 MB of table): a log
// that holds more than the retention period keeps fewer ids than records, and a very long
// one (snapshots failing for days) must not make the start-up allocate for all of them.
// Beyond it the table grows as it fills.
constexpr uint64_t kReservedIdsMax = 4'000'000;

// The bytes of the last segment that may hold records: its size when appended (version 1);
// up to its last non-zero byte when preallocated (version 2: zeros after its last record),
// read back from the end 1 MiB at a time. 0 if it has no valid header or cannot be read.
uint64_t last_segment_bytes(Env& env, const std::string& path) {
  std::unique_ptr<ReadableFile> file;
  uint64_t size = 0;
  if (!env.new_readable_file(path, &file).ok() || !file->size(&size).ok()) return 0;
  uint8_t header[kSegmentHeaderBytes];
  size_t got = 0;
  uint64_t first_lsn = 0;
  uint32_t version = 0;
  if (!file->read_at(0, header, &got).ok() || got < kSegmentHeaderBytes ||
      check_segment_header(header, &first_lsn, &version) != SegmentHeaderCheck::kOk) {
    return 0;  // no valid header: no record (an empty segment a crash left) or an error
  }
  if (version != kSegmentVersionPreallocated) return size;
  std::vector<uint8_t> chunk(1 << 20);
  for (uint64_t end = size; end > 0;) {
    const uint64_t begin = end > chunk.size() ? end - chunk.size() : 0;
    const size_t n = static_cast<size_t>(end - begin);
    if (!file->read_at(begin, std::span<uint8_t>(chunk.data(), n), &got).ok() || got != n) {
      return size;
    }
    const auto last = std::find_if(chunk.rend() - static_cast<ptrdiff_t>(n), chunk.rend(),
                                   [](uint8_t b) { return b != 0; });
    if (last != chunk.rend()) return begin + static_cast<uint64_t>(chunk.rend() - last);
    end = begin;
  }
  return 0;
}

// About how many records the log holds after `lsn`: for every segment but the last, from
// the segments' first LSNs (exact); for the last, its bytes over the size of a typical
// place-order record (most records are keyed, and most are about that size or larger; it
// may overcount by the part of that segment a snapshot covers).
// 0 if the segments cannot be listed: the replay then reports the error.
uint64_t records_after_estimate(Env& env, const std::string& wal_dir, uint64_t lsn) {
  std::vector<NamedFile> segments;
  if (!list_segments(env, wal_dir, &segments).ok() || segments.empty()) return 0;
  uint64_t records = 0;
  for (size_t i = 0; i + 1 < segments.size(); ++i) {
    const uint64_t from = std::max(segments[i].lsn, lsn + 1);
    if (segments[i + 1].lsn > from) records += segments[i + 1].lsn - from;
  }
  return records + last_segment_bytes(env, segments.back().path) / kPlaceOrderRecordBytesMax;
}

// How many commands ahead of the one being applied replay prefetches: enough to cover a
// cache miss with the work of applying the ones in between. BM_Replay (2.55M records): no
// prefetch 896-901 ms, 8 ahead 827-883, 16 ahead 789-829, 32 and 64 no better than 16.
constexpr size_t kPrefetchAhead = 16;

Status replay(Env& env, const std::string& wal_dir, Engine& engine, RecoveryInfo* info) {
  // What stopped the replay early, if anything. Named after the helper thread is gone: it
  // may still be using the Env until then.
  uint64_t bad_lsn = 0;
  Error unchanged = Error::kNone;  // the record at bad_lsn changed nothing (and why)
  Status undecodable;              // or it did not decode
  Status read;
  {
    // Sized before the helper starts: it may use the Env as soon as it exists.
    engine.reserve_request_ids(
        std::min(records_after_estimate(env, wal_dir, info->snapshot_lsn), kReservedIdsMax));
    DecodedLogReader log(env, wal_dir, info->snapshot_lsn + 1);
    while (bad_lsn == 0) {
      const DecodedBatch* batch = log.next();
      if (batch == nullptr) break;
      for (size_t i = 0; i < batch->size; ++i) {
        if (i + kPrefetchAhead < batch->size) {
          engine.prefetch(batch->commands[i + kPrefetchAhead].command);
        }
        const Reply reply =
            engine.apply(batch->commands[i].command, nullptr, Engine::ReplyUse::kChangedOnly);
        if (!reply.changed) {
          bad_lsn = batch->lsns[i];
          unchanged = reply.error;
          break;
        }
        ++info->records_replayed;
      }
      if (bad_lsn == 0 && !batch->decode_error.ok()) {
        bad_lsn = batch->decode_error_lsn;
        undecodable = batch->decode_error;
      }
    }
    if (bad_lsn == 0) {
      read = log.status();
      info->last_lsn = log.last_lsn();
      info->torn_tail = log.torn_tail();
    }
  }
  if (!undecodable.ok()) {
    return Status::corruption(segment_of(env, wal_dir, bad_lsn) + ": " + undecodable.message());
  }
  if (bad_lsn != 0) {
    return Status::corruption(
        segment_of(env, wal_dir, bad_lsn) + ": LSN " + std::to_string(bad_lsn) +
        " was logged as a change but " + "replaying it changes nothing (" +
        std::string(error_name(unchanged)) + "): the log does not continue this state");
  }
  return read;
}

}  // namespace

Status recover(Env& env, const std::string& wal_dir, const std::string& snapshot_dir,
               const EngineConfig& config, std::unique_ptr<Engine>* engine, RecoveryInfo* info) {
  const Clock::time_point start = Clock::now();
  *info = RecoveryInfo();
  std::unique_ptr<Engine> recovered;
  PERSIST_RETURN_IF_ERROR(load_snapshot(env, wal_dir, snapshot_dir, config, &recovered, info));
  info->snapshot_ms = ms_since(start);
  const Clock::time_point replay_start = Clock::now();
  PERSIST_RETURN_IF_ERROR(replay(env, wal_dir, *recovered, info));
  info->replay_ms = ms_since(replay_start);
  info->elapsed_ms = ms_since(start);
  *engine = std::move(recovered);
  return Status();
}

Status take_snapshot(Env& env, const std::string& wal_dir, const std::string& snapshot_dir,
                     const Engine& engine, uint64_t lsn, bool prune, SnapshotInfo* info) {
  const Clock::time_point start = Clock::now();
  *info = SnapshotInfo();
  const SnapshotStore store(env, snapshot_dir, wal_dir);
  std::unique_ptr<SnapshotWriter> writer;
  PERSIST_RETURN_IF_ERROR(store.begin(lsn, &writer));
  SnapshotSink sink(*writer);
  if (!engine.save(sink)) return sink.status();  // the writer deletes its temporary file
  PERSIST_RETURN_IF_ERROR(writer->finish());
  info->path = writer->path();
  info->body_bytes = writer->body_bytes();
  info->write_ms = ms_since(start);
  if (prune) PERSIST_RETURN_IF_ERROR(store.prune(&info->deleted));
  return Status();
}

}  // namespace smsx::persistence

#include "net/replica_stream.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <vector>

#include "persistence/command_codec.h"
#include "persistence/wal_record.h"

namespace smsx::net {
namespace {

// Catch-up is fed only while less than this is queued on the socket, and at most this
// much per loop iteration, so a standby far behind never stalls the loop or eats memory.
constexpr size_t kQueuedBytesMax = 4 << 20;
// How an error of the log's reader begins (pump_from_files() retries those).
constexpr std::string_view kLogReadError = "reading the log: ";
// A standby this far behind on live batches is dropped; it comes back and catches up from
// the files (memory stays bounded).
constexpr size_t kLiveQueuedBytesMax = 64 << 20;
// Batches timed for the standby-time histogram and not yet acknowledged, at most.
constexpr size_t kSentLiveTimedMax = 1 << 16;

struct WriteChunk {
  uv_write_t req{};
  std::string bytes;
};

}  // namespace

ReplicaStream::ReplicaStream(uv_stream_t* tcp, persistence::Env& env, std::string wal_dir,
                             uint64_t from_lsn, std::string snapshot_path, uint64_t snapshot_bytes,
                             Counters counters)
    : tcp_(tcp),
      env_(env),
      wal_dir_(std::move(wal_dir)),
      next_lsn_(from_lsn),
      acked_lsn_(from_lsn - 1),
      counters_(counters) {
  if (!snapshot_path.empty()) {
    snapshot_fd_ = ::open(snapshot_path.c_str(), O_RDONLY | O_CLOEXEC);
    snapshot_left_ = snapshot_bytes;
    if (snapshot_fd_ < 0) failed_ = true;
  }
}

ReplicaStream::~ReplicaStream() {
  if (snapshot_fd_ >= 0) ::close(snapshot_fd_);
}

size_t ReplicaStream::queued_bytes() const { return uv_stream_get_write_queue_size(tcp_); }

bool ReplicaStream::write(std::string bytes) {
  auto* chunk = new WriteChunk;
  chunk->bytes = std::move(bytes);
  chunk->req.data = chunk;
  uv_buf_t buf = uv_buf_init(chunk->bytes.data(), static_cast<unsigned>(chunk->bytes.size()));
  bytes_sent_ += chunk->bytes.size();
  // The callback frees only the chunk: it also runs (cancelled) when the connection closes,
  // after this stream may be gone.
  int rc = uv_write(&chunk->req, tcp_, &buf, 1,
                    [](uv_write_t* req, int) { delete static_cast<WriteChunk*>(req->data); });
  if (rc != 0) {
    delete chunk;
    return false;
  }
  return true;
}

std::string ReplicaStream::pump(const persistence::WalBatch* batch, uint64_t durable_lsn) {
  if (failed_) return "cannot read the snapshot to send";
  if (snapshot_fd_ >= 0) {
    std::string error = pump_snapshot();
    if (!error.empty() || snapshot_fd_ >= 0) return error;
  }
  std::string error = pump_records(batch, durable_lsn);
  if (!error.empty()) return error;
  const uint64_t durable_sent = std::min(durable_lsn, next_lsn_ - 1);
  if (durable_sent > told_durable_lsn_) {
    std::vector<uint8_t> mark;
    persistence::append_record(&mark, durable_sent, kPrimaryDurableType, {});
    if (!write(std::string(reinterpret_cast<const char*>(mark.data()), mark.size()))) {
      return "write failed";
    }
    told_durable_lsn_ = durable_sent;
  }
  return "";
}

std::string ReplicaStream::pump_records(const persistence::WalBatch* batch, uint64_t durable_lsn) {
  if (reader_ == nullptr && batch != nullptr && !batch->empty() && batch->first_lsn == next_lsn_) {
    if (queued_bytes() > kLiveQueuedBytesMax) return "the standby does not keep up";
    if (!write(
            std::string(reinterpret_cast<const char*>(batch->bytes.data()), batch->bytes.size()))) {
      return "write failed";
    }
    counters_.sent_live->inc(batch->last_lsn - batch->first_lsn + 1);
    next_lsn_ = batch->last_lsn + 1;
    sent_live_.emplace_back(batch->last_lsn, uv_hrtime());
    if (sent_live_.size() > kSentLiveTimedMax) sent_live_.pop_front();  // a standby not acking
    return "";
  }
  if (next_lsn_ <= durable_lsn) return pump_from_files(durable_lsn);
  return "";
}

std::string ReplicaStream::pump_snapshot() {
  while (snapshot_left_ > 0 && queued_bytes() < kQueuedBytesMax) {
    std::string chunk(std::min<uint64_t>(snapshot_left_, 1 << 20), '\0');
    ssize_t n = ::read(snapshot_fd_, chunk.data(), chunk.size());
    if (n <= 0) return std::string("reading the snapshot: ") + (n < 0 ? strerror(errno) : "EOF");
    chunk.resize(static_cast<size_t>(n));
    snapshot_left_ -= static_cast<uint64_t>(n);
    if (!write(std::move(chunk))) return "write failed";
  }
  if (snapshot_left_ == 0) {
    ::close(snapshot_fd_);
    snapshot_fd_ = -1;
  }
  return "";
}

std::string ReplicaStream::pump_from_files(uint64_t durable_lsn) {
  if (queued_bytes() >= kQueuedBytesMax) return "";
  // A reader kept from an earlier pump holds the live segment as it was when it was read:
  // in a preallocated segment that can include a batch the commit thread was still
  // writing, seen half-written (zeros, then some of its pages). What it reports as damage
  // is checked again by a reader loaded now, which sees every record up to durable_lsn
  // whole.
  const bool kept_reader = reader_ != nullptr;
  std::string error = send_from_log(durable_lsn);
  if (!error.empty() && kept_reader && error.rfind(kLogReadError, 0) == 0) {
    reader_.reset();
    error = send_from_log(durable_lsn);
  }
  return error;
}

std::string ReplicaStream::send_from_log(uint64_t durable_lsn) {
  if (reader_ == nullptr) {
    persistence::WalReaderOptions options;
    options.truncate_torn_tail = false;  // the writer owns the log; only read it
    reader_ = std::make_unique<persistence::WalReader>(env_, wal_dir_, persistence::is_command_type,
                                                       options);
    persistence::Status st = reader_->seek(next_lsn_);
    if (!st.ok()) {
      reader_.reset();
      return "the log from LSN " + std::to_string(next_lsn_) + " is gone (" + st.to_string() +
             "); the standby needs a snapshot";
    }
  }
  std::vector<uint8_t> out;
  uint64_t records = 0;
  persistence::WalRecord record;
  while (out.size() < kQueuedBytesMax && next_lsn_ <= durable_lsn && reader_->next(&record)) {
    if (record.lsn != next_lsn_) return "the log skips from " + std::to_string(next_lsn_);
    persistence::append_record(&out, record.lsn, record.type, record.payload);
    ++next_lsn_;
    ++records;
  }
  if (!reader_->status().ok()) {
    std::string error = std::string(kLogReadError) + reader_->status().to_string();
    reader_.reset();
    if (!out.empty() &&
        !write(std::string(reinterpret_cast<const char*>(out.data()), out.size()))) {
      return "write failed";
    }
    counters_.sent_from_log->inc(records);
    return error;
  }
  // At the end of what was on disk when the segment was read: read afresh next time (or
  // take live batches once nothing is missing).
  if (next_lsn_ > durable_lsn || out.size() < kQueuedBytesMax) reader_.reset();
  if (!out.empty() && !write(std::string(reinterpret_cast<const char*>(out.data()), out.size()))) {
    return "write failed";
  }
  counters_.sent_from_log->inc(records);
  return "";
}

bool ReplicaStream::on_ack_line(std::string_view line) {
  constexpr std::string_view kPrefix = "ack ";
  if (line.substr(0, kPrefix.size()) != kPrefix) return false;
  line.remove_prefix(kPrefix.size());
  uint64_t lsn = 0;
  auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), lsn);
  if (ec != std::errc() || end != line.data() + line.size() || lsn >= next_lsn_) return false;
  if (lsn > acked_lsn_) acked_lsn_ = lsn;
  const uint64_t now = uv_hrtime();
  while (!sent_live_.empty() && sent_live_.front().first <= lsn) {
    counters_.standby_time->observe(static_cast<double>(now - sent_live_.front().second) / 1e9);
    sent_live_.pop_front();
  }
  return true;
}

}  // namespace smsx::net

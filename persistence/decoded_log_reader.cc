#include "persistence/decoded_log_reader.h"

#include "core/assert.h"

namespace smsx::persistence {

DecodedLogReader::DecodedLogReader(Env& env, std::string dir, uint64_t from_lsn)
    : thread_([this, &env, dir = std::move(dir), from_lsn] { run(env, dir, from_lsn); }) {}

DecodedLogReader::~DecodedLogReader() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

const DecodedBatch* DecodedLogReader::next() {
  std::unique_lock<std::mutex> lock(mu_);
  if (current_) {
    free_.push_back(std::move(current_));
    changed_.notify_all();
  }
  changed_.wait(lock, [&] { return !full_.empty() || finished_; });
  if (full_.empty()) return nullptr;
  current_ = std::move(full_.front());
  full_.pop_front();
  changed_.notify_all();
  return current_.get();
}

void DecodedLogReader::run(Env& env, const std::string& dir, uint64_t from_lsn) {
  WalReader reader(env, dir, is_command_type);
  Status seek = reader.seek(from_lsn);
  bool more = seek.ok();
  uint64_t decode_error_lsn = 0;
  while (more) {
    std::unique_ptr<DecodedBatch> batch;
    {
      std::unique_lock<std::mutex> lock(mu_);
      changed_.wait(lock, [&] { return stop_ || !free_.empty() || batches_ < kBatchesInFlight; });
      if (stop_) break;
      if (!free_.empty()) {
        batch = std::move(free_.back());
        free_.pop_back();
      } else {
        ++batches_;
      }
    }
    if (!batch) batch = std::make_unique<DecodedBatch>();
    more = fill(reader, *batch);
    if (!batch->decode_error.ok()) decode_error_lsn = batch->decode_error_lsn;
    if (batch->size == 0 && batch->decode_error.ok()) break;  // nothing more
    std::lock_guard<std::mutex> lock(mu_);
    full_.push_back(std::move(batch));
    changed_.notify_all();
  }
  std::lock_guard<std::mutex> lock(mu_);
  status_ = seek.ok() ? reader.status() : seek;
  // After a record that does not decode, the log ends before it, as for a WalReader loop
  // that stops there (the reader itself went on to the end of that batch).
  last_lsn_ = decode_error_lsn != 0 ? decode_error_lsn - 1 : reader.last_lsn();
  if (decode_error_lsn == 0) torn_tail_ = reader.torn_tail();
  finished_ = true;
  changed_.notify_all();
}

bool DecodedLogReader::fill(WalReader& reader, DecodedBatch& batch) {
  batch.size = 0;
  batch.decode_error = Status();
  batch.decode_error_lsn = 0;
  batch.payloads.clear();
  batch.lsns.clear();
  batch.spans.clear();
  batch.types.clear();
  // Payloads are copied first and decoded after, once `payloads` no longer grows.
  WalRecord record;
  bool more = true;
  while (batch.lsns.size() < kBatchRecords && batch.payloads.size() < kBatchPayloadBytes) {
    if (!reader.next(&record)) {
      more = false;
      break;
    }
    batch.spans.emplace_back(batch.payloads.size(), record.payload.size());
    batch.types.push_back(record.type);
    batch.lsns.push_back(record.lsn);
    batch.payloads.insert(batch.payloads.end(), record.payload.begin(), record.payload.end());
  }
  if (batch.commands.size() < batch.lsns.size()) batch.commands.resize(batch.lsns.size());
  for (size_t i = 0; i < batch.lsns.size(); ++i) {
    const auto [offset, length] = batch.spans[i];
    const WalRecord copy{batch.lsns[i], batch.types[i],
                         std::span<const uint8_t>(batch.payloads.data() + offset, length)};
    Status status = decode_command(copy, &batch.commands[i]);
    if (!status.ok()) {
      batch.decode_error = std::move(status);
      batch.decode_error_lsn = copy.lsn;
      return false;  // nothing after a record that does not decode is read
    }
    ++batch.size;
  }
  return more;
}

}  // namespace smsx::persistence

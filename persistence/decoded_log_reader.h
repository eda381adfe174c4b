// DecodedLogReader: the write-ahead log read, checked and decoded on a helper thread, a few
// batches ahead of the thread that applies it (recovery's replay).
//
// Replay is two kinds of work: reading, CRC-checking and decoding records (about a quarter
// of it), and applying them to the engine. On a machine with a second core they overlap, and
// the applying thread sees the next commands of a batch before it applies them, so it can
// prefetch what they will touch (Engine::prefetch).
//
// The records, their order and every error are exactly those of a WalReader over the same
// folder (a torn tail is cut off the same way): the helper runs one, copies each batch of
// payloads into the batch's own storage and decodes them there. One difference: the helper
// reads up to three batches ahead, so when the owner stops early (a record it cannot apply)
// the WalReader may already have reached the end of the log and cut off a torn tail there,
// which a WalReader loop stopping at that record would not have reached yet. (The tail is
// unacknowledged data either way; recovery fails in that case.)
//
// Usage:
//   DecodedLogReader log(env, dir, from_lsn);
//   while (const DecodedBatch* batch = log.next()) {
//     for (size_t i = 0; i < batch->size; ++i) apply(batch->commands[i].command);
//     if (!batch->decode_error.ok()) { ...record batch->decode_error_lsn is bad... }
//   }
//   if (!log.status().ok()) ...;   // the WalReader's error (reading, CRC, gap, ...)
//
// The helper thread reads only: the Env must allow reading and truncating files from a
// thread other than its creator's, with no other thread using it meanwhile.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "persistence/command_codec.h"
#include "persistence/env.h"
#include "persistence/status.h"
#include "persistence/wal_reader.h"

namespace smsx::persistence {

struct DecodedBatch {
  size_t size = 0;                       // records decoded: commands[0, size) and lsns
  std::vector<DecodedCommand> commands;  // views into `payloads`; longer than size (reused)
  std::vector<uint64_t> lsns;
  // A record that did not decode ends the batch and the log: it is the record after the
  // last decoded one, with this LSN and error (the WalReader itself found nothing wrong).
  Status decode_error;
  uint64_t decode_error_lsn = 0;

  // The reader's storage: payloads back to back, each record's (offset, length) and type.
  std::vector<uint8_t> payloads;
  std::vector<std::pair<size_t, size_t>> spans;
  std::vector<uint8_t> types;
};

class DecodedLogReader {
 public:
  // Starts the helper thread, which reads from `from_lsn` (>= 1) on.
  DecodedLogReader(Env& env, std::string dir, uint64_t from_lsn);
  // Stops the helper (at once, mid-log if need be) and joins it.
  ~DecodedLogReader();
  DecodedLogReader(const DecodedLogReader&) = delete;
  DecodedLogReader& operator=(const DecodedLogReader&) = delete;

  // The next batch (valid until the next call), or nullptr at the end of the log, after a
  // decode error, or on a WalReader error. A batch holds at least one record or an error.
  const DecodedBatch* next();

  // Valid once next() returned nullptr: as WalReader's status(), last_lsn(), torn_tail(). After
  // a decode error, last_lsn() is the record before it and torn_tail() is empty.
  const Status& status() const { return status_; }
  uint64_t last_lsn() const { return last_lsn_; }
  const std::optional<TornTail>& torn_tail() const { return torn_tail_; }

 private:
  static constexpr size_t kBatchRecords = 4096;
  static constexpr size_t kBatchPayloadBytes = 256 * 1024;  // a batch ends past this
  static constexpr size_t kBatchesInFlight = 3;

  void run(Env& env, const std::string& dir, uint64_t from_lsn);
  // Fills `batch` from `reader`; false when the log ended (batch may still hold records).
  static bool fill(WalReader& reader, DecodedBatch& batch);

  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<std::unique_ptr<DecodedBatch>> full_;  // decoded, in log order
  std::vector<std::unique_ptr<DecodedBatch>> free_;
  size_t batches_ = 0;                     // made so far, at most kBatchesInFlight
  bool finished_ = false;                  // the helper sent its last batch
  bool stop_ = false;                      // the owner is going away
  std::unique_ptr<DecodedBatch> current_;  // the batch next() returned last

  // Written by the helper before it sets finished_; read by the owner after.
  Status status_;
  uint64_t last_lsn_ = 0;
  std::optional<TornTail> torn_tail_;

  std::thread thread_;  // last: it starts once everything above exists
};

}  // namespace smsx::persistence

// The primary's side of one standby (DESIGN.md "Replication", docs/protocol.md "replicate").
//
// After the standby's `replicate` request is answered, its connection carries, in order:
// the bytes of a snapshot file when one is needed (the reply says how many), then WAL
// records from the LSN the reply names, each encoded exactly as in a segment file
// (docs/wal_format.md "Records": CRC, length, LSN, type, payload), so the standby checks
// every record's CRC and LSN as recovery would. The standby answers with lines
// "ack <LSN>\n": every record up to that LSN is durable in its own WAL.
//
// A standby that is behind is fed from the segment files (durable records only), a bounded
// amount per loop iteration and only while its socket keeps up; once it has everything it
// gets each batch as it is, when the server hands the batch to its commit thread, before it
// is durable on the primary: the standby's fdatasync then runs alongside the primary's. A
// primary that stops before its batch is durable may therefore have sent records it no
// longer has; the server compares a standby's last record with its own when the standby
// connects, and sends a snapshot if they differ.
// Loop thread only.
#pragma once

#include <uv.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <utility>

#include "core/command.h"
#include "net/metrics.h"
#include "persistence/env.h"
#include "persistence/wal_reader.h"
#include "persistence/wal_writer.h"

namespace smsx::net {

// In the stream only, never in a log: a record of this type, with no payload, says that
// every record up to its LSN is durable on the primary. A standby applies (and shows its
// clients) only records the primary has said so of; it writes and acknowledges them earlier.
inline constexpr uint8_t kPrimaryDurableType = 0xFF;
static_assert(static_cast<unsigned>(Op::kCount) <= kPrimaryDurableType,
              "a command's record type is its op (persistence/command_codec.h)");

class ReplicaStream {
 public:
  // `tcp`: the standby's connection (outlives this object). The stream starts with the
  // snapshot at `snapshot_path` (`snapshot_bytes` long; none when the path is empty), then
  // the records from `from_lsn`. Records sent are counted in `sent_live` (the server's batches
  // passed on as they are) and `sent_from_log` (read back from the segment files); each batch
  // passed on as it is is timed from sending to this standby's acknowledgement of it in
  // `standby_time` (seconds).
  struct Counters {
    Counter* sent_live;
    Counter* sent_from_log;
    Histogram* standby_time;
  };
  ReplicaStream(uv_stream_t* tcp, persistence::Env& env, std::string wal_dir, uint64_t from_lsn,
                std::string snapshot_path, uint64_t snapshot_bytes, Counters counters);
  ~ReplicaStream();
  ReplicaStream(const ReplicaStream&) = delete;
  ReplicaStream& operator=(const ReplicaStream&) = delete;

  // Sends what is due: the rest of the snapshot, records from the segment files, or
  // `batch` (may be null or empty) when it is the next one; then, if the standby holds
  // records it has not been told are durable here and some now are, a kPrimaryDurableType
  // mark. Every record up to durable_lsn is on disk. Returns "" or why the stream must end (the
  // standby reconnects and asks again).
  std::string pump(const persistence::WalBatch* batch, uint64_t durable_lsn);

  // An "ack <LSN>" line from the standby; false if it is not one, or acknowledges an LSN
  // that was never sent.
  bool on_ack_line(std::string_view line);

  uint64_t acked_lsn() const { return acked_lsn_; }
  uint64_t next_lsn() const { return next_lsn_; }  // the next record to send
  uint64_t bytes_sent() const { return bytes_sent_; }

 private:
  // Hands `bytes` to libuv (one write; the buffer is freed when it is done).
  bool write(std::string bytes);
  std::string pump_snapshot();
  std::string pump_from_files(uint64_t durable_lsn);
  std::string send_from_log(uint64_t durable_lsn);
  std::string pump_records(const persistence::WalBatch* batch, uint64_t durable_lsn);
  size_t queued_bytes() const;

  uv_stream_t* tcp_;
  persistence::Env& env_;
  std::string wal_dir_;
  uint64_t next_lsn_;
  uint64_t acked_lsn_;
  uint64_t told_durable_lsn_ = 0;  // the LSN of the last kPrimaryDurableType mark sent
  // Batches passed on as they are, not yet acknowledged: (last LSN, uv_hrtime() when sent).
  std::deque<std::pair<uint64_t, uint64_t>> sent_live_;
  int snapshot_fd_ = -1;
  uint64_t snapshot_left_ = 0;
  std::unique_ptr<persistence::WalReader> reader_;  // while catching up from files
  uint64_t bytes_sent_ = 0;
  Counters counters_;
  bool failed_ = false;
};

}  // namespace smsx::net

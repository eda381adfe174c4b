// The standby's side of replication (DESIGN.md "Replication", docs/protocol.md "replicate").
//
// Connects to the primary, says `hello` with the replica token and asks for the log from
// the standby's next LSN (`replicate`, with its epoch and its own gateway address). Then it
// receives, in order: a snapshot file when the primary sends one (written to the snapshot
// folder, synced and renamed into place before the handler is told), and WAL records, each
// checked (CRC, length) as recovery would and handed to the handler in LSN order. The
// server writes them to its own WAL, applies them, and after its commit calls ack().
//
// When the connection fails or the primary refuses, it tries again after a back-off
// (100 ms, doubling to 5 s; back to 100 ms once a stream has started). Loop thread only.
#pragma once

#include <uv.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/config.h"
#include "persistence/wal_record.h"

namespace smsx::net {

// A snapshot received from the primary is written as this prefix + its snapshot file name
// + kTempSuffix until the server accepts it: a name that neither recovery nor
// SnapshotStore::prune (nor a local snapshot's own temporary file) takes for one of theirs.
inline constexpr std::string_view kReceivedSnapshotPrefix = "received-";

class ReplicationClient {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    // Where to start: the next LSN this node needs, and its epoch.
    virtual uint64_t replication_next_lsn() = 0;
    virtual uint64_t replication_epoch() = 0;
    // The CRC field of this node's record at replication_next_lsn() - 1 into *crc, left
    // empty when its log no longer holds that record: the primary checks that both logs
    // agree there. "" or why the log could not be read (the client tries again later).
    virtual std::string replication_last_record_crc(std::optional<uint32_t>* crc) = 0;
    // The primary accepted: its epoch and its last durable LSN when it answered.
    virtual void on_stream_started(uint64_t primary_epoch, uint64_t primary_lsn) = 0;
    // A snapshot at `lsn` was received whole into the temporary file `received` (synced):
    // check it, put it in place and replace the whole state with it. "" or why not (the
    // client then deletes `received`, disconnects and tries again later); a snapshot that
    // is refused is never left where recovery would load it.
    virtual std::string on_snapshot(const std::string& received, uint64_t lsn) = 0;
    // The next record. "" or why it cannot be taken (the client disconnects).
    virtual std::string on_record(const persistence::WalRecord& record) = 0;
    // Every record up to `lsn` is durable on the primary (docs/protocol.md "replicate"). ""
    // or why this node cannot go on (the client disconnects).
    virtual std::string on_primary_durable(uint64_t lsn) = 0;
  };

  ReplicationClient(uv_loop_t* loop, const ReplicationConfig& config, std::string own_listen,
                    std::string snapshot_dir, Handler& handler);
  ~ReplicationClient();
  ReplicationClient(const ReplicationClient&) = delete;
  ReplicationClient& operator=(const ReplicationClient&) = delete;

  void start();
  // Closes the connection and stops trying (promotion, shutdown). on_stopped runs once the
  // handles are closed.
  void stop(void (*on_stopped)(void*), void* arg);
  // Tells the primary every record up to `lsn` is durable here.
  void ack(uint64_t lsn);

  bool streaming() const { return phase_ == Phase::kSnapshot || phase_ == Phase::kRecords; }
  // The highest LSN the primary is known to have (from its reply and the records since).
  uint64_t primary_lsn() const { return primary_lsn_; }
  // Milliseconds (loop time) when the last record arrived; 0 if none yet.
  uint64_t last_record_ms() const { return last_record_ms_; }

  // libuv callbacks (public for the C trampolines).
  void on_connected(int status);
  void on_read(ssize_t nread);
  uv_buf_t input_buffer();
  void on_closed();
  void on_retry_timer();

 private:
  enum class Phase { kIdle, kConnecting, kHelloReply, kReplicateReply, kSnapshot, kRecords };

  void connect();
  void fail(const std::string& why);
  void send(std::string bytes);
  bool handle_reply_line(std::string_view line);
  bool consume_snapshot();
  bool consume_records();
  void schedule_retry();

  uv_loop_t* loop_;
  const ReplicationConfig config_;
  const std::string own_listen_;
  const std::string snapshot_dir_;
  Handler& handler_;

  uv_tcp_t tcp_{};
  uv_connect_t connect_req_{};
  uv_timer_t retry_timer_{};
  bool tcp_open_ = false;
  bool stopping_ = false;
  int handles_open_ = 0;
  void (*on_stopped_)(void*) = nullptr;
  void* on_stopped_arg_ = nullptr;

  Phase phase_ = Phase::kIdle;
  uint64_t backoff_ms_ = 100;
  std::vector<uint8_t> in_;  // received, not yet consumed: in_[consumed_, filled_)
  size_t consumed_ = 0;
  size_t filled_ = 0;
  uint64_t snapshot_lsn_ = 0;
  uint64_t snapshot_left_ = 0;
  int snapshot_fd_ = -1;
  std::string snapshot_tmp_;
  uint64_t primary_lsn_ = 0;
  uint64_t last_record_ms_ = 0;
  uint64_t last_ack_ = 0;
};

}  // namespace smsx::net

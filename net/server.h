// smsxd's loop: accept gateways, frame, parse, authorize, stamp, apply, log, commit, reply.
//
// One libuv loop on one thread owns everything here, the engine included. One iteration:
// read callbacks parse and apply every complete request (replies go to each connection's
// pending output, WAL records to the writer's batch); then, in the prepare phase right
// before the loop polls again, the whole batch goes to the commit thread (commit_thread.h),
// which writes and fdatasyncs it once (group commit) while the loop reads and applies the
// next requests (a standby writes and syncs on the loop thread instead). Each connection's output
// is written, one write per connection, once the records it depends on (everything applied before
// it was written) are durable. Nothing is acknowledged or shown before it is durable; if the WAL
// cannot be written the server stops at once (exit status 3) rather than acknowledge, or even show,
// what is not durable: a restart recovers every acknowledged change.
//
// Time: each command is stamped with the wall clock, never going backwards. Expiries: one
// uv timer sleeps until the engine's next wake-up and then applies a tick; when a tick
// stops early (expiries_per_tick_max) the next one runs on the next iteration, after the
// requests that arrived meanwhile, so a storm never stalls the loop.
//
// Replication (DESIGN.md "Replication"): a primary streams its records to each standby that
// sends `replicate` (ReplicaStream), each batch while its own fdatasync of it runs, then a
// mark once it is durable; in sync mode replies wait until a standby has acknowledged the
// records they depend on. A standby (replication.primary set) follows its primary
// (ReplicationClient): it writes and acknowledges the primary's records at once and
// applies them once marked durable on the primary (so that it never shows what a crashed
// primary could lose; at promotion it applies the rest), never ticks
// on its own, answers reads and refuses writes with READ_ONLY until `promote`. The epoch
// and the last standby's address survive restarts (node_state.h); a primary that knows a
// peer asks it at start-up whether a newer primary exists (peer_check.h) and refuses
// writes while it waits for the answer and for good if there is one.
#pragma once

#include <uv.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/engine.h"
#include "net/commit_thread.h"
#include "net/config.h"
#include "net/connection.h"
#include "net/metrics.h"
#include "net/node_state.h"
#include "net/peer_check.h"
#include "net/replication_client.h"
#include "net/request_parser.h"
#include "persistence/env.h"
#include "persistence/snapshot_store.h"
#include "persistence/wal_writer.h"

namespace smsx::net {

struct ServerParts {
  Config config;
  std::vector<GatewayConfig> gateways;  // from the config or the generated gateways file
  std::unique_ptr<Engine> engine;
  std::unique_ptr<persistence::WalWriter> wal;
  persistence::Env* env = nullptr;
  std::string wal_dir, snapshot_dir;
  uint64_t snapshot_lsn = 0;  // LSN of the snapshot recovery started from (0: none)
  // To rebuild the engine and the WAL when a standby receives a snapshot.
  EngineConfig engine_config;
  persistence::WalWriterOptions wal_options;
  NodeState node;  // as loaded from data_dir/node.state
};

class Server : private ReplicationClient::Handler {
 public:
  explicit Server(ServerParts parts);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the listeners on `loop`; an error message, or empty on success.
  std::string start(uv_loop_t* loop);
  // After start(): the ports the listeners got (the system's choice when configured as 0);
  // 0 for the metrics listener when it is off.
  uint16_t gateway_port() const;
  uint16_t metrics_port() const;
  // Runs until SIGINT/SIGTERM, then stops accepting, commits and answers what is in
  // flight, closes every connection and returns.
  void run();

  // Callbacks from libuv (public for the C trampolines in server.cc).
  void on_connection(uv_stream_t* listener, int status);
  void on_read(Connection* c, ssize_t nread);
  void on_write_done(Connection* c, int status);
  void on_closed(Connection* c);
  void before_poll();
  void on_tick_timer();
  void on_signal(int signum);
  void on_snapshot_child_exit(int64_t exit_status);
  void on_metrics_connection(uv_stream_t* listener, int status);
  void refresh_gauges();
  void on_sync_timer();
  void on_peer_checked(const PeerCheck::Result& result);

 private:
  struct Metrics;

  void handle_line(Connection* c, std::string_view line);
  void handle_hello(Connection* c, const ParsedRequest& req);
  void handle_engine_op(Connection* c, ParsedRequest& req);
  void handle_snapshot(Connection* c, std::string_view id);
  void handle_replicate(Connection* c, const ParsedRequest& req);
  std::string standby_log_mismatch(uint64_t lsn, std::optional<uint32_t> standby_crc);
  void pump_replicas(const persistence::WalBatch* batch);
  void handle_promote(Connection* c, std::string_view id);
  void handle_replica_ack(Connection* c, std::string_view line);
  void write_stats_reply(Connection* c, const ParsedRequest& req, const Command& cmd,
                         const Reply& reply);
  bool accepting_writes() const;
  std::string_view read_only_reason() const;
  void submit_commit();
  void commit_all_now();
  void complete_commit(CommitThread::Done done);
  void on_commit_done();
  void update_release_lsn();
  void start_sync_timer();
  bool holds_for_standby(const Connection* c) const;
  void save_node_state_or_log();
  uint64_t replication_lag_records() const;
  uint64_t replication_lag_ms() const;
  // ReplicationClient::Handler (standby).
  uint64_t replication_next_lsn() override;
  uint64_t replication_epoch() override;
  std::string replication_last_record_crc(std::optional<uint32_t>* crc) override;
  void on_stream_started(uint64_t primary_epoch, uint64_t primary_lsn) override;
  std::string on_snapshot(const std::string& received, uint64_t lsn) override;
  std::string on_record(const persistence::WalRecord& record) override;
  std::string on_primary_durable(uint64_t lsn) override;
  void apply_confirmed();
  // The last record in the engine's state: on a standby, records the primary has not yet
  // said are durable on its side are in the WAL but not applied (unapplied_).
  uint64_t applied_lsn() const;
  void apply_logged(const Command& command, Reply* reply);
  void publish_events();
  void mark_dirty(Connection* c);
  void mark_holding_dirty();  // every connection in holding_ (dropping those with none left)
  void flush(Connection* c);
  void close_connection(Connection* c, const char* reason);
  void check_output_limits(Connection* c);
  void schedule_tick();
  uint64_t stamp_now_ms();
  void maybe_snapshot();
  void start_snapshot();
  void begin_shutdown();
  void finish_shutdown_if_idle();

  ServerParts parts_;
  const Config& config_;
  Engine* engine_;               // parts_.engine; replaced when a standby loads a snapshot
  persistence::WalWriter* wal_;  // parts_.wal; likewise
  std::unique_ptr<persistence::SnapshotStore> snapshots_;
  uv_loop_t* loop_ = nullptr;
  uv_tcp_t listener_{};
  uv_tcp_t metrics_listener_{};
  bool metrics_enabled_ = false;
  uv_prepare_t prepare_{};
  uv_timer_t tick_timer_{};
  uv_signal_t sigint_{}, sigterm_{};
  uv_signal_t sigchld_{};
  RequestParser parser_;
  std::vector<Connection*> connections_;
  std::vector<Connection*> dirty_;
  // Connections with output waiting in `held` (a commit or an ack may release it), and those
  // subscribed to events: each commit and each event touches only these, not every
  // connection (thousands of idle gateways must not slow the loop down).
  std::vector<Connection*> holding_;
  std::vector<Connection*> subscribers_;
  std::vector<Event> events_;
  std::vector<uint8_t> record_;
  std::unique_ptr<Metrics> metrics_;
  uint64_t next_connection_id_ = 1;
  uint64_t last_stamp_ms_ = 0;
  bool tick_more_due_ = false;
  bool stopping_ = false;
  int snapshot_child_ = 0;  // pid of a snapshot being written, 0 if none
  uint64_t snapshot_child_lsn_ = 0;
  // Standby: records written to the WAL (and acknowledged) but not applied until the
  // primary says they are durable there (a kPrimaryDurableType mark), so that this node
  // never shows its clients a record the primary could still lose. Encoded as in the log,
  // from unapplied_offset_ on. At most about one batch of the primary's.
  std::vector<uint8_t> unapplied_;
  size_t unapplied_offset_ = 0;
  uint64_t primary_durable_lsn_ = 0;
  uint64_t records_since_snapshot_ = 0;
  uint64_t bytes_since_snapshot_ = 0;
  std::unique_ptr<CommitThread> commit_;  // the WAL's write + fdatasync

  // Replication.
  enum class Fence : uint8_t {
    kNone,      // a primary accepting writes (or a standby: see replication_)
    kChecking,  // asking the peer whether a newer primary exists; writes wait
    kFenced,    // a newer primary exists: writes are refused for good
  };
  NodeState node_;
  Fence fence_ = Fence::kNone;
  uint64_t fenced_by_epoch_ = 0;
  std::unique_ptr<ReplicationClient> replication_;          // set on a standby until promote
  std::unique_ptr<ReplicationClient> retired_replication_;  // stopped by promote
  std::unique_ptr<PeerCheck> peer_check_;
  std::vector<Connection*> replicas_;  // connections streaming to a standby
  uint64_t standby_acked_lsn_ = 0;     // the highest LSN a standby acknowledged
  bool standby_seen_ = false;
  // Committed batches not yet acknowledged by a standby: (last LSN, loop ms at commit).
  std::deque<std::pair<uint64_t, uint64_t>> unacked_batches_;
  uint64_t release_lsn_ = 0;  // output depending on records above this waits (sync mode)
  // The last record whose commit the loop has completed. wal_->durable_lsn() can be ahead:
  // the commit thread publishes it before the loop takes the batch. Standbys are fed up to
  // here, so that a batch about to be shipped live is not also read back from the files.
  uint64_t completed_lsn_ = 0;
  bool sync_degraded_ = false;
  uv_timer_t sync_timer_{};
};

}  // namespace smsx::net

// The replication half of the Server (server.h "Replication"): the primary's side of each
// standby (replicate, acks, sync-mode release, lag), the standby's side (records and
// snapshots from the primary, promote), and fencing (epochs, the start-up peer check).
#include <sys/stat.h>

#include <algorithm>

#include "core/assert.h"
#include "net/log.h"
#include "net/reply_writer.h"
#include "net/server.h"
#include "net/server_metrics.h"
#include "net/state_reset.h"
#include "persistence/coding.h"
#include "persistence/command_codec.h"
#include "persistence/file_names.h"
#include "persistence/recovery.h"
#include "persistence/wal_reader.h"
#include "persistence/wal_record.h"

namespace smsx::net {
namespace {

// Exit status when the state cannot be rebuilt from a snapshot the primary sent.
constexpr int kStandbyResetFailureExit = 4;

}  // namespace

bool Server::accepting_writes() const { return replication_ == nullptr && fence_ == Fence::kNone; }

std::string_view Server::read_only_reason() const {
  if (replication_ != nullptr) return "this node is a standby: send writes to the primary";
  if (fence_ == Fence::kChecking) {
    return "this node is checking whether a newer primary exists; try again shortly";
  }
  return "a newer primary exists (higher epoch): this node refuses writes";
}

bool Server::holds_for_standby(const Connection* c) const {
  return config_.replication.mode == ReplicationMode::kSync && replication_ == nullptr &&
         c->role != Role::kReplica && !c->replica;
}

void Server::save_node_state_or_log() {
  std::string error = save_node_state(config_.data_dir, node_);
  if (!error.empty()) log_error("cannot save the replication state: %s", error.c_str());
}

// Sync mode: output waits until a standby acknowledged the records it depends on, or,
// with a fallback timeout, until the oldest unacknowledged batch is that old.
void Server::update_release_lsn() {
  const uint64_t durable = wal_->durable_lsn();
  if (config_.replication.mode != ReplicationMode::kSync || replication_ != nullptr) {
    release_lsn_ = durable;
    return;
  }
  if (standby_acked_lsn_ >= durable) {
    if (sync_degraded_) log_info("replication: the standby caught up; sync mode again");
    sync_degraded_ = false;
    release_lsn_ = durable;
    return;
  }
  const uint64_t timeout = config_.replication.sync_fallback_timeout_ms;
  if (!sync_degraded_ && timeout > 0 && !unacked_batches_.empty() &&
      (uv_hrtime() - unacked_batches_.front().second) / 1'000'000 >= timeout) {
    sync_degraded_ = true;
    log_warn(
        "replication: no standby acknowledged LSN %llu for %llu ms: answering without it "
        "(async) until a standby catches up",
        static_cast<unsigned long long>(unacked_batches_.front().first),
        static_cast<unsigned long long>(timeout));
  }
  release_lsn_ = sync_degraded_ ? durable : std::max(release_lsn_, standby_acked_lsn_);
}

void Server::on_sync_timer() { mark_holding_dirty(); }

void Server::handle_replicate(Connection* c, const ParsedRequest& req) {
  auto refuse = [&](smsx::Error code, const std::string& why) {
    write_error(&c->pending, req.id, code, why);
    metrics_->request(OpKind::kReplicate, code).inc();
    log_warn("standby on connection %llu (%s) refused: %s", static_cast<unsigned long long>(c->id),
             c->peer.c_str(), why.c_str());
  };
  if (req.epoch > node_.epoch && replication_ == nullptr) {
    fence_ = Fence::kFenced;
    fenced_by_epoch_ = req.epoch;
    log_error("a standby reports epoch %llu, newer than ours (%llu): refusing writes from now on",
              static_cast<unsigned long long>(req.epoch),
              static_cast<unsigned long long>(node_.epoch));
  }
  if (!accepting_writes()) {
    refuse(smsx::Error::kReadOnly, "this node is not a primary");
    return;
  }
  std::vector<persistence::NamedFile> segments, snapshots;
  persistence::Status st = persistence::list_segments(*parts_.env, parts_.wal_dir, &segments);
  if (st.ok()) st = persistence::list_snapshots(*parts_.env, parts_.snapshot_dir, &snapshots);
  if (!st.ok()) {
    refuse(smsx::Error::kOverloaded, "cannot list the log: " + st.to_string());
    return;
  }
  const uint64_t next = wal_->next_lsn();
  const uint64_t first_available = segments.empty() ? next : segments.front().lsn;
  // A lower epoch means the standby's log may hold records this primary never had (an old
  // primary rejoining): it starts over from a snapshot. So does a standby whose next record
  // is no longer in the log, or that is ahead of it.
  bool need_snapshot = req.from_lsn < first_available || req.from_lsn > next ||
                       (req.epoch < node_.epoch && !(req.from_lsn == 1 && first_available == 1));
  // So does a standby whose last record is not this log's record at that LSN: records go to
  // standbys before they are durable here, so a primary that stopped with some of them not
  // yet durable may since have written other records under the same LSNs.
  if (!need_snapshot && req.from_lsn > 1) {
    std::string mismatch = standby_log_mismatch(req.from_lsn - 1, req.last_record_crc);
    if (!mismatch.empty()) {
      need_snapshot = true;
      log_warn("standby on connection %llu (%s) starts over from a snapshot: %s",
               static_cast<unsigned long long>(c->id), c->peer.c_str(), mismatch.c_str());
    }
  }
  uint64_t from = req.from_lsn;
  std::string snapshot_path;
  uint64_t snapshot_bytes = 0;
  if (need_snapshot) {
    const persistence::NamedFile* newest = nullptr;
    for (const persistence::NamedFile& s : snapshots) {
      if (s.lsn + 1 >= first_available && s.lsn < next) newest = &s;
    }
    struct stat info {};
    if (newest == nullptr || ::stat(newest->path.c_str(), &info) != 0) {
      if (snapshot_child_ == 0) {
        commit_all_now();
        start_snapshot();
      }
      refuse(smsx::Error::kOverloaded,
             "the standby needs a snapshot and none is ready yet: one is being written, ask "
             "again shortly");
      return;
    }
    from = newest->lsn + 1;
    snapshot_path = newest->path;
    snapshot_bytes = static_cast<uint64_t>(info.st_size);
  }
  ExtraField extra[] = {{"epoch", node_.epoch},
                        {"from_lsn", from},
                        {"snapshot_bytes", snapshot_bytes},
                        {"last_lsn", wal_->durable_lsn()}};
  write_ok_reply(&c->pending, req.id, extra);
  metrics_->request(OpKind::kReplicate, smsx::Error::kNone).inc();
  c->replica = std::make_unique<ReplicaStream>(
      reinterpret_cast<uv_stream_t*>(&c->tcp), *parts_.env, parts_.wal_dir, from, snapshot_path,
      snapshot_bytes,
      ReplicaStream::Counters{metrics_->replication_sent_live, metrics_->replication_sent_from_log,
                              metrics_->replication_standby});
  replicas_.push_back(c);
  standby_seen_ = true;
  metrics_->standbys->set(static_cast<double>(replicas_.size()));
  // Acks are small lines; a standby is never paused for "requests in flight".
  c->replies_unsent = 0;
  if (!req.listen.empty() && req.listen != node_.peer) {
    node_.peer = std::string(req.listen);
    save_node_state_or_log();
  }
  log_info("standby %s (connection %llu, epoch %llu) follows from LSN %llu%s",
           req.listen.empty() ? c->peer.c_str() : std::string(req.listen).c_str(),
           static_cast<unsigned long long>(c->id), static_cast<unsigned long long>(req.epoch),
           static_cast<unsigned long long>(from),
           snapshot_path.empty() ? "" : (", after the snapshot " + snapshot_path).c_str());
}

// "" when this log's record at `lsn` has the CRC the standby reported for its own; else why
// the two logs cannot be shown to agree there.
std::string Server::standby_log_mismatch(uint64_t lsn, std::optional<uint32_t> standby_crc) {
  // A standby applies only records this node said were durable, so its state can hold a
  // record this node lost only when it recovered that record from its own log after a
  // restart: then the record is in its log and it says its CRC. Without one (its state is
  // a snapshot with no record after it) there is nothing to check.
  if (!standby_crc) return "";
  const std::string at = "LSN " + std::to_string(lsn);
  std::optional<uint32_t> ours;
  if (lsn + 1 == wal_->next_lsn() && wal_->last_appended_crc()) {
    ours = wal_->last_appended_crc();  // a standby that was up to date: no file to read
  } else {
    if (lsn > wal_->durable_lsn()) commit_all_now();  // to read it from the segment files
    persistence::Status st = persistence::read_record_crc(*parts_.env, parts_.wal_dir, lsn, &ours);
    if (!st.ok()) return "cannot read this log at " + at + ": " + st.to_string();
  }
  if (!ours) return "this log no longer holds " + at + " to compare with";
  if (*ours != *standby_crc) return "its record at " + at + " is not this log's";
  return "";
}

void Server::handle_replica_ack(Connection* c, std::string_view line) {
  if (!c->replica->on_ack_line(line)) {
    close_connection(c, "a line from the standby that is not an ack");
    return;
  }
  const uint64_t acked = c->replica->acked_lsn();
  if (acked <= standby_acked_lsn_) return;
  standby_acked_lsn_ = acked;
  const uint64_t now = uv_hrtime();
  while (!unacked_batches_.empty() && unacked_batches_.front().first <= acked) {
    metrics_->replication_ack->observe(static_cast<double>(now - unacked_batches_.front().second) /
                                       1e9);
    unacked_batches_.pop_front();
  }
  if (config_.replication.mode == ReplicationMode::kSync) on_sync_timer();
}

uint64_t Server::replication_lag_records() const {
  const uint64_t durable = wal_->durable_lsn();
  if (replication_ != nullptr) {
    uint64_t primary = replication_->primary_lsn();
    return primary > durable ? primary - durable : 0;
  }
  if (!standby_seen_) return 0;
  return durable > standby_acked_lsn_ ? durable - standby_acked_lsn_ : 0;
}

uint64_t Server::replication_lag_ms() const {
  const uint64_t now = uv_now(loop_);
  if (replication_ != nullptr) {
    uint64_t last = replication_->last_record_ms();
    return replication_lag_records() > 0 && last != 0 && now > last ? now - last : 0;
  }
  if (unacked_batches_.empty()) return 0;
  return (uv_hrtime() - unacked_batches_.front().second) / 1'000'000;
}

void Server::write_stats_reply(Connection* c, const ParsedRequest& req, const Command& cmd,
                               const Reply& reply) {
  // What reads here show: on a standby, records not yet applied are left out.
  ExtraField extra[] = {{"lsn", std::min(wal_->durable_lsn(), applied_lsn())},
                        {"connections", uint64_t{connections_.size()}},
                        {"epoch", node_.epoch},
                        {"primary", replication_ == nullptr && fence_ != Fence::kFenced},
                        {"accepting_writes", accepting_writes()},
                        {"standbys", uint64_t{replicas_.size()}},
                        {"replication_lag_records", replication_lag_records()},
                        {"replication_lag_ms", replication_lag_ms()}};
  write_reply(&c->pending, req.id, cmd, reply, extra);
}

void Server::handle_promote(Connection* c, std::string_view id) {
  if (replication_ == nullptr) {
    write_error(&c->pending, id, smsx::Error::kBadRequest, "this node is not a standby");
    metrics_->request(OpKind::kPromote, smsx::Error::kBadRequest).inc();
    return;
  }
  NodeState promoted = node_;
  promoted.epoch = node_.epoch + 1;
  promoted.peer = config_.replication.primary->to_string();
  std::string error = save_node_state(config_.data_dir, promoted);
  if (!error.empty()) {
    write_error(&c->pending, id, smsx::Error::kOverloaded, "cannot save the new epoch: " + error);
    metrics_->request(OpKind::kPromote, smsx::Error::kOverloaded).inc();
    return;
  }
  node_ = promoted;
  // Records in the WAL that the old primary had not confirmed are this node's history now:
  // applied before it answers anything as the primary. Bytes received and not yet taken
  // (no whole record) are dropped with the connection; they were acknowledged to nobody.
  primary_durable_lsn_ = UINT64_MAX;
  apply_confirmed();
  replication_->stop([](void*) {}, nullptr);
  retired_replication_ = std::move(replication_);
  metrics_->epoch->set(static_cast<double>(node_.epoch));
  start_sync_timer();
  log_warn(
      "promoted: primary under epoch %llu from LSN %llu; the old primary (%s) must rejoin "
      "as a standby",
      static_cast<unsigned long long>(node_.epoch),
      static_cast<unsigned long long>(wal_->next_lsn() - 1), node_.peer.c_str());
  write_promote_reply(&c->pending, id, node_.epoch);
  metrics_->request(OpKind::kPromote, smsx::Error::kNone).inc();
  schedule_tick();
}

void Server::on_peer_checked(const PeerCheck::Result& result) {
  if (result.answered && result.primary && result.epoch >= node_.epoch) {
    fence_ = Fence::kFenced;
    fenced_by_epoch_ = result.epoch;
    log_error(
        "%s is the primary under epoch %llu (ours: %llu): this node refuses writes. To rejoin "
        "as its standby, restart with replication.primary = \"%s\" (docs/operations.md)",
        node_.peer.c_str(), static_cast<unsigned long long>(result.epoch),
        static_cast<unsigned long long>(node_.epoch), node_.peer.c_str());
    return;
  }
  fence_ = Fence::kNone;
  if (result.answered) {
    log_info("%s is not a newer primary (epoch %llu): accepting writes", node_.peer.c_str(),
             static_cast<unsigned long long>(result.epoch));
  } else {
    log_warn("%s did not answer (%s): accepting writes as the primary of epoch %llu",
             node_.peer.c_str(), result.error.c_str(),
             static_cast<unsigned long long>(node_.epoch));
  }
  schedule_tick();
}

// ---- Standby ----------------------------------------------------------------------------

uint64_t Server::replication_next_lsn() { return wal_->next_lsn(); }

uint64_t Server::replication_epoch() { return node_.epoch; }

std::string Server::replication_last_record_crc(std::optional<uint32_t>* crc) {
  crc->reset();
  const uint64_t last = wal_->next_lsn() - 1;
  if (last == 0) return "";
  if ((*crc = wal_->last_appended_crc())) return "";
  // Nothing appended since start-up: the record is in the files, unless only a snapshot
  // covers it (then there is nothing to compare, see standby_log_mismatch()).
  persistence::Status st = persistence::read_record_crc(*parts_.env, parts_.wal_dir, last, crc);
  if (st.ok()) return "";
  return "cannot read this node's record at LSN " + std::to_string(last) + ": " + st.to_string();
}

void Server::on_stream_started(uint64_t primary_epoch, uint64_t) {
  if (primary_epoch > node_.epoch) {
    node_.epoch = primary_epoch;
    save_node_state_or_log();
    metrics_->epoch->set(static_cast<double>(node_.epoch));
  }
}

// A record from the primary goes into the WAL at once (this node acknowledges it once it is
// durable here), and into the engine once the primary says it is durable there too.
std::string Server::on_record(const persistence::WalRecord& record) {
  if (record.lsn != wal_->next_lsn()) {
    return "expected LSN " + std::to_string(wal_->next_lsn()) + ", the primary sent " +
           std::to_string(record.lsn);
  }
  persistence::DecodedCommand decoded;
  persistence::Status st = persistence::decode_command(record, &decoded);
  if (!st.ok()) return "record from the primary: " + st.to_string();
  st = wal_->append(record.type, record.payload);
  if (!st.ok()) {
    log_error("WAL append failed: %s; stopping", st.to_string().c_str());
    std::_Exit(kStandbyResetFailureExit);
  }
  ++records_since_snapshot_;
  bytes_since_snapshot_ += record.payload.size() + persistence::kRecordHeaderBytes;
  persistence::append_record(&unapplied_, record.lsn, record.type, record.payload);
  if (record.lsn <= primary_durable_lsn_) apply_confirmed();
  return "";
}

std::string Server::on_primary_durable(uint64_t lsn) {
  primary_durable_lsn_ = std::max(primary_durable_lsn_, lsn);
  apply_confirmed();
  return "";
}

// Applies, in order, the unapplied records up to primary_durable_lsn_.
void Server::apply_confirmed() {
  while (unapplied_offset_ < unapplied_.size()) {
    persistence::WalRecord record;
    size_t bytes = 0;
    const persistence::RecordCheck check = persistence::check_record(
        std::span<const uint8_t>(unapplied_).subspan(unapplied_offset_), &record, &bytes);
    SMSX_ASSERT(check == persistence::RecordCheck::kIntact);  // written by on_record()
    if (record.lsn > primary_durable_lsn_) break;
    persistence::DecodedCommand decoded;
    persistence::Status st = persistence::decode_command(record, &decoded);
    SMSX_ASSERT(st.ok());  // on_record() decoded it
    events_.clear();
    // Only `changed` is read (and the events): no number is formatted for a placement.
    Reply reply = engine_->apply(decoded.command, &events_, Engine::ReplyUse::kChangedOnly);
    if (!reply.changed) {
      // The record is in this node's log already, so going on (or recovering) would only
      // meet it again: stop. Removing the data folder makes the standby start over from a
      // snapshot of the primary.
      log_error(
          "LSN %llu changes nothing here: this node's state does not match the primary's "
          "log; stopping (remove this standby's data folder and start it again)",
          static_cast<unsigned long long>(record.lsn));
      std::_Exit(kStandbyResetFailureExit);
    }
    unapplied_offset_ += bytes;
    publish_events();
  }
  if (unapplied_offset_ == unapplied_.size()) {
    unapplied_.clear();
    unapplied_offset_ = 0;
  }
}

uint64_t Server::applied_lsn() const {
  if (unapplied_offset_ == unapplied_.size()) return wal_->next_lsn() - 1;
  return persistence::decode_u64(unapplied_.data() + unapplied_offset_ +
                                 persistence::kRecordLsnOffset) -
         1;
}

// The primary sent a snapshot: this node's state and log are replaced by it (its own log
// may hold records the primary never had).
std::string Server::on_snapshot(const std::string& received, uint64_t lsn) {
  if (snapshot_child_ != 0) return "a local snapshot is being written; later";
  persistence::Status st = snapshots_->verify_as(received, lsn);
  if (!st.ok()) return "the snapshot does not verify: " + st.to_string();
  const std::string path =
      persistence::join_path(parts_.snapshot_dir, persistence::snapshot_file_name(lsn));
  // From here until end_state_reset() a crash leaves a mark: the next start-up discards
  // what is in the folders instead of recovering from a mix of two histories.
  st = begin_state_reset(*parts_.env, config_.data_dir);
  if (!st.ok()) return "cannot mark the state as being replaced: " + st.to_string();
  commit_all_now();
  parts_.wal.reset();
  wal_ = nullptr;
  std::vector<persistence::NamedFile> segments, snapshots;
  st = persistence::list_segments(*parts_.env, parts_.wal_dir, &segments);
  if (st.ok()) st = persistence::list_snapshots(*parts_.env, parts_.snapshot_dir, &snapshots);
  for (const persistence::NamedFile& f : segments) {
    if (st.ok()) st = parts_.env->delete_file(f.path);
  }
  for (const persistence::NamedFile& f : snapshots) {
    if (st.ok() && f.path != path) st = parts_.env->delete_file(f.path);
  }
  if (st.ok()) st = parts_.env->sync_dir(parts_.wal_dir);
  if (st.ok()) st = parts_.env->rename_file(received, path);
  if (st.ok()) st = parts_.env->sync_dir(parts_.snapshot_dir);
  persistence::RecoveryInfo info;
  std::unique_ptr<Engine> engine;
  if (st.ok()) {
    st = persistence::recover(*parts_.env, parts_.wal_dir, parts_.snapshot_dir,
                              parts_.engine_config, &engine, &info);
  }
  if (st.ok()) {
    st = persistence::WalWriter::open(*parts_.env, parts_.wal_dir, info.last_lsn + 1,
                                      parts_.wal_options, &parts_.wal);
  }
  if (st.ok()) st = end_state_reset(*parts_.env, config_.data_dir);
  if (!st.ok()) {
    log_error("cannot restart from the primary's snapshot %s: %s", path.c_str(),
              st.to_string().c_str());
    std::_Exit(kStandbyResetFailureExit);
  }
  parts_.engine = std::move(engine);
  engine_ = parts_.engine.get();
  wal_ = parts_.wal.get();
  completed_lsn_ = wal_->durable_lsn();
  metrics_->lsn->set(static_cast<double>(completed_lsn_));
  records_since_snapshot_ = bytes_since_snapshot_ = 0;
  unapplied_.clear();  // records of the history the snapshot replaced
  unapplied_offset_ = 0;
  primary_durable_lsn_ = lsn;
  log_info("replaced the state with the primary's snapshot at LSN %llu (%llu active orders)",
           static_cast<unsigned long long>(lsn),
           static_cast<unsigned long long>(engine_->stats().active_orders));
  return "";
}

}  // namespace smsx::net

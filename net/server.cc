#include "net/server.h"

#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>

#include "core/assert.h"
#include "net/log.h"
#include "net/metrics_listener.h"
#include "net/reply_writer.h"
#include "net/roles.h"
#include "net/server_metrics.h"
#include "persistence/command_codec.h"
#include "persistence/file_names.h"
#include "persistence/recovery.h"

namespace smsx::net {
namespace {

// Exit status when the WAL cannot be written: nothing unacknowledged may be shown.
constexpr int kWalFailureExit = 3;
// A connection whose unsent output is above this stops being read until it drains.
constexpr size_t kReadPauseBytes = 1 << 20;
// How long a restarting primary waits for its last standby's answer (peer_check.h).
constexpr uint64_t kPeerCheckTimeoutMs = 3000;
// Committed batches remembered for the replication lag; beyond this the oldest are dropped
// (the lag then shows a lower bound).
constexpr size_t kUnackedBatchesMax = 1 << 20;

Server* server_of(uv_handle_t* h) { return static_cast<Server*>(h->data); }
Connection* connection_of(uv_handle_t* h) { return static_cast<Connection*>(h->data); }

uint64_t wall_ms() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1'000'000;
}

uint64_t mono_ns() { return uv_hrtime(); }

// Token comparison that takes the same time wherever the first difference is.
bool tokens_equal(std::string_view a, std::string_view b) {
  size_t n = std::max(a.size(), b.size());
  unsigned diff = a.size() == b.size() ? 0u : 1u;
  for (size_t i = 0; i < n; ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned>(x ^ y);
  }
  return diff == 0;
}

std::string peer_name(uv_tcp_t* tcp) {
  sockaddr_storage addr{};
  int len = sizeof addr;
  if (uv_tcp_getpeername(tcp, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return "?";
  char host[64] = "?";
  int port = 0;
  if (addr.ss_family == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&addr);
    uv_ip4_name(in, host, sizeof host);
    port = ntohs(in->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&addr);
    uv_ip6_name(in6, host, sizeof host);
    port = ntohs(in6->sin6_port);
  }
  return std::string(host) + ":" + std::to_string(port);
}

int bind_listener(uv_loop_t* loop, uv_tcp_t* tcp, const Endpoint& at, uv_connection_cb cb,
                  std::string* error) {
  uv_tcp_init(loop, tcp);
  sockaddr_storage addr{};
  int rc = at.ipv6 ? uv_ip6_addr(at.host.c_str(), at.port, reinterpret_cast<sockaddr_in6*>(&addr))
                   : uv_ip4_addr(at.host.c_str(), at.port, reinterpret_cast<sockaddr_in*>(&addr));
  if (rc == 0) rc = uv_tcp_bind(tcp, reinterpret_cast<sockaddr*>(&addr), 0);
  if (rc == 0) rc = uv_listen(reinterpret_cast<uv_stream_t*>(tcp), 1024, cb);
  if (rc != 0) *error = "cannot listen on " + at.to_string() + ": " + uv_strerror(rc);
  return rc;
}

void alloc_input(uv_handle_t* h, size_t, uv_buf_t* buf) {
  std::span<char> room = connection_of(h)->framer.writable();
  *buf = uv_buf_init(room.data(), static_cast<unsigned>(room.size()));
}

void read_input(uv_stream_t* s, ssize_t nread, const uv_buf_t*) {
  Connection* c = connection_of(reinterpret_cast<uv_handle_t*>(s));
  c->server->on_read(c, nread);
}

// Reads go straight into the connection's framer: no copy before parsing.
void start_reading(Connection* c) {
  c->reading = true;
  uv_read_start(reinterpret_cast<uv_stream_t*>(&c->tcp), alloc_input, read_input);
}

}  // namespace

Server::Server(ServerParts parts)
    : parts_(std::move(parts)),
      config_(parts_.config),
      engine_(parts_.engine.get()),
      wal_(parts_.wal.get()),
      parser_(config_.limits.frame_bytes_max),
      metrics_(std::make_unique<Metrics>()),
      node_(parts_.node) {
  snapshots_ = std::make_unique<persistence::SnapshotStore>(*parts_.env, parts_.snapshot_dir,
                                                            parts_.wal_dir);
}

Server::~Server() = default;

std::string Server::start(uv_loop_t* loop) {
  loop_ = loop;
  std::string error;
  listener_.data = this;
  if (bind_listener(
          loop, &listener_, config_.listen,
          [](uv_stream_t* l, int status) {
            server_of(reinterpret_cast<uv_handle_t*>(l))->on_connection(l, status);
          },
          &error) != 0) {
    return error;
  }
  if (config_.metrics_listen) {
    metrics_listener_.data = this;
    if (bind_listener(
            loop, &metrics_listener_, *config_.metrics_listen,
            [](uv_stream_t* l, int status) {
              server_of(reinterpret_cast<uv_handle_t*>(l))->on_metrics_connection(l, status);
            },
            &error) != 0) {
      return error;
    }
    metrics_enabled_ = true;
  }
  uv_prepare_init(loop, &prepare_);
  prepare_.data = this;
  uv_prepare_start(&prepare_, [](uv_prepare_t* p) {
    server_of(reinterpret_cast<uv_handle_t*>(p))->before_poll();
  });
  uv_timer_init(loop, &tick_timer_);
  tick_timer_.data = this;
  for (auto [sig, handle] : {std::pair{SIGINT, &sigint_}, std::pair{SIGTERM, &sigterm_}}) {
    uv_signal_init(loop, handle);
    handle->data = this;
    uv_signal_start(
        handle,
        [](uv_signal_t* h, int s) { server_of(reinterpret_cast<uv_handle_t*>(h))->on_signal(s); },
        sig);
  }
  uv_signal_init(loop, &sigchld_);
  sigchld_.data = this;
  uv_signal_start(
      &sigchld_,
      [](uv_signal_t* h, int) {
        auto* s = server_of(reinterpret_cast<uv_handle_t*>(h));
        int status = 0;
        if (s->snapshot_child_ != 0) {
          pid_t pid = waitpid(s->snapshot_child_, &status, WNOHANG);
          if (pid == s->snapshot_child_)
            s->on_snapshot_child_exit(WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        }
      },
      SIGCHLD);
  commit_ = std::make_unique<CommitThread>(
      loop, [](void* server) { static_cast<Server*>(server)->on_commit_done(); }, this);
  uv_timer_init(loop, &sync_timer_);
  sync_timer_.data = this;
  release_lsn_ = completed_lsn_ = wal_->durable_lsn();
  metrics_->epoch->set(static_cast<double>(node_.epoch));
  if (config_.replication.primary) {
    // The primary remembers this address to ask at its restart whether we were promoted; a
    // wildcard address would make it ask itself, so none is sent then (fencing off).
    const bool wildcard = config_.listen.host == "0.0.0.0" || config_.listen.host == "::";
    if (wildcard) {
      log_warn(
          "listen is a wildcard address: the primary cannot ask this standby after a "
          "failover whether it was promoted (docs/operations.md, \"Fencing\")");
    }
    replication_ = std::make_unique<ReplicationClient>(
        loop, config_.replication, wildcard ? "" : config_.listen.to_string(), parts_.snapshot_dir,
        static_cast<ReplicationClient::Handler&>(*this));
    replication_->start();
    log_info("standby of %s (epoch %llu): answering reads, refusing writes",
             config_.replication.primary->to_string().c_str(),
             static_cast<unsigned long long>(node_.epoch));
  } else if (!node_.peer.empty()) {
    const GatewayConfig* replica = nullptr;
    for (const GatewayConfig& g : parts_.gateways) {
      if (g.role == Role::kReplica && replica == nullptr) replica = &g;
    }
    if (replica == nullptr) {
      log_warn("cannot ask %s whether a newer primary exists: no replica token configured",
               node_.peer.c_str());
    } else {
      fence_ = Fence::kChecking;
      log_info("asking the last standby (%s) whether a newer primary exists before writing",
               node_.peer.c_str());
      peer_check_ =
          std::make_unique<PeerCheck>(loop, node_.peer, replica->token, kPeerCheckTimeoutMs,
                                      [this](const PeerCheck::Result& r) { on_peer_checked(r); });
      peer_check_->start();
    }
  }
  start_sync_timer();
  schedule_tick();
  return "";
}

// Sync mode with a fallback timeout: wakes the loop so that held replies are released when
// the standby stays silent (update_release_lsn()), even when nothing else happens.
void Server::start_sync_timer() {
  if (config_.replication.mode != ReplicationMode::kSync || replication_ ||
      config_.replication.sync_fallback_timeout_ms == 0) {
    return;
  }
  uint64_t every = std::clamp<uint64_t>(config_.replication.sync_fallback_timeout_ms / 4, 1, 50);
  uv_timer_start(
      &sync_timer_,
      [](uv_timer_t* t) { server_of(reinterpret_cast<uv_handle_t*>(t))->on_sync_timer(); }, every,
      every);
}

void Server::run() { uv_run(loop_, UV_RUN_DEFAULT); }

uint64_t Server::stamp_now_ms() {
  last_stamp_ms_ = std::max({last_stamp_ms_, wall_ms(), engine_->now_ms()});
  return last_stamp_ms_;
}

namespace {

uint16_t bound_port(const uv_tcp_t* listener) {
  sockaddr_storage addr{};
  int len = sizeof addr;
  if (uv_tcp_getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
  if (addr.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
  return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
}

}  // namespace

uint16_t Server::gateway_port() const { return bound_port(&listener_); }

uint16_t Server::metrics_port() const {
  return metrics_enabled_ ? bound_port(&metrics_listener_) : 0;
}

void Server::on_connection(uv_stream_t* listener, int status) {
  if (status < 0) {
    log_warn("accept failed: %s", uv_strerror(status));
    return;
  }
  auto* c = new Connection(this, next_connection_id_++, config_.limits.frame_bytes_max);
  uv_tcp_init(loop_, &c->tcp);
  c->tcp.data = c;
  if (uv_accept(listener, reinterpret_cast<uv_stream_t*>(&c->tcp)) != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp),
             [](uv_handle_t* h) { delete connection_of(h); });
    return;
  }
  uv_tcp_nodelay(&c->tcp, 1);
  c->peer = peer_name(&c->tcp);
  if (stopping_ || connections_.size() >= config_.limits.connections_max) {
    log_warn("connection %llu from %s refused: %s", static_cast<unsigned long long>(c->id),
             c->peer.c_str(), stopping_ ? "shutting down" : "connections_max reached");
    c->closing = true;
    uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp),
             [](uv_handle_t* h) { delete connection_of(h); });
    return;
  }
  connections_.push_back(c);
  metrics_->connections->set(static_cast<double>(connections_.size()));
  log_info("connection %llu from %s", static_cast<unsigned long long>(c->id), c->peer.c_str());
  start_reading(c);
}

void Server::on_read(Connection* c, ssize_t nread) {
  if (nread == 0 || c->closing) return;
  if (nread < 0) {
    close_connection(c, nread == UV_EOF ? "closed by peer" : uv_strerror(static_cast<int>(nread)));
    return;
  }
  c->framer.commit(static_cast<size_t>(nread));
  std::string_view line;
  for (;;) {
    if (c->close_after_flush) break;
    FrameStatus st = c->framer.next(&line);
    if (st == FrameStatus::kNeedMore) break;
    if (st == FrameStatus::kFrameTooLarge) {
      write_error(&c->pending, "", smsx::Error::kFrameTooLarge, "line longer than frame_bytes_max");
      ++c->replies_unsent;
      c->close_after_flush = true;
      mark_dirty(c);
      log_warn("connection %llu: frame too large, closing", static_cast<unsigned long long>(c->id));
      break;
    }
    handle_line(c, line);
  }
  if (c->close_after_flush && c->reading) {
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&c->tcp));
    c->reading = false;
  }
  check_output_limits(c);
}

void Server::check_output_limits(Connection* c) {
  if (c->closing) return;
  if (c->output_bytes() > config_.limits.output_bytes_max) {
    metrics_->disconnects_slow->inc();
    log_warn(
        "connection %llu (%s): %zu bytes of replies unread (output_bytes_max %llu); "
        "disconnecting",
        static_cast<unsigned long long>(c->id), c->peer.c_str(), c->output_bytes(),
        static_cast<unsigned long long>(config_.limits.output_bytes_max));
    close_connection(c, "output limit");
    return;
  }
  // Back-pressure: too many requests in flight or too much unsent output pauses reading.
  bool over = c->replies_unsent >= config_.limits.requests_in_flight_max ||
              c->output_bytes() >= kReadPauseBytes;
  if (over && c->reading) {
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&c->tcp));
    c->reading = false;
  }
}

void Server::handle_line(Connection* c, std::string_view line) {
  if (c->replica) {
    handle_replica_ack(c, line);
    return;
  }
  c->arrivals.push_back(mono_ns());
  ++c->replies_unsent;
  mark_dirty(c);
  ParsedRequest req;
  ParseError perr;
  bool parsed = parser_.parse(line, c->framer.readable_bytes_from(line), &req, &perr);
  std::optional<OpKind> op = parsed ? std::optional<OpKind>(req.op) : perr.op;
  smsx::Error access = access_error(c->role, op);
  if (access != smsx::Error::kNone && !(op == OpKind::kHello)) {
    write_error(&c->pending, parsed ? req.id : perr.id, access,
                access == smsx::Error::kUnauthorized ? "send hello with a token first"
                                                     : "this role may not do that");
    if (op) metrics_->request(*op, access).inc();
    return;
  }
  if (!parsed) {
    write_parse_error(&c->pending, perr);
    if (op) metrics_->request(*op, perr.code).inc();
    return;
  }
  if (needs_id(req.op) && !accepting_writes()) {
    write_error(&c->pending, req.id, smsx::Error::kReadOnly, read_only_reason());
    metrics_->request(req.op, smsx::Error::kReadOnly).inc();
    return;
  }
  switch (req.op) {
    case OpKind::kHello:
      handle_hello(c, req);
      return;
    case OpKind::kSubscribe:
      if (c->subscriptions == 0 && req.events != 0) subscribers_.push_back(c);
      c->subscriptions |= req.events;
      write_ok_reply(&c->pending, req.id);
      metrics_->request(req.op, smsx::Error::kNone).inc();
      return;
    case OpKind::kSnapshot:
      handle_snapshot(c, req.id);
      return;
    case OpKind::kDigest:
      // Every record applied so far is in the state, committed or about to be.
      write_digest_reply(&c->pending, req.id, applied_lsn(), engine_->digest());
      metrics_->request(req.op, smsx::Error::kNone).inc();
      return;
    case OpKind::kPromote:
      handle_promote(c, req.id);
      return;
    case OpKind::kReplicate:
      handle_replicate(c, req);
      return;
    default:
      handle_engine_op(c, req);
  }
}

void Server::handle_hello(Connection* c, const ParsedRequest& req) {
  const GatewayConfig* found = nullptr;
  for (const GatewayConfig& g : parts_.gateways) {
    if (tokens_equal(req.token, g.token)) found = &g;  // no early exit: constant time
  }
  if (found == nullptr) {
    ++c->auth_failures;
    metrics_->auth_failures->inc();
    metrics_->request(OpKind::kHello, smsx::Error::kUnauthorized).inc();
    log_warn("connection %llu (%s): hello with an unknown token (%u of %llu)",
             static_cast<unsigned long long>(c->id), c->peer.c_str(), c->auth_failures,
             static_cast<unsigned long long>(config_.limits.auth_failures_max));
    write_error(&c->pending, req.id, smsx::Error::kUnauthorized, "unknown token");
    if (c->auth_failures >= config_.limits.auth_failures_max) c->close_after_flush = true;
    return;
  }
  c->role = found->role;
  c->gateway = found;
  log_info("connection %llu (%s): hello as %s (%s)", static_cast<unsigned long long>(c->id),
           c->peer.c_str(), found->name.c_str(), std::string(role_name(found->role)).c_str());
  write_hello_reply(&c->pending, req.id, found->role, node_.epoch,
                    std::min(wal_->durable_lsn(), applied_lsn()),
                    replication_ == nullptr && fence_ != Fence::kFenced);
  metrics_->request(OpKind::kHello, smsx::Error::kNone).inc();
}

void Server::handle_engine_op(Connection* c, ParsedRequest& req) {
  Command& cmd = req.command;
  // A standby only reads, at the time of the last record it applied: its own clock would
  // move the engine's time past that of the primary's next records, which then could
  // apply differently here (a refund at the end of its window, an id's eviction).
  cmd.now_ms = replication_ != nullptr ? engine_->now_ms() : stamp_now_ms();
  cmd.actor = c->gateway->name;
  if (needs_id(req.op)) cmd.key = make_request_key(c->gateway->name, req.id);
  Reply reply;
  apply_logged(cmd, &reply);
  if (reply.changed || reply.replayed) c->output_lsn = wal_->next_lsn() - 1;
  if (req.op == OpKind::kStats) {
    write_stats_reply(c, req, cmd, reply);
  } else {
    write_reply(&c->pending, req.id, cmd, reply);
  }
  metrics_->request(req.op, reply.error).inc();
  publish_events();
}

// Applies a command and, when it changed state, adds its record to the WAL batch.
void Server::apply_logged(const Command& command, Reply* reply) {
  events_.clear();
  *reply = engine_->apply(command, &events_);
  if (!reply->changed) return;
  uint8_t type = persistence::encode_command(command, *reply, &record_);
  persistence::Status st = wal_->append(type, record_);
  if (!st.ok()) {
    log_error("WAL append failed: %s; stopping so that nothing unlogged is acknowledged",
              st.to_string().c_str());
    std::_Exit(kWalFailureExit);
  }
  ++records_since_snapshot_;
  bytes_since_snapshot_ += record_.size() + persistence::kRecordHeaderBytes;
}

void Server::publish_events() {
  for (const Event& e : events_) {
    EventSet bit = event_bit(e.kind);
    for (Connection* s : subscribers_) {
      if ((s->subscriptions & bit) == 0 || s->closing) continue;
      write_event(&s->pending, e);
      s->output_lsn = applied_lsn();  // the change it reports (sync mode waits for it)
      mark_dirty(s);
    }
  }
  events_.clear();
}

void Server::mark_dirty(Connection* c) {
  if (c->dirty) return;
  c->dirty = true;
  dirty_.push_back(c);
}

// Group commit: this iteration's records go to the commit thread as one batch (one write,
// one fdatasync) while the loop goes on; at most one batch is in flight, so the records
// that arrive meanwhile form the next one. Standbys that are up to date get the batch now,
// so that their fdatasync runs while ours does (nothing is answered before both the batch
// is durable here and, in sync mode, a standby has it; a standby's log is checked against
// this one when it connects, handle_replicate()).
//
// A standby writes and syncs on its loop thread instead: it has no clients' writes to go
// on with meanwhile, and each hand-off to the commit thread and back was a wake-up that
// delayed its acknowledgement.
void Server::submit_commit() {
  if (wal_->pending_bytes() == 0) return;
  if (replication_ != nullptr) {
    commit_all_now();
    return;
  }
  if (commit_->busy()) return;
  persistence::WalBatch batch = wal_->take_batch();
  pump_replicas(&batch);
  commit_->submit(wal_, std::move(batch));
}

// Feeds each standby whose `replicate` reply is out: `batch` when it is next in its stream
// (null: none), else what it still needs from the segment files up to completed_lsn_.
void Server::pump_replicas(const persistence::WalBatch* batch) {
  std::vector<Connection*> replicas = replicas_;  // closing one edits replicas_
  for (Connection* c : replicas) {
    if (c->closing || !c->pending.empty() || !c->held.empty()) continue;
    std::string error = c->replica->pump(batch, completed_lsn_);
    if (!error.empty()) close_connection(c, error.c_str());
  }
}

void Server::on_commit_done() {
  std::optional<CommitThread::Done> done = commit_->take();
  if (done) complete_commit(std::move(*done));
}

// Synchronously: the batch in flight, then everything still pending. For the callers that
// need the state and the log to agree now (snapshots, a standby replacing its state).
void Server::commit_all_now() {
  if (std::optional<CommitThread::Done> done = commit_->wait()) complete_commit(std::move(*done));
  if (wal_->pending_bytes() == 0) return;
  CommitThread::Done done{wal_->take_batch(), {}, 0};
  const uint64_t t0 = mono_ns();
  done.status = wal_->write_batch(done.batch);
  done.write_ns = mono_ns() - t0;
  complete_commit(std::move(done));
}

// A batch is durable: its output may go (once a standby has it, in sync mode), standbys that
// are up to date get the same bytes, and a standby acknowledges what it now has.
void Server::complete_commit(CommitThread::Done done) {
  if (!done.status.ok()) {
    // Replies for this batch were promised to nobody yet; they must never be sent.
    log_error("WAL commit failed: %s; stopping so that nothing undurable is acknowledged",
              done.status.to_string().c_str());
    std::_Exit(kWalFailureExit);
  }
  metrics_->fsync->observe(static_cast<double>(done.write_ns) / 1e9);
  if (!done.batch.empty()) {
    SMSX_ASSERT(done.batch.first_lsn == completed_lsn_ + 1);  // batches complete in order
    completed_lsn_ = done.batch.last_lsn;
  }
  metrics_->lsn->set(static_cast<double>(completed_lsn_));
  if (!done.batch.empty() &&
      (!replicas_.empty() || standby_seen_ || config_.replication.mode == ReplicationMode::kSync)) {
    if (standby_acked_lsn_ >= done.batch.last_lsn) {
      metrics_->replication_ack->observe(0);  // the standby had it durable first
    } else {
      unacked_batches_.emplace_back(done.batch.last_lsn, mono_ns());
      if (unacked_batches_.size() > kUnackedBatchesMax) unacked_batches_.pop_front();
    }
  }
  pump_replicas(&done.batch);  // standbys that were not ready when it was submitted
  wal_->recycle_batch(std::move(done.batch));
  if (replication_) replication_->ack(wal_->durable_lsn());
  mark_holding_dirty();
}

void Server::mark_holding_dirty() {
  size_t kept = 0;
  for (Connection* c : holding_) {
    if (c->held.empty() || c->closing) {
      c->holding = false;
      continue;
    }
    mark_dirty(c);
    holding_[kept++] = c;
  }
  holding_.resize(kept);
}

// Right before the loop polls: start the next commit, then write what is durable.
void Server::before_poll() {
  maybe_snapshot();
  submit_commit();
  update_release_lsn();
  // A write that completes at once (flush()) may mark its connection again, to close it
  // after its last reply: that is done in this same iteration, not after the next wake-up.
  // It ends: a connection is marked again only by a completed write, and each pass
  // releases only output that is durable; what a commit finishing meanwhile releases on a
  // later pass is bounded by the one batch in flight.
  std::vector<Connection*> dirty;
  while (!dirty_.empty()) {
    dirty.clear();
    dirty.swap(dirty_);
    for (Connection* c : dirty) {
      c->dirty = false;
      if (!c->closing) flush(c);
    }
  }
  // Standbys get the log only after their own replies (the `replicate` answer) were handed
  // to uv_write: held output (waiting for durability) would otherwise come after records.
  pump_replicas(nullptr);
  if (!stopping_) schedule_tick();
  finish_shutdown_if_idle();
}

// Output waits in `held` until the records it depends on are durable: every reply may show
// state up to the last record applied when it was written; in sync mode, what reports a
// change (a reply that changed state, an event) also waits until a standby has it.
void Server::flush(Connection* c) {
  if (c->write_active || c->closing) return;
  const size_t in_pending = c->replies_unsent - c->replies_held;
  if (!c->pending.empty() || in_pending > 0) {
    c->held_bytes += c->pending.size();
    c->held.push_back({applied_lsn(), holds_for_standby(c) ? c->output_lsn : 0,
                       std::move(c->pending), in_pending});
    if (!c->holding) {
      c->holding = true;
      holding_.push_back(c);
    }
    c->pending = std::string();
    c->replies_held += in_pending;
  }
  const uint64_t durable = wal_->durable_lsn();
  const uint64_t now = mono_ns();
  size_t replies = 0;
  while (!c->held.empty()) {
    Connection::Held& h = c->held.front();
    if (h.lsn > durable) break;
    if (h.sync_lsn > release_lsn_) {
      if (stopping_) {
        // Never acknowledged to the standby: dropped, not sent. The gateway retries the
        // requests (same ids) on the node that takes over, and gets their first replies.
        c->replies_unsent -= c->replies_held;
        c->replies_held = c->held_bytes = 0;
        c->held.clear();
        c->arrivals.clear();
      }
      break;
    }
    c->held_bytes -= h.bytes.size();
    // Usually the only output released: taken as it is, not copied.
    if (c->pending.empty()) {
      c->pending.swap(h.bytes);
    } else {
      c->pending.append(h.bytes);
    }
    replies += h.replies;
    c->replies_held -= h.replies;
    for (size_t i = 0; i < h.replies && !c->arrivals.empty(); ++i) {
      metrics_->latency->observe(static_cast<double>(now - c->arrivals.front()) / 1e9);
      c->arrivals.pop_front();
    }
    c->held.pop_front();
  }
  if (c->pending.empty()) {
    if (c->close_after_flush && c->held.empty()) close_connection(c, "closed after its last reply");
    return;
  }
  c->writing.swap(c->pending);
  c->pending.clear();
  c->replies_writing = replies;
  c->write_active = true;
  // Most writes fit in the socket buffer at once: made here, they need no write request,
  // no completion on the next loop iteration and no epoll_ctl to stop watching for
  // POLLOUT afterwards. What does not fit goes to uv_write.
  auto* stream = reinterpret_cast<uv_stream_t*>(&c->tcp);
  uv_buf_t buf = uv_buf_init(c->writing.data(), static_cast<unsigned>(c->writing.size()));
  const int written = uv_try_write(stream, &buf, 1);
  if (written == static_cast<int>(buf.len) || (written < 0 && written != UV_EAGAIN)) {
    on_write_done(c, written < 0 ? written : 0);
    return;
  }
  if (written > 0) buf = uv_buf_init(buf.base + written, buf.len - static_cast<unsigned>(written));
  c->write_req.data = c;
  int rc = uv_write(&c->write_req, stream, &buf, 1, [](uv_write_t* req, int status) {
    auto* conn = static_cast<Connection*>(req->data);
    conn->server->on_write_done(conn, status);
  });
  if (rc != 0) {
    c->write_active = false;
    close_connection(c, uv_strerror(rc));
  }
}

void Server::on_write_done(Connection* c, int status) {
  c->write_active = false;
  c->writing.clear();
  c->replies_unsent -= std::min(c->replies_unsent, c->replies_writing);
  c->replies_writing = 0;
  if (c->closing) return;
  if (status < 0) {
    close_connection(c, uv_strerror(status));
    return;
  }
  // Output that arrived meanwhile may belong to records not yet committed: it goes out
  // from before_poll(), after the commit, never from here.
  if (!c->pending.empty() || !c->held.empty() || c->close_after_flush) {
    mark_dirty(c);
    return;
  }
  if (!c->reading && !c->close_after_flush && !stopping_) start_reading(c);
  finish_shutdown_if_idle();
}

void Server::close_connection(Connection* c, const char* reason) {
  if (c->closing) return;
  c->closing = true;
  if (c->replica) {
    replicas_.erase(std::find(replicas_.begin(), replicas_.end(), c));
    metrics_->standbys->set(static_cast<double>(replicas_.size()));
    log_warn("standby on connection %llu (%s) stopped following at LSN %llu: %s",
             static_cast<unsigned long long>(c->id), c->peer.c_str(),
             static_cast<unsigned long long>(c->replica->acked_lsn()), reason);
  }
  log_info("connection %llu (%s) closed: %s", static_cast<unsigned long long>(c->id),
           c->peer.c_str(), reason);
  connections_.erase(std::find(connections_.begin(), connections_.end(), c));
  if (c->holding) std::erase(holding_, c);
  if (c->subscriptions != 0) std::erase(subscribers_, c);
  metrics_->connections->set(static_cast<double>(connections_.size()));
  uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp), [](uv_handle_t* h) {
    Connection* conn = connection_of(h);
    conn->server->on_closed(conn);
  });
}

void Server::on_closed(Connection* c) {
  auto it = std::find(dirty_.begin(), dirty_.end(), c);
  if (it != dirty_.end()) dirty_.erase(it);
  delete c;
  finish_shutdown_if_idle();
}

void Server::schedule_tick() {
  if (!accepting_writes()) {
    // A standby's expiries arrive as its primary's logged ticks; a fenced node has none.
    uv_timer_stop(&tick_timer_);
    return;
  }
  uint64_t delay = 0;  // more is due now: the next iteration, after the requests waiting
  if (!tick_more_due_) {
    std::optional<uint64_t> wake = engine_->next_wake_ms();
    if (!wake) {
      uv_timer_stop(&tick_timer_);
      return;
    }
    uint64_t now = std::max(wall_ms(), engine_->now_ms());
    delay = *wake > now ? *wake - now : 0;
  }
  uv_timer_start(
      &tick_timer_,
      [](uv_timer_t* t) { server_of(reinterpret_cast<uv_handle_t*>(t))->on_tick_timer(); }, delay,
      0);
}

void Server::on_tick_timer() {
  if (!accepting_writes()) return;
  Command tick;
  tick.op = Op::kTick;
  tick.now_ms = stamp_now_ms();
  tick.max_expired = static_cast<uint32_t>(config_.expiries_per_tick_max);
  Reply reply;
  apply_logged(tick, &reply);
  tick_more_due_ = reply.more_due;
  if (reply.changed) metrics_->evictions_ticks->inc();
  metrics_->expiries->inc(reply.expired.size());
  publish_events();
  // The next tick is scheduled after the commit, in before_poll().
}

void Server::handle_snapshot(Connection* c, std::string_view id) {
  if (snapshot_child_ != 0) {
    write_error(&c->pending, id, smsx::Error::kOverloaded, "a snapshot is already being written");
    metrics_->request(OpKind::kSnapshot, smsx::Error::kOverloaded).inc();
    return;
  }
  // The snapshot covers everything applied so far: commit first so that its LSN is durable.
  commit_all_now();
  start_snapshot();
  if (snapshot_child_ == 0) {
    write_error(&c->pending, id, smsx::Error::kOverloaded,
                "could not start the snapshot (see log)");
    metrics_->request(OpKind::kSnapshot, smsx::Error::kOverloaded).inc();
    return;
  }
  write_snapshot_reply(
      &c->pending, id, snapshot_child_lsn_,
      parts_.snapshot_dir + "/" + persistence::snapshot_file_name(snapshot_child_lsn_));
  metrics_->request(OpKind::kSnapshot, smsx::Error::kNone).inc();
  mark_dirty(c);
}

void Server::maybe_snapshot() {
  if (snapshot_child_ != 0 || stopping_) return;
  const auto& every = config_.snapshot;  // 0 = never by that measure
  if ((every.every_records != 0 && records_since_snapshot_ >= every.every_records) ||
      (every.every_bytes != 0 && bytes_since_snapshot_ >= every.every_bytes)) {
    commit_all_now();  // the snapshot's LSN must cover exactly the state it writes
    start_snapshot();
  }
}

// The snapshot is written by a forked child: it sees the engine frozen at this instant
// (copy-on-write) while the parent keeps serving. The child only serializes and writes.
void Server::start_snapshot() {
  SMSX_ASSERT(wal_->pending_bytes() == 0 && !commit_->busy());
  uint64_t lsn = applied_lsn();  // on a standby, unapplied records are replayed after it
  uint64_t t0 = mono_ns();
  const pid_t parent = ::getpid();
  pid_t pid = fork();
  if (pid < 0) {
    log_error("snapshot: fork failed: %s", strerror(errno));
    return;
  }
  if (pid == 0) {
    // The writer must not outlive a killed server, nor keep its sockets open: a restart
    // could not bind, and clients of the dead server would not see their connections close.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) std::_Exit(1);
    ::close_range(3, ~0u, 0);
    persistence::SnapshotInfo info;
    persistence::Status st =
        persistence::take_snapshot(*parts_.env, parts_.wal_dir, parts_.snapshot_dir, *engine_, lsn,
                                   /*prune=*/false, &info);
    if (!st.ok())
      log_error("snapshot at LSN %llu: %s", static_cast<unsigned long long>(lsn),
                st.to_string().c_str());
    std::_Exit(st.ok() ? 0 : 1);
  }
  snapshot_child_ = pid;
  snapshot_child_lsn_ = lsn;
  records_since_snapshot_ = 0;
  bytes_since_snapshot_ = 0;
  log_info("snapshot at LSN %llu started (pid %d, fork took %.2f ms)",
           static_cast<unsigned long long>(lsn), pid, static_cast<double>(mono_ns() - t0) / 1e6);
}

void Server::on_snapshot_child_exit(int64_t exit_status) {
  uint64_t lsn = snapshot_child_lsn_;
  snapshot_child_ = 0;
  if (exit_status != 0) {
    log_error("snapshot at LSN %llu failed (child exit %lld); the WAL still has everything",
              static_cast<unsigned long long>(lsn), static_cast<long long>(exit_status));
    return;
  }
  uint64_t verified = 0;
  std::string path = parts_.snapshot_dir + "/" + persistence::snapshot_file_name(lsn);
  persistence::Status st = snapshots_->verify(path, &verified);
  if (!st.ok() || verified != lsn) {
    log_error("snapshot %s does not verify: %s", path.c_str(), st.to_string().c_str());
    return;
  }
  std::vector<std::string> deleted;
  st = snapshots_->prune(&deleted);
  log_info("snapshot at LSN %llu written to %s; %zu old files deleted%s",
           static_cast<unsigned long long>(lsn), path.c_str(), deleted.size(),
           st.ok() ? "" : " (prune failed, see next line)");
  if (!st.ok()) log_warn("prune: %s", st.to_string().c_str());
}

void Server::on_metrics_connection(uv_stream_t* listener, int status) {
  if (status < 0) return;
  serve_metrics_connection(loop_, listener, metrics_->registry, [this] { refresh_gauges(); });
}

// Gauges that would cost something to keep current on every iteration are set when scraped.
void Server::refresh_gauges() {
  metrics_->active_orders->set(static_cast<double>(engine_->stats().active_orders));
  metrics_->replication_lag_records->set(static_cast<double>(replication_lag_records()));
  metrics_->replication_lag_seconds->set(static_cast<double>(replication_lag_ms()) / 1e3);
}

void Server::on_signal(int signum) {
  log_info("%s: stopping: no new connections, answering what is in flight",
           signum == SIGINT ? "SIGINT" : "SIGTERM");
  begin_shutdown();
}

void Server::begin_shutdown() {
  if (stopping_) return;
  stopping_ = true;
  uv_close(reinterpret_cast<uv_handle_t*>(&listener_), nullptr);
  if (metrics_enabled_) uv_close(reinterpret_cast<uv_handle_t*>(&metrics_listener_), nullptr);
  uv_timer_stop(&tick_timer_);
  uv_timer_stop(&sync_timer_);
  if (replication_) {
    replication_->stop([](void*) {}, nullptr);
  }
  for (Connection* c : connections_) {
    if (c->reading) {
      uv_read_stop(reinterpret_cast<uv_stream_t*>(&c->tcp));
      c->reading = false;
    }
    c->close_after_flush = true;
    mark_dirty(c);
  }
  // before_poll() commits and flushes; connections close once their output is written.
}

void Server::finish_shutdown_if_idle() {
  if (!stopping_ || !connections_.empty() || snapshot_child_ != 0) return;
  if (uv_is_closing(reinterpret_cast<uv_handle_t*>(&prepare_))) return;
  if (commit_->busy() || wal_->pending_bytes() > 0) return;  // the next iteration commits
  commit_->stop();
  log_info("all connections closed; WAL durable to LSN %llu",
           static_cast<unsigned long long>(wal_->durable_lsn()));
  for (uv_handle_t* h :
       {reinterpret_cast<uv_handle_t*>(&prepare_), reinterpret_cast<uv_handle_t*>(&tick_timer_),
        reinterpret_cast<uv_handle_t*>(&sync_timer_), reinterpret_cast<uv_handle_t*>(&sigint_),
        reinterpret_cast<uv_handle_t*>(&sigterm_), reinterpret_cast<uv_handle_t*>(&sigchld_)}) {
    uv_close(h, nullptr);
  }
}

}  // namespace smsx::net

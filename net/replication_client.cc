#include "net/replication_client.h"

#include <fcntl.h>
#include <netdb.h>
#include <simdjson.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "net/log.h"
#include "net/replica_stream.h"
#include "persistence/file_names.h"
#include "persistence/wal_format.h"

namespace smsx::net {
namespace {

constexpr uint64_t kBackoffMinMs = 100;
constexpr uint64_t kBackoffMaxMs = 5000;
constexpr size_t kReadChunkBytes = 256 << 10;
constexpr size_t kReplyLineBytesMax = 64 << 10;

ReplicationClient* client_of(uv_handle_t* h) { return static_cast<ReplicationClient*>(h->data); }

// The address to connect to: an IP literal directly, a name through the resolver.
bool resolve(const Endpoint& at, sockaddr_storage* addr, std::string* error) {
  if (at.ipv6 ? uv_ip6_addr(at.host.c_str(), at.port, reinterpret_cast<sockaddr_in6*>(addr)) == 0
              : uv_ip4_addr(at.host.c_str(), at.port, reinterpret_cast<sockaddr_in*>(addr)) == 0) {
    return true;
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  int rc = getaddrinfo(at.host.c_str(), std::to_string(at.port).c_str(), &hints, &found);
  if (rc != 0 || found == nullptr) {
    *error = "cannot resolve " + at.host + ": " + gai_strerror(rc);
    return false;
  }
  std::memcpy(addr, found->ai_addr, found->ai_addrlen);
  freeaddrinfo(found);
  return true;
}

}  // namespace

ReplicationClient::ReplicationClient(uv_loop_t* loop, const ReplicationConfig& config,
                                     std::string own_listen, std::string snapshot_dir,
                                     Handler& handler)
    : loop_(loop),
      config_(config),
      own_listen_(std::move(own_listen)),
      snapshot_dir_(std::move(snapshot_dir)),
      handler_(handler) {
  uv_timer_init(loop_, &retry_timer_);
  retry_timer_.data = this;
  handles_open_ = 1;
}

ReplicationClient::~ReplicationClient() {
  if (snapshot_fd_ >= 0) ::close(snapshot_fd_);
}

void ReplicationClient::start() { connect(); }

void ReplicationClient::connect() {
  if (stopping_) return;
  sockaddr_storage addr{};
  std::string error;
  if (!resolve(*config_.primary, &addr, &error)) {
    log_warn("replication: %s", error.c_str());
    schedule_retry();
    return;
  }
  uv_tcp_init(loop_, &tcp_);
  tcp_.data = this;
  tcp_open_ = true;
  ++handles_open_;
  phase_ = Phase::kConnecting;
  connect_req_.data = this;
  int rc = uv_tcp_connect(&connect_req_, &tcp_, reinterpret_cast<sockaddr*>(&addr),
                          [](uv_connect_t* req, int status) {
                            static_cast<ReplicationClient*>(req->data)->on_connected(status);
                          });
  if (rc != 0) fail(std::string("connect: ") + uv_strerror(rc));
}

void ReplicationClient::on_connected(int status) {
  if (phase_ != Phase::kConnecting) return;  // failed or stopped meanwhile
  if (status != 0) {
    fail("cannot connect to " + config_.primary->to_string() + ": " + uv_strerror(status));
    return;
  }
  uv_tcp_nodelay(&tcp_, 1);
  phase_ = Phase::kHelloReply;
  consumed_ = filled_ = 0;
  uint64_t from = handler_.replication_next_lsn();
  std::optional<uint32_t> last_crc;
  if (std::string error = handler_.replication_last_record_crc(&last_crc); !error.empty()) {
    fail(error);
    return;
  }
  std::string hello = R"({"id":"replication-hello","op":"hello","token":")" + config_.token +
                      "\"}\n" + R"({"id":"replication-start","op":"replicate","from_lsn":)" +
                      std::to_string(from) +
                      ",\"epoch\":" + std::to_string(handler_.replication_epoch()) +
                      (last_crc ? ",\"last_record_crc\":" + std::to_string(*last_crc) : "") +
                      ",\"listen\":\"" + own_listen_ + "\"}\n";
  send(std::move(hello));
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(&tcp_),
      [](uv_handle_t* h, size_t, uv_buf_t* buf) { *buf = client_of(h)->input_buffer(); },
      [](uv_stream_t* s, ssize_t nread, const uv_buf_t*) {
        client_of(reinterpret_cast<uv_handle_t*>(s))->on_read(nread);
      });
  log_info("replication: connected to %s, asking for the log from LSN %llu",
           config_.primary->to_string().c_str(), static_cast<unsigned long long>(from));
}

uv_buf_t ReplicationClient::input_buffer() {
  if (consumed_ == filled_) consumed_ = filled_ = 0;
  if (in_.size() - filled_ < kReadChunkBytes / 4) {
    if (consumed_ > 0) {
      std::memmove(in_.data(), in_.data() + consumed_, filled_ - consumed_);
      filled_ -= consumed_;
      consumed_ = 0;
    }
    if (in_.size() - filled_ < kReadChunkBytes / 4) in_.resize(filled_ + kReadChunkBytes);
  }
  return uv_buf_init(reinterpret_cast<char*>(in_.data() + filled_),
                     static_cast<unsigned>(in_.size() - filled_));
}

void ReplicationClient::on_read(ssize_t nread) {
  if (nread == 0) return;
  if (nread < 0) {
    fail(nread == UV_EOF ? "the primary closed the connection"
                         : std::string("read: ") + uv_strerror(static_cast<int>(nread)));
    return;
  }
  filled_ += static_cast<size_t>(nread);
  for (;;) {
    if (phase_ == Phase::kHelloReply || phase_ == Phase::kReplicateReply) {
      const uint8_t* start = in_.data() + consumed_;
      const uint8_t* nl =
          static_cast<const uint8_t*>(std::memchr(start, '\n', filled_ - consumed_));
      if (nl == nullptr) {
        if (filled_ - consumed_ > kReplyLineBytesMax) fail("reply line too long");
        return;
      }
      std::string_view line(reinterpret_cast<const char*>(start), static_cast<size_t>(nl - start));
      consumed_ += line.size() + 1;
      if (!handle_reply_line(line)) return;
    } else if (phase_ == Phase::kSnapshot) {
      if (!consume_snapshot()) return;
    } else if (phase_ == Phase::kRecords) {
      consume_records();
      return;
    } else {
      return;
    }
  }
}

bool ReplicationClient::handle_reply_line(std::string_view line) {
  simdjson::dom::parser parser;
  simdjson::dom::element reply;
  if (parser.parse(line.data(), line.size()).get(reply) != simdjson::SUCCESS) {
    fail("the primary's reply is not JSON");
    return false;
  }
  bool ok = false;
  if (reply["ok"].get(ok) != simdjson::SUCCESS || !ok) {
    std::string_view error = "?", message = "";
    if (reply["error"].get(error) != simdjson::SUCCESS) error = "?";
    if (reply["message"].get(message) != simdjson::SUCCESS) message = "?";
    fail(std::string(phase_ == Phase::kHelloReply ? "hello" : "replicate") +
         " refused: " + std::string(error) + " (" + std::string(message) + ")");
    return false;
  }
  if (phase_ == Phase::kHelloReply) {
    phase_ = Phase::kReplicateReply;
    return true;
  }
  uint64_t epoch = 0, from_lsn = 0, snapshot_bytes = 0, last_lsn = 0;
  if (reply["epoch"].get(epoch) != simdjson::SUCCESS ||
      reply["from_lsn"].get(from_lsn) != simdjson::SUCCESS ||
      reply["snapshot_bytes"].get(snapshot_bytes) != simdjson::SUCCESS ||
      reply["last_lsn"].get(last_lsn) != simdjson::SUCCESS || from_lsn == 0) {
    fail("the primary's replicate reply lacks a field");
    return false;
  }
  primary_lsn_ = last_lsn;
  handler_.on_stream_started(epoch, last_lsn);
  backoff_ms_ = kBackoffMinMs;
  if (snapshot_bytes > 0) {
    snapshot_lsn_ = from_lsn - 1;
    snapshot_left_ = snapshot_bytes;
    snapshot_tmp_ = snapshot_dir_ + "/" + std::string(kReceivedSnapshotPrefix) +
                    persistence::snapshot_file_name(snapshot_lsn_) + persistence::kTempSuffix;
    snapshot_fd_ = ::open(snapshot_tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (snapshot_fd_ < 0) {
      fail("cannot create " + snapshot_tmp_ + ": " + strerror(errno));
      return false;
    }
    log_info("replication: receiving a snapshot at LSN %llu (%llu bytes)",
             static_cast<unsigned long long>(snapshot_lsn_),
             static_cast<unsigned long long>(snapshot_bytes));
    phase_ = Phase::kSnapshot;
    return true;
  }
  if (from_lsn != handler_.replication_next_lsn()) {
    fail("the primary starts at LSN " + std::to_string(from_lsn) + ", not the one asked for");
    return false;
  }
  log_info("replication: streaming from LSN %llu (primary epoch %llu, its last LSN %llu)",
           static_cast<unsigned long long>(from_lsn), static_cast<unsigned long long>(epoch),
           static_cast<unsigned long long>(last_lsn));
  phase_ = Phase::kRecords;
  return true;
}

bool ReplicationClient::consume_snapshot() {
  size_t n = static_cast<size_t>(std::min<uint64_t>(snapshot_left_, filled_ - consumed_));
  const uint8_t* at = in_.data() + consumed_;
  size_t written = 0;
  while (written < n) {
    ssize_t w = ::write(snapshot_fd_, at + written, n - written);
    if (w < 0) {
      if (errno == EINTR) continue;
      fail("writing " + snapshot_tmp_ + ": " + strerror(errno));
      return false;
    }
    written += static_cast<size_t>(w);
  }
  consumed_ += n;
  snapshot_left_ -= n;
  if (snapshot_left_ > 0) return false;  // wait for more
  bool synced = ::fdatasync(snapshot_fd_) == 0;
  ::close(snapshot_fd_);
  snapshot_fd_ = -1;
  if (!synced) {
    const std::string why = "cannot sync " + snapshot_tmp_ + ": " + strerror(errno);
    ::unlink(snapshot_tmp_.c_str());
    fail(why);
    return false;
  }
  std::string error = handler_.on_snapshot(snapshot_tmp_, snapshot_lsn_);
  if (!error.empty()) {
    ::unlink(snapshot_tmp_.c_str());  // if still there: refused snapshots never stay
    fail("cannot load the snapshot: " + error);
    return false;
  }
  phase_ = Phase::kRecords;
  return true;
}

bool ReplicationClient::consume_records() {
  while (phase_ == Phase::kRecords && consumed_ < filled_) {
    persistence::WalRecord record;
    size_t bytes = 0;
    std::span<const uint8_t> data(in_.data() + consumed_, filled_ - consumed_);
    persistence::RecordCheck check = persistence::check_record(data, &record, &bytes);
    if (check == persistence::RecordCheck::kIncompleteHeader ||
        check == persistence::RecordCheck::kIncompletePayload) {
      return false;
    }
    if (check != persistence::RecordCheck::kIntact) {
      fail(std::string("a damaged record from the primary: ") +
           persistence::record_check_name(check));
      return false;
    }
    std::string error = record.type == kPrimaryDurableType ? handler_.on_primary_durable(record.lsn)
                                                           : handler_.on_record(record);
    if (!error.empty()) {
      fail(error);
      return false;
    }
    consumed_ += bytes;
    primary_lsn_ = std::max(primary_lsn_, record.lsn);
    last_record_ms_ = uv_now(loop_);
  }
  return true;
}

void ReplicationClient::send(std::string bytes) {
  struct Chunk {
    uv_write_t req{};
    std::string bytes;
  };
  auto* chunk = new Chunk;
  chunk->bytes = std::move(bytes);
  chunk->req.data = chunk;
  uv_buf_t buf = uv_buf_init(chunk->bytes.data(), static_cast<unsigned>(chunk->bytes.size()));
  if (uv_write(&chunk->req, reinterpret_cast<uv_stream_t*>(&tcp_), &buf, 1,
               [](uv_write_t* req, int) { delete static_cast<Chunk*>(req->data); }) != 0) {
    delete chunk;
  }
}

void ReplicationClient::ack(uint64_t lsn) {
  if (phase_ != Phase::kRecords || lsn <= last_ack_) return;
  last_ack_ = lsn;
  send("ack " + std::to_string(lsn) + "\n");
}

void ReplicationClient::fail(const std::string& why) {
  if (snapshot_fd_ >= 0) {
    ::close(snapshot_fd_);
    snapshot_fd_ = -1;
    ::unlink(snapshot_tmp_.c_str());
  }
  bool was_streaming = streaming();
  phase_ = Phase::kIdle;
  last_ack_ = 0;
  if (!stopping_) {
    log_warn("replication: %s; trying again in %llu ms%s", why.c_str(),
             static_cast<unsigned long long>(backoff_ms_),
             was_streaming ? " (serving reads meanwhile)" : "");
  }
  if (tcp_open_) {
    tcp_open_ = false;
    uv_close(reinterpret_cast<uv_handle_t*>(&tcp_),
             [](uv_handle_t* h) { client_of(h)->on_closed(); });
  } else {
    schedule_retry();
  }
}

void ReplicationClient::on_closed() {
  --handles_open_;
  if (stopping_) {
    if (handles_open_ == 0 && on_stopped_ != nullptr) on_stopped_(on_stopped_arg_);
    return;
  }
  schedule_retry();
}

void ReplicationClient::schedule_retry() {
  if (stopping_) return;
  uv_timer_start(
      &retry_timer_, [](uv_timer_t* t) { client_of(reinterpret_cast<uv_handle_t*>(t))->connect(); },
      backoff_ms_, 0);
  backoff_ms_ = std::min(backoff_ms_ * 2, kBackoffMaxMs);
}

void ReplicationClient::on_retry_timer() { connect(); }

void ReplicationClient::stop(void (*on_stopped)(void*), void* arg) {
  if (stopping_) return;
  stopping_ = true;
  on_stopped_ = on_stopped;
  on_stopped_arg_ = arg;
  uv_timer_stop(&retry_timer_);
  uv_close(reinterpret_cast<uv_handle_t*>(&retry_timer_),
           [](uv_handle_t* h) { client_of(h)->on_closed(); });
  if (phase_ != Phase::kIdle || tcp_open_) fail("stopped");
}

}  // namespace smsx::net

// The gateway's side of smsxd: a few persistent TCP connections, each authenticated with
// `hello` as the customer gateway, with requests pipelined on them (NDJSON,
// ../shared/PROTOCOL.md). smsxd answers each connection's requests in order, so every
// connection keeps a FIFO of callbacks and the n-th reply line goes to the n-th callback.
//
// Failure: a connection that breaks, sends something that is not JSON, or leaves a request
// unanswered for kUpstreamTimeoutMs is closed; its waiting callbacks are told "not
// delivered" at once (the gateway answers ERROR_SQL), and it reconnects after a back-off
// that doubles from kReconnectDelayMinMs to kReconnectDelayMaxMs and resets on a successful
// hello. A request made while no connection is ready is not delivered either (no queue).
//
// Request ids: every request gets "<prefix>-<counter>", the prefix being 12 random bytes in
// hex chosen at start, so a restarted gateway never repeats an id that smsxd remembers.
//
// Writes: the requests made during one loop iteration go to one connection (iterations take
// the ready connections in turn) and are sent at the end of the iteration (a uv_check handle,
// and a uv_idle handle so that the loop does not block first) with one write system call,
// tried synchronously (uv_try_write) and queued with uv_write only for what the socket did
// not take.
//
// Every callback is called exactly once, possibly before call() returns. A reply's `doc`
// is valid only during its callback. Single-threaded: everything runs on the loop thread.
#pragma once

#include <simdjson.h>
#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "net/config.h"
#include "net/metrics.h"
#include "tools/activate_gateway/turn_queue.h"

namespace smsx::activate {

struct UpstreamReply {
  bool delivered = false;      // false: no reply (no connection, connection lost, timeout)
  bool ok = false;             // the reply's "ok"
  std::string_view error;      // its "error" when !ok ("" when not delivered)
  simdjson::dom::element doc;  // the whole reply object, when delivered
};

using UpstreamCallback = std::function<void(const UpstreamReply&)>;

class Upstream {
 public:
  Upstream(uv_loop_t* loop, net::Endpoint endpoint, std::string token, int connections,
           net::Registry* metrics);
  ~Upstream();
  Upstream(const Upstream&) = delete;
  Upstream& operator=(const Upstream&) = delete;

  // Starts connecting every connection.
  void start();
  // Closes every connection (waiting callbacks are told "not delivered") and its timers.
  void stop();

  // Sends {"id":…,"op":`op``fields`} where `fields` is either empty or JSON members each
  // starting with ',' (",\"account\":1001").
  void call(std::string_view op, std::string_view fields, UpstreamCallback callback);

  int ready_connections() const;

  // Callbacks from libuv (public for the C trampolines in upstream.cc).
  struct Link;  // one connection
  void connect(Link* link);
  void on_connected(Link* link, int status);
  void on_read(Link* link, ssize_t nread);
  void on_written(Link* link, int status);
  void on_closed(Link* link);
  void sweep();
  void flush_queued();

 private:
  Link* pick();
  void schedule(Link* link);
  void on_line(Link* link, std::string_view line);
  void flush(Link* link);
  void close_link(Link* link, const char* why);
  void update_ready();

  uv_loop_t* loop_;
  net::Endpoint endpoint_;
  std::string token_;
  std::string id_prefix_;
  std::uint64_t id_counter_ = 0;
  std::vector<std::unique_ptr<Link>> links_;
  std::size_t next_link_ = 0;
  uv_timer_t sweep_{};
  TurnQueue<Link> queued_;  // connections with requests to send at the end of this turn
  bool stopping_ = false;
  simdjson::dom::parser parser_;
  net::Counter* requests_ = nullptr;
  net::Counter* not_delivered_ = nullptr;
  net::Counter* connects_ = nullptr;
  net::Gauge* ready_ = nullptr;
};

}  // namespace smsx::activate

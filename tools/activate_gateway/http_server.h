// An HTTP/1.1 server on one libuv loop, for small request/response APIs: keep-alive,
// pipelining (responses go out in request order even when they are produced out of order),
// GET and POST with a body (Content-Length or chunked); a HEAD request gets the headers only.
// Parsing is Node.js's http_parser (Debian's libhttp-parser-dev); this file only moves bytes and
// keeps the order.
//
// Each complete request is handed to the handler with a ReplyHandle; the handler answers,
// now or later, with reply(handle, …) exactly once. A handle whose connection has closed
// meanwhile is ignored, so handlers never need to know about connection lifetimes.
//
// Limits (HttpLimits, limits.h): head kHeadBytesMax (431, closed), target kUrlBytesMax (414,
// closed), body body_bytes_max (413, closed), malformed HTTP (400, closed); at most
// connections_max connections (more are accepted and closed at once); a connection with
// requests_in_flight_max unanswered requests stops being read until answers go out; an idle
// connection is closed after kHttpIdleMs.
//
// Writes: answers produced during one loop iteration are collected per connection and sent
// at the end of the iteration (a uv_check handle; a uv_idle handle keeps the loop from blocking
// when an answer is produced before the poll phase) with one write system call per connection,
// tried synchronously (uv_try_write) and queued with uv_write only for what the socket did not
// take.
//
// Single-threaded: everything runs on the loop thread.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "net/config.h"
#include "net/metrics.h"
#include "tools/activate_gateway/turn_queue.h"

namespace smsx::activate {

struct HttpRequest {
  std::string_view method;  // "GET", "POST", …
  std::string_view path;    // the target before '?'
  std::string_view query;   // after '?', without it
  std::string_view body;
};

struct ReplyHandle {
  std::uint64_t connection = 0;
  std::uint64_t sequence = 0;
};

struct HttpLimits {
  std::uint64_t body_bytes_max = 16 * 1024;
  std::uint64_t connections_max = 10'000;
  std::uint64_t requests_in_flight_max = 256;
};

using HttpHandler = std::function<void(const HttpRequest&, ReplyHandle)>;

class HttpServer {
 public:
  HttpServer(uv_loop_t* loop, HttpLimits limits, HttpHandler handler, net::Registry* metrics);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens; an error message, or empty on success. The bound port (useful with
  // port 0) is port().
  std::string listen(const net::Endpoint& endpoint);
  std::uint16_t port() const { return port_; }
  // Stops accepting and closes every connection.
  void stop();

  // Answers the request `handle` (status 200, 404, …; content type "text/plain" or
  // "application/json"; extra_headers are complete lines ending in "\r\n").
  void reply(ReplyHandle handle, int status, std::string_view content_type, std::string_view body,
             std::string_view extra_headers = {});

  // Callbacks from libuv and http_parser (public for the C trampolines in http_server.cc).
  struct Conn;
  void on_connection(int status);
  void on_read(Conn* conn, ssize_t nread, const uv_buf_t* buf);
  void on_written(Conn* conn, int status);
  void on_closed(Conn* conn);
  void on_message(Conn* conn);
  void sweep();
  void flush_queued();

 private:
  void schedule(Conn* conn);
  void flush(Conn* conn);
  void fail(Conn* conn, int status);
  void close(Conn* conn);
  void maybe_resume(Conn* conn);

  uv_loop_t* loop_;
  HttpLimits limits_;
  HttpHandler handler_;
  uv_tcp_t listener_{};
  uv_timer_t sweep_{};
  TurnQueue<Conn> queued_;  // connections with answers to send at the end of this turn
  std::uint16_t port_ = 0;
  std::uint64_t next_id_ = 1;
  std::unordered_map<std::uint64_t, Conn*> conns_;
  bool listening_ = false;
  net::Gauge* open_ = nullptr;
  net::Counter* accepted_ = nullptr;
  net::Counter* refused_ = nullptr;
  net::Counter* requests_ = nullptr;
  net::Counter* bad_ = nullptr;
};

// The reason phrase of the statuses this server uses ("OK", "Not Found", …).
std::string_view http_reason(int status);

}  // namespace smsx::activate

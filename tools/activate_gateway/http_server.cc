#include "tools/activate_gateway/http_server.h"

#include <http_parser.h>

#include <cassert>
#include <climits>
#include <deque>
#include <vector>

#include "net/log.h"
#include "tools/activate_gateway/limits.h"

namespace smsx::activate {

struct HttpServer::Conn {
  struct Slot {
    bool done = false;
    bool close = false;          // answer with "Connection: close", then close
    bool keep_alive_10 = false;  // HTTP/1.0 keep-alive: say so in the answer
    bool head = false;           // HEAD: the answer has headers only
    std::string bytes;
  };
  struct Write {
    uv_write_t req;
    Conn* conn;
    std::string data;
  };

  HttpServer* server = nullptr;
  std::uint64_t id = 0;
  uv_tcp_t tcp{};
  http_parser parser{};
  std::string url, body;
  int error_status = 0;  // why a callback stopped the parser (0: malformed HTTP, 400)
  std::deque<Slot> slots;
  std::uint64_t first_sequence = 0;  // the sequence of slots.front()
  std::uint64_t next_sequence = 0;
  std::string out;
  bool writing = false;
  bool reading = true;
  bool no_more_requests = false;  // a request asked to close, or the input was bad
  bool close_after_write = false;
  bool eof = false;
  bool closing = false;
  bool queued = false;  // in HttpServer::queued_
  std::uint64_t active_ms = 0;
  std::uint64_t body_bytes_max = 0;
};

namespace {

using Conn = HttpServer::Conn;

// One read buffer for every connection: the loop thread handles one read at a time and
// http_parser's callbacks copy what they keep.
constexpr std::size_t kReadBytes = 64 * 1024;
char g_read_buffer[kReadBytes];

Conn* conn_of(http_parser* p) { return static_cast<Conn*>(p->data); }

int on_message_begin(http_parser* p) {
  Conn* c = conn_of(p);
  c->url.clear();
  c->body.clear();
  return 0;
}

int on_url(http_parser* p, const char* at, size_t length) {
  Conn* c = conn_of(p);
  if (c->url.size() + length > kUrlBytesMax) {
    c->error_status = 414;
    return 1;
  }
  c->url.append(at, length);
  return 0;
}

int on_headers_complete(http_parser* p) {
  Conn* c = conn_of(p);
  if (p->content_length != ULLONG_MAX && p->content_length > c->body_bytes_max) {
    c->error_status = 413;
    return -1;  // any value but 0, 1 and 2 is an error
  }
  return 0;
}

int on_body(http_parser* p, const char* at, size_t length) {
  Conn* c = conn_of(p);
  if (c->body.size() + length > c->body_bytes_max) {
    c->error_status = 413;
    return 1;
  }
  c->body.append(at, length);
  return 0;
}

int on_message_complete(http_parser* p) {
  Conn* c = conn_of(p);
  c->server->on_message(c);
  return c->no_more_requests ? 1 : 0;  // stop after a request that closes
}

http_parser_settings make_settings() {
  http_parser_settings s;
  http_parser_settings_init(&s);
  s.on_message_begin = on_message_begin;
  s.on_url = on_url;
  s.on_headers_complete = on_headers_complete;
  s.on_body = on_body;
  s.on_message_complete = on_message_complete;
  return s;
}

const http_parser_settings g_settings = make_settings();

void append_decimal(std::string* out, std::uint64_t value) {
  char digits[20];
  char* end = digits + sizeof digits;
  char* p = end;
  do {
    *--p = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  out->append(p, static_cast<std::size_t>(end - p));
}

}  // namespace

std::string_view http_reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 413:
      return "Payload Too Large";
    case 414:
      return "URI Too Long";
    case 431:
      return "Request Header Fields Too Large";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

HttpServer::HttpServer(uv_loop_t* loop, HttpLimits limits, HttpHandler handler,
                       net::Registry* metrics)
    : loop_(loop), limits_(limits), handler_(std::move(handler)) {
  http_parser_set_max_header_size(kHeadBytesMax);
  open_ = &metrics->gauge("smsx_activate_http_connections", "HTTP connections open now.");
  accepted_ =
      &metrics->counter("smsx_activate_http_connections_total", "HTTP connections accepted.");
  refused_ = &metrics->counter("smsx_activate_http_connections_refused_total",
                               "HTTP connections closed at once (limits.connections_max).");
  requests_ = &metrics->counter("smsx_activate_http_requests_total", "HTTP requests parsed.");
  bad_ = &metrics->counter("smsx_activate_http_bad_requests_total",
                           "Malformed or oversized HTTP requests (answered 4xx and closed).");
}

HttpServer::~HttpServer() = default;

std::string HttpServer::listen(const net::Endpoint& endpoint) {
  sockaddr_storage addr{};
  int rc = endpoint.ipv6 ? uv_ip6_addr(endpoint.host.c_str(), endpoint.port,
                                       reinterpret_cast<sockaddr_in6*>(&addr))
                         : uv_ip4_addr(endpoint.host.c_str(), endpoint.port,
                                       reinterpret_cast<sockaddr_in*>(&addr));
  if (rc != 0) return "bad address " + endpoint.to_string();
  uv_tcp_init(loop_, &listener_);
  listener_.data = this;
  rc = uv_tcp_bind(&listener_, reinterpret_cast<const sockaddr*>(&addr), 0);
  if (rc == 0) {
    rc =
        uv_listen(reinterpret_cast<uv_stream_t*>(&listener_), 1024, [](uv_stream_t* s, int status) {
          static_cast<HttpServer*>(s->data)->on_connection(status);
        });
  }
  if (rc != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(&listener_), nullptr);
    return "cannot listen on " + endpoint.to_string() + ": " + uv_strerror(rc);
  }
  sockaddr_storage bound{};
  int len = sizeof bound;
  uv_tcp_getsockname(&listener_, reinterpret_cast<sockaddr*>(&bound), &len);
  port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  listening_ = true;
  queued_.init(loop_, this, [](void* self) { static_cast<HttpServer*>(self)->flush_queued(); });
  queued_.start();
  uv_timer_init(loop_, &sweep_);
  sweep_.data = this;
  uv_timer_start(
      &sweep_, [](uv_timer_t* t) { static_cast<HttpServer*>(t->data)->sweep(); }, kSweepEveryMs,
      kSweepEveryMs);
  return "";
}

void HttpServer::stop() {
  if (!listening_) return;
  listening_ = false;
  uv_close(reinterpret_cast<uv_handle_t*>(&listener_), nullptr);
  uv_timer_stop(&sweep_);
  uv_close(reinterpret_cast<uv_handle_t*>(&sweep_), nullptr);
  queued_.stop();
  std::vector<Conn*> all;
  for (auto& [id, conn] : conns_) all.push_back(conn);
  for (Conn* conn : all) close(conn);
}

void HttpServer::on_connection(int status) {
  if (status < 0) return;
  auto* conn = new Conn();
  conn->server = this;
  uv_tcp_init(loop_, &conn->tcp);
  conn->tcp.data = conn;
  if (uv_accept(reinterpret_cast<uv_stream_t*>(&listener_),
                reinterpret_cast<uv_stream_t*>(&conn->tcp)) != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(&conn->tcp),
             [](uv_handle_t* h) { delete static_cast<Conn*>(h->data); });
    return;
  }
  if (conns_.size() >= limits_.connections_max) {
    refused_->inc();
    uv_close(reinterpret_cast<uv_handle_t*>(&conn->tcp),
             [](uv_handle_t* h) { delete static_cast<Conn*>(h->data); });
    return;
  }
  accepted_->inc();
  conn->id = next_id_++;
  conn->body_bytes_max = limits_.body_bytes_max;
  conn->active_ms = uv_now(loop_);
  http_parser_init(&conn->parser, HTTP_REQUEST);
  conn->parser.data = conn;
  conns_.emplace(conn->id, conn);
  open_->set(static_cast<double>(conns_.size()));
  uv_tcp_nodelay(&conn->tcp, 1);
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(&conn->tcp),
      [](uv_handle_t*, size_t, uv_buf_t* buf) { *buf = uv_buf_init(g_read_buffer, kReadBytes); },
      [](uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
        auto* c = static_cast<Conn*>(s->data);
        c->server->on_read(c, nread, buf);
      });
}

void HttpServer::on_read(Conn* conn, ssize_t nread, const uv_buf_t* buf) {
  if (conn->closing || nread == 0) return;
  if (nread < 0) {
    if (nread != UV_EOF) {
      close(conn);
      return;
    }
    conn->eof = true;
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&conn->tcp));
    conn->reading = false;
    flush(conn);
    return;
  }
  conn->active_ms = uv_now(loop_);
  if (conn->no_more_requests) return;  // answering the last request; the rest is dropped
  const std::size_t length = static_cast<std::size_t>(nread);
  const std::size_t parsed = http_parser_execute(&conn->parser, &g_settings, buf->base, length);
  if (conn->closing) return;
  const auto error = HTTP_PARSER_ERRNO(&conn->parser);
  if (conn->no_more_requests && error == HPE_CB_message_complete) return;
  if (error != HPE_OK) {
    int status = conn->error_status != 0 ? conn->error_status : 400;
    if (error == HPE_HEADER_OVERFLOW) status = 431;
    if (net::log_enabled(net::LogLevel::kDebug)) {
      net::log_debug("http connection %llu: %s (%s)", static_cast<unsigned long long>(conn->id),
                     http_errno_name(error), http_errno_description(error));
    }
    fail(conn, status);
  } else if (parsed != length || conn->parser.upgrade) {
    fail(conn, 400);  // an upgrade (or CONNECT) is not served
  }
}

void HttpServer::on_message(Conn* conn) {
  requests_->inc();
  const bool keep_alive = http_should_keep_alive(&conn->parser) != 0;
  Conn::Slot slot;
  slot.close = !keep_alive;
  slot.keep_alive_10 = keep_alive && conn->parser.http_major == 1 && conn->parser.http_minor == 0;
  slot.head = conn->parser.method == HTTP_HEAD;
  if (!keep_alive) conn->no_more_requests = true;
  conn->slots.push_back(std::move(slot));
  const ReplyHandle handle{conn->id, conn->next_sequence++};

  HttpRequest request;
  request.method = http_method_str(static_cast<http_method>(conn->parser.method));
  std::string_view target = conn->url;
  if (!target.empty() && target.front() != '/') {  // absolute-form: http://host/path?query
    http_parser_url u;
    http_parser_url_init(&u);
    if (http_parser_parse_url(conn->url.data(), conn->url.size(), 0, &u) == 0 &&
        (u.field_set & (1 << UF_PATH)) != 0) {
      target = std::string_view(conn->url).substr(u.field_data[UF_PATH].off);
    }
  }
  const std::size_t q = target.find('?');
  request.path = target.substr(0, q);
  if (q != std::string_view::npos) {
    request.query = target.substr(q + 1);
    request.query = request.query.substr(0, request.query.find('#'));
  }
  request.body = conn->body;
  handler_(request, handle);  // may answer at once

  if (!conn->closing && conn->reading && conn->slots.size() >= limits_.requests_in_flight_max) {
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&conn->tcp));
    conn->reading = false;
  }
}

void HttpServer::reply(ReplyHandle handle, int status, std::string_view content_type,
                       std::string_view body, std::string_view extra_headers) {
  auto it = conns_.find(handle.connection);
  if (it == conns_.end()) return;  // the connection closed meanwhile
  Conn* conn = it->second;
  if (conn->closing) return;
  assert(handle.sequence >= conn->first_sequence);
  const std::uint64_t index = handle.sequence - conn->first_sequence;
  assert(index < conn->slots.size());
  Conn::Slot& slot = conn->slots[index];
  assert(!slot.done);
  // The oldest unanswered request goes straight to the output; a later one waits in its slot.
  const bool front = index == 0 && !conn->close_after_write;
  std::string& b = front ? conn->out : slot.bytes;
  b.reserve(b.size() + 128 + extra_headers.size() + body.size());
  b += "HTTP/1.1 ";
  append_decimal(&b, static_cast<std::uint64_t>(status));
  b += ' ';
  b += http_reason(status);
  b += "\r\nContent-Type: ";
  b += content_type;
  b += "\r\nContent-Length: ";
  append_decimal(&b, body.size());
  b += "\r\n";
  if (slot.close) {
    b += "Connection: close\r\n";
  } else if (slot.keep_alive_10) {
    b += "Connection: keep-alive\r\n";
  }
  b += extra_headers;
  b += "\r\n";
  if (!slot.head) b += body;
  if (front) {
    conn->close_after_write = slot.close;
    conn->slots.pop_front();
    ++conn->first_sequence;
  } else {
    slot.done = true;
  }
  schedule(conn);
}

void HttpServer::schedule(Conn* conn) { queued_.add(conn); }

void HttpServer::flush_queued() {
  // flush() never queues a connection, but may close one (which leaves queued_ alone until
  // its handle is closed, after this).
  queued_.drain([&](Conn* conn) { flush(conn); });
}

void HttpServer::fail(Conn* conn, int status) {
  bad_->inc();
  conn->no_more_requests = true;
  if (conn->reading) {
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&conn->tcp));
    conn->reading = false;
  }
  Conn::Slot slot;
  slot.close = true;
  conn->slots.push_back(std::move(slot));
  const ReplyHandle handle{conn->id, conn->next_sequence++};
  std::string body(http_reason(status));
  body += '\n';
  reply(handle, status, "text/plain; charset=utf-8", body);
}

void HttpServer::flush(Conn* conn) {
  if (conn->closing) return;
  while (!conn->slots.empty() && conn->slots.front().done && !conn->close_after_write) {
    conn->out += conn->slots.front().bytes;
    conn->close_after_write = conn->slots.front().close;
    conn->slots.pop_front();
    ++conn->first_sequence;
  }
  if (!conn->writing && !conn->out.empty()) {
    auto* stream = reinterpret_cast<uv_stream_t*>(&conn->tcp);
    uv_buf_t buf = uv_buf_init(conn->out.data(), static_cast<unsigned>(conn->out.size()));
    int rc = uv_try_write(stream, &buf, 1);
    if (rc == UV_EAGAIN) rc = 0;
    if (rc < 0) {
      close(conn);
      return;
    }
    const std::size_t written = static_cast<std::size_t>(rc);
    if (written < conn->out.size()) {  // the rest when the socket can take it
      auto* w = new Conn::Write{};
      w->conn = conn;
      w->data.assign(conn->out, written);
      w->req.data = w;
      buf = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
      conn->writing = true;
      rc = uv_write(&w->req, stream, &buf, 1, [](uv_write_t* req, int status) {
        auto* write = static_cast<Conn::Write*>(req->data);
        Conn* c = write->conn;
        delete write;
        c->server->on_written(c, status);
      });
      if (rc != 0) {
        delete w;
        conn->writing = false;
        close(conn);
        return;
      }
    }
    conn->out.clear();  // keeps its capacity for the next answers
  }
  if (conn->writing) return;
  if (conn->close_after_write || (conn->eof && conn->slots.empty())) {
    close(conn);
    return;
  }
  maybe_resume(conn);
}

void HttpServer::on_written(Conn* conn, int status) {
  conn->writing = false;
  if (conn->closing) return;
  if (status < 0) {
    close(conn);
    return;
  }
  flush(conn);
}

void HttpServer::maybe_resume(Conn* conn) {
  if (conn->reading || conn->no_more_requests || conn->eof || conn->closing) return;
  if (conn->slots.size() >= limits_.requests_in_flight_max) return;
  conn->reading = true;
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(&conn->tcp),
      [](uv_handle_t*, size_t, uv_buf_t* buf) { *buf = uv_buf_init(g_read_buffer, kReadBytes); },
      [](uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
        auto* c = static_cast<Conn*>(s->data);
        c->server->on_read(c, nread, buf);
      });
}

void HttpServer::close(Conn* conn) {
  if (conn->closing) return;
  conn->closing = true;
  conns_.erase(conn->id);
  open_->set(static_cast<double>(conns_.size()));
  uv_close(reinterpret_cast<uv_handle_t*>(&conn->tcp), [](uv_handle_t* h) {
    auto* c = static_cast<Conn*>(h->data);
    c->server->on_closed(c);
  });
}

void HttpServer::on_closed(Conn* conn) {
  queued_.remove(conn);
  delete conn;
}

void HttpServer::sweep() {
  const std::uint64_t now = uv_now(loop_);
  std::vector<Conn*> idle;
  for (auto& [id, conn] : conns_) {
    if (conn->slots.empty() && !conn->writing && now - conn->active_ms > kHttpIdleMs) {
      idle.push_back(conn);
    }
  }
  for (Conn* conn : idle) close(conn);
}

}  // namespace smsx::activate

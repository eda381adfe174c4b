#include "net/metrics_listener.h"

#include <string>
#include <utility>

namespace smsx::net {
namespace {

constexpr size_t kReadChunkBytes = 4096;

struct HttpConnection {
  uv_tcp_t tcp{};
  uv_write_t write{};
  std::string in, out;
  const Registry* registry = nullptr;
  std::function<void()> refresh;
};

HttpConnection* connection_of(void* handle) {
  return static_cast<HttpConnection*>(static_cast<uv_handle_t*>(handle)->data);
}

void close_connection(HttpConnection* c) {
  uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp),
           [](uv_handle_t* h) { delete static_cast<HttpConnection*>(h->data); });
}

void on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t*) {
  HttpConnection* c = connection_of(s);
  if (nread < 0) {
    close_connection(c);
    return;
  }
  c->in.resize(c->in.size() - kReadChunkBytes + static_cast<size_t>(nread));
  HttpRequestKind kind = classify_http_request(c->in);
  if (kind == HttpRequestKind::kIncomplete) return;
  uv_read_stop(s);
  if (c->refresh) c->refresh();
  write_http_response(kind, *c->registry, &c->out);
  c->write.data = c;
  uv_buf_t buf = uv_buf_init(c->out.data(), static_cast<unsigned>(c->out.size()));
  if (uv_write(&c->write, s, &buf, 1, [](uv_write_t* req, int) {
        close_connection(static_cast<HttpConnection*>(req->data));
      }) != 0) {
    close_connection(c);
  }
}

}  // namespace

void serve_metrics_connection(uv_loop_t* loop, uv_stream_t* listener, const Registry& registry,
                              std::function<void()> refresh) {
  auto* c = new HttpConnection;
  c->registry = &registry;
  c->refresh = std::move(refresh);
  uv_tcp_init(loop, &c->tcp);
  c->tcp.data = c;
  if (uv_accept(listener, reinterpret_cast<uv_stream_t*>(&c->tcp)) != 0) {
    close_connection(c);
    return;
  }
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(&c->tcp),
      [](uv_handle_t* h, size_t, uv_buf_t* buf) {
        HttpConnection* conn = connection_of(h);
        size_t at = conn->in.size();
        conn->in.resize(at + kReadChunkBytes);
        *buf = uv_buf_init(conn->in.data() + at, kReadChunkBytes);
      },
      on_read);
}

}  // namespace smsx::net

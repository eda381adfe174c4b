#include "tools/activate_gateway/upstream.h"

#include <sys/random.h>
#include <unistd.h>

#include <cassert>
#include <deque>

#include "net/line_framer.h"
#include "net/log.h"
#include "tools/activate_gateway/limits.h"

namespace smsx::activate {

struct Upstream::Link {
  enum class State : std::uint8_t { kIdle, kConnecting, kHello, kReady, kClosing };
  struct Pending {
    UpstreamCallback callback;  // empty for the hello
    std::uint64_t sent_ms = 0;
  };
  struct Write {
    uv_write_t req;
    Link* link;
    std::string data;
  };

  Upstream* owner = nullptr;
  int index = 0;
  State state = State::kIdle;
  uv_tcp_t tcp{};
  uv_connect_t connect_req{};
  uv_timer_t retry{};
  std::unique_ptr<net::LineFramer> framer;
  std::deque<Pending> pending;
  std::string out;
  bool writing = false;
  bool queued = false;  // in Upstream::queued_
  std::uint64_t backoff_ms = kReconnectDelayMinMs;
  std::uint32_t failures = 0;  // in a row
};

namespace {

std::string random_prefix() {
  unsigned char bytes[12] = {};
  if (getrandom(bytes, sizeof bytes, 0) != static_cast<ssize_t>(sizeof bytes)) {
    // Fall back to time and pid: still different for every start.
    const std::uint64_t t = uv_hrtime() ^ (static_cast<std::uint64_t>(getpid()) << 32);
    for (std::size_t i = 0; i < sizeof bytes; ++i) bytes[i] = static_cast<unsigned char>(t >> i);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string prefix = "a";
  for (unsigned char b : bytes) {
    prefix.push_back(kHex[b >> 4]);
    prefix.push_back(kHex[b & 15]);
  }
  return prefix;  // 25 bytes; with "-" and a 20-digit counter, 46 <= 64
}

}  // namespace

Upstream::Upstream(uv_loop_t* loop, net::Endpoint endpoint, std::string token, int connections,
                   net::Registry* metrics)
    : loop_(loop),
      endpoint_(std::move(endpoint)),
      token_(std::move(token)),
      id_prefix_(random_prefix()) {
  assert(connections >= 1 && connections <= kUpstreamConnectionsMax);
  for (int i = 0; i < connections; ++i) {
    auto link = std::make_unique<Link>();
    link->owner = this;
    link->index = i;
    uv_timer_init(loop_, &link->retry);
    link->retry.data = link.get();
    links_.push_back(std::move(link));
  }
  uv_timer_init(loop_, &sweep_);
  sweep_.data = this;
  queued_.init(loop_, this, [](void* self) { static_cast<Upstream*>(self)->flush_queued(); });
  requests_ = &metrics->counter("smsx_activate_upstream_requests_total", "Requests sent to smsxd.");
  not_delivered_ = &metrics->counter(
      "smsx_activate_upstream_failures_total",
      "Requests that got no reply from smsxd (no connection, connection lost, timeout).");
  connects_ = &metrics->counter("smsx_activate_upstream_connects_total",
                                "Connections to smsxd that completed hello.");
  ready_ = &metrics->gauge("smsx_activate_upstream_ready", "Connections to smsxd ready now.");
}

Upstream::~Upstream() = default;

void Upstream::start() {
  for (auto& link : links_) connect(link.get());
  queued_.start();
  uv_timer_start(
      &sweep_, [](uv_timer_t* t) { static_cast<Upstream*>(t->data)->sweep(); }, kSweepEveryMs,
      kSweepEveryMs);
}

void Upstream::stop() {
  stopping_ = true;
  for (auto& link : links_) {
    close_link(link.get(), "stopping");
    uv_timer_stop(&link->retry);
    uv_close(reinterpret_cast<uv_handle_t*>(&link->retry), nullptr);
  }
  uv_timer_stop(&sweep_);
  uv_close(reinterpret_cast<uv_handle_t*>(&sweep_), nullptr);
  queued_.stop();
}

void Upstream::connect(Link* link) {
  if (stopping_ || link->state != Link::State::kIdle) return;
  sockaddr_storage addr{};
  int rc = endpoint_.ipv6 ? uv_ip6_addr(endpoint_.host.c_str(), endpoint_.port,
                                        reinterpret_cast<sockaddr_in6*>(&addr))
                          : uv_ip4_addr(endpoint_.host.c_str(), endpoint_.port,
                                        reinterpret_cast<sockaddr_in*>(&addr));
  assert(rc == 0);  // the configuration checked the address
  uv_tcp_init(loop_, &link->tcp);
  link->tcp.data = link;
  link->framer = std::make_unique<net::LineFramer>(kUpstreamFrameBytesMax);
  link->state = Link::State::kConnecting;
  link->connect_req.data = link;
  rc = uv_tcp_connect(&link->connect_req, &link->tcp, reinterpret_cast<const sockaddr*>(&addr),
                      [](uv_connect_t* req, int status) {
                        auto* l = static_cast<Link*>(req->data);
                        l->owner->on_connected(l, status);
                      });
  if (rc != 0) close_link(link, uv_strerror(rc));
}

void Upstream::on_connected(Link* link, int status) {
  if (link->state != Link::State::kConnecting) return;  // closed meanwhile
  if (status < 0) {
    close_link(link, uv_strerror(status));
    return;
  }
  uv_tcp_nodelay(&link->tcp, 1);
  link->state = Link::State::kHello;
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(&link->tcp),
      [](uv_handle_t* h, size_t, uv_buf_t* buf) {
        auto span = static_cast<Link*>(h->data)->framer->writable();
        *buf = uv_buf_init(span.data(), static_cast<unsigned>(span.size()));
      },
      [](uv_stream_t* s, ssize_t nread, const uv_buf_t*) {
        auto* l = static_cast<Link*>(s->data);
        l->owner->on_read(l, nread);
      });
  link->out += "{\"id\":\"hello\",\"op\":\"hello\",\"token\":";
  link->out += '"';
  link->out += token_;  // checked at start: no '"' or '\'
  link->out += "\"}\n";
  link->pending.push_back({UpstreamCallback(), uv_now(loop_)});
  flush(link);
}

void Upstream::on_read(Link* link, ssize_t nread) {
  if (nread == 0) return;
  if (nread < 0) {
    close_link(link, nread == UV_EOF ? "closed by smsxd" : uv_strerror(static_cast<int>(nread)));
    return;
  }
  link->framer->commit(static_cast<std::size_t>(nread));
  std::string_view line;
  for (;;) {
    const net::FrameStatus status = link->framer->next(&line);
    if (status == net::FrameStatus::kNeedMore) break;
    if (status == net::FrameStatus::kFrameTooLarge) {
      close_link(link, "reply line too long");
      return;
    }
    on_line(link, line);
    if (link->state != Link::State::kHello && link->state != Link::State::kReady) return;
  }
}

void Upstream::on_line(Link* link, std::string_view line) {
  simdjson::dom::element doc;
  simdjson::dom::object object;
  if (parser_.parse(line.data(), line.size()).get(doc) != simdjson::SUCCESS ||
      doc.get(object) != simdjson::SUCCESS) {
    close_link(link, "a reply that is not a JSON object");
    return;
  }
  // One pass over the members for "event", "ok" and "error" (the first of each counts).
  bool seen_ok = false, seen_error = false, ok = false;
  std::string_view error;
  bool error_is_string = false;
  for (const simdjson::dom::key_value_pair field : object) {
    const std::string_view key = field.key;
    if (key == "event") return;  // not subscribed; ignore
    if (key == "ok" && !seen_ok) {
      seen_ok = true;
      ok = field.value.get(ok) == simdjson::SUCCESS && ok;
    } else if (key == "error" && !seen_error) {
      seen_error = true;
      error_is_string = field.value.get(error) == simdjson::SUCCESS;
    }
  }
  if (link->pending.empty()) {
    close_link(link, "a reply to no request");
    return;
  }
  Link::Pending pending = std::move(link->pending.front());
  link->pending.pop_front();
  UpstreamReply reply;
  reply.delivered = true;
  reply.doc = doc;
  reply.ok = ok;
  if (!reply.ok) reply.error = error_is_string ? error : "BAD_REPLY";
  if (!pending.callback) {  // the hello
    if (!reply.ok) {
      net::log_error("smsxd refused hello (%.*s): check `token`",
                     static_cast<int>(reply.error.size()), reply.error.data());
      close_link(link, "hello refused");
      return;
    }
    link->state = Link::State::kReady;
    link->backoff_ms = kReconnectDelayMinMs;
    if (link->failures > 0 || link->index == 0) {
      net::log_info("connected to smsxd %s (connection %d)", endpoint_.to_string().c_str(),
                    link->index);
    }
    link->failures = 0;
    connects_->inc();
    update_ready();
    return;
  }
  pending.callback(reply);
}

void Upstream::schedule(Link* link) { queued_.add(link); }

void Upstream::flush_queued() {
  // flush() may close a link, whose callbacks may make new requests on other links: those
  // are appended to queued_ and sent in this same pass.
  queued_.drain([&](Link* link) { flush(link); });
  next_link_ = (next_link_ + 1) % links_.size();
}

void Upstream::flush(Link* link) {
  if (link->writing || link->out.empty()) return;
  if (link->state != Link::State::kHello && link->state != Link::State::kReady) return;
  auto* stream = reinterpret_cast<uv_stream_t*>(&link->tcp);
  uv_buf_t buf = uv_buf_init(link->out.data(), static_cast<unsigned>(link->out.size()));
  int rc = uv_try_write(stream, &buf, 1);
  if (rc == UV_EAGAIN) rc = 0;
  if (rc < 0) {
    close_link(link, uv_strerror(rc));
    return;
  }
  const std::size_t written = static_cast<std::size_t>(rc);
  if (written == link->out.size()) {
    link->out.clear();  // keeps its capacity for the next requests
    return;
  }
  auto* w = new Link::Write{};  // the rest when the socket can take it
  w->link = link;
  w->data.assign(link->out, written);
  link->out.clear();
  w->req.data = w;
  buf = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
  link->writing = true;
  rc = uv_write(&w->req, stream, &buf, 1, [](uv_write_t* req, int status) {
    auto* write = static_cast<Link::Write*>(req->data);
    Link* l = write->link;
    delete write;
    l->owner->on_written(l, status);
  });
  if (rc != 0) {
    delete w;
    link->writing = false;
    close_link(link, uv_strerror(rc));
  }
}

void Upstream::on_written(Link* link, int status) {
  link->writing = false;
  if (link->state == Link::State::kClosing || link->state == Link::State::kIdle) return;
  if (status < 0) {
    close_link(link, uv_strerror(status));
    return;
  }
  flush(link);
}

void Upstream::close_link(Link* link, const char* why) {
  if (link->state == Link::State::kIdle || link->state == Link::State::kClosing) return;
  const bool was_ready = link->state == Link::State::kReady;
  link->state = Link::State::kClosing;
  update_ready();
  if (was_ready || link->failures == 0) {
    net::log_warn("connection %d to smsxd %s lost: %s; %zu requests unanswered", link->index,
                  endpoint_.to_string().c_str(), why, link->pending.size());
  } else {
    net::log_debug("connection %d to smsxd: %s", link->index, why);
  }
  ++link->failures;
  uv_read_stop(reinterpret_cast<uv_stream_t*>(&link->tcp));
  uv_close(reinterpret_cast<uv_handle_t*>(&link->tcp), [](uv_handle_t* h) {
    auto* l = static_cast<Link*>(h->data);
    l->owner->on_closed(l);
  });
  std::deque<Link::Pending> failed;
  failed.swap(link->pending);
  link->out.clear();
  for (auto& pending : failed) {
    if (!pending.callback) continue;
    not_delivered_->inc();
    pending.callback(UpstreamReply{});
  }
}

void Upstream::on_closed(Link* link) {
  link->state = Link::State::kIdle;
  link->writing = false;
  link->out.clear();
  if (stopping_) return;
  const std::uint64_t delay = link->backoff_ms;
  link->backoff_ms = std::min(link->backoff_ms * 2, kReconnectDelayMaxMs);
  uv_timer_start(
      &link->retry,
      [](uv_timer_t* t) {
        auto* l = static_cast<Link*>(t->data);
        l->owner->connect(l);
      },
      delay, 0);
}

void Upstream::sweep() {
  const std::uint64_t now = uv_now(loop_);
  for (auto& link : links_) {
    if (link->state != Link::State::kReady && link->state != Link::State::kHello) continue;
    if (!link->pending.empty() && now - link->pending.front().sent_ms > kUpstreamTimeoutMs) {
      close_link(link.get(), "a reply took too long");
    }
  }
}

Upstream::Link* Upstream::pick() {
  // The requests of one loop turn share a connection (one write, one read for smsxd); the
  // next turn uses the next ready connection.
  for (std::size_t tries = 0; tries < links_.size(); ++tries) {
    Link* link = links_[next_link_].get();
    if (link->state == Link::State::kReady) return link;
    next_link_ = (next_link_ + 1) % links_.size();
  }
  return nullptr;
}

int Upstream::ready_connections() const {
  int n = 0;
  for (const auto& link : links_) n += link->state == Link::State::kReady ? 1 : 0;
  return n;
}

void Upstream::update_ready() { ready_->set(ready_connections()); }

void Upstream::call(std::string_view op, std::string_view fields, UpstreamCallback callback) {
  assert(callback);
  requests_->inc();
  Link* link = pick();
  if (link == nullptr) {
    not_delivered_->inc();
    callback(UpstreamReply{});
    return;
  }
  std::string& out = link->out;
  out += "{\"id\":\"";
  out += id_prefix_;
  out += '-';
  out += std::to_string(++id_counter_);
  out += "\",\"op\":\"";
  out += op;
  out += '"';
  out += fields;
  out += "}\n";
  link->pending.push_back({std::move(callback), uv_now(loop_)});
  schedule(link);
}

}  // namespace smsx::activate
